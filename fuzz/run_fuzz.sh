#!/usr/bin/env bash
# Builds the parser fuzzer with clang in BUILD_DIR and runs it for SECONDS
# on a copy of the seed corpus.  Exits non-zero if the fuzzer finds a crash.
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
ninja -C "$build" -j2 parser_fuzz

# New inputs go to a scratch corpus; the checked-in seeds stay untouched.
work="$build/fuzz-corpus"
mkdir -p "$work" "$build/artifacts"
"$build/fuzz/parser_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/" "$@" "$work" "$src/fuzz/corpus"
