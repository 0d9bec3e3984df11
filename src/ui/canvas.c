/*
 * canvas owns styled lines of safe text and the rules that keep them inside their width. It
 * never touches the terminal (screen.c draws a finished canvas) and never lets network bytes
 * in without termsafe.
 */
#include "hspy/canvas.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/termsafe.h"
#include "hspy/xmalloc.h"

/* termsafe output of one line is capped like the line itself. */
#define SCRATCH_MAX CANVAS_LINE_MAX

void canvas_line_init(struct canvas_line *l, int width)
{
    memset(l, 0, sizeof *l);
    dynbuf_init(&l->text, CANVAS_LINE_MAX);
    dynbuf_init(&l->scratch, SCRATCH_MAX);
    l->width = width;
}

void canvas_line_cleanup(struct canvas_line *l)
{
    dynbuf_cleanup(&l->text);
    dynbuf_cleanup(&l->scratch);
    free(l->spans);
    free(l->marks);
    memset(l, 0, sizeof *l);
}

void canvas_line_reset(struct canvas_line *l, int width, int skip)
{
    dynbuf_reset(&l->text);
    l->nspans = 0;
    l->style = STYLE_NORMAL;
    l->width = width;
    l->cells = 0;
    l->skip = skip;
    l->ellipsis = NULL;
    l->clipped = false;
    l->fit_off = 0;
    l->fit_cells = 0;
}

static void add_span(struct canvas_line *l, uint32_t off, uint32_t len, uint8_t style)
{
    if (len == 0)
        return;
    if (l->nspans) {
        struct canvas_span *last = &l->spans[l->nspans - 1];
        if (last->style == style && last->off + last->len == off) {
            last->len += len;
            return;
        }
    }
    if (l->nspans == l->spans_cap) {
        l->spans_cap = l->spans_cap ? l->spans_cap * 2 : 8;
        l->spans = xrealloc(l->spans, l->spans_cap * sizeof *l->spans);
    }
    l->spans[l->nspans++] = (struct canvas_span){off, len, style};
}

/* Appends text already known to fit. */
static void append(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells)
{
    size_t off = l->text.len;
    size_t stored = dynbuf_append(&l->text, s, n);
    if (stored < n) {
        /* The byte cap cut a character: drop the partial one and call the line clipped. */
        size_t keep = celltext_fit((const char *)l->text.data + off, stored, cells, &cells);
        l->text.len = off + keep;
        l->text.data[l->text.len] = '\0';
        l->clipped = true;
        n = keep;
        cells = celltext_width(s, keep);
    }
    if (style != STYLE_NORMAL)
        add_span(l, (uint32_t)off, (uint32_t)n, style);
    l->cells += cells;
    if (l->cells <= l->width - 1) {
        l->fit_off = l->text.len;
        l->fit_cells = l->cells;
    }
}

/* Cuts the line back to where it last fitted in width - 1 cells and adds the ellipsis. */
static void cut_with_ellipsis(struct canvas_line *l)
{
    l->text.len = l->fit_off;
    l->text.data[l->text.len] = '\0';
    l->cells = l->fit_cells;
    uint32_t n = 0;
    for (uint32_t i = 0; i < l->nspans; i++) {
        struct canvas_span *sp = &l->spans[i];
        if (sp->off >= l->fit_off)
            continue;
        if (sp->off + sp->len > l->fit_off)
            sp->len = (uint32_t)(l->fit_off - sp->off);
        l->spans[n++] = *sp;
    }
    l->nspans = n;
    size_t elen = strlen(l->ellipsis);
    int ew = celltext_width(l->ellipsis, elen);
    if (l->cells + ew <= l->width)
        append(l, STYLE_DIM, l->ellipsis, elen, ew);
    while (l->cells < l->width)
        append(l, STYLE_NORMAL, " ", 1, 1);
}

int canvas_put(struct canvas_line *l, uint8_t style, const char *s, size_t n)
{
    if (l->clipped || n == 0)
        return 0;
    int before = l->cells;
    if (l->skip > 0) {
        int lost;
        size_t k = celltext_skip(s, n, l->skip, &lost);
        int w = celltext_width(s, k);
        if (w < l->skip) {
            l->skip -= w;
            return 0;
        }
        l->skip = 0;
        s += k;
        n -= k;
        for (int i = 0; i < lost && l->cells < l->width; i++)
            append(l, style, " ", 1, 1);
    }
    int room = l->width - l->cells;
    int used;
    size_t fit = celltext_fit(s, n, room, &used);
    if (fit == n) {
        append(l, style, s, n, used);
        return l->cells - before;
    }
    /* Too wide: keep what fits, then cut back for the ellipsis when one is wanted. */
    if (l->ellipsis && l->cells <= l->width - 1) {
        int used1;
        size_t fit1 = celltext_fit(s, n, room - 1, &used1);
        append(l, style, s, fit1, used1);
        l->fit_off = l->text.len;
        l->fit_cells = l->cells;
    } else {
        append(l, style, s, fit, used);
    }
    l->clipped = true;
    if (l->ellipsis)
        cut_with_ellipsis(l);
    return l->cells - before;
}

int canvas_put_fixed(struct canvas_line *l, uint8_t style, const char *s, size_t n)
{
    int skip = l->skip;
    l->skip = 0;
    int cells = canvas_put(l, style, s, n);
    l->skip = skip;
    return cells;
}

int canvas_put_marked(struct canvas_line *l, uint8_t style, const char *s, size_t n,
                      const struct canvas_mark *marks, size_t nmarks)
{
    /* Piece by piece, so that spans stay in order and never overlap (the document stores
       them so) and the skip and the cut apply to the pieces as to any text. */
    int cells = 0;
    size_t pos = 0;
    for (size_t i = 0; i < nmarks && pos < n; i++) {
        size_t a = marks[i].off, b = a + marks[i].len;
        if (a < pos || a >= n)
            continue;
        if (b > n)
            b = n; /* text cut inside the escape: what is left of it still is one */
        cells += canvas_put(l, style, s + pos, a - pos);
        cells += canvas_put(
            l, marks[i].kind == TERMSAFE_MARK_SYMBOL ? STYLE_LINE_END : STYLE_ESCAPE, s + a, b - a);
        pos = b;
    }
    return cells + canvas_put(l, style, s + pos, n - pos);
}

void canvas_cell_clear(struct canvas_cell *c)
{
    c->text[0] = '\0';
    c->nmarks = 0;
}

void canvas_cell_printf(struct canvas_cell *c, const char *fmt, ...)
{
    size_t len = strlen(c->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text + len, sizeof c->text - len, fmt, ap);
    va_end(ap);
}

/* termsafe's marks for canvas_cell_bytes: offsets from where the rendering started. */
struct cell_sink {
    struct canvas_cell *c;
    size_t base;
};

static void cell_mark(void *data, size_t off, size_t len, enum termsafe_mark_kind kind)
{
    struct cell_sink *k = data;
    if (k->c->nmarks < CANVAS_CELL_MARKS) /* cannot overflow: an escape takes 2 bytes or more */
        k->c->mark[k->c->nmarks++] =
            (struct canvas_mark){(uint32_t)(k->base + off), (uint32_t)len, (uint8_t)kind};
}

void canvas_cell_bytes(struct canvas_cell *c, const uint8_t *p, size_t n, unsigned flags)
{
    size_t len = strlen(c->text);
    struct cell_sink k = {c, len};
    termsafe_str_marked(c->text + len, sizeof c->text - len, p, n, flags,
                        &(struct termsafe_marks){cell_mark, &k});
}

void canvas_cell_str(struct canvas_cell *c, const char *s)
{
    canvas_cell_bytes(c, (const uint8_t *)s, strlen(s), 0);
}

int canvas_put_cell(struct canvas_line *l, uint8_t style, const struct canvas_cell *c)
{
    return canvas_put_marked(l, style, c->text, strlen(c->text), c->mark, c->nmarks);
}

/* termsafe's marks for canvas_put_bytes, into the line's own array (offsets fit: the scratch
   buffer holds at most CANVAS_LINE_MAX bytes). */
static void line_mark(void *data, size_t off, size_t len, enum termsafe_mark_kind kind)
{
    struct canvas_line *l = data;
    if (l->nmarks == l->marks_cap) {
        l->marks_cap = l->marks_cap ? l->marks_cap * 2 : 16;
        l->marks = xrealloc(l->marks, l->marks_cap * sizeof *l->marks);
    }
    l->marks[l->nmarks++] = (struct canvas_mark){(uint32_t)off, (uint32_t)len, (uint8_t)kind};
}

int canvas_puts(struct canvas_line *l, uint8_t style, const char *s)
{
    return canvas_put(l, style, s, strlen(s));
}

/* The text fmt makes, cut at CANVAS_PRINTF_MAX - 1 bytes, put with put. */
static int put_formatted(struct canvas_line *l, uint8_t style,
                         int (*put)(struct canvas_line *, uint8_t, const char *, size_t),
                         const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static int put_formatted(struct canvas_line *l, uint8_t style,
                         int (*put)(struct canvas_line *, uint8_t, const char *, size_t),
                         const char *fmt, va_list ap)
{
    char buf[CANVAS_PRINTF_MAX];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return 0;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    return put(l, style, buf, (size_t)n);
}

int canvas_printf(struct canvas_line *l, uint8_t style, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int cells = put_formatted(l, style, canvas_put, fmt, ap);
    va_end(ap);
    return cells;
}

int canvas_printf_fixed(struct canvas_line *l, uint8_t style, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int cells = put_formatted(l, style, canvas_put_fixed, fmt, ap);
    va_end(ap);
    return cells;
}

int canvas_put_bytes(struct canvas_line *l, uint8_t style, const uint8_t *p, size_t n,
                     unsigned flags)
{
    if (l->clipped)
        return 0;
    /* A visible character takes at most 4 input bytes, so more than this can never show; the
     * cap keeps a megabyte-long line from being escaped on every frame. */
    if (l->width < CANVAS_UNLIMITED) {
        size_t need = 4 * ((size_t)l->skip + (size_t)(l->width - l->cells) + 1) + 64;
        if (n > need)
            n = need;
    }
    dynbuf_reset(&l->scratch);
    l->nmarks = 0;
    termsafe_append_marked(&l->scratch, p, n, flags, &(struct termsafe_marks){line_mark, l});
    return canvas_put_marked(l, style, (const char *)l->scratch.data, l->scratch.len, l->marks,
                             l->nmarks);
}

/* Where the kept head of a text cut in its middle ends (*head_end) and its kept tail starts
 * (*tail_start), for head and tail cells of s[0..n) (total cells wide); marks[0..nmarks) are
 * units never split. */
static void middle_cut(const char *s, size_t n, int total, const struct canvas_mark *marks,
                       size_t nmarks, int head, int tail, size_t *head_end, size_t *tail_start)
{
    size_t off = 0, m = 0;
    int at = 0;
    bool head_open = true;
    *head_end = 0;
    *tail_start = n;
    while (off < n) {
        if (total - at <= tail) {
            *tail_start = off;
            return;
        }
        while (m < nmarks && marks[m].off < off)
            m++;
        size_t len;
        int w;
        if (m < nmarks && marks[m].off == off) {
            len = marks[m].len;
            w = celltext_width(s + off, len);
        } else {
            len = celltext_next(s + off, n - off, &w);
        }
        if (head_open && at + w <= head)
            *head_end = off + len;
        else
            head_open = false;
        at += w;
        off += len;
    }
}

/*
 * Safe text s[0..n) with its marks (adjusted in place: the tail's offsets are made relative to
 * the tail) put within cells, cut in its middle with cut when wider: a third of the room before
 * the cut, the rest after it.
 */
static int put_marked_within(struct canvas_line *l, uint8_t style, const char *s, size_t n,
                             struct canvas_mark *marks, size_t nmarks, int cells, const char *cut)
{
    int total = celltext_width(s, n);
    if (total <= cells)
        return canvas_put_marked(l, style, s, n, marks, nmarks);
    size_t cutlen = strlen(cut);
    int room = cells - celltext_width(cut, cutlen);
    if (room < 0)
        room = 0;
    size_t head_end, tail_start;
    middle_cut(s, n, total, marks, nmarks, room / 3, room - room / 3, &head_end, &tail_start);
    int put = canvas_put_marked(l, style, s, head_end, marks, nmarks);
    put += canvas_put(l, STYLE_DIM, cut, cutlen);
    size_t first = 0;
    while (first < nmarks && marks[first].off < tail_start)
        first++;
    for (size_t i = first; i < nmarks; i++)
        marks[i].off -= (uint32_t)tail_start;
    /* No marks: marks may be NULL, where even adding 0 is undefined. */
    const struct canvas_mark *after = first < nmarks ? marks + first : NULL;
    return put + canvas_put_marked(l, style, s + tail_start, n - tail_start, after, nmarks - first);
}

int canvas_put_within(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                      const char *cut)
{
    if (l->clipped || cells <= 0)
        return 0;
    return put_marked_within(l, style, s, n, NULL, 0, cells, cut);
}

int canvas_put_bytes_within(struct canvas_line *l, uint8_t style, const uint8_t *p, size_t n,
                            int cells, const char *cut)
{
    if (l->clipped || cells <= 0)
        return 0;
    dynbuf_reset(&l->scratch);
    l->nmarks = 0;
    termsafe_append_marked(&l->scratch, p, n, 0, &(struct termsafe_marks){line_mark, l});
    return put_marked_within(l, style, (const char *)l->scratch.data, l->scratch.len, l->marks,
                             l->nmarks, cells, cut);
}

int canvas_bytes_width(const uint8_t *p, size_t n)
{
    struct dynbuf b;
    dynbuf_init(&b, SCRATCH_MAX);
    termsafe_append(&b, p, n, 0);
    int w = celltext_width((const char *)b.data, b.len);
    dynbuf_cleanup(&b);
    return w;
}

void canvas_pad(struct canvas_line *l, uint8_t style, int cells)
{
    static const char spaces[] = "                                ";
    while (cells > 0 && !l->clipped) {
        int k = cells < (int)sizeof spaces - 1 ? cells : (int)sizeof spaces - 1;
        canvas_put(l, style, spaces, (size_t)k);
        cells -= k;
    }
}

void canvas_put_fit(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                    enum celltext_align align, const char *ellipsis)
{
    canvas_put_fit_marked(l, style, s, n, cells, align, ellipsis, NULL, 0);
}

void canvas_put_fit_marked(struct canvas_line *l, uint8_t style, const char *s, size_t n, int cells,
                           enum celltext_align align, const char *ellipsis,
                           const struct canvas_mark *marks, size_t nmarks)
{
    if (cells <= 0)
        return;
    int w = celltext_width(s, n);
    if (w <= cells) {
        if (align == CELLTEXT_RIGHT)
            canvas_pad(l, style, cells - w);
        canvas_put_marked(l, style, s, n, marks, nmarks);
        if (align == CELLTEXT_LEFT)
            canvas_pad(l, style, cells - w);
        return;
    }
    size_t elen = ellipsis ? strlen(ellipsis) : 0;
    int ew = ellipsis ? celltext_width(ellipsis, elen) : 0;
    if (ew > cells)
        ew = 0, elen = 0;
    int used;
    size_t k = celltext_fit(s, n, cells - ew, &used);
    canvas_put_marked(l, style, s, k, marks, nmarks);
    if (elen)
        canvas_put(l, STYLE_DIM, ellipsis, elen);
    canvas_pad(l, style, cells - used - ew);
}

void canvas_restyle(struct canvas_line *l, uint32_t off, uint32_t len, uint8_t style)
{
    if (off >= l->text.len)
        return;
    if (len > l->text.len - off)
        len = (uint32_t)(l->text.len - off);
    /* A restyle may overlap the last span: never merge it into that one. */
    if (l->nspans == l->spans_cap) {
        l->spans_cap = l->spans_cap ? l->spans_cap * 2 : 8;
        l->spans = xrealloc(l->spans, l->spans_cap * sizeof *l->spans);
    }
    if (len)
        l->spans[l->nspans++] = (struct canvas_span){off, len, style};
}

uint8_t canvas_style_at(const struct canvas_line *l, size_t off)
{
    for (uint32_t i = l->nspans; i-- > 0;) {
        const struct canvas_span *sp = &l->spans[i];
        if (off >= sp->off && off < (size_t)sp->off + sp->len)
            return sp->style;
    }
    return l->style;
}

void canvas_init(struct canvas *c, int rows, int cols)
{
    c->rows = 0;
    c->cols = 0;
    c->line = NULL;
    canvas_resize(c, rows, cols);
}

void canvas_cleanup(struct canvas *c)
{
    for (int y = 0; y < c->rows; y++)
        canvas_line_cleanup(&c->line[y]);
    free(c->line);
    c->line = NULL;
    c->rows = c->cols = 0;
}

void canvas_resize(struct canvas *c, int rows, int cols)
{
    assert(rows >= 0 && cols >= 0);
    for (int y = rows; y < c->rows; y++)
        canvas_line_cleanup(&c->line[y]);
    c->line = xrealloc(c->line, (size_t)(rows ? rows : 1) * sizeof *c->line);
    for (int y = c->rows; y < rows; y++)
        canvas_line_init(&c->line[y], cols);
    c->rows = rows;
    c->cols = cols;
    for (int y = 0; y < rows; y++)
        canvas_line_reset(&c->line[y], cols, 0);
}

struct canvas_line *canvas_row(struct canvas *c, int y)
{
    assert(y >= 0 && y < c->rows);
    canvas_line_reset(&c->line[y], c->cols, 0);
    return &c->line[y];
}

void canvas_dump(const struct canvas *c, struct dynbuf *out)
{
    for (int y = 0; y < c->rows; y++) {
        dynbuf_append(out, c->line[y].text.data ? c->line[y].text.data : (const uint8_t *)"",
                      c->line[y].text.len);
        dynbuf_addc(out, '\n');
    }
}
