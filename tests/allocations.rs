//! How many allocations a decode and a drop make, counted by a global allocator that counts the
//! calls made on each thread. Speed is measured by the benches; these counts are part of its
//! design, and a test holds them: each value allocated once, at its final size where its size
//! is known; nothing allocated only to be freed before the decode returns; no drop that
//! allocates, but for the work list of one with more containers than fit the list it keeps.
//!
//! The pickles are CPython's (`python3` writes them), as its `pickle.dumps` writes them.
//!
//! The counting allocator is the one `unsafe` block of the repository, and it is a test's: it
//! hands every call to the system allocator unchanged. The crate itself is
//! `#![forbid(unsafe_code)]`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hash::{Hash, Hasher};

use restricted_unpickler::{Value, restricted_loads};

/// Counts the allocations and reallocations made on the calling thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static REALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call goes to the system allocator unchanged; the counters are const-initialised
// thread-locals, so counting allocates nothing (and `try_with` never panics).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = REALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What `f` returns, and the allocations and reallocations it made on this thread.
fn count<T>(f: impl FnOnce() -> T) -> (T, Calls) {
    let before = (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get));
    let out = f();
    let calls = Calls {
        allocs: ALLOCS.with(Cell::get) - before.0,
        reallocs: REALLOCS.with(Cell::get) - before.1,
    };
    (out, calls)
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Calls {
    allocs: usize,
    reallocs: usize,
}

/// No call at all.
const NONE: Calls = Calls {
    allocs: 0,
    reallocs: 0,
};

/// The calls of decoding `data` and of dropping the result, after a first decode and drop (which
/// may set up what a thread keeps between calls).
fn decode_and_drop(data: &[u8]) -> (Calls, Calls) {
    drop(restricted_loads(data).expect("decodes"));
    let (v, decode) = count(|| restricted_loads(data).expect("decodes"));
    let ((), dropped) = count(|| drop(v));
    (decode, dropped)
}

/// The pickle CPython writes of the Python expression `expr` at `protocol`.
fn pickle(expr: &str, protocol: u8) -> Vec<u8> {
    let code = format!("import pickle; print(pickle.dumps({expr}, {protocol}).hex())");
    common::unhex(common::python3(&["-c", &code]).trim())
}

/// The anchors' `misc` payload at protocol 5 (sets, a frozenset of tuples, a bytearray, tuple
/// and big-int keys, big ints, special floats, empty containers).
const MISC: &str = "{'set': {1, 2, 3, 65536, -7}, 'frozenset': frozenset({(1, 2), (3, 4)}), \
    'empty_set': set(), 'bytearray': bytearray(b'\\x00\\x01\\xffabc'), 'bytes': b'\\x00\\xff' * 8, \
    'tuple_key': {(1, 'a'): 't', (2, 'b'): 'u'}, 'int_keys': {1: 'one', -2: 'minus two', 2**70: 'big'}, \
    'bigints': [2**64, -2**64, 2**200 + 1, -(2**63), 2**63 - 1], \
    'specials': [float('inf'), float('-inf'), float('nan'), -0.0], \
    'empties': [[], (), {}, '', b''], 'bools': [True, False, None], \
    'unicode': '\\u0000\\u00e9\\u4e2d\\U0001F600\\ud7ff'}";

/// `misc` is 26 allocations, each a value's own and of its final size: the set and the
/// frozenset (one block each: 2), the frozenset's two tuples and the two tuple keys (4), the
/// bytearray and the bytes (2), the two small dicts (each its key table and its values: 4),
/// four ints wider than a machine word (5: one is beyond 128 bits), four lists (4), the empty
/// list, dict, bytes and set (4: the empty tuple is the thread's `()`, the empty dict's key
/// table the thread's empty one), and the outer dict's values (its key table is the one the
/// previous decode on this thread made, for the same 12 keys). The digests of the tuples
/// allocate nothing, nor does the drop.
#[test]
fn misc_allocates_each_value_once_and_its_drop_nothing() {
    let (decode, dropped) = decode_and_drop(&pickle(MISC, 5));
    assert_eq!(
        decode,
        Calls {
            allocs: 26,
            reallocs: 0
        }
    );
    assert_eq!(dropped, NONE);
}

/// At protocol 2 `misc` takes the full machine, and calls: its sets are `set([...])` calls and
/// its bytes `_codecs.encode(str, 'latin1')` calls, which CPython runs and we evaluate (the
/// builtins the default policy allows). Those cost allocations of their own (a global for each
/// of the five `GLOBAL`s, each call's argument tuple and the list it takes, the str encoded),
/// as they do in CPython; reading a `GLOBAL`'s lines allocates nothing (buffers kept for them).
/// The drop still allocates nothing.
#[test]
fn misc_at_protocol_2_allocates_for_its_calls() {
    let (decode, dropped) = decode_and_drop(&pickle(MISC, 2));
    assert!(decode.allocs <= 60, "{decode:?}");
    assert_eq!(decode.reallocs, 0, "{decode:?}");
    assert_eq!(dropped, NONE);
}

/// The digest of a tuple of scalars (a dict key, a set member) allocates nothing.
#[test]
fn hashing_a_flat_tuple_allocates_nothing() {
    let t = Value::tuple(vec![
        Value::from(1i64),
        Value::from("a"),
        Value::from(2.5),
        Value::from(u64::MAX),
    ]);
    let (_, calls) = count(|| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    });
    assert_eq!(calls, NONE);
}

/// Records (dicts with the same five keys, each with a list of two tags): two allocations a
/// record (its values, its tags), one key table for all, and a few more for the outer list and
/// the machine's own tables; the outer list grows by its batches (a realloc each, at most).
/// Their drop allocates at most one work list (for more containers than the kept list holds)
/// and grows it.
#[test]
fn records_allocate_two_per_record() {
    for protocol in [2, 5] {
        for n in [3usize, 1000] {
            let expr = format!(
                "[{{'id': i, 'name': 'user%d' % i, 'score': i * 1.5, 'tags': ['a', 'b'], \
                 'active': i % 2 == 0}} for i in range({n})]"
            );
            let (decode, dropped) = decode_and_drop(&pickle(&expr, protocol));
            let at = format!("{n} records at protocol {protocol}: {decode:?} {dropped:?}");
            assert!(decode.allocs <= 2 * n + 12, "{at}");
            assert!(decode.reallocs <= 2 * n.div_ceil(1000) + 24, "{at}");
            assert!(dropped.allocs <= usize::from(n > 100), "{at}");
            assert!(dropped.reallocs <= 12, "{at}");
        }
    }
}

/// A list of 100,000 ints is one vector, grown batch by batch (CPython writes 1,000 items an
/// `APPENDS`): a few allocations in all, and fewer reallocations than doubling from empty
/// would make (17), as each batch's size is known before it is added.
#[test]
fn a_long_list_of_ints_is_one_vector() {
    let (decode, dropped) = decode_and_drop(&pickle("list(range(100_000))", 5));
    assert!(decode.allocs <= 4, "{decode:?}");
    assert!(decode.reallocs <= 8, "{decode:?}");
    assert_eq!(dropped, NONE);
}

/// 10,000 strs too long to be kept inline share blocks: about one allocation per hundred.
#[test]
fn strs_share_blocks() {
    let (decode, dropped) = decode_and_drop(&pickle(
        "['some string number %d' % i for i in range(10_000)]",
        5,
    ));
    assert!(decode.allocs <= 10_000 / 80, "{decode:?}");
    assert!(decode.reallocs <= 8, "{decode:?}");
    assert_eq!(dropped, NONE);
}
