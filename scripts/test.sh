#!/usr/bin/env bash
# scripts/test.sh - THE test command: sets up, builds and runs every test.
#
#   1. scripts/setup.sh (Debian packages and .venv, only what is missing)
#   2. build/      : warnings are errors, Python tests use .venv; all tests
#   3. build-asan/ : AddressSanitizer + UndefinedBehaviorSanitizer build;
#                    every test (NNCC_ASAN_ALL=0: the unit tests only)
#
# Exits non-zero when anything fails; runs both stages either way.
# Environment: NNCC_BUILD_DIR, NNCC_ASAN_BUILD_DIR (default build, build-asan),
# NNCC_TEST_JOBS (ctest -j, default 2), NNCC_SKIP_ASAN=1, NNCC_ASAN_ALL=0, NNCC_SKIP_FUZZ=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${NNCC_BUILD_DIR:-build}
asan=${NNCC_ASAN_BUILD_DIR:-build-asan}
jobs=${NNCC_TEST_JOBS:-2}
python=$root/.venv/bin/python
[[ -n ${NNCC_VENV:-} ]] && python=$NNCC_VENV/bin/python

step() { printf '\n==== %s\n' "$*"; }
failed=()
start=$SECONDS

step "setup (scripts/setup.sh)"
bash scripts/setup.sh

# ---- the main build ----
step "configure $build/ (-DNNCC_WERROR=ON, NNCC_PYTHON=$python)"
cmake -S . -B "$build" -G Ninja -DNNCC_WERROR=ON -DNNCC_PYTHON="$python"
step "build $build/"
cmake --build "$build"
step "test $build/: ctest -j$jobs (all tests)"
if ! ctest --test-dir "$build" --output-on-failure -j"$jobs"; then
  failed+=("tests in $build/")
fi

# ---- the sanitizer build ----
if [[ ${NNCC_SKIP_ASAN:-0} != 1 ]]; then
  step "configure $asan/ (-DNNCC_SANITIZE=ON: ASan + UBSan)"
  cmake -S . -B "$asan" -G Ninja -DNNCC_WERROR=ON -DNNCC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DNNCC_PYTHON="$python"
  step "build $asan/"
  cmake --build "$asan"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # the unit tests carry the CTest label "unit" (or, failing that, a name with "unit")
  select=()
  if [[ ${NNCC_ASAN_ALL:-1} == 1 ]]; then
    what="all tests"
  elif ctest --test-dir "$asan" -N -L unit | grep -q 'Total Tests: [1-9]'; then
    select=(-L unit); what="unit tests (-L unit)"
  elif ctest --test-dir "$asan" -N -R '^unit' | grep -q 'Total Tests: [1-9]'; then
    select=(-R '^unit'); what="unit tests (-R ^unit)"
  else
    what="all tests (no test is labelled 'unit')"
  fi
  step "test $asan/: ctest -j$jobs, $what, under ASan/UBSan"
  if ! ctest --test-dir "$asan" --output-on-failure -j"$jobs" "${select[@]}"; then
    failed+=("sanitizer tests in $asan/")
  fi
fi

# ---- the text-format parser under libFuzzer (clang only), bounded in time ----
if [[ ${NNCC_SKIP_FUZZ:-0} != 1 ]] && command -v clang >/dev/null; then
  fuzz=${NNCC_FUZZ_BUILD_DIR:-build-fuzz}
  step "fuzz: $fuzz/ (clang, -DNNCC_FUZZ=ON), fuzz_text for 30 s"
  cmake -S . -B "$fuzz" -G Ninja -DCMAKE_C_COMPILER=clang -DNNCC_FUZZ=ON -DNNCC_WERROR=ON -DNNCC_PYTHON="$python"
  cmake --build "$fuzz" --target fuzz_text
  ctest --test-dir "$fuzz" -R '^fuzz_text$' --output-on-failure || failed+=("fuzz_text")
fi

elapsed=$((SECONDS - start))
if ((${#failed[@]})); then
  step "FAILED (${elapsed}s): ${failed[*]}"
  exit 1
fi
step "all tests passed (${elapsed}s)"
