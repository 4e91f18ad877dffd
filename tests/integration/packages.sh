#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# packages.sh: the Debian packages (debian/), as an administrator meets
# them. Builds them from the source tree with dpkg-buildpackage, checks
# them with lintian (no error), installs them, then: the installed command
# runs the sandbox demo from /usr/share/doc/mxverify/examples; OpenSSL
# loads the provider with a bare `module = mxverify.so` (it is in OpenSSL's
# modules directory) and config_diagnostics = 1; `mxverify run` preloads
# the installed shim. Nothing is enabled by installing (no openssl.cnf, no
# ld.so.preload). Then purges them and checks that no file is left.
# Root; skipped when the packages are already installed here (the test
# would remove them), or the packaging tools are missing.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: root needed (dpkg -i)"; exit $SKIP; }
for tool in dpkg-buildpackage dh lintian openssl; do
    command -v $tool >/dev/null || { echo "skipped: $tool not installed (dpkg-dev, debhelper, lintian)"; exit $SKIP; }
done
if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
    echo "skipped: ASan build (the packages build their own, the same in both runs)"
    exit $SKIP
fi
pkgs=(mxverify libmxverify-dev libmxverify0)
for p in "${pkgs[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "skipped: $p is installed on this machine (the test would remove it)"
        exit $SKIP
    fi
done
(cd "$SRCDIR" && dpkg-checkbuilddeps >/dev/null 2>&1) ||
    { echo "skipped: build dependencies missing (apt-get build-dep ./)"; exit $SKIP; }

# The source tree alone, as a clean clone has it.
mkdir -p "$work/src"
if git -C "$SRCDIR" rev-parse >/dev/null 2>&1; then
    (cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$work/src")
else
    (cd "$SRCDIR" && tar --exclude=./build --exclude=./obj-* -cf - .) | tar -C "$work/src" -xf -
fi
(cd "$work/src" && dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) ||
    { echo "FAIL: dpkg-buildpackage"; tail -30 "$work/build.log"; exit 1; }
debs=()
for p in "${pkgs[@]}"; do debs+=("$work/${p}_"*.deb); done
checks=$((checks + 1))
[ -s "${debs[0]}" ] || { echo "FAIL: no packages built"; exit 1; }
out=$(lintian --tag-display-limit 0 "$work"/mxverify_*.changes 2>&1 | grep -v "root privileges" || true) err=
lacks "E: "

# Installed: removed again whatever happens.
cleanup_hooks+=("dpkg --purge ${pkgs[*]} >/dev/null 2>&1")
dpkg -i "${debs[@]}" > "$work/install.log" 2>&1 || { echo "FAIL: dpkg -i"; cat "$work/install.log"; exit 1; }
listed=$(dpkg -L "${pkgs[@]}" | sort -u)
modules=$(openssl version -m | sed 's/^MODULESDIR: "\(.*\)"$/\1/')
checks=$((checks + 1))
[ -f "$modules/mxverify.so" ] || fail "the provider is not in OpenSSL's modules directory $modules"
checks=$((checks + 1))
! grep -rqs mxverify /etc/ld.so.preload /etc/ssl/openssl.cnf || fail "installing enabled mxverify"

# The demo's first step, with the installed command and examples.
ex=/usr/share/doc/mxverify/examples/sandbox
bash "$ex/make-certs.sh" "$work/sandbox" >/dev/null
MXVERIFY=/usr/bin/mxverify expect_exit 0 -- explain --unbound-conf "$ex/world.conf" \
    --ca-file "$work/sandbox/ca.pem" --cert "$work/sandbox/emailhosted.pem" \
    --domain example.com --ip 192.0.2.1
has "Verdict:    pass (verified)"

# The provider by its bare name, loaded and active.
openssl_cnf "$work/openssl.cnf" mxverify.so mode=none
sed -i '1i config_diagnostics = 1' "$work/openssl.cnf"
out=$(OPENSSL_CONF="$work/openssl.cnf" openssl list -providers 2>&1 | grep -A3 "^  mxverify$" || true) err=
has "mxverify"
has "status: active"

# `run` finds and preloads the installed shim.
MXVERIFY=/usr/bin/mxverify expect_exit 0 -- run --mode required-verify-hosted \
    --domain example.com -- sh -c 'echo "preloaded: $LD_PRELOAD"'
has "/mxverify/libmxverify-preload.so"

# Purged: nothing of it left.
dpkg --purge "${pkgs[@]}" > "$work/purge.log" 2>&1 || { fail "dpkg --purge"; cat "$work/purge.log"; }
left=$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <<< "$listed")
checks=$((checks + 1))
[ -z "$left" ] || { out=$left; fail "files left after the purge"; }
finish
