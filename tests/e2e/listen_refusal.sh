#!/usr/bin/env bash
# How a connection refused at --max-conns ends, in listen and in proxy (one listener serves
# both): the 503, then hspy's FIN, and what the client still sends is read and dropped, so the
# client reads the whole answer and the end of the connection instead of a reset, even when it
# had sent a request with a body before hspy accepted it or sends one after the answer. The
# wait is bounded: a client that keeps sending is cut off after 64 KiB, one that neither sends
# nor closes is let go after a short while, and at most 16 refused connections wait at once.
. "$(dirname "$0")/lib/proxy.sh"
need python3
proxy_setup
trap 'proxy_cleanup; listen_cleanup' EXIT
PROBE="python3 $LIB/refusal.py"

# refusals MODE PID PORT: the checks, against hspy MODE (PID) on PORT with --max-conns 1.
refusals() {
    local mode=$1 pid=$2 port=$3 got
    # First, while nothing else lingers: the cap on lingering, then its end.
    read -r fin n lingering left < <($PROBE "$pid" "$port" idle 24)
    check "$mode: refused connections that stay open: at least 16 see the 503 and a FIN (${fin:-?}/${n:-?})" \
        test "${fin:-0}" -ge 16
    check "$mode: at most 16 of them linger at once (${lingering:-?})" test "${lingering:-99}" -le 16
    check "$mode: and they are let go (${left:-?} left)" test "${left:-99}" -le 0
    check "$mode: a request with a body unread at the refusal: the whole 503, then a FIN" \
        test "$($PROBE "$pid" "$port" unread 20000)" = "fin HTTP/1.1 503 Service Unavailable whole"
    check "$mode: a request sent after the refusal: the whole 503, then a FIN" \
        test "$($PROBE "$pid" "$port" late 20000)" = "fin HTTP/1.1 503 Service Unavailable whole"
    got=$($PROBE "$pid" "$port" flood 16777216)
    check "$mode: a client that keeps sending is cut off ($got)" test "${got% *}" = cut
}

listen_start --max-conns 1
refusals listen "$LISTEN_PID" "$PORT"
check "listen: the refusals are reported" grep -q 'refused' "$LISTEN_ERR"
listen_stop
check "listen: the refusals summed up at exit" \
    grep -q '^hspy: [0-9]* connections refused in all (--max-conns 1)' "$LISTEN_ERR"

upstream_start http
proxy_start --max-conns 1 "127.0.0.1:$UPORT"
refusals proxy "$PROXY_PID" "$PPORT"
proxy_stop
check "proxy: exit status 0" test $? = 0
check "proxy: the refusals summed up at exit" \
    grep -q '^hspy: [0-9]* connections refused in all (--max-conns 1)' "$PROXY_ERR"
finish
