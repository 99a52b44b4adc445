#!/usr/bin/env python3
"""Builds the README's benchmark table and chart from one `cargo bench` run.

Reads criterion's results (target/criterion/**/new/{benchmark,estimates}.json)
and the memory bench's target/bench-memory.json, prints a Markdown table per
workload (throughput, ratio to intake, ratio to the floor, peak heap,
allocations per frame) and writes docs/bench.svg (throughput relative to the
fastest candidate of each workload).

    rm -rf target/criterion && cargo bench && python3 scripts/bench_report.py > docs/bench.md

Clearing target/criterion first keeps results of renamed or removed
benchmarks from older runs out of the report.
"""
import json
import os
import platform
import sys
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRIT = os.path.join(ROOT, "target", "criterion")


def load_times():
    groups = OrderedDict()
    for dirpath, _dirs, files in os.walk(CRIT):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        secs = est["mean"]["point_estimate"] / 1e9
        tp = bench.get("throughput") or {}
        groups.setdefault(bench["group_id"], {})[bench["function_id"]] = (secs, tp)
    return groups


def load_write_calls():
    path = os.path.join(ROOT, "target", "bench-write-calls.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {(r["group"], r["candidate"]): r["calls"] for r in json.load(f)}


def load_memory():
    path = os.path.join(ROOT, "target", "bench-memory.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {(r["group"], r["candidate"]): r for r in json.load(f)}


def rate(secs, tp):
    """Per-second rate: bytes for byte throughput, items (frames, lines,
    messages) otherwise."""
    if "Bytes" in tp:
        return tp["Bytes"] / secs, "B/s"
    if "Elements" in tp:
        return tp["Elements"] / secs, "/s"
    return 1 / secs, "runs/s"


def show(value, unit):
    if unit == "B/s":
        return f"{value / 1e9:.2f} GB/s"
    for scale, prefix in ((1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.2f} {unit}"


def human(n):
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def group_order(name):
    order = ["frames small", "frames medium", "frames large", "lines", "caller memory", "writes", "tcp"]
    for i, prefix in enumerate(order):
        if name.startswith(prefix):
            return (i, name)
    return (len(order), name)


def main():
    times = load_times()
    memory = load_memory()
    calls = load_write_calls()
    if not times:
        sys.exit("no criterion results under target/criterion: run `cargo bench` first")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; one `cargo bench` run.\n")
    chart = []
    for group in sorted(times, key=group_order):
        cands = times[group]
        intake = next((v for k, v in cands.items() if k.startswith("intake")), None)
        floor = next((v for k, v in cands.items() if "floor" in k and "fresh" not in k), None)
        print(f"### {group}\n")
        writes = group.startswith("writes")
        per = "allocs/item" if writes else "allocs/frame"
        extra = " write calls |" if writes else ""
        print(f"| candidate | throughput | vs intake | vs floor | peak heap | {per} |{extra}")
        print("|---|---:|---:|---:|---:|---:|" + ("---:|" if writes else ""))
        best = max(rate(s, tp)[0] for s, tp in cands.values())
        for name, (secs, tp) in sorted(cands.items(), key=lambda kv: kv[1][0]):
            r, unit = rate(secs, tp)
            shown = show(r, unit)
            vs_i = f"{intake[0] / secs:.2f}x" if intake else "-"
            vs_f = f"{floor[0] / secs:.2f}x" if floor else "-"
            mem = memory.get((group, name))
            peak = human(mem["peak_bytes"]) if mem else "-"
            allocs = f"{mem['allocs_per_unit']:.3f}" if mem else "-"
            bold = "**" if name.startswith("intake") else ""
            row = f"| {bold}{name}{bold} | {shown} | {vs_i} | {vs_f} | {peak} | {allocs} |"
            if writes:
                n = calls.get((group, name))
                row += f" {n:,} |" if n is not None else " - |"
            print(row)
            chart.append((group, name, r / best))
        print()
    write_svg(chart, os.path.join(ROOT, "docs", "bench.svg"))


def write_svg(rows, path):
    bar_h, gap, left, width = 14, 4, 430, 360
    y = 20
    parts = []
    last = None
    for group, name, rel in rows:
        if group != last:
            y += 10
            parts.append(f'<text x="4" y="{y + 10}" font-weight="bold">{group}</text>')
            y += bar_h + gap
            last = group
        color = "#d9480f" if name.startswith("intake") else ("#868e96" if "floor" in name else "#1c7ed6")
        w = max(1, int(rel * width))
        parts.append(f'<text x="24" y="{y + 11}">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 4}" y="{y + 11}">{rel * 100:.0f}%</text>')
        y += bar_h + gap
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{y + 20}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
           f'<text x="4" y="14">Throughput relative to the fastest candidate of each workload '
           f'(intake orange, floor grey)</text>{"".join(parts)}</svg>\n')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
