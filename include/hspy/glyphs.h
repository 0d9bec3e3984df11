/*
 * glyphs: the symbols the interface draws, as data. A UTF-8 terminal gets the Unicode set;
 * any other locale gets an ASCII set. Every symbol drawn inside a layout (markers, bars)
 * takes one cell in both sets, so layouts do not depend on the set; key names may be longer.
 * Bytes drawn as they crossed the wire follow the set too: CR, LF and TAB as the symbols ␍ ␊ ␉
 * in UTF-8, as the escapes \r \n \t (and every other non-ASCII byte escaped) otherwise.
 */
#ifndef HSPY_GLYPHS_H
#define HSPY_GLYPHS_H

#include "hspy/termsafe.h"

struct glyphs {
    const char *warn;                           /* exchange carries warnings */
    const char *held;                           /* held by an intercept */
    const char *truncated;                      /* bytes counted but not kept */
    const char *partial;                        /* incomplete, in flight */
    const char *gap;                            /* capture gap */
    const char *mark;                           /* marked by the user */
    const char *ellipsis;                       /* text cut here */
    const char *hline;                          /* separators */
    const char *vline;                          /* annotation gutter */
    const char *full;                           /* progress bar, done part */
    const char *empty;                          /* progress bar, rest */
    const char *thin;                           /* a phase too short for a cell */
    const char *arrow;                          /* "->" in headings */
    const char *up, *down;                      /* sort direction */
    const char *on, *off;                       /* follow mode */
    const char *enter;                          /* the Enter key in hints and help */
    const char *left, *right, *upkey, *downkey; /* arrow keys in hints and help */
    const char *edited;                         /* a message was changed by the user */
    const char *replay;                         /* created by a replay */
    unsigned wire_flags; /* termsafe flags for wire bytes drawn as they are (Raw, Diff) */
};

extern const struct glyphs GLYPHS_UTF8;
extern const struct glyphs GLYPHS_ASCII;

#endif
