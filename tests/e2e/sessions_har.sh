#!/usr/bin/env bash
# HAR as hspy's session format: every project capture read to HAR, that HAR read back and
# written again gives the same entries (ids, raw bytes, warnings, timings); the same from stdin
# and through --save (written at exit; sessions_live.sh ends a live session with SIGTERM). A browser-style HAR (no _hspy fields)
# opens with synthesized bytes and a note. Files that are no HAR fail with a message naming
# the problem and status 1. A HAR much larger than one read is streamed in flat memory.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
caps=$HSPY_SOURCE_DIR/captures
har() { python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/har.py" "$@"; }

# capture -> HAR -> read -> HAR: identical entries.
pairs=()
for cap in "$caps"/*.pcap "$caps"/*.pcapng; do
    name=$(basename "$cap")
    "$HSPY" read --no-tui --log none --har "$WORK/$name.a.har" "$cap" 2>/dev/null
    "$HSPY" read --no-tui --log none --har "$WORK/$name.b.har" "$WORK/$name.a.har" 2>"$WORK/err" ||
        { fail "$name: reading its HAR failed: $(cat "$WORK/err")"; continue; }
    [ -s "$WORK/err" ] && fail "$name: reading its HAR warned: $(cat "$WORK/err")"
    [ "$(wc -l <"$WORK/$name.a.har")" -gt 2 ] || fail "$name: no entries" # one line each
    pairs+=("$WORK/$name.a.har" "$WORK/$name.b.har")
done
check "${#pairs[@]} HAR files: capture -> HAR -> read -> HAR gives the same entries" har same "${pairs[@]}"

# A fuzzed capture whose request head ends with a CR alone at the start of a line, decided by
# the next request's first byte: its HAR reads back without "do not read as their record says"
# and with the same heads (the shared corpus only; skipped without it).
fuzzed=${HSPY_CORPUS:-}/pcap/zeek/http/http-inner-transfer-encoding-ossfuzz.pcap
if [ -f "$fuzzed" ]; then
    "$HSPY" read --no-tui --log none --har "$WORK/fz.a.har" "$fuzzed" 2>/dev/null
    "$HSPY" read --no-tui --log none --har "$WORK/fz.b.har" "$WORK/fz.a.har" 2>"$WORK/err"
    check "corpus ossfuzz capture: its HAR reads back without a warning" [ ! -s "$WORK/err" ]
    check "corpus ossfuzz capture: HAR -> read -> HAR gives the same entries" har same "$WORK/fz.a.har" "$WORK/fz.b.har"
    "$HSPY" read --no-tui --json "$WORK/fz.a.har" | python3 -c '
import json, sys; print(" ".join(str(json.loads(l)["request"] and json.loads(l)["request"]["method"]) for l in sys.stdin))' >"$WORK/methods"
    check "corpus ossfuzz capture: exchange 1 keeps its method ETA ($(cat "$WORK/methods"))" grep -qw ETA "$WORK/methods"
else
    echo "note: skipped the corpus ossfuzz HAR round trip: $fuzzed not found (shared corpus not available)"
fi

# The same from stdin, and the log lines of the HAR are those of the capture.
"$HSPY" read --no-tui --har "$WORK/a.har" "$caps/real-pipelining.pcap" >"$WORK/cap.log"
"$HSPY" read --no-tui --har "$WORK/b.har" - <"$WORK/a.har" >"$WORK/har.log"
check "HAR from stdin round-trips" har same "$WORK/a.har" "$WORK/b.har"
check "log lines of the HAR equal the capture's" cmp -s "$WORK/cap.log" "$WORK/har.log"
cat "$WORK/a.har" | "$HSPY" read --no-tui --log none --har "$WORK/b.har" -
check "HAR from a pipe round-trips" har same "$WORK/a.har" "$WORK/b.har"

# Exchange ids survive, also when the file lists them out of order (completion order).
"$HSPY" read --no-tui --log none --har "$WORK/a.har" "$caps/real-connect.pcap"
"$HSPY" read --no-tui --json "$WORK/a.har" | python3 -c '
import json, sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))' >"$WORK/ids"
check "ids kept in file order ($(cat "$WORK/ids"))" [ "$(cat "$WORK/ids")" = "$(har ids "$WORK/a.har" | tr '\n' ' ' | sed 's/ $//')" ]

# --save: the session at exit, in id order; the same entries --har streams.
"$HSPY" read --no-tui --log none --har "$WORK/a.har" --save "$WORK/s.har" "$caps/real-keepalive.pcap"
check "--save holds what --har holds" har same "$WORK/a.har" "$WORK/s.har"
"$HSPY" read --no-tui --log none --save "$WORK/s2.har" "$WORK/s.har"
check "--save of a read HAR round-trips" har same "$WORK/s.har" "$WORK/s2.har"
rc=0
"$HSPY" read --no-tui --log none --save "$WORK/nodir/x.har" "$caps/real-keepalive.pcap" 2>"$WORK/err" || rc=$?
verify "--save into a missing folder: status 1 and why" '[ "$rc" = 1 ] && grep -q "nodir/x.har: No such file" "$WORK/err"'

# A browser-style HAR: no _hspy, HTTP/2 pseudo-headers, decoded and base64 bodies, a body the
# HAR lacks, a failed request, times with an offset.
cat >"$WORK/browser.har" <<'EOF'
{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
 "pages": [{"startedDateTime": "2024-05-01T10:00:00.000Z", "id": "page_1", "title": "t",
            "pageTimings": {}}],
 "entries": [
  {"pageref": "page_1", "startedDateTime": "2024-05-01T10:00:00.010Z", "time": 35.2,
   "connection": "4711", "serverIPAddress": "93.184.216.34",
   "request": {"method": "GET", "url": "http://example.com/index.html?q=1", "httpVersion": "HTTP/1.1",
     "headers": [{"name": "Host", "value": "example.com"}, {"name": "Accept-Encoding", "value": "gzip"}],
     "queryString": [{"name": "q", "value": "1"}], "cookies": [], "headersSize": 90, "bodySize": 0},
   "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
     "headers": [{"name": "Content-Type", "value": "text/html"}, {"name": "Content-Encoding", "value": "gzip"},
                 {"name": "Content-Length", "value": "40"}],
     "cookies": [], "content": {"size": 26, "mimeType": "text/html", "text": "<html>hello, world</html>\n"},
     "redirectURL": "", "headersSize": 100, "bodySize": 40},
   "cache": {}, "timings": {"blocked": 1.5, "dns": 2, "connect": 10, "send": 0.2, "wait": 20, "receive": 1.5}},
  {"startedDateTime": "2024-05-01T12:00:00.500+02:00", "time": 12, "serverIPAddress": "[2001:db8::1]",
   "request": {"method": "POST", "url": "https://api.example.com:8443/v1/up", "httpVersion": "h2",
     "headers": [{"name": ":method", "value": "POST"}, {"name": ":authority", "value": "api.example.com:8443"},
                 {"name": "content-type", "value": "application/octet-stream"}],
     "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 4,
     "postData": {"mimeType": "application/octet-stream", "text": "AAEC/w==", "encoding": "base64"}},
   "response": {"status": 201, "statusText": "", "httpVersion": "h2",
     "headers": [{"name": "content-type", "value": "application/json"}], "cookies": [],
     "content": {"size": 11, "mimeType": "application/json", "text": "{\"ok\":true}"},
     "redirectURL": "", "headersSize": -1, "bodySize": -1},
   "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1}},
  {"startedDateTime": "2024-05-01T10:00:01Z", "time": 1,
   "request": {"method": "GET", "url": "http://example.com/big.bin", "httpVersion": "HTTP/1.1",
     "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
   "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [],
     "cookies": [], "content": {"size": 5000, "mimeType": "application/octet-stream"},
     "redirectURL": "", "headersSize": -1, "bodySize": 5000},
   "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}},
  {"startedDateTime": "2024-05-01T10:00:02Z", "time": 0,
   "request": {"method": "GET", "url": "http://example.com/down", "httpVersion": "",
     "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
   "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [], "cookies": [],
     "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1,
     "bodySize": -1, "_error": "net::ERR_CONNECTION_REFUSED"},
   "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}
 ]}}
EOF
"$HSPY" read --no-tui "$WORK/browser.har" >"$WORK/browser.log" 2>"$WORK/err" || fail "browser HAR: $(cat "$WORK/err")"
cat >"$WORK/browser.want" <<'EOF'
2024-05-01T10:00:00.010Z - #4711.1 GET /index.html?q=1 200 26 35.200ms
2024-05-01T10:00:00.500Z - #1.1 POST https://api.example.com:8443/v1/up 201 11 12.000ms
2024-05-01T10:00:01.000Z - #2.1 GET /big.bin 200 5000 1.000ms !capture-gap +gap
2024-05-01T10:00:02.000Z - #3.1 GET /down - - - +incomplete error: net::ERR_CONNECTION_REFUSED
EOF
check "browser HAR: the exchanges" diff "$WORK/browser.want" "$WORK/browser.log"
"$HSPY" read --no-tui --log none --har "$WORK/browser-out.har" "$WORK/browser.har"
har notes "$WORK/browser-out.har" >"$WORK/notes"
check "browser HAR: each exchange says it was synthesized" [ "$(grep -c 'imported from a HAR entry of WebInspector 537.36: HTTP/1.x bytes synthesized' "$WORK/notes")" = 4 ]
check "browser HAR: the decoded body dropped Content-Encoding" grep -q "Content-Encoding dropped" "$WORK/notes"
har raw "$WORK/browser-out.har" 1 request >"$WORK/post"
check "browser HAR: base64 request body restored" cmp -s <(tail -c 4 "$WORK/post") <(printf '\000\001\002\377')
"$HSPY" read --no-tui --log none --har "$WORK/browser-again.har" "$WORK/browser-out.har"
check "browser HAR imported, written, read again: stable" har same "$WORK/browser-out.har" "$WORK/browser-again.har"

# Files that are no HAR: what is wrong, where, status 1.
expect_error() { # NAME CONTENT MESSAGE
    printf '%s' "$2" >"$WORK/$1"
    local rc=0
    "$HSPY" read --no-tui "$WORK/$1" >/dev/null 2>"$WORK/err" || rc=$?
    if [ "$rc" != 1 ] || ! grep -qF "hspy: $WORK/$1: $3" "$WORK/err"; then
        fail "$1: status $rc, said: $(cat "$WORK/err") (want: $3)"
    fi
}
expect_error no-entries.har '{"log":{"version":"1.2","creator":{"name":"x"}}}' 'not a HAR 1.2 file: missing log.entries'
expect_error no-log.har '{"entries":[]}' 'not a HAR 1.2 file: missing log'
expect_error array.har '[{"log":{}}]' 'not a HAR 1.2 file: a HAR file is a JSON object'
expect_error version.har '{"log":{"version":"3.0","entries":[]}}' 'not a HAR 1.2 file: log.version is "3.0"'
expect_error entries.har '{"log":{"entries":{}}}' 'not a HAR 1.2 file: log.entries is not an array (line 1, column 19)'
expect_error syntax.har $'{"log":{"entries":[\n{"request": tru}]}}' 'not valid JSON at line 2, column'
expect_error cut.har '{"log":{"entries":[{"request":{"url":"http://a/"}},{"req' 'cut short inside log.entries after 1 entry'
rc=0
"$HSPY" read --no-tui --bpf 'tcp' "$WORK/browser.har" >/dev/null 2>"$WORK/err" || rc=$?
verify "--bpf on a HAR: a usage error" '[ "$rc" = 2 ] && grep -q "use --filter" "$WORK/err"'
# An entry that cannot be read is skipped with a warning; the others are shown.
printf '{"log":{"entries":[7,{"request":{"url":"http://a/x"}}]}}' >"$WORK/skip.har"
rc=0
"$HSPY" read --no-tui "$WORK/skip.har" >"$WORK/out" 2>"$WORK/err" || rc=$?
verify "an unreadable entry is skipped with a warning" '[ "$rc" = 0 ] && grep -q "1 entry could not be read (entry 1: not an object)" "$WORK/err" && grep -q "GET /x" "$WORK/out"'

# Large files stream: memory does not grow with the number of entries.
"$HSPY" read --no-tui --log none --har "$WORK/one.har" "$caps/real-keepalive.pcap"
python3 - "$WORK/one.har" "$WORK" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
for name, n in (("small", 2000), ("big", 6000)):
    with open("%s/%s.har" % (sys.argv[2], name), "w") as f:
        f.write('{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[')
        for i in range(n):
            e = entries[i % len(entries)]
            e["_hspy"]["id"] = i + 1
            f.write(("," if i else "") + json.dumps(e))
        f.write("]}}")
PY
# (AddressSanitizer keeps freed memory in quarantine: no memory figures there.)
if /usr/bin/time -f %M true 2>/dev/null &&
    ! grep -q '^HSPY_SANITIZE:BOOL=ON' "$HSPY_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    for name in small big; do
        /usr/bin/time -f %M -o "$WORK/$name.rss" "$HSPY" read --no-tui "$WORK/$name.har" >"$WORK/$name.log"
    done
    small=$(tail -1 "$WORK/small.rss") big=$(tail -1 "$WORK/big.rss")
    echo "HAR of $(($(stat -c %s "$WORK/small.har") >> 20)) MiB read in $((small >> 10)) MiB, of $(($(stat -c %s "$WORK/big.har") >> 20)) MiB in $((big >> 10)) MiB"
    verify "a large HAR is streamed (memory flat)" '[ "$big" -lt $((small + 2048)) ]'
else
    "$HSPY" read --no-tui "$WORK/big.har" >"$WORK/big.log"
fi
check "a large HAR: every entry read" [ "$(wc -l <"$WORK/big.log")" = 6000 ]
finish
