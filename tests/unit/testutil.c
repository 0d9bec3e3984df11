/* Helpers shared by the unit tests; see testutil.h. */
#include "testutil.h"

#include "hspy/chunked.h"
#include "hspy/exchange.h"
#include "hspy/framing.h"
#include "hspy/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Parses the message already in m->raw as the conversation engine would. */
static void tu_fill(struct exchange *ex, enum side side, const struct framing_request *facts)
{
    struct message *m = exchange_msg(ex, side);
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    struct http_warnings w = {0};
    enum { CAP = 64 };
    m->flags |= MSG_STARTED;
    m->head.headers = arena_alloc(&ex->arena, CAP * sizeof *m->head.headers);
    m->head.cap = CAP;
    int rc =
        http_head_parse(m->raw.data, m->raw.len, side == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE,
                        &lim, NULL, &m->head, &w);
    if (rc <= 0) {
        m->flags |= MSG_UNPARSED;
        return;
    }
    struct framing fr;
    if (side == SIDE_CLIENT)
        framing_request(m->raw.data, &m->head, &fr, &w);
    else
        framing_response(m->raw.data, &m->head, facts, &fr, &w);
    m->flags |= MSG_HEAD;
    m->body_off = (uint64_t)rc;
    m->body_kind = fr.kind;
    m->content_length = fr.length;
    size_t avail = m->raw.len - (size_t)rc;
    m->body_wire = avail;
    if (fr.kind == BODY_LENGTH) {
        m->body_size = avail < fr.length ? avail : fr.length;
        if (avail >= fr.length)
            m->flags |= MSG_COMPLETE;
    } else if (fr.kind == BODY_CHUNKED) {
        struct dynbuf out;
        size_t used;
        dynbuf_init(&out, m->raw.len + 1);
        if (chunked_decode_all(m->raw.data + rc, avail, &out, &used, &lim) == CHUNKED_DONE)
            m->flags |= MSG_COMPLETE;
        m->body_size = out.len;
        dynbuf_cleanup(&out);
    } else {
        m->body_size = fr.kind == BODY_CLOSE ? avail : 0;
        m->flags |= MSG_COMPLETE;
    }
    for (uint16_t i = 0; i < w.n; i++)
        exchange_warn(ex, (enum warning_code)w.w[i].code, side, w.w[i].off, NULL);
}

struct exchange *tu_exchange(const char *req, const char *resp)
{
    static const struct exchange_limits limits = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    struct exchange *ex = exchange_new(&limits);
    struct framing_request facts = {0};
    const char *text[2] = {req, resp};
    for (int s = 0; s < 2; s++) {
        if (!text[s])
            continue;
        size_t n;
        uint8_t *bytes = tu_unescape(text[s], &n);
        struct message *m = exchange_msg(ex, (enum side)s);
        dynbuf_append(&m->raw, bytes, n);
        m->wire_bytes = n;
        free(bytes);
        tu_fill(ex, (enum side)s, &facts);
        if (s == 0 && (m->flags & MSG_HEAD))
            framing_request_facts(m->raw.data, &m->head, &facts);
    }
    if ((ex->req.flags & MSG_COMPLETE) && (ex->resp.flags & MSG_COMPLETE))
        ex->flags |= EX_DONE;
    return ex;
}
