//! The words of DynamoDB's request validator, which checks every member of a request
//! against its model constraints (required, length, pattern, enum, range) before the
//! service looks at the request's meaning, and reports *all* violations in one
//! `ValidationException`:
//!
//! ```text
//! 2 validation errors detected: Value null at 'tableName' failed to satisfy constraint:
//! Member must not be null; Value 'x' at 'returnValues' failed to satisfy constraint:
//! Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]
//! ```
//!
//! Every layer that reports such violations (the API layer's request checks, the legacy
//! parameter conversions of the expression layer) builds them with these two functions.

/// One violation: `Value <value> at '<path>' failed to satisfy constraint: <constraint>`.
/// `value` is written as given: `null`, or the value in single quotes.
pub fn violation(value: &str, path: &str, constraint: &str) -> String {
    format!("Value {value} at '{path}' failed to satisfy constraint: {constraint}")
}

/// The message for a list of violations (`None` when there are none):
/// `1 validation error detected: …` or `N validation errors detected: …; …`.
pub fn detected(violations: &[String]) -> Option<String> {
    match violations.len() {
        0 => None,
        1 => Some(format!("1 validation error detected: {}", violations[0])),
        n => Some(format!(
            "{n} validation errors detected: {}",
            violations.join("; ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many_violations() {
        assert_eq!(detected(&[]), None);
        let one = violation("null", "tableName", "Member must not be null");
        assert_eq!(
            detected(std::slice::from_ref(&one)).as_deref(),
            Some(
                "1 validation error detected: Value null at 'tableName' failed to satisfy \
                 constraint: Member must not be null"
            )
        );
        let two = violation(
            "'x'",
            "limit",
            "Member must have value greater than or equal to 1",
        );
        assert_eq!(
            detected(&[one, two]).as_deref(),
            Some(
                "2 validation errors detected: Value null at 'tableName' failed to satisfy \
                 constraint: Member must not be null; Value 'x' at 'limit' failed to satisfy \
                 constraint: Member must have value greater than or equal to 1"
            )
        );
    }
}
