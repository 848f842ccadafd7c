//! Objects under construction, and their conversion to the final, immutable [`Value`].
//!
//! While a pickle runs, containers live in an arena of [`Node`]s addressed by index: `APPEND`,
//! `SETITEM`, `BUILD`… mutate them in place, and the stack and memo hold indices, so a memo
//! `GET` shares the object instead of copying it. When the result is needed (at `STOP`, or when a
//! tuple/frozenset/object becomes a dict key or set member) the reachable nodes are converted
//! bottom-up, each exactly once: a node reached twice becomes one shared `Arc`. The conversion is
//! a loop over an explicit stack; it measures the result's nesting depth and detects cycles.
//!
//! A tuple of scalars is final the moment it is built and never needs a node: it is an ordinary
//! value on the stack and in the memo (shared by `Arc` like any other), and counts 1 for the
//! depth of whatever holds it ([`Value::shallow_depth`]).

use std::mem;
use std::sync::Arc;

use super::stack::Stack;
use super::{Slot, empty};
use crate::error::{Error, ErrorKind, Result};
use crate::grow;
use crate::pystr::INLINE_MAX;
use crate::value::key::{DigestMemo, int_digest};
use crate::value::{
    Construct, Dict, DictRepr, Key, KeyMap, List, Object, ObjectInner, Seq, Set, SmallDict, Tuple,
    Value,
};
use crate::value::{VEC_MIN, new_key_set};

/// A recorded object under construction.
pub(crate) struct ObjNode {
    pub(crate) callable: Value,
    pub(crate) construct: Construct,
    pub(crate) args: Slot,
    pub(crate) kwargs: Option<Slot>,
    pub(crate) state: Option<Slot>,
    pub(crate) list_items: Vec<Slot>,
    pub(crate) dict_items: Vec<(Slot, Slot)>,
}

/// The items of a list or tuple under construction: finished values in place, with the
/// positions of objects still under construction (filled in when the node is converted), so a
/// list of plain values becomes its final shared slice with at most one copy.
///
/// Most lists are filled by one `APPENDS` (or built whole by `LIST`/`TUPLE`): those items go
/// straight into their final, exactly sized shared slice (`sealed`), with no copy at the end.
/// A second batch moves them into the growable `vals`.
pub(crate) struct Items {
    vals: Vals,
    /// What only some lists have, allocated when first needed (so a node stays small).
    extra: Option<Box<ItemsExtra>>,
    /// While `extra` is `None`: the object under construction that is the first item, if it is
    /// the only thing `extra` would hold (`[x]`, `[x, 1]`: a chain of lists), kept without an
    /// allocation. Moved into `extra` when that is made.
    first: Option<u32>,
}

/// The part of [`Items`] most lists never need.
#[derive(Default)]
struct ItemsExtra {
    /// The items that are objects under construction, in order of position.
    patches: Vec<Run>,
    /// The depth of the deepest finished item ([`Value::shallow_depth`]).
    val_depth: u32,
}

/// Items `pos..pos + len` of a list or tuple under construction, all the object under
/// construction `id`: a list of one object repeated (`[x] * n`: `n` memo `GET`s of `x`) is one
/// run, not `n` patches.
#[derive(Clone, Copy, Debug)]
struct Run {
    pos: usize,
    id: u32,
    len: u32,
}

impl Run {
    /// The positions of the run.
    fn positions(self) -> std::ops::Range<usize> {
        self.pos..self.pos.saturating_add(self.len as usize)
    }

    /// Takes in the item at `pos`, the object `id`, if it continues the run.
    #[inline]
    fn grow(&mut self, pos: usize, id: u32) -> bool {
        self.grow_by(pos, id, 1)
    }

    /// Takes in the `n` items from `pos` on, all the object `id`, if they continue the run
    /// (and its length can count them).
    #[inline]
    fn grow_by(&mut self, pos: usize, id: u32, n: u32) -> bool {
        let len = self.len.checked_add(n);
        match len {
            Some(len) if self.id == id && self.positions().end == pos => {
                self.len = len;
                true
            }
            _ => false,
        }
    }
}

/// Where the values of [`Items`] are.
enum Vals {
    /// Growable (empty, or filled by more than one batch).
    Open(Vec<Value>),
    /// In final form: one batch filled the list while it was empty.
    Sealed(Arc<[Value]>),
}

impl Default for Items {
    fn default() -> Self {
        Items {
            vals: Vals::Open(Vec::new()),
            extra: None,
            first: None,
        }
    }
}

impl Items {
    /// Items from stack slots, sealed in their final form.
    pub(crate) fn from_slots(slots: Vec<Slot>) -> Items {
        let mut items = Items::default();
        items.extend_from(&mut Stack::from_slots(slots), 0);
        items
    }

    /// Takes the values out as a growable `Vec` (unsealing them); put them back with
    /// `self.vals = Vals::Open(..)`.
    fn take_open(&mut self) -> Vec<Value> {
        match mem::replace(&mut self.vals, Vals::Open(Vec::new())) {
            Vals::Open(v) => v,
            Vals::Sealed(mut sealed) => {
                // (At least four: a list built one `APPEND` at a time grows past two.)
                let mut vals = Vec::with_capacity(sealed.len().saturating_mul(2).max(4));
                match Arc::get_mut(&mut sealed) {
                    Some(items) => vals.extend(items.iter_mut().map(mem::take)),
                    None => vals.extend(sealed.iter().cloned()),
                }
                vals
            }
        }
    }

    /// Moves the slots `stack[k..]` to the end of the items and truncates `stack` to `k`.
    #[inline]
    pub(crate) fn extend_from(&mut self, stack: &mut Stack, k: usize) {
        let (slots, plain) = stack.moving_from(k);
        if slots.is_empty() {
            return;
        }
        // Two tight passes: note the objects under construction and the depth of nested values
        // (none to note when the stack knows the slots are plain: numbers, strs, `None`), then
        // move the values. Each value is taken out of its slot where it lies and written
        // straight to its place (a by-value `Slot -> Value` conversion goes through a temporary
        // that the CPU cannot forward to the next load: a stall per item), leaving `None` to
        // drop for free.
        let base = self.values().len();
        // Whether every slot is a node reference (`[x] * n`): then no value moves.
        let mut all_nodes = false;
        if !plain {
            let mut i = 0;
            while let Some(s) = slots.get(i) {
                match *s {
                    Slot::Node(id) => {
                        // A run of one object (`[x] * n`) is noted at once.
                        let rest = slots.get(i + 1..).unwrap_or_default();
                        let len = 1 + rest
                            .iter()
                            .take_while(|t| matches!(t, Slot::Node(j) if *j == id))
                            .count();
                        self.note_patches(base + i, id, len);
                        all_nodes |= i == 0 && len == slots.len();
                        i += len;
                    }
                    Slot::Val(ref v) => {
                        self.note_depth(v);
                        i += 1;
                    }
                }
            }
        }
        if base == 0 && slots.len() < VEC_MIN {
            let mut sealed = none_slice(slots.len());
            if !all_nodes {
                if let Some(dst) = Arc::get_mut(&mut sealed) {
                    move_values(dst, slots);
                }
            }
            self.vals = Vals::Sealed(sealed);
        } else {
            let mut vals = self.take_open();
            vals.resize_with(base + slots.len(), || Value::None);
            if !all_nodes {
                move_values(vals.get_mut(base..).unwrap_or_default(), slots);
            }
            self.vals = Vals::Open(vals);
        }
        stack.discard_moved(k);
    }

    /// Appends the floats of `run`, a run of `BINFLOAT` opcodes (each its opcode byte and
    /// 8-byte argument), written straight into the grown vector: a batch of floats that never
    /// sits on the stack ([`Machine::float_appends`](super::Machine)). Only for a list already
    /// grown or a batch of at least [`VEC_MIN`] (a first short batch is a sealed slice, made
    /// by [`Items::extend_from`]).
    #[inline]
    pub(crate) fn extend_floats(&mut self, run: &[u8]) {
        let mut vals = self.take_open();
        // `chunks_exact` knows its length: one reservation, each value written in place.
        vals.extend(run.chunks_exact(9).map(|c| {
            let arg = c.last_chunk::<8>().copied().unwrap_or_default();
            Value::Float(f64::from_be_bytes(arg))
        }));
        self.vals = Vals::Open(vals);
    }

    /// Appends one slot.
    #[inline]
    pub(crate) fn push(&mut self, slot: Slot) {
        if self.values().is_empty() {
            // The first item (picklers write `APPEND` for a one-item list): exactly sized, as a
            // first `APPENDS` is.
            let v = match slot {
                Slot::Val(v) => {
                    self.note_depth(&v);
                    v
                }
                Slot::Node(id) => {
                    self.note_patch(0, id);
                    Value::None
                }
            };
            self.vals = Vals::Sealed(Arc::from([v]));
            return;
        }
        // Pushed in place into a growable vector (not moved out and back); a sealed one (filled
        // by one batch) is unsealed first.
        let depth = match &slot {
            Slot::Val(v) => v.shallow_depth(),
            Slot::Node(_) => 0,
        };
        let at = self.values().len();
        match (&mut self.vals, slot) {
            (Vals::Open(vals), Slot::Val(v)) => grow::push(vals, v),
            (Vals::Open(vals), Slot::Node(id)) => {
                grow::push(vals, Value::None);
                self.note_patch(at, id);
            }
            (Vals::Sealed(_), slot) => {
                let mut vals = self.take_open();
                let v = match slot {
                    Slot::Val(v) => v,
                    Slot::Node(id) => {
                        self.note_patch(at, id);
                        Value::None
                    }
                };
                vals.push(v);
                self.vals = Vals::Open(vals);
            }
        }
        self.note_shallow_depth(depth);
    }

    /// The rarely needed part, allocated on first use.
    fn extra(&mut self) -> &mut ItemsExtra {
        let first = self.first.take();
        let extra = self.extra.get_or_insert_with(Box::default);
        if let Some(id) = first {
            // (`first` is only ever set while there is no `extra`: nothing comes before it.)
            extra.patches.insert(0, Run { pos: 0, id, len: 1 });
        }
        extra
    }

    /// Notes that the item at `pos` (after every item noted so far) is the object under
    /// construction `id`.
    #[inline]
    fn note_patch(&mut self, pos: usize, id: u32) {
        if pos == 0 && self.extra.is_none() {
            self.first = Some(id);
            return;
        }
        // The next item of the last run (`[x] * n`) just lengthens it.
        if let Some(run) = self.extra.as_deref_mut().and_then(|e| e.patches.last_mut()) {
            if run.grow(pos, id) {
                return;
            }
        }
        let patches = &mut self.extra().patches;
        if !patches.last_mut().is_some_and(|run| run.grow(pos, id)) {
            patches.push(Run { pos, id, len: 1 });
        }
    }

    /// Notes that the `len` items from `pos` on (after every item noted so far) are all the
    /// object under construction `id`.
    #[inline]
    fn note_patches(&mut self, pos: usize, id: u32, len: usize) {
        self.note_patch(pos, id);
        let Some(more) = len.checked_sub(1).filter(|&m| m > 0) else {
            return;
        };
        // The run the first one started or continued takes the rest, if its length can count
        // them; else one at a time.
        if let Ok(more) = u32::try_from(more) {
            let next = pos.saturating_add(1);
            if let Some(run) = self.extra().patches.last_mut() {
                if run.grow_by(next, id, more) {
                    return;
                }
            }
        }
        for p in pos.saturating_add(1)..pos.saturating_add(len) {
            self.note_patch(p, id);
        }
    }

    /// Notes the depth of a finished item.
    #[inline(always)]
    fn note_depth(&mut self, v: &Value) {
        self.note_shallow_depth(v.shallow_depth());
    }

    /// Notes that a finished item has the [`Value::shallow_depth`] `d`.
    #[inline(always)]
    fn note_shallow_depth(&mut self, d: u32) {
        if d > 0 {
            let extra = self.extra();
            extra.val_depth = extra.val_depth.max(d);
        }
    }

    /// Notes that some finished item nests `d` deep (a value converted before its list was:
    /// see [`Arena::take_final`]), where [`Value::shallow_depth`] would count 1.
    pub(crate) fn note_value_depth(&mut self, d: u32) {
        if d > 1 {
            let extra = self.extra();
            extra.val_depth = extra.val_depth.max(d);
        }
    }

    /// Whether every item is a finished value (no object under construction among them).
    fn is_flat(&self) -> bool {
        self.first.is_none() && self.extra.as_ref().is_none_or(|e| e.patches.is_empty())
    }

    /// Calls `f(run)` for each run of items that are one object under construction, in order.
    fn for_each_run(&self, mut f: impl FnMut(Run)) {
        if let Some(id) = self.first {
            f(Run { pos: 0, id, len: 1 });
        }
        for &run in self.extra.as_deref().map_or(&[][..], |e| &e.patches) {
            f(run);
        }
    }

    /// The items in order.
    fn values(&self) -> &[Value] {
        match &self.vals {
            Vals::Open(v) => v,
            Vals::Sealed(s) => s,
        }
    }

    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        self.values().len()
    }

    /// Whether there is no item.
    pub(crate) fn is_empty(&self) -> bool {
        self.values().is_empty()
    }

    /// The items as stack slots (values cloned, objects under construction by reference).
    pub(crate) fn to_slots(&self) -> Vec<Slot> {
        let mut out: Vec<Slot> = self.values().iter().cloned().map(Slot::Val).collect();
        self.for_each_run(|run| {
            for slot in out.get_mut(run.positions()).unwrap_or_default() {
                *slot = Slot::Node(run.id);
            }
        });
        out
    }
}

/// An object under construction, or its finished value.
pub(crate) enum Node {
    List(Items),
    Tuple(Items),
    Dict {
        keys: KeyMap,
        values: Vec<Slot>,
        key_depth: u32,
    },
    /// A dict filled by one `SETITEMS` (or `DICT`) while empty, with at most `SMALL_MAX`
    /// items: already in final form (one allocation, its key table perhaps shared), values
    /// that are objects under construction left as `None` and listed in the arena's `patches`
    /// at `patches.0..patches.0 + patches.1`. Changing it again turns it back into a `Dict`.
    SealedDict {
        dict: Arc<SmallDict>,
        patches: (u32, u32),
        key_depth: u32,
    },
    Set {
        keys: KeyMap,
        frozen: bool,
        key_depth: u32,
    },
    Object(Box<ObjNode>),
    /// Converted: the value and its nesting depth. Mutating it is an error.
    Done(Value, u32),
    /// Being converted (only seen transiently).
    Taken,
}

impl Node {
    /// An empty dict.
    pub(crate) fn empty_dict() -> Node {
        Node::Dict {
            keys: new_key_set(0),
            values: Vec::new(),
            key_depth: 0,
        }
    }

    /// An empty set (or frozenset).
    pub(crate) fn empty_set(frozen: bool) -> Node {
        Node::Set {
            keys: new_key_set(0),
            frozen,
            key_depth: 0,
        }
    }

    /// Whether the node is a list, tuple or dict holding only finished values: converting it
    /// needs no other node (see [`Arena::take_final`]).
    fn is_flat(&self) -> bool {
        match self {
            Node::List(items) | Node::Tuple(items) => items.is_flat(),
            Node::SealedDict {
                patches: (_, len), ..
            } => *len == 0,
            Node::Dict { values, .. } => values.iter().all(|s| matches!(s, Slot::Val(_))),
            _ => false,
        }
    }

    /// Python's type name of the node.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict { .. } | Node::SealedDict { .. } => "dict",
            Node::Set { frozen: false, .. } => "set",
            Node::Set { frozen: true, .. } => "frozenset",
            Node::Object(_) => "object",
            Node::Done(..) | Node::Taken => "object",
        }
    }

    /// Calls `f(slot, n)` for the child slots, `n` being how many times the child occurs there
    /// (a run of one object in a list counts once, with its length; `patches`: the arena's,
    /// for sealed dicts).
    fn for_each_child(&self, patches: &[(u32, u32)], mut f: impl FnMut(&Slot, u32)) {
        match self {
            Node::SealedDict {
                patches: (start, len),
                ..
            } => {
                for &(_, id) in patch_range(patches, *start, *len) {
                    f(&Slot::Node(id), 1);
                }
            }
            Node::List(items) | Node::Tuple(items) => {
                items.for_each_run(|run| f(&Slot::Node(run.id), run.len));
            }
            Node::Dict { values, .. } => values.iter().for_each(|s| f(s, 1)),
            Node::Object(o) => {
                f(&o.args, 1);
                if let Some(k) = &o.kwargs {
                    f(k, 1);
                }
                if let Some(s) = &o.state {
                    f(s, 1);
                }
                o.list_items.iter().for_each(|s| f(s, 1));
                for (k, v) in &o.dict_items {
                    f(k, 1);
                    f(v, 1);
                }
            }
            Node::Set { .. } | Node::Done(..) | Node::Taken => {}
        }
    }
}

/// Nodes per arena chunk.
const CHUNK: usize = 1024;

/// The arena of nodes.
pub(crate) struct Arena {
    /// The nodes, in fixed-size chunks (no reallocation copies, no doubling slack).
    nodes: Vec<Vec<Node>>,
    /// How many nodes there are.
    len: usize,
    /// Buffers of [`Arena::finalize`]'s walk, kept for the next call.
    walk_stack: Vec<(u32, bool)>,
    walk_children: Vec<u32>,
    /// While [`Arena::finalize_owned`] runs (`owning`): per node, the references not yet
    /// taken. The buffer is kept for the next call (no allocation per small pickle).
    indegree: Vec<u32>,
    /// Whether [`Arena::finalize_owned`] is running.
    owning: bool,
    /// Per node: whether something besides its one stack slot may refer to it (a memo entry,
    /// a `DUP`, a memo entry of one of its items), so [`Arena::take_final`] must leave it.
    pinned: Vec<bool>,
    /// Slots of nodes converted early ([`Arena::take_final`]), for new nodes to reuse.
    free: Vec<u32>,
    /// `(position, node)` of the values of sealed dicts that are objects under construction;
    /// each sealed dict owns one contiguous range.
    pub(crate) patches: Vec<(u32, u32)>,
    /// Per node: whether [`Arena::finalize`] is converting it right now (it is on the current
    /// path of the depth-first walk; meeting it again means a cycle).
    on_path: Vec<bool>,
    /// Digests of shared values hashed as (parts of) keys, kept for the whole pickle: a tuple
    /// or long str reused in many keys is hashed once.
    digests: DigestMemo,
    /// The key tables of the last few sealed dicts, offered to the next ones.
    key_tables: [Option<Arc<[Key]>>; KEY_TABLES],
    /// Bit `i`: `key_tables[i]` has a key that owns something (shared storage of this
    /// pickle), so [`Arena::reset`] lets it go.
    key_tables_owning: u8,
    /// Where the next new key table goes in `key_tables` (round robin).
    key_table_next: usize,
}

/// How many recent key tables sealed dicts may share (records usually alternate between a
/// handful of shapes: the record, its nested dicts).
const KEY_TABLES: usize = 4;
const _: () = assert!(KEY_TABLES <= 8, "`key_tables_owning` has a bit per table");

impl Default for Arena {
    fn default() -> Self {
        Arena {
            nodes: Vec::new(),
            len: 0,
            walk_stack: Vec::new(),
            walk_children: Vec::new(),
            indegree: Vec::new(),
            owning: false,
            pinned: Vec::new(),
            free: Vec::new(),
            patches: Vec::new(),
            on_path: Vec::new(),
            digests: DigestMemo::persistent(),
            key_tables: Default::default(),
            key_tables_owning: 0,
            key_table_next: 0,
        }
    }
}

impl Arena {
    /// Empties this arena, in place, for an unrelated pickle: the room of its first chunk and
    /// its small buffers kept, and the caches that own nothing (recent key tables whose keys
    /// are all short strs, small numbers, booleans or `None`; digests of short strs) kept too,
    /// so a stream of pickles of one shape skips hashing their keys. Every field is named, so
    /// a new one cannot be forgotten.
    pub(crate) fn reset(&mut self) {
        let Arena {
            nodes,
            len,
            walk_stack,
            walk_children,
            indegree,
            owning,
            pinned,
            free,
            patches,
            on_path,
            digests,
            key_tables,
            key_tables_owning,
            key_table_next: _,
        } = self;
        // The first chunk is kept, in a new outer vector: one small allocation and free per
        // call. Keeping the outer vector too measured the same on small pickles, but in a loop
        // of million-int lists glibc then grew the next list by copying (ints p5 14.5 → 17 ms
        // from the sixth run on).
        // (The old outer vector is freed before the new one is allocated, so glibc's cache
        // hands its block straight back.)
        let first = mem::take(nodes).into_iter().next();
        if let Some(mut first) = first {
            first.clear();
            nodes.push(first);
        }
        *len = 0;
        empty(walk_stack, CHUNK);
        empty(walk_children, CHUNK);
        empty(indegree, CHUNK);
        *owning = false;
        empty(pinned, CHUNK);
        empty(free, CHUNK);
        empty(patches, CHUNK);
        empty(on_path, CHUNK);
        digests.forget_shared();
        if *key_tables_owning != 0 {
            for (i, table) in key_tables.iter_mut().enumerate() {
                if *key_tables_owning & (1 << i) != 0 {
                    *table = None;
                }
            }
            *key_tables_owning = 0;
        }
    }

    /// Adds a node, returning its slot.
    #[inline]
    pub(crate) fn push(&mut self, node: Node) -> Result<Slot> {
        if let Some(id) = self.free.pop() {
            if let Some(slot) = self.get_mut(id) {
                // A freed slot holds `Taken` (see `take_final`): written over without a call
                // of the drop glue.
                if matches!(slot, Node::Taken) {
                    mem::forget(mem::replace(slot, node));
                } else {
                    *slot = node;
                }
                if let Some(p) = self.pinned.get_mut(id as usize) {
                    *p = false;
                }
                return Ok(Slot::Node(id));
            }
            return Err(internal());
        }
        let id = u32::try_from(self.len)
            .map_err(|_| Error::limit("max_objects", u64::from(u32::MAX)))?;
        match self.nodes.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(node),
            _ => {
                // The first chunk grows on demand (small pickles stay small); later ones are
                // allocated whole.
                let mut chunk = if self.nodes.is_empty() {
                    Vec::with_capacity(8)
                } else {
                    Vec::with_capacity(CHUNK)
                };
                chunk.push(node);
                self.nodes.push(chunk);
            }
        }
        self.len += 1;
        self.on_path.push(false);
        self.pinned.push(false);
        Ok(Slot::Node(id))
    }

    /// Notes that something besides its stack slot refers to node `id` (see `pinned`).
    #[inline]
    pub(crate) fn pin(&mut self, id: u32) {
        if let Some(p) = self.pinned.get_mut(id as usize) {
            *p = true;
        }
    }

    /// Converts node `id` now, as its one stack slot moves into a parent, if nothing else
    /// refers to it (not pinned) and it holds only finished values (so nothing can change it
    /// any more): the value and its depth, the node's slot freed for reuse. A list of records
    /// then holds finished records rather than a node each until `STOP`. `None`: left as it
    /// is (also when deeper than `max_depth`: converted, but left for `STOP`'s conversion to
    /// fail on, as it would have).
    pub(crate) fn take_final(&mut self, id: u32, max_depth: usize) -> Option<(Value, u32)> {
        if self.pinned.get(id as usize).is_none_or(|&p| p) {
            return None;
        }
        let node = self.get_mut(id)?;
        if !node.is_flat() {
            return None;
        }
        let node = mem::replace(node, Node::Taken);
        // (A flat list, tuple or dict converts without fail.)
        let converted = self.convert(node);
        let slot = self.get_mut(id)?;
        match converted {
            Ok((v, d)) if d as usize <= max_depth => {
                self.free.push(id);
                Some((v, d))
            }
            Ok((v, d)) => {
                *slot = Node::Done(v, d);
                None
            }
            Err(_) => {
                debug_assert!(false, "a flat node failed to convert");
                *slot = Node::Done(Value::None, 0);
                None
            }
        }
    }

    /// The node at `id`.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut Node> {
        let id = id as usize;
        self.nodes.get_mut(id / CHUNK)?.get_mut(id % CHUNK)
    }

    /// The node at `id`.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> Option<&Node> {
        let id = id as usize;
        self.nodes.get(id / CHUNK)?.get(id % CHUNK)
    }

    /// The finished value at `index` in the list `id` (under construction or converted).
    pub(crate) fn item(&self, id: u32, index: usize) -> Option<&Value> {
        match self.get(id)? {
            Node::List(items) => items.values().get(index),
            Node::Done(Value::List(l), _) => l.as_slice().get(index),
            _ => None,
        }
    }

    /// The value of a converted child node, and its depth: a clone, or, when the finalize in
    /// progress owns the nodes and this is the node's last incoming reference, the value
    /// itself (so no reference count is touched and the arena keeps nothing alive).
    fn child_value(&mut self, id: u32) -> (Value, u32) {
        self.child_values(id, 1)
    }

    /// [`Arena::child_value`] for `n` references at once (the caller clones the value for
    /// all but one of them).
    fn child_values(&mut self, id: u32, n: usize) -> (Value, u32) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let last = self.owning
            && match self.indegree.get_mut(id as usize) {
                Some(c) => {
                    *c = c.saturating_sub(n);
                    *c == 0
                }
                None => false,
            };
        match self.get_mut(id) {
            Some(Node::Done(v, d)) if last => (mem::take(v), *d),
            Some(Node::Done(v, d)) => (v.clone(), *d),
            _ => (Value::None, 0),
        }
    }

    /// The value of a slot for a parent being converted.
    fn slot_value(&mut self, s: Slot, depth: &mut u32) -> Value {
        match s {
            Slot::Val(v) => {
                *depth = (*depth).max(v.shallow_depth());
                v
            }
            Slot::Node(id) => {
                let (v, d) = self.child_value(id);
                *depth = (*depth).max(d);
                v
            }
        }
    }

    /// Counts, for every node, the references to it from nodes not yet converted (what
    /// [`Arena::convert`] will fetch), so [`Arena::finalize_owned`] can move each value into
    /// its last parent instead of cloning it.
    fn count_indegrees(&mut self) {
        let mut counts = mem::take(&mut self.indegree);
        counts.clear();
        counts.resize(self.len, 0);
        for node in self.nodes.iter().flatten() {
            node.for_each_child(&self.patches, |s, refs| {
                if let Slot::Node(c) = s {
                    if let Some(n) = counts.get_mut(*c as usize) {
                        *n = n.saturating_add(refs);
                    }
                }
            });
        }
        self.indegree = counts;
    }

    /// Like [`Arena::finalize`], for the last use of the arena (the end of the input): values
    /// are moved into their parents rather than cloned, and the root's value is moved out.
    /// Objects still referenced from elsewhere (the memo) are left as `None`, so the arena must
    /// not be used for another pickle afterwards.
    pub(crate) fn finalize_owned(
        &mut self,
        root: u32,
        max_depth: usize,
        work: &mut u64,
    ) -> Result<(Value, u32)> {
        self.count_indegrees();
        if let Some(c) = self.indegree.get_mut(root as usize) {
            // The root's own reference (from the stack) is the last one taken.
            *c = c.saturating_add(1);
        }
        *work += self.len as u64;
        self.owning = true;
        let result = self
            .finalize(root, max_depth, work)
            .map(|_| self.child_value(root));
        self.owning = false;
        result
    }

    /// Converts the node `root` and everything reachable from it into values.
    ///
    /// Fails on a cycle, or when the result nests deeper than `max_depth`.
    pub(crate) fn finalize(
        &mut self,
        root: u32,
        max_depth: usize,
        work: &mut u64,
    ) -> Result<(Value, u32)> {
        if let Some(Node::Done(v, d)) = self.get(root) {
            if self.owning {
                return Ok((Value::None, *d));
            }
            return Ok((v.clone(), *d));
        }
        // The walk's buffers are kept between calls (a finalize per tuple key is common).
        let mut stack = mem::take(&mut self.walk_stack);
        stack.clear();
        stack.push((root, false));
        let walked = self.walk(&mut stack, max_depth, work);
        if walked.is_err() {
            self.clear_path(&stack);
        }
        self.walk_stack = stack;
        walked?;
        match self.get(root) {
            Some(Node::Done(_, d)) if self.owning => Ok((Value::None, *d)),
            Some(Node::Done(v, d)) => Ok((v.clone(), *d)),
            _ => Err(internal()),
        }
    }

    /// The depth-first conversion loop of [`Arena::finalize`].
    fn walk(
        &mut self,
        stack: &mut Vec<(u32, bool)>,
        max_depth: usize,
        work: &mut u64,
    ) -> Result<()> {
        let mut children = mem::take(&mut self.walk_children);
        let walked = self.walk_loop(stack, &mut children, max_depth, work);
        self.walk_children = children;
        walked
    }

    fn walk_loop(
        &mut self,
        stack: &mut Vec<(u32, bool)>,
        children: &mut Vec<u32>,
        max_depth: usize,
        work: &mut u64,
    ) -> Result<()> {
        while let Some(&(id, expanded)) = stack.last() {
            let node = self.get(id).ok_or_else(internal)?;
            if let Node::Done(..) = node {
                stack.pop();
                continue;
            }
            if !expanded {
                match self.on_path.get_mut(id as usize) {
                    Some(flag) if !*flag => *flag = true,
                    _ => {
                        let name = self.get(id).map_or("object", Node::type_name);
                        return Err(Error::bare(ErrorKind::Recursive(name)));
                    }
                }
                if let Some(top) = stack.last_mut() {
                    top.1 = true;
                }
                let node = self.get(id).ok_or_else(internal)?;
                children.clear();
                let mut refs = 1u64;
                node.for_each_child(&self.patches, |s, n| {
                    if let Slot::Node(c) = s {
                        refs += u64::from(n);
                        children.push(*c);
                    }
                });
                *work += refs;
                let mut last = None;
                for &c in children.iter().rev() {
                    // Repeats of one shared child (`[x] * n`) are queued once.
                    if last != Some(c) && !matches!(self.get(c), Some(Node::Done(..))) {
                        stack.push((c, false));
                        last = Some(c);
                    }
                }
                continue;
            }
            stack.pop();
            if let Some(flag) = self.on_path.get_mut(id as usize) {
                *flag = false;
            }
            let node = mem::replace(self.get_mut(id).ok_or_else(internal)?, Node::Taken);
            let (value, depth) = self.convert(node)?;
            if let Some(slot) = self.get_mut(id) {
                *slot = Node::Done(value, depth);
            }
            if depth as usize > max_depth {
                return Err(Error::limit("max_depth", max_depth as u64));
            }
        }
        Ok(())
    }

    /// Clears the on-path flags of an abandoned walk.
    fn clear_path(&mut self, stack: &[(u32, bool)]) {
        for &(id, expanded) in stack {
            if expanded {
                if let Some(flag) = self.on_path.get_mut(id as usize) {
                    *flag = false;
                }
            }
        }
    }

    /// Builds the value of a node whose children are all converted.
    fn convert(&mut self, node: Node) -> Result<(Value, u32)> {
        let mut depth = 0u32;
        let value = match node {
            Node::List(items) => Value::List(List(self.convert_items(items, &mut depth))),
            Node::Tuple(items) => Value::Tuple(Tuple(self.convert_items(items, &mut depth))),
            Node::Dict {
                keys,
                values,
                key_depth,
            } => {
                let values: Vec<Value> = values
                    .into_iter()
                    .map(|s| self.slot_value(s, &mut depth))
                    .collect();
                depth = depth.max(key_depth);
                Value::Dict(Dict::from_parts(keys, values))
            }
            Node::SealedDict {
                mut dict,
                patches: (start, len),
                key_depth,
            } => {
                if len > 0 {
                    // A sealed dict is never shared before conversion.
                    let values = &mut Arc::get_mut(&mut dict).ok_or_else(internal)?.values;
                    let (start, len) = (start as usize, len as usize);
                    for k in start..start.saturating_add(len) {
                        let Some(&(pos, id)) = self.patches.get(k) else {
                            break;
                        };
                        let (v, d) = self.child_value(id);
                        depth = depth.max(d);
                        if let Some(slot) = values.get_mut(pos as usize) {
                            slot.fill(v);
                        }
                    }
                }
                depth = depth.max(key_depth);
                Value::Dict(Dict(DictRepr::Small(dict)))
            }
            Node::Set {
                keys,
                frozen,
                key_depth,
            } => {
                depth = depth.max(key_depth);
                let set = Set::from_keys(keys, None);
                if frozen {
                    Value::FrozenSet(set)
                } else {
                    Value::Set(set)
                }
            }
            Node::Object(o) => {
                let o = *o;
                let args = self.slot_value(o.args, &mut depth);
                let kwargs = o.kwargs.map(|s| self.slot_value(s, &mut depth));
                let state = o.state.map(|s| self.slot_value(s, &mut depth));
                let list_items = o
                    .list_items
                    .into_iter()
                    .map(|s| self.slot_value(s, &mut depth))
                    .collect();
                let dict_items = o
                    .dict_items
                    .into_iter()
                    .map(|(k, v)| {
                        let k = self.slot_value(k, &mut depth);
                        (k, self.slot_value(v, &mut depth))
                    })
                    .collect();
                Value::Object(Object(Arc::new(ObjectInner {
                    callable: o.callable,
                    construct: o.construct,
                    args,
                    kwargs,
                    state,
                    list_items,
                    dict_items,
                })))
            }
            Node::Done(v, d) => return Ok((v, d)),
            Node::Taken => return Err(internal()),
        };
        Ok((value, depth.saturating_add(1)))
    }

    /// Converts the items of a list or tuple into one shared slice (one copy of plain values;
    /// objects that were under construction are filled in from their converted nodes).
    fn convert_items(&mut self, items: Items, depth: &mut u32) -> Seq {
        let Items { vals, extra, first } = items;
        let ItemsExtra {
            patches: many,
            val_depth,
        } = extra.map(|e| *e).unwrap_or_default();
        *depth = (*depth).max(val_depth);
        let one;
        let patches: &[Run] = match first {
            Some(id) => {
                one = [Run { pos: 0, id, len: 1 }];
                &one
            }
            None => &many,
        };
        let mut slice = match vals {
            Vals::Sealed(sealed) => sealed,
            Vals::Open(mut vals) => {
                self.apply_patches(&mut vals, patches, depth);
                return Seq::from_grown(vals);
            }
        };
        if patches.is_empty() {
            return Seq::Slice(slice);
        }
        if let Some(items) = Arc::get_mut(&mut slice) {
            self.apply_patches(items, patches, depth);
            return Seq::Slice(slice);
        }
        let mut copy = slice.to_vec();
        self.apply_patches(&mut copy, patches, depth);
        Seq::Slice(Arc::from(copy))
    }

    /// Fills in the items that were objects under construction.
    fn apply_patches(&mut self, items: &mut [Value], patches: &[Run], depth: &mut u32) {
        let mut rest = patches;
        while let Some(&Run { id, .. }) = rest.first() {
            // Consecutive runs of one object (`[x] * n` over several `APPENDS`) fetch it once.
            let runs = rest.iter().take_while(|r| r.id == id).count();
            let group = rest.get(..runs).unwrap_or_default();
            rest = rest.get(runs..).unwrap_or_default();
            let refs = group.iter().map(|r| r.len as usize).sum::<usize>();
            let (v, d) = self.child_values(id, refs);
            *depth = (*depth).max(d);
            // Every position gets a clone but the last, which gets the value itself.
            let Some((last, init)) = group.split_last() else {
                continue;
            };
            let end = last.positions().end;
            let clones = init
                .iter()
                .map(|r| r.positions())
                .chain(std::iter::once(last.pos..end.saturating_sub(1)));
            for range in clones {
                v.fill_clones(items.get_mut(range).unwrap_or_default());
            }
            if let Some(slot) = end.checked_sub(1).and_then(|i| items.get_mut(i)) {
                slot.fill(v);
            }
        }
    }

    /// Turns a sealed dict back into a growable one (to add items to it).
    pub(crate) fn unseal_dict(&mut self, id: u32) -> Result<()> {
        let Some(node) = self.get_mut(id) else {
            return Err(internal());
        };
        let (mut dict, (start, len), key_depth) = match mem::replace(node, Node::Taken) {
            Node::SealedDict {
                dict,
                patches,
                key_depth,
            } => (dict, patches, key_depth),
            other => {
                *node = other;
                return Ok(());
            }
        };
        let keys = dict.keys.to_vec();
        let mut values: Vec<Slot> = match Arc::get_mut(&mut dict) {
            Some(d) => d
                .values
                .iter_mut()
                .map(|v| Slot::Val(mem::take(v)))
                .collect(),
            None => dict.values.iter().map(|v| Slot::Val(v.clone())).collect(),
        };
        for &(pos, child) in patch_range(&self.patches, start, len) {
            if let Some(v) = values.get_mut(pos as usize) {
                *v = Slot::Node(child);
            }
        }
        if let Some(node) = self.get_mut(id) {
            *node = Node::Dict {
                keys: KeyMap::Small(keys),
                values,
                key_depth,
            };
        }
        Ok(())
    }

    /// The `(key, value)` pairs of a dict node (open or sealed), or `None` for another node.
    pub(crate) fn dict_pairs(&self, id: u32) -> Option<Vec<(Slot, Slot)>> {
        match self.get(id)? {
            Node::Dict { keys, values, .. } => Some(
                keys.iter()
                    .zip(values.iter())
                    .map(|(k, v)| (Slot::Val(k.value.clone()), v.clone()))
                    .collect(),
            ),
            Node::SealedDict {
                dict,
                patches: (start, len),
                ..
            } => {
                let mut out: Vec<(Slot, Slot)> = dict
                    .pairs()
                    .map(|(k, v)| (Slot::Val(k.value.clone()), Slot::Val(v.clone())))
                    .collect();
                for &(pos, child) in patch_range(&self.patches, *start, *len) {
                    if let Some(p) = out.get_mut(pos as usize) {
                        p.1 = Slot::Node(child);
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// A recent dict's key table whose keys are the same as the keys of the `(key, value)`
    /// slot pairs `items` (every key a finished value, type-exact and equal, in order): the
    /// common case of records, matched without hashing a key again. With it, whether its keys
    /// all own nothing (and so do the equal keys in `items`: a short str, a number, `None`
    /// or a bool is equal only to one stored the same way).
    pub(crate) fn match_key_table(&self, items: &[Slot]) -> Option<(Arc<[Key]>, bool)> {
        self.find_key_table(items.len() / 2, |i| match items.get(2 * i) {
            Some(Slot::Val(v)) => Some(v),
            _ => None,
        })
    }

    /// [`Arena::match_key_table`] for `n` keys, the `i`th of which is `key(i)` (`None`: not a
    /// finished value, which matches no table).
    #[inline]
    pub(crate) fn find_key_table<'v>(
        &self,
        n: usize,
        key: impl Fn(usize) -> Option<&'v Value>,
    ) -> Option<(Arc<[Key]>, bool)> {
        let matches = |table: &&Arc<[Key]>| {
            table.len() == n
                && table
                    .iter()
                    .enumerate()
                    .all(|(i, k)| key(i).is_some_and(|v| same_key(&k.value, v)))
        };
        self.key_tables
            .iter()
            .enumerate()
            .find_map(|(i, t)| Some((i, t.as_ref().filter(matches)?)))
            .map(|(i, t)| (Arc::clone(t), self.key_tables_owning & (1 << i) == 0))
    }

    /// A new key table of `keys` (left empty), offered to the next dicts.
    pub(crate) fn new_key_table(&mut self, keys: &mut Vec<Key>) -> Arc<[Key]> {
        let table: Arc<[Key]> = keys.drain(..).collect();
        let i = self.key_table_next % KEY_TABLES;
        if let Some(slot) = self.key_tables.get_mut(i) {
            *slot = Some(Arc::clone(&table));
            if table.iter().all(|k| k.value.owns_nothing()) {
                self.key_tables_owning &= !(1 << i);
            } else {
                self.key_tables_owning |= 1 << i;
            }
        }
        self.key_table_next = self.key_table_next.wrapping_add(1);
        table
    }

    /// Whether a recent key table holds a key that owns something (which [`Arena::reset`]
    /// drops, keeping nothing of a pickle's values).
    pub(crate) fn has_owning_tables(&self) -> bool {
        self.key_tables_owning != 0
    }

    /// The digest of a short (inline) str key, from the pickle-wide cache.
    #[inline]
    pub(crate) fn inline_str_digest(&mut self, len: u8, buf: &[u8; INLINE_MAX]) -> u64 {
        self.digests.inline_str(len, buf)
    }

    /// The digest of a key that needs no traversal: a short str (most keys) from the digest
    /// cache, an int that fits a machine word (ids) on the spot; `None` for anything else.
    #[inline]
    pub(crate) fn quick_digest(&mut self, v: &Value) -> Option<u64> {
        match v {
            Value::Str(s) => s
                .inline_parts()
                .map(|(len, buf)| self.inline_str_digest(len, buf)),
            Value::Int(i) => i.as_i64().map(int_digest),
            _ => None,
        }
    }

    /// Converts a slot into a hashable key (its depth too), with CPython's error for unhashable
    /// types. Lists, dicts and sets are refused before any conversion.
    pub(crate) fn key_of(
        &mut self,
        slot: Slot,
        max_depth: usize,
        work: &mut u64,
    ) -> Result<(Key, u32)> {
        let digest = match &slot {
            Slot::Val(v) => self.quick_digest(v),
            Slot::Node(_) => None,
        };
        if let Some(digest) = digest {
            if let Slot::Val(value) = slot {
                *work += 1;
                return Ok((Key { digest, value }, 0));
            }
        }
        self.key_of_slow(slot, max_depth, work)
    }

    fn key_of_slow(&mut self, slot: Slot, max_depth: usize, work: &mut u64) -> Result<(Key, u32)> {
        let (value, depth) = match slot {
            Slot::Val(v) => {
                let d = v.shallow_depth();
                (v, d)
            }
            Slot::Node(id) => {
                match self.get(id) {
                    Some(Node::List(_)) => return Err(unhashable("list")),
                    Some(Node::Dict { .. } | Node::SealedDict { .. }) => {
                        return Err(unhashable("dict"));
                    }
                    Some(Node::Set { frozen: false, .. }) => return Err(unhashable("set")),
                    _ => {}
                }
                self.finalize(id, max_depth, work)?
            }
        };
        Ok((Key::memoized(value, work, &mut self.digests)?, depth))
    }
}

/// A new shared slice of `n` `None`s (to fill in place).
#[inline]
pub(crate) fn none_slice(n: usize) -> Arc<[Value]> {
    // A range's length is known exactly (`TrustedLen`): written straight into one allocation
    // of the final size, with no intermediate `Vec` to copy from.
    (0..n).map(|_| Value::None).collect()
}

/// Moves the values of `slots` into `dst` (`None`s), leaving `None`s behind. Swapping in
/// place copies each value as three words; a by-value move goes through a temporary whose
/// split stores the CPU cannot forward to the next load (a stall per item).
#[inline]
pub(crate) fn move_values(dst: &mut [Value], slots: &mut [Slot]) {
    for (d, s) in dst.iter_mut().zip(slots) {
        if let Slot::Val(v) = s {
            mem::swap(d, v);
        }
    }
}

/// The patches `start..start + len` (empty if out of range).
fn patch_range(patches: &[(u32, u32)], start: u32, len: u32) -> &[(u32, u32)] {
    let start = start as usize;
    patches
        .get(start..start.saturating_add(len as usize))
        .unwrap_or_default()
}

fn unhashable(t: &'static str) -> Error {
    Error::bare(ErrorKind::Unhashable(t))
}

/// An impossible state; reported as an error rather than a panic.
#[cold]
pub(crate) fn internal() -> Error {
    Error::bare(ErrorKind::Unsupported(
        "internal error: inconsistent object arena (please report this pickle)".into(),
    ))
}

/// Whether two keys may share one key-table slot: the same type and value, bit for bit, and
/// only for immutable scalars, whose identity nothing can observe (a `1` never stands in for a
/// `1.0` or a `True`; tuples and other objects keep their own identity).
#[inline(always)]
pub(crate) fn same_key(a: &Value, b: &Value) -> bool {
    // Short strs (most keys), by their zero-padded parts.
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        if let (Some((m, p)), Some((n, q))) = (x.inline_parts(), y.inline_parts()) {
            return m == n && p == q;
        }
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::None, Value::None) => true,
        (Value::Bytes(x), Value::Bytes(y)) => x.as_slice() == y.as_slice(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{Items, Run, Slot, Stack};
    use crate::value::Value;

    /// What a slot is, comparably: `Ok(int)` for a value, `Err(id)` for a node.
    fn shape(s: &Slot) -> Result<i64, u32> {
        match s {
            Slot::Val(v) => Ok(v.as_i64().unwrap_or(-1)),
            Slot::Node(id) => Err(*id),
        }
    }

    #[test]
    fn repeated_objects_are_noted_as_maximal_runs() {
        // Items arriving by APPEND and APPENDS batches of every size, drawn from few nodes so
        // repeats (`[x] * n`, split across batches or not) are common.
        let mut rng = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng() % n;
        for _ in 0..2000 {
            let len = next(40) as usize;
            let want: Vec<Result<i64, u32>> = (0..len)
                .map(|i| match next(4) {
                    0 => Ok(i as i64),
                    _ => Err(next(3) as u32),
                })
                .collect();
            let slot = |w: &Result<i64, u32>| match *w {
                Ok(v) => Slot::Val(Value::from(v)),
                Err(id) => Slot::Node(id),
            };
            let mut items = Items::default();
            let mut at = 0;
            while at < len {
                let n = (1 + next(6) as usize).min(len - at);
                if n == 1 && next(2) == 0 {
                    items.push(slot(&want[at]));
                } else {
                    // Pushed one by one, so that batches of plain values take the stack's
                    // word for it, and mixed ones are looked at.
                    let mut stack = Stack::default();
                    stack.push(Slot::Node(7));
                    for w in &want[at..at + n] {
                        stack.push(slot(w));
                    }
                    items.extend_from(&mut stack, 1);
                    assert_eq!(stack.len(), 1);
                }
                at += n;
            }
            let got: Vec<_> = items.to_slots().iter().map(shape).collect();
            assert_eq!(got, want);
            let mut runs: Vec<Run> = Vec::new();
            items.for_each_run(|r| runs.push(r));
            for r in &runs {
                assert!(r.len >= 1);
                assert!(want[r.positions()].iter().all(|w| *w == Err(r.id)));
            }
            for pair in runs.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                assert!(a.positions().end <= b.pos, "{runs:?}");
                assert!(
                    a.id != b.id || a.positions().end != b.pos,
                    "not merged: {runs:?}"
                );
            }
            let noted: u32 = runs.iter().map(|r| r.len).sum();
            assert_eq!(noted as usize, want.iter().filter(|w| w.is_err()).count());
        }
    }

    #[test]
    fn node_stays_small() {
        // The arena holds one node per container of the pickle: keep it compact.
        assert!(
            std::mem::size_of::<super::Node>() <= 64,
            "{}",
            std::mem::size_of::<super::Node>()
        );
        assert_eq!(std::mem::size_of::<crate::value::Value>(), 24);
    }

    #[test]
    fn reset_keeps_only_key_tables_that_own_nothing() {
        use super::{Arena, KEY_TABLES};
        use crate::value::Key;
        use std::sync::Arc;
        let long = Value::from("a str too long to be stored inline, so shared storage");
        let key = |v: &Value| Key::new(v.clone()).expect("hashable");
        let mut arena = Arena::default();
        // Tables 0 and 2 hold a long str (storage of the pickle), 1 and 3 only short strs;
        // then slot 0 is written over by a plain table, slot 1 by an owning one.
        let mut tables = Vec::new();
        for round in 0..KEY_TABLES + 2 {
            let owning = matches!(round, 0 | 2 | 5);
            let mut keys = vec![key(&Value::from("id"))];
            if owning {
                keys.push(key(&long));
            }
            tables.push(arena.new_key_table(&mut keys));
        }
        arena.reset();
        let kept: Vec<bool> = arena.key_tables.iter().map(Option::is_some).collect();
        assert_eq!(kept, [true, false, false, true]);
        assert!(Arc::ptr_eq(
            arena.key_tables[0].as_ref().expect("kept"),
            &tables[KEY_TABLES]
        ));
        assert_eq!(arena.key_tables_owning, 0);
        arena.reset();
        assert_eq!(arena.key_tables.iter().filter(|t| t.is_some()).count(), 2);
    }
}
