#!/usr/bin/env bash
# Quick start 1: install what is missing, build the citysim binary (only it: the tests and benchmarks
# are built by scripts/test.sh), and run the default scenario (six Chinese cities). Prints a per-city
# summary table and the path of the HDF5 file. Extra arguments go to `citysim run` (e.g. --threads 2).
# CITYSIM_BUILD_DIR (default build/) and CITYSIM_OUT_DIR (default out/) say where to build and write.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CITYSIM_BUILD_DIR:-$root/build}"
out="${CITYSIM_OUT_DIR:-$root/out}"
"$root/scripts/setup.sh"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target citysim --parallel "$(nproc)"
mkdir -p "$out"
"$build/citysim" run "$root/scenarios/china-2025.yaml" -o "$out/china-2025.h5" "$@"
