/*
 * har: HAR 1.2 entries and documents. Exchanges built by hand (real head parser and framing),
 * written as HAR text, parsed back with jansson and checked: the fields HAR 1.2 requires,
 * absolute URLs, query and cookie parsing, timings from the phases (proxy phases too), base64
 * for binary bodies, every raw byte of both sides recoverable bit-exact from "_hspy", and the
 * streamed text of an entry byte for byte what its tree (the same writer calls) dumps to.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/har.h"
#include "hspy/jsonwrite.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct har_config CFG = {&LIMITS, 1 << 20, "hspy"};

/* The entry as text (what a file holds), parsed back. Caller json_decref()s. */
static json_t *entry_of(const struct exchange *ex)
{
    struct dynbuf text;
    dynbuf_init(&text, 64 << 20);
    assert_int_equal(har_stream_entry(&text, ex, &CFG, true), 0);
    json_error_t err;
    json_t *v = json_loadb((const char *)text.data, text.len, JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("entry does not parse: %s", err.text);
    dynbuf_cleanup(&text);
    return v;
}

static json_t *at(json_t *o, const char *path)
{
    char key[64];
    for (const char *p = path; o && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        o = json_object_get(o, key);
        p += n + (p[n] == '.');
    }
    if (!o)
        fail_msg("%s is missing", path);
    return o;
}

static const char *sat(json_t *o, const char *path)
{
    json_t *v = at(o, path);
    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    return json_string_value(v);
}

static double nat(json_t *o, const char *path)
{
    json_t *v = at(o, path);
    if (!json_is_number(v))
        fail_msg("%s is not a number", path);
    return json_number_value(v);
}

/* Decodes a base64 field into a new buffer. */
static uint8_t *b64(json_t *o, const char *path, size_t *n)
{
    const char *s = sat(o, path);
    struct dynbuf out;
    dynbuf_init(&out, strlen(s));
    assert_int_equal(base64_decode(&out, s, strlen(s)), 0);
    *n = out.len;
    return (uint8_t *)dynbuf_take(&out);
}

/* The members HAR 1.2 requires of each object, with their JSON types. */
static void check_required(json_t *e)
{
    static const struct {
        const char *path;
        json_type type;
    } REQUIRED[] = {
        {"startedDateTime", JSON_STRING},
        {"time", JSON_REAL},
        {"request.method", JSON_STRING},
        {"request.url", JSON_STRING},
        {"request.httpVersion", JSON_STRING},
        {"request.cookies", JSON_ARRAY},
        {"request.headers", JSON_ARRAY},
        {"request.queryString", JSON_ARRAY},
        {"request.headersSize", JSON_INTEGER},
        {"request.bodySize", JSON_INTEGER},
        {"response.status", JSON_INTEGER},
        {"response.statusText", JSON_STRING},
        {"response.httpVersion", JSON_STRING},
        {"response.cookies", JSON_ARRAY},
        {"response.headers", JSON_ARRAY},
        {"response.content.size", JSON_INTEGER},
        {"response.content.mimeType", JSON_STRING},
        {"response.redirectURL", JSON_STRING},
        {"response.headersSize", JSON_INTEGER},
        {"response.bodySize", JSON_INTEGER},
        {"cache", JSON_OBJECT},
        {"_hspy.version", JSON_INTEGER},
    };
    for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++)
        if (json_typeof(at(e, REQUIRED[i].path)) != REQUIRED[i].type)
            fail_msg("%s has the wrong type", REQUIRED[i].path);
    static const char *const TIMINGS[] = {"send", "wait", "receive", "blocked", "dns", "connect"};
    for (size_t i = 0; i < 6; i++) {
        double t = json_number_value(json_object_get(at(e, "timings"), TIMINGS[i]));
        assert_true(t >= -1);
    }
    assert_true(nat(e, "time") >= 0);
    const char *started = sat(e, "startedDateTime");
    assert_int_equal(strlen(started), 24); /* 2023-11-14T22:13:20.001Z */
    assert_int_equal(started[23], 'Z');
}

static void test_standard_fields(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("POST /api/v1?q=a%20b&x&y=1&q=2 HTTP/1.1\\r\\nHost: example.com:8080\\r\\n"
                         "Cookie: sid=abc; theme=dark\\r\\nContent-Type: application/json\\r\\n"
                         "Content-Length: 7\\r\\n\\r\\n{\"a\":1}",
                         "HTTP/1.1 301 Moved Permanently\\r\\nLocation: https://example.com/\\r\\n"
                         "Set-Cookie: sid=xyz; Path=/; Domain=example.com; Secure; HttpOnly; "
                         "Expires=Sun, 06-Nov-1994 08:49:37 GMT\\r\\n"
                         "Content-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nmoved",
                         1700000000000000000);
    ex->conn_id = 4;
    endpoint_set(&ex->server, "10.1.2.3", 8080);
    json_t *e = entry_of(ex);
    check_required(e);
    assert_string_equal(sat(e, "pageref"), "hspy");
    assert_string_equal(sat(e, "startedDateTime"), "2023-11-14T22:13:20.001Z");
    assert_string_equal(sat(e, "connection"), "4");
    assert_string_equal(sat(e, "serverIPAddress"), "10.1.2.3");
    assert_string_equal(sat(e, "request.url"), "http://example.com:8080/api/v1?q=a%20b&x&y=1&q=2");
    assert_string_equal(sat(e, "request.httpVersion"), "HTTP/1.1");
    json_t *q = at(e, "request.queryString");
    assert_int_equal(json_array_size(q), 4);
    assert_string_equal(sat(json_array_get(q, 0), "value"), "a b");
    assert_string_equal(sat(json_array_get(q, 1), "name"), "x");
    assert_string_equal(sat(json_array_get(q, 1), "value"), "");
    assert_string_equal(sat(json_array_get(q, 3), "value"), "2");
    json_t *c = at(e, "request.cookies");
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(sat(json_array_get(c, 1), "name"), "theme");
    assert_string_equal(sat(json_array_get(c, 1), "value"), "dark");
    assert_string_equal(sat(e, "request.postData.mimeType"), "application/json");
    assert_string_equal(sat(e, "request.postData.text"), "{\"a\":1}");
    assert_null(json_object_get(at(e, "request.postData"), "encoding"));
    assert_int_equal(json_integer_value(at(e, "request.bodySize")), 7);
    assert_int_equal(json_integer_value(at(e, "response.status")), 301);
    assert_string_equal(sat(e, "response.statusText"), "Moved Permanently");
    assert_string_equal(sat(e, "response.redirectURL"), "https://example.com/");
    assert_string_equal(sat(e, "response.content.text"), "moved");
    assert_string_equal(sat(e, "response.content.mimeType"), "text/plain");
    assert_int_equal(json_integer_value(at(e, "response.content.size")), 5);
    json_t *sc = json_array_get(at(e, "response.cookies"), 0);
    assert_string_equal(sat(sc, "value"), "xyz");
    assert_string_equal(sat(sc, "path"), "/");
    assert_string_equal(sat(sc, "domain"), "example.com");
    assert_string_equal(sat(sc, "expires"), "1994-11-06T08:49:37.000Z");
    assert_true(json_is_true(at(sc, "secure")));
    assert_true(json_is_true(at(sc, "httpOnly")));
    /* helper phases are 1 ms apart: send 2, wait 1, receive 2 */
    assert_true(nat(e, "timings.send") == 2.0);
    assert_true(nat(e, "timings.wait") == 1.0);
    assert_true(nat(e, "timings.receive") == 2.0);
    assert_true(nat(e, "timings.connect") == -1);
    assert_true(nat(e, "time") == 5.0);
    json_decref(e);
    exchange_free(ex);
}

static void test_proxy_timings(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                                           "HTTP/1.1 204 No Content\\r\\n\\r\\n", 0);
    int64_t ms = 1000000, t0 = 1700000000000000000;
    ex->t[T_REQ_FIRST] = t0;
    ex->t[T_REQ_HEAD] = t0 + 1 * ms;
    ex->t[T_REQ_LAST] = t0 + 1 * ms;
    ex->t[T_UP_CONNECT] = t0 + 2 * ms;
    ex->t[T_UP_CONNECTED] = t0 + 5 * ms;
    ex->t[T_REQ_FORWARDED] = t0 + 6 * ms;
    ex->t[T_RESP_FIRST] = t0 + 16 * ms;
    ex->t[T_RESP_HEAD] = t0 + 16 * ms;
    ex->t[T_RESP_LAST] = t0 + 17 * ms + 500;
    json_t *e = entry_of(ex);
    assert_true(nat(e, "timings.blocked") == 2.0);
    assert_true(nat(e, "timings.connect") == 3.0);
    assert_true(nat(e, "timings.send") == 1.0);
    assert_true(nat(e, "timings.wait") == 10.0);
    assert_true(nat(e, "timings.receive") == 1.001);
    assert_true(nat(e, "time") == 17.001);
    assert_int_equal(json_integer_value(at(e, "_hspy.timings_ns.upstream_connected")), t0 + 5 * ms);
    assert_null(json_object_get(at(e, "request"), "postData"));
    json_decref(e);
    exchange_free(ex);
}

static void test_binary_bodies_base64(void **state)
{
    (void)state;
    uint8_t body[300];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + 0x80);
    char rh[] = "PUT /blob HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: 300\r\n\r\n";
    char sh[] = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 300\r\n\r\n";
    uint8_t req[sizeof rh - 1 + 300], resp[sizeof sh - 1 + 300];
    memcpy(req, rh, sizeof rh - 1);
    memcpy(req + sizeof rh - 1, body, 300);
    memcpy(resp, sh, sizeof sh - 1);
    memcpy(resp + sizeof sh - 1, body, 300);
    struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    struct exchange *ex = tu_exchange(req, sizeof req, resp, sizeof resp, &exl, &LIMITS, 0);
    json_t *e = entry_of(ex);
    assert_string_equal(sat(e, "request.postData.encoding"), "base64");
    assert_string_equal(sat(e, "response.content.encoding"), "base64");
    size_t n;
    uint8_t *got = b64(e, "request.postData.text", &n);
    assert_int_equal(n, 300);
    assert_memory_equal(got, body, 300);
    free(got);
    got = b64(e, "response.content.text", &n);
    assert_int_equal(n, 300);
    assert_memory_equal(got, body, 300);
    free(got);
    json_decref(e);
    exchange_free(ex);
}

/* Raw bytes of both sides come back bit-exact from _hspy, whatever they hold. */
static void test_raw_bit_exact(void **state)
{
    (void)state;
    uint64_t seed = 42;
    for (int round = 0; round < 100; round++) {
        uint8_t req[2048], resp[2048];
        size_t rn = (size_t)snprintf((char *)req, sizeof req,
                                     "POST /r%d HTTP/1.1\r\nHost: h\r\nX: \xff\x1b\r\n"
                                     "Content-Length: 500\r\n\r\n",
                                     round);
        size_t sn = (size_t)snprintf((char *)resp, sizeof resp,
                                     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 \xc0\r\n\r\n");
        for (int i = 0; i < 500 + round; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            req[rn++] = (uint8_t)(seed >> 56);
            resp[sn++] = (uint8_t)(seed >> 48);
        }
        /* Small caps on odd rounds: what is kept comes back, the rest is counted. */
        struct exchange_limits exl = {round % 2 ? 100 : HTTP_HEAD_MAX_DEFAULT,
                                      round % 2 ? 100 : 1 << 20};
        struct exchange *ex = tu_exchange(req, rn, resp, sn, &exl, &LIMITS, 0);
        json_t *e = entry_of(ex);
        size_t n;
        uint8_t *got = b64(e, "_hspy.request.raw", &n);
        assert_int_equal(n, ex->req.raw.len);
        assert_memory_equal(got, req, n);
        free(got);
        got = b64(e, "_hspy.response.raw", &n);
        assert_int_equal(n, ex->resp.raw.len);
        assert_memory_equal(got, resp, n);
        free(got);
        assert_int_equal(json_integer_value(at(e, "_hspy.request.wire_size")), rn);
        assert_int_equal(json_integer_value(at(e, "_hspy.response.wire_size")), sn);
        assert_int_equal(json_is_true(at(e, "_hspy.request.truncated")), round % 2);
        assert_int_equal(json_integer_value(at(e, "_hspy.response.head_offset")), 25);
        json_t *interim = at(e, "_hspy.response.interim");
        assert_int_equal(json_array_size(interim), 1);
        assert_int_equal(json_integer_value(at(json_array_get(interim, 0), "status")), 100);
        assert_int_equal(json_integer_value(at(e, "_hspy.response.body_offset")),
                         ex->resp.body_off);
        check_required(e);
        json_decref(e);
        exchange_free(ex);
    }
}

struct url_case {
    const char *req;
    const char *server; /* IP literal or NULL */
    const char *want;
};

static const struct url_case URLS[] = {
    {"GET /p?q=1 HTTP/1.1\\r\\nHost: a.example\\r\\n\\r\\n", NULL, "http://a.example/p?q=1"},
    {"GET http://b.example:81/x HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n", NULL,
     "http://b.example:81/x"},
    {"GET http://b.example HTTP/1.1\\r\\n\\r\\n", NULL, "http://b.example/"},
    {"GET /a b\\\"<>{}|\\\\^`\\xc3\\xa9 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL,
     "http://h/a%20b%22%3C%3E%7B%7D%7C%5C%5E%60%C3%A9"},
    {"GET /%41%zz%4 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, "http://h/%41%25zz%254"},
    {"GET /v6 HTTP/1.1\\r\\nHost: [::1]:8080\\r\\n\\r\\n", NULL, "http://[::1]:8080/v6"},
    {"GET /nohost HTTP/1.0\\r\\n\\r\\n", "192.0.2.7", "http://192.0.2.7:80/nohost"},
    {"GET /nohost HTTP/1.0\\r\\n\\r\\n", "2001:db8::1", "http://[2001:db8::1]:80/nohost"},
    {"GET /nohost HTTP/1.0\\r\\n\\r\\n", NULL, "http://unknown/nohost"},
    {"CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n", NULL,
     "http://example.com:443/"},
    {"OPTIONS * HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, "http://h/"},
    {"GET /x#frag HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, "http://h/x%23frag"},
    {"GET /\\x1b[2J HTTP/1.1\\r\\nHost: h\\x01\\r\\n\\r\\n", NULL, "http://h%01/%1B%5B2J"},
    /* A head that never finished (a head timeout, a capture ending in it): its target as far
     * as it arrived, the host of a whole Host line, else the server's address; about:blank
     * without a method and a target, or for bytes that are no request line. */
    {"GET /half?q=1 HTTP/1.1\\r\\nHost: a.example\\r\\nUser-Ag", "192.0.2.7",
     "http://a.example/half?q=1"},
    {"GET /half?q=1 HTTP/1.1\\r\\nHost: a.exam", "192.0.2.7", "http://192.0.2.7:80/half?q=1"},
    {"GET /half HTTP/1.1\\r\\nHost: a.example\\r\\n folded\\r\\n", "192.0.2.7",
     "http://192.0.2.7:80/half"},
    {"POST /cut-in-targ", "192.0.2.7", "http://192.0.2.7:80/cut-in-targ"},
    {"\\r\\nGET /after-crlf HTTP/1.1\\r\\n", "192.0.2.7", "http://192.0.2.7:80/after-crlf"},
    {"GET /a b", "192.0.2.7", "http://192.0.2.7:80/a"},
    {"GET http://b.example:81/p HT", NULL, "http://b.example:81/p"},
    {"CONNECT example.com:44", NULL, "http://example.com:44/"},
    {"OPTIONS * HTTP/1.1\\r\\n", NULL, "http://unknown/"},
    {"GET /\\x1b[2J", NULL, "http://unknown/%1B%5B2J"},
    {"GET ", "192.0.2.7", "about:blank"},
    {"GET", "192.0.2.7", "about:blank"},
    {"G(T /x HTTP/1.1\\r\\n", "192.0.2.7", "about:blank"},
    {"\\x16\\x03\\x01 \\x02\\x00", "192.0.2.7", "about:blank"},
};

static void test_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof URLS / sizeof URLS[0]; i++) {
        struct exchange *ex = tu_exchange_text(URLS[i].req, NULL, 0);
        if (URLS[i].server)
            endpoint_set(&ex->server, URLS[i].server, 80);
        struct dynbuf url;
        dynbuf_init(&url, 4096);
        har_url(&url, ex);
        if (strcmp(dynbuf_str(&url), URLS[i].want) != 0)
            fail_msg("case %zu: got %s want %s", i, dynbuf_str(&url), URLS[i].want);
        dynbuf_cleanup(&url);
        exchange_free(ex);
    }
}

static void test_no_response(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /x HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, 1);
    exchange_fail(ex, EX_UPSTREAM_FAIL, "upstream: Connection refused");
    json_t *e = entry_of(ex);
    check_required(e);
    assert_int_equal(json_integer_value(at(e, "response.status")), 0);
    assert_int_equal(json_integer_value(at(e, "response.headersSize")), -1);
    assert_int_equal(json_integer_value(at(e, "response.bodySize")), -1);
    assert_string_equal(sat(e, "response._error"), "upstream: Connection refused");
    assert_string_equal(sat(e, "_hspy.error"), "upstream: Connection refused");
    assert_true(json_is_null(at(e, "_hspy.response")));
    assert_true(nat(e, "timings.wait") == -1);
    assert_true(nat(e, "timings.receive") == -1);
    json_t *flags = at(e, "_hspy.flags");
    assert_string_equal(json_string_value(json_array_get(flags, 0)), "done");
    assert_string_equal(json_string_value(json_array_get(flags, 1)), "upstream-fail");
    json_decref(e);
    exchange_free(ex);
}

/* A request head that never finished: method and URL as far as they arrived (the host of its
 * whole Host line), the query's pairs, the sizes unknown; the record keeps the bytes for the
 * way back. */
static void test_unfinished_request_head(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("PUT /up/load?x=1&y=%41+b HTTP/1.1\\r\\nHost: h\\r\\nContent-Le",
                         "HTTP/1.1 408 Request Timeout\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    endpoint_set(&ex->server, "192.0.2.7", 8080);
    assert_false(ex->req.flags & MSG_HEAD);
    json_t *e = entry_of(ex);
    check_required(e);
    assert_string_equal(sat(e, "request.method"), "PUT");
    assert_string_equal(sat(e, "request.url"), "http://h/up/load?x=1&y=%41+b");
    json_t *q = at(e, "request.queryString");
    assert_int_equal(json_array_size(q), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "name")), "x");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "value")), "1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 1), "name")), "y");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 1), "value")), "A+b");
    assert_int_equal(json_integer_value(at(e, "request.headersSize")), -1);
    assert_int_equal(json_integer_value(at(e, "response.status")), 408);
    json_decref(e);
    exchange_free(ex);
}

static void test_response_without_request(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text(NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nhi", 1);
    json_t *e = entry_of(ex);
    check_required(e);
    assert_string_equal(sat(e, "request.url"), "about:blank");
    assert_string_equal(sat(e, "request.method"), "");
    assert_int_equal(json_integer_value(at(e, "request.headersSize")), -1);
    assert_string_equal(sat(e, "response.content.text"), "hi");
    assert_true(json_is_null(at(e, "_hspy.request")));
    json_decref(e);
    exchange_free(ex);
}

/* An HTTP/0.9 response has no head: its bytes are the content, the version says 0.9. */
static void test_http09_response(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /old\\r\\n", "hello world", 1);
    json_t *e = entry_of(ex);
    check_required(e);
    assert_int_equal(json_integer_value(at(e, "response.status")), 0);
    assert_string_equal(sat(e, "response.httpVersion"), "HTTP/0.9");
    assert_string_equal(sat(e, "response.content.text"), "hello world");
    assert_int_equal(json_integer_value(at(e, "response.content.size")), 11);
    assert_int_equal(json_integer_value(at(e, "response.headersSize")), 0);
    assert_int_equal(json_integer_value(at(e, "response.bodySize")), 11);
    /* Its body runs to the close: the record says so, as --json does. */
    assert_string_equal(sat(e, "_hspy.response.body_framing"), "close");
    assert_string_equal(sat(e, "_hspy.request.body_framing"), "none");
    json_decref(e);
    exchange_free(ex);
}

/*
 * postData of bodies with and without a Content-Type: mimeType always (the header as sent, ""
 * without one), params for forms. Expected params are "name=value" for a field and
 * "name@fileName:contentType" for a file, joined by '|'; NULL when there is no params member.
 */
#define MP         "multipart/form-data; boundary=XyZ"
#define PART(h, v) "--XyZ\\r\\nContent-Disposition: form-data; " h "\\r\\n\\r\\n" v "\\r\\n"
static const struct post_case {
    const char *name;
    const char *ctype; /* NULL: no Content-Type */
    const char *body;  /* C-escaped (tu_exchange_text) */
    const char *params;
} POSTS[] = {
    {"no type", NULL, "a=1&b=2", NULL},
    {"json", "application/json", "{}", NULL},
    {"urlencoded", "application/x-www-form-urlencoded", "a=1&b+c=2%263&&d&=e;f=g",
     "a=1|b c=2&3|d=|=e;f=g"},
    {"urlencoded, charset", "Application/X-WWW-Form-Urlencoded ; charset=UTF-8", "x=%C3%A9",
     "x=\xc3\xa9"},
    {"urlencoded, empty", "application/x-www-form-urlencoded", "&", ""},
    {"urlencoded after a byte order mark", "application/x-www-form-urlencoded",
     "\\xef\\xbb\\xbf"
     "a=1&%EF%BB%BFb=2",
     "a=1|\xef\xbb\xbf"
     "b=2"},
    {"not a form type", "application/x-www-form-urlencodedX", "a=1", NULL},
    {"multipart", MP,
     PART("name=\"a\"", "1") PART("name=\"f\"; filename=\"f.bin\"\\r\\nContent-Type: "
                                  "application/octet-stream",
                                  "\\x00\\xff")
         PART("name=\"g\"; filename=\"\"", "") "--XyZ--\\r\\n",
     "a=1|f@f.bin:application/octet-stream|g@:"},
    {"multipart, cut short", MP, PART("name=\"a\"", "1") "--XyZ\\r\\nContent-Disposition: form-da",
     "a=1"},
    {"multipart without boundary", "multipart/form-data", "--XyZ--\\r\\n", NULL},
    {"multipart, mixed", "multipart/mixed; boundary=XyZ", "--XyZ--\\r\\n", NULL},
};

/* The params array in the expected notation. */
static void params_text(json_t *params, char *out, size_t outlen)
{
    size_t o = 0, i;
    json_t *p;
    out[0] = '\0';
    json_array_foreach(params, i, p)
    {
        json_t *file = json_object_get(p, "fileName");
        json_t *type = json_object_get(p, "contentType");
        if (file) {
            assert_null(json_object_get(p, "value"));
            o += (size_t)snprintf(out + o, outlen - o, "%s%s@%s:%s", i ? "|" : "", sat(p, "name"),
                                  json_string_value(file), type ? json_string_value(type) : "");
        } else {
            o += (size_t)snprintf(out + o, outlen - o, "%s%s=%s", i ? "|" : "", sat(p, "name"),
                                  sat(p, "value"));
        }
        assert_true(o < outlen);
    }
}

static void test_post_data(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof POSTS / sizeof POSTS[0]; i++) {
        const struct post_case *c = &POSTS[i];
        char req[2048], got[512];
        size_t blen;
        free(tu_unescape(c->body, &blen));
        snprintf(req, sizeof req,
                 "POST /p HTTP/1.1\\r\\nHost: h\\r\\n%s%s%sTransfer-Encoding: "
                 "chunked\\r\\n\\r\\n%zx\\r\\n%s\\r\\n0\\r\\n\\r\\n",
                 c->ctype ? "Content-Type: " : "", c->ctype ? c->ctype : "",
                 c->ctype ? "\\r\\n" : "", blen, c->body);
        struct exchange *ex =
            tu_exchange_text(req, "HTTP/1.1 204 No Content\\r\\n\\r\\n", 1700000000000000000);
        json_t *e = entry_of(ex);
        json_t *post = at(e, "request.postData");
        assert_string_equal(sat(post, "mimeType"), c->ctype ? c->ctype : "");
        json_t *params = json_object_get(post, "params");
        if (!c->params) {
            if (params)
                fail_msg("%s: params where none were expected", c->name);
        } else {
            if (!json_is_array(params))
                fail_msg("%s: no params", c->name);
            params_text(params, got, sizeof got);
            if (strcmp(got, c->params) != 0)
                fail_msg("%s: params %s, expected %s", c->name, got, c->params);
        }
        /* The payload itself is always there, whole. */
        assert_true(json_is_string(at(post, "text")));
        json_decref(e);
        exchange_free(ex);
    }
}

/* A streamed document is the same document har_document builds. */
static void test_stream_equals_document(void **state)
{
    (void)state;
    struct exchange *ex[3] = {
        tu_exchange_text("GET /1 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                         "HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\n\\r\\n1", 10),
        tu_exchange_text("GET /2 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, 20),
        tu_exchange_text("BREW /3 HTCPCP/1.0\\r\\n\\r\\n", "HTTP/1.1 418 I'm a teapot\\r\\n\\r\\n",
                         30),
    };
    json_t *pages = json_array();
    json_array_append_new(pages, har_page("hspy", "read x.pcap", 1700000000000000000));
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    assert_int_equal(har_stream_begin(&text, pages), 0);
    /* Even with no entry the stream closes into a valid document. */
    struct dynbuf empty;
    dynbuf_init(&empty, 1 << 20);
    dynbuf_append(&empty, text.data, text.len);
    dynbuf_adds(&empty, HAR_STREAM_END);
    json_t *e0 = json_loadb((const char *)empty.data, empty.len, 0, NULL);
    assert_non_null(e0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(e0, "log"), "entries")), 0);
    json_decref(e0);
    dynbuf_cleanup(&empty);
    json_t *entries = json_array();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(har_stream_entry(&text, ex[i], &CFG, i == 0), 0);
        json_array_append_new(entries, har_entry(ex[i], &CFG));
    }
    dynbuf_adds(&text, HAR_STREAM_END);
    json_error_t err;
    json_t *streamed = json_loadb((const char *)text.data, text.len, 0, &err);
    if (!streamed)
        fail_msg("stream does not parse: %s", err.text);
    json_t *doc = har_document(json_incref(pages), entries);
    /* Reals went through text in the stream: compare after the same trip for the document. */
    char *doc_text = json_dumps(doc, HAR_DUMP_FLAGS);
    json_t *doc_back = json_loads(doc_text, 0, NULL);
    assert_true(json_equal(streamed, doc_back));
    assert_string_equal(sat(streamed, "log.version"), "1.2");
    assert_string_equal(sat(streamed, "log.creator.name"), "hspy");
    assert_int_equal(json_integer_value(at(streamed, "log._hspy.version")), HAR_HSPY_VERSION);
    json_t *page = json_array_get(at(streamed, "log.pages"), 0);
    assert_string_equal(sat(page, "title"), "read x.pcap");
    assert_string_equal(sat(page, "startedDateTime"), "2023-11-14T22:13:20.000Z");
    free(doc_text);
    json_decref(doc_back);
    json_decref(doc);
    json_decref(streamed);
    json_decref(pages);
    dynbuf_cleanup(&text);
    for (int i = 0; i < 3; i++)
        exchange_free(ex[i]);
}

struct cookie_case {
    const char *set_cookie;
    const char *name, *value, *expires; /* expires NULL: absent */
};

static const struct cookie_case COOKIES[] = {
    {"a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "a", "1", "2015-10-21T07:28:00.000Z"},
    {"b=2; expires=Thursday, 01-Jan-70 00:00:01 GMT", "b", "2", "1970-01-01T00:00:01.000Z"},
    {"c=; Expires=Sun Nov  6 08:49:37 1994", "c", "", "1994-11-06T08:49:37.000Z"},
    {"d=4; Expires=garbage", "d", "4", NULL},
    /* past 2262, where nanoseconds in 64 bits end: still the date sent */
    {"g=7; Expires=Fri, 31 Dec 9999 23:59:59 GMT", "g", "7", "9999-12-31T23:59:59.000Z"},
    {"h=8; Expires=Tue, 12 Apr 2262 00:00:00 GMT", "h", "8", "2262-04-12T00:00:00.000Z"},
    {"e=5; Expires=Wed, 31 Feb 2015 25:00:00 GMT", "e", "5", NULL},
    {"novalue", "novalue", "", NULL},
    {" f = x=y ; Path=/p", "f", "x=y", NULL},
};

static void test_set_cookie(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof COOKIES / sizeof COOKIES[0]; i++) {
        char resp[512];
        snprintf(resp, sizeof resp, "HTTP/1.1 204 No Content\\r\\nSet-Cookie: %s\\r\\n\\r\\n",
                 COOKIES[i].set_cookie);
        struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", resp, 0);
        json_t *e = entry_of(ex);
        json_t *c = json_array_get(at(e, "response.cookies"), 0);
        assert_non_null(c);
        assert_string_equal(sat(c, "name"), COOKIES[i].name);
        assert_string_equal(sat(c, "value"), COOKIES[i].value);
        json_t *exp = json_object_get(c, "expires");
        if (COOKIES[i].expires)
            assert_string_equal(json_string_value(exp), COOKIES[i].expires);
        else if (exp)
            fail_msg("case %zu: unexpected expires %s", i, json_string_value(exp));
        json_decref(e);
        exchange_free(ex);
    }
}

static void test_too_large(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, 0);
    struct dynbuf small;
    dynbuf_init(&small, 200);
    dynbuf_adds(&small, "x");
    assert_int_equal(har_stream_entry(&small, ex, &CFG, false), -1);
    assert_string_equal(dynbuf_str(&small), "x");
    assert_int_equal(har_stream_begin(&small, NULL), 0);
    dynbuf_cleanup(&small);
    dynbuf_init(&small, 10);
    assert_int_equal(har_stream_begin(&small, NULL), -1);
    assert_int_equal(small.len, 0);
    dynbuf_cleanup(&small);
    exchange_free(ex);
}

/* ---- the entry written as text against the entry built as a tree -------------------------- */

#define GZ                                                                                         \
    "\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x02\\x03\\x4b\\x4e\\x4c\\x3b\\xbc\\x52\\x21\\x23\\" \
    "x35\\x27\\x27\\x1f\\x99\\xe4\\x02\\x00\\x3f\\x19\\x41\\x25\\x18\\x00\\x00\\x00"

static const struct entry_case {
    const char *name;
    const char *req, *resp; /* C-escaped (tu_exchange_text) */
    uint32_t ex_flags;
    const char *error;
    bool proxy; /* upstream phases with sub-millisecond times */
} ENTRIES[] = {
    {"simple", "GET /a?b=1&c=%41%zz&&d&=e#f HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello", 0,
     NULL, false},
    {"cookies",
     "GET / HTTP/1.1\\r\\nCookie: a=1; b = two ;; c; =x\\r\\nCookie: d=\\xff\\r\\n\\r\\n",
     "HTTP/1.1 302 Found\\r\\nLocation: /n\\r\\n"
     "Set-Cookie: s=1; Path=/; Domain=x; path=/b; HttpOnly; Expires=Wed, 21 Oct 2037 07:28:00 "
     "GMT; expires=bad; Expires=Thu, 22 Oct 2037 07:28:00 GMT\\r\\n"
     "Set-Cookie: t=2; secure; Secure; Max-Age=1\\r\\nset-cookie: u\\r\\n"
     "Set-Cookie: v=3; expires=nope; domain=a; DOMAIN=b\\r\\nContent-Length: 0\\r\\n\\r\\n",
     0, NULL, true},
    {"binary post",
     "POST /u HTTP/1.1\\r\\nContent-Type: application/x\\r\\nContent-Length: "
     "6\\r\\n\\r\\n\\x00\\x01\\xff\\xfe\\x80\\x7f",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\n\\r\\n\\x89PNG", 0, NULL, false},
    {"text post, chunked",
     "PUT /j HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
     "4\\r\\n{\"a\"\\r\\n3;x=y\\r\\n:1}\\r\\n0\\r\\nT: 1\\r\\n\\r\\n",
     "HTTP/1.1 201 Created\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nab\\xc3\\r\\n"
     "2\\r\\n\\xa9\\x01\\r\\n0\\r\\n\\r\\n",
     0, NULL, true},
    {"not UTF-8 in the head",
     "G\\xe9T /caf\\xe9?q=\\xff HTTP/1.1\\r\\nX-\\xff: caf\\xe9\\r\\n\\r\\n",
     "HTTP/1.1 200 \\xff\\xfe\\r\\nContent-Length: 0\\r\\n\\r\\n", 0, NULL, false},
    {"control bytes", "GET / HTTP/1.1\\r\\nX-Esc: \\x1b]0;t\\x07\\r\\nX-Del: a\\x7fb\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\n\\r\\n\\x1b[2J\\x00\\t\\x7f\\n", 0, NULL, false},
    {"warnings",
     "POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
     "0\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\nab", 0, NULL, false},
    {"gzip", "GET / HTTP/1.1\\r\\nAccept-Encoding: gzip\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nContent-Length: 34\\r\\n\\r\\n" GZ, 0, NULL,
     true},
    {"gzip, broken", "GET / HTTP/1.1\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip, br\\r\\nContent-Length: "
     "4\\r\\n\\r\\n\\x1f\\x8bxx",
     0, NULL, false},
    {"interim", "PUT /x HTTP/1.1\\r\\nExpect: 100-continue\\r\\nContent-Length: 2\\r\\n\\r\\nok",
     "HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 103 Early Hints\\r\\nLink: </s.css>\\r\\n\\r\\n"
     "HTTP/1.1 201 Created\\r\\nContent-Length: 0\\r\\n\\r\\n",
     0, NULL, false},
    {"tunnel", "CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n",
     "HTTP/1.1 200 Connection established\\r\\n\\r\\n", EX_TUNNEL, NULL, true},
    {"absolute form", "GET http://Ex.com:8080?x=%E2%98%83 HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n",
     "HTTP/1.0 404 Not Found\\r\\n\\r\\ngone", 0, NULL, true},
    {"HEAD", "HEAD /h HTTP/1.1\\r\\nHost: [::1]:8\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 1000\\r\\n\\r\\n", 0, NULL, false},
    {"incomplete", "GET /x HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL,
     EX_INCOMPLETE | EX_UPSTREAM_FAIL, "refused \x1b[31m \xff", true},
    {"no request", NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\n\\r\\nx", EX_NO_REQUEST, NULL,
     false},
    {"replay", "GET / HTTP/1.1\\r\\n\\r\\n", "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n",
     EX_REPLAY, NULL, false},
    {"unparsed", "\\x16\\x03\\x01\\xff\\xfe\\x00", "\\x15\\x03", 0, NULL, false},
    {"http09", "GET /old\\r\\n", "<p>\\xff\\x00</p>", 0, NULL, false},
    {"form",
     "POST /f HTTP/1.1\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n"
     "Content-Length: 13\\r\\n\\r\\na=1&b+c=%FF&d",
     "HTTP/1.1 204 No Content\\r\\n\\r\\n", 0, NULL, false},
    {"multipart upload",
     "POST /u HTTP/1.1\\r\\nContent-Type: " MP
     "\\r\\nContent-Length: 150\\r\\n\\r\\n" PART("name=\"a\"", "\\xe9")
         PART("name=\"f\"; filename=\"x\"\\r\\nContent-Type: a/b", "\\x00") "--XyZ--\\r\\n",
     "HTTP/1.1 204 No Content\\r\\n\\r\\n", 0, NULL, false},
};

/* Phase times that make HAR's millisecond reals show their digits. */
static void proxy_phases(struct exchange *ex, int64_t t0)
{
    static const int64_t AT[T__COUNT] = {0,       1234,    987654,  1000001,  2333333,
                                         2999999, 7654321, 7654322, 123456789};
    for (int i = 0; i < T__COUNT; i++)
        ex->t[i] = t0 + AT[i];
}

/*
 * Checks that har_stream_entry's text for ex is, byte for byte, what the entry built as a tree
 * gives when dumped (by jsonwrite, as streamed entries were written from trees, and by jansson
 * itself): so no member is written twice, none is missing, and every value is written alike.
 */
static void check_entry(const char *name, const struct exchange *ex, const struct har_config *cfg)
{
    struct dynbuf text, via;
    dynbuf_init(&text, 64 << 20);
    dynbuf_init(&via, 64 << 20);
    assert_int_equal(har_stream_entry(&text, ex, cfg, true), 0);
    json_t *tree = har_entry(ex, cfg);
    assert_int_equal(jsonwrite_value(&via, tree, HAR_REAL_PRECISION), 0);
    if (text.len != via.len + 1 || memcmp(text.data + 1, via.data, via.len) != 0)
        fail_msg("%s: text differs from the tree's:\n text %s\n tree %s", name,
                 dynbuf_str(&text) + 1, dynbuf_str(&via));
    char *dumped = tu_jansson_text(tree, JSON_REAL_PRECISION(HAR_REAL_PRECISION));
    if (strcmp(dumped, dynbuf_str(&via)) != 0)
        fail_msg("%s: jansson dumps the tree as\n %s", name, dumped);
    json_t *back = json_loadb((const char *)text.data, text.len, JSON_ALLOW_NUL, NULL);
    assert_non_null(back);
    assert_int_equal(json_object_size(back), json_object_size(tree));
    free(dumped);
    json_decref(back);
    json_decref(tree);
    dynbuf_cleanup(&via);
    dynbuf_cleanup(&text);
}

static void test_entry_text_equals_tree(void **state)
{
    (void)state;
    /* Bytes kept per message (0: all) and the decoded-body cap of response.content. */
    static const size_t kept[] = {0, 1, 7, 16, 40};
    static const size_t decode_max[] = {1 << 20, 0, 1, 5, 17};
    static const char *const pageref[] = {"hspy", NULL, "p\xff\x1b"};
    size_t checked = 0;
    for (size_t i = 0; i < sizeof ENTRIES / sizeof ENTRIES[0]; i++) {
        const struct entry_case *c = &ENTRIES[i];
        for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++) {
            int64_t t0 = i % 3 ? 1700000000123456789 : 0;
            struct exchange *ex;
            if (kept[k]) {
                size_t rn = 0, sn = 0;
                uint8_t *req = c->req ? tu_unescape(c->req, &rn) : NULL;
                uint8_t *resp = c->resp ? tu_unescape(c->resp, &sn) : NULL;
                struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, kept[k]};
                ex = tu_exchange(req, rn, resp, sn, &exl, &LIMITS, t0);
                free(req);
                free(resp);
            } else {
                ex = tu_exchange_text(c->req, c->resp, t0);
            }
            ex->flags |= c->ex_flags;
            if (c->error)
                exchange_fail(ex, c->ex_flags, "%s", c->error);
            if (c->ex_flags & EX_REPLAY)
                ex->replay_of = 42, ex->note = "rule: \xe2\x80\xae webhook";
            if (c->ex_flags & EX_TUNNEL)
                ex->tunnel_bytes[SIDE_CLIENT] = 517, ex->tunnel_bytes[SIDE_SERVER] = 1 << 20;
            if (c->proxy)
                proxy_phases(ex, 1700000000000000000 + (int64_t)k * 999);
            ex->id = i + 1, ex->conn_id = i % 2 ? 0 : 7 + i, ex->conn_seq = (uint32_t)k;
            endpoint_set(&ex->client, "::1", 50000);
            if (i % 2)
                endpoint_set(&ex->server, "127.0.0.1", 80);
            for (size_t d = 0; d < sizeof decode_max / sizeof decode_max[0]; d++) {
                struct har_config cfg = {&LIMITS, decode_max[d], pageref[(i + d) % 3]};
                check_entry(c->name, ex, &cfg);
                checked++;
            }
            exchange_free(ex);
        }
    }
    assert_int_equal(checked, 25 * (sizeof ENTRIES / sizeof ENTRIES[0]));
}

/* A repeated attribute keeps the place of its first valid occurrence and the last value. */
static void test_set_cookie_repeated_attributes(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(ENTRIES[1].req, ENTRIES[1].resp, 0);
    struct dynbuf text;
    dynbuf_init(&text, 1 << 20);
    assert_int_equal(har_stream_entry(&text, ex, &CFG, true), 0);
    static const char *const want[] = {
        ("{\"name\":\"s\",\"value\":\"1\",\"httpOnly\":true,\"secure\":false,\"path\":\"/b\","
         "\"domain\":\"x\",\"expires\":\"2037-10-22T07:28:00.000Z\"}"),
        "{\"name\":\"t\",\"value\":\"2\",\"httpOnly\":false,\"secure\":true}",
        "{\"name\":\"u\",\"value\":\"\",\"httpOnly\":false,\"secure\":false}",
        "{\"name\":\"v\",\"value\":\"3\",\"httpOnly\":false,\"secure\":false,\"domain\":\"b\"}",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(dynbuf_str(&text), want[i]))
            fail_msg("cookie %zu is not %s in\n%s", i, want[i], dynbuf_str(&text));
    dynbuf_cleanup(&text);
    exchange_free(ex);
}

/* One real written by jsonwrite at precision digits, as text. */
static void real_text(double v, int precision, struct dynbuf *out)
{
    dynbuf_reset(out);
    struct jsonwrite w;
    jsonwrite_init_text(&w, out, precision);
    jsonwrite_real(&w, v);
    assert_int_equal(jsonwrite_finish(&w), 0);
}

/*
 * HAR's times (whole thousandths of a millisecond) are written by a short path; every real must
 * still read exactly as jansson writes it, at HAR's precision and at others.
 */
static void test_reals_as_jansson_writes_them(void **state)
{
    (void)state;
    static const int precisions[] = {HAR_REAL_PRECISION, 17, 10, 3};
    static const double odd[] = {0.0,    -0.0,       0.1 + 0.2,        1e-5,   123.4567, -1.5,
                                 1e15,   1e14 + 0.5, 999999999999.999, 0.0005, 2.675,    1e300,
                                 5e-324, 0.001};
    struct dynbuf out;
    dynbuf_init(&out, 1 << 10);
    uint64_t x = 88172645463325252ull;
    for (size_t p = 0; p < sizeof precisions / sizeof precisions[0]; p++) {
        for (uint64_t i = 0; i < 60000 + sizeof odd / sizeof odd[0]; i++) {
            double v;
            if (i < 40000) {
                v = (double)i / 1000.0;
            } else if (i < 60000) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: thousandths up to 1e15 */
                v = (double)(x % 1000000000000000000ull >> (i % 50)) / 1000.0;
            } else {
                v = odd[i - 60000];
            }
            real_text(v, precisions[p], &out);
            json_t *r = json_real(v);
            char *want = tu_jansson_text(r, JSON_ENCODE_ANY | JSON_REAL_PRECISION(precisions[p]));
            if (strcmp(dynbuf_str(&out), want) != 0)
                fail_msg("%.17g at %d digits: %s, jansson %s", v, precisions[p], dynbuf_str(&out),
                         want);
            free(want);
            json_decref(r);
        }
    }
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_fields),
        cmocka_unit_test(test_proxy_timings),
        cmocka_unit_test(test_binary_bodies_base64),
        cmocka_unit_test(test_raw_bit_exact),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_no_response),
        cmocka_unit_test(test_unfinished_request_head),
        cmocka_unit_test(test_response_without_request),
        cmocka_unit_test(test_http09_response),
        cmocka_unit_test(test_post_data),
        cmocka_unit_test(test_stream_equals_document),
        cmocka_unit_test(test_set_cookie),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_entry_text_equals_tree),
        cmocka_unit_test(test_set_cookie_repeated_attributes),
        cmocka_unit_test(test_reals_as_jansson_writes_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
