/* The exchange: warnings (growth, cap, repeats) and compaction into one right-sized block. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/exchange.h"
#include "hspy/sha256.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* A pooled exchange is poisoned: touching it is an error, as after free. */
#define ASSERT_POOLED(ex) assert_true(__asan_address_is_poisoned(ex))
#else
#define ASSERT_POOLED(ex) ((void)(ex))
#endif

static const struct exchange_limits LIMITS = {8192, 1 << 20};

/* Raw bytes appended in small pieces, so the buffer grows with slack as in live traffic. */
static void append(struct message *m, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i += 7)
        dynbuf_append(&m->raw, s + i, n - i < 7 ? n - i : 7);
    m->wire_bytes = n;
}

/* rare: also what few exchanges have, each in the arena (a gap, an interim response, a stored
 * body hash). */
static struct exchange *make_in(struct exchange_pool *pool, size_t resp_body, int nwarn,
                                bool strings, bool rare)
{
    struct exchange *ex = exchange_pool_get(pool, &LIMITS);
    static const char req[] = "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    append(&ex->req, req, sizeof req - 1);
    ex->req.head.nheaders = ex->req.head.cap = 2;
    ex->req.head.headers = arena_alloc(&ex->arena, 2 * sizeof *ex->req.head.headers);
    for (uint32_t i = 0; i < 2; i++)
        ex->req.head.headers[i] = (struct http_header){.name = {17 + 10 * i, 4}, .line = i};
    char *resp = malloc(resp_body + 64);
    int n = sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", resp_body);
    memset(resp + n, 'b', resp_body);
    append(&ex->resp, resp, (size_t)n + resp_body);
    free(resp);
    for (int i = 0; i < nwarn; i++)
        exchange_warn(ex, W_CL_AND_TE, SIDE_CLIENT, (uint64_t)i, i % 2 ? "detail %d" : NULL, i);
    if (strings) {
        exchange_fail(ex, EX_UPSTREAM_FAIL, "connect: %s", "refused");
        ex->note = arena_strdup(&ex->arena, "rule: webhook-ok");
        ex->cache_label = "static label"; /* not in the arena: must stay as it is */
    }
    if (rare) {
        ex->resp.gaps = arena_alloc(&ex->arena, MESSAGE_GAPS_MAX * sizeof *ex->resp.gaps);
        ex->resp.gaps[ex->resp.ngaps++] = (struct message_gap){5, 10};
        /* an interim response record */
        assert_true(exchange_add_interim(ex, &ex->resp, (struct message_interim){0, 12, 103}));
        /* a stored body hash (a body too large to hash again from raw) */
        uint8_t sum[SHA256_DIGEST_LEN];
        for (size_t i = 0; i < sizeof sum; i++)
            sum[i] = (uint8_t)(i * 7 + 1);
        ex->resp.sha256 = arena_memdup(&ex->arena, sum, sizeof sum);
        ex->resp.flags |= MSG_HASHED;
    }
    ex->flags |= EX_DONE;
    return ex;
}

static struct exchange *make(size_t resp_body, int nwarn, bool strings, bool rare)
{
    return make_in(NULL, resp_body, nwarn, strings, rare);
}

/* What an exchange shows, copied out so that it can be compared after compaction. */
struct view {
    char req[256], resp[8192];
    size_t reqlen, resplen;
    struct http_header h[2];
    int nwarn;
    char details[64][32];
    char error[64], note[64];
    const char *label;
    struct message_gap gap;
    uint32_t interim[4]; /* count, then the first one's offset, length and status */
    bool hashed;
    uint8_t sha256[SHA256_DIGEST_LEN];
};

static void snapshot(const struct exchange *ex, struct view *v)
{
    memset(v, 0, sizeof *v);
    v->reqlen = ex->req.raw.len;
    memcpy(v->req, ex->req.raw.data, v->reqlen);
    v->resplen = ex->resp.raw.len;
    if (v->resplen <= sizeof v->resp)
        memcpy(v->resp, ex->resp.raw.data, v->resplen);
    memcpy(v->h, ex->req.head.headers, sizeof v->h);
    v->nwarn = ex->nwarnings;
    for (int i = 0; i < ex->nwarnings; i++)
        snprintf(v->details[i], sizeof v->details[i], "%d %llu %s", ex->warnings[i].code,
                 (unsigned long long)ex->warnings[i].offset,
                 ex->warnings[i].detail ? ex->warnings[i].detail : "-");
    snprintf(v->error, sizeof v->error, "%s", ex->error ? ex->error : "-");
    snprintf(v->note, sizeof v->note, "%s", ex->note ? ex->note : "-");
    v->label = ex->cache_label;
    if (ex->resp.gaps)
        v->gap = ex->resp.gaps[0];
    v->interim[0] = ex->resp.ninterim;
    if (ex->resp.ninterim) {
        v->interim[1] = ex->resp.interim[0].off;
        v->interim[2] = ex->resp.interim[0].len;
        v->interim[3] = ex->resp.interim[0].status;
    }
    v->hashed = message_sha256(&ex->resp, v->sha256);
}

/* want and got show the same (the views are large: on the heap). */
static void assert_same_view(const struct exchange *want, const struct exchange *got)
{
    struct view *vw = malloc(sizeof *vw), *vg = malloc(sizeof *vg);
    snapshot(want, vw);
    snapshot(got, vg);
    assert_memory_equal(vw, vg, sizeof *vw);
    free(vw);
    free(vg);
}

static void test_compact_keeps_everything(void **state)
{
    (void)state;
    static const struct {
        size_t body;
        int nwarn;
        bool strings, rare;
    } cases[] = {
        {0, 0, false, false},
        {45, 0, false, false},
        {45, 1, true, false},
        {100, 5, true, true},
        {900, 64, true, true},
        {3000, 2, false, false},
        {EXCHANGE_COMPACT_INLINE_MAX, 0, true, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct exchange *ex = make(cases[c].body, cases[c].nwarn, cases[c].strings, cases[c].rare);
        struct view before, after;
        snapshot(ex, &before);
        size_t mem = exchange_memory(ex);
        exchange_compact(ex, NULL);
        snapshot(ex, &after);
        assert_memory_equal(&before, &after, sizeof before);
        assert_ptr_equal(ex->cache_label, before.label);
        assert_true(exchange_memory(ex) <= mem);
        bool small = ex->resp.raw.len + 1 <= EXCHANGE_COMPACT_INLINE_MAX;
        assert_int_equal(arena_owns(&ex->arena, ex->resp.raw.data), small);
        assert_true(arena_owns(&ex->arena, ex->req.raw.data));
        assert_int_equal(before.hashed, cases[c].rare);
        if (ex->resp.sha256)
            assert_true(arena_owns(&ex->arena, ex->resp.sha256));
        assert_int_equal(ex->resp.raw.cap, ex->resp.raw.len + 1);
        assert_int_equal(ex->resp.raw.data[ex->resp.raw.len], '\0');
        /* Twice is harmless: nothing visible changes, and the memory does not grow (it shrinks
         * by what the first block kept for allocations nothing pointed to, such as the homes
         * a growing warnings array left). */
        size_t once = exchange_memory(ex);
        exchange_compact(ex, NULL);
        snapshot(ex, &after);
        assert_memory_equal(&before, &after, sizeof before);
        assert_true(exchange_memory(ex) <= once);
        if (cases[c].nwarn <= 4) /* one warnings array (WARNINGS_FIRST): no slack at all */
            assert_int_equal(exchange_memory(ex), once);
        /* A warning after compaction still has room (the array grows again). */
        exchange_warn(ex, W_CL_CONFLICT, SIDE_SERVER, 999, "late");
        assert_true(exchange_has_warning(ex, W_CL_CONFLICT) || ex->warnings_dropped);
        exchange_free(ex);
    }
}

/* A small exchange ends up as the struct plus one block: far less than before. */
static void test_compact_small_is_small(void **state)
{
    (void)state;
    struct exchange *ex = make(45, 0, false, false);
    size_t before = exchange_memory(ex);
    exchange_compact(ex, NULL);
    size_t after = exchange_memory(ex);
    assert_true(after < before);
    /* struct, one block header, two raw copies, one header array */
    assert_true(after <= sizeof *ex + 64 + arena_rounded(ex->req.raw.len + 1) +
                             arena_rounded(ex->resp.raw.len + 1) +
                             arena_rounded(2 * sizeof(struct http_header)));
    exchange_free(ex);
}

static void test_warnings_grow_cap_and_repeat(void **state)
{
    (void)state;
    struct exchange *ex = exchange_new(&LIMITS);
    for (int i = 0; i < EXCHANGE_WARNINGS_MAX + 10; i++) {
        exchange_warn(ex, W_CL_AND_TE, SIDE_CLIENT, (uint64_t)i, "n%d", i);
        exchange_warn(ex, W_CL_AND_TE, SIDE_CLIENT, (uint64_t)i, "again"); /* ignored */
    }
    assert_int_equal(ex->nwarnings, EXCHANGE_WARNINGS_MAX);
    /* past the cap the repeats are not recognised: they count as dropped too */
    assert_int_equal(ex->warnings_dropped, 20);
    for (int i = 0; i < EXCHANGE_WARNINGS_MAX; i++) {
        char want[16];
        snprintf(want, sizeof want, "n%d", i);
        assert_int_equal(ex->warnings[i].offset, (uint64_t)i);
        assert_string_equal(ex->warnings[i].detail, want);
    }
    exchange_free(ex);
}

/* Nothing of an exchange's previous use shows in the one the pool hands out next. */
static void assert_fresh(const struct exchange *ex)
{
    assert_int_equal(ex->flags, 0);
    assert_int_equal(ex->nwarnings, 0);
    assert_null(ex->warnings);
    assert_null(ex->error);
    assert_null(ex->note);
    assert_null(ex->cache_label);
    assert_null(ex->edit);
    assert_int_equal(ex->req.raw.len, 0);
    assert_int_equal(ex->resp.raw.len, 0);
    assert_int_equal(ex->resp.ngaps, 0);
    assert_int_equal(ex->req.head.nheaders, 0);
    assert_int_equal(ex->req.raw.max, (size_t)LIMITS.head_max + LIMITS.body_keep);
    assert_true(exchange_memory(ex) <=
                sizeof *ex + ARENA_FIRST_BLOCK_SIZE + 64 + 2 * EXCHANGE_POOL_RAW_MAX + 2);
}

/* Exchanges used, given back and taken again (plain, compacted, with large bodies, warnings
 * and the rare parts) read exactly like exchanges made afresh. */
static void test_pool_reuse(void **state)
{
    (void)state;
    static const size_t BODIES[] = {0, 10, 3000, 5000, 100000};
    struct exchange_pool pool = {0};
    for (int round = 0; round < 3; round++)
        for (size_t b = 0; b < sizeof BODIES / sizeof BODIES[0]; b++)
            for (int variant = 0; variant < 4; variant++) {
                bool compact = variant & 1, extras = variant & 2;
                int nwarn = extras ? 20 : 0;
                struct exchange *want = make(BODIES[b], nwarn, extras, extras);
                struct exchange *got = make_in(&pool, BODIES[b], nwarn, extras, extras);
                if (compact) {
                    exchange_compact(want, NULL);
                    exchange_compact(got, NULL);
                }
                assert_same_view(want, got);
                exchange_free(want);
                exchange_pool_put(&pool, got);
                assert_int_equal(pool.n, 1);
                ASSERT_POOLED(got);
                struct exchange *again = exchange_pool_get(&pool, &LIMITS);
                assert_ptr_equal(again, got);
                assert_fresh(again);
                exchange_pool_put(&pool, again);
            }
    exchange_pool_cleanup(&pool);
    assert_int_equal(pool.n, 0);
}

/* A compaction with spares leaves its old arena block and small raw buffers there, and the next
 * new exchange is built from them: fresh as ever, with the very same buffers. Kept exchanges that
 * keep coming (a history that is not full yet) thus cost no allocation but their own block. */
static void test_compact_leaves_spares(void **state)
{
    (void)state;
    static const size_t BODIES[] = {0, 10, 3000, 5000, 100000};
    struct exchange_pool pool = {0};
    for (size_t b = 0; b < sizeof BODIES / sizeof BODIES[0]; b++)
        for (int extras = 0; extras < 2; extras++) {
            struct exchange *want = make(BODIES[b], extras ? 20 : 0, extras, extras);
            struct exchange *got = make_in(&pool, BODIES[b], extras ? 20 : 0, extras, extras);
            uint8_t *req_raw = got->req.raw.data, *resp_raw = got->resp.raw.data;
            size_t resp_cap = got->resp.raw.cap;
            exchange_compact(want, NULL);
            exchange_compact(got, &pool);
            assert_same_view(want, got);
            /* the request buffer is small: it went to the spares, and comes back next */
            assert_int_equal(pool.nparts, 1);
            assert_ptr_equal(pool.parts[0].raw[SIDE_CLIENT].data, req_raw);
            ASSERT_POOLED(req_raw);
            /* the response buffer was moved into the block only while small, and is spare only
             * when it is also small enough to keep */
            bool resp_spare = got->resp.raw.len + 1 <= EXCHANGE_COMPACT_INLINE_MAX &&
                              resp_cap <= EXCHANGE_POOL_RAW_MAX;
            assert_ptr_equal(pool.parts[0].raw[SIDE_SERVER].data, resp_spare ? resp_raw : NULL);
            assert_non_null(pool.parts[0].arena.head);
            struct exchange *next = exchange_pool_get(&pool, &LIMITS);
            assert_int_equal(pool.nparts, 0);
            assert_fresh(next);
            assert_ptr_equal(next->req.raw.data, req_raw);
            exchange_free(want);
            exchange_free(got);
            exchange_free(next);
        }
    /* at most EXCHANGE_POOL_MAX sets are kept; the rest is freed (the leak checker sees it) */
    for (int i = 0; i < EXCHANGE_POOL_MAX + 3; i++) {
        struct exchange *ex = make(10, 0, false, false);
        exchange_compact(ex, &pool);
        exchange_free(ex);
    }
    assert_int_equal(pool.nparts, EXCHANGE_POOL_MAX);
    /* a pooled exchange that came back compacted takes a set of parts along */
    struct exchange *kept = make(10, 0, false, false);
    exchange_compact(kept, NULL);
    exchange_pool_put(&pool, kept);
    struct exchange *again = exchange_pool_get(&pool, &LIMITS);
    assert_ptr_equal(again, kept);
    assert_int_equal(pool.nparts, EXCHANGE_POOL_MAX - 1);
    assert_non_null(again->req.raw.data);
    assert_fresh(again);
    exchange_free(again);
    exchange_pool_cleanup(&pool);
    assert_int_equal(pool.nparts, 0);
}

/* The pool keeps at most EXCHANGE_POOL_MAX exchanges, frees edited ones, and NULL means none. */
static void test_pool_limits(void **state)
{
    (void)state;
    struct exchange_pool pool = {0};
    for (int i = 0; i < EXCHANGE_POOL_MAX + 5; i++)
        exchange_pool_put(&pool, make_in(NULL, 10, 1, true, false));
    assert_int_equal(pool.n, EXCHANGE_POOL_MAX);
    struct exchange *ex = exchange_pool_get(&pool, &LIMITS);
    ex->edit = calloc(1, sizeof *ex->edit);
    exchange_pool_put(&pool, ex);
    assert_int_equal(pool.n, EXCHANGE_POOL_MAX - 1);
    exchange_pool_put(&pool, NULL);
    exchange_pool_put(NULL, make_in(NULL, 10, 0, false, false));
    exchange_pool_cleanup(&pool);
    assert_int_equal(pool.n, 0);
}

/* A duration runs from the first request byte (a response without a request: its first byte) to
 * the last response byte; without a last response byte there is none, whatever the request did. */
static const struct duration_case {
    int64_t req_first, req_last, resp_first, resp_last;
    int64_t want;
} DURATIONS[] = {
    {100, 150, 200, 300, 200}, /* both sides */
    {100, 100, 0, 0, -1},      /* a request head alone (killed while held) */
    {100, 5000, 0, 0, -1},     /* a whole request, no answer (upstream failed) */
    {100, 0, 0, 0, -1},        /* a partial head, then the client went away */
    {100, 150, 200, 0, -1},    /* a response that started and never ended */
    {0, 0, 200, 260, 60},      /* a response without a request (capture) */
    {100, 150, 200, 200, 100}, /* the response in the same instant as its first byte */
    {300, 350, 0, 200, -1},    /* clocks out of order */
    {0, 0, 0, 0, -1},          /* nothing */
};

static void test_duration(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof DURATIONS / sizeof DURATIONS[0]; i++) {
        const struct duration_case *c = &DURATIONS[i];
        struct exchange *ex = exchange_new(&LIMITS);
        ex->t[T_REQ_FIRST] = c->req_first;
        ex->t[T_REQ_HEAD] = c->req_first;
        ex->t[T_REQ_LAST] = c->req_last;
        ex->t[T_RESP_FIRST] = c->resp_first;
        ex->t[T_RESP_LAST] = c->resp_last;
        if (exchange_duration(ex) != c->want)
            fail_msg("case %zu: duration %lld, want %lld", i, (long long)exchange_duration(ex),
                     (long long)c->want);
        exchange_free(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_keeps_everything),
        cmocka_unit_test(test_compact_small_is_small),
        cmocka_unit_test(test_warnings_grow_cap_and_repeat),
        cmocka_unit_test(test_pool_reuse),
        cmocka_unit_test(test_compact_leaves_spares),
        cmocka_unit_test(test_pool_limits),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
