#!/usr/bin/env python3
"""strata's benchmark runner: runs every bench binary, pairs each figure with its baseline
from the same run, and writes bench/results/latest.{md,json} and a chart of the ratios.

Each bench folder (bench/<layer>/) has a targets.tsv:
    figure <TAB> strata <TAB> baseline <TAB> metric <TAB> target
  metric  rate   : strata items/s / baseline items/s
          time   : strata time / baseline time
          abs_ns : strata time per iteration in ns (baseline '-')
  target  e.g. >=0.95, <=1.5
Benchmark names are matched exactly or as a prefix followed by '/' (Google Benchmark appends
/real_time, /iterations:N, arguments...).
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPETITIONS = 5


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
            if os.access(path, os.X_OK) and not name.endswith((".cmake", ".txt", ".py", ".so")):
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


def run_binary(path, quick, out_dir):
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
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout)
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


def evaluate(row, results):
    out = dict(row)
    s = lookup(results, row["strata"])
    base_name = row.get("baseline", "-")
    b = lookup(results, base_name) if base_name not in ("", "-") else None
    metric = row["metric"]
    m = re.match(r"\s*(>=|<=)\s*([0-9.eE+-]+)", row["target"])
    op, target = (m.group(1), float(m.group(2))) if m else (None, None)
    out.update(strata_value=None, baseline_value=None, ratio=None, status="missing")
    if s is None:
        out["status"] = "missing strata benchmark"
        return out
    if metric == "abs_ns":
        value = ns_per_iter(s)
        out["strata_value"] = value
        out["ratio"] = value
    else:
        if b is None:
            out["status"] = "missing baseline"
            return out
        if metric == "rate":
            sv, bv = s.get("items_per_second"), b.get("items_per_second")
            if not sv or not bv:
                out["status"] = "no items_per_second"
                return out
        else:
            sv, bv = ns_per_iter(s), ns_per_iter(b)
        out["strata_value"], out["baseline_value"] = sv, bv
        out["ratio"] = sv / bv if bv else None
    if out["ratio"] is None or op is None:
        out["status"] = "no target"
        return out
    met = out["ratio"] >= target if op == ">=" else out["ratio"] <= target
    out["status"] = "met" if met else "NOT met"
    # Normalised score for the chart: >= 1 means the target is met.
    out["score"] = (out["ratio"] / target if op == ">=" else target / out["ratio"]) if out["ratio"] else 0
    return out


def fmt_value(v, metric):
    if v is None:
        return "-"
    if metric == "rate":
        return f"{v:,.0f}/s"
    if v >= 1e6:
        return f"{v / 1e6:,.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:,.2f} µs"
    return f"{v:,.0f} ns"


def write_markdown(path, info, rows, failures, quick):
    lines = ["# strata benchmark results", "",
             f"- date: {info['date']}, commit `{info['commit']}`" + (" (quick mode)" if quick else ""),
             f"- machine: {info['cores']} cores, {info['cpu']}",
             f"- disk: median 4 KiB pwrite+fdatasync {info['fsync_median_us']} µs (measured at start)",
             "- ratio: strata ÷ baseline in the same run (rate: items/s; time: time per op)" +
             ("" if quick else f"; medians of {REPETITIONS} repetitions run in random interleaved order"),
             "- command: `bash scripts/bench" + (" --quick" if quick else "") + "`", ""]
    if failures:
        lines += ["**Benchmark binaries that failed:** " + ", ".join(failures), ""]
    by_comp = {}
    for r in rows:
        by_comp.setdefault(r["component"], []).append(r)
    for comp, items in by_comp.items():
        lines += [f"## {comp}", "", "| figure | strata | baseline | ratio | target | status |",
                  "|---|---|---|---|---|---|"]
        for r in items:
            ratio = "-" if r["ratio"] is None else (
                fmt_value(r["ratio"], "abs_ns") if r["metric"] == "abs_ns" else f"{r['ratio']:.2f}×")
            lines.append(f"| {r['figure']} | {fmt_value(r['strata_value'], r['metric'])} | "
                         f"{fmt_value(r['baseline_value'], r['metric'])} | {ratio} | "
                         f"{r['target']} | {r['status']} |")
        lines.append("")
    met = sum(1 for r in rows if r["status"] == "met")
    targeted = sum(1 for r in rows if r["target"].strip() not in ("", "-"))
    lines.append(f"{met} of {targeted} targets met" +
                 (f" ({len(rows) - targeted} figures for reference, without a target)."
                  if targeted < len(rows) else "."))
    if os.path.exists(os.path.join(os.path.dirname(path), "ratios.svg")):
        lines += ["", "![ratios against targets](ratios.svg)"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_chart(out_dir, rows):
    scored = [r for r in rows if r.get("score") is not None]
    if not scored:
        return
    data = os.path.join(out_dir, "ratios.dat")
    with open(data, "w") as f:
        for i, r in enumerate(scored):
            label = (r["component"] + ": " + r["figure"]).replace('"', "'")
            f.write(f'{i} {min(r["score"], 50):.4f} "{label}"\n')
    script = f"""
set terminal svg size 1200,{max(300, 22 * len(scored) + 120)} dynamic font 'sans,10'
set output '{os.path.join(out_dir, "ratios.svg")}'
set title 'strata ÷ baseline, divided by the target: >= 1 means met (log scale)'
set logscale x
set xrange [0.05:60]
set yrange [-1:{len(scored)}]
set ytics font 'sans,9'
set style fill solid 0.8
set key off
set arrow from 1,-1 to 1,{len(scored)} nohead lc rgb 'red' lw 2
plot '{data}' using (($2>=1)?$2:1/0):1:(0.05):($2):($1-0.35):($1+0.35):ytic(3) with boxxyerrorbars lc rgb '#2a9d8f', \\
     '{data}' using (($2<1)?$2:1/0):1:(0.05):($2):($1-0.35):($1+0.35):ytic(3) with boxxyerrorbars lc rgb '#e76f51'
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as e:
        log(f"chart not written: {e}")
    finally:
        os.unlink(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="smaller data sets (STRATA_BENCH_QUICK=1)")
    ap.add_argument("--filter", default="", help="only binaries whose name contains this")
    args = ap.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    info = machine_info(args.build_dir)
    log(f"machine: {info['cores']} cores, {info['cpu']}, fsync median {info['fsync_median_us']} µs")
    binaries = [b for b in find_binaries(args.build_dir) if args.filter in os.path.basename(b)]
    if not binaries:
        log(f"no benchmark binaries under {args.build_dir}/bench")
        return 1
    results, failures, raw = [], [], {}
    with tempfile.TemporaryDirectory(prefix="strata-bench-json-") as tmp:
        for i, path in enumerate(binaries, 1):
            name = os.path.basename(path)
            log(f"\n=== [{i}/{len(binaries)}] {name} ({len(binaries) - i} left after this) ===")
            ok, res, secs = run_binary(path, args.quick, tmp)
            log(f"=== {name}: {'ok' if ok else 'FAILED'} in {secs:.0f} s")
            if not ok:
                failures.append(name)
            results += res
            raw[name] = res
    rows = [evaluate(r, results) for r in read_targets()]
    write_chart(args.out_dir, rows)
    with open(os.path.join(args.out_dir, "latest.json"), "w") as f:
        json.dump({"machine": info, "quick": args.quick, "failed_binaries": failures,
                   "figures": rows, "benchmarks": raw}, f, indent=1, default=str)
    write_markdown(os.path.join(args.out_dir, "latest.md"), info, rows, failures, args.quick)
    log("\n" + open(os.path.join(args.out_dir, "latest.md")).read())
    log(f"wrote {args.out_dir}/latest.md, latest.json, ratios.svg")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
