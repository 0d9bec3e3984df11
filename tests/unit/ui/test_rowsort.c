/*
 * rowsort: rows sorted by a column at once and in steps of any budget give the same order,
 * ascending by (key, sort string, id); exchanges gone from the store are skipped; two sorts by
 * the same column compare with each other.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/rowsort.h"
#include "synth.h"

static const int STATUS[] = {200, 404, 301, 500, 201, 204, 418, 302, 200, 503};
static const char *const HOST[] = {"b.example", "a.example", "c.example", "a.example:8080"};

/* A store of n exchanges with statuses and hosts that repeat out of step. */
static void fill(struct store *st, struct synth *sy, unsigned n)
{
    store_init(st, n + 1, (size_t)-1);
    synth_init(sy, st, 4096);
    synth_connect(sy, 1, 1234);
    for (unsigned i = 0; i < n; i++) {
        char req[256], resp[256];
        int rl = snprintf(req, sizeof req, "GET /%u HTTP/1.1\r\nHost: %s\r\n\r\n", i, HOST[i % 4]);
        int rs = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
                          STATUS[i % 10]);
        synth_exchange(sy, req, (size_t)rl, resp, (size_t)rs, 1000 + i, 5);
    }
}

/* Sorts ids by col with a budget of moves per step; returns the steps merging took. */
static int sort_all(const struct store *st, int col, const uint64_t *ids, size_t n, uint64_t budget,
                    uint64_t *out, size_t *nout)
{
    struct rowsort r;
    rowsort_init(&r, col, n);
    rowsort_add(&r, st, ids, n / 2);
    rowsort_add(&r, st, ids + n / 2, n - n / 2); /* keys may come in several parts */
    int steps = 1;
    while (!rowsort_merge(&r, budget))
        steps++;
    assert_int_equal(r.moves, rowsort_moves_total(r.n));
    const struct rowsort_item *it = rowsort_sorted(&r);
    for (size_t i = 0; i < r.n; i++)
        out[i] = it[i].id;
    *nout = r.n;
    rowsort_free(&r);
    return steps;
}

static void test_steps_match_at_once(void **state)
{
    (void)state;
    enum { N = 300 };
    struct store st;
    struct synth sy;
    fill(&st, &sy, N);
    uint64_t ids[N], whole[N], part[N];
    /* The rows in a shuffled order, one of them gone from the store. */
    for (size_t i = 0; i < N; i++)
        ids[i] = store_first_id(&st) + (i * 7919) % N;
    assert_int_equal(store_remove(&st, ids[17]), 0);
    static const int COLS[] = {FLOWCOL_STATUS, FLOWCOL_HOST, FLOWCOL_TARGET, FLOWCOL_ID};
    for (size_t c = 0; c < sizeof COLS / sizeof COLS[0]; c++) {
        size_t nw, np;
        assert_int_equal(sort_all(&st, COLS[c], ids, N, 0, whole, &nw), 1);
        assert_int_equal(nw, N - 1);
        for (size_t i = 1; i < nw; i++) {
            const struct exchange *a = store_get(&st, whole[i - 1]), *b = store_get(&st, whole[i]);
            assert_true(flowrow_compare(COLS[c], a, b) < 0);
        }
        static const uint64_t BUDGETS[] = {1, 7, 64, 1000};
        for (size_t k = 0; k < sizeof BUDGETS / sizeof BUDGETS[0]; k++) {
            int steps = sort_all(&st, COLS[c], ids, N, BUDGETS[k], part, &np);
            assert_int_equal(np, nw);
            assert_memory_equal(part, whole, nw * sizeof *whole);
            /* 299 rows: 9 passes of 299 moves */
            assert_true(steps >= (int)(2691 / BUDGETS[k]));
        }
    }
    synth_cleanup(&sy);
    store_cleanup(&st);
}

/* Two sorts by the same column compare item to item, each with its own strings. */
static void test_compare_two_sorts(void **state)
{
    (void)state;
    struct store st;
    struct synth sy;
    fill(&st, &sy, 8);
    uint64_t first = store_first_id(&st);
    uint64_t one[] = {first + 0, first + 1}, two[] = {first + 3, first + 2};
    struct rowsort a, b;
    rowsort_init(&a, FLOWCOL_HOST, 2);
    rowsort_init(&b, FLOWCOL_HOST, 2);
    rowsort_add(&a, &st, one, 2);
    rowsort_add(&b, &st, two, 2);
    assert_true(rowsort_merge(&a, 0) && rowsort_merge(&b, 0));
    const struct rowsort_item *x = rowsort_sorted(&a), *y = rowsort_sorted(&b);
    const char *sx = rowsort_strings(&a), *sy_ = rowsort_strings(&b);
    assert_non_null(sx);
    /* a.example < a.example:8080 < b.example < c.example */
    assert_int_equal(x[0].id, first + 1);
    assert_int_equal(y[0].id, first + 3);
    assert_true(rowsort_compare(sx, &x[0], sy_, &y[0]) < 0);
    assert_true(rowsort_compare(sy_, &y[0], sx, &x[1]) < 0);
    assert_true(rowsort_compare(sx, &x[1], sy_, &y[1]) < 0);
    assert_int_equal(rowsort_compare(sx, &x[1], sx, &x[1]), 0);
    /* A column without sort strings has none. */
    struct rowsort c;
    rowsort_init(&c, FLOWCOL_STATUS, 1);
    assert_null(rowsort_strings(&c));
    rowsort_free(&c);
    rowsort_free(&a);
    rowsort_free(&b);
    assert_int_equal(rowsort_moves_total(1), 0);
    assert_int_equal(rowsort_moves_total(2), 2);
    assert_int_equal(rowsort_moves_total(5), 15);
    synth_cleanup(&sy);
    store_cleanup(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_match_at_once),
        cmocka_unit_test(test_compare_two_sorts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
