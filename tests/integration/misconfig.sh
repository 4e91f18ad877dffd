#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# misconfig.sh: the mistakes a tired administrator makes, each of which
# must end in exit 2 from the command, or in in-scope connections failing
# closed with one clear line naming the mistake; never in weaker checking.
# Real clients (curl, openssl) and a spooling SMTP server on loopback.
. "$(dirname "$0")/lib.sh"
: "${SHIM:?}" "${PROVIDER:?}"
[ -n "$PY" ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
command -v curl >/dev/null || { echo "skipped: curl not installed"; exit $SKIP; }
asan_rt=$(ldd "$SHIM" 2>/dev/null | awk '/libasan/ {print $3}')
[ -z "$asan_rt" ] || { echo "skipped: ASan build (Debian's curl cannot run with a preloaded ASan runtime)"; exit $SKIP; }

cat > "$work/world.conf" <<'CONF'
server:
    local-zone: "." static
    local-zone: "127.in-addr.arpa." nodefault
    local-data-ptr: "127.0.0.26 300 mx0f.emailhosted.not."
    local-data: "mx0f.emailhosted.not. 300 IN A 127.0.0.99"
CONF
port=$(free_port)
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port "$port" \
    127.0.0.26="$certs/san-only.pem,$certs/san-only.key" 127.0.0.25=none &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || { echo "FAIL: SMTP sink did not start"; exit 1; }

# outcome MARKER: tls | clear | none (what the sink received)
outcome() {
    local f
    f=$(grep -rl -- "$1" "$work/spool" 2>/dev/null | head -1)
    if [ -z "$f" ]; then echo none; elif head -1 "$f" | grep -q yes; then echo tls; else echo clear; fi
}
# deliver MARKER ADDR ENV...: curl -k --ssl with the environment given.
deliver() {
    local marker=$1 addr=$2; shift 2
    printf 'Subject: %s\r\n\r\n%s\r\n' "$marker" "$marker" > "$work/msg"
    env "$@" curl -sS -k --ssl "smtp://$addr:$port" --mail-from s@client.test \
        --mail-rcpt user@example.com -T "$work/msg" > "$work/out" 2> "$work/err" < /dev/null || true
    out=$(cat "$work/out") err=$(cat "$work/err")
}
expect_none() { # MARKER WHAT
    checks=$((checks + 1))
    [ "$(outcome "$1")" = none ] || fail "$2: delivered"
}
shim_env=(LD_PRELOAD="$SHIM" MXVERIFY_LOG=stderr MXVERIFY_UNBOUND_CONF="$work/world.conf"
          MXVERIFY_CAFILE="$certs/ca.pem" MXVERIFY_DOMAIN=example.com)

# 1. A misspelt key in the provider's section of openssl.cnf: not activated,
#    said with file and line, SMTP connections fail closed.
openssl_cnf "$work/openssl.cnf" "$PROVIDER" mdoe=required-verify-hosted "ports=$port" \
    "unbound_conf=$work/world.conf" "ca_file=$certs/ca.pem" domain=example.com log=stderr
set +e
out=$(OPENSSL_CONF="$work/openssl.cnf" openssl list -providers 2>&1) err=
set -e
has "key 'mdoe': unknown key"
has "$work/openssl.cnf:"
checks=$((checks + 1))
! grep -A3 'mxverify$' <<<"$out" | grep -q 'status: active' || fail "a section with 'mdoe' shows active"
deliver c1-mdoe 127.0.0.26 OPENSSL_CONF="$work/openssl.cnf"
expect_none c1-mdoe "a provider section with a misspelt key"
in_err "mdoe"

# 2. The shipped example makes a provider that cannot be loaded loud.
checks=$((checks + 1))
grep -q '^config_diagnostics = 1' "$SRCDIR/examples/openssl-mxverify.cnf" ||
    fail "examples/openssl-mxverify.cnf does not set config_diagnostics = 1"
# example_refused SED WHAT: the shipped example changed by SED stops
# s_client before it connects.
example_refused() {
    sed -e "$1" "$SRCDIR/examples/openssl-mxverify.cnf" > "$work/example.cnf"
    set +e
    OPENSSL_CONF="$work/example.cnf" openssl s_client -connect "127.0.0.26:$port" -starttls smtp \
        < /dev/null > "$work/out" 2> "$work/err"
    local status=$?
    set -e
    out=$(cat "$work/out") err=$(cat "$work/err")
    checks=$((checks + 1))
    [ $status -ne 0 ] && ! grep -q 'CONNECTED' "$work/out" || fail "$2"
}
# The example as shipped, with the module installed somewhere else.
example_refused "s|/usr/lib/x86_64-linux-gnu/ossl-modules/mxverify.so|$work/nowhere/mxverify.so|" \
    "a provider that cannot load went unnoticed"
# ... and with the module where it is, but a misspelt key in its section.
example_refused "s|/usr/lib/x86_64-linux-gnu/ossl-modules/mxverify.so|$PROVIDER|; s|^mode = |mdoe = |" \
    "the example with a misspelt key went on"
in_err "the provider 'mxverify' is not active"
# ... and with the provider's module path wrong but the module found as a
#     configuration module: a program that goes on after its configuration
#     failed (curl) has its SMTP connections fail closed all the same.
sed -e "s|^module = .*|module = $work/nowhere/mxverify.so|" \
    -e "s|/usr/lib/x86_64-linux-gnu/ossl-modules/mxverify.so|$PROVIDER|" \
    -e "s|^ports = 25|ports = $port|" "$SRCDIR/examples/openssl-mxverify.cnf" > "$work/example.cnf"
deliver c2-module-path 127.0.0.26 OPENSSL_CONF="$work/example.cnf"
expect_none c2-module-path "the provider's module not found, curl carrying on"
in_err "SMTP connections fail closed"
# ... and a program that loads an openssl.cnf of its own (not OPENSSL_CONF,
#     not the default): the provider cannot check that file's section at
#     start-up, so SMTP connections fail closed until the configuration
#     module, which sees the file OpenSSL loaded, has checked it.
own_cnf() { # own_cnf FILE [EXTRA KEY=VALUE]: the example, ports and world set, EXTRA added
    sed -e "s|/usr/lib/x86_64-linux-gnu/ossl-modules/mxverify.so|$PROVIDER|" \
        -e "s|^ports = 25|ports = $port\nunbound_conf = $work/world.conf\nca_file = $certs/ca.pem\ndomain = example.com${2:+\\n$2}|" \
        -e "s|^log = syslog|log = stderr|" \
        "$SRCDIR/examples/openssl-mxverify.cnf" > "$1"
}
own() { # own CNF: guard_client loading CNF itself
    out=$(env -u OPENSSL_CONF "$GUARD_CLIENT" 127.0.0.26 "$port" --openssl-conf "$1" --no-mail 2>&1) || true
    err=$out
}
own_cnf "$work/own.cnf"
grep -v mxverify_required "$work/own.cnf" > "$work/own-bare.cnf"
own "$work/own-bare.cnf"
in_err "the provider's section could not be checked"
own "$work/own.cnf"
in_err "verdict=fail mode=required-verify-hosted domain=example.com ip=127.0.0.26"
own_cnf "$work/own-typo.cnf" "mdoe = none"
own "$work/own-typo.cnf"
in_err "key 'mdoe': unknown key"
# ... a program that loads its own file (a typo, no mxverify_required),
#     then lets OpenSSL load OPENSSL_CONF, whose module checks a section
#     that is not the one the provider was started from: stays closed.
sed 's/^mode = /mdoe = /' "$work/own-bare.cnf" > "$work/own-typo-bare.cnf"
out=$(OPENSSL_CONF="$work/own.cnf" "$GUARD_CLIENT" 127.0.0.26 "$port" \
    --load-conf "$work/own-typo-bare.cnf" --no-mail 2>&1) || true
err=$out
in_err "is not the configuration the provider was started from (they differ on 'mode')"
checks=$((checks + 1))
! grep -q '^ok tls=yes' <<<"$out" || fail "a provider started from an unchecked section went on"
# ... and a value that names a section: OpenSSL passes that section's keys
#     instead of the key, which the provider never receives.
{ cat "$work/own.cnf"; printf '[required-verify-hosted]\n'; } > "$work/own-section.cnf"
own "$work/own-section.cnf"
in_err "key 'mode': its value names the section [required-verify-hosted]"
in_err "verdict=fail mode=-"
# ... and sections OpenSSL reads for the provider other than the one named
#     "mxverify": an entry "x.mxverify" or a section with "identity =
#     mxverify" configures it too (two sections: which one counts?), and a
#     backquoted .include in the section is read (a key given twice).
providers_cnf() { # FILE ENTRY...: the provider section [p] (a key given twice) and [q]
    { printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\n'
      printf '%s\n' "${@:2}"
      printf '[p]\nmodule = %s\nactivate = 1\nmode = required-verify-hosted\nmode = none\n' "$PROVIDER"
      printf '[q]\nmodule = %s\nactivate = 1\nmode = none\n' "$PROVIDER"; } > "$1"
}
providers_list() { # FILE: openssl list -providers with it
    set +e
    out=$(OPENSSL_CONF="$1" openssl list -providers 2>&1) err=$out
    set -e
}
providers_cnf "$work/dot.cnf" "x.mxverify = p" "mxverify = q"
providers_list "$work/dot.cnf"
in_err "provider 'mxverify' is configured by two sections, [p] and [q]"
providers_cnf "$work/identity.cnf" "smtp = p" "mxverify = q"
sed -i 's/^\[p\]$/[p]\nidentity = mxverify/' "$work/identity.cnf"
providers_list "$work/identity.cnf"
in_err "provider 'mxverify' is configured by two sections, [p] and [q]"
providers_cnf "$work/alone.cnf" "x.mxverify = p"
providers_list "$work/alone.cnf"
in_err "key 'mode' given twice in [p]"
printf 'mode = required-verify-hosted\n' > "$work/strong.cnf"
providers_cnf "$work/backquote.cnf" "mxverify = q"
sed -i "s|^\[q\]\$|[q]\n.include \`$work/strong.cnf\`|" "$work/backquote.cnf"
providers_list "$work/backquote.cnf"
in_err "key 'mode' given twice in [q]"
# ... and the example, right: the program runs.
sed -e "s|/usr/lib/x86_64-linux-gnu/ossl-modules/mxverify.so|$PROVIDER|" \
    "$SRCDIR/examples/openssl-mxverify.cnf" > "$work/example.cnf"
set +e
out=$(OPENSSL_CONF="$work/example.cnf" openssl list -providers 2>&1) err=
set -e
has "mxverify: ESA-style TLS verification for SMTP clients"

# 3. MXVERIFY_CONF (or --conf) naming a directory, a device or /dev/zero.
for bad in "$work" /dev/null /dev/zero; do
    expect_exit 2 -- explain --conf "$bad" --cert "$certs/example.pem" --domain example.com --mx a.example.com
    in_err "not a regular file"
    MXVERIFY_CONF=$bad expect_exit 2 -- run --mode none -- true
    in_err "not a regular file"
    deliver "c3-$(basename "$bad")" 127.0.0.26 "${shim_env[@]}" MXVERIFY_CONF="$bad" \
        MXVERIFY_MODE=required-verify-hosted MXVERIFY_PORTS="$port"
    expect_none "c3-$(basename "$bad")" "MXVERIFY_CONF=$bad"
    in_err "not a regular file"
done
MXVERIFY_CONF= expect_exit 0 -- run --mode none -- true # empty: no config file

# 4. An unreadable port list fails closed on every port, not only on 25.
deliver c4-ports 127.0.0.26 "${shim_env[@]}" MXVERIFY_MODE=required-verify-hosted \
    MXVERIFY_PORTS="${port}x"
expect_none c4-ports "MXVERIFY_PORTS=${port}x"
in_err "MXVERIFY_PORTS"

# 5. run checks every setting it hands over, before it runs anything.
MXVERIFY_MODE=bogus expect_exit 2 -- run -- true
in_err "MXVERIFY_MODE=bogus"
printf 'mdoe = required-verify-hosted\n' > "$work/typo.conf"
MXVERIFY_CONF=$work/typo.conf expect_exit 2 -- run -- true
in_err "$work/typo.conf:1: key 'mdoe': unknown key"
expect_exit 2 -- run --conf "$work/typo.conf" -- true
in_err "key 'mdoe'"

# 6. A log file that cannot be written: said once, decisions still made
#    (and logged to syslog instead).
deliver c6-log 127.0.0.26 "${shim_env[@]}" MXVERIFY_MODE=required-verify-hosted \
    MXVERIFY_PORTS="$port" MXVERIFY_LOG=file:/nonexistent/dir/x
expect_none c6-log "an unwritable log file (the mismatch must still be refused)"
in_err "cannot write the log file /nonexistent/dir/x"
checks=$((checks + 1))
[ "$(grep -c 'cannot write the log file' "$work/err")" = 1 ] || fail "the log file failure was said more than once"

# 7. Destinations have settings, the program gives no domain: one line per
#    connection saying so, and which mode applied.
printf 'mode = none\ndestinations = dests\n[dests]\nexample.com = strict\n[strict]\nmode = required-verify-hosted\n' \
    > "$work/dests.conf"
deliver c7-unknown 127.0.0.25 LD_PRELOAD="$SHIM" MXVERIFY_LOG=stderr MXVERIFY_CONF="$work/dests.conf" \
    MXVERIFY_PORTS="$port" MXVERIFY_UNBOUND_CONF="$work/world.conf"
in_err "destination=unknown ip=127.0.0.25 mode=none"

# 8. A value with a newline cannot forge a log line.
deliver c8-forge 127.0.0.26 "${shim_env[@]}" MXVERIFY_MODE=required-verify-hosted \
    MXVERIFY_PORTS="$port" MXVERIFY_DNSSEC=$'sometimes\nmxverify: verdict=pass forged'
checks=$((checks + 1))
! grep -q '^mxverify: verdict=pass forged' "$work/err" || fail "a newline in a variable forged a log line"
in_err 'sometimes\x0amxverify'

# 10. explain --cert: a damaged chain file is an error naming it, never a
#     chain quietly cut short.
head -n 13 "$certs/via-intermediate.pem" > "$work/truncated.pem"
openssl x509 -in "$certs/example.pem" -outform DER -out "$work/example.der"
cat "$certs/ca.pem" "$certs/example.pem" > "$work/ca-first.pem"
explain_cert() { expect_exit 2 -- explain --cert "$1" --domain example.com --mx a.example.com \
    --ca-file "$certs/ca.pem"; }
explain_cert "$work/truncated.pem"
in_err "$work/truncated.pem: PEM block 2 is damaged or truncated"
explain_cert "$work/example.der"
in_err "the file is DER"
explain_cert "$work"
in_err "$work: is a directory"
explain_cert "$work/ca-first.pem"
in_err "certificate 1 is a CA and certificate 2 is not"
expect_exit 0 -- explain --cert "$certs/via-intermediate.pem" --domain example.com --ca-file "$certs/ca.pem"

# 13. No answer size changes a verdict silently: a PTR answer of 41 names
#     (one of them the certificate's), a PTR name with 40 addresses (one of
#     them the connected one). Whatever order the resolver returns, the
#     outcome is a pass, or temporary saying why; never a failure.
{
    printf 'server:\n    local-zone: "." static\n    local-zone: "127.in-addr.arpa." nodefault\n'
    for i in $(seq 40); do
        printf '    local-data: "77.0.0.127.in-addr.arpa. 300 IN PTR n%s.emailhosted.not."\n' "$i"
        printf '    local-data: "n%s.emailhosted.not. 300 IN A 127.0.0.77"\n' "$i"
    done
    printf '    local-data: "77.0.0.127.in-addr.arpa. 300 IN PTR mx6.emailhosted.not."\n'
    printf '    local-data: "mx6.emailhosted.not. 300 IN A 127.0.0.77"\n'
} > "$work/many-names.conf"
{
    printf 'server:\n    local-zone: "." static\n    local-zone: "127.in-addr.arpa." nodefault\n'
    printf '    local-data: "78.0.0.127.in-addr.arpa. 300 IN PTR mx6.emailhosted.not."\n'
    for i in $(seq 39); do printf '    local-data: "mx6.emailhosted.not. 300 IN A 127.0.1.%s"\n' "$i"; done
    printf '    local-data: "mx6.emailhosted.not. 300 IN A 127.0.0.78"\n'
} > "$work/many-addresses.conf"
for case in many-names:127.0.0.77 many-addresses:127.0.0.78; do
    set +e
    out=$("$MXVERIFY" explain --unbound-conf "$work/${case%%:*}.conf" --ca-file "$certs/ca.pem" \
        --cert "$certs/mx6.pem" --domain example.com --mx other.example.com --ip "${case#*:}" 2>&1)
    status=$?
    set -e
    err=
    checks=$((checks + 1))
    case $status in
    0) ;;
    3) has "more than 32" ;;
    *) fail "${case%%:*}: an answer too big to compare whole decided exit $status" ;;
    esac
done
# Nothing matches among the names compared: temporary, and the log says why.
expect_exit 3 -- explain --unbound-conf "$work/many-names.conf" --ca-file "$certs/ca.pem" \
    --cert "$certs/example.pem" --domain other.example --mx other.example.com --ip 127.0.0.77 --json
json_is 'j["temporary"]' 'true'
json_is '"more than 32" in j["why"]' 'true'

# 11. One normalisation of an IPv4-mapped address, everywhere.
expect_exit 1 -- explain --unbound-conf "$work/world.conf" --ca-file "$certs/ca.pem" \
    --cert "$certs/san-only.pem" --domain example.com --ip ::ffff:127.0.0.26 --json
json_is 'j["references"][-1]["name"]' '"mx0f.emailhosted.not"'

# 14. What OpenSSL's config parser keeps quiet about: a key given twice
#     (the last, weaker, would win), a destination given twice, an .include
#     of nothing, a mistake inside an included file (named with its line),
#     a destination name that is not ASCII.
printf 'mode = required-verify\nmode = none\n' > "$work/twice.conf"
expect_exit 2 -- explain --conf "$work/twice.conf" --cert "$certs/example.pem" --domain example.com \
    --mx a.example.com
in_err "twice.conf:2: key 'mode' given twice in [default] (also at $work/twice.conf:1"
printf 'destinations = d\n[d]\nexample.com = strict\nexample.com = weak\n[strict]\nmode = required-verify\n[weak]\nmode = none\n' \
    > "$work/dest-twice.conf"
expect_exit 2 -- explain --conf "$work/dest-twice.conf" --cert "$certs/example.pem" \
    --domain example.com --mx a.example.com
in_err "key 'example.com' given twice in [d]"
printf 'mode = none\n.include %s/nowhere/strict.conf\n' "$work" > "$work/include.conf"
expect_exit 2 -- explain --conf "$work/include.conf" --cert "$certs/example.pem" --domain example.com \
    --mx a.example.com
in_err "include.conf:2: .include $work/nowhere/strict.conf: No such file or directory"
printf 'mode = required-verify\nmdoe = none\n' > "$work/inner.conf"
printf '.include %s/inner.conf\n' "$work" > "$work/outer.conf"
expect_exit 2 -- explain --conf "$work/outer.conf" --cert "$certs/example.pem" --domain example.com \
    --mx a.example.com
in_err "$work/inner.conf:2: key 'mdoe': unknown key"
printf 'destinations = d\n[d]\nb\303\274cher.example = weak\n[weak]\nmode = none\n' > "$work/idn.conf"
expect_exit 2 -- explain --conf "$work/idn.conf" --cert "$certs/example.pem" --domain example.com \
    --mx a.example.com
in_err "names must be ASCII"
# ... and files OpenSSL reads otherwise than a plain reading would: each a
#     key given twice, or what mxverify cannot follow, never the last one
#     silently (crypto/conf/conf_def.c's rules: a continuation after a
#     comment, a long line, directives with suffixes or a section prefix,
#     include directories with .CNF names, a CR before a header, a
#     byte-order mark, a line cut where a 510-octet chunk ends in CR, a
#     directory's file including another before the directory's next file,
#     a directory included while another is read, OPENSSL_CONF_INCLUDE
#     empty).
scan=$work/scan
mkdir -p "$scan/d" "$scan/d2/inner" "$scan/order"
printf 'mode = preferred\n' > "$scan/weak.cnf"
printf 'mode = preferred\n' > "$scan/d/weak.CNF"
printf '.include %s/d2/inner\n' "$scan" > "$scan/d2/base.cnf"
printf 'mode = required\n' > "$scan/d2/inner/mode.cnf"
printf '.include %s/ex-header.cnf\nmode = required-verify\n' "$scan" > "$scan/order/a.cnf"
printf '[ex]\n' > "$scan/ex-header.cnf"
printf '[ex2]\nmode = required-verify\n' > "$scan/order/b.cnf"
printf 'mode = required-verify\n' > "$scan/ex-policy.cnf"
scan_case() { # NAME EXPECTED [VAR=VALUE]: $scan/NAME.conf is refused, saying EXPECTED
    local rc=0
    env ${3:+"$3"} "$MXVERIFY" explain --conf "$scan/$1.conf" --cert "$certs/example.pem" \
        --domain example.com --mx a.example.com > "$work/out" 2> "$work/err" || rc=$?
    out=$(cat "$work/out") err=$(cat "$work/err")
    checks=$((checks + 1))
    [ $rc = 2 ] || fail "config file $1: exit $rc, wanted 2"
    in_err "$2"
}
printf 'mode = required\n# C:\\dir\\\\\nmode = preferred\n' > "$scan/backslash.conf"
scan_case backslash "given twice"
{ printf 'mode = required\n#'; head -c 8189 /dev/zero | tr '\0' x; printf '\\\\\nmode = preferred\n'; } \
    > "$scan/longline.conf"
scan_case longline "given twice"
printf 'mode = required\n[ \\default ]\nmode = preferred\n' > "$scan/escaped-section.conf"
scan_case escaped-section "escapes, quotes or variables"
printf 'mode = required\n.include_weak = %s/weak.cnf\n' "$scan" > "$scan/include-suffix.conf"
scan_case include-suffix "given twice"
printf 'mode = required\ndefault::.include = %s/weak.cnf\n' "$scan" > "$scan/section-include.conf"
scan_case section-include "given twice"
printf 'mode = required\n.include ${ENV::HOME}/weak.cnf\n' > "$scan/include-var.conf"
scan_case include-var "escapes, quotes or variables"
printf 'mode = required\n.include %s/d\n' "$scan" > "$scan/include-dir.conf"
scan_case include-dir "weak.CNF:1: key 'mode' given twice"
printf 'mode = required\nmode\0\n = preferred\n' > "$scan/nul.conf"
scan_case nul "a NUL byte"
printf 'mode = required\nmode\r\\\n= preferred\n' > "$scan/cr-continuation.conf"
scan_case cr-continuation "given twice"
printf 'destinations = dests\n[dests]\nexample.com = ex\nother.example = ex2\n[ex2]\n\r[ex]\nmode = required-verify\n[ex]\nmode = none\n' \
    > "$scan/cr-header.conf"
scan_case cr-header "given twice in [ex]"
printf '\357\273\277[ex]\nmode = required-verify\n[default]\ndestinations = dests\n[dests]\nexample.com = ex\n[ex]\nmode = none\n' \
    > "$scan/bom.conf"
scan_case bom "given twice in [ex]"
{ printf 'mode = required\nx = '; head -c 505 /dev/zero | tr '\0' a; printf '\rmode = none\n'; } \
    > "$scan/chunk-cr.conf"
scan_case chunk-cr "given twice"
printf 'mode = preferred\n.include %s/d2\n' "$scan" > "$scan/nested-dir.conf"
scan_case nested-dir "a directory included while the files of another are read"
printf 'mode = preferred\ndestinations = dests\n[dests]\nexample.com = ex\nother.example = ex2\n.include %s/order\n' \
    "$scan" > "$scan/dir-order.conf"
scan_case dir-order "given twice in [ex2]"
printf 'mode = preferred\ndestinations = dests\n[dests]\nexample.com = ex\n[ex]\n.include ex-policy.cnf\n' \
    > "$scan/empty-include-env.conf"
scan_case empty-include-env ".include /ex-policy.cnf: No such file" OPENSSL_CONF_INCLUDE=
# ... and the shim fails closed on the same file.
deliver c14-twice 127.0.0.26 "${shim_env[@]}" MXVERIFY_CONF="$work/twice.conf"
expect_none c14-twice "a config file with a key given twice"
in_err "given twice"

# 15. A variable no setting has (a misspelt name): exit 2 from the command,
#     run included; the shim fails closed and says which.
MXVERIFY_MDOE=none expect_exit 2 -- explain --cert "$certs/example.pem" --domain example.com \
    --mx a.example.com
in_err "MXVERIFY_MDOE: unknown variable"
MXVERIFY_MDOE=none expect_exit 2 -- run --mode required-verify-hosted -- true
in_err "MXVERIFY_MDOE: unknown variable"
deliver c15-variable 127.0.0.26 "${shim_env[@]}" MXVERIFY_MODE=required-verify-hosted \
    MXVERIFY_MDOE=none
expect_none c15-variable "a misspelt MXVERIFY_ variable"
in_err "MXVERIFY_MDOE: unknown variable"

# 12. A name that can never exist is an input error, not a DNS failure.
expect_exit 2 -- explain --cert "$certs/example.pem" --mx a.example.com \
    --domain "$(printf 'a%.0s' $(seq 64)).example.com"
in_err "longer than 63 octets"
finish
