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

/*
 * The reference the fast paths must agree with: s[0..n) decoded one character at a time
 * (celltext_next) into where each character starts and the cells it takes; at[count] is n.
 */
enum { REF_CHARS_MAX = 64 };
struct ref_chars {
    size_t count;
    size_t at[REF_CHARS_MAX + 1];
    int cells[REF_CHARS_MAX];
};

static void ref_chars(const char *s, size_t n, struct ref_chars *c)
{
    c->count = 0;
    for (size_t i = 0; i < n; c->count++) {
        assert_true(c->count < REF_CHARS_MAX);
        c->at[c->count] = i;
        i += celltext_next(s + i, n - i, &c->cells[c->count]);
    }
    c->at[c->count] = n;
}

/* Width: the cells of every character. Fit: the characters that keep the total within max.
 * Skip: the characters until skip cells are gone, then any zero-width ones after them. */
static void check_against_reference(const char *s, size_t n)
{
    struct ref_chars c;
    ref_chars(s, n, &c);
    int width = 0;
    for (size_t k = 0; k < c.count; k++)
        width += c.cells[k];
    assert_int_equal(celltext_width(s, n), width);
    for (int max = -1; max <= (int)n + 2; max++) {
        size_t k = 0;
        int total = 0;
        while (k < c.count && total + c.cells[k] <= max)
            total += c.cells[k++];
        int used;
        assert_int_equal(celltext_fit(s, n, max, &used), c.at[k]);
        assert_int_equal(used, total);
        k = 0;
        total = 0;
        while (k < c.count && total < max)
            total += c.cells[k++];
        while (k < c.count && c.cells[k] == 0)
            k++;
        int lost;
        assert_int_equal(celltext_skip(s, n, max, &lost), c.at[k]);
        assert_int_equal(lost, total > max ? total - max : 0);
    }
}

/*
 * ASCII runs of every length from 0 to 19 (across the 8-byte words the fast paths read) before
 * and after a wide character, a combining mark, an invalid byte and a control byte: width, fit
 * and skip at every budget agree with the measures taken one character at a time.
 */
static void test_ascii_runs_agree(void **state)
{
    (void)state;
    static const char *const OTHERS[] = {"中", "\xcc\x81", "\xff", "\x01", "\xf0\x9f\x98\x80"};
    char s[64];
    for (size_t o = 0; o < sizeof OTHERS / sizeof OTHERS[0]; o++)
        for (size_t before = 0; before < 20; before++)
            for (size_t after = 0; after < 4; after++) {
                memset(s, 'a', before);
                size_t n = before;
                memcpy(s + n, OTHERS[o], strlen(OTHERS[o]));
                n += strlen(OTHERS[o]);
                memset(s + n, 'b', after);
                n += after;
                check_against_reference(s, n);
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
        cmocka_unit_test(test_ascii_runs_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
