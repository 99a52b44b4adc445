#!/usr/bin/env python3
"""Compares criterion results of the same benchmarks from two builds: A (an
earlier commit) and B (the change), run interleaved on one machine by
scripts/bench_ab.sh.

    python3 scripts/bench_ab.py OUT_DIR [--markdown]

OUT_DIR holds one directory per round, each with the CRITERION_HOME of A
(`a`) and of B (`b`). For every benchmark present in both, prints B's time
relative to A's (below 1: B is faster): the ratio of the best medians over
all rounds, and the median of the per-round ratios. Peers are the same code
in both builds, so their ratios are the run's noise; the summary prints them
beside intake's.
"""
import json
import os
import statistics
import sys


def load(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if "benchmark.json" not in files or not dirpath.endswith("/new"):
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        key = (meta["group_id"], meta.get("function_id") or "")
        out[key] = est["median"]["point_estimate"]
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    root = args[0]
    times = {}  # key -> ([A times], [B times], [B/A per round])
    for r in sorted(os.listdir(root)):
        a_dir, b_dir = os.path.join(root, r, "a"), os.path.join(root, r, "b")
        if not (os.path.isdir(a_dir) and os.path.isdir(b_dir)):
            continue
        a, b = load(a_dir), load(b_dir)
        for key in set(a) & set(b):
            ta, tb, ratios = times.setdefault(key, ([], [], []))
            ta.append(a[key])
            tb.append(b[key])
            ratios.append(b[key] / a[key])
    if markdown:
        print("| workload | candidate | rounds | A best | B best | B/A, best | B/A, median of rounds |")
        print("|---|---|---:|---:|---:|---:|---:|")
    rows = []
    for key in sorted(times):
        ta, tb, ratios = times[key]
        best = min(tb) / min(ta)
        med = statistics.median(ratios)
        rows.append((key, best, med))
        group, fn = key
        if markdown:
            mark = "**" if fn.startswith("intake") else ""
            print(f"| {group} | {mark}{fn}{mark} | {len(ratios)} | {min(ta) / 1e6:.2f} ms "
                  f"| {min(tb) / 1e6:.2f} ms | {best:.3f} | {med:.3f} |")
        else:
            each = " ".join(f"{x:.2f}" for x in ratios)
            print(f"{group:36} {fn:30} best {best:.3f}  median {med:.3f}  ({each})")
    for label, pick in (("intake", True), ("peers (noise)", False)):
        sel = [(b, m) for (k, b, m) in rows if k[1].startswith("intake") == pick]
        if sel:
            print(f"\n{label}: {len(sel)} rows; B/A best: worst {max(b for b, _ in sel):.3f}, "
                  f"median {statistics.median(b for b, _ in sel):.3f}; "
                  f"median of rounds: worst {max(m for _, m in sel):.3f}")


if __name__ == "__main__":
    main()
