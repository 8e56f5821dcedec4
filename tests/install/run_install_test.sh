#!/usr/bin/env bash
# run_install_test.sh SOURCE_DIR BUILD_DIR
# Installs the already-built project into a temporary prefix, then builds and
# runs a separate consumer project against it, via find_package(nnghttp) and
# via pkg-config.
set -euo pipefail
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -G Ninja \
    -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
pc_dir=$(dirname "$(find "$tmp/prefix" -name nnghttp.pc | head -n1)")
libdir=$(dirname "$pc_dir")

"$tmp/consumer/consumer_static"
"$tmp/consumer/consumer_cxx"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_shared"

flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs nnghttp)
# shellcheck disable=SC2086
cc "$src/tests/install/consumer/main.c" $flags -o "$tmp/pc_consumer"
LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer"
# shellcheck disable=SC2086
c++ -std=c++20 "$src/tests/install/consumer/main.cpp" $flags -o "$tmp/pc_consumer_cxx"
LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer_cxx"
echo "install test: find_package (static, shared, C++ API) and pkg-config (C, C++) consumers ran"
