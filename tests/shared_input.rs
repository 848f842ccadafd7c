//! Decoding from a shared input (`restricted_loads_shared`, `Unpickler::from_shared`): the same
//! values as from a slice (and as CPython), with `bytes`/`bytearray` payloads of 1 KiB or more
//! lent as windows of the input instead of copied.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use restricted_unpickler::{
    Bytes, Limits, SharedInput, Unpickler, Value, restricted_loads, restricted_loads_shared,
};

/// The smallest payload lent as a window.
const SHARE_MIN: usize = 1024;

/// `(protocol, pickle, CPython's canon)` from `tests/shared/gen_blobs.py`.
fn corpus() -> Vec<(u8, Vec<u8>, String)> {
    common::python3(&["tests/shared/gen_blobs.py"])
        .lines()
        .map(|line| {
            let (head, canon) = line.split_once('\t').expect("tab");
            let (proto, hex) = head.split_once(' ').expect("space");
            (
                proto.parse().expect("protocol"),
                common::unhex(hex),
                canon.to_string(),
            )
        })
        .collect()
}

/// `pickle.dumps(expr, protocol)`, by CPython.
fn cpython_dumps(expr: &str, protocol: u8) -> Vec<u8> {
    let code =
        format!("import pickle,sys; sys.stdout.write(pickle.dumps({expr}, {protocol}).hex())");
    common::unhex(common::python3(&["-c", &code]).trim())
}

/// Every `bytes`/`bytearray` in `v`.
fn blobs(v: &Value) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut stack = vec![v.clone()];
    while let Some(v) = stack.pop() {
        match &v {
            Value::Bytes(b) | Value::ByteArray(b) => out.push(b.clone()),
            Value::List(l) => stack.extend(l.iter().cloned()),
            Value::Tuple(t) => stack.extend(t.iter().cloned()),
            Value::Dict(d) => {
                for (k, v) in d.iter() {
                    stack.push(k.clone());
                    stack.push(v.clone());
                }
            }
            Value::Set(s) | Value::FrozenSet(s) => stack.extend(s.iter().cloned()),
            _ => {}
        }
    }
    out
}

/// Whether `b` lies inside `input`.
fn inside(b: &[u8], input: &[u8]) -> bool {
    let (start, end) = (
        input.as_ptr() as usize,
        input.as_ptr() as usize + input.len(),
    );
    let p = b.as_ptr() as usize;
    p >= start && p + b.len() <= end
}

#[test]
fn shared_input_decodes_like_cpython_and_lends_large_payloads() {
    let cases = corpus();
    assert!(cases.len() > 100, "{}", cases.len());
    let mut windows = 0;
    for (proto, data, want) in cases {
        let plain = restricted_loads(&data).expect("decodes");
        let input = SharedInput::from(data.clone());
        let shared = Unpickler::from_shared(&input)
            .load()
            .expect("decodes shared");
        assert_eq!(common::canon(&shared), want, "protocol {proto}");
        assert!(shared.strict_eq(&plain), "protocol {proto}");
        assert!(shared == plain);
        for b in blobs(&shared) {
            if b.len() >= SHARE_MIN {
                assert!(
                    b.is_window(),
                    "protocol {proto}: {} bytes copied in {}",
                    b.len(),
                    &want[..want.len().min(80)]
                );
                assert!(inside(&b, input.as_slice()));
                windows += 1;
            } else {
                assert!(!b.is_window(), "protocol {proto}: {} bytes lent", b.len());
                assert!(!inside(&b, input.as_slice()));
            }
        }
        // A slice decode never lends.
        assert!(blobs(&plain).iter().all(|b| !b.is_window()));
        // The convenience function does the same.
        let again = restricted_loads_shared(data).expect("decodes shared");
        assert!(again.strict_eq(&plain));
    }
    assert!(windows > 100, "{windows}");
}

#[test]
fn windows_outlive_the_callers_input_and_detach() {
    // One payload, fetched twice.
    let data = cpython_dumps("[bytes(range(256)) * 8] * 2", 5);
    let input = SharedInput::from(Arc::new(data));
    let v = Unpickler::from_shared(&input).load().expect("decodes");
    drop(input);
    let mut b = match &v[0] {
        Value::Bytes(b) => b.clone(),
        other => panic!("{other:?}"),
    };
    let expect: Vec<u8> = (0..2048).map(|i| i as u8).collect();
    assert!(b.is_window() && b.as_slice() == expect.as_slice());
    // The memo GET shares the same window.
    match &v[1] {
        Value::Bytes(c) => assert_eq!(c.as_ptr(), b.as_ptr()),
        other => panic!("{other:?}"),
    }
    b.detach();
    assert!(!b.is_window() && b.as_slice() == expect.as_slice());
    assert!(matches!(&v[1], Value::Bytes(c) if c.is_window()));
}

#[test]
fn errors_and_limits_are_those_of_a_slice() {
    for (_, data, _) in corpus().into_iter().filter(|c| c.1.len() > 2 * SHARE_MIN) {
        let input = SharedInput::from(data.clone());
        // Cut anywhere: the same error, at the same offset.
        for cut in [data.len() / 3, data.len() / 2, data.len() - 3] {
            let short = SharedInput::from(data[..cut].to_vec());
            let a = restricted_loads(&data[..cut]).map(|_| ());
            let b = Unpickler::from_shared(&short).load().map(|_| ());
            assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
        }
        // A payload limit below the blob's size refuses it, lent or not.
        let mut limits = Limits::default();
        limits.max_payload_len = SHARE_MIN as u64;
        let a = Unpickler::from_slice(&data).limits(limits.clone()).load();
        let b = Unpickler::from_shared(&input).limits(limits).load();
        assert_eq!(
            a.map(|_| ()).map_err(|e| e.to_string()),
            b.map(|_| ()).map_err(|e| e.to_string())
        );
    }
}

/// A container whose `as_ref` does not give the same bytes twice (two copies, alternately).
struct Fickle {
    copies: [Vec<u8>; 2],
    flip: AtomicBool,
}

impl AsRef<[u8]> for Fickle {
    fn as_ref(&self) -> &[u8] {
        let i = usize::from(self.flip.fetch_xor(true, Ordering::Relaxed));
        &self.copies[i]
    }
}

#[test]
fn an_input_that_changes_under_us_is_not_lent() {
    let data = cpython_dumps("bytes(5000)", 4);
    let input = SharedInput::from(Arc::new(Fickle {
        copies: [data.clone(), data],
        flip: AtomicBool::new(false),
    }));
    let v = Unpickler::from_shared(&input).load().expect("decodes");
    match v {
        Value::Bytes(b) => assert!(!b.is_window() && b.len() == 5000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_pickle_of_a_stream_lends_from_the_same_input() {
    // Two pickles back to back, read by one unpickler (the memo carries over, as in CPython).
    let first = cpython_dumps("bytes(range(256)) * 5", 5);
    let second = cpython_dumps("[bytearray(b'x' * 3000), b'y' * 10]", 4);
    let input = SharedInput::from([first.clone(), second].concat());
    let mut u = Unpickler::from_shared(&input);
    let a = u.load().expect("first");
    let b = u.load().expect("second");
    assert!(u.load().expect_err("end").is_eof());
    let data = input.as_slice();
    match (&a, &b[0], &b[1]) {
        (Value::Bytes(a), Value::ByteArray(x), Value::Bytes(y)) => {
            assert!(a.is_window() && x.is_window() && !y.is_window());
            assert!(inside(a, &data[..first.len()]) && inside(x, &data[first.len()..]));
            assert!(a.iter().copied().eq((0..1280).map(|i| i as u8)));
            assert!(x.iter().all(|&c| c == b'x') && x.len() == 3000);
        }
        other => panic!("{other:?}"),
    }
}
