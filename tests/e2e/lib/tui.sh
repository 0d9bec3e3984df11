# Helpers for the interface's end-to-end tests (sourced, not a test). hspy runs in a tmux
# server of the test's own (a socket in $WORK), at a fixed size; the test types with send-keys
# and reads the screen with capture-pane.
#
#   tui_need                      skips (exit 77) without tmux, curl or a UTF-8 locale
#   tui_start W H ARGS...         runs `hspy ARGS` in the pane (with the variables of the
#                                 TUI_ENV array, "NAME=value" each, set for hspy); the pane's
#                                 shell records the terminal settings before and after, and
#                                 hspy's exit status
#   tui_screen                    prints the screen now (tui_screen_attrs: with attributes)
#   tui_restart                   ends the previous run's tmux server before another tui_start
#   tui_wait TEXT [SECONDS]       waits until the screen shows TEXT (fixed string); on timeout
#                                 prints the screen and returns 1 (tui_wait_attrs: TEXT holds
#                                 colours and attributes as tui_screen_attrs prints them)
#   tui_wait_up TEXT              waits until the interface is up and shows TEXT; when hspy ends
#                                 first (or it does not come up in 10 s), prints hspy's standard
#                                 error, fails and finishes the test
#   tui_wait_gone TEXT [SECONDS]  waits until TEXT is gone
#   tui_keys KEY...               tmux send-keys (key names: Enter, Tab, BTab, Escape, Up, ...)
#   tui_type TEXT                 types TEXT literally
#   tui_resize W H                resizes the window (SIGWINCH reaches hspy)
#   tui_click X Y [wheel-up|wheel-down]   a mouse click (or wheel step) at a cell
#   tui_column TEXT ROW           the column where TEXT appears on a screen row
#   tui_selected TEXT             the selected row (the one in reverse video) shows TEXT (with
#                                 wait_until: the cursor has moved there)
#   tui_wait_exit [SECONDS]       waits until hspy ended; sets TUI_STATUS
#   tui_restored                  true when the terminal is as it was before hspy started:
#                                 same stty settings, normal screen, no mouse reporting,
#                                 cursor visible
#   tui_hspy_pid                  prints the PID of the hspy in the pane
#   tui_cpu_ticks PID             CPU time a process used so far, in clock ticks
#   tui_lines_fit WIDTH           no line on screen is wider than WIDTH columns
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TUI_SOCK=$WORK/tmux.sock
TUI_STARTED=0
TUI_ENV=()

tui_tmux() {
    tmux -u -S "$TUI_SOCK" "$@"
}

tui_cleanup() {
    if [ "$TUI_STARTED" = 1 ]; then
        local pid
        pid=$(tui_tmux display-message -p '#{pid}' 2>/dev/null)
        tui_tmux kill-server 2>/dev/null
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    fi
    cleanup
}
trap tui_cleanup EXIT

tui_need() {
    command -v tmux >/dev/null || skip "tmux is not installed"
    command -v curl >/dev/null || skip "curl is not installed"
    locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || skip "no C.UTF-8 locale"
}

tui_start() {
    local w=$1 h=$2
    shift 2
    local args envs=""
    printf -v args '%q ' "$@"
    [ ${#TUI_ENV[@]} -gt 0 ] && printf -v envs '%q ' "${TUI_ENV[@]}"
    cat >"$WORK/pane.sh" <<PANE
stty -g >"$WORK/stty.before"
env $envs "$HSPY" $args 2>"$WORK/hspy.err"
echo "__hspy_exit=\$?" >"$WORK/exit"
stty -g >"$WORK/stty.after"
echo "hspy ended"
exec sleep 600
PANE
    TUI_STARTED=1
    tui_tmux -f /dev/null new-session -d -s tui -x "$w" -y "$h" -e LANG=C.UTF-8 -e LC_ALL=C.UTF-8 \
        -e TZ=UTC "bash $WORK/pane.sh"
    tui_tmux set-option -t tui -g status off >/dev/null
}

tui_screen() {
    tui_tmux capture-pane -p -t tui
}

# tui_screen_attrs: the screen with its colours and attributes as escape sequences.
tui_screen_attrs() {
    tui_tmux capture-pane -p -e -t tui
}

# tui_restart: ends the tmux server of the previous run (and waits until it is gone, so that
# the next one can use the socket) so that tui_start can run again.
tui_restart() {
    if [ "$TUI_STARTED" = 1 ]; then
        local pid
        pid=$(tui_tmux display-message -p '#{pid}' 2>/dev/null)
        tui_tmux kill-server 2>/dev/null
        for _ in $(seq 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.02
        done
        rm -f "$TUI_SOCK"
    fi
    rm -f "$WORK/exit" "$WORK/stty.after"
}

# tui_wait_on SCREEN TEXT [SECONDS]: waits up to SECONDS (10) until what SCREEN prints
# (tui_screen, or tui_screen_attrs for colours and attributes as escape sequences) holds TEXT;
# else shows that screen (escapes made visible) and fails.
tui_wait_on() {
    local screen=$1 text=$2 limit=${3:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        "$screen" | grep -qF -- "$text" && return 0
        sleep 0.05
    done
    echo "--- screen while waiting for '$text':"
    if [ "$screen" = tui_screen ]; then "$screen"; else "$screen" | cat -v; fi
    echo "---"
    return 1
}
tui_wait() { tui_wait_on tui_screen "$@"; }
tui_wait_attrs() { tui_wait_on tui_screen_attrs "$@"; }

tui_wait_up() {
    local text=$1 i
    for ((i = 0; i < 200; i++)); do
        tui_screen | grep -qF -- "$text" && return 0
        [ -s "$WORK/exit" ] && break
        sleep 0.05
    done
    cat "$WORK/hspy.err"
    fail "the interface did not come up showing '$text'"
    finish
}

tui_wait_gone() {
    local text=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        tui_screen | grep -qF -- "$text" || return 0
        sleep 0.05
    done
    echo "--- screen still shows '$text':"
    tui_screen
    return 1
}

tui_keys() {
    tui_tmux send-keys -t tui "$@"
}

tui_type() {
    tui_tmux send-keys -t tui -l -- "$1"
}

# tui_click X Y [wheel-up|wheel-down]: a mouse press and release at column X, row Y (0-based),
# sent as the terminal would (X10 encoding, which the pane's TERM announces); or a wheel step.
tui_click() {
    local x=$(($1 + 33)) y=$(($2 + 33)) b=32
    case "${3:-}" in wheel-up) b=96 ;; wheel-down) b=97 ;; esac
    tui_tmux send-keys -t tui -H 1b 5b 4d "$(printf '%x' "$b")" "$(printf '%x' "$x")" "$(printf '%x' "$y")"
    [ -z "${3:-}" ] && tui_tmux send-keys -t tui -H 1b 5b 4d 23 "$(printf '%x' "$x")" "$(printf '%x' "$y")"
    return 0
}

# tui_column TEXT ROW: the 0-based column where TEXT first appears on screen row ROW.
tui_column() {
    tui_screen | awk -v t="$1" -v r="$2" 'NR == r + 1 { print index($0, t) - 1; exit }'
}

tui_selected() {
    tui_screen_attrs | grep -P '^\e\[([0-9]+;)*7m' | sed 's/\x1b\[[0-9;]*m//g' | grep -qF -- "$1"
}

tui_resize() {
    tui_tmux resize-window -t tui -x "$1" -y "$2"
}

tui_wait_exit() {
    local limit=${1:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        if [ -s "$WORK/exit" ]; then
            TUI_STATUS=$(sed -n 's/^__hspy_exit=//p' "$WORK/exit")
            return 0
        fi
        sleep 0.05
    done
    echo "--- hspy did not end; screen:"
    tui_screen
    return 1
}

tui_restored() {
    local flags
    # stty.after is written right after the exit status; wait for it briefly.
    for _ in $(seq 40); do [ -s "$WORK/stty.after" ] && break; sleep 0.05; done
    cmp -s "$WORK/stty.before" "$WORK/stty.after" || { echo "stty settings differ"; return 1; }
    flags=$(tui_tmux display-message -p -t tui '#{alternate_on} #{mouse_any_flag} #{cursor_flag}')
    [ "$flags" = "0 0 1" ] || { echo "alternate screen, mouse, cursor: $flags"; return 1; }
}

tui_hspy_pid() {
    local shell
    shell=$(tui_tmux display-message -p -t tui '#{pane_pid}')
    pgrep -P "$shell" -x hspy | head -1
}

# tui_cpu_ticks PID: user+system CPU time of a process so far, in clock ticks.
tui_cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# tui_lines_fit WIDTH: no line of the screen is wider than WIDTH columns.
tui_lines_fit() {
    tui_screen | python3 -c '
import sys, unicodedata
w = int(sys.argv[1])
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
sys.exit(0 if all(width(l.rstrip("\n")) <= w for l in sys.stdin) else 1)' "$1"
}
