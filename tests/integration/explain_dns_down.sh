#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DNS servers that do not answer: a forwarder address/port where nothing
# listens, and (with Debian's python3) a UDP socket that reads queries and
# never replies. With --dns-timeout 1, explain exits 3 (not decided: DNS
# failure), the trace says which lookup failed and that it is temporary,
# never a name mismatch, and it does not hang. A match that needs no DNS
# still passes.
. "$(dirname "$0")/lib.sh"

dead_world() { # dead_world FILE ADDR PORT
    {
        printf 'server:\n    do-not-query-localhost: no\n'
        printf '    local-zone: "%s" nodefault\n' 2.0.192.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa.
        printf 'forward-zone:\n    name: "."\n    forward-addr: %s@%s\n' "$2" "$3"
    } > "$1"
}

servers=(closed)
dead_world "$work/closed.conf" 127.0.0.$((30 + RANDOM % 200)) "$(free_port)"

if [ -n "$PY" ]; then
    port=$(free_port)
    addr=127.0.0.$((30 + RANDOM % 200))
    "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.5)
open(sys.argv[3], "w").write("up\n")
end = time.time() + 100
while time.time() < end:
    try: s.recvfrom(4096)
    except socket.timeout: pass
' "$addr" "$port" "$work/sink.up" &
    sink=$!
    cleanup_hooks+=("kill $sink 2>/dev/null; wait $sink 2>/dev/null")
    for _ in $(seq 50); do [ -s "$work/sink.up" ] && break; sleep 0.1; done
    if [ -s "$work/sink.up" ]; then
        dead_world "$work/silent.conf" "$addr" "$port"
        servers+=(silent)
    else
        echo "FAIL: the silent UDP server did not start" >&2
        failures=$((failures + 1))
    fi
else
    echo "note: no Debian /usr/bin/python3: only the closed-port case is run" >&2
fi

for s in "${servers[@]}"; do
    echo "--- DNS server: $s"
    x() { expect_exit "$1" -- explain --unbound-conf "$work/$s.conf" --dns-timeout 1 \
        --ca-file "$certs/ca.pem" "${@:2}"; }

    # The worked example: MX and PTR lookups fail; temporary, exit 3.
    start=$(date +%s)
    x 3 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1
    has "MX lookup of example.com failed"
    has "PTR lookup of 192.0.2.1 failed"
    has "(temporary)"
    has "Match:      none"
    has "Verdict:    fail (validation-failure, temporary: DNS failure)"
    has "Action:     abort"
    lacks "certificate-host-mismatch"
    elapsed_at_most 10 "$start"

    # The same failure in JSON.
    x 3 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --json
    json_is 'j["verdict"]' '"fail"'
    json_is 'j["action"]' '"abort"'
    json_is 'j["temporary"]' 'true'
    json_is 'j["match"]' 'null'
    json_is 'j["chain"]["ok"]' 'true'

    # Only the PTR lookup is needed (MX names given): still temporary.
    x 3 --cert "$certs/emailhosted.pem" --domain example.com --mx mx01.subd.emailhosted.not \
        --ip 192.0.2.1
    has "PTR lookup of 192.0.2.1 failed"
    has "temporary"
    # verify: the CN ~= ptr step needs DNS too.
    x 3 --cert "$certs/cn-wildcard.pem" --domain example.com --ip 192.0.2.1 --mode required-verify
    # IPv6 PTR (ip6.arpa).
    x 3 --cert "$certs/emailhosted.pem" --domain example.com --mx mx01.subd.emailhosted.not \
        --ip 2001:db8::1
    has "(temporary)"

    # A match that needs no DNS still passes while DNS is down.
    x 0 --cert "$certs/domain-match.pem" --domain example.com
    x 0 --cert "$certs/mx01.pem" --domain example.com --mx mx01.subd.emailhosted.not
    # Modes that do not verify never look anything up.
    x 0 --cert "$certs/emailhosted.pem" --domain example.com --ip 192.0.2.1 --mode required
done
finish
