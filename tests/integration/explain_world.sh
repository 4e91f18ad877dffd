#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mxverify explain` against the self-contained local-data world of
# policy.md section 5 (examples/sandbox/world.conf, plus IPv6 data from
# data/world-extra.conf): every example of section 5, the PTR that is not
# forward-confirmed, routes and configured names, chain failures with
# their reasons, usage/config/input errors (exit 2), IPv6 (ip6.arpa PTR,
# forward-confirmed by AAAA), dnssec = require on insecure data.
. "$(dirname "$0")/lib.sh"

world=$work/world.conf
cat "$SRCDIR/examples/sandbox/world.conf" "$SRCDIR/tests/integration/data/world-extra.conf" > "$world"
x() { expect_exit "$1" -- explain --unbound-conf "$world" --ca-file "$certs/ca.pem" "${@:2}"; }

# --- The worked example (policy.md 5), unmodified example world ---------
expect_exit 0 -- explain --unbound-conf "$SRCDIR/examples/sandbox/world.conf" \
    --ca-file "$certs/ca.pem" --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1
has "Verdict:    pass (verified)"

# Text trace: each presented and reference identifier, the match, chain, verdict.
x 0 --cert "$certs/emailhosted.pem" --domain user@example.com --ip 192.0.2.1
has "Destination: example.com, connected to 192.0.2.1"
has "Mode:        required-verify-hosted (algorithm: hosted)"
has "dns  *.emailhosted.not   <= match"
has "dns  emailhosted.not"
has "cn   *.emailhosted.not   (ignored: the certificate has DNS-IDs"
has "domain     example.com                        -         no match"
has "mx         mx01.subd.emailhosted.not          insecure  no match    preference 10"
has "mx         mx02.subd.emailhosted.not          insecure  no match    preference 20"
has "ptr        mx0a.emailhosted.not               insecure  MATCH       forward-confirmed: A mx0a.emailhosted.not = 192.0.2.1"
has "Match:      dns *.emailhosted.not ~= ptr mx0a.emailhosted.not"
has "Chain:      ok (trusted, in date)"
has "Verdict:    pass (verified)"
has "Action:     proceed"

# The same, JSON.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["verdict"]' '"pass"'
json_is 'j["action"]' '"proceed"'
json_is 'j["mode"]' '"required-verify-hosted"'
json_is 'j["algorithm"]' '"hosted"'
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "dns", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
json_is 'j["match"]["source"]' '"ptr"'
json_is 'j["match"]["reference"]' '"mx0a.emailhosted.not"'
json_is '[(p["name"], p["type"]) for p in j["presented"]]' '[["*.emailhosted.not", "dns"], ["emailhosted.not", "dns"], ["*.emailhosted.not", "cn"]]'
json_is '[(r["name"], r["source"], r["dnssec"], r["used"]) for r in j["references"]]' '[["example.com", "domain", null, true], ["mx01.subd.emailhosted.not", "mx", "insecure", true], ["mx02.subd.emailhosted.not", "mx", "insecure", true], ["mx0a.emailhosted.not", "ptr", "insecure", true]]'
json_is 'j["chain"]' '{"ok": true, "error": null}'
json_is 'j["temporary"]' 'false'

# The second server of the example (192.0.2.2, PTR mx0b).
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.2 --json
json_is 'j["match"]["reference"]' '"mx0b.emailhosted.not"'

# Without --ip there is no PTR evidence: hosted fails on domain and MX.
x 1 --cert "$certs/emailhosted.pem" --domain example.com --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["match"]' 'null'
json_is 'j["reason"]' '"certificate-host-mismatch"'
json_is 'j["temporary"]' 'false'

# --- PTR not forward-confirmed (192.0.2.3 -> mx0a -> 192.0.2.1) ---------
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.3
has "not forward-confirmed: A mx0a.emailhosted.not does not contain 192.0.2.3"
has "Match:      none"
has "Verdict:    fail (certificate-host-mismatch)"
has "Action:     abort"
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.3 --json
json_is 'j["match"]' 'null'
json_is 'j["action"]' '"abort"'
json_is 'j["chain"]["ok"]' 'true'
json_is 'j["temporary"]' 'false'
json_is '[r["used"] for r in j["references"] if r["source"] == "ptr"]' '[false]'
# ... nor under `verify` (CN-ID ~= ptr needs a confirmed name).
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.3 --mode required-verify

# --- SAN-only (CN "Hosting Operator"): hosted verifies, verify does not -
x 0 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "dns", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
x 1 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1 --mode required-verify
has "Mode:        required-verify (algorithm: verify)"
has "cn   Hosting Operator"
has "ptr        mx0a.emailhosted.not               insecure  no match"
lacks "mx01.subd.emailhosted.not" # verify never uses MX host names
has "Verdict:    fail (certificate-host-mismatch)"
x 1 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1 --mode required-verify --json
json_is 'j["algorithm"]' '"verify"'
json_is 'j["match"]' 'null'
json_is 'j["action"]' '"abort"'

# --- CN *.emailhosted.not, SAN unrelated.invalid: verify yes, hosted no -
x 0 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --mode 5
has "cn   *.emailhosted.not   <= match"
has "Match:      cn *.emailhosted.not ~= ptr mx0a.emailhosted.not"
x 0 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --mode required-verify --json
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "cn", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1
has "(ignored: the certificate has DNS-IDs"
has "Match:      none"
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["match"]' 'null'
json_is 'j["verdict"]' '"fail"'

# --- Sources: domain, MX (hosted only), configured ----------------------
x 0 --cert "$certs/domain-match.pem" --domain example.com --mode required-verify --json
json_is 'j["match"]' '{"presented": "example.com", "presented_type": "dns", "reference": "example.com", "source": "domain"}'
x 0 --cert "$certs/mx01.pem" --domain example.com --json
json_is 'j["match"]["source"]' '"mx"'
json_is 'j["match"]["reference"]' '"mx01.subd.emailhosted.not"'
x 1 --cert "$certs/mx01.pem" --domain example.com --mode required-verify
x 0 --cert "$certs/san-only.pem" --domain example.com --reference mail.emailhosted.not --json
json_is 'j["match"]["source"]' '"configured"'
# --mx replaces the MX lookup.
x 0 --cert "$certs/san-only.pem" --domain nomx.example --mx mail.emailhosted.not --json
json_is 'j["match"]["source"]' '"mx"'

# --- Routes: a host-name route replaces MX and PTR; an IP route uses PTR -
x 0 --cert "$certs/emailhosted.pem" --domain example.com --route '[relay.emailhosted.not]:25' --json
json_is 'j["match"]["source"]' '"route"'
json_is 'j["match"]["reference"]' '"relay.emailhosted.not"'
x 1 --cert "$certs/emailhosted.pem" --domain example.com --route relay.example.net --ip 192.0.2.1
has "route      relay.example.net"
lacks "mx0a.emailhosted.not"
lacks "mx01.subd.emailhosted.not"
x 0 --cert "$certs/san-only.pem" --domain example.com --route 192.0.2.1 --ip 192.0.2.1 --json
json_is 'j["match"]["source"]' '"ptr"'

# --- Settings that do not enforce ----------------------------------------
# preferred-verify: not verified, mail proceeds; report-only never aborts.
x 1 --cert "$certs/san-only.pem" --domain example.com --mode preferred-verify --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["action"]' '"proceed"'
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --report-only --json
json_is 'j["action"]' '"proceed"'
json_is 'j["report_only"]' 'true'
# Modes that do not verify: exit 0, algorithm null, whatever the certificate.
for m in none preferred required 1 2 3; do
    x 0 --cert "$certs/self-signed.pem" --domain example.com --mode "$m" --json
    json_is 'j["algorithm"]' 'null'
done

# --- Chain failures, each with its reason (identity matches: domain) -----
chain_fails() { # chain_fails CERT ERROR-SUBSTRING REASON
    x 1 --cert "$certs/$1.pem" --domain example.com --json
    json_is 'j["verdict"]' '"fail"'
    json_is 'j["action"]' '"abort"'
    json_is 'j["chain"]["ok"]' 'false'
    json_is 'j["reason"]' "\"$3\""
    json_is 'j["temporary"]' 'false'
    json_is "\"$2\" in j[\"chain\"][\"error\"]" 'true'
    x 1 --cert "$certs/$1.pem" --domain example.com
    has "Chain:      FAILED: "
    has "$2"
    has "Verdict:    fail ($3)"
}
chain_fails expired "expired" certificate-expired
chain_fails not-yet-valid "not yet valid" certificate-expired
chain_fails self-signed "self-signed" certificate-not-trusted
chain_fails unknown-ca "unable to get local issuer certificate" certificate-not-trusted
chain_fails via-intermediate-missing "unable to get local issuer certificate" certificate-not-trusted
has "the server sent no intermediate certificate"
# Identity is checked (and shown) even when the chain fails.
x 1 --cert "$certs/expired.pem" --domain example.com --json
json_is 'j["match"]["source"]' '"domain"'
# The intermediate sent along: verified; not sent but trusted locally: verified.
x 0 --cert "$certs/via-intermediate.pem" --domain example.com --json
json_is 'j["chain"]' '{"ok": true, "error": null}'
json_is 'j["match"]["source"]' '"domain"'
expect_exit 0 -- explain --unbound-conf "$world" --ca-file "$certs/ca+intermediate.pem" \
    --cert "$certs/via-intermediate-missing.pem" --domain example.com
has "Chain:      ok"
# The test CA is not in the system store: without --ca-file the chain fails.
expect_exit 1 -- explain --unbound-conf "$world" --cert "$certs/domain-match.pem" --domain example.com
has "Chain:      FAILED"
# preferred-verify with a failing chain: logged, mail proceeds encrypted.
x 1 --cert "$certs/self-signed.pem" --domain example.com --mode preferred-verify --json
json_is 'j["chain"]["ok"]' 'false'
json_is 'j["action"]' '"proceed"'

# --- IPv6: PTR under ip6.arpa, forward-confirmed by AAAA ----------------
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::1
has "Destination: example.com, connected to 2001:db8::1"
has "forward-confirmed: AAAA mx0a.emailhosted.not = 2001:db8::1"
has "Match:      dns *.emailhosted.not ~= ptr mx0a.emailhosted.not"
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::1 --json
json_is 'j["ip"]' '"2001:db8::1"'
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "dns", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
# Another spelling of the same address.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:0db8:0:0:0:0:0:1
# CN ~= ptr under verify, over IPv6.
x 0 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 2001:db8::1 --mode required-verify
# Not forward-confirmed: the AAAA is another address; or there is an A only.
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::3
has "not forward-confirmed"
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::4 --json
json_is 'j["match"]' 'null'
json_is '[r["used"] for r in j["references"] if r["source"] == "ptr"]' '[false]'
# An IPv6-only host, its own certificate name.
x 0 --cert "$certs/mx6.pem" --domain nomx.example --ip 2001:db8::25 --json
json_is 'j["match"]["reference"]' '"mx6.emailhosted.not"'

# --- dnssec = require: local data is insecure, so DNS evidence is refused
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require
has "not DNSSEC-secure (dnssec = require)"
has "Match:      none"
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require --json
json_is 'j["match"]' 'null'
json_is '[r["used"] for r in j["references"] if r["source"] != "domain"]' '[false, false, false]'
# ... but a match on the domain needs no DNS evidence.
x 0 --cert "$certs/domain-match.pem" --domain example.com --dnssec require
# dnssec = off: no status is claimed.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec off --json
json_is '[r["dnssec"] for r in j["references"]]' '[null, null, null, null]'

# --- A config file's destination settings, and options overriding them --
cat > "$work/mxverify.conf" <<CONF
unbound_conf = $world
destinations = dests
[dests]
example.com = partner
[partner]
mode = required-verify
CONF
x 1 --conf "$work/mxverify.conf" --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1
has "Mode:        required-verify (algorithm: verify)"
x 0 --conf "$work/mxverify.conf" --mode 6 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1
# The shipped example configuration is valid, and its destinations apply.
x 0 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/example.pem" --domain example.com
x 1 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/san-only.pem" --domain partner.example --json
json_is 'j["mode"]' '"required-verify"'
x 1 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/san-only.pem" --domain legacy.example --json
json_is 'j["action"]' '"proceed"'

# --- Usage, config and input errors: exit 2 with a message on stderr -----
x 2 --domain example.com
in_err "--cert"
x 2 --domain example.com --json
in_err "--cert"
x 2 --cert "$certs/emailhosted.pem"
in_err "--domain"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --mode sometimes
in_err "sometimes"
in_err "is not a mode"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --mode 7
in_err "is not a mode"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --dnssec maybe
in_err "--dnssec"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --frobnicate
# Unreadable certificate files: missing, a directory, not PEM, empty.
x 2 --cert "$work/missing.pem" --domain example.com
in_err "missing.pem"
x 2 --cert "$work" --domain example.com
in_err "$work"
printf 'not a certificate\n' > "$work/garbage.pem"
x 2 --cert "$work/garbage.pem" --domain example.com
in_err "garbage.pem"
: > "$work/empty.pem"
x 2 --cert "$work/empty.pem" --domain example.com
in_err "empty.pem"
x 2 --cert "$certs/emailhosted.key" --domain example.com
# A bad config file names FILE:LINE (and the key).
printf 'mode = 6\nfrobnicate = 1\n' > "$work/bad.conf"
x 2 --conf "$work/bad.conf" --cert "$certs/emailhosted.pem" --domain example.com
in_err "$work/bad.conf:2:"
in_err "frobnicate"
printf '# comment\nmode = 6\ndnssec = maybe\n' > "$work/bad-value.conf"
x 2 --conf "$work/bad-value.conf" --cert "$certs/emailhosted.pem" --domain example.com
in_err "$work/bad-value.conf:3:"
in_err "dnssec"
printf 'mode = 6\n[broken\n' > "$work/bad-syntax.conf"
x 2 --conf "$work/bad-syntax.conf" --cert "$certs/emailhosted.pem" --domain example.com
in_err "$work/bad-syntax.conf:2"
x 2 --conf "$work/no-such.conf" --cert "$certs/emailhosted.pem" --domain example.com
in_err "no-such.conf"
# Bad addresses and DNS configuration.
x 2 --cert "$certs/emailhosted.pem" --domain example.com --ip 999.1.1.1
in_err "999.1.1.1"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::1::2
x 2 --cert "$certs/emailhosted.pem" --domain example.com --unbound-conf "$work/none.conf"
in_err "$work/none.conf"
printf 'server:\n    frobnicate: yes\n' > "$work/bad-unbound.conf"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --unbound-conf "$work/bad-unbound.conf"
in_err "bad-unbound.conf"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --dns-timeout never
# Nothing on stdout for a usage error in JSON mode, never a verdict.
x 2 --cert "$work/missing.pem" --domain example.com --json
lacks '"verdict"'

# The system's anchors without --ca-file: the CA directory is read first
# (certificates by subject hash, as chains need them), the bundle file
# only when the directory lacks the issuer. Both found; neither = untrusted.
mkdir -p "$work/cadir" "$work/emptydir"
cp "$certs/ca.pem" "$work/cadir/"
if openssl rehash "$work/cadir" 2>/dev/null; then
    sys() { expect_exit "$1" -- explain --unbound-conf "$world" --cert "$certs/emailhosted.pem" \
        --domain example.com --ip 192.0.2.1 --json; }
    SSL_CERT_DIR=$work/cadir SSL_CERT_FILE=$work/missing.pem sys 0
    json_is 'j["chain"]["ok"]' 'true'
    SSL_CERT_DIR=$work/emptydir SSL_CERT_FILE=$certs/ca.pem sys 0
    json_is 'j["chain"]["ok"]' 'true'
    SSL_CERT_DIR=$work/emptydir SSL_CERT_FILE=$work/missing.pem sys 1
    json_is 'j["reason"]' '"certificate-not-trusted"'
else
    echo "note: openssl rehash unavailable, system anchor checks not run" >&2
fi

finish
