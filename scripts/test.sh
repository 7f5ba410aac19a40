#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite through ctest.
# Extra arguments go to ctest (e.g. -L unit, -LE slow, -R migration).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CITYSIM_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900 "$@"
