/*
 * flowrow: one exchange as one row of the flow list, and the columns that row is made of.
 *
 * The columns are a const table (title, widths, alignment, what to show, how to sort), so a
 * new column is one row of data. flowrow_layout decides the width of each column for a
 * terminal width (narrow terminals drop and shrink columns in a fixed order, least useful
 * first; wide ones give the rest to host and target); flowrow_format renders an exchange into a
 * canvas line of exactly that width. Everything that comes from the network (method, host, target,
 * content type) passes through termsafe. No curses here.
 */
#ifndef HSPY_FLOWROW_H
#define HSPY_FLOWROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/exchange.h"
#include "hspy/glyphs.h"
#include "hspy/store.h"

enum flowrow_col {
    FLOWCOL_MARK = 0, /* user's mark */
    FLOWCOL_ID,       /* # */
    FLOWCOL_TIME,     /* wall clock of the first byte */
    FLOWCOL_CLIENT,   /* client address:port */
    FLOWCOL_METHOD,
    FLOWCOL_HOST,
    FLOWCOL_TARGET, /* request target as sent */
    FLOWCOL_FLAGS,  /* warnings, held, truncated, incomplete, gap */
    FLOWCOL_STATUS,
    FLOWCOL_TYPE,     /* short content type of the response */
    FLOWCOL_SIZE,     /* response payload size */
    FLOWCOL_DURATION, /* first request byte to last response byte */
    FLOWCOL_CACHE,    /* what caches would do with the response ("cacheable 1h") */
    FLOWCOL__COUNT
};

struct flowrow_column {
    const char *title;
    const char *name; /* for the sort prompt and help ("status", "size") */
    int min, ideal;   /* cells */
    int grow;         /* share of spare width (0: fixed) */
    uint8_t align;    /* enum celltext_align */
    /* Writes the cell's text and marks into cell (empty on entry: the text is written over,
       network bytes through termsafe) and returns its style. */
    uint8_t (*text)(const struct exchange *ex, const struct glyphs *g, struct canvas_cell *cell);
    /* Sort key: a number, or the first 8 bytes of the sort string big-endian. */
    uint64_t (*key)(const struct exchange *ex);
    /*
     * For columns sorted as strings: writes the sort string (bytes compared with memcmp; may
     * hold any byte) into buf and returns its length. NULL when the key is exact.
     */
    size_t (*sortstr)(const struct exchange *ex, char *buf, size_t len);
    /* For a cell whose text is wider than its column: rewrites it in a shorter form that keeps
       its meaning (the caller still cuts what does not fit). NULL: the text is only cut. */
    void (*fit)(struct canvas_cell *cell, int cells, const struct glyphs *g);
};

extern const struct flowrow_column FLOWROW_COLUMNS[FLOWCOL__COUNT];

struct flowrow_layout {
    int width;             /* the terminal width it was made for */
    int w[FLOWCOL__COUNT]; /* cells per column; 0 = not shown */
    int x[FLOWCOL__COUNT]; /* first cell of each shown column */
};

/* Fits the columns into width cells. ids up to max_id must fit the # column. */
void flowrow_layout(struct flowrow_layout *l, int width, uint64_t max_id);

/* The heading row; sort_col gets an arrow (up for ascending). */
void flowrow_heading(struct canvas_line *out, const struct flowrow_layout *l, int sort_col,
                     bool descending, const struct glyphs *g);

/*
 * One exchange as a row of exactly l->width cells (fewer only on a terminal narrower than the
 * smallest layout). ex NULL draws a placeholder for an exchange that went away.
 */
void flowrow_format(struct canvas_line *out, const struct flowrow_layout *l,
                    const struct exchange *ex, uint64_t id, bool marked, const struct glyphs *g);

/*
 * The text a flow-list search looks at, appended to out: method, host, target, status, the
 * whole Content-Type and (when client is true) the client address, separated by spaces. These
 * are the raw bytes (the text is only matched, never drawn), built without formatting so that
 * a search through a million flows stays around a second; formatting the address is the
 * costly part, so callers ask for it only when the query could match one.
 */
void flowrow_text(const struct exchange *ex, bool client, struct dynbuf *out);

/*
 * The cache label (cache.c's words: "cacheable 10m, browser stale") in at most `cells` cells:
 * as it is, else with shorter words ("cache 10m, browser stale"), else the first verdict alone
 * with `ellipsis` standing for the browser's ("cache 10m…"), else with the tiniest words ("10m…",
 * "~5m" for a heuristic lifetime, "never" for no-store and uncacheable, "304 ok"), else its
 * first word and the ellipsis ("priv…"). When even that is too wide, it is what is returned,
 * for the caller to cut. Returns buf.
 */
char *flowrow_cache_fit(const char *label, int cells, const char *ellipsis, char *buf, size_t len);

/* Orders a and b by column col (ties broken by id, so the order is total). */
int flowrow_compare(int col, const struct exchange *a, const struct exchange *b);
/* The sort key of ex for col whose string starts with s[0..n) (the prefix rule above). */
uint64_t flowrow_prefix_key(const char *s, size_t n);

/* Human sizes ("312", "4.1k", "2.0M", binary: k is 1,024) and durations ("850µs", "12ms",
 * "3.0s"); return buf. */
char *flowrow_size(uint64_t bytes, char *buf, size_t len);
/* The same size with its unit spelt out, for prose and the status bar: "312B", "4.1KiB",
 * "2.0MiB". Returns buf. */
char *flowrow_bytes(uint64_t bytes, char *buf, size_t len);
char *flowrow_duration(int64_t ns, char *buf, size_t len);

/*
 * Exchanges are scattered in memory: passes over many rows (filtering, sorting, searching) ask
 * for them a few rows ahead while the current one is examined, so that they wait on memory far
 * less (a scan of a million went from about 240 to 85 ms with one stage). The exchange's own
 * lines (the flags, the request's buffers and head, the response's status) are asked for
 * FLOWROW_PREFETCH_FAR rows ahead, then what they point to (the request's bytes and header
 * array) FLOWROW_PREFETCH_AHEAD rows ahead, when the exchange is in the cache and reading its
 * pointers costs no wait. near and far are the ids of those rows (0 for none).
 */
enum { FLOWROW_PREFETCH_AHEAD = 8, FLOWROW_PREFETCH_FAR = 16 };
void flowrow_prefetch(const struct store *store, uint64_t near, uint64_t far);

#endif
