/*
 * jsonout owns the --json record: the mapping from an exchange to a JSON object (schema in
 * docs/json.md) and the small builders the HAR writer shares. It reads exchanges and never
 * changes them; it writes only into jansson values and the caller's buffers.
 */
#include "hspy/jsonout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/cache.h"
#include "hspy/civil.h"
#include "hspy/decode.h"
#include "hspy/framing.h"
#include "hspy/jsonwrite.h"
#include "hspy/sha256.h"
#include "hspy/utf8.h"
#include "hspy/warning.h"
#include "hspy/xmalloc.h"

/* Builders never fail except on out-of-memory, which jansson reports as NULL: treat as fatal. */
static json_t *must(json_t *v)
{
    return xnonnull(v);
}

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new_nocheck(obj, key, must(value));
}

/* Strings whose UTF-8 validity was checked (or that hspy wrote itself). */
static json_t *str_n(const void *p, size_t n)
{
    return must(json_stringn_nocheck(p, n));
}

static json_t *str(const char *s)
{
    return str_n(s, strlen(s));
}

/* A string made valid by replacing bad bytes with U+FFFD (texts hspy composed from traffic). */
static json_t *lossy(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (utf8_valid((const uint8_t *)s, n))
        return str_n(s, n);
    struct dynbuf b;
    dynbuf_init(&b, 3 * n + 1);
    utf8_sanitize(&b, (const uint8_t *)s, n);
    json_t *v = str_n(dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
    return v;
}

json_t *jsonout_base64(const uint8_t *p, size_t n)
{
    struct dynbuf b;
    dynbuf_init(&b, base64_encoded_len(n) + 1);
    base64_encode(&b, p, n);
    json_t *v = str_n(dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
    return v;
}

json_t *jsonout_bytes(const uint8_t *p, size_t n, bool *base64)
{
    *base64 = !utf8_valid(p, n);
    return *base64 ? jsonout_base64(p, n) : str_n(n ? (const char *)p : "", n);
}

json_t *jsonout_text_or_base64(const uint8_t *p, size_t n)
{
    bool b64;
    json_t *v = jsonout_bytes(p, n, &b64);
    if (!b64)
        return v;
    json_t *o = must(json_object());
    set(o, "base64", v);
    return o;
}

json_t *jsonout_int_or_null(int64_t v)
{
    return v ? must(json_integer(v)) : json_null();
}

json_t *jsonout_endpoint(const struct endpoint *e)
{
    if (e->family == 0)
        return json_null();
    char addr[ENDPOINT_STRLEN];
    endpoint_format_addr(e, addr, sizeof addr);
    json_t *o = must(json_object());
    set(o, "ip", str(addr));
    set(o, "port", json_integer(e->port));
    return o;
}

json_t *jsonout_flags(uint32_t flags, const char *(*name_of)(uint32_t))
{
    json_t *a = must(json_array());
    for (unsigned bit = 0; bit < 32; bit++)
        if (flags & ((uint32_t)1 << bit))
            json_array_append_new(a, str(name_of((uint32_t)1 << bit)));
    return a;
}

const char *jsonout_side_name(enum side side)
{
    return side == SIDE_CLIENT ? "request" : "response";
}

json_t *jsonout_warnings(const struct exchange *ex)
{
    json_t *a = must(json_array());
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        json_t *o = must(json_object());
        set(o, "code", str(warning_name(w->code)));
        set(o, "side", str(jsonout_side_name(w->side)));
        set(o, "offset", json_integer((json_int_t)w->offset));
        set(o, "detail", lossy(w->detail));
        set(o, "explanation", lossy(warning_explain(w->code)));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *jsonout_headers(const uint8_t *base, const struct http_head *head)
{
    json_t *a = must(json_array());
    for (uint32_t i = 0; i < head->nheaders; i++) {
        const struct http_header *h = &head->headers[i];
        json_t *pair = must(json_array());
        json_array_append_new(pair, jsonout_text_or_base64(base + h->name.off, h->name.len));
        json_array_append_new(pair, jsonout_text_or_base64(base + h->value.off, h->value.len));
        json_array_append_new(a, pair);
    }
    return a;
}

/* Writes n decimal digits of v (zero-padded) at p; returns p + n. */
static char *digits_at(char *p, unsigned long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

char *jsonout_iso8601(char *buf, size_t len, int64_t ns, int digits)
{
    if (ns < 0)
        ns = 0;
    int64_t secs = ns / 1000000000;
    unsigned long frac = (unsigned long)(ns % 1000000000);
    int64_t days = civil_day_of_time(secs), rem = secs - days * 86400;
    struct civil_date date = civil_date_of(days);
    /* "YYYY-MM-DDTHH:MM:SS[.fff]Z" written digit by digit: this runs once per printed
     * exchange, and strftime plus snprintf cost more than the rest of a log line. */
    char tmp[40], *p = tmp;
    p = digits_at(p, (unsigned long)date.year, 4);
    *p++ = '-';
    p = digits_at(p, (unsigned long)date.month, 2);
    *p++ = '-';
    p = digits_at(p, (unsigned long)date.day, 2);
    *p++ = 'T';
    p = digits_at(p, (unsigned long)(rem / 3600), 2);
    *p++ = ':';
    p = digits_at(p, (unsigned long)(rem / 60 % 60), 2);
    *p++ = ':';
    p = digits_at(p, (unsigned long)(rem % 60), 2);
    if (digits > 0) {
        if (digits > 9)
            digits = 9;
        for (int i = digits; i < 9; i++)
            frac /= 10;
        *p++ = '.';
        p = digits_at(p, frac, digits);
    }
    *p++ = 'Z';
    size_t n = (size_t)(p - tmp);
    if (len == 0)
        return buf;
    if (n >= len)
        n = len - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}

/* A span of the message's final head as a string (or {"base64"}), null without a head. */
static json_t *span_json(const struct message *m, struct http_span s)
{
    if (!(m->flags & MSG_HEAD))
        return json_null();
    return jsonout_text_or_base64(message_at(m, s), s.len);
}

/* How much of p[0..n) to show under limit: cut back to a UTF-8 character start so that text
 * stays text. */
static size_t cut_at_char(const uint8_t *p, size_t n, size_t limit)
{
    if (n <= limit)
        return n;
    size_t cut = limit;
    for (int back = 0; back < 3 && cut > 0 && (p[cut] & 0xc0) == 0x80; back++)
        cut--;
    return cut;
}

/* Appends body, body_encoding and body_truncated: the payload as kept, chunked framing removed,
 * at most cfg->body_limit bytes of it. */
static void add_body(json_t *o, const struct message *m, const struct jsonout_config *cfg)
{
    struct dynbuf body;
    dynbuf_init(&body, m->raw.len + 1);
    bool whole = true;
    const uint8_t *p = body.data;
    size_t n = 0;
    if ((m->flags & MSG_HEAD) && m->body_kind != BODY_NONE && m->body_kind != BODY_TUNNEL) {
        /* Identity bodies are read in place; only chunked ones are copied to remove framing. */
        p = message_body_view(m, &n, &whole);
        if (!p) {
            whole = message_body(m, &body, cfg->limits);
            p = body.data;
            n = body.len;
        }
    }
    if (!p)
        p = (const uint8_t *)"";
    size_t shown = cut_at_char(p, n, cfg->body_limit);
    bool b64;
    set(o, "body", jsonout_bytes(p, shown, &b64));
    set(o, "body_encoding", str(b64 ? "base64" : "utf-8"));
    set(o, "body_truncated", json_boolean(!whole || shown < n));
    dynbuf_cleanup(&body);
}

/* The body with its Content-Encoding undone, or null when the message declares no coding. */
static json_t *decoded_json(const struct message *m, const struct jsonout_config *cfg)
{
    size_t celen;
    if (cfg->decode_max == 0 || !message_header(m, "content-encoding", &celen))
        return json_null();
    struct dynbuf out;
    dynbuf_init(&out, cfg->decode_max);
    struct decode_result res;
    enum decode_status st = decode_message(m, cfg->limits, cfg->decode_max, &out, &res);
    json_t *o = must(json_object());
    set(o, "status", str(decode_status_label(st)));
    set(o, "coding", res.coding[0] ? lossy(res.coding) : json_null());
    set(o, "message", res.message[0] ? lossy(res.message) : json_null());
    set(o, "error_offset",
        st == DECODE_ERROR ? json_integer((json_int_t)res.error_offset) : json_null());
    set(o, "size", json_integer((json_int_t)out.len));
    size_t shown = cut_at_char(out.data ? out.data : (const uint8_t *)"", out.len, cfg->body_limit);
    bool b64;
    set(o, "body", jsonout_bytes(out.data, shown, &b64));
    set(o, "body_encoding", str(b64 ? "base64" : "utf-8"));
    set(o, "body_truncated", json_boolean(shown < out.len));
    dynbuf_cleanup(&out);
    return o;
}

json_t *jsonout_sha256(const struct message *m)
{
    uint8_t sum[32];
    if (!message_sha256(m, sum))
        return json_null();
    char hex[65];
    sha256_hex(sum, hex);
    return str_n(hex, 64);
}

/* Interim (1xx) responses, re-parsed from raw: status, reason and headers of each. */
static json_t *interim_json(const struct message *m, const struct jsonout_config *cfg)
{
    json_t *a = must(json_array());
    struct http_header headers[JSONOUT_INTERIM_HEADERS_MAX];
    for (uint8_t i = 0; i < m->ninterim; i++) {
        const struct message_interim *in = &m->interim[i];
        json_t *o = must(json_object());
        set(o, "status", json_integer(in->status));
        struct http_head head = {.headers = headers, .cap = JSONOUT_INTERIM_HEADERS_MAX};
        const uint8_t *base = m->raw.data + in->off;
        if (in->off + (size_t)in->len <= m->raw.len &&
            http_head_parse(base, in->len, HTTP_RESPONSE, cfg->limits, NULL, &head, NULL) > 0) {
            set(o, "reason", jsonout_text_or_base64(base + head.reason.off, head.reason.len));
            set(o, "headers", jsonout_headers(base, &head));
            set(o, "headers_total", json_integer(head.total_headers));
        }
        set(o, "size", json_integer(in->len));
        json_array_append_new(a, o);
    }
    return a;
}

static void add_start_line(json_t *o, const struct message *m, enum side side,
                           const struct jsonout_config *cfg)
{
    if (side == SIDE_CLIENT) {
        set(o, "method", span_json(m, m->head.method));
        set(o, "target", span_json(m, m->head.target));
        set(o, "version", span_json(m, m->head.version));
        return;
    }
    set(o, "status", (m->flags & MSG_HEAD) ? json_integer(m->head.status) : json_null());
    set(o, "reason", span_json(m, m->head.reason));
    set(o, "version", span_json(m, m->head.version));
    set(o, "interim", interim_json(m, cfg));
    set(o, "interim_dropped", json_integer(m->interim_dropped));
}

static json_t *message_json(const struct message *m, enum side side,
                            const struct jsonout_config *cfg)
{
    if (!(m->flags & MSG_STARTED) && m->wire_bytes == 0)
        return json_null();
    json_t *o = must(json_object());
    bool head = m->flags & MSG_HEAD;
    add_start_line(o, m, side, cfg);
    set(o, "headers", head ? jsonout_headers(message_head_base(m), &m->head) : json_array());
    set(o, "headers_total", json_integer(head ? m->head.total_headers : 0));
    set(o, "head_size", head ? json_integer(m->head.len) : json_null());
    set(o, "wire_size", json_integer((json_int_t)m->wire_bytes));
    set(o, "kept_size", json_integer((json_int_t)m->raw.len));
    set(o, "body_framing", head ? str(body_kind_name(m->body_kind)) : json_null());
    set(o, "content_length",
        head && m->body_kind == BODY_LENGTH ? json_integer((json_int_t)m->content_length)
                                            : json_null());
    set(o, "body_size", json_integer((json_int_t)m->body_size));
    set(o, "body_wire_size", json_integer((json_int_t)m->body_wire));
    set(o, "chunks", json_integer(m->chunks));
    add_body(o, m, cfg);
    set(o, "decoded", head ? decoded_json(m, cfg) : json_null());
    set(o, "gap_bytes", json_integer((json_int_t)m->gap_bytes));
    set(o, "sha256", jsonout_sha256(m));
    set(o, "flags", jsonout_flags(m->flags, message_flag_name));
    if (!head) {
        /* Nothing could be parsed: the bytes themselves are the only record. */
        bool b64;
        set(o, "raw", jsonout_bytes(m->raw.data, m->raw.len, &b64));
        set(o, "raw_encoding", str(b64 ? "base64" : "utf-8"));
    }
    return o;
}

/* Earliest phase reached, 0 when none. */
static int64_t started_ns(const struct exchange *ex)
{
    int64_t t0 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] && (!t0 || ex->t[i] < t0))
            t0 = ex->t[i];
    return t0;
}

static void add_times(json_t *o, const struct exchange *ex)
{
    int64_t t0 = started_ns(ex);
    char iso[40];
    set(o, "started", t0 ? str(jsonout_iso8601(iso, sizeof iso, t0, 9)) : json_null());
    set(o, "started_ns", jsonout_int_or_null(t0));
    int64_t d = exchange_duration(ex);
    set(o, "duration_ns", d >= 0 ? json_integer(d) : json_null());
    json_t *t = must(json_object());
    for (int i = 0; i < T__COUNT; i++)
        set(t, exchange_time_name((enum exchange_time)i),
            ex->t[i] ? json_integer(ex->t[i] - t0) : json_null());
    set(o, "timings", t);
}

static json_t *tunnel_json(const struct exchange *ex)
{
    if (!(ex->flags & EX_TUNNEL))
        return json_null();
    json_t *o = must(json_object());
    set(o, "client_bytes", json_integer((json_int_t)ex->tunnel_bytes[SIDE_CLIENT]));
    set(o, "server_bytes", json_integer((json_int_t)ex->tunnel_bytes[SIDE_SERVER]));
    return o;
}

json_t *jsonout_exchange(const struct exchange *ex, const struct jsonout_config *cfg)
{
    json_t *o = must(json_object());
    set(o, "hspy_json", json_integer(JSONOUT_VERSION));
    set(o, "id", json_integer((json_int_t)ex->id));
    set(o, "connection", json_integer((json_int_t)ex->conn_id));
    set(o, "seq", json_integer(ex->conn_seq));
    set(o, "client", jsonout_endpoint(&ex->client));
    set(o, "server", jsonout_endpoint(&ex->server));
    add_times(o, ex);
    set(o, "request", message_json(&ex->req, SIDE_CLIENT, cfg));
    set(o, "response", message_json(&ex->resp, SIDE_SERVER, cfg));
    set(o, "tunnel", tunnel_json(ex));
    struct cache_report cache;
    cache_analyze(ex, &cache);
    set(o, "cache", cache_json(&cache));
    set(o, "warnings", jsonout_warnings(ex));
    set(o, "warnings_dropped", json_integer(ex->warnings_dropped));
    set(o, "flags", jsonout_flags(ex->flags, exchange_flag_name));
    set(o, "error", lossy(ex->error));
    set(o, "note", lossy(ex->note));
    set(o, "replay_of",
        (ex->flags & EX_REPLAY) ? jsonout_int_or_null((int64_t)ex->replay_of) : json_null());
    return o;
}

int jsonout_dump(struct dynbuf *out, const json_t *value, size_t extra_flags)
{
    /* JSON_REAL_PRECISION(n) keeps n in bits 11..15 of the flags. */
    return jsonwrite_value(out, value, (int)((extra_flags >> 11) & 0x1f));
}

int jsonout_line(struct dynbuf *out, const struct exchange *ex, const struct jsonout_config *cfg)
{
    size_t before = out->len;
    json_t *o = jsonout_exchange(ex, cfg);
    int rc = jsonwrite_value(out, o, 0);
    json_decref(o);
    if (rc == 0 && dynbuf_addc(out, '\n') == 1)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
