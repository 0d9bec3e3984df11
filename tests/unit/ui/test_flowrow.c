/*
 * flowrow: column layout at every width, rows of exactly the terminal width (wide characters
 * included), hostile bytes escaped, sizes and durations, and the column sort order.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cache.h"
#include "hspy/flowrow.h"
#include "hspy/termsafe.h"
#include "synth.h"

static void test_size_duration(void **state)
{
    (void)state;
    static const struct {
        uint64_t bytes;
        const char *text;
    } SIZES[] = {{0, "0"},         {999, "999"},       {1000, "1000"},
                 {1024, "1.0k"},   {4200, "4.1k"},     {10240, "10k"},
                 {999999, "977k"}, {2u << 20, "2.0M"}, {(uint64_t)3 << 30, "3.0G"}};
    char buf[16];
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++)
        assert_string_equal(flowrow_size(SIZES[i].bytes, buf, sizeof buf), SIZES[i].text);
    static const struct {
        int64_t ns;
        const char *text;
    } TIMES[] = {{-1, "-"},
                 {40000, "0.04ms"},
                 {1200000, "1.2ms"},
                 {12000000, "12ms"},
                 {3000000000, "3.0s"},
                 {42000000000, "42s"},
                 {125000000000, "2m05s"},
                 {(int64_t)7200 * 1000000000, "2h00m"}};
    for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++)
        assert_string_equal(flowrow_duration(TIMES[i].ns, buf, sizeof buf), TIMES[i].text);
}

static int used_width(const struct flowrow_layout *l)
{
    int end = 0;
    for (int c = 0; c < FLOWCOL__COUNT; c++)
        if (l->w[c] && l->x[c] + l->w[c] > end)
            end = l->x[c] + l->w[c];
    return end;
}

static void test_layout(void **state)
{
    (void)state;
    for (int width = 36; width <= 300; width++) {
        struct flowrow_layout l;
        flowrow_layout(&l, width, 123456);
        assert_int_equal(used_width(&l), width);
        /* What a row cannot lose. */
        static const int KEEP[] = {FLOWCOL_ID, FLOWCOL_METHOD, FLOWCOL_TARGET, FLOWCOL_STATUS,
                                   FLOWCOL_FLAGS};
        for (size_t k = 0; k < sizeof KEEP / sizeof KEEP[0]; k++)
            assert_true(l.w[KEEP[k]] > 0);
        assert_true(l.w[FLOWCOL_ID] >= 6); /* "123456" fits */
    }
    /* The cache column narrows (its label in shorter words) before it goes. */
    int narrowed = 0;
    for (int width = 36; width <= 300; width++) {
        struct flowrow_layout l;
        flowrow_layout(&l, width, 99);
        int w = l.w[FLOWCOL_CACHE];
        assert_true(w == 0 || w >= FLOWROW_COLUMNS[FLOWCOL_CACHE].min);
        narrowed += w > 0 && w < FLOWROW_COLUMNS[FLOWCOL_CACHE].ideal;
    }
    assert_int_equal(narrowed,
                     FLOWROW_COLUMNS[FLOWCOL_CACHE].ideal - FLOWROW_COLUMNS[FLOWCOL_CACHE].min);
    struct flowrow_layout wide, narrow;
    flowrow_layout(&wide, 200, 99);
    for (int c = 0; c < FLOWCOL__COUNT; c++)
        assert_true(wide.w[c] > 0);
    flowrow_layout(&narrow, 70, 99);
    assert_int_equal(narrow.w[FLOWCOL_CLIENT], 0); /* dropped first */
    assert_int_equal(narrow.w[FLOWCOL_TYPE], 0);
    /* The target, what a row is mostly read for, keeps room for about 24 characters as long as
     * other columns can make it (it had 10 to 14 at 80 and 120 columns, beside the client and
     * time); the host keeps a useful share beside it (it had 6 at 80 columns), the time giving
     * up its milliseconds first. */
    static const struct {
        int width, target_min, host_min, time;
    } ROOM[] = {{60, 12, 9, 0},    {80, 19, 13, 8},   {100, 24, 18, 12},
                {120, 32, 18, 12}, {140, 24, 18, 12}, {200, 40, 18, 12}};
    for (size_t i = 0; i < sizeof ROOM / sizeof ROOM[0]; i++) {
        struct flowrow_layout l;
        flowrow_layout(&l, ROOM[i].width, 99999);
        if (l.w[FLOWCOL_TARGET] < ROOM[i].target_min || l.w[FLOWCOL_HOST] < ROOM[i].host_min ||
            l.w[FLOWCOL_TIME] != ROOM[i].time)
            fail_msg("width %d: target %d, host %d, time %d", ROOM[i].width, l.w[FLOWCOL_TARGET],
                     l.w[FLOWCOL_HOST], l.w[FLOWCOL_TIME]);
    }
}

struct fixture {
    struct store store;
    struct synth synth;
};

static const char *const REQS[] = {
    "GET /api/users?page=2 HTTP/1.1\r\nHost: localhost:9000\r\n\r\n",
    "POST /上传/文件 HTTP/1.1\r\nHost: 例子.测试\r\nContent-Length: 2\r\n\r\nhi",
    "GET /\x1b[2J\x1b]0;pwned\x07\xe2\x80\xae HTTP/1.1\r\nHost: evil\x1b[31m.com\r\n\r\n",
    "DELETE /x HTTP/1.1\r\nHost: a\r\nContent-Lenght: 3\r\n\r\n",
    "\r\nPUT /upload/part\x1b[2J HTTP/1.1\r\nHost: x\r\nX-Long: aaaa", /* a head cut short */
    "GET /in-flight HTTP/1.1\r\nHost: slow\r\n\r\n",
};
static const char *const RESPS[] = {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=3600\r\n"
    "Content-Length: 2\r\n\r\n{}",
    "HTTP/1.1 201 Created\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 502 Bad\x1b[5m Gateway\r\nContent-Type: te\x1bxt/pl\x07"
    "ain\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    NULL,
    NULL,
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    store_init(&f->store, 1000, (size_t)-1);
    f->store.analyze = cache_record; /* as the session does: the cache column has its label */
    synth_init(&f->synth, &f->store, 1 << 20);
    for (size_t i = 0; i < sizeof REQS / sizeof REQS[0]; i++) {
        synth_connect(&f->synth, (unsigned)i, 40000);
        synth_exchange(&f->synth, REQS[i], strlen(REQS[i]), RESPS[i],
                       RESPS[i] ? strlen(RESPS[i]) : 0, 1700000000000000000 + (int64_t)i * 1000000,
                       12000000);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    synth_cleanup(&f->synth);
    store_cleanup(&f->store);
    free(f);
    return 0;
}

static void assert_safe(const struct canvas_line *l)
{
    assert_true(termsafe_is_clean(l->text.data, l->text.len, 0));
    assert_null(strstr((const char *)l->text.data, "\xe2\x80\xae"));
}

/* Every exchange at every width: exactly the width, nothing unsafe. */
static void test_rows_at_every_width(void **state)
{
    struct fixture *f = *state;
    struct canvas_line l;
    canvas_line_init(&l, 10);
    for (int width = 36; width <= 240; width++) {
        struct flowrow_layout lay;
        flowrow_layout(&lay, width, store_end_id(&f->store));
        for (uint64_t id = store_first_id(&f->store); id < store_end_id(&f->store); id++) {
            for (int marked = 0; marked < 2; marked++) {
                canvas_line_reset(&l, width, 0);
                flowrow_format(&l, &lay, store_get(&f->store, id), id, marked, &GLYPHS_UTF8);
                assert_int_equal(l.cells, width);
                assert_safe(&l);
            }
        }
        canvas_line_reset(&l, width, 0);
        flowrow_heading(&l, &lay, FLOWCOL_STATUS, true, &GLYPHS_ASCII);
        assert_int_equal(l.cells, width);
        canvas_line_reset(&l, width, 0);
        flowrow_format(&l, &lay, NULL, 77, false, &GLYPHS_ASCII); /* evicted */
        assert_int_equal(l.cells, width);
    }
    canvas_line_cleanup(&l);
}

static void test_row_content(void **state)
{
    struct fixture *f = *state;
    struct flowrow_layout lay;
    flowrow_layout(&lay, 200, 10);
    struct canvas_line l;
    canvas_line_init(&l, 200);
    static const struct {
        uint64_t id;
        const char *has[4];
    } CASES[] = {
        {1, {"GET", "localhost:9000", "/api/users?page=2", "cacheable 1h"}},
        {2, {"POST", "例子.测试", "/上传/文件", "html"}},
        {3, {"\\x1b[2J", "evil\\x1b[31m.com", "502", "\\u{202e}"}},
        {4, {"DELETE", "⚠", "404", "12ms"}},
        {5, {"PUT", "/upload/part\\x1b[2J", "…", NULL}}, /* from its kept start line */
        {6, {"/in-flight", "...", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        canvas_line_reset(&l, 200, 0);
        flowrow_format(&l, &lay, store_get(&f->store, CASES[i].id), CASES[i].id, i == 0,
                       &GLYPHS_UTF8);
        for (int k = 0; k < 4 && CASES[i].has[k]; k++)
            if (!strstr((const char *)l.text.data, CASES[i].has[k]))
                fail_msg("row %llu lacks '%s': %s", (unsigned long long)CASES[i].id,
                         CASES[i].has[k], (const char *)l.text.data);
    }
    canvas_line_cleanup(&l);
}

/* A row at the common widths: at 80 columns the host is whole beside the target and the time
 * is to the second; at 60 both give way evenly (the time gone); at 120 everything is whole. */
static void test_rows_60_80_120(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int width;
        const char *has[4], *lacks;
    } CASES[] = {
        {120, {"22:13:20.000", " localhost:9000 ", " /api/users?page=2 ", " json "}, NULL},
        {80, {"22:13:20 ", " localhost:9000 ", " /api/users?page=2 ", " 200 "}, "22:13:20."},
        {60, {" localhost… ", " /api/users?p… ", " 200 ", "12ms"}, "22:13"},
    };
    struct canvas_line l;
    canvas_line_init(&l, 120);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct flowrow_layout lay;
        flowrow_layout(&lay, CASES[i].width, store_end_id(&f->store));
        canvas_line_reset(&l, CASES[i].width, 0);
        flowrow_format(&l, &lay, store_get(&f->store, 1), 1, false, &GLYPHS_UTF8);
        const char *t = (const char *)l.text.data;
        assert_int_equal(l.cells, CASES[i].width);
        for (int k = 0; k < 4; k++)
            if (!strstr(t, CASES[i].has[k]))
                fail_msg("width %d: row lacks '%s': '%s'", CASES[i].width, CASES[i].has[k], t);
        if (CASES[i].lacks && strstr(t, CASES[i].lacks))
            fail_msg("width %d: row has '%s': '%s'", CASES[i].width, CASES[i].lacks, t);
    }
    canvas_line_cleanup(&l);
}

/* What termsafe wrote into a cell is drawn as an escape; the text around it keeps its style. */
static void test_row_escapes(void **state)
{
    struct fixture *f = *state;
    struct flowrow_layout lay;
    flowrow_layout(&lay, 200, 10);
    struct canvas_line l;
    canvas_line_init(&l, 200);
    flowrow_format(&l, &lay, store_get(&f->store, 3), 3, false, &GLYPHS_UTF8);
    const char *t = (const char *)l.text.data;
    const char *host = strstr(t, "evil\\x1b[31m.com");
    assert_non_null(host);
    size_t at = (size_t)(host - t);
    assert_int_equal(canvas_style_at(&l, at + 3), STYLE_NORMAL); /* l */
    for (size_t k = 4; k < 8; k++)
        assert_int_equal(canvas_style_at(&l, at + k), STYLE_ESCAPE); /* \x1b */
    assert_int_equal(canvas_style_at(&l, at + 8), STYLE_NORMAL);     /* [ */
    const char *bidi = strstr(t, "\\u{202e}");
    assert_non_null(bidi);
    assert_int_equal(canvas_style_at(&l, (size_t)(bidi - t)), STYLE_ESCAPE);
    canvas_line_cleanup(&l);
}

static void test_compare(void **state)
{
    struct fixture *f = *state;
    const struct exchange *a = store_get(&f->store, 1), *b = store_get(&f->store, 4);
    assert_true(flowrow_compare(FLOWCOL_STATUS, a, b) < 0); /* 200 < 404 */
    assert_true(flowrow_compare(FLOWCOL_METHOD, a, b) > 0); /* GET > DELETE */
    assert_true(flowrow_compare(FLOWCOL_HOST, b, a) < 0);   /* "a" < "localhost" */
    assert_true(flowrow_compare(FLOWCOL_ID, a, b) < 0);
    assert_int_equal(flowrow_compare(FLOWCOL_HOST, a, a), 0);
}

/* A request that got no response has no duration: the cell says so, the filter's rule, and a
 * sort by duration puts it before every measured one. */
static void test_unanswered_duration(void **state)
{
    (void)state;
    const int64_t t0 = 1700000000000000000;
    struct exchange *alone =
        tu_exchange_text("GET /killed HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", NULL, t0);
    struct exchange *fast = tu_exchange_text("GET /ok HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
                                             "HTTP/1.1 204 No Content\\r\\n\\r\\n", t0);
    alone->flags |= EX_DONE;
    fast->flags |= EX_DONE;
    fast->t[T_RESP_LAST] = fast->t[T_REQ_FIRST]; /* answered in no measurable time */
    static struct canvas_cell cell;
    char *buf = cell.text;
    const struct flowrow_column *dur = &FLOWROW_COLUMNS[FLOWCOL_DURATION];
    dur->text(alone, &GLYPHS_UTF8, &cell);
    assert_string_equal(buf, "-");
    dur->text(fast, &GLYPHS_UTF8, &cell);
    assert_string_equal(buf, "0.00ms");
    assert_true(flowrow_compare(FLOWCOL_DURATION, alone, fast) < 0);
    assert_true(flowrow_compare(FLOWCOL_DURATION, fast, alone) > 0);
    exchange_free(alone);
    exchange_free(fast);
}

/* A response killed while held never reached the client: the status cell says kill, as for a
 * killed request, and sorts with the exchanges that got no status. */
static void test_killed_response(void **state)
{
    (void)state;
    struct exchange *killed =
        tu_exchange_text("GET /missing HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
                         "HTTP/1.1 404 Not Found\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    struct exchange *ok = tu_exchange_text("GET /ok HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
                                           "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    exchange_fail(killed, EX_KILLED | EX_INTERCEPTED, "killed while the response was held");
    static struct canvas_cell cell;
    char *buf = cell.text;
    const struct flowrow_column *st = &FLOWROW_COLUMNS[FLOWCOL_STATUS];
    st->text(killed, &GLYPHS_UTF8, &cell);
    assert_string_equal(buf, "kill");
    st->text(ok, &GLYPHS_UTF8, &cell);
    assert_string_equal(buf, "200");
    assert_true(flowrow_compare(FLOWCOL_STATUS, killed, ok) < 0);
    exchange_free(killed);
    exchange_free(ok);
}

/* A request a capture lost whole shows as lost, not as no request. */
static void test_lost_request(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text(NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    static struct canvas_cell cell;
    const struct flowrow_column *method = &FLOWROW_COLUMNS[FLOWCOL_METHOD];
    method->text(ex, &GLYPHS_UTF8, &cell);
    assert_string_equal(cell.text, "-");
    ex->req.flags |= MSG_LOST | MSG_SNAPLEN;
    method->text(ex, &GLYPHS_UTF8, &cell);
    assert_string_equal(cell.text, "lost");
    exchange_free(ex);
}

/* The cache label in fewer cells: shorter words, then the first verdict alone (the browser's
 * stands as an ellipsis), then tiny words; never a label cut inside a word. */
static void test_cache_fit(void **state)
{
    (void)state;
    static const struct {
        const char *label;
        int cells;
        const char *want;
    } CASES[] = {
        {"cacheable 1h", 12, "cacheable 1h"},
        {"cacheable 10m", 13, "cacheable 10m"},
        {"cacheable 10m", 12, "cache 10m"},
        {"cacheable 10m", 9, "cache 10m"},
        {"cacheable 10m", 6, "10m"},
        {"cacheable 1.5d", 4, "1.5d"},
        {"cacheable", 6, "cache"},
        {"cacheable 10m, browser stale", 28, "cacheable 10m, browser stale"},
        {"cacheable 10m, browser stale", 24, "cache 10m, browser stale"},
        {"cacheable 10m, browser stale", 12, "cache 10m…"},
        {"cacheable 10m, browser stale", 6, "10m…"},
        {"cacheable 1h, browser fresh 5m", 12, "cache 1h…"},
        {"revalidate, browser fresh 1h", 12, "reval…"},
        {"heuristic 10m", 12, "heur 10m"},
        {"heuristic 10m", 6, "~10m"},
        {"heuristic 2h", 12, "heuristic 2h"},
        {"private 5m", 12, "private 5m"},
        {"private 5m", 9, "priv 5m"},
        {"private heuristic 10m", 12, "priv ~10m"},
        {"private no lifetime", 12, "priv no ttl"},
        {"private revalidate", 12, "priv reval"},
        {"private stale", 13, "private stale"},
        {"private stale", 10, "priv stale"},
        {"no lifetime", 8, "no ttl"},
        {"revalidate", 8, "reval"},
        {"revalidated", 12, "revalidated"},
        {"revalidated", 6, "304 ok"},
        {"bad 304", 6, "bad304"},
        {"304", 3, "304"},
        {"stale", 5, "stale"},
        {"no-store", 8, "no-store"},
        {"no-store", 6, "never"},
        {"uncacheable", 11, "uncacheable"},
        {"uncacheable", 6, "never"},
        /* the first word alone when the tiniest form is still too wide */
        {"private 5m", 6, "priv…"},
        {"private revalidate", 6, "priv…"},
        {"private heuristic 10m", 9, "priv ~10m"},
        /* too narrow for every form: the last, for the caller to cut */
        {"private 5m", 4, "priv…"},
        {"stale", 3, "stale"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char buf[64];
        flowrow_cache_fit(CASES[i].label, CASES[i].cells, "…", buf, sizeof buf);
        if (strcmp(buf, CASES[i].want) != 0)
            fail_msg("case %zu: '%s' in %d cells: got '%s', want '%s'", i, CASES[i].label,
                     CASES[i].cells, buf, CASES[i].want);
    }
}

/* In the list, the cache column (12 cells) shows the label in its fitted form. */
static void test_cache_column(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text("GET /c HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
                                           "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    ex->cache_done = true;
    ex->cache_label = "cacheable 10m, browser stale";
    struct flowrow_layout lay;
    flowrow_layout(&lay, 200, 10);
    assert_int_equal(lay.w[FLOWCOL_CACHE], 12);
    struct canvas_line l;
    canvas_line_init(&l, 200);
    flowrow_format(&l, &lay, ex, 1, false, &GLYPHS_UTF8);
    const char *t = (const char *)l.text.data;
    if (!strstr(t, " cache 10m…  "))
        fail_msg("row: '%s'", t);
    canvas_line_cleanup(&l);
    exchange_free(ex);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_duration),
        cmocka_unit_test(test_unanswered_duration),
        cmocka_unit_test(test_killed_response),
        cmocka_unit_test(test_lost_request),
        cmocka_unit_test(test_cache_fit),
        cmocka_unit_test(test_cache_column),
        cmocka_unit_test(test_layout),
        cmocka_unit_test_setup_teardown(test_rows_at_every_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_60_80_120, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
