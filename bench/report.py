"""The report bench/run.py writes: latest.md (a table per layer), ratios.svg (every ratio
against its target) and peers_<layer>.svg (strata and each peer library, per figure)."""
import os
import subprocess

# Order of the bars in the peer charts; variants not listed come after, alphabetically.
PEER_ORDER = ["strata", "floor", "raft_uv", "leveldb", "lmdb", "sqlite"]


def log(msg):
    print(msg, flush=True)


def fmt_value(v, metric):
    if v is None:
        return "-"
    if metric == "rate":
        return f"{v:,.0f}/s"
    if metric == "dev_bytes":
        return fmt_bytes(v)
    if v >= 1e6:
        return f"{v / 1e6:,.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:,.2f} µs"
    return f"{v:,.0f} ns"


def fmt_bytes(v):
    return "-" if v is None else f"{v / 1024:,.1f} KiB"


def fmt_ratio(r):
    if r["ratio"] is None:
        return "-"
    def fmt(v):
        return fmt_value(v, "abs_ns") if r["metric"] == "abs_ns" else f"{v:.2f}"
    text = fmt(r["ratio"]) + ("" if r["metric"] == "abs_ns" else "×")
    if r.get("ratio_min") is not None:
        text += f" ({fmt(r['ratio_min'])}–{fmt(r['ratio_max'])})"
    return text


def fmt_device(r):
    """The device-bytes cell: strata's bytes per durable operation / the baseline's."""
    if r.get("strata_dev") is None and r.get("baseline_dev") is None:
        return "-"
    return f"{fmt_bytes(r.get('strata_dev'))} / {fmt_bytes(r.get('baseline_dev'))}"


def write_markdown(path, info, rows, failures, quick, repetitions):
    runs = info.get("runs", 1)
    method = "" if quick else f"; medians of {repetitions} repetitions run in random interleaved order"
    lines = ["# strata benchmark results", "",
             f"- date: {info['date']}, commit `{info['commit']}`" + (" (quick mode)" if quick else ""),
             f"- machine: {info['cores']} cores, {info['cpu']}",
             f"- disk: median 4 KiB pwrite+fdatasync {info['fsync_median_us']} µs (measured at start)",
             "- ratio: strata ÷ baseline in the same run (rate: items/s; time: time per op; "
             "device bytes: bytes the block device received per durable operation)" + method,
             "- peers (LevelDB, LMDB, SQLite, raft_uv, the disk's floor) run in the same benchmark "
             "as strata, interleaved in small chunks: see bench/README.md",
             "- command: `bash scripts/bench" + (" --quick" if quick else "") +
             (f" --runs {runs}" if runs > 1 else "") +
             (f" --filter {info['filter']}" if info.get("filter") else "") + "`"]
    if runs > 1:
        lines.append(f"- {runs} full runs: each value is the median over the runs; "
                     "in parentheses the ratio's min–max over them")
    for update in info.get("updates", []):
        lines.append(f"- updated since: {update}")
    lines.append("")
    if failures:
        lines += ["**Benchmark binaries that failed:** " + ", ".join(failures), ""]
    by_comp = {}
    for r in rows:
        by_comp.setdefault(r["component"], []).append(r)
    for comp, items in by_comp.items():
        lines += [f"## {comp}", "",
                  "| figure | strata | baseline | ratio | target | status | device bytes/op (strata / baseline) |",
                  "|---|---|---|---|---|---|---|"]
        for r in items:
            status = r["status"]
            if runs > 1 and r.get("runs_met") is not None and r["status"] in ("met", "NOT met"):
                status += f" ({r['runs_met']} of {runs} runs)"
            lines.append(f"| {r['figure']} | {fmt_value(r['strata_value'], r['metric'])} | "
                         f"{fmt_value(r['baseline_value'], r['metric'])} | {fmt_ratio(r)} | "
                         f"{r['target']} | {status} | {fmt_device(r)} |")
        lines.append("")
        chart = f"peers_{comp}.svg"
        if os.path.exists(os.path.join(os.path.dirname(path), chart)):
            lines += [f"![{comp}: strata and its peers]({chart})", ""]
    met = sum(1 for r in rows if r["status"] == "met")
    targeted = sum(1 for r in rows if r["target"].strip() not in ("", "-"))
    lines.append(f"{met} of {targeted} targets met" +
                 (f" ({len(rows) - targeted} figures for reference, without a target)."
                  if targeted < len(rows) else "."))
    if os.path.exists(os.path.join(os.path.dirname(path), "ratios.svg")):
        lines += ["", "![ratios against targets](ratios.svg)"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def gnuplot(script):
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        log(f"chart not written: {e}")
        return False


def write_ratio_chart(out_dir, rows):
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
        gnuplot(script)
    finally:
        os.unlink(data)


def variant_order(variants):
    known = [v for v in PEER_ORDER if v in variants]
    return known + sorted(v for v in variants if v not in PEER_ORDER)


def write_peer_charts(out_dir, peers):
    """One chart per layer: for each figure, every library's throughput relative to strata's
    (strata = 1; above 1 the library is faster), on a log scale."""
    layers = {}
    for bench, rates in peers.items():
        layer, figure = bench.split("/", 1)
        layers.setdefault(layer.replace("_peers", ""), []).append((figure, rates))
    for layer, figures in layers.items():
        variants = variant_order({v for _, rates in figures for v in rates})
        data = os.path.join(out_dir, f"peers_{layer}.dat")
        with open(data, "w") as f:
            f.write("figure " + " ".join(variants) + "\n")
            for figure, rates in figures:
                base = rates.get("strata")
                cells = [f"{rates[v] / base:.4f}" if base and rates.get(v) else "?"
                         for v in variants]
                f.write(f'"{figure}" ' + " ".join(cells) + "\n")
        plots = ", ".join(
            (f"'{data}' using {i + 2}:xtic(1) title '{v}'" if i == 0 else
             f"'' using {i + 2} title '{v}'") for i, v in enumerate(variants))
        script = f"""
set terminal svg size 900,420 dynamic font 'sans,10'
set output '{os.path.join(out_dir, f"peers_{layer}.svg")}'
set title '{layer}: throughput of each library relative to strata (strata = 1, higher is faster, log scale)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '?'
set key autotitle columnheader outside right top
set logscale y
set yrange [0.05:20]
set grid ytics
set xtics nomirror noenhanced
set key noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb 'red' lw 1
plot {plots}
"""
        try:
            gnuplot(script)
        finally:
            os.unlink(data)
