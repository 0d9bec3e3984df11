/* cgi: command words without a shell, the meta-variables, and reading a command's output. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cgi.h"
#include "hspy/conversation.h"

static void test_split(void **state)
{
    (void)state;
    static const struct {
        const char *cmd;
        const char *words; /* joined with '|', NULL = error */
    } cases[] = {
        {"ls", "ls"},
        {"  a  b\tc ", "a|b|c"},
        {"echo 'a b' \"c d\"", "echo|a b|c d"},
        {"x 'it''s'", "x|its"},
        {"x \"a\\\"b\"", "x|a\"b"},
        {"x a\\ b", "x|a b"},
        {"x '$HOME;rm -rf /' `id` $(id) | > &", "x|$HOME;rm -rf /|`id`|$(id)|||>|&"},
        {"x 'open", NULL},
        {"x \"open", NULL},
        {"", NULL},
        {"   ", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[100];
        char **v = cgi_split(cases[i].cmd, err, sizeof err);
        if (!cases[i].words) {
            assert_null(v);
            continue;
        }
        assert_non_null(v);
        char joined[256] = "";
        for (char **p = v; *p; p++) {
            if (p != v)
                strcat(joined, "|");
            strcat(joined, *p);
        }
        assert_string_equal(joined, cases[i].words);
        cgi_free_strv(v);
    }
}

static int grab(void *d, struct conversation *c, struct exchange *ex, enum conv_event ev,
                enum side s, const uint8_t *p, size_t n)
{
    (void)c, (void)s, (void)p, (void)n;
    struct exchange **out = d;
    if (ev == CONV_BEGIN && !*out)
        *out = ex;
    return CONV_CONTINUE;
}

static struct exchange *request(const char *text)
{
    size_t n;
    uint8_t *raw = tu_unescape(text, &n);
    struct exchange *ex = NULL;
    struct conversation_config cfg = {.exchange = {65536, 1 << 20}};
    endpoint_set(&cfg.client, "::1", 40000);
    endpoint_set(&cfg.server, "::1", 8080);
    struct conversation_events ev = {&ex, grab};
    struct conversation *c = conversation_new(&cfg, &ev);
    conversation_feed(c, SIDE_CLIENT, raw, n, 1);
    conversation_free(c);
    free(raw);
    return ex;
}

static const char *getvar(char **env, const char *name)
{
    size_t n = strlen(name);
    for (char **p = env; *p; p++)
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
            return *p + n + 1;
    return NULL;
}

static void test_env(void **state)
{
    (void)state;
    struct exchange *ex = request(
        "POST /cgi/a%20b;x?q=$(id)&r=`id` HTTP/1.1\\r\\nHost: [::1]:8080\\r\\n"
        "Content-Type: text/plain\\r\\nContent-Length: 3\\r\\nX-Multi: 1\\r\\nx-multi: 2\\r\\n"
        "Proxy: http://evil\\r\\nX_Under: spoof\\r\\nX-Shell: $(rm -rf /); `id` | nc\\r\\n"
        "X-Fold: a\\r\\n  b\\r\\nX-Nul: a\\0b\\r\\n\\r\\nabc");
    struct cgi_server srv = {"hspy/test", "/usr/bin:/bin"};
    struct framing f = {.kind = BODY_LENGTH, .length = 3};
    char **env = cgi_env(ex, &f, &srv);
    static const struct {
        const char *name, *value; /* value NULL = absent */
    } want[] = {
        {"GATEWAY_INTERFACE", "CGI/1.1"},
        {"SERVER_SOFTWARE", "hspy/test"},
        {"PATH", "/usr/bin:/bin"},
        {"REQUEST_METHOD", "POST"},
        {"REQUEST_URI", "/cgi/a%20b;x?q=$(id)&r=`id`"},
        {"PATH_INFO", "/cgi/a b;x"},
        {"QUERY_STRING", "q=$(id)&r=`id`"},
        {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"REMOTE_ADDR", "::1"},
        {"REMOTE_PORT", "40000"},
        {"SERVER_PORT", "8080"},
        {"SERVER_NAME", "[::1]"},
        {"CONTENT_TYPE", "text/plain"},
        {"CONTENT_LENGTH", "3"},
        {"HTTP_HOST", "[::1]:8080"},
        {"HTTP_X_MULTI", "1, 2"},
        {"HTTP_X_SHELL", "$(rm -rf /); `id` | nc"},
        {"HTTP_PROXY", NULL},
        {"HTTP_X_UNDER", NULL},
        {"HTTP_CONTENT_TYPE", NULL},
        {"HTTP_CONTENT_LENGTH", NULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = getvar(env, want[i].name);
        if (!want[i].value) {
            if (v)
                fail_msg("%s should be absent, is '%s'", want[i].name, v);
            continue;
        }
        if (!v || strcmp(v, want[i].value) != 0)
            fail_msg("%s: got '%s', want '%s'", want[i].name, v ? v : "(absent)", want[i].value);
    }
    /* Folded and NUL-carrying values cannot break the environment's one-line strings. */
    for (char **p = env; *p; p++)
        assert_null(strpbrk(*p, "\r\n"));
    cgi_free_strv(env);
    exchange_free(ex);
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *out;
        bool eof;
        enum cgi_kind kind;
        size_t head;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\n\r\n", false, CGI_NPH, 0},
        {"HTT", false, CGI_MORE, 0},
        {"HTT", true, CGI_BODY, 0},
        {"Content-Type: text/plain\n\nhi", false, CGI_HEADERS, 26},
        {"Status: 404\r\nX: y\r\n\r\nbody", false, CGI_HEADERS, 21},
        {"Status: 404\n", false, CGI_MORE, 0},
        {"Status: 404\n", true, CGI_HEADERS, 12},
        {"hello world\n", false, CGI_BODY, 0},
        {"hello: world\nmore text", true, CGI_HEADERS, 22},
        {"", true, CGI_BODY, 0},
        {"no newline yet", false, CGI_MORE, 0},
        {"a b: c", false, CGI_BODY, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t head = 0;
        enum cgi_kind k =
            cgi_classify((const uint8_t *)cases[i].out, strlen(cases[i].out), cases[i].eof, &head);
        if (k != cases[i].kind || (k == CGI_HEADERS && head != cases[i].head))
            fail_msg("case %zu: kind %d head %zu", i, k, head);
    }
}

static void test_reply(void **state)
{
    (void)state;
    const char *h = "Status: 404 Gone Fishing\r\nContent-Type: text/x\r\nX-A: 1\r\n\r\n";
    struct cgi_reply r;
    cgi_reply_parse((const uint8_t *)h, strlen(h), &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.reason, "Gone Fishing");
    assert_int_equal(r.nheaders, 2);
    assert_string_equal(r.headers[0], "Content-Type: text/x");
    assert_true(r.has_type);
    assert_false(r.has_length);
    cgi_reply_cleanup(&r);
    const char *loc = "Location: /elsewhere\n\n";
    cgi_reply_parse((const uint8_t *)loc, strlen(loc), &r);
    assert_int_equal(r.status, 302);
    cgi_reply_cleanup(&r);
    const char *bad = "Status: abc\nContent-Length: 3\n\n";
    cgi_reply_parse((const uint8_t *)bad, strlen(bad), &r);
    assert_int_equal(r.status, 200);
    assert_true(r.has_length);
    cgi_reply_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
