/*
 * export owns the forms one exchange takes outside hspy: the curl command and the nc script
 * (with their shell quoting), the raw bytes of either side, the payloads as sent or decoded,
 * and the OSC 52 clipboard sequence. It appends to the caller's buffer, never writes files and
 * never changes the exchange. Whatever a script holds that is not plain printable text is
 * escaped, so a script can be shown on a terminal.
 */
#include "hspy/export.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/decode.h"
#include "hspy/endpoint.h"
#include "hspy/har.h"
#include "hspy/plural.h"
#include "hspy/termsafe.h"

/* Bytes of a request line or header line shown in a note. */
enum { NOTE_EXCERPT = 40 };
/* Input bytes per printf line of the nc script (lines also break after each LF). */
enum { NC_LINE_BYTES = 4096 };

static const char *const NAMES[EXPORT__COUNT] = {
    [EXPORT_CURL] = "curl",
    [EXPORT_NC] = "nc",
    [EXPORT_RAW_REQUEST] = "raw-request",
    [EXPORT_RAW_RESPONSE] = "raw-response",
    [EXPORT_BODY] = "body",
    [EXPORT_BODY_DECODED] = "body-decoded",
    [EXPORT_REQUEST_BODY] = "request-body",
    [EXPORT_REQUEST_BODY_DECODED] = "request-body-decoded",
};

const char *export_format_name(enum export_format f)
{
    return (unsigned)f < EXPORT__COUNT ? NAMES[f] : NULL;
}

int export_format_by_name(const char *name)
{
    for (int f = 0; f < EXPORT__COUNT; f++)
        if (strcmp(NAMES[f], name) == 0)
            return f;
    return -1;
}

bool export_format_binary(enum export_format f)
{
    return f != EXPORT_CURL && f != EXPORT_NC;
}

static void note(struct export_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds one sentence to res->note ("; "-separated). */
static void note(struct export_result *res, const char *fmt, ...)
{
    size_t used = strlen(res->note);
    if (used && used + 2 < sizeof res->note)
        memcpy(res->note + used, "; ", 3), used += 2;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->note + used, sizeof res->note - used, fmt, ap);
    va_end(ap);
}

static bool lacks_bytes(const struct message *m)
{
    return (m->flags & (MSG_TRUNCATED | MSG_GAP)) || m->wire_bytes > m->raw.len + m->gap_bytes;
}

/* ---- shell quoting ------------------------------------------------------------------------ */

/* Appends p[0..n) as one shell word: '...' when it is plain text, else bash's $'...'. */
static void shell_word(struct dynbuf *out, const uint8_t *p, size_t n, unsigned plain_flags)
{
    if (termsafe_is_clean(p, n, plain_flags)) {
        dynbuf_addc(out, '\'');
        for (size_t i = 0; i < n; i++)
            if (p[i] == '\'')
                dynbuf_adds(out, "'\\''");
            else
                dynbuf_addc(out, p[i]);
        dynbuf_addc(out, '\'');
        return;
    }
    dynbuf_adds(out, "$'");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\'' || c == '\\')
            dynbuf_printf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            dynbuf_addc(out, c);
        else
            dynbuf_printf(out, "\\x%02x", c);
    }
    dynbuf_addc(out, '\'');
}

static void shell_str(struct dynbuf *out, const char *s)
{
    shell_word(out, (const uint8_t *)s, strlen(s), 0);
}

/* ---- curl --------------------------------------------------------------------------------- */

/* Header names curl sends on its own unless told otherwise; -H 'Name:' suppresses them. */
static const char *const CURL_DEFAULTS[] = {"Host", "User-Agent", "Accept"};

static bool has_header(const struct message *m, const char *name)
{
    size_t n;
    return message_header(m, name, &n) != NULL;
}

/* Whether the request line is exactly METHOD SP TARGET SP VERSION CRLF. */
static bool canonical_request_line(const struct message *m)
{
    const struct http_head *h = &m->head;
    uint32_t method_end = h->method.off + h->method.len;
    uint32_t version_end = h->version.off + h->version.len;
    const uint8_t *base = message_head_base(m);
    return h->start == 0 && h->method.off == 0 && h->target.off == method_end + 1 &&
           h->version.off == h->target.off + h->target.len + 1 && version_end + 2 <= h->len &&
           base[version_end] == '\r' && base[version_end + 1] == '\n';
}

/* Why curl cannot send this header line as it was, or NULL. */
static const char *header_problem(const uint8_t *line, size_t n, const struct http_header *h)
{
    if (h->flags & HDR_NO_COLON)
        return "has no colon";
    if (h->flags & HDR_FOLDED)
        return "is folded over several lines";
    if (memchr(line, '\0', n) || memchr(line, '\r', n) || memchr(line, '\n', n))
        return "holds CR, LF or NUL";
    return NULL;
}

/*
 * The end of a field line's value with the whitespace after it: the parser's value leaves
 * trailing SP and HTAB out, but they were sent, and curl sends them when -H holds them.
 */
static uint32_t value_end_as_sent(const struct message *m, const struct http_header *h)
{
    const uint8_t *base = message_head_base(m);
    uint32_t end = h->value.off + h->value.len;
    while (end < m->head.len && (base[end] == ' ' || base[end] == '\t'))
        end++;
    return end;
}

static void curl_headers(struct dynbuf *out, const struct message *m, struct export_result *res)
{
    const uint8_t *base = message_head_base(m);
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        /* The line as sent from the name to the end of the line: colon and spacing kept. */
        const uint8_t *line = base + h->name.off;
        size_t n = value_end_as_sent(m, h) - h->name.off;
        if (h->flags & HDR_NO_COLON) {
            line = base + h->value.off;
            n = h->value.len;
        }
        const char *why = header_problem(line, n, h);
        if (why) {
            note(res, "header %u %s: curl cannot send it (use the nc export)", i + 1, why);
            continue;
        }
        if (h->field == HF_HOST && i != 0)
            note(res, "curl sends Host as the first header");
        if (h->field == HF_HOST && !http_span_eq(base, h->name, "Host"))
            note(res, "curl spells the Host header 'Host'");
        dynbuf_adds(out, " \\\n  -H ");
        if (h->value.len == 0) {
            /* -H 'Name:' would remove the header; 'Name;' sends it empty. */
            struct dynbuf w;
            dynbuf_init(&w, h->name.len + 2);
            dynbuf_append(&w, base + h->name.off, h->name.len);
            dynbuf_addc(&w, ';');
            shell_word(out, w.data, w.len, 0);
            dynbuf_cleanup(&w);
            if (h->value.off > h->name.off + h->name.len + 1)
                note(res, "curl sends the empty header %u without its spaces", i + 1);
        } else {
            shell_word(out, line, n, 0);
        }
    }
}

/* Headers curl would add that the request did not have. */
static void curl_suppress(struct dynbuf *out, const struct message *m, bool body)
{
    for (size_t i = 0; i < sizeof CURL_DEFAULTS / sizeof CURL_DEFAULTS[0]; i++)
        if (!has_header(m, CURL_DEFAULTS[i]))
            dynbuf_printf(out, " \\\n  -H '%s:'", CURL_DEFAULTS[i]);
    if (body && !has_header(m, "content-type"))
        dynbuf_adds(out, " \\\n  -H 'Content-Type:'");
    if (body && !has_header(m, "expect"))
        dynbuf_adds(out, " \\\n  -H 'Expect:'");
}

static void curl_body(struct dynbuf *out, const struct message *m, const struct export_config *cfg,
                      struct export_result *res, const struct dynbuf *payload)
{
    if (m->body_kind == BODY_CHUNKED)
        note(res, "curl chunks the body itself: chunk sizes and extensions differ");
    dynbuf_adds(out, " \\\n  --data-binary ");
    unsigned text = TERMSAFE_NEWLINES | TERMSAFE_TABS;
    if (payload->len <= EXPORT_INLINE_BODY_MAX && payload->len > 0 && payload->data[0] != '@' &&
        termsafe_is_clean(payload->data, payload->len, text)) {
        shell_word(out, payload->data, payload->len, text);
        return;
    }
    if (payload->len == 0) {
        dynbuf_adds(out, "''");
        return;
    }
    const char *path = cfg->body_path ? cfg->body_path : "body.bin";
    if (cfg->body_beside) {
        const char *slash = strrchr(path, '/');
        dynbuf_adds(out, "@\"$(dirname -- \"$0\")\"/");
        shell_str(out, slash ? slash + 1 : path);
    } else {
        struct dynbuf at;
        dynbuf_init(&at, strlen(path) + 2);
        dynbuf_addc(&at, '@');
        dynbuf_adds(&at, path);
        shell_word(out, at.data, at.len, 0);
        dynbuf_cleanup(&at);
    }
    res->body_file = true;
}

static void curl_version(struct dynbuf *out, const struct message *m, struct export_result *res)
{
    const struct http_head *h = &m->head;
    if (h->major == 1 && h->minor == 0) {
        dynbuf_adds(out, " --http1.0");
        return;
    }
    dynbuf_adds(out, " --http1.1");
    if (!(h->major == 1 && h->minor == 1))
        note(res, "the request's version is not HTTP/1.1: curl sends HTTP/1.1");
}

/* -X, or -I for HEAD (curl would wait for a body after -X HEAD). */
static void curl_method(struct dynbuf *out, const struct message *m, bool body)
{
    const uint8_t *base = message_head_base(m);
    if (http_span_eq(base, m->head.method, "HEAD") && !body) {
        dynbuf_adds(out, " --head");
        return;
    }
    if (http_span_eq(base, m->head.method, body ? "POST" : "GET"))
        return;
    dynbuf_adds(out, " -X ");
    shell_word(out, base + m->head.method.off, m->head.method.len, 0);
}

static void curl_notes(const struct message *m, struct export_result *res)
{
    if (!canonical_request_line(m))
        note(res, "curl writes the request line as METHOD SP TARGET SP VERSION CRLF");
    if (m->head.flags & HEAD_BARE_LF)
        note(res, "curl ends every line with CRLF");
    if (m->head.total_headers > m->head.nheaders)
        note(res, "%u %s past the cap %s not in the command",
             m->head.total_headers - m->head.nheaders,
             plural(m->head.total_headers - m->head.nheaders, "header field", "header fields"),
             plural(m->head.total_headers - m->head.nheaders, "is", "are"));
}

static void comment_lines(struct dynbuf *out, const char *text)
{
    /* The notes are hspy's own words; rendered safely all the same. */
    dynbuf_adds(out, "# ");
    termsafe_append(out, (const uint8_t *)text, strlen(text), 0);
    dynbuf_addc(out, '\n');
}

static int curl(struct dynbuf *out, const struct exchange *ex, const struct export_config *cfg,
                struct export_result *res)
{
    const struct message *m = &ex->req;
    if (!(m->flags & MSG_HEAD) || (m->flags & MSG_HTTP09)) {
        note(res, m->flags & MSG_HTTP09 ? "an HTTP/0.9 request cannot be sent by curl (use nc)"
                                        : "the request has no head that curl could send");
        return -1;
    }
    struct dynbuf payload;
    dynbuf_init(&payload, m->raw.len + 1);
    bool has_body = m->body_kind == BODY_LENGTH || m->body_kind == BODY_CHUNKED;
    if (has_body)
        message_body(m, &payload, cfg->limits);
    struct dynbuf cmd, url;
    dynbuf_init(&cmd, out->max);
    dynbuf_init(&url, 3 * (size_t)m->raw.len + 1024);
    const uint8_t *base = message_head_base(m);
    dynbuf_adds(&cmd, "curl");
    curl_version(&cmd, m, res);
    curl_method(&cmd, m, has_body);
    dynbuf_adds(&cmd, " --path-as-is --globoff \\\n  --request-target ");
    shell_word(&cmd, base + m->head.target.off, m->head.target.len, 0);
    curl_headers(&cmd, m, res);
    curl_suppress(&cmd, m, has_body);
    if (has_body)
        curl_body(&cmd, m, cfg, res, &payload);
    dynbuf_adds(&cmd, " \\\n  ");
    shell_str(&cmd, har_url(&url, ex));
    dynbuf_addc(&cmd, '\n');
    curl_notes(m, res);
    if (lacks_bytes(m))
        note(res, "the request lacks bytes the capture missed or hspy did not keep");
    /* A file is a script (written executable); $'...' quoting needs bash. */
    if (cfg->body_beside)
        dynbuf_adds(out, "#!/usr/bin/env bash\n");
    dynbuf_printf(out, "# hspy: exchange %" PRIu64 ", request sent again with curl\n", ex->id);
    if (res->note[0])
        comment_lines(out, res->note);
    dynbuf_append(out, cmd.data, cmd.len);
    dynbuf_cleanup(&cmd);
    dynbuf_cleanup(&url);
    dynbuf_cleanup(&payload);
    return 0;
}

/* ---- nc ----------------------------------------------------------------------------------- */

/* One printf format argument holding p[0..n) exactly (octal escapes for all but plain ASCII). */
static void printf_format(struct dynbuf *out, const uint8_t *p, size_t n)
{
    dynbuf_adds(out, "printf '");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\r')
            dynbuf_adds(out, "\\r");
        else if (c == '\n')
            dynbuf_adds(out, "\\n");
        else if (c == '\t')
            dynbuf_adds(out, "\\t");
        else if (c == '%')
            dynbuf_adds(out, "%%");
        else if (c == '\\')
            dynbuf_adds(out, "\\\\");
        else if (c >= 0x20 && c < 0x7f && c != '\'')
            dynbuf_addc(out, c);
        else
            dynbuf_printf(out, "\\%03o", c);
    }
    dynbuf_adds(out, "'\n");
}

/* Where the request went: the server's address, else the Host header's, else port 80. */
static void nc_target(const struct exchange *ex, char *host, size_t hostlen, uint16_t *port)
{
    *port = 80;
    snprintf(host, hostlen, "127.0.0.1");
    if (ex->server.family) {
        endpoint_format_addr(&ex->server, host, hostlen);
        *port = ex->server.port;
        return;
    }
    char text[300], h[256], err[128];
    if (message_header_str(&ex->req, "host", text, sizeof text) &&
        hostport_split(text, h, sizeof h, port, 80, err, sizeof err) == 0 && h[0])
        snprintf(host, hostlen, "%s", h);
}

static int nc(struct dynbuf *out, const struct exchange *ex, struct export_result *res)
{
    const struct message *m = &ex->req;
    if (m->raw.len == 0) {
        note(res, "the exchange has no request bytes");
        return -1;
    }
    char host[256];
    uint16_t port;
    nc_target(ex, host, sizeof host, &port);
    if (lacks_bytes(m))
        note(res, "the request lacks bytes the capture missed or hspy did not keep: they are not "
                  "sent");
    dynbuf_printf(out,
                  "#!/bin/sh\n# hspy: exchange %" PRIu64 ", the request's %zu %s exactly as "
                  "sent.\n# Usage: sh FILE [HOST [PORT]]  (netcat-openbsd; -N ends the "
                  "request with a FIN)\n",
                  ex->id, m->raw.len, plural_bytes(m->raw.len));
    if (res->note[0])
        comment_lines(out, res->note);
    dynbuf_adds(out, "HOST=${1:-");
    termsafe_append(out, (const uint8_t *)host, strlen(host), 0);
    dynbuf_printf(out, "}\nPORT=${2:-%u}\n{\n", port);
    const uint8_t *p = m->raw.data;
    size_t n = m->raw.len;
    for (size_t i = 0; i < n;) {
        size_t lim = n - i < NC_LINE_BYTES ? n - i : NC_LINE_BYTES;
        const uint8_t *lf = memchr(p + i, '\n', lim);
        size_t k = lf ? (size_t)(lf - (p + i)) + 1 : lim;
        dynbuf_adds(out, "  ");
        printf_format(out, p + i, k);
        i += k;
    }
    dynbuf_adds(out, "} | nc -N \"$HOST\" \"$PORT\"\n");
    return 0;
}

/* ---- bytes and bodies --------------------------------------------------------------------- */

static int raw_side(struct dynbuf *out, const struct message *m, const char *what,
                    struct export_result *res)
{
    if (m->raw.len == 0 && !(m->flags & MSG_STARTED)) {
        note(res, "the exchange has no %s", what);
        return -1;
    }
    res->partial = lacks_bytes(m);
    dynbuf_append(out, m->raw.data, m->raw.len);
    return 0;
}

static int body(struct dynbuf *out, const struct message *m, bool decoded,
                const struct export_config *cfg, const char *what, struct export_result *res)
{
    if (!(m->flags & MSG_HEAD) && !(m->flags & (MSG_HTTP09 | MSG_UNPARSED))) {
        note(res, "the exchange has no %s", what);
        return -1;
    }
    if (!decoded) {
        res->partial = !message_body(m, out, cfg->limits);
        return 0;
    }
    struct decode_result dr;
    enum decode_status st = decode_message(m, cfg->limits, cfg->decode_max, out, &dr);
    res->partial = lacks_bytes(m) || st == DECODE_LIMIT || st == DECODE_ERROR;
    if (st == DECODE_UNKNOWN || st == DECODE_ERROR || st == DECODE_LIMIT)
        note(res, "%s", dr.message[0] ? dr.message : "the body could not be decoded");
    return 0;
}

int export_render(struct dynbuf *out, const struct exchange *ex, enum export_format f,
                  const struct export_config *cfg, struct export_result *res)
{
    memset(res, 0, sizeof *res);
    size_t before = out->len;
    int rc = -1;
    switch (f) {
    case EXPORT_CURL: rc = curl(out, ex, cfg, res); break;
    case EXPORT_NC: rc = nc(out, ex, res); break;
    case EXPORT_RAW_REQUEST: rc = raw_side(out, &ex->req, "request", res); break;
    case EXPORT_RAW_RESPONSE: rc = raw_side(out, &ex->resp, "response", res); break;
    case EXPORT_BODY: rc = body(out, &ex->resp, false, cfg, "response", res); break;
    case EXPORT_BODY_DECODED: rc = body(out, &ex->resp, true, cfg, "response", res); break;
    case EXPORT_REQUEST_BODY: rc = body(out, &ex->req, false, cfg, "request", res); break;
    case EXPORT_REQUEST_BODY_DECODED: rc = body(out, &ex->req, true, cfg, "request", res); break;
    default: note(res, "unknown export format"); break;
    }
    if (rc == 0 && out->len < out->max)
        return 0;
    if (rc == 0)
        note(res, "the export is larger than its buffer");
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}

/* ---- clipboard ---------------------------------------------------------------------------- */

int export_osc52(struct dynbuf *out, const uint8_t *p, size_t n, bool tmux)
{
    if (n > EXPORT_OSC52_MAX)
        return -1;
    size_t before = out->len;
    /* Inside tmux the sequence passes through a DCS whose ESC bytes are doubled. */
    dynbuf_adds(out, tmux ? "\033Ptmux;\033\033]52;c;" : "\033]52;c;");
    if (base64_encode(out, p, n) == 0) {
        dynbuf_adds(out, tmux ? "\a\033\\" : "\a");
        if (out->len < out->max)
            return 0;
    }
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
