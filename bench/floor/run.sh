#!/usr/bin/env bash
# bench/floor/run.sh: how far nng-http and nginx are from the floor of this
# machine on the 13-byte static route.  Runs, on CPU 0, each of
#   ours        tests/server/server_app.c on nng-http (one loop)
#   nginx       1 worker, access log off, `return 200 "Hello, world!"`
#   epoll       bench/floor/floor_server.c, epoll: one recv + one send per
#               request, nothing else (no parsing, no headers, no timers)
#   uring       the same with io_uring: one io_uring_enter per loop turn
#   uringms     io_uring at its leanest here: one multishot receive per
#               connection into provided buffers, the ring's fd registered
# and loads each with `wrk -t1 -cCONNS` on CPU 1, interleaved round by round;
# prints server CPU time per request (utime+stime from /proc) and the ratio
# to nginx.  The floor servers are no HTTP servers: they show what the
# system calls cost here, and what batching them would save.
#
# Knobs: ROUNDS (3), DURATION (5), CONNS (64), SERVERS ("ours nginx epoll
# uring uringms"), BUILD_DIR (build/bench-server, shared with bench/server/run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
SERVERS=${SERVERS:-"ours nginx epoll uring uringms"}
BUILD_DIR=${BUILD_DIR:-$src/build/bench-server}
log() { printf '[bench/floor] %s\n' "$*" >&2; }

tmp=$(mktemp -d /tmp/bench-floor.XXXXXX)
declare -A PID=() PORT=()
cleanup() {
    local rc=$? n
    for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT

command -v wrk >/dev/null && command -v nginx >/dev/null || "$src/scripts/deps"
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    cmake -S "$src" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNNGHTTP_WARNINGS_AS_ERRORS=OFF >"$tmp/configure.log"
fi
log "building server_app_ours and floor_server"
cmake --build "$BUILD_DIR" -j2 --target server_app_ours >"$tmp/build.log"
bin_ours=$(find "$BUILD_DIR" -type f -name server_app_ours -perm -u+x | head -1)
cc -O2 -Wall -Wextra -o "$tmp/floor_server" "$here/floor_server.c" -luring

start() {
    local n=$1 out=$tmp/$1.out i
    case $n in
    ours) NNGHTTP_THREADS=1 taskset -c 0 "$bin_ours" 0 "$src/tests/server/site" >"$out" 2>&1 & ;;
    epoll | uring | uringms) taskset -c 0 "$tmp/floor_server" "$n" 0 >"$out" 2>&1 & ;;
    nginx)
        local p
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$p;
    location = /static { default_type text/plain; return 200 "Hello, world!"; }
  }
}
CONF
        taskset -c 0 nginx -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" -g 'daemon off;' >"$out" 2>&1 &
        echo "listening on $p" >"$out.port"
        ;;
    esac
    PID[$n]=$!
    for ((i = 0; i < 50; i++)); do
        PORT[$n]=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out" "$out.port" 2>/dev/null | head -1) || true
        [[ -n ${PORT[$n]} ]] && (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$n]}") 2>/dev/null && break
        sleep 0.1
    done
}
# The process whose CPU time counts: nginx's worker, else the server itself.
worker() {
    if [[ $1 == nginx ]]; then pgrep -P "${PID[nginx]}" | head -1; else echo "${PID[$1]}"; fi
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for n in $SERVERS; do start "$n"; done
printf 'server\tround\trequests\tcpu_us_per_req\n' >"$tmp/runs.tsv"
hz=$(getconf CLK_TCK)
for ((r = 0; r <= ROUNDS; r++)); do  # round 0 warms up
    for n in $SERVERS; do
        w=$(worker "$n")
        t0=$(ticks "$w")
        out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:${PORT[$n]}/static")
        t1=$(ticks "$w")
        req=$(awk '/requests in/{print $1}' <<<"$out")
        ((r == 0)) && continue
        printf '%s\t%d\t%s\t%s\n' "$n" "$r" "$req" \
            "$(python3 -c "print(f'{($t1-$t0)/$hz*1e6/$req:.2f}')")" >>"$tmp/runs.tsv"
    done
done
python3 - "$tmp/runs.tsv" "$SERVERS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for n in sys.argv[2].split():
    v = [float(r["cpu_us_per_req"]) for r in rows if r["server"] == n]
    med[n] = statistics.median(v)
print("| server | CPU us/req (median) | /nginx |")
print("|--------|--------------------:|-------:|")
for n, v in med.items():
    ratio = f"{v / med['nginx']:.2f}x" if "nginx" in med else "n/a"
    print(f"| {n} | {v:.2f} | {ratio} |")
PY
