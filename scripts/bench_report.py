#!/usr/bin/env python3
"""Builds the README's benchmark table and chart from one `cargo bench` run.

Reads criterion's results (target/criterion/**/new/{benchmark,estimates}.json)
and the memory bench's target/bench-memory.json, prints a Markdown table per
workload (throughput, ratio to intake, ratio to the floor, peak heap,
allocations per frame) and writes docs/bench.svg (throughput relative to the
fastest candidate of each workload).

    rm -rf target/criterion && cargo bench \
      && cargo bench --features intake-benches/tokio --bench tokio \
      && python3 scripts/bench_report.py > docs/bench.md

The timeouts and tokio benches write their own JSON (target/bench-timeouts.json,
target/bench-tokio.json); their sections are printed last.

The report opens with a stamp read when it is generated: the date, the git
commit (and whether the tree had uncommitted changes), `rustc --version` and
the versions of the peer crates in Cargo.lock, so every figure can be traced
to the code and the competitors it measured.

Clearing target/criterion first keeps results of renamed or removed
benchmarks from older runs out of the report.
"""
import json
import os
import platform
import re
import subprocess
import sys
from collections import OrderedDict
from datetime import datetime, timezone

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


# The crates intake is measured against, and the harness, as Cargo.lock pins them.
PEERS = ["tokio", "tokio-util", "futures-lite", "async-std", "asynchronous-codec",
         "smol", "criterion", "multer"]


def run(*cmd):
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def lock_versions(path=os.path.join(ROOT, "Cargo.lock")):
    """Package name -> its versions in Cargo.lock (a name can appear twice)."""
    versions = {}
    with open(path) as f:
        for block in f.read().split("[[package]]")[1:]:
            name = re.search(r'^name = "([^"]+)"', block, re.M)
            version = re.search(r'^version = "([^"]+)"', block, re.M)
            if name and version:
                versions.setdefault(name.group(1), []).append(version.group(1))
    return versions


def print_stamp():
    """What was measured, read now: date, commit, compiler, peer crates."""
    commit = run("git", "rev-parse", "HEAD") or "unknown"
    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    if dirty:
        commit += " (with uncommitted changes)"
    newest = max((os.path.getmtime(os.path.join(d, "estimates.json"))
                  for d, _dirs, files in os.walk(CRIT) if "estimates.json" in files),
                 default=None)
    versions = lock_versions()
    print("## Stamp\n")
    print("| | |")
    print("|---|---|")
    print(f"| generated | {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC |")
    if newest is not None:
        ran = datetime.fromtimestamp(newest, timezone.utc)
        print(f"| newest criterion result | {ran:%Y-%m-%d %H:%M} UTC |")
    print(f"| commit | `{commit}` |")
    print(f"| rustc | `{run('rustc', '--version') or 'unknown'}` |")
    for peer in PEERS:
        print(f"| {peer} | {', '.join(versions.get(peer, ['not in Cargo.lock']))} |")
    print()


def main():
    times = load_times()
    memory = load_memory()
    calls = load_write_calls()
    if not times:
        sys.exit("no criterion results under target/criterion: run `cargo bench` first")
    print_stamp()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; `cargo bench` from the repository root.\n")
    print("One full `cargo bench` run, every candidate of a workload side by side on the")
    print("same input, then `python3 scripts/bench_report.py` (which also draws")
    print("`bench.svg`). Sources return at most C bytes per read; sinks take at most C")
    print("bytes per write, copy them (each call's copy starting 1088 bytes further into")
    print("a page than the last, so no candidate's time hangs on where the sink's memory")
    print("landed) and count the calls; the `pending` / `Pending`")
    print("variants return `Pending` on every other poll. Every candidate's output is")
    print("checked before it is timed. The tokio section at the end comes from its own")
    print("run, after it (`cargo bench --features intake-benches/tokio --bench tokio`).")
    print("Timing on this VM moves by 10-30% between runs, sometimes for the whole")
    print("machine at once; compare rows within one table.\n")
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
    print_timeouts()
    print_tokio()


def load_json(name):
    path = os.path.join(ROOT, "target", name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def print_timeouts():
    rows = load_json("bench-timeouts.json")
    if not rows:
        return
    body = 256 << 20
    print("### reads under a timeout, 256 MiB over loopback TCP (smol)\n")
    print("`cargo bench --bench timeouts`: median of 5, a counting allocator for the heap")
    print("held beyond the caller's 256 MiB buffer; every body checked byte for byte.\n")
    print("| candidate | time | GB/s | cancellations | heap beyond dst |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        secs = r["median_s"]
        print(f"| {r['candidate']} | {secs * 1e3:.0f} ms | {body / secs / 1e9:.2f} | "
              f"{r['cancels_min']}-{r['cancels_max']} | {r['peak_bytes'] / (1 << 20):.1f} MiB |")
    print()


# Items per run of the tokio bench's throughput workloads, by title prefix.
TOKIO_ITEMS = {"1M frames": 1e6, "20k frames": 2e4, "1M lines": 1e6}


def print_tokio():
    rows = load_json("bench-tokio.json")
    if not rows:
        return
    print("### tokio's own traits (`cargo bench --features intake-benches/tokio --bench tokio`)\n")
    print("Its own run, right after the criterion benches above. Candidates run in")
    print("interleaved rounds, each round starting one candidate further on, and each")
    print("reports its median; every output is checked. intake reads through `TokioIo`")
    print("(into uninitialized memory); the peers read the same in-memory tokio source")
    print("of at most C bytes per read. Ratios are against the fastest non-intake row.\n")
    print("| workload | candidate | rate | vs fastest peer |")
    print("|---|---|---:|---:|")
    by_workload = OrderedDict()
    for r in rows:
        if "median_s" in r and not r["workload"].startswith("tcp"):
            by_workload.setdefault(r["workload"], []).append(r)
    for workload, cands in by_workload.items():
        items = next(v for k, v in TOKIO_ITEMS.items() if workload.startswith(k))
        peer = min(c["median_s"] for c in cands if not c["candidate"].startswith("intake"))
        for i, c in enumerate(cands):
            label = workload if i == 0 else ""
            bold = "**" if c["candidate"].startswith("intake") else ""
            print(f"| {label} | {bold}{c['candidate']}{bold} | {items / c['median_s'] / 1e6:.2f} M/s | "
                  f"{peer / c['median_s']:.2f}x |")
    print()
    tcp = [r for r in rows if r["workload"].startswith("tcp")]
    if tcp:
        total = 256 << 20
        floor = min(r["median_s"] for r in tcp if r["candidate"].startswith("raw read loop"))
        print("Loopback TCP, 256 MiB of 1 MiB frames, tokio's current-thread runtime. The")
        print("floor is the faster of the two raw read loops (bytes read and dropped).\n")
        print("| candidate | GB/s | time vs the floor |")
        print("|---|---:|---:|")
        for r in tcp:
            print(f"| {r['candidate']} | {total / r['median_s'] / 1e9:.2f} | {r['median_s'] / floor:.2f}x |")
        print()
    cpu = OrderedDict()
    for r in rows:
        if "cpu_s" in r:
            cpu.setdefault(r["workload"], []).append(r)
    for workload, cands in cpu.items():
        big = 256 << 20
        ref = next(c for c in cands if c["candidate"].startswith("futures-lite"))
        source = workload.replace("256MiB frame cpu ", "")
        print(f"One 256 MiB frame {source}, its length off the wire: CPU time per byte")
        print("(clock_gettime) of the receiving thread and of the whole process (the same")
        print("thread from memory).\n")
        print("| candidate | receiver ns/byte | vs futures-lite | both ends ns/byte | vs futures-lite | wall |")
        print("|---|---:|---:|---:|---:|---:|")
        for c in cands:
            print(f"| {c['candidate']} | {c['cpu_s'] / big * 1e9:.3f} | {c['cpu_s'] / ref['cpu_s']:.3f}x | "
                  f"{c['both_cpu_s'] / big * 1e9:.3f} | {c['both_cpu_s'] / ref['both_cpu_s']:.3f}x | "
                  f"{c['wall_s'] * 1e3:.0f} ms |")
        print()


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
