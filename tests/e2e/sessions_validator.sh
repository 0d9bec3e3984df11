#!/usr/bin/env bash
# The HAR hspy writes is valid HAR 1.2 by an independent validator: the npm package
# har-validator (installed once into the build tree; skipped with a message when npm or the
# registry is not available). Checked: --har of every project capture, --save, HAR written
# after reading HAR back, and HAR written from a browser-style HAR (synthesized exchanges, a
# multipart upload among them, written back with its postData.params).
source "$(dirname "$0")/lib/common.sh"
caps=$HSPY_SOURCE_DIR/captures
command -v npm >/dev/null && command -v node >/dev/null || skip "npm and node are needed for har-validator"
mod=$HSPY_BUILD_DIR/npm/node_modules/har-validator
if [ ! -f "$mod/package.json" ]; then
    npm install --prefix "$HSPY_BUILD_DIR/npm" --no-audit --no-fund --no-package-lock \
        --prefer-offline har-validator@5.1.5 >"$WORK/npm.log" 2>&1 ||
        skip "npm could not install har-validator: $(tail -3 "$WORK/npm.log")"
fi

files=()
for cap in "$caps"/*.pcap "$caps"/*.pcapng; do
    name=$(basename "$cap")
    "$HSPY" read --no-tui --log none --har "$WORK/$name.har" "$cap" 2>/dev/null
    files+=("$WORK/$name.har")
done
"$HSPY" read --no-tui --log none --save "$WORK/save.har" "$caps/real-pipelining.pcap"
"$HSPY" read --no-tui --log none --har "$WORK/again.har" "$WORK/real-connect.pcap.har"
files+=("$WORK/save.har" "$WORK/again.har")
cat >"$WORK/browser.har" <<'JSON'
{"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "126.0"}, "entries": [
 {"startedDateTime": "2024-05-01T12:00:00.500+02:00", "time": 3, "serverIPAddress": "2001:db8::1",
  "request": {"method": "POST", "url": "https://example.com/form?x=1", "httpVersion": "HTTP/2",
   "headers": [{"name": "Host", "value": "example.com"}, {"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 7,
   "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}},
  "response": {"status": 302, "statusText": "Found", "httpVersion": "HTTP/2",
   "headers": [{"name": "Location", "value": "/next"}, {"name": "Set-Cookie", "value": "s=1; Path=/; HttpOnly"}],
   "cookies": [], "content": {"size": 0, "mimeType": "text/html"}, "redirectURL": "/next",
   "headersSize": -1, "bodySize": 0},
  "cache": {}, "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 1, "wait": 1, "receive": 1}},
 {"startedDateTime": "2024-05-01T12:00:01.000Z", "time": 3,
  "request": {"method": "POST", "url": "http://example.com/up", "httpVersion": "HTTP/1.1",
   "headers": [{"name": "Host", "value": "example.com"}],
   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1,
   "postData": {"mimeType": "multipart/form-data; boundary=xx", "params": [{"name": "a", "value": "1"}, {"name": "f", "fileName": "f.txt", "contentType": "text/plain", "value": "hi"}]}},
  "response": {"status": 204, "statusText": "No Content", "httpVersion": "HTTP/1.1", "headers": [],
   "cookies": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
  "cache": {}, "timings": {"send": 1, "wait": 1, "receive": 1}}]}}
JSON
"$HSPY" read --no-tui --log none --har "$WORK/from-browser.har" "$WORK/browser.har" ||
    fail "the browser-style HAR does not read"
files+=("$WORK/from-browser.har")
python3 -c 'import json, sys
post = json.load(open(sys.argv[1]))["log"]["entries"][1]["request"]["postData"]
assert [p.get("fileName") for p in post["params"]] == [None, "f.txt"], post' "$WORK/from-browser.har" ||
    fail "the multipart params do not come back as params"
check "${#files[@]} HAR files valid by har-validator" node "$HSPY_SOURCE_DIR/tests/e2e/lib/harvalidate.js" "$mod" "${files[@]}"
finish
