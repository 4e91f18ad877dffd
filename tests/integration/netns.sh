# SPDX-License-Identifier: Apache-2.0
# netns.sh: for the tests that run in network and mount namespaces of
# their own (sourced first, before lib.sh). They bind-mount what they need
# (resolv.conf, SMTP on port 25) there only, never on the host.
set -u
SKIP=77
PATH=$PATH:/usr/sbin:/sbin

# need_tools TOOL...: skipped (77) when one is not installed.
need_tools() {
    local tool
    for tool; do
        command -v "$tool" >/dev/null || { echo "skipped: $tool not installed"; exit $SKIP; }
    done
}

# need_root_anchor_tools: ldns-keygen, and dns-root-data's root trust
# anchor, the file a test bind-mounts its own key over (lib.sh's
# foreign_root_anchor); else skipped (77).
need_root_anchor_tools() {
    need_tools ldns-keygen
    [ -f /usr/share/dns/root.key ] || { echo "skipped: dns-root-data not installed"; exit $SKIP; }
}

# in_namespaces FLAG: unless FLAG=1 is set (this is the second run), runs
# the calling script again in new network and mount namespaces with
# FLAG=1; skipped when they cannot be made (root needed).
in_namespaces() {
    [ "${!1:-}" != 1 ] || return 0
    need_tools unshare ip
    if ! unshare --net --mount true 2>/dev/null; then
        echo "skipped: cannot create network and mount namespaces (root needed)"
        exit $SKIP
    fi
    exec unshare --net --mount -- env "$1=1" bash "$0"
}

# need_postfix: Debian's Postfix, its user and group, and a shim Postfix
# can load (not an ASan build); else skipped.
need_postfix() {
    need_tools postfix postconf postqueue sendmail
    : "${SHIM:?SHIM (libmxverify-preload.so) must be set}"
    if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
        echo "skipped: ASan build (Postfix cannot run with a preloaded ASan runtime)"
        exit $SKIP
    fi
    if ! getent passwd postfix >/dev/null || ! getent group postdrop >/dev/null; then
        echo "skipped: the postfix user or postdrop group is missing"
        exit $SKIP
    fi
}
