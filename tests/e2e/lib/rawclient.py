#!/usr/bin/env python3
"""Raw TCP client for the e2e tests: sends bytes exactly as given and prints what came back.

usage: rawclient.py PORT [--send ESCAPED]... [--pause SECONDS]... [--half-close]
                         [--timeout SECONDS] [--host HOST] [--ready FILE]
Steps run in order; --ready creates FILE once they have. ESCAPED is a Python bytes literal body (\\r\\n, \\x00 ...). The reply is
written to stdout as raw bytes; the exit status is 0, or 3 when the connection was reset.
"""
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    host = "127.0.0.1"
    timeout = 5.0
    steps = []
    while args:
        a = args.pop(0)
        if a == "--send":
            steps.append(("send", eval("b'''" + args.pop(0).replace("'", "\\'") + "'''")))
        elif a == "--pause":
            steps.append(("pause", float(args.pop(0))))
        elif a == "--half-close":
            steps.append(("shut", None))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--host":
            host = args.pop(0)
        elif a == "--ready":
            steps.append(("ready", args.pop(0)))
        else:
            raise SystemExit("unknown argument " + a)
    s = socket.create_connection((host, port))
    s.settimeout(timeout)
    for kind, val in steps:
        if kind == "send":
            s.sendall(val)
        elif kind == "pause":
            time.sleep(val)
        elif kind == "ready":
            open(val, "w").close()
        else:
            s.shutdown(socket.SHUT_WR)
    out = b""
    status = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except ConnectionResetError:
        status = 3
    except socket.timeout:
        status = 4
    sys.stdout.buffer.write(out)
    return status


sys.exit(main())
