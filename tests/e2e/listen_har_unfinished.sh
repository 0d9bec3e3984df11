#!/usr/bin/env bash
# hspy listen's 408 after --head-timeout answers a request head that never finished: its HAR
# entry carries the method and the URL of the request line as far as it arrived (the host of a
# whole Host line that arrived, else the server's address), the query's pairs, and reading that
# HAR back gives the same entry. A method cut short (no target yet) keeps about:blank. A head
# over --head-max (431) is described the same way.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

listen_start --har "$T/a.har" --head-timeout 1s --head-max 1k
$RAW "$PORT" --send 'PUT /slow/path?x=1 HTTP/1.1\r\nHost: example.test\r\nCont' --timeout 20 >"$T/slow"
check "the unfinished head gets 408" grep -aq '^HTTP/1.1 408' "$T/slow"
$RAW "$PORT" --send 'DELE' --timeout 20 >"$T/none"
check "a method cut short gets 408" grep -aq '^HTTP/1.1 408' "$T/none"
$RAW "$PORT" --send "GET /big?y=2&z HTTP/1.1\r\nHost: big.test:81\r\nX: $(printf 'a%.0s' $(seq 1100))\r\n\r\n" \
    --timeout 20 >"$T/big"
check "a head over --head-max gets 431" grep -aq '^HTTP/1.1 431' "$T/big"
listen_stop
check "the entries: method, URL and query of what arrived, about:blank for nothing" python3 - \
    "$T/a.har" "$PORT" <<'EOF'
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
got = sorted((e["request"]["method"], e["request"]["url"], e["response"]["status"],
              [(q["name"], q["value"]) for q in e["request"]["queryString"]]) for e in entries)
want = sorted([("PUT", "http://example.test/slow/path?x=1", 408, [("x", "1")]),
               ("GET", "http://big.test:81/big?y=2&z", 431, [("y", "2"), ("z", "")]),
               ("", "about:blank", 408, [])])
assert got == want, got
EOF
"$HSPY" read --no-tui --log none --har "$T/b.har" "$T/a.har" 2>"$T/err"
check "the HAR reads back to the same entries" python3 "$(dirname "$0")/lib/har.py" same "$T/a.har" "$T/b.har"
check "reading it back says nothing" test ! -s "$T/err"
finish
