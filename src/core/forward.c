/*
 * forward owns a proxy's decisions about one request head: its destination (from the method
 * and the form of the target) and the few edits made before it goes upstream. It works on a
 * parsed head and its bytes, writes only into the caller's buffers, and never does I/O.
 */
#include "hspy/forward.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/endpoint.h"
#include "hspy/xmalloc.h"

/* ---- routing ---- */

static int refuse(int status, char *why, size_t whylen, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return status;
}

/* Splits an authority ("host", "host:port", "[v6]:port") copied out of the head. */
static int authority(const uint8_t *p, size_t n, uint16_t default_port, struct forward_route *out,
                     char *why, size_t whylen)
{
    char text[FORWARD_HOST_MAX + 16], err[160];
    if (n == 0 || n >= sizeof text)
        return refuse(400, why, whylen, n ? "authority too long" : "empty authority");
    memcpy(text, p, n);
    text[n] = '\0';
    if (hostport_split(text, out->host, sizeof out->host, &out->port, default_port, err,
                       sizeof err) != 0) {
        snprintf(why, whylen, "bad authority: %s", err);
        return 400;
    }
    if (!out->host[0])
        return refuse(400, why, whylen, "authority without a host");
    if (out->port == 0)
        return refuse(400, why, whylen, "port 0 in the authority");
    return 0;
}

static bool scheme_is(const uint8_t *p, size_t n, const char *scheme)
{
    size_t k = strlen(scheme);
    if (n != k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (tolower(p[i]) != scheme[i])
            return false;
    return true;
}

static int absolute(const uint8_t *t, size_t n, struct forward_route *out, char *why, size_t whylen)
{
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 3 <= n; i++)
        if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/') {
            sep = t + i;
            break;
        }
    if (!sep)
        return refuse(400, why, whylen, "target is neither origin-form nor a URL");
    size_t slen = (size_t)(sep - t);
    if (scheme_is(t, slen, "https"))
        return refuse(501, why, whylen,
                      "https:// targets need CONNECT (hspy forwards TLS, never speaks it)");
    if (!scheme_is(t, slen, "http"))
        return refuse(400, why, whylen, "only http:// targets can be forwarded");
    const uint8_t *a = sep + 3, *end = t + n, *e = a;
    while (e < end && *e != '/' && *e != '?' && *e != '#')
        e++;
    /* Userinfo ("user:pass@") is not part of where to connect. */
    for (const uint8_t *q = e; q > a; q--)
        if (q[-1] == '@') {
            a = q;
            break;
        }
    out->kind = FORWARD_ABSOLUTE;
    return authority(a, (size_t)(e - a), 80, out, why, whylen);
}

int forward_route(const uint8_t *base, const struct http_head *h, struct forward_route *out,
                  char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    const uint8_t *t = base + h->target.off;
    size_t n = h->target.len;
    if (http_span_eq(base, h->method, "CONNECT")) {
        out->kind = FORWARD_CONNECT;
        if (n == 0 || t[0] == '/')
            return refuse(400, why, whylen, "CONNECT needs a host:port target");
        return authority(t, n, 0, out, why, whylen);
    }
    if (n > 0 && t[0] != '/' && !(n == 1 && t[0] == '*'))
        return absolute(t, n, out, why, whylen);
    out->kind = FORWARD_UPSTREAM;
    return 0;
}

/* ---- head edits ---- */

struct edit {
    size_t off, del;    /* replace base[off, off + del) */
    const char *text;   /* with these bytes, */
    size_t len;         /* this many; */
    const char *prefix; /* after this fixed text ("" for none) */
    const char *suffix;
    const char *name; /* when set: a new field line "name: text" + eol */
};

/* One edit per Host field at most, plus the target and three additions. */
struct edits {
    struct edit *v;
    size_t n, cap;
    struct edit local[16]; /* enough for ordinary heads; larger ones allocate */
};

static void add_edit(struct edits *es, struct edit e)
{
    assert(es->n < es->cap);
    es->v[es->n++] = e;
}

/* The last header of that name (case-insensitive), or NULL. */
static const struct http_header *last_named(const uint8_t *base, const struct http_head *h,
                                            const char *name)
{
    for (uint32_t i = h->nheaders; i-- > 0;)
        if (http_span_ieq(base, h->headers[i].name, name))
            return &h->headers[i];
    return NULL;
}

static void edit_host(const uint8_t *base, const struct http_head *h, const struct forward_edits *e,
                      size_t end, struct edits *es)
{
    if (!e->host)
        return;
    size_t len = strlen(e->host);
    bool seen = false;
    for (uint32_t i = 0; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        if (hd->field != HF_HOST)
            continue;
        seen = true;
        if (hd->value.len == len && memcmp(base + hd->value.off, e->host, len) == 0)
            continue;
        add_edit(es, (struct edit){hd->value.off, hd->value.len, e->host, len, "", "", NULL});
    }
    if (!seen && e->host_add)
        add_edit(es, (struct edit){end, 0, e->host, len, "", "", "Host"});
}

/* Appends ", text" to the last field of that name, or adds the field. */
static void edit_append(const uint8_t *base, const struct http_head *h, const char *name,
                        const char *text, size_t end, struct edits *es)
{
    if (!text)
        return;
    const struct http_header *hd = last_named(base, h, name);
    size_t len = strlen(text);
    if (hd && hd->value.len)
        add_edit(es, (struct edit){hd->value.off + hd->value.len, 0, text, len, ", ", "", NULL});
    else if (hd)
        add_edit(es, (struct edit){hd->value.off, 0, text, len, "", "", NULL});
    else
        add_edit(es, (struct edit){end, 0, text, len, "", "", name});
}

/* The origin-form of an absolute-form target: "/path?query" ("/" or "*" when empty). */
static void edit_target(const uint8_t *base, const struct http_head *h,
                        const struct forward_edits *e, struct edits *es)
{
    if (!e->origin_form || !(h->flags & HEAD_ABSOLUTE_FORM))
        return;
    const uint8_t *t = base + h->target.off, *end = t + h->target.len, *p = t;
    while (p + 2 < end && !(p[0] == ':' && p[1] == '/' && p[2] == '/'))
        p++;
    p = p + 2 < end ? p + 3 : end;
    while (p < end && *p != '/' && *p != '?' && *p != '#')
        p++;
    const uint8_t *q = p;
    while (q < end && *q != '#')
        q++;
    const char *text = (const char *)p;
    size_t len = (size_t)(q - p), off = h->target.off, del = h->target.len;
    const char *prefix = "";
    if (len == 0 || *p == '?')
        prefix = http_span_eq(base, h->method, "OPTIONS") && len == 0 ? "*" : "/";
    add_edit(es, (struct edit){off, del, text, len, prefix, "", NULL});
}

/*
 * Offset of the head's last line, the empty line (just after the LF before it). It is usually
 * CR LF or LF, but a lenient parser also ends heads on odd lines (a CR and a stray byte).
 */
static size_t empty_line_at(const uint8_t *base, const struct http_head *h)
{
    size_t i = h->len >= 2 ? h->len - 2 : 0;
    while (i > 0 && base[i] != '\n')
        i--;
    return base[i] == '\n' ? i + 1 : h->len;
}

/* Writes the head with the edits (sorted by offset) applied. */
static void apply(const uint8_t *base, const struct http_head *h, size_t end,
                  const struct edits *es, struct dynbuf *out)
{
    /* New lines end in bare LF only in a bare-LF head (an LF empty line after an LF line);
     * CR LF otherwise, which keeps whatever ended the head (an odd lone CR too) an ending. */
    bool bare = h->len - end == 1 && base[end] == '\n' && end >= 2 && base[end - 1] == '\n' &&
                base[end - 2] != '\r';
    const char *nl = bare ? "\n" : "\r\n";
    size_t at = 0;
    for (size_t i = 0; i < es->n; i++) {
        const struct edit *x = &es->v[i];
        dynbuf_append(out, base + at, x->off - at);
        /* Plain appends: this runs for every proxied request. */
        if (x->name) {
            dynbuf_adds(out, x->name);
            dynbuf_adds(out, ": ");
        } else {
            dynbuf_adds(out, x->prefix);
        }
        dynbuf_append(out, x->text, x->len);
        dynbuf_adds(out, x->name ? nl : x->suffix);
        at = x->off + x->del;
    }
    dynbuf_append(out, base + at, h->len - at);
}

bool forward_head(const uint8_t *base, const struct http_head *h, const struct forward_edits *e,
                  struct dynbuf *out)
{
    if (h->flags & HEAD_HTTP09)
        return false;
    size_t end = empty_line_at(base, h); /* new field lines go in front of the empty line */
    struct edits es = {.n = 0, .cap = (size_t)h->nheaders + 4};
    bool local = es.cap <= sizeof es.local / sizeof es.local[0];
    es.v = local ? es.local : xmalloc(es.cap * sizeof *es.v);
    edit_target(base, h, e, &es);
    edit_host(base, h, e, end, &es);
    edit_append(base, h, "X-Forwarded-For", e->xff, end, &es);
    edit_append(base, h, "Forwarded", e->forwarded, end, &es);
    /* Edits come in header order, then additions at the end: sorted by offset already, except
     * that Host rewrites and appends to earlier fields may interleave. */
    for (size_t i = 1; i < es.n; i++)
        for (size_t j = i; j > 0 && es.v[j - 1].off > es.v[j].off; j--) {
            struct edit tmp = es.v[j];
            es.v[j] = es.v[j - 1];
            es.v[j - 1] = tmp;
        }
    bool edited = es.n > 0;
    if (edited)
        apply(base, h, end, &es, out);
    if (!local)
        free(es.v);
    return edited;
}

void forward_element(struct dynbuf *out, const char *addr, const uint8_t *host, size_t hostlen)
{
    if (strchr(addr, ':'))
        dynbuf_printf(out, "for=\"[%s]\"", addr);
    else
        dynbuf_printf(out, "for=%s", addr);
    bool quotable = host && hostlen > 0;
    for (size_t i = 0; quotable && i < hostlen; i++)
        quotable = host[i] >= 0x20 && host[i] < 0x7f;
    if (quotable) {
        dynbuf_adds(out, ";host=\"");
        for (size_t i = 0; i < hostlen; i++) {
            if (host[i] == '"' || host[i] == '\\')
                dynbuf_addc(out, '\\');
            dynbuf_addc(out, host[i]);
        }
        dynbuf_addc(out, '"');
    }
    dynbuf_adds(out, ";proto=http");
}

char *forward_authority(char *buf, size_t len, const char *host, uint16_t port)
{
    bool v6 = strchr(host, ':') != NULL;
    if (port == 80)
        snprintf(buf, len, v6 ? "[%s]" : "%s", host);
    else
        snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", host, port);
    return buf;
}
