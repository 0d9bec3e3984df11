#!/usr/bin/env bash
# A 64 MB body in the interface (tmux, 120x32) over `hspy listen --body-keep 100M`: it opens at
# once, a search for a regular expression that matches only on its last line goes on frame by
# frame until it gets there with no key pressed meanwhile (such a search once stopped after its
# first frames and showed `searching the body...` for ever, most times: a step of a regular
# expression over 8 MB can take longer than a frame's interval, and the frame after such a step
# was drawn with no timer left to wake the loop; the search runs several times, so that a stall
# shows whatever the machine's speed), and G finds the end.
source "$(dirname "$0")/lib/tui.sh"
tui_need

PORT=$(free_port)
python3 -c '
import sys
line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2
out = sys.stdout
for i in range(600000):
    out.write("%07d %s\n" % (i, line[:100]))
out.write("marker-at-the-end\n")' >"$WORK/big.txt"

tui_start 120 32 listen --body-keep 100M "127.0.0.1:$PORT"
tui_wait_up "hspy listen 127.0.0.1:$PORT"
curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary "@$WORK/big.txt" \
    "http://127.0.0.1:$PORT/big"
check "the large exchange is listed" tui_wait "/big" 60

tui_keys Enter
check "the 64 MB body opens" tui_wait "view: text" 20
check "its first line shows" tui_wait "0000000 0123456789"

# A regular expression (a slow step): only the last line matches. No key is pressed while it runs.
tui_keys /
tui_type '/marker-at-the-en[d]/'
tui_keys Enter
check "the search reaches the last line by itself" tui_wait "marker-at-the-end" 30
check "the search's progress message is gone" tui_wait_gone "searching the body" 10
# n from the last line wraps to the top and goes through the whole body again.
for i in 1 2 3; do
    tui_keys g
    tui_wait_gone "marker-at-the-end" 10 || fail "back at the top before search $i"
    tui_keys n
    check "search $i again through the whole body" tui_wait "marker-at-the-end" 30
done

# Back to the top, then G: the lines are counted over frames to find the end.
tui_keys g
check "back at the top" tui_wait "0000000 0123456789"
tui_keys G
check "G reaches the end of the body" tui_wait "marker-at-the-end" 60

tui_keys Q
check "quits" tui_wait_exit 20
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
finish
