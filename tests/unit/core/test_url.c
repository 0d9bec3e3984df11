/* url: splitting targets, percent-decoding, query pairs and path cleaning (traversal refusal). */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "hspy/url.h"

struct split_case {
    const char *target, *path, *query; /* query NULL = no '?' */
};

static const struct split_case SPLITS[] = {
    {"/", "/", NULL},         {"/a/b?x=1&y", "/a/b", "x=1&y"},
    {"/a?", "/a", ""},        {"/a#frag?no", "/a", NULL},
    {"/a?q#frag", "/a", "q"}, {"http://h:8/p/q?z", "/p/q", "z"},
    {"http://h", "", NULL},   {"http://h?x", "", "x"},
    {"*", "", NULL},          {"example.com:443", "", NULL},
};

static void test_split(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof SPLITS / sizeof SPLITS[0]; i++) {
        const struct split_case *t = &SPLITS[i];
        struct url_parts u;
        url_split((const uint8_t *)t->target, strlen(t->target), &u);
        char path[64];
        snprintf(path, sizeof path, "%.*s", (int)u.path_len, (const char *)u.path);
        assert_string_equal(path, t->path);
        if (!t->query) {
            assert_null(u.query);
        } else {
            assert_non_null(u.query);
            char q[64];
            snprintf(q, sizeof q, "%.*s", (int)u.query_len, (const char *)u.query);
            assert_string_equal(q, t->query);
        }
    }
}

struct decode_case {
    const char *in;
    unsigned flags;
    const char *out;
    size_t bad;
};

static const struct decode_case DECODES[] = {
    {"a%20b", 0, "a b", 0},         {"a+b", 0, "a+b", 0},   {"a+b", URL_PLUS, "a b", 0},
    {"%41%42%4a%4A", 0, "ABJJ", 0}, {"%", 0, "%", 1},       {"%4", 0, "%4", 1},
    {"%zz%41", 0, "%zzA", 1},       {"100%", 0, "100%", 1}, {"%2e%2E", 0, "..", 0},
};

static void test_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof DECODES / sizeof DECODES[0]; i++) {
        const struct decode_case *t = &DECODES[i];
        struct dynbuf out;
        dynbuf_init(&out, 256);
        size_t bad = url_decode((const uint8_t *)t->in, strlen(t->in), t->flags, &out);
        assert_string_equal(dynbuf_str(&out), t->out);
        assert_int_equal(bad, t->bad);
        dynbuf_cleanup(&out);
    }
}

static int collect(void *data, const char *name, size_t nlen, const char *value, size_t vlen,
                   bool has_value)
{
    struct dynbuf *b = data;
    dynbuf_printf(b, "[%.*s%s%.*s]", (int)nlen, name, has_value ? "=" : "", (int)vlen, value);
    return 0;
}

static void test_query(void **state)
{
    (void)state;
    static const struct {
        const char *q, *want;
    } cases[] = {
        {"a=1&b=2", "[a=1][b=2]"},
        {"a=1;b", "[a=1][b]"},
        {"&&a=&", "[a=]"},
        {"x+y=%26%3D&x+y=2", "[x y=&=][x y=2]"},
        {"", ""},
        {"=v", "[=v]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dynbuf b;
        dynbuf_init(&b, 256);
        url_query_each((const uint8_t *)cases[i].q, strlen(cases[i].q), collect, &b);
        assert_string_equal(dynbuf_str(&b), cases[i].want);
        dynbuf_cleanup(&b);
    }
}

struct clean_case {
    const char *path;
    enum url_path_result rc;
    const char *rel;
    bool slash;
};

static const struct clean_case CLEANS[] = {
    {"/", URL_PATH_OK, "", true},
    {"/a/b", URL_PATH_OK, "a/b", false},
    {"/a//b/./c/", URL_PATH_OK, "a/b/c", true},
    {"/a%20b", URL_PATH_OK, "a b", false},
    {"/a%2fb", URL_PATH_OK, "a/b", false},
    {"/..", URL_PATH_TRAVERSAL, NULL, false},
    {"/a/../b", URL_PATH_TRAVERSAL, NULL, false},
    {"/%2e%2e/etc/passwd", URL_PATH_TRAVERSAL, NULL, false},
    {"/%2E%2e%2fetc", URL_PATH_TRAVERSAL, NULL, false},
    {"/..%2f..%2fetc/passwd", URL_PATH_TRAVERSAL, NULL, false},
    {"/a/..", URL_PATH_TRAVERSAL, NULL, false},
    {"/...", URL_PATH_OK, "...", false},
    {"/..a", URL_PATH_OK, "..a", false},
    {"/%252e%252e/x", URL_PATH_OK, "%2e%2e/x", false}, /* decoded once: a name, not a climb */
    {"/a%00b", URL_PATH_INVALID, NULL, false},
    {"a/b", URL_PATH_INVALID, NULL, false},
    {"", URL_PATH_INVALID, NULL, false},
};

static void test_clean(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CLEANS / sizeof CLEANS[0]; i++) {
        const struct clean_case *t = &CLEANS[i];
        struct dynbuf out;
        dynbuf_init(&out, 256);
        bool slash = false;
        enum url_path_result rc =
            url_path_clean((const uint8_t *)t->path, strlen(t->path), &out, &slash);
        assert_int_equal(rc, t->rc);
        if (t->rel) {
            assert_string_equal(dynbuf_str(&out), t->rel);
            assert_int_equal(slash, t->slash);
        }
        dynbuf_cleanup(&out);
    }
}

static void test_encode(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 256);
    const char *in = "a b/c?d#e%\"<";
    url_encode_path((const uint8_t *)in, strlen(in), &out);
    assert_string_equal(dynbuf_str(&out), "a%20b/c%3Fd%23e%25%22%3C");
    dynbuf_cleanup(&out);
}

/* Form encoding: what url_query_each reads back as the same names and values. */
static void test_encode_form(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"b c", "b+c"},
        {"2&3", "2%263"},
        {"a=b+c;d%", "a%3Db%2Bc%3Bd%25"},
        {"*-._~/", "*-._%7E%2F"},
        {"\xc3\xa9\n", "%C3%A9%0A"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dynbuf out;
        dynbuf_init(&out, 256);
        url_encode_form((const uint8_t *)cases[i].in, strlen(cases[i].in), &out);
        assert_string_equal(dynbuf_str(&out), cases[i].want);
        dynbuf_cleanup(&out);
    }
    struct dynbuf form, back;
    dynbuf_init(&form, 256);
    dynbuf_init(&back, 256);
    const char *name = "x y&", *value = "=;+%";
    url_encode_form((const uint8_t *)name, strlen(name), &form);
    dynbuf_addc(&form, '=');
    url_encode_form((const uint8_t *)value, strlen(value), &form);
    url_query_each(form.data, form.len, collect, &back);
    assert_string_equal(dynbuf_str(&back), "[x y&==;+%]");
    dynbuf_cleanup(&form);
    dynbuf_cleanup(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),  cmocka_unit_test(test_decode),
        cmocka_unit_test(test_query),  cmocka_unit_test(test_clean),
        cmocka_unit_test(test_encode), cmocka_unit_test(test_encode_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
