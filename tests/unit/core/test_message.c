/*
 * message: what a request says of its method, parsed or not. One line per case; an unparsed
 * request's kept bytes are tried at every length, as they arrive.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/exchange.h"
#include "hspy/message.h"

static void test_parsed_head_request(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        bool head;
    } CASES[] = {
        {"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        {"\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false},
        {"head / HTTP/1.1\r\nHost: a\r\n\r\n", false},
        {"HEADX / HTTP/1.1\r\nHost: a\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct exchange *ex = tu_exchange_text(CASES[i].req, NULL, 0);
        assert_true(ex->req.flags & MSG_HEAD);
        if (message_is_head_request(&ex->req) != CASES[i].head)
            fail_msg("case %zu: %s", i, CASES[i].req);
        struct http_span method, target;
        assert_false(message_peek_request_line(&ex->req, &method, &target));
        exchange_free(ex);
    }
}

static void test_unparsed_head_request(void **state)
{
    (void)state;
    /* The kept bytes of a head never parsed (over the limit, unfinished); whole: the length
     * from which the request line is whole. */
    static const struct {
        const char *raw;
        size_t whole;
        bool head;
    } CASES[] = {
        {"HEAD /x HTTP/1.1\r\nHost: a\r\nX-Long: aaaa", 18, true},
        {"\r\nHEAD /x HTTP/1.1\nHost: a", 19, true},
        {"GET /x HTTP/1.1\r\nHost: a\r\n", 17, false},
        {"HEAD /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        size_t n = strlen(CASES[i].raw);
        for (size_t k = 0; k <= n; k++) {
            struct message m;
            message_init(&m, 1024);
            dynbuf_append(&m.raw, CASES[i].raw, k);
            m.flags = k ? MSG_STARTED : 0;
            bool want = CASES[i].head && k >= CASES[i].whole;
            if (message_is_head_request(&m) != want)
                fail_msg("case %zu at %zu bytes: %d", i, k, !want);
            message_cleanup(&m);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsed_head_request),
        cmocka_unit_test(test_unparsed_head_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
