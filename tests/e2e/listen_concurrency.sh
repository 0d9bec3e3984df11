#!/usr/bin/env bash
# Many clients at once (python threads, keep-alive connections, pipelined and not): every one
# gets its own echo back, and every exchange is recorded once.
. "$(dirname "$0")/lib/listen.sh"
need python3
listen_setup

listen_start --json
python3 - "$PORT" >"$T/result" <<'PY'
import http.client, socket, sys, threading
port = int(sys.argv[1])
errors = []
THREADS, REQUESTS = 40, 25

def keepalive(n):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(REQUESTS):
            body = ("thread %d request %d " % (n, i)) * (i + 1)
            c.request("POST", "/t%d/r%d" % (n, i), body=body)
            r = r_ = c.getresponse()
            data = r.read().decode()
            if r.status != 200 or not data.startswith("POST /t%d/r%d " % (n, i)) or not data.endswith(body):
                errors.append((n, i, r.status))
        c.close()
    except Exception as e:
        errors.append((n, repr(e)))

def pipelined(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        reqs = b"".join(b"GET /p%d/%d HTTP/1.1\r\nHost: x\r\n\r\n" % (n, i) for i in range(REQUESTS))
        s.sendall(reqs + b"GET /p%d/end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        got = [l.split()[1].decode() for l in data.split(b"\r\n") if l.startswith(b"GET /p")]
        if got != ["/p%d/%d" % (n, i) for i in range(REQUESTS)] + ["/p%d/end" % n]:
            errors.append((n, "order", got[:3]))
    except Exception as e:
        errors.append((n, repr(e)))

ts = [threading.Thread(target=keepalive, args=(n,)) for n in range(THREADS)]
ts += [threading.Thread(target=pipelined, args=(n,)) for n in range(THREADS // 4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(errors), errors[:5])
PY
read -r nerr rest <"$T/result"
check "every client got its own echo ($nerr errors $rest)" test "$nerr" = 0
listen_stop
check "every exchange recorded once" test "$(pyq "$LISTEN_OUT" 'len(set(e["request"]["target"] for e in ex)) == len(ex) == 40*25 + 10*26')" = True
check "all complete" test "$(pyq "$LISTEN_OUT" 'all("incomplete" not in e["flags"] for e in ex)')" = True
finish
