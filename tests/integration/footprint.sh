#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# footprint.sh: what mxverify loads into a program that does not deliver
# mail (start-up cost, and no surprise in programs it was not asked to
# touch). The shim needs libc alone and maps nothing more into /bin/true;
# libmxverify does not link libunbound or libidn2 (loaded at first use);
# an OpenSSL program with the provider configured and no DNS to do loads
# neither, and `mxverify explain` loads them when it needs them.
. "$SRCDIR/tests/integration/lib.sh"
: "${SHIM:?}" "${PROVIDER:?}"
engine=$(dirname "$SHIM")/libmxverify.so.0
command -v objdump >/dev/null || { echo "skipped: objdump (binutils) needed"; exit $SKIP; }

needed() { objdump -p "$1" | awk '/NEEDED/ { print $2 }' | sort | tr '\n' ' '; }
# loaded ENV... -- CMD...: the shared objects the dynamic loader opened.
loaded() {
    local -a env=()
    while [ "$1" != -- ]; do env+=("$1"); shift; done
    shift
    env "${env[@]}" LD_DEBUG=files "$@" 2>&1 >/dev/null | awk '/file=.*\[0\];  needed by|calling init:/ { print }' |
        sed -n 's/.*file=\([^ ]*\).*/\1/p; s/.*calling init: \([^ ]*\).*/\1/p' | sort -u | tr '\n' ' '
}
contains() { case " $1 " in *"$2.so"*) return 0 ;; esac; return 1; }  # LIB.so, not libmxverify-preload
# none_of WHAT LIST LIB...: one check per LIB, failing when LIST names it.
none_of() {
    local what=$1 list=$2 lib
    shift 2
    for lib; do
        checks=$((checks + 1))
        if contains "$list" "$lib"; then out=$list err=""; fail "$what $lib"; fi
    done
}
# all_of WHAT LIST LIB...: one check per LIB, failing when LIST lacks it.
all_of() {
    local what=$1 list=$2 lib
    shift 2
    for lib; do
        checks=$((checks + 1))
        contains "$list" "$lib" || { out=$list err=""; fail "$what $lib"; }
    done
}

shim_needs=$(needed "$SHIM")
echo "shim needs: $shim_needs"
if contains "$shim_needs" libasan; then
    echo "skipped: a sanitizer build (its runtime is what it loads first)"
    exit $SKIP
fi
all_of "the shim does not name" "$shim_needs" libc
none_of "the shim links" "$shim_needs" libssl libcrypto libmxverify libunbound libidn2 libgnutls

engine_needs=$(needed "$engine")
echo "libmxverify needs: $engine_needs"
none_of "libmxverify links" "$engine_needs" libunbound libidn2 libevent libunistring libcurl \
    libgnutls

# /bin/true with the shim: nothing but the shim itself is added.
true_libs=$(loaded LD_PRELOAD="$SHIM" -- /bin/true)
echo "/bin/true with the shim loads: $true_libs"
none_of "/bin/true with the shim loaded" "$true_libs" libmxverify libssl libcrypto libunbound
# ... and as /etc/ld.so.preload puts it in every program (the Exim recipe),
# with the settings file every program then reads: still nothing.
printf 'mode = required-verify-hosted\nmta_sts = on\n' > "$work/every.conf"
every_libs=$(loaded LD_PRELOAD="$SHIM" MXVERIFY_CONF="$work/every.conf" -- /bin/true)
echo "/bin/true with the shim and a configuration loads: $every_libs"
none_of "/bin/true with the shim and a configuration loaded" "$every_libs" libmxverify libssl \
    libcrypto libunbound libcurl libgnutls

# An OpenSSL program with the provider configured, no mail to deliver.
openssl_cnf "$work/openssl.cnf" "$PROVIDER" mode=required-verify-hosted
set +e
out=$(OPENSSL_CONF="$work/openssl.cnf" openssl list -providers 2>&1) err=""
set -e
has "mxverify: ESA-style TLS verification for SMTP clients"
has "status: active"
rand_libs=$(loaded OPENSSL_CONF="$work/openssl.cnf" -- openssl rand -hex 4)
echo "openssl rand with the provider loads: $rand_libs"
all_of "the provider did not load" "$rand_libs" libmxverify
none_of "openssl rand with the provider loaded" "$rand_libs" libunbound libidn2 libcurl

# A decision that needs DNS and an internationalised name loads both, and
# works.
explain_libs=$(loaded -- "$MXVERIFY" explain --unbound-conf "$SRCDIR/examples/sandbox/world.conf" \
    --ca-file "$certs/ca.pem" --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 \
    --reference bücher.example)
echo "mxverify explain loads: $explain_libs"
all_of "explain did not load" "$explain_libs" libunbound libidn2
expect_exit 0 -- explain --unbound-conf "$SRCDIR/examples/sandbox/world.conf" --ca-file "$certs/ca.pem" \
    --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --reference bücher.example
has "Verdict:    pass (verified)"
has "xn--bcher-kva.example"
finish
