# SPDX-License-Identifier: Apache-2.0
# lib.sh: shared by the integration test scripts (sourced, not run).
# Expects MXVERIFY (the binary), MAKE_CERTS and SRCDIR in the environment.
set -eu
SKIP=77
: "${MXVERIFY:?MXVERIFY (the mxverify binary) must be set}"
: "${MAKE_CERTS:?MAKE_CERTS (the make_test_certs binary) must be set}"
: "${SRCDIR:?SRCDIR (the source tree) must be set}"
work=$(mktemp -d /tmp/mxv-integ.XXXXXX)
cleanup_hooks=()
cleanup() {
    local hook
    for hook in ${cleanup_hooks[@]+"${cleanup_hooks[@]}"}; do eval "$hook" || true; done
    # A file system a script mounted in $work (in its own mount namespace),
    # deepest first; and rm never crosses into one that is left.
    local mnt
    while IFS= read -r mnt; do umount -l "$(printf %b "$mnt")" 2>/dev/null || true; done < <(
        awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failures=0
checks=0

# JSON checks use Debian's own python3 (not whatever python3 is first on
# PATH); without it they fall back to grep on the compact JSON line.
# MXV_TEST_NO_PYTHON=1 forces the fallback.
PY=
if [ "${MXV_TEST_NO_PYTHON:-0}" != 1 ] && [ -x /usr/bin/python3 ] &&
    /usr/bin/python3 -c 'import json' 2>/dev/null; then
    PY=/usr/bin/python3
fi

. "$SRCDIR/tests/integration/openssl_cnf.sh"

"$MAKE_CERTS" "$work" >/dev/null
certs=$work

fail() { # fail MESSAGE: one failed check, with the last output
    echo "FAIL: $1" >&2
    printf '%s\n%s\n' "$out" "$err" | head -40 >&2
    failures=$((failures + 1))
}

# expect_exit WANT -- ARGS...: runs "$MXVERIFY" ARGS, keeps its output in
# $out (stdout) and $err (stderr), checks the exit status.
expect_exit() {
    local want=$1; shift; [ "$1" = "--" ] && shift
    set +e
    out=$("$MXVERIFY" "$@" 2>"$work/stderr")
    status=$?
    set -e
    err=$(cat "$work/stderr")
    checks=$((checks + 1))
    if [ "$status" -ne "$want" ]; then
        fail "exit $status, wanted $want: mxverify $*"
    fi
    return 0
}

# has TEXT: the last output (stdout+stderr) contains TEXT.
has() {
    checks=$((checks + 1))
    case "$out$err" in
    *"$1"*) return 0 ;;
    esac
    fail "output lacks '$1'"
    return 0
}

# lacks TEXT: the last output (stdout+stderr) does not contain TEXT.
lacks() {
    checks=$((checks + 1))
    case "$out$err" in
    *"$1"*) fail "output has '$1'" ;;
    esac
    return 0
}

# in_err TEXT: the last stderr contains TEXT (usage and config errors).
in_err() {
    checks=$((checks + 1))
    case "$err" in
    *"$1"*) return 0 ;;
    esac
    fail "stderr lacks '$1'"
    return 0
}

# tls_named: every line with a verdict in the last stderr names the TLS
# library, or none (tls=; docs/interfaces.md), refusals included.
tls_named() {
    checks=$((checks + 1))
    local bad
    bad=$(grep 'verdict=' <<< "$err" | grep -v ' tls=' | head -1)
    [ -z "$bad" ] || fail "a line with a verdict but no tls=: $bad"
    return 0
}

# json_is EXPR VALUE: EXPR is a Python expression over the JSON object `j`
# on stdout, VALUE its json.dumps() form. Without Debian's python3, a
# plain path j["a"]["b"] is checked by grep for "b":VALUE in the compact
# output; other expressions are then not checked (said so on stderr).
json_is() {
    checks=$((checks + 1))
    local got
    if [ -n "$PY" ]; then
        got=$(printf '%s' "$out" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print(json.dumps($1))" 2>/dev/null) ||
            got="(no JSON)"
        [ "$got" = "$2" ] || fail "$1 is $got, wanted $2"
        return 0
    fi
    if [[ $1 =~ ^j(\[\"[a-z_]+\"\])*\[\"([a-z_]+)\"\]$ ]]; then
        local key=${BASH_REMATCH[2]} compact
        compact=$(printf '%s' "$2" | sed 's/", "/","/g; s/": /":/g; s/, \([[{"0-9tfn]\)/,\1/g')
        case "$out" in
        *"\"$key\":$compact"*) return 0 ;;
        esac
        fail "JSON lacks \"$key\":$compact (grep fallback for $1)"
        return 0
    fi
    echo "note: not checked without /usr/bin/python3: $1 == $2" >&2
    checks=$((checks - 1))
}

# elapsed_at_most SECONDS START: a bounded duration check.
elapsed_at_most() {
    checks=$((checks + 1))
    local took=$(($(date +%s) - $2))
    [ "$took" -le "$1" ] || fail "took ${took}s, at most $1 s allowed"
}

# got MARKER: tls | clear | none: how the message with MARKER reached any
# SMTP sink or adversary spooling under $work/spool.
got() {
    local f
    f=$(grep -rl --include='*.eml' -- "$1" "$work/spool" 2>/dev/null | head -1)
    if [ -z "$f" ]; then echo none; elif head -1 "$f" | grep -q yes; then echo tls; else echo clear; fi
}
expect_got() { # expect_got WANT MARKER WHAT
    checks=$((checks + 1))
    local g
    g=$(got "$2")
    [ "$g" = "$1" ] || { out=$(grep -rl --include='*.eml' -- "$2" "$work/spool" | xargs -r head -2); fail "$3: $2 $g, wanted $1"; }
}

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}

# port_in_use PORT: something listens on PORT (UDP or TCP), on any address.
port_in_use() {
    ss -Hlnut 2>/dev/null | awk '{print $5}' | grep -q ":$1\$"
}

# free_port: a high port nothing listens on (UDP and TCP).
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    echo "free_port: no free port found" >&2
    return 1
}

# tcp_up ADDR PORT: something accepts TCP connections on ADDR:PORT.
tcp_up() {
    timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# foreign_root_anchor: the root trust anchor mxverify reads by default
# (/usr/share/dns/root.key, bind-mounted in this mount namespace only)
# becomes a key of the test's own, which no answer of the test's unsigned
# resolver satisfies: a resolver path that carries no DNSSEC. Needs
# ldns-keygen and dns-root-data (the file to mount over).
foreign_root_anchor() {
    mkdir -p "$work/anchor"
    (cd "$work/anchor" && cp "$(ldns-keygen -a ECDSAP256SHA256 -k .).key" root.key)
    mount --bind "$work/anchor/root.key" /usr/share/dns/root.key
}

# start_unbound DIR EXTRA_CONF: starts `unbound -d` on 127.0.0.x and a free
# high port, serving what EXTRA_CONF (unbound.conf clauses) says; working
# directory DIR. Sets dns_addr, dns_port, dns_pid; the daemon is stopped
# on exit. Waits at most 5 s per attempt for it to accept TCP; retries with
# another address and port when it cannot bind. Returns 1 if it never came up.
start_unbound() {
    local dir=$1 extra=$2 attempt
    for attempt in 1 2 3; do
        # An address no daemon of this test took: two on one address and
        # port (53, for resolv.conf) both start (SO_REUSEPORT), and answer
        # in turn.
        while :; do
            dns_addr=127.0.0.$((30 + RANDOM % 200))
            case " ${unbound_addrs:-} " in *" $dns_addr "*) ;; *) break ;; esac
        done
        dns_port=$(free_port)
        cat > "$dir/unbound.conf" <<CONF
server:
    interface: $dns_addr
    port: $dns_port
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: "$dir/unbound.log"
    verbosity: 1
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
remote-control:
    control-enable: no
CONF
        cat "$extra" >> "$dir/unbound.conf"
        unbound-checkconf "$dir/unbound.conf" >/dev/null || return 1
        : > "$dir/unbound.log"
        unbound -d -c "$dir/unbound.conf" > /dev/null 2>&1 &
        dns_pid=$!
        cleanup_hooks+=("kill $dns_pid 2>/dev/null; wait $dns_pid 2>/dev/null")
        local tries
        for tries in $(seq 50); do
            if tcp_up "$dns_addr" "$dns_port"; then
                unbound_addrs="${unbound_addrs:-} $dns_addr"
                return 0
            fi
            kill -0 "$dns_pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "unbound did not come up on $dns_addr@$dns_port (attempt $attempt):" >&2
        tail -5 "$dir/unbound.log" >&2
        kill "$dns_pid" 2>/dev/null || true
        wait "$dns_pid" 2>/dev/null || true
    done
    return 1
}

# stop_unbound: stops the daemon started last, now (also done on exit).
stop_unbound() {
    kill "$dns_pid" 2>/dev/null || true
    wait "$dns_pid" 2>/dev/null || true
}

# A libunbound config (for --unbound-conf) that forwards every query to the
# daemon: forward_conf FILE [SERVER-LINES...]. libunbound answers the
# special-use zones the test worlds use itself unless told "nodefault".
forward_conf() {
    local file=$1; shift
    {
        printf 'server:\n    do-not-query-localhost: no\n'
        printf '    local-zone: "%s" nodefault\n' 2.0.192.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa. test. invalid.
        for line in "$@"; do printf '    %s\n' "$line"; done
        printf 'forward-zone:\n    name: "."\n    forward-addr: %s@%s\n' "$dns_addr" "$dns_port"
    } > "$file"
}

# spki CERT.pem: the SHA-256 of its public key, as a "3 1 1" TLSA record has it.
spki() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum |
        cut -d' ' -f1
}

# host_cert NAME: $work/NAME.pem and $work/NAME.key, a certificate for the
# DNS name NAME from the test CA ($certs/ca.pem).
host_cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$work/$1.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
            -CAcreateserial -days 30 -out "$work/$1.pem" \
            -extfile <(echo "subjectAltName=DNS:$1") 2>/dev/null
}

# sign_zones NAME...: signs each $z/NAME.zone with a key of its own into
# $z/NAME.zone.signed, and adds the keys to $work/anchors (trust anchors).
sign_zones() {
    local name key
    for name; do
        key=$(cd "$z" && ldns-keygen -a ECDSAP256SHA256 -k "$name") || return 1
        (cd "$z" && ldns-signzone "$name.zone" "$key") || return 1
        cat "$z/$key.key" >> "$work/anchors"
    done
}

# serve_zones KIND NAME...: unbound.conf clauses (on stdout) serving each
# $z/NAME.zone.signed. KIND plain: as they are (the client validates);
# validating: looked up and validated against $work/anchors, answers to
# clients with the AD bit (a resolver for programs that trust it).
serve_zones() {
    local kind=$1 name; shift
    if [ "$kind" = validating ]; then
        printf 'server:
    module-config: "validator iterator"
'
        printf '    trust-anchor-file: "%s"
' "$work/anchors"
    else
        printf 'server:
    module-config: "iterator"
'
    fi
    for name; do
        printf 'auth-zone:
    name: "%s."
    zonefile: "%s/%s.zone.signed"
' "$name" "$z" "$name"
        printf '    for-downstream: %s
    for-upstream: yes
    fallback-enabled: no
' \
            "$([ "$kind" = validating ] && echo no || echo yes)"
    done
}

# zone NAME RECORDS...: a zone file $z/NAME.zone (SOA, NS, the records),
# for start_unbound's auth-zones; $z is the caller's zone directory.
zone() {
    local name=$1; shift
    {
        printf '$ORIGIN %s.\n$TTL 300\n' "$name"
        printf '@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n@ NS ns.%s.\n' "$name" "$name" "$name"
        printf '%s\n' "$@"
    } > "$z/$name.zone"
}
