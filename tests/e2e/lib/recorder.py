"""A TCP server that records the exact bytes each connection sends (not a test itself).

  recorder.py PORTFILE OUTDIR eof|http

Listens on 127.0.0.1 (a free port, written to PORTFILE), saves connection N's bytes to
OUTDIR/N.bin (N from 1) once the client closes its sending side (eof) or once a whole HTTP
request has arrived (http: head, then Content-Length bytes or a chunked body up to its last
chunk; for clients that wait for the answer), answers "204 No Content" and closes. Runs until
killed.
"""
import os
import socket
import sys


def request_done(data):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end].lower()
    body = data[end + 4:]
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length":
            return len(body) >= int(value.strip() or b"0")
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return body.endswith(b"0\r\n\r\n")
    return True


def main():
    portfile, outdir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    n = 0
    while True:
        conn, _ = srv.accept()
        conn.settimeout(5)
        n += 1
        data = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                if mode == "http" and request_done(data):
                    break
        except socket.timeout:
            pass
        with open(os.path.join(outdir, "%d.bin" % n), "wb") as f:
            f.write(data)
        try:
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        conn.close()


main()
