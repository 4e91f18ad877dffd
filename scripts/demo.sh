#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh: builds mxverify, then shows it on the built-in sandbox world
# (DNS from local data, certificates made here, no network):
#  1. `explain` on the worked example of docs/policy.md section 5 and the cases
#     that separate the algorithms (examples/sandbox/world.conf);
#  2. live, on loopback: SMTP servers started here (mx01 verifiable through
#     its PTR name, mx02 not, one without STARTTLS), probed with `check`,
#     then an unmodified curl delivering through `mxverify run` under each
#     outcome (examples/sandbox/live-world.conf). Everything started is
#     stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
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

# --- 2. live, on loopback ---------------------------------------------------
work=$(mktemp -d /tmp/mxv-demo.XXXXXX)
sink=
trap '[ -n "$sink" ] && kill "$sink" 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 30000))
c=build/sandbox
python3 tests/integration/smtp_sink.py "$work/spool" "$work/port" --port "$port" --lifetime 120 \
    127.0.0.21="$c/emailhosted.pem,$c/emailhosted.key" \
    127.0.0.22="$c/emailhosted.pem,$c/emailhosted.key" 127.0.0.25=none &
sink=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
settings=(--unbound-conf examples/sandbox/live-world.conf --ca-file "$c/ca.pem")
show() {
    local title=$1; shift
    printf '\n%s== %s%s\n$ %s\n\n' "$bold" "$title" "$plain" "$*"
    set +e
    "$@"
    printf '(exit status %d)\n' $?
    set -e
}
show "check: what an ESA-style sender decides for example.com, MX by MX (live, port $port)" \
    build/mxverify check example.com --port "$port" "${settings[@]}" --timeout 5
printf 'Subject: demo\r\n\r\nHello from mxverify run.\r\n' > "$work/msg"
deliver() { # ADDRESS MODE: curl -k (it verifies nothing itself) through mxverify run
    show "run: curl -k delivering to $1 under $2" \
        build/mxverify run --mode "$2" --domain example.com --ports "$port" "${settings[@]}" -- \
        curl -sS -k --ssl "smtp://$1:$port" --mail-from demo@sender.test \
        --mail-rcpt user@example.com -T "$work/msg"
}
deliver 127.0.0.21 required-verify-hosted
deliver 127.0.0.22 required-verify-hosted
deliver 127.0.0.22 preferred-verify
deliver 127.0.0.25 required-verify-hosted
deliver 127.0.0.25 preferred
printf '\n%s== what the servers received%s\n' "$bold" "$plain"
for d in "$work"/spool/*; do
    [ -d "$d" ] || continue
    printf '  %s: %s message(s), over TLS: %s\n' "${d##*/}" "$(ls "$d" | wc -l)" \
        "$(grep -l 'X-Sink-TLS: yes' "$d"/*.eml 2>/dev/null | wc -l)"
done
echo "(mx02 got mail only under preferred-verify; the server without STARTTLS only under preferred)"
