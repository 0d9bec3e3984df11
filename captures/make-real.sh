#!/usr/bin/env bash
# make-real.sh: re-creates the real-*.pcap* captures with real tools, inside a private network
# namespace (loopback only, MTU 1500 so large bodies span many segments): nginx and python's
# http.server as servers, curl and small python socket clients as clients, tcpdump and dumpcap
# capturing. Needs root, nginx, curl, python3, tcpdump, dumpcap (wireshark-common) and editcap.
#
#   captures/make-real.sh [OUTDIR]     (default: the captures folder)
#
# The captures differ from run to run in timestamps, ports and sequence numbers; the golden
# transcripts under tests/golden/read/ must be regenerated after re-running this script
# (HSPY_UPDATE_GOLDEN=1 build/tests/test_pcapsource) and reviewed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
ns=hspycap$$
tmp=$(mktemp -d)
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
inns ip link set lo up
inns ip link set lo mtu 1500

# Content served by nginx.
chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/logs"
for n in a b c; do printf 'file %s\n' "$n" >"$tmp/www/$n.txt"; done
python3 -c 'import sys; sys.stdout.write("".join("line %06d of a text that compresses well\n" % i for i in range(4000)))' >"$tmp/www/text.txt"
python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(1<<20)))' >"$tmp/www/big.bin"
head -c 300000 "$tmp/www/big.bin" >"$tmp/www/mid.bin"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
error_log $tmp/logs/error.log;
pid $tmp/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    keepalive_timeout 30;
    gzip on; gzip_types text/plain; gzip_min_length 0;
    types { text/plain txt; application/octet-stream bin; }
    server {
        listen 127.0.0.1:8080; listen [::1]:8080;
        root $tmp/www;
    }
}
EOF
ip netns exec "$ns" nginx -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' &
pids+=($!)
ip netns exec "$ns" python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" 8000 >/dev/null 2>&1 &
pids+=($!)
# The same with keep-alive (HTTP/1.1): its heads and bodies go out in writes of their own.
ip netns exec "$ns" python3 -m http.server --protocol HTTP/1.1 --bind 127.0.0.1 --directory "$tmp/www" 8001 >/dev/null 2>&1 &
pids+=($!)

# An upload server (HTTP/1.1): answers "Expect: 100-continue" with 100 Continue before it reads
# the body, then 201 with the number of bytes it received.
cat >"$tmp/upload.py" <<'EOF'
import http.server
class Upload(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        got = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"%d bytes received\n" % len(got)
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", 8002), Upload).serve_forever()
EOF
ip netns exec "$ns" python3 "$tmp/upload.py" &
pids+=($!)

# A CONNECT proxy (the tunnel's bytes are relayed untouched).
cat >"$tmp/proxy.py" <<'EOF'
import socket, threading
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
def handle(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d: return
        head += d
    host, port = head.split(b" ")[1].decode().rsplit(":", 1)
    u = socket.create_connection((host, int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    t = threading.Thread(target=pipe, args=(u, c)); t.start()
    pipe(c, u); t.join(); c.close(); u.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 3128)); s.listen(8)
while True:
    c, _ = s.accept(); threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF
ip netns exec "$ns" python3 "$tmp/proxy.py" &
pids+=($!)

# A raw client: sends the given bytes in one write, reads until the server closes.
cat >"$tmp/raw.py" <<'EOF'
import socket, sys, time
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(data)
s.settimeout(3)
try:
    while s.recv(65536): pass
except socket.timeout: pass
s.close()
EOF

wait_port() {
    for _ in $(seq 1 50); do
        inns python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1)).close()" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "port $1 did not open" >&2
    exit 1
}
wait_port 8080; wait_port 8000; wait_port 8001; wait_port 8002; wait_port 3128

# capture NAME TOOL-ARGS... -- CLIENT-COMMAND...: runs the capture tool around the client.
capture() {
    local name=$1; shift
    local tool=()
    while [ "$1" != "--" ]; do tool+=("$1"); shift; done
    shift
    ip netns exec "$ns" "${tool[@]}" >"$tmp/cap.log" 2>&1 &
    local cap=$!
    for _ in $(seq 1 50); do grep -q -i "listening\|capturing" "$tmp/cap.log" && break; sleep 0.1; done
    sleep 0.3
    inns "$@" >/dev/null 2>&1 || true
    sleep 1
    kill -INT "$cap"; wait "$cap" || true
    echo "wrote $name"
}

td() { echo tcpdump --immediate-mode -B 65536 -U -i lo -w "$out/$1" "${@:2}" tcp; }

capture real-keepalive.pcap $(td real-keepalive.pcap) -- \
    curl -s http://127.0.0.1:8080/a.txt http://127.0.0.1:8080/b.txt http://127.0.0.1:8080/c.txt
printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /c.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$tmp/pipe.txt"
capture real-pipelining.pcap $(td real-pipelining.pcap) -- \
    sh -c "python3 $tmp/raw.py 8080 <$tmp/pipe.txt"
capture real-chunked-gzip.pcap $(td real-chunked-gzip.pcap) -- \
    curl -s --compressed http://127.0.0.1:8080/text.txt
capture real-large-body.pcap $(td real-large-body.pcap) -- \
    curl -s http://127.0.0.1:8080/big.bin
capture real-ipv6.pcap tcpdump --immediate-mode -U -i lo -w "$out/real-ipv6.pcap" ip6 and tcp -- \
    curl -s -g 'http://[::1]:8080/a.txt' 'http://[::1]:8080/missing'
capture real-sll.pcap tcpdump --immediate-mode -U -i any -y LINUX_SLL -w "$out/real-sll.pcap" tcp -- \
    curl -s http://127.0.0.1:8080/b.txt
capture real-sll2.pcap tcpdump --immediate-mode -U -i any -y LINUX_SLL2 -w "$out/real-sll2.pcap" tcp -- \
    curl -s -X POST --data-binary @"$tmp/www/c.txt" http://127.0.0.1:8000/c.txt
capture real-python.pcapng dumpcap -i lo -f tcp -w "$out/real-python.pcapng" -- \
    curl -s http://127.0.0.1:8000/a.txt http://127.0.0.1:8000/nothing-here
capture real-snaplen.pcap $(td real-snaplen.pcap -s 320) -- \
    curl -s http://127.0.0.1:8080/text.txt
# Snap lengths that cut the heads: at 100 bytes only the start lines are captured; at 200,
# nginx's Content-Length line is (python's is not). Three requests on one connection each.
capture real-snaplen-100.pcap $(td real-snaplen-100.pcap -s 100) -- \
    curl -s -o /dev/null -o /dev/null -o /dev/null \
    http://127.0.0.1:8001/a.txt http://127.0.0.1:8001/mid.bin http://127.0.0.1:8001/b.txt
capture real-snaplen-200.pcap $(td real-snaplen-200.pcap -s 200) -- \
    curl -s -o /dev/null -o /dev/null -o /dev/null \
    http://127.0.0.1:8080/a.txt http://127.0.0.1:8080/text.txt http://127.0.0.1:8080/b.txt
# Three requests pipelined in one write to python's HTTP/1.1 server, cut at 100 bytes: the
# first request's head is cut, the two after it are wholly in the bytes cut; the responses (heads
# and bodies in writes of their own) each start a segment.
printf 'GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nUser-Agent: pipeline\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nUser-Agent: pipeline\r\n\r\nGET /c.txt HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nConnection: close\r\n\r\n' >"$tmp/pipe3.txt"
capture real-snaplen-pipelined.pcap $(td real-snaplen-pipelined.pcap -s 100) -- \
    sh -c "python3 $tmp/raw.py 8001 <$tmp/pipe3.txt"
# An upload of 20,000 bytes with "Expect: 100-continue", cut at 90 bytes (24 bytes of each TCP
# payload): the request line is captured whole, the interim 100 Continue without its last byte,
# the final head after its status line.
head -c 20000 "$tmp/www/big.bin" >"$tmp/upload.bin"
capture real-snaplen-continue.pcap $(td real-snaplen-continue.pcap -s 90) -- \
    curl -s -o /dev/null -H 'Expect: 100-continue' --data-binary @"$tmp/upload.bin" \
    http://127.0.0.1:8002/upload
printf 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /y HTTP/1.1\nHost: x\n\n' >"$tmp/bad.txt"
capture real-malformed.pcap $(td real-malformed.pcap) -- \
    sh -c "python3 $tmp/raw.py 8080 <$tmp/bad.txt"
capture real-connect.pcap $(td real-connect.pcap) -- \
    curl -s -p -x http://127.0.0.1:3128 http://127.0.0.1:8080/a.txt
# The keep-alive capture without its first 7 packets (handshake and first request): the
# capture starts inside the connection.
editcap -F pcap -r "$out/real-keepalive.pcap" "$out/real-midstream.pcap" 8-1000
echo "wrote real-midstream.pcap"
chmod 644 "$out"/real-*
