//! Regression tests: every input a fuzzer found to crash, hang or disagree, kept in
//! `fuzz/regressions/` and replayed through every entry point the fuzz targets use.

use std::time::{Duration, Instant};

use restricted_unpickler::{Class, Limits, Unpickler, Value, restricted_loads};

/// A writer that refuses more than `0` bytes (formatting must stop at the first error).
struct Bounded(usize);

impl std::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > self.0 {
            return Err(std::fmt::Error);
        }
        self.0 -= s.len();
        Ok(())
    }
}

fn exercise(v: &Value) {
    use std::fmt::Write;
    let _ = write!(Bounded(1 << 20), "{v}");
    let _ = write!(Bounded(1 << 20), "{v:?}");
    let c = v.clone();
    assert!(c.strict_eq(v) || format!("{v}").contains("nan"));
    let _ = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), v);
}

fn replay(name: &str) {
    let path = format!("fuzz/regressions/{name}");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = Instant::now();
    if let Ok(v) = restricted_loads(&data) {
        exercise(&v);
    }
    let permissive = |_: &str, _: &str| Some(Class::Record);
    if let Ok(v) = Unpickler::from_slice(&data).find_class(permissive).load() {
        exercise(&v);
    }
    let mut tiny = Limits::default();
    tiny.max_depth = 8;
    tiny.max_stack = 64;
    tiny.work_base = 4096;
    tiny.work_per_input_byte = 4;
    let _ = Unpickler::from_slice(&data).limits(tiny).load();
    // Slice and stream readers agree.
    let mut a = Unpickler::from_slice(&data);
    let mut b = Unpickler::new(std::io::Cursor::new(&data));
    for _ in 0..8 {
        match (a.load(), b.load()) {
            (Ok(x), Ok(y)) => assert!(
                x.strict_eq(&y) || format!("{x}") == format!("{y}"),
                "{name}"
            ),
            (Err(x), Err(y)) => {
                assert_eq!(x.category(), y.category(), "{name}: {x} vs {y}");
                break;
            }
            (x, y) => panic!("{name}: slice {x:?} vs stream {y:?}"),
        }
    }
    let limit = if cfg!(debug_assertions) { 20 } else { 2 };
    assert!(
        start.elapsed() < Duration::from_secs(limit),
        "{name} took {:?}",
        start.elapsed()
    );
}

macro_rules! regressions {
    ($($test:ident => $file:literal,)*) => {$(
        #[test]
        fn $test() {
            replay($file);
        }
    )*};
}

regressions! {
    hashing_a_tuple_of_one_shared_long_int_is_linear => "loads-hash-shared-long-key",
    hashing_a_tuple_of_one_shared_long_str_is_linear => "loads-hash-shared-str-key",
    value_ops_hash_of_shared_long_str_is_linear => "value_ops-hash-shared-str",
    stream_frame_longer_than_input_is_truncated => "stream-frame-longer-than-input",
    stream_frame_overrun_matches_slice => "stream-frame-overrun-vs-truncated",
    stream_frame_past_eof_matches_slice => "stream-frame-past-eof-ok",
    shared_tuple_inside_many_keys_is_hashed_once => "loads-hash-shared-tuple-keys",
    // (Reproduces only under `cargo fuzz`, where the memo plan starts at 4 entries; with the
    // real threshold the case is `dropped_entries_fail_like_kept_ones` in tests/memo_plan.rs.)
    stream_memoize_above_mark_after_plan => "stream-memoize-above-mark-after-plan",
    // Found by the corpus replay against CPython (tests/corpus_replay.rs), which checks them.
    encoding_name_with_a_surrogate_is_refused => "loads_tiny_limits-encoding-name-surrogate",
    readonly_buffer_is_bytes => "loads_tiny_limits-readonly-buffer",
    tuple_of_a_set_is_refused => "loads_tiny_limits-tuple-of-set-order",
}

/// `tuple({False, (False, False), 1})` by `REDUCE`: CPython's tuple follows its set's hash
/// table, `(False, 1, (False, False))`; the insertion order we keep gave `(False, (False,
/// False), 1)`. An ordered result of a set of two members or more is refused instead.
#[test]
fn tuple_of_a_set_names_the_reason() {
    let data =
        std::fs::read("fuzz/regressions/loads_tiny_limits-tuple-of-set-order").expect("file");
    let err = restricted_loads(&data).unwrap_err();
    assert_eq!(
        err.category(),
        restricted_unpickler::Category::Unsupported,
        "{err}"
    );
    assert!(
        err.to_string().contains("tuple() of a set of 3 members"),
        "{err}"
    );
    // One member has one order: decoded.
    let one = b"cbuiltins\ntuple\n(\x8f(K\x01\x90tR.";
    assert_eq!(
        restricted_loads(one).unwrap(),
        Value::Tuple(vec![Value::from(1)].into())
    );
}

#[test]
fn every_regression_file_has_a_test() {
    let src = std::fs::read_to_string("tests/regression.rs").expect("self");
    for entry in std::fs::read_dir("fuzz/regressions").expect("dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        assert!(
            src.contains(&format!("\"{name}\"")),
            "no test replays {name}"
        );
    }
}
