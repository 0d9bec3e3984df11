#!/usr/bin/env bash
# tui_overhead: what the interface costs the traffic. hspy serves a load (wrk, keep-alive
# connections) with the interface attached in a real terminal (tmux, 200x50), with the
# interface but --max-flows 1 (the screen is drawn as often, but no history of flows is kept),
# with the history but follow mode turned off (F: the rows on screen stay still, so this is
# what keeping a hundred thousand exchanges costs without redrawing a scrolling list), and with
# --no-tui --log none, alternately, RUNS times each; each time its CPU time (user + system,
# from /proc) is divided by the requests served. Prints the median CPU microseconds per request
# of both and the ratio (alternating and medians keep a busy machine from deciding the result).
# `hspy listen` is measured always; `hspy proxy` (with nginx as the upstream) when it is built.
# As in proxy_bench, hspy runs alone on one CPU and everything else (wrk, nginx, tmux) on
# another, so that the terminal's own work does not take the processor from hspy.
#
# Usage: tests/bench/tui_overhead.sh [HSPY] [SECONDS] [RUNS]  (build/hspy, 10 s, 5 runs)
# Environment: BENCH_CPU_HSPY / BENCH_CPU_LOAD (CPU lists for taskset; defaults 1 and 0 when
# there are at least two CPUs).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HSPY=${1:-$top/build/hspy}
SECONDS_PER_RUN=${2:-10}
RUNS=${3:-5}
ncpu=$(nproc)
CPU_HSPY=${BENCH_CPU_HSPY:-$([ "$ncpu" -ge 2 ] && echo 1 || echo 0)}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
# Command prefixes that pin (empty without taskset). Run in the foreground or with & directly:
# taskset runs the command in its own process, so $! is the command's PID.
PIN_HSPY=() PIN_LOAD=()
if command -v taskset >/dev/null; then
    PIN_HSPY=(taskset -c "$CPU_HSPY")
    PIN_LOAD=(taskset -c "$CPU_LOAD")
fi
for c in tmux wrk python3; do
    command -v "$c" >/dev/null || { echo "tui_overhead: $c is not installed" >&2; exit 1; }
done
work=$(mktemp -d)
sock=$work/tmux.sock
pids=()
cleanup() {
    tmux -S "$sock" kill-server 2>/dev/null || true
    local p
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
# ticks PID: "user system" clock ticks the process has used.
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# measure PID PORT: runs wrk against the port and prints "requests cpu_us user_us" (CPU time,
# and its user part, per request).
measure() {
    local pid=$1 port=$2 before after reqs
    before=$(ticks "$pid")
    reqs=$("${PIN_LOAD[@]}" wrk -t1 -c16 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$port/bench" 2>/dev/null |
        awk '/requests in/ {print $1}')
    after=$(ticks "$pid")
    local hz
    hz=$(getconf CLK_TCK)
    awk -v r="$reqs" -v b="$before" -v a="$after" -v hz="$hz" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        u = y[1] - x[1]; t = u + y[2] - x[2]
        printf "%d %.2f %.2f\n", r, r ? t * 1e6 / hz / r : 0, r ? u * 1e6 / hz / r : 0 }'
}

# run_tui ARGS...: hspy ARGS in tmux with the interface; prints its measurement.
run_tui() {
    local port=$1
    shift
    "${PIN_LOAD[@]}" tmux -S "$sock" -f /dev/null new-session -d -s bench -x 200 -y 50 \
        -e LANG=C.UTF-8 "${PIN_HSPY[*]} $HSPY $* 2>$work/err; sleep 600"
    wait_port "$port" || { cat "$work/err" >&2; return 1; }
    local shell pid
    shell=$(tmux -S "$sock" display-message -p -t bench '#{pane_pid}')
    pid=$(pgrep -P "$shell" -x hspy | head -1)
    if [ -n "${TUI_KEYS:-}" ]; then
        sleep 0.3
        tmux -S "$sock" send-keys -t bench "$TUI_KEYS"
        sleep 0.2
    fi
    measure "$pid" "$port"
    tmux -S "$sock" kill-server
}

# run_plain ARGS...: hspy ARGS --no-tui --log none in the background; prints its measurement.
run_plain() {
    local port=$1
    shift
    "${PIN_HSPY[@]}" "$HSPY" "$@" --no-tui --log none >/dev/null 2>"$work/err" &
    local pid=$!
    pids+=("$pid")
    wait_port "$port" || { cat "$work/err" >&2; return 1; }
    measure "$pid" "$port"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# compare WHAT ARGS...: alternates runs with and without the interface; ARGS has PORT where
# the listening address goes.
compare() {
    local what=$1
    shift
    local i port tui=() still=() bare=() plain=()
    for ((i = 0; i < RUNS; i++)); do
        port=$(free_port)
        tui+=("$(run_tui "$port" "${@//PORT/$port}")")
        port=$(free_port)
        still+=("$(TUI_KEYS=F run_tui "$port" "${@//PORT/$port}")")
        port=$(free_port)
        bare+=("$(run_tui "$port" "${@//PORT/$port}" --max-flows 1)")
        port=$(free_port)
        plain+=("$(run_plain "$port" "${@//PORT/$port}")")
    done
    # col N ARRAY...: the median of field N of the measurements.
    col() {
        local n=$1
        shift
        printf '%s\n' "$@" | awk -v n="$n" '{print $n}' | median
    }
    runs() { printf '%s\n' "$@" | awk '{printf "%s ", $2}'; }
    local tui_us still_us bare_us plain_us
    tui_us=$(col 2 "${tui[@]}")
    still_us=$(col 2 "${still[@]}")
    bare_us=$(col 2 "${bare[@]}")
    plain_us=$(col 2 "${plain[@]}")
    printf '%-6s interface, flows kept:   %7.2f us CPU per request, %5.2f in user mode (runs: %s)\n' \
        "$what" "$tui_us" "$(col 3 "${tui[@]}")" "$(runs "${tui[@]}")"
    printf '%-6s flows kept, follow off:  %7.2f us CPU per request, %5.2f in user mode (runs: %s)\n' \
        "$what" "$still_us" "$(col 3 "${still[@]}")" "$(runs "${still[@]}")"
    printf '%-6s interface, no history:   %7.2f us CPU per request, %5.2f in user mode (runs: %s)\n' \
        "$what" "$bare_us" "$(col 3 "${bare[@]}")" "$(runs "${bare[@]}")"
    printf '%-6s no interface:            %7.2f us CPU per request, %5.2f in user mode (runs: %s)\n' \
        "$what" "$plain_us" "$(col 3 "${plain[@]}")" "$(runs "${plain[@]}")"
    awk -v a="$tui_us" -v m="$bare_us" -v b="$plain_us" -v k="$still_us" -v w="$what" \
        -v au="$(col 3 "${tui[@]}")" -v bu="$(col 3 "${plain[@]}")" 'BEGIN { if (b > 0) {
        printf "%-6s keeping the flows (follow off, the list still): %+.1f%%\n", w, (k / b - 1) * 100
        printf "%-6s drawing the interface: %+.1f%% CPU per request\n", w, (m / b - 1) * 100
        printf "%-6s drawing and keeping the flows: %+.1f%% (user mode alone: %+.1f%%)\n", w,
            (a / b - 1) * 100, (bu > 0 ? (au / bu - 1) * 100 : 0) } }'
    # Rounds that ran one after the other share the machine's state: the median of the ratio of
    # each round with the interface to the round without it next to it.
    local pairs
    pairs=$(paste -d' ' <(printf '%s\n' "${tui[@]}" | awk '{print $2}') \
        <(printf '%s\n' "${plain[@]}" | awk '{print $2}') |
        awk '$2 > 0 {printf "%.4f\n", ($1 / $2 - 1) * 100}' | median)
    printf '%-6s drawing and keeping the flows, round by round: %+.1f%% (median of the pairs)\n' \
        "$what" "$pairs"
}

compare listen listen "127.0.0.1:PORT"

if command -v nginx >/dev/null; then
    up=$(free_port)
    mkdir -p "$work/nginx/logs" "$work/www"
    echo "hello" >"$work/www/bench"
    cat >"$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$up; root $work/www; } }
CONF
    "${PIN_LOAD[@]}" nginx -p "$work/nginx" -c "$work/nginx.conf" &
    pids+=("$!")
    wait_port "$up"
    compare proxy proxy "127.0.0.1:PORT" "127.0.0.1:$up"
else
    echo "proxy: nginx is not installed, not measured"
fi
