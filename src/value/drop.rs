//! Iterative `Drop` for containers: dropping a 10^6-deep value never recurses.
//!
//! When the last reference to a container goes, its children that are themselves uniquely owned
//! containers are moved onto a heap-allocated work list instead of being dropped in place; the
//! loop then empties each of them the same way, and drops it without a second look at its
//! children (see `TAKEN`). Shared children (other `Arc`s still alive) are just released in
//! place. (Should another thread drop the last other reference at the same moment, that
//! child's own `Drop` empties it with its own work list: still no recursion on the value's
//! depth.)

use std::cell::Cell;
use std::mem;
use std::sync::Arc;

use super::{Dict, List, Object, Set, Tuple, Value};

/// Moves the container children of `v` (if `v` is the last owner) onto `out`.
fn take_children(v: &mut Value, out: &mut Vec<Value>) {
    match v {
        Value::List(l) => take_slice(&mut l.0, out),
        Value::Tuple(t) => take_slice(&mut t.0, out),
        Value::Dict(d) => take_dict(&mut d.0, out),
        Value::Set(s) | Value::FrozenSet(s) => take_set(&mut s.0, out),
        Value::Object(o) => take_object(&mut o.0, out),
        _ => {}
    }
}

fn take_slice(items: &mut super::Seq, out: &mut Vec<Value>) {
    match items {
        super::Seq::Slice(s) => {
            if let Some(items) = unique_mut(s) {
                take_unique(items, out);
            }
        }
        super::Seq::Vec(v) => {
            let Some(v) = unique_mut(v) else {
                return;
            };
            // Each item is sorted by one look at its kind: a unique container goes onto the
            // work list, anything else that owns memory is released where it lies, and the
            // vector, left holding only items that own nothing, is forgotten.
            for item in v.iter_mut() {
                match fate(item) {
                    Fate::Plain => {}
                    Fate::Take => out.push(mem::take(item)),
                    Fate::Release => *item = Value::None,
                }
            }
            mem::take(v).into_iter().for_each(mem::forget);
        }
    }
}

/// Moves the containers among `items` that this reference alone keeps alive onto `out`.
fn take_unique(items: &mut [Value], out: &mut Vec<Value>) {
    for item in items.iter_mut() {
        if is_last_owner(item) {
            out.push(mem::take(item));
        }
    }
}

/// What the drop of a unique container does with one of its items.
enum Fate {
    /// Nothing to free (a number, a short str, `None`).
    Plain,
    /// A container this reference alone keeps alive: onto the work list.
    Take,
    /// Released where it lies: a shared container, or a leaf with an allocation.
    Release,
}

/// The [`Fate`] of `v`, from one look at its kind.
#[inline]
fn fate(v: &Value) -> Fate {
    let last = match v {
        Value::None | Value::Bool(_) | Value::Float(_) | Value::Complex(_) => return Fate::Plain,
        Value::Int(i) if i.big_addr().is_none() => return Fate::Plain,
        Value::Str(s) if s.inline_parts().is_some() => return Fate::Plain,
        Value::List(l) => l.0.is_unique(),
        Value::Tuple(t) => t.0.is_unique(),
        Value::Dict(d) => d.is_unique(),
        Value::Set(s) | Value::FrozenSet(s) => s.0.is_unique(),
        Value::Object(o) => Arc::strong_count(&o.0) == 1,
        _ => false,
    };
    if last { Fate::Take } else { Fate::Release }
}

/// Whether `v` is a container this reference alone keeps alive (so dropping it here would
/// drop its children too). Shared containers are just released: their contents stay alive.
#[inline]
fn is_last_owner(v: &Value) -> bool {
    matches!(fate(v), Fate::Take)
}

fn take_dict(d: &mut super::DictRepr, out: &mut Vec<Value>) {
    match d {
        super::DictRepr::Small(d) => {
            if let Some(d) = Arc::get_mut(d) {
                for v in d.values.iter_mut() {
                    if is_last_owner(v) {
                        out.push(mem::take(v));
                    }
                }
                // A shared key table goes with the last dict that uses it. (A plain load first:
                // most tables are shared, and `Arc::get_mut` is an atomic compare-and-swap.)
                if let Some(keys) = unique_mut(&mut d.keys) {
                    for k in keys.iter_mut() {
                        if is_last_owner(&k.value) {
                            out.push(mem::take(&mut k.value));
                        }
                    }
                }
            }
        }
        super::DictRepr::Large(d) => {
            if let Some(d) = Arc::get_mut(d) {
                for v in d.values.iter_mut() {
                    if is_last_owner(v) {
                        out.push(mem::take(v));
                    }
                }
                if d.keys.iter().any(|k| is_last_owner(&k.value)) {
                    for k in mem::take(&mut d.keys) {
                        if is_last_owner(&k.value) {
                            out.push(k.value);
                        }
                    }
                }
            }
        }
    }
}

/// `Arc::get_mut`, after a plain load that rules out most shared values without the atomic
/// compare-and-swap `Arc::get_mut` makes.
#[inline]
fn unique_mut<T: ?Sized>(a: &mut Arc<T>) -> Option<&mut T> {
    if Arc::strong_count(a) != 1 {
        return None;
    }
    Arc::get_mut(a)
}

/// Whether this is the only strong reference (a weak one cannot exist: none is ever made).
trait Unique {
    fn unique(&self) -> bool;
}

impl<T: ?Sized> Unique for Arc<T> {
    fn unique(&self) -> bool {
        Arc::strong_count(self) == 1
    }
}

impl Unique for super::Seq {
    fn unique(&self) -> bool {
        self.is_unique()
    }
}

impl Unique for super::DictRepr {
    fn unique(&self) -> bool {
        self.is_unique()
    }
}

impl Unique for super::SetRepr {
    fn unique(&self) -> bool {
        self.is_unique()
    }
}

fn take_set(s: &mut super::SetRepr, out: &mut Vec<Value>) {
    match s {
        super::SetRepr::Slice(keys) => {
            if let Some(keys) = unique_mut(keys) {
                for k in keys.iter_mut() {
                    if is_last_owner(&k.value) {
                        out.push(mem::take(&mut k.value));
                    }
                }
            }
        }
        super::SetRepr::Map(m) => {
            if let Some(m) = Arc::get_mut(m) {
                if m.iter().any(|k| is_last_owner(&k.value)) {
                    for k in mem::take(m) {
                        if is_last_owner(&k.value) {
                            out.push(k.value);
                        }
                    }
                }
            }
        }
    }
}

fn take_object(o: &mut Arc<super::ObjectInner>, out: &mut Vec<Value>) {
    if let Some(o) = Arc::get_mut(o) {
        out.push(mem::take(&mut o.callable));
        out.push(mem::take(&mut o.args));
        out.extend(o.kwargs.take());
        out.extend(o.state.take());
        out.append(&mut o.list_items);
        for (k, v) in o.dict_items.drain(..) {
            out.push(k);
            out.push(v);
        }
    }
}

/// Drains the work list: each value's children go on the list before the value itself drops
/// (shallowly, its containers now empty).
fn drain(work: &mut Vec<Value>) {
    while let Some(mut v) = work.pop() {
        take_children(&mut v, work);
        // Its unique children are taken: its `Drop`, the next to run on this thread, need not
        // look for them again. (Everything on the work list is a container this list alone
        // owns, so that `Drop` gets past its own uniqueness check and clears the flag.)
        if is_last_owner(&v) {
            let _ = TAKEN.try_with(|t| t.set(true));
        }
        drop(v);
    }
}

thread_local! {
    /// Set by [`drain`] just before it drops a container it alone owns and whose uniquely
    /// owned children it has already taken; that container's `Drop` (one of the iterative
    /// ones below, which runs before anything inside the container is dropped, and finds it
    /// unique) clears it and skips its own pass over the children. Any other container's
    /// `Drop` finds it clear, so each still empties itself iteratively: a child that became
    /// unique since (its other owner gone on another thread) is dropped with its own work
    /// list, as before.
    static TAKEN: Cell<bool> = const { Cell::new(false) };

    /// An empty work list kept between drops (most drops of a value holding containers would
    /// otherwise allocate one and grow it a few times), while its capacity is at most
    /// [`SPARE_MAX`]. A `Drop` running inside another finds it taken and makes its own.
    static SPARE: Cell<Vec<Value>> = const { Cell::new(Vec::new()) };
}

/// The largest work list kept for the next drop (in values: 6 KiB).
const SPARE_MAX: usize = 256;

/// The `Drop` of a container this reference alone keeps alive: its uniquely owned children
/// go through a work list (nothing, if [`drain`] has just taken them).
#[inline(never)]
fn empty_unique<T: ?Sized, F: FnOnce(&mut T, &mut Vec<Value>)>(inner: &mut T, take: F) {
    if TAKEN.try_with(|t| t.replace(false)).unwrap_or(false) {
        return;
    }
    let mut work = SPARE.try_with(Cell::take).unwrap_or_default();
    take(inner, &mut work);
    if !work.is_empty() {
        drain(&mut work);
    }
    if work.capacity() <= SPARE_MAX {
        // (Empty: `drain` ran it to the end. Whatever a nested drop left there is an empty
        // list too.)
        let _ = SPARE.try_with(|s| s.set(work));
    }
}

macro_rules! iterative_drop {
    ($t:ident, $take:ident) => {
        impl Drop for $t {
            #[inline]
            fn drop(&mut self) {
                // Another reference keeps the contents alive: just release this one (a plain
                // load here spares the compare-and-swap of `Arc::get_mut` on every shared
                // reference, and the call below).
                if self.0.unique() {
                    empty_unique(&mut self.0, $take);
                }
            }
        }
    };
}

iterative_drop!(List, take_slice);
iterative_drop!(Tuple, take_slice);
iterative_drop!(Dict, take_dict);
iterative_drop!(Set, take_set);
iterative_drop!(Object, take_object);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{SPARE, SPARE_MAX, TAKEN};
    use crate::value::{Complex, Dict, List, Seq, Set, Value};

    fn skip_flag() -> bool {
        TAKEN.with(|t| t.get())
    }

    /// A list nested `n` deep.
    fn deep(n: usize) -> Value {
        let mut v = Value::from(vec![Value::from(1i64)]);
        for _ in 0..n {
            v = Value::from(vec![v]);
        }
        v
    }

    /// A list grown batch by batch (its items in a vector), as the decoder makes long lists.
    fn grown(items: Vec<Value>) -> Value {
        Value::List(List(Seq::from_grown(items)))
    }

    /// How many holders share the allocation of `v`, if it has one.
    fn refs(v: &Value) -> Option<usize> {
        match v {
            Value::Int(i) => i.alloc_refs(),
            Value::Str(s) => s.alloc_refs(),
            Value::Bytes(b) => Some(b.alloc_refs()),
            Value::List(List(seq)) => Some(match seq {
                Seq::Slice(s) => Arc::strong_count(s),
                Seq::Vec(v) => Arc::strong_count(v),
            }),
            _ => None,
        }
    }

    /// The drop of a grown list forgets the items that own nothing and nothing else: every
    /// allocation its other items share (strs of each kind, pooled ones included, wide and big
    /// ints, bytes, shared lists of both kinds) is released exactly once, whether most items
    /// own nothing, none do or most own something, and when one item alone owns something; and a
    /// 10^5-deep chain of grown lists inside it still goes through the work list (a 256 KiB
    /// stack).
    #[test]
    fn grown_lists_release_what_they_share_and_forget_only_plain_items() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                // Strs as the decoder makes them: pooled (long ones side by side), with
                // non-ASCII text, with a surrogate (protocol 4, `SHORT_BINUNICODE` each, in a
                // list long enough for the full machine: the lean path pools nothing).
                let mut p = vec![0x80, 4, b']', b'('];
                for text in [
                    "a first str long enough to share a block".as_bytes(),
                    "a second str long enough to share a block".as_bytes(),
                    "\u{e9}t\u{e9} \u{e0} la plage, \u{e0} l'ombre des pins".as_bytes(),
                    b"\xed\xa0\x80 a lone surrogate and more text",
                ] {
                    p.extend([0x8c, text.len() as u8]);
                    p.extend(text);
                }
                for _ in 0..3000 {
                    p.extend(b"K\x07");
                }
                p.extend(b"e.");
                let decoded = crate::restricted_loads(&p).expect("decodes");
                let items = decoded.as_slice().expect("a list");
                let mut owners: Vec<Value> = items.get(..4).expect("4 strs").to_vec();
                assert!(matches!(&owners[0], Value::Str(s) if s.is_pooled()));
                owners.extend([
                    Value::from("a str of its own, too long to be inline"),
                    Value::from(crate::value::Int::from(u128::from(u64::MAX))),
                    Value::from(crate::value::Int::from(u128::MAX)),
                    Value::from(num_bigint::BigInt::from(7u8).pow(100)),
                    Value::bytes(b"some bytes"),
                    Value::from(vec![Value::from(1i64), Value::from("x")]),
                    grown(vec![Value::from(2i64); 3]),
                ]);
                let before: Vec<Option<usize>> = owners.iter().map(refs).collect();
                assert!(before.iter().all(Option::is_some));
                let plain = |i: usize| match i % 6 {
                    0 => Value::None,
                    1 => Value::from(i % 2 == 0),
                    2 => Value::from(i as i64),
                    3 => Value::from(i as f64),
                    4 => Value::from(Complex {
                        re: 1.0,
                        im: i as f64,
                    }),
                    _ => Value::from("short"),
                };
                let chain = || {
                    let mut v = grown(vec![Value::from(1i64)]);
                    for i in 0..100_000 {
                        v = grown(vec![v, plain(i)]);
                    }
                    v
                };
                // Plain items per owner (and a unique list holding it): none, 3, and a list
                // with no owner at all.
                for per_owner in [0, 3, usize::MAX] {
                    let mut items = Vec::new();
                    if per_owner == usize::MAX {
                        items.extend((0..50).map(plain));
                    } else {
                        for o in &owners {
                            items.push(o.clone());
                            // A unique container holding another reference: forgotten
                            // instead of emptied, it would keep the owner's count up.
                            items.push(Value::from(vec![o.clone()]));
                            items.extend((0..per_owner).map(plain));
                        }
                    }
                    items.push(chain());
                    let list = grown(items);
                    let held: Vec<Option<usize>> = owners.iter().map(refs).collect();
                    if per_owner != usize::MAX {
                        // (The decoded strs may share blocks: counted from the others.)
                        let up: Vec<Option<usize>> =
                            before.iter().map(|r| r.map(|n| n + 2)).collect();
                        assert_eq!(held[4..], up[4..], "{per_owner}");
                    }
                    drop(list);
                    assert!(!skip_flag());
                    let after: Vec<Option<usize>> = owners.iter().map(refs).collect();
                    assert_eq!(after, before, "{per_owner} plain items per owner");
                }
                // One owner among plain items: it alone decides that the vector cannot be
                // forgotten at once.
                for (i, o) in owners.iter().enumerate() {
                    let mut items: Vec<Value> = (0..20).map(plain).collect();
                    items.insert(7, o.clone());
                    drop(grown(items));
                    assert_eq!(refs(o), before[i], "owner {i} alone");
                }
            })
            .expect("spawn")
            .join()
            .expect("no overflow");
    }

    /// The work list kept between drops is empty, and kept only while small: a drop that
    /// needed a long one leaves none that size behind (nor does a drop inside a drop).
    #[test]
    fn the_spare_work_list_is_kept_empty_and_small() {
        let spare = || {
            SPARE.with(|s| {
                let v = s.take();
                let shape = (v.len(), v.capacity());
                s.set(v);
                shape
            })
        };
        let lists = |n: usize| {
            Value::from(
                (0..n)
                    .map(|i| Value::from(vec![Value::from(i as i64)]))
                    .collect::<Vec<_>>(),
            )
        };
        drop(lists(10));
        let (len, cap) = spare();
        assert_eq!(len, 0);
        assert!((10..=SPARE_MAX).contains(&cap), "capacity {cap}");
        drop(lists(10 * SPARE_MAX));
        let (len, long) = spare();
        assert_eq!(len, 0);
        assert!(long <= SPARE_MAX, "capacity {long} kept after a long drop");
        // A long work list needed inside a short one.
        let inner = Value::from(vec![lists(3), lists(SPARE_MAX + 1)]);
        drop(Value::from(vec![inner, lists(2)]));
        let (len, cap) = spare();
        assert_eq!(len, 0);
        assert!(cap <= SPARE_MAX, "capacity {cap}");
    }

    /// Containers of every kind, nested, some children shared with a value kept alive: each
    /// drop leaves the flag clear and the shared children whole, and a shared child later
    /// dropped on its own (10^5 deep, in a small stack) still empties itself iteratively.
    #[test]
    fn drops_leave_no_skip_flag_and_shared_children_whole() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let kept = deep(100_000);
                let leaf = Value::from(vec![Value::from("a str too long to be stored inline")]);
                let dict = |v: Value| {
                    Value::from(
                        Dict::from_pairs([
                            (Value::from("k"), v),
                            (Value::from(1i64), leaf.clone()),
                        ])
                        .expect("hashable"),
                    )
                };
                let set = Value::from(
                    Set::from_values([Value::from("x"), Value::tuple(vec![Value::from(2i64)])])
                        .expect("hashable"),
                );
                let v = Value::from(vec![
                    dict(kept.clone()),
                    Value::tuple(vec![dict(Value::from(vec![kept.clone(), set.clone()]))]),
                    set,
                    deep(1_000),
                    leaf.clone(),
                ]);
                drop(v);
                assert!(!skip_flag());
                assert_eq!(leaf.to_string(), "['a str too long to be stored inline']");
                let mut depth = 0;
                let mut cur = &kept;
                while let Some(x) = cur.as_slice().and_then(<[Value]>::first) {
                    cur = x;
                    depth += 1;
                }
                assert_eq!(depth, 100_001);
                drop(kept);
                assert!(!skip_flag());
            })
            .expect("spawn")
            .join()
            .expect("no overflow");
    }
}
