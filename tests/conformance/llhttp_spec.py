#!/usr/bin/env python3
"""Conformance of hspy's parser against llhttp's specification files.

Each case in the llhttp markdown specs has an input (```http block) and llhttp's expected
callback log (```log block). Every input is run through `hspy lint --json` and compared:

  * for messages llhttp parses: method, URL, status, reason, headers in order and body must be
    the same;
  * for a message llhttp rejects (an "error" line in the log): hspy must report at least one
    warning on it, or mark it incomplete or unparsed ("show, never reject").

Cases hspy deliberately reads differently are listed, with the reason, in llhttp_known.txt; a
difference that is not listed fails the run. The summary line gives the counts.

Usage: llhttp_spec.py --hspy BIN --spec DIR [--known FILE] [--verbose]
"""
import argparse
import json
import os
import re
import subprocess
import sys

ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "f": b"\f", "\\": b"\\", '"': b'"', "0": b"\0"}


def unescape(text):
    """Turns the spec's escapes (\\r, \\n, \\t, \\f, \\xNN) into bytes."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i : i + 1]
        if c == b"\\" and i + 1 < len(raw):
            n = chr(raw[i + 1])
            if n == "x" and i + 3 < len(raw) + 1:
                out += bytes([int(raw[i + 2 : i + 4], 16)])
                i += 4
                continue
            if n in ESCAPES:
                out += ESCAPES[n]
                i += 2
                continue
        out += c
        i += 1
    return bytes(out)


def block_input(lines):
    """Every line ends in CRLF except lines ending in a backslash and the last line."""
    out = bytearray()
    for k, line in enumerate(lines):
        if line.endswith("\\") and not line.endswith("\\\\"):
            out += unescape(line[:-1])
        else:
            out += unescape(line)
            if k != len(lines) - 1:
                out += b"\r\n"
    return bytes(out)


def cases(path):
    """Yields (heading, meta, input bytes, log lines) for each case of a spec file."""
    heading, meta, http, log = None, None, None, None
    mode = None
    buf = []
    with open(path, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            if mode is None and raw.startswith("#"):
                heading = raw.lstrip("#").strip()
                meta = None
                continue
            m = re.match(r"<!-- meta=(\{.*\}) -->", raw)
            if mode is None and m:
                meta = json.loads(m.group(1))
                continue
            if mode is None and raw.startswith("```http"):
                mode, buf = "http", []
                continue
            if mode is None and raw.startswith("```log"):
                mode, buf = "log", []
                continue
            if mode is not None and raw.startswith("```"):
                if mode == "http":
                    http = block_input(buf)
                else:
                    log = buf
                    if meta is not None and http is not None:
                        yield heading, meta, http, log
                    http, log = None, None
                mode = None
                continue
            if mode is not None:
                buf.append(raw)


SPAN = re.compile(r'off=(\d+) len=(\d+) span\[(\w+)\]=(?:"(.*)"|(lf|cr))$')


def expected(log):
    """llhttp's messages: a list of dicts, and the index of the message it rejected (or None)."""
    msgs, cur, field = [], None, None
    error_at = None
    in_trailer = False
    for line in log:
        m = SPAN.search(line)
        if "message begin" in line:
            cur = {"method": b"", "url": b"", "status": None, "reason": b"", "headers": [],
                   "body": b"", "complete": False}
            msgs.append(cur)
            field = None
            in_trailer = False
        elif m and cur is not None:
            kind = m.group(3)
            value = unescape(m.group(4)) if m.group(4) is not None else \
                {"lf": b"\n", "cr": b"\r"}[m.group(5)]
            if in_trailer and kind in ("header_field", "header_value"):
                continue  # trailer fields: hspy keeps them in the body, not with the head
            if kind == "method":
                cur["method"] += value
            elif kind == "url":
                cur["url"] += value
            elif kind == "status":
                cur["reason"] += value
            elif kind == "header_field":
                if field != "name":
                    cur["headers"].append([b"", b""])
                cur["headers"][-1][0] += value
            elif kind == "header_value":
                if not cur["headers"]:
                    cur["headers"].append([b"", b""])
                cur["headers"][-1][1] += value
            elif kind == "body":
                cur["body"] += value
            field = "name" if kind == "header_field" else ("value" if kind == "header_value" else field)
        elif "headers complete" in line and cur is not None:
            in_trailer = True
            s = re.search(r"status=(\d+)", line)
            if s:
                cur["status"] = int(s.group(1))
        elif "message complete" in line and cur is not None:
            cur["complete"] = True
        elif "error code=" in line:
            code = int(re.search(r"error code=(\d+)", line).group(1))
            # 21: a pause the test asked for; 22/23: llhttp stops at CONNECT/Upgrade, the rest is
            # tunnel data. Neither is a rejection.
            if code in (21,):
                continue
            if code in (22, 23):
                break
            error_at = len(msgs) - 1 if msgs else 0
            break
    return msgs, error_at


def text(v):
    if v is None:
        return b""
    if isinstance(v, dict):
        import base64
        return base64.b64decode(v["base64"])
    return v.encode("utf-8")


def payload(body):
    import base64
    if body["payload_encoding"] == "base64":
        return base64.b64decode(body["payload"])
    return body["payload"].encode("utf-8")


def unfold(v):
    """hspy keeps obs-fold line breaks inside a value (the wire as sent); llhttp drops them."""
    return v.replace(b"\r\n", b"").replace(b"\n", b"")


def trim(v):
    """RFC 9110 excludes trailing whitespace from a field value; llhttp keeps it."""
    return v.rstrip(b" \t")


def latin1(v):
    """The spec logs show bytes >= 0x80 as Latin-1 characters written in UTF-8."""
    try:
        return v.decode("utf-8").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return v


def flatten(got):
    """hspy keeps interim (1xx) responses inside the exchange; llhttp reports each alone."""
    out = []
    for g in got:
        for status in g.get("interim", []):
            out.append({"interim": True, "status": status})
        out.append(g)
    return out


def run_hspy(hspy, kind, data):
    p = subprocess.run([hspy, "lint", "--json", "--" + kind, "-"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if p.returncode not in (0, 3):
        raise RuntimeError("hspy lint exited %d: %s" % (p.returncode, p.stderr.decode()))
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def compare(kind, exp, got):
    """Returns None when they agree, else a short description of the first difference."""
    if got is None:
        return "hspy reports no message"
    if got.get("interim"):
        return None if got["status"] == exp["status"] else "interim status %r vs %r" % (
            got["status"], exp["status"])
    if kind == "request":
        if text(got.get("method")) != exp["method"]:
            return "method %r vs %r" % (got.get("method"), exp["method"])
        if text(got.get("target")) != exp["url"]:
            return "url %r vs %r" % (got.get("target"), exp["url"])
    else:
        if exp["status"] is not None and got.get("status") != exp["status"]:
            return "status %r vs %r" % (got.get("status"), exp["status"])
        if text(got.get("reason")) != exp["reason"]:
            return "reason %r vs %r" % (got.get("reason"), exp["reason"])
    headers = [[text(n), unfold(text(v))] for n, v in got.get("headers", [])]
    want = [[n, trim(unfold(v))] for n, v in exp["headers"]]
    want_latin1 = [[n, latin1(v)] for n, v in want]
    if headers != want and headers != want_latin1:
        return "headers %r vs %r" % (headers, want)
    body = b"" if got.get("framing", {}).get("kind") == "tunnel" else payload(got["body"])
    if exp["complete"] and body != exp["body"]:
        return "body %r vs %r" % (body, exp["body"])
    return None


def judge(kind, msgs, error_at, got):
    """Returns (verdict, detail) with verdict agree/warned/differ."""
    got = flatten(got)
    for i, exp in enumerate(msgs):
        g = got[i] if i < len(got) else None
        if error_at is not None and i == error_at:
            # The message llhttp rejects, or the bytes that follow it, must carry a warning.
            for h in got[i:i + 2]:
                if h.get("interim"):
                    continue
                if h["warnings"] or not h.get("parsed") or "complete" not in h.get("flags", []):
                    return "warned", None
            return "differ", "llhttp rejects message %d, hspy has no warning" % (i + 1)
        if not exp["complete"]:
            continue
        why = compare(kind, exp, g)
        if why:
            return "differ", "message %d: %s" % (i + 1, why)
    if error_at is not None and error_at >= len(msgs):
        last = got[-1] if got else None
        if last is None or last.get("warnings"):
            return "warned", None
        return "differ", "llhttp rejects, hspy has no warning"
    return "agree", None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hspy", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--known", default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    known = {}
    if args.known and os.path.exists(args.known):
        for line in open(args.known, encoding="utf-8"):
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                key, _, reason = line.partition("\t")
                known[key] = reason

    counts = {"agree": 0, "warned": 0, "known": 0, "differ": 0, "skipped": 0}
    failures = []
    for sub in ("request", "response"):
        folder = os.path.join(args.spec, sub)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".md"):
                continue
            for heading, meta, data, log in cases(os.path.join(folder, name)):
                key = "%s/%s: %s" % (sub, name, heading)
                kind = "request" if meta["type"].startswith("request") else "response"
                if meta.get("skipBody") or meta["type"].endswith("-finish"):
                    counts["skipped"] += 1  # needs the request method or a finish() call
                    continue
                msgs, error_at = expected(log)
                got = run_hspy(args.hspy, kind, data)
                verdict, detail = judge(kind, msgs, error_at, got)
                if verdict == "differ" and key in known:
                    verdict = "known"
                counts[verdict] += 1
                if verdict == "differ":
                    failures.append("%s\n    %s" % (key, detail))
                if args.verbose:
                    print("%-7s %s%s" % (verdict, key, "  -- " + detail if detail else ""))
    for f in failures:
        print("DIFFERS: " + f)
    total = sum(counts.values())
    print("llhttp spec: %d cases: %d agree, %d rejected by llhttp and warned by hspy, "
          "%d known differences, %d differ, %d skipped" % (
              total, counts["agree"], counts["warned"], counts["known"], counts["differ"],
              counts["skipped"]))
    return 1 if counts["differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
