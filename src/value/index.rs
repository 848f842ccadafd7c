//! Indexing a [`Value`]: `v[0]`, `v["key"]`, `v.get(..)`. Never panics: a miss gives `None`
//! (or `&Value::None` through `[]`), like serde_json.

use super::Value;
use crate::pystr::PyStr;

mod private {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl Sealed for super::Value {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

/// Types that can index into a [`Value`]: `usize` (list/tuple position, or an int dict key),
/// `&str`/`String` (str dict key) and `&Value` (any dict key). Sealed.
pub trait ValueIndex: private::Sealed {
    /// Looks `self` up in `v`.
    #[doc(hidden)]
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value>;
}

impl ValueIndex for usize {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::List(l) => l.get(*self),
            Value::Tuple(t) => t.get(*self),
            Value::Dict(d) => d.get(&Value::from(*self)),
            _ => None,
        }
    }
}

impl ValueIndex for str {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Dict(d) => d.get(&Value::Str(PyStr::from(self))),
            _ => None,
        }
    }
}

impl ValueIndex for String {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(v)
    }
}

impl ValueIndex for Value {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match (v, self) {
            (Value::Dict(d), key) => d.get(key),
            (Value::List(_) | Value::Tuple(_), Value::Int(i)) => {
                let i = usize::try_from(i.as_i64()?).ok()?;
                i.index_into(v)
            }
            _ => None,
        }
    }
}

impl<T: ValueIndex + ?Sized> ValueIndex for &T {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        (**self).index_into(v)
    }
}

static NONE: Value = Value::None;

impl<I: ValueIndex> std::ops::Index<I> for Value {
    type Output = Value;

    /// `v[i]`: the item, or `&Value::None` when absent (never panics).
    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(&NONE)
    }
}
