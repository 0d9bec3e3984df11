#!/usr/bin/env bash
# Faults around hspy: an upstream that refuses, stalls, resets mid-head and mid-body, sends
# garbage or closes early (proxy); clients that give up mid-upload and mid-download (FIN and
# RST; listen and proxy); a full disk and a file size limit under --har; readers of stdout and
# of the HAR that go away (SIGPIPE); a command that exits without reading its request body.
# Each is shown where it belongs (on the exchange, or on standard error for outputs) and the
# process keeps serving.
. "$(dirname "$0")/lib/common.sh"
command -v curl >/dev/null || skip "curl is not installed"

# exchanges FILE EXPR: evaluates EXPR over the JSON lines of FILE (`ex` is the list).
exchanges() {
    "$PYTHON" - "$1" "$2" <<'PY'
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
PY
}

serving() {
    test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/still-serving")" = 200
}

# records FILE N TARGET...: FILE (hspy's --json) holds N or more exchanges for the TARGETs. An
# abandoned transfer is recorded once hspy sees the client gone: stopping hspy before that
# would record it as in flight instead.
records() {
    local f=$1 n=$2 t pattern=
    shift 2
    for t in "$@"; do pattern="$pattern${pattern:+|}\"target\":\"$t\""; done
    at_least "$n" grep -cE "$pattern" "$f"
}

# --- clients giving up ----------------------------------------------------------------------
scene client-abort "clients walking away mid-download and mid-upload (FIN and RST)"
mkdir -p "$WORK/files"
truncate -s 200M "$WORK/files/big.bin"
hs_start abort listen --json --serve "$WORK/files" 0
APID=$HS_PID APORT=$HS_PORT
for kind in download-fin download-rst; do
    stress abort "$APORT" "$kind" /big.bin >"$WORK/$kind.json"
done
wait_until 30 records "$WORK/abort.out" 2 /big.bin
hs_stop "$APID" abort
hs_start abort-up listen --json 0
UPID=$HS_PID UPORT=$HS_PORT
for kind in upload-fin upload-rst; do
    stress abort "$UPORT" "$kind" >"$WORK/$kind.json"
done
wait_until 30 records "$WORK/abort-up.out" 2 /up
check "alive and serving after the aborts" serving "$UPORT"
mem "$UPID"
hs_stop "$UPID" abort-up
cat "$WORK/abort.out" "$WORK/abort-up.out" >"$WORK/aborts.out"
sent "downloads of a 200 MB file left after $(lastjson "$WORK/download-fin.json" moved) and $(lastjson "$WORK/download-rst.json" moved) bytes; uploads declaring 100 MB left after $(lastjson "$WORK/upload-fin.json" moved) bytes (FIN, then RST)"
back "$(exchanges "$WORK/aborts.out" '[(e["request"]["method"], e["flags"], sorted(set(w["code"] for w in e["warnings"]))) for e in ex if e["request"]["target"] != "/still-serving"]')"
check "every abandoned transfer is flagged client-abort" test "$(exchanges "$WORK/aborts.out" 'sum("client-abort" in e["flags"] and any(w["code"] == "client-abort" for w in e["warnings"]) for e in ex)')" = 4
check "and incomplete" test "$(exchanges "$WORK/aborts.out" 'sum("incomplete" in e["flags"] for e in ex)')" = 4
verdict

# --- upstream faults (proxy) -----------------------------------------------------------------
scene upstream-faults "hspy proxy in front of an upstream that misbehaves in every way, then a closed port"
rm -f "$WORK/origin.port"
stress origin "$WORK/origin.port" &
BG_PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$WORK/origin.port" ] && break; sleep 0.05; done
[ -s "$WORK/origin.port" ] || { echo "FAIL: the origin did not start"; exit 1; }
OPORT=$(cat "$WORK/origin.port")
hs_start proxy proxy --json --upstream-timeout 2s 0 "127.0.0.1:$OPORT"
XPID=$HS_PID XPORT=$HS_PORT
FAULTS=(stall reset-head reset-body garbage close-head close-early)
got=()
for f in ok "${FAULTS[@]}" ok; do
    got+=("$f=$(curl -s -o /dev/null -w '%{http_code}/%{size_download}' --max-time 10 "http://127.0.0.1:$XPORT/$f")")
done
# the upstream resets while hspy still writes a 20 MB request body to it (EPIPE/ECONNRESET on
# hspy's side: SIGPIPE must not end it)
for ((i = 0; i < 3; i++)); do
    got+=("drop-upload=$(head -c 20000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -H 'Expect:' -T - --max-time 20 "http://127.0.0.1:$XPORT/drop-upload")")
done
check "alive and serving after every fault" serving "$XPORT"
mem "$XPID"
hs_stop "$XPID" proxy
hs_start refused proxy --json 0 "127.0.0.1:$(free_port)"
refused=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$HS_PORT/refused")
check "refused upstream: 502" test "$refused" = 502
hs_stop "$HS_PID" refused
sent "GET /ok, then /${FAULTS[*]} (the upstream stalls, resets or closes mid-head and mid-body, sends garbage), /ok; 3 uploads of 20 MB reset by the upstream after 64 KiB; and one request to an upstream port nobody listens on"
back "status/body bytes: ${got[*]} refused=$refused"
faults_seen=$(exchanges "$WORK/proxy.out" '" ".join("%s:%s:%s" % (e["request"]["target"][1:], e["response"]["status"] if e["response"] else None, ",".join(f for f in e["flags"] if f != "done")) for e in ex)')
note "recorded: $faults_seen"
check "every fault shown on its exchange (flag, upstream-error warning, the reason)" "$PYTHON" -c '
import json, sys
all_ = [json.loads(l) for l in open(sys.argv[1])]
ex = {e["request"]["target"]: e for e in all_}
want = {"/stall": 504, "/reset-head": 502, "/garbage": 502, "/close-head": 502,
        "/reset-body": 200, "/close-early": 200}
for t, st in want.items():
    e = ex[t]
    assert e["response"]["status"] == st, (t, e["response"]["status"])
    assert "upstream-fail" in e["flags"], (t, e["flags"])
    assert any(w["code"] == "upstream-error" for w in e["warnings"]), (t, e["warnings"])
    assert e["error"], t
for t in ("/reset-body", "/close-early"):
    assert "incomplete" in ex[t]["flags"], (t, ex[t]["flags"])
drops = [e for e in all_ if e["request"]["target"] == "/drop-upload"]
assert len(drops) == 3, len(drops)
for e in drops:
    assert "upstream-fail" in e["flags"], e["flags"]
    assert any(w["code"] == "upstream-error" for w in e["warnings"]), e["warnings"]
oks = [e for e in all_ if e["request"]["target"] == "/ok"]
assert len(oks) == 2 and all(e["response"]["status"] == 200 and "upstream-fail" not in e["flags"]
                             for e in oks), oks
assert "\x1b" not in open(sys.argv[1]).read()' "$WORK/proxy.out"
check "the clients were told (502/504 before any answer, the answer cut short after)" test \
    "$(echo "${got[*]}" | sed -E 's#(=50[24])/[0-9]+#\1#g')" = "ok=200/2 stall=504 reset-head=502 reset-body=200/5000 garbage=502 close-head=502 close-early=200/1000 ok=200/2 drop-upload=502 drop-upload=502 drop-upload=502"
check "the refusal shown on its exchange" grep -q '"upstream-fail"' "$WORK/refused.out"
verdict

scene client-abort-proxy "clients walking away through hspy proxy mid-download and mid-upload (FIN and RST)"
echo ok >"$WORK/files/still-serving"
hs_start serve-up listen --log none --serve "$WORK/files" 0
SUPID=$HS_PID
hs_start pabort proxy --json 0 "127.0.0.1:$HS_PORT"
PAPID=$HS_PID PAPORT=$HS_PORT
for kind in download-fin download-rst upload-fin upload-rst; do
    stress abort "$PAPORT" "$kind" /big.bin >"$WORK/p-$kind.json"
done
wait_until 30 records "$WORK/pabort.out" 4 /big.bin /up
check "alive and serving after the aborts" serving "$PAPORT"
mem "$PAPID"
hs_stop "$PAPID" pabort
hs_stop "$SUPID" serve-up
sent "through the proxy: downloads of a 200 MB file left after $(lastjson "$WORK/p-download-fin.json" moved) and $(lastjson "$WORK/p-download-rst.json" moved) bytes; uploads declaring 100 MB left after $(lastjson "$WORK/p-upload-fin.json" moved) bytes"
back "$(exchanges "$WORK/pabort.out" '[(e["request"]["method"], e["flags"], sorted(set(w["code"] for w in e["warnings"]))) for e in ex if e["request"]["target"] != "/still-serving"]')"
check "every abandoned transfer is flagged client-abort" test "$(exchanges "$WORK/pabort.out" 'sum("client-abort" in e["flags"] for e in ex)')" = 4
verdict

# --- a command that does not read its input ---------------------------------------------------
scene exec-epipe "--exec true given a 50 MB request body it never reads"
hs_start exec listen --json --exec true 0
code=$(head -c 50000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -T - --max-time 60 "http://127.0.0.1:$HS_PORT/upload")
sent "50000000 bytes to a command that exits at once"
back "status $code"
check "answered (the command's empty output is a 200)" test "$code" = 200
check "alive and serving" serving "$HS_PORT"
mem "$HS_PID"
# curl leaves once answered; hspy may still be reading what it sent (a slow build takes
# seconds over 50 MB): the record is printed when the body has all arrived.
for ((i = 0; i < 300; i++)); do grep -q '"target":"/upload"' "$WORK/exec.out" 2>/dev/null && break; sleep 0.1; done
hs_stop "$HS_PID" exec
check "the exchange recorded the whole body" test "$(exchanges "$WORK/exec.out" '[e["request"]["body_size"] for e in ex if e["request"]["target"] == "/upload"]')" = "[50000000]"
# hspy ignores SIGPIPE; its commands must not inherit that (a pipeline in a handler would
# then see write errors instead of ending quietly)
hs_start exec-sig listen --exec "sh -c 'echo; grep SigIgn /proc/self/status'" 0
ign=$(curl -s --max-time 10 "http://127.0.0.1:$HS_PORT/" | awk '$1 == "SigIgn:" {print $2}')
hs_stop "$HS_PID" exec-sig
note "ignored signals of a command: ${ign:-none read}"
check "commands start with SIGPIPE at its default action" \
    "$PYTHON" -c 'import sys; sys.exit(1 if int(sys.argv[1], 16) & (1 << 12) else 0)' "${ign:-1000}"
verdict

# --- outputs failing ------------------------------------------------------------------------
N=$(pick 100 2000 100)
# flood_requests PORT N: N requests with 300 bytes of header each.
flood_requests() {
    local i
    {
        printf 'header = "X-Pad: %s"\n' "$(head -c 300 /dev/zero | tr '\0' a)"
        for ((i = 1; i <= $2; i++)); do
            printf 'url = "http://127.0.0.1:%s/r%d"\noutput = /dev/null\n' "$1" "$i"
        done
    } >"$WORK/curl.cfg"
    curl -s --parallel --parallel-max 8 -K "$WORK/curl.cfg" 2>/dev/null
}

# har_valid FILE: a complete HAR document; prints its number of entries.
har_entries() {
    "$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' "$1"
}

scene disk-full "--har on a 64 KiB tmpfs (private mount namespace) while $N requests come in"
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    mkdir -p "$WORK/tiny" "$WORK/saved"
    # hspy runs inside the namespace; the shell there keeps the file system mounted until hspy
    # ended, then validates and saves the HAR where the test can see it.
    unshare -m sh -c '
        mount -t tmpfs -o size=64k tmpfs "$1" || exit 90
        "$2" listen --json --har "$1/out.har" 0 >"$3/full.out" 2>"$3/full.err" &
        echo $! >"$3/full.pid"
        wait $!
        echo $? >"$3/full.rc"
        cp "$1/out.har" "$4/out.har"
        df -k "$1" | tail -1 >"$3/full.df"' sh "$WORK/tiny" "$HSPY" "$WORK" "$WORK/saved" &
    for ((i = 0; i < 100; i++)); do
        [ -s "$WORK/full.pid" ] && grep -q "listening on" "$WORK/full.err" 2>/dev/null && break
        sleep 0.05
    done
    FPID=$(cat "$WORK/full.pid" 2>/dev/null)
    FPORT=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/full.err" 2>/dev/null)
    if [ -z "$FPORT" ]; then
        note "cannot mount a tmpfs here; skipped"
    else
        flood_requests "$FPORT" "$N"
        check "alive and serving with the disk full" serving "$FPORT"
        mem "$FPID"
        kill -TERM "$FPID"
        for ((i = 0; i < 200; i++)); do [ -s "$WORK/full.rc" ] && break; sleep 0.05; done
        sent "$N requests (+1 probe), HAR on a 64 KiB file system"
        back "stderr: $(grep -c 'write failed: No space left' "$WORK/full.err") 'write failed' report(s); $(grep -o '[0-9]* records could not be written.*' "$WORK/full.err")"
        note "file system at the end: $(cat "$WORK/full.df")"
        check "exit status 1: output was lost" test "$(cat "$WORK/full.rc")" = 1
        check "the failure is reported on stderr" grep -q "out.har: write failed: No space left on device" "$WORK/full.err"
        check "losses are counted" grep -q "records could not be written" "$WORK/full.err"
        check "no sanitizer report" sanitizer_clean "$WORK/full.err"
        entries=$(har_entries "$WORK/saved/out.har" || echo invalid)
        check "the HAR on the full disk is still a complete document ($entries entries)" test "$entries" -gt 0
        check "stdout got every exchange" test "$(wc -l <"$WORK/full.out")" = $((N + 1))
    fi
else
    note "unshare -m not permitted here (needs root); skipped"
fi
verdict

scene file-size-limit "--har under a 32 KiB file size limit (SIGXFSZ must not kill)"
# stdout goes through a pipe: the limit applies to files hspy writes, and only the HAR is one
(
    ulimit -f 32
    "$HSPY" listen --json --har "$WORK/limited.har" 0
    echo $? >"$WORK/fsize.rc"
) 2>"$WORK/fsize.err" | cat >"$WORK/fsize.out" &
for ((i = 0; i < 100; i++)); do grep -q "listening on" "$WORK/fsize.err" && break; sleep 0.05; done
LPID=$(pgrep -f "listen --json --har $WORK/limited.har" | head -1)
BG_PIDS+=("$LPID")
LPORT=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/fsize.err")
flood_requests "$LPORT" "$N"
check "alive and serving past the limit" serving "$LPORT"
mem "$LPID"
hs_stop "$LPID" fsize "$WORK/fsize.rc" 1 # HAR entries were lost
entries=$(har_entries "$WORK/limited.har" || echo invalid)
sent "$N requests (+1 probe), HAR limited to 32 KiB"
back "HAR $(stat -c %s "$WORK/limited.har") bytes, $entries entries; $(grep -o '[0-9]* records could not be written.*' "$WORK/fsize.err")"
check "the failure is reported (File too large)" grep -q "write failed: File too large" "$WORK/fsize.err"
check "the HAR is a complete document" test "$entries" -gt 0
check "stdout got every exchange" test "$(wc -l <"$WORK/fsize.out")" = $((N + 1))
verdict

scene sigpipe "stdout read by 'head -c 100', the HAR written to a FIFO whose reader leaves"
mkfifo "$WORK/har.fifo"
head -c 100 "$WORK/har.fifo" >/dev/null &
BG_PIDS+=($!)
{
    "$HSPY" listen --har "$WORK/har.fifo" 0 2>"$WORK/pipe.err"
    echo $? >"$WORK/pipe.rc"
} | head -c 100 >/dev/null &
for ((i = 0; i < 100; i++)); do grep -q "listening on" "$WORK/pipe.err" 2>/dev/null && break; sleep 0.05; done
PPORT=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/pipe.err")
PPID_=$(pgrep -f "listen --har $WORK/har.fifo" | head -1)
BG_PIDS+=("$PPID_")
flood_requests "$PPORT" "$N"
check "alive and serving after both readers left" serving "$PPORT"
mem "$PPID_"
hs_stop "$PPID_" pipe "$WORK/pipe.rc" 1 # stdout's reader leaving is quiet, the HAR's is not
sent "$N requests; both readers gone after 100 bytes"
back "stderr: $(grep -v 'listening on' "$WORK/pipe.err" | tr '\n' ' ')"
check "the HAR reader's departure is reported" grep -q "har.fifo: write failed: Broken pipe" "$WORK/pipe.err"
verdict

finish
