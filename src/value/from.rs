//! `From` conversions into [`Value`] and `TryFrom` out of it (the error gives the value back).

use num_bigint::BigInt;

use super::{Bytes, Complex, Dict, Int, List, Set, Tuple, Value};
use crate::pystr::PyStr;

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(Int::from(v))
            }
        }
    )*};
}
from_int!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<BigInt> for Value {
    fn from(v: BigInt) -> Self {
        Value::Int(Int::from(v))
    }
}

impl From<Int> for Value {
    fn from(v: Int) -> Self {
        Value::Int(v)
    }
}

impl From<Complex> for Value {
    fn from(v: Complex) -> Self {
        Value::Complex(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(PyStr::from(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(PyStr::from(v))
    }
}

impl From<PyStr> for Value {
    fn from(v: PyStr) -> Self {
        Value::Str(v)
    }
}

impl From<&[u8]> for Value {
    /// A `bytes` value.
    fn from(v: &[u8]) -> Self {
        Value::Bytes(Bytes::from(v))
    }
}

impl From<Bytes> for Value {
    /// A `bytes` value.
    fn from(v: Bytes) -> Self {
        Value::Bytes(v)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// A `list` value.
    fn from(v: Vec<T>) -> Self {
        Value::List(List::from(
            v.into_iter().map(Into::into).collect::<Vec<Value>>(),
        ))
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    /// A `list` value.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::List(List::from(
            iter.into_iter().map(Into::into).collect::<Vec<Value>>(),
        ))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` or the value.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::None, Into::into)
    }
}

impl From<List> for Value {
    fn from(v: List) -> Self {
        Value::List(v)
    }
}

impl From<Tuple> for Value {
    fn from(v: Tuple) -> Self {
        Value::Tuple(v)
    }
}

impl From<Dict> for Value {
    fn from(v: Dict) -> Self {
        Value::Dict(v)
    }
}

impl From<Set> for Value {
    /// A `set` value.
    fn from(v: Set) -> Self {
        Value::Set(v)
    }
}

impl From<()> for Value {
    /// `None`.
    fn from(_: ()) -> Self {
        Value::None
    }
}

impl TryFrom<Value> for i64 {
    type Error = Value;
    /// An `int` that fits in `i64` (not a bool); otherwise the value back.
    fn try_from(v: Value) -> Result<i64, Value> {
        v.as_i64().ok_or(v)
    }
}

impl TryFrom<Value> for f64 {
    type Error = Value;
    /// A `float`; otherwise the value back.
    fn try_from(v: Value) -> Result<f64, Value> {
        v.as_f64().ok_or(v)
    }
}

impl TryFrom<Value> for bool {
    type Error = Value;
    /// A `bool`; otherwise the value back.
    fn try_from(v: Value) -> Result<bool, Value> {
        v.as_bool().ok_or(v)
    }
}

impl TryFrom<Value> for String {
    type Error = Value;
    /// A `str` without lone surrogates; otherwise the value back.
    fn try_from(v: Value) -> Result<String, Value> {
        match v.as_str() {
            Some(s) => Ok(s.to_owned()),
            None => Err(v),
        }
    }
}

impl TryFrom<Value> for Vec<u8> {
    type Error = Value;
    /// A `bytes` or `bytearray`; otherwise the value back.
    fn try_from(v: Value) -> Result<Vec<u8>, Value> {
        match v.as_bytes() {
            Some(b) => Ok(b.to_vec()),
            None => Err(v),
        }
    }
}

impl TryFrom<Value> for Vec<Value> {
    type Error = Value;
    /// The items of a `list` or `tuple`; otherwise the value back.
    fn try_from(v: Value) -> Result<Vec<Value>, Value> {
        match v.as_slice() {
            Some(items) => Ok(items.to_vec()),
            None => Err(v),
        }
    }
}
