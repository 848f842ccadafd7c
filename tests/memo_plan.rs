//! The memo plan (`src/machine/scan.rs`): once the memo holds 2^18 entries, the decoder scans
//! the rest of an input in memory for the indices it fetches and drops the other entries.
//! (Equality with CPython on such pickles: `large_memos_decode_like_cpython` in
//! `tests/differential.rs`.) What is left to check here is the one case the plan cannot
//! serve: a load resumed after a failed one, from mid-opcode, fetching an entry the pass did
//! not see fetched. It fails, and says why, rather than fetching the wrong thing.

use restricted_unpickler::{ErrorKind, Limits, Unpickler};

const PLAN_AT: usize = 1 << 18;

/// Protocol 4: a list of `n` memoized ints (memo index 0 is the list, `i + 1` the i-th int),
/// then `tail` before the `STOP`.
fn big_memo_pickle(n: usize, tail: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x04]\x94(".to_vec();
    for i in 0..n {
        p.extend_from_slice(&[b'K', (i % 251) as u8, 0x94]);
    }
    p.push(b'e');
    p.extend_from_slice(tail);
    p.push(b'.');
    p
}

#[test]
fn fetches_of_entries_before_and_after_the_scan_are_served() {
    // BINGET 7 and LONG_BINGET PLAN_AT + 5 (memoized before and after the scan), appended.
    let mut tail = b"h\x07a".to_vec();
    tail.push(b'j');
    tail.extend_from_slice(&((PLAN_AT + 5) as u32).to_le_bytes());
    tail.push(b'a');
    let p = big_memo_pickle(PLAN_AT + 10, &tail);
    let v = restricted_unpickler::restricted_loads(&p).unwrap();
    let items = v.as_list().unwrap();
    assert_eq!(items.len(), PLAN_AT + 12);
    assert_eq!(items[PLAN_AT + 10], 6);
    assert_eq!(items[PLAN_AT + 11], ((PLAN_AT + 4) % 251) as i64);
}

#[test]
fn a_load_resumed_mid_opcode_cannot_fetch_a_dropped_entry() {
    // The first pickle fails at a BINBYTES longer than the payload limit, before its payload:
    // the next load reads that payload as opcodes, among them a BINGET of an entry the pass
    // (which skipped the payload) did not see fetched, and that was dropped.
    let mut p = big_memo_pickle(PLAN_AT + 10, b"");
    p.pop(); // no STOP: the BINBYTES comes before it
    p.extend_from_slice(b"B\x05\x00\x00\x00h\x07.\x00\x00");
    let mut limits = Limits::default();
    limits.max_payload_len = 4;
    let mut u = Unpickler::from_slice(&p).limits(limits);
    let err = u.load().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::LimitExceeded { .. }),
        "{err}"
    );
    let err = u.load().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unsupported(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("memo entry 7 was not kept: this unpickler resumed after a failed load"),
        "{err}"
    );
}

#[test]
fn entries_stay_fetchable_when_every_load_succeeds() {
    // Two pickles sharing the memo: the second fetches the first's entries, early and late.
    let mut p = big_memo_pickle(PLAN_AT + 10, b"");
    p.extend_from_slice(b"\x80\x04h\x09.");
    p.extend_from_slice(b"\x80\x04j");
    p.extend_from_slice(&((PLAN_AT + 9) as u32).to_le_bytes());
    p.push(b'.');
    let mut u = Unpickler::from_slice(&p);
    assert_eq!(
        u.load().unwrap().as_list().map(|l| l.len()),
        Some(PLAN_AT + 10)
    );
    assert_eq!(u.load().unwrap(), 8);
    assert_eq!(u.load().unwrap(), ((PLAN_AT + 8) % 251) as i64);
}

/// Decodes `p` from a slice (which scans once the memo is large) and from a stream (which never
/// does): every load must give the same value or the same error.
fn same_as_stream(p: &[u8]) {
    let mut slice = Unpickler::from_slice(p);
    let mut stream = Unpickler::new(std::io::Cursor::new(p));
    for i in 0..4 {
        let (a, b) = (slice.load(), stream.load());
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert!(x.strict_eq(y), "load {i}: {x} vs {y}"),
            (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "load {i}"),
            _ => panic!("load {i}: {a:?} vs {b:?}"),
        }
        if a.is_err() {
            break;
        }
    }
}

#[test]
fn dropped_entries_fail_like_kept_ones() {
    // After the scan: MEMOIZE above a MARK (stack underflow), a GET of an index never stored,
    // a PUT beyond the limit, each failing as without the scan; a PUT over a dropped entry
    // and a GET of it.
    for tail in [
        &b"(\x94"[..],
        b"j\x00\x00\x00\x01",
        b"K\x05r\x00\x00\x00\x01",
        b"K\x05r\x03\x00\x00\x00h\x03a",
        b"0(\x94",
    ] {
        let mut p = big_memo_pickle(PLAN_AT + 3, tail);
        same_as_stream(&p);
        // And as a second pickle sharing the memo.
        p.extend_from_slice(b"\x80\x04]");
        p.extend_from_slice(tail);
        p.push(b'.');
        same_as_stream(&p);
    }
}

/// `same_as_stream` under `limits`.
fn same_as_stream_with(p: &[u8], limits: &Limits) -> Result<(), String> {
    let mut slice = Unpickler::from_slice(p).limits(limits.clone());
    let mut stream = Unpickler::new(std::io::Cursor::new(p)).limits(limits.clone());
    let (a, b) = (slice.load(), stream.load());
    match (&a, &b) {
        (Ok(x), Ok(y)) if x.strict_eq(y) => Ok(()),
        (Err(x), Err(y)) if x.to_string() == y.to_string() => Err(x.to_string()),
        _ => panic!("{a:?} vs {b:?}"),
    }
}

#[test]
fn containers_converted_early_count_their_depth() {
    // After the scan, `[{'k': [[[1]]]}]`-like nests, built by APPENDS/APPEND/SETITEMS into
    // containers that are converted as they move into their parent: the depth limit must
    // count them in full. Depth of the whole: the big list (1) + `nest` levels.
    fn nest(levels: usize, via_append: bool) -> Vec<u8> {
        // levels of `[...]` / `{'k': ...}` alternating, innermost `[1]`.
        let mut inner = b"]\x94K\x01a".to_vec(); // [1]
        for level in 1..levels {
            let mut outer = Vec::new();
            if level % 2 == 1 {
                outer.extend_from_slice(b"}\x94(\x8c\x01k\x94");
                outer.extend_from_slice(&inner);
                outer.push(b'u');
            } else if via_append {
                outer.extend_from_slice(b"]\x94");
                outer.extend_from_slice(&inner);
                outer.push(b'a');
            } else {
                outer.extend_from_slice(b"]\x94(");
                outer.extend_from_slice(&inner);
                outer.push(b'e');
            }
            inner = outer;
        }
        inner
    }
    for via_append in [false, true] {
        for levels in [2, 5, 6, 7] {
            let mut tail = b"(".to_vec();
            tail.extend_from_slice(&nest(levels, via_append));
            tail.push(b'e');
            let p = big_memo_pickle(PLAN_AT + 3, &tail);
            let mut limits = Limits::default();
            limits.max_depth = 6;
            let got = same_as_stream_with(&p, &limits);
            assert_eq!(got.is_ok(), levels < 6, "{levels} levels: {got:?}");
        }
    }
}

#[test]
fn a_container_fetched_again_is_not_converted_early() {
    // After the scan: `l = []` memoized, appended to the big list, fetched back and given a 5
    // — the list in the big list must show the 5 (CPython: the same object).
    let l_index = (PLAN_AT + 4) as u32; // the big list, then PLAN_AT + 3 ints, then l
    let mut tail = b"]\x94a".to_vec();
    tail.push(b'j');
    tail.extend_from_slice(&l_index.to_le_bytes());
    tail.extend_from_slice(b"K\x05a0");
    let p = big_memo_pickle(PLAN_AT + 3, &tail);
    same_as_stream(&p);
    let v = restricted_unpickler::restricted_loads(&p).unwrap();
    let items = v.as_list().unwrap();
    assert_eq!(items.last().unwrap().to_string(), "[5]");
}
