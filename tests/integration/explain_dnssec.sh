#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DNSSEC evidence through a real `unbound` daemon (started here on a
# loopback address and high port) serving zones signed with ldns-signzone
# as auth-zones; mxverify's libunbound forwards to it and holds the trust
# anchors (trust-anchor-file). Covers: the worked example with every DNS
# answer "secure" (IPv4 and IPv6), `--dnssec require` accepting only secure
# evidence, unsigned data "insecure", a zone whose signatures do not match
# its anchor and a zone tampered with after signing: bogus, discarded, a
# temporary DNS failure (exit 3), never a pass.
. "$(dirname "$0")/lib.sh"
for tool in unbound unbound-checkconf ldns-keygen ldns-signzone; do
    command -v "$tool" >/dev/null ||
        { echo "skipped: $tool not installed (Debian packages unbound, ldnsutils)"; exit $SKIP; }
done

z=$work/zones
mkdir -p "$z"
ip6=8.b.d.0.1.0.0.2.ip6.arpa
zone example.com '@ MX 10 mx01.subd.emailhosted.not.' '@ MX 20 mx02.subd.emailhosted.not.'
zone emailhosted.not 'mx01.subd A 192.0.2.1' 'mx02.subd A 192.0.2.2' \
    'mx0a A 192.0.2.1' 'mx0b A 192.0.2.2' 'mx0a AAAA 2001:db8::1' \
    'mx0t A 192.0.2.7'
zone 2.0.192.in-addr.arpa '1 PTR mx0a.emailhosted.not.' '2 PTR mx0b.emailhosted.not.' \
    '3 PTR mx0a.emailhosted.not.' '8 PTR mx0t.emailhosted.not.'
zone $ip6 '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR mx0a.emailhosted.not.'
zone bogus.example '@ MX 10 mx01.subd.emailhosted.not.'
zone tampered.example '@ MX 10 mx0x.subd.emailhosted.not.'
zone plain.example '@ MX 10 mx01.subd.emailhosted.not.'

: > "$work/anchors"
(
    cd "$z"
    for name in example.com emailhosted.not 2.0.192.in-addr.arpa $ip6 bogus.example tampered.example; do
        key=$(ldns-keygen -a ECDSAP256SHA256 -k "$name")
        ldns-signzone "$name.zone" "$key"
        if [ "$name" = bogus.example ]; then
            # Anchor a different key: the zone's signatures cannot validate.
            other=$(ldns-keygen -a ECDSAP256SHA256 -k "$name")
            cat "$other.key" >> "$work/anchors"
        else
            cat "$key.key" >> "$work/anchors"
        fi
    done
    # Tampered with after signing (the RRSIGs are over the original data):
    # the MX target of tampered.example, and the A record of mx0t, whose
    # PTR (192.0.2.8) is signed correctly.
    sed -i 's/MX[[:space:]]*10 mx0x\.subd\.emailhosted\.not\./MX 10 mx01.subd.emailhosted.not./' \
        tampered.example.zone.signed
    sed -i 's/^\(mx0t\.emailhosted\.not\.[[:space:]].*[[:space:]]A[[:space:]]*\)192\.0\.2\.7$/\1192.0.2.8/' \
        emailhosted.not.zone.signed
    grep -q 'mx01.subd.emailhosted.not' tampered.example.zone.signed &&
        grep -q '192\.0\.2\.8$' emailhosted.not.zone.signed ||
        { echo "FAIL: could not tamper with the signed zones" >&2; exit 1; }
    cp plain.example.zone plain.example.zone.signed # served unsigned
)

{
    printf 'server:\n    module-config: "iterator"\n'
    printf '    local-zone: "%s." nodefault\n' 2.0.192.in-addr.arpa $ip6
    for name in example.com emailhosted.not 2.0.192.in-addr.arpa $ip6 bogus.example \
        tampered.example plain.example; do
        printf 'auth-zone:\n    name: "%s."\n    zonefile: "%s/%s.zone.signed"\n' "$name" "$z" "$name"
        printf '    for-downstream: yes\n    for-upstream: yes\n    fallback-enabled: no\n'
    done
} > "$work/zones.conf"
start_unbound "$z" "$work/zones.conf" || { echo "FAIL: unbound did not start"; exit 1; }
echo "unbound daemon on $dns_addr@$dns_port (pid $dns_pid)"
forward_conf "$work/client.conf" "trust-anchor-file: \"$work/anchors\""
x() { expect_exit "$1" -- explain --unbound-conf "$work/client.conf" --ca-file "$certs/ca.pem" \
    --dns-timeout 5 "${@:2}"; }

# The worked example, every DNS answer validated (MX, PTR, forward A).
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["verdict"]' '"pass"'
json_is 'j["match"]["source"]' '"ptr"'
json_is 'j["match"]["reference"]' '"mx0a.emailhosted.not"'
json_is '[(r["source"], r["dnssec"]) for r in j["references"]]' '[["domain", null], ["mx", "secure"], ["mx", "secure"], ["ptr", "secure"]]'
json_is 'j["temporary"]' 'false'
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1
has "mx         mx01.subd.emailhosted.not          secure    no match"
has "ptr        mx0a.emailhosted.not               secure    MATCH"
# dnssec = require: secure evidence is accepted (MX, PTR, forward confirmation).
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require --json
json_is 'j["match"]["source"]' '"ptr"'
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "ptr"]' '["secure"]'
x 0 --cert "$certs/mx01.pem" --domain example.com --dnssec require --json
json_is 'j["match"]["source"]' '"mx"'
# IPv6: ip6.arpa PTR and AAAA confirmation, both signed.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::1 --dnssec require --json
json_is 'j["match"]["reference"]' '"mx0a.emailhosted.not"'
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "ptr"]' '["secure"]'
# A secure PTR that is not forward-confirmed is still not a reference.
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.3 --dnssec require

# Unsigned data is insecure: used by default, refused under require.
x 0 --cert "$certs/mx01.pem" --domain plain.example --json
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "mx"]' '["insecure"]'
x 1 --cert "$certs/mx01.pem" --domain plain.example --dnssec require --json
json_is 'j["match"]' 'null'
json_is '[r["used"] for r in j["references"] if r["source"] == "mx"]' '[false]'
x 1 --cert "$certs/mx01.pem" --domain plain.example --dnssec require
has "not DNSSEC-secure (dnssec = require)"
# dnssec = off: statuses are not reported.
x 0 --cert "$certs/mx01.pem" --domain plain.example --dnssec off --json
json_is '[r["dnssec"] for r in j["references"]]' '[null, null]'

# Bogus (signatures do not match the anchor): discarded, temporary failure.
x 3 --cert "$certs/mx01.pem" --domain bogus.example
has "bogus"
has "(temporary)"
lacks "Verdict:    pass"
x 3 --cert "$certs/mx01.pem" --domain bogus.example --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["action"]' '"abort"'
json_is 'j["temporary"]' 'true'
json_is 'j["match"]' 'null'
json_is '[r for r in j["references"] if r["source"] == "mx" and r["used"]]' '[]'
# Bogus is bogus under dnssec = require too.
x 3 --cert "$certs/mx01.pem" --domain bogus.example --dnssec require
# Tampered after signing: the forged MX target would match the certificate.
x 3 --cert "$certs/mx01.pem" --domain tampered.example --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["temporary"]' 'true'
json_is 'j["match"]' 'null'
x 3 --cert "$certs/mx01.pem" --domain tampered.example
has "MX lookup of tampered.example failed: DNSSEC bogus"
has "(temporary)"
has "Action:     abort"
# A forged forward-confirmation record (A mx0t = 192.0.2.8, signed as
# 192.0.2.7): the PTR name would match, but it is not confirmed.
x 3 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.8 --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["match"]' 'null'
json_is 'j["temporary"]' 'true'
x 3 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.8
has "ptr        mx0t.emailhosted.not               bogus     not used"
has "DNSSEC bogus"
has "Verdict:    fail (validation-failure, temporary: DNS failure)"

finish
