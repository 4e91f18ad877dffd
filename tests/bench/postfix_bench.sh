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
# of the Postfix processes (MXV_BENCH_RAM=1: the instance and the sinks'
# spool on a RAM file system, as bench_ram in postfix_bench_lib.sh says).
# MXV_BENCH_ROUNDS rounds (default 4) alternate
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
. "$SRCDIR/tests/bench/postfix_bench_lib.sh"
configs=(${MXV_BENCH_CONFIGS:-plain shim hosted private})
bench_check_configs postfix_bench plain shim hosted private
bench_ram
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
/usr/bin/python3 "$SRCDIR/tests/integration/smtp_sink.py" "$spool" "$work/sink.port" \
    --port 25 --lifetime 1800 "${sinks[@]}" &
cleanup_hooks+=("kill $! 2>/dev/null")
bench_reference $!
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done

cleanup_hooks+=("pf_stop $pf")
bench_acct
bench_messages "$domains"

# The shared answers (hosted) on the disk, not in the instance's RAM file
# system: mxverify writes that file. Made afresh for each run.
cache_dir=$work/mxverify-cache
bench_hook() {
    [ "$1" = start ] || return 0
    rm -rf "$cache_dir"
    mkdir -p "$cache_dir"
    chown postfix "$cache_dir"
}

# run_config NAME: one run of that configuration.
base="MXVERIFY_UNBOUND_CONF=$work/dns.conf MXVERIFY_CAFILE=$certs/ca.pem MXVERIFY_LOG=none"
run_config() {
    case $1 in
    plain) bench_run plain ;;
    shim) bench_run shim "LD_PRELOAD=$SHIM" $base ;;
    # As examples/postfix recommends: answers shared by the smtp processes.
    hosted) bench_run hosted "LD_PRELOAD=$SHIM" $base MXVERIFY_MODE=required-verify-hosted \
        "MXVERIFY_DNS_CACHE=$cache_dir/mxverify-dns.cache" ;;
    # Each smtp process with its own resolver, no shared answers.
    private) bench_run private "LD_PRELOAD=$SHIM" $base MXVERIFY_MODE=required-verify-hosted ;;
    esac
}

rounds=${MXV_BENCH_ROUNDS:-4}
echo "== Postfix $(postconf -d -h mail_version): $total messages to $domains domains, TLS level may, $rounds rounds"
bench_rounds "$rounds" "${configs[@]}"
bench_summary "target: throughput >= 0.95" "${configs[@]}"
