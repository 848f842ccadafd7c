#!/usr/bin/env python3
"""Compare restricted_unpickler with CPython's pickle.loads (and serde-pickle, memcpy) on the
benchmark payloads, and print a Markdown ratio table.

Usage (from the repository root):
    python3 scripts/bench_compare.py [PAYLOAD_DIR] [options]

PAYLOAD_DIR defaults to target/bench-payloads (what `cargo bench` generates); if it has no
manifest.json, `benches/payloads.py PAYLOAD_DIR --skip-big` writes it first. The script builds
`cargo build --release --example decode_timer --example unpickle` (skip with --no-build) and then,
for each payload file:

  * rounds (default 5; fewer, at least 2, where a round would push the file past --file-cap
    seconds): each round starts a fresh process per tool, back to back, in an order that rotates
    from round to round: ours (`decode_timer`), CPython (`pickle.loads`, timed by this script
    itself in a child process, cyclic GC on as users get it), serde-pickle
    (`decode_timer --serde-pickle`) and memcpy (`decode_timer --memcpy`, with glibc's mmap
    threshold pinned at 128 KiB so every copy lands in fresh pages, as a decoder's output does);
    then the whole process, `unpickle --quiet FILE` against
    `python3 -c "import pickle,sys;pickle.loads(open(sys.argv[1],'rb').read())" FILE`;
  * every timing process uses the same method: the file is read first, only the decode is timed,
    one warm-up call, calls under 5 ms are batched (K calls per run, time / K), results stay alive
    until the run's clock stops and are freed afterwards (timed separately: drop / free), runs
    continue for --budget seconds (at least 3, at most 25), the median run is the process's time;
  * peak RSS (`/usr/bin/time -f %M`, or the process's own VmHWM where that is missing) of a
    one-shot process (read + decode once) minus the same process only reading the file.

The host is noisy (+-30 % between minutes), so ratios are taken inside a round (tools that ran
back to back on the same bytes) and the median of the per-round ratios is reported; MB/s
columns are input MB (10^6 bytes) over the median of all timed runs pooled over rounds.
records.json is timed with serde_json (in the "ours" columns) against CPython's json.loads.
With --shared, "ours" is `restricted_loads_shared` (bytes payloads of 1 KiB or more lent as
windows of the input; `decode_timer --shared`) and the rows are labelled "(shared input)".

With --keep-heap, every process but memcpy runs with glibc's heap kept between batches
(GLIBC_TUNABLES trim_threshold 1 GiB, mmap_threshold 32 MiB, the same for CPython and us): by
default glibc gives the top of its heap back to the kernel when a batch of results is freed, and
the next batch pays a page fault per 4 KiB it writes. Results kept alive in batches are what the
method times, so that cost lands on the decode; it grows with the size of the results, which
for lists is 24 bytes an item here and 8 in CPython. The option shows the decoders without it
(what a process that sets those tunables, or a global allocator that keeps its memory, gets).
"""

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG_STACK_NOTE = "†"
# glibc keeps freed memory (no trimming of the heap's top; blocks up to 32 MiB from the heap).
KEEP_HEAP = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432"


# --- the CPython timer (runs in a child process: `bench_compare.py --cpython-timer FILE`) -------

def vm_hwm_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpython_timer(argv):
    ap = argparse.ArgumentParser(prog="bench_compare.py --cpython-timer")
    ap.add_argument("file")
    ap.add_argument("--json-loads", action="store_true", help="time json.loads, not pickle.loads")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--read-only", action="store_true")
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--min-runs", type=int, default=3)
    ap.add_argument("--max-runs", type=int, default=25)
    ap.add_argument("--target-batch", type=float, default=0.005)
    a = ap.parse_args(argv)

    import pickle
    import _pickle
    assert pickle.loads is _pickle.loads, "pickle is not using its C accelerator"
    loads = json.loads if a.json_loads else pickle.loads
    tool = "cpython_json" if a.json_loads else "cpython"
    with open(a.file, "rb") as f:
        data = f.read()
    out = {"tool": tool, "file": a.file, "bytes": len(data)}
    if a.read_only:
        out["vm_hwm_kib"] = vm_hwm_kib()
        print(json.dumps(out), flush=True)
        os._exit(0)
    if a.once:
        t0 = time.perf_counter()
        obj = loads(data)  # noqa: F841 - kept alive until exit
        out["once_s"] = time.perf_counter() - t0
        out["vm_hwm_kib"] = vm_hwm_kib()
        print(json.dumps(out), flush=True)
        os._exit(0)  # no teardown: the peak has been reached

    clock = time.perf_counter_ns
    t0 = clock()
    first = loads(data)
    first_s = (clock() - t0) / 1e9
    del first
    if first_s >= a.target_batch:
        batch = 1
    else:
        k = 1
        while True:
            keep = [None] * k
            t0 = clock()
            for i in range(k):
                keep[i] = loads(data)
            t = (clock() - t0) / 1e9
            del keep
            if t >= a.target_batch / 4 or k >= 1_000_000:
                batch = max(1, min(1_000_000, int(k * a.target_batch / max(t, 1e-9))))
                break
            k *= 4
    times, frees = [], []
    started = time.perf_counter()
    while len(times) < a.max_runs:
        keep = [None] * batch
        t0 = clock()
        for i in range(batch):
            keep[i] = loads(data)
        t1 = clock()
        del keep
        t2 = clock()
        times.append((t1 - t0) / 1e9 / batch)
        frees.append((t2 - t1) / 1e9 / batch)
        if len(times) >= a.min_runs and time.perf_counter() - started >= a.budget:
            break
    med = statistics.median(times)
    out.update({"ok": True, "median_s": med, "mb_s": len(data) / 1e6 / med,
                "drop_s": statistics.median(frees), "min_s": min(times), "max_s": max(times),
                "first_s": first_s, "runs": len(times), "batch": batch, "times_s": times,
                "gc": gc.isenabled()})
    print(json.dumps(out), flush=True)


# --- running the tools -----------------------------------------------------------------------

class Runner:
    def __init__(self, args):
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
        self.decode_timer = os.path.join(target, "release", "examples", "decode_timer")
        self.unpickle = os.path.join(target, "release", "examples", "unpickle")
        self.budget = args.budget
        self.shared = args.shared
        self.time_bin = shutil.which("time", path="/usr/bin:/bin") if not args.vm_hwm else None
        self.memcpy_env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")
        self.env = dict(os.environ, GLIBC_TUNABLES=KEEP_HEAP) if args.keep_heap else None

    def timing_cmd(self, tool, path, extra):
        if tool == "cpython":
            json_loads = ["--json-loads"] if path.endswith(".json") else []
            return [sys.executable, os.path.abspath(__file__), "--cpython-timer", path] + json_loads + extra
        flag = {"ours": ["--shared"] if self.shared else [],
                "serde_pickle": ["--serde-pickle"], "memcpy": ["--memcpy"],
                "serde_json": ["--serde-json"], "serde_pickle_big_stack": ["--serde-pickle", "--big-stack"]}[tool]
        return [self.decode_timer] + flag + extra + [path]

    def run_json(self, cmd, env=None, rss=False):
        """Runs one tool process; returns its JSON line (dict), with `crash` set if it died."""
        rss_file = None
        if rss and self.time_bin:
            fd, rss_file = tempfile.mkstemp(prefix="rss-")
            os.close(fd)
            cmd = [self.time_bin, "-f", "%M", "-o", rss_file] + cmd
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
            res = json.loads(lines[-1]) if lines else {}
            if p.returncode != 0 and res.get("ok", True):
                tail = " / ".join(p.stderr.strip().splitlines()[-2:])[:200]
                how = ("killed by signal %d" % -p.returncode if p.returncode < 0
                       else "exit status %d" % p.returncode)
                res.update(ok=False, crash=True, error="%s: %s" % (how, tail))
            if rss_file:
                with open(rss_file) as f:
                    last = f.read().strip().splitlines()
                if last and last[-1].isdigit():
                    res["rss_kib"] = int(last[-1])
            elif "vm_hwm_kib" in res:
                res["rss_kib"] = res["vm_hwm_kib"]
            return res
        finally:
            if rss_file:
                os.remove(rss_file)

    def timed(self, tool, path):
        env = self.memcpy_env if tool == "memcpy" else self.env
        return self.run_json(self.timing_cmd(tool, path, ["--budget", str(self.budget)]), env=env)

    def peak(self, tool, path, mode):
        """Peak RSS (KiB) of a one-shot process: mode is "once" or "read-only"."""
        cmd = self.timing_cmd(tool, path, ["--" + mode])
        return self.run_json(cmd, env=self.env, rss=True).get("rss_kib")

    def whole_process(self, ours, path):
        if ours:
            cmd = [self.unpickle, "--quiet", path]
        else:
            cmd = [sys.executable, "-c",
                   "import pickle,sys;pickle.loads(open(sys.argv[1],'rb').read())", path]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        dt = time.perf_counter() - t0
        return dt if p.returncode == 0 else None


# --- one payload file ------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def compare_file(runner, entry, path, args):
    is_json = entry["kind"] == "json"
    tools = ["ours", "cpython", "memcpy"] if is_json else ["ours", "cpython", "serde_pickle", "memcpy"]
    if args.no_serde_pickle and "serde_pickle" in tools:
        tools.remove("serde_pickle")
    rounds = []
    notes = []
    sp_tool = "serde_pickle"
    started = time.perf_counter()
    n_rounds = args.rounds
    r = 0
    while r < n_rounds:
        round_start = time.perf_counter()
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        res = {}
        for tool in order:
            real = tool
            if tool == "ours" and is_json:
                real = "serde_json"
            elif tool == "serde_pickle":
                real = sp_tool
            out = runner.timed(real, path)
            if tool == "serde_pickle" and out.get("crash") and sp_tool == "serde_pickle":
                notes.append("serde-pickle crashed (%s); rerun on a 256 MiB thread stack (%s)"
                             % (out.get("error", "?"), BIG_STACK_NOTE))
                sp_tool = "serde_pickle_big_stack"
                out = runner.timed(sp_tool, path)
            res[tool] = out
        if not is_json and not args.no_whole:
            ours_w, py_w = [], []
            for _ in range(args.whole_runs):
                for ours in ((True, False) if r % 2 == 0 else (False, True)):
                    (ours_w if ours else py_w).append(runner.whole_process(ours, path))
            res["whole"] = (med(ours_w), med(py_w))
        rounds.append(res)
        r += 1
        if r == 1:
            per_round = time.perf_counter() - round_start
            n_rounds = max(2, min(args.rounds, int(args.file_cap // max(per_round, 1e-3))))
    elapsed = time.perf_counter() - started

    peaks = {}
    if not args.no_rss:
        for tool in ("ours", "cpython"):
            real = "serde_json" if (tool == "ours" and is_json) else tool
            once = runner.peak(real, path, "once")
            base = runner.peak(real, path, "read-only")
            peaks[tool] = (once, base)
    return {"entry": entry, "rounds": rounds, "peaks": peaks, "notes": notes,
            "big_stack": sp_tool != "serde_pickle", "elapsed_s": elapsed}


# --- summarising -----------------------------------------------------------------------------

def ok(res):
    return bool(res) and res.get("ok", False) and "median_s" in res


def pooled_median(rounds, tool):
    times = [t for rd in rounds if ok(rd.get(tool)) for t in rd[tool]["times_s"]]
    return statistics.median(times) if times else None


def ratio_median(rounds, num_tool, den_tool, key="median_s"):
    """Median over rounds of num_tool's time / den_tool's time."""
    rs = [rd[num_tool][key] / rd[den_tool][key] for rd in rounds
          if ok(rd.get(num_tool)) and ok(rd.get(den_tool)) and rd[den_tool][key] > 0]
    return statistics.median(rs) if rs else None


def spread(rounds, tool):
    xs = [rd[tool]["median_s"] for rd in rounds if ok(rd.get(tool))]
    return max(xs) / min(xs) - 1 if len(xs) > 1 and min(xs) > 0 else None


def fmt_size(n):
    if n >= 1e6:
        return "%.1f MB" % (n / 1e6)
    if n >= 1e4:
        return "%.0f KB" % (n / 1e3)
    return "%d B" % n


def fmt_rate(size, t):
    if t is None:
        return "—"
    mb_s = size / 1e6 / t
    return ("%.0f" % mb_s) if mb_s >= 100 else ("%.1f" % mb_s) if mb_s >= 1 else ("%.3g" % mb_s)


def fmt_ratio(x):
    if x is None:
        return "—"
    if x >= 10:
        return "%.0f×" % x
    return "%.2f×" % x if x >= 0.1 else "1/%.0f×" % (1 / x) if x > 0 else "—"


def fmt_time(s):
    if s is None:
        return "—"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.3g ms" % (s * 1e3)
    if s >= 1e-6:
        return "%.3g µs" % (s * 1e6)
    return "%.3g ns" % (s * 1e9)


def fmt_mib(kib):
    return "—" if kib is None else "%+.0f" % (kib / 1024)


def row_label(entry):
    if entry["kind"] == "json":
        return "records.json ‡"
    return "%s p%d%s" % (entry["name"], entry["proto"], " (shared input)" if entry.get("shared") else "")


def summarise(results):
    head = ("| payload | size | ours MB/s | CPython MB/s | speed ours ÷ CPython | serde-pickle MB/s "
            "| speed ours ÷ serde-pickle | memcpy MB/s | ours / memcpy | ours peak Δ MiB "
            "| CPython peak Δ MiB | peak ours / CPython | drop (ours / CPython free) "
            "| whole process speed ours ÷ CPython |")
    lines = [head, "|" + "---|" * 2 + "---:|" * 12]
    notes = []
    for res in results:
        e, rounds = res["entry"], res["rounds"]
        size = e["bytes"]
        t_ours, t_cpy = pooled_median(rounds, "ours"), pooled_median(rounds, "cpython")
        t_sp, t_mem = pooled_median(rounds, "serde_pickle"), pooled_median(rounds, "memcpy")
        speed = ratio_median(rounds, "cpython", "ours")          # >1: ours faster
        vs_sp = ratio_median(rounds, "serde_pickle", "ours")
        vs_mem = ratio_median(rounds, "memcpy", "ours")          # share of the copy limit
        d_ours = med([rd["ours"]["drop_s"] for rd in rounds if ok(rd.get("ours"))])
        d_cpy = med([rd["cpython"]["drop_s"] for rd in rounds if ok(rd.get("cpython"))])
        whole = [py / ours for ours, py in (rd.get("whole", (None, None)) for rd in rounds)
                 if ours and py]
        peaks = res["peaks"]

        def delta(tool):
            once, base = peaks.get(tool, (None, None))
            return None if once is None or base is None else once - base

        p_ours, p_cpy = delta("ours"), delta("cpython")
        p_ratio = None
        if p_ours is not None and p_cpy is not None and p_cpy >= 1024:  # under 1 MiB: noise
            p_ratio = max(p_ours, 0) / p_cpy
        label = row_label(e)
        sp_cell = fmt_rate(size, t_sp)
        if "serde_pickle" in rounds[0] and not ok(rounds[0]["serde_pickle"]):
            sp_cell = "error"
            notes.append("%s: serde-pickle: %s" % (label, rounds[0]["serde_pickle"].get("error", "?")))
        elif res["big_stack"]:
            sp_cell += " " + BIG_STACK_NOTE
        if "ours" in rounds[0] and not ok(rounds[0]["ours"]):
            notes.append("%s: ours: %s" % (label, rounds[0]["ours"].get("error", "?")))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |" % (
            label, fmt_size(size), fmt_rate(size, t_ours), fmt_rate(size, t_cpy), fmt_ratio(speed),
            sp_cell, fmt_ratio(vs_sp), fmt_rate(size, t_mem),
            "—" if vs_mem is None else "%.1f%%" % (vs_mem * 100),
            fmt_mib(p_ours), fmt_mib(p_cpy), fmt_ratio(p_ratio) if p_ratio else "—",
            fmt_time(d_ours), fmt_time(d_cpy), fmt_ratio(med(whole))))
        for n in res["notes"]:
            notes.append("%s: %s" % (label, n))
    return lines, notes


def spread_table(results):
    lines = ["| payload | rounds | round spread ours / CPython | seconds |", "|---|---:|---:|---:|"]
    for res in results:
        s_o, s_c = spread(res["rounds"], "ours"), spread(res["rounds"], "cpython")
        lines.append("| %s | %d | %s / %s | %.0f |" % (
            row_label(res["entry"]), len(res["rounds"]),
            "—" if s_o is None else "%.0f%%" % (s_o * 100),
            "—" if s_c is None else "%.0f%%" % (s_c * 100), res["elapsed_s"]))
    return lines


def git_version():
    def git(*a):
        p = subprocess.run(["git"] + list(a), cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""
    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src")
    return head + (" + uncommitted src/ changes" if dirty else "")


# --- main ------------------------------------------------------------------------------------

def main(argv):
    if argv[:1] == ["--cpython-timer"]:
        return cpython_timer(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?", default=os.path.join(ROOT, "target", "bench-payloads"))
    ap.add_argument("--only", default="", help="comma-separated file names from manifest.json")
    ap.add_argument("--skip-big", action="store_true", help="leave out bigbytes even if present")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per file (default 5)")
    ap.add_argument("--file-cap", type=float, default=60.0,
                    help="fewer rounds (min 2) where they would take longer than this (s)")
    ap.add_argument("--budget", type=float, default=1.0, help="timed seconds per process (default 1)")
    ap.add_argument("--whole-runs", type=int, default=3, help="whole-process runs per tool and round")
    ap.add_argument("--no-serde-pickle", action="store_true")
    ap.add_argument("--no-whole", action="store_true", help="skip the whole-process timing")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS probes")
    ap.add_argument("--vm-hwm", action="store_true",
                    help="peak RSS from the process's own VmHWM, not /usr/bin/time")
    ap.add_argument("--shared", action="store_true",
                    help="time restricted_loads_shared (decode_timer --shared) as ours")
    ap.add_argument("--keep-heap", action="store_true",
                    help="run every tool but memcpy with glibc's heap kept between batches "
                         "(GLIBC_TUNABLES, the same for all)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json-out", help="also write every raw measurement to this file")
    args = ap.parse_args(argv)

    if not os.path.exists(os.path.join(args.dir, "manifest.json")):
        subprocess.run([sys.executable, os.path.join(ROOT, "benches", "payloads.py"), args.dir,
                        "--skip-big"], check=True)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "decode_timer",
                        "--example", "unpickle"], cwd=ROOT, check=True)
    runner = Runner(args)
    with open(os.path.join(args.dir, "manifest.json")) as f:
        manifest = json.load(f)
    only = [s for s in args.only.split(",") if s]
    entries = [e for e in manifest["files"]
               if (not only or e["file"] in only) and not (args.skip_big and e["name"] == "bigbytes")]
    if only and len(entries) != len(only):
        sys.exit("unknown file(s) in --only: %s" % only)
    for e in entries:
        e["shared"] = args.shared  # labels the rows

    started = time.time()
    results = []
    for e in entries:
        path = os.path.join(args.dir, e["file"])
        res = compare_file(runner, e, path, args)
        results.append(res)
        print("%-17s %d rounds, %.0f s  ours %s  CPython %s" % (
            e["file"], len(res["rounds"]), res["elapsed_s"],
            fmt_time(pooled_median(res["rounds"], "ours")),
            fmt_time(pooled_median(res["rounds"], "cpython"))), file=sys.stderr, flush=True)

    lines, notes = summarise(results)
    print("restricted_unpickler (%s) vs CPython %s pickle.loads; %s; %.0f s%s" % (
        git_version(), sys.version.split()[0],
        time.strftime("%Y-%m-%d %H:%M", time.localtime(started)), time.time() - started,
        "; glibc heap kept (GLIBC_TUNABLES=%s)" % KEEP_HEAP if args.keep_heap else ""))
    print()
    print("\n".join(lines))
    print()
    print("ours ÷ CPython, ours ÷ serde-pickle and whole process: the other tool's time over ours, "
          "median of per-round ratios (>1: ours faster). ours / memcpy: `to_vec` time over ours "
          "(share of the fresh-memory copy speed). Peak Δ: one-shot peak RSS minus a read-only "
          "run. Drop: freeing the decoded value, per call, outside the timings.")
    if any(r["entry"]["kind"] == "json" for r in results):
        print("‡ records.json: the ours columns are serde_json `from_slice::<Value>`, CPython is "
              "`json.loads`.")
    for n in notes:
        print("* " + n)
    print()
    print("\n".join(spread_table(results)))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"started": started, "python": sys.version, "results": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
