/*
 * The filter language: a table of expressions with the exchanges each must select, a table of
 * invalid expressions with the byte offset of the error, every prefix of every expression
 * compiled without harm, and a timed pass over 1,000,000 exchanges (reported, not asserted).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hspy/exchange.h"
#include "hspy/filter.h"

/* ---- the exchanges every case runs against ------------------------------------------------ */

enum { NEX = 8 };

struct fixture {
    struct exchange *ex[NEX];
};

static const int64_t T0 = INT64_C(1700000000) * 1000000000;
static const int64_t MS = 1000000;

/* Escapes bytes for tu_unescape. Returns a malloc'ed string. */
static char *escape(const uint8_t *p, size_t n)
{
    char *s = malloc(n * 4 + 1), *o = s;
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "\\x%02x", p[i]);
    *o = '\0';
    return s;
}

static struct exchange *gzip_exchange(void)
{
    uint8_t gz[256];
    size_t n = tu_gzip("a needle hidden in gzip", gz, sizeof gz);
    char *body = escape(gz, n);
    char *resp = malloc(strlen(body) + 200);
    sprintf(resp,
            "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Encoding: gzip\\r\\n"
            "Content-Length: %zu\\r\\n\\r\\n%s",
            n, body);
    struct exchange *ex =
        tu_exchange_text("GET /gz HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n", resp, 0);
    free(body);
    free(resp);
    return ex;
}

static struct exchange *upload_exchange(void)
{
    char *req = malloc(4096);
    int k = sprintf(req, "POST /upload HTTP/1.1\\r\\nHost: upload.example.org\\r\\n"
                         "Content-Type: text/plain\\r\\nContent-Length: 2048\\r\\n\\r\\n");
    memset(req + k, 'a', 2048);
    req[k + 2048] = '\0';
    struct exchange *ex =
        tu_exchange_text(req,
                         "HTTP/1.1 201 Created\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                         "5\\r\\nhello\\r\\n6\\r\\n world\\r\\n0\\r\\n\\r\\n",
                         0);
    free(req);
    return ex;
}

static void set_times(struct exchange *ex, int64_t start, int64_t dur_ns)
{
    ex->t[T_REQ_FIRST] = start;
    ex->t[T_REQ_HEAD] = start;
    if (ex->resp.flags & MSG_STARTED) {
        ex->t[T_RESP_HEAD] = start + dur_ns;
        ex->t[T_RESP_LAST] = start + dur_ns;
    } else {
        ex->t[T_REQ_LAST] = start + dur_ns;
    }
}

static void build(struct fixture *fx)
{
    struct exchange **e = fx->ex;
    e[0] = tu_exchange_text("GET /api/users?page=2 HTTP/1.1\\r\\nHost: example.com\\r\\n"
                            "Accept: */*\\r\\n\\r\\n",
                            "HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                            "Cache-Control: max-age=3600\\r\\nContent-Length: 11\\r\\n\\r\\n"
                            "{\"ok\":true}",
                            0);
    e[1] = upload_exchange();
    e[2] = tu_exchange_text(
        "GET http://proxy.test/abs?q=1 HTTP/1.1\\r\\nHost: proxy.test\\r\\n\\r\\n", NULL, 0);
    e[3] = tu_exchange_text(
        "GET /broken HTTP/1.1\\r\\nHost: localhost:8000\\r\\nContent-Length: 0\\r\\n"
        "Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
        "HTTP/1.1 502 Bad Gateway\\r\\nContent-Type: text/plain; charset=utf-8\\r\\n"
        "Content-Length: 4\\r\\n\\r\\noops",
        0);
    e[4] = tu_exchange_text("GET /static/app.js HTTP/1.1\\r\\nHost: example.com\\r\\n"
                            "If-None-Match: \"v1\"\\r\\n\\r\\n",
                            "HTTP/1.1 304 Not Modified\\r\\nETag: \"v1\"\\r\\n\\r\\n", 0);
    e[5] =
        tu_exchange_text("CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n",
                         "HTTP/1.1 200 Connection established\\r\\n\\r\\n", 0);
    e[6] = tu_exchange_text("GET /private HTTP/1.1\\r\\nHost: bank.example\\r\\n"
                            "Authorization: Bearer x\\r\\n\\r\\n",
                            "HTTP/1.1 200 OK\\r\\nCache-Control: no-store\\r\\n"
                            "Content-Type: text/html\\r\\nSet-Cookie: sid=1\\r\\n"
                            "Content-Length: 5\\r\\n\\r\\nhello",
                            0);
    e[7] = gzip_exchange();

    static const uint64_t CONN[NEX] = {1, 2, 2, 3, 1, 4, 5, 6};
    static const int64_t DUR[NEX] = {12 * MS, 1500 * MS, 40 * MS,  3000 * MS,
                                     2 * MS,  100 * MS,  300 * MS, 20 * MS};
    for (int i = 0; i < NEX; i++) {
        assert_non_null(e[i]);
        e[i]->id = (uint64_t)i + 1;
        e[i]->conn_id = CONN[i];
        endpoint_set(&e[i]->client, "127.0.0.1", (uint16_t)(50000 + i));
        endpoint_set(&e[i]->server, "127.0.0.1", 8080);
        set_times(e[i], T0 + i * 1000 * MS, DUR[i]);
    }
    e[2]->flags |= EX_HELD | EX_INTERCEPTED;
    exchange_fail(e[3], EX_UPSTREAM_FAIL, "connection refused");
    e[4]->flags |= EX_GAP;
    e[5]->flags |= EX_TUNNEL;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    build(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < NEX; i++)
        exchange_free(fx->ex[i]);
    free(fx);
    return 0;
}

/* ---- expressions and the exchanges they select ------------------------------------------- */

#define ALL "0 1 2 3 4 5 6 7"

static const struct match_case {
    const char *expr;
    const char *want; /* indices of the exchanges that match */
} MATCHES[] = {
    {"", ALL},
    {"   ", ALL},
    {"~all", ALL},
    /* ~m: a regex over the method */
    {"~m GET", "0 2 3 4 6 7"},
    {"~m post", "1"},
    {"~m ^P", "1"},
    {"~m T$", "0 1 2 3 4 5 6 7"},
    {"~m 'GET|POST'", "0 1 2 3 4 6 7"},
    {"~m (POST|CONNECT)", "1 5"},
    {"~M POST", "1"},
    /* ~u: target, and the absolute URL built from Host */
    {"~u /api", "0"},
    {"~u ^/api/users\\?page=2$", "0"},
    {"~u 'page=[0-9]+'", "0"},
    {"~u ^http://example\\.com/api", "0"},
    {"~u ^http://proxy\\.test/abs", "2"},
    {"~u ^/abs", ""},
    {"~u example.com:443", "5"},
    {"api", "0"},
    {"\"/upload\"", "1"},
    {"'/UPLOAD'", "1"},
    {"~u (api|upload)", "0 1"},
    {"~u api|upload", "0 1"},
    /* regexes screened by a required substring must agree with plain regexec */
    {"~u 'use+rs'", "0"},
    {"~u 'usx?ers'", "0"},
    {"~u 'a(pi)?/users'", "0"},
    {"~u 'zzz|/api'", "0"},
    {"~u 'pi/u{1}sers'", "0"},
    {"~u '[/]api'", "0"},
    {"~u 'x*/api'", "0"},
    {"~u 'ab+c'", ""},
    {"~u '/st.tic'", "4"},
    {"~u '((a|p){1,2}i){1}/u(s){1,}e'", "0"},
    {"~u '(a{50}){50}|/api'", "0"},
    /* ~c: exact, class, comparisons, ranges; no response never matches */
    {"~c 200", "0 5 6 7"},
    {"~c 5xx", "3"},
    {"~c 5XX", "3"},
    {"~c >=300", "3 4"},
    {"~c > 3xx", "3"},
    {"~c <201", "0 5 6 7"},
    {"~c 200-299", "0 1 5 6 7"},
    {"~c !=200", "1 3 4"},
    {"~c == 304", "4"},
    /* headers as "Name: value" lines */
    {"~h 'content-type: application/json'", "0"},
    {"~h '^host: example\\.com$'", "0 4 7"},
    {"~hq authorization", "6"},
    {"~hs authorization", ""},
    {"~hs etag", "4"},
    {"~hq etag", ""},
    {"~h set-cookie", "6"},
    {"~h 'if-none-match: \"v1\"'", "4"},
    /* content types */
    {"~t json", "0"},
    {"~t text", "1 3 6 7"},
    {"~tq text", "1"},
    {"~ts ^text/plain", "3 7"},
    /* bodies: kept bytes, de-chunked */
    {"~b hello", "1 6"},
    {"~bq aaaa", "1"},
    {"~bs 'hello world'", "1"},
    {"~bs '\"ok\":true'", "0"},
    {"~bq hello", ""},
    {"~b oops", "3"},
    /* host, addresses */
    {"~d example\\.com", "0 4 5 7"},
    {"~d ^proxy", "2"},
    /* dots of a plain pattern match any one character, without regexec for ASCII subjects */
    {"~d example.com", "0 4 5 7"},
    {"~d e.ample", "0 1 4 5 6 7"},
    {"~d EXAMPLE.COM$", "0 4 7"},
    {"~d ^bank.exam", "6"},
    {"~d .test$", "2"},
    {"~d ^.roxy", "2"},
    {"~d ^proxy.test$", "2"},
    {"~d ^proxy..test$", ""},
    {"~u /a.i/", "0"},
    {"~h host:.example.com", "0 4 5 7"},
    {"~d ...............................", ""},
    {"~d localhost:8000", "3"},
    {"~src 127\\.0\\.0\\.1:50003", "3"},
    {"~dst :8080$", ALL},
    /* response presence, errors, warnings */
    {"~q", "2"},
    {"~s", "0 1 3 4 5 6 7"},
    {"!~s", "2"},
    {"~e", "3"},
    {"~w", "3"},
    {"~w cl-and-te", "3"},
    {"~w cl-*", "3"},
    {"~w 'cl-and-te'", "3"},
    {"~w host-missing", ""},
    {"~w !~e", ""},
    {"~w|~tunnel", "3 5"},
    /* flags */
    {"~tunnel", "5"},
    {"~held", "2"},
    {"~intercepted", "2"},
    {"~gap", "4"},
    {"~incomplete", ""},
    {"~done", ALL},
    /* sizes, durations, numbers */
    {"~size >1k", "1"},
    {"~sizeq 2048", "1"},
    {"~sizeq 2kb", "1"},
    {"~sizes 11", "0 1"},
    {"~size 1k-3k", "1"},
    {"~size 1.5k-2.5k", "1"},
    {"~sizes 0", "2 4 5"},
    {"~dur >1s", "1 3"},
    {"~dur >1.5s", "3"},
    {"~dur <=12ms", "0 4"},
    {"~dur 300ms", "6"},
    {"~dur 100ms-0.3s", "5 6"},
    {"~dur < 3000000us", "0 1 4 5 6 7"}, /* 2 has no response: no duration */
    {"~conn 1", "0 4"},
    {"~conn >=5", "6 7"},
    {"~id 3", "2"},
    {"~id 2-4", "1 2 3"},
    {"~id !=1", "1 2 3 4 5 6 7"},
    /* cache outcomes */
    {"~cache fresh", "0"},
    {"~cache no-store", "6"},
    {"~cache not-modified", "4"},
    {"~cache uncacheable", "1 3 5 6"},
    {"~cache storable", "0 7"},
    /* operators, precedence, grouping */
    {"~m GET & ~c 200", "0 6 7"},
    {"~m GET ~c 200", "0 6 7"},
    {"~c 5xx | ~tunnel", "3 5"},
    {"!~m GET", "1 5"},
    {"! ~m GET", "1 5"},
    {"!(~m GET | ~m POST)", "5"},
    {"~m GET & !~c 200", "2 3 4"},
    {"(~c 201 | ~c 502) & ~dur >1s", "1 3"},
    {"~m GET ~c 200 | ~tunnel", "0 5 6 7"},
    {"~tunnel | ~m GET ~c 200", "0 5 6 7"},
    {"~m GET (~c 200 | ~q)", "0 2 6 7"},
    {"!!~q", "2"},
    {"((~q))", "2"},
    {"~b hello & ~c 201", "1"},
    {"~c 201&~b hello", "1"},
};

static void check_matches(const struct fixture *fx, const struct match_case *c)
{
    char err[200];
    size_t pos = 99;
    struct filter *f = filter_compile(c->expr, err, sizeof err, &pos);
    if (!f)
        fail_msg("'%s' did not compile: %s (at %zu)", c->expr, err, pos);
    assert_string_equal(filter_text(f), c->expr);
    char got[64] = "";
    for (int i = 0; i < NEX; i++)
        if (filter_match(f, fx->ex[i]))
            sprintf(got + strlen(got), "%s%d", got[0] ? " " : "", i);
    filter_free(f);
    if (strcmp(got, c->want) != 0)
        fail_msg("'%s' matched [%s], expected [%s]", c->expr, got, c->want);
}

static void test_matches(void **state)
{
    for (size_t i = 0; i < sizeof MATCHES / sizeof MATCHES[0]; i++)
        check_matches(*state, &MATCHES[i]);
}

static void test_body_decoded(void **state)
{
    const struct fixture *fx = *state;
    check_matches(fx, &(struct match_case){"~bs needle", "7"});
    check_matches(fx, &(struct match_case){"~b 'hidden in gzip'", "7"});
}

static void test_null_filter(void **state)
{
    const struct fixture *fx = *state;
    assert_true(filter_match(NULL, fx->ex[0]));
    assert_string_equal(filter_text(NULL), "");
    filter_free(NULL);
    struct filter *f = filter_compile(NULL, NULL, 0, NULL);
    assert_non_null(f);
    assert_true(filter_match(f, fx->ex[2]));
    assert_false(filter_reads_bodies(f));
    filter_free(f);
    assert_false(filter_reads_bodies(NULL));
}

/* Whether matching may read bodies, anywhere in the expression. */
static void test_reads_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        bool bodies;
    } CASES[] = {
        {"~b x", true},
        {"~bq x", true},
        {"~bs x", true},
        {"~c 200 | ~bs x", true},
        {"!(~m GET & ~bq x)", true},
        {"~c 200", false},
        {"~h x & ~u y", false},
        {"~s >1k", false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char err[128];
        size_t pos;
        struct filter *f = filter_compile(CASES[i].expr, err, sizeof err, &pos);
        assert_non_null(f);
        if (filter_reads_bodies(f) != CASES[i].bodies)
            fail_msg("%s: reads bodies %d", CASES[i].expr, !CASES[i].bodies);
        filter_free(f);
    }
}

/* ---- invalid expressions: message and byte offset ------------------------------------------ */

static const struct error_case {
    const char *expr;
    size_t pos;
    const char *msg; /* a substring of the message */
} ERRORS[] = {
    {"~", 0, "must be followed by a term name"},
    {"~x", 0, "unknown term ~x (see FILTER EXPRESSIONS in hspy(1), or ? in the interface)"},
    {"~m GET ~nope", 7, "unknown term ~nope"},
    {"~c5xx", 0, "did you mean ~c 5xx?"},
    {"~u", 2, "~u needs a regular expression"},
    {"~u )", 3, "~u needs a regular expression"},
    {"~u ~m GET", 3, "~u needs a regular expression"},
    {"~m GET &", 8, "expected a term at the end"},
    {"~m GET | | ~q", 9, "expected a term before '|'"},
    {"~m GET & & ~q", 9, "expected a term before '&'"},
    {"| ~q", 0, "expected a term before '|'"},
    /* an unclosed '(' is named where it opens, as a stray ')' is */
    {"(~q", 0, "'(' without a matching ')'"},
    {"~q & (~s | (~e)", 5, "'(' without a matching ')'"},
    {"((~q) | (~s", 8, "'(' without a matching ')'"},
    {"~q)", 2, "unexpected ')'"},
    {"()", 1, "expected a term before ')'"},
    {"!", 1, "expected a term at the end"},
    {"~u [a", 3, "bad regular expression"},
    {"~h 'a(b'", 3, "bad regular expression"},
    {"~u \"abc", 3, "unterminated quote"},
    {"~m GET 'x", 7, "unterminated quote"},
    {"~c abc", 3, "status code"},
    {"~c 1000", 3, "status code"},
    {"~c 42", 3, "status code"},
    {"~c", 2, "~c needs a value"},
    {"~size >10q", 9, "unknown size unit 'q'"},
    {"~size >", 7, "~size needs a value"},
    {"~size big", 6, "expected a number"},
    {"~dur 5", 6, "needs a unit"},
    {"~dur > 5 | ~q", 8, "needs a unit"},
    {"~dur 5fortnights", 6, "unknown duration unit 'fortnights'"},
    {"~w nosuch", 3, "unknown warning code 'nosuch'"},
    {"~w zz*", 3, "no warning code starts with 'zz'"},
    /* what the message quotes is shown, never obeyed: one line, no control bytes */
    {"~w 'a\nb'", 3, "unknown warning code 'a\\nb'"},
    {"~w '\x1b[2J'", 3, "unknown warning code '\\x1b[2J'"},
    {"~cache '\r\x07'", 7, "unknown cache outcome '\\r\\x07'"},
    {"~cache", 6, "~cache needs an outcome"},
    {"~cache nope", 7, "unknown cache outcome 'nope'"},
    {"~id 5-2", 4, "empty range"},
    {"~id x", 4, "whole number"},
    {"~conn 1.5", 6, "whole number"},
    /* regcomp's memory grows fourfold per stacked repetition: refused before it is called */
    {"~u 'x++++++++++++++++++++++++'", 3, "repetition applied twice"},
    {"~u a*{2}", 3, "repetition applied twice"},
    {"~u 'a{256}'", 3, "bound above 255"},
    {"~u '((a{50}){50}){50}'", 3, "nested repetitions too large"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
        const struct error_case *c = &ERRORS[i];
        char err[200] = "";
        size_t pos = 999;
        struct filter *f = filter_compile(c->expr, err, sizeof err, &pos);
        if (f) {
            filter_free(f);
            fail_msg("'%s' compiled but should not", c->expr);
        }
        if (!strstr(err, c->msg) || pos != c->pos)
            fail_msg("'%s': got \"%s\" at %zu, expected \"%s\" at %zu", c->expr, err, pos, c->msg,
                     c->pos);
        for (const char *e = err; *e; e++)
            assert_true((unsigned char)*e >= 0x20 && *e != 0x7f);
        /* The offset is *errpos's to give: a message naming another one reads as two. */
        if (strstr(err, "offset"))
            fail_msg("'%s': the message \"%s\" names an offset of its own", c->expr, err);
    }
}

static void expect_error(const char *expr, size_t want_pos, const char *msg)
{
    char err[200] = "";
    size_t pos = 0;
    struct filter *f = filter_compile(expr, err, sizeof err, &pos);
    assert_null(f);
    if (!strstr(err, msg) || pos != want_pos)
        fail_msg("got \"%s\" at %zu, expected \"%s\" at %zu", err, pos, msg, want_pos);
}

static void test_limits(void **state)
{
    (void)state;
    char *s = malloc(FILTER_EXPR_MAX * 4);
    /* nesting: FILTER_DEPTH_MAX levels compile, one more does not */
    size_t k = 0;
    for (int i = 0; i < FILTER_DEPTH_MAX; i++)
        s[k++] = '(';
    k += (size_t)sprintf(s + k, "~q");
    for (int i = 0; i < FILTER_DEPTH_MAX; i++)
        s[k++] = ')';
    s[k] = '\0';
    struct filter *f = filter_compile(s, NULL, 0, NULL);
    assert_non_null(f);
    filter_free(f);
    memmove(s + 1, s, k + 1);
    s[0] = '!';
    expect_error(s, (size_t)FILTER_DEPTH_MAX, "nested too deeply");
    /* too many terms: the first one past the limit is the error */
    k = 0;
    for (int i = 0; i <= FILTER_NODES_MAX; i++)
        k += (size_t)sprintf(s + k, "~q ");
    s[k] = '\0';
    expect_error(s, (size_t)FILTER_NODES_MAX * 3, "expression too large");
    /* too long */
    memset(s, 'a', FILTER_EXPR_MAX + 1);
    s[FILTER_EXPR_MAX + 1] = '\0';
    expect_error(s, FILTER_EXPR_MAX, "longer than");
    free(s);
}

/* Every prefix of every expression either compiles or fails with an offset inside it. */
static void test_prefixes(void **state)
{
    const struct fixture *fx = *state;
    char buf[256];
    for (size_t i = 0; i < sizeof MATCHES / sizeof MATCHES[0]; i++) {
        size_t n = strlen(MATCHES[i].expr);
        for (size_t cut = 0; cut <= n; cut++) {
            memcpy(buf, MATCHES[i].expr, cut);
            buf[cut] = '\0';
            char err[200];
            size_t pos = 999;
            struct filter *f = filter_compile(buf, err, sizeof err, &pos);
            if (f) {
                for (int e = 0; e < NEX; e++)
                    filter_match(f, fx->ex[e]);
                filter_free(f);
            } else if (pos > cut) {
                fail_msg("'%s': error offset %zu past the end", buf, pos);
            }
        }
    }
}

static void test_match_many(void **state)
{
    const struct fixture *fx = *state;
    struct exchange *list[40];
    uint8_t out[40];
    for (int i = 0; i < 40; i++)
        list[i] = i % 5 == 4 ? NULL : fx->ex[i % NEX];
    struct filter *f = filter_compile("~m GET ~c 200 | ~tunnel", NULL, 0, NULL);
    size_t hits = filter_match_many(f, list, 40, out), want = 0;
    for (int i = 0; i < 40; i++) {
        bool m = list[i] && filter_match(f, list[i]);
        assert_int_equal(out[i], m);
        want += m;
    }
    assert_int_equal(hits, want);
    filter_free(f);
    assert_int_equal(filter_match_many(NULL, list, 3, out), 3 - (list[2] == NULL));
    assert_int_equal(filter_match_many(NULL, list, 0, out), 0);
}

static void test_term_info(void **state)
{
    (void)state;
    const char *syntax, *help;
    size_t n = 0;
    while (filter_term_info(n, &syntax, &help)) {
        assert_true(syntax[0] == '~');
        assert_true(strlen(help) > 3);
        /* every listed term compiles with an example argument where it needs one */
        n++;
    }
    assert_true(n >= 30);
    assert_false(filter_term_info(n, &syntax, &help));
}

/* ---- a million exchanges ------------------------------------------------------------------ */

/*
 * Clones src's parsed state into a new exchange the way the engine leaves one: its own raw
 * buffer, header array in its own arena.
 */
static struct exchange *clone(const struct exchange *src, uint64_t id)
{
    static const struct exchange_limits limits = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    struct exchange *ex = exchange_new(&limits);
    const struct message *from[2] = {&src->req, &src->resp};
    struct message *to[2] = {&ex->req, &ex->resp};
    for (int s = 0; s < 2; s++) {
        struct dynbuf raw = to[s]->raw;
        *to[s] = *from[s];
        to[s]->raw = raw;
        dynbuf_append(&to[s]->raw, from[s]->raw.data, from[s]->raw.len);
        size_t hb = from[s]->head.nheaders * sizeof(struct http_header);
        to[s]->head.headers = hb ? arena_memdup(&ex->arena, from[s]->head.headers, hb) : NULL;
        to[s]->head.cap = from[s]->head.nheaders;
    }
    memcpy(ex->t, src->t, sizeof ex->t);
    ex->flags = src->flags;
    ex->client = src->client;
    ex->server = src->server;
    ex->id = id;
    ex->conn_id = id / 4 + 1;
    for (uint16_t i = 0; i < src->nwarnings; i++)
        exchange_warn(ex, (enum warning_code)src->warnings[i].code,
                      (enum side)src->warnings[i].side, src->warnings[i].offset, NULL);
    return ex;
}

/* CPU time of this thread: a busy shared machine inflates wall time, not this. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_million(void **state)
{
    const struct fixture *fx = *state;
    /* Sanitizer builds are several times slower and hungrier: a tenth is enough there. */
#if defined(__SANITIZE_ADDRESS__)
    size_t n = 100000;
#else
    size_t n = 1000000;
#endif
    const char *env = getenv("HSPY_FILTER_BENCH_N");
    if (env)
        n = strtoul(env, NULL, 10);
    struct exchange **all = malloc(n * sizeof *all);
    double t = now_ms();
    for (size_t i = 0; i < n; i++)
        all[i] = clone(fx->ex[i % NEX], i + 1);
    print_message("built %zu exchanges in %.0f ms\n", n, now_ms() - t);
    static const char *const EXPRS[] = {
        "~m POST",
        "~c 5xx",
        "~u /api",
        "~d example\\.com",
        "~h 'if-none-match'",
        "~w | ~e",
        "!~s | ~dur >1s",
        "~m GET & ~c 200 & ~t json",
        "~u 'api/u[a-z]+rs'",
        "~u 'users\\?page=[0-9]'",
        "~cache stale",
        "~bs needle",
    };
    uint8_t *out = malloc(n);
    print_message("%-30s %9s %14s %14s\n", "expression", "matches", "filter_match", "match_many");
    /* HSPY_FILTER_BENCH_EXPR times one expression of your own instead (for profiling). */
    const char *only = getenv("HSPY_FILTER_BENCH_EXPR");
    for (size_t e = 0; e < sizeof EXPRS / sizeof EXPRS[0]; e++) {
        const char *expr = only ? only : EXPRS[e];
        struct filter *f = filter_compile(expr, NULL, 0, NULL);
        assert_non_null(f);
        size_t one = 0;
        t = now_ms();
        for (size_t i = 0; i < n; i++)
            one += filter_match(f, all[i]);
        double ms_one = now_ms() - t;
        t = now_ms();
        size_t many = filter_match_many(f, all, n, out);
        double ms_many = now_ms() - t;
        print_message("%-30s %9zu %11.1f ms %11.1f ms\n", expr, many, ms_one, ms_many);
        /* both paths agree with each other and with the fixture's answer per repetition */
        uint8_t answer[NEX];
        size_t want = 0;
        for (size_t i = 0; i < NEX; i++) {
            answer[i] = filter_match(f, fx->ex[i]);
            want += answer[i] * (n / NEX + (i < n % NEX));
        }
        assert_int_equal(one, want);
        assert_int_equal(many, want);
        for (size_t i = 0; i < n; i++)
            if (out[i] != answer[i % NEX])
                fail_msg("%s: exchange %zu answered %d, expected %d", expr, i, out[i],
                         answer[i % NEX]);
        filter_free(f);
        if (only)
            break;
    }
    free(out);
    for (size_t i = 0; i < n; i++)
        exchange_free(all[i]);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches),     cmocka_unit_test(test_body_decoded),
        cmocka_unit_test(test_null_filter), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),      cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_term_info),   cmocka_unit_test(test_match_many),
        cmocka_unit_test(test_million),     cmocka_unit_test(test_reads_bodies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
