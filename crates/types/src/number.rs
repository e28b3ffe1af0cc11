//! DynamoDB's Number type: an exact decimal with at most 38 significant digits and a
//! magnitude between 1e-130 and 9.99…e125 (or zero).
//!
//! A [`Number`] is `(-1)^negative × coefficient × 10^exponent` where the coefficient is a `u128`
//! below 10^38 with no trailing zeros. That makes the representation canonical: `1`, `1.0`,
//! `10e-1` and `+1` all parse to the same value, so derived equality and hashing are numeric
//! equality and hashing. Zero has the single form `(false, 0, 0)`, so `-0` is `0`.
//!
//! Data flow: the JSON layer calls [`Number::parse`] on every `N`/`NS` string of a request;
//! the expression evaluator uses [`Number::checked_add`]/[`Number::checked_sub`] for `SET a = a
//! + :v` and `ADD`; responses print numbers with [`Display`](fmt::Display), which writes
//! DynamoDB's normalised plain decimal (`1e3` → `1000`, `1.50` → `1.5`, `-0` → `0`); the key
//! and item codecs read the parts through [`Number::parts`].
//!
//! Nothing here allocates except error values.

use std::cmp::Ordering;
use std::fmt;

/// The most significant digits a DynamoDB number may have.
pub const MAX_DIGITS: u32 = 38;
/// The largest allowed decimal exponent in scientific notation (`9.99…e125`).
pub const MAX_ADJUSTED_EXPONENT: i32 = 125;
/// The smallest allowed decimal exponent in scientific notation (`1e-130`).
pub const MIN_ADJUSTED_EXPONENT: i32 = -130;

/// `POW10[i] == 10^i` for every power that fits in a `u128` (10^38 is the largest).
const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// 10^power, or `None` when it does not fit in a `u128`.
pub(crate) fn pow10(power: u32) -> Option<u128> {
    POW10.get(power as usize).copied()
}

/// The number of decimal digits of a non-zero value.
fn digit_count(value: u128) -> u32 {
    value.checked_ilog10().map_or(1, |log| log + 1)
}

/// Writes the decimal digits (as values 0–9, most significant first) of a coefficient below
/// 10^38 into `buf` and returns how many there are. A `u128` division is a slow library
/// call, so the value is split once into two `u64` halves of 19 digits each.
pub(crate) fn coefficient_digits(coefficient: u128, buf: &mut [u8; 38]) -> usize {
    const HALF: u128 = 10_000_000_000_000_000_000; // 10^19
    let mut len = 0;
    if coefficient < HALF {
        push_digits(coefficient as u64, 1, buf, &mut len);
    } else {
        // Both halves fit in a u64: each is below 10^19.
        push_digits((coefficient / HALF) as u64, 1, buf, &mut len);
        push_digits((coefficient % HALF) as u64, 19, buf, &mut len);
    }
    len
}

/// Appends the digits of `value`, zero-padded on the left to `min_width`.
fn push_digits(mut value: u64, min_width: usize, buf: &mut [u8; 38], len: &mut usize) {
    let mut reversed = [0u8; 20];
    let mut n = 0;
    while (value > 0 || n < min_width) && n < reversed.len() {
        reversed[n] = (value % 10) as u8;
        value /= 10;
        n += 1;
    }
    for &digit in reversed[..n].iter().rev() {
        if let Some(slot) = buf.get_mut(*len) {
            *slot = digit;
            *len += 1;
        }
    }
}

/// Why a string or an arithmetic result is not a valid DynamoDB number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum NumberError {
    /// The input is not a number in DynamoDB's syntax. Holds the input as sent.
    NotANumber(String),
    /// More than 38 significant digits.
    TooManyDigits,
    /// Magnitude of 1e126 or more.
    Overflow,
    /// Non-zero magnitude below 1e-130.
    Underflow,
}

impl NumberError {
    /// DynamoDB's `ValidationException` message for this error.
    ///
    /// The four texts are DynamoDB's own (as reported by users of the real service):
    /// `The parameter cannot be converted to a numeric value: <input>` (e.g. for `NaN`),
    /// `Attempting to store more than 38 significant digits in a Number`, and the two
    /// `Number overflow.` / `Number underflow.` sentences below. For an empty input the
    /// message ends in `": "`; DynamoDB's wording for that exact case is unverified.
    pub fn message(&self) -> String {
        match self {
            NumberError::NotANumber(input) => {
                format!("The parameter cannot be converted to a numeric value: {input}")
            }
            NumberError::TooManyDigits => {
                "Attempting to store more than 38 significant digits in a Number".to_owned()
            }
            NumberError::Overflow => "Number overflow. Attempting to store a number with \
                                      magnitude larger than supported range"
                .to_owned(),
            NumberError::Underflow => "Number underflow. Attempting to store a number with \
                                       magnitude smaller than supported range"
                .to_owned(),
        }
    }
}

/// An exact DynamoDB number. See the module documentation for the representation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Below 10^38, no trailing zeros; 0 only for zero.
    coefficient: u128,
    /// The power of ten of the coefficient's last digit; 0 for zero.
    exponent: i32,
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        negative: false,
        coefficient: 0,
        exponent: 0,
    };

    /// Parses DynamoDB's number syntax, which is Java's `BigDecimal` syntax restricted to
    /// ASCII: an optional `+` or `-`, digits with at most one `.` (at least one digit in
    /// total, so `.5` and `5.` are numbers but `.` is not), then optionally `e` or `E`, an
    /// optional sign and at least one digit. No whitespace, no `NaN`, no `Infinity`, no hex.
    ///
    /// Leading and trailing zeros are not significant digits (`0.00100` has one).
    ///
    /// Checks, in this order:
    /// 1. Syntax, and Java's `BigDecimal` limits, because DynamoDB (a Java service) turns a
    ///    `NumberFormatException` into "cannot be converted to a numeric value": the exponent
    ///    may have at most 10 digits after leading zeros and must fit an `i32`, and so must
    ///    the resulting scale (fraction digits minus exponent). So `1e999999999999` is not a
    ///    number, while `1e999999999` is a number that overflows. Java also accepts non-ASCII
    ///    Unicode digits; we do not, since no SDK sends them.
    /// 2. Magnitude (overflow, then underflow) — before precision, because DynamoDB reports
    ///    "Number overflow" for an arithmetic result that is both too large and too precise.
    /// 3. At most 38 significant digits.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let bytes = s.as_bytes();
        let not_a_number = || NumberError::NotANumber(s.to_owned());
        let mut pos = 0;
        let mut negative = false;
        match bytes.first() {
            Some(b'-') => {
                negative = true;
                pos = 1;
            }
            Some(b'+') => pos = 1,
            _ => {}
        }

        // Mantissa. Indexes count mantissa digits only (the '.' is skipped).
        let mut coefficient: u128 = 0;
        let mut significant: i64 = 0; // digits from the first to the last non-zero digit
        let mut pending_zeros: i64 = 0; // zeros after the last non-zero digit so far
        let mut first_nonzero: Option<i64> = None;
        let mut last_nonzero: i64 = 0;
        let mut digits: i64 = 0;
        let mut integer_digits: i64 = 0;
        let mut fraction_digits: i64 = 0;
        let mut seen_point = false;
        while let Some(&b) = bytes.get(pos) {
            match b {
                b'0'..=b'9' => {
                    let digit = u128::from(b - b'0');
                    if digit == 0 {
                        if first_nonzero.is_some() {
                            pending_zeros += 1;
                        }
                    } else {
                        if first_nonzero.is_none() {
                            first_nonzero = Some(digits);
                        }
                        let new_significant = significant + pending_zeros + 1;
                        // Keep accumulating only while the coefficient stays below 10^38;
                        // beyond that the number is rejected anyway.
                        if new_significant <= i64::from(MAX_DIGITS) {
                            let scale = pow10((pending_zeros + 1) as u32).unwrap_or(0);
                            coefficient = coefficient * scale + digit;
                        }
                        significant = new_significant;
                        pending_zeros = 0;
                        last_nonzero = digits;
                    }
                    digits += 1;
                    if seen_point {
                        fraction_digits += 1;
                    } else {
                        integer_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            pos += 1;
        }
        if digits == 0 {
            return Err(not_a_number());
        }

        // Exponent.
        let mut exponent: i64 = 0;
        if let Some(&b) = bytes.get(pos) {
            if b != b'e' && b != b'E' {
                return Err(not_a_number());
            }
            pos += 1;
            let mut exponent_negative = false;
            match bytes.get(pos) {
                Some(b'-') => {
                    exponent_negative = true;
                    pos += 1;
                }
                Some(b'+') => pos += 1,
                _ => {}
            }
            let start = pos;
            while bytes.get(pos) == Some(&b'0') {
                pos += 1;
            }
            let significant_start = pos;
            while let Some(&b) = bytes.get(pos) {
                if !b.is_ascii_digit() {
                    return Err(not_a_number());
                }
                if pos - significant_start >= 10 {
                    // Java: "Too many nonzero exponent digits."
                    return Err(not_a_number());
                }
                exponent = exponent * 10 + i64::from(b - b'0');
                pos += 1;
            }
            if pos == start {
                return Err(not_a_number());
            }
            if exponent_negative {
                exponent = -exponent;
            }
            if exponent < i64::from(i32::MIN) || exponent > i64::from(i32::MAX) {
                return Err(not_a_number());
            }
        }
        // Java's BigDecimal keeps a 32-bit scale; a scale outside it is a format error too.
        let scale = fraction_digits - exponent;
        if scale < i64::from(i32::MIN) || scale > i64::from(i32::MAX) {
            return Err(not_a_number());
        }

        let Some(first_nonzero) = first_nonzero else {
            return Ok(Number::ZERO);
        };
        // The digit at mantissa index i has place value 10^(integer_digits - 1 - i + exponent).
        let adjusted = integer_digits - 1 - first_nonzero + exponent;
        let unit = integer_digits - 1 - last_nonzero + exponent;
        if adjusted > i64::from(MAX_ADJUSTED_EXPONENT) {
            return Err(NumberError::Overflow);
        }
        if adjusted < i64::from(MIN_ADJUSTED_EXPONENT) {
            return Err(NumberError::Underflow);
        }
        if significant > i64::from(MAX_DIGITS) {
            return Err(NumberError::TooManyDigits);
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: unit as i32,
        })
    }

    /// Builds a number from `(-1)^negative × coefficient × 10^exponent`, normalising trailing
    /// zeros and checking DynamoDB's limits (magnitude first, then precision).
    pub fn from_parts(
        negative: bool,
        coefficient: u128,
        exponent: i32,
    ) -> Result<Number, NumberError> {
        Number::from_parts_wide(negative, coefficient, i64::from(exponent))
    }

    fn from_parts_wide(
        negative: bool,
        mut coefficient: u128,
        mut exponent: i64,
    ) -> Result<Number, NumberError> {
        if coefficient == 0 {
            return Ok(Number::ZERO);
        }
        while coefficient.is_multiple_of(10) {
            coefficient /= 10;
            exponent += 1;
        }
        let digits = digit_count(coefficient);
        let adjusted = exponent + i64::from(digits) - 1;
        if adjusted > i64::from(MAX_ADJUSTED_EXPONENT) {
            return Err(NumberError::Overflow);
        }
        if adjusted < i64::from(MIN_ADJUSTED_EXPONENT) {
            return Err(NumberError::Underflow);
        }
        if digits > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: exponent as i32,
        })
    }

    /// Builds a number from parts that must already be canonical (as [`Number::parts`]
    /// returns them); `None` otherwise. The item codec uses this to reject corrupt input.
    pub fn from_canonical_parts(
        negative: bool,
        coefficient: u128,
        exponent: i32,
    ) -> Option<Number> {
        if coefficient == 0 {
            return (!negative && exponent == 0).then_some(Number::ZERO);
        }
        if coefficient.is_multiple_of(10) || coefficient >= POW10[MAX_DIGITS as usize] {
            return None;
        }
        let adjusted = i64::from(exponent) + i64::from(digit_count(coefficient)) - 1;
        let in_range = adjusted >= i64::from(MIN_ADJUSTED_EXPONENT)
            && adjusted <= i64::from(MAX_ADJUSTED_EXPONENT);
        in_range.then_some(Number {
            negative,
            coefficient,
            exponent,
        })
    }

    /// The canonical parts `(negative, coefficient, exponent)`: the value is
    /// `(-1)^negative × coefficient × 10^exponent`, the coefficient has no trailing zeros and
    /// is below 10^38, and zero is `(false, 0, 0)`.
    pub fn parts(&self) -> (bool, u128, i32) {
        (self.negative, self.coefficient, self.exponent)
    }

    /// An `i64` as a number (always within DynamoDB's limits).
    pub fn from_i64(v: i64) -> Number {
        let mut coefficient = u128::from(v.unsigned_abs());
        if coefficient == 0 {
            return Number::ZERO;
        }
        let mut exponent = 0;
        while coefficient.is_multiple_of(10) {
            coefficient /= 10;
            exponent += 1;
        }
        Number {
            negative: v < 0,
            coefficient,
            exponent,
        }
    }

    /// The value as an `i64`, if it is an integer within range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let magnitude = self.coefficient.checked_mul(pow10(self.exponent as u32)?)?;
        if self.negative {
            let magnitude = i128::try_from(magnitude).ok()?;
            i64::try_from(-magnitude).ok()
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// True for numbers below zero (never for zero).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// True if the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    /// The number of significant digits: 0 for zero, otherwise 1 to 38.
    pub fn significant_digits(&self) -> u32 {
        if self.coefficient == 0 {
            0
        } else {
            digit_count(self.coefficient)
        }
    }

    /// The exponent in scientific notation (`1234` → 3, `0.05` → -2); 0 for zero.
    pub fn adjusted_exponent(&self) -> i32 {
        if self.coefficient == 0 {
            0
        } else {
            self.exponent + digit_count(self.coefficient) as i32 - 1
        }
    }

    /// The number with the opposite sign (zero stays zero).
    pub fn neg(&self) -> Number {
        Number {
            negative: !self.negative && self.coefficient != 0,
            ..*self
        }
    }

    /// The exact sum. DynamoDB's arithmetic is exact: a result outside the range is
    /// [`NumberError::Overflow`]/[`NumberError::Underflow`], and a result that needs more
    /// than 38 significant digits is [`NumberError::TooManyDigits`] — it is never rounded.
    /// (DynamoDB's documentation only says that exceeding 38 digits "results in an
    /// exception"; rounding silently would make `a + tiny` lose the addend, so we refuse.)
    /// Magnitude is checked first, as DynamoDB reports "Number overflow" for
    /// `9.9999999999999999999999999999999999999e125 + 1e125`, whose exact value also has 39
    /// significant digits.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        let (high, low) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        // At most 125 + 167, so no overflow.
        let shift = (i64::from(high.exponent) - i64::from(low.exponent)) as u32;
        let exponent = i64::from(low.exponent);
        let same_sign = high.negative == low.negative;
        let scaled = pow10(shift).and_then(|p| high.coefficient.checked_mul(p));
        if let Some(scaled) = scaled {
            let exact = if same_sign {
                scaled
                    .checked_add(low.coefficient)
                    .map(|sum| (high.negative, sum))
            } else if scaled >= low.coefficient {
                Some((high.negative, scaled - low.coefficient))
            } else {
                Some((low.negative, low.coefficient - scaled))
            };
            if let Some((negative, magnitude)) = exact {
                return Number::from_parts_wide(negative, magnitude, exponent);
            }
        }
        // The aligned value no longer fits in a u128, so it exceeds 3.4e38 while the other
        // coefficient is below 1e38: the exact result has at least 39 digits, its last digit
        // (at `exponent`, where only `low` contributes, as shift ≥ 1) is non-zero, and it is
        // too large to underflow. Only its digit count is needed, to tell overflow from
        // excess precision.
        Err(Number::too_wide_error(
            high.coefficient,
            shift,
            low.coefficient,
            same_sign,
            exponent,
        ))
    }

    /// The error for `high × 10^shift ± low` when that value exceeds `u128::MAX`.
    fn too_wide_error(high: u128, shift: u32, low: u128, add: bool, exponent: i64) -> NumberError {
        let high_digits = digit_count(high);
        let aligned_digits = i64::from(high_digits) + i64::from(shift);
        let times_shift = |v: u128| pow10(shift).and_then(|p| v.checked_mul(p));
        let result_digits = if add {
            // A carry into a new digit happens iff low ≥ 10^aligned_digits − high × 10^shift.
            let gap = POW10[high_digits as usize] - high;
            match times_shift(gap) {
                Some(gap) if low >= gap => aligned_digits + 1,
                _ => aligned_digits,
            }
        } else {
            // The top digit vanishes iff high × 10^shift − low < 10^(aligned_digits − 1).
            let above = high - POW10[high_digits as usize - 1];
            match times_shift(above) {
                Some(above) if low > above => aligned_digits - 1,
                _ => aligned_digits,
            }
        };
        if exponent + result_digits - 1 > i64::from(MAX_ADJUSTED_EXPONENT) {
            NumberError::Overflow
        } else {
            NumberError::TooManyDigits
        }
    }

    /// The exact difference; see [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.neg())
    }

    /// Compares magnitudes, ignoring signs.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let (da, db) = (
            digit_count(self.coefficient),
            digit_count(other.coefficient),
        );
        let adjusted_a = i64::from(self.exponent) + i64::from(da);
        let adjusted_b = i64::from(other.exponent) + i64::from(db);
        adjusted_a.cmp(&adjusted_b).then_with(|| {
            // Same leading position: align the coefficients to the same digit count (both stay
            // below 10^38, so no overflow).
            if da >= db {
                self.coefficient
                    .cmp(&(other.coefficient * POW10[(da - db) as usize]))
            } else {
                (self.coefficient * POW10[(db - da) as usize]).cmp(&other.coefficient)
            }
        })
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let class = |n: &Number| match (n.negative, n.coefficient == 0) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        class(self).cmp(&class(other)).then_with(|| {
            let magnitude = self.cmp_magnitude(other);
            if self.negative {
                magnitude.reverse()
            } else {
                magnitude
            }
        })
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        Number::from_i64(v)
    }
}

/// Writes `count` zeros without allocating.
impl Number {
    /// Appends DynamoDB's output form of the number (see the `Display` impl) to `out`, with
    /// no intermediate formatting machinery: the read responses write every number this way.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        if self.coefficient == 0 {
            out.push(b'0');
            return;
        }
        let mut buf = [0u8; 38];
        let len = coefficient_digits(self.coefficient, &mut buf);
        for digit in &mut buf[..len] {
            *digit += b'0';
        }
        let digits = &buf[..len];
        if self.negative {
            out.push(b'-');
        }
        if self.exponent >= 0 {
            out.extend_from_slice(digits);
            out.resize(out.len() + self.exponent as usize, b'0');
            return;
        }
        let fraction = self.exponent.unsigned_abs() as usize;
        if fraction < len {
            let (integer, rest) = digits.split_at(len - fraction);
            out.extend_from_slice(integer);
            out.push(b'.');
            out.extend_from_slice(rest);
        } else {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (fraction - len), b'0');
            out.extend_from_slice(digits);
        }
    }
}

/// DynamoDB's output form: plain decimal, never an exponent, no trailing fractional zeros,
/// no `+`, no `-0`. `1.5e125` prints as 15 followed by 124 zeros; `1e-130` as `0.` followed
/// by 129 zeros and a `1`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::with_capacity(48);
        self.write_text(&mut text);
        // Only ASCII digits, `-` and `.` were written.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("1.0").to_string(), "1");
        assert_eq!(n("-0").to_string(), "0");
        assert_eq!(n("1e-5").to_string(), "0.00001");
        assert_eq!(n("-12.340").to_string(), "-12.34");
        assert_eq!(
            n("12345678901234567890123.5").to_string(),
            "12345678901234567890123.5"
        );
    }

    #[test]
    fn coefficient_digits_of_wide_values() {
        let mut buf = [0u8; 38];
        let len = coefficient_digits(10_000_000_000_000_000_001, &mut buf);
        assert_eq!(
            &buf[..len],
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn add_crosses_u128() {
        let max = n("99999999999999999999999999999999999999");
        assert_eq!(
            max.checked_add(&n("1")).unwrap().to_string(),
            format!("1{}", "0".repeat(38))
        );
        assert_eq!(max.checked_add(&n("0.1")), Err(NumberError::TooManyDigits));
        assert_eq!(n("1e38").checked_sub(&max).unwrap().to_string(), "1");
        assert_eq!(
            n("9.9999999999999999999999999999999999999e125").checked_add(&n("1e125")),
            Err(NumberError::Overflow)
        );
    }

    #[test]
    fn to_i64() {
        assert_eq!(n("-9223372036854775808").to_i64(), Some(i64::MIN));
        assert_eq!(n("9223372036854775808").to_i64(), None);
        assert_eq!(n("1.5").to_i64(), None);
        assert_eq!(n("12e3").to_i64(), Some(12000));
    }
}
