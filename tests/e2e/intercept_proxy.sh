#!/usr/bin/env bash
# Intercept and edit in `hspy proxy`'s interface (tmux), with EDITOR set to a script that edits
# the file deterministically, in front of an upstream that records every request it receives:
# an intercepted request's body is changed in the editor and the upstream receives exactly the
# changed bytes (Content-Length fixed); another client is served while it is held; a held
# response is changed before it reaches curl; "send as typed" sends a stale Content-Length
# upstream; kill resets the held client's connection; a replay reaches the upstream with the
# same request, and R edits a request before replaying it.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"

start_recording_upstream "$WORK/rec"

cat >"$WORK/edit.sh" <<'EOF'
#!/bin/sh
exec python3 - "$1" <<'PY'
import sys
path = sys.argv[1]
d = open(path, "rb").read()
d = d.replace(b"original", b"changed-by-the-editor")   # request bodies
d = d.replace(b"\r\n\r\nhello\n", b"\r\n\r\nbye\n")     # the /hello response body
d = d.replace(b"/hello?replay", b"/hello?edited-replay") # R: the request line
open(path, "wb").write(d)
PY
EOF
chmod +x "$WORK/edit.sh"

# rec_with TEXT: the recorded upstream request holding TEXT (fixed string), if any.
rec_with() {
    grep -lF -- "$1" "$WORK"/rec/req.* 2>/dev/null | head -1
}

# row_has TARGET TEXT: the flow list row showing TARGET also shows TEXT (fixed strings).
row_has() {
    tui_screen | grep -F -- "$1" | grep -qF -- "$2"
}

select_flow() {
    tui_keys g /
    tui_type "$1"
    tui_keys Enter
    check "the cursor is on the flow $1" wait_until 30 tui_selected "$1"
}

PORT=$(free_port)
TUI_ENV=("EDITOR=$WORK/edit.sh" "VISUAL=" "TMPDIR=$WORK")
tui_start 150 40 proxy --intercept '~m POST & ~q' "127.0.0.1:$PORT" "127.0.0.1:$UPORT"
tui_wait_up "hspy proxy"
check "interface up" tui_wait "hspy proxy 127.0.0.1:$PORT"
wait_for_port "$PORT" || fail "the proxy does not listen"

# --- a held request's body changed in the editor ---
curl -s -m 30 -o "$WORK/up1.body" -d 'original' "http://127.0.0.1:$PORT/upload" >/dev/null 2>&1 &
CURL1=$!
BG_PIDS+=("$CURL1")
check "the POST is held" tui_wait "held 1"
check "another client is served meanwhile" \
    test "$(curl -s -m 5 "http://127.0.0.1:$PORT/hello")" = hello
check "nothing of the held request reached the upstream" test -z "$(rec_with /upload)"
select_flow /upload
tui_keys e
check "after the editor: fix or as typed" tui_wait "f fix Content-Length/chunking"
tui_keys f
check "the staged request reads clean" tui_wait "Content-Length 21 matches the body"
tui_keys a
wait "$CURL1"
rec=$(rec_with /upload)
check "the upstream received the request" test -n "$rec"
check "the upstream received exactly the changed request" python3 - "$rec" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
head, _, body = d.partition(b"\r\n\r\n")
assert body == b"changed-by-the-editor", body
assert b"\r\nContent-Length: 21\r\n" in head + b"\r\n", head
assert b"original" not in d
PY
check "curl got the upstream's answer to the changed body" \
    grep -q '^21 ' "$WORK/up1.body"
tui_keys Enter BTab
check "the Diff tab shows what was received against what was sent" tui_wait "+ changed-by-the-editor"
check "the received body is kept" tui_wait "- original"
tui_keys q

# --- send as typed: a stale Content-Length goes upstream as typed ---
curl -s -m 60 -d 'original' "http://127.0.0.1:$PORT/upload?typed" >/dev/null 2>&1 &
CURL2=$!
BG_PIDS+=("$CURL2")
check "the second POST is held" tui_wait "held 1"
select_flow '/upload?typed'
tui_keys e
check "asked again" tui_wait "send as typed"
tui_keys t
check "the engine warns before sending" tui_wait "Content-Length 8; 13 bytes after it"
tui_keys a
wait_until 30 eval '[ -n "$(rec_with "upload?typed")" ]'
rec=$(rec_with 'upload?typed')
check "the stale Content-Length reached the upstream" \
    sh -c "grep -q 'Content-Length: 8' '$rec' && grep -q 'changed-' '$rec'"
wait "$CURL2"

# --- a held response changed before it reaches the client ---
tui_keys i C-u
tui_type '~s & ~u /hello'
tui_keys Enter
check "intercepting responses" tui_wait "intercepting ~s & ~u /hello"
curl -s -m 30 -o "$WORK/resp.body" "http://127.0.0.1:$PORT/hello" >/dev/null 2>&1 &
CURL3=$!
BG_PIDS+=("$CURL3")
check "the response is held" tui_wait "held 1"
check "nothing reached the client yet" test ! -s "$WORK/resp.body"
tui_keys G e
check "fix or as typed (response)" tui_wait "send as typed"
tui_keys f a
wait "$CURL3"
check "curl got the changed response body" test "$(cat "$WORK/resp.body")" = bye

# --- kill: the held client's connection is reset ---
tui_keys i C-u
tui_type '~u kill'
tui_keys Enter
curl -s -m 30 "http://127.0.0.1:$PORT/hello?kill" >/dev/null 2>&1 &
CURL4=$!
BG_PIDS+=("$CURL4")
check "the request to kill is held" tui_wait "held 1"
tui_keys G x
wait "$CURL4"
status=$?
check "curl sees its connection reset (exit 56, got $status)" test "$status" = 56
check "nothing of the killed request reached the upstream" test -z "$(rec_with 'hello?kill')"
check "the killed request's row shows kill" row_has 'hello?kill ' ' kill '
check "and the warning marker" row_has 'hello?kill ' '⚠'

# --- kill a held response: the client is reset and the flow says it was not delivered ---
tui_keys i C-u
tui_type '~s & ~u doomed'
tui_keys Enter
check "intercepting the response" tui_wait "intercepting ~s & ~u doomed"
curl -s -m 30 "http://127.0.0.1:$PORT/hello?doomed" >/dev/null 2>&1 &
CURL5=$!
BG_PIDS+=("$CURL5")
check "the response to kill is held" tui_wait "held 1"
check "the upstream answered it" test -n "$(rec_with 'hello?doomed')"
tui_keys G x
wait "$CURL5"
status=$?
check "curl sees its connection reset (exit 56, got $status)" test "$status" = 56
check "its row shows kill, not the upstream's 200" wait_until 30 row_has 'hello?doomed' ' kill '
check "and the warning marker, as a killed request" wait_until 30 row_has 'hello?doomed' '⚠'
tui_keys Enter
check "the detail lists the warning" tui_wait "Warnings(1)"
tui_keys q

# --- replay: the same request reaches the upstream again, as a new flow ---
tui_keys i C-u Enter
curl -s -m 5 "http://127.0.0.1:$PORT/hello?replay" >/dev/null
check "a flow to replay" tui_wait "/hello?replay"
select_flow '/hello?replay'
tui_keys r
check "the replay is under way" tui_wait "replaying #"
check "the replay shows as a new flow" tui_wait "↻"
wait_until 30 eval '[ "$(grep -lF "hello?replay" "$WORK"/rec/req.* | wc -l)" -ge 2 ]'
check "the upstream received the same request twice" python3 - "$WORK/rec" <<'PY'
import glob, sys
got = [open(p, "rb").read() for p in sorted(glob.glob(sys.argv[1] + "/req.*"))]
same = [g for g in got if b"GET /hello?replay " in g]
assert len(same) == 2, len(same)
PY
select_flow '/hello?replay'
tui_keys R
check "R: fix or as typed" tui_wait "send as typed"
tui_keys f
wait_until 30 eval '[ -n "$(rec_with "edited-replay")" ]'
check "the edited replay reached the upstream" test -n "$(rec_with 'edited-replay')"

tui_keys q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
check "no editor file is left behind" test -z "$(ls "$WORK"/hspy-*.http 2>/dev/null)"
finish
