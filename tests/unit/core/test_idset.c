/*
 * idset: membership in a bitmap of the ids' window and, past the span limit, in a sorted array
 * (repeats kept once, the members in order, the empty set), and sorting ids dense (through the
 * bitmap), sparse (the sorted array), already in order, and of every small size.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/idset.h"

static void test_membership(void **state)
{
    (void)state;
    const uint64_t v[] = {1000, 1063, 1064, 1200, 1001};
    struct idset s;
    assert_true(idset_build(&s, v, 5, IDSET_SPAN_MAX));
    for (uint64_t id = 990; id < 1210; id++) {
        bool in = id == 1000 || id == 1001 || id == 1063 || id == 1064 || id == 1200;
        assert_int_equal(idset_has(&s, id), in);
    }
    idset_free(&s);
    assert_null(s.bits);
    /* Ids that span more than the limit get no bitmap: a sorted array, repeats once. */
    const uint64_t far[] = {(uint64_t)1 << 40, 5, 77, 5, (uint64_t)1 << 40};
    assert_false(idset_build(&s, far, 5, IDSET_SPAN_MAX));
    assert_null(s.bits);
    for (uint64_t id = 0; id < 100; id++)
        assert_int_equal(idset_has(&s, id), id == 5 || id == 77);
    assert_true(idset_has(&s, (uint64_t)1 << 40));
    assert_false(idset_has(&s, ((uint64_t)1 << 40) + 1));
    uint64_t out[5];
    assert_int_equal(idset_members(&s, out), 3);
    assert_true(out[0] == 5 && out[1] == 77 && out[2] == (uint64_t)1 << 40);
    idset_free(&s);
    idset_free(&s); /* harmless */
    /* Repeats in a bitmap, and the members in order. */
    const uint64_t rep[] = {9, 3, 9, 4, 3};
    assert_true(idset_build(&s, rep, 5, IDSET_SPAN_MAX));
    assert_int_equal(idset_members(&s, out), 3);
    assert_true(out[0] == 3 && out[1] == 4 && out[2] == 9);
    idset_free(&s);
    /* The empty set holds nothing. */
    assert_false(idset_build(&s, NULL, 0, IDSET_SPAN_MAX));
    assert_false(idset_has(&s, 0));
    assert_false(idset_has(&s, UINT64_MAX));
    assert_int_equal(idset_members(&s, out), 0);
    idset_free(&s);
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check_sort(uint64_t *v, size_t n)
{
    uint64_t *want = malloc((n ? n : 1) * sizeof *want);
    memcpy(want, v, n * sizeof *v);
    qsort(want, n, sizeof *want, cmp);
    idset_sort(v, n);
    if (n)
        assert_memory_equal(v, want, n * sizeof *v);
    free(want);
}

static void test_sort(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t *v = malloc(N * sizeof *v);
    /* Dense and shuffled: the bitmap. */
    for (size_t i = 0; i < N; i++)
        v[i] = 7000000 + (i * 7919) % N;
    check_sort(v, N);
    /* Already in order (left as is), and reversed. */
    check_sort(v, N);
    for (size_t i = 0; i < N; i++)
        v[i] = 7000000 + N - i;
    check_sort(v, N);
    /* Sparse: the sorted array. */
    for (size_t i = 0; i < N; i++)
        v[i] = ((uint64_t)(i * 7919 % N) << 20) + 3;
    check_sort(v, N);
    /* Every small size, shuffled. */
    for (size_t n = 0; n < 70; n++) {
        for (size_t i = 0; i < n; i++)
            v[i] = 40 + (i * 71) % n * 3; /* 71 is prime: a permutation */
        check_sort(v, n);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
