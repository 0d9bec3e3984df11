/*
 * hexdump owns the Hex tab's document: a heading per direction, then its kept bytes as hex rows
 * in pieces split at the capture gaps, a gap line between pieces, a line for the bytes that
 * crossed the wire after the kept ones (the body cap), and the mapping from a wire
 * offset to a row. Offsets shown are wire offsets, the ones Raw shows and warnings carry. The
 * rows come from the body views' hex mode (one hex renderer in hspy) and the gap arithmetic
 * and words from wiretext; this module never formats bytes itself.
 */
#include "hspy/hexdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bodysource.h"
#include "hspy/bodyview.h"
#include "hspy/flowrow.h"
#include "hspy/plural.h"
#include "hspy/wiretext.h"
#include "hspy/xmalloc.h"

/* A side is at most a run of bytes before, between and after its gaps, and the gaps. */
enum { HEXDUMP_PIECES_MAX = 2 * MESSAGE_GAPS_MAX + 1 };

/* A run of kept bytes, or a gap line. */
struct piece {
    uint64_t wire;           /* wire offset where it starts */
    size_t line;             /* document line of its first row */
    struct bodysource *view; /* the bytes' rows (owned by the document's sources); NULL: a gap */
};

struct hexdoc {
    struct piece piece[2][HEXDUMP_PIECES_MAX]; /* per side, in wire order */
    size_t npieces[2];
};

/* The line of the last piece starting at or before wire; inside a gap, its gap line. */
static size_t locate(const struct doc *d, int side, uint64_t wire)
{
    const struct hexdoc *hd = d->locate_data;
    if ((side != 0 && side != 1) || !hd->npieces[side])
        return (size_t)-1;
    const struct piece *p = &hd->piece[side][0];
    for (size_t i = 1; i < hd->npieces[side] && hd->piece[side][i].wire <= wire; i++)
        p = &hd->piece[side][i];
    if (!p->view)
        return p->line;
    return p->line + bodysource_row_of(p->view, wire > p->wire ? wire - p->wire : 0);
}

/* The side's heading: its kept bytes, and as in Raw what was not kept (past the body cap, or
 * lost in capture gaps). */
static void heading(struct doc *d, const struct detail_ctx *c, const struct message *m, int side)
{
    char kept[16], gap[16], wire[32];
    wire[0] = '\0';
    if (wiretext_cut_bytes(m)) {
        char n[16];
        snprintf(wire, sizeof wire, "%s %s on the wire, ", flowrow_size(m->wire_bytes, n, sizeof n),
                 plural_bytes(m->wire_bytes));
    }
    size_t line = doc_addf(
        d, STYLE_BOLD, "[%s %s %s, %s%s%s%s%s%s]", side == 0 ? "client" : "server", c->g->arrow,
        side == 0 ? "server" : "client", wire, flowrow_size(m->raw.len, kept, sizeof kept),
        wire[0] ? " kept" : plural(m->raw.len, " byte", " bytes"),
        m->gap_bytes ? (wire[0] ? ", " : " kept, ") : "",
        m->gap_bytes ? flowrow_size(m->gap_bytes, gap, sizeof gap) : "",
        m->gap_bytes ? " lost in capture gaps" : "");
    doc_fixed(d, line); /* in place while the rows under it scroll sideways */
}

/* After the kept bytes, the line that says how many more were not kept. */
static void add_cut(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    uint64_t cut = wiretext_cut_bytes(m);
    if (!cut)
        return;
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    wiretext_cut_line(&l, c->g, cut);
    doc_fixed(d, doc_add(d, &l)); /* in place while the rows above it scroll sideways */
    canvas_line_cleanup(&l);
}

/* Rows of raw[from, to) (which starts at wire offset wire). */
static void add_bytes(struct doc *d, const struct detail_ctx *c, const struct message *m, int side,
                      uint64_t from, uint64_t to, struct piece *p)
{
    /* A complete exchange is pinned and its bytes stay put; one in flight is copied. */
    struct bytesource src;
    if (c->ex->flags & EX_DONE)
        bytesource_init_window(&src, c->store, c->ex->id, side, from, to - from);
    else
        bytesource_init_copy(&src, m->raw.data + from, (size_t)(to - from),
                             (size_t)(to - from) + 1);
    p->view = bodysource_new(&src, NULL, 0, BODYVIEW_HEX);
    bodysource_set_origin(p->view, p->wire);
    bodysource_fit(p->view, c->width);
    p->line = bodysource_add(d, p->view);
}

static void add_gap(struct doc *d, const struct detail_ctx *c, const struct message_gap *g,
                    struct piece *p)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    wiretext_gap_line(&l, c->g, g->len, g->off);
    p->line = doc_add(d, &l);
    doc_fixed(d, p->line); /* in place while the rows around it scroll sideways */
    p->view = NULL;
    canvas_line_cleanup(&l);
}

/* A side's pieces: the kept bytes cut where each gap sits in them, a gap line at each cut. */
static void build_side(struct doc *d, const struct detail_ctx *c, struct hexdoc *hd, int side)
{
    const struct message *m = side == 0 ? &c->ex->req : &c->ex->resp;
    uint16_t ngaps = m->gaps ? m->ngaps : 0;
    uint64_t pos = 0; /* in raw */
    size_t n = 0;
    for (uint16_t i = 0; i <= ngaps; i++) {
        /* Where the next gap is in raw (a gap past the kept bytes is after all of them). */
        uint64_t cut = i < ngaps ? wiretext_raw_offset(m->gaps, ngaps, m->gaps[i].off) : UINT64_MAX;
        if (cut > m->raw.len)
            cut = m->raw.len;
        if (cut > pos) {
            hd->piece[side][n].wire = wiretext_wire_offset(m->gaps, ngaps, pos);
            add_bytes(d, c, m, side, pos, cut, &hd->piece[side][n++]);
            pos = cut;
        }
        if (i < ngaps) {
            hd->piece[side][n].wire = m->gaps[i].off;
            add_gap(d, c, &m->gaps[i], &hd->piece[side][n++]);
        }
    }
    hd->npieces[side] = n;
}

void hexdump_build(struct doc *d, const struct detail_ctx *c)
{
    struct hexdoc *hd = xcalloc(1, sizeof *hd);
    d->locate = locate;
    d->locate_data = hd;
    d->locate_free = free;
    for (int side = 0; side < 2; side++) {
        const struct message *m = side == 0 ? &c->ex->req : &c->ex->resp;
        if (side)
            doc_blank(d);
        heading(d, c, m, side);
        build_side(d, c, hd, side);
        add_cut(d, c, m);
    }
}
