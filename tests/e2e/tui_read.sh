#!/usr/bin/env bash
# The interface over `hspy read` on the project's own captures (tmux, 120x30): the flows of a
# capture of malformed requests with their warning markers; the Warnings tab and its jump to
# the offending bytes in Raw; a capture with lost packets shows the gap (in Raw and in Hex, at
# the same wire offsets); sorting by a column
# with keys and with the mouse; clicks on rows and tabs; quitting restores the terminal; with
# --save-bodies the Response tab names the body's file.
source "$(dirname "$0")/lib/tui.sh"
tui_need
malformed=$HSPY_SOURCE_DIR/captures/gen-malformed.pcap
loss=$HSPY_SOURCE_DIR/captures/gen-loss.pcap
[ -f "$malformed" ] && [ -f "$loss" ] || skip "the project's captures are not in this tree"

# start_read FILE: runs hspy read in the pane and waits for the interface.
start_read() {
    tui_start 120 30 read "$1"
    tui_wait_up "hspy read"
}

start_read "$malformed"
check "status bar names the file" tui_wait "gen-malformed.pcap"
check "six flows read (five requests, and the bytes skipped after the last one)" tui_wait "6 flows"
check "all six carry warnings" tui_wait "⚠ 6"
check "rows listed" tui_wait "/smuggle"
check "warning marker on a row" tui_wait "⚠  400"

# The first flow: Content-Length with Transfer-Encoding.
tui_keys g Enter
check "detail of /smuggle" tui_wait "POST /smuggle"
tui_keys BTab BTab
check "Warnings tab" tui_wait "[Warnings(1)]"
check "the warning's code" tui_wait "cl-and-te"
check "its explanation" tui_wait "Transfer-Encoding wins"
tui_keys Enter
check "Enter jumps to Raw" tui_wait "[Raw]"
check "Raw shows the offending header" tui_wait "Transfer-Encoding: chunked␍␊"
tui_keys q

# Sort by clicking through the columns with o until status, then reverse with v.
for _ in $(seq 7); do tui_keys o; done
check "sorted by status" tui_wait "sorted by status, ascending"
tui_keys v
check "reversed" tui_wait "sorted by status, descending"

# The mouse: a click on a heading sorts by that column, a click selects a row and a click on
# the selected row opens it, a click on a tab shows it.
tui_click "$(tui_column "size" 1)" 1
check "click on a heading sorts" tui_wait "sort size"
tui_click 5 4
tui_click 5 4
check "click on the selected row opens it" tui_wait " conn "
tui_click "$(tui_column "Timing" 2)" 2
check "click on a tab shows it" tui_wait "[Timing]"
tui_click 5 10 wheel-down
tui_keys q
tui_keys q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored

# A capture with a lost segment: the gap shows in the list and in Raw.
tui_restart
start_read "$loss"
check "three flows" tui_wait "3 flows"
check "gap marker on the row" tui_wait "░"
tui_keys g j Enter
check "detail of the damaged flow" tui_wait "GET /file1"
tui_keys Tab Tab
check "Raw tab" tui_wait "[Raw]"
tui_keys /
tui_type "capture gap"
tui_keys Enter
check "Raw marks the missing bytes, found by searching" tui_wait "capture gap: "
tui_keys Tab
check "Hex says what its rows lack" tui_wait "lost in capture gaps]"
tui_keys /
tui_type "bytes missing"
tui_keys Enter
check "Hex marks the gap at its wire offset, as Raw" tui_wait "capture gap: 1448 bytes missing (offset 2896)"
check "Hex rows after the gap count wire offsets (4344), as Raw" tui_wait "000010f8  "
tui_keys Q
check "Q quits from the detail view" tui_wait_exit
check "terminal restored after Q" tui_restored

# --save-bodies: the Response tab says where the whole body is.
gz=$HSPY_SOURCE_DIR/captures/real-chunked-gzip.pcap
tui_restart
tui_start 120 30 read --save-bodies "$WORK/bodies" "$gz"
tui_wait_up "hspy read"
tui_keys g Enter Tab
check "Response tab: the body's file" tui_wait "body whole in $WORK/bodies/1-response.txt.gz"
tui_keys Q
check "--save-bodies: quit" tui_wait_exit
check "--save-bodies: the summary after the screen" \
    grep -q "^hspy: --save-bodies: 1 whole body in $WORK/bodies, 0 partial" "$WORK/hspy.err"
finish
