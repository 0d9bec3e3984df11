#!/usr/bin/env bash
# hspy listen with curl: echo of GET, POST JSON, multipart, chunked upload, HTTP/1.0,
# 100-continue; the bytes curl gets back and the exchanges --json records; binding rules.
. "$(dirname "$0")/lib/listen.sh"
need curl python3
listen_setup

listen_start --json

# GET: the echo body is the request head exactly as sent.
curl -s -D "$T/h1" -o "$T/b1" "$URL/hello/world?x=1&x=2" -H 'X-Odd:  spaced  ' -A test-agent
printf 'GET /hello/world?x=1&x=2 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: test-agent\r\nAccept: */*\r\nX-Odd:  spaced  \r\n\r\n' "$PORT" >"$T/want1"
check "GET echo is the head as sent" cmp -s "$T/b1" "$T/want1"
check "GET echo is text/plain" grep -qi '^content-type: text/plain' "$T/h1"

# Live output: the record reaches stdout while hspy runs, not when it stops.
for _ in $(seq 40); do grep -q '"/hello/world?x=1&x=2"' "$LISTEN_OUT" && break; sleep 0.05; done
check "the record is printed while hspy runs" grep -q '"/hello/world?x=1&x=2"' "$LISTEN_OUT"

# POST JSON asking for JSON: the httpbin-like description.
curl -s -o "$T/b2" -H 'Accept: application/json' -H 'Content-Type: application/json' \
    --data '{"name":"hspy","n":[1,2,3]}' "$URL/api/items?debug=1"
check "JSON echo parses the body" test "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); print(d["json"]["n"][2], d["method"], d["args"]["debug"], d["path"])' "$T/b2")" = "3 POST 1 /api/items"

# Content negotiation reads q-values: q=0 refuses JSON, the heavier form wins.
curl -s -D "$T/hq0" -o /dev/null -H 'Accept: text/html, application/json;q=0' "$URL/q0"
check "Accept with application/json;q=0: the text echo" grep -qi '^content-type: text/plain' "$T/hq0"
curl -s -D "$T/hq1" -o /dev/null -H 'Accept: text/plain;q=0.5, application/json;q=0.8' "$URL/q1"
check "Accept preferring JSON by weight: the JSON echo" grep -qi '^content-type: application/json' "$T/hq1"

# multipart -F with a file: form fields and files in the JSON echo.
printf 'file \xff\x00 bytes' >"$T/up.bin"
curl -s -o "$T/b3" -H 'Accept: application/json' -F field=value -F "up=@$T/up.bin" "$URL/form"
check "multipart fields and files" test "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); f=d["files"]["up"]
print(d["form"]["field"], f["filename"], f["size"], f["content_base64"])' "$T/b3")" = "value up.bin 13 ZmlsZSD/ACBieXRlcw=="

# Chunked upload: echoed back chunked, payload intact.
head -c 300000 /dev/urandom >"$T/chunky"
curl -s -o "$T/b4" -D "$T/h4" -H 'Transfer-Encoding: chunked' --data-binary "@$T/chunky" "$URL/up"
check "chunked upload echoed chunked" grep -qi '^transfer-encoding: chunked' "$T/h4"
check "chunked upload payload intact" cmp -s <(tail -c 300000 "$T/b4") "$T/chunky"

# HTTP/1.0: no chunked response, the connection closes.
curl -s --http1.0 -o "$T/b5" -D "$T/h5" "$URL/ten"
check "HTTP/1.0 answered" grep -q '^HTTP/1.1 200' "$T/h5"
check "HTTP/1.0 echo head" grep -q '^GET /ten HTTP/1.0' "$T/b5"
check "HTTP/1.0 closes" grep -qi '^connection: close' "$T/h5"

# Expect: 100-continue is answered with 100 before the body is sent.
curl -s -v -o "$T/b6" -H 'Expect: 100-continue' --data-binary 'expected body' "$URL/exp" 2>"$T/v6"
check "100 Continue sent" grep -q '< HTTP/1.1 100 Continue' "$T/v6"
check "body after 100" grep -q 'expected body' "$T/b6"

# HEAD: headers only, with the length the GET would have.
curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$URL/head" >"$T/b7"
check "HEAD has no body" test "$(cat "$T/b7")" = "200 0"

listen_stop
check "exit status 0 after SIGTERM" test $? -eq 0
check "nine exchanges recorded" test "$(pyq "$LISTEN_OUT" 'len(ex)')" = 9
check "exchanges complete with status 200" test "$(pyq "$LISTEN_OUT" 'sorted(set(e["response"]["status"] for e in ex))')" = "[200]"
check "request hashes recorded" test "$(pyq "$LISTEN_OUT" '[e["request"]["sha256"] for e in ex if e["request"]["target"]=="/up"][0]')" = "$(sha256sum <"$T/chunky" | cut -d" " -f1)"
check "response bytes recorded" test "$(pyq "$LISTEN_OUT" '[e["response"]["wire_size"] for e in ex][0]')" = "$(($(wc -c <"$T/h1") + $(wc -c <"$T/b1")))"
check "interim 100 recorded" test "$(pyq "$LISTEN_OUT" '[len(e["response"]["interim"]) for e in ex if e["request"]["target"]=="/exp"][0]')" = 1

# Binding: a port in use fails before anything starts, with a clear message and status 1.
listen_start
"$HSPY" listen --no-tui "$PORT" >/dev/null 2>"$T/busy"
rc=$?
check "port in use: exit 1" test $rc -eq 1
check "port in use: message" grep -q "^hspy: listen 127.0.0.1:$PORT: address already in use" "$T/busy"
listen_stop

# IPv6 loopback and names.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
    "$HSPY" listen --no-tui '[::1]:0' >/dev/null 2>"$T/v6err" &
    p=$!
    LISTEN_PIDS+=("$p")
    for i in $(seq 100); do grep -q 'listening on' "$T/v6err" && break; sleep 0.05; done
    port6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\)$/\1/p' "$T/v6err")
    check "[::1] binds" test -n "$port6"
    check "[::1] answers" curl -s -g -o /dev/null "http://[::1]:$port6/"
    kill -TERM $p; wait $p
fi
"$HSPY" listen --no-tui localhost:0 >/dev/null 2>"$T/lh" &
p=$!
LISTEN_PIDS+=("$p")
for i in $(seq 100); do grep -q 'listening on' "$T/lh" && break; sleep 0.05; done
check "localhost resolves to loopback" grep -Eq 'listening on (127\.0\.0\.1|\[::1\]):[0-9]+$' "$T/lh"
kill -TERM $p; wait $p
"$HSPY" listen --no-tui 0.0.0.0:0 >/dev/null 2>"$T/any" &
p=$!
LISTEN_PIDS+=("$p")
for i in $(seq 100); do grep -q 'listening on' "$T/any" && break; sleep 0.05; done
check "0.0.0.0 warns it is reachable" grep -q 'warning: 0.0.0.0:[0-9]* is reachable from the network' "$T/any"
kill -TERM $p; wait $p
"$HSPY" listen --no-tui no-such-host.invalid:0 >/dev/null 2>"$T/nx"
check "unknown host: exit 1 and reason" test $? -eq 1 -a -s "$T/nx"
check "unknown host: message" grep -q '^hspy: listen no-such-host.invalid:0: cannot resolve host' "$T/nx"

finish
