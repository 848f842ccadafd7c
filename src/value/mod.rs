//! [`Value`]: Python's data model, as a pickle describes it.
//!
//! Containers are reference counted and immutable once decoding ends: when a pickle refers to
//! one object several times (memo `GET`, `DUP`), every reference in the result is a clone of the
//! same `Arc`, so a "billion laughs" pickle stays as small in memory as it is on disk, and
//! `Clone` is always O(1). `Drop`, `PartialEq`, `Hash`, `Display` and `Debug` are iterative, so no
//! value, however deep, can overflow the stack.
//!
//! Equality is Python's `==`: `Value::from(1) == Value::from(1.0)` and `== Value::Bool(true)`;
//! `b"a"` equals `bytearray(b"a")`; a set equals a frozenset with the same members; recorded
//! objects compare by identity, as Python's default `object.__eq__` does. Use
//! [`Value::strict_eq`] for a type-exact, bit-exact comparison.

mod bytes;
mod dict;
mod display;
mod drop;
mod from;
mod index;
mod int;
pub(crate) mod key;
pub(crate) mod keymap;
mod partial_eq;
mod siphash;

use std::sync::Arc;

pub use self::bytes::{Bytes, SharedInput};
pub use self::dict::{Dict, DictIter};
pub(crate) use self::dict::{DictRepr, SmallDict};
pub use self::index::ValueIndex;
pub use self::int::Int;
pub(crate) use self::int::{int_eq_float, integral_float_bigint};
pub(crate) use self::key::{Key, digest_key};
pub(crate) use self::keymap::{KeyMap, new_key_set};
use crate::find_class::Builtin;
use crate::pystr::PyStr;

/// A decoded Python value.
///
/// ```
/// use restricted_unpickler::{restricted_loads, Value};
/// // pickle.dumps({'a': [1, 2.5, None]}, protocol=2)
/// let v = restricted_loads(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.")?;
/// assert_eq!(v["a"][0], 1);
/// assert_eq!(v["a"][1], 2.5);
/// assert!(v["a"][2].is_none());
/// assert_eq!(v.to_string(), "{'a': [1, 2.5, None]}");
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
#[derive(Clone, Default)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// `int`, of any size.
    Int(Int),
    /// `float`, bit-exact (`-0.0` and NaN payloads are kept).
    Float(f64),
    /// `complex`.
    Complex(Complex),
    /// `str` (lone surrogates included).
    Str(PyStr),
    /// `bytes`.
    Bytes(Bytes),
    /// `bytearray` (a snapshot: the result is immutable).
    ByteArray(Bytes),
    /// `list`.
    List(List),
    /// `tuple`.
    Tuple(Tuple),
    /// `dict`, in insertion order.
    Dict(Dict),
    /// `set`, in insertion order.
    Set(Set),
    /// `frozenset`, in insertion order.
    FrozenSet(Set),
    /// A global `(module, name)` that the [`FindClass`](crate::FindClass) policy allowed, such as
    /// the class `datetime.datetime` itself.
    Global(Global),
    /// An object built from an allowed global by `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ` or
    /// `INST`, with what `BUILD`, `APPEND(S)` and `SETITEM(S)` gave it. Recorded, never executed.
    Object(Object),
}

/// A Python `complex`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Complex {
    /// The real part.
    pub re: f64,
    /// The imaginary part.
    pub im: f64,
}

/// The items of a `list`, shared.
#[derive(Clone)]
pub struct List(pub(crate) Seq);

/// The items of a `tuple`, shared.
///
/// The empty tuples decoded (or made by [`Tuple::from`]) on one thread are one object, as `()`
/// is a singleton in CPython: [`Tuple::ptr_eq`] holds between them.
#[derive(Clone)]
pub struct Tuple(pub(crate) Seq);

/// How the items of a [`List`] or [`Tuple`] are stored.
///
/// A sequence whose length is known when it is built (a tuple, a list filled by one `APPENDS`
/// of fewer than [`VEC_MIN`] items) is one exactly sized allocation. A list grown batch by
/// batch (or filled by one long batch) keeps the vector it grew in:
/// turning it into a slice would copy every item once more (a tenth of the time of decoding a
/// list of a million ints), so only its spare capacity is given back.
#[derive(Clone)]
pub(crate) enum Seq {
    /// Exactly sized, one allocation.
    Slice(Arc<[Value]>),
    /// A grown list's vector.
    Vec(Arc<Vec<Value>>),
}

/// Grown lists up to this many items are shrunk to fit (see [`Seq::from_grown`]).
const SHRINK_MAX: usize = 1024;

/// A list filled by one batch of at least this many items keeps them in a vector too
/// ([`Seq::Vec`]), not in an exact slice: one more allocation, against the drop glue of each
/// item (the drop of a vector forgets the items that own nothing; a slice's items each take a
/// call of the drop glue): a list of 100 ints drops in a third of the instructions.
pub(crate) const VEC_MIN: usize = 64;

thread_local! {
    /// This thread's empty tuple: the `()`s decoded (or made by [`Tuple::from`]) on one thread
    /// are one object, as in CPython, where `()` is a singleton, and allocate nothing.
    static EMPTY_TUPLE: Arc<[Value]> = Arc::from([]);
}

impl Seq {
    /// The items of an empty tuple: this thread's (a new allocation while the thread exits).
    /// Never a list's: each empty list is an object of its own.
    pub(crate) fn empty_tuple() -> Seq {
        Seq::Slice(
            EMPTY_TUPLE
                .try_with(Arc::clone)
                .unwrap_or_else(|_| Arc::from([])),
        )
    }

    /// A grown vector. A short one gives its spare capacity back if it is more than CPython's
    /// own `list` keeps (an eighth of the items and 6 more: a list of 3 `APPEND`ed items keeps
    /// its room for 4, as in CPython, without the `realloc` that shrinking costs); a long one
    /// keeps it: that tail was never written, so it holds address space but no memory, and
    /// shrinking a large block can move it (the whole list copied again).
    pub(crate) fn from_grown(mut v: Vec<Value>) -> Seq {
        let spare = v.capacity() - v.len();
        if v.len() <= SHRINK_MAX && spare > v.len() / 8 + 6 {
            v.shrink_to_fit();
        }
        Seq::Vec(Arc::new(v))
    }

    /// The items.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[Value] {
        match self {
            Seq::Slice(s) => s,
            Seq::Vec(v) => v,
        }
    }

    /// Whether this reference alone keeps the items alive (no weak reference is ever made).
    pub(crate) fn is_unique(&self) -> bool {
        match self {
            Seq::Slice(s) => Arc::strong_count(s) == 1,
            Seq::Vec(v) => Arc::strong_count(v) == 1,
        }
    }

    /// The address of the shared allocation (the object's identity).
    pub(crate) fn addr(&self) -> usize {
        match self {
            Seq::Slice(s) => Arc::as_ptr(s) as *const u8 as usize,
            Seq::Vec(v) => Arc::as_ptr(v) as usize,
        }
    }
}

macro_rules! seq_impls {
    ($t:ident) => {
        impl $t {
            /// The items.
            #[inline]
            pub fn as_slice(&self) -> &[Value] {
                self.0.as_slice()
            }

            /// Whether `self` and `other` are the same shared object.
            pub fn ptr_eq(&self, other: &Self) -> bool {
                self.0.addr() == other.0.addr()
            }
        }

        impl std::ops::Deref for $t {
            type Target = [Value];
            #[inline]
            fn deref(&self) -> &[Value] {
                self.0.as_slice()
            }
        }

        impl<'a> IntoIterator for &'a $t {
            type Item = &'a Value;
            type IntoIter = std::slice::Iter<'a, Value>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.as_slice().iter()
            }
        }
    };
}
seq_impls!(List);
seq_impls!(Tuple);

impl From<Vec<Value>> for List {
    fn from(v: Vec<Value>) -> Self {
        List(Seq::Slice(Arc::from(v)))
    }
}

impl From<Vec<Value>> for Tuple {
    /// (An empty tuple is this thread's `()`, as decoded ones are.)
    fn from(v: Vec<Value>) -> Self {
        if v.is_empty() {
            return Tuple(Seq::empty_tuple());
        }
        Tuple(Seq::Slice(Arc::from(v)))
    }
}

/// The members of a `set` or `frozenset`: insertion-ordered, Python key equality.
#[derive(Clone)]
pub struct Set(pub(crate) SetRepr);

/// How a [`Set`]'s members are stored.
#[derive(Clone)]
pub(crate) enum SetRepr {
    /// At most [`SMALL_MAX`](keymap::SMALL_MAX) members in one exactly sized block, searched
    /// in order by digest: the lean path's sets (most sets in real pickles are small), built
    /// from a vector it keeps.
    Slice(Arc<[Key]>),
    /// A key set (small ones searched in order, large ones through a hash index), as the full
    /// machine builds it: kept as it is, not copied into a block.
    Map(Arc<KeyMap>),
}

impl SetRepr {
    /// The members in insertion order.
    #[inline]
    pub(crate) fn keys(&self) -> &[Key] {
        match self {
            SetRepr::Slice(k) => k,
            SetRepr::Map(m) => m.as_slice(),
        }
    }

    /// The index of the member equal to `value` (whose digest is `digest`).
    pub(crate) fn find(&self, digest: u64, value: &Value) -> Option<usize> {
        match self {
            SetRepr::Slice(k) => keymap::find_in(k, digest, value),
            SetRepr::Map(m) => m.find(digest, value),
        }
    }

    /// The first member with this digest (the caller compares).
    pub(crate) fn find_digest(&self, digest: u64) -> Option<&Key> {
        match self {
            SetRepr::Slice(k) => keymap::find_digest_in(k, digest).map(|(_, k)| k),
            SetRepr::Map(m) => m.find_digest(digest).map(|(_, k)| k),
        }
    }

    /// Whether this reference alone keeps the set alive (no weak reference is ever made).
    pub(crate) fn is_unique(&self) -> bool {
        match self {
            SetRepr::Slice(k) => Arc::strong_count(k) == 1,
            SetRepr::Map(m) => Arc::strong_count(m) == 1,
        }
    }

    /// The address of the shared allocation (the object's identity).
    pub(crate) fn addr(&self) -> usize {
        match self {
            SetRepr::Slice(k) => Arc::as_ptr(k) as *const u8 as usize,
            SetRepr::Map(m) => Arc::as_ptr(m) as usize,
        }
    }

    /// The members of a set this reference alone keeps alive, as a key set to add to (moved
    /// into `small`, an empty vector, when the set is small); `None` if the set is shared.
    pub(crate) fn reopen(&mut self, mut small: Vec<Key>) -> Option<KeyMap> {
        Some(match self {
            SetRepr::Slice(k) => {
                small.extend(Arc::get_mut(k)?.iter_mut().map(Key::take));
                KeyMap::Small(small)
            }
            SetRepr::Map(m) => std::mem::take(Arc::get_mut(m)?),
        })
    }
}

impl Set {
    /// The set of `keys` (deduplicated, in order), in its final form. With `spare` (a vector
    /// the caller keeps), a small one becomes one exactly sized block, and `keys`' vector,
    /// emptied, goes back to `spare`; without it the key set is kept as it is (a copy into a
    /// block would cost an allocation and a free per set).
    pub(crate) fn from_keys(keys: KeyMap, spare: Option<&mut Vec<Key>>) -> Set {
        match (keys.compact(), spare) {
            (KeyMap::Small(mut v), Some(spare)) => {
                // Made of placeholders at its exact size, then the keys swapped in (a range is
                // collected straight into the allocation; a move of each key through a
                // temporary stalls).
                let mut block: Arc<[Key]> = (0..v.len())
                    .map(|_| Key {
                        digest: 0,
                        value: Value::None,
                    })
                    .collect();
                if let Some(dst) = Arc::get_mut(&mut block) {
                    for (d, k) in dst.iter_mut().zip(v.iter_mut()) {
                        std::mem::swap(d, k);
                    }
                }
                // (Placeholders now: no drop glue to run.)
                v.drain(..).for_each(std::mem::forget);
                *spare = v;
                Set(SetRepr::Slice(block))
            }
            (keys, _) => Set(SetRepr::Map(Arc::new(keys))),
        }
    }

    /// Builds a set, with Python's semantics for equal members.
    ///
    /// # Errors
    /// `unhashable type: 'list'` (and the like) if a member is not hashable.
    pub fn from_values(values: impl IntoIterator<Item = Value>) -> crate::Result<Set> {
        let mut keys = new_key_set(0);
        let mut steps = 0;
        for v in values {
            keys.insert_counted(Key::new(v)?, &mut steps);
        }
        Ok(Set::from_keys(keys, None))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.0.keys().len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.keys().is_empty()
    }

    /// Whether `value` is a member (Python's `value in s`).
    pub fn contains(&self, value: &Value) -> bool {
        match digest_key(value) {
            Ok(digest) => self.0.find(digest, value).is_some(),
            Err(_) => false,
        }
    }

    /// The members in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.0.keys().iter().map(|k| &k.value)
    }

    /// Whether `self` and `other` are the same shared object.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.0.addr() == other.0.addr()
    }
}

/// A global `(module, name)` allowed by the [`FindClass`](crate::FindClass) policy.
#[derive(Clone)]
pub struct Global(pub(crate) Arc<GlobalInner>);

pub(crate) struct GlobalInner {
    pub(crate) module: PyStr,
    pub(crate) name: PyStr,
    pub(crate) builtin: Option<Builtin>,
}

impl Global {
    /// A global that the machine records (calls become [`Object`]s).
    pub fn new(module: impl Into<PyStr>, name: impl Into<PyStr>) -> Global {
        Global(Arc::new(GlobalInner {
            module: module.into(),
            name: name.into(),
            builtin: None,
        }))
    }

    pub(crate) fn with_builtin(module: PyStr, name: PyStr, builtin: Option<Builtin>) -> Global {
        Global(Arc::new(GlobalInner {
            module,
            name,
            builtin,
        }))
    }

    /// The module, after the `fix_imports` mapping (e.g. `builtins` for `__builtin__`).
    pub fn module(&self) -> &PyStr {
        &self.0.module
    }

    /// The name (possibly dotted, e.g. `OrderedDict` or `str.maketrans`).
    pub fn name(&self) -> &PyStr {
        &self.0.name
    }

    /// The builtin the machine evaluates for this global, if the policy mapped it to one.
    pub fn builtin(&self) -> Option<Builtin> {
        self.0.builtin
    }
}

/// How a recorded [`Object`] was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Construct {
    /// `REDUCE`: `callable(*args)`.
    Reduce,
    /// `NEWOBJ`: `cls.__new__(cls, *args)`.
    NewObj,
    /// `NEWOBJ_EX`: `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx,
    /// `OBJ`: `cls(*args)` (or `cls.__new__(cls)` without args).
    Obj,
    /// `INST`: like `OBJ`, class named inline (protocol 0).
    Inst,
}

/// An object built from an allowed global, recorded rather than executed.
///
/// For example `collections.OrderedDict([('a', 1)])` pickled at protocol 2 is a `REDUCE` of
/// `collections.OrderedDict` with `()` followed by `SETITEMS`: it decodes to an `Object` whose
/// [`callable`](Object::callable) is that global, [`args`](Object::args) is `()` and
/// [`dict_items`](Object::dict_items) is `[('a', 1)]`.
#[derive(Clone)]
pub struct Object(pub(crate) Arc<ObjectInner>);

pub(crate) struct ObjectInner {
    pub(crate) callable: Value,
    pub(crate) construct: Construct,
    pub(crate) args: Value,
    pub(crate) kwargs: Option<Value>,
    pub(crate) state: Option<Value>,
    pub(crate) list_items: Vec<Value>,
    pub(crate) dict_items: Vec<(Value, Value)>,
}

impl Object {
    /// The global (or other allowed value) that was called.
    pub fn callable(&self) -> &Value {
        &self.0.callable
    }

    /// The global's `(module, name)`, when the callable is a global.
    pub fn class(&self) -> Option<&Global> {
        self.0.callable.as_global()
    }

    /// Which opcode made the object.
    pub fn construct(&self) -> Construct {
        self.0.construct
    }

    /// The positional arguments (a tuple).
    pub fn args(&self) -> &Value {
        &self.0.args
    }

    /// The keyword arguments (a dict), for `NEWOBJ_EX`.
    pub fn kwargs(&self) -> Option<&Value> {
        self.0.kwargs.as_ref()
    }

    /// The state given by `BUILD` (what `__setstate__` would receive), if any.
    pub fn state(&self) -> Option<&Value> {
        self.0.state.as_ref()
    }

    /// Items added by `APPEND`/`APPENDS` (list subclasses, `collections.deque`, …).
    pub fn list_items(&self) -> &[Value] {
        &self.0.list_items
    }

    /// Pairs set by `SETITEM`/`SETITEMS` (`OrderedDict`, `defaultdict`, …), in order.
    pub fn dict_items(&self) -> &[(Value, Value)] {
        &self.0.dict_items
    }

    /// Whether `self` and `other` are the same object.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

macro_rules! is_as {
    ($is:ident, $as:ident, $variant:ident, $t:ty, $doc:literal) => {
        #[doc = concat!("Whether the value is ", $doc, ".")]
        pub fn $is(&self) -> bool {
            matches!(self, Value::$variant(_))
        }

        #[doc = concat!("The ", $doc, ", if the value is one.")]
        pub fn $as(&self) -> Option<&$t> {
            match self {
                Value::$variant(x) => Some(x),
                _ => None,
            }
        }
    };
}

impl Value {
    /// Whether the value is `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// Whether the value is a `bool`.
    pub fn is_bool(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    /// The `bool`, if the value is one (not for ints: Python's `True` is a `bool`).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as `i64`, if it is an `int` that fits (bools are not ints here).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => i.as_i64(),
            _ => None,
        }
    }

    /// The value as `u64`, if it is an `int` that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => i.as_u64(),
            _ => None,
        }
    }

    /// The `float`, if the value is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text of a `str` without lone surrogates.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => s.as_str(),
            _ => None,
        }
    }

    /// The contents of a `bytes` or `bytearray`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) | Value::ByteArray(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a `list` or `tuple`.
    pub fn as_slice(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            Value::Tuple(t) => Some(t),
            _ => None,
        }
    }

    /// The members of a `set` or `frozenset`.
    pub fn as_any_set(&self) -> Option<&Set> {
        match self {
            Value::Set(s) | Value::FrozenSet(s) => Some(s),
            _ => None,
        }
    }

    is_as!(is_int, as_int, Int, Int, "an `int`");
    is_as!(is_float, as_float, Float, f64, "a `float`");
    is_as!(is_complex, as_complex, Complex, Complex, "a `complex`");
    is_as!(is_str, as_pystr, Str, PyStr, "a `str`");
    is_as!(is_bytes, as_bytes_obj, Bytes, Bytes, "a `bytes`");
    is_as!(
        is_bytearray,
        as_bytearray,
        ByteArray,
        Bytes,
        "a `bytearray`"
    );
    is_as!(is_list, as_list, List, List, "a `list`");
    is_as!(is_tuple, as_tuple, Tuple, Tuple, "a `tuple`");
    is_as!(is_dict, as_dict, Dict, Dict, "a `dict`");
    is_as!(is_set, as_set, Set, Set, "a `set`");
    is_as!(is_frozenset, as_frozenset, FrozenSet, Set, "a `frozenset`");
    is_as!(is_global, as_global, Global, Global, "a global");
    is_as!(is_object, as_object, Object, Object, "a recorded object");

    /// Python's `type(v).__name__`: `'NoneType'`, `'int'`, `'dict'`, …; for a recorded object
    /// the class name; for a global `'type'` (or `'builtin_function_or_method'` for
    /// `_codecs.encode`).
    pub fn type_name(&self) -> &str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Complex(_) => "complex",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global(g) => match g.builtin() {
                Some(b) if !b.is_type() => "builtin_function_or_method",
                _ => "type",
            },
            Value::Object(o) => match o.class() {
                Some(g) => g.name().as_str().unwrap_or("object"),
                None => "object",
            },
        }
    }

    /// An element of a list/tuple by position, or a dict value by key (`&str`, `usize` keys,
    /// or any `&Value`). `None` when absent or not a container.
    ///
    /// ```
    /// # use restricted_unpickler::Value;
    /// let v = Value::from(vec![Value::from("a"), Value::from(2)]);
    /// assert_eq!(v.get(1), Some(&Value::from(2)));
    /// assert_eq!(v.get(5), None);
    /// ```
    pub fn get<I: ValueIndex>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }

    /// A `bytes` value.
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Bytes::from(b))
    }

    /// A `tuple` value.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Tuple::from(items))
    }

    /// Type-exact, bit-exact structural equality: `1`, `1.0` and `True` differ, floats compare
    /// by bits (so NaN equals the same NaN), dicts compare in order, sets by membership, objects
    /// by their recorded contents. Shared sub-values are compared once.
    pub fn strict_eq(&self, other: &Value) -> bool {
        key::strict_eq(self, other)
    }

    /// Writes `v` over `self`, which is most often a `None` placeholder: that is overwritten
    /// without a call of the drop glue (a call per item, where the glue then finds nothing to
    /// free). Anything else is dropped as usual.
    #[inline(always)]
    pub(crate) fn fill(&mut self, v: Value) {
        if matches!(self, Value::None) {
            // Only the discriminant is read; the forgotten `None` is never loaded.
            std::mem::forget(std::mem::replace(self, v));
        } else {
            *self = v;
        }
    }

    /// Writes a clone of `self` over each of `dst` (as [`Value::fill`] does): the items of
    /// `[x] * n`. The kind of `self` is looked at once, not per clone.
    #[inline]
    pub(crate) fn fill_clones(&self, dst: &mut [Value]) {
        match self {
            Value::List(List(Seq::Slice(s))) => {
                for d in dst {
                    d.fill(Value::List(List(Seq::Slice(Arc::clone(s)))));
                }
            }
            Value::List(List(Seq::Vec(s))) => {
                for d in dst {
                    d.fill(Value::List(List(Seq::Vec(Arc::clone(s)))));
                }
            }
            Value::Dict(Dict(DictRepr::Small(s))) => {
                for d in dst {
                    d.fill(Value::Dict(Dict(DictRepr::Small(Arc::clone(s)))));
                }
            }
            _ => {
                for d in dst {
                    d.fill(self.clone());
                }
            }
        }
    }

    /// Whether dropping the value frees nothing (no shared storage): the decoder skips the
    /// drop glue for the many such values it discards at once.
    #[inline]
    pub(crate) fn owns_nothing(&self) -> bool {
        match self {
            Value::None | Value::Bool(_) | Value::Float(_) | Value::Complex(_) => true,
            Value::Int(i) => i.big_addr().is_none(),
            Value::Str(s) => s.inline_parts().is_some(),
            _ => false,
        }
    }

    /// The nesting depth the decoder counts for a finished value it holds directly (not as an
    /// object under construction): 1 for a container (the decoder holds only flat ones so:
    /// tuples of scalars), else 0.
    #[inline]
    pub(crate) fn shallow_depth(&self) -> u32 {
        match self {
            Value::List(_)
            | Value::Tuple(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::FrozenSet(_)
            | Value::Object(_) => 1,
            _ => 0,
        }
    }

    /// The address of the value's shared storage, for values whose hashing or comparison costs
    /// more than a few steps (identity-keyed caches keep a clone alive while they use it).
    pub(crate) fn shared_addr(&self) -> Option<usize> {
        match self {
            Value::Str(s) => s.addr(),
            Value::Bytes(b) => Some(b.addr()),
            Value::Int(i) => i.big_addr(),
            Value::Tuple(t) => Some(t.0.addr()),
            Value::List(l) => Some(l.0.addr()),
            Value::FrozenSet(s) | Value::Set(s) => Some(s.0.addr()),
            Value::Dict(d) => Some(d.addr()),
            _ => None,
        }
    }

    /// The cost of hashing or comparing this value alone, in work units (long payloads cost
    /// one unit per 64 bytes).
    pub(crate) fn weight(&self) -> u64 {
        let bytes = match self {
            Value::Str(s) => s.encoded_len() as u64,
            Value::Bytes(b) | Value::ByteArray(b) => b.len() as u64,
            Value::Int(i) => i.bit_length() / 8,
            _ => 0,
        };
        1 + bytes / 64
    }

    /// Whether this is a container that can hold other values.
    pub(crate) fn is_container(&self) -> bool {
        matches!(
            self,
            Value::List(_)
                | Value::Tuple(_)
                | Value::Dict(_)
                | Value::Set(_)
                | Value::FrozenSet(_)
                | Value::Object(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fill` writes over a `None` placeholder, and drops whatever else it writes over.
    #[test]
    fn fill_replaces_and_drops_what_it_overwrites() {
        let shared = List(Seq::from_grown(vec![Value::from(1)]));
        let mut slot = Value::None;
        slot.fill(Value::List(shared.clone()));
        assert!(matches!(&slot, Value::List(l) if l.ptr_eq(&shared)));
        assert!(!shared.0.is_unique());
        // Written over, the clone is dropped: `shared` is the only reference again.
        slot.fill(Value::from(2));
        assert!(shared.0.is_unique());
        assert_eq!(slot, Value::from(2));
    }
}
