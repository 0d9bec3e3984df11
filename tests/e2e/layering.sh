#!/usr/bin/env bash
# The layers stay apart: the pure core (src/core) includes only core headers and no event loop,
# terminal, capture or socket headers, and does no terminal or file output of its own; the I/O
# layer (src/io) never includes the UI's headers.
source "$(dirname "$0")/lib/common.sh"
src=$HSPY_SOURCE_DIR/src
inc=$HSPY_SOURCE_DIR/include/hspy

layer_of() { # layer_of NAME: core, io, ui or "?" for a header include/hspy/NAME.h
    local n=$1
    if [ -f "$src/core/$n.c" ]; then echo core
    elif [ -f "$src/io/$n.c" ]; then echo io
    elif [ -f "$src/ui/$n.c" ]; then echo ui
    else
        # Header-only interfaces: say which layer by the header's own includes.
        if grep -qE '#include <uv.h>|"hspy/(hspy|mode)\.h"' "$inc/$n.h" 2>/dev/null || [ "$n" = hspy ] || [ "$n" = mode ] || [ "$n" = sinks ]; then echo io
        elif [ "$n" = tui ]; then echo ui
        else echo core
        fi
    fi
}

check_file() { # check_file FILE LAYER
    local f=$1 layer=$2 h hl
    while read -r h; do
        hl=$(layer_of "$h")
        case "$layer/$hl" in
        core/core | io/core | io/io | ui/*) ;;
        *) fail "${f#$HSPY_SOURCE_DIR/} ($layer) includes hspy/$h.h ($hl)" ;;
        esac
    done < <(grep -oE '#include "hspy/[a-z0-9_]+\.h"' "$f" | sed -E 's/.*hspy\/([a-z0-9_]+)\.h.*/\1/')
}

for f in "$src"/core/*.c; do
    check_file "$f" core
    if grep -nE '#include <(uv|curses|ncurses[a-z]*|pcap[a-z/]*|sys/socket|netdb)\.h>' "$f"; then
        fail "${f#$HSPY_SOURCE_DIR/}: the core includes an I/O or terminal header"
    fi
    case "$(basename "$f")" in xmalloc.c) continue ;; esac
    if grep -nE '(^|[^a-z_])(printf|fprintf|puts|fputs|fopen|fwrite|socket|open)\(' "$f" | grep -vE '^\s*[0-9]+:\s*(/\*|\*)'; then
        fail "${f#$HSPY_SOURCE_DIR/}: the core does output of its own"
    fi
done
for f in "$inc"/*.h; do
    n=$(basename "$f" .h)
    [ "$(layer_of "$n")" = core ] || continue
    check_file "$f" core
    grep -qE '#include <(uv|curses|ncurses[a-z]*|pcap[a-z/]*)\.h>' "$f" && fail "include/hspy/$n.h (core) includes an I/O or terminal header"
done
for f in "$src"/io/*.c; do check_file "$f" io; done
[ "$FAILED" -eq 0 ] && echo "layers: core $(ls "$src"/core/*.c | wc -l) files, io $(ls "$src"/io/*.c | wc -l), ui $(ls "$src"/ui/*.c | wc -l)"
finish
