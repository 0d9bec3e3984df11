/*
 * Fuzzes the cache analysis and the HTTP-date parser. Input: request bytes, a NUL, response
 * bytes (no NUL: response only). Invariants: the report stays inside its bounds, findings point
 * inside the response or request bytes, JSON always builds, cache_warn never overflows, and a
 * parsed date formats and parses back to itself.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cache.h"
#include "hspy/exchange.h"
#include "hspy/http.h"

/* Checked in every build type (assert vanishes under NDEBUG). */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fill(struct exchange *ex, enum side side, const uint8_t *p, size_t n)
{
    enum { CAP = 64 };
    struct message *m = exchange_msg(ex, side);
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    dynbuf_append(&m->raw, p, n);
    m->wire_bytes = n;
    m->flags |= MSG_STARTED;
    m->head.headers = arena_alloc(&ex->arena, CAP * sizeof *m->head.headers);
    m->head.cap = CAP;
    int rc =
        http_head_parse(m->raw.data, m->raw.len, side == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE,
                        &lim, NULL, &m->head, NULL);
    if (rc > 0) {
        m->flags |= MSG_HEAD;
        m->body_off = (uint64_t)rc;
    }
}

static void check_dates(const uint8_t *data, size_t size)
{
    int64_t t, back;
    int rc = cache_date_parse((const char *)data, size, INT64_C(1700000000), &t);
    CHECK(rc >= -1 && rc <= 1);
    if (rc < 0 || t < INT64_C(-62135596800) || t > INT64_C(253402300799))
        return;
    char buf[CACHE_DATE_STRLEN];
    cache_date_format(t, buf, sizeof buf);
    CHECK(cache_date_parse(buf, strlen(buf), CACHE_TIME_NONE, &back) == 0 && back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_dates(data, size);
    static const struct exchange_limits limits = {HTTP_HEAD_MAX_DEFAULT, 1 << 16};
    struct exchange *ex = exchange_new(&limits);
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        fill(ex, SIDE_CLIENT, data, (size_t)(nul - data));
        fill(ex, SIDE_SERVER, nul + 1, size - (size_t)(nul - data) - 1);
    } else {
        fill(ex, SIDE_SERVER, data, size);
    }
    ex->t[T_REQ_FIRST] = INT64_C(1699999999) * 1000000000;
    ex->t[T_RESP_HEAD] = INT64_C(1700000000) * 1000000000;

    struct cache_report r;
    cache_analyze(ex, &r);
    CHECK(memchr(r.label, 0, sizeof r.label) && memchr(r.etag, 0, sizeof r.etag));
    CHECK(memchr(r.vary, 0, sizeof r.vary));
    CHECK(r.nfindings <= CACHE_FINDINGS_MAX);
    CHECK(r.outcomes < (1u << CACHE_OUTCOME_COUNT));
    CHECK(r.analysed || (r.outcomes == 0 && r.label[0] == '\0'));
    for (uint8_t i = 0; i < r.nfindings; i++) {
        const struct message *m = exchange_msg(ex, (enum side)r.findings[i].side);
        CHECK(r.findings[i].offset < m->raw.len);
        CHECK(memchr(r.findings[i].detail, 0, CACHE_DETAIL_MAX));
    }
    json_t *j = cache_json(&r);
    CHECK(j);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK(text);
    free(text);
    json_decref(j);
    cache_warn(ex);
    CHECK(ex->nwarnings <= EXCHANGE_WARNINGS_MAX);
    exchange_free(ex);
    return 0;
}
