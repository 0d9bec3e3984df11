#!/usr/bin/env bash
# Request smuggling through hspy proxy's upstream pool. hspy frames a request that has both
# Content-Length and Transfer-Encoding by the chunked coding (RFC 9112 6.3) and forwards it as
# sent; an upstream that trusts Content-Length instead reads a shorter body and takes the rest
# of the chunked body for a request of its own. That upstream connection must then never serve
# another client: its next reader would get the smuggled request's response (and the smuggled
# request would swallow the start of its own). The upstream here is a raw-socket HTTP/1.1 server
# that frames by Content-Length first and says in each answer which request it answered.
# It honours Transfer-Encoding only as one line spelt exactly "Transfer-Encoding: chunked", as
# a strict reader would; each head hspy reads more leniently (a doubled, folded or oddly spelt
# Transfer-Encoding, whitespace before its colon, a bare LF) is framed apart by the two, and
# must likewise be the last exchange on both connections.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup

cat >"$T/clfirst.py" <<'EOF'
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])

class Closed(Exception):
    pass

def until(c, buf, enough):
    """buf with more bytes from c until enough(buf); Closed when c ends first."""
    while not enough(buf):
        d = c.recv(65536)
        if not d:
            raise Closed()
        buf += d
    return buf

def serve(c, conn):
    try:
        answer(c, conn)
    except Closed:
        c.close()

def answer(c, conn):
    buf, nreq = b"", 0
    while True:
        buf = until(c, buf, lambda b: b"\r\n\r\n" in b)
        end = buf.index(b"\r\n\r\n") + 4
        head, buf = buf[:end], buf[end:]
        length, te = None, []
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"transfer-encoding":
                te.append(line)
        if length is None and te == [b"Transfer-Encoding: chunked"]:
            size = -1
            while size != 0:
                buf = until(c, buf, lambda b: b"\r\n" in b)
                size_line, _, buf = buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size:
                    buf = until(c, buf, lambda b: len(b) >= size + 2)[size + 2:]
            while True:  # the trailer section: lines up to an empty one, each ended by CR LF
                buf = until(c, buf, lambda b: b"\r\n" in b)
                line, _, buf = buf.partition(b"\r\n")
                if not line:
                    break
        length = length or 0
        buf = until(c, buf, lambda b: len(b) >= length)[length:]
        nreq += 1
        line = head.split(b"\r\n")[0].decode("latin-1").lstrip("\r\n")
        if "/slow" in line:
            time.sleep(0.5)  # the client's FIN reaches hspy before this answer
        body = ("conn %d req %d %s\n" % (conn, nreq, line)).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

n = 0
while True:
    c, _ = srv.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
EOF
bg python3 "$T/clfirst.py" "$T/port"
for i in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
UP=127.0.0.1:$(cat "$T/port")

proxy_start --json "$UP"

# The pool works: a second client gets the first one's upstream connection.
check "a plain request" test "$(curl -s "$PURL/one")" = "conn 1 req 1 GET /one HTTP/1.1"
check "... a second client reuses its upstream connection" \
    test "$(curl -s "$PURL/two")" = "conn 1 req 2 GET /two HTTP/1.1"

# TE.CL: hspy reads the chunked body whole (one chunk, then the last); the upstream reads 4
# bytes ("3a\r\n") and then a request "GPOST /poison" whose Content-Length (15) runs past what
# is left, so it waits for the next bytes on that connection.
SMUGGLED='GPOST /poison HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\nx=1'
SIZE=$(printf '%x' "$(printf "$SMUGGLED" | wc -c)")
$RAW "$PPORT" --timeout 5 \
    --send "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n$SIZE\r\n$SMUGGLED\r\n0\r\n\r\n" \
    >"$T/attacker"
check "the smuggling request is answered (by the upstream, for /a)" \
    grep -q '^conn 1 req 3 POST /a HTTP/1.1$' "$T/attacker"

# Another client, on a new connection, must get the answer to its own request.
curl -s "$PURL/victim" >"$T/victim"
check "the next client gets its own answer, from a new upstream connection" \
    test "$(cat "$T/victim")" = "conn 2 req 1 GET /victim HTTP/1.1"
check "... and the pool still serves plain requests" \
    test "$(curl -s "$PURL/three")" = "conn 2 req 2 GET /three HTTP/1.1"

# The same with Transfer-Encoding in an HTTP/1.0 request that asks to keep the connection (RFC
# 9112 6.1: the framing is faulty, the connection closes after it). This upstream reads no body
# at all: the chunk-size line starts its next request, whose Content-Length (40) would swallow
# the start of whatever comes next on that connection.
INNER='GET /p2 HTTP/1.1\r\nContent-Length: 40\r\n\r\n'
SIZE=$(printf '%x' "$(printf "$INNER" | wc -c)")
$RAW "$PPORT" --timeout 5 \
    --send "POST /b HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n$SIZE\r\n$INNER\r\n0\r\n\r\n" \
    >"$T/http10"
check "TE in HTTP/1.0 is answered" grep -q '^conn 2 req 3 POST /b HTTP/1.0$' "$T/http10"
check "... and its upstream connection serves nobody else" \
    test "$(curl -s "$PURL/four")" = "conn 3 req 1 GET /four HTTP/1.1"

# A client that half-closes after its request gets its answer, then its connection closes; the
# upstream connection, which nothing put out of step, goes back to the pool.
$RAW "$PPORT" --timeout 5 --send "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" --half-close >"$T/half"
check "a half-closed client is answered" grep -q '^conn 3 req 2 GET /slow HTTP/1.1$' "$T/half"
check "... and its upstream connection is reused" \
    test "$(curl -s "$PURL/after-half")" = "conn 3 req 3 GET /after-half HTTP/1.1"

# A plain chunked request is framed the same by both: its connection stays in the pool.
INNER='GET /p3 HTTP/1.1\r\nContent-Length: 40\r\n\r\n'
SIZE=$(printf '%x' "$(printf "$INNER" | wc -c)")
CHUNKED="\r\n\r\n$SIZE\r\n$INNER\r\n0\r\n\r\n"
$RAW "$PPORT" --timeout 5 \
    --send "POST /plain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked$CHUNKED" >"$T/plain"
check "a plain chunked request is answered" grep -q '^conn 3 req 4 POST /plain HTTP/1.1$' "$T/plain"
check "... and its upstream connection is reused" \
    test "$(curl -s "$PURL/five")" = "conn 3 req 5 GET /five HTTP/1.1"

# Heads the two read differently: the upstream reads no body and takes the chunk for a request
# whose Content-Length would swallow the next client's. Each must leave no connection behind.
conn=3
n=0
for head in 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked' \
    'Transfer-Encoding : chunked' \
    'Transfer-Encoding: Chunked' \
    'Transfer-Encoding:\r\n chunked' \
    'X-A: 1\nTransfer-Encoding: chunked'; do
    n=$((n + 1))
    $RAW "$PPORT" --timeout 5 --send "POST /v$n HTTP/1.1\r\nHost: x\r\n$head$CHUNKED" >"$T/v$n"
    check "obscure head $n ($head) is answered" grep -q "POST /v$n HTTP/1.1\$" "$T/v$n"
    conn=$((conn + 1))
    check "... and the next client gets a new upstream connection" \
        test "$(curl -s "$PURL/after$n")" = "conn $conn req 1 GET /after$n HTTP/1.1"
done

# A chunked body's trailer section is framed by its lines as a head is: one every reader frames
# alike leaves the connections as they were; one whose field lines another reader may split
# otherwise (whitespace before a colon, a bare LF) ends them, once the request has ended.
n=0
for trailer in 'X-Sum: 1' 'X-Sum : 1' 'X-A: 1\nX-B: 2'; do
    n=$((n + 1))
    $RAW "$PPORT" --timeout 5 --send "POST /t$n HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n$trailer\r\n\r\n" >"$T/t$n"
    check "trailer $n ($trailer) is answered" grep -q "POST /t$n HTTP/1.1\$" "$T/t$n"
done
check "... a plain trailer leaves its upstream connection in the pool" \
    grep -q '^conn 8 req 2 POST /t1 HTTP/1.1$' "$T/t1"
check "... a trailer with whitespace before a colon does not" \
    grep -q '^conn 8 req 3 POST /t2 HTTP/1.1$' "$T/t2"
check "... nor one with a bare LF" grep -q '^conn 9 req 1 POST /t3 HTTP/1.1$' "$T/t3"
check "... and the next client gets a new upstream connection" \
    test "$(curl -s "$PURL/after-t3")" = "conn 10 req 1 GET /after-t3 HTTP/1.1"

check "hspy proxy exits with status 0" proxy_stop
check "twenty-five exchanges recorded" test "$(pyq "$PROXY_OUT" 'len(ex)')" = 25
check "the plain trailer's exchange does not end its connections" \
    test "$(pyq "$PROXY_OUT" '"last exchange" in ex[21].get("note", "")')" = False
check "the trailer with whitespace before a colon: its note says it ended both connections" \
    grep -q "last exchange on both connections (ws-before-colon" \
    <<<"$(pyq "$PROXY_OUT" "ex[22].get('note', '')")"
check "... and its warning points at the trailer's line" \
    test "$(pyq "$PROXY_OUT" '[(w["code"], w["offset"]) for w in ex[22]["warnings"]]')" = \
    '[["ws-before-colon", 74]]'
check "the trailer with a bare LF: its note says it ended both connections" \
    grep -q "last exchange on both connections (bare-lf" \
    <<<"$(pyq "$PROXY_OUT" "ex[23].get('note', '')")"
check "the plain chunked request's exchange does not end its connections" \
    test "$(pyq "$PROXY_OUT" '"last exchange" in ex[9].get("note", "")')" = False
for i in 1 2 3 4 5; do
    check "obscure head $i: its note says it ended both connections" \
        grep -q "last exchange on both connections" \
        <<<"$(pyq "$PROXY_OUT" "ex[$((9 + 2 * i))].get('note', '')")"
done
check "the smuggling request has its cl-and-te warning" \
    test "$(pyq "$PROXY_OUT" '[w["code"] for w in ex[2]["warnings"]]')" = '["cl-and-te"]'
check "the victim's exchange is its own request and answer" \
    test "$(pyq "$PROXY_OUT" '(ex[3]["request"]["target"], len(ex[3]["warnings"]), ex[3]["response"]["body"].strip())')" = \
    "('/victim', 0, 'conn 2 req 1 GET /victim HTTP/1.1')"
check "the summary counts ten upstream connections and fifteen reuses" \
    grep -q '; upstream: 10 connections, 15 reuses,' "$PROXY_ERR"
check "... and nine ambiguous requests that ended their connections" \
    grep -q '; 9 ambiguous requests ended their connections$' "$PROXY_ERR"
finish
