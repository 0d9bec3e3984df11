#!/usr/bin/env bash
# The mouse on a terminal wider than 223 columns (tmux, 260x30, TERM=xterm-256color, whose
# terminfo entry announces SGR mouse reports): a click on a column heading past column 223,
# sent as an SGR report, sorts by that column. (Classic X10 reports cannot name such a column.)
source "$(dirname "$0")/lib/tui.sh"
tui_need
capture=$HSPY_SOURCE_DIR/captures/gen-malformed.pcap
[ -f "$capture" ] || skip "the project's captures are not in this tree"
infocmp -1 xterm-256color 2>/dev/null | grep -qF 'kmous=\E[<' ||
    skip "this system's xterm-256color entry does not announce SGR mouse reports"

TUI_ENV=(TERM=xterm-256color)
tui_start 260 30 read "$capture"
tui_wait_up "hspy read"
check "flows read" tui_wait "6 flows"
x=$(tui_column "cache" 1)
check "the cache heading lies past column 223 ($x)" test "${x:-0}" -gt 223
# An SGR press and release: ESC [ < button ; column ; row M (m for the release), 1-based.
tui_tmux send-keys -t tui -l $'\e[<0;'$((x + 1))';2M'
tui_tmux send-keys -t tui -l $'\e[<0;'$((x + 1))';2m'
check "a click past column 223 sorts by that column" tui_wait "sort cache"
tui_keys q
check "q quits" tui_wait_exit
check "terminal restored" tui_restored
finish
