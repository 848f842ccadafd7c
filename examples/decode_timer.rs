//! `decode_timer`: time one decoder on pickle files, with the method `scripts/bench_compare.py`
//! uses for CPython's `pickle.loads`, and print one JSON line per file.
//!
//! ```text
//! cargo run --release --example decode_timer -- [TOOL] [MODE] [OPTIONS] FILE...
//!
//! TOOL     (default) restricted_unpickler::restricted_loads
//!          --shared        restricted_loads_shared: bytes payloads lent as windows of the input
//!          --memcpy        data.to_vec(): the cost of writing the input's size into new memory
//!          --serde-pickle  serde_pickle::value_from_slice(data, DeOptions::new())
//!          --serde-json    serde_json::from_slice::<serde_json::Value> (for records.json)
//! MODE     (default) timed runs, printing {"file", "bytes", "median_s", "mb_s", "drop_s", ...}
//!          --once          read, decode once, print {"file", "bytes", "once_s", "vm_hwm_kib"}
//!                          and exit without freeing (for peak RSS: `/usr/bin/time -f %M`)
//!          --read-only     read the file, print {"file", "bytes", "vm_hwm_kib"} and exit
//!                          (the RSS baseline to subtract)
//! OPTIONS  --budget S (2)  stop after S seconds of timed runs, once --min-runs (3) are done;
//!          --max-runs N (25); --target-batch S (0.005); --big-stack: run on a thread with a
//!          256 MiB stack (serde-pickle recurses per nesting level)
//! ```
//!
//! Method: the file is read into memory first and only the decode call is timed. One warm-up
//! call; if it took under --target-batch, batches of growing size calibrate K calls per ~5 ms,
//! and each timed run makes K calls and reports its time / K. A run's results stay alive until
//! its clock stops and are freed afterwards; the freeing is timed on its own (`drop_s`, per
//! call). The median of the runs is reported (`mb_s` uses MB = 10^6 input bytes). A decode
//! error prints `{"ok": false, "error": ...}` and makes the exit status 1.

use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Ours,
    OursShared,
    Memcpy,
    SerdePickle,
    SerdeJson,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "restricted_unpickler",
            Tool::OursShared => "restricted_unpickler_shared",
            Tool::Memcpy => "memcpy",
            Tool::SerdePickle => "serde_pickle",
            Tool::SerdeJson => "serde_json",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Timed,
    Once,
    ReadOnly,
}

#[derive(Clone)]
struct Options {
    tool: Tool,
    mode: Mode,
    budget_s: f64,
    min_runs: usize,
    max_runs: usize,
    target_batch_s: f64,
}

/// The result of timing one file.
struct Timing {
    first_s: f64,
    batch: usize,
    times_s: Vec<f64>,
    drops_s: Vec<f64>,
}

const USAGE: &str = "usage: decode_timer [--shared|--memcpy|--serde-pickle|--serde-json] [--once|--read-only] \
                     [--budget S] [--min-runs N] [--max-runs N] [--target-batch S] [--big-stack] FILE...";

fn main() -> ExitCode {
    let mut opts = Options {
        tool: Tool::Ours,
        mode: Mode::Timed,
        budget_s: 2.0,
        min_runs: 3,
        max_runs: 25,
        target_batch_s: 0.005,
    };
    let mut big_stack = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<f64, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse::<f64>()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        let parsed = match arg.as_str() {
            "--shared" => set(&mut opts.tool, Tool::OursShared),
            "--memcpy" => set(&mut opts.tool, Tool::Memcpy),
            "--serde-pickle" => set(&mut opts.tool, Tool::SerdePickle),
            "--serde-json" => set(&mut opts.tool, Tool::SerdeJson),
            "--once" => set(&mut opts.mode, Mode::Once),
            "--read-only" => set(&mut opts.mode, Mode::ReadOnly),
            "--big-stack" => set(&mut big_stack, true),
            "--budget" => number("--budget").map(|v| opts.budget_s = v),
            "--min-runs" => number("--min-runs").map(|v| opts.min_runs = v as usize),
            "--max-runs" => number("--max-runs").map(|v| opts.max_runs = (v as usize).max(1)),
            "--target-batch" => number("--target-batch").map(|v| opts.target_batch_s = v),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if arg.starts_with("--") => Err(format!("unknown option {arg:?}")),
            _ => {
                files.push(arg);
                Ok(())
            }
        };
        if let Err(e) = parsed {
            eprintln!("decode_timer: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if files.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let ok = if big_stack {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || run_all(&opts, &files))
            .expect("spawn the timing thread")
            .join()
            .unwrap_or(false)
    } else {
        run_all(&opts, &files)
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_all(opts: &Options, files: &[String]) -> bool {
    let mut ok = true;
    for file in files {
        let line = match std::fs::read(file) {
            Err(e) => {
                json!({"tool": opts.tool.name(), "file": file, "ok": false, "error": e.to_string()})
            }
            Ok(data) => run_one(opts, file, data),
        };
        ok &= line["ok"] != false;
        println!("{line}");
    }
    ok
}

fn run_one(opts: &Options, file: &str, data: Vec<u8>) -> serde_json::Value {
    // (A `Vec` becomes a shared input without a copy; the other tools read the same bytes.)
    let input = restricted_unpickler::SharedInput::from(data);
    let data = input.as_slice();
    let tool = opts.tool.name();
    let bytes = data.len();
    match opts.mode {
        Mode::ReadOnly => {
            let line =
                json!({"tool": tool, "file": file, "bytes": bytes, "vm_hwm_kib": vm_hwm_kib()});
            exit_now(&line)
        }
        Mode::Once => {
            let start = Instant::now();
            let result = match opts.tool {
                Tool::Ours => keep(restricted_unpickler::restricted_loads(data)),
                Tool::OursShared => {
                    keep(restricted_unpickler::restricted_loads_shared(input.clone()))
                }
                Tool::Memcpy => keep(Ok::<_, std::convert::Infallible>(data.to_vec())),
                Tool::SerdePickle => keep(serde_pickle::value_from_slice(
                    data,
                    serde_pickle::DeOptions::new(),
                )),
                Tool::SerdeJson => keep(serde_json::from_slice::<serde_json::Value>(data)),
            };
            let once_s = start.elapsed().as_secs_f64();
            let line = match result {
                Ok(()) => json!({"tool": tool, "file": file, "bytes": bytes, "once_s": once_s,
                                 "vm_hwm_kib": vm_hwm_kib()}),
                Err(e) => {
                    json!({"tool": tool, "file": file, "bytes": bytes, "ok": false, "error": e})
                }
            };
            // Exit with the value still allocated: peak RSS is reached, teardown is not wanted.
            exit_now(&line)
        }
        Mode::Timed => {
            let timing = match opts.tool {
                Tool::Ours => measure(opts, || restricted_unpickler::restricted_loads(data)),
                Tool::OursShared => measure(opts, || {
                    restricted_unpickler::restricted_loads_shared(input.clone())
                }),
                Tool::Memcpy => measure(opts, || Ok::<_, std::convert::Infallible>(data.to_vec())),
                Tool::SerdePickle => measure(opts, || {
                    serde_pickle::value_from_slice(data, serde_pickle::DeOptions::new())
                }),
                Tool::SerdeJson => {
                    measure(opts, || serde_json::from_slice::<serde_json::Value>(data))
                }
            };
            match timing {
                Err(e) => {
                    json!({"tool": tool, "file": file, "bytes": bytes, "ok": false, "error": e})
                }
                Ok(t) => {
                    let median_s = median(&t.times_s);
                    json!({
                        "tool": tool, "file": file, "bytes": bytes, "ok": true,
                        "median_s": median_s,
                        "mb_s": bytes as f64 / 1e6 / median_s,
                        "drop_s": median(&t.drops_s),
                        "min_s": t.times_s.iter().copied().fold(f64::INFINITY, f64::min),
                        "max_s": t.times_s.iter().copied().fold(0.0, f64::max),
                        "first_s": t.first_s,
                        "runs": t.times_s.len(),
                        "batch": t.batch,
                        "times_s": t.times_s,
                    })
                }
            }
        }
    }
}

fn set<T>(slot: &mut T, value: T) -> Result<(), String> {
    *slot = value;
    Ok(())
}

/// Leaks a decoded value (`--once` exits right after: freeing is not part of what it measures).
fn keep<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<(), String> {
    let value = result.map_err(|e| e.to_string())?;
    std::mem::forget(value);
    Ok(())
}

fn exit_now(line: &serde_json::Value) -> ! {
    println!("{line}");
    std::process::exit(0)
}

/// Times `decode` with the method in the module docs. `Err` if the first call fails.
fn measure<T, E: std::fmt::Display>(
    opts: &Options,
    mut decode: impl FnMut() -> Result<T, E>,
) -> Result<Timing, String> {
    let start = Instant::now();
    let first = decode().map_err(|e| e.to_string())?;
    let first_s = start.elapsed().as_secs_f64();
    drop(first);

    let batch = if first_s >= opts.target_batch_s {
        1
    } else {
        // Further warm-up: grow a batch until it takes a quarter of the target, then scale.
        let mut k = 1usize;
        loop {
            let (t, _) = timed_batch(k, &mut decode);
            if t >= opts.target_batch_s / 4.0 || k >= 1_000_000 {
                break ((k as f64 * opts.target_batch_s / t.max(1e-9)) as usize)
                    .clamp(1, 1_000_000);
            }
            k *= 4;
        }
    };

    let mut times_s = Vec::new();
    let mut drops_s = Vec::new();
    let budget_start = Instant::now();
    while times_s.len() < opts.max_runs {
        let (t, d) = timed_batch(batch, &mut decode);
        times_s.push(t / batch as f64);
        drops_s.push(d / batch as f64);
        if times_s.len() >= opts.min_runs && budget_start.elapsed().as_secs_f64() >= opts.budget_s {
            break;
        }
    }
    Ok(Timing {
        first_s,
        batch,
        times_s,
        drops_s,
    })
}

/// Makes `k` calls keeping every result; returns (seconds for the calls, seconds to free them).
fn timed_batch<T>(k: usize, decode: &mut impl FnMut() -> T) -> (f64, f64) {
    let mut keep = Vec::with_capacity(k);
    let start = Instant::now();
    for _ in 0..k {
        keep.push(decode());
    }
    let calls = start.elapsed();
    let start = Instant::now();
    drop(keep);
    (calls.as_secs_f64(), start.elapsed().as_secs_f64())
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// This process's peak resident set size so far (Linux `VmHWM`), if known.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
