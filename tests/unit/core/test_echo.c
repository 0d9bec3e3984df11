/* echo: the JSON description of requests (fields, forms, files, binary and non-UTF-8 data). */
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/echo.h"

static int grab(void *d, struct conversation *c, struct exchange *ex, enum conv_event ev,
                enum side s, const uint8_t *p, size_t n)
{
    (void)c, (void)s, (void)p, (void)n;
    struct exchange **out = d;
    if (ev == CONV_BEGIN && !*out)
        *out = ex;
    return CONV_CONTINUE;
}

static struct exchange *request_raw(const uint8_t *raw, size_t n, size_t keep)
{
    struct exchange *ex = NULL;
    struct conversation_config cfg = {.exchange = {65536, keep}, .hash_bodies = true};
    endpoint_set(&cfg.client, "10.1.2.3", 4567);
    endpoint_set(&cfg.server, "127.0.0.1", 8000);
    struct conversation_events ev = {&ex, grab};
    struct conversation *c = conversation_new(&cfg, &ev);
    conversation_feed(c, SIDE_CLIENT, raw, n, 1);
    conversation_free(c);
    return ex;
}

/* text uses C escapes as tu_unescape reads them (so NUL bytes can be written). */
static struct exchange *request(const char *text, size_t keep)
{
    size_t n;
    uint8_t *raw = tu_unescape(text, &n);
    struct exchange *ex = request_raw(raw, n, keep);
    free(raw);
    return ex;
}

static json_t *echo(const char *text, size_t keep)
{
    struct exchange *ex = request(text, keep);
    assert_non_null(ex);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 24);
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    assert_int_equal(echo_json(ex, &lim, &out), 0);
    json_error_t e;
    json_t *j = json_loadb((const char *)out.data, out.len, 0, &e);
    if (!j)
        fail_msg("echo is not JSON: %s\n%s", e.text, dynbuf_str(&out));
    dynbuf_cleanup(&out);
    exchange_free(ex);
    return j;
}

static const char *str(json_t *j, const char *path)
{
    json_t *v = json_object_get(j, path);
    return v ? json_string_value(v) : NULL;
}

static void test_basic(void **state)
{
    (void)state;
    json_t *j = echo("GET /p/a?x=1&y=2&x=3&z HTTP/1.1\r\nHost: h.test\r\nX-B: 1\r\nx-a: 2\r\n"
                     "Accept: application/json\r\n\r\n",
                     1 << 20);
    assert_string_equal(str(j, "method"), "GET");
    assert_string_equal(str(j, "target"), "/p/a?x=1&y=2&x=3&z");
    assert_string_equal(str(j, "path"), "/p/a");
    assert_string_equal(str(j, "url"), "http://h.test/p/a?x=1&y=2&x=3&z");
    assert_string_equal(str(j, "http_version"), "HTTP/1.1");
    assert_string_equal(str(j, "origin"), "10.1.2.3");
    assert_string_equal(str(j, "client"), "10.1.2.3:4567");
    json_t *args = json_object_get(j, "args");
    assert_int_equal(json_array_size(json_object_get(args, "x")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(args, "x"), 1)), "3");
    assert_string_equal(str(args, "y"), "2");
    assert_string_equal(str(args, "z"), "");
    json_t *h = json_object_get(j, "headers");
    assert_int_equal(json_array_size(h), 4);
    assert_string_equal(json_string_value(json_array_get(json_array_get(h, 1), 0)), "X-B");
    assert_string_equal(json_string_value(json_array_get(json_array_get(h, 2), 0)), "x-a");
    assert_string_equal(str(j, "body"), "");
    assert_true(json_is_null(json_object_get(j, "json")));
    assert_true(json_is_false(json_object_get(j, "body_truncated")));
    json_decref(j);
}

static void test_json_body(void **state)
{
    (void)state;
    json_t *j = echo("POST /j HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                     "Content-Length: 17\r\n\r\n{\"a\":[1,2],\"b\":1}",
                     1 << 20);
    json_t *parsed = json_object_get(j, "json");
    assert_int_equal(json_array_size(json_object_get(parsed, "a")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "body_size")), 17);
    assert_int_equal(strlen(str(j, "body_sha256")), 64);
    json_decref(j);
}

static void test_forms(void **state)
{
    (void)state;
    json_t *j =
        echo("POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: 19\r\n\r\nname=a+b&n%3D=%26&q",
             1 << 20);
    json_t *form = json_object_get(j, "form");
    assert_string_equal(str(form, "name"), "a b");
    assert_string_equal(str(form, "n="), "&");
    assert_string_equal(str(form, "q"), "");
    json_decref(j);
    /* a UTF-8 byte order mark in front is no part of the first name */
    j = echo("POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: 6\r\n\r\n\xef\xbb\xbf"
             "a=1",
             1 << 20);
    form = json_object_get(j, "form");
    assert_string_equal(str(form, "a"), "1");
    assert_int_equal(json_object_size(form), 1);
    json_decref(j);
    /* multipart in a chunked body, with a binary file part */
    static const char part[] = "--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhello\r\n"
                               "--B\r\nContent-Disposition: form-data; name=\"up\"; "
                               "filename=\"a.bin\"\r\n\r\n\xff\0\x01\r\n--B--\r\n";
    size_t plen = sizeof part - 1;
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /m HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
                      "boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                      plen);
    uint8_t buf[1024];
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, part, plen);
    memcpy(buf + hl + plen, "\r\n0\r\n\r\n", 7);
    struct exchange *ex = request_raw(buf, (size_t)hl + plen + 7, 1 << 20);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    assert_int_equal(echo_json(ex, &lim, &out), 0);
    j = json_loadb((const char *)out.data, out.len, 0, NULL);
    assert_non_null(j);
    dynbuf_cleanup(&out);
    exchange_free(ex);
    form = json_object_get(j, "form");
    assert_string_equal(str(form, "t"), "hello");
    json_t *up = json_object_get(json_object_get(j, "files"), "up");
    assert_string_equal(str(up, "filename"), "a.bin");
    assert_int_equal(json_integer_value(json_object_get(up, "size")), 3);
    assert_string_equal(str(up, "content_base64"), "/wAB");
    json_decref(j);
}

static void test_binary_and_latin1(void **state)
{
    (void)state;
    json_t *j = echo("PUT /b HTTP/1.1\\r\\nHost: h\\r\\nX-L: caf\\xe9\\r\\nContent-Length: 4"
                     "\\r\\n\\r\\n\\0\\xff\\xfe\\x01",
                     1 << 20);
    assert_null(json_object_get(j, "body"));
    assert_string_equal(str(j, "body_base64"), "AP/+AQ==");
    json_t *h = json_array_get(json_object_get(j, "headers"), 1);
    assert_string_equal(json_string_value(json_array_get(h, 1)), "caf\xc3\xa9");
    json_decref(j);
}

/*
 * A chunked request's chunk extensions: "chunk_extensions" with the chunk each came with, and
 * the text echo's lines for them (escaped), before the trailer section, whatever was kept of
 * the body; past CHUNKED_EXT_KEPT_MAX lines, a count.
 */
static void test_chunk_extensions(void **state)
{
    (void)state;
    static const struct {
        const char *body; /* a chunked body; tu_unescape escapes */
        const char *json; /* "chunk_extensions" and "chunk_extensions_unlisted", compact */
        const char *text; /* echo_text_trailer's bytes */
    } cases[] = {
        {"5\r\nhello\r\n0\r\n\r\n", "[] 0", ""},
        {"5;a=b\r\nhello\r\n0;end\r\nX-Sum: 1\r\n\r\n",
         "[{\"chunk\":1,\"size\":5,\"extensions\":\";a=b\",\"cut\":false},"
         "{\"chunk\":2,\"size\":0,\"extensions\":\";end\",\"cut\":false}] 0",
         ECHO_CHUNK_EXT_MARK "chunk 1 (5 bytes): ;a=b\r\nlast chunk: ;end\r\n"
                             "-- trailer section --\r\nX-Sum: 1\r\n"},
        /* hostile bytes: escaped in the text, carried as Latin-1 in JSON */
        {"1;x=\x1b[2J\xe9\r\nz\r\n0\r\n\r\n",
         "[{\"chunk\":1,\"size\":1,\"extensions\":\";x=\\u001B[2J\\u00E9\",\"cut\":false}] 0",
         ECHO_CHUNK_EXT_MARK "chunk 1 (1 byte): ;x=\\x1b[2J\\xe9\r\n"},
        {"1;a\r\nz\r\n1;b\r\nz\r\n1;c\r\nz\r\n1;d\r\nz\r\n1;e\r\nz\r\n1;f\r\nz\r\n"
         "1;g\r\nz\r\n1;h\r\nz\r\n1;i\r\nz\r\n0;j\r\n\r\n",
         NULL,
         ECHO_CHUNK_EXT_MARK "chunk 1 (1 byte): ;a\r\nchunk 2 (1 byte): ;b\r\n"
                             "chunk 3 (1 byte): ;c\r\nchunk 4 (1 byte): ;d\r\n"
                             "chunk 5 (1 byte): ;e\r\nchunk 6 (1 byte): ;f\r\n"
                             "chunk 7 (1 byte): ;g\r\nchunk 8 (1 byte): ;h\r\n"
                             "2 more size lines with extensions, not kept\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[1024];
        snprintf(req, sizeof req,
                 "POST /t HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n%s",
                 cases[i].body);
        struct exchange *ex = request(req, 2); /* the body past the kept bytes */
        assert_non_null(ex);
        assert_true(ex->req.flags & MSG_COMPLETE);
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        struct http_limits lim = HTTP_LIMITS_DEFAULT;
        assert_int_equal(echo_json(ex, &lim, &out), 0);
        json_t *j = json_loadb((const char *)out.data, out.len, 0, NULL);
        assert_non_null(j);
        char *arr = json_dumps(json_object_get(j, "chunk_extensions"),
                               JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        char got[2048];
        snprintf(got, sizeof got, "%s %lld", arr,
                 (long long)json_integer_value(json_object_get(j, "chunk_extensions_unlisted")));
        free(arr);
        if (cases[i].json && strcmp(got, cases[i].json) != 0)
            fail_msg("case %zu: %s, expected %s", i, got, cases[i].json);
        if (!cases[i].json)
            assert_int_equal(json_integer_value(json_object_get(j, "chunk_extensions_unlisted")),
                             2);
        json_decref(j);
        dynbuf_reset(&out);
        echo_text_trailer(&ex->req, &out);
        assert_true(out.len <= echo_text_trailer_max(&ex->req));
        if (out.len != strlen(cases[i].text) || memcmp(out.data, cases[i].text, out.len) != 0)
            fail_msg("case %zu: text '%s'", i, dynbuf_str(&out));
        dynbuf_cleanup(&out);
        exchange_free(ex);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    json_t *j = echo("POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", 4);
    assert_string_equal(str(j, "body"), "0123");
    assert_true(json_is_true(json_object_get(j, "body_truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "body_size")), 10);
    json_decref(j);
}

/* A chunked request's trailer fields: "trailers" pairs and the text echo's account of them,
 * whether or not the body was kept whole. */
static void test_trailers(void **state)
{
    (void)state;
    static const struct {
        const char *req; /* a chunked request; tu_unescape escapes */
        size_t keep;
        const char *pairs; /* the "trailers" array, compact */
        const char *text;  /* echo_text_trailer's bytes after ECHO_TRAILER_MARK, or NULL */
    } cases[] = {
        {"0\\r\\n\\r\\n", 1024, "[]", NULL},
        {"5\\r\\nhello\\r\\n0\\r\\nX-Sum: abc\\r\\n\\r\\n", 1024, "[[\"X-Sum\",\"abc\"]]",
         "X-Sum: abc\r\n"},
        /* the body past the kept bytes: the trailer is kept all the same */
        {"5\\r\\nhello\\r\\n0\\r\\nX-Sum: abc\\r\\n\\r\\n", 2, "[[\"X-Sum\",\"abc\"]]",
         "X-Sum: abc\r\n"},
        /* two fields, bare LF, whitespace, a fold, a line without a colon, a control byte and a
         * byte that is not UTF-8 */
        {"1\\r\\nx\\r\\n0\\r\\nA :  1 \\r\\nB: 2\\n c\\r\\nnocolon\\r\\nC: \\x01\\xe9\\r\\n\\r\\n",
         1024, "[[\"A\",\"1\"],[\"B\",\"2\\n c\"],[\"\",\"nocolon\"],[\"C\",\"\\u0001\\u00E9\"]]",
         "A :  1 \r\nB: 2\n c\r\nnocolon\r\nC: \x01\xe9\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[512];
        snprintf(req, sizeof req,
                 "POST /t HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n%s",
                 cases[i].req);
        struct exchange *ex = request(req, cases[i].keep);
        assert_non_null(ex);
        assert_true(ex->req.flags & MSG_COMPLETE);
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        struct http_limits lim = HTTP_LIMITS_DEFAULT;
        assert_int_equal(echo_json(ex, &lim, &out), 0);
        json_t *j = json_loadb((const char *)out.data, out.len, 0, NULL);
        assert_non_null(j);
        char *pairs = json_dumps(json_object_get(j, "trailers"), JSON_COMPACT | JSON_ENSURE_ASCII);
        if (strcmp(pairs, cases[i].pairs) != 0)
            fail_msg("case %zu: trailers %s, expected %s", i, pairs, cases[i].pairs);
        free(pairs);
        json_decref(j);
        dynbuf_reset(&out);
        echo_text_trailer(&ex->req, &out);
        if (!cases[i].text) {
            assert_int_equal(out.len, 0);
        } else {
            size_t mark = strlen(ECHO_TRAILER_MARK);
            assert_true(out.len >= mark);
            assert_memory_equal(out.data, ECHO_TRAILER_MARK, mark);
            assert_int_equal(out.len - mark, strlen(cases[i].text));
            assert_memory_equal(out.data + mark, cases[i].text, out.len - mark);
        }
        dynbuf_cleanup(&out);
        exchange_free(ex);
    }
}

static void test_wants_json(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        bool json;
    } cases[] = {
        {"application/json", true},
        {"text/html, Application/JSON;q=0.9", true},
        {"text/html, application/json;q=0", false},
        {"application/ld+json", true},
        {"*/*", false},
        {"text/plain", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET / HTTP/1.1\\r\\nHost: h\\r\\nAccept: %s\\r\\n\\r\\n",
                 cases[i].accept);
        struct exchange *ex = request(req, 1024);
        assert_int_equal(echo_wants_json(ex), cases[i].json);
        exchange_free(ex);
    }
    struct exchange *ex = request("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", 1024);
    assert_false(echo_wants_json(ex));
    exchange_free(ex);
}

/* The echo's form for an Accept value, by q-value (RFC 9110 12.4.2, 12.5.1), one case a line. */
static void test_negotiate(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum echo_form form;
    } cases[] = {
        {"", ECHO_FORM_TEXT},
        {"application/json", ECHO_FORM_JSON},
        {"text/plain", ECHO_FORM_TEXT},
        {"*/*", ECHO_FORM_TEXT}, /* a tie: text, the echo's own preference */
        {"application/vnd.api+json", ECHO_FORM_JSON},
        {"text/html, application/json;q=0.9", ECHO_FORM_JSON}, /* text/html is not text/plain */
        /* q=0 is "not acceptable": neither form is, and the echo answers text */
        {"text/html, application/json;q=0", ECHO_FORM_TEXT},
        {"application/json;q=0", ECHO_FORM_TEXT},
        {"application/json;Q=0, */*", ECHO_FORM_TEXT},
        {"application/json ; q=0.000", ECHO_FORM_TEXT},
        {"application/ld+json;q=0, text/plain;q=0", ECHO_FORM_TEXT},
        /* the most specific range decides a form's weight */
        {"application/json;q=0, application/*", ECHO_FORM_TEXT},
        {"application/*;q=0, application/json", ECHO_FORM_JSON},
        {"text/*;q=0, */*", ECHO_FORM_JSON},
        {"application/*", ECHO_FORM_JSON},
        /* the higher weight wins */
        {"application/json;q=0.5, text/plain;q=0.8", ECHO_FORM_TEXT},
        {"text/plain;q=0.1, application/json;q=0.2", ECHO_FORM_JSON},
        {"application/json;q=0.9, text/*", ECHO_FORM_TEXT},
        {"application/json, */*;q=0.1", ECHO_FORM_JSON},
        {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ECHO_FORM_TEXT},
        /* ties: JSON when a range names it, text otherwise */
        {"text/plain, application/json", ECHO_FORM_JSON},
        {"text/*;q=0.3, application/json;q=0.3", ECHO_FORM_JSON},
        {"application/*, text/plain", ECHO_FORM_TEXT},
        /* case, spaces, empty elements, quoted parameters, bad weights */
        {"APPLICATION/JSON", ECHO_FORM_JSON},
        {" , ,application/json , ", ECHO_FORM_JSON},
        {"text/plain;x=\"a,b;q=0\";q=0.2, application/json;q=0.1", ECHO_FORM_TEXT},
        {"application/json;q=abc", ECHO_FORM_TEXT}, /* a bad weight: the range is ignored */
        {"application/json;q=1.5", ECHO_FORM_TEXT},
        {"application/json;q=1.000, text/plain;q=0.999", ECHO_FORM_JSON},
        {"application/json;q=0.1234", ECHO_FORM_TEXT}, /* at most three decimals */
        {"json", ECHO_FORM_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum echo_form got = echo_negotiate(cases[i].accept, strlen(cases[i].accept));
        if (got != cases[i].form)
            fail_msg("Accept '%s': %s, want %s", cases[i].accept,
                     got == ECHO_FORM_JSON ? "JSON" : "text",
                     cases[i].form == ECHO_FORM_JSON ? "JSON" : "text");
    }
}

/* Several Accept fields are one list (RFC 9110 5.3). */
static void test_negotiate_fields(void **state)
{
    (void)state;
    struct exchange *ex = request("GET / HTTP/1.1\\r\\nHost: h\\r\\nAccept: text/html\\r\\n"
                                  "Accept: application/json\\r\\n\\r\\n",
                                  1024);
    assert_true(echo_wants_json(ex));
    exchange_free(ex);
    ex = request("GET / HTTP/1.1\\r\\nHost: h\\r\\nAccept: application/json\\r\\n"
                 "Accept: application/json;q=0\\r\\n\\r\\n",
                 1024);
    assert_true(echo_wants_json(ex)); /* equally specific: the higher weight counts */
    exchange_free(ex);
    ex = request("GET / HTTP/1.1\\r\\nHost: h\\r\\nAccept: text/html, application/json;q=0\\r\\n"
                 "\\r\\n",
                 1024);
    assert_false(echo_wants_json(ex));
    exchange_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_chunk_extensions),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_binary_and_latin1),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_wants_json),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_negotiate_fields),
        cmocka_unit_test(test_trailers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
