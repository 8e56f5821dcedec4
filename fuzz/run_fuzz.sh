#!/usr/bin/env bash
# Builds the fuzzers with clang in BUILD_DIR and runs each for SECONDS on a
# copy of its seed corpus: parser_fuzz (HTTP, seeds in fuzz/corpus), then
# ws_frame_fuzz (WebSocket, seeds in fuzz/corpus-ws).  Both always run;
# exits non-zero if either finds a crash.
#   fuzz/run_fuzz.sh BUILD_DIR SECONDS [extra libFuzzer flags...]
set -euo pipefail

if (($# < 2)); then
    echo "usage: $0 BUILD_DIR SECONDS [libFuzzer flags...]" >&2
    exit 2
fi
build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNNGHTTP_BUILD_TESTS=OFF -DNNGHTTP_BUILD_EXAMPLES=OFF -DNNGHTTP_BUILD_COMPAT=OFF \
    -DNNGHTTP_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
ninja -C "$build" -j2 parser_fuzz ws_frame_fuzz

# New inputs go to scratch corpora; the checked-in seeds stay untouched.
mkdir -p "$build/artifacts"
status=0
run() { # run NAME SCRATCH SEEDS [flags...]
    local name=$1 work=$2 seeds=$3
    shift 3
    mkdir -p "$work"
    echo "== $name: $seconds s"
    "$build/fuzz/$name" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" "$@" "$work" "$seeds" || status=1
}
run parser_fuzz "$build/fuzz-corpus" "$src/fuzz/corpus" "$@"
run ws_frame_fuzz "$build/fuzz-corpus-ws" "$src/fuzz/corpus-ws" "$@"
exit $status
