#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_paths.sh: mxverify's default DNS set-up (no unbound_conf: the system
# resolver from /etc/resolv.conf, the root trust anchor of dns-root-data)
# behind the resolvers real machines have. In a network and mount
# namespace of its own: a test root zone signed with a key of its own
# (bind-mounted over /usr/share/dns/root.key), served by one `unbound`
# daemon that carries the signatures and one that serves the same data
# without them (a resolver or middlebox that strips DNSSEC); resolv.conf
# bind-mounted to point at one, then the other. Never the host's files.
#  - dnssec = prefer on a path that carries DNSSEC: secure evidence, and a
#    record tampered with is discarded (temporary), never used;
#  - on a path that strips it: answers are insecure (decided, said once),
#    not bogus; dnssec = require still refuses them;
#  - names libunbound would answer NXDOMAIN itself (TEST-NET and private
#    reverse zones, test.) are asked of the system resolver.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_DNS_PATHS_NS:-}" != 1 ]; then
    need_tools unbound ldns-signzone
    need_root_anchor_tools
    in_namespaces MXV_DNS_PATHS_NS
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up

# --- a root zone of our own, signed; the same data unsigned ---
z=$work/zones
mkdir -p "$z"
{
    printf '$ORIGIN .\n$TTL 300\n'
    printf '. SOA ns.root. hostmaster.root. 1 3600 600 86400 300\n. NS ns.root.\nns.root. A 127.0.0.53\n'
    printf 'example.com. MX 10 mx01.subd.emailhosted.not.\n'
    printf 'mx01.subd.emailhosted.not. A 127.0.0.51\n'
    printf 'tampered.example. MX 10 mx0x.subd.emailhosted.not.\n'
    # TEST-NET and private reverse names, and a lab name under test.
    printf '1.2.0.192.in-addr.arpa. PTR mx0a.emailhosted.not.\n'
    printf 'mx0a.emailhosted.not. A 192.0.2.1\n'
    printf '7.0.0.10.in-addr.arpa. PTR mail.lab.test.\n'
    printf 'mail.lab.test. A 10.0.0.7\n'
} > "$z/root.zone"
(
    cd "$z"
    key=$(ldns-keygen -a ECDSAP256SHA256 -k .)
    ldns-signzone -o . root.zone "$key" >/dev/null
    # A record changed after signing: its signature no longer matches.
    sed -i 's/MX[[:space:]]*10 mx0x\.subd\.emailhosted\.not\./MX 10 mx01.subd.emailhosted.not./' \
        root.zone.signed
    cat "$key.key" > "$work/root.key"
)
grep -q 'tampered.example.*mx01.subd' "$z/root.zone.signed" || { echo "FAIL: could not tamper"; exit 1; }

# serve NAME ADDRESS ZONEFILE: an unbound daemon on ADDRESS:53 serving it.
serve() {
    local dir=$work/$1 addr=$2 file=$3
    mkdir -p "$dir"
    cat > "$dir/unbound.conf" <<CONF
server:
    interface: $addr
    port: 53
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: "$dir/unbound.log"
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    # A real internal resolver serves these; unbound's defaults would not.
    local-zone: "2.0.192.in-addr.arpa." nodefault
    local-zone: "10.in-addr.arpa." nodefault
    local-zone: "test." nodefault
auth-zone:
    name: "."
    zonefile: "$file"
    for-downstream: yes
    for-upstream: yes
    fallback-enabled: no
remote-control:
    control-enable: no
CONF
    unbound -d -c "$dir/unbound.conf" > /dev/null 2>&1 &
    cleanup_hooks+=("kill $! 2>/dev/null")
    for _ in $(seq 50); do tcp_up "$addr" 53 && return 0; sleep 0.1; done
    echo "FAIL: unbound $1 did not start"; tail -5 "$dir/unbound.log"; exit 1
}
serve signed 127.0.0.53 "$z/root.zone.signed"
serve stripped 127.0.0.54 "$z/root.zone"
mount --bind "$work/root.key" /usr/share/dns/root.key
cleanup_hooks+=("umount /usr/share/dns/root.key 2>/dev/null")
printf 'nameserver 127.0.0.53\n' > "$work/resolv.signed"
printf 'nameserver 127.0.0.54\n' > "$work/resolv.stripped"
use_resolver() {
    umount /etc/resolv.conf 2>/dev/null || true
    mount --bind "$work/resolv.$1" /etc/resolv.conf
}
cleanup_hooks+=("umount /etc/resolv.conf 2>/dev/null")
export MXVERIFY_LOG=stderr
x() { expect_exit "$1" -- explain --ca-file "$certs/ca.pem" --dns-timeout 5 "${@:2}"; }

# --- a path that carries DNSSEC ---
use_resolver signed
x 0 --cert "$certs/mx01.pem" --domain example.com --json
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "mx"]' '["secure"]'
lacks "carries no DNSSEC"
x 0 --cert "$certs/mx01.pem" --domain example.com --dnssec require
x 3 --cert "$certs/mx01.pem" --domain tampered.example --json
json_is 'j["temporary"]' 'true'
json_is 'j["match"]' 'null'
json_is '"bogus" in j["why"]' 'true'
# TEST-NET, private reverse zones and test. reach the resolver.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --mx other.example.com --ip 192.0.2.1 --json
json_is 'j["match"]["reference"]' '"mx0a.emailhosted.not"'
json_is 'j["match"]["source"]' '"ptr"'
x 1 --cert "$certs/emailhosted.pem" --domain example.com --mx other.example.com --ip 10.0.0.7 --json
json_is '[r["name"] for r in j["references"] if r["source"] == "ptr"]' '["mail.lab.test"]'
json_is '[r["note"] for r in j["references"] if r["source"] == "ptr"]' '["forward-confirmed: A mail.lab.test = 10.0.0.7"]'

# --- a path that strips DNSSEC ---
use_resolver stripped
x 0 --cert "$certs/mx01.pem" --domain example.com --json
json_is '[r["dnssec"] for r in j["references"] if r["source"] == "mx"]' '["insecure"]'
in_err "resolver path carries no DNSSEC"
checks=$((checks + 1))
[ "$(grep -c 'carries no DNSSEC' <<<"$err")" = 1 ] || fail "the stripped path was not said exactly once"
x 0 --cert "$certs/emailhosted.pem" --domain example.com --mx other.example.com --ip 192.0.2.1
# require: no downgrade, no insecure evidence.
x 3 --cert "$certs/mx01.pem" --domain example.com --dnssec require --json
json_is 'j["temporary"]' 'true'
lacks "carries no DNSSEC"
finish
