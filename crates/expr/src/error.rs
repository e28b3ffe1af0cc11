//! The expression layer's error: a DynamoDB `ValidationException` message, or an internal
//! error (a tree that reached evaluation without being resolved or validated: a bug of the
//! caller, never the client's fault).

use std::fmt;

use crate::ast::ExpressionKind;

/// A problem with an expression, worded exactly as DynamoDB's `ValidationException`, or an
/// internal error ([`ExprError::is_internal`]), which the server answers with
/// `InternalServerError` and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    message: String,
    internal: bool,
}

impl ExprError {
    /// An error in an expression parameter: `Invalid <Parameter>: <detail>`.
    pub fn invalid(kind: ExpressionKind, detail: impl fmt::Display) -> Self {
        ExprError {
            message: format!("Invalid {}: {detail}", kind.parameter()),
            internal: false,
        }
    }

    /// An error whose whole message is given (messages that have no `Invalid X:` prefix,
    /// such as unused `ExpressionAttributeNames`, or evaluation errors).
    pub fn message_only(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
            internal: false,
        }
    }

    /// An internal error: the caller broke the pipeline's contract (evaluated an unresolved
    /// or unvalidated tree). `detail` is for the log, not for the client.
    pub fn internal(detail: impl fmt::Display) -> Self {
        ExprError {
            message: format!("Internal error: {detail}"),
            internal: true,
        }
    }

    /// The DynamoDB message (for a validation error) or the internal detail.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is an internal error rather than a problem with the request.
    pub fn is_internal(&self) -> bool {
        self.internal
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}
