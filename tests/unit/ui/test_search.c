/* search: smart-case matching, one line per case. */
#include "testutil.h"

#include <string.h>

#include "hspy/search.h"

static void test_find(void **state)
{
    (void)state;
    static const struct {
        const char *hay, *needle;
        size_t at;
    } CASES[] = {
        {"Content-Type: json", "content", 0}, /* lower-case query ignores case */
        {"Content-Type: json", "Content", 0}, /* capitals: exact */
        {"content-type: json", "Content", SEARCH_NONE},
        {"abcabd", "abd", 3},
        {"aaa", "aaaa", SEARCH_NONE},
        {"x-Trace-ID", "trace-id", 2},
        {"", "a", SEARCH_NONE},
        {"abc", "", SEARCH_NONE},
        {"中文 text", "text", 7},
        {"\\x1b[31m", "\\x1b", 0}, /* escapes as shown are searchable */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        assert_int_equal(search_find(CASES[i].hay, strlen(CASES[i].hay), CASES[i].needle,
                                     strlen(CASES[i].needle)),
                         CASES[i].at);
}

/* Queries: plain or "/re/", smart case, every match from a position, bad expressions. */
static void test_query(void **state)
{
    (void)state;
    static const struct {
        const char *needle, *text;
        size_t from, start, end; /* start SEARCH_NONE: no match */
    } CASES[] = {
        {"trace", "X-Trace-Id: 1", 0, 2, 7},
        {"Trace", "x-trace-id: 1", 0, SEARCH_NONE, 0},
        {"ab", "ab ab", 1, 3, 5}, /* from a position */
        {"/[0-9]+ms/", "took 250ms", 0, 5, 10},
        {"/STATUS [45]/", "status 404", 0, SEARCH_NONE, 0}, /* capitals: exact case */
        {"/status [45]/", "STATUS 404", 0, 0, 8},
        {"/^a/", "a a", 1, SEARCH_NONE, 0}, /* past the start is not the line's start */
        {"/a$/", "a a", 1, 2, 3},
        {"/x*/", "abc", 0, 0, 0}, /* an empty match */
        {"/./", "", 0, SEARCH_NONE, 0},
        {"//", "abc", 0, SEARCH_NONE, 0}, /* "//" is the plain text "//" */
        {"/a/", "x/a/y", 0, 2, 3},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct search_query q = {0};
        char err[SEARCH_ERROR_MAX];
        assert_true(search_query_set(&q, CASES[i].needle, err, sizeof err));
        size_t s = SEARCH_NONE, e = 0;
        bool hit =
            search_query_find(&q, CASES[i].text, strlen(CASES[i].text), CASES[i].from, &s, &e);
        if (hit != (CASES[i].start != SEARCH_NONE) ||
            (hit && (s != CASES[i].start || e != CASES[i].end)))
            fail_msg("case %zu (%s in '%s'): %s [%zu, %zu)", i, CASES[i].needle, CASES[i].text,
                     hit ? "match" : "no match", s, e);
        search_query_cleanup(&q);
    }
    /* A NUL byte does not end the text. */
    struct search_query q = {0};
    char err[SEARCH_ERROR_MAX];
    size_t s, e;
    assert_true(search_query_set(&q, "/b/", err, sizeof err));
    assert_true(search_query_find(&q, "a\0b", 3, 0, &s, &e));
    assert_int_equal(s, 2);
    /* An expression that does not compile says why, and then matches nothing. */
    assert_false(search_query_set(&q, "/(a/", err, sizeof err));
    assert_true(err[0] != '\0');
    assert_false(search_query_find(&q, "(a", 2, 0, &s, &e));
    search_query_cleanup(&q);
    search_query_cleanup(&q); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_find), cmocka_unit_test(test_query)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
