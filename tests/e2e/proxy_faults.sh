#!/usr/bin/env bash
# Failures around hspy proxy, each answered the documented way and recorded with its reason:
# upstream down (502), not accepting (connect timeout, 504), slow (504), closing or resetting
# before, during and after the response head, answering garbage, answering early; clients
# aborting mid-upload and mid-download. hspy keeps serving through all of it.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
recording_upstream

code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }

# Upstream down.
dead=$(free_port)
proxy_start --json "127.0.0.1:$dead"
check "upstream down: 502" test "$(code "$PURL/x")" = 502
check "upstream down: the reason in the body" grep -q 'cannot connect to upstream 127.0.0.1' "$T/body"
proxy_stop
check "upstream down: recorded" \
    test "$(pyq "$PROXY_OUT" '(ex[0]["response"]["status"], "upstream-fail" in ex[0]["flags"], "refused" in ex[0]["error"])')" = "(502, True, True)"

# An upstream whose accept queue is full: the connect times out.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
fill = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
time.sleep(60)' "$T/stuck.port" &
BG_PIDS+=("$!")
for i in $(seq 100); do [ -s "$T/stuck.port" ] && break; sleep 0.05; done
proxy_start --json --connect-timeout 1s "127.0.0.1:$(cat "$T/stuck.port")"
start=$(date +%s%N)
check "connect timeout: 504" test "$(code "$PURL/x")" = 504
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
# That it was the connect timeout says the reason below; the clock only says "not before".
check "connect timeout: not before a second ($elapsed ms)" test "$elapsed" -ge 900
check "connect timeout: the reason" grep -q 'timed out after 1000 ms (--connect-timeout)' "$T/body"
proxy_stop
check "connect timeout: flagged" test "$(pyq "$PROXY_OUT" '"timeout" in ex[0]["flags"]')" = True

# (3 s: a loaded machine cannot stretch the 300 ms answer past it.)
proxy_start --json --upstream-timeout 3s "$UP"
# Slow but in time, then too slow.
check "slow upstream in time: 200" test "$(code "$PURL/slow?ms=300")" = 200
start=$(date +%s%N)
check "silent upstream: 504" test "$(code "$PURL/slow?ms=10000")" = 504
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "silent upstream: 504 not before --upstream-timeout ($elapsed ms)" test "$elapsed" -ge 2900
check "silent upstream: the reason" grep -q 'upstream sent nothing for 3000 ms' "$T/body"
# Gone before answering, mid-head, with garbage.
check "upstream closes without answering: 502" test "$(code "$PURL/drop")" = 502
check "... says so" grep -q 'closed the connection before responding' "$T/body"
check "upstream closes mid-head: 502" test "$(code "$PURL/close-head")" = 502
check "... says how far it got" grep -q "after 25 bytes of a response head: 'HTTP/1.1" "$T/body"
check "upstream answers garbage: 502" test "$(code "$PURL/garbage")" = 502
check "... shows the bytes, escaped" grep -q "not answer with an HTTP/1.x response: 'SSH-2.0-OpenSSH_9.2" "$T/body"
# Mid-response: the client connection ends the same way the upstream's did.
$RAW "$PPORT" --send 'GET /close-mid HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/mid"
st=$?
check "upstream FIN mid-body: the client gets a FIN" test "$st" = 0
# "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" and the 1000 body bytes sent before the FIN.
check "... after the bytes that came" test "$(wc -c <"$T/mid")" = 1043
$RAW "$PPORT" --send 'GET /reset HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/rst"
st=$?
check "upstream reset mid-body: the client gets a reset" test "$st" = 3
# An early answer to an upload the upstream does not read.
head -c 3000000 /dev/zero >"$T/zeros"
check "early answer passes: 413" test "$(code --data-binary @"$T/zeros" "$PURL/early")" = 413
# Clients aborting: mid-upload (the upstream sees its request cut short), mid-download.
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"a" * 100000)
import time; time.sleep(0.3); s.close()' "$PPORT"
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /bytes?n=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
got = 0
while got < 1000000:
    got += len(s.recv(65536))
s.close()' "$PPORT"
for _ in $(seq 200); do grep -q '^aborted /upload' "$T/rec/events" 2>/dev/null && break; sleep 0.05; done
check "upstream saw the upload aborted" grep -q '^aborted /upload after 100000 body bytes' "$T/rec/events"
# Bytes past a bodiless response, in the same read: dropped, recorded on that exchange, and the
# upstream connection is not used again (the next request on the client connection gets a new one).
curl -s -o /dev/null -o "$T/after" -D "$T/after.head" "$PURL/stray" "$PURL/hello"
check "bytes past a 204: the next request is answered" test "$(cat "$T/after")" = hello
check "... on another upstream connection" grep -qi '^X-Req: 1' "$T/after.head"
# The same bytes a moment later, once the connection is idle: the log says so and the connection
# is closed (the summary counts it as out of step).
check "bytes past a 204, later: 204" test "$(code "$PURL/stray-late")" = 204
for i in $(seq 100); do grep -q 'sent 4 bytes after the response' "$PROXY_ERR" && break; sleep 0.05; done
check "... the log says so" grep -q "^hspy: the upstream sent 4 bytes after the response of #[0-9]*\.1 while its connection was idle; dropped, and that connection closed$" "$PROXY_ERR"
# Through all of that, normal service goes on.
check "still serving" test "$(curl -s "$PURL/hello")" = hello
proxy_stop
check "exit status 0 after the faults" test $? = 0
check "the summary counts the connection out of step" grep -q ' failed, 1 out of step;' "$PROXY_ERR"

J=$PROXY_OUT
q() { pyq "$J" "[(e[\"response\"] or {}).get(\"status\") for e in ex if e[\"request\"][\"target\"].startswith(\"$1\")][0]"; }
f() { pyq "$J" "[e[\"flags\"] for e in ex if e[\"request\"][\"target\"].startswith(\"$1\")][0]"; }
er() { pyq "$J" "[e[\"error\"] for e in ex if e[\"request\"][\"target\"].startswith(\"$1\")][0]"; }
check "recorded: 504 with timeout flags" test "$(f /slow?ms=10000)" = '["done", "timeout", "upstream-fail"]'
check "recorded: mid-head close is hspy's 502" test "$(q /close-head)" = 502
check "recorded: upstream FIN mid-body" test "$(f /close-mid)" = '["done", "incomplete", "upstream-fail"]'
check "recorded: upstream FIN mid-body, reason" test "$(er /close-mid | grep -c 'closed the connection mid-response after 1000 body bytes')" = 1
check "recorded: upstream reset mid-body" test "$(er /reset | grep -c 'reset the connection mid-response')" = 1
check "recorded: early answer" test "$(q /early)" = 413
check "recorded: bytes past a 204" test "$(pyq "$J" '"; ".join(w["code"] + ": " + w["detail"] for e in ex if e["request"]["target"] == "/stray" for w in e["warnings"])')" = \
    "body-on-bodiless-response: 5 bytes after the response from the upstream were dropped and the upstream connection closed"
check "recorded: upload abort" test "$(f /upload)" = '["done", "incomplete", "client-abort"]'
check "recorded: upload abort, reason" test "$(er /upload | grep -c 'after 100000 of 1000000 request body bytes; the upstream request was aborted')" = 1
check "recorded: download abort" test "$(pyq "$J" '[("client-abort" in e["flags"], "incomplete" in e["flags"]) for e in ex if e["request"]["target"].startswith("/bytes")][0]')" = "(True, True)"

# With a history (--save), the late bytes are recorded on the exchange they followed.
proxy_start --save "$T/late.har" "$UP"
check "late bytes, history kept: 204" test "$(code "$PURL/stray-late")" = 204
for i in $(seq 100); do grep -q 'sent 4 bytes after the response' "$PROXY_ERR" && break; sleep 0.05; done
proxy_stop
check "... recorded on that exchange" test "$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["log"]["entries"][0]
print([w["code"] for w in e["_hspy"]["warnings"]])' "$T/late.har")" = "['body-on-bodiless-response']"
finish
