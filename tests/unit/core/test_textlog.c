/*
 * textlog: the access-log line and the full record. Exact lines for typical exchanges, fields
 * that never contain a space, warnings and flags markers, hostile bytes rendered visibly, and
 * the full record's heads, body notes, cuts and warning lines.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/textlog.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const int64_t T0 = 1700000000000000000;

/* The line of ex; rendering it through a clock that has seen other times gives the same. */
static char *line_of(struct exchange *ex)
{
    struct dynbuf out, again;
    dynbuf_init(&out, 1 << 20);
    dynbuf_init(&again, 1 << 20);
    textlog_line(&out, ex, NULL);
    struct jsonout_clock clock;
    jsonout_clock_init(&clock);
    struct exchange *other =
        tu_exchange_text("GET / HTTP/1.1\\r\\n\\r\\n", NULL, T0 - 86400000000000);
    textlog_line(&again, other, &clock);
    exchange_free(other);
    dynbuf_reset(&again);
    textlog_line(&again, ex, &clock);
    assert_string_equal(dynbuf_str(&again), dynbuf_str(&out));
    dynbuf_cleanup(&again);
    return dynbuf_take(&out);
}

static char *full_of(struct exchange *ex, size_t body_limit)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct textlog_config cfg = {&LIMITS, body_limit, 1 << 20};
    textlog_full(&out, ex, &cfg);
    return dynbuf_take(&out);
}

struct line_case {
    const char *req, *resp;
    const char *want;
};

static const struct line_case LINES[] = {
    {"GET /index.html HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nabc",
     "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 GET /index.html 200 3 5.000ms\n"},
    {"GET /a b HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, NULL}, /* checked below */
    {"DELETE /x HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", "HTTP/1.1 204 No Content\\r\\n\\r\\n",
     "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 DELETE /x 204 0 5.000ms\n"},
    {NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nhi",
     "2023-11-14T22:13:20.004Z 10.0.0.1:5000 #7.2 - - 200 2 2.000ms +no-request\n"},
    {"GET /\\x1b]0;pwn\\x07 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL,
     "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 GET /\\x1b]0;pwn\\x07 - - - "
     "!invalid-target\n"}, /* no response: no duration */
    /* a head never parsed (answered 408 or 431): what arrived of the request line */
    {"HEAD /slow HTTP/1.1\\r\\nHost: h\\r\\n", "HTTP/1.1 408 Request Timeout\\r\\n\\r\\n",
     "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 HEAD /slow 408 0 5.000ms\n"},
    {"POST /a\\x1bb", NULL, "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 POST /a\\x1bb - - -\n"},
    {"POST", NULL, "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 - - - - -\n"},
    /* HTTP/0.9: no status, but the response's payload is known */
    {"GET /old\\r\\n", "hello world",
     "2023-11-14T22:13:20.001Z 10.0.0.1:5000 #7.2 GET /old - 11 5.000ms !http09\n"},
};

static void test_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof LINES / sizeof LINES[0]; i++) {
        if (!LINES[i].want)
            continue;
        struct exchange *ex = tu_exchange_text(LINES[i].req, LINES[i].resp, T0);
        endpoint_set(&ex->client, "10.0.0.1", 5000);
        ex->conn_id = 7, ex->conn_seq = 2;
        char *got = line_of(ex);
        if (strcmp(got, LINES[i].want) != 0)
            fail_msg("case %zu:\n got %s want %s", i, got, LINES[i].want);
        free(got);
        exchange_free(ex);
    }
}

static void test_absent_and_markers(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("POST / HTTP/1.1\\r\\nContent-Length: 1\\r\\n"
                                           "Content-Length: 2\\r\\n\\r\\n",
                                           NULL, 0);
    ex->flags = EX_INCOMPLETE | EX_TUNNEL | EX_UPSTREAM_FAIL; /* not done: still in flight */
    ex->tunnel_bytes[0] = 10, ex->tunnel_bytes[1] = 20;
    ex->warnings_dropped = 3;
    exchange_fail(ex, 0, "upstream: refused\x1b[0m");
    char *got = line_of(ex);
    assert_string_equal(got, "- - - POST / - - - !host-missing,cl-conflict,+3 "
                             "+in-flight,incomplete,tunnel,upstream-fail tunnel=10/20 "
                             "error: upstream: refused\\x1b[0m\n");
    free(got);
    exchange_free(ex);
}

static void test_fields_never_contain_spaces(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /a b HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, T0);
    char *got = line_of(ex);
    /* The fifth field is the whole target, its space escaped. */
    char *f = got;
    for (int i = 0; i < 4; i++)
        f = strchr(f, ' ') + 1;
    assert_true(strncmp(f, "/a\\x20b ", 8) == 0);
    free(got);
    exchange_free(ex);
}

/* A count of one takes the singular: "1 byte", "1 chunk", never "1 bytes". */
static void test_counts_of_one(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "2\r\nab\r\n0\r\n\r\n",
                         T0);
    char *got = full_of(ex, 1);
    const char *want[] = {
        "* request body: 1 byte\n",
        "* response body: 2 bytes in 1 chunk (",
        "* 1 more byte not shown (--body-limit 1)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], got);
    free(got);
    exchange_free(ex);
}

static void test_full_record(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(
        "PUT /up HTTP/1.1\\nHost: h\\r\\nContent-Length: 4\\r\\n\\r\\n\\x00\\x01\\xff\\x1b",
        "HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n"
        "\\r\\n6\\r\\nline1\\n\\r\\n6\\r\\nline2\\t\\r\\n0\\r\\n\\r\\n",
        T0);
    char *got = full_of(ex, 8);
    const char *want[] = {
        "* client -, server -\n",
        "> PUT /up HTTP/1.1\xe2\x90\x8a\n> Host: h\xe2\x90\x8d\xe2\x90\x8a\n",
        "* request body: 4 bytes\n\\x00\\x01\\xff\\x1b\n",
        "< HTTP/1.1 100 Continue\xe2\x90\x8d\xe2\x90\x8a\n< \xe2\x90\x8d\xe2\x90\x8a\n"
        "< HTTP/1.1 200 OK\xe2\x90\x8d\xe2\x90\x8a\n",
        "* response body: 12 bytes in 2 chunks (27 on the wire); first 8 shown\nline1\nli\n"
        "* 4 more bytes not shown (--body-limit 8)\n",
        "* warning bare-lf (request, offset 16)",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], got);
    assert_true(strlen(got) >= 2 && strcmp(got + strlen(got) - 2, "\n\n") == 0);
    for (const unsigned char *p = (const unsigned char *)got; *p; p++)
        assert_true(*p >= 0x20 || *p == '\n' || *p == '\t');
    free(got);
    /* The trailer fields (kept apart from raw by the conversation), after the body. */
    static const char trailer[] = "X-Sum: 1\r\nX-Esc: \x1b[2J\r\n";
    ex->resp.trailer = arena_memdup(&ex->arena, trailer, sizeof trailer - 1);
    ex->resp.trailer_len = sizeof trailer - 1;
    got = full_of(ex, 8);
    if (!strstr(got,
                "* 4 more bytes not shown (--body-limit 8)\n* response trailer section:\n"
                "< X-Sum: 1\xe2\x90\x8d\xe2\x90\x8a\n< X-Esc: \\x1b[2J\xe2\x90\x8d\xe2\x90\x8a\n"))
        fail_msg("no trailer section in:\n%s", got);
    free(got);
    /* The chunk extensions (kept apart from raw too), between the body and the trailer, their
     * bytes escaped. */
    static const char list[] = "1 5 ;a=\x1b[2J\n2 0 ;end\r\n";
    uint32_t head[2] = {sizeof list - 1, 1};
    uint8_t *ce = arena_alloc(&ex->arena, MESSAGE_CHUNK_EXT_HEAD + sizeof list - 1);
    memcpy(ce, head, sizeof head);
    memcpy(ce + MESSAGE_CHUNK_EXT_HEAD, list, sizeof list - 1);
    ex->resp.chunk_ext = ce;
    got = full_of(ex, 8);
    if (!strstr(got, "* 4 more bytes not shown (--body-limit 8)\n* response chunk extensions:\n"
                     "< chunk 1 (5 bytes): ;a=\\x1b[2J\n< last chunk: ;end [cut]\n"
                     "< 1 more size line with extensions, not kept\n"
                     "* response trailer section:\n"))
        fail_msg("no chunk extensions in:\n%s", got);
    free(got);
    exchange_free(ex);
}

/* A content coding the decoder does not know is quoted in the body note: its bytes, which the
 * peer chose, are escaped there too. */
static void test_unknown_coding_escaped(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                                           "HTTP/1.1 200 OK\\r\\nContent-Encoding: x\\x1b[2J\\r\\n"
                                           "Content-Length: 2\\r\\n\\r\\nhi",
                                           T0);
    char *got = full_of(ex, 64);
    if (!strstr(got, "shown as sent (unknown content coding \"x\\x1b[2J\")"))
        fail_msg("no escaped coding in:\n%s", got);
    for (const unsigned char *p = (const unsigned char *)got; *p; p++)
        assert_true(*p >= 0x20 || *p == '\n' || *p == '\t');
    free(got);
    exchange_free(ex);
}

static void test_unparsed_and_truncated(void **state)
{
    (void)state;
    struct exchange_limits exl = {40, 4};
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    struct exchange *ex = tu_exchange((const uint8_t *)"\x16\x03\x01\x02", 4, (const uint8_t *)resp,
                                      strlen(resp), &exl, &LIMITS, 0);
    char *got = full_of(ex, 4096);
    assert_non_null(strstr(got, "* request: not parsed as HTTP; 4 bytes as received:\n"
                                "> \\x16\\x03\\x01\\x02\n"));
    assert_non_null(strstr(got, "* response body: 10 bytes; incomplete\n01234\n"));
    assert_non_null(strstr(got, "* response: 49 bytes on the wire, 44 kept (--body-keep)\n"));
    free(got);
    exchange_free(ex);
}

/* An HTTP/0.9 response is no unparsed message: it has no head, and all of it is body. */
static void test_http09_response(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /old\\r\\n", "hello\\nworld", T0);
    char *got = full_of(ex, 4096);
    assert_non_null(strstr(got, "> GET /old\xe2\x90\x8d\xe2\x90\x8a\n"
                                "* response: HTTP/0.9, no status line and no headers\n"
                                "* response body: 11 bytes\nhello\nworld\n"));
    assert_null(strstr(got, "not parsed as HTTP"));
    free(got);
    exchange_free(ex);
}

/* --body-limit cuts where a character starts, as --json does: text stays text. */
static void test_cut_at_character(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(
        "GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
        "HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\n\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9", T0);
    char *got = full_of(ex, 5);
    if (!strstr(got, "* response body: 6 bytes; first 4 shown\n\xc3\xa9\xc3\xa9\n"
                     "* 2 more bytes not shown (--body-limit 5)\n"))
        fail_msg("not cut at a character:\n%s", got);
    assert_null(strstr(got, "\\xc3"));
    free(got);
    exchange_free(ex);
    /* Bytes that are no HTTP are cut the same way. */
    ex = tu_exchange_text("\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9", NULL, T0);
    got = full_of(ex, 3);
    if (!strstr(got, "> \xc3\xa9\n* 4 more bytes not shown (--body-limit 3)\n"))
        fail_msg("unparsed bytes not cut at a character:\n%s", got);
    free(got);
    exchange_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_absent_and_markers),
        cmocka_unit_test(test_fields_never_contain_spaces),
        cmocka_unit_test(test_counts_of_one),
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_unknown_coding_escaped),
        cmocka_unit_test(test_unparsed_and_truncated),
        cmocka_unit_test(test_http09_response),
        cmocka_unit_test(test_cut_at_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
