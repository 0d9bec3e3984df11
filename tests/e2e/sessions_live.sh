#!/usr/bin/env bash
# Live sessions' files. `hspy listen` with --har, --save and --pcapng while curl sends requests,
# ended with SIGTERM: --save is written at that exit and holds what --har streamed; the pcapng
# holds the exchanges as packets (tshark sees the requests, hspy reads back the same bytes);
# and curl commands exported from a capture, sent to hspy listen, arrive byte for byte. Then
# the same files from `hspy sniff` on loopback watching curl and python's http.server (needs
# root for the capture).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
command -v curl >/dev/null || skip "curl is needed"
har() { python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/har.py" "$@"; }
caps=$HSPY_SOURCE_DIR/captures

# http_requests PCAPNG PORT: the request targets tshark's HTTP dissector finds, sorted. The
# server's port is random, and a client's random port can be one tshark gives another protocol
# (34980 is EtherCAT's): without "decode as" for the server's port, which tshark tries first, a
# request on such a connection was once dissected as EtherCAT and missed.
http_requests() {
    tshark -r "$1" -d "tcp.port==$2,http" -Y http.request -T fields -e http.request.uri 2>/dev/null | sort
}

# sees_requests URIS PCAPNG PORT WANT...: the request targets tshark found (URIS, sorted) are
# WANT. When they are not, prints what tshark saw packet by packet.
sees_requests() {
    local uris=$1 png=$2 port=$3
    shift 3
    diff "$uris" <(printf '%s\n' "$@") && return 0
    echo "tshark's view of $png:"
    tshark -r "$png" -d "tcp.port==$port,http" -T fields -e frame.number -e tcp.stream -e tcp.srcport -e tcp.dstport \
        -e tcp.flags.str -e tcp.seq -e tcp.len -e http.request.uri -e _ws.expert.message \
        2>&1 | head -80
    return 1
}

# The raw bytes of both sides of every entry of two HAR files are the same.
same_raw() {
    python3 - "$1" "$2" <<'PY'
import base64, json, sys
def raws(path):
    out = []
    for e in json.load(open(path))["log"]["entries"]:
        h = e["_hspy"]
        out.append([base64.b64decode(h[s]["raw"]) if h[s] else b"" for s in ("request", "response")])
    return out
a, b = raws(sys.argv[1]), raws(sys.argv[2])
if a != b:
    print("%d and %d exchanges, raw bytes %s" % (len(a), len(b), "differ" if len(a) == len(b) else ""))
    sys.exit(1)
PY
}

# streamed FILE: the number of entries --har FILE has written so far (one line each).
streamed() {
    grep -c '^{"pageref"' "$1"
}

# stop_session PID: SIGTERM, and a bounded wait for the exit.
stop_session() {
    local pid=$1
    kill -TERM "$pid"
    verify "the session ends on SIGTERM" 'wait_until 10 ended "$pid"'
    wait "$pid" 2>/dev/null
}

# ---- hspy listen ---------------------------------------------------------------------------
mkdir "$WORK/l"
start_bg "$HSPY" listen 0 --no-tui --log none --har "$WORK/l/live.har" --save "$WORK/l/save.har" \
    --pcapng "$WORK/l/live.pcapng" 2>"$WORK/l/err"
listener=$LAST_PID
wait_until 30 grep -q "listening on" "$WORK/l/err"
lport=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/l/err" | grep -o '[0-9]*$')
[ -n "$lport" ] || { fail "hspy listen did not start: $(cat "$WORK/l/err")"; finish; }
curl -s -o /dev/null "http://127.0.0.1:$lport/a.txt"
curl -s -o /dev/null -H 'X-Odd:  spaced ' --data-binary 'x=1' "http://127.0.0.1:$lport/post"
# curl commands exported from a capture, redirected to the listener, arrive byte for byte.
printf 'connect-to = "::127.0.0.1:%s"\nsilent\noutput = "/dev/null"\n' "$lport" >"$WORK/.curlrc"
for id in 1 2 3; do
    "$HSPY" read --no-tui "$caps/real-keepalive.pcap" --export curl --id "$id" -o "$WORK/l/cmd$id.sh"
    "$HSPY" read --no-tui "$caps/real-keepalive.pcap" --export raw-request --id "$id" -o "$WORK/l/want$id"
    CURL_HOME=$WORK timeout 10 bash "$WORK/l/cmd$id.sh" || fail "curl command $id failed"
done
# Each exchange is streamed to --har as it ends: once the five are there, the session is over.
wait_until 30 at_least 5 streamed "$WORK/l/live.har"
stop_session "$listener"
check "listen: --save holds the 5 exchanges" [ "$(har count "$WORK/l/save.har")" = 5 ]
check "listen: --save and --har hold the same entries" har same "$WORK/l/live.har" "$WORK/l/save.har"
for id in 1 2 3; do
    har raw "$WORK/l/save.har" $((id + 1)) request >"$WORK/l/got$id"
    check "curl export $id sent to hspy listen: byte for byte" cmp "$WORK/l/want$id" "$WORK/l/got$id"
done
"$HSPY" read --no-tui --log none --har "$WORK/l/back.har" "$WORK/l/live.pcapng" ||
    fail "listen: the session's pcapng does not read"
check "listen: the pcapng holds every byte of the session" same_raw "$WORK/l/live.har" "$WORK/l/back.har"
if command -v tshark >/dev/null; then
    http_requests "$WORK/l/live.pcapng" "$lport" >"$WORK/l/uris"
    check "listen: tshark sees the requests" sees_requests "$WORK/l/uris" "$WORK/l/live.pcapng" "$lport" \
        /a.txt /a.txt /b.txt /c.txt /post
fi

# ---- hspy sniff ----------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "note: sniff part skipped: live capture needs root"; finish; }
port=$(free_port)
mkdir "$WORK/www"
echo hello >"$WORK/www/a.txt"
start_bg python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port"
wait_for_port "$port" || skip "python's http.server did not start"

start_bg "$HSPY" sniff --no-tui --log none -i lo --har "$WORK/live.har" --save "$WORK/save.har" \
    --pcapng "$WORK/live.pcapng" "tcp port $port" 2>"$WORK/err"
sniffer=$LAST_PID
# The traffic starts once the session has started (its --har written from the start, which
# comes after the capture and its filter are in place), and the session ends once the three
# exchanges are streamed.
wait_until 30 test -s "$WORK/live.har" || fail "hspy sniff did not start: $(cat "$WORK/err")"
curl -s -o /dev/null "http://127.0.0.1:$port/a.txt"
curl -s -o /dev/null "http://127.0.0.1:$port/missing"
curl -s -o /dev/null --data-binary 'x=1' "http://127.0.0.1:$port/post"
wait_until 30 at_least 3 streamed "$WORK/live.har"
stop_session "$sniffer"
check "--save written at exit" [ -s "$WORK/save.har" ]
check "--save holds the 3 exchanges" [ "$(har count "$WORK/save.har")" = 3 ]
check "--save and --har hold the same entries" har same "$WORK/live.har" "$WORK/save.har"
har summary "$WORK/save.har" | awk '{ print $1, $3 }' >"$WORK/seen"
check "GET, 404 and POST (501) seen" diff "$WORK/seen" <(printf 'GET 200\nGET 404\nPOST 501\n')

"$HSPY" read --no-tui --log none --har "$WORK/back.har" "$WORK/live.pcapng" ||
    fail "the session's pcapng does not read"
check "the pcapng holds every byte of the session" same_raw "$WORK/live.har" "$WORK/back.har"
if command -v tshark >/dev/null; then
    http_requests "$WORK/live.pcapng" "$port" >"$WORK/uris"
    check "tshark sees the requests" sees_requests "$WORK/uris" "$WORK/live.pcapng" "$port" \
        /a.txt /missing /post
fi
finish
