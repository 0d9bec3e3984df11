/* The store: ids, generation, observers, caps with visible eviction, pins, remove and clear;
 * and random sequences of all of these checked against its promises. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/store.h"

static const struct exchange_limits LIMITS = {1024, 4096};

struct counts {
    int added, updated, completed, evicted;
};

static void on_add(void *d, struct exchange *ex)
{
    (void)ex;
    ((struct counts *)d)->added++;
}
static void on_update(void *d, struct exchange *ex)
{
    (void)ex;
    ((struct counts *)d)->updated++;
}
static void on_complete(void *d, struct exchange *ex)
{
    assert_true(ex->flags & EX_DONE);
    ((struct counts *)d)->completed++;
}
static void on_evict(void *d, struct exchange *ex)
{
    (void)ex;
    ((struct counts *)d)->evicted++;
}

static struct exchange *make(const char *req)
{
    struct exchange *ex = exchange_new(&LIMITS);
    dynbuf_append(&ex->req.raw, req, strlen(req));
    ex->req.wire_bytes = strlen(req);
    return ex;
}

static void test_ids_and_observers(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 10, 1 << 20);
    struct counts c = {0};
    store_observe(&s, &(struct store_observer){&c, on_add, on_update, on_complete, on_evict});
    uint64_t g0 = s.generation;
    struct exchange *a = make("GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(store_add(&s, a), 1);
    assert_true(s.generation > g0);
    struct exchange *b = make("GET /b HTTP/1.1\r\n\r\n");
    assert_int_equal(store_add(&s, b), 2);
    store_touch(&s, a);
    assert_ptr_equal(store_get(&s, 1), a);
    assert_ptr_equal(store_get(&s, 2), b);
    assert_null(store_get(&s, 3));
    assert_null(store_get(&s, 0));
    store_complete(&s, a);
    store_complete(&s, b);
    assert_int_equal(c.added, 2);
    assert_int_equal(c.updated, 1);
    assert_int_equal(c.completed, 2);
    assert_int_equal(c.evicted, 0);
    assert_int_equal(s.counters.bytes, 2 * 18 + 1);
    store_cleanup(&s);
}

static void test_cap_evicts_oldest_completed(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 3, 1 << 30);
    struct counts c = {0};
    store_observe(&s, &(struct store_observer){&c, NULL, NULL, NULL, on_evict});
    struct exchange *pinned = make("POST /slow HTTP/1.1\r\n\r\n");
    store_add(&s, pinned); /* id 1 stays in flight */
    for (int i = 0; i < 10; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        store_add(&s, ex);
        store_complete(&s, ex);
    }
    /* Never more than 3 live; the pinned one survives; the newest completed remain. */
    assert_int_equal(s.live, 3);
    assert_ptr_equal(store_get(&s, 1), pinned);
    assert_non_null(store_get(&s, 11));
    assert_non_null(store_get(&s, 10));
    assert_null(store_get(&s, 9));
    assert_int_equal(s.counters.evicted, 8);
    assert_int_equal(c.evicted, 8);
    /* Once complete, the old pinned exchange is the oldest and goes first. */
    store_complete(&s, pinned);
    assert_ptr_equal(store_get(&s, 1), pinned);
    struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
    store_add(&s, ex);
    store_complete(&s, ex);
    assert_null(store_get(&s, 1));
    assert_non_null(store_get(&s, 10));
    assert_int_equal(s.live, 3);
    store_cleanup(&s);
}

/*
 * Without a history (no interface), slow clients keep old exchanges pinned while thousands of
 * others come and go after them: each of those is freed as it completes, the pinned ones when
 * they end, in whatever order, and then the store is empty again.
 */
static void test_zero_cap_with_pinned_stragglers(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 0, 1 << 30);
    enum { SLOW = 300, FAST = 20000 };
    struct exchange *slow[SLOW];
    for (int i = 0; i < SLOW; i++) {
        slow[i] = make("GET /slow HTTP/1.1\r\n");
        store_add(&s, slow[i]);
    }
    int ended = 0;
    for (int i = 0; i < FAST; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        store_add(&s, ex);
        store_complete(&s, ex);
        assert_int_equal(s.live, SLOW - ended);
        if (i % 100 == 0) { /* the slow ones end in a shuffled order while traffic goes on */
            int k = (i / 100 * 7) % SLOW;
            store_complete(&s, slow[k]);
            slow[k] = NULL;
            ended++;
            assert_int_equal(s.live, SLOW - ended);
            assert_true(s.nbehind <= SLOW);
        }
    }
    for (int i = 0; i < SLOW; i++)
        if (slow[i])
            store_complete(&s, slow[i]);
    assert_int_equal(s.live, 0);
    assert_int_equal(s.base, s.next);
    store_cleanup(&s);
}

static void test_zero_cap_frees_after_observers(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 0, 1 << 30);
    struct counts c = {0};
    store_observe(&s, &(struct store_observer){&c, NULL, NULL, on_complete, NULL});
    for (int i = 0; i < 100000; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        store_add(&s, ex);
        store_complete(&s, ex);
    }
    assert_int_equal(c.completed, 100000);
    assert_int_equal(s.live, 0);
    /* The ring does not grow with the number of exchanges. */
    assert_true(s.ring_cap <= 1024);
    store_cleanup(&s);
}

static void test_memory_cap(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 1000, 64 * 1024);
    for (int i = 0; i < 200; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        char body[2000];
        memset(body, 'x', sizeof body);
        dynbuf_append(&ex->resp.raw, body, sizeof body);
        store_add(&s, ex);
        store_complete(&s, ex);
        assert_true(s.memory <= 64 * 1024);
    }
    assert_true(s.counters.evicted > 0);
    assert_true(s.live < 200);
    store_cleanup(&s);
}

static void test_remove_and_clear(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 100, 1 << 30);
    struct exchange *inflight = make("GET /a HTTP/1.1\r\n\r\n");
    store_add(&s, inflight);
    for (int i = 0; i < 5; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        store_add(&s, ex);
        store_complete(&s, ex);
    }
    assert_int_equal(store_remove(&s, 1), -1); /* pinned */
    assert_int_equal(store_remove(&s, 3), 0);
    assert_null(store_get(&s, 3));
    assert_int_equal(store_remove(&s, 3), -1);
    assert_int_equal(store_clear(&s), 4);
    assert_int_equal(s.live, 1);
    assert_int_equal(s.counters.evicted, 0); /* user removals are not evictions */
    store_complete(&s, inflight);
    store_cleanup(&s);
}

/* The count of flows with warnings is of those kept: removal, clearing and eviction lower it;
 * a warning that comes after completion does not make a removal lower it twice. */
static void test_warned_count_follows_the_kept(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 3, 1 << 30);
    for (int i = 0; i < 5; i++) {
        struct exchange *ex = make("GET / HTTP/1.1\r\n\r\n");
        store_add(&s, ex);
        if (i != 1)
            exchange_warn(ex, W_BARE_LF, SIDE_CLIENT, 0, NULL);
        store_complete(&s, ex);
    }
    /* Ids 1 and 2 were evicted (1 warned); 3, 4 and 5 are kept, all warned. */
    assert_int_equal(s.counters.evicted, 2);
    assert_int_equal(s.counters.with_warnings, 3);
    struct exchange *quiet = make("GET / HTTP/1.1\r\n\r\n");
    store_add(&s, quiet);
    store_complete(&s, quiet); /* evicts 3 */
    assert_int_equal(s.counters.with_warnings, 2);
    exchange_warn(quiet, W_BARE_LF, SIDE_CLIENT, 0, NULL); /* after completion: not counted */
    assert_int_equal(store_remove(&s, quiet->id), 0);
    assert_int_equal(s.counters.with_warnings, 2);
    assert_int_equal(store_remove(&s, 4), 0);
    assert_int_equal(s.counters.with_warnings, 1);
    assert_int_equal(store_clear(&s), 1);
    assert_int_equal(s.counters.with_warnings, 0);
    store_cleanup(&s);
}

/* A completed exchange the store keeps is compacted, and the memory account follows it down
 * to zero when everything leaves; one it drops at once (cap 0) is not compacted first. */
static void test_kept_exchanges_are_compacted(void **state)
{
    (void)state;
    struct store s;
    store_init(&s, 10, 1 << 20);
    struct exchange *a = make("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    a->req.head.headers = arena_alloc(&a->arena, sizeof *a->req.head.headers);
    a->req.head.nheaders = a->req.head.cap = 1;
    store_add(&s, a);
    size_t loose = exchange_memory(a);
    store_pin(&s, a); /* another holder: still loose after completion */
    store_complete(&s, a);
    assert_false(arena_owns(&a->arena, a->req.raw.data));
    assert_int_equal(s.memory, loose);
    store_unpin(&s, a);
    assert_true(arena_owns(&a->arena, a->req.raw.data));
    assert_true(arena_owns(&a->arena, a->req.head.headers));
    assert_true(exchange_memory(a) < loose);
    assert_int_equal(s.memory, exchange_memory(a));
    struct exchange *b = make("GET /b HTTP/1.1\r\n\r\n");
    store_add(&s, b);
    store_complete(&s, b);
    assert_int_equal(s.memory, exchange_memory(a) + exchange_memory(b));
    assert_int_equal(store_clear(&s), 2);
    assert_int_equal(s.memory, 0);
    store_cleanup(&s);
}

/*
 * Random sequences against the store's promises: exchanges added (pinned while in flight),
 * completed in any order, pinned again and unpinned (an open detail view, a held exchange),
 * removed, cleared, under a flow cap and a memory cap, with and without an exchange pool. After
 * every step: each slot holds its own id, live counts them, no pinned exchange is gone, the
 * memory account equals what the kept completed exchanges hold, and once an unpin let the caps
 * act, a cap is exceeded only when nothing left can be evicted.
 */
enum { RAND_MAX_IDS = 4096 };

struct model {
    uint32_t pins[RAND_MAX_IDS]; /* by id: pins this test holds (in flight counts as one) */
    bool done[RAND_MAX_IDS];
};

static void check_store(const struct store *s, const struct model *m, bool caps_acted,
                        uint32_t seed, int step)
{
    size_t live = 0, memory = 0;
    bool evictable = false;
    for (uint64_t id = store_first_id(s); id < store_end_id(s); id++) {
        const struct exchange *ex = store_get(s, id);
        if (!ex)
            continue;
        live++;
        if (ex->id != id || ex->pins != m->pins[id])
            fail_msg("seed %u step %d: slot %llu holds id %llu with %u pins (%u expected)", seed,
                     step, (unsigned long long)id, (unsigned long long)ex->id, ex->pins,
                     m->pins[id]);
        if (ex->flags & EX_DONE)
            memory += exchange_memory(ex);
        evictable |= ex->pins == 0;
    }
    for (uint64_t id = 1; id < store_end_id(s); id++)
        if (m->pins[id] && !store_get(s, id))
            fail_msg("seed %u step %d: pinned %llu is gone", seed, step, (unsigned long long)id);
    if (live != s->live || memory != s->memory)
        fail_msg("seed %u step %d: live %zu (counted %zu), memory %zu (held %zu)", seed, step,
                 s->live, live, s->memory, memory);
    if (caps_acted && (s->live > s->max_flows || s->memory > s->max_memory) && evictable)
        fail_msg("seed %u step %d: over a cap (%zu flows, %zu bytes) with evictable exchanges",
                 seed, step, s->live, s->memory);
}

static void random_store(uint32_t seed, struct exchange_pool *pool)
{
    struct store s;
    store_init(&s, 20 + seed % 30, seed % 2 ? 24 * 1024 : (size_t)1 << 30);
    s.pool = pool;
    struct model *m = calloc(1, sizeof *m);
    uint32_t rng = seed;
    for (int step = 0; step < 3000 && store_end_id(&s) + 1 < RAND_MAX_IDS; step++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 8, what = r % 100;
        uint64_t first = store_first_id(&s), end = store_end_id(&s);
        uint64_t pick = end > first ? first + r / 100 % (end - first) : 0;
        struct exchange *ex = pick ? store_get(&s, pick) : NULL;
        bool caps_acted = false;
        if (what < 40) {
            struct exchange *n = make("GET /random HTTP/1.1\r\nHost: example\r\n\r\n");
            char body[700];
            memset(body, 'b', sizeof body);
            dynbuf_append(&n->resp.raw, body, r / 100 % sizeof body);
            uint64_t id = store_add(&s, n);
            m->pins[id] = 1;
        } else if (what < 70 && ex && !m->done[pick] && m->pins[pick]) {
            m->done[pick] = true;
            m->pins[pick]--;
            store_complete(&s, ex);
            caps_acted = m->pins[pick] == 0;
        } else if (what < 78 && ex && m->done[pick]) {
            m->pins[pick]++;
            store_pin(&s, ex);
        } else if (what < 86 && ex && m->done[pick] && m->pins[pick]) {
            m->pins[pick]--;
            store_unpin(&s, ex);
            caps_acted = m->pins[pick] == 0;
        } else if (what < 95 && pick) {
            int rc = store_remove(&s, pick);
            assert_int_equal(rc, ex && !m->pins[pick] ? 0 : -1);
        } else if (what < 96) {
            store_clear(&s);
        }
        check_store(&s, m, caps_acted, seed, step);
    }
    /* The rest end; then only the caps decide what stays. */
    for (uint64_t id = store_first_id(&s); id < store_end_id(&s); id++) {
        struct exchange *ex = store_get(&s, id);
        while (ex && m->pins[id]) {
            m->pins[id]--;
            if (!m->done[id]) {
                m->done[id] = true;
                store_complete(&s, ex);
            } else
                store_unpin(&s, ex);
            ex = store_get(&s, id);
        }
    }
    check_store(&s, m, true, seed, -1);
    assert_true(s.live <= s.max_flows);
    store_clear(&s);
    assert_int_equal(s.live, 0);
    assert_int_equal(s.memory, 0);
    store_cleanup(&s);
    free(m);
}

static void test_random_sequences(void **state)
{
    (void)state;
    struct exchange_pool pool = {0};
    for (uint32_t seed = 1; seed <= 24; seed++)
        random_store(seed, seed % 3 ? &pool : NULL);
    exchange_pool_cleanup(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_observers),
        cmocka_unit_test(test_random_sequences),
        cmocka_unit_test(test_cap_evicts_oldest_completed),
        cmocka_unit_test(test_zero_cap_frees_after_observers),
        cmocka_unit_test(test_zero_cap_with_pinned_stragglers),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_remove_and_clear),
        cmocka_unit_test(test_warned_count_follows_the_kept),
        cmocka_unit_test(test_kept_exchanges_are_compacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
