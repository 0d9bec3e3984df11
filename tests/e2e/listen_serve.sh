#!/usr/bin/env bash
# hspy listen --serve DIR: index.html, listings, types, HEAD, Range, 304 (ETag and
# If-Modified-Since), keep-alive; and every way out of DIR refused: "..", encoded dots and
# slashes, symlinks leading out.
. "$(dirname "$0")/lib/listen.sh"
need curl python3
listen_setup
RAW="python3 $(dirname "$0")/lib/rawclient.py"

mkdir -p "$T/www/sub" "$T/www/withindex" "$T/outside"
printf 'secret\n' >"$T/outside/secret.txt"
printf 'hello static\n' >"$T/www/hello.txt"
printf '{"a":1}' >"$T/www/data.json"
printf '<h1>index</h1>\n' >"$T/www/withindex/index.html"
printf 'in sub\n' >"$T/www/sub/file name & more.txt"
head -c 100000 /dev/urandom >"$T/www/blob.bin"
ln -s "$T/outside/secret.txt" "$T/www/leak.txt"
ln -s "$T/outside" "$T/www/leakdir"
ln -s hello.txt "$T/www/alias.txt"

listen_start --json --serve "$T/www"

curl -s -D "$T/h1" -o "$T/b1" "$URL/hello.txt"
check "file served" cmp -s "$T/b1" "$T/www/hello.txt"
check "text type" grep -qi '^content-type: text/plain; charset=utf-8' "$T/h1"
check "json type" test "$(curl -s -o /dev/null -w '%{content_type}' "$URL/data.json")" = application/json
check "index.html for a folder" test "$(curl -s "$URL/withindex/")" = "<h1>index</h1>"
check "folder without slash redirects" test "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/withindex?x=1")" = "301 $URL/withindex/?x=1"
curl -s -o "$T/list" "$URL/sub/"
check "listing escapes and links names" grep -q '<a href="file%20name%20%26%20more.txt">file name &amp; more.txt</a>' "$T/list"
check "encoded name served" test "$(curl -s "$URL/sub/file%20name%20%26%20more.txt")" = "in sub"
check "symlink inside DIR served" test "$(curl -s "$URL/alias.txt")" = "hello static"
check "binary intact" cmp -s <(curl -s "$URL/blob.bin") "$T/www/blob.bin"
check "HEAD: length, no body" test "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$URL/blob.bin")" = "200 0"
check "HEAD: Content-Length" curl -s -I "$URL/blob.bin" -o "$T/hh" -D "$T/hh" && grep -qi '^content-length: 100000' "$T/hh"
check "range" cmp -s <(curl -s -r 10-19 "$URL/blob.bin") <(tail -c +11 "$T/www/blob.bin" | head -c 10)
check "range status 206" test "$(curl -s -o /dev/null -w '%{http_code}' -r 99990- "$URL/blob.bin")" = 206
check "suffix range" cmp -s <(curl -s -r -5 "$URL/blob.bin") <(tail -c 5 "$T/www/blob.bin")
check "unsatisfiable range 416" test "$(curl -s -o /dev/null -w '%{http_code}' -r 200000- "$URL/blob.bin")" = 416
etag=$(sed -n 's/^[Ee][Tt]ag: \(.*\)\r$/\1/p' "$T/h1")
lm=$(sed -n 's/^[Ll]ast-[Mm]odified: \(.*\)\r$/\1/p' "$T/h1")
check "ETag given" test -n "$etag"
check "If-None-Match: 304" test "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/hello.txt")" = 304
check "If-Modified-Since: 304" test "$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$URL/hello.txt")" = 304
check "stale ETag: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "x"' "$URL/hello.txt")" = 200
check "missing file 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" = 404
check "POST 405" test "$(curl -s -o /dev/null -w '%{http_code}' -d x "$URL/hello.txt")" = 405
check "keep-alive across files" test "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$URL/hello.txt" "$URL/data.json" | tr -d '\n')" = 10

# Ways out. Raw requests, so no client normalises the path first.
for target in '/../outside/secret.txt' '/%2e%2e/outside/secret.txt' '/%2E%2E%2Foutside%2Fsecret.txt' \
    '/sub/../../outside/secret.txt' '/..%2f..%2f..%2fetc%2fpasswd' '/leak.txt' '/leakdir/secret.txt' \
    '/sub/..%5c..%5coutside/secret.txt' '/%252e%252e/outside/secret.txt' '/a%00b'; do
    $RAW "$PORT" --send "GET $target HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" >"$T/esc"
    code=$(head -1 "$T/esc" | cut -d' ' -f2)
    check "refused: $target ($code)" test "$code" = 403 -o "$code" = 404 -o "$code" = 400
    check "not leaked: $target" test -z "$(grep -a secret "$T/esc" | grep -v Forbidden)"
done
check "absolute-form traversal refused" test "$($RAW "$PORT" --send 'GET http://x/../outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | head -1 | cut -d' ' -f2)" = 403

listen_stop
check "traversal noted on the exchange" test "$(pyq "$LISTEN_OUT" 'len([e for e in ex if (e.get("note") or "").startswith("serve:")])')" -ge 4
finish
