#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mxverify explain` with every DNS answer from a real `unbound` daemon that
# the test starts on a loopback address and high port (the section 5 world
# as local-data, plus the IPv6 data), mxverify's libunbound forwarding to
# it through --unbound-conf. Unsigned data: DNSSEC status insecure, so
# `--dnssec require` refuses it. Stopping the daemon mid-test turns the
# same lookups into a temporary DNS failure. (DNSSEC-signed zones:
# explain_dnssec.sh.)
. "$(dirname "$0")/lib.sh"
command -v unbound >/dev/null && command -v unbound-checkconf >/dev/null ||
    { echo "skipped: unbound (Debian package unbound) not installed"; exit $SKIP; }

mkdir -p "$work/daemon"
cat "$SRCDIR/examples/sandbox/world.conf" "$SRCDIR/tests/integration/data/world-extra.conf" \
    > "$work/daemon/world.conf"
start_unbound "$work/daemon" "$work/daemon/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }
echo "unbound daemon on $dns_addr@$dns_port (pid $dns_pid)"
forward_conf "$work/client.conf"
x() { expect_exit "$1" -- explain --unbound-conf "$work/client.conf" --ca-file "$certs/ca.pem" \
    --dns-timeout 5 "${@:2}"; }

# The worked example through the daemon.
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1
has "mx         mx01.subd.emailhosted.not          insecure  no match    preference 10"
has "mx         mx02.subd.emailhosted.not          insecure  no match    preference 20"
has "ptr        mx0a.emailhosted.not               insecure  MATCH       forward-confirmed: A mx0a.emailhosted.not = 192.0.2.1"
has "Match:      dns *.emailhosted.not ~= ptr mx0a.emailhosted.not"
has "Verdict:    pass (verified)"
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
json_is 'j["verdict"]' '"pass"'
json_is 'j["action"]' '"proceed"'
json_is 'j["match"]' '{"presented": "*.emailhosted.not", "presented_type": "dns", "reference": "mx0a.emailhosted.not", "source": "ptr"}'
json_is '[(r["source"], r["dnssec"]) for r in j["references"]]' '[["domain", null], ["mx", "insecure"], ["mx", "insecure"], ["ptr", "insecure"]]'
json_is 'j["chain"]' '{"ok": true, "error": null}'
json_is 'j["temporary"]' 'false'

# The other examples of section 5, the PTR not forward-confirmed, IPv6.
x 0 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1
x 1 --cert "$certs/san-only.pem" --domain example.com --ip 192.0.2.1 --mode required-verify
x 0 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --mode required-verify
x 1 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.3 --json
json_is 'j["match"]' 'null'
json_is 'j["temporary"]' 'false'
x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::1
has "forward-confirmed: AAAA mx0a.emailhosted.not = 2001:db8::1"
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 2001:db8::3

# Unsigned answers are insecure: refused under dnssec = require.
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require --json
json_is 'j["verdict"]' '"fail"'
json_is 'j["match"]' 'null'
x 1 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dnssec require
has "not DNSSEC-secure (dnssec = require)"

# The daemon gone: the same decision is a temporary DNS failure, not a
# mismatch (exit 3), within the deadline.
stop_unbound
start=$(date +%s)
x 3 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --dns-timeout 2
has "(temporary)"
has "temporary: DNS failure"
elapsed_at_most 10 "$start"

finish
