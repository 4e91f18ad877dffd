#!/usr/bin/env bash
# postfix_bench.sh: what the preload shim costs real Postfix. 1,000 messages
# to 10 domains (100 each), relayed by Postfix's own MX lookups to SMTP
# sinks on loopback, TLS level may, in the world of
# tests/integration/postfix.sh (network and mount namespace, unbound as the
# resolver). Three runs of the same queue:
#   plain    Postfix alone
#   shim     the shim preloaded, mode none (nothing decided)
#   hosted   the shim, required-verify-hosted (every connection decided;
#            the certificates match by forward-confirmed PTR name, the
#            longest path: MX, PTR and address lookups of mxverify's own)
# Prints the time from `postfix start` (the messages already in the
# maildrop) to the last delivery, messages per second, and the throughput
# ratios over two rounds (plain shim hosted hosted shim plain). Not
# run by CTest but by the bench target; asserts nothing. Root, Postfix,
# unbound and python3 needed (else it says skipped).
#
#   cd build && MAKE_CERTS=$PWD/tests/integration/make_test_certs \
#       SHIM=$PWD/libmxverify-preload.so MXVERIFY=$PWD/mxverify SRCDIR=.. \
#       bash ../tests/bench/postfix_bench.sh [MESSAGES]
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${SHIM:?}" "${MAKE_CERTS:?}" "${SRCDIR:?}"
export MXVERIFY=${MXVERIFY:-mxverify}
if [ "${MXV_POSTFIX_NS:-}" != 1 ]; then
    for tool in postfix postconf sendmail unshare ip unbound; do
        command -v $tool >/dev/null || { echo "postfix_bench: skipped: $tool not installed"; exit 0; }
    done
    unshare --net --mount true 2>/dev/null || { echo "postfix_bench: skipped: root needed (network namespace)"; exit 0; }
    exec unshare --net --mount -- env MXV_POSTFIX_NS=1 bash "$0" "$@"
fi
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/postfix_lib.sh"
total=${1:-1000}
domains=10
ip link set lo up
chmod 755 "$work"

# DNS: dN.example.net MX mxN.subd.emailhosted.not, 127.0.0.(60+N), whose
# PTR name mx0N.emailhosted.not is forward-confirmed.
mkdir -p "$work/dns"
{
    printf 'server:\n    local-zone: "127.in-addr.arpa." nodefault\n'
    printf '    local-zone: "%s" static\n' example.net. emailhosted.not.
    for i in $(seq 0 $((domains - 1))); do
        cat <<CONF
    local-data: "d$i.example.net. 300 IN MX 10 mx$i.subd.emailhosted.not."
    local-data: "mx$i.subd.emailhosted.not. 300 IN A 127.0.0.$((60 + i))"
    local-data-ptr: "127.0.0.$((60 + i)) 300 mx0$i.emailhosted.not."
    local-data: "mx0$i.emailhosted.not. 300 IN A 127.0.0.$((60 + i))"
CONF
    done
} > "$work/dns/world.conf"
pf_dns "$work/dns" "$work/dns/world.conf" || { echo "postfix_bench: unbound did not start"; exit 1; }

sinks=()
for i in $(seq 0 $((domains - 1))); do
    sinks+=("127.0.0.$((60 + i))=$certs/emailhosted.pem,$certs/emailhosted.key")
done
/usr/bin/python3 "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" \
    --port 25 --lifetime 1800 "${sinks[@]}" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done

pf=$work/postfix
cleanup_hooks+=("pf_stop $pf")

declare -A took
# run NAME ENVIRONMENT...: a fresh instance, the messages dropped while it
# is stopped, then the time from start to the last delivery.
run() {
    local name=$1; shift
    pf_stop "$pf"
    rm -rf "$pf" "$work/spool"
    pf_new "$pf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
myhostname = sender.test
mydestination =
inet_interfaces = loopback-only
alias_maps =
alias_database =
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
smtp_tls_security_level = may
smtp_tls_CAfile = $certs/ca.pem
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE
    POSTLOG_HOSTNAME $*
CONF
    postfix -c "$pf/etc" check 2>/dev/null
    local i n=0
    for i in $(seq 1 "$total"); do
        printf 'Subject: m%d\n\nbench\n' "$i" |
            sendmail -C "$pf/etc" -f sender@sender.test "user@d$((i % domains)).example.net" 2>/dev/null
    done
    local t0 t1
    t0=$(date +%s.%N)
    postfix -c "$pf/etc" start 2>/dev/null
    for _ in $(seq 3000); do
        n=$(find "$work/spool" -name '*.eml' 2>/dev/null | wc -l)
        [ "$n" -ge "$total" ] && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    pf_stop "$pf"
    local secs procs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    procs=$(grep -o 'postfix/smtp\[[0-9]*\]' "$pf/maillog" 2>/dev/null | sort -u | wc -l)
    printf '  %-7s %4d of %d delivered in %6s s, %6.1f messages/s, %d smtp processes\n' "$name" \
        "$n" "$total" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')" "$procs"
    took[$name]=$(awk -v a="${took[$name]:-0}" -v b="$secs" 'BEGIN { print a + b }')
}

echo "== Postfix $(postconf -d -h mail_version): $total messages to $domains domains, TLS level may"
base="MXVERIFY_UNBOUND_CONF=$work/dns.conf MXVERIFY_CAFILE=$certs/ca.pem MXVERIFY_LOG=none"
# plain, shim, hosted, then in reverse: a drift in the machine's speed
# during the runs falls on all three alike.
for name in plain shim hosted hosted shim plain; do
    case $name in
    plain) run plain ;;
    shim) run shim "LD_PRELOAD=$SHIM $base" ;;
    hosted) run hosted "LD_PRELOAD=$SHIM $base MXVERIFY_MODE=required-verify-hosted" ;;
    esac
done
awk -v p="${took[plain]}" -v s="${took[shim]}" -v h="${took[hosted]}" 'BEGIN {
    printf "  over both rounds, throughput ratios (target >= 0.95): shim/plain %.3f, hosted/plain %.3f\n",
        p / s, p / h }'
