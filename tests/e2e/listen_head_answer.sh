#!/usr/bin/env bash
# hspy listen's own error answers to a HEAD request have the head a GET would get,
# Content-Length included, and no body (RFC 9110 9.3.2); nothing of them is recorded as a
# response of its own. 400 (two different Content-Lengths) answers a parsed head; 431 (a head
# over --head-max) and 408 (a head unfinished after --head-timeout) one never parsed, whose
# method a whole request line tells; the 503 of --max-conns a connection refused unread, by
# the request line it had sent when accepted. A request line not yet whole (or none) tells
# nothing: the answer keeps its body. (The steps are head_answers, in lib/listen.sh.)
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
ha_start() { listen_start "$@" && HA_PORT=$PORT HA_PID=$LISTEN_PID; }
ha_stop() { listen_stop; HA_OUT=$LISTEN_OUT; }
# No warning on any answer.
head_answers 400 'Content-Length: 1\r\nContent-Length: 2\r\n' \
    '[["GET", 400, false, true, []], ["GET /x HTTP/1.1", 408, false, true, []], ["GET /x HTTP/1.1", 431, false, true, []], ["HEAD", 400, true, true, []], ["HEAD /x HT", 408, false, true, []], ["HEAD /x HTTP/1.1", 408, true, true, []], ["HEAD /x HTTP/1.1", 431, true, true, []]]'
finish
