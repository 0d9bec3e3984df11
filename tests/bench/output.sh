#!/usr/bin/env bash
# Builds and runs bench_output.c against an existing build (default: build). Usage:
#   tests/bench/output.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$top/build}
[ -f "$build/libhspy_core.a" ] || { echo "output.sh: build hspy first ($build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=c11 -D_DEFAULT_SOURCE -DHSPY_VERSION='"bench"' -I"$top/include" \
    "$top/tests/bench/bench_output.c" "$build/libhspy_core.a" \
    $(pkg-config --cflags --libs jansson zlib libbrotlidec libzstd) -lm -o "$tmp/bench_output"
"$tmp/bench_output"
