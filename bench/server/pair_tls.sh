#!/usr/bin/env bash
# bench/server/pair_tls.sh: CPU per https handshake (or keep-alive request)
# of two servers loaded at the same time, for A/B comparisons of builds.
#
#   bench/server/pair_tls.sh A B [ROUNDS] [SECONDS] [hs|ka]
#
# A and B are each "nginx" or the path of a tls_app binary (run_tls.sh
# builds bench-tls/tls_app_ours; link another build's libnnghttp.a against
# the same tls_app_ours.o to compare two builds).  Both servers run on
# CPU 0 at once, each with its own client on CPU 1 (hs_client with CONNS
# handshakes in flight, or wrk -t1 -cCONNS); each round prints the CPU
# (utime+stime) per handshake or request of A and B and A/B; the last line
# is the median of the rounds.  Odd rounds load and read A first, even
# rounds B: whichever goes first reads about 0.5% cheaper, and the median
# sees both orders.
#
# Knobs (environment): CONNS (32 per server), TLS_VERSION (1.2),
# OURS_THREADS (NNGHTTP_THREADS for tls_app binaries: 0, thread-free, as
# run_tls.sh),
# BUILD_DIR (build/bench-server: where run_tls.sh put hs_client), KEEP (1
# keeps the scratch directory).  The certificate, nginx's configuration and
# the clients' settings are run_tls.sh's (tls_common.sh), made at run time.  This is a measuring tool, not a test: never run it while
# another benchmark or a build runs, and read only the ratios.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$src/build/bench-server}
CONNS=${CONNS:-32}
TLS_VERSION=${TLS_VERSION:-1.2}
OURS_THREADS=${OURS_THREADS:-0}
A=${1:?usage: pair_tls.sh A B [ROUNDS] [SECONDS] [hs|ka]}
B=${2:?usage: pair_tls.sh A B [ROUNDS] [SECONDS] [hs|ka]}
ROUNDS=${3:-6}
SECS=${4:-8}
TEST=${5:-hs}
hs_client=$BUILD_DIR/bench-tls/hs_client

die() { echo "pair_tls: $*" >&2; exit 1; }
[[ -x $hs_client ]] || die "$hs_client missing: run bench/server/run_tls.sh once (or build hs_client.c)"
# shellcheck source=bench/server/tls_common.sh
. "$here/tls_common.sh"
tls_suite "$TLS_VERSION" || die "TLS_VERSION must be 1.2 or 1.3"

tmp=$(mktemp -d /tmp/pair_tls.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$tmp"
}
trap cleanup EXIT

make_tls_cert "$tmp" || { cat "$tmp/cert.log" >&2; die "certificate setup failed"; }
write_client_openssl_cnf "$tmp/client.cnf" "$TLS_VERSION"
cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
    io.write(string.format("WRKRESULT %d\n", summary.requests))
end
EOF

cputicks() {  # PID: utime+stime of PID and its threads' children
    python3 "$here/bench.py" cputicks "$1"
}

start() {  # SPEC LABEL: starts a server on CPU 0; prints "PID PORT"
    local spec=$1 label=$2 port pid i
    if [[ $spec == nginx ]]; then
        port=$(python3 "$here/bench.py" freeport)
        mkdir -p "$tmp/ng-$label"
        write_nginx_tls_conf "$tmp/ng-$label" "$port" "$TLS_VERSION" "$tmp"
        taskset -c 0 nginx -p "$tmp/ng-$label" -c "$tmp/ng-$label/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 &
        pid=$!
    else
        [[ -x $spec ]] || die "$spec is not an executable"
        NNGHTTP_THREADS=$OURS_THREADS taskset -c 0 "$spec" 0 "$tmp/server.pem" >"$tmp/$label.out" 2>"$tmp/$label.err" &
        pid=$!
        port=""
        for ((i = 0; i < 100; i++)); do
            port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$tmp/$label.out")
            [[ -n $port ]] && break
            sleep 0.05
        done
        [[ -n $port ]] || die "$spec did not start: $(cat "$tmp/$label.err")"
    fi
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$pid $port"
            return
        fi
        sleep 0.05
    done
    die "$spec: port $port not answering"
}

client() {  # PORT OUT
    if [[ $TEST == hs ]]; then
        taskset -c 1 "$hs_client" "$1" "$CONNS" "$SECS" "$TLS_VERSION" /static 'Hello, world!' >"$2" 2>&1 &
    else
        OPENSSL_CONF="$tmp/client.cnf" taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" \
            -s "$tmp/report.lua" "https://127.0.0.1:$1/static" >"$2" 2>&1 &
    fi
}
count() {  # OUT
    if [[ $TEST == hs ]]; then sed -n 's/^HSRESULT \([0-9]*\) .*/\1/p' "$1"; else sed -n 's/^WRKRESULT \([0-9]*\).*/\1/p' "$1"; fi
}

read -r pa porta < <(start "$A" a)
pids+=("$pa")
read -r pb portb < <(start "$B" b)
pids+=("$pb")
# nginx's master forks the worker: count the whole tree (cputicks does).
clk=$(getconf CLK_TCK)
ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order=(a b); else order=(b a); fi
    declare -A pid=([a]=$pa [b]=$pb) port=([a]=$porta [b]=$portb) t0=() t1=()
    for x in "${order[@]}"; do t0[$x]=$(cputicks "${pid[$x]}"); done
    cp=()
    for x in "${order[@]}"; do
        client "${port[$x]}" "$tmp/$x-$r.out"
        cp+=($!)
    done
    wait "${cp[@]}" || true
    for x in "${order[@]}"; do t1[$x]=$(cputicks "${pid[$x]}"); done
    na=$(count "$tmp/a-$r.out") nb=$(count "$tmp/b-$r.out")
    if [[ -z $na || -z $nb ]] || ((na == 0 || nb == 0)); then
        echo "round $r: no result ($(tail -1 "$tmp/a-$r.out") / $(tail -1 "$tmp/b-$r.out"))"
        continue
    fi
    read -r ua ub ratio < <(awk -v a=$((t1[a] - t0[a])) -v b=$((t1[b] - t0[b])) -v na="$na" -v nb="$nb" -v c="$clk" \
        'BEGIN { ua = a / c / na * 1e6; ub = b / c / nb * 1e6; printf "%.2f %.2f %.4f\n", ua, ub, ua / ub }')
    echo "round $r (${order[0]} first): A $ua us ($na), B $ub us ($nb): A/B $ratio"
    ratios+=("$ratio")
done
if ((${#ratios[@]})); then
    printf '%s\n' "${ratios[@]}" | sort -n |
        awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median A/B %.4f over %d rounds (min %.4f, max %.4f)\n", m, NR, v[1], v[NR] }'
fi
