#!/usr/bin/env bash
# Exports of one exchange, executed against a server that records the bytes it gets:
#  - every request of the project captures that curl can send as it was (the export says so by
#    carrying no note) arrives byte for byte as the raw-request export holds it when its curl
#    command runs (connected to the recorder with curl's --connect-to, as a user redirects it);
#  - a request body that is not text goes to a file beside the command and arrives exactly,
#    the command run from another directory;
#  - the nc script sends malformed requests (bare LF, obs-fold, NUL, CR alone, bytes past
#    ASCII) byte for byte through netcat-openbsd;
#  - raw and body exports equal the HAR's bytes and the decoded payload; raw bytes are refused
#    on a terminal; unknown ids and formats are errors.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
caps=$HSPY_SOURCE_DIR/captures
command -v curl >/dev/null || skip "curl is needed"
command -v nc >/dev/null && nc -h 2>&1 | grep -q -- '-N.*Shutdown' || skip "netcat-openbsd (nc -N) is needed"
command -v jq >/dev/null || skip "jq is needed"

recorder() { # MODE DIR: starts a recorder, sets PORT
    mkdir -p "$2"
    start_bg python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/recorder.py" "$2/port" "$2" "$1"
    for _ in $(seq 100); do [ -s "$2/port" ] && break; sleep 0.05; done
    PORT=$(cat "$2/port")
}

# ---- curl: captured requests sent again --------------------------------------------------
recorder http "$WORK/rec"
printf 'connect-to = "::127.0.0.1:%s"\nsilent\noutput = "/dev/null"\n' "$PORT" >"$WORK/.curlrc"
sent=0 same=0 noted=0
for cap in real-keepalive.pcap real-pipelining.pcap real-chunked-gzip.pcap real-ipv6.pcap \
    real-python.pcapng real-sll2.pcap real-large-body.pcap gen-malformed.pcap real-malformed.pcap; do
    for id in $("$HSPY" read --no-tui --json "$caps/$cap" | jq -r 'select(.request.method) | .id'); do
        "$HSPY" read --no-tui "$caps/$cap" --export curl --id "$id" -o "$WORK/cmd.sh" 2>/dev/null ||
            continue
        "$HSPY" read --no-tui "$caps/$cap" --export raw-request --id "$id" -o "$WORK/want.bin" 2>/dev/null
        if [ "$(grep -c '^# ' "$WORK/cmd.sh")" -gt 1 ]; then
            noted=$((noted + 1)) # curl cannot send it as it was, and the command says why
            continue
        fi
        sent=$((sent + 1))
        CURL_HOME=$WORK timeout 10 bash "$WORK/cmd.sh" || { fail "$cap #$id: the curl command failed"; continue; }
        got=$WORK/rec/$sent.bin
        for _ in $(seq 100); do [ -e "$got" ] && break; sleep 0.05; done
        if cmp -s "$WORK/want.bin" "$got"; then
            same=$((same + 1))
        else
            fail "$cap #$id: curl sent other bytes: $(cmp "$WORK/want.bin" "$got" 2>&1 | head -1)"
            diff <(cat -A "$WORK/want.bin") <(cat -A "$got") | head -8
        fi
    done
done
echo "curl commands: $same of $sent byte-exact, $noted carry a note of what curl cannot send"
verify "curl commands reproduce the requests (at least 8)" '[ "$sent" -ge 8 ] && [ "$same" = "$sent" ]'
check "requests curl cannot send come with a note" [ "$noted" -ge 2 ]

# A binary request body: --data-binary @FILE, the file written beside the output.
cat >"$WORK/bin.har" <<'EOF'
{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [
 {"startedDateTime": "2024-05-01T10:00:00Z", "time": 1, "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0},
  "request": {"method": "PUT", "url": "http://upload.example/blob?x=1", "httpVersion": "HTTP/1.1",
   "headers": [{"name": "Host", "value": "upload.example"}, {"name": "Content-Type", "value": "application/octet-stream"},
               {"name": "X-Trace", "value": "it's \"quoted\" $HOME `x`"}],
   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 6,
   "postData": {"mimeType": "application/octet-stream", "text": "AAEC/wpA", "encoding": "base64"}},
  "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [], "cookies": [],
   "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": -1}}]}}
EOF
(cd "$WORK" && "$HSPY" read --no-tui bin.har --export curl --id 1 -o put.sh 2>"$WORK/err")
check "binary body: the command reads it from the file beside it" grep -qF -- "--data-binary @\"\$(dirname -- \"\$0\")\"/'put.sh.body'" "$WORK/put.sh"
check "binary body: the file holds the body" cmp -s "$WORK/put.sh.body" <(printf '\000\001\002\377\n@')
"$HSPY" read --no-tui "$WORK/bin.har" --export raw-request --id 1 -o "$WORK/want.bin"
sent=$((sent + 1))
# Run from another directory: the command finds its body file beside itself.
(cd / && CURL_HOME=$WORK timeout 10 bash "$WORK/put.sh") || fail "the PUT command failed"
for _ in $(seq 100); do [ -e "$WORK/rec/$sent.bin" ] && break; sleep 0.05; done
check "binary body: curl sends the request byte for byte" cmp "$WORK/want.bin" "$WORK/rec/$sent.bin"

# Trailing whitespace in header values is sent: curl sends what -H holds, to the end.
printf 'GET /ws HTTP/1.1\r\nHost: ws.example\r\nX-Sp: v  \r\nX-Tab:\tv\t\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n' >"$WORK/ws.req"
printf 'HTTP/1.1 204 No Content\r\n\r\n' >"$WORK/ws.resp"
jq -n --rawfile q "$WORK/ws.req" --rawfile r "$WORK/ws.resp" '{log: {version: "1.2", creator: {name: "hspy", version: "t"}, _hspy: {version: 1}, entries: [
 {startedDateTime: "2024-05-01T10:00:00Z", time: 0, cache: {}, timings: {send: 0, wait: 0, receive: 0},
  request: {method: "GET", url: "http://ws.example/ws", httpVersion: "HTTP/1.1", headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0},
  response: {status: 204, statusText: "No Content", httpVersion: "HTTP/1.1", headers: [], cookies: [], content: {size: 0, mimeType: "x-unknown"}, redirectURL: "", headersSize: -1, bodySize: 0},
  _hspy: {version: 1, id: 1, flags: ["done"], request: {raw: ($q | @base64), kept_size: ($q | length), wire_size: ($q | length), flags: ["started", "head", "complete"]},
          response: {raw: ($r | @base64), kept_size: ($r | length), wire_size: ($r | length), flags: ["started", "head", "complete"]}}}]}}' >"$WORK/ws.har"
"$HSPY" read --no-tui "$WORK/ws.har" --export curl --id 1 -o "$WORK/ws.sh" 2>"$WORK/err"
check "trailing whitespace: the command keeps it" grep -qF -- "-H 'X-Sp: v  '" "$WORK/ws.sh"
check "trailing whitespace: no note (curl sends it as it was)" [ "$(grep -c '^# ' "$WORK/ws.sh")" = 1 ]
# A command written to a file is a script: executable, with a #! line, run as it is.
check "a curl command in a file starts with #!" [ "$(head -1 "$WORK/ws.sh")" = '#!/usr/bin/env bash' ]
check "a curl command in a file is executable" [ -x "$WORK/ws.sh" ]
sent=$((sent + 1))
CURL_HOME=$WORK timeout 10 "$WORK/ws.sh" || fail "the trailing-whitespace command failed"
for _ in $(seq 100); do [ -e "$WORK/rec/$sent.bin" ] && break; sleep 0.05; done
check "trailing whitespace: curl sends the request byte for byte" cmp "$WORK/ws.req" "$WORK/rec/$sent.bin"

# ---- nc: malformed requests byte for byte --------------------------------------------------
recorder eof "$WORK/nc"
b64() { printf '%b' "$1" | base64 -w0; }
{
    printf '{"log":{"version":"1.2","entries":['
    i=0
    for req in 'GET /bare HTTP/1.1\nHost: a\n\n' 'GET /fold HTTP/1.1\r\nX: a\r\n  b\r\n\r\n' \
        'GET /nul\0x HTTP/1.1\r\nX-A: \001\177\377\303\251 %% \\ '"'"'q'"'"'\r\n\r\n' \
        'GET /cr HTTP/1.1\rHost: a\r\n\r\n' 'POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\0\r\n'; do
        i=$((i + 1))
        [ $i -gt 1 ] && printf ','
        printf '{"_hspy":{"version":1,"id":%d,"flags":["done"],"request":{"raw":"%s","flags":["started"]}}}' \
            "$i" "$(b64 "$req")"
    done
    printf ']}}'
} >"$WORK/malformed.har"
for id in 1 2 3 4 5; do
    "$HSPY" read --no-tui "$WORK/malformed.har" --export nc --id "$id" -o "$WORK/nc$id.sh"
    "$HSPY" read --no-tui "$WORK/malformed.har" --export raw-request --id "$id" -o "$WORK/nc$id.want"
    LC_ALL=C grep -q '[^[:print:][:space:]]' "$WORK/nc$id.sh" && fail "nc script $id holds raw bytes"
    timeout 10 sh "$WORK/nc$id.sh" 127.0.0.1 "$PORT" >/dev/null || fail "nc script $id failed"
    for _ in $(seq 100); do [ -e "$WORK/nc/$id.bin" ] && break; sleep 0.05; done
    check "nc script $id sends the request byte for byte ($(stat -c %s "$WORK/nc$id.want") bytes)" \
        cmp "$WORK/nc$id.want" "$WORK/nc/$id.bin"
done
# The captures' malformed requests too (their own server's address, overridden).
"$HSPY" read --no-tui "$caps/real-malformed.pcap" --export nc --id 1 -o "$WORK/rm.sh"
"$HSPY" read --no-tui "$caps/real-malformed.pcap" --export raw-request --id 1 -o "$WORK/rm.want"
check "the nc script names the captured server" grep -q '^HOST=${1:-127.0.0.1}$' "$WORK/rm.sh"
timeout 10 sh "$WORK/rm.sh" 127.0.0.1 "$PORT" >/dev/null
for _ in $(seq 100); do [ -e "$WORK/nc/6.bin" ] && break; sleep 0.05; done
check "nc script of a captured CL+TE request: byte for byte" cmp "$WORK/rm.want" "$WORK/nc/6.bin"

# ---- raw and body exports ------------------------------------------------------------------
"$HSPY" read --no-tui --log none --har "$WORK/gz.har" "$caps/real-chunked-gzip.pcap"
"$HSPY" read --no-tui "$caps/real-chunked-gzip.pcap" --export raw-response --id 1 >"$WORK/resp.bin"
python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/har.py" raw "$WORK/gz.har" 0 response >"$WORK/resp.har"
check "raw-response equals the HAR's raw bytes" cmp "$WORK/resp.bin" "$WORK/resp.har"
"$HSPY" read --no-tui "$caps/real-chunked-gzip.pcap" --export body --id 1 -o "$WORK/body.gz"
"$HSPY" read --no-tui "$caps/real-chunked-gzip.pcap" --export body-decoded --id 1 -o "$WORK/body.txt"
check "body is the gzip payload as sent (chunks joined)" gzip -t "$WORK/body.gz"
check "body-decoded is that payload decoded" cmp <(zcat "$WORK/body.gz") "$WORK/body.txt"
check "body-decoded is text of the size the HAR says" [ "$(stat -c %s "$WORK/body.txt")" = "$(jq '.log.entries[0].response.content.size' "$WORK/gz.har")" ]

# Truncated bytes are exported as kept, with a warning.
"$HSPY" read --no-tui --body-keep 1k "$caps/real-large-body.pcap" --export body --id 1 -o "$WORK/cut.bin" 2>"$WORK/err"
verify "a body cut by --body-keep: 1024 bytes and a warning" '[ "$(stat -c %s "$WORK/cut.bin")" = 1024 ] && grep -q "lacks bytes" "$WORK/err"'

# Errors: no such exchange, nothing to export, raw bytes to a terminal, usage.
rc=0; "$HSPY" read --no-tui "$caps/real-keepalive.pcap" --export curl --id 99 2>"$WORK/err" || rc=$?
verify "unknown id: status 1" '[ "$rc" = 1 ] && grep -q "no exchange 99 in .*real-keepalive.pcap (3 exchanges)" "$WORK/err"'
rc=0; "$HSPY" read --no-tui "$WORK/malformed.har" --export raw-response --id 1 2>"$WORK/err" >/dev/null || rc=$?
verify "no response to export: status 1" '[ "$rc" = 1 ] && grep -q "exchange 1: the exchange has no response" "$WORK/err"'
rc=0; "$HSPY" read "$caps/real-keepalive.pcap" --export curl 2>"$WORK/err" || rc=$?
verify "--export without --id: usage error" '[ "$rc" = 2 ] && grep -q -- "--export needs --id" "$WORK/err"'
rc=0; "$HSPY" read "$caps/real-keepalive.pcap" --export pdf --id 1 2>"$WORK/err" || rc=$?
verify "an unknown format is named with the known ones" '[ "$rc" = 2 ] && grep -q "is not one of curl, nc, raw-request" "$WORK/err"'
if command -v script >/dev/null; then
    script -qec "$HSPY read $caps/real-keepalive.pcap --export raw-response --id 1; echo status=\$?" /dev/null >"$WORK/tty" 2>&1 || true
    verify "raw bytes are not written to a terminal" 'grep -q "refusing to write raw bytes to a terminal" "$WORK/tty" &&
        grep -q "status=1" "$WORK/tty" && ! grep -q "nginx" "$WORK/tty"'
fi
finish
