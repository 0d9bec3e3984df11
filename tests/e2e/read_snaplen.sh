#!/usr/bin/env bash
# `hspy read` of captures whose packets a snap length cut: python's http.server (HTTP/1.1,
# keep-alive) serves a small file, 300,000 bytes and the small file again on one curl
# connection, captured by tcpdump -s 100 (only the start lines of the heads fit) and -s 200.
# Each exchange must show its method, target, status and body size as sent, no exchange may be
# made up from the bytes that follow a cut head, the missing bytes are said to be the snap
# length's (never --body-keep's), and the JSON says which heads were cut and why. Requests
# pipelined in one write and cut at 100 bytes: those lost whole are recorded as lost and paired
# with their responses, never shown as responses without a request; the project's captures of
# that and of an upload whose 100 Continue was cut read as one exchange per request, with one
# capture-gap warning per message in JSON and HAR.
set -u
. "$HSPY_SOURCE_DIR/tests/e2e/lib/common.sh"

for tool in curl tcpdump python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "capturing on loopback needs root"

mkdir -p "$WORK/www"
printf 'small\n' >"$WORK/www/a.txt"
printf 'bee\n' >"$WORK/www/b.txt"
printf 'sea\n' >"$WORK/www/c.txt"
python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(300000)))' >"$WORK/www/mid.bin"
port=$(free_port)
start_bg python3 -m http.server --protocol HTTP/1.1 --bind 127.0.0.1 --directory "$WORK/www" \
    "$port" 2>/dev/null
wait_for_port "$port" || skip "python's http.server did not start"

url=http://127.0.0.1:$port
for snap in 100 200; do
    cap=$WORK/s$snap.pcap
    start_bg tcpdump --immediate-mode -U -i lo -s "$snap" -w "$cap" "tcp port $port"
    tcpdump_pid=$LAST_PID
    # tcpdump writes the file's header once its capture and filter are in place; it is stopped
    # once it has written the connection's close.
    wait_until 30 test -s "$cap" || skip "tcpdump cannot capture on lo here"
    curl -s -o /dev/null -o /dev/null -o /dev/null "$url/a.txt" "$url/mid.bin" "$url/a.txt"
    wait_until 30 capture_closed "$cap"
    stop_pid "$tcpdump_pid"

    "$HSPY" read --no-tui "$cap" >"$WORK/log" 2>"$WORK/err"
    check "-s $snap: three exchanges" [ "$(grep -c . "$WORK/log")" = 3 ]
    check "-s $snap: each with method, target, status and body size" \
        [ "$(awk '{print $4, $5, $6, $7}' "$WORK/log" | tr '\n' '|')" = \
        "GET /a.txt 200 6|GET /mid.bin 200 300000|GET /a.txt 200 6|" ]
    check "-s $snap: nothing made up from the bytes after a cut head" \
        bash -c "! grep -q 'no-request\|incomplete' '$WORK/log'"
    check "-s $snap: the note names the snap length" \
        grep -q "packets were cut at $snap bytes (the capture's snap length)" "$WORK/err"

    "$HSPY" read --no-tui --log full "$cap" >"$WORK/full" 2>/dev/null
    check "-s $snap: --log full blames the snap length, not --body-keep" \
        bash -c "! grep -q 'body-keep' '$WORK/full' &&
                 grep -q 'missing from the capture (packets cut by the snap length)' '$WORK/full'"

    "$HSPY" read --no-tui --json "$cap" >"$WORK/json" 2>/dev/null
    check "-s $snap: the JSON says which heads were cut and why" python3 - "$WORK/json" "$snap" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 3, len(recs)
for r in recs:
    for side in ("request", "response"):
        m = r[side]
        cut = "head-cut" in m["flags"]
        # At 100 bytes every head is cut; at 200 the requests (about 80 bytes) fit.
        assert cut == (side == "response" or sys.argv[2] == "100"), (side, m["flags"])
        if cut:
            assert "snaplen" in m["flags"] and m["body_framing"] == "unknown", m["flags"]
            assert m["gap_bytes"] > 0
    cut = [w["side"] for w in r["warnings"] if w["code"] == "snaplen-truncated"]
    assert "response" in cut, r["warnings"]
assert recs[1]["response"]["body_size"] == 300000, recs[1]["response"]["body_size"]
EOF

    # HAR's record of each message says what JSON says of its declared length.
    "$HSPY" read --no-tui --har "$WORK/har" "$cap" >/dev/null 2>&1
    check "-s $snap: HAR and JSON agree on the Content-Length a cut head showed" \
        python3 - "$WORK/json" "$WORK/har" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
entries = json.load(open(sys.argv[2]))["log"]["entries"]
assert len(entries) == len(recs), (len(entries), len(recs))
for r, e in zip(recs, entries):
    for side in ("request", "response"):
        assert e["_hspy"][side]["content_length"] == r[side]["content_length"], side
EOF
done

# Three requests pipelined in one write, captured at 100 bytes: the first request's head is cut,
# the two after it are wholly in the bytes cut. Their responses are paired with requests recorded
# as lost, in order, never shown as responses without a request.
cap=$WORK/pipe.pcap
start_bg tcpdump --immediate-mode -U -i lo -s 100 -w "$cap" "tcp port $port"
tcpdump_pid=$LAST_PID
for _ in $(seq 1 50); do [ -s "$cap" ] && break; sleep 0.1; done
sleep 0.5
python3 - "$port" <<'EOF'
import socket, sys
h = "Host: 127.0.0.1\r\nUser-Agent: e2e-pipeline\r\n"
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /a.txt HTTP/1.1\r\n%s\r\nGET /b.txt HTTP/1.1\r\n%s\r\n"
           "GET /c.txt HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (h, h, h)).encode())
s.settimeout(5)
while s.recv(65536):
    pass
EOF
sleep 0.5
stop_pid "$tcpdump_pid"
"$HSPY" read --no-tui "$cap" >"$WORK/log" 2>/dev/null
check "pipelined at -s 100: three exchanges, the first request seen, two lost, each answered" \
    [ "$(awk '{print $4, $5, $6, $7}' "$WORK/log" | tr '\n' '|')" = "GET /a.txt 200 6|- - 200 4|- - 200 4|" ]
check "pipelined at -s 100: the lost ones say so, none is a response without a request" \
    bash -c "[ \$(grep -c 'request-lost' '$WORK/log') = 2 ] && ! grep -q 'no-request' '$WORK/log'"

# The project's captures: the same pipelining against python's server, and an upload whose
# 100 Continue a snap length cut. JSON and HAR record the lost requests and one capture-gap
# warning per message, however many packets its body spans.
caps=$HSPY_SOURCE_DIR/captures
"$HSPY" read --no-tui --json "$caps/real-snaplen-pipelined.pcap" >"$WORK/json" 2>/dev/null
"$HSPY" read --no-tui --har "$WORK/har" "$caps/real-snaplen-pipelined.pcap" >/dev/null 2>&1
check "real-snaplen-pipelined: the lost requests in JSON and HAR, with their warning" \
    python3 - "$WORK/json" "$WORK/har" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
entries = json.load(open(sys.argv[2]))["log"]["entries"]
assert [r["response"]["status"] for r in recs] == [200, 200, 200], recs
assert [r["request"]["method"] for r in recs] == ["GET", None, None]
for r, e in zip(recs[1:], entries[1:]):
    assert "lost" in r["request"]["flags"] and "lost" in e["_hspy"]["request"]["flags"]
    assert "no-request" not in r["flags"], r["flags"]
    w = [w for w in r["warnings"] if w["side"] == "request"]
    assert [x["code"] for x in w] == ["snaplen-truncated"], w
    assert "pipelined" in w[0]["detail"] and "#1.1" in w[0]["detail"], w
EOF
"$HSPY" read --no-tui --json "$caps/real-snaplen-continue.pcap" >"$WORK/json" 2>/dev/null
"$HSPY" read --no-tui --har "$WORK/har" "$caps/real-snaplen-continue.pcap" >/dev/null 2>&1
check "real-snaplen-continue: one exchange, the cut 100 Continue its interim, one gap warning a side" \
    python3 - "$WORK/json" "$WORK/har" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
entries = json.load(open(sys.argv[2]))["log"]["entries"]
assert len(recs) == 1 and len(entries) == 1, (len(recs), len(entries))
r = recs[0]
got = (r["request"]["method"], r["request"]["target"], r["response"]["status"])
assert got == ("POST", "/upload", 201), got
assert [i["status"] for i in r["response"]["interim"]] == [100], r["response"]["interim"]
for side in ("request", "response"):
    gaps = [w for w in r["warnings"] if w["code"] == "capture-gap" and w["side"] == side]
    assert len(gaps) == 1, gaps
    assert " packets cut by the snap length, the first " in gaps[0]["detail"], gaps
har = [w for w in entries[0]["_hspy"]["warnings"] if w["code"] == "capture-gap"]
assert [w["detail"] for w in har] == \
    [w["detail"] for w in r["warnings"] if w["code"] == "capture-gap"], har
EOF

# The project's nginx capture at 200 bytes: its Content-Length lines were captured before the cut,
# and both records give them.
cap=$HSPY_SOURCE_DIR/captures/real-snaplen-200.pcap
"$HSPY" read --no-tui --json "$cap" >"$WORK/json" 2>/dev/null
"$HSPY" read --no-tui --har "$WORK/har" "$cap" >/dev/null 2>&1
check "a Content-Length seen before the cut: in JSON and HAR" \
    python3 - "$WORK/json" "$WORK/har" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
entries = json.load(open(sys.argv[2]))["log"]["entries"]
lengths = [r["response"]["content_length"] for r in recs]
assert 172000 in lengths, lengths
assert lengths == [e["_hspy"]["response"]["content_length"] for e in entries], lengths
EOF
finish
