//! The policy: [`FindClass`], the one door every global goes through, and the hooks for
//! persistent ids.
//!
//! `GLOBAL`, `STACK_GLOBAL`, `INST` and `EXT1/2/4` name globals. Each passes its raw
//! `(module, name)` (after the Python 2 `fix_imports` mapping, applied only while the active
//! protocol is below 3) to [`FindClass::find_class`], exactly once, and nowhere else. `OBJ`,
//! `NEWOBJ`, `NEWOBJ_EX`, `REDUCE` and `BUILD` only ever see what `find_class` returned. The match
//! is exact on the pair: no prefix, no case folding, no dotted-path walking.
//!
//! A global resolves to a [`Class`]: either one of the [`Builtin`] types whose constructor the
//! machine evaluates itself (in Rust, on data only: `set(list)`, `complex(re, im)`,
//! `_codecs.encode(str, 'latin1')`, …), or [`Class::Record`], which makes calls to it come back
//! as a recorded [`Object`](crate::Object) for the caller to interpret.

use std::collections::HashMap;

use crate::value::Value;

/// How an allowed global resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// A builtin whose calls the machine evaluates (only on plain data).
    Builtin(Builtin),
    /// Any other allowed global: the global itself is a [`Value::Global`], and calling it gives
    /// a recorded [`Value::Object`].
    Record,
}

/// The builtin constructors the machine knows how to evaluate, on data only.
///
/// Argument shapes the machine does not know are an error, never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Builtin {
    /// `str()`, `str(s)`, `str(b, encoding[, errors])`.
    Str,
    /// `list()`, `list(iterable)`.
    List,
    /// `dict()`, `dict(mapping)`, `dict(pairs)`.
    Dict,
    /// `set()`, `set(iterable)`.
    Set,
    /// `frozenset()`, `frozenset(iterable)`.
    FrozenSet,
    /// `int()`, `int(x)`, `int(s, base)`.
    Int,
    /// `float()`, `float(x)`.
    Float,
    /// `bool()`, `bool(x)`.
    Bool,
    /// `tuple()`, `tuple(iterable)`.
    Tuple,
    /// `bytes()`, `bytes(bytes_like)`, `bytes(ints)`, `bytes(n)`, `bytes(s, encoding)`.
    Bytes,
    /// `bytearray(...)`, same shapes as `bytes`.
    ByteArray,
    /// `complex()`, `complex(re)`, `complex(re, im)`.
    Complex,
    /// `_codecs.encode(s, 'latin1')`: how Python 3 pickles `bytes` at protocols 0–2 (also
    /// evaluated for `ascii` and `utf-8`, the default, as `bytes(s, enc)` is).
    CodecsEncode,
}

impl Builtin {
    /// Whether the builtin is a type (everything but `_codecs.encode`).
    pub fn is_type(self) -> bool {
        self != Builtin::CodecsEncode
    }

    /// The `(module, name)` Python 3 uses for it.
    pub fn python_name(self) -> (&'static str, &'static str) {
        match self {
            Builtin::Str => ("builtins", "str"),
            Builtin::List => ("builtins", "list"),
            Builtin::Dict => ("builtins", "dict"),
            Builtin::Set => ("builtins", "set"),
            Builtin::FrozenSet => ("builtins", "frozenset"),
            Builtin::Int => ("builtins", "int"),
            Builtin::Float => ("builtins", "float"),
            Builtin::Bool => ("builtins", "bool"),
            Builtin::Tuple => ("builtins", "tuple"),
            Builtin::Bytes => ("builtins", "bytes"),
            Builtin::ByteArray => ("builtins", "bytearray"),
            Builtin::Complex => ("builtins", "complex"),
            Builtin::CodecsEncode => ("_codecs", "encode"),
        }
    }

    /// Every builtin.
    pub const ALL: &'static [Builtin] = &[
        Builtin::Str,
        Builtin::List,
        Builtin::Dict,
        Builtin::Set,
        Builtin::FrozenSet,
        Builtin::Int,
        Builtin::Float,
        Builtin::Bool,
        Builtin::Tuple,
        Builtin::Bytes,
        Builtin::ByteArray,
        Builtin::Complex,
        Builtin::CodecsEncode,
    ];

    /// The builtin Python 3 names `(module, name)`, if any.
    pub fn from_python_name(module: &str, name: &str) -> Option<Builtin> {
        Builtin::ALL
            .iter()
            .copied()
            .find(|b| b.python_name() == (module, name))
    }
}

/// Python's `Unpickler.find_class`: decides what a global `(module, name)` may be.
///
/// Return `None` to forbid the global; decoding then fails with
/// `global 'module.name' is forbidden`. Implemented for [`Allowlist`], [`DefaultPolicy`] and any
/// `Fn(&str, &str) -> Option<Class>` closure.
///
/// ```
/// use restricted_unpickler::{Class, Unpickler};
/// // pickle.dumps(collections.OrderedDict, protocol=0)
/// let data = b"ccollections\nOrderedDict\np0\n.";
/// let policy = |module: &str, name: &str| match (module, name) {
///     ("collections", "OrderedDict") => Some(Class::Record),
///     _ => None,
/// };
/// let v = Unpickler::from_slice(data).find_class(policy).load()?;
/// assert_eq!(v.as_global().unwrap().name(), "OrderedDict");
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
pub trait FindClass {
    /// Resolves `(module, name)`, or `None` to forbid it.
    fn find_class(&self, module: &str, name: &str) -> Option<Class>;
}

impl<F> FindClass for F
where
    F: Fn(&str, &str) -> Option<Class>,
{
    fn find_class(&self, module: &str, name: &str) -> Option<Class> {
        self(module, name)
    }
}

/// The policy of [`restricted_loads`](crate::restricted_loads): `builtins` `str`, `list`,
/// `dict`, `set`, `frozenset`, `int`, `float`, `bool`, `tuple`, `bytes`, `bytearray`, `complex`
/// and `_codecs.encode` — what CPython 3 needs to pickle its own builtin types at
/// protocols 0–5, nothing more.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl FindClass for DefaultPolicy {
    fn find_class(&self, module: &str, name: &str) -> Option<Class> {
        Builtin::from_python_name(module, name).map(Class::Builtin)
    }
}

/// An allowlist of exact `(module, name)` pairs.
///
/// ```
/// use restricted_unpickler::{Allowlist, Unpickler};
/// let policy = Allowlist::builtins().allow("datetime", "date");
/// // pickle.dumps(datetime.date(2020, 1, 2), protocol=3)
/// let data = b"\x80\x03cdatetime\ndate\nq\x00C\x04\x07\xe4\x01\x02q\x01\x85q\x02Rq\x03.";
/// let v = Unpickler::from_slice(data).find_class(policy).load()?;
/// let date = v.as_object().unwrap();
/// assert_eq!(date.class().unwrap().name(), "date");
/// assert_eq!(date.args()[0], b"\x07\xe4\x01\x02"[..]);
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    builtins: bool,
    entries: HashMap<String, HashMap<String, Class>>,
}

impl Allowlist {
    /// An allowlist that forbids everything (even the builtin types).
    pub fn new() -> Self {
        Allowlist::default()
    }

    /// An allowlist starting from the [`DefaultPolicy`] builtins.
    pub fn builtins() -> Self {
        Allowlist {
            builtins: true,
            entries: HashMap::new(),
        }
    }

    /// Allows `module.name`, recorded (its calls become [`Object`](crate::Object)s).
    #[must_use]
    pub fn allow(self, module: &str, name: &str) -> Self {
        self.allow_as(module, name, Class::Record)
    }

    /// Allows `module.name`, resolved to `class` (e.g. `collections.OrderedDict` evaluated as
    /// `Class::Builtin(Builtin::Dict)`, so it loads as a plain dict).
    #[must_use]
    pub fn allow_as(mut self, module: &str, name: &str, class: Class) -> Self {
        self.entries
            .entry(module.to_owned())
            .or_default()
            .insert(name.to_owned(), class);
        self
    }

    /// Whether `module.name` is allowed.
    pub fn contains(&self, module: &str, name: &str) -> bool {
        self.find_class(module, name).is_some()
    }
}

impl FindClass for Allowlist {
    fn find_class(&self, module: &str, name: &str) -> Option<Class> {
        if let Some(c) = self.entries.get(module).and_then(|m| m.get(name)) {
            return Some(*c);
        }
        if self.builtins {
            return DefaultPolicy.find_class(module, name);
        }
        None
    }
}

/// Python's `Unpickler.persistent_load`: resolves the id of `PERSID` (a str) and `BINPERSID`
/// (any value) to a value. Without one, those opcodes fail like CPython's.
///
/// Implemented for closures `Fn(&Value) -> Result<Value, String>`; an `Err` message becomes an
/// `UnpicklingError`.
///
/// ```
/// use restricted_unpickler::{Unpickler, Value};
/// let hook = |pid: &Value| Ok(Value::from(format!("resolved {pid}")));
/// let v = Unpickler::from_slice(b"Pabc\n.").persistent_load(hook).load()?;
/// assert_eq!(v, "resolved 'abc'");
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
pub trait PersistentLoad {
    /// Resolves a persistent id.
    ///
    /// # Errors
    /// A message; decoding stops with it as an `UnpicklingError`.
    fn persistent_load(&self, pid: &Value) -> Result<Value, String>;
}

impl<F> PersistentLoad for F
where
    F: Fn(&Value) -> Result<Value, String>,
{
    fn persistent_load(&self, pid: &Value) -> Result<Value, String> {
        self(pid)
    }
}
