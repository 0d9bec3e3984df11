/*
 * statusbar owns the status line's content and how it shrinks. It renders from a snapshot of
 * values (O(1), no store walking) and never draws.
 */
#include "hspy/statusbar.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "hspy/flowrow.h"
#include "hspy/termsafe.h"

/* ITEMS_MAX: room for every item collect() can add at once (it adds at most 19). */
enum { BAR_CELLS = 20, ITEM_MAX = 512, ITEMS_MAX = 24 };

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
    char text[ITEM_MAX];
    uint8_t style;
    int priority; /* items with the highest number go first when the line is too narrow */
};

static struct item *add(struct item *items, size_t *n, int priority, uint8_t style)
{
    assert(*n < ITEMS_MAX);
    struct item *it = &items[(*n)++];
    it->text[0] = '\0';
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
            o += (size_t)snprintf(it->text + o, sizeof it->text - o, "%s",
                                  i < full ? g->full : g->empty);
        snprintf(it->text + o, sizeof it->text - o, " %3d%%  %s/%s",
                 (int)((double)s->done * 100 / (double)s->total),
                 flowrow_bytes(s->done, done, sizeof done),
                 flowrow_bytes(s->total, total, sizeof total));
    } else {
        snprintf(it->text, sizeof it->text, "loading %s",
                 flowrow_bytes(s->done, done, sizeof done));
    }
    if (s->rate > 0) {
        o = strlen(it->text);
        snprintf(it->text + o, sizeof it->text - o, "  %s/s",
                 flowrow_bytes((uint64_t)s->rate, rate, sizeof rate));
    }
}

/* A stream has no size: what came so far, and whether the writer ended it. */
static void stream_item(const struct statusbar *s, struct item *it)
{
    char done[16], packets[32], rate[16];
    const char *unit = s->entries ? (s->packets == 1 ? "entry" : "entries")
                                  : (s->packets == 1 ? "packet" : "packets");
    snprintf(it->text, sizeof it->text, "%s %s, %s %s",
             s->loading ? "stream" : "end of input:", flowrow_bytes(s->done, done, sizeof done),
             statusbar_count(s->packets, packets, sizeof packets), unit);
    if (s->loading && s->rate > 0) {
        size_t o = strlen(it->text);
        snprintf(it->text + o, sizeof it->text - o, "  %s/s",
                 flowrow_bytes((uint64_t)s->rate, rate, sizeof rate));
    }
}

/* "label: EXPR" for a filter expression the user typed, escaped; nothing for NULL or "". */
static void expression_item(struct item *items, size_t *n, const char *label, const char *expr)
{
    if (!expr || !*expr)
        return;
    char safe[ITEM_MAX - 16];
    termsafe_str(safe, sizeof safe, (const uint8_t *)expr, strlen(expr), 0);
    snprintf(add(items, n, 1, STYLE_BAR_HI)->text, ITEM_MAX, "%s: %s", label, safe);
}

static size_t collect(const struct statusbar *s, const struct glyphs *g, struct item *items)
{
    size_t n = 0;
    char a[32], b[32];
    char title[ITEM_MAX - 8];
    termsafe_str(title, sizeof title, (const uint8_t *)s->title, strlen(s->title), 0);
    snprintf(add(items, &n, 0, STYLE_BAR_HI)->text, ITEM_MAX, "hspy %s", title);
    if (s->stream)
        stream_item(s, add(items, &n, 1, s->loading ? STYLE_PROGRESS : STYLE_BAR_HI));
    else if (s->loading)
        progress_item(s, g, add(items, &n, 1, STYLE_PROGRESS));
    if (s->filtered)
        snprintf(add(items, &n, 0, STYLE_BAR)->text, ITEM_MAX, "%s of %s flows",
                 statusbar_count(s->shown, a, sizeof a), statusbar_count(s->live, b, sizeof b));
    else
        snprintf(add(items, &n, 0, STYLE_BAR)->text, ITEM_MAX, "%s flow%s",
                 statusbar_count(s->live, a, sizeof a), s->live == 1 ? "" : "s");
    const struct store_counters *c = s->counters;
    if (c->with_warnings)
        snprintf(add(items, &n, 2, STYLE_BAR_HI)->text, ITEM_MAX, "%s %s", g->warn,
                 statusbar_count(c->with_warnings, a, sizeof a));
    if (c->held)
        snprintf(add(items, &n, 2, STYLE_BAR_HI)->text, ITEM_MAX, "held %s",
                 statusbar_count(c->held, a, sizeof a));
    if (s->server)
        snprintf(add(items, &n, 4, STYLE_BAR)->text, ITEM_MAX, "conns %zu", s->conns);
    if (s->refused)
        snprintf(add(items, &n, 2, STYLE_BAR_HI)->text, ITEM_MAX, "refused %s",
                 statusbar_count(s->refused, a, sizeof a));
    if (s->failed)
        snprintf(add(items, &n, 2, STYLE_BAR_HI)->text, ITEM_MAX, "accept errors %s",
                 statusbar_count(s->failed, a, sizeof a));
    if (s->gaps)
        snprintf(add(items, &n, 2, STYLE_BAR_HI)->text, ITEM_MAX, "gaps %s",
                 statusbar_count(s->gaps, a, sizeof a));
    if (c->evicted)
        snprintf(add(items, &n, 3, STYLE_BAR)->text, ITEM_MAX, "evicted %s",
                 statusbar_count(c->evicted, a, sizeof a));
    snprintf(add(items, &n, 5, STYLE_BAR)->text, ITEM_MAX, "%s",
             flowrow_bytes(c->bytes, a, sizeof a));
    if (s->marked)
        snprintf(add(items, &n, 4, STYLE_BAR)->text, ITEM_MAX, "marked %zu", s->marked);
    snprintf(add(items, &n, 3, STYLE_BAR)->text, ITEM_MAX, "follow %s", s->follow ? g->on : g->off);
    if (s->sort)
        snprintf(add(items, &n, 6, STYLE_BAR)->text, ITEM_MAX, "sort %s%s", s->sort,
                 s->descending ? g->down : g->up);
    if (s->filtering >= 0)
        snprintf(add(items, &n, 0, STYLE_PROGRESS)->text, ITEM_MAX, "filtering %d%%", s->filtering);
    if (s->sorting)
        snprintf(add(items, &n, 0, STYLE_PROGRESS)->text, ITEM_MAX, "sorting by %s %d%%",
                 s->sorting, s->sorting_percent);
    if (s->deleting >= 0)
        snprintf(add(items, &n, 0, STYLE_PROGRESS)->text, ITEM_MAX, "deleting %d%%", s->deleting);
    expression_item(items, &n, "filter", s->filter);
    expression_item(items, &n, "intercept", s->intercept);
    return n;
}

enum { SEP = 3 };

void statusbar_render(const struct statusbar *s, const struct glyphs *g, struct canvas_line *out)
{
    struct item items[ITEMS_MAX];
    size_t n = collect(s, g, items);
    bool keep[ITEMS_MAX];
    int total = 1;
    for (size_t i = 0; i < n; i++) {
        keep[i] = true;
        total += celltext_width(items[i].text, strlen(items[i].text)) + (i ? SEP : 0);
    }
    while (total > out->width) {
        size_t worst = 0;
        for (size_t i = 1; i < n; i++)
            if (keep[i] && (!keep[worst] || items[i].priority >= items[worst].priority))
                worst = i;
        if (worst == 0 || items[worst].priority == 0)
            break;
        keep[worst] = false;
        total -= celltext_width(items[worst].text, strlen(items[worst].text)) + SEP;
    }
    out->style = STYLE_BAR;
    out->ellipsis = g->ellipsis;
    canvas_puts(out, STYLE_BAR, " ");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        if (!first)
            canvas_pad(out, STYLE_BAR, SEP);
        first = false;
        canvas_puts(out, items[i].style, items[i].text);
    }
}
