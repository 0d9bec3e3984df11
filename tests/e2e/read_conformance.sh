#!/usr/bin/env bash
# Conformance of `hspy read`'s capture pipeline with tshark over the shared corpus: for each
# capture tshark summarised (corpus TSHARK_SUMMARY.txt), compares the number of requests and
# responses and the multisets of methods and status codes. Prints agreement counts and every
# difference; docs/read.md explains the known ones. Fails when a capture crashes the reader or
# when agreement falls below the recorded floor (so a regression cannot pass silently).
set -euo pipefail
corpus=${HSPY_CORPUS:-}
summary=$corpus/TSHARK_SUMMARY.txt
if [ -z "$corpus" ] || [ ! -f "$summary" ]; then
    echo "skipped: the shared corpus (HSPY_CORPUS) with TSHARK_SUMMARY.txt is not available"
    exit 77
fi
tool=$HSPY_BUILD_DIR/tests/test_pcapsource
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$corpus" "$summary" "$tool" "$tmp" <<'PY'
import collections, re, subprocess, sys
corpus, summary, tool, tmp = sys.argv[1:5]
# Floors: agreement measured when this test was written (88%, 85%) less a small margin: a
# drop below them is a regression.
FLOOR = {"requests": 0.86, "responses": 0.83, "methods": 0.86, "statuses": 0.83}

def parse_multiset(text):
    out = collections.Counter()
    if text:
        for item in text.split():
            k, _, v = item.rpartition(":")
            out[k] += int(v)
    return out

entries = []
name = None
for line in open(summary, encoding="utf-8", errors="replace"):
    m = re.match(r"== (\S+)", line)
    if m:
        name = m.group(1)
        continue
    if name and line.startswith(("link=", "pcapng", "decode-as")) or (name and " req=" in line):
        f = dict(re.findall(r"(\w+)=(\[[^\]]*\]|\S+)", line))
        if "req" in f:
            entries.append((name, f))
        name = None

agree = collections.Counter()
total = 0
diffs = []
crashes = []
for name, f in entries:
    path = corpus + "/" + name
    try:
        r = subprocess.run([tool, "--summary", path], capture_output=True, text=True,
                           errors="replace", timeout=60)
    except subprocess.TimeoutExpired:
        crashes.append((name, "timeout"))
        continue
    if r.returncode < 0 or r.returncode > 1:
        crashes.append((name, "exit %d" % r.returncode))
        continue
    if r.returncode == 1:
        # cannot open (link type not supported etc.): counted as disagreement, not a crash
        diffs.append((name, "not read: " + r.stderr.strip()))
        total += 1
        continue
    reqs = resps = 0
    methods, codes = collections.Counter(), collections.Counter()
    for line in r.stdout.splitlines():
        m = re.match(r"conn=\d+ seq=\d+ (\S+) (\S+) -> (\d+)", line)
        if not m:
            continue
        method, status = m.group(1), int(m.group(3))
        if method != "-":
            reqs += 1
            methods[method] += 1
        im = re.search(r" interim=(\d+)", line)
        if im:
            resps += int(im.group(1))
            codes["100"] += 0  # interim codes are not listed per code in the summary
        if status:
            resps += 1
            codes[str(status)] += 1
    want_m = parse_multiset(f.get("methods", "[]").strip("[]"))
    want_c = parse_multiset(f.get("codes", "[]").strip("[]"))
    # tshark lists interim responses among the codes; hspy keeps them inside the exchange.
    want_c_final = collections.Counter({k: v for k, v in want_c.items() if not k.startswith("1") or k == "101"})
    got = {"requests": reqs == int(f["req"]), "responses": resps == int(f["resp"]),
           "methods": methods == want_m, "statuses": codes == want_c_final}
    total += 1
    for k, ok in got.items():
        if ok:
            agree[k] += 1
    if not all(got.values()):
        diffs.append((name, "tshark req=%s resp=%s methods=%s codes=%s | hspy req=%d resp=%d methods=%s codes=%s" % (
            f["req"], f["resp"], dict(want_m), dict(want_c), reqs, resps, dict(methods), dict(codes))))

print("captures compared with tshark: %d" % total)
for k in ("requests", "responses", "methods", "statuses"):
    print("  %-9s agree on %d/%d (%.0f%%)" % (k, agree[k], total, 100.0 * agree[k] / max(total, 1)))
print("differences:")
for name, d in diffs:
    print("  %s: %s" % (name, d))
for name, why in crashes:
    print("CRASH %s: %s" % (name, why))
bad = bool(crashes)
for k, floor in FLOOR.items():
    if total and agree[k] / total < floor:
        print("FAIL: %s agreement below %.0f%%" % (k, floor * 100))
        bad = True
sys.exit(1 if bad else 0)
PY
