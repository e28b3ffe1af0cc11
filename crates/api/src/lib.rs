//! Stator's operation layer: every DynamoDB operation, independent of the protocol that
//! carried it.
//!
//! Each operation is one module of [`ops`] with the same steps:
//!
//! ```text
//! wire decode (a front end: JSON in crates/server, later DAX's CBOR, PartiQL…)
//!   → Input           typed members; enum members are `EnumValue`s (the raw text kept
//!                      for the validator's message, the typed value once valid)
//!   → validate        DynamoDB's request checks in its order and words
//!                      (`validate::Validator`, expressions via `expressions::prepare`)
//!   → engine request  plain values: `stator_engine::items::PutRequest` …
//!   → engine          table-dependent rules (key schema, index state, start keys,
//!                      projections) and the work itself
//!   → Output          typed; what the client asked to see (consumed capacity, item
//!                      collection metrics) is chosen here
//!   → wire encode (the front end)
//! ```
//!
//! [`resolve`] maps a target (`DynamoDB_20120810.PutItem`,
//! `DynamoDBStreams_20120810.GetRecords`) to an [`Op`] by service and operation name.
//! Nothing here knows HTTP or JSON: front ends own the wire, and every front end reaches
//! the same validation and the same engine calls.

pub mod enums;
pub mod expressions;
pub mod ops;
pub mod validate;

use stator_engine::{DynamoError, Engine, ErrorKind};

/// What an operation needs besides its input.
pub struct Context<'a> {
    pub engine: &'a Engine,
    /// The region of the request's credential scope (table ARNs are built with it).
    pub region: &'a str,
    /// The host the client addressed, for the operations that answer with it
    /// ([`Op::uses_host`]); `None` for the others, whose front end need not look it up.
    pub host: Option<&'a str>,
}

impl Op {
    /// Whether the operation answers with the host the client addressed
    /// ([`Context::host`]).
    pub fn uses_host(self) -> bool {
        self == Op::DescribeEndpoints
    }
}

/// The services whose operations share the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `DynamoDB_20120810.*`
    DynamoDb,
    /// `DynamoDBStreams_20120810.*` (signed as service `dynamodb` too).
    Streams,
}

impl Service {
    const PREFIXES: [(Service, &'static str); 2] = [
        (Service::DynamoDb, "DynamoDB_20120810."),
        (Service::Streams, "DynamoDBStreams_20120810."),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::DynamoDb => "DynamoDB",
            Service::Streams => "DynamoDB Streams",
        }
    }
}

macro_rules! operations {
    ($($name:ident),* $(,)?) => {
        /// The operations Stator implements.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            $($name,)*
        }

        impl Op {
            /// Every implemented operation.
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];

            /// The operation's name, as in its target.
            pub fn name(self) -> &'static str {
                match self {
                    $(Op::$name => stringify!($name),)*
                }
            }
        }
    };
}

operations!(
    BatchGetItem,
    BatchWriteItem,
    CreateTable,
    DeleteItem,
    DeleteTable,
    DescribeEndpoints,
    DescribeLimits,
    DescribeTable,
    GetItem,
    ListTables,
    ListTagsOfResource,
    PutItem,
    Query,
    Scan,
    TagResource,
    TransactGetItems,
    TransactWriteItems,
    UntagResource,
    UpdateItem,
    UpdateTable,
);

/// Operations DynamoDB has that Stator does not implement yet. They fail with a clear
/// message instead of looking unknown.
const NOT_YET: &[&str] = &[
    "BatchExecuteStatement",
    "CreateBackup",
    "CreateGlobalTable",
    "DeleteBackup",
    "DeleteResourcePolicy",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "PutResourcePolicy",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateKinesisStreamingDestination",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// DynamoDB Streams' operations, none implemented yet.
const STREAMS_NOT_YET: &[&str] = &[
    "DescribeStream",
    "GetRecords",
    "GetShardIterator",
    "ListStreams",
];

/// Finds the operation a target names (`X-Amz-Target` in the JSON protocol). An unknown
/// target is `UnknownOperationException` without a message, as DynamoDB answers it; an
/// operation DynamoDB has and Stator does not implement yet gets the same exception with a
/// message that says so.
pub fn resolve(target: Option<&str>) -> Result<Op, DynamoError> {
    let unknown = || DynamoError::new(ErrorKind::UnknownOperation, "");
    let target = target.ok_or_else(unknown)?;
    let (service, name) = Service::PREFIXES
        .iter()
        .find_map(|(service, prefix)| target.strip_prefix(prefix).map(|name| (*service, name)))
        .ok_or_else(unknown)?;
    let not_yet = || {
        let operation = match service {
            Service::DynamoDb => format!("the {name} operation"),
            Service::Streams => format!("the {} operation {name}", service.name()),
        };
        DynamoError::new(
            ErrorKind::UnknownOperation,
            format!("Stator does not support {operation} yet"),
        )
    };
    match service {
        Service::DynamoDb => {
            if let Some(op) = Op::ALL.iter().find(|op| op.name() == name) {
                return Ok(*op);
            }
            if NOT_YET.contains(&name) {
                return Err(not_yet());
            }
        }
        Service::Streams if STREAMS_NOT_YET.contains(&name) => return Err(not_yet()),
        Service::Streams => {}
    }
    Err(unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_by_service_and_name() {
        assert_eq!(
            resolve(Some("DynamoDB_20120810.PutItem")).unwrap(),
            Op::PutItem
        );
        let err = resolve(Some("DynamoDB_20120810.Nope")).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::UnknownOperation, "")
        );
        let err = resolve(None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
        let err = resolve(Some("DynamoDB_20120810.CreateBackup")).unwrap_err();
        assert_eq!(
            err.message,
            "Stator does not support the CreateBackup operation yet"
        );
        let err = resolve(Some("DynamoDBStreams_20120810.GetRecords")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
        assert_eq!(
            err.message,
            "Stator does not support the DynamoDB Streams operation GetRecords yet"
        );
        // A Streams target with a DynamoDB operation's name is unknown.
        assert_eq!(
            resolve(Some("DynamoDBStreams_20120810.PutItem"))
                .unwrap_err()
                .message,
            ""
        );
    }

    #[test]
    fn every_operation_is_listed_once() {
        let mut names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
        names.extend_from_slice(NOT_YET);
        let total = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), total);
    }
}
