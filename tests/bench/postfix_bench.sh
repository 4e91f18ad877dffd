#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# postfix_bench.sh: what the preload shim costs real Postfix. 1,000 messages
# to 10 domains (100 each), relayed by Postfix's own MX lookups to SMTP
# sinks on loopback, TLS level may, in the world of
# tests/integration/postfix.sh (network and mount namespace, unbound as the
# resolver). Configurations, each run on the same queue:
#   plain    Postfix alone
#   shim     the shim preloaded, mode none (nothing decided)
#   hosted   the shim, required-verify-hosted (every connection decided;
#            the certificates match by forward-confirmed PTR name, the
#            longest path: MX, PTR and address lookups of mxverify's own),
#            DNS answers shared by the smtp processes (dns_cache) as
#            examples/postfix recommends
#   private  hosted without dns_cache: each smtp process its own resolver
# (MXV_BENCH_CONFIGS="plain hosted" runs only those)
# Each run prints the time from `postfix start` (the messages already in
# the maildrop) to the last delivery, messages per second and the CPU time
# of the Postfix processes. MXV_BENCH_ROUNDS rounds (default 4) alternate
# the order; the summary gives each configuration's throughput and CPU
# relative to plain in the same round, and their medians. Not
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

# CPU time of the Postfix processes, from a control group of their own
# (cgroup v1 cpuacct or v2): wall time on a shared machine drifts by 10 %
# between identical runs, the CPU a run burns much less.
acct=
for base_dir in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/unified /sys/fs/cgroup; do
    if [ -d "$base_dir" ] && mkdir -p "$base_dir/mxv-bench-$$" 2>/dev/null &&
        [ -e "$base_dir/mxv-bench-$$/tasks" ] || [ -e "$base_dir/mxv-bench-$$/cgroup.procs" ]; then
        acct=$base_dir/mxv-bench-$$
        break
    fi
done
# cgroup v2 names its task file cgroup.procs
[ -n "$acct" ] && [ ! -e "$acct/tasks" ] && ln -s cgroup.procs "$acct/tasks" 2>/dev/null
cleanup_hooks+=("rmdir $acct 2>/dev/null")
# cpu_used: CPU seconds the group has used so far (empty when unknown).
cpu_used() {
    if [ -r "$acct/cpuacct.usage" ]; then
        awk '{ printf "%.3f", $1 / 1e9 }' "$acct/cpuacct.usage"
    elif [ -r "$acct/cpu.stat" ]; then
        awk '$1 == "usage_usec" { printf "%.3f", $2 / 1e6 }' "$acct/cpu.stat"
    fi
}

declare -A took cpu complete
# config ENVIRONMENT...: main.cf of the instance, the given variables
# imported by every Postfix daemon.
config() {
    cat <<CONF
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
}

# The messages, dropped once by Postfix's sendmail into a stopped
# instance's maildrop and copied into each run's: a thousand sendmail
# processes per run took longer than the deliveries measured.
pf_stop "$pf"
rm -rf "$pf"
config | pf_new "$pf"
postfix -c "$pf/etc" check 2>/dev/null
for i in $(seq 1 "$total"); do
    printf 'Subject: m%d\n\nbench\n' "$i" |
        sendmail -C "$pf/etc" -f sender@sender.test "user@d$((i % domains)).example.net" 2>/dev/null
done
cp -a "$pf/queue/maildrop" "$work/maildrop"

# run NAME ENVIRONMENT...: a fresh instance with the messages in its
# maildrop, then the time from start to the last delivery.
run() {
    local name=$1; shift
    pf_stop "$pf"
    rm -rf "$pf" "$work/spool"
    config "$@" | pf_new "$pf"
    postfix -c "$pf/etc" check 2>/dev/null
    cp -a "$work/maildrop/." "$pf/queue/maildrop/"
    # postsuper renames the copies (queue file names follow inode numbers)
    # and logs it, as the postfix user, before postlogd runs.
    touch "$pf/maillog" && chown postfix "$pf/maillog"
    local t0 t1 cpu0 cpu1 n=0
    cpu0=$(cpu_used)
    t0=$(date +%s.%N)
    # In the accounting group, so every Postfix process counts (children
    # inherit it); the sinks and unbound stay outside.
    sh -c 'echo $$ > "$1" 2>/dev/null; exec postfix -c "$2" start 2>/dev/null' - "$acct/tasks" "$pf/etc"
    # Counted with a glob, not find | wc: two processes every 0.1 s took
    # a few percent of the CPU the runs compete for.
    # Postfix's verdict on a message it did not deliver ends the wait too.
    local delivered=() tick failed=0
    shopt -s nullglob
    for tick in $(seq 3000); do
        delivered=("$work"/spool/*/*.eml)
        n=${#delivered[@]}
        [ "$n" -ge "$total" ] && break
        if [ $((tick % 10)) = 0 ]; then
            failed=$(grep -c 'status=\(deferred\|bounced\)' "$pf/maillog" 2>/dev/null) || true
            [ $((n + failed)) -ge "$total" ] && break
        fi
        sleep 0.1
    done
    shopt -u nullglob
    t1=$(date +%s.%N)
    cpu1=$(cpu_used)
    pf_stop "$pf"
    local secs procs used
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    procs=$(grep -o 'postfix/smtp\[[0-9]*\]' "$pf/maillog" 2>/dev/null | sort -u | wc -l)
    used=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a; else print "?" }')
    printf '  %-7s %4d of %d delivered in %6s s, %6.1f messages/s, %2d smtp processes, %s s CPU\n' "$name" \
        "$n" "$total" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')" "$procs" "$used"
    took[$name]=$secs
    cpu[$name]=$used
    complete[$name]=1
    if [ "$n" -lt "$total" ]; then
        # Seen once in some hundred runs, before smtp_sink.py passed each
        # connection to its thread instead of capturing the loop variable
        # (Postfix logged a protocol error from the sink): never again, one
        # hopes, but a lost message must not pass for a fast run.
        complete[$name]=0
        echo "  $name: $((total - n)) not delivered, this round is left out:"
        grep 'status=\(deferred\|bounced\)' "$pf/maillog" | sed 's/^/    /' | head -5
    fi
}

# run_config NAME: one run of that configuration.
base="MXVERIFY_UNBOUND_CONF=$work/dns.conf MXVERIFY_CAFILE=$certs/ca.pem MXVERIFY_LOG=none"
run_config() {
    case $1 in
    plain) run plain ;;
    shim) run shim "LD_PRELOAD=$SHIM" $base ;;
    # As examples/postfix recommends: answers shared by the smtp processes.
    hosted) run hosted "LD_PRELOAD=$SHIM" $base MXVERIFY_MODE=required-verify-hosted \
        "MXVERIFY_DNS_CACHE=$pf/data/mxverify-dns.cache" ;;
    # Each smtp process with its own resolver, no shared answers.
    private) run private "LD_PRELOAD=$SHIM" $base MXVERIFY_MODE=required-verify-hosted ;;
    esac
}

# Rounds of every configuration, the order reversed every other round;
# each round gives each configuration's throughput relative to plain in
# that round. This machine's speed changes by 10 to 30 % over minutes, so
# one pair of runs proves little: the median over rounds is the figure.
configs=(${MXV_BENCH_CONFIGS:-plain shim hosted private})
rounds=${MXV_BENCH_ROUNDS:-4}
echo "== Postfix $(postconf -d -h mail_version): $total messages to $domains domains, TLS level may, $rounds rounds"
declare -A ratios cpu_ratios
for round in $(seq 1 "$rounds"); do
    order=("${configs[@]}")
    if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[i]}"); done
    fi
    for name in "${order[@]}"; do run_config "$name"; done
    for name in "${configs[@]}"; do
        [ "$name" = plain ] && continue
        [ "${complete[plain]}${complete[$name]}" = 11 ] || continue
        ratios[$name]+=" $(awk -v p="${took[plain]}" -v x="${took[$name]}" 'BEGIN { printf "%.3f", p / x }')"
        cpu_ratios[$name]+=" $(awk -v p="${cpu[plain]}" -v x="${cpu[$name]}" \
            'BEGIN { if (p + 0 > 0 && x + 0 > 0) printf "%.3f", x / p; else print "?" }')"
    done
done
# median WORDS...: the median of numbers (the mean of the middle two).
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for name in "${configs[@]}"; do
    [ "$name" = plain ] && continue
    # shellcheck disable=SC2086
    printf '  %-7s throughput / plain: median %s (rounds:%s); CPU / plain: median %s (target: throughput >= 0.95)\n' \
        "$name" "$(median ${ratios[$name]})" "${ratios[$name]}" "$(median ${cpu_ratios[$name]})"
done
