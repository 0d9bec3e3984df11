/*
 * url owns the splitting and percent-decoding of request targets and queries. It works on
 * caller buffers only; it knows nothing of files (the static server checks the file system).
 */
#include "hspy/url.h"

#include <string.h>

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void url_split(const uint8_t *t, size_t n, struct url_parts *out)
{
    memset(out, 0, sizeof *out);
    out->path = t;
    const uint8_t *end = t + n;
    const uint8_t *hash = memchr(t, '#', n);
    if (hash)
        end = hash;
    const uint8_t *p = t;
    if (n && t[0] != '/') {
        /* absolute-form: skip "scheme://authority"; "*" and authority-form have no path. */
        const uint8_t *sep = NULL;
        for (const uint8_t *s = t; s + 2 < end; s++) {
            if (s[0] == ':' && s[1] == '/' && s[2] == '/') {
                sep = s + 3;
                break;
            }
            if (s[0] == '/' || s[0] == '?')
                break;
        }
        if (!sep) {
            out->path = t;
            out->path_len = 0;
            return;
        }
        p = sep;
        while (p < end && *p != '/' && *p != '?')
            p++;
    }
    const uint8_t *q = memchr(p, '?', (size_t)(end - p));
    out->path = p;
    out->path_len = (size_t)((q ? q : end) - p);
    if (q) {
        out->query = q + 1;
        out->query_len = (size_t)(end - q - 1);
    }
}

size_t url_decode(const uint8_t *p, size_t n, unsigned flags, struct dynbuf *out)
{
    size_t bad = 0, i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] != '%' && !(p[run] == '+' && (flags & URL_PLUS)))
            run++;
        dynbuf_append(out, p + i, run - i);
        i = run;
        if (i >= n)
            break;
        if (p[i] == '+') {
            dynbuf_addc(out, ' ');
            i++;
            continue;
        }
        int a = i + 1 < n ? hexval(p[i + 1]) : -1;
        int b = i + 2 < n ? hexval(p[i + 2]) : -1;
        if (a < 0 || b < 0) {
            dynbuf_addc(out, '%');
            bad++;
            i++;
            continue;
        }
        dynbuf_addc(out, (uint8_t)(a * 16 + b));
        i += 3;
    }
    return bad;
}

int url_query_each(const uint8_t *q, size_t n,
                   int (*cb)(void *data, const char *name, size_t nlen, const char *value,
                             size_t vlen, bool has_value),
                   void *data)
{
    struct dynbuf name, value;
    dynbuf_init(&name, n + 1);
    dynbuf_init(&value, n + 1);
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        size_t e = i;
        while (e < n && q[e] != '&' && q[e] != ';')
            e++;
        if (e > i) {
            const uint8_t *eq = memchr(q + i, '=', e - i);
            size_t nend = eq ? (size_t)(eq - q) : e;
            dynbuf_reset(&name);
            dynbuf_reset(&value);
            url_decode(q + i, nend - i, URL_PLUS, &name);
            if (eq)
                url_decode(eq + 1, e - nend - 1, URL_PLUS, &value);
            rc = cb(data, dynbuf_str(&name), name.len, dynbuf_str(&value), value.len, eq != NULL);
        }
        i = e + 1;
    }
    dynbuf_cleanup(&name);
    dynbuf_cleanup(&value);
    return rc;
}

enum url_path_result url_path_clean(const uint8_t *path, size_t n, struct dynbuf *out,
                                    bool *dir_slash)
{
    if (n == 0 || path[0] != '/')
        return URL_PATH_INVALID;
    struct dynbuf dec;
    dynbuf_init(&dec, n + 1);
    url_decode(path, n, 0, &dec);
    enum url_path_result rc = URL_PATH_OK;
    if (memchr(dec.data, '\0', dec.len))
        rc = URL_PATH_INVALID;
    *dir_slash = dec.len > 0 && dec.data[dec.len - 1] == '/';
    size_t i = 0;
    while (rc == URL_PATH_OK && i < dec.len) {
        while (i < dec.len && dec.data[i] == '/')
            i++;
        size_t e = i;
        while (e < dec.len && dec.data[e] != '/')
            e++;
        size_t len = e - i;
        const uint8_t *seg = dec.data + i;
        if (len == 2 && seg[0] == '.' && seg[1] == '.')
            rc = URL_PATH_TRAVERSAL;
        else if (len > 0 && !(len == 1 && seg[0] == '.')) {
            if (out->len)
                dynbuf_addc(out, '/');
            dynbuf_append(out, seg, len);
        }
        i = e;
    }
    dynbuf_cleanup(&dec);
    return rc;
}

void url_encode_form(const uint8_t *p, size_t n, struct dynbuf *out)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '*' || c == '-' || c == '.' || c == '_';
        if (keep) {
            dynbuf_addc(out, c);
        } else if (c == ' ') {
            dynbuf_addc(out, '+');
        } else {
            dynbuf_addc(out, '%');
            dynbuf_addc(out, (uint8_t)HEX[c >> 4]);
            dynbuf_addc(out, (uint8_t)HEX[c & 15]);
        }
    }
}

void url_encode_path(const uint8_t *p, size_t n, struct dynbuf *out)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            dynbuf_addc(out, c);
        } else {
            dynbuf_addc(out, '%');
            dynbuf_addc(out, (uint8_t)HEX[c >> 4]);
            dynbuf_addc(out, (uint8_t)HEX[c & 15]);
        }
    }
}
