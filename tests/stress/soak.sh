#!/usr/bin/env bash
# Soak (opt-in: tests/stress/run --soak [MINUTES], 30 minutes unless told): mixed traffic through
# hspy proxy --json in front of the origin (request bodies by length and chunked, answers by
# length, chunked and close, 0 to 256 KiB, every body hash-checked end to end) for the whole
# run, in batches. hspy's resident memory, descriptors and CPU time are sampled all along; at
# the end memory and descriptors must be flat and the CPU time per exchange stable between the
# first and the last third of the run.
. "$(dirname "$0")/lib/common.sh"
MINUTES=${SOAK_MINUTES:-30}
BATCH=$(pick 2000 2000 500)

scene soak "$MINUTES minutes of mixed traffic through hspy proxy --json, in batches of $BATCH exchanges"
stress origin "$WORK/origin.port" &
BG_PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$WORK/origin.port" ] && break; sleep 0.05; done
[ -s "$WORK/origin.port" ] || { echo "FAIL: the origin did not start"; exit 1; }
# the records themselves are not kept: a soak writes hundreds of megabytes of them
ln -s /dev/null "$WORK/soak.out"
hs_start soak proxy --json 0 "127.0.0.1:$(cat "$WORK/origin.port")"
SOPID=$HS_PID
stress sample "$SOPID" 10 "$WORK/samples.jsonl" &
BG_PIDS+=($!)
end=$(($(date +%s) + MINUTES * 60))
batch=0
: >"$WORK/batches.jsonl"
while [ "$(date +%s)" -lt "$end" ]; do
    batch=$((batch + 1))
    before=$(stress proc "$SOPID" | tail -1)
    stress mixed "$HS_PORT" "$BATCH" "$batch" 8 >"$WORK/batch.json"
    after=$(stress proc "$SOPID" | tail -1)
    printf '{"before": %s, "after": %s, "mixed": %s}\n' "$before" "$after" "$(tail -1 "$WORK/batch.json")" >>"$WORK/batches.jsonl"
done
mem "$SOPID"
hs_stop "$SOPID" soak
"$PYTHON" - "$WORK/batches.jsonl" "$WORK/samples.jsonl" >"$WORK/soak.json" <<'PY'
import json, statistics, sys
b = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
third = max(1, len(b) // 3)
per = [(x["after"]["cpu_ticks"] - x["before"]["cpu_ticks"]) * 10000.0 / max(1, x["mixed"]["exchanges"])
       for x in b]  # CPU microseconds per exchange (100 ticks a second)
first, last = b[:third], b[-third:]
print(json.dumps({
    "batches": len(b),
    "exchanges": sum(x["mixed"]["exchanges"] for x in b),
    "errors": sum(x["mixed"]["errors"] for x in b),
    "mismatches": sum(x["mixed"]["body_mismatch"] + x["mixed"]["request_mismatch"] for x in b),
    "rss_first_kb": max(x["after"]["rss_kb"] for x in first),
    "rss_last_kb": max(x["after"]["rss_kb"] for x in last),
    "fds_first": min(x["after"]["fds"] for x in first),
    "fds_last": min(x["after"]["fds"] for x in last),
    "cpu_us_first": round(statistics.median(per[:third]), 1),
    "cpu_us_last": round(statistics.median(per[-third:]), 1),
    "samples": len(s),
    "rss_kb_samples_min_max": [min(x["rss_kb"] for x in s), max(x["rss_kb"] for x in s)] if s else [],
}))
PY
r=$WORK/soak.json
sent "$(lastjson "$r" exchanges) exchanges in $(lastjson "$r" batches) batches"
back "errors $(lastjson "$r" errors), bodies differing $(lastjson "$r" mismatches)"
note "rss $(lastjson "$r" rss_first_kb) kB in the first third, $(lastjson "$r" rss_last_kb) kB in the last (samples min/max $(lastjson "$r" rss_kb_samples_min_max) kB); descriptors $(lastjson "$r" fds_first) then $(lastjson "$r" fds_last); CPU $(lastjson "$r" cpu_us_first) then $(lastjson "$r" cpu_us_last) us per exchange"
check "at least three batches ran" test "$(lastjson "$r" batches)" -ge 3
check "no error, every body identical" test "$(lastjson "$r" errors)$(lastjson "$r" mismatches)" = 00
check "memory flat (last third within 10% + 2 MB of the first)" test "$(lastjson "$r" rss_last_kb)" -le $(($(lastjson "$r" rss_first_kb) * 11 / 10 + 2048))
check "descriptors flat" test "$(lastjson "$r" fds_last)" -le $(($(lastjson "$r" fds_first) + 2))
check "CPU per exchange stable (last third within 1.5x of the first)" "$PYTHON" -c '
import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if b <= 1.5 * a + 20 else 1)' \
    "$(lastjson "$r" cpu_us_first)" "$(lastjson "$r" cpu_us_last)"
verdict

finish
