/*
 * Fuzzes the promise that the way input is cut never changes a result. The first byte picks
 * the target and the side: bit 0 responses instead of requests, bit 1 the conversation engine
 * instead of the head parser, bit 2 capture mode (conversation). The rest is the input, fed
 * whole, byte by byte and in two pieces at every offset (at a sample of offsets for long
 * inputs); to the head parser also in pieces of 15, 16 and 17 bytes. Everything observable must be
 * identical: the result code, every field of the head, every header, every warning with its code
 * and offset; for the conversation, every exchange with its flags, sizes, framing and warnings.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/dynbuf.h"
#include "hspy/http.h"

enum {
    CAP = 16,         /* header entries kept (small, so the cap is reached often) */
    EXHAUSTIVE = 300, /* inputs up to this size are cut at every offset */
    SAMPLES = 48,     /* cut points tried on longer inputs */
};

/* --- the head parser --- */

struct outcome {
    int rc;
    struct http_head head;
    struct http_header headers[CAP];
    struct http_warnings w;
};

static const struct http_limits LIMITS = {1024, CAP, 16, 256};

/* Feeds in[0..n) as growing prefixes ending at each of cuts (ascending, last = n); each prefix
 * is an exact-size copy so that a read past it is caught. ncuts = 0: one call without a scan. */
static void parse_cuts(const uint8_t *in, size_t n, enum http_kind kind, const size_t *cuts,
                       size_t ncuts, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->head.headers = o->headers;
    o->head.cap = CAP;
    if (ncuts == 0) {
        o->rc = http_head_parse(in, n, kind, &LIMITS, NULL, &o->head, &o->w);
        return;
    }
    struct http_scan scan = {0};
    o->rc = HTTP_NEED_MORE;
    for (size_t i = 0; i < ncuts && o->rc == HTTP_NEED_MORE; i++) {
        uint8_t *exact = malloc(cuts[i] ? cuts[i] : 1);
        memcpy(exact, in, cuts[i]);
        o->rc = http_head_parse(exact, cuts[i], kind, &LIMITS, &scan, &o->head, &o->w);
        free(exact);
    }
}

static void same_outcome(const struct outcome *a, const struct outcome *b)
{
    CHECK(a->rc == b->rc);
    CHECK(a->w.n == b->w.n && a->w.dropped == b->w.dropped);
    CHECK(memcmp(a->w.w, b->w.w, a->w.n * sizeof a->w.w[0]) == 0);
    if (a->rc == HTTP_INVALID)
        return; /* no head to compare */
    const struct http_head *x = &a->head, *y = &b->head;
    CHECK(x->kind == y->kind && x->major == y->major && x->minor == y->minor);
    CHECK(x->status == y->status && x->flags == y->flags);
    CHECK(!memcmp(&x->method, &y->method, sizeof x->method));
    CHECK(!memcmp(&x->target, &y->target, sizeof x->target));
    CHECK(!memcmp(&x->version, &y->version, sizeof x->version));
    CHECK(!memcmp(&x->reason, &y->reason, sizeof x->reason));
    CHECK(x->start == y->start && x->len == y->len);
    CHECK(x->nheaders == y->nheaders && x->total_headers == y->total_headers);
    CHECK(!memcmp(x->field_index, y->field_index, sizeof x->field_index));
    CHECK(!memcmp(x->field_count, y->field_count, sizeof x->field_count));
    CHECK(!memcmp(a->headers, b->headers, x->nheaders * sizeof a->headers[0]));
}

static void split_parser(const uint8_t *in, size_t n, enum http_kind kind, uint32_t seed)
{
    static struct outcome whole, other;
    parse_cuts(in, n, kind, NULL, 0, &whole);
    CHECK(whole.rc <= (int)n);
    size_t one[1] = {n};
    parse_cuts(in, n, kind, one, 1, &other);
    same_outcome(&whole, &other);
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    if (n) {
        parse_cuts(in, n, kind, cuts, n, &other);
        same_outcome(&whole, &other);
    }
    for (size_t k = 0; k + 1 < n && k < (n <= EXHAUSTIVE ? n : SAMPLES); k++) {
        seed = seed * 1103515245u + 12345u;
        size_t at = n <= EXHAUSTIVE ? k + 1 : 1 + (seed >> 8) % (n - 1);
        size_t two[2] = {at, n};
        parse_cuts(in, n, kind, two, 2, &other);
        same_outcome(&whole, &other);
    }
    /* Pieces of 15, 16 and 17 bytes: the inline check of a piece and the edges of its window. */
    for (size_t k = 15; n && k <= 17; k++) {
        size_t m = 0;
        for (size_t at = k; at < n; at += k)
            cuts[m++] = at;
        cuts[m++] = n;
        parse_cuts(in, n, kind, cuts, m, &other);
        same_outcome(&whole, &other);
    }
    free(cuts);
}

/* --- the conversation --- */

struct recorder {
    struct exchange *ex[256];
    int n;
};

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t len)
{
    (void)c;
    (void)side;
    (void)p;
    (void)len;
    struct recorder *r = data;
    if (ev == CONV_BEGIN) {
        CHECK(r->n < 256);
        r->ex[r->n++] = ex;
    }
    return CONV_CONTINUE;
}

static void describe_msg(struct dynbuf *out, const struct message *m)
{
    dynbuf_printf(out,
                  " [raw %zu wire %llu flags %x head %u+%u fields %u body %u %llu/%llu/%llu "
                  "chunks %u trailer %llu interim %u gaps %llu]",
                  m->raw.len, (unsigned long long)m->wire_bytes, m->flags, m->head_off, m->head.len,
                  m->head.nheaders, m->body_kind, (unsigned long long)m->body_off,
                  (unsigned long long)m->body_wire, (unsigned long long)m->body_size, m->chunks,
                  (unsigned long long)m->trailer_off, m->ninterim,
                  (unsigned long long)m->gap_bytes);
    if (m->raw.len)
        CHECK(m->raw.data != NULL);
}

/* Everything about the exchanges that must not depend on the cuts (times do). */
static void describe(struct recorder *r, struct dynbuf *out)
{
    for (int i = 0; i < r->n; i++) {
        const struct exchange *ex = r->ex[i];
        dynbuf_printf(out, "#%u flags %x tunnel %llu/%llu", ex->conn_seq, ex->flags,
                      (unsigned long long)ex->tunnel_bytes[0],
                      (unsigned long long)ex->tunnel_bytes[1]);
        describe_msg(out, &ex->req);
        describe_msg(out, &ex->resp);
        for (uint16_t k = 0; k < ex->nwarnings; k++)
            dynbuf_printf(out, " !%u/%u@%llu(%s)", ex->warnings[k].code, ex->warnings[k].side,
                          (unsigned long long)ex->warnings[k].offset,
                          ex->warnings[k].detail ? ex->warnings[k].detail : "");
        dynbuf_printf(out, " dropped %u\n", ex->warnings_dropped);
    }
}

static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

/* Plays the input on side s (after a request when s is the server), cut at cuts. */
static void play(const uint8_t *in, size_t n, enum side s, bool capture, const size_t *cuts,
                 size_t ncuts, struct dynbuf *out)
{
    struct conversation_config cfg = {
        .limits = {1024, CAP, 16, 128}, .exchange = {1024, 512}, .conn_id = 1, .capture = capture};
    struct recorder r = {.n = 0};
    struct conversation_events ev = {&r, on_event};
    struct conversation *c = conversation_new(&cfg, &ev);
    if (s == SIDE_SERVER)
        conversation_feed(c, SIDE_CLIENT, (const uint8_t *)REQUEST, sizeof REQUEST - 1, 1);
    size_t from = 0;
    for (size_t i = 0; i < ncuts; i++) {
        uint8_t *exact = malloc(cuts[i] - from + 1);
        memcpy(exact, in + from, cuts[i] - from);
        size_t used = conversation_feed(c, s, exact, cuts[i] - from, 2);
        free(exact);
        if (!capture && used < cuts[i] - from)
            break; /* live use may stop taking bytes (a full queue); identical for all cuts */
        CHECK(used == cuts[i] - from);
        from = cuts[i];
    }
    conversation_close(c, s, 3);
    conversation_close(c, s == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT, 4);
    describe(&r, out);
    conversation_free(c);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
}

static void split_conversation(const uint8_t *in, size_t n, enum side s, bool capture,
                               uint32_t seed)
{
    struct dynbuf whole, other;
    dynbuf_init(&whole, 1 << 22);
    dynbuf_init(&other, 1 << 22);
    size_t one[1] = {n};
    play(in, n, s, capture, one, 1, &whole);
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    if (n) {
        play(in, n, s, capture, cuts, n, &other);
        if (strcmp(dynbuf_str(&whole), dynbuf_str(&other)) != 0) {
            fprintf(stderr, "whole:\n%sbyte by byte:\n%s", dynbuf_str(&whole), dynbuf_str(&other));
            CHECK(!"byte by byte differs from whole");
        }
    }
    for (size_t k = 0; k + 1 < n && k < (n <= EXHAUSTIVE / 4 ? n : SAMPLES / 4); k++) {
        seed = seed * 1103515245u + 12345u;
        size_t at = n <= EXHAUSTIVE / 4 ? k + 1 : 1 + (seed >> 8) % (n - 1);
        size_t two[2] = {at, n};
        dynbuf_reset(&other);
        play(in, n, s, capture, two, 2, &other);
        if (strcmp(dynbuf_str(&whole), dynbuf_str(&other)) != 0) {
            fprintf(stderr, "whole:\n%scut at %zu:\n%s", dynbuf_str(&whole), at,
                    dynbuf_str(&other));
            CHECK(!"two pieces differ from whole");
        }
    }
    free(cuts);
    dynbuf_cleanup(&whole);
    dynbuf_cleanup(&other);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t n = size - 1;
    uint8_t *in = malloc(n ? n : 1);
    memcpy(in, data + 1, n);
    uint32_t seed = (uint32_t)size * 2654435761u;
    bool response = data[0] & 1;
    if (data[0] & 2)
        split_conversation(in, n, response ? SIDE_SERVER : SIDE_CLIENT, (data[0] & 4) != 0, seed);
    else
        split_parser(in, n, response ? HTTP_RESPONSE : HTTP_REQUEST, seed);
    free(in);
    return 0;
}
