/*
 * bodyview: a message body rendered for reading, lazily, at any size.
 *
 * A view is chosen from the Content-Type and the first bytes of the body (bodyview_pick) and
 * can be switched: JSON pretty-printed, form fields, multipart parts (headers and bodies),
 * text (UTF-8, or ISO-8859-1/Windows-1252, other ASCII-compatible charsets, UTF-16 and UTF-32
 * converted to UTF-8) and a hex dump. Every byte that came from the network goes through termsafe,
 * so what a view yields can be drawn as is.
 *
 * Lines and rows. A view turns the body into lines (a text line, a JSON token line, a form
 * field, a multipart header, a hex row of bytes) and lines into display rows. The caller gives
 * the width in terminal columns (struct bodyview_layout):
 *   - without wrapping, each line is one row showing the columns [hscroll, hscroll + width)
 *     of the line; a row with more to its right ends in "…" and has BODYVIEW_ROW_CUT;
 *   - with wrapping, a line takes as many rows as it needs, width columns each (a double-width
 *     character that would straddle the edge moves to the next row); hscroll is ignored;
 *   - width 0 means unlimited (sinks printing a whole body): one row per line, never cut;
 *   - the hex view never wraps: it puts 16, 8 or 4 bytes on a row, whichever fits the width,
 *     and cuts rows only when even 4 do not fit.
 * A source line longer than BODYVIEW_LINE_MAX bytes (minified JavaScript, one huge JSON
 * string, a body without newlines) is shown as several lines, the later ones flagged
 * BODYVIEW_ROW_CONT, so no single line costs more than a bounded amount to render.
 * Tabs in text are expanded to spaces at BODYVIEW_TAB columns. Display widths follow Unicode
 * East Asian Width (wide = 2 columns) and combining marks (0 columns).
 *
 * Laziness. Opening a view reads at most BODYVIEW_SNIFF_MAX bytes (plus BODYVIEW_VALIDATE_MAX
 * when a JSON body is small enough to validate whole). Lines are found on demand: fetching
 * row N scans the body only up to row N, once; every BODYVIEW_CHECKPOINT_BYTES of body a
 * checkpoint remembers where a line starts and in what state, so any later row costs at most
 * one checkpoint interval plus one line to render. The hex view needs no scan at all (rows are
 * arithmetic). Wrapping needs each line's width, so with wrap on, indexing renders the lines
 * it passes. bodyview_index lets an idle loop finish the index in bounded steps (for the total
 * row count and a scroll bar), and bodyview_stats exposes how many bytes were scanned.
 *
 * Ownership. The view borrows the body (and the query given to bodyview_highlight): both must
 * outlive the view or be replaced before they go. Pure: no I/O, no terminal.
 */
#ifndef HSPY_BODYVIEW_H
#define HSPY_BODYVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Named limits. */
#define BODYVIEW_LINE_MAX         16384     /* source bytes of one line before it is split */
#define BODYVIEW_CHECKPOINT_BYTES 4096      /* body bytes between index checkpoints */
#define BODYVIEW_SNIFF_MAX        4096      /* bytes looked at to choose a view */
#define BODYVIEW_VALIDATE_MAX     (1 << 20) /* JSON bodies up to this size are validated whole */
#define BODYVIEW_INDENT_MAX       32 /* JSON nesting levels indented; deeper ones show "(N)" */
#define BODYVIEW_TAB              8

enum bodyview_mode {
    BODYVIEW_AUTO = 0, /* bodyview_pick's choice */
    BODYVIEW_TEXT,
    BODYVIEW_JSON,
    BODYVIEW_FORM,      /* application/x-www-form-urlencoded: one field per line, decoded */
    BODYVIEW_MULTIPART, /* multipart/...: delimiters, part headers, part bodies (text or hex) */
    BODYVIEW_HEX,
    BODYVIEW__COUNT
};

/* What a span of a row is, for colouring. */
enum bodyview_style {
    BODYVIEW_STYLE_PLAIN = 0,
    BODYVIEW_STYLE_KEY,     /* JSON member names, form field names, multipart header names */
    BODYVIEW_STYLE_STRING,  /* JSON string values */
    BODYVIEW_STYLE_NUMBER,  /* JSON numbers */
    BODYVIEW_STYLE_LITERAL, /* true, false, null */
    BODYVIEW_STYLE_PUNCT,   /* JSON brackets, colons, commas */
    BODYVIEW_STYLE_META,    /* multipart delimiters, hex offsets and the ASCII column */
    BODYVIEW_STYLE_NOTICE,  /* lines hspy adds: invalid JSON from here, missing closing delimiter */
    BODYVIEW_STYLE_LINE_END, /* CR and LF bytes in hex rows, in both columns */
    BODYVIEW_STYLE_MATCH,    /* a search match (bodyview_highlight); drawn over the other styles */
    BODYVIEW_STYLE_ESCAPE,   /* an escape hspy wrote for a byte or character ("\x1b", "\xff"
                                for a byte the charset lacks), never text the body holds */
    BODYVIEW_STYLE__COUNT
};

struct bodyview_span {
    uint32_t off, len; /* bytes of the row's text */
    uint8_t style;     /* enum bodyview_style */
};

enum bodyview_row_flag {
    BODYVIEW_ROW_CONT = 1 << 0,   /* continues the previous row's source line */
    BODYVIEW_ROW_CUT = 1 << 1,    /* the line goes on past the right edge ("…" shown) */
    BODYVIEW_ROW_NOTICE = 1 << 2, /* a line hspy added, not body content */
};

/* One display row, filled by bodyview_row. Spans are in order; BODYVIEW_STYLE_MATCH spans come
   after the others and may overlap them (draw them last). */
struct bodyview_row {
    struct dynbuf text;         /* terminal-safe UTF-8, no newline, at most width columns */
    struct bodyview_span *span; /* nspans of them (grown as needed, freed by _cleanup) */
    uint32_t nspans, spans_cap;
    uint16_t flags;  /* enum bodyview_row_flag */
    uint64_t line;   /* the line this row shows (part of) */
    uint64_t offset; /* body offset where that line starts */
    uint32_t col;    /* the line's display column at the row's left edge */
    uint32_t fixed;  /* bytes at the start of text that a viewer keeps in place when it scrolls
                        the row sideways: a hex row's offset and the gap after it (0: none) */
};

void bodyview_row_init(struct bodyview_row *r);
void bodyview_row_cleanup(struct bodyview_row *r);

struct bodyview_layout {
    uint32_t width;   /* columns available (0 = unlimited) */
    uint32_t hscroll; /* columns skipped at the left when not wrapping */
    bool wrap;
};

/* "auto", "text", "json", "form", "multipart", "hex". */
const char *bodyview_mode_name(enum bodyview_mode m);
/* The mode for a name, or BODYVIEW__COUNT when unknown. */
enum bodyview_mode bodyview_mode_by_name(const char *name);

/*
 * The best view for a body: from the media type in ctype (a Content-Type value, may be NULL),
 * then the first bytes: JSON when it is valid JSON (or JSON lines), form fields, multipart
 * when a boundary is given and found, text, hex for binary. Never returns BODYVIEW_AUTO.
 */
enum bodyview_mode bodyview_pick(const uint8_t *body, size_t len, const char *ctype,
                                 size_t ctype_len);

/*
 * A view over body[0..len) with the given Content-Type (may be NULL) in mode (BODYVIEW_AUTO
 * picks). Layout starts at width 0. Free with bodyview_free.
 */
struct bodyview *bodyview_new(const uint8_t *body, size_t len, const char *ctype, size_t ctype_len,
                              enum bodyview_mode mode);
void bodyview_free(struct bodyview *v);

/* Switches mode (BODYVIEW_AUTO = the picked one). A mode that cannot apply (multipart
   without a boundary) falls back to text. Row numbers start over. */
void bodyview_set_mode(struct bodyview *v, enum bodyview_mode mode);
enum bodyview_mode bodyview_mode(const struct bodyview *v);
/* The mode after the current one among those that apply (for a "cycle view" key). */
enum bodyview_mode bodyview_next_mode(const struct bodyview *v);
/* Changes the layout. Row numbers change only when wrapping or the hex layout depends on it. */
void bodyview_set_layout(struct bodyview *v, const struct bodyview_layout *layout);
/*
 * Hex rows (the hex view and binary multipart parts) show offsets counted from origin (0 when
 * never set) instead of from the body's start: for bytes that sit further into a longer stream,
 * such as a side's bytes after a capture gap. Body offsets everywhere else (rows of an offset,
 * matches) stay counted from the body's start. More digits may change the hex rows' layout.
 */
void bodyview_set_origin(struct bodyview *v, uint64_t origin);
/* One line about the view ("json", "text, windows-1252 (declared iso-8859-1)", "hex"); terminal
   safe; valid until the next call that changes the view. */
const char *bodyview_describe(struct bodyview *v);

/*
 * Renders display row n into r (replacing its contents). Returns false when n is past the
 * last row. Scans the body only as far as row n, unless that is already indexed.
 */
bool bodyview_row(struct bodyview *v, uint64_t n, struct bodyview_row *r);

/* Rows known so far; *complete (may be NULL) says whether that is all of them. */
uint64_t bodyview_rows(const struct bodyview *v, bool *complete);

/* Extends the index by about budget body bytes (0 = to the end). Returns true when the whole
   body is indexed. */
bool bodyview_index(struct bodyview *v, size_t budget);

/* The display row that shows body offset off (for jumping to a warning's offset); the last
   row when off is past the end. */
uint64_t bodyview_row_of_offset(struct bodyview *v, uint64_t off);

/* Appends rows [0, max_rows) (0 = all) with '\n' after each to out; returns rows appended.
   For sinks printing a body (use width 0). */
uint64_t bodyview_render(struct bodyview *v, struct dynbuf *out, uint64_t max_rows);

struct bodyview_stats {
    uint64_t scanned;        /* body bytes passed over by line finding and rendering */
    uint64_t lines_stepped;  /* lines passed over (rendered or not) */
    uint64_t lines_rendered; /* lines rendered */
    uint64_t checkpoints;    /* index entries held */
};
void bodyview_stats(const struct bodyview *v, struct bodyview_stats *s);

/* ---- search (the TUI's "/", "n", "N") ---------------------------------------------------- */

enum bodyview_query_flag {
    BODYVIEW_FIND_REGEX = 1 << 0, /* POSIX extended regular expression */
    BODYVIEW_FIND_ICASE = 1 << 1, /* ignore case (ASCII for plain strings) */
};

/* A compiled search. Returns NULL with a message in err when a regex does not compile or the
   pattern is empty. Free with bodyview_query_free. */
struct bodyview_query *bodyview_query_new(const char *pattern, unsigned flags, char *err,
                                          size_t errlen);
void bodyview_query_free(struct bodyview_query *q);

/*
 * A match, or a place to search from. Queries match the rendered text of each line (what the
 * view shows, escapes included), one line at a time. In the hex view a plain query matches the
 * body bytes instead, across rows; offset is then the first matched byte.
 */
struct bodyview_match {
    bool match;          /* a match (false: a position to search from) */
    uint64_t row;        /* display row where the match starts */
    uint64_t line;       /* its line */
    uint32_t start, len; /* bytes of the line's rendered text (a regex may match empty) */
    uint32_t col;        /* display column of start within the line */
    uint64_t offset;     /* hex view byte search: body offset of the match */
};

/* The position at the start of display row n (a place to search from). */
void bodyview_position(struct bodyview *v, uint64_t n, struct bodyview_match *pos);

enum bodyview_find_result {
    BODYVIEW_NOT_FOUND = 0,
    BODYVIEW_FOUND,
    BODYVIEW_MORE, /* budget used up: *m is a position; call again from it to go on */
};

/*
 * Finds the next match after from (at or after it when from is a position) or, with
 * backward, the last one before it, across the whole body. Stops after about budget body bytes
 * (0 = no limit) with BODYVIEW_MORE. Does not wrap around: search again from row 0 (or from
 * the end: bodyview_position on the last row) for that.
 */
enum bodyview_find_result bodyview_find(struct bodyview *v, const struct bodyview_query *q,
                                        const struct bodyview_match *from, bool backward,
                                        size_t budget, struct bodyview_match *m);

/* Marks every match of q in the rows bodyview_row renders (NULL stops). q is borrowed. */
void bodyview_highlight(struct bodyview *v, const struct bodyview_query *q);

#endif
