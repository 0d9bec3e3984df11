/*
 * warnlist owns the Warnings tab's lines and targets. It reads the exchange's warnings and the
 * warning catalogue; it never changes either.
 */
#include "hspy/warnlist.h"

#include <string.h>

#include "hspy/plural.h"
#include "hspy/side.h"

enum { INDENT = 6 };

int warnlist_count(const struct exchange *ex)
{
    return (int)(ex->nwarnings + ex->warnings_dropped);
}

/* Adds text (hspy's own) wrapped to width, indented. */
static void add_wrapped(struct doc *d, const char *text, int width, uint8_t style)
{
    size_t n = strlen(text), pos = 0;
    int room = width - INDENT > 20 ? width - INDENT : 20;
    while (pos < n) {
        size_t next;
        size_t len = celltext_wrap(text + pos, n - pos, room, &next);
        doc_addf(d, style, "%*s%.*s", INDENT, "", (int)len, text + pos);
        pos += next;
    }
}

static void add_warning(struct doc *d, const struct detail_ctx *c, const struct warning *w)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_printf(&l, STYLE_WARN, "%s %-26s", c->g->warn, warning_name(w->code));
    canvas_printf(&l, STYLE_DIM, " %s byte %-8llu",
                  w->side == SIDE_CLIENT ? "request " : "response", (unsigned long long)w->offset);
    if (w->detail) {
        canvas_puts(&l, STYLE_NORMAL, " ");
        canvas_put_bytes(&l, STYLE_NORMAL, (const uint8_t *)w->detail, strlen(w->detail), 0);
    }
    size_t line = doc_add(d, &l);
    doc_target(d, line, w->side, w->offset);
    add_wrapped(d, warning_explain((enum warning_code)w->code), c->width, STYLE_DIM);
    canvas_line_cleanup(&l);
}

void warnlist_build(struct doc *d, const struct detail_ctx *c)
{
    const struct exchange *ex = c->ex;
    if (ex->error)
        doc_addf(d, STYLE_ERROR, "error: %s", ex->error);
    if (!ex->nwarnings) {
        doc_addf(d, STYLE_DIM, "No warnings: hspy found nothing to report in these bytes%s.",
                 (ex->flags & EX_DONE) ? "" : " so far");
        return;
    }
    doc_addf(d, STYLE_DIM, "Enter jumps to the offset in Raw (x: in Hex).");
    doc_blank(d);
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        add_warning(d, c, &ex->warnings[i]);
    if (ex->warnings_dropped)
        doc_addf(d, STYLE_WARN, "%s %u more %s not kept (at most %d per exchange)", c->g->warn,
                 ex->warnings_dropped, plural(ex->warnings_dropped, "warning was", "warnings were"),
                 EXCHANGE_WARNINGS_MAX);
}
