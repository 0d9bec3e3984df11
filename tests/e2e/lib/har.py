"""HAR helpers for the end-to-end scripts (not a test itself).

  har.py same A B [A B...] entries of each A and B equal (log.pages and log.creator may differ)
  har.py count A           number of entries
  har.py ids A             the entries' _hspy.id, one per line
  har.py raw A I SIDE      writes entry I's _hspy.SIDE.raw bytes to stdout
  har.py notes A           each entry's _hspy.note, one per line
  har.py summary A         method, URL, status, request and response raw sizes per entry
"""
import base64
import json
import sys


def entries(path):
    with open(path, "rb") as f:
        doc = json.load(f)
    return doc["log"]["entries"]


def first_difference(a, b, where="entry"):
    if type(a) is not type(b):
        return "%s: %r != %r" % (where, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (where, k, "first" if k in a else "second")
            d = first_difference(a[k], b[k], where + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d != %d items" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (where, a, b)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    es = entries(path)
    if cmd == "same":
        bad = 0
        files = sys.argv[2:]
        for a, b in zip(files[0::2], files[1::2]):
            d = first_difference(entries(a), entries(b), "entries")
            if d:
                print("%s vs %s: %s" % (a, b, d[:2000]))
                bad += 1
        sys.exit(1 if bad else 0)
    elif cmd == "count":
        print(len(es))
    elif cmd == "ids":
        for e in es:
            print(e["_hspy"]["id"])
    elif cmd == "raw":
        rec = es[int(sys.argv[3])]["_hspy"][sys.argv[4]]
        sys.stdout.buffer.write(base64.b64decode(rec["raw"]) if rec else b"")
    elif cmd == "notes":
        for e in es:
            print(e.get("_hspy", {}).get("note"))
    elif cmd == "summary":
        for e in es:
            h = e.get("_hspy", {})
            sizes = [len(base64.b64decode(h[s]["raw"])) if h.get(s) else 0
                     for s in ("request", "response")]
            print(e["request"]["method"], e["request"]["url"], e["response"]["status"], *sizes)
    else:
        sys.exit("unknown command " + cmd)


main()
