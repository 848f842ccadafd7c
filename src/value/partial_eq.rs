//! `PartialEq` for [`Value`] (Python's `==`) and with Rust primitives, in both directions.

use super::{Int, Value, int_eq_float, key};

impl PartialEq for Value {
    /// Python's `==`: numbers compare across bool/int/float/complex, `bytes == bytearray`,
    /// `set == frozenset`, dicts regardless of order, objects by identity.
    fn eq(&self, other: &Value) -> bool {
        key::py_eq(self, other)
    }
}

fn eq_i128(v: &Value, n: i128) -> bool {
    match v {
        Value::Int(i) => i.as_i128() == Some(n),
        Value::Bool(b) => i128::from(*b) == n,
        Value::Float(f) => int_eq_float(&Int::from(n), *f),
        Value::Complex(c) => c.im == 0.0 && int_eq_float(&Int::from(n), c.re),
        _ => false,
    }
}

macro_rules! eq_int {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                eq_i128(self, *other as i128)
            }
        }
        impl PartialEq<Value> for $t {
            fn eq(&self, other: &Value) -> bool {
                eq_i128(other, *self as i128)
            }
        }
    )*};
}
eq_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl PartialEq<f64> for Value {
    fn eq(&self, other: &f64) -> bool {
        key::py_eq(self, &Value::Float(*other))
    }
}

impl PartialEq<Value> for f64 {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<bool> for Value {
    /// Python's `v == True`: also true for `1` and `1.0`.
    fn eq(&self, other: &bool) -> bool {
        eq_i128(self, i128::from(*other))
    }
}

impl PartialEq<Value> for bool {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        matches!(self, Value::Str(s) if s == other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Value> for str {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<Value> for &str {
    fn eq(&self, other: &Value) -> bool {
        other == *self
    }
}

impl PartialEq<Value> for String {
    fn eq(&self, other: &Value) -> bool {
        other == self.as_str()
    }
}

impl PartialEq<[u8]> for Value {
    /// Equal to a `bytes` or `bytearray` with these contents.
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == Some(other)
    }
}

impl PartialEq<&[u8]> for Value {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == Some(*other)
    }
}
