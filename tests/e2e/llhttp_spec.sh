#!/usr/bin/env bash
# Conformance against llhttp's specification cases (shared corpus): every case's input goes
# through `hspy lint --json` and is compared with llhttp's expected parse. Prints the counts;
# fails on any difference not listed with its reason in tests/conformance/llhttp_known.txt.
source "$(dirname "$0")/lib/common.sh"
spec=${HSPY_CORPUS:-}/llhttp
[ -d "$spec" ] || skip "shared corpus not found (HSPY_CORPUS=$spec): llhttp conformance not run"
command -v python3 >/dev/null || skip "python3 missing"
python3 "$HSPY_SOURCE_DIR/tests/conformance/llhttp_spec.py" --hspy "$HSPY" --spec "$spec" \
    --known "$HSPY_SOURCE_DIR/tests/conformance/llhttp_known.txt"
