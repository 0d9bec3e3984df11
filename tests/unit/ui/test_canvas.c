/*
 * canvas: lines never exceed their width at any width, wide characters and skips keep columns
 * aligned, ellipses mark cuts, and bytes from the network are escaped.
 */
#include "testutil.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/canvas.h"
#include "hspy/termsafe.h"

static const char *line_text(const struct canvas_line *l)
{
    return l->text.data ? (const char *)l->text.data : "";
}

static void test_put_clip(void **state)
{
    (void)state;
    static const struct {
        int width, skip;
        const char *ellipsis;
        const char *in;
        const char *out;
    } CASES[] = {
        {10, 0, NULL, "hello", "hello"}, {3, 0, NULL, "hello", "hel"}, {3, 0, "…", "hello", "he…"},
        {5, 0, NULL, "ab中文", "ab中"}, /* 文 would straddle the edge */
        {5, 0, "…", "ab中文", "ab中…"},  {4, 0, "…", "ab中文", "ab…"}, /* 中 cannot stay with the
                                                                          ellipsis: padded */
        {4, 1, NULL, "中abc", " abc"}, /* half of a skipped wide character: a space */
        {4, 2, NULL, "中abc", "abc"},    {3, 10, NULL, "hello", ""},   {1, 0, "…", "hello", "…"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, CASES[i].width);
        canvas_line_reset(&l, CASES[i].width, CASES[i].skip);
        l.ellipsis = CASES[i].ellipsis;
        canvas_puts(&l, STYLE_NORMAL, CASES[i].in);
        const char *got = line_text(&l);
        /* The padded case ends in a space after the ellipsis. */
        if (strncmp(got, CASES[i].out, strlen(CASES[i].out)) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, got, CASES[i].out);
        assert_true(l.cells <= CASES[i].width);
        assert_int_equal(celltext_width(got, l.text.len), l.cells);
        canvas_line_cleanup(&l);
    }
}

/* A fixed column (an offset) stays in place under a sideways scroll: the skip applies to the
 * text after it, however it is split. */
static void test_put_fixed(void **state)
{
    (void)state;
    static const struct {
        int width, skip;
        const char *fixed, *text1, *text2, *out;
    } CASES[] = {
        {20, 0, "  0 ", "GET /x", " HTTP", "  0 GET /x HTTP"},
        {20, 3, "  0 ", "GET /x", " HTTP", "  0  /x HTTP"},
        {20, 7, "  0 ", "GET /x", " HTTP", "  0 HTTP"},
        {20, 99, "  0 ", "GET /x", " HTTP", "  0 "},
        {6, 2, "  0 ", "GET /x", "", "  0 T "},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, CASES[i].width);
        canvas_line_reset(&l, CASES[i].width, CASES[i].skip);
        canvas_put_fixed(&l, STYLE_DIM, CASES[i].fixed, strlen(CASES[i].fixed));
        canvas_puts(&l, STYLE_NORMAL, CASES[i].text1);
        canvas_puts(&l, STYLE_NORMAL, CASES[i].text2);
        if (strcmp(line_text(&l), CASES[i].out) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, line_text(&l), CASES[i].out);
        canvas_line_cleanup(&l);
    }
}

/* Safe text in at most so many cells: whole when it fits, else its middle gives way to the cut
 * (a third of the room before it, the rest after); never wider than asked. */
static void test_put_within_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int cells;
        const char *out;
    } CASES[] = {
        {"filter", 20, "filter"},
        {"filter", 6, "filter"},
        {"save all 3 flows to HAR file", 28, "save all 3 flows to HAR file"},
        {"save all 3 flows to HAR file", 13, "save…HAR file"},
        {"write the curl command of #12 to file", 18, "write… #12 to file"},
        {"write the curl command of #12 to file", 1, "…"},
        {"écrire le fichier", 10, "écr…ichier"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, 80);
        int put = canvas_put_within(&l, STYLE_PROMPT, CASES[i].text, strlen(CASES[i].text),
                                    CASES[i].cells, "…");
        if (strcmp(line_text(&l), CASES[i].out) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, line_text(&l), CASES[i].out);
        assert_int_equal(put, l.cells);
        assert_true(put <= CASES[i].cells);
        canvas_line_cleanup(&l);
    }
}

/* Every width from 0 to 40 over mixed text: cells never exceed the width. */
static void test_every_width(void **state)
{
    (void)state;
    const char *parts[] = {"GET ", "/中文/路径", "e\xcc\x81", "\xf0\x9f\x98\x80", "x"};
    for (int w = 0; w <= 40; w++) {
        for (int skip = 0; skip < 4; skip++) {
            struct canvas_line l;
            canvas_line_init(&l, w);
            canvas_line_reset(&l, w, skip);
            l.ellipsis = w % 2 ? "…" : NULL;
            for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
                canvas_puts(&l, (uint8_t)(i + 1), parts[i]);
            assert_true(l.cells <= w);
            assert_int_equal(celltext_width(line_text(&l), l.text.len), l.cells);
            for (uint32_t s = 0; s < l.nspans; s++)
                assert_true(l.spans[s].off + l.spans[s].len <= l.text.len);
            canvas_line_cleanup(&l);
        }
    }
}

static void test_fit_align(void **state)
{
    (void)state;
    struct canvas_line l;
    canvas_line_init(&l, 40);
    canvas_put_fit(&l, STYLE_NORMAL, "42", 2, 5, CELLTEXT_RIGHT, "…");
    canvas_put_fit(&l, STYLE_NORMAL, "ab", 2, 4, CELLTEXT_LEFT, "…");
    canvas_put_fit(&l, STYLE_NORMAL, "abcdef", 6, 4, CELLTEXT_LEFT, "…");
    canvas_put_fit(&l, STYLE_NORMAL, "中文中", 9, 4, CELLTEXT_LEFT, "…");
    assert_string_equal(line_text(&l), "   42ab  abc…中… ");
    assert_int_equal(l.cells, 5 + 4 + 4 + 4);
    canvas_line_cleanup(&l);
}

/* Nothing below 0x20, no DEL and no C1 control reaches a line from canvas_put_bytes. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    static const char *const INPUTS[] = {
        "\x1b[31mred\x1b[0m",
        "\x1b]0;title\x07",
        "a\rb\nc\td",
        "\x7f\x00\x01",
        "\xc2\x9b"
        "31m", /* C1 CSI */
        "\xe2\x80\xae"
        "evil", /* right-to-left override */
        "\xff\xfe\xc0\xaf",
    };
    for (size_t i = 0; i < sizeof INPUTS / sizeof INPUTS[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, CANVAS_UNLIMITED);
        size_t n = strlen(INPUTS[i]) + (i == 3 ? 2 : 0);
        canvas_put_bytes(&l, STYLE_NORMAL, (const uint8_t *)INPUTS[i], n, 0);
        /* Nothing a terminal would act on: no control, no invalid UTF-8, no bidi override. */
        assert_true(termsafe_is_clean(l.text.data, l.text.len, 0));
        assert_null(strstr(line_text(&l), "\xe2\x80\xae"));
        canvas_line_cleanup(&l);
    }
}

static void test_spans(void **state)
{
    (void)state;
    struct canvas_line l;
    canvas_line_init(&l, 80);
    l.style = STYLE_CURSOR;
    canvas_puts(&l, STYLE_WARN, "abc");
    canvas_puts(&l, STYLE_WARN, "def"); /* merged with the previous span */
    canvas_puts(&l, STYLE_NORMAL, "ghi");
    assert_int_equal(l.nspans, 1);
    assert_int_equal(canvas_style_at(&l, 5), STYLE_WARN);
    assert_int_equal(canvas_style_at(&l, 7), STYLE_CURSOR); /* base style */
    canvas_restyle(&l, 4, 4, STYLE_MATCH);
    assert_int_equal(canvas_style_at(&l, 3), STYLE_WARN);
    assert_int_equal(canvas_style_at(&l, 6), STYLE_MATCH);
    canvas_line_cleanup(&l);
}

/* The escapes termsafe writes are styled apart, wherever the line's skip and cut leave them. */
static void test_escape_marks(void **state)
{
    (void)state;
    static const struct {
        int width, skip;
        const char *ellipsis;
        const char *in;
        const char *want; /* the line with STYLE_ESCAPE bytes in [], STYLE_LINE_END in {} */
        unsigned flags;
    } CASES[] = {
        {40, 0, NULL,
         "a\x1b"
         "b\\x1bc",
         "a[\\x1b]b\\x1bc", 0},
        {40, 2, NULL,
         "\x1b\x1b"
         "z",
         "[1b\\x1b]z", 0},                   /* half an escape scrolled off */
        {6, 0, "…", "ab\x1b\x1b", "ab…", 0}, /* cut, ellipsis not styled */
        {9, 0, "…", "ab\x1b\x1b", "ab[\\x1b\\x]…", 0},
        {6, 0, NULL, "ab\x1b\x1b", "ab[\\x1b]", 0},
        {40, 0, NULL, "x\r\n", "x{␍␊}", TERMSAFE_SYMBOLS},
        {40, 0, NULL, "\xe2\x90\x8d", "␍", TERMSAFE_SYMBOLS}, /* the character sent as such */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, CASES[i].width);
        canvas_line_reset(&l, CASES[i].width, CASES[i].skip);
        l.ellipsis = CASES[i].ellipsis;
        canvas_put_bytes(&l, STYLE_HNAME, (const uint8_t *)CASES[i].in, strlen(CASES[i].in),
                         CASES[i].flags);
        char got[256];
        size_t n = 0;
        uint8_t prev = STYLE_HNAME;
        for (size_t k = 0; k <= l.text.len; k++) {
            uint8_t st = k < l.text.len ? canvas_style_at(&l, k) : STYLE_HNAME;
            if (st != prev && (prev == STYLE_ESCAPE || prev == STYLE_LINE_END))
                got[n++] = prev == STYLE_ESCAPE ? ']' : '}';
            if (st != prev && (st == STYLE_ESCAPE || st == STYLE_LINE_END))
                got[n++] = st == STYLE_ESCAPE ? '[' : '{';
            if (k < l.text.len)
                got[n++] = (char)l.text.data[k];
            prev = st;
        }
        got[n] = '\0';
        /* The cut line's trailing padding is not part of the expectation. */
        while (n > 0 && got[n - 1] == ' ')
            got[--n] = '\0';
        if (strcmp(got, CASES[i].want) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, got, CASES[i].want);
        canvas_line_cleanup(&l);
    }
    /* A cell fitted with an ellipsis: what stays of an escape cut by the fit is still one. */
    struct canvas_line l;
    canvas_line_init(&l, 40);
    static const struct canvas_mark m[] = {{2, 4, TERMSAFE_MARK_ESCAPE}, {6, 4, 0}};
    canvas_put_fit_marked(&l, STYLE_NORMAL, "ab\\x1b\\x1b", 10, 6, CELLTEXT_LEFT, "…", m, 2);
    assert_string_equal(line_text(&l), "ab\\x1…");
    assert_int_equal(canvas_style_at(&l, 1), STYLE_NORMAL);
    assert_int_equal(canvas_style_at(&l, 2), STYLE_ESCAPE);
    assert_int_equal(canvas_style_at(&l, 4), STYLE_ESCAPE);
    assert_int_equal(canvas_style_at(&l, 5), STYLE_DIM); /* the ellipsis */
    canvas_line_cleanup(&l);
}

/* Text too wide for its room loses its middle, never a character or an escape, and keeps a
 * third of the room before the cut; escapes kept on either side stay marked. */
static void test_put_within(void **state)
{
    (void)state;
    static const struct {
        int cells;
        const char *in, *out;
    } CASES[] = {
        {20, "short.txt", "short.txt"},
        {9, "short.txt", "short.txt"},
        {8, "short.txt", "sh…t.txt"},
        {13, "/very/long/dir/file.txt", "/ver…file.txt"},
        {10, "ab\\x1bcdefgh\\x01ij", "ab…\\x01ij"}, /* escapes kept whole */
        {12, "\\x1b\\x1b\\x1bxyz", "…\\x1bxyz"},
        {6, "a中文字b", "a…字b"}, /* wide characters kept whole */
        {1, "abc", "…"},
        {0, "abc", ""},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char in[64];
        size_t n = 0;
        for (const char *c = CASES[i].in; *c; c++) /* "\\x1b" in the table is the byte */
            if (c[0] == '\\' && c[1] == 'x') {
                in[n++] = (char)strtol((char[]){c[2], c[3], 0}, NULL, 16);
                c += 3;
            } else {
                in[n++] = *c;
            }
        struct canvas_line l;
        canvas_line_init(&l, 40);
        int put =
            canvas_put_bytes_within(&l, STYLE_NORMAL, (const uint8_t *)in, n, CASES[i].cells, "…");
        if (strcmp(line_text(&l), CASES[i].out) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, line_text(&l), CASES[i].out);
        assert_true(put <= CASES[i].cells);
        assert_int_equal(put, l.cells);
        const char *esc = strstr(line_text(&l), "\\x");
        if (esc)
            assert_int_equal(canvas_style_at(&l, (size_t)(esc - line_text(&l))), STYLE_ESCAPE);
        canvas_line_cleanup(&l);
    }
    assert_int_equal(canvas_bytes_width((const uint8_t *)"a\x1b中", 5), 1 + 4 + 2);
}

static void test_canvas_rows(void **state)
{
    (void)state;
    struct canvas c;
    canvas_init(&c, 3, 10);
    canvas_puts(canvas_row(&c, 0), STYLE_NORMAL, "first");
    canvas_puts(canvas_row(&c, 2), STYLE_NORMAL, "third line is long");
    struct dynbuf out;
    dynbuf_init(&out, 1024);
    canvas_dump(&c, &out);
    assert_string_equal(dynbuf_str(&out), "first\n\nthird line\n");
    canvas_resize(&c, 1, 4);
    dynbuf_reset(&out);
    canvas_dump(&c, &out);
    assert_string_equal(dynbuf_str(&out), "\n");
    dynbuf_cleanup(&out);
    canvas_cleanup(&c);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_clip),    cmocka_unit_test(test_every_width),
        cmocka_unit_test(test_fit_align),   cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_spans),       cmocka_unit_test(test_escape_marks),
        cmocka_unit_test(test_canvas_rows), cmocka_unit_test(test_put_within),
        cmocka_unit_test(test_put_fixed),   cmocka_unit_test(test_put_within_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
