/*
 * cgi owns the CGI/1.1 conventions: command words, meta-variables and output headers. It never
 * starts a process (the exec module does) and never passes request data to a shell.
 */
#include "hspy/cgi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hspy/dynbuf.h"
#include "hspy/url.h"
#include "hspy/xmalloc.h"

void cgi_free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static void push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

char **cgi_split(const char *cmd, char *err, size_t errlen)
{
    char **v = NULL;
    size_t n = 0;
    struct dynbuf w;
    dynbuf_init(&w, strlen(cmd) + 1);
    const char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        dynbuf_reset(&w);
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
            if (quote == '\'') {
                if (*p == '\'')
                    quote = 0;
                else
                    dynbuf_addc(&w, (uint8_t)*p);
            } else if (*p == '\\' && p[1]) {
                dynbuf_addc(&w, (uint8_t) * ++p);
            } else if (quote == '"' && *p == '"') {
                quote = 0;
            } else if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p;
            } else {
                dynbuf_addc(&w, (uint8_t)*p);
            }
        }
        if (quote) {
            snprintf(err, errlen, "unterminated %c quote in command", quote);
            cgi_free_strv(v);
            dynbuf_cleanup(&w);
            return NULL;
        }
        if (n >= CGI_ARGS_MAX) {
            snprintf(err, errlen, "more than %d words in command", CGI_ARGS_MAX);
            cgi_free_strv(v);
            dynbuf_cleanup(&w);
            return NULL;
        }
        push(&v, &n, xstrdup(dynbuf_str(&w)));
    }
    dynbuf_cleanup(&w);
    if (n == 0) {
        snprintf(err, errlen, "empty command");
        return NULL;
    }
    return v;
}

/* Appends "NAME=value" with the value's bytes made safe for an environment string. */
static void add_var(char ***v, size_t *n, const char *name, const uint8_t *val, size_t len)
{
    struct dynbuf b;
    dynbuf_init(&b, strlen(name) + len + 2);
    dynbuf_adds(&b, name);
    dynbuf_addc(&b, '=');
    for (size_t i = 0; i < len; i++) {
        uint8_t c = val[i];
        /* NUL cannot be in an environment string; folded lines become spaces. */
        dynbuf_addc(&b, c == '\0' || c == '\r' || c == '\n' ? ' ' : c);
    }
    push(v, n, dynbuf_take(&b));
}

static void add_str(char ***v, size_t *n, const char *name, const char *val)
{
    add_var(v, n, name, (const uint8_t *)val, strlen(val));
}

/* "HTTP_" + the name upper-cased with '-' as '_'; false for names CGI cannot carry safely. */
static bool meta_name(const uint8_t *name, size_t len, char *out, size_t outlen)
{
    if (len == 0 || len + 6 > outlen)
        return false;
    memcpy(out, "HTTP_", 5);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = name[i];
        if (c == '-')
            out[5 + i] = '_';
        else if (isalnum(c))
            out[5 + i] = (char)toupper(c);
        else
            return false;
    }
    out[5 + len] = '\0';
    return strcmp(out, "HTTP_PROXY") != 0 && strcmp(out, "HTTP_CONTENT_TYPE") != 0 &&
           strcmp(out, "HTTP_CONTENT_LENGTH") != 0;
}

static void add_headers(char ***v, size_t *n, const struct message *m)
{
    const uint8_t *base = message_head_base(m);
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *hd = &m->head.headers[i];
        char name[300];
        if (!meta_name(base + hd->name.off, hd->name.len, name, sizeof name))
            continue;
        bool seen = false;
        for (uint32_t k = 0; k < i && !seen; k++)
            seen = m->head.headers[k].name.len == hd->name.len &&
                   strncasecmp((const char *)base + m->head.headers[k].name.off,
                               (const char *)base + hd->name.off, hd->name.len) == 0;
        if (seen)
            continue;
        /* Repeated fields are joined with ", " (RFC 3875 section 4.1.18). */
        struct dynbuf val;
        dynbuf_init(&val, m->raw.len + 1);
        for (uint32_t k = i; k < m->head.nheaders; k++) {
            const struct http_header *h2 = &m->head.headers[k];
            if (h2->name.len != hd->name.len ||
                strncasecmp((const char *)base + h2->name.off, (const char *)base + hd->name.off,
                            hd->name.len) != 0)
                continue;
            if (val.len)
                dynbuf_adds(&val, ", ");
            dynbuf_append(&val, base + h2->value.off, h2->value.len);
        }
        add_var(v, n, name, val.data ? val.data : (const uint8_t *)"", val.len);
        dynbuf_cleanup(&val);
    }
}

static void add_request(char ***v, size_t *n, const struct exchange *ex, const struct framing *f)
{
    const struct message *m = &ex->req;
    char buf[ENDPOINT_STRLEN];
    add_var(v, n, "REQUEST_METHOD", message_at(m, m->head.method), m->head.method.len);
    const uint8_t *t = message_at(m, m->head.target);
    add_var(v, n, "REQUEST_URI", t, m->head.target.len);
    struct url_parts u;
    url_split(t, m->head.target.len, &u);
    struct dynbuf path;
    dynbuf_init(&path, u.path_len + 1);
    url_decode(u.path, u.path_len, 0, &path);
    add_var(v, n, "PATH_INFO", path.data ? path.data : (const uint8_t *)"", path.len);
    dynbuf_cleanup(&path);
    add_var(v, n, "QUERY_STRING", u.query ? u.query : (const uint8_t *)"", u.query_len);
    if (m->head.version.len)
        add_var(v, n, "SERVER_PROTOCOL", message_at(m, m->head.version), m->head.version.len);
    else
        add_str(v, n, "SERVER_PROTOCOL", "HTTP/0.9");
    add_str(v, n, "REMOTE_ADDR", endpoint_format_addr(&ex->client, buf, sizeof buf));
    add_str(v, n, "REMOTE_HOST", buf);
    snprintf(buf, sizeof buf, "%u", ex->client.port);
    add_str(v, n, "REMOTE_PORT", buf);
    snprintf(buf, sizeof buf, "%u", ex->server.port);
    add_str(v, n, "SERVER_PORT", buf);
    char host[256];
    size_t hlen;
    const uint8_t *h = message_header(m, "host", &hlen);
    if (h && hlen && hlen < sizeof host) {
        /* SERVER_NAME is the host without its port ("[::1]" keeps its brackets). */
        size_t e = hlen;
        const uint8_t *colon = memchr(h, ':', hlen);
        if (h[0] == '[') {
            const uint8_t *close = memchr(h, ']', hlen);
            e = close ? (size_t)(close - h) + 1 : hlen;
        } else if (colon) {
            e = (size_t)(colon - h);
        }
        add_var(v, n, "SERVER_NAME", h, e);
    } else {
        add_str(v, n, "SERVER_NAME", endpoint_format_addr(&ex->server, host, sizeof host));
    }
    size_t clen;
    const uint8_t *ct = message_header(m, "content-type", &clen);
    if (ct)
        add_var(v, n, "CONTENT_TYPE", ct, clen);
    if (f->kind == BODY_LENGTH) {
        char len[32];
        snprintf(len, sizeof len, "%llu", (unsigned long long)f->length);
        add_str(v, n, "CONTENT_LENGTH", len);
    }
}

char **cgi_env(const struct exchange *ex, const struct framing *framing,
               const struct cgi_server *srv)
{
    char **v = NULL;
    size_t n = 0;
    push(&v, &n, xstrdup("GATEWAY_INTERFACE=CGI/1.1"));
    add_str(&v, &n, "SERVER_SOFTWARE", srv->software);
    add_str(&v, &n, "SCRIPT_NAME", "");
    if (srv->path)
        add_str(&v, &n, "PATH", srv->path);
    if (ex->req.flags & MSG_HEAD) {
        add_request(&v, &n, ex, framing);
        add_headers(&v, &n, &ex->req);
    }
    return v;
}

static bool header_line(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (isalnum(p[i]) || strchr("!#$%&'*+-.^_`|~", p[i])))
        i++;
    return i > 0 && i < n && p[i] == ':';
}

enum cgi_kind cgi_classify(const uint8_t *p, size_t n, bool eof, size_t *head_len)
{
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
        return CGI_NPH;
    if (n < 5 && memcmp(p, "HTTP/", n) == 0 && !eof && n > 0)
        return CGI_MORE;
    const uint8_t *lf = memchr(p, '\n', n < CGI_HEAD_MAX ? n : CGI_HEAD_MAX);
    size_t first = lf ? (size_t)(lf - p) : n;
    if (!lf && !eof && n < CGI_HEAD_MAX)
        return n == 0 || header_line(p, n) || memchr(p, ':', n) == NULL ? CGI_MORE : CGI_BODY;
    if (!header_line(p, first))
        return CGI_BODY;
    /* Header mode: find the empty line (LF LF or CRLF CRLF, mixed allowed). */
    size_t lim = n < CGI_HEAD_MAX ? n : CGI_HEAD_MAX;
    for (size_t i = 0; i < lim; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < n && p[i + 1] == '\n') {
            *head_len = i + 2;
            return CGI_HEADERS;
        }
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
            *head_len = i + 3;
            return CGI_HEADERS;
        }
    }
    if (n >= CGI_HEAD_MAX)
        return CGI_INVALID;
    if (eof) {
        *head_len = n; /* headers and no body */
        return CGI_HEADERS;
    }
    return CGI_MORE;
}

void cgi_reply_parse(const uint8_t *p, size_t head_len, struct cgi_reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    size_t i = 0, n = 0;
    bool status_set = false, location = false;
    while (i < head_len) {
        const uint8_t *lf = memchr(p + i, '\n', head_len - i);
        size_t e = lf ? (size_t)(lf - p) : head_len;
        size_t le = e > i && p[e - 1] == '\r' ? e - 1 : e;
        const uint8_t *colon = memchr(p + i, ':', le - i);
        if (colon) {
            size_t nlen = (size_t)(colon - (p + i));
            const uint8_t *v = colon + 1;
            while (v < p + le && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(p + le - v);
            if (nlen == 6 && strncasecmp((const char *)p + i, "status", 6) == 0) {
                unsigned code = 0;
                int used = 0;
                char tmp[160];
                snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 150 ? vlen : 150), v);
                if (sscanf(tmp, "%3u%n", &code, &used) == 1 && code >= 100 && code <= 999) {
                    r->status = (uint16_t)code;
                    status_set = true;
                    const char *rs = tmp + used;
                    while (*rs == ' ')
                        rs++;
                    snprintf(r->reason, sizeof r->reason, "%s", rs);
                }
            } else {
                location |= nlen == 8 && strncasecmp((const char *)p + i, "location", 8) == 0;
                r->has_length |=
                    nlen == 14 && strncasecmp((const char *)p + i, "content-length", 14) == 0;
                r->has_type |=
                    nlen == 12 && strncasecmp((const char *)p + i, "content-type", 12) == 0;
                r->chunked |=
                    nlen == 17 && strncasecmp((const char *)p + i, "transfer-encoding", 17) == 0;
                push(&r->headers, &n, xstrndup((const char *)p + i, le - i));
            }
        }
        i = e + 1;
    }
    r->nheaders = n;
    if (location && !status_set)
        r->status = 302;
}

void cgi_reply_cleanup(struct cgi_reply *r)
{
    cgi_free_strv(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}
