#!/usr/bin/env python3
"""Tunnel clients for the proxy end-to-end tests.

usage: tunnelclient.py connect PROXYPORT TARGET_HOST:PORT NBYTES
         CONNECT through the proxy, send NBYTES random bytes, half-close, read the echo to EOF;
         prints "status=N sent=N got=N same=yes|no"
       tunnelclient.py ws PROXYPORT UPSTREAM_HOST:PORT [absolute]
         WebSocket handshake through the proxy (origin-form, or absolute-form when asked; Host
         of the upstream), read the
         server's greeting, send frames of 5, 200 and 70000 bytes, read each echo, close;
         prints "status=N greeting=... echoes=N/3 close=yes|no"
"""
import base64
import hashlib
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upstream import Conn, WS_GUID, ws_frame, ws_read  # noqa: E402


def status_of(head):
    return int(head.split(b" ", 2)[1])


def connect(port, target, n):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    c = Conn(s)
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode()))
    head = c.read_head()
    st = status_of(head)
    if st != 200:
        print("status=%d sent=0 got=0 same=no" % st)
        return
    data = os.urandom(n)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = c.buf
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except OSError:
        pass
    print("status=%d sent=%d got=%d same=%s" % (st, n, len(got), "yes" if got == data else "no"))


def ws(port, upstream, absolute):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    c = Conn(s)
    key = base64.b64encode(os.urandom(16))
    target = ("http://" + upstream + "/chat" if absolute else "/chat").encode()
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
              % (target, upstream.encode(), key))
    head = c.read_head()
    st = status_of(head)
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    if st != 101 or accept not in head:
        print("status=%d greeting= echoes=0/3 close=no" % st)
        return
    _, greeting = ws_read(c)
    ok = 0
    for size in (5, 200, 70000):
        payload = os.urandom(size // 2).hex()[:size].encode()
        s.sendall(ws_frame(payload, 1, os.urandom(4)))
        op, back = ws_read(c)
        ok += op == 1 and back == b"echo: " + payload
    s.sendall(ws_frame(b"\x03\xe8bye", 8, os.urandom(4)))
    op, _ = ws_read(c)
    print("status=%d greeting=%s echoes=%d/3 close=%s"
          % (st, greeting.decode().replace(" ", "_"), ok, "yes" if op == 8 else "no"))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "connect":
        connect(port, sys.argv[3], int(sys.argv[4]))
    else:
        ws(port, sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "absolute")


main()
