/*
 * The head parser: one line per case (input, expected result, fields, warnings). Every case is
 * also fed byte by byte and split at every offset; the result must be identical.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/dynbuf.h"
#include "hspy/http.h"

struct head_case {
    int kind;
    const char *in;     /* C escapes allowed */
    int rc;             /* > 0: expect consumed == strlen of the head part; use -1 for "whole" */
    const char *method; /* or version for responses */
    const char *target; /* or reason for responses */
    int status;
    int nheaders;
    const char *warnings; /* comma-separated warning names expected, in any order; "" = none */
};

#define REQ   HTTP_REQUEST
#define RESP  HTTP_RESPONSE
#define WHOLE 0

static const struct head_case CASES[] = {
    /* plain requests */
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1, ""},
    {REQ, "GET /x?y=1 HTTP/1.0\r\n\r\n", WHOLE, "GET", "/x?y=1", 0, 0, ""},
    {REQ, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 48, "POST", "/p", 0, 2,
     ""},
    {REQ, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "OPTIONS", "*", 0, 1, ""},
    {REQ, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", WHOLE, "CONNECT",
     "a.example:443", 0, 1, ""},
    {REQ, "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "http://a/b", 0, 1, ""},
    /* leniencies with warnings */
    {REQ, "GET / HTTP/1.1\nHost: a\n\n", WHOLE, "GET", "/", 0, 1, "bare-lf"},
    {REQ, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1,
     "leading-empty-lines"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", WHOLE, "GET", "/", 0, 2, "obs-fold"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", WHOLE, "GET", "/", 0,
     2, "ws-before-colon"},
    {REQ, "GET / HTTP/1.1\r\n Host: a\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1,
     "ws-after-start-line"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nX-A\x01: b\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "invalid-name-char"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "invalid-value-char"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nX: a\rz\r\n\r\n", WHOLE, "GET", "/", 0, 2, "bare-cr"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nX: a\\0z\r\n\r\n", WHOLE, "GET", "/", 0, 2, "nul-byte"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "header-without-colon"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "header-without-colon"},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", WHOLE, "GET", "/", 0, 2, "empty-header-name"},
    /* the same with 32 bytes or more from the line's start to the end: another lane of the scan */
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\n: a value that runs past 32 bytes\r\n\r\n", WHOLE, "GET",
     "/", 0, 2, "empty-header-name"},
    {REQ, "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "G@T", "/", 0, 1, "invalid-method"},
    {REQ, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/a b", 0, 1, "invalid-target"},
    {REQ, "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/\x7f", 0, 1, "invalid-target"},
    {REQ, "GET / HTTP/1.2\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1, "invalid-version"},
    {REQ, "GET / http/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1, "invalid-version"},
    {REQ, "GET  /  HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 1, "start-line-whitespace"},
    {REQ, "GET / HTTP/1.1\r\nContent-Lenght: 5\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "header-name-typo"},
    {REQ, "GET / HTTP/1.1\r\nTransfer-Encodng: chunked\r\nHost: a\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "header-name-typo"},
    {REQ, "GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\nContent-Type: x\r\nHost: a\r\n\r\n", WHOLE,
     "GET", "/", 0, 3, ""},
    {REQ, "GET / HTTP/1.1\r\n\r\n", WHOLE, "GET", "/", 0, 0, "host-missing"},
    {REQ, "GET / HTTP/1.0\r\n\r\n", WHOLE, "GET", "/", 0, 0, ""},
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", WHOLE, "GET", "/", 0, 2,
     "host-duplicate"},
    {REQ, "GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n", WHOLE, "GET", "http://a/x", 0, 1,
     "host-mismatch"},
    {REQ, "GET http://u@A:80/x HTTP/1.1\r\nHost: a:80\r\n\r\n", WHOLE, "GET", "http://u@A:80/x", 0,
     1, ""},
    {REQ, "GET /path\r\n", WHOLE, "GET", "/path", 0, 0, "http09"},
    {REQ, "GET HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, "GET", "", 0, 1, "invalid-target"},
    {REQ, "GET  HTTP/1.0\r\n\r\n", WHOLE, "GET", "", 0, 0, "invalid-target,start-line-whitespace"},
    /* responses */
    {RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", WHOLE, "HTTP/1.1", "OK", 200, 1, ""},
    {RESP, "HTTP/1.1 404 Not Found\r\n\r\n", WHOLE, "HTTP/1.1", "Not Found", 404, 0, ""},
    {RESP, "HTTP/1.1 200\r\n\r\n", WHOLE, "HTTP/1.1", "", 200, 0, ""},
    {RESP, "HTTP/1.1 200 \r\n\r\n", WHOLE, "HTTP/1.1", "", 200, 0, ""},
    {RESP, "HTTP/1.0 301 Moved Permanently\r\nLocation: /x\r\n\r\n", WHOLE, "HTTP/1.0",
     "Moved Permanently", 301, 1, ""},
    {RESP, "HTTP/1.1 20 OK\r\n\r\n", WHOLE, "HTTP/1.1", "OK", 20, 0, "invalid-status"},
    {RESP, "HTTP/1.1 2000 OK\r\n\r\n", WHOLE, "HTTP/1.1", "OK", 200, 0, "invalid-status"},
    {RESP, "HTTP/1.1 200 O\x01K\r\n\r\n", WHOLE, "HTTP/1.1", "O\x01K", 200, 0, "invalid-reason"},
    {RESP, "HTTP/1.1 200 OK\nA: b\n\n", WHOLE, "HTTP/1.1", "OK", 200, 1, "bare-lf"},
    {RESP, "HTTP/2 200 OK\r\n\r\n", WHOLE, "HTTP/2", "OK", 200, 0, "invalid-version"},
    /* incomplete and invalid */
    {REQ, "GET / HTTP/1.1\r\nHost: a\r\n", HTTP_NEED_MORE, NULL, NULL, 0, 0, ""},
    {REQ, "GET / HTT", HTTP_NEED_MORE, NULL, NULL, 0, 0, ""},
    {REQ, "\x16\x03\x01\x02\x00", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {REQ, "GARBAGE\r\n\r\n", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {RESP, "SSH-2.0-OpenSSH\r\n", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {RESP, "HTTX", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {RESP, "HTT", HTTP_NEED_MORE, NULL, NULL, 0, 0, ""},
    /* a line that cannot start a message has no warnings, however it is cut */
    {REQ, "\x16\x03\x01\n", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {RESP, "HTTX/1.1 200 OK\n\n", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    {REQ, "*--\n--\n", HTTP_INVALID, NULL, NULL, 0, 0, ""},
    /* bare LF on every line and an empty value (a capture of an empty User-Agent) */
    {REQ, "GET / HTTP/1.0\nUser-Agent:\n\n", WHOLE, "GET", "/", 0, 1, "bare-lf"},
    /* odd target, control characters, bare LF, a line without a colon holding a NUL, and a
     * head ended by a CR alone (reduced from a fuzzed capture) */
    {REQ, "GET /\xd9 HTTP/1.1\r\nA\x01: b\x02\n\\0x\n\r*--\n", 28, "GET", "/\xd9", 0, 2,
     "invalid-target,invalid-name-char,invalid-value-char,bare-lf,header-without-colon,nul-byte,"
     "bare-cr,host-missing"},
};

/* Limits small enough that the table's heads reach them. */
static const struct http_limits SMALL = {40, 2, 16, 4096};

/* A result reduced to what must not depend on how the input was split. */
struct outcome {
    int rc;
    struct http_head head;
    struct http_header headers[64];
    struct http_warnings w;
};

static void parse_whole(int kind, const uint8_t *in, size_t n, const struct http_limits *lim,
                        struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->head.headers = o->headers;
    o->head.cap = 64;
    o->rc = http_head_parse(in, n, (enum http_kind)kind, lim, NULL, &o->head, &o->w);
}

/* Feeds growing prefixes: cut points in cuts (ascending, ending with n). */
static void parse_split(int kind, const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
                        const struct http_limits *lim, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->head.headers = o->headers;
    o->head.cap = 64;
    struct http_scan scan = {0};
    uint8_t *buf = malloc(n + 1);
    o->rc = HTTP_NEED_MORE;
    for (size_t i = 0; i < ncuts && o->rc == HTTP_NEED_MORE; i++) {
        /* Copy into a fresh exact-size buffer each time so over-reads show under ASan. */
        uint8_t *exact = malloc(cuts[i] ? cuts[i] : 1);
        memcpy(exact, in, cuts[i]);
        o->rc = http_head_parse(exact, cuts[i], (enum http_kind)kind, lim, &scan, &o->head, &o->w);
        free(exact);
    }
    free(buf);
}

/* Everything the parser reports must be identical, whatever the cuts were. */
static void same(const struct outcome *a, const struct outcome *b, size_t ci, const char *how)
{
    if (a->rc != b->rc)
        fail_msg("case %zu %s: rc %d vs %d", ci, how, a->rc, b->rc);
    if (a->w.n != b->w.n || a->w.dropped != b->w.dropped ||
        memcmp(a->w.w, b->w.w, a->w.n * sizeof a->w.w[0])) {
        for (uint16_t i = 0; i < a->w.n || i < b->w.n; i++)
            print_message("  %-28s %-28s\n",
                          i < a->w.n ? warning_name((enum warning_code)a->w.w[i].code) : "",
                          i < b->w.n ? warning_name((enum warning_code)b->w.w[i].code) : "");
        fail_msg("case %zu %s: warnings differ (%u vs %u)", ci, how, a->w.n, b->w.n);
    }
    if (a->rc == HTTP_INVALID)
        return; /* no head */
    const struct http_head *x = &a->head, *y = &b->head;
    if (memcmp(&x->method, &y->method, sizeof x->method) ||
        memcmp(&x->target, &y->target, sizeof x->target) ||
        memcmp(&x->version, &y->version, sizeof x->version) ||
        memcmp(&x->reason, &y->reason, sizeof x->reason) || x->status != y->status ||
        x->nheaders != y->nheaders || x->total_headers != y->total_headers ||
        x->flags != y->flags || x->len != y->len || x->start != y->start || x->major != y->major ||
        x->minor != y->minor || x->kind != y->kind ||
        memcmp(x->field_index, y->field_index, sizeof x->field_index) ||
        memcmp(x->field_count, y->field_count, sizeof x->field_count))
        fail_msg("case %zu %s: head differs", ci, how);
    if (memcmp(a->headers, b->headers, x->nheaders * sizeof a->headers[0]))
        fail_msg("case %zu %s: headers differ", ci, how);
}

/* Whole (with and without a scan), byte by byte, in pieces of several sizes up to 17 bytes and in
 * two pieces at every offset. */
static void check_splits(int kind, const uint8_t *in, size_t n, const struct http_limits *lim,
                         size_t ci)
{
    struct outcome whole, split;
    parse_whole(kind, in, n, lim, &whole);
    size_t all[1] = {n};
    parse_split(kind, in, n, all, 1, lim, &split);
    same(&whole, &split, ci, "whole with a scan");
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    if (n) {
        parse_split(kind, in, n, cuts, n, lim, &split);
        same(&whole, &split, ci, "byte by byte");
    }
    /* Pieces of sizes around the 16 bytes the caller's inline check looks at, and sizes prime to
     * each other, so that a LF, a CR and the end of a head come at every offset in them. */
    static const size_t piece_sizes[] = {2, 3, 5, 7, 13, 15, 16, 17};
    for (size_t pi = 0; pi < sizeof piece_sizes / sizeof piece_sizes[0]; pi++) {
        size_t k = piece_sizes[pi], m = 0;
        if (k >= n)
            break;
        for (size_t at = k; at < n + k; at += k)
            cuts[m++] = at < n ? at : n;
        parse_split(kind, in, n, cuts, m, lim, &split);
        same(&whole, &split, ci, "pieces");
        /* Each piece asked about twice: a call with no new bytes (a caller polled, or a read
         * brought nothing) changes nothing. */
        size_t *twice = malloc(2 * m * sizeof *twice);
        for (size_t i = 0; i < m; i++)
            twice[2 * i] = twice[2 * i + 1] = cuts[i];
        parse_split(kind, in, n, twice, 2 * m, lim, &split);
        same(&whole, &split, ci, "pieces, each twice");
        free(twice);
    }
    for (size_t at = 1; at < n; at++) {
        size_t two[2] = {at, n};
        parse_split(kind, in, n, two, 2, lim, &split);
        if (whole.rc != split.rc || memcmp(&whole.w, &split.w, sizeof whole.w))
            print_message("case %zu: cut at %zu\n", ci, at);
        same(&whole, &split, ci, "split");
    }
    free(cuts);
}

static void check_case(const struct head_case *c, size_t ci, const uint8_t *in, size_t n,
                       const struct outcome *o)
{
    int want = c->rc == WHOLE ? (int)n : c->rc;
    if (o->rc != want)
        fail_msg("case %zu: rc %d, want %d", ci, o->rc, want);
    if (o->rc <= 0)
        return;
    const struct http_head *h = &o->head;
    char a[256], b[256];
    if (c->kind == REQ) {
        snprintf(a, sizeof a, "%.*s", (int)h->method.len, (const char *)in + h->method.off);
        snprintf(b, sizeof b, "%.*s", (int)h->target.len, (const char *)in + h->target.off);
    } else {
        snprintf(a, sizeof a, "%.*s", (int)h->version.len, (const char *)in + h->version.off);
        snprintf(b, sizeof b, "%.*s", (int)h->reason.len, (const char *)in + h->reason.off);
        if (h->status != c->status)
            fail_msg("case %zu: status %u, want %d", ci, h->status, c->status);
    }
    if (strcmp(a, c->method) || strcmp(b, c->target))
        fail_msg("case %zu: got '%s' '%s', want '%s' '%s'", ci, a, b, c->method, c->target);
    if ((int)h->nheaders != c->nheaders)
        fail_msg("case %zu: %u headers, want %d", ci, h->nheaders, c->nheaders);
    /* Every expected warning present, and no unexpected one. */
    char list[256];
    snprintf(list, sizeof list, "%s", c->warnings);
    int expected = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        expected++;
        bool found = false;
        for (uint16_t i = 0; i < o->w.n; i++)
            found |= strcmp(warning_name((enum warning_code)o->w.w[i].code), tok) == 0;
        if (!found)
            fail_msg("case %zu: warning %s missing", ci, tok);
    }
    for (uint16_t i = 0; i < o->w.n; i++)
        if (!strstr(c->warnings, warning_name((enum warning_code)o->w.w[i].code)))
            fail_msg("case %zu: unexpected warning %s", ci,
                     warning_name((enum warning_code)o->w.w[i].code));
    (void)expected;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const struct head_case *c = &CASES[ci];
        size_t n;
        uint8_t *in = tu_unescape(c->in, &n);
        struct outcome whole;
        parse_whole(c->kind, in, n, NULL, &whole);
        check_case(c, ci, in, n, &whole);
        check_splits(c->kind, in, n, NULL, ci);
        /* Small limits: the head and field caps are reached at different calls when cut. */
        check_splits(c->kind, in, n, &SMALL, ci);
        free(in);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    lim.head_max = 64;
    lim.headers_max = 2;
    const char *big =
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaa\r\n\r\n";
    struct http_header hd[8];
    struct http_head h = {.headers = hd, .cap = 8};
    struct http_warnings w = {0};
    int rc = http_head_parse((const uint8_t *)big, strlen(big), HTTP_REQUEST, &lim, NULL, &h, &w);
    assert_int_equal(rc, HTTP_TOO_LARGE);
    assert_true(h.flags & HEAD_TRUNCATED);
    assert_string_equal(warning_name((enum warning_code)w.w[w.n - 1].code), "head-too-large");

    const char *many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    memset(&w, 0, sizeof w);
    rc = http_head_parse((const uint8_t *)many, strlen(many), HTTP_REQUEST, &lim, NULL, &h, &w);
    lim.head_max = 4096;
    rc = http_head_parse((const uint8_t *)many, strlen(many), HTTP_REQUEST, &lim, NULL, &h, &w);
    assert_int_equal(rc, (int)strlen(many));
    assert_int_equal(h.nheaders, 2);
    assert_int_equal(h.total_headers, 4);
    bool found = false;
    for (int i = 0; i < w.n; i++)
        found |= w.w[i].code == W_TOO_MANY_HEADERS;
    assert_true(found);
}

static void test_100k_headers(void **state)
{
    (void)state;
    /* 100,000 header lines inside a 4 MB head limit: counted, not kept, no crash. */
    struct dynbuf b;
    dynbuf_init(&b, 8 << 20);
    dynbuf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 100000; i++)
        dynbuf_printf(&b, "X-%d: v\r\n", i);
    dynbuf_adds(&b, "\r\n");
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    lim.head_max = 8 << 20;
    struct http_header hd[256];
    struct http_head h = {.headers = hd, .cap = 256};
    struct http_warnings w = {0};
    int rc = http_head_parse(b.data, b.len, HTTP_REQUEST, &lim, NULL, &h, &w);
    assert_int_equal(rc, (int)b.len);
    assert_int_equal(h.nheaders, 256);
    assert_int_equal(h.total_headers, 100001);
    dynbuf_cleanup(&b);
}

static void test_field_lookup(void **state)
{
    (void)state;
    const char *r = "GET / HTTP/1.1\r\nhOsT: x\r\nConnection: keep-alive, Upgrade\r\n"
                    "Upgrade: websocket\r\n\r\n";
    struct http_header hd[8];
    struct http_head h = {.headers = hd, .cap = 8};
    int rc = http_head_parse((const uint8_t *)r, strlen(r), HTTP_REQUEST, NULL, NULL, &h, NULL);
    assert_true(rc > 0);
    size_t n;
    const uint8_t *v = http_head_field((const uint8_t *)r, &h, HF_HOST, &n);
    assert_non_null(v);
    assert_int_equal(n, 1);
    assert_true(http_head_has_token((const uint8_t *)r, &h, HF_CONNECTION, "upgrade"));
    assert_false(http_head_has_token((const uint8_t *)r, &h, HF_CONNECTION, "close"));
    assert_non_null(http_head_find((const uint8_t *)r, &h, "UPGRADE", &n));
    assert_null(http_head_find((const uint8_t *)r, &h, "x-none", &n));
}

/*
 * A head whose end has not arrived reports its start line only: no field line and no warning
 * about one (the bare LF of the start line is its own), whole and in every split.
 */
static void test_incomplete_head_start_line_only(void **state)
{
    (void)state;
    static const char *const ins[] = {
        "GET /a HTTP/1.1\nHost: a\nX: a\x01b\nContent-Lenght: 5\n",
        "GET /a HTTP/1.1\nHost: a\r\nX: b\r\n\r",        /* CR LF CR: the next byte decides */
        "GET /a HTTP/1.1\nHost: a\r\n X: b\r\nNo colon", /* no LF at the end */
    };
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
        size_t n;
        uint8_t *in = tu_unescape(ins[i], &n);
        struct outcome o;
        parse_whole(REQ, in, n, NULL, &o);
        assert_int_equal(o.rc, HTTP_NEED_MORE);
        assert_int_equal(o.head.nheaders, 0);
        assert_int_equal(o.head.total_headers, 0);
        assert_int_equal(o.head.field_index[HF_HOST], -1);
        assert_int_equal(o.head.method.len, 3);
        assert_int_equal(o.head.target.len, 2);
        assert_int_equal(o.w.n, 1);
        assert_int_equal(o.w.w[0].code, W_BARE_LF);
        assert_int_equal(o.w.w[0].off, 15);
        check_splits(REQ, in, n, NULL, 2000 + i);
        free(in);
    }
}

/*
 * A head whose first read holds the start line and many field lines, but not the end: those
 * lines are parsed once and put aside (the head still shows none of them), and the read that
 * completes the head parses on from where that stopped, with the same result as the whole head.
 */
static void test_lines_parsed_ahead_are_kept(void **state)
{
    (void)state;
    size_t n;
    uint8_t *in = tu_unescape("GET /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nContent-Lenght: 2\r\n"
                              "Bad\x01Name: v\r\nAccept: */*\r\nX-Two: 2\r\n\r\n",
                              &n);
    struct outcome whole, split;
    parse_whole(REQ, in, n, NULL, &whole);
    assert_true(whole.rc > 0);
    memset(&split, 0, sizeof split);
    split.head.headers = split.headers;
    split.head.cap = 64;
    struct http_scan scan = {0};
    size_t first = n - 8; /* inside "X-Two: 2" */
    split.rc = http_head_parse(in, first, HTTP_REQUEST, NULL, &scan, &split.head, &split.w);
    assert_int_equal(split.rc, HTTP_NEED_MORE);
    assert_int_equal(split.head.nheaders, 0);
    assert_int_equal(split.head.field_index[HF_HOST], -1);
    assert_int_equal(split.w.n, 0);
    assert_int_equal(scan.kept_at, n - 12); /* the start of the line not complete yet */
    assert_int_equal(scan.kept_headers, 5);
    assert_true(scan.kept_warn_n >= 2); /* the name typo and the bad name */
    split.rc = http_head_parse(in, n, HTTP_REQUEST, NULL, &scan, &split.head, &split.w);
    assert_int_equal(scan.kept_at, 0);
    same(&whole, &split, 0, "two reads");
    free(in);
}

/* Every way a head can end, right after the start line and after a field line. */
static void test_head_ends(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int nheaders;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", 18, 0},
        {"GET / HTTP/1.1\r\n\n", 17, 0},
        {"GET / HTTP/1.1\r\n\rX", 17, 0},
        {"GET / HTTP/1.1\r\n\r", HTTP_NEED_MORE, 0},
        {"GET / HTTP/1.1\r\nA: b\r\n\r\nbody", 24, 1},
        {"GET / HTTP/1.1\r\nA: b\n\nbody", 22, 1},
        {"GET / HTTP/1.1\r\nA: b\r\n\rbody", 23, 1},
        {"GET / HTTP/1.1\r\nA: b\r\n\r", HTTP_NEED_MORE, 0},
        {"GET / HTTP/1.1\r\nA: b\r\n", HTTP_NEED_MORE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *in = tu_unescape(cases[i].in, &n);
        struct outcome o;
        parse_whole(REQ, in, n, NULL, &o);
        if (o.rc != cases[i].rc || (int)o.head.nheaders != cases[i].nheaders)
            fail_msg("end %zu: rc %d with %u headers", i, o.rc, o.head.nheaders);
        check_splits(REQ, in, n, NULL, 3000 + i);
        free(in);
    }
}

/*
 * The inline check of a field lines piece takes a LF followed by any byte in 0x08-0x0f (CR and
 * LF among them) as a possible end of the head and asks the parser. Each such byte after a
 * field line's LF, with the LF at every position of a 16-byte piece (and the byte after it in
 * the next piece or the same one), parses as when the head comes whole: an obs-fold line (TAB),
 * a line starting with another control, the real ends.
 */
static void test_lf_then_control_every_alignment(void **state)
{
    (void)state;
    for (unsigned b = 0x08; b <= 0x0f; b++) {
        for (size_t pad = 0; pad < 16; pad++) {
            char text[160];
            int n =
                snprintf(text, sizeof text, "GET / HTTP/1.1\r\nHost: h\r\nA: %.*s\n%cX: y\r\n\r\n",
                         (int)pad, "0123456789abcdef", (char)b);
            assert_true(n > 0 && (size_t)n < sizeof text);
            check_splits(REQ, (const uint8_t *)text, (size_t)n, NULL, 5000 + b * 16 + pad);
        }
    }
}

/*
 * A head of tiny field lines that never ends, fed in 16-byte pieces: the search for its end
 * stops at head_max (too large, parsed as far as the limit, with the header cap applied then),
 * exactly as when the same bytes come whole.
 */
static void test_endless_tiny_lines(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    dynbuf_adds(&b, "GET / HTTP/1.1\r\n");
    while (b.len < 70000)
        dynbuf_adds(&b, "A:\r\n");
    struct outcome whole, split;
    parse_whole(REQ, b.data, b.len, NULL, &whole);
    assert_int_equal(whole.rc, HTTP_TOO_LARGE);
    assert_true(whole.head.flags & HEAD_TRUNCATED);
    assert_int_equal(whole.head.nheaders, 64);
    assert_int_equal(whole.head.total_headers, (HTTP_HEAD_MAX_DEFAULT - 16) / 4);
    size_t ncuts = (b.len + 15) / 16;
    size_t *cuts = malloc(ncuts * sizeof *cuts);
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = (i + 1) * 16 < b.len ? (i + 1) * 16 : b.len;
    parse_split(REQ, b.data, b.len, cuts, ncuts, NULL, &split);
    same(&whole, &split, 4000, "16-byte pieces");
    free(cuts);
    dynbuf_cleanup(&b);
}

static void test_looks_like_and_resync(void **state)
{
    (void)state;
    assert_int_equal(http_looks_like((const uint8_t *)"GET / HTTP/1.1", 14, HTTP_REQUEST), 1);
    assert_int_equal(http_looks_like((const uint8_t *)"GE", 2, HTTP_REQUEST), -1);
    assert_int_equal(http_looks_like((const uint8_t *)"\x16\x03", 2, HTTP_REQUEST), 0);
    assert_int_equal(http_looks_like((const uint8_t *)"HTTP/1.1 200", 12, HTTP_RESPONSE), 1);
    assert_int_equal(http_looks_like((const uint8_t *)"HTTP/", 5, HTTP_RESPONSE), -1);
    assert_int_equal(http_looks_like((const uint8_t *)"get / x", 7, HTTP_REQUEST), 0);
    const char *s = "junk body\r\nmore\r\nPOST /x HTTP/1.1\r\n";
    size_t keep;
    assert_int_equal(http_resync((const uint8_t *)s, strlen(s), HTTP_REQUEST, &keep), 17);
    const char *t = "junk\r\nPO";
    assert_int_equal(http_resync((const uint8_t *)t, strlen(t), HTTP_REQUEST, &keep), strlen(t));
    assert_int_equal(keep, 2);
}

/* The request line read before (or without) parsing: one line per case, "-" for no method. */
static const struct {
    const char *in;
    const char *method, *target;
    bool whole, head;
} PEEKS[] = {
    {"HEAD /x HTTP/1.1\r\n", "HEAD", "/x", true, true},
    {"HEAD /x HTTP/1.1\nHost: a\n", "HEAD", "/x", true, true},
    {"\r\n\nHEAD / HTTP/1.1\r\nHost: a", "HEAD", "/", true, true},
    {"HEAD /x\r\n", "HEAD", "/x", true, true},
    {"HEAD  /x HTTP/1.1\r\n", "HEAD", "", true, true},
    {"HEAD /x HT", "HEAD", "/x", false, false},
    {"HEAD /x HTTP/1.1\r", "HEAD", "/x", false, false},
    {"HEAD ", "HEAD", "", false, false},
    {"HEAD", "-", "", false, false},
    {"HEAD\r\n", "-", "", false, false},
    {"head / HTTP/1.1\r\n", "head", "/", true, false},
    {"HEADER / HTTP/1.1\r\n", "HEADER", "/", true, false},
    {"GET / HTTP/1.1\r\n", "GET", "/", true, false},
    {" HEAD / HTTP/1.1\r\n", "-", "", false, false},
    {"", "-", "", false, false},
    {"\x16\x03\x01\\0\xa5 \n", "\x16\x03\x01\\0\xa5", "", true, false},
};

/* A field of a head not parsed, read from the bytes that arrived: only a whole line counts. */
static const struct {
    const char *in, *name;
    const char *value; /* NULL: none */
} PEEK_FIELDS[] = {
    {"GET / HTTP/1.1\r\nHost: a.example\r\nUser-Ag", "host", "a.example"},
    {"GET / HTTP/1.1\r\nhOST:   a.example  \r\n", "host", "a.example"},
    {"\r\nGET / HTTP/1.1\nX: 1\nHost:b\nAcc", "host", "b"},
    {"GET / HTTP/1.1\r\nHost: a.exa", "host", NULL},
    {"GET / HTTP/1.1\r\nHost: a.example\r", "host", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\n b\r\n", "host", NULL},
    {"GET / HTTP/1.1\r\nHost : a\r\n", "host", NULL},
    {"GET / HTTP/1.1\r\nHostname: a\r\n", "host", NULL},
    {"GET / HTTP/1.1\r\n\r\nHost: late\r\n", "host", NULL},
    {"Host: a\r\nHost: b\r\n", "host", "b"},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n", "host", "a"},
    {"GET / HTTP/1.1\r\nHost:\r\n", "host", ""},
    {"Host: a", "host", NULL},
    {"", "host", NULL},
};

static void test_peek_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PEEK_FIELDS / sizeof PEEK_FIELDS[0]; i++) {
        size_t n;
        uint8_t *in = tu_unescape(PEEK_FIELDS[i].in, &n);
        /* an exact-size copy, so that a read past it is caught */
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, in, n);
        struct http_span v;
        bool got = http_peek_field(exact, n, PEEK_FIELDS[i].name, &v);
        if (got != (PEEK_FIELDS[i].value != NULL))
            fail_msg("case %zu (%s): found %d", i, PEEK_FIELDS[i].in, got);
        if (got && !http_span_eq(exact, v, PEEK_FIELDS[i].value))
            fail_msg("case %zu (%s): value '%.*s'", i, PEEK_FIELDS[i].in, (int)v.len,
                     (const char *)exact + v.off);
        free(exact);
        free(in);
    }
}

static void test_peek_request_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PEEKS / sizeof PEEKS[0]; i++) {
        size_t n;
        uint8_t *in = tu_unescape(PEEKS[i].in, &n);
        size_t mlen;
        uint8_t *want_method = tu_unescape(PEEKS[i].method, &mlen);
        struct http_span method, target;
        bool whole = false;
        bool got = http_peek_request_line(in, n, &method, &target, &whole);
        if (strcmp(PEEKS[i].method, "-") == 0) {
            if (got)
                fail_msg("case %zu (%s): a method where none is", i, PEEKS[i].in);
        } else {
            if (!got)
                fail_msg("case %zu (%s): no method", i, PEEKS[i].in);
            assert_int_equal(method.len, mlen);
            assert_memory_equal(in + method.off, want_method, mlen);
            assert_true(http_span_eq(in, target, PEEKS[i].target));
            if (whole != PEEKS[i].whole)
                fail_msg("case %zu (%s): whole %d", i, PEEKS[i].in, whole);
        }
        if (http_request_line_is_head(in, n) != PEEKS[i].head)
            fail_msg("case %zu (%s): is_head %d", i, PEEKS[i].in, !PEEKS[i].head);
        /* Every prefix, in an exact-size copy so that a read past it is caught: HEAD only
         * once the line is whole, and from then on. */
        bool seen = false;
        for (size_t k = 0; k <= n; k++) {
            uint8_t *cut = malloc(k ? k : 1);
            memcpy(cut, in, k);
            bool head = http_request_line_is_head(cut, k);
            free(cut);
            if (seen && !head)
                fail_msg("case %zu (%s): HEAD at a shorter prefix, not at %zu", i, PEEKS[i].in, k);
            seen = head;
        }
        assert_int_equal(seen, PEEKS[i].head);
        free(in);
        free(want_method);
    }
}

/* --- generated heads --- */

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static const char *pick(uint32_t *s, const char *const *v, size_t n)
{
    return v[next_rand(s) % n];
}

/*
 * A head built from pieces real and broken traffic is made of: start lines, field lines, line
 * ends and a few random bytes, so that every parser path meets every kind of cut.
 */
static size_t generate(uint32_t *s, uint8_t *out, size_t cap, int *kind)
{
    static const char *const req_lines[] = {"GET / HTTP/1.1",
                                            "POST /a?b=c HTTP/1.0",
                                            "GET /x",
                                            "G@T / HTTP/1.1",
                                            "GET  /a b  HTTP/1.1",
                                            "CONNECT h:443 HTTP/1.1",
                                            "GET http://h/x HTTP/1.1",
                                            "GET / HTTP/1.2",
                                            "\x16\x03",
                                            "*--",
                                            "GET HTTP/1.1",
                                            "OPTIONS * HTTP/1.1",
                                            "GET /\xd9 HTTP/1.1",
                                            "GET\t/\tHTTP/1.1"};
    static const char *const resp_lines[] = {
        "HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 20 OK", "HTTP/1.1 200 O\x01K",
        "HTTP/2 200",      "HTTX/1.1 200 OK",        "HTTP/1.1 2000",  "HTTP/1.1\t204\tNo"};
    static const char *const fields[] = {
        "Host: a",
        "Host: b",
        "Content-Length: 5",
        "Content-Length: 1, 1",
        "Transfer-Encoding: chunked",
        "Content-Lenght: 3",
        "Transfer-Encodng: chunked",
        "X: a\x01b",
        "X: a\rb",
        "NoColon",
        " folded",
        "\tfolded",
        "A : b",
        ": v",
        "X\x01Y: z",
        "N: \\0",
        "User-Agent:",
        "Connection: close",
        "X-Long-Header-Name-For-Blocks: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Accept-Encoding: gzip, deflate, br",
        "Expect: 100-continue"};
    static const char *const ends[] = {"\r\n", "\r\n", "\r\n", "\n", "\r"};
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    *kind = (int)(next_rand(s) % 2);
    if (next_rand(s) % 8 == 0)
        dynbuf_adds(&b, pick(s, ends, 4));
    if (*kind == REQ)
        dynbuf_adds(&b, pick(s, req_lines, sizeof req_lines / sizeof req_lines[0]));
    else
        dynbuf_adds(&b, pick(s, resp_lines, sizeof resp_lines / sizeof resp_lines[0]));
    dynbuf_adds(&b, pick(s, ends, 4));
    for (uint32_t i = 0, nf = next_rand(s) % 7; i < nf; i++) {
        dynbuf_adds(&b, pick(s, fields, sizeof fields / sizeof fields[0]));
        dynbuf_adds(&b, pick(s, ends, sizeof ends / sizeof ends[0]));
    }
    if (next_rand(s) % 4)
        dynbuf_adds(&b, pick(s, ends, sizeof ends / sizeof ends[0]));
    if (next_rand(s) % 2)
        dynbuf_adds(&b, "body\r\n");
    size_t n;
    uint8_t *raw = tu_unescape(dynbuf_str(&b), &n);
    dynbuf_cleanup(&b);
    /* Now and then a byte or two become something else, CR and LF above all. */
    static const uint8_t odd[] = {'\r', '\n', ' ', '\t', ':', 0, 0x7f, 0xff};
    for (uint32_t i = 0, nm = next_rand(s) % 4 == 0 ? 1 + next_rand(s) % 2 : 0; i < nm && n; i++)
        raw[next_rand(s) % n] = odd[next_rand(s) % sizeof odd];
    if (n > cap)
        n = cap;
    memcpy(out, raw, n);
    free(raw);
    return n;
}

static void test_generated_splits(void **state)
{
    (void)state;
    uint32_t seed = 0x9e3779b9u;
    uint8_t in[1024];
    for (size_t i = 0; i < 1500; i++) {
        int kind;
        size_t n = generate(&seed, in, sizeof in, &kind);
        check_splits(kind, in, n, NULL, 1000 + i);
        check_splits(kind, in, n, &SMALL, 1000 + i);
    }
}

/* --- the block scanners, against byte-by-byte references --- */

/* http_has_lf_from on every length up to 48, every start and every LF position (or none), the
 * other bytes cycling through every value; each buffer has exactly len bytes (ASan catches an
 * over-read). */
/* http_nul_count: how many NUL bytes, the offsets of the first HTTP_NUL_SHOWN_MAX. */
static void test_nul_count(void **state)
{
    (void)state;
    static const struct {
        const char *bytes; /* tu_unescape escapes */
        uint32_t count;
        uint32_t at[HTTP_NUL_SHOWN_MAX];
    } cases[] = {
        {"", 0, {0}},
        {"GET / HTTP/1.1\\r\\n\\r\\n", 0, {0}},
        {"\\0", 1, {0}},
        {"ab\\0", 1, {2}},
        {"a\\0b\\0\\0c", 3, {1, 3, 4}},
        {"\\0\\0\\0\\0\\0\\0\\0\\0", 8, {0, 1, 2, 3, 4, 5, 6, 7}},
        {"x\\0\\0\\0\\0\\0\\0\\0\\0\\0y\\0", 10, {1, 2, 3, 4, 5, 6, 7, 8}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *p = tu_unescape(cases[i].bytes, &n);
        uint32_t at[HTTP_NUL_SHOWN_MAX] = {0};
        uint32_t count = http_nul_count(p, n, at);
        assert_int_equal(count, cases[i].count);
        for (uint32_t k = 0; k < count && k < HTTP_NUL_SHOWN_MAX; k++)
            assert_int_equal(at[k], cases[i].at[k]);
        free(p);
    }
    /* A million NUL bytes: all counted, eight placed. */
    size_t big = 1000000;
    uint8_t *z = calloc(big, 1);
    assert_non_null(z);
    uint32_t at[HTTP_NUL_SHOWN_MAX];
    assert_int_equal(http_nul_count(z, big, at), big);
    assert_int_equal(at[HTTP_NUL_SHOWN_MAX - 1], HTTP_NUL_SHOWN_MAX - 1);
    free(z);
}

static void test_has_lf_from(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 48; len++) {
        uint8_t *buf = malloc(len);
        for (size_t lf = 0; lf <= len; lf++) { /* lf == len: no LF at all */
            for (size_t i = 0; i < len; i++) {
                uint8_t c = (uint8_t)(i * 37 + len);
                buf[i] = c == '\n' ? 'x' : c;
            }
            if (lf < len)
                buf[lf] = '\n';
            for (size_t from = 0; from < len; from++) {
                bool want = memchr(buf + from, '\n', len - from) != NULL;
                if (http_has_lf_from(buf, from, len) != want)
                    fail_msg("len %zu from %zu lf %zu: got %d", len, from, lf, !want);
            }
        }
        free(buf);
    }
}

static bool ref_tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Parses "GET / HTTP/1.1\r\nHost: a\r\n" + line + "\r\n\r\n" from an exact-size buffer. */
static int parse_line(const uint8_t *line, size_t n, struct outcome *o)
{
    static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\n";
    size_t np = sizeof pre - 1, total = np + n + 4;
    uint8_t *in = malloc(total);
    memcpy(in, pre, np);
    memcpy(in + np, line, n);
    memcpy(in + np + n, "\r\n\r\n", 4);
    memset(o, 0, sizeof *o);
    o->head.headers = o->headers;
    o->head.cap = 64;
    o->rc = http_head_parse(in, total, HTTP_REQUEST, NULL, NULL, &o->head, &o->w);
    free(in);
    return (int)np;
}

/* Parses the line built by test_value_scan_every_byte and checks its value and warnings. */
static void check_value_byte(const uint8_t *line, size_t align, size_t len, size_t k, unsigned b)
{
    struct outcome o;
    int off = parse_line(line, align + 2 + len, &o);
    bool ws = b == ' ' || b == '\t';
    bool bad = (b < 0x20 && !ws) || b == 0x7f;
    size_t vs = ws && k == 0 ? 1 : 0, ve = ws && k == len - 1 ? len - 1 : len;
    if (ws && len == 1)
        vs = ve = 0; /* a value of only whitespace is empty */
    const struct http_header *h = &o.headers[1];
    uint32_t at = (uint32_t)off + (uint32_t)align + 2 + (uint32_t)k;
    bool ok = o.rc > 0 && o.head.nheaders == 2 && h->value.len == (uint32_t)(ve - vs) &&
              (ve == vs || h->value.off == (uint32_t)off + align + 2 + vs);
    if (bad)
        ok = ok && (h->flags & HDR_BAD_VALUE) && o.w.n == 1 && o.w.w[0].off == at &&
             o.w.w[0].code == (b == 0 ? W_NUL_BYTE : W_VALUE_CHAR);
    else
        ok = ok && h->flags == 0 && o.w.n == 0;
    if (!ok)
        fail_msg("value: align %zu len %zu pos %zu byte 0x%02x (byte before 0x%02x)", align, len, k,
                 b, k ? line[align + 2 + k - 1] : 0);
}

/*
 * Every byte value (but CR and LF) at every position of values of lengths around the block
 * sizes, the value starting at every alignment: the value scan must stop exactly where the
 * byte-by-byte rule does (a control character other than HTAB, or DEL). The scan looks for
 * bytes >= 0x80 too and then goes on with an exact test: so the same again with a byte >= 0x80
 * just before the byte under test, and with every other byte of the value >= 0x80.
 */
static void test_value_scan_every_byte(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 66};
    enum { ASCII, HIGH_BEFORE, HIGH_ALL };
    uint8_t line[128];
    for (int fill = ASCII; fill <= HIGH_ALL; fill++) {
        for (size_t align = 1; align <= 16; align += fill == ASCII ? 1 : 7) {
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                size_t len = lens[li];
                for (size_t k = 0; k < len; k++) {
                    for (unsigned b = 0; b < 256; b++) {
                        if (b == '\r' || b == '\n')
                            continue;
                        memset(line, 'n', align);
                        line[align] = ':';
                        line[align + 1] = ' ';
                        uint8_t *v = line + align + 2;
                        memset(v, fill == HIGH_ALL ? 0xc3 : 'v', len);
                        if (fill == HIGH_BEFORE && k > 0)
                            v[k - 1] = 0xc3;
                        v[k] = (uint8_t)b;
                        check_value_byte(line, align, len, k, b);
                    }
                }
            }
        }
    }
}

/* The same for names: every byte (but CR, LF and the colon) at every position. */
static void test_name_scan_every_byte(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 3, 15, 16, 17, 31, 32, 33};
    uint8_t line[64];
    struct outcome o;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li];
        for (size_t k = 0; k < len; k++) {
            for (unsigned b = 0; b < 256; b++) {
                bool ws = b == ' ' || b == '\t';
                if (b == '\r' || b == '\n' || b == ':' || (ws && k == 0))
                    continue;
                memset(line, 'n', len);
                line[k] = (uint8_t)b;
                memcpy(line + len, ": v", 3);
                int off = parse_line(line, len + 3, &o);
                const struct http_header *h = &o.headers[1];
                bool ok = o.rc > 0 && o.head.nheaders == 2 && h->value.len == 1;
                if (ref_tchar((uint8_t)b))
                    ok = ok && h->flags == 0 && o.w.n == 0 && h->name.off == (uint32_t)off &&
                         h->name.len == len;
                else if (ws && k == len - 1)
                    ok = ok && h->flags == HDR_WS_BEFORE_COLON && h->name.len == len - 1;
                else
                    ok = ok && (h->flags & HDR_BAD_NAME) && o.w.n >= 1 &&
                         o.w.w[0].code == W_NAME_CHAR;
                if (!ok)
                    fail_msg("name: len %zu pos %zu byte 0x%02x", len, k, b);
            }
        }
    }
}

/*
 * The same for request targets: every byte (but the whitespace that separates the words of the
 * request line) at every position of targets of lengths around the block sizes; a byte <= 0x20,
 * DEL or >= 0x80 is warned about at its offset, and the target is the whole word either way.
 */
static void test_target_scan_every_byte(void **state)
{
    (void)state;
    static const size_t lens[] = {2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65};
    static const char tail[] = " HTTP/1.1\r\nHost: a\r\n\r\n";
    uint8_t in[128];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li], n = 4 + len + sizeof tail - 1;
        for (size_t k = 1; k < len; k++) {
            for (unsigned b = 0; b < 256; b++) {
                if (b == ' ' || b == '\t' || b == '\r' || b == '\n')
                    continue;
                memcpy(in, "GET /", 5);
                memset(in + 5, 'a', len - 1);
                in[4 + k] = (uint8_t)b;
                memcpy(in + 4 + len, tail, sizeof tail - 1);
                struct outcome o;
                memset(&o, 0, sizeof o);
                o.head.headers = o.headers;
                o.head.cap = 64;
                uint8_t *exact = malloc(n);
                memcpy(exact, in, n);
                o.rc = http_head_parse(exact, n, HTTP_REQUEST, NULL, NULL, &o.head, &o.w);
                free(exact);
                bool stop = b <= 0x20 || b >= 0x7f;
                bool ok = o.rc == (int)n && o.head.target.off == 4 && o.head.target.len == len;
                if (stop)
                    ok = ok && o.w.n == (b == 0 ? 2 : 1) && o.w.w[0].code == W_TARGET_CHAR &&
                         o.w.w[0].off == 4 + k;
                else
                    ok = ok && o.w.n == 0;
                if (!ok)
                    fail_msg("target: len %zu pos %zu byte 0x%02x", len, k, b);
            }
        }
    }
}

/*
 * http_token_ieq against the byte rule (same length; each byte equal to the literal's in any
 * case, and never a control byte, which folding would map onto '-' or a digit): every byte value
 * at every position of literals of lengths around the word size, from exact-size buffers.
 */
static void test_token_ieq_every_byte(void **state)
{
    (void)state;
    static const char *const lits[] = {"te",         "close",        "chunked",           "upgrade",
                                       "keep-alive", "100-continue", "transfer-encoding", "a-1",
                                       "x"};
    for (size_t li = 0; li < sizeof lits / sizeof lits[0]; li++) {
        const char *lit = lits[li];
        size_t n = strlen(lit);
        uint8_t *buf = malloc(n);
        for (size_t k = 0; k < n; k++) {
            for (unsigned b = 0; b < 256; b++) {
                memcpy(buf, lit, n);
                buf[k] = (uint8_t)b;
                bool want = b >= 0x20 && (uint8_t)(b | 0x20) == (uint8_t)lit[k] &&
                            (b == (uint8_t)lit[k] || (lit[k] >= 'a' && lit[k] <= 'z'));
                if (http_token_ieq(buf, n, lit, n) != want)
                    fail_msg("token %s pos %zu byte 0x%02x: got %d", lit, k, b, !want);
            }
        }
        assert_false(http_token_ieq(buf, n - 1, lit, n));
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_generated_splits),
        cmocka_unit_test(test_lf_then_control_every_alignment),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_100k_headers),
        cmocka_unit_test(test_field_lookup),
        cmocka_unit_test(test_incomplete_head_start_line_only),
        cmocka_unit_test(test_lines_parsed_ahead_are_kept),
        cmocka_unit_test(test_head_ends),
        cmocka_unit_test(test_endless_tiny_lines),
        cmocka_unit_test(test_looks_like_and_resync),
        cmocka_unit_test(test_peek_request_line),
        cmocka_unit_test(test_peek_field),
        cmocka_unit_test(test_has_lf_from),
        cmocka_unit_test(test_nul_count),
        cmocka_unit_test(test_value_scan_every_byte),
        cmocka_unit_test(test_name_scan_every_byte),
        cmocka_unit_test(test_target_scan_every_byte),
        cmocka_unit_test(test_token_ieq_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
