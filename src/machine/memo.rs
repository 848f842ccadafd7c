//! The memo: indices chosen by the pickle, mapped to stack slots (references, never copies).
//!
//! Indices are attacker-chosen and may be sparse (`LONG_BINPUT 0xffffffff`, `]replace.`). Small,
//! dense indices (what every real pickler writes) live in a vector whose length is tied to the
//! number of entries, never to the largest index; the rest go to a hash map with a DoS-resistant
//! hasher. `MEMOIZE` stores at `len(memo)`, the number of occupied entries, as CPython does.

use std::collections::HashMap;

use super::Slot;

/// Dense room allowed beyond twice the entry count.
const DENSE_SLACK: u64 = 1024;

#[derive(Default)]
pub(crate) struct Memo {
    dense: Vec<Option<Slot>>,
    sparse: HashMap<u64, Slot>,
    len: usize,
}

impl Memo {
    /// The number of occupied entries (Python's `len(memo)`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Room for `n` dense entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.dense.reserve(n);
    }

    /// The entry at `idx`.
    #[inline]
    pub(crate) fn get(&self, idx: u64) -> Option<&Slot> {
        match usize::try_from(idx).ok().and_then(|i| self.dense.get(i)) {
            Some(slot) => slot.as_ref(),
            None => self.sparse.get(&idx),
        }
    }

    /// Stores `slot` at `idx`, replacing any previous entry.
    #[inline]
    pub(crate) fn put(&mut self, idx: u64, slot: Slot) {
        // The common case: the next index in order (`MEMOIZE`, or `BINPUT` as picklers write).
        if idx == self.dense.len() as u64 && self.sparse.is_empty() {
            self.dense.push(Some(slot));
            self.len += 1;
            return;
        }
        if let Some(cell) = usize::try_from(idx)
            .ok()
            .and_then(|i| self.dense.get_mut(i))
        {
            if cell.replace(slot).is_none() {
                self.len += 1;
            }
            return;
        }
        let room = (self.len as u64)
            .saturating_mul(2)
            .saturating_add(DENSE_SLACK);
        if idx < room && self.sparse.is_empty() {
            if let Ok(i) = usize::try_from(idx) {
                self.dense.resize_with(i + 1, || None);
                if let Some(cell) = self.dense.get_mut(i) {
                    *cell = Some(slot);
                    self.len += 1;
                }
                return;
            }
        }
        if self.sparse.insert(idx, slot).is_none() {
            self.len += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn sparse_indices_do_not_allocate_densely() {
        let mut m = Memo::default();
        m.put(0xffff_ffff, Slot::Val(Value::None));
        m.put(0x616c_7065, Slot::Val(Value::None));
        assert_eq!(m.len(), 2);
        assert!(m.dense.capacity() < 2048);
        assert!(m.get(0xffff_ffff).is_some());
        assert!(m.get(5).is_none());
    }

    #[test]
    fn overwrite_keeps_len() {
        let mut m = Memo::default();
        m.put(1, Slot::Val(Value::None));
        m.put(1, Slot::Val(Value::from(2)));
        assert_eq!(m.len(), 1);
    }
}
