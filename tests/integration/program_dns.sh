#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The program's own DNS answers as evidence (policy.md section 4), and no
# resolver where no question is left, with a client that finds its MX
# host as MTAs do (res_query MX, then the host's address), in a network
# and mount namespace whose /etc/resolv.conf names an `unbound` this test
# starts: mxverify on its default set-up (the system resolver, dnssec =
# prefer; the root anchor bind-mounted with a key of the test's own, so the
# resolver's unsigned answers are taken as insecure).
#
# Checked, under required-verify-hosted with a dns_cache file:
# - the first process asks the MX itself (it would validate; the path's
#   lack of DNSSEC is not known yet), and has a resolver thread;
# - once the shared file says the path carries no DNSSEC: a certificate
#   that matches the MX host costs no MX query of mxverify's (one at the
#   resolver: the program's), no PTR, and no resolver: the process has no
#   thread beyond its own (counted in /proc/self/task);
# - a PTR match whose answers the shared file holds: no thread either;
# - a program whose resolver is not the system's (its own name server,
#   answering a forged MX that points at a server whose certificate
#   matches that MX name): its answer is not evidence, mxverify's own
#   lookup decides and the mail is refused.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_PROGRAM_DNS_NS:-}" != 1 ]; then
    need_tools unbound
    need_root_anchor_tools
    in_namespaces MXV_PROGRAM_DNS_NS
fi
. "$(dirname "$0")/lib.sh"
: "${SHIM:?}" "${NATIVE_CLIENT:?}"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed for the SMTP sink"; exit $SKIP; }
ip link set lo up
# Servers on TEST-NET-1 (a reverse zone mxverify asks the system resolver
# about; 127.in-addr.arpa libunbound answers by itself).
ip route add local 192.0.2.0/24 dev lo
mkdir -p "$work/dns" "$work/evil"
foreign_root_anchor

# viamx.example.net   MX mx01.subd.emailhosted.not 192.0.2.32  cert mx01 (MX match)
# viaptr.example.org  MX mx02.subd.emailhosted.not 192.0.2.33  cert *.emailhosted.not,
#                     PTR mx0a.emailhosted.not (forward-confirmed)
# victim.example.org  MX mx09.other.example        (nothing listens); the forging
#                     server says MX mx01.subd.emailhosted.not
cat > "$work/dns/world.conf" <<'CONF'
server:
    log-queries: yes
    local-zone: "2.0.192.in-addr.arpa." nodefault
    local-zone: "." static
    local-data: ". 300 IN NS ns.root."
    local-zone: "example.net." static
    local-zone: "example.org." static
    local-zone: "emailhosted.not." static
    local-zone: "other.example." static
    local-data: "viamx.example.net. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 192.0.2.32"
    local-data-ptr: "192.0.2.32 300 mx0z.emailhosted.not."
    local-data: "mx0z.emailhosted.not. 300 IN A 192.0.2.99"
    local-data: "viaptr.example.org. 300 IN MX 10 mx02.subd.emailhosted.not."
    local-data: "mx02.subd.emailhosted.not. 300 IN A 192.0.2.33"
    local-data-ptr: "192.0.2.33 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 192.0.2.33"
    local-data: "victim.example.org. 300 IN MX 10 mx09.other.example."
    local-data: "mx09.other.example. 300 IN A 192.0.2.39"
CONF
cat > "$work/evil/world.conf" <<'CONF'
server:
    local-zone: "example.org." static
    local-zone: "emailhosted.not." static
    local-data: "victim.example.org. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 192.0.2.32"
CONF
free_port() { echo 53; } # resolv.conf can name no other port
start_unbound "$work/evil" "$work/evil/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
evil_addr=$dns_addr
start_unbound "$work/dns" "$work/dns/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
[ "$dns_addr" != "$evil_addr" ] || { echo "FAIL: both resolvers on $dns_addr"; exit 1; }
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$work/dns/resolv.conf"
mount --bind "$work/dns/resolv.conf" /etc/resolv.conf

"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    192.0.2.32="$certs/mx01.pem,$certs/mx01.key" \
    192.0.2.33="$certs/emailhosted.pem,$certs/emailhosted.key" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done

asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
shim=(LD_PRELOAD="${asan_rt:+$asan_rt }$SHIM" MXVERIFY_MODE=required-verify-hosted
    MXVERIFY_CAFILE="$certs/ca.pem" MXVERIFY_LOG=stderr MXVERIFY_DNS_CACHE="$work/dns.cache"
    ${MXV_TEST_LOG_FORMAT:+MXVERIFY_LOG_FORMAT=$MXV_TEST_LOG_FORMAT})

# client ENV... -- DOMAIN MARKER [ARGS]: one delivery to DOMAIN's MX host;
# sets out, err, delivered (0/1) and threads.
client() {
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local domain=$1 marker=$2; shift 2
    env "${envs[@]}" "$NATIVE_CLIENT" "$domain" 25 "$marker" --mx --count-threads "$@" \
        > "$work/out" 2> "$work/err" || true
    out=$(cat "$work/out"); err=$(cat "$work/err")
    delivered=$(grep -c "^delivered $marker" "$work/out" || true)
    threads=$(sed -n 's/^threads //p' "$work/out")
    checks=$((checks + 1))
    ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$work/err" || fail "sanitizer report"
}
# expect WHAT CONDITION...: one check.
expect() {
    local what=$1; shift
    checks=$((checks + 1))
    "$@" || fail "$what"
}
mx_queries() { grep -c " $1\. MX IN" "$work/dns/unbound.log" || true; }

mx_queries() { grep -c " $1\. MX IN" "$work/dns/unbound.log" || true; }
ptr_queries() { grep -c " $1.2.0.192.in-addr.arpa. PTR IN" "$work/dns/unbound.log" || true; }

# --- the first process: mxverify validates (the root anchor), so the
# program's unvalidated answer does not count until it is known that this
# resolver path carries no DNSSEC (its probe, kept in the shared file) ---
client "${shim[@]}" -- viaptr.example.org ptr-cold
expect "PTR match delivered" [ "$delivered" = 1 ]
expect "mxverify asked the MX itself while the path was unknown" \
    [ "$(mx_queries viaptr.example.org)" = 2 ]
expect "the path without DNSSEC was noticed" in_err 'carries no DNSSEC'
expect "a process that asks starts a resolver thread (threads: $threads)" [ "${threads:-0}" -ge 2 ]
expect "the PTR asked once" [ "$(ptr_queries 33)" = 1 ]

# --- then the MX RRset from the program's own answer ---
client "${shim[@]}" -- viamx.example.net mx-match
expect "MX match delivered" [ "$delivered" = 1 ]
expect "the decision passed by the MX host" in_err 'verdict=pass'
expect "one MX query for viamx.example.net (the program's), got $(mx_queries viamx.example.net)" \
    [ "$(mx_queries viamx.example.net)" = 1 ]
expect "no resolver thread: the program's answer left no question (threads: $threads)" \
    [ "$threads" = 1 ]
expect "no PTR asked for an MX match" [ "$(ptr_queries 32)" = 0 ]
client "${shim[@]}" -- viamx.example.net mx-again
expect "MX match delivered again" [ "$delivered" = 1 ]
expect "again no thread (threads: $threads)" [ "$threads" = 1 ]
expect "still no MX query of mxverify's" [ "$(mx_queries viamx.example.net)" = 2 ]

# --- the PTR evidence is mxverify's own, and shared ---
client "${shim[@]}" -- viaptr.example.org ptr-warm
expect "PTR match delivered from the shared file" [ "$delivered" = 1 ]
expect "no thread for a PTR decision the shared file answers (threads: $threads)" [ "$threads" = 1 ]
expect "the PTR still asked once" [ "$(ptr_queries 33)" = 1 ]

# --- a program with a name server of its own gives no evidence ---
client -- victim.example.org forged-plain --own-ns "$evil_addr"
expect "without mxverify the forged MX delivers (the test's premise)" [ "$delivered" = 1 ]
client "${shim[@]}" -- victim.example.org forged --own-ns "$evil_addr"
expect "forged MX from the program's own name server refused" [ "$delivered" = 0 ]
expect "refused as a name mismatch" in_err 'reason=certificate-host-mismatch'
expect "mxverify asked the system resolver itself" [ "$(mx_queries victim.example.org)" = 1 ]
finish
