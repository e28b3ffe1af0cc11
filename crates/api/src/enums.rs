//! Enum members of requests, typed.
//!
//! A request's enum member (`ReturnValues`, `Select`, `BillingMode`, …) arrives as text. It
//! is decoded into an [`EnumValue`], which keeps the text (DynamoDB's validator quotes it
//! when it names no value: `Value 'X' at 'returnValues' failed to satisfy constraint:
//! Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`)
//! and the typed value it names. The validator ([`crate::validate::Validator::enumeration`])
//! reports the first kind and hands back the second, so no operation compares strings or
//! falls back to a default for a value it does not know.
//!
//! [`DynamoEnum::VALUES`] lists each enum's values in the order DynamoDB's validator prints
//! them (the service model's declaration order, not alphabetical).

use serde::de::{Deserialize, Deserializer};
use stator_engine::capacity::ReturnCapacity;
use stator_engine::items::ReturnValues;
use stator_engine::query::Select;
use stator_engine::schema::{BillingMode, ProjectionType, ScalarType};

/// An enum of the DynamoDB API.
pub trait DynamoEnum: Copy + Sized + 'static {
    /// The values' texts, in the order DynamoDB's validator lists them.
    const VALUES: &'static [&'static str];

    /// The value a text names.
    fn parse(text: &str) -> Option<Self>;

    /// The value's text.
    fn as_str(self) -> &'static str;
}

/// An enum member as sent: its text, and the value the text names (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue<T> {
    text: String,
    value: Option<T>,
}

impl<T: DynamoEnum> EnumValue<T> {
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let value = T::parse(&text);
        EnumValue { text, value }
    }

    /// The member as sent.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value, or `None` when the text names no value of the enum (a validation error
    /// the validator reports).
    pub fn value(&self) -> Option<T> {
        self.value
    }
}

impl<T: DynamoEnum> From<T> for EnumValue<T> {
    fn from(value: T) -> Self {
        EnumValue {
            text: value.as_str().to_string(),
            value: Some(value),
        }
    }
}

impl<'de, T: DynamoEnum> Deserialize<'de> for EnumValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(EnumValue::new)
    }
}

/// Implements [`DynamoEnum`] for an enum, listing its variants in DynamoDB's order.
macro_rules! dynamo_enum {
    ($type:ty { $($variant:ident = $text:literal),* $(,)? }) => {
        impl DynamoEnum for $type {
            const VALUES: &'static [&'static str] = &[$($text),*];

            fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(<$type>::$variant),)*
                    _ => None,
                }
            }

            fn as_str(self) -> &'static str {
                match self {
                    $(<$type>::$variant => $text,)*
                }
            }
        }
    };
}

/// Defines an enum of the API that the engine has no type for, and implements
/// [`DynamoEnum`] for it.
macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($variant,)*
        }

        dynamo_enum!($name { $($variant = $text),* });
    };
}

dynamo_enum!(ReturnValues {
    AllNew = "ALL_NEW",
    UpdatedOld = "UPDATED_OLD",
    AllOld = "ALL_OLD",
    None = "NONE",
    UpdatedNew = "UPDATED_NEW",
});

dynamo_enum!(ReturnCapacity {
    Indexes = "INDEXES",
    Total = "TOTAL",
    None = "NONE",
});

dynamo_enum!(Select {
    SpecificAttributes = "SPECIFIC_ATTRIBUTES",
    Count = "COUNT",
    AllAttributes = "ALL_ATTRIBUTES",
    AllProjectedAttributes = "ALL_PROJECTED_ATTRIBUTES",
});

dynamo_enum!(BillingMode {
    Provisioned = "PROVISIONED",
    PayPerRequest = "PAY_PER_REQUEST",
});

dynamo_enum!(ProjectionType {
    All = "ALL",
    Include = "INCLUDE",
    KeysOnly = "KEYS_ONLY",
});

dynamo_enum!(ScalarType {
    B = "B",
    N = "N",
    S = "S",
});

/// `ReturnConsumedCapacity` is the engine's reporting choice.
pub type ReturnConsumedCapacity = ReturnCapacity;

api_enum!(
    /// `ReturnItemCollectionMetrics`.
    ReturnItemCollectionMetrics {
        Size = "SIZE",
        None = "NONE",
    }
);

api_enum!(
    /// `ReturnValuesOnConditionCheckFailure`.
    ReturnValuesOnConditionCheckFailure {
        AllOld = "ALL_OLD",
        None = "NONE",
    }
);

api_enum!(
    /// `ConditionalOperator` of the legacy `Expected`, `QueryFilter` and `ScanFilter`.
    ConditionalOperator {
        And = "AND",
        Or = "OR",
    }
);

api_enum!(
    /// `KeyType` of a key schema element.
    KeyType {
        Hash = "HASH",
        Range = "RANGE",
    }
);

api_enum!(
    /// `StreamViewType`.
    StreamViewType {
        NewImage = "NEW_IMAGE",
        OldImage = "OLD_IMAGE",
        NewAndOldImages = "NEW_AND_OLD_IMAGES",
        KeysOnly = "KEYS_ONLY",
    }
);

api_enum!(
    /// `TableClass`.
    TableClass {
        Standard = "STANDARD",
        StandardInfrequentAccess = "STANDARD_INFREQUENT_ACCESS",
    }
);

api_enum!(
    /// `SSEType`.
    SseType {
        Aes256 = "AES256",
        Kms = "KMS",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_in_dynamodb_order() {
        for text in ReturnValues::VALUES {
            assert_eq!(ReturnValues::parse(text).map(|v| v.as_str()), Some(*text));
        }
        assert_eq!(
            Select::VALUES,
            &[
                "SPECIFIC_ATTRIBUTES",
                "COUNT",
                "ALL_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES"
            ]
        );
    }

    #[test]
    fn unknown_text_keeps_the_text_and_names_no_value() {
        let value: EnumValue<ReturnValues> = EnumValue::new("ALL");
        assert_eq!(value.text(), "ALL");
        assert_eq!(value.value(), None);
        let value: EnumValue<KeyType> = serde_json::from_str("\"RANGE\"").unwrap();
        assert_eq!(value.value(), Some(KeyType::Range));
    }
}
