/*
 * doc owns a document's lines: stored ones (text, spans, base style) and lazy sources with the
 * data they render from. It renders into canvas lines and never touches the terminal.
 */
#include "hspy/doc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/search.h"
#include "hspy/xmalloc.h"

struct doc_stored {
    size_t off; /* in d->text */
    uint32_t len;
    uint32_t span_first; /* in d->spans */
    uint32_t nspans;
    uint8_t style;
    bool fixed; /* stays in place under a sideways scroll (doc_fixed) */
};

/* A run of consecutive stored lines, or one lazy source. */
struct doc_seg {
    size_t first, count; /* document lines */
    size_t stored_first; /* stored runs: index of the first stored line */
    bool lazy;
    struct doc_source src;
};

static const size_t NPOS = (size_t)-1;

void doc_init(struct doc *d)
{
    memset(d, 0, sizeof *d);
    dynbuf_init(&d->text, DOC_TEXT_MAX);
    canvas_line_init(&d->scratch, CANVAS_UNLIMITED);
}

static void free_sources(struct doc *d)
{
    for (size_t i = 0; i < d->nsegs; i++)
        if (d->segs[i].lazy && d->segs[i].src.free)
            d->segs[i].src.free(d->segs[i].src.data);
    if (d->locate_free)
        d->locate_free(d->locate_data);
    d->locate_free = NULL;
    d->locate_data = NULL;
}

void doc_cleanup(struct doc *d)
{
    free_sources(d);
    free(d->segs);
    free(d->stored);
    free(d->spans);
    free(d->targets);
    dynbuf_cleanup(&d->text);
    canvas_line_cleanup(&d->scratch);
    memset(d, 0, sizeof *d);
}

void doc_reset(struct doc *d)
{
    free_sources(d);
    d->generation++;
    d->nsegs = d->nstored = d->nspans = d->ntargets = d->lines = 0;
    d->growing = false;
    dynbuf_reset(&d->text);
    d->locate = NULL;
}

static struct doc_seg *new_seg(struct doc *d)
{
    if (d->nsegs == d->segs_cap)
        d->segs = xgrow(d->segs, &d->segs_cap, d->nsegs + 1, sizeof *d->segs);
    struct doc_seg *s = &d->segs[d->nsegs++];
    memset(s, 0, sizeof *s);
    s->first = d->lines;
    return s;
}

size_t doc_add(struct doc *d, const struct canvas_line *l)
{
    assert(!d->growing);
    struct doc_seg *seg = d->nsegs ? &d->segs[d->nsegs - 1] : NULL;
    if (!seg || seg->lazy) {
        seg = new_seg(d);
        seg->stored_first = d->nstored;
    }
    if (d->nstored == d->stored_cap)
        d->stored = xgrow(d->stored, &d->stored_cap, d->nstored + 1, sizeof *d->stored);
    struct doc_stored *st = &d->stored[d->nstored++];
    st->off = d->text.len;
    st->len =
        (uint32_t)dynbuf_append(&d->text, l->text.data ? l->text.data : (uint8_t *)"", l->text.len);
    st->style = l->style;
    st->fixed = false;
    st->span_first = (uint32_t)d->nspans;
    st->nspans = 0;
    for (uint32_t i = 0; i < l->nspans; i++) {
        if (l->spans[i].off >= st->len)
            break;
        if (d->nspans == d->spans_cap)
            d->spans = xgrow(d->spans, &d->spans_cap, d->nspans + 1, sizeof *d->spans);
        d->spans[d->nspans++] = l->spans[i];
        st->nspans++;
    }
    seg->count++;
    return d->lines++;
}

size_t doc_addf(struct doc *d, uint8_t style, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_put(&l, style, buf, (size_t)n);
    size_t line = doc_add(d, &l);
    canvas_line_cleanup(&l);
    return line;
}

size_t doc_blank(struct doc *d)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    size_t line = doc_add(d, &l);
    canvas_line_cleanup(&l);
    return line;
}

size_t doc_add_source(struct doc *d, const struct doc_source *src)
{
    assert(!d->growing);
    struct doc_seg *seg = new_seg(d);
    seg->lazy = true;
    seg->src = *src;
    if (src->count) {
        assert(src->extend && src->index);
        d->growing = true;
        return seg->first;
    }
    seg->count = src->lines;
    d->lines += src->lines;
    return seg->first;
}

static const struct doc_seg *last_seg(const struct doc *d)
{
    return d->nsegs ? &d->segs[d->nsegs - 1] : NULL;
}

size_t doc_lines(const struct doc *d)
{
    if (!d->growing)
        return d->lines;
    const struct doc_seg *s = last_seg(d);
    return d->lines + s->src.count(s->src.data, NULL);
}

void doc_extend(struct doc *d, size_t want)
{
    if (!d->growing || want <= d->lines)
        return;
    const struct doc_seg *s = last_seg(d);
    s->src.extend(s->src.data, want - d->lines);
}

void doc_target(struct doc *d, size_t line, int side, uint64_t offset)
{
    if (d->ntargets == d->targets_cap)
        d->targets = xgrow(d->targets, &d->targets_cap, d->ntargets + 1, sizeof *d->targets);
    d->targets[d->ntargets++] = (struct doc_target){line, (uint8_t)side, offset};
}

size_t doc_target_at(const struct doc *d, size_t line)
{
    size_t lo = 0, hi = d->ntargets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->targets[mid].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct doc_seg *seg_of(const struct doc *d, size_t line)
{
    size_t lo = 0, hi = d->nsegs;
    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->segs[mid].first <= line)
            lo = mid;
        else
            hi = mid;
    }
    return d->nsegs ? &d->segs[lo] : NULL;
}

static void render_stored(const struct doc *d, const struct doc_stored *st, struct canvas_line *out)
{
    const char *text = (const char *)d->text.data + st->off;
    size_t pos = 0;
    int skip = out->skip;
    if (st->fixed)
        out->skip = 0;
    out->style = st->style;
    for (uint32_t i = 0; i < st->nspans; i++) {
        const struct canvas_span *sp = &d->spans[st->span_first + i];
        if (sp->off > pos)
            canvas_put(out, STYLE_NORMAL, text + pos, sp->off - pos);
        size_t end = (size_t)sp->off + sp->len;
        if (end > st->len)
            end = st->len;
        if (end > pos && sp->off >= pos)
            canvas_put(out, sp->style, text + sp->off, end - sp->off);
        if (end > pos)
            pos = end;
    }
    if (pos < st->len)
        canvas_put(out, STYLE_NORMAL, text + pos, st->len - pos);
    out->skip = skip;
}

void doc_fixed(struct doc *d, size_t line)
{
    const struct doc_seg *seg = seg_of(d, line);
    assert(seg && !seg->lazy && line - seg->first < seg->count);
    d->stored[seg->stored_first + (line - seg->first)].fixed = true;
}

void doc_render(const struct doc *d, size_t i, struct canvas_line *out)
{
    const struct doc_seg *seg = seg_of(d, i);
    if (!seg || i >= doc_lines(d))
        return;
    if (seg->lazy)
        seg->src.render(seg->src.data, i - seg->first, out);
    else
        render_stored(d, &d->stored[seg->stored_first + (i - seg->first)], out);
}

/* Lines of a segment (a growing one reaches to the end of the document). */
static size_t seg_lines(const struct doc *d, const struct doc_seg *seg, size_t lines)
{
    return seg->lazy && seg->src.count ? lines - seg->first : seg->count;
}

/* Renders and matches lines one by one: pos and count lines towards dir. A "/re/" needle is a
 * regular expression (one that does not compile matches nothing). */
static size_t scan_lines(struct doc *d, const char *needle, size_t pos, size_t count, int dir)
{
    size_t hit = NPOS, s, e;
    struct search_query q = {0};
    char err[SEARCH_ERROR_MAX];
    if (!search_query_set(&q, needle, err, sizeof err))
        count = 0;
    for (size_t k = 0; k<count; k++, pos = dir> 0 ? pos + 1 : pos - 1) {
        canvas_line_reset(&d->scratch, CANVAS_UNLIMITED, 0);
        doc_render(d, pos, &d->scratch);
        if (search_query_find(&q, (const char *)d->scratch.text.data, d->scratch.text.len, 0, &s,
                              &e)) {
            hit = pos;
            break;
        }
    }
    search_query_cleanup(&q);
    return hit;
}

bool doc_index(struct doc *d, size_t budget)
{
    const struct doc_seg *last = last_seg(d);
    return !d->growing || last->src.index(last->src.data, budget);
}

void doc_search_start(const struct doc *d, struct doc_search *s, const char *needle, size_t from,
                      int dir)
{
    memset(s, 0, sizeof *s);
    snprintf(s->needle, sizeof s->needle, "%s", needle);
    s->from = from;
    s->dir = dir > 0 ? 1 : -1;
    s->generation = d->generation;
}

enum doc_found doc_search_step(struct doc *d, struct doc_search *s, size_t budget, size_t *at)
{
    if (s->generation != d->generation)
        return DOC_CHANGED;
    if (!s->indexed) {
        /* A growing source is indexed to its end first: the lines are then counted. */
        if (!doc_index(d, budget))
            return DOC_MORE;
        size_t lines = doc_lines(d);
        if (!lines || !*s->needle)
            return DOC_MISSING;
        if (s->from < lines)
            s->pos = s->dir > 0 ? (s->from + 1) % lines : (s->from + lines - 1) % lines;
        else
            s->pos = s->dir > 0 ? 0 : lines - 1; /* from an edge: no wrapping to get there */
        s->wrapped = s->from < lines && (s->dir > 0 ? s->pos < s->from : s->pos > s->from);
        s->left = lines;
        s->indexed = true;
    }
    size_t lines = doc_lines(d);
    /* Segment by segment, so that a source with a search of its own does its part at once (or
     * in steps, by bytes). */
    while (s->left > 0) {
        const struct doc_seg *seg = seg_of(d, s->pos);
        size_t end = seg->first + seg_lines(d, seg, lines);
        size_t span = s->dir > 0 ? end - s->pos : s->pos - seg->first + 1;
        if (span > s->left)
            span = s->left;
        size_t hit;
        if (seg->lazy && seg->src.find) {
            bool more = false;
            hit = seg->src.find(seg->src.data, s->needle, s->pos - seg->first, span, s->dir, budget,
                                &more);
            if (more)
                return DOC_MORE;
            hit = hit == NPOS ? NPOS : seg->first + hit;
        } else {
            hit = scan_lines(d, s->needle, s->pos, span, s->dir);
        }
        if (hit != NPOS) {
            *at = hit;
            s->left = 0;
            s->only = hit == s->from;
            return DOC_FOUND;
        }
        s->left -= span;
        size_t next = s->dir > 0 ? (s->pos + span) % lines : (s->pos + lines - span) % lines;
        if (s->left > 0 && (s->dir > 0 ? next < s->pos : next > s->pos))
            s->wrapped = true;
        s->pos = next;
    }
    return DOC_MISSING;
}

size_t doc_search(struct doc *d, const char *needle, size_t from, int dir)
{
    struct doc_search s;
    size_t at = NPOS;
    doc_search_start(d, &s, needle, from, dir);
    return doc_search_step(d, &s, 0, &at) == DOC_FOUND ? at : NPOS;
}

void doc_highlight(struct canvas_line *l, const struct search_query *q)
{
    if (!q || !l->text.len)
        return;
    const char *text = (const char *)l->text.data;
    size_t from = 0, s, e;
    while (from < l->text.len && search_query_find(q, text, l->text.len, from, &s, &e)) {
        if (e > s)
            canvas_restyle(l, (uint32_t)s, (uint32_t)(e - s), STYLE_MATCH);
        from = e > s ? e : s + 1;
    }
}
