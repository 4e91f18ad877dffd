#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real Postfix from Debian with the preload shim, in a world of its own: a
# network and mount namespace (loopback only), /etc/resolv.conf pointing at
# an `unbound` daemon this test starts, SMTP sinks on port 25 of loopback
# addresses, and a Postfix instance with its own configuration and queue
# directories that relays by its own DNS MX lookups, TLS level `may`, the
# shim and MXVERIFY_* given through import_environment. No MXVERIFY_DOMAIN:
# the recipient domain and MX host come from Postfix's own lookups.
#
# Checked, under required-verify-hosted:
# - domains whose servers' certificates match by domain, by MX host name
#   and by forward-confirmed PTR name receive their mail, over TLS;
# - a server whose certificate matches nothing: the mail is deferred, not
#   bounced, with mxverify's reason in its log and Postfix's reason in the
#   queue; retried (`postqueue -f`), Postfix falls back to clear text and
#   the shim ends that connection at MAIL FROM; once the server presents an
#   acceptable certificate, `postqueue -f` delivers it, once;
# - a server without STARTTLS: deferred, never delivered in clear;
# - a domain without MX records (its own mail host), a second MX when the
#   first does not answer, and a destination with a mode of its own in
#   mxverify's config file;
# - every message sent to a deliverable domain arrives exactly once.
# PF_DNS_LEVEL=dnssec runs it with smtp_dns_support_level = dnssec.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_POSTFIX_NS:-}" != 1 ]; then
    need_postfix
    need_tools unbound
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    in_namespaces MXV_POSTFIX_NS
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
ip link set lo up
# PF_WORLD=testnet: the servers on 192.0.2.0/24 (TEST-NET-1, a reverse zone
# libunbound would answer NXDOMAIN for by itself), and mxverify on its
# default DNS set-up with the default dnssec = prefer: the system resolver
# of resolv.conf and the root trust anchor, bind-mounted here with a key of
# the test's own, which the resolver's unsigned answers cannot satisfy (as
# behind a resolver that strips DNSSEC).
NET=127.0.0
unbound_env="MXVERIFY_UNBOUND_CONF=$work/dns.conf"
if [ "${PF_WORLD:-}" = testnet ]; then
    need_root_anchor_tools
    NET=192.0.2
    ip route add local 192.0.2.0/24 dev lo
    foreign_root_anchor
    unbound_env=
fi
# Postfix's daemons run as the postfix user: they must reach their queue,
# the certificates and the DNS config below $work.
chmod 755 "$work"

# --- DNS: what Postfix (resolv.conf) and mxverify (libunbound) both ask ---
# example.com          domain match    MX mail.example.com        $NET.31 cert example (SAN example.com)
# viamx.example.net    MX match        MX mx01.subd.emailhosted.not $NET.32 cert mx01
# viaptr.example.org   PTR match       MX mx02/mx03.subd.emailhosted.not $NET.33/.36 cert
#                                      *.emailhosted.not, PTR mx0a/mx0b (forward-confirmed)
# later.example.net    no match, then  MX mx6.emailhosted.not     $NET.34 cert example, later mx6
#                      MX match        (PTR not forward-confirmed)
# clear.example.com    no STARTTLS     MX mail.clear.example.com  $NET.35
# nomx.example.org     PTR match       no MX: its own A record    $NET.37 cert *.emailhosted.not,
#                                      PTR mx0c (forward-confirmed)
# backup.example.org   PTR match       MX 10 mx04 $NET.38 (nothing listens), MX 20 mx03 $NET.36
# relaxed.example.net  its own mode,   MX mx.relaxed.example.net  $NET.39 cert of an unknown CA
#                      preferred-verify
mkdir -p "$work/dns"
cat > "$work/dns/world.conf" <<CONF
server:
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "2.0.192.in-addr.arpa." nodefault
    local-zone: "." static
    local-data: ". 300 IN NS ns.root."
    local-zone: "example.com." static
    local-zone: "example.net." static
    local-zone: "example.org." static
    local-zone: "emailhosted.not." static
    local-data: "example.com. 300 IN MX 10 mail.example.com."
    local-data: "mail.example.com. 300 IN A $NET.31"
    local-data-ptr: "$NET.31 300 mail.example.com."
    local-data: "viamx.example.net. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A $NET.32"
    local-data: "viaptr.example.org. 300 IN MX 10 mx02.subd.emailhosted.not."
    local-data: "viaptr.example.org. 300 IN MX 20 mx03.subd.emailhosted.not."
    local-data: "mx02.subd.emailhosted.not. 300 IN A $NET.33"
    local-data: "mx03.subd.emailhosted.not. 300 IN A $NET.36"
    local-data-ptr: "$NET.33 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A $NET.33"
    local-data-ptr: "$NET.36 300 mx0b.emailhosted.not."
    local-data: "mx0b.emailhosted.not. 300 IN A $NET.36"
    local-data: "later.example.net. 300 IN MX 10 mx6.emailhosted.not."
    local-data: "mx6.emailhosted.not. 300 IN A $NET.34"
    local-data-ptr: "$NET.34 300 mx0x.emailhosted.not."
    local-data: "mx0x.emailhosted.not. 300 IN A $NET.99"
    local-data: "clear.example.com. 300 IN MX 10 mail.clear.example.com."
    local-data: "mail.clear.example.com. 300 IN A $NET.35"
    local-data: "nomx.example.org. 300 IN A $NET.37"
    local-data-ptr: "$NET.37 300 mx0c.emailhosted.not."
    local-data: "mx0c.emailhosted.not. 300 IN A $NET.37"
    local-data: "backup.example.org. 300 IN MX 10 mx04.subd.emailhosted.not."
    local-data: "backup.example.org. 300 IN MX 20 mx03.subd.emailhosted.not."
    local-data: "mx04.subd.emailhosted.not. 300 IN A $NET.38"
    local-data: "relaxed.example.net. 300 IN MX 10 mx.relaxed.example.net."
    local-data: "mx.relaxed.example.net. 300 IN A $NET.39"
CONF
pf_dns "$work/dns" "$work/dns/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }

# --- SMTP sinks on port 25; $NET.34 in a process of its own, restarted later ---
pair() { echo "$certs/$1.pem,$certs/$1.key"; }
# start_sink NAME ADDR=SPEC...: a sink process; its pid in sink_pid[NAME].
declare -A sink_pid
start_sink() {
    local name=$1; shift
    rm -f "$work/$name.port"
    "$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/$name.port" --port 25 \
        --lifetime 600 "$@" 2>> "$work/sink.err" &
    sink_pid[$name]=$!
    cleanup_hooks+=("kill ${sink_pid[$name]} 2>/dev/null")
    for _ in $(seq 100); do [ -s "$work/$name.port" ] && return 0; sleep 0.1; done
    echo "FAIL: SMTP sink $name did not start" >&2
    cat "$work/sink.err" >&2
    exit 1
}
stop_sink() {
    kill "${sink_pid[$1]}" 2>/dev/null || true
    wait "${sink_pid[$1]}" 2>/dev/null || true
}
# Most servers send an intermediate with their certificate, as real ones
# do: a resumed session must be decided as its full handshake was, though
# Postfix's session cache keeps the leaf alone.
start_sink steady $NET.31="$(pair via-intermediate)" $NET.32="$(pair mx01)" \
    $NET.33="$(pair emailhosted-via-intermediate)" $NET.36="$(pair emailhosted-via-intermediate)" \
    $NET.35=none $NET.37="$(pair emailhosted-via-intermediate)" $NET.39="$(pair unknown-ca)"
start_sink later $NET.34="$(pair example)"

# --- the Postfix instance ---
pf=$work/postfix
mkdir -p "$pf"
mxlog=$pf/mxverify.log
: > "$mxlog"
chown postfix "$mxlog"
# The recipe of examples/postfix/README.md: the shim and mxverify's
# settings reach the smtp processes through import_environment (Postfix
# starts its daemons with a clean environment). The mode is in the config
# file, so that a destination can have its own (an MXVERIFY_MODE variable
# would override every destination's); the machine-wide keys come as
# variables, to show both ways.
cat > "$pf/mxverify.conf" <<CONF
mode = required-verify-hosted
destinations = destinations
[destinations]
relaxed.example.net = relaxed
[relaxed]
mode = preferred-verify
CONF
{
    pf_main_cf
    cat <<CONF
inet_protocols = all
smtp_tls_security_level = may
smtp_tls_CAfile = $certs/ca.pem
smtp_tls_loglevel = 1
# Debian's main.cf keeps TLS sessions: later deliveries resume them.
smtp_tls_session_cache_database = btree:\${data_directory}/smtp_scache
smtp_dns_support_level = ${PF_DNS_LEVEL:-}
smtp_connect_timeout = 10s
# No automatic retries during the test (postqueue -f retries), but mail
# queued for 2 s is "old": at level may, Postfix then retries a failed
# handshake in clear (PREACTIVE_DELAY >= minimal_backoff_time).
queue_run_delay = 300s
minimal_backoff_time = 2s
maximal_backoff_time = 600s
mxverify_environment = LD_PRELOAD=$SHIM MXVERIFY_CONF=$pf/mxverify.conf
    $unbound_env MXVERIFY_CAFILE=$certs/ca.pem
    MXVERIFY_LOG=file:$mxlog MXVERIFY_DNS_TIMEOUT=5
    MXVERIFY_DNS_CACHE=$pf/data/mxverify-dns.cache
CONF
} | pf_new "$pf"
pf_start
echo "Postfix $(postconf -d -h mail_version) running in $pf"

deadline=$(($(date +%s) + 200))

good=(example.com viamx.example.net viaptr.example.org nomx.example.org backup.example.org
      relaxed.example.net)
sent=()
for round in 1 2 3; do
    for d in "${good[@]}" later.example.net clear.example.com; do
        send "$d" "r$round-$d"
        [ "$d" = clear.example.com ] || sent+=("r$round-$d")
    done
done
good_markers=()
for round in 1 2 3; do for d in "${good[@]}"; do good_markers+=("r$round-$d"); done; done

# Verified destinations: delivered, over TLS.
check "mail to the verified domains arrived within 60 s" wait_until 60 all_arrived "${good_markers[@]}"
for m in "${good_markers[@]}"; do
    check "$m delivered over TLS" [ "$(delivered "$m")" = tls ]
done
# Again, after Postfix closed its cached connections: new connections
# resume the sessions its TLS session cache kept (decided again, with the
# chain's verdict the full handshakes stored in them).
sleep 3
for round in 4 5; do
    for d in "${good[@]}"; do
        send "$d" "r$round-$d"
        sent+=("r$round-$d")
        good_markers+=("r$round-$d")
    done
done
check "repeat mail to the verified domains arrived within 60 s" wait_until 60 all_arrived "${good_markers[@]}"
for m in "${good_markers[@]}"; do
    check "$m delivered over TLS" [ "$(delivered "$m")" = tls ]
done
check "resumed sessions were decided again and passed" grep -q 'verdict=pass .*resumed=1' "$mxlog"
check "no resumed session was refused" bash -c "! grep -q 'action=abort.*resumed=1' '$mxlog'"

# A certificate that matches nothing, and no STARTTLS: deferred.
check "the queue settled within 60 s (deferred mail only)" wait_until 60 only_deferred_left
check "later.example.net: 3 messages deferred" [ "$(deferred_count later.example.net)" = 3 ]
check "clear.example.com: 3 messages deferred" [ "$(deferred_count clear.example.com)" = 3 ]
for round in 1 2 3; do
    check "r$round-later.example.net not delivered" [ "$(delivered "r$round-later.example.net")" = none ]
    check "r$round-clear.example.com not delivered" [ "$(delivered "r$round-clear.example.com")" = none ]
done

# Why, in mxverify's log: the context came from Postfix's own DNS lookups.
hosted='verdict=pass mode=required-verify-hosted'
check "domain match logged" logged "$hosted domain=example.com ip=$NET.31 match=dns:example.com~domain:example.com chain=ok action=proceed"
check "MX match logged" logged "$hosted domain=viamx.example.net ip=$NET.32 match=dns:mx01.subd.emailhosted.not~mx:mx01.subd.emailhosted.not chain=ok action=proceed"
check "PTR match logged" logged "$hosted domain=viaptr.example.org ip=$NET.33 match=dns:*.emailhosted.not~ptr:mx0a.emailhosted.not chain=ok action=proceed"
check "PTR match without MX logged" logged "$hosted domain=nomx.example.org ip=$NET.37 match=dns:*.emailhosted.not~ptr:mx0c.emailhosted.not chain=ok action=proceed"
check "second MX's PTR match logged" logged "$hosted domain=backup.example.org ip=$NET.36 match=dns:*.emailhosted.not~ptr:mx0b.emailhosted.not chain=ok action=proceed"
check "mismatch logged" logged "verdict=fail mode=required-verify-hosted domain=later.example.net ip=$NET.34 match=none chain=ok action=abort reason=certificate-host-mismatch"
check "clear text refusal logged" logged "verdict=fail mode=required-verify-hosted domain=clear.example.com ip=$NET.35 match=none"
check "clear text refusal reason" grep -q 'domain=clear.example.com.*reason=starttls-not-supported' "$mxlog"
check "clear text refusal says why" grep -q 'domain=clear.example.com.* why="\\"MAIL FROM:<sender@sender.test>.* in clear refused: no TLS on this connection yet' "$mxlog"
check "the relaxed destination's own mode" grep -q "verdict=fail mode=preferred-verify domain=relaxed.example.net ip=$NET.39 .*action=proceed" "$mxlog"
check "no decision without a domain" bash -c "! grep -q 'domain=- ' '$mxlog'"
if [ "${PF_WORLD:-}" = testnet ]; then
    check "the resolver path without DNSSEC was noticed" logged "carries no DNSSEC"
    check "no answer was discarded as bogus" bash -c "! grep -q 'bogus' '$mxlog'"
fi
# examples/postfix's dns_cache: the smtp processes (user postfix) share
# answers through a file of their own that nobody else may write.
check "the shared DNS answer file belongs to postfix, mode 600" \
    [ "$(stat -c '%U %a' "$pf/data/mxverify-dns.cache" 2>/dev/null)" = "postfix 600" ]
# (The forward confirmation of a PTR name: always mxverify's own lookup,
# where the MX records may be Postfix's own answers, policy.md section 4.)
check "the shared DNS answer file holds the destinations' answers" \
    grep -q 'mx0a.emailhosted.not' "$pf/data/mxverify-dns.cache"
check "no process refused the shared DNS answer file" bash -c "! grep -q 'dns_cache' '$mxlog'"
# ... and Postfix's reasons, in its queue.
postqueue -c "$pf/etc" -p > "$work/postqueue-p" 2>&1
check "postqueue -p: the handshake failure" grep -q '(Cannot start TLS: handshake failure)' "$work/postqueue-p"
check "postqueue -p: the connection ended at MAIL FROM" grep -q "(lost connection with mail.clear.example.com\\[$NET.35\\] while sending MAIL FROM)" "$work/postqueue-p"
check "nothing bounced" bash -c "! grep -q 'status=bounced' '$pf/maillog'"
[ "$failures" -eq 0 ] || show_logs

# A retry of mail queued for longer than minimal_backoff_time: after the
# failed handshake Postfix tries again in clear, on a new connection; the
# shim ends it at MAIL FROM, so it stays deferred.
later_reasons() { queue | grep '^deferred user@later.example.net ' | cut -d' ' -f3- | sort -u; }
fell_back() {
    [ "$(later_reasons)" = "lost connection with mx6.emailhosted.not[$NET.34] while sending MAIL FROM" ]
}
sleep 2
postqueue -c "$pf/etc" -f
check "later.example.net: retried in clear, ended at MAIL FROM, within 60 s" wait_until 60 fell_back
check "the queue settled again within 60 s" wait_until 60 only_deferred_left
check "later.example.net: 3 messages still deferred" [ "$(deferred_count later.example.net)" = 3 ]
# The retry counts as the certificate's refusal (the server did offer TLS).
check "clear text refusal on the server with STARTTLS logged" grep -q "verdict=fail mode=required-verify-hosted domain=later.example.net ip=$NET.34 .*action=abort reason=certificate-host-mismatch" "$mxlog"
check "the clear-text retry is explained by the refused certificate" grep -Eq "domain=later.example.net ip=$NET.34 .*reason=certificate-host-mismatch .*why=\"clear-text retry refused: this server.s certificate was refused [0-9]+s ago \\(certificate-host-mismatch\\)\"" "$mxlog"
check "nothing reached later.example.net's server" [ ! -e "$work/spool/$NET.34" ]
[ "$failures" -eq 0 ] || show_logs

# The server of later.example.net now presents an acceptable certificate
# (MX host name): a queue flush delivers what was deferred.
stop_sink later
start_sink later $NET.34="$(pair mx6)"
postqueue -c "$pf/etc" -f
later_markers=(r1-later.example.net r2-later.example.net r3-later.example.net)
check "deferred mail delivered within 60 s of the flush" wait_until 60 all_arrived "${later_markers[@]}"
for m in "${later_markers[@]}"; do
    check "$m delivered over TLS" [ "$(delivered "$m")" = tls ]
done
check "the fixed server's MX match logged" logged "$hosted domain=later.example.net ip=$NET.34 match=dns:mx6.emailhosted.not~mx:mx6.emailhosted.not chain=ok action=proceed"
check "the queue settled again within 60 s" wait_until 60 only_deferred_left
check "later.example.net: nothing left in the queue" [ "$(deferred_count later.example.net)" = 0 ]
check "clear.example.com: still deferred after the flush" [ "$(deferred_count clear.example.com)" = 3 ]

# Every message sent to a deliverable destination arrived, exactly once;
# nothing crossed in clear.
for m in "${sent[@]}"; do
    check "$m received exactly once" [ "$(copies "$m")" = 1 ]
done
received=$(find "$work/spool" -name '*.eml' | wc -l)
check "sent ${#sent[@]}, received $received" [ "$received" = "${#sent[@]}" ]
check "nothing reached the server without STARTTLS" [ ! -e "$work/spool/$NET.35" ]
check "nothing arrived in clear" bash -c "! grep -rlq '^X-Sink-TLS: no' '$work/spool'"
check "nothing bounced" bash -c "! grep -q 'status=bounced' '$pf/maillog'"
[ "$failures" -eq 0 ] || show_logs
finish
