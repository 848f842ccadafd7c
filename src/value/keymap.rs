//! [`KeyMap`]: the insertion-ordered key set behind dicts, sets and frozensets.
//!
//! Up to [`SMALL_MAX`] keys live in a plain vector searched by digest (no table, one
//! allocation: most dicts in real pickles are small records). Beyond that the keys stay in a
//! vector in insertion order and a [`KeyTable`] adds an index: open addressing over 8-byte
//! slots, each holding a key's position in the vector and the top bits of its digest, so a
//! probe compares digests without touching the keys, and growing the index reads the keys in
//! order instead of chasing them in table order.
//!
//! Digests are keyed SipHash (see [`key`](super::key)), so an input cannot choose where its
//! keys land. Keys whose digests are equal but which never compare equal (NaNs) do share one
//! probe sequence: every full comparison and every probe past the first is added to the
//! caller's work count, so such a flood stops at the work limit instead of going quadratic
//! unnoticed.

use super::Value;
use super::key::{Key, key_eq_counted, py_eq};

/// The largest key set kept as a plain vector.
pub(crate) const SMALL_MAX: usize = 16;

/// The insertion-ordered key set behind dicts, sets and frozensets.
#[derive(Clone)]
pub(crate) enum KeyMap {
    /// At most [`SMALL_MAX`] keys, searched in order.
    Small(Vec<Key>),
    /// More keys, with a hash index.
    Large(Box<KeyTable>),
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::Small(Vec::new())
    }
}

/// An empty key set with room for `n` keys.
pub(crate) fn new_key_set(n: usize) -> KeyMap {
    if n <= SMALL_MAX {
        KeyMap::Small(Vec::with_capacity(n))
    } else {
        KeyMap::Large(Box::new(KeyTable::with_capacity(n)))
    }
}

impl KeyMap {
    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is no key.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys in insertion order.
    pub(crate) fn as_slice(&self) -> &[Key] {
        match self {
            KeyMap::Small(v) => v,
            KeyMap::Large(t) => &t.keys,
        }
    }

    /// The keys in insertion order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Key> {
        self.as_slice().iter()
    }

    /// Room for `n` more keys.
    pub(crate) fn reserve(&mut self, n: usize) {
        match self {
            KeyMap::Small(v) if v.len().saturating_add(n) <= SMALL_MAX => {
                // Grown by doubling (`SETITEM` adds one key at a time), never past SMALL_MAX.
                let need = v.len() + n;
                if need > v.capacity() {
                    let room = need.max(2 * v.capacity()).clamp(4, SMALL_MAX);
                    crate::grow::reserve_exact(v, room - v.len());
                }
            }
            KeyMap::Small(v) => {
                // A batch that will not fit (pickle writes 1,000 items a batch): the table is
                // made now, for all of them, rather than grown by doubling from 17 keys.
                let room = v.len().saturating_add(n);
                let table = KeyTable::from_distinct(std::mem::take(v), room);
                *self = KeyMap::Large(Box::new(table));
            }
            KeyMap::Large(t) => t.reserve(n),
        }
    }

    /// Inserts `key` unless an equal key is present; returns the key's index either way.
    /// Comparisons (and, in a large set, probes past the first) are added to `steps`.
    #[inline]
    pub(crate) fn insert_counted(&mut self, key: Key, steps: &mut u64) -> usize {
        match self {
            KeyMap::Small(_) => self.insert_small(key, steps),
            KeyMap::Large(t) => t.insert_counted(key, steps),
        }
    }

    /// [`KeyMap::insert_counted`] into a small set (which becomes large past `SMALL_MAX`).
    #[inline(never)]
    fn insert_small(&mut self, key: Key, steps: &mut u64) -> usize {
        let KeyMap::Small(v) = self else {
            return self.insert_counted(key, steps);
        };
        let digest = key.digest;
        for (i, k) in v.iter().enumerate() {
            if k.digest == digest && key_eq_counted(&k.value, &key.value, steps) {
                return i;
            }
        }
        *steps += v.len() as u64 / 4;
        if v.len() < SMALL_MAX {
            v.push(key);
            return v.len() - 1;
        }
        let room = 2 * v.len();
        let mut table = KeyTable::from_distinct(std::mem::take(v), room);
        let i = table.insert_counted(key, steps);
        *self = KeyMap::Large(Box::new(table));
        i
    }

    /// This key set in its final form: a large one that ended with few keys (a batch that
    /// repeated its keys) becomes small.
    pub(crate) fn compact(self) -> KeyMap {
        match self {
            KeyMap::Large(t) if t.keys.len() <= SMALL_MAX => {
                let mut keys = t.keys;
                keys.shrink_to_fit();
                KeyMap::Small(keys)
            }
            keys => keys,
        }
    }

    /// The index of the key equal to `value` (whose digest is `digest`).
    pub(crate) fn find(&self, digest: u64, value: &Value) -> Option<usize> {
        match self {
            KeyMap::Small(v) => find_in(v, digest, value),
            KeyMap::Large(t) => t
                .probe(digest, |k| py_eq(&k.value, value))
                .0
                .ok()
                .map(|(i, _)| i),
        }
    }

    /// The first key with this digest (the caller compares).
    pub(crate) fn find_digest(&self, digest: u64) -> Option<(usize, &Key)> {
        match self {
            KeyMap::Small(v) => find_digest_in(v, digest),
            KeyMap::Large(t) => t.probe(digest, |_| true).0.ok(),
        }
    }
}

/// The index of the key of `keys` (a small key set, searched in order) equal to `value`
/// (whose digest is `digest`).
pub(crate) fn find_in(keys: &[Key], digest: u64, value: &Value) -> Option<usize> {
    keys.iter()
        .position(|k| k.digest == digest && py_eq(&k.value, value))
}

/// The first key of `keys` (a small key set) with this digest (the caller compares).
pub(crate) fn find_digest_in(keys: &[Key], digest: u64) -> Option<(usize, &Key)> {
    keys.iter().enumerate().find(|(_, k)| k.digest == digest)
}

impl IntoIterator for KeyMap {
    type Item = Key;
    type IntoIter = std::vec::IntoIter<Key>;
    fn into_iter(self) -> std::vec::IntoIter<Key> {
        match self {
            KeyMap::Small(v) => v.into_iter(),
            KeyMap::Large(t) => t.keys.into_iter(),
        }
    }
}

/// Bits of a slot that hold the top of the key's digest; the rest hold the key's index + 1
/// (0 marks an empty slot), which leaves room for 2^40 keys.
const TAG_BITS: u32 = 24;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// The fewest slots an index has.
const MIN_SLOTS: usize = 64;

/// The top bits of a digest, kept in its slot (the slot's position comes from the low bits).
#[inline]
fn tag(digest: u64) -> u64 {
    digest >> (64 - TAG_BITS)
}

/// The slot of the key at `index` with this digest.
#[inline]
fn slot(index: usize, digest: u64) -> u64 {
    ((index as u64 + 1) << TAG_BITS) | tag(digest)
}

/// The index size for `n` keys: a power of two at most three quarters full.
fn slots_for(n: usize) -> usize {
    // Far beyond any key count that fits in memory, so the power of two cannot overflow.
    let n = n.min(1 << 40);
    (n + n / 3 + 1).next_power_of_two().max(MIN_SLOTS)
}

/// The first empty slot of `digest`'s probe sequence in `slots` (no key is compared).
#[inline]
fn vacant(slots: &[u64], digest: u64) -> usize {
    let mask = slots.len().wrapping_sub(1);
    let mut pos = digest as usize & mask;
    let mut stride = 0usize;
    while let Some(&s) = slots.get(pos) {
        if s == 0 {
            break;
        }
        stride += 1;
        pos = (pos + stride) & mask;
    }
    pos
}

/// The keys of a large set in insertion order, and their hash index.
///
/// The index is open addressing over a power-of-two number of slots, probed at triangular
/// offsets (`h, h+1, h+3, h+6, …`), which visit every slot of a power-of-two table: as the
/// index is never more than three quarters full, a probe always ends at an empty slot.
#[derive(Clone)]
pub(crate) struct KeyTable {
    keys: Vec<Key>,
    slots: Vec<u64>,
}

impl KeyTable {
    /// An empty table with room for `n` keys.
    fn with_capacity(n: usize) -> KeyTable {
        KeyTable {
            keys: Vec::with_capacity(n),
            slots: vec![0; slots_for(n)],
        }
    }

    /// The table of `keys`, which are known to be distinct, with room for `room` keys in all.
    fn from_distinct(mut keys: Vec<Key>, room: usize) -> KeyTable {
        keys.reserve(room.saturating_sub(keys.len()));
        let mut t = KeyTable {
            keys,
            slots: Vec::new(),
        };
        t.rebuild(slots_for(t.keys.capacity()));
        t
    }

    /// How many keys the index holds before it must grow.
    #[inline]
    fn capacity(&self) -> usize {
        self.slots.len() / 4 * 3
    }

    /// Room for `n` more keys.
    fn reserve(&mut self, n: usize) {
        self.keys.reserve(n);
        let need = self.keys.len().saturating_add(n);
        if need > self.capacity() {
            self.rebuild(slots_for(need));
        }
    }

    /// Walks `digest`'s probe sequence: `Ok` with the first key of that digest for which
    /// `is_match` holds, or `Err` with the first empty slot; and the number of probes past the
    /// first.
    #[inline]
    fn probe(
        &self,
        digest: u64,
        mut is_match: impl FnMut(&Key) -> bool,
    ) -> (Result<(usize, &Key), usize>, u64) {
        let mask = self.slots.len().wrapping_sub(1);
        let t = tag(digest);
        let mut pos = digest as usize & mask;
        let mut stride = 0usize;
        // Ends: the index always has an empty slot, and the offsets reach every slot.
        while let Some(&s) = self.slots.get(pos) {
            if s == 0 {
                break;
            }
            if s & TAG_MASK == t {
                let i = ((s >> TAG_BITS) as usize).wrapping_sub(1);
                if let Some(k) = self.keys.get(i) {
                    if k.digest == digest && is_match(k) {
                        return (Ok((i, k)), stride as u64);
                    }
                }
            }
            stride += 1;
            pos = (pos + stride) & mask;
        }
        (Err(pos), stride as u64)
    }

    /// Inserts `key` unless an equal key is present; returns the key's index either way.
    ///
    /// Inlined into the decoder's loops: only the probe is here; comparing keys whose digests
    /// match (rare but for equal keys) and growing are calls.
    #[inline]
    fn insert_counted(&mut self, key: Key, steps: &mut u64) -> usize {
        let digest = key.digest;
        let (found, probes) = self.probe(digest, |k| key_eq_counted(&k.value, &key.value, steps));
        *steps += probes;
        let mut pos = match found {
            Ok((i, _)) => return i,
            Err(pos) => pos,
        };
        if self.keys.len() >= self.capacity() {
            pos = self.grow(digest);
        }
        let index = self.keys.len();
        if let Some(s) = self.slots.get_mut(pos) {
            *s = slot(index, digest);
        }
        self.keys.push(key);
        index
    }

    /// Doubles the index; returns the empty slot for `digest` in the new one.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, digest: u64) -> usize {
        self.rebuild(self.slots.len() * 2);
        vacant(&self.slots, digest)
    }

    /// Replaces the index by one of `n` slots (a power of two), filled from the keys in order.
    ///
    /// The old index is freed first. Keys that share a digest share a probe sequence here as
    /// they did when inserted, in a table at least as large: the work of a rebuild is at most
    /// that of the insertions, which was counted.
    fn rebuild(&mut self, n: usize) {
        self.slots = Vec::new();
        let mut slots = vec![0u64; n];
        for (i, k) in self.keys.iter().enumerate() {
            let pos = vacant(&slots, k.digest);
            if let Some(s) = slots.get_mut(pos) {
                *s = slot(i, k.digest);
            }
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::xorshift;

    fn int_key(i: i64) -> Key {
        Key::new(Value::Int(i.into())).expect("ints hash")
    }

    #[test]
    fn triangular_offsets_visit_every_slot() {
        for bits in 0..12 {
            let n = 1usize << bits;
            let mut seen = vec![false; n];
            let (mut pos, mut stride) = (5 % n, 0);
            for _ in 0..n {
                seen[pos] = true;
                stride += 1;
                pos = (pos + stride) & (n - 1);
            }
            assert!(seen.iter().all(|&s| s), "{n} slots");
        }
    }

    #[test]
    fn slots_for_keeps_a_quarter_free() {
        for n in [0, 1, 16, 17, 47, 48, 49, 1000, 1 << 20, usize::MAX] {
            let s = slots_for(n);
            assert!(s.is_power_of_two() && s >= MIN_SLOTS, "{n}");
            assert!(n.min(1 << 40) <= s / 4 * 3, "{n} keys in {s} slots");
        }
    }

    /// Inserts and finds random ints (many repeated) against a model, through every growth.
    #[test]
    fn agrees_with_a_model() {
        let mut next = xorshift(7);
        let mut map = KeyMap::default();
        let mut model: Vec<i64> = Vec::new();
        for round in 0..20_000 {
            let x = (next() % 6_000) as i64 - 3_000;
            let mut steps = 0;
            let i = map.insert_counted(int_key(x), &mut steps);
            let want = model.iter().position(|&m| m == x).unwrap_or_else(|| {
                model.push(x);
                model.len() - 1
            });
            assert_eq!(i, want, "round {round}: {x}");
            if round % 97 == 0 {
                map.reserve((next() % 300) as usize);
            }
        }
        assert!(matches!(map, KeyMap::Large(_)));
        assert_eq!(map.len(), model.len());
        for (i, (k, &m)) in map.iter().zip(&model).enumerate() {
            assert!(py_eq(&k.value, &Value::Int(m.into())), "order at {i}");
            let probe = int_key(m);
            assert_eq!(map.find(probe.digest, &probe.value), Some(i));
            assert_eq!(map.find_digest(probe.digest).map(|(j, _)| j), Some(i));
        }
        for absent in [3_000i64, -3_001, 1 << 40] {
            let probe = int_key(absent);
            assert_eq!(map.find(probe.digest, &probe.value), None);
        }
        // A clone is a separate table with the same keys.
        let mut copy = map.clone();
        let mut steps = 0;
        assert_eq!(
            copy.insert_counted(int_key(99_999), &mut steps),
            model.len()
        );
        assert_eq!(map.len(), model.len());
        let keys: Vec<Key> = map.into_iter().collect();
        assert_eq!(keys.len(), model.len());
    }

    /// Keys whose digests are equal and which never compare equal (NaN) stay distinct, and
    /// every one of them costs work in proportion to those before it.
    #[test]
    fn equal_digests_are_counted() {
        let mut map = new_key_set(100);
        let mut steps = 0;
        for i in 0..2_000 {
            let k = Key::new(Value::Float(f64::NAN)).expect("floats hash");
            assert_eq!(map.insert_counted(k, &mut steps), i);
        }
        assert_eq!(map.len(), 2_000);
        // Each NaN is compared with (and probes past) every one before it.
        assert!(steps >= 2_000 * 1_999 / 2, "{steps}");
        // Ints inserted among them are still found.
        for i in 0..1_000 {
            map.insert_counted(int_key(i), &mut steps);
        }
        let probe = int_key(777);
        assert_eq!(map.find(probe.digest, &probe.value), Some(2_777));
    }

    /// A batch too large for a small set makes the table at once; if its keys repeat, the set
    /// ends small again.
    #[test]
    fn a_large_batch_of_few_keys_ends_small() {
        let mut map = new_key_set(3);
        let mut steps = 0;
        map.insert_counted(int_key(-1), &mut steps);
        map.reserve(1_000);
        let KeyMap::Large(t) = &map else {
            panic!("a batch of 1,000 makes the table")
        };
        assert!(t.capacity() >= 1_001 && t.keys.capacity() >= 1_001);
        for i in 0..1_000 {
            assert_eq!(
                map.insert_counted(int_key(i % 3), &mut steps),
                1 + (i % 3) as usize
            );
        }
        let map = map.compact();
        let KeyMap::Small(keys) = &map else {
            panic!("four keys end small")
        };
        assert_eq!(keys.len(), 4);
        assert!(keys.capacity() <= SMALL_MAX);
    }

    #[test]
    fn python_equal_keys_are_one_key() {
        let mut map = new_key_set(40);
        let mut steps = 0;
        for i in 0..40 {
            map.insert_counted(int_key(i), &mut steps);
        }
        let one_float = Key::new(Value::Float(1.0)).expect("floats hash");
        let true_ = Key::new(Value::Bool(true)).expect("bools hash");
        assert_eq!(map.insert_counted(one_float, &mut steps), 1);
        assert_eq!(map.insert_counted(true_, &mut steps), 1);
        assert_eq!(map.len(), 40);
    }
}
