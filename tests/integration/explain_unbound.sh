#!/usr/bin/env bash
# `mxverify explain` with DNS from a real `unbound` daemon on a loopback
# port, serving DNSSEC-signed zones (ldns-signzone) as an authority:
# secure evidence is shown as secure, `--dnssec require` accepts only
# that, unsigned data is insecure, and a zone whose signatures do not
# match its trust anchor is bogus: discarded, a temporary DNS failure.
. "$(dirname "$0")/lib.sh"
for tool in unbound ldns-keygen ldns-signzone; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool not installed"; exit $SKIP; }
done

z=$work/zones
mkdir -p "$z"
zone() { # zone NAME RECORDS...: writes $z/NAME.zone
    local name=$1; shift
    {
        printf '$ORIGIN %s.\n$TTL 300\n' "$name"
        printf '@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n@ NS ns.%s.\n' "$name" "$name" "$name"
        printf '%s\n' "$@"
    } > "$z/$name.zone"
}
zone example.com '@ MX 10 mx01.subd.emailhosted.not.' '@ MX 20 mx02.subd.emailhosted.not.'
zone emailhosted.not 'mx01.subd A 192.0.2.1' 'mx02.subd A 192.0.2.2' \
    'mx0a A 192.0.2.1' 'mx0b A 192.0.2.2'
zone 2.0.192.in-addr.arpa '1 PTR mx0a.emailhosted.not.' '2 PTR mx0b.emailhosted.not.'
zone bogus.example '@ MX 10 mx01.subd.emailhosted.not.'
zone plain.example '@ MX 10 mx01.subd.emailhosted.not.'

: > "$work/anchors"
(
    cd "$z"
    for name in example.com emailhosted.not 2.0.192.in-addr.arpa bogus.example; do
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
    cp plain.example.zone plain.example.zone.signed # served unsigned
)

port=$(free_port)
{
    cat <<CONF
server:
    interface: 127.0.0.1
    port: $port
    username: ""
    chroot: ""
    directory: "$z"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: "$work/unbound.log"
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    local-zone: "2.0.192.in-addr.arpa." nodefault
remote-control:
    control-enable: no
CONF
    for name in example.com emailhosted.not 2.0.192.in-addr.arpa bogus.example plain.example; do
        printf 'auth-zone:\n    name: "%s."\n    zonefile: "%s/%s.zone.signed"\n' "$name" "$z" "$name"
        printf '    for-downstream: yes\n    for-upstream: yes\n    fallback-enabled: no\n'
    done
} > "$work/unbound.conf"
unbound-checkconf "$work/unbound.conf" >/dev/null
unbound -d -c "$work/unbound.conf" &
daemon=$!
cleanup_hooks+=("kill $daemon; wait $daemon")

# Wait (bounded) until the daemon answers.
for _ in $(seq 50); do
    if python3 - "$port" <<'PY' 2>/dev/null; then break; fi
import socket, sys
q = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000060001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
s.sendto(q, ("127.0.0.1", int(sys.argv[1]))); s.recvfrom(512)
PY
    sleep 0.1
done

cat > "$work/client.conf" <<CONF
server:
    do-not-query-localhost: no
    local-zone: "2.0.192.in-addr.arpa." nodefault
    trust-anchor-file: "$work/anchors"
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$port
CONF
x() { expect_exit "$1" -- explain --unbound-conf "$work/client.conf" --ca-file "$certs/ca.pem" \
    --dns-timeout 3 "${@:2}"; }

# The worked example through the daemon, every DNS answer validated.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["match"]["reference"]' '"mx0a.emailhosted.not"'
json_is '[r["dnssec"] for r in j["references"]]' '[null, "secure", "secure", "secure"]'
# dnssec = require: secure evidence is accepted.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require
has "Verdict:    pass"
# Unsigned data is insecure: used by default, refused under require.
x 0 --cert "$certs/mx01.pem" --domain plain.example --json
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "mx"]' '["insecure"]'
x 1 --cert "$certs/mx01.pem" --domain plain.example --dnssec require
has "not DNSSEC-secure (dnssec = require)"
# dnssec = off: statuses are not reported.
x 0 --cert "$certs/mx01.pem" --domain plain.example --dnssec off --json
json_is '[r["dnssec"] for r in j["references"]]' '[null, null]'
# Bogus: discarded, and the decision is a temporary DNS failure.
x 3 --cert "$certs/mx01.pem" --domain bogus.example
has "DNSSEC bogus"
has "temporary"

finish
