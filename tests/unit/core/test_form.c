/* form: multipart boundaries and parts, including bodies cut at every offset. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/dynbuf.h"
#include "hspy/form.h"

/* A urlencoded form's first field starts past a UTF-8 byte order mark, and only there. */
static void test_urlencoded_skip(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        size_t skip;
    } cases[] = {
        {"\xef\xbb\xbf"
         "a=1",
         3},
        {"\xef\xbb\xbf", 3},
        {"\xef\xbb", 0},
        {"a=\xef\xbb\xbf", 0},
        {"\xfe\xff"
         "a",
         0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].body);
        uint8_t *exact = malloc(n ? n : 1); /* exact size: a read past it is caught */
        memcpy(exact, cases[i].body, n);
        assert_int_equal(form_urlencoded_skip(exact, n), cases[i].skip);
        free(exact);
    }
}

static void test_boundary(void **state)
{
    (void)state;
    static const struct {
        const char *ct;
        int rc;
        const char *b;
    } cases[] = {
        {"multipart/form-data; boundary=abc", 0, "abc"},
        {"multipart/form-data; charset=x; boundary=\"a b\"", 0, "a b"},
        {"Multipart/Mixed;boundary=XyZ", 0, "XyZ"},
        {"multipart/form-data", -1, NULL},
        {"multipart/form-data; boundary=", -1, NULL},
        {"text/plain; boundary=abc", -1, NULL},
        {"multipart/form-data; boundary="
         "12345678901234567890123456789012345678901234567890123456789012345678901",
         -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[FORM_BOUNDARY_MAX];
        int rc = form_boundary((const uint8_t *)cases[i].ct, strlen(cases[i].ct), b, sizeof b);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_string_equal(b, cases[i].b);
    }
}

static int describe(void *data, const struct form_part *p)
{
    dynbuf_printf(data, "[%s|%s%s|%s|%.*s]", p->name, p->has_filename ? "F:" : "", p->filename,
                  p->content_type, (int)p->len, (const char *)p->data);
    return 0;
}

static const char BODY[] =
    "preamble\r\n"
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"a\"\r\n"
    "\r\n"
    "one\r\n"
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"f\"; filename=\"x \\\"q\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line1\r\nline2\r\n"
    "--XX\r\n"
    "\r\n"
    "noheaders\r\n"
    "--XX--\r\n"
    "epilogue";

static void test_parts(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 4096);
    enum form_result rc =
        form_multipart_each((const uint8_t *)BODY, strlen(BODY), "XX", describe, &out);
    assert_int_equal(rc, FORM_OK);
    assert_string_equal(dynbuf_str(&out), "[a|||one][f|F:x \"q\".txt|text/plain|line1\r\nline2]"
                                          "[|||noheaders]");
    dynbuf_cleanup(&out);
}

/* A body cut anywhere yields only whole parts, never a crash or a slice past the cut. */
static void test_cut_everywhere(void **state)
{
    (void)state;
    size_t n = strlen(BODY);
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, BODY, cut);
        struct dynbuf out;
        dynbuf_init(&out, 4096);
        enum form_result rc = form_multipart_each(copy, cut, "XX", describe, &out);
        if (cut < n - strlen("--\r\nepilogue"))
            assert_int_equal(rc, FORM_MALFORMED);
        dynbuf_cleanup(&out);
        free(copy);
    }
}

static void test_no_delimiter(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 64);
    const char *b = "just text";
    assert_int_equal(form_multipart_each((const uint8_t *)b, strlen(b), "XX", describe, &out),
                     FORM_MALFORMED);
    assert_int_equal(out.len, 0);
    dynbuf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencoded_skip), cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_parts),           cmocka_unit_test(test_cut_everywhere),
        cmocka_unit_test(test_no_delimiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
