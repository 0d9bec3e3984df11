#!/usr/bin/env bash
# hspy proxy in front of gunicorn running a Flask application: JSON, uploads with and without
# chunked framing, a streamed (chunked) response, error statuses, upstream connection reuse,
# and gunicorn closing idle keep-alive connections (the pool must notice, not answer 502).
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl gunicorn
/usr/bin/python3 -c 'import flask' 2>/dev/null || { echo "SKIP: python3-flask is not installed"; exit 77; }
proxy_setup
cp "$LIB/flaskapp.py" "$T/"
gunicorn_start "$T/flaskapp.py"
proxy_start --json "127.0.0.1:$GPORT"

check "JSON" test "$(curl -s "$PURL/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])')" = "[0, 1, 2, 3, 4]"
head -c 2000000 /dev/urandom >"$T/body"
want="2000000 $(sha256sum <"$T/body" | cut -c1-64)"
check "upload" test "$(curl -s --data-binary @"$T/body" "$PURL/echo")" = "$want"
check "chunked upload" test "$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T/body" "$PURL/echo")" = "$want"
python3 -c 'import sys; sys.stdout.write("".join("line %d\n" % i for i in range(5000)))' >"$T/lines"
check "streamed response" cmp -s <(curl -s "$PURL/stream?n=5000") "$T/lines"
check "error status passes" test "$(curl -s -o /dev/null -w '%{http_code}' "$PURL/status/418")" = 418
p1=$(curl -s "$PURL/peer")
p2=$(curl -s "$PURL/peer")
check "upstream connection reused" test -n "$p1" -a "$p1" = "$p2"
# gunicorn closes keep-alive connections idle for 2 s; the next request must still succeed.
# (hspy's end of the pooled connection is then half-closed or gone, no longer established.)
upstream_open() { ss -Htn state established "( dport = :$GPORT )" | grep -q .; }
check "gunicorn closed the idle upstream connection" wait_until 30 eval '! upstream_open'
check "after gunicorn closed the idle connection" test "$(curl -s -o /dev/null -w '%{http_code}' "$PURL/json")" = 200
proxy_stop

J=$PROXY_OUT
check "streamed response recorded as chunked" \
    test "$(pyq "$J" '[e["response"]["body_framing"] for e in ex if e["request"]["target"].startswith("/stream")][0]')" = chunked
check "chunked upload recorded" \
    test "$(pyq "$J" '[(e["request"]["body_framing"], e["request"]["body_size"]) for e in ex if e["request"]["target"] == "/echo"][1]')" = "('chunked', 2000000)"
errors=$(pyq "$J" '[e["error"] for e in ex if e["error"]]')
[ "$errors" = "[]" ] || echo "recorded errors: $errors"
check "no failures" test "$errors" = "[]"
check "the stale connection was not used" test "$(grep -c ' 0 failed' "$PROXY_ERR")" = 1
finish
