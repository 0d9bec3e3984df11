#!/usr/bin/env python3
"""The seeds of fuzz_packet made from the project's captures.

    tests/fuzz/packet_seeds.py            writes tests/fuzz/corpus/packet/<capture> for each one
    tests/fuzz/packet_seeds.py --check    exit 1, naming them, when a seed is missing or stale

Every capture under captures/ (pcap or pcapng) whose seed fits in SEED_MAX bytes (the -max_len
the fuzzing docs use) gets a seed named after it without its extension, in fuzz_packet.c's format:
a byte choosing the link type (the harness's LINKS table), then per frame a 2-byte big-endian
length whose top bit marks a frame the snap length cut, and the frame's captured bytes. Seeds of
other names (regress-*) are the fuzzer's finds and are left alone.
"""
import os
import struct
import sys

SEED_MAX = 20000
FRAME_MAX = 0x7FFF
# fuzz_packet.c's LINKS, in order, by libpcap link type (DLT_RAW has three numbers).
LINKS = {1: 0, 12: 1, 14: 1, 101: 1, 0: 2, 108: 3, 113: 4, 276: 5, 239: 6, 229: 7}


def pcap_frames(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    link = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    frames, pos = [], 24
    while pos + 16 <= len(data):
        caplen, wirelen = struct.unpack(e + "II", data[pos + 8:pos + 16])
        pos += 16
        frames.append((data[pos:pos + caplen], wirelen))
        pos += caplen
    return link, frames


def pcapng_frames(data):
    e, links, frames, pos = "<", [], [], 0
    while pos + 12 <= len(data):
        btype = struct.unpack(e + "I", data[pos:pos + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack(e + "I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6:
            caplen, wirelen = struct.unpack(e + "II", body[12:20])
            frames.append((body[20:20 + caplen], wirelen))
        if blen < 12:
            break
        pos += blen
    return (links[0] if links else None), frames


def seed_of(path):
    data = open(path, "rb").read()
    link, frames = pcap_frames(data)
    if link is None:
        link, frames = pcapng_frames(data)
    if link not in LINKS:
        return None
    out = bytearray([LINKS[link]])
    for frame, wire in frames:
        n = min(len(frame), FRAME_MAX)
        cut = 0x8000 if wire > n else 0
        out += struct.pack(">H", n | cut) + frame[:n]
    return bytes(out) if len(out) <= SEED_MAX else None


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    caps = os.path.join(top, "captures")
    corpus = os.path.join(top, "tests", "fuzz", "corpus", "packet")
    check = argv[1:] == ["--check"]
    bad = []
    for name in sorted(os.listdir(caps)):
        if not name.endswith((".pcap", ".pcapng")):
            continue
        seed = seed_of(os.path.join(caps, name))
        if seed is None:
            continue
        path = os.path.join(corpus, name.rsplit(".", 1)[0])
        have = open(path, "rb").read() if os.path.exists(path) else None
        if have == seed:
            continue
        if check:
            bad.append(os.path.basename(path))
        else:
            with open(path, "wb") as f:
                f.write(seed)
            print("wrote", os.path.relpath(path, top))
    if bad:
        print("fuzz seeds missing or stale (run tests/fuzz/packet_seeds.py):", " ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
