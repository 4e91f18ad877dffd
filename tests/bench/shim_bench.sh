#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shim_bench.sh: figures for the preload shim and the provider (run by the
# `bench` target; prints, asserts nothing).
#  1. /bin/true started 1,000 times with and without the shim preloaded.
#  2. TLS handshakes per second (openssl s_time against s_server on
#     loopback, warm DNS) with the policy deciding every handshake, through
#     the shim and through the provider, against none.
#  3. A data phase: 256 MiB of TLS application data written by tls_bulk
#     through a guarded connection (required-verify-hosted: every record is
#     copied and judged) against none: the client's CPU time and wall time.
#  4. One delivery with a DNS server 50 ms away: time mxverify adds, for a
#     certificate matching the domain, an MX host, and a PTR name.
set -euo pipefail
: "${MXVERIFY:?}" "${MAKE_CERTS:?}" "${SHIM:?}" "${EMPTY_PRELOAD:?}" "${PROVIDER:?}" "${NATIVE_CLIENT:?}" "${SRCDIR:?}"
: "${TLS_BULK:?}"
work=$(mktemp -d /tmp/mxv-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
"$MAKE_CERTS" "$work" >/dev/null
. "$SRCDIR/tests/integration/openssl_cnf.sh"
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# Alternating batches, so that drift in the machine's load falls on all.
batches() { # N_BATCHES BATCH CMD...: prints the total seconds of each CMD
    local n=$1 size=$2 i t0 t1
    shift 2
    local -a tot=()
    for _ in $(seq "$n"); do
        for i in $(seq 0 $(($# - 1))); do
            local cmd=${*:$((i + 1)):1}
            t0=$(now); for _ in $(seq "$size"); do eval "$cmd"; done; t1=$(now)
            tot[i]=$(awk -v s="${tot[i]:-0}" -v a="$t0" -v b="$t1" 'BEGIN { print s + b - a }')
        done
    done
    echo "${tot[*]}"
}

# What any preloaded library costs (the loader opens and maps the file) is
# shown apart from what the shim adds to that: an empty library built with
# the same flags.
echo "== /bin/true x 1000"
for round in 1 2; do
    read -r plain empty shim < <(batches 10 100 "/bin/true" "LD_PRELOAD=$EMPTY_PRELOAD /bin/true" \
        "LD_PRELOAD=$SHIM /bin/true")
    printf '  round %d: without %.3f s, with shim %.3f s, ratio %s (target <= 1.02)\n' \
        "$round" "$plain" "$shim" "$(ratio "$shim" "$plain")"
    printf '           an empty preloaded library %.3f s (ratio %s): the shim vs it, ratio %s\n' \
        "$empty" "$(ratio "$empty" "$plain")" "$(ratio "$shim" "$empty")"
done
if command -v valgrind >/dev/null; then
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
        awk '/Collected/ { print $NF }'; }
    printf '  instructions (callgrind): without %s, empty library %s, with shim %s\n' \
        "$(ir /bin/true)" "$(LD_PRELOAD=$EMPTY_PRELOAD ir /bin/true)" "$(LD_PRELOAD=$SHIM ir /bin/true)"
fi

cat > "$work/world.conf" <<'CONF'
server:
    local-zone: "." static
    local-zone: "127.in-addr.arpa." nodefault
    local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.23"
    local-data-ptr: "127.0.0.21 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.21"
CONF
port=$((20000 + RANDOM % 30000))
# s_server's standard input never ends (it ends its connection when it does).
mkfifo "$work/stdin"
exec 3<>"$work/stdin"
openssl s_server -quiet -no_cache -accept "127.0.0.21:$port" -cert "$work/emailhosted.pem" \
    -key "$work/emailhosted.key" -naccept 100000000 >/dev/null 2>&1 <&3 &
pids+=($!)
sleep 1
export MXVERIFY_DOMAIN=example.com MXVERIFY_PORTS=$port MXVERIFY_UNBOUND_CONF=$work/world.conf \
    MXVERIFY_CAFILE=$work/ca.pem MXVERIFY_LOG=none
openssl_cnf "$work/openssl.cnf" "$PROVIDER" mode=required-verify-hosted
openssl_cnf "$work/plain.cnf"
echo "== start-up of a short OpenSSL program (openssl rand -hex 4) x 500"
for round in 1 2; do
    read -r plain prov < <(batches 10 50 \
        "OPENSSL_CONF=$work/plain.cnf openssl rand -hex 4 >/dev/null" \
        "OPENSSL_CONF=$work/openssl.cnf openssl rand -hex 4 >/dev/null")
    printf '  round %d: %.2f ms per run without, %.2f ms with the provider: +%s ms (target <= 2)\n' \
        "$round" "$(awk -v t="$plain" 'BEGIN { print t * 2 }')" \
        "$(awk -v t="$prov" 'BEGIN { print t * 2 }')" \
        "$(awk -v a="$plain" -v b="$prov" 'BEGIN { printf "%.2f", (b - a) * 2 }')"
done

count() { # ENV...: "CONNECTIONS SECONDS" of full handshakes in about 2 s
    # (timed here: s_time's own "real seconds" is whole seconds)
    local t0 t1 n
    t0=$(now)
    n=$(env "$@" openssl s_time -connect "127.0.0.21:$port" -new -time 2 -CAfile "$work/ca.pem" \
        2>/dev/null | awk '/connections in .* real seconds/ { print $1 }')
    t1=$(now)
    echo "${n:-0} $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
echo "== TLS handshakes per second, policy deciding each (required-verify-hosted, warm DNS)"
echo "   (8 alternating 2 s windows each, the order rotated, totals compared)"
variants=("MXVERIFY_MODE=none" "LD_PRELOAD=$SHIM MXVERIFY_MODE=required-verify-hosted"
    "OPENSSL_CONF=$work/openssl.cnf")
declare -a conns=(0 0 0) secs=(0 0 0)
for round in $(seq 0 7); do
    for k in 0 1 2; do
        v=$(((k + round) % 3))
        # shellcheck disable=SC2086 # each variant is a list of NAME=VALUE words
        read -r c t < <(count ${variants[v]})
        conns[v]=$((conns[v] + ${c:-0}))
        secs[v]=$(awk -v a="${secs[v]}" -v b="${t:-0}" 'BEGIN { print a + b }')
    done
done
rate_of() { awk -v c="${conns[$1]}" -v t="${secs[$1]}" 'BEGIN { printf "%.1f", (t > 0) ? c / t : 0 }'; }
none=$(rate_of 0) shim=$(rate_of 1) prov=$(rate_of 2)
printf '  without %s/s, shim %s/s (ratio %s), provider %s/s (ratio %s) (target >= 0.97)\n' \
    "$none" "$shim" "$(ratio "$shim" "$none")" "$prov" "$(ratio "$prov" "$none")"

# Wall-clock rates on a shared machine drift by several per cent between
# windows; instructions do not. The client's instructions per handshake in
# steady state: the difference between a 6 s and a 2 s run under callgrind
# over the difference in connections (start-up and first lookups cancel).
if command -v valgrind >/dev/null; then
    ir_run() { # SECONDS ENV...: "INSTRUCTIONS CONNECTIONS"
        local secs=$1 log
        shift
        log=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null openssl s_time \
            -connect "127.0.0.21:$port" -new -time "$secs" -CAfile "$work/ca.pem" 2>&1)
        printf '%s\n' "$log" | awk '/Collected/ { i = $NF } /real seconds/ { n = $1 } END { print i, n }'
    }
    per_conn() { # ENV...: instructions per handshake
        local i2 n2 i6 n6
        read -r i2 n2 < <(ir_run 2 "$@")
        read -r i6 n6 < <(ir_run 6 "$@")
        awk -v a="$i2" -v b="$i6" -v m="$n2" -v n="$n6" 'BEGIN { printf "%.0f", (n > m) ? (b - a) / (n - m) : 0 }'
    }
    # shellcheck disable=SC2086
    { ir_none=$(per_conn ${variants[0]}); ir_shim=$(per_conn ${variants[1]}); ir_prov=$(per_conn ${variants[2]}); }
    pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f %%", (a > 0) ? (b - a) * 100 / a : 0 }'; }
    printf '  instructions per handshake, client side (callgrind): without %s, shim %s (%s), provider %s (%s)\n' \
        "$ir_none" "$ir_shim" "$(pct "$ir_none" "$ir_shim")" "$ir_prov" "$(pct "$ir_none" "$ir_prov")"
fi

echo "== a data phase: 256 MiB of TLS data through a guarded connection, 6 alternating runs each"
declare -a bulk_cpu=(0 0) bulk_wall=(0 0)
for round in $(seq 0 5); do
    for k in 0 1; do
        v=$(((k + round) % 2))
        if [ $v = 0 ]; then
            read -r c w < <(MXVERIFY_MODE=none "$TLS_BULK" 127.0.0.21 "$port" "$work/ca.pem" 256)
        else
            read -r c w < <(LD_PRELOAD=$SHIM MXVERIFY_MODE=required-verify-hosted \
                "$TLS_BULK" 127.0.0.21 "$port" "$work/ca.pem" 256)
        fi
        bulk_cpu[v]=$(awk -v a="${bulk_cpu[v]}" -v b="${c:-0}" 'BEGIN { print a + b }')
        bulk_wall[v]=$(awk -v a="${bulk_wall[v]}" -v b="${w:-0}" 'BEGIN { print a + b }')
    done
done
printf '  client CPU: without %.2f s, shim %.2f s (ratio %s); wall: without %.2f s, shim %.2f s (throughput ratio %s) (target >= 0.97)\n' \
    "${bulk_cpu[0]}" "${bulk_cpu[1]}" "$(ratio "${bulk_cpu[1]}" "${bulk_cpu[0]}")" \
    "${bulk_wall[0]}" "${bulk_wall[1]}" "$(ratio "${bulk_wall[0]}" "${bulk_wall[1]}")"

echo "== one delivery, DNS 50 ms away"
if ! command -v unbound >/dev/null || [ ! -x /usr/bin/python3 ]; then
    echo "  skipped: unbound and python3 needed"
    exit 0
fi
dns_port=$((20000 + RANDOM % 30000))
cat > "$work/unbound.conf" <<CONF
server:
    interface: 127.0.0.53
    port: $dns_port
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "example.com." static
    local-zone: "emailhosted.not." static
    local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.23"
    local-data-ptr: "127.0.0.21 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.21"
remote-control:
    control-enable: no
CONF
unbound -d -c "$work/unbound.conf" >/dev/null 2>&1 &
pids+=($!)
/usr/bin/python3 "$SRCDIR/tests/bench/delay_dns.py" 127.0.0.54 0 127.0.0.53 "$dns_port" 50 \
    "$work/delay.port" &
pids+=($!)
sink_port=$((20000 + RANDOM % 30000))
/usr/bin/python3 "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" \
    --port "$sink_port" 127.0.0.21="$work/emailhosted.pem,$work/emailhosted.key" \
    127.0.0.22="$work/example.pem,$work/example.key" 127.0.0.23="$work/mx01.pem,$work/mx01.key" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/delay.port" ] && [ -s "$work/sink.port" ] && break; sleep 0.1; done
printf 'server:\n    do-not-query-localhost: no\n    local-zone: "127.in-addr.arpa." nodefault\nforward-zone:\n    name: "."\n    forward-addr: 127.0.0.54@%s\n' \
    "$(cat "$work/delay.port")" > "$work/slow.conf"
deliver_ms() { # ADDR ENV...: wall time of one delivery, in ms
    local a=$1; shift
    local t0 t1
    t0=$(now)
    env "$@" "$NATIVE_CLIENT" "$a" "$sink_port" "bench-$RANDOM" >/dev/null 2>&1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}
for case in "127.0.0.22 domain" "127.0.0.23 MX host" "127.0.0.21 PTR name"; do
    a=${case%% *}
    best_plain=999999 best_shim=999999
    for _ in 1 2 3; do
        p=$(deliver_ms "$a" MXVERIFY_MODE=none)
        s=$(deliver_ms "$a" LD_PRELOAD="$SHIM" MXVERIFY_MODE=required-verify-hosted \
            MXVERIFY_UNBOUND_CONF="$work/slow.conf")
        best_plain=$(awk -v a="$best_plain" -v b="$p" 'BEGIN { print (b < a) ? b : a }')
        best_shim=$(awk -v a="$best_shim" -v b="$s" 'BEGIN { print (b < a) ? b : a }')
    done
    printf '  certificate matching the %s: %s ms without, %s ms with the shim: +%s ms\n' \
        "${case#* }" "$best_plain" "$best_shim" \
        "$(awk -v a="$best_plain" -v b="$best_shim" 'BEGIN { printf "%.1f", b - a }')"
done
echo "  (the lookups a match needs start at connect, in parallel; a PTR match needs"
echo "   PTR then A of the name: two round trips after the address is known, where a"
echo "   serial MX + PTR + A costs three; a domain match needs no DNS at all)"
