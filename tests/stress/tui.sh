#!/usr/bin/env bash
# Hostile input on the interface: hspy listen runs in a real terminal (tmux) while every
# hostile input arrives; the flow list and the detail tabs of the most hostile flows are
# opened. Every byte hspy wrote to the terminal is recorded (tmux pipe-pane): none of the
# escape sequences the peers sent may be in it, the pane's title must be untouched, the screen
# must show the escapes as text, and after quitting the terminal must be as it was.
. "$HSPY_SOURCE_DIR/tests/e2e/lib/tui.sh"
. "$(dirname "$0")/lib/common.sh"
tui_need
HOSTILE=$HSPY_SOURCE_DIR/tests/hostile
VISIT=$(pick 8 1000 8)

stress large "$WORK/large" >/dev/null
FIRST=("$HOSTILE"/req-esc-*.http "$HOSTILE"/req-nul-*.http "$HOSTILE"/req-utf8-*.http \
    "$HOSTILE"/req-c1-*.http)
REST=()
for f in "$HOSTILE"/req-*.http "$WORK"/large/*.http; do
    case " ${FIRST[*]} " in *" $f "*) ;; *) REST+=("$f") ;; esac
done
if [ -f "${HSPY_CORPUS:-}/http-garden/TROPHIES.md" ]; then
    stress garden "$HSPY_CORPUS/http-garden/TROPHIES.md" "$WORK/garden" >/dev/null
    REST+=("$WORK"/garden/*.http)
fi

# What peers sent that a terminal would obey, and that curses itself never writes: OSC and DCS
# introducers, C1 controls in UTF-8, and the exact SGR/mode sequences of the inputs.
injected_in_raw() {
    "$PYTHON" - "$WORK/raw.tty" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
needles = [b"\x1b]", b"\x1bP", b"\xc2\x9b", b"\xc2\x9d", b"\x1b[31mRed", b"\x1b[1;32m",
           b"\x1b[5m\r", b"\x1b[2J\x1b]0", b"\x07\x1b[31m"]
found = [n for n in needles if n in raw]
print(len(raw), found)
sys.exit(1 if found else 0)
PY
}

scene tui "the interface over ${#FIRST[@]} escape-laden and ${#REST[@]} other hostile inputs"
PORT=$(free_port)
tui_start 160 45 listen "127.0.0.1:$PORT"
tui_tmux pipe-pane -o -t tui "cat >>'$WORK/raw.tty'"
title_before=$(tui_tmux display-message -p -t tui '#{pane_title}')
check "the interface started" tui_wait "hspy listen"
stress send "$PORT" "${FIRST[@]}" >"$WORK/send.first"
stress send "$PORT" "${REST[@]}" >"$WORK/send.rest"
sent "$(lastjson "$WORK/send.first" sent) + $(lastjson "$WORK/send.rest" sent) bytes in $((${#FIRST[@]} + ${#REST[@]})) connections"
# Every input sent and closed: the screen is captured once hspy has taken them all (flows in
# the list, no connection open).
all_taken() { tui_screen | head -1 | grep -q 'conns 0' && ! tui_screen | head -1 | grep -qw '0 flows'; }
wait_until 30 all_taken
tui_screen >"$WORK/screens.txt"
# Open the first flows (the escape-laden ones) and every tab of each.
tui_keys g
for ((i = 0; i < VISIT; i++)); do
    tui_keys Enter
    sleep 0.05
    for ((t = 0; t < 7; t++)); do
        tui_screen >>"$WORK/screens.txt"
        tui_keys Tab
        sleep 0.03
    done
    tui_keys q j
    sleep 0.03
done
pid=$(tui_hspy_pid)
[ -n "$pid" ] && mem "$pid"
tui_keys q
check "quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
# What hspy wrote is all recorded once the pane's own line after it is.
wait_until 30 grep -q "hspy ended" "$WORK/raw.tty"
title_after=$(tui_tmux display-message -p -t tui '#{pane_title}')
raw=$(injected_in_raw)
back "$(wc -l <"$WORK/screens.txt") screen lines captured over $VISIT flows x 7 tabs; $(echo "$raw" | cut -d' ' -f1) bytes written to the terminal; injected sequences found: $(echo "$raw" | cut -d' ' -f2-)"
check "no peer escape sequence reached the terminal" injected_in_raw
check "the pane title is untouched ('$title_before' -> '$title_after')" test "$title_before" = "$title_after"
check "the screens show the escapes as text" grep -qF '\x1b' "$WORK/screens.txt"
stress termcheck "$WORK/screens.txt" >"$WORK/termcheck.json"
check "the captured screens hold no control characters" test "$(lastjson "$WORK/termcheck.json" bad)" = "{}"
check "no sanitizer report" sanitizer_clean "$WORK/hspy.err"
verdict

finish
