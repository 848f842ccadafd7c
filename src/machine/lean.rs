//! The lean path: a small pickle of plain data decoded straight into values.
//!
//! Most small pickles (a cache entry, a job's arguments, a few records) hold only strs,
//! numbers, `None`, bools, bytes, bytearrays and the lists, tuples, dicts, sets and frozensets
//! that contain them, and fetch nothing from the memo but their dict keys. For those the full
//! machine's apparatus (arena nodes converted once at the end, memo entries that follow their
//! values, the checks of every limit) costs more than the decoding itself.
//! [`Machine::load_lean`] decodes them in one pass, building each value in its final form, and
//! gives up (`None`) at the first opcode or condition outside that subset: a global, a Python 2
//! str, a `GET` of anything but a scalar that owns nothing (and any `GET` line), an empty
//! `APPENDS` or `ADDITEMS`, a member or key CPython cannot hash, anything the full machine
//! would refuse. Protocol 0's text opcodes are in the subset as picklers write plain data with
//! them: `INT`, `LONG`, `FLOAT` and `UNICODE` lines read by the full machine's own parsers
//! (their errors give up), `PUT` lines, and `DICT`/`LIST` on an empty mark filled by `SETITEM`
//! and `APPEND` (a dict's pairs are collected, at most 16, and made into a dict, with a recent
//! dict's key table, when something takes it: [`Item::Pairs`]). The
//! caller then decodes the input from the start with the full machine, so every error, limit
//! and unusual case is the full machine's; the lean path only ever returns what the full
//! machine would (checked by the tests below on every CPython case and on random pickles, and
//! by the `loads` and `structured` fuzz targets against the full machine). What an attempt
//! that gives up costs is the work done until then: at most [`LEAN_MAX`] bytes' worth.
//!
//! It runs only on inputs of at most [`LEAN_MAX`] bytes, with limits at least the defaults:
//! within that size no default limit can be reached by what the lean path accepts (no value
//! nests deeper than the input is long, nothing it does amplifies the input, no memo index
//! reaches the size), so none is checked. That holds for hashing too: nothing the lean path
//! builds is shared (its `GET`s fetch only scalars), so the dict keys and set members it hashes
//! are hashed once each, in time linear in the input; members whose digests are equal but
//! which differ (NaNs, or tuples holding one: CPython compares them and keeps both) are compared
//! at most pairwise, each comparison stopping at the first NaN: with `m` such members of `s`
//! elements in 4 KiB (`m·(s + 9) ≤ 4096`), at most `m²·s / 2 ≈ 2·10⁵` element comparisons, far
//! below the default work budget of 16 M.

use std::mem;
use std::sync::Arc;

use super::Machine;
use super::arena::{Arena, none_slice};
use super::scan::{self, Layout};
use crate::codec;
use crate::limits::Limits;
use crate::opcode::Opcode;
use crate::pystr::{self, INLINE_MAX, PyStr};
use crate::reader::{self, SliceSource, Source};
use crate::value::VEC_MIN;
use crate::value::keymap::SMALL_MAX;
use crate::value::{
    Bytes, Dict, DictRepr, Int, Key, KeyMap, List, Seq, Set, SmallDict, Tuple, Value, digest_key,
    new_key_set,
};

/// The largest input the lean path is tried on. Giving up costs the bytes decoded so far, so
/// the bound also bounds what a pickle outside the subset pays for the attempt.
pub(crate) const LEAN_MAX: usize = 4096;

/// A stack item: a finished value, or a list or dict still open to more items. Only the
/// stack ever holds a container the lean path builds (its `GET`s fetch only scalars), so a
/// list or dict is built in place and may be finished early: a list filled by one `APPENDS` is made exactly
/// sized at once, a dict filled by one `SETITEMS` of at most 16 pairs takes its final form
/// (with a recent dict's key table when the keys are the same, as the full machine does).
/// `APPEND(S)` on such a list reopens it; `SETITEM(S)` on such a dict gives up.
///
/// The open forms are unit variants or boxes, so an item is the size of a value (24 bytes:
/// they take spare values of its tag), and moves like one.
enum Item {
    Val(Value),
    /// A list with no items yet (`EMPTY_LIST`: nothing allocated until its items come).
    EmptyList,
    /// A dict with no items yet (`EMPTY_DICT`).
    EmptyDict,
    /// A set with no items yet (`EMPTY_SET`; its first `ADDITEMS` makes it a finished
    /// [`Value::Set`], which a later one reopens).
    EmptySet,
    /// A list grown by a second batch.
    #[allow(
        clippy::box_collection,
        reason = "boxed, the vector leaves the item the size of a value"
    )]
    List(Box<Vec<Value>>),
    /// A dict filled the general way (more than 16 pairs, equal keys, or more than one batch).
    Dict(Box<DictBuild>),
    /// A dict filled one `SETITEM` at a time (protocols 0 and 1 write every dict so): its
    /// pairs, key then value, at most 16 of them, made into a dict (with a recent dict's key
    /// table, as `SETITEMS` makes one) when something takes it ([`Lean::seal_pairs`]).
    #[allow(
        clippy::box_collection,
        reason = "boxed, the vector leaves the item the size of a value"
    )]
    Pairs(Box<Vec<Item>>),
}

const _: () = assert!(mem::size_of::<Item>() == mem::size_of::<Value>());

/// A dict under construction: its keys (deduplicated, in order) and their values.
struct DictBuild {
    keys: KeyMap,
    values: Vec<Value>,
}

impl Item {
    /// The finished value.
    #[inline]
    fn finish(self) -> Value {
        debug_assert!(
            !matches!(self, Item::Pairs(_)),
            "an open dict taken unsealed"
        );
        match self {
            Item::Val(v) => v,
            Item::EmptyList => Value::List(List(Seq::from_grown(Vec::new()))),
            Item::List(items) => Value::List(List(Seq::from_grown(*items))),
            Item::EmptyDict => Value::Dict(Dict::from_parts(new_key_set(0), Vec::new())),
            Item::EmptySet => Value::Set(Set::from_keys(new_key_set(0), None)),
            Item::Dict(d) => Value::Dict(Dict::from_parts(d.keys, d.values)),
            // Sealed before anything takes it (`Lean::seal_pairs`); never reached.
            Item::Pairs(_) => Value::None,
        }
    }

    /// An empty placeholder.
    const HOLE: Item = Item::Val(Value::None);
}

/// The lean path's buffers, kept by the machine between pickles.
#[derive(Default)]
pub(crate) struct Lean {
    stack: Vec<Item>,
    marks: Vec<usize>,
    /// A vector, with its room, for the keys of the next small dict or set (emptied when
    /// taken).
    keys: Vec<Key>,
    /// The memo, by index (below [`LEAN_MAX`]): where the put opcode starts, plus one (0: no
    /// entry). Nothing of the value is kept: the first `GET` of an entry decodes it again (see
    /// [`Lean::put`]) and keeps it in `fetched`, and the cell then says where ([`FETCHED`]).
    memo: Vec<u32>,
    /// The scalars `GET`s have decoded, for the next `GET`s of the same entries (a record's
    /// keys are fetched once per record).
    fetched: Vec<Value>,
    /// The number of memo entries (Python's `len(memo)`).
    memo_len: usize,
    /// For `GET`s: one bit per input offset where an opcode starts, found by stepping over the
    /// opcodes decoded so far, up to `walked` (0: not begun for this pickle).
    starts: Vec<u64>,
    walked: usize,
    /// How many [`Item::Pairs`] the stack holds.
    open_pairs: usize,
    /// Whether the pickle began with `PROTO` 2 or higher.
    binary: bool,
}

/// A memo cell with no entry.
const NO_ENTRY: u32 = 0;

/// The flag of a memo cell whose value a `GET` has decoded: the rest of the cell is its index
/// in [`Lean::fetched`]. (A put position is below [`LEAN_MAX`]: it never has the flag.)
const FETCHED: u32 = 1 << 31;

impl Lean {
    /// Empties the buffers, keeping at most `room` items of capacity.
    pub(crate) fn empty(&mut self, room: usize) {
        self.clear();
        self.stack.shrink_to(room);
        self.marks.shrink_to(room);
        self.keys.shrink_to(room);
        self.memo.shrink_to(room);
        self.fetched.shrink_to(room);
    }

    /// Empties the buffers for the next pickle.
    fn clear(&mut self) {
        self.stack.clear();
        self.marks.clear();
        self.keys.clear();
        self.memo.clear();
        // (Scalars that own nothing: forgotten, no drop glue.)
        self.fetched.drain(..).for_each(mem::forget);
        self.memo_len = 0;
        self.walked = 0;
        self.open_pairs = 0;
        self.binary = false;
    }
}

/// A str from its UTF-8 bytes (`surrogatepass`), in the form the full machine makes it.
#[inline]
fn str_value(bytes: &[u8]) -> Option<Value> {
    if bytes.len() <= INLINE_MAX {
        if pystr::utf8(bytes).is_some() {
            let mut buf = [0u8; INLINE_MAX];
            buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
            return Some(Value::Str(PyStr::from_inline_parts(bytes.len() as u8, buf)));
        }
    } else if let Some(s) = PyStr::latin1_from_utf8(bytes) {
        return Some(Value::Str(s));
    } else if let Some(text) = pystr::utf8(bytes) {
        return Some(Value::Str(PyStr::from_text(Arc::from(text))));
    }
    PyStr::from_utf8_surrogatepass(bytes).ok().map(Value::Str)
}

impl Lean {
    /// The items above the topmost mark, which is popped; `None` without a mark.
    #[inline]
    fn pop_mark(&mut self) -> Option<usize> {
        let k = self.marks.pop()?;
        (k <= self.stack.len()).then_some(k)
    }

    /// Pops the topmost mark for an opcode that takes the items above it, after sealing any
    /// dict among them that is still collecting pairs: where those items start.
    #[inline(always)]
    fn marked(&mut self, arena: &mut Arena) -> Option<usize> {
        let k = self.pop_mark()?;
        self.seal_pairs(k, arena)?;
        Some(k)
    }

    /// The bottom of the items the current mark fences off.
    #[inline]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// Pushes the value `make` returns. (A plain push: a placeholder pushed first and written
    /// over, as the full machine's `Stack::push_made` does, made the compiler call the item's
    /// drop glue on the placeholder here; short strs, where a copy through a temporary stalled,
    /// are written in place by [`Lean::push_str`].)
    #[inline(always)]
    fn push_made(&mut self, make: impl FnOnce() -> Value) {
        self.stack.push(Item::Val(make()));
    }

    /// Pushes the inline str of `len` bytes whose zero-padded words are `words` (valid text),
    /// written into its stack item in place, from registers.
    #[inline(always)]
    fn push_inline(&mut self, len: u8, words: &[u64; 3]) {
        self.stack.push(Item::Val(Value::Str(PyStr::empty())));
        if let Some(Item::Val(Value::Str(s))) = self.stack.last_mut() {
            s.set_inline_words(len, words);
        }
    }

    /// Pushes the str of the next `n` bytes. Short text (most strs) is read as one block and
    /// goes inline, as in the full machine.
    #[inline(always)]
    fn push_str(&mut self, src: &mut SliceSource<'_>, n: usize) -> Option<()> {
        if let Some(words) = src.peek_short_words(n) {
            if n <= INLINE_MAX && pystr::words_are_text(&words, n) {
                src.read_bytes(n).ok()?;
                self.push_inline(n as u8, &words);
                return Some(());
            }
        }
        let v = str_value(src.read_bytes(n).ok()?)?;
        self.push_made(|| v);
        Some(())
    }

    /// `PUT`/`BINPUT`/`LONG_BINPUT`/`MEMOIZE` (starting at `at`) of the top item at `idx`.
    ///
    /// Nothing is copied (most entries are never fetched): the entry is where the put is. A
    /// `GET` finds the opcode just before it, which pushed the value: when that is a scalar's
    /// opcode, the value is decoded again from there; otherwise the `GET` gives up (a
    /// container's entry would have to follow what becomes of it, which the full machine does).
    #[inline]
    fn put(&mut self, idx: usize, at: usize) -> Option<()> {
        if self.stack.len() <= self.fence() || idx >= LEAN_MAX {
            return None;
        }
        // `at` is below `LEAN_MAX`.
        let entry = u32::try_from(at).ok()?.checked_add(1)?;
        if idx == self.memo.len() {
            // The next index (as `MEMOIZE` and every pickler's `PUT`s go).
            self.memo.push(entry);
            self.memo_len += 1;
            return Some(());
        }
        self.put_at(idx, entry)
    }

    /// [`Lean::put`] at an index other than the next.
    #[inline(never)]
    fn put_at(&mut self, idx: usize, entry: u32) -> Option<()> {
        if idx >= self.memo.len() {
            self.memo.resize(idx + 1, NO_ENTRY);
        }
        let cell = self.memo.get_mut(idx)?;
        if *cell == NO_ENTRY {
            self.memo_len += 1;
        }
        *cell = entry;
        Some(())
    }

    /// `BINGET`/`LONG_BINGET` of `idx`: a scalar that owns nothing (a short str, an int, a
    /// float, `None`, a bool), decoded again from its opcode the first time, then copied from
    /// `fetched`; anything else gives up.
    #[inline(never)]
    fn get(&mut self, idx: usize, data: &[u8]) -> Option<()> {
        let put = match *self.memo.get(idx)? {
            NO_ENTRY => return None,
            c if c & FETCHED != 0 => {
                let v = self.fetched.get((c & !FETCHED) as usize)?.clone();
                self.stack.push(Item::Val(v));
                return Some(());
            }
            c => c as usize - 1,
        };
        let v = scalar_at(data, self.opcode_before(data, put)?)?;
        if !v.owns_nothing() {
            return None;
        }
        // (`fetched` holds at most one value per memo entry: fewer than `LEAN_MAX`.)
        if let (Ok(at), Some(cell)) = (u32::try_from(self.fetched.len()), self.memo.get_mut(idx)) {
            *cell = at | FETCHED;
            self.fetched.push(v.clone());
        }
        self.stack.push(Item::Val(v));
        Some(())
    }

    /// Where the opcode before the one at `at` starts (`at` is an opcode the lean path has
    /// decoded, as are all those before it).
    fn opcode_before(&mut self, data: &[u8], at: usize) -> Option<usize> {
        if self.walked == 0 {
            self.starts.clear();
            self.starts.resize(LEAN_MAX / 64 + 1, 0);
        }
        while self.walked < at {
            let start = self.walked;
            *self.starts.get_mut(start / 64)? |= 1 << (start % 64);
            self.walked = start + 1 + arg_len(data, start)?;
        }
        let is_start = |w: &[u64]| w.get(at / 64).is_some_and(|b| b >> (at % 64) & 1 != 0);
        if self.walked != at && !is_start(&self.starts) {
            return None;
        }
        // The highest start below `at`.
        let (mut w, bit) = (at / 64, at % 64);
        let mut word = self.starts.get(w)? & ((1u64 << bit) - 1);
        while word == 0 {
            w = w.checked_sub(1)?;
            word = *self.starts.get(w)?;
        }
        Some(w * 64 + 63 - word.leading_zeros() as usize)
    }

    /// Pops the top item if it is above the fence.
    #[inline]
    fn pop(&mut self) -> Option<Item> {
        if self.stack.len() <= self.fence() {
            return None;
        }
        self.stack.pop()
    }

    /// After a `BINFLOAT`: the `BINFLOAT`s that follow it, read as a run.
    #[inline(always)]
    fn push_float_run(&mut self, src: &mut SliceSource<'_>) {
        if src.next_is_float() {
            self.float_run(src);
        }
    }

    #[inline(never)]
    fn float_run(&mut self, src: &mut SliceSource<'_>) {
        let _ = src.read_floats(|v, _| {
            self.stack.push(Item::Val(Value::Float(v)));
            Ok::<(), ()>(())
        });
    }

    /// `TUPLE` of the items from `k` up.
    #[inline]
    fn tuple_from(&mut self, k: usize) {
        let items = if k >= self.stack.len() {
            Seq::empty_tuple()
        } else {
            Seq::Slice(self.take_slice(k))
        };
        self.stack.push(Item::Val(Value::Tuple(Tuple(items))));
    }

    /// The items from `k` up, moved into one exactly sized slice and off the stack.
    #[inline]
    fn take_slice(&mut self, k: usize) -> Arc<[Value]> {
        let items = self.stack.get_mut(k..).unwrap_or_default();
        let mut slice = none_slice(items.len());
        if let Some(dst) = Arc::get_mut(&mut slice) {
            move_items(dst, items);
        }
        self.discard_moved(k);
        slice
    }

    /// The items from `k` up, moved into a vector of their exact number and off the stack (as
    /// [`Lean::take_slice`] moves them: in place, over `None`s).
    #[inline(always)]
    fn take_vec(&mut self, k: usize) -> Vec<Value> {
        let items = self.stack.get_mut(k..).unwrap_or_default();
        let mut v: Vec<Value> = (0..items.len()).map(|_| Value::None).collect();
        move_items(&mut v, items);
        self.discard_moved(k);
        v
    }

    /// Shortens the stack to `k` items, those after it having been moved out (placeholders
    /// that own nothing: forgotten, not dropped, which saves a call of the drop glue each).
    #[inline]
    fn discard_moved(&mut self, k: usize) {
        if k < self.stack.len() {
            self.stack.drain(k..).for_each(mem::forget);
        }
    }

    /// Takes out the container at `t` (which must be at or above the fence) for the items
    /// above it, leaving a placeholder.
    #[inline]
    fn take_target(&mut self, t: usize) -> Option<Item> {
        if t < self.fence() {
            return None;
        }
        self.stack
            .get_mut(t)
            .map(|slot| mem::replace(slot, Item::HOLE))
    }

    /// `APPENDS` with the mark at `k` (and `APPEND`, `k` the top): the items move into the
    /// list below them.
    #[inline]
    fn appends(&mut self, k: usize) -> Option<()> {
        if k == 0 || k >= self.stack.len() {
            return None;
        }
        let list = match self.take_target(k - 1)? {
            // Protocols 0 and 1: lists grow one `APPEND` at a time (protocol 0), or their
            // batches may be of one item (protocol 1): a vector from the start.
            Item::EmptyList if !self.binary => {
                let mut v = Box::new(Vec::with_capacity((self.stack.len() - k).max(4)));
                self.move_finished(&mut v, k);
                Item::List(v)
            }
            // A long first batch: finished, in a vector (see `VEC_MIN`).
            Item::EmptyList if self.stack.len() - k >= VEC_MIN => {
                Item::Val(Value::List(List(Seq::from_grown(self.take_vec(k)))))
            }
            // A list's first batch: exactly sized, finished (most lists have one batch).
            Item::EmptyList => Item::Val(Value::List(List(Seq::Slice(self.take_slice(k))))),
            Item::List(mut v) => {
                self.move_finished(&mut v, k);
                Item::List(v)
            }
            Item::Val(Value::List(mut list)) => {
                let mut v = Box::new(reopen(&mut list)?);
                self.move_finished(&mut v, k);
                Item::List(v)
            }
            _ => return None,
        };
        *self.stack.get_mut(k - 1)? = list;
        Some(())
    }

    /// Moves the items from `k` up, finished, to the end of `v` (one `APPEND`'s item without
    /// the general drain).
    #[inline]
    fn move_finished(&mut self, v: &mut Vec<Value>, k: usize) {
        if k + 1 == self.stack.len() {
            if let Some(item) = self.stack.pop() {
                v.push(item.finish());
            }
        } else {
            v.reserve(self.stack.len().saturating_sub(k));
            v.extend(self.stack.drain(k..).map(Item::finish));
        }
    }

    /// `SETITEMS` with the mark at `k` (and `SETITEM`, `k` below the top two): the pairs go
    /// into the dict below them.
    #[inline]
    fn setitems(&mut self, k: usize, arena: &mut Arena) -> Option<()> {
        let n = self.stack.len().checked_sub(k)?;
        if k == 0 || n == 0 || n % 2 != 0 {
            return None;
        }
        let dict = match self.take_target(k - 1)? {
            Item::EmptyDict if n / 2 <= SMALL_MAX => match self.seal_dict(k, arena) {
                Some(v) => Item::Val(v),
                None => self.insert_pairs(k, new_dict())?,
            },
            Item::EmptyDict => self.insert_pairs(k, new_dict())?,
            Item::Dict(d) => self.insert_pairs(k, d)?,
            _ => return None,
        };
        *self.stack.get_mut(k - 1)? = dict;
        Some(())
    }

    /// The finished dict of the (at most `SMALL_MAX`) pairs from `k` up, with a recent dict's
    /// key table if the keys are the same, else with a new one; `None` (nothing moved) if a
    /// key is not a finished value or two keys may be equal (left to [`Lean::insert_pairs`]).
    #[inline]
    fn seal_dict(&mut self, k: usize, arena: &mut Arena) -> Option<Value> {
        let (dict, plain) = seal_items(&mut self.keys, arena, self.stack.get_mut(k..)?)?;
        if plain {
            // The keys are equal to a table's keys that own nothing: they own nothing either.
            self.discard_moved(k);
        } else {
            self.stack.truncate(k);
        }
        Some(dict)
    }

    /// `SETITEM` of the pair at `k`, `k + 1` into the dict below it: an empty dict or one
    /// filled by `SETITEM`s so far collects the pair ([`Item::Pairs`], at most 16); anything
    /// else gives up. So does a key that is not a scalar: the pair is hashed only when the
    /// dict is made, which may be never (a dict below what `STOP` returns), and a key CPython
    /// cannot hash fails at its `SETITEM`.
    #[inline]
    fn setitem(&mut self, k: usize) -> Option<()> {
        if !matches!(
            self.stack.get(k),
            Some(Item::Val(
                Value::Str(_)
                    | Value::Int(_)
                    | Value::Float(_)
                    | Value::Bool(_)
                    | Value::None
                    | Value::Bytes(_)
            ))
        ) {
            return None;
        }
        let t = k.checked_sub(1)?;
        match self.stack.get_mut(t)? {
            Item::Pairs(pairs) if pairs.len() < 2 * SMALL_MAX => {}
            slot @ Item::EmptyDict => {
                *slot = Item::Pairs(Box::new(Vec::with_capacity(2 * SMALL_MAX)));
                self.open_pairs += 1;
            }
            _ => return None,
        }
        let value = self.stack.pop()?;
        let key = self.stack.pop()?;
        if let Some(Item::Pairs(pairs)) = self.stack.get_mut(t) {
            pairs.push(key);
            pairs.push(value);
        }
        Some(())
    }

    /// Makes each [`Item::Pairs`] from `k` up a finished dict (their contents are about to be
    /// taken): with a recent dict's key table when the keys are the same, else the way
    /// `SETITEMS` fills a dict (equal keys: the first kept, the last value).
    #[inline(always)]
    fn seal_pairs(&mut self, k: usize, arena: &mut Arena) -> Option<()> {
        if self.open_pairs == 0 {
            return Some(());
        }
        let items = self.stack.get(k..).unwrap_or_default();
        if items.iter().any(|i| matches!(i, Item::Pairs(_))) {
            return self.seal_pairs_from(k, arena);
        }
        Some(())
    }

    /// [`Lean::seal_pairs`] where there is one to seal.
    #[inline(never)]
    fn seal_pairs_from(&mut self, k: usize, arena: &mut Arena) -> Option<()> {
        // (A dict's pairs hold no open dict: `SETITEM` seals its pair first.)
        for at in k..self.stack.len() {
            if !matches!(self.stack.get(at), Some(Item::Pairs(_))) {
                continue;
            }
            let Some(Item::Pairs(mut pairs)) = self.take_target(at) else {
                return None;
            };
            self.open_pairs -= 1;
            let dict = self.seal_open(&mut pairs, arena)?;
            *self.stack.get_mut(at)? = Item::Val(dict);
        }
        Some(())
    }

    /// The dict of an [`Item::Pairs`]' pairs.
    fn seal_open(&mut self, pairs: &mut Vec<Item>, arena: &mut Arena) -> Option<Value> {
        match seal_items(&mut self.keys, arena, pairs) {
            Some((dict, plain)) => {
                if plain {
                    pairs.drain(..).for_each(mem::forget);
                }
                Some(dict)
            }
            None => Some(insert_pairs(pairs.drain(..), new_dict())?.finish()),
        }
    }

    /// Inserts the pairs from `k` up into the open dict `d`, with Python's semantics for equal
    /// keys (the first key kept, the last value).
    fn insert_pairs(&mut self, k: usize, d: Box<DictBuild>) -> Option<Item> {
        if k > self.stack.len() {
            return None;
        }
        insert_pairs(self.stack.drain(k..), d)
    }

    /// `ADDITEMS` with the mark at `k`: the items go into the set below them (an empty set,
    /// or one a first `ADDITEMS` finished; anything else gives up, as does an empty batch).
    #[inline(never)]
    fn additems(&mut self, k: usize, arena: &mut Arena) -> Option<()> {
        if k == 0 || k >= self.stack.len() {
            return None;
        }
        let spare = self.spare_keys();
        let keys = match self.take_target(k - 1)? {
            Item::EmptySet => KeyMap::Small(spare),
            Item::Val(Value::Set(mut set)) => set.0.reopen(spare)?,
            _ => return None,
        };
        let keys = self.add_keys(keys, k, arena)?;
        let set = Value::Set(Set::from_keys(keys, Some(&mut self.keys)));
        *self.stack.get_mut(k - 1)? = Item::Val(set);
        Some(())
    }

    /// The vector kept for a small dict's or set's keys, emptied (a dict that found equal keys
    /// leaves them there), with its room.
    fn spare_keys(&mut self) -> Vec<Key> {
        let mut keys = mem::take(&mut self.keys);
        keys.clear();
        keys
    }

    /// `FROZENSET` of the items from `k` up.
    #[inline(never)]
    fn frozenset_from(&mut self, k: usize, arena: &mut Arena) -> Option<()> {
        let keys = KeyMap::Small(self.spare_keys());
        let keys = self.add_keys(keys, k, arena)?;
        let set = Value::FrozenSet(Set::from_keys(keys, Some(&mut self.keys)));
        self.stack.push(Item::Val(set));
        Some(())
    }

    /// Adds the items from `k` up (taken off the stack) to `keys`, as the full machine adds
    /// them (room for all at once, an equal key kept as it was), in their final form; gives up
    /// on an item that is not a finished value or that CPython cannot hash.
    fn add_keys(&mut self, mut keys: KeyMap, k: usize, arena: &mut Arena) -> Option<KeyMap> {
        keys.reserve(self.stack.len().checked_sub(k)?);
        let mut steps = 0u64;
        for item in self.stack.drain(k..) {
            let Item::Val(value) = item else {
                return None;
            };
            let digest = key_digest(arena, &value)?;
            keys.insert_counted(Key { digest, value }, &mut steps);
        }
        Some(keys.compact())
    }

    /// Decodes `data` to its `STOP` (the value, and where it ends), or gives up (`None`).
    fn run(&mut self, data: &[u8], arena: &mut Arena) -> Option<(Value, usize)> {
        // The full machine's slice reader: the same window, frames and reads.
        let mut src = SliceSource::new(data);
        // Where the previous opcode and this one start (a put records the previous one).
        loop {
            let op = Opcode::from_u8(src.next_opcode().ok()??)?;
            match op {
                Opcode::APPEND => {
                    let k = self.stack.len().checked_sub(1)?;
                    if k < self.fence() + 1 {
                        return None;
                    }
                    self.seal_pairs(k, arena)?;
                    self.appends(k)?;
                    continue;
                }
                Opcode::SETITEM => {
                    let k = self.stack.len().checked_sub(2)?;
                    if k < self.fence() + 1 {
                        return None;
                    }
                    self.seal_pairs(k, arena)?;
                    self.setitem(k)?;
                    continue;
                }
                Opcode::PROTO => {
                    let proto = src.read_u8().ok()?;
                    if proto > 5 {
                        return None;
                    }
                    self.binary = proto >= 2;
                    continue;
                }
                Opcode::FRAME => {
                    let len = u64::from_le_bytes(src.read_array().ok()?);
                    src.start_frame(len).ok()?;
                    continue;
                }
                Opcode::MARK => {
                    self.marks.push(self.stack.len());
                    continue;
                }
                Opcode::STOP => {
                    self.seal_pairs(self.stack.len().checked_sub(1)?, arena)?;
                    return Some((self.pop()?.finish(), src.position() as usize));
                }
                Opcode::MEMOIZE => self.put(self.memo_len, src.position() as usize - 1)?,
                Opcode::BINPUT => {
                    let idx = src.read_u8().ok()?;
                    self.put(usize::from(idx), src.position() as usize - 2)?;
                }
                Opcode::LONG_BINPUT => {
                    let idx = u32::from_le_bytes(src.read_array().ok()?);
                    self.put(usize::try_from(idx).ok()?, src.position() as usize - 5)?;
                }
                Opcode::BINGET => {
                    let idx = src.read_u8().ok()?;
                    self.get(usize::from(idx), data)?;
                }
                Opcode::LONG_BINGET => {
                    let idx = u32::from_le_bytes(src.read_array().ok()?);
                    self.get(usize::try_from(idx).ok()?, data)?;
                }
                Opcode::NONE => self.push_made(|| Value::None),
                Opcode::NEWTRUE => self.push_made(|| Value::Bool(true)),
                Opcode::NEWFALSE => self.push_made(|| Value::Bool(false)),
                Opcode::BININT => {
                    let v = i32::from_le_bytes(src.read_array().ok()?);
                    self.push_made(|| Value::Int(Int::from(i64::from(v))));
                }
                Opcode::BININT1 => {
                    let v = src.read_u8().ok()?;
                    self.push_made(|| Value::Int(Int::from(i64::from(v))));
                }
                Opcode::BININT2 => {
                    let v = u16::from_le_bytes(src.read_array().ok()?);
                    self.push_made(|| Value::Int(Int::from(i64::from(v))));
                }
                Opcode::LONG1 => {
                    let n = src.read_u8().ok()?;
                    let bytes = src.read_bytes(usize::from(n)).ok()?;
                    self.push_made(|| Value::Int(Int::from_signed_bytes_le(bytes)));
                }
                Opcode::BINFLOAT => {
                    let v = f64::from_be_bytes(src.read_array().ok()?);
                    self.push_made(|| Value::Float(v));
                    self.push_float_run(&mut src);
                }
                Opcode::SHORT_BINUNICODE => {
                    let n = src.read_u8().ok()?;
                    self.push_str(&mut src, usize::from(n))?;
                }
                Opcode::BINUNICODE => {
                    let n = u32::from_le_bytes(src.read_array().ok()?);
                    self.push_str(&mut src, usize::try_from(n).ok()?)?;
                }
                Opcode::SHORT_BINBYTES => {
                    let n = src.read_u8().ok()?;
                    let b = src.read_bytes(usize::from(n)).ok()?;
                    self.push_made(|| Value::Bytes(Bytes::from(b)));
                }
                Opcode::BINBYTES => {
                    let n = u32::from_le_bytes(src.read_array().ok()?);
                    let b = src.read_bytes(usize::try_from(n).ok()?).ok()?;
                    self.push_made(|| Value::Bytes(Bytes::from(b)));
                }
                Opcode::BINBYTES8 | Opcode::BYTEARRAY8 => {
                    let n = u64::from_le_bytes(src.read_array().ok()?);
                    let b = Bytes::from(src.read_bytes(usize::try_from(n).ok()?).ok()?);
                    self.push_made(|| match op {
                        Opcode::BYTEARRAY8 => Value::ByteArray(b),
                        _ => Value::Bytes(b),
                    });
                }
                Opcode::EMPTY_LIST => {
                    self.stack.push(Item::EmptyList);
                    continue;
                }
                Opcode::EMPTY_DICT => {
                    self.stack.push(Item::EmptyDict);
                    continue;
                }
                Opcode::EMPTY_SET => {
                    self.stack.push(Item::EmptySet);
                    continue;
                }
                Opcode::ADDITEMS => {
                    let k = self.marked(arena)?;
                    self.additems(k, arena)?;
                    continue;
                }
                Opcode::FROZENSET => {
                    let k = self.marked(arena)?;
                    self.frozenset_from(k, arena)?;
                    continue;
                }
                Opcode::EMPTY_TUPLE => {
                    self.tuple_from(self.stack.len());
                    continue;
                }
                Opcode::TUPLE1 | Opcode::TUPLE2 | Opcode::TUPLE3 => {
                    let n = usize::from(op as u8 - Opcode::TUPLE1 as u8) + 1;
                    let k = self.stack.len().checked_sub(n)?;
                    if k < self.fence() {
                        return None;
                    }
                    self.seal_pairs(k, arena)?;
                    self.tuple_from(k);
                    continue;
                }
                Opcode::TUPLE => {
                    let k = self.marked(arena)?;
                    self.tuple_from(k);
                    continue;
                }
                Opcode::APPENDS => {
                    let k = self.marked(arena)?;
                    self.appends(k)?;
                    continue;
                }
                Opcode::SETITEMS => {
                    let k = self.marked(arena)?;
                    self.setitems(k, arena)?;
                    continue;
                }
                // Protocol 0's text opcodes, read by the full machine's own parsers (any
                // error gives up: the full machine makes it, with its offset).
                Opcode::DICT | Opcode::LIST => {
                    // As picklers write them: on an empty mark, filled by `SETITEM`/`APPEND`.
                    if self.pop_mark()? != self.stack.len() {
                        return None;
                    }
                    self.stack.push(match op {
                        Opcode::DICT => Item::EmptyDict,
                        _ => Item::EmptyList,
                    });
                    continue;
                }
                Opcode::PUT => {
                    let at = src.position() as usize - 1;
                    let idx = super::parse_memo_index(src.read_line().ok()?).ok()?;
                    self.put(usize::try_from(idx).ok()?, at)?;
                }
                Opcode::UNICODE => {
                    let start = src.position() as usize;
                    let line = src.read_line().ok()?;
                    // A short line of plain ASCII (most keys and values) is its own text:
                    // written into its stack item in place, as `push_str` writes short strs.
                    if let Some(words) = reader::short_words(data, start, line.len())
                        .filter(|w| line.len() <= INLINE_MAX && codec::words_plain_ascii(w))
                    {
                        self.push_inline(line.len() as u8, &words);
                        continue;
                    }
                    let s = codec::raw_unicode_escape_decode(line).ok()?;
                    self.push_made(|| Value::Str(s));
                }
                // Under the default limits, the lowest the lean path runs under (a number they
                // refuse is left to the full machine and the caller's limits).
                Opcode::INT => {
                    let v = super::parse_text_int(src.read_line().ok()?, &Limits::DEFAULT).ok()?;
                    self.push_made(|| v);
                }
                Opcode::LONG => {
                    let v = super::parse_text_long(src.read_line().ok()?, &Limits::DEFAULT).ok()?;
                    self.push_made(|| v);
                }
                Opcode::FLOAT => {
                    let v = super::parse_text_float(src.read_line().ok()?).ok()?;
                    self.push_made(|| Value::Float(v));
                }
                _ => return None,
            }
        }
    }
}

/// The finished dict of the (at most `SMALL_MAX`) pairs `items` (keys and values in turn),
/// with a recent dict's key table if the keys are the same, else with a new one (`scratch`:
/// a reused buffer for its keys), and whether its keys own nothing (the items are then
/// placeholders that own nothing: forget them); `None` (nothing moved) if a key is not a
/// finished value or two keys may be equal.
#[inline(always)]
fn seal_items(
    scratch: &mut Vec<Key>,
    arena: &mut Arena,
    items: &mut [Item],
) -> Option<(Value, bool)> {
    let n = items.len() / 2;
    let key = |i: usize| match items.get(2 * i) {
        Some(Item::Val(v)) => Some(v),
        _ => None,
    };
    let (table, plain) = match arena.find_key_table(n, key) {
        Some(found) => found,
        None => {
            let mut keys = mem::take(scratch);
            keys.clear();
            let mut digests = [0u64; SMALL_MAX];
            for i in 0..n {
                let v = key(i)?;
                let digest = key_digest(arena, v)?;
                if digests.get(..i)?.contains(&digest) {
                    *scratch = keys;
                    return None;
                }
                *digests.get_mut(i)? = digest;
                keys.push(Key {
                    digest,
                    value: v.clone(),
                });
            }
            let table = arena.new_key_table(&mut keys);
            *scratch = keys;
            (table, false)
        }
    };
    let mut dict = SmallDict::build(table, &mut std::iter::empty()).ok()?;
    if let Some(d) = Arc::get_mut(&mut dict) {
        for (dst, pair) in d.values.iter_mut().zip(items.chunks_exact_mut(2)) {
            if let [_, value] = pair {
                move_item(dst, value);
            }
        }
    }
    Some((Value::Dict(Dict(DictRepr::Small(dict))), plain))
}

/// The digest of the key `v` (short strs and ints of a machine word as the full machine's
/// `Arena::key_of` takes them); `None` if CPython cannot hash it.
#[inline]
fn key_digest(arena: &mut Arena, v: &Value) -> Option<u64> {
    match arena.quick_digest(v) {
        Some(d) => Some(d),
        None => digest_key(v).ok(),
    }
}

/// Inserts `pairs` (keys and values in turn) into the open dict `d`, with Python's semantics
/// for equal keys (the first key kept, the last value).
fn insert_pairs(
    mut pairs: impl ExactSizeIterator<Item = Item>,
    mut d: Box<DictBuild>,
) -> Option<Item> {
    let n = pairs.len() / 2;
    d.keys.reserve(n);
    d.values.reserve(n);
    let mut steps = 0u64;
    while let Some(key) = pairs.next() {
        let value = pairs.next()?.finish();
        let Item::Val(key) = key else {
            return None;
        };
        let key = Key::counted(key, &mut steps).ok()?;
        let i = d.keys.insert_counted(key, &mut steps);
        match d.values.get_mut(i) {
            Some(slot) => *slot = value,
            None => d.values.push(value),
        }
    }
    Some(Item::Dict(d))
}

/// A new, empty open dict.
fn new_dict() -> Box<DictBuild> {
    Box::new(DictBuild {
        keys: new_key_set(0),
        values: Vec::new(),
    })
}

/// Moves the finished value of `item` into `dst` (a `None`), leaving a placeholder that owns
/// nothing. A value is swapped in place: moved out by value, it would be copied in pieces
/// through a temporary the CPU cannot forward to the next load (a stall per item).
#[inline(always)]
fn move_item(dst: &mut Value, item: &mut Item) {
    match item {
        Item::Val(v) => mem::swap(dst, v),
        other => *dst = mem::replace(other, Item::HOLE).finish(),
    }
}

/// [`move_item`] for each item.
#[inline]
fn move_items(dst: &mut [Value], items: &mut [Item]) {
    for (d, item) in dst.iter_mut().zip(items) {
        move_item(d, item);
    }
}

/// The length of the argument of the opcode at `at` (one the lean path decoded), by the
/// layout the pass over the memo's fetches steps over ([`scan::layout`]).
fn arg_len(data: &[u8], at: usize) -> Option<usize> {
    let arg = data.get(at + 1..)?;
    Some(match scan::layout(Opcode::from_u8(*data.get(at)?)?) {
        Layout::Fixed(n) => usize::from(n),
        Layout::Counted(1) => 1 + usize::from(*arg.first()?),
        Layout::Counted(4) => 4 + usize::try_from(u32::from_le_bytes(*arg.first_chunk()?)).ok()?,
        _ => return None,
    })
}

/// The scalar the opcode at `at` pushes, if it is a scalar's opcode (it was decoded there
/// before: its bytes are all in `data`).
fn scalar_at(data: &[u8], at: usize) -> Option<Value> {
    let (&op, arg) = data.get(at..)?.split_first()?;
    let bytes = |len: usize, n: usize| arg.get(len..len.checked_add(n)?);
    Some(match Opcode::from_u8(op)? {
        Opcode::NONE => Value::None,
        Opcode::NEWTRUE => Value::Bool(true),
        Opcode::NEWFALSE => Value::Bool(false),
        Opcode::BININT1 => Value::Int(Int::from(i64::from(*arg.first()?))),
        Opcode::BININT2 => Value::Int(Int::from(i64::from(u16::from_le_bytes(
            *arg.first_chunk()?,
        )))),
        Opcode::BININT => Value::Int(Int::from(i64::from(i32::from_le_bytes(
            *arg.first_chunk()?,
        )))),
        Opcode::LONG1 => Value::Int(Int::from_signed_bytes_le(bytes(
            1,
            usize::from(*arg.first()?),
        )?)),
        Opcode::BINFLOAT => Value::Float(f64::from_be_bytes(*arg.first_chunk()?)),
        Opcode::SHORT_BINUNICODE => str_value(bytes(1, usize::from(*arg.first()?))?)?,
        Opcode::BINUNICODE => {
            let n = u32::from_le_bytes(*arg.first_chunk()?);
            str_value(bytes(4, usize::try_from(n).ok()?)?)?
        }
        _ => return None,
    })
}

/// The items of a finished list, moved out to grow it again (it is the stack's alone).
fn reopen(list: &mut List) -> Option<Vec<Value>> {
    match &mut list.0 {
        Seq::Slice(s) => Some(Arc::get_mut(s)?.iter_mut().map(mem::take).collect()),
        Seq::Vec(v) => Arc::get_mut(v).map(mem::take),
    }
}

impl Machine {
    /// Decodes the pickle at the start of `data` on the lean path (see the module docs): the
    /// value and where the pickle ends; or gives up (`None`), and the caller runs the full
    /// machine. With `whole`, only if the
    /// pickle is all of `data` (a later `load` could otherwise fetch its memo entries, which
    /// the lean path does not keep). Only for the first load of a fresh machine, with limits
    /// that [cover](crate::Limits) the lean path's.
    pub(crate) fn load_lean(&mut self, data: &[u8], whole: bool) -> Option<(Value, usize)> {
        if data.len() > LEAN_MAX {
            return None;
        }
        let out = self.lean.run(data, &mut self.arena);
        self.lean.clear();
        // A key table of keys that own something is not kept past the pickle: see `reset`.
        self.loaded |= self.arena.has_owning_tables();
        out.filter(|&(_, end)| !whole || end == data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{LEAN_MAX, Machine};
    use crate::Unpickler;
    use crate::testing::xorshift;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
            .collect()
    }

    /// Runs the lean path on `data` with `m` (then resets `m`, as a pooled machine is); if it
    /// decodes, checks that the full machine decodes the same value. Whether it decoded.
    fn check(m: &mut Machine, data: &[u8]) -> bool {
        let lean = m.load_lean(data, false).map(|(v, _)| v);
        m.reset();
        let Some(lean) = lean else {
            return false;
        };
        match Unpickler::from_slice(data).load_full() {
            Ok(full) => assert!(
                lean.strict_eq(&full),
                "{data:02x?}: lean {lean} != full {full}"
            ),
            Err(e) => panic!("{data:02x?}: lean decodes {lean}, the full machine fails: {e}"),
        }
        true
    }

    /// A run of `BINFLOAT`s is read without a dispatch per float: within a frame, up to a frame's
    /// end (the rest read after the next `FRAME`), outside frames, and cut short by a
    /// truncated float (given up, as the full machine fails there).
    #[test]
    fn float_runs_decode_as_the_full_machine_does() {
        let floats: Vec<f64> = (0..300)
            .map(|i| match i % 5 {
                0 => f64::NAN,
                1 => -0.0,
                2 => f64::INFINITY,
                _ => f64::from(i) * 1.25 - 100.0,
            })
            .collect();
        let body = |fs: &[f64]| {
            let mut o = Vec::new();
            for f in fs {
                o.push(b'G');
                o.extend(f.to_be_bytes());
            }
            o
        };
        let frame = |part: &[u8]| {
            let mut o = vec![0x95];
            o.extend((part.len() as u64).to_le_bytes());
            o.extend(part);
            o
        };
        let mut m = Machine::default();
        let list = |inner: Vec<u8>| {
            let mut o = b"\x80\x04".to_vec();
            o.extend(inner);
            o
        };
        // One frame; unframed; split between two frames in the middle of the run.
        let mut one = b"](".to_vec();
        one.extend(body(&floats));
        one.extend(b"e.");
        let framed = list(frame(&one));
        let unframed = list(one.clone());
        let split_at = |at: usize| {
            let (a, b) = one.split_at(at);
            let mut split = frame(a);
            split.extend(frame(b));
            list(split)
        };
        let split = split_at(2 + 9 * 137);
        for data in [&framed, &unframed, &split] {
            assert!(check(&mut m, data), "refused");
            let v = m.load_lean(data, false).expect("taken").0;
            m.reset();
            let items = v.as_slice().expect("a list");
            assert_eq!(items.len(), floats.len());
            for (got, want) in items.iter().zip(&floats) {
                assert!(matches!(got, crate::Value::Float(f) if f.to_bits() == want.to_bits()));
            }
        }
        // A frame ending inside a float (CPython: "pickle exhausted before end of frame").
        let torn = split_at(2 + 9 * 137 + 4);
        assert!(m.load_lean(&torn, false).is_none());
        m.reset();
        assert!(Unpickler::from_slice(&torn).load_full().is_err());
        // A tuple of three floats after two others; a run ending in a truncated float.
        let mut tuple = b"\x80\x04".to_vec();
        tuple.extend(body(&floats[..5]));
        tuple.extend(b"\x87\x94\x85.");
        assert!(check(&mut m, &tuple));
        let mut cut = b"\x80\x04](".to_vec();
        cut.extend(body(&floats[..40]));
        cut.extend(b"G\x40\x09");
        assert!(m.load_lean(&cut, false).is_none());
        m.reset();
        assert!(Unpickler::from_slice(&cut).load_full().is_err());
    }

    #[test]
    fn takes_plain_data_at_every_binary_protocol() {
        // pickle.dumps({'id': 1234567, 'user': 'Zoë Müller', 'tags': ['beta', 'eu'],
        //   'geo': (52.5, 13.4), 'blob': b'\x00\x01', 'big': 2**70, 'neg': -5, 'none': None,
        //   'ok': True}, protocol=p), p = 3, 4, 5 (at 2, bytes are a `_codecs.encode` call).
        let p3 = "80037d7100285802000000696471014a87d612005804000000757365727102580c0000005a6fc3ab204dc3bc6c6c6572710358040000007461677371045d710528580400000062657461710658020000006575710765580300000067656f710847404a40000000000047402acccccccccccd8671095804000000626c6f62710a43020001710b5803000000626967710c8a0900000000000000004058030000006e6567710d4afbffffff58040000006e6f6e65710e4e58020000006f6b710f88752e";
        let p4 = "8004958c000000000000007d94288c026964944a87d612008c0475736572948c0c5a6fc3ab204dc3bc6c6c6572948c0474616773945d94288c0462657461948c02657594658c0367656f9447404a40000000000047402acccccccccccd86948c04626c6f629443020001948c03626967948a090000000000000000408c036e6567944afbffffff8c046e6f6e65944e8c026f6b9488752e";
        let p5 = p4.replacen("8004", "8005", 1);
        let want = "{'id': 1234567, 'user': 'Zoë Müller', 'tags': ['beta', 'eu'], \
                    'geo': (52.5, 13.4), 'blob': b'\\x00\\x01', 'big': 1180591620717411303424, \
                    'neg': -5, 'none': None, 'ok': True}";
        let mut m = Machine::default();
        for hex in [p3, p4, &p5] {
            let data = unhex(hex);
            assert!(check(&mut m, &data), "refused {hex}");
            assert_eq!(m.load_lean(&data, false).expect("lean").0.to_string(), want);
            m.reset();
        }
        // [1] and {'a': 1} at protocol 2: APPEND and SETITEM.
        assert!(check(&mut m, &unhex("80025d71004b01612e")));
        assert!(check(&mut m, &unhex("80027d710058010000006171014b01732e")));
    }

    /// A memo entry fetched (and so kept decoded) and then put again is fetched anew: the
    /// second `BINGET 1` gives the second put's value, as in CPython (`[1, 1, 2, 2]`), and
    /// equal keys fetched over and over are copies of the first fetch.
    #[test]
    fn a_fetched_entry_put_again_is_fetched_anew() {
        let mut m = Machine::default();
        let cases: [(&[u8], &str); 2] = [
            (
                b"\x80\x02]q\x00(K\x01q\x01h\x01K\x02q\x01h\x01e.",
                "[1, 1, 2, 2]",
            ),
            // Keys and a value fetched twice each.
            (
                b"\x80\x04]\x94(}\x94(\x8c\x01k\x94K\x01\x8c\x01v\x94\x8c\x01x\x94u}\x94(h\x02K\x02h\x03h\x04u}\x94(h\x02K\x03h\x03h\x04ue.",
                "[{'k': 1, 'v': 'x'}, {'k': 2, 'v': 'x'}, {'k': 3, 'v': 'x'}]",
            ),
        ];
        for (data, want) in cases {
            assert!(check(&mut m, data));
            let (v, _) = m.load_lean(data, false).expect("lean");
            assert_eq!(v.to_string(), want);
            m.reset();
        }
    }

    /// A list's first batch of `VEC_MIN` items or more is kept in a vector: the same value as
    /// the full machine's (whose memoized lists do the same), one item either side of the bound,
    /// then with a second batch, with the list memoized and fetched, and nested.
    #[test]
    fn long_first_batches_decode_as_the_full_machine_does() {
        use crate::value::VEC_MIN;
        let mut m = Machine::default();
        for n in [VEC_MIN - 1, VEC_MIN, VEC_MIN + 1, 300] {
            let mut items = Vec::new();
            for i in 0..n {
                match i % 4 {
                    0 => items.extend([b'K', i as u8]),
                    1 => items.extend(b"\x8c\x03abc"),
                    2 => items.push(b'N'),
                    _ => items.extend(b"\x8c\x1ba str too long to be inline"),
                }
            }
            let list = |body: &[u8], tail: &[u8]| {
                let mut p = b"\x80\x04]\x94(".to_vec();
                p.extend(body);
                p.push(b'e');
                p.extend(tail);
                p
            };
            let one = list(&items, b".");
            let nested = [b"\x80\x04]\x94(".as_slice(), &one[2..one.len() - 1], b"e."].concat();
            // (The pickle, whether the lean path takes it, where the long list is, its length.)
            let cases = [
                (list(&items, b"(K\x07K\x08e."), true, None, n + 2),
                (one, true, None, n),
                (nested, true, Some(0usize), n),
                // A `GET` of a list: the lean path gives up, the full machine decodes it.
                (list(&items, b"h\x00\x86."), false, Some(0), n),
            ];
            for (data, lean, at, len) in cases {
                assert_eq!(check(&mut m, &data), lean, "{n}");
                let v = Unpickler::from_slice(&data).load().expect("decodes");
                let long = match at {
                    Some(i) => v.get(i).expect("an item"),
                    None => &v,
                };
                assert_eq!(long.as_slice().map(<[_]>::len), Some(len), "{n}");
            }
        }
    }

    /// Sets (filled by one batch or more), frozensets and bytearrays, as protocols 4 and 5
    /// write them, decode as the full machine decodes them; equal members keep the first.
    #[test]
    fn sets_and_bytearrays_decode_as_the_full_machine_does() {
        let mut m = Machine::default();
        for (hex, want) in [
            // pickle.dumps({frozenset({(1, 'a'), (2, 'b')}), frozenset()}, protocol=5)
            (
                "8005951b000000000000008f9428289194284b028c01629486944b018c01619486949194902e",
                // (In the pickle's order: CPython's repr lists the members in its hash order.)
                "{frozenset(), frozenset({(2, 'b'), (1, 'a')})}",
            ),
            // pickle.dumps([bytearray(b'ab'), {b'x', 2**70, -1.5}], protocol=5)
            (
                "8005952d000000000000005d94289602000000000000006162948f94288a09000000000000000040\
                 4301789447bff800000000000090652e",
                "[bytearray(b'ab'), {1180591620717411303424, b'x', -1.5}]",
            ),
            // EMPTY_SET MARK 1 True 1.0 ADDITEMS: CPython keeps the first of equal members.
            ("80048f284b0188473ff0000000000000902e", "{1}"),
            // Two NaNs (from two opcodes) are two members, as in CPython.
            (
                "800428477ff8000000000000477ff8000000000000912e",
                "frozenset({nan, nan})",
            ),
        ] {
            let data = unhex(hex);
            assert!(check(&mut m, &data), "refused {hex}");
            assert_eq!(m.load_lean(&data, false).expect("lean").0.to_string(), want);
            m.reset();
        }
        // The anchors' `misc` payload (sets, frozensets of tuples, a bytearray, tuple and
        // big-int keys, specials, empties) is taken whole.
        // (`make_misc` in benches/payloads.py, pickled at protocol 5.)
        let misc = unhex(
            "800595a9010000000000007d94288c03736574948f94284a000001004b014b024b034af9ffffff908c096672\
             6f7a656e73657494284b014b0286944b034b04869491948c09656d7074795f736574948f948c096279746561\
             72726179949606000000000000000001ff616263948c05627974657394431000ff00ff00ff00ff00ff00ff00\
             ff00ff948c097475706c655f6b6579947d94284b018c01619486948c0174944b028c01629486948c01759475\
             8c08696e745f6b657973947d94284b018c036f6e65944afeffffff8c096d696e75732074776f948a09000000\
             0000000000408c0362696794758c07626967696e7473945d94288a090000000000000000018a090000000000\
             000000ff8a1a01000000000000000000000000000000000000000000000000018a0800000000000000808a08\
             ffffffffffffff7f658c087370656369616c73945d9428477ff000000000000047fff0000000000000477ff8\
             000000000000478000000000000000658c07656d7074696573945d94285d94297d948c0094430094658c0562\
             6f6f6c73945d942888894e658c07756e69636f6465948c0d00c3a9e4b8adf09f9880ed9fbf94752e",
        );
        assert!(check(&mut m, &misc));
        // set(range(1200)) as CPython writes it: two ADDITEMS batches (1,000 and 200), the
        // second reopening the set the first finished, past the small key set's size.
        let mut data = b"\x80\x04\x8f\x94".to_vec();
        for batch in [0..1000u16, 1000..1200] {
            data.push(b'(');
            for i in batch {
                match u8::try_from(i) {
                    Ok(b) => data.extend([b'K', b]),
                    Err(_) => {
                        data.push(b'M');
                        data.extend(i.to_le_bytes());
                    }
                }
            }
            data.push(0x90);
        }
        data.push(b'.');
        assert!(check(&mut m, &data));
        let v = m.load_lean(&data, false).expect("lean").0;
        m.reset();
        let set = v.as_any_set().expect("a set");
        assert_eq!(set.len(), 1200);
        assert!(set.contains(&crate::Value::from(1199)));
        // Small sets reopened: a second batch repeating a member (kept as first added), a
        // third past 16 members, and a frozenset of a batch with repeats; the set inside a
        // list built after them.
        let mut data = b"\x80\x04]\x94(\x8f\x94(K\x01\x8c\x01a\x94\x88\x90(K\x03\x8c\x01a\x94G?\xf0\x00\x00\x00\x00\x00\x00\x90".to_vec();
        data.push(b'(');
        for i in 10..30u8 {
            data.extend([b'K', i]);
        }
        data.extend(b"\x90(K\x05K\x06K\x05\x91e.");
        assert!(check(&mut m, &data));
        let v = m.load_lean(&data, false).expect("lean").0;
        m.reset();
        let items = v.as_slice().expect("a list");
        let set = items[0].as_any_set().expect("a set");
        // {1, 'a', True, 3, 1.0, 10..29}: True and 1.0 equal 1, kept as `1`.
        assert_eq!(set.len(), 23);
        assert_eq!(
            set.iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["1", "'a'", "3"]
        );
        assert_eq!(items[1].to_string(), "frozenset({5, 6})");
        // A dict whose keys repeat leaves its keys in the vector kept for the next keys: the
        // sets after it start from none of them.
        for (data, want) in [
            (
                &b"\x80\x04](}(K\x01NK\x01\x88u(K\x05K\x06\x91\x8f\x94(K\x08\x90e."[..],
                "[{1: True}, frozenset({5, 6}), {8}]",
            ),
            (
                b"\x80\x04](}(K\x01NK\x01\x88u\x8f\x94(K\x08\x90e.",
                "[{1: True}, {8}]",
            ),
        ] {
            assert!(check(&mut m, data));
            let v = m.load_lean(data, false).expect("lean").0;
            m.reset();
            assert_eq!(v.to_string(), want);
        }
    }

    #[test]
    fn unpickler_takes_it_only_for_the_whole_slice() {
        // One pickle, all of the slice: the lean path; then the input is read to its end.
        let one = b"\x80\x04K\x07.";
        let mut u = Unpickler::from_slice(one);
        assert_eq!(u.load().expect("load").as_i64(), Some(7));
        assert_eq!(u.position(), 5);
        let again = u.load().expect_err("nothing left");
        let mut full = Unpickler::from_slice(one);
        full.load_full().expect("load");
        assert_eq!(
            again.to_string(),
            full.load_full().expect_err("end").to_string()
        );
        // A one-shot load ignores what follows the `STOP`; a load of one of several pickles
        // leaves the position after it.
        assert_eq!(
            crate::restricted_loads(b"K\x07.K").expect("load").as_i64(),
            Some(7)
        );
        let mut u = Unpickler::from_slice(b"K\x07.K\x08.");
        assert_eq!(u.load().expect("first").as_i64(), Some(7));
        assert_eq!(u.position(), 3);
        assert_eq!(u.load().expect("second").as_i64(), Some(8));
        // Two pickles, the second fetching the first's memo entry: the full machine keeps the
        // memo across loads, as CPython does.
        let two = b"\x80\x02X\x01\x00\x00\x00aq\x00.\x80\x02h\x00.";
        let mut u = Unpickler::from_slice(two);
        assert_eq!(u.load().expect("first").as_str(), Some("a"));
        assert_eq!(u.load().expect("second").as_str(), Some("a"));
        // Lower limits: the full machine, whose limits apply.
        let limits = crate::Limits {
            max_depth: 1,
            ..crate::Limits::default()
        };
        let nested = b"\x80\x04]](K\x01ea.";
        assert!(Unpickler::from_slice(nested).load().is_ok());
        let err = Unpickler::from_slice(nested).limits(limits).load();
        assert!(err.expect_err("too deep").to_string().contains("max_depth"));
    }

    #[test]
    fn gives_up_outside_its_subset() {
        let mut m = Machine::default();
        for (data, why) in [
            (&b"\x80\x02]q\x00h\x00a."[..], "GET"),
            (b"cos\nsystem\n.", "GLOBAL"),
            (b"\x80\x04\x8f(]\x90.", "a list added to a set"),
            (b"\x80\x04(}\x91.", "a dict in a frozenset"),
            (b"\x80\x04(\x8f\x91.", "a set in a frozenset"),
            (b"\x80\x04\x8f(\x90.", "an empty ADDITEMS"),
            (b"\x80\x04](K\x01\x90.", "ADDITEMS on a list"),
            (b"\x80\x04(\x91(K\x01\x90.", "ADDITEMS on a frozenset"),
            (b"\x80\x04\x8f\x94(K\x01\x90h\x00.", "GET of a set"),
            (b"\x80\x04\x96\x05\0\0\0\0\0\0\0ab.", "truncated BYTEARRAY8"),
            (b"S'a'\n.", "STRING (a Python 2 str)"),
            (b"(I1\nI2\nd.", "DICT over items"),
            (b"(I1\nl.", "LIST over items"),
            (b"(dp0\nI1\np1\ng1\ns.", "GET line"),
            (b"(d(lI1\ns.", "unhashable key by SETITEM"),
            (b"(d(dI1\ns(d.", "unhashable key below what STOP returns"),
            (b"(d(I1\ntI1\ns.", "a tuple key by SETITEM"),
            (
                b"(dI1\nI2\n(dp1\ns.",
                "SETITEM on a dict of other than pairs",
            ),
            (b"F1..0\n.", "malformed FLOAT"),
            (b"Vx\\u12\n.", "truncated escape"),
            (b"(lI1\nsI2\n.", "SETITEM on a list"),
            (b"(e.", "APPENDS without a list"),
            (b"}(K\x01e.", "APPENDS on a dict"),
            (b"](K\x01K\x02K\x03u.", "odd SETITEMS"),
            (b"}(]K\x01u.", "unhashable key"),
            (
                b"\x95\x01\0\0\0\0\0\0\0K\x01.",
                "an opcode across the frame's end",
            ),
            (
                b"\x95\x09\x00\x00\x00\x00\x00\x00\x00N.",
                "frame past the input",
            ),
            (b"\x80\x06N.", "protocol 6"),
            (b"N", "no STOP"),
            (b"(\x94N.", "MEMOIZE right after MARK"),
            (b"\x8c\x02\xed\xa0.", "truncated str"),
        ] {
            assert!(!check(&mut m, data), "accepted {why}: {data:02x?}");
        }
        // What is left below the top at STOP is ignored, as in CPython.
        assert!(check(&mut m, b"]K\x01."));
        // Too long to try, however plain.
        let mut long = b"\x80\x04(".to_vec();
        long.extend(std::iter::repeat_n(b'N', LEAN_MAX));
        long.extend(b"t.");
        assert!(m.load_lean(&long, false).is_none());
        assert!(Unpickler::from_slice(&long).load_full().is_ok());
    }

    #[test]
    fn cpython_cases_decode_as_the_full_machine_does() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/cpython_cases.json"
        );
        let text = std::fs::read_to_string(path).expect("cases");
        let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
        let mut m = Machine::default();
        let mut taken = 0;
        for case in &cases {
            let data = unhex(case["pickle"].as_str().expect("pickle"));
            taken += usize::from(check(&mut m, &data));
        }
        // Most cases are about what the lean path leaves to the full machine; a fair share
        // of them are plain data it takes.
        assert!(taken >= 200, "only {taken} of {} cases taken", cases.len());
    }

    /// A random pickle of the lean path's opcodes: plain data with memo puts, batches and
    /// frames, sometimes damaged.
    struct Gen {
        rng: Box<dyn FnMut() -> u64>,
        out: Vec<u8>,
        /// The memo indices put so far (`MEMOIZE` counted as CPython does).
        puts: Vec<u32>,
    }

    impl Gen {
        fn below(&mut self, n: u64) -> u64 {
            (self.rng)() % n
        }

        fn str_bytes(&mut self) -> Vec<u8> {
            const WORDS: [&[u8]; 8] = [
                b"id",
                b"name",
                b"Zo\xc3\xab",
                b"",
                b"\xed\xa0\x80",
                b"\xff",
                b"a fairly long key that is not inline",
                b"\xe2\x82\xac\xe2\x82\xac",
            ];
            let w = WORDS[self.below(8) as usize];
            let reps = if self.below(4) == 0 {
                1 + self.below(3)
            } else {
                1
            };
            w.repeat(reps as usize)
        }

        fn scalar(&mut self) {
            let r = self.below(15);
            let (pick, n) = (self.below(5) as usize, self.below(5) as usize);
            let o = &mut self.out;
            match r {
                0 => o.push(b'N'),
                1 => o.push(0x88),
                2 => o.push(0x89),
                3 => o.extend([b'K', (self.rng)() as u8]),
                4 => o.extend([b'M', (self.rng)() as u8, 1]),
                5 => {
                    let v = (self.rng)() as i32;
                    o.push(b'J');
                    o.extend(v.to_le_bytes());
                }
                6 => {
                    let n = self.below(10) as usize;
                    let b = (self.rng)().to_le_bytes();
                    self.out.extend([0x8a, n as u8]);
                    self.out.extend(b.iter().cycle().take(n));
                }
                7 => {
                    let f = [0.0, -0.0, 1.5, f64::NAN, 1e300][pick];
                    o.push(b'G');
                    o.extend(f.to_be_bytes());
                }
                8 | 9 => {
                    let s = self.str_bytes();
                    self.out.extend([0x8c, s.len() as u8]);
                    self.out.extend(s);
                }
                10 => {
                    let s = self.str_bytes();
                    self.out.push(b'X');
                    self.out.extend((s.len() as u32).to_le_bytes());
                    self.out.extend(s);
                }
                11 => {
                    o.extend([b'C', n as u8]);
                    o.extend(std::iter::repeat_n(7u8, n));
                }
                12 => {
                    o.push(b'B');
                    o.extend(3u32.to_le_bytes());
                    o.extend(b"abc");
                }
                13 => {
                    // BINBYTES8 or BYTEARRAY8 (now and then with a length past the input).
                    o.push([0x8e, 0x96][pick % 2]);
                    let len = if pick == 4 { u64::MAX } else { n as u64 };
                    o.extend(len.to_le_bytes());
                    o.extend(std::iter::repeat_n(9u8, n));
                }
                _ => o.push(b')'),
            }
        }

        fn memo(&mut self) {
            let idx = match self.below(6) {
                0 => {
                    self.out.push(0x94);
                    self.puts.len() as u32
                }
                1 => {
                    let i = self.below(8) as u8;
                    self.out.extend([b'q', i]);
                    u32::from(i)
                }
                2 => {
                    let i = if self.below(4) == 0 {
                        (self.rng)() as u32
                    } else {
                        300
                    };
                    self.out.push(b'r');
                    self.out.extend(i.to_le_bytes());
                    i
                }
                _ => return,
            };
            if !self.puts.contains(&idx) {
                self.puts.push(idx);
            }
        }

        /// A `GET` of an index put before (or, now and then, of any index).
        fn get(&mut self) {
            let idx = match self.puts.len() as u64 {
                0 => self.below(4) as u32,
                n => {
                    let i = self.below(n) as usize;
                    self.puts[i]
                }
            };
            if idx < 256 && self.below(2) == 0 {
                self.out.extend([b'h', idx as u8]);
            } else {
                self.out.push(b'j');
                self.out.extend(idx.to_le_bytes());
            }
        }

        fn key(&mut self) {
            match self.below(8) {
                0 => self.scalar(),
                1 => {
                    self.scalar();
                    self.scalar();
                    self.out.push(0x86);
                }
                2 => self.out.push(b']'),
                _ => {
                    let k = [&b"id"[..], b"name", b"x", b"id"][self.below(4) as usize];
                    self.out.extend([0x8c, k.len() as u8]);
                    self.out.extend(k);
                }
            }
            self.memo();
        }

        fn value(&mut self, depth: u32) {
            // A `GET` now and then, which the lean path leaves to the full machine.
            let kinds = if self.below(8) == 0 { 8 } else { 7 };
            let r = if depth > 3 { 0 } else { self.below(kinds) };
            match r {
                0..=2 => self.scalar(),
                7 => self.get(),
                6 => {
                    // A set filled by batches, or a frozenset; members now and then equal,
                    // unhashable, sets or frozensets themselves.
                    let frozen = self.below(2) == 0;
                    let batches = if frozen { 1 } else { self.below(3) };
                    if !frozen {
                        self.out.push(0x8f);
                        self.memo();
                    }
                    for _ in 0..batches {
                        self.out.push(b'(');
                        let most = if self.below(4) == 0 { 20 } else { 5 };
                        for _ in 0..self.below(most) {
                            if self.below(4) == 0 {
                                self.value(depth + 1);
                            } else {
                                self.key();
                            }
                        }
                        self.out.push(if frozen { 0x91 } else { 0x90 });
                    }
                }
                3 => {
                    self.out.push(b']');
                    self.memo();
                    for _ in 0..self.below(3) {
                        let n = self.below(5);
                        if n == 1 {
                            self.value(depth + 1);
                            self.out.push(b'a');
                        } else {
                            self.out.push(b'(');
                            for _ in 0..n {
                                self.value(depth + 1);
                                self.memo();
                            }
                            self.out.push(b'e');
                        }
                    }
                }
                4 => {
                    self.out.push(b'}');
                    self.memo();
                    for _ in 0..self.below(3) {
                        let n = self.below(18);
                        if n == 1 {
                            self.key();
                            self.value(depth + 1);
                            self.out.push(b's');
                        } else {
                            self.out.push(b'(');
                            for _ in 0..n {
                                self.key();
                                self.value(depth + 1);
                                self.memo();
                            }
                            self.out.push(b'u');
                        }
                    }
                }
                _ => {
                    let n = self.below(5);
                    if (1..=3).contains(&n) && self.below(2) == 0 {
                        for _ in 0..n {
                            self.value(depth + 1);
                        }
                        self.out.push(0x84 + n as u8);
                    } else {
                        self.out.push(b'(');
                        for _ in 0..n {
                            self.value(depth + 1);
                        }
                        self.out.push(b't');
                    }
                }
            }
            self.memo();
        }

        /// A protocol 0 scalar: text numbers (now and then malformed or out of range), and
        /// `UNICODE` lines of ASCII, Latin-1, escapes and surrogates.
        fn t_scalar(&mut self) {
            let line: Vec<u8> = match self.below(12) {
                0 => b"N".to_vec(),
                1 => b"I01\n".to_vec(),
                2 => b"I00\n".to_vec(),
                3 => format!("I{}\n", (self.rng)() as i64 >> self.below(64)).into_bytes(),
                4 => format!("L{}L\n", (self.rng)() as i64).into_bytes(),
                5 => {
                    let f = [0.5, -0.0, 1e300, 52.520008, 1.0 / 3.0][self.below(5) as usize];
                    format!("F{f:?}\n").into_bytes()
                }
                6 => [&b"I12a\n"[..], b"F1..0\n", b"I\n", b"L1\n", b"F\n"][self.below(5) as usize]
                    .to_vec(),
                7 => format!("I{}\n", "9".repeat(1 + self.below(40) as usize)).into_bytes(),
                _ => {
                    const WORDS: [&[u8]; 8] = [
                        b"id",
                        b"Zo\xeb M\xfcller",
                        b"",
                        b"\\u20ac\\u20ac",
                        b"\\ud800",
                        b"back\\slash",
                        b"a fairly long value that is not inline at all",
                        b"\\U0001f600",
                    ];
                    let mut l = b"V".to_vec();
                    l.extend(WORDS[self.below(8) as usize]);
                    l.push(b'\n');
                    l
                }
            };
            self.out.extend(line);
        }

        /// A protocol 0 `PUT` now and then (and a `GET` line, which the lean path leaves).
        fn t_memo(&mut self) {
            match self.below(8) {
                0..=3 => {
                    let i = self.puts.len() as u32;
                    self.out.extend(format!("p{i}\n").bytes());
                    self.puts.push(i);
                }
                4 => {
                    let i = self.below(5);
                    self.out.extend(format!("p{i}\n").bytes());
                }
                _ => {}
            }
        }

        /// A protocol 0 value: lists by `APPEND`, dicts by `SETITEM` (up to 17 keys, now and
        /// then a tuple or an unhashable list as a key), tuples by `TUPLE`, nested.
        fn t_value(&mut self, depth: u32) {
            let r = if depth > 3 { 0 } else { self.below(5) };
            match r {
                0 | 1 => self.t_scalar(),
                2 => {
                    self.out.extend(b"(l");
                    self.t_memo();
                    for _ in 0..self.below(5) {
                        self.t_value(depth + 1);
                        self.out.push(b'a');
                    }
                }
                3 => {
                    self.out.extend(b"(d");
                    self.t_memo();
                    let n = if self.below(8) == 0 {
                        17
                    } else {
                        self.below(6)
                    };
                    for _ in 0..n {
                        match self.below(10) {
                            0 => self.out.extend(b"(I1\nVx\ntp9\n"),
                            1 => self.out.extend(b"(l"),
                            2 => self.out.extend(b"Vid\n"),
                            _ => self.t_scalar(),
                        }
                        self.t_memo();
                        self.t_value(depth + 1);
                        self.out.push(b's');
                    }
                }
                _ => {
                    self.out.push(b'(');
                    for _ in 0..self.below(4) {
                        self.t_value(depth + 1);
                    }
                    self.out.push(b't');
                }
            }
            self.t_memo();
        }

        /// Damages a third of the pickles: a byte changed, or a cut.
        fn damage(&mut self, data: &mut Vec<u8>) {
            match self.below(6) {
                0 if !data.is_empty() => {
                    let i = self.below(data.len() as u64) as usize;
                    data[i] = (self.rng)() as u8;
                }
                1 => {
                    let n = self.below(data.len() as u64 + 1) as usize;
                    data.truncate(n);
                }
                _ => {}
            }
        }

        /// A protocol 0 pickle (a third damaged by a byte or a cut).
        fn text_pickle(&mut self) -> Vec<u8> {
            self.out.clear();
            self.puts.clear();
            self.t_value(0);
            self.out.push(b'.');
            let mut data = std::mem::take(&mut self.out);
            self.damage(&mut data);
            data
        }

        fn pickle(&mut self) -> Vec<u8> {
            self.out.clear();
            self.puts.clear();
            self.value(0);
            self.out.push(b'.');
            let body = std::mem::take(&mut self.out);
            let proto = 2 + self.below(4) as u8;
            let mut data = vec![0x80, proto];
            if proto >= 4 && self.below(3) > 0 {
                let len = body.len() as u64 + [0, 0, 0, 1][self.below(4) as usize];
                data.push(0x95);
                data.extend((len.saturating_sub(self.below(2))).to_le_bytes());
            }
            data.extend(body);
            self.damage(&mut data);
            data
        }
    }

    /// Runs the lean path on 20,000 pickles from `make` (those small enough) and checks each
    /// one it takes against the full machine: how many were tried, how many taken.
    fn random_cases(seed: u64, make: fn(&mut Gen) -> Vec<u8>) -> (usize, usize) {
        let mut g = Gen {
            rng: Box::new(xorshift(seed)),
            out: Vec::new(),
            puts: Vec::new(),
        };
        let mut m = Machine::default();
        let (mut tried, mut taken) = (0, 0);
        for _ in 0..20_000 {
            let data = make(&mut g);
            if data.len() > LEAN_MAX {
                continue;
            }
            tried += 1;
            taken += usize::from(check(&mut m, &data));
        }
        (tried, taken)
    }

    #[test]
    fn random_plain_pickles_decode_as_the_full_machine_does() {
        let (tried, taken) = random_cases(0x5eed_1ea0, Gen::pickle);
        // The generator mostly writes what the lean path takes (and damages a third): about
        // half are taken.
        assert!(taken * 3 > tried, "only {taken} of {tried} taken");
    }

    /// Protocol 0 pickles (text numbers and strs, `PUT` lines, lists by `APPEND`, dicts by
    /// `SETITEM`, tuples, nested; malformed and out-of-range numbers, bad escapes, surrogates,
    /// equal and unhashable keys, dicts past 16 keys, `GET` lines, damage): those the lean path
    /// takes decode as the full machine decodes them.
    #[test]
    fn random_text_pickles_decode_as_the_full_machine_does() {
        let (tried, taken) = random_cases(0x5eed_7e47, Gen::text_pickle);
        assert!(taken * 4 > tried, "only {taken} of {tried} taken");
    }
}
