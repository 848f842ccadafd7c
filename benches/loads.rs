//! Decode throughput: `restricted_loads` next to serde-pickle, a `to_vec` memcpy anchor and
//! (on `records`) serde_json, on the standard payload set (on `bigbytes`, also
//! `restricted_loads_shared`, which lends the payloads instead of copying); plus the fixed cost
//! of one call, and
//! the cost of 10,000 `Arc` clones (`shared_floor`: what `shared` cannot go below).
//!
//! ```text
//! cargo bench --bench loads                  # everything but bigbytes: ~8 minutes on 2 cores
//! cargo bench --bench loads -- records/p5    # one group (criterion's substring filter)
//! BENCH_BIG=1 cargo bench --bench loads      # also the 670 MB bigbytes payload
//!
//! # large dicts and sets (a 100,000-word vocabulary, 100,000 int keys, 100,000 ints in a set):
//! python3 benches/payloads.py target/bench-keyed --keyed
//! BENCH_PAYLOADS=target/bench-keyed cargo bench --bench loads
//!
//! # more small pickles (5 records, a task message, 100 ints, a row tuple): the lean path
//! python3 benches/payloads.py target/bench-tiny --tiny
//! BENCH_PAYLOADS=target/bench-tiny cargo bench --bench loads
//! ```
//!
//! The payloads are generated on first use by `python3 benches/payloads.py` (seeded: the same
//! bytes on every machine) into `target/bench-payloads/`, and regenerated when payloads.py is
//! newer than their manifest. `BENCH_PAYLOADS=DIR` uses another directory (generating into it if
//! it has no manifest). `scripts/bench_compare.py` times CPython's `pickle.loads` on the same
//! files.
//!
//! Every group has `Throughput::BytesDecimal(input length)`, so criterion reports MB/s of *input*.
//! Decoded values are dropped outside the clock (`iter_with_large_drop`), as CPython's timer
//! frees outside its clock. The whole run happens on a thread with a 256 MiB stack, because
//! serde-pickle converts its parse tree recursively and aborts (stack overflow) on the
//! 5,000-level `nested` chain with the main thread's 8 MiB; a note is printed there. A tool
//! that returns an error on a payload (serde-pickle on `misc` p2 and `shared2`) is skipped with
//! a note.
//!
//! `memcpy` is `data.to_vec()` with glibc's default malloc settings: copies under its dynamic
//! mmap threshold may reuse warm heap pages, so the anchor is only indicative here; the
//! comparison script pins the threshold (fresh, page-faulted pages, like a decoder's output).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{
    BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime,
};
use restricted_unpickler::{SharedInput, restricted_loads, restricted_loads_shared};

/// Stack for the thread that runs every benchmark (see the crate docs above).
const BENCH_STACK: usize = 256 << 20;

/// One payload file listed in the generator's `manifest.json`.
struct Payload {
    name: String,
    proto: Option<u64>,
    file: String,
    data: Vec<u8>,
}

fn main() {
    let runner = std::thread::Builder::new()
        .name("bench".into())
        .stack_size(BENCH_STACK)
        .spawn(|| {
            let mut c = Criterion::default().configure_from_args();
            run(&mut c);
            c.final_summary();
        })
        .expect("spawn the benchmark thread");
    if runner.join().is_err() {
        std::process::exit(101);
    }
}

fn run(c: &mut Criterion) {
    let dir = payload_dir();
    let big = std::env::var_os("BENCH_BIG").is_some_and(|v| v == "1");
    ensure_payloads(&dir, big);
    let payloads = load_payloads(&dir, big);
    per_call(c, &payloads);
    shared_floor(c);
    let json = payloads
        .iter()
        .find(|p| p.proto.is_none() && p.name == "records");
    for p in payloads.iter().filter(|p| p.proto.is_some()) {
        // serde_json on records.json joins the records/p5 group, the size it is compared with.
        let json = json.filter(|_| p.name == "records" && p.proto == Some(5));
        payload_group(c, p, json);
    }
}

// --- payload files --------------------------------------------------------------------------

fn payload_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BENCH_PAYLOADS") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("bench-payloads")
}

fn generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/payloads.py")
}

/// Runs the generator unless `dir` already holds a complete, up-to-date set.
fn ensure_payloads(dir: &Path, big: bool) {
    let manifest = dir.join("manifest.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&manifest), modified(&generator())) {
        (Some(m), Some(g)) => m >= g,
        (Some(_), None) => true, // a BENCH_PAYLOADS directory used without the generator
        (None, _) => false,
    };
    let has_big = std::fs::read_to_string(&manifest).is_ok_and(|s| s.contains("bigbytes.p5.pkl"));
    if fresh && (has_big || !big) {
        return;
    }
    eprintln!(
        "generating benchmark payloads into {} (once; ~30 s{})",
        dir.display(),
        if big { " + bigbytes" } else { "" }
    );
    let mut cmd = Command::new("python3");
    cmd.arg(generator()).arg(dir);
    if !big {
        cmd.arg("--skip-big");
    }
    // A directory of another set (`--keyed`, `--tiny`, `--legacy`) is regenerated as that set.
    let set = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    for flag in ["keyed", "tiny", "legacy"] {
        if set.as_ref().is_some_and(|m| m[flag] == true) {
            cmd.arg(format!("--{flag}"));
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 benches/payloads.py: {e}"));
    assert!(status.success(), "benches/payloads.py failed: {status}");
}

fn load_payloads(dir: &Path, big: bool) -> Vec<Payload> {
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let files = manifest["files"]
        .as_array()
        .expect("manifest.json has a `files` array");
    let mut out = Vec::new();
    for f in files {
        let name = f["name"]
            .as_str()
            .expect("file entry has a name")
            .to_owned();
        if name == "bigbytes" && !big {
            continue;
        }
        let file = f["file"]
            .as_str()
            .expect("file entry has a file name")
            .to_owned();
        let path = dir.join(&file);
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            Some(data.len() as u64),
            f["bytes"].as_u64(),
            "{file}: size differs from manifest.json"
        );
        out.push(Payload {
            name,
            proto: f["proto"].as_u64(),
            file,
            data,
        });
    }
    out
}

// --- benchmark groups -----------------------------------------------------------------------

/// The fixed cost of one `restricted_loads` call, on pickles of a few bytes.
fn per_call(c: &mut Criterion, payloads: &[Payload]) {
    let mut g = c.benchmark_group("per_call");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    let mut cases: Vec<(&str, &[u8])> = vec![("none_p0", b"N."), ("int_p0", b"K\x01.")];
    if let Some(small) = payloads
        .iter()
        .find(|p| p.name == "small" && p.proto == Some(5))
    {
        cases.push(("small_dict_p5", &small.data));
    }
    for (id, data) in cases {
        if restricted_loads(data).is_err() {
            eprintln!("note: per_call/{id}: restricted_loads fails; skipped");
            continue;
        }
        g.bench_function(id, |b| {
            b.iter_with_large_drop(|| restricted_loads(black_box(data)))
        });
    }
    g.finish();
}

/// What `shared` (10,000 `GET`s of one list) cannot go below while values are `Send`: 10,000
/// clones of one `Arc` (an atomic increment each) and freeing them, next to the same with `Rc`.
fn shared_floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_floor");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    clones_of_one(&mut g, "arc", Arc::new(vec![0u64; 1000]));
    clones_of_one(&mut g, "rc", Rc::new(vec![0u64; 1000]));
    g.finish();
}

/// `{name}_clone_10k`: collecting 10,000 clones of `p`; `{name}_drop_10k`: dropping them.
fn clones_of_one<P: Clone>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, p: P) {
    g.bench_function(format!("{name}_clone_10k"), |b| {
        b.iter_with_large_drop(|| {
            (0..10_000)
                .map(|_| black_box(&p).clone())
                .collect::<Vec<_>>()
        })
    });
    g.bench_function(format!("{name}_drop_10k"), |b| {
        b.iter_batched(|| vec![p.clone(); 10_000], drop, BatchSize::LargeInput)
    });
}

/// One group per payload file: our decoder, serde-pickle, memcpy (and serde_json on records).
fn payload_group(c: &mut Criterion, p: &Payload, json: Option<&Payload>) {
    let proto = p.proto.expect("pickle payloads have a protocol");
    let data = p.data.as_slice();
    let mut g = c.benchmark_group(format!("{}/p{proto}", p.name));
    g.throughput(Throughput::BytesDecimal(data.len() as u64));

    match probe(|| restricted_loads(data)) {
        Ok(t) => {
            configure(&mut g, t);
            g.bench_function("restricted_unpickler", |b| {
                b.iter_with_large_drop(|| restricted_loads(black_box(data)))
            });
        }
        Err(e) => eprintln!("note: {}: restricted_loads fails ({e}); skipped", p.file),
    }

    if p.name == "bigbytes" {
        // The same bytes as a shared input: the payloads are lent, not copied.
        let input = SharedInput::from(p.data.clone());
        if let Ok(t) = probe(|| restricted_loads_shared(input.clone())) {
            configure(&mut g, t);
            g.bench_function("restricted_unpickler_shared", |b| {
                b.iter_with_large_drop(|| restricted_loads_shared(black_box(input.clone())))
            });
        }
    }

    let serde_pickle_loads =
        || serde_pickle::value_from_slice(black_box(data), serde_pickle::DeOptions::new());
    match probe(serde_pickle_loads) {
        Ok(t) => {
            if p.name == "nested" {
                eprintln!(
                    "note: {}: serde-pickle runs here only because this thread has a {} MiB stack; \
                     it recurses per nesting level and aborts on the 8 MiB main-thread stack",
                    p.file,
                    BENCH_STACK >> 20
                );
            }
            configure(&mut g, t);
            g.bench_function("serde_pickle", |b| {
                b.iter_with_large_drop(serde_pickle_loads)
            });
        }
        Err(e) => eprintln!("note: {}: serde-pickle fails ({e}); skipped", p.file),
    }

    let t = probe(|| Ok::<_, std::convert::Infallible>(data.to_vec())).unwrap_or_default();
    configure(&mut g, t);
    g.bench_function("memcpy", |b| {
        b.iter_with_large_drop(|| black_box(data).to_vec())
    });

    if let Some(json) = json {
        let text = json.data.as_slice();
        let from_json = || serde_json::from_slice::<serde_json::Value>(black_box(text));
        match probe(from_json) {
            Ok(t) => {
                g.throughput(Throughput::BytesDecimal(text.len() as u64));
                configure(&mut g, t);
                g.bench_function("serde_json", |b| b.iter_with_large_drop(from_json));
            }
            Err(e) => eprintln!("note: {}: serde_json fails ({e}); skipped", json.file),
        }
    }
    g.finish();
}

/// Decodes once (outside criterion): checks the tool accepts the payload and estimates one
/// call's time, which sizes the measurement below.
fn probe<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<Duration, String> {
    let start = Instant::now();
    let value = f().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    drop(value);
    Ok(elapsed)
}

/// Sample count and time for a routine taking about `t` per call, so that the whole run stays
/// within minutes: fast routines get criterion's linear sampling, slow ones 10 flat samples of
/// 2–5 calls (one call per sample would make criterion warn).
fn configure(g: &mut BenchmarkGroup<'_, WallTime>, t: Duration) {
    let warm_up = Duration::from_millis(500);
    if t < Duration::from_millis(1) {
        g.sampling_mode(SamplingMode::Auto)
            .sample_size(30)
            .warm_up_time(warm_up)
            .measurement_time(Duration::from_millis(1500));
    } else if t < Duration::from_millis(20) {
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(20)
            .warm_up_time(warm_up)
            .measurement_time(Duration::from_secs(2).max(t * 20 * 3));
    } else if t < Duration::from_millis(100) {
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(warm_up)
            .measurement_time(Duration::from_secs(2).max(t * 10 * 5 / 2));
    } else {
        // Criterion rounds calls per sample up: 1.5 t per sample gives 2 calls at the probe's
        // speed (the probe's cold first call is a little slower than warmed-up calls).
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(warm_up)
            .measurement_time(t * 10 * 3 / 2);
    }
}
