#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and run the default scenario (six Chinese cities).
# Prints a per-city summary table and the path of the HDF5 file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
mkdir -p "$root/out"
"${CITYSIM_BUILD_DIR:-$root/build}/citysim" run "$root/scenarios/china-2025.yaml" -o "$root/out/china-2025.h5" "$@"
