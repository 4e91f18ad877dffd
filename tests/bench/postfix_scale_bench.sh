#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# postfix_scale_bench.sh: what mxverify costs real Postfix when the mail
# goes to many destinations (issue 17). MXV_BENCH_MESSAGES messages
# (default 2,000) to N recipient domains, for each N in MXV_BENCH_DOMAINS
# (default "10 1000 5000"): message i to dK.example.net, K = i % N.
#
# Every domain has its own MX host, address (10.1.A.B, one SMTP sink
# listening on 0.0.0.0:25 with the certificate *.emailhosted.not) and PTR,
# served by unbound (static local data, TTL 3600, so later rounds find the
# answers still valid). Not loopback addresses: on the system resolver
# mxverify's libunbound answers 127.in-addr.arpa itself (no PTR names),
# while it asks the resolver for the private ranges' reverse zones; so
# 10.0.0.0/8 is routed to loopback here, as postfix.sh's testnet world
# does with 192.0.2.0/24.
#   K even  dK.example.net MX 10 mxK.emailhosted.not: matched by MX name
#           (the PTR of its address names the MX host again)
#   K odd   dK.example.net MX 10 mxK.subd.emailhosted.not, which the
#           wildcard does not match: matched by the forward-confirmed PTR
#           name mx0K.emailhosted.not
# mxverify as examples/postfix recommends, on this machine's own DNS set-up
# (as tests/integration/postfix.sh's PF_WORLD=testnet): the system resolver
# of resolv.conf (the test unbound; no MXVERIFY_UNBOUND_CONF), the default
# dnssec = prefer with a root trust anchor of the bench's own bind-mounted
# over /usr/share/dns/root.key, which the resolver's unsigned answers
# cannot satisfy (mxverify finds the path "carries no DNSSEC" and takes the
# answers as insecure), MXVERIFY_MODE=required-verify-hosted, and
# MXVERIFY_DNS_CACHE on a file that the runs of one N share (made afresh
# for each N, so the first mxverify run of each N starts cold). Postfix:
# its defaults (up to 100 smtp processes) but TLS level may, the test CA,
# no TLS session cache, smtp_dns_support_level = dnssec (allowed: Postfix's
# own lookups ask with the DO bit; the resolver validates nothing, so each
# smtp process's dnssec_probe, a root NS query, finds no AD bit, logs
# "DNSSEC validation may be unavailable" and goes on). MXV_BENCH_RAM=1
# puts the instance (its queue) and the sink's spool on a RAM file system,
# less noisy and stricter (bench_ram in postfix_bench_lib.sh).
#
# Configurations, each run on the same queue: plain (Postfix alone) and
# mxverify; shim (the shim loaded with mode none: connections followed,
# nothing decided), empty (EMPTY_PRELOAD, a library that hooks nothing,
# preloaded: what LD_PRELOAD alone costs) and again (plain once more: the bench's own noise)
# when MXV_BENCH_CONFIGS names them. MXV_BENCH_ROUNDS
# rounds (default 5) alternate the order. For each N it prints every run
# (messages per second, smtp processes, deliveries over a connection
# Postfix kept open, CPU seconds of the Postfix processes from a control
# group of their own and of the SMTP sink, DNS queries unbound received),
# the medians of the per-round throughput and CPU ratios to plain (each
# with a 95 % interval for the median, from the rounds' spread: where it
# straddles a target, the rounds did not decide it; more rounds narrow
# it), the
# CPU ratio per sink CPU (the sink does the same work in every run, so its
# CPU measures the machine's speed during each: a ratio from which that
# speed cancels out, beside the one the targets are read from),
# mxverify's own DNS queries per message (queries
# in the mxverify run minus those in the plain run of the same round, per
# message; unbound counts the queries it receives, answered from its
# cache or not): in the first round (a cold shared file) and the median of
# the later ones (warm), and the size of the shared file (bytes long,
# bytes allocated on disk). Targets: throughput >= 0.95, CPU <= 1.05,
# warm queries per message <= 0.1. Asserts nothing.
#
# MXV_BENCH_CONFIGS: the configurations, in the first round's order,
# separated by spaces (default "plain mxverify"; ratios need plain, and
# the final summary table is mxverify's: other configurations have their
# medians in each N's lines). "mxverify" alone runs only that
# configuration (for a profiler run beside it; no ratios then). A name not
# among plain, again, empty, shim and mxverify stops the bench (exit 2).
# MXV_BENCH_PROFILE and MXV_BENCH_PERF_STAT count instructions, system
# calls and page faults, which repeat where seconds on this VM do not
# (tests/bench/postfix_bench_lib.sh); e.g. MXV_BENCH_PROFILE=callgrind
# MXV_BENCH_MESSAGES=400 MXV_BENCH_DOMAINS=200 MXV_BENCH_ROUNDS=2 compares
# the instructions of the smtp processes. MXV_BENCH_LOG=FILE keeps
# mxverify's decisions in FILE (a debugging run:
# for each N the counts by kind of match are printed; seen to add DNS
# queries of mxverify's own, so take the figures from a run without it)
# and implies MXV_BENCH_QUERIES=1: unbound logs every query, and for each
# N the queries of the last round's runs are printed by kind, mxverify's
# minus plain's. MXV_BENCH_WAIT: seconds a run may take at most (default
# 600). Root, Postfix, unbound (with unbound-control), ldns-keygen,
# dns-root-data and python3 needed (else it says skipped). Not run by
# CTest but by the bench target.
#
#   cd build && MAKE_CERTS=$PWD/tests/integration/make_test_certs \
#       SHIM=$PWD/libmxverify-preload.so MXVERIFY=$PWD/mxverify SRCDIR=.. \
#       bash ../tests/bench/postfix_scale_bench.sh
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${SHIM:?}" "${MAKE_CERTS:?}" "${SRCDIR:?}"
export MXVERIFY=${MXVERIFY:-mxverify}
if [ "${MXV_POSTFIX_NS:-}" != 1 ]; then
    skip() { echo "postfix_scale_bench: skipped: $*"; exit 0; }
    for tool in postfix postconf sendmail unshare ip unbound unbound-control ldns-keygen; do
        command -v $tool >/dev/null || skip "$tool not installed"
    done
    [ -f /usr/share/dns/root.key ] || skip "dns-root-data (/usr/share/dns/root.key) not installed"
    [ -x /usr/bin/python3 ] || skip "Debian's python3 needed"
    getent passwd postfix >/dev/null || skip "no postfix user"
    ! ldd "$SHIM" 2>/dev/null | grep -q libasan || skip "ASan build (Postfix cannot preload it)"
    unshare --net --mount true 2>/dev/null || skip "root needed (network namespace)"
    exec unshare --net --mount -- env MXV_POSTFIX_NS=1 bash "$0" "$@"
fi
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/postfix_lib.sh"
. "$SRCDIR/tests/bench/postfix_bench_lib.sh"
configs=(${MXV_BENCH_CONFIGS:-plain mxverify})
bench_check_configs postfix_scale_bench plain again empty shim mxverify
case " ${configs[*]} " in *" empty "*) : "${EMPTY_PRELOAD:?empty needs EMPTY_PRELOAD}" ;; esac
bench_ram
total=${MXV_BENCH_MESSAGES:-2000}
read -r -a domain_counts <<< "${MXV_BENCH_DOMAINS:-10 1000 5000}"
rounds=${MXV_BENCH_ROUNDS:-5}
bench_wait=${MXV_BENCH_WAIT:-600}
max=0
for n in "${domain_counts[@]}"; do
    if [ "$n" -gt "$max" ]; then max=$n; fi
done
ip link set lo up
ip route add local 10.0.0.0/8 dev lo
chmod 755 "$work"

# The root trust anchor mxverify reads by default: a key of the bench's
# own, which no answer of this resolver is signed with.
foreign_root_anchor

# DNS for the largest N (the smaller ones use its first domains); the root
# zone is local too (unbound would otherwise ask the Internet for the root
# records mxverify's DNSSEC probe and Postfix's ask for). Remote control
# on a socket, for the query counts.
mkdir -p "$work/dns"
query_log=${MXV_BENCH_QUERIES:-}
[ -z "${MXV_BENCH_LOG:-}" ] || query_log=1
awk -v n="$max" -v sock="$work/dns/control.sock" -v debug="$query_log" 'BEGIN {
    print "server:"
    print "    extended-statistics: yes"
    if (debug) print "    log-queries: yes"
    print "    local-zone: \"10.in-addr.arpa.\" nodefault"
    print "    local-zone: \".\" static"
    print "    local-data: \". 3600 IN NS ns.root.\""
    print "    local-zone: \"example.net.\" static"
    print "    local-zone: \"emailhosted.not.\" static"
    for (k = 0; k < n; k++) {
        a = sprintf("10.1.%d.%d", int(k / 250), k % 250 + 1)
        if (k % 2 == 0) { mx = "mx" k ".emailhosted.not."; ptr = mx }
        else { mx = "mx" k ".subd.emailhosted.not."; ptr = "mx0" k ".emailhosted.not." }
        printf "    local-data: \"d%d.example.net. 3600 IN MX 10 %s\"\n", k, mx
        printf "    local-data: \"%s 3600 IN A %s\"\n", mx, a
        printf "    local-data-ptr: \"%s 3600 %s\"\n", a, ptr
        if (k % 2) printf "    local-data: \"%s 3600 IN A %s\"\n", ptr, a
    }
    print "remote-control:"
    print "    control-enable: yes"
    printf "    control-interface: \"%s\"\n", sock
    print "    control-use-cert: no"
}' > "$work/dns/world.conf"
pf_dns "$work/dns" "$work/dns/world.conf" || { echo "postfix_scale_bench: unbound did not start"; exit 1; }
# dns_queries: the queries unbound has received so far (empty if unknown).
dns_queries() {
    unbound-control -c "$work/dns/unbound.conf" stats_noreset 2>/dev/null |
        awk -F= '$1 == "total.num.queries" { print $2 }'
}
[ -n "$(dns_queries)" ] || echo "postfix_scale_bench: unbound-control gives no statistics: no query counts"

/usr/bin/python3 "$SRCDIR/tests/integration/smtp_sink.py" "$spool" "$work/sink.port" \
    --port 25 --lifetime 86400 "0.0.0.0=$certs/emailhosted.pem,$certs/emailhosted.key" 2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
bench_reference $!
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "postfix_scale_bench: the SMTP sink did not start:"; cat "$work/sink.err"; exit 1; }

cleanup_hooks+=("pf_stop $pf")
bench_acct
bench_main_cf_extra() { echo "smtp_dns_support_level = dnssec"; }

# The shared DNS answer file: outside the instance (made afresh for each
# run), in a directory of the postfix user's, which the smtp processes
# create it in.
cache_dir=$work/mxverify-cache
cache=$cache_dir/mxverify-dns.cache
mxv_log=none
if [ -n "${MXV_BENCH_LOG:-}" ]; then
    touch "$MXV_BENCH_LOG" && chown postfix "$MXV_BENCH_LOG"
    mxv_log=file:$MXV_BENCH_LOG
fi
run_config() {
    case $1 in
    plain) bench_run plain ;;
    # Plain Postfix once more, under another name: the ratios of identical
    # runs, which show what the bench itself can tell apart.
    again) bench_run again ;;
    # The shim with mode none: connections followed, the engine loaded,
    # nothing decided.
    shim) bench_run shim "LD_PRELOAD=$SHIM" MXVERIFY_MODE=none MXVERIFY_LOG=none ;;
    # A preloaded library that hooks nothing: what LD_PRELOAD alone costs.
    empty) bench_run empty "LD_PRELOAD=$EMPTY_PRELOAD" ;;
    mxverify) bench_run mxverify "LD_PRELOAD=$SHIM" "MXVERIFY_CAFILE=$certs/ca.pem" \
        MXVERIFY_MODE=required-verify-hosted "MXVERIFY_DNS_CACHE=$cache" "MXVERIFY_LOG=$mxv_log" ;;
    esac
}

# The queries of each run, by configuration.
declare -A queries
q_start=
bench_hook() {
    case $1 in
    start)
        q_start=$(dns_queries)
        ulog_from=$(($(wc -l < "$work/dns/unbound.log") + 1))
        ;;
    end)
        local q_end
        q_end=$(dns_queries)
        tail -n "+$ulog_from" "$work/dns/unbound.log" > "$work/queries.$2"
        queries[$2]=
        if [ -n "$q_start" ] && [ -n "$q_end" ]; then queries[$2]=$((q_end - q_start)); fi
        bench_note=", ${queries[$2]:-?} DNS queries"
        ;;
    esac
}
# mxverify's own queries per message in each round: the first cold, the
# later ones warm.
own_cold='' own_warm=''
bench_round_done() {
    local own="?"
    if [ "${complete[plain]:-}${complete[mxverify]:-}" = 11 ] && [ -n "${queries[plain]:-}" ] &&
        [ -n "${queries[mxverify]:-}" ]; then
        own=$(awk -v m="${queries[mxverify]}" -v p="${queries[plain]}" -v n="$total" \
            'BEGIN { printf "%.3f", (m - p) / n }')
    fi
    echo "  round $1: mxverify's own DNS queries per message: $own"
    if [ "$1" = 1 ]; then
        own_cold=$own
    elif [ "$own" != "?" ]; then
        own_warm+=" $own"
    fi
}

summary=()
echo "== Postfix $(postconf -d -h mail_version): $total messages to N domains, TLS level may," \
    "smtp_dns_support_level = dnssec, $rounds rounds; mxverify required-verify-hosted, system resolver," \
    "dnssec = prefer, MXVERIFY_DNS_CACHE"
for n in "${domain_counts[@]}"; do
    rm -rf "$cache_dir"
    mkdir -p "$cache_dir"
    chown postfix "$cache_dir"
    log_from=1
    [ -n "${MXV_BENCH_LOG:-}" ] && log_from=$(($(wc -l < "$MXV_BENCH_LOG") + 1))
    t=$(date +%s)
    bench_messages "$n"
    echo "== N = $n domains ($(( n < total ? n : total )) of them receiving mail; messages queued in $(($(date +%s) - t)) s)"
    own_cold='' own_warm=''
    bench_rounds "$rounds" "${configs[@]}"
    bench_summary "targets: throughput >= 0.95, CPU <= 1.05" "${configs[@]}"
    # shellcheck disable=SC2086
    own_median=$(median $own_warm)
    printf '  mxverify own DNS queries per message: cold (round 1) %s; warm: median %s (rounds:%s) (target: warm <= 0.1)\n' \
        "${own_cold:-?}" "$own_median" "${own_warm:- none}"
    file="no file"
    if [ -f "$cache" ]; then
        read -r size blocks block < <(stat -c '%s %b %B' "$cache")
        file="$size bytes long, $((blocks * block)) bytes allocated"
    fi
    echo "  shared DNS answer file: $file"
    if [ -n "${MXV_BENCH_LOG:-}" ]; then
        tail -n "+$log_from" "$MXV_BENCH_LOG" > "$work/log.n"
        printf '  mxverify log: %s passed by MX name, %s by PTR name, %s other passes, %s failed; notes: %s\n' \
            "$(grep -c 'verdict=pass.*~mx:' "$work/log.n")" "$(grep -c 'verdict=pass.*~ptr:' "$work/log.n")" \
            "$(grep 'verdict=pass' "$work/log.n" | grep -vc '~mx:\|~ptr:')" \
            "$(grep -c 'verdict=fail' "$work/log.n")" \
            "$(grep -v 'verdict=' "$work/log.n" | sed 's/^[^ ]* [^ ]*: //' | cut -c1-100 | sort | uniq -c |
                sort -rn | head -3 | awk '{ $1 = $1 "x"; print }' | paste -sd ';' -)"
    fi
    if [ -n "$query_log" ]; then
        echo "  queries in round $rounds by kind (digits as N): mxverify run - plain run = mxverify's own"
        awk '$3 == "info:" && NF >= 6 { k = $5 " " $6; gsub(/[0-9]+/, "N", k); c[k, FILENAME == ARGV[1]]++; kinds[k] }
            END { for (k in kinds) printf "%7d - %7d = %7d  %s\n", c[k, 1], c[k, 0], c[k, 1] - c[k, 0], k }' \
            "$work/queries.mxverify" "$work/queries.plain" | sort -k5,5nr | head -8 | sed 's/^/   /'
    fi
    # shellcheck disable=SC2086
    summary+=("$(printf '%7s %10s %9s %15s %9s %11s %11s  %s' "$n" "$(median ${ratios[mxverify]:-})" \
        "$(median ${cpu_ratios[mxverify]:-})" "$(median_interval ${cpu_ratios[mxverify]:-})" \
        "$(median ${ref_ratios[mxverify]:-})" "${own_cold:-?}" "$own_median" "$file")")
done
echo "== summary, mxverify against plain Postfix (medians over rounds)"
printf '%7s %10s %9s %15s %9s %11s %11s  %s\n' domains throughput CPU "CPU, 95 %" "CPU/sink" "queries/msg" \
    "queries/msg" "shared DNS answer file"
printf '%7s %10s %9s %15s %9s %11s %11s\n' "" "(>= 0.95)" "(<= 1.05)" "interval" "" "cold" "warm (<= 0.1)"
printf '%s\n' "${summary[@]}"
