/*
 * hexdump owns the Hex tab's document: a heading and a hex view per direction, and the mapping
 * from a wire offset to a row. The rows come from the body views' hex mode (one hex renderer in
 * hspy); this module never formats bytes itself.
 */
#include "hspy/hexdump.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/bodysource.h"
#include "hspy/bodyview.h"
#include "hspy/flowrow.h"
#include "hspy/wiretext.h"
#include "hspy/xmalloc.h"

struct hexdoc {
    size_t first[2];            /* document line of each side's first row, (size_t)-1 when empty */
    struct bodysource *view[2]; /* owned by the document's sources */
    struct message_gap gaps[2][MESSAGE_GAPS_MAX]; /* rows show kept bytes; warnings count gaps */
    uint16_t ngaps[2];
};

static size_t locate(const struct doc *d, int side, uint64_t wire)
{
    const struct hexdoc *hd = d->locate_data;
    if ((side != 0 && side != 1) || hd->first[side] == (size_t)-1)
        return (size_t)-1;
    uint64_t raw = wiretext_raw_offset(hd->gaps[side], hd->ngaps[side], wire);
    return hd->first[side] + bodysource_row_of(hd->view[side], raw);
}

static void heading(struct doc *d, const struct detail_ctx *c, const struct message *m, int side)
{
    char kept[16], gap[16];
    doc_addf(d, STYLE_BOLD, "[%s %s %s, %s bytes%s%s%s]", side == 0 ? "client" : "server",
             c->g->arrow, side == 0 ? "server" : "client",
             flowrow_size(m->raw.len, kept, sizeof kept), m->gap_bytes ? " kept, " : "",
             m->gap_bytes ? flowrow_size(m->gap_bytes, gap, sizeof gap) : "",
             m->gap_bytes ? " lost in capture gaps" : "");
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
        hd->first[side] = (size_t)-1;
        hd->ngaps[side] = m->gaps ? m->ngaps : 0;
        if (hd->ngaps[side])
            memcpy(hd->gaps[side], m->gaps, m->ngaps * sizeof *m->gaps);
        if (!m->raw.len)
            continue;
        /* A complete exchange is pinned and its bytes stay put; one in flight is copied. */
        struct bytesource src;
        if (c->ex->flags & EX_DONE)
            bytesource_init_wire(&src, c->store, c->ex->id, side);
        else
            bytesource_init_copy(&src, m->raw.data, m->raw.len, m->raw.len + 1);
        hd->view[side] = bodysource_new(&src, NULL, 0, BODYVIEW_HEX);
        hd->first[side] = bodysource_add(d, hd->view[side]);
    }
}
