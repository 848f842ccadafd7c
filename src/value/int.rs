//! [`Int`]: a Python `int` with a machine-word fast path.

use std::fmt;
use std::sync::{Arc, OnceLock};

use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;

/// A Python `int` of any size.
///
/// Values that fit in an `i64` are stored inline; larger ones that fit in an `i128` (64-bit
/// ids, hashes and nanosecond timestamps: most big ints in pickles) as a shared `i128`, one
/// allocation, whose [`BigInt`] form is made the first time [`Int::as_bigint`] asks for it;
/// the rest as a shared [`BigInt`]. The representation is normalised, so one number has exactly
/// one form.
///
/// ```
/// use restricted_unpickler::Int;
/// assert_eq!(Int::from(5).as_i64(), Some(5));
/// let big = Int::from(u64::MAX);
/// assert_eq!(big.as_i64(), None);
/// assert_eq!(big.to_string(), "18446744073709551615");
/// ```
#[derive(Clone)]
pub struct Int(Repr);

#[derive(Clone)]
enum Repr {
    Small(i64),
    /// Always outside the `i64` range, inside the `i128` range.
    Wide(Arc<Wide>),
    /// Always outside the `i128` range.
    Big(Arc<BigInt>),
}

/// An `int` outside the `i64` range that fits in an `i128`.
struct Wide {
    value: i128,
    /// The [`BigInt`] form, made on first use (by [`Int::as_bigint`]); boxed, so that the
    /// allocation of a wide int that never needs it is 48 bytes.
    big: OnceLock<Box<BigInt>>,
}

impl Int {
    /// The normal form of an `i128`.
    #[inline]
    fn from_i128(v: i128) -> Int {
        match i64::try_from(v) {
            Ok(s) => Int(Repr::Small(s)),
            Err(_) => Int(Repr::Wide(Arc::new(Wide {
                value: v,
                big: OnceLock::new(),
            }))),
        }
    }
}

impl Int {
    /// The value as `i64`, if it fits.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Small(v) => Some(*v),
            Repr::Wide(_) | Repr::Big(_) => None,
        }
    }

    /// The value as `u64`, if it fits.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Small(v) => u64::try_from(*v).ok(),
            Repr::Wide(w) => u64::try_from(w.value).ok(),
            Repr::Big(b) => b.to_u64(),
        }
    }

    /// The value as `i128`, if it fits.
    pub fn as_i128(&self) -> Option<i128> {
        match &self.0 {
            Repr::Small(v) => Some(i128::from(*v)),
            Repr::Wide(w) => Some(w.value),
            // Always outside the `i128` range.
            Repr::Big(_) => None,
        }
    }

    /// The value as a [`BigInt`].
    pub fn to_bigint(&self) -> BigInt {
        match &self.0 {
            Repr::Small(v) => BigInt::from(*v),
            Repr::Wide(w) => BigInt::from(w.value),
            Repr::Big(b) => (**b).clone(),
        }
    }

    /// The shared [`BigInt`], when the value does not fit in an `i64` (for a value that fits in
    /// an `i128`, made on the first call and kept).
    pub fn as_bigint(&self) -> Option<&BigInt> {
        match &self.0 {
            Repr::Small(_) => None,
            Repr::Wide(w) => Some(w.big.get_or_init(|| Box::new(BigInt::from(w.value)))),
            Repr::Big(b) => Some(b),
        }
    }

    /// The nearest `f64` (Python's `float(i)`, but without its `OverflowError`: huge values give
    /// infinity).
    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::Small(v) => *v as f64,
            // Rounds to nearest, ties to even, as Python's `float(i)` does.
            Repr::Wide(w) => w.value as f64,
            Repr::Big(b) => b.to_f64().unwrap_or(f64::NAN),
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self.0, Repr::Small(0))
    }

    /// Whether the value is negative.
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Small(v) => *v < 0,
            Repr::Wide(w) => w.value < 0,
            Repr::Big(b) => b.sign() == Sign::Minus,
        }
    }

    /// The number of bits of the absolute value (Python's `i.bit_length()`).
    pub fn bit_length(&self) -> u64 {
        match &self.0 {
            Repr::Small(v) => u64::from(64 - v.unsigned_abs().leading_zeros()),
            Repr::Wide(w) => u64::from(128 - w.value.unsigned_abs().leading_zeros()),
            Repr::Big(b) => b.bits(),
        }
    }

    /// Decodes little-endian two's complement bytes, as `LONG1`/`LONG4` carry them
    /// (`int.from_bytes(data, 'little', signed=True)`; empty means 0).
    pub fn from_signed_bytes_le(bytes: &[u8]) -> Int {
        if let Some(buf) = sign_extended::<8>(bytes) {
            return Int(Repr::Small(i64::from_le_bytes(buf)));
        }
        // Up to 16 bytes (most big ints in pickles: 64-bit ids, hashes, timestamps in ns):
        // an `i128`, one allocation.
        if let Some(buf) = sign_extended::<16>(bytes) {
            return Int::from_i128(i128::from_le_bytes(buf));
        }
        Int::from(BigInt::from_signed_bytes_le(bytes))
    }
}

/// Little-endian two's complement `bytes` sign-extended to `N` bytes, if they fit.
fn sign_extended<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    if bytes.len() > N {
        return None;
    }
    let fill = match bytes.last() {
        Some(&b) if b & 0x80 != 0 => 0xff,
        _ => 0,
    };
    let mut buf = [fill; N];
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(buf)
}

impl Int {
    /// The address of the shared big integer (identity, for caches that keep a clone alive).
    pub(crate) fn big_addr(&self) -> Option<usize> {
        match &self.0 {
            Repr::Small(_) => None,
            Repr::Wide(w) => Some(Arc::as_ptr(w) as usize),
            Repr::Big(b) => Some(Arc::as_ptr(b) as usize),
        }
    }

    /// How many holders share this int's allocation, if it has one (tests of `Drop`).
    #[cfg(test)]
    pub(crate) fn alloc_refs(&self) -> Option<usize> {
        match &self.0 {
            Repr::Small(_) => None,
            Repr::Wide(w) => Some(Arc::strong_count(w)),
            Repr::Big(b) => Some(Arc::strong_count(b)),
        }
    }
}

impl From<BigInt> for Int {
    fn from(b: BigInt) -> Self {
        match b.to_i128() {
            Some(v) => Int::from_i128(v),
            None => Int(Repr::Big(Arc::new(b))),
        }
    }
}

macro_rules! int_from_small {
    ($($t:ty),*) => {$(
        impl From<$t> for Int {
            fn from(v: $t) -> Self {
                Int(Repr::Small(i64::from(v)))
            }
        }
    )*};
}
int_from_small!(i8, i16, i32, i64, u8, u16, u32, bool);

macro_rules! int_from_wide {
    ($($t:ty),*) => {$(
        impl From<$t> for Int {
            fn from(v: $t) -> Self {
                Int::from_i128(i128::from(v))
            }
        }
    )*};
}
int_from_wide!(u64, i128);

impl From<u128> for Int {
    fn from(v: u128) -> Self {
        match i128::try_from(v) {
            Ok(w) => Int::from_i128(w),
            Err(_) => Int(Repr::Big(Arc::new(BigInt::from(v)))),
        }
    }
}

impl From<isize> for Int {
    fn from(v: isize) -> Self {
        // `isize` is at most 64 bits on every target Rust supports.
        Int::from_i128(v as i128)
    }
}

impl From<usize> for Int {
    fn from(v: usize) -> Self {
        Int::from_i128(v as i128)
    }
}

impl PartialEq for Int {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Small(a), Repr::Small(b)) => a == b,
            (Repr::Wide(a), Repr::Wide(b)) => a.value == b.value,
            (Repr::Big(a), Repr::Big(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Int {}

impl std::hash::Hash for Int {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Small(v) => v.hash(state),
            Repr::Wide(w) => w.value.hash(state),
            Repr::Big(b) => b.hash(state),
        }
    }
}

impl PartialOrd for Int {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Int {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (&self.0, &other.0) {
            (Repr::Small(a), Repr::Small(b)) => a.cmp(b),
            _ => match (self.as_i128(), other.as_i128()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => self.to_bigint().cmp(&other.to_bigint()),
            },
        }
    }
}

/// Above this many bits, `Display` writes hexadecimal: decimal conversion of huge integers is
/// quadratic (CPython refuses it beyond 4300 digits), hex is linear and still valid Python.
const DECIMAL_DISPLAY_MAX_BITS: u64 = 14_000;

impl fmt::Display for Int {
    /// Writes the decimal form (Python's `repr(i)`); integers above about 4200 decimal digits are
    /// written as a hexadecimal literal (`0x…` or `-0x…`), which evaluates to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Small(v) => write!(f, "{v}"),
            Repr::Wide(w) => write!(f, "{}", w.value),
            Repr::Big(b) if b.bits() > DECIMAL_DISPLAY_MAX_BITS => {
                let sign = if b.sign() == Sign::Minus { "-" } else { "" };
                write!(f, "{sign}0x{}", b.magnitude().to_str_radix(16))
            }
            Repr::Big(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Debug for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Exact comparison of an `Int` with an `f64` (Python's `i == f`).
pub(crate) fn int_eq_float(i: &Int, f: f64) -> bool {
    if !f.is_finite() || f.fract() != 0.0 {
        return false;
    }
    match &i.0 {
        Repr::Small(v) => {
            // Every i64 converts to f64 with rounding; compare in i128 to stay exact.
            if f.abs() < 9.3e18 {
                i128::from(*v) == f as i128
            } else {
                false
            }
        }
        // In the `i128` range [-2**127, 2**127) the float converts to `i128` exactly; outside
        // it, it equals no wide int.
        Repr::Wide(w) => (-TWO_127..TWO_127).contains(&f) && w.value == f as i128,
        Repr::Big(b) => {
            use num_traits::FromPrimitive;
            BigInt::from_f64(f).is_some_and(|fb| fb == **b)
        }
    }
}

/// 2**63 as a float: the `i64` range is [-2**63, 2**63).
pub(crate) const TWO_63: f64 = 9_223_372_036_854_775_808.0;
/// 2**127 as a float: the `i128` range is [-2**127, 2**127).
pub(crate) const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

/// The exact big value of an integral float outside the `i64` range, for hashing.
pub(crate) fn integral_float_bigint(f: f64) -> Option<BigInt> {
    use num_traits::FromPrimitive;
    BigInt::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long1_bytes_decode_like_python() {
        assert_eq!(Int::from_signed_bytes_le(&[]).as_i64(), Some(0));
        // Every length up to 17 bytes, both signs, against the general conversion.
        for n in 0..=17usize {
            for seed in 0..40u32 {
                let bytes: Vec<u8> = (0..n)
                    .map(|i| {
                        (seed.wrapping_mul(2_654_435_761) >> (i % 24)) as u8
                            ^ (i as u8).wrapping_mul(37)
                    })
                    .collect();
                let expected = BigInt::from_signed_bytes_le(&bytes);
                let got = Int::from_signed_bytes_le(&bytes);
                assert_eq!(got.to_string(), expected.to_string(), "{bytes:?}");
                assert_eq!(
                    got.as_i64().is_some(),
                    expected.to_i64().is_some(),
                    "{bytes:?}"
                );
            }
        }
        assert_eq!(Int::from_signed_bytes_le(&[0xff]).as_i64(), Some(-1));
        assert_eq!(Int::from_signed_bytes_le(&[0xff, 0x00]).as_i64(), Some(255));
        assert_eq!(
            Int::from_signed_bytes_le(&[0x00, 0x80]).as_i64(),
            Some(-32768)
        );
        let two64 = Int::from_signed_bytes_le(&[0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(two64.to_string(), "18446744073709551616");
        // Non-minimal encodings normalise to the inline form.
        let small = Int::from_signed_bytes_le(&[5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(small.as_i64(), Some(5));
    }

    /// Every form against the `BigInt` arithmetic it stands for, across the `i64` and `i128`
    /// edges.
    #[test]
    fn the_three_forms_agree_with_bigint() {
        let mut values: Vec<BigInt> = Vec::new();
        for v in [
            i64::MIN as i128,
            i64::MAX as i128,
            i128::MIN,
            i128::MAX,
            0,
            -1,
        ] {
            for d in -2..=2 {
                values.push(BigInt::from(v) + d);
            }
        }
        for shift in [63u32, 64, 65, 100, 126, 127, 128, 200] {
            let p = BigInt::from(1) << shift;
            values.push(p.clone() + 7);
            values.push(-p);
        }
        let ints: Vec<Int> = values.iter().map(|b| Int::from(b.clone())).collect();
        for (b, i) in values.iter().zip(&ints) {
            assert_eq!(i.to_bigint(), *b);
            assert_eq!(i.to_string(), b.to_string());
            assert_eq!(i.as_i64(), b.to_i64(), "{b}");
            assert_eq!(i.as_i128(), b.to_i128(), "{b}");
            assert_eq!(i.as_u64(), b.to_u64(), "{b}");
            assert_eq!(i.as_bigint().is_some(), b.to_i64().is_none(), "{b}");
            if let Some(big) = i.as_bigint() {
                assert_eq!(big, b);
            }
            assert_eq!(
                i.to_f64().to_bits(),
                b.to_f64().unwrap_or(0.0).to_bits(),
                "{b}"
            );
            assert_eq!(i.bit_length(), b.bits(), "{b}");
            assert_eq!(i.is_negative(), b.sign() == Sign::Minus, "{b}");
            assert_eq!(i.big_addr().is_none(), b.to_i64().is_some(), "{b}");
            // Normal forms: the same number built another way is equal (and hashes equal).
            if let Some(w) = b.to_i128() {
                assert!(Int::from(w) == *i, "{b}");
                assert!(Int::from_signed_bytes_le(&w.to_le_bytes()) == *i, "{b}");
            }
            assert!(
                Int::from_signed_bytes_le(&b.to_signed_bytes_le()) == *i,
                "{b}"
            );
        }
        for (a, x) in values.iter().zip(&ints) {
            for (b, y) in values.iter().zip(&ints) {
                assert_eq!(x == y, a == b, "{a} == {b}");
                assert_eq!(x.cmp(y), a.cmp(b), "{a} cmp {b}");
            }
        }
        assert_eq!(Int::from(u128::MAX).to_string(), u128::MAX.to_string());
        assert_eq!(Int::from(u64::MAX).as_i128(), Some(i128::from(u64::MAX)));
        assert_eq!(Int::from(usize::MAX).as_u64(), Some(usize::MAX as u64));
        assert_eq!(Int::from(isize::MIN).as_i64(), Some(isize::MIN as i64));
    }

    #[test]
    fn wide_float_equality_is_exact_at_the_edges() {
        let two127 = 2f64.powi(127);
        assert!(int_eq_float(&Int::from(i128::MIN), -two127));
        assert!(!int_eq_float(&Int::from(i128::MAX), two127));
        assert!(int_eq_float(&Int::from(1u128 << 127), two127));
        assert!(int_eq_float(&Int::from(-(1i128 << 100)), -(2f64.powi(100))));
        assert!(!int_eq_float(
            &Int::from((1i128 << 100) + 1),
            2f64.powi(100)
        ));
        assert!(int_eq_float(&Int::from(1i128 << 63), 2f64.powi(63)));
    }

    #[test]
    fn int_float_equality_is_exact() {
        assert!(int_eq_float(&Int::from(1), 1.0));
        assert!(!int_eq_float(
            &Int::from((1i64 << 53) + 1),
            (1u64 << 53) as f64
        ));
        assert!(int_eq_float(&Int::from(1u128 << 70), 2f64.powi(70)));
        assert!(!int_eq_float(&Int::from(0), f64::NAN));
    }
}
