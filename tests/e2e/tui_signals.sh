#!/usr/bin/env bash
# The terminal is restored however the interface ends: SIGTERM, SIGINT and SIGHUP from outside,
# Ctrl-C typed (it arrives as a key in raw mode), and a terminal resized while hspy runs.
source "$(dirname "$0")/lib/tui.sh"
tui_need

# run_listen: starts `hspy listen` in a fresh tmux server and waits for the interface.
run_listen() {
    tui_restart
    PORT=$(free_port)
    tui_start 100 25 listen "127.0.0.1:$PORT"
    tui_wait_up "hspy listen"
}

for sig in TERM INT HUP; do
    run_listen
    curl -s -o /dev/null "http://127.0.0.1:$PORT/before-$sig"
    tui_wait "/before-$sig" >/dev/null
    pid=$(tui_hspy_pid)
    check "hspy runs in the pane ($sig)" test -n "$pid"
    kill -"$sig" "$pid"
    check "SIG$sig ends hspy" tui_wait_exit
    check "terminal restored after SIG$sig" tui_restored
done

run_listen
tui_resize 60 15
tui_wait "hspy listen" >/dev/null
tui_keys C-c
check "Ctrl-C ends hspy" tui_wait_exit
check "terminal restored after Ctrl-C" tui_restored
check "exit status 0" test "${TUI_STATUS:-x}" = 0
finish
