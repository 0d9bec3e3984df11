#!/usr/bin/env bash
# Nothing lost: clients keep sending (keep-alive, pipelined, with bodies) while hspy listen is
# stopped by SIGTERM or SIGINT at a moment of their choosing; every exchange a client saw
# completed must be in the JSON lines and in the HAR file exactly once, the exchanges in
# flight recorded as such, and both outputs complete documents.
. "$(dirname "$0")/lib/common.sh"
CONNS=$(pick 16 64 8)
RUN=$(pick 3 20 3)

for sig in TERM INT; do
    scene "stop-$sig" "$CONNS clients (pipelining up to 4 requests) stopped by SIG$sig after ${RUN}s"
    hs_start "lost-$sig" listen --json --har "$WORK/lost-$sig.har" 0
    pid=$HS_PID
    stress stream "$HS_PORT" "$CONNS" 60 "$WORK/completed-$sig" 4 >"$WORK/stream-$sig.json" &
    cpid=$!
    BG_PIDS+=("$cpid")
    sleep "$RUN"
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
    check "thousands of exchanges went through" test "$(lastjson "$r" completed_by_client)" -ge 1000
    verdict
done
N_RACE=$(pick 50 500 20)
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

finish
