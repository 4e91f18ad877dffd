#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# boundary.sh: the enforcement boundary. Under required-verify-hosted (and
# required), no clear text beyond the greeting exchange and no TLS data
# without a pass decision leaves an in-scope connection, whatever the
# server does and however the program writes. In a network and mount
# namespace of its own (SMTP on port 25, resolv.conf bind-mounted there
# only): adversary_smtp.py plays the servers (alert after the ClientHello,
# 454, garbage, anonymous suites only, a slow ServerHello, an injected
# reply, no STARTTLS) and records every line that crossed in clear;
# guard_client (every unusual-but-legal way of writing, holding a socket
# and feeding OpenSSL), asyncio_client.py and Debian's swaks, curl,
# openssl s_client and Python smtplib are the programs. Each numbered
# case is an input of the issue that made this test.
# VIA=provider: the cases the provider can reach, through OPENSSL_CONF.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_BOUNDARY_NS:-}" != 1 ]; then
    need_tools unbound swaks curl openssl
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    : "${SHIM:?}" "${GUARD_CLIENT:?}"
    in_namespaces MXV_BOUNDARY_NS
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"
ip link set lo up
VIA=${VIA:-shim}
chmod 755 "$work"
# In an ASan build only the clients built with the project run (ASan is in
# them); Debian's cannot run with a preloaded ASan runtime.
# The ASan runtime goes first in LD_PRELOAD, before the shim that needs it.
debian=1
asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
if [ -n "$asan_rt" ]; then
    debian=
    export LD_PRELOAD=$asan_rt ASAN_OPTIONS=detect_leaks=0
    echo "note: ASan build: guard_client cases only (swaks, curl, s_client, Python skipped)"
fi

# --- DNS, for mxverify (libunbound) and for programs that look up (libc) ---
# example.com's MX is mail.example.com (.51, certificate for example.com);
# every other server has a PTR name, forward-confirmed except .49 and .50.
mkdir -p "$work/dns"
cat > "$work/dns/world.conf" <<'CONF'
server:
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "example.com." static
    local-zone: "emailhosted.not." static
    local-data: "example.com. 300 IN MX 10 mail.example.com."
    local-data: "mail.example.com. 300 IN A 127.0.0.51"
CONF
for n in 41 42 43 44 45 46 47 48 52 53 55; do
    printf '    local-data-ptr: "127.0.0.%s 300 mx%s.emailhosted.not."\n    local-data: "mx%s.emailhosted.not. 300 IN A 127.0.0.%s"\n' \
        $n $n $n $n >> "$work/dns/world.conf"
done
for n in 49 50; do
    printf '    local-data-ptr: "127.0.0.%s 300 mx%s.emailhosted.not."\n    local-data: "mx%s.emailhosted.not. 300 IN A 127.0.0.99"\n' \
        $n $n $n >> "$work/dns/world.conf"
done
pf_dns "$work/dns" "$work/dns/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }

# --- the servers ---
pair() { echo "$certs/$1.pem,$certs/$1.key"; }
"$PY" "$SRCDIR/tests/integration/adversary_smtp.py" "$work/spool" "$work/adv.port" --port 25 \
    --lifetime 600 --slow-seconds 2 \
    127.0.0.41=normal,"$(pair emailhosted)" 127.0.0.42=alert 127.0.0.43=454 127.0.0.44=garbage \
    127.0.0.45=anon 127.0.0.46=slow,"$(pair emailhosted)" 127.0.0.47=inject,"$(pair emailhosted)" \
    127.0.0.48=notls 127.0.0.49=normal,"$(pair san-only)" 127.0.0.50=normal,"$(pair emailhosted)" \
    127.0.0.51=normal,"$(pair example)" 127.0.0.52=late 127.0.0.54=stall 2> "$work/adv.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/adversary_smtp.py" "$work/spool-side" "$work/side.port" \
    --port 8443 --lifetime 600 127.0.0.60=tlsecho,"$(pair unknown-ca)" 2>> "$work/adv.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$ODD_TLS_SERVER" reneg 127.0.0.53 25 "$certs/emailhosted.pem" "$certs/emailhosted.key" \
    "$certs/unknown-ca.pem" "$certs/unknown-ca.key" "$work/reneg.log" 600 2>> "$work/adv.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
psk_key=$(openssl rand -hex 32)
"$ODD_TLS_SERVER" psk 127.0.0.55 25 mxv-test "$psk_key" "$work/psk.log" 600 2>> "$work/adv.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do
    [ -s "$work/adv.port" ] && [ -s "$work/side.port" ] && [ -s "$work/reneg.log" ] &&
        [ -s "$work/psk.log" ] && break
    sleep 0.1
done
[ -s "$work/adv.port" ] && [ -s "$work/reneg.log" ] && [ -s "$work/psk.log" ] ||
    { echo "FAIL: the SMTP servers did not start"; cat "$work/adv.err"; exit 1; }

settings=(--unbound-conf "$work/dns.conf" --ca-file "$certs/ca.pem" --dns-timeout 5)

# with MODE CMD...: CMD under mxverify in MODE for example.com (shim:
# `mxverify run`; provider: OPENSSL_CONF). $out/$err keep what it said.
with() {
    local mode=$1; shift
    local -a opts=("${settings[@]}" --mode "$mode")
    [ -n "${NO_DOMAIN:-}" ] || opts+=(--domain example.com)
    if [ "$VIA" = provider ]; then
        local -a kvs=(log=stderr)
        local i
        for ((i = 0; i < ${#opts[@]}; i += 2)); do
            local k=${opts[i]#--}
            kvs+=("${k//-/_}=${opts[i + 1]}")
        done
        openssl_cnf "$work/openssl.cnf" "$PROVIDER" "${kvs[@]}"
        OPENSSL_CONF="$work/openssl.cnf" timeout 30 "$@" > "$work/out" 2> "$work/err" < /dev/null ||
            true
    else
        timeout 30 "$MXVERIFY" run "${opts[@]}" -- "$@" > "$work/out" 2> "$work/err" < /dev/null ||
            true
    fi
    out=$(tr -d '\0' < "$work/out")
    err=$(cat "$work/err")
    sanitizer_clean "$*"
}
# sanitizer_clean WHAT: the last run reported no sanitizer error (a crash
# would otherwise pass for a refusal), and its lines with a verdict all
# name the TLS library.
sanitizer_clean() {
    case "$err" in
    *"ERROR: AddressSanitizer"* | *"runtime error:"*) checks=$((checks + 1)); fail "sanitizer: $1" ;;
    esac
    tls_named
}


# clean ADDR: no line other than the greeting exchange reached ADDR in clear.
clean() {
    checks=$((checks + 1))
    local bad
    bad=$("$PY" "$SRCDIR/tests/integration/adversary_smtp.py" --check-clear "$work/spool" "$1") ||
        { out="clear text at $1: $bad"; fail "clear text beyond the greeting reached $1 ($2)"; }
}
# nothing_in_tls ADDR WHY: no line at all was received inside TLS at ADDR.
nothing_in_tls() {
    checks=$((checks + 1))
    [ ! -s "$work/spool/$1/tls.log" ] || { out=$(cat "$work/spool/$1/tls.log"); fail "$2"; }
}
reset_spool() { rm -rf "$work/spool"/127.0.0.*/clear.log "$work/spool"/127.0.0.*/tls.log; }

if [ "$VIA" = shim ]; then
# 1. A handshake that failed for another reason than the policy: the
#    program goes on in clear; nothing but QUIT may follow.
for server in 42 43 44; do
    for mode in required-verify-hosted required; do
        reset_spool
        [ -n "$debian" ] || continue
        with $mode swaks --server 127.0.0.$server --to user@example.com --from s@client.test -tlso \
            --header "Subject: c1-swaks-$server-$mode" --body x
        clean 127.0.0.$server "swaks -tlso after $server under $mode"
        expect_got none "c1-swaks-$server-$mode" "swaks -tlso to .$server under $mode"
        in_err "why="
    done
done
for server in 42 43 44; do
    for mode in required-verify-hosted required; do
        reset_spool
        with $mode "$GUARD_CLIENT" 127.0.0.$server 25 --on-tls-failure continue \
            --marker "c1-gc-$server-$mode"
        clean 127.0.0.$server "guard_client continuing in clear after $server under $mode"
        expect_got none "c1-gc-$server-$mode" "guard_client to .$server under $mode"
        in_err "why="
    done
done
# ... and after a certificate the policy refused (swaks -tlso goes on).
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.49 25 --on-tls-failure continue \
    --marker c1-refused-gc
clean 127.0.0.49 "guard_client going on in clear after a refused certificate"
expect_got none c1-refused-gc "guard_client going on in clear after a refused certificate"
in_err 'why="clear-text retry refused'
if [ -n "$debian" ]; then
reset_spool
with required-verify-hosted swaks --server 127.0.0.49 --to user@example.com --from s@client.test \
    -tlso --header "Subject: c1-refused" --body x
clean 127.0.0.49 "swaks -tlso after a refused certificate"
expect_got none c1-refused "swaks -tlso after a refused certificate"
in_err "reason=certificate-host-mismatch"
in_err 'why="clear-text retry refused'
fi

# 2. A handshake that completes without a certificate: anonymous suites.
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.45 25 --ciphers 'ALL:@SECLEVEL=0' --tls-max 1.2 --marker c2-anon
expect_got none c2-anon "anonymous TLS under required-verify-hosted"
nothing_in_tls 127.0.0.45 "data went over anonymous TLS under required-verify-hosted"
clean 127.0.0.45 "anonymous TLS under required-verify-hosted"
in_err "reason=validation-failure"
with required "$GUARD_CLIENT" 127.0.0.45 25 --ciphers 'ALL:@SECLEVEL=0' --tls-max 1.2 --marker c2-anon-required
expect_got tls c2-anon-required "anonymous TLS under required (TLS, no verification asked)"

# 3. Memory BIOs, two handshakes interleaved in one thread: each is tied to
#    its own socket, and judged on its own.
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.49 25 --bio mem --interleave 127.0.0.41 --marker c3
checks=$((checks + 1))
grep -q '^conn1: failed' "$work/out" && grep -q '^conn2: delivered tls=yes' "$work/out" ||
    fail "interleaved memory-BIO handshakes: the unverified one passed or the verified one failed"
in_err 'verdict=fail mode=required-verify-hosted domain=example.com ip=127.0.0.49'
in_err 'verdict=pass mode=required-verify-hosted domain=example.com ip=127.0.0.41'
nothing_in_tls 127.0.0.49 "data reached the unverified server of an interleaved pair"
if [ -n "$debian" ]; then
with required-verify-hosted "$PY" "$SRCDIR/tests/integration/asyncio_client.py" 127.0.0.49 25 \
    --interleave 127.0.0.41 --marker c3-asyncio
checks=$((checks + 1))
grep -q '^127.0.0.49 failed' "$work/out" && grep -q '^127.0.0.41 delivered tls=yes' "$work/out" ||
    fail "asyncio: interleaved handshakes judged wrongly"
nothing_in_tls 127.0.0.49 "asyncio: data reached the unverified server"
fi

# 4. A session resumed over a memory BIO at another destination (the
#    descriptor numbers differ): decided again, refused.
for v in 1.2 1.3; do
    for bio in mem custom; do
        reset_spool
        with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --bio $bio --tls-max $v --resume-to 127.0.0.50 \
            --marker "c4-$bio-$v"
        checks=$((checks + 1))
        grep -q '^conn1: delivered tls=yes' "$work/out" && grep -q '^conn2: failed' "$work/out" ||
            fail "TLS $v, $bio BIO: a session resumed at another destination was not refused"
        in_err 'ip=127.0.0.50 '
        nothing_in_tls 127.0.0.50 "TLS $v $bio: data went over a resumed session nobody decided"
    done
done
if [ -n "$debian" ]; then
reset_spool
with required-verify-hosted "$PY" "$SRCDIR/tests/integration/asyncio_client.py" 127.0.0.41 25 \
    --resume-to 127.0.0.50 --marker c4-asyncio
checks=$((checks + 1))
grep -q '^127.0.0.50 failed' "$work/out" || fail "asyncio: a session resumed at another destination passed"
nothing_in_tls 127.0.0.50 "asyncio: data went over a resumed session nobody decided"
fi

# 5. Every way of writing, to a server without STARTTLS, under required
#    (and each one delivers without mxverify: the refusal is mxverify's).
#    glibc's other names, pwritev2(), POSIX AIO, urgent data, stdio written
#    by inline macros and flushed by fflush(NULL), wide characters, libc's
#    syscall().
for how in write send sendto sendmsg writev sendmmsg stdio stdout sendfile splice \
    __write __send pwritev2 aio oob stdio-inline wide syscall \
    syscall-pwritev2; do
    reset_spool
    with required "$GUARD_CLIENT" 127.0.0.48 25 --write $how --marker "c5-$how"
    clean 127.0.0.48 "--write $how"
    expect_got none "c5-$how" "--write $how"
    # (urgent data cannot deliver: the server takes a byte out of each line)
    [ $how != oob ] || continue
    with none "$GUARD_CLIENT" 127.0.0.48 25 --write $how --marker "c5-none-$how"
    expect_got clear "c5-none-$how" "--write $how without mxverify"
done
for how in writev sendmsg sendmmsg; do
    reset_spool
    with required "$GUARD_CLIENT" 127.0.0.48 25 --write $how --iov 100 --marker "c5-iov-$how"
    clean 127.0.0.48 "--write $how with 100 iovecs"
done
for dup in dup dup2 fcntl; do
    reset_spool
    with required "$GUARD_CLIENT" 127.0.0.48 25 --dup $dup --marker "c5-$dup"
    clean 127.0.0.48 "a socket used through $dup()"
done
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --exec-child --marker c5-exec
clean 127.0.0.48 "a socket inherited across exec"
expect_got none c5-exec "a socket inherited across exec"
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --fd-gap 3000 --marker c5-gap
clean 127.0.0.48 "a socket above descriptor 3000"
set +e
gc 127.0.0.48 25 --bigfd --no-mail > /dev/null 2>&1
bigfd=$?
set -e
if [ $bigfd -eq 77 ]; then
    echo "note: descriptors >= 70000 not allowed here (RLIMIT_NOFILE); --fd-gap 3000 instead"
else
    reset_spool
    with required "$GUARD_CLIENT" 127.0.0.48 25 --bigfd --marker c5-bigfd
    clean 127.0.0.48 "a socket above descriptor 70000"
fi

# 6. A TLS connection to another port (a certificate no policy would
#    pass), made right after an SMTP connection's handshake: untouched,
#    judged by nothing; one decision only, the SMTP connection's.
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --port8443 127.0.0.60:8443 --marker c6
checks=$((checks + 1))
grep -q '^side: ok' "$work/out" && grep -q '^delivered tls=yes' "$work/out" &&
    [ "$(grep -c 'verdict=' "$work/err")" = 1 ] ||
    fail "a memory-BIO connection to port 8443 was touched"

# 8. An engine that cannot be loaded is not no policy: the shim alone
#    fails in-scope connections closed.
mkdir -p "$work/lonely"
cp "$SHIM" "$work/lonely/"
for server in 48 41; do
    reset_spool
    MXVERIFY_MODE=required-verify-hosted MXVERIFY_DOMAIN=example.com \
        LD_PRELOAD="${asan_rt:+$asan_rt }$work/lonely/$(basename "$SHIM")" timeout 30 "$GUARD_CLIENT" 127.0.0.$server 25 \
        --marker "c8-$server" > "$work/out" 2> "$work/err" < /dev/null || true
    out=$(cat "$work/out") err=$(cat "$work/err")
    sanitizer_clean "no engine, server .$server"
    expect_got none "c8-$server" "no engine, server .$server"
    clean 127.0.0.$server "no engine, server .$server"
    in_err "cannot load libmxverify"
    in_err "fail closed"
done
nothing_in_tls 127.0.0.41 "data went over TLS no engine decided"
# ... and a program that chroots first has what it needs loaded before.
mkdir -p "$work/jail"
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --chroot "$work/jail" --marker c8-chroot
expect_got tls c8-chroot "a chrooted program"
in_err 'verdict=pass mode=required-verify-hosted domain=example.com ip=127.0.0.41'

# 10. The context follows the socket: looked up on one descriptor, TLS on a
#     duplicate. The certificate matches the recipient domain only.
reset_spool
NO_DOMAIN=1 with required-verify-hosted "$GUARD_CLIENT" - 25 --lookup example.com --dup dup --marker c10
expect_got tls c10 "TLS on a duplicate of the socket whose MX lookup was seen"
in_err 'verdict=pass mode=required-verify-hosted domain=example.com ip=127.0.0.51 match=dns:example.com~domain:example.com'

# 11. The scanner's own grammar: none of these may cross in clear.
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --no-mail --raw ' MAIL FROM:<a@b>' --marker c11a
with required "$GUARD_CLIENT" 127.0.0.48 25 --no-mail --raw 'MAIL\tFROM:<a@b>' --marker c11b
with required "$GUARD_CLIENT" 127.0.0.48 25 --no-mail --raw 'MAIL  FROM:<a@b>' --marker c11c
with required "$GUARD_CLIENT" 127.0.0.48 25 --no-mail --raw 'BDAT 10 LAST' --marker c11d
with required "$GUARD_CLIENT" 127.0.0.48 25 --no-mail --raw 'DATA' --marker c11e
with required "$GUARD_CLIENT" 127.0.0.48 25 --split 3 --marker c11f
with required "$GUARD_CLIENT" 127.0.0.48 25 --split 1 --marker c11g
clean 127.0.0.48 "the scanner's grammar"
for m in c11f c11g; do expect_got none $m "MAIL FROM split across writes"; done

# 12. A vfork() child, which has descriptors of its own in its parent's
#     memory (Python's subprocess, posix_spawn), closing or replacing the
#     socket between EHLO and MAIL: the parent's connection stays guarded.
for v in close close_range closefrom dup2; do
    reset_spool
    with required "$GUARD_CLIENT" 127.0.0.48 25 --vfork $v --marker "c12-$v"
    clean 127.0.0.48 "after a vfork() child's $v"
    expect_got none "c12-$v" "after a vfork() child's $v"
done
# ... and a child made by _Fork(), no fork handlers run, with a connection
#     of its own: the table is the child's now, its connection guarded.
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --fork-raw --marker c12-fork-raw
in_err "_Fork child wrote MAIL FROM: -1"
clean 127.0.0.48 "a _Fork() child's own connection"
if [ -n "$debian" ]; then
    reset_spool
    with required /usr/bin/python3 "$SRCDIR/tests/integration/subprocess_client.py" 127.0.0.48 25 c12-python
    clean 127.0.0.48 "Python smtplib after subprocess.run()"
    expect_got none c12-python "Python smtplib after subprocess.run()"
    with none /usr/bin/python3 "$SRCDIR/tests/integration/subprocess_client.py" 127.0.0.48 25 c12-python-none
    expect_got clear c12-python-none "Python smtplib after subprocess.run(), no mxverify"
fi

# 13. connect() interrupted by a signal (EINTR) goes on in the background,
#     on a descriptor number that was a file's first: still guarded.
reset_spool
with required "$GUARD_CLIENT" 127.0.0.52 25 --connect-eintr --marker c13
in_err "connect() interrupted (EINTR)"
clean 127.0.0.52 "a connection whose connect() was interrupted"
expect_got none c13 "a connection whose connect() was interrupted"
# ... and TCP Fast Open aimed elsewhere on a connected socket changes nothing.
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --tfo-other --marker c13-tfo
clean 127.0.0.48 "sendto(MSG_FASTOPEN) to another port on the connection"
expect_got none c13-tfo "sendto(MSG_FASTOPEN) to another port on the connection"
# ... nor connect() and Fast Open with a UNIX address on it (EISCONN).
reset_spool
with required "$GUARD_CLIENT" 127.0.0.48 25 --unix-other --marker c13-unix
in_err "connect(AF_UNIX) -> -1"
clean 127.0.0.48 "connect() and sendto(MSG_FASTOPEN) with a UNIX address on the connection"
expect_got none c13-unix "connect() and sendto(MSG_FASTOPEN) with a UNIX address on the connection"

# ... and buffers that cannot be read fail as the kernel says (EFAULT):
#     never a crash, never a byte unjudged.
for mode in required-verify-hosted none; do
    reset_spool
    with $mode "$GUARD_CLIENT" 127.0.0.48 25 --efault --no-mail --marker c13-efault
    checks=$((checks + 1))
    grep -q '^efault: ok' "$work/out" || fail "writes from unreadable buffers ($mode)"
done
clean 127.0.0.48 "writes from unreadable buffers"

# ... and a zero-copy send (the kernel reads its bytes after the call, while
#     the server does not read): the bytes that leave are the program's.
reset_spool
with required "$GUARD_CLIENT" 127.0.0.54 25 --zerocopy --no-mail --marker c13-zerocopy
in_err "zero-copy send -> "
clean 127.0.0.54 "a zero-copy send"

# ... and a program that sandboxes itself after its first write (a seccomp
#     filter that kills at process_vm_readv and kcmp, loaded as libseccomp
#     does): it lives, and its mail goes over verified TLS.
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --seccomp --vfork close --marker c13-seccomp
in_err "seccomp filter loaded"
expect_got tls c13-seccomp "a program that sandboxes itself"

# 14. A signal handler writing to self-pipes while the program is inside
#     the shim: no deadlock; errno as the program left it; mail over TLS.
reset_spool
with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --selfpipe --errno-check --marker c14
checks=$((checks + 1))
grep -q '^selfpipe: 400 signals handled' "$work/out" || fail "self-pipe signal handlers under the shim"
checks=$((checks + 1))
grep -q '^errno: kept' "$work/out" || fail "errno changed by the shim's first look at a descriptor"
expect_got tls c14 "mail after a signal storm"

# Real clients against the whole cast: nothing but the greeting in clear,
# nothing at all over TLS that was not verified.
for server in 42 43 44 45 46 47 48 49; do
    [ -n "$debian" ] || break
    reset_spool
    with required-verify-hosted swaks --server 127.0.0.$server --to user@example.com \
        --from s@client.test -tlso --header "Subject: real-swaks-$server" --body x
    printf 'Subject: real-curl-%s\r\n\r\nx\r\n' $server > "$work/msg"
    with required-verify-hosted curl -sS -k --ssl "smtp://127.0.0.$server:25" \
        --mail-from s@client.test --mail-rcpt user@example.com -T "$work/msg"
    printf 'EHLO c\r\nMAIL FROM:<s@c>\r\nRCPT TO:<user@example.com>\r\nDATA\r\nSubject: real-sclient-%s\r\n\r\nx\r\n.\r\nQUIT\r\n' \
        $server | with required-verify-hosted openssl s_client -starttls smtp -connect 127.0.0.$server:25 -quiet
    with required-verify-hosted /usr/bin/python3 "$SRCDIR/tests/integration/send_smtplib.py" \
        127.0.0.$server 25 user@example.com "real-smtplib-$server" "$certs/ca.pem"
    clean 127.0.0.$server "real clients against .$server"
    for c in swaks curl sclient smtplib; do
        g=$(got "real-$c-$server")
        checks=$((checks + 1))
        # .46 (slow) and .47 (injected reply) present a verifiable
        # certificate: over TLS, or not at all; never in clear.
        if [ $server = 46 ] || [ $server = 47 ]; then
            [ "$g" != clear ] || fail "$c to .$server: delivered in clear"
        else
            [ "$g" = none ] || fail "$c to .$server: delivered ($g)"
        fi
    done
    [ $server = 46 ] || [ $server = 47 ] || nothing_in_tls 127.0.0.$server "real clients to .$server"
done
fi

# --- what the provider can reach, and the same what the shim reaches ---
if [ "$VIA" = provider ] || [ "$VIA" = shim ]; then
    # 2. Anonymous suites: no certificate decision, no handshake.
    reset_spool
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.45 25 --ciphers 'ALL:@SECLEVEL=0' --tls-max 1.2 \
        --marker "p2-anon-$VIA"
    nothing_in_tls 127.0.0.45 "$VIA: data went over anonymous TLS"
    in_err "without a certificate"
    #    The same with a security callback of the program's own, set on the
    #    SSL_CTX after it was made, or on the SSL: it took mxverify's place,
    #    and the check of the server's choice with it (no certificate, so
    #    no decision either). One allows everything (ctx, ssl); one calls
    #    the callback it replaced, mxverify's (chain, as s_client
    #    -security_debug does).
    for where in ctx ssl chain; do
        reset_spool
        with required-verify-hosted "$GUARD_CLIENT" 127.0.0.45 25 --ciphers 'ALL:@SECLEVEL=0' \
            --tls-max 1.2 --own-security-cb $where --marker "p2-anon-own-$where-$VIA"
        nothing_in_tls 127.0.0.45 "$VIA: data went over anonymous TLS (own security callback, $where)"
        in_err "without a certificate"
    done
    #    A chaining callback on a server that deserves the mail: delivered
    #    over TLS, the program's callback asked all along.
    reset_spool
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --own-security-cb chain \
        --marker "p2-own-chain-ok-$VIA"
    expect_got tls "p2-own-chain-ok-$VIA" "$VIA: a chaining security callback of the program's own"
    checks=$((checks + 1))
    grep -Eq 'own security callback called [1-9][0-9]* times' "$work/err" ||
        fail "$VIA: the program's own security callback was not called"
    #    TLS 1.3 with an external pre-shared key: no certificate either. The
    #    key's session comes from the program's callback while OpenSSL
    #    writes the ClientHello, after mxverify looked at it, so the
    #    handshake is a resumption its ClientHello did not decide. Under
    #    required (TLS, nothing verified) the same server takes the mail: the
    #    refusal above is mxverify's, not a broken test server's.
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.55 25 --psk "mxv-test:$psk_key" \
        --marker "p2-psk-$VIA"
    checks=$((checks + 1))
    ! grep -q "accepted p2-psk-$VIA" "$work/psk.log" ||
        fail "$VIA: mail went over TLS authenticated by a pre-shared key alone"
    in_err "pre-shared key"
    with required "$GUARD_CLIENT" 127.0.0.55 25 --psk "mxv-test:$psk_key" --marker "p2-psk-ok-$VIA"
    checks=$((checks + 1))
    grep -q "accepted p2-psk-ok-$VIA" "$work/psk.log" ||
        fail "$VIA: the pre-shared key server took no mail under required"
    #    The key offered beside a ticket of a verified server whose
    #    certificate also passes for this one (*.emailhosted.not, and .55's
    #    name is mx55.emailhosted.not): the ticket is decided at the
    #    ClientHello, and passes; the server resumes the key instead.
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --tls-max 1.3 \
        --session-out "$work/ticket-$VIA.pem" --marker "p2-ticket-$VIA"
    checks=$((checks + 1))
    [ -s "$work/ticket-$VIA.pem" ] || fail "$VIA: no session saved from .41"
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.55 25 --session-in "$work/ticket-$VIA.pem" \
        --psk "mxv-test:$psk_key" --marker "p2-psk-ticket-$VIA"
    checks=$((checks + 1))
    ! grep -q "accepted p2-psk-ticket-$VIA" "$work/psk.log" ||
        fail "$VIA: mail went over a pre-shared key offered beside a decided ticket"
    in_err "pre-shared key"
    # 6. Another port, with an SMTP connection open: untouched.
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --port8443 127.0.0.60:8443 --marker "p6-$VIA"
    checks=$((checks + 1))
    grep -q '^side: ok' "$work/out" && [ "$(grep -c 'verdict=' "$work/err")" = 1 ] ||
        fail "$VIA: a TLS connection to port 8443 was touched"
    # 7. A BIO of the program's own, on a descriptor above 1024.
    reset_spool
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.49 25 --bio custom --fd-gap 1100 --marker "p7-$VIA"
    expect_got none "p7-$VIA" "$VIA: a custom BIO above descriptor 1024 to an unverified server"
    nothing_in_tls 127.0.0.49 "$VIA: data went to an unverified server through a custom BIO"
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --bio custom --fd-gap 1100 --marker "p7-ok-$VIA"
    expect_got tls "p7-ok-$VIA" "$VIA: a custom BIO above descriptor 1024 to a verified server"
    # 9. The program's own cert-verify callback, set after mxverify's.
    reset_spool
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.49 25 --own-verify-cb --marker "p9-$VIA"
    expect_got none "p9-$VIA" "$VIA: a program's own cert-verify callback bypassed the policy"
    nothing_in_tls 127.0.0.49 "$VIA: data went past a replaced callback"
    in_err "verdict=fail"
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --own-verify-cb --marker "p9-ok-$VIA"
    if [ "$VIA" = shim ]; then
        # The shim sees the setter: the program's callback runs inside mxverify's.
        expect_got tls "p9-ok-$VIA" "shim: the program's own callback with a verified server"
    else
        # The provider cannot: the replacement is found at the server's
        # signature, and the handshake fails closed, saying why.
        expect_got none "p9-ok-$VIA" "provider: a replaced callback, even to a verified server"
        in_err "the certificate was never shown to mxverify"
    fi
    # 15. A renegotiation inside TLS to a certificate no policy passes:
    #     refused, whichever BIO; without mxverify the server does it and
    #     takes the mail.
    for bio in socket mem custom; do
        with required-verify-hosted "$GUARD_CLIENT" 127.0.0.53 25 --bio $bio --tls-max 1.2 \
            --marker "c15-$bio-$VIA"
        checks=$((checks + 1))
        ! grep -q "accepted c15-$bio-$VIA" "$work/reneg.log" ||
            fail "$VIA, $bio BIO: mail went after a renegotiation to an untrusted certificate"
        in_err 'verdict=fail'
    done
    with none "$GUARD_CLIENT" 127.0.0.53 25 --bio mem --tls-max 1.2 --marker "c15-none-$VIA"
    checks=$((checks + 1))
    grep -q "renegotiated" "$work/reneg.log" && grep -q "accepted c15-none-$VIA" "$work/reneg.log" ||
        fail "the renegotiating server did not renegotiate and take the mail without mxverify"
    # 3/4 without the shim: memory BIOs are tied to their socket, or fail.
    reset_spool
    with required-verify-hosted "$GUARD_CLIENT" 127.0.0.49 25 --bio mem --interleave 127.0.0.41 --marker "p3-$VIA"
    checks=$((checks + 1))
    grep -q '^conn1: failed' "$work/out" || fail "$VIA: an interleaved unverified handshake passed"
    nothing_in_tls 127.0.0.49 "$VIA: data reached the unverified server of an interleaved pair"
    for v in 1.2 1.3; do
        reset_spool
        with required-verify-hosted "$GUARD_CLIENT" 127.0.0.41 25 --bio mem --tls-max $v --resume-to 127.0.0.50 \
            --marker "p4-$v-$VIA"
        checks=$((checks + 1))
        grep -q '^conn2: failed' "$work/out" ||
            fail "$VIA: TLS $v, a memory-BIO session resumed at another destination passed"
        nothing_in_tls 127.0.0.50 "$VIA: TLS $v: data over a resumed session nobody decided"
    done
fi
finish
