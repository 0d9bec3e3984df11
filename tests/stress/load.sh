#!/usr/bin/env bash
# Load on hspy listen: slow clients (slowloris) while wrk measures throughput, thousands of
# idle connections against the --max-conns cap, pipelining storms (clients that read and one
# that never does), and large uploads and downloads with resident memory under the cap
# documented in docs/stress.md.
. "$(dirname "$0")/lib/common.sh"
need() { command -v "$1" >/dev/null || skip "$1 is not installed"; }
need wrk
need curl

FDS=$(raise_fds 30000)
[ "$FDS" -ge 2200 ] || skip "only $FDS file descriptors allowed (ulimit -Hn); the load scenarios need thousands"
SLOW=$(pick 1000 1000 300)
SLOW_INTERVAL=2
# The head timeout (the default) cuts every slow client once within the run. A shorter one
# would turn the run into a measure of reconnect churn on the client's side.
HEAD_TIMEOUT=10
WRK_SECS=$(pick 3 10 3)
IDLE=$(pick 10000 10000 3000)
CAP=$(pick 5000 5000 1500)
if [ $((IDLE + 200)) -gt "$FDS" ]; then
    IDLE=$((FDS - 200))
    CAP=$((IDLE / 2))
    echo "note: descriptor limit $FDS: $IDLE idle connections against a cap of $CAP"
fi
PIPE_CONNS=$(pick 50 200 10)
PIPE_REQS=$(pick 200 1000 50)
FLOOD_SECS=$(pick 4 20 3)
BIG=$(pick $((64 << 20)) $((1 << 30)) $((16 << 20)))
# Resident memory cap for hspy whatever the transfer size (docs/stress.md); under the sanitizer
# freed memory sits in a quarantine, so only boundedness is checked there.
RSS_CAP_KB=$(pick $((64 << 10)) $((64 << 10)) $((640 << 10)))

# wrk_rps URL SECONDS: requests per second wrk measured (1 thread, 16 connections).
wrk_rps() {
    wrk -t1 -c16 -d"$2"s "$1" 2>/dev/null | awk '/^Requests\/sec/ {printf "%d", $2}'
}

best() { printf '%s\n' "$@" | sort -n | tail -1; }

# --- slowloris while wrk measures -----------------------------------------------------------
scene slowloris "$SLOW slow clients (one head byte every ${SLOW_INTERVAL}s, --head-timeout ${HEAD_TIMEOUT}s) while wrk runs"
hs_start slow listen --max-conns $((SLOW + 500)) --head-timeout "${HEAD_TIMEOUT}s" 0
SPID=$HS_PID SPORT=$HS_PORT
URL=http://127.0.0.1:$SPORT/wrk
base1=$(wrk_rps "$URL" "$WRK_SECS")
stress slowloris "$SPORT" "$SLOW" $((WRK_SECS * 2 > HEAD_TIMEOUT ? WRK_SECS * 2 + 4 : HEAD_TIMEOUT + 4)) $SLOW_INTERVAL >"$WORK/slowloris.json" &
SLPID=$!
BG_PIDS+=("$SLPID")
# wait until the slow clients are connected
for ((i = 0; i < 100; i++)); do
    [ "$(fd_count "$SPID")" -ge "$SLOW" ] && break
    sleep 0.1
done
sleep 1
conns_during=$(fd_count "$SPID")
load1=$(wrk_rps "$URL" "$WRK_SECS")
mem "$SPID"
load2=$(wrk_rps "$URL" "$WRK_SECS")
wait "$SLPID"
base2=$(wrk_rps "$URL" "$WRK_SECS")
base=$(best "$base1" "$base2")
loaded=$(best "$load1" "$load2")
ratio=$((loaded * 100 / (base > 0 ? base : 1)))
sent "$SLOW slow clients: $(lastjson "$WORK/slowloris.json" connections) connections, $(lastjson "$WORK/slowloris.json" bytes_sent) head bytes; wrk 1 thread x 16 connections, ${WRK_SECS}s per round"
back "wrk alone $base1 and $base2 req/s, under slowloris $load1 and $load2 req/s: best $loaded vs $base = $ratio%; slow clients ended with 408: $(lastjson "$WORK/slowloris.json" 408), refused 503: $(lastjson "$WORK/slowloris.json" 503), reset: $(lastjson "$WORK/slowloris.json" reset); hspy held $conns_during descriptors"
check "throughput under slowloris at least 80% of normal ($ratio%)" test "$ratio" -ge 80
check "slow clients were held (hspy had $conns_during descriptors open)" test "$conns_during" -ge "$SLOW"
check "slow clients are cut at the head timeout with 408 (nearly all of them within the run)" \
    test "$(lastjson "$WORK/slowloris.json" 408)" -ge $((SLOW * 9 / 10)) -a "$(lastjson "$WORK/slowloris.json" other_status)" = 0
check "no slow client refused or reset" test "$(lastjson "$WORK/slowloris.json" 503)" = 0 -a "$(lastjson "$WORK/slowloris.json" reset)" = 0
check "slowloris: still serving" curl -sf -o /dev/null --max-time 5 "$URL"
hs_stop "$SPID" slow
verdict

# --- idle connections against the cap -------------------------------------------------------
scene idle "$IDLE idle connections against --max-conns $CAP"
hs_start idle listen --max-conns "$CAP" 0
IPID=$HS_PID
fds_before=$(fd_count "$IPID")
stress idle "$HS_PORT" "$IDLE" 2 >"$WORK/idle.json"
fds_during=$(lastjson "$WORK/idle.json" open)
sleep 0.5
fds_after=$(fd_count "$IPID")
sent "$IDLE connections, no bytes (connected in $(lastjson "$WORK/idle.json" connect_seconds) s), held 2 s"
back "open $(lastjson "$WORK/idle.json" open), refused with 503 $(lastjson "$WORK/idle.json" refused_503), closed silently $(lastjson "$WORK/idle.json" closed_silently), reset $(lastjson "$WORK/idle.json" reset), connect errors $(lastjson "$WORK/idle.json" connect_error); a request on an idle one: $(lastjson "$WORK/idle.json" request_on_idle)"
mem "$IPID"
note "hspy descriptors: $fds_before before, $fds_after after the clients left"
grep -o 'refused [^"]*' "$WORK/idle.err" | tail -1 | sed 's/^/    note:   stderr: /'
check "exactly the cap accepted ($(lastjson "$WORK/idle.json" open) of $CAP)" test "$(lastjson "$WORK/idle.json" open)" = "$CAP"
check "the rest refused with 503" test "$(lastjson "$WORK/idle.json" refused_503)" = $((IDLE - CAP))
check "no reset, no silent close, no connect error" test "$(lastjson "$WORK/idle.json" reset)$(lastjson "$WORK/idle.json" closed_silently)$(lastjson "$WORK/idle.json" connect_error)" = 000
check "an idle connection still answers (200)" test "$(lastjson "$WORK/idle.json" request_on_idle)" = 200
check "descriptors released ($fds_after after, $fds_before before)" test "$fds_after" -le $((fds_before + 2))
check "idle: still serving" curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$HS_PORT/after"
hs_stop "$IPID" idle
verdict

# --- pipelining storms ----------------------------------------------------------------------
scene pipeline "$PIPE_CONNS connections x $PIPE_REQS pipelined requests, answers read as they come"
hs_start pipe listen --json 0
PPID_=$HS_PID PPORT=$HS_PORT
stress pipeline "$PPORT" "$PIPE_CONNS" "$PIPE_REQS" >"$WORK/pipeline.json"
sent "$(lastjson "$WORK/pipeline.json" sent_requests) requests, $(lastjson "$WORK/pipeline.json" sent_bytes) bytes"
back "$(lastjson "$WORK/pipeline.json" answers) answers in order, $(lastjson "$WORK/pipeline.json" back_bytes) bytes in $(lastjson "$WORK/pipeline.json" seconds) s; out of order $(lastjson "$WORK/pipeline.json" out_of_order), errors $(lastjson "$WORK/pipeline.json" errors)"
mem "$PPID_"
total=$((PIPE_CONNS * PIPE_REQS))
check "every pipelined request answered, in order" test "$(lastjson "$WORK/pipeline.json" answers)" = "$total" -a "$(lastjson "$WORK/pipeline.json" out_of_order)" = 0
verdict

scene flood "4 clients pipelining as fast as hspy takes it for ${FLOOD_SECS}s without ever reading"
rss0=$(proc_kb "$PPID_" VmHWM)
for k in 1 2 3 4; do
    stress flood "$PPORT" "$FLOOD_SECS" >"$WORK/flood.$k.json" &
    BG_PIDS+=($!)
done
sleep 1
during=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PPORT/during-flood")
wait "${BG_PIDS[@]: -4}"
sent "$(for k in 1 2 3 4; do lastjson "$WORK/flood.$k.json" sent_requests; done | paste -sd+ | bc) requests written before hspy stopped taking them (stalled $(lastjson "$WORK/flood.1.json" stalled_seconds) s of ${FLOOD_SECS} s on client 1)"
back "nothing read by the flooders; another client during the flood got $during"
mem "$PPID_"
peak=$(proc_kb "$PPID_" VmHWM)
check "backpressure: hspy stopped reading the flooders" test "$(lastjson "$WORK/flood.1.json" stalled_seconds)" != 0
check "another client served during the flood" test "$during" = 200
check "memory under the cap during the flood ($(kb "$peak"))" test "$peak" -lt "$RSS_CAP_KB"
check "flood: still serving" curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$PPORT/after"
hs_stop "$PPID_" pipe
check "every answered pipelined request recorded" test "$(grep -c '"/c[0-9]*/r[0-9]*"' "$WORK/pipe.out")" -ge "$total"
verdict

# --- large transfers ------------------------------------------------------------------------
mb=$((BIG >> 20))
scene upload "uploads of $mb MiB through the echo (Content-Length and chunked)"
hs_start up listen --json 0
for how in length chunked; do
    flag=
    [ $how = chunked ] && flag=--chunked
    stress upload "$HS_PORT" "$BIG" $flag >"$WORK/upload.$how.json"
    sent "$mb MiB by $how ($(lastjson "$WORK/upload.$how.json" mb_per_s) MB/s)"
    back "$(lastjson "$WORK/upload.$how.json" back) bytes, status $(lastjson "$WORK/upload.$how.json" status)"
    check "$how upload: status 200" test "$(lastjson "$WORK/upload.$how.json" status)" = 200
done
check "the echo of the length-framed upload is identical (SHA-256)" \
    test "$(lastjson "$WORK/upload.length.json" sent_sha256)" = "$(lastjson "$WORK/upload.length.json" echo_sha256)"
mem "$HS_PID"
peak=$(proc_kb "$HS_PID" VmHWM)
check "memory under the cap ($(kb "$peak") < $(kb "$RSS_CAP_KB"))" test "$peak" -lt "$RSS_CAP_KB"
hs_stop "$HS_PID" up
check "both uploads recorded whole, with the payload's SHA-256" "$PYTHON" -c '
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[2])
assert len(ex) == 2, len(ex)
assert all(e["request"]["body_size"] == want for e in ex), [e["request"]["body_size"] for e in ex]
assert ex[0]["request"]["sha256"] == sys.argv[3], ex[0]["request"]["sha256"]
assert all("incomplete" not in e["flags"] for e in ex)' "$WORK/up.out" "$BIG" "$(lastjson "$WORK/upload.length.json" sent_sha256)"
verdict

scene download "a $mb MiB download from --serve"
mkdir -p "$WORK/files"
truncate -s "$BIG" "$WORK/files/big.bin"
hs_start down listen --json --serve "$WORK/files" 0
stress download /big.bin "$HS_PORT" "$BIG" >"$WORK/download.json"
sent "GET /big.bin"
back "$(lastjson "$WORK/download.json" body) body bytes, status $(lastjson "$WORK/download.json" status), $(lastjson "$WORK/download.json" mb_per_s) MB/s"
mem "$HS_PID"
peak=$(proc_kb "$HS_PID" VmHWM)
check "every byte arrived" test "$(lastjson "$WORK/download.json" body)" = "$BIG" -a "$(lastjson "$WORK/download.json" nonzero)" = 0
check "memory under the cap ($(kb "$peak"))" test "$peak" -lt "$RSS_CAP_KB"
hs_stop "$HS_PID" down
verdict

finish
