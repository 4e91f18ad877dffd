#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exim_bench.sh: what the shim costs GnuTLS programs. In a network and
# mount namespace of its own (root needed, else skipped):
#   GnuTLS handshakes  gnutls_client delivering 200 messages in one
#                      process, one full handshake each, to a STARTTLS
#                      sink: plain against the shim (required-verify, the
#                      policy deciding every handshake); deliveries per
#                      second, target ratio >= 0.97
#   Exim               Debian's Exim 4.96 (exim_lib.sh) delivering 500
#                      queued messages to 10 domains (each its own MX and
#                      certificate) in one queue run: plain against the
#                      shim through /etc/ld.so.preload and
#                      /etc/mxverify.conf (required-verify-hosted, as the
#                      recipe loads it); messages per second, target ratio
#                      >= 0.95
# Rounds alternate; the medians of the per-round ratios are printed.
# Asserts nothing but that the messages were delivered.
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${SHIM:?}" "${MAKE_CERTS:?}" "${SRCDIR:?}" "${GNUTLS_CLIENT:?}"
export MXVERIFY=${MXVERIFY:-mxverify}
. "$SRCDIR/tests/integration/netns.sh"
. "$SRCDIR/tests/integration/exim_lib.sh"
if [ "${MXV_EXIM_BENCH_NS:-}" != 1 ]; then
    unshare --net --mount true 2>/dev/null || { echo "exim_bench: skipped: root needed"; exit 0; }
    [ -x /usr/bin/python3 ] && command -v unbound >/dev/null ||
        { echo "exim_bench: skipped: python3 and unbound needed"; exit 0; }
    exim_ok=1
    (need_exim) > /dev/null 2>&1 || exim_ok=0
    export EXIM_OK=$exim_ok
    in_namespaces MXV_EXIM_BENCH_NS
fi
. "$SRCDIR/tests/integration/lib.sh"
ip link set lo up
rounds=${MXV_BENCH_ROUNDS:-5}
NET=192.0.2
ip route add local $NET.0/24 dev lo
chmod 755 "$work"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
# alternate ROUNDS UNIT TARGET FN: FN 0 (plain) and FN 1 (the shim), in
# alternating order, ROUNDS times; prints the medians and the median of
# the per-round ratios against TARGET.
alternate() {
    local rounds=$1 unit=$2 target=$3 fn=$4 round p s r
    local -a ratios=() plain=() shim=()
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) = 1 ]; then
            p=$("$fn" 0) s=$("$fn" 1)
        else
            s=$("$fn" 1) p=$("$fn" 0)
        fi
        case "$p $s" in *failed*) echo "  a run failed: $p / $s"; exit 1 ;; esac
        plain+=("$p") shim+=("$s")
        ratios+=("$(awk -v a="$p" -v b="$s" 'BEGIN { printf "%.3f", b / a }')")
    done
    r=$(printf '%s\n' "${ratios[@]}" | median)
    printf '  plain: %s%s, shim: %s%s (medians); ratio %s (rounds: %s) (target >= %s: %s)\n' \
        "$(printf '%s\n' "${plain[@]}" | median)" "$unit" "$(printf '%s\n' "${shim[@]}" | median)" \
        "$unit" "$r" "${ratios[*]}" "$target" \
        "$(awk -v r="$r" -v t="$target" 'BEGIN { print (r >= t ? "met" : "MISSED") }')"
}

# --- servers: 10 domains, each its MX and certificate ---
mkdir -p "$work/dns"
{
    # Each server has its PTR name, as on the Internet (a reverse zone with
    # no answer at all would make every lookup of it wait for a SERVFAIL).
    printf 'server:\n    local-zone: "2.0.192.in-addr.arpa." static\n    local-zone: "example." static\n'
    for i in $(seq 0 9); do
        printf '    local-data: "d%s.example. 300 IN MX 10 mx.d%s.example."\n' "$i" "$i"
        printf '    local-data: "mx.d%s.example. 300 IN A %s"\n' "$i" "$NET.$((40 + i))"
        printf '    local-data-ptr: "%s 300 mx.d%s.example."\n' "$NET.$((40 + i))" "$i"
    done
} > "$work/dns/world.conf"
free_port() { echo 53; }
start_unbound "$work/dns" "$work/dns/world.conf" || { echo "exim_bench: unbound did not start"; exit 1; }
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$work/dns/resolv.conf"
mount --bind "$work/dns/resolv.conf" /etc/resolv.conf
forward_conf "$work/dns/mxv.conf"
sinks=()
for i in $(seq 0 9); do
    host_cert "mx.d$i.example" || { echo "exim_bench: cannot make certificates"; exit 1; }
    sinks+=("$NET.$((40 + i))=$work/mx.d$i.example.pem,$work/mx.d$i.example.key")
done
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 1800 "${sinks[@]}" 2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "exim_bench: the SMTP sink did not start"; exit 1; }

# --- GnuTLS handshakes: 200 deliveries in one process ---
echo "== GnuTLS: 200 deliveries (full handshakes) in one process, plain against the shim"
handshakes() { # SHIM(0|1): deliveries per second
    local t0 t1 said preload=
    [ "$1" = 1 ] && preload=$SHIM
    t0=$(now)
    said=$(env ${preload:+LD_PRELOAD=$preload} MXVERIFY_MODE=required-verify MXVERIFY_DOMAIN=mx.d0.example \
        MXVERIFY_CAFILE="$certs/ca.pem" MXVERIFY_UNBOUND_CONF="$work/dns/mxv.conf" \
        MXVERIFY_LOG=none "$GNUTLS_CLIENT" --style exim --cafile "$certs/ca.pem" \
        --sni mx.d0.example --repeat 200 $NET.40 25 "bench-$RANDOM" 2>&1 | tail -1)
    t1=$(now)
    [ "$said" = delivered ] || { echo "failed: $said"; return; }
    rate 200 "$t0" "$t1"
}
alternate "$rounds" /s 0.97 handshakes

# --- Exim: 500 messages to 10 domains in one queue run ---
if [ "${EXIM_OK:-0}" != 1 ]; then
    echo "== Exim: skipped (the Debian packages could not be had)"
    finish > /dev/null
    exit 0
fi
echo "== Exim 4.96: 500 queued messages to 10 domains, one queue run, plain against the shim"
exim_start "$work/exim"
exim_trust_ca "$certs/ca.pem"
mkdir -m 1777 "$work/mxv"
cat > "$work/mxverify.conf" <<CONF
mode = required-verify-hosted
ca_file = $certs/ca.pem
unbound_conf = $work/dns/mxv.conf
log = none
dns_cache = $work/mxv/dns.%u.cache
CONF
exim_run() { # PRELOAD(0|1): messages per second of one queue run of 500
    local i t0 t1 before after
    [ "$1" = 1 ] && exim_preload "$SHIM" "$work/mxverify.conf" || exim_unpreload
    for i in $(seq 0 499); do exim_send "d$((i % 10)).example" "bench-$1-$RANDOM-$i" queue; done
    before=$(find "$work/spool" -name '*.eml' | wc -l)
    t0=$(now)
    exim_queue_run 600 || { echo "failed: queue run"; return; }
    t1=$(now)
    after=$(find "$work/spool" -name '*.eml' | wc -l)
    exim_unpreload
    [ $((after - before)) = 500 ] && [ "$(exim_queue_count)" = 0 ] ||
        { echo "failed: $((after - before)) delivered, $(exim_queue_count) queued"; return; }
    rate 500 "$t0" "$t1"
}
alternate "${MXV_EXIM_BENCH_ROUNDS:-3}" " msg/s" 0.95 exim_run
