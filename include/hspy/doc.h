/*
 * doc: a scrollable document of lines, the body of every detail tab and of the help screen.
 *
 * Small parts (heads, annotations, timing rows) are stored lines: built once with canvas
 * calls, kept as text plus style spans. Large parts (a body of 100 MB, its hex dump) are lazy
 * sources: a line count and a function that renders line i on demand, so opening them costs
 * nothing and a frame renders only what is visible. A document mixes both kinds in order.
 *
 * Lines may carry targets (a side and a byte offset of the exchange): the Warnings tab uses
 * them to jump to the place in Raw or Hex, and Raw/Hex answer "which line shows this offset"
 * through a locate hook.
 */
#ifndef HSPY_DOC_H
#define HSPY_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/search.h"

/* A part of the document rendered on demand. */
struct doc_source {
    size_t lines; /* fixed when added (ignored when count is set) */
    /* Renders line i (< lines) into out, which the caller reset with its width and skip. */
    void (*render)(void *data, size_t i, struct canvas_line *out);
    void (*free)(void *data); /* releases data when the document goes; may be NULL */
    void *data;
    /*
     * A source that finds its lines as it goes (a body view indexing a large body): count says
     * how many are known and whether that is all; extend makes at least `want` known; index
     * finds lines through about budget more bytes of what it shows (0: to the end) and says
     * whether all are known. All three NULL for a fixed source, all three set for a growing
     * one. Only the last source of a document may grow.
     */
    size_t (*count)(void *data, bool *complete);
    void (*extend)(void *data, size_t want);
    bool (*index)(void *data, size_t budget);
    /*
     * A faster search than rendering every line, or NULL: the first line in [from, from+count)
     * (dir > 0) or [from-count+1, from] (dir < 0), nearest to from, whose text matches needle
     * (search rules: plain text, or "/re/" a regular expression), or (size_t)-1. With a budget (0:
     * none) it may stop after about that many bytes, setting *more: a call with the same needle,
     * from, count and dir then goes on where it stopped.
     */
    size_t (*find)(void *data, const char *needle, size_t from, size_t count, int dir,
                   size_t budget, bool *more);
};

struct doc_target {
    size_t line;
    uint8_t side;    /* enum side */
    uint64_t offset; /* in that side's bytes */
};

struct doc_stored;
struct doc_seg;

/* Stored text is capped (no tab comes near it); text past the cap is cut short. */
#define DOC_TEXT_MAX ((size_t)64 << 20)

struct doc {
    struct doc_seg *segs;
    size_t nsegs, segs_cap;
    struct doc_stored *stored; /* stored lines */
    size_t nstored, stored_cap;
    struct dynbuf text;        /* their text */
    struct canvas_span *spans; /* their spans */
    size_t nspans, spans_cap;
    size_t lines;               /* lines before a growing last source (all lines otherwise) */
    bool growing;               /* the last source finds its lines as it goes */
    struct doc_target *targets; /* ascending lines */
    size_t ntargets, targets_cap;
    /* Line showing byte offset of side, or (size_t)-1 (set by Raw and Hex). */
    size_t (*locate)(const struct doc *d, int side, uint64_t offset);
    void *locate_data;
    void (*locate_free)(void *locate_data); /* called when the document is reset; may be NULL */
    struct canvas_line scratch;             /* search rendering */
    uint64_t generation;                    /* counts resets: a search in steps checks it */
};

/* Prepares an empty document. */
void doc_init(struct doc *d);
/* Frees stored lines and every source's data. */
void doc_cleanup(struct doc *d);
/* Empties the document for rebuilding (sources freed). */
void doc_reset(struct doc *d);

/* Appends a copy of a built line (its text, spans and base style). Returns its line number. */
size_t doc_add(struct doc *d, const struct canvas_line *l);
/* Appends a line of safe text in one style. */
size_t doc_addf(struct doc *d, uint8_t style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends an empty line. */
size_t doc_blank(struct doc *d);
/*
 * Keeps a stored line in place when the document is scrolled sideways, as canvas_put_fixed
 * keeps an offset column: the heading over lines whose columns scroll (Raw, Hex).
 */
void doc_fixed(struct doc *d, size_t line);
/*
 * Appends a lazy source (the document takes ownership of src->data). Returns its first line.
 * Nothing may be added after a growing source.
 */
size_t doc_add_source(struct doc *d, const struct doc_source *src);
/* Makes line a target for side and offset (lines must be added in ascending order). */
void doc_target(struct doc *d, size_t line, int side, uint64_t offset);
/* Index of the first target at or after line (ntargets when none). */
size_t doc_target_at(const struct doc *d, size_t line);

/* Lines known now (a growing last source counts what it found so far). */
size_t doc_lines(const struct doc *d);
/* Makes at least `want` lines known when the last source grows (doc_index: all of them). */
void doc_extend(struct doc *d, size_t want);
/* Makes all lines known in steps: a growing source looks through about budget more bytes (0:
 * to the end). True once every line is known. */
bool doc_index(struct doc *d, size_t budget);

/* Renders line i into out (reset by the caller with width and skip). */
void doc_render(const struct doc *d, size_t i, struct canvas_line *out);

/*
 * Searches for needle (search rules, "/re/" included) in the rendered text of every line (a growing
 * source is indexed to its end first), starting after (dir > 0) or before (dir < 0) line `from` and
 * wrapping. Returns the line or (size_t)-1.
 */
size_t doc_search(struct doc *d, const char *needle, size_t from, int dir);

/* The same search in steps, so that a large body never stalls the loop. */
struct doc_search {
    char needle[SEARCH_NEEDLE_MAX];
    size_t from;
    int dir;
    uint64_t generation; /* the document's when the search started */
    bool indexed;        /* lines counted: pos and left are set */
    size_t pos, left;    /* next line to look at, lines left to look at */
    /* Set with DOC_FOUND: the search went past the last line to the first (or, backwards, past
       the first to the last); the line found is the one it started from (no other matches). */
    bool wrapped, only;
};
enum doc_found { DOC_MORE = 0, DOC_FOUND, DOC_MISSING, DOC_CHANGED };

/* from past the last line (SEARCH_NONE) starts at the first line (dir > 0) or the last. */
void doc_search_start(const struct doc *d, struct doc_search *s, const char *needle, size_t from,
                      int dir);
/*
 * Goes on for about budget bytes of a source that searches itself or indexes as it goes (0: to
 * the end; stored lines are looked at whole). DOC_FOUND sets *at; DOC_MORE asks for another
 * step; DOC_CHANGED means the document was rebuilt meanwhile (the search is over).
 */
enum doc_found doc_search_step(struct doc *d, struct doc_search *s, size_t budget, size_t *at);

/* Restyles every match of q in an already rendered line (search highlighting); q may be NULL. */
void doc_highlight(struct canvas_line *l, const struct search_query *q);

#endif
