#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mxverify tlsrpt`: RFC 8460 aggregate reports from the JSON decision logs
# in data/tlsrpt (two files, two UTC days, four domains). Every report is
# unpacked and checked by data/tlsrpt/validate.py against a JSON Schema of
# RFC 8460 section 4.4 (data/tlsrpt/schema.json) and its file name, then
# its counts compared exactly with data/tlsrpt/expected.json, which holds,
# by hand:
#   2026-11-30 example.com  tlsa 3 ok (c1 c2 c5 resumed), 4 failed (c3
#              twice = once, c4 whose first line failed: a session fails
#              if any of its lines does, two lines without session:
#              tlsa-invalid x2 with c3, validation-failure for a null
#              reason); no-policy-found 1 ok (c6, an MX without TLSA)
#              example.net  sts (testing) 2 ok (n1; n4, where the ESA
#              setting refused but the policy's own evaluation passed), 2
#              failed: n2 (its line in the second log: sts.result while
#              ESA passed), n3 (sts_result); no-policy-found 1 ok (n5,
#              mode none)
#              example.org  no-policy-found 2 ok (o1, o8 at 01:30+02:00),
#              4 failed (starttls-not-supported without sending IP,
#              certificate-expired x2, an unknown reason as validation-failure)
#   2026-12-01 example.com  tlsa 1 ok, 1 dane-required
#              example.org  1 ok; twice.example.com 1 ok
#   skipped:   4 not JSON (2 SPDX comment lines, a syslog line, an array),
#              1 log message, 1 without time, 1 with a null domain
# Where each report goes: TXT _smtp._tls.DOMAIN from a libunbound local-data
# world (MXVERIFY_UNBOUND_CONF): one rua, one split over two strings with
# two URIs, none (NXDOMAIN), two records (= none), and a DNS server that
# never answers. Exit status 0, 1 (no decision in range) and 2 (usage).
. "$(dirname "$0")/lib.sh"
[ -n "$PY" ] || { echo "skipped: needs Debian's python3 to unpack and check the reports"; exit $SKIP; }

data=$SRCDIR/tests/integration/data/tlsrpt
log1=$data/decisions-1.log
log2=$data/decisions-2.log
org="Example Sender Inc."
contact="mailto:tlsrpt@sender.example"
cat > "$work/world.conf" <<'CONF'
server:
    local-zone: "." static
    local-data: '_smtp._tls.example.com. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@example.com"'
    local-data: '_smtp._tls.example.net. 300 IN TXT "v=TLSRPTv1; " "rua=mailto:a@example.net,https://tlsrpt.example.net/v1"'
    local-data: '_smtp._tls.twice.example.com. 300 IN TXT "v=TLSRPTv1; rua=mailto:one@example.com"'
    local-data: '_smtp._tls.twice.example.com. 300 IN TXT "v=TLSRPTv1; rua=mailto:two@example.com"'
    local-data: '_smtp._tls.example.org. 300 IN TXT "v=spf1 -all"'
CONF
export MXVERIFY_UNBOUND_CONF=$work/world.conf

# reports DIR [DAY...]: the reports in DIR checked (schema, names, ids),
# and reduced as expected.json is, restricted to the DAYs if given;
# compared with expected.json.
reports() {
    local dir=$1 got want; shift
    checks=$((checks + 1))
    if ! got=$("$PY" "$data/validate.py" "$data/schema.json" "$dir" "$org" "$contact" 2>"$work/validate.err"); then
        out=$got err=$(cat "$work/validate.err")
        fail "reports in $dir do not pass validate.py"
        return 0
    fi
    want=$("$PY" -c 'import json, sys
days = sys.argv[2:]
r = json.load(open(sys.argv[1]))["reports"]
print(json.dumps([x for x in r if not days or x["day"] in days], indent=1, sort_keys=True))' \
        "$data/expected.json" "$@")
    if [ "$got" != "$want" ]; then
        out=$(diff <(echo "$want") <(echo "$got") | head -30) err=
        fail "reports in $dir are not the expected ones (diff expected got)"
    fi
}

# count DIR N: DIR holds exactly N reports and nothing else.
count() {
    checks=$((checks + 1))
    local n
    n=$(find "$1" -mindepth 1 | wc -l)
    [ "$n" -eq "$2" ] || { out=$(ls -la "$1") err=; fail "$1 holds $n files, wanted $2"; }
}

# lines N: the last stdout has exactly N lines.
lines() {
    checks=$((checks + 1))
    local n
    n=$(printf '%s\n' "$out" | grep -c .) || true
    [ "$n" -eq "$1" ] || fail "$n lines on stdout, wanted $1"
}

# --- Every day, both logs after one --log, the default output directory.
mkdir "$work/all"
set +e
out=$(cd "$work/all" && "$MXVERIFY" tlsrpt --log "$log1" "$log2" --org "$org" --contact "$contact" \
    2>"$work/stderr")
status=$?
set -e
err=$(cat "$work/stderr")
checks=$((checks + 1))
[ "$status" -eq 0 ] || fail "exit $status, wanted 0 (every day)"
count "$work/all" 6
lines 6
reports "$work/all"
has "example.com 2026-11-30 ./Example_Sender_Inc.!example.com!1795996800!1796083199!"
has ".json.gz: send to mailto:tls@example.com"
has "example.net 2026-11-30 ./Example_Sender_Inc.!example.net!1795996800!1796083199!"
has ": send to mailto:a@example.net, https://tlsrpt.example.net/v1"
has "example.org 2026-11-30 ./Example_Sender_Inc.!example.org!"
has ": not sent: example.org publishes no TLSRPT record (no TXT record begins with v=TLSRPTv1)"
has "example.com 2026-12-01 ./Example_Sender_Inc.!example.com!1796083200!1796169599!"
has ": not sent: _smtp._tls.twice.example.com has 2 TLSRPTv1 records, which RFC 8460 reads as none"
in_err "tlsrpt: note: 7 of 33 log lines skipped: 4 not a JSON object, 1 a log message, 1 without a valid time, 1 without a domain"

# --- The same with --log repeated, --out, the config through --unbound-conf.
mkdir "$work/repeated"
expect_exit 0 -- tlsrpt --log "$log1" --org "$org" --contact "$contact" --log "$log2" \
    --out "$work/repeated" --unbound-conf "$work/world.conf"
count "$work/repeated" 6
reports "$work/repeated"
has "example.net 2026-11-30 $work/repeated/Example_Sender_Inc.!example.net!1795996800!1796083199!"

# --- The order of the logs does not matter: the other way round, n2's
# failure still counts (sts 2 ok, 2 failed; the rest as before).
mkdir "$work/reversed"
expect_exit 0 -- tlsrpt --log "$log2" "$log1" --org "$org" --contact "$contact" --out "$work/reversed"
checks=$((checks + 1))
got=$(for f in "$work"/reversed/*example.net*; do zcat "$f"; done | "$PY" -c 'import json, sys
p = [x for x in json.load(sys.stdin)["policies"] if x["policy"]["policy-type"] == "sts"][0]
print(p["policy"]["policy-type"], p["summary"]["total-successful-session-count"],
      p["summary"]["total-failure-session-count"],
      sorted(d["result-type"] for d in p["failure-details"]))' 2>&1 || true)
[ "$got" = "sts 2 2 ['sts-webpki-invalid', 'validation-failure']" ] ||
    { out=$got err=; fail "reversed logs: example.net"; }

# --- One day: --day YYYY-MM-DD; and an hour offset putting a line on the day before.
mkdir "$work/day2"
expect_exit 0 -- tlsrpt --log "$log1" "$log2" --day 2026-12-01 --org "$org" --contact "$contact" \
    --out "$work/day2"
count "$work/day2" 3
lines 3
reports "$work/day2" 2026-12-01
lacks "2026-11-30"

# --- Log on standard input; --day today (a line written now).
mkdir "$work/today"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '{"time":"%s","verdict":"fail","domain":"Example.COM.","ip":"192.0.2.10","mx":"mx1.example.com","policy":"esa","reason":"certificate-host-mismatch","session":"x"}\n' \
    "$now" > "$work/now.log"
set +e
out=$("$MXVERIFY" tlsrpt --log - --day today --org "$org" --contact "$contact" --out "$work/today" \
    < "$work/now.log" 2>"$work/stderr")
status=$?
set -e
err=$(cat "$work/stderr")
checks=$((checks + 1))
[ "$status" -eq 0 ] || fail "exit $status, wanted 0 (--day today)"
count "$work/today" 1
has "example.com ${now%%T*} $work/today/Example_Sender_Inc.!example.com!"
checks=$((checks + 1))
got=$(zcat "$work"/today/*.json.gz | "$PY" -c 'import json, sys
p = json.load(sys.stdin)["policies"]
print(json.dumps([[x["policy"]["policy-type"], x["summary"], x["failure-details"]] for x in p]))' 2>&1 || true)
want='[["no-policy-found", {"total-successful-session-count": 0, "total-failure-session-count": 1}, [{"result-type": "certificate-host-mismatch", "receiving-ip": "192.0.2.10", "receiving-mx-hostname": "mx1.example.com", "failed-session-count": 1}]]]'
[ "$got" = "$want" ] || { out=$got err=; fail "today's report"; }

# --- No decision in range: exit 1, nothing written.
mkdir "$work/none"
expect_exit 1 -- tlsrpt --log "$log1" "$log2" --day 2026-12-02 --org "$org" --contact "$contact" \
    --out "$work/none"
in_err "no decision on 2026-12-02 in the logs"
count "$work/none" 0
printf 'not JSON\n{"message":"started"}\n' > "$work/empty.log"
expect_exit 1 -- tlsrpt --log "$work/empty.log" --org "$org" --contact "$contact" --out "$work/none"
in_err "no decision in the logs"
count "$work/none" 0

# --- Usage: exit 2, nothing written.
u() { expect_exit 2 -- tlsrpt "$@"; count "$work/none" 0; }
u --log "$log1" --contact "$contact" --out "$work/none"
in_err "--org NAME is required"
u --log "$log1" --org "$org" --out "$work/none"
in_err "--contact ADDR is required"
u --org "$org" --contact "$contact" --out "$work/none"
in_err "--log FILE is required"
u --log "$log1" "$work/missing.log" --org "$org" --contact "$contact" --out "$work/none"
in_err "missing.log: No such file or directory"
u --log "$data" --org "$org" --contact "$contact" --out "$work/none"
in_err "is a directory"
for bad in 2026-02-30 2026-13-01 2026-1-01 yesterday 2026-12-01x ""; do
    u --log "$log1" --day "$bad" --org "$org" --contact "$contact" --out "$work/none"
    in_err "is not a date (YYYY-MM-DD) or today"
done
u --log "$log1" --org "$org" --contact "$contact" --out "$work/none" --bogus
u --org "$org" "$log1" --contact "$contact" --out "$work/none"
in_err "unexpected argument"
u --log "$log1" --org "$org" --contact "$contact" --domain example.com --out "$work/none"
u --log "$log1" --org "$org" --contact "$contact" --out "$work/none" -- "$log2"
in_err "unexpected argument"
u --log "$log1" --org "$org" --contact "$contact" --out "$work/no-such-dir"
in_err "--out $work/no-such-dir"
u --log "$log1" --org "$org" --contact "$contact" --out "$work/none" --unbound-conf "$work/missing.conf"

# --- Help: the command's own --log, not the log setting.
expect_exit 0 -- tlsrpt --help
has "--log FILE..."
has "--unbound-conf V"
lacks "--log V"
lacks "--domain V"

# --- A DNS server that never answers: reports written, the line says so.
port=$(free_port)
printf 'server:\n    do-not-query-localhost: no\nforward-zone:\n    name: "."\n    forward-addr: 127.0.0.%d@%s\n' \
    $((30 + RANDOM % 200)) "$port" > "$work/dead.conf"
mkdir "$work/dead"
start=$(date +%s)
expect_exit 0 -- tlsrpt --log "$log2" --day 2026-12-01 --org "$org" --contact "$contact" \
    --out "$work/dead" --unbound-conf "$work/dead.conf" --dns-timeout 1
count "$work/dead" 3
has "example.com 2026-12-01 $work/dead/Example_Sender_Inc.!example.com!1796083200!1796169599!"
has ": not sent: the lookup of _smtp._tls.example.com failed ("
has "); try again later"
elapsed_at_most 20 "$start"

finish
