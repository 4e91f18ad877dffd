#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dane_bench.sh: what DANE adds to one delivery when DNS is 50 ms away
# (target: at most 5 ms). In a network and mount namespace of its own:
# signed zones served by unbound behind delay_dns.py (every answer 50 ms
# late), an SMTP sink on port 25 whose certificate names the MX host and
# whose key is published as "3 1 1", and native_client, which looks the MX
# host up itself (/etc/hosts, bind-mounted here) and delivers one message
# through the preload shim, required-verify-hosted for example.com:
#   dane off  today's path: the certificate matches the MX host, so
#             mxverify asks DNS for example.com's MX (one round, started
#             at connect)
#   dane on   the same, and DANE's A, AAAA and TLSA (and the MX) in that
#             same round; DANE decides
# Each delivery is a new process (cold caches). Rounds alternate; the best
# and the median of each are printed. libunbound's validation makes one
# more round trip in some runs, with DANE or without (about 120 ms or 165
# ms here), so the medians carry that noise; the best runs compare like
# with like. Root needed (else skipped); asserts nothing.
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${SHIM:?}" "${MAKE_CERTS:?}" "${SRCDIR:?}" "${NATIVE_CLIENT:?}"
export MXVERIFY=${MXVERIFY:-mxverify}
. "$SRCDIR/tests/integration/netns.sh"
if [ "${MXV_DANE_BENCH_NS:-}" != 1 ]; then
    for tool in unbound ldns-keygen ldns-signzone openssl; do
        command -v $tool >/dev/null || { echo "dane_bench: skipped: $tool not installed"; exit 0; }
    done
    unshare --net --mount true 2>/dev/null || { echo "dane_bench: skipped: root needed"; exit 0; }
    in_namespaces MXV_DANE_BENCH_NS
fi
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/bench/one_delivery.sh"
ip link set lo up
rounds=${MXV_BENCH_ROUNDS:-15}

# The server: a certificate for mx.dane.example from the test CA.
host_cert mx.dane.example || { echo "dane_bench: cannot make the certificate"; exit 1; }
spki=$(spki "$work/mx.dane.example.pem")

z=$work/zones
mkdir -p "$z"
zone dane.example 'mx A 127.0.0.61' "_25._tcp.mx TLSA 3 1 1 $spki"
zone example.com '@ MX 10 mx.dane.example.'
sign_zones dane.example example.com || exit 1
serve_zones plain dane.example example.com > "$z/world.conf"
slow_world dane_bench mx.dane.example "$work/mx.dane.example.pem" "$work/mx.dane.example.key" \
    "trust-anchor-file: \"$work/anchors\""

dane_ms() { deliver_ms mx.dane.example MXVERIFY_DANE="$1"; } # DANE: one delivery, in ms
echo "== one delivery, DNS 50 ms away: dane off against dane on (TLSA present, DANE-EE)"
off=() on=()
for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        off+=("$(dane_ms off)") on+=("$(dane_ms on)")
    else
        on+=("$(dane_ms on)") off+=("$(dane_ms off)")
    fi
done
case " ${off[*]} ${on[*]} " in
*failed*)
    echo "  a delivery failed; the log says:"
    tail -5 "$work/mxverify.log"
    exit 1 ;;
esac
grep -q 'policy=dane tlsa="3 1 1"' "$work/mxverify.log" ||
    { echo "  DANE did not decide: the log says:"; tail -3 "$work/mxverify.log"; exit 1; }
mo=$(printf '%s\n' "${off[@]}" | median) mn=$(printf '%s\n' "${on[@]}" | median)
bo=$(printf '%s\n' "${off[@]}" | sort -n | head -1) bn=$(printf '%s\n' "${on[@]}" | sort -n | head -1)
printf '  dane off: median %s ms, best %s ms (%s)\n' "$mo" "$bo" "${off[*]}"
printf '  dane on:  median %s ms, best %s ms (%s)\n' "$mn" "$bn" "${on[*]}"
awk -v a="$mo" -v b="$mn" -v c="$bo" -v e="$bn" 'BEGIN { d = e - c; printf "  added by DANE: %+.1f ms best to best (target <= 5 ms: %s), %+.1f ms median to median\n", d, d <= 5 ? "met" : "MISSED", b - a }'
