# lib.sh: shared by the integration test scripts (sourced, not run).
# Expects MXVERIFY (the binary), MAKE_CERTS and SRCDIR in the environment.
set -eu
SKIP=77
work=$(mktemp -d /tmp/mxv-integ.XXXXXX)
cleanup_hooks=()
cleanup() {
    local hook
    for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
checks=0

"$MAKE_CERTS" "$work" >/dev/null
certs=$work

# expect_exit WANT -- explain ARGS...: runs `mxverify explain`, keeps its
# output in $out (stdout) and $err (stderr), checks the exit status.
expect_exit() {
    local want=$1; shift; [ "$1" = "--" ] && shift
    set +e
    out=$("$MXVERIFY" "$@" 2>"$work/stderr")
    status=$?
    set -e
    err=$(cat "$work/stderr")
    checks=$((checks + 1))
    if [ "$status" -ne "$want" ]; then
        echo "FAIL: exit $status, wanted $want: mxverify $*" >&2
        echo "$out" "$err" | head -40 >&2
        failures=$((failures + 1))
        return 0
    fi
    return 0
}

# has TEXT: the last output (stdout+stderr) contains TEXT.
has() {
    checks=$((checks + 1))
    case "$out$err" in
    *"$1"*) return 0 ;;
    esac
    echo "FAIL: output lacks '$1'" >&2
    echo "$out" "$err" | head -40 >&2
    failures=$((failures + 1))
    return 1
}

# json_is EXPR VALUE: a Python expression over the JSON object `j`.
json_is() {
    checks=$((checks + 1))
    local got
    got=$(printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); print(json.dumps($1))") || got="(no JSON)"
    if [ "$got" != "$2" ]; then
        echo "FAIL: $1 is $got, wanted $2" >&2
        failures=$((failures + 1))
        return 0
    fi
}

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}

# A free UDP+TCP port on 127.0.0.1 from the kernel's ephemeral range.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
