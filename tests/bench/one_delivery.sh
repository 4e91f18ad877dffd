# SPDX-License-Identifier: Apache-2.0
# one_delivery.sh: the world of the one-delivery benchmarks (dane_bench.sh,
# sts_bench.sh), sourced after tests/integration/lib.sh in their
# namespace. DNS 50 ms away, one SMTP sink, one delivery timed at a time.

# slow_world NAME HOST CHAIN KEY [FORWARD-LINES...]: unbound serving
# $z/world.conf behind delay_dns.py (every answer 50 ms late), an SMTP sink
# on 127.0.0.61:25 with CHAIN and KEY, /etc/hosts naming HOST 127.0.0.61
# (bind-mounted here), and $work/slow.conf, a libunbound configuration
# forwarding to the slow resolver (FORWARD-LINES added). NAME prefixes
# the messages; exits when something does not start.
slow_world() {
    local name=$1 host=$2 chain=$3 key=$4; shift 4
    start_unbound "$z" "$z/world.conf" || { echo "$name: unbound did not start"; exit 1; }
    /usr/bin/python3 "$SRCDIR/tests/bench/delay_dns.py" 127.0.0.250 0 "$dns_addr" "$dns_port" 50 \
        "$work/delay.port" &
    cleanup_hooks+=("kill $! 2>/dev/null")
    "$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
        127.0.0.61="$chain,$key" 2> "$work/sink.err" &
    cleanup_hooks+=("kill $! 2>/dev/null")
    for _ in $(seq 50); do [ -s "$work/delay.port" ] && [ -s "$work/sink.port" ] && break; sleep 0.1; done
    [ -s "$work/delay.port" ] && [ -s "$work/sink.port" ] || { echo "$name: servers did not start"; exit 1; }
    dns_port=$(cat "$work/delay.port") dns_addr=127.0.0.250
    forward_conf "$work/slow.conf" 'local-zone: "127.in-addr.arpa." nodefault' "$@"
    printf '127.0.0.1 localhost\n127.0.0.61 %s\n' "$host" > "$work/hosts"
    mount --bind "$work/hosts" /etc/hosts
}

now() { date +%s.%N; }

# deliver_ms HOST VAR=VALUE...: the wall time of one delivery to HOST by
# native_client through the shim with those settings, in ms; "failed"
# when it was not delivered. Decisions go to $work/mxverify.log.
deliver_ms() {
    local host=$1 t0 t1 said; shift
    t0=$(now)
    said=$(env LD_PRELOAD="$SHIM" MXVERIFY_MODE=required-verify-hosted MXVERIFY_DOMAIN=example.com \
        MXVERIFY_UNBOUND_CONF="$work/slow.conf" MXVERIFY_CAFILE="$certs/ca.pem" \
        MXVERIFY_LOG=file:"$work/mxverify.log" "$@" "$NATIVE_CLIENT" "$host" 25 "bench-$RANDOM" 2>&1)
    t1=$(now)
    case $said in
    *delivered*) awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }' ;;
    *) echo failed ;;
    esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best() { sort -n | head -1; }
