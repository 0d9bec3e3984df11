#!/usr/bin/env bash
# 100 MB through hspy proxy in each direction, with Content-Length and chunked framing, and a
# slow reader: the SHA-256 of every body is the same at both ends, the exchanges record the full
# sizes (and, with --hash-bodies, the same hashes), and hspy's resident memory stays under the
# documented cap (sampled from /proc all along), because a full queue stops reading.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl nginx
proxy_setup
SIZE=$((100 * 1024 * 1024))
RSS_MAX_KB=$((32 * 1024))
# A sanitizer build keeps shadow memory and a quarantine of freed blocks: only flatness counts.
ldd "$HSPY" 2>/dev/null | grep -q libasan && RSS_MAX_KB=$((256 * 1024))
nginx_start
head -c "$SIZE" /dev/urandom >"$T/www/big.bin"
BIG_SHA=$(sha256sum <"$T/www/big.bin" | cut -c1-64)
upstream_start http
APP=127.0.0.1:$UPORT

proxy_start --json --hash-bodies "127.0.0.1:$NPORT"
rss_watch "$PROXY_PID"

# Download, Content-Length framed, from nginx.
check "100 MB download: same bytes" test "$(curl -s "$PURL/big.bin" | sha256sum | cut -c1-64)" = "$BIG_SHA"
# Upload, Content-Length framed, to the python app (forward-proxied: it is not the upstream).
got=$(curl -s -x "$PURL" --data-binary @"$T/www/big.bin" "http://$APP/upload")
check "100 MB upload: same bytes" test "$got" = "$SIZE $BIG_SHA length"
# Upload, chunked.
got=$(curl -s -x "$PURL" -H 'Transfer-Encoding: chunked' --data-binary @"$T/www/big.bin" "http://$APP/upload")
check "100 MB chunked upload: same bytes" test "$got" = "$SIZE $BIG_SHA chunked"
# Download, chunked (1600 chunks of 64 KiB).
got=$(curl -s -x "$PURL" "http://$APP/chunked?n=1600&s=65536" | sha256sum | cut -c1-64)
check "100 MB chunked download: same bytes" test "$got" = "$(pattern_sha $SIZE)"
# A slow reader: 24 MB at 12 MB/s; hspy must not buffer what the client does not take (the
# resident memory watched over the whole test, checked below, says whether it did; how long
# curl took says nothing about hspy, since curl paces itself).
got=$(curl -s --limit-rate 12M "$PURL/big.bin" -r 0-25165823 | sha256sum | cut -c1-64)
check "slow reader: same bytes" test "$got" = "$(head -c 25165824 "$T/www/big.bin" | sha256sum | cut -c1-64)"
# Both directions at once: hspy listen echoes a 30 MB upload while it arrives.
"$HSPY" listen --log none 0 >/dev/null 2>"$T/echo.err" &
BG_PIDS+=("$!")
for i in $(seq 100); do
    ECHO=$(sed -n 's/^hspy: listening on .*:\([0-9][0-9]*\)$/\1/p' "$T/echo.err")
    [ -n "$ECHO" ] && break
    sleep 0.05
done
head -c 31457280 "$T/www/big.bin" >"$T/30m"
got=$(curl -s -x "$PURL" --data-binary @"$T/30m" "http://127.0.0.1:$ECHO/echo" | tail -c 31457280 | sha256sum | cut -c1-64)
check "30 MB echoed while uploading: same bytes" test "$got" = "$(sha256sum <"$T/30m" | cut -c1-64)"
proxy_stop

peak=$(rss_peak "$PROXY_PID")
echo "resident memory: peak ${peak} kB over $(wc -l <"$T/rss.$PROXY_PID") samples"
check "peak RSS under $RSS_MAX_KB kB" test "$peak" -lt "$RSS_MAX_KB"
J=$PROXY_OUT
check "download recorded whole" \
    test "$(pyq "$J" '[(e["response"]["body_size"], e["response"]["sha256"]) for e in ex if e["request"]["target"] == "/big.bin" and e["response"]["status"] == 200][0]')" = "($SIZE, '$BIG_SHA')"
check "upload recorded whole" \
    test "$(pyq "$J" '[(e["request"]["body_size"], e["request"]["sha256"]) for e in ex if e["request"]["target"].endswith("/upload")][0]')" = "($SIZE, '$BIG_SHA')"
check "chunked upload recorded whole" \
    test "$(pyq "$J" '[(e["request"]["body_size"], e["request"]["body_framing"], e["request"]["sha256"]) for e in ex if e["request"]["target"].endswith("/upload")][1]')" = "($SIZE, 'chunked', '$BIG_SHA')"
check "only a prefix kept for display" \
    test "$(pyq "$J" '[e["response"]["body_truncated"] for e in ex if e["request"]["target"] == "/big.bin"][0]')" = True
errors=$(pyq "$J" '[e["error"] for e in ex if e["error"]]')
[ "$errors" = "[]" ] || echo "recorded errors: $errors"
check "no failures" test "$errors" = "[]"
finish
