/*
 * textlog owns the human-readable records of the log printer: the access-log line and the
 * full record (docs/log.md). It formats into the caller's buffer and never writes anywhere;
 * every byte from the network passes through termsafe on the way.
 */
#include "hspy/textlog.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hspy/decode.h"
#include "hspy/framing.h"
#include "hspy/jsonout.h"
#include "hspy/plural.h"
#include "hspy/termsafe.h"
#include "hspy/utf8.h"

/*
 * A field of the line: rendered safely, with spaces escaped too so that the line splits on
 * spaces; "-" when empty.
 */
static void field(struct dynbuf *out, const uint8_t *p, size_t n)
{
    if (n == 0) {
        dynbuf_addc(out, '-');
        return;
    }
    size_t i = 0;
    while (i < n) {
        const uint8_t *sp = memchr(p + i, ' ', n - i);
        size_t end = sp ? (size_t)(sp - p) : n;
        termsafe_append(out, p + i, end - i, 0);
        if (sp)
            dynbuf_adds(out, "\\x20");
        i = end + 1;
    }
}

static void span_field(struct dynbuf *out, const struct message *m, struct http_span s)
{
    if (m->flags & MSG_HEAD)
        field(out, message_at(m, s), s.len);
    else
        dynbuf_addc(out, '-');
}

/* Fields 4 and 5: method and target as parsed, or, for a head never parsed (still arriving,
 * over --head-max: an exchange answered 408 or 431), what arrived of its request line. */
static void request_line_fields(struct dynbuf *out, const struct message *m)
{
    struct http_span method, target;
    if (message_peek_request_line(m, &method, &target)) {
        field(out, m->raw.data + method.off, method.len);
        dynbuf_addc(out, ' ');
        field(out, m->raw.data + target.off, target.len);
        return;
    }
    span_field(out, m, m->head.method);
    dynbuf_addc(out, ' ');
    span_field(out, m, m->head.target);
}

static void add_when_who(struct dynbuf *out, const struct exchange *ex, struct jsonout_clock *clock)
{
    char buf[ENDPOINT_STRLEN > 40 ? ENDPOINT_STRLEN : 40];
    int64_t t0 = exchange_start(ex);
    if (!t0)
        dynbuf_addc(out, '-');
    else if (clock)
        dynbuf_adds(out, jsonout_iso8601_at(clock, buf, sizeof buf, t0, 3));
    else
        dynbuf_adds(out, jsonout_iso8601(buf, sizeof buf, t0, 3));
    dynbuf_addc(out, ' ');
    dynbuf_adds(out, ex->client.family ? endpoint_format(&ex->client, buf, sizeof buf) : "-");
    if (ex->conn_id) {
        dynbuf_adds(out, " #");
        dynbuf_add_u64(out, ex->conn_id);
        dynbuf_addc(out, '.');
        dynbuf_add_u64(out, ex->conn_seq);
        dynbuf_addc(out, ' ');
    } else
        dynbuf_adds(out, " - ");
}

static void add_outcome(struct dynbuf *out, const struct exchange *ex)
{
    const struct message *r = &ex->resp;
    if (r->flags & MSG_HEAD) {
        dynbuf_addc(out, ' ');
        dynbuf_add_u64(out, r->head.status);
        dynbuf_addc(out, ' ');
        dynbuf_add_u64(out, r->body_size);
    } else if (message_has_body(r)) { /* HTTP/0.9: no status, a payload all the same */
        dynbuf_adds(out, " - ");
        dynbuf_add_u64(out, r->body_size);
    } else {
        dynbuf_adds(out, " - -");
    }
    int64_t d = exchange_duration(ex);
    if (d >= 0) {
        char ms[3] = {(char)('0' + d / 100000 % 10), (char)('0' + d / 10000 % 10),
                      (char)('0' + d / 1000 % 10)};
        dynbuf_addc(out, ' ');
        dynbuf_add_u64(out, (uint64_t)(d / 1000000));
        dynbuf_addc(out, '.');
        dynbuf_append(out, ms, 3);
        dynbuf_adds(out, "ms");
    } else
        dynbuf_adds(out, " -");
}

/* " !code,code" listing each warning code once, in order of first appearance. */
static void add_warnings(struct dynbuf *out, const struct exchange *ex)
{
    if (ex->nwarnings == 0 && ex->warnings_dropped == 0)
        return;
    dynbuf_adds(out, " !");
    bool any = false;
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        bool seen = false;
        for (uint16_t j = 0; j < i && !seen; j++)
            seen = ex->warnings[j].code == ex->warnings[i].code;
        if (seen)
            continue;
        dynbuf_printf(out, "%s%s", any ? "," : "", warning_name(ex->warnings[i].code));
        any = true;
    }
    if (ex->warnings_dropped)
        dynbuf_printf(out, "%s+%" PRIu32, any ? "," : "", ex->warnings_dropped);
}

/* The exchange flags but done, then in-flight and request-lost (a capture lost the request:
 * MSG_LOST), which are no exchange flags. */
static void add_flags(struct dynbuf *out, const struct exchange *ex)
{
    uint32_t shown = ex->flags & ~(uint32_t)EX_DONE;
    bool open = !(ex->flags & EX_DONE);
    bool lost = (ex->req.flags & MSG_LOST) != 0;
    if (!shown && !open && !lost)
        return;
    dynbuf_adds(out, " +");
    bool any = false;
    if (open) {
        dynbuf_adds(out, "in-flight");
        any = true;
    }
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(shown & ((uint32_t)1 << bit)))
            continue;
        dynbuf_printf(out, "%s%s", any ? "," : "", exchange_flag_name((uint32_t)1 << bit));
        any = true;
    }
    if (lost)
        dynbuf_printf(out, "%srequest-lost", any ? "," : "");
}

size_t textlog_line(struct dynbuf *out, const struct exchange *ex, struct jsonout_clock *clock)
{
    size_t before = out->len;
    add_when_who(out, ex, clock);
    request_line_fields(out, &ex->req);
    add_outcome(out, ex);
    add_warnings(out, ex);
    add_flags(out, ex);
    if (ex->flags & EX_TUNNEL)
        dynbuf_printf(out, " tunnel=%" PRIu64 "/%" PRIu64, ex->tunnel_bytes[SIDE_CLIENT],
                      ex->tunnel_bytes[SIDE_SERVER]);
    if (ex->error) {
        dynbuf_adds(out, " error: ");
        termsafe_append(out, (const uint8_t *)ex->error, strlen(ex->error), 0);
    }
    dynbuf_addc(out, '\n');
    return out->len - before;
}

/* ---- full record --------------------------------------------------------------------------- */

/* Lines of p[0..n), each prefixed, CR and LF shown as symbols, then a real line break. */
static void head_lines(struct dynbuf *out, const char *prefix, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *lf = memchr(p + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - p) + 1 : n;
        dynbuf_adds(out, prefix);
        termsafe_append(out, p + i, end - i, TERMSAFE_SYMBOLS);
        dynbuf_addc(out, '\n');
        i = end;
    }
}

/*
 * The interim heads in front of the final one, each on its own lines (one a capture cut inside
 * a line is said to be cut); returns where the bytes after them start.
 */
static size_t interim_lines(struct dynbuf *out, const char *side, const char *prefix,
                            const struct message *m)
{
    size_t from = 0;
    for (uint8_t i = 0; m->interim && i < m->ninterim; i++) {
        size_t end = (size_t)m->interim[i].off + m->interim[i].len;
        if (end > m->raw.len || end < from)
            break;
        head_lines(out, prefix, m->raw.data + from, end - from);
        if (end > from && m->raw.data[end - 1] != '\n')
            dynbuf_printf(out, "* %s: the capture lost the rest of this interim head\n", side);
        from = end;
    }
    return from;
}

/* What the body section shows, and what to say about it. */
struct shown {
    struct dynbuf bytes; /* the payload, or its decoding */
    bool decoded;        /* bytes hold the decoded body */
    bool whole;          /* bytes hold everything (nothing was lost to caps or gaps) */
    struct decode_result res;
};

static void body_of(struct shown *sh, const struct message *m, const struct textlog_config *cfg)
{
    dynbuf_init(&sh->bytes, cfg->decode_max > m->raw.len ? cfg->decode_max : m->raw.len);
    size_t celen;
    sh->decoded = false;
    memset(&sh->res, 0, sizeof sh->res);
    if (message_header(m, "content-encoding", &celen)) {
        enum decode_status st =
            decode_message(m, cfg->limits, cfg->decode_max, &sh->bytes, &sh->res);
        if (st == DECODE_OK || st == DECODE_LIMIT) {
            sh->decoded = true;
            sh->whole = st == DECODE_OK && !(m->flags & (MSG_TRUNCATED | MSG_GAP));
            return;
        }
        dynbuf_reset(&sh->bytes);
    }
    sh->whole = message_body(m, &sh->bytes, cfg->limits);
}

static void body_note(struct dynbuf *out, const char *side, const struct message *m,
                      const struct shown *sh, size_t showing)
{
    dynbuf_printf(out, "* %s body: %" PRIu64 " %s", side, m->body_size, plural_bytes(m->body_size));
    if (m->body_kind == BODY_CHUNKED)
        dynbuf_printf(out, " in %" PRIu32 " chunk%s (%" PRIu64 " on the wire)", m->chunks,
                      plural(m->chunks, "", "s"), m->body_wire);
    size_t celen;
    const uint8_t *ce = message_header(m, "content-encoding", &celen);
    if (ce) {
        dynbuf_addc(out, ' ');
        termsafe_append(out, ce, celen, 0);
        if (sh->decoded)
            dynbuf_printf(out, ", decoded to %zu %s%s", sh->bytes.len, plural_bytes(sh->bytes.len),
                          sh->res.status == DECODE_LIMIT ? " (--decode-max reached)" : "");
        else {
            /* The message may quote the peer's coding name: its bytes go through termsafe. */
            const char *why = sh->res.message[0] ? sh->res.message : "not decoded";
            dynbuf_adds(out, ", shown as sent (");
            termsafe_append(out, (const uint8_t *)why, strlen(why), 0);
            dynbuf_addc(out, ')');
        }
    }
    if (!sh->whole)
        dynbuf_adds(out, "; incomplete");
    if (showing < sh->bytes.len)
        dynbuf_printf(out, "; first %zu shown", showing);
    dynbuf_addc(out, '\n');
}

static void body_section(struct dynbuf *out, const char *side, const struct message *m,
                         const struct textlog_config *cfg)
{
    if (!message_has_body(m) || (m->body_size == 0 && m->body_wire == 0))
        return;
    struct shown sh;
    body_of(&sh, m, cfg);
    /* Cut where a character starts, as --json does, so that text stays text. */
    size_t showing = utf8_cut(sh.bytes.data, sh.bytes.len, cfg->body_limit);
    body_note(out, side, m, &sh, showing);
    if (showing) {
        termsafe_append(out, sh.bytes.data, showing, TERMSAFE_NEWLINES | TERMSAFE_TABS);
        if (out->len && out->data[out->len - 1] != '\n')
            dynbuf_addc(out, '\n');
    }
    if (showing < sh.bytes.len)
        dynbuf_printf(out, "* %zu more %s not shown (--body-limit %zu)\n", sh.bytes.len - showing,
                      plural_bytes(sh.bytes.len - showing), cfg->body_limit);
    dynbuf_cleanup(&sh.bytes);
}

static void message_section(struct dynbuf *out, const char *side, const char *prefix,
                            const struct message *m, const struct textlog_config *cfg)
{
    if (m->flags & MSG_LOST) {
        dynbuf_printf(out,
                      "* %s: lost: pipelined in a packet the snap length cut, none of it "
                      "was captured\n",
                      side);
        return;
    }
    if (!(m->flags & MSG_STARTED) && m->wire_bytes == 0)
        return;
    if (m->flags & MSG_HEAD) {
        size_t end = (size_t)m->head_off + m->head.len;
        size_t from = interim_lines(out, side, prefix, m);
        if (from < end)
            head_lines(out, prefix, m->raw.data + from,
                       (end < m->raw.len ? end : m->raw.len) - from);
        if (m->flags & MSG_HEAD_CUT)
            dynbuf_printf(
                out, "* %s: the capture lost the rest of the head after these %" PRIu32 " bytes\n",
                side, m->head.len);
    } else if (message_has_body(m)) {
        dynbuf_printf(out, "* %s: HTTP/0.9, no status line and no headers\n", side);
    } else {
        size_t n = utf8_cut(m->raw.data, m->raw.len, cfg->body_limit);
        dynbuf_printf(out, "* %s: not parsed as HTTP; %zu %s as received:\n", side, m->raw.len,
                      plural_bytes(m->raw.len));
        head_lines(out, prefix, m->raw.data, n);
        if (n < m->raw.len)
            dynbuf_printf(out, "* %zu more %s not shown (--body-limit %zu)\n", m->raw.len - n,
                          plural_bytes(m->raw.len - n), cfg->body_limit);
    }
    body_section(out, side, m, cfg);
    if (m->chunk_ext) { /* kept apart from raw, as the trailer */
        dynbuf_printf(out, "* %s chunk extensions:\n", side);
        message_chunk_ext_text(m, prefix, "\n", out);
    }
    if (m->trailer) { /* kept apart from raw: shown whole however much of the body was kept */
        dynbuf_printf(out, "* %s trailer section:\n", side);
        head_lines(out, prefix, m->trailer, m->trailer_len);
    }
    /* Bytes a capture never had were not dropped by --body-keep: only the rest can have been. */
    if (m->wire_bytes - m->gap_bytes > m->raw.len)
        dynbuf_printf(out, "* %s: %" PRIu64 " %s on the wire, %zu kept (--body-keep)\n", side,
                      m->wire_bytes, plural_bytes(m->wire_bytes), m->raw.len);
    if (m->gap_bytes)
        dynbuf_printf(out,
                      "* %s: %" PRIu64 " %s on the wire, %" PRIu64 " missing from the capture%s\n",
                      side, m->wire_bytes, plural_bytes(m->wire_bytes), m->gap_bytes,
                      m->flags & MSG_SNAPLEN ? " (packets cut by the snap length)" : "");
}

static void warning_lines(struct dynbuf *out, const struct exchange *ex)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        dynbuf_printf(out, "* warning %s (%s, offset %" PRIu64 ")", warning_name(w->code),
                      jsonout_side_name(w->side), w->offset);
        if (w->detail) {
            dynbuf_adds(out, ": ");
            termsafe_append(out, (const uint8_t *)w->detail, strlen(w->detail), 0);
        }
        dynbuf_printf(out, " - %s\n", warning_explain(w->code));
    }
    if (ex->warnings_dropped)
        dynbuf_printf(out, "* %" PRIu32 " more warnings not recorded\n", ex->warnings_dropped);
}

size_t textlog_full(struct dynbuf *out, const struct exchange *ex, const struct textlog_config *cfg)
{
    size_t before = out->len;
    textlog_line(out, ex, NULL);
    char c[ENDPOINT_STRLEN], s[ENDPOINT_STRLEN];
    dynbuf_printf(out, "* client %s, server %s\n", endpoint_format(&ex->client, c, sizeof c),
                  endpoint_format(&ex->server, s, sizeof s));
    message_section(out, "request", "> ", &ex->req, cfg);
    message_section(out, "response", "< ", &ex->resp, cfg);
    warning_lines(out, ex);
    dynbuf_addc(out, '\n');
    return out->len - before;
}
