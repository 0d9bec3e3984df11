/* byterange: single ranges honoured, anything else ignored or unsatisfiable. */
#include "testutil.h"

#include <string.h>

#include "hspy/byterange.h"

struct range_case {
    const char *value;
    uint64_t size;
    enum byterange_result rc;
    uint64_t start, len;
};

static const struct range_case CASES[] = {
    {"bytes=0-0", 10, BYTERANGE_OK, 0, 1},
    {"bytes=0-9", 10, BYTERANGE_OK, 0, 10},
    {"bytes=2-", 10, BYTERANGE_OK, 2, 8},
    {"bytes=2-100", 10, BYTERANGE_OK, 2, 8},
    {"bytes=-3", 10, BYTERANGE_OK, 7, 3},
    {"bytes=-30", 10, BYTERANGE_OK, 0, 10},
    {" bytes=1-2 ", 10, BYTERANGE_OK, 1, 2},
    {"BYTES=1-2", 10, BYTERANGE_OK, 1, 2},
    {"bytes=10-", 10, BYTERANGE_UNSATISFIABLE, 0, 0},
    {"bytes=-0", 10, BYTERANGE_UNSATISFIABLE, 0, 0},
    {"bytes=0-", 0, BYTERANGE_UNSATISFIABLE, 0, 0},
    {"bytes=5-2", 10, BYTERANGE_NONE, 0, 0},
    {"bytes=0-1,3-4", 10, BYTERANGE_NONE, 0, 0},
    {"items=0-1", 10, BYTERANGE_NONE, 0, 0},
    {"bytes=-", 10, BYTERANGE_NONE, 0, 0},
    {"bytes=a-b", 10, BYTERANGE_NONE, 0, 0},
    {"bytes=99999999999999999999-", 10, BYTERANGE_NONE, 0, 0},
    {"bytes", 10, BYTERANGE_NONE, 0, 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct range_case *t = &CASES[i];
        uint64_t start = 0, len = 0;
        enum byterange_result rc =
            byterange_parse((const uint8_t *)t->value, strlen(t->value), t->size, &start, &len);
        assert_int_equal(rc, t->rc);
        if (rc == BYTERANGE_OK) {
            assert_int_equal(start, t->start);
            assert_int_equal(len, t->len);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
