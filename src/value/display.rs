//! `Display` (and `Debug`) of a [`Value`]: Python's `repr()`, written by a loop over an explicit
//! stack, so no depth can overflow the stack.
//!
//! For the builtin types the output is what CPython's `repr()` prints (`1e+16`, `-0.0`, `nan`,
//! `(1,)`, `set()`, `frozenset({1})`, `bytearray(b'x')`, `(1+2j)`), except that sets list their
//! members in insertion order where CPython uses hash order. It is always a Python expression
//! that evaluates to an equal value (with `nan` and `inf` defined). Integers above ~4200 digits
//! are written in hexadecimal. Globals print as `<global 'module.name'>` and recorded objects as
//! `module.name(args)`, followed by their recorded state in `<…>` when they have one.
//!
//! Shared sub-values are written out at every occurrence, as Python does: formatting a "billion
//! laughs" value produces an enormous string. Write into a bounded [`std::fmt::Write`] (one that
//! returns an error past some size) to stop early: the formatter stops at the first error.

use std::fmt::{self, Write};

use super::{Construct, Value};
use crate::repr::{
    write_bytearray_repr, write_bytes_repr, write_complex_repr, write_float_repr, write_str_repr_to,
};

/// One open container being written.
enum Frame<'a> {
    /// Items of a list/tuple/set/frozenset/args, separated by `, `, then `close`.
    Seq {
        items: Box<dyn Iterator<Item = &'a Value> + 'a>,
        first: bool,
        close: &'static str,
    },
    /// Pairs of a dict (or recorded dict items): `k: v`, then `close`.
    Pairs {
        items: Box<dyn Iterator<Item = (&'a Value, &'a Value)> + 'a>,
        first: bool,
        pending: Option<&'a Value>,
        close: &'static str,
    },
    /// A fixed piece of text, then values, in order (used for objects).
    Parts(std::vec::IntoIter<Part<'a>>),
}

/// A piece of an object's repr.
enum Part<'a> {
    Text(String),
    Value(&'a Value),
    Items(&'a [Value]),
    Pairs(&'a [(Value, Value)]),
}

/// Writes `v` as Python's `repr()`.
pub(crate) fn write_repr<W: Write>(out: &mut W, v: &Value) -> fmt::Result {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    visit(out, v, &mut stack)?;
    while let Some(top) = stack.last_mut() {
        match top {
            Frame::Seq {
                items,
                first,
                close,
            } => match items.next() {
                Some(item) => {
                    if !*first {
                        out.write_str(", ")?;
                    }
                    *first = false;
                    visit(out, item, &mut stack)?;
                }
                None => {
                    out.write_str(close)?;
                    stack.pop();
                }
            },
            Frame::Pairs {
                items,
                first,
                pending,
                close,
            } => {
                if let Some(value) = pending.take() {
                    out.write_str(": ")?;
                    visit(out, value, &mut stack)?;
                    continue;
                }
                match items.next() {
                    Some((k, v)) => {
                        if !*first {
                            out.write_str(", ")?;
                        }
                        *first = false;
                        *pending = Some(v);
                        visit(out, k, &mut stack)?;
                    }
                    None => {
                        out.write_str(close)?;
                        stack.pop();
                    }
                }
            }
            Frame::Parts(parts) => match parts.next() {
                Some(Part::Text(t)) => out.write_str(&t)?,
                Some(Part::Value(v)) => visit(out, v, &mut stack)?,
                Some(Part::Items(items)) => {
                    out.write_str("[")?;
                    stack.push(Frame::Seq {
                        items: Box::new(items.iter()),
                        first: true,
                        close: "]",
                    });
                }
                Some(Part::Pairs(pairs)) => {
                    out.write_str("{")?;
                    stack.push(Frame::Pairs {
                        items: Box::new(pairs.iter().map(|(k, v)| (k, v))),
                        first: true,
                        pending: None,
                        close: "}",
                    });
                }
                None => {
                    stack.pop();
                }
            },
        }
    }
    Ok(())
}

/// Writes a scalar, or the opening of a container and pushes its frame.
fn visit<'a, W: Write>(out: &mut W, v: &'a Value, stack: &mut Vec<Frame<'a>>) -> fmt::Result {
    match v {
        Value::None => out.write_str("None"),
        Value::Bool(true) => out.write_str("True"),
        Value::Bool(false) => out.write_str("False"),
        Value::Int(i) => write!(out, "{i}"),
        Value::Float(f) => write_float_repr(out, *f),
        Value::Complex(c) => write_complex_repr(out, c.re, c.im),
        Value::Str(s) => write_str_repr_to(out, s),
        Value::Bytes(b) => write_bytes_repr(out, "b", b),
        Value::ByteArray(b) => write_bytearray_repr(out, b),
        Value::List(l) => {
            out.write_str("[")?;
            stack.push(Frame::Seq {
                items: Box::new(l.iter()),
                first: true,
                close: "]",
            });
            Ok(())
        }
        Value::Tuple(t) => {
            out.write_str("(")?;
            stack.push(Frame::Seq {
                items: Box::new(t.iter()),
                first: true,
                close: if t.len() == 1 { ",)" } else { ")" },
            });
            Ok(())
        }
        Value::Dict(d) => {
            out.write_str("{")?;
            stack.push(Frame::Pairs {
                items: Box::new(d.iter()),
                first: true,
                pending: None,
                close: "}",
            });
            Ok(())
        }
        Value::Set(s) | Value::FrozenSet(s) => {
            let frozen = matches!(v, Value::FrozenSet(_));
            if s.is_empty() {
                return out.write_str(if frozen { "frozenset()" } else { "set()" });
            }
            out.write_str(if frozen { "frozenset({" } else { "{" })?;
            stack.push(Frame::Seq {
                items: Box::new(s.iter()),
                first: true,
                close: if frozen { "})" } else { "}" },
            });
            Ok(())
        }
        Value::Global(g) => {
            out.write_str("<global '")?;
            write!(out, "{}.{}", g.module(), g.name())?;
            out.write_str("'>")
        }
        Value::Object(o) => {
            let mut parts = Vec::new();
            match o.callable() {
                Value::Global(g) => parts.push(Part::Text(format!("{}.{}", g.module(), g.name()))),
                other => {
                    parts.push(Part::Text("(".into()));
                    parts.push(Part::Value(other));
                    parts.push(Part::Text(")".into()));
                }
            }
            if o.construct() == Construct::NewObj || o.construct() == Construct::NewObjEx {
                parts.push(Part::Text(".__new__".into()));
            }
            parts.push(Part::Text("(".into()));
            let args: &[Value] = o.args().as_slice().unwrap_or_default();
            let mut first = true;
            if args.is_empty() && !o.args().is_tuple() {
                parts.push(Part::Text("*".into()));
                parts.push(Part::Value(o.args()));
                first = false;
            }
            for a in args {
                if !first {
                    parts.push(Part::Text(", ".into()));
                }
                first = false;
                parts.push(Part::Value(a));
            }
            if let Some(kw) = o.kwargs() {
                if !first {
                    parts.push(Part::Text(", ".into()));
                }
                parts.push(Part::Text("**".into()));
                parts.push(Part::Value(kw));
            }
            parts.push(Part::Text(")".into()));
            let extra = o.state().is_some() || !o.list_items().is_empty();
            if extra || !o.dict_items().is_empty() {
                parts.push(Part::Text(" <".into()));
                let mut sep = "";
                if let Some(state) = o.state() {
                    parts.push(Part::Text("state=".into()));
                    parts.push(Part::Value(state));
                    sep = ", ";
                }
                if !o.list_items().is_empty() {
                    parts.push(Part::Text(format!("{sep}items=")));
                    parts.push(Part::Items(o.list_items()));
                    sep = ", ";
                }
                if !o.dict_items().is_empty() {
                    parts.push(Part::Text(format!("{sep}setitems=")));
                    parts.push(Part::Pairs(o.dict_items()));
                }
                parts.push(Part::Text(">".into()));
            }
            stack.push(Frame::Parts(parts.into_iter()));
            Ok(())
        }
    }
}

impl fmt::Display for Value {
    /// Python's `repr()` of the value (see the module docs for the few differences).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_repr(f, self)
    }
}

impl fmt::Debug for Value {
    /// Same as `Display`: Python's `repr()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_repr(f, self)
    }
}

macro_rules! debug_as_value {
    ($($t:ident => $variant:ident),*) => {$(
        impl fmt::Debug for super::$t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_repr(f, &Value::$variant(self.clone()))
            }
        }
    )*};
}
debug_as_value!(List => List, Tuple => Tuple, Dict => Dict, Set => Set, Global => Global, Object => Object);
