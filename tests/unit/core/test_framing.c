/*
 * Message length rules (RFC 9112 section 6): one line per case, head in, framing and warnings
 * out, for requests and for responses given facts about their request.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/framing.h"

enum { NO_REQ = 0, GET, HEAD, CONNECT, UPGRADE, CLOSE_REQ };

struct frame_case {
    int kind; /* HTTP_REQUEST / HTTP_RESPONSE */
    int req;  /* request facts for responses */
    const char *head;
    int body; /* enum body_kind */
    long long length;
    int cannot; /* cannot_frame */
    int keep_alive;
    const char *warnings;
};

#define RQ HTTP_REQUEST
#define RS HTTP_RESPONSE

static const struct frame_case CASES[] = {
    /* RFC 9112 6.3: requests */
    {RQ, 0, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", BODY_LENGTH, 5, 0, 1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", BODY_LENGTH, 7, 0, 1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", BODY_CHUNKED, 0, 0,
     1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", BODY_CHUNKED,
     0, 0, 1, ""},
    /* any spelling of chunked but the lowercase one still frames as chunked, and is reported */
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", BODY_CHUNKED, 0, 0,
     1, "te-obfuscated"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", BODY_CHUNKED, 0, 0,
     1, "te-obfuscated"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:   Chunked \r\n\r\n", BODY_CHUNKED, 0,
     0, 1, "te-obfuscated"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, cHunked\r\n\r\n", BODY_CHUNKED,
     0, 0, 1, "te-obfuscated"},
    /* optional whitespace around the value and list members is plain syntax, not obfuscation */
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \r\n\r\n", BODY_CHUNKED, 0,
     0, 1, ""},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip ,  chunked\r\n\r\n",
     BODY_CHUNKED, 0, 0, 1, ""},
    /* smuggling vectors */
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     BODY_CHUNKED, 0, 0, 0, "cl-and-te"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", BODY_NONE, 0,
     1, 0, "te-not-chunked-last"},
    {RQ, 0,
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     BODY_CHUNKED, 0, 0, 1, "te-chunked-twice"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", BODY_NONE, 0, 1, 0,
     "te-unknown-coding,te-not-chunked-last"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", BODY_NONE, 0, 1,
     0, "te-unknown-coding,te-not-chunked-last,te-obfuscated"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", BODY_NONE, 0, 1, 0,
     "te-unknown-coding,te-not-chunked-last"},
    {RQ, 0, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", BODY_CHUNKED, 0, 0, 0,
     "te-in-http10"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
     BODY_LENGTH, 5, 0, 1, "cl-duplicate"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     BODY_NONE, 0, 1, 0, "cl-conflict"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", BODY_LENGTH, 5, 0, 1,
     "cl-list"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", BODY_NONE, 0, 1, 0,
     "cl-conflict"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", BODY_NONE, 0, 1, 0,
     "cl-invalid"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", BODY_NONE, 0, 1, 0,
     "cl-invalid"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n", BODY_NONE, 0, 1, 0,
     "cl-invalid"},
    {RQ, 0, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", BODY_NONE,
     0, 1, 0, "cl-overflow"},
    /* persistence (RFC 9112 9.3) */
    {RQ, 0, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", BODY_NONE, 0, 0, 0, ""},
    {RQ, 0, "GET / HTTP/1.0\r\n\r\n", BODY_NONE, 0, 0, 0, ""},
    {RQ, 0, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    /* responses (RFC 9112 6.3 items 1-8) */
    {RS, GET, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", BODY_LENGTH, 3, 0, 1, ""},
    {RS, GET, "HTTP/1.1 200 OK\r\n\r\n", BODY_CLOSE, 0, 0, 0, ""},
    {RS, GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", BODY_CHUNKED, 0, 0, 1, ""},
    {RS, GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", BODY_CLOSE, 0, 0, 0,
     "te-not-chunked-last"},
    {RS, GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", BODY_CHUNKED, 0, 0, 1,
     "te-obfuscated"},
    {RS, GET, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
     BODY_CHUNKED, 0, 0, 0, "cl-and-te"},
    {RS, GET, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", BODY_CLOSE, 0, 0, 0, "cl-invalid"},
    {RS, HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RS, GET, "HTTP/1.1 204 No Content\r\nContent-Length: 30\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RS, GET, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", BODY_NONE, 0, 0, 1,
     ""},
    {RS, GET, "HTTP/1.1 100 Continue\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RS, GET, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", BODY_NONE, 0, 0, 1, ""},
    {RS, UPGRADE, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", BODY_TUNNEL, 0,
     0, 0, ""},
    {RS, CONNECT, "HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n", BODY_TUNNEL,
     0, 0, 0, ""},
    {RS, CONNECT, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\n",
     BODY_LENGTH, 2, 0, 1, ""},
    {RS, CLOSE_REQ, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", BODY_LENGTH, 3, 0, 0, ""},
    {RS, GET, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", BODY_LENGTH, 3, 0, 0, ""},
    {RS, NO_REQ, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", BODY_LENGTH, 3, 0, 1, ""},
};

static void facts_for(int req, struct framing_request *f)
{
    memset(f, 0, sizeof *f);
    f->present = req != NO_REQ;
    f->head = req == HEAD;
    f->connect = req == CONNECT;
    f->upgrade = req == UPGRADE;
    f->close = req == CLOSE_REQ;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct frame_case *c = &CASES[i];
        const uint8_t *buf = (const uint8_t *)c->head;
        struct http_header hd[32];
        struct http_head h = {.headers = hd, .cap = 32};
        int rc =
            http_head_parse(buf, strlen(c->head), (enum http_kind)c->kind, NULL, NULL, &h, NULL);
        assert_int_equal(rc, (int)strlen(c->head));
        struct framing f;
        struct http_warnings w = {0};
        if (c->kind == RQ) {
            framing_request(buf, &h, &f, &w);
        } else {
            struct framing_request facts;
            facts_for(c->req, &facts);
            framing_response(buf, &h, c->req == NO_REQ ? NULL : &facts, &f, &w);
        }
        if (f.kind != c->body || (c->body == BODY_LENGTH && (long long)f.length != c->length) ||
            f.cannot_frame != c->cannot || f.keep_alive != c->keep_alive)
            fail_msg("case %zu: got %s %llu cannot=%d keep=%d", i,
                     body_kind_name((enum body_kind)f.kind), (unsigned long long)f.length,
                     f.cannot_frame, f.keep_alive);
        for (uint16_t k = 0; k < w.n; k++)
            if (!strstr(c->warnings, warning_name((enum warning_code)w.w[k].code)))
                fail_msg("case %zu: unexpected warning %s", i,
                         warning_name((enum warning_code)w.w[k].code));
        char list[128];
        snprintf(list, sizeof list, "%s", c->warnings);
        for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
            bool found = false;
            for (uint16_t k = 0; k < w.n; k++)
                found |= strcmp(t, warning_name((enum warning_code)w.w[k].code)) == 0;
            if (!found)
                fail_msg("case %zu: missing warning %s", i, t);
        }
    }
}

/* framing_request_facts: whether the connection ends after the response to a request. A
 * request whose own framing forbids another message says so too, or a response to it would
 * leave open a connection whose other end may have read its body differently (smuggling). */
static const struct {
    const char *head;
    int close;
} FACTS[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1},
    {"GET / HTTP/1.0\r\n\r\n", 1},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0},
    {"GET /\r\n", 1},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 0},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 1},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 1},
    {"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", 1},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 1},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 1},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0},
};

static void test_request_facts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof FACTS / sizeof FACTS[0]; i++) {
        const uint8_t *buf = (const uint8_t *)FACTS[i].head;
        struct http_header hd[32];
        struct http_head h = {.headers = hd, .cap = 32};
        size_t n = strlen(FACTS[i].head);
        assert_int_equal(http_head_parse(buf, n, HTTP_REQUEST, NULL, NULL, &h, NULL), (int)n);
        struct framing_request facts;
        framing_request_facts(buf, &h, &facts);
        if (facts.close != FACTS[i].close)
            fail_msg("case %zu: close=%d", i, facts.close);
        /* ... and the response to it says the same, however it is framed. */
        struct http_head rh = {.headers = hd, .cap = 32};
        static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
        const uint8_t *rb = (const uint8_t *)RESP;
        assert_int_equal(http_head_parse(rb, sizeof RESP - 1, HTTP_RESPONSE, NULL, NULL, &rh, NULL),
                         (int)sizeof RESP - 1);
        struct framing f;
        framing_response(rb, &rh, &facts, &f, NULL);
        if (f.keep_alive == FACTS[i].close)
            fail_msg("case %zu: response keep_alive=%d", i, f.keep_alive);
    }
}

static void test_parse_length(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(framing_parse_length((const uint8_t *)"42", 2, &v), W_NONE);
    assert_int_equal(v, 42);
    assert_int_equal(framing_parse_length((const uint8_t *)"", 0, &v), W_CL_INVALID);
    assert_int_equal(framing_parse_length((const uint8_t *)"1,1 ,1", 6, &v), W_CL_LIST);
    assert_int_equal(v, 1);
    assert_int_equal(framing_parse_length((const uint8_t *)"9223372036854775807", 19, &v),
                     W_CL_OVERFLOW);
    assert_int_equal(framing_parse_length((const uint8_t *)"922337203685477580", 18, &v), W_NONE);
    assert_int_equal(framing_parse_length((const uint8_t *)"1,", 2, &v), W_CL_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_request_facts),
        cmocka_unit_test(test_parse_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
