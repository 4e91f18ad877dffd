#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mxverify audit`: the checklist of policy.md section 6 against loopback
# SMTP servers, DNS from a real `unbound` daemon. Every check fails once
# and passes once; the text output of one passing and one failing server
# is compared with golden files (dates and ports normalised); a stalling
# server and one that does not speak SMTP give a clear error, no hang.
# MXV_UPDATE_GOLDEN=1 rewrites the golden files from this run (review the diff).
. "$(dirname "$0")/lib.sh"
command -v unbound >/dev/null || { echo "skipped: unbound not installed"; exit $SKIP; }
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }

mkdir -p "$work/daemon"
cat > "$work/daemon/world.conf" <<'CONF'
server:
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "0.0.127.in-addr.arpa." static
    local-zone: "example.com." static
    local-zone: "emailhosted.not." static
    local-data: "example.com. 300 IN MX 10 mail.example.com."
    local-data: "mail.example.com. 300 IN A 127.0.0.41"
    local-data-ptr: "127.0.0.41 300 mail.example.com."
    local-data-ptr: "127.0.0.43 300 mail.example.com."
    local-data-ptr: "127.0.0.44 300 mail.example.com."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.42"
    local-data: "soon.example.com. 300 IN A 127.0.0.52"
    local-data-ptr: "127.0.0.52 300 soon.example.com."
CONF
start_unbound "$work/daemon" "$work/daemon/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault'

cat "$certs/via-intermediate-missing.pem" "$certs/ca.pem" "$certs/intermediate.pem" > "$certs/disordered.pem"
cp "$certs/via-intermediate-missing.key" "$certs/disordered.key"
# A certificate that ends within 30 days (a warning, not a failure), made
# with the openssl command from the test CA.
soon=
if command -v openssl >/dev/null; then
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=soon.example.com \
        -keyout "$certs/soon.key" -out "$work/soon.csr" 2>/dev/null &&
        openssl x509 -req -in "$work/soon.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
            -set_serial 4242 -days 10 -out "$certs/soon.pem" \
            -extfile <(echo subjectAltName=DNS:soon.example.com) 2>/dev/null && soon=1
fi
[ -n "$soon" ] || echo "note: no openssl command: the 30-day warning is not tested" >&2
port=$(free_port)
srv() { echo "$1=$certs/$2.pem,$certs/$2.key,${3:-mail.example.com}"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port "$port" \
    "$(srv 127.0.0.41 via-intermediate)" "$(srv 127.0.0.42 emailhosted mx01.subd.emailhosted.not)" \
    "$(srv 127.0.0.43 self-signed)" "$(srv 127.0.0.44 unknown-ca)" 127.0.0.45=none,mail.example.com \
    "$(srv 127.0.0.46 expired)" "$(srv 127.0.0.47 via-intermediate-missing)" \
    "$(srv 127.0.0.48 disordered)" "$(srv 127.0.0.49 example localhost)" \
    "$(srv 127.0.0.54 mx01 mx01.subd.emailhosted.not)" \
    "$(srv 127.0.0.53 example '[127.0.0.53]')" ${soon:+"$(srv 127.0.0.52 soon soon.example.com)"} &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/starttls_server.py" "$work/stall.port" "$certs/example.pem" \
    "$certs/example.key" --bind 127.0.0.50 --port "$port" --stall &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/starttls_server.py" "$work/garbage.port" "$certs/example.pem" \
    "$certs/example.key" --bind 127.0.0.51 --port "$port" --garbage &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do
    [ -s "$work/sink.port" ] && [ -s "$work/stall.port" ] && [ -s "$work/garbage.port" ] && break
    sleep 0.1
done
a() { expect_exit "$1" -- audit "${@:2}" --port "$port" --unbound-conf "$work/dns.conf" \
    --ca-file "$certs/ca.pem" --timeout 2; }
line() { has "$1  $(printf '%-15s' "$2") $3"; }

# Everything right: trusted chain with its intermediate, in order, CN =
# greeting name, in date, forward-confirmed PTR.
a 0 127.0.0.41 --domain example.com
for c in starttls greeting cn-greeting chain-order self-signed chain-trust validity fcrdns; do
    has "PASS  $(printf '%-15s' $c)"
done
line PASS chain-order "2 certificates sent, each issued by the next"
line PASS fcrdns "127.0.0.41 -> mail.example.com -> 127.0.0.41"
has "  hosted          pass"
has "  postfix-secure  pass"
has "Result: 0 of 8 checks failed"
normalise() { sed -E "s/until [0-9]{4}-[0-9]{2}-[0-9]{2} \\([0-9]+ days/until DATE (N days/; s/:$port\$/:PORT/"; }
golden() { # NAME: the last output, normalised, against golden/NAME.txt
    local file=$SRCDIR/tests/integration/golden/$1.txt
    checks=$((checks + 1))
    if [ "${MXV_UPDATE_GOLDEN:-0}" = 1 ]; then
        printf '%s\n' "$out" | normalise > "$file"
        return
    fi
    diff <(printf '%s\n' "$out" | normalise) "$file" >&2 || fail "output differs from golden/$1.txt"
}
golden audit-pass

# A wildcard CN is not the greeting name exactly; no PTR record.
a 1 mx01.subd.emailhosted.not --domain example.com
line FAIL cn-greeting "CN *.emailhosted.not is a wildcard, not the greeting name mx01.subd.emailhosted.not exactly"
line FAIL fcrdns "127.0.0.42 has no PTR record"
has "  hosted          fail"
# Postfix (tls_wildcard_matches_multiple_labels = yes by default) lets
# *.emailhosted.not cover mx01.subd.emailhosted.not; RFC 6125 does not.
has "  postfix-verify  pass"
has "  postfix-secure  fail"
golden audit-fail

a 1 127.0.0.43
line FAIL self-signed "the server certificate is self-signed"
line FAIL chain-trust "self-signed certificate"
a 1 127.0.0.44 --domain example.com
line FAIL chain-trust "unable to get local issuer certificate"
has "  postfix-secure  fail" # the name (example.com) would do; the chain does not
# mail.example.com's address is 127.0.0.41: this PTR is not forward-confirmed.
line FAIL fcrdns "PTR 127.0.0.44 -> mail.example.com is not forward-confirmed"
# Postfix 'secure' takes any subdomain of the next hop (dot-nexthop).
a 1 127.0.0.54 --domain emailhosted.not
has "  postfix-secure  pass"
has "  hosted          fail"
a 1 127.0.0.54 --domain example.net
has "  postfix-secure  fail"
a 1 127.0.0.45
line FAIL starttls "STARTTLS not offered: no sender can use TLS"
a 1 127.0.0.46
line FAIL validity "expired"
a 1 127.0.0.47
line FAIL chain-trust "unable to get local issuer certificate (the server sent no intermediate certificate"
a 1 127.0.0.48
line FAIL chain-order "3 certificates sent, not each issued by the next"
a 1 127.0.0.49
line FAIL greeting "localhost is not a fully qualified host name"
a 1 127.0.0.53
line FAIL greeting "[127.0.0.53] is not a fully qualified host name"
if [ -n "$soon" ]; then
    # Expiring within 30 days: WARN, and still exit 0.
    a 0 soon.example.com
    line WARN validity "valid until"
    has "renew soon"
    line WARN dane "not checked: mxverify's resolver has no DNSSEC trust anchor" # a host name: DANE is looked at
    has "Result: 0 of 9 checks failed"
fi
a 1 127.0.0.45 --json
json_is 'j["checks"][0]' '{"name": "starttls", "status": "FAIL", "detail": "STARTTLS not offered: no sender can use TLS"}'
json_is 'j["passed"]' 'false'
a 0 127.0.0.41 --domain example.com --json
json_is 'j["algorithms"]["hosted"]' '"pass"'
json_is '[c["status"] for c in j["checks"]]' '["PASS", "PASS", "PASS", "PASS", "PASS", "PASS", "PASS", "PASS"]'

# DNS that does not answer: the reverse lookup fails. Exit 3 when that is
# all that failed, 1 when a check failed for good anyway.
printf 'server:\n    do-not-query-localhost: no\n    local-zone: "127.in-addr.arpa." nodefault\nforward-zone:\n    name: "."\n    forward-addr: 127.0.0.%d@%d\n' \
    $((60 + RANDOM % 100)) "$(free_port)" > "$work/dead.conf"
d() { expect_exit "$1" -- audit "${@:2}" --port "$port" --unbound-conf "$work/dead.conf" \
    --dns-timeout 1 --ca-file "$certs/ca.pem" --timeout 2; }
start=$(date +%s)
d 3 127.0.0.41
line FAIL fcrdns "PTR lookup of 127.0.0.41 failed"
has "(temporary)"
line PASS cn-greeting "CN mail.example.com is the greeting name"
d 1 127.0.0.43
line FAIL self-signed "the server certificate is self-signed"
has "(temporary)"
elapsed_at_most 10 "$start"

# A server that stalls, one that does not speak SMTP: clear errors, bounded.
start=$(date +%s)
a 3 127.0.0.50
in_err "timed out"
elapsed_at_most 10 "$start"
a 3 127.0.0.51
in_err "audit: 127.0.0.51"
# Usage.
expect_exit 2 -- audit
expect_exit 2 -- audit mail.example.com:notaport
finish
