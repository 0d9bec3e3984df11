#!/usr/bin/env bash
# hspy listen's own error answers to a HEAD request have the head a GET would get,
# Content-Length included, and no body (RFC 9110 9.3.2); nothing of them is recorded as a
# response of its own. 400 (two different Content-Lengths) answers a parsed head; 431 (a head
# over --head-max) and 408 (a head unfinished after --head-timeout) one never parsed, whose
# method a whole request line tells; the 503 of --max-conns a connection refused unread, by
# the request line it had sent when accepted. A request line not yet whole (or none) tells
# nothing: the answer keeps its body.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"
BIG=$(head -c 2000 /dev/zero | tr '\0' a)

listen_start --json --head-max 1k --head-timeout 1s
for m in GET HEAD; do
    $RAW "$PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n" >"$T/400.$m"
    $RAW "$PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\nX-Big: $BIG\r\n\r\n" >"$T/431.$m"
done
# The 408s wait for --head-timeout: side by side.
EXTRA_PIDS=
for m in GET HEAD; do
    $RAW "$PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\n" >"$T/408.$m" &
    EXTRA_PIDS="$EXTRA_PIDS $!"
done
$RAW "$PORT" --send 'HEAD /x HT' >"$T/408.part" &
EXTRA_PIDS="$EXTRA_PIDS $!"
wait $EXTRA_PIDS
EXTRA_PIDS=
listen_stop
OUT=$LISTEN_OUT

# The cap: one connection held open, then connections over it, made while hspy is stopped so
# that what they send is there when hspy accepts (and refuses) them.
listen_start --max-conns 1
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
for m in GET HEAD; do
    sent_before_accept "$LISTEN_PID" "$PORT" "$T/503.$m" --send "$m /x HTTP/1.1\r\nHost: a\r\n\r\n"
done
sent_before_accept "$LISTEN_PID" "$PORT" "$T/503.none"
exec 3>&-
listen_stop

for s in 400 431 408 503; do
    same_head_no_body $s
done
check "408 to an unfinished request line: the body is sent" \
    test "$(body_after_head "$T/408.part")" = "$(answer_length "$T/408.GET")"
check "503 to a connection that sent nothing yet: the body is sent" \
    test "$(body_after_head "$T/503.none")" = "$(answer_length "$T/503.GET")"
# Seven exchanges, none made of hspy's own bytes; each answer complete as framed, without a
# body for the HEAD requests, and no warning on it.
check "the exchanges recorded, HEAD answers without a body, no phantom" \
    test "$(pyq "$OUT" 'sorted((r, e["response"]["status"], e["response"]["body_size"] == 0, "complete" in e["response"]["flags"], [w["code"] for w in e["warnings"] if w["side"] == "response"]) for e in ex for r in [e["request"]["method"] or e["request"]["raw"].split("\r")[0]])')" = \
    '[["GET", 400, false, true, []], ["GET /x HTTP/1.1", 408, false, true, []], ["GET /x HTTP/1.1", 431, false, true, []], ["HEAD", 400, true, true, []], ["HEAD /x HT", 408, false, true, []], ["HEAD /x HTTP/1.1", 408, true, true, []], ["HEAD /x HTTP/1.1", 431, true, true, []]]'
finish
