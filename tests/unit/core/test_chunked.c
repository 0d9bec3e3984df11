/*
 * The chunked decoder: one line per case (body bytes, payload, end status, consumed bytes,
 * warnings). Every case is also fed byte by byte and split at every offset.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/chunked.h"

struct chunk_case {
    const char *in;
    const char *payload;
    int status; /* enum chunked_status */
    int used;   /* bytes consumed (-1: all) */
    const char *warnings;
};

static const struct chunk_case CASES[] = {
    {"5\r\nhello\r\n0\r\n\r\n", "hello", CHUNKED_DONE, -1, ""},
    {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", "hello world", CHUNKED_DONE, 26, ""},
    {"A\r\n0123456789\r\n0\r\n\r\n", "0123456789", CHUNKED_DONE, -1, ""},
    {"a;ext=1;q=\"x\"\r\n0123456789\r\n0;last\r\n\r\n", "0123456789", CHUNKED_DONE, -1, ""},
    {"5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n", "hello", CHUNKED_DONE, -1, ""},
    {"5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", "hello", CHUNKED_DONE, -1,
     "trailer-forbidden"},
    {"5\nhello\n0\n\n", "hello", CHUNKED_DONE, -1, "bare-lf"},
    {"0005\r\nhello\r\n0\r\n\r\n", "hello", CHUNKED_DONE, -1, ""},
    {"00000000000000005\r\nhello\r\n0\r\n\r\n", "hello", CHUNKED_DONE, -1, "chunk-size-too-long"},
    {"5 \r\nhello\r\n0\r\n\r\n", "hello", CHUNKED_DONE, -1, "chunk-ext-invalid"},
    {"5\r\nhelloXX\r\n0\r\n\r\n", "hello", CHUNKED_ERROR, 8,
     "chunk-missing-crlf,chunk-size-invalid"},
    {"x\r\nhello\r\n0\r\n\r\n", "", CHUNKED_ERROR, 0, "chunk-size-invalid"},
    {"\r\n", "", CHUNKED_ERROR, 0, "chunk-size-invalid"},
    {"-1\r\n", "", CHUNKED_ERROR, 0, "chunk-size-invalid"},
    {"10000000000000000\r\nx", "", CHUNKED_ERROR, 16, "chunk-size-overflow"},
    {"5\rhello", "", CHUNKED_ERROR, 2, "bare-cr"},
    {"5\r\nhel", "hel", CHUNKED_MORE, -1, ""},
    {"5\r\nhello\r\n0\r\n", "hello", CHUNKED_MORE, -1, ""},
    {"3\r\n\\0\\0\\0\r\n0\r\n\r\n", "\\0\\0\\0", CHUNKED_DONE, -1, ""},
};

struct result {
    struct dynbuf payload;
    int status;
    size_t used;
    struct http_warnings w;
    char exts[4096]; /* the kept extensions: "chunk/size/bytes" ('!' after a cut one), '|'
                        between, "+N" for N unlisted */
};

static void describe_exts(const struct chunked *c, char *out, size_t outlen)
{
    size_t at = 0, pos = 0;
    struct chunked_ext e;
    out[0] = '\0';
    while (chunked_ext_next(c->exts.data, c->exts.len, &pos, &e))
        at += (size_t)snprintf(out + at, outlen - at, "%s%u/%llx/%.*s%s", at ? "|" : "", e.chunk,
                               (unsigned long long)e.size, (int)e.len, (const char *)e.ext,
                               e.cut ? "!" : "");
    if (c->ext_unlisted)
        snprintf(out + at, outlen - at, "+%u", c->ext_unlisted);
}

/* Feeds in pieces given by cuts (ascending, ending at n). */
static void run(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts, struct result *r)
{
    static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
    struct chunked c;
    chunked_init(&c, &lim);
    dynbuf_init(&r->payload, 1 << 20);
    memset(&r->w, 0, sizeof r->w);
    size_t from = 0;
    r->used = 0;
    for (size_t i = 0; i < ncuts && c.status == CHUNKED_MORE; i++) {
        size_t off = from;
        uint8_t *piece = malloc(cuts[i] - from + 1);
        memcpy(piece, in + from, cuts[i] - from);
        size_t len = cuts[i] - from;
        size_t pos = 0;
        while (pos < len && c.status == CHUNKED_MORE) {
            struct http_span s;
            size_t k = chunked_step(&c, piece + pos, len - pos, &s, &r->w);
            if (s.len)
                dynbuf_append(&r->payload, piece + pos + s.off, s.len);
            if (k == 0)
                break;
            pos += k;
        }
        r->used = off + pos;
        free(piece);
        from = cuts[i];
    }
    r->status = c.status;
    describe_exts(&c, r->exts, sizeof r->exts);
    chunked_cleanup(&c);
}

/*
 * Chunk extensions kept for display: what followed each size (extensions, whitespace) with the
 * chunk it came with, the first CHUNKED_EXT_KEPT_MAX lines, each cut at CHUNKED_EXT_LINE_MAX
 * bytes, the rest counted; the same however the body was cut.
 */
static void test_extensions(void **state)
{
    (void)state;
    char many[1024] = "", longline[CHUNKED_EXT_LINE_MAX + 64], want_long[1024];
    for (int i = 0; i < 11; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "1;n=%d\r\nx\r\n", i);
    strcat(many, "0\r\n\r\n");
    memset(longline, 'e', sizeof longline);
    memcpy(longline, "2;", 2);
    memcpy(longline + sizeof longline - 12, "\r\nab\r\n0\r\n\r\n", 11);
    longline[sizeof longline - 1] = '\0';
    snprintf(want_long, sizeof want_long, "1/2/;%.*s!", CHUNKED_EXT_LINE_MAX - 1, longline + 2);
    static char want_many[1024];
    want_many[0] = '\0';
    for (int i = 0; i < CHUNKED_EXT_KEPT_MAX; i++)
        snprintf(want_many + strlen(want_many), sizeof want_many - strlen(want_many),
                 "%s%d/1/;n=%d", i ? "|" : "", i + 1, i);
    strcat(want_many, "+3");
    const struct {
        const char *in, *want;
    } cases[] = {
        {"5\r\nhello\r\n0\r\n\r\n", ""},
        {"5;a=b\r\nhello\r\n3 ; q=\"x y\"\r\nabc\r\n0;end\r\n\r\n",
         "1/5/;a=b|2/3/ ; q=\"x y\"|3/0/;end"},
        {"A;\x1b[2J\r\n0123456789\r\n0\r\n\r\n", "1/a/;\x1b[2J"},
        {"5 \r\nhello\r\n0\r\n\r\n", "1/5/ "},
        {"5;a\nhello\n0\n\n", "1/5/;a"},
        /* a line cut short by the end of the body, or by a byte that ends its framing */
        {"5;a=b", "1/5/;a=b"},
        {"5;a=b\rx", "1/5/;a=b"},
        {"5x;a\r\n", ""},
        {many, want_many},
        {longline, want_long},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        size_t n;
        uint8_t *in = tu_unescape(cases[ci].in, &n);
        size_t all[1] = {n};
        struct result r;
        run(in, n, all, 1, &r);
        if (strcmp(r.exts, cases[ci].want) != 0)
            fail_msg("case %zu: extensions '%s', want '%s'", ci, r.exts, cases[ci].want);
        dynbuf_cleanup(&r.payload);
        for (size_t cut = 1; cut < n; cut++) {
            size_t two[2] = {cut, n};
            run(in, n, two, 2, &r);
            if (strcmp(r.exts, cases[ci].want) != 0)
                fail_msg("case %zu cut at %zu: extensions '%s'", ci, cut, r.exts);
            dynbuf_cleanup(&r.payload);
        }
        free(in);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const struct chunk_case *c = &CASES[ci];
        size_t n, pn;
        uint8_t *in = tu_unescape(c->in, &n);
        uint8_t *want = tu_unescape(c->payload, &pn);
        size_t all[1] = {n};
        struct result whole;
        run(in, n, all, 1, &whole);
        if (whole.status != c->status)
            fail_msg("case %zu: status %d, want %d", ci, whole.status, c->status);
        if (whole.payload.len != pn || memcmp(dynbuf_str(&whole.payload), want, pn))
            fail_msg("case %zu: payload '%s'", ci, dynbuf_str(&whole.payload));
        size_t used = c->used < 0 ? n : (size_t)c->used;
        if (whole.used != used)
            fail_msg("case %zu: used %zu, want %zu", ci, whole.used, used);
        for (uint16_t k = 0; k < whole.w.n; k++)
            if (!strstr(c->warnings, warning_name((enum warning_code)whole.w.w[k].code)))
                fail_msg("case %zu: unexpected %s", ci,
                         warning_name((enum warning_code)whole.w.w[k].code));
        char list[128];
        snprintf(list, sizeof list, "%s", c->warnings);
        for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
            bool found = false;
            for (uint16_t k = 0; k < whole.w.n; k++)
                found |= strcmp(t, warning_name((enum warning_code)whole.w.w[k].code)) == 0;
            if (!found)
                fail_msg("case %zu: missing %s", ci, t);
        }
        /* Byte by byte and every split give the same payload, status and warnings. */
        size_t *cuts = malloc((n + 1) * sizeof *cuts);
        for (size_t i = 0; i < n; i++)
            cuts[i] = i + 1;
        for (int mode = 0; mode <= (int)n; mode++) {
            struct result r;
            if (mode == 0) {
                run(in, n, cuts, n, &r);
            } else {
                size_t two[2] = {(size_t)mode, n};
                run(in, n, two, mode == (int)n ? 1 : 2, &r);
            }
            if (r.status != whole.status || r.used != whole.used ||
                r.payload.len != whole.payload.len ||
                memcmp(dynbuf_str(&r.payload), dynbuf_str(&whole.payload), r.payload.len) ||
                r.w.n != whole.w.n)
                fail_msg("case %zu: split %d differs", ci, mode);
            for (uint16_t k = 0; k < r.w.n; k++)
                if (r.w.w[k].code != whole.w.w[k].code || r.w.w[k].off != whole.w.w[k].off)
                    fail_msg("case %zu: split %d warning %u differs", ci, mode, k);
            dynbuf_cleanup(&r.payload);
        }
        free(cuts);
        dynbuf_cleanup(&whole.payload);
        free(in);
        free(want);
    }
}

/* Feeds in[0..n) in pieces of piece bytes, each step with an empty w, as the conversation does;
 * collects every warning (code and offset) into out, and checks that no step dropped one. */
static size_t collect_steps(const uint8_t *in, size_t n, size_t piece, struct http_warn *out,
                            size_t cap)
{
    static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
    struct chunked c;
    chunked_init(&c, &lim);
    size_t nout = 0;
    for (size_t from = 0; from < n && c.status == CHUNKED_MORE; from += piece) {
        size_t len = n - from < piece ? n - from : piece, pos = 0;
        while (pos < len && c.status == CHUNKED_MORE) {
            struct http_span s;
            struct http_warnings w = {.n = 0};
            size_t k = chunked_step(&c, in + from + pos, len - pos, &s, &w);
            assert_int_equal(w.dropped, 0);
            for (uint16_t i = 0; i < w.n && nout < cap; i++)
                out[nout++] = w.w[i];
            assert_true(k > 0);
            pos += k;
        }
    }
    assert_int_equal(c.status, CHUNKED_DONE);
    chunked_cleanup(&c);
    return nout;
}

/*
 * More warnings than one step's list holds (HTTP_WARN_MAX), all in one piece: a forbidden
 * trailer field is one each (after one for the control bytes of a chunk extension, reported
 * once a line). A step ends before its list could drop one, so fed whole the caller gets every
 * warning, the same as byte by byte.
 */
static void test_step_never_drops(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    dynbuf_adds(&b, "0;");
    for (int i = 0; i < 40; i++)
        dynbuf_addc(&b, 0x01);
    dynbuf_adds(&b, "\r\n");
    for (int i = 0; i < 51; i++)
        dynbuf_adds(&b, i % 2 ? "Host: h\r\n" : "Content-Length: 1\r\n");
    dynbuf_adds(&b, "\r\n");
    static struct http_warn whole[128], bytes[128];
    size_t nw = collect_steps(b.data, b.len, b.len, whole, 128);
    size_t nb = collect_steps(b.data, b.len, 1, bytes, 128);
    assert_int_equal(nw, 52);
    assert_int_equal(nb, nw);
    for (size_t i = 0; i < nw; i++) {
        assert_int_equal(whole[i].code, bytes[i].code);
        assert_int_equal(whole[i].off, bytes[i].off);
    }
    assert_int_equal(whole[0].code, W_CHUNK_EXT_INVALID);
    assert_int_equal(whole[nw - 1].code, W_TRAILER_FORBIDDEN);
    dynbuf_cleanup(&b);
}

static void test_decode_all(void **state)
{
    (void)state;
    static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
    const char *body = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    struct dynbuf out;
    dynbuf_init(&out, 100);
    size_t used;
    assert_int_equal(chunked_decode_all((const uint8_t *)body, strlen(body), &out, &used, &lim),
                     CHUNKED_DONE);
    assert_string_equal(dynbuf_str(&out), "abcde");
    assert_int_equal(used, strlen(body));
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_decode_all),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_step_never_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
