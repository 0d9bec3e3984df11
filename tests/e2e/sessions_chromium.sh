#!/usr/bin/env bash
# A HAR recorded by a real browser opens in hspy: headless Chromium loads a page from python's
# http.server (HTML, a stylesheet, a script, a PNG, a fetch POST with a JSON body that the server
# answers 501, a 404) and tests/e2e/lib/cdp_har.py writes what Chromium's Network domain saw as
# HAR. hspy reads it: one exchange per request with the right method, URL, status and body
# bytes, each noted as synthesized; the HAR hspy writes from it is valid (when har-validator
# is installed by sessions_validator). Skipped when Chromium is not installed.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || skip "Chromium is not installed (apt-get install chromium)"
command -v jq >/dev/null || skip "jq is needed"

port=$(free_port)
www=$WORK/www
mkdir "$www"
cat >"$www/index.html" <<'EOF'
<!doctype html>
<html><head><link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"><script src="app.js"></script></head>
<body><h1>hspy</h1><img src="pixel.png" alt="">
<script>
fetch("/api/echo?n=1", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({hello: "world"})}).then(() => fetch("/missing"));
</script></body></html>
EOF
echo 'h1 { color: teal }' >"$www/style.css"
echo 'console.log("hspy")' >"$www/app.js"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\x01\x01\x01\0\x18\xdd\x8d\xb4\0\0\0\0IEND\xaeB`\x82' >"$www/pixel.png"
start_bg python3 -m http.server --bind 127.0.0.1 --directory "$www" "$port"
wait_for_port "$port" || skip "python's http.server did not start"

profile=$WORK/profile
mkdir "$profile"
start_bg "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --disable-extensions --disable-dev-shm-usage --user-data-dir="$profile" \
    --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 about:blank 2>"$WORK/chromium.err"
for _ in $(seq 200); do
    [ -s "$profile/DevToolsActivePort" ] && break
    sleep 0.05
done
[ -s "$profile/DevToolsActivePort" ] || skip "Chromium did not start: $(tail -2 "$WORK/chromium.err")"
ws="ws://127.0.0.1:$(sed -n 1p "$profile/DevToolsActivePort")$(sed -n 2p "$profile/DevToolsActivePort")"
timeout 60 python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/cdp_har.py" "$ws" "http://127.0.0.1:$port/index.html" \
    "$WORK/chromium.har" || fail "recording the HAR through the DevTools protocol failed"
[ -s "$WORK/chromium.har" ] || { finish; }
echo "Chromium $("$browser" --version 2>/dev/null | awk '{ print $2 }') recorded $(jq '.log.entries | length' "$WORK/chromium.har") requests"

"$HSPY" read --no-tui --json "$WORK/chromium.har" >"$WORK/ex.json" 2>"$WORK/err" || fail "hspy cannot read it: $(cat "$WORK/err")"
check "no warnings while reading" [ ! -s "$WORK/err" ]
jq -r '"\(.request.method) \(.request.target) \(.response.status // "-")"' "$WORK/ex.json" | sort >"$WORK/seen"
cat >"$WORK/want" <<EOF
GET /app.js 200
GET /index.html 200
GET /missing 404
GET /pixel.png 200
GET /style.css 200
POST /api/echo?n=1 501
EOF
check "the requests with their statuses" diff "$WORK/want" "$WORK/seen"
check "every exchange is noted as synthesized" [ "$(jq -r .note "$WORK/ex.json" | grep -c 'imported from a HAR entry of Chromium')" = 6 ]
check "heads parsed without framing trouble" [ "$(jq '[.warnings[].code] | map(select(startswith("cl-") or startswith("te-"))) | length' "$WORK/ex.json" | sort -u)" = 0 ]
png=$(jq -r 'select(.request.target == "/pixel.png") | .id' "$WORK/ex.json")
"$HSPY" read --no-tui "$WORK/chromium.har" --export body --id "$png" -o "$WORK/pixel.out"
check "the PNG's bytes (base64 in the HAR) are exact" cmp "$www/pixel.png" "$WORK/pixel.out"
post=$(jq -r 'select(.request.method == "POST") | .id' "$WORK/ex.json")
"$HSPY" read --no-tui "$WORK/chromium.har" --export request-body --id "$post" -o "$WORK/post.out"
check "the POST body" [ "$(cat "$WORK/post.out")" = '{"hello":"world"}' ]
verify "server addresses and ports from the HAR" \
    '[ "$(jq -r ".server.ip, .server.port" "$WORK/ex.json" | sort -u | tr "\n" " ")" = "127.0.0.1 $port " ]'

"$HSPY" read --no-tui --log none --har "$WORK/again.har" "$WORK/chromium.har"
mod=$HSPY_BUILD_DIR/npm/node_modules/har-validator
if [ -f "$mod/package.json" ] && command -v node >/dev/null; then
    check "the HAR hspy writes from it is valid" node "$HSPY_SOURCE_DIR/tests/e2e/lib/harvalidate.js" "$mod" "$WORK/again.har"
fi
finish
