#!/usr/bin/env bash
# The interface draws every escape hspy wrote for a byte (ESC as \x1b) apart from the same
# characters sent as text (a target holding the four characters \x1b), in the flow list, the
# Request tab, a body and the status bar (a file name) (tmux, 120x30): reversed in colour,
# underlined under NO_COLOR.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"
RAW=$(dirname "$0")/lib/rawclient.py

# send_two PORT: a request whose target and header hold ESC, one whose hold the text \x1b.
send_two() {
    python3 "$RAW" "$1" --timeout 3 \
        --send 'GET /esc\x1b[1m HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Esc: \x1b[31m\r\nContent-Length: 5\r\n\r\n\x1b[2Jz' \
        >/dev/null
    python3 "$RAW" "$1" --timeout 3 \
        --send 'GET /lit\\x1b[1m HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Esc: \\x1b[31m\r\nContent-Length: 8\r\n\r\n\\x1b[2Jz' \
        >/dev/null
}

# An escape is drawn after an SGR sequence holding the attribute $ATTR (7 reverse, 4
# underline), other SGR sequences perhaps in between; the same text sent literally is not.
MARKED=$'\e\\[([0-9]+;)*'"__ATTR__"$'(;[0-9]+)*m(\e\\[[0-9;]*m)*\\\\x1b'
has_marked() {
    tui_screen_attrs | grep -qE "${MARKED/__ATTR__/$ATTR}"
}
# marked_on TEXT: a screen line holding TEXT shows a marked escape.
marked_on() {
    tui_screen_attrs | grep -F -- "$1" | grep -qE "${MARKED/__ATTR__/$ATTR}"
}
# unmarked_on TEXT: the screen lines holding TEXT show no marked escape.
unmarked_on() {
    tui_screen_attrs | grep -F -- "$1" | { ! grep -qE "${MARKED/__ATTR__/$ATTR}"; }
}

run() {
    local port
    port=$(free_port)
    tui_start 120 30 listen "127.0.0.1:$port"
    tui_wait_up "hspy listen 127.0.0.1:$port"
    send_two "$port"
    check "$1: both flows listed" tui_wait "2 flows"
    check "$1: the list shows both targets alike as text" tui_wait '/esc\x1b[1m'
    check "$1: the escape in the list is marked" has_marked
    check "$1: the literal target is plain text" unmarked_on '/lit\x1b[1m'
    tui_keys g Enter
    check "$1: detail of the first flow" tui_wait "GET /esc"
    check "$1: the start line's escape is marked" marked_on 'HTTP/1.1'
    check "$1: the body's escape is marked" marked_on '[2Jz'
    check "$1: the header's escape is marked" marked_on '[31m'
    tui_keys J
    check "$1: detail of the second flow" tui_wait "GET /lit"
    check "$1: the text \\x1b in head and body is plain" eval '! has_marked'
    tui_keys Q
    check "$1: quits" tui_wait_exit
}

# run_read NAME: the status bar names a capture file whose name holds ESC with the escape
# marked, and one whose name holds the four characters \x1b as plain text.
run_read() {
    local capture=$HSPY_SOURCE_DIR/captures/gen-malformed.pcap
    [ -f "$capture" ] || return 0
    cp "$capture" "$WORK/esc"$'\e'"[1m.pcap"
    cp "$capture" "$WORK/lit\\x1b[1m.pcap"
    tui_restart
    tui_start 120 30 read "$WORK/esc"$'\e'"[1m.pcap"
    tui_wait_up "hspy read"
    check "$1: the file name is in the status bar" tui_wait 'esc\x1b[1m.pcap'
    check "$1: the escape in the status bar is marked" marked_on 'hspy read'
    tui_keys Q
    check "$1: quits" tui_wait_exit
    tui_restart
    tui_start 120 30 read "$WORK/lit\\x1b[1m.pcap"
    tui_wait_up "hspy read"
    check "$1: the literal file name is in the status bar" tui_wait 'lit\x1b[1m.pcap'
    check "$1: the literal name is plain text" unmarked_on 'hspy read'
    tui_keys Q
    check "$1: quits" tui_wait_exit
}

ATTR=7
run colour
run_read colour
tui_restart
ATTR=4
TUI_ENV=(NO_COLOR=1)
run "NO_COLOR"
run_read "NO_COLOR"
finish
