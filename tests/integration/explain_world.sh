#!/usr/bin/env bash
# `mxverify explain` against the self-contained local-data world of
# policy.md section 5: every example, chain failures, usage errors, IPv6.
. "$(dirname "$0")/lib.sh"

world=$work/world.conf
cp "$SRCDIR/examples/sandbox/world.conf" "$world"
cat >> "$world" <<'CONF'
    local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
    local-data: "mx6.emailhosted.not. 300 IN AAAA 2001:db8::25"
    local-data-ptr: "2001:db8::25 300 mx6.emailhosted.not."
CONF
x() { expect_exit "$1" -- explain --unbound-conf "$world" --ca-file "$certs/ca.pem" "${@:2}"; }

# The worked example, text trace.
x 0 --cert "$certs/emailhosted.pem" --domain user@example.com --ip 192.0.2.1
has "mx         mx01.subd.emailhosted.not"
has "ptr        mx0a.emailhosted.not               insecure  MATCH"
has "Match:      dns *.emailhosted.not ~= ptr mx0a.emailhosted.not"
has "Verdict:    pass (verified)"
has "Action:     proceed"

# The worked example, JSON.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["verdict"]' '"pass"'
json_is 'j["action"]' '"proceed"'
json_is 'j["algorithm"]' '"hosted"'
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "dns", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
json_is '[(r["source"], r["used"]) for r in j["references"]]' '[["domain", true], ["mx", true], ["mx", true], ["ptr", true]]'
json_is 'j["chain"]' '{"ok": true, "error": null}'
json_is 'j["temporary"]' 'false'

# PTR not forward-confirmed: never a reference identifier.
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.3 --json
json_is 'j["match"]' 'null'
json_is 'j["action"]' '"abort"'
json_is '[r["used"] for r in j["references"] if r["source"] == "ptr"]' '[false]'

# SAN-only: hosted verifies, verify does not.
x 0 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1
x 1 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1 --mode required-verify
# CN wildcard, SAN unrelated: verify verifies via CN ~ ptr, hosted does not.
x 0 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --mode 5 --json
json_is 'j["match"]["presented_type"]' '"cn"'
json_is 'j["match"]["source"]' '"ptr"'
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1

# preferred-verify: not verified, mail proceeds; report-only never aborts.
x 1 --cert "$certs/san-only.pem" --domain example.com --mode preferred-verify --json
json_is 'j["action"]' '"proceed"'
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --report-only --json
json_is 'j["action"]' '"proceed"'
json_is 'j["report_only"]' 'true'
# Modes that do not verify: exit 0, algorithm null.
x 0 --cert "$certs/self-signed.pem" --domain example.com --mode required --json
json_is 'j["algorithm"]' 'null'

# Chain failures, each with its reason.
x 1 --cert "$certs/expired.pem" --domain example.com --json
json_is 'j["reason"]' '"certificate-expired"'
json_is 'j["chain"]["error"]' '"certificate has expired"'
x 1 --cert "$certs/not-yet-valid.pem" --domain example.com --json
json_is 'j["reason"]' '"certificate-expired"'
x 1 --cert "$certs/self-signed.pem" --domain example.com --json
json_is 'j["reason"]' '"certificate-not-trusted"'
x 1 --cert "$certs/unknown-ca.pem" --domain example.com --json
json_is 'j["chain"]["ok"]' 'false'
x 1 --cert "$certs/via-intermediate-missing.pem" --domain example.com --json
json_is 'j["reason"]' '"certificate-not-trusted"'
x 0 --cert "$certs/via-intermediate.pem" --domain example.com --json
json_is 'j["match"]["source"]' '"domain"'

# IPv6: PTR under ip6.arpa, forward-confirmed by AAAA.
x 0 --cert "$certs/mx6.pem" --domain nomx.example --ip 2001:db8::25 --json
json_is 'j["match"]["reference"]' '"mx6.emailhosted.not"'

# Routes: a host-name route replaces MX and PTR; an IP route uses PTR.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --route '[relay.emailhosted.not]:25' --json
json_is 'j["match"]["source"]' '"route"'
x 1 --cert "$certs/san-only.pem" --domain example.com --route relay.example.net --ip 192.0.2.1
x 0 --cert "$certs/san-only.pem" --domain example.com --route 192.0.2.1 --ip 192.0.2.1

# A config file's destination settings, and options overriding them.
cat > "$work/mxverify.conf" <<'CONF'
destinations = dests
[dests]
example.com = partner
[partner]
mode = required-verify
CONF
x 1 --conf "$work/mxverify.conf" --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1
has "Mode:        required-verify"
x 0 --conf "$work/mxverify.conf" --mode 6 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1

# The shipped example configuration is valid, and its destinations apply.
x 0 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/example.pem" --domain example.com
x 1 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/san-only.pem" --domain partner.example --json
json_is 'j["mode"]' '"required-verify"'
x 1 --conf "$SRCDIR/examples/mxverify.conf" --cert "$certs/san-only.pem" --domain legacy.example --json
json_is 'j["action"]' '"proceed"'

# Usage, config and input errors: exit 2 with a message.
x 2 --domain example.com
has "--cert is required"
x 2 --cert "$certs/emailhosted.pem"
has "--domain is required"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --mode sometimes
has "is not a mode"
x 2 --cert "$work/missing.pem" --domain example.com
has "missing.pem"
printf 'not a certificate\n' > "$work/garbage.pem"
x 2 --cert "$work/garbage.pem" --domain example.com
has "no PEM certificate"
printf 'mode = 6\nfrobnicate = 1\n' > "$work/bad.conf"
x 2 --conf "$work/bad.conf" --cert "$certs/emailhosted.pem" --domain example.com
has "$work/bad.conf:2: key 'frobnicate': unknown key"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --ip 999.1.1.1
has "not an IPv4 or IPv6 address"
x 2 --cert "$certs/emailhosted.pem" --domain example.com --unbound-conf "$work/none.conf"
has "--unbound-conf: $work/none.conf"

finish
