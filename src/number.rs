//! Python number literals: `int(bytes, base)`, `float(bytes)` and the pickle `FLOAT` grammar.
//!
//! Each parser mirrors CPython 3.11 byte for byte: what it accepts, what it rejects and the value
//! it produces. Values that fit in an `i64` are parsed without allocating.

use num_bigint::{BigInt, BigUint, Sign};

include!("decimal_table.rs");

/// What CPython's `int(str)` and `float(str)` parse of a str's code points
/// (`_PyUnicode_TransformDecimalAndSpaceToASCII`): ASCII below DEL as is, Unicode whitespace as
/// a space, a Unicode decimal digit as the ASCII digit of its value (`int('\u0663')` is 3),
/// and anything else as `?`, which no number literal accepts.
pub(crate) fn number_text(code_points: impl Iterator<Item = u32>) -> Vec<u8> {
    code_points
        .map(|cp| {
            if cp < 0x7F {
                cp as u8
            } else if SPACES.binary_search(&cp).is_ok() {
                b' '
            } else {
                match DECIMAL_ZEROS.binary_search(&cp) {
                    Ok(_) => b'0',
                    Err(i) => i
                        .checked_sub(1)
                        .and_then(|z| DECIMAL_ZEROS.get(z))
                        .map(|&zero| cp - zero)
                        .filter(|&d| d < 10)
                        .map_or(b'?', |d| b'0' + d as u8),
                }
            }
        })
        .collect()
}

/// An integer parsed by [`parse_int`], normalized: `Wide` only when the value does not fit in
/// `i64`, `Big` only when it does not fit in `i128`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IntLit {
    /// A value in `i64::MIN..=i64::MAX`.
    Small(i64),
    /// A value outside the `i64` range that fits in `i128` (no `BigInt` is made for it).
    Wide(i128),
    /// A value outside the `i128` range.
    Big(BigInt),
}

impl IntLit {
    /// The normal form of a `BigInt`.
    fn from_big(big: BigInt) -> IntLit {
        match i128::try_from(&big) {
            Ok(v) => IntLit::from_i128(v),
            Err(_) => IntLit::Big(big),
        }
    }

    /// The normal form of an `i128`.
    fn from_i128(v: i128) -> IntLit {
        match i64::try_from(v) {
            Ok(v) => IntLit::Small(v),
            Err(_) => IntLit::Wide(v),
        }
    }
}

/// Why [`parse_int`] rejected its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntError {
    /// Not an integer literal in the base; CPython raises `ValueError` with the message
    /// [`format_int_error`] builds.
    Invalid,
    /// The literal has more digits than allowed (CPython's `sys.int_max_str_digits` check, only
    /// made for bases that are not a power of two). CPython's message is `Exceeds the limit
    /// ({max_digits} digits) for integer string conversion: value has {digits} digits; use
    /// sys.set_int_max_str_digits() to increase the limit`.
    TooManyDigits {
        /// How many digits the literal has (underscores not counted).
        digits: usize,
    },
}

/// Why [`parse_float_strict`] or [`parse_float_py`] rejected its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatError {
    /// Not a float literal; CPython raises `ValueError: could not convert string to float`.
    Invalid,
    /// A finite literal too large for a `f64`; CPython's `FLOAT` opcode raises `OverflowError:
    /// value too large to convert to float`.
    Overflow,
}

/// Marks a byte that is not a digit in any base, in [`DIGIT_VALUE`].
const NOT_DIGIT: u8 = 37;

/// The value of each byte as a digit (`0-9`, then `a-z`/`A-Z` as 10..=35), or [`NOT_DIGIT`].
static DIGIT_VALUE: [u8; 256] = digit_table();

/// Builds [`DIGIT_VALUE`].
const fn digit_table() -> [u8; 256] {
    let mut t = [NOT_DIGIT; 256];
    let mut i = 0u8;
    while i < 10 {
        t[(b'0' + i) as usize] = i;
        i += 1;
    }
    let mut i = 0u8;
    while i < 26 {
        t[(b'a' + i) as usize] = 10 + i;
        t[(b'A' + i) as usize] = 10 + i;
        i += 1;
    }
    t
}

/// The digit value of `b` (case-insensitive letters), [`NOT_DIGIT`] when it is none.
#[inline]
fn digit_value(b: u8) -> u32 {
    u32::from(
        DIGIT_VALUE
            .get(usize::from(b))
            .copied()
            .unwrap_or(NOT_DIGIT),
    )
}

/// Whether `b` is whitespace for CPython's `Py_ISSPACE`: space, `\t`, `\n`, `\x0b`, `\x0c`, `\r`.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// Parses an integer exactly as Python 3.11's `int(s, base)` does for a `bytes` object `s`.
///
/// `base` is 0 (take the base from the prefix, as in Python source) or `2..=36`; any other base
/// gives [`IntError::Invalid`] (CPython raises a different `ValueError` for it, so callers should
/// check the base first). `max_digits` is `sys.int_max_str_digits`: a literal in a base that is
/// not a power of two with more digits than that gives [`IntError::TooManyDigits`]; 0 means no
/// limit. CPython's default limit is 4300.
///
/// Accepted: surrounding ASCII whitespace, a sign, a `0x`/`0o`/`0b` prefix (any case) for base 0
/// or the matching base, single underscores between digits and right after a prefix. With base 0
/// a decimal literal may not start with `0` unless it is zero (`00` is valid, `010` is not).
///
/// The scan is O(n) and values that fit in `i64` do not allocate.
pub(crate) fn parse_int(s: &[u8], base: u32, max_digits: usize) -> Result<IntLit, IntError> {
    if base == 1 || base > 36 {
        return Err(IntError::Invalid);
    }
    if base == 0 || base == 10 {
        if let Some(lit) = plain_decimal(s, base, max_digits) {
            return Ok(lit);
        }
    }
    let mut rest = trim_start_space(s);
    let mut negative = false;
    if let Some((&c @ (b'-' | b'+'), tail)) = rest.split_first() {
        negative = c == b'-';
        rest = tail;
    }
    let first = rest.first().copied();
    // Lower-cased second byte: only 'X', 'O', 'B' map onto 'x', 'o', 'b'.
    let second = rest.get(1).map(|&c| c | 0x20);
    let mut base = base;
    let mut error_if_nonzero = false;
    if base == 0 {
        base = if first != Some(b'0') {
            10
        } else {
            match second {
                Some(b'x') => 16,
                Some(b'o') => 8,
                Some(b'b') => 2,
                _ => {
                    // An old C-style octal literal: only valid when it is zero.
                    error_if_nonzero = true;
                    10
                }
            }
        };
    }
    if first == Some(b'0')
        && matches!(
            (base, second),
            (16, Some(b'x')) | (8, Some(b'o')) | (2, Some(b'b'))
        )
    {
        rest = rest.get(2..).unwrap_or_default();
        if let Some((b'_', tail)) = rest.split_first() {
            rest = tail;
        }
    }
    if rest.first() == Some(&b'_') {
        return Err(IntError::Invalid);
    }

    // Scan the digits, accumulating the magnitude while it fits in a u64.
    let wide_base = u64::from(base);
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let mut digits: usize = 0;
    let mut prev_underscore = false;
    let mut end = rest.len();
    for (k, &c) in rest.iter().enumerate() {
        let d = digit_value(c);
        if d < base {
            digits += 1;
            prev_underscore = false;
            if !overflow {
                match magnitude
                    .checked_mul(wide_base)
                    .and_then(|m| m.checked_add(u64::from(d)))
                {
                    Some(m) => magnitude = m,
                    None => overflow = true,
                }
            }
        } else if c == b'_' {
            if prev_underscore {
                return Err(IntError::Invalid);
            }
            prev_underscore = true;
        } else {
            end = k;
            break;
        }
    }
    if prev_underscore {
        return Err(IntError::Invalid);
    }
    if !base.is_power_of_two() && max_digits > 0 && digits > max_digits {
        return Err(IntError::TooManyDigits { digits });
    }
    if digits == 0 || (error_if_nonzero && (overflow || magnitude != 0)) {
        return Err(IntError::Invalid);
    }
    let (body, tail) = rest.split_at_checked(end).unwrap_or((rest, &[]));
    if !tail.iter().all(|&c| is_space(c)) {
        return Err(IntError::Invalid);
    }

    if !overflow {
        let magnitude = i128::from(magnitude);
        return Ok(IntLit::from_i128(if negative {
            -magnitude
        } else {
            magnitude
        }));
    }
    let digit_values: Vec<u8> = body
        .iter()
        .filter(|&&c| c != b'_')
        .map(|&c| DIGIT_VALUE.get(usize::from(c)).copied().unwrap_or(0))
        .collect();
    let mag = BigUint::from_radix_be(&digit_values, base).ok_or(IntError::Invalid)?;
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    Ok(IntLit::from_big(BigInt::from_biguint(sign, mag)))
}

/// [`parse_int`] of the usual literal in base 10 or 0: an optional sign and at most 38 decimal
/// digits, nothing else (what `INT` and `LONG` hold), read in one tight loop; `None` for
/// anything else (whitespace, underscores, prefixes, a leading zero in base 0, more digits),
/// which the general parser then reads.
#[inline]
fn plain_decimal(s: &[u8], base: u32, max_digits: usize) -> Option<IntLit> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let n = digits.len();
    if n == 0 || n > 38 || (max_digits > 0 && n > max_digits) {
        return None;
    }
    if base == 0 && n > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    // Up to 19 digits fit in a u64, up to 38 in an i128.
    let magnitude: i128 = if n <= 19 {
        let mut m = 0u64;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            m = m * 10 + u64::from(d);
        }
        i128::from(m)
    } else {
        let mut m = 0i128;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            m = m * 10 + i128::from(d);
        }
        m
    };
    Some(IntLit::from_i128(if negative {
        -magnitude
    } else {
        magnitude
    }))
}

/// `s` without its leading ASCII whitespace.
#[inline]
fn trim_start_space(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| is_space(c)).count();
    s.get(n..).unwrap_or_default()
}

/// The base `int(s, 0)` deduces from the prefix of `s` (after whitespace and a sign): 16, 8 or
/// 2 for `0x`, `0o`, `0b` (any case), else 10 — the base CPython's `PyLong_FromString` reports
/// when `s` then fails to parse.
pub(crate) fn deduced_base(s: &[u8]) -> u32 {
    let rest = trim_start_space(s);
    let rest = match rest {
        [b'+' | b'-', tail @ ..] => tail,
        _ => rest,
    };
    match rest {
        [b'0', b'x' | b'X', ..] => 16,
        [b'0', b'o' | b'O', ..] => 8,
        [b'0', b'b' | b'B', ..] => 2,
        _ => 10,
    }
}

/// `s` without its leading and trailing ASCII whitespace.
#[inline]
fn trim_space(s: &[u8]) -> &[u8] {
    let s = trim_start_space(s);
    let n = s.iter().rev().take_while(|&&c| is_space(c)).count();
    s.get(..s.len() - n).unwrap_or_default()
}

/// CPython's message for [`IntError::Invalid`] when `int(s, base)` is given the `bytes` `s`.
///
/// `invalid literal for int() with base 0: b'010\n'`: as in CPython, the repr is of the first
/// 200 bytes and is itself cut to 200 characters.
pub(crate) fn format_int_error(s: &[u8], base: u32) -> String {
    let head = s.get(..200).unwrap_or(s);
    let mut repr = String::with_capacity(head.len() + 3);
    // Writing into a String cannot fail.
    let _ = crate::repr::write_bytes_repr(&mut repr, "b", head);
    let repr = repr.get(..200).unwrap_or(&repr);
    format!("invalid literal for int() with base {base}: {repr}")
}

/// Parses the text of a protocol-0 `FLOAT` opcode exactly as CPython's `load_float` does.
///
/// `s` is the line without its `\n`. CPython parses the longest prefix of the line that
/// `PyOS_string_to_double` accepts: an optional sign, then `nan`, `inf` or `infinity` (any case),
/// or digits with an optional `.` and fraction (`5.`, `.5`, `1.5`; not `.` alone) and an optional
/// exponent (`e`/`E`, optional sign, at least one digit; an incomplete exponent is left out of
/// the prefix). No whitespace, underscores or hex. Then:
///
/// - no such prefix: [`FloatError::Invalid`];
/// - a finite prefix too large for `f64`: [`FloatError::Overflow`], whatever follows it;
/// - anything after the prefix other than a NUL byte and what follows it (CPython reads the
///   line as a C string): [`FloatError::Invalid`];
/// - otherwise the correctly rounded value (tiny values become subnormals or zero; `nan` keeps
///   its sign: `-nan` has the bits `0xfff8000000000000`).
pub(crate) fn parse_float_strict(s: &[u8]) -> Result<f64, FloatError> {
    if let Some(value) = plain_decimal_float(s) {
        return Ok(value);
    }
    // A longer literal (`repr` writes 17 digits), perhaps with an exponent: when Rust's parser,
    // which rounds correctly, takes the whole line to a finite value, that is the longest
    // prefix CPython's parser takes, and its value.
    if s.len() <= 64
        && s.iter()
            .all(|&c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        let value = std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<f64>().ok());
        if let Some(value) = value.filter(|v| v.is_finite()) {
            return Ok(value);
        }
    }
    parse_float_prefixed(s)
}

/// [`parse_float_strict`] by the longest accepted prefix (the general path).
fn parse_float_prefixed(s: &[u8]) -> Result<f64, FloatError> {
    let (value, used, overflow) = parse_float_prefix(s).ok_or(FloatError::Invalid)?;
    if overflow {
        return Err(FloatError::Overflow);
    }
    match s.get(used..) {
        Some([] | [0, ..]) => Ok(value),
        _ => Err(FloatError::Invalid),
    }
}

/// Parses a float as Python's `float(s)` does for the `bytes` (or ASCII `str`) `s`.
///
/// The grammar of [`parse_float_strict`], matching the whole input, plus surrounding ASCII
/// whitespace and single underscores between digits (`1_000.5`, `1e1_0`); a literal too large
/// for `f64` gives an infinity, not an error.
pub(crate) fn parse_float_py(s: &[u8]) -> Result<f64, FloatError> {
    let s = trim_space(s);
    if !s.contains(&b'_') {
        return parse_float_whole(s);
    }
    // Underscores are only allowed between two digits.
    let mut stripped = Vec::with_capacity(s.len());
    let mut prev = 0u8;
    for &c in s {
        if c == b'_' {
            if !prev.is_ascii_digit() {
                return Err(FloatError::Invalid);
            }
        } else {
            if prev == b'_' && !c.is_ascii_digit() {
                return Err(FloatError::Invalid);
            }
            stripped.push(c);
        }
        prev = c;
    }
    if prev == b'_' {
        return Err(FloatError::Invalid);
    }
    parse_float_whole(&stripped)
}

/// Parses `s` when all of it is a float literal; overflow gives an infinity.
#[inline]
fn parse_float_whole(s: &[u8]) -> Result<f64, FloatError> {
    match parse_float_prefix(s) {
        Some((value, used, _)) if used == s.len() => Ok(value),
        _ => Err(FloatError::Invalid),
    }
}

/// Parses the longest float literal at the start of `s`, like `_PyOS_ascii_strtod`.
///
/// Returns the value, the length of the literal and whether a finite literal overflowed (the
/// value is then an infinity), or `None` when `s` does not start with a literal.
fn parse_float_prefix(s: &[u8]) -> Option<(f64, usize, bool)> {
    let (negative, body) = match s.split_first() {
        Some((b'-', tail)) => (true, tail),
        Some((b'+', tail)) => (false, tail),
        _ => (false, s),
    };
    let sign_len = s.len() - body.len();
    let len = decimal_literal_len(body);
    if len == 0 {
        let (special, len) = special_prefix(body)?;
        let value = if negative { -special } else { special };
        return Some((value, sign_len + len, false));
    }
    let used = sign_len + len;
    // `decimal_literal_len` only takes ASCII, so this is UTF-8 that Rust's parser accepts.
    let text = std::str::from_utf8(s.get(..used)?).ok()?;
    let value: f64 = text.parse().ok()?;
    Some((value, used, value.is_infinite()))
}

/// The value of `s` when it is a short plain decimal (an optional sign, digits with an optional
/// `.` and fraction, no exponent; at most 19 digits in all, their integer below 2^53, at most 22
/// after the point): the integer of the digits and the power of ten are both exact `f64`s, so
/// one division rounds correctly (Clinger's fast path), as CPython's parser does. `None` for
/// anything else, which [`parse_float_prefix`] then reads.
#[inline]
fn plain_decimal_float(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, body) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if body.len() > 20 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut digits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in body {
        match c {
            b'0'..=b'9' if digits < 19 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
            }
            b'.' if frac.is_none() => frac = Some(digits),
            _ => return None,
        }
    }
    if digits == 0 || mantissa > 1 << 53 {
        return None;
    }
    let scale = POW10.get(frac.map_or(0, |at| digits - at))?;
    let value = mantissa as f64 / scale;
    Some(if negative { -value } else { value })
}

/// `inf`, `infinity` or `nan` (any case) at the start of `s`: the value and the length.
#[inline]
fn special_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let starts = |word: &[u8]| {
        s.get(..word.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(word))
    };
    if starts(b"infinity") {
        Some((f64::INFINITY, 8))
    } else if starts(b"inf") {
        Some((f64::INFINITY, 3))
    } else if starts(b"nan") {
        Some((f64::NAN, 3))
    } else {
        None
    }
}

/// The length of the longest `digits [. digits] [e [sign] digits]` prefix of `s` that has at
/// least one mantissa digit (0 when there is none); an exponent without digits is left out.
#[inline]
fn decimal_literal_len(s: &[u8]) -> usize {
    let int_digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut len = int_digits;
    let mut frac_digits = 0;
    if s.get(len) == Some(&b'.') {
        frac_digits = s
            .get(len + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        len += 1 + frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return 0;
    }
    if let Some(b'e' | b'E') = s.get(len) {
        let mut exp_start = len + 1;
        if let Some(b'+' | b'-') = s.get(exp_start) {
            exp_start += 1;
        }
        let exp_digits = s
            .get(exp_start..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            len = exp_start + exp_digits;
        }
    }
    len
}

/// Unit tests; every expectation was produced by CPython 3.11.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_text_reads_unicode_digits_and_spaces_as_ascii() {
        let text = |s: &str| number_text(s.chars().map(u32::from));
        assert_eq!(text("12"), b"12");
        // ARABIC-INDIC DIGIT THREE, NO-BREAK SPACE, EM SPACE, FULLWIDTH ONE, MATHEMATICAL BOLD
        // DIGIT ZERO (the first of its run), MATHEMATICAL MONOSPACE DIGIT NINE (the last).
        assert_eq!(text("\u{663}"), b"3");
        assert_eq!(text("\u{a0}1\u{2003}"), b" 1 ");
        assert_eq!(text("\u{ff11}"), b"1");
        assert_eq!(text("\u{1d7ce}\u{1d7ff}"), b"09");
        // Not digits: SUPERSCRIPT TWO (a digit, not a decimal), é, DEL, a lone surrogate.
        assert_eq!(text("\u{b2}\u{e9}\u{7f}"), b"???");
        assert_eq!(number_text([0xDC80].into_iter()), b"?");
        assert!(DECIMAL_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
        assert!(SPACES.windows(2).all(|w| w[0] < w[1]));
    }

    /// CPython's default `sys.int_max_str_digits`.
    const LIMIT: usize = 4300;

    /// Shorthand for a small result.
    fn small(s: &[u8], base: u32) -> Result<IntLit, IntError> {
        parse_int(s, base, LIMIT)
    }

    /// Parses a decimal big integer for the expectations.
    fn big(s: &str) -> IntLit {
        IntLit::from_big(s.parse().unwrap())
    }

    /// `parse_int` agrees with `int(b, base)` on syntax edge cases.
    #[test]
    fn int_cases_match_cpython() {
        use IntLit::Small;
        let inv = Err(IntError::Invalid);
        // (input, base, expected) with expectations from python3.11 `int(b, base)`.
        let cases: &[(&[u8], u32, Result<IntLit, IntError>)] = &[
            (b"010", 0, inv.clone()),
            (b"010", 10, Ok(Small(10))),
            (b"00", 0, Ok(Small(0))),
            (b"0_0", 0, Ok(Small(0))),
            (b"0_7", 0, inv.clone()),
            (b"0", 0, Ok(Small(0))),
            (b"-0", 0, Ok(Small(0))),
            (b"+0", 0, Ok(Small(0))),
            (b"0x_1f", 0, Ok(Small(31))),
            (b"0x__1f", 0, inv.clone()),
            (b"0X1F", 0, Ok(Small(31))),
            (b"0x1f", 16, Ok(Small(31))),
            (b"0x1f", 10, inv.clone()),
            (b"0b1", 16, Ok(Small(177))),
            (b"0b101", 0, Ok(Small(5))),
            (b"0B_1", 2, Ok(Small(1))),
            (b"0o17", 0, Ok(Small(15))),
            (b"0o17", 8, Ok(Small(15))),
            (b"0o8", 0, inv.clone()),
            (b"0x", 0, inv.clone()),
            (b"0x", 16, inv.clone()),
            (b"0x_", 0, inv.clone()),
            (b" 12 ", 0, Ok(Small(12))),
            (b"\t\n\x0b\x0c\r 12\r\n", 10, Ok(Small(12))),
            (b"\x1c12", 10, inv.clone()),
            (b"12\x00", 10, inv.clone()),
            (b"1_000", 0, Ok(Small(1000))),
            (b"1__0", 0, inv.clone()),
            (b"_1", 0, inv.clone()),
            (b"1_", 0, inv.clone()),
            (b"- 1", 0, inv.clone()),
            (b"--1", 0, inv.clone()),
            (b"", 0, inv.clone()),
            (b"   ", 10, inv.clone()),
            (b"+", 10, inv.clone()),
            (b"1 2", 10, inv.clone()),
            (b"-12", 10, Ok(Small(-12))),
            (b"zz", 36, Ok(Small(1295))),
            (b"ZZ", 36, Ok(Small(1295))),
            (b"12", 2, inv.clone()),
            (b"777", 7, inv.clone()),
            (b"666", 7, Ok(Small(342))),
            (b"9223372036854775807", 10, Ok(Small(i64::MAX))),
            (b"-9223372036854775808", 10, Ok(Small(i64::MIN))),
            (b"9223372036854775808", 10, Ok(big("9223372036854775808"))),
            (b"-9223372036854775809", 10, Ok(big("-9223372036854775809"))),
            (b"18446744073709551615", 0, Ok(big("18446744073709551615"))),
            (
                b"-18446744073709551616",
                0,
                Ok(big("-18446744073709551616")),
            ),
            (b"99999999999999999999", 0, Ok(big("99999999999999999999"))),
            (
                b"0xffff_ffff_ffff_ffff_ffff",
                0,
                Ok(big("1208925819614629174706175")),
            ),
            (
                b" -0b1_0000000000000000000000000000000000000000000000000000000000000000 ",
                0,
                Ok(big("-18446744073709551616")),
            ),
            (
                b"1000000000000000000000000000000000000000",
                0,
                Ok(big("1000000000000000000000000000000000000000")),
            ),
            (b"0100000000000000000000000000000000000000", 0, inv.clone()),
            (b"0000000000000000000000000000000000000000", 0, Ok(Small(0))),
            (b"1", 1, inv.clone()),
            (b"1", 37, inv.clone()),
        ];
        for (s, base, want) in cases {
            assert_eq!(
                &small(s, *base),
                want,
                "int({:?}, {base})",
                s.escape_ascii().to_string()
            );
        }
    }

    /// Plain decimal literals (the fast path) give what `BigInt`'s own parser gives, in the
    /// normal form, at every length around the `u64` and `i128` edges, with either sign and
    /// base 0's rule on leading zeros.
    #[test]
    fn plain_decimals_match_bigint() {
        let mut next = crate::testing::xorshift(0x853c_49e6_748f_ea9b_u64);
        for n in 1..=45usize {
            for round in 0..300 {
                let mut digits: Vec<u8> = (0..n).map(|_| b'0' + (next() % 10) as u8).collect();
                match round % 4 {
                    0 => digits.fill(b'9'),
                    1 if n > 1 => digits[0] = b'0',
                    _ => {}
                }
                for sign in ["", "-", "+"] {
                    let text = [sign.as_bytes(), &digits].concat();
                    let value: BigInt = std::str::from_utf8(&text).unwrap().parse().unwrap();
                    let want = IntLit::from_big(value);
                    assert_eq!(small(&text, 10), Ok(want.clone()), "{text:?}");
                    let leading_zero = n > 1 && digits[0] == b'0';
                    let want0 = if leading_zero && digits.iter().any(|&d| d != b'0') {
                        Err(IntError::Invalid)
                    } else {
                        Ok(want)
                    };
                    assert_eq!(small(&text, 0), want0, "{text:?}");
                }
            }
        }
        for (text, want) in [
            (
                &b"170141183460469231731687303715884105727"[..],
                "170141183460469231731687303715884105727",
            ),
            (
                b"-170141183460469231731687303715884105728",
                "-170141183460469231731687303715884105728",
            ),
            (
                b"99999999999999999999999999999999999999",
                "99999999999999999999999999999999999999",
            ),
        ] {
            assert_eq!(small(text, 0), Ok(big(want)));
        }
        assert!(matches!(
            small(b"170141183460469231731687303715884105728", 0),
            Ok(IntLit::Big(_))
        ));
        assert_eq!(
            small(b"-9223372036854775809", 0),
            Ok(IntLit::Wide(-9223372036854775809))
        );
        // The digit limit still applies.
        assert_eq!(
            parse_int(b"123456", 10, 5),
            Err(IntError::TooManyDigits { digits: 6 })
        );
    }

    /// The fast path of short plain decimals gives the correctly rounded value (Rust's parser,
    /// which rounds correctly as CPython's does) bit for bit, signs and zeros included, and
    /// leaves everything else to the general parser.
    #[test]
    fn plain_decimal_floats_round_correctly() {
        let mut next = crate::testing::xorshift(0xda94_2042_e4dd_58b5_u64);
        let mut fast = 0;
        for _ in 0..200_000 {
            let n = 1 + (next() % 24) as usize;
            let mut text: Vec<u8> = (0..n).map(|_| b'0' + (next() % 10) as u8).collect();
            if next() % 4 != 0 {
                let at = (next() % (n as u64 + 1)) as usize;
                text.insert(at, b'.');
            }
            match next() % 3 {
                0 => text.insert(0, b'-'),
                1 => text.insert(0, b'+'),
                _ => {}
            }
            let want: f64 = std::str::from_utf8(&text)
                .unwrap()
                .parse()
                .unwrap_or(f64::NAN);
            if let Some(v) = plain_decimal_float(&text) {
                fast += 1;
                assert_eq!(
                    v.to_bits(),
                    want.to_bits(),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
            if want.is_finite() {
                assert_eq!(
                    parse_float_strict(&text).map(f64::to_bits),
                    Ok(want.to_bits())
                );
            }
        }
        assert!(fast > 50_000, "{fast}");
        for text in [
            &b"."[..],
            b"-",
            b"",
            b"1e5",
            b"1.5.2",
            b"12345678901234567890",
            b"1_0",
            b" 1",
        ] {
            assert_eq!(plain_decimal_float(text), None, "{text:?}");
        }
        assert_eq!(
            plain_decimal_float(b"-0.0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(plain_decimal_float(b"5."), Some(5.0));
        assert_eq!(plain_decimal_float(b".5"), Some(0.5));
    }

    /// Lines of digits, points, exponent marks and signs give the same result, error or
    /// value bit for bit, on the fast paths as on the general one (the longest prefix).
    #[test]
    fn float_fast_paths_agree_with_the_prefix_parser() {
        let mut next = crate::testing::xorshift(0x1d8e_4e27_c47d_124f_u64);
        let alphabet = b"0123456789012345678901234567890123456789..eE+-";
        for _ in 0..300_000 {
            let n = 1 + (next() % 30) as usize;
            let text: Vec<u8> = (0..n)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let fast = parse_float_strict(&text).map(f64::to_bits);
            let slow = parse_float_prefixed(&text).map(f64::to_bits);
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(&text));
        }
        for text in [
            &b"1e400"[..],
            b"-1e400",
            b"1e-400",
            b"55.646010004866156",
            b"6.11849071059343e+51",
        ] {
            assert_eq!(
                parse_float_strict(text).map(f64::to_bits),
                parse_float_prefixed(text).map(f64::to_bits)
            );
        }
        assert_eq!(parse_float_strict(b"1e400"), Err(FloatError::Overflow));
    }

    /// The `sys.int_max_str_digits` check fires where CPython's does.
    #[test]
    fn int_digit_limit_matches_cpython() {
        // int('9' * 4300) is fine, int('9' * 4301) is not.
        let ok = vec![b'9'; 4300];
        assert!(matches!(small(&ok, 10), Ok(IntLit::Big(_))));
        let too_many = vec![b'9'; 4301];
        assert_eq!(
            small(&too_many, 10),
            Err(IntError::TooManyDigits { digits: 4301 })
        );
        // The limit is checked before trailing garbage and before the base-0 leading-zero rule.
        let mut garbage = too_many.clone();
        garbage.push(b'x');
        assert_eq!(
            small(&garbage, 0),
            Err(IntError::TooManyDigits { digits: 4301 })
        );
        let mut zero = vec![b'0'];
        zero.extend_from_slice(&too_many);
        assert_eq!(
            small(&zero, 0),
            Err(IntError::TooManyDigits { digits: 4302 })
        );
        // ...but after the underscore checks.
        let mut underscores = too_many.clone();
        underscores.extend_from_slice(b"__1");
        assert_eq!(small(&underscores, 0), Err(IntError::Invalid));
        // Underscores do not count as digits.
        let spaced: Vec<u8> = std::iter::repeat_n(*b"9_", 4300)
            .flatten()
            .chain([b'9'])
            .collect();
        assert_eq!(
            small(&spaced, 10),
            Err(IntError::TooManyDigits { digits: 4301 })
        );
        // Powers of two are not limited: int('f' * 5000, 16) is fine.
        let hex = vec![b'f'; 5000];
        match small(&hex, 16) {
            Ok(IntLit::Big(v)) => assert_eq!(v.bits(), 20000),
            other => panic!("unexpected {other:?}"),
        }
        // 0 disables the limit.
        assert!(matches!(parse_int(&too_many, 10, 0), Ok(IntLit::Big(_))));
    }

    /// Values past `u64` go through `BigInt` with the right digits.
    #[test]
    fn int_big_values_match_cpython() {
        // python3 -c "print(int(b'1234567890' * 5, 7 + 4))" etc.
        assert_eq!(
            small(&b"1234567890".repeat(5), 11),
            Ok(big("1291299376698130368882033332280961625041451964553475"))
        );
        assert_eq!(
            small(b"-zyxwvutsrqponmlkjihgfedcba", 36),
            Ok(big("-29074372416495806994432084371034134882710"))
        );
    }

    /// `format_int_error` reproduces CPython's message, truncation included.
    #[test]
    fn int_error_messages_match_cpython() {
        assert_eq!(
            format_int_error(b"010\n", 0),
            "invalid literal for int() with base 0: b'010\\n'"
        );
        assert_eq!(
            format_int_error(b"it's", 10),
            "invalid literal for int() with base 10: b\"it's\""
        );
        assert_eq!(
            format_int_error(b"12\x00", 16),
            "invalid literal for int() with base 16: b'12\\x00'"
        );
        // The repr is cut to 200 characters, closing quote included.
        assert_eq!(
            format_int_error(&[b'x'; 300], 0),
            format!(
                "invalid literal for int() with base 0: b'{}",
                "x".repeat(198)
            )
        );
        assert_eq!(
            format_int_error(&[0xff; 100], 36),
            format!(
                "invalid literal for int() with base 36: b'{}\\x",
                "\\xff".repeat(49)
            )
        );
    }

    /// `Ok` bits of a parse, to compare NaNs and signed zeros exactly.
    fn bits(r: Result<f64, FloatError>) -> Result<u64, FloatError> {
        r.map(f64::to_bits)
    }

    /// `parse_float_strict` agrees with the `FLOAT` opcode of `pickle.loads`.
    #[test]
    fn float_strict_matches_cpython() {
        let inv = Err(FloatError::Invalid);
        // Expectations from `pickle.loads(b"F" + s + b"\n.")` in python3.11.
        let cases: &[(&[u8], Result<u64, FloatError>)] = &[
            (b"1.5", Ok(1.5f64.to_bits())),
            (b"-1.5", Ok((-1.5f64).to_bits())),
            (b"+1.5", Ok(1.5f64.to_bits())),
            (b"5.", Ok(5.0f64.to_bits())),
            (b".5", Ok(0.5f64.to_bits())),
            (b"1.e5", Ok(100000.0f64.to_bits())),
            (b"1E+5", Ok(100000.0f64.to_bits())),
            (b"1e-5", Ok(1e-5f64.to_bits())),
            (b"0.1", Ok(0.1f64.to_bits())),
            (b"-0", Ok((-0.0f64).to_bits())),
            (b"-0.0e0", Ok((-0.0f64).to_bits())),
            (b"007", Ok(7.0f64.to_bits())),
            (b"nan", Ok(0x7ff8000000000000)),
            (b"NaN", Ok(0x7ff8000000000000)),
            (b"-nan", Ok(0xfff8000000000000)),
            (b"+nan", Ok(0x7ff8000000000000)),
            (b"inf", Ok(f64::INFINITY.to_bits())),
            (b"-Infinity", Ok(f64::NEG_INFINITY.to_bits())),
            (b"iNfInItY", Ok(f64::INFINITY.to_bits())),
            (b"1e308", Ok(1e308f64.to_bits())),
            (b"1.7976931348623157e308", Ok(f64::MAX.to_bits())),
            (b"1.7976931348623158e308", Ok(f64::MAX.to_bits())),
            (b"1.7976931348623159e308", Err(FloatError::Overflow)),
            (b"1e999", Err(FloatError::Overflow)),
            (b"-1e999", Err(FloatError::Overflow)),
            (b"1e99999999999999999999", Err(FloatError::Overflow)),
            (b"0e99999999999999999999", Ok(0)),
            (b"1e-99999999999999999", Ok(0)),
            (b"-1e-400", Ok((-0.0f64).to_bits())),
            (b"5e-324", Ok(1)),
            (b"2e-324", Ok(0)),
            (b"3e-324", Ok(1)),
            (b"2.2250738585072011e-308", Ok(0x000fffffffffffff)),
            (b".", inv),
            (b"", inv),
            (b"-", inv),
            (b"e5", inv),
            (b".e5", inv),
            (b"1e", inv),
            (b"1e+", inv),
            (b"1.5 ", inv),
            (b" 1.5", inv),
            (b"1_0", inv),
            (b"0x1", inv),
            (b"infinit", inv),
            (b"infinityy", inv),
            (b"nan(1)", inv),
            (b"in", inv),
            (b"--1", inv),
            (b"1..5", inv),
            (b"1.5\x00", Ok(1.5f64.to_bits())),
            (b"1.5\x00abc", Ok(1.5f64.to_bits())),
            (b"inf\x00x", Ok(f64::INFINITY.to_bits())),
            (b"\x001", inv),
            (b"1e999x", Err(FloatError::Overflow)),
            (b"1e+5x", inv),
            (b"1,5", inv),
        ];
        for (s, want) in cases {
            assert_eq!(
                &bits(parse_float_strict(s)),
                want,
                "FLOAT {:?}",
                s.escape_ascii().to_string()
            );
        }
    }

    /// `parse_float_py` agrees with `float(b)`.
    #[test]
    fn float_py_matches_cpython() {
        let inv = Err(FloatError::Invalid);
        // Expectations from python3.11 `float(b)`.
        let cases: &[(&[u8], Result<u64, FloatError>)] = &[
            (b" 1.5 ", Ok(1.5f64.to_bits())),
            (b"\t\n\x0b\x0c\r-2\r\n", Ok((-2.0f64).to_bits())),
            (b" 1_0.5_5e1_0 ", Ok(105500000000.0f64.to_bits())),
            (b"1_000", Ok(1000.0f64.to_bits())),
            (b"1__000", inv),
            (b"_1", inv),
            (b"1_", inv),
            (b"1_.5", inv),
            (b"1._5", inv),
            (b"1_e5", inv),
            (b"1e_5", inv),
            (b"-_1", inv),
            (b" _1", inv),
            (b"1_ ", inv),
            (b"1e999", Ok(f64::INFINITY.to_bits())),
            (b"-1e999", Ok(f64::NEG_INFINITY.to_bits())),
            (b"  -iNfInItY\n", Ok(f64::NEG_INFINITY.to_bits())),
            (b" -nan ", Ok(0xfff8000000000000)),
            (b"", inv),
            (b"   ", inv),
            (b"1 5", inv),
            (b"\x1c1", inv),
            (b"1\x00", inv),
            (b".", inv),
            (b"0x10", inv),
        ];
        for (s, want) in cases {
            assert_eq!(
                &bits(parse_float_py(s)),
                want,
                "float({:?})",
                s.escape_ascii().to_string()
            );
        }
    }
}
