/* Helpers shared by the unit tests; see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <zlib.h>

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, k;
    uint8_t *buf = malloc(cap + 1);
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *tu_unescape(const char *s, size_t *len)
{
    size_t n = strlen(s), o = 0;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = (uint8_t)s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'r': out[o++] = '\r'; break;
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case '0': out[o++] = 0; break;
        case 'x':
            if (i + 2 < n + 1 && hexdigit(s[i + 1]) >= 0 && hexdigit(s[i + 2]) >= 0) {
                out[o++] = (uint8_t)(hexdigit(s[i + 1]) * 16 + hexdigit(s[i + 2]));
                i += 2;
            }
            break;
        default: out[o++] = (uint8_t)c; break;
        }
    }
    out[o] = 0;
    *len = o;
    return out;
}

const char *tu_corpus(void)
{
    const char *c = getenv("HSPY_CORPUS");
    struct stat st;
    if (!c || stat(c, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return c;
}

const char *tu_path(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* ---- exchanges built by hand ------------------------------------------------------------ */

#include "hspy/chunked.h"
#include "hspy/exchange.h"
#include "hspy/framing.h"

static void tu_warnings(struct exchange *ex, enum side side, uint32_t base,
                        const struct http_warnings *w)
{
    for (uint16_t i = 0; i < w->n; i++)
        exchange_warn(ex, (enum warning_code)w->w[i].code, side, base + (uint64_t)w->w[i].off,
                      NULL);
}

/* Frames the body that starts at m->body_off; sets sizes and completeness. */
static void tu_body(struct message *m, const struct framing *f, const struct http_limits *hl,
                    uint64_t total)
{
    uint64_t avail = total - m->body_off;
    m->body_kind = f->kind;
    m->content_length = f->length;
    switch (f->kind) {
    case BODY_LENGTH:
        m->body_wire = avail < f->length ? avail : f->length;
        m->body_size = m->body_wire;
        if (avail >= f->length)
            m->flags |= MSG_COMPLETE;
        break;
    case BODY_CHUNKED: {
        struct chunked c;
        chunked_init(&c, hl);
        size_t off = 0, kept = m->raw.len - (size_t)m->body_off;
        const uint8_t *p = m->raw.data + m->body_off;
        while (off < kept && c.status == CHUNKED_MORE) {
            struct http_span s;
            size_t k = chunked_step(&c, p + off, kept - off, &s, NULL);
            if (k == 0)
                break;
            off += k;
        }
        m->body_wire = off;
        m->body_size = c.payload;
        m->chunks = c.chunks;
        m->trailer_off = c.trailer_off ? m->body_off + c.trailer_off : 0;
        if (c.status == CHUNKED_DONE)
            m->flags |= MSG_COMPLETE;
        chunked_cleanup(&c);
        break;
    }
    case BODY_CLOSE:
        m->body_wire = m->body_size = avail;
        m->flags |= MSG_COMPLETE;
        break;
    default: m->flags |= MSG_COMPLETE; break;
    }
}

static void tu_side(struct exchange *ex, enum side side, const uint8_t *p, size_t n,
                    const struct http_limits *hl, const struct framing_request *facts)
{
    struct message *m = exchange_msg(ex, side);
    enum http_kind kind = side == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE;
    size_t kept = dynbuf_append(&m->raw, p, n);
    m->wire_bytes = n;
    if (kept < n)
        m->flags |= MSG_TRUNCATED;
    if (n)
        m->flags |= MSG_STARTED;
    if (facts && facts->http09) {
        /* The answer to an HTTP/0.9 request has no head: every byte up to the close is body. */
        m->flags |= MSG_HTTP09;
        tu_body(m, &(struct framing){.kind = BODY_CLOSE}, hl, n);
        return;
    }
    uint32_t off = 0;
    for (;;) {
        struct http_head head;
        memset(&head, 0, sizeof head);
        head.headers = arena_alloc(&ex->arena, hl->headers_max * sizeof *head.headers);
        head.cap = hl->headers_max;
        struct http_warnings w;
        memset(&w, 0, sizeof w);
        int r = http_head_parse(m->raw.data + off, m->raw.len - off, kind, hl, NULL, &head, &w);
        if (r <= 0) {
            m->flags |= MSG_UNPARSED;
            return;
        }
        const uint8_t *base = m->raw.data + off;
        struct framing f;
        if (kind == HTTP_REQUEST)
            framing_request(base, &head, &f, &w);
        else
            framing_response(base, &head, facts, &f, &w);
        tu_warnings(ex, side, off, &w);
        if (f.interim &&
            exchange_add_interim(ex, m, (struct message_interim){off, (uint32_t)r, head.status})) {
            off += (uint32_t)r;
            continue;
        }
        m->head_off = off;
        m->head = head;
        m->flags |= MSG_HEAD;
        if (head.flags & HEAD_HTTP09)
            m->flags |= MSG_HTTP09;
        m->body_off = off + (uint64_t)r;
        tu_body(m, &f, hl, n);
        return;
    }
}

struct exchange *tu_exchange(const uint8_t *req, size_t reqlen, const uint8_t *resp, size_t resplen,
                             const struct exchange_limits *exl, const struct http_limits *hl,
                             int64_t t0)
{
    struct exchange *ex = exchange_new(exl);
    struct framing_request facts;
    memset(&facts, 0, sizeof facts);
    if (req) {
        tu_side(ex, SIDE_CLIENT, req, reqlen, hl, NULL);
        if (ex->req.flags & MSG_HEAD) {
            framing_request_facts(message_head_base(&ex->req), &ex->req.head, &facts);
            facts.present = true;
        }
    }
    if (resp)
        tu_side(ex, SIDE_SERVER, resp, resplen, hl, req ? &facts : NULL);
    if (resp && !req)
        ex->flags |= EX_NO_REQUEST;
    if (t0) {
        static const enum exchange_time PHASES[] = {T_REQ_FIRST,  T_REQ_HEAD,  T_REQ_LAST,
                                                    T_RESP_FIRST, T_RESP_HEAD, T_RESP_LAST};
        for (size_t i = 0; i < sizeof PHASES / sizeof PHASES[0]; i++)
            if ((i < 3 && req) || (i >= 3 && resp))
                ex->t[PHASES[i]] = t0 + (int64_t)(i + 1) * 1000000;
        ex->req.t_first = ex->t[T_REQ_FIRST], ex->req.t_last = ex->t[T_REQ_LAST];
        ex->resp.t_first = ex->t[T_RESP_FIRST], ex->resp.t_last = ex->t[T_RESP_LAST];
    }
    ex->flags |= EX_DONE;
    return ex;
}

struct exchange *tu_exchange_text(const char *req, const char *resp, int64_t t0)
{
    static const struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    static const struct http_limits hl = HTTP_LIMITS_DEFAULT;
    size_t rn = 0, sn = 0;
    uint8_t *r = req ? tu_unescape(req, &rn) : NULL;
    uint8_t *s = resp ? tu_unescape(resp, &sn) : NULL;
    struct exchange *ex = tu_exchange(r, rn, s, sn, &exl, &hl, t0);
    free(r);
    free(s);
    return ex;
}

char *tu_jansson_text(const json_t *v, size_t extra_flags)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | extra_flags);
    assert_non_null(t);
    struct dynbuf b;
    dynbuf_init(&b, 8 * strlen(t) + 16);
    for (const char *p = t; *p; p++)
        if (*p == 0x7f)
            dynbuf_adds(&b, "\\u007F");
        else
            dynbuf_addc(&b, (uint8_t)*p);
    free(t);
    return dynbuf_take(&b);
}

size_t tu_gzip(const char *text, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}
