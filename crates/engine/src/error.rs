//! The one client-facing error type: its kinds are exactly DynamoDB's error types.
//!
//! Every layer below the API maps its own failures into [`DynamoError`]; the server renders it
//! to the wire in one function. The message text is part of the API: DynamoDB clients and
//! tests match on it, so it is written out exactly as the real service words it.

use std::fmt;

/// DynamoDB's error types. The wire name is `<namespace>#<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    Serialization,
    UnknownOperation,
    MissingAuthenticationToken,
    IncompleteSignature,
    RequestEntityTooLarge,
    AccessDenied,
    ResourceNotFound,
    ResourceInUse,
    ConditionalCheckFailed,
    LimitExceeded,
    ProvisionedThroughputExceeded,
    ItemCollectionSizeLimitExceeded,
    TransactionCanceled,
    TransactionConflict,
    IdempotentParameterMismatch,
    InternalServerError,
}

impl ErrorKind {
    /// The type name clients read (the part after `#`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationException",
            ErrorKind::Serialization => "SerializationException",
            ErrorKind::UnknownOperation => "UnknownOperationException",
            ErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorKind::IncompleteSignature => "IncompleteSignatureException",
            ErrorKind::RequestEntityTooLarge => "RequestEntityTooLargeException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::ResourceInUse => "ResourceInUseException",
            ErrorKind::ConditionalCheckFailed => "ConditionalCheckFailedException",
            ErrorKind::LimitExceeded => "LimitExceededException",
            ErrorKind::ProvisionedThroughputExceeded => "ProvisionedThroughputExceededException",
            ErrorKind::ItemCollectionSizeLimitExceeded => {
                "ItemCollectionSizeLimitExceededException"
            }
            ErrorKind::TransactionCanceled => "TransactionCanceledException",
            ErrorKind::TransactionConflict => "TransactionConflictException",
            ErrorKind::IdempotentParameterMismatch => "IdempotentParameterMismatchException",
            ErrorKind::InternalServerError => "InternalServerError",
        }
    }

    /// The namespace DynamoDB puts before `#`: request validation comes from the Coral
    /// framework's validator, protocol-level errors from the Coral service layer, and
    /// everything the service itself decides from the DynamoDB model namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            ErrorKind::Validation => "com.amazon.coral.validate",
            ErrorKind::Serialization
            | ErrorKind::UnknownOperation
            | ErrorKind::MissingAuthenticationToken
            | ErrorKind::IncompleteSignature
            | ErrorKind::RequestEntityTooLarge
            | ErrorKind::AccessDenied => "com.amazon.coral.service",
            _ => "com.amazonaws.dynamodb.v20120810",
        }
    }

    /// HTTP status: 500 only for real internal errors, 413 for oversized bodies.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InternalServerError => 500,
            ErrorKind::RequestEntityTooLarge => 413,
            _ => 400,
        }
    }
}

/// DynamoDB's message for every internal error; what really happened goes to the log.
pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// A client-facing error: a DynamoDB error type and its message.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamoError {
    pub kind: ErrorKind,
    pub message: String,
    /// The item DynamoDB returns with `ConditionalCheckFailedException` when the request set
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD` and the item existed.
    pub item: Option<Box<stator_types::Item>>,
    /// `CancellationReasons` of a `TransactionCanceledException`, in request order.
    pub cancellation_reasons: Option<Vec<CancellationReason>>,
    /// `ThrottlingReasons` of a throttled request: what was throttled and why.
    pub throttling_reasons: Option<Vec<ThrottlingReason>>,
    /// For internal errors: what went wrong, for the server's log. Never sent to the
    /// client, who gets [`INTERNAL_MESSAGE`].
    pub detail: Option<String>,
    /// A storage conflict: the request's transaction may be run again (see `Engine::write`).
    conflict: bool,
}

impl DynamoError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DynamoError {
            kind,
            message: message.into(),
            item: None,
            cancellation_reasons: None,
            throttling_reasons: None,
            detail: None,
            conflict: false,
        }
    }

    /// `ConditionalCheckFailedException`, carrying the old item when it was asked for.
    pub fn conditional_check_failed(item: Option<stator_types::Item>) -> Self {
        let mut error = Self::new(
            ErrorKind::ConditionalCheckFailed,
            "The conditional request failed",
        );
        error.item = item.map(Box::new);
        error
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }

    /// `ValidationException` with DynamoDB's "One or more parameter values were invalid: "
    /// prefix, used for most semantic checks of keys and items.
    pub fn invalid_parameter(detail: impl fmt::Display) -> Self {
        Self::validation(format!(
            "One or more parameter values were invalid: {detail}"
        ))
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }

    /// The message DynamoDB gives for data-plane requests on a missing table.
    pub fn table_not_found() -> Self {
        Self::resource_not_found("Requested resource not found")
    }

    pub fn resource_in_use(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceInUse, message)
    }

    /// `InternalServerError` with DynamoDB's generic message; `detail` says what happened
    /// and goes only to the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorKind::InternalServerError, INTERNAL_MESSAGE);
        error.detail = Some(detail.into());
        error
    }

    /// Whether this error is a storage conflict after which the transaction may be retried.
    pub fn is_conflict(&self) -> bool {
        self.conflict
    }
}

/// The `Code` of one entry of a `TransactionCanceledException`'s `CancellationReasons`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancellationCode {
    /// The action would have succeeded.
    None,
    ConditionalCheckFailed,
    ItemCollectionSizeLimitExceeded,
    TransactionConflict,
    ProvisionedThroughputExceeded,
    ThrottlingError,
    ValidationError,
}

impl CancellationCode {
    /// The code as DynamoDB writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CancellationCode::None => "None",
            CancellationCode::ConditionalCheckFailed => "ConditionalCheckFailed",
            CancellationCode::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceeded",
            CancellationCode::TransactionConflict => "TransactionConflict",
            CancellationCode::ProvisionedThroughputExceeded => "ProvisionedThroughputExceeded",
            CancellationCode::ThrottlingError => "ThrottlingError",
            CancellationCode::ValidationError => "ValidationError",
        }
    }
}

/// One entry of `ThrottlingReasons`: a reason code (resource type, operation type and
/// limit type, as `TableWriteProvisionedThroughputExceeded`) and the ARN of the table or
/// index that was throttled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottlingReason {
    pub reason: String,
    pub resource: String,
}

/// One entry of `CancellationReasons`.
#[derive(Clone, Debug, PartialEq)]
pub struct CancellationReason {
    pub code: CancellationCode,
    pub message: Option<String>,
    /// The item, for `ConditionalCheckFailed` with `ReturnValuesOnConditionCheckFailure`.
    pub item: Option<stator_types::Item>,
}

impl CancellationReason {
    /// The reason of an action that would have succeeded.
    pub fn none() -> Self {
        CancellationReason {
            code: CancellationCode::None,
            message: None,
            item: None,
        }
    }

    pub fn new(
        code: CancellationCode,
        message: impl Into<String>,
        item: Option<stator_types::Item>,
    ) -> Self {
        CancellationReason {
            code,
            message: Some(message.into()),
            item,
        }
    }
}

impl DynamoError {
    /// `TransactionCanceledException` with DynamoDB's message listing every reason code.
    pub fn transaction_canceled(reasons: Vec<CancellationReason>) -> Self {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        let mut error = DynamoError::new(
            ErrorKind::TransactionCanceled,
            format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons \
                 [{}]",
                codes.join(", ")
            ),
        );
        error.cancellation_reasons = Some(reasons);
        error
    }
}

impl fmt::Display for DynamoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DynamoError {}

impl From<stator_expr::ExprError> for DynamoError {
    fn from(err: stator_expr::ExprError) -> Self {
        if err.is_internal() {
            DynamoError::internal(err.message())
        } else {
            DynamoError::validation(err.message())
        }
    }
}

impl From<stator_storage::StorageError> for DynamoError {
    fn from(err: stator_storage::StorageError) -> Self {
        let conflict = err.is_conflict();
        let mut error = DynamoError::internal(err.to_string());
        error.conflict = conflict;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_detail_out_of_the_message() {
        let expr = stator_expr::ExprError::internal("unresolved :v");
        let error = DynamoError::from(expr);
        assert_eq!(error.kind, ErrorKind::InternalServerError);
        assert_eq!(error.kind.http_status(), 500);
        assert_eq!(error.message, INTERNAL_MESSAGE);
        assert!(error
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("unresolved :v")));
        let validation = DynamoError::from(stator_expr::ExprError::message_only("bad"));
        assert_eq!(validation.kind, ErrorKind::Validation);
        assert_eq!(validation.message, "bad");
    }

    #[test]
    fn storage_conflicts_are_retryable_and_other_storage_errors_are_not() {
        let conflict = DynamoError::from(stator_storage::StorageError::Conflict("x".into()));
        assert!(conflict.is_conflict());
        assert_eq!(conflict.message, INTERNAL_MESSAGE);
        let io = DynamoError::from(stator_storage::StorageError::Io("disk".into()));
        assert!(!io.is_conflict());
        assert!(io.to_string().contains("disk"));
    }
}
