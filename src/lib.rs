//! A safe Python pickle reader: decodes protocols 0–5 into a [`Value`] and never executes
//! anything.
//!
//! ```
//! use restricted_unpickler::restricted_loads;
//!
//! // pickle.dumps({'name': 'Zoë', 'tags': ['a', 'b'], 'score': 9.5}, protocol=5)
//! let data = b"\x80\x05\x957\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04name\x94\x8c\x04Zo\xc3\xab\x94\x8c\x04tags\x94]\x94(\x8c\x01a\x94\x8c\x01b\x94e\x8c\x05score\x94G@#\x00\x00\x00\x00\x00\x00u.";
//! let value = restricted_loads(data)?;
//! assert_eq!(value["name"], "Zoë");
//! assert_eq!(value["tags"][1], "b");
//! assert_eq!(value.to_string(), "{'name': 'Zoë', 'tags': ['a', 'b'], 'score': 9.5}");
//!
//! // A pickle that would run a shell command under `pickle.loads` is refused:
//! let evil = b"\x80\x04\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x0cecho Hacked!\x94\x85\x94R\x94.";
//! let err = restricted_loads(evil).unwrap_err();
//! assert!(err.is_forbidden());
//! assert!(err.to_string().starts_with("global 'posix.system' is forbidden"));
//! # Ok::<(), restricted_unpickler::Error>(())
//! ```
//!
//! # Overview
//!
//! Python's `pickle` format is a small stack machine whose bytes can name any importable callable
//! and call it while loading. This crate is a pickle virtual machine in Rust that follows CPython
//! 3.11's `pickle.loads` for everything it accepts, but resolves every global reference
//! (`GLOBAL`, `STACK_GLOBAL`, `INST`, `EXT1/2/4`) through one [`FindClass`] policy — the twin of
//! Python's `Unpickler.find_class` — and calls nothing: the builtin types are built in Rust from
//! data, other allowed globals are recorded as [`Value::Global`] / [`Value::Object`] for the
//! caller to interpret.
//!
//! * [`restricted_loads`] decodes with the [`DefaultPolicy`] (the builtin types CPython itself
//!   needs to pickle `set`, `bytes`, `complex`, … at protocols 0–5).
//! * [`restricted_loads_shared`] and [`Unpickler::from_shared`] take a [`SharedInput`] and lend
//!   `bytes`/`bytearray` payloads of 1 KiB or more as windows of it ([`Bytes::is_window`])
//!   instead of copying them: large arrays and blobs decode without a copy.
//! * [`Unpickler`] takes a byte slice or any `std::io::Read`, a custom policy ([`Allowlist`] or a
//!   closure), a [`PersistentLoad`] hook, out-of-band buffers, an extension registry, the Python
//!   2 string `encoding`/`errors`, `fix_imports` and [`Limits`].
//! * [`Value`] is Python's data model: ints of any size, bit-exact floats, strs with lone
//!   surrogates ([`PyStr`]), bytes vs bytearray, insertion-ordered dicts with Python key
//!   equality, sets, frozensets. Shared references stay shared (`Arc`), so a memo "billion
//!   laughs" costs no memory, and every operation on a `Value` is iterative.
//!
//! # Example: a custom allowlist
//!
//! ```
//! use restricted_unpickler::{Allowlist, Unpickler};
//!
//! // pickle.dumps(collections.OrderedDict(a=1), protocol=2)
//! let data = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00aq\x02K\x01s.";
//! let policy = Allowlist::builtins().allow("collections", "OrderedDict");
//! let value = Unpickler::from_slice(data).find_class(policy).load()?;
//! let od = value.as_object().expect("a recorded object");
//! assert_eq!(od.class().unwrap().name(), "OrderedDict");
//! assert_eq!(od.dict_items()[0].0, "a");
//! assert_eq!(od.dict_items()[0].1, 1);
//! # Ok::<(), restricted_unpickler::Error>(())
//! ```
//!
//! # Security model
//!
//! * **Never executes.** No opcode can run code; globals are names until the policy resolves
//!   them, and a resolved global is either evaluated as a builtin constructor on plain data or
//!   recorded. `BUILD` never mutates a global.
//! * **One door to globals.** Every global goes through [`FindClass::find_class`] on the exact
//!   `(module, name)` pair (after CPython's `fix_imports` mapping for protocols < 3).
//! * **Bounded resources.** Every length is checked against the input and the [`Limits`]
//!   before anything is allocated; memory and work grow at most linearly with the input.
//! * **No panics, no stack overflow.** The machine, `Drop`, `Clone`, `PartialEq`, `Hash`,
//!   `Display` and `Debug` are all iterative; the crate is `#![forbid(unsafe_code)]`.
//!
//! Errors say what went wrong, in CPython's words where CPython has them, and at which byte
//! offset ([`Error`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codec;
mod compat;
mod error;
mod find_class;
mod grow;
mod limits;
mod machine;
mod number;
pub mod opcode;
mod pystr;
mod reader;
mod repr;
#[cfg(test)]
mod testing;
mod unpickler;
mod value;

pub use crate::error::{Category, Error, ErrorKind, PyException, Result};
pub use crate::find_class::{Allowlist, Builtin, Class, DefaultPolicy, FindClass, PersistentLoad};
pub use crate::limits::Limits;
pub use crate::opcode::Opcode;
pub use crate::pystr::{CodePoints, PyStr, Utf8Error};
pub use crate::reader::{SliceSource, StreamSource};
pub use crate::unpickler::{Unpickler, restricted_loads, restricted_loads_shared};
pub use crate::value::{
    Bytes, Complex, Construct, Dict, DictIter, Global, Int, List, Object, Set, SharedInput, Tuple,
    Value, ValueIndex,
};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Compile-time check: values and errors can cross threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Value>();
    assert_send_sync::<Error>();
};

/// Compile-time check: a `Value` is three words (a list of a million ints is 24 MB of items). A
/// new variant or a wider payload (an inline `i128`, a longer inline str) must not grow it.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Value>() == 24);
