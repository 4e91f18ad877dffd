#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mxverify check`: live probes of loopback SMTP servers found through MX
# records of a local-data DNS world: verified, mismatched, untrusted, no
# STARTTLS, a server that stalls, a server that talks nonsense.
. "$(dirname "$0")/lib.sh"
python3 -c 'import ssl' 2>/dev/null || { echo "skipped: python3 with ssl needed"; exit $SKIP; }

cat > "$work/world.conf" <<'CONF'
server:
    local-zone: "." static
    local-zone: "127.in-addr.arpa." nodefault
    local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "example.com. 300 IN MX 20 mx02.subd.emailhosted.not."
    local-data: "good.example. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "nullmx.example. 300 IN MX 0 ."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.21"
    local-data: "mx02.subd.emailhosted.not. 300 IN A 127.0.0.22"
    local-data-ptr: "127.0.0.21 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.21"
    local-data-ptr: "127.0.0.22 300 mx0b.emailhosted.not."
    local-data: "mx0b.emailhosted.not. 300 IN A 127.0.0.99"
CONF
port=$(free_port)
serve() { # serve ADDRESS CERT [options...]
    local addr=$1 cert=$2; shift 2
    python3 "$SRCDIR/tests/integration/starttls_server.py" "$work/port.$addr" \
        "$certs/$cert.pem" "$certs/$cert.key" --bind "$addr" --port "$port" "$@" &
    cleanup_hooks+=("kill $!")
}
serve 127.0.0.21 emailhosted --name mx01.subd.emailhosted.not
serve 127.0.0.22 emailhosted --name mx02.subd.emailhosted.not
serve 127.0.0.23 emailhosted --stall
serve 127.0.0.24 emailhosted --garbage
serve 127.0.0.25 example --no-starttls
serve 127.0.0.26 unknown-ca
for _ in $(seq 100); do
    n=0
    for a in 21 22 23 24 25 26; do [ -s "$work/port.127.0.0.$a" ] && n=$((n + 1)); done
    [ "$n" -eq 6 ] && break
    sleep 0.1
done
c() { expect_exit "$1" -- check --port "$port" --unbound-conf "$work/world.conf" \
    --ca-file "$certs/ca.pem" --timeout 2 "${@:2}"; }

# Every MX in preference order: mx01 verified through its PTR name, mx02's
# PTR name is not forward-confirmed.
c 1 example.com
has "Connecting to mx01.subd.emailhosted.not [127.0.0.21]:$port ..."
has "Verified TLS connection established to mx01.subd.emailhosted.not [127.0.0.21]: matched *.emailhosted.not ~ ptr mx0a.emailhosted.not (TLSv1.3)"
has "Trusted TLS connection established to mx02.subd.emailhosted.not [127.0.0.22]: certificate-host-mismatch"
c 1 example.com --json
json_is '[s["result"] for s in j["servers"]]' '["verified", "failed"]'
json_is 'j["servers"][0]["decision"]["match"]["source"]' '"ptr"'
json_is 'j["servers"][0]["greeting"]' '"mx01.subd.emailhosted.not"'
json_is 'j["verdict"]' '"fail"'
# A domain whose only MX verifies.
c 0 good.example
# --server probes one server, the decision still uses the domain's MX data.
c 0 example.com --server "127.0.0.21:$port"
# The SMTP exchange on request.
c 0 good.example --smtp
has "C: STARTTLS"
has "S: 220 go ahead"
# --trace: the explain trace per server.
c 0 good.example --trace
has "Reference identifiers, in the order tried:"
# Untrusted chain.
c 1 example.com --server 127.0.0.26
has "Untrusted TLS connection established to 127.0.0.26 [127.0.0.26]: certificate-not-trusted"
# A null MX (RFC 7505): no mail, and no implicit MX to probe.
c 1 nullmx.example
has "nullmx.example publishes a null MX (RFC 7505): it accepts no mail"
# No STARTTLS: no mail under a required setting, clear text under preferred.
c 1 example.com --server 127.0.0.25
has "STARTTLS not offered by 127.0.0.25 [127.0.0.25]: no mail would be sent"
c 0 example.com --server 127.0.0.25 --mode preferred
has "mail would go in clear"
# A server that stalls: a clear timeout, bounded.
start=$(date +%s)
c 3 example.com --server 127.0.0.23
has "timed out after 2000 ms"
checks=$((checks + 1))
[ $(($(date +%s) - start)) -le 10 ] || { echo "FAIL: stalled probe took too long" >&2; failures=$((failures + 1)); }
# A server that talks nonsense.
c 3 example.com --server 127.0.0.24
has 'not an SMTP reply: "hello there, this is not SMTP"'
# A domain that does not exist (no MX, no address): a definite answer, not
# a temporary one.
c 1 nomx.example
has "nomx.example: no such host"
lacks "temporary"
# An address works where a domain is asked for, as for explain and run.
c 0 user@good.example
has "Verified TLS connection established to mx01.subd.emailhosted.not"
# A mode that does not verify says so, never "Verified".
c 0 good.example --mode none
has "TLS connection established to mx01.subd.emailhosted.not [127.0.0.21]: certificate not checked (mode none)"
lacks "Verified"
# Usage errors.
c 2
has "one DOMAIN is required"
c 2 example.com --timeout never
c 2 example.com --server "[broken"
finish
