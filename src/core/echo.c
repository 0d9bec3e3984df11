/*
 * echo owns the JSON form of a request as hspy's echo server answers it. It reads a parsed
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
        strncasecmp((const char *)ct, "application/x-www-form-urlencoded", 33) == 0)
        url_query_each(body->data ? body->data : (const uint8_t *)"", body->len, add_pair, f.form);
    else if (ct && form_boundary(ct, clen, boundary, sizeof boundary) == 0 && body->len)
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
    if (m->flags & MSG_HEAD)
        add_body(root, m, limits);
    int rc = json_dump_callback(root, dump_cb, out, JSON_INDENT(2));
    if (rc == 0)
        rc = dynbuf_addc(out, '\n') == 1 ? 0 : -1;
    json_decref(root);
    return rc;
}

bool echo_wants_json(const struct exchange *ex)
{
    char accept[512];
    if (!message_header_str(&ex->req, "accept", accept, sizeof accept))
        return false;
    for (char *p = accept; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return strstr(accept, "application/json") || strstr(accept, "+json");
}
