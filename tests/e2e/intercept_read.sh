#!/usr/bin/env bash
# Replay from `hspy read`'s interface (tmux): a request out of a capture is sent again, byte for
# byte, to the target --replay-to names, and shows as a new flow; without --replay-to the
# target is asked for; R edits the request (EDITOR a script) before replaying it.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"
CAP=$HSPY_SOURCE_DIR/captures/real-keepalive.pcap
[ -f "$CAP" ] || skip "captures/real-keepalive.pcap is missing"

start_recording_upstream "$WORK/rec"

cat >"$WORK/edit.sh" <<'EOF2'
#!/bin/sh
exec python3 - "$1" <<'PY'
import sys
path = sys.argv[1]
d = open(path, "rb").read()
open(path, "wb").write(d.replace(b"GET /b.txt", b"GET /b.txt?edited"))
PY
EOF2
chmod +x "$WORK/edit.sh"

"$HSPY" read "$CAP" --export raw-request --id 1 --output "$WORK/want.http" ||
    fail "the raw request could not be exported"

# recorded N: waits until the upstream has recorded N requests.
recorded() {
    for _ in $(seq 200); do
        [ "$(find "$WORK/rec" -name 'req.*' | wc -l)" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

TUI_ENV=("EDITOR=$WORK/edit.sh" "VISUAL=" "TMPDIR=$WORK")
tui_start 150 40 read "$CAP" --replay-to "127.0.0.1:$UPORT"
check "the capture is read" tui_wait "/c.txt"
tui_keys g r
check "the replay goes to --replay-to" tui_wait "replaying #1 to 127.0.0.1:$UPORT"
check "the replay shows as a new flow" tui_wait "↻"
check "the upstream received one request" recorded 1
check "the upstream received the captured bytes exactly" cmp "$WORK/want.http" "$WORK/rec/req.1"

# R: edit, fix the framing, replay.
tui_keys g j R
check "the edited request waits for the framing choice" tui_wait "send as typed"
tui_keys f
check "the edited request reaches the upstream" recorded 2
check "the request as edited" grep -q "^GET /b.txt?edited HTTP/1.1" "$WORK/rec/req.2"
tui_keys q

# Without --replay-to the target is asked for.
tui_restart
tui_start 150 40 read "$CAP"
check "the capture is read again" tui_wait "/c.txt"
tui_keys G r
check "the target is asked for" tui_wait "replay to (host:port)"
tui_keys C-u
tui_type "127.0.0.1:$UPORT"
tui_keys Enter
check "the replay goes to the target typed" recorded 3
check "the third request replayed" grep -q "^GET /c.txt HTTP/1.1" "$WORK/rec/req.3"
tui_keys q
finish
