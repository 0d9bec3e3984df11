/*
 * msgtext owns the rendering of one message as the user reads it: head lines as sent with
 * their warnings, a body summary, and the body. It reads the exchange while building and keeps
 * copies only of bodies (de-chunked or decoded, bounded by the caps); it never changes the
 * exchange and never writes to the terminal.
 *
 * Bodies are shown through the body views (bodysource): JSON, form fields, multipart, text in
 * its charset, hex.
 */
#include "hspy/msgtext.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bodyfiles.h"
#include "hspy/bodysource.h"
#include "hspy/bodyview.h"
#include "hspy/bytesource.h"
#include "hspy/chunked.h"
#include "hspy/decode.h"
#include "hspy/flowrow.h"
#include "hspy/plural.h"
#include "hspy/side.h"
#include "hspy/termsafe.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

void msgtext_head_line(struct canvas_line *out, const uint8_t *line, size_t n, bool start_line)
{
    if (start_line) {
        canvas_put_bytes(out, STYLE_BOLD, line, n, 0);
        return;
    }
    const uint8_t *colon = memchr(line, ':', n);
    bool folded = n > 0 && (line[0] == ' ' || line[0] == '\t');
    if (!colon || folded) {
        canvas_put_bytes(out, STYLE_NORMAL, line, n, 0);
        return;
    }
    size_t name = (size_t)(colon - line);
    canvas_put_bytes(out, STYLE_HNAME, line, name, 0);
    canvas_put_bytes(out, STYLE_NORMAL, colon, n - name, 0);
}

/* --- warnings beside head lines --- */

static void annotate(struct canvas_line *out, const struct exchange *ex, int side, uint64_t from,
                     uint64_t to, const struct glyphs *g)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        if (w->side != side || w->offset < from || w->offset >= to)
            continue;
        canvas_puts(out, STYLE_NORMAL, "   ");
        canvas_printf(out, STYLE_WARN, "%s %s", g->warn, warning_name(w->code));
        if (w->detail) {
            canvas_puts(out, STYLE_WARN, ": ");
            canvas_put_bytes(out, STYLE_WARN, (const uint8_t *)w->detail, strlen(w->detail), 0);
        }
    }
}

/*
 * Adds the lines of raw[from, to) split at LF, dim (interim responses) or as field lines. A
 * head's first line is its start line and its empty line ends it; side >= 0 marks the
 * warnings at each line's offsets in that side's raw (a trailer, kept apart, has none).
 */
static void add_lines(struct doc *d, const struct detail_ctx *c, int side, const uint8_t *raw,
                      size_t from, size_t to, bool dim, bool head)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    size_t pos = from;
    bool first = head;
    while (pos < to) {
        const uint8_t *lf = memchr(raw + pos, '\n', to - pos);
        size_t end = lf ? (size_t)(lf - raw) : to;
        size_t next = lf ? end + 1 : to;
        size_t n = end - pos;
        if (n && raw[pos + n - 1] == '\r')
            n--;
        if (head && n == 0 && lf && !first) /* the empty line that ends the head */
            break;
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        if (dim)
            canvas_put_bytes(&l, STYLE_DIM, raw + pos, n, 0);
        else
            msgtext_head_line(&l, raw + pos, n, first);
        if (side >= 0)
            annotate(&l, c->ex, side, pos, next, c->g);
        doc_add(d, &l);
        first = false;
        pos = next;
    }
    canvas_line_cleanup(&l);
}

/*
 * The field lines of a chunked body's trailer section (m->trailer: kept apart from raw, so
 * there even when raw stopped keeping before the body's end), under a boundary that says they
 * came after the body.
 */
static void add_trailer(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    if (!m->trailer || !m->trailer_len)
        return;
    doc_addf(d, STYLE_BOUNDARY, "%s%s trailer section, sent after the body %s%s", c->g->hline,
             c->g->hline, c->g->hline, c->g->hline);
    add_lines(d, c, -1, m->trailer, 0, m->trailer_len, false, false);
}

/*
 * The chunk extensions of a chunked body's size lines (m->chunk_ext: kept apart from raw, like
 * the trailer), one line per size line that had any: its chunk and size, then the bytes after
 * the size through termsafe, " [cut]" after a line kept only in part; then how many more size
 * lines had extensions than were kept.
 */
static void add_chunk_ext(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    if (!m->chunk_ext)
        return;
    doc_addf(d, STYLE_BOUNDARY, "%s%s chunk extensions, sent on the chunk-size lines %s%s",
             c->g->hline, c->g->hline, c->g->hline, c->g->hline);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    size_t pos = 0;
    struct chunked_ext e;
    while (message_chunk_ext_next(m, &pos, &e)) {
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        if (e.size == 0)
            canvas_puts(&l, STYLE_DIM, "last chunk: ");
        else
            canvas_printf(&l, STYLE_DIM, "chunk %u (%llu %s): ", e.chunk,
                          (unsigned long long)e.size, plural_bytes(e.size));
        canvas_put_bytes(&l, STYLE_NORMAL, e.ext, e.len, 0);
        if (e.cut)
            canvas_printf(&l, STYLE_DIM, " %s cut at %d bytes", c->g->truncated,
                          CHUNKED_EXT_LINE_MAX);
        doc_add(d, &l);
    }
    canvas_line_cleanup(&l);
    uint32_t more = message_chunk_ext_unlisted(m);
    if (more)
        doc_addf(d, STYLE_WARN, "%s %u more %s had extensions, not kept", c->g->truncated, more,
                 plural(more, "size line", "size lines"));
}

/* --- body section --- */

static void add_truncation_note(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    uint64_t seen = m->wire_bytes - m->gap_bytes;
    if (m->flags & MSG_TRUNCATED && seen > m->raw.len)
        doc_addf(d, STYLE_WARN, "%s %llu more %s counted on the wire but not kept", c->g->truncated,
                 (unsigned long long)(seen - m->raw.len),
                 plural(seen - m->raw.len, "byte was", "bytes were"));
}

/*
 * --save-bodies: where the whole body is, when its file is there: "whole in DIR/NAME", or
 * "in DIR/NAME.partial" while it is written or when it stayed partial. Looked up when the tab is
 * built (when the exchange changes), not every frame.
 */
static void add_saved_note(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    enum side s = m == &c->ex->req ? SIDE_CLIENT : SIDE_SERVER;
    char path[PATH_MAX];
    bool whole;
    if (!c->bodies_dir || m->body_size == 0 ||
        !bodyfiles_find(c->bodies_dir, c->ex, s, path, sizeof path, &whole))
        return;
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_printf(&l, STYLE_BOUNDARY, "%s%s body %s ", c->g->hline, c->g->hline,
                  whole ? "whole in" : "in");
    canvas_put_bytes(&l, STYLE_BOUNDARY, (const uint8_t *)path, strlen(path), 0);
    doc_add(d, &l);
    canvas_line_cleanup(&l);
}

static const char *coding_note(const struct decode_result *r)
{
    switch (r->status) {
    case DECODE_OK: return "decoded";
    case DECODE_IDENTITY: return "no content coding";
    case DECODE_UNKNOWN: return "coding not decodable, shown as sent";
    case DECODE_ERROR: return "decoding failed, showing what decoded";
    case DECODE_LIMIT: return "decoded up to the cap";
    }
    return "";
}

/*
 * A piece of the body's description: our text, then bytes from the message (escaped), then its
 * punctuation ("," before the next item). The description wraps between pieces.
 */
struct body_piece {
    char text[48];
    const uint8_t *bytes;
    size_t n;
    const char *tail;
};

/* BODY_PIECES_MAX: every piece body_heading makes; BODY_INDENT: cells before a wrapped line. */
enum { BODY_PIECES_MAX = 8, BODY_INDENT = 3 };

/* Adds a piece of text (a list item: the piece before it ends with ","). Returns it. */
static struct body_piece *add_piece(struct body_piece *pc, size_t *np, bool item, const char *fmt,
                                    ...) __attribute__((format(printf, 4, 5)));
static struct body_piece *add_piece(struct body_piece *pc, size_t *np, bool item, const char *fmt,
                                    ...)
{
    assert(*np < BODY_PIECES_MAX); /* body_heading makes at most 7 */
    if (item && *np)
        pc[*np - 1].tail = ",";
    struct body_piece *p = &pc[(*np)++];
    *p = (struct body_piece){.tail = ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->text, sizeof p->text, fmt, ap);
    va_end(ap);
    return p;
}

static int piece_cells(const struct body_piece *p)
{
    return celltext_width(p->text, strlen(p->text)) + canvas_bytes_width(p->bytes, p->n) +
           (int)strlen(p->tail);
}

static void put_piece(struct canvas_line *l, const struct body_piece *p)
{
    canvas_puts(l, STYLE_BOUNDARY, p->text);
    canvas_put_bytes(l, STYLE_BOUNDARY, p->bytes, p->n, 0);
    canvas_puts(l, STYLE_BOUNDARY, p->tail);
}

static void body_heading(struct doc *d, const struct detail_ctx *c, const struct message *m,
                         size_t shown, bool decoded, const struct decode_result *res,
                         struct bodysource *view)
{
    char size[16], kept[16];
    struct body_piece pc[BODY_PIECES_MAX];
    size_t np = 0;
    add_piece(pc, &np, false, "%s%s body: %s %s", c->g->hline, c->g->hline,
              flowrow_size(m->body_size, size, sizeof size), plural_bytes(m->body_size));
    if (decoded)
        add_piece(pc, &np, false, "(%s once decoded)", flowrow_size(shown, kept, sizeof kept));
    else if (shown != m->body_size)
        add_piece(pc, &np, false, "(%s kept)", flowrow_size(shown, kept, sizeof kept));
    size_t n;
    const uint8_t *ct = message_header(m, "content-type", &n);
    if (ct) {
        struct body_piece *p = add_piece(pc, &np, true, "%s", "");
        p->bytes = ct;
        p->n = n;
    }
    add_piece(pc, &np, true, "%s", body_kind_name((enum body_kind)m->body_kind));
    if (m->body_kind == BODY_CHUNKED)
        add_piece(pc, &np, false, "(%u chunk%s)", m->chunks, plural(m->chunks, "", "s"));
    const uint8_t *ce = message_header(m, "content-encoding", &n);
    if (ce) {
        struct body_piece *p = add_piece(pc, &np, true, "coding ");
        p->bytes = ce;
        p->n = n;
    }
    add_piece(pc, &np, false, "(%s)", decoded ? coding_note(res) : "as sent");
    /* The pieces joined by spaces; one that does not fit the screen's width goes on the next
     * line (indented), so that a narrow screen cuts none of them off. */
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    bool wrapped = false;
    for (size_t i = 0; i < np; i++) {
        int cells = piece_cells(&pc[i]);
        if (i && l.cells + 1 + cells > c->width && l.cells > BODY_INDENT) {
            doc_add(d, &l);
            canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
            canvas_printf(&l, STYLE_BOUNDARY, "%*s", BODY_INDENT, "");
            wrapped = true;
        } else if (i) {
            canvas_puts(&l, STYLE_BOUNDARY, " ");
        }
        put_piece(&l, &pc[i]);
    }
    /* The view in use ends the line, or, on a screen too narrow for it there (or where the
     * description wrapped), has a line of its own under it. */
    const char *described = bodysource_describe(view);
    int tail_cells = (int)strlen("view:  ") + celltext_width(described, strlen(described)) + 2;
    if (wrapped || l.cells + 2 + tail_cells > c->width) {
        doc_add(d, &l);
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        canvas_printf(&l, STYLE_BOUNDARY, "%s%s ", c->g->hline, c->g->hline);
    } else {
        canvas_puts(&l, STYLE_BOUNDARY, "; ");
    }
    canvas_printf(&l, STYLE_BOUNDARY, "view: %s %s%s", described, c->g->hline, c->g->hline);
    doc_add(d, &l);
    if (decoded && res->status != DECODE_OK && res->message[0]) {
        /* The message may quote the Content-Encoding the peer sent. */
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        canvas_printf(&l, STYLE_WARN, "%s ", c->g->warn);
        canvas_put_bytes(&l, STYLE_WARN, (const uint8_t *)res->message, strlen(res->message), 0);
        doc_add(d, &l);
    }
    canvas_line_cleanup(&l);
}

/* The body's view: the lines of the Request or Response tab from here on. */
static struct bodysource *view_of(const struct detail_ctx *c, const struct message *m,
                                  const struct bytesource *src)
{
    size_t n;
    const uint8_t *ct = message_header(m, "content-type", &n);
    struct bodysource *b = bodysource_new(src, ct, n, c->body);
    bodysource_fit(b, c->width);
    return b;
}

/*
 * A complete body framed by length or by close, shown as sent, is read in place: the exchange
 * is pinned while shown and its bytes no longer move, so a body of any size opens without a
 * copy. Returns false when the body must be copied (chunked, decoded, still arriving).
 */
static bool add_body_in_place(struct doc *d, const struct detail_ctx *c, const struct message *m,
                              bool decode)
{
    if (decode || !(c->ex->flags & EX_DONE) || m->body_kind == BODY_CHUNKED ||
        m->body_off >= m->raw.len)
        return false;
    int side = m == &c->ex->req ? 0 : 1;
    uint64_t len = m->raw.len - m->body_off;
    if (m->body_kind == BODY_LENGTH && len > m->content_length)
        len = m->content_length;
    struct bytesource src;
    bytesource_init_window(&src, c->store, c->ex->id, side, m->body_off, len);
    struct bodysource *view = view_of(c, m, &src);
    struct decode_result none = {0};
    body_heading(d, c, m, (size_t)len, false, &none, view);
    add_truncation_note(d, c, m);
    add_saved_note(d, c, m);
    bodysource_add(d, view);
    return true;
}

static void add_body(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    if (m->body_kind == BODY_NONE && m->body_wire == 0) {
        doc_addf(d, STYLE_BOUNDARY, "%s%s no body %s%s", c->g->hline, c->g->hline, c->g->hline,
                 c->g->hline);
        return;
    }
    if (m->body_kind == BODY_TUNNEL) {
        doc_addf(d, STYLE_BOUNDARY, "%s%s tunnel: the bytes that follow are not HTTP %s%s",
                 c->g->hline, c->g->hline, c->g->hline, c->g->hline);
        return;
    }
    size_t n;
    bool decoded = !c->as_sent && message_header(m, "content-encoding", &n) != NULL;
    if (add_body_in_place(d, c, m, decoded))
        return;
    struct dynbuf body;
    dynbuf_init(&body, m->raw.len + 1);
    message_body(m, &body, c->limits);
    struct decode_result res = {0};
    if (decoded) {
        struct dynbuf out;
        dynbuf_init(&out, c->body_max);
        decode_message(m, c->limits, c->body_max, &out, &res);
        dynbuf_cleanup(&body);
        body = out;
    }
    size_t shown = body.len;
    struct bytesource src;
    bytesource_init_take(&src, &body);
    struct bodysource *view = view_of(c, m, &src);
    body_heading(d, c, m, shown, decoded, &res, view);
    add_truncation_note(d, c, m);
    add_saved_note(d, c, m);
    bodysource_add(d, view);
}

/* --- the tabs --- */

static void add_unparsed(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    doc_addf(d, STYLE_WARN, "%s not parsed as HTTP; the bytes as received:", c->g->warn);
    struct bytesource src;
    bytesource_init_copy(&src, m->raw.data, m->raw.len, m->raw.len + 1);
    bodysource_add(d, bodysource_new(&src, NULL, 0, BODYVIEW_TEXT));
}

static void build(struct doc *d, const struct detail_ctx *c, int side)
{
    const struct exchange *ex = c->ex;
    const struct message *m = exchange_msg_const(ex, (enum side)side);
    if (side == SIDE_SERVER && ex->error)
        doc_addf(d, STYLE_ERROR, "%s %s", c->g->warn, ex->error);
    if (m->flags & MSG_LOST) {
        doc_addf(
            d, STYLE_DIM,
            "(the request was lost: the capture cut the packet that carried it; see Warnings)");
        return;
    }
    if (!(m->flags & MSG_STARTED)) {
        doc_addf(d, STYLE_DIM,
                 side == SIDE_CLIENT     ? "(no request)"
                 : (ex->flags & EX_DONE) ? "(no response)"
                                         : "(waiting for the response)");
        return;
    }
    for (uint8_t i = 0; i < m->ninterim; i++) {
        const struct message_interim *in = &m->interim[i];
        add_lines(d, c, side, m->raw.data, in->off, (size_t)in->off + in->len, true, true);
    }
    if (!(m->flags & MSG_HEAD)) {
        if (m->flags & (MSG_UNPARSED | MSG_HTTP09) || (ex->flags & EX_DONE))
            add_unparsed(d, c, m);
        else
            doc_addf(d, STYLE_DIM, "(head not complete: %zu %s so far)", m->raw.len,
                     plural_bytes(m->raw.len));
        return;
    }
    size_t head_end = (size_t)m->head_off + m->head.len;
    if (head_end > m->raw.len)
        head_end = m->raw.len;
    add_lines(d, c, side, m->raw.data, (size_t)m->head_off + m->head.start, head_end, false, true);
    if (m->head.flags & HEAD_TRUNCATED)
        doc_addf(d, STYLE_WARN, "%s head longer than the limit: later fields not parsed",
                 c->g->truncated);
    add_trailer(d, c, m);
    add_chunk_ext(d, c, m);
    add_body(d, c, m);
}

void msgtext_build_request(struct doc *d, const struct detail_ctx *c)
{
    build(d, c, SIDE_CLIENT);
}

void msgtext_build_response(struct doc *d, const struct detail_ctx *c)
{
    build(d, c, SIDE_SERVER);
}
