/*
 * Body views: choosing a view, JSON pretty-printing (and invalid JSON falling back to text),
 * form fields, multipart parts, charsets, hex rows, hostile bytes, cutting and wrapping, lazy
 * indexing of a 100 MB body measured by the view's own scan counter, and search.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bodyview.h"

static struct bodyview *view(const char *ct, const void *body, size_t n, enum bodyview_mode m)
{
    return bodyview_new(body, n, ct, ct ? strlen(ct) : 0, m);
}

static struct bodyview *sview(const char *ct, const char *body, enum bodyview_mode m)
{
    return view(ct, body, strlen(body), m);
}

static void layout(struct bodyview *v, uint32_t width, uint32_t hscroll, bool wrap)
{
    struct bodyview_layout lay = {width, hscroll, wrap};
    bodyview_set_layout(v, &lay);
}

/* Every row, '\n' after each. */
static char *all_rows(struct bodyview *v)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 26);
    bodyview_render(v, &out, 0);
    return dynbuf_take(&out);
}

static void expect_render(struct bodyview *v, const char *want)
{
    char *got = all_rows(v);
    if (strcmp(got, want) != 0)
        fail_msg("rendered:\n%s\nexpected:\n%s", got, want);
    free(got);
}

/* The style of the span covering byte off of a row (BODYVIEW_STYLE_PLAIN when none). */
static int style_at(const struct bodyview_row *r, uint32_t off)
{
    int style = BODYVIEW_STYLE_PLAIN;
    for (uint32_t i = 0; i < r->nspans; i++)
        if (off >= r->span[i].off && off < r->span[i].off + r->span[i].len)
            style = r->span[i].style;
    return style;
}

/* ---- choosing a view ------------------------------------------------------------------ */

static void test_pick(void **state)
{
    (void)state;
    static const struct {
        const char *ct;
        const char *body;
        size_t len; /* 0: strlen */
        enum bodyview_mode mode;
    } cases[] = {
        {"application/json", "{\"a\": [1, 2]}", 0, BODYVIEW_JSON},
        {"Application/JSON; charset=UTF-8", " [true] ", 0, BODYVIEW_JSON},
        {"application/problem+json", "{\"title\":\"x\"}", 0, BODYVIEW_JSON},
        {"application/json", "\"just a string\"", 0, BODYVIEW_JSON},
        {"application/json", "{\"a\": 1,}", 0, BODYVIEW_TEXT},
        {"application/json", "{\"a\": ", 0, BODYVIEW_TEXT},
        {"application/x-ndjson", "{\"a\":1}\n{\"b\":2}\n", 0, BODYVIEW_JSON},
        {NULL, "{\"a\":1}\n[2]\n", 0, BODYVIEW_JSON},
        {"text/plain", "{\"ok\": true}", 0, BODYVIEW_JSON},
        {"text/plain", "42", 0, BODYVIEW_TEXT},
        /* a UTF-8 byte order mark in front of JSON is ignored, as RFC 8259 lets a reader do */
        {"application/json", "\xef\xbb\xbf{\"a\": 1}", 0, BODYVIEW_JSON},
        {NULL, "\xef\xbb\xbf[1]", 0, BODYVIEW_JSON},
        {"text/html", "<html>{}</html>", 0, BODYVIEW_TEXT},
        {"application/x-www-form-urlencoded", "a=1&b=two+words", 0, BODYVIEW_FORM},
        {"application/x-www-form-urlencoded", "{\"sent\": \"by curl -d\"}", 0, BODYVIEW_JSON},
        {NULL, "user=alice&pass=x%21", 0, BODYVIEW_FORM},
        /* and in front of a form, which its readers skip as well */
        {NULL, "\xef\xbb\xbfuser=alice&pass=x%21", 0, BODYVIEW_FORM},
        {NULL, "user=alice and bob", 0, BODYVIEW_TEXT},
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\n\r\nx\r\n--XyZ--\r\n", 0,
         BODYVIEW_MULTIPART},
        {"multipart/mixed; boundary=\"a b;c\"", "--a b;c\r\n\r\nx\r\n--a b;c--", 0,
         BODYVIEW_MULTIPART},
        {"multipart/form-data", "--XyZ\r\n\r\nx\r\n--XyZ--\r\n", 0, BODYVIEW_TEXT},
        {"multipart/form-data; boundary=other", "--XyZ\r\n\r\nx\r\n--XyZ--\r\n", 0, BODYVIEW_TEXT},
        {"image/png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, BODYVIEW_HEX},
        {"image/svg+xml", "<svg/>", 0, BODYVIEW_TEXT},
        {"application/octet-stream", "plain words\n", 0, BODYVIEW_TEXT},
        {"application/octet-stream", "\x01\x02\x03\x04\x05", 0, BODYVIEW_HEX},
        {NULL, "\x1f\x8b\x08\x00gzip-ish", 0, BODYVIEW_HEX},
        {NULL, "a\0b", 3, BODYVIEW_HEX},
        {"text/plain", "text\0with nul", 13, BODYVIEW_HEX},
        {NULL, "hello world\n", 0, BODYVIEW_TEXT},
        {NULL, "", 0, BODYVIEW_TEXT},
        {"text/plain",
         "caf\xe9 cr\xe8me br\xfbl\xe9"
         "e",
         0, BODYVIEW_TEXT},
        {NULL, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x90\x91\x92", 0, BODYVIEW_HEX},
        {NULL, "\x1b[1mbold\x1b[0m log line\n", 0, BODYVIEW_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].body);
        enum bodyview_mode m = bodyview_pick((const uint8_t *)cases[i].body, n, cases[i].ct,
                                             cases[i].ct ? strlen(cases[i].ct) : 0);
        if (m != cases[i].mode)
            fail_msg("case %zu (%s): picked %s, expected %s", i, cases[i].ct ? cases[i].ct : "-",
                     bodyview_mode_name(m), bodyview_mode_name(cases[i].mode));
        struct bodyview *v = view(cases[i].ct, cases[i].body, n, BODYVIEW_AUTO);
        assert_int_equal(bodyview_mode(v), cases[i].mode);
        bodyview_free(v);
    }
}

static void test_modes(void **state)
{
    (void)state;
    for (int m = 0; m < BODYVIEW__COUNT; m++)
        assert_int_equal(bodyview_mode_by_name(bodyview_mode_name((enum bodyview_mode)m)), m);
    assert_int_equal(bodyview_mode_by_name("nope"), BODYVIEW__COUNT);
    /* Cycling offers only modes that apply: json, text, hex for a JSON body. */
    struct bodyview *v = sview("application/json", "{\"a\":1}", BODYVIEW_AUTO);
    enum bodyview_mode seen[8];
    for (int i = 0; i < 4; i++) {
        seen[i] = bodyview_mode(v);
        bodyview_set_mode(v, bodyview_next_mode(v));
    }
    assert_int_equal(seen[0], BODYVIEW_JSON);
    assert_int_equal(seen[1], BODYVIEW_HEX);
    assert_int_equal(seen[2], BODYVIEW_TEXT);
    assert_int_equal(seen[3], BODYVIEW_JSON);
    /* Multipart without a boundary cannot apply: text instead. */
    bodyview_set_mode(v, BODYVIEW_MULTIPART);
    assert_int_equal(bodyview_mode(v), BODYVIEW_TEXT);
    bodyview_set_mode(v, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_JSON);
    assert_string_equal(bodyview_describe(v), "json");
    bodyview_free(v);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void test_json_pretty(void **state)
{
    (void)state;
    const char *doc = "{\"name\":\"hspy\",\"n\":[1,-2.5e3,true,null,{}],\"empty\":[],"
                      "\"obj\":{\"a\":{\"b\":[\"x\",\"y\\\"z\"]}},\"u\":\"caf\\u00e9 \xc3\xa9\"}";
    struct bodyview *v = sview("application/json", doc, BODYVIEW_AUTO);
    expect_render(v, "{\n"
                     "  \"name\": \"hspy\",\n"
                     "  \"n\": [\n"
                     "    1,\n"
                     "    -2.5e3,\n"
                     "    true,\n"
                     "    null,\n"
                     "    {}\n"
                     "  ],\n"
                     "  \"empty\": [],\n"
                     "  \"obj\": {\n"
                     "    \"a\": {\n"
                     "      \"b\": [\n"
                     "        \"x\",\n"
                     "        \"y\\\"z\"\n"
                     "      ]\n"
                     "    }\n"
                     "  },\n"
                     "  \"u\": \"caf\\u00e9 \xc3\xa9\"\n"
                     "}\n");
    /* Styles of `  "name": "hspy",` */
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 1, &r));
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_PLAIN);
    assert_int_equal(style_at(&r, 2), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 7), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 8), BODYVIEW_STYLE_PUNCT);
    assert_int_equal(style_at(&r, 10), BODYVIEW_STYLE_STRING);
    assert_int_equal(style_at(&r, 16), BODYVIEW_STYLE_PUNCT);
    assert_true(bodyview_row(v, 4, &r)); /* -2.5e3, */
    assert_int_equal(style_at(&r, 4), BODYVIEW_STYLE_NUMBER);
    assert_true(bodyview_row(v, 5, &r)); /* true, */
    assert_int_equal(style_at(&r, 4), BODYVIEW_STYLE_LITERAL);
    assert_false(bodyview_row(v, 20, &r));
    bool complete;
    assert_int_equal(bodyview_rows(v, &complete), 20);
    assert_true(complete);
    bodyview_row_cleanup(&r);
    bodyview_free(v);

    /* Whitespace as sent does not matter; a top-level scalar; JSON lines. */
    v = sview("application/json", " \r\n\t[ 1 ,\n\n 2 ] ", BODYVIEW_AUTO);
    expect_render(v, "[\n  1,\n  2\n]\n");
    bodyview_free(v);
    v = sview("application/json", "\"only\"", BODYVIEW_AUTO);
    expect_render(v, "\"only\"\n");
    bodyview_free(v);
    v = sview("application/x-ndjson", "{\"a\":1}\n{\"b\":[]}\n", BODYVIEW_AUTO);
    expect_render(v, "{\n  \"a\": 1\n}\n{\n  \"b\": []\n}\n");
    bodyview_free(v);
    /* A UTF-8 byte order mark in front: not drawn, named by the heading. */
    v = sview("application/json", "\xef\xbb\xbf{\"a\":[1]}", BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_JSON);
    expect_render(v, "{\n  \"a\": [\n    1\n  ]\n}\n");
    assert_string_equal(bodyview_describe(v), "json, with BOM");
    bodyview_free(v);
}

static void test_json_invalid(void **state)
{
    (void)state;
    /* Chosen automatically, invalid JSON is text. */
    struct bodyview *v = sview("application/json", "{\"a\": 1, \"b\": @@@}\nmore", BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_TEXT);
    expect_render(v, "{\"a\": 1, \"b\": @@@}\nmore\n");
    /* Forced, it is pretty up to the fault, then a notice, then the rest as text. */
    bodyview_set_mode(v, BODYVIEW_JSON);
    expect_render(v, "{\n"
                     "  \"a\": 1,\n"
                     "── not valid JSON at byte 14 (a value is missing); the rest is shown as "
                     "text ──\n"
                     "\"b\": @@@}\n"
                     "more\n");
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 2, &r));
    assert_true(r.flags & BODYVIEW_ROW_NOTICE);
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_NOTICE);
    assert_true(bodyview_row(v, 3, &r));
    assert_false(r.flags & BODYVIEW_ROW_NOTICE);
    bodyview_row_cleanup(&r);
    bodyview_free(v);

    static const struct {
        const char *body, *want;
    } cases[] = {
        {"[1, 2]]", "[\n  1,\n  2\n]\n── not valid JSON at byte 6 (a closing bracket without an "
                    "opening one); the rest is shown as text ──\n]\n"},
        {"[tru]", "[\n── not valid JSON at byte 1 (not a number, string or literal); the rest is "
                  "shown as text ──\ntru]\n"},
        {"[01]", "[\n── not valid JSON at byte 1 (not a number, string or literal); the rest is "
                 "shown as text ──\n01]\n"},
        {"plain text", "── not valid JSON at byte 0 (not a number, string or literal); the rest "
                       "is shown as text ──\nplain text\n"},
        /* Lenient about structure: a missing colon is not a lexical fault. */
        {"{\"a\" 1}", "{\n  \"a\"\n  1\n}\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v = sview("application/json", cases[i].body, BODYVIEW_JSON);
        expect_render(v, cases[i].want);
        bodyview_free(v);
    }
}

static void test_json_deep_and_long(void **state)
{
    (void)state;
    /* 40 levels: indentation stops at BODYVIEW_INDENT_MAX and the depth is shown. */
    char deep[128];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 39);
    deep[79] = '\0';
    deep[39] = '7'; /* [[[...[7]...]]] with 39 brackets around 7 */
    struct bodyview *v = sview("application/json", deep, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_JSON);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 39, &r));
    char want[128];
    memset(want, ' ', 2 * BODYVIEW_INDENT_MAX);
    snprintf(want + 2 * BODYVIEW_INDENT_MAX, sizeof want - 2 * BODYVIEW_INDENT_MAX, "(39) 7");
    assert_string_equal(dynbuf_str(&r.text), want);
    bodyview_free(v);

    /* A 40000-byte string is shown as several lines that together hold all of it. */
    size_t n = 40000;
    char *big = malloc(n + 16);
    size_t k = 0;
    k += (size_t)sprintf(big, "{\"s\":\"");
    for (size_t i = 0; i < n; i++)
        big[k++] = (char)('a' + i % 26);
    k += (size_t)sprintf(big + k, "\",\"t\":1}");
    v = view("application/json", big, k, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_JSON);
    struct dynbuf joined;
    dynbuf_init(&joined, 1 << 20);
    uint64_t row = 1, pieces = 0;
    for (; bodyview_row(v, row, &r); row++) {
        const char *t = dynbuf_str(&r.text);
        if (strncmp(t, "  \"t\"", 5) == 0)
            break;
        assert_true(pieces == 0 ? !(r.flags & BODYVIEW_ROW_CONT) : (r.flags & BODYVIEW_ROW_CONT));
        assert_true(r.text.len <= BODYVIEW_LINE_MAX + 16);
        dynbuf_adds(&joined, t + 2); /* without the indent */
        pieces++;
    }
    assert_int_equal(pieces, 3);
    char *expect = malloc(n + 16);
    k = (size_t)sprintf(expect, "\"s\": \"");
    for (size_t i = 0; i < n; i++)
        expect[k++] = (char)('a' + i % 26);
    k += (size_t)sprintf(expect + k, "\",");
    assert_int_equal(joined.len, k);
    assert_memory_equal(joined.data, expect, k);
    assert_string_equal(dynbuf_str(&r.text), "  \"t\": 1");
    dynbuf_cleanup(&joined);
    free(expect);
    free(big);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
}

/* ---- form fields ---------------------------------------------------------------------- */

static void test_form(void **state)
{
    (void)state;
    struct bodyview *v = sview("application/x-www-form-urlencoded",
                               "name=J%C3%BCrgen+Smith&&x=1&empty=&flag&bad=%zz%4&a%3Db=c%26d&"
                               "t=%09tab",
                               BODYVIEW_AUTO);
    expect_render(v, "name: Jürgen Smith\n"
                     "x: 1\n"
                     "empty: \n"
                     "flag\n"
                     "bad: %zz%4\n"
                     "a=b: c&d\n"
                     "t:      tab\n");
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 4), BODYVIEW_STYLE_PUNCT);
    assert_int_equal(style_at(&r, 6), BODYVIEW_STYLE_PLAIN);
    bodyview_row_cleanup(&r);
    assert_string_equal(bodyview_describe(v), "form, utf-8");
    bodyview_free(v);
    /* Control bytes decoded from %XX are still escaped. */
    v = sview("application/x-www-form-urlencoded", "k=%1B%5B2J%00", BODYVIEW_FORM);
    expect_render(v, "k: \\x1b[2J\\x00\n");
    bodyview_free(v);
    /* A UTF-8 byte order mark in front: no part of the first name, named by the heading; a
     * U+FEFF further on is a character of the field, escaped as the invisible one it is. */
    v = sview("application/x-www-form-urlencoded",
              "\xef\xbb\xbf"
              "a=1&%EF%BB%BFb=2",
              BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_FORM);
    expect_render(v, "a: 1\n\\u{feff}b: 2\n");
    assert_string_equal(bodyview_describe(v), "form, utf-8 with BOM");
    bodyview_free(v);
}

/* ---- multipart ------------------------------------------------------------------------ */

static void test_multipart(void **state)
{
    (void)state;
    static const char body[] =
        "preamble to ignore\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"title\"\r\n"
        "\r\n"
        "Hello\r\n"
        "second line --XyZ not a delimiter\r\n"
        "--XyZabc is not one either\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "\x00\x01\x02"
        "binary part, twenty+ bytes\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"sniffed\"\r\n"
        "\r\n"
        "\x00\xff\r\n"
        "--XyZ--\r\n"
        "epilogue\r\n";
    struct bodyview *v =
        view("multipart/form-data; boundary=XyZ", body, sizeof body - 1, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_MULTIPART);
    expect_render(v, "preamble to ignore\n"
                     "--XyZ  (part 1)\n"
                     "Content-Disposition: form-data; name=\"title\"\n"
                     "\n"
                     "Hello\n"
                     "second line --XyZ not a delimiter\n"
                     "--XyZabc is not one either\n"
                     "--XyZ  (part 2)\n"
                     "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\n"
                     "Content-Type: application/octet-stream\n"
                     "\n"
                     "00000101  00 01 02 62 69 6e 61 72  79 20 70 61 72 74 2c 20 "
                     "|...binary part, |\n"
                     "00000111  74 77 65 6e 74 79 2b 20  62 79 74 65 73          "
                     "|twenty+ bytes|\n"
                     "--XyZ  (part 3)\n"
                     "Content-Disposition: form-data; name=\"sniffed\"\n"
                     "\n"
                     "00000159  00 ff                                            |..|\n"
                     "--XyZ--  (end)\n"
                     "epilogue\n");
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 1, &r));
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_META);
    assert_true(bodyview_row(v, 2, &r));
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 19), BODYVIEW_STYLE_PLAIN);
    bodyview_row_cleanup(&r);
    assert_string_equal(bodyview_describe(v), "multipart, boundary XyZ");
    bodyview_free(v);

    /* LF line ends, a quoted boundary, and no closing delimiter. */
    static const char lf[] = "--a b\n"
                             "Content-Type: text/plain\n"
                             "\n"
                             "text\n"
                             "--a b\n"
                             "\n"
                             "cut off";
    v = view("multipart/mixed; boundary=\"a b\"", lf, sizeof lf - 1, BODYVIEW_AUTO);
    expect_render(v, "--a b  (part 1)\n"
                     "Content-Type: text/plain\n"
                     "\n"
                     "text\n"
                     "--a b  (part 2)\n"
                     "\n"
                     "cut off\n"
                     "── the multipart body ends without its closing delimiter ──\n");
    bodyview_free(v);
}

/* ---- charsets ------------------------------------------------------------------------- */

static void test_charsets(void **state)
{
    (void)state;
    static const struct {
        const char *ct;
        const char *body;
        const char *row;
        const char *describe;
    } cases[] = {
        {"text/plain; charset=iso-8859-1", "caf\xe9 \xa3 5", "café £ 5",
         "text, windows-1252 (declared iso-8859-1)"},
        {"text/plain; charset=\"ISO-8859-1\"", "\x80 \x85 \x99", "€ … ™",
         "text, windows-1252 (declared ISO-8859-1)"},
        {"text/plain; charset=windows-1252", "a\x81z", "a\\x81z", "text, windows-1252"},
        {"text/plain", "na\xefve", "naïve", "text, windows-1252"}, /* sniffed: not UTF-8 */
        {"text/plain", "na\xc3\xafve", "naïve", "text, utf-8"},
        {"text/plain; charset=utf-8", "bad \xe9 byte", "bad \\xe9 byte", "text, utf-8"},
        {"text/plain; charset=koi8-r", "\xd3\xcf\xcb", "сок", "text, koi8-r"},
        {"text/plain; charset=x-no-such", "plain \xc3\xa9", "plain é",
         "text, utf-8 (declared x-no-such)"},
        /* declared UTF-16 is read as UTF-16, as browsers do, even when it is not */
        {"text/plain; charset=utf-16", "plain", "汰楡\\x6e", "text, utf-16le (declared utf-16)"},
        {"text/plain", "tab\there", "tab     here", "text, utf-8"},
        {"text/plain", "crlf\r\nnext", "crlf", "text, utf-8"},
        {"text/plain", "lone\rcr", "lone\\rcr", "text, utf-8"},
    };
    struct bodyview_row r;
    bodyview_row_init(&r);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bodyview *v = sview(cases[i].ct, cases[i].body, BODYVIEW_TEXT);
        assert_true(bodyview_row(v, 0, &r));
        if (strcmp(dynbuf_str(&r.text), cases[i].row) != 0)
            fail_msg("case %zu: \"%s\", expected \"%s\"", i, dynbuf_str(&r.text), cases[i].row);
        assert_string_equal(bodyview_describe(v), cases[i].describe);
        bodyview_free(v);
    }
    bodyview_row_cleanup(&r);
}

/* ---- hex ------------------------------------------------------------------------------ */

/* Hex offsets counted from an origin (bytes that sit further into a stream); rows, offsets of
   rows and byte matches stay counted from the body's start. */
static void test_hex_origin(void **state)
{
    (void)state;
    const char *b = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nxyz";
    struct bodyview *v = view(NULL, b, strlen(b), BODYVIEW_HEX);
    bodyview_set_origin(v, 0x10f8);
    expect_render(v, "000010f8  47 45 54 20 2f 61 20 48  54 54 50 2f 31 2e 31 0d "
                     "|GET /a HTTP/1.1.|\n"
                     "00001108  0a 48 6f 73 74 3a 20 68  0d 0a 0d 0a 78 79 7a    "
                     "|.Host: h....xyz|\n");
    assert_int_equal(bodyview_row_of_offset(v, 17), 1);
    char err[64];
    struct bodyview_query *q = bodyview_query_new("xyz", 0, err, sizeof err);
    struct bodyview_match from, m;
    bodyview_position(v, 0, &from);
    assert_int_equal(bodyview_find(v, q, &from, false, 0, &m), BODYVIEW_FOUND);
    assert_int_equal(m.offset, 28);
    assert_int_equal(m.row, 1);
    bodyview_query_free(q);
    /* Past 4 GiB the offsets take a ninth digit, and the narrower layouts follow. */
    bodyview_set_origin(v, (uint64_t)1 << 32);
    layout(v, 46, 0, false);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_string_equal(dynbuf_str(&r.text), "100000000  47 45 54 20  2f 61 20 48 |GET /a H|");
    /* The offset and the gap after it are what a viewer keeps in place when it scrolls. */
    assert_int_equal(r.fixed, 11);
    /* A text row has no such column. */
    bodyview_set_mode(v, BODYVIEW_TEXT);
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(r.fixed, 0);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[40];
    for (int i = 0; i < 40; i++)
        b[i] = (uint8_t)(i * 7 + 30);
    b[0] = 0;
    b[1] = 0x1b;
    b[2] = 0x7f;
    b[3] = 0xff;
    struct bodyview *v = view("application/octet-stream", b, sizeof b, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_HEX);
    expect_render(v, "00000000  00 1b 7f ff 3a 41 48 4f  56 5d 64 6b 72 79 80 87 "
                     "|....:AHOV]dkry..|\n"
                     "00000010  8e 95 9c a3 aa b1 b8 bf  c6 cd d4 db e2 e9 f0 f7 "
                     "|................|\n"
                     "00000020  fe 05 0c 13 1a 21 28 2f                          "
                     "|.....!(/|\n");
    bool complete;
    assert_int_equal(bodyview_rows(v, &complete), 3);
    assert_true(complete);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(style_at(&r, 0), BODYVIEW_STYLE_META);   /* offset */
    assert_int_equal(style_at(&r, 10), BODYVIEW_STYLE_PLAIN); /* bytes */
    assert_int_equal(style_at(&r, 60), BODYVIEW_STYLE_META);  /* ASCII column */
    /* Narrower terminals get 8 or 4 bytes a row; rows follow the width. */
    layout(v, 60, 0, false);
    assert_int_equal(bodyview_rows(v, NULL), 5);
    assert_true(bodyview_row(v, 1, &r));
    assert_string_equal(dynbuf_str(&r.text), "00000008  56 5d 64 6b  72 79 80 87 |V]dkry..|");
    layout(v, 30, 0, false);
    assert_int_equal(bodyview_rows(v, NULL), 10);
    assert_true(bodyview_row(v, 9, &r));
    assert_string_equal(dynbuf_str(&r.text), "00000024  1a 21  28 2f |.!(/|");
    layout(v, 20, 0, false); /* too narrow even for 4: cut */
    assert_true(bodyview_row(v, 0, &r));
    assert_true(r.flags & BODYVIEW_ROW_CUT);
    assert_string_equal(dynbuf_str(&r.text), "00000000  00 1b  7f…");
    assert_int_equal(bodyview_row_of_offset(v, 13), 3);
    assert_int_equal(bodyview_row_of_offset(v, 1000), 9);
    bodyview_row_cleanup(&r);
    bodyview_free(v);

    /* CR and LF stand out in both columns; the bytes around them keep their column's style. */
    static const uint8_t crlf[] = "ab\r\ncd";
    v = view("application/octet-stream", crlf, sizeof crlf - 1, BODYVIEW_HEX);
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_string_equal(dynbuf_str(&r.text),
                        "00000000  61 62 0d 0a 63 64                                |ab..cd|");
    assert_int_equal(style_at(&r, 13), BODYVIEW_STYLE_PLAIN);    /* 62 */
    assert_int_equal(style_at(&r, 16), BODYVIEW_STYLE_LINE_END); /* 0d */
    assert_int_equal(style_at(&r, 19), BODYVIEW_STYLE_LINE_END); /* 0a */
    assert_int_equal(style_at(&r, 22), BODYVIEW_STYLE_PLAIN);    /* 63 */
    assert_int_equal(style_at(&r, 61), BODYVIEW_STYLE_META);     /* b */
    assert_int_equal(style_at(&r, 62), BODYVIEW_STYLE_LINE_END); /* . for CR */
    assert_int_equal(style_at(&r, 63), BODYVIEW_STYLE_LINE_END); /* . for LF */
    assert_int_equal(style_at(&r, 64), BODYVIEW_STYLE_META);     /* c */
    bodyview_row_cleanup(&r);
    bodyview_free(v);

    /* Offsets past 4 GiB get more digits (rows are arithmetic: only row 0's bytes are read,
       and choosing the view reads BODYVIEW_SNIFF_MAX, so a small buffer stands in). */
    uint8_t *small = calloc(1, BODYVIEW_SNIFF_MAX * 2);
    v = view("application/octet-stream", small, (size_t)5 << 30, BODYVIEW_HEX);
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(strncmp(dynbuf_str(&r.text), "000000000  00 00", 16), 0);
    assert_int_equal(bodyview_rows(v, NULL), ((uint64_t)5 << 30) / 16);
    struct bodyview_stats st;
    bodyview_stats(v, &st);
    assert_true(st.scanned <= BODYVIEW_SNIFF_MAX + 16);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
    free(small);
}

/* ---- hostile bytes -------------------------------------------------------------------- */

/* No C0 control, DEL or C1 control may leave the view, in any mode. */
static void assert_terminal_safe(const struct bodyview_row *r)
{
    const uint8_t *t = r->text.data ? r->text.data : (const uint8_t *)"";
    for (size_t i = 0; i < r->text.len; i++) {
        if (t[i] < 0x20 || t[i] == 0x7f)
            fail_msg("control byte %02x at %zu in \"%s\"", t[i], i, t);
        if (t[i] == 0xc2 && i + 1 < r->text.len && t[i + 1] >= 0x80 && t[i + 1] < 0xa0)
            fail_msg("C1 control at %zu", i);
    }
    for (uint16_t i = 0; i < r->nspans; i++)
        assert_true(r->span[i].off + r->span[i].len <= r->text.len);
}

static void test_hostile(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    dynbuf_adds(&b, "{\"k\":\"\x1b]0;owned\x07\x1b[2J\",\"\x1b[31m\":\"\xc2\x9b"
                    "31m\","
                    "\"bidi\":\"\xe2\x80\xae"
                    "evil\"}\n");
    for (int c = 0; c < 256; c++)
        dynbuf_addc(&b, (uint8_t)c);
    dynbuf_adds(&b, "\na=\x1b%1b%9b&\x1b=1\r\n--B\r\nX-\x1b: \x1b[5m\r\n\r\n\x1b\x9b\r\n--B--\r\n");
    static const char *cts[] = {"application/json",
                                "text/plain; charset=utf-8",
                                "text/plain; charset=iso-8859-1",
                                "application/x-www-form-urlencoded",
                                "multipart/mixed; boundary=B",
                                NULL};
    struct bodyview_row r;
    bodyview_row_init(&r);
    for (size_t c = 0; c < sizeof cts / sizeof cts[0]; c++) {
        for (int m = BODYVIEW_TEXT; m < BODYVIEW__COUNT; m++) {
            struct bodyview *v = view(cts[c], b.data, b.len, (enum bodyview_mode)m);
            for (int wrap = 0; wrap < 2; wrap++) {
                layout(v, wrap ? 13 : 0, 0, wrap);
                for (uint64_t n = 0; bodyview_row(v, n, &r); n++)
                    assert_terminal_safe(&r);
            }
            bodyview_free(v);
        }
    }
    bodyview_row_cleanup(&r);
    dynbuf_cleanup(&b);
}

/* ---- cutting, wrapping, random access ------------------------------------------------- */

static void test_cut_and_wrap(void **state)
{
    (void)state;
    const char *body = "0123456789abcdefghij\n\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87x\n"
                       "short\n";
    struct bodyview *v = sview("text/plain", body, BODYVIEW_AUTO);
    layout(v, 8, 0, false);
    expect_render(v, "0123456…\n中文中…\nshort\n");
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_true(r.flags & BODYVIEW_ROW_CUT);
    assert_true(bodyview_row(v, 2, &r));
    assert_false(r.flags & BODYVIEW_ROW_CUT);
    layout(v, 8, 5, false); /* scrolled right: half a wide character shows as a space */
    expect_render(v, "56789ab…\n 文x\n\n");
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(r.col, 5);
    layout(v, 8, 0, true);
    expect_render(v, "01234567\n89abcdef\nghij\n中文中文\nx\nshort\n");
    assert_true(bodyview_row(v, 1, &r));
    assert_true(r.flags & BODYVIEW_ROW_CONT);
    assert_int_equal(r.line, 0);
    assert_int_equal(r.col, 8);
    layout(v, 7, 0, true); /* a wide character never straddles the edge */
    expect_render(v, "0123456\n789abcd\nefghij\n中文中\n文x\nshort\n");
    assert_int_equal(bodyview_row_of_offset(v, 22), 3);
    assert_int_equal(bodyview_row_of_offset(v, 36), 5);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
}

/* Rows fetched in any order equal rows fetched in order, in every mode and layout. */
static void test_random_access(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 1 << 22);
    dynbuf_adds(&b, "--B\r\nContent-Type: text/plain\r\n\r\n");
    for (int i = 0; i < 1500; i++) {
        dynbuf_printf(&b, "{\"i\":%d,\"s\":\"%.*s\",\"a\":[%d,{}]}\t\xe4\xb8\xad%s&f%d=v%%41\n", i,
                      i % 50, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", i,
                      i % 7 ? "" : "\x1b[0m", i);
        if (i % 500 == 499)
            dynbuf_adds(&b, "--B\r\n\r\n\x00\x01\x02\x03\r\n--B\r\n\r\n");
    }
    dynbuf_adds(&b, "--B--\r\n");
    static const struct bodyview_layout layouts[] = {{0, 0, false}, {50, 3, false}, {17, 0, true}};
    struct bodyview_row r;
    bodyview_row_init(&r);
    for (int m = BODYVIEW_TEXT; m < BODYVIEW__COUNT; m++) {
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            struct bodyview *v =
                view("multipart/mixed; boundary=B", b.data, b.len, (enum bodyview_mode)m);
            bodyview_set_layout(v, &layouts[l]);
            char *seq = all_rows(v);
            uint64_t total = bodyview_rows(v, NULL);
            if (total <= 100)
                fail_msg("mode %s layout %zu: %llu rows", bodyview_mode_name((enum bodyview_mode)m),
                         l, (unsigned long long)total);
            /* Index rows of the sequential rendering. */
            const char **row_at = malloc(sizeof *row_at * (total + 1));
            size_t n = 0;
            for (char *p = seq; *p; n++) {
                row_at[n] = p;
                p = strchr(p, '\n');
                *p++ = '\0';
            }
            assert_int_equal(n, total);
            struct bodyview *w =
                view("multipart/mixed; boundary=B", b.data, b.len, (enum bodyview_mode)m);
            bodyview_set_layout(w, &layouts[l]);
            uint64_t x = 12345;
            for (int k = 0; k < 200; k++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t row = (x >> 33) % total;
                assert_true(bodyview_row(w, row, &r));
                if (strcmp(dynbuf_str(&r.text), row_at[row]) != 0)
                    fail_msg("mode %s layout %zu row %llu: \"%s\" vs \"%s\"",
                             bodyview_mode_name((enum bodyview_mode)m), l, (unsigned long long)row,
                             dynbuf_str(&r.text), row_at[row]);
                /* The row holding a line's offset is that line's first row. */
                if (!(r.flags & BODYVIEW_ROW_CONT) && m != BODYVIEW_JSON)
                    assert_int_equal(bodyview_row_of_offset(w, r.offset), row);
            }
            assert_false(bodyview_row(w, total, &r));
            free(row_at);
            free(seq);
            bodyview_free(w);
            bodyview_free(v);
        }
    }
    bodyview_row_cleanup(&r);
    dynbuf_cleanup(&b);
}

/* ---- laziness ------------------------------------------------------------------------- */

enum { LINE_LEN = 100, HUGE_LINES = 1048576 }; /* 100 MiB */

static void test_huge_text(void **state)
{
    (void)state;
    size_t n = (size_t)LINE_LEN * HUGE_LINES;
    uint8_t *b = malloc(n);
    memset(b, 'x', n);
    for (size_t line = 0; line < HUGE_LINES; line++) {
        char tag[16];
        int k = snprintf(tag, sizeof tag, "%zu:", line);
        memcpy(b + line * LINE_LEN, tag, (size_t)k);
        b[line * LINE_LEN + LINE_LEN - 1] = '\n';
    }
    struct bodyview *v = view("text/plain", b, n, BODYVIEW_AUTO);
    struct bodyview_stats st;
    bodyview_stats(v, &st);
    assert_true(st.scanned <= BODYVIEW_SNIFF_MAX); /* opening reads the sniff window only */
    bool complete;
    bodyview_rows(v, &complete);
    assert_false(complete);

    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 1000000, &r));
    assert_int_equal(strncmp(dynbuf_str(&r.text), "1000000:xxx", 11), 0);
    assert_int_equal(r.offset, (uint64_t)1000000 * LINE_LEN);
    bodyview_stats(v, &st);
    /* It scanned up to that line once, plus at most a checkpoint interval and a line. */
    uint64_t needed = (uint64_t)1000001 * LINE_LEN;
    if (st.scanned > needed + BODYVIEW_CHECKPOINT_BYTES + BODYVIEW_LINE_MAX)
        fail_msg("scanned %llu bytes for %llu", (unsigned long long)st.scanned,
                 (unsigned long long)needed);
    assert_true(st.checkpoints <= needed / BODYVIEW_CHECKPOINT_BYTES + 2);
    bodyview_rows(v, &complete);
    assert_false(complete);
    /* Going back costs one checkpoint interval at most. */
    uint64_t before = st.scanned;
    assert_true(bodyview_row(v, 999000, &r));
    assert_int_equal(strncmp(dynbuf_str(&r.text), "999000:", 7), 0);
    bodyview_stats(v, &st);
    assert_true(st.scanned - before <= BODYVIEW_CHECKPOINT_BYTES + BODYVIEW_LINE_MAX);
    /* Consecutive rows (a screenful) cost one line each. */
    before = st.scanned;
    for (uint64_t k = 999001; k < 999061; k++)
        assert_true(bodyview_row(v, k, &r));
    bodyview_stats(v, &st);
    assert_true(st.scanned - before <= 61 * LINE_LEN);
    /* Finishing the index in steps. */
    int steps = 0;
    while (!bodyview_index(v, 1 << 20))
        steps++;
    assert_true(steps >= 3 && steps <= 6);
    assert_int_equal(bodyview_rows(v, &complete), HUGE_LINES);
    assert_true(complete);
    assert_int_equal(bodyview_row_of_offset(v, (uint64_t)HUGE_LINES * LINE_LEN - 1),
                     HUGE_LINES - 1);

    /* The same body in hex: nothing to scan at all. */
    bodyview_set_mode(v, BODYVIEW_HEX);
    bodyview_stats(v, &st);
    before = st.scanned;
    assert_true(bodyview_row(v, n / 16 - 1, &r));
    assert_int_equal(bodyview_row_of_offset(v, n - 1), n / 16 - 1);
    bodyview_stats(v, &st);
    assert_true(st.scanned - before <= 16);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
    free(b);
}

static void test_huge_json(void **state)
{
    (void)state;
    size_t cap = 4 << 20, k = 0;
    char *b = malloc(cap);
    b[k++] = '[';
    int items = 0;
    while (k < cap - 100)
        k += (size_t)sprintf(b + k, "{\"id\":%d,\"tags\":[\"a\",\"b\"]},", items++);
    b[k - 1] = ']';
    struct bodyview *v = view("application/json", b, k, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_JSON);
    struct bodyview_stats st;
    bodyview_stats(v, &st);
    assert_true(st.scanned <= (uint64_t)BODYVIEW_SNIFF_MAX * 17 + 1024); /* a prefix only */
    /* Each item is 7 rows: {, "id", "tags": [, "a", "b", ], }. Row 1 + 7i + 1 is item i's id. */
    struct bodyview_row r;
    bodyview_row_init(&r);
    int item = items / 2;
    assert_true(bodyview_row(v, 1 + 7 * (uint64_t)item + 1, &r));
    char want[64];
    snprintf(want, sizeof want, "    \"id\": %d,", item);
    assert_string_equal(dynbuf_str(&r.text), want);
    bodyview_stats(v, &st);
    assert_true(st.scanned < (uint64_t)k / 2 + BODYVIEW_CHECKPOINT_BYTES * 2 + (1 << 16));
    bodyview_index(v, 0);
    assert_int_equal(bodyview_rows(v, NULL), 2 + 7 * (uint64_t)items);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
    free(b);
}

/* ---- search --------------------------------------------------------------------------- */

static struct bodyview_query *query(const char *p, unsigned flags)
{
    char err[128];
    struct bodyview_query *q = bodyview_query_new(p, flags, err, sizeof err);
    if (!q)
        fail_msg("query %s: %s", p, err);
    return q;
}

/* Every match from the top, forward; then the same backward from the end, reversed. */
static int all_matches(struct bodyview *v, struct bodyview_query *q, struct bodyview_match *out,
                       int max)
{
    int n = 0;
    struct bodyview_match from, m;
    bodyview_position(v, 0, &from);
    while (n < max && bodyview_find(v, q, &from, false, 0, &m) == BODYVIEW_FOUND) {
        out[n++] = m;
        from = m;
    }
    struct bodyview_match back[64];
    int nb = 0;
    bodyview_position(v, UINT64_MAX / 2, &from);
    while (nb < 64 && bodyview_find(v, q, &from, true, 0, &m) == BODYVIEW_FOUND) {
        back[nb++] = m;
        from = m;
    }
    assert_int_equal(nb, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(back[n - 1 - i].line, out[i].line);
        assert_int_equal(back[n - 1 - i].start, out[i].start);
        assert_int_equal(back[n - 1 - i].row, out[i].row);
    }
    return n;
}

static void test_search(void **state)
{
    (void)state;
    const char *body = "alpha beta\n"
                       "Gamma\tdelta alpha\n"
                       "esc \x1b[1m here\n"
                       "\n"
                       "last alpha";
    struct bodyview *v = sview("text/plain", body, BODYVIEW_AUTO);
    struct bodyview_match m[16];
    struct bodyview_query *q = query("alpha", 0);
    assert_int_equal(all_matches(v, q, m, 16), 3);
    assert_int_equal(m[0].line, 0);
    assert_int_equal(m[0].start, 0);
    assert_int_equal(m[1].line, 1);
    assert_int_equal(m[1].start, 14); /* after the tab's spaces: what is shown */
    assert_int_equal(m[1].col, 14);
    assert_int_equal(m[2].line, 4);
    assert_int_equal(m[2].len, 5);
    bodyview_query_free(q);
    /* Case folding, regular expressions, the escapes as shown, words with spaces. */
    static const struct {
        const char *pat;
        unsigned flags;
        int count;
    } cases[] = {
        {"gamma", 0, 0},
        {"gamma", BODYVIEW_FIND_ICASE, 1},
        {"ALPHA", BODYVIEW_FIND_ICASE, 3},
        {"^alpha", BODYVIEW_FIND_REGEX, 1},
        {"alpha$", BODYVIEW_FIND_REGEX, 2},
        {"a[lm]+", BODYVIEW_FIND_REGEX, 4},
        {"\\x1b[1m", 0, 1},
        {"x1b", 0, 1},
        {"esc \\x1b", 0, 1},
        {"Gamma   delta", 0, 1}, /* the tab as shown */
        {"^$", BODYVIEW_FIND_REGEX, 1},
        {"zzz", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        q = query(cases[i].pat, cases[i].flags);
        int got = all_matches(v, q, m, 16);
        if (got != cases[i].count)
            fail_msg("\"%s\": %d matches, expected %d", cases[i].pat, got, cases[i].count);
        bodyview_query_free(q);
    }
    char err[128];
    assert_null(bodyview_query_new("(", BODYVIEW_FIND_REGEX, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(bodyview_query_new("", 0, err, sizeof err));
    bodyview_free(v);

    /* The JSON view searches what it shows. */
    v = sview("application/json", "{\"a\":1,\"b\":{\"a\" : 2}}", BODYVIEW_AUTO);
    q = query("\"a\": ", 0);
    assert_int_equal(all_matches(v, q, m, 16), 2);
    assert_int_equal(m[0].row, 1);
    assert_int_equal(m[1].row, 3);
    assert_int_equal(m[1].start, 4);
    bodyview_query_free(q);
    bodyview_free(v);

    /* Wrapped rows: a match reports the row it starts on. */
    v = sview("text/plain", "0123456789 needle", BODYVIEW_AUTO);
    layout(v, 6, 0, true);
    q = query("needle", 0);
    assert_int_equal(all_matches(v, q, m, 16), 1);
    assert_int_equal(m[0].row, 1);
    assert_int_equal(m[0].col, 11);
    bodyview_query_free(q);
    bodyview_free(v);
}

/*
 * Runs a search in steps of about budget bytes from `from` until it ends: returns its result,
 * with the match (or the last position) in *m and how many steps asked for more in *rounds
 * (each of those gave a position, not a match). Gives up after ROUNDS_MAX steps.
 */
enum { ROUNDS_MAX = 100000 };
static enum bodyview_find_result find_in_steps(struct bodyview *v, const struct bodyview_query *q,
                                               struct bodyview_match from, bool backward,
                                               size_t budget, struct bodyview_match *m, int *rounds)
{
    enum bodyview_find_result res;
    *rounds = 0;
    while ((res = bodyview_find(v, q, &from, backward, budget, m)) == BODYVIEW_MORE &&
           *rounds < ROUNDS_MAX) {
        assert_false(m->match);
        from = *m;
        (*rounds)++;
    }
    return res;
}

static void test_search_hex(void **state)
{
    (void)state;
    uint8_t b[64];
    memset(b, '.', sizeof b);
    memcpy(b + 14, "NeedLE", 6); /* across the first row boundary */
    memcpy(b + 40, "needle", 6);
    struct bodyview *v = view("application/octet-stream", b, sizeof b, BODYVIEW_HEX);
    struct bodyview_match m[8];
    struct bodyview_query *q = query("needle", BODYVIEW_FIND_ICASE);
    assert_int_equal(all_matches(v, q, m, 8), 2);
    assert_int_equal(m[0].offset, 14);
    assert_int_equal(m[0].row, 0);
    assert_int_equal(m[0].start, 10 + 3 * 14 + 1);
    assert_int_equal(m[1].offset, 40);
    assert_int_equal(m[1].row, 2);
    /* Highlighting marks the bytes in both columns, on both rows of the first match. */
    bodyview_highlight(v, q);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 0, &r));
    assert_int_equal(style_at(&r, 10 + 3 * 14 + 1), BODYVIEW_STYLE_MATCH);
    assert_int_equal(style_at(&r, 10 + 3 * 13 + 1), BODYVIEW_STYLE_PLAIN);
    assert_int_equal(style_at(&r, 61 + 14), BODYVIEW_STYLE_MATCH);
    assert_true(bodyview_row(v, 1, &r));
    assert_int_equal(style_at(&r, 10), BODYVIEW_STYLE_MATCH);
    assert_int_equal(style_at(&r, 10 + 3 * 4), BODYVIEW_STYLE_PLAIN);
    bodyview_highlight(v, NULL);
    bodyview_row_cleanup(&r);
    bodyview_query_free(q);
    q = query("d", BODYVIEW_FIND_REGEX); /* a regex searches the rows as shown */
    assert_true(all_matches(v, q, m, 8) > 0);
    bodyview_query_free(q);
    bodyview_free(v);

    /* A megabyte with a budget of 64 KiB: progress, then the hits, both ways. */
    size_t n = 1 << 20;
    uint8_t *big = calloc(1, n);
    memcpy(big + 100, "\xde\xad\xbe\xef", 4);
    memcpy(big + n - 100, "\xde\xad\xbe\xef", 4);
    v = view(NULL, big, n, BODYVIEW_AUTO);
    assert_int_equal(bodyview_mode(v), BODYVIEW_HEX);
    q = query("\xde\xad\xbe\xef", 0);
    struct bodyview_match from, hit;
    static const struct {
        bool backward;
        uint64_t start, want;
    } walks[] = {{false, 200, (1 << 20) - 100}, {true, (1 << 20) - 101, 100}};
    for (int w = 0; w < 2; w++) {
        bodyview_position(v, walks[w].start / 16, &from);
        from.offset = walks[w].start;
        int rounds;
        assert_int_equal(find_in_steps(v, q, from, walks[w].backward, 65536, &hit, &rounds),
                         BODYVIEW_FOUND);
        assert_int_equal(hit.offset, walks[w].want);
        assert_true(rounds >= 10);
    }
    bodyview_query_free(q);
    bodyview_free(v);
    free(big);
}

/* One line of 4 MB: a budgeted skip cannot move past a line, so the line itself is looked at. */
static void test_search_one_long_line(void **state)
{
    (void)state;
    size_t n = 4 << 20;
    uint8_t *b = malloc(n);
    memset(b, 'x', n);
    memcpy(b + n - 10, "needle", 6);
    struct bodyview *v = view("text/plain", b, n, BODYVIEW_AUTO);
    struct bodyview_query *q = query("needle", 0);
    struct bodyview_match from, m;
    bodyview_position(v, 0, &from);
    int rounds;
    assert_int_equal(find_in_steps(v, q, from, false, 65536, &m, &rounds), BODYVIEW_FOUND);
    assert_true(m.match);
    bodyview_query_free(q);
    bodyview_free(v);
    free(b);
}

static void test_search_huge(void **state)
{
    (void)state;
    size_t n = 16 << 20;
    uint8_t *b = malloc(n);
    memset(b, 'x', n);
    for (size_t i = 79; i < n; i += 80)
        b[i] = '\n';
    memcpy(b + n - 500, "needle", 6);
    memcpy(b + 1000, "needle", 6);
    struct bodyview *v = view("text/plain", b, n, BODYVIEW_AUTO);
    struct bodyview_query *q = query("needle", 0);
    struct bodyview_match from, m;
    bodyview_position(v, 0, &from);
    assert_int_equal(bodyview_find(v, q, &from, false, 0, &m), BODYVIEW_FOUND);
    assert_int_equal(m.line, 1000 / 80);
    from = m;
    assert_int_equal(bodyview_find(v, q, &from, false, 0, &m), BODYVIEW_FOUND);
    assert_int_equal(m.line, (n - 500) / 80);
    struct bodyview_stats st;
    bodyview_stats(v, &st);
    /* The plain query skipped lines without its bytes instead of rendering them. */
    assert_true(st.lines_rendered < 100);
    from = m;
    assert_int_equal(bodyview_find(v, q, &from, false, 0, &m), BODYVIEW_NOT_FOUND);
    /* With a budget the skip stops on it too (about 512 KB a call), and resumes. */
    bodyview_position(v, 20, &from);
    int rounds;
    assert_int_equal(find_in_steps(v, q, from, false, 512 << 10, &m, &rounds), BODYVIEW_FOUND);
    assert_int_equal(m.line, (n - 500) / 80);
    assert_true(rounds >= 20);
    /* A budget smaller than the needle still moves on, a line a call. */
    bodyview_position(v, (n - 4000) / 80, &from);
    assert_int_equal(find_in_steps(v, q, from, false, 3, &m, &rounds), BODYVIEW_FOUND);
    assert_int_equal(m.line, (n - 500) / 80);
    bodyview_query_free(q);

    /* A regex renders every line: with a budget it reports progress and resumes. */
    q = query("ne+dle", BODYVIEW_FIND_REGEX);
    bodyview_position(v, 20, &from);
    assert_int_equal(find_in_steps(v, q, from, false, 512 << 10, &m, &rounds), BODYVIEW_FOUND);
    assert_int_equal(m.line, (n - 500) / 80);
    assert_true(rounds >= 20);
    /* And backward from the end, in steps too. */
    bodyview_position(v, bodyview_rows(v, NULL), &from);
    assert_int_equal(find_in_steps(v, q, from, true, 512 << 10, &m, &rounds), BODYVIEW_FOUND);
    assert_int_equal(m.line, (n - 500) / 80);
    assert_int_equal(find_in_steps(v, q, m, true, 512 << 10, &m, &rounds), BODYVIEW_FOUND);
    assert_true(rounds >= 20);
    assert_int_equal(m.line, 1000 / 80);
    bodyview_query_free(q);
    bodyview_free(v);
    free(b);
}

/* ---- escapes: what hspy wrote in place of a byte is styled apart from the body's text ----- */

/* Row n's text with every BODYVIEW_STYLE_ESCAPE span in brackets. */
static char *marked_row(struct bodyview *v, uint64_t n)
{
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, n, &r));
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    uint32_t pos = 0;
    for (uint32_t i = 0; i < r.nspans; i++) {
        if (r.span[i].style != BODYVIEW_STYLE_ESCAPE)
            continue;
        assert_true(r.span[i].off >= pos);
        dynbuf_append(&out, r.text.data + pos, r.span[i].off - pos);
        dynbuf_addc(&out, '[');
        dynbuf_append(&out, r.text.data + r.span[i].off, r.span[i].len);
        dynbuf_addc(&out, ']');
        pos = r.span[i].off + r.span[i].len;
    }
    dynbuf_append(&out, r.text.data ? r.text.data + pos : (const uint8_t *)"", r.text.len - pos);
    bodyview_row_cleanup(&r);
    return dynbuf_take(&out);
}

static void test_escapes(void **state)
{
    (void)state;
    static const struct {
        const char *ctype, *body;
        enum bodyview_mode mode;
        uint64_t row;
        const char *want;
    } CASES[] = {
        /* ESC is escaped and marked; the four characters \x1b sent as text are not */
        {"text/plain",
         "a\x1b"
         "b\\x1bc",
         BODYVIEW_AUTO, 0, "a[\\x1b]b\\x1bc"},
        {"text/plain", "\x01\x02\\r\r", BODYVIEW_TEXT, 0, "[\\x01\\x02]\\r[\\r]"},
        /* a byte the charset lacks (table and iconv), then a tab expanded after it */
        {"text/plain; charset=windows-1252", "x\x81y\\x81", BODYVIEW_AUTO, 0, "x[\\x81]y\\x81"},
        {"text/plain; charset=euc-jp", "a\xff\tb\\xff", BODYVIEW_AUTO, 0, "a[\\xff]   b\\xff"},
        /* JSON: inside a member name and a string value */
        {"application/json", "{\"k\x01\":\"v\\u0001\x02\"}", BODYVIEW_JSON, 1,
         "  \"k[\\x01]\": \"v\\u0001[\\x02]\""},
        {"application/x-www-form-urlencoded", "a=%1b%5Cx1b", BODYVIEW_AUTO, 0, "a: [\\x1b]\\x1b"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct bodyview *v = sview(CASES[i].ctype, CASES[i].body, CASES[i].mode);
        char *got = marked_row(v, CASES[i].row);
        if (strcmp(got, CASES[i].want) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, got, CASES[i].want);
        free(got);
        bodyview_free(v);
    }

    /* A member name with an escape keeps the name's style on both sides of it. */
    struct bodyview *v = sview("application/json", "{\"k\x01z\":1}", BODYVIEW_JSON);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 1, &r));
    assert_string_equal(dynbuf_str(&r.text), "  \"k\\x01z\": 1");
    assert_int_equal(style_at(&r, 3), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 4), BODYVIEW_STYLE_ESCAPE);
    assert_int_equal(style_at(&r, 8), BODYVIEW_STYLE_KEY);
    bodyview_row_cleanup(&r);
    bodyview_free(v);

    /* Every escape of a long line is marked, however many (no cap on styling), also after
       scrolling sideways to the line's far end. */
    char body[3001];
    for (int k = 0; k < 1500; k++)
        memcpy(body + 2 * k, "a\x01", 2);
    body[3000] = '\0';
    v = sview("text/plain", body, BODYVIEW_TEXT);
    layout(v, 20, 7480, false);
    char *got = marked_row(v, 0);
    assert_string_equal(got, "a[\\x01]a[\\x01]a[\\x01]a[\\x01]");
    free(got);
    bodyview_free(v);
}

/* ---- UTF-16 and UTF-32: text converted by code unit, never read as bytes ---------------- */

static void test_wide_charsets(void **state)
{
    (void)state;
    static const struct {
        const char *ctype;
        const char *body;
        size_t len;
        const char *want;     /* every row, escapes in [] */
        const char *describe; /* bodyview_describe */
    } CASES[] = {
        /* a byte order mark: the charset and its byte order; the mark itself is not shown */
        {"text/plain", "\xff\xfeh\0i\0\n\0\x3d\xd8\x00\xde\n\0", 14, "hi\n😀\n",
         "text, utf-16le with BOM"},
        {"text/csv", "\xfe\xff\0h\0i", 6, "hi\n", "text, utf-16be with BOM"},
        {"text/plain", "\xff\xfe\0\0h\0\0\0\n\0\0\0\x00\xf6\x01\0", 16, "h\n😀\n",
         "text, utf-32le with BOM"},
        /* UTF-8's mark is not shown either, and wins over a declared charset as the others do;
           U+FEFF further on is no mark and is escaped as the invisible character it is */
        {"text/plain", "\xef\xbb\xbfhi\nyo", 8, "hi\nyo\n", "text, utf-8 with BOM"},
        {"text/html; charset=iso-8859-1", "\xef\xbb\xbf\xc3\xa9", 5, "\xc3\xa9\n",
         "text, utf-8 with BOM (declared iso-8859-1)"},
        {"text/plain", "a\xef\xbb\xbf", 4, "a[\\u{feff}]\n", "text, utf-8"},
        /* a mark cut short is none: its bytes are escaped */
        {"text/plain", "\xef\xbb", 2, "[\\xef\\xbb]\n", "text, utf-8"},
        /* declared: utf-16 without a mark is little-endian; CRLF ends a line */
        {"text/plain; charset=utf-16", "a\0\r\0\n\0b\0", 8, "a\nb\n",
         "text, utf-16le (declared utf-16)"},
        {"text/html; charset=UTF-16BE", "\0a\0\r\0\n\0b", 8, "a\nb\n", "text, utf-16be"},
        {"text/plain; charset=utf-32", "\0\0\0a", 4, "a\n", "text, utf-32be (declared utf-32)"},
        /* a 0x0a byte inside a character is no line end (U+0A41 is 41 0a) */
        {"text/plain; charset=utf-16le", "A\x0a\x0a\0z\0", 6, "\xe0\xa9\x81\nz\n",
         "text, utf-16le"},
        /* lone surrogates and a cut unit are escapes; reading resumes at the next unit */
        {"text/plain; charset=utf-16le", "\x00\xd8x\0\x00\xdcy\0z", 9,
         "[\\x00\\xd8]x[\\x00\\xdc]y[\\x7a]\n", "text, utf-16le"},
        /* a control character converted is escaped like any other */
        {"text/plain; charset=utf-16le", "\x1b\0[\0", 4, "[\\x1b][\n", "text, utf-16le"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct bodyview *v = view(CASES[i].ctype, CASES[i].body, CASES[i].len, BODYVIEW_AUTO);
        assert_int_equal(bodyview_mode(v), BODYVIEW_TEXT);
        struct dynbuf got;
        dynbuf_init(&got, 1 << 16);
        assert_true(bodyview_index(v, 0));
        for (uint64_t r = 0; r < bodyview_rows(v, NULL); r++) {
            char *row = marked_row(v, r);
            dynbuf_adds(&got, row);
            dynbuf_addc(&got, '\n');
            free(row);
        }
        if (strcmp(dynbuf_str(&got), CASES[i].want) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, dynbuf_str(&got), CASES[i].want);
        assert_string_equal(bodyview_describe(v), CASES[i].describe);
        /* Hex stays one switch away, over the bytes as sent. */
        bodyview_set_mode(v, BODYVIEW_HEX);
        char *hex = marked_row(v, 0);
        assert_int_equal(strncmp(hex, "00000000  ", 10), 0);
        free(hex);
        dynbuf_cleanup(&got);
        bodyview_free(v);
    }
    assert_int_equal(bodyview_pick((const uint8_t *)"\xff\xfeh\0", 4, "text/plain", 10),
                     BODYVIEW_TEXT);
    assert_int_equal(bodyview_pick((const uint8_t *)"\xff\xfeh\0", 4, "image/png", 9),
                     BODYVIEW_HEX);
    /* Unlabelled, a mark alone does not make binary data text (FF FE starts many files). */
    assert_int_equal(bodyview_pick((const uint8_t *)"\xff\xfeh\0", 4, NULL, 0), BODYVIEW_HEX);

    /* A line cut at BODYVIEW_LINE_MAX keeps a surrogate pair whole. */
    size_t n = 2 + 2 * 8190 + 4 + 2;
    uint8_t *big = malloc(n);
    memcpy(big, "\xff\xfe", 2);
    for (size_t k = 0; k < 8190; k++)
        memcpy(big + 2 + 2 * k, "a\0", 2);
    memcpy(big + 2 + 2 * 8190,
           "\x3d\xd8\x00\xde"
           "b\0",
           6);
    struct bodyview *v = view("text/plain", big, n, BODYVIEW_AUTO);
    char *row = marked_row(v, 1);
    assert_string_equal(row, "😀b");
    free(row);
    bodyview_free(v);
    free(big);
}

static void test_highlight(void **state)
{
    (void)state;
    struct bodyview *v = sview("application/json", "{\"key\":\"a key\"}", BODYVIEW_AUTO);
    struct bodyview_query *q = query("key", 0);
    bodyview_highlight(v, q);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_true(bodyview_row(v, 1, &r)); /*   "key": "a key" */
    assert_string_equal(dynbuf_str(&r.text), "  \"key\": \"a key\"");
    assert_int_equal(style_at(&r, 3), BODYVIEW_STYLE_MATCH);
    assert_int_equal(style_at(&r, 2), BODYVIEW_STYLE_KEY);
    assert_int_equal(style_at(&r, 12), BODYVIEW_STYLE_MATCH);
    assert_int_equal(style_at(&r, 11), BODYVIEW_STYLE_STRING);
    bodyview_highlight(v, NULL);
    assert_true(bodyview_row(v, 1, &r));
    assert_int_equal(style_at(&r, 3), BODYVIEW_STYLE_KEY);
    bodyview_row_cleanup(&r);
    bodyview_query_free(q);
    bodyview_free(v);
}

static void test_render_for_sinks(void **state)
{
    (void)state;
    struct bodyview *v = sview("application/json", "{\"a\":[1]}", BODYVIEW_AUTO);
    struct dynbuf out;
    dynbuf_init(&out, 1024);
    assert_int_equal(bodyview_render(v, &out, 2), 2);
    assert_string_equal(dynbuf_str(&out), "{\n  \"a\": [\n");
    dynbuf_cleanup(&out);
    bodyview_free(v);
    v = sview(NULL, "", BODYVIEW_AUTO);
    assert_int_equal(bodyview_rows(v, NULL), 0);
    struct bodyview_row r;
    bodyview_row_init(&r);
    assert_false(bodyview_row(v, 0, &r));
    bodyview_row_cleanup(&r);
    bodyview_free(v);
    bodyview_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_json_pretty),
        cmocka_unit_test(test_json_invalid),
        cmocka_unit_test(test_json_deep_and_long),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_hex_origin),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_cut_and_wrap),
        cmocka_unit_test(test_random_access),
        cmocka_unit_test(test_huge_text),
        cmocka_unit_test(test_huge_json),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_search_hex),
        cmocka_unit_test(test_search_huge),
        cmocka_unit_test(test_search_one_long_line),
        cmocka_unit_test(test_highlight),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_wide_charsets),
        cmocka_unit_test(test_render_for_sinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
