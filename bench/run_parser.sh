#!/usr/bin/env bash
# bench/run_parser.sh [BUILD_DIR] [REPETITIONS]
# Builds (if needed) and runs bench/parser_bench, which parses the same
# messages with nng-http's parser and with Debian's http_parser in one
# process, and prints each case's median time and the ratio.  Not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/bench}
reps=${2:-5}

if [[ ! -f $build/build.ninja ]]; then
    cmake -S "$here/.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DNNGHTTP_BUILD_TESTS=OFF -DNNGHTTP_BUILD_EXAMPLES=OFF -DNNGHTTP_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" --target parser_bench >/dev/null

"$build/bench/parser_bench" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_format=json 2>/dev/null | python3 -c '
import json, sys
runs = {}
for b in json.load(sys.stdin)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        runs[b["run_name"]] = b["real_time"]
for case in ("curl_request", "browser_request", "chunked_response"):
    ours = runs.get("BM_%s_nnghttp" % case)
    theirs = runs.get("BM_%s_http_parser" % case)
    if ours is None or theirs is None:
        continue
    print("%-17s http_parser %8.1f ns  nng-http %8.1f ns  ratio %.2fx (median of %s)" % (case, theirs, ours, theirs / ours, sys.argv[1]))
' "$reps"
