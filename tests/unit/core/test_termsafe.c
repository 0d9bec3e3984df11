/*
 * termsafe: hostile bytes in, nothing but printable output. A table of renderings, every byte
 * value alone and in context, random byte strings checked against the output invariants, the
 * fixed-buffer variant's cut and ellipsis, and is_clean agreeing with the rendering.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/termsafe.h"
#include "hspy/utf8.h"

enum { N = TERMSAFE_NEWLINES, S = TERMSAFE_SYMBOLS, T = TERMSAFE_TABS, A = TERMSAFE_ASCII };

static char *render(const uint8_t *p, size_t n, unsigned flags)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    termsafe_append(&out, p, n, flags);
    return dynbuf_take(&out);
}

struct case_ {
    const char *in; /* C escapes, see tu_unescape */
    unsigned flags;
    const char *want;
};

static const struct case_ CASES[] = {
    {"plain text", 0, "plain text"},
    {"", 0, ""},
    {"GET / HTTP/1.1\\r\\n", 0, "GET / HTTP/1.1\\r\\n"},
    {"GET / HTTP/1.1\\r\\n", S, "GET / HTTP/1.1\xe2\x90\x8d\xe2\x90\x8a"},
    {"a\\r\\nb", N, "a\nb"},
    {"a\\r\\nb", N | S, "a\xe2\x90\x8d\xe2\x90\x8a\nb"},
    {"a\\nb\\rc", N, "a\nb\\rc"},
    {"a\\tb", 0, "a\\tb"},
    {"a\\tb", T, "a\tb"},
    {"a\\tb", S,
     "a\xe2\x90\x89"
     "b"},
    {"\\x1b[2J\\x1b]0;pwned\\x07", 0, "\\x1b[2J\\x1b]0;pwned\\x07"},
    {"\\0nul", 0, "\\x00nul"},
    {"del\\x7f", 0, "del\\x7f"},
    {"back\\\\slash", 0, "back\\slash"},
    {"caf\\xc3\\xa9", 0, "caf\xc3\xa9"},
    {"caf\\xc3\\xa9", A, "caf\\xc3\\xa9"},
    {"\\xe6\\x97\\xa5\\xf0\\x9f\\x98\\x80", 0, "\xe6\x97\xa5\xf0\x9f\x98\x80"},
    /* C1 controls as UTF-8 (U+009B is CSI) and as raw bytes */
    {"\\xc2\\x9b31m", 0, "\\u{009b}31m"},
    {"\\x9b31m", 0, "\\x9b31m"},
    {"\\xc2\\x85", 0, "\\u{0085}"},
    /* bidirectional controls and invisible format characters */
    {"a\\xe2\\x80\\xaeb", 0, "a\\u{202e}b"},
    {"\\xe2\\x80\\xaa\\xe2\\x80\\xab\\xe2\\x80\\xac\\xe2\\x80\\xad", 0,
     "\\u{202a}\\u{202b}\\u{202c}\\u{202d}"},
    {"\\xe2\\x81\\xa6x\\xe2\\x81\\xa9", 0, "\\u{2066}x\\u{2069}"},
    {"\\xe2\\x81\\xa7\\xe2\\x81\\xa8", 0, "\\u{2067}\\u{2068}"},
    {"zw\\xe2\\x80\\x8bsp", 0, "zw\\u{200b}sp"},
    {"\\xe2\\x80\\x8c\\xe2\\x80\\x8d\\xe2\\x80\\x8e\\xe2\\x80\\x8f", 0,
     "\\u{200c}\\u{200d}\\u{200e}\\u{200f}"},
    {"\\xef\\xbb\\xbfbom", 0, "\\u{feff}bom"},
    {"\\xe2\\x80\\xa8", 0, "\\u{2028}"},
    {"\\xd8\\x9c", 0, "\\u{061c}"},
    {"\\xc2\\xad", 0, "\\u{00ad}"},
    {"\\xf3\\xa0\\x80\\x81", 0, "\\u{e0001}"},
    /* invalid UTF-8: one escape per byte, then resume */
    {"\\xc0\\xaf", 0, "\\xc0\\xaf"},                     /* overlong '/' */
    {"\\xe0\\x80\\xaf", 0, "\\xe0\\x80\\xaf"},           /* overlong 3-byte */
    {"\\xf0\\x80\\x80\\xaf", 0, "\\xf0\\x80\\x80\\xaf"}, /* overlong 4-byte */
    {"\\xed\\xa0\\x80", 0, "\\xed\\xa0\\x80"},           /* surrogate U+D800 */
    {"\\xf4\\x90\\x80\\x80", 0, "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
    {"\\xf5\\xff\\xfe", 0, "\\xf5\\xff\\xfe"},
    {"\\x80x", 0, "\\x80x"},         /* stray continuation */
    {"\\xe6\\x97", 0, "\\xe6\\x97"}, /* cut short at the end */
    {"\\xe6\\x97A", 0,
     "\\xe6\\x97"
     "A"}, /* cut short mid-text */
    {"\\xc3\\xa9\\xc3", 0, "\xc3\xa9\\xc3"},
    {"\\x1b\\xc2\\x9b\\xe2\\x80\\xae\\x7f\\xff", 0, "\\x1b\\u{009b}\\u{202e}\\x7f\\xff"},
};

/* Renders each case with render and fails unless it gives the wanted text; with check_clean,
 * termsafe_is_clean must also say whether the text passed through unchanged. */
static void check_table(const struct case_ *cases, size_t ncases,
                        char *(*render_fn)(const uint8_t *, size_t, unsigned), bool check_clean)
{
    for (size_t i = 0; i < ncases; i++) {
        size_t n;
        uint8_t *in = tu_unescape(cases[i].in, &n);
        char *got = render_fn(in, n, cases[i].flags);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu (%s, flags %u): got '%s' want '%s'", i, cases[i].in, cases[i].flags,
                     got, cases[i].want);
        if (check_clean)
            assert_int_equal(termsafe_is_clean(in, n, cases[i].flags),
                             strlen(got) == n && memcmp(got, in, n) == 0);
        free(got);
        free(in);
    }
}

static void test_table(void **state)
{
    (void)state;
    check_table(CASES, sizeof CASES / sizeof CASES[0], render, true);
}

/* The output invariants of termsafe.h. */
static void check_safe(const uint8_t *out, size_t n, unsigned flags)
{
    assert_true(utf8_valid(out, n));
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(out + i, n - i, &cp);
        assert_true(k > 0);
        if (cp < 0x20) {
            bool ok = (cp == '\n' && (flags & N)) || (cp == '\t' && (flags & T));
            if (!ok)
                fail_msg("control 0x%02x at %zu", (unsigned)cp, i);
        }
        assert_true(cp != 0x7f);
        if (cp >= 0x80 && cp <= 0x9f)
            fail_msg("C1 control U+%04X at %zu", (unsigned)cp, i);
        bool bidi = (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                    (cp >= 0x200b && cp <= 0x200f) || cp == 0xfeff;
        if (bidi)
            fail_msg("format character U+%04X at %zu", (unsigned)cp, i);
        if ((flags & A) && cp >= 0x80 && !(cp >= 0x2400 && cp <= 0x2426) && cp != 0x2026)
            fail_msg("non-ASCII U+%04X with TERMSAFE_ASCII", (unsigned)cp);
        i += k;
    }
}

static const unsigned ALL_FLAGS[] = {0, N, S, T, A, N | S, N | T, S | T, N | S | T | A, N | A};

static void test_every_byte(void **state)
{
    (void)state;
    for (unsigned f = 0; f < sizeof ALL_FLAGS / sizeof ALL_FLAGS[0]; f++) {
        for (int c = 0; c < 256; c++) {
            uint8_t in[3] = {'a', (uint8_t)c, 'z'};
            char *got = render(in, sizeof in, ALL_FLAGS[f]);
            check_safe((const uint8_t *)got, strlen(got), ALL_FLAGS[f]);
            /* Printable ASCII is the only single byte that passes as itself. */
            bool same = strlen(got) == 3 && got[1] == c;
            bool expect_same = (c >= 0x20 && c < 0x7f) || (c == '\t' && (ALL_FLAGS[f] & T)) ||
                               (c == '\n' && (ALL_FLAGS[f] & N) && !(ALL_FLAGS[f] & S));
            if (same != expect_same)
                fail_msg("byte 0x%02x flags %u: '%s'", (unsigned)c, ALL_FLAGS[f], got);
            assert_int_equal(termsafe_is_clean(in, sizeof in, ALL_FLAGS[f]), expect_same);
            free(got);
        }
    }
}

/* Every two-byte sequence: covers every lead byte with every possible second byte. */
static void test_every_pair(void **state)
{
    (void)state;
    uint8_t in[2 * 256 * 256];
    size_t n = 0;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            in[n++] = (uint8_t)a;
            in[n++] = (uint8_t)b;
        }
    for (unsigned f = 0; f < sizeof ALL_FLAGS / sizeof ALL_FLAGS[0]; f++) {
        char *got = render(in, n, ALL_FLAGS[f]);
        check_safe((const uint8_t *)got, strlen(got), ALL_FLAGS[f]);
        free(got);
    }
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fills in[0..n) with n < cap random bytes, three in four drawn from spice; returns n. */
static size_t spiced(uint64_t *seed, uint8_t *in, size_t cap, const uint8_t *spice, size_t nspice)
{
    size_t n = rng_next(seed) % cap;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng_next(seed);
        in[i] = (r & 3) ? spice[(r >> 8) % nspice] : (uint8_t)(r >> 16);
    }
    return n;
}

/* Random strings biased towards the interesting bytes (controls, UTF-8 leads, ESC, C1). */
static void test_random(void **state)
{
    (void)state;
    static const uint8_t SPICE[] = {0x1b, 0x9b, 0xc2, 0xe2, 0x80, 0xae, 0xa6, 0x81,
                                    0xef, 0xbb, 0xbf, 0xf0, 0xf4, 0xed, 0x0d, 0x0a,
                                    0x09, 0x7f, 0x00, 0xc0, 0xff, 0x90, 0x8a, 0x8d};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    uint8_t in[512];
    char small[64];
    for (int round = 0; round < 20000; round++) {
        size_t n = spiced(&seed, in, sizeof in, SPICE, sizeof SPICE);
        unsigned flags = ALL_FLAGS[round % (sizeof ALL_FLAGS / sizeof ALL_FLAGS[0])];
        char *got = render(in, n, flags);
        size_t len = strlen(got);
        check_safe((const uint8_t *)got, len, flags);
        /* The fixed-buffer variant is a prefix of the same rendering (plus maybe "…"). */
        size_t buflen = 1 + rng_next(&seed) % sizeof small;
        termsafe_str(small, buflen, in, n, flags);
        size_t sl = strlen(small);
        assert_true(sl < buflen);
        check_safe((const uint8_t *)small, sl, flags);
        if (len < buflen) {
            assert_string_equal(small, got);
        } else if (sl > len || memcmp(small, got, sl) != 0) {
            assert_true(sl >= 3 && memcmp(small + sl - 3, "\xe2\x80\xa6", 3) == 0);
            assert_memory_equal(small, got, sl - 3);
        }
        assert_int_equal(termsafe_is_clean(in, n, flags), len == n && memcmp(got, in, n) == 0);
        free(got);
    }
}

static void test_str_cut(void **state)
{
    (void)state;
    char buf[16];
    const uint8_t *in = (const uint8_t *)"0123456789abcdefghij";
    termsafe_str(buf, sizeof buf, in, 20, 0);
    assert_string_equal(buf, "0123456789ab\xe2\x80\xa6");
    termsafe_str(buf, sizeof buf, in, 15, 0);
    assert_string_equal(buf, "0123456789abcde");
    /* An escape is never split: the cut falls before it. */
    const uint8_t esc[] = "0123456789\x1b\x1b";
    termsafe_str(buf, 15, esc, sizeof esc - 2, 0);
    assert_string_equal(buf, "0123456789\\x1b");
    termsafe_str(buf, sizeof buf, esc, sizeof esc - 1, 0);
    assert_string_equal(buf, "0123456789\xe2\x80\xa6");
    /* Too small for an ellipsis: cut at a boundary. */
    termsafe_str(buf, 3, esc, sizeof esc - 1, 0);
    assert_string_equal(buf, "01");
    termsafe_str(buf, 3, (const uint8_t *)"\x1b", 1, 0);
    assert_string_equal(buf, "");
    termsafe_str(buf, 1, in, 20, 0);
    assert_string_equal(buf, "");
    /* A UTF-8 character is never split either. */
    termsafe_str(buf, 6, (const uint8_t *)"ab\xe6\x97\xa5\xe6\x97\xa5", 8, 0);
    assert_string_equal(buf, "ab\xe2\x80\xa6");
}

static void test_dynbuf_limit(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 6);
    size_t n = termsafe_append(&out, (const uint8_t *)"ab\x1b\x1b", 4, 0);
    assert_int_equal(n, 6);
    assert_string_equal(dynbuf_str(&out), "ab\\x1b");
    dynbuf_reset(&out);
    n = termsafe_append(&out, (const uint8_t *)"abc\x1b", 4, 0);
    assert_int_equal(n, 3);
    assert_string_equal(dynbuf_str(&out), "abc");
    dynbuf_cleanup(&out);
}

/* ---- marks: which parts of the output termsafe wrote in place of the input ---------------- */

enum { MARKS_MAX = 4096 };

struct marklist {
    size_t n;
    size_t off[MARKS_MAX], len[MARKS_MAX];
    enum termsafe_mark_kind kind[MARKS_MAX];
};

static void collect(void *data, size_t off, size_t len, enum termsafe_mark_kind kind)
{
    struct marklist *m = data;
    assert_true(m->n < MARKS_MAX);
    m->off[m->n] = off;
    m->len[m->n] = len;
    m->kind[m->n++] = kind;
}

/* The rendering with each escape in [] and each symbol in {} (the test's own notation). */
static char *render_marked(const uint8_t *p, size_t n, unsigned flags)
{
    static struct marklist m;
    m.n = 0;
    struct termsafe_marks marks = {collect, &m};
    struct dynbuf out, shown;
    dynbuf_init(&out, 1 << 20);
    dynbuf_init(&shown, 1 << 21);
    termsafe_append_marked(&out, p, n, flags, &marks);
    size_t pos = 0;
    for (size_t i = 0; i < m.n; i++) {
        assert_true(m.off[i] >= pos && m.off[i] + m.len[i] <= out.len && m.len[i] > 0);
        dynbuf_append(&shown, out.data + pos, m.off[i] - pos);
        dynbuf_adds(&shown, m.kind[i] == TERMSAFE_MARK_ESCAPE ? "[" : "{");
        dynbuf_append(&shown, out.data + m.off[i], m.len[i]);
        dynbuf_adds(&shown, m.kind[i] == TERMSAFE_MARK_ESCAPE ? "]" : "}");
        pos = m.off[i] + m.len[i];
    }
    dynbuf_append(&shown, out.data ? out.data + pos : (const uint8_t *)"", out.len - pos);
    dynbuf_cleanup(&out);
    return dynbuf_take(&shown);
}

static const struct case_ MARK_CASES[] = {
    /* What a peer sends as text stays text: only what termsafe wrote is marked. */
    {"\\\\x1b", 0, "\\x1b"},
    {"\\x1b", 0, "[\\x1b]"},
    {"a\\x1b\\\\x1b", 0, "a[\\x1b]\\x1b"},
    {"\\\\r\\r\\\\u{202e}\\xe2\\x80\\xae", 0, "\\r[\\r]\\u{202e}[\\u{202e}]"},
    {"\\x1b\\x1b[31m", 0, "[\\x1b][\\x1b][31m"},
    {"caf\\xc3\\xa9\\xff", 0, "caf\xc3\xa9[\\xff]"},
    {"caf\\xc3\\xa9", A, "caf[\\xc3][\\xa9]"},
    {"a\\tb\\nc", 0, "a[\\t]b[\\n]c"},
    {"a\\tb", T, "a\tb"},
    {"a\\r\\nb", N, "a\nb"},
    {"a\\r\\nb\\rc", N, "a\nb[\\r]c"},
    {"a\\r\\nb\\t", S, "a{\xe2\x90\x8d}{\xe2\x90\x8a}b{\xe2\x90\x89}"},
    {"a\\r\\nb", N | S, "a{\xe2\x90\x8d}{\xe2\x90\x8a}\nb"},
    /* the same characters sent as UTF-8 are not marks */
    {"\\xe2\\x90\\x8d\\xe2\\x90\\x8a", S, "\xe2\x90\x8d\xe2\x90\x8a"},
    {"plain", 0, "plain"},
    {"", 0, ""},
};

static void test_marks_table(void **state)
{
    (void)state;
    check_table(MARK_CASES, sizeof MARK_CASES / sizeof MARK_CASES[0], render_marked, false);
}

/*
 * Random input: every mark lies in the output, in order, and is an escape (starts with a
 * backslash) or a symbol; the fixed-buffer variant tells exactly the marks of the same
 * rendering that its text keeps, none under the ellipsis.
 */
static void test_marks_random(void **state)
{
    (void)state;
    static const uint8_t SPICE[] = {0x1b, '\\', 'x',  '1',  'b',  0xc2, 0x9b, 0xe2, 0x80,
                                    0xae, 0x0d, 0x0a, 0x09, 0xff, 0x90, 0x8a, 0x8d};
    static struct marklist whole, part;
    uint64_t seed = 0x2545f4914f6cdd1dull;
    uint8_t in[256];
    char small[48];
    for (int round = 0; round < 20000; round++) {
        size_t n = spiced(&seed, in, sizeof in, SPICE, sizeof SPICE);
        unsigned flags = ALL_FLAGS[round % (sizeof ALL_FLAGS / sizeof ALL_FLAGS[0])];
        struct dynbuf out;
        dynbuf_init(&out, 1 << 16);
        whole.n = part.n = 0;
        termsafe_append_marked(&out, in, n, flags, &(struct termsafe_marks){collect, &whole});
        size_t end = 0;
        for (size_t i = 0; i < whole.n; i++) {
            const uint8_t *t = out.data + whole.off[i];
            assert_true(whole.off[i] >= end && whole.off[i] + whole.len[i] <= out.len);
            end = whole.off[i] + whole.len[i];
            if (whole.kind[i] == TERMSAFE_MARK_ESCAPE)
                assert_true(t[0] == '\\' && whole.len[i] >= 2);
            else
                assert_true(whole.len[i] == 3 && t[0] == 0xe2 && t[1] == 0x90);
        }
        size_t buflen = 1 + rng_next(&seed) % sizeof small;
        termsafe_str_marked(small, buflen, in, n, flags, &(struct termsafe_marks){collect, &part});
        size_t sl = strlen(small);
        bool cut = out.len > sl || (out.len && memcmp(small, out.data, sl) != 0);
        size_t kept = cut && sl >= 3 ? sl - 3 : sl;
        size_t want = 0;
        for (size_t i = 0; i < whole.n; i++) {
            if (whole.off[i] + whole.len[i] > kept)
                continue;
            assert_true(want < part.n);
            assert_int_equal(part.off[want], whole.off[i]);
            assert_int_equal(part.len[want], whole.len[i]);
            want++;
        }
        assert_int_equal(part.n, want);
        dynbuf_cleanup(&out);
    }
}

/* Not a benchmark, a guard: clean ASCII must take the fast path (checked by throughput). */
static void test_clean_ascii_fast(void **state)
{
    (void)state;
    size_t n = 16 << 20;
    uint8_t *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(0x20 + i % 95);
    struct dynbuf out;
    dynbuf_init(&out, n + 1);
    termsafe_append(&out, in, n, 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, in, n);
    assert_true(termsafe_is_clean(in, n, 0));
    dynbuf_cleanup(&out);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_every_pair),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_str_cut),
        cmocka_unit_test(test_dynbuf_limit),
        cmocka_unit_test(test_clean_ascii_fast),
        cmocka_unit_test(test_marks_table),
        cmocka_unit_test(test_marks_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
