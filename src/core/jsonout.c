/*
 * jsonout owns the --json record: the mapping from an exchange to a JSON object (schema in
 * docs/json.md) and the small pieces the HAR writer shares. Each is described once, as calls on
 * a jsonwrite, so the JSON line is written straight as text (no tree per exchange: building
 * and freeing one cost more than the rest of reading a capture) and the same description gives
 * a jansson value where one is wanted. It reads exchanges and never changes them; it writes only
 * into the writer and the caller's buffers.
 */
#include "hspy/jsonout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/cache.h"
#include "hspy/civil.h"
#include "hspy/decimal.h"
#include "hspy/decode.h"
#include "hspy/framing.h"
#include "hspy/sha256.h"
#include "hspy/utf8.h"
#include "hspy/warning.h"

/* A text hspy composed (it may hold bytes of traffic), or null. */
static void lossy(struct jsonwrite *w, const char *s)
{
    if (s)
        jsonwrite_lossy(w, s, strlen(s));
    else
        jsonwrite_null(w);
}

void jsonout_write_base64(struct jsonwrite *w, const uint8_t *p, size_t n)
{
    struct dynbuf b;
    dynbuf_init(&b, base64_encoded_len(n) + 1);
    base64_encode(&b, p, n);
    jsonwrite_string(w, dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
}

/* p[0..n) as a string: text when valid UTF-8, else base64. Returns true for base64. */
bool jsonout_write_bytes(struct jsonwrite *w, const uint8_t *p, size_t n)
{
    if (utf8_valid(p, n)) {
        jsonwrite_string(w, (const char *)p, n);
        return false;
    }
    jsonout_write_base64(w, p, n);
    return true;
}

static void write_text_or_base64(struct jsonwrite *w, const uint8_t *p, size_t n)
{
    if (utf8_valid(p, n)) {
        jsonwrite_string(w, (const char *)p, n);
        return;
    }
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "base64");
    jsonout_write_base64(w, p, n);
    jsonwrite_end(w);
}

void jsonout_write_endpoint(struct jsonwrite *w, const struct endpoint *e)
{
    if (e->family == 0) {
        jsonwrite_null(w);
        return;
    }
    char addr[ENDPOINT_STRLEN];
    endpoint_format_addr(e, addr, sizeof addr);
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "ip");
    jsonwrite_cstring(w, addr);
    jsonwrite_name(w, "port");
    jsonwrite_int(w, e->port);
    jsonwrite_end(w);
}

void jsonout_write_flags(struct jsonwrite *w, uint32_t flags, const char *(*name_of)(uint32_t))
{
    jsonwrite_begin_array(w);
    for (unsigned bit = 0; bit < 32; bit++)
        if (flags & ((uint32_t)1 << bit))
            jsonwrite_cstring(w, name_of((uint32_t)1 << bit));
    jsonwrite_end(w);
}

void jsonout_write_warnings(struct jsonwrite *w, const struct exchange *ex)
{
    jsonwrite_begin_array(w);
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *wa = &ex->warnings[i];
        jsonwrite_begin_object(w);
        jsonwrite_name(w, "code");
        jsonwrite_cstring(w, warning_name(wa->code));
        jsonwrite_name(w, "side");
        jsonwrite_cstring(w, jsonout_side_name(wa->side));
        jsonwrite_name(w, "offset");
        jsonwrite_int(w, (int64_t)wa->offset);
        jsonwrite_name(w, "detail");
        lossy(w, wa->detail);
        jsonwrite_name(w, "explanation");
        lossy(w, warning_explain(wa->code));
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

static void write_headers(struct jsonwrite *w, const uint8_t *base, const struct http_head *head)
{
    jsonwrite_begin_array(w);
    for (uint32_t i = 0; i < head->nheaders; i++) {
        const struct http_header *h = &head->headers[i];
        jsonwrite_begin_array(w);
        write_text_or_base64(w, base + h->name.off, h->name.len);
        write_text_or_base64(w, base + h->value.off, h->value.len);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

void jsonout_write_sha256(struct jsonwrite *w, const struct message *m)
{
    uint8_t sum[SHA256_DIGEST_LEN];
    if (!message_sha256(m, sum)) {
        jsonwrite_null(w);
        return;
    }
    char hex[SHA256_HEX_SIZE];
    sha256_hex(sum, hex);
    jsonwrite_string(w, hex, 64);
}

const char *jsonout_side_name(enum side side)
{
    return side == SIDE_CLIENT ? "request" : "response";
}

/* ---- the building blocks as jansson values ----------------------------------------------- */

json_t *jsonout_base64(const uint8_t *p, size_t n)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write_base64(&w, p, n);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_bytes(const uint8_t *p, size_t n, bool *base64)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    *base64 = jsonout_write_bytes(&w, p, n);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_text_or_base64(const uint8_t *p, size_t n)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    write_text_or_base64(&w, p, n);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_int_or_null(int64_t v)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonwrite_int_or_null(&w, v != 0, v);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_endpoint(const struct endpoint *e)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write_endpoint(&w, e);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_flags(uint32_t flags, const char *(*name_of)(uint32_t))
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write_flags(&w, flags, name_of);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_warnings(const struct exchange *ex)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write_warnings(&w, ex);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_headers(const uint8_t *base, const struct http_head *head)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    write_headers(&w, base, head);
    return jsonwrite_take_all(&w);
}

json_t *jsonout_sha256(const struct message *m)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write_sha256(&w, m);
    return jsonwrite_take_all(&w);
}

/* Spells the whole second secs ("YYYY-MM-DDTHH:MM:SS") into c and remembers it. */
static void clock_set(struct jsonout_clock *c, int64_t secs)
{
    int64_t days = civil_day_of_time(secs), rem = secs - days * 86400;
    struct civil_date date = civil_date_of(days);
    /* Written digit by digit: this runs once per printed exchange (or second), and strftime
     * plus snprintf cost more than the rest of a log line. */
    char *p = c->text;
    p = decimal_padded(p, (uint64_t)date.year, 4);
    *p++ = '-';
    p = decimal_padded(p, (uint64_t)date.month, 2);
    *p++ = '-';
    p = decimal_padded(p, (uint64_t)date.day, 2);
    *p++ = 'T';
    p = decimal_padded(p, (uint64_t)(rem / 3600), 2);
    *p++ = ':';
    p = decimal_padded(p, (uint64_t)(rem / 60 % 60), 2);
    *p++ = ':';
    decimal_padded(p, (uint64_t)(rem % 60), 2);
    c->sec = secs;
}

void jsonout_clock_init(struct jsonout_clock *c)
{
    c->sec = -1;
}

/* secs (not negative) and frac nanoseconds, spelled through the clock c. */
static char *spell(struct jsonout_clock *c, char *buf, size_t len, int64_t secs, unsigned long frac,
                   int digits)
{
    if (c->sec != secs)
        clock_set(c, secs);
    char tmp[40], *p = tmp;
    memcpy(p, c->text, sizeof c->text);
    p += sizeof c->text;
    if (digits > 0) {
        static const unsigned long DROP[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                               10000,      1000,      100,      10,      1};
        if (digits > 9)
            digits = 9;
        frac /= DROP[digits];
        *p++ = '.';
        p = decimal_padded(p, frac, digits);
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

char *jsonout_iso8601_at(struct jsonout_clock *c, char *buf, size_t len, int64_t ns, int digits)
{
    if (ns < 0)
        ns = 0;
    return spell(c, buf, len, ns / 1000000000, (unsigned long)(ns % 1000000000), digits);
}

char *jsonout_iso8601_s(char *buf, size_t len, int64_t secs, int digits)
{
    struct jsonout_clock c;
    jsonout_clock_init(&c);
    return spell(&c, buf, len, secs < 0 ? 0 : secs, 0, digits);
}

char *jsonout_iso8601(char *buf, size_t len, int64_t ns, int digits)
{
    struct jsonout_clock c;
    jsonout_clock_init(&c);
    return jsonout_iso8601_at(&c, buf, len, ns, digits);
}

/* ---- the record ------------------------------------------------------------------------- */

/* A span of the message's final head as a string (or {"base64"}), null without a head. */
static void write_span(struct jsonwrite *w, const struct message *m, struct http_span s)
{
    if (m->flags & MSG_HEAD)
        write_text_or_base64(w, message_at(m, s), s.len);
    else
        jsonwrite_null(w);
}

/* body, body_encoding and body_truncated of p[0..n): at most limit bytes of it shown. */
static void write_shown_body(struct jsonwrite *w, const uint8_t *p, size_t n, size_t limit,
                             bool whole)
{
    if (!p)
        p = (const uint8_t *)"";
    size_t shown = utf8_cut(p, n, limit); /* text stays text */
    jsonwrite_name(w, "body");
    bool b64 = jsonout_write_bytes(w, p, shown);
    jsonwrite_name(w, "body_encoding");
    jsonwrite_cstring(w, b64 ? "base64" : "utf-8");
    jsonwrite_name(w, "body_truncated");
    jsonwrite_bool(w, !whole || shown < n);
}

/* The body members: the payload as kept, chunked framing removed, at most cfg->body_limit bytes
 * of it. */
static void write_body(struct jsonwrite *w, const struct message *m,
                       const struct jsonout_config *cfg)
{
    /* A chunked body is de-framed into a copy, and only as far as it can be shown: one byte
     * past the limit tells utf8_cut where a character starts and that the body goes on. */
    size_t keep = m->raw.len;
    if (cfg->body_limit < keep)
        keep = cfg->body_limit + 1;
    struct dynbuf body;
    dynbuf_init(&body, keep);
    bool whole = true;
    const uint8_t *p = body.data;
    size_t n = 0;
    if (message_has_body(m)) {
        /* Identity bodies are read in place. */
        p = message_body_view(m, &n, &whole);
        if (!p) {
            whole = message_body(m, &body, cfg->limits);
            p = body.data;
            n = body.len;
        }
    }
    write_shown_body(w, p, n, cfg->body_limit, whole);
    dynbuf_cleanup(&body);
}

/* The body with its Content-Encoding undone, or null when the message declares no coding. */
static void write_decoded(struct jsonwrite *w, const struct message *m,
                          const struct jsonout_config *cfg)
{
    size_t celen;
    if (cfg->decode_max == 0 || !message_header(m, "content-encoding", &celen)) {
        jsonwrite_null(w);
        return;
    }
    struct dynbuf out;
    dynbuf_init(&out, cfg->decode_max);
    struct decode_result res;
    enum decode_status st = decode_message(m, cfg->limits, cfg->decode_max, &out, &res);
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "status");
    jsonwrite_cstring(w, decode_status_label(st));
    jsonwrite_name(w, "coding");
    lossy(w, res.coding[0] ? res.coding : NULL);
    jsonwrite_name(w, "message");
    lossy(w, res.message[0] ? res.message : NULL);
    jsonwrite_name(w, "error_offset");
    jsonwrite_int_or_null(w, st == DECODE_ERROR, (int64_t)res.error_offset);
    jsonwrite_name(w, "size");
    jsonwrite_int(w, (int64_t)out.len);
    write_shown_body(w, out.data, out.len, cfg->body_limit, true);
    jsonwrite_end(w);
    dynbuf_cleanup(&out);
}

/* Interim (1xx) responses, re-parsed from raw: status, reason and headers of each. */
static void write_interim(struct jsonwrite *w, const struct message *m,
                          const struct jsonout_config *cfg)
{
    struct http_header headers[JSONOUT_INTERIM_HEADERS_MAX];
    jsonwrite_begin_array(w);
    for (uint8_t i = 0; i < m->ninterim; i++) {
        const struct message_interim *in = &m->interim[i];
        jsonwrite_begin_object(w);
        jsonwrite_name(w, "status");
        jsonwrite_int(w, in->status);
        struct http_head head = {.headers = headers, .cap = JSONOUT_INTERIM_HEADERS_MAX};
        const uint8_t *base = m->raw.data + in->off;
        if (in->off + (size_t)in->len <= m->raw.len &&
            http_head_parse(base, in->len, HTTP_RESPONSE, cfg->limits, NULL, &head, NULL) > 0) {
            jsonwrite_name(w, "reason");
            write_text_or_base64(w, base + head.reason.off, head.reason.len);
            jsonwrite_name(w, "headers");
            write_headers(w, base, &head);
            jsonwrite_name(w, "headers_total");
            jsonwrite_int(w, head.total_headers);
        }
        jsonwrite_name(w, "size");
        jsonwrite_int(w, in->len);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

/* A head never parsed (still arriving, over --head-max: answered 408 or 431): what arrived of
 * its request line, {"method", "target", "whole"}; null otherwise. */
static void write_seen(struct jsonwrite *w, const struct message *m)
{
    struct http_span method, target;
    bool whole;
    if ((m->flags & MSG_HEAD) || !m->raw.data ||
        !http_peek_request_line(m->raw.data, m->raw.len, &method, &target, &whole)) {
        jsonwrite_null(w);
        return;
    }
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "method");
    write_text_or_base64(w, m->raw.data + method.off, method.len);
    jsonwrite_name(w, "target");
    write_text_or_base64(w, m->raw.data + target.off, target.len);
    jsonwrite_name(w, "whole");
    jsonwrite_bool(w, whole);
    jsonwrite_end(w);
}

static void write_start_line(struct jsonwrite *w, const struct message *m, enum side side,
                             const struct jsonout_config *cfg)
{
    if (side == SIDE_CLIENT) {
        jsonwrite_name(w, "method");
        write_span(w, m, m->head.method);
        jsonwrite_name(w, "target");
        write_span(w, m, m->head.target);
        jsonwrite_name(w, "version");
        write_span(w, m, m->head.version);
        jsonwrite_name(w, "request_line_seen");
        write_seen(w, m);
        return;
    }
    jsonwrite_name(w, "status");
    jsonwrite_int_or_null(w, m->flags & MSG_HEAD, m->head.status);
    jsonwrite_name(w, "reason");
    write_span(w, m, m->head.reason);
    jsonwrite_name(w, "version");
    write_span(w, m, m->head.version);
    jsonwrite_name(w, "interim");
    write_interim(w, m, cfg);
    jsonwrite_name(w, "interim_dropped");
    jsonwrite_int(w, m->interim_dropped);
}

/* A chunked body's trailer fields as [name, value] pairs (kept apart from raw, whole however
 * long the body). */
static void write_trailers(struct jsonwrite *w, const struct message *m)
{
    jsonwrite_begin_array(w);
    struct http_span name, value;
    size_t pos = 0;
    while (message_trailer_next(m, &pos, &name, &value)) {
        jsonwrite_begin_array(w);
        write_text_or_base64(w, m->trailer + name.off, name.len);
        write_text_or_base64(w, m->trailer + value.off, value.len);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

void jsonout_write_chunk_ext(struct jsonwrite *w, const struct message *m, bool base64)
{
    jsonwrite_begin_array(w);
    size_t pos = 0;
    struct chunked_ext e;
    while (message_chunk_ext_next(m, &pos, &e)) {
        jsonwrite_begin_object(w);
        jsonwrite_name(w, "chunk");
        jsonwrite_int(w, e.chunk);
        jsonwrite_name(w, "size");
        jsonwrite_int(w, (int64_t)e.size);
        jsonwrite_name(w, "extensions");
        if (base64)
            jsonout_write_base64(w, e.ext, e.len);
        else
            write_text_or_base64(w, e.ext, e.len);
        jsonwrite_name(w, "cut");
        jsonwrite_bool(w, e.cut);
        jsonwrite_end(w);
    }
    jsonwrite_end(w);
}

/* Sizes and framing of a message (head is whether it has a parsed head). */
static void write_sizes(struct jsonwrite *w, const struct message *m, bool head)
{
    jsonwrite_name(w, "headers_total");
    jsonwrite_int(w, head ? m->head.total_headers : 0);
    jsonwrite_name(w, "head_size");
    jsonwrite_int_or_null(w, head, m->head.len);
    jsonwrite_name(w, "wire_size");
    jsonwrite_int(w, (int64_t)m->wire_bytes);
    jsonwrite_name(w, "kept_size");
    jsonwrite_int(w, (int64_t)m->raw.len);
    jsonwrite_name(w, "body_framing");
    jsonwrite_cstring_or_null(w, message_framing_name(m));
    jsonwrite_name(w, "content_length");
    jsonwrite_int_or_null(w, message_declares_length(m), (int64_t)m->content_length);
    jsonwrite_name(w, "body_size");
    jsonwrite_int(w, (int64_t)m->body_size);
    jsonwrite_name(w, "body_wire_size");
    jsonwrite_int(w, (int64_t)m->body_wire);
    jsonwrite_name(w, "chunks");
    jsonwrite_int(w, m->chunks);
    jsonwrite_name(w, "trailers");
    write_trailers(w, m);
    jsonwrite_name(w, "chunk_extensions");
    jsonout_write_chunk_ext(w, m, false);
    jsonwrite_name(w, "chunk_extensions_unlisted");
    jsonwrite_int(w, message_chunk_ext_unlisted(m));
}

static void write_message(struct jsonwrite *w, const struct message *m, enum side side,
                          const struct jsonout_config *cfg)
{
    if (!message_recorded(m)) {
        jsonwrite_null(w);
        return;
    }
    bool head = m->flags & MSG_HEAD;
    jsonwrite_begin_object(w);
    write_start_line(w, m, side, cfg);
    jsonwrite_name(w, "headers");
    if (head) {
        write_headers(w, message_head_base(m), &m->head);
    } else {
        jsonwrite_begin_array(w);
        jsonwrite_end(w);
    }
    write_sizes(w, m, head);
    write_body(w, m, cfg);
    jsonwrite_name(w, "decoded");
    if (head)
        write_decoded(w, m, cfg);
    else
        jsonwrite_null(w);
    jsonwrite_name(w, "gap_bytes");
    jsonwrite_int(w, (int64_t)m->gap_bytes);
    jsonwrite_name(w, "sha256");
    jsonout_write_sha256(w, m);
    jsonwrite_name(w, "flags");
    jsonout_write_flags(w, m->flags, message_flag_name);
    if (!head) {
        /* Nothing could be parsed: the bytes themselves are the only record. */
        jsonwrite_name(w, "raw");
        bool b64 =
            jsonout_write_bytes(w, m->raw.data ? m->raw.data : (const uint8_t *)"", m->raw.len);
        jsonwrite_name(w, "raw_encoding");
        jsonwrite_cstring(w, b64 ? "base64" : "utf-8");
    }
    jsonwrite_end(w);
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

static void write_times(struct jsonwrite *w, const struct exchange *ex, struct jsonout_clock *clock)
{
    int64_t t0 = started_ns(ex);
    char iso[40];
    jsonwrite_name(w, "started");
    if (t0)
        jsonwrite_cstring(w, clock ? jsonout_iso8601_at(clock, iso, sizeof iso, t0, 9)
                                   : jsonout_iso8601(iso, sizeof iso, t0, 9));
    else
        jsonwrite_null(w);
    jsonwrite_name(w, "started_ns");
    jsonwrite_int_or_null(w, t0 != 0, t0);
    int64_t d = exchange_duration(ex);
    jsonwrite_name(w, "duration_ns");
    jsonwrite_int_or_null(w, d >= 0, d);
    jsonwrite_name(w, "timings");
    jsonwrite_begin_object(w);
    for (int i = 0; i < T__COUNT; i++) {
        jsonwrite_name(w, exchange_time_name((enum exchange_time)i));
        jsonwrite_int_or_null(w, ex->t[i] != 0, ex->t[i] - t0);
    }
    jsonwrite_end(w);
}

void jsonout_write_tunnel(struct jsonwrite *w, const struct exchange *ex)
{
    if (!(ex->flags & EX_TUNNEL)) {
        jsonwrite_null(w);
        return;
    }
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "client_bytes");
    jsonwrite_int(w, (int64_t)ex->tunnel_bytes[SIDE_CLIENT]);
    jsonwrite_name(w, "server_bytes");
    jsonwrite_int(w, (int64_t)ex->tunnel_bytes[SIDE_SERVER]);
    jsonwrite_end(w);
}

void jsonout_write(struct jsonwrite *w, const struct exchange *ex, const struct jsonout_config *cfg)
{
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "hspy_json");
    jsonwrite_int(w, JSONOUT_VERSION);
    jsonwrite_name(w, "id");
    jsonwrite_int(w, (int64_t)ex->id);
    jsonwrite_name(w, "connection");
    jsonwrite_int(w, (int64_t)ex->conn_id);
    jsonwrite_name(w, "seq");
    jsonwrite_int(w, ex->conn_seq);
    jsonwrite_name(w, "client");
    jsonout_write_endpoint(w, &ex->client);
    jsonwrite_name(w, "server");
    jsonout_write_endpoint(w, &ex->server);
    write_times(w, ex, cfg->clock);
    jsonwrite_name(w, "request");
    write_message(w, &ex->req, SIDE_CLIENT, cfg);
    jsonwrite_name(w, "response");
    write_message(w, &ex->resp, SIDE_SERVER, cfg);
    jsonwrite_name(w, "tunnel");
    jsonout_write_tunnel(w, ex);
    struct cache_report cache;
    cache_analyze(ex, &cache);
    jsonwrite_name(w, "cache");
    cache_write(w, &cache);
    jsonwrite_name(w, "warnings");
    jsonout_write_warnings(w, ex);
    jsonwrite_name(w, "warnings_dropped");
    jsonwrite_int(w, ex->warnings_dropped);
    jsonwrite_name(w, "flags");
    jsonout_write_flags(w, ex->flags, exchange_flag_name);
    jsonwrite_name(w, "error");
    lossy(w, ex->error);
    jsonwrite_name(w, "note");
    lossy(w, ex->note);
    jsonwrite_name(w, "replay_of");
    jsonwrite_int_or_null(w, (ex->flags & EX_REPLAY) && ex->replay_of, (int64_t)ex->replay_of);
    jsonwrite_end(w);
}

json_t *jsonout_exchange(const struct exchange *ex, const struct jsonout_config *cfg)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    jsonout_write(&w, ex, cfg);
    return jsonwrite_take_all(&w);
}

int jsonout_dump(struct dynbuf *out, const json_t *value, size_t extra_flags)
{
    /* JSON_REAL_PRECISION(n) keeps n in bits 11..15 of the flags. */
    return jsonwrite_value(out, value, (int)((extra_flags >> 11) & 0x1f));
}

int jsonout_line(struct dynbuf *out, const struct exchange *ex, const struct jsonout_config *cfg)
{
    size_t before = out->len;
    struct jsonwrite w;
    jsonwrite_init_text(&w, out, 0);
    jsonout_write(&w, ex, cfg);
    if (jsonwrite_finish(&w) == 0 && dynbuf_addc(out, '\n') == 1)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
