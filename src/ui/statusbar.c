/*
 * statusbar owns the status line's content and how it shrinks. It renders from a snapshot of
 * values (O(1), no store walking) and never draws.
 */
#include "hspy/statusbar.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "hspy/flowrow.h"
#include "hspy/plural.h"

/* ITEMS_MAX: room for every item collect() can add at once (it adds at most 19). */
enum { BAR_CELLS = 20, ITEMS_MAX = 24 };

char *statusbar_count(uint64_t n, char *buf, size_t len)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < nd && o + 2 < len; i++) {
        if (i && (nd - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

struct item {
    struct canvas_cell cell; /* the title and the filters hold bytes from outside */
    uint8_t style;
    int priority; /* items with the highest number go first when the line is too narrow */
};

static struct item *add(struct item *items, size_t *n, int priority, uint8_t style)
{
    assert(*n < ITEMS_MAX);
    struct item *it = &items[(*n)++];
    canvas_cell_clear(&it->cell);
    it->style = style;
    it->priority = priority;
    return it;
}

static void progress_item(const struct statusbar *s, const struct glyphs *g, struct item *it)
{
    char done[16], total[16], rate[16];
    size_t o = 0;
    if (s->total) {
        int full = (int)((double)s->done / (double)s->total * BAR_CELLS);
        if (full > BAR_CELLS)
            full = BAR_CELLS;
        for (int i = 0; i < BAR_CELLS; i++)
            o += (size_t)snprintf(it->cell.text + o, sizeof it->cell.text - o, "%s",
                                  i < full ? g->full : g->empty);
        snprintf(it->cell.text + o, sizeof it->cell.text - o, " %3d%%  %s/%s",
                 (int)((double)s->done * 100 / (double)s->total),
                 flowrow_bytes(s->done, done, sizeof done),
                 flowrow_bytes(s->total, total, sizeof total));
    } else {
        snprintf(it->cell.text, sizeof it->cell.text, "loading %s",
                 flowrow_bytes(s->done, done, sizeof done));
    }
    if (s->rate > 0) {
        o = strlen(it->cell.text);
        snprintf(it->cell.text + o, sizeof it->cell.text - o, "  %s/s",
                 flowrow_bytes((uint64_t)s->rate, rate, sizeof rate));
    }
}

/* A stream has no size: what came so far, and whether the writer ended it. */
static void stream_item(const struct statusbar *s, struct item *it)
{
    char done[16], packets[32], rate[16];
    const char *unit = s->entries ? (s->packets == 1 ? "entry" : "entries")
                                  : (s->packets == 1 ? "packet" : "packets");
    snprintf(it->cell.text, sizeof it->cell.text, "%s %s, %s %s",
             s->loading ? "stream" : "end of input:", flowrow_bytes(s->done, done, sizeof done),
             statusbar_count(s->packets, packets, sizeof packets), unit);
    if (s->loading && s->rate > 0) {
        size_t o = strlen(it->cell.text);
        snprintf(it->cell.text + o, sizeof it->cell.text - o, "  %s/s",
                 flowrow_bytes((uint64_t)s->rate, rate, sizeof rate));
    }
}

/* "label: EXPR" for a filter expression the user typed, escaped; nothing for NULL or "". */
static void expression_item(struct item *items, size_t *n, const char *label, const char *expr)
{
    if (!expr || !*expr)
        return;
    struct canvas_cell *c = &add(items, n, 1, STYLE_BAR_HI)->cell;
    canvas_cell_printf(c, "%s: ", label);
    canvas_cell_str(c, expr);
}

static size_t collect(const struct statusbar *s, const struct glyphs *g, struct item *items)
{
    size_t n = 0;
    char a[32], b[32];
    struct canvas_cell *title = &add(items, &n, 0, STYLE_BAR_HI)->cell;
    canvas_cell_printf(title, "hspy ");
    canvas_cell_str(title, s->title);
    if (s->stream)
        stream_item(s, add(items, &n, 1, s->loading ? STYLE_PROGRESS : STYLE_BAR_HI));
    else if (s->loading)
        progress_item(s, g, add(items, &n, 1, STYLE_PROGRESS));
    if (s->filtered)
        canvas_cell_printf(&add(items, &n, 0, STYLE_BAR)->cell, "%s of %s %s",
                           statusbar_count(s->shown, a, sizeof a),
                           statusbar_count(s->live, b, sizeof b), plural(s->live, "flow", "flows"));
    else
        canvas_cell_printf(&add(items, &n, 0, STYLE_BAR)->cell, "%s flow%s",
                           statusbar_count(s->live, a, sizeof a), plural(s->live, "", "s"));
    const struct store_counters *c = s->counters;
    if (c->with_warnings)
        canvas_cell_printf(&add(items, &n, 2, STYLE_BAR_HI)->cell, "%s %s", g->warn,
                           statusbar_count(c->with_warnings, a, sizeof a));
    if (c->held)
        canvas_cell_printf(&add(items, &n, 2, STYLE_BAR_HI)->cell, "held %s",
                           statusbar_count(c->held, a, sizeof a));
    if (s->server)
        canvas_cell_printf(&add(items, &n, 4, STYLE_BAR)->cell, "conns %zu", s->conns);
    if (s->refused)
        canvas_cell_printf(&add(items, &n, 2, STYLE_BAR_HI)->cell, "refused %s",
                           statusbar_count(s->refused, a, sizeof a));
    if (s->failed)
        canvas_cell_printf(&add(items, &n, 2, STYLE_BAR_HI)->cell, "accept errors %s",
                           statusbar_count(s->failed, a, sizeof a));
    if (s->gaps)
        canvas_cell_printf(&add(items, &n, 2, STYLE_BAR_HI)->cell, "gaps %s",
                           statusbar_count(s->gaps, a, sizeof a));
    if (c->evicted)
        canvas_cell_printf(&add(items, &n, 3, STYLE_BAR)->cell, "evicted %s",
                           statusbar_count(c->evicted, a, sizeof a));
    canvas_cell_printf(&add(items, &n, 5, STYLE_BAR)->cell, "%s",
                       flowrow_bytes(c->bytes, a, sizeof a));
    if (s->marked_only)
        canvas_cell_printf(&add(items, &n, 1, STYLE_BAR_HI)->cell, "marked only");
    else if (s->marked)
        canvas_cell_printf(&add(items, &n, 4, STYLE_BAR)->cell, "marked %zu", s->marked);
    canvas_cell_printf(&add(items, &n, 3, STYLE_BAR)->cell, "follow %s",
                       s->follow ? g->on : g->off);
    if (s->sort)
        canvas_cell_printf(&add(items, &n, 6, STYLE_BAR)->cell, "sort %s%s", s->sort,
                           s->descending ? g->down : g->up);
    if (s->filtering >= 0)
        canvas_cell_printf(&add(items, &n, 0, STYLE_PROGRESS)->cell, "filtering %d%%",
                           s->filtering);
    if (s->sorting)
        canvas_cell_printf(&add(items, &n, 0, STYLE_PROGRESS)->cell, "sorting by %s %d%%",
                           s->sorting, s->sorting_percent);
    if (s->deleting >= 0)
        canvas_cell_printf(&add(items, &n, 0, STYLE_PROGRESS)->cell, "deleting %d%%", s->deleting);
    expression_item(items, &n, "filter", s->filter);
    expression_item(items, &n, "intercept", s->intercept);
    return n;
}

enum { SEP = 3, TITLE_MIN = 16 };

/* The title item in `cells` cells (at least TITLE_MIN): "hspy " and the title, its middle cut. */
static void put_title(const struct statusbar *s, const struct glyphs *g, struct canvas_line *out,
                      int cells)
{
    if (cells < TITLE_MIN)
        cells = TITLE_MIN;
    cells -= canvas_puts(out, STYLE_BAR_HI, "hspy ");
    canvas_put_bytes_within(out, STYLE_BAR_HI, (const uint8_t *)s->title, strlen(s->title), cells,
                            g->ellipsis);
}

void statusbar_render(const struct statusbar *s, const struct glyphs *g, struct canvas_line *out)
{
    struct item items[ITEMS_MAX];
    size_t n = collect(s, g, items);
    bool keep[ITEMS_MAX];
    int total = 1;
    for (size_t i = 0; i < n; i++) {
        keep[i] = true;
        total += celltext_width(items[i].cell.text, strlen(items[i].cell.text)) + (i ? SEP : 0);
    }
    while (total > out->width) {
        size_t worst = 0;
        for (size_t i = 1; i < n; i++)
            if (keep[i] && (!keep[worst] || items[i].priority >= items[worst].priority))
                worst = i;
        if (worst == 0 || items[worst].priority == 0)
            break;
        keep[worst] = false;
        total -= celltext_width(items[worst].cell.text, strlen(items[worst].cell.text)) + SEP;
    }
    out->style = STYLE_BAR;
    out->ellipsis = g->ellipsis;
    canvas_puts(out, STYLE_BAR, " ");
    /* Still too wide with only the items that stay: the title (a long file name) gives way in
     * its middle, down to TITLE_MIN cells, so that the flow count stays on screen. */
    int over = total - out->width;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        if (i)
            canvas_pad(out, STYLE_BAR, SEP);
        if (i == 0 && over > 0)
            put_title(s, g, out,
                      celltext_width(items[0].cell.text, strlen(items[0].cell.text)) - over);
        else
            canvas_put_cell(out, items[i].style, &items[i].cell);
    }
}
