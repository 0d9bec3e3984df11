/*
 * msgtext owns the rendering of one message as the user reads it: head lines as sent with
 * their warnings, a body summary, and the body. It reads the exchange while building and keeps
 * copies only of bodies (de-chunked or decoded, bounded by the caps); it never changes the
 * exchange and never writes to the terminal.
 *
 * The body text and hex renderings here are the plain fallbacks of the body views.
 */
#include "hspy/msgtext.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/bytesource.h"
#include "hspy/decode.h"
#include "hspy/flowrow.h"
#include "hspy/hexdump.h"
#include "hspy/side.h"
#include "hspy/termsafe.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

/* Longest body text line before it is continued on the next document line. */
enum { TEXT_LINE_MAX = 2048 };
/* Bytes looked at to tell text from binary. */
enum { SNIFF_BYTES = 8192 };

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

bool msgtext_is_binary(const uint8_t *p, size_t n)
{
    if (n > SNIFF_BYTES)
        n = SNIFF_BYTES;
    size_t odd = 0;
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if (b == 0)
            return true;
        if (b < 0x80) {
            if ((b < 0x20 && b != '\t' && b != '\r' && b != '\n' && b != '\f') || b == 0x7f)
                odd++;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        /* A sequence cut by the end of the sniffed bytes is not evidence of binary data. */
        if (len == 0 && n - i < 4 && n == SNIFF_BYTES)
            break;
        odd += len == 0;
        i += len ? len : 1;
    }
    return odd * 10 > n;
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
 * Adds the lines of raw[from, to) split at LF. base_style applies to every line (interim
 * responses are dim); the first line is the start line.
 */
static void add_head_lines(struct doc *d, const struct detail_ctx *c, int side, const uint8_t *raw,
                           size_t from, size_t to, bool dim)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    size_t pos = from;
    bool first = true;
    while (pos < to) {
        const uint8_t *lf = memchr(raw + pos, '\n', to - pos);
        size_t end = lf ? (size_t)(lf - raw) : to;
        size_t next = lf ? end + 1 : to;
        size_t n = end - pos;
        if (n && raw[pos + n - 1] == '\r')
            n--;
        if (n == 0 && lf && !first) /* the empty line that ends the head */
            break;
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        if (dim)
            canvas_put_bytes(&l, STYLE_DIM, raw + pos, n, 0);
        else
            msgtext_head_line(&l, raw + pos, n, first);
        annotate(&l, c->ex, side, pos, next, c->g);
        doc_add(d, &l);
        first = false;
        pos = next;
    }
    canvas_line_cleanup(&l);
}

/* --- body text (lazy) --- */

struct textsrc {
    struct bytesource bytes;
    size_t *starts; /* line starts; starts[n] = end */
    size_t n;
};

static void text_render(void *data, size_t i, struct canvas_line *out)
{
    const struct textsrc *t = data;
    size_t len;
    const uint8_t *p = bytesource_get(&t->bytes, &len);
    size_t from = t->starts[i], to = t->starts[i + 1];
    if (to > len)
        to = len;
    if (from >= to)
        return;
    if (p[to - 1] == '\n') {
        to--;
        if (to > from && p[to - 1] == '\r')
            to--;
    }
    canvas_put_bytes(out, STYLE_NORMAL, p + from, to - from, 0);
}

static void text_free(void *data)
{
    struct textsrc *t = data;
    bytesource_cleanup(&t->bytes);
    free(t->starts);
    free(t);
}

/* Indexes line starts: after every LF, and every TEXT_LINE_MAX bytes of a longer line. */
static void index_lines(struct textsrc *t, const uint8_t *p, size_t len)
{
    size_t cap = 0;
    t->n = 0;
    t->starts = NULL;
    size_t pos = 0;
    while (pos < len) {
        t->starts = xgrow(t->starts, &cap, t->n + 2, sizeof *t->starts);
        t->starts[t->n++] = pos;
        size_t room = len - pos < TEXT_LINE_MAX ? len - pos : TEXT_LINE_MAX;
        const uint8_t *lf = memchr(p + pos, '\n', room);
        size_t next = lf ? (size_t)(lf - p) + 1 : pos + room;
        /* Never cut inside a UTF-8 sequence. */
        while (!lf && next < len && next > pos + 1 && (p[next] & 0xc0) == 0x80)
            next--;
        pos = next;
    }
    t->starts = xgrow(t->starts, &cap, t->n + 1, sizeof *t->starts);
    t->starts[t->n] = len;
}

/* Adds body text from src (the document takes it over). */
static void add_text_source(struct doc *d, const struct bytesource *src)
{
    struct textsrc *t = xmalloc(sizeof *t);
    t->bytes = *src;
    size_t len;
    const uint8_t *p = bytesource_get(&t->bytes, &len);
    index_lines(t, p, len);
    struct doc_source s = {.lines = t->n, .render = text_render, .free = text_free, .data = t};
    doc_add_source(d, &s);
}

static void add_text_body(struct doc *d, struct dynbuf *body)
{
    struct bytesource src;
    bytesource_init_take(&src, body);
    add_text_source(d, &src);
}

/* --- body section --- */

static void add_truncation_note(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    uint64_t seen = m->wire_bytes - m->gap_bytes;
    if (m->flags & MSG_TRUNCATED && seen > m->raw.len)
        doc_addf(d, STYLE_WARN, "%s %llu more bytes were counted on the wire but not kept",
                 c->g->truncated, (unsigned long long)(seen - m->raw.len));
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

static void body_heading(struct doc *d, const struct detail_ctx *c, const struct message *m,
                         size_t shown, bool decoded, const struct decode_result *res)
{
    char size[16], kept[16];
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_printf(&l, STYLE_BOUNDARY, "%s%s body: %s bytes", c->g->hline, c->g->hline,
                  flowrow_size(m->body_size, size, sizeof size));
    if (shown != m->body_size && !decoded)
        canvas_printf(&l, STYLE_BOUNDARY, " (%s kept)", flowrow_size(shown, kept, sizeof kept));
    size_t n;
    const uint8_t *ct = message_header(m, "content-type", &n);
    if (ct) {
        canvas_puts(&l, STYLE_BOUNDARY, ", ");
        canvas_put_bytes(&l, STYLE_BOUNDARY, ct, n, 0);
    }
    canvas_printf(&l, STYLE_BOUNDARY, ", %s", body_kind_name((enum body_kind)m->body_kind));
    if (m->body_kind == BODY_CHUNKED)
        canvas_printf(&l, STYLE_BOUNDARY, " (%u chunks)", m->chunks);
    const uint8_t *ce = message_header(m, "content-encoding", &n);
    if (ce) {
        canvas_puts(&l, STYLE_BOUNDARY, ", coding ");
        canvas_put_bytes(&l, STYLE_BOUNDARY, ce, n, 0);
    }
    canvas_printf(&l, STYLE_BOUNDARY, " (%s) %s%s", decoded ? coding_note(res) : "as sent",
                  c->g->hline, c->g->hline);
    doc_add(d, &l);
    if (decoded && res->status != DECODE_OK && res->message[0])
        doc_addf(d, STYLE_WARN, "%s %s", c->g->warn, res->message);
    canvas_line_cleanup(&l);
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
    struct decode_result none = {0};
    body_heading(d, c, m, (size_t)len, false, &none);
    struct bytesource src;
    bytesource_init_window(&src, c->store, c->ex->id, side, m->body_off, len);
    bool hex =
        c->body == DETAIL_BODY_HEX ||
        (c->body == DETAIL_BODY_AUTO && msgtext_is_binary(m->raw.data + m->body_off, (size_t)len));
    if (hex)
        hexdump_add(d, &src, (size_t)len);
    else
        add_text_source(d, &src);
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
    if (add_body_in_place(d, c, m, decoded)) {
        add_truncation_note(d, c, m);
        return;
    }
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
    body_heading(d, c, m, body.len, decoded, &res);
    bool hex = c->body == DETAIL_BODY_HEX ||
               (c->body == DETAIL_BODY_AUTO && msgtext_is_binary(body.data, body.len));
    if (body.len == 0) {
        doc_addf(d, STYLE_DIM, "(empty)");
        dynbuf_cleanup(&body);
    } else if (hex) {
        struct bytesource src;
        size_t len = body.len;
        bytesource_init_take(&src, &body);
        hexdump_add(d, &src, len);
    } else {
        add_text_body(d, &body);
    }
    add_truncation_note(d, c, m);
}

/* --- the tabs --- */

static void add_unparsed(struct doc *d, const struct detail_ctx *c, const struct message *m)
{
    doc_addf(d, STYLE_WARN, "%s not parsed as HTTP; the bytes as received:", c->g->warn);
    struct dynbuf copy;
    dynbuf_init(&copy, m->raw.len + 1);
    dynbuf_append(&copy, m->raw.data, m->raw.len);
    add_text_body(d, &copy);
}

static void build(struct doc *d, const struct detail_ctx *c, int side)
{
    const struct exchange *ex = c->ex;
    const struct message *m = side == SIDE_CLIENT ? &ex->req : &ex->resp;
    if (side == SIDE_SERVER && ex->error)
        doc_addf(d, STYLE_ERROR, "%s %s", c->g->warn, ex->error);
    if (!(m->flags & MSG_STARTED)) {
        doc_addf(d, STYLE_DIM,
                 side == SIDE_CLIENT     ? "(no request)"
                 : (ex->flags & EX_DONE) ? "(no response)"
                                         : "(waiting for the response)");
        return;
    }
    for (uint8_t i = 0; i < m->ninterim; i++) {
        const struct message_interim *in = &m->interim[i];
        add_head_lines(d, c, side, m->raw.data, in->off, (size_t)in->off + in->len, true);
    }
    if (!(m->flags & MSG_HEAD)) {
        if (m->flags & (MSG_UNPARSED | MSG_HTTP09) || (ex->flags & EX_DONE))
            add_unparsed(d, c, m);
        else
            doc_addf(d, STYLE_DIM, "(head not complete: %zu bytes so far)", m->raw.len);
        return;
    }
    size_t head_end = (size_t)m->head_off + m->head.len;
    if (head_end > m->raw.len)
        head_end = m->raw.len;
    add_head_lines(d, c, side, m->raw.data, (size_t)m->head_off + m->head.start, head_end, false);
    if (m->head.flags & HEAD_TRUNCATED)
        doc_addf(d, STYLE_WARN, "%s head longer than the limit: later fields not parsed",
                 c->g->truncated);
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
