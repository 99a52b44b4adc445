#!/usr/bin/env python3
"""Compares two criterion result trees of the same benchmarks: A (a build
of an earlier commit) and B (the change), run interleaved on one machine.

    python3 scripts/bench_ab.py A_DIR B_DIR [--only intake] [--markdown]

Each directory is a CRITERION_HOME. For every benchmark present in both,
prints the median time of A and B and B's change in throughput (positive:
B is faster). Peers are the same code in both builds, so their change is
the run's noise; the summary prints it beside intake's.
"""
import json
import os
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
    a, b = load(args[0]), load(args[1])
    rows = []
    for key in sorted(set(a) & set(b)):
        change = a[key] / b[key] - 1.0  # throughput change of B over A
        rows.append((key, a[key], b[key], change))
    if markdown:
        print("| workload | candidate | A median | B median | B vs A |")
        print("|---|---|---:|---:|---:|")
    for (group, fn), ta, tb, change in rows:
        mark = "**" if fn.startswith("intake") else ""
        if markdown:
            print(f"| {group} | {mark}{fn}{mark} | {ta / 1e6:.3f} ms | {tb / 1e6:.3f} ms | {change * 100:+.1f}% |")
        else:
            print(f"{group:34} {fn:44} {ta / 1e6:10.3f} ms {tb / 1e6:10.3f} ms {change * 100:+6.1f}%")
    ours = [c for (k, _, _, c) in rows if k[1].startswith("intake")]
    peers = [c for (k, _, _, c) in rows if not k[1].startswith("intake")]
    if ours:
        worst = min(ours)
        print(f"\nintake: {len(ours)} rows, worst {worst * 100:+.1f}%, "
              f"median {sorted(ours)[len(ours) // 2] * 100:+.1f}%")
    if peers:
        spread = sorted(abs(c) for c in peers)
        print(f"peers (same code in both, so noise): {len(peers)} rows, "
              f"median |change| {spread[len(spread) // 2] * 100:.1f}%, "
              f"max {spread[-1] * 100:.1f}%")


if __name__ == "__main__":
    main()
