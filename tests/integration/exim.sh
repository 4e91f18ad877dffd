#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real Exim 4 from Debian (exim4-daemon-light, GnuTLS): first without the
# shim (what plain Exim does that mxverify is to change), then with it,
# loaded the way the recipe says (/etc/ld.so.preload and
# /etc/mxverify.conf, bind-mounted in this namespace only). Exim is not installed
# on the machine (it conflicts with Postfix): exim_lib.sh downloads the
# .debs once and mounts them into a network and mount namespace of the
# test's own, with Debian's generated "internet" configuration (dnslookup
# router, remote_smtp transport, Exim's default client TLS options).
# /etc/resolv.conf points at an `unbound` this test starts; SMTP servers
# listen on port 25 of TEST-NET-1 addresses (Debian's dnslookup router
# ignores MX hosts on loopback); the test CA is in the system trust store
# (GnuTLS "system") in this namespace only.
#
# Checked, plain Exim, mail queued (-odq) and delivered by `exim -qff`:
# - Debian's remote_smtp runs with tls_verify_certificates = system,
#   tls_try_verify_hosts = *, tls_verify_cert_hostnames = *,
#   tls_tempfail_tryclear and hosts_try_fastopen = *;
# - tls.example (certificate of the test CA for its MX name): over TLS,
#   logged CV=yes;
# - wrongname.example (test-CA certificate for another name) and
#   unknownca.example (certificate of an unknown CA): still delivered over
#   TLS, logged CV=no: the fail-open of tls_try_verify_hosts that mxverify
#   is to close;
# - example.com (no STARTTLS): delivered in clear;
# - alert.example (STARTTLS accepted, handshake answered by a fatal
#   alert): tls_tempfail_tryclear makes Exim log "delivering unencrypted"
#   and deliver in clear on a NEW connection (two connections seen);
# - tempfail.example (STARTTLS answered 454): delivered in clear on the
#   SAME connection (one connection);
# - -odi: delivered before exim returns, no queue run.
# TCP Fast Open: with strace installed, one delivery is traced (not a
# check). Observed on Debian 12 (exim4 4.96-15+deb12u11, kernel 6.x):
# Exim connects with sendto(fd, NULL, 0, MSG_DONTWAIT|MSG_FASTOPEN,
# {AF_INET, 192.0.2.22:25}) = -1 EINPROGRESS instead of connect(2)
# (hosts_try_fastopen = * by default; ip.c ip_connect), the only
# connect(2) calls being to the resolver; see $work/tfo.strace.
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/exim_lib.sh"
if [ "${MXV_EXIM_NS:-}" != 1 ]; then
    need_tools unbound findmnt
    : "${SHIM:?}"
    if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
        echo "skipped: ASan build (Exim cannot run with a preloaded ASan runtime)"
        exit $SKIP
    fi
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    need_exim
    in_namespaces MXV_EXIM_NS
fi

. "$(dirname "$0")/lib.sh"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
ip link set lo up
NET=192.0.2
ip route add local $NET.0/24 dev lo
# Exim's transports run as Debian-exim: they read below $work.
chmod 755 "$work"
deadline=$(($(date +%s) + 330))

# --- DNS: what Exim's res_search() asks, through resolv.conf ---
# example.com        MX mx.example.com        $NET.21  no STARTTLS
# tls.example        MX mx.tls.example        $NET.22  test CA, right name
# wrongname.example  MX mx.wrongname.example  $NET.23  test CA, SAN example.com
# unknownca.example  MX mx.unknownca.example  $NET.24  unknown CA
# alert.example      MX mx.alert.example      $NET.25  fatal alert on ClientHello
# tempfail.example   MX mx.tempfail.example   $NET.26  STARTTLS answered 454
mkdir -p "$work/dns"
{
    printf 'server:\n    local-zone: "2.0.192.in-addr.arpa." nodefault\n'
    printf '    local-zone: "example." static\n    local-zone: "example.com." static\n'
    for d in example.com:21 tls.example:22 wrongname.example:23 unknownca.example:24 \
        alert.example:25 tempfail.example:26 dom.example:31 ptr.example:32 badptr.example:33 \
        fixme.example:34; do
        printf '    local-data: "%s. 300 IN MX 10 mx.%s."\n' "${d%:*}" "${d%:*}"
        printf '    local-data: "mx.%s. 300 IN A %s"\n' "${d%:*}" "$NET.${d#*:}"
    done
    # forward-confirmed PTR (ptr.example's server); one that is not (badptr)
    printf '    local-zone: "hosted.example." static\n'
    printf '    local-data-ptr: "%s 300 mx0a.hosted.example."\n' "$NET.32"
    printf '    local-data: "mx0a.hosted.example. 300 IN A %s"\n' "$NET.32"
    printf '    local-data-ptr: "%s 300 mx0b.hosted.example."\n' "$NET.33"
    printf '    local-data: "mx0b.hosted.example. 300 IN A %s"\n' "$NET.99"
} > "$work/dns/world.conf"
free_port() { echo 53; } # resolv.conf can name no other port
start_unbound "$work/dns" "$work/dns/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$work/dns/resolv.conf"
# Bound before exim_start: its /etc overlay must carry this mount over.
mount --bind "$work/dns/resolv.conf" /etc/resolv.conf

# --- SMTP servers on port 25 ---
host_cert mx.tls.example || { echo "FAIL: cannot make a certificate"; exit 1; }
pair() { echo "$certs/$1.pem,$certs/$1.key"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 600 $NET.21=none $NET.22="$work/mx.tls.example.pem,$work/mx.tls.example.key" \
    $NET.23="$(pair example)" $NET.24="$(pair unknown-ca)" 2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/adversary_smtp.py" "$work/spool" "$work/adv.port" --port 25 \
    --lifetime 600 $NET.25=alert $NET.26=454 2> "$work/adv.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do
    [ -s "$work/sink.port" ] && [ -s "$work/adv.port" ] && break
    sleep 0.1
done
[ -s "$work/sink.port" ] && [ -s "$work/adv.port" ] ||
    { echo "FAIL: SMTP servers did not start"; cat "$work/sink.err" "$work/adv.err"; exit 1; }

# --- Exim ---
exim_start "$work/exim"
exim_trust_ca "$certs/ca.pem"
mainlog=$(exim_log)
check() { # check DESCRIPTION COMMAND...: one check, COMMAND must succeed
    local what=$1; shift
    checks=$((checks + 1))
    "$@" || { echo "FAIL: $what" >&2; failures=$((failures + 1)); exim_show_logs; }
}
# logged_for DOMAIN PATTERN: a delivery line (=>) for user@DOMAIN matches
# the extended regular expression PATTERN.
logged_for() { grep -F "=> user@$1 " "$mainlog" | grep -Eq -- "$2"; }
logged() { grep -qF -- "$1" "$mainlog"; }
connections() { # connections ADDR: how many the adversary at ADDR accepted
    local n
    n=$(grep -c ' connect$' "$work/spool/$1/events.log" 2>/dev/null) || true
    echo "${n:-0}"
}

# Debian's remote_smtp: Exim's defaults (exim -bP).
opts=$work/exim/remote_smtp.txt
check "resolv.conf carried over the /etc overlay" grep -q "$dns_addr" /etc/resolv.conf
for opt in "tls_verify_certificates = system" "tls_try_verify_hosts = \*" \
    "tls_verify_cert_hostnames = \*" "^tls_tempfail_tryclear" "hosts_try_fastopen = \*"; do
    check "remote_smtp has $opt" grep -q "$opt" "$opts"
done
check "remote_smtp has no hosts_require_tls" grep -Eq '^hosts_require_tls = ?$' "$opts"

m=exim-$$-$RANDOM
domains="example.com tls.example wrongname.example unknownca.example alert.example tempfail.example"
for d in $domains; do
    exim_send "$d" "$m-$d" || check "exim accepts mail to $d" false
done
check "6 messages queued" [ "$(exim_queue_count)" = 6 ]
check "the queue run ends" exim_queue_run 120
check "queue empty after the run" [ "$(exim_queue_count)" = 0 ]

expect_got tls "$m-tls.example" "certificate verified"
expect_got tls "$m-wrongname.example" "wrong name, still TLS (tls_try_verify_hosts)"
expect_got tls "$m-unknownca.example" "unknown CA, still TLS (tls_try_verify_hosts)"
expect_got clear "$m-example.com" "no STARTTLS"
expect_got clear "$m-alert.example" "handshake failed, clear (tls_tempfail_tryclear)"
expect_got clear "$m-tempfail.example" "STARTTLS 454, clear"
check "tls.example logged CV=yes" logged_for tls.example ' X=TLS[^ ]+ CV=yes '
check "tls.example logged its DN" logged_for tls.example 'DN="CN=mx.tls.example"'
check "wrongname.example logged CV=no" logged_for wrongname.example ' X=TLS[^ ]+ CV=no '
check "unknownca.example logged CV=no" logged_for unknownca.example ' X=TLS[^ ]+ CV=no '
check "example.com logged without X=" eval '! logged_for example.com " X="'
check "alert.example: delivering unencrypted" \
    logged "delivering unencrypted to H=mx.alert.example [$NET.25] (not in hosts_require_tls)"
check "alert.example: a second connection for clear text" [ "$(connections $NET.25)" = 2 ]
check "tempfail.example: clear on the same connection" [ "$(connections $NET.26)" = 1 ]

# -odi: delivered by the submitting process.
exim_send tls.example "$m-odi" immediate || check "exim -odi" false
expect_got tls "$m-odi" "-odi delivers at once"
check "nothing left queued after -odi" [ "$(exim_queue_count)" = 0 ]

# TCP Fast Open (recorded, not a check: strace may be missing).
if command -v strace >/dev/null; then
    exim_send tls.example "$m-tfo" queue
    timeout 60 strace -f -o "$work/tfo.strace" -e trace=sendto,connect exim4 -qff || true
    if grep -q 'MSG_FASTOPEN' "$work/tfo.strace"; then
        echo "note: Exim connects with sendto(MSG_FASTOPEN): $(grep -m1 MSG_FASTOPEN "$work/tfo.strace" | cut -c1-160)"
    else
        echo "note: no MSG_FASTOPEN seen in the trace"
    fi
fi

# --- with mxverify: /etc/ld.so.preload and /etc/mxverify.conf (this
# namespace only), required-verify-hosted for every destination ---
for name in dom.example mx0a.hosted.example mx0b.hosted.example mx.fixme.example; do
    host_cert "$name" || { echo "FAIL: cannot make a certificate"; exit 1; }
done
hc() { echo "$work/$1.pem,$work/$1.key"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink3.port" --port 25 \
    --lifetime 600 $NET.31="$(hc dom.example)" $NET.32="$(hc mx0a.hosted.example)" \
    $NET.33="$(hc mx0b.hosted.example)" 2> "$work/sink3.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
# fixme.example's server: a certificate for another name, until it is fixed.
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink4.port" --port 25 \
    --lifetime 600 $NET.34="$(pair example)" 2> "$work/sink4.err" &
broken_pid=$!
cleanup_hooks+=("kill $broken_pid 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink3.port" ] && [ -s "$work/sink4.port" ] && break; sleep 0.1; done
mkdir -m 1777 "$work/mxv"
forward_conf "$work/mxv/dns.conf"
cat > "$work/mxverify.conf" <<CONF
mode = required-verify-hosted
ca_file = $certs/ca.pem
unbound_conf = $work/mxv/dns.conf
log = file:$work/mxv/decisions.log
CONF
# The recipe's own file is a configuration mxverify accepts.
checks=$((checks + 1))
set +e
"$MXVERIFY" explain --conf "$SRCDIR/examples/exim/mxverify.conf" --unbound-conf "$work/mxv/dns.conf" \
    --cert "$certs/example.pem" --domain example.com > "$work/recipe.out" 2>&1
[ $? -ne 2 ] || { echo "FAIL: examples/exim/mxverify.conf: $(cat "$work/recipe.out")" >&2; failures=$((failures + 1)); }
set -e
exim_preload "$SHIM" "$work/mxverify.conf"
n=mxv-$$-$RANDOM
# dom.example, tls.example, ptr.example: verified by domain, MX, PTR.
# wrongname.example (a name that is none of them), example.com (no
# STARTTLS), badptr.example (a PTR not confirmed), alert.example (every
# handshake fails; Exim retries in clear), fixme.example: deferred.
sent="dom.example tls.example ptr.example wrongname.example example.com badptr.example alert.example fixme.example"
for d in $sent; do
    exim_send "$d" "$n-$d" || check "exim accepts mail to $d (with mxverify)" false
done
check "the queue run with mxverify ends" exim_queue_run 120
expect_got tls "$n-dom.example" "with mxverify: verified by the recipient domain"
expect_got tls "$n-tls.example" "with mxverify: verified by the MX host name"
expect_got tls "$n-ptr.example" "with mxverify: verified by the forward-confirmed PTR name"
for d in wrongname.example example.com badptr.example alert.example fixme.example; do
    expect_got none "$n-$d" "with mxverify: $d deferred, not delivered (not in clear either)"
done
check "five messages deferred" [ "$(exim_queue_count)" = 5 ]
check "Exim logged CV=yes for ptr.example" logged_for ptr.example ' X=TLS[^ ]+ CV=yes '
decisions=$work/mxv/decisions.log
check "decisions logged with tls=gnutls" grep -q 'verdict=pass .*tls=gnutls' "$decisions"
check "the clear-text retry refused" grep -q 'clear-text retry refused' "$decisions"
check "each connection explained (domain, MX, IP)" \
    grep -q "verdict=fail mode=required-verify-hosted domain=badptr.example ip=$NET.33 .*mx=mx.badptr.example" \
    "$decisions"
# fixme.example's server gets the right certificate: the next queue run
# delivers, once.
kill "$broken_pid"
for _ in $(seq 50); do ! tcp_up $NET.34 25 && break; sleep 0.1; done
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink5.port" --port 25 \
    --lifetime 600 $NET.34="$(hc mx.fixme.example)" 2> "$work/sink5.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink5.port" ] && break; sleep 0.1; done
check "the second queue run ends" exim_queue_run 120
expect_got tls "$n-fixme.example" "with mxverify: delivered once the server is fixed"
check "four messages still deferred" [ "$(exim_queue_count)" = 4 ]
# Sent = received: each delivered marker once, nothing bounced.
for d in dom.example tls.example ptr.example fixme.example; do
    check "$d received once" [ "$(grep -rl --include='*.eml' -- "$n-$d" "$work/spool" | wc -l)" = 1 ]
done
check "nothing bounced" eval '! grep -q " \*\* user@" "$mainlog"'
exim_unpreload

# MXV_EXIM_VERBOSE=1: Exim's log also when everything passed.
[ "$failures" -eq 0 ] && [ "${MXV_EXIM_VERBOSE:-0}" != 1 ] || exim_show_logs
finish
