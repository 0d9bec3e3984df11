#!/usr/bin/env bash
# hspy proxy in front of a private nginx: static files, gzip with chunked transfer coding,
# HEAD, ranges and errors pass unchanged (compared with nginx answering directly), upstream
# keep-alive is used (nginx's own log shows the connections), and the exchanges record the
# framing and the decoded body.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl nginx
proxy_setup
nginx_start
sed -i 's|access_log .*;|log_format conns "$connection $request"; access_log '"$T"'/nginx/access.log conns;|' "$T/nginx/nginx.conf"
# On SIGHUP nginx starts workers with the new configuration and ends the old ones.
old_workers=$(pgrep -P "$NGINX_PID")
reloaded() {
    local now
    now=$(pgrep -P "$NGINX_PID")
    [ -n "$now" ] && [ -z "$(comm -12 <(sort <<<"$old_workers") <(sort <<<"$now"))" ]
}
kill -HUP "$NGINX_PID"
mkdir -p "$T/www/gz"
printf '<h1>hello from nginx</h1>\n' >"$T/www/index.html"
python3 -c 'import sys; sys.stdout.write("".join("line %d of a compressible text file\n" % i for i in range(20000)))' >"$T/www/gz/text.txt"
head -c 3000000 /dev/urandom >"$T/www/blob.bin"
check "nginx reloaded its configuration" wait_until 30 reloaded
N=http://127.0.0.1:$NPORT

proxy_start --json "127.0.0.1:$NPORT"

same() { # same NAME CURL-ARGS... : the response through hspy equals nginx's own, head and body
    curl -s -D "$T/d.h" -o "$T/d.b" "${@:2}" "$N$1"
    curl -s -D "$T/p.h" -o "$T/p.b" "${@:2}" "$PURL$1"
    # Date may tick between the two requests (with -I curl writes the head as the body too).
    grep -vi '^date:' "$T/d.h" >"$T/d.h2"
    grep -vi '^date:' "$T/p.h" >"$T/p.h2"
    if [ "${2:-}" = -I ]; then
        grep -avi '^date:' "$T/d.b" >"$T/d.b2"
        grep -avi '^date:' "$T/p.b" >"$T/p.b2"
        mv "$T/d.b2" "$T/d.b"
        mv "$T/p.b2" "$T/p.b"
    fi
    cmp -s "$T/d.h2" "$T/p.h2" && cmp -s "$T/d.b" "$T/p.b" && return 0
    diff "$T/d.h2" "$T/p.h2"
    cmp "$T/d.b" "$T/p.b"
    return 1
}

check "static file" same /index.html
check "3 MB binary file" same /blob.bin
check "gzip, chunked (undecoded bytes)" same /gz/text.txt -H 'Accept-Encoding: gzip'
check "gzip response is chunked" grep -qi '^transfer-encoding: chunked' "$T/p.h"
check "gzip decoded by curl" test "$(curl -s --compressed "$PURL/gz/text.txt" | sha256sum)" = "$(sha256sum <"$T/www/gz/text.txt")"
check "HEAD" same /blob.bin -I
check "range" same /blob.bin -r 1000-1999
check "404" same /missing
check "directory redirect" same /gz

# Several requests on one client connection, and several client connections after each
# other: nginx sees them on one upstream connection.
: >"$T/nginx/access.log"
curl -s -o /dev/null -o /dev/null -o /dev/null -I "$PURL/index.html" "$PURL/blob.bin" "$PURL/index.html"
for i in 1 2 3; do curl -s -o /dev/null "$PURL/index.html"; done
# (nginx logs a request after answering it: waited for, bounded.)
for i in $(seq 200); do [ "$(wc -l <"$T/nginx/access.log")" -ge 6 ] && break; sleep 0.05; done
check "six requests reached nginx" test "$(wc -l <"$T/nginx/access.log")" = 6
check "over one upstream connection" test "$(cut -d' ' -f1 "$T/nginx/access.log" | sort -u | wc -l)" = 1
proxy_stop

J=$PROXY_OUT
check "every exchange recorded" test "$(wc -l <"$J")" = 14
check "gzip exchange: chunked framing" \
    test "$(pyq "$J" '[e["response"]["body_framing"] for e in ex if e["request"]["target"] == "/gz/text.txt" and e["response"]["headers"] and any(h[0].lower() == "content-encoding" for h in e["response"]["headers"])][0]')" = chunked
check "gzip exchange: the coding is examined" \
    test "$(pyq "$J" '[e["response"]["decoded"] is not None for e in ex if e["request"]["target"] == "/gz/text.txt" and any(h[0].lower() == "content-encoding" for h in e["response"]["headers"])][0]')" = True
check "HEAD exchange: no body, kept alive" \
    test "$(pyq "$J" '[(e["response"]["body_framing"], e["response"]["status"]) for e in ex if e["request"]["method"] == "HEAD"][0]')" = "('none', 200)"
errors=$(pyq "$J" '[e["error"] for e in ex if e["error"]]')
[ "$errors" = "[]" ] || echo "recorded errors: $errors"
check "no failures" test "$errors" = "[]"
finish
