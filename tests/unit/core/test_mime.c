/* mime: types by extension, case-insensitive, default for unknown and dotfiles. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_types)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
