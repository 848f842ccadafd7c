//! A batch of floats bound for a list (`MARK`, `BINFLOAT`s, `APPENDS`: how a `list[float]`
//! pickles) is decoded in one step from a slice, the floats written straight into the list
//! (`Machine::float_appends`); every other batch (ints, floats mixed with ints or anything
//! else, batches split by a frame) is decoded opcode by opcode. The stream reader has no
//! one-step path. So the two must agree on every input here, value for value and error for
//! error (message, opcode and offset), under the default limits and under limits that fail
//! at every point of a batch; and under the default limits the values must be CPython's.
//! (Ints were tried in one step too, and were slower than on the stack: see
//! benches/RESULTS.md, twenty-second round.)

mod common;

use std::io::{BufRead, BufReader, Cursor, Write};

use common::canon;
use restricted_unpickler::{Limits, Unpickler, Value};

/// `n` `BINFLOAT`s, of varied values (negative zero, NaN payloads, infinities among them).
fn floats(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 * n);
    for i in 0..n as u64 {
        let f = match (i + seed) % 7 {
            0 => -0.0,
            1 => f64::from_bits(0x7ff8_0000_0000_0001 + i),
            2 => f64::INFINITY,
            _ => (i + seed) as f64 * -1.25,
        };
        out.push(b'G');
        out.extend_from_slice(&f.to_be_bytes());
    }
    out
}

/// `n` int opcodes of every width: `BININT1`, `BININT2`, `BININT` and `LONG1` (empty, within
/// eight bytes, and longer: up to 40 bytes, some of them values that fit in eight), signed
/// both ways.
fn ints(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        match (x % 9, i % 5) {
            (0, _) => out.extend_from_slice(&[b'K', x as u8]),
            (1, _) => out.extend_from_slice(&[b'M', x as u8, (x >> 8) as u8]),
            (2, _) => {
                out.push(b'J');
                out.extend_from_slice(&(x as u32).to_le_bytes());
            }
            (3, _) => out.extend_from_slice(&[0x8a, 0]),
            (4 | 5, _) => {
                let len = (x >> 20) % 9;
                out.extend_from_slice(&[0x8a, len as u8]);
                out.extend_from_slice(&x.to_le_bytes()[..len as usize]);
            }
            (6, 0) => {
                // Nine bytes whose value fits in eight (a sign byte of padding).
                out.extend_from_slice(&[0x8a, 9]);
                out.extend_from_slice(&(x >> 1).to_le_bytes());
                out.push(if x & 2 == 0 { 0 } else { 0xff });
            }
            _ => {
                let len = 9 + (x >> 24) % 32;
                out.extend_from_slice(&[0x8a, len as u8]);
                for j in 0..len {
                    out.push((x >> (j % 8)).wrapping_add(j) as u8);
                }
            }
        }
    }
    out
}

/// `n` items, floats and ints in turn.
fn mixed(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n as u64 {
        if i % 3 == 0 {
            out.extend(floats(1, seed + i));
        } else {
            out.extend(ints(1, seed + i));
        }
    }
    out
}

/// A protocol 2 pickle of `body` then `STOP`.
fn p2(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = b"\x80\x02".to_vec();
    for p in parts {
        out.extend_from_slice(p);
    }
    out.push(b'.');
    out
}

/// A protocol 4 pickle whose opcodes `frames` are each in a `FRAME` of their own.
fn framed(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\x80\x04".to_vec();
    for f in frames {
        out.push(0x95);
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// Every shape of batch the one-step path takes or must leave to the opcodes.
fn cases() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for n in [1, 2, 63, 64, 65, 1000, 3000] {
        out.push((
            format!("one batch of {n}"),
            p2(&[b"](", &floats(n, 0), b"e"]),
        ));
    }
    for (a, b) in [(1, 1), (10, 100), (100, 10), (63, 1), (64, 1), (1000, 1000)] {
        out.push((
            format!("batches of {a} and {b}"),
            p2(&[b"](", &floats(a, 1), b"e(", &floats(b, 2), b"e"]),
        ));
    }
    // After one `APPEND`, and after a batch that is not all floats.
    out.push((
        "APPEND then a batch".into(),
        p2(&[b"]K\x07a(", &floats(100, 3), b"e"]),
    ));
    out.push((
        "mixed batch then floats".into(),
        p2(&[b"](NK\x01", &floats(80, 4), b"e(", &floats(80, 5), b"e"]),
    ));
    // The list memoized, and fetched after its batches: one object twice.
    out.push((
        "memoized list".into(),
        p2(&[b"]q\x00(", &floats(200, 6), b"eh\x00\x86"]),
    ));
    // A float of the batch memoized (the run stops at the `BINPUT`).
    out.push((
        "memoized float".into(),
        p2(&[
            b"](",
            &floats(70, 7),
            b"q\x01",
            &floats(70, 8),
            b"eh\x01\x86",
        ]),
    ));
    // The list inside a tuple under construction, and in a dict.
    out.push((
        "list in a tuple".into(),
        p2(&[b"(K\x01](", &floats(100, 9), b"et"]),
    ));
    out.push((
        "list in a dict".into(),
        p2(&[b"}X\x01\x00\x00\x00k](", &floats(100, 10), b"es"]),
    ));
    // Runs the one-step path must not take.
    out.push((
        "run broken by None".into(),
        p2(&[b"](", &floats(50, 11), b"N", &floats(50, 12), b"e"]),
    ));
    out.push((
        "POP in the batch".into(),
        p2(&[b"](", &floats(100, 13), b"0e"]),
    ));
    out.push(("nested MARK".into(), p2(&[b"]((", &floats(100, 14), b"e"])));
    out.push((
        "MARK with nothing under it".into(),
        p2(&[b"(", &floats(100, 15), b"e"]),
    ));
    out.push((
        "APPENDS to a dict".into(),
        p2(&[b"}(", &floats(100, 16), b"e"]),
    ));
    out.push((
        "APPENDS to a tuple".into(),
        p2(&[b")(", &floats(100, 17), b"e"]),
    ));
    out.push((
        "APPENDS to a float".into(),
        p2(&[b"G?\xf0\x00\x00\x00\x00\x00\x00(", &floats(100, 18), b"e"]),
    ));
    out.push((
        "APPENDS to a set".into(),
        p2(&[b"\x80\x04\x8f(", &floats(100, 19), b"e"]),
    ));
    out.push((
        "APPENDS to a list under a MARK".into(),
        p2(&[b"(](", &floats(100, 20), b"e"]),
    ));
    out.push(("no APPENDS".into(), p2(&[b"](", &floats(100, 21)])));
    // Ints, and ints mixed with floats.
    for n in [1, 63, 64, 65, 1000] {
        out.push((format!("{n} ints"), p2(&[b"](", &ints(n, 30), b"e"])));
        out.push((format!("{n} mixed"), p2(&[b"](", &mixed(n, 31), b"e"])));
    }
    out.push((
        "batches of ints".into(),
        p2(&[
            b"](",
            &ints(100, 32),
            b"e(",
            &ints(3, 33),
            b"e(",
            &ints(500, 34),
            b"e",
        ]),
    ));
    out.push((
        "ints then floats".into(),
        p2(&[
            b"](",
            &ints(100, 35),
            &floats(100, 36),
            b"e(",
            &mixed(100, 37),
            b"e",
        ]),
    ));
    out.push((
        "ints broken by a str".into(),
        p2(&[
            b"](",
            &ints(100, 38),
            b"X\x01\x00\x00\x00a",
            &ints(100, 39),
            b"e",
        ]),
    ));
    out.push((
        "LONG4 in a batch".into(),
        p2(&[
            b"](",
            &ints(100, 40),
            b"\x8b\x01\x00\x00\x00\x07",
            &ints(100, 41),
            b"e",
        ]),
    ));
    out.push((
        "truncated LONG1".into(),
        [&b"\x80\x02]("[..], &ints(100, 42), b"\x8a\x20\x01\x02"].concat(),
    ));
    out.push((
        "LONG1 running into APPENDS".into(),
        p2(&[b"](", &ints(100, 43), b"\x8a\x02\x01e"]),
    ));
    out.push((
        "truncated before APPENDS".into(),
        [&b"\x80\x02]("[..], &floats(100, 22)].concat(),
    ));
    out.push((
        "truncated in a float".into(),
        [&b"\x80\x02]("[..], &floats(100, 23)[..895]].concat(),
    ));
    out.push((
        "truncated after APPENDS".into(),
        [&b"\x80\x02]("[..], &floats(100, 24), b"e"].concat(),
    ));
    // Frames: a batch whole in one, a batch split between two, an `APPENDS` in the next one.
    let f = floats(200, 25);
    out.push((
        "framed batch".into(),
        framed(&[[&b"]("[..], &f, b"e."].concat()]),
    ));
    out.push((
        "batch split by a frame".into(),
        framed(&[
            [&b"]("[..], &f[..900]].concat(),
            [&f[900..], &b"e."[..]].concat(),
        ]),
    ));
    out.push((
        "APPENDS in the next frame".into(),
        framed(&[[&b"]("[..], &f].concat(), b"e.".to_vec()]),
    ));
    out.push((
        "frame ends in a float".into(),
        framed(&[
            [&b"]("[..], &f[..904]].concat(),
            [&f[904..], &b"e."[..]].concat(),
        ]),
    ));
    out
}

/// One `load()` in comparable form: the value and the position after it, or the error.
fn outcome(r: restricted_unpickler::Result<Value>, pos: u64) -> String {
    match r {
        Ok(v) => format!("ok {} at {pos}", canon(&v)),
        Err(e) => format!("error: {e}"),
    }
}

/// The default limits, changed by `f`.
fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

fn slice_and_stream(data: &[u8], limits: &Limits) -> (String, String) {
    let mut a = Unpickler::from_slice(data).limits(limits.clone());
    let mut b = Unpickler::new(Cursor::new(data)).limits(limits.clone());
    (
        outcome(a.load(), a.position()),
        outcome(b.load(), b.position()),
    )
}

#[test]
fn scalar_batches_decode_as_their_opcodes_do() {
    let mut failures = Vec::new();
    for (name, data) in cases() {
        let (a, b) = slice_and_stream(&data, &Limits::default());
        if a != b {
            failures.push(format!("{name}: slice {a:.200} / stream {b:.200}"));
        }
    }
    common::assert_no_failures(&failures, "scalar batches, slice against stream");
}

/// Limits that fail before, within and after a batch: the stack's height, the memory and the
/// work charged. Each fails where the opcodes one by one fail, with the same error.
#[test]
fn scalar_batches_reach_limits_where_their_opcodes_do() {
    // A batch of floats, then one of every kind of item; and one whose `LONG1`s (2 bytes
    // read, 32 charged each) come before its floats (9 bytes read, nothing charged until the
    // `APPENDS`): under a budget that grows with the input read, the `LONG1`s may fail where
    // the batch as a whole would fit.
    let long1s: Vec<u8> = (0..50).flat_map(|_| [0x8a, 0]).collect();
    let batches = [
        p2(&[b"](", &floats(100, 0), b"e(", &mixed(100, 1), b"e"]),
        p2(&[b"](", &long1s, &floats(300, 2), b"e"]),
    ];
    let mut tried = 0;
    let mut failures = Vec::new();
    let mut check = |what: String, limits: Limits| {
        for (i, batch) in batches.iter().enumerate() {
            let (a, b) = slice_and_stream(batch, &limits);
            tried += 1;
            if a != b {
                failures.push(format!(
                    "batch {i}, {what}: slice {a:.200} / stream {b:.200}"
                ));
            }
        }
    };
    for max_stack in (0..=110).chain([199, 200, 201]) {
        check(
            format!("max_stack {max_stack}"),
            limits(|l| {
                l.max_stack = max_stack;
            }),
        );
    }
    for max_long_bytes in 0..45 {
        check(
            format!("max_long_bytes {max_long_bytes}"),
            limits(|l| l.max_long_bytes = max_long_bytes),
        );
        check(
            format!("max_payload_len {max_long_bytes}"),
            limits(|l| l.max_payload_len = max_long_bytes),
        );
    }
    for alloc_base in (0..16_000).step_by(37) {
        check(
            format!("alloc_base {alloc_base}"),
            limits(|l| {
                l.alloc_per_input_byte = 0;
                l.alloc_base = alloc_base;
            }),
        );
    }
    for work_base in 0..600 {
        check(
            format!("work_base {work_base}"),
            limits(|l| {
                l.work_per_input_byte = 0;
                l.work_base = work_base;
            }),
        );
    }
    // Budgets that grow with the input read: the batch is charged where its `APPENDS` ends.
    for (per_byte, base) in (0..40).flat_map(|p| [0, 100, 200, 400, 800].map(|b| (p, b))) {
        check(
            format!("alloc_per_input_byte {per_byte}, alloc_base {base}"),
            limits(|l| {
                l.alloc_per_input_byte = per_byte;
                l.alloc_base = base;
            }),
        );
        check(
            format!("work_per_input_byte {per_byte}"),
            limits(|l| {
                l.work_per_input_byte = per_byte;
                l.work_base = 0;
            }),
        );
    }
    assert!(tried > 500);
    common::assert_no_failures(
        &failures,
        "scalar batches under limits, slice against stream",
    );
}

/// Under the default limits, the values are CPython's, and we fail where it fails.
#[test]
fn scalar_batches_decode_like_cpython() {
    let cases = cases();
    let mut child = common::spawn_replay_worker();
    // Written from a thread of its own: the answers fill the pipe back meanwhile.
    let mut stdin = child.stdin.take().expect("stdin");
    let lines: Vec<String> = cases.iter().map(|(_, data)| common::hex(data)).collect();
    let writer = std::thread::spawn(move || {
        for line in lines {
            writeln!(stdin, "{line}").expect("write");
        }
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let answers: Vec<String> = stdout.lines().map(|l| l.expect("line")).collect();
    writer.join().expect("writer");
    child.wait().expect("worker");
    assert_eq!(answers.len(), cases.len(), "one answer per pickle");
    let mut failures = Vec::new();
    for ((name, data), answer) in cases.iter().zip(&answers) {
        let ours = restricted_unpickler::restricted_loads(data);
        let theirs = common::json_str(answer, "canon");
        match (&ours, theirs) {
            (Ok(v), Some(c)) if canon(v) == c => {}
            (Err(_), None) if answer.contains("\"o\": \"err\"") => {}
            _ => failures.push(format!(
                "{name}: ours {:.200} / CPython {answer:.200}",
                match &ours {
                    Ok(v) => canon(v),
                    Err(e) => e.to_string(),
                }
            )),
        }
    }
    common::assert_no_failures(&failures, "scalar batches against CPython");
}
