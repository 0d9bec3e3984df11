#!/usr/bin/env bash
# Robustness of `hspy read`: captures (the project's own, plus a fixed sample of the shared
# corpus when present) re-read after random byte flips and truncation, with a fixed seed. Every
# run must end by itself within the timeout with status 0 or 1 and no sanitizer report.
# HSPY_CORRUPT_ROUNDS raises the number of mutations per capture (default 6).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rounds=${HSPY_CORRUPT_ROUNDS:-6}

files=("$HSPY_SOURCE_DIR"/captures/*.pcap "$HSPY_SOURCE_DIR"/captures/*.pcapng)
if [ -n "${HSPY_CORPUS:-}" ] && [ -d "$HSPY_CORPUS/pcap" ]; then
    # A fixed, bounded sample: every 12th capture by name, under 2 MB.
    mapfile -t corpus < <(find "$HSPY_CORPUS/pcap" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -size -2M | sort | awk 'NR % 12 == 1')
    files+=("${corpus[@]}")
else
    echo "note: shared corpus not available; only the project's captures are mutated"
fi

python3 - "$tmp" "$rounds" "${files[@]}" <<'PY'
import os, random, sys
tmp, rounds, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rng = random.Random(20240611)
n = 0
for path in files:
    data = open(path, "rb").read()
    if len(data) < 64:
        continue
    for r in range(rounds):
        b = bytearray(data)
        kind = r % 3
        if kind != 1:  # flips, sparing the file header half the time
            start = 24 if r % 2 else 0
            for _ in range(rng.randrange(1, 40)):
                pos = rng.randrange(start, len(b))
                b[pos] ^= 1 << rng.randrange(8)
        if kind != 0:  # truncation anywhere
            b = b[:rng.randrange(1, len(b))]
        n += 1
        open(os.path.join(tmp, "m%05d" % n), "wb").write(b)
PY

count=0 bad=0
for f in "$tmp"/m*; do
    count=$((count + 1))
    rc=0
    timeout 20 "$HSPY" read --no-tui "$f" >/dev/null 2>"$tmp/err" || rc=$?
    if [ "$rc" -gt 1 ] || grep -q -E "AddressSanitizer|runtime error|LeakSanitizer" "$tmp/err"; then
        bad=$((bad + 1))
        echo "FAIL: status $rc on a mutation (kept as $f.bad)"
        cp "$f" "$f.bad"
        head -5 "$tmp/err"
        [ "$bad" -ge 5 ] && break
    fi
done
echo "$count mutated captures read, $bad failures"
[ "$bad" -eq 0 ]
