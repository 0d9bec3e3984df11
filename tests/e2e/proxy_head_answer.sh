#!/usr/bin/env bash
# hspy's own answers to a HEAD request (here 502, the upstream being down) have the head a GET
# would get, Content-Length included, and no body (RFC 9110 9.3.2); nothing of them is recorded
# as a response of its own.
. "$(dirname "$0")/lib/proxy.sh"
need python3
proxy_setup

proxy_start --json "127.0.0.1:$(free_port)"
$RAW "$PPORT" --send 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n' >"$T/get"
$RAW "$PPORT" --send 'HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n' >"$T/head"
proxy_stop
length() { sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$1"; }
body_after_head() { python3 -c 'import sys; print(len(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1]))' "$1"; }
check "GET: 502 with a body of its Content-Length" test "$(body_after_head "$T/get")" = "$(length "$T/get")"
check "HEAD: 502 with the same Content-Length" test "$(length "$T/head")" = "$(length "$T/get")"
check "HEAD: nothing after the head" test "$(body_after_head "$T/head")" = 0
check "HEAD: one response" test "$(grep -ac '^HTTP/1.1' "$T/head")" = 1
check "two exchanges recorded, no phantom from hspy's own bytes" \
    test "$(pyq "$PROXY_OUT" '[(e["request"]["method"], e["response"]["status"], [w["code"] for w in e["warnings"]]) for e in ex]')" = \
    '[["GET", 502, ["upstream-error"]], ["HEAD", 502, ["upstream-error"]]]'
finish
