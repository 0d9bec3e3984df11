#!/usr/bin/env bash
# `hspy read --no-tui` (the access-log lines) over every capture in captures/, compared with
# tests/golden/read-log/<capture>.txt; `--json` must give one valid JSON object per line, as
# many as log lines. HSPY_UPDATE_GOLDEN=1 rewrites the transcripts instead (review the diff).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
golden=$HSPY_SOURCE_DIR/tests/golden/read-log
mkdir -p "$golden"
checked=0 failed=0
for cap in "$HSPY_SOURCE_DIR"/captures/*.pcap "$HSPY_SOURCE_DIR"/captures/*.pcapng; do
    name=$(basename "$cap")
    TZ=UTC "$HSPY" read --no-tui "$cap" >"$tmp/log" 2>"$tmp/err"
    if [ -n "${HSPY_UPDATE_GOLDEN:-}" ]; then
        cp "$tmp/log" "$golden/$name.txt"
    elif ! diff -u "$golden/$name.txt" "$tmp/log" >"$tmp/diff"; then
        echo "FAIL: $name differs from its transcript:"
        head -20 "$tmp/diff"
        failed=$((failed + 1))
    fi
    "$HSPY" read --no-tui --json "$cap" >"$tmp/json" 2>/dev/null
    want=$(grep -c . "$tmp/log" || true)
    got=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)))' "$tmp/json") ||
        { echo "FAIL: $name: --json is not JSON lines"; failed=$((failed + 1)); continue; }
    [ "$got" = "$want" ] || { echo "FAIL: $name: $got JSON objects, $want log lines"; failed=$((failed + 1)); }
    checked=$((checked + 1))
done
echo "$checked captures checked, $failed failures"
[ "$checked" -gt 0 ] && [ "$failed" = 0 ]
