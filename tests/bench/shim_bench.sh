#!/usr/bin/env bash
# shim_bench.sh: figures for the preload shim and the provider (run by the
# `bench` target; prints, asserts nothing).
#  1. /bin/true started 1,000 times with and without the shim preloaded.
#  2. TLS handshakes per second (openssl s_time against s_server on
#     loopback, warm DNS) with the policy deciding every handshake, through
#     the shim and through the provider, against none.
#  3. One delivery with a DNS server 50 ms away: time mxverify adds, for a
#     certificate matching the domain, an MX host, and a PTR name.
set -euo pipefail
: "${MXVERIFY:?}" "${MAKE_CERTS:?}" "${SHIM:?}" "${PROVIDER:?}" "${NATIVE_CLIENT:?}" "${SRCDIR:?}"
work=$(mktemp -d /tmp/mxv-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
"$MAKE_CERTS" "$work" >/dev/null
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "== /bin/true x 1000"
for round in 1 2; do
    t0=$(now); for _ in $(seq 1000); do /bin/true; done; t1=$(now)
    for _ in $(seq 1000); do LD_PRELOAD=$SHIM /bin/true; done; t2=$(now)
    plain=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    shim=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
    printf '  round %d: without %.3f s, with shim %.3f s, ratio %s (target <= 1.02)\n' \
        "$round" "$plain" "$shim" "$(ratio "$shim" "$plain")"
done

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
openssl s_server -quiet -accept "127.0.0.21:$port" -cert "$work/emailhosted.pem" \
    -key "$work/emailhosted.key" -naccept 1000000 >/dev/null 2>&1 < /dev/null &
pids+=($!)
sleep 1
export MXVERIFY_DOMAIN=example.com MXVERIFY_PORTS=$port MXVERIFY_UNBOUND_CONF=$work/world.conf \
    MXVERIFY_CAFILE=$work/ca.pem MXVERIFY_LOG=none
cat > "$work/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
mxverify = mxverify_sect
[default_sect]
activate = 1
[mxverify_sect]
module = $PROVIDER
activate = 1
mode = required-verify-hosted
CNF
rate() { # ENV...: handshakes per second over 4 s
    env "$@" openssl s_time -connect "127.0.0.21:$port" -new -time 4 -CAfile "$work/ca.pem" 2>/dev/null |
        awk '/connections in .* real seconds/ { printf "%.1f", $1 / $4 }'
}
echo "== TLS handshakes per second, policy deciding each (required-verify-hosted, warm DNS)"
for round in 1 2; do
    none=$(rate MXVERIFY_MODE=none)
    shim=$(rate LD_PRELOAD="$SHIM" MXVERIFY_MODE=required-verify-hosted)
    prov=$(rate OPENSSL_CONF="$work/openssl.cnf")
    printf '  round %d: without %s/s, shim %s/s (ratio %s), provider %s/s (ratio %s) (target >= 0.97)\n' \
        "$round" "$none" "$shim" "$(ratio "$shim" "$none")" "$prov" "$(ratio "$prov" "$none")"
done

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
