/*
 * canvas: a screen's worth of styled text, built before anything is drawn.
 *
 * Views render into a canvas; the curses layer copies a finished canvas to the terminal. A
 * canvas line holds UTF-8 text that is safe to show (own strings, or network bytes passed
 * through termsafe by canvas_put_bytes) plus style spans over byte ranges. Each line is cut to
 * its width in cells as text is added, with an optional horizontal skip for scrolling, so a
 * line never holds more than the screen shows. Styles are names, not colours: the curses layer
 * maps them (and honours NO_COLOR).
 */
#ifndef HSPY_CANVAS_H
#define HSPY_CANVAS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/celltext.h"
#include "hspy/dynbuf.h"
#include "hspy/termsafe.h"

enum style {
    STYLE_NORMAL = 0,
    STYLE_DIM,     /* secondary text, interim responses */
    STYLE_BOLD,    /* emphasis */
    STYLE_BAR,     /* status bar */
    STYLE_BAR_HI,  /* highlighted text in the status bar */
    STYLE_COLHEAD, /* column headings */
    STYLE_CURSOR,  /* the selected row (combined with the spans on it) */
    STYLE_MARKED,  /* marker of a marked flow */
    STYLE_KEY,     /* a key name in the hint line and help */
    STYLE_HINT,    /* hint line text */
    STYLE_ERROR,   /* errors (filter syntax, failures) */
    STYLE_WARN,    /* warning markers and codes */
    STYLE_MESSAGE, /* transient status messages */
    STYLE_STATUS1, /* 1xx */
    STYLE_STATUS2, /* 2xx */
    STYLE_STATUS3, /* 3xx */
    STYLE_STATUS4, /* 4xx */
    STYLE_STATUS5, /* 5xx and failures */
    STYLE_METHOD_GET,
    STYLE_METHOD_POST,
    STYLE_METHOD_PUT,
    STYLE_METHOD_DELETE,
    STYLE_METHOD_OTHER,
    STYLE_BOUNDARY, /* wire boundaries and annotations in Raw and Hex */
    STYLE_HNAME,    /* header field names */
    STYLE_MATCH,    /* search hits */
    STYLE_TAB,      /* an inactive tab */
    STYLE_TAB_ON,   /* the active tab */
    STYLE_HELD,     /* held by an intercept */
    STYLE_PROGRESS, /* progress and timing bars */
    STYLE_PROMPT,   /* prompt label */
    STYLE_STRING,   /* string values in structured bodies (JSON) */
    STYLE_NUMBER,   /* numbers in structured bodies */
    STYLE_LITERAL,  /* true, false, null */
    STYLE_LINE_END, /* CR and LF bytes in hex rows; the symbols ␍ ␊ ␉ termsafe draws for them */
    STYLE_ESCAPE,   /* an escape termsafe wrote for a byte or character ("\x1b", "\u{202e}") */
    STYLE__COUNT
};

struct canvas_span {
    uint32_t off, len; /* bytes of the line's text */
    uint8_t style;
};

/*
 * Where safe text holds what termsafe wrote in place of network bytes: bytes [off, off + len)
 * of that text, kind an enum termsafe_mark_kind. Drawn in STYLE_ESCAPE (escapes) or
 * STYLE_LINE_END (symbols) over the text's own style, so that an escape never looks like the
 * same characters sent literally.
 */
struct canvas_mark {
    uint32_t off, len;
    uint8_t kind;
};

struct canvas_line {
    struct dynbuf text;        /* safe UTF-8, exactly what is drawn */
    struct canvas_span *spans; /* later spans win where they overlap */
    uint32_t nspans, spans_cap;
    uint8_t style;             /* base style of the whole line (the cursor row, the status bar) */
    int width;                 /* cells available */
    int cells;                 /* cells used so far */
    int skip;                  /* cells still to drop from the left (horizontal scroll) */
    const char *ellipsis;      /* when text is cut at the right edge, end the line with this (safe
                                  text of one cell), or NULL */
    bool clipped;              /* text was cut at the right edge */
    size_t fit_off;            /* text length when the line last fitted in width - 1 cells */
    int fit_cells;             /* cells at fit_off */
    struct dynbuf scratch;     /* termsafe rendering of network bytes */
    struct canvas_mark *marks; /* and where it holds escapes */
    uint32_t nmarks, marks_cap;
};

/* Lines with no width limit (search, tests) use this width. */
enum { CANVAS_UNLIMITED = 1 << 30 };
/* Bytes of text one line may hold (a cut line is marked clipped). */
#define CANVAS_LINE_MAX ((size_t)1 << 20)

/* Prepares an empty line of `width` cells (CANVAS_UNLIMITED: no limit). */
void canvas_line_init(struct canvas_line *l, int width);
/* Frees the line's buffers. */
void canvas_line_cleanup(struct canvas_line *l);
/* Empties the line for reuse with a new width and horizontal skip. */
void canvas_line_reset(struct canvas_line *l, int width, int skip);

/*
 * Appends safe text (hspy's own strings, termsafe output) in a style. Returns the cells added.
 * Never pass bytes from the network here: use canvas_put_bytes.
 */
int canvas_put(struct canvas_line *l, uint8_t style, const char *s, size_t n);
int canvas_puts(struct canvas_line *l, uint8_t style, const char *s);
/* The printf forms cut what they make at CANVAS_PRINTF_MAX - 1 bytes. */
enum { CANVAS_PRINTF_MAX = 1024 };
int canvas_printf(struct canvas_line *l, uint8_t style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * canvas_put for a column that stays in place when the line is scrolled sideways (an offset
 * column): the line's skip applies only to what comes after it.
 */
int canvas_put_fixed(struct canvas_line *l, uint8_t style, const char *s, size_t n);
/* canvas_printf for text that stays in place when the line is scrolled sideways, as
 * canvas_put_fixed (a note that stands for bytes: a capture gap, bytes not kept). */
int canvas_printf_fixed(struct canvas_line *l, uint8_t style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * canvas_put for safe text with marks (nmarks entries over s[0..n), in order): each mark's
 * bytes that end up on the line are drawn as an escape or a symbol.
 */
int canvas_put_marked(struct canvas_line *l, uint8_t style, const char *s, size_t n,
                      const struct canvas_mark *marks, size_t nmarks);
/*
 * Appends bytes of unknown origin through termsafe (flags: enum termsafe_flag); the escapes
 * and symbols termsafe writes are marked (see struct canvas_mark).
 */
int canvas_put_bytes(struct canvas_line *l, uint8_t style, const uint8_t *p, size_t n,
                     unsigned flags);
/*
 * canvas_put for safe text in at most `cells` cells: when it is wider, its middle gives way to
 * `cut` as in canvas_put_bytes_within. Returns the cells added.
 */
int canvas_put_within(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                      const char *cut);
/*
 * canvas_put_bytes in at most `cells` cells: when the rendering is wider, its middle gives way to
 * `cut` (safe text, drawn dim), a third of the room kept before it and the rest after, since the
 * end of a name (a file's) or of a message (the reason) says most. Characters and escapes are
 * never split. Returns the cells added.
 */
int canvas_put_bytes_within(struct canvas_line *l, uint8_t style, const uint8_t *p, size_t n,
                            int cells, const char *cut);
/* Cells the rendering of p[0..n) through termsafe (no flags) takes. */
int canvas_bytes_width(const uint8_t *p, size_t n);
/*
 * Appends safe text fitted to exactly `cells` cells: padded on the side opposite to align, or
 * cut with `ellipsis` (safe text taking one cell, may be NULL) when it is too wide.
 */
void canvas_put_fit(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                    enum celltext_align align, const char *ellipsis);
/* canvas_put_fit for safe text with marks, as canvas_put_marked. */
void canvas_put_fit_marked(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                           enum celltext_align align, const char *ellipsis,
                           const struct canvas_mark *marks, size_t nmarks);

/*
 * A cell: a piece of safe text made before it is placed on a line, because its width decides
 * where or whether it goes (a flow-list cell, a status-bar item). It holds hspy's own text and
 * bytes of unknown origin (the network, a file name, what the user typed) rendered by termsafe,
 * with the marks of the escapes termsafe wrote, so that they are drawn apart wherever the cell
 * lands, as canvas_put_bytes draws them. Text past CANVAS_CELL_MAX - 1 bytes is cut (a cut in
 * termsafe's part ends in "…").
 */
enum { CANVAS_CELL_MAX = 512 };
/* Escapes a cell can hold: each takes at least 2 bytes. */
enum { CANVAS_CELL_MARKS = CANVAS_CELL_MAX / 2 };
struct canvas_cell {
    char text[CANVAS_CELL_MAX]; /* NUL-terminated */
    struct canvas_mark mark[CANVAS_CELL_MARKS];
    uint32_t nmarks;
};
/* Empties the cell. */
void canvas_cell_clear(struct canvas_cell *c);
/* Appends hspy's own text (never bytes of unknown origin: canvas_cell_bytes). */
void canvas_cell_printf(struct canvas_cell *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends p[0..n) through termsafe (flags: enum termsafe_flag), marking what it wrote. */
void canvas_cell_bytes(struct canvas_cell *c, const uint8_t *p, size_t n, unsigned flags);
/* canvas_cell_bytes of a C string. */
void canvas_cell_str(struct canvas_cell *c, const char *s);
/* Appends the cell to a line in a style, its escapes marked (canvas_put_marked). */
int canvas_put_cell(struct canvas_line *l, uint8_t style, const struct canvas_cell *c);
/* Appends `cells` spaces. */
void canvas_pad(struct canvas_line *l, uint8_t style, int cells);
/* Adds a style over text bytes [off, off+len) already on the line (clamped to it). */
void canvas_restyle(struct canvas_line *l, uint32_t off, uint32_t len, uint8_t style);
/* Style of the byte at off (the last span covering it, else the line's base style). */
uint8_t canvas_style_at(const struct canvas_line *l, size_t off);

struct canvas {
    int rows, cols;
    struct canvas_line *line; /* rows entries */
};

/* Prepares rows empty lines of cols cells. */
void canvas_init(struct canvas *c, int rows, int cols);
void canvas_cleanup(struct canvas *c);
/* Changes the size; every line is emptied. */
void canvas_resize(struct canvas *c, int rows, int cols);
/* Line y emptied for drawing at the canvas width (asserts y is inside). */
struct canvas_line *canvas_row(struct canvas *c, int y);
/* Appends the whole canvas as plain text, one line per row (tests, benchmarks). */
void canvas_dump(const struct canvas *c, struct dynbuf *out);

#endif
