#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sts.sh: MTA-STS (RFC 8461) and TLS reports (RFC 8460) through real parts.
# In a network and mount namespace of its own (ports 25, 53 and 443 free):
# a real `unbound` serving the _mta-sts TXT, mta-sts, MX, A and PTR
# records on port 53 (resolv.conf bind-mounted there only), an HTTPS server
# (Python's http.server with ssl) serving the policies with a test WebPKI
# CA and the bad variants, STARTTLS servers on port 25, and Debian's swaks
# and Python smtplib through the preload shim. Each recipient domain
# stands for one case (the comment above its records); `mxverify tlsrpt`
# then reads the JSON decision log those deliveries wrote.
. "$(dirname "$0")/netns.sh"
if [ "${MXV_STS_NS:-}" != 1 ]; then
    need_tools unbound swaks openssl
    [ -x /usr/bin/python3 ] || { echo "skipped: Debian's python3 needed"; exit $SKIP; }
    : "${SHIM:?}"
    if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
        echo "skipped: ASan build (Debian's clients cannot run with a preloaded ASan runtime)"
        exit $SKIP
    fi
    in_namespaces MXV_STS_NS
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"
ip link set lo up

# --- certificates: MX hosts and policy hosts, from the test CA ---
for name in mx.good.example mx.notls.example mx.plain.example; do host_cert "$name"; done
# CN only, no DNS-ID: MTA-STS never consults CN-IDs (RFC 8461 section 4.2).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mx.cn.example" \
    -keyout "$work/cn.key" -out "$work/cn.csr" 2>/dev/null &&
    openssl x509 -req -in "$work/cn.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
        -CAcreateserial -days 30 -out "$work/cn.pem" 2>/dev/null
www=$work/www
mkdir -p "$www"
# One certificate names every policy host but one (wrongcert: SNI picks
# a certificate for another name).
sts_domains=(good.example hosted.example wild.example testing.example cn.example notls.example
             none.example invalid.example notfound.example redirect.example html.example
             big.example wrongcert.example)
san=$(printf 'DNS:mta-sts.%s,' "${sts_domains[@]}")
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mta-sts" \
    -keyout "$work/www.key" -out "$work/www.csr" 2>/dev/null &&
    openssl x509 -req -in "$work/www.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
        -CAcreateserial -days 30 -out "$work/www.pem" -extfile <(echo "subjectAltName=${san%,}") \
        2>/dev/null
host_cert other.example
cp "$work/other.example.pem" "$www/wrongcert.example.pem"
cp "$work/other.example.key" "$www/wrongcert.example.key"

# policy MODE PATTERN...: a policy body (LF) on stdout.
policy() {
    local mode=$1 p; shift
    printf 'version: STSv1\nmode: %s\n' "$mode"
    for p; do printf 'mx: %s\n' "$p"; done
    printf 'max_age: 86400\n'
}
policy enforce mx.good.example > "$www/good.example"
policy enforce '*.emailhosted.not' > "$www/hosted.example"   # the seed's case
policy enforce '*.emailhosted.not' > "$www/wild.example"
policy testing '*.emailhosted.not' > "$www/testing.example"
policy enforce mx.cn.example > "$www/cn.example"
policy enforce mx.notls.example > "$www/notls.example"
printf 'version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n' > "$www/none.example"
printf 'version: STSv1\nmode: bogus\nmx: mx.plain.example\nmax_age: 86400\n' > "$www/invalid.example"
for d in notfound redirect html big wrongcert; do policy enforce nowhere.invalid > "$www/$d.example"; done

# --- DNS ---
z=$work/zones
mkdir -p "$z"
records=('mta-sts A 127.0.0.10')
zone_of() { # zone_of DOMAIN MXHOST TXT-ID: a recipient domain with a policy record
    local d=$1 mx=$2 id=$3
    zone "$d" "@ MX 10 $mx." ${id:+"_mta-sts TXT \"v=STSv1; id=$id\""} 'mta-sts A 127.0.0.10' \
        'mx A 127.0.0.21' 'mx A 127.0.0.21'
}
zone good.example 'mx A 127.0.0.21' '@ MX 10 mx.good.example.' '_mta-sts TXT "v=STSv1; id=1"' \
    "${records[@]}"
zone_of hosted.example mx01.subd.emailhosted.not 1
zone_of wild.example mx6.emailhosted.not 1
zone_of testing.example mx01.subd.emailhosted.not 1
zone cn.example 'mx A 127.0.0.24' '@ MX 10 mx.cn.example.' '_mta-sts TXT "v=STSv1; id=1"' \
    "${records[@]}"
zone notls.example 'mx A 127.0.0.25' '@ MX 10 mx.notls.example.' \
    '_mta-sts TXT "v=STSv1; id=1"' "${records[@]}"
for d in none invalid notfound redirect html big wrongcert; do
    zone_of "$d.example" mx.plain.example 1
done
zone_of plain.example mx.plain.example ''   # no policy at all
zone plain.example 'mx A 127.0.0.26' '@ MX 10 mx.plain.example.'
zone emailhosted.not 'mx01.subd A 127.0.0.22' 'mx0a A 127.0.0.22' 'mx6 A 127.0.0.23'
zones=(good.example hosted.example wild.example testing.example cn.example notls.example
       none.example invalid.example notfound.example redirect.example html.example big.example
       wrongcert.example plain.example emailhosted.not)
for d in "${zones[@]}"; do cp "$z/$d.zone" "$z/$d.zone.signed"; done
serve_zones plain "${zones[@]}" > "$z/world.conf"
# The PTR of the seed's case: 127.0.0.22 is mx0a.emailhosted.not (forward-confirmed).
printf 'server:\n    local-zone: "127.in-addr.arpa." nodefault\n    local-data-ptr: "127.0.0.22 300 mx0a.emailhosted.not."\n' \
    >> "$z/world.conf"
pf_dns "$z" "$z/world.conf" || { echo "FAIL: unbound did not start"; exit 1; }

# --- servers ---
pair() { echo "$1,$2"; }
"$PY" "$SRCDIR/tests/integration/smtp_sink.py" "$work/spool" "$work/sink.port" --port 25 \
    --lifetime 600 \
    127.0.0.21="$(pair "$work/mx.good.example.pem" "$work/mx.good.example.key")" \
    127.0.0.22="$(pair "$certs/emailhosted.pem" "$certs/emailhosted.key")" \
    127.0.0.23="$(pair "$certs/emailhosted.pem" "$certs/emailhosted.key")" \
    127.0.0.24="$(pair "$work/cn.pem" "$work/cn.key")" 127.0.0.25=none \
    127.0.0.26="$(pair "$work/mx.plain.example.pem" "$work/mx.plain.example.key")" \
    2> "$work/sink.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
"$PY" "$SRCDIR/tests/integration/sts_https.py" "$www" 127.0.0.10 "$work/www.pem" "$work/www.key" \
    --lifetime 600 2> "$work/https.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for _ in $(seq 100); do [ -s "$work/sink.port" ] && [ -s "$www/ready" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] && [ -s "$www/ready" ] ||
    { echo "FAIL: servers did not start"; cat "$work/sink.err" "$work/https.err"; exit 1; }

log=$work/decisions.json
count() { grep -c "^mta-sts.$1 " "$www/requests.log" || true; } # fetches of DOMAIN's policy
settings=(--unbound-conf "$work/dns.conf" --ca-file "$certs/ca.pem" --dns-timeout 5)

# via MODE STS DOMAIN CLIENT MARKER [EXTRA...]: one delivery by CLIENT to
# DOMAIN's MX through the shim; $out/$err keep what was said. Decisions
# also go, as JSON, to $log (the TLS report's input).
via() {
    local mode=$1 sts=$2 d=$3 client=$4 marker=$5; shift 5
    local mx
    mx=$(awk '/ MX /{print $NF}' "$z/$d.zone" | sed 's/\.$//')
    local -a cmd
    case $client in
    swaks) cmd=(swaks -tlso --server "$mx" --to "user@$d" --from s@client.test
                --header "Subject: $marker" --body "$marker") ;;
    python) cmd=(env SSL_CERT_FILE="$certs/ca.pem" /usr/bin/python3 "$SRCDIR/tests/integration/send_smtplib.py" "$mx" 25
                 "user@$d" "$marker") ;;
    esac
    timeout 60 "$MXVERIFY" run "${settings[@]}" --domain "$d" --mode "$mode" --mta-sts "$sts" \
        --log stderr "$@" -- "${cmd[@]}" > "$work/out" 2> "$work/err" < /dev/null || true
    # the same decisions as JSON lines for tlsrpt (the shim logs one way)
    out=$(tr -d '\0' < "$work/out")
    err=$(cat "$work/err")
}
# json_run: the same delivery with a JSON log to $log.
# case_ MODE STS DOMAIN WANT LOGTEXT WHAT [CLIENTS...]: each client
# (default swaks) delivers to DOMAIN as WANT says, and the JSON log says
# LOGTEXT; ${extra[@]} are more settings.
n=0
extra=()
case_() {
    local mode=$1 sts=$2 d=$3 want=$4 logtext=$5 what=$6; shift 6
    local client
    for client in "${@:-swaks}"; do
        n=$((n + 1))
        rm -f "$work/case.json"
        via "$mode" "$sts" "$d" "$client" "sts-$n-$client" --log "file:$work/case.json" \
            --log-format json ${extra[@]+"${extra[@]}"}
        cat "$work/case.json" >> "$log" 2>/dev/null || true
        expect_got "$want" "sts-$n-$client" "$what ($client, mode $mode, mta_sts $sts)"
        [ -z "$logtext" ] || grep -qF -- "$logtext" "$work/case.json" ||
            fail "$what ($client): the log lacks $logtext: $(cat "$work/case.json")"
    done
}

# An enforce policy naming the MX host; the certificate's DNS-ID matches.
case_ none on good.example tls '"policy":"sts"' "enforce, MX and certificate match" swaks python
# The seed's case: *.emailhosted.not covers one label, mx01.subd.emailhosted.not
# is not in the policy: refused although the ESA's hosted algorithm accepts
# the certificate (through the forward-confirmed PTR mx0a.emailhosted.not).
case_ required-verify-hosted off hosted.example tls '' "the seed's case without MTA-STS: hosted accepts"
case_ required-verify-hosted on hosted.example none 'mx-not-in-policy' \
    "the seed's case under an enforce policy" swaks python
# The wildcard pattern covering the MX host, a wildcard certificate.
case_ none on wild.example tls '"pattern":"*.emailhosted.not"' "wildcard pattern and certificate"
# testing: evaluated and logged, never enforced.
case_ required-verify-hosted on testing.example tls '"sts_result":"validation-failure"' \
    "testing policy, MX not in it"
# report: an enforce policy evaluated only.
case_ required-verify-hosted report hosted.example tls '' "mta_sts = report"
# CN-ID only: never consulted.
case_ none on cn.example none 'certificate-host-mismatch' "a CN-ID alone"
# No STARTTLS under an enforce policy: no mail, even at mode none.
case_ none on notls.example none 'MTA-STS: TLS is mandatory' "enforce policy, no STARTTLS"
# mode none: no policy, the ESA setting decides (clear text allowed).
case_ preferred on none.example tls '' "policy mode none"
# Fetch failures: no policy, the ESA setting decides, the failure logged.
case_ preferred on invalid.example tls '"sts-policy-invalid"' "a body that is not a policy"
case_ preferred on notfound.example tls '"sts-policy-fetch-error"' "404"
good_before=$(count good.example)
case_ preferred on redirect.example tls 'HTTP status 301' "a redirect (not followed)"
case_ preferred on html.example tls 'not text/plain' "text/html"
case_ preferred on big.example tls 'body over 65536 bytes' "a body over 64 KB"
case_ preferred on wrongcert.example tls '"sts-webpki-invalid"' "a policy host certificate for another name"
case_ preferred on plain.example tls '' "no policy record"
checks=$((checks + 1))
[ "$(count good.example)" -eq "$good_before" ] || fail "the redirect to mta-sts.good.example was followed"

# --- the cache: fetched once, used while valid, kept while a refresh fails ---
cache=$work/sts.cache
before=$(count good.example)
extra=(--sts-cache "$cache")
case_ none on good.example tls '' "first delivery with sts_cache: fetched"
checks=$((checks + 1))
[ "$(count good.example)" -eq $((before + 1)) ] || fail "first delivery did not fetch the policy once"
case_ none on good.example tls '' "second delivery: from the cache"
checks=$((checks + 1))
[ "$(count good.example)" -eq $((before + 1)) ] ||
    fail "an HTTPS request on the delivery path while the cached policy is valid"
# The policy host goes away: the cached policy still applies (no MX
# match: refused).
mv "$www/good.example" "$www/good.example.away"
sed -i 's/mx.good.example/mx.other.example/' "$www/good.example.away"
case_ none on good.example tls '"policy":"sts"' "policy host gone: the cached policy"
checks=$((checks + 1))
out=$("$MXVERIFY" sts good.example "${settings[@]}" --sts-cache "$cache" --json) ||
    fail "mxverify sts with a cached policy: exit $?"
json_is 'j["source"]' '"cache"'
json_is 'j["id"]' '"1"'

# The record's id changes and the new policy is served: fetched again by
# `mxverify sts` (a timer's job), and the next delivery follows it.
mv "$www/good.example.away" "$www/good.example"
sed -i 's/id=1/id=2/' "$z/good.example.zone.signed"
stop_unbound
start_unbound "$z" "$z/world.conf" || { echo "FAIL: unbound did not restart"; exit 1; }
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$z/resolv.conf"
forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault'
out=$("$MXVERIFY" sts good.example "${settings[@]}" --sts-cache "$cache" --json) ||
    fail "mxverify sts after the id changed: exit $?"
json_is 'j["source"]' '"fetch"'
json_is 'j["id"]' '"2"'
case_ none on good.example none 'mx-not-in-policy' "the new policy, after the id changed"
extra=()

# mxverify sts: exit codes.
expect_exit 1 sts plain.example "${settings[@]}"
expect_exit 1 sts invalid.example "${settings[@]}"
in_err sts-policy-invalid
expect_exit 3 sts notfound.example "${settings[@]}"
expect_exit 0 sts none.example "${settings[@]}"
expect_exit 2 sts
# explain, offline: the seed's case.
policy enforce '*.emailhosted.not' > "$work/p.txt"
expect_exit 1 explain --cert "$certs/emailhosted.pem" --ca-file "$certs/ca.pem" \
    --domain hosted.example --mx mx01.subd.emailhosted.not --mta-sts on --sts-policy "$work/p.txt" \
    --unbound-conf "$work/dns.conf"
has 'mx-not-in-policy'
expect_exit 0 explain --cert "$certs/emailhosted.pem" --ca-file "$certs/ca.pem" \
    --domain wild.example --mx mx6.emailhosted.not --mta-sts on --sts-policy "$work/p.txt" \
    --unbound-conf "$work/dns.conf"
has 'Verdict:    pass (MTA-STS)'
expect_exit 2 explain --cert "$certs/emailhosted.pem" --domain wild.example \
    --mx mx6.emailhosted.not --sts-policy "$work/p.txt" --unbound-conf "$work/dns.conf"
in_err 'needs --mta-sts'

# check: per MX, which policy applied and why.
expect_exit 0 check wild.example "${settings[@]}" --mode none --mta-sts on
has 'Verified TLS connection established to mx6.emailhosted.not [127.0.0.23]: MTA-STS enforce: mx pattern *.emailhosted.not, matched'
expect_exit 1 check hosted.example "${settings[@]}" --mode required-verify-hosted --mta-sts on
has 'MTA-STS enforce: validation-failure: mx-not-in-policy'
expect_exit 0 check hosted.example "${settings[@]}" --mode required-verify-hosted --mta-sts off
expect_exit 1 check notls.example "${settings[@]}" --mode none --mta-sts on
has 'no mail would be sent (MTA-STS: the domain'"'"'s policy, id 1, is enforce)'

# --- TLS reports from the decisions above ---
rpt=$work/reports
mkdir -p "$rpt"
expect_exit 0 tlsrpt --log "$log" --org "Test Sender" --contact tls@sender.test \
    --out "$rpt" "${settings[@]}"
data=$SRCDIR/tests/integration/data/tlsrpt
"$PY" "$data/validate.py" "$data/schema.json" "$rpt" "Test Sender" tls@sender.test \
    > "$work/rpt.json" 2> "$work/rpt.err" || fail "reports not valid: $(cat "$work/rpt.err")"
# Exact counts: (successes, failures, {result-type: failed sessions}) per
# policy domain and type, from the deliveries above (one session each;
# a refused clear-text retry on the same connection is the same session).
"$PY" - "$rpt" <<'PY' > "$work/rpt.out" 2>&1 || true
import collections, glob, gzip, json, sys
got = collections.defaultdict(lambda: [0, 0, collections.Counter()])
for f in glob.glob(sys.argv[1] + "/*.json.gz"):
    for p in json.load(gzip.open(f))["policies"]:
        g = got[(p["policy"]["policy-domain"], p["policy"]["policy-type"])]
        g[0] += p["summary"]["total-successful-session-count"]
        g[1] += p["summary"]["total-failure-session-count"]
        for d in p.get("failure-details", []):
            g[2][d["result-type"]] += d["failed-session-count"]
want = {
    ("good.example", "sts"): [5, 1, {"validation-failure": 1}],
    ("hosted.example", "no-policy-found"): [1, 0, {}],
    ("hosted.example", "sts"): [0, 3, {"validation-failure": 3}],
    ("wild.example", "sts"): [1, 0, {}],
    ("testing.example", "sts"): [0, 1, {"validation-failure": 1}],
    ("cn.example", "sts"): [0, 1, {"certificate-host-mismatch": 1}],
    ("notls.example", "sts"): [0, 1, {"starttls-not-supported": 1}],
    ("none.example", "no-policy-found"): [1, 0, {}],
    ("invalid.example", "sts"): [0, 1, {"sts-policy-invalid": 1}],
    ("notfound.example", "sts"): [0, 1, {"sts-policy-fetch-error": 1}],
    ("redirect.example", "sts"): [0, 1, {"sts-policy-fetch-error": 1}],
    ("html.example", "sts"): [0, 1, {"sts-policy-fetch-error": 1}],
    ("big.example", "sts"): [0, 1, {"sts-policy-fetch-error": 1}],
    ("wrongcert.example", "sts"): [0, 1, {"sts-webpki-invalid": 1}],
    ("plain.example", "no-policy-found"): [1, 0, {}],
}
got = {k: [v[0], v[1], dict(v[2])] for k, v in got.items()}
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print("%s %s: got %s, wanted %s" % (k[0], k[1], got.get(k), want.get(k)))
print("reports checked")
PY
checks=$((checks + 1))
[ "$(cat "$work/rpt.out")" = "reports checked" ] || fail "tlsrpt counts: $(cat "$work/rpt.out")"
[ -z "${MXV_KEEP:-}" ] || cp -r "$work" "$MXV_KEEP"
finish
