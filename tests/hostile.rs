//! Resource exhaustion (attacks.md §3): every hostile input ends in a clean error or a correct
//! value, in bounded time and memory, without a panic or a stack overflow.
//!
//! Anything that could recurse runs in a thread with a 2 MiB stack. The tests of this file take
//! a shared lock so that their timings and RSS measurements do not disturb each other.

use std::fmt::{self, Write as _};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use restricted_unpickler::{Allowlist, Error, Limits, Unpickler, Value, restricted_loads};

// ---- helpers ---------------------------------------------------------------------------------

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the tests of this file (timings and RSS are process-wide).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SMALL_STACK: usize = 2 << 20;

/// Runs `f` in a thread with a 2 MiB stack; a panic (or stack overflow abort) fails the test.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A time budget: `release` in release builds, three times more in debug builds.
fn budget(release: Duration) -> Duration {
    if cfg!(debug_assertions) {
        release * 3
    } else {
        release
    }
}

const INSTANT: Duration = Duration::from_millis(100);
const SECOND: Duration = Duration::from_secs(1);

/// Runs `f`, asserting it takes less than `limit`.
#[track_caller]
fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    assert!(took < limit, "{what} took {took:?} (budget {limit:?})");
    out
}

fn load_with(data: &[u8], limits: Limits) -> Result<Value, Error> {
    Unpickler::from_slice(data).limits(limits).load()
}

fn load_stream_with(data: &[u8], limits: Limits) -> Result<Value, Error> {
    Unpickler::new(std::io::Cursor::new(data.to_vec()))
        .limits(limits)
        .load()
}

#[track_caller]
fn expect_limit(r: Result<Value, Error>, name: &str) -> Error {
    match r {
        Ok(v) => panic!(
            "expected the limit {name}, got a value: {}",
            bounded(&v, 200)
        ),
        Err(e) => {
            assert!(e.is_limit(), "expected the limit {name}, got {e:?}");
            assert!(
                e.to_string().contains(name),
                "limit error {e} should name {name}"
            );
            e
        }
    }
}

/// An `fmt::Write` that fails once more than `cap` bytes were written.
struct Bounded {
    len: usize,
    cap: usize,
    out: String,
}

impl Bounded {
    fn new(cap: usize) -> Self {
        Bounded {
            len: 0,
            cap,
            out: String::new(),
        }
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len += s.len();
        if self.len > self.cap {
            return Err(fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

const MB: usize = 1 << 20;

/// The Display of `v`, cut at `cap` bytes (with `…` when cut).
fn bounded(v: &Value, cap: usize) -> String {
    let mut w = Bounded::new(cap);
    match write!(w, "{v}") {
        Ok(()) => w.out,
        Err(_) => w.out + "…",
    }
}

/// Display and Debug into a 1 MB bounded writer: (display result, debug result, display text).
fn display_debug_bounded(v: &Value) -> (fmt::Result, fmt::Result, String) {
    let mut d = Bounded::new(MB);
    let rd = write!(d, "{v}");
    let mut g = Bounded::new(MB);
    let rg = write!(g, "{v:?}");
    (rd, rg, d.out)
}

fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Resident set size of this process, in bytes (Linux), if known.
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const RSS_GROWTH_MAX: u64 = 64 << 20;

#[track_caller]
fn assert_rss_growth(what: &str, before: Option<u64>) {
    if let (Some(a), Some(b)) = (before, rss()) {
        let grew = b.saturating_sub(a);
        assert!(
            grew < RSS_GROWTH_MAX,
            "{what}: RSS grew by {} MiB",
            grew >> 20
        );
    }
}

fn le64(n: u64) -> [u8; 8] {
    n.to_le_bytes()
}

/// `LONG1` of `v` (minimal two's complement, little-endian).
fn long1(v: i128) -> Vec<u8> {
    let mut bytes = v.to_le_bytes().to_vec();
    while bytes.len() > 1 {
        let last = bytes[bytes.len() - 1];
        let prev = bytes[bytes.len() - 2];
        if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
            bytes.pop();
        } else {
            break;
        }
    }
    let mut out = vec![0x8a, u8::try_from(bytes.len()).unwrap()];
    out.extend(bytes);
    out
}

// ---- length prefixes far beyond the input -----------------------------------------------------

/// `(name, pickle)`: each claims far more bytes than it holds.
fn huge_length_claims() -> Vec<(&'static str, Vec<u8>)> {
    let with = |head: &[u8], op: u8, len: &[u8], tail: &[u8]| {
        let mut d = head.to_vec();
        d.push(op);
        d.extend_from_slice(len);
        d.extend_from_slice(tail);
        d
    };
    let p4 = b"\x80\x04";
    let p5 = b"\x80\x05";
    vec![
        (
            "BINBYTES8 2^63-1",
            with(p4, 0x8e, &le64(i64::MAX as u64), b"abc."),
        ),
        ("BINBYTES8 2^64-1", with(p4, 0x8e, &le64(u64::MAX), b"abc.")),
        ("BINBYTES8 2^63", with(p4, 0x8e, &le64(1 << 63), b"abc.")),
        (
            "BINUNICODE8 2^63-1",
            with(p4, 0x8d, &le64(i64::MAX as u64), b"abc."),
        ),
        (
            "BINUNICODE8 2^64-1",
            with(p4, 0x8d, &le64(u64::MAX), b"abc."),
        ),
        (
            "BYTEARRAY8 2^63-1",
            with(p5, 0x96, &le64(i64::MAX as u64), b"abc."),
        ),
        (
            "BYTEARRAY8 2^64-1",
            with(p5, 0x96, &le64(u64::MAX), b"abc."),
        ),
        (
            "BINUNICODE 2^32-1",
            with(b"", b'X', &u32::MAX.to_le_bytes(), b"abc."),
        ),
        (
            "BINBYTES 2^32-1",
            with(b"\x80\x03", b'B', &u32::MAX.to_le_bytes(), b"abc."),
        ),
        (
            "LONG4 2^31-1",
            with(b"\x80\x02", 0x8b, &i32::MAX.to_le_bytes(), b"abc."),
        ),
        (
            "BINSTRING 2^31-1",
            with(b"", b'T', &i32::MAX.to_le_bytes(), b"abc."),
        ),
        ("FRAME 2^64-1", with(p4, 0x95, &le64(u64::MAX), b"N.")),
        ("FRAME 2^63", with(p4, 0x95, &le64(1 << 63), b"N.")),
        (
            "FRAME 2^63-1",
            with(p4, 0x95, &le64(i64::MAX as u64), b"N."),
        ),
        ("FRAME 2^32", with(p4, 0x95, &le64(1 << 32), b"N.")),
        // Moderate claims, below every default limit: only the input length can refuse them.
        ("BINBYTES8 2^30", with(p4, 0x8e, &le64(1 << 30), b"abc.")),
        (
            "BINUNICODE 2^30",
            with(b"", b'X', &(1u32 << 30).to_le_bytes(), b"abc."),
        ),
        (
            "BINSTRING 2^30",
            with(b"", b'T', &(1i32 << 30).to_le_bytes(), b"abc."),
        ),
        (
            "LONG4 2^22",
            with(b"\x80\x02", 0x8b, &(1i32 << 22).to_le_bytes(), b"abc."),
        ),
    ]
}

#[track_caller]
fn check_clean_refusal(name: &str, how: &str, r: Result<Value, Error>) {
    let e = match r {
        Ok(v) => panic!(
            "{name} ({how}): expected an error, got {}",
            bounded(&v, 100)
        ),
        Err(e) => e,
    };
    let msg = e.to_string();
    let ok = e.is_eof()
        || e.is_limit()
        || msg.contains("exceeds system's maximum")
        || msg.contains("truncated");
    assert!(ok, "{name} ({how}): unexpected error {e:?}");
}

#[test]
fn huge_length_prefixes_are_clean_errors_instantly() {
    let _g = serial();
    for (name, data) in huge_length_claims() {
        let before = rss();
        timed(name, budget(INSTANT), || {
            check_clean_refusal(name, "default limits", restricted_loads(&data));
            // Without limits, only the input length protects us: still no allocation.
            check_clean_refusal(name, "Limits::none", load_with(&data, Limits::none()));
        });
        assert_rss_growth(name, before);
    }
}

#[test]
fn huge_length_prefixes_through_a_stream_are_clean_errors() {
    // A stream does not know how much input remains: the reader must grow as bytes arrive.
    let _g = serial();
    for (name, data) in huge_length_claims() {
        if matches!(name, "FRAME 2^63-1" | "FRAME 2^32") {
            // See stream_frame_longer_than_the_input_is_refused.
            continue;
        }
        let before = rss();
        timed(name, budget(INSTANT), || {
            check_clean_refusal(name, "stream", load_stream_with(&data, Limits::default()));
            check_clean_refusal(
                name,
                "stream, Limits::none",
                load_stream_with(&data, Limits::none()),
            );
        });
        assert_rss_growth(name, before);
    }
}

#[test]

fn stream_frame_longer_than_the_input_is_refused() {
    // PROTO 4, FRAME 255, NONE, STOP: CPython 3.11 raises 'pickle data was truncated' for
    // pickle.loads, pickle.load(io.BytesIO) and pickle.load(file) alike, and so does our
    // slice reader; the stream reader returns None.
    let _g = serial();
    for data in [
        &b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N."[..],
        b"\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00N.",
        b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7fN.",
    ] {
        let slice = restricted_loads(data).unwrap_err();
        assert!(slice.is_eof(), "{slice:?}");
        let stream = load_stream_with(data, Limits::default());
        check_clean_refusal("stream FRAME", "stream", stream);
    }
}

#[test]
fn huge_length_prefix_errors_are_classified() {
    let _g = serial();
    let claims = huge_length_claims();
    let get = |n: &str| &claims.iter().find(|(name, _)| *name == n).unwrap().1;
    // Above i64::MAX: CPython's OverflowError wording.
    for n in [
        "BINBYTES8 2^64-1",
        "BINUNICODE8 2^64-1",
        "BYTEARRAY8 2^64-1",
    ] {
        let e = restricted_loads(get(n)).unwrap_err();
        assert!(
            e.to_string()
                .contains("exceeds system's maximum size of 9223372036854775807 bytes"),
            "{n}: {e}"
        );
    }
    for n in ["FRAME 2^64-1", "FRAME 2^63"] {
        let e = restricted_loads(get(n)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("FRAME length exceeds system's maximum of 9223372036854775807 bytes"),
            "{n}: {e}"
        );
    }
    // Beyond max_payload_len (2 GiB): a limit error, before the input check.
    for n in ["BINBYTES8 2^63-1", "BINUNICODE 2^32-1", "BINBYTES 2^32-1"] {
        expect_limit(restricted_loads(get(n)), "max_payload_len");
    }
    expect_limit(restricted_loads(get("LONG4 2^31-1")), "max_long_bytes");
    // Within the limits but beyond the input: truncated, at the end of the input.
    for n in [
        "BINSTRING 2^31-1",
        "BINBYTES8 2^30",
        "FRAME 2^32",
        "LONG4 2^22",
    ] {
        let data = get(n);
        let e = restricted_loads(data).unwrap_err();
        assert!(e.is_eof(), "{n}: {e:?}");
        assert_eq!(
            e.to_string().split(" (").next(),
            Some("pickle data was truncated"),
            "{n}"
        );
    }
}

// ---- sparse memo ----------------------------------------------------------------------------

#[test]
fn sparse_memo_indices_allocate_nothing() {
    let _g = serial();
    let before = rss();
    // `]replace.`: EMPTY_LIST, LONG_BINPUT 0x616c7065 ('epla'), then GLOBAL 'e.' without a
    // newline. CPython 3.11 raises MemoryError at the LONG_BINPUT (it resizes the memo to 2×idx).
    let r = timed("]replace.", budget(INSTANT), || {
        restricted_loads(b"]replace.")
    });
    let e = r.unwrap_err();
    assert!(
        e.is_eof(),
        "]replace. should end truncated in the GLOBAL: {e:?}"
    );

    // LONG_BINPUT 0xffffffff (the largest index LONG_BINPUT can name), then read it back.
    let v = timed("LONG_BINPUT 2^32-1", budget(INSTANT), || {
        restricted_loads(b"]r\xff\xff\xff\xff0j\xff\xff\xff\xff.")
    })
    .unwrap();
    assert_eq!(v.to_string(), "[]");

    // Text PUT of 2^63-2: beyond max_memo_index by default ...
    let data = b"]p9223372036854775806\n0g9223372036854775806\n.";
    let r = timed("PUT 2^63-2", budget(INSTANT), || restricted_loads(data));
    expect_limit(r, "max_memo_index");
    // ... and a sparse entry without limits.
    let v = timed("PUT 2^63-2, no limits", budget(INSTANT), || {
        load_with(data, Limits::none())
    })
    .unwrap();
    assert_eq!(v.to_string(), "[]");

    // PUT with a 4000-digit index: CPython's OverflowError, without bignum work.
    let mut data = b"]p".to_vec();
    data.extend(std::iter::repeat_n(b'9', 4000));
    data.extend_from_slice(b"\n.");
    for limits in [Limits::default(), Limits::none()] {
        let r = timed("PUT 4000 digits", budget(INSTANT), || {
            load_with(&data, limits)
        });
        let e = r.unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Python int too large to convert to C ssize_t"),
            "{e}"
        );
    }

    // 2000 PUTs spread over [0, 4.2e9), then GETs of a few of them.
    let mut data = b"\x80\x02]".to_vec();
    for i in 0..2000u32 {
        data.push(b'r');
        data.extend_from_slice(&(i * 2_100_000).to_le_bytes());
    }
    data.extend_from_slice(b"0(j\x00\x00\x00\x00j");
    data.extend_from_slice(&(1999u32 * 2_100_000).to_le_bytes());
    data.extend_from_slice(b"l.");
    let v = timed("2000 spread PUTs", budget(INSTANT), || {
        restricted_loads(&data)
    })
    .unwrap();
    assert_eq!(v.to_string(), "[[], []]");
    let items = v.as_slice().unwrap();
    assert!(
        items[0]
            .as_list()
            .unwrap()
            .ptr_eq(items[1].as_list().unwrap())
    );
    assert_rss_growth("sparse memo", before);
}

// ---- billion laughs ---------------------------------------------------------------------------

/// 30 levels of lists, each holding 10 `BINGET`s of the previous level: 10^30 leaves.
fn memo_laughs() -> Vec<u8> {
    let mut d = b"\x80\x02]q\x00".to_vec();
    for i in 1..=30u8 {
        d.extend_from_slice(b"](");
        for _ in 0..10 {
            d.push(b'h');
            d.push(i - 1);
        }
        d.extend_from_slice(&[b'e', b'q', i]);
        if i < 30 {
            d.push(b'0');
        }
    }
    d.push(b'.');
    d
}

/// Walks the levels: every level's 10 items must be the same shared list.
#[track_caller]
fn assert_shared_levels(v: &Value, levels: usize) {
    let mut cur = v.as_list().expect("a list").clone();
    for level in (1..=levels).rev() {
        assert_eq!(cur.len(), 10, "level {level}");
        let first = cur[0].as_list().expect("a list").clone();
        for (i, item) in cur.iter().enumerate() {
            let l = item.as_list().expect("a list");
            assert!(l.ptr_eq(&first), "level {level} item {i} is a copy");
        }
        cur = first;
    }
    assert!(cur.is_empty(), "the innermost level is the empty list");
}

#[test]
fn billion_laughs_memo_is_shared_and_fast() {
    let _g = serial();
    let data = memo_laughs();
    assert!(data.len() < 800, "{}", data.len());
    let before = rss();
    small_stack(move || {
        let v = timed("memo laughs", budget(INSTANT), || restricted_loads(&data)).unwrap();
        assert_shared_levels(&v, 30);
        let w = restricted_loads(&data).unwrap();
        timed("laughs ops", budget(SECOND), || {
            let c = v.clone();
            assert!(c.as_list().unwrap().ptr_eq(v.as_list().unwrap()));
            assert!(v == c);
            assert!(v == w, "== on two decodes");
            assert!(v.strict_eq(&w));
            assert_eq!(hash_of(&v), hash_of(&w));
            let (rd, rg, text) = display_debug_bounded(&v);
            assert!(
                rd.is_err() && rg.is_err(),
                "10^30 leaves cannot fit in 1 MB"
            );
            assert!(
                text.starts_with("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[], [], "),
                "{}",
                &text[..60]
            );
        });
    });
    assert_rss_growth("memo laughs", before);
}

/// `MARK`×30, `NONE`, then (`DUP`×9, `LIST`)×30: no memo, 10^30 leaves.
fn dup_laughs(levels: usize) -> Vec<u8> {
    let mut d = b"\x80\x02".to_vec();
    d.extend(std::iter::repeat_n(b'(', levels));
    d.push(b'N');
    for _ in 0..levels {
        d.extend_from_slice(b"222222222l");
    }
    d.push(b'.');
    d
}

#[test]
fn billion_laughs_dup_is_shared_and_fast() {
    let _g = serial();
    let data = dup_laughs(30);
    let before = rss();
    small_stack(move || {
        let v = timed("DUP laughs", budget(INSTANT), || restricted_loads(&data)).unwrap();
        // Levels 30..2 hold lists; level 1 holds ten Nones.
        let mut cur = v.as_list().expect("a list").clone();
        for level in (2..=30).rev() {
            let first = cur[0].as_list().expect("a list").clone();
            assert_eq!(cur.len(), 10);
            assert!(
                cur.iter().all(|x| x.as_list().unwrap().ptr_eq(&first)),
                "level {level}"
            );
            cur = first;
        }
        assert_eq!(cur.len(), 10);
        assert!(cur.iter().all(Value::is_none));
        let w = restricted_loads(&data).unwrap();
        timed("DUP laughs ops", budget(SECOND), || {
            assert!(v == v.clone());
            assert!(v == w);
            assert!(v.strict_eq(&w));
            assert_eq!(hash_of(&v), hash_of(&w));
            let (rd, rg, _) = display_debug_bounded(&v);
            assert!(rd.is_err() && rg.is_err());
        });
    });
    assert_rss_growth("DUP laughs", before);
}

/// `t0 = ()`, `t_{i+1} = (t_i, t_i)` for 90 levels (2^90 leaves), used as a dict key and as a
/// set member: `({t90: None}, {t90})`.
fn tuple_dag(levels: u8) -> Vec<u8> {
    let mut d = b"\x80\x04)q\x00".to_vec();
    for i in 0..levels {
        d.extend_from_slice(&[b'h', i, b'h', i, 0x86, b'q', i + 1, b'0']);
    }
    // {t90: None}
    d.extend_from_slice(&[b'}', b'h', levels, b'N', b's']);
    // {t90} via EMPTY_SET, MARK, GET, ADDITEMS
    d.extend_from_slice(&[0x8f, b'(', b'h', levels, 0x90]);
    d.extend_from_slice(b"\x86.");
    d
}

#[test]
fn tuple_dag_as_dict_key_and_set_member_is_fast() {
    let _g = serial();
    let data = tuple_dag(90);
    let before = rss();
    small_stack(move || {
        let v = timed("tuple DAG", budget(SECOND), || restricted_loads(&data))
            .unwrap_or_else(|e| panic!("{e}"));
        let w = restricted_loads(&data).unwrap();
        timed("tuple DAG ops", budget(SECOND), || {
            let pair = v.as_tuple().expect("a tuple");
            let dict = pair[0].as_dict().expect("a dict");
            let set = pair[1].as_set().expect("a set");
            assert_eq!(dict.len(), 1);
            assert_eq!(set.len(), 1);
            let key = dict.keys().next().unwrap();
            let member = set.iter().next().unwrap();
            assert!(key.as_tuple().unwrap().ptr_eq(member.as_tuple().unwrap()));
            // The DAG stays shared: both halves of every level are one tuple.
            let mut t = key.as_tuple().unwrap().clone();
            for _ in 0..90 {
                let a = t[0].as_tuple().unwrap().clone();
                assert!(a.ptr_eq(t[1].as_tuple().unwrap()));
                t = a;
            }
            assert!(t.is_empty());
            // Lookups with a key from another decode (different allocations).
            let other_key = w.as_tuple().unwrap()[1]
                .as_set()
                .unwrap()
                .iter()
                .next()
                .unwrap();
            assert_eq!(dict.get(other_key), Some(&Value::None));
            assert!(set.contains(other_key));
            let c = v.clone();
            assert!(v == c);
            assert!(v == w);
            assert!(v.strict_eq(&w));
            assert_eq!(hash_of(&v), hash_of(&w));
            assert_eq!(hash_of(key), hash_of(other_key));
            let (rd, rg, text) = display_debug_bounded(&v);
            assert!(rd.is_err() && rg.is_err(), "2^90 leaves cannot fit in 1 MB");
            assert!(text.starts_with("({((((((("), "{}", &text[..20]);
        });
    });
    assert_rss_growth("tuple DAG", before);
}

#[test]
fn two_independent_tuple_dags_as_equal_keys_are_fast() {
    // Two separately built 90-level DAGs (no shared node): as dict keys they are equal, so the
    // dict has one key; comparing them must not expand 2^90 leaves.
    let _g = serial();
    let mut data = b"\x80\x04".to_vec();
    for base in [0u8, 100] {
        data.extend_from_slice(&[b')', b'q', base]);
        for i in 0..90u8 {
            let (a, b) = (base + i, base + i + 1);
            data.extend_from_slice(&[b'h', a, b'h', a, 0x86, b'q', b, b'0']);
        }
        data.push(b'0');
    }
    // {A: None, B: 1} and frozenset({A, B})
    data.extend_from_slice(&[b'}', b'(', b'h', 90, b'N', b'h', 190, b'K', 1, b'u']);
    data.extend_from_slice(&[b'(', b'h', 90, b'h', 190, 0x91, 0x86, b'.']);
    small_stack(move || {
        let v = timed("two DAGs", budget(SECOND), || restricted_loads(&data))
            .unwrap_or_else(|e| panic!("{e}"));
        let pair = v.as_tuple().unwrap();
        let d = pair[0].as_dict().unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d.values().next(), Some(&Value::from(1)));
        assert_eq!(pair[1].as_frozenset().unwrap().len(), 1);
    });
}

#[test]
fn frozenset_chain_with_shared_members_is_fast() {
    // F0 = frozenset(); F_{i+1} = frozenset({F_i, (F_i,)}), 80 levels.
    let _g = serial();
    let mut data = b"\x80\x04(\x91q\x00".to_vec();
    for i in 0..80u8 {
        data.extend_from_slice(&[b'(', b'h', i, b'h', i, 0x85, 0x91, b'q', i + 1, b'0']);
    }
    data.extend_from_slice(&[b'h', 80, b'.']);
    small_stack(move || {
        let v = timed("frozenset chain", budget(SECOND), || {
            restricted_loads(&data)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let w = restricted_loads(&data).unwrap();
        timed("frozenset chain ops", budget(SECOND), || {
            assert_eq!(v.as_frozenset().unwrap().len(), 2);
            assert!(v == w);
            assert!(v.strict_eq(&w));
            assert_eq!(hash_of(&v), hash_of(&w));
            let (rd, _, _) = display_debug_bounded(&v);
            assert!(rd.is_err());
        });
    });
}

// ---- deep nesting through every path ----------------------------------------------------------

/// A way to nest: `make(levels)` builds a pickle nested `levels` deep; the result's depth is
/// `levels * depth_per_level`.
struct Nest {
    name: &'static str,
    make: fn(usize) -> Vec<u8>,
    depth_per_level: usize,
    /// The Display of the value at `levels` levels.
    repr: fn(usize) -> String,
    /// Whether `==` is identity (recorded objects, like Python's default `object.__eq__`).
    identity: bool,
}

fn nests() -> Vec<Nest> {
    vec![
        Nest {
            name: "EMPTY_LIST + APPEND",
            make: |n| {
                let mut d = b"\x80\x02".to_vec();
                d.extend(std::iter::repeat_n(b']', n));
                d.extend(std::iter::repeat_n(b'a', n - 1));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "[".repeat(n) + &"]".repeat(n),
        },
        Nest {
            name: "TUPLE1",
            make: |n| {
                let mut d = b"\x80\x02)".to_vec();
                d.extend(std::iter::repeat_n(0x85, n - 1));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "(".repeat(n) + ")" + &",)".repeat(n - 1),
        },
        Nest {
            name: "MARK ... TUPLE",
            make: |n| {
                let mut d = vec![b'('; n];
                d.extend(std::iter::repeat_n(b't', n));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "(".repeat(n) + ")" + &",)".repeat(n - 1),
        },
        Nest {
            name: "MARK ... LIST",
            make: |n| {
                let mut d = vec![b'('; n];
                d.extend(std::iter::repeat_n(b'l', n));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "[".repeat(n) + &"]".repeat(n),
        },
        Nest {
            // [1, [1, ... [1, (1, 2)]]]: each list filled by one APPENDS batch of an int and
            // the level below, the bottom a tuple of scalars built in place (a finished value
            // that nests: the batch holding it is not plain, its depth counts).
            name: "MARK ... APPENDS over a tuple of scalars",
            make: |n| {
                let mut d = b"\x80\x02".to_vec();
                d.extend(std::iter::repeat_n(*b"](K\x01", n - 1).flatten());
                d.extend_from_slice(b"K\x01K\x02\x86");
                d.extend(std::iter::repeat_n(b'e', n - 1));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "[1, ".repeat(n - 1) + "(1, 2)" + &"]".repeat(n - 1),
        },
        Nest {
            name: "EMPTY_DICT + SETITEM (values)",
            make: |n| {
                let mut d = b"\x80\x02}".to_vec();
                for _ in 1..n {
                    d.extend_from_slice(b"K\x00}");
                }
                d.extend(std::iter::repeat_n(b's', n - 1));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "{0: ".repeat(n - 1) + "{}" + &"}".repeat(n - 1),
        },
        Nest {
            name: "FROZENSET",
            make: |n| {
                let mut d = b"\x80\x04".to_vec();
                d.extend(std::iter::repeat_n(b'(', n));
                d.extend(std::iter::repeat_n(0x91, n));
                d.push(b'.');
                d
            },
            depth_per_level: 1,
            identity: false,
            repr: |n| "frozenset({".repeat(n - 1) + "frozenset()" + &"})".repeat(n - 1),
        },
        Nest {
            // my.K(my.K(...my.K()...)): REDUCE of a recorded global with a nested argument.
            // Each level is an object plus its args tuple: 2 depth units.
            name: "REDUCE of a recorded global",
            make: |n| {
                let mut d = b"\x80\x02cmy\nK\nq\x00".to_vec();
                d.extend(std::iter::repeat_n([b'h', 0], n - 1).flatten());
                d.extend_from_slice(b")R");
                d.extend(std::iter::repeat_n([0x85, b'R'], n - 1).flatten());
                d.push(b'.');
                d
            },
            depth_per_level: 2,
            identity: true,
            repr: |n| "my.K(".repeat(n) + &")".repeat(n),
        },
    ]
}

fn deep_policy() -> Allowlist {
    Allowlist::builtins().allow("my", "K")
}

fn load_deep(data: &[u8], limits: Limits) -> Result<Value, Error> {
    Unpickler::from_slice(data)
        .find_class(deep_policy())
        .limits(limits)
        .load()
}

/// Everything a caller may do with a deep value, inside the current (small-stack) thread.
/// `w` is a second, independent decode of the same pickle.
fn exercise_deep_value(name: &str, v: Value, w: Value, repr: String, identity: bool) {
    let c = v.clone();
    assert!(v == c, "{name}: == against a clone");
    assert_eq!(hash_of(&v), hash_of(&c), "{name}: Hash of a clone");
    if identity {
        // Recorded objects compare by identity: two decodes are two objects.
        assert!(v != w, "{name}: objects of two decodes compare equal");
    } else {
        assert!(v == w, "{name}: == against a second decode");
        assert!(w == v, "{name}: == against a second decode (swapped)");
        assert_eq!(hash_of(&v), hash_of(&w), "{name}: Hash");
    }
    assert!(v.strict_eq(&w), "{name}: strict_eq");
    assert!(w.strict_eq(&c), "{name}: strict_eq (swapped)");
    let (rd, rg, text) = display_debug_bounded(&v);
    assert!(rd.is_ok() && rg.is_ok(), "{name}: repr over 1 MB");
    assert!(
        text == repr,
        "{name}: repr {}… differs",
        &text[..text.len().min(60)]
    );
    let mut dbg = Bounded::new(MB);
    write!(dbg, "{w:?}").unwrap();
    assert_eq!(dbg.out, text, "{name}: Debug == Display");
    drop(c);
    drop(v);
    drop(w);
}

#[test]
fn deep_nesting_at_the_default_max_depth_through_every_path() {
    let _g = serial();
    let max_depth = Limits::default().max_depth;
    for nest in nests() {
        let levels = max_depth / nest.depth_per_level;
        assert_eq!(levels * nest.depth_per_level, max_depth);
        let ok = (nest.make)(levels);
        let over = (nest.make)(levels + 1);
        let name = nest.name;
        let repr = (nest.repr)(levels);
        let identity = nest.identity;
        small_stack(move || {
            let v = timed(name, budget(SECOND), || load_deep(&ok, Limits::default()))
                .unwrap_or_else(|e| panic!("{name} at max_depth: {e}"));
            let w = load_deep(&ok, Limits::default()).unwrap();
            let r = timed(name, budget(SECOND), || load_deep(&over, Limits::default()));
            expect_limit(r, "max_depth");
            timed(name, budget(SECOND), || {
                exercise_deep_value(name, v, w, repr, identity)
            });
        });
    }
}

#[test]
fn deep_object_edge_is_exact() {
    // The object nest above moves by 2; wrapping its deepest allowed value in one more TUPLE1
    // gives exactly max_depth + 1.
    let _g = serial();
    let max_depth = Limits::default().max_depth;
    let nest = nests().pop().unwrap();
    let mut data = (nest.make)(max_depth / 2);
    data.pop();
    data.extend_from_slice(b"\x85.");
    small_stack(move || expect_limit(load_deep(&data, Limits::default()), "max_depth"));
}

#[test]
fn deep_nesting_small_limit_every_path() {
    // Same edges with a small max_depth, to show that the limit is what refuses.
    let _g = serial();
    for nest in nests() {
        let mut limits = Limits::default();
        limits.max_depth = 20;
        let levels = 20 / nest.depth_per_level;
        let ok = load_deep(&(nest.make)(levels), limits.clone());
        assert!(ok.is_ok(), "{}: {ok:?}", nest.name);
        expect_limit(load_deep(&(nest.make)(levels + 1), limits), "max_depth");
    }
}

/// `EMPTY_LIST`×n then `APPEND`×(n−1).
fn deep_list(n: usize) -> Vec<u8> {
    let mut d = b"\x80\x02".to_vec();
    d.extend(std::iter::repeat_n(b']', n));
    d.extend(std::iter::repeat_n(b'a', n - 1));
    d.push(b'.');
    d
}

/// `EMPTY_TUPLE` then `TUPLE1`×(n−1).
fn deep_tuple(n: usize) -> Vec<u8> {
    let mut d = b"\x80\x02)".to_vec();
    d.extend(std::iter::repeat_n(0x85, n - 1));
    d.push(b'.');
    d
}

/// Decodes `data` (10^6 levels) twice without limits, compares, and drops, in a small stack.
fn million_deep(name: &'static str, data: Vec<u8>) {
    const N: usize = 1_000_000;
    small_stack(move || {
        let t = Instant::now();
        let v = load_with(&data, Limits::none()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = load_with(&data, Limits::none()).unwrap();
        assert!(v == w, "{name}: ==");
        // The innermost value really is 10^6 levels down.
        let mut depth = 1;
        let mut cur = &v;
        while let Some(x) = cur.as_slice().and_then(<[Value]>::first) {
            cur = x;
            depth += 1;
        }
        assert_eq!(depth, N);
        // Display stops at the writer's bound.
        let mut out = Bounded::new(MB);
        assert!(
            write!(out, "{v}").is_err(),
            "2×10^6 chars cannot fit in 1 MB"
        );
        drop(v);
        drop(w);
        eprintln!("10^6-deep {name}: {:?}", t.elapsed());
    });
}

#[test]
fn million_deep_list_without_limits() {
    let _g = serial();
    million_deep("list", deep_list(1_000_000));
}

#[test]
fn million_deep_tuple_without_limits() {
    let _g = serial();
    million_deep("tuple", deep_tuple(1_000_000));
}

// ---- volume ---------------------------------------------------------------------------------

#[test]
fn volume_marks_nones_memoize() {
    let _g = serial();
    const N: usize = 1_000_000;
    let before = rss();
    let mut marks = vec![b'('; N];
    marks.extend_from_slice(b"N.");
    let mut nones = vec![b'N'; N];
    nones.push(b'.');
    let mut memoize = b"\x80\x04N".to_vec();
    memoize.extend(std::iter::repeat_n(0x94, N));
    memoize.push(b'.');
    for (name, data) in [("MARK", marks), ("NONE", nones), ("MEMOIZE", memoize)] {
        let r = timed(name, budget(SECOND), || restricted_loads(&data));
        match r {
            Ok(v) => assert!(v.is_none(), "{name}: {v:?}"),
            Err(e) => assert!(e.is_limit(), "{name}: {e:?}"),
        }
    }
    // 10^6 DUPs of one list: shared, not copied.
    let mut dups = b"\x80\x02]".to_vec();
    dups.extend(std::iter::repeat_n(b'2', N));
    dups.extend_from_slice(b".");
    let v = timed("DUP", budget(SECOND), || restricted_loads(&dups)).unwrap();
    assert_eq!(v.to_string(), "[]");
    // 10^5 empty frames.
    let mut frames = b"\x80\x04".to_vec();
    for _ in 0..100_000 {
        frames.push(0x95);
        frames.extend_from_slice(&le64(0));
    }
    frames.extend_from_slice(b"N.");
    let r = timed("empty FRAMEs", budget(SECOND), || restricted_loads(&frames));
    assert!(r.as_ref().is_ok_and(Value::is_none), "{r:?}");
    assert_rss_growth("volume", before);
}

#[test]
fn long_line_without_newline_is_truncated_fast() {
    let _g = serial();
    for op in [b'V', b'c', b'I', b'L', b'F', b'S', b'p', b'g'] {
        let mut data = vec![op];
        data.extend(std::iter::repeat_n(b'1', 2 << 20));
        let r = timed("2 MB line", budget(SECOND), || restricted_loads(&data));
        let e = r.unwrap_err();
        assert!(e.is_eof() || e.is_limit(), "{}: {e:?}", op as char);
    }
}

// ---- hash flooding ----------------------------------------------------------------------------

/// `{k: None for k in keys}` in one `SETITEMS` (protocol 4), plus `set(keys)` via `ADDITEMS`.
fn flood(keys: impl Iterator<Item = i128> + Clone) -> (Vec<u8>, Vec<u8>) {
    let mut d = b"\x80\x04}(".to_vec();
    let mut s = b"\x80\x04\x8f(".to_vec();
    for k in keys {
        let enc = long1(k);
        d.extend_from_slice(&enc);
        d.push(b'N');
        s.extend_from_slice(&enc);
    }
    d.extend_from_slice(b"u.");
    s.extend_from_slice(b"\x90.");
    (d, s)
}

#[test]
fn hash_flooding_python_hash_collisions() {
    // i * (2**61 - 1): Python's hash of all of them is 0.
    let _g = serial();
    const N: i128 = 50_000;
    let m61 = (1i128 << 61) - 1;
    let (dict, set) = flood((0..N).map(|i| i * m61));
    let v = timed("colliding dict", budget(SECOND), || restricted_loads(&dict)).unwrap();
    let d = v.as_dict().unwrap();
    assert_eq!(d.len(), N as usize);
    let probe = restricted_loads(&{
        let mut p = b"\x80\x04".to_vec();
        p.extend(long1(12_345 * m61));
        p.push(b'.');
        p
    })
    .unwrap();
    assert_eq!(d.get(&probe), Some(&Value::None));
    let v = timed("colliding set", budget(SECOND), || restricted_loads(&set)).unwrap();
    assert_eq!(v.as_set().unwrap().len(), N as usize);
    assert!(v.as_set().unwrap().contains(&probe));
}

#[test]
fn hash_flooding_low_bit_collisions() {
    // i << 32: identical low 32 bits (FxHash-style weak hashers collide).
    let _g = serial();
    const N: i128 = 50_000;
    let (dict, set) = flood((0..N).map(|i| i << 32));
    let v = timed("i<<32 dict", budget(SECOND), || restricted_loads(&dict)).unwrap();
    assert_eq!(v.as_dict().unwrap().len(), N as usize);
    let v = timed("i<<32 set", budget(SECOND), || restricted_loads(&set)).unwrap();
    assert_eq!(v.as_set().unwrap().len(), N as usize);
}

#[test]
fn hash_flooding_equal_numeric_keys_across_types() {
    // 1, 1.0 and True are one key: 30 000 of each spelling collapse into 30 000 keys.
    let _g = serial();
    let mut d = b"\x80\x04}(".to_vec();
    for i in 0..30_000u32 {
        d.push(b'J');
        d.extend_from_slice(&i.to_le_bytes());
        d.push(b'N');
        d.push(b'G');
        d.extend_from_slice(&f64::from(i).to_be_bytes());
        d.push(b'N');
    }
    d.extend_from_slice(b"u.");
    let v = timed("int/float keys", budget(SECOND), || restricted_loads(&d)).unwrap();
    assert_eq!(v.as_dict().unwrap().len(), 30_000);
}

// ---- truncation at every offset ---------------------------------------------------------------

/// The pickles to truncate: tests/fixtures/values/*.pickle, or generated ones if missing.
fn truncation_corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/values");
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "pickle") {
                if let Ok(data) = std::fs::read(&p) {
                    out.push((p.file_name().unwrap().to_string_lossy().into_owned(), data));
                }
            }
        }
    }
    if out.is_empty() {
        eprintln!("{} missing: using built-in pickles", dir.display());
        let py = "import pickle,sys\n\
                  vals=[None,True,1,-300,2**70,1.5,'é\\u1234',b'\\x00\\xff',bytearray(b'ab'),\n\
                  [1,[2,(3,)]],{'a':{1,2},'b':frozenset({3})},1+2j,['a',b'x'*70000,'b']]\n\
                  for p in range(6):\n\
                  \x20   for i,v in enumerate(vals):\n\
                  \x20       sys.stdout.write('%d %d %s\\n' % (p, i, pickle.dumps(v, p).hex()))\n";
        let generated = std::process::Command::new("python3")
            .args(["-c", py])
            .output();
        if let Some(o) = generated.ok().filter(|o| o.status.success()) {
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                let parts: Vec<_> = line.split(' ').collect();
                let hex = parts[2];
                let data = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                out.push((format!("gen_{}_p{}", parts[1], parts[0]), data));
            }
        } else {
            out.push((
                "literal_list".into(),
                b"\x80\x02]q\x00(K\x01K\x02e.".to_vec(),
            ));
            out.push((
                "literal_dict".into(),
                b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.".to_vec(),
            ));
        }
    }
    out.sort();
    out
}

/// Offsets to cut at: all of them for small pickles; for larger ones the first 128, the last 64
/// and 128 spread in between (the decode of each prefix is linear, so this keeps the test fast).
fn cut_offsets(len: usize) -> Vec<usize> {
    if len <= 1024 {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..128).chain(len - 64..len).collect();
    let step = ((len - 192) / 128).max(1);
    v.extend((128..len - 64).step_by(step));
    v.sort_unstable();
    v.dedup();
    v
}

/// What truncating the corpus found (computed once, shared by the two tests below).
#[derive(Default)]
struct TruncationReport {
    /// The first prefix that did not give an `Err` (a value, or a panic).
    not_an_error: Option<(usize, String)>,
    /// The first truncation error (`is_eof()`) whose offset is not the prefix length.
    wrong_offset: Option<(usize, String)>,
    files: usize,
    skipped: usize,
    prefixes: usize,
    non_eof: usize,
}

impl TruncationReport {
    fn merge(&mut self, other: TruncationReport) {
        for (mine, theirs) in [
            (&mut self.not_an_error, other.not_an_error),
            (&mut self.wrong_offset, other.wrong_offset),
        ] {
            if let Some(t) = theirs {
                if mine.as_ref().is_none_or(|m| t.0 < m.0) {
                    *mine = Some(t);
                }
            }
        }
        self.files += other.files;
        self.skipped += other.skipped;
        self.prefixes += other.prefixes;
        self.non_eof += other.non_eof;
    }
}

/// Truncates every `nth` pickle of the corpus starting at `first`.
fn truncate_some(corpus: &[(String, Vec<u8>)], first: usize, nth: usize) -> TruncationReport {
    let mut report = TruncationReport::default();
    for (index, (name, data)) in corpus.iter().enumerate().skip(first).step_by(nth) {
        // The first pickle of the file ends after its STOP (fixtures may have trailing bytes);
        // only strict prefixes of it must fail.
        let mut u = Unpickler::from_slice(data);
        if u.load().is_err() {
            report.skipped += 1;
            continue;
        }
        let end = usize::try_from(u.position()).unwrap();
        report.files += 1;
        for k in cut_offsets(end) {
            report.prefixes += 1;
            let prefix = &data[..k];
            let bad = match std::panic::catch_unwind(|| restricted_loads(prefix)) {
                Err(_) => Some((true, "PANIC".to_owned())),
                Ok(Ok(v)) => Some((true, format!("a value: {}", bounded(&v, 80)))),
                Ok(Err(e)) if e.is_eof() => (e.offset() != Some(k as u64))
                    .then(|| (false, format!("offset {:?} for {e}", e.offset()))),
                Ok(Err(_)) => {
                    report.non_eof += 1;
                    None
                }
            };
            if let Some((not_err, what)) = bad {
                let slot = if not_err {
                    &mut report.not_an_error
                } else {
                    &mut report.wrong_offset
                };
                slot.get_or_insert((index, format!("{name} cut at {k}: {what}")));
            }
        }
    }
    report
}

fn truncation_report() -> &'static TruncationReport {
    static REPORT: OnceLock<TruncationReport> = OnceLock::new();
    REPORT.get_or_init(|| {
        let corpus = truncation_corpus();
        assert!(!corpus.is_empty());
        let t = Instant::now();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
        let mut report = TruncationReport::default();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let corpus = &corpus;
                    std::thread::Builder::new()
                        .stack_size(SMALL_STACK)
                        .spawn_scoped(s, move || truncate_some(corpus, i, threads))
                        .expect("spawn")
                })
                .collect();
            for h in handles {
                report.merge(h.join().expect("no panic escapes catch_unwind"));
            }
        });
        eprintln!(
            "truncation: {} pickles ({} skipped), {} prefixes, {} non-EOF errors, {:?}",
            report.files,
            report.skipped,
            report.prefixes,
            report.non_eof,
            t.elapsed()
        );
        report
    })
}

#[test]
fn truncation_at_every_offset_is_an_error_never_a_panic() {
    let _g = serial();
    let report = truncation_report();
    assert!(report.files > 0 && report.prefixes > report.files);
    if let Some((_, bad)) = &report.not_an_error {
        panic!("{bad}");
    }
}

#[test]
fn truncation_errors_report_the_end_of_the_input() {
    let _g = serial();
    if let Some((_, bad)) = &truncation_report().wrong_offset {
        panic!("{bad}");
    }
}

#[test]
fn truncation_of_hand_made_edge_cases() {
    let _g = serial();
    // Prefixes ending exactly at an opcode boundary: "Ran out of input" at k.
    for (data, k) in [
        (&b"\x80\x02N."[..], 3),
        (b"", 0),
        (b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00", 11),
    ] {
        let e = restricted_loads(&data[..k]).unwrap_err();
        assert!(e.is_eof(), "{e:?}");
        assert_eq!(e.offset(), Some(k as u64), "{e}");
    }
    let e = restricted_loads(b"\x80\x02N").unwrap_err();
    assert!(e.to_string().starts_with("Ran out of input"), "{e}");
    // Inside an argument: "pickle data was truncated" at k.
    let e = restricted_loads(b"\x80\x02X\x05\x00\x00\x00ab").unwrap_err();
    assert!(
        e.to_string().starts_with("pickle data was truncated"),
        "{e}"
    );
    assert_eq!(e.offset(), Some(9));
}

// ---- every limit at its edge ------------------------------------------------------------------

fn with_limit(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

#[track_caller]
fn edge(name: &str, limits: &Limits, ok: &[u8], over: &[u8]) {
    let r = load_with(ok, limits.clone());
    assert!(r.is_ok(), "{name}: at the edge: {r:?}");
    expect_limit(load_with(over, limits.clone()), name);
}

#[test]
fn limit_edge_max_depth() {
    let _g = serial();
    let l = with_limit(|l| l.max_depth = 5);
    edge("max_depth", &l, &deep_list(5), &deep_list(6));
    edge("max_depth", &l, &deep_tuple(5), &deep_tuple(6));
    // A scalar has depth 0.
    let l = with_limit(|l| l.max_depth = 0);
    edge("max_depth", &l, b"K\x01.", b"].");
}

#[test]
fn limit_edge_max_stack() {
    let _g = serial();
    let l = with_limit(|l| l.max_stack = 10);
    edge(
        "max_stack",
        &l,
        &[b"N".repeat(10), b".".to_vec()].concat(),
        &[b"N".repeat(11), b".".to_vec()].concat(),
    );
}

#[test]
fn limit_edge_max_marks() {
    let _g = serial();
    let l = with_limit(|l| l.max_marks = 10);
    edge(
        "max_marks",
        &l,
        &[b"(".repeat(10), b"N.".to_vec()].concat(),
        &[b"(".repeat(11), b"N.".to_vec()].concat(),
    );
}

#[test]
fn limit_edge_max_memo_entries() {
    let _g = serial();
    let l = with_limit(|l| l.max_memo_entries = 10);
    let memoize = |n: usize| [b"\x80\x04N".to_vec(), vec![0x94; n], b".".to_vec()].concat();
    edge("max_memo_entries", &l, &memoize(10), &memoize(11));
    // Re-using an index does not count as a new entry.
    let l = with_limit(|l| l.max_memo_entries = 1);
    edge(
        "max_memo_entries",
        &l,
        b"Nq\x00q\x00q\x00.",
        b"Nq\x00q\x01.",
    );
}

#[test]
fn limit_edge_max_memo_index() {
    let _g = serial();
    let l = with_limit(|l| l.max_memo_index = 100);
    edge("max_memo_index", &l, b"Nqd.", b"Nqe.");
    edge(
        "max_memo_index",
        &l,
        b"Nr\x64\x00\x00\x00.",
        b"Nr\x65\x00\x00\x00.",
    );
    edge("max_memo_index", &l, b"Np100\n.", b"Np101\n.");
}

#[test]
fn limit_edge_max_payload_len() {
    let _g = serial();
    let l = with_limit(|l| l.max_payload_len = 10);
    let x10 = b"0123456789";
    let x11 = b"0123456789a";
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "SHORT_BINBYTES",
            [b"\x80\x03C\x0a".to_vec(), x10.to_vec(), b".".to_vec()].concat(),
            [b"\x80\x03C\x0b".to_vec(), x11.to_vec(), b".".to_vec()].concat(),
        ),
        (
            "BINUNICODE",
            [b"X\x0a\x00\x00\x00".to_vec(), x10.to_vec(), b".".to_vec()].concat(),
            [b"X\x0b\x00\x00\x00".to_vec(), x11.to_vec(), b".".to_vec()].concat(),
        ),
        (
            "BYTEARRAY8",
            [
                b"\x80\x05\x96\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec(),
                x10.to_vec(),
                b".".to_vec(),
            ]
            .concat(),
            [
                b"\x80\x05\x96\x0b\x00\x00\x00\x00\x00\x00\x00".to_vec(),
                x11.to_vec(),
                b".".to_vec(),
            ]
            .concat(),
        ),
        (
            "BINSTRING",
            [b"T\x0a\x00\x00\x00".to_vec(), x10.to_vec(), b".".to_vec()].concat(),
            [b"T\x0b\x00\x00\x00".to_vec(), x11.to_vec(), b".".to_vec()].concat(),
        ),
        (
            "UNICODE",
            [b"V".to_vec(), x10.to_vec(), b"\n.".to_vec()].concat(),
            [b"V".to_vec(), x11.to_vec(), b"\n.".to_vec()].concat(),
        ),
        (
            "bytes(n)",
            b"\x80\x02cbuiltins\nbytes\nK\x0a\x85R.".to_vec(),
            b"\x80\x02cbuiltins\nbytes\nK\x0b\x85R.".to_vec(),
        ),
    ];
    for (what, ok, over) in cases {
        let r = load_with(&ok, l.clone());
        assert!(r.is_ok(), "{what} at the edge: {r:?}");
        expect_limit(load_with(&over, l.clone()), "max_payload_len");
    }
}

#[test]
fn limit_edge_max_int_digits() {
    let _g = serial();
    // The default is CPython's sys.int_max_str_digits: 4300.
    assert_eq!(Limits::default().max_int_digits, 4300);
    let int = |n: usize| [b"I".to_vec(), vec![b'7'; n], b"\n.".to_vec()].concat();
    let long = |n: usize| [b"L".to_vec(), vec![b'7'; n], b"L\n.".to_vec()].concat();
    let neg = |n: usize| [b"I-".to_vec(), vec![b'7'; n], b"\n.".to_vec()].concat();
    let l = Limits::default();
    edge("max_int_digits", &l, &int(4300), &int(4301));
    edge("max_int_digits", &l, &long(4300), &long(4301));
    edge("max_int_digits", &l, &neg(4300), &neg(4301));
    let v = restricted_loads(&int(4300)).unwrap();
    assert_eq!(
        v.as_int().unwrap().to_bigint().to_string(),
        "7".repeat(4300)
    );
    // 0 disables the limit.
    let l = with_limit(|l| l.max_int_digits = 0);
    assert!(load_with(&int(10_000), l).is_ok());
    // A million digits is refused fast (no quadratic parse first).
    let r = timed("10^6 digits", budget(INSTANT), || {
        restricted_loads(&int(1_000_000))
    });
    expect_limit(r, "max_int_digits");
}

#[test]
fn limit_edge_max_long_bytes() {
    let _g = serial();
    let l = with_limit(|l| l.max_long_bytes = 16);
    let long1 = |n: u8| {
        [
            vec![0x80, 2, 0x8a, n],
            vec![1; usize::from(n)],
            b".".to_vec(),
        ]
        .concat()
    };
    let long4 = |n: u32| {
        [
            vec![0x80, 2, 0x8b],
            n.to_le_bytes().to_vec(),
            vec![1; n as usize],
            b".".to_vec(),
        ]
        .concat()
    };
    edge("max_long_bytes", &l, &long1(16), &long1(17));
    edge("max_long_bytes", &l, &long4(16), &long4(17));
    // A valid 8-Mbit LONG4 decodes at the default limit.
    let r = timed("8 Mbit LONG4", budget(SECOND), || {
        restricted_loads(&long4(1 << 20))
    });
    assert_eq!(r.unwrap().as_int().unwrap().bit_length(), (8 << 20) - 7);
}

/// `bytes(n)` by REDUCE of builtins.bytes (protocol 2, `BININT` n).
fn bytes_n(n: i32) -> Vec<u8> {
    [
        b"\x80\x02cbuiltins\nbytes\nJ".to_vec(),
        n.to_le_bytes().to_vec(),
        b"\x85R.".to_vec(),
    ]
    .concat()
}

#[test]
fn limit_alloc_budget_bytes_of_n() {
    let _g = serial();
    let base: u64 = 1 << 20;
    let l = with_limit(|l| {
        l.alloc_per_input_byte = 0;
        l.alloc_base = base;
    });
    assert!(load_with(&bytes_n((base - 4096) as i32), l.clone()).is_ok());
    expect_limit(load_with(&bytes_n(base as i32), l.clone()), "max_alloc");
    // The exact edge: the charge for bytes(n) is n plus a small constant.
    let (mut lo, mut hi) = (0i32, base as i32);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if load_with(&bytes_n(mid), l.clone()).is_ok() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    assert!(
        (base - 1024..=base - 32).contains(&(lo as u64)),
        "the largest bytes(n) under a {base}-byte budget is {lo}"
    );
    edge("max_alloc", &l, &bytes_n(lo), &bytes_n(lo + 1));
    // With the default limits: bytes(2**30) from a 30-byte pickle is refused, instantly.
    let before = rss();
    let r = timed("bytes(2**30)", budget(INSTANT), || {
        restricted_loads(&bytes_n(1 << 30))
    });
    expect_limit(r, "max_alloc");
    let r = timed("bytearray(2**31-1)", budget(INSTANT), || {
        restricted_loads(b"\x80\x02cbuiltins\nbytearray\nJ\xff\xff\xff\x7f\x85R.")
    });
    assert!(r.unwrap_err().is_limit());
    // bytes(2**62): LONG1 argument.
    let mut data = b"\x80\x02cbuiltins\nbytes\n".to_vec();
    data.extend(long1(1 << 62));
    data.extend_from_slice(b"\x85R.");
    let r = timed("bytes(2**62)", budget(INSTANT), || restricted_loads(&data));
    assert!(r.unwrap_err().is_limit());
    assert_rss_growth("bytes(n)", before);
}

#[test]
fn limit_work_budget_counts_elements() {
    let _g = serial();
    let l = with_limit(|l| {
        l.work_per_input_byte = 0;
        l.work_base = 1000;
    });
    // APPENDS of n Nones: n units of work (one per element copied).
    let appends = |n: usize| [b"](".to_vec(), vec![b'N'; n], b"e.".to_vec()].concat();
    let mut lo = 0;
    while load_with(&appends(lo + 1), l.clone()).is_ok() {
        lo += 1;
        assert!(lo <= 1000, "the work budget never refused APPENDS");
    }
    assert!(lo >= 900, "only {lo} elements fit in 1000 units of work");
    edge("max_work", &l, &appends(lo), &appends(lo + 1));
    // The same with a set (hashing costs work too).
    let adds = |n: usize| {
        let mut d = b"\x80\x04\x8f(".to_vec();
        for i in 0..n {
            d.push(b'M');
            d.extend_from_slice(&(i as u16).to_le_bytes());
        }
        d.extend_from_slice(b"\x90.");
        d
    };
    assert!(load_with(&adds(100), l.clone()).is_ok());
    expect_limit(load_with(&adds(1001), l.clone()), "max_work");
}

#[test]
fn limit_work_budget_counts_key_hashing_and_comparisons() {
    // Inserting n equal keys hashes and compares each: it must cost more work than
    // appending n items, so fewer fit in the same budget.
    let _g = serial();
    let l = with_limit(|l| {
        l.work_per_input_byte = 0;
        l.work_base = 1000;
    });
    let largest = |make: &dyn Fn(usize) -> Vec<u8>| {
        let mut n = 0;
        while load_with(&make(n + 1), l.clone()).is_ok() {
            n += 1;
            assert!(n <= 1000, "the work budget never refused");
        }
        expect_limit(load_with(&make(n + 1), l.clone()), "max_work");
        n
    };
    let appends = |n: usize| [b"](".to_vec(), b"K\x01".repeat(n), b"e.".to_vec()].concat();
    let dup_keys = |n: usize| [b"}(".to_vec(), b"K\x01N".repeat(n), b"u.".to_vec()].concat();
    let list_n = largest(&appends);
    let dict_n = largest(&dup_keys);
    assert!(
        dict_n < list_n,
        "{dict_n} duplicate keys vs {list_n} list items in 1000 units of work"
    );
    // The value is right at the edge: one key, last value wins.
    let v = load_with(&dup_keys(dict_n), l).unwrap();
    assert_eq!(v.as_dict().map(|d| d.len()), Some(1));
}

/// 50,000 NaN keys with the same bits: their digests are equal and no two compare equal, so
/// every insertion compares with all the others. The work limit stops it early and quickly.
#[test]
fn nan_key_flood_is_stopped_by_the_work_limit() {
    let mut data = b"}(".to_vec();
    for _ in 0..50_000 {
        data.push(b'G');
        data.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
        data.push(b'N');
    }
    data.extend_from_slice(b"u.");
    let err = timed("nan flood", budget(Duration::from_secs(3)), || {
        restricted_unpickler::restricted_loads(&data).unwrap_err()
    });
    assert!(err.is_limit(), "{err}");
    assert!(err.to_string().contains("max_work"), "{err}");
    // A few hundred NaN keys are fine (and stay distinct, as in CPython).
    let mut small = b"}(".to_vec();
    for _ in 0..300 {
        small.push(b'G');
        small.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
        small.push(b'N');
    }
    small.extend_from_slice(b"u.");
    let v = restricted_unpickler::restricted_loads(&small).expect("300 NaN keys");
    assert_eq!(v.as_dict().map(|d| d.len()), Some(300));
}

#[test]
fn nan_member_flood_in_a_set_is_stopped_by_the_work_limit() {
    // The same flood through ADDITEMS (the set's own table) and FROZENSET.
    for (open, close) in [
        (&b"\x80\x04\x8f("[..], &b"\x90."[..]),
        (b"\x80\x04(", b"\x91."),
    ] {
        let mut data = open.to_vec();
        for _ in 0..50_000 {
            data.push(b'G');
            data.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
        }
        data.extend_from_slice(close);
        let err = timed("nan set flood", budget(Duration::from_secs(3)), || {
            restricted_unpickler::restricted_loads(&data).unwrap_err()
        });
        assert!(err.to_string().contains("max_work"), "{err}");
    }
}

#[test]
fn a_nan_cluster_does_not_slow_other_keys() {
    // 2,000 NaN keys share one probe sequence; 100,000 ints inserted around them keep to
    // their own, so the dict still loads in linear time.
    let _g = serial();
    let mut data = b"\x80\x04}(".to_vec();
    for _ in 0..2_000 {
        data.push(b'G');
        data.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
        data.push(b'N');
    }
    for i in 0..100_000u32 {
        data.push(b'J');
        data.extend_from_slice(&i.to_le_bytes());
        data.push(b'N');
    }
    data.extend_from_slice(b"u.");
    let v = timed("nan cluster + ints", budget(SECOND), || {
        restricted_unpickler::restricted_loads(&data).unwrap()
    });
    let d = v.as_dict().unwrap();
    assert_eq!(d.len(), 102_000);
    assert_eq!(d.get(&Value::Int(99_999.into())), Some(&Value::None));
}

// ---- runs of ints ---------------------------------------------------------------------------

/// A list of `ints` (each one opcode with its argument) as a pickle, and the offset of each
/// int's opcode. `apart`: each int is preceded by `MARK`, `POP_MARK`, so no int follows another and
/// each takes its opcode's own arm; otherwise they follow one another and all but the first
/// are decoded as a run, without a dispatch per int.
fn int_list(ints: &[Vec<u8>], apart: bool) -> (Vec<u8>, Vec<u64>) {
    let mut data = b"\x80\x02](".to_vec();
    let mut offsets = Vec::new();
    for int in ints {
        if apart {
            data.extend_from_slice(b"(1");
        }
        offsets.push(data.len() as u64);
        data.extend_from_slice(int);
    }
    data.extend_from_slice(b"e.");
    (data, offsets)
}

/// Decoded as a run or one by one, the same ints give the same list, or fail on the same int
/// with the same error.
#[track_caller]
fn same_as_one_by_one(what: &str, ints: &[Vec<u8>], limits: &Limits) -> Result<Value, String> {
    let outcome = |apart: bool| {
        let (data, offsets) = int_list(ints, apart);
        load_with(&data, limits.clone()).map_err(|e| {
            let at = e
                .offset()
                .and_then(|o| offsets.iter().position(|&x| x == o));
            let message = e.to_string();
            let kind = message.split(" (").next().unwrap_or_default().to_owned();
            (kind, at)
        })
    };
    let (run, apart) = (outcome(false), outcome(true));
    assert_eq!(
        run.as_ref().map_err(Clone::clone).ok(),
        apart.as_ref().map_err(Clone::clone).ok(),
        "{what}"
    );
    assert_eq!(run.as_ref().err(), apart.as_ref().err(), "{what}");
    run.map_err(|(kind, at)| format!("{kind} at int {at:?}"))
}

fn long1_of(bytes: &[u8]) -> Vec<u8> {
    [vec![0x8a, bytes.len() as u8], bytes.to_vec()].concat()
}

#[test]
fn int_runs_check_and_charge_as_each_opcode_does() {
    let _g = serial();
    let mut mix = Vec::new();
    for i in 0..40u8 {
        mix.push(vec![b'K', i]);
        mix.push(vec![b'M', i, 0x80]);
        mix.push([vec![b'J'], (-i32::from(i) * 7919).to_le_bytes().to_vec()].concat());
        let n = usize::from(i % 17);
        mix.push(long1_of(&vec![0x80 | i; n]));
    }
    let defaults = Limits::default();
    let v = same_as_one_by_one("mix", &mix, &defaults).expect("the mix decodes");
    assert_eq!(v.as_list().map(|l| l.len()), Some(mix.len()));

    // A `LONG1` over `max_long_bytes` / `max_payload_len` inside a run fails at that int.
    let mut ints = vec![vec![b'K', 1]; 5];
    ints.push(long1_of(&[1, 2, 3, 4]));
    ints.extend(vec![vec![b'K', 2]; 5]);
    let l = with_limit(|l| l.max_long_bytes = 3);
    let e = same_as_one_by_one("max_long_bytes", &ints, &l).unwrap_err();
    assert!(
        e.contains("max_long_bytes") && e.ends_with("int Some(5)"),
        "{e}"
    );
    let l = with_limit(|l| l.max_long_bytes = 4);
    same_as_one_by_one("max_long_bytes at the edge", &ints, &l).expect("at the edge");
    let l = with_limit(|l| l.max_payload_len = 3);
    let e = same_as_one_by_one("max_payload_len", &ints, &l).unwrap_err();
    assert!(
        e.contains("max_payload_len") && e.ends_with("int Some(5)"),
        "{e}"
    );

    // The memory budget runs out on the same `LONG1` of a run, whichever the budget.
    let longs: Vec<Vec<u8>> = (0..200u8).map(|i| long1_of(&[i; 8])).collect();
    let mut failed = 0;
    for base in (0..20_000u64).step_by(997) {
        let l = with_limit(|l| {
            l.alloc_per_input_byte = 0;
            l.alloc_base = base;
        });
        if same_as_one_by_one("max_alloc", &longs, &l).is_err() {
            failed += 1;
        }
    }
    assert!(failed > 5, "the budget never ran out inside the run");
    // With a budget that grows with the input, too.
    for per_byte in [1u64, 2, 3, 4, 5] {
        let l = with_limit(|l| {
            l.alloc_per_input_byte = per_byte;
            l.alloc_base = 100;
        });
        let _ = same_as_one_by_one("max_alloc per byte", &longs, &l);
    }

    // The stack fills up on the same int.
    let l = with_limit(|l| l.max_stack = 50);
    let e = same_as_one_by_one("max_stack", &mix, &l).unwrap_err();
    assert!(e.contains("max_stack"), "{e}");
}

// ---- runs of memo GETs ----------------------------------------------------------------------

/// Whether `a` and `b` are one shared container.
fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(a), Value::List(b)) => a.ptr_eq(b),
        (Value::Tuple(a), Value::Tuple(b)) => a.ptr_eq(b),
        (Value::Dict(a), Value::Dict(b)) => a.ptr_eq(b),
        _ => false,
    }
}

/// A protocol-4 pickle `[x, x, ...]`: `x` built by `make` (which memoizes it at index 1), then
/// `n` memo `GET`s of it (`get`: `BINGET 1` or `LONG_BINGET 1`) in one `APPENDS`, or in
/// batches of `batch`. `frame_at`: the `GET` after which a new frame starts (none if `None`).
fn get_run(make: &[u8], get: &[u8], n: usize, batch: usize, frame_at: Option<usize>) -> Vec<u8> {
    let mut body = vec![b']', 0x94, b'('];
    body.extend_from_slice(make);
    let mut frames = Vec::new();
    for i in 0..n {
        if i > 0 && i % batch == 0 {
            body.extend_from_slice(b"e(");
        }
        body.extend_from_slice(get);
        if Some(i) == frame_at {
            frames.push(std::mem::take(&mut body));
        }
    }
    body.extend_from_slice(b"e.");
    frames.push(body);
    let mut data = b"\x80\x04".to_vec();
    for f in frames {
        data.push(0x95);
        data.extend_from_slice(&(f.len() as u64).to_le_bytes());
        data.extend_from_slice(&f);
    }
    data
}

/// A run of identical `GET`s is pushed at once from a slice (`Machine::repeat_get`); a stream
/// reads them one by one. Both give the same value, with every item the one shared object, or
/// fail at the same `GET` with the same error, whatever the stack limit and wherever a frame
/// cuts the run.
#[test]
fn get_runs_push_as_each_get_does() {
    let _g = serial();
    // What `x` is, how it is made (memoized at index 1), and whether it stays on the stack as
    // the list's first item (the memo entry then points at its stack slot; once popped, the
    // entry holds a copy).
    let xs: [(&str, &[u8], bool); 8] = [
        ("list under construction", b"]\x94(K\x01K\x02e", true),
        ("list grown by two APPENDS", b"]\x94(K\x01e(K\x02e", true),
        ("tuple", b"K\x01K\x02\x86\x94", true),
        ("tuple memoized, then popped", b"K\x01K\x02\x86\x940", false),
        ("dict", b"}\x94(K\x01K\x02u", true),
        ("str", b"\x8c\x01a\x94", true),
        ("int", b"K\x07\x94", true),
        (
            "list of a shared list",
            b"]\x94(]\x94K\x01a]\x94h\x02a]\x94h\x02ae",
            true,
        ),
    ];
    let gets: [&[u8]; 2] = [b"h\x01", b"j\x01\x00\x00\x00"];
    let mut checked = 0;
    for (what, make, kept) in xs {
        for get in gets {
            for (n, batch, frame_at) in [
                (1, 1000, None),
                (2, 1000, None),
                (300, 1000, None),
                (300, 7, None),
                (300, 1000, Some(150)),
                (300, 64, Some(0)),
            ] {
                let data = get_run(make, get, n, batch, frame_at);
                let case = format!("{what} {get:?} n {n} batch {batch} frame {frame_at:?}");
                let from_slice = load_with(&data, Limits::default()).expect(&case);
                let from_stream = load_stream_with(&data, Limits::default()).expect(&case);
                assert!(from_slice.strict_eq(&from_stream), "{case}");
                let items = from_slice.as_list().expect("a list").as_slice();
                assert_eq!(items.len(), n + usize::from(kept), "{case}");
                let last = &items[items.len() - 1];
                if !matches!(last, Value::Str(_) | Value::Int(_)) {
                    assert!(items.iter().all(|v| same_object(v, last)), "{case}");
                }
                // The stack fills up on the same `GET`, from a slice and from a stream.
                for max_stack in [1, 2, 3, 4, 5, 40, 299, 300, 301, 302] {
                    let l = with_limit(|l| l.max_stack = max_stack);
                    let outcome = |r: Result<Value, Error>| match r {
                        Ok(v) => Ok(v.as_list().map(|l| l.len())),
                        Err(e) => Err((e.to_string(), e.offset())),
                    };
                    let a = outcome(load_with(&data, l.clone()));
                    let b = outcome(load_stream_with(&data, l));
                    assert_eq!(a, b, "{case} max_stack {max_stack}");
                    if let Err((msg, _)) = &a {
                        assert!(msg.contains("max_stack"), "{case}: {msg}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 8 * 2 * 6 * 10);
}
