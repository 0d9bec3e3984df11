#!/usr/bin/env bash
# hspy proxy --buffer-requests: a slow upload is read whole before the upstream is contacted
# (the timings show it, and differ from streaming), the part past --buffer-memory lives in a
# private temporary file (mode 0600, unpredictable name, already unlinked, gone afterwards),
# bodies over --buffer-max get 413, and Expect: 100-continue is answered by hspy.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
mkdir -p "$T/tmp"
export TMPDIR=$T/tmp
upstream_start http
UP=127.0.0.1:$UPORT
head -c 3000000 /dev/urandom >"$T/body"
SHA=$(sha256sum <"$T/body" | cut -c1-64)

# A slow upload: the head and 1 MB, a pause until the file GO exists (60 s at most), then the
# rest. Prints the response's last line.
slow_upload() {
    python3 - "$1" "$T/body" "$2" <<'PY'
import os, socket, sys, time
body = open(sys.argv[2], "rb").read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
s.sendall(body[:1000000])
deadline = time.time() + 60
while not os.path.exists(sys.argv[3]) and time.time() < deadline:
    time.sleep(0.05)
s.sendall(body[1000000:])
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.strip().split(b"\n")[-1].decode())
PY
}

proxy_start --json --buffer-requests --buffer-memory 64k --buffer-max 4M "$UP"
slow_upload "$PPORT" "$T/go" >"$T/up1" &
up=$!
# Mid-upload (the client pauses after 1 MB until told to go on): the spilled body is an
# unlinked private file held open by hspy.
spill=
spilled() {
    local fd
    for fd in /proc/"$PROXY_PID"/fd/*; do
        case "$(readlink "$fd")" in "$TMPDIR"/hspy-body-*" (deleted)") spill=$fd ;; esac
    done
    [ -n "$spill" ]
}
wait_until 30 spilled
check "spilled to a temporary file" test -n "$spill"
check "the file is private (0600)" test "$(stat -L -c %a "$spill" 2>/dev/null)" = 600
name=$(readlink "$spill" | sed 's|.*/hspy-body-\(.*\) (deleted)|\1|')
check "its name has a random part" test "${#name}" = 6
check "its name is already gone from the folder" test -z "$(ls "$TMPDIR")"
touch "$T/go"
wait $up
check "buffered upload arrives whole" test "$(cat "$T/up1")" = "3000000 $SHA length"
for i in $(seq 200); do [ -z "$(ls -l /proc/"$PROXY_PID"/fd | grep hspy-body)" ] && break; sleep 0.05; done
check "the file is closed afterwards" test -z "$(ls -l /proc/"$PROXY_PID"/fd | grep hspy-body)"
# Over --buffer-max.
head -c 5000000 /dev/zero >"$T/big"
check "over --buffer-max: 413" test "$(curl -s -o "$T/413" -w '%{http_code}' --data-binary @"$T/big" "$PURL/upload")" = 413
check "... with the reason" grep -q 'over the limit of 4194304 bytes (--buffer-max)' "$T/413"
# Expect: 100-continue: hspy says 100 itself (the body has to come before the upstream is asked).
check "100-continue with buffering" \
    test "$(curl -s -H 'Expect: 100-continue' --expect100-timeout 30 --data-binary @"$T/body" "$PURL/upload")" = "3000000 $SHA length"
proxy_stop
B=$PROXY_OUT

# The same slow upload streamed (no buffering), for the timings.
proxy_start --json "$UP"
# (The client goes on once hspy has connected to the upstream, or after 30 s.)
slow_upload "$PPORT" "$T/go2" >"$T/up2" &
up=$!
wait_until 30 eval 'ss -Htn state established "( dport = :$UPORT )" | grep -q .'
touch "$T/go2"
wait $up
check "streamed upload arrives whole" test "$(cat "$T/up2")" = "3000000 $SHA length"
proxy_stop
S=$PROXY_OUT

order='[e["timings"]["request_last_byte"] <= e["timings"]["upstream_connect"] for e in ex if e["request"]["target"] == "/upload" and e["request"]["body_size"] == 3000000][0]'
check "buffered: the whole request came before the upstream was contacted" test "$(pyq "$B" "$order")" = True
check "streamed: the upstream was contacted before the request ended" test "$(pyq "$S" "$order")" = False
check "buffered: the 413 recorded with its reason" \
    test "$(pyq "$B" '[e["response"]["status"] for e in ex if "--buffer-max" in (e["error"] or "")][0]')" = 413
check "buffered: hspy's 100 recorded as interim" \
    test "$(pyq "$B" '[len(e["response"]["interim"]) >= 1 for e in ex if any(h[0].lower() == "expect" for h in e["request"]["headers"])][0]')" = True
check "no temporary files left" test -z "$(ls "$TMPDIR")"
finish
