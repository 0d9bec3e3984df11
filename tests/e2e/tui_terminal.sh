#!/usr/bin/env bash
# What the interface sends to different terminals: colours by default, none with NO_COLOR
# (bold, reverse and underline still mark the same things), plain ASCII symbols in a locale
# that is not UTF-8 (in the list, the split layout's rule and in Raw's CR and LF), and a clear refusal on a terminal that cannot place the cursor. Uses `hspy read` on a project capture with warnings.
source "$(dirname "$0")/lib/tui.sh"
tui_need
capture=$HSPY_SOURCE_DIR/captures/gen-malformed.pcap
[ -f "$capture" ] || skip "the project's captures are not in this tree"

# run: starts hspy read in a fresh pane and waits for its rows.
run() {
    tui_restart
    tui_start 120 20 read "$capture"
    tui_wait_up "/smuggle"
}

# colours: the SGR colour codes (30-37, 40-47, 38;/48;) on the screen.
colours() {
    tui_screen_attrs | grep -oE $'\e\\[[0-9;]*m' | grep -cE '(^|\[|;)(3[0-7]|4[0-7]|38|48)(;|m)'
}

# screen_has RE: a line of the screen matches the extended regular expression RE.
screen_has() {
    tui_screen | grep -qE "$1"
}

TUI_ENV=()
run
check "colours by default" test "$(colours)" -gt 0
check "UTF-8 symbols" tui_wait "⚠"
tui_keys q
tui_wait_exit >/dev/null

TUI_ENV=(NO_COLOR=1)
run
check "no colour with NO_COLOR" test "$(colours)" = 0
check "attributes still mark things with NO_COLOR" test "$(tui_screen_attrs | grep -c $'\e\\[[0-9;]*m')" -gt 0
# The split layout parts the list from the detail with a rule that carries the detail's title.
tui_keys s
check "split layout: the detail's tabs" tui_wait "[Request]"
check "split layout: a rule with the title under the list" \
    wait_until 5 screen_has '^─ #[0-9]+  .* ─+$'
check "no colour in the split layout with NO_COLOR" test "$(colours)" = 0
tui_keys q
tui_wait_exit >/dev/null

# A terminal that cannot place the cursor: a clear error, the terminal untouched.
TUI_ENV=(TERM=dumb)
tui_restart
tui_start 100 20 read "$capture"
check "TERM=dumb: hspy ends" tui_wait_exit
check "TERM=dumb: exit status 1" test "${TUI_STATUS:-x}" = 1
check "TERM=dumb: the reason" grep -q "cannot move the cursor" "$WORK/hspy.err"
check "TERM=dumb: terminal untouched" tui_restored

TUI_ENV=(LANG=C LC_ALL=C)
run
check "ASCII markers in the C locale" tui_wait "!  400"
check "ASCII follow mark" tui_wait "follow *"
check "no UTF-8 at all in the C locale" test "$(tui_screen | LC_ALL=C grep -c $'[\x80-\xff]')" = 0
tui_keys s
check "split layout in the C locale" tui_wait "[Request]"
check "the split layout's rule in ASCII" \
    wait_until 5 screen_has '^- #[0-9]+  .* -+$'
check "no UTF-8 in the split layout in the C locale" test "$(tui_screen | LC_ALL=C grep -c $'[\x80-\xff]')" = 0
tui_keys s
# Raw draws CR and LF in ASCII too (the UTF-8 symbols were mojibake there).
tui_keys g Enter Tab Tab
check "Raw tab in the C locale" tui_wait "[Raw]"
check "CR and LF as escapes in the C locale" tui_wait 'POST /smuggle HTTP/1.1\r\n'
check "no UTF-8 in Raw in the C locale" test "$(tui_screen | LC_ALL=C grep -c $'[\x80-\xff]')" = 0
tui_keys q q
check "quits" tui_wait_exit
check "terminal restored" tui_restored
finish
