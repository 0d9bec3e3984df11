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
#include "hspy/jsonwrite.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct jsonout_config CFG = {&LIMITS, 1 << 20, SIZE_MAX, NULL};

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
    /* The object built as a tree equals the one read back. */
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
    assert_int_equal(json_array_size(json_object_get(json_object_get(v, "response"), "trailers")),
                     0);
    json_decref(v);
    /* The trailer fields as the conversation keeps them (test_echo: whatever --body-keep). */
    static const char trailer[] = "X-Trailer: t\r\nX-Two:  2 \r\n";
    ex->resp.trailer = arena_memdup(&ex->arena, trailer, sizeof trailer - 1);
    ex->resp.trailer_len = sizeof trailer - 1;
    v = roundtrip(ex);
    char *t = json_dumps(json_object_get(json_object_get(v, "response"), "trailers"), JSON_COMPACT);
    assert_string_equal(t, "[[\"X-Trailer\",\"t\"],[\"X-Two\",\"2\"]]");
    free(t);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(v, "response"), "chunk_extensions")), 0);
    json_decref(v);
    /* The chunk extensions as the conversation keeps them (message.chunk_ext: the list's length
     * and the lines not kept, then the list); bytes that are not UTF-8 in base64. */
    static const char list[] = "2 4 ;ext=1\n3 0 ;\xe9\r\n";
    uint32_t head[2] = {sizeof list - 1, 5};
    uint8_t *ce = arena_alloc(&ex->arena, MESSAGE_CHUNK_EXT_HEAD + sizeof list - 1);
    memcpy(ce, head, sizeof head);
    memcpy(ce + MESSAGE_CHUNK_EXT_HEAD, list, sizeof list - 1);
    ex->resp.chunk_ext = ce;
    v = roundtrip(ex);
    t = json_dumps(json_object_get(json_object_get(v, "response"), "chunk_extensions"),
                   JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(t, "[{\"chunk\":2,\"size\":4,\"extensions\":\";ext=1\",\"cut\":false},"
                           "{\"chunk\":3,\"size\":0,\"extensions\":{\"base64\":\"O+k=\"},"
                           "\"cut\":true}]");
    free(t);
    assert_int_equal(iget(v, "response.chunk_extensions_unlisted"), 5);
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

/* request_line_seen: what arrived of the request line of a head never parsed (an exchange
 * answered 408 or 431), null when the head was parsed or no method and space arrived. */
static void test_request_line_seen(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        const char *seen; /* compact JSON */
    } cases[] = {
        {"GET /a HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", "null"},
        {"HEAD /slow HTTP/1.1\\r\\nHost: h\\r\\n",
         "{\"method\":\"HEAD\",\"target\":\"/slow\",\"whole\":true}"},
        {"POST /sl", "{\"method\":\"POST\",\"target\":\"/sl\",\"whole\":false}"},
        {"\\x16\\x03\\x01\\x02\\x00\\x01", "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct exchange *ex = tu_exchange_text(cases[i].req, NULL, 0);
        json_t *v = roundtrip(ex);
        json_t *r = json_object_get(v, "request");
        assert_true(json_is_null(json_object_get(r, "method")) == (i > 0));
        char *got = json_dumps(json_object_get(r, "request_line_seen"),
                               JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (strcmp(got, cases[i].seen) != 0)
            fail_msg("case %zu: %s, expected %s", i, got, cases[i].seen);
        free(got);
        json_decref(v);
        exchange_free(ex);
    }
}

/* An HTTP/0.9 response has no head: its bytes are its body, carried as any body is. */
static void test_http09_response(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /old\\r\\n", "hello world", 0);
    json_t *v = roundtrip(ex);
    json_t *r = json_object_get(v, "response");
    assert_true(json_is_null(json_object_get(r, "status")));
    assert_string_equal(sget(r, "body"), "hello world");
    assert_string_equal(sget(r, "body_encoding"), "utf-8");
    assert_false(json_is_true(json_object_get(r, "body_truncated")));
    assert_int_equal(iget(r, "body_size"), 11);
    assert_string_equal(sget(r, "body_framing"), "close");
    assert_true(has_flag(json_object_get(r, "flags"), "http09"));
    assert_string_equal(sget(r, "raw"), "hello world");
    json_decref(v);
    exchange_free(ex);
    /* Bytes that are not UTF-8 go as base64, as in any body. */
    ex = tu_exchange_text("GET /img\\r\\n", "\\x89PNG\\xff", 0);
    v = roundtrip(ex);
    r = json_object_get(v, "response");
    assert_string_equal(sget(r, "body"), "iVBOR/8=");
    assert_string_equal(sget(r, "body_encoding"), "base64");
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
    static const struct {
        int64_t ns;
        int digits;
        const char *want;
    } CASES[] = {
        {0, 3, "1970-01-01T00:00:00.000Z"},
        {1700000000123456789, 3, "2023-11-14T22:13:20.123Z"},
        {1700000000123456789, 6, "2023-11-14T22:13:20.123456Z"},
        {1700000000123456789, 9, "2023-11-14T22:13:20.123456789Z"},
        {1700000000123456789, 0, "2023-11-14T22:13:20Z"},
        {1700000000123456789, 1, "2023-11-14T22:13:20.1Z"},
        {1700000000123456789, 8, "2023-11-14T22:13:20.12345678Z"},
        {1700000000012345678, 5, "2023-11-14T22:13:20.01234Z"},
        /* Leap days, century rules (2100 is not a leap year, 2000 is) and year ends. */
        {951782400LL * 1000000000, 0, "2000-02-29T00:00:00Z"},
        {4107542399LL * 1000000000, 0, "2100-02-28T23:59:59Z"},
        {4107542400LL * 1000000000, 0, "2100-03-01T00:00:00Z"},
        {1798761599LL * 1000000000, 0, "2026-12-31T23:59:59Z"},
    };
    char buf[40];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        assert_string_equal(jsonout_iso8601(buf, sizeof buf, CASES[i].ns, CASES[i].digits),
                            CASES[i].want);
    /* Every day (at a moving time of day) up to 2262 agrees with the C library. */
    for (int64_t secs = 0; secs < INT64_MAX / 1000000000 - 86400; secs += 86400 + 3607) {
        time_t t = (time_t)secs;
        struct tm tm;
        char want[40];
        gmtime_r(&t, &tm);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        assert_string_equal(jsonout_iso8601(buf, sizeof buf, secs * 1000000000, 0), want);
        assert_string_equal(jsonout_iso8601_s(buf, sizeof buf, secs, 0), want);
    }
    /* whole seconds reach further: to the year 9999; before the epoch is the epoch, as for ns */
    assert_string_equal(jsonout_iso8601_s(buf, sizeof buf, 253402300799, 3),
                        "9999-12-31T23:59:59.000Z");
    assert_string_equal(jsonout_iso8601_s(buf, sizeof buf, -5, 0), "1970-01-01T00:00:00Z");
}

/* A clock kept between calls gives what a fresh conversion gives, whatever order times come in:
 * within a second, across seconds and days, backwards, and before the epoch (clamped). */
static void test_iso8601_clock(void **state)
{
    (void)state;
    static const int64_t TIMES[] = {
        1700000000123456789,
        1700000000999999999,
        1700000001000000000,
        1700000000000000001,
        1700086400500000000,
        0,
        -5,
        999999999,
        1000000000,
        1700000001000000000,
        1700000001000000000,
        4107542399999999999,
    };
    struct jsonout_clock clock;
    jsonout_clock_init(&clock);
    char got[40], want[40];
    for (int digits = 0; digits <= 9; digits += 3)
        for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++) {
            jsonout_iso8601(want, sizeof want, TIMES[i], digits);
            assert_string_equal(jsonout_iso8601_at(&clock, got, sizeof got, TIMES[i], digits),
                                want);
        }
    /* A short buffer is cut, NUL-terminated, as without a clock. */
    assert_string_equal(jsonout_iso8601_at(&clock, got, 11, TIMES[0], 3), "2023-11-14");
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

/* ---- the record written as text against the record built as a tree ----------------------- */

#define GZ                                                                                         \
    "\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x02\\x03\\x4b\\x4e\\x4c\\x3b\\xbc\\x52\\x21\\x23\\" \
    "x35\\x27\\x27\\x1f\\x99\\xe4\\x02\\x00\\x3f\\x19\\x41\\x25\\x18\\x00\\x00\\x00"
#define GZ_LEN "34"

static const struct record_case {
    const char *name;
    const char *req, *resp; /* C-escaped (tu_exchange_text) */
    uint32_t ex_flags;
    const char *error, *note;
    uint64_t replay_of;
    size_t kept; /* bytes kept per message; 0 = all */
} RECORDS[] = {
    {"simple", "GET /a?b=1 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhello", 0, NULL, NULL, 0, 0},
    {"binary body",
     "POST / HTTP/1.1\\r\\nContent-Length: 6\\r\\n\\r\\n\\x00\\x01\\xff\\xfe\\x80\\x7f",
     "HTTP/1.1 204 No Content\\r\\n\\r\\n", 0, NULL, NULL, 0, 0},
    {"not UTF-8 in the head", "G\\xe9T /caf\\xe9 HTTP/1.1\\r\\nX-\\xff: caf\\xe9\\r\\n\\r\\n",
     "HTTP/1.1 200 \\xff\\xfe\\r\\nContent-Length: 0\\r\\n\\r\\n", 0, NULL, NULL, 0, 0},
    {"control bytes", "GET / HTTP/1.1\\r\\nX-Esc: \\x1b]0;t\\x07\\r\\nX-Del: a\\x7fb\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\n\\r\\n\\x1b[2J\\x00\\t\\x7f\\n", 0, NULL, NULL, 0,
     0},
    {"warnings",
     "POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
     "0\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\nab", 0, NULL, NULL,
     0, 0},
    {"incomplete", "GET /x HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL,
     EX_INCOMPLETE | EX_UPSTREAM_FAIL, "refused \x1b[31m \xff", NULL, 0, 0},
    {"no request", NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\n\\r\\nx", EX_NO_REQUEST, NULL,
     NULL, 0, 0},
    {"tunnel", "CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n",
     "HTTP/1.1 200 Connection established\\r\\n\\r\\n", EX_TUNNEL, NULL, NULL, 0, 0},
    {"interim", "PUT /x HTTP/1.1\\r\\nExpect: 100-continue\\r\\nContent-Length: 2\\r\\n\\r\\nok",
     "HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 103 Early Hints\\r\\nLink: </s.css>\\r\\n\\r\\n"
     "HTTP/1.1 201 Created\\r\\nContent-Length: 0\\r\\n\\r\\n",
     0, NULL, NULL, 0, 0},
    {"chunked", "GET / HTTP/1.1\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nab\\xc3\\r\\n"
     "5;x=1\\r\\n\\xa9\\xe6\\x97\\xa5z\\r\\n7\\r\\n0123456\\r\\n0\\r\\nT: 1\\r\\n\\r\\n",
     0, NULL, NULL, 0, 0},
    {"chunked, cut", "GET / HTTP/1.1\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n9\\r\\n0123",
     EX_INCOMPLETE, NULL, NULL, 0, 0},
    {"gzip", "GET / HTTP/1.1\\r\\nAccept-Encoding: gzip\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nContent-Length: " GZ_LEN "\\r\\n\\r\\n" GZ,
     0, NULL, NULL, 0, 0},
    {"gzip, chunked", "GET / HTTP/1.1\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
     "10\\r\\n"
     "\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x02\\x03\\x4b\\x4e\\x4c\\x3b\\xbc\\x52"
     "\\r\\n12\\r\\n"
     "\\x21\\x23\\x35\\x27\\x27\\x1f\\x99\\xe4\\x02\\x00\\x3f\\x19\\x41\\x25\\x18\\x00\\x00\\x0"
     "0"
     "\\r\\n0\\r\\n\\r\\n",
     0, NULL, NULL, 0, 0},
    {"gzip, broken", "GET / HTTP/1.1\\r\\n\\r\\n",
     "HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip, br\\r\\nContent-Length: "
     "4\\r\\n\\r\\n\\x1f\\x8bxx",
     0, NULL, NULL, 0, 0},
    {"cache", "GET / HTTP/1.1\\r\\nIf-None-Match: \"a\"\\r\\nCache-Control: no-cache\\r\\n\\r\\n",
     "HTTP/1.1 304 Not Modified\\r\\nDate: Tue, 14 Nov 2023 22:13:20 GMT\\r\\n"
     "ETag: W/\"a\\xff\"\\r\\nCache-Control: private=\"x-a\", max-age=60, s-maxage=x\\r\\n"
     "Vary: Accept\\xe9\\r\\nAge: 5\\r\\nExpires: Tue, 14 Nov 2023 23:13:20 GMT\\r\\n"
     "Last-Modified: Mon, 13 Nov 2023 22:13:20 GMT\\r\\n\\r\\n",
     0, NULL, NULL, 0, 0},
    {"replay", "GET / HTTP/1.1\\r\\n\\r\\n", "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n",
     EX_REPLAY, NULL, "rule: \xe2\x80\xae webhook", 42, 0},
    {"unparsed", "\\x16\\x03\\x01\\xff\\xfe\\x00", "\\x15\\x03", 0, NULL, NULL, 0, 0},
    {"http09", "GET /old\\r\\n", "<html>caf\\xc3\\xa9 \\x1b</html>", 0, NULL, NULL, 0, 0},
    {"http09, cut", "GET /old\\r\\n", "0123456789abcdef", 0, NULL, NULL, 0, 10},
    {"truncated",
     "POST / HTTP/1.1\\r\\nContent-Length: "
     "40\\r\\n\\r\\n0123456789012345678901234567890123456789",
     "HTTP/1.1 200 OK\\r\\nTransfer-Encoding: "
     "chunked\\r\\n\\r\\n14\\r\\n01234567890123456789\\r\\n0\\r\\n\\r\\n",
     EX_TRUNCATED, NULL, NULL, 0, 10},
};

/* Writes ex as a line under cfg and checks it against the tree of the same record: the text
 * parses back to the tree, and is byte for byte what jansson and jsonwrite make of the tree. */
static json_t *check_record(const char *name, const struct exchange *ex,
                            const struct jsonout_config *cfg)
{
    struct dynbuf line, via;
    dynbuf_init(&line, 1 << 20);
    dynbuf_init(&via, 1 << 20);
    assert_int_equal(jsonout_line(&line, ex, cfg), 0);
    json_t *tree = jsonout_exchange(ex, cfg);
    json_t *back = json_loadb((const char *)line.data, line.len, JSON_ALLOW_NUL, NULL);
    if (!back || !json_equal(back, tree))
        fail_msg("%s: the line does not read back as the tree:\n%s", name, dynbuf_str(&line));
    assert_int_equal(jsonwrite_value(&via, tree, 0), 0);
    dynbuf_addc(&via, '\n');
    if (strcmp(dynbuf_str(&via), dynbuf_str(&line)) != 0)
        fail_msg("%s: text differs from the tree's:\n text %s tree %s", name, dynbuf_str(&line),
                 dynbuf_str(&via));
    char *dumped = tu_jansson_text(tree, 0);
    assert_int_equal(strlen(dumped) + 1, line.len);
    assert_memory_equal(dumped, line.data, line.len - 1);
    free(dumped);
    json_decref(back);
    dynbuf_cleanup(&via);
    dynbuf_cleanup(&line);
    return tree;
}

/* Checks a message's body under a limit against the same body shown whole. */
static void check_cut(const char *name, const json_t *whole, const json_t *cut, size_t limit)
{
    if (!json_is_object(whole))
        return;
    const char *full = json_string_value(json_object_get(whole, "body"));
    const char *shown = json_string_value(json_object_get(cut, "body"));
    bool text = strcmp(json_string_value(json_object_get(whole, "body_encoding")), "utf-8") == 0;
    if (!text || strcmp(json_string_value(json_object_get(cut, "body_encoding")), "utf-8") != 0)
        return; /* base64 of a cut is not a prefix of the whole's base64 */
    size_t fn = json_string_length(json_object_get(whole, "body"));
    size_t sn = json_string_length(json_object_get(cut, "body"));
    bool over = fn > limit;
    if (sn > limit || memcmp(full, shown, sn) != 0 || (over && sn + 3 < limit) ||
        (!over && sn != fn))
        fail_msg("%s: body cut at %zu shows %zu of %zu bytes", name, limit, sn, fn);
    bool was = json_is_true(json_object_get(whole, "body_truncated"));
    if (json_is_true(json_object_get(cut, "body_truncated")) != (was || over))
        fail_msg("%s: body_truncated wrong at limit %zu", name, limit);
}

static void test_record_text_equals_tree(void **state)
{
    (void)state;
    static const size_t limits[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 18, 19, 20, 21, 24};
    /* The cut records go through a clock kept across all of them, as a printer's is. */
    struct jsonout_clock clock;
    jsonout_clock_init(&clock);
    for (size_t i = 0; i < sizeof RECORDS / sizeof RECORDS[0]; i++) {
        const struct record_case *c = &RECORDS[i];
        struct exchange *ex;
        if (c->kept) {
            size_t rn, sn;
            uint8_t *req = tu_unescape(c->req, &rn), *resp = tu_unescape(c->resp, &sn);
            struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, c->kept};
            ex = tu_exchange(req, rn, resp, sn, &exl, &LIMITS, 1700000000000000000);
            free(req);
            free(resp);
        } else {
            ex = tu_exchange_text(c->req, c->resp, i ? 1700000000000000000 : 0);
        }
        ex->flags |= c->ex_flags;
        if (c->error)
            exchange_fail(ex, c->ex_flags, "%s", c->error);
        if (c->note)
            ex->note = c->note;
        ex->replay_of = c->replay_of;
        ex->id = i + 1, ex->conn_id = 9, ex->conn_seq = (uint32_t)i;
        endpoint_set(&ex->client, "::1", 50000);
        if (i % 2)
            endpoint_set(&ex->server, "127.0.0.1", 80);
        if (c->ex_flags & EX_TUNNEL)
            ex->tunnel_bytes[SIDE_CLIENT] = 517, ex->tunnel_bytes[SIDE_SERVER] = 1 << 20;
        json_t *whole = check_record(c->name, ex, &CFG);
        if (strncmp(c->name, "gzip", 4) == 0) {
            /* The table reaches the decoded object: a body, or an error for the broken one. */
            json_t *dec = json_object_get(json_object_get(whole, "response"), "decoded");
            if (strstr(c->name, "broken"))
                assert_true(json_is_integer(json_object_get(dec, "error_offset")));
            else
                assert_string_equal(sget(dec, "body"), "caf\xc3\xa9 hello hello hello\n");
        }
        for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
            struct jsonout_config cfg = {&LIMITS, 1 << 20, limits[k], &clock};
            json_t *cut = check_record(c->name, ex, &cfg);
            for (int side = 0; side < 2; side++) {
                const char *m = side ? "response" : "request";
                check_cut(c->name, json_object_get(whole, m), json_object_get(cut, m), limits[k]);
                check_cut(c->name, json_object_get(json_object_get(whole, m), "decoded"),
                          json_object_get(json_object_get(cut, m), "decoded"), limits[k]);
            }
            json_decref(cut);
        }
        json_decref(whole);
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
        cmocka_unit_test(test_request_line_seen),
        cmocka_unit_test(test_http09_response),
        cmocka_unit_test(test_line_too_large),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_iso8601_clock),
        cmocka_unit_test(test_hostile_bytes_everywhere),
        cmocka_unit_test(test_record_text_equals_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
