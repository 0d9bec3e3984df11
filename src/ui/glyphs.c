/*
 * glyphs owns the two symbol sets. They are constant data; nothing here decides which one is
 * used (the terminal layer picks by locale).
 */
#include "hspy/glyphs.h"

const struct glyphs GLYPHS_UTF8 = {
    .warn = "⚠",
    .held = "⏸",
    .truncated = "✂",
    .partial = "…",
    .gap = "░",
    .mark = "●",
    .ellipsis = "…",
    .hline = "─",
    .vline = "┊",
    .full = "█",
    .empty = "░",
    .thin = "▏",
    .arrow = "→",
    .up = "▲",
    .down = "▼",
    .on = "●",
    .off = "○",
    .enter = "⏎",
    .left = "←",
    .right = "→",
    .upkey = "↑",
    .downkey = "↓",
    .edited = "✎",
    .replay = "↻",
    .wire_flags = TERMSAFE_SYMBOLS,
};

const struct glyphs GLYPHS_ASCII = {
    .warn = "!",
    .held = "H",
    .truncated = "T",
    .partial = "~",
    .gap = "?",
    .mark = "*",
    .ellipsis = "~",
    .hline = "-",
    .vline = "|",
    .full = "#",
    .empty = ".",
    .thin = "|",
    .arrow = ">",
    .up = "^",
    .down = "v",
    .on = "*",
    .off = "o",
    .enter = "Enter",
    .left = "Left",
    .right = "Right",
    .upkey = "Up",
    .downkey = "Down",
    .edited = "E",
    .replay = "R",
    /* The symbols are UTF-8: an ASCII terminal would show their bytes as mojibake. */
    .wire_flags = TERMSAFE_ASCII,
};
