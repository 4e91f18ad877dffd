#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gnutls.sh: GnuTLS programs through the preload shim (shim/hook_gnutls.c).
# gnutls_client verifies as real GnuTLS mail programs do: not at all
# (none), as Exim 4.96 does (exim: verify_peers2 then check_hostname after
# the handshake, optional with --optional as tls_try_verify_hosts makes
# it), as msmtp does (verify_peers3 after the handshake), GnuTLS's own
# auto-verification (auto: gnutls_session_set_verify_cert), and a
# credentials-level verify function (cred). In a network and mount
# namespace of its own (port 25, /etc/hosts bind-mounted there only):
# STARTTLS sinks, one without STARTTLS, one on a port out of scope.
# In the ASan build the client is built with ASan too, and runs with the
# ASan shim; elsewhere one run goes under valgrind.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_GNUTLS_NS:-}" != 1 ]; then
    : "${SHIM:?}" "${GNUTLS_CLIENT:?}"
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    in_namespaces MXV_GNUTLS_NS
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up
sysctl -qw net.ipv4.tcp_fastopen=3 2>/dev/null || true

c() { echo "$certs/$1.pem,$certs/$1.key"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 300 127.0.0.21="$(c example)" 127.0.0.22="$(c emailhosted)" \
    127.0.0.23="$(c mx6)" 127.0.0.24="$(c mx6)" 127.0.0.25=none 2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink2.port" --port 2525 \
    --lifetime 300 127.0.0.22="$(c emailhosted)" 2> "$work/sink2.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && [ -s "$work/sink2.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] && [ -s "$work/sink2.port" ] ||
    { echo "FAIL: SMTP sinks did not start"; cat "$work/sink.err" "$work/sink2.err"; exit 1; }
printf '127.0.0.1 localhost\n127.0.0.21 mx.example.com\n127.0.0.22 mx.other.test\n127.0.0.23 mx6.emailhosted.not\n127.0.0.24 other.test\n127.0.0.25 plain.example.com\n' \
    > "$work/hosts"
mount --bind "$work/hosts" /etc/hosts
# mxverify's DNS: nothing but "no" (the decisions here rest on the
# recipient domain and the names the client gives GnuTLS).
printf 'server:\n    local-zone: "." static\n' > "$work/world.conf"

# deliver WANT EXIT LOGTEXT WHAT -- CLIENT-ARGS...: one run of gnutls_client
# through the shim (required-verify for example.com unless MODE says);
# the message (its marker, the last argument) arrives as WANT (tls, clear,
# none), the client exits EXIT, the shim's log says LOGTEXT.
n=0
deliver() {
    local want=$1 code=$2 logtext=$3 what=$4; shift 5
    n=$((n + 1))
    local marker="gnutls-$n"
    checks=$((checks + 1))
    set +e
    env MXVERIFY_MODE="${MODE:-required-verify}" MXVERIFY_DOMAIN="${DOMAIN-example.com}" \
        MXVERIFY_UNBOUND_CONF="$work/world.conf" MXVERIFY_CAFILE="${CAFILE-$certs/ca.pem}" \
        MXVERIFY_LOG=stderr LD_PRELOAD="$preload" \
        ${WRAP:-} "$GNUTLS_CLIENT" "$@" 25 "$marker" > "$work/out" 2> "$work/err" < /dev/null
    local status=$?
    set -e
    out=$(cat "$work/out") err=$(cat "$work/err")
    [ "$status" = "$code" ] || fail "$what: exit $status, wanted $code"
    expect_got "$want" "$marker" "$what"
    [ -z "$logtext" ] || has "$logtext"
}
ca=(--cafile "$certs/ca.pem")
# In the ASan build the sanitizer runtime must come first in the preload list.
asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
preload="${asan_rt:+$asan_rt }$SHIM"
styles=(none exim msmtp auto cred)

for s in "${styles[@]}"; do
    # The policy's identity (the recipient domain) matches; the program's
    # own name check (mx.example.com) reports the policy's verdict.
    deliver tls 0 'verdict=pass' "pass, $s" -- --style "$s" "${ca[@]}" mx.example.com
    has 'tls=gnutls'
    lacks 'verification failed'
    # A mismatch fails the handshake, even where the program treats
    # verification as optional, and its retry in clear is refused.
    deliver none 2 'reason=certificate-host-mismatch' "mismatch, optional, $s" -- \
        --style "$s" --optional --tryclear "${ca[@]}" mx.other.test
    has 'clear-text retry refused'
done
# The program's own rejection stands: the policy passes (mxverify trusts the
# test CA), the program does not know the CA.
for s in exim msmtp auto cred; do
    deliver none 1 'verdict=pass' "the program's own rejection, $s" -- --style "$s" mx.example.com
done
# The anchors the program loaded itself count: no ca_file, the client's
# own CA file (Exim's tls_verify_certificates, msmtp's tls_trust_file).
for s in exim msmtp; do
    CAFILE= deliver tls 0 'verdict=pass' "the program's own anchors, $s" -- --style "$s" "${ca[@]}" \
        mx.example.com
done
# Mode none, DANE and MTA-STS off: untouched (the program's optional check).
MODE=none deliver tls 0 '' "mode none, exim optional" -- --style exim --optional "${ca[@]}" mx.other.test
lacks 'verdict='
# Out of scope (port 2525): untouched.
n=$((n + 1))
set +e
env MXVERIFY_MODE=required-verify MXVERIFY_DOMAIN=example.com MXVERIFY_LOG=stderr \
    LD_PRELOAD="$preload" "$GNUTLS_CLIENT" --style exim --optional "${ca[@]}" mx.other.test 2525 \
    "gnutls-$n" > "$work/out" 2> "$work/err"
set -e
expect_got tls "gnutls-$n" "out-of-scope port"
# No STARTTLS: nothing in clear.
deliver none 2 'reason=starttls-not-supported' "no STARTTLS, retry in clear" -- \
    --style exim --tryclear "${ca[@]}" plain.example.com
# TCP Fast Open (Exim 4.96's way of connecting): in scope all the same.
deliver tls 0 'verdict=pass' "Fast Open, pass" -- --style exim --fastopen "${ca[@]}" mx.example.com
deliver none 2 'reason=certificate-host-mismatch' "Fast Open, mismatch" -- \
    --style exim --optional --fastopen "${ca[@]}" mx.other.test
# A session resumed at another destination is decided for that one
# (GnuTLS's own auto-verification skips resumptions). No recipient domain
# known, required-verify-hosted: the MX host is the name the client gives
# GnuTLS, mx6.emailhosted.not (the certificate's) and then other.test.
for s in auto cred none; do
    code=2 # the client's "error: handshake failed"; cred's own callback says "refused"
    [ "$s" != cred ] || code=1
    DOMAIN= MODE=required-verify-hosted deliver tls "$code" 'reason=certificate-host-mismatch' \
        "resumption elsewhere, $s" -- --style "$s" "${ca[@]}" --resume-to other.test \
        mx6.emailhosted.not
    has 'resumed=1'
done

# Memory: the shim's GnuTLS hooks under valgrind (not in the ASan build).
if command -v valgrind >/dev/null && ! ldd "$SHIM" | grep -q libasan; then
    WRAP="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q" \
        deliver tls 0 'verdict=pass' "under valgrind" -- --style exim --fastopen "${ca[@]}" \
        --resume-to mx.example.com mx.example.com
else
    echo "note: valgrind run not made here (ASan build, or no valgrind)"
fi
finish
