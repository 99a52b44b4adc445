#!/usr/bin/env bash
# A/B of intake's read paths between an earlier commit (A) and the working
# tree (B), with scripts/ab_harness built against each:
#   - instructions per workload under callgrind (deterministic);
#   - time, A and B interleaved ROUNDS times (best of REPS=5 in each run),
#     the best of each side compared: on a noisy VM the minimum is what
#     repeats, not the median.
#
#   scripts/ab_harness.sh COMMIT [WORKLOAD...]
#
# Needs valgrind. The earlier commit is checked out in a worktree under
# target/ab-base; both builds go to target/ab-harness-{a,b}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commit=$1
shift
workloads=("$@")
if ((${#workloads[@]} == 0)); then
  workloads=(small-read_frame small-framed small-read_exactly medium-read_frame
    medium-framed lines-read_until lines-peek_until)
fi
rounds=${ROUNDS:-10}
base=$root/target/ab-base
if [[ ! -d $base ]]; then
  git -C "$root" worktree add --detach "$base" "$commit" >/dev/null
else
  git -C "$base" checkout --detach -q "$commit"
fi
for side in a b; do
  src=$root/target/ab-harness-src-$side
  rm -rf "$src" && cp -r "$root/scripts/ab_harness" "$src"
  intake=$root
  [[ $side == a ]] && intake=$base
  sed -i "s|^intake = { path = \"../..\" }|intake = { path = \"$intake\" }|" "$src/Cargo.toml"
  CARGO_TARGET_DIR=$root/target/ab-harness-$side cargo build --quiet --release \
    --manifest-path "$src/Cargo.toml"
done
bin() { echo "$root/target/ab-harness-$1/release/ab_harness"; }
echo "instructions (callgrind), A = $commit, B = working tree"
for w in "${workloads[@]}"; do
  for c in 65536 1500; do
    counts=()
    for side in a b; do
      n=$(valgrind --tool=callgrind --toggle-collect='ab_harness::work_*' \
        --callgrind-out-file=/dev/null "$(bin $side)" "$w" "$c" 2>&1 |
        awk '/Collected/ {print $4}' | tr -d ,)
      counts+=("$n")
    done
    awk -v w="$w" -v c="$c" -v a="${counts[0]}" -v b="${counts[1]}" \
      'BEGIN { printf "%-20s C=%-6s A %7.1f M  B %7.1f M  %+6.1f%%\n", w, c, a/1e6, b/1e6, (b-a)*100/a }'
  done
done
echo "time (ms), best of $rounds interleaved runs of each side"
for w in "${workloads[@]}"; do
  for c in 65536 1500; do
    best_a=1e9 best_b=1e9
    for ((i = 0; i < rounds; i++)); do
      order=(a b)
      ((i % 2)) && order=(b a)
      for side in "${order[@]}"; do
        t=$(REPS=5 "$(bin $side)" "$w" "$c" 2>&1 | sed -n 's/.*best \([0-9.]*\) ms.*/\1/p')
        if [[ $side == a ]]; then
          best_a=$(awk -v x="$t" -v y="$best_a" 'BEGIN { print (x < y) ? x : y }')
        else
          best_b=$(awk -v x="$t" -v y="$best_b" 'BEGIN { print (x < y) ? x : y }')
        fi
      done
    done
    awk -v w="$w" -v c="$c" -v a="$best_a" -v b="$best_b" \
      'BEGIN { printf "%-20s C=%-6s A %7.2f  B %7.2f  B/A %.3f\n", w, c, a, b, b/a }'
  done
done
