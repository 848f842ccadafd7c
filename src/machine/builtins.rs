//! Evaluation of the [`Builtin`] constructors, on data only.
//!
//! `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ` and `INST` of a builtin type run here, in Rust, for the
//! argument shapes CPython's own pickler produces (and the other common ones): `set(list)`,
//! `frozenset(list)`, `bytearray(bytes)`, `complex(re, im)`, `bytes()`, `_codecs.encode(s,
//! 'latin1')`, `int(s, base)`, … Every other shape is an error. Sizes are charged to the budget
//! before anything is allocated (`bytes(10**12)` is a limit error, not an allocation).
//!
//! `cls.__new__(cls, *args)` (NEWOBJ) follows Python: the immutable types (`int`, `str`, `tuple`,
//! `frozenset`, `bytes`, `float`, `complex`, `bool`) build their value in `__new__`; the mutable
//! ones (`list`, `dict`, `set`, `bytearray`) return an empty object and ignore the arguments.

use super::arena::{Items, Node, internal};
use super::{Config, Machine, Slot, decode_py2};
use crate::codec;
use crate::error::{Error, ErrorKind, PyException, Result};
use crate::find_class::Builtin;
use crate::number::{self, IntLit};
use crate::pystr::{PyStr, StrBuilder};
use crate::reader::Source;
use crate::value::{Bytes, Complex, Construct, Int, Value};

fn type_error(msg: impl Into<String>) -> Error {
    Error::py(PyException::TypeError, msg)
}

fn value_error(msg: impl Into<String>) -> Error {
    Error::py(PyException::ValueError, msg)
}

/// CPython's `LookupError` for a codec name it does not know.
fn unknown_encoding(enc: &PyStr) -> Error {
    Error::py(PyException::LookupError, format!("unknown encoding: {enc}"))
}

/// A call CPython would evaluate that this crate deliberately does not (only data constructors
/// on plain data are evaluated).
fn unsupported(msg: impl Into<String>) -> Error {
    Error::bare(crate::error::ErrorKind::Unsupported(msg.into()))
}

impl Machine {
    /// Calls builtin `b` with the tuple `args` (and `kwargs` for `NEWOBJ_EX`).
    pub(super) fn call_builtin<S: Source>(
        &mut self,
        b: Builtin,
        construct: Construct,
        args: Slot,
        kwargs: Option<Slot>,
        cfg: &Config<'_>,
        src: &S,
    ) -> Result<Slot> {
        let limits = &cfg.limits;
        let args = self.tuple_items(&args)?;
        let new = matches!(construct, Construct::NewObj | Construct::NewObjEx);
        let mutable = matches!(
            b,
            Builtin::List | Builtin::Set | Builtin::Dict | Builtin::ByteArray
        );
        if new && mutable {
            // `__new__` of the mutable types ignores its arguments (they go to `__init__`,
            // which NEWOBJ does not call).
            return self.make_empty(b, src, limits);
        }
        let name = b.python_name().1;
        if let Some(kw) = &kwargs {
            let keys = self.iterate(kw)?;
            if !keys.is_empty() {
                return Err(self.keywords_error(b, args.len(), &keys));
            }
        }
        // CPython's two wordings: Argument Clinic's for the builtins with keyword parameters,
        // `_PyArg_CheckPositional`'s for the others.
        let clinic = matches!(
            b,
            Builtin::Str | Builtin::Int | Builtin::Bytes | Builtin::ByteArray | Builtin::Complex
        );
        let at_most = |n: usize| -> Result<()> {
            if args.len() <= n {
                Ok(())
            } else if clinic {
                Err(type_error(format!(
                    "{name}() takes at most {n} arguments ({} given)",
                    args.len()
                )))
            } else {
                Err(type_error(format!(
                    "{name} expected at most {n} argument{}, got {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                )))
            }
        };
        match b {
            Builtin::List | Builtin::Tuple => {
                at_most(1)?;
                let what = if b == Builtin::List { "list" } else { "tuple" };
                let items = match args.first() {
                    Some(it) => self.iterate_ordered(it, what)?,
                    None => Vec::new(),
                };
                self.work(items.len() as u64, src, limits)?;
                self.alloc(32 + 24 * items.len() as u64, src, limits)?;
                self.new_node(
                    if b == Builtin::List {
                        Node::List(Items::from_slots(items))
                    } else {
                        Node::Tuple(Items::from_slots(items))
                    },
                    src,
                    limits,
                )
            }
            Builtin::Set | Builtin::FrozenSet => {
                at_most(1)?;
                let items = match args.first() {
                    Some(it) => self.iterate(it)?,
                    None => Vec::new(),
                };
                self.work(items.len() as u64, src, limits)?;
                let node = self.new_node(Node::empty_set(b == Builtin::FrozenSet), src, limits)?;
                self.add_to_set(&node, items, b == Builtin::FrozenSet, src, limits)?;
                Ok(node)
            }
            Builtin::Dict => {
                at_most(1)?;
                let node = self.make_empty(b, src, limits)?;
                if let Some(arg) = args.first() {
                    let pairs = self.dict_pairs(arg)?;
                    self.work(pairs.len() as u64, src, limits)?;
                    self.set_items(&node, pairs.into_iter(), src, limits)?;
                }
                Ok(node)
            }
            Builtin::ByteArray | Builtin::Bytes => {
                at_most(3)?;
                let data = self.bytes_arg(&args, name, src, limits)?;
                Ok(Slot::Val(if b == Builtin::Bytes {
                    Value::Bytes(data)
                } else {
                    Value::ByteArray(data)
                }))
            }
            Builtin::Str => {
                at_most(3)?;
                let s = self.str_arg(&args, cfg)?;
                self.alloc(32 + s.encoded_len() as u64, src, limits)?;
                Ok(Slot::Val(Value::Str(s)))
            }
            Builtin::Int => {
                at_most(2)?;
                Ok(Slot::Val(self.int_arg(&args, cfg)?))
            }
            Builtin::Float => {
                at_most(1)?;
                let f = match args.first().map(|a| self.scalar(a)) {
                    None => 0.0,
                    Some(Some(v)) => to_float(&v)?,
                    Some(None) => {
                        return Err(type_error(format!(
                            "float() argument must be a string or a real number, not '{}'",
                            args.first()
                                .map_or_else(String::new, |a| self.slot_type_name(a))
                        )));
                    }
                };
                Ok(Slot::Val(Value::Float(f)))
            }
            Builtin::Bool => {
                at_most(1)?;
                let t = match args.first() {
                    None => false,
                    Some(a) => self.truthy(a),
                };
                Ok(Slot::Val(Value::Bool(t)))
            }
            Builtin::Complex => {
                at_most(2)?;
                let second = args.len() > 1;
                let part =
                    |m: &Machine, s: Option<&Slot>, first: bool| -> Result<Option<Complex>> {
                        let Some(s) = s else {
                            return Ok(None);
                        };
                        match m.scalar(s) {
                            Some(Value::Complex(c)) => Ok(Some(c)),
                            Some(v @ (Value::Int(_) | Value::Bool(_) | Value::Float(_))) => {
                                Ok(Some(Complex {
                                    re: to_float(&v)?,
                                    im: 0.0,
                                }))
                            }
                            Some(Value::Str(_)) if first && second => Err(type_error(
                                "complex() can't take second arg if first is a string",
                            )),
                            Some(Value::Str(_)) if first => Err(unsupported(
                                "complex() of a str is not evaluated (only of numbers)",
                            )),
                            Some(Value::Str(_)) => {
                                Err(type_error("complex() second arg can't be a string"))
                            }
                            _ if first => Err(type_error(format!(
                                "complex() first argument must be a string or a number, not '{}'",
                                m.slot_type_name(s)
                            ))),
                            _ => Err(type_error(format!(
                                "complex() second argument must be a number, not '{}'",
                                m.slot_type_name(s)
                            ))),
                        }
                    };
                // CPython looks at a str second argument before the first argument's type.
                let is_str = |s: Option<&Slot>| {
                    matches!(s.and_then(|s| self.scalar(s)), Some(Value::Str(_)))
                };
                if is_str(args.get(1)) && !is_str(args.first()) {
                    return Err(type_error("complex() second arg can't be a string"));
                }
                let re = part(self, args.first(), true)?;
                let im = part(self, args.get(1), false)?;
                let c = match (re, im) {
                    (None, _) => Complex::default(),
                    (Some(r), None) => r,
                    // Both real: used as is (keeps the sign of a zero imaginary part).
                    (Some(r), Some(i))
                        if r.im == 0.0
                            && i.im == 0.0
                            && !is_complex(self, args.first())
                            && !is_complex(self, args.get(1)) =>
                    {
                        Complex { re: r.re, im: i.re }
                    }
                    (Some(r), Some(i)) => Complex {
                        re: r.re - i.im,
                        im: r.im + i.re,
                    },
                };
                Ok(Slot::Val(Value::Complex(c)))
            }
            Builtin::CodecsEncode => {
                if new {
                    return Err(internal());
                }
                let [enc, errors] = self.codecs_encode_args(&args)?;
                // The codec is looked up before anything is done with the object.
                let enc = enc.unwrap_or_else(|| PyStr::from("utf-8"));
                let codec = match codec::lookup_python_codec(&enc.to_string()) {
                    Some(found) => found,
                    None => return Err(unknown_encoding(&enc)),
                };
                let s = match args.first().map(|a| (a, self.scalar(a))) {
                    Some((_, Some(Value::Str(s)))) => s,
                    Some((arg, other)) => {
                        let Some(func) = codec.map(codec::Codec::encode_function) else {
                            return Err(unsupported(format!(
                                "_codecs.encode() with the {enc:?} codec is not evaluated"
                            )));
                        };
                        let found = match other {
                            Some(Value::None) => "None".to_owned(),
                            _ => self.slot_type_name(arg),
                        };
                        return Err(type_error(format!(
                            "encoding with {enc:?} codec failed (TypeError: {func}() argument 1 \
                             must be str, not {found})"
                        )));
                    }
                    None => return Err(internal()),
                };
                // Long Latin-1 text (how protocols 0–2 pickle `bytes`) already holds the
                // encoded bytes: shared, not copied.
                if codec == Some(codec::Codec::Latin1) {
                    if let Some(shared) = s.latin1_bytes() {
                        self.alloc(32 + shared.len() as u64, src, limits)?;
                        return Ok(Slot::Val(Value::Bytes(Bytes::from_shared(shared.clone()))));
                    }
                }
                let mut charge = |n: u64| self.alloc(32 + n, src, limits);
                let out = encode_with(&s, codec, &enc, errors.as_ref(), true, &mut charge)?;
                Ok(Slot::Val(Value::Bytes(Bytes::from(out))))
            }
        }
    }

    /// What `cls.__new__(cls, *args, **kwargs)` (`NEWOBJ_EX`) of an immutable builtin does with
    /// keyword arguments `keys` (not empty), checked as CPython's argument parsing checks them:
    /// the types without keyword parameters refuse any; for `int(x, /, base)`, `str(object,
    /// encoding, errors)`, `bytes(source, encoding, errors)` and `complex(real, imag)` too many
    /// arguments, a key that is not a str, a parameter given twice or a name that is not a
    /// parameter is CPython's `TypeError`. Well-formed keywords are not evaluated.
    fn keywords_error(&self, b: Builtin, positional: usize, keys: &[Slot]) -> Error {
        let name = b.python_name().1;
        let params: &[&str] = match b {
            Builtin::Int => &["", "base"],
            Builtin::Str => &["object", "encoding", "errors"],
            Builtin::Bytes => &["source", "encoding", "errors"],
            Builtin::Complex => &["real", "imag"],
            _ => return type_error(format!("{name}() takes no keyword arguments")),
        };
        let total = positional + keys.len();
        if total > params.len() {
            return type_error(format!(
                "{name}() takes at most {} {}arguments ({total} given)",
                params.len(),
                if positional == 0 { "keyword " } else { "" }
            ));
        }
        for key in keys {
            let Some(Value::Str(key)) = self.scalar(key) else {
                return type_error("keywords must be strings");
            };
            let text = key.to_string();
            match params.iter().position(|p| !p.is_empty() && *p == text) {
                Some(i) if i < positional => {
                    return type_error(format!(
                        "argument for {name}() given by name ({key:?}) and position ({})",
                        i + 1
                    ));
                }
                Some(_) => {}
                None => {
                    return type_error(format!(
                        "{key:?} is an invalid keyword argument for {name}()"
                    ));
                }
            }
        }
        unsupported(format!(
            "keyword arguments to {}.{name}() are not evaluated",
            b.python_name().0
        ))
    }

    fn make_empty<S: Source>(
        &mut self,
        b: Builtin,
        src: &S,
        limits: &crate::Limits,
    ) -> Result<Slot> {
        self.alloc(64, src, limits)?;
        match b {
            Builtin::List => self.new_node(Node::List(Items::default()), src, limits),
            Builtin::Dict => self.new_node(Node::empty_dict(), src, limits),
            Builtin::Set => self.new_node(Node::empty_set(false), src, limits),
            Builtin::ByteArray => Ok(Slot::Val(Value::ByteArray(Bytes::from(&[][..])))),
            _ => Err(internal()),
        }
    }

    /// The finished value behind a slot, when it is not a container under construction.
    fn scalar(&self, s: &Slot) -> Option<Value> {
        match s {
            Slot::Val(v) => Some(v.clone()),
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Done(v, _)) => Some(v.clone()),
                _ => None,
            },
        }
    }

    /// The items of a tuple slot.
    fn tuple_items(&self, s: &Slot) -> Result<Vec<Slot>> {
        match s {
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Tuple(items)) => Ok(items.to_slots()),
                Some(Node::Done(Value::Tuple(t), _)) => {
                    Ok(t.iter().cloned().map(Slot::Val).collect())
                }
                _ => Err(type_error("argument list must be a tuple")),
            },
            Slot::Val(Value::Tuple(t)) => Ok(t.iter().cloned().map(Slot::Val).collect()),
            Slot::Val(_) => Err(type_error("argument list must be a tuple")),
        }
    }

    /// [`Machine::iterate`] for a builtin whose result keeps the order of the items (`what`:
    /// `list`, `tuple`, `dict`, `bytes`, `bytearray`). A set or frozenset of two members or more
    /// is refused: CPython yields a set's members in the order of its hash table (for ints, by
    /// their value modulo the table's size; for strs, by a per-process random hash), which is
    /// not reproduced here, and a result in another order would not be CPython's. No pickler
    /// writes such a call: CPython pickles a set as a set.
    fn iterate_ordered(&self, s: &Slot, what: &str) -> Result<Vec<Slot>> {
        let members = match s {
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Set { keys, .. }) => Some(keys.len()),
                Some(Node::Done(Value::Set(set) | Value::FrozenSet(set), _)) => Some(set.len()),
                _ => None,
            },
            Slot::Val(Value::Set(set) | Value::FrozenSet(set)) => Some(set.len()),
            Slot::Val(_) => None,
        };
        match members {
            Some(n) if n > 1 => Err(unsupported(format!(
                "{what}() of a set of {n} members: CPython gives them in its hash table's \
                 order, which is not reproduced"
            ))),
            _ => self.iterate(s),
        }
    }

    /// Python's `iter(x)` for the iterable builtins: items of a list/tuple, members of a set,
    /// keys of a dict, characters of a str, ints of a bytes.
    fn iterate(&self, s: &Slot) -> Result<Vec<Slot>> {
        let node_val;
        let v = match s {
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::List(items) | Node::Tuple(items)) => return Ok(items.to_slots()),
                Some(Node::Set { keys, .. } | Node::Dict { keys, .. }) => {
                    return Ok(keys.iter().map(|k| Slot::Val(k.value.clone())).collect());
                }
                Some(Node::SealedDict { dict, .. }) => {
                    return Ok(dict
                        .keys
                        .iter()
                        .map(|k| Slot::Val(k.value.clone()))
                        .collect());
                }
                Some(Node::Done(v, _)) => {
                    node_val = v.clone();
                    &node_val
                }
                Some(node) => {
                    return Err(type_error(format!(
                        "'{}' object is not iterable",
                        node.type_name()
                    )));
                }
                None => return Err(internal()),
            },
            Slot::Val(v) => v,
        };
        Ok(match v {
            Value::List(l) => l.iter().cloned().map(Slot::Val).collect(),
            Value::Tuple(t) => t.iter().cloned().map(Slot::Val).collect(),
            Value::Set(s) | Value::FrozenSet(s) => s.iter().cloned().map(Slot::Val).collect(),
            Value::Dict(d) => d.keys().cloned().map(Slot::Val).collect(),
            Value::Str(s) => s
                .code_points()
                .map(|cp| {
                    let mut b = StrBuilder::with_capacity(4);
                    b.push_code_point(cp);
                    Slot::Val(Value::Str(b.finish()))
                })
                .collect(),
            Value::Bytes(b) | Value::ByteArray(b) => {
                b.iter().map(|&x| Slot::Val(Value::from(x))).collect()
            }
            other => {
                return Err(type_error(format!(
                    "'{}' object is not iterable",
                    other.type_name()
                )));
            }
        })
    }

    /// `dict(x)`: a dict's pairs, or an iterable of 2-item sequences, flattened.
    fn dict_pairs(&self, s: &Slot) -> Result<Vec<Slot>> {
        if let Slot::Node(id) = s {
            if let Some(pairs) = self.arena.dict_pairs(*id) {
                let mut out = Vec::with_capacity(pairs.len() * 2);
                for (k, v) in pairs {
                    out.push(k);
                    out.push(v);
                }
                return Ok(out);
            }
        }
        if let Some(Value::Dict(d)) = self.scalar(s) {
            let mut out = Vec::with_capacity(d.len() * 2);
            for (k, v) in d.iter() {
                out.push(Slot::Val(k.clone()));
                out.push(Slot::Val(v.clone()));
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        for (i, item) in self.iterate_ordered(s, "dict")?.iter().enumerate() {
            if self.scalar(item).is_some_and(|v| !is_iterable(&v)) {
                return Err(type_error(format!(
                    "cannot convert dictionary update sequence element #{i} to a sequence"
                )));
            }
            let pair = self.iterate_ordered(item, "dict")?;
            if pair.len() != 2 {
                return Err(value_error(format!(
                    "dictionary update sequence element #{i} has length {}; 2 is required",
                    pair.len()
                )));
            }
            out.extend(pair);
        }
        Ok(out)
    }

    /// Python's truth value of a slot.
    fn truthy(&self, s: &Slot) -> bool {
        match s {
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::List(items) | Node::Tuple(items)) => !items.is_empty(),
                Some(Node::Dict { values, .. }) => !values.is_empty(),
                Some(Node::SealedDict { dict, .. }) => !dict.values.is_empty(),
                Some(Node::Set { keys, .. }) => !keys.is_empty(),
                Some(Node::Done(v, _)) => truthy_value(v),
                _ => true,
            },
            Slot::Val(v) => truthy_value(v),
        }
    }

    /// The contents for `bytes(...)`/`bytearray(...)`.
    fn bytes_arg<S: Source>(
        &mut self,
        args: &[Slot],
        name: &str,
        src: &S,
        limits: &crate::Limits,
    ) -> Result<Bytes> {
        let first = match args.first() {
            None => return Ok(Bytes::from(Vec::new())),
            Some(a) => a,
        };
        let [enc, errors] = self.str_params(args, name)?;
        match (self.scalar(first), enc) {
            (Some(Value::Str(s)), Some(enc)) => {
                let mut charge = |n: u64| self.alloc(32 + n, src, limits);
                let out = encode_str(&s, &enc, errors.as_ref(), &mut charge)?;
                Ok(Bytes::from(out))
            }
            (Some(Value::Str(_)), None) => Err(type_error("string argument without an encoding")),
            (_, Some(_)) => Err(type_error("encoding without a string argument")),
            (Some(Value::Bytes(b) | Value::ByteArray(b)), _) => {
                // Charged as the copy CPython makes, but shared: both are immutable here.
                self.alloc(32 + b.len() as u64, src, limits)?;
                Ok(b)
            }
            // (A bool is an int: `bytes(True)` is `b'\\x00'`.)
            (Some(Value::Bool(b)), _) => {
                self.alloc(32 + u64::from(b), src, limits)?;
                Ok(Bytes::from(vec![0u8; usize::from(b)]))
            }
            (Some(Value::Int(i)), _) => {
                let n = i.as_i64().ok_or_else(|| {
                    Error::py(
                        PyException::OverflowError,
                        "cannot fit 'int' into an index-sized integer",
                    )
                })?;
                let n = u64::try_from(n).map_err(|_| value_error("negative count"))?;
                if n > limits.max_payload_len {
                    return Err(Error::limit("max_payload_len", limits.max_payload_len));
                }
                self.alloc(32 + n, src, limits)?;
                let n = usize::try_from(n).map_err(|_| Error::limit("max_payload_len", n))?;
                Ok(Bytes::from(vec![0u8; n]))
            }
            (v, _) => {
                if let Some(v) = v.filter(|v| !is_iterable(v)) {
                    return Err(type_error(format!(
                        "cannot convert '{}' object to {name}",
                        v.type_name()
                    )));
                }
                let items = self.iterate_ordered(first, name)?;
                self.work(items.len() as u64, src, limits)?;
                self.alloc(32 + items.len() as u64, src, limits)?;
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    let byte = match self.scalar(item) {
                        Some(Value::Int(i)) => i
                            .as_i64()
                            .and_then(|v| u8::try_from(v).ok())
                            .ok_or_else(|| {
                                // (bytearray's own wording.)
                                value_error(if name == "bytes" {
                                    "bytes must be in range(0, 256)"
                                } else {
                                    "byte must be in range(0, 256)"
                                })
                            })?,
                        Some(Value::Bool(b)) => u8::from(b),
                        Some(v) => {
                            return Err(type_error(format!(
                                "'{}' object cannot be interpreted as an integer",
                                v.type_name()
                            )));
                        }
                        None => {
                            return Err(type_error(format!(
                                "'{}' object cannot be interpreted as an integer",
                                self.slot_type_name(item)
                            )));
                        }
                    };
                    out.push(byte);
                }
                Ok(Bytes::from(out))
            }
        }
    }

    /// What `_codecs.encode(obj, encoding='utf-8', errors='strict')` checks of its arguments
    /// before it looks a codec up, with CPython's errors: one to three of them, `encoding` and
    /// `errors` strs without a NUL.
    fn codecs_encode_args(&self, args: &[Slot]) -> Result<[Option<PyStr>; 2]> {
        if args.is_empty() {
            return Err(type_error(
                "encode() missing required argument 'obj' (pos 1)",
            ));
        }
        if args.len() > 3 {
            return Err(type_error(format!(
                "encode() takes at most 3 arguments ({} given)",
                args.len()
            )));
        }
        self.str_params(args, "encode")
    }

    /// The optional `encoding` and `errors` arguments (`args[1]`, `args[2]`) of `func`
    /// (`bytes`, `bytearray`, `encode`, `str`), checked as CPython's argument parsing checks
    /// them, before anything else: each a str without a lone surrogate or a NUL.
    fn str_params(&self, args: &[Slot], func: &str) -> Result<[Option<PyStr>; 2]> {
        let mut out = [None, None];
        for ((arg, name), slot) in args
            .iter()
            .skip(1)
            .zip(["encoding", "errors"])
            .zip(&mut out)
        {
            match self.scalar(arg) {
                // (CPython converts it to a C string: UTF-8 first, then the NUL check.)
                Some(Value::Str(s)) if s.has_surrogates() => {
                    return Err(encode_error(
                        "utf-8",
                        &s,
                        |c| (0xD800..=0xDFFF).contains(&c),
                        "surrogates not allowed",
                    ));
                }
                Some(Value::Str(s)) if s.as_encoded_bytes().contains(&0) => {
                    return Err(value_error("embedded null character"));
                }
                Some(Value::Str(s)) => *slot = Some(s),
                other => {
                    // (Argument Clinic's wording: `not None`, else the type's name.)
                    let found = match other {
                        Some(Value::None) => "None".to_owned(),
                        _ => self.slot_type_name(arg),
                    };
                    return Err(type_error(format!(
                        "{func}() argument '{name}' must be str, not {found}"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The value for `str(...)`.
    fn str_arg(&self, args: &[Slot], cfg: &Config<'_>) -> Result<PyStr> {
        let Some(arg) = args.first() else {
            return Ok(PyStr::empty());
        };
        let [enc, errors] = self.str_params(args, "str")?;
        let first = self.scalar(arg);
        if args.len() > 1 {
            return match first {
                Some(Value::Bytes(b) | Value::ByteArray(b)) => {
                    let enc = enc.map_or_else(|| "utf-8".into(), |e| e.to_string());
                    let errors = errors.map_or_else(|| "strict".into(), |e| e.to_string());
                    match decode_py2(&b, &enc, &errors)? {
                        Value::Str(s) => Ok(s),
                        _ => Err(value_error("str() cannot decode with the 'bytes' codec")),
                    }
                }
                Some(Value::Str(_)) => Err(type_error("decoding str is not supported")),
                _ => Err(type_error(format!(
                    "decoding to str: need a bytes-like object, {} found",
                    self.slot_type_name(arg)
                ))),
            };
        }
        match first {
            Some(Value::Str(s)) => Ok(s),
            Some(v) if !v.is_container() && !v.is_global() => {
                if let Value::Int(i) = &v {
                    let limit = cfg.limits.max_int_digits as u64;
                    // About 3.32 bits per decimal digit; CPython refuses str() beyond the limit.
                    if limit > 0 && i.bit_length() > limit.saturating_mul(3322) / 1000 + 1 {
                        return Err(Error::limit("max_int_digits", limit));
                    }
                }
                Ok(PyStr::from(v.to_string()))
            }
            // CPython would call `repr()`: not evaluated here.
            _ => Err(unsupported(format!(
                "str() of a '{}' is not evaluated (only of scalars, and of bytes with an encoding)",
                self.slot_type_name(arg)
            ))),
        }
    }

    /// The value for `int(...)`.
    fn int_arg(&self, args: &[Slot], cfg: &Config<'_>) -> Result<Value> {
        let first = match args.first() {
            None => return Ok(Value::Int(Int::from(0))),
            Some(a) => self.scalar(a),
        };
        let base = match args.get(1).map(|a| self.scalar(a)) {
            None => None,
            // (A bool is an int: `int('0x10', False)` is base 0.)
            Some(Some(Value::Int(b))) => match b.as_i64() {
                Some(b @ (0 | 2..=36)) => Some(b as u32),
                _ => return Err(value_error("int() base must be >= 2 and <= 36, or 0")),
            },
            Some(Some(Value::Bool(false))) => Some(0),
            Some(Some(Value::Bool(true))) => {
                return Err(value_error("int() base must be >= 2 and <= 36, or 0"));
            }
            Some(_) => {
                let found = args
                    .get(1)
                    .map_or_else(String::new, |a| self.slot_type_name(a));
                return Err(type_error(format!(
                    "'{found}' object cannot be interpreted as an integer"
                )));
            }
        };
        // The int `bytes` spell, or `None` if they are not an int literal.
        let text = |bytes: &[u8], base: u32| -> Result<Option<Value>> {
            match number::parse_int(bytes, base, cfg.limits.max_int_digits) {
                Ok(IntLit::Small(v)) => Ok(Some(Value::Int(Int::from(v)))),
                Ok(IntLit::Wide(v)) => Ok(Some(Value::Int(Int::from(v)))),
                Ok(IntLit::Big(b)) => Ok(Some(Value::Int(Int::from(b)))),
                Err(number::IntError::TooManyDigits { .. }) => Err(Error::limit(
                    "max_int_digits",
                    cfg.limits.max_int_digits as u64,
                )),
                Err(number::IntError::Invalid) => Ok(None),
            }
        };
        match (first, base) {
            (Some(Value::Int(i)), None) => Ok(Value::Int(i)),
            (Some(Value::Bool(b)), None) => Ok(Value::Int(Int::from(b))),
            (Some(Value::Float(f)), None) => {
                if f.is_nan() {
                    return Err(value_error("cannot convert float NaN to integer"));
                }
                if f.is_infinite() {
                    return Err(Error::py(
                        PyException::OverflowError,
                        "cannot convert float infinity to integer",
                    ));
                }
                let t = f.trunc();
                if t.abs() < 9.2e18 {
                    Ok(Value::Int(Int::from(t as i64)))
                } else {
                    use num_traits::FromPrimitive;
                    let b = num_bigint::BigInt::from_f64(t).ok_or_else(internal)?;
                    Ok(Value::Int(Int::from(b)))
                }
            }
            (Some(Value::Str(s)), base) => {
                let base = base.unwrap_or(10);
                let parsed = match s.as_str().filter(|t| t.is_ascii()) {
                    Some(t) => text(t.as_bytes(), base)?,
                    None => text(&number::number_text(s.code_points()), base)?,
                };
                parsed.ok_or_else(|| {
                    // CPython: `%.200R` of the str, its repr cut to 200 characters.
                    let repr: String = format!("{s:?}").chars().take(200).collect();
                    value_error(format!(
                        "invalid literal for int() with base {base}: {repr}"
                    ))
                })
            }
            (Some(Value::Bytes(b) | Value::ByteArray(b)), base) => {
                let base = base.unwrap_or(10);
                text(&b, base)?.ok_or_else(|| value_error(number::format_int_error(&b, base)))
            }
            (Some(_), Some(_)) => Err(type_error(
                "int() can't convert non-string with explicit base",
            )),
            (Some(v), None) => Err(type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                v.type_name()
            ))),
            (None, Some(_)) => Err(type_error(
                "int() can't convert non-string with explicit base",
            )),
            (None, None) => Err(type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                args.first()
                    .map_or_else(String::new, |a| self.slot_type_name(a))
            ))),
        }
    }
}

fn is_complex(m: &Machine, s: Option<&Slot>) -> bool {
    matches!(s.and_then(|s| m.scalar(s)), Some(Value::Complex(_)))
}

/// Whether `iter(v)` succeeds.
fn is_iterable(v: &Value) -> bool {
    matches!(
        v,
        Value::Str(_)
            | Value::Bytes(_)
            | Value::ByteArray(_)
            | Value::List(_)
            | Value::Tuple(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::FrozenSet(_)
    )
}

fn truthy_value(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => !i.is_zero(),
        Value::Float(f) => *f != 0.0,
        Value::Complex(c) => c.re != 0.0 || c.im != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Bytes(b) | Value::ByteArray(b) => !b.is_empty(),
        Value::List(l) => !l.is_empty(),
        Value::Tuple(t) => !t.is_empty(),
        Value::Dict(d) => !d.is_empty(),
        Value::Set(s) | Value::FrozenSet(s) => !s.is_empty(),
        Value::Global(_) | Value::Object(_) => true,
    }
}

/// `float(x)` for a number or a str/bytes.
fn to_float(v: &Value) -> Result<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Int(i) => {
            let f = i.to_f64();
            if f.is_finite() {
                Ok(f)
            } else {
                Err(Error::py(
                    PyException::OverflowError,
                    "int too large to convert to float",
                ))
            }
        }
        Value::Str(s) => {
            let parsed = match s.as_str().filter(|t| t.is_ascii()) {
                Some(t) => number::parse_float_py(t.as_bytes()),
                None => number::parse_float_py(&number::number_text(s.code_points())),
            };
            parsed.map_err(|_| value_error(format!("could not convert string to float: {s:?}")))
        }
        Value::Bytes(b) | Value::ByteArray(b) => number::parse_float_py(b)
            .map_err(|_| value_error(format!("could not convert string to float: {v}"))),
        other => Err(type_error(format!(
            "float() argument must be a string or a real number, not '{}'",
            other.type_name()
        ))),
    }
}

/// `s.encode('latin1')`.
///
/// Protocols 0–2 pickle `bytes` this way, so it runs over whole payloads: a byte loop over the
/// UTF-8 (U+0000–U+00FF are one byte, or two starting 0xC2/0xC3), and the code-point loop only
/// for what it cannot encode (to report it exactly).
fn encode_latin1(s: &PyStr) -> Result<Vec<u8>> {
    if let Some(bytes) = s.latin1_bytes() {
        return Ok(bytes.to_vec());
    }
    let Some(text) = s.as_str() else {
        return encode_latin1_slow(s);
    };
    // Branch-free over random data: every byte that starts a character yields one output
    // byte (itself if ASCII, else decoded with the continuation byte after it); continuation
    // bytes yield nothing. A character above U+00FF (a lead byte of 0xC4 or more) sends the
    // whole string to the exact, slow path.
    let b = text.as_bytes();
    let mut out = vec![0u8; b.len()];
    let mut j = 0usize;
    let mut too_wide = false;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied().unwrap_or(0);
        let decoded = ((c & 0x03) << 6) | (next & 0x3F);
        let v = if c < 0x80 { c } else { decoded };
        if let Some(slot) = out.get_mut(j) {
            *slot = v;
        }
        j += usize::from(c & 0xC0 != 0x80);
        too_wide |= c >= 0xC4;
    }
    if too_wide {
        return encode_latin1_slow(s);
    }
    out.truncate(j);
    Ok(out)
}

/// `s.encode('latin1')`, one code point at a time, with CPython's error.
fn encode_latin1_slow(s: &PyStr) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.as_encoded_bytes().len());
    for cp in s.code_points() {
        match u8::try_from(cp) {
            Ok(b) => out.push(b),
            Err(_) => {
                return Err(encode_error(
                    "latin-1",
                    s,
                    |c| c > 0xFF,
                    "ordinal not in range(256)",
                ));
            }
        }
    }
    Ok(out)
}

/// CPython's `UnicodeEncodeError` for `s.encode(codec)` (errors `strict`): about the run of
/// characters `bad` for the codec that starts at the first one, e.g. `'ascii' codec can't
/// encode characters in position 1-2: ordinal not in range(128)`, or for a run of one `'ascii'
/// codec can't encode character '\xe1' in position 1: …`.
fn encode_error(codec: &str, s: &PyStr, bad: impl Fn(u32) -> bool, reason: &str) -> Error {
    let mut run: Option<(usize, u32, usize)> = None;
    for (pos, cp) in s.code_points().enumerate() {
        match (&mut run, bad(cp)) {
            (None, true) => run = Some((pos, cp, pos + 1)),
            (Some((_, _, end)), true) => *end = pos + 1,
            (Some(_), false) => break,
            (None, false) => {}
        }
    }
    match run {
        Some((start, cp, end)) => encode_error_at(codec, cp, start, end, reason),
        None => Error::py(
            PyException::UnicodeEncodeError,
            format!("'{codec}' codec can't encode: {reason}"),
        ),
    }
}

/// CPython's `UnicodeEncodeError` about the characters `start..end`, the first of them `cp`.
fn encode_error_at(codec: &str, cp: u32, start: usize, end: usize, reason: &str) -> Error {
    let message = if end == start + 1 {
        let ch = if cp <= 0xFF {
            format!("\\x{cp:02x}")
        } else if cp <= 0xFFFF {
            format!("\\u{cp:04x}")
        } else {
            format!("\\U{cp:08x}")
        };
        format!("'{codec}' codec can't encode character '{ch}' in position {start}: {reason}")
    } else {
        format!(
            "'{codec}' codec can't encode characters in position {start}-{}: {reason}",
            end - 1
        )
    };
    Error::py(PyException::UnicodeEncodeError, message)
}

/// A charge to the allocation budget of the bytes about to be (or just) made.
type Charge<'a> = dyn FnMut(u64) -> Result<()> + 'a;

/// `s.encode(enc, errors)` for latin-1, ascii and utf-8. The error handler is only needed (and
/// only looked up, as in CPython) when a character cannot be encoded ([`encode_handled`]). The
/// result's length is passed to `charge`: after encoding when it cannot exceed the str's own
/// size, before when an error handler may make it longer.
fn encode_str(
    s: &PyStr,
    enc: &PyStr,
    errors: Option<&PyStr>,
    charge: &mut Charge<'_>,
) -> Result<Vec<u8>> {
    match codec::lookup_python_codec(&enc.to_string()) {
        Some(codec) => encode_with(s, codec, enc, errors, false, charge),
        None => Err(unknown_encoding(enc)),
    }
}

/// [`encode_str`] with the codec `enc` names already looked up (`None`: one CPython has and
/// this crate does not). `registry`: called as `_codecs.encode`, through the codec registry,
/// which wraps a `LookupError` in `encoding with 'enc' codec failed (…)`.
fn encode_with(
    s: &PyStr,
    codec: Option<codec::Codec>,
    enc: &PyStr,
    errors: Option<&PyStr>,
    registry: bool,
    charge: &mut Charge<'_>,
) -> Result<Vec<u8>> {
    let out = match codec {
        Some(codec::Codec::Latin1) => encode_latin1(s),
        Some(codec::Codec::Ascii) => match s.as_str() {
            Some(t) if t.is_ascii() => Ok(t.as_bytes().to_vec()),
            _ => Err(encode_error(
                "ascii",
                s,
                |c| c > 0x7F,
                "ordinal not in range(128)",
            )),
        },
        Some(codec::Codec::Utf8) => match s.as_str() {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => Err(encode_error(
                "utf-8",
                s,
                |c| (0xD800..=0xDFFF).contains(&c),
                "surrogates not allowed",
            )),
        },
        _ => {
            return Err(unsupported(format!(
                "encoding with {enc:?} is not evaluated (only latin-1, ascii, utf-8)"
            )));
        }
    };
    match (out, errors, codec) {
        (Err(_), Some(h), Some(codec)) if h.as_encoded_bytes() != b"strict" => {
            encode_handled(s, codec, &h.to_string(), charge).map_err(|e| match e.kind() {
                ErrorKind::Python {
                    exception: PyException::LookupError,
                    message,
                } if registry => Error::py(
                    PyException::LookupError,
                    format!("encoding with {enc:?} codec failed (LookupError: {message})"),
                ),
                _ => e,
            })
        }
        (out, _, _) => {
            let out = out?;
            charge(out.len() as u64)?;
            Ok(out)
        }
    }
}

/// The error handlers CPython's latin-1, ascii and utf-8 encoders run (`namereplace`, which
/// needs the Unicode character names, is not evaluated).
#[derive(Clone, Copy)]
enum EncodeHandler {
    Ignore,
    Replace,
    BackslashReplace,
    XmlCharRefReplace,
    SurrogateEscape,
    SurrogatePass,
}

/// The handler `name` names, with CPython's `LookupError` for a name its registry lacks.
fn encode_handler(name: &str) -> Result<EncodeHandler> {
    Ok(match name {
        "ignore" => EncodeHandler::Ignore,
        "replace" => EncodeHandler::Replace,
        "backslashreplace" => EncodeHandler::BackslashReplace,
        "xmlcharrefreplace" => EncodeHandler::XmlCharRefReplace,
        "surrogateescape" => EncodeHandler::SurrogateEscape,
        "surrogatepass" => EncodeHandler::SurrogatePass,
        _ => {
            return Err(match codec::unknown_handler(name) {
                Some(message) => Error::py(PyException::LookupError, message),
                None => unsupported(format!(
                    "encoding with the error handler {name:?} is not evaluated"
                )),
            });
        }
    })
}

/// Where [`encode_into`] writes: the result, or only its length.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Counts the bytes instead of writing them.
struct Length(u64);

impl Sink for Length {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
}

/// `s.encode(codec, errors)` with an error handler other than `strict`, as CPython's encoders
/// run it: each run of characters the codec cannot encode goes to the handler whole; the
/// handler is looked up at the first such run. `surrogateescape` writes U+DC80–U+DCFF as the
/// bytes 0x80–0xFF and fails at the first other character of the run (the error covers the
/// rest of the run); `surrogatepass` writes surrogates in UTF-8 and fails for the other codecs.
///
/// `backslashreplace` and `xmlcharrefreplace` write up to ten bytes a character, so the result
/// is measured first (a pass that also finds any error) and charged before it is made.
fn encode_handled(
    s: &PyStr,
    codec: codec::Codec,
    errors: &str,
    charge: &mut Charge<'_>,
) -> Result<Vec<u8>> {
    let mut handler = None;
    let mut length = Length(0);
    encode_into(s, codec, errors, &mut handler, &mut length)?;
    charge(length.0)?;
    let mut out = Vec::with_capacity(usize::try_from(length.0).map_err(|_| internal())?);
    encode_into(s, codec, errors, &mut handler, &mut out)?;
    Ok(out)
}

/// One pass of [`encode_handled`]; `handler` is looked up at the first character that cannot
/// be encoded, and kept for the next pass.
fn encode_into(
    s: &PyStr,
    codec: codec::Codec,
    errors: &str,
    handler: &mut Option<EncodeHandler>,
    out: &mut impl Sink,
) -> Result<()> {
    let (name, reason) = match codec {
        codec::Codec::Ascii => ("ascii", "ordinal not in range(128)"),
        codec::Codec::Latin1 => ("latin-1", "ordinal not in range(256)"),
        codec::Codec::Utf8 => ("utf-8", "surrogates not allowed"),
        _ => return Err(internal()),
    };
    let utf8 = codec == codec::Codec::Utf8;
    let limit = if codec == codec::Codec::Ascii {
        0x80
    } else {
        0x100
    };
    let encodable = |c: u32| {
        if utf8 {
            !(0xD800..=0xDFFF).contains(&c)
        } else {
            c < limit
        }
    };
    // Streamed over the code points (no copy of them): a run's end is found by a look ahead
    // on a second iterator, then the run is handled from the first.
    let mut cps = s.code_points().enumerate();
    while let Some((start, c)) = cps.next() {
        if encodable(c) {
            match char::from_u32(c) {
                Some(ch) if utf8 => out.put(ch.encode_utf8(&mut [0u8; 4]).as_bytes()),
                _ => out.put(&[c as u8]),
            }
            continue;
        }
        let len = 1 + cps.clone().take_while(|&(_, c)| !encodable(c)).count();
        let end = start + len;
        let run = std::iter::once(c).chain(cps.by_ref().take(len - 1).map(|(_, c)| c));
        let h = match *handler {
            Some(h) => h,
            None => *handler.insert(encode_handler(errors)?),
        };
        match h {
            EncodeHandler::Ignore => run.for_each(drop),
            EncodeHandler::Replace => run.for_each(|_| out.put(b"?")),
            EncodeHandler::BackslashReplace => run.for_each(|c| backslash_escape(c, out)),
            EncodeHandler::XmlCharRefReplace => run.for_each(|c| xml_char_ref(c, out)),
            EncodeHandler::SurrogateEscape => {
                for (k, c) in run.enumerate() {
                    if !(0xDC80..=0xDCFF).contains(&c) {
                        return Err(encode_error_at(name, c, start + k, end, reason));
                    }
                    out.put(&[(c - 0xDC00) as u8]);
                }
            }
            EncodeHandler::SurrogatePass if utf8 => run.for_each(|c| {
                out.put(&[
                    0xE0 | (c >> 12) as u8,
                    0x80 | ((c >> 6) & 0x3F) as u8,
                    0x80 | (c & 0x3F) as u8,
                ]);
            }),
            EncodeHandler::SurrogatePass => {
                return Err(encode_error_at(name, c, start, end, reason));
            }
        }
    }
    Ok(())
}

/// Writes `backslashreplace`'s text for `c`: `\xNN`, `\uNNNN` or `\UNNNNNNNN`, lowercase hex.
fn backslash_escape(c: u32, out: &mut impl Sink) {
    let (letter, digits) = match c {
        0..=0xFF => (b'x', 2),
        0x100..=0xFFFF => (b'u', 4),
        _ => (b'U', 8),
    };
    out.put(&[b'\\', letter]);
    for k in (0..digits).rev() {
        let digit = char::from_digit((c >> (4 * k)) & 0xF, 16).map_or(b'0', |d| d as u8);
        out.put(&[digit]);
    }
}

/// Writes `xmlcharrefreplace`'s text for `c`: `&#`, its decimal value and `;` (`&#8364;`).
fn xml_char_ref(c: u32, out: &mut impl Sink) {
    out.put(b"&#");
    let mut started = false;
    for p in [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1] {
        let d = (c / p) % 10;
        if d != 0 || started || p == 1 {
            started = true;
            out.put(&[b'0' + d as u8]);
        }
    }
    out.put(b";");
}

#[cfg(test)]
mod tests {
    use super::{encode_handled, encode_latin1, encode_latin1_slow};
    use crate::codec::Codec;
    use crate::error::Error;
    use crate::pystr::PyStr;

    #[test]
    fn latin1_fast_path_matches_the_code_point_loop() {
        let all: String = (0u8..=255).map(char::from).collect();
        let cases = [
            String::new(),
            "plain ascii".to_owned(),
            all.clone(),
            all.repeat(3) + "tail",
            "é".to_owned(),
            "x\u{ff}".to_owned(),
            "ok then \u{20ac} not".to_owned(),
            "\u{100}".to_owned(),
            "\u{1f600}".to_owned(),
        ];
        for c in cases {
            let s = PyStr::from(c.as_str());
            let fast = encode_latin1(&s).map_err(|e| e.to_string());
            let slow = encode_latin1_slow(&s).map_err(|e| e.to_string());
            assert_eq!(fast, slow, "{c:?}");
        }
        let surrogate = PyStr::from_utf8_surrogatepass(b"a\xed\xa0\x80").expect("surrogate");
        assert!(encode_latin1(&surrogate).is_err());
    }

    /// An error handler that lengthens the result has it charged at its exact length before
    /// anything is allocated, and a refused charge stops the encoding.
    #[test]
    fn handled_encodings_are_charged_before_they_are_made() {
        let s = PyStr::from("a\u{e9}\u{20ac}\u{1f600}".repeat(1000).as_str());
        for (handler, each) in [
            ("xmlcharrefreplace", "a&#233;&#8364;&#128512;"),
            ("backslashreplace", "a\\xe9\\u20ac\\U0001f600"),
            ("replace", "a???"),
        ] {
            let mut charged = Vec::new();
            let out = encode_handled(&s, Codec::Ascii, handler, &mut |n| {
                charged.push(n);
                Ok(())
            })
            .expect("encodes");
            assert_eq!(out, each.repeat(1000).as_bytes(), "{handler}");
            assert_eq!(charged, [out.len() as u64], "{handler}");
            let refused = encode_handled(&s, Codec::Ascii, handler, &mut |n| {
                Err(Error::limit("max_alloc", n))
            });
            assert!(refused.is_err_and(|e| e.is_limit()), "{handler}");
        }
    }
}
