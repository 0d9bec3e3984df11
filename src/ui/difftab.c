/*
 * difftab owns the Diff tab's lines: per edited side, a heading, the engine's reading of a
 * staged edit and the unified diff, every byte from the network or the user drawn through
 * termsafe. It reads the exchange and its edit record and never changes them.
 */
#include "hspy/difftab.h"

#include <stdio.h>
#include <string.h>

#include "hspy/diff.h"
#include "hspy/edit.h"
#include "hspy/plural.h"

/* Unchanged lines shown around each change. */
enum { CONTEXT = 3 };
/* Fewest cells of a side-by-side half; a narrower screen shows the diff unified. */
enum { DIFF_SPLIT_MIN = 20 };

static const char *const SIDE_NAMES[2] = {"Request", "Response"};

int difftab_count(const struct exchange *ex)
{
    if (!ex->edit)
        return -1;
    int n = 0;
    for (int s = 0; s < 2; s++)
        n += ex->edit->before_label[s] || ex->edit->has_pending[s];
    return n ? n : -1;
}

/* flags: the glyph set's termsafe flags for wire bytes (wire_flags). */
static void diff_line(struct doc *d, unsigned flags, char mark, uint8_t style,
                      const struct diff_line *l)
{
    struct canvas_line out;
    canvas_line_init(&out, CANVAS_UNLIMITED);
    canvas_printf(&out, style, "  %c ", mark);
    canvas_put_bytes(&out, style, l->p, l->len, flags);
    doc_add(d, &out);
    canvas_line_cleanup(&out);
}

/* One side of a side-by-side row: the line's bytes (or nothing) fitted to exactly cells. */
static void half_line(struct canvas_line *out, unsigned flags, char mark, uint8_t style,
                      const struct diff_line *l, int cells)
{
    if (!l) {
        canvas_pad(out, STYLE_NORMAL, cells);
        return;
    }
    struct canvas_line part;
    canvas_line_init(&part, cells);
    canvas_printf(&part, style, "%c ", mark);
    canvas_put_bytes(&part, style, l->p, l->len, flags);
    /* part holds safe text already (termsafe output), cut at its width. */
    int used = canvas_put(out, style, (const char *)part.text.data, part.text.len);
    canvas_pad(out, STYLE_NORMAL, cells - used);
    canvas_line_cleanup(&part);
}

static void split_row(struct doc *d, unsigned flags, int cells, const struct diff_line *a,
                      uint8_t sa, const struct diff_line *b, uint8_t sb, char mark_a, char mark_b)
{
    struct canvas_line out;
    canvas_line_init(&out, CANVAS_UNLIMITED);
    canvas_puts(&out, STYLE_NORMAL, "  ");
    half_line(&out, flags, mark_a, sa, a, cells);
    canvas_puts(&out, STYLE_DIM, " | ");
    half_line(&out, flags, mark_b, sb, b, cells);
    doc_add(d, &out);
    canvas_line_cleanup(&out);
}

/* A hunk side by side: removed lines face the added lines that replace them. */
static void split_hunk(struct doc *d, unsigned flags, const struct diff *df,
                       const struct diff_hunk *h, int cells)
{
    size_t k = h->from;
    while (k < h->to) {
        const struct diff_entry *e = &df->v[k];
        if (e->op == DIFF_SAME) {
            split_row(d, flags, cells, &df->a[e->a], STYLE_NORMAL, &df->b[e->b], STYLE_NORMAL, ' ',
                      ' ');
            k++;
            continue;
        }
        size_t del = k, add;
        while (k < h->to && df->v[k].op == DIFF_DEL)
            k++;
        add = k;
        while (k < h->to && df->v[k].op == DIFF_ADD)
            k++;
        size_t ndel = add - del, nadd = k - add;
        for (size_t i = 0; i < ndel || i < nadd; i++) {
            const struct diff_line *a = i < ndel ? &df->a[df->v[del + i].a] : NULL;
            const struct diff_line *b = i < nadd ? &df->b[df->v[add + i].b] : NULL;
            split_row(d, flags, cells, a, STYLE_STATUS5, b, STYLE_STATUS2, '-', '+');
        }
    }
}

static void show_diff(struct doc *d, const struct detail_ctx *c, const uint8_t *a, size_t an,
                      const char *la, const uint8_t *b, size_t bn, const char *lb)
{
    struct diff df;
    diff_compute(&df, a, an, b, bn);
    if (!df.changes) {
        doc_addf(d, STYLE_DIM, "  (no difference: %s and %s are the same %zu %s)", la, lb, an,
                 plural_bytes(an));
        diff_cleanup(&df);
        return;
    }
    /* Two halves, the margin and the separator; narrower than this stays unified. */
    int cells = (c->width - 5) / 2;
    bool split = c->diff_split && cells >= DIFF_SPLIT_MIN;
    doc_addf(d, STYLE_STATUS5, "  --- %s (%zu %s)", la, an, plural_bytes(an));
    doc_addf(d, STYLE_STATUS2, "  +++ %s (%zu %s)", lb, bn, plural_bytes(bn));
    if (df.approximate)
        doc_addf(d, STYLE_DIM, "  (too many differences for a line-by-line match: shown whole)");
    size_t pos = 0;
    struct diff_hunk h;
    while (diff_next_hunk(&df, &pos, CONTEXT, &h)) {
        doc_addf(d, STYLE_BOUNDARY, "  @@ -%zu,%zu +%zu,%zu @@", h.na ? h.a0 + 1 : h.a0, h.na,
                 h.nb ? h.b0 + 1 : h.b0, h.nb);
        if (split) {
            split_hunk(d, c->g->wire_flags, &df, &h, cells);
            continue;
        }
        for (size_t k = h.from; k < h.to; k++) {
            const struct diff_entry *e = &df.v[k];
            if (e->op == DIFF_ADD)
                diff_line(d, c->g->wire_flags, '+', STYLE_STATUS2, &df.b[e->b]);
            else if (e->op == DIFF_DEL)
                diff_line(d, c->g->wire_flags, '-', STYLE_STATUS5, &df.a[e->a]);
            else
                diff_line(d, c->g->wire_flags, ' ', STYLE_NORMAL, &df.a[e->a]);
        }
    }
    diff_cleanup(&df);
}

/* What the engine makes of staged bytes, before they are sent. */
static void show_check(struct doc *d, const struct detail_ctx *c, enum side side,
                       const struct dynbuf *bytes)
{
    const struct message *req = &c->ex->req;
    struct exchange_limits exl = {c->limits->head_max, EDIT_MAX};
    struct edit_check chk;
    struct exchange *ex = edit_check(bytes->data, bytes->len, side, req->raw.data, req->raw.len,
                                     c->limits, &exl, &chk);
    doc_addf(d, chk.warnings || chk.missing || chk.extra || !chk.parsed ? STYLE_WARN : STYLE_NORMAL,
             "  as a peer reads it: %s; %u warning%s", chk.summary, chk.warnings,
             plural(chk.warnings, "", "s"));
    for (uint16_t i = 0; ex && i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        if (w->side != side)
            continue;
        struct canvas_line out;
        canvas_line_init(&out, CANVAS_UNLIMITED);
        canvas_printf(&out, STYLE_WARN, "    %s %s", c->g->warn, warning_name(w->code));
        canvas_printf(&out, STYLE_DIM, " at %llu: %s", (unsigned long long)w->offset,
                      warning_explain((enum warning_code)w->code));
        doc_add(d, &out);
        canvas_line_cleanup(&out);
    }
    exchange_free(ex);
}

static void show_side(struct doc *d, const struct detail_ctx *c, enum side side)
{
    const struct exchange *ex = c->ex;
    const struct exchange_edit *e = ex->edit;
    const struct message *m = exchange_msg((struct exchange *)ex, side);
    if (e->has_pending[side]) {
        doc_addf(d, STYLE_BOLD, "%s: edit staged, not sent yet (a sends it, V reverts it)",
                 SIDE_NAMES[side]);
        show_check(d, c, side, &e->pending[side]);
        const char *la = m->flags & MSG_HEAD ? "received" : "nothing yet";
        bool has = m->flags & MSG_HEAD;
        show_diff(d, c, has ? m->raw.data : NULL, has ? m->raw.len : 0, la, e->pending[side].data,
                  e->pending[side].len, "staged edit");
        doc_blank(d);
    }
    if (e->before_label[side]) {
        doc_addf(d, STYLE_BOLD, "%s: sent edited", SIDE_NAMES[side]);
        show_diff(d, c, e->before[side].data, e->before[side].len, e->before_label[side],
                  m->raw.data, m->raw.len, "sent");
        doc_blank(d);
    }
}

void difftab_build(struct doc *d, const struct detail_ctx *c)
{
    if (difftab_count(c->ex) < 0) {
        doc_addf(d, STYLE_DIM, "Not edited.");
        doc_addf(d, STYLE_DIM,
                 "e edits a held message (or the request, to replay it); what was "
                 "received against what was sent shows here.");
        return;
    }
    for (int s = 0; s < 2; s++)
        show_side(d, c, (enum side)s);
}
