#!/usr/bin/env bash
# Every C file follows the committed .clang-format (run `clang-format -i` on the files named).
source "$(dirname "$0")/lib/common.sh"
command -v clang-format >/dev/null || skip "clang-format not installed"
cd "$HSPY_SOURCE_DIR"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests -name '*.[ch]')
bad=$(clang-format --dry-run $files 2>&1 | grep -oE '^[^:]+\.[ch]' | sort -u)
if [ -n "$bad" ]; then
    printf 'not formatted: %s\n' $bad
    fail "clang-format differences"
fi
echo "$(echo "$files" | wc -w) files checked"
finish
