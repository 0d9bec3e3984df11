/*
 * decode: placeholder until content decoding lands. Identity bodies pass through; any content
 * coding is reported as not decodable yet (never as decoded).
 */
#include "hspy/decode.h"

#include <stdio.h>
#include <string.h>

enum decode_status decode_body(const uint8_t *ce, size_t ce_len, const uint8_t *body, size_t n,
                               size_t max, struct dynbuf *out, struct decode_result *res)
{
    memset(res, 0, sizeof *res);
    size_t take = n < max ? n : max;
    dynbuf_append(out, body, take);
    if (!ce || ce_len == 0) {
        res->status = take < n ? DECODE_LIMIT : DECODE_IDENTITY;
        return res->status;
    }
    snprintf(res->coding, sizeof res->coding, "%.*s", (int)ce_len, (const char *)ce);
    snprintf(res->message, sizeof res->message, "content decoding is not built yet");
    res->status = DECODE_UNKNOWN;
    return res->status;
}

enum decode_status decode_message(const struct message *m, const struct http_limits *limits,
                                  size_t max, struct dynbuf *out, struct decode_result *res)
{
    struct dynbuf body;
    dynbuf_init(&body, max);
    message_body(m, &body, limits);
    size_t n = 0;
    const uint8_t *ce = message_header(m, "content-encoding", &n);
    enum decode_status st = decode_body(ce, n, body.data, body.len, max, out, res);
    dynbuf_cleanup(&body);
    return st;
}
