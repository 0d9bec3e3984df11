/*
 * statusbar: the top line. Mode and address (or the file and, while it loads, a progress bar),
 * the counters (flows shown of all, with warnings, held, evicted, bytes), follow on or off,
 * the sort order and the filter. Items are dropped from the right when the line is too narrow;
 * the title and the flow count are kept longest. The title (a file name, an address) and the
 * filters come from outside: they go through termsafe as canvas cells, so that the escapes it
 * wrote are drawn apart as in the flow list.
 */
#ifndef HSPY_STATUSBAR_H
#define HSPY_STATUSBAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/glyphs.h"
#include "hspy/store.h"

struct statusbar {
    const char *title;
    const struct store_counters *counters;
    size_t live;   /* exchanges in the store */
    size_t shown;  /* rows of the flow list */
    bool filtered; /* a filter or the marked-only view is active */
    size_t marked;
    bool marked_only; /* only the marked flows are shown (M): said as long as the filter is */
    bool follow;
    const char *sort; /* column name, or NULL for the default order */
    bool descending;
    const char *filter;    /* expression, "" for none */
    const char *intercept; /* the intercept filter, NULL or "" for none */
    bool loading;          /* progress applies */
    uint64_t done, total;
    double rate;              /* bytes per second while loading, 0 unknown */
    uint64_t gaps;            /* capture gaps met so far */
    bool stream;              /* a stream is read (loading: not ended yet): bytes and packets */
    uint64_t packets;         /* stream: packets read */
    bool entries;             /* packets are a HAR document's entries */
    int filtering;            /* percent of a filter scan done, -1 when none runs */
    const char *sorting;      /* column name of a re-sort in steps, or NULL */
    int sorting_percent;      /* its progress */
    int deleting;             /* percent of a clear in steps done, -1 when none runs */
    bool server;              /* the counts below apply (listen, proxy) */
    size_t conns;             /* connections open */
    uint64_t refused, failed; /* connections refused at the cap, accept failures */
};

/* Renders the status line into out (its width). */
void statusbar_render(const struct statusbar *s, const struct glyphs *g, struct canvas_line *out);

/* "1,204" style thousands separators; returns buf. */
char *statusbar_count(uint64_t n, char *buf, size_t len);

#endif
