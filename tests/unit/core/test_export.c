/*
 * export: the forms of one exchange. The nc script is decoded here as printf would decode it and
 * must give the request's bytes exactly, for malformed requests too (CR alone, NUL, DEL, bytes
 * past ASCII, quotes, percent signs, backslashes); both scripts hold nothing but printable ASCII
 * and newlines. curl commands: headers in order and case with their exact spacing, suppression
 * of the headers curl adds, empty values, quoting, bodies inline or from a file, methods, notes
 * for what curl cannot send. Raw and body exports, partial exports, OSC 52.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/export.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct export_config CFG = {&LIMITS, 1 << 20, "req.body", false};

static char *render(const struct exchange *ex, enum export_format f, struct export_result *res,
                    size_t *len)
{
    struct dynbuf out;
    dynbuf_init(&out, 16 << 20);
    assert_int_equal(export_render(&out, ex, f, &CFG, res), 0);
    if (len)
        *len = out.len;
    return dynbuf_take(&out);
}

/* Scripts are for terminals too: printable ASCII and newlines only. */
static void assert_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p != '\n' && (*p < 0x20 || *p >= 0x7f))
            fail_msg("byte 0x%02x at %zu in the script", *p,
                     (size_t)(p - (const unsigned char *)s));
}

static int octal(const char *p, size_t *used)
{
    int v = 0;
    size_t i = 0;
    while (i < 3 && p[i] >= '0' && p[i] <= '7')
        v = v * 8 + (p[i++] - '0');
    *used = i;
    return v;
}

/* Decodes every printf '...' line of the script as printf(1) would. */
static void printf_bytes(const char *script, struct dynbuf *out)
{
    for (const char *p = strstr(script, "printf '"); p; p = strstr(p, "printf '")) {
        p += 8;
        while (*p && *p != '\'') {
            if (*p == '%') {
                assert_int_equal(p[1], '%');
                dynbuf_addc(out, '%');
                p += 2;
            } else if (*p != '\\') {
                dynbuf_addc(out, (uint8_t)*p++);
            } else if (p[1] >= '0' && p[1] <= '7') {
                size_t used;
                dynbuf_addc(out, (uint8_t)octal(p + 1, &used));
                p += 1 + used;
            } else {
                const char *map = strchr("r\rn\nt\t\\\\", p[1]);
                assert_non_null(map);
                dynbuf_addc(out, (uint8_t)map[1]);
                p += 2;
            }
        }
    }
}

static const char *const NC_CASES[] = {
    "GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
    "GET /bare HTTP/1.1\\nHost: a\\n\\n",
    "GET /cr HTTP/1.1\\rHost: a\\r\\n\\r\\n",
    "GET /nul\\0x HTTP/1.1\\r\\nX-A: \\x01\\x7f\\xff\\xc3\\xa9\\r\\n\\r\\n",
    "GET /q?a='b'&c=%41%%25 HTTP/1.1\\r\\nX-Back: \\\\n\\\\0 \\\\\\r\\n\\r\\n",
    "POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\n\\0\\r\\n",
    "\\r\\n\\r\\nGET /after-empty-lines HTTP/1.1\\r\\n\\r\\n",
};

static void test_nc_byte_exact(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NC_CASES / sizeof NC_CASES[0]; i++) {
        size_t n;
        uint8_t *want = tu_unescape(NC_CASES[i], &n);
        struct exchange *ex =
            tu_exchange(want, n, NULL, 0, &(struct exchange_limits){HTTP_HEAD_MAX_DEFAULT, 1 << 20},
                        &LIMITS, 0);
        struct export_result res;
        char *script = render(ex, EXPORT_NC, &res, NULL);
        assert_printable(script);
        assert_non_null(strstr(script, "| nc -N \"$HOST\" \"$PORT\""));
        struct dynbuf got;
        dynbuf_init(&got, 1 << 20);
        printf_bytes(script, &got);
        if (got.len != n || memcmp(got.data, want, n) != 0)
            fail_msg("case %zu: script does not reproduce the bytes:\n%s", i, script);
        dynbuf_cleanup(&got);
        free(script);
        free(want);
        exchange_free(ex);
    }
}

static void test_nc_target(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text("GET / HTTP/1.1\\r\\nHost: example.com:8080\\r\\n\\r\\n", NULL, 0);
    struct export_result res;
    char *s = render(ex, EXPORT_NC, &res, NULL);
    assert_non_null(strstr(s, "HOST=${1:-example.com}\nPORT=${2:-8080}\n"));
    free(s);
    endpoint_set(&ex->server, "::1", 9000);
    s = render(ex, EXPORT_NC, &res, NULL);
    assert_non_null(strstr(s, "HOST=${1:-::1}\nPORT=${2:-9000}\n"));
    free(s);
    exchange_free(ex);
}

struct curl_case {
    const char *req;
    const char *must[6];  /* substrings the command holds */
    const char *never[3]; /* substrings it must not hold */
    bool body_file;
    const char *note; /* substring of the note, or NULL for no note */
};

static const struct curl_case CURL_CASES[] = {
    {"GET /a?b=c HTTP/1.1\\r\\nHost: h:81\\r\\nUser-Agent: ua\\r\\nAccept: */*\\r\\n\\r\\n",
     {"curl --http1.1 --path-as-is --globoff", "--request-target '/a?b=c'", "-H 'Host: h:81'",
      "-H 'User-Agent: ua' \\\n  -H 'Accept: */*'", "'http://h:81/a?b=c'\n"},
     {"-X", "--data-binary", "'Accept:'"},
     false,
     NULL},
    /* curl's own headers are suppressed; exact spacing after the colon and at the end of the
     * line kept (curl sends trailing whitespace that -H holds). */
    {"GET / HTTP/1.0\\r\\nHost: h\\r\\nX-A:1\\r\\nX-B:   two  \\r\\n\\r\\n",
     {"--http1.0", "-H 'X-A:1'", "-H 'X-B:   two  '", "-H 'User-Agent:'", "-H 'Accept:'"},
     {"'Host:'"},
     false,
     NULL},
    {"GET / HTTP/1.1\\r\\nHost: h\\r\\nX-Sp: v  \\r\\nX-Tab:\\tv\\t\\r\\nX-In: a b \\t\\r\\n\\r\\n",
     {"-H 'X-Sp: v  '", "-H $'X-Tab:\\x09v\\x09'", "-H $'X-In: a b \\x09'"},
     {NULL},
     false,
     NULL},
    /* No Host at all: curl must not add one. Empty values need the ';' form. */
    {"GET / HTTP/1.1\\r\\nX-Empty:\\r\\n\\r\\n",
     {"-H 'Host:'", "-H 'X-Empty;'"},
     {NULL},
     false,
     NULL},
    {"POST /f HTTP/1.1\\r\\nHost: h\\r\\nContent-Type: text/plain\\r\\nContent-Length: "
     "11\\r\\n\\r\\n"
     "it's text\\n.",
     {"--data-binary 'it'\\''s text\n.'", "-H 'Expect:'", "-H 'Content-Length: 11'"},
     {"-X", "'Content-Type:'"},
     false,
     NULL},
    {"PUT /bin HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 4\\r\\n\\r\\n\\0\\x01\\r\\n",
     {"-X 'PUT'", "--data-binary '@req.body'", "-H 'Content-Type:'"},
     {NULL},
     true,
     NULL},
    /* A body starting with @ would name a file: it goes to a file too. */
    {"POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 5\\r\\n\\r\\n@etc/",
     {"--data-binary '@req.body'"},
     {NULL},
     true,
     NULL},
    {"HEAD /h HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", {"--head"}, {"-X"}, false, NULL},
    {"GET / HTTP/1.1\\r\\nHost: h\\r\\nX-Esc: a\\x1b[31mb\\r\\nX-Q: it's\\r\\n\\r\\n",
     {"-H $'X-Esc: a\\x1b[31mb'", "-H 'X-Q: it'\\''s'"},
     {NULL},
     false,
     NULL},
    {"GET / HTTP/1.1\\r\\nhost: h\\r\\nA: b\\r\\n  folded\\r\\n\\r\\n",
     {"-H 'host: h'"},
     {"-H 'A:"},
     false,
     "folded over several lines"},
    {"GET  /two-spaces HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
     {"--request-target '/two-spaces'"},
     {NULL},
     false,
     "METHOD SP TARGET SP VERSION CRLF"},
    {"POST /c HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: "
     "chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n0\\r\\n"
     "\\r\\n",
     {"--data-binary 'abc'", "-H 'Transfer-Encoding: chunked'"},
     {NULL},
     false,
     "chunks the body itself"},
};

static void test_curl(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CURL_CASES / sizeof CURL_CASES[0]; i++) {
        const struct curl_case *c = &CURL_CASES[i];
        struct exchange *ex = tu_exchange_text(c->req, NULL, 0);
        struct export_result res;
        char *cmd = render(ex, EXPORT_CURL, &res, NULL);
        assert_printable(cmd);
        /* For standard output (to paste): no #! line. */
        assert_true(strncmp(cmd, "# hspy: exchange ", 17) == 0);
        for (size_t k = 0; k < 6 && c->must[k]; k++)
            if (!strstr(cmd, c->must[k]))
                fail_msg("case %zu: missing %s in:\n%s", i, c->must[k], cmd);
        for (size_t k = 0; k < 3 && c->never[k]; k++)
            if (strstr(cmd, c->never[k]))
                fail_msg("case %zu: unexpected %s in:\n%s", i, c->never[k], cmd);
        assert_int_equal(res.body_file, c->body_file);
        if (c->note && !strstr(res.note, c->note))
            fail_msg("case %zu: note '%s' lacks '%s'", i, res.note, c->note);
        if (!c->note && res.note[0])
            fail_msg("case %zu: unexpected note '%s'", i, res.note);
        if (c->note)
            assert_non_null(strstr(cmd, "\n# ")); /* the note is in the command's comments */
        free(cmd);
        exchange_free(ex);
    }
}

/* A command written to a file names its body file in the script's own directory, by the last
 * component of the path, quoted like any other word. */
static void test_curl_body_beside(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(
        "PUT /bin HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 2\\r\\n\\r\\n\\0\\x01", NULL, 0);
    const struct export_config cfg = {&LIMITS, 1 << 20, "out dir/it's.sh.body", true};
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct export_result res;
    assert_int_equal(export_render(&out, ex, EXPORT_CURL, &cfg, &res), 0);
    dynbuf_addc(&out, 0);
    const char *cmd = (const char *)out.data;
    assert_true(res.body_file);
    /* A file is a script: it says which shell runs it (bash, for $'...' words). */
    assert_true(strncmp(cmd, "#!/usr/bin/env bash\n# hspy: exchange ", 36) == 0);
    if (!strstr(cmd, "--data-binary @\"$(dirname -- \"$0\")\"/'it'\\''s.sh.body'"))
        fail_msg("body not named beside the script in:\n%s", cmd);
    assert_null(strstr(cmd, "out dir"));
    dynbuf_cleanup(&out);
    exchange_free(ex);
}

static void test_nothing_to_export(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(NULL, "HTTP/1.1 200 OK\\r\\n\\r\\n", 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct export_result res;
    static const enum export_format NEED_REQUEST[] = {EXPORT_CURL, EXPORT_NC, EXPORT_RAW_REQUEST,
                                                      EXPORT_REQUEST_BODY};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(export_render(&out, ex, NEED_REQUEST[i], &CFG, &res), -1);
        assert_true(res.note[0] != '\0');
        assert_int_equal(out.len, 0);
    }
    exchange_free(ex);
    ex = tu_exchange_text("GET / HTTP/0.9\\r\\n", NULL, 0);
    ex->req.flags |= MSG_HTTP09;
    assert_int_equal(export_render(&out, ex, EXPORT_CURL, &CFG, &res), -1);
    assert_non_null(strstr(res.note, "nc"));
    exchange_free(ex);
    /* A buffer too small leaves it as it was. */
    struct dynbuf small;
    dynbuf_init(&small, 10);
    ex = tu_exchange_text("GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n", NULL, 0);
    assert_int_equal(export_render(&small, ex, EXPORT_CURL, &CFG, &res), -1);
    assert_int_equal(small.len, 0);
    exchange_free(ex);
    dynbuf_cleanup(&small);
    dynbuf_cleanup(&out);
}

static void test_raw_and_bodies(void **state)
{
    (void)state;
    const char *req = "POST /u HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                      "2\\r\\nab\\r\\n1\\r\\nc\\r\\n0\\r\\n\\r\\n";
    const char *resp = "HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 3"
                       "\\r\\n\\r\\nxyz";
    struct exchange *ex = tu_exchange_text(req, resp, 0);
    struct export_result res;
    size_t n;
    char *out = render(ex, EXPORT_RAW_REQUEST, &res, &n);
    assert_int_equal(n, ex->req.raw.len);
    assert_memory_equal(out, ex->req.raw.data, n);
    assert_false(res.partial);
    free(out);
    out = render(ex, EXPORT_RAW_RESPONSE, &res, &n);
    assert_int_equal(n, ex->resp.raw.len); /* the interim response included */
    assert_memory_equal(out, "HTTP/1.1 100 Continue", 21);
    free(out);
    out = render(ex, EXPORT_REQUEST_BODY, &res, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    free(out);
    out = render(ex, EXPORT_BODY_DECODED, &res, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "xyz", 3);
    free(out);
    /* Bytes counted but not kept: the export says it is partial. */
    ex->resp.wire_bytes += 100;
    ex->resp.flags |= MSG_TRUNCATED;
    free(render(ex, EXPORT_BODY, &res, NULL));
    assert_true(res.partial);
    free(render(ex, EXPORT_RAW_RESPONSE, &res, NULL));
    assert_true(res.partial);
    exchange_free(ex);
}

static void test_formats(void **state)
{
    (void)state;
    for (int f = 0; f < EXPORT__COUNT; f++)
        assert_int_equal(export_format_by_name(export_format_name((enum export_format)f)), f);
    assert_int_equal(export_format_by_name("har"), -1);
    assert_null(export_format_name(EXPORT__COUNT));
    assert_false(export_format_binary(EXPORT_CURL));
    assert_false(export_format_binary(EXPORT_NC));
    assert_true(export_format_binary(EXPORT_RAW_REQUEST));
}

static void test_osc52(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(export_osc52(&out, (const uint8_t *)"hi\n", 3, false), 0);
    assert_string_equal(dynbuf_str(&out), "\033]52;c;aGkK\a");
    dynbuf_reset(&out);
    assert_int_equal(export_osc52(&out, (const uint8_t *)"x", 1, true), 0);
    assert_string_equal(dynbuf_str(&out), "\033Ptmux;\033\033]52;c;eA==\a\033\\");
    dynbuf_reset(&out);
    uint8_t *big = calloc(1, EXPORT_OSC52_MAX + 1);
    assert_int_equal(export_osc52(&out, big, EXPORT_OSC52_MAX + 1, false), -1);
    assert_int_equal(out.len, 0);
    assert_int_equal(export_osc52(&out, big, EXPORT_OSC52_MAX, false), 0);
    free(big);
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nc_byte_exact),
        cmocka_unit_test(test_nc_target),
        cmocka_unit_test(test_curl),
        cmocka_unit_test(test_curl_body_beside),
        cmocka_unit_test(test_nothing_to_export),
        cmocka_unit_test(test_raw_and_bodies),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_osc52),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
