/* celltext: widths of ASCII, wide, combining and invalid text; fitting, skipping, wrapping. */
#include "testutil.h"

#include <locale.h>
#include <string.h>

#include "hspy/celltext.h"

static void test_width(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int cells;
    } CASES[] = {
        {"", 0},
        {"abc", 3},
        {"中文", 4},             /* East Asian wide */
        {"e\xcc\x81", 1},        /* e + combining acute */
        {"\xf0\x9f\x98\x80", 2}, /* emoji */
        {"\xff", 1},             /* invalid byte: one cell */
        {"\xe4\xb8", 2},         /* cut sequence: one cell per byte */
        {"a\xc0\xafz", 4},       /* overlong form: bytes */
        {"⚠●…", 3},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        assert_int_equal(celltext_width(CASES[i].s, strlen(CASES[i].s)), CASES[i].cells);
}

static void test_fit(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int max;
        size_t bytes;
        int used;
    } CASES[] = {
        {"abc", 2, 2, 2},   {"abc", 5, 3, 3},   {"中文x", 3, 3, 2}, /* 文 does not fit in 1 */
        {"中文x", 4, 6, 4}, {"中文x", 0, 0, 0}, {"e\xcc\x81x", 1, 3, 1},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int used;
        size_t n = celltext_fit(CASES[i].s, strlen(CASES[i].s), CASES[i].max, &used);
        assert_int_equal(n, CASES[i].bytes);
        assert_int_equal(used, CASES[i].used);
    }
}

static void test_skip(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int skip;
        size_t bytes;
        int lost;
    } CASES[] = {
        {"abc", 1, 1, 0},   {"abc", 5, 3, 0},        {"中abc", 1, 3, 1}, /* half of 中 stays */
        {"中abc", 2, 3, 0}, {"e\xcc\x81x", 1, 3, 0}, /* the mark goes with its letter */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int lost;
        size_t n = celltext_skip(CASES[i].s, strlen(CASES[i].s), CASES[i].skip, &lost);
        assert_int_equal(n, CASES[i].bytes);
        assert_int_equal(lost, CASES[i].lost);
    }
}

static void test_wrap(void **state)
{
    (void)state;
    const char *s = "hello world and more";
    size_t next;
    assert_int_equal(celltext_wrap(s, strlen(s), 11, &next), 11);
    assert_int_equal(next, 12);
    assert_int_equal(celltext_wrap(s, strlen(s), 8, &next), 5); /* breaks after "hello" */
    assert_int_equal(next, 6);
    /* No space to break at: cut by width; never an empty line. */
    assert_int_equal(celltext_wrap("abcdef", 6, 4, &next), 4);
    assert_int_equal(celltext_wrap("中文", 6, 1, &next), 3);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
