#!/usr/bin/env bash
# hspy proxy in front of a raw-socket python upstream: requests and responses pass byte for
# byte (odd heads included), Host is rewritten or preserved, X-Forwarded-For and Forwarded are
# added on request, upstream connections are reused, pipelined requests are answered in order,
# chunked bodies flow both ways, 100 Continue passes, absolute-form requests are forwarded, and
# the recorded exchanges carry the timings and notes.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
recording_upstream

proxy_start --json "$UP"

# A plain request, and what the exchange says about it.
check "GET through the proxy" test "$(curl -s "$PURL/hello")" = hello
# Three requests on one client connection: one upstream connection serves them all.
curl -s -D "$T/h3" -o /dev/null -o /dev/null -o /dev/null "$PURL/hello/1" "$PURL/hello/2" "$PURL/hello/3"
check "keep-alive: one upstream connection for one client connection" \
    test "$(grep -i '^x-conn' "$T/h3" | sort -u | wc -l)" = 1
check "keep-alive: three requests on it" test "$(grep -ic '^x-req' "$T/h3")" = 3
# A new client connection reuses the pooled upstream connection.
c1=$(curl -s -D - -o /dev/null "$PURL/hello/a" | tr -d '\r' | sed -n 's/^X-Conn: //p')
c2=$(curl -s -D - -o /dev/null "$PURL/hello/b" | tr -d '\r' | sed -n 's/^X-Conn: //p')
check "pool: the next client gets the same upstream connection" test -n "$c1" -a "$c1" = "$c2"

# Host is rewritten to the upstream by default.
curl -s "$PURL/head" >"$T/head1"
check "Host rewritten to the upstream" grep -q "^Host: $UP" "$T/head1"

# Odd but legal request head, sent raw: the upstream receives it byte for byte, except the
# Host value (rewritten in place: same name case, same position).
REQ='GET /head?q=1&x=%20 HTTP/1.1\r\nhOsT:   example.test  \r\nX-Dup: 1\r\nx-dup: 2\r\nX-Spaces:   a  b   \r\nX-Tab:\tv\t\r\nX-Empty:\r\nConnection: close\r\n\r\n'
$RAW "$PPORT" --send "$REQ" >"$T/odd.out"
last=$(ls "$T/rec" | sed -n 's/^req\.//p' | sort -n | tail -1)
python3 - "$REQ" "$T/rec/req.$last" "$UP" >"$T/odd.cmp" <<'PY'
import sys
sent = eval("b'''" + sys.argv[1].replace("'", "\\'") + "'''")
got = open(sys.argv[2], "rb").read()
want = sent.replace(b"hOsT:   example.test  ", b"hOsT:   " + sys.argv[3].encode() + b"  ")
print("same" if got == want else "differ: %r" % got)
PY
check "odd head forwarded byte for byte (Host value only changed)" test "$(cat "$T/odd.cmp")" = same

# Odd but legal response head: the client receives it byte for byte.
$RAW "$PPORT" --send 'GET /odd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$T/oddresp"
printf 'HTTP/1.1 200 Fine Thanks\r\nx-lower: a\r\nX-Dup: 1\r\nX-Dup: 2\r\nX-Space:    spaced   \r\nX-Empty:\r\nContent-Length: 3\r\n\r\nabc' >"$T/oddresp.want"
check "odd response head passed byte for byte" cmp -s "$T/oddresp" "$T/oddresp.want"

# Pipelining: three requests in one write; answered in order on one upstream connection.
$RAW "$PPORT" --send 'GET /hello/p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET /hello/p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$T/pipe"
check "pipelined: three responses" test "$(grep -ac '^HTTP/1.1 200 OK' "$T/pipe")" = 3
check "pipelined: chunked body forwarded" grep -aq "^5 $(printf abcde | sha256sum | cut -c1-64) chunked" "$T/pipe"
check "pipelined: in order" test "$(grep -a '^X-Req' "$T/pipe" | tr -d '\r' | tr '\n' ' ')" = "X-Req: 1 X-Req: 2 X-Req: 3 "
rec=$(grep -l 'Transfer-Encoding: chunked' "$T"/rec/req.* | head -1)
printf '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' >"$T/chunks.want"
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n")+4:])' "$rec" >"$T/chunks.got"
check "pipelined: chunk framing kept on the way" cmp -s "$T/chunks.got" "$T/chunks.want"

# Chunked both ways with curl: a chunked upload and a chunked response with a trailer.
head -c 300000 /dev/urandom >"$T/up.bin"
want="300000 $(sha256sum <"$T/up.bin" | cut -c1-64) chunked"
got=$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T/up.bin" "$PURL/upload")
check "chunked upload arrives whole" test "$got" = "$want"
curl -s "$PURL/chunked?n=7&s=1000" | sha256sum | cut -c1-64 >"$T/ch.sha"
check "chunked download arrives whole" test "$(cat "$T/ch.sha")" = "$(pattern_sha 7000)"
$RAW "$PPORT" --send 'GET /chunked?n=2&s=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$T/chraw"
printf '3\r\n\000\001\002\r\n3\r\n\003\004\005\r\n0\r\nX-Trailer: yes\r\n\r\n' >"$T/chraw.want"
check "chunked framing and trailer passed as sent" \
    cmp -s <(tail -c "$(wc -c <"$T/chraw.want")" "$T/chraw") "$T/chraw.want"

# Expect: 100-continue: the upstream's 100 reaches the client before the body goes.
curl -s -H 'Expect: 100-continue' --data-binary @"$T/up.bin" -o "$T/cont" "$PURL/continue"
check "100-continue upload" grep -q "^300000 " "$T/cont"

# Forward proxying: absolute-form goes to the named host, in origin-form, Host set from it.
curl -s -x "$PURL" "http://$UP/head?fwd" >"$T/fwd"
check "absolute-form forwarded in origin-form" grep -q '^GET /head?fwd HTTP/1.1' "$T/fwd"
check "absolute-form: Host from the URL" grep -q "^Host: $UP" "$T/fwd"
proxy_stop

check "exit status 0" test $? -eq 0
J=$PROXY_OUT
check "every exchange recorded" test "$(wc -l <"$J")" -ge 14
check "exchange: status and note" test "$(pyq "$J" '[e["response"]["status"] for e in ex][0]')" = 200
check "exchange: upstream named in the note" test "$(pyq "$J" 'ex[0]["note"]')" != None
check "exchange: reuse noted" test "$(pyq "$J" 'sum("reused connection" in (e["note"] or "") for e in ex) >= 3')" = True
check "exchange: server is the upstream" test "$(pyq "$J" 'ex[0]["server"]["port"]')" = "$UPORT"
check "exchange: proxy timings in order" test "$(pyq "$J" '[(t["upstream_connect"] <= t["upstream_connected"] <= t["request_forwarded"] <= t["response_first_byte"] <= t["response_head"] <= t["response_last_byte"]) for t in [ex[0]["timings"]]][0]')" = True
check "exchange: chunked response recorded" test "$(pyq "$J" '[e["response"]["body_framing"] for e in ex if e["request"]["target"].startswith("/chunked?n=7")][0]')" = chunked
check "exchange: 100 Continue recorded as interim" test "$(pyq "$J" '[e["response"]["interim"][0]["status"] for e in ex if e["request"]["target"] == "/continue"][0]')" = 100
check "exchange: upload size recorded" test "$(pyq "$J" '[e["request"]["body_size"] for e in ex if e["request"]["target"] == "/upload" and e["request"]["body_size"] > 5][0]')" = 300000
check "exchange: no failures" test "$(pyq "$J" '[e["error"] for e in ex if e["error"]]')" = "[]"

# --preserve-host, --xff, --forwarded.
proxy_start --json --preserve-host --xff --forwarded "$UP"
curl -s -H 'X-Forwarded-For: 192.0.2.9' "$PURL/head" >"$T/head2"
check "--preserve-host keeps the client's Host" grep -q "^Host: 127.0.0.1:$PPORT" "$T/head2"
check "--xff appends to X-Forwarded-For" grep -q '^X-Forwarded-For: 192.0.2.9, 127.0.0.1' "$T/head2"
check "--forwarded adds Forwarded" grep -q "^Forwarded: for=127.0.0.1;host=\"127.0.0.1:$PPORT\";proto=http" "$T/head2"
curl -s -x "$PURL" "http://$UP/head?abs" >"$T/fwd2"
check "--preserve-host keeps the absolute-form target" grep -q "^GET http://$UP/head?abs HTTP/1.1" "$T/fwd2"
proxy_stop
finish
