#!/usr/bin/env bash
# --pcapng writes synthesized TCP/IP packets that other tools read as the same HTTP: for every
# project capture, `hspy read CAPTURE --pcapng OUT`, then tshark -Y http on OUT finds the
# requests and responses hspy found in the capture, and `hspy read OUT` gives the same
# exchanges (bytes, heads, warnings, flags; times may differ).
# Where a capture holds evidence no synthesized packet can carry, the case is named below.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
caps=$HSPY_SOURCE_DIR/captures
command -v tshark >/dev/null || skip "tshark is needed"

# Captures where the packets cannot say everything the capture said:
#   gen-malformed: the bytes of an unreadable chunk size are not kept, so that request is cut
#     short and tshark waits for the rest of it
#   gen-retransmit-differs, gen-retransmit-late: a retransmission with other bytes is evidence
#     of the original packets only
#   real-connect: ids follow the file's packets; the tunnel, which ended last, was written last
declare -A TSHARK_SKIP=([gen-malformed.pcap]=1)
declare -A HSPY_SKIP=([gen-malformed.pcap]=1 [gen-retransmit-differs.pcap]=1 [gen-retransmit-late.pcap]=1
    [real-connect.pcap]=1)

n=0
pairs=()
tshark_files=()
for cap in "$caps"/*.pcap "$caps"/*.pcapng; do
    name=$(basename "$cap")
    out=$WORK/$name.pcapng
    "$HSPY" read --no-tui --json --pcapng "$out" "$cap" >"$WORK/$name.a.json" 2>/dev/null ||
        { fail "$name: --pcapng failed"; continue; }
    "$HSPY" read --no-tui --json "$out" >"$WORK/$name.b.json" 2>/dev/null || fail "$name: hspy cannot read it"
    [ -z "${HSPY_SKIP[$name]:-}" ] && pairs+=("$WORK/$name.a.json" "$WORK/$name.b.json")
    [ -z "${TSHARK_SKIP[$name]:-}" ] && tshark_files+=("$out")
    n=$((n + 1))
done

# What tshark's HTTP dissector finds in each pcapng (in parallel: tshark is slow to start).
printf '%s\0' "${tshark_files[@]}" | xargs -0 -P 4 -I{} sh -c \
    'tshark -r "$1" -Y http -T fields -E separator=/t -e http.request.method \
        -e http.request.uri -e http.response.code >"$1.http" 2>"$1.err" || echo "tshark failed on $1"' \
    sh {} >"$WORK/tshark.failures"
check "tshark reads the pcapng files" [ ! -s "$WORK/tshark.failures" ]
# ... is what hspy found in the capture: every request, and every response whose bytes are all
# there (tshark does not show a response it could not reassemble).
check "tshark sees the requests and responses hspy saw (${#tshark_files[@]} captures)" \
    python3 - "${tshark_files[@]}" <<'PY'
import json, sys
bad = 0
for out in sys.argv[1:]:
    want = []
    for line in open(out[: -len(".pcapng")] + ".a.json"):
        o = json.loads(line)
        req, resp = o.get("request") or {}, o.get("response") or {}
        if req.get("method"):
            want.append("%s %s" % (req["method"], req["target"]))
        if resp.get("status") and not {"gap", "truncated"} & set(o["flags"]):
            want.append("status %s" % resp["status"])
    got = []
    for line in open(out + ".http"):
        # Frames holding several pipelined messages list them comma-separated.
        cols = [c.split(",") if c else [] for c in line.rstrip("\n").split("\t")]
        methods, uris, codes = (cols + [[], [], []])[:3]
        got += ["%s %s" % m for m in zip(methods, uris)] + ["status " + c for c in codes]
    got = [g for g in got if not g.startswith("status ") or g in want]
    if sorted(want) != sorted(got) or not want:
        bad += 1
        print("%s: hspy saw %s, tshark %s" % (out, sorted(want)[:6], sorted(got)[:6]))
sys.exit(1 if bad else 0)
PY

# The same exchanges when hspy reads the pcapng: everything but times. A record without a byte
# on either side (bytes skipped at the end of a stream, reported) has no packets to write.
check "hspy reads back the same exchanges (${#pairs[@]} files)" python3 - "${pairs[@]}" <<'PY'
import json, sys
TIMES = {"started", "started_ns", "duration_ns", "timings"}
def load(path):
    out = []
    for line in open(path):
        o = json.loads(line)
        if o.get("request") is None and o.get("response") is None:
            continue
        for k in TIMES:
            o.pop(k, None)
        out.append(o)
    return out
bad = 0
for a, b in zip(sys.argv[1::2], sys.argv[2::2]):
    x, y = load(a), load(b)
    if x != y:
        bad += 1
        if len(x) != len(y):
            print("%s: %d exchanges, %d read back" % (a, len(x), len(y)))
            continue
        for i, (p, q) in enumerate(zip(x, y)):
            for k in sorted(set(p) | set(q)):
                if p.get(k) != q.get(k):
                    print("%s: exchange %d: %s: %s != %s" % (a, i, k, str(p.get(k))[:200], str(q.get(k))[:200]))
                    break
sys.exit(1 if bad else 0)
PY

# A --filter applies to the pcapng too; a file that cannot be created fails before reading.
"$HSPY" read --no-tui --log none --filter '~u /b' --pcapng "$WORK/f.pcapng" "$caps/real-keepalive.pcap"
"$HSPY" read --no-tui "$WORK/f.pcapng" >"$WORK/f.log"
verify "--filter limits the pcapng" '[ "$(wc -l <"$WORK/f.log")" = 1 ] && grep -q "GET /b.txt" "$WORK/f.log"'
rc=0
"$HSPY" read --no-tui --pcapng "$WORK/missing/x.pcapng" "$caps/real-keepalive.pcap" >/dev/null 2>"$WORK/err" || rc=$?
verify "--pcapng into a missing folder: status 1" '[ "$rc" = 1 ] && grep -q "x.pcapng: No such file" "$WORK/err"'
# A HAR read and written as pcapng: the session format and the capture format agree.
"$HSPY" read --no-tui --log none --har "$WORK/k.har" "$caps/real-pipelining.pcap"
"$HSPY" read --no-tui --log none --pcapng "$WORK/k.pcapng" "$WORK/k.har"
tshark -r "$WORK/k.pcapng" -Y http -T fields -e http.request.uri 2>/dev/null | tr ',' '\n' | grep . >"$WORK/k.uris"
check "HAR -> pcapng -> tshark: the requests" [ "$(tr '\n' ' ' <"$WORK/k.uris")" = "/a.txt /b.txt /c.txt " ]
# A record claiming 2^62 bytes counted but not kept (and one a negative count) cannot make the
# export build packets without end: the first is left out and said so, the other written.
python3 - "$WORK/k.har" "$WORK/huge.har" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
entries = doc["log"]["entries"]
entries[0]["_hspy"]["response"]["wire_size"] = 1 << 62
entries[1]["_hspy"]["request"]["wire_size"] = -130
json.dump(doc, open(sys.argv[2], "w"))
PY
rc=0
timeout 60 "$HSPY" read --no-tui --log none --pcapng "$WORK/huge.pcapng" "$WORK/huge.har" 2>"$WORK/huge.err" || rc=$?
verify "an absurd size in a HAR: status 0, the exchange left out and said so" \
    '[ "$rc" = 0 ] && grep -q "huge.pcapng: 1 exchange left out: each counted more than 31 GiB it did not keep" "$WORK/huge.err"'
"$HSPY" read --no-tui "$WORK/huge.pcapng" >"$WORK/huge.log"
verify "... the other two written, on the connection its handshake opened" '[ "$(grep -c -E "(GET /b|HEAD /c).txt" "$WORK/huge.log")" = 2 ] && ! grep -q midstream "$WORK/huge.log"'
finish
