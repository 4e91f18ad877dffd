#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# postfix_dane.sh: Postfix doing DANE itself (smtp_tls_security_level =
# dane, smtp_dns_support_level = dnssec) with mxverify loaded as the
# recipe says (mode required-verify-hosted, dane = on): Postfix keeps its
# own DANE (mxverify never clears the host names Postfix gave OpenSSL),
# and mxverify's DANE rules apply as well, never weaker; where neither
# finds DANE, the ESA setting decides. In a network and mount
# namespace of its own: zones signed with ldns-signzone behind a real
# validating `unbound` on port 53 (Postfix trusts its AD bit), STARTTLS
# sinks on port 25.
#
#   d1.example.com  MX mx1: DANE-EE(3) for a self-signed certificate
#                   whose names are wrong: Postfix's DANE accepts it;
#   d7.example.com  MX mx7: DANE-EE(3) for another key: deferred;
#   d5.plain.example (an unsigned zone) MX mx5: DANE-TA(2) at the CA, a
#                   certificate named for the recipient domain only. The
#                   MX RRset is insecure, so the only DANE-TA name is the
#                   MX host (RFC 7672 section 3.2.2): refused by mxverify
#                   (Postfix 3.7 itself calls it "Trusted" and would send),
#                   although the ESA algorithm would accept the name.
#   example.com     MX mx11: no TLSA records: the ESA setting decides.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_POSTFIX_DANE_NS:-}" != 1 ]; then
    need_postfix
    need_tools unbound ldns-keygen ldns-signzone openssl
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    in_namespaces MXV_POSTFIX_DANE_NS
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"
ip link set lo up
chmod 755 "$work"

# --- certificates and records ---
ca=$(openssl x509 -in "$certs/ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
ee=$(spki "$certs/self-signed.pem")
other=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
host_cert d5.plain.example || { echo "FAIL: cannot make the d5 certificate"; exit 1; }
cat "$work/d5.plain.example.pem" "$certs/ca.pem" > "$work/d5+ca.pem"

z=$work/zones
mkdir -p "$z"
zone dane.example 'mx1 A 127.0.0.61' "_25._tcp.mx1 TLSA 3 1 1 $ee" \
    'mx5 A 127.0.0.65' "_25._tcp.mx5 TLSA 2 0 1 $ca" \
    'mx7 A 127.0.0.67' "_25._tcp.mx7 TLSA 3 1 1 $other" \
    'mx11 A 127.0.0.71'
zone example.com '@ MX 10 mx11.dane.example.' 'd1 MX 10 mx1.dane.example.' \
    'd7 MX 10 mx7.dane.example.'
zone plain.example 'd5 MX 10 mx5.dane.example.'
sign_zones dane.example example.com || exit 1
cp "$z/plain.example.zone" "$z/plain.example.zone.signed"
{
    serve_zones validating dane.example example.com plain.example
    printf 'server:\n    domain-insecure: "plain.example."\n'
} > "$z/world.conf"
pf_dns "$z" "$z/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault' \
    "trust-anchor-file: \"$work/anchors\"" 'domain-insecure: "plain.example."'

# --- the sinks ---
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 600 127.0.0.61="$certs/self-signed.pem,$certs/self-signed.key" \
    127.0.0.65="$work/d5+ca.pem,$work/d5.plain.example.key" 127.0.0.67="$certs/example.pem,$certs/example.key" \
    127.0.0.71="$certs/example.pem,$certs/example.key" 2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "FAIL: SMTP sink did not start"; cat "$work/sink.err"; exit 1; }

# --- Postfix at level dane, mxverify as examples/postfix/README.md says ---
pf=$work/postfix
mkdir -p "$pf"
mxlog=$pf/mxverify.log
: > "$mxlog"
chown postfix "$mxlog"
{
    pf_main_cf
    cat <<CONF
inet_protocols = ipv4
smtp_dns_support_level = dnssec
smtp_tls_security_level = dane
smtp_tls_CAfile = $certs/ca.pem
smtp_tls_loglevel = 1
smtp_connect_timeout = 10s
queue_run_delay = 300s
minimal_backoff_time = 2s
maximal_backoff_time = 600s
mxverify_environment = LD_PRELOAD=$SHIM MXVERIFY_MODE=required-verify-hosted MXVERIFY_DANE=on
    MXVERIFY_UNBOUND_CONF=$work/dns.conf MXVERIFY_CAFILE=$certs/ca.pem
    MXVERIFY_LOG=file:$mxlog MXVERIFY_DNS_TIMEOUT=5
CONF
} | pf_new "$pf"
pf_start
deadline=$(($(date +%s) + 100))

for d in d1.example.com d7.example.com d5.plain.example example.com; do send "$d" "pd-$d"; done
check "mail to d1 and example.com arrived within 60 s" wait_until 60 all_arrived pd-d1.example.com \
    pd-example.com
check "the queue settled within 60 s" wait_until 60 only_deferred_left
check "d1: Postfix's DANE-EE accepted a certificate whose names are wrong" \
    [ "$(delivered pd-d1.example.com)" = tls ]
check "d1: Postfix logged a DANE-verified connection" \
    grep -q 'Verified TLS connection established to mx1.dane.example' "$pf/maillog"
check "d1: mxverify observed Postfix's DANE" \
    grep -q 'verdict=pass .*ip=127.0.0.61 .*policy=dane tlsa="3 1 1"' "$mxlog"
check "d7: a DANE-EE mismatch was deferred" [ "$(deferred_count d7.example.com)" = 1 ]
check "d7: mxverify's line says DANE refused" \
    grep -q 'verdict=fail .*ip=127.0.0.67 .*reason=tlsa-invalid policy=dane' "$mxlog"
check "d7: not delivered at all" [ "$(delivered pd-d7.example.com)" = none ]
check "d5: a DANE-TA certificate without the MX host's name was deferred" \
    [ "$(deferred_count d5.plain.example)" = 1 ]
check "d5: mxverify's line says why" \
    grep -q 'verdict=fail .*ip=127.0.0.65 .*reason=certificate-host-mismatch policy=dane' "$mxlog"
check "d5: not delivered at all" [ "$(delivered pd-d5.plain.example)" = none ]
check "example.com (no TLSA): the ESA setting decided, over TLS" \
    [ "$(delivered pd-example.com)" = tls ]
check "example.com: mxverify's line says policy=esa" \
    grep -q 'verdict=pass .*domain=example.com .*policy=esa' "$mxlog"
[ "$failures" -eq 0 ] || show_logs
finish
