#!/usr/bin/env python3
"""stress.py: the clients, servers and checks the stress scenarios drive hspy with.

Every subcommand prints one JSON object on its last line of standard output (what it sent,
what came back, what went wrong), so the scenario scripts can report and judge it. Only the
standard library is used.

    stress.py send PORT FILE...             each file on its own connection (and its client
                                            port); what came back
    stress.py expect EXPECTED COLUMN JSONL sent|conn|port FILE...
                                            a mode's warnings per input against the table
    stress.py pcap OUT FILE...              a capture with one connection per file (read mode)
    stress.py large DIR                     the big hostile inputs (1 MB line, 100,000 fields)
    stress.py garden TROPHIES OUT_DIR       payloads quoted in the HTTP Garden's bug list
    stress.py termcheck FILE...             rendered text holds no terminal control
    stress.py slowloris PORT N SECONDS      N clients sending one head byte every few seconds
    stress.py idle PORT N SECONDS           N idle connections: accepted or refused, and how
    stress.py pipeline PORT CONNS REQS      pipelined requests, answers checked in order
    stress.py flood PORT SECONDS            pipelined requests from a client that never reads
    stress.py upload PORT SIZE              an upload through the echo, bytes counted back
    stress.py download URL_PATH PORT SIZE   a download of SIZE zero bytes, counted
    stress.py origin PORT_FILE              an upstream with chosen faults and varied answers
    stress.py mixed PORT N SEED             varied exchanges through a proxy, hash-checked
    stress.py abort PORT KIND               a client that gives up mid-upload/mid-download
    stress.py sample PID SECONDS OUT        /proc figures every few seconds (soak)
"""
import asyncio
import hashlib
import json
import os
import random
import re
import socket
import struct
import sys
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "captures", "gen"))


def result(**kw):
    print(json.dumps(kw, sort_keys=True))
    sys.stdout.flush()


def status_of(reply):
    """The status code of the first final response in reply (skipping 1xx), or None."""
    for m in re.finditer(rb"HTTP/1\.[01] (\d{3})", reply):
        code = int(m.group(1))
        if code >= 200:
            return code
    return None


# --- hostile inputs ---------------------------------------------------------------------------


def cmd_send(args):
    """Sends each file on a fresh connection (in pieces of a random size when --pieces), shuts
    the write side and reads until the server closes. Response-side files (resp-*) are not sent
    here: they are answers, served by the scenario through --raw or the origin."""
    port = int(args[0])
    out = []
    for path in args[1:]:
        data = open(path, "rb").read()
        t0 = time.time()
        back, err, local = b"", None, None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            local = s.getsockname()[1]
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:  # the server may answer and close before taking everything
                err = "send: " + e.__class__.__name__
            while True:
                d = s.recv(1 << 16)
                if not d:
                    break
                back += d
            s.close()
        except OSError as e:
            err = (err + "; " if err else "") + "recv: " + e.__class__.__name__
        out.append({"file": os.path.basename(path), "port": local, "sent": len(data),
                    "back": len(back),
                    "status": status_of(back), "error": err,
                    "seconds": round(time.time() - t0, 3)})
    for o in out:
        print(json.dumps(o))
    hung = [o["file"] for o in out if o["error"] and "timeout" in o["error"]]
    result(inputs=len(out), sent=sum(o["sent"] for o in out), back=sum(o["back"] for o in out),
           statuses=sorted(set(str(o["status"]) for o in out)), hung=hung)


def cmd_pcap(args):
    """One connection per file: request files are the client's bytes (the server answers
    nothing), response files answer a plain GET. Ports 20000+i name the files in order."""
    import pcapgen
    w = pcapgen.Writer(args[0])
    clock = [1_800_000_000_000_000_000]
    names = []
    for i, path in enumerate(args[1:]):
        data = open(path, "rb").read()
        c = pcapgen.Conn(w, clock, "10.9.0.1", "10.9.0.2", 20000 + i, 80)
        c.handshake()
        if os.path.basename(path).startswith("resp-"):
            c.send(0, b"GET /r HTTP/1.1\r\nHost: h\r\n\r\n")
            c.send(1, data)
        else:
            c.send(0, data)
        c.close()
        names.append(os.path.basename(path))
    w.close()
    result(connections=len(names), files=names)


LARGE = {
    # one 1 MiB header line
    "large-line-1m": lambda: b"GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * (1 << 20)
    + b"\r\n\r\n",
    # 100,000 header fields
    "large-fields-100k": lambda: b"GET /many HTTP/1.1\r\nHost: h\r\n"
    + b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(100000)) + b"\r\n",
    # 100,000 Content-Length fields that disagree
    "large-cl-100k": lambda: b"POST /cl HTTP/1.1\r\nHost: h\r\n"
    + b"".join(b"Content-Length: %d\r\n" % (i % 7) for i in range(100000)) + b"\r\n",
    # 100,000 obs-fold continuation lines
    "large-fold-100k": lambda: b"GET /fold HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n"
    + b" b\r\n" * 100000 + b"\r\n",
    # a chunked body of 100,000 one-byte chunks with escape sequences in their extensions
    "large-chunks-100k": lambda: b"POST /chunks HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
    b"chunked\r\n\r\n" + b"1;x=\x1b[2J\r\nz\r\n" * 100000 + b"0\r\n\r\n",
    # 1 MiB of NUL bytes and escape sequences where the request line should be
    "large-binary": lambda: (b"\x00\x1b[2J\xff\x9b" * (1 << 18)),
}


def cmd_large(args):
    os.makedirs(args[0], exist_ok=True)
    sizes = {}
    for name, make in LARGE.items():
        data = make()
        open(os.path.join(args[0], name + ".http"), "wb").write(data)
        sizes[name] = len(data)
    result(files=sizes)


def unescape(s):
    """The payload notation of the HTTP Garden's list: Python-style \\r \\n \\t \\xNN escapes."""
    out = bytearray()
    i = 0
    simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92, "'": 39, '"': 34, "v": 11, "f": 12}
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "x" and i + 3 < len(s) + 1:
                try:
                    out.append(int(s[i + 2:i + 4], 16))
                    i += 4
                    continue
                except ValueError:
                    pass
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
        out += ch.encode("utf-8")
        i += 1
    return bytes(out)


def cmd_garden(args):
    text = open(args[0], encoding="utf-8").read()
    os.makedirs(args[1], exist_ok=True)
    n = 0
    for m in re.finditer(r"Payload: `([^`]+)`", text):
        data = unescape(m.group(1))
        n += 1
        kind = "resp" if data.startswith(b"HTTP/") else "req"
        open(os.path.join(args[1], "%s-garden-%02d.http" % (kind, n)), "wb").write(data)
    result(payloads=n)


def read_expected(path):
    """The table of tests/hostile/EXPECTED: {file: {column: set of codes or None}}."""
    table, columns = {}, None
    for line in open(path, encoding="utf-8"):
        words = line.split()
        if not words:
            continue
        if words[0] == "#" and columns is None and len(words) > 2 and words[1] == "file":
            columns = words[2:]
            continue
        if words[0].startswith("#"):
            continue
        row = {}
        for col, val in zip(columns, words[1:]):
            if val == "=":
                val = words[1]
            row[col] = None if val == "?" else set() if val == "-" else set(val.split(","))
        table[words[0]] = row
    return table


def codes_by_input(jsonl, index, names):
    """Warning codes of a mode's JSON lines, per input file: index(exchange) is the input's
    place in names, or None."""
    got = {}
    for line in open(jsonl, encoding="utf-8"):
        if not line.strip():
            continue
        e = json.loads(line)
        i = index(e)
        if i is not None and 0 <= i < len(names):
            got.setdefault(names[i], set()).update(w["code"] for w in e["warnings"])
    return got


def sent_index(jsonl, results):
    """The inputs of `send` result files, in order (a GET made to fetch a response file,
    get-NAME, stands for NAME), and a function giving an exchange of jsonl the place of its
    input: its connection is the first one, in accept order after the previous input's, that
    came from the client port the input was sent from. A connection from elsewhere is skipped,
    and a port the system hands out again later (it does, within a few hundred connections)
    cannot match an earlier input."""
    names, ports = [], []
    for path in results:
        for line in open(path, encoding="utf-8"):
            o = json.loads(line)
            if "file" in o:
                names.append(o["file"][4:] if o["file"].startswith("get-") else o["file"])
                ports.append(o.get("port"))
    conns = {}
    for line in open(jsonl, encoding="utf-8"):
        if line.strip():
            e = json.loads(line)
            conns[e["connection"]] = e["client"]["port"]
    order, place, at = sorted(conns), {}, 0
    for i, port in enumerate(ports):
        j = at
        while j < len(order) and conns[order[j]] != port:
            j += 1
        if port is not None and j < len(order):
            place[order[j]] = i
            at = j + 1
    return names, lambda e: place.get(e["connection"])


def cmd_expect(args):
    """EXPECTED COLUMN JSONL KEY FILE...: compares a mode's warnings per input with the table.
    KEY says how exchanges are matched to inputs: "sent" (FILE... are `send` results: by the
    client port each input was sent from, see sent_index, so that another connection to the
    server cannot shift them), "conn" (by connection number, 1 = first FILE) or "port"
    (captures: by client port, 20000 + i). Inputs the table does not list are only counted."""
    table = read_expected(args[0])
    col, jsonl, key, files = args[1], args[2], args[3], args[4:]
    if key == "sent":
        names, index = sent_index(jsonl, files)
        got = codes_by_input(jsonl, index, names)
    else:
        names = [os.path.basename(f) for f in files]
        got = codes_by_input(jsonl, (lambda e: e["connection"] - 1) if key == "conn" else
                             (lambda e: e["client"]["port"] - 20000), names)
    wrong, checked = {}, 0
    for n in names:
        want = table.get(n, {}).get(col)
        if want is None:
            continue
        checked += 1
        have = got.get(n, set())
        if have != want:
            wrong[n] = {"expected": sorted(want), "got": sorted(have)}
    result(inputs=len(names), checked=checked, exchanges_seen=len(got), wrong=wrong)


def lint_one(hspy, path):
    """Runs `hspy lint` and `hspy lint --json` on one file: (problem or None, warning codes of
    the JSON run, bytes of text, slowest run in seconds)."""
    import subprocess
    name = os.path.basename(path)
    mode = ["--response"] if name.startswith("resp-") else ["--request"]
    problem, codes, text_bytes, slowest = None, set(), 0, 0.0
    for fmt in ([], ["--json"]):
        t0 = time.time()
        try:
            p = subprocess.run([hspy, "lint"] + fmt + mode + [path], capture_output=True,
                               timeout=120)
        except subprocess.TimeoutExpired:
            problem = "lint %s did not end in 120 s" % " ".join(fmt)
            continue
        slowest = max(slowest, time.time() - t0)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode not in (0, 3) or re.search("Sanitizer|runtime error:", err):
            problem = "lint %s: exit %d %s" % (" ".join(fmt), p.returncode, err[-300:])
        if fmt:
            for line in p.stdout.splitlines():
                codes.update(w["code"] for w in json.loads(line)["warnings"])
        else:
            text_bytes += len(p.stdout)
            b = bad_in_text(p.stdout) or bad_in_text(p.stderr)
            if b:
                problem = "text output: %s at %d" % b
    return problem, codes, text_bytes, slowest


def cmd_lint(args):
    """EXPECTED FILE...: runs `hspy lint` and `hspy lint --json` on every file (the binary from
    $HSPY; one file per processor at a time); checks exit status 0 or 3, a bounded run time,
    no sanitizer report, text without terminal controls, and the table's lint column."""
    from concurrent.futures import ThreadPoolExecutor
    hspy = os.environ["HSPY"]
    table = read_expected(args[0])
    files = args[1:]
    problems, wrong, checked, text_bytes, slowest = {}, {}, 0, 0, (0, None)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = list(pool.map(lambda f: lint_one(hspy, f), files))
    for path, (problem, codes, nbytes, took) in zip(files, runs):
        name = os.path.basename(path)
        if problem:
            problems[name] = problem
        text_bytes += nbytes
        slowest = max(slowest, (took, name))
        want = table.get(name, {}).get("lint")
        if want is not None:
            checked += 1
            if codes != want:
                wrong[name] = {"expected": sorted(want), "got": sorted(codes)}
    result(inputs=len(files), checked=checked, text_bytes=text_bytes, wrong=wrong,
           problems=problems, slowest_seconds=round(slowest[0], 2), slowest=slowest[1])


# --- rendered text ----------------------------------------------------------------------------


def bad_in_text(data):
    """Where text meant for a terminal would let it obey the bytes: the first offending offset
    and why, or None. Allowed: valid UTF-8 without controls other than LF and TAB, and without
    the invisible format characters that reorder or hide text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start, "invalid UTF-8"
    m = re.search("[\x00-\x08\x0b-\x1f\x7f]", text)
    if m:
        return m.start(), "control U+%04X" % ord(m.group())
    for m in re.finditer("[^\x00-\x7f]", text):
        i, ch = m.start(), m.group()
        cat = unicodedata.category(ch)
        if cat == "Cc" or cat in ("Zl", "Zp") or (cat == "Cf" and ch not in "\u00ad"):
            return i, "control U+%04X" % ord(ch)
    return None


def cmd_termcheck(args):
    bad = {}
    total = 0
    for path in args:
        data = open(path, "rb").read()
        total += len(data)
        b = bad_in_text(data)
        if b:
            off, why = b
            bad[path] = "%s at %d: %r" % (why, off, data[max(0, off - 20):off + 20])
    result(files=len(args), bytes=total, bad=bad)


# --- load -------------------------------------------------------------------------------------


async def open_conn(port, timeout=10):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)


def slowloris(port, n, seconds, interval):
    """n clients each trickling a never-ending head, one byte every `interval` seconds; when the
    server ends one (408 at its head timeout), it reconnects, as a real attacker would. Plain
    non-blocking sockets, one epoll and a heap of due sends: the clients must cost next to
    nothing, or a throughput measured beside them measures them rather than the server."""
    import heapq
    import select
    stats = {"connections": 0, "bytes_sent": 0, "408": 0, "503": 0, "other_status": 0,
             "closed_silently": 0, "connect_errors": 0, "reset": 0}
    head = b"GET /slow HTTP/1.1\r\nHost: slow\r\nX-Trickle: " + b"a" * 10000
    stop = time.time() + seconds
    ep = select.epoll()
    sock = [None] * n      # client k's connection, or None while it is to (re)connect
    pos = [0] * n          # next byte of the head client k sends
    gen = [0] * n          # bumped when client k's connection ends: older due entries are void
    by_fd = {}
    due = [(time.time() + interval * k / n, k, 0) for k in range(n)]  # spread over the interval
    heapq.heapify(due)

    def end(k, reply, reset):
        s = sock[k]
        ep.unregister(s.fileno())
        del by_fd[s.fileno()]
        s.close()
        sock[k] = None
        gen[k] += 1
        if reset:
            stats["reset"] += 1
        else:
            code = status_of(reply)
            if code in (408, 503):
                stats[str(code)] += 1
            elif code:
                stats["other_status"] += 1
            elif time.time() < stop:
                stats["closed_silently"] += 1
        heapq.heappush(due, (time.time(), k, gen[k]))  # reconnect at once

    def act(k):
        if sock[k] is None:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                stats["connect_errors"] += 1
                heapq.heappush(due, (time.time() + 0.5, k, gen[k]))
                return
            s.setblocking(False)
            sock[k], pos[k] = s, 0
            by_fd[s.fileno()] = k
            ep.register(s.fileno(), select.EPOLLIN)
            stats["connections"] += 1
        try:
            sock[k].send(head[pos[k]:pos[k] + 1])
        except (ConnectionResetError, BrokenPipeError):
            end(k, b"", True)
            return
        stats["bytes_sent"] += 1
        pos[k] = (pos[k] + 1) % len(head)
        heapq.heappush(due, (time.time() + interval, k, gen[k]))

    while True:
        now = time.time()
        if now >= stop:
            break
        wait = min(due[0][0] - now if due else 1.0, stop - now)
        for fd, _ in ep.poll(max(wait, 0)):
            k = by_fd.get(fd)
            if k is None:
                continue
            try:
                reply = sock[k].recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                end(k, b"", True)
                continue
            end(k, reply, False)  # the server answered or closed
        now = time.time()
        while due and due[0][0] <= now and now < stop:
            _, k, g = heapq.heappop(due)
            if g == gen[k]:
                act(k)
    for s in sock:
        if s is not None:
            s.close()
    ep.close()
    return stats


def cmd_slowloris(args):
    port, n, seconds = int(args[0]), int(args[1]), float(args[2])
    interval = float(args[3]) if len(args) > 3 else 2.0
    stats = slowloris(port, n, seconds, interval)
    result(clients=n, interval=interval, **stats)


IDLE_SETTLE_MAX_S = 60


def accept_queue(port):
    """Connections waiting in the accept queue of the socket listening on 127.0.0.1 or ::1
    PORT (for a listening socket, the receive queue of /proc/net/tcp); 0 when none listens."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(name).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                return int(f[4].split(":")[1], 16)
    return 0


def idle(port, n, hold):
    """Opens n connections that send nothing (plain non-blocking sockets and epoll, so
    thousands connect in a fraction of a second and the run measures the server), holds them,
    then classifies each one: still open (accepted), answered 503 and closed (refused at the
    cap), closed without a word, reset, or never connected. Finally one request on an accepted
    connection proves they still work."""
    import select
    ep = select.epoll()
    socks, pending = {}, set()
    stats = {"open": 0, "refused_503": 0, "closed_silently": 0, "reset": 0, "connect_error": 0}

    def settle(timeout):
        for fd, _ in ep.poll(timeout):
            if fd in pending:
                pending.discard(fd)
                ep.modify(fd, select.EPOLLIN)

    t0 = time.time()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            stats["connect_error"] += 1
            s.close()
            continue
        socks[s.fileno()] = s
        pending.add(s.fileno())
        ep.register(s.fileno(), select.EPOLLOUT)
        while len(pending) > 512:  # keep connects in progress near the accept backlog
            settle(1)
    deadline = time.time() + 20
    while pending and time.time() < deadline:
        settle(1)
    connect_s = time.time() - t0
    stats["connect_error"] += len(pending)
    # Held idle for `hold` seconds: that much is under test. Then, before anything is judged,
    # the server must have taken every connection from its accept queue and answered the ones
    # it refused, however long that takes on a busy machine (an answer comes in the same step
    # as the accept, so the count of answered connections is read until it stays put).
    time.sleep(hold)
    deadline = time.time() + IDLE_SETTLE_MAX_S
    answered = -1
    while time.time() < deadline:
        queued = accept_queue(port)
        now = len(ep.poll(0, len(socks) + 1))
        if not queued and now == answered:
            break
        answered = now
        time.sleep(0.1)
    still = []
    for fd, s in socks.items():
        if fd in pending:
            continue
        try:
            data = s.recv(4096)
        except BlockingIOError:
            stats["open"] += 1
            still.append(s)
            continue
        except ConnectionResetError:
            stats["reset"] += 1
            continue
        except OSError:
            stats["connect_error"] += 1
            continue
        if status_of(data) == 503:
            stats["refused_503"] += 1
        elif data:
            stats["other"] = stats.get("other", 0) + 1
        else:
            stats["closed_silently"] += 1
    used = None
    if still:
        s = still[0]
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(b"GET /after-idle HTTP/1.1\r\nHost: idle\r\n\r\n")
        try:
            used = status_of(s.recv(4096))
        except OSError:
            used = None
    for s in socks.values():
        s.close()
    ep.close()
    return dict(stats, connect_seconds=round(connect_s, 2), request_on_idle=used)


def cmd_idle(args):
    port, n, hold = int(args[0]), int(args[1]), float(args[2])
    result(attempted=n, **idle(port, n, hold))


async def pipeline(port, conns, reqs):
    """Each connection writes reqs pipelined requests (varied sizes, some with bodies) while a
    reader collects the answers; the echo must come back for each, in order."""
    stats = {"sent_requests": 0, "sent_bytes": 0, "answers": 0, "back_bytes": 0,
             "out_of_order": 0, "errors": 0}

    async def one(c):
        try:
            r, w = await open_conn(port)
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
            return
        rng = random.Random(c)
        expect = []

        async def writer():
            for i in range(reqs):
                body = b"b" * rng.choice((0, 0, 1, 100, 5000))
                target = b"/c%d/r%d" % (c, i)
                req = b"POST %s HTTP/1.1\r\nHost: p\r\nContent-Length: %d\r\n\r\n%s" % (
                    target, len(body), body)
                expect.append(target)
                w.write(req)
                stats["sent_requests"] += 1
                stats["sent_bytes"] += len(req)
                if i % 64 == 63:
                    await w.drain()
            await w.drain()

        async def reader():
            got = 0
            buf = b""
            while got < reqs:
                d = await asyncio.wait_for(r.read(1 << 16), 30)
                if not d:
                    break
                stats["back_bytes"] += len(d)
                buf += d
                # Each echo answer starts with its status line; the echoed request line follows.
                while True:
                    m = re.search(rb"HTTP/1\.1 200 OK\r\n(?:.*?\r\n)*?\r\nPOST (\S+) ", buf, re.S)
                    if not m:
                        break
                    if got >= len(expect) or m.group(1) != expect[got]:
                        stats["out_of_order"] += 1
                    got += 1
                    buf = buf[m.end():]
            stats["answers"] += got

        try:
            await asyncio.gather(writer(), reader())
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        w.close()

    await asyncio.gather(*(one(c) for c in range(conns)))
    return stats


def cmd_pipeline(args):
    port, conns, reqs = int(args[0]), int(args[1]), int(args[2])
    t0 = time.time()
    stats = asyncio.run(pipeline(port, conns, reqs))
    result(connections=conns, requests_each=reqs, seconds=round(time.time() - t0, 2), **stats)


def cmd_flood(args):
    """Writes pipelined requests as fast as the server takes them without ever reading, for
    SECONDS; the server must stop reading (backpressure) instead of buffering answers."""
    port, seconds = int(args[0]), float(args[1])
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    req = b"GET /flood HTTP/1.1\r\nHost: f\r\n\r\n" * 256
    sent = 0
    stop = time.time() + seconds
    stalled_since = None
    while time.time() < stop:
        try:
            sent += s.send(req)
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.time()
            time.sleep(0.01)
        except OSError:
            break
    s.close()
    result(sent_bytes=sent, sent_requests=sent // 34,
           stalled_seconds=round(time.time() - stalled_since, 2) if stalled_since else 0)


def cmd_upload(args):
    """Streams SIZE bytes of a repeating pattern as a POST to the echo (chunked with
    --chunked), reading the echo concurrently; checks the echoed payload byte for byte by
    hashing both. Optional --path P."""
    port, size = int(args[0]), int(args[1])
    chunked = "--chunked" in args
    pattern = bytes(range(256)) * 4096  # 1 MiB
    s = socket.create_connection(("127.0.0.1", port))
    if chunked:
        head = b"POST /upload HTTP/1.1\r\nHost: u\r\nTransfer-Encoding: chunked\r\n" \
               b"Content-Type: application/octet-stream\r\n\r\n"
    else:
        head = b"POST /upload HTTP/1.1\r\nHost: u\r\nContent-Length: %d\r\n" \
               b"Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n" % size
    sent_hash = hashlib.sha256()
    state = {"back": 0, "hash": hashlib.sha256(), "head": b"", "error": None}
    import threading

    def reader():
        buf = b""
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                state["back"] += len(d)
                if state["head"] == b"":
                    buf += d
                    # the echo: a response head, then the request head as sent, then the body
                    i = buf.find(b"\r\n\r\n")
                    if i < 0:
                        continue
                    j = buf.find(b"\r\n\r\n", i + 4)
                    if j < 0:
                        continue
                    state["head"] = buf[:i]
                    d = buf[j + 4:]
                state["hash"].update(d)
        except OSError as e:
            state["error"] = e.__class__.__name__

    t = threading.Thread(target=reader)
    t.start()
    t0 = time.time()
    s.sendall(head)
    left = size
    while left:
        piece = pattern[:min(left, len(pattern))]
        if chunked:
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            s.sendall(piece)
        sent_hash.update(piece)
        left -= len(piece)
    if chunked:
        s.sendall(b"0\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
    t.join(timeout=600)
    secs = time.time() - t0
    s.close()
    echoed = state["hash"].hexdigest()
    if chunked:
        # the echo of a chunked request is chunked: compare the payload after de-chunking
        echoed = None
    result(sent=size, back=state["back"], seconds=round(secs, 2),
           mb_per_s=round(size / secs / 1e6, 1), sent_sha256=sent_hash.hexdigest(),
           echo_sha256=echoed, status=status_of(state["head"] + b"\r\n"), error=state["error"])


def cmd_download(args):
    """GETs PATH and counts the body: SIZE bytes, all zero (a sparse file)."""
    path, port, size = args[0], int(args[1]), int(args[2])
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET %s HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n" % path.encode())
    t0 = time.time()
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    n, nonzero = len(body), len(body) - body.count(0)
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        n += len(d)
        nonzero += len(d) - d.count(0)
    secs = time.time() - t0
    result(requested=size, body=n, nonzero=nonzero, status=status_of(head + b"\r\n"),
           seconds=round(secs, 2), mb_per_s=round(n / max(secs, 1e-6) / 1e6, 1))


# --- an upstream with faults and varied answers ----------------------------------------------


def body_for(seed, size):
    """The deterministic body of an answer: both ends compute it from the request line."""
    rng = random.Random(seed)
    unit = bytes(rng.randrange(256) for _ in range(257))
    return (unit * (size // 257 + 1))[:size]


def parse_plan(target):
    """/mix?seed=N&size=N&frame=cl|chunked|close&pieces=N: what the origin answers."""
    q = dict(kv.split("=", 1) for kv in target.split("?", 1)[1].split("&")) if "?" in target \
        else {}
    return q


async def origin_conn(reader, writer):
    """One upstream connection. The request path chooses the behaviour: /ok, /mix?..., and the
    faults /stall, /reset-head, /reset-body, /garbage, /close-head, /close-early and
    /drop-upload (a reset while the request body is still coming)."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            target = parts[1] if len(parts) > 1 else "/"
            if target == "/drop-upload":
                # mid-upload: the proxy is still sending the body when the reset comes
                await reader.read(1 << 16)
                rst(writer)
                return
            body_hash = hashlib.sha256()
            cl = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            if re.search(rb"\r\ntransfer-encoding: *chunked", head, re.I):
                while True:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    if size == 0:
                        await reader.readuntil(b"\r\n")
                        break
                    body_hash.update(await reader.readexactly(size))
                    await reader.readexactly(2)
            elif cl:
                left = int(cl.group(1))
                while left:
                    d = await reader.read(min(left, 1 << 16))
                    if not d:
                        raise asyncio.IncompleteReadError(b"", left)
                    body_hash.update(d)
                    left -= len(d)
            path = target.split("?")[0]
            if not await origin_answer(writer, path, target, body_hash.hexdigest()):
                return
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


def rst(writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def origin_answer(writer, path, target, req_hash):
    """Writes the answer; returns False when the connection must end."""
    if path == "/stall":
        await asyncio.sleep(3600)
    if path == "/reset-head":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()
        await asyncio.sleep(0.05)
        rst(writer)
        return False
    if path == "/reset-body":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        await writer.drain()
        await asyncio.sleep(0.05)
        rst(writer)
        return False
    if path == "/garbage":
        writer.write(b"\x00\x1b[2J\xff\xfeSSH-2.0-OpenSSH\r\n\x1b]0;pwn\x07")
        await writer.drain()
        writer.close()
        return False
    if path == "/close-head":
        writer.write(b"HTTP/1.1 200 OK\r\nX-Half: ")
        await writer.drain()
        writer.close()
        return False
    if path == "/close-early":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
        await writer.drain()
        writer.close()
        return False
    if path == "/mix":
        q = parse_plan(target)
        seed, size = int(q.get("seed", 0)), int(q.get("size", 0))
        frame = q.get("frame", "cl")
        body = body_for(seed, size)
        head = "HTTP/1.1 200 OK\r\nX-Request-Sha256: %s\r\nContent-Type: application/" \
               "octet-stream\r\n" % req_hash
        if frame == "chunked":
            pieces = max(1, int(q.get("pieces", 3)))
            step = max(1, size // pieces)
            out = bytearray((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            for i in range(0, size, step):
                p = body[i:i + step]
                out += b"%x;n=%d\r\n" % (len(p), i) + p + b"\r\n"
            out += b"0\r\nX-Trailer: end\r\n\r\n"
            writer.write(bytes(out))
        elif frame == "close":
            writer.write((head + "Connection: close\r\n\r\n").encode() + body)
            await writer.drain()
            writer.close()
            return False
        else:
            writer.write((head + "Content-Length: %d\r\n\r\n" % size).encode() + body)
        await writer.drain()
        return True
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    return True


def cmd_origin(args):
    """Serves on a free port of 127.0.0.1 and writes the port to PORT_FILE; runs until killed."""

    async def main():
        server = await asyncio.start_server(origin_conn, "127.0.0.1", 0, limit=1 << 20,
                                            backlog=1024)
        port = server.sockets[0].getsockname()[1]
        with open(args[0] + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args[0] + ".tmp", args[0])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def mixed(port, n, seed, conns):
    """n varied exchanges over `conns` keep-alive connections through a proxy in front of the
    origin: request bodies by length and chunked, answers by length, chunked and close, sizes
    from 0 to 256 KiB. Each answer's body is compared with what the origin computed, and the
    origin's hash of the request body with the client's."""
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        size = rng.choice((0, 1, 17, 1000, 4096, 65536, 65537, 200000, rng.randrange(300000)))
        req_size = rng.choice((0, 0, 0, 5, 3000, 70000))
        plans.append({"i": i, "seed": rng.randrange(1 << 30), "size": size,
                      "frame": rng.choice(("cl", "cl", "chunked", "close")),
                      "pieces": rng.randrange(1, 9), "req_size": req_size,
                      "req_chunked": rng.random() < 0.3})
    stats = {"exchanges": 0, "sent_bytes": 0, "back_bytes": 0, "body_mismatch": 0,
             "request_mismatch": 0, "errors": 0, "connections": 0}
    queue = list(reversed(plans))
    failures = []

    async def read_response(r):
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
        stats["back_bytes"] += len(head)
        status = status_of(head)
        req_hash = re.search(rb"X-Request-Sha256: ([0-9a-f]+)", head)
        body = bytearray()
        if re.search(rb"\r\nTransfer-Encoding: chunked", head):
            while True:
                line = await r.readuntil(b"\r\n")
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    stats["back_bytes"] += len(await r.readuntil(b"\r\n\r\n")) + len(line)
                    break
                body += await r.readexactly(size)
                await r.readexactly(2)
                stats["back_bytes"] += len(line) + size + 2
            closing = False
        else:
            cl = re.search(rb"\r\nContent-Length: (\d+)", head)
            if cl:
                body += await r.readexactly(int(cl.group(1)))
                closing = False
            else:
                body += await r.read()
                closing = True
            stats["back_bytes"] += len(body)
        return status, req_hash.group(1).decode() if req_hash else None, bytes(body), closing

    async def worker():
        r = w = None
        while queue:
            p = queue.pop()
            try:
                if w is None:
                    r, w = await open_conn(port)
                    stats["connections"] += 1
                body = body_for(p["seed"] ^ 0x5a5a, p["req_size"])
                target = "/mix?seed=%d&size=%d&frame=%s&pieces=%d&i=%d" % (
                    p["seed"], p["size"], p["frame"], p["pieces"], p["i"])
                head = "POST %s HTTP/1.1\r\nHost: mixed\r\nX-Seq: %d\r\n" % (target, p["i"])
                if p["req_chunked"]:
                    wire = (head + "Transfer-Encoding: chunked\r\n\r\n").encode()
                    for k in range(0, len(body), 7000):
                        piece = body[k:k + 7000]
                        wire += b"%x\r\n" % len(piece) + piece + b"\r\n"
                    wire += b"0\r\n\r\n"
                else:
                    wire = (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body
                w.write(wire)
                stats["sent_bytes"] += len(wire)
                await w.drain()
                status, req_hash, got, closing = await read_response(r)
                stats["exchanges"] += 1
                if status != 200 or got != body_for(p["seed"], p["size"]):
                    stats["body_mismatch"] += 1
                    failures.append((p["i"], status, len(got), p))
                if req_hash != hashlib.sha256(body).hexdigest():
                    stats["request_mismatch"] += 1
                    failures.append((p["i"], "request", req_hash))
                if closing:
                    w.close()
                    w = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                stats["errors"] += 1
                failures.append((p["i"], repr(e)))
                if w:
                    w.close()
                w = None
        if w:
            w.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return stats, failures[:5]


def cmd_mixed(args):
    port, n, seed = int(args[0]), int(args[1]), int(args[2])
    conns = int(args[3]) if len(args) > 3 else 8
    t0 = time.time()
    stats, failures = asyncio.run(mixed(port, n, seed, conns))
    result(requested=n, seconds=round(time.time() - t0, 2), failures=failures, **stats)


async def stream(port, conns, seconds, out, pipeline_depth):
    """conns keep-alive connections sending requests with unique targets (/lost/C/I, some with
    bodies, `pipeline_depth` in flight per connection) until the server goes away or time is
    up; every request whose whole response arrived is written to `out` at once, so the list is
    right even when the server is stopped mid-run."""
    done = open(out, "w")
    stop = time.time() + seconds
    stats = {"completed": 0, "sent": 0, "ended_by_server": 0}

    async def one(c):
        try:
            r, w = await open_conn(port)
        except (OSError, asyncio.TimeoutError):
            return
        i = 0
        waiting = []
        try:
            while time.time() < stop or waiting:
                while len(waiting) < pipeline_depth and time.time() < stop:
                    body = b"x" * (i % 5 * 700)
                    target = "/lost/%d/%d" % (c, i)
                    w.write(b"POST %s HTTP/1.1\r\nHost: l\r\nContent-Length: %d\r\n\r\n%s"
                            % (target.encode(), len(body), body))
                    waiting.append(target)
                    stats["sent"] += 1
                    i += 1
                await w.drain()
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
                cl = int(re.search(rb"\r\nContent-Length: (\d+)", head, re.I).group(1))
                await r.readexactly(cl)
                done.write(waiting.pop(0) + "\n")
                done.flush()
                stats["completed"] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, AttributeError):
            stats["ended_by_server"] += 1
        w.close()

    await asyncio.gather(*(one(c) for c in range(conns)))
    done.close()
    return stats


def cmd_stream(args):
    port, conns, seconds, out = int(args[0]), int(args[1]), float(args[2]), args[3]
    depth = int(args[4]) if len(args) > 4 else 1
    result(connections=conns, pipeline_depth=depth, **asyncio.run(
        stream(port, conns, seconds, out, depth)))


def cmd_racestop(args):
    """N HSPY_ARGS...: starts hspy N times and sends SIGTERM the instant its address line is
    read (scripts do exactly that); every run must end with status 0 and, when a --har FILE
    is given, leave a complete document."""
    import subprocess
    import signal
    n, argv = int(args[0]), [os.environ["HSPY"]] + args[1:]
    har = args[args.index("--har") + 1] if "--har" in args else None
    statuses, bad_har = {}, 0
    for _ in range(n):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        p.stderr.readline()
        os.kill(p.pid, signal.SIGTERM)
        p.stderr.read()
        rc = p.wait()
        statuses[str(rc)] = statuses.get(str(rc), 0) + 1
        if har:
            try:
                json.load(open(har))["log"]["entries"]
            except (OSError, ValueError, KeyError):
                bad_har += 1
    result(runs=n, statuses=statuses, broken_har=bad_har)


def cmd_recorded(args):
    """COMPLETED JSONL HAR: every request in COMPLETED (one target a line) must be in the JSON
    lines and in the HAR exactly once; reports what is missing or doubled."""
    completed = [l.strip() for l in open(args[0]) if l.strip()]
    jl = [json.loads(l) for l in open(args[1]) if l.strip()]
    har = json.load(open(args[2]))["log"]["entries"]
    in_json = {}
    for e in jl:
        t = e["request"]["target"]
        in_json[t] = in_json.get(t, 0) + 1
    in_har = {}
    for e in har:
        t = "/" + e["request"]["url"].split("/", 3)[3] if e["request"]["url"].count("/") >= 3 \
            else e["request"]["url"]
        in_har[t] = in_har.get(t, 0) + 1
    missing_json = [t for t in completed if t not in in_json]
    missing_har = [t for t in completed if t not in in_har]
    doubled = [t for t, n in list(in_json.items()) + list(in_har.items()) if n > 1]
    unfinished = sum(1 for e in jl if "incomplete" in e["flags"] or e.get("error"))
    result(completed_by_client=len(completed), json_records=len(jl), har_entries=len(har),
           missing_json=missing_json[:5], missing_json_n=len(missing_json),
           missing_har=missing_har[:5], missing_har_n=len(missing_har), doubled=doubled[:5],
           in_flight_or_failed=unfinished)


def traversal_targets(name):
    """Ways out of a served folder toward `name` (a file beside it, in `../outside/`), and
    absolute paths, in every spelling a server has been fooled by."""
    dots = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%c0%ae%c0%ae", "..%00",
            "%2e%2e%00", "...", "..;", ".%u002e"]
    seps = ["/", "%2f", "%2F", "%5c", "\\", "%252f", "%c0%af", "//", "/./"]
    out = set()
    for d in dots:
        for s in seps:
            for depth in (1, 2, 5):
                out.add("/" + (d + s) * depth + "outside" + s + name)
                out.add("/sub/" + (d + s) * (depth + 1) + "outside" + s + name)
    for p in ("/etc/passwd", "//etc/passwd", "/%2fetc%2fpasswd", "/..%2f..%2f..%2fetc/passwd",
              "/proc/self/environ", "/%00/etc/passwd", "/link-out/" + name, "/link-out%2f" + name,
              "/sub/../link-out/" + name, "/./link-out/./" + name, "/link-file",
              "/." + "/.." * 40 + "/etc/passwd", "/" + "a/" * 2000 + ("../" * 2001) + "etc/passwd",
              "http://x/../outside/" + name, "http://x/%2e%2e/outside/" + name, "*", "../outside/"
              + name, "outside/" + name, "/sub/..\\..\\outside\\" + name):
        out.add(p)
    return sorted(out)


def cmd_traversal(args):
    """PORT NAME MARKER: requests every traversal target; none may answer with MARKER (the
    content of files outside the folder) or with /etc/passwd's first line."""
    port, name, marker = int(args[0]), args[1], args[2].encode()
    leaks, statuses = [], {}
    targets = traversal_targets(name)
    for t in targets:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET " + t.encode("latin-1") + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
        s.close()
        code = status_of(data)
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        if marker in data or b"root:x:0:0" in data:
            leaks.append(t)
    result(targets=len(targets), statuses=statuses, leaks=leaks[:10], leaked=len(leaks))


SHELL_PAYLOADS = [
    "$(touch {m}-a)", "`touch {m}-b`", ";touch {m}-c;", "|touch {m}-d", "&&touch {m}-e",
    "\ntouch {m}-f\n", "'$(touch {m}-g)'", "\"$(touch {m}-h)\"", "${{IFS}}touch${{IFS}}{m}-i",
    "$((1))$(touch {m}-j)", "<(touch {m}-k)", ">{m}-l",
]


def cmd_shellmeta(args):
    """PORT MARKER_PREFIX: requests carrying shell metacharacters that would create files named
    MARKER_PREFIX-* if any part of a request reached a shell: in the target, the query, header
    names and values, cookies and the body."""
    port, m = int(args[0]), args[1]
    sent = 0
    statuses = {}
    for k, tmpl in enumerate(SHELL_PAYLOADS):
        p = tmpl.format(m=m)
        q = urllib_quote(p)
        value = p.replace("\n", " ")
        reqs = [
            "GET /x/%s?a=%s HTTP/1.1\r\nHost: s\r\n\r\n" % (q, q),
            "GET /x?%s HTTP/1.1\r\nHost: s\r\nX-Evil: %s\r\nCookie: c=%s\r\nUser-Agent: %s\r\n"
            "Referer: %s\r\n\r\n" % (p.replace(" ", "+").replace("\n", "%0a"), value, value,
                                     value, value),
            "POST /x HTTP/1.1\r\nHost: s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (value, len(p.encode()), p),
            "GET /x HTTP/1.1\r\nHost: %s\r\nX-%d-%s: v\r\n\r\n" % (value, k, q.replace("%", "")),
        ]
        for r in reqs:
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            s.sendall(r.encode("utf-8", "surrogateescape").replace(b"\r\n\r\n", b"\r\nConnection:"
                                                                  b" close\r\n\r\n", 1))
            data = b""
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
            except OSError:
                pass
            s.close()
            sent += 1
            code = str(status_of(data))
            statuses[code] = statuses.get(code, 0) + 1
    result(requests=sent, payloads=len(SHELL_PAYLOADS), statuses=statuses)


def urllib_quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


# --- clients that give up ---------------------------------------------------------------------


def cmd_abort(args):
    """KIND upload-fin | upload-rst | download-fin | download-rst: starts a large transfer on
    PORT (an upload of a declared 100 MB, or a GET of PATH) and walks away part of the way."""
    port, kind = int(args[0]), args[1]
    path = args[2] if len(args) > 2 else "/big"
    s = socket.create_connection(("127.0.0.1", port))
    moved = 0
    if kind.startswith("upload"):
        s.sendall(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(32):
            s.sendall(b"u" * 65536)
            moved += 65536
    else:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode())
        while moved < 1 << 20:
            d = s.recv(65536)
            if not d:
                break
            moved += len(d)
    if kind.endswith("rst"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    result(kind=kind, moved=moved)


# --- /proc sampling ---------------------------------------------------------------------------


def proc_figures(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return {"rss_kb": int(st["VmRSS"].split()[0]), "hwm_kb": int(st["VmHWM"].split()[0]),
            "fds": len(os.listdir("/proc/%d/fd" % pid)), "cpu_ticks": ticks}


def cmd_sample(args):
    """Every SECONDS: rss, fds and CPU ticks of PID, one JSON line each, into OUT, until PID
    is gone."""
    pid, every, out = int(args[0]), float(args[1]), args[2]
    with open(out, "a") as f:
        while True:
            try:
                fig = proc_figures(pid)
            except (OSError, KeyError, IndexError):
                break
            fig["t"] = round(time.time(), 2)
            f.write(json.dumps(fig) + "\n")
            f.flush()
            time.sleep(every)


def cmd_proc(args):
    result(**proc_figures(int(args[0])))


COMMANDS = {
    "send": cmd_send,
    "pcap": cmd_pcap,
    "large": cmd_large,
    "garden": cmd_garden,
    "expect": cmd_expect,
    "lint": cmd_lint,
    "termcheck": cmd_termcheck,
    "slowloris": cmd_slowloris,
    "idle": cmd_idle,
    "pipeline": cmd_pipeline,
    "flood": cmd_flood,
    "upload": cmd_upload,
    "download": cmd_download,
    "origin": cmd_origin,
    "mixed": cmd_mixed,
    "abort": cmd_abort,
    "traversal": cmd_traversal,
    "shellmeta": cmd_shellmeta,
    "stream": cmd_stream,
    "racestop": cmd_racestop,
    "recorded": cmd_recorded,
    "sample": cmd_sample,
    "proc": cmd_proc,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
