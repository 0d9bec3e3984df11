#!/usr/bin/env bash
# `hspy read -` from a pipe, without a terminal: every capture of the project (tcpdump-made and
# generated, pcap and pcapng) piped in prints what reading the file prints; a capture that
# arrives in two parts with a pause between them (cut inside a record) prints its first
# exchange during the pause and the rest after; --bpf works on a pipe; Ctrl-C during a quiet
# pipe ends the reading cleanly; a record announcing 2 GiB is reported as corruption at once,
# without waiting for the writer to finish and without buffering it. A HAR document on a pipe
# is shown as it arrives too, and Ctrl-C during a pause ends its reading at once.
source "$(dirname "$0")/lib/common.sh"
caps=$HSPY_SOURCE_DIR/captures
slowpipe=$HSPY_SOURCE_DIR/tests/e2e/lib/slowpipe.py
[ -f "$caps/real-python.pcapng" ] || skip "the project's captures are not in this tree"

# same_as_file FILE ARGS...: cat FILE | hspy read - ARGS prints what hspy read FILE ARGS does
# (standard output, and standard error with the file's name read as stdin).
same_as_file() {
    local f=$1
    shift
    cat "$f" | "$HSPY" read - --no-tui "$@" >"$WORK/pipe.out" 2>"$WORK/pipe.err" || return 1
    "$HSPY" read "$f" --no-tui "$@" >"$WORK/file.out" 2>"$WORK/file.err" || return 1
    sed -i "s|$f|stdin|g" "$WORK/file.err"
    cmp -s "$WORK/pipe.out" "$WORK/file.out" && cmp -s "$WORK/pipe.err" "$WORK/file.err" || {
        diff "$WORK/pipe.out" "$WORK/file.out" | head -5
        diff "$WORK/pipe.err" "$WORK/file.err" | head -5
        return 1
    }
}

n=0
for f in "$caps"/*.pcap "$caps"/*.pcapng; do
    check "$(basename "$f") through a pipe, log lines" same_as_file "$f"
    check "$(basename "$f") through a pipe, JSON lines" same_as_file "$f" --json
    n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n captures found"
check "the filter language on a pipe" same_as_file "$caps/real-pipelining.pcap" --filter '~c 2xx'
check "--bpf on a pipe (packets the filter drops are skipped)" \
    same_as_file "$caps/real-python.pcapng" --bpf 'tcp port 8000'
cat "$caps/real-python.pcapng" | "$HSPY" read - --no-tui --bpf 'tcp port 1' >"$WORK/none.out"
check "--bpf that matches nothing gives nothing" test ! -s "$WORK/none.out"

# A pipe or FIFO named by path (the /dev/fd/N of `<(tcpdump -w -)`, a mkfifo) is read as a pipe on
# standard input is: nothing lost to looking at its first bytes.
"$HSPY" read "$caps/real-python.pcapng" --no-tui --json >"$WORK/file.out" 2>/dev/null
"$HSPY" read <(cat "$caps/real-python.pcapng") --no-tui --json >"$WORK/subst.out" 2>"$WORK/subst.err"
check "a capture from process substitution" cmp -s "$WORK/subst.out" "$WORK/file.out"
mkfifo "$WORK/fifo"
cat "$caps/real-python.pcapng" >"$WORK/fifo" &
BG_PIDS+=("$!") # stopped on exit should hspy never open the FIFO
timeout 20 "$HSPY" read "$WORK/fifo" --no-tui --json >"$WORK/fifo.out" 2>"$WORK/fifo.err"
check "a capture from a named FIFO" cmp -s "$WORK/fifo.out" "$WORK/file.out"
# Messages name the FIFO as given, though it is read from standard input.
mkfifo "$WORK/junk.fifo"
printf 'not a capture\n' >"$WORK/junk.fifo" &
BG_PIDS+=("$!")
timeout 20 "$HSPY" read "$WORK/junk.fifo" --no-tui >/dev/null 2>"$WORK/junk.err" || true
check "an error about a FIFO names it" \
    grep -qx "hspy: $WORK/junk.fifo: not a pcap, pcapng or HAR file" "$WORK/junk.err"
"$HSPY" read "$caps/real-python.pcapng" --no-tui --har "$WORK/doc.har" >/dev/null 2>&1
"$HSPY" read "$WORK/doc.har" --no-tui >"$WORK/har.file" 2>/dev/null
"$HSPY" read <(cat "$WORK/doc.har") --no-tui >"$WORK/har.subst" 2>/dev/null
check "a HAR document from process substitution" \
    bash -c "test -s '$WORK/har.file' && cmp -s '$WORK/har.subst' '$WORK/har.file'"

# A cut file through a pipe: the same warning as the file, counting the packets before the cut.
size=$(stat -c %s "$caps/real-python.pcapng")
head -c $((size - 700)) "$caps/real-python.pcapng" >"$WORK/cut.pcapng"
check "a capture cut inside a record" same_as_file "$WORK/cut.pcapng"
grep -q "stdin: the file is cut short inside a record; the [0-9]* packets before the cut" \
    "$WORK/pipe.err" || fail "cut warning: $(cat "$WORK/pipe.err")"

# slow_read FILE CUT: the capture arrives in two parts; the first exchange must be printed while
# the writer waits, and everything once it ends.
slow_read() {
    local f=$1 cut=$2 i
    rm -f "$WORK/go" "$WORK/slow.out"
    python3 "$slowpipe" "$f" "$cut" "$WORK/go" | "$HSPY" read - --no-tui >"$WORK/slow.out" 2>&1 &
    local pid=$!
    for ((i = 0; i < 200; i++)); do
        [ -s "$WORK/slow.out" ] && break
        sleep 0.05
    done
    local early=0
    [ -s "$WORK/slow.out" ] && early=1
    touch "$WORK/go"
    wait "$pid" || return 1
    [ "$early" = 1 ] || { echo "nothing printed during the pause"; return 1; }
    "$HSPY" read "$f" --no-tui >"$WORK/file.out" 2>&1
    cmp -s "$WORK/slow.out" "$WORK/file.out" || { diff "$WORK/slow.out" "$WORK/file.out"; return 1; }
}
check "pcapng in two parts, cut inside a block" slow_read "$caps/real-python.pcapng" 3000
check "pcap in two parts, cut inside a record" slow_read "$caps/real-keepalive.pcap" 1500

# interrupt_quiet NAME FILE CUT OUT ARGS...: FILE arrives in two parts (slowpipe) into
# `hspy read - --no-tui ARGS`, whose standard output is OUT; once it printed something, Ctrl-C
# must end it at once, exit status 0. bash's wait for hspy would also wait for the writer, which
# waits for the go file: hspy's end is seen in /proc (gone, or a zombie) before the writer is
# let go.
interrupt_quiet() {
    local name=$1 f=$2 cut=$3 out=$4 i state pid rc=0
    shift 4
    rm -f "$WORK/go"
    python3 "$slowpipe" "$f" "$cut" "$WORK/go" |
        "$HSPY" read - --no-tui "$@" >"$out" 2>"$out.err" &
    pid=$! # $! of a pipeline: its last command, hspy
    for ((i = 0; i < 200; i++)); do [ -s "$out" ] && break; sleep 0.05; done
    kill -INT "$pid"
    for ((i = 0; i < 100; i++)); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        [ -z "$state" ] || [ "$state" = Z ] && break
        sleep 0.05
    done
    check "Ctrl-C on a quiet $name ends the reading at once (${i}/100 waits)" test "$i" -lt 100
    touch "$WORK/go"
    wait "$pid" || rc=$?
    check "Ctrl-C on a quiet $name: exit status 0" test "$rc" = 0
    check "Ctrl-C on a quiet $name: the first exchange printed" grep -q "GET /a.txt 200" "$out"
}

# Ctrl-C while the pipe is quiet: what was read is printed, exit status 0.
interrupt_quiet pipe "$caps/real-python.pcapng" 3000 "$WORK/int.out"

# held_fifo_read FILE OUT: FILE through a FIFO whose writer stays open 30 s after it, into
# `hspy read - --no-tui` for at most 10 s; OUT.out and OUT.err get what it printed, rc its status.
held_fifo_read() {
    local f=$1 out=$2 writer
    rm -f "$WORK/held.fifo"
    mkfifo "$WORK/held.fifo"
    (cat "$f" && exec sleep 30) >"$WORK/held.fifo" &
    writer=$!
    BG_PIDS+=("$writer")
    rc=0
    timeout 10 "$HSPY" read - --no-tui <"$WORK/held.fifo" >"$out.out" 2>"$out.err" || rc=$?
    stop_pid "$writer"
}

# A record announcing 2 GiB, with the writer still there: reported at once, nothing buffered.
python3 - "$caps/real-keepalive.pcap" "$WORK/huge.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
# the second record's header claims 2 GiB
caplen = struct.unpack_from("<I", d, 24 + 8)[0]
at = 24 + 16 + caplen
b = bytearray(d)
struct.pack_into("<I", b, at + 8, 0x7FFFFFFF)
open(sys.argv[2], "wb").write(b)
PY
held_fifo_read "$WORK/huge.pcap" "$WORK/huge"
check "a hostile length ends the reading without waiting for the writer" test "$rc" = 0
check "a hostile length is reported as corruption after the packet before it" \
    grep -q "hspy: warning: stdin: corrupt capture after packet 1 (a record announcing 2147483647 bytes" "$WORK/huge.err"

# Blocks without a packet, past what the pump holds (PUMP_BUFFER_MAX, 33 MiB): each block is of a
# plausible size, so only the total says the stream is no capture hspy can read on.
python3 - "$WORK/blocks.pcapng" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))  # section header
    f.write(struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20))                     # interface, Ethernet
    body = b"\0" * (8 << 20)
    for _ in range(5):                                                          # 40 MiB, no packet
        f.write(struct.pack("<II", 0x00000BAD, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))
PY
held_fifo_read "$WORK/blocks.pcapng" "$WORK/blocks"
check "blocks without a packet past the buffer end the reading (exit $rc)" test "$rc" = 0
check "and are reported as corruption" grep -q "MiB of blocks without a packet" "$WORK/blocks.err"

# A HAR document on a pipe is read as it arrives: cut after its first entry, that entry is
# printed while the writer pauses, and the rest once it goes on; Ctrl-C during the pause ends
# the reading at once with what was read saved.
"$HSPY" read --no-tui --log none --save "$WORK/s.har" "$caps/real-pipelining.pcap"
hcut=$(python3 -c 'import sys; s = open(sys.argv[1], "rb").read()
print(s.index(b",\n{", s.index(b"\"entries\":[")) + 1)' "$WORK/s.har")
check "HAR in two parts, cut after the first entry" slow_read "$WORK/s.har" "$hcut"
interrupt_quiet "HAR pipe" "$WORK/s.har" "$hcut" "$WORK/hint.out" --save "$WORK/int.har"
check "Ctrl-C on a quiet HAR pipe: the entry read is saved" python3 -c 'import json, sys
assert len(json.load(open(sys.argv[1]))["log"]["entries"]) == 1' "$WORK/int.har"

# A HAR document ends at its closing brace: a writer that keeps the pipe open after it is not
# waited for, and every entry is printed.
held_fifo_read "$WORK/s.har" "$WORK/held-har"
check "a HAR pipe held open after the document ends the reading (exit $rc)" test "$rc" = 0
"$HSPY" read "$WORK/s.har" --no-tui >"$WORK/har-whole.out" 2>/dev/null
check "and prints every entry, as reading the file does" \
    bash -c "test -s '$WORK/har-whole.out' && cmp -s '$WORK/held-har.out' '$WORK/har-whole.out'"
finish
