#!/usr/bin/env bash
# bench/run_stream.sh [BUILD_DIR] [ROUNDS] [SECONDS]
# Builds (if needed) and runs stream_bench against nng-http and Debian's NNG
# 1.5.2, interleaved round by round so both see the same machine, and prints
# the medians and ratios.  Not a test: the figures are for the record.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/bench}
rounds=${2:-5}
secs=${3:-2}

if [[ ! -x $build/bench/stream_bench_ours ]]; then
    cmake -S "$here/.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNNGHTTP_BUILD_TESTS=OFF -DNNGHTTP_BUILD_EXAMPLES=OFF -DNNGHTTP_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" --target stream_bench_ours stream_bench_nng >/dev/null

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for mode in pingpong bulk; do
    ours=() nng=()
    for ((i = 0; i < rounds; i++)); do
        nng+=("$(timeout 60 "$build/bench/stream_bench_nng" $mode "$secs")")
        ours+=("$(timeout 60 "$build/bench/stream_bench_ours" $mode "$secs")")
    done
    m_nng=$(printf '%s\n' "${nng[@]}" | median)
    m_ours=$(printf '%s\n' "${ours[@]}" | median)
    unit=$([[ $mode == pingpong ]] && echo "round trips/s" || echo "MB/s")
    ratio=$(awk -v a="$m_ours" -v b="$m_nng" 'BEGIN {printf "%.2f", a / b}')
    printf '%-9s NNG 1.5.2 %10s  nng-http %10s  %s  ratio %sx  (%d rounds of %ss; ours: %s; nng: %s)\n' \
        "$mode" "$m_nng" "$m_ours" "$unit" "$ratio" "$rounds" "$secs" "${ours[*]}" "${nng[*]}"
done
