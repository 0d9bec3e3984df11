# bash completion for hspy                                      -*- shell-script -*-
#
# Subcommands, options and their values are read from the hspy being completed, at completion
# time: `hspy --help` lists the subcommands and `hspy COMMAND --help` lists that subcommand's
# options with their value names (FILE, DIR, IFACE, ...). The help screens are generated from
# hspy's option table, so this script never needs updating when options are added and cannot
# disagree with the binary it completes for (./build/hspy as well as the installed one).
#
# Values are completed from the value name: FILE and @FILE as file names, DIR as directories,
# IFACE as network interfaces, CMD as commands, a|b|c as those words; positional arguments from
# the usage line the same way (read and lint take FILE|-). Works with or without the
# bash-completion package loaded.

# _hspy_help BINARY [COMMAND]: the help screen, or nothing when the binary does not answer.
_hspy_help()
{
    "$1" ${2:+"$2"} --help 2>/dev/null
}

# _hspy_commands BINARY: the subcommand names, one per line, from the "Commands:" section.
_hspy_commands()
{
    _hspy_help "$1" | awk '
        /^Commands:/ { on = 1; next }
        on && /^[^ ]/ { on = 0 }
        on && /^  [a-z]/ { print $1 }'
}

# _hspy_options BINARY COMMAND: one option per line as "LONG US SHORT US VALUE-NAME", US being the
# unit separator \037 (SHORT and VALUE-NAME empty when absent). An option line is
# "  -X, --name VALUE" or "      --name VALUE" padded to the help column, then the help text;
# a value name may contain single spaces ('NAME: VALUE'). An option column too wide for the
# padding stands alone and its help follows on the next line, indented to the help column.
# The help column is read off the "-h, --help" line that every help screen ends with.
_hspy_options()
{
    _hspy_help "$1" "$2" | awk '
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
                short = ""
                if (left ~ /^-[A-Za-z0-9], /) short = substr(left, 1, 2)
                sub(/^(-[A-Za-z0-9], |    )--/, "", left)
                name = left
                sub(/ .*/, "", name)
                value = substr(left, length(name) + 2)
                printf "%s\037%s\037%s\n", name, short, value
            }
        }'
}

# _hspy_usage_args BINARY COMMAND: the positional argument names of the usage line, one per line
# ("Usage: hspy read [OPTIONS] FILE|-" gives "FILE|-").
_hspy_usage_args()
{
    _hspy_help "$1" "$2" | awk '
        /^Usage: / {
            sub(/^Usage: [^ ]+ [^ ]+ (\[OPTIONS\] )?/, "")
            n = split($0, words, " ")
            for (i = 1; i <= n; i++) print words[i]
            exit
        }'
}

# _hspy_value_name TABLE OPTION: the value name of OPTION (--name or -X) in a table from
# _hspy_options; nothing for a flag or an option the subcommand does not have.
_hspy_value_name()
{
    local name short value
    while IFS=$'\037' read -r name short value; do
        if [[ $2 == "--$name" || (-n $short && $2 == "$short") ]]; then
            printf '%s' "$value"
            return
        fi
    done <<<"$1"
}

# _hspy_value VALUE-NAME OPTION CUR: fills COMPREPLY with candidates for an option's value or a
# positional argument named VALUE-NAME.
_hspy_value()
{
    local kind=$1 opt=$2 cur=$3
    case "$opt" in
    --log) kind='line|full|none' ;; # its value name is STYLE; the words are in its help text
    esac
    case "$kind" in
    *@FILE*)
        if [[ $cur == @* ]]; then
            _hspy_files "${cur#@}" '@'
        fi
        ;;
    *FILE*) _hspy_files "$cur" '' ;;
    *DIR*) _hspy_dirs "$cur" ;;
    IFACE)
        local ifaces
        ifaces=$(command ls /sys/class/net 2>/dev/null)
        mapfile -t COMPREPLY < <(compgen -W "$ifaces" -- "$cur")
        ;;
    CMD) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    *'|'*)
        # Alternatives in lower case are literal words (line|full|none); upper case are names.
        if [[ $kind =~ ^[a-z0-9|-]+$ ]]; then
            mapfile -t COMPREPLY < <(compgen -W "${kind//|/ }" -- "$cur")
        fi
        ;;
    esac
}

# _hspy_files CUR PREFIX: file names matching CUR, each with PREFIX put back in front.
_hspy_files()
{
    local cur=$1 prefix=$2
    if [ -z "$prefix" ] && declare -F _filedir >/dev/null; then
        cur=$cur _filedir
        return
    fi
    compopt -o filenames 2>/dev/null
    local f
    COMPREPLY=()
    while IFS= read -r f; do
        COMPREPLY+=("$prefix$f")
    done < <(compgen -f -- "$cur")
}

_hspy_dirs()
{
    if declare -F _filedir >/dev/null; then
        cur=$1 _filedir -d
        return
    fi
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_hspy()
{
    COMPREPLY=()
    local words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
    local cword=$COMP_CWORD
    local cur=${words[cword]} prev=
    ((cword > 0)) && prev=${words[cword - 1]}

    # bash splits "--har=FILE" at the '=': rejoin so the value is completed for its option.
    local eqopt=
    if [[ $cur == = && $prev == --* ]]; then
        eqopt=$prev cur=
    elif [[ $prev == = ]] && ((cword >= 2)) && [[ ${words[cword - 2]} == --* ]]; then
        eqopt=${words[cword - 2]}
    elif [[ $cur == --*=* ]]; then
        eqopt=${cur%%=*} cur=${cur#*=}
    fi

    local bin=${words[0]}
    bin=${bin/#\~/$HOME}
    command -v "$bin" >/dev/null 2>&1 || return 0

    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W '-h --help -V --version' -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_hspy_commands "$bin") help" -- "$cur")
        fi
        return 0
    fi

    local cmd=${words[1]}
    case "$cmd" in
    help | -h | --help)
        ((cword == 2)) && mapfile -t COMPREPLY < <(compgen -W "$(_hspy_commands "$bin")" -- "$cur")
        return 0
        ;;
    -* | version) return 0 ;;
    esac

    local table
    table=$(_hspy_options "$bin" "$cmd")
    [ -n "$table" ] || return 0

    local kind
    if [ -n "$eqopt" ]; then
        kind=$(_hspy_value_name "$table" "$eqopt")
        [ -n "$kind" ] && _hspy_value "$kind" "$eqopt" "$cur"
        if [[ ${words[cword]} == --*=* ]]; then
            # '=' is not a word break here: the replies replace the whole "--opt=value" word.
            COMPREPLY=("${COMPREPLY[@]/#/$eqopt=}")
        fi
        return 0
    fi
    if [[ $prev == -* && $prev != -- ]] && ((cword >= 3)); then
        kind=$(_hspy_value_name "$table" "$prev")
        if [ -n "$kind" ]; then
            _hspy_value "$kind" "$prev" "$cur"
            return 0
        fi
    fi

    # Count the positional arguments before the cursor, skipping options and their values.
    local i w npos=0 after_dashes=
    for ((i = 2; i < cword; i++)); do
        w=${words[i]}
        if [ -n "$after_dashes" ] || [[ $w != -* || $w == - ]]; then
            # A value glued with '=' arrives as "--opt" "=" "value": not positional.
            if [[ $w == = ]] || { ((i >= 3)) && [[ ${words[i - 1]} == = ]]; }; then
                continue
            fi
            ((npos++))
            continue
        fi
        if [[ $w == -- ]]; then
            after_dashes=1
            continue
        fi
        [[ $w == --*=* ]] && continue
        kind=$(_hspy_value_name "$table" "$w")
        if [ -n "$kind" ] && ((i + 1 < cword)) && [[ ${words[i + 1]} != = ]]; then
            ((i++))
        fi
    done

    if [[ $cur == -* && -z $after_dashes ]]; then
        local longs
        longs=$(printf '%s\n' "$table" | awk -F'\037' '{ print "--" $1; if ($2 != "") print $2 }')
        mapfile -t COMPREPLY < <(compgen -W "$longs" -- "$cur")
        return 0
    fi

    local args=()
    mapfile -t args < <(_hspy_usage_args "$bin" "$cmd")
    if ((npos < ${#args[@]})); then
        _hspy_value "${args[npos]}" "" "$cur"
    fi
    return 0
}

complete -F _hspy hspy
