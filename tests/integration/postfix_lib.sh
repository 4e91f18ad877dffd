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
# /etc/resolv.conf bind-mounted to point at it, and $work/dns.conf, the
# same world for mxverify's libunbound.
pf_dns() {
    free_port() { echo 53; }
    start_unbound "$1" "$2" || return 1
    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" > "$1/resolv.conf"
    mount --bind "$1/resolv.conf" /etc/resolv.conf
    forward_conf "$work/dns.conf" 'local-zone: "127.in-addr.arpa." nodefault'
}
