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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_find)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
