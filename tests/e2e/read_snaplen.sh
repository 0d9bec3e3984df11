#!/usr/bin/env bash
# `hspy read` of captures whose packets a snap length cut: python's http.server (HTTP/1.1,
# keep-alive) serves a small file, 300,000 bytes and the small file again on one curl
# connection, captured by tcpdump -s 100 (only the start lines of the heads fit) and -s 200.
# Each exchange must show its method, target, status and body size as sent, no exchange may be
# made up from the bytes that follow a cut head, the missing bytes are said to be the snap
# length's (never --body-keep's), and the JSON says which heads were cut and why.
set -u
. "$HSPY_SOURCE_DIR/tests/e2e/lib/common.sh"

for tool in curl tcpdump python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "capturing on loopback needs root"

mkdir -p "$WORK/www"
printf 'small\n' >"$WORK/www/a.txt"
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
