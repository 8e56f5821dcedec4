#!/usr/bin/env bash
# bench/ws/run.sh: WebSocket echo servers side by side over loopback, with
# the server pinned to one CPU and the load generator (wsload) to the other.
#
#   ours    an echo server on nng-http, given as a command (--ours), optional
#   nng     nng_echo.c on Debian's NNG 1.5.2 stream API (libnng-dev)
#   beast   beast_echo.cpp on Boost.Beast (libboost-dev), one thread
#   floor   floor_echo ws: a minimal WebSocket echo (epoll, one thread)
#   raw     floor_echo raw: a byte echo, no WebSocket (wsload --raw)
#
# For each message size (SIZES) and connection count (CONNS), each server
# gets a closed-loop run of DURATION seconds (after WARMUP), interleaved
# server by server over ROUNDS rounds after a short warm-up round; the
# tables show medians: messages per server CPU-second (utime+stime of all
# its threads over the window), messages per second and p99 round trip,
# with ratios (ours / NNG and ours / Beast when ours runs, else
# Beast / NNG).  Then, for each WebSocket server in a fresh process,
# IDLE_CONNS connections are opened and held, and the growth of its VmRSS
# per connection is reported.  See README.md.
#
# MODES="plain deflate" (or DEFLATE=1) adds the permessage-deflate cases:
# JSON text messages of DEFLATE_SIZES over DEFLATE_CONNS, compressed both
# ways, on the servers that implement it (ours, with --deflate appended to
# its command, and beast_echo --deflate; NNG 1.5.2 and the floors have no
# compression), with the bytes on the wire per message, and an idle test
# in which each of IDLE_DEFLATE_CONNS connections negotiates compression
# and echoes one message before idling.  MODES=deflate runs only those.
#
# Usage: bench/ws/run.sh [--ours "COMMAND"] [--ours-path PATH]
#   COMMAND is run with bash -c "exec COMMAND"; it must listen on loopback,
#   print "listening on PORT" as its first line and stop on SIGTERM, e.g.
#   --ours "build/tests/websocket/ws_echo_server 0".  PATH is the request
#   path for it (default /).
#
# Knobs (environment): ROUNDS (3), DURATION (3), WARMUP (0.5), SIZES
# ("16 1024 65536 1048576"), CONNS ("1 100"), SERVERS ("ours nng beast floor
# raw"; ours only with --ours), IDLE_CONNS (10000; 0 skips the idle test),
# SERVER_CPU (0), LOAD_CPU (1), SRC_DIR (this checkout), BUILD_DIR
# ($SRC_DIR/build/bench-ws), JOBS (2), RESULTS ($BUILD_DIR/results.md; the
# JSON report is the same name with .json).  Prebuilt binaries instead of
# building: NNG_ECHO, BEAST_ECHO, FLOOR_ECHO, WSLOAD (all four, or any of
# them: the rest are built).  Compression: MODES ("plain"; "plain deflate"
# when DEFLATE=1), DEFLATE_SIZES ("1024 65536"), DEFLATE_CONNS ("1 100"),
# DEFLATE_PARAMS (the offer's parameters, "client_max_window_bits"),
# DEFLATE_LEVEL (zlib level of wsload's messages, 6), BEAST_DEFLATE_ARGS
# (added to beast_echo --deflate; default none: level 6, memLevel 8),
# IDLE_DEFLATE_CONNS (1000; 0 skips).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$here/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build/bench-ws}
RESULTS=${RESULTS:-$BUILD_DIR/results.md}
REPORT_JSON=${RESULTS%.md}.json
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-0.5}
SIZES=${SIZES:-"16 1024 65536 1048576"}
CONNS=${CONNS:-"1 100"}
IDLE_CONNS=${IDLE_CONNS:-10000}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
JOBS=${JOBS:-2}
if [[ -z ${MODES:-} ]]; then
    MODES=plain
    [[ ${DEFLATE:-0} == 1 ]] && MODES="plain deflate"
fi
DEFLATE_SIZES=${DEFLATE_SIZES:-"1024 65536"}
DEFLATE_CONNS=${DEFLATE_CONNS:-"1 100"}
DEFLATE_PARAMS=${DEFLATE_PARAMS:-client_max_window_bits}
DEFLATE_LEVEL=${DEFLATE_LEVEL:-6}
BEAST_DEFLATE_ARGS=${BEAST_DEFLATE_ARGS:-}
IDLE_DEFLATE_CONNS=${IDLE_DEFLATE_CONNS:-1000}
OURS_CMD=""
OURS_PATH=/

log() { printf '[bench/ws] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while (($#)); do
    case $1 in
    --ours) OURS_CMD=${2:?--ours needs a command}; shift 2 ;;
    --ours-path) OURS_PATH=${2:?--ours-path needs a path}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

if [[ -z ${SERVERS:-} ]]; then
    SERVERS="nng beast floor raw"
    [[ -n $OURS_CMD ]] && SERVERS="ours $SERVERS"
fi
for name in $SERVERS; do
    case $name in
    ours) [[ -n $OURS_CMD ]] || die "SERVERS names ours but no --ours command was given" ;;
    nng | beast | floor | raw) ;;
    *) die "unknown server in SERVERS: $name" ;;
    esac
done
for mode in $MODES; do
    [[ $mode == plain || $mode == deflate ]] || die "unknown mode in MODES: $mode (plain, deflate)"
done
has_mode() { [[ " $MODES " == *" $1 "* ]]; }
# The servers with permessage-deflate: ours (its command gets --deflate) and Beast.
DEFLATE_SERVERS=""
for name in $SERVERS; do
    [[ $name == ours || $name == beast ]] && DEFLATE_SERVERS+="$name "
done
if has_mode deflate && [[ -z $DEFLATE_SERVERS ]]; then
    die "MODES has deflate, but SERVERS has neither ours nor beast"
fi
# The servers that run at all, in table order.
RUN_SERVERS=$(has_mode plain && echo "$SERVERS" || echo "$DEFLATE_SERVERS")

# --- cleanup: every process this script started, on any exit ----------------------
tmp=$(mktemp -d /tmp/bench-ws.XXXXXX)
declare -A PID=() PORT=()
child=""

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
    local rc=$? name
    trap - EXIT INT TERM
    if [[ -n $child ]]; then stop_pid "$child"; fi
    for name in "${!PID[@]}"; do stop_pid "${PID[$name]}"; done
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

# run_child OUT CMD...: runs CMD in the background, output to OUT, and waits
# for it, so that a signal's trap fires at once.
run_child() {
    local rc=0 out=$1
    shift
    "$@" >"$out" 2>&1 &
    child=$!
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

# --- what it needs -------------------------------------------------------------------
command -v taskset >/dev/null || die "taskset (util-linux) is needed"
command -v python3 >/dev/null || die "python3 is needed"
(($(nproc) >= 2)) || log "warning: $(nproc) CPU: server and load share it"

need=()
if [[ -z ${NNG_ECHO:-} && " $RUN_SERVERS " == *" nng "* && ! -e /usr/include/nng/nng.h ]]; then
    need+=(libnng-dev)
fi
if [[ -z ${BEAST_ECHO:-} && " $RUN_SERVERS " == *" beast "* && ! -e /usr/include/boost/beast.hpp ]]; then
    need+=(libboost-dev)
fi
if [[ -z ${WSLOAD:-} && ! -e /usr/include/zlib.h ]]; then
    need+=(zlib1g-dev)
fi
if ((${#need[@]})); then
    log "installing ${need[*]}"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
        --no-install-recommends "${need[@]}" >"$tmp/apt.log" 2>&1 ||
        { cat "$tmp/apt.log" >&2; die "apt-get install ${need[*]} failed"; }
fi

# --- build (what was not given prebuilt) -----------------------------------------------
targets=()
[[ -z ${NNG_ECHO:-} && " $RUN_SERVERS " == *" nng "* ]] && targets+=(nng_echo)
[[ -z ${BEAST_ECHO:-} && " $RUN_SERVERS " == *" beast "* ]] && targets+=(beast_echo)
[[ -z ${FLOOR_ECHO:-} && " $RUN_SERVERS " == *" floor "* || -z ${FLOOR_ECHO:-} && " $RUN_SERVERS " == *" raw "* ]] &&
    targets+=(floor_echo)
[[ -z ${WSLOAD:-} ]] && targets+=(wsload)
if ((${#targets[@]})); then
    if [[ ! -f $BUILD_DIR/build.ninja ]]; then
        log "configuring $BUILD_DIR"
        cmake -S "$SRC_DIR/bench/ws" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
            >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log" >&2; die "cmake configure failed"; }
    fi
    log "building ${targets[*]} (Release)"
    cmake --build "$BUILD_DIR" -j"$JOBS" --target "${targets[@]}" >"$tmp/build.log" 2>&1 ||
        { tail -40 "$tmp/build.log" >&2; die "build failed"; }
fi
NNG_ECHO=${NNG_ECHO:-$BUILD_DIR/nng_echo}
BEAST_ECHO=${BEAST_ECHO:-$BUILD_DIR/beast_echo}
FLOOR_ECHO=${FLOOR_ECHO:-$BUILD_DIR/floor_echo}
WSLOAD=${WSLOAD:-$BUILD_DIR/wsload}
for b in "$WSLOAD" $([[ " $RUN_SERVERS " == *" nng "* ]] && echo "$NNG_ECHO") \
    $([[ " $RUN_SERVERS " == *" beast "* ]] && echo "$BEAST_ECHO") \
    $([[ " $RUN_SERVERS " =~ " floor "|" raw " ]] && echo "$FLOOR_ECHO"); do
    [[ -x $b ]] || die "not an executable: $b"
done

# --- descriptors for the idle test ------------------------------------------------------
has_mode plain || IDLE_CONNS=0
has_mode deflate || IDLE_DEFLATE_CONNS=0
idle_note=""
if ((IDLE_CONNS > 0 || IDLE_DEFLATE_CONNS > 0)); then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    limit=$(ulimit -n)
    if ((limit < IDLE_CONNS + 256)); then
        idle_note="IDLE_CONNS lowered from $IDLE_CONNS to $((limit - 256)): the open file limit here is $limit."
        IDLE_CONNS=$((limit - 256))
        log "$idle_note"
    fi
    if ((limit < IDLE_DEFLATE_CONNS + 256)); then
        idle_note+="${idle_note:+ }IDLE_DEFLATE_CONNS lowered from $IDLE_DEFLATE_CONNS to $((limit - 256)): the open file limit here is $limit."
        IDLE_DEFLATE_CONNS=$((limit - 256))
        log "$idle_note"
    fi
fi

# --- modes: plain (binary messages, every server) or deflate (permessage-deflate) ---------
# set_mode MODE sets what the sections below use: mode_servers, mode_sizes,
# mode_conns, mode_args (extra wsload arguments), deflate_on (servers
# start with compression) and mode_tag (for messages).
set_mode() {
    mode=$1
    if [[ $mode == deflate ]]; then
        deflate_on=1
        mode_tag=" (deflate)"
        mode_servers=$DEFLATE_SERVERS
        mode_sizes=$DEFLATE_SIZES
        mode_conns=$DEFLATE_CONNS
        mode_args=(--deflate --payload json --deflate-params "$DEFLATE_PARAMS"
            --deflate-level "$DEFLATE_LEVEL")
    else
        deflate_on=0
        mode_tag=""
        mode_servers=$SERVERS
        mode_sizes=$SIZES
        mode_conns=$CONNS
        mode_args=()
    fi
}
set_mode plain

# --- servers ------------------------------------------------------------------------------
beast_pmd=""  # beast_echo --deflate's second line: its compression settings
start_server() {  # $1 = name; sets PID[$1], PORT[$1]
    local name=$1 out=$tmp/$1.out i port="" ours_cmd=$OURS_CMD beast_args=()
    : >"$out"
    if ((deflate_on)); then
        ours_cmd+=" --deflate"
        # shellcheck disable=SC2206 # split into words on purpose
        beast_args=(--deflate $BEAST_DEFLATE_ARGS)
    fi
    case $name in
    ours) taskset -c "$SERVER_CPU" bash -c "exec $ours_cmd" >"$out" 2>"$tmp/$name.err" & ;;
    nng) taskset -c "$SERVER_CPU" "$NNG_ECHO" 0 >"$out" 2>"$tmp/$name.err" & ;;
    beast) taskset -c "$SERVER_CPU" "$BEAST_ECHO" "${beast_args[@]}" 0 >"$out" 2>"$tmp/$name.err" & ;;
    floor) taskset -c "$SERVER_CPU" "$FLOOR_ECHO" ws 0 >"$out" 2>"$tmp/$name.err" & ;;
    raw) taskset -c "$SERVER_CPU" "$FLOOR_ECHO" raw 0 >"$out" 2>"$tmp/$name.err" & ;;
    esac
    PID[$name]=$!
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n '1s/^listening on \([0-9][0-9]*\)$/\1/p' "$out")
        [[ -n $port ]] && break
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $port ]]; then
        cat "$tmp/$name.err" >&2
        die "$name did not print 'listening on PORT'"
    fi
    PORT[$name]=$port
    if [[ $name == beast ]] && ((deflate_on)); then
        sleep 0.1
        beast_pmd=$(sed -n '2s/^permessage-deflate: //p' "$out")
    fi
}

stop_server() {
    stop_pid "${PID[$1]}"
    unset "PID[$1]"
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

url_of() {
    case $1 in
    raw) echo "tcp://127.0.0.1:${PORT[$1]}" ;;
    ours) echo "ws://127.0.0.1:${PORT[$1]}$OURS_PATH" ;;
    *) echo "ws://127.0.0.1:${PORT[$1]}/echo" ;;
    esac
}

# wsload NAME OUT ARGS...: the load generator on LOAD_CPU against NAME, with
# the mode's arguments.
wsload() {
    local name=$1 out=$2
    shift 2
    local extra=("${mode_args[@]}")
    [[ $name == raw ]] && extra=(--raw)
    run_child "$out" taskset -c "$LOAD_CPU" "$WSLOAD" "${extra[@]}" --pid "${PID[$name]}" \
        "$@" "$(url_of "$name")" || true
}

deaths=()
check_alive() {  # $1 = name, $2 = when; restarts a dead server
    local name=$1 st=0
    alive "$name" && return 0
    wait "${PID[$name]}" 2>/dev/null || st=$?
    deaths+=("$name$mode_tag died during $2 (status $st; stderr: $(tail -c 300 "$tmp/$name.err" | tr '\n' ' '))")
    log "${deaths[-1]}"
    unset "PID[$name]"
    start_server "$name"
}

# --- sanity check: every server echoes small and large messages correctly -------------------
checks=()
run_checks() {
    local name size res
    for name in $mode_servers; do
        start_server "$name"
        for size in 1000 1048576; do
            wsload "$name" "$tmp/check.json" -c 2 -s "$size" -d 0.3 -w 0 --check-every 1
            res=$(python3 - "$tmp/check.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read().strip()
try:
    d = json.loads(text.splitlines()[-1])
except (ValueError, IndexError):
    print("no result: " + text[:200])
    sys.exit()
bad = d["errors"] + d["failed"]
if bad == 0 and d["messages"] > 0:
    print("ok")
else:
    print(f"{d['messages']} echoes, {bad} connection(s) failed: {d['first_error']}")
PY
)
            if [[ $res != ok ]]; then
                checks+=("$name$mode_tag, $size B: $res")
                log "check: ${checks[-1]}"
            fi
        done
        check_alive "$name" "the sanity check"
        stop_server "$name"
    done
}

# --- idle memory: a fresh process per server ---------------------------------------------------
# run_idle COUNT: COUNT connections per server; in deflate mode each
# negotiates compression and echoes one 1 KiB JSON message before idling.
idle_jsonl=$tmp/idle.jsonl
: >"$idle_jsonl"
run_idle() {
    local count=$1 name extra=() how=""
    ((count > 0)) || return 0
    if [[ $mode == deflate ]]; then
        extra=(--idle-msgs 1 -s 1024)
        how=", permessage-deflate, one echo each"
    fi
    for name in $mode_servers; do
        [[ $name == raw ]] && continue
        start_server "$name"
        # A little traffic first, so that start-up allocations are not counted.
        wsload "$name" "$tmp/idle-warm.json" -c 4 -s 1024 -d 0.3 -w 0
        log "idle: $count connections to $name$how"
        wsload "$name" "$tmp/idle-$name.json" --idle "$count" "${extra[@]}" --timeout 30 --label "$name"
        if grep -q '"mode":"idle"' "$tmp/idle-$name.json"; then
            grep '"mode":"idle"' "$tmp/idle-$name.json" >>"$idle_jsonl"
            python3 - "$tmp/idle-$name.json" >&2 <<'PY'
import json, sys
d = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print(f"[bench/ws]   {d['idle']} held, {d['failed']} failed, "
      f"{d['bytes_per_conn']:.0f} bytes per connection"
      + (f"; first error: {d['first_error']}" if d['first_error'] else ""))
PY
        else
            log "  idle test failed for $name: $(head -c 300 "$tmp/idle-$name.json")"
        fi
        check_alive "$name" "the idle test"
        stop_server "$name"
    done
}

# --- throughput, latency, CPU: all the mode's servers up, interleaved ------------------------------
runs_jsonl=$tmp/runs.jsonl
: >"$runs_jsonl"
run_rounds() {
    local name size conns round out
    for name in $mode_servers; do start_server "$name"; done
    log "[$mode] warm-up: 0.5 s per case and server"
    for size in $mode_sizes; do
        for conns in $mode_conns; do
            for name in $mode_servers; do
                wsload "$name" "$tmp/warm.json" -c "$conns" -s "$size" -d 0.5 -w 0.2
                check_alive "$name" "the warm-up"
            done
        done
    done
    log "[$mode] measuring: $ROUNDS rounds x ${DURATION}s; sizes: $mode_sizes; conns: $mode_conns; servers: $mode_servers"
    for ((round = 1; round <= ROUNDS; round++)); do
        for size in $mode_sizes; do
            for conns in $mode_conns; do
                for name in $mode_servers; do
                    out=$tmp/run-$mode-$round-$size-$conns-$name.json
                    wsload "$name" "$out" -c "$conns" -s "$size" -d "$DURATION" -w "$WARMUP" \
                        --label "$name $round"
                    if grep -q '^{' "$out"; then
                        grep '^{' "$out" >>"$runs_jsonl"
                        python3 - "$out" "$round" >&2 <<'PY'
import json, sys
d = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print(f"  round {sys.argv[2]}  {d['label'].split()[0]:<5} {d['size']:>8} B x {d['conns']:<3}"
      f" {d['msgs_per_s']:>9.0f} msg/s  {d['msgs_per_cpu_s']:>9.0f} msg/CPU-s"
      f"  p99 {d['p99_us']:>9.1f} us  gen CPU {d['client_cpu_s'] / d['duration_s']:.0%}"
      + (f"  wire {d['wire_out_per_msg']:.0f}/{d['wire_in_per_msg']:.0f} B" if d.get("deflate") else "")
      + (f"  errors {d['errors'] + d['failed']}: {d['first_error']}" if d['errors'] + d['failed'] else ""))
PY
                    else
                        log "  no result from wsload for $name ($size B x $conns): $(head -c 300 "$out")"
                    fi
                    check_alive "$name" "round $round, $size B x $conns"
                done
            done
        done
    done
    for name in $mode_servers; do stop_server "$name"; done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for m in $MODES; do
    set_mode "$m"
    run_checks
done
for m in $MODES; do
    set_mode "$m"
    if [[ $m == deflate ]]; then run_idle "$IDLE_DEFLATE_CONNS"; else run_idle "$IDLE_CONNS"; fi
done
for m in $MODES; do
    set_mode "$m"
    run_rounds
done
set_mode plain

# --- report -------------------------------------------------------------------------------------
commit=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
servers_ran=""
for name in $RUN_SERVERS; do servers_ran+="$name "; done
title=(
    "## WebSocket echo benchmark ($(date -u +%Y-%m-%d))"
    ""
    "$(if [[ -n $OURS_CMD ]]; then echo "nng-http $commit (\`$OURS_CMD\`, path $OURS_PATH) vs "; fi)Debian's NNG $(dpkg-query -W -f='${Version}' libnng1 2>/dev/null || echo '?') (stream API, its own threads) vs Boost.Beast $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp 2>/dev/null | tr _ .) (one thread)$(if [[ -z $OURS_CMD ]]; then echo "; nng-http not run (no --ours), checkout $commit"; fi)."
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; server on CPU $SERVER_CPU, wsload (one thread, epoll) on CPU $LOAD_CPU, loopback."
    "Closed loop: each connection sends one masked message and waits for its whole echo. Medians of $ROUNDS round(s) of ${DURATION}s (after ${WARMUP}s) per case, servers interleaved."
)
if has_mode plain; then
    title+=("Plain: binary messages of random bytes. floor ws = floor_echo ws (minimal WebSocket echo, epoll, one thread); floor raw = floor_echo raw (byte echo, no framing).")
fi
if has_mode deflate; then
    title+=("permessage-deflate: each message a JSON document of the size in a text frame, compressed by wsload (zlib level $DEFLATE_LEVEL, memLevel 8; offer \`permessage-deflate; $DEFLATE_PARAMS\`), inflated, echoed and compressed again by the server.$(if [[ " $DEFLATE_SERVERS " == *" ours "* ]]; then echo " nng-http: \`$OURS_CMD --deflate\`."; fi)$(if [[ " $DEFLATE_SERVERS " == *" beast "* ]]; then echo " Beast: beast_echo --deflate $BEAST_DEFLATE_ARGS(${beast_pmd:-settings not printed})."; fi) NNG 1.5.2 has no permessage-deflate, nor have the floor servers: no column for them.")
fi
title+=("Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg).")
if ((IDLE_CONNS > 0)); then
    title+=("Idle: VmRSS growth over $IDLE_CONNS connections (handshake only, then idle), fresh server after 0.3 s of traffic on 4 connections.")
fi
if ((IDLE_DEFLATE_CONNS > 0)); then
    title+=("Idle with permessage-deflate: VmRSS growth over $IDLE_DEFLATE_CONNS connections, each negotiating compression and echoing one 1 KiB JSON message before idling, fresh server after 0.3 s of compressed traffic on 4 connections.")
fi
if [[ -n $idle_note ]]; then
    title+=("$idle_note")
fi
if ((${#checks[@]})); then
    title+=("" "**Sanity check failures** (2 connections, 1000 B and 1 MiB, every echo compared; in deflate mode compressed JSON):")
    for c in "${checks[@]}"; do title+=("- $c"); done
else
    title+=("Sanity check (2 connections, 1000 B and 1 MiB, every echo compared byte for byte$(if has_mode deflate; then echo '; in deflate mode compressed JSON too'; fi)): all correct.")
fi
if ((${#deaths[@]})); then
    title+=("" "**Server deaths** (each restarted):")
    for d in "${deaths[@]}"; do title+=("- $d"); done
fi
mkdir -p "$(dirname "$RESULTS")"
echo
python3 "$here/report.py" "$runs_jsonl" "$idle_jsonl" "$RESULTS" "$REPORT_JSON" "$servers_ran" "${title[@]}"
log "markdown: $RESULTS; JSON: $REPORT_JSON"
