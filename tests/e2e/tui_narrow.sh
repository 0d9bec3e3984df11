#!/usr/bin/env bash
# The interface on a narrow terminal (tmux, 60x20) over `hspy read` of a capture in a folder
# with a long path: the status bar shortens the path in its middle and keeps the flow count;
# the hint line keeps `? help`; the help wraps its explanations; the export question's answers
# all stay on screen; the question about replacing a file with a long name keeps the file's
# name, the question and its answers; a message too wide wraps and keeps its end (the reason); the body
# view's note after the tabs is not shown cut.
source "$(dirname "$0")/lib/tui.sh"
tui_need
capture=$HSPY_SOURCE_DIR/captures/real-malformed.pcap
[ -f "$capture" ] || skip "the project's captures are not in this tree"

deep=$WORK/a-folder-with-a-long-name/and-another-one-under-it/and-a-third
mkdir -p "$deep"
cp "$capture" "$deep/narrow.pcap"

tui_start 60 20 read "$deep/narrow.pcap"
tui_wait_up "hspy read"
check "the status bar keeps the flow count" tui_wait "2 flows"
check "and the capture's file name" tui_wait "narrow.pcap"
check "the path gives way in its middle" tui_wait "…"
check "the hint line keeps the help key" tui_wait "? help  q quit"
check "no line is wider than the screen" tui_lines_fit 60

tui_keys '?'
check "help open" tui_wait "hspy keys"
check "a long explanation wraps under itself" tui_wait "                     flow selected"
check "help fits the screen" tui_lines_fit 60
tui_keys q

tui_keys g E
check "export question" tui_wait "export #1 as:"
check "its first answer" tui_wait "c curl command"
check "its last answer" tui_wait "b body"
check "and the way out" tui_wait "Esc cancel"
check "the question fits the screen" tui_lines_fit 60
tui_keys r
check "where to" tui_wait "f to a file"
tui_keys f
name=$deep/a-request-exported-under-a-rather-long-name.http
: >"$name"
tui_keys C-u
tui_type "$name"
tui_keys Enter
check "the replace question keeps the file's name" \
    tui_wait "…er-a-rather-long-name.http exists: replace it?"
check "and its answers" tui_wait "y yes   any other key: no"
tui_keys n
check "cancelled" tui_wait "cancelled"

tui_keys E r f C-u
tui_type "$WORK/no/such/folder/for/the/request/of/this/export.http"
tui_keys Enter
check "a message too wide keeps its end, the reason" tui_wait "such file or directory"

tui_keys Enter
check "detail view" tui_wait "[Request]"
tui_resize 80 20
check "resized" tui_wait "Diff"
check "the body view's note is not shown cut at 80 columns" tui_wait_gone "body:…" 2

tui_keys Q
check "hspy ended" tui_wait_exit
check "terminal restored" tui_restored
finish
