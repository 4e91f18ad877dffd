#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# examples/smtp_client (the verify-callback API in a real program) against
# a loopback STARTTLS server: verified, refused, no STARTTLS.
. "$(dirname "$0")/lib.sh"
python3 -c 'import ssl' 2>/dev/null || { echo "skipped: python3 with ssl needed"; exit $SKIP; }

printf 'server:\n    local-zone: "." static\n' > "$work/empty-world.conf"
serve() { # serve NAME [--no-starttls]: starts a server, sets $port
    rm -f "$work/port"
    python3 "$SRCDIR/tests/integration/starttls_server.py" "$work/port" "$certs/$1.pem" \
        "$certs/$1.key" "${@:2}" &
    cleanup_hooks+=("kill $!")
    for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
    port=$(cat "$work/port")
}
client() {
    expect_exit "$1" -- 127.0.0.1 "$port" "${@:2}" --ca-file "$certs/ca.pem" \
        --unbound-conf "$work/empty-world.conf"
}
MXVERIFY=$EXAMPLE_CLIENT

serve example
client 0 example.com
has "Verdict:    pass (verified)"
has "connected to 127.0.0.1"
has "TLS established"
client 1 other.example
has "certificate-host-mismatch"
has "TLS handshake with 127.0.0.1 refused"

# The same program under the preload shim (a program that verifies with
# the library, run where the shim is preloaded for every program): the
# library's callback runs inside the shim's, and each decides once (the
# library's check nested in the shim's looped until the stack overflowed).
if [ -n "${SHIM:-}" ]; then
    # In an ASan build the runtime must come before the shim.
    asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
    export LD_PRELOAD="${asan_rt:+$asan_rt }$SHIM" MXVERIFY_PORTS=$port MXVERIFY_CAFILE=$certs/ca.pem \
        MXVERIFY_UNBOUND_CONF=$work/empty-world.conf MXVERIFY_LOG=stderr
    client 0 example.com
    has "Verdict:    pass (verified)"
    client 1 other.example
    has "certificate-host-mismatch"
    unset LD_PRELOAD MXVERIFY_PORTS MXVERIFY_CAFILE MXVERIFY_UNBOUND_CONF MXVERIFY_LOG
fi

serve unknown-ca
client 1 example.com
has "certificate-not-trusted"

serve example --no-starttls
client 1 example.com
has "does not offer STARTTLS"
finish
