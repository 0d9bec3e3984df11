/*
 * Fuzzes the filter compiler and matcher with arbitrary expressions. Invariants: compile either
 * succeeds or reports a one-line error at an offset inside the expression; a compiled filter
 * matches the sample exchanges the same way one by one and in a batch.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/exchange.h"
#include "hspy/filter.h"
#include "hspy/http.h"

/* Checked in every build type (assert vanishes under NDEBUG). */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct exchange *sample(const char *req, const char *resp)
{
    static const struct exchange_limits limits = {HTTP_HEAD_MAX_DEFAULT, 1 << 16};
    struct exchange *ex = exchange_new(&limits);
    const char *text[2] = {req, resp};
    for (int s = 0; s < 2; s++) {
        struct message *m = exchange_msg(ex, (enum side)s);
        struct http_limits lim = HTTP_LIMITS_DEFAULT;
        dynbuf_append(&m->raw, text[s], strlen(text[s]));
        m->flags |= MSG_STARTED;
        m->head.headers = arena_alloc(&ex->arena, 16 * sizeof *m->head.headers);
        m->head.cap = 16;
        int rc = http_head_parse(m->raw.data, m->raw.len, s ? HTTP_RESPONSE : HTTP_REQUEST, &lim,
                                 NULL, &m->head, NULL);
        CHECK(rc > 0);
        m->flags |= MSG_HEAD;
        m->body_off = (uint64_t)rc;
        m->body_kind = BODY_CLOSE;
        m->body_size = m->raw.len - (size_t)rc;
    }
    ex->id = 7;
    ex->t[T_REQ_FIRST] = 1000000000;
    ex->t[T_RESP_LAST] = 1250000000;
    exchange_warn(ex, W_CL_AND_TE, SIDE_CLIENT, 0, NULL);
    return ex;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr = malloc(size + 1);
    memcpy(expr, data, size);
    expr[size] = '\0';
    size_t len = strlen(expr);
    char err[256];
    size_t pos = 0;
    struct filter *f = filter_compile(expr, err, sizeof err, &pos);
    if (!f) {
        CHECK(pos <= len);
        CHECK(err[0] && !strchr(err, '\n'));
        free(expr);
        return 0;
    }
    struct exchange *ex[3] = {
        sample("GET /api/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
               "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\n\r\n"
               "hello body"),
        sample("POST http://h.test/p HTTP/1.1\r\nHost: h.test\r\nX: \x01\xff\r\n\r\nabc",
               "HTTP/1.1 503 Busy\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08"),
        NULL,
    };
    uint8_t out[3];
    size_t hits = filter_match_many(f, ex, 3, out);
    size_t want = 0;
    for (int i = 0; i < 2; i++) {
        bool m = filter_match(f, ex[i]);
        CHECK(out[i] == m);
        want += m;
    }
    CHECK(out[2] == 0 && hits == want);
    CHECK(strcmp(filter_text(f), expr) == 0);
    filter_free(f);
    exchange_free(ex[0]);
    exchange_free(ex[1]);
    free(expr);
    return 0;
}
