#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sts_bench.sh: what MTA-STS adds to one delivery when DNS is 50 ms away
# (target: at most 5 ms with the policy cached, and no HTTPS request on
# the delivery path), and what a cold fetch costs. In a network and mount
# namespace of its own: zones served by unbound behind delay_dns.py (every
# answer 50 ms late), the policy on an HTTPS server (sts_https.py), an SMTP
# sink on port 25 whose certificate names the MX host, and native_client,
# which looks the MX host up itself (/etc/hosts, bind-mounted here) and
# delivers one message through the preload shim, required-verify-hosted
# for example.com:
#   mta_sts off     today's path: mxverify asks DNS for example.com's MX
#                   (one round, started at connect)
#   mta_sts on      the same round also asks _mta-sts.example.com TXT; the
#                   policy comes from the sts_cache file; MTA-STS decides
#   cold fetch      mta_sts on, an empty sts_cache: the policy host's
#                   address and the HTTPS fetch on top
# Each delivery is a new process (cold DNS caches). Rounds alternate; the
# best and the median of each are printed. Root needed (else skipped);
# asserts nothing but that the deliveries went and MTA-STS decided.
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${SHIM:?}" "${MAKE_CERTS:?}" "${SRCDIR:?}" "${NATIVE_CLIENT:?}"
export MXVERIFY=${MXVERIFY:-mxverify}
. "$SRCDIR/tests/integration/netns.sh"
if [ "${MXV_STS_BENCH_NS:-}" != 1 ]; then
    for tool in unbound openssl; do
        command -v $tool >/dev/null || { echo "sts_bench: skipped: $tool not installed"; exit 0; }
    done
    [ -x /usr/bin/python3 ] || { echo "sts_bench: skipped: python3 not installed"; exit 0; }
    unshare --net --mount true 2>/dev/null || { echo "sts_bench: skipped: root needed"; exit 0; }
    in_namespaces MXV_STS_BENCH_NS
fi
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/bench/one_delivery.sh"
ip link set lo up
rounds=${MXV_BENCH_ROUNDS:-15}

host_cert mx.sts.example && host_cert mta-sts.example.com ||
    { echo "sts_bench: cannot make the certificates"; exit 1; }
www=$work/www
mkdir -p "$www"
printf 'version: STSv1\nmode: enforce\nmx: mx.sts.example\nmax_age: 86400\n' > "$www/example.com"

z=$work/zones
mkdir -p "$z"
zone sts.example 'mx A 127.0.0.61'
zone example.com '@ MX 10 mx.sts.example.' '_mta-sts TXT "v=STSv1; id=1"' 'mta-sts A 127.0.0.10'
for d in sts.example example.com; do cp "$z/$d.zone" "$z/$d.zone.signed"; done
serve_zones plain sts.example example.com > "$z/world.conf"
slow_world sts_bench mx.sts.example "$work/mx.sts.example.pem" "$work/mx.sts.example.key"
"$PY" "$SRCDIR/tests/integration/sts_https.py" "$www" 127.0.0.10 "$work/mta-sts.example.com.pem" \
    "$work/mta-sts.example.com.key" --lifetime 900 2> "$work/https.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 50); do [ -s "$www/ready" ] && break; sleep 0.1; done
[ -s "$www/ready" ] || { echo "sts_bench: the HTTPS server did not start"; exit 1; }
# MTA_STS CACHE: one delivery, in ms
sts_ms() { deliver_ms mx.sts.example MXVERIFY_MTA_STS="$1" MXVERIFY_STS_CACHE="$2"; }
fetches() { grep -c '^mta-sts.example.com ' "$www/requests.log" 2>/dev/null || echo 0; }

cache=$work/sts.cache
sts_ms on "$cache" > /dev/null # the first delivery fetches the policy into the cache
echo "== one delivery, DNS 50 ms away: mta_sts off against on (policy cached), and a cold fetch"
off=() on=() cold=()
before=$(fetches)
for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        off+=("$(sts_ms off "$cache")") on+=("$(sts_ms on "$cache")")
    else
        on+=("$(sts_ms on "$cache")") off+=("$(sts_ms off "$cache")")
    fi
done
during=$(($(fetches) - before))
for round in $(seq "$rounds"); do
    rm -f "$work/cold.cache"
    cold+=("$(sts_ms on "$work/cold.cache")")
done
case " ${off[*]} ${on[*]} ${cold[*]} " in
*failed*)
    echo "  a delivery failed; the log says:"
    tail -5 "$work/mxverify.log"
    exit 1 ;;
esac
grep -q 'policy=sts' "$work/mxverify.log" ||
    { echo "  MTA-STS did not decide: the log says:"; tail -3 "$work/mxverify.log"; exit 1; }
mo=$(printf '%s\n' "${off[@]}" | median) mn=$(printf '%s\n' "${on[@]}" | median)
mc=$(printf '%s\n' "${cold[@]}" | median)
bo=$(printf '%s\n' "${off[@]}" | best) bn=$(printf '%s\n' "${on[@]}" | best)
bc=$(printf '%s\n' "${cold[@]}" | best)
printf '  mta_sts off:          median %s ms, best %s ms (%s)\n' "$mo" "$bo" "${off[*]}"
printf '  mta_sts on, cached:   median %s ms, best %s ms (%s)\n' "$mn" "$bn" "${on[*]}"
printf '  mta_sts on, cold:     median %s ms, best %s ms (%s)\n' "$mc" "$bc" "${cold[*]}"
awk -v a="$mo" -v b="$mn" -v c="$bo" -v e="$bn" 'BEGIN { d = e - c; printf "  added by MTA-STS (policy cached): %+.1f ms best to best (target <= 5 ms: %s), %+.1f ms median to median\n", d, d <= 5 ? "met" : "MISSED", b - a }'
awk -v a="$mo" -v b="$mc" 'BEGIN { printf "  a cold fetch (address lookup and HTTPS): %+.1f ms median to median\n", b - a }'
printf '  HTTPS requests on the delivery path with the policy cached: %s (target 0: %s)\n' \
    "$during" "$([ "$during" -eq 0 ] && echo met || echo MISSED)"
