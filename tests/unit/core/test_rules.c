/* rules: the file grammar (accepted and rejected with FILE:LINE), globs, and matching. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/rules.h"

static int grab(void *d, struct conversation *c, struct exchange *ex, enum conv_event ev,
                enum side s, const uint8_t *p, size_t n)
{
    (void)c, (void)s, (void)p, (void)n;
    struct exchange **out = d;
    if (ev == CONV_BEGIN && !*out)
        *out = ex;
    return CONV_CONTINUE;
}

/* The request in text (C escapes) parsed into an exchange the caller frees. */
static struct exchange *request(const char *text)
{
    size_t n;
    uint8_t *raw = tu_unescape(text, &n);
    struct exchange *ex = NULL;
    struct conversation_config cfg = {.exchange = {65536, 1 << 20}};
    struct conversation_events ev = {&ex, grab};
    struct conversation *c = conversation_new(&cfg, &ev);
    conversation_feed(c, SIDE_CLIENT, raw, n, 1);
    conversation_free(c);
    free(raw);
    return ex;
}

static void test_glob(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *s;
        bool match;
    } cases[] = {
        {"/a", "/a", true},
        {"/a", "/ab", false},
        {"/a/*", "/a/b", true},
        {"/a/*", "/a/b/c", false},
        {"/a/**", "/a/b/c", true},
        {"/a/**", "/a/", true},
        {"/**/x", "/p/q/x", true},
        {"/**/x", "/x", false},
        {"**", "/anything/at/all", true},
        {"*", "/", false},
        {"/?", "/a", true},
        {"/?", "/", false},
        {"/??", "//", false},
        {"/a\\*", "/a*", true},
        {"/a\\*", "/ab", false},
        {"/*.json", "/x.json", true},
        {"/*.json", "/x.jsonp", false},
        {"/*a*a*a*a*a*a*a*b", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
        {"", "", true},
    };
    assert_true(rules_glob_value("*/json*", (const uint8_t *)"application/json; q=1", 21));
    assert_false(rules_glob("*/json*", (const uint8_t *)"a/b/json", 8));
    assert_true(rules_glob_value("*/json*", (const uint8_t *)"a/b/json", 8));
    assert_true(rules_glob_value("Bearer ?*", (const uint8_t *)"Bearer a/b", 10));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool m = rules_glob(cases[i].pattern, (const uint8_t *)cases[i].s, strlen(cases[i].s));
        if (m != cases[i].match)
            fail_msg("glob '%s' on '%s': got %d", cases[i].pattern, cases[i].s, m);
    }
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"", "r.conf: no rules"},
        {"# only a comment\n\n", "r.conf: no rules"},
        {"status 200\n", "r.conf:1: 'status' before the first 'match' line"},
        {"match GET /a\nstauts 200\n", "r.conf:2: unknown directive 'stauts'"},
        {"match GET\n", "r.conf:1: expected 'match METHODS PATTERN'"},
        {"match GET a/b\n", "r.conf:1: path pattern 'a/b' must start with '/'"},
        {"match G@T /a\n", "r.conf:1: 'G@T' is not a method name"},
        {"match GET ~(unclosed\n", "r.conf:1: invalid regular expression"},
        {"match GET /\n  status 99\n", "r.conf:2: status '99' is not a number from 100 to 999"},
        {"match GET /\n  status abc\n", "r.conf:2: status 'abc'"},
        {"match GET /\n  header NoColon\n", "r.conf:2: expected 'header NAME: VALUE'"},
        {"match GET /\n  header Bad Name: x\n", "r.conf:2: 'Bad Name' is not a header name"},
        {"match GET /\n  body \\q\n", "r.conf:2: bad escape in body"},
        {"match GET /\n  status 200\n  raw x.http\n", "r.conf:3: 'raw' conflicts"},
        {"match GET /\n  echo\n  status 201\n", "r.conf:3: 'status' conflicts"},
        {"match GET /\n  serve d\n  exec ls\n", "r.conf:3: 'exec' conflicts"},
        {"match GET /\n  delay-head soon\n", "r.conf:2: 'soon' is not a duration"},
        {"match GET /\n  trickle 10/1s\n  trickle x/y\n",
         "r.conf:3: expected 'trickle BYTES/TIME'"},
        {"match GET /\n  trickle 10\n", "r.conf:2: expected 'trickle BYTES/TIME'"},
        {"match GET /\n  split 1,0\n", "r.conf:2: split: '0' is not a piece size"},
        {"match GET /\n  close-after many\n", "r.conf:2: 'many' is not a byte count"},
        {"match GET /\n  echo now\n", "r.conf:2: 'echo' takes no value"},
        {"match GET /\n  status\n", "r.conf:2: 'status' needs a value"},
        {"match GET /\n  if-header\n", "r.conf:2: 'if-header' needs a value"},
        {"match GET /\n  if-header !X: y\n", "r.conf:2: 'if-header !NAME' takes no value"},
        {"match GET /\n  expect 42\n", "r.conf:2: expected 100, a final status"},
        {"match GET /\n  fix-length maybe\n", "r.conf:2: expected yes or no"},
        {"match GET /\n  body @a\n  body b\n", "r.conf:3: a body from a file cannot be combined"},
        {"match GET /\n raw r.http\n header X: y\n", "r.conf:3: 'header' conflicts"},
        {"match GET /\nx\0y\n", "r.conf:2: NUL byte in line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rules r;
        char err[512] = "";
        size_t len = strlen(cases[i].text);
        if (strstr(cases[i].err, "NUL"))
            len = 19;
        int rc = rules_parse(&r, cases[i].text, len, "r.conf", err, sizeof err);
        if (rc != -1 || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
            fail_msg("case %zu: rc %d, err '%s', want '%s'", i, rc, err, cases[i].err);
        rules_cleanup(&r);
    }
}

static const char RULES[] = "# a comment\n"
                            "match GET,HEAD /health\n"
                            "  name health\n"
                            "  status 200 Fine\n"
                            "  header Content-Type: text/plain\n"
                            "  body ok\\n\n"
                            "  body second line\n"
                            "\n"
                            "match POST /api/*\n"
                            "  if-header Content-Type: application/json*\n"
                            "  if-header !X-Skip\n"
                            "  status 201\n"
                            "  body-file created.json\n"
                            "match * ~^/items/[0-9]+$\r\n"
                            "  name item\r\n"
                            "  raw item.http\r\n"
                            "  fix-length yes\r\n"
                            "  delay-head 2s\r\n"
                            "  trickle 16/100ms\r\n"
                            "  split 1,2/5ms\r\n"
                            "  close-after 10\r\n"
                            "  reset-after 20\r\n"
                            "  content-length 99\r\n"
                            "  expect 417\r\n"
                            "match GET /slow/**\n"
                            "  delay-body 250ms\n"
                            "match * /static/**\n"
                            "  serve /srv/www\n"
                            "match POST /hook\n"
                            "  exec-shell ./handler.sh \"$X\"\n";

static void test_parse_ok(void **state)
{
    (void)state;
    struct rules r;
    char err[256];
    assert_int_equal(rules_parse(&r, RULES, strlen(RULES), "/etc/hspy/r.conf", err, sizeof err), 0);
    assert_int_equal(r.n, 6);
    const struct rule *h = &r.v[0];
    assert_string_equal(h->name, "health");
    assert_int_equal(h->nmethods, 2);
    assert_int_equal(h->action, RULE_FIXED);
    assert_int_equal(h->status, 200);
    assert_string_equal(h->reason, "Fine");
    assert_int_equal(h->nheaders, 1);
    assert_int_equal(h->body_len, strlen("ok\n\nsecond line"));
    assert_memory_equal(h->body, "ok\n\nsecond line", h->body_len);
    const struct rule *api = &r.v[1];
    assert_string_equal(api->name, "line 9");
    assert_int_equal(api->nwhen, 2);
    assert_true(api->when[1].absent);
    assert_string_equal(api->body_file, "/etc/hspy/created.json");
    const struct rule *item = &r.v[2];
    assert_true(item->is_regex);
    assert_int_equal(item->action, RULE_RAW);
    assert_string_equal(item->raw_file, "/etc/hspy/item.http");
    assert_true(item->fix_length);
    assert_int_equal(item->delivery.delay_head_ms, 2000);
    assert_int_equal(item->delivery.trickle_bytes, 16);
    assert_int_equal(item->delivery.trickle_ms, 100);
    assert_int_equal(item->delivery.nsplit, 2);
    assert_int_equal(item->delivery.split_ms, 5);
    assert_true(item->delivery.close_after_set);
    assert_int_equal(item->delivery.reset_after, 20);
    assert_int_equal(item->delivery.content_length, 99);
    assert_int_equal(item->expect, 417);
    assert_int_equal(r.v[3].action, RULE_ECHO); /* delivery only: answers the echo */
    assert_int_equal(r.v[3].delivery.delay_body_ms, 250);
    assert_int_equal(r.v[4].action, RULE_SERVE);
    assert_string_equal(r.v[4].dir, "/srv/www");
    assert_int_equal(r.v[5].action, RULE_EXEC);
    assert_true(r.v[5].shell);
    assert_string_equal(r.v[5].cmd, "./handler.sh \"$X\"");
    rules_cleanup(&r);
}

static int fake_load(void *data, const char *path, uint8_t **buf, size_t *len, char *why,
                     size_t whylen)
{
    (void)data;
    if (strstr(path, "missing")) {
        snprintf(why, whylen, "No such file or directory");
        return -1;
    }
    *buf = (uint8_t *)strdup(path);
    *len = strlen(path);
    return 0;
}

static void test_load(void **state)
{
    (void)state;
    struct rules r;
    char err[256];
    const char *ok = "match GET /a\n body @a.json\nmatch GET /b\n raw b.http\n";
    assert_int_equal(rules_parse(&r, ok, strlen(ok), "dir/r.conf", err, sizeof err), 0);
    assert_int_equal(rules_load(&r, fake_load, NULL, err, sizeof err), 0);
    assert_memory_equal(r.v[0].body, "dir/a.json", 10);
    assert_memory_equal(r.v[1].raw, "dir/b.http", 10);
    rules_cleanup(&r);
    const char *bad = "match GET /a\n status 200\n\nmatch GET /b\n body @missing.json\n";
    assert_int_equal(rules_parse(&r, bad, strlen(bad), "r.conf", err, sizeof err), 0);
    assert_int_equal(rules_load(&r, fake_load, NULL, err, sizeof err), -1);
    /* The line of the directive naming the file, not the rule's match line (4). */
    assert_string_equal(err, "r.conf:5: cannot read 'missing.json': No such file or directory");
    rules_cleanup(&r);
    const char *far =
        "match GET /a\n # a comment\n\n name far\n\n delay-head 1s\n raw missing.http\n";
    assert_int_equal(rules_parse(&r, far, strlen(far), "r.conf", err, sizeof err), 0);
    assert_int_equal(rules_load(&r, fake_load, NULL, err, sizeof err), -1);
    assert_string_equal(err, "r.conf:7: cannot read 'missing.http': No such file or directory");
    rules_cleanup(&r);
}

static void test_match(void **state)
{
    (void)state;
    struct rules r;
    char err[256];
    assert_int_equal(rules_parse(&r, RULES, strlen(RULES), "r.conf", err, sizeof err), 0);
    static const struct {
        const char *req, *rule; /* rule NULL = none */
    } cases[] = {
        {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "health"},
        {"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", "health"},
        {"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", NULL},
        {"GET /health?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "health"},
        {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", NULL},
        {"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\n"
         "Content-Length: 0\r\n\r\n",
         "line 9"},
        {"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
         "Content-Length: 0\r\n\r\n",
         NULL},
        {"POST /api/users HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
         "X-Skip: 1\r\nContent-Length: 0\r\n\r\n",
         NULL},
        {"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
         "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n",
         "line 9"},
        {"DELETE /items/42 HTTP/1.1\r\nHost: x\r\n\r\n", "item"},
        {"DELETE /items/42x HTTP/1.1\r\nHost: x\r\n\r\n", NULL},
        {"GET http://example.com/items/7?q HTTP/1.1\r\nHost: x\r\n\r\n", "item"},
        {"GET /slow/a/b/c HTTP/1.1\r\nHost: x\r\n\r\n", "line 25"},
        {"PUT /static/x.css HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "line 27"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct exchange *ex = request(cases[i].req);
        assert_non_null(ex);
        const struct rule *m = rules_match(&r, &ex->req);
        const char *got = m ? m->name : NULL;
        if ((got == NULL) != (cases[i].rule == NULL) || (got && strcmp(got, cases[i].rule) != 0))
            fail_msg("case %zu: matched '%s', want '%s'", i, got ? got : "(none)",
                     cases[i].rule ? cases[i].rule : "(none)");
        exchange_free(ex);
    }
    rules_cleanup(&r);
}

static void test_unescape(void **state)
{
    (void)state;
    uint8_t *out;
    size_t n;
    assert_int_equal(rules_unescape("a\\r\\n\\t\\\\\\x41\\@\\0z", &out, &n), 0);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "a\r\n\t\\A@\0z", 9);
    free(out);
    assert_int_equal(rules_unescape("\\x4", &out, &n), -1);
    assert_int_equal(rules_unescape("\\", &out, &n), -1);
}

/* Two rules read from text agree in everything a rule answers with. */
static void same_rule(const struct rule *a, const struct rule *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->nmethods, b->nmethods);
    for (size_t i = 0; i < a->nmethods; i++)
        assert_string_equal(a->methods[i], b->methods[i]);
    assert_string_equal(a->pattern, b->pattern);
    assert_int_equal(a->is_regex, b->is_regex);
    assert_int_equal(a->nwhen, b->nwhen);
    for (size_t i = 0; i < a->nwhen; i++) {
        assert_string_equal(a->when[i].name, b->when[i].name);
        assert_int_equal(a->when[i].absent, b->when[i].absent);
        assert_true((a->when[i].glob == NULL) == (b->when[i].glob == NULL));
        if (a->when[i].glob)
            assert_string_equal(a->when[i].glob, b->when[i].glob);
    }
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->status, b->status);
    assert_true((a->reason == NULL) == (b->reason == NULL));
    if (a->reason)
        assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->nheaders, b->nheaders);
    for (size_t i = 0; i < a->nheaders; i++)
        assert_string_equal(a->headers[i], b->headers[i]);
    assert_int_equal(a->body_len, b->body_len);
    if (a->body_len)
        assert_memory_equal(a->body, b->body, a->body_len);
    assert_true((a->body_file == NULL) == (b->body_file == NULL));
    assert_int_equal(a->fix_length, b->fix_length);
    assert_int_equal(a->shell, b->shell);
    assert_int_equal(a->expect, b->expect);
    assert_memory_equal(&a->delivery, &b->delivery, sizeof a->delivery);
}

/* Every rule of a file written back as text and read again is the same rule. */
static void test_format_round_trip(void **state)
{
    (void)state;
    static const char TEXT[] =
        "match GET,HEAD /health\n name health\n status 200\n header Content-Type: text/plain\n"
        " body ok\n"
        "match POST /api/users\n if-header Content-Type: application/json*\n if-header !X-Skip\n"
        " if-header X-Present\n status 201 Made It\n header Location: /u/42\n"
        " body {\"id\":42}\\n\n body second line\n"
        "match * ~^/items/[0-9]+$\n status 404\n body \\@at \\x00nul\\ttab \\\\ back\\r\\n\n"
        "match GET /slow/**\n delay-head 2s\n delay-body 30ms\n trickle 16/100ms\n"
        " split 1,2,3/5ms\n close-after 10\n reset-after 20\n content-length 99\n expect 417\n"
        "match GET /legacy\n raw legacy.http\n fix-length yes\n"
        "match * /static/**\n serve ./public\n"
        "match POST /hooks/*\n exec-shell ./hook.sh \"$X\"\n"
        "match GET /esc\\*aped?\n body  leading and trailing  \n"
        "match GET /nl\n body \\n\\nstarts with newlines\\n\\n\n";
    struct rules r, back;
    char err[256];
    assert_int_equal(rules_parse(&r, TEXT, strlen(TEXT), "r.conf", err, sizeof err), 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(rules_format(&out, &r.v[i], err, sizeof err), 0);
    if (rules_parse(&back, (const char *)out.data, out.len, "r.conf", err, sizeof err) != 0)
        fail_msg("%s in:\n%s", err, dynbuf_str(&out));
    assert_int_equal(back.n, r.n);
    for (size_t i = 0; i < r.n; i++) {
        /* Default names follow the line a rule starts on, which moves: compare the others. */
        if (strncmp(r.v[i].name, "line ", 5) == 0) {
            free(back.v[i].name);
            back.v[i].name = strdup(r.v[i].name);
        }
        same_rule(&r.v[i], &back.v[i]);
    }
    rules_cleanup(&back);
    rules_cleanup(&r);
    dynbuf_cleanup(&out);
}

/* Bodies of every byte value survive, whatever the newlines around them. */
static void test_format_bodies(void **state)
{
    (void)state;
    static const char *const BODIES[] = {
        "x", "a\nb", "a\n\nb", "\n", "\n\n", "a\n", " a ", "@x", "a\n@b\n", "\t\r\n\\", "\n a\n",
    };
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t i = 0; i <= sizeof BODIES / sizeof BODIES[0]; i++) {
        const uint8_t *b = i < sizeof BODIES / sizeof BODIES[0] ? (const uint8_t *)BODIES[i] : all;
        size_t n = i < sizeof BODIES / sizeof BODIES[0] ? strlen(BODIES[i]) : sizeof all;
        struct rule rule;
        memset(&rule, 0, sizeof rule);
        rule.name = (char *)"b";
        rule.pattern = (char *)"/b";
        rule.expect = -1;
        rule.status = 200;
        rule.body = (uint8_t *)b;
        rule.body_len = n;
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        char err[256];
        assert_int_equal(rules_format(&out, &rule, err, sizeof err), 0);
        struct rules r;
        if (rules_parse(&r, (const char *)out.data, out.len, "r", err, sizeof err) != 0)
            fail_msg("body %zu: %s in:\n%s", i, err, dynbuf_str(&out));
        assert_int_equal(r.v[0].body_len, n);
        assert_memory_equal(r.v[0].body, b, n);
        rules_cleanup(&r);
        dynbuf_cleanup(&out);
    }
}

static void test_format_response(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path, *resp, *text; /* text NULL: refused */
    } cases[] = {
        {"POST", "/hook", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}",
         "match POST /hook\n  name saved\n  status 200\n  header Content-Type: application/json\n"
         "  body {\"ok\":true}\n"},
        {"GET", "/a*b[c]", "HTTP/1.1 418 Short And Stout\r\nContent-Length: 0\r\n\r\n",
         "match GET /a\\*b[c]\n  name saved\n  status 418 Short And Stout\n"
         "  header Content-Length: 0\n"},
        {"GET", "/x", "HTTP/1.1 200 OK\nA: b\n\n", NULL},             /* bare LF heads */
        {"GET", "/x", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", NULL}, /* obs-fold */
        {"GET", "/x", "not a response", NULL},
        {"GET", "x", "HTTP/1.1 200 OK\r\n\r\n", NULL},    /* not a path */
        {"GET", "/a b", "HTTP/1.1 200 OK\r\n\r\n", NULL}, /* blank in the path */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        char err[256];
        int rc = rules_format_response(
            &out, "saved", cases[i].method, (const uint8_t *)cases[i].path, strlen(cases[i].path),
            (const uint8_t *)cases[i].resp, strlen(cases[i].resp), err, sizeof err);
        if (!cases[i].text) {
            assert_int_equal(rc, -1);
            assert_int_equal(out.len, 0);
        } else {
            if (rc != 0)
                fail_msg("case %zu: %s", i, err);
            assert_string_equal(dynbuf_str(&out), cases[i].text);
            /* The rule matches the request it was saved from. */
            struct rules r;
            assert_int_equal(rules_parse(&r, (const char *)out.data, out.len, "r", err, sizeof err),
                             0);
            char req[256];
            snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n\r\n", cases[i].method,
                     cases[i].path);
            struct exchange *ex = request(req);
            assert_non_null(rules_match(&r, &ex->req));
            exchange_free(ex);
            rules_cleanup(&r);
        }
        dynbuf_cleanup(&out);
    }
    /* A body line past the line limit is refused rather than cut. */
    struct dynbuf big, out;
    dynbuf_init(&big, 1 << 20);
    dynbuf_init(&out, 1 << 20);
    dynbuf_adds(&big, "HTTP/1.1 200 OK\r\n\r\n");
    for (int i = 0; i < RULES_LINE_MAX; i++)
        dynbuf_addc(&big, 'x');
    char err[256];
    assert_int_equal(rules_format_response(&out, "big", "GET", (const uint8_t *)"/", 1, big.data,
                                           big.len, err, sizeof err),
                     -1);
    assert_int_equal(out.len, 0);
    dynbuf_cleanup(&big);
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_bodies),
        cmocka_unit_test(test_format_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
