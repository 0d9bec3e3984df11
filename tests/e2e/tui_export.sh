#!/usr/bin/env bash
# The interface's export keys in a real terminal (tmux) over `hspy listen`: E writes the
# selected flow as a curl command, its raw request and response, an nc script and its body to
# files named in the prompt (the scripts executable, the curl command runnable against the same
# server); w saves all and the marked flows to HAR files that hold exactly those flows; the
# help lists both keys.
source "$(dirname "$0")/lib/tui.sh"
tui_need
command -v python3 >/dev/null || skip "python3 is not installed"

PORT=$(free_port)
tui_start 150 40 listen "127.0.0.1:$PORT"
check "interface up" tui_wait "hspy listen 127.0.0.1:$PORT"
wait_for_port "$PORT" || fail "hspy does not listen"

curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary 'hello export' \
    "http://127.0.0.1:$PORT/one?x=1"
curl -s -o /dev/null "http://127.0.0.1:$PORT/two"
check "two flows" tui_wait "2 flows"

# export FORMKEY PATH: E, the form, "to a file", the path typed over the suggested name.
export_flow() {
    tui_keys E
    tui_wait "as:" >/dev/null || return 1
    tui_keys "$1"
    tui_wait "to a file" >/dev/null || return 1
    tui_keys f
    tui_wait "to file" >/dev/null || return 1
    tui_keys C-u
    tui_type "$2"
    tui_keys Enter
    tui_wait "written to $2" || return 1
}

# Follow mode selected /two; go up to /one.
tui_keys k
check "curl command written" export_flow c "$WORK/one.sh"
check "curl command is executable" test -x "$WORK/one.sh"
check "curl command says which shell runs it" [ "$(head -1 "$WORK/one.sh")" = '#!/usr/bin/env bash' ]
check "curl command names the URL" grep -q "127.0.0.1:$PORT/one?x=1" "$WORK/one.sh"
check "raw request written" export_flow r "$WORK/one.req"
check "raw request is the bytes sent" python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
assert b.startswith(b"POST /one?x=1 HTTP/1.1\r\n"), b[:40]
assert b.endswith(b"\r\n\r\nhello export"), b[-40:]' "$WORK/one.req"
check "raw response written" export_flow R "$WORK/one.resp"
check "raw response starts with its status line" grep -q $'^HTTP/1.1 200 OK\r$' "$WORK/one.resp"
check "nc script written" export_flow n "$WORK/one-nc.sh"
check "nc script is executable" test -x "$WORK/one-nc.sh"
check "nc script pipes the bytes to nc" grep -q "nc" "$WORK/one-nc.sh"
check "body written" export_flow b "$WORK/one.body"
check "body is the response payload" cmp -s "$WORK/one.body" <(tail -c "$(stat -c %s "$WORK/one.body")" "$WORK/one.resp")

# The curl command, run, reaches the same server: a third flow with the same request.
(cd "$WORK" && ./one.sh >/dev/null 2>&1)
check "the exported curl command sends the request again" tui_wait "3 flows"

# A refused path is reported, nothing crashes.
tui_keys E r f C-u
tui_type "$WORK/no-such-dir/x"
tui_keys Enter
check "a failed write is reported" tui_wait "no-such-dir/x: No such file"

# w: all flows, then only the marked one.
tui_keys w
check "save asks which flows" tui_wait "marked (0)"
tui_keys a
check "HAR prompt" tui_wait "save all flows to HAR file"
tui_keys C-u
tui_type "$WORK/all.har"
tui_keys Enter
check "all flows saved" tui_wait "3 flows saved to $WORK/all.har"
har_urls() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(e["request"]["url"].split("/", 3)[3] for e in d["log"]["entries"]))' "$1"
}
check "the HAR holds the three flows in order" test "$(har_urls "$WORK/all.har")" = "one?x=1 two one?x=1"
tui_keys g m
tui_keys w
check "one marked" tui_wait "marked (1)"
tui_keys m C-u
tui_type "$WORK/marked.har"
tui_keys Enter
check "marked flow saved" tui_wait "1 flow saved to $WORK/marked.har"
check "the HAR holds only the marked flow" test "$(har_urls "$WORK/marked.har")" = "one?x=1"

# The help lists both keys.
tui_keys '?'
tui_keys /
tui_type "export the flow"
tui_keys Enter
check "help lists E" tui_wait "export the flow: curl"
tui_keys /
tui_type "to a HAR file"
tui_keys Enter
check "help lists w" tui_wait "marked flows to a HAR file"
tui_keys q q
finish
