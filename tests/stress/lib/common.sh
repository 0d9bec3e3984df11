# Shared helpers for the stress scenarios (sourced, not a scenario itself). Builds on the
# end-to-end helpers (tests/e2e/lib/common.sh: $WORK, skip, check, finish, the cleanup trap).
#
#   STRESS_MODE            quick (default, what the test command runs) or long
#   SANITIZED              1 when $HSPY carries AddressSanitizer (sizes shrink, caps grow)
#   pick QUICK LONG [SAN]  the figure for this run: SAN (default QUICK) under the sanitizer
#   hs_start NAME ARGS...  starts "$HSPY ARGS" (stdout $WORK/NAME.out, stderr $WORK/NAME.err)
#                          and waits for its address; sets HS_PID and HS_PORT
#   hs_stop PID NAME       SIGTERM, bounded wait; checks exit 0 and no sanitizer report
#   scene NAME WHAT        starts a scenario's report; sent/back/note add lines to it;
#   mem PID                adds hspy's resident memory (now and peak) and descriptors;
#   verdict                ends it with "ok" or the number of failed checks since scene
#   stress ARGS...         runs lib/stress.py
#   lastjson FILE KEY      a value of the JSON object on FILE's last line
#
# A scenario that fails (exit status other than 0 and 77) prints the last lines of every
# hspy's standard error it kept in $WORK (sanitizer reports, warnings, refusals: what its own
# output does not show) and, with STRESS_KEEP set (tests/stress/run sets it), leaves a copy of
# $WORK there before the cleanup removes it.

STRESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HSPY_SOURCE_DIR=${HSPY_SOURCE_DIR:-$(cd "$STRESS_LIB/../../.." && pwd)}
# (already sourced when a scenario loaded tests/e2e/lib/tui.sh first)
declare -F cleanup >/dev/null || . "$HSPY_SOURCE_DIR/tests/e2e/lib/common.sh"
STRESS_MODE=${STRESS_MODE:-quick}

# The exit trap already set (the end-to-end cleanup, or the terminal's before it) runs after
# what a failure leaves behind is printed and copied.
STRESS_PREV_EXIT=$(trap -p EXIT | sed -n "s/^trap -- '\(.*\)' EXIT\$/\1/p")
stress_exit() {
    local rc=$? f
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for f in "$WORK"/*.err; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f"), its last lines:"
            tail -n 8 "$f" | cut -c1-300
        done
        if [ -n "${STRESS_KEEP:-}" ] && cp -a "$WORK" "$STRESS_KEEP" 2>/dev/null; then
            echo "(the scenario's files are kept in $STRESS_KEEP)"
        fi
    fi
    eval "${STRESS_PREV_EXIT:-cleanup}"
    exit "$rc"
}
trap stress_exit EXIT
# The interpreter itself, not a version manager's wrapper script (which costs a tenth of a
# second per start, and the scenarios start it hundreds of times).
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
SANITIZED=0
ldd "$HSPY" 2>/dev/null | grep -q libasan && SANITIZED=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
FAILS_AT_SCENE=0
FAILS_TOTAL=0

fail() {
    echo "FAIL: $*"
    FAILED=1
    FAILS_TOTAL=$((FAILS_TOTAL + 1))
}

check() {
    local what=$1
    shift
    if "$@"; then
        echo "    ok: $what"
    else
        fail "$what"
    fi
}

pick() {
    if [ "$SANITIZED" = 1 ] && [ $# -ge 3 ]; then
        echo "$3"
    elif [ "$STRESS_MODE" = long ]; then
        echo "$2"
    else
        echo "$1"
    fi
}

# In a subshell (`stress ... &`, `$(stress ...)`) the interpreter replaces it, so the PID the
# caller keeps for cleanup ($!) is the interpreter's and not an idle shell's.
stress() {
    [ "$BASHPID" != "$$" ] && exec "$PYTHON" "$STRESS_LIB/stress.py" "$@"
    "$PYTHON" "$STRESS_LIB/stress.py" "$@"
}

lastjson() {
    tail -1 "$1" | "$PYTHON" -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k] if isinstance(v,dict) else v[int(k)]
print(json.dumps(v) if isinstance(v,(dict,list)) else v)' "$2"
}

hs_start() {
    local name=$1
    shift
    : >"$WORK/$name.err" # (read below before the child has opened it)
    "$HSPY" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    HS_PID=$!
    BG_PIDS+=("$HS_PID")
    HS_PORT=
    local i
    for ((i = 0; i < 400; i++)); do
        HS_PORT=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/$name.err" | head -1)
        [ -n "$HS_PORT" ] && return 0
        kill -0 "$HS_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL: hspy $* did not start:"
    cat "$WORK/$name.err"
    exit 1
}

# sanitizer_clean FILE: no AddressSanitizer/UBSan/LeakSanitizer report in FILE.
sanitizer_clean() {
    ! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:|SUMMARY: ' "$1"
}

# hs_stop PID NAME [RCFILE [STATUS]]: SIGTERM, bounded wait, then checks exit status STATUS
# (default 0; read from RCFILE when hspy is not a child of this shell, e.g. a pipeline member)
# and no sanitizer report in $WORK/NAME.err.
hs_stop() {
    local pid=$1 name=$2 rcfile=${3:-} want=${4:-0} i rc=0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name: still running 15 s after SIGTERM"
        kill -KILL "$pid" 2>/dev/null
    fi
    if [ -n "$rcfile" ]; then
        for ((i = 0; i < 100; i++)); do
            [ -s "$rcfile" ] && break
            sleep 0.05
        done
        rc=$(cat "$rcfile" 2>/dev/null || echo missing)
    else
        wait "$pid" 2>/dev/null || rc=$?
    fi
    check "$name: exit status $want after SIGTERM (got $rc)" test "$rc" = "$want"
    check "$name: no sanitizer report" sanitizer_clean "$WORK/$name.err"
    [ "$rc" = "$want" ] || tail -5 "$WORK/$name.err"
    return 0
}

kb() {
    awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'
}

# proc_kb PID FIELD: VmRSS or VmHWM in kB (0 when gone).
proc_kb() {
    awk -v f="$2:" '$1 == f {print $2; found=1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0
}

fd_count() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

scene() {
    FAILS_AT_SCENE=$FAILS_TOTAL
    SCENE_START=$EPOCHREALTIME
    echo
    echo "--- $1: $2"
}

sent() { echo "    sent:   $*"; }
back() { echo "    back:   $*"; }
note() { echo "    note:   $*"; }

mem() {
    local pid=$1
    echo "    memory: hspy rss $(kb "$(proc_kb "$pid" VmRSS)"), peak $(kb "$(proc_kb "$pid" VmHWM)"), $(fd_count "$pid") descriptors"
}

verdict() {
    local n=$((FAILS_TOTAL - FAILS_AT_SCENE)) took
    took=$(awk -v a="$SCENE_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')
    if [ "$n" -eq 0 ]; then
        echo "    result: ok ($took)"
    else
        echo "    result: FAILED, $n check(s) ($took)"
    fi
}

# raise_fds N: raises the soft descriptor limit of this shell (and its children) toward N;
# prints the limit reached.
raise_fds() {
    local want=$1 hard
    hard=$(ulimit -Hn)
    [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want=$hard
    ulimit -n "$want" 2>/dev/null
    ulimit -n
}
