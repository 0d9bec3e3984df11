/* decimal: digits agree with printf for small numbers, every power of ten and its neighbours,
 * and the largest value; padded digits keep exactly the asked width. */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hspy/decimal.h"

static void check(uint64_t v)
{
    char want[32], got[DECIMAL_U64_MAX + 1];
    snprintf(want, sizeof want, "%" PRIu64, v);
    size_t n = decimal_u64(got, v);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_u64(void **state)
{
    (void)state;
    for (uint64_t v = 0; v <= 100000; v++)
        check(v);
    for (uint64_t p = 10; p <= UINT64_MAX / 10; p *= 10) {
        check(p - 1);
        check(p);
        check(p + 1);
    }
    check(10000000000000000000u);
    check(UINT64_MAX);
    check(UINT64_MAX - 1);
}

static void test_padded(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        int n;
        const char *want;
    } CASES[] = {
        {0, 1, "0"},
        {7, 2, "07"},
        {123, 3, "123"},
        {123, 2, "23"},
        {5, 4, "0005"},
        {2026, 4, "2026"},
        {123456789, 9, "123456789"},
        {12345, 9, "000012345"},
        {9, 0, ""},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char buf[32];
        memset(buf, 'x', sizeof buf);
        char *end = decimal_padded(buf, CASES[i].v, CASES[i].n);
        assert_ptr_equal(end, buf + CASES[i].n);
        assert_int_equal(buf[CASES[i].n], 'x');
        *end = '\0';
        assert_string_equal(buf, CASES[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_padded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
