#!/usr/bin/env bash
# The help screens and the man page agree with the program's own tables ($HSPY_DOCLIST prints
# them): every subcommand is in `hspy --help` and in the man page; every option of the option
# table is listed by `hspy CMD --help` for exactly the subcommands that accept it, and is
# documented in the man page's OPTIONS section with the same spelling as the help shows
# ("-i, --interface IFACE"); the man page documents no option the table lacks; every warning
# code is in WARNING CODES. Adding an option, a subcommand or a warning code without
# documenting it fails here. When scdoc was available to the build, the rendered page is
# checked too.
source "$(dirname "$0")/lib/common.sh"

: "${HSPY_DOCLIST:?HSPY_DOCLIST must name the doclist tool}"
scd=$HSPY_SOURCE_DIR/docs/hspy.1.scd
[ -f "$scd" ] || { fail "no man page source at docs/hspy.1.scd"; finish; }

"$HSPY_DOCLIST" >"$WORK/facts" || { fail "doclist failed"; finish; }
mapfile -t commands < <(awk '$1 == "command" { print $2 }' "$WORK/facts")
[ ${#commands[@]} -ge 5 ] || fail "doclist lists ${#commands[@]} subcommands"

# The man page source without markup (scdoc: *bold*, _underline_, \ escapes).
plain() { sed -e 's/\\\(.\)/\1/g' -e 's/[*_]//g'; }
# Lines of one "# SECTION" of the source, up to the next top-level heading.
section() { awk -v want="# $1" '$0 == want { on = 1; next } on && /^# / { exit } on' "$scd"; }
section OPTIONS >"$WORK/options.scd"
section COMMANDS >"$WORK/commands.scd"
section SYNOPSIS >"$WORK/synopsis.scd"
section "WARNING CODES" >"$WORK/warnings.scd"
[ -s "$WORK/options.scd" ] || fail "the man page has no OPTIONS section"
[ -s "$WORK/warnings.scd" ] || fail "the man page has no WARNING CODES section"
# Definition terms: lines at column 0 starting with bold text, in plain form.
grep '^\*' "$WORK/options.scd" | plain >"$WORK/option-terms"

"$HSPY" --help >"$WORK/help" || fail "hspy --help exits non-zero"
for cmd in "${commands[@]}"; do
    grep -qE "^  $cmd +[a-z]" "$WORK/help" || fail "hspy --help does not list the subcommand $cmd"
    grep -qF "*hspy $cmd*" "$WORK/synopsis.scd" || fail "man page SYNOPSIS lacks hspy $cmd"
    grep -qE "^\*$cmd\*" "$WORK/commands.scd" || fail "man page COMMANDS lacks $cmd"
    "$HSPY" "$cmd" --help >"$WORK/help.$cmd" || fail "hspy $cmd --help exits non-zero"
done

# The left column of an option's line in a help screen: "-i, --interface IFACE", "--har FILE".
# Help screens pad it to the help column (read off the "-h, --help" line); a wider one stands on
# its own line, its help on the next, indented to that column.
help_left() { # FILE OPTION
    awk -v opt="--$2" '
        { line[NR] = $0 }
        /^  -h, --help +[^ ]/ { match($0, /^  -h, --help +/); col = RLENGTH + 1 }
        END {
            if (!col) exit
            indent = sprintf("%" (col - 1) "s", "")
            for (i = 1; i <= NR; i++) {
                if (line[i] !~ /^  (-[A-Za-z0-9], |    )--[A-Za-z0-9]/) continue
                if (substr(line[i + 1], 1, col - 1) == indent && substr(line[i + 1], col, 1) != " ")
                    left = substr(line[i], 3)
                else
                    left = substr(line[i], 3, col - 4)
                sub(/ +$/, "", left)
                sub(/^    /, "", left)
                name = left
                sub(/^-[A-Za-z0-9], /, "", name)
                sub(/ .*/, "", name)
                if (name == opt) { print left; exit }
            }
        }' "$1"
}

noptions=0
while read -r kind name accepted; do
    [ "$kind" = option ] || continue
    noptions=$((noptions + 1))
    left=
    for cmd in "${commands[@]}"; do
        this=$(help_left "$WORK/help.$cmd" "$name")
        case " $accepted " in
        *" $cmd "*)
            if [ -z "$this" ]; then
                fail "hspy $cmd --help does not list --$name"
            elif [ -n "$left" ] && [ "$this" != "$left" ]; then
                fail "--$name is shown as '$this' by $cmd and as '$left' elsewhere"
            fi
            left=${left:-$this}
            ;;
        *) [ -z "$this" ] || fail "hspy $cmd --help lists --$name, which $cmd does not accept" ;;
        esac
    done
    [ -n "$left" ] || continue
    if ! grep -qE -- "(^|, )--$name( |,|$)" "$WORK/option-terms"; then
        fail "man page OPTIONS does not document --$name (help shows: $left)"
    elif ! grep -qF -- "$left" "$WORK/option-terms"; then
        fail "man page OPTIONS spells --$name differently from its help ('$left')"
    fi
done <"$WORK/facts"
[ "$noptions" -ge 10 ] || fail "doclist lists only $noptions options"
echo "ok: $noptions options checked against ${#commands[@]} help screens and the man page"

# No documented option that the table lacks (a renamed or removed option).
grep -oE -- '(^|, )--[a-z0-9][-a-z0-9]*' "$WORK/option-terms" | sed 's/^, //' | sort -u |
    while read -r opt; do
        grep -qE "^option ${opt#--}( |$)" "$WORK/facts" ||
            echo "$opt"
    done >"$WORK/stale"
while read -r opt; do
    fail "man page OPTIONS documents $opt, which the option table lacks"
done <"$WORK/stale"

nwarnings=0
while read -r kind code; do
    [ "$kind" = warning ] || continue
    nwarnings=$((nwarnings + 1))
    grep -qF -- "*$code*" "$WORK/warnings.scd" || fail "man page WARNING CODES lacks $code"
done <"$WORK/facts"
echo "ok: $nwarnings warning codes checked"

# The rendered page, when this build has one.
page=$HSPY_BUILD_DIR/docs/hspy.1
if grep -q '^HSPY_MAN_BUILT:INTERNAL=ON' "$HSPY_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    if [ ! -s "$page" ]; then
        fail "the build renders the man page but $page is missing"
    else
        while read -r kind name _; do
            case "$kind" in
            option) grep -qF -- "\\fB--$name\\fR" "$page" || fail "rendered page lacks --$name" ;;
            command) grep -qF -- "\\fB$name\\fR" "$page" || fail "rendered page lacks $name" ;;
            esac
        done <"$WORK/facts"
        grep -q '@HSPY_VERSION@' "$page" && fail "rendered page still holds @HSPY_VERSION@"
        grep -qF "hspy $("$HSPY" --version | awk '{ print $2 }')" "$page" ||
            fail "rendered page does not name the version"
        if command -v groff >/dev/null; then
            # Formatting problems (bad requests, unbalanced fonts) are groff warnings.
            groff -k -man -Tutf8 -ww -z "$page" 2>"$WORK/groff.err"
            [ -s "$WORK/groff.err" ] && fail "groff warns: $(head -3 "$WORK/groff.err")"
        fi
        echo "ok: rendered page checked"
    fi
else
    echo "note: this build has no rendered man page (scdoc missing); checked the source only"
fi
finish
