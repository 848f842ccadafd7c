//! The value stack, which knows how high up an object under construction or a container can be.
//!
//! `APPENDS` moving a batch of items into a list must note the items that are objects under
//! construction (to patch in later) and the nesting depth of the finished ones (for
//! `max_depth`). Looking at every item for that is a pass over the batch: 5–9 % of decoding a
//! list of ints, 5–15 % for floats. So the stack keeps a bound, `plain_from`: every slot at or
//! above it is *plain* ([`Slot::is_plain`]: a finished value that nests nothing), and a batch
//! that starts at or above it needs no look.
//!
//! The bound is kept by construction: the vector is private, every method that writes a slot
//! raises the bound when the slot is not plain (or, for [`Stack::region_mut`], whatever it
//! holds), and the methods that remove slots lower it. Reading goes through `Deref<[Slot]>`. In
//! debug builds (the tests, the fuzzers), [`Stack::moving_from`] checks the claim slot by slot.

use std::mem;
use std::ops::Deref;
use std::vec;

use super::Slot;

/// The value stack (see the module docs).
#[derive(Default)]
pub(crate) struct Stack {
    slots: Vec<Slot>,
    /// Every slot at this index or above is plain.
    plain_from: usize,
}

impl Slot {
    /// A finished value that nests nothing (no container, no object under construction):
    /// moving it into a list needs no note.
    #[inline(always)]
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self, Slot::Val(v) if v.shallow_depth() == 0)
    }
}

impl Deref for Stack {
    type Target = [Slot];

    #[inline(always)]
    fn deref(&self) -> &[Slot] {
        &self.slots
    }
}

impl Stack {
    /// Notes that the slots below `end` may hold something that is not plain.
    #[inline(always)]
    fn taint_below(&mut self, end: usize) {
        self.plain_from = self.plain_from.max(end);
    }

    /// Notes that the stack is now `len` slots high.
    #[inline(always)]
    fn shrunk(&mut self) {
        self.plain_from = self.plain_from.min(self.slots.len());
    }

    /// A stack of `slots`, none of them known to be plain.
    pub(crate) fn from_slots(slots: Vec<Slot>) -> Stack {
        let plain_from = slots.len();
        Stack { slots, plain_from }
    }

    /// The bound: every slot at this index or above is plain.
    #[cfg(test)]
    pub(crate) fn plain_from(&self) -> usize {
        self.plain_from
    }

    /// The capacity of the vector.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Reserves room for `n` more slots.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
    }

    /// Empties the stack, keeping its room only if it is for at most `max` slots.
    pub(crate) fn empty(&mut self, max: usize) {
        super::empty(&mut self.slots, max);
        self.plain_from = 0;
    }

    /// Empties the stack.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.plain_from = 0;
    }

    /// Pushes a slot.
    #[inline(always)]
    pub(crate) fn push(&mut self, slot: Slot) {
        if !slot.is_plain() {
            self.taint_below(self.slots.len() + 1);
        }
        self.slots.push(slot);
    }

    /// Pushes the slot `make` returns, written in place: a placeholder is pushed first and the
    /// slot, made after it, written into it. A whole `Slot` pushed is assembled in a temporary
    /// the CPU cannot forward to the copy, and stalls (a quarter of the time of a list of
    /// floats). The placeholder is a node reference, whose overwrite the compiler sees needs no
    /// drop glue (a `None` placeholder, forgotten rather than dropped to spare that glue, made
    /// floats 60 % slower); `make` cannot see it, and the slot is written before this returns.
    #[inline(always)]
    pub(crate) fn push_made(&mut self, make: impl FnOnce() -> Slot) {
        self.slots.push(Slot::Node(0));
        let slot = make();
        if !slot.is_plain() {
            self.taint_below(self.slots.len());
        }
        if let Some(top) = self.slots.last_mut() {
            *top = slot;
        }
    }

    /// Writes `slot` over the top slot, dropping what was there (nothing if the stack is
    /// empty).
    #[inline]
    pub(crate) fn set_top(&mut self, slot: Slot) {
        if !slot.is_plain() {
            self.taint_below(self.slots.len());
        }
        if let Some(top) = self.slots.last_mut() {
            *top = slot;
        }
    }

    /// Pushes a copy of the slot at `pos` (cloned straight into the stack's memory: no
    /// temporary to copy from). `false` if there is no such slot.
    #[inline]
    pub(crate) fn push_copy_of(&mut self, pos: usize) -> bool {
        let Some(slot) = self.slots.get(pos) else {
            return false;
        };
        if !slot.is_plain() {
            self.taint_below(self.slots.len() + 1);
        }
        self.slots.extend_from_within(pos..pos + 1);
        true
    }

    /// Pushes `k` more copies of the top slot (nothing if the stack is empty).
    #[inline]
    pub(crate) fn repeat_top(&mut self, k: usize) {
        let Some(top) = self.slots.last() else {
            return;
        };
        let top = top.clone();
        if !top.is_plain() {
            self.taint_below(self.slots.len() + k);
        }
        self.slots.resize(self.slots.len() + k, top);
    }

    /// Pushes a clone of `slot`, cloned straight into the stack's memory.
    #[inline]
    pub(crate) fn push_clone(&mut self, slot: &Slot) {
        if !slot.is_plain() {
            self.taint_below(self.slots.len() + 1);
        }
        self.slots.extend_from_slice(std::slice::from_ref(slot));
    }

    /// Pops the top slot.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<Slot> {
        let slot = self.slots.pop();
        self.shrunk();
        slot
    }

    /// Keeps the first `k` slots.
    pub(crate) fn truncate(&mut self, k: usize) {
        self.slots.truncate(k);
        self.shrunk();
    }

    /// Removes the slots from `k` up, returned in order.
    pub(crate) fn split_off(&mut self, k: usize) -> Vec<Slot> {
        let k = k.min(self.slots.len());
        let out = self.slots.split_off(k);
        self.shrunk();
        out
    }

    /// Removes the slots from `k` up, handed out in order as the iterator is consumed.
    pub(crate) fn drain_from(&mut self, k: usize) -> vec::Drain<'_, Slot> {
        let k = k.min(self.slots.len());
        self.plain_from = self.plain_from.min(k);
        self.slots.drain(k..)
    }

    /// The slots from `k` up, to change in any way (they count as not plain until removed).
    pub(crate) fn region_mut(&mut self, k: usize) -> &mut [Slot] {
        if k < self.slots.len() {
            self.taint_below(self.slots.len());
        }
        self.slots.get_mut(k..).unwrap_or_default()
    }

    /// The slots from `k` up, for their values to be moved out (each left `None` or a node
    /// reference: see [`super::arena::move_values`]), and whether all of them are plain. The
    /// caller then removes them with [`Stack::discard_moved`].
    #[inline(always)]
    pub(crate) fn moving_from(&mut self, k: usize) -> (&mut [Slot], bool) {
        let plain = self.plain_from <= k;
        let slots = self.slots.get_mut(k..).unwrap_or_default();
        debug_assert!(!plain || slots.iter().all(Slot::is_plain));
        (slots, plain)
    }

    /// Shortens the stack to `k` slots, the slots after it having had their values moved out
    /// (each is now `None` or a node reference: nothing to free). They are forgotten rather
    /// than dropped: the drop glue per slot was a fifth of moving a batch of floats into a
    /// list.
    #[inline]
    pub(crate) fn discard_moved(&mut self, k: usize) {
        let k = k.min(self.slots.len());
        debug_assert!(
            self.slots
                .get(k..)
                .unwrap_or_default()
                .iter()
                .all(|s| match s {
                    Slot::Val(v) => v.owns_nothing(),
                    Slot::Node(_) => true,
                })
        );
        self.slots.drain(k..).for_each(mem::forget);
        self.shrunk();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use crate::value::{List, Seq};

    fn list() -> Slot {
        Slot::Val(Value::List(List(Seq::from_grown(vec![Value::None]))))
    }

    /// The bound follows every write and removal; it may stay above where it must be, never
    /// below.
    #[test]
    fn plain_from_bounds_every_non_plain_slot() {
        let mut s = Stack::default();
        s.push(Slot::Val(Value::Int(1.into())));
        assert_eq!(s.plain_from(), 0);
        s.push(Slot::Node(3));
        assert_eq!(s.plain_from(), 2);
        s.push(Slot::Val(Value::Float(1.0)));
        assert!(s.moving_from(2).1);
        assert!(!s.moving_from(1).1);
        s.pop();
        s.pop();
        assert_eq!(s.plain_from(), 1);
        s.push_made(|| Slot::Val(Value::Float(2.0)));
        assert_eq!(s.plain_from(), 1);
        s.set_top(list());
        assert_eq!(s.plain_from(), 2);
        assert!(s.push_copy_of(1));
        assert_eq!(s.plain_from(), 3);
        // Overwriting with a plain value leaves the bound where it was (it is only a bound).
        s.set_top(Slot::Val(Value::None));
        assert_eq!(s.plain_from(), 3);
        s.push_made(list);
        assert_eq!(s.plain_from(), 4);
        s.truncate(1);
        assert_eq!(s.plain_from(), 1);
        s.push_clone(&Slot::Node(0));
        assert_eq!(s.plain_from(), 2);
        let _ = s.split_off(1);
        assert_eq!(s.plain_from(), 1);
        s.push(Slot::Val(Value::None));
        s.push(Slot::Val(Value::None));
        let _ = s.region_mut(2);
        assert_eq!(s.plain_from(), 3);
        let _ = s.drain_from(1).count();
        assert_eq!(s.plain_from(), 1);
        s.clear();
        assert_eq!(s.plain_from(), 0);
        assert!(!s.push_copy_of(0));
    }
}
