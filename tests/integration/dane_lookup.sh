#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dane_lookup.sh: the DNS evidence DANE rests on (core/dane_lookup.c),
# from a real `unbound` daemon on loopback serving zones signed with
# ldns-signzone, through libunbound holding their trust anchors: a secure
# TLSA RRset with a usable record, one of unusable records only, a secure
# denial (no TLSA), a TLSA RRset tampered with after signing (bogus: a
# failure, never "no DANE"), TLSA in an unsigned zone (insecure: no DANE),
# a TLSA record for another port, an MX host whose address is bogus.
. "$(dirname "$0")/lib.sh"
: "${DANE_LOOKUP_CLIENT:?}"
for tool in unbound ldns-keygen ldns-signzone; do
    command -v "$tool" >/dev/null ||
        { echo "skipped: $tool not installed (Debian packages unbound, ldnsutils)"; exit $SKIP; }
done

z=$work/zones
mkdir -p "$z"
h1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
h2=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
zone dane.example \
    'mx1 A 192.0.2.11' "_25._tcp.mx1 TLSA 3 1 1 $h1" "_25._tcp.mx1 TLSA 1 1 1 $h2" \
    'mx2 A 192.0.2.12' "_25._tcp.mx2 TLSA 1 1 1 $h2" "_25._tcp.mx2 TLSA 0 0 1 $h1" \
    'mx3 A 192.0.2.13' \
    'mx4 A 192.0.2.14' "_25._tcp.mx4 TLSA 3 1 1 $h1" \
    'mx6 A 192.0.2.16' "_587._tcp.mx6 TLSA 2 0 1 $h1" \
    'mx7 A 192.0.2.17' 'mx7 AAAA 2001:db8::17' "_25._tcp.mx7 TLSA 3 1 1 $h1" \
    'mx8 A 192.0.2.18' "_25._tcp.mx8 TLSA 3 1 1 $h1" \
    'mx9 A 192.0.2.19' "_25._tcp.mx9 TLSA 3 1 1 $h1" '_25._tcp.mx9 TYPE52 \# 3 030101' \
    'alias CNAME mx1' 'alias2 CNAME mx3' "_25._tcp.alias2 TLSA 3 1 1 $h2" \
    'outside CNAME mx5.plain.example.'
zone plain.example 'mx5 A 192.0.2.15' "_25._tcp.mx5 TLSA 3 1 1 $h1"
sign_zones dane.example || exit 1
# After signing: mx4's TLSA data and mx8's address change under their
# signatures.
sed -i "s/^\(_25\._tcp\.mx4\.dane\.example\.[[:space:]].*TLSA[[:space:]]*3 1 1 \)$h1\$/\1$h2/" \
    "$z/dane.example.zone.signed"
sed -i 's/^\(mx8\.dane\.example\.[[:space:]].*[[:space:]]A[[:space:]]*\)192\.0\.2\.18$/\1192.0.2.99/' \
    "$z/dane.example.zone.signed"
grep -q "mx4.*TLSA.*$h2" "$z/dane.example.zone.signed" &&
    grep -q '192\.0\.2\.99$' "$z/dane.example.zone.signed" ||
    { echo "FAIL: could not tamper with the signed zone"; exit 1; }
cp "$z/plain.example.zone" "$z/plain.example.zone.signed" # served unsigned
serve_zones plain dane.example plain.example > "$work/zones.conf"
start_unbound "$z" "$work/zones.conf" || { echo "FAIL: unbound did not start"; exit 1; }
forward_conf "$work/client.conf" "trust-anchor-file: \"$work/anchors\""

# look HOST [PORT]: the evidence, in $out.
look() {
    out=$("$DANE_LOOKUP_CLIENT" "$work/client.conf" "$@" 2>&1) err=$out
}
look mx1.dane.example
has "state=usable bogus=0 n=2 usable=1 base=mx1.dane.example"
has "tlsa 3 1 1 $h1"
has "tlsa 1 1 1 $h2"
look mx2.dane.example
has "state=unusable bogus=0 n=2 usable=0"
look mx3.dane.example
has "state=none bogus=0 n=0"
has "why=no TLSA records (a DNSSEC-secure denial)"
look mx4.dane.example
has "state=failed bogus=1 n=0"
has "why=TLSA lookup: "
look mx5.plain.example
has "state=none bogus=0 n=0"
has "why=the MX host's address records are not DNSSEC-secure"
look mx6.dane.example
has "state=none"
has "why=no TLSA records (a DNSSEC-secure denial)"
look mx6.dane.example 587
has "state=usable bogus=0 n=1 usable=1"
has "tlsa 2 0 1 $h1"
look mx7.dane.example
has "state=usable bogus=0 n=1 usable=1"
look mx8.dane.example
has "state=failed bogus=1"
has "why=A lookup: "
# A record of three octets (no data) beside a good one: unusable, left
# out; the good one decides (RFC 7671 section 4).
look mx9.dane.example
has "state=usable bogus=0 n=1 usable=1"
has "malformed=1 (a TLSA record of 3 octets"
# Aliases (RFC 7672 section 2.2.2): the target's RRset first; the
# alias's own when the target has none; no DANE through an insecure link.
look alias.dane.example
has "state=usable bogus=0 n=2 usable=1 base=mx1.dane.example"
look alias2.dane.example
has "state=usable bogus=0 n=1 usable=1 base=alias2.dane.example"
has "tlsa 3 1 1 $h2"
look outside.dane.example
has "state=none"
has "why=the MX host's address records are not DNSSEC-secure"
look nowhere.dane.example
has "state=none"
has "why=the MX host has no address records"
finish
