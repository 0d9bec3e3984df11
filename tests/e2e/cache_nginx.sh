#!/usr/bin/env bash
# Cache analysis of real responses: nginx serves files with `expires`, `etag` and
# `add_header Cache-Control` variations, curl fetches them (including real conditional requests
# answered with 304), tcpdump records the loopback traffic, and `hspy read --filter '~cache ...'`
# must select exactly the exchanges each outcome names.
set -u
. "$HSPY_SOURCE_DIR/tests/e2e/lib/common.sh"

for tool in nginx curl tcpdump python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "capturing on loopback needs root"

port=$(free_port)
chmod 755 "$WORK" # nginx workers drop privileges and must read the files
mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
for f in app.js page.html private.txt nostore.txt plain.txt; do echo "content of $f" >"$WORK/www/$f"; done
touch -d '-30 days' "$WORK/www"/*
chmod 644 "$WORK/www"/*
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    server {
        listen 127.0.0.1:$port;
        root $WORK/www;
        location = /app.js { expires 1h; etag on; }
        location = /page.html { add_header Cache-Control "no-cache" always;
                                add_header Set-Cookie "sid=1" always; }
        location = /private.txt { expires 5m; add_header Cache-Control "private" always; }
        location = /nostore.txt { add_header Cache-Control "no-store" always; }
        location = /plain.txt { }
    }
}
EOF
start_bg nginx -p "$WORK" -c "$WORK/nginx.conf"
wait_for_port "$port" || skip "nginx did not start: $(cat "$WORK/logs/error.log" 2>/dev/null)"

start_bg tcpdump --immediate-mode -U -i lo -w "$WORK/cap.pcap" "tcp port $port"
tcpdump_pid=$LAST_PID
# tcpdump writes the file's header once its capture and filter are in place.
wait_until 30 test -s "$WORK/cap.pcap" || skip "tcpdump cannot capture on lo here"

url=http://127.0.0.1:$port
get() { curl -s --http1.1 -o /dev/null "$@"; }
etag=$(curl -s --http1.1 -o /dev/null -D - "$url/app.js" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "etag" { print $2 }')
lastmod=$(curl -s --http1.1 -o /dev/null -D - "$url/app.js" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "last-modified" { print $2 }')
[ -n "$etag" ] && [ -n "$lastmod" ] || fail "nginx sent no ETag or Last-Modified"
get -H "If-None-Match: $etag" "$url/app.js"          # 304: the ETag matches
get -H "If-Modified-Since: $lastmod" "$url/app.js"   # 304: not modified since
get "$url/page.html"
get "$url/private.txt"
get "$url/nostore.txt"
get "$url/plain.txt"
get -X POST -d x "$url/plain.txt"                     # 405 to a POST
wait_until 30 capture_closed "$WORK/cap.pcap"
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null

# flows EXPR: "METHOD target status" of each exchange the filter selects, sorted.
flows() {
    "$HSPY" read --no-tui --json --filter "$1" "$WORK/cap.pcap" 2>"$WORK/err" | python3 -c '
import json, sys
rows = []
for line in sys.stdin:
    o = json.loads(line)
    resp = o.get("response") or {}
    rows.append("%s %s %s" % (o["request"].get("method"), o["request"].get("target"), resp.get("status")))
print("\n".join(sorted(rows)))'
}

# expect EXPR WANT...: the filter selects exactly these flows.
expect() {
    local expr=$1
    shift
    local want got
    want=$(printf '%s\n' "$@" | sort)
    got=$(flows "$expr")
    if [ "$got" = "$want" ]; then
        echo "ok: $expr"
    else
        fail "$expr: got [$(echo "$got" | paste -sd,)], want [$(echo "$want" | paste -sd,)] $(cat "$WORK/err")"
    fi
}

expect '~all' 'GET /app.js 200' 'GET /app.js 200' 'GET /app.js 304' 'GET /app.js 304' \
    'GET /page.html 200' 'GET /private.txt 200' 'GET /nostore.txt 200' 'GET /plain.txt 200' \
    'POST /plain.txt 405'
# expires 1h: explicit lifetime, shared caches may store it
expect '~cache shared ~cache fresh !~cache heuristic' 'GET /app.js 200' 'GET /app.js 200'
# both conditional requests were answered honestly
expect '~cache not-modified' 'GET /app.js 304' 'GET /app.js 304'
expect '~cache conditional' 'GET /app.js 304' 'GET /app.js 304'
expect '~cache bad-304'
# no-cache: stored, revalidated before each use
expect '~cache revalidate' 'GET /page.html 200'
# expires 5m plus private: browsers only
expect '~cache private' 'GET /private.txt 200'
expect '~cache no-store' 'GET /nostore.txt 200'
# no explicit lifetime, Last-Modified 30 days ago: a heuristic one (no-cache on page.html
# still forces revalidation, which is a separate outcome)
expect '~cache heuristic' 'GET /page.html 200' 'GET /plain.txt 200'
expect '~cache heuristic ~cache fresh' 'GET /plain.txt 200'
# POST responses without explicit freshness are not stored
expect '~cache uncacheable' 'GET /nostore.txt 200' 'POST /plain.txt 405'
# the same analysis combines with the other terms
expect '~cache storable ~c 200 ~hs ^etag' 'GET /app.js 200' 'GET /app.js 200' \
    'GET /page.html 200' 'GET /private.txt 200' 'GET /plain.txt 200'

# The cache object in --json, once the JSON record carries it.
"$HSPY" read --no-tui --json --filter '~u app.js ~c 200' "$WORK/cap.pcap" 2>/dev/null |
    head -1 >"$WORK/app.json"
if python3 -c 'import json,sys; sys.exit(0 if "cache" in json.load(open(sys.argv[1])) else 1)' \
    "$WORK/app.json"; then
    check "cache label of /app.js" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["cache"]
assert c["label"] == "cacheable 1h", c
assert c["lifetime"] == 3600 and c["lifetime_source"] == "max-age", c
assert c["shared"]["storable"] and c["private"]["storable"], c' "$WORK/app.json"
else
    echo "note: the JSON record has no cache object in this build; label not checked"
fi
finish
