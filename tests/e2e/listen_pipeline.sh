#!/usr/bin/env bash
# hspy listen answers a request and closes the connection while pipelined requests wait behind
# it: those requests are still recorded, each as an exchange flagged incomplete that says why.
# The smuggled request of a CL+TE request (answered with Connection: close) must be visible; so
# must the request after a raw response whose length disagrees with its body.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"
NOT_ANS='not answered: the connection closed after the previous response'

# Content-Length and Transfer-Encoding: framed as chunked, answered, closed. GET /inner came
# inside the Content-Length the request claimed.
listen_start --json
$RAW "$PORT" --send 'POST /smug HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /inner HTTP/1.1\r\nHost: a\r\n\r\n' >"$T/smug"
listen_stop
check "CL+TE: one answer, then the connection closes" \
    test "$(grep -ac '^HTTP/1.1 200' "$T/smug")" = 1
check "CL+TE: the smuggled request is recorded" \
    test "$(pyq "$LISTEN_OUT" '[(e["request"]["method"], e["request"]["target"]) for e in ex]')" = \
    '[["POST", "/smug"], ["GET", "/inner"]]'
check "... unanswered, incomplete, saying why" \
    test "$(pyq "$LISTEN_OUT" '(ex[1]["response"], "incomplete" in ex[1]["flags"], ex[1]["error"])')" = \
    "(None, True, '$NOT_ANS')"
check "... with a bytes-after-message warning" \
    test "$(pyq "$LISTEN_OUT" '[w["code"] for w in ex[1]["warnings"]]')" = '["bytes-after-message"]'

# A raw response whose Content-Length (3) disagrees with its 11-byte body closes the
# connection; the second GET is in the line log.
printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhello world' >"$T/liar.http"
listen_start --raw "$T/liar.http"
$RAW "$PORT" --send 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n' >/dev/null
listen_stop
check "raw liar: the second GET is logged, not answered" \
    grep -q "GET /2 .*+incomplete error: $NOT_ANS" "$LISTEN_OUT"
finish
