//! Differential test against CPython: `tests/differential/gen_values.py` (run with `python3`)
//! generates seeded random nested values of every safe type, pickles each with CPython in every
//! protocol, and records `canon(pickle.loads(data))`. Our decoder must produce the same
//! canonical form, and our `repr()` must evaluate (in CPython) back to an equal value.
//!
//! Seeds: `DIFF_SEEDS` (comma-separated) or the fixed defaults; `DIFF_COUNT` values per seed.
//! A failure prints the seed, the index, the protocol and the pickle (hex).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{canon, json_str, unhex};
use restricted_unpickler::restricted_loads;

fn seeds() -> Vec<u64> {
    match std::env::var("DIFF_SEEDS") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![20261126, 7, 1234567],
    }
}

fn count() -> usize {
    std::env::var("DIFF_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1500)
}

/// Runs a generator script of `tests/differential/` for one seed: its JSON lines.
fn generate(script: &str, seed: u64, n: usize) -> String {
    common::python3(&[
        &format!("tests/differential/{script}"),
        "--seed",
        &seed.to_string(),
        "--count",
        &n.to_string(),
    ])
}

#[test]
fn decoded_values_equal_cpython_in_every_protocol() {
    let mut total = 0;
    let mut differing = 0;
    let mut repr_lines = String::new();
    for seed in seeds() {
        let lines = generate("gen_values.py", seed, count());
        for line in lines.lines() {
            let pickle = unhex(&json_str(line, "pickle").expect("pickle field"));
            let expected = json_str(line, "canon").expect("canon field");
            let index = line
                .split("\"index\": ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .unwrap_or("?");
            let protocol = line
                .split("\"protocol\": ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .unwrap_or("?");
            let value = match restricted_loads(&pickle) {
                Ok(v) => v,
                Err(e) => panic!(
                    "seed {seed} index {index} protocol {protocol}: decoding failed: {e}\npickle: {}",
                    common::hex(&pickle)
                ),
            };
            let got = canon(&value);
            assert_eq!(
                got,
                expected,
                "seed {seed} index {index} protocol {protocol}: value differs from CPython\npickle: {}",
                common::hex(&pickle)
            );
            // Our repr is usually identical to CPython's (set member order may differ); either
            // way CPython must evaluate it to an equal value.
            let ours = value.to_string();
            if json_str(line, "repr").as_deref() != Some(ours.as_str()) {
                differing += 1;
            }
            repr_lines.push_str(&format!(
                "{{\"canon\": {}, \"repr\": {}}}\n",
                json_quote(&expected),
                json_quote(&ours)
            ));
            total += 1;
        }
    }
    assert!(total >= 1000, "only {total} values were checked");
    println!("{total} values decoded like CPython; {differing} reprs differ from CPython's text");

    // Our repr() must evaluate, in CPython, to a value equal to what CPython decoded.
    let mut child = Command::new("python3")
        .arg("tests/differential/check_repr.py")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(repr_lines.as_bytes())
        .expect("write reprs");
    let out = child.wait_with_output().expect("check_repr.py");
    assert!(
        out.status.success(),
        "repr check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JSON string literal (ASCII, `\uXXXX` escapes).
fn json_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The memo, opcode by opcode: `tests/differential/gen_memo_programs.py` writes random pickle
/// programs that no pickler writes but a hand-made pickle can (GETs of values memoized a moment
/// ago and still on the stack or already moved into a list, memoized values then consumed by
/// tuples, dicts or `POP`, `PUT` over an existing index, sparse indices, several pickles in one
/// stream sharing the memo), with what CPython's `Unpickler.load()` returns for each pickle.
#[test]
fn memo_programs_decode_like_cpython() {
    check_every_seed("gen_memo_programs.py", count(), 1000);
}

/// Long strs and bytes around the Latin-1 threshold (`tests/differential/gen_long_text.py`):
/// `bytes` pickled by protocols 0–2 as `_codecs.encode(str, 'latin1')`, Latin-1 text with and
/// without one wider character, shared by memo `GET`s within and across pickles, used as dict
/// keys and set members, and `BINUNICODE`s with one byte broken — each load equal to
/// CPython's (or failing with CPython's exception).
#[test]
fn long_latin1_text_decodes_like_cpython() {
    check_every_seed("gen_long_text.py", (count() / 25).max(20), 60);
}

/// Memos past 2^18 entries (`tests/differential/gen_large_memo.py`), where the decoder scans
/// the rest of the input for the indices it fetches and drops the other entries: fetches of
/// early and late entries, of a container memoized before the scan, from a second pickle
/// sharing the memo, and pickles whose `PUT`s replace dropped entries — each load equal to
/// CPython's.
#[test]
fn large_memos_decode_like_cpython() {
    check_every_seed("gen_large_memo.py", 2, 6);
}

/// Dicts, sets and frozensets whose keys are equal numbers of different types
/// (`tests/differential/gen_numeric_keys.py`): an int and the float equal to it (or `True`
/// and `1`) are one key, on every edge where the int changes form (`i64`, `i128`, big) or
/// the float's hash changes path — each load equal to CPython's.
#[test]
fn equal_numbers_are_one_key_like_cpython() {
    check_every_seed("gen_numeric_keys.py", count(), 1000);
}

/// [`check_streams`] for every seed, `n` streams each; at least `min_loads` loads in all.
fn check_every_seed(script: &str, n: usize, min_loads: usize) {
    let total: usize = seeds()
        .into_iter()
        .map(|seed| check_streams(script, seed, n))
        .sum();
    assert!(
        total >= min_loads,
        "{script}: only {total} loads were checked"
    );
}

/// Runs a generator of pickle streams (`{"pickle": hex, "loads": [canon | "!Exception"]}`
/// lines) and checks each load of each stream against CPython's; returns the number of loads.
fn check_streams(script: &str, seed: u64, n: usize) -> usize {
    let mut total = 0;
    let lines = generate(script, seed, n);
    for line in lines.lines() {
        let pickle = unhex(&json_str(line, "pickle").expect("pickle field"));
        // Canons hold no quote: the list is `["..", ".."]` at the end of the line.
        let loads = line
            .split("\"loads\": [")
            .nth(1)
            .and_then(|r| r.strip_suffix("]}"))
            .expect("loads field");
        let expected: Vec<&str> = loads.split(", ").map(|s| s.trim_matches('"')).collect();
        let mut u = restricted_unpickler::Unpickler::from_slice(&pickle);
        for (i, want) in expected.iter().enumerate() {
            let got = match u.load() {
                Ok(v) => canon(&v),
                Err(e) => format!("!{}", e.py_exception().name()),
            };
            assert!(
                got == *want,
                "{script} seed {seed}, program {line:.40}…, load {i}: differs from CPython\n\
                 got {got:.200}\nwant {want:.200}\npickle: {:.400}",
                common::hex(&pickle)
            );
            total += 1;
        }
        if !expected.last().is_some_and(|l| l.starts_with('!')) {
            assert_eq!(u.position(), pickle.len() as u64, "seed {seed}: {line:.40}");
        }
    }
    total
}

/// Every allowed builtin (`str`, `list`, `dict`, `set`, `frozenset`, `int`, `float`, `bool`,
/// `tuple`, `bytes`, `bytearray`, `complex`, `_codecs.encode`) called on every small argument
/// list of `tests/differential/gen_builtin_calls.py` (bools, bases, encodings, surrogates,
/// NaNs, containers…), through `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ` and `INST`: where CPython
/// returns a value we return the same one or say we do not evaluate that call
/// ([`Category::Unsupported`](restricted_unpickler::Category), the documented shapes) or hit
/// a limit; where CPython raises, we raise the same exception with the same message (or do not
/// evaluate the call, or hit a limit first).
#[test]
fn builtin_calls_decode_like_cpython() {
    use restricted_unpickler::Category;
    let lines = common::python3(&["tests/differential/gen_builtin_calls.py"]);
    let (mut same, mut not_evaluated, mut both_fail, mut same_error) = (0usize, 0, 0, 0);
    let mut failures = Vec::new();
    for line in lines.lines() {
        let call = json_str(line, "call").expect("call field");
        let pickle = unhex(&json_str(line, "pickle").expect("pickle field"));
        let ours = restricted_loads(&pickle);
        match (json_str(line, "o").as_deref(), &ours) {
            (Some("ok"), Ok(v)) => {
                let want = json_str(line, "canon").expect("canon field");
                if canon(v) == want {
                    same += 1;
                } else {
                    failures.push(format!("{call}: we return {v}, CPython {want}"));
                }
            }
            (Some("ok"), Err(e))
                if matches!(e.category(), Category::Unsupported | Category::Limit) =>
            {
                if std::env::var_os("SHOW_NOT_EVALUATED").is_some() {
                    println!("not evaluated: {call}: {e}");
                }
                not_evaluated += 1;
            }
            (Some("ok"), Err(e)) => {
                failures.push(format!("{call}: we fail ({e}), CPython decodes"))
            }
            (Some("err"), Ok(v)) => failures.push(format!(
                "{call}: we return {v}, CPython raises {}({})",
                json_str(line, "t").unwrap_or_default(),
                json_str(line, "m").unwrap_or_default()
            )),
            (Some("err"), Err(e)) => {
                let want = json_str(line, "t").expect("t field");
                let want_message = json_str(line, "m").unwrap_or_default();
                // Our message without its ` (OPCODE at offset N)`.
                let ours = e.to_string();
                let ours = match e.offset() {
                    Some(_) => ours.rsplit_once(" (").map_or(ours.as_str(), |(m, _)| m),
                    None => ours.as_str(),
                };
                if matches!(e.category(), Category::Unsupported | Category::Limit) {
                    // (Our limits fire first: `bytes(2**63 - 1)` is a limit here, an
                    // `OverflowError` in CPython.)
                    both_fail += 1;
                } else if e.py_exception().name() == want && ours == want_message {
                    both_fail += 1;
                    same_error += 1;
                } else {
                    failures.push(format!(
                        "{call}: we raise {}({ours}), CPython {want}({want_message})",
                        e.py_exception().name(),
                    ));
                }
            }
            (other, _) => panic!("bad line {other:?}: {line:.200}"),
        }
    }
    println!(
        "builtin calls: {same} values as CPython's, {not_evaluated} not evaluated, \
         {both_fail} failing as CPython does ({same_error} with its exception and message)"
    );
    assert!(same >= 10_000, "only {same} values were compared");
    common::assert_no_failures(&failures, "calls differ from CPython");
}
