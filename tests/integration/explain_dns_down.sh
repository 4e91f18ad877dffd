#!/usr/bin/env bash
# A DNS server that never answers: explain says "temporary" and exits 3,
# within the DNS deadline, never a hang and never a mismatch.
. "$(dirname "$0")/lib.sh"

# A UDP socket that reads queries and never replies.
port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try: s.recvfrom(4096)
    except socket.timeout: pass
' "$port" &
sink=$!
cleanup_hooks+=("kill $sink")
cat > "$work/dead.conf" <<CONF
server:
    do-not-query-localhost: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$port
CONF
start=$(date +%s)
expect_exit 3 -- explain --unbound-conf "$work/dead.conf" --dns-timeout 1 \
    --ca-file "$certs/ca.pem" --cert "$certs/emailhosted.pem" --domain example.com \
    --ip 198.51.100.25
has "MX lookup of example.com failed"
has "(temporary)"
has "temporary: DNS failure"
elapsed=$(($(date +%s) - start))
checks=$((checks + 1))
if [ "$elapsed" -gt 10 ]; then
    echo "FAIL: took ${elapsed}s with a 1s DNS deadline" >&2
    failures=$((failures + 1))
fi
# The same failure in JSON.
expect_exit 3 -- explain --unbound-conf "$work/dead.conf" --dns-timeout 1 --json \
    --ca-file "$certs/ca.pem" --cert "$certs/emailhosted.pem" --domain example.com
json_is 'j["temporary"]' 'true'
json_is 'j["verdict"]' '"fail"'
# A match that needs no DNS still passes while DNS is down.
expect_exit 0 -- explain --unbound-conf "$work/dead.conf" --dns-timeout 1 \
    --ca-file "$certs/ca.pem" --cert "$certs/example.pem" --domain example.com
finish
