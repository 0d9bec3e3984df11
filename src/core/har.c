/*
 * har owns the mapping from exchanges to HAR 1.2 (standard fields plus the "_hspy" custom
 * fields documented in docs/har.md) and the text framing of a streamed document. Each entry is
 * described once, as calls on a jsonwrite: streamed entries go straight to text (no jansson tree
 * per entry; building, hashing and freeing one cost several times the writing), and the same
 * calls give a jansson value where one is wanted. It writes only into the writer and the
 * caller's buffers; it never opens or writes files (the sinks do) and never changes an exchange.
 */
#include "hspy/har.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hspy/decode.h"
#include "hspy/form.h"
#include "hspy/framing.h"
#include "hspy/jsonwrite.h"
#include "hspy/url.h"
#include "hspy/utf8.h"

/* Cookies listed per message; more are left in the headers only. */
enum { HAR_COOKIES_MAX = 256 };
/* Query parameters listed per request; the URL still holds all of them. */
enum { HAR_QUERY_MAX = 1024 };
/* Form fields listed in postData.params; its text still holds all of them. */
enum { HAR_PARAMS_MAX = 1024 };

/* HAR fields are strings: bytes that are not UTF-8 become U+FFFD (the raw bytes are in _hspy). */
static void text(struct jsonwrite *w, const uint8_t *p, size_t n)
{
    jsonwrite_lossy(w, n ? (const char *)p : "", n);
}

static void text_s(struct jsonwrite *w, const char *s)
{
    if (s)
        jsonwrite_lossy(w, s, strlen(s));
    else
        jsonwrite_null(w);
}

static void span_text(struct jsonwrite *w, const struct message *m, struct http_span s)
{
    if (m->flags & MSG_HEAD)
        text(w, message_at(m, s), s.len);
    else
        jsonwrite_string(w, "", 0);
}

/* An empty object ("cache", "pageTimings"). */
static void empty_object(struct jsonwrite *w)
{
    jsonwrite_begin_object(w);
    jsonwrite_end(w);
}

static void write_creator(struct jsonwrite *w)
{
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "name");
    jsonwrite_cstring(w, "hspy");
    jsonwrite_name(w, "version");
    jsonwrite_cstring(w, HSPY_VERSION);
    jsonwrite_end(w);
}

json_t *har_creator(void)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    write_creator(&w);
    return jsonwrite_take_all(&w);
}

json_t *har_page(const char *id, const char *title, int64_t started_ns)
{
    char iso[40];
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonwrite_begin_object(&w);
    jsonwrite_name(&w, "startedDateTime");
    jsonwrite_cstring(&w, jsonout_iso8601(iso, sizeof iso, started_ns, 3));
    jsonwrite_name(&w, "id");
    text_s(&w, id);
    jsonwrite_name(&w, "title");
    text_s(&w, title ? title : "");
    jsonwrite_name(&w, "pageTimings");
    empty_object(&w);
    jsonwrite_end(&w);
    return jsonwrite_take_all(&w);
}

/* ---- URL and query ------------------------------------------------------------------------ */

/* Characters that may stand for themselves in the host and in the path/query of a URI. */
static bool uri_char(uint8_t c, bool host)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (strchr("-._~!$&'()*+,;=:", c) && c)
        return true;
    return host ? (c == '[' || c == ']') : (c == '/' || c == '?' || c == '@');
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Appends p[0..n) to a URL, percent-encoding what may not appear there (valid %XX stays). */
static void url_append(struct dynbuf *out, const uint8_t *p, size_t n, bool host)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool escape = c == '%' && i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2]);
        if (escape || (c != '%' && uri_char(c, host)))
            dynbuf_addc(out, c);
        else
            dynbuf_printf(out, "%%%c%c", HEX[c >> 4], HEX[c & 15]);
    }
}

/* The authority of an absolute-form target ends at the first '/', '?' or '#'. */
static size_t authority_len(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#')
        i++;
    return i;
}

static void url_absolute(struct dynbuf *out, const uint8_t *t, size_t n)
{
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 3 <= n && !sep; i++)
        if (memcmp(t + i, "://", 3) == 0)
            sep = t + i;
    size_t scheme = sep ? (size_t)(sep - t) + 3 : 0;
    url_append(out, t, scheme, false);
    size_t auth = authority_len(t + scheme, n - scheme);
    url_append(out, t + scheme, auth, true);
    if (scheme + auth == n)
        dynbuf_addc(out, '/');
    url_append(out, t + scheme + auth, n - scheme - auth, false);
}

/* Host header (a whole Host line of a head that did not finish), else the server's address,
 * for origin-form targets. */
static void url_host(struct dynbuf *out, const struct exchange *ex)
{
    size_t n;
    const uint8_t *host = message_header(&ex->req, "host", &n);
    if (!host)
        host = message_peek_header(&ex->req, "host", &n);
    if (host && n) {
        url_append(out, host, n, true);
        return;
    }
    char ep[ENDPOINT_STRLEN];
    if (ex->server.family) {
        endpoint_format(&ex->server, ep, sizeof ep);
        dynbuf_adds(out, ep);
    } else {
        dynbuf_adds(out, "unknown");
    }
}

/* A method as a request line may spell it: one or more tchar (RFC 9110 5.6.2). */
static bool method_token(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", p[i]))
            return false;
    return n > 0;
}

/*
 * The method and target of a request whose head was not parsed (it never finished: a head
 * timeout, a capture that ends inside it, the head limit), as far as they arrived: true when a
 * method and at least one byte of target did (spans relative to m->raw.data). Bytes that are no
 * request line (TLS, garbage) give false.
 */
static bool peeked_request(const struct message *m, struct http_span *method,
                           struct http_span *target)
{
    return message_peek_request_line(m, method, target) && target->len > 0 &&
           method_token(m->raw.data + method->off, method->len);
}

/* The URL of target t[0..n) of the form http_target_form gives (form). */
static const char *url_of(struct dynbuf *out, const struct exchange *ex, const uint8_t *t, size_t n,
                          unsigned form)
{
    if (form & HEAD_ABSOLUTE_FORM) {
        url_absolute(out, t, n);
        return dynbuf_str(out);
    }
    dynbuf_adds(out, "http://");
    if (form & HEAD_AUTHORITY_FORM) {
        url_append(out, t, n, true);
        dynbuf_addc(out, '/');
        return dynbuf_str(out);
    }
    url_host(out, ex);
    if (form & HEAD_ASTERISK_FORM)
        t = (const uint8_t *)"/", n = 1;
    else if (n == 0 || t[0] != '/')
        dynbuf_addc(out, '/');
    url_append(out, t, n, false);
    return dynbuf_str(out);
}

const char *har_url(struct dynbuf *out, const struct exchange *ex)
{
    const struct message *m = &ex->req;
    if (m->flags & MSG_HEAD)
        return url_of(out, ex, message_at(m, m->head.target), m->head.target.len, m->head.flags);
    struct http_span method, target;
    if (peeked_request(m, &method, &target)) {
        const uint8_t *t = m->raw.data + target.off;
        return url_of(out, ex, t, target.len, http_target_form(t, target.len));
    }
    dynbuf_adds(out, "about:blank");
    return dynbuf_str(out);
}

/* {"name": ..., "value": ...} of two pieces of traffic. */
static void name_value(struct jsonwrite *w, const uint8_t *name, size_t nn, const uint8_t *value,
                       size_t vn)
{
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "name");
    text(w, name, nn);
    jsonwrite_name(w, "value");
    text(w, value, vn);
    jsonwrite_end(w);
}

/* One "name=value" pair, percent-decoded with flags (URL_PLUS: '+' is a space, as in a form). */
static void pair(struct jsonwrite *w, const uint8_t *p, size_t n, unsigned flags)
{
    const uint8_t *eq = memchr(p, '=', n);
    size_t nn = eq ? (size_t)(eq - p) : n;
    struct dynbuf name, value;
    dynbuf_init(&name, nn + 1);
    dynbuf_init(&value, n - nn + 1);
    url_decode(p, nn, flags, &name);
    if (eq)
        url_decode(eq + 1, n - nn - 1, flags, &value);
    name_value(w, name.data ? name.data : (const uint8_t *)"", name.len,
               value.data ? value.data : (const uint8_t *)"", value.len);
    dynbuf_cleanup(&value);
    dynbuf_cleanup(&name);
}

/* The pairs of p..end, split on '&' only (';' separates nothing in a query or a form), at most
 * max of them. */
static void pairs(struct jsonwrite *w, const uint8_t *p, const uint8_t *end, size_t max,
                  unsigned flags)
{
    size_t listed = 0;
    while (p && p < end && listed < max) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        const uint8_t *stop = amp ? amp : end;
        if (stop > p) {
            pair(w, p, (size_t)(stop - p), flags);
            listed++;
        }
        p = stop + 1;
    }
}

static void query_string(struct jsonwrite *w, const struct message *m)
{
    jsonwrite_begin_array(w);
    const uint8_t *t = NULL, *q = NULL;
    size_t n = 0;
    struct http_span method, target;
    if (m->flags & MSG_HEAD) {
        t = message_at(m, m->head.target);
        n = m->head.target.len;
    } else if (peeked_request(m, &method, &target)) {
        /* the target as far as it arrived, as the URL shows it */
        t = m->raw.data + target.off;
        n = target.len;
    }
    if (t)
        q = memchr(t, '?', n);
    if (q) {
        const uint8_t *end = memchr(q, '#', n - (size_t)(q - t));
        /* Query names and values are shown percent-decoded, '+' left alone. */
        pairs(w, q + 1, end ? end : t + n, HAR_QUERY_MAX, 0);
    }
    jsonwrite_end(w);
}

/* ---- cookies ------------------------------------------------------------------------------ */

struct piece {
    const uint8_t *p;
    size_t n;
};

static struct piece trim(const uint8_t *p, size_t n)
{
    while (n && (p[0] == ' ' || p[0] == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct piece){p, n};
}

/* Splits "name=value" (value empty when there is no '='). */
static void split_pair(struct piece s, struct piece *name, struct piece *value)
{
    const uint8_t *eq = memchr(s.p, '=', s.n);
    if (!eq) {
        *name = trim(s.p, s.n);
        *value = (struct piece){s.p + s.n, 0};
        return;
    }
    *name = trim(s.p, (size_t)(eq - s.p));
    *value = trim(eq + 1, s.n - (size_t)(eq - s.p) - 1);
}

static bool piece_ieq(struct piece s, const char *word)
{
    size_t n = strlen(word);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s.p[i] | 0x20) != word[i])
            return false;
    return true;
}

/* Reads 1..max digits of a token; returns -1 when the token is not that. */
static int digits(struct piece t, size_t min, size_t max)
{
    if (t.n < min || t.n > max)
        return -1;
    int v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return -1;
        v = v * 10 + (t.p[i] - '0');
    }
    return v;
}

static bool cookie_time(struct piece t, struct tm *tm)
{
    int v[3] = {0, 0, 0}, k = 0, nd = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] == ':' && nd > 0 && k < 2) {
            k++, nd = 0;
        } else if (t.p[i] >= '0' && t.p[i] <= '9' && nd < 2) {
            v[k] = v[k] * 10 + (t.p[i] - '0'), nd++;
        } else {
            return false;
        }
    }
    if (k != 2 || nd == 0 || v[0] > 23 || v[1] > 59 || v[2] > 59)
        return false;
    tm->tm_hour = v[0], tm->tm_min = v[1], tm->tm_sec = v[2];
    return true;
}

static int month_of(struct piece t)
{
    static const char *const MONTHS[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    if (t.n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (piece_ieq((struct piece){t.p, 3}, MONTHS[m]))
            return m;
    return -1;
}

static bool date_delim(uint8_t c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* The cookie-date algorithm of RFC 6265 section 5.1.1, lenient as browsers are. */
static bool cookie_date(struct piece s, int64_t *secs)
{
    struct tm tm = {0};
    bool have_time = false;
    int day = -1, month = -1, year = -1;
    size_t i = 0;
    while (i < s.n) {
        while (i < s.n && date_delim(s.p[i]))
            i++;
        size_t start = i;
        while (i < s.n && !date_delim(s.p[i]))
            i++;
        struct piece tok = {s.p + start, i - start};
        if (tok.n == 0)
            continue;
        if (!have_time && cookie_time(tok, &tm))
            have_time = true;
        else if (day < 0 && digits(tok, 1, 2) >= 0)
            day = digits(tok, 1, 2);
        else if (month < 0 && month_of(tok) >= 0)
            month = month_of(tok);
        else if (year < 0 && digits(tok, 2, 4) >= 0)
            year = digits(tok, 2, 4);
    }
    if (year >= 70 && year <= 99)
        year += 1900;
    else if (year >= 0 && year <= 69)
        year += 2000;
    if (!have_time || day < 1 || day > 31 || month < 0 || year < 1601)
        return false;
    tm.tm_mday = day, tm.tm_mon = month, tm.tm_year = year - 1900;
    *secs = (int64_t)timegm(&tm);
    return true;
}

/*
 * A Set-Cookie being read: its attributes are gathered before it is written, because a
 * repeated attribute keeps the place of its first (valid) occurrence with the value of the last.
 */
enum cookie_attr { ATTR_PATH, ATTR_DOMAIN, ATTR_EXPIRES, ATTR__COUNT };

struct set_cookie {
    struct piece name, value;
    bool http_only, secure;
    struct piece path, domain;
    int64_t expires;            /* seconds since the epoch */
    uint8_t order[ATTR__COUNT]; /* attributes in the order they first appeared */
    uint8_t nattrs;
    bool seen[ATTR__COUNT];
};

static void attr_seen(struct set_cookie *c, enum cookie_attr a)
{
    if (!c->seen[a]) {
        c->seen[a] = true;
        c->order[c->nattrs++] = (uint8_t)a;
    }
}

/* Applies one Set-Cookie attribute to the cookie. */
static void cookie_attribute(struct set_cookie *c, struct piece attr)
{
    struct piece name, value;
    split_pair(attr, &name, &value);
    if (piece_ieq(name, "path")) {
        c->path = value;
        attr_seen(c, ATTR_PATH);
    } else if (piece_ieq(name, "domain")) {
        c->domain = value;
        attr_seen(c, ATTR_DOMAIN);
    } else if (piece_ieq(name, "expires")) {
        if (cookie_date(value, &c->expires))
            attr_seen(c, ATTR_EXPIRES);
    } else if (piece_ieq(name, "httponly")) {
        c->http_only = true;
    } else if (piece_ieq(name, "secure")) {
        c->secure = true;
    }
}

static void write_set_cookie(struct jsonwrite *w, const struct set_cookie *c)
{
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "name");
    text(w, c->name.p, c->name.n);
    jsonwrite_name(w, "value");
    text(w, c->value.p, c->value.n);
    jsonwrite_name(w, "httpOnly");
    jsonwrite_bool(w, c->http_only);
    jsonwrite_name(w, "secure");
    jsonwrite_bool(w, c->secure);
    for (uint8_t i = 0; i < c->nattrs; i++) {
        char iso[40];
        switch ((enum cookie_attr)c->order[i]) {
        case ATTR_PATH:
            jsonwrite_name(w, "path");
            text(w, c->path.p, c->path.n);
            break;
        case ATTR_DOMAIN:
            jsonwrite_name(w, "domain");
            text(w, c->domain.p, c->domain.n);
            break;
        case ATTR_EXPIRES:
            jsonwrite_name(w, "expires");
            jsonwrite_cstring(w, jsonout_iso8601_s(iso, sizeof iso, c->expires, 3));
            break;
        case ATTR__COUNT: break;
        }
    }
    jsonwrite_end(w);
}

/*
 * Writes the cookies of one Cookie (request) or Set-Cookie (response) field value; *listed
 * counts the cookies of the message so far. Attributes of the cookie that reaches
 * HAR_COOKIES_MAX are not read.
 */
static void cookies_of(struct jsonwrite *w, const uint8_t *v, size_t n, bool set_cookie,
                       size_t *listed)
{
    struct set_cookie c;
    bool open = false;
    for (size_t i = 0; i <= n && *listed < HAR_COOKIES_MAX;) {
        const uint8_t *semi = memchr(v + i, ';', n - i);
        size_t end = semi ? (size_t)(semi - v) : n;
        struct piece s = trim(v + i, end - i);
        i = end + 1;
        if (s.n == 0)
            continue;
        if (open) {
            cookie_attribute(&c, s);
            continue;
        }
        struct piece name, value;
        split_pair(s, &name, &value);
        ++*listed;
        if (!set_cookie) {
            name_value(w, name.p, name.n, value.p, value.n);
            continue;
        }
        memset(&c, 0, sizeof c);
        c.name = name;
        c.value = value;
        open = true;
    }
    if (open)
        write_set_cookie(w, &c);
}

static void cookies(struct jsonwrite *w, const struct message *m, const char *field,
                    bool set_cookie)
{
    jsonwrite_begin_array(w);
    const uint8_t *base = message_head_base(m);
    size_t listed = 0;
    for (uint32_t i = 0; base && i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        if (http_span_ieq(base, h->name, field))
            cookies_of(w, base + h->value.off, h->value.len, set_cookie, &listed);
    }
    jsonwrite_end(w);
}

/* ---- request and response ----------------------------------------------------------------- */

static void headers(struct jsonwrite *w, const struct message *m)
{
    jsonwrite_begin_array(w);
    const uint8_t *base = message_head_base(m);
    for (uint32_t i = 0; base && i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        name_value(w, base + h->name.off, h->name.len, base + h->value.off, h->value.len);
    }
    jsonwrite_end(w);
}

/* True for the answer to an HTTP/0.9 request: no head, a body up to the close. */
static bool http09_response(const struct message *m)
{
    return !(m->flags & MSG_HEAD) && (m->flags & MSG_HTTP09);
}

static void http_version(struct jsonwrite *w, const struct message *m)
{
    if (((m->flags & MSG_HEAD) && m->head.version.len == 0 && (m->head.flags & HEAD_HTTP09)) ||
        http09_response(m))
        jsonwrite_cstring(w, "HTTP/0.9");
    else
        span_text(w, m, m->head.version);
}

static void header_text(struct jsonwrite *w, const struct message *m, const char *name,
                        const char *fallback)
{
    size_t n;
    const uint8_t *v = message_header(m, name, &n);
    if (v)
        text(w, v, n);
    else
        jsonwrite_cstring(w, fallback);
}

/* "text" (and "encoding": "base64" when the bytes are not UTF-8) of a body. */
static void body_text(struct jsonwrite *w, const struct dynbuf *body)
{
    jsonwrite_name(w, "text");
    if (jsonout_write_bytes(w, body->data, body->len)) {
        jsonwrite_name(w, "encoding");
        jsonwrite_cstring(w, "base64");
    }
}

/* ---- postData.params: the fields of a form body ------------------------------------------ */

/* True when a Content-Type value names the media type (parameters after ';' ignored). */
static bool media_type_is(const uint8_t *v, size_t n, const char *type)
{
    size_t tn = strlen(type);
    if (!v || n < tn || strncasecmp((const char *)v, type, tn) != 0)
        return false;
    for (size_t i = tn; i < n && v[i] != ';'; i++)
        if (v[i] != ' ' && v[i] != '\t')
            return false;
    return true;
}

struct part_walk {
    struct jsonwrite *w;
    size_t listed;
};

/* A text part has a value; a file part its file name and type (its bytes are in "text"). */
static int multipart_param(void *data, const struct form_part *part)
{
    struct part_walk *pw = data;
    struct jsonwrite *w = pw->w;
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "name");
    text_s(w, part->name);
    if (part->has_filename) {
        jsonwrite_name(w, "fileName");
        text_s(w, part->filename);
        if (part->content_type[0]) {
            jsonwrite_name(w, "contentType");
            text_s(w, part->content_type);
        }
    } else {
        jsonwrite_name(w, "value");
        text(w, part->data, part->len);
    }
    jsonwrite_end(w);
    return ++pw->listed >= HAR_PARAMS_MAX;
}

/* "params" when the body is a form (urlencoded or multipart/form-data with a boundary). */
static void form_params(struct jsonwrite *w, const struct message *m, const struct dynbuf *body)
{
    size_t n;
    const uint8_t *ct = message_header(m, "content-type", &n);
    char boundary[FORM_BOUNDARY_MAX];
    if (media_type_is(ct, n, "application/x-www-form-urlencoded")) {
        jsonwrite_name(w, "params");
        jsonwrite_begin_array(w);
        size_t skip = body->data ? form_urlencoded_skip(body->data, body->len) : 0;
        pairs(w, body->data ? body->data + skip : NULL, body->data + body->len, HAR_PARAMS_MAX,
              URL_PLUS);
        jsonwrite_end(w);
    } else if (media_type_is(ct, n, "multipart/form-data") &&
               form_boundary(ct, n, boundary, sizeof boundary) == 0) {
        struct part_walk pw = {w, 0};
        jsonwrite_name(w, "params");
        jsonwrite_begin_array(w);
        if (body->len)
            form_multipart_each(body->data, body->len, boundary, multipart_param, &pw);
        jsonwrite_end(w);
    }
}

/*
 * postData: mimeType is the Content-Type as sent, "" when the request had none (HAR requires the
 * member; browsers write "" too). text is the payload exactly (base64 when not UTF-8); a form
 * also lists its fields in params.
 */
static void post_data(struct jsonwrite *w, const struct message *m, const struct har_config *cfg)
{
    struct dynbuf body;
    dynbuf_init(&body, m->raw.len + 1);
    message_body(m, &body, cfg->limits); /* the payload as kept, chunked framing removed */
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "mimeType");
    header_text(w, m, "content-type", "");
    form_params(w, m, &body);
    body_text(w, &body);
    jsonwrite_end(w);
    dynbuf_cleanup(&body);
}

static void int_or_unknown(struct jsonwrite *w, bool known, int64_t v)
{
    jsonwrite_int(w, known ? v : -1);
}

/* headersSize and bodySize, -1 without a head (an HTTP/0.9 response has none: 0, its body). */
static void sizes(struct jsonwrite *w, const struct message *m)
{
    bool head = m->flags & MSG_HEAD, http09 = http09_response(m);
    jsonwrite_name(w, "headersSize");
    int_or_unknown(w, head || http09, head ? m->head.len : 0);
    jsonwrite_name(w, "bodySize");
    int_or_unknown(w, head || http09, (int64_t)m->body_wire);
}

static void url(struct jsonwrite *w, const struct exchange *ex)
{
    struct dynbuf b;
    /* A target not parsed is at most the kept bytes. */
    size_t target = (ex->req.flags & MSG_HEAD) ? ex->req.head.target.len : ex->req.raw.len;
    dynbuf_init(&b, 3 * (target + 1024) + 64);
    har_url(&b, ex);
    jsonwrite_string(w, dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
}

static void request(struct jsonwrite *w, const struct exchange *ex, const struct har_config *cfg)
{
    const struct message *m = &ex->req;
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "method");
    struct http_span method, target;
    if (!(m->flags & MSG_HEAD) && peeked_request(m, &method, &target))
        text(w, m->raw.data + method.off, method.len);
    else
        span_text(w, m, m->head.method);
    jsonwrite_name(w, "url");
    url(w, ex);
    jsonwrite_name(w, "httpVersion");
    http_version(w, m);
    jsonwrite_name(w, "cookies");
    cookies(w, m, "cookie", false);
    jsonwrite_name(w, "headers");
    headers(w, m);
    jsonwrite_name(w, "queryString");
    query_string(w, m);
    if (message_has_body(m) && (m->body_size > 0 || m->body_wire > 0)) {
        jsonwrite_name(w, "postData");
        post_data(w, m, cfg);
    }
    sizes(w, m);
    jsonwrite_end(w);
}

/* response.content: the body with its content coding undone, as browsers record it. */
static void content(struct jsonwrite *w, const struct message *m, const struct har_config *cfg,
                    struct decode_result *res)
{
    struct dynbuf body;
    dynbuf_init(&body, cfg->decode_max);
    memset(res, 0, sizeof *res);
    res->status = DECODE_IDENTITY;
    if (message_has_body(m))
        decode_message(m, cfg->limits, cfg->decode_max, &body, res);
    jsonwrite_begin_object(w);
    /* Without a coding the true size is known even when not every byte was kept. */
    uint64_t size = res->status == DECODE_IDENTITY ? m->body_size : body.len;
    jsonwrite_name(w, "size");
    jsonwrite_int(w, (int64_t)size);
    if (res->status == DECODE_OK && size > m->body_size) {
        jsonwrite_name(w, "compression");
        jsonwrite_int(w, (int64_t)(size - m->body_size));
    }
    jsonwrite_name(w, "mimeType");
    header_text(w, m, "content-type", "x-unknown");
    body_text(w, &body);
    jsonwrite_end(w);
    dynbuf_cleanup(&body);
}

static void response(struct jsonwrite *w, const struct exchange *ex, const struct har_config *cfg,
                     struct decode_result *res)
{
    const struct message *m = &ex->resp;
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "status");
    jsonwrite_int(w, (m->flags & MSG_HEAD) ? m->head.status : 0);
    jsonwrite_name(w, "statusText");
    span_text(w, m, m->head.reason);
    jsonwrite_name(w, "httpVersion");
    http_version(w, m);
    jsonwrite_name(w, "cookies");
    cookies(w, m, "set-cookie", true);
    jsonwrite_name(w, "headers");
    headers(w, m);
    jsonwrite_name(w, "content");
    content(w, m, cfg, res);
    jsonwrite_name(w, "redirectURL");
    header_text(w, m, "location", "");
    sizes(w, m);
    if (ex->error) {
        jsonwrite_name(w, "_error");
        text_s(w, ex->error);
    }
    jsonwrite_end(w);
}

/* ---- timings ------------------------------------------------------------------------------ */

/* The measured HAR timings, in the order they are written (dns and ssl are always -1). */
enum { PHASE_BLOCKED, PHASE_CONNECT, PHASE_SEND, PHASE_WAIT, PHASE_RECEIVE, PHASE__COUNT };

/* Milliseconds for HAR timings, rounded to the microsecond; negative when unknown. */
struct har_timings {
    double ms[PHASE__COUNT];
    double total; /* the sum of the known ones, rounded to the microsecond */
};

static double ms(int64_t ns)
{
    return round((double)ns / 1000.0) / 1000.0;
}

static double ms_or_unknown(int64_t from, int64_t to)
{
    if (!from || !to)
        return -1;
    return to > from ? ms(to - from) : 0.0;
}

/*
 * HAR timings from the phases. blocked: request start to upstream connect (proxy); connect:
 * the upstream connect; send: request (after any connect) until fully sent or forwarded; wait:
 * sent until the first response byte; receive: first to last response byte.
 */
static void timings_of(const struct exchange *ex, struct har_timings *h)
{
    const int64_t *t = ex->t;
    int64_t send_from = t[T_UP_CONNECTED] ? t[T_UP_CONNECTED] : t[T_REQ_FIRST];
    int64_t sent = t[T_REQ_FORWARDED] ? t[T_REQ_FORWARDED] : t[T_REQ_LAST];
    h->ms[PHASE_BLOCKED] = ms_or_unknown(t[T_REQ_FIRST], t[T_UP_CONNECT]);
    h->ms[PHASE_CONNECT] = ms_or_unknown(t[T_UP_CONNECT], t[T_UP_CONNECTED]);
    h->ms[PHASE_SEND] = ms_or_unknown(send_from, sent);
    h->ms[PHASE_WAIT] = ms_or_unknown(sent, t[T_RESP_FIRST]);
    h->ms[PHASE_RECEIVE] = ms_or_unknown(t[T_RESP_FIRST], t[T_RESP_LAST]);
    /* Summed in the order written, so the rounding is always the same. */
    double total = 0;
    for (int i = 0; i < PHASE__COUNT; i++)
        if (h->ms[i] > 0)
            total += h->ms[i];
    h->total = round(total * 1000.0) / 1000.0;
}

/* A known timing is a real (0.0 included), an unknown one the integer -1. */
static void timing(struct jsonwrite *w, const char *name, double v)
{
    jsonwrite_name(w, name);
    if (v < 0)
        jsonwrite_int(w, -1);
    else
        jsonwrite_real(w, v);
}

static void timings(struct jsonwrite *w, const struct har_timings *h)
{
    jsonwrite_begin_object(w);
    timing(w, "blocked", h->ms[PHASE_BLOCKED]);
    timing(w, "dns", -1);
    timing(w, "connect", h->ms[PHASE_CONNECT]);
    timing(w, "send", h->ms[PHASE_SEND]);
    timing(w, "wait", h->ms[PHASE_WAIT]);
    timing(w, "receive", h->ms[PHASE_RECEIVE]);
    timing(w, "ssl", -1);
    jsonwrite_end(w);
}

/* ---- _hspy: what HAR has no field for --------------------------------------------------- */

static void interim_list(struct jsonwrite *w, const struct message *m)
{
    jsonwrite_begin_array(w);
    for (uint8_t i = 0; i < m->ninterim; i++) {
        jsonwrite_begin_object(w);
        jsonwrite_name(w, "offset");
        jsonwrite_int(w, m->interim[i].off);
        jsonwrite_name(w, "size");
        jsonwrite_int(w, m->interim[i].len);
        jsonwrite_name(w, "status");
        jsonwrite_int(w, m->interim[i].status);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

static void gap_list(struct jsonwrite *w, const struct message *m)
{
    jsonwrite_begin_array(w);
    for (uint16_t i = 0; m->gaps && i < m->ngaps && i < MESSAGE_GAPS_MAX; i++) {
        jsonwrite_begin_object(w);
        jsonwrite_name(w, "offset");
        jsonwrite_int(w, (int64_t)m->gaps[i].off);
        jsonwrite_name(w, "size");
        jsonwrite_int(w, (int64_t)m->gaps[i].len);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

static void member_int(struct jsonwrite *w, const char *name, int64_t v)
{
    jsonwrite_name(w, name);
    jsonwrite_int(w, v);
}

/* An integer, or null when v is 0 (a phase not reached, an id not set). */
static void member_int_or_null(struct jsonwrite *w, const char *name, int64_t v)
{
    jsonwrite_name(w, name);
    jsonwrite_int_or_null(w, v != 0, v);
}

/* Every field of struct message, so HAR import can rebuild it without guessing. */
static void wire_message(struct jsonwrite *w, const struct message *m)
{
    if (!message_recorded(m)) {
        jsonwrite_null(w);
        return;
    }
    bool head = m->flags & MSG_HEAD;
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "raw");
    jsonout_write_base64(w, m->raw.data, m->raw.len);
    member_int(w, "kept_size", (int64_t)m->raw.len);
    member_int(w, "wire_size", (int64_t)m->wire_bytes);
    jsonwrite_name(w, "truncated");
    jsonwrite_bool(w, m->flags & MSG_TRUNCATED);
    jsonwrite_name(w, "flags");
    jsonout_write_flags(w, m->flags, message_flag_name);
    member_int(w, "head_offset", m->head_off);
    jsonwrite_name(w, "head_size");
    jsonwrite_int_or_null(w, head, m->head.len);
    member_int(w, "headers_total", head ? m->head.total_headers : 0);
    jsonwrite_name(w, "body_framing");
    jsonwrite_cstring_or_null(w, message_framing_name(m));
    jsonwrite_name(w, "content_length");
    jsonwrite_int_or_null(w, message_declares_length(m), (int64_t)m->content_length);
    member_int(w, "body_offset", (int64_t)m->body_off);
    member_int(w, "body_wire_size", (int64_t)m->body_wire);
    member_int(w, "body_size", (int64_t)m->body_size);
    member_int(w, "chunks", m->chunks);
    jsonwrite_name(w, "trailer_offset");
    jsonwrite_int_or_null(w, m->trailer_off != 0, (int64_t)m->trailer_off);
    jsonwrite_name(w, "trailer");
    if (m->trailer_len)
        jsonout_write_base64(w, m->trailer, m->trailer_len);
    else
        jsonwrite_null(w);
    jsonwrite_name(w, "chunk_extensions");
    if (m->chunk_ext)
        jsonout_write_chunk_ext(w, m, true);
    else
        jsonwrite_null(w);
    member_int(w, "chunk_extensions_unlisted", message_chunk_ext_unlisted(m));
    jsonwrite_name(w, "interim");
    interim_list(w, m);
    member_int(w, "interim_dropped", m->interim_dropped);
    jsonwrite_name(w, "gaps");
    gap_list(w, m);
    member_int(w, "gaps_unlisted", m->gaps_unlisted);
    member_int(w, "gap_bytes", (int64_t)m->gap_bytes);
    jsonwrite_name(w, "sha256");
    jsonout_write_sha256(w, m);
    member_int_or_null(w, "first_byte_ns", m->t_first);
    member_int_or_null(w, "last_byte_ns", m->t_last);
    jsonwrite_end(w);
}

static void decode_info(struct jsonwrite *w, const struct exchange *ex,
                        const struct decode_result *res)
{
    size_t n;
    if (!message_header(&ex->resp, "content-encoding", &n)) {
        jsonwrite_null(w);
        return;
    }
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "status");
    jsonwrite_cstring(w, decode_status_label(res->status));
    jsonwrite_name(w, "coding");
    text_s(w, res->coding[0] ? res->coding : NULL);
    jsonwrite_name(w, "message");
    text_s(w, res->message[0] ? res->message : NULL);
    jsonwrite_name(w, "error_offset");
    jsonwrite_int_or_null(w, res->status == DECODE_ERROR, (int64_t)res->error_offset);
    jsonwrite_end(w);
}

static void phase_times(struct jsonwrite *w, const struct exchange *ex)
{
    jsonwrite_begin_object(w);
    for (int i = 0; i < T__COUNT; i++)
        member_int_or_null(w, exchange_time_name((enum exchange_time)i), ex->t[i]);
    jsonwrite_end(w);
}

static void custom(struct jsonwrite *w, const struct exchange *ex, const struct decode_result *res)
{
    jsonwrite_begin_object(w);
    member_int(w, "version", HAR_HSPY_VERSION);
    member_int(w, "id", (int64_t)ex->id);
    member_int(w, "connection", (int64_t)ex->conn_id);
    member_int(w, "seq", ex->conn_seq);
    jsonwrite_name(w, "client");
    jsonout_write_endpoint(w, &ex->client);
    jsonwrite_name(w, "server");
    jsonout_write_endpoint(w, &ex->server);
    jsonwrite_name(w, "flags");
    jsonout_write_flags(w, ex->flags, exchange_flag_name);
    jsonwrite_name(w, "error");
    text_s(w, ex->error);
    jsonwrite_name(w, "note");
    text_s(w, ex->note);
    if (ex->flags & EX_REPLAY) {
        member_int_or_null(w, "replay_of", (int64_t)ex->replay_of);
    } else {
        jsonwrite_name(w, "replay_of");
        jsonwrite_null(w);
    }
    jsonwrite_name(w, "timings_ns");
    phase_times(w, ex);
    jsonwrite_name(w, "warnings");
    jsonout_write_warnings(w, ex);
    member_int(w, "warnings_dropped", ex->warnings_dropped);
    jsonwrite_name(w, "tunnel");
    jsonout_write_tunnel(w, ex);
    jsonwrite_name(w, "decode");
    decode_info(w, ex, res);
    jsonwrite_name(w, "request");
    wire_message(w, &ex->req);
    jsonwrite_name(w, "response");
    wire_message(w, &ex->resp);
    jsonwrite_end(w);
}

/* ---- entries and documents ---------------------------------------------------------------- */

/* One entries[] element for ex, as the writer's next value. */
static void entry(struct jsonwrite *w, const struct exchange *ex, const struct har_config *cfg)
{
    char buf[40];
    struct har_timings t;
    timings_of(ex, &t);
    jsonwrite_begin_object(w);
    if (cfg->pageref) {
        jsonwrite_name(w, "pageref");
        text_s(w, cfg->pageref);
    }
    jsonwrite_name(w, "startedDateTime");
    jsonwrite_cstring(w, jsonout_iso8601(buf, sizeof buf, exchange_start(ex), 3));
    jsonwrite_name(w, "time");
    jsonwrite_real(w, t.total);
    jsonwrite_name(w, "request");
    request(w, ex, cfg);
    struct decode_result res;
    jsonwrite_name(w, "response");
    response(w, ex, cfg, &res);
    jsonwrite_name(w, "cache");
    empty_object(w);
    jsonwrite_name(w, "timings");
    timings(w, &t);
    if (ex->server.family) {
        char addr[ENDPOINT_STRLEN];
        jsonwrite_name(w, "serverIPAddress");
        jsonwrite_cstring(w, endpoint_format_addr(&ex->server, addr, sizeof addr));
    }
    if (ex->conn_id) {
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)ex->conn_id);
        jsonwrite_name(w, "connection");
        jsonwrite_string(w, buf, (size_t)n);
    }
    jsonwrite_name(w, "_hspy");
    custom(w, ex, &res);
    jsonwrite_end(w);
}

json_t *har_entry(const struct exchange *ex, const struct har_config *cfg)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    entry(&w, ex, cfg);
    return jsonwrite_take_all(&w);
}

/* The log object's members before its entries (pages borrowed; NULL: an empty list). */
static void log_head(struct jsonwrite *w, const json_t *pages)
{
    jsonwrite_name(w, "version");
    jsonwrite_cstring(w, "1.2");
    jsonwrite_name(w, "creator");
    write_creator(w);
    jsonwrite_name(w, "pages");
    if (pages) {
        jsonwrite_json(w, pages);
    } else {
        jsonwrite_begin_array(w);
        jsonwrite_end(w);
    }
    jsonwrite_name(w, "_hspy");
    jsonwrite_begin_object(w);
    member_int(w, "version", HAR_HSPY_VERSION);
    jsonwrite_end(w);
}

json_t *har_document(json_t *pages, json_t *entries)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonwrite_begin_object(&w);
    jsonwrite_name(&w, "log");
    jsonwrite_begin_object(&w);
    log_head(&w, pages);
    jsonwrite_name(&w, "entries");
    if (entries) {
        jsonwrite_json(&w, entries);
    } else {
        jsonwrite_begin_array(&w);
        jsonwrite_end(&w);
    }
    jsonwrite_end(&w);
    jsonwrite_end(&w);
    json_decref(pages); /* the tree holds its own references */
    json_decref(entries);
    return jsonwrite_take_all(&w);
}

int har_stream_begin(struct dynbuf *out, const json_t *pages)
{
    size_t before = out->len;
    struct jsonwrite w;
    jsonwrite_init_text(&w, out, HAR_REAL_PRECISION);
    jsonwrite_begin_object(&w);
    jsonwrite_name(&w, "log");
    jsonwrite_begin_object(&w);
    log_head(&w, pages);
    jsonwrite_end(&w);
    jsonwrite_end(&w);
    /* Written whole, then reopened: the entries follow as the stream goes on. */
    if (jsonwrite_finish(&w) == 0 && out->len >= before + 2) {
        out->len -= 2;
        if (dynbuf_adds(out, ",\"entries\":[") == 12)
            return 0;
    }
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}

int har_stream_entry(struct dynbuf *out, const struct exchange *ex, const struct har_config *cfg,
                     bool first)
{
    size_t before = out->len;
    if (dynbuf_adds(out, first ? "\n" : ",\n") == (first ? 1u : 2u)) {
        struct jsonwrite w;
        jsonwrite_init_text(&w, out, HAR_REAL_PRECISION);
        entry(&w, ex, cfg);
        if (jsonwrite_finish(&w) == 0)
            return 0;
    }
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
