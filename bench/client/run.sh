#!/usr/bin/env bash
# bench/client/run.sh: the HTTP client, nng-http against Debian's NNG 1.5.2
# (the same C program, client_bench.c, built against each) and wrk, all
# GETting nginx's 13-byte /static over loopback (nginx on CPU 0, the client
# on CPU 1).  Two modes: one connection with nng_http_conn_transact in a
# loop, and ASYNC_CONNS connections driven by aio callback chains.  Runs are
# interleaved round by round; prints a table of medians and ratios and
# writes it as markdown.  See README.md.
#
# Knobs (environment): ROUNDS (3), DURATION (10, seconds per run),
# ASYNC_CONNS (16), CLIENTS ("ours nng wrk"), MODES ("loop async"),
# SRC_DIR (the checkout to build, default this one),
# BUILD_DIR ($SRC_DIR/build/bench-client), RESULTS ($BUILD_DIR/results.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$here/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build/bench-client}
RESULTS=${RESULTS:-$BUILD_DIR/results.md}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
ASYNC_CONNS=${ASYNC_CONNS:-16}
CLIENTS=${CLIENTS:-"ours nng wrk"}
MODES=${MODES:-"loop async"}
py=(python3 "$here/report.py")

log() { printf '[bench/client] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- cleanup: everything this script started, on any exit -----------------------
tmp=$(mktemp -d /tmp/bench-client.XXXXXX)
nginx_pid=""
child=""  # the client or wrk running now

# run_child OUT CMD...: runs CMD in the background with its output in OUT and
# waits for it, so that a signal's trap fires at once (bash defers traps
# while a foreground command runs).
run_child() {
    local rc=0 out=$1
    shift
    "$@" >"$out" 2>&1 &
    child=$!
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

stop_pid() {  # TERM, up to 5 s, then KILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $child ]]; then stop_pid "$child"; fi
    if [[ -n $nginx_pid ]]; then stop_pid "$nginx_pid"; fi
    if ((rc != 0)); then
        log "failed (exit $rc); logs kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- what it needs ----------------------------------------------------------------
missing=()
for cmd in nginx wrk taskset cmake ninja python3; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
done
if ((${#missing[@]})); then
    log "missing: ${missing[*]}; running scripts/deps (installs nginx-light, wrk, ...)"
    "$SRC_DIR/scripts/deps" >&2 || die "scripts/deps failed"
    for cmd in "${missing[@]}"; do
        command -v "$cmd" >/dev/null || die "$cmd still missing after scripts/deps"
    done
fi
(($(nproc) >= 2)) || die "needs at least 2 CPUs (nginx on CPU 0, the client on CPU 1)"

# --- build ---------------------------------------------------------------------------
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    log "configuring $BUILD_DIR (Release)"
    cmake -S "$here" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNNGHTTP_SRC_DIR="$SRC_DIR" >"$tmp/configure.log" 2>&1 ||
        { cat "$tmp/configure.log" >&2; die "cmake configure failed"; }
fi
declare -A BIN=()
notes=()
for c in $CLIENTS; do
    [[ $c == wrk ]] && continue
    log "building client_bench_$c"
    if cmake --build "$BUILD_DIR" -j2 --target "client_bench_$c" >"$tmp/build-$c.log" 2>&1; then
        BIN[$c]=$BUILD_DIR/client_bench_$c
    else
        tail -20 "$tmp/build-$c.log" >&2
        mkdir -p "$(dirname "$RESULTS")"
        cp "$tmp/build-$c.log" "${RESULTS%.md}.build-$c.log"
        notes+=("client_bench_$c did not build (log: ${RESULTS%.md}.build-$c.log)")
        log "${notes[-1]}; its rows read n/a"
    fi
done

# --- nginx ------------------------------------------------------------------------------
port=$("${py[@]}" freeport)
user_line=""
if [[ $(id -u) -eq 0 ]]; then user_line="user root root;"; fi
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $tmp/nginx-body;
    proxy_temp_path $tmp/nginx-proxy;
    fastcgi_temp_path $tmp/nginx-fastcgi;
    uwsgi_temp_path $tmp/nginx-uwsgi;
    scgi_temp_path $tmp/nginx-scgi;
    server {
        listen 127.0.0.1:$port;
        location = /static { default_type text/plain; return 200 "Hello, world!"; }
    }
}
EOF
taskset -c 0 nginx -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" -g 'daemon off;' \
    >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
for ((i = 0; i < 100; i++)); do
    kill -0 "$nginx_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
done
kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/nginx.out" "$tmp/nginx-error.log" >&2; die "nginx did not start"; }
check=$("${py[@]}" check "$port" || true)
[[ $check == ok ]] || die "nginx /static answers wrongly: $check"
url=http://127.0.0.1:$port/static

# --- runs ----------------------------------------------------------------------------------
cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %d %d %.1f %.1f %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# CPU time (us) of this shell's waited-for children: the second line of the
# `times` builtin.  The difference around one run is that run's CPU (wrk
# exits, so /proc cannot be read after it).  `times` must run in this shell,
# not in a $(...) subshell, whose children are its own.
children_cpu_us() {  # sets CHILD_CPU
    times >"$tmp/times"
    CHILD_CPU=$(sed -n 2p "$tmp/times" | awk '{
        s = 0
        for (i = 1; i <= NF; i++) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
        printf "%.0f\n", s * 1e6 }')
}

tsv=$tmp/runs.tsv
printf 'round\tmode\tconns\tclient\trequests\telapsed_us\tp50_us\tp99_us\tcpu_us\terrors\tproc_cpu_us\tnote\n' >"$tsv"
na_row() {  # round mode conns client note
    printf '%s\t%s\t%s\t%s\tna\tna\tna\tna\tna\tna\tna\t%s\n' "$@" >>"$tsv"
}

run_one() {  # $1 round, $2 mode, $3 client, $4 seconds, $5 record (1/0)
    local round=$1 mode=$2 name=$3 secs=$4 record=$5 conns=1 rc=0 c0 c1 res
    local out=$tmp/run-$round-$mode-$name.txt
    [[ $mode == async ]] && conns=$ASYNC_CONNS
    if [[ $name != wrk && -z ${BIN[$name]:-} ]]; then
        ((record)) && na_row "$round" "$mode" "$conns" "$name" "did not build"
        return 0
    fi
    children_cpu_us
    c0=$CHILD_CPU
    if [[ $name == wrk ]]; then
        run_child "$out" timeout -k 5 $((secs + 30)) taskset -c 1 \
            wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$tmp/report.lua" "$url" || rc=$?
    elif [[ $mode == loop ]]; then
        run_child "$out" timeout -k 5 $((secs + 30)) taskset -c 1 \
            "${BIN[$name]}" loop "$secs" "$url" || rc=$?
    else
        run_child "$out" timeout -k 5 $((secs + 30)) taskset -c 1 \
            "${BIN[$name]}" async "$secs" "$url" "$conns" || rc=$?
    fi
    children_cpu_us
    c1=$CHILD_CPU
    if ! kill -0 "$nginx_pid" 2>/dev/null; then
        cat "$tmp/nginx-error.log" >&2
        die "nginx died during $name $mode"
    fi
    local why=""
    if ((rc == 124 || rc == 137)); then
        why="timed out (killed after $((secs + 30)) s)"
    elif ((rc > 128)); then
        why="killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null || echo '?'))"
    elif ((rc != 0)); then
        why="exit status $rc"
    fi
    if [[ -n $why ]]; then
        local kept
        kept="${RESULTS%.md}.$name-$mode-round$round.log"
        mkdir -p "$(dirname "$RESULTS")"
        cp "$out" "$kept"
        log "$name $mode round $round: $why; output: $kept"
        log "  $(grep -v '^RESULT' "$out" | head -3 | tr '\n' ' ')"
        ((record)) && na_row "$round" "$mode" "$conns" "$name" "$why"
        ((round)) && notes+=("$name $mode, round $round: $why (output: $kept)")
        return 0
    fi
    ((record)) || return 0
    local n el p50 p99 cpu err
    if [[ $name == wrk ]]; then
        res=$(sed -n 's/^WRKRESULT //p' "$out")
        [[ -n $res ]] || { na_row "$round" "$mode" "$conns" "$name" "no result"; return 0; }
        read -r n el p50 p99 err <<<"$res"
        cpu=$((c1 - c0))
    else
        res=$(sed -n 's/^RESULT //p' "$out")
        [[ -n $res ]] || { na_row "$round" "$mode" "$conns" "$name" "no result"; return 0; }
        declare -A f=()
        for kv in $res; do f[${kv%%=*}]=${kv#*=}; done
        n=${f[requests]} el=${f[elapsed_us]} p50=${f[p50_us]} p99=${f[p99_us]}
        cpu=${f[cpu_us]} err=${f[errors]}
        if ((err > 0)); then
            grep '^client_bench: ' "$out" | head -3 | sed 's/^/  /' >&2 || true
        fi
    fi
    # proc_cpu_us: the whole process (start-up, connecting, exit included),
    # from this shell's side; kept in the raw runs only.
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' \
        "$round" "$mode" "$conns" "$name" "$n" "$el" "$p50" "$p99" "$cpu" "$err" $((c1 - c0)) >>"$tsv"
    awk -v r="$round" -v m="$mode" -v c="$conns" -v name="$name" -v n="$n" -v el="$el" \
        -v p50="$p50" -v p99="$p99" -v cpu="$cpu" -v err="$err" 'BEGIN {
        printf "  round %s  %-5s c=%-3s %-5s %8.0f req/s  p50 %7.1f us  p99 %8.1f us  CPU %6.1f us/req (%3.0f%%)  errors %s\n",
            r, m, c, name, n / (el / 1e6), p50, p99, (n > 0 ? cpu / n : 0), cpu / el * 100, err }' >&2
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "warm-up: 1 s per mode and client"
for mode in $MODES; do
    for name in $CLIENTS; do run_one 0 "$mode" "$name" 1 0; done
done
log "measuring: $ROUNDS rounds x ${DURATION}s; modes: $MODES; clients: $CLIENTS; nginx on port $port"
for ((round = 1; round <= ROUNDS; round++)); do
    for mode in $MODES; do
        for name in $CLIENTS; do run_one "$round" "$mode" "$name" "$DURATION" 1; done
    done
done

# --- report ----------------------------------------------------------------------------------
commit=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
env_note=""
for v in NNGHTTP_THREADS NNGHTTP_SPIN_US; do
    if [[ -n ${!v:-} ]]; then env_note+="${env_note:+, }$v=${!v}"; fi
done
title=(
    "## HTTP client benchmark ($(date -u +%Y-%m-%d))"
    ""
    "nng-http $commit${env_note:+ ($env_note)} vs Debian's NNG $(dpkg-query -W -f='${Version}' libnng1 2>/dev/null || echo '?') (same C program, \`bench/client/client_bench.c\`) vs $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), GET of nginx's 13-byte \`/static\` (\`return 200\`, $(nginx -v 2>&1 | sed 's/^nginx version: //'), 1 worker)."
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; nginx on CPU 0, the client on CPU 1, loopback, keep-alive."
    "Modes: 1 conn = \`nng_http_conn_transact\` + \`nng_aio_wait\` in a loop on one connection (wrk: \`-t1 -c1\`); callback chains = $ASYNC_CONNS connections, each driven by its own aio's callback (wrk: \`-t1 -c$ASYNC_CONNS\`)."
    "Medians of $ROUNDS rounds of ${DURATION}s each, interleaved. CPU = the client's utime+stime (getrusage RUSAGE_SELF, all threads, timed part only; wrk: its whole process) / requests; %core = CPU / elapsed time."
    "Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark itself accounts for about 2)."
)
if ((${#notes[@]})); then
    title+=("" "**Notes:**")
    for n in "${notes[@]}"; do title+=("- $n"); done
fi
mkdir -p "$(dirname "$RESULTS")"
cp "$tsv" "${RESULTS%.md}.runs.tsv"
echo
"${py[@]}" report "$tsv" "$RESULTS" "${title[@]}"
log "markdown: $RESULTS; raw runs: ${RESULTS%.md}.runs.tsv"
