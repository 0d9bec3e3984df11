/*
 * har owns the mapping from exchanges to HAR 1.2 (standard fields plus the "_hspy" custom
 * fields documented in docs/har.md) and the text framing of a streamed document. It builds
 * jansson values and text in caller buffers; it never opens or writes files (the sinks do) and
 * never changes an exchange.
 */
#include "hspy/har.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hspy/decode.h"
#include "hspy/framing.h"
#include "hspy/jsonwrite.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

/* Cookies listed per message; more are counted in _hspy and left in the headers. */
enum { HAR_COOKIES_MAX = 256 };
/* Query parameters listed per request; the URL still holds all of them. */
enum { HAR_QUERY_MAX = 1024 };

static json_t *must(json_t *v)
{
    return xnonnull(v);
}

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new_nocheck(obj, key, must(value));
}

static json_t *str(const char *s)
{
    return must(json_string_nocheck(s));
}

/* HAR fields are strings: bytes that are not UTF-8 become U+FFFD (the raw bytes are in _hspy). */
static json_t *text(const uint8_t *p, size_t n)
{
    if (utf8_valid(p, n))
        return must(json_stringn_nocheck(n ? (const char *)p : "", n));
    struct dynbuf b;
    dynbuf_init(&b, 3 * n + 1);
    utf8_sanitize(&b, p, n);
    json_t *v = must(json_stringn_nocheck(dynbuf_str(&b), b.len));
    dynbuf_cleanup(&b);
    return v;
}

static json_t *text_s(const char *s)
{
    return s ? text((const uint8_t *)s, strlen(s)) : json_null();
}

static json_t *span_text(const struct message *m, struct http_span s)
{
    if (!(m->flags & MSG_HEAD))
        return str("");
    return text(message_at(m, s), s.len);
}

/* Milliseconds for HAR timings, rounded to the microsecond. */
static double ms(int64_t ns)
{
    return round((double)ns / 1000.0) / 1000.0;
}

static json_t *ms_or_unknown(int64_t from, int64_t to)
{
    if (!from || !to)
        return must(json_integer(-1));
    return must(json_real(to > from ? ms(to - from) : 0.0));
}

json_t *har_creator(void)
{
    json_t *o = must(json_object());
    set(o, "name", str("hspy"));
    set(o, "version", str(HSPY_VERSION));
    return o;
}

json_t *har_page(const char *id, const char *title, int64_t started_ns)
{
    char iso[40];
    json_t *o = must(json_object());
    set(o, "startedDateTime", str(jsonout_iso8601(iso, sizeof iso, started_ns, 3)));
    set(o, "id", text_s(id));
    set(o, "title", text_s(title ? title : ""));
    set(o, "pageTimings", json_object());
    return o;
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

/* Host header, else the server's address, for origin-form targets. */
static void url_host(struct dynbuf *out, const struct exchange *ex)
{
    size_t n;
    const uint8_t *host = message_header(&ex->req, "host", &n);
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

const char *har_url(struct dynbuf *out, const struct exchange *ex)
{
    const struct message *m = &ex->req;
    if (!(m->flags & MSG_HEAD)) {
        dynbuf_adds(out, "about:blank");
        return dynbuf_str(out);
    }
    const uint8_t *t = message_at(m, m->head.target);
    size_t n = m->head.target.len;
    if (m->head.flags & HEAD_ABSOLUTE_FORM) {
        url_absolute(out, t, n);
        return dynbuf_str(out);
    }
    dynbuf_adds(out, "http://");
    if (m->head.flags & HEAD_AUTHORITY_FORM) {
        url_append(out, t, n, true);
        dynbuf_addc(out, '/');
        return dynbuf_str(out);
    }
    url_host(out, ex);
    if (m->head.flags & HEAD_ASTERISK_FORM)
        t = (const uint8_t *)"/", n = 1;
    else if (n == 0 || t[0] != '/')
        dynbuf_addc(out, '/');
    url_append(out, t, n, false);
    return dynbuf_str(out);
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/* Query parameter names and values are shown percent-decoded ('+' is left alone). */
static json_t *decoded_text(const uint8_t *p, size_t n)
{
    struct dynbuf b;
    dynbuf_init(&b, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            dynbuf_addc(&b, (uint8_t)(hex_value(p[i + 1]) << 4 | hex_value(p[i + 2])));
            i += 2;
        } else {
            dynbuf_addc(&b, p[i]);
        }
    }
    json_t *v = text(b.data ? b.data : (const uint8_t *)"", b.len);
    dynbuf_cleanup(&b);
    return v;
}

static json_t *name_value(json_t *name, json_t *value)
{
    json_t *o = must(json_object());
    set(o, "name", name);
    set(o, "value", value);
    return o;
}

static json_t *query_string(const struct message *m)
{
    json_t *a = must(json_array());
    if (!(m->flags & MSG_HEAD))
        return a;
    const uint8_t *t = message_at(m, m->head.target);
    size_t n = m->head.target.len;
    const uint8_t *q = memchr(t, '?', n);
    if (!q)
        return a;
    const uint8_t *end = memchr(q, '#', n - (size_t)(q - t));
    end = end ? end : t + n;
    for (const uint8_t *p = q + 1; p < end && json_array_size(a) < HAR_QUERY_MAX;) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        const uint8_t *stop = amp ? amp : end;
        if (stop > p) {
            const uint8_t *eq = memchr(p, '=', (size_t)(stop - p));
            const uint8_t *name_end = eq ? eq : stop;
            json_array_append_new(
                a, name_value(decoded_text(p, (size_t)(name_end - p)),
                              eq ? decoded_text(eq + 1, (size_t)(stop - eq - 1)) : str("")));
        }
        p = stop + 1;
    }
    return a;
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

/* Applies one Set-Cookie attribute to the cookie object. */
static void cookie_attribute(json_t *c, struct piece attr)
{
    struct piece name, value;
    split_pair(attr, &name, &value);
    if (piece_ieq(name, "path")) {
        set(c, "path", text(value.p, value.n));
    } else if (piece_ieq(name, "domain")) {
        set(c, "domain", text(value.p, value.n));
    } else if (piece_ieq(name, "expires")) {
        int64_t secs;
        char iso[40];
        if (cookie_date(value, &secs))
            set(c, "expires", str(jsonout_iso8601(iso, sizeof iso, secs * 1000000000, 3)));
    } else if (piece_ieq(name, "httponly")) {
        set(c, "httpOnly", json_true());
    } else if (piece_ieq(name, "secure")) {
        set(c, "secure", json_true());
    }
}

/* Appends the cookies of one Cookie (request) or Set-Cookie (response) field value. */
static void cookies_of(json_t *a, const uint8_t *v, size_t n, bool set_cookie)
{
    json_t *cookie = NULL;
    for (size_t i = 0; i <= n && json_array_size(a) < HAR_COOKIES_MAX;) {
        const uint8_t *semi = memchr(v + i, ';', n - i);
        size_t end = semi ? (size_t)(semi - v) : n;
        struct piece s = trim(v + i, end - i);
        i = end + 1;
        if (s.n == 0)
            continue;
        if (cookie && set_cookie) {
            cookie_attribute(cookie, s);
            continue;
        }
        struct piece name, value;
        split_pair(s, &name, &value);
        cookie = name_value(text(name.p, name.n), text(value.p, value.n));
        if (set_cookie) {
            set(cookie, "httpOnly", json_false());
            set(cookie, "secure", json_false());
        }
        json_array_append_new(a, cookie);
    }
}

static json_t *cookies(const struct message *m, const char *field, bool set_cookie)
{
    json_t *a = must(json_array());
    const uint8_t *base = message_head_base(m);
    if (!base)
        return a;
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        if (http_span_ieq(base, h->name, field))
            cookies_of(a, base + h->value.off, h->value.len, set_cookie);
    }
    return a;
}

/* ---- request and response ----------------------------------------------------------------- */

static json_t *headers(const struct message *m)
{
    json_t *a = must(json_array());
    const uint8_t *base = message_head_base(m);
    if (!base)
        return a;
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        json_array_append_new(a, name_value(text(base + h->name.off, h->name.len),
                                            text(base + h->value.off, h->value.len)));
    }
    return a;
}

static json_t *http_version(const struct message *m)
{
    if (!(m->flags & MSG_HEAD))
        return str("");
    if (m->head.version.len == 0 && (m->head.flags & HEAD_HTTP09))
        return str("HTTP/0.9");
    return span_text(m, m->head.version);
}

static json_t *header_text(const struct message *m, const char *name, const char *fallback)
{
    size_t n;
    const uint8_t *v = message_header(m, name, &n);
    return v ? text(v, n) : str(fallback);
}

static bool has_body(const struct message *m)
{
    return (m->flags & MSG_HEAD) && m->body_kind != BODY_NONE && m->body_kind != BODY_TUNNEL;
}

/* The payload as kept (chunked framing removed); out must be initialised by the caller. */
static void payload(const struct message *m, const struct har_config *cfg, struct dynbuf *out)
{
    if (has_body(m))
        message_body(m, out, cfg->limits);
}

static json_t *post_data(const struct message *m, const struct har_config *cfg)
{
    struct dynbuf body;
    dynbuf_init(&body, m->raw.len + 1);
    payload(m, cfg, &body);
    json_t *o = must(json_object());
    set(o, "mimeType", header_text(m, "content-type", ""));
    bool b64;
    set(o, "text", jsonout_bytes(body.data, body.len, &b64));
    if (b64)
        set(o, "encoding", str("base64"));
    dynbuf_cleanup(&body);
    return o;
}

static json_t *int_or_unknown(bool known, int64_t v)
{
    return must(json_integer(known ? v : -1));
}

static json_t *request(const struct exchange *ex, const struct har_config *cfg)
{
    const struct message *m = &ex->req;
    bool head = m->flags & MSG_HEAD;
    json_t *o = must(json_object());
    set(o, "method", span_text(m, m->head.method));
    struct dynbuf url;
    dynbuf_init(&url, 3 * (size_t)(m->head.target.len + 1024) + 64);
    har_url(&url, ex);
    set(o, "url", str(dynbuf_str(&url)));
    dynbuf_cleanup(&url);
    set(o, "httpVersion", http_version(m));
    set(o, "cookies", cookies(m, "cookie", false));
    set(o, "headers", headers(m));
    set(o, "queryString", query_string(m));
    if (has_body(m) && (m->body_size > 0 || m->body_wire > 0))
        set(o, "postData", post_data(m, cfg));
    set(o, "headersSize", int_or_unknown(head, m->head.len));
    set(o, "bodySize", int_or_unknown(head, (int64_t)m->body_wire));
    return o;
}

/* response.content: the body with its content coding undone, as browsers record it. */
static json_t *content(const struct message *m, const struct har_config *cfg,
                       struct decode_result *res)
{
    struct dynbuf body;
    dynbuf_init(&body, cfg->decode_max);
    memset(res, 0, sizeof *res);
    res->status = DECODE_IDENTITY;
    if (has_body(m))
        decode_message(m, cfg->limits, cfg->decode_max, &body, res);
    json_t *o = must(json_object());
    /* Without a coding the true size is known even when not every byte was kept. */
    uint64_t size = res->status == DECODE_IDENTITY ? m->body_size : body.len;
    set(o, "size", json_integer((json_int_t)size));
    if (res->status == DECODE_OK && size > m->body_size)
        set(o, "compression", json_integer((json_int_t)(size - m->body_size)));
    set(o, "mimeType", header_text(m, "content-type", "x-unknown"));
    bool b64;
    set(o, "text", jsonout_bytes(body.data, body.len, &b64));
    if (b64)
        set(o, "encoding", str("base64"));
    dynbuf_cleanup(&body);
    return o;
}

static json_t *response(const struct exchange *ex, const struct har_config *cfg,
                        struct decode_result *res)
{
    const struct message *m = &ex->resp;
    bool head = m->flags & MSG_HEAD;
    json_t *o = must(json_object());
    set(o, "status", json_integer(head ? m->head.status : 0));
    set(o, "statusText", span_text(m, m->head.reason));
    set(o, "httpVersion", http_version(m));
    set(o, "cookies", cookies(m, "set-cookie", true));
    set(o, "headers", headers(m));
    set(o, "content", content(m, cfg, res));
    set(o, "redirectURL", header_text(m, "location", ""));
    set(o, "headersSize", int_or_unknown(head, m->head.len));
    set(o, "bodySize", int_or_unknown(head, (int64_t)m->body_wire));
    if (ex->error)
        set(o, "_error", text_s(ex->error));
    return o;
}

/*
 * HAR timings from the phases. blocked: request start to upstream connect (proxy); connect:
 * the upstream connect; send: request (after any connect) until fully sent or forwarded; wait:
 * sent until the first response byte; receive: first to last response byte. -1 when unknown.
 */
static json_t *timings(const struct exchange *ex, double *total)
{
    const int64_t *t = ex->t;
    int64_t send_from = t[T_UP_CONNECTED] ? t[T_UP_CONNECTED] : t[T_REQ_FIRST];
    int64_t sent = t[T_REQ_FORWARDED] ? t[T_REQ_FORWARDED] : t[T_REQ_LAST];
    json_t *o = must(json_object());
    set(o, "blocked", ms_or_unknown(t[T_REQ_FIRST], t[T_UP_CONNECT]));
    set(o, "dns", json_integer(-1));
    set(o, "connect", ms_or_unknown(t[T_UP_CONNECT], t[T_UP_CONNECTED]));
    set(o, "send", ms_or_unknown(send_from, sent));
    set(o, "wait", ms_or_unknown(sent, t[T_RESP_FIRST]));
    set(o, "receive", ms_or_unknown(t[T_RESP_FIRST], t[T_RESP_LAST]));
    set(o, "ssl", json_integer(-1));
    *total = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        double x = json_number_value(v);
        if (x > 0)
            *total += x;
    }
    *total = round(*total * 1000.0) / 1000.0;
    return o;
}

/* ---- _hspy: what HAR has no field for --------------------------------------------------- */

static json_t *int_or_null_u(bool known, uint64_t v)
{
    return known ? must(json_integer((json_int_t)v)) : json_null();
}

static json_t *interim_list(const struct message *m)
{
    json_t *a = must(json_array());
    for (uint8_t i = 0; i < m->ninterim; i++) {
        json_t *o = must(json_object());
        set(o, "offset", json_integer(m->interim[i].off));
        set(o, "size", json_integer(m->interim[i].len));
        set(o, "status", json_integer(m->interim[i].status));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *gap_list(const struct message *m)
{
    json_t *a = must(json_array());
    for (uint16_t i = 0; m->gaps && i < m->ngaps && i < MESSAGE_GAPS_MAX; i++) {
        json_t *o = must(json_object());
        set(o, "offset", json_integer((json_int_t)m->gaps[i].off));
        set(o, "size", json_integer((json_int_t)m->gaps[i].len));
        json_array_append_new(a, o);
    }
    return a;
}

/* Every field of struct message, so HAR import can rebuild it without guessing. */
static json_t *wire_message(const struct message *m)
{
    if (!(m->flags & MSG_STARTED) && m->wire_bytes == 0)
        return json_null();
    bool head = m->flags & MSG_HEAD;
    json_t *o = must(json_object());
    set(o, "raw", jsonout_base64(m->raw.data, m->raw.len));
    set(o, "kept_size", json_integer((json_int_t)m->raw.len));
    set(o, "wire_size", json_integer((json_int_t)m->wire_bytes));
    set(o, "truncated", json_boolean(m->flags & MSG_TRUNCATED));
    set(o, "flags", jsonout_flags(m->flags, message_flag_name));
    set(o, "head_offset", json_integer(m->head_off));
    set(o, "head_size", int_or_null_u(head, m->head.len));
    set(o, "headers_total", json_integer(head ? m->head.total_headers : 0));
    set(o, "body_framing", head ? str(body_kind_name(m->body_kind)) : json_null());
    set(o, "content_length", int_or_null_u(head && m->body_kind == BODY_LENGTH, m->content_length));
    set(o, "body_offset", json_integer((json_int_t)m->body_off));
    set(o, "body_wire_size", json_integer((json_int_t)m->body_wire));
    set(o, "body_size", json_integer((json_int_t)m->body_size));
    set(o, "chunks", json_integer(m->chunks));
    set(o, "trailer_offset", int_or_null_u(m->trailer_off != 0, m->trailer_off));
    set(o, "interim", interim_list(m));
    set(o, "interim_dropped", json_integer(m->interim_dropped));
    set(o, "gaps", gap_list(m));
    set(o, "gap_bytes", json_integer((json_int_t)m->gap_bytes));
    set(o, "sha256", jsonout_sha256(m));
    set(o, "first_byte_ns", jsonout_int_or_null(m->t_first));
    set(o, "last_byte_ns", jsonout_int_or_null(m->t_last));
    return o;
}

static json_t *decode_info(const struct exchange *ex, const struct decode_result *res)
{
    size_t n;
    if (!message_header(&ex->resp, "content-encoding", &n))
        return json_null();
    json_t *o = must(json_object());
    set(o, "status", str(decode_status_label(res->status)));
    set(o, "coding", res->coding[0] ? text_s(res->coding) : json_null());
    set(o, "message", res->message[0] ? text_s(res->message) : json_null());
    set(o, "error_offset",
        res->status == DECODE_ERROR ? json_integer((json_int_t)res->error_offset) : json_null());
    return o;
}

static json_t *phase_times(const struct exchange *ex)
{
    json_t *o = must(json_object());
    for (int i = 0; i < T__COUNT; i++)
        set(o, exchange_time_name((enum exchange_time)i), jsonout_int_or_null(ex->t[i]));
    return o;
}

static json_t *tunnel(const struct exchange *ex)
{
    if (!(ex->flags & EX_TUNNEL))
        return json_null();
    json_t *o = must(json_object());
    set(o, "client_bytes", json_integer((json_int_t)ex->tunnel_bytes[SIDE_CLIENT]));
    set(o, "server_bytes", json_integer((json_int_t)ex->tunnel_bytes[SIDE_SERVER]));
    return o;
}

static json_t *custom(const struct exchange *ex, const struct decode_result *res)
{
    json_t *o = must(json_object());
    set(o, "version", json_integer(HAR_HSPY_VERSION));
    set(o, "id", json_integer((json_int_t)ex->id));
    set(o, "connection", json_integer((json_int_t)ex->conn_id));
    set(o, "seq", json_integer(ex->conn_seq));
    set(o, "client", jsonout_endpoint(&ex->client));
    set(o, "server", jsonout_endpoint(&ex->server));
    set(o, "flags", jsonout_flags(ex->flags, exchange_flag_name));
    set(o, "error", text_s(ex->error));
    set(o, "note", text_s(ex->note));
    set(o, "replay_of",
        (ex->flags & EX_REPLAY) ? jsonout_int_or_null((int64_t)ex->replay_of) : json_null());
    set(o, "timings_ns", phase_times(ex));
    set(o, "warnings", jsonout_warnings(ex));
    set(o, "warnings_dropped", json_integer(ex->warnings_dropped));
    set(o, "tunnel", tunnel(ex));
    set(o, "decode", decode_info(ex, res));
    set(o, "request", wire_message(&ex->req));
    set(o, "response", wire_message(&ex->resp));
    return o;
}

/* ---- entries and documents ---------------------------------------------------------------- */

json_t *har_entry(const struct exchange *ex, const struct har_config *cfg)
{
    json_t *o = must(json_object());
    char iso[40];
    if (cfg->pageref)
        set(o, "pageref", text_s(cfg->pageref));
    set(o, "startedDateTime", str(jsonout_iso8601(iso, sizeof iso, exchange_start(ex), 3)));
    double total;
    json_t *t = timings(ex, &total);
    set(o, "time", json_real(total));
    set(o, "request", request(ex, cfg));
    struct decode_result res;
    set(o, "response", response(ex, cfg, &res));
    set(o, "cache", json_object());
    set(o, "timings", t);
    if (ex->server.family) {
        char addr[ENDPOINT_STRLEN];
        set(o, "serverIPAddress", str(endpoint_format_addr(&ex->server, addr, sizeof addr)));
    }
    if (ex->conn_id) {
        char conn[24];
        snprintf(conn, sizeof conn, "%llu", (unsigned long long)ex->conn_id);
        set(o, "connection", str(conn));
    }
    set(o, "_hspy", custom(ex, &res));
    return o;
}

/* The log object without its entries (the streamed document appends them after). */
static json_t *log_head(json_t *pages)
{
    json_t *o = must(json_object());
    set(o, "version", str("1.2"));
    set(o, "creator", har_creator());
    set(o, "pages", pages ? pages : json_array());
    json_t *h = must(json_object());
    set(h, "version", json_integer(HAR_HSPY_VERSION));
    set(o, "_hspy", h);
    return o;
}

json_t *har_document(json_t *pages, json_t *entries)
{
    json_t *log = log_head(pages);
    set(log, "entries", entries ? entries : json_array());
    json_t *doc = must(json_object());
    set(doc, "log", log);
    return doc;
}

int har_stream_begin(struct dynbuf *out, const json_t *pages)
{
    size_t before = out->len;
    json_t *log = log_head(pages ? json_incref((json_t *)pages) : NULL);
    /* jansson writes the values; the streamed framing around them is fixed text. */
    int rc =
        dynbuf_adds(out, "{\"log\":") == 7 ? jsonwrite_value(out, log, HAR_REAL_PRECISION) : -1;
    json_decref(log);
    if (rc == 0 && out->len > before + 7 && out->data[out->len - 1] == '}') {
        out->len--; /* reopen the log object */
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
    json_t *e = har_entry(ex, cfg);
    int rc = dynbuf_adds(out, first ? "\n" : ",\n") == (first ? 1u : 2u)
                 ? jsonwrite_value(out, e, HAR_REAL_PRECISION)
                 : -1;
    json_decref(e);
    if (rc == 0)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
