/*
 * edit owns the pure side of hand edits: the editable text of a message, the fix-up of an
 * edited text (line ends, Content-Length, chunking), the quick edits (status, one header, the
 * body), the engine's reading of an edited message and the bookkeeping of edits on an
 * exchange. It never does I/O and never decides what is sent: callers do.
 */
#include "hspy/edit.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hspy/conversation.h"
#include "hspy/plural.h"
#include "hspy/response.h"
#include "hspy/sha256.h"
#include "hspy/xmalloc.h"

/* ---- the editable text ---- */

bool edit_text(const struct message *m, const struct http_limits *limits, struct dynbuf *out)
{
    if (!(m->flags & MSG_HEAD)) {
        dynbuf_append(out, m->raw.data, m->raw.len);
        return !(m->flags & (MSG_TRUNCATED | MSG_GAP));
    }
    dynbuf_append(out, m->raw.data + m->head_off, m->head.len);
    return message_body(m, out, limits);
}

/* ---- lines of a head ---- */

/* One line of a head: [off, off+len) without its line end; end is the offset past it. */
struct line {
    size_t off, len, end;
    bool crlf; /* ended in CR LF (else bare LF, or nothing at the end of the text) */
};

static bool next_line(const uint8_t *p, size_t n, size_t at, struct line *l)
{
    if (at >= n)
        return false;
    const uint8_t *lf = memchr(p + at, '\n', n - at);
    size_t stop = lf ? (size_t)(lf - p) : n;
    l->off = at;
    l->len = stop - at;
    l->crlf = false;
    if (lf && l->len && p[stop - 1] == '\r') {
        l->len--;
        l->crlf = true;
    }
    l->end = lf ? stop + 1 : n;
    return true;
}

long edit_head_len(const uint8_t *p, size_t n)
{
    struct line l;
    size_t at = 0;
    bool seen = false;
    while (next_line(p, n, at, &l)) {
        if (l.len == 0 && seen && l.end > l.off + l.len)
            return (long)l.end;
        seen |= l.len > 0;
        at = l.end;
    }
    return -1;
}

/* Where a head ends and its body starts; a text without an empty line is all head. */
struct split {
    size_t head_end; /* lines before the empty line end here */
    size_t body;     /* first body byte */
    bool has_end;    /* the text has the empty line */
};

static struct split split_message(const uint8_t *p, size_t n)
{
    long h = edit_head_len(p, n);
    struct split s = {n, n, false};
    if (h < 0)
        return s;
    s.body = (size_t)h;
    s.has_end = true;
    /* The empty line is the last line of the head: find where it starts. */
    size_t e = (size_t)h - 1; /* its LF */
    if (e > 0 && p[e - 1] == '\r')
        e--;
    s.head_end = e;
    return s;
}

/* The field name of a line ("Name" of "Name : value"), or length 0 when it has no colon or is
 * a continuation line. */
static size_t field_name(const uint8_t *p, const struct line *l)
{
    if (!l->len || p[l->off] == ' ' || p[l->off] == '\t')
        return 0;
    const uint8_t *colon = memchr(p + l->off, ':', l->len);
    if (!colon)
        return 0;
    size_t k = (size_t)(colon - (p + l->off));
    while (k && (p[l->off + k - 1] == ' ' || p[l->off + k - 1] == '\t'))
        k--;
    return k;
}

static bool name_is(const uint8_t *p, const struct line *l, const char *name)
{
    size_t k = field_name(p, l);
    return k && k == strlen(name) && strncasecmp((const char *)p + l->off, name, k) == 0;
}

static bool is_continuation(const uint8_t *p, const struct line *l)
{
    return l->len && (p[l->off] == ' ' || p[l->off] == '\t');
}

/* True when the last coding of the Transfer-Encoding fields is chunked. */
static bool says_chunked(const uint8_t *p, const struct split *s)
{
    struct line l;
    size_t at = 0;
    bool chunked = false;
    while (at < s->head_end && next_line(p, s->head_end, at, &l)) {
        at = l.end;
        if (!name_is(p, &l, "transfer-encoding"))
            continue;
        const uint8_t *v = memchr(p + l.off, ':', l.len) + 1;
        const uint8_t *end = p + l.off + l.len;
        /* The last non-empty comma item of this field decides, unless a later field follows. */
        const uint8_t *item = v, *last = NULL, *last_end = NULL;
        for (const uint8_t *c = v; c <= end; c++) {
            if (c == end || *c == ',') {
                const uint8_t *a = item, *b = c;
                while (a < b && (*a == ' ' || *a == '\t'))
                    a++;
                while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                    b--;
                if (b > a) {
                    last = a;
                    last_end = b;
                }
                item = c + 1;
            }
        }
        chunked =
            last && last_end - last == 7 && strncasecmp((const char *)last, "chunked", 7) == 0;
    }
    return chunked;
}

/* ---- fix-up ---- */

static void put_line(struct dynbuf *out, const uint8_t *p, const struct line *l)
{
    dynbuf_append(out, p + l->off, l->len);
    dynbuf_append(out, "\r\n", 2);
}

static void put_length(struct dynbuf *out, const uint8_t *name, size_t nlen, uint64_t v)
{
    if (name)
        dynbuf_append(out, name, nlen);
    else
        dynbuf_adds(out, "Content-Length");
    dynbuf_printf(out, ": %" PRIu64 "\r\n", v);
}

static void put_chunked(struct dynbuf *out, const uint8_t *body, size_t n)
{
    if (n) {
        dynbuf_printf(out, "%zx\r\n", n);
        dynbuf_append(out, body, n);
        dynbuf_append(out, "\r\n", 2);
    }
    dynbuf_append(out, "0\r\n\r\n", 5);
}

int edit_fix(const uint8_t *p, size_t n, struct dynbuf *out, struct edit_fix_report *rep)
{
    struct edit_fix_report dummy;
    if (!rep)
        rep = &dummy;
    memset(rep, 0, sizeof *rep);
    if (n == 0)
        return -1;
    struct split s = split_message(p, n);
    bool chunked = says_chunked(p, &s);
    size_t body = n - s.body;
    rep->end_added = !s.has_end;
    struct line l;
    size_t at = 0;
    bool had_length = false, skipping = false, first = true;
    while (at < s.head_end && next_line(p, s.head_end, at, &l)) {
        at = l.end;
        rep->crlf |= !l.crlf && l.end > l.off + l.len;
        if (skipping && is_continuation(p, &l))
            continue;
        skipping = false;
        /* Empty lines before the start line are left out: a peer ignores them at best. */
        if (first && l.len == 0) {
            rep->blank_removed = true;
            continue;
        }
        if (!first && name_is(p, &l, "content-length")) {
            skipping = true;
            if (chunked || had_length) {
                rep->length_removed |= chunked;
                continue;
            }
            had_length = true;
            put_length(out, p + l.off, field_name(p, &l), body);
            rep->length_set = true;
            continue;
        }
        first = false;
        put_line(out, p, &l);
    }
    if (!chunked && !had_length && body) {
        put_length(out, NULL, 0, body);
        rep->length_set = true;
    }
    dynbuf_append(out, "\r\n", 2);
    rep->length = body;
    if (chunked) {
        put_chunked(out, p + s.body, body);
        rep->rechunked = true;
    } else {
        dynbuf_append(out, p + s.body, body);
    }
    return 0;
}

/* ---- quick edits ---- */

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

static bool valid_name(const char *name)
{
    if (!*name)
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("!#$%&'*+-.^_`|~", *c))
            return false;
    return true;
}

/* The line end the head uses (for lines hspy writes into it). */
static const char *line_end(const uint8_t *p, const struct split *s)
{
    struct line l;
    return next_line(p, s->head_end, 0, &l) && !l.crlf && l.end > l.len ? "\n" : "\r\n";
}

int edit_set_status(const uint8_t *p, size_t n, unsigned status, const char *reason,
                    struct dynbuf *out, char *err, size_t errlen)
{
    if (status < 100 || status > 999)
        return fail(err, errlen, "a status is a number from 100 to 999");
    struct split s = split_message(p, n);
    struct line l;
    if (!next_line(p, s.head_end, 0, &l) || l.len < 8 || memcmp(p, "HTTP/", 5) != 0)
        return fail(err, errlen, "not a response: the first line does not start with HTTP/");
    const uint8_t *sp = memchr(p, ' ', l.len);
    size_t version = sp ? (size_t)(sp - p) : l.len;
    dynbuf_append(out, p, version);
    dynbuf_printf(out, " %03u %s", status, reason ? reason : response_reason((int)status));
    dynbuf_append(out, p + l.off + l.len, n - (l.off + l.len));
    return 0;
}

/* Copies the head's lines, rewriting (or dropping) the fields named name. */
static size_t rewrite_fields(const uint8_t *p, const struct split *s, const char *name,
                             const char *value, struct dynbuf *out)
{
    struct line l;
    size_t at = 0, matched = 0;
    bool skipping = false, first = true;
    const char *eol = line_end(p, s);
    while (at < s->head_end && next_line(p, s->head_end, at, &l)) {
        at = l.end;
        if (skipping && is_continuation(p, &l))
            continue;
        skipping = false;
        if (!first && name_is(p, &l, name)) {
            skipping = true;
            if (value && !matched)
                dynbuf_printf(out, "%.*s: %s%s", (int)field_name(p, &l), (const char *)p + l.off,
                              value, l.crlf || l.end == l.off + l.len ? "\r\n" : "\n");
            matched++;
            continue;
        }
        first = false;
        dynbuf_append(out, p + l.off, l.end - l.off);
        if (l.end == l.off + l.len)
            dynbuf_adds(out, eol); /* the last line of a text without an empty line */
    }
    if (value && !matched)
        dynbuf_printf(out, "%s: %s%s", name, value, eol);
    return matched;
}

int edit_set_header(const uint8_t *p, size_t n, const char *name, const char *value,
                    struct dynbuf *out, char *err, size_t errlen)
{
    if (!valid_name(name))
        return fail(err, errlen, "not a header name (letters, digits and !#$%&'*+-.^_`|~)");
    if (strpbrk(value, "\r\n"))
        return fail(err, errlen, "a header value cannot hold a line break");
    struct split s = split_message(p, n);
    rewrite_fields(p, &s, name, value, out);
    if (s.has_end)
        dynbuf_append(out, p + s.head_end, n - s.head_end);
    else
        dynbuf_adds(out, line_end(p, &s));
    return 0;
}

int edit_remove_header(const uint8_t *p, size_t n, const char *name, struct dynbuf *out,
                       size_t *removed, char *err, size_t errlen)
{
    if (!valid_name(name))
        return fail(err, errlen, "not a header name (letters, digits and !#$%&'*+-.^_`|~)");
    struct split s = split_message(p, n);
    size_t k = rewrite_fields(p, &s, name, NULL, out);
    if (removed)
        *removed = k;
    if (s.has_end)
        dynbuf_append(out, p + s.head_end, n - s.head_end);
    else
        dynbuf_adds(out, line_end(p, &s));
    return 0;
}

int edit_set_body(const uint8_t *p, size_t n, const uint8_t *body, size_t blen, struct dynbuf *out,
                  char *err, size_t errlen)
{
    if (n == 0)
        return fail(err, errlen, "no message to put a body in");
    struct split s = split_message(p, n);
    struct dynbuf text;
    dynbuf_init(&text, EDIT_MAX);
    const char *eol = line_end(p, &s);
    dynbuf_append(&text, p, s.head_end);
    if (s.head_end && p[s.head_end - 1] != '\n')
        dynbuf_adds(&text, eol); /* the last line of a text without an empty line */
    dynbuf_adds(&text, eol);
    dynbuf_append(&text, body, blen);
    int rc = edit_fix(text.data, text.len, out, NULL);
    dynbuf_cleanup(&text);
    return rc == 0 ? 0 : fail(err, errlen, "no message to put a body in");
}

/* ---- reading an edited message the way a peer would ---- */

struct run {
    enum side side;
    struct exchange *first; /* the first exchange with bytes of side */
};

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)c;
    (void)side;
    (void)p;
    (void)n;
    struct run *r = data;
    if (ev != CONV_END)
        return CONV_CONTINUE;
    if (!r->first && (exchange_msg(ex, r->side)->flags & MSG_STARTED))
        r->first = ex;
    else
        exchange_free(ex);
    return CONV_CONTINUE;
}

static void feed(struct conversation *c, enum side side, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t k = conversation_feed(c, side, p + off, n - off, 0);
        if (k == 0)
            k = conversation_feed(c, side, NULL, 0, 0);
        if (k == 0)
            break; /* the engine holds what it cannot take: stop rather than spin */
        off += k;
    }
}

static struct exchange *read_bytes(const uint8_t *req, size_t reqn, const uint8_t *resp,
                                   size_t respn, enum side want, const struct http_limits *limits,
                                   const struct exchange_limits *exl)
{
    struct run r = {want, NULL};
    struct conversation_config cfg = {.limits = *limits, .exchange = *exl, .conn_id = 0};
    struct conversation_events ev = {&r, on_event};
    struct conversation *c = conversation_new(&cfg, &ev);
    feed(c, SIDE_CLIENT, req, reqn);
    feed(c, SIDE_SERVER, resp, respn);
    conversation_close(c, SIDE_CLIENT, 0);
    conversation_close(c, SIDE_SERVER, 0);
    conversation_free(c);
    return r.first;
}

static void summarize(struct edit_check *c, const struct message *m, size_t n)
{
    /* Where the message ends by its own framing (bytes after it may be counted on it too). */
    uint64_t used = (m->flags & MSG_HEAD) ? m->body_off + m->body_wire : m->wire_bytes;
    c->extra = used < n ? n - used : 0;
    c->body_kind = m->body_kind;
    c->body = m->body_wire;
    char more[96] = "";
    if (c->extra)
        snprintf(more, sizeof more, "; %" PRIu64 " %s after it are read as another message",
                 c->extra, plural_bytes(c->extra));
    if (!(m->flags & MSG_HEAD)) {
        snprintf(c->summary, sizeof c->summary, "no complete head: a peer waits for more");
        return;
    }
    c->parsed = true;
    if (!(m->flags & MSG_COMPLETE) && m->body_kind == BODY_NONE && m->body_off == 0) {
        c->extra = 0;
        snprintf(c->summary, sizeof c->summary,
                 "the body length cannot be determined: a server answers 400");
        return;
    }
    switch (m->body_kind) {
    case BODY_LENGTH:
        c->declared = m->content_length;
        c->missing = m->content_length > m->body_wire ? m->content_length - m->body_wire : 0;
        if (c->missing)
            snprintf(c->summary, sizeof c->summary,
                     "Content-Length %" PRIu64 " but %" PRIu64
                     " body bytes: a peer waits for %" PRIu64 " more",
                     m->content_length, m->body_wire, c->missing);
        else
            snprintf(c->summary, sizeof c->summary, "Content-Length %" PRIu64 "%s",
                     m->content_length, c->extra ? "" : " matches the body");
        break;
    case BODY_CHUNKED:
        snprintf(c->summary, sizeof c->summary, "chunked, %" PRIu64 " payload %s%s", m->body_size,
                 plural_bytes(m->body_size),
                 m->flags & MSG_COMPLETE ? "" : ", not finished: a peer waits");
        break;
    case BODY_CLOSE:
        snprintf(c->summary, sizeof c->summary,
                 "no length: the body (%" PRIu64 " %s) ends when the connection closes",
                 m->body_wire, plural_bytes(m->body_wire));
        break;
    default: snprintf(c->summary, sizeof c->summary, "no body"); break;
    }
    size_t k = strlen(c->summary);
    snprintf(c->summary + k, sizeof c->summary - k, "%s", more);
}

struct exchange *edit_check(const uint8_t *p, size_t n, enum side side, const uint8_t *req,
                            size_t reqn, const struct http_limits *limits,
                            const struct exchange_limits *exl, struct edit_check *c)
{
    memset(c, 0, sizeof *c);
    struct exchange *ex = side == SIDE_CLIENT
                              ? read_bytes(p, n, NULL, 0, side, limits, exl)
                              : read_bytes(req, req ? reqn : 0, p, n, side, limits, exl);
    if (!ex) {
        snprintf(c->summary, sizeof c->summary, "empty");
        return NULL;
    }
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        c->warnings += ex->warnings[i].side == side;
    summarize(c, exchange_msg(ex, side), n);
    return ex;
}

struct exchange *edit_exchange(const uint8_t *req, size_t reqn, const uint8_t *resp, size_t respn,
                               const struct http_limits *limits, const struct exchange_limits *exl)
{
    return read_bytes(req, reqn, resp, respn, reqn ? SIDE_CLIENT : SIDE_SERVER, limits, exl);
}

/* ---- edits recorded on an exchange ---- */

struct exchange_edit *edit_of(struct exchange *ex)
{
    if (!ex->edit) {
        ex->edit = xcalloc(1, sizeof *ex->edit);
        for (int s = 0; s < 2; s++) {
            dynbuf_init(&ex->edit->before[s], EDIT_MAX);
            dynbuf_init(&ex->edit->pending[s], EDIT_MAX);
        }
    }
    return ex->edit;
}

void edit_stage(struct exchange *ex, enum side side, const uint8_t *p, size_t n)
{
    struct exchange_edit *e = edit_of(ex);
    if (p >= e->pending[side].data && p < e->pending[side].data + e->pending[side].len) {
        /* Staging the pending bytes again (or part of them): copy before resetting. */
        uint8_t *copy = xmalloc(n ? n : 1);
        memcpy(copy, p, n);
        dynbuf_reset(&e->pending[side]);
        dynbuf_append(&e->pending[side], copy, n);
        free(copy);
    } else {
        dynbuf_reset(&e->pending[side]);
        dynbuf_append(&e->pending[side], p, n);
    }
    e->has_pending[side] = true;
}

bool edit_revert(struct exchange *ex, enum side side)
{
    if (!ex->edit || !ex->edit->has_pending[side])
        return false;
    dynbuf_cleanup(&ex->edit->pending[side]);
    dynbuf_init(&ex->edit->pending[side], EDIT_MAX);
    ex->edit->has_pending[side] = false;
    return true;
}

const struct dynbuf *edit_pending(const struct exchange *ex, enum side side)
{
    return ex->edit && ex->edit->has_pending[side] ? &ex->edit->pending[side] : NULL;
}

void edit_record(struct exchange *ex, enum side side, const uint8_t *before, size_t n,
                 const char *label)
{
    struct exchange_edit *e = edit_of(ex);
    dynbuf_reset(&e->before[side]);
    dynbuf_append(&e->before[side], before, n);
    e->before_label[side] = label;
    ex->flags |= EX_EDITED;
    exchange_msg(ex, side)->flags |= MSG_EDITED;
    edit_revert(ex, side);
}

/* Moves side of src into side of dst; dst's old message is freed, its times kept. */
static void move_message(struct exchange *dst, struct exchange *src, enum side side)
{
    struct message *d = exchange_msg(dst, side), *m = exchange_msg(src, side);
    int64_t t_first = d->t_first, t_last = d->t_last;
    message_cleanup(d);
    *d = *m;
    /* The header array lives in src's arena: copy it into dst's. */
    d->head.headers = d->head.nheaders ? arena_memdup(&dst->arena, m->head.headers,
                                                      d->head.nheaders * sizeof *d->head.headers)
                                       : NULL;
    d->head.cap = d->head.nheaders;
    d->gaps = NULL;
    d->ngaps = 0;
    d->gaps_unlisted = 0;
    /* The interim responses live in src's arena too: copied with room for more, as
     * exchange_add_interim leaves them. */
    d->interim = d->ninterim ? arena_memdup(&dst->arena, m->interim,
                                            MESSAGE_INTERIM_MAX * sizeof *d->interim)
                             : NULL;
    d->sha256 = m->sha256 ? arena_memdup(&dst->arena, m->sha256, SHA256_DIGEST_LEN) : NULL;
    d->trailer = m->trailer ? arena_memdup(&dst->arena, m->trailer, m->trailer_len) : NULL;
    d->chunk_ext =
        m->chunk_ext ? arena_memdup(&dst->arena, m->chunk_ext, message_chunk_ext_size(m)) : NULL;
    d->t_first = t_first;
    d->t_last = t_last;
    d->flags |= MSG_EDITED;
    message_init(m, 0); /* src no longer owns the bytes */
}

/* Replaces the warnings of side in dst by those of src. */
static void move_warnings(struct exchange *dst, const struct exchange *src, enum side side)
{
    uint16_t kept = 0;
    for (uint16_t i = 0; i < dst->nwarnings; i++)
        if (dst->warnings[i].side != side)
            dst->warnings[kept++] = dst->warnings[i];
    dst->nwarnings = kept;
    for (uint16_t i = 0; i < src->nwarnings; i++) {
        const struct warning *w = &src->warnings[i];
        if (w->side != side)
            continue;
        if (w->detail)
            exchange_warn(dst, (enum warning_code)w->code, side, w->offset, "%s", w->detail);
        else
            exchange_warn(dst, (enum warning_code)w->code, side, w->offset, NULL);
    }
}

void edit_replace(struct exchange *ex, enum side side, const uint8_t *sent, size_t n,
                  const char *label, const struct http_limits *limits,
                  const struct exchange_limits *exl)
{
    const struct message *m = exchange_msg(ex, side);
    edit_record(ex, side, m->raw.data, m->raw.len, label);
    struct exchange *tmp = side == SIDE_CLIENT ? read_bytes(sent, n, NULL, 0, side, limits, exl)
                                               : read_bytes(ex->req.raw.data, ex->req.raw.len, sent,
                                                            n, side, limits, exl);
    if (tmp) {
        move_message(ex, tmp, side);
        move_warnings(ex, tmp, side);
        exchange_free(tmp);
    } else {
        struct message *d = exchange_msg(ex, side);
        dynbuf_reset(&d->raw);
        d->wire_bytes = 0;
        d->flags = MSG_EDITED;
    }
}
