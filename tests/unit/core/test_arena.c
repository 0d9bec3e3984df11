/* The arena: aligned allocations, right-sized reservations, ownership checks. */
#include "testutil.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "hspy/arena.h"

static void test_alloc_aligned_and_owned(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    int outside = 0;
    assert_false(arena_owns(&a, &outside));
    assert_false(arena_owns(&a, NULL));
    static const size_t sizes[] = {1, 7, 16, 100, 511, 512, 2000, 70000, 3};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = arena_alloc(&a, sizes[i]);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        memset(p, 0xab, sizes[i]);
        assert_true(arena_owns(&a, p));
        assert_true(arena_owns(&a, p + sizes[i] - 1));
    }
    assert_false(arena_owns(&a, &outside));
    arena_cleanup(&a);
    assert_int_equal(a.bytes, 0);
}

static void test_rounded(void **state)
{
    (void)state;
    const size_t al = alignof(max_align_t);
    static const size_t cases[] = {0, 1, 15, 16, 17, 33, 1000};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(arena_rounded(cases[i]), (cases[i] + al - 1) / al * al);
}

/* After arena_reserve(n), allocations totalling n (rounded) come from one block of n bytes,
 * one after the other. */
static void test_reserve_right_sized(void **state)
{
    (void)state;
    static const size_t parts[][4] = {{5, 17, 100, 0}, {1, 0, 0, 0}, {300, 300, 300, 300}};
    for (size_t c = 0; c < sizeof parts / sizeof parts[0]; c++) {
        struct arena a;
        arena_init(&a);
        size_t total = 0, n = 0;
        while (n < 4 && parts[c][n])
            total += arena_rounded(parts[c][n++]);
        arena_reserve(&a, total);
        size_t one_block = a.bytes;
        assert_true(one_block >= total && one_block < total + 64);
        unsigned char *first = arena_alloc(&a, parts[c][0]), *last = first;
        for (size_t i = 1; i < n; i++)
            last = arena_alloc(&a, parts[c][i]);
        assert_int_equal(a.bytes, one_block); /* nothing more was allocated */
        assert_int_equal((size_t)(last - first), total - arena_rounded(parts[c][n - 1]));
        /* A reservation that fits adds nothing; a further allocation needs a new block. */
        arena_reserve(&a, 0);
        assert_int_equal(a.bytes, one_block);
        unsigned char *more = arena_alloc(&a, 1);
        assert_true(a.bytes > one_block);
        assert_true(arena_owns(&a, more) && arena_owns(&a, first));
        arena_cleanup(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_and_owned),
        cmocka_unit_test(test_rounded),
        cmocka_unit_test(test_reserve_right_sized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
