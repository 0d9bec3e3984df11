#!/usr/bin/env python3
"""Clients for the e2e test of how hspy closes a connection it refuses at --max-conns.

usage: refusal.py PID PORT CHECK
  PID is hspy's process (stopped with SIGSTOP around a connect, so that what the client sends
  is there when hspy accepts the connection), PORT its address. First one connection is opened
  and served (a GET answered), filling --max-conns 1; it stays open. Then CHECK:

  unread N    connects and sends a request with N more bytes before hspy accepts, then reads:
              prints "fin" or "reset" or "timeout", the status line, and "whole" when the body
              came to its Content-Length
  late N      connects, lets hspy refuse it first, then sends a request and N bytes; prints
              the same
  flood N     sends up to N bytes without reading, from before the accept: prints "cut" and
              how many went before the send failed, or "took" N when nothing stopped it
  idle K      K refused connections that send a few bytes and never close; prints how many saw
              a whole 503 and a FIN, K, how many more descriptors hspy held then, and how many
              after waiting up to 15 s for them to go
"""
import os
import signal
import socket
import sys
import time

BOUND = 15.0  # seconds any wait may take, so that a wrong hspy fails instead of hanging


def connect_stopped(pid, port, first=b""):
    """A connection made (and `first` sent) while hspy does not run."""
    os.kill(pid, signal.SIGSTOP)
    try:
        s = socket.create_connection(("127.0.0.1", port))
        if first:
            s.sendall(first)
    finally:
        os.kill(pid, signal.SIGCONT)
    s.settimeout(BOUND)
    return s


def read_all(s):
    """Everything until the end of the connection, and how it ended."""
    data, how = b"", "fin"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    return data, how


def describe(data, how):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = [int(l.split(b":")[1]) for l in lines if l.lower().startswith(b"content-length:")]
    whole = "whole" if length and len(body) == length[0] else "cut"
    return "%s %s %s" % (how, lines[0].decode("latin-1"), whole)


def request(n):
    return b"POST /refused HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % n + b"a" * n


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main():
    pid, port, check, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    for _ in range(100):  # the slot a run before this one held may take a moment to free
        held = socket.create_connection(("127.0.0.1", port))
        held.settimeout(BOUND)
        held.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        if not held.recv(65536).startswith(b"HTTP/1.1 503"):
            break  # answered: the one slot is taken
        held.close()
        time.sleep(0.05)
    if check == "unread":
        print(describe(*read_all(connect_stopped(pid, port, request(n)))))
    elif check == "late":
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(BOUND)
        s.recv(1, socket.MSG_PEEK)  # the refusal has come: hspy has accepted and answered
        try:
            s.sendall(request(n))
        except OSError:
            pass
        print(describe(*read_all(s)))
    elif check == "flood":
        s = connect_stopped(pid, port, request(0))
        sent, piece = 0, b"f" * 16384
        try:
            while sent < n:
                sent += s.send(piece)
            print("took", sent)
        except (ConnectionResetError, BrokenPipeError):
            print("cut", sent)
        except socket.timeout:
            print("stalled", sent)
    elif check == "idle":
        before = fds(pid)
        conns = [connect_stopped(pid, port, b"GET /") for _ in range(n)]
        ends = [describe(*read_all(s)) for s in conns]
        fin = sum(e.startswith("fin HTTP/1.1 503") and e.endswith("whole") for e in ends)
        during = fds(pid) - before
        deadline = time.time() + BOUND
        while fds(pid) > before and time.time() < deadline:
            time.sleep(0.05)
        print(fin, n, during, fds(pid) - before)


main()
