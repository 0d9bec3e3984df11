#!/usr/bin/env bash
# `hspy read` at its edges: not a capture, missing file (its name shown safely), unsupported
# link type, a file cut inside a record, stdin, a BPF filter, a bad filter, and a corrupt record
# header in the middle of a classic pcap (skipped, decoding goes on).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
caps=$HSPY_SOURCE_DIR/captures
fail() { echo "FAIL: $*"; exit 1; }

# Not a capture: one line, exit 1, before any screen.
rc=0; "$HSPY" read --no-tui "$caps/README.md" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "README.md: status $rc"
grep -qx "hspy: $caps/README.md: not a pcap, pcapng or HAR file" "$tmp/err" || fail "message: $(cat "$tmp/err")"

# An empty input (a file, stdin, a pipe closed at once) says so rather than "not a capture".
: >"$tmp/empty.pcap"
rc=0; "$HSPY" read --no-tui "$tmp/empty.pcap" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -qx "hspy: $tmp/empty.pcap: empty input: no capture or HAR document in it" "$tmp/err" ||
    fail "empty file: $rc $(cat "$tmp/err")"
rc=0; true | "$HSPY" read --no-tui - 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -qx "hspy: stdin: empty input: no capture or HAR document in it" "$tmp/err" ||
    fail "empty pipe: $rc $(cat "$tmp/err")"

rc=0; "$HSPY" read --no-tui "$tmp/none.pcap" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q "No such file" "$tmp/err" || fail "missing file: $rc $(cat "$tmp/err")"

# An error quoting a name with control bytes shows them, never sends them to the terminal.
rc=0; "$HSPY" read --no-tui "$tmp/none"$'\e[2J'".pcap" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -qF 'none\x1b[2J.pcap: No such file' "$tmp/err" &&
    ! grep -q $'\e' "$tmp/err" || fail "escaped name: $rc $(cat -v "$tmp/err")"

# A link type hspy does not decode (802.11 with radiotap, 127): named in the message.
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,127))' >"$tmp/wifi.pcap"
rc=0; "$HSPY" read --no-tui "$tmp/wifi.pcap" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q "link type IEEE802_11_RADIO .* is not supported" "$tmp/err" || fail "link type: $rc $(cat "$tmp/err")"

# Cut inside a record: exit 0, a warning naming how many packets were decoded.
size=$(stat -c %s "$caps/gen-loss.pcap")
head -c $((size - 700)) "$caps/gen-loss.pcap" >"$tmp/cut.pcap"
rc=0; "$HSPY" read --no-tui "$tmp/cut.pcap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "cut file: status $rc"
grep -q "warning: .*cut short inside a record; the [0-9]* packets before the cut were decoded" "$tmp/err" || fail "cut file: $(cat "$tmp/err")"
# The warning quotes the file's name, shown escaped like every message that quotes a name.
cp "$tmp/cut.pcap" "$tmp/cut"$'\e'"[2J.pcap"
"$HSPY" read --no-tui "$tmp/cut"$'\e'"[2J.pcap" >/dev/null 2>"$tmp/err" || true
grep -qF 'cut\x1b[2J.pcap: the file is cut short inside a record' "$tmp/err" &&
    ! grep -q $'\e' "$tmp/err" || fail "escaped name in a warning: $(cat -v "$tmp/err")"

# A pcapng whose second interface has another link type (mergecap of a loopback and an "any"
# capture): libpcap refuses it there. The packets before are decoded, the message says why the
# rest was not read (not "corrupt"), and the status is 1.
python3 - "$caps/gen-loss.pcap" "$tmp/mixed.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
out += block(1, struct.pack("<HHI", 1, 0, 65535))
off = 24
while off + 16 <= len(d):
    sec, usec, incl, orig = struct.unpack_from("<IIII", d, off)
    ts = sec * 1000000 + usec
    out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, incl, orig) + d[off + 16:off + 16 + incl])
    off += 16 + incl
out += block(1, struct.pack("<HHI", 276, 0, 65535))
out += block(6, struct.pack("<IIIII", 1, 0, 0, 4, 4) + b"\0" * 4)
open(sys.argv[2], "wb").write(out)
PY
rc=0; "$HSPY" read --no-tui "$tmp/mixed.pcapng" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "mixed link types: status $rc"
grep -q "different link types (EN10MB, then LINUX_SLL2), which libpcap's reader does not support" "$tmp/err" &&
    ! grep -q corrupt "$tmp/err" || fail "mixed link types: $(cat "$tmp/err")"
[ "$(grep -c ' GET /file' "$tmp/out")" = 3 ] || fail "mixed link types: packets before: $(cat "$tmp/out")"

# A corrupt record header in the middle: skipped with a warning, the rest decoded.
python3 - "$caps/gen-loss.pcap" "$tmp/corrupt.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
pos, n = 24, 0
while n < 10:
    cap = struct.unpack("<I", d[pos + 8:pos + 12])[0]
    pos += 16 + cap
    n += 1
d[pos + 8:pos + 12] = struct.pack("<I", 0x7fffffff)  # record 11: impossible length
open(sys.argv[2], "wb").write(d)
PY
rc=0; "$HSPY" read --no-tui "$tmp/corrupt.pcap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "corrupt record: status $rc"
grep -q "corrupt record after packet 10 .* skipped" "$tmp/err" || fail "corrupt record: $(cat "$tmp/err")"

# stdin and a BPF filter work; a bad filter is an error before anything runs.
rc=0; "$HSPY" read --no-tui - <"$caps/real-keepalive.pcap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "stdin: status $rc $(cat "$tmp/err")"
rc=0; "$HSPY" read --no-tui --bpf 'tcp port 80' "$caps/gen-loss.pcap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "bpf: status $rc $(cat "$tmp/err")"
rc=0; "$HSPY" read --no-tui --bpf 'tcp port banana' "$caps/gen-loss.pcap" >/dev/null 2>"$tmp/err" || rc=$?
# A bad value, though only the open capture's link type can judge it: a usage error.
[ "$rc" = 2 ] && grep -q "^hspy read: --bpf: filter 'tcp port banana'" "$tmp/err" &&
    grep -q "^Try 'hspy read --help'" "$tmp/err" || fail "bad bpf: $rc $(cat "$tmp/err")"

# A directory is refused by name, before anything runs.
mkdir "$tmp/adir"
rc=0; "$HSPY" read --no-tui "$tmp/adir" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q "adir: is a directory" "$tmp/err" || fail "directory: $rc $(cat "$tmp/err")"

# A pipe whose writer goes quiet (tcpdump -w - on an idle network): SIGTERM still ends the
# reading at once, with what arrived printed and status 0.
mkfifo "$tmp/fifo"
"$HSPY" read --no-tui - <"$tmp/fifo" >"$tmp/quiet" 2>"$tmp/err" &
reader=$!
exec 7>"$tmp/fifo"
cat "$caps/real-keepalive.pcap" >&7
for _ in $(seq 50); do [ "$(grep -c . "$tmp/quiet")" = 3 ] && break; sleep 0.1; done
kill -TERM "$reader"
for _ in $(seq 50); do kill -0 "$reader" 2>/dev/null || break; sleep 0.1; done
kill -0 "$reader" 2>/dev/null && { kill -KILL "$reader"; fail "SIGTERM did not end a read blocked on a quiet pipe"; }
exec 7>&-
rc=0; wait "$reader" || rc=$?
[ "$rc" = 0 ] || fail "quiet pipe stopped by SIGTERM: status $rc $(cat "$tmp/err")"
[ "$(grep -c . "$tmp/quiet")" = 3 ] || fail "quiet pipe: $(cat "$tmp/quiet")"

# With output sinks in place, one JSON object per exchange (3 in gen-loss.pcap).
"$HSPY" read --no-tui --json "$caps/gen-loss.pcap" >"$tmp/json" 2>/dev/null
lines=$(grep -c . "$tmp/json" || true)
if [ "$lines" -gt 0 ]; then
    [ "$lines" = 3 ] || fail "--json printed $lines lines, want 3"
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/json" || fail "--json: not JSON lines"
else
    echo "note: the output sinks print nothing in this build; JSON line count not checked"
fi
echo "ok"
