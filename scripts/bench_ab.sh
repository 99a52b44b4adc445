#!/usr/bin/env bash
# Runs two builds of the benchmarks, A (an earlier commit) and B (the
# change), in one sitting, bench file by bench file, alternating which goes
# first, so that a slow stretch of the machine hits both alike. Then
# compares them with scripts/bench_ab.py.
#
#   [ROUNDS=n] [FILTER=regex] scripts/bench_ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [BENCH...]
#
# Each BIN_DIR holds the bench executables, named by bench (frames, lines,
# ...), copied from `target/release/deps/` after `cargo bench --no-run` of
# each commit (a worktree per commit). FILTER is criterion's filter (for
# example 'intake|futures-lite': our rows and one peer's, whose change is
# the run's noise). With ROUNDS (default 1) the whole set runs that many
# times, the order of A and B alternating from bench to bench, so that
# each bench runs first as A in some rounds and as B in others.
# Results go to OUT_DIR/ROUND/a and OUT_DIR/ROUND/b (criterion's
# CRITERION_HOME), with each bench's output beside them.
set -euo pipefail
a_bins=$1 b_bins=$2 out=$3
shift 3
benches=("$@")
if ((${#benches[@]} == 0)); then
  benches=(frames lines caller_memory tcp multipart)
fi
rounds=${ROUNDS:-1}
filter=${FILTER:-}
turn=0
for round in $(seq 1 "$rounds"); do
  mkdir -p "$out/$round/a" "$out/$round/b"
  for bench in "${benches[@]}"; do
    order=(a b)
    if ((turn % 2)); then order=(b a); fi
    turn=$((turn + 1))
    for side in "${order[@]}"; do
      bins=$a_bins
      [[ $side == b ]] && bins=$b_bins
      echo "== round $round: $bench ($side) $(date -u +%H:%M:%S)"
      CRITERION_HOME="$out/$round/$side" "$bins/$bench" --bench ${filter:+"$filter"} \
        >"$out/$round/$bench.$side.log" 2>&1
    done
  done
done
python3 "$(dirname "$0")/bench_ab.py" "$out"
