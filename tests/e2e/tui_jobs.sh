#!/usr/bin/env bash
# Job control, as a user meets it: hspy started from an interactive shell in tmux, Ctrl-Z stops
# it and gives the terminal back to the shell, `fg` brings the interface back, q quits, and the
# shell's terminal is as it was.
source "$(dirname "$0")/lib/tui.sh"
tui_need

PORT=$(free_port)
TUI_STARTED=1
tui_tmux -f /dev/null new-session -d -s tui -x 100 -y 25 -e LANG=C.UTF-8 -e LC_ALL=C.UTF-8 \
    "env PS1='shell\$ ' bash --norc --noprofile -i"
tui_tmux set-option -t tui -g status off >/dev/null
check "an interactive shell" tui_wait 'shell$'
tui_type "stty -g >$WORK/stty.before; $HSPY listen 127.0.0.1:$PORT 2>$WORK/hspy.err; echo __done=\$?"
tui_keys Enter
for _ in $(seq 100); do
    if tui_screen | grep -q "^__done="; then
        cat "$WORK/hspy.err"
        fail "hspy listen ended before showing the interface"
        finish
    fi
    tui_screen | grep -qF "waiting for traffic" && break
    sleep 0.05
done
check "the interface runs" tui_wait "waiting for traffic"
curl -s -o /dev/null "http://127.0.0.1:$PORT/before-stop"
check "a flow" tui_wait "/before-stop"

tui_keys C-z
check "^Z: the shell reports the stopped job" tui_wait "Stopped"
check "^Z: the terminal is the shell's again" \
    test "$(tui_tmux display-message -p -t tui '#{alternate_on} #{mouse_any_flag}')" = "0 0"
tui_type "fg"
tui_keys Enter
check "fg: the interface is back" tui_wait "/before-stop"
check "fg: in curses mode again" test "$(tui_tmux display-message -p -t tui '#{alternate_on}')" = 1
curl -s -o /dev/null "http://127.0.0.1:$PORT/after-fg"
check "traffic is served again after fg" tui_wait "/after-fg"
tui_keys q
# (The shell drops the rest of a command line whose job was stopped, so no "__done" here.)
for _ in $(seq 100); do
    pgrep -f "$HSPY listen 127.0.0.1:$PORT" >/dev/null || break
    sleep 0.05
done
check "q quits" test -z "$(pgrep -f "$HSPY listen 127.0.0.1:$PORT")"
tui_type "stty -g >$WORK/stty.after"
tui_keys Enter
for _ in $(seq 40); do [ -s "$WORK/stty.after" ] && break; sleep 0.05; done
check "stty settings as before" cmp -s "$WORK/stty.before" "$WORK/stty.after"
check "normal screen, no mouse, cursor shown" \
    test "$(tui_tmux display-message -p -t tui '#{alternate_on} #{mouse_any_flag} #{cursor_flag}')" = "0 0 1"
finish
