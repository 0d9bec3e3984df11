#!/usr/bin/env bash
# What the echo and the records of `hspy listen` show of what a client sent, where bytes could
# go missing: a chunked request's trailer fields and chunk extensions (text and JSON echo, and
# the record, body kept or not); every NUL byte of a head counted on its one warning; what arrived of the request
# line of a head answered 408 or 431 (access log line and --json), and no body to HEAD there.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

listen_start --json --body-keep 4
CHUNKED='POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n'
TRAILER='0\r\nX-Sum: abc\r\nX-Odd: \x1b[31m\xe9\r\n\r\n'
$RAW "$PORT" --send "$CHUNKED\r\n5\r\nhello\r\n$TRAILER" >"$T/trailer.text"
$RAW "$PORT" --send "${CHUNKED}Accept: application/json\r\n\r\n5\r\nhello\r\n$TRAILER" \
    >"$T/trailer.json"
$RAW "$PORT" --send 'GET /nul HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\nX-B: \x00\x00\r\n\r\n' >/dev/null
EXT='POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n'
EXT_BODY='5;sig="\x1b[2J"\r\nhello\r\n0;end\r\nX-Sum: abc\r\n\r\n'
$RAW "$PORT" --send "$EXT\r\n$EXT_BODY" >"$T/ext.text"
$RAW "$PORT" --send "${EXT}Accept: application/json\r\n\r\n$EXT_BODY" >"$T/ext.json"
listen_stop
check "the record keeps the trailer fields of a body past --body-keep" \
    test "$(pyq "$LISTEN_OUT" '[e["request"]["trailers"] for e in ex if e["request"]["target"] == "/t"]')" = \
    '[[["X-Sum", "abc"], ["X-Odd", {"base64": "G1szMW3p"}]], [["X-Sum", "abc"], ["X-Odd", {"base64": "G1szMW3p"}]]]'
check "one nul-byte warning, counting the three" \
    test "$(pyq "$LISTEN_OUT" '[[w["offset"], w["detail"]] for e in ex for w in e["warnings"] if w["code"] == "nul-byte"]')" = \
    '[[34, "3 NUL bytes: at 34, 43, 44"]]'

# The text echo is chunked: its payload, de-chunked, ends with the body and the trailer fields.
dechunk() {
    python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
head, _, rest = data.partition(b"\r\n\r\n")
out = b""
while rest:
    size, _, rest = rest.partition(b"\r\n")
    n = int(size.split(b";")[0], 16)
    if n == 0:
        break
    out += rest[:n]
    rest = rest[n + 2:]
sys.stdout.buffer.write(out)' "$1"
}
dechunk "$T/trailer.text" >"$T/trailer.text.body"
check "text echo: the body, then the trailer fields as sent" \
    test "$(tail -c 57 "$T/trailer.text.body" | od -An -c | tr -s ' \n' ' ')" = \
    "$(printf 'hello\r\n-- trailer section --\r\nX-Sum: abc\r\nX-Odd: \033[31m\351\r\n' | od -An -c | tr -s ' \n' ' ')"
dechunk "$T/ext.text" >"$T/ext.text.body"
printf 'hello\r\n-- chunk extensions --\r\nchunk 1 (5 bytes): ;sig="\\x1b[2J"\r\nlast chunk: ;end\r\n-- trailer section --\r\nX-Sum: abc\r\n' >"$T/ext.want"
check "text echo: the body, the chunk extensions (escaped), then the trailer fields" \
    sh -c 'tail -c "$(wc -c <"$1")" "$2" | cmp -s - "$1"' _ "$T/ext.want" "$T/ext.text.body"
EXT_JSON='[{"chunk": 1, "size": 5, "extensions": ";sig=\"\u001b[2J\"", "cut": false}, {"chunk": 2, "size": 0, "extensions": ";end", "cut": false}]'
check "JSON echo: the chunk extensions with their chunks" \
    test "$(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")[2])
print(json.dumps(d["chunk_extensions"]), d["chunk_extensions_unlisted"])' "$T/ext.json")" = "$EXT_JSON 0"
check "the record keeps them, past --body-keep" \
    test "$(pyq "$LISTEN_OUT" '[e["request"]["chunk_extensions"] for e in ex if e["request"]["target"] == "/x"][0]')" = \
    "$EXT_JSON"
check "JSON echo: the trailer fields as pairs, escaped" \
    test "$(python3 -c '
import json, sys
d = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")[2]
print(json.dumps(json.loads(d)["trailers"]))' "$T/trailer.json")" = \
    '[["X-Sum", "abc"], ["X-Odd", "\u001b[31m\u00e9"]]'

# Heads never parsed: over --head-max (431) and unfinished at --head-timeout (408).
BIG=$(head -c 2000 /dev/zero | tr '\0' a)
for mode in --json --log=line; do
    listen_start $mode --head-max 1k --head-timeout 1s
    $RAW "$PORT" --send "GET /big HTTP/1.1\r\nHost: a\r\nX-Big: $BIG\r\n\r\n" >"$T/431"
    $RAW "$PORT" --send 'HEAD /slow HTTP/1.1\r\nHost: a\r\n' >"$T/408.HEAD"
    $RAW "$PORT" --send 'POST /sl' >/dev/null
    listen_stop
    cp "$LISTEN_OUT" "$T/unparsed$mode"
done
check "431: answered" grep -q '^HTTP/1.1 431 ' "$T/431"
check "408 to HEAD: no body" test "$(body_after_head "$T/408.HEAD")" = 0
check "--json: what arrived of the request lines" \
    test "$(pyq "$T/unparsed--json" '[(e["response"]["status"], e["request"]["method"], e["request"]["request_line_seen"]) for e in ex]')" = \
    '[[431, null, {"method": "GET", "target": "/big", "whole": true}], [408, null, {"method": "HEAD", "target": "/slow", "whole": true}], [408, null, {"method": "POST", "target": "/sl", "whole": false}]]'
check "access log: what arrived of the request lines" \
    test "$(awk '{print $4, $5, $6}' "$T/unparsed--log=line" | tr '\n' ,)" = "GET /big 431,HEAD /slow 408,POST /sl 408,"

finish
