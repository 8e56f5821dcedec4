#!/usr/bin/env bash
# bench/server/run_tls.sh: the https part of the server benchmark.
# bench/server/tls_app.c (one static route over https) built against
# nng-http and against Debian's NNG 1.5.2 (mbedTLS), and nginx, all with the
# same certificate (EC P-256, made at run time by the openssl command) and
# the same protocol, cipher and key-exchange group.  Server on CPU 0, client
# on CPU 1, interleaved round by round:
#   keep-alive: wrk -t1 -cCONNS https://.../static (one handshake per
#               connection, then requests)
#   handshakes: bench/server/hs_client.c, one full handshake (never a
#               resumption) per request, HS_CONNS in flight
# Then paired runs, handshakes and keep-alive: nng-http and each other
# server loaded at the same time (both on CPU 0, both clients on CPU 1),
# so that whatever slows the machine slows both: the ratio of their CPU per
# handshake or request is far steadier than between runs taken one after
# the other.
# Then, each server restarted, resident memory per idle https keep-alive
# connection (IDLE_TLS_CONNS of them, each after a handshake and one
# request).  Prints a table of medians and ratios and writes it as
# markdown.  See
# README.md.  Also run by `TLS=1 bench/server/run.sh` after the plain part.
#
# Knobs (environment): ROUNDS (3), DURATION (10, seconds per run),
# TLS_CONNS (64, wrk connections), HS_CONNS (64, handshakes in flight),
# IDLE_TLS_CONNS (1000; 0 skips the idle test), PAIR_ROUNDS (ROUNDS rounded up to even; 0
# skips the paired runs),
# TLS_VERSION (1.2 or 1.3, see below), SERVERS ("ours nng nginx"),
# OURS_THREADS (0: ours thread-free, one thread like nginx's one worker;
# 1: one loop thread beside the application's, the figures before stop 18),
# SRC_DIR (the checkout to build, default this one),
# BUILD_DIR ($SRC_DIR/build/bench-server), TLS_RESULTS
# ($BUILD_DIR/results-tls.md).
#
# TLS_VERSION=1.2 (default): ECDHE-ECDSA-AES128-GCM-SHA256, group P-256,
#   all three servers (NNG 1.5.2's mbedTLS speaks TLS 1.2 only).
# TLS_VERSION=1.3: TLS_AES_128_GCM_SHA256, group X25519; NNG reads n/a.
# The clients offer only that protocol, cipher and group (wrk through an
# OPENSSL_CONF file, hs_client through its own settings), and nginx is
# configured with the same; every server's negotiated parameters are checked
# before the runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$here/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build/bench-server}
TLS_RESULTS=${TLS_RESULTS:-$BUILD_DIR/results-tls.md}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
TLS_CONNS=${TLS_CONNS:-64}
HS_CONNS=${HS_CONNS:-64}
IDLE_TLS_CONNS=${IDLE_TLS_CONNS:-1000}
PAIR_ROUNDS=${PAIR_ROUNDS:-$(((ROUNDS + 1) / 2 * 2))} # even: each server starts first as often
TLS_VERSION=${TLS_VERSION:-1.2}
OURS_THREADS=${OURS_THREADS:-0}
SERVERS=${SERVERS:-"ours nng nginx"}
py=(python3 "$here/bench.py")
out_dir=$BUILD_DIR/bench-tls

log() { printf '[bench/server tls] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=bench/server/tls_common.sh
. "$here/tls_common.sh"
tls_suite "$TLS_VERSION" || die "TLS_VERSION must be 1.2 or 1.3, not '$TLS_VERSION'"

# --- cleanup: every process this script started, on any exit ----------------
tmp=$(mktemp -d /tmp/bench-server-tls.XXXXXX)
declare -A PID=() PORT=()
made_policy=0
child=""

# run_child OUT CMD...: CMD in the background, output to OUT, waited for, so
# that a signal's trap fires at once.
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
    local rc=$? name
    trap - EXIT INT TERM
    if [[ -n $child ]]; then stop_pid "$child"; fi
    for name in "${!PID[@]}"; do
        stop_pid "${PID[$name]}"
    done
    if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    if ((rc != 0)); then
        log "failed (exit $rc); logs kept in $tmp (the key in it too)"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- what it needs -------------------------------------------------------------
install_packages() {  # Debian packages, without starting any service
    local sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
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
    if [[ " $* " == *" nginx"* && -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
        log "stopping the system nginx the package started"
        "${sudo_cmd[@]}" kill -QUIT "$(cat /run/nginx.pid)" || true
    fi
}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v taskset >/dev/null || need+=(util-linux)
[[ -e /usr/include/openssl/ssl.h ]] || need+=(libssl-dev)
[[ -e /usr/include/nng/nng.h ]] || need+=(libnng-dev)
if ((${#need[@]})); then install_packages "${need[@]}"; fi

# --- build -----------------------------------------------------------------------
# A benchmark does not need -Werror (GCC's -O3 flow warnings vary by version).
log "configuring $BUILD_DIR (Release)"
cmake -S "$SRC_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DNNGHTTP_WARNINGS_AS_ERRORS=OFF >"$tmp/configure.log" 2>&1 ||
    { cat "$tmp/configure.log" >&2; die "cmake configure failed"; }
log "building nnghttp (Release), tls_app_ours, tls_app_nng and hs_client"
cmake --build "$BUILD_DIR" -j2 --target nnghttp >"$tmp/build.log" 2>&1 ||
    { tail -40 "$tmp/build.log" >&2; die "build failed"; }
lib=$BUILD_DIR/src/libnnghttp.a
[[ -f $lib ]] || die "$lib not found"
mkdir -p "$out_dir"
cflags=(-O3 -DNDEBUG -std=gnu11 -Wall -Wextra)
{
    cc "${cflags[@]}" -I"$SRC_DIR/include" -c "$here/tls_app.c" -o "$out_dir/tls_app_ours.o" &&
        c++ "$out_dir/tls_app_ours.o" "$lib" -lssl -lcrypto -pthread -o "$out_dir/tls_app_ours" &&
        cc "${cflags[@]}" "$here/tls_app.c" -lnng -o "$out_dir/tls_app_nng" &&
        cc "${cflags[@]}" "$here/hs_client.c" -lssl -lcrypto -o "$out_dir/hs_client"
} >>"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; die "build failed"; }

# --- certificate: a CA and a server certificate, EC P-256, in $tmp -------------------
log "making an EC P-256 CA and a certificate for localhost / 127.0.0.1"
make_tls_cert "$tmp" || { cat "$tmp/cert.log" >&2; die "certificate setup failed"; }

# wrk's libssl reads this file (OPENSSL_CONF): it offers only this protocol,
# cipher and group.
write_client_openssl_cnf "$tmp/client-openssl.cnf" "$TLS_VERSION"

# --- servers -------------------------------------------------------------------------
wait_port() {  # $1 = port, $2 = pid
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
        NNGHTTP_THREADS=$OURS_THREADS taskset -c 0 "$out_dir/tls_app_$name" 0 "$tmp/server.pem" >"$out" 2>>"$err" &
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
        write_nginx_tls_conf "$tmp" "$port" "$TLS_VERSION"
        taskset -c 0 nginx -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" \
            -g 'daemon off;' >"$out" 2>>"$err" &
        pid=$!
        wait_port "$port" "$pid" || { cat "$err" "$tmp/nginx-error.log" >&2; die "nginx did not start"; }
        ;;
    esac
    PID[$name]=$pid
    PORT[$name]=$port
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

deaths=()
record_death() {  # $1 = server, $2 = when
    local name=$1 st=0 how
    wait "${PID[$name]}" 2>/dev/null || st=$?
    unset "PID[$name]"
    if ((st > 128)); then how="killed by signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null || echo '?'))"; else how="exit status $st"; fi
    mkdir -p "$(dirname "$TLS_RESULTS")"
    cp "$tmp/$name.err" "${TLS_RESULTS%.md}.$name.err" 2>/dev/null || true
    deaths+=("$name died during $2: $how (stderr: ${TLS_RESULTS%.md}.$name.err)")
    log "${deaths[-1]}"
}

# Which servers take part: NNG 1.5.2 (mbedTLS) has no TLS 1.3.
active=()
for name in $SERVERS; do
    if [[ $name == nng && $TLS_VERSION == 1.3 ]]; then continue; fi
    active+=("$name")
done

# --- runs --------------------------------------------------------------------------------
cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRKRESULT %d %d %.0f %.0f %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

clk_tck=$(getconf CLK_TCK)
tsv=$tmp/runs.tsv
printf 'round\ttest\tserver\trequests\tduration_us\tp50_us\tp99_us\terrors\tdied\tcpu_ticks\tclk_tck\tclient_cpu_us\tnote\n' >"$tsv"

na_row() {  # $1 round $2 test $3 server $4 note $5 died
    printf '%s\t%s\t%s\tna\tna\tna\tna\t0\t%s\tna\t%s\tna\t%s\n' \
        "$1" "$2" "$3" "${5:-0}" "$clk_tck" "$4" >>"$tsv"
}

# run_one ROUND TEST SERVER SECONDS RECORD: one wrk (ka) or hs_client (hs) run.
run_one() {
    local round=$1 test=$2 name=$3 secs=$4 record=$5
    local t0 t1 out=$tmp/$test-$round-$name.txt died=0 res
    t0=$("${py[@]}" cputicks "${PID[$name]}")
    if [[ $test == ka ]]; then
        run_child "$out" env OPENSSL_CONF="$tmp/client-openssl.cnf" taskset -c 1 \
            wrk -t1 -c"$TLS_CONNS" -d"${secs}s" --latency -s "$tmp/report.lua" \
            "https://127.0.0.1:${PORT[$name]}/static" || true
    else
        run_child "$out" taskset -c 1 "$out_dir/hs_client" "${PORT[$name]}" "$HS_CONNS" "$secs" \
            "$TLS_VERSION" /static 'Hello, world!' || true
    fi
    t1=$("${py[@]}" cputicks "${PID[$name]}")
    if ! alive "$name"; then
        died=1
        record_death "$name" "$( ((round)) && echo "round $round" || echo "warm-up"), $test"
        start_server "$name"
    fi
    ((record)) || return 0
    if [[ $test == ka ]]; then
        res=$(sed -n 's/^WRKRESULT //p' "$out")
    else
        res=$(sed -n 's/^HSRESULT //p' "$out")
    fi
    if [[ -z $res || $died -eq 1 ]]; then
        na_row "$round" "$test" "$name" "no result" "$died"
        return 0
    fi
    local n dur p50 p99 errs client_us="na" e1 e2 e3 e4 e5 resumed proto ciph grp note=""
    if [[ $test == ka ]]; then
        read -r n dur p50 p99 e1 e2 e3 e4 e5 <<<"$res"
        errs=$((e1 + e2 + e3 + e4 + e5))
    else
        read -r n dur p50 p99 errs resumed proto ciph grp client_us <<<"$res"
        if ((resumed)); then note="$resumed resumed"; fi
        if [[ "$proto $ciph $grp" != "TLSv$TLS_VERSION $cipher $(negotiated_group)" ]]; then
            note="${note:+$note; }negotiated $proto $ciph $grp"
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\t%s\t%s\n' \
        "$round" "$test" "$name" "$n" "$dur" "$p50" "$p99" "$errs" $((t1 - t0)) "$clk_tck" \
        "$client_us" "$note" >>"$tsv"
    printf '  round %s  %-2s %-6s %9.0f /s  p50 %7.3f ms  p99 %7.3f ms  server CPU %7.2f us each, %3.0f%% busy  errors %s %s\n' \
        "$round" "$test" "$name" "$(awk -v n="$n" -v d="$dur" 'BEGIN { print n / (d / 1e6) }')" \
        "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" \
        "$(awk -v t=$((t1 - t0)) -v c="$clk_tck" -v n="$n" 'BEGIN { print (n > 0) ? t / c / n * 1e6 : 0 }')" \
        "$(awk -v t=$((t1 - t0)) -v c="$clk_tck" -v d="$dur" 'BEGIN { print t / c / (d / 1e6) * 100 }')" \
        "$errs" "$note" >&2
}

negotiated_group() {  # OpenSSL's short name for the group, as hs_client prints it
    if [[ $group == P-256 ]]; then echo prime256v1; else echo "$group"; fi
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for name in "${active[@]}"; do start_server "$name"; done

# Sanity: each server answers /static over a verified connection (curl with
# the CA, name 127.0.0.1) and negotiates the chosen parameters (hs_client).
checks=()
for name in "${active[@]}"; do
    got=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" "https://127.0.0.1:${PORT[$name]}/static" 2>&1) ||
        true
    if [[ $got != "Hello, world!" ]]; then
        checks+=("$name: curl got '$got'")
        log "check: $name: curl got '$got'"
    fi
    res=$("$out_dir/hs_client" "${PORT[$name]}" 1 0.2 "$TLS_VERSION" /static 'Hello, world!' 2>&1 |
        sed -n 's/^HSRESULT //p')
    read -r n _ _ _ errs resumed proto ciph grp _ <<<"${res:-0 0 0 0 1 0 none none none}"
    if ((n == 0 || errs != 0)) || [[ "$proto $ciph $grp" != "TLSv$TLS_VERSION $cipher $(negotiated_group)" ]]; then
        checks+=("$name: hs_client: $n handshakes, $errs errors, negotiated $proto $ciph $grp")
        log "check: ${checks[-1]}"
    fi
done

log "warm-up: 1 s per test and server"
for test in ka hs; do
    for name in "${active[@]}"; do run_one 0 "$test" "$name" 1 0; done
done
log "measuring: $ROUNDS rounds x ${DURATION}s; TLS $TLS_VERSION; servers: ${active[*]}"
for ((round = 1; round <= ROUNDS; round++)); do
    for test in ka hs; do
        for name in "${active[@]}"; do run_one "$round" "$test" "$name" "$DURATION" 1; done
    done
done

# --- paired runs: ours and one other server at the same time -------------------
# Each round: two clients started together, one per server, each with half
# the connections (hs_client for handshakes, wrk for keep-alive); CPU per
# handshake or request of each server over the same seconds.
pair_client() {  # TEST PORT CONNS OUT: one client run in the background
    local test=$1 port=$2 conns=$3 out=$4
    if [[ $test == hs ]]; then
        taskset -c 1 "$out_dir/hs_client" "$port" "$conns" "$DURATION" "$TLS_VERSION" \
            /static 'Hello, world!' >"$out" 2>&1 &
    else
        OPENSSL_CONF="$tmp/client-openssl.cnf" taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" \
            -s "$tmp/report.lua" "https://127.0.0.1:$port/static" >"$out" 2>&1 &
    fi
}
pair_count() {  # TEST OUT: handshakes or requests done
    if [[ $1 == hs ]]; then
        sed -n 's/^HSRESULT \([0-9]*\) .*/\1/p' "$2"
    else
        sed -n 's/^WRKRESULT \([0-9]*\) .*/\1/p' "$2"
    fi
}
pair_rows=()
if ((PAIR_ROUNDS > 0)) && [[ " ${active[*]} " == *" ours "* ]]; then
    for test in hs ka; do
        conns=$([[ $test == hs ]] && echo "$HS_CONNS" || echo "$TLS_CONNS")
        half=$((conns / 2 > 0 ? conns / 2 : 1))
        for other in "${active[@]}"; do
            [[ $other == ours ]] && continue
            ratios=()
            for ((round = 1; round <= PAIR_ROUNDS; round++)); do
                alive ours && alive "$other" || break
                # Whichever server is read and loaded first reads about
                # 0.5% cheaper (the same binary paired with itself: 0.984-
                # 1.001 when one always went first): odd rounds start with
                # ours, even rounds with the other, and the median sees both.
                order=(ours "$other")
                if ((round % 2 == 0)); then order=("$other" ours); fi
                declare -A t0=() t1=() out=()
                pids=()
                for name in "${order[@]}"; do
                    out[$name]=$tmp/pair-$test-$name-$round.out
                    t0[$name]=$("${py[@]}" cputicks "${PID[$name]}")
                done
                for name in "${order[@]}"; do
                    pair_client "$test" "${PORT[$name]}" "$half" "${out[$name]}"
                    pids+=($!)
                done
                wait "${pids[@]}" || true
                for name in "${order[@]}"; do
                    t1[$name]=$("${py[@]}" cputicks "${PID[$name]}")
                done
                oa=${out[ours]} ob=${out[$other]}
                a0=${t0[ours]} a1=${t1[ours]} b0=${t0[$other]} b1=${t1[$other]}
                na=$(pair_count "$test" "$oa")
                nb=$(pair_count "$test" "$ob")
                if [[ -z $na || -z $nb ]] || ((na == 0 || nb == 0)); then
                    log "paired $test round $round with $other: no result"
                    continue
                fi
                read -r ua ub ratio < <(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v na="$na" -v nb="$nb" -v c="$clk_tck" \
                    'BEGIN { ua = a / c / na * 1e6; ub = b / c / nb * 1e6; printf "%.2f %.2f %.3f\n", ua, ub, ua / ub }')
                log "paired $test round $round: ours $ua us each ($na), $other $ub us ($nb): ${ratio}x"
                ratios+=("$ratio")
            done
            if ((${#ratios[@]})); then
                med=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
                pair_rows+=("$test $other $med ${ratios[*]}")
            fi
        done
    done
fi

# --- idle https connections: each server restarted, so that none reuses what
# the load left allocated -------------------------------------------------------------------
idle_rows=()
if ((IDLE_TLS_CONNS > 0)); then
    for name in "${active[@]}"; do
        stop_pid "${PID[$name]}"
        unset "PID[$name]"
        start_server "$name"
        res=$("${py[@]}" idletls "${PID[$name]}" "${PORT[$name]}" "$IDLE_TLS_CONNS" "$TLS_VERSION" |
            sed -n 's/^IDLETLSRESULT //p')
        log "idle https, $name: ${res:-no result}"
        kib=$(sed -n 's/.*kib_per_conn=\([^ ]*\).*/\1/p' <<<"$res")
        conns=$(sed -n 's/.*conns=\([0-9]*\) .*/\1/p' <<<"$res")
        closed=$(sed -n 's/.*closed_by_server=\([0-9]*\).*/\1/p' <<<"$res")
        idle_rows+=("$name ${kib:-n/a} ${conns:-0} ${closed:-0}")
    done
fi

# --- report ---------------------------------------------------------------------------------
commit=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
title=(
    "## HTTPS server benchmark ($(date -u +%Y-%m-%d))"
    ""
    "nng-http $commit (OpenSSL $(openssl version | awk '{print $2}'), NNGHTTP_THREADS=$OURS_THREADS) vs Debian's NNG $(dpkg-query -W -f='${Version}' libnng1 2>/dev/null || echo '?') (mbedTLS $(dpkg-query -W -f='${Version}' libmbedtls14 2>/dev/null || echo '?'))$( [[ $TLS_VERSION == 1.3 ]] && echo ': n/a, no TLS 1.3') vs $(nginx -v 2>&1 | sed 's/^nginx version: //') (1 worker, access_log off, no session cache or tickets)."
    "TLS $TLS_VERSION, $cipher, key exchange $group, server certificate EC P-256 signed by a P-256 CA, made for this run; the clients offer nothing else and nginx allows nothing else."
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; server on CPU 0, client on CPU 1, loopback."
    "Medians of $ROUNDS rounds of ${DURATION}s each, interleaved. keep-alive: \`wrk -t1 -c$TLS_CONNS --latency\` GET /static (13 bytes), one handshake per connection. handshakes: bench/server/hs_client.c, $HS_CONNS connections in flight, each a full handshake (no resumption: client cache off, no tickets, checked per connection), one GET /static with Connection: close, close_notify, close."
    "p50/p99: wrk's request latency; for handshakes the time from connect() to the whole answer. CPU us = server utime+stime (all threads; nginx master+worker) / requests or handshakes; busy = server CPU time / wall time (100% = CPU 0 saturated); client busy = hs_client's own CPU time / wall time (100% = the client is the bottleneck)."
    "Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark accounts for about 2)."
)
if ((${#checks[@]})); then
    title+=("" "**Sanity check failures**: ${checks[*]}")
else
    title+=("Sanity check before the runs (curl verifying the certificate gets the body; hs_client sees the chosen protocol, cipher and group): all correct.")
fi
if ((${#deaths[@]})); then
    title+=("" "**Server deaths** (each restarted; a run it died in is not counted):")
    for d in "${deaths[@]}"; do title+=("- $d"); done
    title+=("")
fi
mkdir -p "$(dirname "$TLS_RESULTS")"
cp "$tsv" "${TLS_RESULTS%.md}.runs.tsv"
echo
"${py[@]}" tlsreport "$tsv" "$TLS_RESULTS" "$TLS_VERSION" "${title[@]}"
log "markdown: $TLS_RESULTS; raw runs: ${TLS_RESULTS%.md}.runs.tsv"
if ((${#idle_rows[@]})); then
    {
        echo
        echo "| idle https keep-alive | conns | KiB/conn | closed by server |"
        echo "|---|--:|--:|--:|"
        ours_kib=""
        for row in "${idle_rows[@]}"; do
            read -r name kib conns closed <<<"$row"
            [[ $name == ours ]] && ours_kib=$kib
            echo "| $name | $conns | $kib | $closed |"
        done
        for row in "${idle_rows[@]}"; do
            read -r name kib _ _ <<<"$row"
            [[ $name == ours || -z $ours_kib || $kib == n/a ]] && continue
            echo "| ours/$name | | $(awk -v a="$ours_kib" -v b="$kib" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }') | |"
        done
        echo
        echo "Resident memory (VmRSS of the server's processes) grown per connection while $IDLE_TLS_CONNS https connections stay open, each after a full handshake and one GET /static; each server restarted first."
    } | tee -a "$TLS_RESULTS"
fi
if ((${#pair_rows[@]})); then
    {
        echo
        echo "| paired | ours/theirs CPU per handshake or request (median) | rounds |"
        echo "|---|--:|---|"
        for row in "${pair_rows[@]}"; do
            read -r test name med rest <<<"$row"
            echo "| $([[ $test == hs ]] && echo handshakes || echo keep-alive), ours/$name | ${med}x | $rest |"
        done
        echo
        echo "Both servers on CPU 0 at the same time, each with its own client on CPU 1 (hs_client with $((HS_CONNS / 2)) connections, or wrk -t1 -c$((TLS_CONNS / 2))), $PAIR_ROUNDS rounds of ${DURATION}s (odd rounds start nng-http first, even rounds the other): the CPU each server spent per handshake or request over the same seconds. Whatever slows the machine during a round slows both, so these ratios move far less between runs than the ones in the table above."
    } | tee -a "$TLS_RESULTS"
fi
