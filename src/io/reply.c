/*
 * reply owns the generic response producers of `hspy listen`: fixed bytes, raw response files,
 * hspy's own error responses and the echo. It writes only through the sender and never reads
 * the socket; static files and CGI commands live in serve.c and exec.c.
 */
#include "hspy/reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/echo.h"
#include "hspy/response.h"
#include "hspy/xmalloc.h"

/* ---- bodies from memory, shared by the producers below ---- */

struct membody {
    const uint8_t *p;
    size_t n, off;
    bool ended;
};

/* Hands body bytes to the sender while there is room; ends the response after the last one. */
static void membody_push(struct reply *r, struct membody *b)
{
    while (b->off < b->n && !r->env.full(r->env.data)) {
        size_t k = b->n - b->off < REPLY_STEP ? b->n - b->off : REPLY_STEP;
        sender_body(r->env.sender, b->p + b->off, k);
        b->off += k;
    }
    if (b->off == b->n && !b->ended) {
        b->ended = true;
        sender_end(r->env.sender);
    }
}

static bool bodiless_status(uint16_t status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/*
 * The head of a response hspy composes, as a spec. Returns whether a body may follow. An
 * HTTP/0.9 request (r->env.http09) gets no head: *out is then untouched.
 */
static bool head_spec(struct reply *r, uint16_t status, const char *reason,
                      const char *const *headers, size_t nheaders, uint64_t length,
                      struct response_spec *out)
{
    if (r->env.http09) {
        r->close_after = true;
        return true;
    }
    struct response_spec spec = {
        .status = status,
        .reason = reason,
        .headers = headers,
        .nheaders = nheaders,
        .date = r->env.date,
        .framing = RESPONSE_LENGTH,
        .length = length,
        .close = r->env.close || r->close_after,
        .keep_alive = r->env.keep_alive10 && !r->env.close && !r->close_after,
    };
    bool body = true;
    if (bodiless_status(status)) {
        spec.framing = RESPONSE_NO_BODY;
        body = length > 0;
        if (body) /* the user wants a body where none belongs: framing is broken after it */
            spec.close = r->close_after = true;
    } else if (r->env.head_request) {
        spec.framing = RESPONSE_NO_BODY;
        spec.has_length = true;
        body = false;
    }
    *out = spec;
    return body;
}

/* Composes spec's head in the connection's scratch buffer; returns the buffer. */
static const struct dynbuf *compose(struct reply *r, const struct response_spec *spec)
{
    struct dynbuf *head = r->env.scratch;
    dynbuf_reset(head);
    response_head(head, spec);
    return head;
}

/* Writes the head of a response hspy composes; returns whether a body may follow. */
static bool compose_head(struct reply *r, uint16_t status, const char *reason,
                         const char *const *headers, size_t nheaders, uint64_t length)
{
    struct response_spec spec;
    bool body = head_spec(r, status, reason, headers, nheaders, length, &spec);
    if (!r->env.http09) {
        const struct dynbuf *head = compose(r, &spec);
        sender_head(r->env.sender, head->data, head->len);
    }
    return body;
}

/* ---- fixed ---- */

/*
 * The last head a fixed reply composed, kept across reply_fixed_reuse: a connection answering
 * the same fixed response again within the same second sends it as it is. Strings are compared
 * by content, never by address (the Date text changes in place, and an answer edited in the
 * interface may reuse the memory of the one it replaced).
 */
struct head_memo {
    struct response_spec spec; /* numbers and flags; its pointers only say NULL or not */
    struct dynbuf key;         /* reason, date and header lines, each with its NUL */
    struct dynbuf bytes;       /* the head; empty: nothing kept */
};

static void memo_init(struct head_memo *m)
{
    dynbuf_init(&m->key, REPLY_HEAD_MEMO_MAX);
    dynbuf_init(&m->bytes, REPLY_HEAD_MEMO_MAX);
}

static void memo_cleanup(struct head_memo *m)
{
    dynbuf_cleanup(&m->key);
    dynbuf_cleanup(&m->bytes);
}

/* Whether the NUL-terminated string at *p is s (NULL counts as ""); moves *p past it. */
static bool key_next(const char **p, const char *end, const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    if ((size_t)(end - *p) < n || memcmp(*p, s ? s : "", n) != 0)
        return false;
    *p += n;
    return true;
}

static bool memo_matches(const struct head_memo *m, const struct response_spec *s)
{
    const struct response_spec *k = &m->spec;
    if (!m->bytes.len || k->status != s->status || k->nheaders != s->nheaders ||
        k->framing != s->framing || k->length != s->length || k->has_length != s->has_length ||
        k->close != s->close || k->keep_alive != s->keep_alive || !k->reason != !s->reason ||
        !k->date != !s->date)
        return false;
    const char *p = (const char *)m->key.data, *end = p + m->key.len;
    if (!key_next(&p, end, s->reason) || !key_next(&p, end, s->date))
        return false;
    for (size_t i = 0; i < s->nheaders; i++)
        if (!key_next(&p, end, s->headers[i]))
            return false;
    return p == end;
}

/* Adds s (NULL as "") with its NUL to the key; false when it does not fit. */
static bool key_add(struct head_memo *m, const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    return dynbuf_append(&m->key, s ? s : "", n) == n;
}

/* Keeps head as what spec s composes (nothing, when it or its key passes the memo's cap). */
static void memo_keep(struct head_memo *m, const struct response_spec *s, const struct dynbuf *head)
{
    dynbuf_reset(&m->key);
    dynbuf_reset(&m->bytes);
    bool fits = key_add(m, s->reason) && key_add(m, s->date);
    for (size_t i = 0; fits && i < s->nheaders; i++)
        fits = key_add(m, s->headers[i]);
    if (!fits || dynbuf_append(&m->bytes, head->data, head->len) != head->len) {
        dynbuf_reset(&m->key);
        dynbuf_reset(&m->bytes);
        return;
    }
    m->spec = *s;
}

struct fixed {
    struct reply base;
    struct reply_fixed_spec spec;
    struct membody body;
    struct head_memo memo;
};

static void fixed_done(struct reply *r)
{
    struct fixed *f = (struct fixed *)r;
    struct response_spec spec;
    bool body = head_spec(r, f->spec.status, f->spec.reason, f->spec.headers, f->spec.nheaders,
                          f->spec.body_len, &spec);
    if (r->env.http09) {
        /* no head at all */
    } else if (memo_matches(&f->memo, &spec)) {
        sender_head(r->env.sender, f->memo.bytes.data, f->memo.bytes.len);
    } else {
        const struct dynbuf *head = compose(r, &spec);
        memo_keep(&f->memo, &spec, head);
        sender_head(r->env.sender, head->data, head->len);
    }
    f->body = (struct membody){f->spec.body, body ? f->spec.body_len : 0, 0, false};
    membody_push(r, &f->body);
}

static void fixed_room(struct reply *r)
{
    struct fixed *f = (struct fixed *)r;
    if (f->body.p || f->body.ended)
        membody_push(r, &f->body);
}

static void fixed_free(struct reply *r)
{
    struct fixed *f = (struct fixed *)r;
    if (f->spec.owned)
        free((void *)f->spec.body);
    memo_cleanup(&f->memo);
    free(f);
}

static const struct reply_ops FIXED_OPS = {"fixed", fixed_done, NULL, fixed_room, fixed_free};

struct reply *reply_fixed_new(const struct reply_env *env, const struct reply_fixed_spec *spec)
{
    struct fixed *f = xcalloc(1, sizeof *f);
    f->base.ops = &FIXED_OPS;
    f->base.env = *env;
    f->spec = *spec;
    memo_init(&f->memo);
    return &f->base;
}

struct reply *reply_retire(struct reply *r)
{
    if (r && r->ops == &FIXED_OPS && !((struct fixed *)r)->spec.owned)
        return r;
    reply_free(r);
    return NULL;
}

struct reply *reply_fixed_reuse(struct reply *spare, const struct reply_env *env,
                                const struct reply_fixed_spec *spec)
{
    if (!spare || spare->ops != &FIXED_OPS) {
        reply_free(spare);
        return reply_fixed_new(env, spec);
    }
    struct fixed *f = (struct fixed *)spare;
    if (f->spec.owned)
        free((void *)f->spec.body);
    struct head_memo memo = f->memo; /* the previous head: likely this one again */
    memset(f, 0, sizeof *f);
    f->base.ops = &FIXED_OPS;
    f->base.env = *env;
    f->spec = *spec;
    f->memo = memo;
    return &f->base;
}

struct reply *reply_error_new(const struct reply_env *env, uint16_t status, const char *why)
{
    struct reply *r;
    if (env->http09) {
        /* No head at all: the text alone, until the connection closes. */
        char *text = xasprintf("%u %s: %s\n", status, response_reason(status), why);
        struct reply_fixed_spec spec = {status,       NULL, NULL, 0, (const uint8_t *)text,
                                        strlen(text), true};
        r = reply_fixed_new(env, &spec);
    } else {
        struct response_error spec = {
            .status = status, .why = why, .date = env->date, .head_request = env->head_request};
        struct dynbuf out;
        dynbuf_init(&out, REPLY_ERROR_MAX);
        response_error(&out, &spec);
        size_t n = out.len;
        r = reply_raw_take(env, (uint8_t *)dynbuf_take(&out), n);
    }
    r->close_after = true;
    return r;
}

/* ---- raw ---- */

struct raw {
    struct reply base;
    struct membody body;
    const uint8_t *p;
    size_t n;
    long head_len;
    bool owned; /* p is the reply's to free */
};

static void raw_done(struct reply *r)
{
    struct raw *w = (struct raw *)r;
    size_t head = w->head_len > 0 ? (size_t)w->head_len : 0;
    if (head)
        sender_head(r->env.sender, w->p, head);
    w->body = (struct membody){w->p + head, w->n - head, 0, false};
    membody_push(r, &w->body);
}

static void raw_room(struct reply *r)
{
    struct raw *w = (struct raw *)r;
    if (w->body.p)
        membody_push(r, &w->body);
}

static void raw_free(struct reply *r)
{
    struct raw *w = (struct raw *)r;
    if (w->owned)
        free((void *)w->p);
    free(r);
}

static const struct reply_ops RAW_OPS = {"raw", raw_done, NULL, raw_room, raw_free};

/* Whether the connection can carry another response after this raw one. */
static bool raw_keeps_alive(const struct reply_env *env, const uint8_t *p, size_t n, long head)
{
    if (head <= 0 || !env->ex || !(env->ex->req.flags & MSG_HEAD))
        return false;
    struct http_header hdrs[256];
    struct http_head h = {.headers = hdrs, .cap = 256};
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    lim.head_max = (uint32_t)head + 1;
    /* The final head is the last one in [0, head): find where it starts. */
    size_t off = 0;
    for (;;) {
        int len = http_head_parse(p + off, (size_t)head - off, HTTP_RESPONSE, &lim, NULL, &h, NULL);
        if (len <= 0)
            return false;
        if (off + (size_t)len >= (size_t)head)
            break;
        off += (size_t)len;
    }
    struct framing_request facts;
    const struct message *req = &env->ex->req;
    framing_request_facts(message_head_base(req), &req->head, &facts);
    struct framing f;
    framing_response(p + off, &h, &facts, &f, NULL);
    if (!f.keep_alive || f.kind == BODY_CLOSE || f.kind == BODY_TUNNEL)
        return false;
    /* A length that disagrees with the file's body leaves the client out of step. */
    return f.kind != BODY_LENGTH || f.length == n - (size_t)head;
}

struct reply *reply_raw_new(const struct reply_env *env, const uint8_t *raw, size_t n)
{
    struct raw *w = xcalloc(1, sizeof *w);
    w->base.ops = &RAW_OPS;
    w->base.env = *env;
    w->p = raw;
    w->n = n;
    w->head_len = response_head_len(raw, n);
    w->base.close_after = !raw_keeps_alive(env, raw, n, w->head_len);
    return &w->base;
}

struct reply *reply_raw_take(const struct reply_env *env, uint8_t *raw, size_t n)
{
    struct reply *r = reply_raw_new(env, raw, n);
    ((struct raw *)r)->owned = true;
    return r;
}

/* ---- echo ---- */

struct echo {
    struct reply base;
    bool json;
    bool streaming; /* text echo: head sent, body follows as it arrives */
    bool chunked;
    bool bodyless; /* HEAD request or HTTP/0.9 head-only */
    struct dynbuf doc;
    struct membody body;
};

static const char *const ECHO_TEXT[] = {"Content-Type: text/plain; charset=utf-8"};
static const char *const ECHO_JSON[] = {"Content-Type: application/json"};

/* The text echo: the head as received, then the payload as it arrives. */
static void echo_start_text(struct echo *e)
{
    struct reply *r = &e->base;
    const struct message *req = &r->env.ex->req;
    const uint8_t *head = req->raw.data + req->head_off;
    size_t head_len = req->flags & MSG_HEAD ? req->head.len : req->raw.len - req->head_off;
    uint16_t status =
        (req->flags & MSG_HEAD) && http_span_eq(message_head_base(req), req->head.method, "CONNECT")
            ? 405
            : 200;
    uint64_t length = head_len;
    if (r->env.framing.kind == BODY_LENGTH)
        length += r->env.framing.length;
    else if (r->env.framing.kind == BODY_CHUNKED) {
        if (r->env.http11)
            e->chunked = true;
        else
            r->close_after = true;
    }
    if (e->chunked || r->close_after) {
        /* Length unknown up front: chunked for HTTP/1.1, until close for HTTP/1.0. */
        struct response_spec spec = {
            .status = status,
            .headers = ECHO_TEXT,
            .nheaders = 1,
            .date = r->env.date,
            .framing = e->chunked ? RESPONSE_CHUNKED : RESPONSE_CLOSE,
            .close = r->env.close || r->close_after,
        };
        struct dynbuf *h = r->env.scratch;
        dynbuf_reset(h);
        response_head(h, &spec);
        if (!r->env.http09)
            sender_head(r->env.sender, h->data, h->len);
        if (r->env.http09)
            r->close_after = true;
        e->bodyless = false;
    } else {
        e->bodyless = !compose_head(r, status, NULL, ECHO_TEXT, 1, length);
    }
    e->streaming = true;
    if (!e->bodyless)
        e->base.ops->body(r, head, head_len);
}

static void echo_body(struct reply *r, const uint8_t *p, size_t n)
{
    struct echo *e = (struct echo *)r;
    if (!e->streaming || e->bodyless || n == 0)
        return;
    if (e->chunked) {
        char size[24];
        int k = snprintf(size, sizeof size, "%zx\r\n", n);
        sender_body(r->env.sender, (const uint8_t *)size, (size_t)k);
        sender_body(r->env.sender, p, n);
        sender_body(r->env.sender, (const uint8_t *)"\r\n", 2);
    } else {
        sender_body(r->env.sender, p, n);
    }
}

/* The request's chunk extensions and trailer fields, after its payload (only a chunked request
 * has any). */
static void echo_trailer(struct reply *r, const struct message *req)
{
    if (!req->trailer && !req->chunk_ext)
        return;
    struct dynbuf t;
    dynbuf_init(&t, echo_text_trailer_max(req));
    echo_text_trailer(req, &t);
    echo_body(r, t.data, t.len);
    dynbuf_cleanup(&t);
}

static void echo_done(struct reply *r)
{
    struct echo *e = (struct echo *)r;
    const struct exchange *ex = r->env.ex;
    bool complete = ex && (ex->req.flags & MSG_COMPLETE);
    if (e->streaming) {
        if (!complete) {
            r->close_after = true; /* the promised framing cannot be kept */
        } else if (!e->bodyless) {
            echo_trailer(r, &ex->req);
            if (e->chunked)
                sender_body(r->env.sender, (const uint8_t *)"0\r\n\r\n", 5);
        }
        sender_end(r->env.sender);
        return;
    }
    dynbuf_init(&e->doc, (size_t)1 << 30);
    if (ex)
        echo_json(ex, r->env.limits, &e->doc);
    bool body = compose_head(r, 200, NULL, ECHO_JSON, 1, e->doc.len);
    e->body = (struct membody){e->doc.data, body ? e->doc.len : 0, 0, false};
    membody_push(r, &e->body);
}

static void echo_room(struct reply *r)
{
    struct echo *e = (struct echo *)r;
    if (e->body.p || e->body.ended)
        membody_push(r, &e->body);
}

static void echo_free(struct reply *r)
{
    struct echo *e = (struct echo *)r;
    dynbuf_cleanup(&e->doc);
    free(e);
}

static const struct reply_ops ECHO_OPS = {"echo", echo_done, echo_body, echo_room, echo_free};

struct reply *reply_echo_new(const struct reply_env *env)
{
    struct echo *e = xcalloc(1, sizeof *e);
    e->base.ops = &ECHO_OPS;
    e->base.env = *env;
    dynbuf_init(&e->doc, 0);
    e->json = env->ex && (env->ex->req.flags & MSG_HEAD) && echo_wants_json(env->ex);
    if (!e->json && env->ex)
        echo_start_text(e);
    return &e->base;
}
