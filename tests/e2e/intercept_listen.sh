#!/usr/bin/env bash
# Intercept, edit, craft and replay in `hspy listen`'s interface (tmux), with EDITOR set to a
# script that edits the file deterministically: a held request's response crafted in the
# editor reaches curl (framing fixed); a second client is served while the first is held;
# "send as typed" really sends a wrong Content-Length; a quick status edit; kill resets the
# client's connection; a replay makes a second exchange with the same request; a crafted
# response saved as a rule is written back to the --rules file and answers the next request;
# the crafted response made the default answer, and back.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"
RAW=$(dirname "$0")/lib/rawclient.py

# The editor: picks the edit by what the file holds (the echo preview holds the request).
cat >"$WORK/edit.sh" <<'EOF'
#!/bin/sh
exec python3 - "$1" <<'PY'
import sys
path = sys.argv[1]
text = open(path, "rb").read()
if b"/craft" in text:
    # A new status, a stale Content-Length that "fix" must correct, LF line ends.
    out = b"HTTP/1.1 201 Created\nContent-Type: application/json\nContent-Length: 1\n\n{\"crafted\":true}"
elif b"/liar" in text:
    out = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort"
else:
    out = text
open(path, "wb").write(out)
open(path + ".seen", "wb").write(text)
PY
EOF
chmod +x "$WORK/edit.sh"
printf 'match GET /health\n  status 200\n  body ok\n' >"$WORK/mock.rules"

PORT=$(free_port)
TUI_ENV=("EDITOR=$WORK/edit.sh" "VISUAL=" "TMPDIR=$WORK")
tui_start 150 40 listen --intercept '~m POST' --rules "$WORK/mock.rules" --har "$WORK/out.har" \
    "127.0.0.1:$PORT"
check "interface up" tui_wait "hspy listen 127.0.0.1:$PORT"
wait_for_port "$PORT" || fail "hspy does not listen"

# search: puts the cursor on the first flow whose row shows TEXT.
select_flow() {
    tui_keys g /
    tui_type "$1"
    tui_keys Enter
    check "the cursor is on the flow $1" wait_until 30 tui_selected "$1"
}

# --- a held request, a second client served meanwhile, a response crafted in the editor ---
# A body over 1 KiB: curl asks Expect: 100-continue, which is answered while the request is held.
head -c 3000 /dev/zero | tr '\0' 'a' >"$WORK/big.txt"
curl -s -m 20 -o "$WORK/craft.body" -w '%{http_code}' --data-binary "@$WORK/big.txt" \
    "http://127.0.0.1:$PORT/craft" >"$WORK/craft.code" 2>&1 &
CURL1=$!
BG_PIDS+=("$CURL1")
check "the POST is held" tui_wait "held 1"
free=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/free")
check "a second client is served while the first is held" test "$free" = 200
check "the held request has no answer yet" test ! -s "$WORK/craft.code"
select_flow /craft
tui_keys e
check "after the editor: fix or as typed" tui_wait "f fix Content-Length/chunking"
seen=$(ls "$WORK"/hspy-*.http.seen | head -1)
check "the editor got the default answer (the echo) to start from" \
    grep -q 'POST /craft HTTP/1.1' "$seen"
check "with the whole body (sent after 100 Continue)" grep -q 'aaaaaaaaaa' "$seen"
check "the default answer starts with its own head" sh -c "head -1 '$seen' | grep -q '^HTTP/1.1 200 OK'"
check "the editor's file is removed" test -z "$(ls "$WORK"/hspy-*.http 2>/dev/null)"
tui_keys f
check "the staged edit is checked by the engine" tui_wait "Content-Length 16 matches the body"
tui_keys a
wait "$CURL1"
check "curl gets the crafted status" test "$(cat "$WORK/craft.code")" = 201
check "curl gets the crafted body" test "$(cat "$WORK/craft.body")" = '{"crafted":true}'
tui_keys Enter BTab
check "the Diff tab compares the default answer with what was sent" tui_wait "--- default answer"
check "the diff shows the new status line" tui_wait "+ HTTP/1.1 201 Created␍␊"
tui_keys q

# --- send as typed: a Content-Length that lies reaches the client as typed ---
python3 "$RAW" "$PORT" --timeout 15 \
    --send 'POST /liar HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz' >"$WORK/liar.out" 2>&1 &
RAW1=$!
BG_PIDS+=("$RAW1")
check "the second POST is held" tui_wait "held 1"
select_flow /liar
tui_keys e
check "asked again" tui_wait "send as typed"
tui_keys t
check "the engine warns before sending" tui_wait "Content-Length 99 but 5 body bytes"
tui_keys a
wait "$RAW1"
check "the client received exactly what was typed" \
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(d != b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort")' "$WORK/liar.out"

# --- a quick edit: the status of the default answer ---
curl -s -m 20 -o /dev/null -w '%{http_code}' -d 'q=1' "http://127.0.0.1:$PORT/quick" \
    >"$WORK/quick.code" 2>&1 &
CURL2=$!
BG_PIDS+=("$CURL2")
check "the third POST is held" tui_wait "held 1"
select_flow /quick
tui_keys c
check "quick edit choices" tui_wait "s status"
tui_keys s
tui_type "418"
tui_keys Enter
check "status staged" tui_wait "response changed"
tui_keys a
wait "$CURL2"
check "curl gets the edited status" test "$(cat "$WORK/quick.code")" = 418

# --- kill: the client's connection is reset ---
curl -s -m 20 -d 'k=1' "http://127.0.0.1:$PORT/kill" >/dev/null 2>&1 &
CURL3=$!
BG_PIDS+=("$CURL3")
check "the fourth POST is held" tui_wait "held 1"
select_flow /kill
tui_keys x
wait "$CURL3"
status=$?
check "curl sees its connection reset (exit 56, got $status)" test "$status" = 56
check "the flow shows as killed" tui_wait "kill"

# --- a client that gives up while held: the hold ends, the flow says so, a says why ---
curl -s -m 1 -d 'g=1' "http://127.0.0.1:$PORT/gone-away" >/dev/null 2>&1
check "the abandoned flow shows the client went away" tui_wait "abrt"
check "nothing is held any more" tui_wait_gone "held 1"
select_flow /gone-away
tui_keys a
check "a says the client is gone instead of answering" \
    tui_wait "no longer held: the client went away while the request was held"

# --- a crafted response saved as a rule, written back, answering by itself ---
curl -s -m 20 -o "$WORK/hook1.body" -d 'h=1' "http://127.0.0.1:$PORT/craft/hook" >/dev/null 2>&1 &
CURL4=$!
BG_PIDS+=("$CURL4")
check "the hook POST is held" tui_wait "held 1"
select_flow /craft/hook
tui_keys e
check "fix or as typed (hook)" tui_wait "send as typed"
tui_keys f a
wait "$CURL4"
check "the hook got the crafted body" test "$(cat "$WORK/hook1.body")" = '{"crafted":true}'
select_flow /craft/hook
tui_keys S
check "asked for a rule name" tui_wait "save the response as the rule named"
tui_keys C-u
tui_type "hooked"
tui_keys Enter
check "the rule is added" tui_wait "rule 'hooked' answers POST /craft/hook"
tui_keys W
check "asked before writing" tui_wait "write the rules back to"
tui_keys y
check "the rules are written" tui_wait "2 rules written"
check "the rules file has the new rule first" \
    python3 -c 'import sys; t=open(sys.argv[1]).read(); sys.exit(not (t.index("name hooked") < t.index("match GET /health")))' "$WORK/mock.rules"
check "the rules file keeps its own rule" grep -q 'body ok' "$WORK/mock.rules"
tui_keys i C-u Enter
check "intercept off" tui_wait "intercept off"
got=$(curl -s -m 5 -d 'h=2' "http://127.0.0.1:$PORT/craft/hook")
check "the saved rule answers the next request by itself" test "$got" = '{"crafted":true}'
check "the file's own rule still answers" test "$(curl -s -m 5 "http://127.0.0.1:$PORT/health")" = ok

# --- the crafted response as the default answer, and back to the echo ---
tui_keys T
check "default switched" tui_wait "default answer: the last crafted response"
check "an unmatched request gets the crafted response" \
    test "$(curl -s -m 5 "http://127.0.0.1:$PORT/other")" = '{"crafted":true}'
tui_keys T
check "default switched back" tui_wait "default answer: as the command line says"
check "the echo is back" sh -c "curl -s -m 5 'http://127.0.0.1:$PORT/other' | grep -q 'GET /other HTTP/1.1'"

# --- replay: a second exchange with the same request ---
select_flow /free
tui_keys r
check "asked where to replay" tui_wait "replay to (host:port)"
tui_keys C-u
tui_type "127.0.0.1:$PORT"
tui_keys Enter
check "the replay is under way" tui_wait "replaying #2"
check "the replay is marked" tui_wait "↻"

tui_keys q
check "q quits" tui_wait_exit
check "exit status 0" test "${TUI_STATUS:-x}" = 0
check "terminal restored" tui_restored
python3 - "$WORK/out.har" <<'PY' || fail "the HAR does not show the replay as a second exchange with the same request"
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
def req(e):
    r = e["request"]
    return (r["method"], r["url"], [(h["name"], h["value"]) for h in r["headers"]])
orig = [e for e in entries if e["request"]["url"].endswith("/free") and "replay" not in e["_hspy"]["flags"]]
reps = [e for e in entries if "replay" in e["_hspy"]["flags"]]
assert orig and reps, (len(orig), len(reps))
assert req(reps[0]) == req(orig[0]), (req(reps[0]), req(orig[0]))
assert reps[0]["_hspy"]["replay_of"] is not None
assert reps[0]["response"]["status"] == 200
edited = [e for e in entries if "edited" in e["_hspy"]["flags"]]
assert len(edited) >= 3, len(edited)
print("ok: the HAR shows the replay with the same request and the edited exchanges")
PY
finish
