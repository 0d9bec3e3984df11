#!/usr/bin/env bash
# hspy listen with a raw-socket client: pipelining answered in order, HTTP/1.0 keep-alive,
# malformed requests (400, 431) that close only their own connection, bare LF, timeouts, the
# connection cap.
. "$(dirname "$0")/lib/listen.sh"
need python3 curl
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

# The idle timeout is 30 s but for its own check (a second listen), so that nothing else can be
# ended by it unnoticed; what a timeout ended is judged by the answer and the record, the clock
# only says "not before" (which a slow machine cannot make fail).
listen_start --json --head-timeout 1s --idle-timeout 30s --max-conns 3

# Pipelining: three requests (one chunked) and a close, in one write; answers in order.
$RAW "$PORT" --send 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/pipe"
check "pipelined answers in order" test "$(grep -ao '^\(GET\|POST\) /[0-9a-z]*' "$T/pipe" | tr '\n' ' ')" = "GET /1 POST /2 GET /3 "
check "three responses" test "$(grep -ac '^HTTP/1.1 200 OK' "$T/pipe")" = 3
check "chunked echo payload" grep -aq '^abc' "$T/pipe"
check "request after close not answered" test -z "$(grep -a 'never' "$T/pipe")"

# HTTP/1.0 keep-alive: two requests on one connection, the first says keep-alive.
$RAW "$PORT" --send 'GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' --pause 0.2 --send 'GET /k2 HTTP/1.0\r\n\r\n' >"$T/ka"
check "HTTP/1.0 keep-alive honoured" test "$(grep -ac '^HTTP/1.1 200' "$T/ka")" = 2
check "HTTP/1.0 keep-alive stated" grep -aqi '^connection: keep-alive' "$T/ka"

# Bare LF line ends: accepted (the warning is on the exchange).
$RAW "$PORT" --send 'GET /lf HTTP/1.1\nHost: x\nConnection: close\n\n' >"$T/lf"
check "bare LF request answered" grep -aq '^HTTP/1.1 200' "$T/lf"

# Not HTTP: 400 and the connection closes; another client is unaffected.
$RAW "$PORT" --send '\x16\x03\x01\x00\xa5garbage\r\n\r\n' >"$T/bad" &
badpid=$!
curl -s -o "$T/ok" "$URL/other"
wait $badpid
check "garbage gets 400" grep -aq '^HTTP/1.1 400 Bad Request' "$T/bad"
check "400 closes" grep -aqi '^connection: close' "$T/bad"
check "others unaffected" grep -q '^GET /other' "$T/ok"

# Length cannot be known: 400.
$RAW "$PORT" --send 'POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nhello' >"$T/cl"
check "bad Content-Length gets 400" grep -aq '^HTTP/1.1 400' "$T/cl"

# A head over --head-max: 431.
python3 -c 'import sys; sys.stdout.write("GET / HTTP/1.1\\r\\nX-Big: " + "a"*70000 + "\\r\\n\\r\\n")' >"$T/big.req"
$RAW "$PORT" --send "$(cat "$T/big.req")" >"$T/big"
check "huge head gets 431" grep -aq '^HTTP/1.1 431' "$T/big"

# Broken chunked body: the connection closes after what could be answered.
$RAW "$PORT" --send 'POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n' --timeout 3 >"$T/chunk"
check "bad chunk size closes the connection" test $? -eq 0
check "cut response has no last chunk" test "$(tail -c 5 "$T/chunk" | od -An -c | tr -d ' ')" != '0\r\n\r\n'

# Slow head (slowloris): 408 at --head-timeout (1 s, not the idle timeout of 30 s: the
# client's own 20 s would be over first), recorded as a timeout.
start=$(date +%s%N)
$RAW "$PORT" --send 'GET /slow HTTP/1.1\r\nHo' --pause 0.5 --send 'st: x\r\n' --timeout 20 >"$T/slow"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "slow head gets 408" grep -aq '^HTTP/1.1 408' "$T/slow"
check "408 not before --head-timeout ($elapsed ms)" test "$elapsed" -ge 900

# The cap: with 3 connections open, the 4th gets 503 and closes; the first ones still work.
python3 - "$PORT" >"$T/cap" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
time.sleep(0.2)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(3)
data = b""
try:
    while True:
        d = extra.recv(4096)
        if not d:
            break
        data += d
except OSError:
    pass
print("refused:", data.split(b"\r\n")[0].decode())
held[0].sendall(b"GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
held[0].settimeout(3)
print("held:", held[0].recv(4096).split(b"\r\n")[0].decode())
PY
check "over the cap: 503" grep -q '^refused: HTTP/1.1 503' "$T/cap"
check "under the cap: served" grep -q '^held: HTTP/1.1 200' "$T/cap"
check "refusal reported" grep -q 'refused a connection: 3 open, the limit (--max-conns) is 3' "$LISTEN_ERR"

# A storm against the cap: every refusal is counted in the report within its interval (1 s),
# in a few lines rather than one per connection; the summary at exit has the exact total.
python3 - "$PORT" >"$T/storm" <<'PY'
import socket, sys
port = int(sys.argv[1])
held = []
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(3)
    s.recv(4096)  # served: the slot is taken
    held.append(s)
storm = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
refused = 0
for s in storm:
    s.settimeout(3)
    try:
        refused += s.recv(4096).startswith(b"HTTP/1.1 503")
    except OSError:
        pass
print(refused)
PY
check "storm: all 20 refused" test "$(cat "$T/storm")" = 20
# (Its interval is 1 s; the wait allows for a slow machine, and still ends before the exit
# summary could have written the count.)
for _ in $(seq 200); do grep -q '(21 refused so far)' "$LISTEN_ERR" && break; sleep 0.05; done
check "storm: the report catches up while hspy runs, not only at exit" grep -q '(21 refused so far)$' "$LISTEN_ERR"
check "storm: a few lines, not one per refusal" test "$(grep -c 'hspy: refused' "$LISTEN_ERR")" -le 4

listen_stop
check "summary at exit: the exact count" \
    grep -q '^hspy: 21 connections refused in all (--max-conns 3); [0-9]* accepted, at most 3 open at once$' "$LISTEN_ERR"
J=$LISTEN_OUT
check "bare-lf warning recorded" test "$(pyq "$J" '[w["code"] for e in ex if e["request"]["target"]=="/lf" for w in e["warnings"]]')" = '["bare-lf"]'
check "garbage exchange rejected" test "$(pyq "$J" '[("rejected" in e["flags"], e["response"]["status"]) for e in ex if e["response"] and e["response"]["status"]==400][0]')" = "(True, 400)"
check "431 exchange flagged" test "$(pyq "$J" '[e["response"]["status"] for e in ex if "head-too-large" in [w["code"] for w in e["warnings"]]]')" = "[431]"
check "timeout recorded" test "$(pyq "$J" '[("timeout" in e["flags"], e["response"]["status"]) for e in ex if e["response"] and e["response"]["status"]==408][0]')" = "(True, 408)"
check "chunk error on the exchange" test "$(pyq "$J" '"chunk-size-invalid" in [w["code"] for e in ex if e["request"]["target"]=="/ch" for w in e["warnings"]]')" = True
check "never answered, but recorded as such" test "$(pyq "$J" '[(e["response"], e["error"]) for e in ex if e["request"]["target"]=="/never"]')" = '[[null, "not answered: the connection closed after the previous response"]]'
check "the 408 says it was the head timeout" \
    test "$(pyq "$J" '[e["error"] for e in ex if (e["response"] or {}).get("status") == 408]')" = '["request head not complete after 1000 ms (--head-timeout)"]'

# Idle keep-alive connection: closed by hspy after --idle-timeout (the client would give up
# only after 20 s), not before it; nothing recorded for the idle time.
listen_start --json --idle-timeout 2s
idle_close "$PORT" /idle '^HTTP/1.1 200'
listen_stop
check "... and only the request recorded" \
    test "$(pyq "$LISTEN_OUT" '[(e["request"]["target"], e["flags"]) for e in ex]')" = '[["/idle", ["done"]]]'
finish
