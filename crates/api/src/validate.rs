//! Request-constraint validation in the words of DynamoDB's request validator.
//!
//! DynamoDB first checks every member of a request against its model constraints (required,
//! length, pattern, enum, numeric range) and reports *all* violations in one message:
//!
//! ```text
//! 2 validation errors detected: Value null at 'tableName' failed to satisfy constraint:
//! Member must not be null; Value 'x' at 'keySchema.1.member.keyType' failed to satisfy
//! constraint: Member must satisfy enum value set: [HASH, RANGE]
//! ```
//!
//! Only when those pass does the service look at the meaning of the request. Each operation
//! calls a [`Validator`] member by member in the order DynamoDB reports them, then
//! [`Validator::finish`]. The constraints themselves are data: see [`Text`], and the enums
//! of [`crate::enums`], whose value lists are in the order DynamoDB prints them.

use stator_engine::DynamoError;

use crate::enums::{DynamoEnum, EnumValue};

/// Constraints on a string member.
#[derive(Clone, Copy, Debug)]
pub struct Text {
    pub min: usize,
    pub max: usize,
    /// `[a-zA-Z0-9_.-]+`, DynamoDB's pattern for table and index names.
    pub name_pattern: bool,
}

/// Table names in control-plane requests: 3..=255 characters of `[a-zA-Z0-9_.-]`.
pub const TABLE_NAME: Text = Text {
    min: 3,
    max: 255,
    name_pattern: true,
};
/// Table names (or table ARNs) in data-plane requests.
pub const TABLE_NAME_OR_ARN: Text = Text {
    min: 1,
    max: 1024,
    name_pattern: false,
};
pub const INDEX_NAME: Text = TABLE_NAME;
pub const ATTRIBUTE_NAME: Text = Text {
    min: 1,
    max: 255,
    name_pattern: false,
};
pub const RESOURCE_ARN: Text = Text {
    min: 1,
    max: 1283,
    name_pattern: false,
};
pub const TAG_KEY: Text = Text {
    min: 1,
    max: 128,
    name_pattern: false,
};
pub const TAG_VALUE: Text = Text {
    min: 0,
    max: 256,
    name_pattern: false,
};

pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Collects constraint violations in the order they are found.
#[derive(Default)]
pub struct Validator {
    errors: Vec<String>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: &str, path: &str, constraint: &str) {
        self.errors
            .push(stator_types::constraint::violation(value, path, constraint));
    }

    fn quoted(value: &str) -> String {
        format!("'{value}'")
    }

    /// A required member that is absent. Returns whether it is present.
    pub fn required<T>(&mut self, value: Option<&T>, path: &str) -> bool {
        if value.is_none() {
            self.fail("null", path, "Member must not be null");
        }
        value.is_some()
    }

    /// A string member; `required` adds the null check.
    pub fn text(&mut self, value: Option<&str>, path: &str, rules: Text, required: bool) {
        let Some(value) = value else {
            if required {
                self.fail("null", path, "Member must not be null");
            }
            return;
        };
        // The pattern is ASCII-only, so a byte test says the same as a char test; and an
        // ASCII string's UTF-16 length is its byte length. The quoted value is built only
        // for a message (this runs for every TableName, so the success path allocates
        // nothing).
        if rules.name_pattern && !value.bytes().all(|b| is_name_char(char::from(b))) {
            self.fail(
                &Self::quoted(value),
                path,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        // The validator counts UTF-16 code units, as the Java service does.
        let len = if value.is_ascii() {
            value.len()
        } else {
            value.encode_utf16().count()
        };
        if len < rules.min {
            self.fail(
                &Self::quoted(value),
                path,
                &format!(
                    "Member must have length greater than or equal to {}",
                    rules.min
                ),
            );
        }
        if len > rules.max {
            self.fail(
                &Self::quoted(value),
                path,
                &format!(
                    "Member must have length less than or equal to {}",
                    rules.max
                ),
            );
        }
    }

    /// An enum member: a violation when it is required and absent or names no value of
    /// the enum; the typed value when it is present and valid.
    pub fn enumeration<T: DynamoEnum>(
        &mut self,
        value: Option<&EnumValue<T>>,
        path: &str,
        required: bool,
    ) -> Option<T> {
        match value {
            None => {
                if required {
                    self.fail("null", path, "Member must not be null");
                }
                None
            }
            Some(member) => {
                if member.value().is_none() {
                    self.fail(
                        &Self::quoted(member.text()),
                        path,
                        &format!(
                            "Member must satisfy enum value set: [{}]",
                            T::VALUES.join(", ")
                        ),
                    );
                }
                member.value()
            }
        }
    }

    /// An integer member with a minimum and maximum.
    pub fn int_range(
        &mut self,
        value: Option<i64>,
        path: &str,
        min: i64,
        max: i64,
        required: bool,
    ) {
        match value {
            None if required => self.fail("null", path, "Member must not be null"),
            Some(v) if v < min => self.fail(
                &Self::quoted(&v.to_string()),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            ),
            Some(v) if v > max => self.fail(
                &Self::quoted(&v.to_string()),
                path,
                &format!("Member must have value less than or equal to {max}"),
            ),
            _ => {}
        }
    }

    /// An integer member with a minimum, reported the way Query reports its `Limit`: the
    /// member's name as sent (`'Limit'`) and no value (`Value at 'Limit' failed to …`).
    pub fn int_min_unechoed(&mut self, value: Option<i64>, path: &str, min: i64) {
        if value.is_some_and(|v| v < min) {
            self.unechoed(
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    /// A violation reported without the value (`Value at '<path>' failed to …`), the form
    /// DynamoDB uses for a few members.
    pub fn unechoed(&mut self, path: &str, constraint: &str) {
        self.errors.push(format!(
            "Value at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A list member's length; `shown` is how the list is printed in the message.
    pub fn list_len(&mut self, len: usize, shown: &str, path: &str, min: usize, max: usize) {
        if len < min {
            self.fail(
                &Self::quoted(shown),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.fail(
                &Self::quoted(shown),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Adds a violation with a custom constraint text.
    pub fn custom(&mut self, value: &str, path: &str, constraint: &str) {
        self.fail(&Self::quoted(value), path, constraint);
    }

    /// The ValidationException for everything found, or `Ok`.
    pub fn finish(self) -> Result<(), DynamoError> {
        match stator_types::constraint::detected(&self.errors) {
            None => Ok(()),
            Some(message) => Err(DynamoError::validation(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multiple_errors_are_worded_like_dynamodb() {
        let mut v = Validator::new();
        v.text(None, "tableName", TABLE_NAME, true);
        assert_eq!(
            v.finish().unwrap_err().message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy \
             constraint: Member must not be null"
        );

        let mut v = Validator::new();
        v.text(Some("a;"), "tableName", TABLE_NAME, true);
        assert_eq!(
            v.finish().unwrap_err().message,
            "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
             Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length \
             greater than or equal to 3"
        );
    }

    #[test]
    fn enums_and_ranges() {
        use crate::enums::KeyType;
        use stator_engine::items::ReturnValues;
        use stator_engine::schema::BillingMode;
        let mut v = Validator::new();
        let wrong: EnumValue<ReturnValues> = EnumValue::new("X");
        assert_eq!(v.enumeration(Some(&wrong), "returnValues", false), None);
        v.int_range(Some(0), "limit", 1, 100, false);
        assert_eq!(
            v.enumeration::<BillingMode>(None, "billingMode", false),
            None
        );
        let right = EnumValue::new("RANGE");
        assert_eq!(
            v.enumeration(Some(&right), "keyType", true),
            Some(KeyType::Range)
        );
        let msg = v.finish().unwrap_err().message;
        assert!(msg.starts_with("2 validation errors detected: "));
        assert!(msg.contains(
            "Value 'X' at 'returnValues' failed to satisfy constraint: Member must satisfy \
             enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        ));
        assert!(msg.contains("Member must have value greater than or equal to 1"));
    }

    #[test]
    fn valid_input_passes() {
        let mut v = Validator::new();
        v.text(Some("Music"), "tableName", TABLE_NAME, true);
        v.enumeration::<crate::enums::KeyType>(Some(&EnumValue::new("HASH")), "keyType", true);
        assert!(v.finish().is_ok());
    }
}
