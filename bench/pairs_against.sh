#!/usr/bin/env bash
# Back-to-back pairs of two builds' bench_step (before and after a change): each pair runs the first
# binary, then the second, and prints their process CPU time (user + system, /usr/bin/time) and the
# whole model's wall time, with the load average at the start of each run. On a shared machine the
# ratio of a pair's CPU times is the figure to read; quote the median over the pairs.
# Usage: bench/pairs_against.sh BEFORE/bench_step AFTER/bench_step [pairs (5)] [bench_step arguments]
# Example: bench/pairs_against.sh /tmp/before/build/bench/bench_step build/bench/bench_step 5 1000000 240 1 0
set -euo pipefail
before=$1 after=$2 pairs=${3:-5}
shift 3 || shift $#
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(1000000 240 1 0)
for ((i = 1; i <= pairs; i++)); do
  for which in before after; do
    binary=$before
    [ $which = after ] && binary=$after
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$( { /usr/bin/time -f "CPU %U %S" "$binary" "${args[@]}"; } 2>&1 )
    whole=$(echo "$out" | grep "whole model" | head -1 | awk '{print $4}')
    cpu=$(echo "$out" | awk '/^CPU/ {print $2 + $3}')
    echo "$i $which process_cpu=$cpu whole_wall=$whole load=$load"
  done
done
