#!/usr/bin/env bash
# Nothing lost, nothing changed: 1500 varied exchanges (uploads with a length or chunked in
# random pieces, downloads with a length or chunked, keep-alive, pipelining, Connection: close)
# through hspy proxy, every body checked by SHA-256 at the far end, every exchange recorded;
# then SIGTERM in the middle of a transfer still records the exchange in flight, and hspy exits 0.
# HSPY_VARIED_COUNT sets the number of exchanges (a longer soak).
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
COUNT=${HSPY_VARIED_COUNT:-1500}
upstream_start http
UP=127.0.0.1:$UPORT

proxy_start --json "$UP"
out=$(python3 "$LIB/varied.py" "$PPORT" "$COUNT" 7)
echo "$out" | head -5
check "every exchange came back intact" test "$(echo "$out" | head -1)" = "exchanges=$COUNT ok=$COUNT bad=0"
proxy_stop
check "exit status 0" test $? = 0
check "every exchange recorded" test "$(wc -l <"$PROXY_OUT")" = "$COUNT"
errors=$(pyq "$PROXY_OUT" '[e["error"] for e in ex if e["error"]]')
[ "$errors" = "[]" ] || echo "recorded errors: $errors"
check "no failures recorded" test "$errors" = "[]"
check "upstream connections reused" test "$(pyq "$PROXY_OUT" 'sum("reused connection" in e["note"] for e in ex) > len(ex) // 2')" = True

# SIGTERM while a response is streaming: the exchange is recorded, flagged as cut.
proxy_start --json "$UP"
curl -s --limit-rate 1M -o "$T/streaming" "$PURL/bytes?n=50000000" &
BG_PIDS+=("$!")
wait_until 30 test -s "$T/streaming"
proxy_stop
check "exit status 0 after SIGTERM mid-transfer" test $? = 0
check "the exchange in flight is recorded" \
    test "$(pyq "$PROXY_OUT" '[("incomplete" in e["flags"], e["response"]["status"]) for e in ex if e["request"]["target"].startswith("/bytes")][0]')" = "(True, 200)"
finish
