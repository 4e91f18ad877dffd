# SPDX-License-Identifier: Apache-2.0
# postfix_lib.sh: a Postfix instance of its own, for postfix.sh and
# tests/bench/postfix_bench.sh (sourced after lib.sh, inside the network
# and mount namespace those scripts enter).

# pf_new DIR < MAIN.CF: DIR/etc (main.cf from standard input, Debian's
# master.cf with chroot off and no SMTP listener: mail enters through
# sendmail), DIR/queue and DIR/data. main.cf must set queue_directory and
# data_directory to those two.
pf_new() {
    local dir=$1
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    cat > "$dir/etc/main.cf"
    cp /usr/share/postfix/master.cf.dist "$dir/etc/master.cf" 2>/dev/null ||
        cp /etc/postfix/master.cf "$dir/etc/master.cf"
    # No chroot: the shim loads libmxverify and reads its files after
    # start-up (examples/postfix/README.md).
    postconf -c "$dir/etc" -F '*/*/chroot = n'
    postconf -c "$dir/etc" -M# smtp/inet
}

# pf_main_cf: the main.cf lines every test instance at $pf shares (a
# sender on loopback, no local delivery, its own log file, the recipe's
# import_environment: the caller's main.cf defines mxverify_environment),
# for pf_new.
pf_main_cf() {
    cat <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
myhostname = sender.test
mydomain = sender.test
myorigin = \$mydomain
mydestination =
relayhost =
inet_interfaces = loopback-only
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE
    POSTLOG_HOSTNAME \$mxverify_environment
CONF
}

# pf_start: checks the instance at $pf and starts it (stopped on exit);
# a failure ends the test with what Postfix said.
pf_start() {
    postfix -c "$pf/etc" check 2> "$work/postfix-check.err" ||
        { echo "FAIL: postfix check"; cat "$work/postfix-check.err"; exit 1; }
    cleanup_hooks+=("pf_stop $pf")
    postfix -c "$pf/etc" start 2> "$work/postfix-start.err" ||
        { echo "FAIL: postfix start"; cat "$work/postfix-start.err"; exit 1; }
}

# pf_stop DIR: stops that instance and waits (10 s at most) for its master
# process to end; then kills it.
pf_stop() {
    postfix -c "$1/etc" stop >/dev/null 2>&1 || true
    local pid
    pid=$(tr -d ' ' 2>/dev/null < "$1/queue/pid/master.pid") || true
    for _ in $(seq 100); do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# pf_dns DIR WORLD: the resolver of this namespace: unbound (lib.sh's
# start_unbound) serving the unbound.conf clauses in WORLD, on port 53 (the
# only port resolv.conf can name; nothing else listens in this namespace),
# /etc/resolv.conf bind-mounted to point at it (trust-ad: the AD bit of a
# validating daemon reaches Postfix's DANE), and $work/dns.conf, the same
# world for mxverify's libunbound.
pf_dns() {
    free_port() { echo 53; }
    start_unbound "$1" "$2" || return 1
    printf 'nameserver %s\noptions timeout:2 attempts:2 trust-ad\n' "$dns_addr" > "$1/resolv.conf"
    mount --bind "$1/resolv.conf" /etc/resolv.conf
    forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault'
}

# --- for a running instance: $pf its directory, $mxlog mxverify's log,
# $work/spool the sinks' spool, $deadline when every wait ends ---

# send DOMAIN MARKER: a message with a unique marker, through sendmail.
send() {
    printf 'From: <sender@sender.test>\nTo: <user@%s>\nSubject: %s\n\n%s\n' "$1" "$2" "$2" |
        sendmail -C "$pf/etc" -f sender@sender.test "user@$1" ||
        { echo "FAIL: sendmail to $1 failed"; failures=$((failures + 1)); }
}
# delivered MARKER: tls | clear | none (what the sinks received)
delivered() {
    local f
    f=$(grep -rlx -- "Subject: $1"$'\r' "$work/spool" 2>/dev/null | head -1)
    if [ -z "$f" ]; then echo none; elif head -1 "$f" | grep -q yes; then echo tls; else echo clear; fi
}
# copies MARKER: how many messages with that marker the sinks received.
copies() { grep -rlx -- "Subject: $1"$'\r' "$work/spool" 2>/dev/null | wc -l; }
# queue: "QUEUE ADDRESS REASON" per queued recipient (postqueue -j).
queue() {
    postqueue -c "$pf/etc" -j 2>/dev/null | "$PY" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    for r in m["recipients"]:
        print(m["queue_name"], r["address"], r.get("delay_reason", "-"))'
}
# wait_until SECONDS COMMAND...: polls COMMAND every 0.5 s; 1 when it never
# held. All waits together end by $deadline, well within CTest's TIMEOUT.
wait_until() {
    local limit=$1; shift
    local end=$(($(date +%s) + limit))
    [ "$end" -le "$deadline" ] || end=$deadline
    while ! "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.5
    done
}
all_arrived() { local m; for m in "$@"; do [ "$(delivered "$m")" != none ] || return 1; done; }
deferred_count() { queue | grep -c "^deferred user@$1 " || true; }
only_deferred_left() { ! queue | grep -qv '^deferred '; }
check() { # check DESCRIPTION COMMAND...: one check, COMMAND must succeed
    local what=$1; shift
    checks=$((checks + 1))
    "$@" || { echo "FAIL: $what" >&2; failures=$((failures + 1)); }
}
logged() { grep -qF -- "$1" "$mxlog"; }
show_logs() {
    echo "--- mxverify log" >&2; tail -25 "$mxlog" >&2
    echo "--- postfix log" >&2; grep -v 'postfix/\(pickup\|cleanup\|qmgr\)' "$pf/maillog" | tail -30 >&2
    echo "--- queue" >&2; queue >&2
}
