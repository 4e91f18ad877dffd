#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The preload shim and the provider under a client built like the project
# (in the ASan build: ASan inside the client, the shim, the engine):
# concurrent handshakes in threads, a fork between deliveries, mail in
# clear refused, a mismatch refused, and the provider in a program that
# creates SSL_CTXs in threads and calls OPENSSL_cleanup().
. "$(dirname "$0")/lib.sh"
: "${SHIM:?}" "${PROVIDER:?}" "${NATIVE_CLIENT:?}"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed for the SMTP sink"; exit $SKIP; }

cat > "$work/world.conf" <<'CONF'
server:
    local-zone: "." static
    local-zone: "127.in-addr.arpa." nodefault
    local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.21"
    local-data-ptr: "127.0.0.21 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.21"
    local-data-ptr: "127.0.0.26 300 mx0f.emailhosted.not."
    local-data: "mx0f.emailhosted.not. 300 IN A 127.0.0.99"
CONF
port=$(free_port)
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port "$port" \
    127.0.0.21="$certs/emailhosted.pem,$certs/emailhosted.key" 127.0.0.25=none \
    127.0.0.26="$certs/san-only.pem,$certs/san-only.key" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
export MXVERIFY_DOMAIN=example.com MXVERIFY_PORTS=$port MXVERIFY_UNBOUND_CONF=$work/world.conf \
    MXVERIFY_CAFILE=$certs/ca.pem MXVERIFY_LOG=stderr

# client EXPECTED-DELIVERED EXPECTED-PASS-LINES ENV... -- ARGS: runs the client.
client() {
    local want=$1 passes=$2; shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    checks=$((checks + 1))
    set +e
    env "${envs[@]}" "$NATIVE_CLIENT" "$@" > "$work/out" 2> "$work/err"
    local status=$?
    set -e
    out=$(cat "$work/out"); err=$(cat "$work/err")
    local got
    got=$(grep -c '^delivered' "$work/out" || true)
    [ $status -eq 0 ] && [ "$got" -eq "$want" ] ||
        fail "native_client $*: status $status, $got delivered, wanted $want"
    checks=$((checks + 1))
    [ "$(grep -c 'verdict=pass' "$work/err" || true)" -eq "$passes" ] ||
        fail "native_client $*: wanted $passes passing decisions logged"
    ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$work/err" || fail "sanitizer report"
}

# In an ASan build the runtime must come before the shim in the preload list.
asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
preload="${asan_rt:+$asan_rt }$SHIM"
shim=(LD_PRELOAD="$preload" MXVERIFY_MODE=required-verify-hosted)
client 8 8 "${shim[@]}" -- 127.0.0.21 "$port" threads --threads 8
client 3 3 "${shim[@]}" -- 127.0.0.21 "$port" fork --fork
client 0 0 "${shim[@]}" -- 127.0.0.26 "$port" mismatch
in_err 'reason=certificate-host-mismatch'
client 0 0 "${shim[@]}" -- 127.0.0.25 "$port" plain --plain
in_err 'reason=starttls-not-supported'
in_err 'why="\"MAIL FROM:<s@native.test>\" in clear refused: no TLS on this connection yet'
client 1 0 LD_PRELOAD="$preload" MXVERIFY_MODE=none -- 127.0.0.26 "$port" shim-none

openssl_cnf "$work/openssl.cnf" "$PROVIDER" mode=required-verify-hosted
prov=(OPENSSL_CONF="$work/openssl.cnf")
client 8 8 "${prov[@]}" -- 127.0.0.21 "$port" prov-threads --threads 8 --ctx-per-thread --cleanup
client 0 0 "${prov[@]}" -- 127.0.0.26 "$port" prov-mismatch --cleanup
in_err 'reason=certificate-host-mismatch'
finish
