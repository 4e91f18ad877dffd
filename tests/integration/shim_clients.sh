#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# VIA=shim (default): the preload shim and `mxverify run`; VIA=provider:
# the OpenSSL provider enabled only through OPENSSL_CONF. Real, unmodified clients from
# Debian (openssl s_client, curl -k, swaks, Python smtplib) against SMTP
# servers on loopback addresses that keep what they receive, DNS evidence
# from a real `unbound` daemon. For each of the six settings, each client
# and each server shape, the outcome policy.md section 3 prescribes:
# delivered over TLS, delivered in clear, or not delivered (the spool
# tells). Then: no settings = no change, an out-of-scope port is
# untouched, the program's own rejection stands, broken settings fail
# closed, resumed sessions are decided again, threads and fork.
. "$(dirname "$0")/lib.sh"
command -v unbound >/dev/null || { echo "skipped: unbound not installed"; exit $SKIP; }
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
for tool in swaks curl openssl; do
    command -v $tool >/dev/null || { echo "skipped: $tool not installed"; exit $SKIP; }
done
: "${SHIM:?SHIM (libmxverify-preload.so) must be set}"
VIA=${VIA:-shim}
# An ASan build of the shim or provider needs the ASan runtime loaded first
# in every client; leaks of the clients themselves are not ours to report.
asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
if [ -n "$asan_rt" ]; then
    # Debian's curl hangs at start-up with a preloaded ASan runtime, shim or
    # not; under ASan the shim and provider run in native_client.sh instead.
    echo "skipped: ASan build (Debian's clients cannot run with a preloaded ASan runtime)"
    exit $SKIP
fi
[ "$VIA" = shim ] || : "${PROVIDER:?PROVIDER (ossl-modules/mxverify.so) must be set}"

# provider_conf FILE [--option value | --flag]...: an openssl.cnf enabling
# the provider with those settings (option names as config keys).
provider_conf() {
    local file=$1; shift
    local -a kvs=(log=stderr)
    while [ $# -gt 0 ]; do
        local key=${1#--}; key=${key//-/_}; shift
        if [ $# -gt 0 ] && [[ $1 != --* ]]; then
            kvs+=("$key=$1"); shift
        else
            kvs+=("$key=1")
        fi
    done
    openssl_cnf "$file" "$PROVIDER" "${kvs[@]}"
}

# DNS: example.com's MX is mx01.subd.emailhosted.not (127.0.0.23); every
# server address has a PTR name, forward-confirmed except 127.0.0.26/27.
mkdir -p "$work/daemon"
cat > "$work/daemon/world.conf" <<'CONF'
server:
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "example.com." static
    local-zone: "emailhosted.not." static
    local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."
    local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.23"
    local-data-ptr: "127.0.0.21 300 mx0a.emailhosted.not."
    local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.21"
    local-data-ptr: "127.0.0.23 300 mx0c.emailhosted.not."
    local-data: "mx0c.emailhosted.not. 300 IN A 127.0.0.23"
    local-data-ptr: "127.0.0.24 300 mx0d.emailhosted.not."
    local-data: "mx0d.emailhosted.not. 300 IN A 127.0.0.24"
    local-data-ptr: "127.0.0.25 300 mx0e.emailhosted.not."
    local-data: "mx0e.emailhosted.not. 300 IN A 127.0.0.25"
    local-data-ptr: "127.0.0.26 300 mx0f.emailhosted.not."
    local-data: "mx0f.emailhosted.not. 300 IN A 127.0.0.99"
    local-data-ptr: "127.0.0.27 300 mx0g.emailhosted.not."
    local-data: "mx0g.emailhosted.not. 300 IN A 127.0.0.99"
    local-data-ptr: "127.0.0.28 300 mx0h.emailhosted.not."
    local-data: "mx0h.emailhosted.not. 300 IN A 127.0.0.28"
    local-data-ptr: "127.0.0.29 300 mx0i.emailhosted.not."
    local-data: "mx0i.emailhosted.not. 300 IN A 127.0.0.99"
CONF
start_unbound "$work/daemon" "$work/daemon/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault'

# Servers: good = *.emailhosted.not (verify: CN ~ PTR; hosted: DNS-ID ~ PTR),
# mxonly = DNS:mx01.subd.emailhosted.not (hosted via MX; verify fails),
# untrusted = unknown CA, plain = no STARTTLS, mismatch = SAN-only
# *.emailhosted.not on an address whose PTR is not forward-confirmed.
# 127.0.0.27 shares 127.0.0.21's certificate and session tickets; 127.0.0.28
# and .29 (not forward-confirmed) share a chain with an intermediate.
port=$(free_port)
other_port=$(free_port)
pair() { echo "$certs/$1.pem,$certs/$1.key"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port "$port" \
    127.0.0.21="$(pair emailhosted)" 127.0.0.23="$(pair mx01)" 127.0.0.24="$(pair unknown-ca)" \
    127.0.0.25=none 127.0.0.26="$(pair san-only)" 127.0.0.27="$(pair emailhosted)" \
    127.0.0.28="$(pair emailhosted-via-intermediate)" 127.0.0.29="$(pair emailhosted-via-intermediate)" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool-other" "$work/other.port" \
    --port "$other_port" 127.0.0.26="$(pair san-only)" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && [ -s "$work/other.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "FAIL: SMTP sink did not start"; exit 1; }
declare -A addr=([good]=127.0.0.21 [mxonly]=127.0.0.23 [untrusted]=127.0.0.24 [plain]=127.0.0.25
                 [mismatch]=127.0.0.26)

run_opts=(--domain example.com --ports "$port" --unbound-conf "$work/dns.conf"
          --ca-file "$certs/ca.pem" --dns-timeout 5)

# send CLIENT ADDR PORT MARKER: one delivery attempt, the client as people use it.
send() {
    local client=$1 a=$2 p=$3 marker=$4
    case $client in
    swaks)
        timeout 20 swaks -tlso --to user@example.com --from sender@client.test --server "$a:$p" \
            --header "Subject: $marker" --body "$marker" ;;
    curl)
        printf 'Subject: %s\r\n\r\n%s\r\n' "$marker" "$marker" > "$work/$marker.msg"
        timeout 20 curl -sS -k --ssl "smtp://$a:$p" --mail-from sender@client.test \
            --mail-rcpt user@example.com -T "$work/$marker.msg" ;;
    s_client)
        printf 'EHLO client.test\r\nMAIL FROM:<sender@client.test>\r\nRCPT TO:<user@example.com>\r\nDATA\r\nSubject: %s\r\n\r\n%s\r\n.\r\nQUIT\r\n' \
            "$marker" "$marker" | timeout 20 openssl s_client -starttls smtp -connect "$a:$p" -quiet "${@:5}" ;;
    python)
        timeout 20 /usr/bin/python3 "$SRCDIR/tests/integration/send_smtplib.py" "$a" "$p" \
            user@example.com "$marker" "${@:5}" ;;
    esac
}

# outcome SPOOL MARKER: tls | clear | none
outcome() {
    local f
    f=$(grep -rl -- "$2" "$1" 2>/dev/null | head -1)
    if [ -z "$f" ]; then echo none; elif head -1 "$f" | grep -q yes; then echo tls; else echo clear; fi
}

# expect_delivery WANT CLIENT SERVER-ADDR MARKER [mxverify run options...] [-- client args]
expect_delivery() {
    local want=$1 client=$2 a=$3 marker=$4; shift 4
    local opts=() extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && { shift; extra=("$@"); }
    checks=$((checks + 1))
    local launcher=("$MXVERIFY" run "${run_opts[@]}" ${opts[@]+"${opts[@]}"} --)
    if [ "$VIA" = provider ]; then
        provider_conf "$work/openssl.cnf" "${run_opts[@]}" ${opts[@]+"${opts[@]}"}
        launcher=(env OPENSSL_CONF="$work/openssl.cnf")
    fi
    "${launcher[@]}" bash -c "$(declare -f send); work=$work SRCDIR=$SRCDIR send \"\$@\"" _ \
        "$client" "$a" "$port" "$marker" ${extra[@]+"${extra[@]}"} > "$work/out" 2> "$work/err" < /dev/null || true
    out=$(tr -d '\0' < "$work/out")
    err=$(cat "$work/err")
    local got
    got=$(outcome "$work/spool" "$marker")
    if [ "$got" != "$want" ]; then
        failures=$((failures + 1))
        echo "FAIL: $client to $a ${opts[*]}: expected $want, got $got" >&2
        sed 's/^/    /' "$work/err" | grep -v '^    $' | tail -8 >&2
    fi
}

# policy.md section 3, for clients that use STARTTLS when offered and do not
# verify by themselves (swaks -tlso, curl -k --ssl, s_client).
# The provider sees TLS only: a client that goes on in clear when STARTTLS
# is missing is not stopped by it (documented; the shim stops it).
expected() { # MODE SERVER
    [ "$VIA" = provider ] && [ "$2" = plain ] && { echo clear; return; }
    case "$1:$2" in
    none:plain | preferred:plain | preferred-verify:plain) echo clear ;;
    none:* | preferred:* | preferred-verify:*) echo tls ;;
    required:plain) echo none ;;
    required:*) echo tls ;;
    required-verify:good) echo tls ;;
    required-verify:*) echo none ;;
    required-verify-hosted:good | required-verify-hosted:mxonly) echo tls ;;
    required-verify-hosted:*) echo none ;;
    esac
}

n=0
for mode in none preferred required preferred-verify required-verify required-verify-hosted; do
    for client in swaks curl s_client; do
        for server in good mxonly mismatch untrusted plain; do
            want=$(expected $mode $server)
            # s_client has no clear-text fallback: it never delivers without TLS.
            [ $client = s_client ] && [ $want = clear ] && want=none
            n=$((n + 1))
            expect_delivery "$want" $client "${addr[$server]}" "m$n-$client-$mode-$server" --mode $mode
        done
    done
done
echo "client matrix: $n deliveries checked"

# s_client -security_debug sets a security callback of its own that calls
# the one it replaced (mxverify's): the checks stay, nothing loops.
expect_delivery tls s_client 127.0.0.21 "secdebug-good" --mode required-verify-hosted -- -security_debug
expect_delivery none s_client 127.0.0.26 "secdebug-mismatch" --mode required-verify-hosted -- -security_debug
in_err 'reason=certificate-host-mismatch'

# The decision log: one line per decision with the contract's fields.
expect_delivery tls curl 127.0.0.21 "log-fields" --mode required-verify-hosted
in_err 'verdict=pass mode=required-verify-hosted domain=example.com ip=127.0.0.21 match=dns:*.emailhosted.not~ptr:mx0a.emailhosted.not chain=ok action=proceed'
expect_delivery none curl 127.0.0.26 "log-fail" --mode required-verify-hosted
in_err 'verdict=fail mode=required-verify-hosted domain=example.com ip=127.0.0.26 match=none chain=ok action=abort reason=certificate-host-mismatch'
if [ "$VIA" = shim ]; then
    expect_delivery none swaks 127.0.0.25 "log-plain" --mode required
    in_err 'reason=starttls-not-supported'
fi
# JSON log lines.
expect_delivery tls curl 127.0.0.21 "log-json" --mode required-verify --log-format json
in_err '"verdict":"pass"'
# report-only: decided and logged, never enforced.
expect_delivery tls curl 127.0.0.26 "report-only" --mode required-verify-hosted --report-only
in_err 'verdict=fail'
in_err 'report_only=1'
# preferred-verify: a failure is logged, mail proceeds encrypted.
expect_delivery tls swaks 127.0.0.26 "pv-logged" --mode preferred-verify
in_err 'verdict=fail mode=preferred-verify'
in_err 'action=proceed'

# Python smtplib with ssl.create_default_context(): it checks the chain
# and the host name itself. In the enforcing modes the policy's identity
# check replaces the host name check; the program's chain check stays.
expect_delivery tls python 127.0.0.21 "py-hosted" --mode required-verify-hosted -- "$certs/ca.pem"
expect_delivery none python 127.0.0.26 "py-mismatch" --mode required-verify-hosted -- "$certs/ca.pem"
expect_delivery "$([ "$VIA" = shim ] && echo none || echo clear)" python 127.0.0.25 "py-plain" \
    --mode required-verify-hosted -- "$certs/ca.pem"
expect_delivery clear python 127.0.0.25 "py-plain-none" --mode none -- "$certs/ca.pem"
# The program's own rejections are never overturned: its store lacks the
# test CA (policy passes, the program refuses) ...
expect_delivery none python 127.0.0.21 "py-own-chain" --mode required-verify-hosted
in_err 'verdict=pass'
# ... and outside the enforcing modes its own host name check stays.
expect_delivery none python 127.0.0.21 "py-own-name" --mode preferred-verify -- "$certs/ca.pem"
expect_delivery tls python 127.0.0.21 "py-own-name-ok" --mode preferred-verify -- "$certs/ca.pem" \
    --name mx0a.emailhosted.not

# A session saved to a file and offered again by another process (as
# Postfix's session cache does): it holds the leaf alone, yet it is decided
# as its full handshake was, against a server that sends an intermediate;
# offered to another destination, it is still refused.
# with_settings CMD...: CMD with the shim (run) or the provider (OPENSSL_CONF).
with_settings() {
    if [ "$VIA" = provider ]; then
        provider_conf "$work/openssl.cnf" "${run_opts[@]}" --mode required-verify-hosted
        OPENSSL_CONF="$work/openssl.cnf" "$@"
    else
        "$MXVERIFY" run "${run_opts[@]}" --mode required-verify-hosted -- "$@"
    fi
}
for v in 1.2 1.3; do
    rm -f "$work/sess.pem"
    printf 'QUIT\r\n' | with_settings openssl s_client -tls${v/./_} -starttls smtp \
        -connect "127.0.0.28:$port" -sess_out "$work/sess.pem" -quiet > /dev/null 2> "$work/err" || true
    for target in 127.0.0.28:Reused 127.0.0.29:New; do
        checks=$((checks + 1))
        printf 'QUIT\r\n' | with_settings openssl s_client -tls${v/./_} -starttls smtp \
            -connect "${target%%:*}:$port" -sess_in "$work/sess.pem" > "$work/out" 2> "$work/err" || true
        out=$(cat "$work/out"); err=$(cat "$work/err")
        if [ "${target#*:}" = Reused ]; then
            grep -q "^Reused, TLSv$v" "$work/out" && grep -q 'verdict=pass .*resumed=1' "$work/err" ||
                fail "TLS $v: a saved session was not resumed at its own destination"
        else
            grep -q 'verdict=fail .*ip=127.0.0.29 .*action=abort .*resumed=1' "$work/err" &&
                ! grep -q "^Reused" "$work/out" ||
                fail "TLS $v: a saved session was resumed at another destination"
        fi
    done
done

if [ "$VIA" = provider ]; then
    # Shown active by `openssl list -providers`, next to default.
    provider_conf "$work/openssl.cnf" "${run_opts[@]}" --mode required-verify-hosted
    checks=$((checks + 1))
    OPENSSL_CONF="$work/openssl.cnf" openssl list -providers > "$work/out" 2>&1 || true
    out=$(cat "$work/out"); err=
    grep -q 'mxverify: ESA-style' "$work/out" && grep -A3 'mxverify$' "$work/out" | grep -q 'status: active' ||
        fail "openssl list -providers does not show mxverify active"
    # A non-SMTP TLS service (another port) with a certificate the policy
    # would reject: unaffected.
    checks=$((checks + 1))
    printf 'Subject: other-port\r\n\r\nx\r\n' > "$work/other.msg"
    OPENSSL_CONF="$work/openssl.cnf" curl -sS -k --ssl "smtp://127.0.0.26:$other_port" \
        --mail-from s@client.test --mail-rcpt user@example.com -T "$work/other.msg" 2> "$work/err" || true
    [ "$(outcome "$work/spool-other" other-port)" = tls ] && ! grep -q verdict= "$work/err" ||
        fail "a connection to an out-of-scope port was touched"
    # A broken section: activation fails with a clear message, and SMTP
    # connections fail closed instead of running unverified.
    provider_conf "$work/openssl.cnf" "${run_opts[@]}" --mode sevenish
    checks=$((checks + 1))
    printf 'Subject: broken-section\r\n\r\nx\r\n' > "$work/broken.msg"
    OPENSSL_CONF="$work/openssl.cnf" curl -sS -k --ssl "smtp://127.0.0.21:$port" \
        --mail-from s@client.test --mail-rcpt user@example.com -T "$work/broken.msg" 2> "$work/err" || true
    err=$(cat "$work/err")
    [ "$(outcome "$work/spool" broken-section)" = none ] || fail "a broken provider section did not fail closed"
    in_err 'provider not activated'
    in_err 'sevenish'
    checks=$((checks + 1))
    OPENSSL_CONF="$work/openssl.cnf" openssl list -providers > "$work/out" 2>&1 || true
    ! grep -q 'status: active' <(grep -A3 'mxverify$' "$work/out") || fail "a broken provider shows as active"
    finish
    exit
fi

# No settings at all: identical to no shim (no log, same delivery).
checks=$((checks + 1))
printf 'Subject: plain-shim\r\n\r\nx\r\n' > "$work/nosettings.msg"
env -u MXVERIFY_MODE LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$SHIM" curl -sS -k --ssl "smtp://127.0.0.26:$port" \
    --mail-from s@client.test --mail-rcpt user@example.com -T "$work/nosettings.msg" 2> "$work/err" || true
err=$(cat "$work/err")
[ "$(outcome "$work/spool" plain-shim)" = tls ] && [ ! -s "$work/err" ] ||
    fail "with the shim and no settings, delivery changed or something was logged"

# A port outside `ports`: untouched even in the strictest mode.
checks=$((checks + 1))
"$MXVERIFY" run "${run_opts[@]}" --mode required-verify-hosted -- curl -sS -k --ssl \
    "smtp://127.0.0.26:$other_port" --mail-from s@client.test --mail-rcpt user@example.com \
    -T "$work/nosettings.msg" 2> "$work/err" || true
err=$(cat "$work/err")
[ "$(outcome "$work/spool-other" plain-shim)" = tls ] && ! grep -q verdict= "$work/err" ||
    fail "a connection to an out-of-scope port was touched"

# Malformed settings: one clear log line, fail closed (directly through
# LD_PRELOAD; `run` refuses them up front with exit 2).
checks=$((checks + 1))
printf 'Subject: broken-env\r\n\r\nx\r\n' > "$work/broken.msg"
MXVERIFY_MODE=required-verify-hosted MXVERIFY_DNSSEC=sometimes MXVERIFY_PORTS=$port \
    MXVERIFY_CAFILE="$certs/ca.pem" LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$SHIM" curl -sS -k --ssl "smtp://127.0.0.21:$port" \
    --mail-from s@client.test --mail-rcpt user@example.com -T "$work/broken.msg" \
    2> "$work/err" < /dev/null || true
err=$(cat "$work/err")
[ "$(outcome "$work/spool" broken-env)" = none ] || fail "broken settings did not fail closed"
in_err 'configuration error'
in_err 'MXVERIFY_DNSSEC'
tls_named
expect_exit 2 -- run --mode required-verify-hosted --dnssec sometimes -- true
in_err '--dnssec'
expect_exit 2 -- run --mode sevenish -- true
cp /usr/bin/true "$work/suid-true" && chmod u+s "$work/suid-true"
expect_exit 2 -- run --mode required -- "$work/suid-true"
in_err 'setuid'
expect_exit 127 -- run --mode required -- no-such-program-here
# The exit status is the program's.
expect_exit 3 -- run --mode required -- sh -c 'exit 3'
# LD_PRELOAD is appended to, not replaced.
LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }/x/keep.so" expect_exit 0 -- run --mode none -- sh -c \
    'case "$LD_PRELOAD" in *"/x/keep.so "*libmxverify-preload.so) exit 0;; *) exit 1;; esac'

# One client under valgrind (plain builds): no memory error, no leak, in
# a delivery that passes and one the policy refuses.
if command -v valgrind >/dev/null && [ -z "$asan_rt" ]; then
    for target in 127.0.0.21:tls 127.0.0.26:none; do
        checks=$((checks + 1))
        printf 'Subject: valgrind-%s\r\n\r\nx\r\n' "${target%%:*}" > "$work/vg.msg"
        set +e
        "$MXVERIFY" run "${run_opts[@]}" --mode required-verify-hosted -- valgrind -q \
            --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            --show-leak-kinds=definite curl -sS -k --ssl "smtp://${target%%:*}:$port" \
            --mail-from s@client.test --mail-rcpt user@example.com -T "$work/vg.msg" \
            > "$work/out" 2> "$work/err"
        vg=$?
        set -e
        out=$(cat "$work/out"); err=$(cat "$work/err")
        [ $vg -ne 99 ] && [ "$(outcome "$work/spool" "valgrind-${target%%:*}")" = "${target#*:}" ] ||
            fail "valgrind run of the shim under curl to ${target%%:*}: status $vg"
    done
else
    echo "note: valgrind run of the shim skipped (no valgrind, or an ASan build)"
fi

# Session resumption: 127.0.0.27 accepts 127.0.0.21's sessions, but its
# PTR name is not forward-confirmed. A session verified for .21 must not
# carry that verdict to .27; it may be resumed with .21 again.
checks=$((checks + 1))
"$MXVERIFY" run "${run_opts[@]}" --mode required-verify-hosted -- /usr/bin/python3 \
    "$SRCDIR/tests/integration/resume_client.py" "$port" 127.0.0.21 127.0.0.27 127.0.0.21 \
    > "$work/out" 2> "$work/err" || true
out=$(cat "$work/out"); err=$(cat "$work/err")
printf '%s\n' "$out" | grep -qx '127.0.0.21 ok reused=False' &&
    printf '%s\n' "$out" | grep -q '^127.0.0.27 failed' &&
    printf '%s\n' "$out" | grep -qx '127.0.0.21 ok reused=True' ||
    fail "a resumed session carried a verdict to another destination, or could not be resumed"
in_err 'ip=127.0.0.27 match=none'

# Many handshakes at once in one process (threads), and a forking client:
# every message delivered over TLS, one decision each.
cat > "$work/threads.py" <<'PY'
import os, smtplib, ssl, sys, threading
port, ca, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def deliver(marker):
    s = smtplib.SMTP("127.0.0.21", port, timeout=20)
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.sendmail("s@client.test", ["user@example.com"], "Subject: %s\r\n\r\n%s\r\n" % (marker, marker))
    s.quit()
if how == "threads":
    ts = [threading.Thread(target=deliver, args=("thread-%d" % i,)) for i in range(12)]
    [t.start() for t in ts]
    [t.join() for t in ts]
else:
    deliver("fork-parent-1")
    pid = os.fork()
    if pid == 0:
        deliver("fork-child")
        os._exit(0)
    deliver("fork-parent-2")
    os.waitpid(pid, 0)
PY
for how in threads fork; do
    "$MXVERIFY" run "${run_opts[@]}" --mode required-verify-hosted -- /usr/bin/python3 \
        "$work/threads.py" "$port" "$certs/ca.pem" $how > "$work/out" 2> "$work/err" || true
    out=$(cat "$work/out"); err=$(cat "$work/err")
    checks=$((checks + 1))
    want=$([ $how = threads ] && echo 12 || echo 3)
    got=$(grep -rl -e "thread-" -e "fork-" "$work/spool/127.0.0.21" | xargs grep -l "X-Sink-TLS: yes" | xargs grep -l "$([ $how = threads ] && echo thread- || echo fork-)" | wc -l)
    [ "$got" -eq "$want" ] || fail "$how: $got of $want messages delivered over TLS"
    passes=$(grep -c 'verdict=pass' "$work/err" || true)
    checks=$((checks + 1))
    [ "$passes" -eq "$want" ] || fail "$how: $passes decisions logged for $want handshakes"
done
