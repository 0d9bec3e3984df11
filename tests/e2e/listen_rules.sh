#!/usr/bin/env bash
# hspy listen crafted answers: --status/--header/--body, --raw (as written or with its
# length fixed), --rules (matching, per-rule answers and delivery, errors with FILE:LINE), and
# the delivery controls: delays, trickle, pieces, close/reset after N bytes, a wrong length.
. "$(dirname "$0")/lib/listen.sh"
need curl python3
listen_setup

ms() { python3 -c 'import sys; print(int(float(sys.argv[1]) * 1000))' "$1"; }

# --status/--header/--body
printf 'from a file\n' >"$T/body.txt"
listen_start --status 201 --header 'X-Custom: yes' -H 'Content-Type: text/x-test' --body "@$T/body.txt"
curl -s -D "$T/h" -o "$T/b" "$URL/anything"
check "fixed status" grep -q '^HTTP/1.1 201 Created' "$T/h"
check "fixed headers" grep -q '^X-Custom: yes' "$T/h"
check "fixed type" grep -q '^Content-Type: text/x-test' "$T/h"
check "fixed body from file" cmp -s "$T/b" "$T/body.txt"
listen_stop

# --raw: sent as written (a wrong Content-Length stays wrong), or fixed with --fix-length.
printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Raw: 1\r\n\r\nhello world' >"$T/raw.http"
listen_start --raw "$T/raw.http"
python3 "$(dirname "$0")/lib/rawclient.py" "$PORT" --send 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 2 >"$T/r1"
check "raw sent exactly as written" cmp -s "$T/r1" "$T/raw.http"
listen_stop
listen_start --raw "$T/raw.http" --fix-length
check "raw with fixed length" test "$(curl -s "$URL/")" = "hello world"
check "raw keeps its headers" test "$(curl -s -o /dev/null -D - "$URL/" | grep -c '^X-Raw: 1')" = 1
listen_stop

# Rules.
printf '{"id":42}' >"$T/created.json"
printf 'HTTP/1.1 418 Teapot\nContent-Type: text/plain\n\nshort and stout\n' >"$T/teapot.http"
cat >"$T/rules" <<'RULES'
# health checks
match GET,HEAD /health
  name health
  status 200
  header Content-Type: text/plain
  body ok

match POST /api/*
  if-header Content-Type: application/json*
  name create
  status 201
  header Content-Type: application/json
  body @created.json

match * ~^/items/[0-9]+$
  name item
  status 404
  body no such item\n

match GET /teapot
  raw teapot.http
  fix-length yes

match GET /slow/head
  delay-head 500ms
match GET /slow/body
  delay-body 500ms
match GET /trickle
  status 200
  body 0123456789012345678901234567890123456789
  trickle 10/100ms
match GET /split
  status 200
  body abcdefghijklmnopqrstuvwxyz
  split 5,5/200ms
match GET /close
  status 200
  body 0123456789abcdefghij
  close-after 10
match GET /reset
  status 200
  body 0123456789abcdefghij
  reset-after 5
match GET /liar
  status 200
  body short
  content-length 100
match POST /refuse
  expect 417
RULES
listen_start --json --rules "$T/rules"
check "rule: health" test "$(curl -s "$URL/health")" = ok
check "rule: HEAD matches too" test "$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/health")" = 200
check "rule: header condition met" test "$(curl -s -H 'Content-Type: application/json' -d '{}' "$URL/api/users")" = '{"id":42}'
check "rule: header condition not met falls back to echo" grep -q '^POST /api/users' <(curl -s -d 'a=b' "$URL/api/users")
check "rule: regex" test "$(curl -s -w '%{http_code}' "$URL/items/7")" = "no such item
404"
check "rule: regex miss" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/items/7x")" = 200
check "rule: raw file fixed" test "$(curl -s -w ' %{http_code}' "$URL/teapot")" = "short and stout
 418"
t=$(curl -s -o /dev/null -w '%{time_starttransfer}' "$URL/slow/head")
check "delay-head (ttfb $(ms "$t") ms)" test "$(ms "$t")" -ge 480
# delay-body: the head, then the body the delay later (measured between the two, so a slow
# start cannot blur which one waited).
python3 - "$PORT" >"$T/delayed" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
s.sendall(b"GET /slow/body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data, head_at = b"", None
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
    if head_at is None and b"\r\n\r\n" in data:
        head_at, early = time.time(), len(data.split(b"\r\n\r\n", 1)[1])
print(early, int((time.time() - head_at) * 1000))
PY
read -r early gap <"$T/delayed"
check "delay-body: the head comes without the body ($early body bytes with it)" test "$early" = 0
check "delay-body: the body the delay after the head ($gap ms)" test "$gap" -ge 480
read -r body total < <(curl -s -w ' %{time_total}\n' "$URL/trickle")
check "trickle delivers the body" test "$body" = 0123456789012345678901234567890123456789
check "trickle takes its time ($(ms "$total") ms)" test "$(ms "$total")" -ge 280
python3 - "$PORT" >"$T/pieces" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /split HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
sizes, t0 = [], time.time()
while True:
    d = s.recv(65536)
    if not d:
        break
    sizes.append((len(d), round(time.time() - t0, 1)))
print(" ".join("%d@%.1f" % x for x in sizes[:2]), sum(n for n, _ in sizes))
PY
read -r p1 p2 total <"$T/pieces"
check "split: first piece alone ($p1)" test "${p1%@*}" = 5
check "split: second piece later ($p2)" test "${p2%@*}" = 5 -a "${p2#*@}" != 0.0
curl -s -o "$T/closed" "$URL/close"
rc=$?
check "close-after: client sees a cut response (curl $rc)" test $rc -eq 18
check "close-after: exactly 10 body bytes" test "$(cat "$T/closed")" = 0123456789
curl -s -o /dev/null "$URL/reset"
rc=$?
check "reset-after: client sees a reset or a cut (curl $rc)" test $rc -eq 56 -o $rc -eq 18
curl -s -m 3 -o "$T/liar" "$URL/liar"
rc=$?
check "wrong Content-Length: cut short (curl $rc)" test $rc -eq 18
check "wrong Content-Length: body as it is" test "$(cat "$T/liar")" = short
check "expect 417 from a rule" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' -d x "$URL/refuse")" = 417
listen_stop
J=$LISTEN_OUT
check "rule named on the exchange" test "$(pyq "$J" '[e["note"] for e in ex if e["request"]["target"]=="/health"][0]')" = "rule: health"
check "unnamed rule noted by line" test "$(pyq "$J" '[e["note"] for e in ex if e["request"]["target"]=="/trickle"][0]')" = "rule: line 28"
check "cut response recorded as sent" test "$(pyq "$J" '[e["response"]["body_wire_size"] for e in ex if e["request"]["target"]=="/close"][0]')" = 10
check "wrong length recorded" test "$(pyq "$J" '[w["code"] for e in ex if e["request"]["target"]=="/liar" for w in e["warnings"]]')" = '["eof-mid-message"]'

# Rule files that cannot work are refused at start with FILE:LINE and the reason (exit 1).
printf 'match GET /a\n  status 200\n  stauts 404\n' >"$T/bad1"
"$HSPY" listen --no-tui --rules "$T/bad1" 0 >/dev/null 2>"$T/e1"
check "bad directive: exit 1" test $? -eq 1
check "bad directive: FILE:LINE" grep -q "^hspy: $T/bad1:3: unknown directive 'stauts'" "$T/e1"
check "bad directive: nothing listened" test -z "$(grep listening "$T/e1")"
printf 'match GET /a\n  body @nope.json\n' >"$T/bad2"
"$HSPY" listen --no-tui --rules "$T/bad2" 0 >/dev/null 2>"$T/e2"
check "missing body file: FILE:LINE" grep -q "^hspy: $T/bad2:2: cannot read '$T/nope.json'" "$T/e2"
printf 'match GET /a\n  serve %s/none\n' "$T" >"$T/bad3"
"$HSPY" listen --no-tui --rules "$T/bad3" 0 >/dev/null 2>"$T/e3"
check "missing serve folder: FILE:LINE" grep -q "^hspy: $T/bad3:2: serve $T/none: No such file" "$T/e3"
"$HSPY" listen --no-tui --rules "$T/none.rules" 0 >/dev/null 2>"$T/e4"
check "missing rules file" grep -q "^hspy: --rules $T/none.rules: No such file" "$T/e4"
"$HSPY" listen --no-tui --serve "$T" --exec ls 0 >/dev/null 2>"$T/e5"
check "two default answers: usage error (exit 2)" test $? -eq 2
"$HSPY" listen --no-tui --split 5,0 0 >/dev/null 2>"$T/e6"
check "bad --split: usage error" grep -q "split '5,0'" "$T/e6"
finish
