#!/usr/bin/env bash
# Tunnels through hspy proxy: CONNECT to a local TCP echo (bytes both ways, half-close, byte
# counts and duration on the exchange), curl's proxy tunnel to an HTTP upstream, a WebSocket
# upgrade with frames both ways, a refused CONNECT (502), and --reverse-only refusing CONNECT.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl
proxy_setup
TC="python3 $LIB/tunnelclient.py"
upstream_start echo
ECHO=$UPORT
upstream_start ws
WS=$UPORT
upstream_start http
HTTP=$UPORT

proxy_start --json "127.0.0.1:$HTTP"

out=$($TC connect "$PPORT" "127.0.0.1:$ECHO" 1000000)
check "CONNECT: 200, a megabyte echoed back, half-close passed on" \
    test "$out" = "status=200 sent=1000000 got=1000000 same=yes"
check "curl through a CONNECT tunnel" \
    test "$(curl -s -p -x "$PURL" "http://127.0.0.1:$HTTP/hello")" = hello
# The WebSocket server is not the default upstream: the upgrade goes to it by absolute-form.
out=$($TC ws "$PPORT" "127.0.0.1:$WS" absolute)
check "WebSocket through the forward proxy: 101, greeting, three echoes, close" \
    test "$out" = "status=101 greeting=hello_from_server echoes=3/3 close=yes"
proxy_stop

proxy_start --json "127.0.0.1:$WS"
out=$($TC ws "$PPORT" "127.0.0.1:$WS")
check "WebSocket to the reverse upstream" \
    test "$out" = "status=101 greeting=hello_from_server echoes=3/3 close=yes"
dead=$(free_port)
out=$($TC connect "$PPORT" "127.0.0.1:$dead" 10)
check "CONNECT to a closed port: 502" test "$out" = "status=502 sent=0 got=0 same=no"
proxy_stop
J1=$T/pout.1
J2=$T/pout.2

check "CONNECT recorded as a tunnel" \
    test "$(pyq "$J1" '[e["flags"] for e in ex if e["request"]["method"] == "CONNECT"][0]')" = '["done", "tunnel"]'
check "tunnel byte counts" \
    test "$(pyq "$J1" '[(e["tunnel"]["client_bytes"], e["tunnel"]["server_bytes"]) for e in ex if e["request"]["method"] == "CONNECT" and e["tunnel"]["client_bytes"] > 1000][0]')" = '(1000000, 1000000)'
check "tunnel duration" \
    test "$(pyq "$J1" '[e["duration_ns"] > 0 for e in ex if e["request"]["method"] == "CONNECT"][0]')" = True
check "tunnel response is hspy's 200" \
    test "$(pyq "$J1" '[e["response"]["status"] for e in ex if e["request"]["method"] == "CONNECT"][0]')" = 200
check "WebSocket recorded as 101 and a tunnel" \
    test "$(pyq "$J2" '[(e["response"]["status"], "tunnel" in e["flags"]) for e in ex if e["request"]["method"] == "GET"][0]')" = '(101, True)'
check "WebSocket frames counted both ways" \
    test "$(pyq "$J2" '[e["tunnel"]["client_bytes"] > 70000 and e["tunnel"]["server_bytes"] > 70000 for e in ex if e["request"]["method"] == "GET"][0]')" = True
check "forwarded WebSocket recorded as a tunnel" \
    test "$(pyq "$J1" '[(e["response"]["status"], "tunnel" in e["flags"]) for e in ex if e["request"]["method"] == "GET" and "chat" in e["request"]["target"]][0]')" = '(101, True)'
check "refused CONNECT: 502 with the reason" \
    test "$(pyq "$J2" '[e["error"] for e in ex if e["request"]["method"] == "CONNECT"][0]' | grep -c 'cannot connect to upstream 127.0.0.1')" = 1

proxy_start --reverse-only "127.0.0.1:$HTTP"
out=$($TC connect "$PPORT" "127.0.0.1:$ECHO" 10)
check "--reverse-only refuses CONNECT with 403" test "$out" = "status=403 sent=0 got=0 same=no"
check "--reverse-only refuses absolute-form" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -x "$PURL" "http://127.0.0.1:$HTTP/hello")" = 403
check "--reverse-only still proxies" test "$(curl -s "$PURL/hello")" = hello
proxy_stop
finish
