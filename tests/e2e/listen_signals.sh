#!/usr/bin/env bash
# SIGINT and SIGTERM stop hspy listen cleanly: exit 0, the HAR file is a complete document with
# every exchange, including one still in flight (a response held back by a delay) and a request
# cut in the middle of its head. SIGPIPE from a vanished client never kills the process.
. "$(dirname "$0")/lib/listen.sh"
need curl python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

for sig in INT TERM; do
    printf 'match GET /held\n  delay-head 30s\n' >"$T/rules"
    listen_start --har "$T/out.$sig.har" --rules "$T/rules"
    curl -s -o /dev/null "$URL/one"
    $RAW "$PORT" --send 'GET /held HTTP/1.1\r\nHost: x\r\n\r\n' --ready "$T/held.$sig" --timeout 10 >/dev/null &
    cpid=$!
    $RAW "$PORT" --send 'GET /partial HTTP/1.1\r\nHo' --ready "$T/ready.$sig" --timeout 10 >/dev/null &
    rpid=$!
    EXTRA_PIDS="$cpid $rpid"
    # The signal comes once both have sent and hspy has read what they sent.
    wait_until 30 test -e "$T/held.$sig" -a -e "$T/ready.$sig"
    wait_until 30 socket_drained "$PORT" 2
    kill -$sig "$LISTEN_PID"
    check "SIG$sig: stopped promptly" wait_until 10 ended "$LISTEN_PID"
    wait "$LISTEN_PID"
    check "SIG$sig: exit 0" test $? -eq 0
    wait $cpid $rpid 2>/dev/null
    check "SIG$sig: in-flight exchanges say why they ended" test "$(python3 -c '
import json,sys
h = json.load(open(sys.argv[1]))
print(sum(1 for e in h["log"]["entries"] if e["_hspy"].get("error") == "hspy stopped while this exchange was in flight"))' "$T/out.$sig.har")" = 2
    check "SIG$sig: HAR is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out.$sig.har"
    check "SIG$sig: every exchange in the HAR" test "$(python3 -c '
import json,sys
h = json.load(open(sys.argv[1]))
print(sorted(e["request"]["url"].rsplit("/", 1)[-1] for e in h["log"]["entries"]))' "$T/out.$sig.har")" = "['held', 'one', 'partial']"
done

# A client that vanishes while a large response is being written: the server carries on.
# (a body larger than the socket buffers, so the response is still going out when they vanish)
head -c 32000000 /dev/zero >"$T/big.body"
listen_start --json --status 200 --body "@$T/big.body"
python3 - "$PORT" <<'PY'
import socket, sys
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(100)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
PY
check "alive after clients vanished mid-response" kill -0 "$LISTEN_PID"
check "still serving" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/after")" = 200
listen_stop
check "aborts recorded" test "$(pyq "$LISTEN_OUT" 'len([e for e in ex if "client-abort" in e["flags"]])')" -ge 1
finish
