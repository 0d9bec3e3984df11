#!/usr/bin/env bash
# hspy's own answers to a HEAD request have the head a GET would get, Content-Length included,
# and no body (RFC 9110 9.3.2); nothing of them is recorded as a response of its own. 502 (the
# upstream being down) answers a parsed head; 431 (a head over --head-max) and 408 (a head
# unfinished after --head-timeout) one never parsed, whose method a whole request line tells;
# the 503 of --max-conns a connection refused unread, by the request line it had sent when
# accepted. A request line not yet whole (or none) tells nothing: the answer keeps its body.
# (The steps are head_answers, in lib/listen.sh.)
. "$(dirname "$0")/lib/proxy.sh"
need python3
proxy_setup
# An upstream nobody listens on.
ha_start() { proxy_start "$@" "127.0.0.1:$(free_port)" && HA_PORT=$PPORT HA_PID=$PROXY_PID; }
ha_stop() { proxy_stop; HA_OUT=$PROXY_OUT; }
# No warning on any answer but the 502's reason (upstream-error).
head_answers 502 '' \
    '[["GET", 502, false, true, ["upstream-error"]], ["GET /x HTTP/1.1", 408, false, true, []], ["GET /x HTTP/1.1", 431, false, true, []], ["HEAD", 502, true, true, ["upstream-error"]], ["HEAD /x HT", 408, false, true, []], ["HEAD /x HTTP/1.1", 408, true, true, []], ["HEAD /x HTTP/1.1", 431, true, true, []]]'
check "HEAD: one response" test "$(grep -ac '^HTTP/1.1' "$T/502.HEAD")" = 1
finish
