#!/usr/bin/env bash
# run.sh BUILD_DIR [SECONDS]: builds the libFuzzer targets with clang
# (ASan+UBSan) and runs each for SECONDS (default 30), starting from the
# seed corpus. New inputs go to a scratch directory, never into the repo.
# Fails on the first crash, leak or sanitizer report.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
mkdir -p "$build" && build=$(cd "$build" && pwd) # the fuzzers run from a scratch dir
seconds=${2:-30}
CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMXV_FUZZ=ON -DMXV_SANITIZE=ON \
    >/dev/null
targets=(presented matcher config dns_names settings smtp_lines)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
scratch=$(mktemp -d /tmp/mxv-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "fuzz_$t: ${seconds}s"
    status=0
    (cd "$scratch" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=8192 \
        -print_final_stats=1 "$scratch/$t" "$src/tests/fuzz/corpus/$t") >"$scratch/$t.log" 2>&1 ||
        status=$?
    grep -E "^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)" "$scratch/$t.log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$scratch/$t.log"
        echo "fuzz_$t FAILED (exit $status)"
        exit 1
    fi
done
