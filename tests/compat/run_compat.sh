#!/usr/bin/env bash
# run_compat.sh NNG_BINARY OURS_BINARY
# Runs the same program built against NNG 1.5.2 and against nng-http, one
# after the other, and fails with a diff when their outputs differ.
set -u
nng_bin=$1
ours_bin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Under ASan, leaks inside libnng are not ours to report.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$nng_bin" >"$dir/nng.out" 2>&1
nng_rc=$?
"$ours_bin" >"$dir/ours.out" 2>&1
ours_rc=$?
echo "exit-status $nng_rc" >>"$dir/nng.out"
echo "exit-status $ours_rc" >>"$dir/ours.out"

if ! diff -u --label "NNG 1.5.2" --label "nng-http" "$dir/nng.out" "$dir/ours.out"; then
    echo "compat: outputs differ (see diff above)"
    exit 1
fi
echo "compat: identical output ($(wc -l <"$dir/ours.out") lines)"
exit 0
