//! Replays directories of pickles (the fuzz corpora, by default) through `restricted_loads`
//! and through CPython 3.11's `pickle.loads` under the same policy
//! (`tests/differential/replay_worker.py`), and compares what each makes of every input.
//!
//! The fuzzers only check that nothing panics, hangs or overflows; this checks what their
//! inputs *decode to*. Run it after a fuzzing campaign:
//!
//! ```text
//! fuzz/seed_corpus.sh && cargo fuzz run loads ...      # fills fuzz/corpus/<target>/
//! CORPUS=fuzz/corpus cargo test --release --test corpus_replay -- --ignored --nocapture
//! ```
//!
//! `CORPUS` is a directory of files or of directories of files (default `fuzz/corpus`).
//! Identical files are replayed once; each is sent to CPython over a pipe, so a corpus a fuzzer
//! is still changing can be replayed. It fails on:
//! * a value that differs from CPython's (values holding a NaN or a `READONLY_BUFFER` are
//!   compared by outcome only, as the README says: a NaN used twice as a key is one key in
//!   CPython, two here; a read-only buffer is `bytes` here, a `memoryview` in CPython);
//! * an input we accept where CPython raises anything but `MemoryError` (CPython sizes its memo
//!   by the largest index it is given; we do not) or `RecursionError` (CPython compares and
//!   hashes nested tuples recursively, up to its recursion limit; we do not recurse);
//! * an input CPython accepts and we call malformed or truncated, unless it is one of the
//!   documented "Stricter than CPython" rows (the C `strtol` number forms, PEP 3154 framing,
//!   container opcodes on non-containers).
//!
//! Both failing is not compared: the order of checks differs in documented ways (our limits
//! and stricter checks fire first; CPython runs out of memory first on huge memo indices).
//! `REPLAY_SHOW_CLASSES=1` prints each input where both fail with different exception classes
//! (ours, our error's category, CPython's, and both messages).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout};

use common::{canon, push_children};
use restricted_unpickler::{Category, Value, restricted_loads};

/// Values larger than this (as a tree) are compared by outcome only.
const CAP: usize = 300_000;

/// What one decoder made of one input.
#[derive(Debug)]
enum Outcome {
    Ok(Option<String>),
    Err {
        class: String,
        category: Option<Category>,
        message: String,
    },
    Timeout,
}

fn tree_size(v: &Value) -> usize {
    let mut n = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        if n > CAP {
            break;
        }
        match v {
            Value::Str(s) => n += s.as_encoded_bytes().len() / 64,
            Value::Bytes(b) | Value::ByteArray(b) => n += b.len() / 64,
            Value::Int(i) => n += (i.bit_length() / 16) as usize,
            _ => push_children(v, &mut stack),
        }
    }
    n
}

fn ours(data: &[u8]) -> Outcome {
    match restricted_loads(data) {
        Ok(v) if tree_size(&v) > CAP => Outcome::Ok(None),
        Ok(v) => Outcome::Ok(Some(canon(&v))),
        Err(e) => Outcome::Err {
            class: e.py_exception().name().to_owned(),
            category: Some(e.category()),
            message: e.to_string(),
        },
    }
}

/// The CPython worker, restarted when it dies (a crash counts as an error of CPython's).
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start() -> Worker {
        let mut child = common::spawn_replay_worker();
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Worker {
            child,
            stdin,
            stdout,
        }
    }

    fn run(&mut self, data: &[u8]) -> Option<Outcome> {
        writeln!(self.stdin, "{}", common::hex(data)).ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let j: serde_json::Value = serde_json::from_str(&line).expect("worker JSON");
        let text = |k: &str| j[k].as_str().unwrap_or("").to_owned();
        Some(match j["o"].as_str() {
            Some("ok") => Outcome::Ok(j["canon"].as_str().map(str::to_owned)),
            Some("err") => Outcome::Err {
                class: text("t"),
                category: None,
                message: text("m"),
            },
            _ => Outcome::Timeout,
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a canonical form holds a NaN: a float (`F` and 16 hex digits of its bits) or a
/// complex part (`C` or `,` and 16 hex digits) with an all-ones exponent and a non-zero
/// mantissa. (Payloads of strs and bytes are lowercase hex after `S`, `Y` or `A`: never
/// preceded by those.)
fn has_nan(canon: &str) -> bool {
    canon.match_indices(['F', 'C', ',']).any(|(i, _)| {
        canon
            .get(i + 1..i + 17)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .is_some_and(|bits| f64::from_bits(bits).is_nan())
    })
}

/// The documented "Stricter than CPython" refusals of input CPython accepts (README).
fn documented_stricter(message: &str) -> bool {
    [
        // INT/LONG/GET/PUT: C `strtol` forms (octal, NUL-terminated).
        "could not convert string to int",
        "invalid literal for int()",
        // PEP 3154 framing.
        "exhausted before end of frame",
        "beginning of a new frame before end of current frame",
        // Container opcodes on non-containers (CVE-2026-24747).
        "needs a dict or an object of an allowed class",
        "needs a list or an object of an allowed class",
        "needs a set or an object of an allowed class",
        "object has no attribute 'append'",
        "object has no attribute 'add'",
        "object has no attribute 'extend'",
        // BUILD on a class or function, refused whatever the state (CPython accepts a `None`
        // state, or an empty dict on a class, when the object has no `__setstate__`).
        "it would modify a class or function",
    ]
    .iter()
    .any(|p| message.contains(p))
}

fn inputs(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
#[ignore = "replays the fuzz corpora: CORPUS=fuzz/corpus cargo test --release --test corpus_replay -- --ignored"]
fn corpora_decode_like_cpython() {
    let root = PathBuf::from(std::env::var("CORPUS").unwrap_or_else(|_| "fuzz/corpus".into()));
    let files = inputs(&root);
    assert!(!files.is_empty(), "no inputs under {}", root.display());
    // Our side runs on a thread with a large stack: `canon` recurses into set members.
    let handle = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || replay(files))
        .expect("thread");
    let (counts, failures) = handle.join().expect("replay");
    for (what, n) in &counts {
        println!("{n:7}  {what}");
    }
    common::assert_no_failures(&failures, "inputs decode differently from CPython");
}

fn replay(files: Vec<PathBuf>) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut worker = Worker::start();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    // Identical inputs (the same seed in several corpora) are replayed once. Each file is read
    // once, and one gone by then (a fuzzer running alongside replaces files) is skipped.
    let mut seen = HashSet::new();
    for path in &files {
        let Ok(data) = std::fs::read(path) else {
            continue;
        };
        let mut hasher = std::hash::DefaultHasher::new();
        data.hash(&mut hasher);
        if !seen.insert(hasher.finish()) {
            continue;
        }
        let ours = ours(&data);
        let theirs = match worker.run(&data) {
            Some(t) => t,
            None => {
                worker = Worker::start();
                Outcome::Err {
                    class: "crash".into(),
                    category: None,
                    message: String::new(),
                }
            }
        };
        let p = path.display();
        let verdict = match (&ours, &theirs) {
            (Outcome::Ok(Some(a)), Outcome::Ok(Some(b))) if a == b => "both ok, same value",
            (Outcome::Ok(Some(a)), Outcome::Ok(Some(_))) if has_nan(a) => {
                "both ok, a NaN inside (outcome only)"
            }
            (Outcome::Ok(Some(_)), Outcome::Ok(Some(b))) if b.contains("?memoryview") => {
                "both ok, a READONLY_BUFFER inside (outcome only)"
            }
            (Outcome::Ok(Some(a)), Outcome::Ok(Some(b))) => {
                failures.push(format!(
                    "{p}: we return {a:.200} where CPython returns {b:.200}"
                ));
                "both ok, DIFFERENT VALUES"
            }
            (Outcome::Ok(_), Outcome::Ok(_)) => "both ok, too large to compare",
            (Outcome::Ok(_), Outcome::Err { class, .. }) if class == "MemoryError" => {
                "we decode, CPython runs out of memory"
            }
            (Outcome::Ok(_), Outcome::Err { class, .. }) if class == "RecursionError" => {
                "we decode, CPython passes its recursion limit"
            }
            (Outcome::Ok(_), Outcome::Timeout) => "we decode, CPython times out",
            (Outcome::Ok(_), Outcome::Err { class, message, .. }) => {
                failures.push(format!(
                    "{p}: we accept where CPython raises {class}({message})"
                ));
                "WE ACCEPT, CPYTHON FAILS"
            }
            (
                Outcome::Err {
                    category, message, ..
                },
                Outcome::Ok(_),
            ) => match category {
                Some(Category::Malformed | Category::Truncated)
                    if !documented_stricter(message) =>
                {
                    failures.push(format!("{p}: we fail ({message}) where CPython decodes"));
                    "WE FAIL, CPYTHON DECODES"
                }
                Some(Category::Malformed | Category::Truncated) => {
                    "CPython decodes, we refuse (documented stricter)"
                }
                Some(Category::Limit) => "CPython decodes, we hit a limit",
                Some(Category::Unsupported) => "CPython decodes, we do not represent it",
                _ => "CPython decodes, we refuse (other)",
            },
            (Outcome::Err { class: a, .. }, Outcome::Err { class: b, .. }) if a == b => {
                "both fail, same exception class"
            }
            (
                Outcome::Err {
                    class: a,
                    message: m,
                    category,
                },
                Outcome::Err {
                    class: b,
                    message: n,
                    ..
                },
            ) => {
                if std::env::var_os("REPLAY_SHOW_CLASSES").is_some() {
                    println!("classes: {a} ({category:?}) vs {b}: {m:.120} | {n:.120}");
                }
                "both fail, other exception class"
            }
            (Outcome::Err { .. }, _) => "both fail, other exception class",
            (Outcome::Timeout, _) => unreachable!("our side has no timeout"),
        };
        *counts.entry(verdict.to_owned()).or_default() += 1;
    }
    (counts, failures)
}
