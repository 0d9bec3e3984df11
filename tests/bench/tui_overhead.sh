#!/usr/bin/env bash
# tui_overhead: what the interface costs the proxy, in CPU time per request. Two hspy processes
# serve the same load side by side: "tui" with the interface attached to a real terminal and
# "plain" without a terminal: --no-tui with its line log written to a file, as proxy_bench runs
# the proxy (TUI_OVERHEAD_BASELINE=log, the default), or --no-tui --log none, which writes
# nothing at all (TUI_OVERHEAD_BASELINE=none, the strictest comparison). Both run in tmux (one
# server, 200x50, LANG=C.UTF-8), so that their environments match; both are pinned to the same CPU, where nothing else of the
# benchmark runs; each gets its own wrk (-t1 -c8, keep-alive), and the two wrks run at the same
# time. Each round divides each process's CPU time (user + system, from /proc) by the requests
# it served and takes the ratio tui / plain. Rounds of one configuration run one after the other
# differ by up to 30% on a small machine (mostly in kernel time); two processes sharing one CPU
# at the same moment see the same machine, and a round's ratio moves by 2-3%.
#
# A pass starts both processes afresh and runs ROUNDS rounds of SECONDS each. There are two
# passes: the interface is started first in one and second in the other, and the wrk launch
# order alternates between rounds. Even plain against plain, the instance started second
# measured up to 3% more; the geometric mean of the two passes' medians cancels such a bias.
# The user-mode part is printed too, but it is the kernel's split of the time by clock-tick
# samples (a few dozen a round), far noisier than the total: read the total.
#
# The interface keeps a history of flows (--max-flows, 100000 by default). While it fills, each
# exchange is new memory; once it is full the oldest are evicted and their memory reused, and a
# request costs less. Rounds that begin before the interface instance has served that many
# requests are reported as "filling", the rest as "steady", never mixed. The defaults give at
# least 3 filling rounds a pass at up to about 13,000 requests per second an instance, and take
# a little over two minutes. What new memory costs depends on the machine far more than on hspy
# (in a virtual machine whose host takes free memory back, ten times what it costs on another),
# so the script first measures that price (newmem_bench) and reports, for the filling rounds,
# the memory the interface kept per request and what it comes to at that price.
#
# `hspy proxy` runs in front of nginx (wrk, nginx and tmux on the other CPU, as in proxy_bench).
# `hspy listen` (no upstream) is measured the same way when asked; it serves faster, so its
# history fills in fewer rounds.
#
# Usage: tests/bench/tui_overhead.sh [HSPY] [SECONDS] [RUNS]
#        (build/hspy, 3 s a round, 20 rounds a pass)
# Environment:
#   BENCH_CPU_HSPY, BENCH_CPU_LOAD  CPU lists for taskset: both hspy; tmux, wrk and nginx
#                                   (defaults 1 and 0 when there are at least two CPUs)
#   TUI_ARGS                        more arguments for the interface instance, split at spaces;
#                                   "--max-flows 1" measures drawing without the history (its
#                                   --max-flows also sets where filling ends)
#   TUI_OVERHEAD_BASELINE           what "plain" is: "log" (default) or "none" (see above)
#   TUI_OVERHEAD_CONTROL=1          the "tui" instance runs as "plain" does: plain against
#                                   plain, which shows the method's own bias (about 0%)
#   TUI_OVERHEAD_MODES              what to measure: "proxy" (default), "listen" or both
#   NEWMEM_BENCH                    the newmem_bench program (build/tests/newmem_bench beside
#                                   HSPY's build/hspy): the price of new memory, printed first
#                                   and set against the memory the interface keeps per request
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HSPY=${1:-$top/build/hspy}
ROUND_SECONDS=${2:-3}
ROUNDS=${3:-20}
MODES=${TUI_OVERHEAD_MODES:-proxy}
CONTROL=${TUI_OVERHEAD_CONTROL:-0}
BASELINE=${TUI_OVERHEAD_BASELINE:-log}
ncpu=$(nproc)
CPU_HSPY=${BENCH_CPU_HSPY:-$([ "$ncpu" -ge 2 ] && echo 1 || echo 0)}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
# Command prefixes that pin (empty without taskset). taskset execs the command, so $! of a
# pinned command started with & is the command's own PID.
PIN_HSPY=() PIN_LOAD=()
if command -v taskset >/dev/null; then
    PIN_HSPY=(taskset -c "$CPU_HSPY")
    PIN_LOAD=(taskset -c "$CPU_LOAD")
fi
for c in tmux wrk python3; do
    command -v "$c" >/dev/null || { echo "tui_overhead: $c is not installed" >&2; exit 1; }
done
[ -x "$HSPY" ] || { echo "tui_overhead: no hspy binary at $HSPY" >&2; exit 1; }
[[ $ROUND_SECONDS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: tests/bench/tui_overhead.sh [HSPY] [SECONDS] [RUNS]" >&2
    exit 1
}

# The interface instance's extra arguments, and the history size they give it.
read -r -a tui_args <<<"${TUI_ARGS:-}"
history=100000
for ((i = 0; i < ${#tui_args[@]}; i++)); do
    case ${tui_args[i]} in
    --max-flows) history=${tui_args[i + 1]:-$history} ;;
    --max-flows=*) history=${tui_args[i]#*=} ;;
    esac
done
# The instance without a terminal: its arguments, and whether its stdout goes to a file.
case $BASELINE in
log) plain_args=(--no-tui) ;;
none) plain_args=(--no-tui --log none) ;;
*) echo "tui_overhead: TUI_OVERHEAD_BASELINE is log or none, not '$BASELINE'" >&2; exit 1 ;;
esac
[ "$CONTROL" = 1 ] && tui_args+=("${plain_args[@]}")

work=$(mktemp -d)
chmod 755 "$work" # nginx's worker (another user) reads the page under it
sock=$work/tmux.sock
declare -A pid=() port=()
nginx_pid=() wrk_pids=()
cleanup() {
    local p
    for p in "${wrk_pids[@]}" "${pid[@]}" "${nginx_pid[@]}"; do kill "$p" 2>/dev/null || true; done
    tmux -S "$sock" kill-server 2>/dev/null || true
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
# ticks PID: "user system" clock ticks the process (all its threads) has used.
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
# rss PID: resident memory of the process in KiB.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# start ROLE ARGS...: runs hspy ARGS in a new tmux session named ROLE, waits until it listens
# on port[ROLE] and sets pid[ROLE] to its PID. An instance without the interface writes its
# stdout (the line log, if any) to a file.
start() {
    local role=$1
    shift
    local cmd shell out=""
    [[ $role == plain || $CONTROL == 1 ]] && out=">$(printf '%q' "$work/out.$role") "
    cmd="$(printf '%q ' "${PIN_HSPY[@]}" "$HSPY" "$@")${out}2>$(printf '%q' "$work/err.$role"); sleep 600"
    "${PIN_LOAD[@]}" tmux -S "$sock" -f /dev/null new-session -d -s "$role" -x 200 -y 50 \
        -e LANG=C.UTF-8 "$cmd"
    wait_port "${port[$role]}" || {
        echo "tui_overhead: hspy ($role) did not start:" >&2
        cat "$work/err.$role" >&2
        exit 1
    }
    shell=$(tmux -S "$sock" display-message -p -t "$role" '#{pane_pid}')
    # The process is named after the binary's file (the kernel keeps its first 15 bytes).
    pid[$role]=$(pgrep -P "$shell" -x "$(basename "$HSPY" | cut -c1-15)" | head -1)
    [ -n "${pid[$role]}" ] || {
        echo "tui_overhead: hspy ($role) answers, but no process of $HSPY runs in its pane" >&2
        exit 1
    }
}

# stop: ends both hspy processes and the tmux server, and waits until the processes are gone
# so that the next pass starts on a quiet CPU.
stop() {
    local role
    for role in "${!pid[@]}"; do kill "${pid[$role]}" 2>/dev/null || true; done
    tmux -S "$sock" kill-server 2>/dev/null || true
    for role in "${!pid[@]}"; do
        for _ in $(seq 100); do [ -e "/proc/${pid[$role]}" ] || break; sleep 0.05; done
    done
    pid=()
}

# round N R ROLE ROLE: round R of pass N, the two wrks launched in that order. Appends to
# $work/rounds "N R" and, for tui then plain, "requests ticks user_ticks" (CPU clock ticks used
# during the round, all of them and the user-mode part), then how many KiB tui's resident memory
# grew.
round() {
    local line="$1 $2" role p reqs
    shift 2
    declare -A before=() after=()
    local rss_before rss_after
    for role in tui plain; do before[$role]=$(ticks "${pid[$role]}"); done
    rss_before=$(rss "${pid[tui]}")
    wrk_pids=()
    for role in "$@"; do
        "${PIN_LOAD[@]}" wrk -t1 -c8 -d"${ROUND_SECONDS}s" "http://127.0.0.1:${port[$role]}/bench" \
            >"$work/wrk.$role" 2>&1 &
        wrk_pids+=("$!")
    done
    for p in "${wrk_pids[@]}"; do wait "$p" || true; done
    wrk_pids=()
    for role in tui plain; do after[$role]=$(ticks "${pid[$role]}"); done
    rss_after=$(rss "${pid[tui]}")
    for role in tui plain; do
        reqs=$(awk '/requests in/ {print $1}' "$work/wrk.$role")
        [ "${reqs:-0}" -gt 0 ] || { echo "tui_overhead: wrk ($role) failed:" >&2; cat "$work/wrk.$role" >&2; exit 1; }
        grep -E 'Socket errors|Non-2xx' "$work/wrk.$role" | sed "s/^ */tui_overhead: wrk ($role): /" >&2 || true
        line+=$(awk -v r="$reqs" -v b="${before[$role]}" -v a="${after[$role]}" 'BEGIN {
            split(b, x, " "); split(a, y, " ")
            printf " %d %d %d", r, y[1] - x[1] + y[2] - x[2], y[1] - x[1] }')
    done
    echo "$line $((rss_after - rss_before))" >>"$work/rounds"
}

# pass N FIRST SECOND WHAT ARGS...: starts FIRST then SECOND (the roles tui and plain) with
# "hspy WHAT ARGS" (PORT in ARGS stands for the instance's port), runs the rounds of pass N and
# stops both.
pass() {
    local n=$1 first=$2 second=$3 what=$4 role r
    shift 4
    for role in "$first" "$second"; do
        port[$role]=$(free_port)
        if [ "$role" = tui ]; then
            start tui "$what" "${@//PORT/${port[tui]}}" "${tui_args[@]}"
        else
            start plain "$what" "${@//PORT/${port[plain]}}" "${plain_args[@]}"
        fi
    done
    sleep 0.5 # the interface's first frames
    for ((r = 1; r <= ROUNDS; r++)); do
        if ((r % 2)); then round "$n" "$r" "$first" "$second"; else round "$n" "$r" "$second" "$first"; fi
    done
    stop
}

# report WHAT: the two passes' rounds of $work/rounds, by phase.
report() {
    awk -v what="$1" -v hist="$history" -v hz="$(getconf CLK_TCK)" -v secs="$ROUND_SECONDS" \
        -v price="$newmem_price" '
    function median(list, n, v, i, j, t) {
        n = split(list, v, " ")
        for (i = 1; i <= n; i++) v[i] += 0
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : 0
    }
    function pct(x) { return sprintf("%+.1f%%", (x - 1) * 100) }
    {
        p = $1; ph = cum[p] < hist ? "filling" : "steady"; cum[p] += $3
        if (ph == "filling" && cum[p] >= hist) full[p] = $2
        if (!((p, ph) in first)) first[p, ph] = $2
        last[p, ph] = $2; count[p, ph]++
        tus = $4 * 1e6 / hz / $3; tuu = $5 * 1e6 / hz / $3
        pus = $7 * 1e6 / hz / $6; puu = $8 * 1e6 / hz / $6
        ratio[p, ph] = ratio[p, ph] " " tus / pus
        if (puu > 0) user[p, ph] = user[p, ph] " " tuu / puu
        spread[p, ph] = spread[p, ph] sprintf(" %+.1f", (tus / pus - 1) * 100)
        us["tui", ph] = us["tui", ph] " " tus; us["plain", ph] = us["plain", ph] " " pus
        uu["tui", ph] = uu["tui", ph] " " tuu; uu["plain", ph] = uu["plain", ph] " " puu
        rate["tui", p] = rate["tui", p] " " $3 / secs; rate["plain", p] = rate["plain", p] " " $6 / secs
        grown[ph] += $9; served[ph] += $3
    }
    END {
        for (p = 1; p <= 2; p++) {
            if (p in full) state = "history full during round " full[p]
            else if (cum[p] < hist) state = "history never full (" cum[p] " requests)"
            else state = "history full from the start"
            printf "%-6s pass %d (tui started %s): %d requests/s for tui, %d for plain (medians); %s\n",
                what, p, p == 1 ? "first" : "second", median(rate["tui", p]), median(rate["plain", p]), state
        }
        split("filling steady", phases, " ")
        for (k = 1; k <= 2; k++) {
            ph = phases[k]
            if (!count[1, ph] || !count[2, ph]) {
                printf "%-6s %s: no rounds in %s pass (SECONDS x RUNS too short for the history?)\n",
                    what, ph, count[1, ph] ? "the second" : "the first"
                continue
            }
            if (ph == "filling") about = "until tui has served " hist " requests"
            else about = "history full, old flows evicted"
            printf "%-6s %s (%s): rounds %d-%d and %d-%d\n", what, ph, about,
                first[1, ph], last[1, ph], first[2, ph], last[2, ph]
            printf "%-6s %s: %.2f us CPU per request for tui (user %.2f), %.2f for plain (user %.2f); medians\n",
                what, ph, median(us["tui", ph]), median(uu["tui", ph]), median(us["plain", ph]),
                median(uu["plain", ph])
            printf "%-6s %s, tui against plain round by round (%%): pass 1:%s; pass 2:%s\n", what, ph,
                spread[1, ph], spread[2, ph]
            r1 = median(ratio[1, ph]); r2 = median(ratio[2, ph])
            u1 = median(user[1, ph]); u2 = median(user[2, ph])
            printf "%-6s %s, pass medians: %s and %s (user mode %s and %s)\n", what, ph,
                pct(r1), pct(r2), pct(u1), pct(u2)
            verdict[k] = sprintf("%-6s %s: %s CPU per request (user mode alone: %s)", what, ph,
                pct(sqrt(r1 * r2)), pct(sqrt(u1 * u2)))
            if (ph == "filling" && served[ph] > 0) {
                kib = grown[ph] / served[ph]
                line = sprintf("%-6s filling: tui kept %.0f bytes a request (resident memory)", what, kib * 1024)
                if (price > 0)
                    line = line sprintf("; at %.2f us per KiB of new memory that is %.2f us a request, %+.1f%% of plain'"'"'s CPU",
                        price, kib * price, kib * price / median(us["plain", ph]) * 100)
                print line
            }
        }
        for (k = 1; k <= 2; k++) if (k in verdict) print verdict[k]
    }' "$work/rounds"
}

# compare WHAT ARGS...: both passes of hspy WHAT ARGS and their report.
compare() {
    : >"$work/rounds"
    pass 1 tui plain "$@"
    pass 2 plain tui "$@"
    report "$1"
}

plain_desc="hspy ${plain_args[*]} in tmux"
[ "$BASELINE" = none ] || plain_desc+=", stdout to a file"
if [ "$CONTROL" = 1 ]; then
    echo "control: tui and plain both run $plain_desc (the result is the method's own bias)"
else
    echo "tui: hspy with the interface in tmux; plain: $plain_desc"
fi
echo "hspy on CPU $CPU_HSPY, tmux, wrk and nginx on CPU $CPU_LOAD; 2 passes of $ROUNDS rounds of" \
    "$ROUND_SECONDS s; history $history flows; tui's extra arguments: ${tui_args[*]:-none}"

# The price of new memory on this machine, which the interface pays for its history while it
# fills. Measured first, after a pause: memory freed just before (a build, an earlier run) can be
# handed out again cheaply for a few seconds, which is not what a growing history gets.
newmem=${NEWMEM_BENCH:-$(dirname "$HSPY")/tests/newmem_bench}
newmem_price=0
if [ -x "$newmem" ]; then
    sleep 3
    if line=$("${PIN_HSPY[@]}" "$newmem"); then
        echo "$line"
        newmem_price=$(awk '{print $3}' <<<"$line")
    fi
else
    echo "new memory: price not measured (no $newmem)"
fi

for what in $MODES; do
    case $what in
    listen) compare listen "127.0.0.1:PORT" ;;
    proxy)
        command -v nginx >/dev/null || { echo "proxy: nginx is not installed, not measured"; continue; }
        up=$(free_port)
        mkdir -p "$work/nginx/logs" "$work/www"
        echo "hello" >"$work/www/bench"
        cat >"$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$up; root $work/www; } }
CONF
        "${PIN_LOAD[@]}" nginx -p "$work/nginx" -c "$work/nginx.conf" &
        nginx_pid=("$!")
        wait_port "$up" || { echo "tui_overhead: nginx did not start" >&2; exit 1; }
        compare proxy "127.0.0.1:PORT" "127.0.0.1:$up"
        ;;
    *) echo "tui_overhead: unknown mode $what (listen, proxy)" >&2; exit 1 ;;
    esac
done
