/*
 * Pieces of the detail view and the status bar: wire and raw offsets across capture gaps,
 * binary detection, head lines, waterfall bars, the status bar at every width; the Raw tab of
 * exchanges whose sides carry no structure at all (nothing to mark).
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/bodyview.h"
#include "hspy/hexdump.h"
#include "hspy/msgtext.h"
#include "hspy/statusbar.h"
#include "hspy/waterfall.h"
#include "hspy/wiretext.h"
#include "synth.h"

static void test_offsets(void **state)
{
    (void)state;
    /* Two gaps: 100 bytes missing at wire offset 50, 10 at wire offset 300. */
    const struct message_gap gaps[] = {{50, 100}, {300, 10}};
    static const struct {
        uint64_t wire, raw;
    } CASES[] = {{0, 0},    {49, 49},  {50, 50},   {120, 50} /* inside the gap */,
                 {150, 50}, {151, 51}, {299, 199}, {310, 200},
                 {400, 290}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        assert_int_equal(wiretext_raw_offset(gaps, 2, CASES[i].wire), CASES[i].raw);
    static const struct {
        uint64_t raw, wire;
    } BACK[] = {{0, 0}, {49, 49}, {50, 150}, {199, 299}, {200, 310}, {290, 400}};
    for (size_t i = 0; i < sizeof BACK / sizeof BACK[0]; i++)
        assert_int_equal(wiretext_wire_offset(gaps, 2, BACK[i].raw), BACK[i].wire);
    assert_int_equal(wiretext_raw_offset(NULL, 0, 77), 77);
}

static void test_head_line(void **state)
{
    (void)state;
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    msgtext_head_line(&l, (const uint8_t *)"Content-Type: a\x1b[0m", 19, false);
    assert_string_equal((const char *)l.text.data, "Content-Type: a\\x1b[0m");
    assert_int_equal(canvas_style_at(&l, 0), STYLE_HNAME);
    assert_int_equal(canvas_style_at(&l, 14), STYLE_NORMAL);
    canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
    msgtext_head_line(&l, (const uint8_t *)" folded: value", 14, false); /* obs-fold */
    assert_int_equal(canvas_style_at(&l, 2), STYLE_NORMAL);
    canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
    msgtext_head_line(&l, (const uint8_t *)"GET / HTTP/1.1", 14, true);
    assert_int_equal(canvas_style_at(&l, 0), STYLE_BOLD);
    canvas_line_cleanup(&l);
}

static void test_waterfall_bar(void **state)
{
    (void)state;
    static const struct {
        int64_t start, len, total;
        int width;
        const char *bar;
    } CASES[] =
        {
            {0, 10, 10, 10, "##########"},  {5, 5, 10, 10, "     #####"},
            {0, 0, 10, 10, "|         "},   {9, 0, 10, 10, "         |"},
            {0, 1, 1000, 10, "|         "}, /* too short for a cell: a thin mark */
            {2, 3, 10, 4, "#   "},          /* starts are cut down to a cell */
        };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct canvas_line l;
        canvas_line_init(&l, 100);
        waterfall_bar(&l, CASES[i].start, CASES[i].len, CASES[i].total, CASES[i].width,
                      &GLYPHS_ASCII);
        if (strcmp((const char *)l.text.data, CASES[i].bar) != 0)
            fail_msg("case %zu: '%s' want '%s'", i, (const char *)l.text.data, CASES[i].bar);
        canvas_line_cleanup(&l);
    }
}

/* What termsafe wrote for the bytes of a file name, a filter or an intercept filter in the status
 * bar is drawn apart, as in the list and the detail view; the same characters typed are text. */
static void test_statusbar_escapes(void **state)
{
    (void)state;
    struct store_counters c = {0};
    struct statusbar s = {.title = "read lit\\x01-esc\x01.pcap",
                          .counters = &c,
                          .filter = "~u lit\\x02-esc\x02",
                          .intercept = "~h lit\\x03-esc\x03",
                          .filtering = -1,
                          .deleting = -1};
    /* After each prefix: the four characters as typed (text), or termsafe's escape. */
    static const struct {
        const char *prefix;
        bool escape;
    } CASES[] = {
        {"hspy read lit", false},     {"hspy read lit\\x01-esc", true},
        {"filter: ~u lit", false},    {"filter: ~u lit\\x02-esc", true},
        {"intercept: ~h lit", false}, {"intercept: ~h lit\\x03-esc", true},
    };
    struct canvas_line l;
    canvas_line_init(&l, 200);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    const char *t = (const char *)l.text.data;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const char *p = strstr(t, CASES[i].prefix);
        if (!p)
            fail_msg("case %zu: no '%s' in '%s'", i, CASES[i].prefix, t);
        size_t off = (size_t)(p - t) + strlen(CASES[i].prefix);
        assert_int_equal(strncmp(t + off, "\\x0", 3), 0);
        if ((canvas_style_at(&l, off) == STYLE_ESCAPE) != CASES[i].escape)
            fail_msg("case %zu: '%s' is %s", i, t + off, CASES[i].escape ? "plain" : "marked");
    }
    canvas_line_cleanup(&l);
}

static void test_statusbar(void **state)
{
    (void)state;
    struct store_counters c = {
        .added = 1234, .with_warnings = 3, .evicted = 7, .bytes = 5 << 20, .held = 1};
    struct statusbar s = {.title = "listen 127.0.0.1:8000\x1b[2J",
                          .counters = &c,
                          .live = 1204,
                          .shown = 31,
                          .filtered = true,
                          .follow = true,
                          .sort = "status",
                          .descending = true,
                          .filter = "~c 5xx",
                          .filtering = -1,
                          .deleting = -1};
    struct canvas_line l;
    canvas_line_init(&l, 250);
    canvas_line_reset(&l, 200, 0);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    const char *t = (const char *)l.text.data;
    assert_non_null(strstr(t, "hspy listen 127.0.0.1:8000\\x1b[2J"));
    assert_non_null(strstr(t, "31 of 1,204 flows"));
    assert_non_null(strstr(t, "⚠ 3"));
    assert_non_null(strstr(t, "held 1"));
    assert_non_null(strstr(t, "evicted 7"));
    assert_non_null(strstr(t, "5.0MiB"));
    assert_non_null(strstr(t, "follow ●"));
    assert_non_null(strstr(t, "sort status▼"));
    assert_non_null(strstr(t, "filter: ~c 5xx"));
    assert_null(strstr(t, "conns"));
    assert_null(strstr(t, "intercept"));
    assert_null(strstr(t, "sorting"));
    s.intercept = "~m POST\x1b[2J";
    canvas_line_reset(&l, 250, 0);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    assert_non_null(strstr((const char *)l.text.data, "intercept: ~m POST\\x1b[2J"));
    /* Every item at once fits the bar's room for items, narrow or wide. */
    struct statusbar all = s;
    all.loading = true, all.done = 10, all.total = 100, all.rate = 5, all.gaps = 2;
    all.marked = 4, all.filtering = 50, all.sorting = "host", all.deleting = 20;
    all.server = true, all.conns = 3, all.refused = 1, all.failed = 1;
    for (int w = 20; w <= 250; w += 115) {
        canvas_line_reset(&l, w, 0);
        statusbar_render(&all, &GLYPHS_UTF8, &l);
        assert_true(l.cells <= w);
    }
    s.intercept = NULL;
    s.sorting = "host", s.sorting_percent = 42;
    canvas_line_reset(&l, 250, 0);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    assert_non_null(strstr((const char *)l.text.data, "sorting by host 42%"));
    assert_null(strstr((const char *)l.text.data, "deleting"));
    s.sorting = NULL, s.deleting = 37;
    canvas_line_reset(&l, 250, 0);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    assert_non_null(strstr((const char *)l.text.data, "deleting 37%"));
    s.deleting = -1;
    s.server = true, s.conns = 12, s.refused = 3;
    canvas_line_reset(&l, 250, 0);
    statusbar_render(&s, &GLYPHS_UTF8, &l);
    t = (const char *)l.text.data;
    assert_non_null(strstr(t, "conns 12"));
    assert_non_null(strstr(t, "refused 3"));
    s.server = false, s.refused = 0;
    /* Narrower: the least important items go first; the title and count stay. */
    for (int w = 20; w < 200; w++) {
        canvas_line_reset(&l, w, 0);
        statusbar_render(&s, &GLYPHS_UTF8, &l);
        assert_true(l.cells <= w);
        t = (const char *)l.text.data;
        if (w >= 80) {
            assert_non_null(strstr(t, "31 of 1,204 flows"));
            assert_non_null(strstr(t, "filter"));
        }
        if (w < 120)
            assert_null(strstr(t, "sort status"));
    }
    /* A title too long for the bar (a file read) gives way in its middle, keeping the file's
     * name: the flow count stays. */
    struct statusbar r = {.title = "read /a/long/way/down/to/the/folder/of/the/capture.pcap",
                          .counters = &(struct store_counters){.with_warnings = 2},
                          .live = 2,
                          .filtering = -1,
                          .deleting = -1};
    for (int w = 30; w < 70; w++) {
        canvas_line_reset(&l, w, 0);
        statusbar_render(&r, &GLYPHS_UTF8, &l);
        t = (const char *)l.text.data;
        assert_true(l.cells <= w);
        if (strncmp(t, " hspy read", 10) != 0 || !strstr(t, "…") || !strstr(t, "2 flows") ||
            (w >= 44 && !strstr(t, "capture.pcap")))
            fail_msg("width %d: '%s'", w, t);
    }
    /* Loading: a progress bar. */
    s.loading = true;
    s.done = 57, s.total = 100, s.gaps = 3;
    canvas_line_reset(&l, 200, 0);
    statusbar_render(&s, &GLYPHS_ASCII, &l);
    assert_non_null(strstr((const char *)l.text.data, "###########.........  57%"));
    assert_non_null(strstr((const char *)l.text.data, "gaps 3"));
    /* A stream (a pipe): no size, so no bar and no percentage; bytes and packets, and once it
     * ended, that it did. */
    s.stream = true;
    s.done = 2800, s.total = 0, s.packets = 1234;
    canvas_line_reset(&l, 200, 0);
    statusbar_render(&s, &GLYPHS_ASCII, &l);
    assert_non_null(strstr((const char *)l.text.data, "stream 2.7KiB, 1,234 packets"));
    assert_null(strstr((const char *)l.text.data, "%"));
    s.loading = false;
    canvas_line_reset(&l, 200, 0);
    statusbar_render(&s, &GLYPHS_ASCII, &l);
    assert_non_null(strstr((const char *)l.text.data, "end of input: 2.7KiB, 1,234 packets"));
    /* A HAR document on a pipe counts its entries. */
    s.entries = true;
    for (uint64_t k = 1; k <= 2; k++) {
        s.packets = k;
        canvas_line_reset(&l, 200, 0);
        statusbar_render(&s, &GLYPHS_ASCII, &l);
        assert_non_null(
            strstr((const char *)l.text.data, k == 1 ? "2.7KiB, 1 entry" : "2.7KiB, 2 entries"));
    }
    char buf[32];
    assert_string_equal(statusbar_count(1234567, buf, sizeof buf), "1,234,567");
    assert_string_equal(statusbar_count(12, buf, sizeof buf), "12");
    canvas_line_cleanup(&l);
}

/* The Raw tab of sides without a single mark (no head, no gap, nothing received): every byte
 * shown, and no sort of an empty mark list (a null array, which qsort must never be given). */
static void test_raw_unmarked(void **state)
{
    (void)state;
    static const struct {
        const char *req, *resp; /* resp NULL: never answered */
        size_t min_lines;
    } CASES[] = {
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", NULL, 1},
        {"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", NULL, 2},
        {"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "SSH-2.0-OpenSSH\r\n\x1b[2J", 3},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        struct store store;
        store_init(&store, 10, (size_t)-1);
        struct synth s;
        synth_init(&s, &store, 1 << 20);
        synth_exchange(&s, CASES[i].req, strlen(CASES[i].req), CASES[i].resp,
                       CASES[i].resp ? strlen(CASES[i].resp) : 0, 1000000000, 1000);
        synth_close(&s);
        const struct exchange *ex = store_get(&store, 1);
        assert_non_null(ex);
        struct http_limits limits = HTTP_LIMITS_DEFAULT;
        struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, 100, true, 0, 0, false, NULL};
        struct doc d;
        doc_init(&d);
        wiretext_build(&d, &c);
        doc_index(&d, 0);
        assert_true(doc_lines(&d) >= CASES[i].min_lines);
        doc_cleanup(&d);
        synth_cleanup(&s);
        store_cleanup(&store);
    }
}

/* Every line of d as text, '\n' after each (caller frees). */
static char *doc_text(struct doc *d)
{
    doc_index(d, 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 24);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    for (size_t i = 0; i < doc_lines(d); i++) {
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        doc_render(d, i, &l);
        dynbuf_append(&out, l.text.data ? l.text.data : (const uint8_t *)"", l.text.len);
        dynbuf_addc(&out, '\n');
    }
    canvas_line_cleanup(&l);
    return dynbuf_take(&out);
}

/* One exchange in a fresh store: the request, and the response unless NULL. */
static const struct exchange *one_exchange(struct store *store, struct synth *s, const char *req,
                                           const char *resp)
{
    store_init(store, 10, (size_t)-1);
    synth_init(s, store, 1 << 20);
    synth_exchange(s, req, strlen(req), resp, resp ? strlen(resp) : 0, 1000000000, 1000);
    synth_close(s);
    return store_get(store, 1);
}

/* The Raw tab draws CR and LF as the glyph set says: symbols in UTF-8; in ASCII the escapes, and
 * no byte that an ASCII terminal would show as mojibake (a non-UTF-8 locale). */
static void test_raw_glyphs(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /file1 HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\xc3\xa9!");
    assert_non_null(ex);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    const struct glyphs *sets[] = {&GLYPHS_UTF8, &GLYPHS_ASCII};
    for (size_t k = 0; k < 2; k++) {
        struct detail_ctx c = {&store, ex, sets[k], &limits, 100, true, 0, 0, false, NULL};
        struct doc d;
        doc_init(&d);
        wiretext_build(&d, &c);
        char *text = doc_text(&d);
        if (k == 0) {
            assert_non_null(strstr(text, "GET /file1 HTTP/1.1␍␊"));
        } else {
            assert_non_null(strstr(text, "GET /file1 HTTP/1.1\\r\\n"));
            assert_non_null(strstr(text, "\\xc3\\xa9!"));
            for (const char *p = text; *p; p++)
                assert_true((unsigned char)*p < 0x80);
        }
        free(text);
        doc_cleanup(&d);
    }
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* Line `line` of d as text (a static buffer), scrolled sideways by skip cells. */
static const char *line_text_at(struct doc *d, size_t line, int skip)
{
    static char buf[512];
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_line_reset(&l, CANVAS_UNLIMITED, skip);
    doc_render(d, line, &l);
    snprintf(buf, sizeof buf, "%.*s", (int)l.text.len, l.text.data ? (char *)l.text.data : "");
    canvas_line_cleanup(&l);
    return buf;
}

/* Line `line` of d as text (a static buffer). */
static const char *line_text(struct doc *d, size_t line)
{
    return line_text_at(d, line, 0);
}

/* The first line of d whose text has needle (the test fails when none has). */
static size_t find_line(struct doc *d, const char *needle)
{
    size_t line = 0;
    while (line < doc_lines(d) && !strstr(line_text(d, line), needle))
        line++;
    if (line == doc_lines(d))
        fail_msg("no line has '%s'", needle);
    return line;
}

/* A tab of ex at 100 columns, built into d by build (the caller cleans d up); its text, to free. */
static char *tab_text(struct doc *d, void (*build)(struct doc *, const struct detail_ctx *),
                      struct store *store, const struct exchange *ex)
{
    static const struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct detail_ctx c = {store, ex, &GLYPHS_UTF8, &limits, 100, true, 0, 0, false, NULL};
    doc_init(d);
    build(d, &c);
    return doc_text(d);
}

/* The Hex tab after a capture gap: offsets are wire offsets as in Raw and the warnings, a gap
 * line stands where bytes are missing, and a wire offset locates the row holding it. */
static void test_hex_gap(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    /* Head 40 bytes; body 30 bytes of 'a' (wire 40-69), 20 lost (70-89), 50 of 'b' (90-139). */
    char resp[128], rest[51];
    snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n%030d", 0);
    memset(resp + 40, 'a', 30);
    memset(rest, 'b', 50);
    store_init(&store, 10, (size_t)-1);
    synth_init(&s, &store, 1 << 20);
    const char *req = "GET /f HTTP/1.1\r\nHost: h\r\n\r\n";
    synth_exchange(&s, req, strlen(req), resp, 70, 1000000000, 1000);
    conversation_gap(s.conv, SIDE_SERVER, 20, 1000002000);
    conversation_feed(s.conv, SIDE_SERVER, (const uint8_t *)rest, 50, 1000003000);
    synth_close(&s);
    const struct exchange *ex = store_get(&store, 1);
    assert_non_null(ex);
    assert_int_equal(ex->resp.raw.len, 120);
    assert_int_equal(ex->resp.gap_bytes, 20);
    struct doc d;
    char *text = tab_text(&d, hexdump_build, &store, ex);
    assert_non_null(strstr(text, "00000040  61 61 61 61 61 61"));
    assert_non_null(strstr(text, "|aaaaaa|\n░ capture gap: 20 bytes missing (offset 70)\n"
                                 "0000005a  62 62 62 62 62 62 62 62  62 62"));
    assert_non_null(strstr(text, "0000008a  62 62    "));
    free(text);
    /* Wire offsets (a warning's) locate their row; one inside the gap its gap line. */
    static const struct {
        uint64_t wire;
        const char *starts;
    } CASES[] = {
        {0, "00000000  48 54"}, {69, "00000040  61"},   {70, "░ capture gap"},
        {89, "░ capture gap"},  {95, "0000005a  62"},   {106, "0000006a  62"},
        {139, "0000008a  62"},  {5000, "0000008a  62"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const char *t = line_text(&d, d.locate(&d, 1, CASES[i].wire));
        if (strncmp(t, CASES[i].starts, strlen(CASES[i].starts)) != 0)
            fail_msg("wire %llu: \"%s\"", (unsigned long long)CASES[i].wire, t);
    }
    /* The gap line stays whole while the rows scroll sideways, in Hex and in Raw. */
    const char *scrolled = line_text_at(&d, d.locate(&d, 1, 70), 8);
    if (strncmp(scrolled, "░ capture gap: 20 bytes missing", 33) != 0)
        fail_msg("Hex, scrolled by 8: '%s'", scrolled);
    doc_cleanup(&d);
    /* Raw shows the same offsets: the bytes after the gap start at 90 there too. */
    free(tab_text(&d, wiretext_build, &store, ex));
    assert_int_equal(strncmp(line_text(&d, d.locate(&d, 1, 95)), "     90 bbbb", 12), 0);
    scrolled = line_text_at(&d, find_line(&d, "capture gap"), 8);
    if (!strstr(scrolled, "░ capture gap: 20 bytes missing (offset 70)"))
        fail_msg("Raw, scrolled by 8: '%s'", scrolled);
    doc_cleanup(&d);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* The Request tab of a response whose request a capture lost whole says it was lost, not that
 * there was none. */
static void test_lost_request_tab(void **state)
{
    (void)state;
    struct store store;
    store_init(&store, 10, (size_t)-1);
    struct exchange *ex =
        tu_exchange_text(NULL, "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n", 1);
    struct doc d;
    char *text = tab_text(&d, msgtext_build_request, &store, ex);
    assert_non_null(strstr(text, "(no request)"));
    free(text);
    doc_cleanup(&d);
    ex->req.flags |= MSG_LOST | MSG_SNAPLEN;
    text = tab_text(&d, msgtext_build_request, &store, ex);
    assert_non_null(strstr(text, "(the request was lost: the capture cut the packet"));
    free(text);
    doc_cleanup(&d);
    exchange_free(ex);
    store_cleanup(&store);
}

/* A search in a detail body: "/re/" is a regular expression (POSIX extended, smart case), in the
 * body's lines and the head's alike; anything else is plain text. */
static void test_body_regex(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /t HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 36\r\n\r\n"
                     "line 001990\nline 002000\nline 003010\n");
    assert_non_null(ex);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, 100, true, 0, 0, false, NULL};
    struct doc d;
    doc_init(&d);
    msgtext_build_response(&d, &c);
    doc_index(&d, 0);
    size_t last = doc_lines(&d) - 1;
    static const struct {
        const char *needle, *line; /* line NULL: not found */
    } CASES[] = {
        {"/line 0020[0-9]0/", "line 002000"},
        {"/LINE 0020[0-9]0/", NULL}, /* a capital letter: exact case */
        {"/line 00(20|30)10$/", "line 003010"},
        {"/^content-type: +text/", "Content-Type: text/plain"},
        {"line 0020[0-9]0", NULL}, /* without slashes: plain text */
        {"/line 00[/", NULL},      /* does not compile: nothing matches */
        {"line 002000", "line 002000"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        size_t at = doc_search(&d, CASES[i].needle, last, 1);
        if (!CASES[i].line) {
            if (at != (size_t)-1)
                fail_msg("%s: found \"%s\"", CASES[i].needle, line_text(&d, at));
            continue;
        }
        if (at == (size_t)-1 || strstr(line_text(&d, at), CASES[i].line) == NULL)
            fail_msg("%s: not found", CASES[i].needle);
        /* Backward from the end too. */
        at = doc_search(&d, CASES[i].needle, 0, -1);
        if (at == (size_t)-1 || strstr(line_text(&d, at), CASES[i].line) == NULL)
            fail_msg("%s: not found backward", CASES[i].needle);
    }
    doc_cleanup(&d);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* A UTF-8 text body that starts with a byte order mark: the Response tab shows the text without
 * it and its heading says it is there; Raw and Hex show its bytes as they crossed the wire. */
static void test_utf8_bom(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /bom HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                     "8\r\n\r\n\xef\xbb\xbfhello");
    assert_non_null(ex);
    struct doc d;
    char *text = tab_text(&d, msgtext_build_response, &store, ex);
    assert_non_null(strstr(text, "view: text, utf-8 with BOM"));
    assert_non_null(strstr(text, "\nhello\n"));
    assert_null(strstr(text, "feff"));
    free(text);
    doc_cleanup(&d);
    text = tab_text(&d, wiretext_build, &store, ex);
    assert_non_null(strstr(text, "\\u{feff}hello"));
    free(text);
    doc_cleanup(&d);
    text = tab_text(&d, hexdump_build, &store, ex);
    assert_non_null(strstr(text, "ef bb bf 68"));
    free(text);
    doc_cleanup(&d);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* A chunked body's trailer fields are shown under the head, said to come after the body, their
 * bytes escaped. */
static void test_trailer_section(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /t HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                     "5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Esc: \x1b[2J\r\n\r\n");
    assert_non_null(ex);
    struct doc d;
    char *text = tab_text(&d, msgtext_build_response, &store, ex);
    const char *section = strstr(text, "trailer section, sent after the body");
    if (!section || !strstr(section, "\nX-Sum: abc\nX-Esc: \\x1b[2J\n") ||
        strstr(section, "hello") < section)
        fail_msg("no trailer section before the body in:\n%s", text);
    assert_null(strchr(text, 0x1b));
    free(text);
    doc_cleanup(&d);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* A chunked body's chunk extensions are shown beside its trailer section, one line per size
 * line that had any, their bytes escaped (an escape drawn apart from text); the size lines past
 * those kept are counted. */
static void test_chunk_extensions(void **state)
{
    (void)state;
    static const struct {
        const char *chunks; /* the chunked body, last chunk and trailer included */
        const char *lines;  /* the section's lines, "" for none */
    } CASES[] = {
        {"5\r\nhello\r\n0\r\n\r\n", ""},
        {"5;a=1\r\nhello\r\n3 ; q=\"x y\"\r\nabc\r\n0;end\r\n\r\n",
         "chunk 1 (5 bytes): ;a=1\nchunk 2 (3 bytes):  ; q=\"x y\"\nlast chunk: ;end\n"},
        {"2;e=\x1b[2J\r\nhi\r\n0\r\n\r\n", "chunk 1 (2 bytes): ;e=\\x1b[2J\n"},
        {"1;a\r\nx\r\n1;b\r\nx\r\n1;c\r\nx\r\n1;d\r\nx\r\n1;e\r\nx\r\n1;f\r\nx\r\n1;g\r\nx\r\n"
         "1;h\r\nx\r\n1;i\r\nx\r\n0;j\r\n\r\n",
         "chunk 8 (1 byte): ;h\n✂ 2 more size lines had extensions, not kept\n"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char resp[1024];
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 CASES[i].chunks);
        struct store store;
        struct synth s;
        const struct exchange *ex =
            one_exchange(&store, &s, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n", resp);
        assert_non_null(ex);
        struct doc d;
        char *text = tab_text(&d, msgtext_build_response, &store, ex);
        const char *section = strstr(text, "chunk extensions, sent on the chunk-size lines");
        const char *body = strstr(text, "body: ");
        if (!*CASES[i].lines ? section != NULL
                             : !section || !strstr(section, CASES[i].lines) || body < section)
            fail_msg("case %zu: no such section before the body:\n%s\nin:\n%s", i, CASES[i].lines,
                     text);
        assert_null(strchr(text, 0x1b));
        /* The escape is drawn apart from text, as every escape of network bytes is. */
        const char *esc = strstr(text, "\\x1b");
        if (esc) {
            size_t line = find_line(&d, "\\x1b");
            struct canvas_line l;
            canvas_line_init(&l, CANVAS_UNLIMITED);
            doc_render(&d, line, &l);
            const char *t = (const char *)l.text.data;
            assert_int_equal(canvas_style_at(&l, (size_t)(strstr(t, "\\x1b") - t)), STYLE_ESCAPE);
            canvas_line_cleanup(&l);
        }
        free(text);
        doc_cleanup(&d);
        synth_cleanup(&s);
        store_cleanup(&store);
    }
}

/* The note under a body's heading names a content coding the response sent: through termsafe,
 * its escapes marked, never the bytes themselves. */
static void test_coding_note_escaped(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Encoding: zz\x1b[2J\r\nContent-Length: "
                     "2\r\n\r\nhi");
    assert_non_null(ex);
    static const struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, 100, false, 0, 1 << 20, false, NULL};
    struct doc d;
    doc_init(&d);
    msgtext_build_response(&d, &c);
    char *text = doc_text(&d);
    assert_null(strchr(text, 0x1b));
    const char *note = "unknown content coding \"zz";
    size_t line = find_line(&d, note);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    doc_render(&d, line, &l);
    const char *t = (const char *)l.text.data;
    const char *p = strstr(t, note);
    assert_non_null(p);
    assert_int_equal(canvas_style_at(&l, (size_t)(p - t) + strlen(note)), STYLE_ESCAPE);
    canvas_line_cleanup(&l);
    free(text);
    doc_cleanup(&d);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* The line describing a body wraps between its items on a narrow screen (indented under it)
 * rather than run past the screen's edge, where its end (the framing, the coding) was cut off;
 * the view then has a line of its own. */
static void test_body_line_wraps(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    const struct exchange *ex =
        one_exchange(&store, &s, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: br\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assert_non_null(ex);
    static const struct http_limits limits = HTTP_LIMITS_DEFAULT;
    static const struct {
        int width;
        const char *lines; /* the description and the view, as shown */
    } CASES[] = {
        {120, "── body: 5 bytes, application/json, chunked (1 chunk), coding br (as sent); "
              "view: text, utf-8 ──\n"},
        {80, "── body: 5 bytes, application/json, chunked (1 chunk), coding br (as sent)\n"
             "── view: text, utf-8 ──\n"},
        {40, "── body: 5 bytes, application/json,\n"
             "   chunked (1 chunk), coding br\n"
             "   (as sent)\n"
             "── view: text, utf-8 ──\n"},
        {30, "── body: 5 bytes,\n"
             "   application/json, chunked\n"
             "   (1 chunk), coding br\n"
             "   (as sent)\n"
             "── view: text, utf-8 ──\n"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, CASES[i].width,
                               true,   0,  1 << 20,      false,   NULL};
        struct doc d;
        doc_init(&d);
        msgtext_build_response(&d, &c);
        char *text = doc_text(&d);
        if (!strstr(text, CASES[i].lines))
            fail_msg("width %d: no\n%s\nin\n%s", CASES[i].width, CASES[i].lines, text);
        free(text);
        doc_cleanup(&d);
    }
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* A body view chosen with v belongs to the flow it was chosen on: it stays while the detail
 * view shows that flow (tabs, redraws, the same flow opened again) and another flow, or the
 * same one opened after the view was closed, opens in its automatic view. */
static void test_body_view_per_flow(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    one_exchange(&store, &s, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
    synth_init(&s, &store, 1 << 20);
    synth_exchange(&s, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n", 28, NULL, 0, 2000000000, 1000);
    synth_close(&s);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct detail dt;
    detail_init(&dt, &store, &limits, &GLYPHS_UTF8, 1 << 20);
    detail_open(&dt, 1);
    dt.body = BODYVIEW_HEX; /* what v does */
    detail_set_tab(&dt, 1);
    detail_open(&dt, 1);
    assert_int_equal(dt.body, BODYVIEW_HEX);
    detail_open(&dt, 2); /* J: the next flow */
    assert_int_equal(dt.body, BODYVIEW_AUTO);
    dt.body = BODYVIEW_TEXT;
    detail_close(&dt); /* back to the list, then Enter on the same flow */
    detail_open(&dt, 2);
    assert_int_equal(dt.body, BODYVIEW_AUTO);
    detail_cleanup(&dt);
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* The Hex tab of a message whose body was kept only in part: the heading and a closing line say
 * how many bytes crossed the wire and how many were not kept, as Raw does (Hex used to show the
 * kept size alone, as if it were the message's). In both, that line stays whole when the bytes
 * are scrolled sideways. */
static void test_hex_cut(void **state)
{
    (void)state;
    struct store store;
    struct synth s;
    char resp[300];
    int n = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n");
    memset(resp + n, 'z', 200);
    store_init(&store, 10, (size_t)-1);
    synth_init(&s, &store, 64); /* 64 body bytes kept */
    const char *req = "GET /f HTTP/1.1\r\nHost: h\r\n\r\n";
    synth_exchange(&s, req, strlen(req), resp, (size_t)n + 200, 1000000000, 1000);
    synth_close(&s);
    const struct exchange *ex = store_get(&store, 1);
    assert_non_null(ex);
    assert_int_equal(ex->resp.wire_bytes, (uint64_t)n + 200);
    assert_int_equal(ex->resp.raw.len, (size_t)n + 64);
    struct doc d;
    char *text = tab_text(&d, hexdump_build, &store, ex);
    assert_non_null(strstr(text, "[client → server, 28 bytes]\n"));
    assert_non_null(strstr(text, "[server → client, 240 bytes on the wire, 104 kept]\n"));
    assert_non_null(
        strstr(text, "|zzzzzzzz|\n✂ 136 more bytes crossed the wire but were not kept"));
    free(text);
    doc_cleanup(&d);
    void (*const builds[])(struct doc *, const struct detail_ctx *) = {hexdump_build,
                                                                       wiretext_build};
    for (size_t b = 0; b < 2; b++) {
        free(tab_text(&d, builds[b], &store, ex));
        const char *scrolled = line_text_at(&d, find_line(&d, "more bytes crossed"), 8);
        if (!strstr(scrolled, "✂ 136 more bytes crossed the wire but were not kept"))
            fail_msg("tab %zu, scrolled by 8: '%s'", b, scrolled);
        doc_cleanup(&d);
    }
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* Hex rows fit narrow terminals: 16, 8 or 4 bytes a row, the ASCII column kept, in a body's hex
 * view and in the Hex tab. */
static void test_hex_narrow(void **state)
{
    (void)state;
    char resp[160];
    int head = snprintf(resp, sizeof resp,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Length: 40\r\n\r\n");
    for (int i = 0; i < 40; i++)
        resp[head + i] = (char)(i + 1);
    resp[head + 40] = '\0';
    struct store store;
    struct synth s;
    store_init(&store, 10, (size_t)-1);
    synth_init(&s, &store, 1 << 20);
    const char *req = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    synth_exchange(&s, req, strlen(req), resp, (size_t)head + 40, 1000000000, 1000);
    synth_close(&s);
    const struct exchange *ex = store_get(&store, 1);
    assert_non_null(ex);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    static const struct {
        bool tab; /* the Hex tab, else the body of the Response tab */
        int width;
        const char *row;
    } CASES[] = {
        {false, 100,
         "00000000  01 02 03 04 05 06 07 08  09 0a 0b 0c 0d 0e 0f 10 |................|"},
        {false, 50, "00000000  01 02 03 04  05 06 07 08 |........|"},
        {false, 40, "00000000  01 02  03 04 |....|"},
        {true, 100,
         "00000000  47 45 54 20 2f 62 20 48  54 54 50 2f 31 2e 31 0d |GET /b HTTP/1.1.|"},
        {true, 50, "00000000  47 45 54 20  2f 62 20 48 |GET /b H|"},
        {true, 40, "00000000  47 45  54 20 |GET |"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, CASES[i].width, true,
                               0,      0,  false,        NULL};
        struct doc d;
        doc_init(&d);
        if (CASES[i].tab)
            hexdump_build(&d, &c);
        else
            msgtext_build_response(&d, &c);
        char *text = doc_text(&d);
        if (!strstr(text, CASES[i].row))
            fail_msg("width %d: no row \"%s\" in\n%s", CASES[i].width, CASES[i].row, text);
        free(text);
        doc_cleanup(&d);
    }
    synth_cleanup(&s);
    store_cleanup(&store);
}

/* --save-bodies: the Response tab says where the body's file is, whole or partial, and says
 * nothing when there is no file (nor without the option). */
static void test_saved_body_note(void **state)
{
    (void)state;
    struct store store;
    store_init(&store, 10, (size_t)-1);
    struct synth s;
    synth_init(&s, &store, 1 << 20);
    const char *req = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 2\r\n\r\n{}";
    synth_exchange(&s, req, strlen(req), resp, strlen(resp), 1000000000, 1000);
    synth_close(&s);
    const struct exchange *ex = store_get(&store, 1);
    assert_non_null(ex);
    char dir[] = "/tmp/hspy-test-saved-XXXXXX", whole[96], partial[96];
    assert_non_null(mkdtemp(dir));
    snprintf(whole, sizeof whole, "%s/1-response.json", dir);
    snprintf(partial, sizeof partial, "%s/1-response.json.partial", dir);
    static const struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct detail_ctx c = {&store, ex, &GLYPHS_UTF8, &limits, 100, true, 0, 0, false, dir};
    char want[128];
    for (int step = 0; step < 4; step++) {
        if (step == 1)
            fclose(fopen(partial, "w"));
        if (step == 2)
            assert_int_equal(rename(partial, whole), 0);
        c.bodies_dir = step == 3 ? NULL : dir;
        struct doc d;
        doc_init(&d);
        msgtext_build_response(&d, &c);
        char *t = doc_text(&d);
        if (step == 1)
            snprintf(want, sizeof want, "── body in %s\n", partial);
        else if (step == 2)
            snprintf(want, sizeof want, "── body whole in %s\n", whole);
        if (step == 1 || step == 2)
            assert_non_null(strstr(t, want));
        else
            assert_null(strstr(t, "── body "));
        free(t);
        doc_cleanup(&d);
    }
    unlink(whole);
    rmdir(dir);
    synth_cleanup(&s);
    store_cleanup(&store);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saved_body_note),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_head_line),
        cmocka_unit_test(test_waterfall_bar),
        cmocka_unit_test(test_statusbar),
        cmocka_unit_test(test_raw_unmarked),
        cmocka_unit_test(test_raw_glyphs),
        cmocka_unit_test(test_hex_gap),
        cmocka_unit_test(test_hex_cut),
        cmocka_unit_test(test_lost_request_tab),
        cmocka_unit_test(test_body_regex),
        cmocka_unit_test(test_hex_narrow),
        cmocka_unit_test(test_body_view_per_flow),
        cmocka_unit_test(test_utf8_bom),
        cmocka_unit_test(test_trailer_section),
        cmocka_unit_test(test_chunk_extensions),
        cmocka_unit_test(test_statusbar_escapes),
        cmocka_unit_test(test_coding_note_escaped),
        cmocka_unit_test(test_body_line_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
