#!/usr/bin/env bash
# --save-bodies DIR: every body written whole to a file of its own, in all modes. Through the
# proxy in front of nginx: a 3 MB download identical to the file served, a gzip'd chunked page
# saved as sent (".txt.gz", which gunzip turns back into the page), an upload; in listen, an
# upload and hspy's own answer; from tcpdump-made captures, a chunked gzip'd response and a
# download with real loss (".partial"). A folder that is not empty, and a HAR file as input, are
# refused before anything runs. With --filter only the bodies of matching exchanges stay;
# --save-decoded adds a decoded copy. The summary line says what was saved.
. "$(dirname "$0")/lib/proxy.sh"
need python3 curl nginx gunzip
proxy_setup
caps=$HSPY_SOURCE_DIR/captures
nginx_start
head -c 3000000 /dev/urandom >"$T/www/big.bin"
mkdir -p "$T/www/gz"
python3 -c 'print("\n".join("line %d of a page that compresses well" % i for i in range(4000)))' \
    >"$T/www/gz/page.txt"

# proxy
proxy_start --no-tui --save-bodies "$T/p" "127.0.0.1:$NPORT"
curl -s -o "$T/big.got" "$PURL/big.bin"
curl -s --compressed -o "$T/page.got" "$PURL/gz/page.txt"
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary '{"n":[1,2,3]}' "$PURL/big.bin"
proxy_stop
check "proxy: the download is saved whole" cmp -s "$T/p/1-response.bin" "$T/www/big.bin"
check "proxy: the gzip'd page is saved as sent" test -s "$T/p/2-response.txt.gz"
check "proxy: ... and gunzips to the page" cmp -s <(gunzip -c "$T/p/2-response.txt.gz") "$T/www/gz/page.txt"
check "proxy: the client got the page too" cmp -s "$T/page.got" "$T/www/gz/page.txt"
check "proxy: the upload is saved" test "$(cat "$T/p/3-request.json")" = '{"n":[1,2,3]}'
check "proxy: nothing is left partial" test -z "$(find "$T/p" -name '*.partial')"
check "proxy: the summary counts what was saved" \
    grep -q "^hspy: --save-bodies: 4 whole bodies in $T/p, 0 partial ([0-9]* bytes written)$" "$PROXY_ERR"

# listen: the upload and hspy's own answer (the echo of it)
listen_start --no-tui --save-bodies "$T/l"
curl -s -o "$T/echo.got" --data-binary @"$T/www/big.bin" -H 'Content-Type: application/octet-stream' "$URL/up"
listen_stop
check "listen: the upload is saved whole" cmp -s "$T/l/1-request.bin" "$T/www/big.bin"
check "listen: so is hspy's answer" cmp -s "$T/l/1-response.txt" "$T/echo.got"

# read: captures made with tcpdump (captures/README.md)
"$HSPY" read --no-tui --save-bodies "$T/r1" "$caps/real-chunked-gzip.pcap" >/dev/null 2>"$T/r1.err"
check "read: a chunked gzip'd response is saved as sent" test -s "$T/r1/1-response.txt.gz"
check "read: ... and gunzips whole (172,000 bytes)" test "$(gunzip -c "$T/r1/1-response.txt.gz" | wc -c)" = 172000
"$HSPY" read --no-tui --save-bodies "$T/r2" "$caps/real-drops.pcap" >/dev/null 2>"$T/r2.err"
check "read: a download the capture lost segments of stays partial" test -s "$T/r2/1-response.bin.partial"
check "read: ... and is not called whole" test ! -e "$T/r2/1-response.bin"
check "read: the summary says so" grep -q "^hspy: --save-bodies: 0 whole bodies in $T/r2, 1 partial" "$T/r2.err"

# --save-decoded: a decoded copy beside the body as sent
"$HSPY" read --no-tui --save-bodies "$T/r6" --save-decoded "$caps/real-chunked-gzip.pcap" >/dev/null 2>"$T/r6.err"
check "--save-decoded: the body as sent" test -s "$T/r6/1-response.txt.gz"
check "--save-decoded: and decoded beside it, as gunzip decodes it" \
    cmp -s "$T/r6/1-response.txt" <(gunzip -c "$T/r6/1-response.txt.gz")
check "--save-decoded: the summary counts it" grep -q "; 1 decoded copy, 0 partial$" "$T/r6.err"
rc=0
"$HSPY" read --no-tui --save-decoded "$caps/real-chunked-gzip.pcap" >/dev/null 2>"$T/r7.err" || rc=$?
check "--save-decoded alone: a usage error" test "$rc" = 2
check "... saying what it needs" grep -q "needs --save-bodies DIR" "$T/r7.err"

# --filter: the bodies of the exchanges it leaves out are removed
"$HSPY" read --no-tui --save-bodies "$T/r5" --filter '~c 404' "$caps/real-python.pcapng" >/dev/null 2>"$T/r5.err"
check "--filter: the 404 page is kept" test -s "$T/r5/2-response.html"
check "--filter: the other body is removed" test "$(ls "$T/r5")" = 2-response.html
check "--filter: the summary counts it" grep -q "; 1 removed: not matching --filter$" "$T/r5.err"

# a folder with files in it is refused before the session starts
rc=0
"$HSPY" read --no-tui --save-bodies "$T/r2" "$caps/real-chunked-gzip.pcap" >"$T/r3.out" 2>"$T/r3.err" || rc=$?
check "a folder that is not empty: exit status 1" test "$rc" = 1
check "... with why" grep -q "^hspy: --save-bodies $T/r2: the folder is not empty" "$T/r3.err"
check "... and nothing read" test ! -s "$T/r3.out"

# a HAR file: its bodies are in its entries; refused rather than writing nothing
"$HSPY" read --no-tui --save "$T/s.har" "$caps/real-chunked-gzip.pcap" >/dev/null 2>&1
rc=0
"$HSPY" read --no-tui --save-bodies "$T/r4" "$T/s.har" >"$T/r4.out" 2>"$T/r4.err" || rc=$?
check "a HAR file: exit status 1" test "$rc" = 1
check "... saying why" grep -q "^hspy: --save-bodies: $T/s.har is a HAR file" "$T/r4.err"
check "... and no folder made" test ! -e "$T/r4"
finish
