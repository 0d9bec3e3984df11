/*
 * echo owns the JSON form of a request as hspy's echo server answers it, and the choice
 * between that form and the text one by the request's Accept fields. It reads a parsed
 * exchange and writes JSON through jansson; it never sends anything and never sees sockets.
 */
#include "hspy/echo.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hspy/base64.h"
#include "hspy/form.h"
#include "hspy/sha256.h"
#include "hspy/url.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

/* A JSON string for bytes: as is when UTF-8, else Latin-1 widened. */
static json_t *text(const uint8_t *p, size_t n)
{
    if (utf8_valid(p, n))
        return json_stringn((const char *)p, n);
    struct dynbuf b;
    dynbuf_init(&b, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            dynbuf_addc(&b, p[i]);
        } else {
            dynbuf_addc(&b, (uint8_t)(0xc0 | (p[i] >> 6)));
            dynbuf_addc(&b, (uint8_t)(0x80 | (p[i] & 0x3f)));
        }
    }
    json_t *s = json_stringn(dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
    return s;
}

static json_t *base64(const uint8_t *p, size_t n)
{
    struct dynbuf b;
    dynbuf_init(&b, base64_encoded_len(n) + 1);
    base64_encode(&b, p, n);
    json_t *s = json_stringn(dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
    return s;
}

/* Adds value under key; a repeated key turns into an array of its values, in order. */
static void add_multi(json_t *obj, const char *key, json_t *value)
{
    if (!key || !value) {
        json_decref(value);
        return;
    }
    json_t *old = json_object_get(obj, key);
    if (!old) {
        json_object_set_new(obj, key, value);
    } else if (json_is_array(old)) {
        json_array_append_new(old, value);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, old);
        json_array_append_new(arr, value);
        json_object_set_new(obj, key, arr);
    }
}

static int add_pair(void *data, const char *name, size_t nlen, const char *value, size_t vlen,
                    bool has_value)
{
    (void)has_value;
    json_t *obj = data;
    json_t *k = text((const uint8_t *)name, nlen);
    add_multi(obj, json_string_value(k), text((const uint8_t *)value, vlen));
    json_decref(k);
    return 0;
}

struct form_out {
    json_t *form, *files;
};

static int add_part(void *data, const struct form_part *part)
{
    struct form_out *f = data;
    json_t *key = text((const uint8_t *)part->name, strlen(part->name));
    const char *name = json_string_value(key);
    if (!part->has_filename) {
        add_multi(f->form, name, text(part->data, part->len));
        json_decref(key);
        return 0;
    }
    json_t *file = json_object();
    json_object_set_new(file, "filename",
                        text((const uint8_t *)part->filename, strlen(part->filename)));
    json_object_set_new(file, "content_type",
                        text((const uint8_t *)part->content_type, strlen(part->content_type)));
    json_object_set_new(file, "size", json_integer((json_int_t)part->len));
    if (utf8_valid(part->data, part->len))
        json_object_set_new(file, "content", json_stringn((const char *)part->data, part->len));
    else
        json_object_set_new(file, "content_base64", base64(part->data, part->len));
    add_multi(f->files, name, file);
    json_decref(key);
    return 0;
}

static void add_headers(json_t *root, const struct message *m)
{
    const uint8_t *base = message_head_base(m);
    json_t *arr = json_array();
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *hd = &m->head.headers[i];
        json_t *pair = json_array();
        json_array_append_new(pair, text(base + hd->name.off, hd->name.len));
        json_array_append_new(pair, text(base + hd->value.off, hd->value.len));
        json_array_append_new(arr, pair);
    }
    json_object_set_new(root, "headers", arr);
    if (m->head.total_headers > m->head.nheaders)
        json_object_set_new(root, "headers_dropped",
                            json_integer(m->head.total_headers - m->head.nheaders));
}

/* "trailers": the fields of a chunked body's trailer section, pairs in the order sent. */
static void add_trailers(json_t *root, const struct message *m)
{
    json_t *arr = json_array();
    struct http_span name, value;
    size_t i = 0;
    while (message_trailer_next(m, &i, &name, &value)) {
        json_t *pair = json_array();
        json_array_append_new(pair, text(m->trailer + name.off, name.len));
        json_array_append_new(pair, text(m->trailer + value.off, value.len));
        json_array_append_new(arr, pair);
    }
    json_object_set_new(root, "trailers", arr);
}

/* "chunk_extensions": the kept extensions of the first size lines that had any, with the chunk
 * each came with; "chunk_extensions_unlisted": how many more lines had some. */
static void add_chunk_ext(json_t *root, const struct message *m)
{
    json_t *arr = json_array();
    size_t pos = 0;
    struct chunked_ext e;
    while (message_chunk_ext_next(m, &pos, &e)) {
        json_t *o = json_object();
        json_object_set_new(o, "chunk", json_integer(e.chunk));
        json_object_set_new(o, "size", json_integer((json_int_t)e.size));
        json_object_set_new(o, "extensions", text(e.ext, e.len));
        json_object_set_new(o, "cut", json_boolean(e.cut));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "chunk_extensions", arr);
    json_object_set_new(root, "chunk_extensions_unlisted",
                        json_integer(message_chunk_ext_unlisted(m)));
}

size_t echo_text_trailer_max(const struct message *m)
{
    return sizeof ECHO_CHUNK_EXT_MARK + MESSAGE_CHUNK_EXT_TEXT_MAX + sizeof ECHO_TRAILER_MARK +
           m->trailer_len + 2;
}

void echo_text_trailer(const struct message *m, struct dynbuf *out)
{
    bool ext = m->chunk_ext != NULL;
    if (ext) {
        dynbuf_adds(out, ECHO_CHUNK_EXT_MARK);
        message_chunk_ext_text(m, "", "\r\n", out);
    }
    if (!m->trailer)
        return;
    /* after the extensions' lines, the mark without the line end it starts with */
    dynbuf_adds(out, ext ? &ECHO_TRAILER_MARK[2] : ECHO_TRAILER_MARK);
    dynbuf_append(out, m->trailer, m->trailer_len);
    if (m->trailer[m->trailer_len - 1] != '\n') /* cut at the head limit */
        dynbuf_adds(out, "\r\n");
}

static void add_target(json_t *root, const struct exchange *ex)
{
    const struct message *m = &ex->req;
    const uint8_t *t = message_at(m, m->head.target);
    struct url_parts u;
    url_split(t, m->head.target.len, &u);
    json_object_set_new(root, "target", text(t, m->head.target.len));
    json_object_set_new(root, "path", text(u.path, u.path_len));
    json_t *args = json_object();
    if (u.query)
        url_query_each(u.query, u.query_len, add_pair, args);
    json_object_set_new(root, "args", args);
    char host[256];
    exchange_host(ex, host, sizeof host);
    if (m->head.flags & HEAD_ABSOLUTE_FORM) {
        json_object_set_new(root, "url", text(t, m->head.target.len));
    } else {
        struct dynbuf url;
        dynbuf_init(&url, (size_t)m->head.target.len + sizeof host + 16);
        dynbuf_printf(&url, "http://%s", host);
        dynbuf_append(&url, t, m->head.target.len);
        json_object_set_new(root, "url", text(url.data, url.len));
        dynbuf_cleanup(&url);
    }
}

static void add_forms(json_t *root, const struct message *m, const struct dynbuf *body)
{
    struct form_out f = {json_object(), json_object()};
    size_t clen;
    const uint8_t *ct = message_header(m, "content-type", &clen);
    char boundary[FORM_BOUNDARY_MAX];
    if (ct && clen >= 33 &&
        strncasecmp((const char *)ct, "application/x-www-form-urlencoded", 33) == 0) {
        const uint8_t *p = body->data ? body->data : (const uint8_t *)"";
        size_t skip = form_urlencoded_skip(p, body->len);
        url_query_each(p + skip, body->len - skip, add_pair, f.form);
    } else if (ct && form_boundary(ct, clen, boundary, sizeof boundary) == 0 && body->len)
        form_multipart_each(body->data, body->len, boundary, add_part, &f);
    json_object_set_new(root, "form", f.form);
    json_object_set_new(root, "files", f.files);
}

static void add_body(json_t *root, const struct message *m, const struct http_limits *limits)
{
    struct dynbuf body;
    dynbuf_init(&body, m->raw.len + 1);
    bool whole = message_body(m, &body, limits);
    const uint8_t *p = body.data ? body.data : (const uint8_t *)"";
    if (utf8_valid(p, body.len))
        json_object_set_new(root, "body", json_stringn((const char *)p, body.len));
    else
        json_object_set_new(root, "body_base64", base64(p, body.len));
    json_object_set_new(root, "body_size", json_integer((json_int_t)m->body_size));
    json_object_set_new(root, "body_truncated", json_boolean(!whole));
    uint8_t sum[SHA256_DIGEST_LEN];
    if (message_sha256(m, sum)) {
        char hex[SHA256_HEX_SIZE];
        sha256_hex(sum, hex);
        json_object_set_new(root, "body_sha256", json_string(hex));
    }
    add_forms(root, m, &body);
    json_t *parsed = NULL;
    if (whole && body.len)
        parsed = json_loadb((const char *)p, body.len, JSON_DECODE_ANY, NULL);
    json_object_set_new(root, "json", parsed ? parsed : json_null());
    dynbuf_cleanup(&body);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    return dynbuf_append(data, buf, size) == size ? 0 : -1;
}

int echo_json(const struct exchange *ex, const struct http_limits *limits, struct dynbuf *out)
{
    const struct message *m = &ex->req;
    json_t *root = json_object();
    if (m->flags & MSG_HEAD) {
        json_object_set_new(root, "method",
                            text(message_at(m, m->head.method), m->head.method.len));
        add_target(root, ex);
        json_object_set_new(root, "http_version",
                            text(message_at(m, m->head.version), m->head.version.len));
        add_headers(root, m);
    }
    char addr[ENDPOINT_STRLEN];
    json_object_set_new(root, "origin",
                        json_string(endpoint_format_addr(&ex->client, addr, sizeof addr)));
    json_object_set_new(root, "client",
                        json_string(endpoint_format(&ex->client, addr, sizeof addr)));
    if (m->flags & MSG_HEAD) {
        add_body(root, m, limits);
        add_trailers(root, m);
        add_chunk_ext(root, m);
    }
    int rc = json_dump_callback(root, dump_cb, out, JSON_INDENT(2));
    if (rc == 0)
        rc = dynbuf_addc(out, '\n') == 1 ? 0 : -1;
    json_decref(root);
    return rc;
}

/* ---- content negotiation (RFC 9110 12.4.2, 12.5.1) --------------------------------------- */

/* How specifically a media range names a form: the most specific match sets its weight. */
enum {
    SPEC_NONE = -1, /* no range matched: not acceptable */
    SPEC_ANY,       /* the full wildcard */
    SPEC_TYPE,      /* the text/ or application/ wildcard */
    SPEC_SUFFIX,    /* a +json type (RFC 6839 structured syntax suffix) */
    SPEC_EXACT,     /* text/plain, application/json */
};

enum { Q_ONE = 1000 }; /* weights in thousandths: a qvalue has at most three decimals */

struct ranking {
    int spec[2];   /* per enum echo_form */
    unsigned q[2]; /* per enum echo_form, meaningful when spec != SPEC_NONE */
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
    while (*n && is_ows(**p))
        (*p)++, (*n)--;
    while (*n && is_ows((*p)[*n - 1]))
        (*n)--;
}

/* Bytes before the first stop outside a quoted string (RFC 9110 5.6.4), or n. */
static size_t until(const char *p, size_t n, char stop)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (quoted && p[i] == '\\')
            i++;
        else if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == stop)
            return i;
    }
    return n;
}

static bool ci_equal(const char *p, size_t n, const char *word)
{
    return n == strlen(word) && strncasecmp(p, word, n) == 0;
}

/* A qvalue in thousandths, or -1: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]. */
static int qvalue(const char *p, size_t n)
{
    if (n == 0 || n > 5 || (p[0] != '0' && p[0] != '1') || (n > 1 && p[1] != '.'))
        return -1;
    unsigned q = (unsigned)(p[0] - '0') * Q_ONE, scale = Q_ONE / 10;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (unsigned)(p[i] - '0') * scale;
    }
    return q > Q_ONE ? -1 : (int)q;
}

/* The weight of one element's parameters p[0..n) (after the media range): Q_ONE without a q,
 * -1 when the q is malformed. */
static int element_weight(const char *p, size_t n)
{
    int q = Q_ONE;
    while (n) {
        size_t k = until(p, n, ';');
        const char *param = p, *eq = memchr(p, '=', k);
        p += k < n ? k + 1 : k, n -= k < n ? k + 1 : k;
        if (!eq)
            continue;
        const char *name = param, *value = eq + 1;
        size_t nl = (size_t)(eq - param), vl = k - nl - 1;
        trim(&name, &nl);
        trim(&value, &vl);
        if (ci_equal(name, nl, "q"))
            q = qvalue(value, vl);
    }
    return q;
}

/* How specifically type/sub (both trimmed) names each form. */
static void range_spec(const char *type, size_t tl, const char *sub, size_t sl, int spec[2])
{
    bool any_sub = ci_equal(sub, sl, "*");
    spec[ECHO_FORM_TEXT] = spec[ECHO_FORM_JSON] = SPEC_NONE;
    if (ci_equal(type, tl, "*") && any_sub) {
        spec[ECHO_FORM_TEXT] = spec[ECHO_FORM_JSON] = SPEC_ANY;
        return;
    }
    if (ci_equal(type, tl, "text"))
        spec[ECHO_FORM_TEXT] = any_sub                      ? SPEC_TYPE
                               : ci_equal(sub, sl, "plain") ? SPEC_EXACT
                                                            : SPEC_NONE;
    if (ci_equal(type, tl, "application"))
        spec[ECHO_FORM_JSON] = any_sub                     ? SPEC_TYPE
                               : ci_equal(sub, sl, "json") ? SPEC_EXACT
                                                           : SPEC_NONE;
    if (sl > 5 && ci_equal(sub + sl - 5, 5, "+json"))
        spec[ECHO_FORM_JSON] = SPEC_SUFFIX;
}

/* Ranks both forms by one list element p[0..n): media-range *( OWS ";" OWS parameter ). */
static void rank_element(struct ranking *r, const char *p, size_t n)
{
    size_t k = until(p, n, ';');
    const char *range = p, *slash = memchr(p, '/', k);
    if (!slash)
        return; /* not a media range */
    const char *type = range, *sub = slash + 1;
    size_t tl = (size_t)(slash - range), sl = k - tl - 1;
    trim(&type, &tl);
    trim(&sub, &sl);
    if (!tl || !sl)
        return;
    int q = element_weight(p + k, n - k);
    if (q < 0)
        return; /* a weight that cannot be read says nothing */
    int spec[2];
    range_spec(type, tl, sub, sl, spec);
    for (int f = 0; f < 2; f++) {
        if (spec[f] == SPEC_NONE || spec[f] < r->spec[f])
            continue;
        if (spec[f] > r->spec[f] || (unsigned)q > r->q[f])
            r->q[f] = (unsigned)q;
        r->spec[f] = spec[f];
    }
}

/* Ranks both forms by an Accept field value: a comma-separated list, empty elements allowed. */
static void rank_list(struct ranking *r, const char *p, size_t n)
{
    while (n) {
        size_t k = until(p, n, ',');
        const char *e = p;
        size_t el = k;
        trim(&e, &el);
        if (el)
            rank_element(r, e, el);
        p += k < n ? k + 1 : k, n -= k < n ? k + 1 : k;
    }
}

static enum echo_form decide(const struct ranking *r)
{
    unsigned qt = r->spec[ECHO_FORM_TEXT] == SPEC_NONE ? 0 : r->q[ECHO_FORM_TEXT];
    unsigned qj = r->spec[ECHO_FORM_JSON] == SPEC_NONE ? 0 : r->q[ECHO_FORM_JSON];
    if (qj != qt)
        return qj > qt ? ECHO_FORM_JSON : ECHO_FORM_TEXT;
    /* A tie (neither acceptable included): JSON only when a range names it, as before
     * q-values were read; text is the echo's own form. */
    return qj && r->spec[ECHO_FORM_JSON] >= SPEC_SUFFIX ? ECHO_FORM_JSON : ECHO_FORM_TEXT;
}

static void ranking_init(struct ranking *r)
{
    r->spec[ECHO_FORM_TEXT] = r->spec[ECHO_FORM_JSON] = SPEC_NONE;
    r->q[ECHO_FORM_TEXT] = r->q[ECHO_FORM_JSON] = 0;
}

enum echo_form echo_negotiate(const char *accept, size_t len)
{
    struct ranking r;
    ranking_init(&r);
    rank_list(&r, accept, len);
    return decide(&r);
}

bool echo_wants_json(const struct exchange *ex)
{
    const struct message *m = &ex->req;
    const uint8_t *base = message_head_base(m);
    if (!base)
        return false;
    /* Several Accept field lines are one list (RFC 9110 5.3): rank them together. */
    struct ranking r;
    ranking_init(&r);
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        if (ci_equal((const char *)base + h->name.off, h->name.len, "accept"))
            rank_list(&r, (const char *)base + h->value.off, h->value.len);
    }
    return decide(&r) == ECHO_FORM_JSON;
}
