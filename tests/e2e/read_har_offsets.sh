#!/usr/bin/env bash
# The way back from a HAR hspy wrote keeps every offset where the capture put it: exchanges whose
# bytes went back and forth (an interim 100 Continue, a CONNECT or Upgrade tunnel), with warnings
# and capture gaps on both sides of the point where the replay switches sides, are read from the
# capture (--json), written as HAR, and read back from the HAR (--json): each exchange's
# warnings (code, side, offset, detail) must be the same, and the HAR written from the HAR must
# record the same gaps, head and body offsets and split as the first. The captures are the
# project's and some written here by captures/gen/pcapgen.py (a segment never captured at a
# chosen place).
set -u
. "$HSPY_SOURCE_DIR/tests/e2e/lib/common.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
caps=$HSPY_SOURCE_DIR/captures

python3 - "$HSPY_SOURCE_DIR/captures/gen" "$WORK" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from pcapgen import Conn, Writer

T0 = 1_700_000_000_000_000_000
body = bytes(b"0123456789abcdef"[i % 16] for i in range(1500))


def continue_gaps(path):
    """Expect: 100-continue with an obs-folded field; the body's second segment never
    captured; a final response with a repeated Content-Length and its body cut the same way."""
    w = Writer(path)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40201, 80, mss=500)
    c.handshake()
    c.send(0, b"PUT /up HTTP/1.1\r\nHost: example.test\r\nX-Fold: a\r\n  b\r\n"
              b"Expect: 100-continue\r\nContent-Length: 1500\r\n\r\n")
    c.send(1, b"HTTP/1.1 100 Continue\r\n\r\n")
    c.send(0, body, drop=(1,))
    c.send(1, b"HTTP/1.1 201 Created\r\nContent-Length: 1500\r\nContent-Length: 1500\r\n\r\n"
              + body, drop=(2,))
    c.close()
    w.close()


def interims_gap(path):
    """Two interim responses, the second's segment never captured, then the final one."""
    w = Writer(path)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40202, 80)
    c.handshake()
    c.send(0, b"POST /slow HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\n"
              b"Content-Length: 4\r\n\r\n")
    c.send(1, b"HTTP/1.1 100 Continue\r\n\r\n")
    c.send(0, b"data")
    c.send(1, b"HTTP/1.1 102 Processing\r\n\r\n", drop=(0,))
    c.send(1, b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
    c.send(1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
    c.close()
    w.close()


def connect_gaps(path):
    """A CONNECT whose request head has a bare LF, answered with an odd head, then tunnel
    bytes both ways with a segment of each side never captured."""
    w = Writer(path)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40203, 3128, mss=400)
    c.handshake()
    c.send(0, b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\nX: y\r\n\r\n")
    c.send(1, b"HTTP/1.1 200 Connection established\r\nX-Dup: 1\r\nContent-Length: 0\r\n"
              b"Content-Length: 0\r\n\r\n")
    c.send(0, b"\x16\x03\x01" + body[:1200], drop=(1,))
    c.send(1, b"\x16\x03\x03" + body, drop=(2,))
    c.close()
    w.close()


def upgrade_gaps(path):
    """An Upgrade to WebSocket with a frame of each side never captured."""
    w = Writer(path)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40204, 80, mss=300)
    c.handshake()
    c.send(0, b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    c.send(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    c.send(0, b"\x81\xfe" + body[:900], drop=(1,))
    c.send(1, b"\x81\x7e" + body[:900], drop=(0,))
    c.close()
    w.close()


def connect_cut(path):
    """A CONNECT whose 200's head the snap length cut after its start line (the tunnel starts
    in the bytes cut), then tunnel bytes both ways."""
    w = Writer(path, snaplen=74)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40205, 3128)
    c.handshake()
    c.send(0, b"CONNECT example.test:443 HTTP/1.1\r\n\r\n")
    c.send(1, b"HTTP/1.1 200 OK\r\nVia: 1.1 a-proxy-with-a-long-name\r\n\r\n")
    c.send(0, b"\x16\x03\x01\x00\x04abcd")
    c.send(1, b"\x16\x03\x03\x00\x02xy")
    c.close()
    w.close()


def upgrade_cut(path):
    """An Upgrade whose 101's head the snap length cut, then frames both ways."""
    w = Writer(path, snaplen=80)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40206, 80)
    c.handshake()
    c.send(0, b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    c.send(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\n\r\n")
    c.send(0, b"\x81\x02hi")
    c.send(1, b"\x81\x02yo")
    c.close()
    w.close()


def head_unfinished(path):
    """A capture that ends inside a request head."""
    w = Writer(path)
    c = Conn(w, [T0], "10.1.0.1", "10.1.0.2", 40207, 8080)
    c.handshake()
    c.send(0, b"GET /never/finished?q=1 HTTP/1.1\r\nHost: example.test\r\nUser-Ag")
    w.close()


for fn in (continue_gaps, interims_gap, connect_gaps, upgrade_gaps, connect_cut, upgrade_cut,
           head_unfinished):
    fn("%s/%s.pcap" % (sys.argv[2], fn.__name__.replace("_", "-")))
EOF
[ -s "$WORK/continue-gaps.pcap" ] || fail "the captures were not written"

not_in() { ! grep -q "$1" "$2"; }

compare() {
    python3 - "$@" <<'EOF'
import json, sys
name, cap_json, har_json, har_a, har_b = sys.argv[1:]


def warnings(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        out[r["id"]] = [(w["code"], w["side"], w["offset"], w["detail"]) for w in r["warnings"]]
    return out


def records(path):
    keep = ("gaps", "gaps_unlisted", "gap_bytes", "head_offset", "body_offset", "interim",
            "wire_size", "kept_size", "flags")
    out = {}
    for e in json.load(open(path))["log"]["entries"]:
        hs = e["_hspy"]
        out[hs["id"]] = {s: {k: (hs[s] or {}).get(k) for k in keep}
                         for s in ("request", "response")}
        out[hs["id"]]["warnings"] = hs["warnings"]
    return out


a, b = warnings(cap_json), warnings(har_json)
assert a.keys() == b.keys(), (name, sorted(a), sorted(b))
for i in a:
    assert a[i] == b[i], "%s #%s: capture %s\nHAR %s" % (name, i, a[i], b[i])
ra, rb = records(har_a), records(har_b)
assert ra == rb, "%s: HAR records differ\n%s\n%s" % (name, ra, rb)
# The test is only worth its name when warnings and gaps lie past a split.
n = sum(len(v) for v in a.values())
g = sum(len(r[s]["gaps"] or []) for r in ra.values() for s in ("request", "response"))
print("%s: %d exchanges, %d warnings, %d gaps compared" % (name, len(a), n, g))
EOF
}

for cap in "$WORK"/continue-gaps.pcap "$WORK"/interims-gap.pcap "$WORK"/connect-gaps.pcap \
    "$WORK"/upgrade-gaps.pcap "$WORK"/connect-cut.pcap "$WORK"/upgrade-cut.pcap \
    "$WORK"/head-unfinished.pcap "$caps"/real-snaplen-continue.pcap "$caps"/real-connect.pcap \
    "$caps"/gen-connect.pcap "$caps"/gen-websocket.pcap; do
    name=$(basename "$cap")
    "$HSPY" read --no-tui --json "$cap" >"$WORK/$name.json" 2>/dev/null
    "$HSPY" read --no-tui --log none --har "$WORK/$name.a.har" "$cap" 2>/dev/null
    "$HSPY" read --no-tui --json "$WORK/$name.a.har" >"$WORK/$name.har.json" 2>"$WORK/err" ||
        fail "$name: the HAR does not read back: $(cat "$WORK/err")"
    # The replay of each entry's bytes, fed in the order the record's split says, reads them as
    # the record does.
    check "$name: every entry's bytes read as its record says" \
        not_in "do not read as their record says" "$WORK/err"
    "$HSPY" read --no-tui --log none --har "$WORK/$name.b.har" "$WORK/$name.a.har" 2>/dev/null
    check "$name: warnings and gaps at the same offsets after the HAR round trip" \
        compare "$name" "$WORK/$name.json" "$WORK/$name.har.json" "$WORK/$name.a.har" \
        "$WORK/$name.b.har"
done

# The generated captures hold what the comparison is for: warnings past the split on both sides.
check "the generated captures have warnings and gaps after their interim responses and tunnels" \
    python3 - "$WORK" <<'EOF'
import json, sys
d = sys.argv[1]
def recs(n):
    return [json.loads(l) for l in open("%s/%s.pcap.json" % (d, n))]
r = recs("continue-gaps")[0]
codes = {(w["code"], w["side"]) for w in r["warnings"]}
assert {("obs-fold", "request"), ("capture-gap", "request"), ("capture-gap", "response")} <= codes, codes
assert [i["status"] for i in r["response"]["interim"]] == [100], r["response"]["interim"]
t = recs("connect-gaps")[0]
assert "tunnel" in t["flags"], t["flags"]
assert {w["side"] for w in t["warnings"] if w["code"] == "capture-gap"} == {"request", "response"}, t["warnings"]
u = recs("upgrade-gaps")[0]
assert "tunnel" in u["flags"] and any(w["code"] == "capture-gap" for w in u["warnings"]), u
EOF
# A request head the capture ended inside: its URL from the request line as far as it came and
# the whole Host line that came, its query's pairs, in the HAR written from the capture and in
# the one written from that HAR.
check "a request head never finished: its method, URL and query in both HAR files" python3 - \
    "$WORK/head-unfinished.pcap.a.har" "$WORK/head-unfinished.pcap.b.har" <<'EOF'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))["log"]["entries"][0]["request"]
    got = (r["method"], r["url"], [(q["name"], q["value"]) for q in r["queryString"]])
    assert got == ("GET", "http://example.test/never/finished?q=1", [("q", "1")]), (path, got)
EOF
finish
