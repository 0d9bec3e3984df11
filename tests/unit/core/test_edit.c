/* edit: the editable text, the fix-up (line ends, Content-Length, re-chunking), quick edits,
 * the engine's reading of an edited message and the edit bookkeeping on an exchange. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/edit.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct exchange_limits EXL = {65536, 1 << 20};

/* Runs fn over the C-escaped text and compares the output with the C-escaped expectation. */
static void expect_bytes(const struct dynbuf *out, const char *want)
{
    size_t n;
    uint8_t *w = tu_unescape(want, &n);
    if (out->len != n || memcmp(out->data, w, n) != 0)
        fail_msg("got '%s'\nwant '%s'", dynbuf_str(out), (const char *)w);
    free(w);
}

static void test_fix(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        bool crlf, length_set, rechunked, end_added;
    } cases[] = {
        /* Content-Length recomputed in place, keeping its spelling and position. */
        {"POST /x HTTP/1.1\r\ncontent-length: 3\r\nX: y\r\n\r\nhello",
         "POST /x HTTP/1.1\r\ncontent-length: 5\r\nX: y\r\n\r\nhello", false, true, false, false},
        /* Duplicates collapse into one. */
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nabcd",
         "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", false, true, false, false},
        /* Added at the end of the head when missing and the body is not empty. */
        {"HTTP/1.1 200 OK\r\nA: b\r\n\r\nxy",
         "HTTP/1.1 200 OK\r\nA: b\r\nContent-Length: 2\r\n\r\nxy", false, true, false, false},
        /* Not added for an empty body; a stated one says 0. */
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, false,
         false, false},
        {"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n",
         "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", false, true, false, false},
        /* Bare LF line ends from an editor become CRLF in the head; the body is kept as typed. */
        {"POST / HTTP/1.1\nHost: h\nContent-Length: 1\n\na\nb\n",
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\na\nb\n", true, true, false, false},
        /* Chunked: the body is payload and goes out as one chunk; Content-Length is dropped. */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nhello world",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
         false, false, true, false},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n", false, false, true,
         false},
        /* chunked that is not the last coding does not frame the body. */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nab",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\nab",
         false, true, false, false},
        /* A folded Content-Length goes with its continuation line. */
        {"POST / HTTP/1.1\r\nContent-Length:\r\n 7\r\nA: b\r\n\r\nz",
         "POST / HTTP/1.1\r\nContent-Length: 1\r\nA: b\r\n\r\nz", false, true, false, false},
        /* No empty line: all head, the end is added. */
        {"GET / HTTP/1.1\r\nHost: h", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, false, false,
         true},
        /* The start line is never taken for a field, even one that looks like it. */
        {"content-length: 5 HTTP/1.1\r\n\r\n", "content-length: 5 HTTP/1.1\r\n\r\n", false, false,
         false, false},
        /* Empty lines before the start line are left out; a text of empty lines is only the end. */
        {"\r\n\nGET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", true, false, false, false},
        {"\r\n", "\r\n", false, false, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *in = tu_unescape(cases[i].in, &n);
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        struct edit_fix_report rep;
        assert_int_equal(edit_fix(in, n, &out, &rep), 0);
        expect_bytes(&out, cases[i].out);
        assert_int_equal(rep.crlf, cases[i].crlf);
        assert_int_equal(rep.length_set, cases[i].length_set);
        assert_int_equal(rep.rechunked, cases[i].rechunked);
        assert_int_equal(rep.end_added, cases[i].end_added);
        /* A fixed message is a fixed point. */
        struct dynbuf again;
        dynbuf_init(&again, 1 << 20);
        assert_int_equal(edit_fix(out.data, out.len, &again, NULL), 0);
        if (!rep.rechunked)
            expect_bytes(&again, cases[i].out);
        dynbuf_cleanup(&again);
        dynbuf_cleanup(&out);
        free(in);
    }
    struct dynbuf out;
    dynbuf_init(&out, 64);
    assert_int_equal(edit_fix((const uint8_t *)"", 0, &out, NULL), -1);
    dynbuf_cleanup(&out);
}

/* A fixed message reads back through the engine with its framing matching its body. */
static void test_fix_reads_clean(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "POST /x HTTP/1.1\nHost: h\nContent-Length: 99\n\n{\"a\":1}\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nsome payload",
        "PUT /x HTTP/1.1\r\nHost: h\r\n\r\nno length given",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        assert_int_equal(edit_fix((const uint8_t *)cases[i], strlen(cases[i]), &out, NULL), 0);
        struct edit_check c;
        struct exchange *ex =
            edit_check(out.data, out.len, SIDE_CLIENT, NULL, 0, &LIMITS, &EXL, &c);
        assert_non_null(ex);
        assert_true(c.parsed);
        assert_int_equal(c.warnings, 0);
        assert_int_equal(c.extra, 0);
        assert_int_equal(c.missing, 0);
        assert_true(ex->req.flags & MSG_COMPLETE);
        exchange_free(ex);
        dynbuf_cleanup(&out);
    }
}

static void test_check(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *req;
        enum side side;
        uint64_t declared, body, extra, missing;
        bool warned;
        const char *summary;
    } cases[] = {
        /* "as typed" with a wrong length, both ways. */
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd", "GET / HTTP/1.1\r\n\r\n", SIDE_SERVER,
         10, 4, 0, 6, true, "Content-Length 10 but 4 body bytes: a peer waits for 6 more"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcd", "GET / HTTP/1.1\r\n\r\n", SIDE_SERVER,
         2, 2, 2, 0, false, "Content-Length 2; 2 bytes after it are read as another message"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", "GET / HTTP/1.1\r\n\r\n", SIDE_SERVER,
         4, 4, 0, 0, false, "Content-Length 4 matches the body"},
        /* A response to HEAD has no body whatever it says. */
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "HEAD / HTTP/1.1\r\n\r\n", SIDE_SERVER, 0,
         0, 0, 0, false, "no body"},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", NULL, SIDE_CLIENT,
         0, 0, 0, 0, true, "the body length cannot be determined: a server answers 400"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
         "GET / HTTP/1.1\r\n\r\n", SIDE_SERVER, 0, 8, 0, 0, true,
         "chunked, 5 payload bytes, not finished: a peer waits"},
        {"GET / HTTP/1.1\r\nHost: h", NULL, SIDE_CLIENT, 0, 0, 0, 0, true,
         "no complete head: a peer waits for more"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n, rn = 0;
        uint8_t *m = tu_unescape(cases[i].msg, &n);
        uint8_t *r = cases[i].req ? tu_unescape(cases[i].req, &rn) : NULL;
        struct edit_check c;
        struct exchange *ex = edit_check(m, n, cases[i].side, r, rn, &LIMITS, &EXL, &c);
        assert_non_null(ex);
        assert_int_equal(c.declared, cases[i].declared);
        assert_int_equal(c.body, cases[i].body);
        assert_int_equal(c.extra, cases[i].extra);
        assert_int_equal(c.missing, cases[i].missing);
        if (cases[i].warned != (c.warnings > 0))
            fail_msg("case %zu: %u warnings", i, c.warnings);
        if (cases[i].summary)
            assert_string_equal(c.summary, cases[i].summary);
        exchange_free(ex);
        free(m);
        free(r);
    }
}

static void test_quick(void **state)
{
    (void)state;
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\n"
                       "Content-Length: 2\r\n\r\nhi";
    size_t n = strlen(resp);
    const uint8_t *p = (const uint8_t *)resp;
    char err[128];
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);

    assert_int_equal(edit_set_status(p, n, 404, NULL, &out, err, sizeof err), 0);
    expect_bytes(&out, "HTTP/1.1 404 Not Found\\r\\nContent-Type: text/plain\\r\\nX-A: 1\\r\\n"
                       "x-a: 2\\r\\nContent-Length: 2\\r\\n\\r\\nhi");
    dynbuf_reset(&out);
    assert_int_equal(edit_set_status(p, n, 299, "Fine", &out, err, sizeof err), 0);
    assert_memory_equal(out.data, "HTTP/1.1 299 Fine\r\n", 19);
    dynbuf_reset(&out);
    assert_int_equal(edit_set_status((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, 200, NULL, &out,
                                     err, sizeof err),
                     -1);
    assert_int_equal(edit_set_status(p, n, 42, NULL, &out, err, sizeof err), -1);

    /* Setting a header rewrites the first of its name and drops the others. */
    assert_int_equal(edit_set_header(p, n, "X-A", "new", &out, err, sizeof err), 0);
    expect_bytes(&out, "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nX-A: new\\r\\n"
                       "Content-Length: 2\\r\\n\\r\\nhi");
    dynbuf_reset(&out);
    assert_int_equal(edit_set_header(p, n, "Cache-Control", "no-store", &out, err, sizeof err), 0);
    expect_bytes(&out, "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nX-A: 1\\r\\nx-a: 2\\r\\n"
                       "Content-Length: 2\\r\\nCache-Control: no-store\\r\\n\\r\\nhi");
    dynbuf_reset(&out);
    assert_int_equal(edit_set_header(p, n, "Bad Name", "v", &out, err, sizeof err), -1);
    assert_int_equal(edit_set_header(p, n, "A", "x\r\nInjected: 1", &out, err, sizeof err), -1);

    size_t removed;
    assert_int_equal(edit_remove_header(p, n, "x-A", &out, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 2);
    expect_bytes(&out, "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 2\\r\\n"
                       "\\r\\nhi");
    dynbuf_reset(&out);

    /* A new body brings its length along. */
    assert_int_equal(
        edit_set_body(p, n, (const uint8_t *)"{\"ok\":true}", 11, &out, err, sizeof err), 0);
    expect_bytes(&out, "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nX-A: 1\\r\\nx-a: 2\\r\\n"
                       "Content-Length: 11\\r\\n\\r\\n{\"ok\":true}");
    dynbuf_reset(&out);
    /* Lines ending in bare LF get a bare LF line for what is added. */
    const char *lf = "GET / HTTP/1.1\nHost: h\n\n";
    assert_int_equal(
        edit_set_header((const uint8_t *)lf, strlen(lf), "A", "b", &out, err, sizeof err), 0);
    expect_bytes(&out, "GET / HTTP/1.1\\nHost: h\\nA: b\\n\\n");
    dynbuf_reset(&out);
    /* A text without an empty line gets one. */
    assert_int_equal(edit_set_header((const uint8_t *)"GET / HTTP/1.1\r\nHost: h", 23, "A", "b",
                                     &out, err, sizeof err),
                     0);
    expect_bytes(&out, "GET / HTTP/1.1\\r\\nHost: h\\r\\nA: b\\r\\n\\r\\n");
    dynbuf_cleanup(&out);
}

static void test_head_len(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        long len;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\nbody", 18},    {"GET / HTTP/1.1\n\nbody", 16},
        {"GET / HTTP/1.1\r\n\nx", 17},         {"\r\nGET / HTTP/1.1\r\n\r\n", 20},
        {"GET / HTTP/1.1\r\nHost: h\r\n", -1}, {"", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(edit_head_len((const uint8_t *)cases[i].in, strlen(cases[i].in)),
                         cases[i].len);
}

static void test_text(void **state)
{
    (void)state;
    /* A chunked body is shown as its payload; interim responses are left out. */
    struct exchange *ex = tu_exchange_text(
        "POST / HTTP/1.1\\r\\nTransfer-Encoding: "
        "chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n2\\r\\nde\\r\\n0\\r\\n\\r\\n",
        "HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok", 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    assert_true(edit_text(&ex->req, &LIMITS, &out));
    expect_bytes(&out, "POST / HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nabcde");
    dynbuf_reset(&out);
    assert_true(edit_text(&ex->resp, &LIMITS, &out));
    expect_bytes(&out, "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok");
    /* Fixing the text of a chunked message gives a valid chunked message again. */
    struct dynbuf fixed;
    dynbuf_init(&fixed, 1 << 20);
    dynbuf_reset(&out);
    edit_text(&ex->req, &LIMITS, &out);
    edit_fix(out.data, out.len, &fixed, NULL);
    expect_bytes(&fixed, "POST / HTTP/1.1\\r\\nTransfer-Encoding: "
                         "chunked\\r\\n\\r\\n5\\r\\nabcde\\r\\n0\\r\\n\\r\\n");
    dynbuf_cleanup(&fixed);
    dynbuf_cleanup(&out);
    exchange_free(ex);
}

static void test_bookkeeping(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\n\\r\\n", NULL, 0);
    assert_null(edit_pending(ex, SIDE_CLIENT));
    assert_false(edit_revert(ex, SIDE_CLIENT));
    edit_stage(ex, SIDE_CLIENT, (const uint8_t *)"GET /a HTTP/1.1\r\n\r\n", 19);
    const struct dynbuf *p = edit_pending(ex, SIDE_CLIENT);
    assert_non_null(p);
    assert_int_equal(p->len, 19);
    /* Staging part of the pending bytes again is safe. */
    edit_stage(ex, SIDE_CLIENT, p->data + 4, 2);
    assert_memory_equal(edit_pending(ex, SIDE_CLIENT)->data, "/a", 2);
    assert_null(edit_pending(ex, SIDE_SERVER));
    assert_true(edit_revert(ex, SIDE_CLIENT));
    assert_null(edit_pending(ex, SIDE_CLIENT));
    edit_stage(ex, SIDE_SERVER, (const uint8_t *)"x", 1);
    edit_record(ex, SIDE_SERVER, (const uint8_t *)"before", 6, "received");
    assert_true(ex->flags & EX_EDITED);
    assert_true(ex->resp.flags & MSG_EDITED);
    assert_null(edit_pending(ex, SIDE_SERVER));
    assert_string_equal(ex->edit->before_label[SIDE_SERVER], "received");
    assert_int_equal(ex->edit->before[SIDE_SERVER].len, 6);
    assert_true(exchange_memory(ex) > 6);
    exchange_free(ex);
}

static void test_duplicate(void **state)
{
    (void)state;
    const char *req = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi";
    const char *resp = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    struct exchange *ex = edit_exchange((const uint8_t *)req, strlen(req), (const uint8_t *)resp,
                                        strlen(resp), &LIMITS, &EXL);
    assert_non_null(ex);
    assert_int_equal(exchange_status(ex), 201);
    assert_int_equal(ex->req.raw.len, strlen(req));
    assert_true(ex->req.flags & MSG_COMPLETE);
    assert_true(ex->resp.flags & MSG_COMPLETE);
    exchange_free(ex);
}

static void test_replace(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("POST /a HTTP/1.1\\r\\nHost: h\\r\\nContent-Lenght: 2\\r\\n\\r\\n",
                         "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok", 1000);
    int64_t first = ex->req.t_first;
    assert_true(exchange_has_warning(ex, W_NAME_TYPO));
    const char *sent = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nnew";
    edit_replace(ex, SIDE_CLIENT, (const uint8_t *)sent, strlen(sent), "received", &LIMITS, &EXL);
    /* The exchange shows what was sent, and keeps what was received for the diff. */
    assert_int_equal(ex->req.raw.len, strlen(sent));
    assert_memory_equal(ex->req.raw.data, sent, strlen(sent));
    char target[32];
    assert_string_equal(exchange_target(ex, target, sizeof target), "/b");
    assert_int_equal(ex->req.body_kind, BODY_LENGTH);
    assert_int_equal(ex->req.content_length, 3);
    assert_true(ex->req.flags & MSG_EDITED);
    assert_true(ex->req.flags & MSG_COMPLETE);
    assert_true(ex->flags & EX_EDITED);
    assert_int_equal(ex->req.t_first, first);
    assert_false(exchange_has_warning(ex, W_NAME_TYPO)); /* the sent message has no typo */
    assert_string_equal(ex->edit->before_label[SIDE_CLIENT], "received");
    assert_memory_equal(ex->edit->before[SIDE_CLIENT].data, "POST /a", 7);
    size_t len;
    assert_memory_equal(message_header(&ex->req, "content-length", &len), "3", 1);
    /* A response is read after its (now edited) request. */
    const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nabc";
    edit_replace(ex, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), "received", &LIMITS, &EXL);
    assert_int_equal(exchange_status(ex), 404);
    assert_false(ex->resp.flags & MSG_COMPLETE);
    assert_true(exchange_has_warning(ex, W_EOF_MID_MESSAGE));
    assert_memory_equal(ex->edit->before[SIDE_SERVER].data, "HTTP/1.1 200 OK", 15);
    exchange_free(ex);
}

/* A response replaced by one with interim responses keeps them, in the exchange's own arena:
 * the exchange it was read into is gone (ASan sees any pointer left into it). */
static void test_replace_interim(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                         "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok", 1000);
    assert_int_equal(ex->resp.ninterim, 0);
    const char *resp =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    edit_replace(ex, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), "received", &LIMITS, &EXL);
    assert_int_equal(exchange_status(ex), 200);
    assert_int_equal(ex->resp.ninterim, 2);
    assert_int_equal(ex->resp.interim[0].status, 100);
    assert_int_equal(ex->resp.interim[1].status, 103);
    assert_memory_equal(ex->resp.raw.data + ex->resp.interim[1].off, "HTTP/1.1 103", 12);
    /* still room for more, as exchange_add_interim leaves it */
    assert_true(exchange_add_interim(ex, &ex->resp, (struct message_interim){0, 1, 102}));
    assert_int_equal(ex->resp.ninterim, 3);
    exchange_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fix),         cmocka_unit_test(test_fix_reads_clean),
        cmocka_unit_test(test_check),       cmocka_unit_test(test_quick),
        cmocka_unit_test(test_head_len),    cmocka_unit_test(test_text),
        cmocka_unit_test(test_bookkeeping), cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_replace),     cmocka_unit_test(test_replace_interim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
