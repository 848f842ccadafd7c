//! Python's `repr()` of scalars: `float`, `complex`, `str` and `bytes`, as CPython 3.11 writes it.

use std::fmt::{self, Write};

use crate::pystr::PyStr;

include!("printable_table.rs");

/// Lowercase hexadecimal digits, as CPython's `Py_hexdigits`.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A fixed-size, stack-allocated text buffer; writes past its capacity fail with `fmt::Error`.
struct StackBuf<const N: usize> {
    /// The bytes written so far, then zeros.
    buf: [u8; N],
    /// How many bytes of `buf` are written.
    len: usize,
}

impl<const N: usize> StackBuf<N> {
    /// An empty buffer.
    #[inline]
    fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends bytes (always ASCII here).
    #[inline]
    fn push_bytes(&mut self, s: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s);
        self.len = end;
        Ok(())
    }

    /// Appends one byte.
    #[inline]
    fn push(&mut self, b: u8) -> fmt::Result {
        self.push_bytes(&[b])
    }

    /// The bytes written.
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Writes the contents to `out`.
    #[inline]
    fn flush_to<W: Write>(&self, out: &mut W) -> fmt::Result {
        out.write_str(std::str::from_utf8(self.bytes()).map_err(|_| fmt::Error)?)
    }
}

impl<const N: usize> Write for StackBuf<N> {
    /// Appends the text; fails when it does not fit.
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes())
    }
}

/// How [`write_float`] formats: the flags CPython passes to `PyOS_double_to_string`.
#[derive(Clone, Copy)]
struct FloatStyle {
    /// `Py_DTSF_ADD_DOT_0`: fixed notation of an integral value ends in `.0` (`float` repr).
    add_dot_0: bool,
    /// `Py_DTSF_SIGN`: non-negative values (and NaN) get a leading `+`.
    sign: bool,
}

/// Writes `repr(f)` for a Python `float`, exactly as CPython 3.11.
///
/// Shortest round-trip digits; fixed notation (always with a `.`) when the decimal exponent is
/// in `-4..16`, else scientific with a signed exponent of at least two digits: `1.0`, `0.0001`,
/// `1e+16`, `1.5e-05`, `5e-324`, `-0.0`, `nan`, `inf`, `-inf`.
pub(crate) fn write_float_repr<W: Write>(out: &mut W, f: f64) -> fmt::Result {
    write_float(
        out,
        f,
        FloatStyle {
            add_dot_0: true,
            sign: false,
        },
    )
}

/// Writes `repr(complex(re, im))`, exactly as CPython 3.11.
///
/// `1j`, `-2.5j`, `nanj` when `re` is `+0.0`; otherwise `(re±imj)`: `(1+2j)`, `(-0-0j)`,
/// `(nan+nanj)`, `(1e+20+1j)`. The parts are shortest round-trip digits without a forced `.0`.
pub(crate) fn write_complex_repr<W: Write>(out: &mut W, re: f64, im: f64) -> fmt::Result {
    let bare = FloatStyle {
        add_dot_0: false,
        sign: false,
    };
    if re.to_bits() == 0 {
        write_float(out, im, bare)?;
        return out.write_char('j');
    }
    out.write_char('(')?;
    write_float(out, re, bare)?;
    write_float(
        out,
        im,
        FloatStyle {
            add_dot_0: false,
            sign: true,
        },
    )?;
    out.write_str("j)")
}

/// Formats `f` like CPython's `PyOS_double_to_string(f, 'r', 0, flags, NULL)`.
fn write_float<W: Write>(out: &mut W, f: f64, style: FloatStyle) -> fmt::Result {
    if f.is_nan() {
        // CPython never shows the sign of a NaN, but Py_DTSF_SIGN still adds `+`.
        return out.write_str(if style.sign { "+nan" } else { "nan" });
    }
    if f.is_infinite() {
        return out.write_str(match (f < 0.0, style.sign) {
            (true, _) => "-inf",
            (false, true) => "+inf",
            (false, false) => "inf",
        });
    }

    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e-7`, `5e-324`, `0e0`.
    let mut sci = StackBuf::<32>::new();
    write!(sci, "{:e}", f.abs())?;
    let (mantissa, exponent) = split_exponent(sci.bytes()).ok_or(fmt::Error)?;
    let mut digit_buf = StackBuf::<24>::new();
    let mut value: u64 = 0;
    for &d in mantissa {
        if d != b'.' {
            digit_buf.push(d)?;
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d & 0x0f)))
                .ok_or(fmt::Error)?;
        }
    }
    let n = i32::try_from(digit_buf.bytes().len()).map_err(|_| fmt::Error)?;
    if let Some(even) = round_half_even(f.abs(), value, exponent - (n - 1)) {
        digit_buf = StackBuf::new();
        write!(digit_buf, "{even}")?;
    }
    let digits = digit_buf.bytes();

    let mut text = StackBuf::<48>::new();
    if f.is_sign_negative() {
        text.push(b'-')?;
    } else if style.sign {
        text.push(b'+')?;
    }
    // `decpt` is where the decimal point goes: value = 0.DIGITS * 10**decpt.
    let decpt = exponent + 1;
    if (-4..16).contains(&exponent) {
        if decpt <= 0 {
            text.push_bytes(b"0.")?;
            push_zeros(&mut text, -decpt)?;
            text.push_bytes(digits)?;
        } else if decpt >= n {
            text.push_bytes(digits)?;
            push_zeros(&mut text, decpt - n)?;
            if style.add_dot_0 {
                text.push_bytes(b".0")?;
            }
        } else {
            let (int_part, frac_part) = digits
                .split_at_checked(usize::try_from(decpt).map_err(|_| fmt::Error)?)
                .ok_or(fmt::Error)?;
            text.push_bytes(int_part)?;
            text.push(b'.')?;
            text.push_bytes(frac_part)?;
        }
    } else {
        let (first, rest) = digits.split_first().ok_or(fmt::Error)?;
        text.push(*first)?;
        if !rest.is_empty() {
            text.push(b'.')?;
            text.push_bytes(rest)?;
        }
        text.push_bytes(if exponent < 0 { b"e-" } else { b"e+" })?;
        let e = exponent.unsigned_abs();
        if e < 10 {
            text.push(b'0')?;
        }
        write!(text, "{e}")?;
    }
    text.flush_to(out)
}

/// Breaks a tie the way CPython does, where Rust's shortest digits may differ.
///
/// `digits * 10**exp10` is Rust's shortest round-trip representation of the positive finite `f`.
/// When `f` lies exactly halfway between it and a neighbour `digits ± 1` (same length) that
/// also round-trips, both are shortest and equally close: CPython's `dtoa` then picks the one
/// with an even last digit, Rust the one further from zero. Returns the digits to use instead,
/// or `None` to keep Rust's.
#[inline]
fn round_half_even(f: f64, digits: u64, exp10: i32) -> Option<u64> {
    if digits % 2 == 0 {
        return None;
    }
    let below = digits.checked_sub(1).filter(|&d| d > 0)?;
    if is_half_point(f, digits.checked_mul(2)?.checked_sub(1)?, exp10) {
        return round_trips(f, below, exp10).then_some(below);
    }
    let above = digits.checked_add(1).filter(|d| d % 10 != 0)?;
    if is_half_point(f, digits.checked_mul(2)?.checked_add(1)?, exp10) {
        return round_trips(f, above, exp10).then_some(above);
    }
    None
}

/// Whether the positive finite `f` equals `odd / 2 * 10**exp10` exactly (`odd` is odd).
#[inline]
fn is_half_point(f: f64, odd: u64, exp10: i32) -> bool {
    let bits = f.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = bits & ((1 << 52) - 1);
    // f = mantissa * 2**exp2
    let (mantissa, exp2) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return false;
    }
    let twos = mantissa.trailing_zeros();
    let odd_mantissa = mantissa >> twos;
    // odd / 2 * 10**exp10 = odd * 5**exp10 * 2**(exp10 - 1): the powers of two and the odd
    // parts must both match.
    let Ok(twos) = i32::try_from(twos) else {
        return false;
    };
    if exp2.checked_add(twos) != exp10.checked_sub(1) {
        return false;
    }
    let Some(fives) = 5u64.checked_pow(exp10.unsigned_abs()) else {
        return false;
    };
    if exp10 >= 0 {
        odd.checked_mul(fives) == Some(odd_mantissa)
    } else {
        odd_mantissa.checked_mul(fives) == Some(odd)
    }
}

/// Whether `digits * 10**exp10` parses back to exactly `f`.
#[cold]
fn round_trips(f: f64, digits: u64, exp10: i32) -> bool {
    let mut text = StackBuf::<40>::new();
    if write!(text, "{digits}e{exp10}").is_err() {
        return false;
    }
    std::str::from_utf8(text.bytes())
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(|g| g.to_bits() == f.to_bits())
}

/// Splits Rust's `{:e}` output `D[.DDD]e[-]X` into the mantissa text and the exponent.
#[inline]
fn split_exponent(sci: &[u8]) -> Option<(&[u8], i32)> {
    let e_at = sci.iter().position(|&c| c == b'e')?;
    let (mantissa, exp) = sci.split_at_checked(e_at)?;
    let exp = std::str::from_utf8(exp.get(1..)?).ok()?.parse().ok()?;
    Some((mantissa, exp))
}

/// Appends `count` zeros (none when `count <= 0`).
#[inline]
fn push_zeros<const N: usize>(buf: &mut StackBuf<N>, count: i32) -> fmt::Result {
    for _ in 0..count {
        buf.push(b'0')?;
    }
    Ok(())
}

/// The quote `repr` uses: `'` unless the text holds `'` and no `"`.
#[inline]
fn choose_quote(bytes: &[u8]) -> u8 {
    if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    }
}

/// Whether Python 3.11's `str.isprintable()` holds for the code point `cp`.
#[inline]
pub(crate) fn is_printable(cp: u32) -> bool {
    if cp < 0x80 {
        return (0x20..0x7f).contains(&cp);
    }
    let i = NON_PRINTABLE.partition_point(|&(start, _)| start <= cp);
    match i.checked_sub(1).and_then(|i| NON_PRINTABLE.get(i)) {
        Some(&(_, end)) => cp > end,
        None => true,
    }
}

/// Writes `repr(s)` for a Python `str` (what `PyStr`'s `Debug` shows), exactly as CPython 3.11.
pub(crate) fn write_str_repr(f: &mut fmt::Formatter<'_>, s: &PyStr) -> fmt::Result {
    write_str_repr_to(f, s)
}

/// Writes `repr(s)` for a Python `str`, exactly as CPython 3.11, into any writer.
///
/// Quoted with `'` unless the text holds `'` and no `"`; backslash and that quote are escaped,
/// `\t`, `\n`, `\r` are written as such, and every other character that is not printable
/// (`str.isprintable()`, Unicode 14.0.0; lone surrogates included) as `\xNN`, `\uNNNN` or
/// `\UNNNNNNNN`, lowercase.
pub(crate) fn write_str_repr_to<W: Write>(out: &mut W, s: &PyStr) -> fmt::Result {
    let quote = choose_quote(s.as_encoded_bytes());
    let quote_char = char::from(quote);
    out.write_char(quote_char)?;
    match s.as_str() {
        Some(text) => write_text_escaped(out, text, quote)?,
        None => {
            for cp in s.code_points() {
                match escape_code_point(cp, quote) {
                    Some(esc) => esc.flush_to(out)?,
                    None => out.write_char(char::from_u32(cp).ok_or(fmt::Error)?)?,
                }
            }
        }
    }
    out.write_char(quote_char)
}

/// Writes the body of a `str` repr, copying runs of characters that need no escape at once.
fn write_text_escaped<W: Write>(out: &mut W, text: &str, quote: u8) -> fmt::Result {
    let mut run_start = 0;
    for (i, c) in text.char_indices() {
        let cp = u32::from(c);
        let plain = if cp < 0x80 {
            (0x20..0x7f).contains(&cp) && cp != u32::from(quote) && c != '\\'
        } else {
            is_printable(cp)
        };
        if plain {
            continue;
        }
        out.write_str(text.get(run_start..i).ok_or(fmt::Error)?)?;
        run_start = i + c.len_utf8();
        if let Some(esc) = escape_code_point(cp, quote) {
            esc.flush_to(out)?;
        }
    }
    out.write_str(text.get(run_start..).ok_or(fmt::Error)?)
}

/// The escape `repr(str)` writes for `cp`, or `None` when the character is written as is.
#[inline]
fn escape_code_point(cp: u32, quote: u8) -> Option<StackBuf<10>> {
    let mut esc = StackBuf::<10>::new();
    let pushed = match cp {
        0x5c => esc.push_bytes(b"\\\\"),
        0x09 => esc.push_bytes(b"\\t"),
        0x0a => esc.push_bytes(b"\\n"),
        0x0d => esc.push_bytes(b"\\r"),
        _ if cp == u32::from(quote) => esc.push_bytes(&[b'\\', quote]),
        _ if is_printable(cp) => return None,
        0..=0xff => push_hex_escape(&mut esc, b'x', cp, 2),
        0x100..=0xffff => push_hex_escape(&mut esc, b'u', cp, 4),
        0x10000.. => push_hex_escape(&mut esc, b'U', cp, 8),
    };
    // A 10-byte buffer always holds the longest escape, `\UXXXXXXXX`.
    pushed.ok().map(|()| esc)
}

/// Appends `\` + `kind` + the `width` low hex digits of `v`, lowercase.
#[inline]
fn push_hex_escape<const N: usize>(
    buf: &mut StackBuf<N>,
    kind: u8,
    v: u32,
    width: u32,
) -> fmt::Result {
    buf.push(b'\\')?;
    buf.push(kind)?;
    for k in (0..width).rev() {
        let nibble = (v >> (4 * k)) & 0xf;
        buf.push(HEX.get(nibble as usize).copied().unwrap_or(b'0'))?;
    }
    Ok(())
}

/// Writes `repr(b)` for a Python `bytes`, preceded by `prefix` (normally `b`), as CPython 3.11.
///
/// Quoted with `'` unless the data holds `'` and no `"`; backslash and that quote are escaped,
/// `\t`, `\n`, `\r` are written as such, other bytes below 0x20 or from 0x7f up as `\xNN`
/// (lowercase). For a `bytearray` the caller writes `bytearray(` and `)` around it.
pub(crate) fn write_bytes_repr<W: Write>(out: &mut W, prefix: &str, b: &[u8]) -> fmt::Result {
    write_bytes_literal(out, prefix, b, false)
}

/// Writes `repr(bytearray(b))`: `bytearray(b'...')`. Unlike `bytes`, CPython's bytearray repr
/// escapes `'` even inside double quotes (`bytearray(b"\'")`).
pub(crate) fn write_bytearray_repr<W: Write>(out: &mut W, b: &[u8]) -> fmt::Result {
    out.write_str("bytearray(")?;
    write_bytes_literal(out, "b", b, true)?;
    out.write_char(')')
}

/// The bytes literal; `escape_single` escapes `'` whatever the quote (bytearray's rule).
fn write_bytes_literal<W: Write>(
    out: &mut W,
    prefix: &str,
    b: &[u8],
    escape_single: bool,
) -> fmt::Result {
    let quote = choose_quote(b);
    let quote_char = char::from(quote);
    out.write_str(prefix)?;
    out.write_char(quote_char)?;
    let mut rest = b;
    loop {
        let plain = rest
            .iter()
            .take_while(|&&c| {
                (0x20..0x7f).contains(&c)
                    && c != quote
                    && c != b'\\'
                    && !(escape_single && c == b'\'')
            })
            .count();
        let (run, tail) = rest.split_at_checked(plain).ok_or(fmt::Error)?;
        // The run is printable ASCII, so valid UTF-8.
        out.write_str(std::str::from_utf8(run).map_err(|_| fmt::Error)?)?;
        let Some((&c, tail)) = tail.split_first() else {
            break;
        };
        let mut esc = StackBuf::<4>::new();
        match c {
            b'\t' => esc.push_bytes(b"\\t")?,
            b'\n' => esc.push_bytes(b"\\n")?,
            b'\r' => esc.push_bytes(b"\\r")?,
            b'\\' => esc.push_bytes(b"\\\\")?,
            _ if c == quote || (escape_single && c == b'\'') => esc.push_bytes(&[b'\\', c])?,
            _ => push_hex_escape(&mut esc, b'x', u32::from(c), 2)?,
        }
        esc.flush_to(out)?;
        rest = tail;
    }
    out.write_char(quote_char)
}

/// Unit tests; every expectation was produced by CPython 3.11.
#[cfg(test)]
mod tests {
    use super::*;

    /// `repr(float)` of the float with these bits.
    fn float_repr(bits: u64) -> String {
        let mut s = String::new();
        write_float_repr(&mut s, f64::from_bits(bits)).unwrap();
        s
    }

    /// `repr(complex)` of the complex with these parts' bits.
    fn complex_repr(re: u64, im: u64) -> String {
        let mut s = String::new();
        write_complex_repr(&mut s, f64::from_bits(re), f64::from_bits(im)).unwrap();
        s
    }

    /// `repr(str)` of the code points.
    fn str_repr(cps: &[u32]) -> String {
        let mut b = crate::pystr::StrBuilder::default();
        for &cp in cps {
            b.push_code_point(cp);
        }
        let s = b.finish();
        let mut out = String::new();
        write_str_repr_to(&mut out, &s).unwrap();
        assert_eq!(format!("{s:?}"), out);
        out
    }

    /// `repr(bytes)`.
    fn bytes_repr(b: &[u8]) -> String {
        let mut out = String::new();
        write_bytes_repr(&mut out, "b", b).unwrap();
        out
    }

    /// `write_float_repr` agrees with `repr(float)`, ties and random values included.
    #[test]
    fn float_repr_matches_cpython() {
        for &(bits, want) in FLOAT_CASES {
            assert_eq!(float_repr(bits), want, "bits {bits:#018x}");
        }
    }

    /// `write_complex_repr` agrees with `repr(complex)`.
    #[test]
    fn complex_repr_matches_cpython() {
        for &(re, im, want) in COMPLEX_CASES {
            assert_eq!(complex_repr(re, im), want, "bits {re:#018x} {im:#018x}");
        }
    }

    /// `write_str_repr_to` (and `PyStr`'s `Debug`) agree with `repr(str)`.
    #[test]
    fn str_repr_matches_cpython() {
        for &(cps, want) in STR_CASES {
            assert_eq!(str_repr(cps), want, "code points {cps:x?}");
        }
    }

    /// `write_bytes_repr` agrees with `repr(bytes)`.
    #[test]
    fn bytes_repr_matches_cpython() {
        for &(b, want) in BYTES_CASES {
            assert_eq!(bytes_repr(b), want, "bytes {b:x?}");
        }
        let mut out = String::new();
        write_bytes_repr(&mut out, "bytearray(b", b"x").unwrap();
        assert_eq!(out, "bytearray(b'x'");
    }

    /// The generated table agrees with `str.isprintable()` and is well formed.
    #[test]
    fn printable_table_matches_cpython() {
        for &(cp, want) in PRINTABLE_CASES {
            assert_eq!(is_printable(cp), want, "U+{cp:04X}");
        }
        // The table is sorted, disjoint and within the code space.
        for pair in NON_PRINTABLE.windows(2) {
            if let [(s0, e0), (s1, e1)] = pair {
                assert!(s0 <= e0 && e0 < s1 && s1 <= e1 && *e1 <= 0x10ffff);
            }
        }
    }

    // BEGIN generated by scripts/gen_repr_cases.py (Python 3.11.7)
    /// `(float bits, repr(float))` pairs from CPython.
    const FLOAT_CASES: &[(u64, &str)] = &[
        (0x0000000000000000, "0.0"),
        (0x8000000000000000, "-0.0"),
        (0x3ff0000000000000, "1.0"),
        (0xbff0000000000000, "-1.0"),
        (0x3fb999999999999a, "0.1"),
        (0x3fe0000000000000, "0.5"),
        (0x3ff8000000000000, "1.5"),
        (0x4004000000000000, "2.5"),
        (0x4024000000000000, "10.0"),
        (0x4059000000000000, "100.0"),
        (0x430c6bf526340000, "1000000000000000.0"),
        (0x4341c37937e08000, "1e+16"),
        (0x4376345785d8a000, "1e+17"),
        (0x4480f0cf064dd592, "1e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x42dc12218377de40, "123456789012345.0"),
        (0x43118b54f22aeb00, "1234567890123456.0"),
        (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x4340000000000000, "9007199254740992.0"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3ee4f8b588e368f1, "1e-05"),
        (0x3f202e4b6ce5dc68, "0.00012345"),
        (0x3eef75104d551d69, "1.5e-05"),
        (0x3f1a36e2eb1c432c, "9.999999999999999e-05"),
        (0x3e7ad7f29abcaf48, "1e-07"),
        (0x54b249ad2594c37d, "1e+100"),
        (0x2b2bff2ee48e0530, "1e-100"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x0000000000000001, "5e-324"),
        (0x0000000000000002, "1e-323"),
        (0x0010000000000000, "2.2250738585072014e-308"),
        (0x000fffffffffffff, "2.225073858507201e-308"),
        (0x3fd3333333333333, "0.3"),
        (0x3fe5555555555555, "0.6666666666666666"),
        (0x3fd5555555555555, "0.3333333333333333"),
        (0x400921fb54442d18, "3.141592653589793"),
        (0x4005bf0a8b145769, "2.718281828459045"),
        (0x405edd2f1a9fbe77, "123.456"),
        (0xc05edd2f1a9fbe77, "-123.456"),
        (0x7e6ddd4baa009303, "1e+301"),
        (0xfe6ddd4baa009303, "-1e+301"),
        (0x7ff8000000000000, "nan"),
        (0xfff8000000000000, "nan"),
        (0x4011666666666666, "4.35"),
        (0x3fd3333333333334, "0.30000000000000004"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8d, "1e-06"),
        (0x41b1de784a000000, "299792458.0"),
        (0x44dfe185ca57c517, "6.02214076e+23"),
        (0x390b860bde023111, "6.62607015e-34"),
        (0x40f0000000000000, "65536.0"),
        (0x41f0000000000000, "4294967296.0"),
        (0x43e0000000000000, "9.223372036854776e+18"),
        (0x43f0000000000000, "1.8446744073709552e+19"),
        (0x7fe0000000000000, "8.98846567431158e+307"),
        (0x3f0a36e2eb1c432d, "5e-05"),
        (0x3f50624dd2f1a9fc, "0.001"),
        (0x3f847ae147ae147b, "0.01"),
        (0x4317f256e93acc01, "1685094889599744.2"),
        (0xc2bf0dc905b07310, "-34144067629171.062"),
        (0x42e2c53c12f17494, "165106605853604.62"),
        (0x3e70000000000000, "5.960464477539063e-08"),
        (0x3e10000000000000, "9.313225746154785e-10"),
        (0x3ff0000000000001, "1.0000000000000002"),
        (0x4330000000000002, "4503599627370498.0"),
        (0x3ec8000000000000, "2.86102294921875e-06"),
        (0xd1a6e55e9b9b1325, "-2.2239649050108196e+85"),
        (0x566bf9d7c55a45f8, "2.0532095845172635e+108"),
        (0xcf0c26ef4243ed52, "-6.217554322597633e+72"),
        (0x5d96cf7f265beda9, "6.953979603744903e+142"),
        (0xc1d77cffb7decc0c, "-1576271583.481204"),
        (0x5e6a0a2edd70e34d, "6.503171038669016e+146"),
        (0x0463513755ac0ecd, "1.5857673189191353e-287"),
        (0xb37523a53b4a3ee2, "-8.221863336486e-61"),
        (0x4de45321ad915a36, "1.7123553371149197e+67"),
        (0x9823beb1e6ba3ad7, "-2.1638530463091063e-192"),
        (0xdd4eabbd1fcfb980, "-2.9219572677923937e+141"),
        (0x683447c10cc8af11, "9.252761636154696e+193"),
        (0xbfb637dd5bae2d26, "-0.08678992737093391"),
        (0xaed09b824ca87fc2, "-3.419513645011445e-83"),
        (0x158d003d9a0b2361, "7.226450560613817e-205"),
        (0x1ff135342e825ce1, "8.021365036472743e-155"),
        (0x33f5f28807f0cbd4, "2.1852629101185172e-58"),
        (0x00d9f4ad53a2f2b6, "1.4784897218736648e-304"),
        (0x4cc346363c234038, "6.194509959718476e+61"),
        (0xd330a5494d14cf1a, "-5.425245977872505e+92"),
        (0x668dc8f46a423cf9, "1.0124757898277046e+186"),
        (0xd178403035c9a8c4, "-2.944446857366267e+84"),
        (0x765890e0f94855d0, "1.2086749044087354e+262"),
        (0xaf5d8bb09f2e9ea4, "-1.5573811799210805e-80"),
        (0xa9dfdec6baecde5b, "-5.42808465396562e-107"),
        (0x699f071a5fd8e665, "5.937551093150185e+200"),
        (0xf82d5644ef7d9967, "-7.749285522714588e+270"),
        (0xfdfb462fd6fad8db, "-7.134888966143026e+298"),
        (0xdb18bd763f20134c, "-6.859608543352666e+130"),
        (0x0e46c215b5fa5b0c, "6.826063143799301e-240"),
        (0xbf416c30f1f0742a, "-0.0005316962232232482"),
        (0x422acab59248b974, "57535023396.36221"),
        (0x476354b65ed08d6b, "8.02974492705291e+35"),
        (0x3a7cfb366088155f, "5.852726618138463e-27"),
        (0x37c990fad57dcafd, "5.869740909421409e-40"),
        (0x26ad41ef88c279d9, "2.2129413115836295e-122"),
        (0x6dbb8cb8ef65ed78, "3.8900364282728575e+220"),
        (0x0e0bc896afbec9a6, "5.2083625442892846e-241"),
        (0xdd63d2a5d1764460, "-7.553946583906249e+141"),
        (0xda0aea0eaa72870b, "-5.693391869688787e+125"),
        (0xbdf105ce5bd02a83, "-2.477125968003673e-10"),
        (0x45e9b4bf08cee842, "6.364507222036544e+28"),
        (0x3ed0ae12d2676a14, "3.976815867246762e-06"),
        (0xc250244cec4c2530, "-277313990960.58105"),
        (0xc2e34ec74714476b, "-169832573608507.34"),
        (0xc3e45b03683095f4, "-1.1734158797326754e+19"),
        (0x3b225335e8c91d53, "7.57905946072234e-24"),
        (0x3bce82ccb556e025, "1.2921884064828504e-20"),
        (0x3a3d280576e9c626, "3.6800466471090767e-28"),
        (0x4261531d78eb4f9d, "595271075674.4879"),
        (0xc3cd0e554c1e955e, "-4.1874093243856804e+18"),
        (0x42c498377cc385a8, "45287997015819.31"),
        (0xc08238d897c1bd87, "-583.1057582031216"),
        (0x3e0c553804afed1d, "8.24595511121649e-10"),
        (0x39e11636a803bbfd, "6.739543012081894e-30"),
        (0x3cd0376cdcd5cacd, "9.001968538379076e-16"),
        (0x3e722679e9b6172c, "6.761512809900584e-08"),
        (0x4333517b9b9234df, "5437615890379999.0"),
        (0x42cd719609615c71, "64747371414200.88"),
        (0xc3df88223fb818a7, "-9.08841467630129e+18"),
        (0xc5ec986fda8d2d03, "-7.079892171057346e+28"),
        (0x43715be4b01860d5, "7.81777979062388e+16"),
        (0xc470bf75c39c2008, "-4.943104852611071e+21"),
        (0x3cf869d044c4a61a, "5.420849142240662e-15"),
        (0xc34169b1cdd71d8e, "-9802573975272220.0"),
        (0xc196049066d5c5a7, "-92349465.7087618"),
        (0x3b5c096ba18f36d3, "9.276598486103793e-23"),
        (0xc4e5e22deef0ddc0, "-8.267357611882582e+23"),
        (0x3e43463be5b6dff6, "8.975319313163501e-09"),
        (0xbe8066a434694bb6, "-1.2219654817405235e-07"),
        (0xbd6fc64981e44acb, "-9.030872869787501e-13"),
        (0xc0163ffa9e6b67a4, "-5.56247947245166"),
        (0x41c7c4ce49fa6b69, "797547667.9564029"),
        (0x3be6a0a867eafe64, "3.8332594054503845e-20"),
        (0xc1c2d2229eb7f5a2, "-631522621.4371836"),
        (0xc5524a168537da27, "-8.844214120218517e+25"),
        (0x4580be31e69afb2c, "6.477114640930833e+26"),
        (0x3a525abe53ae51ec, "9.266637556760133e-28"),
        (0x44364991a6474b98, "4.1112957068314306e+20"),
        (0x4406540919babfc9, "5.148547113568234e+19"),
        (0x4236ac7a0c5e0000, "97382960222.0"),
        (0x4078100000000000, "385.0"),
        (0x425ab8f3f9934000, "459088586317.0"),
        (0x40b26a0000000000, "4714.0"),
        (0x4018000000000000, "6.0"),
        (0x414564aa80000000, "2804053.0"),
        (0x4154a9a6c0000000, "5416603.0"),
        (0x40ea0f6000000000, "53371.0"),
        (0x440098eced3ed6a9, "3.827091855272084e+19"),
        (0x43d1a5e37afa0b3a, "5.086690348490353e+18"),
        (0x44085474fbc7f66f, "5.6100952950220644e+19"),
        (0x43e146ad492f317e, "9.95898301480409e+18"),
        (0x41f3ecce51600000, "5348582678.0"),
        (0x43ab254504532d73, "9.780227490200109e+17"),
        (0x408c380000000000, "903.0"),
        (0x41fde83bc1400000, "8028142612.0"),
        (0x43562ba3ce32449e, "2.496172810679564e+16"),
        (0x42c7c8310a3bdd80, "52297167304635.0"),
        (0x415b1ce0c0000000, "7107459.0"),
        (0x42bab7be6f3d7800, "29376476298616.0"),
    ];

    /// `(real bits, imaginary bits, repr(complex))` from CPython.
    const COMPLEX_CASES: &[(u64, u64, &str)] = &[
        (0x0000000000000000, 0x3ff0000000000000, "1j"),
        (0x0000000000000000, 0xc004000000000000, "-2.5j"),
        (0x0000000000000000, 0x7ff0000000000000, "infj"),
        (0x0000000000000000, 0x7ff8000000000000, "nanj"),
        (0x0000000000000000, 0xfff8000000000000, "nanj"),
        (0x0000000000000000, 0x0000000000000000, "0j"),
        (0x0000000000000000, 0x8000000000000000, "-0j"),
        (0x8000000000000000, 0x0000000000000000, "(-0+0j)"),
        (0x8000000000000000, 0x8000000000000000, "(-0-0j)"),
        (0x3ff0000000000000, 0x4000000000000000, "(1+2j)"),
        (0x3ff8000000000000, 0xbfe0000000000000, "(1.5-0.5j)"),
        (0x7ff8000000000000, 0x7ff8000000000000, "(nan+nanj)"),
        (0x7ff0000000000000, 0xfff0000000000000, "(inf-infj)"),
        (0x4415af1d78b58c40, 0x3ff0000000000000, "(1e+20+1j)"),
        (0x3ff0000000000000, 0x7ff8000000000000, "(1+nanj)"),
        (0x3ff0000000000000, 0xfff8000000000000, "(1+nanj)"),
        (0xfff8000000000000, 0x3ff0000000000000, "(nan+1j)"),
        (0x4341c37937e08000, 0x3ee4f8b588e368f1, "(1e+16+1e-05j)"),
        (0x3fb999999999999a, 0x3fc999999999999a, "(0.1+0.2j)"),
        (0xbff0000000000000, 0x0000000000000000, "(-1+0j)"),
        (
            0x42dc12218377de40,
            0x430c6bf526340000,
            "(123456789012345+1000000000000000j)",
        ),
        (0x3ee4f8b588e368f1, 0xbf1a36e2eb1c432d, "(1e-05-0.0001j)"),
        (
            0x0000000000000001,
            0x7fefffffffffffff,
            "(5e-324+1.7976931348623157e+308j)",
        ),
        (0xfff0000000000000, 0x7ff0000000000000, "(-inf+infj)"),
        (0x0000000000000000, 0x4341c37937e08000, "1e+16j"),
        (0x0000000000000000, 0x3ee4f8b588e368f1, "1e-05j"),
        (0x4000000000000000, 0x7e6ddd4baa009303, "(2+1e+301j)"),
        (0x7ff8000000000000, 0x8000000000000000, "(nan-0j)"),
        (
            0x0000000000000000,
            0x4317f256e93acc01,
            "1685094889599744.2j",
        ),
        (
            0xc2bf0dc905b07310,
            0x3ff0000000000000,
            "(-34144067629171.062+1j)",
        ),
        (
            0xc11ef6aeb6a07fe9,
            0xbeaa70f4bfdbf4e4,
            "(-507307.6783466326-7.88010197288723e-07j)",
        ),
        (
            0x412d2f7e5534d62e,
            0x3ea33c92e288f830,
            "(956351.1664187366+5.732958401961189e-07j)",
        ),
        (
            0xc12656672a936315,
            0x3e8ac909dbee5408,
            "(-731955.5831557239+1.9956608629233306e-07j)",
        ),
        (
            0x412a5b3d8345b996,
            0xbea1a0ae4ef960ac,
            "(863646.7563913341-5.253451984084225e-07j)",
        ),
        (
            0xc0f66fe41c6e5700,
            0xbe83b5f686ccb674,
            "(-91902.25694116578-1.468568514793751e-07j)",
        ),
        (
            0xc12d2b59c20a98ca,
            0xbead6dfbf1663378,
            "(-955820.8789870974-8.77071189718533e-07j)",
        ),
        (
            0x411ac13a75e59388,
            0x3e8f467fccaf7198,
            "(438350.61513357656+2.3301979576354584e-07j)",
        ),
        (
            0x40f7640cd486c380,
            0xbeaa56d4e97d8c22,
            "(95808.80188633315-7.849689209578861e-07j)",
        ),
    ];

    /// `(code points, repr(str))` pairs from CPython.
    const STR_CASES: &[(&[u32], &str)] = &[
        (&[], "''"),
        (&[0x61], "'a'"),
        (&[0x61, 0x62, 0x63], "'abc'"),
        (&[0x27], "\"'\""),
        (&[0x22], "'\"'"),
        (&[0x27, 0x22], "'\\'\"'"),
        (&[0x69, 0x74, 0x27, 0x73], "\"it's\""),
        (
            &[0x73, 0x61, 0x79, 0x20, 0x22, 0x68, 0x69, 0x22],
            "'say \"hi\"'",
        ),
        (
            &[0x69, 0x74, 0x27, 0x73, 0x20, 0x22, 0x78, 0x22],
            "'it\\'s \"x\"'",
        ),
        (&[0x5c], "'\\\\'"),
        (&[0x61, 0x5c, 0x62, 0x27, 0x63], "\"a\\\\b'c\""),
        (&[0x9, 0xa, 0xd], "'\\t\\n\\r'"),
        (&[0x0, 0x1, 0x1f], "'\\x00\\x01\\x1f'"),
        (&[0x7f], "'\\x7f'"),
        (&[0x80], "'\\x80'"),
        (&[0x9f], "'\\x9f'"),
        (&[0xa0], "'\\xa0'"),
        (&[0xa1], "'¡'"),
        (&[0xad], "'\\xad'"),
        (&[0xff], "'ÿ'"),
        (&[0x63, 0x61, 0x66, 0xe9], "'café'"),
        (&[0x100], "'Ā'"),
        (&[0x2028], "'\\u2028'"),
        (&[0x2029], "'\\u2029'"),
        (&[0x200b], "'\\u200b'"),
        (&[0xfeff], "'\\ufeff'"),
        (&[0xfffd], "'�'"),
        (&[0xffff], "'\\uffff'"),
        (&[0x378], "'\\u0378'"),
        (&[0x3000], "'\\u3000'"),
        (&[0xa0, 0x78, 0xa0], "'\\xa0x\\xa0'"),
        (&[0x4e2d, 0x6587], "'中文'"),
        (&[0x1f600], "'😀'"),
        (&[0x1f468, 0x200d, 0x1f469], "'👨\\u200d👩'"),
        (&[0xd800], "'\\ud800'"),
        (&[0xdfff], "'\\udfff'"),
        (&[0x61, 0xd83d, 0xde00, 0x62], "'a\\ud83d\\ude00b'"),
        (&[0xe0001], "'\\U000e0001'"),
        (&[0xe0020], "'\\U000e0020'"),
        (&[0x10ffff], "'\\U0010ffff'"),
        (&[0xf0000], "'\\U000f0000'"),
        (&[0x1fffe], "'\\U0001fffe'"),
        (&[0x30000], "'𰀀'"),
        (&[0x2a6df], "'𪛟'"),
        (&[0x2a6e0], "'\\U0002a6e0'"),
        (&[0xe3a], "'ฺ'"),
        (&[0x1680], "'\\u1680'"),
        (&[0x180e], "'\\u180e'"),
        (&[0x600], "'\\u0600'"),
        (&[0x61c], "'\\u061c'"),
        (&[0x1d173], "'\\U0001d173'"),
        (&[0x78, 0xb, 0x79, 0xc, 0x7a], "'x\\x0by\\x0cz'"),
        (&[0x1b, 0x5b, 0x30, 0x6d], "'\\x1b[0m'"),
        (&[0x301], "'́'"),
        (&[0x65, 0x301], "'é'"),
        (&[0x27, 0xa, 0x27, 0x22], "'\\'\\n\\'\"'"),
        (&[0x10000], "'𐀀'"),
        (&[0xe01ef], "'󠇯'"),
        (&[0xe01f0], "'\\U000e01f0'"),
        (&[0x2066, 0x2069], "'\\u2066\\u2069'"),
        (&[0x1f1fa, 0x1f1f8], "'🇺🇸'"),
    ];

    /// `(bytes, repr(bytes))` pairs from CPython.
    const BYTES_CASES: &[(&[u8], &str)] = &[
        (b"", "b''"),
        (b"\x61", "b'a'"),
        (b"\x27", "b\"'\""),
        (b"\x22", "b'\"'"),
        (b"\x27\x22", "b'\\'\"'"),
        (b"\x69\x74\x27\x73", "b\"it's\""),
        (b"\x73\x61\x79\x20\x22\x68\x69\x22", "b'say \"hi\"'"),
        (b"\x5c", "b'\\\\'"),
        (b"\x09\x0a\x0d", "b'\\t\\n\\r'"),
        (b"\x00\x01\x1f", "b'\\x00\\x01\\x1f'"),
        (b"\x7f", "b'\\x7f'"),
        (b"\x80\xff", "b'\\x80\\xff'"),
        (b"\xa0\xad", "b'\\xa0\\xad'"),
        (b"\x20\x7e", "b' ~'"),
        (b"\x0b\x0c", "b'\\x0b\\x0c'"),
        (b"\x61\x27\x62\x22\x63\x5c\x64", "b'a\\'b\"c\\\\d'"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b\x4c\x4d\x4e\x4f\x50\x51\x52\x53\x54\x55\x56\x57\x58\x59\x5a\x5b\x5c\x5d\x5e\x5f\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f\x70\x71\x72\x73\x74\x75\x76\x77\x78\x79\x7a\x7b\x7c\x7d\x7e\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff'"),
    ];

    /// `(code point, str.isprintable())` pairs from CPython.
    const PRINTABLE_CASES: &[(u32, bool)] = &[
        (0x0, false),
        (0x1f, false),
        (0x20, true),
        (0x7e, true),
        (0x7f, false),
        (0xa0, false),
        (0xa1, true),
        (0xad, false),
        (0x378, false),
        (0x2028, false),
        (0x3000, false),
        (0xd7ff, false),
        (0xd800, false),
        (0xdfff, false),
        (0xe000, false),
        (0xf8ff, false),
        (0xf900, true),
        (0xfffd, true),
        (0xffff, false),
        (0x10000, true),
        (0x1f600, true),
        (0x2a6df, true),
        (0x2a6e0, false),
        (0x30000, true),
        (0x3134a, true),
        (0x3134b, false),
        (0xe0001, false),
        (0xe0100, true),
        (0xeffff, false),
        (0x10ffff, false),
        (0x5ebbb, false),
        (0xe173, false),
        (0x10076, false),
        (0x10a37d, false),
        (0x8ef77, false),
        (0x1baf6, false),
        (0xd6e90, false),
        (0x91916, false),
        (0x6740f, false),
        (0x8b5, true),
        (0xe5ff7, false),
        (0x91c8d, false),
        (0x5e1e2, false),
        (0x5df26, false),
        (0x82c7c, false),
        (0xc2c2c, false),
        (0x15925, false),
        (0x549fc, false),
        (0x32cb3, false),
        (0x39b1, true),
        (0xab698, false),
        (0x4c390, false),
        (0x92579, false),
        (0x35fbc, false),
        (0xa75ed, false),
        (0xfe6ad, false),
        (0xbdbb0, false),
        (0xb056c, false),
        (0x81aa9, false),
        (0xbf2a0, false),
        (0x6f8ef, false),
        (0x47040, false),
        (0xc8d95, false),
        (0xb30ab, false),
        (0x507be, false),
        (0x895ac, false),
        (0x57e1, true),
        (0xf7139, false),
        (0xa29c8, false),
        (0xccfb7, false),
        (0x23e5b, true),
        (0x7cd06, false),
        (0xcdc4f, false),
        (0xddcb4, false),
        (0x8743f, false),
        (0x9456c, false),
        (0x910eb, false),
        (0x555df, false),
        (0xefd08, false),
        (0xf786d, false),
        (0xec9f4, false),
        (0xb7bbb, false),
        (0xa5e0e, false),
        (0x9e877, false),
        (0x52fd, true),
        (0x3d63e, false),
        (0x24648, true),
        (0x1f6f, true),
        (0x56a53, false),
        (0x3ea9, true),
        (0xd6dbf, false),
        (0x458c, true),
        (0x9a780, false),
        (0xcedd1, false),
        (0x5bcf2, false),
        (0x8a556, false),
        (0x9805b, false),
        (0x2e7e0, true),
        (0x5445e, false),
        (0xffe1, true),
    ];
    // END generated by scripts/gen_repr_cases.py
}
