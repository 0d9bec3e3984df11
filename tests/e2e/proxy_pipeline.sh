#!/usr/bin/env bash
# Pipelined requests on a connection that closes after a response: the requests hspy had
# received but could not forward any more are still recorded, each as an exchange of its own,
# flagged incomplete and saying why; bytes that are no request are recorded too. Upstreams: an
# HTTP/1.0 server that closes after every response (python's http.server), an HTTP/1.1 one that
# answers with Connection: close, and none at all (hspy answers 502 and closes).
. "$(dirname "$0")/lib/proxy.sh"
need python3
proxy_setup
mkdir -p "$T/www"
echo hello >"$T/www/a.txt"
HPORT=$(free_port)
bg python3 -m http.server "$HPORT" --bind 127.0.0.1 --directory "$T/www"
wait_port "$HPORT"

PIPE='GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
NOT_FWD='not forwarded: the connection closed after the previous response'

# HTTP/1.0 upstream: one response, then the connection closes with three requests unforwarded.
proxy_start --json "127.0.0.1:$HPORT"
$RAW "$PPORT" --send "$PIPE" >"$T/r1"
check "HTTP/1.0 upstream: the client gets one response" test "$(grep -c '^HTTP/1' "$T/r1")" = 1
proxy_stop
check "HTTP/1.0 upstream: four exchanges recorded" test "$(pyq "$PROXY_OUT" 'len(ex)')" = 4
check "... the first answered" \
    test "$(pyq "$PROXY_OUT" '(ex[0]["request"]["target"], ex[0]["response"]["status"])')" = "('/a.txt', 200)"
check "... the three others as received, in order" \
    test "$(pyq "$PROXY_OUT" '[(e["seq"], e["request"]["method"], e["request"]["target"]) for e in ex[1:]]')" = \
    '[[2, "GET", "/nope"], [3, "HEAD", "/a.txt"], [4, "GET", "/a.txt"]]'
check "... never answered, flagged incomplete" \
    test "$(pyq "$PROXY_OUT" 'all(e["response"] is None and "incomplete" in e["flags"] and "complete" in e["request"]["flags"] for e in ex[1:])')" = True
check "... saying why" \
    test "$(pyq "$PROXY_OUT" "all(e['error'] == '$NOT_FWD' for e in ex[1:])")" = True
check "... with a bytes-after-message warning" \
    test "$(pyq "$PROXY_OUT" 'all([w["code"] for w in e["warnings"]] == ["bytes-after-message"] for e in ex[1:])')" = True
check "... every byte sent is on record" \
    test "$(pyq "$PROXY_OUT" 'sum(e["request"]["wire_size"] for e in ex)')" = \
    "$(printf "$PIPE" | wc -c)"
check "... counted in the summary" grep -q '^hspy: proxy: 1 request, 3 not forwarded,' "$PROXY_ERR"

# The line log says it too; bytes that cannot start a request are recorded as well.
proxy_start "127.0.0.1:$HPORT"
$RAW "$PPORT" --send 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01garbage' >/dev/null
proxy_stop
check "line log: the unforwarded request" \
    grep -q "#[0-9]*\.2 GET /b .*+incomplete error: $NOT_FWD" "$PROXY_OUT"
check "line log: the bytes after it" grep -q "#[0-9]*\.3 .*error: $NOT_FWD" "$PROXY_OUT"

# HTTP/1.1 upstream answering with Connection: close mid-pipeline.
upstream_start http
proxy_start --json "127.0.0.1:$UPORT"
$RAW "$PPORT" --send 'GET /early HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/r2"
proxy_stop
check "Connection: close upstream: the first answered" \
    test "$(pyq "$PROXY_OUT" 'ex[0]["response"]["status"]')" = 413
check "... the second recorded, not forwarded" \
    test "$(pyq "$PROXY_OUT" '(len(ex), ex[1]["request"]["target"], ex[1]["error"])')" = \
    "(2, '/hello', '$NOT_FWD')"

# No upstream: hspy's own 502 closes the connection; the request after it is recorded.
proxy_start --json "127.0.0.1:$(free_port)"
$RAW "$PPORT" --send 'GET /x HTTP/1.1\r\nHost: x\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/r3"
proxy_stop
check "upstream down: 502, then the next request recorded" \
    test "$(pyq "$PROXY_OUT" '[(e["request"]["target"], (e["response"] or {}).get("status"), e["error"]) for e in ex][1]')" = \
    "('/y', None, '$NOT_FWD')"
finish
