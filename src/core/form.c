/*
 * form owns the parsing of multipart/form-data bodies: delimiters, part headers and the
 * Content-Disposition parameters. It copies nothing but short parameter strings and never
 * decodes content transfer encodings (RFC 7578 deprecates them).
 */
#include "hspy/form.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const uint8_t *find(const uint8_t *h, size_t hn, const uint8_t *needle, size_t nn)
{
    if (nn == 0 || hn < nn)
        return NULL;
    const uint8_t *end = h + hn - nn;
    for (const uint8_t *p = h; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, nn) == 0)
            return p;
    }
    return NULL;
}

/*
 * Reads the parameter key (case-insensitive) of a "type; a=b; key="v"" value into out.
 * Returns 0 when found.
 */
static int param(const uint8_t *v, size_t n, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key), i = 0;
    while (i < n) {
        const uint8_t *semi = memchr(v + i, ';', n - i);
        if (!semi)
            return -1;
        i = (size_t)(semi - v) + 1;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (n - i <= klen || strncasecmp((const char *)v + i, key, klen) != 0 || v[i + klen] != '=')
            continue;
        i += klen + 1;
        size_t o = 0;
        if (i < n && v[i] == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                if (o + 1 < outlen)
                    out[o++] = (char)v[i];
            }
        } else {
            for (; i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t'; i++)
                if (o + 1 < outlen)
                    out[o++] = (char)v[i];
        }
        out[o] = '\0';
        return 0;
    }
    return -1;
}

size_t form_urlencoded_skip(const uint8_t *p, size_t n)
{
    static const uint8_t BOM[3] = {0xef, 0xbb, 0xbf};
    return n >= sizeof BOM && memcmp(p, BOM, sizeof BOM) == 0 ? sizeof BOM : 0;
}

int form_boundary(const uint8_t *ctype, size_t n, char *out, size_t outlen)
{
    if (n < 10 || strncasecmp((const char *)ctype, "multipart/", 10) != 0)
        return -1;
    char b[FORM_BOUNDARY_MAX + 8];
    if (param(ctype, n, "boundary", b, sizeof b) != 0)
        return -1;
    size_t len = strlen(b);
    if (len == 0 || len > FORM_BOUNDARY_MAX - 1 || len >= outlen)
        return -1;
    memcpy(out, b, len + 1);
    return 0;
}

static void copy_value(const uint8_t *v, size_t n, char *out, size_t outlen)
{
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

/* Reads the part headers in [p, end) (without the blank line). */
static void part_headers(const uint8_t *p, const uint8_t *end, struct form_part *part)
{
    while (p < end) {
        const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = eol ? eol : end;
        const uint8_t *ve = le > p && le[-1] == '\r' ? le - 1 : le;
        const uint8_t *colon = memchr(p, ':', (size_t)(ve - p));
        if (colon) {
            const uint8_t *v = colon + 1;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            size_t nlen = (size_t)(colon - p), vlen = (size_t)(ve - v);
            if (nlen == 19 && strncasecmp((const char *)p, "content-disposition", 19) == 0) {
                param(v, vlen, "name", part->name, sizeof part->name);
                part->has_filename =
                    param(v, vlen, "filename", part->filename, sizeof part->filename) == 0;
            } else if (nlen == 12 && strncasecmp((const char *)p, "content-type", 12) == 0) {
                copy_value(v, vlen, part->content_type, sizeof part->content_type);
            }
        }
        p = le + 1;
    }
}

enum form_result form_multipart_each(const uint8_t *body, size_t n, const char *boundary,
                                     int (*cb)(void *data, const struct form_part *part),
                                     void *data)
{
    uint8_t delim[FORM_BOUNDARY_MAX + 8];
    size_t blen = strlen(boundary);
    if (blen == 0 || blen >= FORM_BOUNDARY_MAX)
        return FORM_MALFORMED;
    /* Every delimiter after the first is preceded by CRLF, which belongs to it. */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const uint8_t *end = body + n;
    const uint8_t *p;
    if (n >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else {
        p = find(body, n, delim, dlen);
        if (!p)
            return FORM_MALFORMED;
        p += dlen;
    }
    for (;;) {
        /* After a delimiter: "--" closes, otherwise optional whitespace then CRLF. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return FORM_OK;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            p += 2;
        else if (p < end && *p == '\n')
            p++;
        else
            return FORM_MALFORMED;
        const uint8_t *next = find(p, (size_t)(end - p), delim, dlen);
        if (!next)
            return FORM_MALFORMED;
        struct form_part part;
        memset(&part, 0, sizeof part);
        const uint8_t *hend = find(p, (size_t)(next - p), (const uint8_t *)"\r\n\r\n", 4);
        if (next - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            part.data = p + 2; /* no headers at all */
        } else if (hend) {
            part_headers(p, hend, &part);
            part.data = hend + 4;
        } else {
            part_headers(p, next, &part);
            part.data = next;
        }
        part.len = (size_t)(next - part.data);
        if (cb(data, &part) != 0)
            return FORM_OK;
        p = next + dlen;
    }
}
