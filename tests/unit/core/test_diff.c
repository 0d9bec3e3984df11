/* diff: minimal line scripts, hunks with context, unified text, line ends as changes, and the
 * bounded fallback for texts too different to compare line by line. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/diff.h"

static char *unified(const char *a, const char *b, unsigned context)
{
    struct diff d;
    diff_compute(&d, (const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b));
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    diff_unified(&d, "a", "b", context, &out);
    diff_cleanup(&d);
    char *s = strdup(out.len ? (const char *)out.data : "");
    dynbuf_cleanup(&out);
    return s;
}

/* Replays the script: old lines kept and deleted must spell a, kept and added must spell b. */
static void check_script(const char *a, const char *b)
{
    struct diff d;
    diff_compute(&d, (const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b));
    struct dynbuf ra, rb;
    dynbuf_init(&ra, 1 << 20);
    dynbuf_init(&rb, 1 << 20);
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < d.n; i++) {
        const struct diff_entry *e = &d.v[i];
        assert_int_equal(e->a, ia);
        assert_int_equal(e->b, ib);
        if (e->op != DIFF_ADD) {
            dynbuf_append(&ra, d.a[e->a].p, d.a[e->a].len);
            ia++;
        }
        if (e->op != DIFF_DEL) {
            dynbuf_append(&rb, d.b[e->b].p, d.b[e->b].len);
            ib++;
        }
        if (e->op == DIFF_SAME)
            assert_memory_equal(d.a[e->a].p, d.b[e->b].p, d.a[e->a].len);
    }
    assert_int_equal(ra.len, strlen(a));
    assert_int_equal(rb.len, strlen(b));
    assert_memory_equal(ra.data ? (const char *)ra.data : "", a, ra.len);
    assert_memory_equal(rb.data ? (const char *)rb.data : "", b, rb.len);
    dynbuf_cleanup(&ra);
    dynbuf_cleanup(&rb);
    diff_cleanup(&d);
}

static void test_unified(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        unsigned context;
        const char *want;
    } cases[] = {
        {"x\n", "x\n", 3, ""},
        {"", "", 3, ""},
        {"a\nb\nc\n", "a\nB\nc\n", 3, "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
        {"a\nb\nc\n", "a\nb\nc\nd\n", 1, "--- a\n+++ b\n@@ -3,1 +3,2 @@\n c\n+d\n"},
        {"a\n", "", 3, "--- a\n+++ b\n@@ -1,1 +0,0 @@\n-a\n"},
        {"", "a\n", 3, "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+a\n"},
        /* A line end made LF by an editor is a change. */
        {"GET / HTTP/1.1\r\nHost: h\r\n", "GET / HTTP/1.1\nHost: h\r\n", 0,
         "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-GET / HTTP/1.1\r\n+GET / HTTP/1.1\n"},
        /* The last line without a newline says so. */
        {"a\nb", "a\nc", 0,
         "--- a\n+++ b\n@@ -2,1 +2,1 @@\n-b\n\\ No newline at end of file\n+c\n"
         "\\ No newline at end of file\n"},
        /* Two changes far apart are two hunks; close ones are one. */
        {"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\nX\n3\n4\n5\n6\n7\nY\n9\n", 1,
         "--- a\n+++ b\n@@ -1,3 +1,3 @@\n 1\n-2\n+X\n 3\n@@ -7,3 +7,3 @@\n 7\n-8\n+Y\n 9\n"},
        {"1\n2\n3\n4\n5\n", "1\nX\n3\nY\n5\n", 1,
         "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n 5\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = unified(cases[i].a, cases[i].b, cases[i].context);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu:\n%s\nwant:\n%s", i, got, cases[i].want);
        free(got);
        check_script(cases[i].a, cases[i].b);
    }
}

/* The script is minimal: its changes count equals the classic LCS distance on small inputs. */
static size_t lcs(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    size_t *t = calloc((na + 1) * (nb + 1), sizeof *t);
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            t[i * (nb + 1) + j] = strcmp(a[i], b[j]) == 0
                                      ? 1 + t[(i + 1) * (nb + 1) + j + 1]
                                      : (t[(i + 1) * (nb + 1) + j] > t[i * (nb + 1) + j + 1]
                                             ? t[(i + 1) * (nb + 1) + j]
                                             : t[i * (nb + 1) + j + 1]);
    size_t r = t[0];
    free(t);
    return r;
}

static void test_minimal(void **state)
{
    (void)state;
    static const char *const WORDS[] = {"a\n", "b\n", "c\n", "d\n"};
    unsigned seed = 12345;
    for (int round = 0; round < 400; round++) {
        const char *la[12], *lb[12];
        size_t na = (size_t)(rand_r(&seed) % 12), nb = (size_t)(rand_r(&seed) % 12);
        char a[64] = "", b[64] = "";
        for (size_t i = 0; i < na; i++) {
            la[i] = WORDS[rand_r(&seed) % 4];
            strcat(a, la[i]);
        }
        for (size_t i = 0; i < nb; i++) {
            lb[i] = WORDS[rand_r(&seed) % 4];
            strcat(b, lb[i]);
        }
        struct diff d;
        diff_compute(&d, (const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b));
        assert_false(d.approximate);
        assert_int_equal(d.changes, na + nb - 2 * lcs(la, na, lb, nb));
        diff_cleanup(&d);
        check_script(a, b);
    }
}

/* Past DIFF_COST_MAX the script stays correct (middle removed and added whole) and bounded. */
static void test_too_different(void **state)
{
    (void)state;
    size_t lines = DIFF_COST_MAX;
    struct dynbuf a, b;
    dynbuf_init(&a, 1 << 24);
    dynbuf_init(&b, 1 << 24);
    dynbuf_adds(&a, "same start\n");
    dynbuf_adds(&b, "same start\n");
    for (size_t i = 0; i < lines; i++) {
        dynbuf_printf(&a, "old %zu\n", i);
        dynbuf_printf(&b, "new %zu\n", i);
    }
    dynbuf_adds(&a, "same end\n");
    dynbuf_adds(&b, "same end\n");
    struct diff d;
    diff_compute(&d, a.data, a.len, b.data, b.len);
    assert_true(d.approximate);
    assert_int_equal(d.changes, 2 * lines);
    assert_int_equal(d.v[0].op, DIFF_SAME);
    assert_int_equal(d.v[d.n - 1].op, DIFF_SAME);
    diff_cleanup(&d);
    check_script((const char *)a.data, (const char *)b.data);
    dynbuf_cleanup(&a);
    dynbuf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unified),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_too_different),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
