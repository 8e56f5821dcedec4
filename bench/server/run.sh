#!/usr/bin/env bash
# bench/server/run.sh: tests/server/server_app.c built against nng-http and
# against Debian's NNG 1.5.2, and nginx with the same three routes, loaded
# by wrk over loopback (server on CPU 0, wrk on CPU 1), interleaved round by
# round; then resident memory per idle keep-alive connection.  Prints a
# table of medians and ratios and writes it as markdown.  See README.md.
#
# Knobs (environment): ROUNDS (3), DURATION (10, seconds per wrk run),
# CONNS ("64 256"), ROUTES ("static file echo"), SERVERS ("ours nng nginx"),
# IDLE_CONNS (10000; 0 skips the idle test), SRC_DIR (the checkout to build,
# default this one), BUILD_DIR ($SRC_DIR/build/bench-server),
# RESULTS ($BUILD_DIR/results.md).  TLS=1 runs the https part
# (run_tls.sh, its own knobs and results-tls.md) after the plain one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$here/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build/bench-server}
RESULTS=${RESULTS:-$BUILD_DIR/results.md}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-"64 256"}
ROUTES=${ROUTES:-"static file echo"}
SERVERS=${SERVERS:-"ours nng nginx"}
IDLE_CONNS=${IDLE_CONNS:-10000}
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
py=(python3 "$here/bench.py")

log() { printf '[bench/server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- cleanup: every server this script started, on any exit ----------------
tmp=$(mktemp -d /tmp/bench-server.XXXXXX)
declare -A PID=() PORT=()
made_policy=0
child=""  # the wrk or client running now

# run_child OUT CMD...: runs CMD in the background, output to OUT, and waits
# for it: a signal's trap then fires at once (bash defers traps while a
# foreground command runs, and ignores a SIGINT that the command, like wrk,
# survives).
run_child() {
    local rc=0 out=$1
    shift
    "$@" >"$out" 2>&1 &
    child=$!
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

stop_pid() {  # TERM, up to 5 s (NNG takes about 1.4 s to exit), then KILL
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
    local rc=$? name
    trap - EXIT INT TERM
    if [[ -n $child ]]; then stop_pid "$child"; fi
    for name in "${!PID[@]}"; do
        stop_pid "${PID[$name]}"
    done
    if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
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

# --- what it needs -----------------------------------------------------------
install_packages() {  # Debian packages, without starting any service
    local sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        # invoke-rc.d asks this file whether to start services: 101 = no.
        printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo_cmd[@]}" chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    if ((made_policy)); then
        "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
        made_policy=0
    fi
    # Belt and braces: a system nginx started anyway is stopped.
    if [[ " $* " == *" nginx"* && -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
        log "stopping the system nginx the package started"
        "${sudo_cmd[@]}" kill -QUIT "$(cat /run/nginx.pid)" || true
    fi
}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
[[ -e $ECHO_MODULE ]] || need+=(libnginx-mod-http-echo)
command -v taskset >/dev/null || need+=(util-linux)
if ((${#need[@]})); then install_packages "${need[@]}"; fi

# Room for IDLE_CONNS connections in the servers (they inherit it) and here.
want_nofile=$((IDLE_CONNS + 4096))
if (($(ulimit -n) < want_nofile)); then
    ulimit -n "$want_nofile" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if (($(ulimit -n) < IDLE_CONNS + 100)); then
    die "open file limit $(ulimit -n) is too small for IDLE_CONNS=$IDLE_CONNS"
fi

# --- build --------------------------------------------------------------------
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    log "configuring $BUILD_DIR"
    # -Werror off: GCC's -O3 flow warnings are not the benchmark's business.
    cmake -S "$SRC_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNNGHTTP_WARNINGS_AS_ERRORS=OFF >"$tmp/configure.log" 2>&1 ||
        { cat "$tmp/configure.log" >&2; die "cmake configure failed"; }
fi
log "building server_app_ours and server_app_nng (Release)"
cmake --build "$BUILD_DIR" -j2 --target server_app_ours server_app_nng >"$tmp/build.log" 2>&1 ||
    { tail -40 "$tmp/build.log" >&2; die "build failed"; }
bin_ours=$(find "$BUILD_DIR" -type f -name server_app_ours -perm -u+x | head -1)
bin_nng=$(find "$BUILD_DIR" -type f -name server_app_nng -perm -u+x | head -1)
[[ -x $bin_ours && -x $bin_nng ]] || die "server_app binaries not found under $BUILD_DIR"

site=$SRC_DIR/tests/server/site
one_bin=$site/www/one.bin
if [[ ! -f $one_bin || $(stat -c %s "$one_bin") -ne 1048576 ]]; then
    "$SRC_DIR/tests/server/make_site.sh" >/dev/null
fi

# --- nginx configuration -------------------------------------------------------
echo_ok=0
[[ -e $ECHO_MODULE ]] && echo_ok=1
write_nginx_conf() {  # $1 = port
    local user_line="" echo_load="" echo_loc
    # As root, the worker stays root so that it can read the site wherever it is.
    if [[ $(id -u) -eq 0 ]]; then user_line="user root root;"; fi
    if ((echo_ok)); then
        echo_load="load_module $ECHO_MODULE;"
        # The echo module (Debian's libnginx-mod-http-echo, pulled in by
        # nginx-light) reads the body and writes it back; its answer is
        # chunked, having no Content-Length.  Plain nginx cannot echo a body.
        echo_loc="location = /echo { default_type application/octet-stream;
            echo_read_request_body; echo -n \$request_body; }"
    else
        echo_loc="location = /echo { return 501; }"
    fi
    cat >"$tmp/nginx.conf" <<EOF
$echo_load
$user_line
worker_processes 1;
worker_rlimit_nofile $((IDLE_CONNS + 4096));
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections $((IDLE_CONNS + 2048)); }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $tmp/nginx-body;
    proxy_temp_path $tmp/nginx-proxy;
    fastcgi_temp_path $tmp/nginx-fastcgi;
    uwsgi_temp_path $tmp/nginx-uwsgi;
    scgi_temp_path $tmp/nginx-scgi;
    server {
        listen 127.0.0.1:$1;
        client_body_buffer_size 64k;
        client_max_body_size 64k;
        location = /static { default_type text/plain; return 200 "Hello, world!"; }
        location = /file { default_type application/octet-stream; alias $one_bin; }
        $echo_loc
    }
}
EOF
}

# --- servers ------------------------------------------------------------------
wait_port() {  # $1 = port, $2 = pid: until the port accepts connections
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

start_server() {  # $1 = ours | nng | nginx; sets PID[$1] and PORT[$1]
    local name=$1 out=$tmp/$1.out err=$tmp/$1.err pid port i
    : >"$out"
    case $name in
    ours | nng)
        local bin=$bin_nng
        [[ $name == ours ]] && bin=$bin_ours
        NNGHTTP_THREADS=1 taskset -c 0 "$bin" 0 "$site" >"$out" 2>>"$err" &
        pid=$!
        port=""
        for ((i = 0; i < 100; i++)); do
            port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out")
            [[ -n $port ]] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        [[ -n $port ]] || { cat "$err" >&2; die "$name did not start"; }
        ;;
    nginx)
        port=$("${py[@]}" freeport)
        write_nginx_conf "$port"
        taskset -c 0 nginx -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" \
            -g 'daemon off;' >"$out" 2>>"$err" &
        pid=$!
        wait_port "$port" "$pid" || { cat "$err" "$tmp/nginx-error.log" >&2; die "nginx did not start"; }
        ;;
    esac
    PID[$name]=$pid
    PORT[$name]=$port
}

stop_server() {
    stop_pid "${PID[$1]}"
    unset "PID[$1]"
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

# A server found dead: how it ended goes into the table's header, and its
# stderr next to the results.
deaths=()
record_death() {  # $1 = server, $2 = when
    local name=$1 st=0 how
    wait "${PID[$name]}" 2>/dev/null || st=$?
    unset "PID[$name]"
    if ((st > 128)); then how="killed by signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null || echo '?'))"; else how="exit status $st"; fi
    mkdir -p "$(dirname "$RESULTS")"
    cp "$tmp/$name.err" "${RESULTS%.md}.$name.err" 2>/dev/null || true
    deaths+=("$name died during $2: $how (stderr: ${RESULTS%.md}.$name.err)")
    log "${deaths[-1]}"
}

# --- wrk scripts -----------------------------------------------------------------
cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRKRESULT %d %d %.0f %.0f %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
{
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/octet-stream"'
    echo 'wrk.body = string.rep("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/", 16)'
    cat "$tmp/report.lua"
} >"$tmp/post.lua"
cp "$tmp/report.lua" "$tmp/get.lua"

clk_tck=$(getconf CLK_TCK)
tsv=$tmp/runs.tsv
printf 'round\troute\tconns\tserver\trequests\tduration_us\tp50_us\tp99_us\tconnect\tread\twrite\tstatus\ttimeout\tdied\tcpu_ticks\tclk_tck\tnote\n' >"$tsv"

na_row() {  # $1 round $2 route $3 conns $4 server $5 note $6 died
    printf '%s\t%s\t%s\t%s\tna\tna\tna\tna\t0\t0\t0\t0\t0\t%s\tna\t%s\t%s\n' \
        "$1" "$2" "$3" "$4" "${6:-0}" "$clk_tck" "$5" >>"$tsv"
}

run_wrk() {  # $1 round $2 route $3 conns $4 server $5 seconds $6 record(1/0)
    local round=$1 route=$2 conns=$3 name=$4 secs=$5 record=$6 script=$tmp/get.lua
    local t0 t1 out=$tmp/wrk-$round-$route-$conns-$name.txt died=0 res
    [[ $route == echo ]] && script=$tmp/post.lua
    if [[ $name == nginx && $route == echo ]] && ((!echo_ok)); then
        ((record)) && na_row "$round" "$route" "$conns" "$name" "n/a: no echo module"
        return 0
    fi
    t0=$("${py[@]}" cputicks "${PID[$name]}")
    run_child "$out" taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$script" \
        "http://127.0.0.1:${PORT[$name]}/$route" || true
    t1=$("${py[@]}" cputicks "${PID[$name]}")
    if ! alive "$name"; then
        died=1
        record_death "$name" "$( ((round)) && echo "round $round" || echo "warm-up"), /$route c=$conns"
        start_server "$name"
    fi
    ((record)) || return 0
    res=$(sed -n 's/^WRKRESULT //p' "$out")
    if [[ -z $res || $died -eq 1 ]]; then
        na_row "$round" "$route" "$conns" "$name" "wrk gave no result" "$died"
        return 0
    fi
    local n dur p50 p99 e_conn e_read e_write e_status e_timeout
    read -r n dur p50 p99 e_conn e_read e_write e_status e_timeout <<<"$res"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' \
        "$round" "$route" "$conns" "$name" "$n" "$dur" "$p50" "$p99" \
        "$e_conn" "$e_read" "$e_write" "$e_status" "$e_timeout" 0 $((t1 - t0)) "$clk_tck" >>"$tsv"
    printf '  round %s  /%-6s c=%-4s %-6s %9.0f req/s  p50 %6.3f ms  p99 %7.3f ms  CPU %7.2f us/req  errors c%s r%s w%s s%s t%s\n' \
        "$round" "$route" "$conns" "$name" "$(echo "$n $dur" | awk '{print $1 / ($2 / 1e6)}')" \
        "$(echo "$p50" | awk '{print $1 / 1000}')" "$(echo "$p99" | awk '{print $1 / 1000}')" \
        "$(echo "$((t1 - t0)) $clk_tck $n" | awk '{print ($3 > 0) ? $1 / $2 / $3 * 1e6 : 0}')" \
        "$e_conn" "$e_read" "$e_write" "$e_status" "$e_timeout" >&2
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- idle memory: fresh servers, one at a time --------------------------------------
idle_tsv=$tmp/idle.tsv
if ((IDLE_CONNS > 0)); then
    printf 'server\tconns\tfailed\tclosed_by_server\tbefore_kib\tafter_kib\tkib_per_conn\tnote\n' >"$idle_tsv"
    for name in $SERVERS; do
        start_server "$name"
        log "idle: $IDLE_CONNS keep-alive connections to $name"
        run_child "$tmp/idle-$name.txt" "${py[@]}" idle "${PID[$name]}" "${PORT[$name]}" "$IDLE_CONNS" || true
        res=$(cat "$tmp/idle-$name.txt")
        if [[ $res == *IDLERESULT* ]]; then
            line=$(sed -n 's/^IDLERESULT //p' <<<"$res")
            log "  $line"
            declare -A f=()
            for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' "$name" "${f[conns]}" "${f[failed]}" \
                "${f[closed_by_server]}" "${f[before_kib]}" "${f[after_kib]}" "${f[kib_per_conn]}" >>"$idle_tsv"
            unset f
        else
            log "  idle test failed for $name: $res"
            printf '%s\tna\tna\tna\tna\tna\tna\t%s\n' "$name" "failed" >>"$idle_tsv"
        fi
        if alive "$name"; then stop_server "$name"; else record_death "$name" "the idle test"; fi
    done
fi

# --- throughput: all servers up, interleaved ------------------------------------------
for name in $SERVERS; do start_server "$name"; done
checks=()
for name in $SERVERS; do
    while read -r route verdict rest; do
        if [[ $verdict != ok ]]; then
            if [[ $name == nginx && $route == /echo ]] && ((!echo_ok)); then continue; fi
            checks+=("$name $route: $verdict $rest")
            log "check: $name $route: $verdict $rest"
        fi
    done < <("${py[@]}" check "${PORT[$name]}" "$one_bin" || true)
done
log "warm-up: 1 s per route and server"
for route in $ROUTES; do
    for name in $SERVERS; do run_wrk 0 "$route" 64 "$name" 1 0; done
done
log "measuring: $ROUNDS rounds x ${DURATION}s; routes: $ROUTES; conns: $CONNS; servers: $SERVERS"
for ((round = 1; round <= ROUNDS; round++)); do
    for route in $ROUTES; do
        for conns in $CONNS; do
            for name in $SERVERS; do
                run_wrk "$round" "$route" "$conns" "$name" "$DURATION" 1
            done
        done
    done
done

# --- report -------------------------------------------------------------------------
commit=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
title=(
    "## HTTP server benchmark ($(date -u +%Y-%m-%d))"
    ""
    "nng-http $commit (NNGHTTP_THREADS=1${NNGHTTP_SPIN_US:+, NNGHTTP_SPIN_US=$NNGHTTP_SPIN_US}) vs Debian's NNG $(dpkg-query -W -f='${Version}' libnng1 2>/dev/null || echo '?') vs $(nginx -v 2>&1 | sed 's/^nginx version: //') (1 worker)."
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; server on CPU 0, \`wrk -t1 --latency\` on CPU 1, loopback, keep-alive."
    "Medians of $ROUNDS rounds of ${DURATION}s each; /static = 13-byte static answer, /file = 1 MiB file, /echo = POST of 1 KiB echoed$( ((echo_ok)) && echo ' (nginx: echo module, chunked answer)' || echo ' (nginx: n/a, no echo module)')."
    "Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark itself accounts for about 2; more means something else was running)."
    "CPU us/req = server utime+stime (all threads; nginx master+worker) during the wrk run / requests completed."
)
if ((IDLE_CONNS > 0)); then
    title+=("Idle: VmRSS growth over $IDLE_CONNS keep-alive connections (one GET /static each, then idle), fresh server after a warm-up of 400 requests.")
fi
if ((${#checks[@]})); then
    title+=("" "**Sanity check failures** (wrong answers before the runs): ${checks[*]}")
else
    title+=("Sanity check before the runs (status and whole body of each route, every server): all correct.")
fi
if ((${#deaths[@]})); then
    title+=("" "**Server deaths** (each restarted; a run it died in is not counted):")
    for d in "${deaths[@]}"; do title+=("- $d"); done
    title+=("")
fi
mkdir -p "$(dirname "$RESULTS")"
cp "$tsv" "${RESULTS%.md}.runs.tsv"
echo
"${py[@]}" report "$tsv" "$idle_tsv" "$RESULTS" "${title[@]}"
log "markdown: $RESULTS; raw runs: ${RESULTS%.md}.runs.tsv"

if [[ ${TLS:-0} == 1 ]]; then
    for name in "${!PID[@]}"; do stop_server "$name"; done
    log "https part: bench/server/run_tls.sh"
    # CONNS means something else there (TLS_CONNS, HS_CONNS).
    env -u CONNS SRC_DIR="$SRC_DIR" BUILD_DIR="$BUILD_DIR" ROUNDS="$ROUNDS" DURATION="$DURATION" \
        SERVERS="$SERVERS" "$here/run_tls.sh"
fi
