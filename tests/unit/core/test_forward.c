/*
 * forward: routing by target form (origin, absolute, authority, asterisk) with the answers for
 * targets a proxy cannot use, and the head edits (Host rewrite and addition, origin-form for
 * absolute targets, X-Forwarded-For and Forwarded appended or added) that touch only the bytes
 * they name, in every line-ending style.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/forward.h"

/* Parses an escaped request head into a fresh buffer; the caller frees both. */
static uint8_t *parse(const char *text, struct http_head *h, struct http_header *headers,
                      size_t *len)
{
    uint8_t *buf = tu_unescape(text, len);
    memset(h, 0, sizeof *h);
    h->headers = headers;
    h->cap = 64;
    int rc = http_head_parse(buf, *len, HTTP_REQUEST, NULL, NULL, h, NULL);
    assert_true(rc > 0);
    return buf;
}

struct route_case {
    const char *head;
    int status; /* 0 = routed */
    int kind;
    const char *host;
    uint16_t port;
};

static const struct route_case ROUTES[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, FORWARD_UPSTREAM, "", 0},
    {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, FORWARD_UPSTREAM, "", 0},
    {"GET http://example.com/x HTTP/1.1\r\n\r\n", 0, FORWARD_ABSOLUTE, "example.com", 80},
    {"GET HTTP://Example.com:8080?q HTTP/1.1\r\n\r\n", 0, FORWARD_ABSOLUTE, "Example.com", 8080},
    {"GET http://u:p@h:81/ HTTP/1.1\r\n\r\n", 0, FORWARD_ABSOLUTE, "h", 81},
    {"GET http://[::1]:9/ HTTP/1.1\r\n\r\n", 0, FORWARD_ABSOLUTE, "::1", 9},
    {"GET https://example.com/ HTTP/1.1\r\n\r\n", 501, 0, "", 0},
    {"GET ftp://example.com/ HTTP/1.1\r\n\r\n", 400, 0, "", 0},
    {"GET http:///x HTTP/1.1\r\n\r\n", 400, 0, "", 0},
    {"GET http://h:0/ HTTP/1.1\r\n\r\n", 400, 0, "", 0},
    {"GET http://h:99999/ HTTP/1.1\r\n\r\n", 400, 0, "", 0},
    {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 0, FORWARD_CONNECT, "example.com", 443},
    {"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", 0, FORWARD_CONNECT, "2001:db8::1", 443},
    {"CONNECT example.com HTTP/1.1\r\n\r\n", 400, 0, "", 0},
    {"CONNECT / HTTP/1.1\r\n\r\n", 400, 0, "", 0},
};

static void test_route(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const struct route_case *t = &ROUTES[i];
        struct http_head h;
        struct http_header headers[64];
        size_t len;
        uint8_t *buf = parse(t->head, &h, headers, &len);
        struct forward_route r;
        char why[200] = "";
        int status = forward_route(buf, &h, &r, why, sizeof why);
        if (status != t->status)
            fail_msg("case %zu (%s): status %d, want %d (%s)", i, t->head, status, t->status, why);
        if (status == 0) {
            assert_int_equal(r.kind, t->kind);
            assert_string_equal(r.host, t->host);
            assert_int_equal(r.port, t->port);
        } else {
            assert_true(why[0] != '\0');
        }
        free(buf);
    }
}

struct edit_case {
    const char *head;
    struct forward_edits e;
    const char *want; /* NULL: no edit applies */
};

static const struct edit_case EDITS[] = {
    /* Host: replaced in place, or kept when equal; added only when asked. */
    {"GET / HTTP/1.1\r\nhOsT:  a:1  \r\nX: y\r\n\r\n",
     {.host = "up:9"},
     "GET / HTTP/1.1\r\nhOsT:  up:9  \r\nX: y\r\n\r\n"},
    {"GET / HTTP/1.1\r\nHost: up:9\r\n\r\n", {.host = "up:9"}, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
     {.host = "u"},
     "GET / HTTP/1.1\r\nHost: u\r\nHost: u\r\n\r\n"},
    {"GET / HTTP/1.0\r\nX: y\r\n\r\n", {.host = "u"}, NULL},
    {"GET / HTTP/1.0\r\nX: y\r\n\r\n",
     {.host = "u", .host_add = true},
     "GET / HTTP/1.0\r\nX: y\r\nHost: u\r\n\r\n"},
    {"GET / HTTP/1.0\n\n", {.host = "u", .host_add = true}, "GET / HTTP/1.0\nHost: u\n\n"},
    /* Absolute-form to origin-form (only when asked, only for absolute targets). */
    {"GET http://h:8/p?q#f HTTP/1.1\r\nHost: h:8\r\n\r\n",
     {.host = "h:8", .origin_form = true},
     "GET /p?q HTTP/1.1\r\nHost: h:8\r\n\r\n"},
    {"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
     {.origin_form = true},
     "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
    {"GET http://h?x=1 HTTP/1.1\r\n\r\n", {.origin_form = true}, "GET /?x=1 HTTP/1.1\r\n\r\n"},
    {"OPTIONS http://h HTTP/1.1\r\n\r\n", {.origin_form = true}, "OPTIONS * HTTP/1.1\r\n\r\n"},
    {"GET /p HTTP/1.1\r\n\r\n", {.origin_form = true}, NULL},
    {"GET http://h/ HTTP/1.1\r\n\r\n",
     {.host = "h", .host_add = true, .origin_form = true},
     "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
    /* X-Forwarded-For and Forwarded: appended to the last field of the name, else added. */
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
     {.xff = "10.0.0.1"},
     "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"},
    {"GET / HTTP/1.1\r\nx-forwarded-for: 1.2.3.4 \r\nHost: a\r\n\r\n",
     {.xff = "10.0.0.1"},
     "GET / HTTP/1.1\r\nx-forwarded-for: 1.2.3.4, 10.0.0.1 \r\nHost: a\r\n\r\n"},
    {"GET / HTTP/1.1\r\nX-Forwarded-For: a\r\nX-Forwarded-For: b\r\n\r\n",
     {.xff = "c"},
     "GET / HTTP/1.1\r\nX-Forwarded-For: a\r\nX-Forwarded-For: b, c\r\n\r\n"},
    {"GET / HTTP/1.1\r\nX-Forwarded-For:\r\n\r\n",
     {.xff = "c"},
     "GET / HTTP/1.1\r\nX-Forwarded-For:c\r\n\r\n"},
    {"GET / HTTP/1.1\r\nForwarded: for=x\r\n\r\n",
     {.forwarded = "for=y"},
     "GET / HTTP/1.1\r\nForwarded: for=x, for=y\r\n\r\n"},
    /* Everything at once, bare LF heads keep bare LF. */
    {"GET http://h/ HTTP/1.1\nHost: z\n\n",
     {.host = "h", .origin_form = true, .xff = "1.1.1.1", .forwarded = "for=1.1.1.1"},
     "GET / HTTP/1.1\nHost: h\nX-Forwarded-For: 1.1.1.1\nForwarded: for=1.1.1.1\n\n"},
    /* Empty lines in front of the request line stay. */
    {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
     {.host = "b"},
     "\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n"},
    /* HTTP/0.9 has no header section: never edited. */
    {"GET /\r\n", {.host = "b", .host_add = true, .xff = "1"}, NULL},
};

static void test_edit(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof EDITS / sizeof EDITS[0]; i++) {
        const struct edit_case *t = &EDITS[i];
        struct http_head h;
        struct http_header headers[64];
        size_t len;
        uint8_t *buf = parse(t->head, &h, headers, &len);
        struct dynbuf out;
        dynbuf_init(&out, 4096);
        bool edited = forward_head(buf, &h, &t->e, &out);
        if (!t->want) {
            if (edited)
                fail_msg("case %zu: unexpected edit: %s", i, dynbuf_str(&out));
            assert_int_equal(out.len, 0);
        } else {
            size_t wlen;
            uint8_t *want = tu_unescape(t->want, &wlen);
            if (!edited || out.len != wlen || memcmp(out.data, want, wlen) != 0)
                fail_msg("case %zu: got '%s'", i, dynbuf_str(&out));
            /* The edited head must parse to a head of the same shape. */
            struct http_head h2;
            struct http_header headers2[64];
            memset(&h2, 0, sizeof h2);
            h2.headers = headers2;
            h2.cap = 64;
            assert_int_equal(
                http_head_parse(out.data, out.len, HTTP_REQUEST, NULL, NULL, &h2, NULL), (int)wlen);
            free(want);
        }
        dynbuf_cleanup(&out);
        free(buf);
    }
}

struct element_case {
    const char *addr, *host, *want;
};

static const struct element_case ELEMENTS[] = {
    {"192.0.2.1", "example.com", "for=192.0.2.1;host=\"example.com\";proto=http"},
    {"::1", "h:8", "for=\"[::1]\";host=\"h:8\";proto=http"},
    {"10.0.0.1", NULL, "for=10.0.0.1;proto=http"},
    {"10.0.0.1", "a\"b\\c", "for=10.0.0.1;host=\"a\\\"b\\\\c\";proto=http"},
    {"10.0.0.1", "bad\x01host", "for=10.0.0.1;proto=http"},
};

static void test_element(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ELEMENTS / sizeof ELEMENTS[0]; i++) {
        const struct element_case *t = &ELEMENTS[i];
        struct dynbuf out;
        dynbuf_init(&out, 512);
        forward_element(&out, t->addr, (const uint8_t *)t->host, t->host ? strlen(t->host) : 0);
        assert_string_equal(dynbuf_str(&out), t->want);
        dynbuf_cleanup(&out);
    }
}

/* More Host fields than the edit list keeps inline: every one is rewritten. */
static void test_many_hosts(void **state)
{
    (void)state;
    struct dynbuf in, out, want;
    dynbuf_init(&in, 8192);
    dynbuf_init(&want, 8192);
    dynbuf_init(&out, 8192);
    dynbuf_adds(&in, "GET / HTTP/1.1\r\n");
    dynbuf_adds(&want, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 40; i++) {
        dynbuf_printf(&in, "Host: h%d\r\n", i);
        dynbuf_adds(&want, "Host: up\r\n");
    }
    dynbuf_adds(&in, "\r\n");
    dynbuf_adds(&want, "X-Forwarded-For: 1.2.3.4\r\n\r\n");
    struct http_head h;
    struct http_header headers[64];
    memset(&h, 0, sizeof h);
    h.headers = headers;
    h.cap = 64;
    assert_true(http_head_parse(in.data, in.len, HTTP_REQUEST, NULL, NULL, &h, NULL) > 0);
    struct forward_edits e = {.host = "up", .xff = "1.2.3.4"};
    assert_true(forward_head(in.data, &h, &e, &out));
    assert_string_equal(dynbuf_str(&out), dynbuf_str(&want));
    dynbuf_cleanup(&in);
    dynbuf_cleanup(&out);
    dynbuf_cleanup(&want);
}

static void test_authority(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(forward_authority(buf, sizeof buf, "h", 80), "h");
    assert_string_equal(forward_authority(buf, sizeof buf, "h", 8080), "h:8080");
    assert_string_equal(forward_authority(buf, sizeof buf, "::1", 80), "[::1]");
    assert_string_equal(forward_authority(buf, sizeof buf, "::1", 9), "[::1]:9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),     cmocka_unit_test(test_edit),
        cmocka_unit_test(test_element),   cmocka_unit_test(test_many_hosts),
        cmocka_unit_test(test_authority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
