//! The expression layer's error: a DynamoDB `ValidationException` message.

use std::fmt;

use crate::ast::ExpressionKind;

/// A problem with an expression, worded exactly as DynamoDB's `ValidationException`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    message: String,
}

impl ExprError {
    /// An error in an expression parameter: `Invalid <Parameter>: <detail>`.
    pub fn invalid(kind: ExpressionKind, detail: impl fmt::Display) -> Self {
        ExprError {
            message: format!("Invalid {}: {detail}", kind.parameter()),
        }
    }

    /// An error whose whole message is given (messages that have no `Invalid X:` prefix,
    /// such as unused `ExpressionAttributeNames`, or evaluation errors).
    pub fn message_only(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}
