/*
 * hexdump owns the hex rendering of bytes and its lazy document source. It reads bytes through
 * a bytesource on every render and keeps nothing else.
 */
#include "hspy/hexdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/flowrow.h"
#include "hspy/wiretext.h"
#include "hspy/xmalloc.h"

struct hexsrc {
    struct bytesource bytes;
    size_t len; /* bytes shown (fixed when added) */
};

void hexdump_row(struct canvas_line *out, const uint8_t *p, size_t n, uint64_t off)
{
    static const char HEX[] = "0123456789abcdef";
    canvas_printf(out, STYLE_DIM, "%08llx  ", (unsigned long long)off);
    for (size_t i = 0; i < HEXDUMP_ROW; i++) {
        if (i == HEXDUMP_ROW / 2)
            canvas_put(out, STYLE_NORMAL, " ", 1);
        if (i >= n) {
            canvas_put(out, STYLE_NORMAL, "   ", 3);
            continue;
        }
        char cell[3] = {HEX[p[i] >> 4], HEX[p[i] & 15], ' '};
        uint8_t style = p[i] == '\r' || p[i] == '\n' ? STYLE_BOUNDARY : STYLE_NORMAL;
        canvas_put(out, style, cell, 2);
        canvas_put(out, STYLE_NORMAL, " ", 1);
    }
    canvas_put(out, STYLE_NORMAL, " ", 1);
    char ascii[HEXDUMP_ROW];
    for (size_t i = 0; i < n; i++)
        ascii[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
    canvas_put(out, STYLE_DIM, ascii, n);
}

static void render(void *data, size_t i, struct canvas_line *out)
{
    const struct hexsrc *h = data;
    size_t len;
    const uint8_t *p = bytesource_get(&h->bytes, &len);
    if (len > h->len)
        len = h->len;
    size_t off = i * HEXDUMP_ROW;
    if (!p || off >= len) {
        canvas_puts(out, STYLE_DIM, "(bytes no longer available)");
        return;
    }
    size_t n = len - off < HEXDUMP_ROW ? len - off : HEXDUMP_ROW;
    hexdump_row(out, p + off, n, off);
}

static void release(void *data)
{
    struct hexsrc *h = data;
    bytesource_cleanup(&h->bytes);
    free(h);
}

size_t hexdump_add(struct doc *d, const struct bytesource *src, size_t len)
{
    struct hexsrc *h = xmalloc(sizeof *h);
    h->bytes = *src;
    h->len = len;
    struct doc_source s = {.lines = (len + HEXDUMP_ROW - 1) / HEXDUMP_ROW,
                           .render = render,
                           .free = release,
                           .data = h};
    return doc_add_source(d, &s);
}

struct hexdoc {
    size_t first[2]; /* document line of each side's first row, (size_t)-1 when empty */
    struct message_gap gaps[2][MESSAGE_GAPS_MAX]; /* rows show kept bytes; warnings count gaps */
    uint16_t ngaps[2];
};

static size_t locate(const struct doc *d, int side, uint64_t wire)
{
    const struct hexdoc *hd = d->locate_data;
    if ((side != 0 && side != 1) || hd->first[side] == (size_t)-1)
        return (size_t)-1;
    uint64_t raw = wiretext_raw_offset(hd->gaps[side], hd->ngaps[side], wire);
    return hd->first[side] + (size_t)(raw / HEXDUMP_ROW);
}

void hexdump_build(struct doc *d, const struct detail_ctx *c)
{
    struct hexdoc *hd = xcalloc(1, sizeof *hd);
    d->locate = locate;
    d->locate_data = hd;
    d->locate_free = free;
    for (int side = 0; side < 2; side++) {
        const struct message *m = side == 0 ? &c->ex->req : &c->ex->resp;
        char wire[16];
        if (side)
            doc_blank(d);
        char gap[16];
        doc_addf(d, STYLE_BOLD, "[%s %s %s, %s bytes%s%s%s]", side == 0 ? "client" : "server",
                 c->g->arrow, side == 0 ? "server" : "client",
                 flowrow_size(m->raw.len, wire, sizeof wire), m->gap_bytes ? " kept, " : "",
                 m->gap_bytes ? flowrow_size(m->gap_bytes, gap, sizeof gap) : "",
                 m->gap_bytes ? " lost in capture gaps" : "");
        hd->first[side] = (size_t)-1;
        hd->ngaps[side] = m->gaps ? m->ngaps : 0;
        if (hd->ngaps[side])
            memcpy(hd->gaps[side], m->gaps, m->ngaps * sizeof *m->gaps);
        if (!m->raw.len)
            continue;
        struct bytesource src;
        bytesource_init_wire(&src, c->store, c->ex->id, side);
        hd->first[side] = hexdump_add(d, &src, m->raw.len);
    }
}
