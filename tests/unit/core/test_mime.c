/* mime: types by extension, case-insensitive, default for unknown and dotfiles; and back, an
 * extension for a Content-Type value. */
#include "testutil.h"

#include "hspy/mime.h"

static void test_types(void **state)
{
    (void)state;
    static const struct {
        const char *name, *type;
    } cases[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"/a/b/APP.JS", "text/javascript; charset=utf-8"},
        {"data.json", "application/json"},
        {"x.tar.gz", "application/gzip"},
        {"img.PNG", "image/png"},
        {"noext", "application/octet-stream"},
        {".bashrc", "application/octet-stream"},
        {"dir.d/file", "application/octet-stream"},
        {"weird.unknownext", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(mime_type(cases[i].name), cases[i].type);
}

static void test_extensions(void **state)
{
    (void)state;
    static const struct {
        const char *type, *ext; /* ext NULL: none */
    } cases[] = {
        {"application/json", "json"},
        {"Application/JSON; charset=utf-8", "json"},
        {"  text/html;charset=UTF-8", "html"},
        {"text/plain", "txt"},
        {"image/svg+xml", "svg"},
        {"application/gzip", "gz"},
        {"text/javascript ; charset=x", "js"},
        {"application/octet-stream", NULL},
        {"application/x-unknown", NULL},
        {"text", NULL},
        {"", NULL},
        {"; charset=utf-8", NULL},
        {"text/htmlx", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = mime_extension(cases[i].type);
        if (cases[i].ext)
            assert_string_equal(got, cases[i].ext);
        else
            assert_null(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_types),
                                       cmocka_unit_test(test_extensions)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
