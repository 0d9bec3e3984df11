#!/usr/bin/env bash
# hspy listen's own error answers to a HEAD request (here 400 for two different
# Content-Lengths) have the head a GET would get, Content-Length included, and no body
# (RFC 9110 9.3.2); nothing of them is recorded as a response of its own.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

listen_start --json
$RAW "$PORT" --send 'GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' >"$T/get"
$RAW "$PORT" --send 'HEAD /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' >"$T/head"
listen_stop
length() { sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$1"; }
body_after_head() { python3 -c 'import sys; print(len(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1]))' "$1"; }
check "GET: 400 with a body of its Content-Length" test "$(body_after_head "$T/get")" = "$(length "$T/get")"
check "HEAD: 400 with the same Content-Length" test "$(length "$T/head")" = "$(length "$T/get")"
check "HEAD: nothing after the head" test "$(body_after_head "$T/head")" = 0
check "two exchanges recorded, both rejected, no phantom" \
    test "$(pyq "$LISTEN_OUT" '[(e["request"]["method"], e["response"]["status"], "rejected" in e["flags"], e["response"]["body_size"]) for e in ex]')" = \
    "[[\"GET\", 400, true, $(length "$T/get")], [\"HEAD\", 400, true, 0]]"
finish
