#!/usr/bin/env bash
# Holds without the interface: --intercept with --hold-timeout delays matching messages (listen
# and proxy, request and response), the outcome is on the exchange (warning hold-timeout, flags
# intercepted or killed), other requests are not delayed, a client that gives up while held is
# recorded and the server goes on; --intercept without the interface or --hold-timeout, and a
# bad expression, are refused.
source "$(dirname "$0")/lib/common.sh"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

# ms CMD...: runs CMD and prints how long it took in milliseconds.
ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# json_has FILE PYTHON-EXPR: some JSON line o of FILE makes the expression true.
json_has() {
    python3 - "$1" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if any(eval(sys.argv[2], {"o": o}) for o in lines) else 1)
PY
}

# --- listen: matching requests wait, then go on; others do not wait ---
PORT=$(free_port)
start_bg "$HSPY" listen --no-tui --json --intercept '~m POST' --hold-timeout 2s \
    "127.0.0.1:$PORT" >"$WORK/listen.json" 2>"$WORK/listen.err"
LPID=$LAST_PID
wait_for_port "$PORT" || fail "listen did not start"
# A GET sent while a POST is held is answered before the hold ends (judged by the order, not
# by how long the GET took: a held GET would end after the POST that came first).
t0=$(date +%s%N)
start_bg curl -s -m 10 -o /dev/null -d x=1 "http://127.0.0.1:$PORT/held"
HELD=$LAST_PID
curl -s -m 5 -o /dev/null "http://127.0.0.1:$PORT/free"
check "a GET is not delayed: answered while the POST is held" kill -0 "$HELD"
wait "$HELD"
t=$((($(date +%s%N) - t0) / 1000000))
check "a held POST waits for the timeout (${t} ms)" test "$t" -ge 1950
got=$(curl -s -m 5 -d x=1 "http://127.0.0.1:$PORT/echoed")
check "the held request still gets its answer (the echo)" grep -q 'POST /echoed HTTP/1.1' <<<"$got"
stop_pid "$LPID"
check "the timeout is on the exchange" \
    json_has "$WORK/listen.json" '"intercepted" in o["flags"] and any(w["code"] == "hold-timeout" for w in o["warnings"])'
check "the GET was not intercepted" \
    json_has "$WORK/listen.json" 'o["request"]["target"] == "/free" and "intercepted" not in o["flags"]'

# --- listen, --hold-timeout-action kill ---
PORT=$(free_port)
start_bg "$HSPY" listen --no-tui --json --intercept '~m POST' --hold-timeout 200ms \
    --hold-timeout-action kill "127.0.0.1:$PORT" >"$WORK/kill.json" 2>"$WORK/kill.err"
LPID=$LAST_PID
wait_for_port "$PORT" || fail "listen did not start"
curl -s -m 5 -d x=1 "http://127.0.0.1:$PORT/doomed" >/dev/null 2>&1
status=$?
check "the held request's connection is reset (curl exit 56, got $status)" test "$status" = 56
check "the server goes on" test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ok")" = 200
stop_pid "$LPID"
check "the exchange is killed" json_has "$WORK/kill.json" '"killed" in o["flags"]'

# --- proxy: request and response both held, the body intact upstream ---
start_recording_upstream "$WORK/rec"
PORT=$(free_port)
start_bg "$HSPY" proxy --no-tui --json --intercept '~u upload' --hold-timeout 300ms \
    "127.0.0.1:$PORT" "127.0.0.1:$UPORT" >"$WORK/proxy.json" 2>"$WORK/proxy.err"
PPID_=$LAST_PID
wait_for_port "$PORT" || fail "proxy did not start"
head -c 100000 /dev/urandom >"$WORK/body.bin"
want=$(sha256sum "$WORK/body.bin" | cut -d' ' -f1)
t0=$(date +%s%N)
got=$(curl -s -m 10 --data-binary "@$WORK/body.bin" "http://127.0.0.1:$PORT/upload")
t=$((($(date +%s%N) - t0) / 1000000))
check "request and response were each held (${t} ms)" test "$t" -ge 580
check "the upstream got the whole body, intact" test "${got% *}" = "100000 $want"
check "other requests are answered" test "$(curl -s -m 5 "http://127.0.0.1:$PORT/hello")" = hello
# A client that gives up (resets its connection) while held: recorded, and the proxy goes on.
# The reset comes once hspy has read the request (nothing unread on its end of the connection,
# as /proc/net/tcp shows it), so that it is held.
python3 - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /upload?gone HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
me = s.getsockname()[1]
def unread():
    for row in open("/proc/net/tcp").read().splitlines()[1:]:
        f = row.split()
        if int(f[1].rsplit(":", 1)[1], 16) == port and int(f[2].rsplit(":", 1)[1], 16) == me:
            return int(f[4].split(":")[1], 16)
    return None
deadline = time.time() + 10
while unread() != 0 and time.time() < deadline:
    time.sleep(0.01)  # (the hold lasts 300 ms)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
wait_until 30 grep -qF '"target":"/upload?gone"' "$WORK/proxy.json"
check "the proxy still serves" test "$(curl -s -m 5 "http://127.0.0.1:$PORT/hello")" = hello
stop_pid "$PPID_"
check "both holds timed out on the exchange" \
    json_has "$WORK/proxy.json" 'o["request"]["target"] == "/upload" and sum(w["code"] == "hold-timeout" for w in o["warnings"]) == 2'
# Not matching the filter, not held (a timing would only say the machine was quick).
check "other requests go through without a hold" \
    json_has "$WORK/proxy.json" 'o["request"]["target"] == "/hello" and "intercepted" not in o["flags"] and not o["warnings"]'
check "the abandoned hold is recorded" \
    json_has "$WORK/proxy.json" 'o["request"]["target"] == "/upload?gone" and "client-abort" in o["flags"] and "held" in (o.get("note") or o.get("error") or "")'
check "the abandoned request never reached the upstream" \
    sh -c "! grep -l 'upload?gone' '$WORK'/rec/req.* >/dev/null 2>&1"

# --- proxy, --hold-timeout-action kill: a killed response says it was not delivered ---
PORT=$(free_port)
start_bg "$HSPY" proxy --no-tui --json --intercept '(~s & ~c 4xx) | (~q & ~u doomed-request)' \
    --hold-timeout 200ms --hold-timeout-action kill "127.0.0.1:$PORT" "127.0.0.1:$UPORT" \
    >"$WORK/pkill.json" 2>"$WORK/pkill.err"
PPID_=$LAST_PID
wait_for_port "$PORT" || fail "proxy did not start"
curl -s -m 5 "http://127.0.0.1:$PORT/missing-doomed" >/dev/null 2>&1
status=$?
check "the held 404's client is reset (curl exit 56, got $status)" test "$status" = 56
curl -s -m 5 "http://127.0.0.1:$PORT/doomed-request" >/dev/null 2>&1
stop_pid "$PPID_"
check "the killed response is marked like a killed request (flag, warning, error)" \
    json_has "$WORK/pkill.json" 'o["request"]["target"] == "/missing-doomed" and o["response"]["status"] == 404 and "killed" in o["flags"] and any(w["code"] == "killed" and w["side"] == "response" for w in o["warnings"]) and "not delivered" in o["error"]'
check "the killed request is marked the same way" \
    json_has "$WORK/pkill.json" 'o["request"]["target"] == "/doomed-request" and o["response"] is None and "killed" in o["flags"] and any(w["code"] == "killed" and w["side"] == "request" for w in o["warnings"]) and "not sent upstream" in o["error"]'
check "a killed request has no duration" \
    json_has "$WORK/pkill.json" 'o["request"]["target"] == "/doomed-request" and o["duration_ns"] is None'

# --- a client that closes (FIN, not reset) while its message is held ends the hold at once ---
# gone PORT TARGET: sends a GET for TARGET, waits 300 ms, closes; prints nothing.
gone() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
s.close()
PY
}
# recorded_within FILE TARGET SECONDS: a JSON line for TARGET appears in FILE within SECONDS
# (the holds below last 30 s; what ended them is judged on the record).
recorded_within() {
    wait_until "$3" grep -qF "\"target\":\"$2\"" "$1"
}
GONE='"client-abort" in o["flags"] and any(w["code"] == "client-abort" for w in o["warnings"]) and "went away while the" in o["error"] and not any(w["code"] == "hold-timeout" for w in o["warnings"])'
PORT=$(free_port)
start_bg "$HSPY" listen --no-tui --json --intercept '~u gone' --hold-timeout 30s \
    "127.0.0.1:$PORT" >"$WORK/lgone.json" 2>"$WORK/lgone.err"
LPID=$LAST_PID
wait_for_port "$PORT" || fail "listen did not start"
gone "$PORT" /gone
check "listen: the hold ends when the client closes, not at the timeout" \
    recorded_within "$WORK/lgone.json" /gone 20
check "listen: no connection is left waiting" \
    test -z "$(ss -Htn state close-wait "( sport = :$PORT )" 2>/dev/null)"
stop_pid "$LPID"
check "listen: the exchange says the client went away, with no answer" \
    json_has "$WORK/lgone.json" 'o["request"]["target"] == "/gone" and o["response"] is None and '"$GONE"

PORT=$(free_port)
start_bg "$HSPY" proxy --no-tui --json --intercept '(~q & ~u gone-request) | (~s & ~u gone-response)' \
    --hold-timeout 30s "127.0.0.1:$PORT" "127.0.0.1:$UPORT" >"$WORK/pgone.json" 2>"$WORK/pgone.err"
PPID_=$LAST_PID
wait_for_port "$PORT" || fail "proxy did not start"
gone "$PORT" /hello?gone-request
gone "$PORT" /hello?gone-response
check "proxy: a held request ends when the client closes" \
    recorded_within "$WORK/pgone.json" /hello?gone-request 20
check "proxy: a held response ends when the client closes" \
    recorded_within "$WORK/pgone.json" /hello?gone-response 20
stop_pid "$PPID_"
check "proxy: the held request is marked, and never went upstream" \
    json_has "$WORK/pgone.json" 'o["request"]["target"] == "/hello?gone-request" and "not sent upstream" in o["error"] and '"$GONE"
check "proxy: the held response is marked as not delivered" \
    json_has "$WORK/pgone.json" 'o["request"]["target"] == "/hello?gone-response" and o["response"]["status"] == 200 and "not delivered" in o["error"] and '"$GONE"
check "proxy: the abandoned request never reached the upstream" \
    sh -c "! grep -l 'gone-request' '$WORK'/rec/req.* >/dev/null 2>&1"

# --- refused command lines ---
"$HSPY" listen --no-tui --intercept '~q' 0 >/dev/null 2>"$WORK/err1"
check "--intercept without the interface needs --hold-timeout (a usage error, exit 2)" test $? = 2
check "and says so" grep -q 'give --hold-timeout' "$WORK/err1"
check "with the hint" grep -q "^Try 'hspy listen --help'" "$WORK/err1"
"$HSPY" proxy --no-tui --intercept '~c (' --hold-timeout 1s 0 127.0.0.1:1 >/dev/null 2>"$WORK/err2"
check "a bad expression is a usage error (exit 2)" test $? = 2
check "which points at the problem" grep -q -- '--intercept:' "$WORK/err2"
"$HSPY" listen --hold-timeout-action maybe 0 >/dev/null 2>"$WORK/err3"
check "a bad --hold-timeout-action is a usage error" test $? = 2
finish
