//! The pickle virtual machine: a stack, a mark stack, a memo and an arena of objects under
//! construction, driven by one `match` over the opcode byte.
//!
//! It follows CPython 3.11's C unpickler (`Modules/_pickle.c`), which is what `pickle.loads`
//! runs, including its error messages; where CPython is lax in ways that hide opcodes or mutate
//! arbitrary objects, it is stricter (see the README's "Stricter than CPython" list). It never
//! recurses and never calls anything: globals come from the [`FindClass`] policy, builtin
//! constructors are evaluated on data by [`builtins`], everything else is recorded.
//!
//! A small pickle of plain data is first tried on a lean path ([`lean`]), which decodes it in
//! one pass straight into values and gives up, for this machine to decode it from the start,
//! at anything else.

mod arena;
mod builtins;
mod lean;
mod memo;
mod scan;
mod stack;
mod strpool;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use self::arena::{Arena, Items, Node, ObjNode};
use self::memo::{Entry, Memo};
use self::stack::Stack;
use self::strpool::{POOL_MAX, POOL_MIN, StrPool};
use crate::codec;
use crate::compat;
use crate::error::{Error, ErrorKind, PyException, Result};
use crate::find_class::{Class, FindClass, PersistentLoad};
use crate::grow;
use crate::limits::{Budget, Limits};
use crate::number::{self, IntLit};
use crate::opcode::{Opcode, REACH_ALL, REACH_MARK, STACK_REACH};
use crate::pystr::{self, INLINE_MAX, PyStr};
use crate::reader::{SHORT_BLOCK, Source};
use crate::value::key::key_eq_counted;
use crate::value::keymap::SMALL_MAX;
use crate::value::{Bytes, Construct, Global, Int, Key, Seq, SmallDict, Tuple, VEC_MIN, Value};

/// A stack or memo entry: a finished value, or an object under construction in the arena.
#[derive(Clone)]
pub(crate) enum Slot {
    Val(Value),
    Node(u32),
}

/// Everything the caller configures.
pub(crate) struct Config<'p> {
    pub(crate) policy: Box<dyn FindClass + 'p>,
    pub(crate) persistent_load: Option<Box<dyn PersistentLoad + 'p>>,
    pub(crate) buffers: Option<Vec<Value>>,
    pub(crate) extensions: HashMap<i64, (String, String)>,
    pub(crate) encoding: Cow<'static, str>,
    pub(crate) errors: Cow<'static, str>,
    pub(crate) fix_imports: bool,
    pub(crate) limits: Limits,
}

/// The machine state. The memo (and the arena it points into) persists across `load()` calls,
/// as in CPython; the stack, marks and protocol are reset for each pickle.
#[derive(Default)]
pub(crate) struct Machine {
    stack: Stack,
    marks: Vec<usize>,
    memo: Memo,
    /// Once the memo is large ([`PLAN_AT`] entries) and the input is in memory: the memo
    /// indices the rest of the input fetches, from one pass over it ([`scan`]). Entries of the
    /// others are then dropped, and counted rather than stored from there on. Dropped after a
    /// failed load (the next load may read the input from mid-opcode, where the pass did not).
    fetched: Option<scan::Fetched>,
    /// Whether the pass was made (or tried), once per unpickler.
    scanned: bool,
    /// `(stack position, memo cell)` of each memo entry that points at a value on the stack
    /// ([`Entry::Stack`]), in stack order: settled (copied into the memo) before any opcode
    /// that would move or drop those values, or moved along with them by `APPENDS`.
    lazy: Vec<(usize, usize)>,
    /// The stack height of the last `MARK` pushed above a list (where `APPENDS` will move the
    /// values): values memoized while that mark is the top one get lazy entries, others (bound
    /// for a dict, a tuple…, which would settle them anyway) copies.
    list_mark: usize,
    /// Set when a lazy entry of a value that owns nothing (a short str, a number) had to be
    /// settled (the value went into a tuple, say, rather than the list), cleared when lazy
    /// entries reach a list: while set, such values are copied at once (as cheap as settling
    /// them, without the bookkeeping).
    copy_scalars: bool,
    arena: Arena,
    proto: u8,
    budget: Budget,
    buffers_used: usize,
    /// A reused buffer for the items of `SETITEMS`.
    scratch: Vec<Slot>,
    /// A reused buffer for the keys of a dict being sealed.
    key_scratch: Vec<Key>,
    /// Reused buffers for the module and name lines of `GLOBAL` and `INST`.
    global_lines: (String, String),
    /// The lean path's buffers ([`lean`]).
    lean: lean::Lean,
    /// The block the long strs of the pickle being read share ([`strpool`]); empty between
    /// pickles.
    strs: StrPool,
    /// Whether `load` ran since the last [`Machine::reset`] (the lean path leaves nothing to
    /// reset: a pooled machine that only took it is given back as it is).
    loaded: bool,
}

/// Bytes charged per container, measured: an empty dict costs about 220 bytes of peak memory
/// in all, a list about 170 (arena node, stack slot, final allocation, result slot).
const NODE_COST: u64 = 160;

/// The memo size at which the rest of the input is scanned for the indices it fetches (see
/// [`Machine::plan_memo`]): 6 MiB of memo cells. The pass costs about 2 ns per opcode, more
/// than counting instead of storing saves in time on most pickles, so it is made only where
/// the memo's memory is worth it.
#[cfg(not(fuzzing))]
const PLAN_AT: usize = 1 << 18;
/// Under `cargo fuzz`, after a few entries, so fuzzers reach the pass and the dropped entries.
#[cfg(fuzzing)]
const PLAN_AT: usize = 4;

/// Inside long loops, work is checked against the budget at least this often.
const WORK_CHECK_EVERY: u64 = 1 << 14;

/// The `max_stack` error.
#[cold]
#[inline(never)]
fn stack_limit(limits: &Limits) -> Error {
    Error::limit("max_stack", limits.max_stack as u64)
}

/// The most items a recycled machine keeps room for in each of its stack-like buffers.
const SPARE_ROOM: usize = 4096;

/// The fewest `SETITEMS` items split off the stack in one copy rather than moved one at a time
/// into the reused buffer (where the allocation would cost more than the moves saved).
const SPLIT_OFF_MIN: usize = 64;

/// Empties `v` in place, keeping its room only if it is for at most `max` items (a recycled
/// machine does not hold on to one pickle's large buffers).
pub(crate) fn empty<T>(v: &mut Vec<T>, max: usize) {
    if v.capacity() <= max {
        v.clear();
    } else {
        *v = Vec::new();
    }
}

impl Machine {
    /// Empties this machine, in place, for an unrelated pickle (no memo, no objects, a fresh
    /// budget), keeping the room of its buffers when small and its caches that own nothing
    /// (see [`Arena::reset`]): what each thread keeps for its next `Unpickler`. In place, no
    /// field moves and the spare stays boxed (small pickles: 12 % fewer instructions per call
    /// than rebuilding it). Every field is named, so a new one cannot be forgotten.
    pub(crate) fn reset(&mut self) {
        if !self.loaded {
            return;
        }
        let Machine {
            stack,
            marks,
            memo,
            fetched,
            scanned,
            lazy,
            list_mark,
            copy_scalars,
            arena,
            proto,
            budget,
            buffers_used,
            scratch,
            key_scratch,
            global_lines,
            lean,
            strs,
            loaded,
        } = self;
        memo.clear();
        *fetched = None;
        *scanned = false;
        stack.empty(SPARE_ROOM);
        empty(marks, SPARE_ROOM);
        empty(lazy, SPARE_ROOM);
        empty(scratch, SPARE_ROOM);
        empty(key_scratch, SPARE_ROOM);
        for line in [&mut global_lines.0, &mut global_lines.1] {
            line.clear();
            line.shrink_to(SPARE_ROOM);
        }
        lean.empty(SPARE_ROOM);
        strs.clear();
        arena.reset();
        *list_mark = 0;
        *copy_scalars = false;
        *proto = 0;
        *budget = Budget::default();
        *buffers_used = 0;
        *loaded = false;
    }

    /// Runs one pickle to its `STOP`.
    pub(crate) fn load<S: Source>(&mut self, cfg: &Config<'_>, src: &mut S) -> Result<Value> {
        self.loaded = true;
        // (After a failed load, the memo may still point into the stack.)
        self.settle_lazy();
        self.stack.clear();
        self.marks.clear();
        self.proto = 0;
        if self.stack.capacity() == 0 {
            // Room for a typical pickle's stack and memo at once, rather than growing from
            // nothing (sized from the bytes there are, never from a claimed length, and kept
            // under glibc's mmap threshold: a large allocation per call shifts that threshold
            // and slows every large buffer after it).
            let hint = src.remaining_hint();
            self.stack.reserve(32);
            self.memo.reserve((hint / 8).min(256));
        }
        let mut op_start = src.position();
        let mut op: Option<Opcode> = None;
        let out = self.run(cfg, src, &mut op_start, &mut op);
        // The block of the last strs goes with them (a pooled machine keeps none).
        self.strs.clear();
        match out {
            Ok(v) => Ok(v),
            Err(e) => {
                self.fetched = None;
                let offset = match e.kind() {
                    ErrorKind::Truncated | ErrorKind::RanOutOfInput => src.data_end(),
                    _ => op_start,
                };
                Err(e.at(offset, op))
            }
        }
    }

    fn run<S: Source>(
        &mut self,
        cfg: &Config<'_>,
        src: &mut S,
        op_start: &mut u64,
        cur: &mut Option<Opcode>,
    ) -> Result<Value> {
        let limits = &cfg.limits;
        loop {
            *op_start = src.position();
            *cur = None;
            let Some(byte) = src.next_opcode()? else {
                return Err(Error::bare(ErrorKind::RanOutOfInput));
            };
            let Some(op) = Opcode::from_u8(byte) else {
                return Err(Error::bare(ErrorKind::InvalidOpcode(byte)));
            };
            *cur = Some(op);
            if !self.lazy.is_empty() {
                let reach = STACK_REACH[usize::from(byte)];
                if reach != 0 {
                    self.settle_reach(reach);
                }
            }
            match op {
                Opcode::MARK => {
                    if self.marks.len() >= limits.max_marks {
                        return Err(Error::limit("max_marks", limits.max_marks as u64));
                    }
                    let height = self.stack.len();
                    self.marks.push(height);
                    self.list_mark = match self.stack.last() {
                        Some(Slot::Node(id))
                            if matches!(self.arena.get(*id), Some(Node::List(_))) =>
                        {
                            height
                        }
                        _ => usize::MAX,
                    };
                }
                Opcode::STOP => {
                    let top = self.pop()?;
                    return self.finish(top, src.at_end(), limits);
                }
                Opcode::POP => {
                    if self.stack.len() > self.fence() {
                        self.stack.pop();
                    } else if self.marks.pop().is_none() {
                        return Err(Error::bare(ErrorKind::StackUnderflow));
                    }
                }
                Opcode::POP_MARK => {
                    let k = self.pop_mark()?;
                    self.stack.truncate(k);
                }
                Opcode::DUP => {
                    let top = self.peek()?.clone();
                    if let Slot::Node(id) = top {
                        self.arena.pin(id);
                    }
                    self.push(top, limits)?;
                }
                Opcode::FLOAT => {
                    let line = src.read_line()?;
                    let f = parse_text_float(line)?;
                    self.push_float(f, limits)?;
                }
                Opcode::INT => {
                    let line = src.read_line()?;
                    let v = parse_text_int(line, limits)?;
                    self.push(Slot::Val(v), limits)?;
                }
                Opcode::LONG => {
                    let line = src.read_line()?;
                    let v = parse_text_long(line, limits)?;
                    self.push(Slot::Val(v), limits)?;
                }
                Opcode::BININT => {
                    let v = i32::from_le_bytes(src.read_array()?);
                    self.push_int(i64::from(v), limits)?;
                    self.push_int_run(src, limits, op_start, cur)?;
                }
                Opcode::BININT1 => {
                    let v = src.read_u8()?;
                    self.push_int(i64::from(v), limits)?;
                    self.push_int_run(src, limits, op_start, cur)?;
                }
                Opcode::BININT2 => {
                    let v = u16::from_le_bytes(src.read_array()?);
                    self.push_int(i64::from(v), limits)?;
                    self.push_int_run(src, limits, op_start, cur)?;
                }
                Opcode::NONE => self.push(Slot::Val(Value::None), limits)?,
                Opcode::NEWTRUE => self.push(Slot::Val(Value::Bool(true)), limits)?,
                Opcode::NEWFALSE => self.push(Slot::Val(Value::Bool(false)), limits)?,
                Opcode::PERSID => {
                    let hook = cfg
                        .persistent_load
                        .as_deref()
                        .ok_or_else(|| Error::bare(ErrorKind::NoPersistentLoad))?;
                    let line = src.read_line()?;
                    let pid = std::str::from_utf8(line)
                        .ok()
                        .filter(|s| s.is_ascii())
                        .ok_or_else(|| {
                            Error::py(
                                PyException::UnpicklingError,
                                "persistent IDs in protocol 0 must be ASCII strings",
                            )
                        })?;
                    let v = persistent(hook, &Value::from(pid))?;
                    self.push(Slot::Val(v), limits)?;
                }
                Opcode::BINPERSID => {
                    let hook = cfg
                        .persistent_load
                        .as_deref()
                        .ok_or_else(|| Error::bare(ErrorKind::NoPersistentLoad))?;
                    let pid = self.pop()?;
                    let pid = self.value_of(pid, limits)?;
                    let v = persistent(hook, &pid)?;
                    self.push(Slot::Val(v), limits)?;
                }
                Opcode::REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let out = self.call(callable, args, None, Construct::Reduce, cfg, src)?;
                    self.push(out, limits)?;
                }
                Opcode::STRING => {
                    let line = src.read_line()?;
                    let body = match (line.first(), line.last()) {
                        (Some(&a), Some(&b))
                            if line.len() >= 2 && a == b && (a == b'\'' || a == b'"') =>
                        {
                            line.get(1..line.len() - 1).unwrap_or_default()
                        }
                        _ => {
                            return Err(Error::py(
                                PyException::UnpicklingError,
                                "the STRING opcode argument must be quoted",
                            ));
                        }
                    };
                    let bytes = codec::escape_decode(body)
                        .map_err(|m| Error::py(PyException::ValueError, m))?;
                    let v = py2_str(&bytes, cfg)?;
                    self.push_payload(v, bytes.len(), src, limits)?;
                }
                Opcode::BINSTRING => {
                    let n = i32::from_le_bytes(src.read_array()?);
                    let n = usize::try_from(n).map_err(|_| {
                        Error::py(
                            PyException::UnpicklingError,
                            "BINSTRING pickle has negative byte count",
                        )
                    })?;
                    let bytes = read_payload(src, n as u64, limits)?;
                    let v = py2_str(bytes, cfg)?;
                    self.push_payload(v, n, src, limits)?;
                }
                Opcode::SHORT_BINSTRING => {
                    let n = usize::from(src.read_u8()?);
                    let bytes = src.read_bytes(n)?;
                    let v = py2_str(bytes, cfg)?;
                    self.push_payload(v, n, src, limits)?;
                }
                Opcode::UNICODE => {
                    let line = src.read_line()?;
                    check_payload(line.len() as u64, limits)?;
                    let n = line.len();
                    let s = codec::raw_unicode_escape_decode(line)
                        .map_err(|m| Error::py(PyException::UnicodeDecodeError, m))?;
                    self.push_payload(Value::Str(s), n, src, limits)?;
                }
                Opcode::BINUNICODE => {
                    let n = u32::from_le_bytes(src.read_array()?);
                    self.op_unicode(u64::from(n), src, limits)?;
                }
                Opcode::SHORT_BINUNICODE => {
                    let n = src.read_u8()?;
                    self.op_unicode(u64::from(n), src, limits)?;
                }
                Opcode::BINUNICODE8 => {
                    let n = u64::from_le_bytes(src.read_array()?);
                    if n > i64::MAX as u64 {
                        return Err(Error::py(
                            PyException::OverflowError,
                            "BINUNICODE exceeds system's maximum size of 9223372036854775807 bytes",
                        ));
                    }
                    self.op_unicode(n, src, limits)?;
                }
                Opcode::BINBYTES => {
                    let n = u32::from_le_bytes(src.read_array()?);
                    self.op_bytes(u64::from(n), false, src, limits)?;
                }
                Opcode::SHORT_BINBYTES => {
                    let n = src.read_u8()?;
                    self.op_bytes(u64::from(n), false, src, limits)?;
                }
                Opcode::BINBYTES8 | Opcode::BYTEARRAY8 => {
                    let n = u64::from_le_bytes(src.read_array()?);
                    if n > i64::MAX as u64 {
                        let what = if op == Opcode::BINBYTES8 {
                            "BINBYTES"
                        } else {
                            "BYTEARRAY8"
                        };
                        return Err(Error::py(
                            PyException::OverflowError,
                            format!(
                                "{what} exceeds system's maximum size of 9223372036854775807 bytes"
                            ),
                        ));
                    }
                    self.op_bytes(n, op == Opcode::BYTEARRAY8, src, limits)?;
                }
                Opcode::APPEND => {
                    let mut item = self.pop()?;
                    if let Some(&Slot::Node(id)) = self
                        .stack
                        .last()
                        .filter(|_| self.stack.len() > self.fence())
                    {
                        if let Some(Node::List(_)) = self.arena.get(id) {
                            self.budget.work(limits, src.position(), 1)?;
                            self.budget.alloc(limits, src.position(), 24)?;
                            let depth = self.take_final(std::slice::from_mut(&mut item), limits);
                            if let Some(Node::List(list)) = self.arena.get_mut(id) {
                                list.push(item);
                                list.note_value_depth(depth);
                            }
                            continue;
                        }
                    }
                    self.extend_target(vec![item], "append", src, limits)?;
                }
                Opcode::APPENDS => {
                    let k = self.pop_mark()?;
                    self.op_appends(k, src, limits)?;
                }
                Opcode::BUILD => {
                    let state = self.pop()?;
                    self.op_build(state)?;
                }
                Opcode::GLOBAL => {
                    let (module, name) = self.global_lines(src, false)?;
                    let g = self.find_class(&module, &name, cfg);
                    self.global_lines = (module, name);
                    self.push(g?, limits)?;
                }
                Opcode::DICT => {
                    let k = self.pop_mark()?;
                    let n = self.stack.len().saturating_sub(k);
                    if n % 2 != 0 {
                        return Err(Error::py(
                            PyException::UnpicklingError,
                            "odd number of items for DICT",
                        ));
                    }
                    let node = self.new_node(Node::empty_dict(), src, limits)?;
                    if let (Slot::Node(id), 1..=SMALL_MAX) = (&node, n / 2) {
                        self.work(n as u64, src, limits)?;
                        self.alloc(32 * n as u64, src, limits)?;
                        self.seal_dict(*id, k, src, limits)?;
                        self.push(node, limits)?;
                        continue;
                    }
                    let items = self.stack.split_off(k);
                    self.set_items(&node, items.into_iter(), src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::EMPTY_DICT => {
                    self.alloc(64, src, limits)?;
                    let node = self.new_node(Node::empty_dict(), src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::GET => {
                    let line = src.read_line()?;
                    let idx = parse_memo_index(line)?;
                    self.op_get::<0, S>(idx, limits, src)?;
                }
                Opcode::BINGET => {
                    let idx = src.read_u8()?;
                    self.op_get::<2, S>(i64::from(idx), limits, src)?;
                }
                Opcode::LONG_BINGET => {
                    let idx = u32::from_le_bytes(src.read_array()?);
                    self.op_get::<5, S>(i64::from(idx), limits, src)?;
                }
                Opcode::INST => {
                    if self.marks.is_empty() {
                        return Err(Error::bare(ErrorKind::MarkNotFound));
                    }
                    let (module, name) = self.global_lines(src, true)?;
                    let cls = self.find_class(&module, &name, cfg);
                    self.global_lines = (module, name);
                    let cls = cls?;
                    let k = self.pop_mark()?;
                    let args = self.stack.split_off(k);
                    let out = self.instantiate(cls, args, Construct::Inst, cfg, src)?;
                    self.push(out, limits)?;
                }
                Opcode::LIST => {
                    let k = self.pop_mark()?;
                    let n = self.stack.len().saturating_sub(k);
                    self.alloc(32 + 24 * n as u64, src, limits)?;
                    let mut items = Items::default();
                    items.extend_from(&mut self.stack, k);
                    let node = self.new_node(Node::List(items), src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::EMPTY_LIST => {
                    self.alloc(48, src, limits)?;
                    let node = self.new_node(Node::List(Items::default()), src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::OBJ => {
                    let k = self.pop_mark()?;
                    let mut items = self.stack.split_off(k);
                    if items.is_empty() {
                        return Err(Error::bare(ErrorKind::StackUnderflow));
                    }
                    let cls = items.remove(0);
                    let out = self.instantiate(cls, items, Construct::Obj, cfg, src)?;
                    self.push(out, limits)?;
                }
                Opcode::PUT => {
                    let line = src.read_line()?;
                    if line.is_empty() {
                        return Err(Error::bare(ErrorKind::Truncated));
                    }
                    // CPython looks for the value to store before it reads the index.
                    self.peek()?;
                    let idx = parse_memo_index(line)?;
                    let idx = u64::try_from(idx)
                        .map_err(|_| Error::py(PyException::ValueError, "negative PUT argument"))?;
                    self.memo_put(idx, src, limits)?;
                }
                Opcode::BINPUT => {
                    let idx = u64::from(src.read_u8()?);
                    self.memo_put(idx, src, limits)?;
                }
                Opcode::LONG_BINPUT => {
                    let idx = u64::from(u32::from_le_bytes(src.read_array()?));
                    self.memo_put(idx, src, limits)?;
                }
                Opcode::MEMOIZE => {
                    let idx = self.memo.len() as u64;
                    self.memo_put(idx, src, limits)?;
                }
                Opcode::SETITEM => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let target = self.peek()?.clone();
                    self.set_items(&target, [key, value].into_iter(), src, limits)?;
                }
                Opcode::SETITEMS => {
                    let k = self.pop_mark()?;
                    if self.stack.len().saturating_sub(k) % 2 != 0 {
                        return Err(Error::py(
                            PyException::UnpicklingError,
                            "odd number of items for SETITEMS",
                        ));
                    }
                    if let Some(id) = self.sealable_dict(k) {
                        let n = self.stack.len() - k;
                        self.work(n as u64, src, limits)?;
                        self.alloc(32 * n as u64, src, limits)?;
                        let depth = if self.fetched.is_some() {
                            take_finals(&mut self.arena, self.stack.region_mut(k + 1), 2, limits)
                        } else {
                            0
                        };
                        self.seal_dict(id, k, src, limits)?;
                        if depth > 1 {
                            if let Some(
                                Node::SealedDict { key_depth, .. } | Node::Dict { key_depth, .. },
                            ) = self.arena.get_mut(id)
                            {
                                *key_depth = (*key_depth).max(depth);
                            }
                        }
                        continue;
                    }
                    // The items move through a reused buffer: no allocation per SETITEMS. A
                    // long run (pickle writes 1,000 pairs a batch) is split off the stack in one
                    // copy instead: moved one at a time, each slot goes through the stack frame.
                    let mut items = std::mem::take(&mut self.scratch);
                    if self.stack.len().saturating_sub(k) >= SPLIT_OFF_MIN {
                        items = self.stack.split_off(k);
                    } else {
                        items.extend(self.stack.drain_from(k));
                    }
                    let result = match self.peek() {
                        Ok(target) => {
                            let target = target.clone();
                            self.set_items(&target, items.drain(..), src, limits)
                        }
                        Err(e) => Err(e),
                    };
                    items.clear();
                    self.scratch = items;
                    result?;
                }
                Opcode::TUPLE => {
                    let k = self.pop_mark()?;
                    self.push_stack_tuple(k, src, limits)?;
                }
                Opcode::EMPTY_TUPLE => self.push_stack_tuple(self.stack.len(), src, limits)?,
                Opcode::TUPLE1 => self.op_small_tuple::<S, 1>(src, limits)?,
                Opcode::TUPLE2 => self.op_small_tuple::<S, 2>(src, limits)?,
                Opcode::TUPLE3 => self.op_small_tuple::<S, 3>(src, limits)?,
                Opcode::BINFLOAT => {
                    // (One compare for most floats: the first item of a list's batch is rare.)
                    let k = self.stack.len();
                    if k == self.list_mark && self.marks.last() == Some(&k) {
                        if let Some(n) = src.float_batch() {
                            if self.float_appends(n, src, limits) {
                                continue;
                            }
                        }
                    }
                    let f = f64::from_be_bytes(src.read_array()?);
                    self.push_float(f, limits)?;
                    // The floats that follow, without a dispatch each; an error is reported at
                    // the failing float's own offset.
                    src.read_floats(
                        #[inline(always)]
                        |f, start| {
                            self.push_float(f, limits)
                                .inspect_err(|_| *op_start = start)
                        },
                    )?;
                }
                Opcode::PROTO => {
                    let p = src.read_u8()?;
                    if p > 5 {
                        return Err(Error::bare(ErrorKind::UnsupportedProtocol(p)));
                    }
                    self.proto = p;
                }
                Opcode::NEWOBJ => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.check_newobj(&cls, &args, None, "NEWOBJ")?;
                    let out = self.call(cls, args, None, Construct::NewObj, cfg, src)?;
                    self.push(out, limits)?;
                }
                Opcode::NEWOBJ_EX => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.check_newobj(&cls, &args, Some(&kwargs), "NEWOBJ_EX")?;
                    let out = self.call(cls, args, Some(kwargs), Construct::NewObjEx, cfg, src)?;
                    self.push(out, limits)?;
                }
                Opcode::EXT1 => {
                    let code = src.read_u8()?;
                    self.op_ext(i64::from(code), cfg)?;
                }
                Opcode::EXT2 => {
                    let code = u16::from_le_bytes(src.read_array()?);
                    self.op_ext(i64::from(code), cfg)?;
                }
                Opcode::EXT4 => {
                    let code = i32::from_le_bytes(src.read_array()?);
                    self.op_ext(i64::from(code), cfg)?;
                }
                Opcode::LONG1 => {
                    let n = src.read_u8()?;
                    self.op_long(u64::from(n), src, limits)?;
                    self.push_int_run(src, limits, op_start, cur)?;
                }
                Opcode::LONG4 => {
                    let n = i32::from_le_bytes(src.read_array()?);
                    let n = u64::try_from(n).map_err(|_| {
                        Error::py(
                            PyException::UnpicklingError,
                            "LONG pickle has negative byte count",
                        )
                    })?;
                    self.op_long(n, src, limits)?;
                }
                Opcode::EMPTY_SET => {
                    self.alloc(64, src, limits)?;
                    let node = self.new_node(Node::empty_set(false), src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::ADDITEMS => {
                    let k = self.pop_mark()?;
                    let items = self.stack.split_off(k);
                    self.extend_target(items, "add", src, limits)?;
                }
                Opcode::FROZENSET => {
                    let k = self.pop_mark()?;
                    let items = self.stack.split_off(k);
                    let node = self.new_node(Node::empty_set(true), src, limits)?;
                    self.add_to_set(&node, items, true, src, limits)?;
                    self.push(node, limits)?;
                }
                Opcode::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Slot::Val(Value::Str(module)), Slot::Val(Value::Str(name))) =
                        (module, name)
                    else {
                        return Err(Error::py(
                            PyException::UnpicklingError,
                            "STACK_GLOBAL requires str",
                        ));
                    };
                    let g = self.find_class_str(&module, &name, cfg)?;
                    self.push(g, limits)?;
                }
                Opcode::FRAME => {
                    let n = u64::from_le_bytes(src.read_array()?);
                    src.start_frame(n)?;
                }
                Opcode::NEXT_BUFFER => {
                    let buffers = cfg
                        .buffers
                        .as_ref()
                        .ok_or_else(|| Error::bare(ErrorKind::NoBuffers))?;
                    let b = buffers
                        .get(self.buffers_used)
                        .ok_or_else(|| Error::bare(ErrorKind::NotEnoughBuffers))?
                        .clone();
                    self.buffers_used += 1;
                    self.push(Slot::Val(b), limits)?;
                }
                Opcode::READONLY_BUFFER => {
                    let top = self.peek()?;
                    let replacement = match top {
                        Slot::Val(Value::Bytes(_)) => None,
                        Slot::Val(Value::ByteArray(b)) => Some(Value::Bytes(b.clone())),
                        other => {
                            let t = self.slot_type_name(other);
                            return Err(Error::py(
                                PyException::TypeError,
                                format!("memoryview: a bytes-like object is required, not '{t}'"),
                            ));
                        }
                    };
                    if let Some(v) = replacement {
                        self.stack.set_top(Slot::Val(v));
                    }
                }
            }
        }
    }

    // ---- stack -------------------------------------------------------------------------

    /// Height of the stack at the topmost MARK (0 without one).
    #[inline(always)]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// The error for reading at or below the fence.
    #[cold]
    fn underflow(&self) -> Error {
        if self.marks.is_empty() {
            Error::bare(ErrorKind::StackUnderflow)
        } else {
            Error::bare(ErrorKind::UnexpectedMark)
        }
    }

    #[inline(always)]
    fn push(&mut self, slot: Slot, limits: &Limits) -> Result<()> {
        let len = self.stack.len();
        if len >= limits.max_stack {
            return Err(stack_limit(limits));
        }
        self.stack.push(slot);
        Ok(())
    }

    /// Pushes a float, written in place: a placeholder slot is pushed and the number written
    /// into it. Pushed as a whole `Slot`, the value was assembled in a temporary and copied,
    /// and the CPU cannot forward that copy from the smaller stores that built it (a quarter
    /// of the time of a list of floats).
    #[inline(always)]
    fn push_float(&mut self, f: f64, limits: &Limits) -> Result<()> {
        self.push_made(limits, || Slot::Val(Value::Float(f)))
    }

    /// Pushes an int that fits in 64 bits (see [`Machine::push_float`]).
    #[inline(always)]
    fn push_int(&mut self, i: i64, limits: &Limits) -> Result<()> {
        self.push_made(limits, || Slot::Val(Value::Int(Int::from(i))))
    }

    /// The ints that follow an int, for as long as the reader hands them over whole
    /// ([`Source::read_small_ints`]): the same checks and charges as their opcodes' own arms, with
    /// no dispatch per int. An error is reported at the int's own offset and opcode.
    #[inline(always)]
    fn push_int_run<S: Source>(
        &mut self,
        src: &mut S,
        limits: &Limits,
        op_start: &mut u64,
        cur: &mut Option<Opcode>,
    ) -> Result<()> {
        // Bounds under which no check can fail: the largest charge within the length limits, and
        // what may be charged as of where the run starts (less than at any int of the run; raised
        // whenever an int goes the checked way).
        let charge_max = limits
            .max_long_bytes
            .min(limits.max_payload_len)
            .saturating_add(32);
        let mut floor = self.budget.allowed_alloc(limits, src.position());
        src.read_small_ints(
            #[inline(always)]
            |int| {
                // `LONG1` is checked and charges its payload, as `op_long` does; the others charge
                // nothing. The checks are made on the charge, for every int, so that nothing
                // branches on the opcode (ints of each opcode come in any order: such a branch
                // mispredicts); the one branch is taken only when a check may fail, and then
                // the checks are made one by one, as `op_long` makes them.
                let alloc = self.budget.alloc.saturating_add(int.charge);
                let pushed = if (int.charge > charge_max) | (alloc > floor) {
                    floor = self.budget.allowed_alloc(limits, int.end);
                    if int.op == Opcode::LONG1 as u8 {
                        let n = u64::from(int.len);
                        check_long(n, limits)
                            .and_then(|()| self.budget.alloc(limits, int.end, int.charge))
                            .and_then(|()| self.push_int(int.value, limits))
                    } else {
                        self.push_int(int.value, limits)
                    }
                } else {
                    self.budget.alloc = alloc;
                    self.push_int(int.value, limits)
                };
                pushed.inspect_err(|_| {
                    *op_start = int.start;
                    *cur = Opcode::from_u8(int.op);
                })
            },
        )
    }

    /// Pushes the slot `make` returns, written in place ([`Stack::push_made`]).
    #[inline(always)]
    fn push_made(&mut self, limits: &Limits, make: impl FnOnce() -> Slot) -> Result<()> {
        if self.stack.len() >= limits.max_stack {
            return Err(stack_limit(limits));
        }
        self.stack.push_made(make);
        Ok(())
    }

    #[inline(always)]
    fn pop(&mut self) -> Result<Slot> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.pop().ok_or_else(|| self.underflow())
    }

    #[inline(always)]
    fn peek(&self) -> Result<&Slot> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.last().ok_or_else(|| self.underflow())
    }

    #[inline]
    fn pop_mark(&mut self) -> Result<usize> {
        self.marks
            .pop()
            .ok_or_else(|| Error::bare(ErrorKind::MarkNotFound))
    }

    /// Charges `bytes` of memory against the limits.
    #[inline]
    fn alloc<S: Source>(&mut self, bytes: u64, src: &S, limits: &Limits) -> Result<()> {
        self.budget.alloc(limits, src.position(), bytes)
    }

    /// Adds a node to the arena, charging what a container costs at most while the pickle runs
    /// and after (the node, its stack slot, its final shared allocation).
    #[inline]
    fn new_node<S: Source>(&mut self, node: Node, src: &S, limits: &Limits) -> Result<Slot> {
        self.budget.alloc(limits, src.position(), NODE_COST)?;
        self.arena.push(node)
    }

    /// Charges `units` of work against the limits.
    #[inline]
    fn work<S: Source>(&mut self, units: u64, src: &S, limits: &Limits) -> Result<()> {
        self.budget.work(limits, src.position(), units)
    }

    /// Python's type name of what a slot holds.
    fn slot_type_name(&self, slot: &Slot) -> String {
        match slot {
            Slot::Val(v) => v.type_name().to_owned(),
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Done(v, _)) => v.type_name().to_owned(),
                Some(Node::Object(o)) => match &o.callable {
                    Value::Global(g) => g.name().to_string(),
                    _ => "object".to_owned(),
                },
                Some(n) => n.type_name().to_owned(),
                None => "object".to_owned(),
            },
        }
    }

    /// The finished value of a slot (converting the node behind it).
    fn value_of(&mut self, slot: Slot, limits: &Limits) -> Result<Value> {
        self.converted(slot, false, limits).map(|(v, _)| v)
    }

    /// The value behind a slot and its depth, converting an object under construction (moving
    /// its parts out of the arena when `owned`: the arena's last use), its work charged.
    fn converted(&mut self, slot: Slot, owned: bool, limits: &Limits) -> Result<(Value, u32)> {
        let mut work = 0;
        let converted = match slot {
            Slot::Val(v) => {
                let depth = v.shallow_depth();
                (v, depth)
            }
            Slot::Node(id) if owned => {
                self.arena.finalize_owned(id, limits.max_depth, &mut work)?
            }
            Slot::Node(id) => self.arena.finalize(id, limits.max_depth, &mut work)?,
        };
        self.budget.work = self.budget.work.saturating_add(work);
        Ok(converted)
    }

    /// `STOP`: the result, converted. At the end of a slice no later pickle can use the memo,
    /// so the objects are moved into the result rather than cloned.
    /// The result's depth is checked against `max_depth` whatever its form (a finished tuple is
    /// built without a conversion that would check it).
    fn finish(&mut self, top: Slot, last: bool, limits: &Limits) -> Result<Value> {
        let (v, depth) = self.converted(top, last, limits)?;
        if depth as usize > limits.max_depth {
            return Err(Error::limit("max_depth", limits.max_depth as u64));
        }
        Ok(v)
    }

    // ---- memo --------------------------------------------------------------------------

    /// `GET` (its opcode and argument `N` bytes long, 0 for the text `GET`) of the memo entry
    /// `idx`. When it is a container or an object under construction, the identical `GET`s
    /// that follow it are read with it ([`Machine::repeat_get`]; not after a text `GET`).
    #[inline(never)]
    fn op_get<const N: usize, S: Source>(
        &mut self,
        idx: i64,
        limits: &Limits,
        src: &mut S,
    ) -> Result<()> {
        let Some(entry) = u64::try_from(idx).ok().and_then(|i| self.memo.get(i)) else {
            return Err(self.memo_not_found(idx));
        };
        if self.stack.len() >= limits.max_stack {
            return Err(stack_limit(limits));
        }
        let slot = match entry {
            Entry::Slot(slot) => slot,
            &Entry::Stack(pos) => {
                // Cloned straight into the stack's memory (no temporary to copy from).
                if !self.stack.push_copy_of(pos) {
                    return Err(arena::internal());
                }
                if N > 0 && self.stack.last().is_some_and(|s| !s.is_plain()) {
                    self.repeat_get::<N, S>(src, limits);
                }
                return Ok(());
            }
            &Entry::Item(node, i) => {
                let v = self.arena.item(node, i).ok_or_else(arena::internal)?;
                self.stack.push(Slot::Val(v.clone()));
                return Ok(());
            }
        };
        // An object under construction: its reference, without the general clone.
        if let &Slot::Node(id) = slot {
            self.stack.push(Slot::Node(id));
            if N > 0 {
                self.repeat_get::<N, S>(src, limits);
            }
            return Ok(());
        }
        // A short str (most `GET`s: the keys of records) is copied by its parts into a pushed
        // slot, without the general clone.
        if let Slot::Val(Value::Str(s)) = slot {
            if let Some((len, &buf)) = s.inline_parts() {
                self.stack
                    .push_made(|| Slot::Val(Value::Str(PyStr::from_inline_parts(len, buf))));
                return Ok(());
            }
        }
        // Cloned straight into the stack's memory (no temporary to copy from).
        let plain = slot.is_plain();
        self.stack.push_clone(slot);
        if N > 0 && !plain {
            self.repeat_get::<N, S>(src, limits);
        }
        Ok(())
    }

    /// After a `BINGET`/`LONG_BINGET` (`N` bytes) of a container or an object under
    /// construction: the identical `GET`s that follow it (`[x] * n`), pushed at once. Each
    /// would push the same entry and pass the same checks; the stack limit is kept by reading
    /// no more of them than the stack has room for, so the one that would overflow it is read
    /// and fails on its own.
    #[inline(never)]
    fn repeat_get<const N: usize, S: Source>(&mut self, src: &mut S, limits: &Limits) {
        let room = limits.max_stack.saturating_sub(self.stack.len());
        let k = src.read_repeats::<N>(room);
        if k > 0 {
            self.stack.repeat_top(k);
        }
    }

    /// The error of a `GET` of an index that is not in the memo.
    #[cold]
    #[inline(never)]
    fn memo_not_found(&self, idx: i64) -> Error {
        match u64::try_from(idx) {
            Ok(i) if self.memo.was_skipped(i) => Error::bare(ErrorKind::Unsupported(format!(
                "memo entry {idx} was not kept: this unpickler resumed after a failed load, and \
                 the entry was not fetched by the pickles as read before it"
            ))),
            _ => Error::bare(ErrorKind::MemoNotFound(idx)),
        }
    }

    /// [`take_finals`] for one slot, once the memo plan is on (before it, every container a
    /// pickler writes is memoized, and so pinned).
    #[inline]
    fn take_final(&mut self, slots: &mut [Slot], limits: &Limits) -> u32 {
        if self.fetched.is_none() {
            return 0;
        }
        take_finals(&mut self.arena, slots, 1, limits)
    }

    /// The memo has [`PLAN_AT`] entries: if the rest of the input is in memory (`rest`, from
    /// input position `at`), finds the indices it fetches ([`scan`]), drops the entries of the
    /// others and from now on only counts them; gives the str pool the strs the pass found
    /// ([`StrPool::ahead`]). Once per unpickler; nothing changes if the pass gives up or the memo's
    /// indices are not the dense run picklers write.
    #[cold]
    #[inline(never)]
    fn plan_memo(&mut self, rest: Option<&[u8]>, at: u64) {
        if self.scanned {
            return;
        }
        self.scanned = true;
        let Some(rest) = rest else {
            return;
        };
        let mut strs = Vec::new();
        let fetched = scan::fetched(rest, &mut strs);
        if let Ok(at) = usize::try_from(at) {
            self.strs.ahead(at, strs);
        }
        let Some(fetched) = fetched else {
            return;
        };
        if self.memo.forget_unfetched(&fetched) {
            self.lazy.retain(|&(_, cell)| fetched.contains(cell as u64));
            self.fetched = Some(fetched);
        }
    }

    /// `PUT`/`BINPUT`/`LONG_BINPUT`/`MEMOIZE` at `idx`: counted only, if the input never
    /// fetches it ([`Machine::skip_put`]), else stored ([`Machine::op_put`]); the memo plan is
    /// made when the memo reaches [`PLAN_AT`] entries.
    #[inline(always)]
    fn memo_put<S: Source>(&mut self, idx: u64, src: &S, limits: &Limits) -> Result<()> {
        if !self.skip_put(idx, limits) {
            self.op_put(idx, limits)?;
            if self.memo.len() == PLAN_AT {
                self.plan_memo(src.unread(), src.position());
            }
        }
        Ok(())
    }

    /// The common `PUT`/`MEMOIZE` of an entry the input never fetches, inline: counts it if
    /// that is all there is to do (something to memoize above the topmost MARK, within the
    /// limits, the next dense index). `false`: nothing done ([`Machine::op_put`] stores it, or
    /// fails, as every case this leaves is one where counting alone would be wrong).
    #[inline(always)]
    fn skip_put(&mut self, idx: u64, limits: &Limits) -> bool {
        match &self.fetched {
            Some(fetched) => {
                self.stack.len() > self.fence()
                    && idx <= limits.max_memo_index
                    && self.memo.len() < limits.max_memo_entries
                    && !fetched.contains(idx)
                    && self.memo.skip(idx)
            }
            None => false,
        }
    }

    #[inline(always)]
    fn op_put(&mut self, idx: u64, limits: &Limits) -> Result<()> {
        self.peek()?;
        if idx > limits.max_memo_index {
            return Err(Error::limit("max_memo_index", limits.max_memo_index));
        }
        if self.memo.len() >= limits.max_memo_entries && !self.memo.contains(idx) {
            return Err(Error::limit(
                "max_memo_entries",
                limits.max_memo_entries as u64,
            ));
        }
        // A finished value bound for a list: the memo notes where it is rather than copying it.
        if self.marks.last() == Some(&self.list_mark) {
            let copy_scalars = self.copy_scalars;
            if let Some(Slot::Val(_)) = self
                .stack
                .last()
                .filter(|s| !(copy_scalars && matches!(s, Slot::Val(v) if v.owns_nothing())))
            {
                let pos = self.stack.len() - 1;
                if let Some(cell) = self.memo.put_lazy(idx, pos) {
                    self.lazy.push((pos, cell));
                    return Ok(());
                }
            }
        }
        if let Some(top) = self.stack.last() {
            if let &Slot::Node(id) = top {
                self.arena.pin(id);
            }
            self.memo.put_clone(idx, top);
        }
        Ok(())
    }

    /// Before an opcode that may move, drop or change stack slots as far down as `reach` says
    /// ([`STACK_REACH`]): settles the memo entries that point at those slots.
    #[inline]
    fn settle_reach(&mut self, reach: u8) {
        let from = match reach {
            REACH_ALL => 0,
            REACH_MARK => self.fence().saturating_sub(1),
            n => self.stack.len().saturating_sub(usize::from(n)),
        };
        if self.lazy.last().is_some_and(|&(pos, _)| pos >= from) {
            self.settle_from(from);
        }
    }

    /// Settles every memo entry that points at a value on the stack.
    fn settle_lazy(&mut self) {
        if !self.lazy.is_empty() {
            self.settle_from(0);
        }
    }

    /// Turns the memo entries that point at values at stack positions `from..` into copies of
    /// the values.
    #[inline(never)]
    fn settle_from(&mut self, from: usize) {
        // The entries to settle are the last ones (usually one or two): found from the end.
        let split = self
            .lazy
            .iter()
            .rposition(|&(pos, _)| pos < from)
            .map_or(0, |i| i + 1);
        for &(pos, cell) in self.lazy.get(split..).unwrap_or_default() {
            let (Some(cell), Some(slot @ Slot::Val(v))) =
                (self.memo.cell_mut(cell), self.stack.get(pos))
            else {
                debug_assert!(false, "a lazy memo entry without its value");
                continue;
            };
            if !matches!(cell, Some(Entry::Stack(p)) if *p == pos) {
                continue;
            }
            self.copy_scalars |= v.owns_nothing();
            memo::copy_into(cell, slot);
        }
        self.lazy.truncate(split);
    }

    /// `APPENDS` is moving `stack[k..]` to the end of the list `node`, which has `base` items:
    /// the memo entries that point at those values follow them.
    fn relocate_lazy(&mut self, k: usize, node: u32, base: usize) {
        self.copy_scalars = false;
        let split = self.lazy.partition_point(|&(pos, _)| pos < k);
        for &(pos, cell) in self.lazy.get(split..).unwrap_or_default() {
            if let Some(cell) = self.memo.cell_mut(cell) {
                if matches!(cell, Some(Entry::Stack(p)) if *p == pos) {
                    *cell = Some(Entry::Item(node, base + (pos - k)));
                    self.arena.pin(node);
                }
            }
        }
        self.lazy.truncate(split);
    }

    // ---- scalars -----------------------------------------------------------------------

    /// Pushes a str/bytes value made from `n` input bytes, charging its size.
    fn push_payload<S: Source>(
        &mut self,
        v: Value,
        n: usize,
        src: &S,
        limits: &Limits,
    ) -> Result<()> {
        self.alloc(32 + n as u64, src, limits)?;
        self.push(Slot::Val(v), limits)
    }

    /// `BINUNICODE`, `SHORT_BINUNICODE`, `BINUNICODE8`. The short str (most keys and many
    /// values) is decoded here, in the dispatch loop; the rest out of line.
    #[inline(always)]
    fn op_unicode<S: Source>(&mut self, n: u64, src: &mut S, limits: &Limits) -> Result<()> {
        // A short str read as one block: ASCII text goes straight into its stack slot.
        if n <= INLINE_MAX as u64 && n <= limits.max_payload_len {
            if let Some(block) = src.read_short_block(n as usize) {
                let text = block.first_chunk::<INLINE_MAX>();
                // ASCII, or other valid UTF-8 (no surrogate), goes inline as it was read.
                if let (true, Some(&buf)) = (pystr::block_is_text(&block, n as usize), text) {
                    self.alloc(32 + n, src, limits)?;
                    return self.push_made(limits, || {
                        Slot::Val(Value::Str(PyStr::from_inline_parts(n as u8, buf)))
                    });
                }
                return self.op_short_surrogates(block, n as usize, src, limits);
            }
        }
        self.op_long_unicode(n, src, limits)
    }

    /// A short str that is not valid UTF-8: with surrogates (`surrogatepass`), or an error.
    #[cold]
    #[inline(never)]
    fn op_short_surrogates<S: Source>(
        &mut self,
        block: [u8; SHORT_BLOCK],
        n: usize,
        src: &mut S,
        limits: &Limits,
    ) -> Result<()> {
        let bytes = block.get(..n).unwrap_or_default();
        let s = PyStr::from_utf8_surrogatepass(bytes)
            .map_err(|e| Error::py(PyException::UnicodeDecodeError, e.to_string()))?;
        self.push_payload(Value::Str(s), n, src, limits)
    }

    /// [`Machine::op_unicode`] of a str read as bytes: too long to be inline, too long for the
    /// limits, or too near the end of the input for a whole block.
    #[inline(never)]
    fn op_long_unicode<S: Source>(&mut self, n: u64, src: &mut S, limits: &Limits) -> Result<()> {
        let start = src.position();
        let end = start.saturating_add(n);
        // A str of a pickle in memory, from the block it shares with the strs after it.
        let pooled = match (usize::try_from(n), usize::try_from(start), src.unread()) {
            (Ok(len @ POOL_MIN..=POOL_MAX), Ok(pos), Some(rest)) => self.strs.take(pos, len, rest),
            _ => None,
        };
        let bytes = read_payload(src, n, limits)?;
        if let Some(s) = pooled {
            self.budget.alloc(limits, end, 32 + n)?;
            return self.push_made(limits, || Slot::Val(Value::Str(s)));
        }
        // Text (no surrogate) too long to be inline: validated, charged and checked against the
        // stack limit (in that order, as below), then allocated and written straight into its
        // stack slot (a `PyStr` returned from a call is copied from the callee's smaller
        // stores, which the CPU cannot forward).
        if let Some(s) = PyStr::latin1_from_utf8(bytes) {
            self.budget.alloc(limits, end, 32 + n)?;
            return self.push(Slot::Val(Value::Str(s)), limits);
        }
        if let (Some(text), true) = (pystr::utf8(bytes), bytes.len() > INLINE_MAX) {
            self.budget.alloc(limits, end, 32 + n)?;
            return self.push_made(limits, || {
                Slot::Val(Value::Str(PyStr::from_text(Arc::from(text))))
            });
        }
        let s = PyStr::from_utf8_surrogatepass(bytes)
            .map_err(|e| Error::py(PyException::UnicodeDecodeError, e.to_string()))?;
        self.budget.alloc(limits, end, 32 + n)?;
        self.push(Slot::Val(Value::Str(s)), limits)
    }

    /// `BINBYTES`, `SHORT_BINBYTES`, `BINBYTES8`, `BYTEARRAY8`.
    fn op_bytes<S: Source>(
        &mut self,
        n: u64,
        bytearray: bool,
        src: &mut S,
        limits: &Limits,
    ) -> Result<()> {
        // From a shared input, a large payload is a window of it (no copy). The window only
        // exists if the input holds the bytes; reading them still checks limits and framing.
        let window = match usize::try_from(n) {
            Ok(len) if len >= SHARE_MIN => src.window(src.position(), len),
            _ => None,
        };
        let payload = read_payload(src, n, limits)?;
        let bytes = match window {
            Some(window) => window,
            None => Bytes::from(payload),
        };
        let v = if bytearray {
            Value::ByteArray(bytes)
        } else {
            Value::Bytes(bytes)
        };
        self.push_payload(v, n as usize, src, limits)
    }

    fn op_long<S: Source>(&mut self, n: u64, src: &mut S, limits: &Limits) -> Result<()> {
        check_long(n, limits)?;
        let bytes = read_payload(src, n, limits)?;
        let v = Value::Int(Int::from_signed_bytes_le(bytes));
        self.push_payload(v, n as usize, src, limits)
    }

    // ---- containers --------------------------------------------------------------------

    /// `TUPLE`: the items above the mark move straight from the stack into the tuple. A tuple
    /// is immutable: when its items are all finished values it is finished too, and is built
    /// in its final form at once; a tuple of scalars (most tuples: rows, pairs, coordinates)
    /// is pushed as a plain value, with no arena node.
    fn push_stack_tuple<S: Source>(&mut self, k: usize, src: &S, limits: &Limits) -> Result<()> {
        let k = k.min(self.stack.len());
        let n = self.stack.len() - k;
        self.alloc(32 + 24 * n as u64, src, limits)?;
        let slots = self.stack.region_mut(k);
        let mut inner = 0;
        let finished = slots.iter().all(|s| match s {
            Slot::Val(v) => {
                inner = inner.max(v.shallow_depth());
                true
            }
            Slot::Node(_) => false,
        });
        if finished {
            let seq = if slots.is_empty() {
                Seq::empty_tuple()
            } else {
                let mut items = arena::none_slice(slots.len());
                if let Some(dst) = Arc::get_mut(&mut items) {
                    arena::move_values(dst, slots);
                }
                Seq::Slice(items)
            };
            let tuple = Value::Tuple(Tuple(seq));
            if inner == 0 {
                return self.replace_from(k, tuple, limits);
            }
            self.stack.discard_moved(k);
            let node = self.new_node(Node::Done(tuple, inner + 1), src, limits)?;
            return self.push(node, limits);
        }
        let mut tuple = Items::default();
        tuple.extend_from(&mut self.stack, k);
        let node = self.new_node(Node::Tuple(tuple), src, limits)?;
        self.push(node, limits)
    }

    /// `TUPLE1`/`TUPLE2`/`TUPLE3`: a tuple of scalars is built from the top slots in place
    /// (the values swapped into the new tuple, which takes the first one's slot); anything
    /// else goes the general way.
    fn op_small_tuple<S: Source, const N: usize>(
        &mut self,
        src: &S,
        limits: &Limits,
    ) -> Result<()> {
        let Some(k) = self
            .stack
            .len()
            .checked_sub(N)
            .filter(|&k| k >= self.fence())
        else {
            return Err(self.underflow());
        };
        let flat = self
            .stack
            .get(k..)
            .unwrap_or_default()
            .iter()
            .all(|s| matches!(s, Slot::Val(v) if v.shallow_depth() == 0));
        if !flat {
            return self.push_stack_tuple(k, src, limits);
        }
        self.alloc(32 + 24 * N as u64, src, limits)?;
        let slots = self.stack.region_mut(k);
        let mut items = Arc::new([const { Value::None }; N]);
        if let Some(dst) = Arc::get_mut(&mut items) {
            arena::move_values(dst, slots);
        }
        self.replace_from(k, Value::Tuple(Tuple(Seq::Slice(items))), limits)
    }

    /// Replaces the slots from `k` up, whose values were moved out ([`arena::move_values`]),
    /// with `v`, written in place into slot `k` (a whole `Slot` pushed is assembled in a
    /// temporary the CPU cannot forward to the copy, and stalls).
    #[inline(always)]
    fn replace_from(&mut self, k: usize, v: Value, limits: &Limits) -> Result<()> {
        if self.stack.len() > k {
            self.stack.discard_moved(k + 1);
            self.stack.set_top(Slot::Val(v));
        } else {
            self.push_made(limits, || Slot::Val(v))?;
        }
        Ok(())
    }

    /// `APPEND`/`APPENDS` (`what` = `"append"`) and `ADDITEMS` (`what` = `"add"`) on the item
    /// below the topmost MARK: a list (or set), or a recorded object.
    fn extend_target<S: Source>(
        &mut self,
        items: Vec<Slot>,
        what: &str,
        src: &S,
        limits: &Limits,
    ) -> Result<()> {
        let target = self.peek()?.clone();
        self.work(items.len() as u64, src, limits)?;
        self.alloc(24 * items.len() as u64, src, limits)?;
        let id = match &target {
            Slot::Node(id) => *id,
            Slot::Val(v) => return Err(no_attribute(v.type_name(), what)),
        };
        match (self.arena.get_mut(id), what) {
            (Some(Node::List(list)), "append") => {
                list.extend_from(&mut Stack::from_slots(items), 0);
                Ok(())
            }
            (Some(Node::Set { frozen: false, .. }), "add") => {
                self.add_to_set(&target, items, false, src, limits)
            }
            (Some(Node::Object(o)), _) => {
                o.list_items.extend(items);
                Ok(())
            }
            (Some(Node::Done(v, _)), _) if is_mutable(v) => Err(frozen_error(v.type_name())),
            (Some(Node::Done(v, _)), _) => Err(no_attribute(v.type_name(), what)),
            (Some(node), _) => Err(no_attribute(node.type_name(), what)),
            (None, _) => Err(arena::internal()),
        }
    }

    /// `APPENDS`: moves the items above the mark straight into a list (the common case), or
    /// hands them to [`Machine::extend_target`].
    fn op_appends<S: Source>(&mut self, k: usize, src: &S, limits: &Limits) -> Result<()> {
        let n = self.stack.len().saturating_sub(k);
        if k > self.fence() {
            if let Some(Slot::Node(id)) = k.checked_sub(1).and_then(|t| self.stack.get(t)) {
                let id = *id;
                let eager = self.fetched.is_some();
                if let Some(Node::List(list)) = self.arena.get_mut(id) {
                    self.budget.work(limits, src.position(), n as u64)?;
                    self.budget.alloc(limits, src.position(), 24 * n as u64)?;
                    if eager {
                        return self.appends_converting(id, k, limits);
                    }
                    let base = list.len();
                    list.extend_from(&mut self.stack, k);
                    if !self.lazy.is_empty() {
                        self.relocate_lazy(k, id, base);
                    }
                    return Ok(());
                }
            }
        }
        self.settle_lazy();
        let items = self.stack.split_off(k);
        self.extend_target(items, "append", src, limits)
    }

    /// A batch of `n` floats and its `APPENDS` (the input holds them whole: see
    /// [`Source::float_batch`]), run as one step when the batch is all the `MARK` holds and goes
    /// to a list: the floats are written straight into the list, never onto the stack (moving
    /// them there and out was 40 % of decoding a list of floats). Returns `false`, having read
    /// and changed nothing, when the opcodes one by one would do anything else than append
    /// them: another target, a first batch short enough to be sealed as it is, or a limit that
    /// they would reach (which they then report where they reach it).
    #[inline(never)]
    fn float_appends<S: Source>(&mut self, n: usize, src: &mut S, limits: &Limits) -> bool {
        let k = self.stack.len();
        let depth = self.marks.len();
        if n == 0 || self.marks.last() != Some(&k) {
            return false;
        }
        // `APPENDS` pops the mark, and its target must lie above the fence that leaves.
        let fence = depth
            .checked_sub(2)
            .and_then(|i| self.marks.get(i))
            .copied()
            .unwrap_or(0);
        if k <= fence || k.saturating_add(n) > limits.max_stack {
            return false;
        }
        let Some(&Slot::Node(id)) = k.checked_sub(1).and_then(|t| self.stack.get(t)) else {
            return false;
        };
        match self.arena.get(id) {
            Some(Node::List(list)) if !list.is_empty() || n >= VEC_MIN => {}
            _ => return false,
        }
        // What `APPENDS` charges, where it charges it (just after its opcode).
        let mut budget = self.budget.clone();
        let after = src.position().saturating_add(9 * n as u64);
        if budget.work(limits, after, n as u64).is_err()
            || budget.alloc(limits, after, 24 * n as u64).is_err()
        {
            return false;
        }
        self.budget = budget;
        // What the main loop does before `APPENDS` (no memo entry can point at or above the
        // list: the stack ends with it).
        if !self.lazy.is_empty() {
            self.settle_reach(STACK_REACH[Opcode::APPENDS as usize]);
        }
        self.marks.pop();
        let run = src.take_float_batch(n);
        // (Nothing was read since `float_batch` found the batch: the same window holds it.)
        debug_assert_eq!(run.len(), 9 * n);
        if let Some(Node::List(list)) = self.arena.get_mut(id) {
            list.extend_floats(run);
        }
        true
    }

    /// `APPENDS` of `stack[k..]` to the list node `id` once the memo plan is on: the items that
    /// are final objects under construction are converted first ([`take_finals`]).
    #[inline(never)]
    fn appends_converting(&mut self, id: u32, k: usize, limits: &Limits) -> Result<()> {
        let depth = take_finals(&mut self.arena, self.stack.region_mut(k), 1, limits);
        let Some(Node::List(list)) = self.arena.get_mut(id) else {
            return Err(arena::internal());
        };
        let base = list.len();
        list.extend_from(&mut self.stack, k);
        list.note_value_depth(depth);
        if !self.lazy.is_empty() {
            self.relocate_lazy(k, id, base);
        }
        Ok(())
    }

    /// Adds `items` to the set node `target`.
    fn add_to_set<S: Source>(
        &mut self,
        target: &Slot,
        items: Vec<Slot>,
        _frozen: bool,
        src: &S,
        limits: &Limits,
    ) -> Result<()> {
        let Slot::Node(id) = target else {
            return Err(arena::internal());
        };
        self.alloc(40 * items.len() as u64, src, limits)?;
        // Room for every item at once: they are on the stack already (a count read off the
        // stack, never off the input), and charged above.
        if let Some(Node::Set { keys, .. }) = self.arena.get_mut(*id) {
            keys.reserve(items.len());
        }
        // Each key goes straight into the set (collected first, each was moved twice more).
        let mut work = 0u64;
        for item in items {
            let (key, depth) = self.arena.key_of(item, limits.max_depth, &mut work)?;
            if let Some(Node::Set {
                keys, key_depth, ..
            }) = self.arena.get_mut(*id)
            {
                *key_depth = (*key_depth).max(depth);
                keys.insert_counted(key, &mut work);
            }
            if work > WORK_CHECK_EVERY {
                self.budget.work(limits, src.position(), work)?;
                work = 0;
            }
        }
        self.work(work, src, limits)
    }

    /// `SETITEM`/`SETITEMS`/`DICT`: pairs into a dict node, or recorded on an object.
    fn set_items<S: Source>(
        &mut self,
        target: &Slot,
        items: impl ExactSizeIterator<Item = Slot>,
        src: &S,
        limits: &Limits,
    ) -> Result<()> {
        let what = if items.len() == 2 {
            "SETITEM"
        } else {
            "SETITEMS"
        };
        let id = match target {
            Slot::Node(id) => *id,
            Slot::Val(v) => return Err(setitem_error(what, v.type_name())),
        };
        self.work(items.len() as u64, src, limits)?;
        self.alloc(32 * items.len() as u64, src, limits)?;
        match self.arena.get(id) {
            Some(Node::Dict { .. }) => {}
            Some(Node::SealedDict { .. }) => self.arena.unseal_dict(id)?,
            Some(Node::Object(_)) => {
                if let Some(Node::Object(o)) = self.arena.get_mut(id) {
                    let mut it = items;
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        o.dict_items.push((k, v));
                    }
                }
                return Ok(());
            }
            Some(Node::Done(v, _)) if is_mutable(v) => return Err(frozen_error(v.type_name())),
            Some(Node::Done(v, _)) => return Err(setitem_error(what, v.type_name())),
            Some(node) => return Err(setitem_error(what, node.type_name())),
            None => return Err(arena::internal()),
        }
        // Room for every pair at once: they are on the stack already, and charged above.
        if let Some(Node::Dict { keys, values, .. }) = self.arena.get_mut(id) {
            let n = items.len() / 2;
            keys.reserve(n);
            grow::reserve(values, n);
        }
        let mut work = 0u64;
        let mut it = items;
        // Not `while let (Some(k), Some(v)) = (it.next(), it.next())`: the pair was built in a
        // stack temporary byte by byte and read back whole, a store-forwarding stall per pair.
        while let Some(k) = it.next() {
            let Some(v) = it.next() else { break };
            let (key, depth) = self.arena.key_of(k, limits.max_depth, &mut work)?;
            if let Some(Node::Dict {
                keys,
                values,
                key_depth,
            }) = self.arena.get_mut(id)
            {
                *key_depth = (*key_depth).max(depth);
                let i = keys.insert_counted(key, &mut work);
                match values.get_mut(i) {
                    Some(slot) => *slot = v,
                    None => values.push(v),
                }
            }
            if work > WORK_CHECK_EVERY {
                self.budget.work(limits, src.position(), work)?;
                work = 0;
            }
        }
        self.work(work, src, limits)
    }

    /// The dict node that `SETITEMS` with the items at `stack[k..]` fills, if it can be
    /// sealed: empty, just below the items (above the topmost MARK), at most `SMALL_MAX` pairs.
    fn sealable_dict(&self, k: usize) -> Option<u32> {
        let n = self.stack.len().checked_sub(k)? / 2;
        if n == 0 || n > SMALL_MAX || k <= self.fence() {
            return None;
        }
        match self.stack.get(k - 1)? {
            Slot::Node(id) => match self.arena.get(*id)? {
                Node::Dict { keys, .. } if keys.is_empty() => Some(*id),
                _ => None,
            },
            Slot::Val(_) => None,
        }
    }

    /// Fills the empty dict node `id` with the items at `stack[k..]` (pairs, at most
    /// `SMALL_MAX` of them) in final form: the keys are hashed into a key table (a recent
    /// dict's, when the keys are the same), then the values move straight from the stack into
    /// the dict's one allocation. Repeated keys (rare) are merged first, as `KeyMap` does: the
    /// first key is kept, the last value wins.
    fn seal_dict<S: Source>(&mut self, id: u32, k: usize, src: &S, limits: &Limits) -> Result<()> {
        let k = k.min(self.stack.len());
        let mut keys = std::mem::take(&mut self.key_scratch);
        keys.clear();
        let result = self.seal_dict_with(id, k, &mut keys, limits);
        // What is left are moved-out placeholders and, when a key table was shared, the keys:
        // mostly short strs, which own nothing and need no drop glue. When the shared table's
        // keys all own nothing, so do these (equal to them), and the slots are just forgotten.
        match result {
            Ok((_, true)) => self.stack.discard_moved(k),
            _ => {
                for slot in self.stack.drain_from(k) {
                    match slot {
                        Slot::Val(v) if v.owns_nothing() => std::mem::forget(v),
                        slot => drop(slot),
                    }
                }
            }
        }
        keys.clear();
        self.key_scratch = keys;
        let (work, _) = result?;
        self.work(work, src, limits)
    }

    /// [`Machine::seal_dict`] with its key buffer; the caller truncates the stack. Returns the
    /// work done, and whether what it leaves in `stack[k..]` owns nothing (a shared key table
    /// of keys that own nothing was used: its keys are left there, the values moved out).
    fn seal_dict_with(
        &mut self,
        id: u32,
        k: usize,
        keys: &mut Vec<Key>,
        limits: &Limits,
    ) -> Result<(u64, bool)> {
        let n = self.stack.len().saturating_sub(k) / 2;
        let mut work = (n * n) as u64 / 8;
        let mut key_depth = 0u32;
        let mut digests = [0u64; SMALL_MAX];
        let mut maybe_repeated = false;
        let max_depth = limits.max_depth;
        let arena = &mut self.arena;
        let items = self.stack.region_mut(k);
        // A record like the last ones shares their key table: its keys are left on the stack.
        if let Some((table, plain)) = arena.match_key_table(items) {
            return seal_values(arena, id, table, items, 0).map(|()| (work, plain));
        }
        // The keys, hashed.
        for (i, pair) in items.chunks_exact_mut(2).enumerate() {
            let Some(slot) = pair.first_mut() else {
                break;
            };
            let slot = std::mem::replace(slot, Slot::Node(0));
            // Short str keys (most keys) take the digest cache directly. `key_of` has the same
            // fast path; repeating it here, inline, measured 5 % faster on records than
            // calling a shared helper.
            let inline = match &slot {
                Slot::Val(Value::Str(s)) => s
                    .inline_parts()
                    .map(|(len, buf)| arena.inline_str_digest(len, buf)),
                _ => None,
            };
            let key = match (inline, slot) {
                (Some(digest), Slot::Val(value)) => {
                    work += 1;
                    Key { digest, value }
                }
                (_, slot) => {
                    let (key, depth) = arena.key_of(slot, max_depth, &mut work)?;
                    key_depth = key_depth.max(depth);
                    key
                }
            };
            maybe_repeated |= digests.get(..i).unwrap_or_default().contains(&key.digest);
            if let Some(d) = digests.get_mut(i) {
                *d = key.digest;
            }
            keys.push(key);
        }
        if maybe_repeated {
            let values: Vec<Slot> = items
                .chunks_exact_mut(2)
                .map(|pair| match pair.get_mut(1) {
                    Some(v) => std::mem::replace(v, Slot::Node(0)),
                    None => Slot::Val(Value::None),
                })
                .collect();
            let mut values = merge_repeated_keys(keys, values, &mut work);
            let table = arena.new_key_table(keys);
            // Back on the stack, as pairs, for `seal_values`.
            let mut pairs: Vec<Slot> = Vec::with_capacity(values.len() * 2);
            for v in values.drain(..) {
                pairs.push(Slot::Node(0));
                pairs.push(v);
            }
            seal_values(arena, id, table, &mut pairs, key_depth)?;
        } else {
            let table = arena.new_key_table(keys);
            seal_values(arena, id, table, items, key_depth)?;
        }
        Ok((work, false))
    }

    /// `BUILD`: records the state on an object; `None` state on anything else is a no-op (as in
    /// CPython); everything else is refused.
    fn op_build(&mut self, state: Slot) -> Result<()> {
        let inst = self.peek()?.clone();
        let state_is_dict = self.is_dict(&state);
        let build_on_builtin = |t: &str, state: &Slot| build_on_builtin(t, state, state_is_dict);
        match &inst {
            Slot::Val(Value::Global(g)) => Err(Error::py(
                PyException::UnpicklingError,
                format!(
                    "BUILD on the global '{}.{}' is forbidden (it would modify a class or function)",
                    g.module(),
                    g.name()
                ),
            )),
            Slot::Node(id) => match self.arena.get_mut(*id) {
                Some(Node::Object(o)) => {
                    if o.state.is_some() {
                        return Err(Error::py(
                            PyException::UnpicklingError,
                            "BUILD applied twice to one object",
                        ));
                    }
                    o.state = Some(state);
                    Ok(())
                }
                Some(Node::Done(v, _)) if !matches!(v, Value::Object(_)) => {
                    let t = v.type_name().to_owned();
                    build_on_builtin(&t, &state)
                }
                Some(Node::Done(v, _)) => Err(frozen_error(v.type_name())),
                Some(node) => {
                    let t = node.type_name();
                    build_on_builtin(t, &state)
                }
                None => Err(arena::internal()),
            },
            Slot::Val(v) => build_on_builtin(v.type_name(), &state),
        }
    }

    // ---- globals and objects -----------------------------------------------------------

    /// The module and name lines of `GLOBAL` or `INST` (`ascii`: protocol 0's `INST` takes
    /// ASCII only), read into the buffers kept for them: the caller gives them back.
    fn global_lines<S: Source>(&mut self, src: &mut S, ascii: bool) -> Result<(String, String)> {
        let (mut module, mut name) = std::mem::take(&mut self.global_lines);
        global_line(src.read_line()?, ascii, &mut module)?;
        global_line(src.read_line()?, ascii, &mut name)?;
        Ok((module, name))
    }

    /// `GLOBAL`/`INST`/`EXT*`: the one door to `find_class`, after the `fix_imports` mapping.
    fn find_class(&self, module: &str, name: &str, cfg: &Config<'_>) -> Result<Slot> {
        let (module, name) = if cfg.fix_imports && self.proto < 3 {
            match compat::fix_import(module, name) {
                Some(compat::Mapped::Both(m, n)) => (m, n),
                Some(compat::Mapped::Module(m)) => (m, name),
                None => (module, name),
            }
        } else {
            (module, name)
        };
        match cfg.policy.find_class(module, name) {
            Some(class) => {
                let builtin = match class {
                    Class::Builtin(b) => Some(b),
                    Class::Record => None,
                };
                Ok(Slot::Val(Value::Global(Global::with_builtin(
                    PyStr::from(module),
                    PyStr::from(name),
                    builtin,
                ))))
            }
            None => Err(Error::bare(ErrorKind::ForbiddenGlobal {
                module: module.to_owned(),
                name: name.to_owned(),
            })),
        }
    }

    /// `STACK_GLOBAL`: names with lone surrogates can never be allowed.
    fn find_class_str(&self, module: &PyStr, name: &PyStr, cfg: &Config<'_>) -> Result<Slot> {
        match (module.as_str(), name.as_str()) {
            (Some(m), Some(n)) => self.find_class(m, n, cfg),
            _ => Err(Error::bare(ErrorKind::ForbiddenGlobal {
                module: format!("{module:?}").trim_matches('\'').to_owned(),
                name: format!("{name:?}").trim_matches('\'').to_owned(),
            })),
        }
    }

    fn op_ext(&mut self, code: i64, cfg: &Config<'_>) -> Result<()> {
        if code <= 0 {
            return Err(Error::py(
                PyException::UnpicklingError,
                "EXT specifies code <= 0",
            ));
        }
        let (module, name) = cfg
            .extensions
            .get(&code)
            .ok_or_else(|| Error::bare(ErrorKind::UnregisteredExtension(code)))?;
        let g = self.find_class(module, name, cfg)?;
        self.push(g, &cfg.limits)
    }

    /// CPython's checks on `NEWOBJ`/`NEWOBJ_EX` operands.
    fn check_newobj(&self, cls: &Slot, args: &Slot, kwargs: Option<&Slot>, op: &str) -> Result<()> {
        let is_type =
            matches!(cls, Slot::Val(Value::Global(g)) if g.builtin().is_none_or(|b| b.is_type()));
        if !is_type {
            let t = self.slot_type_name(cls);
            return Err(Error::py(
                PyException::UnpicklingError,
                format!("{op} class argument must be a type, not {t}"),
            ));
        }
        if !self.is_tuple(args) {
            let t = self.slot_type_name(args);
            return Err(Error::py(
                PyException::UnpicklingError,
                format!("{op} args argument must be a tuple, not {t}"),
            ));
        }
        if let Some(kw) = kwargs {
            if !self.is_dict(kw) {
                let t = self.slot_type_name(kw);
                return Err(Error::py(
                    PyException::UnpicklingError,
                    format!("{op} kwargs argument must be a dict, not {t}"),
                ));
            }
        }
        Ok(())
    }

    fn is_tuple(&self, s: &Slot) -> bool {
        match s {
            Slot::Val(v) => v.is_tuple(),
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Tuple(_)) => true,
                Some(Node::Done(v, _)) => v.is_tuple(),
                _ => false,
            },
        }
    }

    fn is_dict(&self, s: &Slot) -> bool {
        match s {
            Slot::Val(v) => v.is_dict(),
            Slot::Node(id) => match self.arena.get(*id) {
                Some(Node::Dict { .. } | Node::SealedDict { .. }) => true,
                Some(Node::Done(v, _)) => v.is_dict(),
                _ => false,
            },
        }
    }

    /// `OBJ`/`INST`: `cls.__new__(cls)` without args for a type, else `cls(*args)`.
    fn instantiate<S: Source>(
        &mut self,
        cls: Slot,
        args: Vec<Slot>,
        construct: Construct,
        cfg: &Config<'_>,
        src: &S,
    ) -> Result<Slot> {
        let no_args = args.is_empty();
        let args_tuple = self.new_node(Node::Tuple(Items::from_slots(args)), src, &cfg.limits)?;
        let as_new = no_args
            && matches!(&cls, Slot::Val(Value::Global(g)) if g.builtin().is_none_or(|b| b.is_type()));
        match (&cls, as_new) {
            (Slot::Val(Value::Global(g)), true) if g.builtin().is_some() => {
                self.call(cls, args_tuple, None, Construct::NewObj, cfg, src)
            }
            _ => self.call(cls, args_tuple, None, construct, cfg, src),
        }
    }

    /// Calls an allowed global: builtins are evaluated, other globals recorded.
    fn call<S: Source>(
        &mut self,
        callable: Slot,
        args: Slot,
        kwargs: Option<Slot>,
        construct: Construct,
        cfg: &Config<'_>,
        src: &S,
    ) -> Result<Slot> {
        let global = match &callable {
            Slot::Val(Value::Global(g)) => g.clone(),
            other => {
                let t = self.slot_type_name(other);
                return Err(Error::py(
                    PyException::TypeError,
                    format!("'{t}' object is not callable"),
                ));
            }
        };
        if !self.is_tuple(&args) {
            return Err(Error::py(
                PyException::TypeError,
                "argument list must be a tuple",
            ));
        }
        if let Some(b) = global.builtin() {
            return self.call_builtin(b, construct, args, kwargs, cfg, src);
        }
        self.alloc(160, src, &cfg.limits)?;
        self.new_node(
            Node::Object(Box::new(ObjNode {
                callable: Value::Global(global),
                construct,
                args,
                kwargs,
                state: None,
                list_items: Vec::new(),
                dict_items: Vec::new(),
            })),
            src,
            &cfg.limits,
        )
    }
}

// ---- helpers shared by the opcodes -------------------------------------------------------

/// The smallest `bytes`/`bytearray` payload that a shared input lends as a window rather than a
/// copy (below it, a copy costs less than the window's own allocation).
#[cfg(not(fuzzing))]
pub(crate) const SHARE_MIN: usize = 1024;
/// Under `cargo fuzz`, small payloads are lent too, so the fuzzers reach windows.
#[cfg(fuzzing)]
pub(crate) const SHARE_MIN: usize = 16;

/// Reads a length-prefixed payload after checking the claimed length against the limit and the
/// bytes left, so nothing is allocated for a length that is not backed by input.
fn read_payload<'s, S: Source>(src: &'s mut S, n: u64, limits: &Limits) -> Result<&'s [u8]> {
    check_payload(n, limits)?;
    let n = usize::try_from(n).map_err(|_| Error::bare(ErrorKind::Truncated))?;
    src.read_bytes(n)
}

/// The limits on a `LONG1`/`LONG4` payload of `n` bytes.
#[inline]
fn check_long(n: u64, limits: &Limits) -> Result<()> {
    if n > limits.max_long_bytes {
        return Err(Error::limit("max_long_bytes", limits.max_long_bytes));
    }
    check_payload(n, limits)
}

fn check_payload(n: u64, limits: &Limits) -> Result<()> {
    if n > limits.max_payload_len {
        return Err(Error::limit("max_payload_len", limits.max_payload_len));
    }
    Ok(())
}

/// A Python 2 `str` (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) under `encoding`/`errors`.
fn py2_str(bytes: &[u8], cfg: &Config<'_>) -> Result<Value> {
    decode_py2(bytes, &cfg.encoding, &cfg.errors)
}

/// Decodes Python 2 `str` bytes with a codec name and error handler (`"bytes"` keeps them).
fn decode_py2(bytes: &[u8], encoding: &str, errors: &str) -> Result<Value> {
    if codec::is_bytes_encoding(encoding) {
        return Ok(Value::Bytes(Bytes::from(bytes)));
    }
    codec::decode_bytes(bytes, encoding, errors)
        .map(Value::Str)
        .map_err(|m| {
            if m.starts_with(codec::NOT_IMPLEMENTED) {
                return Error::bare(ErrorKind::Unsupported(m));
            }
            let exc = if m.starts_with("unknown encoding") || m.starts_with("unknown error handler")
            {
                PyException::LookupError
            } else if m == "embedded null character" {
                PyException::ValueError
            } else {
                PyException::UnicodeDecodeError
            };
            Error::py(exc, m)
        })
}

/// A `GLOBAL`/`INST` name line: UTF-8 (`INST`: ASCII); an empty line is what CPython reports as
/// truncation.
fn global_line(line: &[u8], ascii: bool, out: &mut String) -> Result<()> {
    if line.is_empty() {
        return Err(Error::bare(ErrorKind::Truncated));
    }
    if ascii {
        if let Some(pos) = line.iter().position(|b| !b.is_ascii()) {
            let b = line.get(pos).copied().unwrap_or(0);
            return Err(Error::py(
                PyException::UnicodeDecodeError,
                format!(
                    "'ascii' codec can't decode byte 0x{b:02x} in position {pos}: ordinal not in range(128)"
                ),
            ));
        }
    }
    match std::str::from_utf8(line) {
        Ok(s) => {
            out.clear();
            out.push_str(s);
            Ok(())
        }
        // CPython's strict UTF-8 decoder says which bytes and why (an encoded surrogate is an
        // invalid continuation byte).
        Err(_) => Err(Error::py(
            PyException::UnicodeDecodeError,
            codec::decode_bytes(line, "utf-8", "strict")
                .err()
                .unwrap_or_default(),
        )),
    }
}

/// `FLOAT`: CPython's `PyOS_string_to_double` grammar (stricter than `float()`).
fn parse_text_float(line: &[u8]) -> Result<f64> {
    if line.is_empty() {
        return Err(Error::bare(ErrorKind::Truncated));
    }
    number::parse_float_strict(line).map_err(|e| {
        let text = String::from_utf8_lossy(line);
        match e {
            number::FloatError::Overflow => Error::py(
                PyException::OverflowError,
                format!("value too large to convert to float: '{text}'"),
            ),
            number::FloatError::Invalid => Error::py(
                PyException::ValueError,
                format!("could not convert string to float: '{text}'"),
            ),
        }
    })
}

fn int_value(lit: IntLit) -> Value {
    match lit {
        IntLit::Small(v) => Value::Int(Int::from(v)),
        IntLit::Wide(v) => Value::Int(Int::from(v)),
        IntLit::Big(b) => Value::Int(Int::from(b)),
    }
}

fn int_error(e: number::IntError, limits: &Limits) -> Error {
    match e {
        number::IntError::TooManyDigits { .. } => {
            Error::limit("max_int_digits", limits.max_int_digits as u64)
        }
        number::IntError::Invalid => {
            Error::py(PyException::ValueError, "could not convert string to int")
        }
    }
}

/// `INT`: `I00`/`I01` (and the other two-character spellings CPython's C unpickler turns into
/// bools) are bools; anything else is a Python int literal (base 0).
fn parse_text_int(line: &[u8], limits: &Limits) -> Result<Value> {
    match line {
        [] => return Err(Error::bare(ErrorKind::Truncated)),
        [
            b'0' | b'+' | b' ' | b'\t' | 0x0b | 0x0c | b'\r',
            d @ (b'0' | b'1'),
        ] => {
            return Ok(Value::Bool(*d == b'1'));
        }
        [b'-', b'0'] => return Ok(Value::Bool(false)),
        _ => {}
    }
    number::parse_int(line, 0, limits.max_int_digits)
        .map(int_value)
        .map_err(|e| int_error(e, limits))
}

/// `LONG`: one optional trailing `L`, then a Python int literal (base 0).
fn parse_text_long(line: &[u8], limits: &Limits) -> Result<Value> {
    if line.is_empty() {
        return Err(Error::bare(ErrorKind::Truncated));
    }
    let digits = line.strip_suffix(b"L");
    number::parse_int(digits.unwrap_or(line), 0, limits.max_int_digits)
        .map(int_value)
        .map_err(|e| match e {
            // CPython overwrites the `L` with a NUL; without one, the C string ends with the
            // line's `\n`.
            number::IntError::Invalid => match digits {
                Some(digits) => c_int_literal_error(digits, 0),
                None => c_int_literal_error(&[line, b"\n"].concat(), 0),
            },
            other => int_error(other, limits),
        })
}

/// The error of CPython's `PyLong_FromString(s, NULL, base)` for the invalid text `s` of a
/// `LONG`, `GET` or `PUT` line (read as a C string: it ends at its first NUL):
/// `invalid literal for int() with base 10: '12x\n'`, the repr of its first 200 bytes decoded
/// as UTF-8 (and cut to 200 characters), with base 0 resolved from the prefix as CPython does
/// before it fails — or, when those bytes are not UTF-8, the `UnicodeDecodeError` of decoding
/// them.
fn c_int_literal_error(s: &[u8], base: u32) -> Error {
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    let head = s.get(..200).unwrap_or(s);
    let text = match codec::decode_bytes(head, "utf-8", "strict") {
        Ok(text) => text,
        Err(message) => return Error::py(PyException::UnicodeDecodeError, message),
    };
    let base = if base != 0 {
        base
    } else {
        number::deduced_base(s)
    };
    let mut repr = String::new();
    // Writing into a String cannot fail.
    let _ = crate::repr::write_str_repr_to(&mut repr, &text);
    let repr: String = repr.chars().take(200).collect();
    Error::py(
        PyException::ValueError,
        format!("invalid literal for int() with base {base}: {repr}"),
    )
}

/// A decimal memo index of `GET`/`PUT`.
fn parse_memo_index(line: &[u8]) -> Result<i64> {
    // Plain decimal digits (what every pickler writes), at most 18 of them (no overflow), read
    // in one pass that notes any other byte.
    if (1..=18).contains(&line.len()) {
        let mut n = 0i64;
        let mut digits = true;
        for &c in line {
            let d = c.wrapping_sub(b'0');
            digits &= d <= 9;
            n = n.wrapping_mul(10).wrapping_add(i64::from(d));
        }
        if digits {
            return Ok(n);
        }
    }
    parse_memo_index_text(line)
}

/// [`parse_memo_index`] for any line: `int(line)` as CPython reads it.
fn parse_memo_index_text(line: &[u8]) -> Result<i64> {
    if line.is_empty() {
        return Err(Error::bare(ErrorKind::Truncated));
    }
    match number::parse_int(line, 10, 0) {
        Ok(IntLit::Small(v)) => Ok(v),
        Ok(IntLit::Wide(_) | IntLit::Big(_)) => Err(Error::py(
            PyException::OverflowError,
            "Python int too large to convert to C ssize_t",
        )),
        Err(_) => Err(c_int_literal_error(&[line, b"\n"].concat(), 10)),
    }
}

fn persistent(hook: &dyn PersistentLoad, pid: &Value) -> Result<Value> {
    hook.persistent_load(pid)
        .map_err(|m| Error::py(PyException::UnpicklingError, m))
}

fn no_attribute(type_name: &str, what: &str) -> Error {
    Error::py(
        PyException::AttributeError,
        format!("'{type_name}' object has no attribute '{what}'"),
    )
}

fn setitem_error(op: &str, type_name: &str) -> Error {
    Error::py(
        PyException::TypeError,
        format!("{op} needs a dict or an object of an allowed class, not '{type_name}'"),
    )
}

/// Whether a finished value is of a type the pickle could still have been mutating.
fn is_mutable(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Object(_)
    )
}

fn frozen_error(type_name: &str) -> Error {
    Error::bare(ErrorKind::Unsupported(format!(
        "cannot modify a '{type_name}' after it became part of a dict key, set member or earlier result"
    )))
}

/// `BUILD` on a builtin value: `None` state is a no-op, like CPython; anything else fails.
fn build_on_builtin(type_name: &str, state: &Slot, state_is_dict: bool) -> Result<()> {
    match state {
        Slot::Val(Value::None) => Ok(()),
        _ if state_is_dict => Err(no_attribute(type_name, "__dict__")),
        _ => Err(Error::py(
            PyException::UnpicklingError,
            "state is not a dictionary",
        )),
    }
}

/// Converts the objects under construction among `slots` (every `step`-th one, from the first)
/// that are final ([`Arena::take_final`]) into their values, in place, as they are about to move
/// into a list or dict: returns the deepest nesting among them (0 if none), for the parent to
/// count (a finished value otherwise counts 1).
fn take_finals(arena: &mut Arena, slots: &mut [Slot], step: usize, limits: &Limits) -> u32 {
    let mut depth = 0;
    for slot in slots.iter_mut().step_by(step) {
        if let &mut Slot::Node(id) = slot {
            if let Some((v, d)) = arena.take_final(id, limits.max_depth) {
                *slot = Slot::Val(v);
                depth = depth.max(d);
            }
        }
    }
    depth
}

/// Seals the dict node `id` with the key table `table` and the values of the `(key, value)`
/// slot pairs `items`, moved out of them: straight into the dict's allocation, with objects
/// still under construction left as `None` and listed in the arena's patches.
fn seal_values(
    arena: &mut Arena,
    id: u32,
    table: Arc<[Key]>,
    items: &mut [Slot],
    key_depth: u32,
) -> Result<()> {
    let start = arena.patches.len();
    let patches = &mut arena.patches;
    let mut val_depth = 0;
    let mut values = items.chunks_exact_mut(2).enumerate().map(|(i, pair)| {
        // The slot moves whole (a move of the bare value out of it is copied in pieces the
        // CPU cannot forward, and stalls). (Not `map_or`: its default is built for every item
        // and then dropped, a call of the drop glue each.)
        let slot = match pair.get_mut(1) {
            Some(v) => std::mem::replace(v, Slot::Node(0)),
            None => Slot::Val(Value::None),
        };
        match slot {
            Slot::Val(v) => {
                val_depth = val_depth.max(v.shallow_depth());
                v
            }
            Slot::Node(child) => {
                patches.push((i as u32, child));
                Value::None
            }
        }
    });
    let Ok(dict) = SmallDict::build(table, &mut values) else {
        return Err(arena::internal());
    };
    // Finished containers among the values count for the depth as the keys do.
    let key_depth = key_depth.max(val_depth);
    let len = u32::try_from(arena.patches.len() - start);
    let start = u32::try_from(start);
    let (Ok(start), Ok(len)) = (start, len) else {
        return Err(Error::limit("max_objects", u64::from(u32::MAX)));
    };
    if let Some(node) = arena.get_mut(id) {
        *node = Node::SealedDict {
            dict,
            patches: (start, len),
            key_depth,
        };
    }
    Ok(())
}

/// Merges the items of a dict being sealed whose keys repeat (Python: the first key object is
/// kept, in its place, and the last value wins): `keys` is left with the distinct keys and
/// their values are returned.
fn merge_repeated_keys(keys: &mut Vec<Key>, values: Vec<Slot>, work: &mut u64) -> Vec<Slot> {
    let mut out_keys: Vec<Key> = Vec::with_capacity(keys.len());
    let mut out_values: Vec<Slot> = Vec::with_capacity(keys.len());
    for (key, value) in keys.drain(..).zip(values) {
        let same = out_keys
            .iter()
            .position(|o| o.digest == key.digest && key_eq_counted(&o.value, &key.value, work));
        match same.and_then(|j| out_values.get_mut(j)) {
            Some(slot) => *slot = value,
            None => {
                out_keys.push(key);
                out_values.push(value);
            }
        }
    }
    *keys = out_keys;
    out_values
}

#[cfg(test)]
mod tests {
    use super::{parse_memo_index, parse_memo_index_text};

    /// The digits-only fast path reads what the general parse reads, and leaves everything
    /// else (signs, spaces, underscores, 19 digits and more, non-digits) to it.
    #[test]
    fn memo_indices_parse_as_int_does() {
        let mut lines: Vec<String> = [
            "0",
            "7",
            "007",
            "42",
            "+5",
            "-1",
            " 5",
            "5 ",
            "1_0",
            "0x10",
            "",
            "a",
            "4a",
            "922337203685477580",
            "9223372036854775807",
            "9223372036854775808",
            "0000000000000000000000001",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in 1..=20 {
            lines.push("9".repeat(n));
            lines.push(format!("1{}", "0".repeat(n - 1)));
        }
        for line in &lines {
            let fast = parse_memo_index(line.as_bytes()).map_err(|e| e.to_string());
            let slow = parse_memo_index_text(line.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(fast, slow, "{line:?}");
        }
        assert_eq!(
            parse_memo_index(b"999999999999999999").ok(),
            Some(999_999_999_999_999_999)
        );
    }
}
