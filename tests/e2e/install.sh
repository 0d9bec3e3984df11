#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the installed hspy is used from there the way
# a user would: --version, --help, lint on a clean and on a broken message (exit 0 and 3), the
# man page found by man(1) under the prefix, the bash completion loaded from the prefix and
# completing with the installed binary, the documents in share/doc/hspy.
source "$(dirname "$0")/lib/common.sh"

cache=$HSPY_BUILD_DIR/CMakeCache.txt
cmake_cmd=$(sed -n 's/^CMAKE_COMMAND:INTERNAL=//p' "$cache")
[ -x "$cmake_cmd" ] || cmake_cmd=$(command -v cmake) || skip "cmake not found"

prefix=$WORK/prefix
if ! "$cmake_cmd" --install "$HSPY_BUILD_DIR" --prefix "$prefix" >"$WORK/install.log" 2>&1; then
    cat "$WORK/install.log"
    fail "cmake --install failed"
    finish
fi
echo "ok: installed into a temporary prefix"

bin=$prefix/bin/hspy
[ -x "$bin" ] || { fail "no executable at PREFIX/bin/hspy"; finish; }
# Run from elsewhere, with only the prefix on PATH for hspy, so nothing of the build is used.
cd "$WORK" || exit 1
export PATH="$prefix/bin:$PATH"
[ "$(command -v hspy)" = "$bin" ] || fail "PATH does not find the installed hspy"

check "installed --version matches the build" \
    test "$(hspy --version)" = "$("$HSPY" --version)"
check "installed --version names hspy and a version" \
    bash -c 'hspy --version | grep -qE "^hspy [0-9]+\.[0-9]+\.[0-9]+"'
check "installed --help lists the commands" bash -c 'hspy --help | grep -q "^  lint "'

printf 'GET /ok HTTP/1.1\r\nHost: example.test\r\n\r\n' >clean.http
printf 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' >smuggle.http
hspy lint clean.http >lint-clean.out
check "lint of a clean request exits 0" test $? -eq 0
hspy lint - <smuggle.http >lint-bad.out
check "lint of CL+TE exits 3" test $? -eq 3
check "lint names cl-and-te" grep -q 'cl-and-te' lint-bad.out
hspy lint --json smuggle.http >lint-bad.json
check "lint --json is JSON with the warning" python3 -c '
import json, sys
rows = [json.loads(line) for line in open("lint-bad.json")]
assert any(w["code"] == "cl-and-te" for w in rows[0]["warnings"]), rows
'

# The man page, where man(1) looks for it under the prefix.
man_dir=$prefix/share/man
page=$(ls "$man_dir/man1/hspy.1.gz" "$man_dir/man1/hspy.1" 2>/dev/null | head -1)
if grep -q '^HSPY_MAN_BUILT:INTERNAL=ON' "$cache"; then
    if [ -z "$page" ]; then
        fail "no man page at PREFIX/share/man/man1/hspy.1[.gz]"
    else
        echo "ok: man page installed at ${page#"$prefix"/}"
        case "$page" in
        *.gz) check "man page decompresses" bash -c "gzip -dc '$page' | grep -q '^\.SH \"*SYNOPSIS'" ;;
        esac
        if command -v man >/dev/null; then
            check "man finds hspy(1) under the prefix" \
                test "$(man -M "$man_dir" -w hspy 2>/dev/null)" = "$page"
            MANWIDTH=80 man -M "$man_dir" -P cat hspy >man.txt 2>man.err
            check "man renders hspy(1)" grep -q 'hspy lint' man.txt
        else
            echo "note: man(1) not installed; checked the file only"
        fi
    fi
else
    [ -z "$page" ] || fail "a man page was installed although the build has none"
    echo "note: this build has no man page (scdoc was missing at configure time)"
fi

# The completion script, loaded from the prefix, completing with the installed binary.
comp=$prefix/share/bash-completion/completions/hspy
if [ ! -f "$comp" ]; then
    fail "no completion at PREFIX/share/bash-completion/completions/hspy"
else
    check "completion registers for hspy" \
        bash -c "source '$comp' && complete -p hspy | grep -q -- '-F _hspy hspy'"
    got=$(bash -c "source '$comp'
        COMP_WORDS=(hspy li); COMP_CWORD=1; _hspy; echo \"\${COMPREPLY[*]}\"")
    check "installed completion completes subcommands ('$got')" test "$got" = "listen lint"
    got=$(bash -c "source '$comp'
        COMP_WORDS=(hspy lint --re); COMP_CWORD=2; _hspy; echo \"\${COMPREPLY[*]}\"")
    check "installed completion completes options ('$got')" test "$got" = "--request --response"
fi

check "README installed in share/doc/hspy" test -f "$prefix/share/doc/hspy/README.md"
finish
