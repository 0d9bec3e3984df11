#!/usr/bin/env bash
# Request bodies in HAR. `hspy listen --save` while curl sends a multipart upload (a text field,
# a binary file, a text file with its type), an urlencoded form and a body without a
# Content-Type, and a raw client an HTTP/0.9 request: postData.params list the form fields
# (file parts by fileName and contentType), postData.text holds each payload exactly (base64
# for the binary upload), mimeType is the Content-Type sent or "" without one, the HTTP/0.9
# response's _hspy body_framing is "close"; the file reads back to the same entries.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
command -v curl >/dev/null || skip "curl is needed"
har() { python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/har.py" "$@"; }

printf 'GIF89a\0\1\2\377\376 end' >"$WORK/pic.bin"
printf 'line one\nline two\n' >"$WORK/notes.txt"
start_bg "$HSPY" listen 0 --no-tui --log none --har "$WORK/live.har" --save "$WORK/save.har" \
    2>"$WORK/err"
listener=$LAST_PID
for _ in $(seq 100); do grep -q "listening on" "$WORK/err" && break; sleep 0.05; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/err" | grep -o '[0-9]*$')
[ -n "$port" ] || { fail "hspy listen did not start: $(cat "$WORK/err")"; finish; }
url=http://127.0.0.1:$port
curl -s -o /dev/null -F 'a=1' -F "f=@$WORK/pic.bin" -F "g=@$WORK/notes.txt;type=text/plain" "$url/up"
curl -s -o /dev/null --data 'x=1&b+c=2%263' "$url/form"
curl -s -o /dev/null -H 'Content-Type:' --data-binary 'raw bytes' "$url/raw"
python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /old\r\n")
while s.recv(65536):
    pass
PY
for _ in $(seq 100); do [ "$(grep -c '^{' "$WORK/live.har" 2>/dev/null)" -ge 4 ] && break; sleep 0.05; done
kill -TERM "$listener"
for _ in $(seq 100); do kill -0 "$listener" 2>/dev/null || break; sleep 0.05; done
verify "the session ends on SIGTERM" '! kill -0 "$listener" 2>/dev/null'
check "--save holds the 4 exchanges" [ "$(har count "$WORK/save.har")" = 4 ]

# Each entry as one line: its URL's last segment, mimeType, params, encoding, and whether text
# is the request's body byte for byte (from the raw bytes in _hspy).
python3 - "$WORK/save.har" >"$WORK/post" <<'PY'
import base64, json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
for e in sorted(entries, key=lambda e: e["_hspy"]["id"]):
    post = e["request"].get("postData")
    rec = e["_hspy"]["request"]
    raw = base64.b64decode(rec["raw"])
    if post is None:
        print("%s no postData; body_framing %s" % (e["request"]["url"].split("/")[-1],
              e["_hspy"]["response"]["body_framing"]))
        continue
    text = post["text"].encode()
    if post.get("encoding") == "base64":
        text = base64.b64decode(post["text"])
    exact = text == raw[rec["body_offset"]:]
    params = ",".join(
        "%s@%s:%s" % (p["name"], p["fileName"], p.get("contentType", "")) if "fileName" in p
        else "%s=%s" % (p["name"], p["value"]) for p in post.get("params", [])) \
        if "params" in post else "-"
    print("%s %r %s %s %s" % (e["request"]["url"].split("/")[-1], post["mimeType"].split(";")[0],
          params, post.get("encoding", "utf8"), "exact" if exact else "DIFFERS"))
PY
check "multipart upload: fields, files by name and type, the body exact in base64" \
    grep -qxF "up 'multipart/form-data' a=1,f@pic.bin:application/octet-stream,g@notes.txt:text/plain base64 exact" "$WORK/post"
check "urlencoded form: fields decoded, text as sent" \
    grep -qxF "form 'application/x-www-form-urlencoded' x=1,b c=2&3 utf8 exact" "$WORK/post"
check "a body sent without Content-Type: mimeType \"\", no params" \
    grep -qxF "raw '' - utf8 exact" "$WORK/post"
check "an HTTP/0.9 response's body_framing is close" \
    grep -qxF "old no postData; body_framing close" "$WORK/post"
[ -z "${FAILED:-}" ] || cat "$WORK/post"

"$HSPY" read --no-tui --log none --har "$WORK/back.har" "$WORK/save.har" 2>"$WORK/back.err" ||
    fail "the saved session does not read: $(cat "$WORK/back.err")"
check "read back without a warning" [ ! -s "$WORK/back.err" ]
check "read back and written again: the same entries" har same "$WORK/save.har" "$WORK/back.har"
check "--har and --save hold the same entries" har same "$WORK/live.har" "$WORK/save.har"
finish
