#!/usr/bin/env python3
"""The generated seeds of fuzz_pcapframe: capture streams built from their real structure.

    tests/fuzz/pcapframe_seeds.py                  writes tests/fuzz/corpus/pcapframe/made-*
    tests/fuzz/pcapframe_seeds.py --check          exit 1, naming them, when a seed is missing,
                                                   stale or no longer generated
    tests/fuzz/pcapframe_seeds.py --check REPLAY   the same, then runs the replay binary of
                                                   fuzz_pcapframe over the generated seeds

Each seed is in fuzz_pcapframe.c's format: a byte setting the size of the pieces the stream
arrives in (the byte plus one), then the stream. The streams are classic pcap (microseconds,
nanoseconds and the modified format; either byte order) and pcapng (section headers of either
order, interface descriptions, enhanced, simple and obsolete packet blocks, name resolution,
statistics and custom blocks, several sections), over link types hspy decodes and others it
does not, with records and blocks cut short and lengths no capture has. The packets inside are
real Ethernet, IPv4/IPv6 and TCP frames made by captures/gen/pcapgen.py. Other seeds in the
folder (the heads of captures, the fuzzer's finds) are left alone.
"""
import os
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "captures", "gen"))
import pcapgen  # noqa: E402

PREFIX = "made-"
# pcapframe.c's limit: a record or block longer than this is corruption.
RECORD_MAX = 16 << 20
# Piece sizes the seeds are fed in (the harness also scans each whole): a byte at a time, an
# odd size that cuts every header, and the largest.
PIECES = {"p1": 0, "p7": 6, "p256": 255}


def frame(link, payload, v6=False, sport=40000, dport=80, seq=1000):
    """A TCP segment carrying payload, framed for link."""
    src, dst = ("::1", "::1") if v6 else ("10.1.0.1", "10.1.0.2")
    tcp = pcapgen.tcp_header(sport, dport, seq, 5000, pcapgen.PSH | pcapgen.ACK) + payload
    ip = pcapgen.ip_packet(src, dst, tcp)
    if link == 113:  # Linux cooked v1
        return struct.pack(">HHH8sH", 0, 772, 6, b"\0" * 8, 0x86DD if v6 else 0x0800) + ip
    if link == 276:  # Linux cooked v2
        return struct.pack(">HHIHBB8s", 0x86DD if v6 else 0x0800, 0, 1, 772, 0, 6, b"\0" * 8) + ip
    return pcapgen.link_frame(link, ip, v6)


REQUEST = b"GET /seed HTTP/1.1\r\nHost: example.test\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


# ---- classic pcap -------------------------------------------------------------------------

MAGIC = {"usec": 0xA1B2C3D4, "nsec": 0xA1B23C4D, "modified": 0xA1B2CD34}


def pcap_header(e, kind, link, snaplen=262144):
    return struct.pack(e + "IHHiIII", MAGIC[kind], 2, 4, 0, 0, snaplen, link)


def pcap_record(e, kind, data, ts=1700000000, wire=None, caplen=None):
    """A record header (24 bytes in the modified format: ifindex, protocol, type) and data."""
    wire = len(data) if wire is None else wire
    caplen = len(data) if caplen is None else caplen
    head = struct.pack(e + "IIII", ts, 1000, caplen, wire)
    if kind == "modified":
        head += struct.pack(e + "IHBB", 1, 0x0800, 0, 0)
    return head + data


def pcap(e, kind, link, frames, snaplen=262144):
    out = pcap_header(e, kind, link, snaplen)
    for i, f in enumerate(frames):
        out += pcap_record(e, kind, f, ts=1700000000 + i)
    return out


def pcap_streams():
    eth = [frame(1, REQUEST), frame(1, RESPONSE, sport=80, dport=40000)]
    s = {}
    s["pcap-usec-le-ethernet"] = pcap("<", "usec", 1, eth)
    s["pcap-nsec-be-ethernet"] = pcap(">", "nsec", 1, eth)
    s["pcap-modified-le-sll"] = pcap("<", "modified", 113, [frame(113, REQUEST)])
    s["pcap-modified-be-sll2"] = pcap(">", "modified", 276, [frame(276, REQUEST, v6=True)])
    s["pcap-null-ipv6"] = pcap("<", "usec", 0, [frame(0, REQUEST, v6=True)])
    s["pcap-raw"] = pcap("<", "usec", 101, [frame(101, REQUEST)])
    # Link types hspy does not decode still frame the same: USER0, and Ethernet with the FCS
    # length bits libpcap keeps in the link type's top bits.
    s["pcap-user0"] = pcap("<", "usec", 147, [b"\x01\x02\x03\x04" * 5])
    s["pcap-fcs-bits"] = pcap("<", "usec", 1 | 0x14000000, eth)
    s["pcap-empty-records"] = pcap("<", "usec", 1, [b"", b"", frame(1, REQUEST)])
    # A frame the snap length cut: caplen below the length on the wire.
    cut = frame(1, RESPONSE)
    s["pcap-snaplen"] = pcap_header("<", "usec", 1, 60) + pcap_record("<", "usec", cut[:60],
                                                                      wire=len(cut))
    s["pcap-header-only"] = pcap_header("<", "usec", 1)
    s["pcap-header-cut"] = pcap_header("<", "usec", 1)[:17]
    whole = pcap("<", "usec", 1, eth)
    s["pcap-record-header-cut"] = whole + pcap_record("<", "usec", eth[0])[:9]
    s["pcap-record-data-cut"] = whole + pcap_record("<", "usec", eth[0])[:40]
    # Lengths no capture has: one over the limit (after good records), and the largest.
    big = pcap_record("<", "usec", b"", caplen=RECORD_MAX - 16 + 1)
    s["pcap-caplen-over"] = whole + big
    s["pcap-caplen-limit"] = whole + pcap_record("<", "usec", b"", caplen=RECORD_MAX - 16)
    s["pcap-caplen-max-be"] = pcap(">", "nsec", 1, eth) + pcap_record(
        ">", "nsec", b"", caplen=0xFFFFFFFF)
    return s


# ---- pcapng -------------------------------------------------------------------------------


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(e, btype, body, length=None):
    """type, total length, body padded to 32 bits, the length again."""
    body = pad4(body)
    n = 12 + len(body) if length is None else length
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def option(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def shb(e, bom=0x1A2B3C4D):
    body = struct.pack(e + "IHHq", bom, 1, 0, -1)
    body += option(e, 4, b"pcapframe_seeds") + struct.pack(e + "HH", 0, 0)
    return block(e, 0x0A0D0D0A, body)


def idb(e, link, snaplen=262144, tsresol=None):
    body = struct.pack(e + "HHI", link, 0, snaplen)
    if tsresol is not None:
        body += option(e, 9, bytes([tsresol])) + struct.pack(e + "HH", 0, 0)
    return block(e, 1, body)


def epb(e, data, iface=0, wire=None):
    wire = len(data) if wire is None else wire
    return block(e, 6, struct.pack(e + "IIIII", iface, 0x60000, 1000, len(data), wire) + data)


def spb(e, data):
    return block(e, 3, struct.pack(e + "I", len(data)) + data)


def obsolete_pb(e, data):
    return block(e, 2, struct.pack(e + "HHIIII", 0, 0, 0x60000, 1000, len(data), len(data)) + data)


def nrb(e):
    rec = struct.pack(e + "HH", 1, 4 + 13) + pad4(b"\x0a\x01\x00\x02example.test\0")
    return block(e, 4, rec + struct.pack(e + "HH", 0, 0))


def isb(e):
    return block(e, 5, struct.pack(e + "III", 0, 0x60000, 1000) + option(e, 4, b"\0" * 8))


def custom(e):
    return block(e, 0x00000BAD, struct.pack(e + "I", 32473) + b"hspy seed")


def pcapng_streams():
    req, resp = frame(1, REQUEST), frame(1, RESPONSE, sport=80, dport=40000)
    s = {}
    for name, e in (("le", "<"), ("be", ">")):
        s["pcapng-%s-blocks" % name] = (shb(e) + idb(e, 1, tsresol=9) + nrb(e) + epb(e, req) +
                                        custom(e) + spb(e, resp) + obsolete_pb(e, req) + isb(e))
    # A second section in the other byte order, with its own interfaces.
    s["pcapng-two-sections"] = (shb("<") + idb("<", 1) + epb("<", req) + shb(">") +
                                idb(">", 101) + epb(">", frame(101, REQUEST)))
    s["pcapng-interfaces"] = (shb("<") + idb("<", 1) + idb("<", 276) + epb("<", req) +
                              epb("<", frame(276, RESPONSE, v6=True), iface=1))
    s["pcapng-sll2-snaplen"] = (shb("<") + idb("<", 276, snaplen=64) +
                                epb("<", frame(276, RESPONSE)[:64],
                                    wire=len(frame(276, RESPONSE))))
    s["pcapng-packet-before-idb"] = shb("<") + epb("<", req) + idb("<", 1)
    s["pcapng-shb-only"] = shb("<")
    whole = shb("<") + idb("<", 1) + epb("<", req)
    s["pcapng-block-header-cut"] = whole + epb("<", resp)[:6]
    s["pcapng-block-cut"] = whole + epb("<", resp)[:50]
    s["pcapng-shb-cut"] = shb(">")[:10]
    # Lengths no block has, each after whole blocks.
    s["pcapng-length-odd"] = whole + block("<", 6, b"\0" * 20, length=30)
    s["pcapng-length-short"] = whole + block("<", 6, b"", length=8)
    s["pcapng-length-over"] = whole + struct.pack("<II", 6, RECORD_MAX + 4)
    s["pcapng-length-limit"] = whole + struct.pack("<II", 6, RECORD_MAX)
    s["pcapng-bad-bom"] = whole + shb("<", bom=0x11223344)
    # Not a capture at all: an HTTP request, and too few bytes to tell.
    s["other-http"] = REQUEST
    s["other-short"] = b"\xd4\xc3\xb2"
    return s


def seeds():
    out = {}
    streams = dict(pcap_streams())
    streams.update(pcapng_streams())
    for name, data in sorted(streams.items()):
        for piece, byte in PIECES.items():
            out[PREFIX + name + "-" + piece] = bytes([byte]) + data
    return out


def main(argv):
    corpus = os.path.join(TOP, "tests", "fuzz", "corpus", "pcapframe")
    check = len(argv) >= 2 and argv[1] == "--check"
    replay = argv[2] if check and len(argv) == 3 else None
    if len(argv) > (3 if check else 1):
        sys.stderr.write(__doc__)
        return 2
    want = seeds()
    bad = []
    for name, seed in sorted(want.items()):
        path = os.path.join(corpus, name)
        have = open(path, "rb").read() if os.path.exists(path) else None
        if have == seed:
            continue
        if check:
            bad.append(name)
        else:
            with open(path, "wb") as f:
                f.write(seed)
            print("wrote", os.path.relpath(path, TOP))
    for name in sorted(os.listdir(corpus)):
        if name.startswith(PREFIX) and name not in want:
            if check:
                bad.append(name + " (no longer generated)")
            else:
                os.remove(os.path.join(corpus, name))
                print("removed", os.path.relpath(os.path.join(corpus, name), TOP))
    if bad:
        print("fuzz seeds missing or stale (run tests/fuzz/pcapframe_seeds.py):", " ".join(bad))
        return 1
    if replay:
        # The seeds as generated now, whatever the folder holds besides.
        with tempfile.TemporaryDirectory() as d:
            for name, seed in want.items():
                with open(os.path.join(d, name), "wb") as f:
                    f.write(seed)
            run = subprocess.run([replay, d])
            if run.returncode != 0:
                print("fuzz_pcapframe failed on its generated seeds (status %d)" % run.returncode)
                return 1
        print("%d generated seeds replayed" % len(want))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
