/*
 * jsonout: the --json record. Exchanges built by hand (parsed with the real head parser and
 * framing), serialised, parsed back with jansson and checked field by field: schema version,
 * headers in order and as sent, text and base64 bodies, chunked bodies de-framed, interim
 * responses, warnings, flags, timings with every phase, endpoints, truncation, and output that
 * is pure printable ASCII whatever the traffic held.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hspy/base64.h"
#include "hspy/jsonout.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct jsonout_config CFG = {&LIMITS, 1 << 20, SIZE_MAX};

/* Serialises ex as a line, checks the line, parses it back. Caller json_decref()s. */
static json_t *roundtrip(const struct exchange *ex)
{
    struct dynbuf line;
    dynbuf_init(&line, 64 << 20);
    assert_int_equal(jsonout_line(&line, ex, &CFG), 0);
    assert_true(line.len > 0 && line.data[line.len - 1] == '\n');
    for (size_t i = 0; i + 1 < line.len; i++)
        if (line.data[i] < 0x20 || line.data[i] > 0x7e)
            fail_msg("byte 0x%02x at %zu of the JSON line", line.data[i], i);
    json_error_t err;
    json_t *v = json_loadb((const char *)line.data, line.len, JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("JSON does not parse: %s at %d", err.text, err.position);
    /* The object built directly equals the one read back. */
    json_t *direct = jsonout_exchange(ex, &CFG);
    assert_true(json_equal(direct, v));
    json_decref(direct);
    dynbuf_cleanup(&line);
    return v;
}

static const char *sget(const json_t *o, const char *path)
{
    const json_t *v = o;
    char key[64];
    for (const char *p = path; v && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    return json_string_value(v);
}

static json_int_t iget(const json_t *o, const char *path)
{
    const json_t *v = o;
    char key[64];
    for (const char *p = path; v && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", path);
    return json_integer_value(v);
}

static bool has_flag(const json_t *flags, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(flags, i, f) if (strcmp(json_string_value(f), name) == 0) return true;
    return false;
}

static void test_simple_exchange(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(
        "GET /a?b=1 HTTP/1.1\\r\\nHost: example.com\\r\\nX-Dup: 1\\r\\n"
        "x-dup:  two  \\r\\n\\r\\n",
        "HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhello", 1700000000000000000);
    ex->id = 7, ex->conn_id = 3, ex->conn_seq = 2;
    endpoint_set(&ex->client, "127.0.0.1", 50000);
    endpoint_set(&ex->server, "::1", 8000);
    json_t *v = roundtrip(ex);
    assert_int_equal(iget(v, "hspy_json"), JSONOUT_VERSION);
    assert_int_equal(iget(v, "id"), 7);
    assert_int_equal(iget(v, "connection"), 3);
    assert_int_equal(iget(v, "seq"), 2);
    assert_string_equal(sget(v, "client.ip"), "127.0.0.1");
    assert_int_equal(iget(v, "client.port"), 50000);
    assert_string_equal(sget(v, "server.ip"), "::1");
    assert_string_equal(sget(v, "request.method"), "GET");
    assert_string_equal(sget(v, "request.target"), "/a?b=1");
    assert_string_equal(sget(v, "request.version"), "HTTP/1.1");
    json_t *h = json_object_get(json_object_get(v, "request"), "headers");
    assert_int_equal(json_array_size(h), 3);
    /* order, case and duplicates as sent; values without surrounding whitespace */
    const char *want[3][2] = {{"Host", "example.com"}, {"X-Dup", "1"}, {"x-dup", "two"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *pair = json_array_get(h, i);
        assert_int_equal(json_array_size(pair), 2);
        assert_string_equal(json_string_value(json_array_get(pair, 0)), want[i][0]);
        assert_string_equal(json_string_value(json_array_get(pair, 1)), want[i][1]);
    }
    assert_int_equal(iget(v, "response.status"), 200);
    assert_string_equal(sget(v, "response.reason"), "OK");
    assert_string_equal(sget(v, "response.body"), "hello");
    assert_string_equal(sget(v, "response.body_encoding"), "utf-8");
    assert_int_equal(iget(v, "response.body_size"), 5);
    assert_string_equal(sget(v, "response.body_framing"), "length");
    assert_false(json_is_true(json_object_get(json_object_get(v, "response"), "body_truncated")));
    assert_string_equal(sget(v, "request.body"), "");
    assert_string_equal(sget(v, "started"), "2023-11-14T22:13:20.001000000Z");
    assert_int_equal(iget(v, "started_ns"), 1700000000001000000);
    assert_int_equal(iget(v, "duration_ns"), 5000000);
    json_t *t = json_object_get(v, "timings");
    assert_int_equal(json_object_size(t), T__COUNT);
    for (int i = 0; i < T__COUNT; i++)
        assert_non_null(json_object_get(t, exchange_time_name((enum exchange_time)i)));
    assert_int_equal(iget(t, "request_first_byte"), 0);
    assert_int_equal(iget(t, "response_last_byte"), 5000000);
    assert_true(json_is_null(json_object_get(t, "upstream_connect")));
    assert_true(has_flag(json_object_get(v, "flags"), "done"));
    assert_int_equal(json_array_size(json_object_get(v, "warnings")), 0);
    assert_true(json_is_null(json_object_get(v, "error")));
    assert_true(json_is_null(json_object_get(v, "tunnel")));
    json_decref(v);
    exchange_free(ex);
}

static void test_binary_body_base64(void **state)
{
    (void)state;
    uint8_t body[256];
    for (int i = 0; i < 256; i++)
        body[i] = (uint8_t)i;
    char head[] = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 256\r\n\r\n";
    uint8_t req[sizeof head - 1 + 256];
    memcpy(req, head, sizeof head - 1);
    memcpy(req + sizeof head - 1, body, 256);
    struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    struct exchange *ex = tu_exchange(req, sizeof req, NULL, 0, &exl, &LIMITS, 0);
    json_t *v = roundtrip(ex);
    assert_string_equal(sget(v, "request.body_encoding"), "base64");
    const char *b64 = sget(v, "request.body");
    struct dynbuf back;
    dynbuf_init(&back, 1024);
    assert_int_equal(base64_decode(&back, b64, strlen(b64)), 0);
    assert_int_equal(back.len, 256);
    assert_memory_equal(back.data, body, 256);
    assert_true(json_is_null(json_object_get(v, "response")));
    assert_true(json_is_null(json_object_get(v, "started")));
    assert_true(json_is_null(json_object_get(v, "duration_ns")));
    dynbuf_cleanup(&back);
    json_decref(v);
    exchange_free(ex);
}

static void test_chunked_and_interim(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("PUT /x HTTP/1.1\\r\\nHost: h\\r\\nExpect: "
                         "100-continue\\r\\nContent-Length: 2\\r\\n\\r\\nok",
                         "HTTP/1.1 100 Continue\\r\\nX-Hint: a\\r\\n\\r\\n"
                         "HTTP/1.1 201 Created\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                         "3\\r\\nabc\\r\\n4;ext=1\\r\\ndefg\\r\\n0\\r\\nX-Trailer: t\\r\\n\\r\\n",
                         0);
    json_t *v = roundtrip(ex);
    assert_int_equal(iget(v, "response.status"), 201);
    assert_string_equal(sget(v, "response.body"), "abcdefg");
    assert_string_equal(sget(v, "response.body_framing"), "chunked");
    assert_int_equal(iget(v, "response.body_size"), 7);
    assert_int_equal(iget(v, "response.chunks"), 2);
    json_t *interim = json_object_get(json_object_get(v, "response"), "interim");
    assert_int_equal(json_array_size(interim), 1);
    json_t *i0 = json_array_get(interim, 0);
    assert_int_equal(iget(i0, "status"), 100);
    assert_string_equal(sget(i0, "reason"), "Continue");
    assert_string_equal(
        json_string_value(json_array_get(json_array_get(json_object_get(i0, "headers"), 0), 0)),
        "X-Hint");
    assert_string_equal(sget(v, "request.body"), "ok");
    json_decref(v);
    exchange_free(ex);
}

static void test_warnings_and_flags(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 3\\r\\n"
                         "Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
                         NULL, 0);
    exchange_fail(ex, EX_INCOMPLETE | EX_UPSTREAM_FAIL, "upstream: connection refused \x1b[31m");
    json_t *v = roundtrip(ex);
    json_t *w = json_object_get(v, "warnings");
    assert_true(json_array_size(w) >= 1);
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(w, i, e)
    {
        if (strcmp(sget(e, "code"), "cl-and-te") != 0)
            continue;
        found = true;
        assert_string_equal(sget(e, "side"), "request");
        assert_true(iget(e, "offset") > 0);
        assert_true(strlen(sget(e, "explanation")) > 0);
    }
    assert_true(found);
    json_t *flags = json_object_get(v, "flags");
    assert_true(has_flag(flags, "incomplete"));
    assert_true(has_flag(flags, "upstream-fail"));
    assert_true(has_flag(flags, "done"));
    assert_string_equal(sget(v, "error"), "upstream: connection refused \x1b[31m");
    json_decref(v);
    exchange_free(ex);
}

static void test_invalid_utf8_header(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\nX-Latin: caf\\xe9\\r\\n"
                         "X-Esc: \\x1b]0;title\\x07\\r\\nX-Del: a\\x7fb\\r\\n\\r\\n",
                         "HTTP/1.1 200 \\xff\\xfe\\r\\nContent-Length: 0\\r\\n\\r\\n", 0);
    json_t *v = roundtrip(ex);
    json_t *h = json_object_get(json_object_get(v, "request"), "headers");
    json_t *latin = json_array_get(json_array_get(h, 1), 1);
    assert_true(json_is_object(latin));
    const char *b64 = sget(latin, "base64");
    struct dynbuf back;
    dynbuf_init(&back, 64);
    base64_decode(&back, b64, strlen(b64));
    assert_int_equal(back.len, 4);
    assert_memory_equal(back.data, "caf\xe9", 4);
    /* Control characters are valid UTF-8: a string, escaped by JSON. */
    assert_string_equal(json_string_value(json_array_get(json_array_get(h, 2), 1)),
                        "\x1b]0;title\x07");
    /* DEL, which jansson would pass through raw, is escaped like the other controls. */
    assert_string_equal(json_string_value(json_array_get(json_array_get(h, 3), 1)), "a\x7f"
                                                                                    "b");
    json_t *reason = json_object_get(json_object_get(v, "response"), "reason");
    assert_true(json_is_object(reason));
    dynbuf_cleanup(&back);
    json_decref(v);
    exchange_free(ex);
}

static void test_truncated_and_tunnel(void **state)
{
    (void)state;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                               "0123456789012345678901234567890123456789";
    struct exchange_limits exl = {64, 10}; /* keeps the head and 10 body bytes */
    const char *req = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    struct exchange *ex = tu_exchange((const uint8_t *)req, strlen(req), (const uint8_t *)resp,
                                      strlen(resp), &exl, &LIMITS, 0);
    ex->flags |= EX_TUNNEL | EX_TRUNCATED;
    ex->tunnel_bytes[SIDE_CLIENT] = 517;
    ex->tunnel_bytes[SIDE_SERVER] = 4096;
    json_t *v = roundtrip(ex);
    assert_int_equal(iget(v, "tunnel.client_bytes"), 517);
    assert_int_equal(iget(v, "tunnel.server_bytes"), 4096);
    json_t *r = json_object_get(v, "response");
    assert_int_equal(iget(r, "wire_size"), strlen(resp));
    assert_true(iget(r, "kept_size") < iget(r, "wire_size"));
    assert_true(has_flag(json_object_get(r, "flags"), "truncated"));
    assert_true(has_flag(json_object_get(v, "flags"), "tunnel"));
    json_decref(v);
    exchange_free(ex);
}

static void test_unparsed_message(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("\\x16\\x03\\x01\\x02\\x00\\x01", NULL, 0);
    json_t *v = roundtrip(ex);
    json_t *r = json_object_get(v, "request");
    assert_true(json_is_null(json_object_get(r, "method")));
    assert_string_equal(sget(r, "raw_encoding"), "utf-8");
    assert_int_equal(iget(r, "wire_size"), 6);
    json_decref(v);
    exchange_free(ex);
}

static void test_line_too_large(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, 0);
    struct dynbuf small;
    dynbuf_init(&small, 40);
    dynbuf_adds(&small, "keep");
    assert_int_equal(jsonout_line(&small, ex, &CFG), -1);
    assert_string_equal(dynbuf_str(&small), "keep");
    dynbuf_cleanup(&small);
    exchange_free(ex);
}

static void test_iso8601(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 0, 3), "1970-01-01T00:00:00.000Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 1700000000123456789, 3),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 1700000000123456789, 6),
                        "2023-11-14T22:13:20.123456Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 1700000000123456789, 9),
                        "2023-11-14T22:13:20.123456789Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 1700000000123456789, 0),
                        "2023-11-14T22:13:20Z");
    /* Leap days, century rules (2100 is not a leap year, 2000 is) and year ends. */
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 951782400LL * 1000000000, 0),
                        "2000-02-29T00:00:00Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 4107542399LL * 1000000000, 0),
                        "2100-02-28T23:59:59Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 4107542400LL * 1000000000, 0),
                        "2100-03-01T00:00:00Z");
    assert_string_equal(jsonout_iso8601(buf, sizeof buf, 1798761599LL * 1000000000, 0),
                        "2026-12-31T23:59:59Z");
    /* Every day (at a moving time of day) up to 2262 agrees with the C library. */
    for (int64_t secs = 0; secs < INT64_MAX / 1000000000 - 86400; secs += 86400 + 3607) {
        time_t t = (time_t)secs;
        struct tm tm;
        char want[40];
        gmtime_r(&t, &tm);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        assert_string_equal(jsonout_iso8601(buf, sizeof buf, secs * 1000000000, 0), want);
    }
}

/* Hostile bytes everywhere: the line stays printable ASCII and parses (checked by roundtrip). */
static void test_hostile_bytes_everywhere(void **state)
{
    (void)state;
    uint8_t req[1024], resp[1024];
    uint64_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        size_t rn = 0, sn = 0;
        rn += (size_t)snprintf((char *)req, sizeof req, "GET /");
        for (int i = 0; i < 20; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint8_t c = (uint8_t)(seed >> 56);
            req[rn++] = c == '\n' || c == '\r' || c == ' ' ? 'x' : c;
        }
        rn += (size_t)snprintf((char *)req + rn, sizeof req - rn,
                               " HTTP/1.1\r\nHost: \x1b[2J\xc2\x9b\r\nX: ");
        for (int i = 0; i < 30; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint8_t c = (uint8_t)(seed >> 56);
            req[rn++] = c == '\n' || c == '\r' ? 'y' : c;
        }
        rn += (size_t)snprintf((char *)req + rn, sizeof req - rn, "\r\n\r\n");
        sn += (size_t)snprintf((char *)resp, sizeof resp,
                               "HTTP/1.1 200 \xe2\x80\xae\r\nContent-Length: 64\r\n\r\n");
        for (int i = 0; i < 64; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            resp[sn++] = (uint8_t)(seed >> 56);
        }
        struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
        struct exchange *ex = tu_exchange(req, rn, resp, sn, &exl, &LIMITS, 0);
        json_decref(roundtrip(ex));
        exchange_free(ex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_exchange),
        cmocka_unit_test(test_binary_body_base64),
        cmocka_unit_test(test_chunked_and_interim),
        cmocka_unit_test(test_warnings_and_flags),
        cmocka_unit_test(test_invalid_utf8_header),
        cmocka_unit_test(test_truncated_and_tunnel),
        cmocka_unit_test(test_unparsed_message),
        cmocka_unit_test(test_line_too_large),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_hostile_bytes_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
