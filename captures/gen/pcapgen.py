#!/usr/bin/env python3
"""pcapgen: writes hspy's synthetic captures deterministically.

Real tools cannot reliably produce packet loss at a chosen byte, reordering, retransmissions
carrying other bytes, sequence-number wrap-around or a capture that starts inside a
connection; this script writes them as pcap files, byte for byte the same on every run.

    pcapgen.py scenarios DIR      write every scenario capture into DIR
    pcapgen.py bench FILE MB      write a keep-alive HTTP workload of at least MB megabytes

Only the standard library is used. Checksums are left zero (no reader of captures checks them
by default).
"""
import random
import struct
import sys
import zlib

LINK_ETHERNET = 1
LINK_RAW = 101
LINK_NULL = 0

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Writer:
    """A classic pcap file (microseconds, little endian unless asked otherwise)."""

    def __init__(self, path, link=LINK_ETHERNET, nano=False, big_endian=False, snaplen=262144):
        self.f = open(path, "wb")
        self.e = ">" if big_endian else "<"
        self.nano = nano
        self.link = link
        self.snaplen = snaplen
        magic = 0xA1B23C4D if nano else 0xA1B2C3D4
        self.f.write(struct.pack(self.e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link))

    def packet(self, ts_ns, frame, caplen=None):
        wire = len(frame)
        cap = min(wire, caplen if caplen is not None else self.snaplen)
        sec, frac = divmod(ts_ns, 1_000_000_000)
        if not self.nano:
            frac //= 1000
        self.f.write(struct.pack(self.e + "IIII", sec, frac, cap, wire))
        self.f.write(frame[:cap])

    def close(self):
        self.f.close()


def ip_bytes(addr):
    if ":" in addr:
        import ipaddress
        return ipaddress.IPv6Address(addr).packed
    return bytes(int(x) for x in addr.split("."))


def tcp_header(sport, dport, seq, ack, flags):
    return struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                       flags, 65535, 0, 0)


def ip_packet(src, dst, payload, proto=6, ident=0, frag=0x4000):
    if ":" in src:
        return struct.pack(">IHBB", 6 << 28, len(payload), proto, 64) + ip_bytes(src) + \
            ip_bytes(dst) + payload
    return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0) + \
        ip_bytes(src) + ip_bytes(dst) + payload


def link_frame(link, ip, v6=False, vlan=None):
    if link == LINK_ETHERNET:
        head = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
        if vlan is not None:
            head += struct.pack(">HH", 0x8100, vlan)
        return head + struct.pack(">H", 0x86DD if v6 else 0x0800) + ip
    if link == LINK_NULL:
        return struct.pack("<I", 30 if v6 else 2) + ip
    return ip


class Conn:
    """One TCP connection between a client and a server, written as it happens."""

    def __init__(self, w, clock, client, server, cport, sport, cisn=1000, sisn=5000, mss=1448,
                 vlan=None):
        self.w, self.clock = w, clock
        self.ep = [(client, cport), (server, sport)]
        self.seq = [cisn, sisn]
        self.mss = mss
        self.vlan = vlan
        self.v6 = ":" in client
        self.ident = 1

    def frame(self, side, flags, payload=b"", seq=None, ack=None):
        (src, sp), (dst, dp) = self.ep[side], self.ep[1 - side]
        seq = self.seq[side] if seq is None else seq
        ack = self.seq[1 - side] if ack is None else ack
        tcp = tcp_header(sp, dp, seq, ack, flags) + payload
        self.ident += 1
        ip = ip_packet(src, dst, tcp, ident=self.ident)
        return link_frame(self.w.link, ip, self.v6, self.vlan)

    def emit(self, frame, caplen=None, dt=20_000):
        self.clock[0] += dt
        self.w.packet(self.clock[0], frame, caplen)

    def handshake(self):
        self.emit(self.frame(0, SYN, ack=0))
        self.seq[0] += 1
        self.emit(self.frame(1, SYN | ACK))
        self.seq[1] += 1
        self.emit(self.frame(0, ACK))

    def segments(self, side, data):
        """(seq, bytes) pieces of data at the side's current position; advances it."""
        out = []
        for i in range(0, len(data), self.mss):
            out.append((self.seq[side] + i, data[i:i + self.mss]))
        self.seq[side] += len(data)
        return out

    def send(self, side, data, drop=(), swap=(), dup=None, caplen=None, dt=20_000):
        """Sends data from side in MSS pieces. drop: piece indexes never captured; swap: pairs
        of piece indexes sent in each other's place; dup: {index: replacement bytes} sent again
        after the original (a retransmission, possibly differing)."""
        pieces = self.segments(side, data)
        order = list(range(len(pieces)))
        for a, b in swap:
            order[a], order[b] = order[b], order[a]
        for i in order:
            seq, chunk = pieces[i]
            if i in drop:
                self.clock[0] += dt
                continue
            self.emit(self.frame(side, PSH | ACK, chunk, seq=seq), caplen, dt)
            if dup and i in dup:
                again = chunk if dup[i] is None else dup[i]
                self.emit(self.frame(side, PSH | ACK, again, seq=seq), caplen, dt)
        self.emit(self.frame(1 - side, ACK), dt=dt)

    def close(self):
        self.emit(self.frame(0, FIN | ACK))
        self.seq[0] += 1
        self.emit(self.frame(1, FIN | ACK))
        self.seq[1] += 1
        self.emit(self.frame(0, ACK))


def request(method, target, host="example.test", headers=(), body=b""):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + host]
    lines += list(headers)
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(status, body=b"", headers=(), reason="OK", chunked=False):
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + list(headers)
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        out = b""
        for i in range(0, len(body), 1000):
            piece = body[i:i + 1000]
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + out + b"0\r\n\r\n"
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def body_of(rng, n):
    words = [b"alpha ", b"beta ", b"gamma ", b"delta ", b"epsilon ", b"zeta\n"]
    out = bytearray()
    while len(out) < n:
        out += words[rng.randrange(len(words))]
    return bytes(out[:n])


def scenario_loss(path):
    """Keep-alive: a response body segment never captured (the client acknowledged it), then
    the next exchange on the same connection is read normally."""
    rng = random.Random(1)
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40001, 80)
    c.handshake()
    for i, drop in enumerate([(), (2,), ()]):
        c.send(0, request("GET", "/file%d" % i))
        c.send(1, response(200, body_of(rng, 6000), ["Content-Type: text/plain"]), drop=drop)
    c.close()
    w.close()


def scenario_reorder(path):
    """Segments of a request and a response arrive out of order, with exact retransmissions."""
    rng = random.Random(2)
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40002, 8080, mss=500)
    c.handshake()
    c.send(0, request("POST", "/upload", body=body_of(rng, 1800),
                      headers=["Content-Type: text/plain"]), swap=[(0, 2)])
    c.send(1, response(201, body_of(rng, 4000)), swap=[(1, 3), (5, 6)], dup={2: None})
    c.close()
    w.close()


def scenario_retransmit_differs(path):
    """A retransmission carries other bytes than the first copy (evidence of tampering or a
    broken middlebox): the first copy is kept and the exchange gets a warning."""
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40003, 80, mss=64)
    c.handshake()
    c.send(0, request("GET", "/account"))
    body = b"balance: 100\n" * 10
    pieces = c.segments(1, response(200, body, ["Content-Type: text/plain"]))
    c.seq[1] -= sum(len(p) for _, p in pieces)
    altered = {1: pieces[1][1].replace(b"100", b"999")}
    c.send(1, response(200, body, ["Content-Type: text/plain"]), dup=altered)
    c.close()
    w.close()


def scenario_ack_first(path):
    """Capture reordering as segmentation offload and capture on several queues produce it: two
    response segments swapped, and the client's ACK of both captured between them, before the
    data at the start of the hole. Every byte is in the file: no gap."""
    rng = random.Random(11)
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40011, 80)
    c.handshake()
    c.send(0, request("GET", "/first"))
    pieces = c.segments(1, response(200, body_of(rng, 6000), ["Content-Type: text/plain"]))
    end2 = pieces[2][0] + len(pieces[2][1])
    for i in (0, 2):
        c.emit(c.frame(1, PSH | ACK, pieces[i][1], seq=pieces[i][0]), dt=5_000)
    c.emit(c.frame(0, ACK, ack=end2), dt=5_000)
    for i in (1, 3, 4):
        c.emit(c.frame(1, PSH | ACK, pieces[i][1], seq=pieces[i][0]), dt=5_000)
    c.emit(c.frame(0, ACK))
    c.send(0, request("GET", "/second"))
    c.send(1, response(200, body_of(rng, 2000), ["Content-Type: text/plain"]))
    c.close()
    w.close()


def scenario_retransmit_late(path):
    """A retransmission with other bytes of the segment that completed a message: on a
    keep-alive connection before the next exchange, at the very end of a connection, and of an
    early response (a 413 while the upload goes on) whose exchange is still in flight."""
    rng = random.Random(12)
    w = Writer(path)
    clock = [1_700_000_000_000_000_000]

    def altered_last(conn, data):
        pieces = conn.segments(1, data)
        conn.seq[1] -= len(data)
        last = bytearray(pieces[-1][1])
        last[-3] ^= 0x20
        return {len(pieces) - 1: bytes(last)}

    c = Conn(w, clock, "10.1.0.1", "10.1.0.2", 40012, 80)
    c.handshake()
    c.send(0, request("GET", "/a"))
    resp = response(200, body_of(rng, 3000), ["Content-Type: text/plain"])
    c.send(1, resp, dup=altered_last(c, resp))
    c.send(0, request("GET", "/b"))
    c.send(1, response(200, body_of(rng, 500), ["Content-Type: text/plain"]))
    c.close()

    c = Conn(w, clock, "10.1.0.1", "10.1.0.2", 40013, 80)
    c.handshake()
    c.send(0, request("GET", "/last"))
    resp = response(200, body_of(rng, 2000), ["Content-Type: text/plain"])
    c.send(1, resp, dup=altered_last(c, resp))
    c.close()

    c = Conn(w, clock, "10.1.0.1", "10.1.0.2", 40014, 80)
    c.handshake()
    req = request("POST", "/upload", body=body_of(rng, 4000), headers=["Content-Type: text/plain"])
    c.send(0, req[:1000])
    resp = response(413, b"too large\n", ["Content-Type: text/plain"], reason="Content Too Large")
    c.send(1, resp, dup=altered_last(c, resp))
    c.send(0, req[1000:])
    c.close()
    w.close()


def scenario_midstream(path):
    """The capture starts inside a response body on a keep-alive connection; two more
    exchanges follow. Ethernet with an 802.1Q tag."""
    rng = random.Random(3)
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40004, 8000, vlan=42)
    c.seq = [77777, 99999]
    c.send(1, body_of(rng, 3000))  # the rest of a body whose head was never captured
    for t in ("/next", "/last"):
        c.send(0, request("GET", t))
        c.send(1, response(200, body_of(rng, 2500)))
    c.close()
    w.close()


def scenario_wraparound(path):
    """Sequence numbers wrap past 2^32 in the middle of a large response (nanosecond pcap,
    big-endian)."""
    rng = random.Random(4)
    w = Writer(path, nano=True, big_endian=True)
    c = Conn(w, [1_700_000_000_123_456_789], "10.1.0.1", "10.1.0.2", 40005, 80,
             cisn=0xFFFFFF00, sisn=0xFFFF0000)
    c.handshake()
    c.send(0, request("GET", "/big"))
    c.send(1, response(200, body_of(rng, 200_000), ["Content-Type: text/plain"]))
    c.close()
    w.close()


def scenario_snaplen(path):
    """Frames cut to 128 bytes by a small snap length: heads survive, bodies are counted."""
    rng = random.Random(5)
    w = Writer(path, snaplen=128)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40006, 80)
    c.handshake()
    c.send(0, request("GET", "/cut"), caplen=128)
    c.send(1, response(200, body_of(rng, 5000)), caplen=128)
    c.close()
    w.close()


def scenario_websocket(path):
    """An Upgrade to WebSocket (101), then frames both ways: one tunnel exchange."""
    w = Writer(path)
    c = Conn(w, [1_700_000_000_000_000_000], "10.1.0.1", "10.1.0.2", 40007, 80)
    c.handshake()
    c.send(0, request("GET", "/chat", headers=[
        "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]))
    c.send(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    c.send(0, b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")  # masked "Hello"
    c.send(1, b"\x81\x05Hello")
    c.send(0, b"\x88\x80\x00\x00\x00\x00")  # close
    c.send(1, b"\x88\x00")
    c.close()
    w.close()


def scenario_malformed(path):
    """Requests a strict server rejects but a debugging tool must show: Content-Length with
    Transfer-Encoding, bare LF line ends, obs-fold, a misspelt Content-Length, and an invalid
    chunk size. Raw IP link type."""
    w = Writer(path, link=LINK_RAW)
    clock = [1_700_000_000_000_000_000]
    msgs = [
        b"POST /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n0\r\n\r\n",
        b"GET /bare-lf HTTP/1.1\nHost: x\n\n",
        b"GET /fold HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n  b\r\n\r\n",
        b"POST /typo HTTP/1.1\r\nHost: x\r\nContent-Lenght: 3\r\n\r\n",
        b"POST /chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0"
        b"\r\n\r\n",
    ]
    for i, m in enumerate(msgs):
        c = Conn(w, clock, "10.1.0.1", "10.1.0.2", 40100 + i, 80)
        c.handshake()
        c.send(0, m)
        c.send(1, response(400, b"bad request\n", reason="Bad Request",
                           headers=["Connection: close"]))
        c.close()
    w.close()


def scenario_connect(path):
    """CONNECT through a proxy, then TLS-looking bytes: one tunnel exchange, never parsed.
    BSD loopback link type, IPv6."""
    rng = random.Random(6)
    w = Writer(path, link=LINK_NULL)
    c = Conn(w, [1_700_000_000_000_000_000], "::1", "::1", 40008, 3128)
    c.handshake()
    c.send(0, b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
    c.send(1, b"HTTP/1.1 200 Connection established\r\n\r\n")
    c.send(0, b"\x16\x03\x01\x00\x40" + bytes(rng.randrange(256) for _ in range(64)))
    c.send(1, b"\x16\x03\x03\x00\x50" + bytes(rng.randrange(256) for _ in range(80)))
    c.close()
    w.close()


def scenario_fragments(path):
    """A request split into IPv4 fragments (sent last-first), and a port reused by a second
    connection after the first one closed."""
    w = Writer(path)
    clock = [1_700_000_000_000_000_000]
    for n in range(2):
        c = Conn(w, clock, "10.1.0.1", "10.1.0.2", 40009, 80, cisn=1000 + n * 100000)
        c.handshake()
        data = request("POST", "/frag%d" % n, body=b"x" * 3000)
        tcp = tcp_header(40009, 80, c.seq[0], c.seq[1], PSH | ACK) + data
        c.seq[0] += len(data)
        cuts = list(range(0, len(tcp), 1480))
        for off in reversed(cuts):
            piece = tcp[off:off + 1480]
            more = 0x2000 if off + 1480 < len(tcp) else 0
            ip = ip_packet("10.1.0.1", "10.1.0.2", piece, ident=700 + n, frag=more | (off // 8))
            c.emit(link_frame(LINK_ETHERNET, ip))
        c.emit(c.frame(1, ACK))
        c.send(1, response(200, b"stored\n"))
        c.close()
    w.close()


def bench(path, megabytes):
    """Many keep-alive connections, a few interleaved at a time, with bodies from a few hundred
    bytes to 256 KiB (chunked and not), until the file reaches the size asked for."""
    rng = random.Random(42)
    w = Writer(path)
    clock = [1_700_000_000_000_000_000]
    target = megabytes * 1_000_000
    sizes = [200, 800, 3000, 12000, 40000, 120000, 262144]
    bodies = {s: body_of(rng, s) for s in sizes}
    heads = ["User-Agent: pcapgen-bench/1.0", "Accept: */*", "Accept-Language: en"]
    n = 0
    while w.f.tell() < target:
        n += 1
        c = Conn(w, clock, "10.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255), "10.200.0.1",
                 1024 + n % 60000, 80, cisn=rng.randrange(1 << 32), sisn=rng.randrange(1 << 32))
        c.handshake()
        for k in range(rng.randrange(1, 8)):
            size = sizes[rng.randrange(len(sizes))]
            c.send(0, request("GET", "/obj/%d/%d" % (n, k), headers=heads), dt=1000)
            c.send(1, response(200, bodies[size], ["Content-Type: text/plain"],
                               chunked=size % 3 == 0), dt=1000)
        c.close()
    w.close()


SCENARIOS = {
    "gen-loss.pcap": scenario_loss,
    "gen-reorder.pcap": scenario_reorder,
    "gen-retransmit-differs.pcap": scenario_retransmit_differs,
    "gen-midstream.pcap": scenario_midstream,
    "gen-ack-first.pcap": scenario_ack_first,
    "gen-retransmit-late.pcap": scenario_retransmit_late,
    "gen-wraparound.pcap": scenario_wraparound,
    "gen-snaplen.pcap": scenario_snaplen,
    "gen-websocket.pcap": scenario_websocket,
    "gen-malformed.pcap": scenario_malformed,
    "gen-connect.pcap": scenario_connect,
    "gen-fragments.pcap": scenario_fragments,
}


def main(argv):
    if len(argv) == 3 and argv[1] == "scenarios":
        for name, fn in SCENARIOS.items():
            fn(argv[2].rstrip("/") + "/" + name)
        return 0
    if len(argv) == 4 and argv[1] == "bench":
        bench(argv[2], int(argv[3]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
