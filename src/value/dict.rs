//! [`Dict`]: Python's `dict`, insertion-ordered, with Python's key equality.
//!
//! Most dicts in real pickles are small records, so a dict of up to
//! [`SMALL_MAX`] items is one allocation of its values beside a
//! reference to its key table, searched by digest. Records written by one program repeat the
//! same keys in the same order, so the decoder lets dicts whose keys are the same (type-exact,
//! equal, in the same order) share one key table: 200,000 records of 14 keys hold 14 keys, not
//! 2.8 million. Larger dicts keep their keys in a key table with a hash index
//! ([`KeyMap`]), with the values beside them in the same order.

use std::sync::Arc;

use super::Value;
use super::key::{self, Key, digest_key};
use super::keymap::{KeyMap, SMALL_MAX, new_key_set};
use crate::pystr::PyStr;

/// A `dict`: insertion-ordered, with Python's key equality (`1`, `1.0` and `True` are one key;
/// the first key object is kept and the last value wins).
#[derive(Clone)]
pub struct Dict(pub(crate) DictRepr);

/// How a [`Dict`] is stored.
#[derive(Clone)]
pub(crate) enum DictRepr {
    /// At most `SMALL_MAX` items: a key table (perhaps shared) and the values.
    Small(Arc<SmallDict>),
    /// More: the keys with their hash index, and the values in the same order.
    Large(Arc<LargeDict>),
}

impl DictRepr {
    /// Whether this reference alone keeps the dict alive (no weak reference is ever made).
    pub(crate) fn is_unique(&self) -> bool {
        match self {
            DictRepr::Small(e) => Arc::strong_count(e) == 1,
            DictRepr::Large(d) => Arc::strong_count(d) == 1,
        }
    }
}

/// The items of a small dict: the keys (a table that dicts with the same keys share) and the
/// values in the same order, in the dict's own allocation.
pub(crate) struct SmallDict<V: ?Sized = [Value]> {
    pub(crate) keys: Arc<[Key]>,
    pub(crate) values: V,
}

/// Builds a [`SmallDict`] of `N` values (an array, unsized into the shared slice).
#[inline(always)]
fn small_of<const N: usize, I: Iterator<Item = Value>>(
    keys: Arc<[Key]>,
    values: &mut I,
) -> Arc<SmallDict> {
    // Allocated first and filled in place: the values move from the iterator straight into
    // the dict's memory (an array built first would be copied once more).
    let mut dict: Arc<SmallDict> = Arc::new(SmallDict {
        keys,
        values: [const { Value::None }; N],
    });
    if let Some(d) = Arc::get_mut(&mut dict) {
        for slot in d.values.iter_mut() {
            if let Some(v) = values.next() {
                slot.fill(v);
            }
        }
    }
    dict
}

impl SmallDict {
    /// The dict with the key table `keys` and as many values, taken from `values` (`None`
    /// where it runs short); the keys back, and no value taken, if there are more than
    /// `SMALL_MAX` of them.
    #[inline]
    pub(crate) fn build<I: Iterator<Item = Value>>(
        keys: Arc<[Key]>,
        values: &mut I,
    ) -> Result<Arc<SmallDict>, Arc<[Key]>> {
        const _: () = assert!(SMALL_MAX == 16);
        Ok(match keys.len() {
            0 => small_of::<0, I>(keys, values),
            1 => small_of::<1, I>(keys, values),
            2 => small_of::<2, I>(keys, values),
            3 => small_of::<3, I>(keys, values),
            4 => small_of::<4, I>(keys, values),
            5 => small_of::<5, I>(keys, values),
            6 => small_of::<6, I>(keys, values),
            7 => small_of::<7, I>(keys, values),
            8 => small_of::<8, I>(keys, values),
            9 => small_of::<9, I>(keys, values),
            10 => small_of::<10, I>(keys, values),
            11 => small_of::<11, I>(keys, values),
            12 => small_of::<12, I>(keys, values),
            13 => small_of::<13, I>(keys, values),
            14 => small_of::<14, I>(keys, values),
            15 => small_of::<15, I>(keys, values),
            16 => small_of::<16, I>(keys, values),
            _ => return Err(keys),
        })
    }

    /// The `(key, value)` pairs in order.
    pub(crate) fn pairs(
        &self,
    ) -> std::iter::Zip<std::slice::Iter<'_, Key>, std::slice::Iter<'_, Value>> {
        self.keys.iter().zip(self.values.iter())
    }
}

thread_local! {
    /// This thread's empty key table, shared by the empty dicts made on it (each dict is still
    /// an object of its own: only the table, which holds nothing, is shared, as a record's
    /// key table is).
    static EMPTY_KEYS: Arc<[Key]> = Arc::from([]);
}

/// An empty key table: this thread's, with no allocation (a new one while the thread exits).
fn empty_key_table() -> Arc<[Key]> {
    EMPTY_KEYS
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::from([]))
}

/// The items of a large dict.
pub(crate) struct LargeDict {
    pub(crate) keys: KeyMap,
    pub(crate) values: Vec<Value>,
}

impl Dict {
    /// The dict with `keys` (deduplicated, in order) and their `values` (same length).
    pub(crate) fn from_parts(keys: KeyMap, values: Vec<Value>) -> Dict {
        match keys.compact() {
            KeyMap::Small(keys) if keys.len() <= SMALL_MAX => {
                let keys: Arc<[Key]> = if keys.is_empty() {
                    empty_key_table()
                } else {
                    keys.into()
                };
                let mut values = values.into_iter();
                match SmallDict::build(keys, &mut values) {
                    Ok(d) => Dict(DictRepr::Small(d)),
                    Err(keys) => Dict(DictRepr::Large(Arc::new(LargeDict {
                        keys: KeyMap::Small(keys.to_vec()),
                        values: values.collect(),
                    }))),
                }
            }
            keys => Dict(DictRepr::Large(Arc::new(LargeDict { keys, values }))),
        }
    }

    /// Builds a dict from pairs, with Python's semantics for equal keys.
    ///
    /// # Errors
    /// `unhashable type: 'list'` (and the like) if a key is a list, dict, set or bytearray, or a
    /// tuple holding one.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Value, Value)>) -> crate::Result<Dict> {
        let mut keys = new_key_set(0);
        let mut values = Vec::new();
        for (k, v) in pairs {
            let key = Key::new(k)?;
            let mut steps = 0;
            let i = keys.insert_counted(key, &mut steps);
            match values.get_mut(i) {
                Some(slot) => *slot = v,
                None => values.push(v),
            }
        }
        Ok(Dict::from_parts(keys, values))
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        match &self.0 {
            DictRepr::Small(d) => d.values.len(),
            DictRepr::Large(d) => d.values.len(),
        }
    }

    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value for `key` (Python's `d.get(key)`), using Python key equality.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        let digest = digest_key(key).ok()?;
        match &self.0 {
            DictRepr::Small(d) => d
                .pairs()
                .find(|(k, _)| k.digest == digest && key::py_eq(&k.value, key))
                .map(|(_, v)| v),
            DictRepr::Large(d) => d.values.get(d.keys.find(digest, key)?),
        }
    }

    /// The value for a `str` key.
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        let probe = Value::Str(PyStr::from(key));
        self.get(&probe)
    }

    /// The `(key, value)` pairs in insertion order.
    pub fn iter(&self) -> DictIter<'_> {
        DictIter(self.key_values())
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.iter().map(|(k, _)| k)
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    /// Whether `self` and `other` are the same shared object.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.addr() == other.addr()
    }

    /// The keys with their digests, in insertion order.
    pub(crate) fn key_entries(&self) -> impl Iterator<Item = &Key> {
        self.key_values().map(|(k, _)| k)
    }

    /// The `(key with digest, value)` pairs in insertion order.
    pub(crate) fn key_values(&self) -> KeyValues<'_> {
        match &self.0 {
            DictRepr::Small(d) => KeyValues::Small(d.pairs()),
            DictRepr::Large(d) => KeyValues::Large(d.keys.iter(), d.values.iter()),
        }
    }

    /// The first item whose key has this digest (the caller compares the keys).
    pub(crate) fn find_digest(&self, digest: u64) -> Option<(&Key, &Value)> {
        match &self.0 {
            DictRepr::Small(d) => d.pairs().find(|(k, _)| k.digest == digest),
            DictRepr::Large(d) => {
                let (i, k) = d.keys.find_digest(digest)?;
                Some((k, d.values.get(i)?))
            }
        }
    }

    /// The address of the shared allocation (the dict's identity).
    pub(crate) fn addr(&self) -> usize {
        match &self.0 {
            DictRepr::Small(d) => Arc::as_ptr(d) as *const u8 as usize,
            DictRepr::Large(d) => Arc::as_ptr(d) as usize,
        }
    }

    /// Whether this reference alone keeps the dict alive.
    pub(crate) fn is_unique(&self) -> bool {
        self.0.is_unique()
    }
}

/// Iterator over the `(key, value)` pairs of a [`Dict`].
pub struct DictIter<'a>(KeyValues<'a>);

impl<'a> Iterator for DictIter<'a> {
    type Item = (&'a Value, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&k.value, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for DictIter<'_> {}

impl<'a> IntoIterator for &'a Dict {
    type Item = (&'a Value, &'a Value);
    type IntoIter = DictIter<'a>;
    fn into_iter(self) -> DictIter<'a> {
        self.iter()
    }
}

/// Iterator over the `(key with digest, value)` pairs of a [`Dict`].
pub(crate) enum KeyValues<'a> {
    Small(std::iter::Zip<std::slice::Iter<'a, Key>, std::slice::Iter<'a, Value>>),
    Large(std::slice::Iter<'a, Key>, std::slice::Iter<'a, Value>),
}

impl<'a> Iterator for KeyValues<'a> {
    type Item = (&'a Key, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            KeyValues::Small(it) => it.next(),
            KeyValues::Large(k, v) => Some((k.next()?, v.next()?)),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            KeyValues::Small(it) => it.size_hint(),
            KeyValues::Large(_, v) => v.size_hint(),
        }
    }
}
