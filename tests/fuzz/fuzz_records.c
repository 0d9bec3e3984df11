/*
 * Fuzzes the record writers (jsonout, har, textlog) over exchanges parsed from arbitrary bytes.
 * Input: byte 0 picks how much body is kept; the rest is the request, then (after the first
 * "\n--\n") the response. Aborts when a JSON line is not printable ASCII, does not parse or
 * differs from the record built as a jansson value, when a HAR entry does not parse or its
 * "_hspy" raw bytes differ from what the exchange kept, or when a text record holds a control
 * byte other than LF.
 */
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/chunked.h"
#include "hspy/framing.h"
#include "hspy/har.h"
#include "hspy/jsonout.h"
#include "hspy/jsonwrite.h"
#include "hspy/textlog.h"

static const struct http_limits LIMITS = {4096, 64, 16, 256};

static void frame_body(struct message *m, const struct framing *f)
{
    size_t avail = m->raw.len - (size_t)m->body_off;
    m->body_kind = f->kind;
    m->content_length = f->length;
    if (f->kind == BODY_CHUNKED) {
        struct dynbuf out;
        dynbuf_init(&out, avail + 1);
        size_t used;
        chunked_decode_all(m->raw.data + m->body_off, avail, &out, &used, &LIMITS);
        m->body_wire = used;
        m->body_size = out.len;
        dynbuf_cleanup(&out);
    } else if (f->kind == BODY_LENGTH) {
        m->body_wire = m->body_size = avail < f->length ? avail : f->length;
    } else if (f->kind == BODY_CLOSE) {
        m->body_wire = m->body_size = avail;
    }
}

static void parse_side(struct exchange *ex, enum side side, const uint8_t *p, size_t n,
                       const struct framing_request *facts)
{
    struct message *m = exchange_msg(ex, side);
    dynbuf_append(&m->raw, p, n);
    m->wire_bytes = n;
    m->flags |= MSG_STARTED | (m->raw.len < n ? MSG_TRUNCATED : 0);
    struct http_head head = {0};
    head.headers = arena_alloc(&ex->arena, LIMITS.headers_max * sizeof *head.headers);
    head.cap = LIMITS.headers_max;
    struct http_warnings w = {0};
    enum http_kind kind = side == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE;
    int r = http_head_parse(m->raw.data, m->raw.len, kind, &LIMITS, NULL, &head, &w);
    if (r <= 0)
        return;
    struct framing f;
    if (kind == HTTP_REQUEST)
        framing_request(m->raw.data, &head, &f, &w);
    else
        framing_response(m->raw.data, &head, facts, &f, &w);
    for (uint16_t i = 0; i < w.n; i++)
        exchange_warn(ex, (enum warning_code)w.w[i].code, side, w.w[i].off, "arg %u",
                      w.w[i].arg.len);
    m->head = head;
    m->flags |= MSG_HEAD;
    m->body_off = (uint64_t)r;
    frame_body(m, &f);
}

static void check_json(const struct exchange *ex)
{
    struct dynbuf line;
    dynbuf_init(&line, 64 << 20);
    struct jsonout_config cfg = {&LIMITS, 1 << 16, 4096, NULL};
    if (jsonout_line(&line, ex, &cfg) != 0)
        abort();
    for (size_t i = 0; i + 1 < line.len; i++)
        if (line.data[i] < 0x20 || line.data[i] > 0x7e)
            abort();
    json_t *v = json_loadb((const char *)line.data, line.len, JSON_ALLOW_NUL, NULL);
    /* The line written as text is the record built as a tree. */
    json_t *tree = jsonout_exchange(ex, &cfg);
    if (!v || !json_equal(v, tree))
        abort();
    json_decref(tree);
    json_decref(v);
    dynbuf_cleanup(&line);
}

static void check_raw(json_t *side, const struct message *m)
{
    if (json_is_null(side))
        return;
    const char *b64 = json_string_value(json_object_get(side, "raw"));
    struct dynbuf raw;
    dynbuf_init(&raw, m->raw.len + 4);
    if (!b64 || base64_decode(&raw, b64, strlen(b64)) != 0 || raw.len != m->raw.len ||
        (raw.len && memcmp(raw.data, m->raw.data, raw.len) != 0))
        abort();
    dynbuf_cleanup(&raw);
}

static void check_har(const struct exchange *ex)
{
    struct dynbuf text;
    dynbuf_init(&text, 64 << 20);
    struct har_config cfg = {&LIMITS, 1 << 16, NULL};
    if (har_stream_entry(&text, ex, &cfg, true) != 0)
        abort();
    json_t *e = json_loadb((const char *)text.data, text.len, JSON_ALLOW_NUL, NULL);
    if (!e)
        abort();
    json_t *custom = json_object_get(e, "_hspy");
    check_raw(json_object_get(custom, "request"), &ex->req);
    check_raw(json_object_get(custom, "response"), &ex->resp);
    json_decref(e);
    /* The entry streamed as text (after the line break that separates entries) is, byte for
     * byte, the tree of the same calls written out. */
    json_t *tree = har_entry(ex, &cfg);
    struct dynbuf dumped;
    dynbuf_init(&dumped, 64 << 20);
    dynbuf_addc(&dumped, '\n');
    jsonwrite_value(&dumped, tree, HAR_REAL_PRECISION);
    if (dumped.len != text.len || memcmp(dumped.data, text.data, text.len) != 0)
        abort();
    json_decref(tree);
    dynbuf_cleanup(&dumped);
    dynbuf_cleanup(&text);
}

static void check_text(const struct exchange *ex)
{
    struct dynbuf out;
    dynbuf_init(&out, 64 << 20);
    struct textlog_config cfg = {&LIMITS, 512, 1 << 16};
    textlog_full(&out, ex, &cfg);
    for (size_t i = 0; i < out.len; i++)
        if ((out.data[i] < 0x20 && out.data[i] != '\n' && out.data[i] != '\t') ||
            out.data[i] == 0x7f)
            abort();
    dynbuf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct exchange_limits exl = {LIMITS.head_max, (size_t)(data[0] & 0x7f) * 16};
    const uint8_t *p = data + 1;
    size_t n = size - 1, rn = n;
    const uint8_t *resp = NULL;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\n--\n", 4) == 0) {
            rn = i;
            resp = p + i + 4;
            break;
        }
    struct exchange *ex = exchange_new(&exl);
    parse_side(ex, SIDE_CLIENT, p, rn, NULL);
    struct framing_request facts = {0};
    if (ex->req.flags & MSG_HEAD) {
        framing_request_facts(ex->req.raw.data, &ex->req.head, &facts);
        facts.present = true;
    }
    if (resp)
        parse_side(ex, SIDE_SERVER, resp, n - rn - 4, &facts);
    ex->flags = (uint32_t)data[0] << 8 | EX_DONE;
    ex->t[T_REQ_FIRST] = (int64_t)data[0] * 1000000;
    ex->t[T_RESP_LAST] = ex->t[T_REQ_FIRST] + 12345;
    check_json(ex);
    check_har(ex);
    check_text(ex);
    exchange_free(ex);
    return 0;
}
