#!/usr/bin/env bash
# Limits of hspy proxy, as in listen: the connection cap (503 and a report), the head size
# (431 for a request, 502 for a response), the head timeout (408), the idle timeout, requests
# whose length cannot be known (400, never forwarded), and a smuggling-shaped request forwarded
# as sent with its warnings.
#
# What a timeout ended is judged by the outcome (which answer, who closed, what was recorded),
# with waits far longer than any plausible delay; the clock only says "not before" the timeout
# set, which a slow (sanitized, loaded) machine cannot make fail. The idle timeout is 30 s but
# for its own check (a second proxy), so that nothing else can be ended by it unnoticed.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
recording_upstream
upstream_start echo
ECHO=$UPORT

proxy_start --json --max-conns 2 --head-max 1k --head-timeout 1s --idle-timeout 30s "$UP"

# Two idle connections fill the cap; a third is refused.
python3 -c '
import socket, sys, time
a = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
b = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.3)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(3)
print(c.recv(4096).split(b"\r\n")[0].decode())' "$PPORT" >"$T/cap"
check "past --max-conns: 503" test "$(cat "$T/cap")" = "HTTP/1.1 503 Service Unavailable"
check "the refusal is reported" grep -q 'refused a connection: 2 open, the limit (--max-conns) is 2' "$PROXY_ERR"
# (Their close reaches hspy a moment later: retried, bounded, until a slot is free.)
for i in $(seq 100); do [ "$(curl -s "$PURL/hello")" = hello ] && break; sleep 0.1; done
check "after they close, requests go through" test "$(curl -s "$PURL/hello")" = hello

# Head size.
check "request head over --head-max: 431" \
    test "$(curl -s -o "$T/431" -w '%{http_code}' -H "X-Big: $(head -c 2000 /dev/zero | tr '\0' a)" "$PURL/hello")" = 431
check "response head over --head-max: 502" test "$(curl -s -o "$T/502" -w '%{http_code}' "$PURL/bighead")" = 502
check "... with the reason" grep -q 'upstream response head larger than 1024 bytes (--head-max)' "$T/502"

# Slow head: 408 after --head-timeout (1 s); the idle timeout (30 s) would give no 408 before
# the client's own 20 s are over.
start=$(date +%s%N)
$RAW "$PPORT" --send 'GET /hello HTTP/1.1\r\nHo' --pause 0.3 --send 'st: x\r\n' --timeout 20 >"$T/slow"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "slow head: 408" grep -aq '^HTTP/1.1 408' "$T/slow"
check "slow head: not before --head-timeout ($elapsed ms)" test "$elapsed" -ge 900

# Lengths that cannot be known: 400, and the upstream never sees the request.
before=$(ls "$T/rec" | wc -l)
$RAW "$PPORT" --send 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello' >"$T/cl"
check "conflicting Content-Length: 400" grep -aq '^HTTP/1.1 400' "$T/cl"
$RAW "$PPORT" --send 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello' >"$T/te"
check "Transfer-Encoding without chunked: 400" grep -aq '^HTTP/1.1 400' "$T/te"
$RAW "$PPORT" --send '\x16\x03\x01\x00\xa5hello\r\n\r\n' >"$T/tls"
check "not HTTP: 400" grep -aq '^HTTP/1.1 400' "$T/tls"
check "none of them reached the upstream" test "$(ls "$T/rec" | wc -l)" = "$before"

# CL.TE: chunked framing wins (as RFC 9112 says); forwarded as sent, with its warning.
$RAW "$PPORT" --send 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' >"$T/clte"
check "CL.TE: framed as chunked" grep -aq "^3 $(printf abc | sha256sum | cut -c1-64) chunked" "$T/clte"
rec=$(grep -l 'Content-Length: 4' "$T"/rec/req.* | head -1)
printf 'POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' "$UP" >"$T/clte.want"
check "CL.TE: forwarded byte for byte" cmp -s "$rec" "$T/clte.want"
# HTTP/0.9 (to a TCP echo, which answers the way a 0.9 server would: no head): the request
# goes as sent, the answer comes back as the body.
$RAW "$PPORT" --send "GET http://127.0.0.1:$ECHO/hello\r\n" --timeout 1 >"$T/09"
printf 'GET http://127.0.0.1:%s/hello\r\n' "$ECHO" >"$T/09.want"
check "HTTP/0.9 request and answer passed as sent" cmp -s "$T/09" "$T/09.want"

# Broken framing mid-message: what framing allowed passes, then the connection closes. The
# upstream then keeps its connection open and silent for 60 s and the idle timeout is 30 s: a
# close before the client's own 20 s can only come from the broken framing.
$RAW "$PPORT" --send 'GET /badchunk HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 20 >"$T/badchunk"
ended=$?
check "broken chunked response: the good part passes" grep -aq '^hello' "$T/badchunk"
check "broken chunked response: the rest does not" test -z "$(grep -a 'more' "$T/badchunk")"
check "broken chunked response: hspy ends the client connection (rawclient $ended, 4 = timed out)" \
    test "$ended" != 4
$RAW "$PPORT" --send 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n' --timeout 5 >"$T/badreq"
check "broken chunked request: the connection ends" test $? = 0
check "broken chunked request: 400 with the reason" grep -aq '^400 Bad Request: request body framing broke (chunk-size-invalid) after 8 body bytes' "$T/badreq"
proxy_stop
check "the refusals summed up at exit" \
    grep -q '^hspy: 1 connection refused in all (--max-conns 2); [0-9]* accepted, at most 2 open at once$' "$PROXY_ERR"

J=$PROXY_OUT
check "broken chunked response recorded with its warning" \
    test "$(pyq "$J" '[w["code"] for e in ex if e["request"]["target"] == "/badchunk" for w in e["warnings"]]' | grep -c chunk-size-invalid)" = 1
check "... ended by it, not by a timeout" \
    test "$(pyq "$J" '[e["flags"] for e in ex if e["request"]["target"] == "/badchunk"][0]')" = '["done", "incomplete"]'
check "431 recorded as rejected" test "$(pyq "$J" '[e["flags"] for e in ex if (e["response"] or {}).get("status") == 431][0]')" = '["done", "incomplete", "rejected"]'
check "408 recorded as a timeout" test "$(pyq "$J" '["timeout" in e["flags"] for e in ex if (e["response"] or {}).get("status") == 408][0]')" = True
check "... of the head (--head-timeout), not the idle one" \
    test "$(pyq "$J" '[e["error"] for e in ex if (e["response"] or {}).get("status") == 408]')" = '["answered 408: request head not complete after 1000 ms (--head-timeout)"]'
check "CL.TE warning recorded" test "$(pyq "$J" '[w["code"] for e in ex for w in e["warnings"] if w["code"] == "cl-and-te"]')" = '["cl-and-te"]'
# The HTTP/0.9 answer has no head: its bytes are the response body in the JSON record.
r09='[e["response"] for e in ex if "http09" in (e["response"] or {}).get("flags", [])][0]'
check "HTTP/0.9 answer recorded as the body" \
    test "$(pyq "$J" "json.dumps($r09[\"body\"])")" = "\"GET http://127.0.0.1:$ECHO/hello\\r\\n\""
check "... framed by the close" test "$(pyq "$J" "$r09[\"body_framing\"]")" = close
check "bad length recorded with its warning" test "$(pyq "$J" '[e["error"] for e in ex if any(w["code"] == "cl-conflict" for w in e["warnings"])][0]')" = "answered 400: request length cannot be determined"

# Idle keep-alive client connection: closed by hspy after --idle-timeout (the client would give
# up only after 20 s), not before it, and nothing recorded for the idle time.
proxy_start --json --idle-timeout 2s "$UP"
idle_close "$PPORT" /hello/idle '^hello'
proxy_stop
check "... and only the request recorded" \
    test "$(pyq "$PROXY_OUT" '[(e["request"]["target"], e["flags"]) for e in ex]')" = '[["/hello/idle", ["done"]]]'
finish
