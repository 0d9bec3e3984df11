/*
 * harsplit: HAR documents cut into log members and entries. One line per case: the document and
 * the pieces it gives (or the error it ends with). Every document is also fed byte by byte and
 * split at every offset; the pieces and errors must be the same.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/harsplit.h"

struct split_case {
    const char *doc;
    const char *want; /* pieces as "M:key=text|E0:text|...|D", or "X:error substring" */
};

static const struct split_case CASES[] = {
    {"{\"log\":{\"version\":\"1.2\",\"entries\":[]}}", "M:version=\"1.2\"|D"},
    {"{\"log\":{\"entries\":[{\"a\":1},{\"b\":[2,{}]}],\"pages\":[]}}",
     "E0:{\"a\":1}|E1:{\"b\":[2,{}]}|M:pages=[]|D"},
    {"\xEF\xBB\xBF \n{ \"log\" :\n { \"entries\" : [ {} ] } }\n\n", "E0:{}|D"},
    {"{\"log\":{\"entries\":[{\"s\":\"q\\\"]}[{\\\\\"}]}}", "E0:{\"s\":\"q\\\"]}[{\\\\\"}|D"},
    {"{\"log\":{\"n\":12,\"t\":true,\"z\":null,\"entries\":[]}}", "M:n=12|M:t=true|M:z=null|D"},
    {"{\"\\u006cog\":{\"entries\":[]}}", "D"},
    {"{\"other\":{\"x\":[1]},\"log\":{\"entries\":[]}}", "T:other={\"x\":[1]}|D"},
    {"{\"log\":{\"entries\":[1, \"two\" ,[]]}}", "E0:1|E1:\"two\"|E2:[]|D"},
    /* errors */
    {"[]", "X:a HAR file is a JSON object (found '[' at line 1, column 1)"},
    {"{\"log\":{}}", "X:not a HAR 1.2 file: missing log.entries"},
    {"{\"x\":1}", "T:x=1|X:not a HAR 1.2 file: missing log"},
    {"{\"log\":[]}", "X:log is not an object"},
    {"{\"log\":{\"entries\":{}}}", "X:log.entries is not an array"},
    {"{\"log\":{\"entries\":[1,2", "E0:1|X:cut short inside log.entries after 1 entry"},
    {"{\"log\":{\"entries\":[{}, {}", "E0:{}|E1:{}|X:cut short inside log.entries after 2 entries"},
    {"{\"log\" \"x\"}", "X:line 1, column 8: expected ':' after a member name"},
    {"{\"log\":{\"entries\":[]}}\n x", "D|X:line 2, column 2: expected the end of the file"},
    {"", "X:the file is empty"},
    {"  \n ", "X:the file is empty"},
    {"{\"log\":{\"entries\":[]},\"log\":{}}", "X:\"log\" appears twice"},
    {"{\"log\":{\"entries\":[],\"entries\":[]}}", "X:log.entries appears twice"},
    {"{\"log\":{\"entries\":[}]}}", "X:expected a value, found '}'"},
    {"\x1f\x8b\x08", "X:found byte 0x1f at line 1, column 1"},
};

/* Feeds doc in pieces of at most step bytes (or split once at cut) and describes the pieces. */
static void run(const char *doc, size_t n, size_t step, size_t cut, char *out, size_t outlen)
{
    struct harsplit s;
    harsplit_init(&s, 1 << 20);
    out[0] = '\0';
    size_t off = 0;
    enum harsplit_event ev = HARSPLIT_MORE;
    while (off < n && ev != HARSPLIT_ERROR) {
        size_t lim = cut ? (off < cut ? cut - off : n - off) : (n - off < step ? n - off : step);
        size_t used = 0;
        while (used < lim) {
            const struct harsplit_piece *p;
            size_t k = harsplit_feed(&s, (const uint8_t *)doc + off + used, lim - used, &ev, &p);
            used += k;
            size_t len = strlen(out);
            if (ev == HARSPLIT_MEMBER)
                snprintf(out + len, outlen - len, "%s:%s=%.*s|", p->top ? "T" : "M", p->key,
                         (int)p->len, (const char *)p->text);
            else if (ev == HARSPLIT_ENTRY)
                snprintf(out + len, outlen - len, "E%llu:%.*s|", (unsigned long long)p->index,
                         (int)p->len, (const char *)p->text);
            else if (ev == HARSPLIT_DONE)
                snprintf(out + len, outlen - len, "D|");
            if (ev == HARSPLIT_ERROR)
                break;
            if (k == 0 && ev == HARSPLIT_MORE)
                fail_msg("no progress at %zu", off + used);
        }
        off += used;
    }
    size_t len = strlen(out);
    if (ev != HARSPLIT_ERROR && harsplit_end(&s) == HARSPLIT_DONE) {
        if (len)
            out[len - 1] = '\0';
    } else {
        snprintf(out + len, outlen - len, "X:%s", s.error);
    }
    harsplit_cleanup(&s);
}

static void check(const struct split_case *c, const char *got, const char *how)
{
    const char *x = strstr(c->want, "X:");
    if (x) {
        /* The pieces before the error, then the error's text (a substring of the message). */
        size_t pre = (size_t)(x - c->want);
        const char *gx = strstr(got, "X:");
        if (!gx || strncmp(got, c->want, pre) != 0 || !strstr(gx, x + 2))
            fail_msg("%s: '%s' gave '%s', want '%s'", how, c->doc, got, c->want);
        return;
    }
    if (strcmp(got, c->want) != 0)
        fail_msg("%s: '%s' gave '%s', want '%s'", how, c->doc, got, c->want);
}

static void test_cases(void **state)
{
    (void)state;
    char got[4096];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct split_case *c = &CASES[i];
        size_t n = strlen(c->doc);
        run(c->doc, n, n ? n : 1, 0, got, sizeof got);
        check(c, got, "whole");
        run(c->doc, n, 1, 0, got, sizeof got);
        check(c, got, "byte by byte");
        for (size_t cut = 1; cut < n; cut++) {
            run(c->doc, n, n, cut, got, sizeof got);
            char how[32];
            snprintf(how, sizeof how, "split at %zu", cut);
            check(c, got, how);
        }
    }
}

static void test_piece_position_and_cap(void **state)
{
    (void)state;
    const char *doc = "{\"log\":{\n  \"entries\":[\n    {\"x\":1},\n    {\"y\":2}]}}";
    struct harsplit s;
    harsplit_init(&s, 0);
    enum harsplit_event ev;
    const struct harsplit_piece *p;
    size_t off = 0, n = strlen(doc);
    off += harsplit_feed(&s, (const uint8_t *)doc, n, &ev, &p);
    assert_int_equal(ev, HARSPLIT_ENTRY);
    assert_int_equal(p->line, 3);
    assert_int_equal(p->column, 5);
    off += harsplit_feed(&s, (const uint8_t *)doc + off, n - off, &ev, &p);
    assert_int_equal(ev, HARSPLIT_ENTRY);
    assert_int_equal(p->line, 4);
    assert_int_equal(p->offset, (uint64_t)(strstr(doc, "{\"y\"") - doc));
    harsplit_cleanup(&s);
    /* A piece larger than the cap is an error, not unbounded memory. */
    harsplit_init(&s, 8);
    const char *big = "{\"log\":{\"entries\":[{\"much\":\"too long\"}]}}";
    harsplit_feed(&s, (const uint8_t *)big, strlen(big), &ev, &p);
    assert_int_equal(ev, HARSPLIT_ERROR);
    assert_non_null(strstr(s.error, "larger than 8 bytes"));
    harsplit_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_piece_position_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
