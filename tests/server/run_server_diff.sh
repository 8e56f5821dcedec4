#!/usr/bin/env bash
# run_server_diff.sh NNG_SERVER_APP OURS_SERVER_APP
# Runs tests/server/server_app.c built against NNG 1.5.2 and against
# nng-http, sends both the scripted requests of requests.py, and compares
# the transcripts with compare.py.  Stops what it starts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nng_app=$1
ours_app=$2
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

sh "$here/make_site.sh" >/dev/null # the 1 MiB file (git-ignored)
cp -r "$here/site" "$work/site"

run() { # app transcript must_exit_clean
    local out=$work/$(basename "$2").log
    "$1" 0 "$work/site" >"$out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    local port=""
    for _ in $(seq 1 100); do
        port=$(grep -o 'listening on [0-9]*' "$out" | awk '{print $3}' || true)
        [[ -n $port ]] && break
        sleep 0.1
    done
    [[ -n $port ]] || { echo "server $1 did not start"; cat "$out"; return 1; }
    timeout 300 python3 "$here/requests.py" 127.0.0.1 "$port" >"$2"
    kill "$pid"
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    if [[ $3 == yes && $rc -ne 0 ]]; then
        # ours must stop cleanly on SIGTERM: under the sanitizers a leak
        # or an error at shutdown shows here
        echo "server $1 exited with status $rc"
        cat "$out"
        return 1
    fi
}

run "$nng_app" "$work/nng.transcript" no
run "$ours_app" "$work/ours.transcript" yes
python3 "$here/compare.py" "$work/nng.transcript" "$work/ours.transcript"
