//! Helpers shared by the fuzz targets: a bounded `fmt::Write`, the unpickler configurations
//! the targets use, and a structure-aware pickle encoder for the `structured` target.

use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};

use arbitrary::Arbitrary;
use restricted_unpickler::{Allowlist, Class, Limits, SliceSource, Unpickler, Value};

/// How much `Display`/`Debug` output a target accepts before the writer fails. A shared
/// "billion laughs" value legitimately prints as an astronomically long string; the formatter
/// must stop at the writer's first error.
pub const MAX_REPR: usize = 1 << 20;

/// A `fmt::Write` that keeps a prefix of what is written and fails once more than `limit`
/// bytes have been written in total.
pub struct Bounded {
    /// Bytes written so far (including the part that overflowed).
    pub written: usize,
    /// The first `limit` bytes, if `keep` was requested.
    pub text: Option<String>,
    limit: usize,
}

impl Bounded {
    /// A writer that discards its output.
    pub fn new(limit: usize) -> Self {
        Bounded {
            written: 0,
            text: None,
            limit,
        }
    }

    /// A writer that keeps what it accepts (for comparisons).
    pub fn keeping(limit: usize) -> Self {
        Bounded {
            written: 0,
            text: Some(String::new()),
            limit,
        }
    }
}

impl Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Fail on the write that crosses the limit; a formatter that keeps writing after an
        // error is a bug we want to see (it would keep failing, and we count the calls).
        assert!(
            self.written <= self.limit,
            "formatter kept writing after fmt::Error"
        );
        self.written = self.written.saturating_add(s.len());
        if self.written > self.limit {
            return Err(fmt::Error);
        }
        if let Some(t) = self.text.as_mut() {
            t.push_str(s);
        }
        Ok(())
    }
}

/// `Display` of `v` into a [`Bounded`] writer; returns the (possibly truncated) text and
/// whether it was complete.
pub fn repr(v: &Value) -> (String, bool) {
    let mut w = Bounded::keeping(MAX_REPR);
    let ok = write!(w, "{v}").is_ok();
    (w.text.unwrap_or_default(), ok)
}

/// `Display` and `Debug` of `v` into a discarding [`Bounded`] writer.
pub fn format_bounded(v: &Value) {
    let mut w = Bounded::new(MAX_REPR);
    let _ = write!(w, "{v}");
    let mut w = Bounded::new(MAX_REPR);
    let _ = write!(w, "{v:?}");
}

/// Also formats the error (its `Display` and `Debug` must not panic either).
pub fn format_error(e: &restricted_unpickler::Error) {
    let mut w = Bounded::new(MAX_REPR);
    let _ = write!(w, "{e}");
    let mut w = Bounded::new(MAX_REPR);
    let _ = write!(w, "{e:?}");
    let _ = (e.category(), e.py_exception(), e.offset(), e.opcode());
}

/// The permissive policy: every global is allowed and recorded.
pub fn permissive_policy(_module: &str, _name: &str) -> Option<Class> {
    Some(Class::Record)
}

/// An unpickler over `data` with every option set: a policy that allows every global as
/// `Class::Record`, a persistent_load hook, out-of-band buffers, an extension registry and
/// the latin1 encoding. Reaches the object paths (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`,
/// `INST`, `BUILD`, `APPENDS`/`SETITEMS` on objects).
pub fn permissive(data: &[u8]) -> Unpickler<'_, SliceSource<'_>> {
    Unpickler::from_slice(data)
        .find_class(permissive_policy)
        .persistent_load(|pid: &Value| {
            if pid.as_str() == Some("fail") {
                Err("persistent id refused".to_owned())
            } else {
                Ok(Value::None)
            }
        })
        .buffers(vec![
            Value::bytes(b"abc"),
            Value::ByteArray(b"mutable"[..].into()),
            Value::bytes(b""),
        ])
        .extension(1, "copyreg", "_reconstructor")
        .extension(2, "builtins", "set")
        .extension(0x1234, "collections", "OrderedDict")
        .encoding("latin1")
}

/// An allowlist with the builtins plus a few recorded globals.
pub fn allowlist() -> Allowlist {
    Allowlist::builtins()
        .allow("collections", "OrderedDict")
        .allow("copyreg", "_reconstructor")
        .allow("datetime", "date")
}

/// Limits where every bound is small, so every limit check is hit often.
pub fn tiny_limits() -> Limits {
    let mut l = Limits::default();
    l.max_depth = 8;
    l.max_stack = 64;
    l.max_marks = 8;
    l.max_memo_entries = 16;
    l.max_memo_index = 64;
    l.max_payload_len = 64;
    l.max_int_digits = 50;
    l.max_long_bytes = 16;
    l.alloc_per_input_byte = 4;
    l.alloc_base = 4096;
    l.work_per_input_byte = 4;
    l.work_base = 4096;
    l
}

/// Exercises every read-only operation of a `Value`: formatting, clone, `==`, `strict_eq`,
/// `Hash`, indexing, the accessors, and iteration of containers one level down.
pub fn exercise(v: &Value) {
    format_bounded(v);
    let c = v.clone();
    // Python's `==` is not reflexive for NaN, so only check that it terminates.
    #[allow(clippy::eq_op)]
    let _ = *v == *v;
    let _ = *v == c;
    assert!(v.strict_eq(&c), "strict_eq(v, v.clone()) is false");
    assert!(v.strict_eq(v), "strict_eq(v, v) is false");
    let mut h1 = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h1);
    let mut h2 = std::collections::hash_map::DefaultHasher::new();
    c.hash(&mut h2);
    assert_eq!(
        h1.finish(),
        h2.finish(),
        "a value and its clone hash differently"
    );
    let _ = (&v[0], &v["a"], &v[usize::MAX], &v[&Value::from(0)]);
    let _ = (v.get(0), v.get("a"), v.get(&c), v.get(String::from("b")));
    let _ = v.type_name();
    let _ = (v.as_i64(), v.as_u64(), v.as_f64(), v.as_str(), v.as_bytes());
    let _ = (v.as_bool(), v.as_slice().map(<[Value]>::len));
    if let Some(i) = v.as_int() {
        let _ = (i.as_i128(), i.to_f64(), i.bit_length(), i.to_bigint());
    }
    if let Some(s) = v.as_pystr() {
        let mut w = Bounded::new(MAX_REPR);
        let _ = write!(w, "{s:?}");
    }
    if let Some(d) = v.as_dict() {
        for (k, val) in d.iter().take(64) {
            let _ = d.get(k);
            let _ = (k.type_name(), val.type_name());
            let mut h = std::collections::hash_map::DefaultHasher::new();
            k.hash(&mut h);
        }
        let _ = (d.keys().count(), d.values().count(), d.len(), d.is_empty());
        let _ = d.get_str("a");
    }
    if let Some(s) = v.as_any_set() {
        for m in s.iter().take(64) {
            // Python's `in` would also match by identity; here only `==` counts, so a NaN
            // (or a tuple holding one) is legitimately not found.
            #[allow(clippy::eq_op)]
            let reflexive = *m == *m;
            if reflexive {
                assert!(s.contains(m), "a set does not contain its own member");
            }
        }
    }
    if let Some(o) = v.as_object() {
        let _ = (o.callable(), o.args(), o.kwargs(), o.state(), o.construct());
        let _ = (o.class().map(|g| (g.module(), g.name(), g.builtin())),);
        for x in o.list_items().iter().take(64) {
            format_bounded(x);
        }
        for (k, x) in o.dict_items().iter().take(64) {
            let _ = k == x;
        }
    }
    if let Some(items) = v.as_slice() {
        for x in items.iter().take(64) {
            let _ = x == v;
            let _ = x.strict_eq(v);
        }
    }
    drop(c);
}

// ---- structure-aware encoder ---------------------------------------------------------------

/// A global name from a small fixed set (builtins the default policy evaluates, and a few
/// others only the permissive policy allows).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GlobalName {
    Set,
    FrozenSet,
    ByteArray,
    Bytes,
    CodecsEncode,
    Complex,
    Int,
    Float,
    Str,
    List,
    Dict,
    Tuple,
    Bool,
    OrderedDict,
    Reconstructor,
    Object,
    Py2Set,
    Py2Str,
    PosixSystem,
}

impl GlobalName {
    fn pair(self) -> (&'static str, &'static str) {
        match self {
            GlobalName::Set => ("builtins", "set"),
            GlobalName::FrozenSet => ("builtins", "frozenset"),
            GlobalName::ByteArray => ("builtins", "bytearray"),
            GlobalName::Bytes => ("builtins", "bytes"),
            GlobalName::CodecsEncode => ("_codecs", "encode"),
            GlobalName::Complex => ("builtins", "complex"),
            GlobalName::Int => ("builtins", "int"),
            GlobalName::Float => ("builtins", "float"),
            GlobalName::Str => ("builtins", "str"),
            GlobalName::List => ("builtins", "list"),
            GlobalName::Dict => ("builtins", "dict"),
            GlobalName::Tuple => ("builtins", "tuple"),
            GlobalName::Bool => ("builtins", "bool"),
            GlobalName::OrderedDict => ("collections", "OrderedDict"),
            GlobalName::Reconstructor => ("copyreg", "_reconstructor"),
            GlobalName::Object => ("builtins", "object"),
            GlobalName::Py2Set => ("__builtin__", "set"),
            GlobalName::Py2Str => ("__builtin__", "unicode"),
            GlobalName::PosixSystem => ("posix", "system"),
        }
    }
}

/// Characters for generated strings: ASCII, Latin-1, BMP, astral, a lone surrogate (written
/// the way CPython's `surrogatepass` writes it), quote and backslash.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Char {
    A,
    Quote,
    Backslash,
    Newline,
    Latin1,
    Bmp,
    Astral,
    LoneSurrogate,
    Nul,
}

impl Char {
    fn utf8(self) -> &'static [u8] {
        match self {
            Char::A => b"a",
            Char::Quote => b"'",
            Char::Backslash => b"\\",
            Char::Newline => b"\n",
            Char::Latin1 => "é".as_bytes(),
            Char::Bmp => "€".as_bytes(),
            Char::Astral => "😀".as_bytes(),
            Char::LoneSurrogate => b"\xed\xa0\x80",
            Char::Nul => b"\0",
        }
    }
}

/// One opcode-level operation of a pickle.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    /// `PROTO n` (n taken mod 7, so 6 is an unsupported protocol).
    Proto(u8),
    /// `FRAME` around the next `n` operations, with the correct length.
    Frame(u8),
    None,
    True,
    False,
    /// `BININT1`.
    SmallInt(u8),
    /// `BININT2`.
    BinInt2(u16),
    /// `BININT`.
    BinInt(i32),
    /// Text `INT` (`I01\n` is `True`).
    TextInt(i64),
    /// Text `LONG` with `L` suffix.
    TextLong(i64, u8),
    /// `LONG1` with these little-endian bytes (at most 255).
    Long1(Vec<u8>),
    /// `LONG4` with these little-endian bytes.
    Long4(Vec<u8>),
    /// `BINFLOAT`, big-endian bits.
    BinFloat(u64),
    /// Text `FLOAT` from an f64.
    TextFloat(f64),
    /// `SHORT_BINUNICODE` / `BINUNICODE` / `BINUNICODE8` of `n` copies of a char.
    Str {
        kind: u8,
        n: u8,
        ch: Char,
    },
    /// Text `UNICODE` (raw-unicode-escape) of `n` copies of a char.
    TextUnicode(u8, Char),
    /// `SHORT_BINBYTES` / `BINBYTES` / `BINBYTES8` / `BYTEARRAY8`.
    Bytes {
        kind: u8,
        data: Vec<u8>,
    },
    /// `SHORT_BINSTRING` / `BINSTRING` (Python 2 str).
    Py2Str {
        short: bool,
        data: Vec<u8>,
    },
    /// Text `STRING` with quotes and escapes.
    TextString(Vec<u8>),
    EmptyList,
    EmptyDict,
    EmptySet,
    EmptyTuple,
    Mark,
    Append,
    Appends,
    SetItem,
    SetItems,
    AddItems,
    Tuple1,
    Tuple2,
    Tuple3,
    Tuple,
    List,
    Dict,
    FrozenSet,
    Pop,
    PopMark,
    Dup,
    /// Text `PUT`.
    Put(u8),
    BinPut(u8),
    LongBinPut(u8),
    Memoize,
    /// Text `GET`.
    Get(u8),
    BinGet(u8),
    LongBinGet(u8),
    /// `GLOBAL module\nname\n`.
    Global(GlobalName),
    /// Two `SHORT_BINUNICODE` then `STACK_GLOBAL`.
    StackGlobal(GlobalName),
    /// `STACK_GLOBAL` on whatever is on the stack.
    BareStackGlobal,
    /// `INST module\nname\n`.
    Inst(GlobalName),
    Obj,
    Reduce,
    NewObj,
    NewObjEx,
    Build,
    /// `PERSID` with an ASCII id.
    PersId(u8),
    BinPersId,
    NextBuffer,
    ReadonlyBuffer,
    /// `EXT1` / `EXT2` / `EXT4`.
    Ext(u8, u16),
    /// `STOP` in the middle (ends the pickle early).
    Stop,
    /// Any byte, opcode or not.
    Raw(u8),
}

fn repeat(n: u8, ch: Char) -> Vec<u8> {
    let mut s = Vec::new();
    for _ in 0..n {
        s.extend_from_slice(ch.utf8());
    }
    s
}

fn short_binunicode(out: &mut Vec<u8>, s: &str) {
    out.push(0x8c);
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn encode_op(out: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Proto(n) => out.extend_from_slice(&[0x80, n % 7]),
        Op::Frame(_) => {}
        Op::None => out.push(b'N'),
        Op::True => out.push(0x88),
        Op::False => out.push(0x89),
        Op::SmallInt(n) => out.extend_from_slice(&[b'K', *n]),
        Op::BinInt2(n) => {
            out.push(b'M');
            out.extend_from_slice(&n.to_le_bytes());
        }
        Op::BinInt(n) => {
            out.push(b'J');
            out.extend_from_slice(&n.to_le_bytes());
        }
        Op::TextInt(n) => {
            out.push(b'I');
            out.extend_from_slice(n.to_string().as_bytes());
            out.push(b'\n');
        }
        Op::TextLong(n, zeros) => {
            out.push(b'L');
            out.extend_from_slice(n.to_string().as_bytes());
            for _ in 0..(zeros % 8) {
                out.push(b'0');
            }
            out.extend_from_slice(b"L\n");
        }
        Op::Long1(b) => {
            let b = &b[..b.len().min(255)];
            out.extend_from_slice(&[0x8a, b.len() as u8]);
            out.extend_from_slice(b);
        }
        Op::Long4(b) => {
            out.push(0x8b);
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        Op::BinFloat(bits) => {
            out.push(b'G');
            out.extend_from_slice(&bits.to_be_bytes());
        }
        Op::TextFloat(f) => {
            out.push(b'F');
            out.extend_from_slice(format!("{f:?}").as_bytes());
            out.push(b'\n');
        }
        Op::Str { kind, n, ch } => {
            let s = repeat(*n, *ch);
            match kind % 3 {
                0 if s.len() < 256 => {
                    out.extend_from_slice(&[0x8c, s.len() as u8]);
                }
                1 | 0 => {
                    out.push(b'X');
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                }
                _ => {
                    out.push(0x8d);
                    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                }
            }
            out.extend_from_slice(&s);
        }
        Op::TextUnicode(n, ch) => {
            out.push(b'V');
            for _ in 0..*n {
                match ch {
                    Char::Backslash => out.extend_from_slice(b"\\u005c"),
                    Char::Newline => out.extend_from_slice(b"\\u000a"),
                    Char::Latin1 => out.push(0xe9),
                    Char::Bmp => out.extend_from_slice(b"\\u20ac"),
                    Char::Astral => out.extend_from_slice(b"\\U0001f600"),
                    Char::LoneSurrogate => out.extend_from_slice(b"\\ud800"),
                    other => out.extend_from_slice(other.utf8()),
                }
            }
            out.push(b'\n');
        }
        Op::Bytes { kind, data } => match kind % 4 {
            0 if data.len() < 256 => {
                out.extend_from_slice(&[b'C', data.len() as u8]);
                out.extend_from_slice(data);
            }
            0 | 1 => {
                out.push(b'B');
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(data);
            }
            2 => {
                out.push(0x8e);
                out.extend_from_slice(&(data.len() as u64).to_le_bytes());
                out.extend_from_slice(data);
            }
            _ => {
                out.push(0x96);
                out.extend_from_slice(&(data.len() as u64).to_le_bytes());
                out.extend_from_slice(data);
            }
        },
        Op::Py2Str { short, data } => {
            if *short && data.len() < 256 {
                out.extend_from_slice(&[b'U', data.len() as u8]);
            } else {
                out.push(b'T');
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            }
            out.extend_from_slice(data);
        }
        Op::TextString(data) => {
            out.extend_from_slice(b"S'");
            for &b in data {
                match b {
                    b'\'' => out.extend_from_slice(b"\\'"),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    0x20..=0x7e => out.push(b),
                    _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                }
            }
            out.extend_from_slice(b"'\n");
        }
        Op::EmptyList => out.push(b']'),
        Op::EmptyDict => out.push(b'}'),
        Op::EmptySet => out.push(0x8f),
        Op::EmptyTuple => out.push(b')'),
        Op::Mark => out.push(b'('),
        Op::Append => out.push(b'a'),
        Op::Appends => out.push(b'e'),
        Op::SetItem => out.push(b's'),
        Op::SetItems => out.push(b'u'),
        Op::AddItems => out.push(0x90),
        Op::Tuple1 => out.push(0x85),
        Op::Tuple2 => out.push(0x86),
        Op::Tuple3 => out.push(0x87),
        Op::Tuple => out.push(b't'),
        Op::List => out.push(b'l'),
        Op::Dict => out.push(b'd'),
        Op::FrozenSet => out.push(0x91),
        Op::Pop => out.push(b'0'),
        Op::PopMark => out.push(b'1'),
        Op::Dup => out.push(b'2'),
        Op::Put(i) => {
            out.push(b'p');
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b'\n');
        }
        Op::BinPut(i) => out.extend_from_slice(&[b'q', i % 32]),
        Op::LongBinPut(i) => {
            out.push(b'r');
            out.extend_from_slice(&u32::from(i % 32).to_le_bytes());
        }
        Op::Memoize => out.push(0x94),
        Op::Get(i) => {
            out.push(b'g');
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b'\n');
        }
        Op::BinGet(i) => out.extend_from_slice(&[b'h', i % 32]),
        Op::LongBinGet(i) => {
            out.push(b'j');
            out.extend_from_slice(&u32::from(i % 32).to_le_bytes());
        }
        Op::Global(g) => {
            let (m, n) = g.pair();
            out.push(b'c');
            out.extend_from_slice(m.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(n.as_bytes());
            out.push(b'\n');
        }
        Op::StackGlobal(g) => {
            let (m, n) = g.pair();
            short_binunicode(out, m);
            short_binunicode(out, n);
            out.push(0x93);
        }
        Op::BareStackGlobal => out.push(0x93),
        Op::Inst(g) => {
            let (m, n) = g.pair();
            out.push(b'i');
            out.extend_from_slice(m.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(n.as_bytes());
            out.push(b'\n');
        }
        Op::Obj => out.push(b'o'),
        Op::Reduce => out.push(b'R'),
        Op::NewObj => out.push(0x81),
        Op::NewObjEx => out.push(0x92),
        Op::Build => out.push(b'b'),
        Op::PersId(n) => {
            out.push(b'P');
            if n % 8 == 0 {
                out.extend_from_slice(b"fail");
            } else {
                out.extend_from_slice(format!("id{n}").as_bytes());
            }
            out.push(b'\n');
        }
        Op::BinPersId => out.push(b'Q'),
        Op::NextBuffer => out.push(0x97),
        Op::ReadonlyBuffer => out.push(0x98),
        Op::Ext(kind, code) => match kind % 3 {
            0 => out.extend_from_slice(&[0x82, *code as u8]),
            1 => {
                out.push(0x83);
                out.extend_from_slice(&code.to_le_bytes());
            }
            _ => {
                out.push(0x84);
                out.extend_from_slice(&i32::from(*code).to_le_bytes());
            }
        },
        Op::Stop => out.push(b'.'),
        Op::Raw(b) => out.push(*b),
    }
}

/// Serializes operations into pickle bytes ending with `STOP`. `Frame(n)` wraps the encoding
/// of the next `n` operations in a `FRAME` of the exact length (frames do not nest).
pub fn encode(ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(op) = ops.get(i) {
        i += 1;
        if let Op::Frame(n) = op {
            let end = i.saturating_add(usize::from(*n)).min(ops.len());
            let mut body = Vec::new();
            for inner in ops.get(i..end).unwrap_or_default() {
                encode_op(&mut body, inner);
            }
            i = end;
            out.push(0x95);
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(&body);
        } else {
            encode_op(&mut out, op);
        }
    }
    out.push(b'.');
    out
}
