#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A forged MX for a DNSSEC-signed domain in the cache of a system resolver
# that does not validate: the program receives it, and under the default
# dnssec = prefer mxverify's own lookup (the root trust anchor; this path
# carries DNSSEC) finds it bogus. The program's answer must not stand for
# that lookup (core/program_dns.h): the mail is deferred, never delivered
# to the forger's host, whose certificate matches the forged MX name.
# A network and mount namespace of its own: a signed root zone served by
# unbound (iterator only: no validation) with the MX rdata changed under
# its old signature, its key bind-mounted as the root trust anchor, and
# /etc/resolv.conf pointing there.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_FORGED_NS:-}" != 1 ]; then
    need_tools unbound ldns-signzone
    need_root_anchor_tools
    in_namespaces MXV_FORGED_NS
fi
. "$(dirname "$0")/lib.sh"
: "${SHIM:?}" "${NATIVE_CLIENT:?}"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed for the SMTP sink"; exit $SKIP; }
ip link set lo up
ip route add local 192.0.2.0/24 dev lo
mkdir -p "$work/zone" "$work/dns"
cd "$work/zone"
key=$(ldns-keygen -a ECDSAP256SHA256 -k .)
cat > root.zone <<'ZONE'
.                        300 IN SOA ns.root. hostmaster.root. 1 3600 600 86400 300
.                        300 IN NS  ns.root.
ns.root.                 300 IN A   127.0.0.1
victim.example.org.      300 IN MX  10 mx09.other.example.
mx09.other.example.      300 IN A   192.0.2.39
mx01.subd.emailhosted.not. 300 IN A 192.0.2.32
32.2.0.192.in-addr.arpa. 300 IN PTR mx0z.emailhosted.not.
ZONE
ldns-signzone -o . root.zone "$key" >/dev/null
# The forgery: the MX's target changed, its signature left as it was.
sed -i 's/^\(victim\.example\.org\.\s.*MX\s*10 \)mx09\.other\.example\./\1mx01.subd.emailhosted.not./' \
    root.zone.signed
grep -q 'MX.*10 mx01.subd.emailhosted.not' root.zone.signed || { echo "FAIL: no forgery made"; exit 1; }
cp "$key.key" root.key
mount --bind "$work/zone/root.key" /usr/share/dns/root.key
cd "$work"
cat > "$work/dns/world.conf" <<CONF
server:
    module-config: "iterator"
    local-zone: "2.0.192.in-addr.arpa." nodefault
auth-zone:
    name: "."
    zonefile: "$work/zone/root.zone.signed"
    for-downstream: yes
    for-upstream: yes
    fallback-enabled: no
CONF
free_port() { echo 53; } # resolv.conf can name no other port
start_unbound "$work/dns" "$work/dns/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$work/dns/resolv.conf"
mount --bind "$work/dns/resolv.conf" /etc/resolv.conf

"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    192.0.2.32="$certs/mx01.pem,$certs/mx01.key" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done

asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
# deliver MARKER ENV...: one delivery to victim.example.org's MX host.
deliver() {
    local marker=$1; shift
    env "$@" "$NATIVE_CLIENT" victim.example.org 25 "$marker" --mx > "$work/out" 2> "$work/err" || true
    out=$(cat "$work/out"); err=$(cat "$work/err")
}
deliver plain
checks=$((checks + 1))
grep -q '^delivered plain' "$work/out" || fail "without mxverify the forged MX delivers (the test's premise)"
for cache in none shared; do
    env=(LD_PRELOAD="${asan_rt:+$asan_rt }$SHIM" MXVERIFY_MODE=required-verify-hosted
        MXVERIFY_CAFILE="$certs/ca.pem" MXVERIFY_LOG=stderr)
    [ "$cache" = none ] || env+=(MXVERIFY_DNS_CACHE="$work/dns.cache")
    for round in 1 2; do # the second after the path's verdict is known
        deliver "forged-$cache-$round" "${env[@]}"
        checks=$((checks + 1))
        ! grep -q "^delivered" "$work/out" || fail "forged MX delivered ($cache, $round)"
        in_err 'DNSSEC bogus'
        in_err 'temporary=1'
    done
done
finish
