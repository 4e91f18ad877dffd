#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test.sh: the whole test suite on a fresh Debian 12 machine (as root):
# installs what it needs, then runs every test in a plain build, again
# under ASan+UBSan, the unit tests under valgrind, each fuzz target for a
# bounded time, and the format check. Stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
fuzz_seconds=${MXV_FUZZ_SECONDS:-20}

stage() { printf '\n==== %s\n' "$*"; }

stage "format check (clang-format)"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find include core tools tests examples shim provider -name '*.[ch]')
clang-format --dry-run --Werror $files

stage "build and test"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/test -j"$jobs" >/dev/null
(cd build/test && ctest --output-on-failure -j"$jobs")

stage "ASan + UBSan: build and test"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DMXV_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs" >/dev/null
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j"$jobs")

stage "valgrind: unit tests and fuzz corpus replays"
cmake -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DMXV_VALGRIND=ON >/dev/null
cmake --build build/valgrind -j"$jobs" >/dev/null
(cd build/valgrind && ctest --output-on-failure -j"$jobs" -L 'unit|fuzz')

stage "fuzz: every target for ${fuzz_seconds}s"
tests/fuzz/run.sh build/fuzz "$fuzz_seconds"

stage "all stages passed"
