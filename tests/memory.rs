//! Memory stays within `c·n + constant` for hostile inputs of n bytes, measured as the peak
//! resident set size of a child process (this test binary re-run for one case), so other tests
//! cannot disturb the measurement. `c` and the constant are the documented defaults of
//! `Limits::alloc_per_input_byte` (128) and `Limits::alloc_base` (64 MiB); the amplifying inputs
//! below must in fact stay far below that bound, and the tighter bound each case asserts is the
//! real guarantee the design gives (sharing, sparse memo, length checks before allocation).

use std::process::Command;

use restricted_unpickler::{Limits, Unpickler};

/// Peak RSS of this process so far, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The hostile inputs: (name, bytes, tight bound on memory growth in bytes).
fn cases() -> Vec<(&'static str, Vec<u8>, u64)> {
    let mib = 1 << 20;
    let mut out = Vec::new();
    // Memo billion laughs: 40 levels of lists of 10 GETs of the level below.
    let mut laughs = b"\x80\x04]\x94".to_vec();
    for level in 0..40u32 {
        laughs.extend_from_slice(b"](");
        for _ in 0..10 {
            laughs.push(b'j');
            laughs.extend_from_slice(&level.to_le_bytes());
        }
        laughs.extend_from_slice(b"e\x94");
    }
    laughs.push(b'.');
    out.push(("memo_laughs", laughs, 4 * mib));
    // DUP expansion: MARK, DUP x 9, LIST, repeated 30 times.
    let mut dup = b"N".to_vec();
    for _ in 0..30 {
        dup.push(b'(');
        dup.extend_from_slice(&[b'2'; 9]);
        dup.push(b'l');
    }
    dup.push(b'.');
    out.push(("dup_laughs", dup, 4 * mib));
    // Length claims far beyond the input.
    for (name, data) in [
        (
            "binbytes8_2p63",
            b"\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.".to_vec(),
        ),
        (
            "binunicode8_2p63",
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.".to_vec(),
        ),
        (
            "bytearray8_2p63",
            b"\x96\xff\xff\xff\xff\xff\xff\xff\x7f.".to_vec(),
        ),
        ("binbytes_4g", b"B\xff\xff\xff\xff.".to_vec()),
        ("long4_2g", b"\x8b\xff\xff\xff\x7f.".to_vec()),
        (
            "frame_2p63",
            b"\x95\xff\xff\xff\xff\xff\xff\xff\x7fN.".to_vec(),
        ),
        ("long_binput_4g", b"Nr\xff\xff\xff\xff.".to_vec()),
        ("replace", b"]replace.".to_vec()),
    ] {
        out.push((name, data, 2 * mib));
    }
    // Volume: 10^6 MARKs, 10^6 NONEs, 10^6 MEMOIZEs (about 8 bytes per MARK/item at most).
    for (name, op) in [("marks", b'('), ("nones", b'N')] {
        let mut d = vec![op; 1_000_000];
        d.extend_from_slice(b"N.");
        out.push((name, d, 64 * mib));
    }
    let mut memo = b"N".to_vec();
    memo.extend(std::iter::repeat_n(0x94u8, 1_000_000));
    memo.push(b'.');
    out.push(("memoize", memo, 64 * mib));
    // One container per input byte or two, the densest legitimate shapes: CPython writes `}\x94`
    // for each empty dict; `(]]]...l` and `(}}}...l` are crafted (a limit error is fine there, as
    // long as the memory stays within the bound).
    for (name, unit) in [
        ("memoized_dicts", &b"}\x94"[..]),
        ("dicts", b"}"),
        ("lists", b"]"),
        ("tuples", b")"),
        ("sets", b"\x8f"),
    ] {
        let mut d = b"\x80\x04(".to_vec();
        for _ in 0..1_000_000 {
            d.extend_from_slice(unit);
        }
        d.extend_from_slice(b"l.");
        out.push((name, d, 320 * mib));
    }
    // Sparse memo indices: 100,000 PUTs spread over the u32 range.
    let mut sparse = b"N".to_vec();
    for i in 0..100_000u32 {
        sparse.push(b'r');
        sparse.extend_from_slice(&(i.wrapping_mul(42_949)).to_le_bytes());
    }
    sparse.push(b'.');
    out.push(("sparse_memo", sparse, 32 * mib));
    out
}

#[test]
fn memory_is_bounded_by_c_n_plus_constant() {
    if std::env::var("MEMORY_CASE").is_ok() {
        return; // we are the child of another run of this test
    }
    let limits = Limits::default();
    let exe = std::env::current_exe().expect("test exe");
    for (name, data, tight) in cases() {
        let out = Command::new(&exe)
            .args(["--exact", "memory_child", "--nocapture", "--test-threads=1"])
            .env("MEMORY_CASE", name)
            .output()
            .expect("spawn");
        let text = String::from_utf8_lossy(&out.stdout);
        let growth: u64 = text
            .split("GROWTH ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|g| g.parse().ok())
            .unwrap_or_else(|| panic!("{name}: child printed no measurement:\n{text}"));
        println!(
            "{name}: {} input bytes, peak RSS growth {growth} bytes",
            data.len()
        );
        let n = data.len() as u64;
        let documented = limits.alloc_per_input_byte * n + limits.alloc_base;
        assert!(
            growth <= documented,
            "{name}: {growth} bytes for {n} input bytes exceeds the documented c·n + constant ({documented})"
        );
        assert!(
            growth <= tight,
            "{name}: {growth} bytes for {n} input bytes exceeds the expected {tight}"
        );
    }
}

#[test]
fn memory_child() {
    let Ok(name) = std::env::var("MEMORY_CASE") else {
        return;
    };
    let (_, data, _) = cases()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .expect("known case");
    let before = peak_rss().expect("/proc/self/status");
    let result = Unpickler::from_slice(&data).load();
    let after = peak_rss().expect("/proc/self/status");
    drop(result);
    println!("\nGROWTH {}", after.saturating_sub(before));
}
