#!/usr/bin/env bash
# hspy listen's 408 after --head-timeout answers a request head that never finished: its HAR
# entry carries the method and the URL of the request line as far as it arrived (the server's
# address for the host: the Host line is not read from a head not parsed), and reading that HAR
# back gives the same entry. A method cut short (no target yet) keeps about:blank.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

listen_start --har "$T/a.har" --head-timeout 1s
$RAW "$PORT" --send 'PUT /slow/path?x=1 HTTP/1.1\r\nHost: example.test\r\nCont' --timeout 20 >"$T/slow"
check "the unfinished head gets 408" grep -aq '^HTTP/1.1 408' "$T/slow"
$RAW "$PORT" --send 'DELE' --timeout 20 >"$T/none"
check "a method cut short gets 408" grep -aq '^HTTP/1.1 408' "$T/none"
listen_stop
check "the 408s' entries: method and URL of what arrived, about:blank for nothing" python3 - \
    "$T/a.har" "$PORT" <<'EOF'
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
got = sorted((e["request"]["method"], e["request"]["url"], e["response"]["status"]) for e in entries)
want = sorted([("PUT", "http://127.0.0.1:%s/slow/path?x=1" % sys.argv[2], 408),
               ("", "about:blank", 408)])
assert got == want, got
EOF
"$HSPY" read --no-tui --log none --har "$T/b.har" "$T/a.har" 2>"$T/err"
check "the HAR reads back to the same entries" python3 "$(dirname "$0")/lib/har.py" same "$T/a.har" "$T/b.har"
check "reading it back says nothing" test ! -s "$T/err"
finish
