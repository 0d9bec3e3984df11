/* lint reports: what the text and the JSON object say about one message. */
#include "testutil.h"

#include <jansson.h>
#include <string.h>

#include "hspy/exchange.h"
#include "hspy/lintreport.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct lintreport_config CFG = {&LIMITS, 1 << 20};

/* A request with n header-name-typo warnings recorded on it at distinct offsets. */
static struct exchange *warned_request(unsigned n)
{
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\r\nHost: a\r\n\r\n", NULL, 0);
    for (unsigned i = 0; i < n; i++)
        exchange_warn(ex, W_NAME_TYPO, SIDE_CLIENT, i, NULL);
    return ex;
}

/* Warnings past the exchange's cap are counted in both forms: the JSON as warnings_dropped, the
 * name the JSON lines use, next to the kept ones. */
static void test_dropped_warnings(void **state)
{
    (void)state;
    const unsigned extra = 36;
    struct exchange *ex = warned_request(EXCHANGE_WARNINGS_MAX + extra);
    assert_int_equal(ex->warnings_dropped, extra);
    struct lintreport_message m = {ex, SIDE_CLIENT, 1, 0};
    json_t *o = lintreport_json(&m, &CFG);
    assert_int_equal(json_array_size(json_object_get(o, "warnings")), EXCHANGE_WARNINGS_MAX);
    assert_true(json_is_integer(json_object_get(o, "warnings_dropped")));
    assert_int_equal(json_integer_value(json_object_get(o, "warnings_dropped")), extra);
    json_decref(o);
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    lintreport_text(&text, &m, &CFG);
    assert_non_null(strstr(dynbuf_str(&text), "(36 more not kept)"));
    dynbuf_cleanup(&text);
    exchange_free(ex);
}

/* Without dropped warnings the field is there all the same, 0. */
static void test_no_dropped_warnings(void **state)
{
    (void)state;
    struct exchange *ex = warned_request(1);
    struct lintreport_message m = {ex, SIDE_CLIENT, 1, 0};
    json_t *o = lintreport_json(&m, &CFG);
    assert_int_equal(json_array_size(json_object_get(o, "warnings")), 1);
    assert_true(json_is_integer(json_object_get(o, "warnings_dropped")));
    assert_int_equal(json_integer_value(json_object_get(o, "warnings_dropped")), 0);
    json_decref(o);
    exchange_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_warnings),
        cmocka_unit_test(test_no_dropped_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
