#!/usr/bin/env bash
# hspy proxy --upstream-per-client: each client connection gets upstream connections of its own.
# Requests of one client connection share one upstream connection, two client connections open
# at the same time never share one, a client keeps one idle upstream connection (the one it used
# last, when it talks to several hosts), and a client's upstream connection closes with it. Without
# the option the pool is shared: the same sequence hands the idle connection of one client to
# the other. The upstream numbers its connections (X-Conn) and records when each ends.
. "$(dirname "$0")/lib/proxy.sh"
need python3
proxy_setup
recording_upstream

# The clients, in python: "two PORT PAUSE" opens two client connections A and B together and asks
# A, B, A, then closes A and asks B again after PAUSE, printing which upstream connection
# answered each ("A:1 B:2 A:1 B:2"); "hosts PORT UPORT" asks through one client connection
# for the upstream under two names (absolute-form), 127.0.0.1, localhost, 127.0.0.1 again, 0.3 s
# apart, printing the upstream connection of each.
cat >"$T/client.py" <<'PY'
import socket, sys, time

def ask(s, target=b"/hello", host=b"x"):
    """Sends a GET, reads the "hello" answer; returns the upstream's X-Conn."""
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host))
    buf = b""
    while not (b"\r\n\r\n" in buf and buf.endswith(b"hello\n")):
        d = s.recv(4096)
        if not d:
            raise SystemExit("connection closed early")
        buf += d
    for line in buf.split(b"\r\n"):
        if line.lower().startswith(b"x-conn:"):
            return line.split(b":")[1].strip().decode()
    return "?"

def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "two":
    pause = float(sys.argv[3])
    a, b = connect(port), connect(port)
    out = ["A:" + ask(a), "B:" + ask(b), "A:" + ask(a)]
    a.close()
    time.sleep(pause)
    out.append("B:" + ask(b))
    print(" ".join(out), flush=True)
    time.sleep(pause)
    b.close()
else:
    up = sys.argv[3].encode()
    s = connect(port)
    out = []
    for host in (b"127.0.0.1", b"localhost", b"127.0.0.1"):
        authority = host + b":" + up
        out.append(ask(s, b"http://" + authority + b"/hello", authority))
        time.sleep(0.3)  # the closes this causes come well apart from the next ones
    print(" ".join(out), flush=True)
    s.close()
PY

# upstream connection number $1 has ended (waited for up to 5 s).
closed() {
    wait_until 5 grep -q "^closed connection $1 after" "$T/rec/events"
}

proxy_start --json --upstream-per-client "$UP"
seq=$(python3 "$T/client.py" two "$PPORT" 0.5)
read -r a1 b1 a2 b2 <<<"$seq"
check "per client: A's requests share one upstream connection ($seq)" test "${a1#A:}" = "${a2#A:}"
check "per client: B never gets A's connection" test "${b1#B:}" != "${a1#A:}"
check "per client: B keeps its own after A has gone" test "${b2#B:}" = "${b1#B:}"
check "per client: A's upstream connection closed with A, before B's" \
    test "$(head -1 "$T/rec/events")" = "closed connection ${a1#A:} after 2 requests"
check "per client: B's upstream connection closes with B" closed "${b1#B:}"
# Sequential clients never reuse each other's connections either.
n0=$(grep -c '^closed connection' "$T/rec/events")
c1=$($RAW "$PPORT" --send 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 1 | tr -d '\r' | sed -n 's/^X-Conn: //p')
c2=$($RAW "$PPORT" --send 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n' --timeout 1 | tr -d '\r' | sed -n 's/^X-Conn: //p')
check "per client: the next client gets a new connection ($c1, $c2)" test -n "$c1" -a -n "$c2" -a "$c1" != "$c2"
check "per client: and each closed with its client" closed "$c2"
proxy_stop
check "per client: exit status 0" test $? -eq 0
check "per client: the summary counts 4 connections and 2 reuses" \
    grep -q '; upstream: 4 connections, 2 reuses,' "$PROXY_ERR"
check "per client: every exchange recorded, 2 on reused connections" \
    test "$(pyq "$PROXY_OUT" '(len(ex), sum("reused connection" in (e["note"] or "") for e in ex))')" = "(6, 2)"

# One client connection, forward-proxying to two hosts (the same upstream under two names): it
# keeps one idle upstream connection, the one it used last; the other closes at once.
proxy_start --json --upstream-per-client "$UP"
read -r h1 h2 h3 <<<"$(python3 "$T/client.py" hosts "$PPORT" "$UPORT")"
check "per client, two hosts: a connection each ($h1, $h2)" test -n "$h1" -a -n "$h2" -a "$h1" != "$h2"
check "per client, two hosts: back to the first host, a new connection ($h3)" \
    test -n "$h3" -a "$h3" != "$h1" -a "$h3" != "$h2"
closed "$h3"
order=$(grep -oE "^closed connection ($h1|$h2|$h3) " "$T/rec/events" | awk '{printf "%s ", $3}')
check "per client, two hosts: each closed when the next went idle, the last with the client ($order)" \
    test "$order" = "$h1 $h2 $h3 "
proxy_stop
check "per client, two hosts: 3 connections, no reuse" \
    grep -q '; upstream: 3 connections, 0 reuses,' "$PROXY_ERR"

# The same sequence with the shared pool (the default): A's idle connection serves B.
proxy_start --json "$UP"
seq=$(python3 "$T/client.py" two "$PPORT" 0.3)
read -r a1 b1 a2 b2 <<<"$seq"
check "shared: B is served by the connection A left idle ($seq)" test "${b1#B:}" = "${a1#A:}"
proxy_stop
finish
