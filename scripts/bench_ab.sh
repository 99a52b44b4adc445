#!/usr/bin/env bash
# Runs two builds of the benchmarks, A (an earlier commit) and B (the
# change), in one sitting, bench file by bench file, alternating which goes
# first, so that a slow stretch of the machine hits both alike. Then
# compares them with scripts/bench_ab.py.
#
#   scripts/bench_ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [BENCH...]
#
# Each BIN_DIR holds the bench executables, named by bench (frames, lines,
# ...), copied from `target/release/deps/` after `cargo bench --no-run` of
# each commit (a worktree per commit). Results go to OUT_DIR/a and OUT_DIR/b
# (criterion's CRITERION_HOME), with each bench's output in OUT_DIR/*.log.
set -euo pipefail
a_bins=$1 b_bins=$2 out=$3
shift 3
benches=("$@")
if ((${#benches[@]} == 0)); then
  benches=(frames lines caller_memory tcp memory timeouts multipart writes)
fi
mkdir -p "$out/a" "$out/b"
turn=0
for bench in "${benches[@]}"; do
  order=(a b)
  if ((turn % 2)); then order=(b a); fi
  turn=$((turn + 1))
  for side in "${order[@]}"; do
    bins=$a_bins
    [[ $side == b ]] && bins=$b_bins
    echo "== $bench ($side) $(date -u +%H:%M:%S)"
    CRITERION_HOME="$out/$side" "$bins/$bench" --bench >"$out/$bench.$side.log" 2>&1
  done
done
python3 "$(dirname "$0")/bench_ab.py" "$out/a" "$out/b"
