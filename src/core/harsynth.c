/*
 * harsynth owns the reading of HAR entries written by other tools (browsers, mitmproxy,
 * Charles): HTTP/1.x bytes made from their fields, framing made consistent with the bodies they
 * hold, and the facts HAR records about the exchange (times, server, connection, error). The
 * conversation engine reads the bytes afterwards (harimport runs it); this file never parses
 * HTTP, never reads files and never sees hspy's own "_hspy" records.
 */
#include "hspy/harsynth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hspy/base64.h"
#include "hspy/form.h"
#include "hspy/jsonget.h"
#include "hspy/plural.h"
#include "hspy/url.h"

static double jnum(const json_t *o, const char *key, double fallback)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

/* ---- times -------------------------------------------------------------------------------- */

static int digits_at(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int harsynth_parse_time(const char *s, int64_t *ns)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 19 || digits_at(s, 4, &y) || s[4] != '-' || digits_at(s + 5, 2, &mo) ||
        s[7] != '-' || digits_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        digits_at(s + 11, 2, &h) || s[13] != ':' || digits_at(s + 14, 2, &mi) || s[16] != ':' ||
        digits_at(s + 17, 2, &sec))
        return -1;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
    int64_t frac = 0;
    const char *p = s + 19;
    if (*p == '.') {
        int64_t scale = 100000000;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += scale * (*p - '0');
    }
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int oh, om = 0;
        if (digits_at(p + 1, 2, &oh))
            return -1;
        const char *q = p + 3;
        if (*q == ':')
            q++;
        if (*q && digits_at(q, 2, &om))
            return -1;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    } else if (*p != 'Z' && *p != '\0') {
        return -1;
    }
    int64_t secs = (int64_t)timegm(&tm) - offset;
    /* Nanoseconds since the epoch run out in 2262. */
    if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
        return -1;
    *ns = secs * 1000000000 + frac;
    return 0;
}

struct url {
    char scheme[16];
    const char *authority;
    size_t authority_len;
    const char *target; /* path and query */
    size_t target_len;
    uint16_t port; /* explicit or the scheme's default */
};

static void parse_url(const char *u, struct url *url)
{
    memset(url, 0, sizeof *url);
    const char *sep = strstr(u, "://");
    const char *p = u;
    if (sep && (size_t)(sep - u) < sizeof url->scheme) {
        for (size_t i = 0; u + i < sep; i++)
            url->scheme[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]);
        p = sep + 3;
        size_t n = strcspn(p, "/?#");
        const char *at = memchr(p, '@', n);
        url->authority = at ? at + 1 : p;
        url->authority_len = n - (size_t)(url->authority - p);
        p += n;
    }
    url->target = p;
    url->target_len = strcspn(p, "#");
    bool tls = strcmp(url->scheme, "https") == 0 || strcmp(url->scheme, "wss") == 0;
    url->port = tls ? 443 : 80;
    const char *a = url->authority;
    size_t an = url->authority_len;
    const char *close = a ? memchr(a, ']', an) : NULL;
    const char *colon =
        a ? memchr(close ? close : a, ':', an - (size_t)((close ? close : a) - a)) : NULL;
    if (colon) {
        int port = atoi(colon + 1);
        if (port > 0 && port < 65536)
            url->port = (uint16_t)port;
    }
}

/* A header value or name as bytes a head can hold: CR, LF and NUL become spaces. */
static bool put_clean(struct dynbuf *out, const char *s, size_t n)
{
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n' || c == '\0')
            c = ' ', changed = true;
        dynbuf_addc(out, (uint8_t)c);
    }
    return changed;
}

/* A message being synthesized, with the note its adjustments go to. */
struct synth {
    struct harsynth_message *msg;
    struct dynbuf *note;
};

static void add_note(struct dynbuf *note, const char *text)
{
    dynbuf_adds(note, "; ");
    dynbuf_adds(note, text);
}

static bool name_is(const char *name, const char *lower)
{
    return name && strcasecmp(name, lower) == 0;
}

/* The version to write: HTTP/1.0 and HTTP/1.1 as recorded, anything else as HTTP/1.1. */
static const char *version_of(const char *v, struct dynbuf *note, const char *side)
{
    if (v && strcasecmp(v, "HTTP/1.0") == 0)
        return "HTTP/1.0";
    if (!v || !v[0] || strcasecmp(v, "HTTP/1.1") == 0)
        return "HTTP/1.1";
    char text[96];
    snprintf(text, sizeof text, "the %s was %.32s, shown as HTTP/1.1", side, v);
    add_note(note, text);
    return "HTTP/1.1";
}

/* True when the header list has a field of that name (lower case). */
static bool has_header(const json_t *headers, const char *lower)
{
    size_t i;
    const json_t *h;
    json_array_foreach(headers, i, h) if (name_is(jsonget_str(h, "name"), lower)) return true;
    return false;
}

/*
 * Writes the header fields, adjusting framing to the body: Content-Length set to its size (or
 * added), Transfer-Encoding dropped, Content-Encoding dropped when the body is stored decoded.
 * Pseudo-headers (HTTP/2) are left out; host_first is written first when there is no Host, and
 * type_last after the listed fields when there is no Content-Type and there is a body.
 */
static void synth_headers(struct synth *m, const json_t *headers, bool has_body, uint64_t size,
                          bool decoded, const char *host_first, const char *type_last)
{
    bool cl_done = false, cleaned = false;
    size_t i;
    const json_t *h;
    if (!has_header(headers, "host") && host_first) {
        dynbuf_printf(&m->msg->bytes, "Host: %s\r\n", host_first);
        add_note(m->note, "Host added from the URL");
    }
    json_array_foreach(headers, i, h)
    {
        const char *name = jsonget_str(h, "name"), *value = jsonget_str(h, "value");
        if (!name || name[0] == ':')
            continue;
        if (has_body && name_is(name, "transfer-encoding")) {
            add_note(m->note, "Transfer-Encoding dropped (the HAR holds the payload)");
            continue;
        }
        if (has_body && decoded && name_is(name, "content-encoding")) {
            add_note(m->note, "Content-Encoding dropped (the HAR holds the decoded body)");
            continue;
        }
        cleaned |= put_clean(&m->msg->bytes, name, jsonget_strlen(h, "name"));
        dynbuf_adds(&m->msg->bytes, ": ");
        if (has_body && name_is(name, "content-length")) {
            if (cl_done)
                continue;
            dynbuf_printf(&m->msg->bytes, "%llu\r\n", (unsigned long long)size);
            if (!value || strtoull(value, NULL, 10) != size)
                add_note(m->note, "Content-Length set to the body's size");
            cl_done = true;
            continue;
        }
        cleaned |= put_clean(&m->msg->bytes, value ? value : "", jsonget_strlen(h, "value"));
        dynbuf_adds(&m->msg->bytes, "\r\n");
    }
    if (has_body && type_last && type_last[0] && !has_header(headers, "content-type")) {
        dynbuf_adds(&m->msg->bytes, "Content-Type: ");
        cleaned |= put_clean(&m->msg->bytes, type_last, strlen(type_last));
        dynbuf_adds(&m->msg->bytes, "\r\n");
        add_note(m->note, "Content-Type added from postData.mimeType");
    }
    if (has_body && !cl_done)
        dynbuf_printf(&m->msg->bytes, "Content-Length: %llu\r\n", (unsigned long long)size);
    if (cleaned)
        add_note(m->note, "CR, LF or NUL in header fields replaced by spaces");
    dynbuf_adds(&m->msg->bytes, "\r\n");
}

/* The body text of postData or content: base64 decoded when so marked. */
static bool body_of(const json_t *o, struct dynbuf *body)
{
    const char *text = jsonget_str(o, "text");
    if (!text)
        return false;
    size_t n = jsonget_strlen(o, "text");
    const char *enc = jsonget_str(o, "encoding");
    if (enc && strcmp(enc, "base64") == 0) {
        dynbuf_init(body, n);
        if (base64_decode(body, text, n) == 0)
            return true;
        dynbuf_cleanup(body);
    }
    dynbuf_init(body, n + 1);
    dynbuf_append(body, text, n);
    return true;
}

/* A Content-Disposition parameter value in quotes: '"', CR and LF percent-encoded (RFC 7578
 * section 2 and HTML's form encoding do the same). */
static void quoted(struct dynbuf *b, const char *s, size_t n)
{
    dynbuf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            dynbuf_adds(b, "%22");
        else if (s[i] == '\r')
            dynbuf_adds(b, "%0D");
        else if (s[i] == '\n')
            dynbuf_adds(b, "%0A");
        else
            dynbuf_addc(b, (uint8_t)s[i]);
    }
    dynbuf_addc(b, '"');
}

/*
 * postData.params as a multipart/form-data body with the boundary of the request's type: one
 * part per param, fileName and contentType in its headers, value as its content. A file part
 * without a value is written empty and noted (HAR has no place for its bytes but text).
 */
static void multipart_of(const json_t *params, const char *boundary, struct dynbuf *body,
                         struct dynbuf *note)
{
    size_t i, empty_files = 0;
    const json_t *p;
    json_array_foreach(params, i, p)
    {
        const char *name = jsonget_str(p, "name"), *file = jsonget_str(p, "fileName");
        const char *type = jsonget_str(p, "contentType"), *value = jsonget_str(p, "value");
        dynbuf_printf(body, "--%s\r\nContent-Disposition: form-data; name=", boundary);
        quoted(body, name ? name : "", jsonget_strlen(p, "name"));
        if (file) {
            dynbuf_adds(body, "; filename=");
            quoted(body, file, jsonget_strlen(p, "fileName"));
            empty_files += !value;
        }
        dynbuf_adds(body, "\r\n");
        if (type && type[0]) {
            dynbuf_adds(body, "Content-Type: ");
            put_clean(body, type, jsonget_strlen(p, "contentType"));
            dynbuf_adds(body, "\r\n");
        }
        dynbuf_adds(body, "\r\n");
        if (value)
            dynbuf_append(body, value, jsonget_strlen(p, "value"));
        dynbuf_adds(body, "\r\n");
    }
    dynbuf_printf(body, "--%s--\r\n", boundary);
    if (empty_files) {
        char text[96];
        snprintf(text, sizeof text, "%zu file part%s written empty (the HAR lacks the content)",
                 empty_files, plural(empty_files, "", "s"));
        add_note(note, text);
    }
}

/*
 * postData.params as the body, when there is no text: a multipart/form-data body when the
 * request's type (type: its Content-Type, else postData.mimeType) is that with a boundary,
 * otherwise an application/x-www-form-urlencoded form. HAR holds a form's names and values
 * decoded, so each is encoded again ('b c' = '2&3' is b+c=2%263).
 */
static bool params_of(const json_t *post, const char *type, struct dynbuf *body,
                      struct dynbuf *note)
{
    const json_t *params = json_object_get(post, "params");
    if (!json_array_size(params))
        return false;
    dynbuf_init(body, HARSYNTH_MESSAGE_MAX);
    char boundary[FORM_BOUNDARY_MAX];
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0 &&
        form_boundary((const uint8_t *)type, strlen(type), boundary, sizeof boundary) == 0) {
        multipart_of(params, boundary, body, note);
        return true;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(params, i, p)
    {
        if (i)
            dynbuf_addc(body, '&');
        const char *name = jsonget_str(p, "name"), *value = jsonget_str(p, "value");
        if (name)
            url_encode_form((const uint8_t *)name, jsonget_strlen(p, "name"), body);
        dynbuf_addc(body, '=');
        if (value)
            url_encode_form((const uint8_t *)value, jsonget_strlen(p, "value"), body);
    }
    return true;
}

/* The request's Content-Type as listed, else postData.mimeType (NULL when neither). */
static const char *request_type(const json_t *headers, const char *mime)
{
    size_t i;
    const json_t *h;
    json_array_foreach(headers, i, h) if (name_is(jsonget_str(h, "name"),
                                                  "content-type")) return jsonget_str(h, "value");
    return mime;
}

static void synth_request(const json_t *req, const struct url *url, struct synth *m)
{
    const char *method = jsonget_str(req, "method");
    dynbuf_adds(&m->msg->bytes, method && method[0] ? method : "GET");
    dynbuf_addc(&m->msg->bytes, ' ');
    if (url->authority && strcmp(url->scheme, "http") != 0) {
        /* Not plain http: the request line keeps the whole URL, so nothing of it is lost. */
        dynbuf_append(&m->msg->bytes, jsonget_str(req, "url"),
                      (size_t)(url->target - jsonget_str(req, "url")));
        add_note(m->note, "the request line holds the absolute URL");
    }
    if (url->target_len)
        put_clean(&m->msg->bytes, url->target, url->target_len);
    else
        dynbuf_addc(&m->msg->bytes, '/');
    dynbuf_addc(&m->msg->bytes, ' ');
    dynbuf_adds(&m->msg->bytes, version_of(jsonget_str(req, "httpVersion"), m->note, "request"));
    dynbuf_adds(&m->msg->bytes, "\r\n");
    char host[300] = "";
    if (url->authority)
        snprintf(host, sizeof host, "%.*s", (int)url->authority_len, url->authority);
    const json_t *post = json_object_get(req, "postData");
    const json_t *headers = json_object_get(req, "headers");
    const char *mime = jsonget_str(post, "mimeType");
    struct dynbuf body;
    bool has_body =
        body_of(post, &body) || params_of(post, request_type(headers, mime), &body, m->note);
    synth_headers(m, headers, has_body, has_body ? body.len : 0, false, host[0] ? host : NULL,
                  mime);
    if (has_body) {
        dynbuf_append(&m->msg->bytes, body.data, body.len);
        dynbuf_cleanup(&body);
    }
}

static bool bodiless(int status, const char *method)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304 ||
           (method && strcmp(method, "HEAD") == 0);
}

static void synth_response(const json_t *resp, const char *method, struct synth *m)
{
    int status = (int)jsonget_int(resp, "status", 0);
    const char *reason = jsonget_str(resp, "statusText");
    dynbuf_printf(&m->msg->bytes, "%s %03d ",
                  version_of(jsonget_str(resp, "httpVersion"), m->note, "response"), status);
    put_clean(&m->msg->bytes, reason ? reason : "", jsonget_strlen(resp, "statusText"));
    dynbuf_adds(&m->msg->bytes, "\r\n");
    const json_t *content = json_object_get(resp, "content");
    const json_t *headers = json_object_get(resp, "headers");
    if (bodiless(status, method)) {
        synth_headers(m, headers, false, 0, false, NULL, NULL);
        return;
    }
    struct dynbuf body;
    if (body_of(content, &body)) {
        synth_headers(m, headers, true, body.len, true, NULL, NULL);
        dynbuf_append(&m->msg->bytes, body.data, body.len);
        dynbuf_cleanup(&body);
        return;
    }
    int64_t size = jsonget_int(content, "size", 0);
    m->msg->missing = size > 0 ? (uint64_t)size : 0;
    synth_headers(m, headers, true, m->msg->missing, true, NULL, NULL);
    if (m->msg->missing) {
        char text[96];
        snprintf(text, sizeof text, "the response body is not in the HAR (%lld bytes)",
                 (long long)size);
        add_note(m->note, text);
    }
}

/* A HAR duration in ms as ns; negative (not applicable), absurd and non-numbers as 0. */
static int64_t ms_ns(double ms)
{
    return ms > 0 && ms < 1e12 ? (int64_t)(ms * 1e6) : 0;
}

/* Phase times from startedDateTime and timings (ms; -1 when not applicable). */
static void foreign_times(struct exchange *ex, const json_t *entry, bool response)
{
    int64_t t0;
    if (harsynth_parse_time(jsonget_str(entry, "startedDateTime"), &t0) != 0)
        return;
    const json_t *t = json_object_get(entry, "timings");
    double connect = jnum(t, "connect", -1);
    int64_t at = t0 + ms_ns(jnum(t, "blocked", -1)) + ms_ns(jnum(t, "dns", -1));
    ex->t[T_REQ_FIRST] = t0;
    if (connect >= 0) {
        ex->t[T_UP_CONNECT] = at;
        at += ms_ns(connect);
        ex->t[T_UP_CONNECTED] = at;
    }
    ex->t[T_REQ_HEAD] = at;
    ex->t[T_REQ_LAST] = at + ms_ns(jnum(t, "send", 0));
    ex->req.t_first = t0;
    ex->req.t_last = ex->t[T_REQ_LAST];
    if (!response)
        return;
    ex->t[T_RESP_FIRST] = ex->t[T_REQ_LAST] + ms_ns(jnum(t, "wait", 0));
    ex->t[T_RESP_HEAD] = ex->t[T_RESP_FIRST];
    ex->t[T_RESP_LAST] = ex->t[T_RESP_FIRST] + ms_ns(jnum(t, "receive", 0));
    ex->resp.t_first = ex->t[T_RESP_FIRST];
    ex->resp.t_last = ex->t[T_RESP_LAST];
}

/* Connection numbers: the entry's own when numeric, else a new one; position counted. */
static void foreign_connection(struct harsynth *h, struct exchange *ex, const json_t *entry)
{
    const char *conn = jsonget_str(entry, "connection");
    char *end = NULL;
    unsigned long long id = conn ? strtoull(conn, &end, 10) : 0;
    ex->conn_id = conn && *conn && end && !*end && id ? (uint64_t)id : ++*h->next_conn_id;
    size_t slot = ex->conn_id % HARSYNTH_CONN_SLOTS;
    if (h->conns[slot].conn_id != ex->conn_id)
        h->conns[slot].conn_id = ex->conn_id, h->conns[slot].seq = 0;
    ex->conn_seq = ++h->conns[slot].seq;
}

static void foreign_server(struct exchange *ex, const json_t *entry, const struct url *url)
{
    const char *ip = jsonget_str(entry, "serverIPAddress");
    if (!ip)
        return;
    char addr[64];
    size_t n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']' && n - 2 < sizeof addr)
        snprintf(addr, sizeof addr, "%.*s", (int)(n - 2), ip + 1);
    else
        snprintf(addr, sizeof addr, "%s", ip);
    endpoint_set(&ex->server, addr, url->port);
}

/* ---- entries ------------------------------------------------------------------------------ */

void harsynth_init(struct harsynth *h, uint64_t *next_conn_id)
{
    memset(h, 0, sizeof *h);
    h->next_conn_id = next_conn_id;
}

static void synth_init(struct harsynth_message *m)
{
    memset(m, 0, sizeof *m);
    dynbuf_init(&m->bytes, HARSYNTH_MESSAGE_MAX);
}

int harsynth_messages(struct harsynth *h, const json_t *entry, struct harsynth_message msg[2],
                      struct dynbuf *note, char *why, size_t whylen)
{
    const json_t *req = json_object_get(entry, "request");
    const json_t *resp = json_object_get(entry, "response");
    synth_init(&msg[SIDE_CLIENT]);
    synth_init(&msg[SIDE_SERVER]);
    if (!json_is_object(req) || !jsonget_str(req, "url")) {
        snprintf(why, whylen, "request.url is missing");
        return -1;
    }
    dynbuf_printf(note, "imported from a HAR entry%s%s: HTTP/1.x bytes synthesized",
                  h->creator[0] ? " of " : "", h->creator);
    struct url url;
    parse_url(jsonget_str(req, "url"), &url);
    struct synth q = {&msg[SIDE_CLIENT], note}, r = {&msg[SIDE_SERVER], note};
    synth_request(req, &url, &q);
    msg[SIDE_CLIENT].present = true;
    if (json_is_object(resp) && jsonget_int(resp, "status", 0) > 0) {
        synth_response(resp, jsonget_str(req, "method"), &r);
        msg[SIDE_SERVER].present = true;
    }
    return 0;
}

void harsynth_messages_cleanup(struct harsynth_message msg[2])
{
    dynbuf_cleanup(&msg[SIDE_CLIENT].bytes);
    dynbuf_cleanup(&msg[SIDE_SERVER].bytes);
}

void harsynth_apply(struct harsynth *h, const json_t *entry, struct exchange *ex, const char *note)
{
    const json_t *req = json_object_get(entry, "request");
    const json_t *resp = json_object_get(entry, "response");
    struct url url;
    parse_url(jsonget_str(req, "url") ? jsonget_str(req, "url") : "", &url);
    memset(ex->t, 0, sizeof ex->t);
    foreign_times(ex, entry, json_is_object(resp) && jsonget_int(resp, "status", 0) > 0);
    foreign_connection(h, ex, entry);
    foreign_server(ex, entry, &url);
    ex->note = arena_strdup(&ex->arena, note);
    const char *error = resp ? jsonget_str(resp, "_error") : NULL;
    if (error && error[0])
        ex->error = arena_strdup(&ex->arena, error);
}
