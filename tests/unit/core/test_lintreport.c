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
    struct lintreport_message m = {ex, SIDE_CLIENT, 1, 0, false};
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
    struct lintreport_message m = {ex, SIDE_CLIENT, 1, 0, false};
    json_t *o = lintreport_json(&m, &CFG);
    assert_int_equal(json_array_size(json_object_get(o, "warnings")), 1);
    assert_true(json_is_integer(json_object_get(o, "warnings_dropped")));
    assert_int_equal(json_integer_value(json_object_get(o, "warnings_dropped")), 0);
    json_decref(o);
    exchange_free(ex);
}

/* A content coding the decoder does not know is quoted in the report, escaped. */
static void test_unknown_coding_escaped(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(NULL,
                                           "HTTP/1.1 200 OK\r\nContent-Encoding: x\x1b[2J\r\n"
                                           "Content-Length: 2\r\n\r\nhi",
                                           0);
    struct lintreport_message m = {ex, SIDE_SERVER, 1, 0, false};
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    lintreport_text(&text, &m, &CFG);
    const char *got = dynbuf_str(&text);
    if (!strstr(got, "unknown content coding \"x\\x1b[2J\""))
        fail_msg("no escaped coding in:\n%s", got);
    assert_null(strchr(got, 0x1b));
    dynbuf_cleanup(&text);
    exchange_free(ex);
}

/* A request whose length cannot be known: the report says why, what a server does, and what
 * the bytes after the head are, instead of "the input ended first". */
static void test_cannot_frame(void **state)
{
    (void)state;
    static const struct {
        const char *req, *why;
    } cases[] = {
        {"POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\nContent-Length: 4\\r\\n\\r\\n"
         "abcdGET /next HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
         "Content-Length is not one valid length"},
        {"POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: xchunked\\r\\n\\r\\n"
         "abcdGET /next HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
         "Transfer-Encoding does not end in chunked"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct exchange *ex = tu_exchange_text(cases[i].req, NULL, 0);
        struct lintreport_message m = {ex, SIDE_CLIENT, 1, 0, true};
        uint64_t head_end = ex->req.head_off + ex->req.head.len;
        assert_int_equal(lintreport_unframed(&m), ex->req.wire_bytes - head_end);
        assert_int_equal(lintreport_unframed(&m), 35);
        struct dynbuf text;
        dynbuf_init(&text, 1 << 20);
        lintreport_text(&text, &m, &CFG);
        const char *t = dynbuf_str(&text);
        static const char *const HAS[] = {
            "framing: impossible: ",
            "a server must answer 400 (Bad Request) and close the connection\n",
            "after the head: 35 bytes that cannot be framed",
            "abcdGET /next HTTP/1.1",
        };
        for (size_t k = 0; k < sizeof HAS / sizeof HAS[0]; k++)
            if (!strstr(t, HAS[k]))
                fail_msg("case %zu: the report lacks '%s':\n%s", i, HAS[k], t);
        if (!strstr(t, cases[i].why))
            fail_msg("case %zu: the report lacks why '%s':\n%s", i, cases[i].why, t);
        assert_null(strstr(t, "the input ended first"));
        dynbuf_cleanup(&text);
        json_t *o = lintreport_json(&m, &CFG);
        json_t *f = json_object_get(o, "framing");
        assert_true(json_is_true(json_object_get(f, "impossible")));
        assert_non_null(strstr(json_string_value(json_object_get(f, "why")), cases[i].why));
        assert_int_equal(json_integer_value(json_object_get(f, "unframed")), 35);
        json_decref(o);
        /* The same message when the engine could frame it says nothing of the kind. */
        m.cannot_frame = false;
        o = lintreport_json(&m, &CFG);
        f = json_object_get(o, "framing");
        assert_true(json_is_false(json_object_get(f, "impossible")));
        assert_true(json_is_null(json_object_get(f, "why")));
        assert_int_equal(json_integer_value(json_object_get(f, "unframed")), 0);
        json_decref(o);
        exchange_free(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_warnings),
        cmocka_unit_test(test_no_dropped_warnings),
        cmocka_unit_test(test_cannot_frame),
        cmocka_unit_test(test_unknown_coding_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
