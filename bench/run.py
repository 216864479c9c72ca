#!/usr/bin/env python3
"""strata's benchmark runner: runs every bench binary, pairs each figure with its baseline
from the same run, and writes bench/results/latest.{md,json}, a chart of the ratios against
their targets and a chart per layer of strata and its peers (bench/report.py).

Each bench folder (bench/<layer>/) has a targets.tsv:
    figure <TAB> strata <TAB> baseline <TAB> metric <TAB> target
  strata, baseline  a benchmark name, matched exactly or as a prefix followed by '/' (Google
                    Benchmark appends /real_time, /iterations:N, arguments...); or
                    'benchmark@variant' for the peer benches, whose one benchmark per figure
                    reports every library as counters <variant>_items_per_second,
                    <variant>_bytes_per_second, <variant>_device_bytes_per_op
                    (bench/common/rounds.h)
  metric  rate      : strata items/s / baseline items/s
          time      : strata time / baseline time
          dev_bytes : strata device bytes per durable operation / the baseline's
          abs_ns    : strata time per iteration in ns (baseline '-')
  target  e.g. >=0.95, <=1.5, or '-' for a figure shown for reference

--runs N makes N full runs of every binary and reports, per figure, the median over the runs
(each run's own figure being the median of its repetitions) and the min-max of its ratio.
"""
import argparse
import datetime
import json
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPETITIONS = 5
HEARTBEAT_S = 30


def log(msg):
    print(msg, flush=True)


def measure_fsync_us(directory, rounds=200):
    fd, path = tempfile.mkstemp(prefix="strata-fsync-", dir=directory)
    try:
        block = b"\0" * 4096
        samples = []
        for i in range(rounds):
            t0 = time.perf_counter()
            os.pwrite(fd, block, (i % 16) * 4096)
            os.fdatasync(fd)
            samples.append((time.perf_counter() - t0) * 1e6)
        samples.sort()
        return samples[len(samples) // 2]
    finally:
        os.close(fd)
        os.unlink(path)


def machine_info(build_dir):
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "fsync_median_us": round(measure_fsync_us(build_dir), 1),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def find_binaries(build_dir):
    bench_root = os.path.join(build_dir, "bench")
    found = []
    for dirpath, _, files in os.walk(bench_root):
        if "CMakeFiles" in dirpath:
            continue
        for name in files:
            path = os.path.join(dirpath, name)
            if os.access(path, os.X_OK) and not name.endswith((".cmake", ".txt", ".py", ".so", ".a")):
                found.append(path)
    return sorted(found)


def read_targets():
    rows = []
    bench_src = os.path.join(ROOT, "bench")
    for layer in sorted(os.listdir(bench_src)):
        path = os.path.join(bench_src, layer, "targets.tsv")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            header = None
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.split("\t")
                if header is None:
                    header = cols
                    continue
                row = dict(zip(header, cols))
                row["component"] = layer
                rows.append(row)
    return rows


def run_binary(path, quick, out_dir, progress):
    """Runs one bench binary, echoing each benchmark's line as it finishes."""
    out = os.path.join(out_dir, os.path.basename(path) + ".json")
    cmd = [path, "--benchmark_format=console", "--benchmark_out_format=json",
           "--benchmark_out=" + out]
    if not quick:
        # Each figure and its baseline are repeated, in a random interleaved order (so neither
        # always runs first, on a cooler or warmer machine), and compared by their medians.
        cmd += ["--benchmark_repetitions=%d" % REPETITIONS,
                "--benchmark_enable_random_interleaving=true"]
    env = dict(os.environ)
    if quick:
        env["STRATA_BENCH_QUICK"] = "1"
    t0 = time.time()
    lines = queue.Queue()
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        def pump():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)
        threading.Thread(target=pump, daemon=True).start()
        # Google Benchmark prints repeated, interleaved benchmarks only at the end: a line
        # every HEARTBEAT_S seconds says the binary is still at work.
        while True:
            try:
                line = lines.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                log(f"{progress} {time.time() - t0:6.0f} s | ... still running")
                continue
            if line is None:
                break
            sys.stdout.write(f"{progress} {time.time() - t0:6.0f} s | {line}")
            sys.stdout.flush()
    ok = proc.returncode == 0
    if not ok:
        log(f"{os.path.basename(path)} exited with code {proc.returncode}")
    results = []
    if os.path.isfile(out):
        try:
            with open(out) as f:
                results = json.load(f).get("benchmarks", [])
        except (OSError, ValueError):
            ok = False
    return ok, results, time.time() - t0


def split_name(name):
    """'bench@variant' -> ('bench', 'variant'); 'bench' -> ('bench', None)."""
    bench, _, variant = name.partition("@")
    return bench, (variant or None)


def lookup(results, name):
    """The median aggregate of a repeated benchmark, else its single run."""
    def matches(n):
        return n == name or n.startswith(name + "/")
    for b in results:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median" \
                and matches(b.get("run_name", "")):
            return b
    for b in results:
        if b.get("run_type", "iteration") == "iteration" and matches(b["name"]):
            return b
    return None


def ns_per_iter(b):
    unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * unit


def figure_values(results, name):
    """What the runner reads of one side of a figure: rate (items/s), ns (time per iteration,
    plain benchmarks only) and dev (device bytes per durable operation, peer benches only);
    None when the benchmark is missing."""
    bench, variant = split_name(name)
    b = lookup(results, bench)
    if b is None:
        return None
    if variant is None:
        return {"rate": b.get("items_per_second"), "ns": ns_per_iter(b), "dev": None}
    return {"rate": b.get(variant + "_items_per_second"), "ns": None,
            "dev": b.get(variant + "_device_bytes_per_op")}


def parse_target(target):
    m = re.match(r"\s*(>=|<=)\s*([0-9.eE+-]+)", target)
    return (m.group(1), float(m.group(2))) if m else (None, None)


def judge(out):
    """Sets status and score (>= 1 means met, for the chart) from out['ratio']."""
    op, target = parse_target(out["target"])
    if out["ratio"] is None or op is None:
        out["status"] = "no target" if out["ratio"] is not None else out["status"]
        return out
    met = out["ratio"] >= target if op == ">=" else out["ratio"] <= target
    out["status"] = "met" if met else "NOT met"
    out["score"] = (out["ratio"] / target if op == ">=" else target / out["ratio"]) \
        if out["ratio"] else 0
    return out


def evaluate(row, results):
    out = dict(row)
    out.update(strata_value=None, baseline_value=None, ratio=None, status="missing",
               strata_dev=None, baseline_dev=None)
    s = figure_values(results, row["strata"])
    base_name = row.get("baseline", "-")
    b = figure_values(results, base_name) if base_name not in ("", "-") else None
    metric = row["metric"]
    if s is None:
        out["status"] = "missing strata benchmark"
        return out
    out["strata_dev"] = s["dev"]
    if b is not None:
        out["baseline_dev"] = b["dev"]
    if metric == "abs_ns":
        out["strata_value"] = out["ratio"] = s["ns"]
        return judge(out)
    if b is None:
        out["status"] = "missing baseline"
        return out
    key = {"rate": "rate", "time": "ns", "dev_bytes": "dev"}[metric]
    sv, bv = s[key], b[key]
    if not sv or not bv:
        out["status"] = f"no {key} counter"
        return out
    out["strata_value"], out["baseline_value"] = sv, bv
    out["ratio"] = sv / bv
    return judge(out)


def merge_runs(runs):
    """One row per figure: the median over the runs of each value, and the ratio's min-max."""
    merged = []
    for i, first in enumerate(runs[0]["rows"]):
        rows = [r["rows"][i] for r in runs]
        out = {k: v for k, v in first.items() if k not in ("score",)}
        for key in ("strata_value", "baseline_value", "ratio", "strata_dev", "baseline_dev"):
            values = [r[key] for r in rows if r[key] is not None]
            out[key] = statistics.median(values) if values else None
        ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
        out["ratio_min"] = min(ratios) if ratios else None
        out["ratio_max"] = max(ratios) if ratios else None
        out["runs_met"] = sum(1 for r in rows if r["status"] == "met")
        out["status"] = first["status"] if out["ratio"] is None else "missing"
        merged.append(judge(out) if out["ratio"] is not None else out)
    return merged


def peer_benchmarks(results):
    """Names of the peer benches' benchmarks in `results` ("<layer>_peers/<figure>")."""
    names = []
    for b in results:
        name = b.get("run_name", b["name"]).split("/iterations:")[0]
        if "_peers/" in name and name not in names:
            names.append(name)
    return names


def merge_peer_counters(runs):
    """{benchmark: {variant: items/s}} of the peer benches, the median over the runs."""
    per_bench = {}
    for run in runs:
        for name in peer_benchmarks(run["results"]):
            b = lookup(run["results"], name)
            for key, value in b.items():
                if key.endswith("_items_per_second"):
                    variant = key[:-len("_items_per_second")]
                    per_bench.setdefault(name, {}).setdefault(variant, []).append(value)
    return {b: {v: statistics.median(x) for v, x in c.items()} for b, c in per_bench.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="smaller data sets (STRATA_BENCH_QUICK=1)")
    ap.add_argument("--filter", default="",
                    help="only binaries whose name contains this (several: comma-separated; "
                         "=NAME: exactly that name, e.g. =raft_bench without craft_bench); "
                         "the report then holds only the figures those binaries measured")
    ap.add_argument("--runs", type=int, default=1,
                    help="full runs of every binary; the report takes each figure's median "
                         "over them and shows the min-max of its ratio")
    ap.add_argument("--update-from", metavar="DIR", default="",
                    help="run nothing: merge the filtered report in DIR (made with the same "
                         "--runs) into --out-dir's full report, replacing the figures of the "
                         "binaries DIR measured; the header says which and from which commit")
    args = ap.parse_args()
    if args.update_from:
        return update_report(args.out_dir, args.update_from)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    os.makedirs(args.out_dir, exist_ok=True)
    info = machine_info(args.build_dir)
    info["runs"] = args.runs
    log(f"machine: {info['cores']} cores, {info['cpu']}, fsync median {info['fsync_median_us']} µs")
    filters = args.filter.split(",")
    info["filter"] = args.filter
    def wanted(name):
        return any(f[1:] == name if f.startswith("=") else f in name for f in filters)
    binaries = [b for b in find_binaries(args.build_dir) if wanted(os.path.basename(b))]
    if not binaries:
        log(f"no benchmark binaries under {args.build_dir}/bench")
        return 1
    targets = read_targets()
    runs, failures = [], []
    start = time.time()
    durations = {}  # seconds each binary took in the first run, for the later runs' estimates
    with tempfile.TemporaryDirectory(prefix="strata-bench-json-") as tmp:
        for r in range(1, args.runs + 1):
            results, raw = [], {}
            for i, path in enumerate(binaries, 1):
                name = os.path.basename(path)
                progress = f"[run {r}/{args.runs} bin {i}/{len(binaries)}]"
                left = ""
                if r > 1:
                    rest = sum(durations.values()) * (args.runs - r) + sum(
                        durations.get(os.path.basename(b), 0) for b in binaries[i - 1:])
                    left = f", about {rest / 60:.0f} min left"
                log(f"\n=== {progress} {name} ({time.time() - start:.0f} s so far{left}) ===")
                ok, res, secs = run_binary(path, args.quick, tmp, progress)
                log(f"=== {name}: {'ok' if ok else 'FAILED'} in {secs:.0f} s")
                if r == 1:
                    durations[name] = secs
                if not ok and name not in failures:
                    failures.append(name)
                results += res
                raw[name] = res
            rows = [evaluate(t, results) for t in targets]
            met = sum(1 for x in rows if x["status"] == "met")
            log(f"\n=== run {r}/{args.runs}: {met} of "
                f"{sum(1 for t in targets if parse_target(t['target'])[0])} targets met")
            runs.append({"rows": rows, "results": results, "raw": raw})
    rows = merge_runs(runs) if args.runs > 1 else runs[0]["rows"]
    if args.filter:
        rows = [x for x in rows if x["status"] != "missing strata benchmark"]
    return write_report(args.out_dir, info, rows, runs, failures, args.quick, start)


def write_report(out_dir, info, rows, runs, failures, quick, start):
    peers = merge_peer_counters(runs)
    report.write_ratio_chart(out_dir, rows)
    report.write_peer_charts(out_dir, peers)
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump({"machine": info, "quick": quick, "failed_binaries": failures,
                   "figures": rows, "peers": peers,
                   "runs": [{"figures": r["rows"], "benchmarks": r["raw"]} for r in runs]},
                  f, indent=1, default=str)
    md = os.path.join(out_dir, "latest.md")
    report.write_markdown(md, info, rows, failures, quick, REPETITIONS)
    log("\n" + open(md).read())
    log(f"wrote {out_dir}/latest.md, latest.json and the charts "
        f"({time.time() - start:.0f} s)")
    return 1 if failures else 0


def update_report(out_dir, update_dir):
    """Replaces, in out_dir's full report, the binaries that update_dir's filtered run measured
    (same number of runs): run i of the report takes run i of the update for those binaries
    and keeps its own results for the others. The header names the update's commit and date."""
    start = time.time()
    with open(os.path.join(out_dir, "latest.json")) as f:
        base = json.load(f)
    with open(os.path.join(update_dir, "latest.json")) as f:
        new = json.load(f)
    if base.get("quick") != new.get("quick") or len(base["runs"]) != len(new["runs"]):
        log("--update-from: the two reports differ in --runs or --quick; rerun with the report's")
        return 2
    if base["machine"].get("filter"):
        log("--update-from: the report to update is itself filtered; update a full report")
        return 2
    targets = read_targets()
    runs = []
    for b, n in zip(base["runs"], new["runs"]):
        raw = dict(b["benchmarks"])
        raw.update(n["benchmarks"])
        results = [x for res in raw.values() for x in res]
        runs.append({"rows": [evaluate(t, results) for t in targets], "results": results,
                     "raw": raw})
    rows = merge_runs(runs) if len(runs) > 1 else runs[0]["rows"]
    replaced = sorted(new["runs"][0]["benchmarks"])
    info = dict(base["machine"])
    m = new["machine"]
    info["updates"] = list(info.get("updates", [])) + [
        f"{', '.join(replaced)}: rerun on {m['date']} at commit `{m['commit']}` "
        f"(fdatasync median {m['fsync_median_us']} µs), with `bench/run.py --filter "
        f"{m.get('filter', '')} --runs {m['runs']}` and merged with `--update-from`"]
    failures = [x for x in base.get("failed_binaries", []) if x not in replaced]
    failures += [x for x in new.get("failed_binaries", []) if x not in failures]
    return write_report(out_dir, info, rows, runs, failures, base.get("quick", False), start)


if __name__ == "__main__":
    sys.exit(main())
