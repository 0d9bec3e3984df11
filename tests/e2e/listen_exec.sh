#!/usr/bin/env bash
# hspy listen --exec CMD: CGI meta-variables and stdin, CGI headers, whole responses, long
# output streamed, request bodies streamed in; failures become 502 (504 on timeout) with the
# command's stderr on the exchange; shell metacharacters in the target, headers and command
# words never reach a shell.
. "$(dirname "$0")/lib/listen.sh"
need curl python3 sh
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

cat >"$T/env.sh" <<'SH'
#!/bin/sh
printf 'Status: 201 Made It\r\nContent-Type: text/plain\r\nX-Script: yes\r\n\r\n'
printf 'args='; printf '%s|' "$@"; echo
printf 'method=%s\n' "$REQUEST_METHOD"
printf 'uri=%s\n' "$REQUEST_URI"
printf 'path=%s\n' "$PATH_INFO"
printf 'query=%s\n' "$QUERY_STRING"
printf 'shell=%s\n' "$HTTP_X_SHELL"
printf 'length=%s\n' "$CONTENT_LENGTH"
printf 'proxy=%s\n' "${HTTP_PROXY:-unset}"
printf 'body='; cat
SH
cat >"$T/fail.sh" <<'SH'
#!/bin/sh
echo "boom: the script failed" >&2
exit 3
SH
cat >"$T/slow.sh" <<'SH'
#!/bin/sh
sleep 10
SH
cat >"$T/big.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
yes 0123456789abcdef | head -c 3000000
SH
cat >"$T/count.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
wc -c | tr -d ' '
SH
cat >"$T/nph.sh" <<'SH'
#!/bin/sh
printf "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 2\r\nX-NPH: 1\r\n\r\nhi"
SH
cat >"$T/plain.sh" <<'SH'
#!/bin/sh
echo "just text"
SH
chmod +x "$T"/*.sh

cat >"$T/rules" <<RULES
match * /fail
  exec $T/fail.sh
match * /slow
  exec $T/slow.sh
match * /big
  exec $T/big.sh
match * /count
  exec $T/count.sh
match * /nph
  exec $T/nph.sh
match * /plain
  exec $T/plain.sh
match * /missing
  exec $T/does-not-exist
match * /viashell
  exec-shell echo "Content-Type: text/plain"; echo; echo "shell says \$REQUEST_METHOD"
RULES

listen_start --json --exec "$T/env.sh one 'two words' three;touch $T/pwned-args" --rules "$T/rules" --exec-timeout 3s

# Hostile target and headers: the values arrive verbatim in the environment, nothing runs.
$RAW "$PORT" --send "POST /cgi/%24(touch%20$T/pwned-q)?q=\$(touch+$T/pwned-q2)&r=\`id\` HTTP/1.1\\r\\nHost: x\\r\\nX-Shell: \$(touch $T/pwned-h); \`touch $T/pwned-h2\` | sh\\r\\nProxy: http://evil:1\\r\\nContent-Length: 11\\r\\nConnection: close\\r\\n\\r\\nbody;\$(id)\n" >"$T/r1"
check "CGI Status header" grep -aq '^HTTP/1.1 201 Made It' "$T/r1"
check "CGI header passed" grep -aq '^X-Script: yes' "$T/r1"
check "words split without a shell" grep -aqF "args=one|two words|three;touch|$T/pwned-args|" "$T/r1"
check "method" grep -aq '^method=POST' "$T/r1"
check "query verbatim" grep -aqF "query=q=\$(touch+$T/pwned-q2)&r=\`id\`" "$T/r1"
check "path decoded" grep -aqF "path=/cgi/\$(touch $T/pwned-q)" "$T/r1"
check "header verbatim" grep -aqF "shell=\$(touch $T/pwned-h); \`touch $T/pwned-h2\` | sh" "$T/r1"
check "CONTENT_LENGTH" grep -aq '^length=11' "$T/r1"
check "no HTTP_PROXY (httpoxy)" grep -aq '^proxy=unset' "$T/r1"
check "body on stdin" grep -aqF 'body=body;$(id)' "$T/r1"
# Judged once every command hspy started has ended (a shell would have run its touch by then).
commands_ended() { ! ps --ppid "$LISTEN_PID" -o stat= | grep -qv '^Z'; }
wait_until 30 commands_ended
check "nothing ran through a shell" test -z "$(ls "$T" | grep pwned)"

check "failing command: 502" test "$(curl -s -o "$T/f" -w '%{http_code}' "$URL/fail")" = 502
check "502 says why" grep -q 'command exited with status 3' "$T/f"
check "timeout: 504" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/slow")" = 504
check "missing command: 502" test "$(curl -s -o "$T/m" -w '%{http_code}' "$URL/missing")" = 502
check "missing command says so" grep -q 'cannot run' "$T/m"
curl -s -D "$T/bh" -o "$T/big" "$URL/big"
check "long output streamed chunked" grep -qi '^transfer-encoding: chunked' "$T/bh"
check "long output intact" cmp -s "$T/big" <(yes 0123456789abcdef | head -c 3000000)
head -c 5000000 /dev/zero >"$T/five"
check "large body reaches stdin" test "$(curl -s --data-binary "@$T/five" "$URL/count")" = 5000000
check "chunked body reaches stdin" test "$(curl -s -H 'Transfer-Encoding: chunked' --data-binary "@$T/five" "$URL/count")" = 5000000
curl -s -D "$T/nh" -o "$T/nb" "$URL/nph"
check "whole response from the command" grep -q "^HTTP/1.1 418 I'm a teapot" "$T/nh"
check "whole response body" test "$(cat "$T/nb")" = hi
check "plain output is a 200 text body" test "$(curl -s -w ' %{http_code} %{content_type}' "$URL/plain")" = "just text
 200 text/plain; charset=utf-8"
check "exec-shell runs through sh" test "$(curl -s "$URL/viashell")" = "shell says GET"
check "keep-alive after a command" test "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}' "$URL/plain" "$URL/plain")" = 10

listen_stop
J=$LISTEN_OUT
check "502 carries the error" test "$(pyq "$J" '[e["error"] for e in ex if e["request"]["target"]=="/fail"][0]')" = "exec: command exited with status 3"
check "stderr on the exchange" test "$(pyq "$J" '[e["note"] for e in ex if e["request"]["target"]=="/fail"][0]')" = "rule: line 1; exec stderr: boom: the script failed"
check "timeout on the exchange" test "$(pyq "$J" '[e["error"] for e in ex if e["request"]["target"]=="/slow"][0]')" = "exec: command timed out after 3000 ms"
check "exchanges recorded" test "$(pyq "$J" 'len(ex)')" = 12
finish
