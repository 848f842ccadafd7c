//! The memo: indices chosen by the pickle, mapped to what was memoized (an object under
//! construction by reference, never copied).
//!
//! An entry need not hold a copy of a finished value either: `PUT`/`MEMOIZE` of a value bound
//! for a list records where the value is ([`Entry::Stack`]), and when `APPENDS` moves it into
//! the list, where it went ([`Entry::Item`]); a `GET` clones it from there. Most memoized values
//! are never fetched again, so most are never copied (and a shared one's reference count never
//! touched). The machine settles such an entry into a copy ([`Entry::Slot`]) before an opcode
//! moves, drops or changes its stack slot any other way.
//!
//! Indices are attacker-chosen and may be sparse (`LONG_BINPUT 0xffffffff`, `]replace.`). Small,
//! dense indices (what every real pickler writes) live in fixed-size chunks whose total is tied to
//! the number of entries, never to the largest index; the rest go to a hash map with a DoS-resistant
//! hasher. `MEMOIZE` stores at `len(memo)`, the number of occupied entries, as CPython does.
//!
//! Once the pass over the rest of the input ([`super::scan`]) knows which indices it fetches,
//! the entries of the others are dropped ([`Memo::forget_unfetched`]) and the next dense index
//! of one it does not fetch is counted but not stored ([`Memo::skip`]): no cell, and no chunk
//! for a run of them. Below `skipped_end`, an empty cell is such an entry: it exists for
//! `len(memo)`, for `PUT` replacing it and for the `max_memo_entries` limit, but holds nothing.
//! Only a load resumed after a failed one can `GET` it (it may read the input from mid-opcode,
//! where the pass did not), and that fails with an error saying so.

use std::collections::HashMap;

use super::Slot;
use super::scan::Fetched;
use crate::pystr::PyStr;
use crate::value::Value;

/// A memo entry.
pub(crate) enum Entry {
    /// The value or object itself.
    Slot(Slot),
    /// The finished value at this stack position (see the module docs).
    Stack(usize),
    /// The finished value at `index` in the items of the list node `node`.
    Item(u32, usize),
}

/// Dense room allowed beyond twice the entry count.
const DENSE_SLACK: u64 = 1024;

/// Dense entries per chunk. The dense part is kept in chunks of this many entries (24 KiB)
/// rather than one vector: it never reallocates (no copy of the entries so far) and never
/// needs one large block (which glibc maps fresh and unmaps again at every pickle).
const CHUNK: usize = 1024;

#[derive(Default)]
pub(crate) struct Memo {
    /// Entries `0..dense_len`, in chunks of `CHUNK` (the first may start smaller).
    chunks: Vec<Vec<Option<Entry>>>,
    dense_len: usize,
    /// Empty dense cells below this index are entries counted but not kept ([`Memo::skip`]).
    skipped_end: usize,
    sparse: HashMap<u64, Entry>,
    len: usize,
}

impl Memo {
    /// The number of occupied entries (Python's `len(memo)`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Room for `n` dense entries (at most one chunk; more is allocated as entries arrive).
    pub(crate) fn reserve(&mut self, n: usize) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::with_capacity(n.min(CHUNK)));
        }
    }

    /// The dense cell at `i` (`None` also for a cell in a chunk never made: see [`Memo::skip`]).
    #[inline]
    fn cell(&self, i: usize) -> Option<&Option<Entry>> {
        if i >= self.dense_len {
            return None;
        }
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    /// Counts `idx` as an entry without storing it, if it is the next dense index and every
    /// index below it is an entry (no gap a crafted `PUT` left, which an empty cell below
    /// `skipped_end` would then wrongly count): the pickle never fetches it. `false`: nothing
    /// done (store it as usual).
    #[inline]
    pub(crate) fn skip(&mut self, idx: u64) -> bool {
        if idx != self.dense_len as u64 || self.len != self.dense_len || !self.sparse.is_empty() {
            return false;
        }
        self.dense_len += 1;
        self.skipped_end = self.dense_len;
        self.len += 1;
        true
    }

    /// Drops the stored entries whose index `fetched` does not hold, leaving them counted as if
    /// [`Memo::skip`]ped, and frees chunks left empty. Only for a memo of dense indices with
    /// no gap (`false`, nothing done, otherwise). The caller drops its lazy entries of the
    /// dropped cells.
    pub(crate) fn forget_unfetched(&mut self, fetched: &Fetched) -> bool {
        if self.len != self.dense_len || !self.sparse.is_empty() {
            return false;
        }
        for (c, chunk) in self.chunks.iter_mut().enumerate() {
            let mut kept = 0usize;
            for (o, cell) in chunk.iter_mut().enumerate() {
                if fetched.contains((c * CHUNK + o) as u64) {
                    kept += 1;
                } else {
                    match cell.take() {
                        Some(Entry::Slot(Slot::Val(v))) if v.owns_nothing() => std::mem::forget(v),
                        other => drop(other),
                    }
                }
            }
            if kept == 0 {
                *chunk = Vec::new();
            }
        }
        self.skipped_end = self.dense_len;
        true
    }

    /// Whether `idx` is an entry (stored, or counted by [`Memo::skip`]).
    pub(crate) fn contains(&self, idx: u64) -> bool {
        self.get(idx).is_some() || self.was_skipped(idx)
    }

    /// Whether `idx` was counted by [`Memo::skip`] and not stored since.
    pub(crate) fn was_skipped(&self, idx: u64) -> bool {
        usize::try_from(idx).is_ok_and(|i| i < self.skipped_end) && self.get(idx).is_none()
    }

    /// The dense cell at `i < dense_len`, making its chunk and the empty cells before it in
    /// the chunk if [`Memo::skip`] left them unmade.
    fn dense_cell_mut(&mut self, i: usize) -> Option<&mut Option<Entry>> {
        if i >= self.dense_len {
            return None;
        }
        let (c, o) = (i / CHUNK, i % CHUNK);
        while self.chunks.len() <= c {
            self.chunks.push(Vec::new());
        }
        let chunk = self.chunks.get_mut(c)?;
        if chunk.len() <= o {
            chunk.reserve_exact(CHUNK - chunk.len());
            chunk.resize_with(o + 1, || None);
        }
        chunk.get_mut(o)
    }

    /// The dense cell at `i`, to settle or move a lazy entry.
    #[inline]
    pub(crate) fn cell_mut(&mut self, i: usize) -> Option<&mut Option<Entry>> {
        if i >= self.dense_len {
            return None;
        }
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    /// Appends a dense cell. (Not [`Memo::push_dense_cell`] and a write: pushing the entry
    /// whole measured fewer instructions on the lazy entries of list items, which come here.)
    #[inline(always)]
    fn push_dense(&mut self, cell: Option<Entry>) {
        // The last cell of the last chunk is the last dense index unless entries were skipped.
        let (c, o) = (self.dense_len / CHUNK, self.dense_len % CHUNK);
        let next_in_last = self.chunks.len() == c + 1;
        match self.chunks.last_mut() {
            Some(chunk) if next_in_last && chunk.len() == o => {
                chunk.push(cell);
                self.dense_len += 1;
            }
            _ => {
                self.dense_len += 1;
                if let Some(c) = self.push_chunk(c, o) {
                    *c = cell;
                }
            }
        }
    }

    /// Appends an empty dense cell and returns it, to be written in place (always `Some`).
    #[inline(always)]
    fn push_dense_cell(&mut self) -> Option<&mut Option<Entry>> {
        let (c, o) = (self.dense_len / CHUNK, self.dense_len % CHUNK);
        self.dense_len += 1;
        if self.chunks.len() == c + 1 && self.chunks.last().is_some_and(|l| l.len() == o) {
            return self.chunks.last_mut().and_then(|chunk| {
                chunk.push(None);
                chunk.last_mut()
            });
        }
        self.push_chunk(c, o)
    }

    /// Appends an empty dense cell at `(c, o)` (chunk, offset) in a new chunk, or after cells
    /// [`Memo::skip`] left unmade, and returns it (always `Some`).
    #[inline(never)]
    fn push_chunk(&mut self, c: usize, o: usize) -> Option<&mut Option<Entry>> {
        if self.chunks.len() <= c {
            while self.chunks.len() < c {
                self.chunks.push(Vec::new());
            }
            let first = self.chunks.is_empty() && o == 0;
            self.chunks
                .push(Vec::with_capacity(if first { 8 } else { CHUNK }));
        }
        let chunk = self.chunks.get_mut(c)?;
        if chunk.len() < o {
            chunk.reserve_exact(CHUNK - chunk.len());
            chunk.resize_with(o, || None);
        }
        chunk.push(None);
        chunk.last_mut()
    }

    /// The entry at `idx`.
    #[inline]
    pub(crate) fn get(&self, idx: u64) -> Option<&Entry> {
        match usize::try_from(idx).ok().and_then(|i| self.cell(i)) {
            Some(slot) => slot.as_ref(),
            None => self.sparse.get(&idx),
        }
    }

    /// Stores a copy of `slot` at `idx` (`PUT`, `MEMOIZE`), replacing any previous entry. In
    /// the common case (the next index in order) the copy is written straight into its new
    /// cell: a value cloned into a temporary and then moved is reassembled from the clone's
    /// small stores, which the CPU cannot forward (a stall per entry).
    #[inline]
    pub(crate) fn put_clone(&mut self, idx: u64, slot: &Slot) {
        if idx != self.dense_len as u64 || !self.sparse.is_empty() {
            return self.put_clone_elsewhere(idx, slot);
        }
        self.len += 1;
        if let Some(cell) = self.push_dense_cell() {
            copy_into(cell, slot);
        }
    }

    /// [`Memo::put_clone`] at an index out of order (a `PUT` a pickler did not write).
    #[inline(never)]
    fn put_clone_elsewhere(&mut self, idx: u64, slot: &Slot) {
        self.put(idx, slot.clone());
    }

    /// Records that entry `idx` is the value at stack position `pos`, without copying it, if
    /// `idx` is the next dense index (as picklers write): the dense cell's index, to settle
    /// later. `None`: nothing stored (store a copy instead).
    #[inline]
    pub(crate) fn put_lazy(&mut self, idx: u64, pos: usize) -> Option<usize> {
        if idx != self.dense_len as u64 || !self.sparse.is_empty() {
            return None;
        }
        self.push_dense(Some(Entry::Stack(pos)));
        self.len += 1;
        Some(self.dense_len - 1)
    }

    /// Stores `slot` at `idx`, replacing any previous entry.
    #[inline]
    pub(crate) fn put(&mut self, idx: u64, slot: Slot) {
        let slot = Entry::Slot(slot);
        // The common case: the next index in order (`MEMOIZE`, or `BINPUT` as picklers write).
        if idx == self.dense_len as u64 && self.sparse.is_empty() {
            self.push_dense(Some(slot));
            self.len += 1;
            return;
        }
        let skipped_end = self.skipped_end;
        if let Some((i, cell)) = usize::try_from(idx)
            .ok()
            .and_then(|i| Some((i, self.dense_cell_mut(i)?)))
        {
            // (An empty cell below `skipped_end` is a skipped entry: already counted.)
            if cell.replace(slot).is_none() && i >= skipped_end {
                self.len += 1;
            }
            return;
        }
        let room = (self.len as u64)
            .saturating_mul(2)
            .saturating_add(DENSE_SLACK);
        if idx < room && self.sparse.is_empty() {
            // Gaps are filled with empty cells (at most `room`, tied to the entry count).
            while (self.dense_len as u64) < idx {
                self.push_dense(None);
            }
            self.push_dense(Some(slot));
            self.len += 1;
            return;
        }
        if self.sparse.insert(idx, slot).is_none() {
            self.len += 1;
        }
    }
}

impl Memo {
    /// Empties the memo for an unrelated pickle, keeping the room of its first chunk.
    pub(crate) fn clear(&mut self) {
        self.drop_entries();
        self.chunks.truncate(1);
        self.dense_len = 0;
        self.skipped_end = 0;
        self.sparse = HashMap::new();
        self.len = 0;
    }

    /// Drops the dense entries, leaving the chunks empty.
    fn drop_entries(&mut self) {
        // Most entries are short strs and numbers, which own nothing: forgetting them skips a
        // call of the drop glue per entry (a memo of a million entries is common).
        for chunk in &mut self.chunks {
            for cell in chunk.drain(..) {
                match cell {
                    Some(Entry::Slot(Slot::Val(v))) if v.owns_nothing() => std::mem::forget(v),
                    cell => drop(cell),
                }
            }
        }
    }
}

/// Writes a copy of `slot` into the memo cell `cell` (a short str by its parts, without the
/// general clone), in place: a copy made in a temporary and then moved is reassembled from the
/// temporary's small stores, which the CPU cannot forward.
#[inline(always)]
pub(crate) fn copy_into(cell: &mut Option<Entry>, slot: &Slot) {
    if let Slot::Val(Value::Str(s)) = slot {
        if let Some((len, &buf)) = s.inline_parts() {
            *cell = Some(Entry::Slot(Slot::Val(Value::Str(
                PyStr::from_inline_parts(len, buf),
            ))));
            return;
        }
    }
    *cell = Some(Entry::Slot(slot.clone()));
}

impl Drop for Memo {
    fn drop(&mut self) {
        self.drop_entries();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_indices_do_not_allocate_densely() {
        let mut m = Memo::default();
        m.put(0xffff_ffff, Slot::Val(Value::None));
        m.put(0x616c_7065, Slot::Val(Value::None));
        assert_eq!(m.len(), 2);
        assert!(m.dense_len < 2048);
        assert!(m.get(0xffff_ffff).is_some());
        assert!(m.get(5).is_none());
    }

    #[test]
    fn dense_entries_across_chunks_and_gaps() {
        let mut m = Memo::default();
        m.reserve(4);
        for i in 0..3000u64 {
            m.put(i, Slot::Val(Value::from(i as i64)));
        }
        // A gap inside the allowed room, then the entries before it stay where they are.
        m.put(3500, Slot::Val(Value::from(-1)));
        assert_eq!(m.len(), 3001);
        for i in [0u64, 1023, 1024, 2047, 2048, 2999] {
            match m.get(i) {
                Some(Entry::Slot(Slot::Val(v))) => assert_eq!(v, &Value::from(i as i64)),
                _ => panic!("entry {i}"),
            }
        }
        assert!(m.get(3000).is_none() && m.get(3499).is_none());
        assert!(matches!(m.get(3500), Some(Entry::Slot(Slot::Val(_)))));
        m.put(3200, Slot::Val(Value::None));
        assert_eq!(m.len(), 3002);
        assert!(m.get(1_000_000).is_none());
    }

    #[test]
    fn cleared_memo_is_empty_and_keeps_one_chunk() {
        let mut m = Memo::default();
        for i in 0..2500u64 {
            m.put(i, Slot::Val(Value::from(i as i64)));
        }
        m.put(1 << 40, Slot::Val(Value::None));
        m.clear();
        assert_eq!((m.len(), m.dense_len, m.chunks.len()), (0, 0, 1));
        assert!(m.get(0).is_none() && m.get(1 << 40).is_none());
        m.put(0, Slot::Val(Value::from(7)));
        assert!(matches!(m.get(0), Some(Entry::Slot(Slot::Val(v))) if v.as_i64() == Some(7)));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn entry_is_no_larger_than_a_slot() {
        // A memo cell per memoized value: lazy entries must not make every cell larger.
        assert_eq!(
            std::mem::size_of::<Option<Entry>>(),
            std::mem::size_of::<Option<Slot>>()
        );
    }

    #[test]
    fn lazy_entries_take_the_next_dense_index_only() {
        let mut m = Memo::default();
        assert_eq!(m.put_lazy(0, 7), Some(0));
        assert_eq!(m.put_lazy(5, 8), None);
        assert_eq!(m.len(), 1);
        m.put(3000, Slot::Val(Value::None));
        // Once there is a sparse entry, every entry is stored as a copy.
        assert_eq!(m.put_lazy(1, 9), None);
        assert!(matches!(m.get(0), Some(Entry::Stack(7))));
    }

    #[test]
    fn skipped_entries_count_but_hold_nothing() {
        let mut m = Memo::default();
        m.put(0, Slot::Val(Value::from(1)));
        assert!(m.skip(1) && m.skip(2));
        assert!(!m.skip(5), "only the next dense index is skipped");
        assert_eq!(m.len(), 3);
        assert!(m.get(1).is_none() && m.was_skipped(1) && m.contains(1));
        assert!(!m.contains(3) && !m.was_skipped(3));
        // A PUT over a skipped entry stores it without counting it again.
        m.put(2, Slot::Val(Value::from(5)));
        assert_eq!(m.len(), 3);
        assert!(m.get(2).is_some() && !m.was_skipped(2));
        // A run of skipped entries makes no chunk; the next stored one makes only its own.
        for i in 3..5000 {
            assert!(m.skip(i));
        }
        m.put(5000, Slot::Val(Value::from(7)));
        assert_eq!(m.len(), 5001);
        assert!(m.chunks[1..4].iter().all(|c| c.capacity() == 0));
        assert!(matches!(m.get(5000), Some(Entry::Slot(Slot::Val(v))) if v.as_i64() == Some(7)));
        assert!(m.was_skipped(4999) && m.was_skipped(3000));
        // A PUT into a chunk that was never made makes it.
        m.put(3000, Slot::Val(Value::from(8)));
        assert_eq!(m.len(), 5001);
        assert!(m.get(3000).is_some() && m.get(2999).is_none() && m.was_skipped(2999));
        // A gap a PUT leaves stops skipping (its empty cells are not entries).
        m.put(5100, Slot::Val(Value::None));
        assert_eq!(m.len(), 5002);
        assert!(!m.contains(5050) && !m.skip(5101));
        // Clearing forgets what was skipped.
        m.clear();
        assert!(!m.contains(1) && !m.was_skipped(1) && m.len() == 0);
    }

    #[test]
    fn forgetting_keeps_only_fetched_entries() {
        let fetched =
            super::super::scan::fetched(b"h\x02j\xd0\x07\x00\x00.", &mut Vec::new()).unwrap();
        let mut m = Memo::default();
        for i in 0..3000u64 {
            m.put(i, Slot::Val(Value::from(i as i64)));
        }
        assert!(m.forget_unfetched(&fetched));
        assert_eq!(m.len(), 3000);
        assert!(m.get(2).is_some() && m.get(2000).is_some());
        assert!(m.get(3).is_none() && m.was_skipped(3) && m.was_skipped(2999));
        // Chunks left with no entry are freed.
        assert_eq!(m.chunks[2].capacity(), 0);
        // Not for a memo with a gap.
        let mut g = Memo::default();
        g.put(0, Slot::Val(Value::None));
        g.put(5, Slot::Val(Value::None));
        assert!(!g.forget_unfetched(&fetched));
        assert!(g.get(0).is_some() && !g.was_skipped(1));
    }

    #[test]
    fn overwrite_keeps_len() {
        let mut m = Memo::default();
        m.put(1, Slot::Val(Value::None));
        m.put(1, Slot::Val(Value::from(2)));
        assert_eq!(m.len(), 1);
    }
}
