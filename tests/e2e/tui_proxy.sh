#!/usr/bin/env bash
# The interface over `hspy proxy` with a real pair (curl -> hspy -> python's http.server): both
# exchanges appear with the upstream's statuses, the detail shows the upstream's response head,
# the Timing tab has the upstream phases, and quitting restores the terminal.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"

mkdir -p "$WORK/site"
printf 'hello from upstream\n' >"$WORK/site/hello.txt"
UPORT=$(free_port)
start_bg python3 -m http.server "$UPORT" --bind 127.0.0.1 --directory "$WORK/site" \
    >"$WORK/upstream.log" 2>&1
wait_for_port "$UPORT" || skip "python's http.server did not start"

PORT=$(free_port)
tui_start 120 30 proxy "127.0.0.1:$PORT" "127.0.0.1:$UPORT"
tui_wait_up "hspy proxy"
check "status bar names the proxy" tui_wait "hspy proxy"
wait_for_port "$PORT" || fail "the proxy does not listen"

curl -s -o "$WORK/got" "http://127.0.0.1:$PORT/hello.txt"
check "curl gets the upstream's body through the proxy" grep -q "hello from upstream" "$WORK/got"
curl -s -o /dev/null "http://127.0.0.1:$PORT/missing"
check "both exchanges listed" tui_wait "2 flows"
check "the upstream's 200" tui_wait "/hello.txt"
check "the upstream's 404" tui_wait "404"

tui_keys g Enter
check "detail of the first exchange" tui_wait "GET /hello.txt HTTP/1.1"
tui_keys Tab
check "the upstream's response head" tui_wait "Server: SimpleHTTP"
check "the upstream's body" tui_wait "hello from upstream"
tui_keys Tab Tab Tab
check "Timing tab" tui_wait "[Timing]"
check "the upstream phase" tui_wait "waiting"
tui_keys q q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
finish
