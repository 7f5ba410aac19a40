#!/usr/bin/env bash
# The sanitizer tree: citysim, its unit tests and the libFuzzer target built with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer in build-asan/ (next to build/), and the checks run with them.
#
#   scripts/sanitize.sh build    configure (once) and build build-asan/
#   scripts/sanitize.sh unit     the unit tests (ctest -L unit, not the slow ones) under ASan + UBSan
#   scripts/sanitize.sh corpus   the hostile-input corpus (tests/hostile/) against the sanitized citysim
#   scripts/sanitize.sh fuzz     every input the fuzzer ever crashed on, then CITYSIM_FUZZ_SECONDS
#                                (default 60) of fuzzing the scenario and sweep loaders
#   scripts/sanitize.sh          all four
# ctest runs them as the tests labelled `sanitize` (`ctest -L sanitize` runs them alone; `-LE sanitize`
# leaves them out); docs/reliability.md gives their cost. Any sanitizer report fails the step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tree="${CITYSIM_ASAN_BUILD_DIR:-$root/build-asan}"
jobs="$(nproc)"

# Any report ends the process with an error; leaks are reported at exit.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

build() {
  if [ ! -f "$tree/CMakeCache.txt" ]; then
    # -O1 keeps the tests fast enough; -gline-tables-only gives file:line in reports at a small cost.
    local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -gline-tables-only"
    CC=clang CXX=clang++ cmake -S "$root" -B "$tree" -G Ninja -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
      -DCITYSIM_WITH_MPI=OFF -DCITYSIM_BUILD_BENCH=OFF -DCITYSIM_FUZZ=ON
  fi
  cmake --build "$tree" --parallel "$jobs" --target citysim citysim_tests fuzz_scenario
}

unit() {
  ctest --test-dir "$tree" -L unit --output-on-failure --parallel "$jobs" --timeout 600
}

corpus() {
  CITYSIM_BINARY="$tree/citysim" CITYSIM_SOURCE_DIR="$root" CITYSIM_SANITIZED=1 PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$root/tests/hostile/test_hostile_corpus.py"
}

fuzz() {
  local work crashes seconds
  seconds="${CITYSIM_FUZZ_SECONDS:-60}"
  crashes="$root/tests/hostile/fuzz-crashes"
  work="$(mktemp -d "${TMPDIR:-/tmp}/citysim-fuzz.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  # The seeds: the scenario library, the sweeps, and the hostile corpus (each prefixed with the byte
  # that picks the loader: 0 scenario, 1 sweep).
  mkdir -p "$work/corpus" "$work/artifacts" "$work/cwd"
  local i=0 f
  for f in "$root"/scenarios/*.yaml "$root"/tests/hostile/corpus/*.yaml; do
    { printf '\0'; cat "$f"; } > "$work/corpus/seed-$((i++))"
  done
  for f in "$root"/scenarios/sweeps/*.yaml; do
    { printf '\1'; cat "$f"; } > "$work/corpus/seed-$((i++))"
  done
  cd "$work/cwd"
  # Every input that ever crashed it is a regression case: run each once.
  if compgen -G "$crashes/crash-*" > /dev/null; then
    "$tree/fuzz/fuzz_scenario" -runs=1 "$crashes"/crash-*
  fi
  # -timeout: an input taking longer than 10 s is a hang; -rss_limit_mb: runaway memory is a finding.
  "$tree/fuzz/fuzz_scenario" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
  if compgen -G "$work/artifacts/*" > /dev/null; then
    echo "fuzz: findings in $work/artifacts; copy each into tests/hostile/fuzz-crashes/ once fixed" >&2
    cp "$work/artifacts/"* "$tree/" 2>/dev/null || true
    return 1
  fi
}

# The CPU time this step took (user and system, of the script and everything it ran), for
# docs/reliability.md's figures.
# (`times` itself, not in a pipe: a pipe runs it in a subshell, which has no children and printed 0.)
trap 'echo "sanitize.sh ${1:-all}: CPU time (user, system) of the script, then of everything it ran:"; times' EXIT

case "${1:-all}" in
  build) build ;;
  unit) unit ;;
  corpus) corpus ;;
  fuzz) fuzz ;;
  all) build; unit; corpus; fuzz ;;
  *) echo "usage: scripts/sanitize.sh [build|unit|corpus|fuzz]" >&2; exit 2 ;;
esac
