# Helpers for the `hspy proxy` end-to-end tests (sourced, not a test). Builds on listen.sh for
# need, check, finish and pyq.
#
#   proxy_setup                   temp folder $T (removed on exit) and the exit trap
#   proxy_start [ARGS...] UPSTREAM  starts `hspy proxy ARGS 0 UPSTREAM`; sets PROXY_PID, PPORT,
#                                 PURL, PROXY_OUT (stdout), PROXY_ERR (stderr)
#   proxy_stop                    SIGTERM and wait (bounded); returns hspy's exit status
#   upstream_start MODE [DIR]     starts lib/upstream.py MODE (http, echo, ws); sets UPORT
#   recording_upstream            upstream_start http, recording what it gets in $T/rec; sets UP
#                                 (127.0.0.1:port) as well as UPORT
#   nginx_start                   a private nginx serving $T/www on a free port; sets NPORT
#   gunicorn_start APP.py         gunicorn serving APP.py's `app`; sets GPORT
#   bg CMD...                     runs CMD in the background, stopped on exit; sets BG_PID
#   wait_port PORT                waits (bounded) until PORT accepts connections
#   rss_watch PID / rss_peak      samples VmRSS (kB) every 50 ms into $T/rss.PID / its maximum
#   pattern_sha N                 sha256 of N bytes of lib/upstream.py's 0..255 pattern

. "$(dirname "${BASH_SOURCE[0]}")/listen.sh"

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAW="python3 $LIB/rawclient.py"
BG_PIDS=()
PROXY_STARTS=0

proxy_cleanup() {
    local p i
    # TERM first: nginx's master then stops its workers (a KILLed master would orphan them).
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    done
    for i in $(seq 40); do
        local alive=0
        for p in "${BG_PIDS[@]:-}"; do
            [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
        done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null
    done
    [ -n "${T:-}" ] && rm -rf "$T"
}

proxy_setup() {
    : "${HSPY:?HSPY must name the hspy binary}"
    T=$(mktemp -d)
    chmod 755 "$T"
    trap proxy_cleanup EXIT
}

bg() {
    "$@" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

wait_port() {
    local i
    for i in $(seq 200); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "FAIL: nothing listens on port $1"
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

proxy_start() {
    PROXY_STARTS=$((PROXY_STARTS + 1))
    PROXY_OUT=$T/pout.$PROXY_STARTS
    PROXY_ERR=$T/perr.$PROXY_STARTS
    local n=$#
    local upstream=${!n}
    "$HSPY" proxy "${@:1:$((n - 1))}" 0 "$upstream" >"$PROXY_OUT" 2>"$PROXY_ERR" &
    PROXY_PID=$!
    BG_PIDS+=("$PROXY_PID")
    wait_until 30 listening "$PROXY_ERR" "$PROXY_PID"
    PPORT=$LISTENING_PORT
    if [ -z "$PPORT" ]; then
        echo "FAIL: hspy proxy $* did not start:"
        cat "$PROXY_ERR"
        exit 1
    fi
    PURL=http://127.0.0.1:$PPORT
}

proxy_stop() {
    stop_by_term "$PROXY_PID" "hspy proxy"
    wait "$PROXY_PID"
}

upstream_start() {
    local mode=$1 dir=${2:-}
    local pf=$T/port.$mode.$RANDOM
    bg python3 "$LIB/upstream.py" "$mode" "$pf" $dir
    wait_until 30 test -s "$pf"
    [ -s "$pf" ] || { echo "FAIL: upstream.py $mode did not start"; exit 1; }
    UPORT=$(cat "$pf")
}

recording_upstream() {
    mkdir -p "$T/rec"
    upstream_start http "$T/rec"
    UP=127.0.0.1:$UPORT
}

nginx_start() {
    need nginx
    NPORT=$(free_port)
    mkdir -p "$T/www" "$T/nginx"
    local user=""
    [ "$(id -u)" = 0 ] && user="user $(id -un);"
    cat >"$T/nginx/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log $T/nginx/access.log;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    types { text/plain txt; text/html html; application/octet-stream bin; }
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$NPORT;
        root $T/www;
        location /gz/ { gzip on; gzip_min_length 0; gzip_types text/plain; }
    }
}
EOF
    bg nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
    NGINX_PID=$BG_PID
    wait_port "$NPORT"
}

gunicorn_start() {
    need gunicorn
    GPORT=$(free_port)
    bg gunicorn --chdir "$(dirname "$1")" -w 2 --threads 4 -b "127.0.0.1:$GPORT" \
        --log-level warning --error-logfile "$T/gunicorn.log" "$(basename "$1" .py):app"
    wait_port "$GPORT"
}

rss_watch() {
    local pid=$1
    (
        while kill -0 "$pid" 2>/dev/null; do
            awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null
            sleep 0.05
        done
    ) >"$T/rss.$pid" &
    BG_PIDS+=("$!")
}

rss_peak() {
    sort -n "$T/rss.$1" | tail -1
}

pattern_sha() {
    python3 -c '
import hashlib, sys
n = int(sys.argv[1]); p = bytes(range(256)) * 256; h = hashlib.sha256()
while n > 0:
    k = min(n, len(p)); h.update(p[:k]); n -= k
print(h.hexdigest())' "$1"
}
