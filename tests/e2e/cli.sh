#!/usr/bin/env bash
# The command line as a new user meets it: help for the program and every subcommand, the
# version, usage errors (exit 2, one line naming the problem plus a hint) and environment
# errors (exit 1, "hspy: <what>: <why>"), and lint's exit statuses.
source "$(dirname "$0")/lib/common.sh"

expect() { # expect STATUS STDERR-PATTERN -- ARGS...
    local want=$1 pattern=$2
    shift 3
    local out err status
    out=$("$HSPY" "$@" 2>"$WORK/err")
    status=$?
    err=$(cat "$WORK/err")
    if [ "$status" -ne "$want" ]; then
        fail "hspy $*: exit $status, want $want (stderr: $err)"
        return
    fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$WORK/err"; then
        fail "hspy $*: stderr '$err' lacks /$pattern/"
        return
    fi
    echo "ok: hspy $* -> $status"
}

"$HSPY" --help | grep -q "Commands:" || fail "program help"
for cmd in listen proxy read lint sniff; do
    "$HSPY" "$cmd" --help | grep -q "^Usage: hspy $cmd" || fail "$cmd --help"
done
"$HSPY" --version | grep -qE '^hspy [0-9]+\.[0-9]+' || fail "--version"

expect 2 "unknown command 'bogus'" -- bogus
expect 2 "Try 'hspy --help'" -- bogus
expect 2 "unknown option '--frob'" -- listen --frob 8000
expect 2 "Try 'hspy listen --help'" -- listen --frob 8000
expect 2 "missing \[HOST:\]PORT" -- listen
expect 2 "out of range" -- listen 70000
expect 2 "missing UPSTREAM" -- proxy 8000
expect 2 "^hspy proxy: bad upstream: port 0 in '127.0.0.1:0' \(a port to connect to is 1 to 65535\)$" -- proxy 20002 127.0.0.1:0
expect 2 "^Try 'hspy proxy --help'" -- proxy 20002 127.0.0.1:0
expect 2 "^hspy listen: --replay-to: port 0 in '127.0.0.1:0'" -- listen --replay-to 127.0.0.1:0 20002
expect 2 "missing FILE" -- read
expect 2 "not a size" -- lint --body-keep 12Q -
expect 1 "^hspy: $WORK/none: No such file or directory" -- lint "$WORK/none"
# An empty input: lint says so, naming stdin as such and a file's name escaped.
: >"$WORK/empty"$'\e'"[2J"
expect 0 '^hspy: .*/empty\\x1b\[2J: no HTTP message in the input$' -- lint "$WORK/empty"$'\e'"[2J"
expect 0 "^hspy: stdin: no HTTP message in the input$" -- lint - </dev/null
# Bad values are usage errors whichever part of hspy judges them: the offset of a bad filter,
# the hint, exit 2, and nothing served or read.
cap=$HSPY_SOURCE_DIR/captures/real-keepalive.pcap
expect 2 "^hspy read: --filter: at offset 0: '\(' without a matching '\)'$" -- read --filter '(~m GET' "$cap"
expect 2 "^hspy listen: --intercept: at offset 8: expected a term at the end of the expression$" -- listen --intercept '~m GET &' 0
expect 2 "^Try 'hspy read --help'" -- read --filter '(~m GET' "$cap"
expect 2 "^hspy listen: --body: bad escape" -- listen --no-tui --body 'x\q' 0
expect 2 "^Try 'hspy listen --help'" -- listen --no-tui --body 'x\q' 0
expect 2 "^hspy listen: --trickle '16': expected BYTES/TIME" -- listen --no-tui --trickle 16 0
expect 2 "^hspy read: --bpf: filter 'tcp port nope'" -- read --bpf 'tcp port nope' "$cap"
expect 2 "^Try 'hspy read --help'" -- read --bpf 'tcp port nope' "$cap"
expect 2 "give --hold-timeout" -- listen --intercept '~m POST' 0
expect 2 "^Try 'hspy proxy --help'" -- proxy --intercept '~m POST' 0 127.0.0.1:1

# --save FILE is written at the end, but a path it could never write is refused at start, like
# --har's and --pcapng's: before serving or reading, and before any output.
rc=0
timeout 10 "$HSPY" listen --no-tui --save "$WORK/nodir/x.har" 0 >"$WORK/out" 2>"$WORK/err" || rc=$?
check "listen --save into a missing folder: refused at start (exit $rc)" test "$rc" = 1
check "which says why" grep -q "^hspy: $WORK/nodir/x.har: No such file or directory" "$WORK/err"
rc=0
"$HSPY" read --save "$WORK/nodir/x.har" "$cap" >"$WORK/out" 2>"$WORK/err" || rc=$?
check "read --save into a missing folder: exit 1 ($rc)" test "$rc" = 1
check "before anything is read" test ! -s "$WORK/out"
rc=0
"$HSPY" read --save "$WORK" "$cap" >"$WORK/out" 2>"$WORK/err" || rc=$?
check "read --save onto a folder: refused at start" test "$rc" = 1 -a ! -s "$WORK/out"
mkdir "$WORK/saved"
"$HSPY" read --log none --save "$WORK/saved/x.har" "$cap" || fail "read --save into a folder"
check "the check leaves nothing behind, the save its file" test "$(ls "$WORK/saved")" = x.har

# A write error on any output ends with exit status 1 and says what was lost; stdout's reader
# going away (| head) is no error.
rc=0
"$HSPY" read "$cap" >/dev/full 2>"$WORK/err" || rc=$?
check "stdout on a full disk: exit 1 ($rc)" test "$rc" = 1
check "with what was lost" grep -q "^hspy: stdout: 3 records could not be written" "$WORK/err"
for out in har pcapng save; do
    rc=0
    "$HSPY" read --log none "--$out" /dev/full "$cap" 2>"$WORK/err" || rc=$?
    check "--$out on a full disk: exit 1 ($rc)" test "$rc" = 1
    check "--$out: and says why" grep -q "/dev/full: .*No space left on device" "$WORK/err"
done
rc=0
"$HSPY" read --json "$cap" 2>"$WORK/err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
check "read | head -1: exit 0 ($rc)" test "$rc" = 0
check "read | head -1: quiet" test ! -s "$WORK/err"

printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >"$WORK/clean.txt"
printf 'GET / HTTP/1.1\r\nContent-Lenght: 2\r\n\r\n' >"$WORK/typo.txt"
expect 0 "" -- lint "$WORK/clean.txt"
expect 3 "" -- lint "$WORK/typo.txt"
# Bytes that are not HTTP at all (no warning applies to them) still fail the check.
printf '\033[2J\033[H / HTTP/1.1\r\n\r\n' >"$WORK/nothttp.txt"
expect 3 "" -- lint "$WORK/nothttp.txt"
"$HSPY" lint "$WORK/nothttp.txt" | grep -q "^1 message, 0 with warnings, 1 not HTTP$" || fail "lint counts what is not HTTP"
# A message whose length cannot be known: the report says so and shows the bytes after it.
printf 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcdGET /next HTTP/1.1\r\nHost: a\r\n\r\n' >"$WORK/unframed.txt"
expect 3 "" -- lint "$WORK/unframed.txt"
"$HSPY" lint "$WORK/unframed.txt" >"$WORK/unframed.out"
grep -q "^framing: impossible: .*a server must answer 400" "$WORK/unframed.out" || fail "lint says the framing is impossible"
grep -q "^after the head: 35 bytes that cannot be framed .*GET /next" "$WORK/unframed.out" || fail "lint shows the bytes after an unframeable head"
grep -q "input ended first" "$WORK/unframed.out" && fail "lint blames the end of the input for impossible framing"
grep -q "^1 message, 1 with warnings, 1 that cannot be framed$" "$WORK/unframed.out" || fail "lint counts messages that cannot be framed"
"$HSPY" lint --json "$WORK/unframed.txt" | python3 -c '
import json, sys
f = json.loads(sys.stdin.readline())["framing"]
assert f["impossible"] is True and f["unframed"] == 35 and "Content-Length" in f["why"], f
' || fail "lint --json says the framing is impossible"
"$HSPY" lint "$WORK/typo.txt" | grep -q "did you mean Content-Length" || fail "lint explains the typo"
"$HSPY" lint --json "$WORK/typo.txt" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
codes = [w["code"] for w in rows[0]["warnings"]]
assert "header-name-typo" in codes and "host-missing" in codes, codes
' || fail "lint --json lists the warnings"
# More pipelined requests than the engine keeps in flight at once: every one is checked.
python3 -c 'import sys; sys.stdout.write("GET /n HTTP/1.1\r\nHost: a\r\n\r\n" * 1000)' >"$WORK/many.txt"
test "$("$HSPY" lint "$WORK/many.txt" | tail -1)" = "1000 messages, 0 with warnings" ||
    fail "lint reads every one of 1000 pipelined requests"
# Standard output whose reader already left (| head): printing stops quietly, as in every mode;
# lint still checks the whole input, so its exit status is the verdict on all of it.
closed_stdout() { # closed_stdout ARGS...: runs hspy with a pipe nobody reads as stdout
    python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
sys.stderr.buffer.write(p.stderr)
sys.exit(p.returncode)' "$HSPY" "$@"
}
python3 -c 'import sys; sys.stdout.write("GET /n HTTP/1.1\r\nHost: a\r\n\r\n" * 3000)' >"$WORK/big.txt"
python3 -c 'import sys; sys.stdout.write("GET /n HTTP/1.1\r\nHost: a\r\n\r\n" * 3000 + "GET / HTTP/1.1\r\n\r\n")' >"$WORK/bigwarn.txt"
for args in "lint $WORK/big.txt:0" "lint --json $WORK/big.txt:0" "lint $WORK/bigwarn.txt:3" \
    "read $cap:0" "read --export raw-request --id 1 $cap:0"; do
    rc=0
    # shellcheck disable=SC2086 # the words of args are the arguments
    closed_stdout ${args%:*} 2>"$WORK/err" || rc=$?
    check "hspy ${args%:*} into a closed pipe: exit ${args##*:} ($rc)" test "$rc" = "${args##*:}"
    check "hspy ${args%:*} into a closed pipe: nothing on stderr" test ! -s "$WORK/err"
done
"$HSPY" lint "$WORK/big.txt" | head -1 | grep -q "^── message 1" || fail "lint | head -1"

# Hostile bytes in the input never reach the terminal raw.
printf 'GET /\033[31mred HTTP/1.1\r\nX: \033]0;title\007\r\n\r\n' | "$HSPY" lint - >"$WORK/out.txt"
if LC_ALL=C grep -q $'\033' "$WORK/out.txt"; then fail "lint output carries a raw ESC"; else echo "ok: escapes rendered safely"; fi
finish
