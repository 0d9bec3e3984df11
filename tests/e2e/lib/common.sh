# Shared helpers for the end-to-end scripts (sourced, not a test itself).
# Provides: $HSPY (the binary), $WORK (a private temporary folder removed on exit), skip,
# fail, check, free_port, wait_for_port, stop_pid, start_recording_upstream, a cleanup trap
# that stops every process started with start_bg, and the bounded waits of lib/wait.sh.

set -u
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"
: "${HSPY:?HSPY must name the hspy binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hspy-e2e.XXXXXX")
BG_PIDS=()
FAILED=0

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# skip "why": the test cannot run here (exit status 77 tells ctest it was skipped).
skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    FAILED=1
}

# check "what" command...: runs the command, reports and remembers a failure.
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        fail "$what"
    fi
}

# Starts a background command, remembering its PID for cleanup; sets LAST_PID.
start_bg() {
    "$@" &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# start_recording_upstream DIR: lib/upstream.py in http mode, writing what it receives into DIR;
# sets UPORT, or skips the test when it does not come up.
start_recording_upstream() {
    mkdir -p "$1"
    start_bg python3 "$(dirname "${BASH_SOURCE[0]}")/upstream.py" http "$WORK/uport" "$1"
    wait_until 30 test -s "$WORK/uport"
    UPORT=$(cat "$WORK/uport" 2>/dev/null)
    [ -n "$UPORT" ] || skip "the test upstream did not start"
}

stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
wait_for_port() {
    local port=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# finish: the script's exit status.
finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "some checks failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
