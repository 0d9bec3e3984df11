#!/usr/bin/env python3
"""Many varied exchanges through a proxy to lib/upstream.py, each checked end to end.

usage: varied.py PROXYPORT COUNT SEED
Uploads (Content-Length or chunked with random chunk sizes, 0 to 200 KB), downloads with a
length or chunked, on keep-alive connections that sometimes pipeline up to three requests and
sometimes end with Connection: close. Every body is verified by SHA-256 at the other end.
Prints "exchanges=N ok=N bad=N" and one line per failure.
"""
import hashlib
import random
import socket
import sys

PATTERN = bytes(range(256)) * 256


def pattern(n):
    out = bytearray()
    while len(out) < n:
        out += PATTERN[: min(len(PATTERN), n - len(out))]
    return bytes(out)


class Reader:
    def __init__(self, s):
        self.s = s
        self.buf = b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """Reads one response; returns (status, body)."""
        status = int(self.line().split(b" ")[1])
        fields = {}
        while True:
            l = self.line()
            if l == b"\r\n":
                break
            k, v = l.split(b":", 1)
            fields[k.strip().lower()] = v.strip()
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line() != b"\r\n":
                        pass
                    return status, body
                body += self.exact(size)
                self.line()
        return status, self.exact(int(fields.get(b"content-length", b"0")))


def request(rng, close):
    """One random request: (bytes, check function on (status, body))."""
    conn = b"Connection: close\r\n" if close else b""
    kind = rng.random()
    if kind < 0.5:
        size = rng.choice([0, 1, 100, 5000, 65536, rng.randrange(200000)])
        body = rng.randbytes(size)
        want = b"%d %s " % (size, hashlib.sha256(body).hexdigest().encode())
        if rng.random() < 0.5:
            head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" % (size, conn)
            wire = head + body
            want += b"length\n"
        else:
            head = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n" % conn
            parts, i = [], 0
            while i < size:
                k = rng.randrange(1, 30000)
                parts.append(b"%x\r\n%s\r\n" % (len(body[i:i + k]), body[i:i + k]))
                i += k
            wire = head + b"".join(parts) + b"0\r\n\r\n"
            want += b"chunked\n"
        return wire, lambda st, b: st == 200 and b == want
    if kind < 0.75:
        n = rng.choice([0, 10, 70000, rng.randrange(300000)])
        want = hashlib.sha256(pattern(n)).digest()
        wire = b"GET /bytes?n=%d HTTP/1.1\r\nHost: x\r\n%s\r\n" % (n, conn)
        return wire, lambda st, b: st == 200 and hashlib.sha256(b).digest() == want
    n, s = rng.randrange(1, 40), rng.randrange(1, 5000)
    want = hashlib.sha256(pattern(n * s)).digest()
    wire = b"GET /chunked?n=%d&s=%d HTTP/1.1\r\nHost: x\r\n%s\r\n" % (n, s, conn)
    return wire, lambda st, b: st == 200 and hashlib.sha256(b).digest() == want


def main():
    port, count, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    done = ok = 0
    bad = []
    while done < count:
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(10)
        r = Reader(s)
        closing = False
        while not closing and done < count:
            depth = rng.choice([1, 1, 1, 2, 3])
            batch = []
            for _ in range(min(depth, count - done)):
                closing = rng.random() < 0.1
                batch.append(request(rng, closing))
                if closing:
                    break
            s.sendall(b"".join(w for w, _ in batch))
            for w, check in batch:
                done += 1
                try:
                    st, body = r.response()
                    if check(st, body):
                        ok += 1
                    else:
                        bad.append("%s -> %d, %d bytes" % (w.split(b"\r\n")[0].decode(), st, len(body)))
                except (EOFError, OSError) as e:
                    bad.append("%s -> %r" % (w.split(b"\r\n")[0].decode(), e))
                    closing = True
                    break
        s.close()
    print("exchanges=%d ok=%d bad=%d" % (done, ok, len(bad)))
    for b in bad[:20]:
        print(b)


main()
