#!/usr/bin/env bash
# The interface in a real terminal (tmux, 120x32) over `hspy listen`: curl requests appear
# live (the hint names the keys that act on a flow once there is one); the detail view and its
# tabs; a search that finds text far down a body (and says when it is the only match or went
# round the end); a filter applied and cleared; the help and a search in it (saying the same); a
# resize; no CPU spent while idle; quitting restores the terminal.
source "$(dirname "$0")/lib/tui.sh"
tui_need

PORT=$(free_port)
tui_start 120 32 listen "127.0.0.1:$PORT"
tui_wait_up "hspy listen 127.0.0.1:$PORT"
check "status bar names the mode and address" tui_wait "hspy listen 127.0.0.1:$PORT"
check "an empty list says it waits" tui_wait "waiting for traffic"
check "the hint line shows how to quit" tui_wait "q quit"
# With no flow yet, the hint names no key that acts on the selected flow; the first flow
# brings them.
for key in "⏎ open" "m mark" "a accept" "e edit" "r replay" "E export"; do
    check "no '$key' in the hint while the list is empty" tui_wait_gone "$key" 1
done

# Three requests; they appear while hspy runs.
curl -s -o /dev/null "http://127.0.0.1:$PORT/first?x=1"
check "first flow appears live" tui_wait "/first?x=1"
check "a selected flow brings its keys into the hint" tui_wait "m mark"
{
    for i in $(seq 1 300); do printf 'body line %03d\n' "$i"; done
    printf 'needle-at-the-end\n'
} >"$WORK/body.txt"
curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary "@$WORK/body.txt" \
    "http://127.0.0.1:$PORT/second"
curl -s -o /dev/null -H 'X-Evil: '$'\e''[31mred' "http://127.0.0.1:$PORT/third"
check "three flows counted" tui_wait "3 flows"
check "the listener's open connections" tui_wait "conns 0"
check "POST row" tui_wait "POST"

# Follow mode selected the newest flow: its hostile header shows escaped, not obeyed.
tui_keys Enter
check "detail of the newest flow" tui_wait "GET /third HTTP/1.1"
check "an escape sequence from the network shows as text" tui_wait 'X-Evil: \x1b[31mred'
tui_keys q

# The detail view of /second, tab by tab.
tui_keys k Enter
check "detail opens on the Request tab" tui_wait "[Request]"
check "request head as sent" tui_wait "POST /second HTTP/1.1"
check "body summary" tui_wait "text/plain, length"
check "detail hint shows the way back" tui_wait "q back"
check "body text far down is off screen" tui_wait_gone "needle-at-the-end" 1
tui_keys /
tui_type "needle"
tui_keys Enter
check "search finds text far down the body" tui_wait "needle-at-the-end"
tui_keys n
check "n with a single match says so" tui_wait "the only matching line: needle"
# A /regular expression/ finds and highlights what it matched, not the text typed.
tui_keys /
tui_type "/ne+dle-at-the-[a-z]+/"
tui_keys Enter
check "a regular expression's match is highlighted" tui_wait_attrs $'\e[43mneedle-at-the-end'
tui_keys /
tui_type "/(/"
check "a regular expression that does not compile says why as it is typed" tui_wait "Unmatched ("
tui_keys Escape
tui_keys Tab
check "Response tab" tui_wait "[Response]"
check "response head" tui_wait "HTTP/1.1 200"
tui_keys Tab
check "Raw tab" tui_wait "[Raw]"
check "raw bytes with CR LF made visible" tui_wait "POST /second HTTP/1.1␍␊"
check "head boundary marked" tui_wait "end of head; body: length"
tui_keys Tab
check "Hex tab" tui_wait "00000000  50 4f 53 54 20 2f 73 65  63 6f 6e 64 20 48 54 54 |POST /second HTT|"
tui_keys Tab
check "Timing tab" tui_wait "response_last_byte"
tui_keys Tab
check "Cache tab" tui_wait "Caching (RFC 9111)"
tui_keys Tab
check "Warnings tab" tui_wait "[Warnings"
tui_keys q
check "back to the list" tui_wait "q quit"

# The filter: a bad expression shows an inline error; a good one narrows the list; empty clears.
tui_keys f
check "filter prompt" tui_wait "filter:"
tui_type "~q("
check "inline error with a caret" tui_wait "^ "
tui_keys C-u
tui_type "~m POST"
tui_keys Enter
check "filter narrows the list" tui_wait "1 of 3 flows"
check "status bar shows the filter" tui_wait "filter: ~m POST"
check "only the POST is listed" tui_wait_gone "/first?x=1" 2
tui_keys f C-u Enter
check "filter cleared" tui_wait "3 flows"
check "all flows back" tui_wait "/first?x=1"

# Help, generated from the key table.
tui_keys "?"
check "help screen" tui_wait "generated from the key table"
check "help lists a key" tui_wait "open the flow in the detail view"
# Searching the help says what searching the detail view says.
tui_keys /
tui_type "Everywhere"
tui_keys Enter n
check "n on the help's only match says so" tui_wait "the only matching line: Everywhere"
tui_keys g /
tui_type "quit hspy"
tui_keys Enter N
check "N past the help's first line says it wrapped" tui_wait "search wrapped to the bottom"
tui_keys q
check "help closes" tui_wait "q quit"

# Searching the list: going round the end is said, and so is a flow that is the only match.
tui_keys G /
tui_type "GET"
tui_keys Enter
check "a search past the last flow says it wrapped" tui_wait "search wrapped to the top"
tui_keys n
check "the next match below needs no word" tui_wait_gone "search wrapped" 2
tui_keys N N
check "backwards past the first flow says it wrapped" tui_wait "search wrapped to the bottom"
tui_keys /
tui_type "second"
tui_keys Enter n
check "n on the only matching flow says so" tui_wait "the only matching flow: second"

# Resize: the screen is redrawn at the new size.
tui_resize 80 24
check "redrawn after a resize" tui_wait "hspy listen"
check "every line fits 80 columns" wait_until 10 tui_lines_fit 80
check "rows still listed" tui_wait "/second"
tui_resize 150 40
check "redrawn wider" tui_wait "/first?x=1"

# Idle: nothing changes, so nothing is drawn and no CPU is spent (at most 3 ticks in 2 s, which
# a busy-looping or periodically redrawing interface would exceed by far).
pid=$(tui_hspy_pid)
sleep 0.5
before=$(tui_cpu_ticks "$pid")
sleep 2
after=$(tui_cpu_ticks "$pid")
echo "idle CPU: $((after - before)) ticks in 2 s"
check "idle costs (almost) no CPU" test $((after - before)) -le 3

tui_keys q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
finish
