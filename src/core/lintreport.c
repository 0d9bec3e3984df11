/*
 * lintreport owns the wording and the JSON shape of `hspy lint` reports. It reads exchanges and
 * writes text or jansson values; it never parses (the conversation did) and never does I/O.
 */
#include "hspy/lintreport.h"

#include <inttypes.h>
#include <string.h>

#include "hspy/decode.h"
#include "hspy/framing.h"
#include "hspy/jsonout.h"
#include "hspy/plural.h"
#include "hspy/termsafe.h"

/* A lone response cannot have a request: that warning says nothing about the message. */
static bool reported(const struct lintreport_message *m, const struct warning *w)
{
    return w->side == m->side && w->code != W_RESPONSE_WITHOUT_REQUEST;
}

unsigned lintreport_warnings(const struct lintreport_message *m)
{
    unsigned n = 0;
    for (uint16_t i = 0; i < m->ex->nwarnings; i++)
        n += reported(m, &m->ex->warnings[i]);
    return n;
}

static const struct message *msg_of(const struct lintreport_message *m)
{
    return m->side == SIDE_CLIENT ? &m->ex->req : &m->ex->resp;
}

/* Appends the head's lines as sent, one per line, made safe; odd line ends are made visible. */
static void head_lines(struct dynbuf *out, const struct message *msg)
{
    const uint8_t *p = msg->raw.data + msg->head_off;
    const uint8_t *end = p + msg->head.len;
    while (p < end) {
        const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *stop = lf ? lf : end;
        bool crlf = lf && stop > p && stop[-1] == '\r';
        const uint8_t *eol = crlf ? stop - 1 : stop;
        if (eol == p && crlf && lf + 1 == end)
            break; /* the empty line that ends the head */
        dynbuf_adds(out, "  ");
        termsafe_append(out, p, (size_t)(eol - p), TERMSAFE_SYMBOLS);
        if (lf && !crlf)
            dynbuf_adds(out, "  ␊ (bare LF)");
        dynbuf_addc(out, '\n');
        if (!lf)
            break;
        p = lf + 1;
    }
}

struct body_facts {
    uint64_t decoded;
    struct decode_result res;
    bool have_decoded;
};

static void decode_facts(const struct message *msg, const struct lintreport_config *cfg,
                         struct body_facts *b)
{
    memset(b, 0, sizeof *b);
    if (!(msg->flags & MSG_HEAD) || msg->body_size == 0 || msg->body_kind == BODY_TUNNEL)
        return;
    struct dynbuf out;
    dynbuf_init(&out, cfg->decode_max);
    decode_message(msg, cfg->limits, cfg->decode_max, &out, &b->res);
    b->decoded = out.len;
    b->have_decoded = true;
    dynbuf_cleanup(&out);
}

uint64_t lintreport_unframed(const struct lintreport_message *m)
{
    const struct message *msg = msg_of(m);
    uint64_t head_end = (uint64_t)msg->head_off + msg->head.len;
    if (!m->cannot_frame || !(msg->flags & MSG_HEAD) || msg->wire_bytes <= head_end)
        return 0;
    return msg->wire_bytes - head_end;
}

/* Why the body length of a message that cannot be framed is unknowable (RFC 9112 6.3). */
static const char *unframeable_why(const struct message *msg)
{
    if (msg->head.field_index[HF_TRANSFER_ENCODING] >= 0)
        return "Transfer-Encoding does not end in chunked, so the body length cannot be known "
               "(RFC 9112 6.3)";
    return "Content-Length is not one valid length (values that disagree, are not a number or "
           "are too large), so the body length cannot be known (RFC 9112 6.3)";
}

/* The framing line of a message that cannot be framed, and what follows its head. */
static void unframeable_text(struct dynbuf *out, const struct lintreport_message *m)
{
    const struct message *msg = msg_of(m);
    dynbuf_printf(out,
                  "framing: impossible: %s; a server must answer 400 (Bad Request) and close "
                  "the connection\n",
                  unframeable_why(msg));
    uint64_t left = lintreport_unframed(m);
    if (!left) {
        dynbuf_adds(out, "after the head: nothing\n");
        return;
    }
    dynbuf_printf(out,
                  "after the head: %" PRIu64 " byte%s that cannot be framed (a body, further "
                  "messages, or both: readers that guess a length split them differently): ",
                  left, plural(left, "", "s"));
    size_t at = (size_t)msg->head_off + msg->head.len;
    size_t kept = msg->raw.len > at ? msg->raw.len - at : 0;
    size_t n = kept < LINTREPORT_UNFRAMED_SHOWN ? kept : LINTREPORT_UNFRAMED_SHOWN;
    termsafe_append(out, msg->raw.data + at, n, TERMSAFE_SYMBOLS);
    dynbuf_adds(out, left > n ? "…\n" : "\n");
}

static void framing_text(struct dynbuf *out, const struct message *msg)
{
    enum body_kind k = (enum body_kind)msg->body_kind;
    dynbuf_printf(out, "framing: %s", body_kind_name(k));
    if (k == BODY_LENGTH)
        dynbuf_printf(out, " %" PRIu64, msg->content_length);
    if (k == BODY_CHUNKED)
        dynbuf_printf(out, ", %u chunk%s, %s", msg->chunks, plural(msg->chunks, "", "s"),
                      msg->trailer_off ? "trailer section" : "no trailer");
    if (!(msg->flags & MSG_COMPLETE))
        dynbuf_adds(out, " (incomplete: the input ended first)");
    dynbuf_addc(out, '\n');
}

void lintreport_text(struct dynbuf *out, const struct lintreport_message *m,
                     const struct lintreport_config *cfg)
{
    const struct message *msg = msg_of(m);
    dynbuf_printf(out, "── message %u: %s, bytes %" PRIu64 "-%" PRIu64 " (%" PRIu64 " %s)\n",
                  m->index, m->side == SIDE_CLIENT ? "request" : "response", m->offset,
                  m->offset + msg->wire_bytes, msg->wire_bytes, plural_bytes(msg->wire_bytes));
    for (uint8_t i = 0; i < msg->ninterim; i++)
        dynbuf_printf(out, "interim response %u before the final one\n", msg->interim[i].status);
    if (msg->flags & MSG_HEAD) {
        head_lines(out, msg);
        if (m->cannot_frame)
            unframeable_text(out, m);
        else
            framing_text(out, msg);
    } else if (msg->flags & MSG_HTTP09) {
        dynbuf_adds(out, "no head: HTTP/0.9 style, the bytes until the end are the body\n");
    } else {
        dynbuf_adds(out, "not parsed as HTTP: ");
        size_t n = msg->raw.len < 64 ? msg->raw.len : 64;
        termsafe_append(out, msg->raw.data, n, TERMSAFE_SYMBOLS);
        dynbuf_adds(out, msg->raw.len > 64 ? "…\n" : "\n");
    }
    struct body_facts b;
    decode_facts(msg, cfg, &b);
    dynbuf_printf(out, "body: %" PRIu64 " %s on the wire, %" PRIu64 " %s of payload",
                  msg->body_wire, plural_bytes(msg->body_wire), msg->body_size,
                  plural_bytes(msg->body_size));
    if (b.have_decoded && b.res.status == DECODE_OK)
        dynbuf_printf(out, ", %" PRIu64 " decoded", b.decoded);
    else if (b.have_decoded && b.res.status != DECODE_IDENTITY) {
        /* The message may quote the peer's coding name: its bytes go through termsafe. */
        dynbuf_printf(out, ", decoding %s: ", decode_status_label(b.res.status));
        termsafe_append(out, (const uint8_t *)b.res.message, strlen(b.res.message), 0);
    }
    dynbuf_addc(out, '\n');
    unsigned nw = lintreport_warnings(m);
    if (nw == 0) {
        dynbuf_adds(out, "warnings: none\n");
        return;
    }
    dynbuf_printf(out, "warnings (%u):\n", nw);
    for (uint16_t i = 0; i < m->ex->nwarnings; i++) {
        const struct warning *w = &m->ex->warnings[i];
        if (!reported(m, w))
            continue;
        dynbuf_printf(out, "  %-26s offset %-6" PRIu64, warning_name((enum warning_code)w->code),
                      w->offset);
        if (w->detail) {
            dynbuf_adds(out, " ");
            termsafe_append(out, (const uint8_t *)w->detail, strlen(w->detail), 0);
        }
        dynbuf_printf(out, "\n      %s\n", warning_explain((enum warning_code)w->code));
    }
    if (m->ex->warnings_dropped)
        dynbuf_printf(out, "  (%u more not kept)\n", m->ex->warnings_dropped);
}

static json_t *span_text(const struct message *msg, struct http_span s)
{
    return jsonout_text_or_base64(message_at(msg, s), s.len);
}

static json_t *warnings_json(const struct lintreport_message *m)
{
    json_t *arr = json_array();
    for (uint16_t i = 0; i < m->ex->nwarnings; i++) {
        const struct warning *w = &m->ex->warnings[i];
        if (!reported(m, w))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "code", json_string(warning_name((enum warning_code)w->code)));
        json_object_set_new(o, "offset", json_integer((json_int_t)w->offset));
        json_object_set_new(
            o, "detail",
            w->detail ? jsonout_text_or_base64((const uint8_t *)w->detail, strlen(w->detail))
                      : json_null());
        json_object_set_new(o, "explanation",
                            json_string(warning_explain((enum warning_code)w->code)));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *body_json(const struct message *msg, const struct lintreport_config *cfg)
{
    struct body_facts b;
    decode_facts(msg, cfg, &b);
    json_t *o = json_object();
    json_object_set_new(o, "wire", json_integer((json_int_t)msg->body_wire));
    json_object_set_new(o, "size", json_integer((json_int_t)msg->body_size));
    json_object_set_new(o, "decoded",
                        b.have_decoded && b.res.status == DECODE_OK
                            ? json_integer((json_int_t)b.decoded)
                            : json_null());
    json_object_set_new(o, "decoding",
                        json_string(b.have_decoded ? decode_status_label(b.res.status) : "none"));
    /* The payload itself (as kept), so tools can compare what the message carries. */
    struct dynbuf pay;
    dynbuf_init(&pay, msg->raw.max);
    bool whole = message_body(msg, &pay, cfg->limits);
    bool base64;
    json_object_set_new(o, "payload",
                        jsonout_bytes(pay.data ? pay.data : (const uint8_t *)"", pay.len, &base64));
    json_object_set_new(o, "payload_encoding", json_string(base64 ? "base64" : "text"));
    json_object_set_new(o, "payload_complete", json_boolean(whole));
    dynbuf_cleanup(&pay);
    return o;
}

static json_t *framing_json(const struct lintreport_message *m)
{
    const struct message *msg = msg_of(m);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(body_kind_name((enum body_kind)msg->body_kind)));
    json_object_set_new(o, "length",
                        msg->body_kind == BODY_LENGTH
                            ? json_integer((json_int_t)msg->content_length)
                            : json_null());
    json_object_set_new(o, "chunks", json_integer(msg->chunks));
    json_object_set_new(o, "trailer", json_boolean(msg->trailer_off != 0));
    json_object_set_new(o, "complete", json_boolean((msg->flags & MSG_COMPLETE) != 0));
    json_object_set_new(o, "impossible", json_boolean(m->cannot_frame));
    json_object_set_new(o, "why",
                        m->cannot_frame ? json_string(unframeable_why(msg)) : json_null());
    json_object_set_new(o, "unframed", json_integer((json_int_t)lintreport_unframed(m)));
    return o;
}

json_t *lintreport_json(const struct lintreport_message *m, const struct lintreport_config *cfg)
{
    const struct message *msg = msg_of(m);
    json_t *o = json_object();
    json_object_set_new(o, "message", json_integer(m->index));
    json_object_set_new(o, "kind", json_string(m->side == SIDE_CLIENT ? "request" : "response"));
    json_object_set_new(o, "offset", json_integer((json_int_t)m->offset));
    json_object_set_new(o, "length", json_integer((json_int_t)msg->wire_bytes));
    json_object_set_new(o, "parsed", json_boolean((msg->flags & MSG_HEAD) != 0));
    if (msg->flags & MSG_HEAD) {
        const struct http_head *h = &msg->head;
        if (m->side == SIDE_CLIENT) {
            json_object_set_new(o, "method", span_text(msg, h->method));
            json_object_set_new(o, "target", span_text(msg, h->target));
        } else {
            json_object_set_new(o, "status", json_integer(h->status));
            json_object_set_new(o, "reason", span_text(msg, h->reason));
        }
        json_object_set_new(o, "version", span_text(msg, h->version));
        json_object_set_new(o, "headers", jsonout_headers(message_head_base(msg), h));
        json_object_set_new(o, "headers_total", json_integer(h->total_headers));
        json_object_set_new(o, "framing", framing_json(m));
    }
    json_t *interim = json_array();
    for (uint8_t i = 0; i < msg->ninterim; i++)
        json_array_append_new(interim, json_integer(msg->interim[i].status));
    json_object_set_new(o, "interim", interim);
    json_object_set_new(o, "body", body_json(msg, cfg));
    json_object_set_new(o, "flags", jsonout_flags(msg->flags, message_flag_name));
    json_object_set_new(o, "warnings", warnings_json(m));
    /* Warnings past the exchange's cap are only counted: say how many, as the JSON lines do. */
    json_object_set_new(o, "warnings_dropped", json_integer(m->ex->warnings_dropped));
    return o;
}
