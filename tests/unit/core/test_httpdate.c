/* httpdate: IMF-fixdate out; the three historical forms in; round trips. */
#include "testutil.h"

#include <string.h>

#include "hspy/httpdate.h"

static void test_format(void **state)
{
    (void)state;
    char buf[HTTPDATE_LEN];
    assert_string_equal(httpdate_format(784111777, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_string_equal(httpdate_format(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_string_equal(httpdate_format(951782400, buf), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_string_equal(httpdate_format(4102444799, buf), "Thu, 31 Dec 2099 23:59:59 GMT");
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t t;
    } cases[] = {
        {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777},
        {"Sun Nov  6 08:49:37 1994", 0, 784111777},
        {"Tue, 29 Feb 2000 00:00:00 GMT", 0, 951782400},
        {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0},
        {"Sun, 06 Foo 1994 08:49:37 GMT", -1, 0},
        {"Sun, 06 Nov 1994 25:49:37 GMT", -1, 0},
        {"yesterday", -1, 0},
        {"", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 0;
        int rc = httpdate_parse(cases[i].s, strlen(cases[i].s), &t);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(t, cases[i].t);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int64_t t = 0; t < 4102444800; t += 86399 * 37 + 11) {
        char buf[HTTPDATE_LEN];
        int64_t back;
        httpdate_format(t, buf);
        assert_int_equal(httpdate_parse(buf, strlen(buf), &back), 0);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
