#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh BUILD_DIR [SECONDS] [TARGET...]: configures BUILD_DIR as a clang
# build with -DMXV_FUZZ=ON (ASan+UBSan), builds the libFuzzer targets and
# runs each for SECONDS (default 30, -max_total_time), starting from the
# seed corpus tests/fuzz/corpus/<target>. TARGETs default to all of them
# (presented matcher config dns_names settings smtp_lines dns_answer
# dns_shared session_verdict guard tlsa sts_policy sts_cache).
# New inputs go to a scratch directory, never into the repository; crash
# reproducers are kept in BUILD_DIR/fuzz-artifacts/. Every target runs;
# the exit status is 1 if any of them crashed, leaked or hit a sanitizer.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [TARGET...]}
mkdir -p "$build" && build=$(cd "$build" && pwd) # the fuzzers run from a scratch dir
seconds=${2:-30}
shift $(($# < 2 ? $# : 2))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(presented matcher config dns_names settings smtp_lines dns_answer dns_shared
                                  session_verdict guard tlsa sts_policy sts_cache)

CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMXV_FUZZ=ON -DMXV_SANITIZE=ON \
    >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
scratch=$(mktemp -d /tmp/mxv-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "fuzz_$t: ${seconds}s"
    status=0
    (cd "$scratch" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=8192 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
        "$scratch/$t" "$src/tests/fuzz/corpus/$t") >"$scratch/$t.log" 2>&1 || status=$?
    grep -E "^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb|SUMMARY)" \
        "$scratch/$t.log" || true
    echo "  corpus: $(find "$scratch/$t" -type f | wc -l) new inputs, coverage: $(grep -oE 'cov: [0-9]+' "$scratch/$t.log" | tail -1)"
    if [ "$status" -ne 0 ]; then
        tail -40 "$scratch/$t.log"
        grep -E "Test unit written to" "$scratch/$t.log" || true
        echo "fuzz_$t FAILED (exit $status)"
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (reproducers in $artifacts)"
    exit 1
fi
echo "all fuzz targets ran ${seconds}s without a finding"
