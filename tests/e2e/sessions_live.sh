#!/usr/bin/env bash
# A live session's files: `hspy sniff` on loopback with --har, --save and --pcapng while curl
# talks to python's http.server, ended with SIGTERM. --save is written at that exit and holds
# the exchanges --har streamed; the pcapng holds them as packets (tshark sees the requests,
# hspy reads back the same exchanges). Needs root for the capture.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/verify.sh"
[ "$(id -u)" = 0 ] || skip "live capture needs root"
command -v curl >/dev/null || skip "curl is needed"
har() { python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/har.py" "$@"; }

port=$(free_port)
mkdir "$WORK/www"
echo hello >"$WORK/www/a.txt"
start_bg python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port"
wait_for_port "$port" || skip "python's http.server did not start"

start_bg "$HSPY" sniff --no-tui --log none -i lo --har "$WORK/live.har" --save "$WORK/save.har" \
    --pcapng "$WORK/live.pcapng" "tcp port $port" 2>"$WORK/err"
sniffer=$LAST_PID
sleep 1
curl -s -o /dev/null "http://127.0.0.1:$port/a.txt"
curl -s -o /dev/null "http://127.0.0.1:$port/missing"
curl -s -o /dev/null --data-binary 'x=1' "http://127.0.0.1:$port/post"
sleep 1
kill -TERM "$sniffer"
for _ in $(seq 100); do kill -0 "$sniffer" 2>/dev/null || break; sleep 0.05; done
verify "sniff ends on SIGTERM" '! kill -0 "$sniffer" 2>/dev/null'
wait "$sniffer" 2>/dev/null
check "--save written at exit" [ -s "$WORK/save.har" ]
check "--save holds the 3 exchanges" [ "$(har count "$WORK/save.har")" = 3 ]
check "--save and --har hold the same entries" har same "$WORK/live.har" "$WORK/save.har"
har summary "$WORK/save.har" | awk '{ print $1, $3 }' >"$WORK/seen"
check "GET, 404 and POST (501) seen" diff "$WORK/seen" <(printf 'GET 200\nGET 404\nPOST 501\n')

"$HSPY" read --no-tui --log none --har "$WORK/back.har" "$WORK/live.pcapng" ||
    fail "the session's pcapng does not read"
python3 - "$WORK/live.har" "$WORK/back.har" <<'PY' || fail "the pcapng read back differs"
import base64, json, sys
def raws(path):
    out = []
    for e in json.load(open(path))["log"]["entries"]:
        h = e["_hspy"]
        out.append([base64.b64decode(h[s]["raw"]) if h[s] else b"" for s in ("request", "response")])
    return out
a, b = raws(sys.argv[1]), raws(sys.argv[2])
if a != b:
    print("pcapng: %d exchanges, raw bytes %s" % (len(b), "differ" if len(a) == len(b) else "count differs"))
    sys.exit(1)
PY
echo "ok: the pcapng holds every byte of the session"
if command -v tshark >/dev/null; then
    tshark -r "$WORK/live.pcapng" -Y http.request -T fields -e http.request.uri 2>/dev/null | sort >"$WORK/uris"
    check "tshark sees the requests" diff "$WORK/uris" <(printf '/a.txt\n/missing\n/post\n')
fi
finish
