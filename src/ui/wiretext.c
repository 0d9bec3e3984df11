/*
 * wiretext owns the Raw tab's structure: the boundaries of each side's bytes and the line
 * table over them. It reads the exchange while building; rendering reads the bytes again
 * through a bytesource. It never changes the exchange.
 */
#include "hspy/wiretext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bytesource.h"
#include "hspy/chunked.h"
#include "hspy/flowrow.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

enum mark_kind {
    MARK_INTERIM, /* a: status, b: length */
    MARK_HEAD,    /* b: length */
    MARK_BODY,    /* a: enum body_kind, b: declared length */
    MARK_CHUNK,   /* a: chunk number, b: size */
    MARK_LAST,    /* last chunk */
    MARK_TRAILER, /* trailer section */
    MARK_END,     /* end of the message */
    MARK_GAP,     /* b: bytes missing */
    MARK_CUT,     /* b: bytes counted, not kept */
};

struct mark {
    uint64_t off;  /* in raw */
    uint64_t wire; /* the same place counted on the wire (what the mark line shows) */
    uint8_t kind;
    uint64_t a, b;
};

struct rawline {
    uint64_t off; /* byte lines: offset; mark lines: the mark's offset */
    uint32_t len; /* byte lines only */
    int32_t mark; /* index into marks, or -1 for a byte line */
};

struct rawside {
    struct bytesource bytes;
    int side;
    struct message_gap gaps[MESSAGE_GAPS_MAX]; /* copied: offsets shown count missing bytes */
    uint16_t ngaps;
    struct mark *marks;
    size_t nmarks, marks_cap;
    struct rawline *lines;
    size_t nlines, lines_cap;
    const struct glyphs *g;
};

struct rawdoc {
    struct rawside *side[2];
    size_t first[2]; /* document line of each side's first table line */
};

uint64_t wiretext_raw_offset(const struct message_gap *gaps, uint16_t ngaps, uint64_t wire)
{
    uint64_t missing = 0;
    for (uint16_t i = 0; i < ngaps; i++) {
        const struct message_gap *g = &gaps[i];
        if (g->off >= wire)
            break;
        missing += wire - g->off < g->len ? wire - g->off : g->len;
    }
    return wire - missing;
}

uint64_t wiretext_wire_offset(const struct message_gap *gaps, uint16_t ngaps, uint64_t raw)
{
    uint64_t wire = raw;
    for (uint16_t i = 0; i < ngaps; i++) {
        if (gaps[i].off > wire)
            break;
        wire += gaps[i].len;
    }
    return wire;
}

void wiretext_gap_line(struct canvas_line *out, const struct glyphs *g, uint64_t missing,
                       uint64_t wire)
{
    canvas_printf_fixed(out, STYLE_WARN, "%s capture gap: %llu %s missing (offset %llu)", g->gap,
                        (unsigned long long)missing, plural_bytes(missing),
                        (unsigned long long)wire);
}

uint64_t wiretext_cut_bytes(const struct message *m)
{
    uint64_t counted = m->wire_bytes - m->gap_bytes;
    return counted > m->raw.len ? counted - m->raw.len : 0;
}

void wiretext_cut_line(struct canvas_line *out, const struct glyphs *g, uint64_t cut)
{
    canvas_printf_fixed(out, STYLE_WARN, "%s %llu more %s the wire but %s not kept", g->truncated,
                        (unsigned long long)cut, plural(cut, "byte crossed", "bytes crossed"),
                        plural(cut, "was", "were"));
}

/* Adds a mark at a raw offset. */
static void add_mark(struct rawside *r, uint64_t off, uint8_t kind, uint64_t a, uint64_t b)
{
    if (r->nmarks == r->marks_cap)
        r->marks = xgrow(r->marks, &r->marks_cap, r->nmarks + 1, sizeof *r->marks);
    r->marks[r->nmarks++] =
        (struct mark){off, wiretext_wire_offset(r->gaps, r->ngaps, off), kind, a, b};
}

/* Adds a mark at a wire offset (gaps, the end of a message). */
static void add_wire_mark(struct rawside *r, uint64_t wire, uint8_t kind, uint64_t a, uint64_t b)
{
    add_mark(r, wiretext_raw_offset(r->gaps, r->ngaps, wire), kind, a, b);
    r->marks[r->nmarks - 1].wire = wire;
}

static void add_line(struct rawside *r, uint64_t off, uint32_t len, int32_t mark)
{
    if (r->nlines == r->lines_cap)
        r->lines = xgrow(r->lines, &r->lines_cap, r->nlines + 1, sizeof *r->lines);
    r->lines[r->nlines++] = (struct rawline){off, len, mark};
}

/* Start of the line holding data_start - 1 backwards from it, not before floor. */
static size_t line_start(const uint8_t *p, size_t floor, size_t at)
{
    size_t i = at;
    while (i > floor && p[i - 1] != '\n')
        i--;
    return i;
}

/* Marks every chunk-size line, the last chunk and the trailer of a chunked body. */
static void mark_chunks(struct rawside *r, const struct message *m, const struct http_limits *lim)
{
    size_t from = (size_t)m->body_off;
    if (from >= m->raw.len)
        return;
    const uint8_t *body = m->raw.data + from;
    size_t n = m->raw.len - from;
    struct chunked ck;
    chunked_init(&ck, lim);
    size_t pos = 0, prev_end = 0;
    uint32_t seen = 0;
    while (pos < n && ck.status == CHUNKED_MORE) {
        struct http_span pl;
        size_t used = chunked_step(&ck, body + pos, n - pos, &pl, NULL);
        if (pl.len && ck.chunks != seen) {
            size_t data = pos + pl.off;
            /* The size line is the line that ends just before the data. */
            size_t size_at = data ? line_start(body, prev_end, data - 1) : 0;
            add_mark(r, from + size_at, MARK_CHUNK, ck.chunks, ck.size);
            seen = ck.chunks;
        }
        if (pl.len)
            prev_end = pos + pl.off + pl.len;
        if (used == 0)
            break;
        pos += used;
    }
    if (ck.trailer_off) {
        size_t last = ck.trailer_off >= 1 ? line_start(body, prev_end, ck.trailer_off - 1) : 0;
        add_mark(r, from + last, MARK_LAST, 0, 0);
        if (ck.trailer_off < n && !(body[ck.trailer_off] == '\r' || body[ck.trailer_off] == '\n'))
            add_mark(r, from + ck.trailer_off, MARK_TRAILER, 0, 0);
    }
    chunked_cleanup(&ck);
}

static int cmp_marks(const void *a, const void *b)
{
    const struct mark *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

static void find_marks(struct rawside *r, const struct message *m, const struct http_limits *lim)
{
    for (uint8_t i = 0; i < m->ninterim; i++)
        add_mark(r, m->interim[i].off, MARK_INTERIM, m->interim[i].status, m->interim[i].len);
    if (m->flags & MSG_HEAD) {
        add_mark(r, m->head_off, MARK_HEAD, 0, m->head.len);
        add_mark(r, m->body_off, MARK_BODY, m->body_kind, m->content_length);
        if (m->body_kind == BODY_CHUNKED)
            mark_chunks(r, m, lim);
        if (m->flags & MSG_COMPLETE)
            add_wire_mark(r, m->body_off + m->body_wire, MARK_END, 0, 0);
    }
    for (uint16_t i = 0; i < m->ngaps && m->gaps; i++)
        add_wire_mark(r, m->gaps[i].off, MARK_GAP, 0, m->gaps[i].len);
    if (r->nmarks > 1) /* (a side with no mark has no array at all: qsort must not see NULL) */
        qsort(r->marks, r->nmarks, sizeof *r->marks, cmp_marks);
    uint64_t cut = wiretext_cut_bytes(m);
    if (cut)
        add_mark(r, m->raw.len, MARK_CUT, 0, cut);
}

/* Byte lines for p[from, to): split after every LF and at WIRETEXT_LINE_MAX bytes. */
static void add_bytes(struct rawside *r, const uint8_t *p, size_t from, size_t to)
{
    while (from < to) {
        size_t room = to - from < WIRETEXT_LINE_MAX ? to - from : WIRETEXT_LINE_MAX;
        const uint8_t *lf = memchr(p + from, '\n', room);
        size_t end = lf ? (size_t)(lf - p) + 1 : from + room;
        add_line(r, from, (uint32_t)(end - from), -1);
        from = end;
    }
}

static void index_side(struct rawside *r, const struct message *m)
{
    size_t pos = 0, len = m->raw.len;
    for (size_t i = 0; i < r->nmarks; i++) {
        size_t at = r->marks[i].off < len ? (size_t)r->marks[i].off : len;
        if (at > pos) {
            add_bytes(r, m->raw.data, pos, at);
            pos = at;
        }
        add_line(r, r->marks[i].off, 0, (int32_t)i);
    }
    add_bytes(r, m->raw.data, pos, len);
}

static void render_mark(const struct rawside *r, const struct mark *mk, struct canvas_line *out)
{
    const struct glyphs *g = r->g;
    char size[16];
    const char *who = r->side == 0 ? "request" : "response";
    unsigned long long off = (unsigned long long)mk->wire;
    switch ((enum mark_kind)mk->kind) {
    case MARK_INTERIM:
        canvas_printf(out, STYLE_BOUNDARY, "%s%s interim response %llu, %llu %s (offset %llu)",
                      g->hline, g->hline, (unsigned long long)mk->a, (unsigned long long)mk->b,
                      plural_bytes(mk->b), off);
        break;
    case MARK_HEAD:
        canvas_printf(out, STYLE_BOUNDARY, "%s%s %s head, %llu %s (offset %llu)", g->hline,
                      g->hline, who, (unsigned long long)mk->b, plural_bytes(mk->b), off);
        break;
    case MARK_BODY:
        canvas_printf(out, STYLE_BOUNDARY, "%s%s end of head; body: %s", g->hline, g->hline,
                      body_kind_name((enum body_kind)mk->a));
        if (mk->a == BODY_LENGTH)
            canvas_printf(out, STYLE_BOUNDARY, " %llu %s", (unsigned long long)mk->b,
                          plural_bytes(mk->b));
        canvas_printf(out, STYLE_BOUNDARY, " (offset %llu)", off);
        break;
    case MARK_CHUNK:
        canvas_printf(out, STYLE_BOUNDARY, "%s chunk %llu: %s %s (0x%llx), size line at %llu",
                      g->vline, (unsigned long long)mk->a, flowrow_size(mk->b, size, sizeof size),
                      plural_bytes(mk->b), (unsigned long long)mk->b, off);
        break;
    case MARK_LAST:
        canvas_printf(out, STYLE_BOUNDARY, "%s last chunk (offset %llu)", g->vline, off);
        break;
    case MARK_TRAILER:
        canvas_printf(out, STYLE_BOUNDARY, "%s trailer section (offset %llu)", g->vline, off);
        break;
    case MARK_END:
        canvas_printf(out, STYLE_BOUNDARY, "%s%s end of %s (offset %llu)", g->hline, g->hline, who,
                      off);
        break;
    case MARK_GAP: wiretext_gap_line(out, g, mk->b, mk->wire); break;
    case MARK_CUT: wiretext_cut_line(out, g, mk->b); break;
    }
}

enum { GUTTER = 8 };

static void render(void *data, size_t i, struct canvas_line *out)
{
    const struct rawside *r = data;
    const struct rawline *ln = &r->lines[i];
    /* The offset column stays in place while the bytes scroll sideways. */
    char gutter[32];
    if (ln->mark >= 0) {
        snprintf(gutter, sizeof gutter, "%*s", GUTTER, "");
        canvas_put_fixed(out, STYLE_NORMAL, gutter, strlen(gutter));
        render_mark(r, &r->marks[ln->mark], out);
        return;
    }
    size_t len;
    const uint8_t *p = bytesource_get(&r->bytes, &len);
    snprintf(gutter, sizeof gutter, "%*llu ", GUTTER - 1,
             (unsigned long long)wiretext_wire_offset(r->gaps, r->ngaps, ln->off));
    canvas_put_fixed(out, STYLE_DIM, gutter, strlen(gutter));
    if (!p || ln->off + ln->len > len) {
        canvas_puts(out, STYLE_DIM, "(bytes no longer available)");
        return;
    }
    canvas_put_bytes(out, STYLE_NORMAL, p + ln->off, ln->len, r->g->wire_flags);
}

static void side_free(void *data)
{
    struct rawside *r = data;
    bytesource_cleanup(&r->bytes);
    free(r->marks);
    free(r->lines);
    free(r);
}

static void rawdoc_free(void *data)
{
    free(data);
}

/* Line of the last byte line starting at or before a wire offset. */
static size_t locate(const struct doc *d, int side, uint64_t wire)
{
    const struct rawdoc *rd = d->locate_data;
    const struct rawside *r = side == 0 || side == 1 ? rd->side[side] : NULL;
    if (!r || !r->nlines)
        return (size_t)-1;
    uint64_t offset = wiretext_raw_offset(r->gaps, r->ngaps, wire);
    size_t lo = 0, hi = r->nlines, best = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->lines[mid].off <= offset) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* Prefer the byte line over a mark at the same offset. */
    while (best + 1 < r->nlines && r->lines[best].mark >= 0 && r->lines[best + 1].off <= offset)
        best++;
    return rd->first[side] + best;
}

static void build_side(struct doc *d, const struct detail_ctx *c, struct rawdoc *rd, int side)
{
    const struct exchange *ex = c->ex;
    const struct message *m = side == 0 ? &ex->req : &ex->resp;
    char wire[16], kept[16];
    size_t head =
        doc_addf(d, STYLE_BOLD, "[%s %s %s, %s %s on the wire, %s kept]",
                 side == 0 ? "client" : "server", c->g->arrow, side == 0 ? "server" : "client",
                 flowrow_size(m->wire_bytes, wire, sizeof wire), plural_bytes(m->wire_bytes),
                 flowrow_size(m->raw.len, kept, sizeof kept));
    doc_fixed(d, head); /* in place while the bytes under it scroll sideways */
    if (!m->raw.len) {
        doc_fixed(d, doc_addf(d, STYLE_DIM, "%*s(nothing)", GUTTER, ""));
        return;
    }
    struct rawside *r = xcalloc(1, sizeof *r);
    r->side = side;
    r->g = c->g;
    bytesource_init_wire(&r->bytes, c->store, ex->id, side);
    if (m->gaps && m->ngaps) {
        memcpy(r->gaps, m->gaps, m->ngaps * sizeof *r->gaps);
        r->ngaps = m->ngaps;
    }
    find_marks(r, m, c->limits);
    index_side(r, m);
    rd->side[side] = r;
    struct doc_source s = {.lines = r->nlines, .render = render, .free = side_free, .data = r};
    rd->first[side] = doc_add_source(d, &s);
}

void wiretext_build(struct doc *d, const struct detail_ctx *c)
{
    struct rawdoc *rd = xcalloc(1, sizeof *rd);
    d->locate = locate;
    d->locate_data = rd;
    d->locate_free = rawdoc_free;
    build_side(d, c, rd, 0);
    doc_blank(d);
    build_side(d, c, rd, 1);
}
