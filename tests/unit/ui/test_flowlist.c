/*
 * flowlist: incremental updates, follow mode, sorting in both directions with the cursor kept
 * on its flow, exchanges in flight moving when their response arrives, marks and the
 * marked-only view, delete and clear, eviction, and search; and long random sequences of all of
 * these checked against what the rows must be.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/filter.h"
#include "hspy/flowlist.h"
#include "hspy/flowrow.h"
#include "synth.h"

static const int STATUS[] = {200, 404, 301, 500, 201, 204, 418, 302, 200, 503};
static const char *const HOST[] = {"b.example", "a.example", "c.example"};

struct fixture {
    struct store store;
    struct synth synth;
    struct flowlist fl;
    unsigned n;
};

static void add(struct fixture *f, unsigned count)
{
    for (unsigned k = 0; k < count; k++, f->n++) {
        char req[256], resp[256];
        int rl = snprintf(req, sizeof req, "GET /item/%u HTTP/1.1\r\nHost: %s\r\n\r\n", f->n,
                          HOST[f->n % 3]);
        int rs = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
                          STATUS[f->n % 10]);
        synth_exchange(&f->synth, req, (size_t)rl, resp, (size_t)rs, 1000 + f->n, 5);
    }
}

static struct fixture *make(size_t max_flows, unsigned count)
{
    struct fixture *f = calloc(1, sizeof *f);
    store_init(&f->store, max_flows, (size_t)-1);
    synth_init(&f->synth, &f->store, 4096);
    synth_connect(&f->synth, 1, 1234);
    add(f, count);
    flowlist_init(&f->fl, &f->store);
    flowlist_update(&f->fl);
    return f;
}

static void destroy(struct fixture *f)
{
    flowlist_cleanup(&f->fl);
    synth_cleanup(&f->synth);
    store_cleanup(&f->store);
    free(f);
}

static void test_incremental_and_follow(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 10);
    assert_int_equal(flowlist_count(&f->fl), 10);
    assert_true(f->fl.follow);
    assert_int_equal(flowlist_selected(&f->fl), 10);
    add(f, 5);
    assert_true(flowlist_update(&f->fl));
    assert_false(flowlist_update(&f->fl)); /* nothing new */
    assert_int_equal(flowlist_count(&f->fl), 15);
    assert_int_equal(flowlist_selected(&f->fl), 15);
    /* Moving up leaves follow mode; new flows then leave the cursor where it is. */
    flowlist_move(&f->fl, -3);
    assert_false(f->fl.follow);
    assert_int_equal(flowlist_selected(&f->fl), 12);
    add(f, 5);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_selected(&f->fl), 12);
    /* Scrolling keeps the cursor in the window. */
    flowlist_scroll(&f->fl, 4);
    assert_true(f->fl.cur >= f->fl.top && f->fl.cur < f->fl.top + 4);
    flowlist_goto(&f->fl, 0);
    flowlist_scroll(&f->fl, 4);
    assert_int_equal(f->fl.top, 0);
    destroy(f);
}

static void assert_sorted(struct fixture *f, int col, bool desc)
{
    for (size_t i = 1; i < flowlist_count(&f->fl); i++) {
        const struct exchange *a = store_get(&f->store, flowlist_at(&f->fl, i - 1));
        const struct exchange *b = store_get(&f->store, flowlist_at(&f->fl, i));
        int c = flowrow_compare(col, a, b);
        assert_true(desc ? c > 0 : c < 0);
    }
}

static void test_sort(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 50);
    f->fl.follow = false;
    flowlist_goto(&f->fl, 7); /* id 8 */
    static const struct {
        int col;
        bool desc;
    } CASES[] = {{FLOWCOL_STATUS, false}, {FLOWCOL_STATUS, true}, {FLOWCOL_HOST, false},
                 {FLOWCOL_TARGET, true},  {FLOWCOL_ID, true},     {FLOWCOL_ID, false}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        flowlist_set_sort(&f->fl, CASES[i].col, CASES[i].desc);
        assert_int_equal(flowlist_count(&f->fl), 50);
        assert_sorted(f, CASES[i].col, CASES[i].desc);
        assert_int_equal(flowlist_selected(&f->fl), 8); /* the cursor stays on its flow */
    }
    /* New flows land in their place in a sorted view. */
    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, false);
    add(f, 30);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 80);
    assert_sorted(f, FLOWCOL_STATUS, false);
    destroy(f);
}

/* An exchange in flight has no status yet; when its response comes it moves to its place. */
static void test_in_flight_moves(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 10);
    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, true);
    synth_connect(&f->synth, 2, 999);
    const char *req = "GET /slow HTTP/1.1\r\nHost: slow\r\n\r\n";
    synth_exchange(&f->synth, req, strlen(req), NULL, 0, 5000, 0);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 11);
    assert_int_equal(flowlist_at(&f->fl, 10), 11); /* status 0 sorts last descending */
    const char *resp = "HTTP/1.1 599 Late\r\nContent-Length: 0\r\n\r\n";
    conversation_feed(f->synth.conv, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), 6000);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_at(&f->fl, 0), 11); /* 599 now sorts first */
    assert_sorted(f, FLOWCOL_STATUS, true);
    destroy(f);
}

static void test_marks(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 10);
    assert_true(flowlist_toggle_mark(&f->fl, 3));
    assert_true(flowlist_toggle_mark(&f->fl, 7));
    assert_true(flowlist_toggle_mark(&f->fl, 5));
    assert_false(flowlist_toggle_mark(&f->fl, 7));
    assert_true(flowlist_is_marked(&f->fl, 5));
    assert_false(flowlist_is_marked(&f->fl, 7));
    flowlist_set_marked_only(&f->fl, true);
    assert_int_equal(flowlist_count(&f->fl), 2);
    assert_int_equal(flowlist_at(&f->fl, 0), 3);
    add(f, 5); /* unmarked newcomers stay hidden */
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 2);
    flowlist_unmark_all(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 0);
    flowlist_set_marked_only(&f->fl, false);
    assert_int_equal(flowlist_count(&f->fl), 15);
    destroy(f);
}

static void test_delete_clear_evict(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 10);
    assert_int_equal(flowlist_delete(&f->fl, 4), 0);
    assert_int_equal(flowlist_count(&f->fl), 9);
    assert_int_equal(flowlist_find(&f->fl, 4), (size_t)-1);
    /* An exchange in flight cannot be deleted. */
    synth_connect(&f->synth, 2, 999);
    const char *req = "GET /slow HTTP/1.1\r\nHost: slow\r\n\r\n";
    synth_exchange(&f->synth, req, strlen(req), NULL, 0, 5000, 0);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_delete(&f->fl, 11), -1);
    assert_int_equal(flowlist_clear(&f->fl), 9);
    assert_int_equal(flowlist_count(&f->fl), 1);
    synth_close(&f->synth);
    flowlist_update(&f->fl);
    destroy(f);

    /* Caps: the list follows evictions (held ids gone, marks of gone flows dropped). */
    f = make(20, 10);
    flowlist_toggle_mark(&f->fl, 2);
    add(f, 40);
    flowlist_update(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 20);
    assert_int_equal(flowlist_at(&f->fl, 0), 31);
    assert_int_equal(f->fl.nmarks, 0);
    destroy(f);
}

/*
 * Long traffic through a small history: the oldest rows leave from the front (without a pass
 * over the others) while new ones come at the back. After every update the rows are exactly the
 * kept ids in order, whatever the batch sizes; the rows' allocation stays bounded by the history,
 * not by the traffic; and a deletion (a hole) or a sort by another column in between changes
 * nothing to that.
 */
static void test_rows_follow_long_eviction(void **state)
{
    (void)state;
    enum { KEEP = 100 };
    struct fixture *f = make(KEEP, 0);
    uint32_t seed = 12345;
    size_t holes = 0;
    for (int round = 0; round < 400; round++) {
        seed = seed * 1103515245u + 12345u;
        add(f, 1 + (seed >> 16) % 37);
        if (round % 50 == 25) {
            flowlist_set_sort(&f->fl, FLOWCOL_STATUS, false);
            flowlist_set_sort(&f->fl, FLOWCOL_ID, false);
        }
        if (round % 70 == 35 && flowlist_delete(&f->fl, f->n - 5) == 0)
            holes++;
        flowlist_update(&f->fl);
        size_t n = flowlist_count(&f->fl);
        assert_int_equal(n, f->store.live);
        uint64_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t id = flowlist_at(&f->fl, i);
            assert_non_null(store_get(&f->store, id));
            assert_true(id > prev);
            prev = id;
        }
        assert_int_equal(prev, f->n);
        assert_int_equal(flowlist_selected(&f->fl), f->n);
        assert_true(f->fl.cap <= 4 * KEEP);
    }
    assert_true(holes > 0);
    destroy(f);
}

/*
 * Random operations against what the rows must be. Traffic (some of it in flight, on a second
 * connection), evictions past a small cap, sorts by every column both ways, filters, marks and
 * the marked-only view, deletes and clears, cursor moves, and updates with a small scan budget
 * (so rebuilds take several). Once an update has nothing left to scan, the rows are exactly the
 * stored exchanges that match, each once, completed ones in the column's order (in-flight ones
 * keep the place they had when last placed), and follow mode selects the newest row.
 */
static void check_rows(const struct fixture *f, uint32_t seed, int step)
{
    const struct flowlist *fl = &f->fl;
    size_t n = flowlist_count(fl), expect = 0;
    for (uint64_t id = store_first_id(&f->store); id < store_end_id(&f->store); id++) {
        const struct exchange *ex = store_get(&f->store, id);
        if (ex && (!fl->marked_only || flowlist_is_marked(fl, id)) &&
            (!fl->filter || filter_match(fl->filter, ex))) {
            expect++;
            if (flowlist_find(fl, id) == (size_t)-1)
                fail_msg("seed %u step %d: id %llu matches but is not shown", seed, step,
                         (unsigned long long)id);
        }
    }
    if (n != expect) /* with each expected id found: no duplicates, no strays */
        fail_msg("seed %u step %d: %zu rows, %zu expected", seed, step, n, expect);
    const struct exchange *prev = NULL;
    uint64_t newest = 0;
    for (size_t i = 0; i < n; i++) {
        const struct exchange *ex = store_get(&f->store, fl->ids[i]);
        assert_non_null(ex);
        newest = ex->id > newest ? ex->id : newest;
        if (!(ex->flags & EX_DONE))
            continue;
        if (prev && flowrow_compare(fl->sort_col, prev, ex) >= 0)
            fail_msg("seed %u step %d: rows %llu and %llu out of order for column %d", seed, step,
                     (unsigned long long)prev->id, (unsigned long long)ex->id, fl->sort_col);
        prev = ex;
    }
    if (fl->follow && n && flowlist_selected(fl) != newest)
        fail_msg("seed %u step %d: follow selects %llu, the newest is %llu", seed, step,
                 (unsigned long long)flowlist_selected(fl), (unsigned long long)newest);
}

static void random_operations(uint32_t seed)
{
    static const char *const FILTERS[] = {"~c 404", "~h a.example", "!~c 200", "~m GET & ~c 5xx"};
    static const int COLS[] = {FLOWCOL_ID,     FLOWCOL_TIME,   FLOWCOL_METHOD, FLOWCOL_HOST,
                               FLOWCOL_TARGET, FLOWCOL_STATUS, FLOWCOL_SIZE,   FLOWCOL_DURATION};
    struct fixture *f = make(60, 0);
    struct synth slow;
    synth_init(&slow, &f->store, 4096);
    synth_connect(&slow, 9, 999);
    bool slow_open = false;
    f->fl.scan_budget = 16;
    f->fl.sort_budget = 40; /* a re-sort of 60 rows takes several updates */
    uint32_t rng = seed;
    int sorts_checked = 0;
    for (int step = 0; step < 3000; step++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 8, what = r % 100;
        if (what < 35) {
            add(f, 1 + r / 100 % 9);
        } else if (what < 40) {
            const char *req = "GET /slow HTTP/1.1\r\nHost: c.example\r\n\r\n";
            const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            if (slow_open)
                synth_exchange(&slow, resp, 0, resp, strlen(resp), 9000 + step, 1);
            else
                synth_exchange(&slow, req, strlen(req), NULL, 0, 9000 + step, 0);
            slow_open = !slow_open;
        } else if (what < 50) {
            flowlist_set_sort(&f->fl, COLS[r / 100 % 8], r / 1000 % 2);
        } else if (what < 56) {
            struct filter *flt = NULL;
            if (r / 100 % 5 < 4) {
                char err[128];
                size_t at;
                flt = filter_compile(FILTERS[r / 100 % 5], err, sizeof err, &at);
                assert_non_null(flt);
            }
            flowlist_set_filter(&f->fl, flt);
        } else if (what < 66 && flowlist_count(&f->fl)) {
            flowlist_toggle_mark(&f->fl, flowlist_at(&f->fl, r / 100 % flowlist_count(&f->fl)));
        } else if (what < 69) {
            flowlist_set_marked_only(&f->fl, !f->fl.marked_only);
        } else if (what < 75 && flowlist_count(&f->fl)) {
            flowlist_delete(&f->fl, flowlist_at(&f->fl, r / 100 % flowlist_count(&f->fl)));
        } else if (what < 76) {
            flowlist_clear(&f->fl);
        } else if (what < 86) {
            flowlist_move(&f->fl, (long)(r / 100 % 21) - 10);
        } else if (what < 88) {
            /* Follow turned on as the interface does it: the cursor goes to the newest. */
            f->fl.follow = true;
            size_t pos = flowlist_find(&f->fl, f->fl.newest);
            if (pos != (size_t)-1)
                flowlist_goto(&f->fl, pos);
        }
        bool sorting = f->fl.sorting != NULL;
        flowlist_update(&f->fl);
        if (!flowlist_busy(&f->fl)) {
            check_rows(f, seed, step);
            sorts_checked += sorting;
        }
    }
    /* Re-sorts in steps ended amid the traffic, deletions, marks and in-flight exchanges. */
    if (sorts_checked < 10)
        fail_msg("seed %u: only %d re-sorts in steps were checked at their end", seed,
                 sorts_checked);
    synth_cleanup(&slow);
    destroy(f);
}

/* Twenty sequences of 3,000 operations (a few hundredths of a second each). */
static void test_random_operations(void **state)
{
    (void)state;
    for (uint32_t seed = 1; seed <= 20; seed++) {
        random_operations(seed);
    }
}

/* A rebuild with a small budget fills the list over several updates, to the same result. */
static void test_budgeted_rebuild(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 50);
    f->fl.follow = false;
    flowlist_goto(&f->fl, 44); /* id 45 */
    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, false);
    f->fl.scan_budget = 7;
    flowlist_set_marked_only(&f->fl, false); /* a rebuild */
    assert_int_equal(flowlist_count(&f->fl), 7);
    assert_true(flowlist_busy(&f->fl));
    assert_int_equal(flowlist_rebuild_percent(&f->fl), 14);
    int updates = 1;
    while (flowlist_busy(&f->fl)) {
        add(f, 1); /* traffic goes on meanwhile */
        flowlist_update(&f->fl);
        updates++;
    }
    assert_true(updates >= 8);
    assert_int_equal(flowlist_rebuild_percent(&f->fl), -1);
    assert_int_equal(flowlist_count(&f->fl), f->n);
    assert_sorted(f, FLOWCOL_STATUS, false);
    assert_int_equal(flowlist_selected(&f->fl), 45); /* found again once scanned */
    destroy(f);
}

/* Starts an exchange whose response has not come, on its own connection (other, which the caller
 * cleans up); returns its id. */
static uint64_t add_in_flight(struct fixture *f, struct synth *other)
{
    synth_init(other, &f->store, 4096);
    synth_connect(other, 9, 999);
    const char *req = "GET /slow HTTP/1.1\r\nHost: slow\r\n\r\n";
    synth_exchange(other, req, strlen(req), NULL, 0, 5000, 0);
    flowlist_update(&f->fl);
    return f->store.counters.added;
}

/*
 * A re-sort of more rows than an update examines runs in steps: the rows keep their order
 * (and follow traffic, deletions, an in-flight exchange completing) until the new order is
 * taken at once, with every row in it, the cursor on its flow.
 */
static void test_sort_in_steps(void **state)
{
    (void)state;
    struct fixture *f = make(5000, 1000);
    f->fl.scan_budget = 100;
    f->fl.sort_budget = 2000;
    f->fl.follow = false;
    flowlist_goto(&f->fl, 44); /* id 45 */
    struct synth other;        /* its own connection, where the response comes late */
    uint64_t slow = add_in_flight(f, &other);
    assert_int_equal(flowlist_count(&f->fl), 1001);

    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, true);
    assert_non_null(f->fl.sorting);
    assert_true(flowlist_busy(&f->fl));
    assert_int_equal(f->fl.sort_col, FLOWCOL_ID); /* the rows' order, until the end */
    assert_int_equal(flowlist_sort_col(&f->fl), FLOWCOL_STATUS);
    assert_true(flowlist_sort_descending(&f->fl));
    assert_int_equal(flowlist_sort_percent(&f->fl), 0);
    /* The same column again only changes the direction it heads to. */
    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, false);
    assert_false(flowlist_sort_descending(&f->fl));

    int updates = 0, last_percent = 0;
    size_t deleted = 0;
    while (f->fl.sorting) {
        add(f, 3);
        /* A row deleted meanwhile, and the in-flight exchange completing halfway. */
        if (flowlist_delete(&f->fl, flowlist_at(&f->fl, 100)) == 0)
            deleted++;
        if (updates == 3) {
            const char *resp = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 599 Late\r\n"
                               "Content-Length: 0\r\n\r\n";
            conversation_feed(other.conv, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), 6000);
        }
        flowlist_update(&f->fl);
        updates++;
        if (f->fl.sorting) {
            assert_int_equal(f->fl.sort_col, FLOWCOL_ID);
            assert_sorted(f, FLOWCOL_ID, false);
            int pc = flowlist_sort_percent(&f->fl);
            assert_true(pc >= last_percent && pc < 100);
            last_percent = pc;
        }
        assert_true(updates < 1000);
    }
    /* Two updates a round (flowlist_delete updates too): 11 gather the keys, about 1,000 x 10
     * passes / 2,000 moves merge them. */
    if (updates < 8)
        fail_msg("the re-sort ended after %d rounds", updates);
    assert_true(last_percent >= 50);
    assert_int_equal(flowlist_sort_percent(&f->fl), -1);
    assert_int_equal(f->fl.sort_col, FLOWCOL_STATUS);
    assert_false(f->fl.descending);
    assert_true(deleted > 0);
    assert_int_equal(flowlist_count(&f->fl), f->store.live);
    assert_sorted(f, FLOWCOL_STATUS, false);
    /* The exchange that completed meanwhile sorts by its final status: last. */
    assert_int_equal(flowlist_at(&f->fl, flowlist_count(&f->fl) - 1), slow);
    assert_int_equal(flowlist_selected(&f->fl), 45);

    /* Back to the rows' own column: the re-sort is dropped, nothing moves. */
    flowlist_set_sort(&f->fl, FLOWCOL_HOST, false);
    assert_non_null(f->fl.sorting);
    flowlist_update(&f->fl);
    flowlist_set_sort(&f->fl, FLOWCOL_STATUS, true);
    assert_null(f->fl.sorting);
    assert_false(flowlist_busy(&f->fl));
    assert_sorted(f, FLOWCOL_STATUS, true);

    /* A filter during a re-sort rebuilds the rows in the order asked for. */
    flowlist_set_sort(&f->fl, FLOWCOL_HOST, false);
    char err[128];
    size_t at;
    struct filter *flt = filter_compile("!~c 404", err, sizeof err, &at);
    assert_non_null(flt);
    flowlist_set_filter(&f->fl, flt);
    /* The rows are built by number (cheap), then re-sorted in steps. */
    assert_int_equal(f->fl.sort_col, FLOWCOL_ID);
    assert_int_equal(flowlist_sort_col(&f->fl), FLOWCOL_HOST);
    int rebuilds = 0, resorts = 0;
    while (flowlist_busy(&f->fl)) {
        if (flowlist_rebuild_percent(&f->fl) >= 0) {
            assert_sorted(f, FLOWCOL_ID, false);
            rebuilds++;
        } else {
            resorts++;
        }
        flowlist_update(&f->fl);
    }
    assert_true(rebuilds > 5 && resorts > 5);
    assert_int_equal(f->fl.sort_col, FLOWCOL_HOST);
    assert_sorted(f, FLOWCOL_HOST, false);
    size_t expect = 0;
    for (uint64_t id = store_first_id(&f->store); id < store_end_id(&f->store); id++) {
        const struct exchange *ex = store_get(&f->store, id);
        expect += ex && exchange_status(ex) != 404;
    }
    assert_int_equal(flowlist_count(&f->fl), expect);

    /* Back to the numbers: at once, through a bitmap of the ids. */
    flowlist_set_sort(&f->fl, FLOWCOL_ID, false);
    assert_null(f->fl.sorting);
    assert_sorted(f, FLOWCOL_ID, false);
    synth_cleanup(&other);
    destroy(f);
}

/* Clearing more exchanges than an update looks at runs in steps; traffic that arrives meanwhile
 * and the exchange in flight stay. */
static void test_clear_in_steps(void **state)
{
    (void)state;
    struct fixture *f = make(5000, 1000);
    f->fl.scan_budget = 100;
    struct synth other;
    add_in_flight(f, &other);
    assert_int_equal(flowlist_count(&f->fl), 1001);
    assert_int_equal(flowlist_clear(&f->fl), 25); /* a quarter of the budget an update */
    assert_true(flowlist_busy(&f->fl));
    assert_int_equal(flowlist_clear_percent(&f->fl), 2); /* 25 of 1,001 */
    assert_int_equal(flowlist_count(&f->fl), 976);
    int updates = 0;
    while (flowlist_clear_percent(&f->fl) >= 0) {
        add(f, 2);
        flowlist_update(&f->fl);
        updates++;
        assert_true(updates < 100);
    }
    assert_int_equal(updates, 40);
    assert_int_equal(f->fl.cleared, 1000);
    /* What is left: the one in flight and the 80 that came meanwhile. */
    assert_int_equal(f->store.live, 81);
    while (flowlist_busy(&f->fl))
        flowlist_update(&f->fl);
    assert_int_equal(flowlist_count(&f->fl), 81);
    assert_sorted(f, FLOWCOL_ID, false);
    synth_cleanup(&other);
    destroy(f);
}

/* A filter that reads bodies examines a bounded number of bytes per update, one that does not
 * the usual number of exchanges. */
static void test_body_filter_in_steps(void **state)
{
    (void)state;
    struct fixture *f = make(2000, 1000);
    f->fl.scan_bytes = 1000; /* each exchange holds about 80 bytes */
    char err[128];
    size_t at;
    struct filter *flt = filter_compile("~c 200 | ~b nowhere", err, sizeof err, &at);
    assert_non_null(flt);
    flowlist_set_filter(&f->fl, flt);
    assert_true(flowlist_busy(&f->fl));
    assert_in_range(f->fl.scanned - store_first_id(&f->store), 5, 14);
    int updates = 1;
    while (flowlist_busy(&f->fl)) {
        flowlist_update(&f->fl);
        updates++;
    }
    assert_in_range(updates, 60, 120);             /* 1,000 exchanges, about 13 an update */
    assert_int_equal(flowlist_count(&f->fl), 200); /* STATUS has 200 twice in ten */
    /* Without body terms, the bytes do not count. */
    flt = filter_compile("~c 200", err, sizeof err, &at);
    flowlist_set_filter(&f->fl, flt);
    assert_false(flowlist_busy(&f->fl));
    assert_int_equal(flowlist_count(&f->fl), 200);
    destroy(f);
}

static void test_search(void **state)
{
    (void)state;
    struct fixture *f = make(1000, 10);
    flowlist_goto(&f->fl, 0);
    assert_int_equal(flowlist_search(&f->fl, "item/7", 0, 1), 7);
    assert_int_equal(flowlist_search(&f->fl, "a.example", 1, 1), 4);  /* ids 2,5,8: next after 1 */
    assert_int_equal(flowlist_search(&f->fl, "a.example", 1, -1), 7); /* wraps backwards */
    assert_int_equal(flowlist_search(&f->fl, "418", 0, 1), 6);
    assert_int_equal(flowlist_search(&f->fl, "10.0.0.1:1234", 0, 1), 1);
    assert_int_equal(flowlist_search(&f->fl, "nowhere", 0, 1), (size_t)-1);
    /* In steps: a few rows at a time, the same answer. */
    struct flowlist_search s;
    size_t at = 0;
    flowlist_search_start(&f->fl, &s, "item/7", 0, 1);
    assert_int_equal(flowlist_search_step(&f->fl, &s, 3, &at), FLOWLIST_MORE);
    assert_int_equal(flowlist_search_step(&f->fl, &s, 3, &at), FLOWLIST_MORE);
    assert_int_equal(flowlist_search_step(&f->fl, &s, 3, &at), FLOWLIST_FOUND);
    assert_int_equal(at, 7);
    flowlist_search_start(&f->fl, &s, "nowhere", 0, -1);
    int steps = 0;
    while (flowlist_search_step(&f->fl, &s, 4, &at) == FLOWLIST_MORE)
        steps++;
    assert_int_equal(steps, 2); /* 10 rows, 4 a step */
    /* What the search says it did: went round the end, or found only where it started. */
    static const struct {
        const char *needle;
        size_t from;
        int dir;
        size_t at;
        bool wrapped, only;
    } SAID[] = {
        {"a.example", 1, 1, 4, false, false}, {"a.example", 7, 1, 1, true, false},
        {"a.example", 1, -1, 7, true, false}, {"a.example", 7, -1, 4, false, false},
        {"item/7", 7, 1, 7, true, true},      {"item/7", 7, -1, 7, true, true},
    };
    for (size_t i = 0; i < sizeof SAID / sizeof SAID[0]; i++) {
        flowlist_search_start(&f->fl, &s, SAID[i].needle, SAID[i].from, SAID[i].dir);
        assert_int_equal(flowlist_search_step(&f->fl, &s, 0, &at), FLOWLIST_FOUND);
        assert_int_equal(at, SAID[i].at);
        if (s.wrapped != SAID[i].wrapped || s.only != SAID[i].only)
            fail_msg("case %zu: wrapped %d only %d", i, s.wrapped, s.only);
    }
    destroy(f);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_and_follow),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_in_flight_moves),
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_delete_clear_evict),
        cmocka_unit_test(test_rows_follow_long_eviction),
        cmocka_unit_test(test_random_operations),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_budgeted_rebuild),
        cmocka_unit_test(test_sort_in_steps),
        cmocka_unit_test(test_clear_in_steps),
        cmocka_unit_test(test_body_filter_in_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
