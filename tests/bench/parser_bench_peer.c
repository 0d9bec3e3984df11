/*
 * parser_bench_peer: the http-parser side of parser_bench, in its own file because
 * http_parser.h and hspy's http.h both name HTTP_REQUEST.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>

size_t peer_run(const char *msg, size_t len, int response, size_t piece);

/* --- http-parser, with callbacks that record what hspy records --- */

struct hp_result {
    const char *url;
    size_t url_len;
    size_t nfields, nvalues;
    const char *field[64], *value[64];
    size_t field_len[64], value_len[64];
    int done;
};

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct hp_result *r = p->data;
    r->url = at;
    r->url_len = n;
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    struct hp_result *r = p->data;
    if (r->nfields < 64) {
        r->field[r->nfields] = at;
        r->field_len[r->nfields++] = n;
    }
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    struct hp_result *r = p->data;
    if (r->nvalues < 64) {
        r->value[r->nvalues] = at;
        r->value_len[r->nvalues++] = n;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct hp_result *r = p->data;
    r->done = 1;
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
};

size_t peer_run(const char *msg, size_t len, int response, size_t piece)
{
    enum http_parser_type type = response ? HTTP_RESPONSE : HTTP_REQUEST;
    http_parser p;
    struct hp_result r;
    r.nfields = r.nvalues = 0;
    r.done = 0;
    http_parser_init(&p, type);
    p.data = &r;
    size_t off = 0;
    while (off < len) {
        size_t n = piece && len - off > piece ? piece : len - off;
        size_t k = http_parser_execute(&p, &SETTINGS, msg + off, n);
        if (k != n || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
            fprintf(stderr, "http-parser failed: %s\n", http_errno_name(HTTP_PARSER_ERRNO(&p)));
            exit(1);
        }
        off += n;
    }
    return r.nfields + (size_t)r.done + (size_t)p.content_length;
}
