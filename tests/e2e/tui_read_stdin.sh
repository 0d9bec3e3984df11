#!/usr/bin/env bash
# The interface over `hspy read -` fed by a pipe that delivers a tcpdump-made capture in two
# parts (tmux, 120x30; the first part ends inside a record): the first flow shows while the
# writer pauses, with the status bar saying a stream is read (bytes and packets, no percentage);
# keys work during the pause (a detail view opens and closes) and hspy uses no processor time
# while it waits; the rest arrives and the end of input is shown; q quits and restores the
# terminal. Then the same with a classic pcap, and without a controlling terminal, where hspy
# prints log lines instead.
source "$(dirname "$0")/lib/tui.sh"
tui_need
caps=$HSPY_SOURCE_DIR/captures
[ -f "$caps/real-python.pcapng" ] || skip "the project's captures are not in this tree"

# The pane runs a wrapper: the slow writer piped into hspy (setsid first, without a controlling
# terminal, when NO_CTTY is set).
real_hspy=$HSPY
cat >"$WORK/piped.sh" <<SH
#!/usr/bin/env bash
run() { python3 "$HSPY_SOURCE_DIR/tests/e2e/lib/slowpipe.py" "\$CAPTURE" "\$CUT" "$WORK/go" | "$real_hspy" "\$@"; }
if [ -n "\${NO_CTTY:-}" ]; then
    export -f run
    exec setsid -w bash -c 'run "\$@"' run "\$@"
fi
run "\$@"
SH
chmod +x "$WORK/piped.sh"
HSPY=$WORK/piped.sh

# start_piped FILE CUT [VAR=value...]: hspy read - in the pane, FILE arriving in two parts.
start_piped() {
    rm -f "$WORK/go"
    TUI_ENV=("CAPTURE=$1" "CUT=$2" "${@:3}")
    tui_start 120 30 read -
}

# hspy's processor time over a second of waiting, in clock ticks.
idle_ticks() {
    local pid before
    pid=$(pgrep -P "$(pgrep -P "$(tui_tmux display-message -p -t tui '#{pane_pid}')" | head -1)" -x hspy | head -1)
    [ -n "$pid" ] || { echo "no hspy process"; echo 999; return; }
    before=$(tui_cpu_ticks "$pid")
    sleep 1
    echo $(($(tui_cpu_ticks "$pid") - before))
}

start_piped "$caps/real-python.pcapng" 3000
tui_wait_up "hspy read stdin"
check "the first flow shows while the writer waits" tui_wait "/a.txt"
check "the status bar says a stream is read, with bytes and packets" tui_wait "stream 2.7KiB, 19 packets"
check "no percentage for a stream" eval '! tui_screen | grep -q "%"'
check "so far 275 bytes of HTTP" tui_wait "   275B   "
ticks=$(idle_ticks)
check "no processor time while the pipe is quiet ($ticks ticks in 1 s)" test "$ticks" -le 10
tui_keys g Enter
check "Enter opens the detail view during the pause" tui_wait "GET /a.txt  → 200 OK"
tui_keys Tab
check "Tab shows the response" tui_wait "[Response]"
tui_keys q
check "q goes back to the list" tui_wait "#▲ time"
check "still reading the stream" tui_wait "stream 2.7KiB"
touch "$WORK/go"
check "the rest arrives: the second flow" tui_wait "/nothing-here"
check "the second flow completes" tui_wait "404  html"
check "the end of input is shown" tui_wait "end of input: 3.6KiB, 24 packets"
check "with every byte of HTTP" tui_wait "   885B   "
tui_keys q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored

# A classic pcap, cut inside its fourth record.
tui_restart
start_piped "$caps/real-keepalive.pcap" 1500
tui_wait_up "hspy read stdin"
check "pcap: the first exchange shows during the pause" tui_wait "/a.txt"
check "pcap: a stream" tui_wait "stream "
tui_keys g Enter
check "pcap: the detail view opens during the pause" tui_wait "GET /a.txt  → 200 OK"
tui_keys q
touch "$WORK/go"
check "pcap: the end of input is shown" tui_wait "end of input: "
check "pcap: three exchanges" tui_wait "3 flows"
tui_keys q
check "pcap: q quits" tui_wait_exit
check "pcap: terminal restored" tui_restored

# No controlling terminal (a service, setsid): log lines, even with a terminal on stdout.
tui_restart
start_piped "$caps/real-python.pcapng" 3000 NO_CTTY=1
check "without /dev/tty: a log line during the pause" tui_wait "#1.1 GET /a.txt 200"
touch "$WORK/go"
check "without /dev/tty: the rest printed" tui_wait "#2.1 GET /nothing-here 404"
check "without /dev/tty: hspy ends at the end of input" tui_wait_exit
check "without /dev/tty: exit status 0" test "${TUI_STATUS:-x}" = 0
finish
