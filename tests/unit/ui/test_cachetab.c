/*
 * cachetab: the Cache tab lays out the cache analysis: verdicts with lifetimes, validators
 * (escaped: they come from the network), directives, and findings that are jump targets.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cachetab.h"
#include "synth.h"

static char *doc_text(struct doc *d)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    for (size_t i = 0; i < doc_lines(d); i++) {
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        doc_render(d, i, &l);
        dynbuf_append(&out, l.text.data ? l.text.data : (uint8_t *)"", l.text.len);
        dynbuf_addc(&out, '\n');
    }
    canvas_line_cleanup(&l);
    return dynbuf_take(&out);
}

/* A store holding exchange 1 (req and resp), the Cache tab's context on it, and its document. */
struct tab {
    struct store store;
    struct synth s;
    struct http_limits limits;
    struct detail_ctx c;
    struct doc d;
};

/* Builds the Cache tab of exchange 1 made of req and resp; returns its text (free it). */
static char *tab_open(struct tab *t, const char *req, const char *resp)
{
    store_init(&t->store, 100, (size_t)-1);
    synth_init(&t->s, &t->store, 1 << 20);
    synth_exchange(&t->s, req, strlen(req), resp, strlen(resp), 1000000000, 1000);
    synth_close(&t->s);
    t->limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    t->c = (struct detail_ctx){
        &t->store, store_get(&t->store, 1), &GLYPHS_UTF8, &t->limits, 100, true, 0, 0, false, NULL};
    doc_init(&t->d);
    cachetab_build(&t->d, &t->c);
    return doc_text(&t->d);
}

static void tab_close(struct tab *t)
{
    doc_cleanup(&t->d);
    synth_cleanup(&t->s);
    store_cleanup(&t->store);
}

/* Fails naming the first of has[0..n) that text lacks. */
static void assert_has(const char *text, const char *const *has, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strstr(text, has[i]))
            fail_msg("the Cache tab lacks '%s':\n%s", has[i], text);
}

static void test_report(void **state)
{
    (void)state;
    struct tab t;
    char *text = tab_open(&t, "GET /a HTTP/1.1\r\nHost: h\r\nCache-Control: max-age=0\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                          "Cache-Control: public, max-age=3600, max-agee=5\r\n"
                          "ETag: \"v1\x1b[2J\"\r\nVary: Accept-Encoding\r\n"
                          "Content-Length: 0\r\n\r\n");
    static const char *const HAS[] = {
        "Caching (RFC 9111)",
        "shared cache (CDN, proxy)",
        "may store",
        "1h (max-age)",
        "ETag",
        "\\x1b[2J", /* escaped */
        "Vary",
        "Accept-Encoding",
        "Cache-Control (request)",
        "max-age=0",
        "max-age=3600, public, 1 unknown",
        "Findings",
        "cache-directive-typo",
    };
    assert_has(text, HAS, sizeof HAS / sizeof HAS[0]);
    assert_null(strchr(text, '\x1b'));
    assert_true(t.d.ntargets >= 1); /* the typo is a target */
    assert_int_equal(t.d.targets[0].side, SIDE_SERVER);
    free(text);
    doc_cleanup(&t.d);

    /* No response yet: a notice. */
    doc_init(&t.d);
    static const char ONLY[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    synth_exchange(&t.s, ONLY, sizeof ONLY - 1, NULL, 0, 2000000000, 0);
    t.c.ex = store_get(&t.store, 2);
    cachetab_build(&t.d, &t.c);
    text = doc_text(&t.d);
    assert_non_null(strstr(text, "no final response head"));
    free(text);
    tab_close(&t);
}

/* A CDN and a browser judge freshness by their own lifetimes: the tab says each verdict. */
static void test_verdict_per_cache(void **state)
{
    (void)state;
    struct tab t;
    char *text = tab_open(&t, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nCache-Control: s-maxage=600, max-age=60\r\n"
                          "Age: 120\r\nContent-Length: 0\r\n\r\n");
    static const char *const HAS[] = {
        "as of when the response arrived: cacheable 10m, browser stale",
        "10m (s-maxage): fresh on arrival",
        "1m (max-age): already stale on arrival",
        "fresh for a shared cache, already stale for a browser",
    };
    assert_has(text, HAS, sizeof HAS / sizeof HAS[0]);
    free(text);
    tab_close(&t);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_report),
                                       cmocka_unit_test(test_verdict_per_cache)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
