#!/usr/bin/env bash
# The summary line hspy proxy prints at exit counts every way an exchange ended, the client's
# timeouts too: a head unfinished after --head-timeout (408), a client stalled mid-upload for
# --idle-timeout (408), an idle tunnel, next to the upstream's silence (504); a tunnel the
# upstream resets is cut. Exchanges still in flight when hspy stops say so in their error, as in
# listen, and so does a request an early answer of the upstream cut short. Outcomes are judged
# by what was answered and recorded; waits are far longer than the timeouts set.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
recording_upstream
upstream_start echo
ECHO=$UPORT
# A TCP server that resets each connection once it has read something.
cat >"$T/resetter.py" <<'EOF'
import os, socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
EOF
bg python3 "$T/resetter.py" "$T/rport"
for i in $(seq 200); do [ -s "$T/rport" ] && break; sleep 0.05; done
RESETTER=$(cat "$T/rport")

proxy_start --json --head-timeout 1s --idle-timeout 2s --upstream-timeout 1s "$UP"
check "a plain request" test "$(curl -s "$PURL/hello")" = hello
$RAW "$PPORT" --send 'GET /hello HTTP/1.1\r\nHo' --timeout 20 >"$T/head"
check "an unfinished head: 408" grep -aq '^HTTP/1.1 408' "$T/head"
$RAW "$PPORT" --send 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc' --timeout 20 >"$T/stall"
check "a stalled upload: 408" grep -aq '^HTTP/1.1 408' "$T/stall"
$RAW "$PPORT" --send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\n\r\nping" --timeout 20 >"$T/tunnel"
check "an idle tunnel is closed (its bytes went through first)" \
    test "$(tail -c 4 "$T/tunnel")" = ping
check "the upstream's silence: 504" test "$(curl -s -o /dev/null -w '%{http_code}' "$PURL/silent")" = 504
$RAW "$PPORT" --send "CONNECT 127.0.0.1:$RESETTER HTTP/1.1\r\n\r\nping" --timeout 20 >"$T/reset"
check "a tunnel to the resetting server is opened" grep -aq '^HTTP/1.1 200 Connection established' "$T/reset"
# An upstream that answers before the body is all there: passed on, then both connections close.
$RAW "$PPORT" --send 'POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc' --timeout 20 >"$T/early"
check "an early answer passes: 413" grep -aq '^HTTP/1.1 413' "$T/early"
check "hspy proxy exits with status 0" proxy_stop
check "seven exchanges recorded" test "$(pyq "$PROXY_OUT" 'len(ex)')" = 7
check "four of them ended by a timeout" \
    test "$(pyq "$PROXY_OUT" 'sum("timeout" in e["flags"] for e in ex)')" = 4
check "the tunnel the upstream reset is recorded as its failure" \
    test "$(pyq "$PROXY_OUT" 'ex[5]["error"]')" = "upstream reset the connection; the tunnel was reset"
check "the summary counts the four timeouts and the cut tunnel" \
    grep -q '^hspy: proxy: 6 requests, 0 not forwarded, 2 tunnels; .*; answered 0 x 502, 4 timeouts, 0 rejected; 1 cut, 0 client aborts; 0 ambiguous requests ended their connections$' "$PROXY_ERR"
check "the request the early answer cut short says it was hspy's close, not the client" \
    test "$(pyq "$PROXY_OUT" 'ex[6]["error"]')" = \
    "the upstream answered before the request was complete (after 3 of 10 body bytes): hspy closed both connections after the response"

# In flight when hspy stops: the exchange says why it is incomplete.
proxy_start --json "$UP"
$RAW "$PPORT" --send 'GET /silent/stop HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 20 >/dev/null &
CLIENT=$!
for i in $(seq 200); do grep -qs '^GET /silent/stop' "$T"/rec/req.* && break; sleep 0.05; done
check "the request reached the upstream" grep -qs '^GET /silent/stop' "$T"/rec/req.*
check "hspy proxy exits with status 0" proxy_stop
wait "$CLIENT"
check "the exchange in flight is recorded, incomplete" \
    test "$(pyq "$PROXY_OUT" '[(e["request"]["target"], "incomplete" in e["flags"]) for e in ex]')" = '[["/silent/stop", true]]'
check "... saying hspy stopped" \
    test "$(pyq "$PROXY_OUT" 'ex[0]["error"]')" = "hspy stopped while this exchange was in flight"
finish
