#!/usr/bin/env bash
# run_cross.sh NNG_PEER OURS_PEER
# WebSocket across the two libraries: NNG 1.5.2's listener with nng-http's
# dialer, then nng-http's listener with NNG's dialer (ws_peer.c, built
# against each).  Both pairs must echo every byte.
set -u
nng_peer=$1
ours_peer=$2
dir=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]]; then kill "$pid" 2>/dev/null; fi
    rm -rf "$dir"
}
trap cleanup EXIT
status=0

pair() { # SERVER CLIENT LABEL
    local out=$dir/server.out port=
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$1" serve >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 1 500); do
        port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out")
        [[ -n $port ]] && break
        sleep 0.01
    done
    if [[ -z $port ]]; then
        echo "$3: the server did not start:"; cat "$out"; status=1; return
    fi
    if ! ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 timeout 60 "$2" dial "$port"; then
        echo "$3: the client failed"; status=1
    fi
    if ! timeout 30 tail --pid="$pid" -f /dev/null; then
        echo "$3: the server did not end"; status=1
    fi
    wait "$pid"; local rc=$?
    pid=
    cat "$out"
    if ((rc != 0)); then echo "$3: the server exited with $rc"; status=1; fi
    echo "$3: done"
}

pair "$nng_peer" "$ours_peer" "NNG listener, nng-http dialer"
pair "$ours_peer" "$nng_peer" "nng-http listener, NNG dialer"
exit $status
