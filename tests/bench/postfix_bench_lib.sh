# SPDX-License-Identifier: Apache-2.0
# postfix_bench_lib.sh: what postfix_bench.sh and postfix_scale_bench.sh
# share (sourced after tests/integration/lib.sh and postfix_lib.sh, inside
# the namespaces those scripts enter): the CPU accounting of the Postfix
# processes, the queued messages, one timed run, rounds of configurations
# and their medians.
#
# The caller calls bench_ram (which sets pf, the instance directory, and
# spool, where the sink writes what it receives), sets total (messages per
# run), and defines bench_main_cf_extra (main.cf lines of its own, may be
# empty) and run_config NAME (one run of that configuration, through
# bench_run). bench_hook start|end NAME may be redefined: it runs just
# before Postfix starts and after it stopped, and what "end" leaves in
# bench_note is added to the run's line.

bench_hook() { :; }
bench_main_cf_extra() { :; }

# bench_ram: sets pf (the Postfix instance: configuration, queue, data
# directory, log) and spool (where the sink writes), in $work on the disk,
# as a relay keeps its queue. MXV_BENCH_RAM=1 puts both on a RAM file
# system of their own instead, mounted in $work (the scripts run in a
# mount namespace of their own): on the test VM's disk every fsync of a
# queue file is a trap to the hypervisor whose cost swung by half between
# identical runs, a noise as large as what is measured, and mxverify
# writes nothing there (its shared DNS file stays on the disk). Without
# the disk plain Postfix costs less, and what mxverify adds is measured
# against that smaller figure: stricter than a real relay, not kinder.
bench_ram() {
    local base=$work
    if [ "${MXV_BENCH_RAM:-}" = 1 ]; then
        base=$work/ram
        mkdir -p "$base"
        mount -t tmpfs -o mode=755 mxv-bench "$base"
    fi
    pf=$base/postfix
    spool=$base/spool
}

# bench_acct: CPU time of the Postfix processes, from a control group of
# their own (cgroup v1 cpuacct or v2), removed on exit; $acct names it
# (empty when none could be made): wall time on a shared machine drifts by
# 10 % between identical runs, the CPU a run burns much less.
bench_acct() {
    acct=
    local base_dir
    for base_dir in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ -d "$base_dir" ] && mkdir -p "$base_dir/mxv-bench-$$" 2>/dev/null &&
            [ -e "$base_dir/mxv-bench-$$/tasks" ] || [ -e "$base_dir/mxv-bench-$$/cgroup.procs" ]; then
            acct=$base_dir/mxv-bench-$$
            break
        fi
    done
    # cgroup v2 names its task file cgroup.procs
    if [ -n "$acct" ] && [ ! -e "$acct/tasks" ]; then ln -s cgroup.procs "$acct/tasks" 2>/dev/null || true; fi
    cleanup_hooks+=("rmdir $acct 2>/dev/null")
}

# cpu_used: CPU seconds the group has used so far (empty when unknown).
cpu_used() {
    if [ -r "$acct/cpuacct.usage" ]; then
        awk '{ printf "%.3f", $1 / 1e9 }' "$acct/cpuacct.usage"
    elif [ -r "$acct/cpu.stat" ]; then
        awk '$1 == "usage_usec" { printf "%.3f", $2 / 1e6 }' "$acct/cpu.stat"
    fi
}

# cpu_split: "USER SYSTEM" CPU seconds the group has used so far (empty
# when unknown): which side of the system-call boundary a difference is.
cpu_split() {
    if [ -r "$acct/cpuacct.usage_user" ] && [ -r "$acct/cpuacct.usage_sys" ]; then
        awk 'FNR == 1 { v[n++] = $1 / 1e9 } END { printf "%.3f %.3f", v[0], v[1] }' \
            "$acct/cpuacct.usage_user" "$acct/cpuacct.usage_sys"
    elif [ -r "$acct/cpu.stat" ]; then
        awk '$1 == "user_usec" { u = $2 / 1e6 } $1 == "system_usec" { s = $2 / 1e6 }
            END { printf "%.3f %.3f", u, s }' "$acct/cpu.stat"
    fi
}

# bench_reference_pids: processes (the caller's SMTP sinks) that do the
# same work in every run of every configuration, whatever Postfix does
# around them: the same messages arrive (a delivery over a connection
# Postfix kept open spares the sink and Postfix a handshake alike; each
# run's line says how many). The CPU they use in a run measures how fast
# this machine was during it: the sink's CPU swung by 20 % between
# identical runs, with Postfix's. A run's CPU is also given per second of
# the reference's ("per sink"), and the rounds' ratios of that, from which
# the machine's speed of the moment cancels out. The caller sets them with
# bench_reference PID...; reference_cpu: CPU seconds those processes have
# used so far, from /proc (every thread's, those gone included); empty
# when none is set, or one has gone (its start time tells a reused
# process id).
bench_reference_pids=
bench_reference_starts=
# /proc/PID/stat after the command name: state is field 1, utime 12,
# stime 13, start time 20.
proc_stat() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null; }
bench_reference() {
    local pid
    bench_reference_pids="$*" bench_reference_starts=
    for pid; do bench_reference_starts+=" $(proc_stat "$pid" | awk '{ print $20 }')"; done
}
reference_cpu() {
    [ -n "$bench_reference_pids" ] || return 0
    local pid total=0 f starts=($bench_reference_starts) i=0
    for pid in $bench_reference_pids; do
        f=$(proc_stat "$pid")
        [ -n "$f" ] && [ "$(echo "$f" | awk '{ print $20 }')" = "${starts[i]:-}" ] || return 0
        total=$(echo "$f" | awk -v t="$total" '{ print t + $12 + $13 }')
        i=$((i + 1))
    done
    awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# MXV_BENCH_PERF_STAT=1: the kernel's software counters over each run,
# machine-wide (perf stat -a; this VM has no hardware counters, and no
# perf_event control group to count Postfix alone): system calls, page
# faults, context switches. The sinks and unbound count too, the same in
# every configuration. bench_perf_start; bench_perf_end leaves them in
# bench_perf_counts.
# perf_over_run VAR PERF-ARGUMENTS...: perf at work while a sleep of its
# own runs (a background job ignores SIGINT, perf's own stop), its process
# id in VAR; perf_run_end PID ends the sleep, and perf writes its file.
# Ended on any exit too, whatever perf's child is called yet.
perf_over_run() {
    local var=$1
    shift
    perf "$@" -- sleep 86400 > /dev/null 2>&1 &
    printf -v "$var" %s "$!"
    cleanup_hooks+=("perf_run_end $!")
}
perf_run_end() {
    pkill -P "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
bench_perf_start() {
    [ -n "${MXV_BENCH_PERF_STAT:-}" ] || return 0
    perf_over_run bench_perf stat -a -x, -e raw_syscalls:sys_enter,page-faults,context-switches,cpu-migrations \
        -o "$work/perf.out"
    sleep 0.2 # counting before Postfix starts
}
# MXV_BENCH_PERF_RECORD=DIR: where the CPU time went, machine-wide,
# sampled on the kernel's CPU clock (the only sampling event this VM has)
# into DIR/NAME.K.data (K counts the runs of the bench) for perf report
# (--sort comm,dso or dso,sym); the same symbols' shares in two runs
# compare them even as the VM's speed drifts. Sampling slows the runs:
# their seconds do not compare with those of runs without it.
# MXV_BENCH_PERF_CALLGRAPH=1 records the kernel's call chains too (perf
# record -g; user-space chains need frame pointers Debian's libraries lack):
# which system call or fault a kernel sample was in, e.g. with
# perf script --comm smtp.
bench_record_runs=0
if [ -n "${MXV_BENCH_PERF_RECORD:-}" ] && ! perf record -q -e cpu-clock -o /dev/null true 2>/dev/null; then
    echo "MXV_BENCH_PERF_RECORD: perf record does not work here" >&2
    exit 2
fi
bench_record_start() {
    [ -n "${MXV_BENCH_PERF_RECORD:-}" ] || return 0
    bench_record_runs=$((bench_record_runs + 1))
    mkdir -p "$MXV_BENCH_PERF_RECORD"
    perf_over_run bench_record record -a ${MXV_BENCH_PERF_CALLGRAPH:+-g} -e cpu-clock -F 1999 \
        -o "$MXV_BENCH_PERF_RECORD/$1.$bench_record_runs.data"
    sleep 0.5 # sampling before Postfix starts
}
bench_record_end() {
    [ -n "${MXV_BENCH_PERF_RECORD:-}" ] || return 0
    perf_run_end "$bench_record"
}
bench_perf_end() {
    bench_perf_counts=
    [ -n "${MXV_BENCH_PERF_STAT:-}" ] || return 0
    perf_run_end "$bench_perf"
    bench_perf_counts=$(awk -F, '$3 != "" && $1 ~ /^[0-9]+$/ {
        sub(/^raw_syscalls:sys_enter$/, "system-calls", $3); printf ", %s %s", $1, $3 }' "$work/perf.out" 2>/dev/null) ||
        true
}

# steal_seconds: CPU time the hypervisor gave other guests while this
# machine's CPUs wanted to run (/proc/stat, all CPUs): a run with much of
# it ran on a slower machine than its neighbours.
steal_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", $9 / hz }' /proc/stat
}

# bench_main_cf ENVIRONMENT...: main.cf of the instance at $pf, TLS level
# may, the given variables imported by every Postfix daemon, then the
# caller's bench_main_cf_extra.
bench_main_cf() {
    pf_main_cf
    cat <<CONF
mxverify_environment = $*
smtp_tls_security_level = may
smtp_tls_CAfile = $certs/ca.pem
CONF
    if [ -n "${MXV_BENCH_PROFILE:-}" ]; then
        bench_profile_daemons
        printf 'daemon_directory = %s\nmax_idle = 2s\n' "$work/daemons"
    fi
    bench_main_cf_extra
}

# MXV_BENCH_PROFILE=callgrind|strace: the Postfix daemons named in
# MXV_BENCH_PROFILE_DAEMONS (default smtp) run under valgrind's callgrind
# or strace -c, one file per process in MXV_BENCH_PROFILE_DIR/NAME.RUN
# (default /tmp/mxv-bench-profile; RUN counts the runs of the bench from
# 1, emptied before each), and the run's line adds the totals:
# instructions executed, or system calls made. This VM has no hardware
# counters, and both counts repeat where seconds drift by 10-30 % between
# identical runs; the times of such a run mean nothing. Processes leave
# after 2 s idle (max_idle), so each ends normally and writes its file
# before the run's line; a daemon that never idles out (qmgr, tlsmgr)
# writes its file when Postfix stops, after that line (read it then), and
# each run waits the full minute of bench_profile_total for it.
bench_profile_round=0
bench_profile_out=/nonexistent
case ${MXV_BENCH_PROFILE:-} in
'' | callgrind | strace) ;;
*) echo "MXV_BENCH_PROFILE: callgrind or strace, not $MXV_BENCH_PROFILE" >&2; exit 2 ;;
esac
# bench_profile_daemons: $work/daemons, Postfix's daemon directory with
# the profiled daemons replaced by scripts that run them under the
# profiler, writing into the directory named in $work/daemons/out.
bench_profile_daemons() {
    local real f d tool
    [ -d "$work/daemons" ] && return 0
    real=$(postconf -d -h daemon_directory)
    mkdir -p "$work/daemons"
    chmod 755 "$work/daemons"
    for f in "$real"/*; do ln -s "$f" "$work/daemons/"; done
    case $MXV_BENCH_PROFILE in
    # MXV_BENCH_CALLGRIND_OPTS: more of callgrind's options, written into
    # the wrapper now (Postfix's daemons get no environment of the bench's):
    # e.g. --cache-sim=yes counts cache misses as well.
    callgrind) tool="valgrind -q --tool=callgrind ${MXV_BENCH_CALLGRIND_OPTS:-}"' --callgrind-out-file="$(cat %s)/callgrind.out.%%p"' ;;
    strace) tool='strace -f -c -o "$(cat %s)/strace.out.$$"' ;;
    esac
    for d in ${MXV_BENCH_PROFILE_DAEMONS:-smtp}; do
        rm "$work/daemons/$d"
        # shellcheck disable=SC2059
        printf "#!/bin/sh\nexec $tool %s \"\$@\"\n" "$work/daemons/out" "$real/$d" > "$work/daemons/$d"
        chmod 755 "$work/daemons/$d"
    done
}
bench_profile_setup() {
    local name=$1
    bench_profile_round=$((bench_profile_round + 1))
    bench_profile_out=${MXV_BENCH_PROFILE_DIR:-/tmp/mxv-bench-profile}/$name.$bench_profile_round
    # Emptied first: a file left by an earlier bench would be counted.
    rm -rf "$bench_profile_out"
    mkdir -p "$bench_profile_out"
    chown postfix "$bench_profile_out"
    echo "$bench_profile_out" > "$work/daemons/out"
    # callgrind opens its file at start (as root, mode 0600) and again at
    # exit, when the daemon runs as the postfix user: each file is handed
    # over while it runs.
    (while :; do chown postfix "$bench_profile_out"/* 2>/dev/null || true; sleep 0.2; done) &
    bench_profile_chown=$!
    cleanup_hooks+=("kill $bench_profile_chown 2>/dev/null")
}
# bench_profile_total: after the deliveries, waits (60 s at most) for the
# profiled processes to leave, then prints what their files counted.
bench_profile_total() {
    local _
    for _ in $(seq 600); do
        pgrep -f "$bench_profile_out" >/dev/null || break
        sleep 0.1
    done
    kill "$bench_profile_chown"
    case $MXV_BENCH_PROFILE in
    callgrind) awk '$1 == "totals:" { t += $2; n++ } END { printf "%d profiles, %.0f instructions", n, t }' \
        "$bench_profile_out"/callgrind.out.* 2>/dev/null || true ;;
    # strace -c: "% time, seconds, usecs/call, calls, [errors,] syscall"
    strace) awk '$NF == "total" { t += $4; n++ } END { printf "%d traces, %d system calls", n, t }' \
        "$bench_profile_out"/strace.out.* 2>/dev/null || true ;;
    esac
}

# bench_messages DOMAINS: $total messages, message i to user@dI.example.net
# with I = i % DOMAINS, dropped once by Postfix's sendmail into a stopped
# instance's maildrop and kept in $work/maildrop for every run to copy:
# a thousand sendmail processes per run took longer than the deliveries
# measured.
bench_messages() {
    local domains=$1 i
    pf_stop "$pf"
    rm -rf "$pf" "$work/maildrop"
    bench_main_cf | pf_new "$pf"
    postfix -c "$pf/etc" check 2>/dev/null
    for i in $(seq 1 "$total"); do
        printf 'Subject: m%d\n\nbench\n' "$i" |
            sendmail -C "$pf/etc" -f sender@sender.test "user@d$((i % domains)).example.net" 2>/dev/null
    done
    cp -a "$pf/queue/maildrop" "$work/maildrop"
}

# bench_check_configs SCRIPT KNOWN...: every name in configs (the caller's
# array, from MXV_BENCH_CONFIGS) is one of KNOWN, or the bench stops with
# exit 2 before any run: a misspelt name must not run nothing in silence.
bench_check_configs() {
    local script=$1 c
    shift
    local known="$*"
    for c in "${configs[@]}"; do
        case " $known " in
        *" $c "*) ;;
        *) echo "$script: MXV_BENCH_CONFIGS: no configuration '$c' (${known// /, })" >&2; exit 2 ;;
        esac
    done
}

declare -A took cpu refcpu complete
# bench_run NAME ENVIRONMENT...: a fresh instance with the messages in its
# maildrop, then the time from start to the last delivery (at most
# $bench_wait seconds, default 300); took, cpu, refcpu and complete keep
# the figures by NAME.
bench_run() {
    local name=$1; shift
    pf_stop "$pf"
    rm -rf "$pf" "$spool"
    bench_main_cf "$@" | pf_new "$pf"
    postfix -c "$pf/etc" check 2>/dev/null
    cp -a "$work/maildrop/." "$pf/queue/maildrop/"
    # postsuper renames the copies (queue file names follow inode numbers)
    # and logs it, as the postfix user, before postlogd runs.
    touch "$pf/maillog" && chown postfix "$pf/maillog"
    local t0 t1 cpu0 cpu1 split0 split1 steal0 steal1 ref0 ref1 n=0
    [ -z "${MXV_BENCH_PROFILE:-}" ] || bench_profile_setup "$name"
    bench_hook start "$name"
    bench_perf_start
    bench_record_start "$name"
    cpu0=$(cpu_used)
    ref0=$(reference_cpu)
    split0=$(cpu_split)
    steal0=$(steal_seconds)
    t0=$(date +%s.%N)
    # In the accounting group, so every Postfix process counts (children
    # inherit it); the sinks and unbound stay outside.
    sh -c 'echo $$ > "$1" 2>/dev/null; exec postfix -c "$2" start 2>/dev/null' - "$acct/tasks" "$pf/etc"
    # Counted with a glob, not find | wc: two processes every 0.1 s took
    # a few percent of the CPU the runs compete for.
    # Postfix's verdict on a message it did not deliver ends the wait too.
    local delivered=() tick failed=0
    shopt -s nullglob
    for tick in $(seq $((${bench_wait:-300} * 10))); do
        delivered=("$spool"/*/*.eml)
        n=${#delivered[@]}
        [ "$n" -ge "$total" ] && break
        if [ $((tick % 10)) = 0 ]; then
            failed=$(grep -c 'status=\(deferred\|bounced\)' "$pf/maillog" 2>/dev/null) || true
            [ $((n + failed)) -ge "$total" ] && break
        fi
        sleep 0.1
    done
    shopt -u nullglob
    t1=$(date +%s.%N)
    cpu1=$(cpu_used)
    ref1=$(reference_cpu)
    split1=$(cpu_split)
    steal1=$(steal_seconds)
    local profiled=
    bench_perf_end
    bench_record_end
    [ -z "${MXV_BENCH_PROFILE:-}" ] || profiled=", $(bench_profile_total)"
    pf_stop "$pf"
    local secs procs used
    bench_note=
    bench_hook end "$name"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    procs=$(grep -o 'postfix/smtp\[[0-9]*\]' "$pf/maillog" 2>/dev/null | sort -u | wc -l)
    # Deliveries over a connection Postfix kept open (conn_use=2 and up):
    # no TLS handshake of their own, for Postfix and the sink alike. How
    # many depends on the queue's backlog, and so on the run's speed (none
    # over TLS unless smtp_tls_connection_reuse is set).
    local reused
    reused=$(grep -c 'conn_use=' "$pf/maillog" 2>/dev/null) || true
    used=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a; else print "?" }')
    local sides=
    if [ -n "$split0" ] && [ -n "$split1" ]; then
        sides=$(awk -v a="$split0" -v b="$split1" 'BEGIN { split(a, x, " "); split(b, y, " ");
            printf " (user %.2f, system %.2f)", y[1] - x[1], y[2] - x[2] }')
    fi
    sides+=$(awk -v a="$steal0" -v b="$steal1" 'BEGIN { if (a != "" && b != "") printf ", %.2f s stolen", b - a }')
    refcpu[$name]=$(awk -v a="$ref0" -v b="$ref1" 'BEGIN { if (a != "" && b != "" && b > a) printf "%.2f", b - a }')
    [ -z "${refcpu[$name]}" ] || sides+=", sink ${refcpu[$name]} s CPU"
    printf '  %-8s %4d of %d delivered in %6s s, %6.1f messages/s, %2d smtp processes, %s over a kept connection, %s s CPU%s\n' \
        "$name" "$n" "$total" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')" "$procs" \
        "${reused:-0}" "$used" "$sides$bench_note$profiled$bench_perf_counts"
    took[$name]=$secs
    cpu[$name]=$used
    complete[$name]=1
    if [ "$n" -lt "$total" ]; then
        # Seen once in some hundred runs, before smtp_sink.py passed each
        # connection to its thread instead of capturing the loop variable
        # (Postfix logged a protocol error from the sink): never again, one
        # hopes, but a lost message must not pass for a fast run.
        complete[$name]=0
        echo "  $name: $((total - n)) not delivered, this round is left out:"
        grep 'status=\(deferred\|bounced\)' "$pf/maillog" | sed 's/^/    /' | head -5
    fi
    return 0
}

# bench_rounds ROUNDS CONFIG...: rounds of every configuration (the first
# plain), the order reversed every other round; each round gives each
# configuration's throughput and CPU relative to plain in that round
# (ratios and cpu_ratios by name, reset here; ref_ratios: the CPU ratio
# of runs measured per sink CPU, when bench_reference_pids is set). This
# machine's speed changes by 10 to 30 % over minutes, so one pair of runs
# proves little:
# the median over rounds is the figure. bench_round_done ROUND, when the
# caller defines it, runs after each round.
declare -A ratios cpu_ratios ref_ratios
bench_rounds() {
    local rounds=$1 round name i order; shift
    local configs=("$@")
    ratios=() cpu_ratios=() ref_ratios=()
    for round in $(seq 1 "$rounds"); do
        order=("${configs[@]}")
        if [ $((round % 2)) = 0 ]; then
            order=()
            for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[i]}"); done
        fi
        for name in "${order[@]}"; do run_config "$name"; done
        for name in "${configs[@]}"; do
            [ "$name" = plain ] && continue
            [ "${complete[plain]:-}${complete[$name]:-}" = 11 ] || continue
            ratios[$name]+=" $(awk -v p="${took[plain]}" -v x="${took[$name]}" 'BEGIN { printf "%.3f", p / x }')"
            cpu_ratios[$name]+=" $(awk -v p="${cpu[plain]}" -v x="${cpu[$name]}" \
                'BEGIN { if (p + 0 > 0 && x + 0 > 0) printf "%.3f", x / p; else print "?" }')"
            [ -n "${refcpu[plain]:-}" ] && [ -n "${refcpu[$name]:-}" ] || continue
            ref_ratios[$name]+=" $(awk -v p="${cpu[plain]}" -v x="${cpu[$name]}" -v rp="${refcpu[plain]}" \
                -v rx="${refcpu[$name]}" \
                'BEGIN { if (p + 0 > 0 && x + 0 > 0) printf "%.3f", (x / rx) / (p / rp); else print "?" }')"
        done
        if declare -F bench_round_done >/dev/null; then bench_round_done "$round"; fi
    done
    return 0
}

# sorted_numbers WORDS...: the words that are numbers (not "?"), one a
# line, in increasing order; nothing when there are none.
sorted_numbers() {
    local v
    for v; do [[ $v =~ ^-?[0-9.]+$ ]] && printf '%s\n' "$v"; done | sort -n
}

# median WORDS...: the median of numbers (the mean of the middle two);
# "-" for none.
median() {
    sorted_numbers "$@" | awk '{ v[NR] = $1 } END {
        if (NR == 0) printf "-"
        else if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
        else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median_interval WORDS...: "LOW to HIGH", an interval that holds the
# median of the distribution the numbers were drawn from with at least
# 95 % confidence, from their order statistics alone (no assumption about
# the distribution's shape: the count of numbers below the true median is
# binomial, n and 1/2); "-" for fewer than 6 numbers, too few for one.
# Where it straddles a target, the rounds did not decide that target.
median_interval() {
    sorted_numbers "$@" | awk '{ v[NR] = $1 } END {
        # The largest j with P(B <= j - 1) <= 0.025, B binomial (NR, 1/2):
        # then the median lies below v[j] or above v[NR + 1 - j] with
        # probability at most 0.05.
        j = 0; cum = 0; term = 0.5 ^ NR
        while (j < NR / 2 && cum + term <= 0.025) { cum += term; j++; term = term * (NR - j + 1) / j }
        if (j < 1) printf "-"; else printf "%.3f to %.3f", v[j], v[NR + 1 - j] }'
}

# bench_summary TARGET CONFIG...: each configuration's medians relative to
# plain, with their 95 % intervals (median_interval), from the last
# bench_rounds, TARGET after them.
bench_summary() {
    local target=$1 name; shift
    for name; do
        [ "$name" = plain ] && continue
        # shellcheck disable=SC2086
        printf '  %-8s throughput / plain: median %s (95 %% interval %s; rounds:%s); CPU / plain: median %s (95 %% interval %s; rounds:%s) (%s)\n' \
            "$name" "$(median ${ratios[$name]:-})" "$(median_interval ${ratios[$name]:-})" "${ratios[$name]:-}" \
            "$(median ${cpu_ratios[$name]:-})" "$(median_interval ${cpu_ratios[$name]:-})" \
            "${cpu_ratios[$name]:-}" "$target"
        # shellcheck disable=SC2086
        [ -z "${ref_ratios[$name]:-}" ] ||
            printf '  %-8s CPU per sink CPU / plain: median %s (95 %% interval %s; rounds:%s)\n' "$name" \
                "$(median ${ref_ratios[$name]})" "$(median_interval ${ref_ratios[$name]})" "${ref_ratios[$name]}"
    done
}
