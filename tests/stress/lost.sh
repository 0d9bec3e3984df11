#!/usr/bin/env bash
# Nothing lost: clients keep sending (keep-alive, pipelined, with bodies) while hspy listen is
# stopped by SIGTERM or SIGINT at a moment of their choosing; every exchange a client saw
# completed must be in the JSON lines and in the HAR file exactly once, the exchanges in
# flight recorded as such, and both outputs complete documents. Through hspy proxy, thousands of
# varied exchanges arrive byte for byte (hashes of both bodies compared end to end).
. "$(dirname "$0")/lib/common.sh"
CONNS=$(pick 16 64 8)
RUN=$(pick 2 20 2)
STREAM_SECS=60
MIN_DONE=$(pick 300 5000 100)

for sig in TERM INT; do
    scene "stop-$sig" "$CONNS clients (pipelining up to 4 requests) stopped by SIG$sig after ${RUN}s and $MIN_DONE answers"
    hs_start "lost-$sig" listen --json --har "$WORK/lost-$sig.har" 0
    pid=$HS_PID
    stress stream "$HS_PORT" "$CONNS" "$STREAM_SECS" "$WORK/completed-$sig" 4 >"$WORK/stream-$sig.json" &
    cpid=$!
    BG_PIDS+=("$cpid")
    # The signal comes after the run, and once enough went through however long that takes
    # here (the clients go on for STREAM_SECS, so they are still sending when it comes).
    sleep "$RUN"
    wait_until $((STREAM_SECS - RUN - 5)) at_least "$MIN_DONE" grep -c . "$WORK/completed-$sig"
    mem "$pid"
    kill -"$sig" "$pid"
    wait "$cpid"
    rc=0
    wait "$pid" || rc=$?
    check "exit status 0 after SIG$sig (got $rc)" test "$rc" = 0
    check "no sanitizer report" sanitizer_clean "$WORK/lost-$sig.err"
    stress recorded "$WORK/completed-$sig" "$WORK/lost-$sig.out" "$WORK/lost-$sig.har" >"$WORK/recorded-$sig.json"
    r=$WORK/recorded-$sig.json
    sent "$(lastjson "$WORK/stream-$sig.json" sent) requests on $CONNS connections"
    back "$(lastjson "$r" completed_by_client) answers complete at the client; $(lastjson "$r" json_records) JSON records, $(lastjson "$r" har_entries) HAR entries, $(lastjson "$r" in_flight_or_failed) recorded as in flight"
    check "every completed exchange in the JSON lines (missing $(lastjson "$r" missing_json_n))" test "$(lastjson "$r" missing_json_n)" = 0
    check "every completed exchange in the HAR (missing $(lastjson "$r" missing_har_n))" test "$(lastjson "$r" missing_har_n)" = 0
    check "none recorded twice" test "$(lastjson "$r" doubled)" = "[]"
    check "JSON lines and HAR agree" test "$(lastjson "$r" json_records)" = "$(lastjson "$r" har_entries)"
    check "many exchanges went through (at least $MIN_DONE)" test "$(lastjson "$r" completed_by_client)" -ge "$MIN_DONE"
    verdict
done
N_RACE=$(pick 20 500 10)
scene stop-at-once "SIGTERM the instant the address is printed, $N_RACE times each for listen and proxy"
stress racestop "$N_RACE" listen --har "$WORK/race.har" 0 >"$WORK/race.json"
stress racestop "$N_RACE" proxy --har "$WORK/race-proxy.har" 0 127.0.0.1:9 >"$WORK/race-proxy.json"
sent "$N_RACE starts of hspy listen --har and of hspy proxy --har, each stopped as soon as its port was read"
back "exit statuses $(lastjson "$WORK/race.json" statuses) and $(lastjson "$WORK/race-proxy.json" statuses); HAR files not complete: $(lastjson "$WORK/race.json" broken_har) and $(lastjson "$WORK/race-proxy.json" broken_har)"
for r in race race-proxy; do
    check "$r: every run stopped cleanly (exit 0)" test "$(lastjson "$WORK/$r.json" statuses)" = "{\"0\": $N_RACE}"
    check "$r: every HAR complete" test "$(lastjson "$WORK/$r.json" broken_har)" = 0
done
verdict

N_MIX=$(pick 500 20000 200)
scene proxied-bytes "$N_MIX varied exchanges through hspy proxy --json --har, both bodies hash-checked end to end"
stress origin "$WORK/origin.port" &
BG_PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$WORK/origin.port" ] && break; sleep 0.05; done
[ -s "$WORK/origin.port" ] || { echo "FAIL: the origin did not start"; exit 1; }
hs_start mixed proxy --json --har "$WORK/mixed.har" 0 "127.0.0.1:$(cat "$WORK/origin.port")"
stress mixed "$HS_PORT" "$N_MIX" 7 8 >"$WORK/mixed.json"
r=$WORK/mixed.json
sent "$(lastjson "$r" exchanges) exchanges on $(lastjson "$r" connections) connections, $(lastjson "$r" sent_bytes) bytes (bodies by length and chunked, answers by length, chunked and close, 0 to 256 KiB)"
back "$(lastjson "$r" seconds) s; answer bodies differing $(lastjson "$r" body_mismatch), request bodies differing at the upstream $(lastjson "$r" request_mismatch), errors $(lastjson "$r" errors); first failures $(lastjson "$r" failures)"
mem "$HS_PID"
hs_stop "$HS_PID" mixed
check "every exchange made" test "$(lastjson "$r" exchanges)" = "$N_MIX" -a "$(lastjson "$r" errors)" = 0
check "every body identical end to end (SHA-256 both ways)" test "$(lastjson "$r" body_mismatch)$(lastjson "$r" request_mismatch)" = 00
check "every exchange recorded" test "$(grep -c '"/mix?' "$WORK/mixed.out")" = "$N_MIX"
verdict

finish
