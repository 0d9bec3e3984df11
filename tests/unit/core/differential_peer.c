/*
 * differential_peer: Node's original http-parser (Debian's libhttp-parser) as the reference in
 * test_differential. Kept in its own file because http_parser.h and hspy's http.h both define
 * HTTP_REQUEST. Reports each message it parses through a plain struct.
 */
#include "differential_peer.h"

#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

struct peer_state {
    struct peer_result *out;
    struct peer_message *cur;
    int last_was_value;
    int headers_done; /* later field callbacks are trailer fields, not kept */
};

static struct peer_message *current(http_parser *p)
{
    struct peer_state *st = p->data;
    return st->cur;
}

static void append(char *dst, size_t *len, size_t cap, const char *at, size_t n)
{
    if (*len + n > cap)
        n = cap - *len;
    memcpy(dst + *len, at, n);
    *len += n;
}

static int on_begin(http_parser *p)
{
    struct peer_state *st = p->data;
    if (st->out->n >= PEER_MAX_MESSAGES)
        return 1;
    st->cur = &st->out->m[st->out->n++];
    memset(st->cur, 0, sizeof *st->cur);
    st->last_was_value = 1;
    st->headers_done = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct peer_message *m = current(p);
    append(m->url, &m->url_len, sizeof m->url, at, n);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    struct peer_state *st = p->data;
    struct peer_message *m = st->cur;
    if (st->headers_done)
        return 0;
    if (st->last_was_value) {
        if (m->nheaders >= PEER_MAX_HEADERS)
            return 0;
        m->nheaders++;
    }
    st->last_was_value = 0;
    struct peer_header *h = &m->headers[m->nheaders - 1];
    append(h->name, &h->name_len, sizeof h->name, at, n);
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    struct peer_state *st = p->data;
    struct peer_message *m = st->cur;
    st->last_was_value = 1;
    if (m->nheaders == 0 || st->headers_done)
        return 0;
    struct peer_header *h = &m->headers[m->nheaders - 1];
    append(h->value, &h->value_len, sizeof h->value, at, n);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    ((struct peer_state *)p->data)->headers_done = 1;
    struct peer_message *m = current(p);
    m->method = p->type == HTTP_REQUEST ? (int)p->method : -1;
    m->status = p->status_code;
    m->keep_alive = http_should_keep_alive(p);
    m->chunked = (p->flags & F_CHUNKED) != 0;
    m->upgrade = p->upgrade;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct peer_message *m = current(p);
    append(m->body, &m->body_len, sizeof m->body, at, n);
    return 0;
}

static int on_complete(http_parser *p)
{
    current(p)->complete = 1;
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_message_begin = on_begin,
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

int peer_parse(const char *data, size_t len, int response, size_t piece, int at_eof,
               struct peer_result *out)
{
    http_parser p;
    struct peer_state st = {out, NULL, 1, 0};
    out->n = 0;
    http_parser_init(&p, response ? HTTP_RESPONSE : HTTP_REQUEST);
    p.data = &st;
    size_t off = 0;
    while (off < len) {
        size_t n = piece && len - off > piece ? piece : len - off;
        size_t k = http_parser_execute(&p, &SETTINGS, data + off, n);
        if (HTTP_PARSER_ERRNO(&p) != HPE_OK || p.upgrade)
            return HTTP_PARSER_ERRNO(&p) == HPE_OK ? 0 : -1;
        if (k != n)
            return -1;
        off += n;
    }
    if (at_eof)
        http_parser_execute(&p, &SETTINGS, NULL, 0);
    return HTTP_PARSER_ERRNO(&p) == HPE_OK ? 0 : -1;
}

const char *peer_method_name(int method)
{
    return http_method_str((enum http_method)method);
}
