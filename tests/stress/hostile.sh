#!/usr/bin/env bash
# Hostile input in every mode: request smuggling vectors, overflowing lengths and chunk sizes, a
# 1 MiB header line, 100,000 fields, NUL bytes, invalid UTF-8 and terminal escape sequences in
# every field (tests/hostile/, with the warnings expected per mode in tests/hostile/EXPECTED),
# plus the payloads of the HTTP Garden's bug list when the shared corpus is there. Nothing may
# crash, hang, leak (memory flat over repeated rounds; the sanitizer build checks leaks at exit)
# or reach a terminal raw; the process keeps serving correct answers afterwards.
. "$(dirname "$0")/lib/common.sh"
HOSTILE=$HSPY_SOURCE_DIR/tests/hostile
EXPECTED=$HOSTILE/EXPECTED
ROUNDS=$(pick 2 20 2)

stress large "$WORK/large" >/dev/null
REQ=("$HOSTILE"/req-*.http "$WORK"/large/*.http)
RESP=("$HOSTILE"/resp-*.http)
GARDEN=()
if [ -f "${HSPY_CORPUS:-}/http-garden/TROPHIES.md" ]; then
    stress garden "$HSPY_CORPUS/http-garden/TROPHIES.md" "$WORK/garden" >/dev/null
    GARDEN=("$WORK"/garden/*.http)
else
    echo "note: shared corpus not found (HSPY_CORPUS); the HTTP Garden payloads are left out"
fi
ALL_REQ=("${REQ[@]}" "${GARDEN[@]}")
# hspy listen answers GET /resp-NAME with tests/hostile/resp-NAME.http, sent as written.
rules=$WORK/hostile.rules
: >"$rules"
for f in "${RESP[@]}"; do
    b=$(basename "$f" .http)
    printf 'match * /%s\n  raw %s\n\n' "$b" "$f" >>"$rules"
    printf 'GET /%s HTTP/1.1\r\nHost: h\r\n\r\n' "$b" >"$WORK/get-$b.http"
done
inputs_desc="${#REQ[@]} hostile requests, ${#RESP[@]} hostile responses, ${#GARDEN[@]} HTTP Garden payloads"

# json_ok FILE: every line of FILE is a JSON object (JSON lines output intact).
json_ok() {
    "$PYTHON" -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$1"
}

har_ok() {
    "$PYTHON" -c 'import json,sys; h=json.load(open(sys.argv[1])); assert h["log"]["entries"] is not None' "$1"
}

text_clean() {
    stress termcheck "$@" >"$WORK/termcheck.json"
    [ "$(lastjson "$WORK/termcheck.json" bad)" = "{}" ] || { cat "$WORK/termcheck.json"; return 1; }
}

# expect_ok RESULT_FILE: an "expect" or "lint" result with nothing wrong.
expect_ok() {
    [ "$(lastjson "$1" wrong)" = "{}" ] || { lastjson "$1" wrong; return 1; }
}

# echo_still_right PORT: a plain request still gets its exact echo.
echo_still_right() {
    local got
    got=$(curl -s --max-time 10 -H 'X-Probe: after' "http://127.0.0.1:$1/still/serving")
    [[ $got == "GET /still/serving HTTP/1.1"*"X-Probe: after"* ]]
}

scene lint "hspy lint (text and --json) on $inputs_desc"
stress lint "$EXPECTED" "${REQ[@]}" "${RESP[@]}" "${GARDEN[@]}" >"$WORK/lint.json"
sent "$(lastjson "$WORK/lint.json" inputs) inputs, each through lint and lint --json"
back "$(lastjson "$WORK/lint.json" text_bytes) bytes of text; slowest input $(lastjson "$WORK/lint.json" slowest) ($(lastjson "$WORK/lint.json" slowest_seconds) s); $(lastjson "$WORK/lint.json" checked) inputs checked against the table"
check "lint: exit 0 or 3, no sanitizer report, text without terminal controls" \
    test "$(lastjson "$WORK/lint.json" problems)" = "{}"
[ "$(lastjson "$WORK/lint.json" problems)" = "{}" ] || lastjson "$WORK/lint.json" problems
check "lint: warnings as in tests/hostile/EXPECTED" expect_ok "$WORK/lint.json"
verdict

scene listen "hspy listen --json --har: $inputs_desc, $ROUNDS rounds"
hs_start listen listen --json --har "$WORK/listen.har" 0
LPID=$HS_PID LPORT=$HS_PORT
stress send "$LPORT" "${REQ[@]}" >"$WORK/send.1"
rss_first=$(proc_kb "$LPID" VmRSS)
for ((r = 2; r <= ROUNDS; r++)); do
    stress send "$LPORT" "${ALL_REQ[@]}" >"$WORK/send.$r"
done
rss_last=$(proc_kb "$LPID" VmRSS)
sent "$(lastjson "$WORK/send.1" sent) bytes in round 1, $(lastjson "$WORK/send.$ROUNDS" sent) bytes in each later round (with the HTTP Garden payloads)"
back "$(lastjson "$WORK/send.$ROUNDS" back) bytes; statuses $(lastjson "$WORK/send.$ROUNDS" statuses); inputs left hanging: $(lastjson "$WORK/send.$ROUNDS" hung)"
mem "$LPID"
note "rss after round 1 $(kb "$rss_first"), after round $ROUNDS $(kb "$rss_last")"
check "listen: alive and still echoing correctly" echo_still_right "$LPORT"
check "listen: no input left hanging" test "$(lastjson "$WORK/send.$ROUNDS" hung)" = "[]"
if [ "$SANITIZED" = 0 ]; then
    check "listen: memory flat over the rounds (grew $(((rss_last - rss_first) / 1024)) MB, limit 4)" \
        test $((rss_last - rss_first)) -lt 4096
fi
hs_stop "$LPID" listen
stress expect "$EXPECTED" listen "$WORK/listen.out" sent "$WORK/send.1" >"$WORK/expect.listen"
check "listen: warnings as in tests/hostile/EXPECTED ($(lastjson "$WORK/expect.listen" checked) inputs)" \
    expect_ok "$WORK/expect.listen"
check "listen: JSON lines intact" json_ok "$WORK/listen.out"
check "listen: HAR is a complete document" har_ok "$WORK/listen.har"
verdict

scene listen-text "hspy listen --log full (text on stdout): $inputs_desc"
hs_start listen-text listen --log full 0
stress send "$HS_PORT" "${ALL_REQ[@]}" >"$WORK/send.text"
sent "$(lastjson "$WORK/send.text" sent) bytes"
back "$(lastjson "$WORK/send.text" back) bytes; $(wc -c <"$WORK/listen-text.out") bytes of log text"
mem "$HS_PID"
check "listen --log full: alive and still echoing" echo_still_right "$HS_PORT"
hs_stop "$HS_PID" listen-text
check "listen --log full: no terminal control in stdout or stderr" \
    text_clean "$WORK/listen-text.out" "$WORK/listen-text.err"
verdict

scene listen-big "hspy listen --head-max 4M --max-headers 200000: the large inputs parsed whole"
hs_start listen-big listen --log full --head-max 4M --max-headers 200000 0
stress send "$HS_PORT" "$WORK"/large/*.http >"$WORK/send.big"
sent "$(lastjson "$WORK/send.big" sent) bytes in $(lastjson "$WORK/send.big" inputs) inputs"
back "$(lastjson "$WORK/send.big" back) bytes; statuses $(lastjson "$WORK/send.big" statuses); slowest $("$PYTHON" -c 'import json,sys
print(max(json.loads(l).get("seconds",0) for l in open(sys.argv[1]) if "seconds" in l))' "$WORK/send.big") s"
mem "$HS_PID"
check "1 MiB header line answered 200" grep -q '"large-line-1m.http".*"status": 200' "$WORK/send.big"
check "100,000 fields answered 200" grep -q '"large-fields-100k.http".*"status": 200' "$WORK/send.big"
check "listen --head-max 4M: alive and echoing" echo_still_right "$HS_PORT"
hs_stop "$HS_PID" listen-big
check "listen --head-max 4M: no terminal control in the text" \
    text_clean "$WORK/listen-big.out" "$WORK/listen-big.err"
verdict

scene listen-responses "hspy listen --rules answering with ${#RESP[@]} hostile raw responses"
for fmt in json text; do
    args=(--json)
    [ $fmt = text ] && args=(--log full)
    hs_start "rules-$fmt" listen "${args[@]}" --rules "$rules" 0
    stress send "$HS_PORT" "$WORK"/get-resp-*.http >"$WORK/send.rules-$fmt"
    check "listen --rules ($fmt): alive after sending them" kill -0 "$HS_PID"
    hs_stop "$HS_PID" "rules-$fmt"
done
sent "${#RESP[@]} GETs, each answered by one hostile raw response"
back "$(lastjson "$WORK/send.rules-json" back) bytes; statuses $(lastjson "$WORK/send.rules-json" statuses)"
stress expect "$EXPECTED" listen "$WORK/rules-json.out" sent "$WORK/send.rules-json" >"$WORK/expect.rules"
check "listen --rules: response warnings as in tests/hostile/EXPECTED" expect_ok "$WORK/expect.rules"
check "listen --rules --log full: no terminal control" text_clean "$WORK/rules-text.out" "$WORK/rules-text.err"
verdict

scene read "hspy read of a capture holding every input on its own connection"
stress pcap "$WORK/hostile.pcap" "${REQ[@]}" "${RESP[@]}" "${GARDEN[@]}" >"$WORK/pcap.json"
rc=0
timeout 120 "$HSPY" read --json "$WORK/hostile.pcap" >"$WORK/read.out" 2>"$WORK/read.err" || rc=$?
check "read --json: exit 0 (got $rc), no sanitizer report" test "$rc" = 0 -a -z "$(grep -E 'Sanitizer|runtime error' "$WORK/read.err")"
rc=0
timeout 120 "$HSPY" read --log full "$WORK/hostile.pcap" >"$WORK/read.txt" 2>"$WORK/read-text.err" || rc=$?
check "read --log full: exit 0 (got $rc), no sanitizer report" test "$rc" = 0 -a -z "$(grep -E 'Sanitizer|runtime error' "$WORK/read-text.err")"
sent "$(lastjson "$WORK/pcap.json" connections) connections, $(stat -c %s "$WORK/hostile.pcap") bytes of capture"
back "$(wc -l <"$WORK/read.out") exchanges in JSON, $(wc -c <"$WORK/read.txt") bytes of text"
stress expect "$EXPECTED" read "$WORK/read.out" port "${REQ[@]}" "${RESP[@]}" "${GARDEN[@]}" >"$WORK/expect.read"
check "read: warnings as in tests/hostile/EXPECTED ($(lastjson "$WORK/expect.read" checked) inputs)" \
    expect_ok "$WORK/expect.read"
check "read: JSON lines intact" json_ok "$WORK/read.out"
check "read --log full: no terminal control" text_clean "$WORK/read.txt" "$WORK/read-text.err"
verdict

scene proxy "hspy proxy in front of hspy listen --rules: $inputs_desc, $ROUNDS rounds"
hs_start upstream listen --rules "$rules" 0
UPID=$HS_PID UPORT=$HS_PORT
hs_start proxy proxy --json --har "$WORK/proxy.har" --upstream-timeout 5s 0 "127.0.0.1:$UPORT"
PPID_=$HS_PID PPORT=$HS_PORT
stress send "$PPORT" "${REQ[@]}" >"$WORK/psend.1"
stress send "$PPORT" "$WORK"/get-resp-*.http >"$WORK/psend.resp"
rss_first=$(proc_kb "$PPID_" VmRSS)
for ((r = 2; r <= ROUNDS; r++)); do
    stress send "$PPORT" "${ALL_REQ[@]}" "$WORK"/get-resp-*.http >"$WORK/psend.$r"
done
rss_last=$(proc_kb "$PPID_" VmRSS)
sent "$(lastjson "$WORK/psend.1" sent) bytes of requests and ${#RESP[@]} GETs answered with hostile responses in round 1, $(lastjson "$WORK/psend.$ROUNDS" sent) bytes in each later round"
back "$(lastjson "$WORK/psend.$ROUNDS" back) bytes; statuses $(lastjson "$WORK/psend.$ROUNDS" statuses); inputs left hanging: $(lastjson "$WORK/psend.$ROUNDS" hung)"
mem "$PPID_"
note "rss after round 1 $(kb "$rss_first"), after round $ROUNDS $(kb "$rss_last")"
check "proxy: alive and still relaying the echo correctly" echo_still_right "$PPORT"
check "proxy: no input left hanging" test "$(lastjson "$WORK/psend.$ROUNDS" hung)" = "[]"
if [ "$SANITIZED" = 0 ]; then
    check "proxy: memory flat over the rounds (grew $(((rss_last - rss_first) / 1024)) MB, limit 4)" \
        test $((rss_last - rss_first)) -lt 4096
fi
hs_stop "$PPID_" proxy
stress expect "$EXPECTED" proxy "$WORK/proxy.out" sent "$WORK/psend.1" "$WORK/psend.resp" >"$WORK/expect.proxy"
check "proxy: warnings as in tests/hostile/EXPECTED ($(lastjson "$WORK/expect.proxy" checked) inputs)" \
    expect_ok "$WORK/expect.proxy"
check "proxy: JSON lines intact" json_ok "$WORK/proxy.out"
check "proxy: HAR is a complete document" har_ok "$WORK/proxy.har"
hs_start proxy-text proxy --log full --upstream-timeout 5s 0 "127.0.0.1:$UPORT"
stress send "$HS_PORT" "${ALL_REQ[@]}" "$WORK"/get-resp-*.http >"$WORK/psend.text"
check "proxy --log full: alive" echo_still_right "$HS_PORT"
hs_stop "$HS_PID" proxy-text
check "proxy --log full: no terminal control in stdout or stderr ($(wc -c <"$WORK/proxy-text.out") bytes)" \
    text_clean "$WORK/proxy-text.out" "$WORK/proxy-text.err"
check "the upstream listen survived too" echo_still_right "$UPORT"
hs_stop "$UPID" upstream
verdict

finish
