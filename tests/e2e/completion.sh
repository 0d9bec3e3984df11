#!/usr/bin/env bash
# Bash completion (scripts/completion/hspy.bash) driven the way bash drives it: COMP_WORDS and
# COMP_CWORD set, _hspy called, COMPREPLY read. Against the real binary: subcommands, each
# subcommand's options exactly as its --help lists them, option values (--log words, FILE
# arguments, interfaces) and positional FILE arguments. Against a stand-in binary whose help
# shows other value names: DIR, TEXT|@FILE, CMD and a value with spaces, and an option the real
# table lacks (completion follows the binary, so it cannot go stale). With and without the
# bash-completion package loaded when it is installed.
source "$(dirname "$0")/lib/common.sh"

script=$HSPY_SOURCE_DIR/scripts/completion/hspy.bash
[ -f "$script" ] || { fail "no completion script"; finish; }

mkdir -p "$WORK/bin" "$WORK/fake" "$WORK/files/sub dir"
ln -s "$HSPY" "$WORK/bin/hspy"
touch "$WORK/files/a.pcap" "$WORK/files/b.har" "$WORK/files/sub dir/c.txt"

# A stand-in hspy: same help layout as the real one, other options.
cat >"$WORK/fake/hspy" <<'EOF'
#!/usr/bin/env bash
case "$1 $2" in
"--help "*)
    printf 'hspy 9.9.9 - test\n\nUsage: hspy COMMAND\n\nCommands:\n  listen   serve\n  lint     check\n\nGlobal options:\n  -h, --help   help\n'
    ;;
"listen --help")
    # The layout of options_help: "  %-26s %s", a wider option column on a line of its own.
    printf 'Usage: hspy listen [OPTIONS] FILE|-\n\nserve.\n\nOptions:\n'
    row() { printf '  %-26s %s\n' "$1" "$2"; }
    row '    --serve DIR' 'static files'
    row '    --body TEXT|@FILE' 'the body'
    row '    --exec CMD' 'run it'
    row "-H, --header 'NAME: VALUE'" 'add a header (the option column is exactly full)'
    row '    --export curl|raw|nc' 'a format'
    row '    --frob' 'a flag only this binary has'
    printf '  %s\n  %-26s %s\n' '    --a-very-long-option-name FILE' '' 'its help on the next line'
    row '-h, --help' 'show this help'
    ;;
*) exit 2 ;;
esac
EOF
chmod +x "$WORK/fake/hspy"

bash_completion=/usr/share/bash-completion/bash_completion
modes=(plain)
[ -f "$bash_completion" ] && modes+=(framework)

# complete MODE BINDIR WORD...: the candidates for the last word, sorted, space-separated.
complete_words() {
    local mode=$1 bindir=$2
    shift 2
    (
        cd "$WORK/files" || exit 1
        PATH="$bindir:$PATH" bash --norc --noprofile -c '
            mode=$1 bc=$2 script=$3
            shift 3
            if [ "$mode" = framework ]; then source "$bc" >/dev/null 2>&1; fi
            source "$script"
            COMP_WORDS=("$@")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="$*"
            COMP_POINT=${#COMP_LINE}
            _hspy
            printf "%s\n" "${COMPREPLY[@]}" | sed "s|/\$||" | LC_ALL=C sort | tr "\n" " " | sed "s/ \$//"
        ' _ "$mode" "$bash_completion" "$script" "$@"
    )
}

expect() { # expect MODE BINDIR "WANT" WORD...
    local mode=$1 bindir=$2 want=$3
    shift 3
    local got
    got=$(complete_words "$mode" "$bindir" "$@")
    if [ "$got" = "$want" ]; then
        echo "ok [$mode]: $* -> $got"
    else
        fail "[$mode] '$*': got '$got', want '$want'"
    fi
}

real=$WORK/bin
fake=$WORK/fake
# What the real binary offers, from its own help screens.
commands=$("$HSPY" --help | awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { on = 0 } on && /^  [a-z]/ { print $1 }' | LC_ALL=C sort | tr '\n' ' ')
for mode in "${modes[@]}"; do
    expect "$mode" "$real" "$(LC_ALL=C sort <<<"$(tr ' ' '\n' <<<"$commands help")" | grep . | tr '\n' ' ' | sed 's/ $//')" hspy ''
    expect "$mode" "$real" "lint listen" hspy l
    expect "$mode" "$real" "--help --version -V -h" hspy -
    expect "$mode" "$real" "proxy" hspy help pr
    for cmd in $commands; do
        want=$("$HSPY" "$cmd" --help | grep -oE '^  (-[A-Za-z0-9], |    )--[a-z0-9-]+' |
            sed -E 's/^  (-([A-Za-z0-9]), |    )--/\2 --/' | tr ' ' '\n' | sed '/^$/d; s/^\([A-Za-z0-9]\)$/-\1/' |
            LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
        expect "$mode" "$real" "$want" hspy "$cmd" -
    done
    expect "$mode" "$real" "--request --response" hspy lint --re
    expect "$mode" "$real" "full line none" hspy read --log ''
    expect "$mode" "$real" "full" hspy read --log = f
    expect "$mode" "$real" "a.pcap b.har sub dir" hspy read --har ''
    expect "$mode" "$real" "a.pcap" hspy read a
    expect "$mode" "$real" "a.pcap" hspy read --json --har out.har a
    expect "$mode" "$real" "b.har" hspy read --har = b
    expect "$mode" "$real" "" hspy read a.pcap ''
    expect "$mode" "$real" "" hspy listen ''
    expect "$mode" "$real" "lo" hspy sniff -i lo
    expect "$mode" "$real" "lo" hspy sniff --interface lo
    expect "$mode" "$real" "" hspy lint --max-headers ''

    expect "$mode" "$fake" "--a-very-long-option-name --body --exec --export --frob --header --help --serve -H -h" hspy listen -
    expect "$mode" "$fake" "sub dir" hspy listen --serve s
    expect "$mode" "$fake" "@a.pcap" hspy listen --body @a
    expect "$mode" "$fake" "" hspy listen --body hello
    expect "$mode" "$fake" "curl" hspy listen --export c
    expect "$mode" "$fake" "" hspy listen -H X
    expect "$mode" "$fake" "a.pcap" hspy listen -H 'X: 1' a
    expect "$mode" "$fake" "b.har" hspy listen --a-very-long-option-name b
    got=$(complete_words "$mode" "$fake" hspy listen --exec bas)
    case " $got " in
    *" bash "*) echo "ok [$mode]: hspy listen --exec bas -> commands" ;;
    *) fail "[$mode] --exec CMD: commands expected, got '$got'" ;;
    esac
done

# The same through a real interactive bash in tmux: Tab completes an option and a file name.
if command -v tmux >/dev/null; then
    sock=$WORK/tmux.sock
    {
        echo "PS1='\$ '"
        echo "PATH='$real':\$PATH"
        echo "source '$script'"
        echo "cd '$WORK/files'"
    } >"$WORK/rc"
    tmux -S "$sock" new-session -d -x 120 -y 10 "bash --noprofile --rcfile '$WORK/rc' -i"
    BG_PIDS+=("$(tmux -S "$sock" display-message -p '#{pid}')")
    # screen_line WANT: waits (4 s at most) for the last non-empty line to read WANT; prints it.
    screen_line() {
        local i line
        for ((i = 0; i < 40; i++)); do
            line=$(tmux -S "$sock" capture-pane -p | sed '/^$/d' | tail -1)
            [ "$line" = "$1" ] && break
            sleep 0.1
        done
        printf '%s\n' "$line"
    }
    screen_line '$' >/dev/null
    # capture-pane drops trailing spaces: "--response " reads "--response".
    tmux -S "$sock" send-keys 'hspy lint --resp' Tab
    line=$(screen_line '$ hspy lint --response')
    check "tmux: Tab completes --resp to --response ('$line')" test "$line" = '$ hspy lint --response'
    tmux -S "$sock" send-keys C-u 'hspy read a.p' Tab
    line=$(screen_line '$ hspy read a.pcap')
    check "tmux: Tab completes a file argument ('$line')" test "$line" = '$ hspy read a.pcap'
    tmux -S "$sock" send-keys C-u 'hspy read su' Tab
    line=$(screen_line '$ hspy read sub\ dir/')
    check "tmux: a folder name is quoted and ends in / ('$line')" test "$line" = '$ hspy read sub\ dir/'
    tmux -S "$sock" send-keys C-u 'hspy read --log f' Tab
    line=$(screen_line '$ hspy read --log full')
    check "tmux: Tab completes an option's value ('$line')" test "$line" = '$ hspy read --log full'
    tmux -S "$sock" kill-server
else
    echo "note: tmux not installed; interactive check skipped"
fi
finish
