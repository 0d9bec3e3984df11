#!/usr/bin/env python3
"""Upstream servers for the proxy end-to-end tests, written on raw sockets so every byte is
under the test's control.

usage: upstream.py MODE PORTFILE [RECORD_DIR]
  MODE http   an HTTP/1.1 server with the routes below (keep-alive, chunked, faults)
  MODE echo   a TCP echo server (CONNECT target)
  MODE ws     a WebSocket echo server (says "hello from server" first)
The bound port (picked by the system) is written to PORTFILE. With RECORD_DIR, the http mode
writes every request exactly as received (head and body) to RECORD_DIR/req.N, and notes about
aborted uploads and ended connections to RECORD_DIR/events.

HTTP routes (by path prefix):
  /hello          200 "hello\\n"; X-Conn (connection number), X-Req (request number on it)
  /head           the request head exactly as received, as the body
  /upload         reads the body (Content-Length or chunked); answers "SIZE SHA256"
  /chunked?n=&s=  a chunked response of n chunks of s pattern bytes, with a trailer
  /bytes?n=       n pattern bytes with Content-Length
  /slow?ms=       waits, then 200
  /silent         never answers
  /reset          head (Content-Length 100000) and 1000 bytes, then a TCP reset
  /close-mid      the same, then a FIN
  /close-head     half a head, then a FIN
  /garbage        bytes that are not HTTP, then a FIN
  /nolength       HTTP/1.1 200 without a length: the body ends at the close
  /odd            an odd but legal response head (case, duplicates, spaces), body "abc"
  /stray          204 No Content followed, in the same write, by 5 bytes ("stray")
  /stray-late     204 No Content, then 0.3 s later 4 bytes ("late")
  /continue       sends 100 Continue before reading the body, then answers like /upload
  /early          answers 413 at once without reading the body, then closes
  /drop           closes the connection without answering
  /bighead        a response head of 100 KB
  /badchunk       a chunked response whose second chunk size is not hex, then 60 s of silence
"""
import base64
import hashlib
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

PATTERN = bytes(range(256)) * 256  # 64 KiB


def pattern(n):
    """n bytes of the repeating 0..255 pattern (the tests hash the same bytes)."""
    out = bytearray()
    while len(out) < n:
        out += PATTERN[: min(len(PATTERN), n - len(out))]
    return bytes(out)


class Payload:
    """The payload of a body: its size and SHA-256."""

    def __init__(self):
        self.size = 0
        self.h = hashlib.sha256()

    def update(self, b):
        self.size += len(b)
        self.h.update(b)

    def hexdigest(self):
        return self.h.hexdigest()


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise EOFError
            self.fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def read_exact(self, n, sink):
        while n > 0:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            n -= len(take)
            sink(take)

    def read_line(self, sink):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        sink(line)
        return line


def parse_head(head):
    lines = head.split(b"\r\n")
    method, target, _ = lines[0].split(b" ", 2)
    fields = []
    for l in lines[1:]:
        if b":" in l:
            k, v = l.split(b":", 1)
            fields.append((k.strip().lower(), v.strip()))
    return method.decode(), target.decode(), fields


def field(fields, name):
    for k, v in fields:
        if k == name:
            return v
    return None


class Handler(socketserver.BaseRequestHandler):
    conns = 0
    reqs = 0
    lock = threading.Lock()

    def setup(self):
        with Handler.lock:
            Handler.conns += 1
            self.conn_no = Handler.conns
        self.nreq = 0

    def record(self, data):
        rec = self.server.record
        if not rec:
            return
        with Handler.lock:
            Handler.reqs += 1
            n = Handler.reqs
        with open(os.path.join(rec, "req.%d" % n), "wb") as f:
            f.write(data)

    def event(self, text):
        rec = self.server.record
        if rec:
            with Handler.lock, open(os.path.join(rec, "events"), "a") as f:
                f.write(text + "\n")

    def read_body(self, c, fields, raw, h):
        """Reads the body as framed, feeding the payload to h and the wire bytes to raw."""
        te = field(fields, b"transfer-encoding")
        if te and b"chunked" in te.lower():
            while True:
                line = c.read_line(raw.append)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while c.read_line(raw.append) != b"\r\n":
                        pass
                    return True
                c.read_exact(size, lambda b: (raw.append(b), h.update(b)))
                c.read_line(raw.append)
        n = int(field(fields, b"content-length") or b"0")
        c.read_exact(n, lambda b: (raw.append(b), h.update(b)))
        return False

    def send(self, status, body, extra=b"", close=False):
        head = b"HTTP/1.1 %s\r\nContent-Length: %d\r\nX-Conn: %d\r\nX-Req: %d\r\n" % (
            status, len(body), self.conn_no, self.nreq)
        if close:
            head += b"Connection: close\r\n"
        self.request.sendall(head + extra + b"\r\n" + body)

    def handle(self):
        c = Conn(self.request)
        try:
            while self.serve_one(c):
                pass
        except (EOFError, ConnectionError, OSError):
            pass
        self.event("closed connection %d after %d requests" % (self.conn_no, self.nreq))

    def serve_one(self, c):
        head = c.read_head()
        self.nreq += 1
        method, target, fields = parse_head(head)
        url = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        raw = [head]
        h = Payload()
        if path.startswith("/early"):
            self.send(b"413 Payload Too Large", b"too large\n", close=True)
            time.sleep(0.2)
            return False
        if path.startswith("/continue"):
            self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            chunked = self.read_body(c, fields, raw, h)
        except (EOFError, ConnectionError):
            got = sum(len(x) for x in raw) - len(head)
            self.event("aborted %s after %d body bytes" % (path, got))
            raise
        self.record(b"".join(raw))
        close = (field(fields, b"connection") or b"").lower() == b"close"
        size = h.size
        if path.startswith("/hello"):
            self.send(b"200 OK", b"hello\n", close=close)
        elif path.startswith("/head"):
            self.send(b"200 OK", head, close=close)
        elif path.startswith("/upload") or path.startswith("/continue"):
            payload_note = b"chunked" if chunked else b"length"
            self.send(b"200 OK", b"%d %s %s\n" % (size, h.hexdigest().encode(), payload_note),
                      close=close)
        elif path.startswith("/chunked"):
            n, s = int(q.get("n", "3")), int(q.get("s", "10"))
            out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Conn: %d\r\n\r\n"
                   % self.conn_no]
            data = pattern(n * s)
            for i in range(n):
                out.append(b"%x\r\n%s\r\n" % (s, data[i * s:(i + 1) * s]))
            out.append(b"0\r\nX-Trailer: yes\r\n\r\n")
            self.request.sendall(b"".join(out))
        elif path.startswith("/bytes"):
            n = int(q.get("n", "1000"))
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            sent = 0
            while sent < n:
                k = min(len(PATTERN), n - sent)
                self.request.sendall(PATTERN[:k])
                sent += k
        elif path.startswith("/slow"):
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
            self.send(b"200 OK", b"slow\n", close=close)
        elif path.startswith("/badchunk"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"5\r\nhello\r\nzz\r\nmore")
            time.sleep(60)
            return False
        elif path.startswith("/bighead"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 100000 +
                                 b"\r\nContent-Length: 0\r\n\r\n")
        elif path.startswith("/drop"):
            return False
        elif path.startswith("/silent"):
            time.sleep(60)
            return False
        elif path.startswith("/reset") or path.startswith("/close-mid"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + pattern(1000))
            time.sleep(0.2)
            if path.startswith("/reset"):
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
            self.request.close()
            return False
        elif path.startswith("/close-head"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-")
            time.sleep(0.1)
            return False
        elif path.startswith("/garbage"):
            self.request.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02")
            time.sleep(0.1)
            return False
        elif path.startswith("/nolength"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" +
                                 pattern(5000))
            return False
        elif path.startswith("/stray-late"):
            self.request.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            time.sleep(0.3)
            self.request.sendall(b"late")
        elif path.startswith("/stray"):
            self.request.sendall(b"HTTP/1.1 204 No Content\r\n\r\nstray")
        elif path.startswith("/odd"):
            self.request.sendall(b"HTTP/1.1 200 Fine Thanks\r\nx-lower: a\r\nX-Dup: 1\r\n"
                                 b"X-Dup: 2\r\nX-Space:    spaced   \r\nX-Empty:\r\n"
                                 b"Content-Length: 3\r\n\r\nabc")
        else:
            self.send(b"404 Not Found", b"no route\n", close=close)
        return not close


def serve_echo(sock):
    def one(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.close()

    while True:
        c, _ = sock.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_frame(payload, opcode=1, mask=None):
    b0 = 0x80 | opcode
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + payload
    return head + payload


def ws_read(c):
    """Reads one frame from Conn c; returns (opcode, payload)."""
    while len(c.buf) < 2:
        c.fill()
    b0, b1 = c.buf[0], c.buf[1]
    n = b1 & 0x7F
    off = 2
    if n == 126:
        while len(c.buf) < 4:
            c.fill()
        n = struct.unpack("!H", c.buf[2:4])[0]
        off = 4
    elif n == 127:
        while len(c.buf) < 10:
            c.fill()
        n = struct.unpack("!Q", c.buf[2:10])[0]
        off = 10
    mask = None
    if b1 & 0x80:
        while len(c.buf) < off + 4:
            c.fill()
        mask = c.buf[off:off + 4]
        off += 4
    while len(c.buf) < off + n:
        c.fill()
    payload = c.buf[off:off + n]
    c.buf = c.buf[off + n:]
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return b0 & 0x0F, payload


def serve_ws(sock):
    def one(s):
        c = Conn(s)
        try:
            head = c.read_head()
            _, _, fields = parse_head(head)
            key = field(fields, b"sec-websocket-key")
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
            s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            s.sendall(ws_frame(b"hello from server"))
            while True:
                op, payload = ws_read(c)
                if op == 8:
                    s.sendall(ws_frame(payload, 8))
                    break
                s.sendall(ws_frame(b"echo: " + payload, op))
        except (EOFError, OSError):
            pass
        s.close()

    while True:
        c, _ = sock.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    record = sys.argv[3] if len(sys.argv) > 3 else None
    if mode == "http":
        srv = Server(("127.0.0.1", 0), Handler)
        srv.record = record
        port = srv.server_address[1]
        run = srv.serve_forever
    else:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        run = (lambda: serve_echo(sock)) if mode == "echo" else (lambda: serve_ws(sock))
    with open(portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(portfile + ".tmp", portfile)
    run()


if __name__ == "__main__":
    main()
