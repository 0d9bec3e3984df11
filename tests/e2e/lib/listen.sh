# Helpers for the `hspy listen` end-to-end tests (sourced, not a test).
#
#   listen_setup                 temp folder $T (removed on exit) and the exit trap
#   listen_start [ARGS...]       starts `hspy listen ARGS 0`; sets LISTEN_PID, PORT, URL
#   listen_stop                  SIGTERM and wait (bounded); a non-zero exit status fails
#   listening ERR PID            hspy's stderr ERR gives its port (LISTENING_PORT), or PID ended
#   stop_by_term PID WHAT        SIGTERM, bounded wait; a failure (and SIGKILL) if it lingers
#   same_head_no_body NAME       checks $T/NAME.GET has its body, $T/NAME.HEAD the same head
#                                and none (hspy's own answers to HEAD)
#   sent_before_accept PID PORT OUT [RAWARGS...]
#                                rawclient.py to PORT while PID is stopped (reply in OUT)
#   idle_close PORT TARGET ANSWER
#                                a keep-alive GET TARGET (reply matching ANSWER), then silence:
#                                closed by hspy after --idle-timeout 2s, not before it
#   need CMD...                  skips the test (exit 77) when a command is missing
#   check NAME CONDITION...      runs the condition; counts and reports a failure
#   finish                       exits 1 when any check failed
#
# hspy's stdout goes to $T/out.N and stderr to $T/err.N (N counts starts); LISTEN_OUT and
# LISTEN_ERR name the current ones. The bounded waits of lib/wait.sh come with it.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

FAILS=0
STARTS=0
LISTEN_PIDS=()

listen_cleanup() {
    local p
    for p in "${LISTEN_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    [ -n "${EXTRA_PIDS:-}" ] && kill -KILL $EXTRA_PIDS 2>/dev/null
    [ -n "${T:-}" ] && rm -rf "$T"
}

listen_setup() {
    : "${HSPY:?HSPY must name the hspy binary}"
    T=$(mktemp -d)
    trap listen_cleanup EXIT
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c is not installed"; exit 77; }
    done
}

listen_start() {
    STARTS=$((STARTS + 1))
    LISTEN_OUT=$T/out.$STARTS
    LISTEN_ERR=$T/err.$STARTS
    "$HSPY" listen "$@" 0 >"$LISTEN_OUT" 2>"$LISTEN_ERR" &
    LISTEN_PID=$!
    LISTEN_PIDS+=("$LISTEN_PID")
    PORT=
    wait_until 30 listening "$LISTEN_ERR" "$LISTEN_PID"
    PORT=$LISTENING_PORT
    if [ -z "${PORT:-}" ]; then
        echo "FAIL: hspy listen $* did not start:"; cat "$LISTEN_ERR"
        exit 1
    fi
    URL=http://127.0.0.1:$PORT
}

# listening ERR PID: hspy's standard error ERR gives its port (LISTENING_PORT), or hspy (PID)
# has ended without.
listening() {
    LISTENING_PORT=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null | head -1)
    [ -n "$LISTENING_PORT" ] || ended "$2"
}

# stop_by_term PID WHAT: SIGTERM, then up to 10 s for PID to exit; a failure (and SIGKILL) when
# it does not.
stop_by_term() {
    kill -TERM "$1" 2>/dev/null
    wait_until 10 ended "$1" && return 0
    echo "FAIL: $2 did not stop on SIGTERM"
    kill -KILL "$1"
    FAILS=$((FAILS + 1))
}

# sent_before_accept PID PORT OUT [RAWARGS...]: stops PID (hspy), has rawclient.py connect to
# PORT and run RAWARGS, then lets PID go on: what the client sent is there before hspy accepts
# the connection (a refusal at --max-conns can look at it). The reply goes to OUT.
sent_before_accept() {
    local pid=$1 port=$2 out=$3 ready=$T/ready.$RANDOM c i
    shift 3
    kill -STOP "$pid"
    python3 "$(dirname "${BASH_SOURCE[0]}")/rawclient.py" "$port" "$@" --ready "$ready" >"$out" &
    c=$!
    for i in $(seq 200); do
        [ -e "$ready" ] && break
        sleep 0.05
    done
    kill -CONT "$pid"
    wait "$c" || true
}

listen_stop() {
    stop_by_term "$LISTEN_PID" hspy
    local rc=0
    wait "$LISTEN_PID" || rc=$?
    if [ "$rc" -ne 0 ]; then
        # Sanitizer reports (leaks, errors) end up here too.
        echo "FAIL: hspy exited with status $rc:"
        tail -20 "$LISTEN_ERR"
        FAILS=$((FAILS + 1))
    fi
    return $rc
}

check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok: $name"
    else
        echo "FAIL: $name"
        FAILS=$((FAILS + 1))
    fi
}

finish() {
    if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}

# The Content-Length of the response in FILE; the number of bytes after its head (999 when it
# has no end).
answer_length() { sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$1"; }
body_after_head() {
    python3 -c 'import sys; print(len((open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1) + [b"?" * 999])[1]))' "$1"
}

# same_head_no_body NAME: hspy's answer to GET ($T/NAME.GET) has a body of its Content-Length,
# the one to HEAD ($T/NAME.HEAD) the same status and Content-Length, and nothing after its head
# (RFC 9110 9.3.2).
same_head_no_body() {
    local get=$T/$1.GET head=$T/$1.HEAD
    check "$1 GET: a body of its Content-Length" \
        test -n "$(answer_length "$get")" -a "$(body_after_head "$get")" = "$(answer_length "$get")"
    check "$1 HEAD: the same status" test "$(head -1 "$head")" = "$(head -1 "$get")"
    check "$1 HEAD: the same Content-Length" test "$(answer_length "$head")" = "$(answer_length "$get")"
    check "$1 HEAD: nothing after the head" test "$(body_after_head "$head")" = 0
}

# head_answers FIRST EXTRA EXPECTED: what listen_head_answer and proxy_head_answer check, for
# the mode whose ha_start ARGS... (starts hspy with ARGS, sets HA_PORT and HA_PID) and ha_stop
# (sets HA_OUT to hspy's standard output) the caller defines. FIRST is the status hspy answers
# to a parsed head: "METHOD /x HTTP/1.1", "Host: a" and the header lines EXTRA (escapes as
# rawclient.py reads them). Then 431 and 408 to heads never parsed, the 503 of --max-conns, and
# the exchanges recorded, compared with EXPECTED (a sorted JSON list of [method or start line,
# status, response body empty, response complete, response warnings]).
head_answers() {
    local first=$1 extra=$2 want=$3 m big out
    local raw="python3 $(dirname "${BASH_SOURCE[0]}")/rawclient.py"
    big=$(head -c 2000 /dev/zero | tr '\0' a)
    ha_start --json --head-max 1k --head-timeout 1s
    for m in GET HEAD; do
        $raw "$HA_PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\n$extra\r\n" >"$T/$first.$m"
        $raw "$HA_PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\nX-Big: $big\r\n\r\n" >"$T/431.$m"
    done
    # The 408s wait for --head-timeout: side by side.
    EXTRA_PIDS=
    for m in GET HEAD; do
        $raw "$HA_PORT" --send "$m /x HTTP/1.1\r\nHost: a\r\n" >"$T/408.$m" &
        EXTRA_PIDS="$EXTRA_PIDS $!"
    done
    $raw "$HA_PORT" --send 'HEAD /x HT' >"$T/408.part" &
    EXTRA_PIDS="$EXTRA_PIDS $!"
    wait $EXTRA_PIDS
    EXTRA_PIDS=
    ha_stop
    out=$HA_OUT

    # The cap: one connection held open, then connections over it, made while hspy is stopped
    # so that what they send is there when hspy accepts (and refuses) them.
    ha_start --max-conns 1
    exec 3<>"/dev/tcp/127.0.0.1/$HA_PORT"
    for m in GET HEAD; do
        sent_before_accept "$HA_PID" "$HA_PORT" "$T/503.$m" --send "$m /x HTTP/1.1\r\nHost: a\r\n\r\n"
    done
    sent_before_accept "$HA_PID" "$HA_PORT" "$T/503.none"
    exec 3>&-
    ha_stop

    for m in "$first" 431 408 503; do
        same_head_no_body "$m"
    done
    check "408 to an unfinished request line: the body is sent" \
        test "$(body_after_head "$T/408.part")" = "$(answer_length "$T/408.GET")"
    check "503 to a connection that sent nothing yet: the body is sent" \
        test "$(body_after_head "$T/503.none")" = "$(answer_length "$T/503.GET")"
    # Seven exchanges, none made of hspy's own bytes.
    check "the exchanges recorded, HEAD answers without a body, no phantom" \
        test "$(pyq "$out" 'sorted((r, e["response"]["status"], e["response"]["body_size"] == 0, "complete" in e["response"]["flags"], [w["code"] for w in e["warnings"] if w["side"] == "response"]) for e in ex for r in [e["request"]["method"] or e["request"]["raw"].split("\r")[0]])')" = "$want"
}

# jq-free JSON queries over the --json output: pyq FILE EXPR (EXPR sees `ex`, the list of
# exchange objects, and prints its value).
pyq() {
    python3 - "$1" "$2" <<'PY'
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2])
print(v if not isinstance(v, (dict, list)) else json.dumps(v))
PY
}

# The client would give up only after 20 s: the close must be hspy's, after its 2 s.
idle_close() {
    local port=$1 target=$2 answer=$3 start ended elapsed
    start=$(date +%s%N)
    python3 "$(dirname "${BASH_SOURCE[0]}")/rawclient.py" "$port" \
        --send "GET $target HTTP/1.1\r\nHost: x\r\n\r\n" --timeout 20 >"$T/idle"
    ended=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    check "idle connection answered" grep -aq "$answer" "$T/idle"
    check "idle connection closed by hspy (rawclient $ended, 4 = timed out)" test "$ended" = 0
    check "... not before --idle-timeout ($elapsed ms)" test "$elapsed" -ge 1800
}
