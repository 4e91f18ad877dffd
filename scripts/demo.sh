#!/usr/bin/env bash
# demo.sh: builds mxverify and runs `explain` on the worked example of
# policy.md section 5 in the built-in sandbox world (DNS from local data in
# examples/sandbox/world.conf, certificates made here). No network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
examples/sandbox/make-certs.sh build/sandbox >/dev/null

bold='' plain=''
[[ -t 1 ]] && bold=$'\033[1m' plain=$'\033[0m'
run() {
    local title=$1; shift
    local cmd=(build/mxverify explain --unbound-conf examples/sandbox/world.conf
               --ca-file build/sandbox/ca.pem "$@")
    printf '\n%s== %s%s\n$ %s\n\n' "$bold" "$title" "$plain" "${cmd[*]}"
    set +e
    "${cmd[@]}"
    printf '(exit status %d)\n' $?
    set -e
}
run "The worked example: user@example.com, connected to mx01 (192.0.2.1)" \
    --cert build/sandbox/emailhosted.pem --domain user@example.com --ip 192.0.2.1
run "Same certificate, PTR not forward-confirmed (192.0.2.3 claims mx0a)" \
    --cert build/sandbox/emailhosted.pem --domain example.com --ip 192.0.2.3
run "SAN *.emailhosted.not only, CN 'Hosting Operator': hosted verifies" \
    --cert build/sandbox/san-only.pem --domain example.com --ip 192.0.2.1
run "... and 'verify' (Required - Verify) does not: it compares PTR names with the CN only" \
    --cert build/sandbox/san-only.pem --domain example.com --ip 192.0.2.1 --mode required-verify
run "CN *.emailhosted.not, SAN unrelated.invalid: 'verify' verifies via CN ~ ptr" \
    --cert build/sandbox/cn-wildcard.pem --domain example.com --ip 192.0.2.1 --mode required-verify
run "... and 'hosted' does not: the certificate has a DNS-ID, so its CN is ignored" \
    --cert build/sandbox/cn-wildcard.pem --domain example.com --ip 192.0.2.1
