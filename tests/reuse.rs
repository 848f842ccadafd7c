//! Every `Unpickler` (and so `restricted_loads`) starts from its thread's spare decoder, emptied
//! in place (its large buffers released) after each pickle. Nothing of one pickle may reach
//! the next: not its memo, its objects, its budget, its key tables, nor what a failed pickle
//! left half done. Each check runs after small, large and failed pickles, in every order.

use restricted_unpickler::{Limits, Unpickler, Value, restricted_loads};

/// `pickle.dumps([], 5)` with the list memoized at index 0.
const SMALL: &[u8] = b"\x80\x05]\x94.";
/// `BINGET 0`, `STOP`: only valid if a memo entry 0 leaked in.
const GET0: &[u8] = b"\x80\x05h\x00.";

/// A list of `n` memoized strs: more memo entries, stack slots and nodes than a spare decoder
/// keeps room for when `n` is large.
fn big(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x05]\x94(".to_vec();
    for i in 0..n {
        let s = format!("item-{i}");
        p.push(0x8c);
        p.push(s.len() as u8);
        p.extend_from_slice(s.as_bytes());
        p.push(0x94);
    }
    p.extend_from_slice(b"e.");
    p
}

/// A dict `{<30-char str>: a, 'b': b}` (its key table owns a heap str).
fn dict(a: u8, b: u8) -> Vec<u8> {
    let key = "k".repeat(30);
    let mut p = b"\x80\x05}\x94(\x8c".to_vec();
    p.push(key.len() as u8);
    p.extend_from_slice(key.as_bytes());
    p.extend_from_slice(&[0x94, b'K', a, 0x8c, 1, b'b', 0x94, b'K', b, b'u', b'.']);
    p
}

/// Memoized strs bound for a list (lazy memo entries), then an unknown opcode.
const FAILING: &[u8] = b"\x80\x05]\x94(\x8c\x01a\x94\x8c\x01b\x94\xff";

fn check_fresh() {
    let err = restricted_loads(GET0).expect_err("a memo entry leaked in");
    assert!(
        err.to_string()
            .starts_with("Memo value not found at index 0"),
        "{err}"
    );
    let v = restricted_loads(SMALL).unwrap();
    assert!(v.is_list() && v.as_slice().is_some_and(<[Value]>::is_empty));
    for (a, b) in [(1u8, 2u8), (7, 9)] {
        let v = restricted_loads(&dict(a, b)).unwrap();
        assert_eq!(
            v.get("k".repeat(30).as_str()),
            Some(&Value::from(i64::from(a)))
        );
        assert_eq!(v.get("b"), Some(&Value::from(i64::from(b))));
        assert_eq!(v.as_dict().map(|d| d.len()), Some(2));
    }
    // A budget that holds one 6,000-byte payload, not two: charges must not carry over.
    let mut limits = Limits::default();
    limits.alloc_base = 1000;
    limits.alloc_per_input_byte = 1;
    let mut payload = b"\x80\x05B\x70\x17\x00\x00".to_vec();
    payload.extend(std::iter::repeat_n(b'x', 6000));
    payload.push(b'.');
    for _ in 0..2 {
        let v = Unpickler::from_slice(&payload)
            .limits(limits.clone())
            .load()
            .unwrap();
        assert_eq!(v.as_bytes().map(<[u8]>::len), Some(6000));
    }
}

#[test]
fn each_pickle_starts_from_an_empty_decoder() {
    let large = big(5000);
    for round in 0..3 {
        check_fresh();
        let v = restricted_loads(&large).unwrap();
        assert_eq!(
            v.as_slice().map(<[Value]>::len),
            Some(5000),
            "round {round}"
        );
        check_fresh();
        assert!(restricted_loads(FAILING).is_err());
        check_fresh();
        let v = restricted_loads(&big(10)).unwrap();
        assert_eq!(v.as_slice().map(<[Value]>::len), Some(10));
        check_fresh();
        // A stream: the memo is shared between its pickles, and only between them.
        let mut stream = SMALL.to_vec();
        stream.extend_from_slice(GET0);
        let mut u = Unpickler::from_slice(&stream);
        let first = u.load().unwrap();
        let second = u.load().unwrap();
        let (Some(a), Some(b)) = (first.as_list(), second.as_list()) else {
            panic!("two lists: {first:?} {second:?}");
        };
        assert!(
            a.ptr_eq(b),
            "GET in the stream's second pickle is the first's list"
        );
        drop(u);
        check_fresh();
    }
}
