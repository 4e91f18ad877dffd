#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dane.sh: DANE for SMTP (RFC 7672) through real parts. In a network and
# mount namespace of its own: zones signed with ldns-signzone, served by a
# real `unbound` on port 53 (the programs' resolv.conf is bind-mounted to
# it there only; mxverify's libunbound holds the trust anchor), STARTTLS
# servers on port 25 with chosen certificates, and Debian's swaks, curl,
# openssl s_client and Python smtplib through the preload shim (and
# s_client through the provider). The recipient domain example.com has a
# DNSSEC-secure MX RRset naming every mxN.dane.example host; each host
# stands for one case of the issue (the comment above its records).
. "$(dirname "$0")/netns.sh"
if [ "${MXV_DANE_NS:-}" != 1 ]; then
    need_tools unbound ldns-keygen ldns-signzone swaks curl openssl
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    : "${SHIM:?}" "${PROVIDER:?}"
    if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
        echo "skipped: ASan build (Debian's clients cannot run with a preloaded ASan runtime)"
        exit $SKIP
    fi
    in_namespaces MXV_DANE_NS
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"
ip link set lo up

# --- keys and certificates ---
cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
cat "$certs/example.pem" "$certs/ca.pem" > "$work/example+ca.pem"
cat "$certs/mx01.pem" "$certs/ca.pem" > "$work/mx01+ca.pem"
cat "$certs/expired.pem" "$certs/ca.pem" > "$work/expired+ca.pem"
ee=$(spki "$certs/self-signed.pem")      # DANE-EE: names and dates wrong for every host
ee_expired=$(spki "$certs/expired.pem")
ca=$(cert_sha "$certs/ca.pem")
inter=$(cert_sha "$certs/intermediate.pem")
other=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210

# --- DNS: dane.example and example.com signed, plain.example not ---
z=$work/zones
mkdir -p "$z"
host() { # host N: mxN.dane.example at 127.0.0.(60+N)
    echo "mx$1 A 127.0.0.$((60 + $1))"
}
zone dane.example \
    "$(host 1)" "_25._tcp.mx1 TLSA 3 1 1 $ee" \
    "$(host 2)" "_25._tcp.mx2 TLSA 3 1 1 $other" "_25._tcp.mx2 TLSA 3 1 1 $ee_expired" \
    "$(host 3)" "_25._tcp.mx3 TLSA 2 0 1 $inter" \
    "$(host 4)" "_25._tcp.mx4 TLSA 2 0 1 $ca" \
    "$(host 5)" "_25._tcp.mx5 TLSA 2 0 1 $ca" \
    "$(host 6)" "_25._tcp.mx6 TLSA 2 0 1 $ca" \
    "$(host 7)" "_25._tcp.mx7 TLSA 3 1 1 $other" \
    "$(host 8)" "_25._tcp.mx8 TLSA 1 1 1 $ee" "_25._tcp.mx8 TLSA 0 0 1 $ca" \
    "$(host 9)" "_25._tcp.mx9 TLSA 1 1 1 $ee" \
    "$(host 10)" "_25._tcp.mx10 TLSA 3 1 1 $ee" \
    "$(host 11)" \
    "$(host 12)" "_25._tcp.mx12 TLSA 3 1 1 $ee" \
    "mxc CNAME mxt" "mxt A 127.0.0.73" "_25._tcp.mxt TLSA 3 1 1 $ee" \
    "_25._tcp.mxc TLSA 3 1 1 $other" 'mxo A 127.0.0.81'
# example.com's MX RRset names every host (the recipient domain is then a
# DANE-TA reference identifier, RFC 7672 section 3.2.2).
mx=()
for n in 1 2 3 4 5 6 7 8 9 10 11 12 c; do mx+=("@ MX 10 mx$n.dane.example."); done
mx+=("@ MX 20 mxp.plain.example.")
zone example.com "${mx[@]}" '@ A 127.0.0.99'
zone plain.example 'mxp A 127.0.0.80' "_25._tcp.mxp TLSA 3 1 1 $other"
sign_zones dane.example example.com || exit 1
# mx12's TLSA record changes under its signature: bogus.
sed -i "s/^\(_25\._tcp\.mx12\.dane\.example\.[[:space:]].*TLSA[[:space:]]*3 1 1 \)$ee\$/\1$other/" \
    "$z/dane.example.zone.signed"
grep -q "mx12.*TLSA.*$other" "$z/dane.example.zone.signed" ||
    { echo "FAIL: could not tamper with the signed zone" >&2; exit 1; }
cp "$z/plain.example.zone" "$z/plain.example.zone.signed"
serve_zones plain dane.example example.com plain.example > "$z/world.conf"
pf_dns "$z" "$z/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault' \
    "trust-anchor-file: \"$work/anchors\""

# --- servers: one per host, its certificate chain (or none: no STARTTLS) ---
pair() { echo "$1,$2"; }
c() { pair "$certs/$1.pem" "$certs/$1.key"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 600 \
    127.0.0.61="$(c self-signed)" 127.0.0.62="$(c expired)" \
    127.0.0.63="$(pair "$certs/via-intermediate.pem" "$certs/via-intermediate.key")" \
    127.0.0.64="$(pair "$work/example+ca.pem" "$certs/example.key")" \
    127.0.0.65="$(pair "$work/mx01+ca.pem" "$certs/mx01.key")" \
    127.0.0.66="$(pair "$work/expired+ca.pem" "$certs/expired.key")" \
    127.0.0.67="$(c example)" 127.0.0.68="$(c self-signed)" 127.0.0.69=none 127.0.0.70=none \
    127.0.0.71=none 127.0.0.72=none 127.0.0.73="$(c self-signed)" 127.0.0.80=none 127.0.0.81="$(c self-signed)" \
    2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "FAIL: SMTP sink did not start"; cat "$work/sink.err"; exit 1; }

settings=(--unbound-conf "$work/dns.conf" --ca-file "$certs/ca.pem" --dns-timeout 5
          --domain example.com)

# via MODE DANE CLIENT HOST MARKER: one delivery attempt by CLIENT to HOST
# through the shim (`mxverify run`); $out/$err keep what was said.
via() {
    local mode=$1 dane=$2 client=$3 h=$4 marker=$5
    local -a cmd
    case $client in
    swaks) cmd=(swaks -tlso --server "$h" --to user@example.com --from s@client.test
                --header "Subject: $marker" --body "$marker") ;;
    curl)
        printf 'Subject: %s\r\n\r\n%s\r\n' "$marker" "$marker" > "$work/$marker.msg"
        cmd=(curl -sS -k --ssl "smtp://$h:25" --mail-from s@client.test --mail-rcpt user@example.com
             -T "$work/$marker.msg") ;;
    s_client)
        printf 'EHLO client.test\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<user@example.com>\r\nDATA\r\nSubject: %s\r\n\r\n%s\r\n.\r\nQUIT\r\n' \
            "$marker" "$marker" > "$work/$marker.in"
        cmd=(openssl s_client -starttls smtp -connect "$h:25" -quiet) ;;
    python) cmd=(/usr/bin/python3 "$SRCDIR/tests/integration/send_smtplib.py" "$h" 25
                 user@example.com "$marker") ;;
    esac
    local in=/dev/null
    [ "$client" != s_client ] || in=$work/$marker.in
    if [ "${VIA:-shim}" = provider ]; then
        local -a kvs=(log=stderr mode="$mode" dane="$dane") i
        for ((i = 0; i < ${#settings[@]}; i += 2)); do
            local k=${settings[i]#--}
            kvs+=("${k//-/_}=${settings[i + 1]}")
        done
        openssl_cnf "$work/openssl.cnf" "$PROVIDER" "${kvs[@]}"
        OPENSSL_CONF="$work/openssl.cnf" timeout 30 "${cmd[@]}" > "$work/out" 2> "$work/err" \
            < "$in" || true
    else
        timeout 30 "$MXVERIFY" run "${settings[@]}" ${ROUTE:+--route "$ROUTE"} --log stderr \
            --mode "$mode" --dane "$dane" \
            -- "${cmd[@]}" \
            > "$work/out" 2> "$work/err" < "$in" || true
    fi
    out=$(tr -d '\0' < "$work/out")
    err=$(cat "$work/err")
}
# case_ MODE DANE HOST WANT LOGTEXT WHAT [CLIENTS...]: each client (default
# swaks) delivers to HOST as WANT says, and its log says LOGTEXT.
n=0
case_() {
    local mode=$1 dane=$2 h=$3 want=$4 logtext=$5 what=$6; shift 6
    local client
    for client in "${@:-swaks}"; do
        n=$((n + 1))
        via "$mode" "$dane" "$client" "$h" "dane-$n-$client"
        expect_got "$want" "dane-$n-$client" "$what ($client, mode $mode, dane $dane)"
        [ -z "$logtext" ] || has "$logtext"
    done
}
all=(swaks curl s_client python)
# Python's smtplib checks the certificate itself (a CA and the host name):
# its own refusal of a DANE-EE server's self-signed certificate stands.
lenient=(swaks curl s_client)

# DANE-EE match, names and dates wrong: pass, whatever the mode.
case_ required-verify-hosted on mx1.dane.example tls 'policy=dane tlsa="3 1 1"' \
    "DANE-EE match" "${lenient[@]}"
case_ required-verify-hosted on mx1.dane.example none 'policy=dane tlsa="3 1 1"' \
    "DANE-EE match, the program's own check refuses" python
case_ none on mx1.dane.example tls 'policy=dane' "DANE-EE match, mode none"
# Key rollover: the current and the next key published; an expired leaf.
case_ required-verify on mx2.dane.example tls 'tlsa="3 1 1"' "DANE-EE rollover, expired leaf"
# DANE-TA at an intermediate, the recipient domain's name (secure MX RRset).
case_ required-verify-hosted on mx3.dane.example tls 'tlsa="2 0 1"' "DANE-TA intermediate"
# DANE-TA at the root, right names; wrong names; an expired leaf.
case_ required-verify-hosted on mx4.dane.example tls 'tlsa="2 0 1"' "DANE-TA root"
case_ preferred on mx5.dane.example none 'reason=certificate-host-mismatch' "DANE-TA wrong names"
case_ preferred on mx6.dane.example none 'reason=certificate-expired' "DANE-TA expired leaf"
# DANE-EE mismatch: no mail, not even in clear, even under preferred.
case_ preferred on mx7.dane.example none 'reason=tlsa-invalid' "DANE-EE mismatch" "${all[@]}"
case_ none on mx7.dane.example none 'policy=dane' "DANE-EE mismatch, mode none"
# Only PKIX records: TLS mandatory, the ESA setting decides the certificate.
case_ none on mx8.dane.example tls '' "unusable records, mode none"
case_ required-verify on mx8.dane.example none 'policy=esa' "unusable records, ESA refuses"
case_ none on mx9.dane.example none 'DANE: TLS is mandatory' "unusable records, no STARTTLS"
# Usable records, a server without STARTTLS: no mail. (s_client tries TLS
# anyway; curl resolves in a thread of its own, so the shim does not learn
# the host name it connected by, and fails closed for want of it.)
case_ none on mx10.dane.example none 'DANE: TLS is mandatory' "usable records, no STARTTLS"
case_ none on mx10.dane.example none '' "usable records, no STARTTLS" curl s_client python
# Secure NODATA: no DANE, the mode decides (clear text allowed at none).
case_ none on mx11.dane.example clear '' "no TLSA records"
case_ none require mx11.dane.example none 'dane-required' "dane = require without TLSA"
# Bogus TLSA: temporary, never clear.
case_ none on mx12.dane.example none 'reason=dnssec-invalid' "bogus TLSA"
# CNAME'd MX: the target's records decide, not the alias's own.
case_ required-verify-hosted on mxc.dane.example tls 'tlsa="3 1 1"' "CNAME'd MX, TLSA at the target"
# An unsigned zone's TLSA records are no DANE.
case_ none on mxp.plain.example clear '' "insecure TLSA"
# A host the recipient domain's signed MX records do not name (the
# program's own DNS answer forged): refused, whatever that host publishes.
case_ none on mxo.dane.example none "is not in example.com's DNSSEC-secure MX records" \
    "a host that is not an MX"
# A single-label name the resolver completes from its search list: which
# host it is, is not known.
printf 'search dane.example\n' >> "$z/resolv.conf"
case_ none on mx10 none 'is not a fully qualified host name' "a name completed by the search list"
# ... nor a two-label name the search list completes (mx10.dane is not in
# DNS: the program reached an address DNS does not give that name).
printf 'search example\n' >> "$z/resolv.conf"
case_ none on mx10.dane none 'could not be had' "a dotted name completed by the search list"
# A relay set in the settings (route) is the host DANE asks about.
ROUTE=mxo.dane.example case_ none on mxo.dane.example tls '' "a relay named by route" swaks
# DANE off: nothing of it applies.
case_ none off mx10.dane.example clear '' "dane off"

# explain, offline with the same DNS.
ex=(explain --cert "$certs/self-signed.pem" --domain example.com --unbound-conf "$work/dns.conf"
    --mode required-verify-hosted --dane on)
expect_exit 0 -- "${ex[@]}" --mx mx1.dane.example
has 'DANE-EE(3) 1 1 matched'
expect_exit 1 -- "${ex[@]}" --mx mx7.dane.example --json
has '"reason":"tlsa-invalid"'
expect_exit 3 -- "${ex[@]}" --mx mx12.dane.example
has 'dnssec-invalid'
expect_exit 0 -- "${ex[@]}" --mx mxc.dane.example
has 'TLSA base domain mxt.dane.example'
# No trust anchor: nothing can be secure, and DANE says so (never "off").
forward_conf "$work/no-anchor.conf" 'local-zone: "127.in-addr.arpa." nodefault'
expect_exit 3 -- "${ex[@]}" --mx mx11.dane.example --unbound-conf "$work/no-anchor.conf"
has 'no DNSSEC trust anchor'
# An anchor, but the validator left out of module-config: the same.
forward_conf "$work/iterator.conf" 'local-zone: "127.in-addr.arpa." nodefault' \
    "trust-anchor-file: \"$work/anchors\"" 'module-config: "iterator"'
expect_exit 3 -- "${ex[@]}" --mx mx11.dane.example --unbound-conf "$work/iterator.conf"
has 'no DNSSEC trust anchor'

# check: per server, whether DANE applied and which record matched.
ck=(check example.com --unbound-conf "$work/dns.conf" --ca-file "$certs/ca.pem" --mode none
    --dane on --timeout 5)
expect_exit 0 -- "${ck[@]}" --server mx1.dane.example
has 'Verified TLS connection established to mx1.dane.example [127.0.0.61]: DANE-EE(3) matched'
expect_exit 0 -- "${ck[@]}" --server mx4.dane.example
has 'DANE-TA(2) matched, example.com ~ domain example.com'
expect_exit 1 -- "${ck[@]}" --server mx7.dane.example
has 'Untrusted TLS connection established to mx7.dane.example [127.0.0.67]: DANE tlsa-invalid'
expect_exit 1 -- "${ck[@]}" --server mx10.dane.example
has 'STARTTLS not offered by mx10.dane.example [127.0.0.70]: no mail would be sent (DANE:'
expect_exit 0 -- "${ck[@]}" --server mx11.dane.example
has 'mail would go in clear'

# audit: the server's TLSA records against what it serves.
au=(audit --unbound-conf "$work/dns.conf" --ca-file "$certs/ca.pem" --timeout 5)
expect_exit 1 -- "${au[@]}" mx2.dane.example # expired: the PKIX date check fails
has 'PASS  dane'
has 'DANE: DANE-EE(3) 1 1 matched what the server sends'
has "matches nothing the server sent (the next key of a rollover, or a stale record)"
has 'matches certificate 0 (0: the leaf)'
expect_exit 1 -- "${au[@]}" mx7.dane.example
has 'FAIL  dane'
has 'DANE senders refuse this server: tlsa-invalid'
expect_exit 1 -- "${au[@]}" mx8.dane.example
has 'only unusable TLSA records'
has 'unusable for SMTP'
expect_exit 1 -- "${au[@]}" mx12.dane.example # no STARTTLS, and DANE failed
has 'dnssec-invalid'

# The provider: the certificate decision (it has no clear-text guard).
# The provider learns the MX host from what the program gives OpenSSL
# (SNI: s_client and curl send it); swaks sends none, and without the
# shim's view of its lookups, that fails closed.
VIA=provider case_ required-verify-hosted on mx1.dane.example tls 'policy=dane' \
    "provider, DANE-EE match" s_client curl
VIA=provider case_ required-verify-hosted on mx1.dane.example none \
    'the MX host connected to is not known' "provider, a client that names no host" swaks
# The name a program gives OpenSSL (SNI) is no setting: a host the
# recipient domain's signed MX records do not name is refused there too.
VIA=provider case_ none on mxo.dane.example none "is not in example.com's DNSSEC-secure MX records" \
    "provider, SNI naming a host that is not an MX" s_client
VIA=provider case_ preferred on mx7.dane.example none 'reason=tlsa-invalid' \
    "provider, DANE-EE mismatch" s_client curl swaks python
finish
