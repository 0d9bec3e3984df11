/*
 * ui: whole screens rendered into a canvas and driven by keys, without a terminal. The list,
 * every detail tab, the warnings jump, search across a body, the help generated from the key
 * table, the filter prompt's inline error, the split layout, mouse clicks, and the guarantee
 * that no byte from the network reaches the screen unescaped, at any size.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/termsafe.h"
#include "hspy/ui.h"
#include "screentest.h"
#include "synth.h"

struct fixture {
    struct store store;
    struct synth synth;
    struct http_limits limits;
    struct ui ui;
    struct canvas canvas;
    struct dynbuf screen;
};

/* A body long enough that its end is far below the first screen. */
static char long_body[8192];

static void add_traffic(struct fixture *f)
{
    int n = 0;
    for (int i = 0; i < 200; i++)
        n += snprintf(long_body + n, sizeof long_body - (size_t)n, "line %03d of the body\n", i);
    memcpy(long_body + n - 21, "needle-at-the-end   \n", 21);
    char resp[9000];
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                      n, long_body);
    static const char *const REQ1 = "GET /first HTTP/1.1\r\nHost: one.test\r\n\r\n";
    static const char *const REQ2 = "POST /typo HTTP/1.1\r\nHost: two.test\r\nContent-Lenght: 5\r\n"
                                    "X-Folded: a\r\n b\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    static const char *const RESP2 = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
    /* An array, not a pointer: the request holds a NUL byte, so its length is sizeof - 1. */
    static const char REQ3[] =
        "GET /\x1b[2J\x1b]0;pwned\x07\xe2\x80\xae\xc2\x9b HTTP/1.1\r\nHost: evil\x1b[31m\r\n"
        "X-\x1b: \x1b[5m\x00\x7f\r\n\r\n";
    static const char *const RESP3 = "HTTP/1.1 200 \x1b[1mOK\r\nContent-Type: text/plain\r\n"
                                     "Content-Length: 13\r\n\r\n\x1b[31mred\x07\x1b]2;";
    synth_connect(&f->synth, 1, 5000);
    synth_exchange(&f->synth, REQ1, strlen(REQ1), resp, (size_t)rl, 1000000000, 3000000);
    synth_connect(&f->synth, 2, 5001);
    synth_exchange(&f->synth, REQ2, strlen(REQ2), RESP2, strlen(RESP2), 2000000000, 4000000);
    synth_connect(&f->synth, 3, 5002);
    synth_exchange(&f->synth, REQ3, sizeof REQ3 - 1, RESP3, strlen(RESP3), 3000000000, 5000000);
    synth_close(&f->synth);
}

static const char *screen(struct fixture *f);

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    store_init(&f->store, 1000, (size_t)-1);
    synth_init(&f->synth, &f->store, 1 << 20);
    f->limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    add_traffic(f);
    struct ui_config cfg = {.title = "test 127.0.0.1:8000",
                            .limits = &f->limits,
                            .body_max = 1 << 20,
                            .glyphs = &GLYPHS_UTF8};
    ui_init(&f->ui, &f->store, &cfg);
    ui_resize(&f->ui, 30, 120);
    canvas_init(&f->canvas, 30, 120);
    dynbuf_init(&f->screen, 1 << 20);
    *state = f;
    screen(f); /* the first frame, as the terminal layer draws before any key */
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ui_cleanup(&f->ui);
    canvas_cleanup(&f->canvas);
    dynbuf_cleanup(&f->screen);
    synth_cleanup(&f->synth);
    store_cleanup(&f->store);
    free(f);
    return 0;
}

/* Renders and returns the screen as text (valid until the next call). */
static const char *screen(struct fixture *f)
{
    return screentest_text(&f->ui, &f->canvas, &f->screen);
}

static void keys(struct fixture *f, const int *k)
{
    for (; *k; k++)
        ui_key(&f->ui, *k);
}

static void type(struct fixture *f, const char *s)
{
    for (; *s; s++)
        ui_key(&f->ui, (unsigned char)*s);
}

#define HAS(text)   screentest_check(&f->ui, &f->canvas, &f->screen, text, true, __LINE__)
#define LACKS(text) screentest_check(&f->ui, &f->canvas, &f->screen, text, false, __LINE__)

static void test_list(void **state)
{
    struct fixture *f = *state;
    HAS("hspy test 127.0.0.1:8000");
    HAS("3 flows");
    HAS("/first");
    HAS("two.test");
    HAS("502");
    HAS("q quit");
    HAS("⚠ 2"); /* the misspelt header and the hostile request */
    assert_int_equal(flowlist_selected(&f->ui.list), 3); /* follow: the newest */
}

static void test_detail_tabs(void **state)
{
    struct fixture *f = *state;
    keys(f, (int[]){'g', KEYMAP_ENTER, 0});
    HAS("[Request]");
    HAS("GET /first HTTP/1.1");
    HAS("q back");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Response]");
    HAS("HTTP/1.1 200 OK");
    HAS("line 000 of the body");
    LACKS("needle-at-the-end");
    /* Search finds text far below the screen and scrolls to it. */
    ui_key(&f->ui, '/');
    type(f, "needle");
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("needle-at-the-end");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Raw]");
    HAS("␍␊");
    HAS("end of head; body: length");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Hex]");
    HAS("00000000  47 45 54 20 2f 66 69 72  73 74 20 48 54 54 50 2f |GET /first HTTP/|");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Timing]");
    HAS("waiting");
    HAS("response_last_byte");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Cache]");
    HAS("Caching (RFC 9111)");
    HAS("private cache (browser)");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("No warnings");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Diff]");
    HAS("Not edited.");
    ui_key(&f->ui, KEYMAP_TAB); /* wraps to the first tab */
    HAS("[Request]");
    ui_key(&f->ui, 'q');
    HAS("q quit");
}

/* On a terminal too narrow for every tab the current one stays in view, the tabs dropped at
 * the left shown by an ellipsis; a click on the tab row reaches only what is shown. */
static void test_narrow_tabs(void **state)
{
    struct fixture *f = *state;
    ui_resize(&f->ui, 12, 40);
    keys(f, (int[]){'g', KEYMAP_ENTER, 0});
    HAS("[Request]");
    static const char *const LATER[] = {"[Response]", "[Raw]",         "[Hex]", "[Timing]",
                                        "[Cache]",    "[Warnings(0)]", "[Diff]"};
    for (size_t i = 0; i < sizeof LATER / sizeof LATER[0]; i++) {
        ui_key(&f->ui, KEYMAP_TAB);
        HAS(LATER[i]);
    }
    HAS("…"); /* Request and others are off to the left */
    LACKS(" Request ");
    assert_int_equal(detail_tab_at(&f->ui.detail, 0), (size_t)-1);
    ui_mouse(&f->ui, UI_CLICK, f->ui.detail.tab_x[5] + 1, f->ui.tabs_y);
    HAS("[Cache]");
    /* The body view's note after the tabs shows whole or not at all: cut, "body:…" says
     * nothing (the body's own line names the view). */
    for (int w = 60; w <= 120; w++) {
        ui_resize(&f->ui, 12, w);
        const char *s = screen(f);
        if (strstr(s, "body:…") || (w >= 110 && !strstr(s, "body: auto, decoded")))
            fail_msg("width %d:\n%s", w, s);
    }
    /* Where the note cannot show, the body's own line still names the view: on a line of its
     * own when the whole line would not fit. */
    keys(f, (int[]){'q', 'g', KEYMAP_ENTER, 0});
    detail_set_tab(&f->ui.detail, 1);
    static const int WIDTHS[] = {40, 60, 80, 120};
    for (size_t i = 0; i < sizeof WIDTHS / sizeof WIDTHS[0]; i++) {
        ui_resize(&f->ui, 12, WIDTHS[i]);
        HAS("[Response]");
        HAS("view: text, utf-8 ──");
        /* At 60 columns and more the body's description is whole on its line too; narrower,
         * it wraps between its items rather than lose its end. */
        if (WIDTHS[i] >= 60) {
            HAS("── body: 4.1k bytes, text/plain, length (as sent)");
        } else {
            HAS("── body: 4.1k bytes, text/plain, length\n   (as sent)\n── view: text, utf-8 ──");
        }
        LACKS("length…");
    }
    ui_resize(&f->ui, 30, 120);
}

/* A search of the detail view goes through a large body in steps (here 256 bytes a frame), the
 * loop going on meanwhile; a key stops it. So does finding the body's end for G. */
static void test_detail_search_in_steps(void **state)
{
    struct fixture *f = *state;
    f->ui.doc_step_budget = 256;
    keys(f, (int[]){'g', KEYMAP_ENTER, KEYMAP_TAB, 0});
    HAS("line 000 of the body");
    /* G: the body's end is found (its lines counted) in steps too, then shown. */
    ui_key(&f->ui, 'G');
    assert_true(f->ui.doc_bottom && ui_busy(&f->ui));
    assert_string_equal(f->ui.message, "finding the end of the body... (any key stops)");
    int frames = 0;
    while (f->ui.doc_bottom && frames < 1000) {
        screen(f);
        frames++;
    }
    assert_true(frames > 3 && frames < 1000);
    HAS("needle-at-the-end");
    LACKS("finding the end");
    ui_key(&f->ui, 'g');
    HAS("line 000 of the body");
    assert_false(ui_search(&f->ui, "needle", 1));
    assert_true(f->ui.doc_searching && ui_busy(&f->ui) && ui_waited_on(&f->ui));
    assert_string_equal(f->ui.message, "searching the body... (any key stops)");
    /* A key stops it where it is. */
    ui_key(&f->ui, 'j');
    assert_false(f->ui.doc_searching);
    assert_false(ui_search(&f->ui, "needle", 1));
    HAS("searching the body"); /* a frame (and a step) on: the view has not moved */
    HAS("line 000 of the body");
    frames = 2;
    while (f->ui.doc_searching && frames < 1000) {
        screen(f);
        frames++;
    }
    assert_true(frames > 5 && frames < 1000); /* about 4 KB of body in 256-byte steps */
    HAS("needle-at-the-end");
    assert_false(ui_busy(&f->ui));
    /* Backward, from there to the top of the body (the view steps back through the body a
     * checkpoint interval at a time: a body this small is one). */
    LACKS("line 000 of the body");
    ui_search(&f->ui, "line 000", -1);
    for (frames = 0; f->ui.doc_searching && frames < 1000; frames++)
        screen(f);
    HAS("line 000 of the body");
    /* A needle nowhere: every byte looked at, then "not found". */
    assert_false(ui_search(&f->ui, "nowhere-at-all", 1));
    while (f->ui.doc_searching)
        screen(f);
    HAS("not found: nowhere-at-all");
}

static void test_warnings_jump(void **state)
{
    struct fixture *f = *state;
    keys(f, (int[]){'g', 'j', KEYMAP_ENTER, KEYMAP_BTAB, KEYMAP_BTAB, 0});
    HAS("[Warnings(");
    HAS("header-name-typo");
    HAS("obs-fold");
    /* Enter on the first warning opens Raw with the offending line under the cursor. */
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("[Raw]");
    struct detail_pos *p = detail_pos(&f->ui.detail);
    assert_int_not_equal(p->cursor, (size_t)-1);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    doc_render(&f->ui.detail.doc, p->cursor, &l);
    assert_non_null(strstr((const char *)l.text.data, "Content-Lenght"));
    /* j moves to the next warning; Enter lands on its line. */
    keys(f, (int[]){KEYMAP_TAB, KEYMAP_TAB, KEYMAP_TAB, KEYMAP_TAB, 'j', KEYMAP_ENTER, 0});
    HAS("[Raw]");
    canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
    doc_render(&f->ui.detail.doc, detail_pos(&f->ui.detail)->cursor, &l);
    assert_non_null(strstr((const char *)l.text.data, " b␍␊"));
    canvas_line_cleanup(&l);
    /* x jumps to the same offset in Hex. */
    keys(f, (int[]){KEYMAP_TAB, KEYMAP_TAB, KEYMAP_TAB, KEYMAP_TAB, 'x', 0});
    HAS("[Hex]");
    ui_key(&f->ui, KEYMAP_ENTER); /* Enter jumps only from the Warnings tab */
    HAS("does nothing here");
}

/* The hint line names only keys that act on the tab shown: the body view and the decoding
 * where a body is shown, the jumps where there is a warning or a finding to jump from. */
static void test_hint_per_tab(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int flow;       /* j presses from the first flow */
        int tabs;       /* Tab presses from Request */
        bool view;      /* "v view" and "d decoded" hinted */
        bool jump;      /* "⏎ jump" and "x hex" hinted */
        const char *on; /* the tab shown */
    } CASES[] = {
        {0, 0, true, false, "[Request]"}, {0, 1, true, false, "[Response]"},
        {0, 2, false, false, "[Raw]"},    {0, 3, false, false, "[Hex]"},
        {0, 4, false, false, "[Timing]"}, {0, 6, false, false, "[Warnings(0)]"},
        {0, 7, false, false, "[Diff]"},   {1, 6, false, true, "[Warnings("},
        {1, 0, true, false, "[Request]"},
    };
    int tab = 0; /* the detail view stays on its tab from one flow to the next */
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        ui_key(&f->ui, 'g');
        for (int k = 0; k < CASES[i].flow; k++)
            ui_key(&f->ui, 'j');
        ui_key(&f->ui, KEYMAP_ENTER);
        for (; tab != CASES[i].tabs; tab = (tab + 1) % (int)DETAIL_NTABS)
            ui_key(&f->ui, KEYMAP_TAB);
        HAS(CASES[i].on);
        HAS("q back");
        static const char *const VIEW[] = {"v view", "d decoded"};
        static const char *const JUMP[] = {"⏎ jump", "x hex"};
        for (int k = 0; k < 2; k++) {
            screentest_check(&f->ui, &f->canvas, &f->screen, VIEW[k], CASES[i].view, __LINE__);
            screentest_check(&f->ui, &f->canvas, &f->screen, JUMP[k], CASES[i].jump, __LINE__);
        }
        ui_key(&f->ui, 'q');
    }
}

/* Keys that act on the selected flow are hinted only while there is one: a filter that matches
 * nothing leaves the list empty (as does a start with no traffic), and the hint line then names
 * none of them. */
static void test_hint_needs_a_flow(void **state)
{
    struct fixture *f = *state;
    static const char *const ON_FLOW[] = {"⏎ open", "m mark"};
    static const struct {
        const char *filter; /* typed at the f prompt ("": none) */
        bool split;         /* s pressed: the detail below the list */
        bool flow;          /* a flow is selected */
    } CASES[] = {
        {"", false, true},
        {"~d nowhere.test", false, false},
        {"~d nowhere.test", true, false},
        {"~c 502", true, true},
        {"", false, true},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        keys(f, (int[]){'f', KEYMAP_CTRL('u'), 0});
        type(f, CASES[i].filter);
        ui_key(&f->ui, KEYMAP_ENTER);
        if (CASES[i].split)
            ui_key(&f->ui, 's');
        HAS("q quit");
        HAS("f filter");
        for (size_t k = 0; k < sizeof ON_FLOW / sizeof ON_FLOW[0]; k++)
            screentest_check(&f->ui, &f->canvas, &f->screen, ON_FLOW[k], CASES[i].flow, __LINE__);
        if (CASES[i].split) {
            screentest_check(&f->ui, &f->canvas, &f->screen, "Tab tab", CASES[i].flow, __LINE__);
            ui_key(&f->ui, 's');
        }
        assert_int_equal(flowlist_selected(&f->ui.list) != 0, CASES[i].flow);
    }
}

/* Scrolling sideways (>) moves the bytes of Raw and Hex, not their offset column, as in a hex
 * viewer; 0 brings the first column back. */
static void test_offsets_stay(void **state)
{
    struct fixture *f = *state;
    keys(f, (int[]){'g', KEYMAP_ENTER, KEYMAP_TAB, KEYMAP_TAB, 0});
    HAS("[Raw]");
    HAS("      0 GET /first HTTP/1.1␍␊");
    ui_key(&f->ui, '>');          /* 8 cells */
    HAS("      0 st HTTP/1.1␍␊"); /* "GET /fir" gone, the offset in its place */
    HAS("     21 e.test␍␊");      /* and "Host: on" on the next line */
    HAS("[client → server, 39 bytes on the wire, 39 kept]"); /* the headings stay whole */
    HAS("[server → client, ");
    ui_key(&f->ui, '0');
    HAS("      0 GET /first HTTP/1.1␍␊");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Hex]");
    HAS("00000000  47 45 54 20 2f 66");
    ui_key(&f->ui, '>');
    HAS("00000000   20 2f 66");    /* "47 45 54" gone, the offset in its place */
    HAS("00000010   0d 0a 48 6f"); /* every row alike */
    HAS("[client → server, 39 bytes]");
    HAS("[server → client, ");
}

static void test_help(void **state)
{
    struct fixture *f = *state;
    ui_key(&f->ui, '?');
    HAS("generated from the key table");
    HAS("Flow list");
    HAS("open the flow in the detail view");
    HAS("q back");
    ui_key(&f->ui, '/');
    type(f, "Everywhere");
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("redraw the screen");
    /* The filter language is in the help too, from the filter's own table. */
    ui_key(&f->ui, '/');
    type(f, "Filter terms");
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("a bare word means ~u");
    ui_key(&f->ui, '/');
    type(f, "~dur");
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("~dur");
    LACKS("not found");
    ui_key(&f->ui, 'q');
    HAS("q quit");
}

/* Search in the help says what search in the detail view says: that it went round the end,
 * that the match found is the only one, or that there is none. */
static void test_help_search(void **state)
{
    struct fixture *f = *state;
    ui_key(&f->ui, '?');
    /* "Everywhere" heads one section only: n finds it again and says so. */
    ui_key(&f->ui, '/');
    screentest_type(&f->ui, "Everywhere\n");
    HAS("Everywhere");
    LACKS("only matching");
    ui_key(&f->ui, 'n');
    HAS("the only matching line: Everywhere");
    /* "quit hspy" is on several lines: N from the first goes round to the last. */
    ui_key(&f->ui, 'g');
    ui_key(&f->ui, '/');
    screentest_type(&f->ui, "quit hspy\n");
    LACKS("search wrapped");
    ui_key(&f->ui, 'N');
    HAS("search wrapped to the bottom");
    ui_key(&f->ui, 'n');
    HAS("search wrapped to the top");
    ui_key(&f->ui, '/');
    screentest_type(&f->ui, "no such key anywhere\n");
    HAS("not found: no such key anywhere");
}

static unsigned no_answer(struct ui *ui, void *data)
{
    (void)ui, (void)data;
    return UI_REDRAW;
}

static unsigned no_choice(struct ui *ui, int key, void *data)
{
    (void)ui, (void)key, (void)data;
    return UI_REDRAW;
}

/* Whether the bottom line holds text after `prefix`, drawn as an escape termsafe wrote. */
static bool bottom_escape_after(struct fixture *f, const char *prefix)
{
    screen(f);
    const struct canvas_line *l = &f->canvas.line[f->canvas.rows - 1];
    const char *t = l->text.data ? (const char *)l->text.data : "";
    const char *p = strstr(t, prefix);
    if (!p)
        fail_msg("no '%s' on the bottom line '%s'", prefix, t);
    return canvas_style_at(l, (size_t)(p - t) + strlen(prefix)) == STYLE_ESCAPE;
}

/* A question names a file the user typed or gave: its bytes go through termsafe, and the
 * escapes are drawn apart as everywhere else (the same characters typed are text). */
static void test_question_escapes(void **state)
{
    struct fixture *f = *state;
    ui_confirm(&f->ui, "a\\x1bb\x1b[2J exists: replace it?", no_answer, NULL);
    HAS("a\\x1bb\\x1b[2J exists: replace it?");
    assert_false(bottom_escape_after(f, " a"));
    assert_true(bottom_escape_after(f, "x1bb"));
    ui_key(&f->ui, 'n');
    static const struct ui_choice C[] = {{'y', "yes"}};
    ui_choose(&f->ui, "write to \abell?", C, 1, no_choice, NULL);
    HAS("write to \\x07bell?");
    assert_true(bottom_escape_after(f, "write to "));
    ui_key(&f->ui, KEYMAP_ESC);
}

/* A question and its answers wider than the screen: every answer stays on screen (wrapped on
 * the lines above the bottom one, the question above them), down to the narrowest screen with
 * room for them, and the status bar is never covered. */
static void test_question_narrow(void **state)
{
    struct fixture *f = *state;
    static const struct ui_choice C[] = {
        {'c', "curl command"}, {'r', "raw request"}, {'R', "raw response"},
        {'n', "nc script"},    {'b', "body"},
    };
    static const char *const WANT[] = {"export #3 as:",  "c curl command", "r raw request",
                                       "R raw response", "n nc script",    "b body",
                                       "Esc cancel"};
    for (int w = 120; w >= 20; w -= 5) {
        ui_resize(&f->ui, 24, w);
        ui_choose(&f->ui, "export #3 as:", C, 5, no_choice, NULL);
        for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++)
            if (!strstr(screen(f), WANT[i]))
                fail_msg("width %d lacks '%s':\n%s", w, WANT[i], screen(f));
        if (strncmp(screen(f), " hspy", 5) != 0)
            fail_msg("width %d: the status bar covered:\n%s", w, screen(f));
        for (int y = 0; y < f->canvas.rows; y++)
            assert_true(f->canvas.line[y].cells <= w);
        ui_key(&f->ui, KEYMAP_ESC);
    }
    /* A message said with the question stays above it. */
    ui_resize(&f->ui, 24, 60);
    ui_choose(&f->ui, "export #3 as:", C, 5, no_choice, NULL);
    ui_message(&f->ui, STYLE_MESSAGE, "said with the question");
    HAS(" said with the question\n export #3 as:\n");
    ui_key(&f->ui, KEYMAP_ESC);
    /* A question without a name, too wide for one line with its answers: both stay whole. */
    ui_resize(&f->ui, 24, 40);
    ui_confirm(&f->ui, "delete every completed flow?", no_answer, NULL);
    HAS(" delete every completed flow?");
    HAS(" y yes   any other key: no");
    ui_key(&f->ui, 'n');
    ui_resize(&f->ui, 30, 120);
}

/* A message wider than the screen wraps over the view's last rows rather than lose its end,
 * which says what happened (the reason); past three lines, the middle of the last gives way. */
static void test_message_narrow(void **state)
{
    struct fixture *f = *state;
    ui_resize(&f->ui, 24, 60);
    ui_message(&f->ui, STYLE_ERROR, "export: %s: No such file or directory",
               "out/a-rather-long-directory-name/of-many-parts/req.http");
    HAS("\n export:\n out/a-rather-long-directory-name/of-many-parts/req.http: No\n"
        " such file or directory\n");
    HAS("q quit"); /* the hint line stays */
    ui_resize(&f->ui, 24, 20);
    HAS("\n export:\n");
    HAS("…");
    HAS("or directory\n"); /* the end of the last line */
    for (int y = 0; y < f->canvas.rows; y++)
        assert_true(f->canvas.line[y].cells <= 20);
    ui_resize(&f->ui, 30, 120);
}

static void test_filter_prompt(void **state)
{
    struct fixture *f = *state;
    ui_key(&f->ui, 'f');
    HAS("filter: ");
    HAS("Esc cancel");
    type(f, "~zz(");
    /* The filter module's error shows under the text with a caret (whatever its wording). */
    HAS("^ ");
    ui_key(&f->ui, KEYMAP_ENTER); /* refused: the prompt stays */
    assert_true(f->ui.prompting);
    ui_key(&f->ui, KEYMAP_ESC);
    assert_false(f->ui.prompting);
    /* A good one narrows the list; the status bar names it. */
    ui_key(&f->ui, 'f');
    type(f, "~m POST | ~c 502");
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("1 of 3 flows");
    HAS("filter: ~m POST | ~c 502");
    LACKS("/first");
    /* Recalled from the history with Up. */
    keys(f, (int[]){'f', KEYMAP_CTRL('u'), KEYMAP_UP, 0});
    HAS("filter: ~m POST | ~c 502");
    ui_key(&f->ui, KEYMAP_ESC);
    /* An empty filter clears (the prompt opens on the current filter: ^U empties it). */
    keys(f, (int[]){'f', KEYMAP_CTRL('u'), KEYMAP_ENTER, 0});
    HAS("filter cleared");
    HAS("3 flows");
}

static void test_split_and_mouse(void **state)
{
    struct fixture *f = *state;
    ui_key(&f->ui, 's');
    HAS("[Request]");
    HAS("GET /\\x1b[2J"); /* the detail follows the list's cursor */
    /* A rule parts the list from the detail, carrying the detail's title. */
    screen(f);
    const struct canvas_line *rule = &f->canvas.line[f->ui.tabs_y - 1];
    const char *t = (const char *)rule->text.data;
    if (strncmp(t, "─ #3  GET /", strlen("─ #3  GET /")) != 0 || !strstr(t, " #1 ───") ||
        strcmp(t + rule->text.len - strlen("───"), "───") != 0 || rule->cells != 120)
        fail_msg("the line above the tabs: '%s'", t);
    ui_key(&f->ui, 'k');
    HAS("POST /typo HTTP/1.1");
    ui_key(&f->ui, KEYMAP_TAB);
    HAS("[Response]");
    /* Click on the first row selects it; on the tab row, switches tabs. */
    ui_mouse(&f->ui, UI_CLICK, 10, f->ui.list_y0 + 1);
    assert_int_equal(flowlist_selected(&f->ui.list), 1);
    screen(f);
    ui_mouse(&f->ui, UI_CLICK, f->ui.detail.tab_x[2] + 1, f->ui.tabs_y);
    HAS("[Raw]");
    /* Clicking a heading sorts; again reverses. */
    ui_key(&f->ui, 's');
    screen(f);
    ui_mouse(&f->ui, UI_CLICK, f->ui.layout.x[FLOWCOL_STATUS], f->ui.list_y0);
    assert_int_equal(f->ui.list.sort_col, FLOWCOL_STATUS);
    ui_mouse(&f->ui, UI_CLICK, f->ui.layout.x[FLOWCOL_STATUS], f->ui.list_y0);
    assert_true(f->ui.list.descending);
    ui_mouse(&f->ui, UI_WHEEL_DOWN, 5, 5);
}

/* Nothing a terminal would act on anywhere on any screen: no control but the line breaks, no
 * invalid UTF-8, no C1, no bidi override or other invisible character (termsafe's own test). */
static void assert_screen_safe(struct fixture *f)
{
    const char *s = screen(f);
    if (!termsafe_is_clean((const uint8_t *)s, strlen(s), TERMSAFE_NEWLINES))
        fail_msg("unsafe text on screen:\n%s", s);
    assert_null(strstr(s, "\xe2\x80\xae"));
}

static void test_hostile_everywhere(void **state)
{
    struct fixture *f = *state;
    assert_screen_safe(f);
    HAS("\\x1b[2J"); /* shown, escaped */
    ui_key(&f->ui, KEYMAP_ENTER);
    for (int body = 0; body < 3; body++) {
        for (size_t t = 0; t < DETAIL_NTABS; t++) {
            assert_screen_safe(f);
            ui_key(&f->ui, KEYMAP_TAB);
        }
        ui_key(&f->ui, 'v');
    }
    ui_key(&f->ui, 'd');
    assert_screen_safe(f);
    ui_key(&f->ui, 's');
    assert_screen_safe(f);
}

static void test_every_size(void **state)
{
    struct fixture *f = *state;
    static const int SCREENS[][8] = {
        {0},      {KEYMAP_ENTER, 0}, {KEYMAP_ENTER, KEYMAP_TAB, KEYMAP_TAB, 0},
        {'s', 0}, {'?', 0},          {'f', '~', 0},
    };
    for (size_t s = 0; s < sizeof SCREENS / sizeof SCREENS[0]; s++) {
        keys(f, SCREENS[s]);
        for (int rows = 1; rows <= 40; rows += 3) {
            for (int cols = 1; cols <= 200; cols += 7) {
                ui_resize(&f->ui, rows, cols);
                screen(f);
                for (int y = 0; y < f->canvas.rows; y++)
                    assert_true(f->canvas.line[y].cells <= cols);
            }
        }
        ui_key(&f->ui, KEYMAP_ESC);
        ui_key(&f->ui, KEYMAP_ESC);
        f->ui.screen = UI_LIST;
        f->ui.split = false;
    }
    ui_resize(&f->ui, 4, 10);
    HAS("too small");
}

/* While the screen only says it is too small, keys and clicks act on nothing unseen; Q quits. */
static void test_too_small_ignores_keys(void **state)
{
    struct fixture *f = *state;
    HAS("3 flows");
    ui_resize(&f->ui, 5, 20);
    HAS("too small; Q quits");
    HAS("20x5, needs 20x6");
    static const int BLIND[] = {'g', 'd', KEYMAP_ENTER, KEYMAP_TAB, '?', 'f', 'q', 'q', 0};
    for (const int *k = BLIND; *k; k++)
        assert_int_equal(ui_key(&f->ui, *k), UI_NONE);
    assert_int_equal(ui_mouse(&f->ui, UI_CLICK, 3, 2), UI_NONE);
    ui_resize(&f->ui, 30, 120);
    HAS("3 flows");
    assert_int_equal(f->ui.screen, UI_LIST);
    assert_false(f->ui.prompting);
    assert_true(ui_key(&f->ui, 'Q') & UI_QUIT);
}

/* A feature adds keys with a table of its own: they act, and help and hints show them. */
static int extra_calls;

static unsigned extra_action(struct ui *ui, int arg)
{
    extra_calls += arg;
    assert_non_null(ui_exchange(ui)); /* the flow the user is on */
    ui_message(ui, STYLE_MESSAGE, "extra ran on #%llu", (unsigned long long)ui_selected(ui));
    return UI_REDRAW;
}

static void test_extension_keys(void **state)
{
    struct fixture *f = *state;
    static const struct keymap_binding EXTRA[] = {
        {'i', KEYMAP_LIST | KEYMAP_DETAIL, extra_action, 2, "intercept", "set an intercept", 0},
    };
    ui_add_keys(&f->ui, EXTRA, 1);
    HAS("i intercept");
    ui_key(&f->ui, 'i');
    assert_int_equal(extra_calls, 2);
    HAS("extra ran on #3");
    assert_int_equal(ui_context(&f->ui), KEYMAP_LIST);
    ui_key(&f->ui, '?');
    HAS("set an intercept");
}

/* The flow shown in a detail view is pinned: the caps cannot evict it from under the view. */
static void test_detail_pins(void **state)
{
    struct fixture *f = *state;
    keys(f, (int[]){'g', KEYMAP_ENTER, 0});
    assert_int_equal(store_remove(&f->store, 1), -1);
    ui_key(&f->ui, 'q');
    assert_int_equal(store_remove(&f->store, 1), 0);
    screen(f);
    /* In the split layout the selected flow is shown, yet d still deletes it. */
    keys(f, (int[]){'s', 'g', 0});
    screen(f);
    ui_key(&f->ui, 'd');
    HAS("flow #2 deleted");
    HAS("1 flow ");
}

static void test_keys_reach_actions(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ui_key(&f->ui, 'q'), UI_QUIT | UI_REDRAW);
    assert_int_equal(ui_key(&f->ui, KEYMAP_CTRL('c')), UI_QUIT | UI_REDRAW);
    assert_true(ui_key(&f->ui, KEYMAP_CTRL('l')) & UI_REPAINT);
    ui_key(&f->ui, '@');
    HAS("@ does nothing here");
    ui_key(&f->ui, 'F');
    assert_false(f->ui.list.follow);
    HAS("follow off");
    keys(f, (int[]){'g', 'm', 0});
    assert_true(flowlist_is_marked(&f->ui.list, 1));
    keys(f, (int[]){'M', 0});
    HAS("1 of 3 flows");
    ui_resize(&f->ui, 24, 64); /* why only one shows stays said where "marked 1" gave way */
    HAS("marked only");
    ui_resize(&f->ui, 30, 120);
    keys(f, (int[]){'M', 'o', 0});
    assert_int_equal(f->ui.list.sort_col, FLOWCOL_TIME);
    keys(f, (int[]){'z', 'n', 0});
    HAS("cancelled");
    keys(f, (int[]){'z', 'y', 0});
    HAS("3 flows deleted");
    HAS("waiting for traffic");
}

/* A sort over more flows than a frame examines runs in steps, shown in the status bar; o and v
 * meanwhile change where it heads. */
static void test_sort_in_steps(void **state)
{
    struct fixture *f = *state;
    f->ui.list.scan_budget = 1;
    f->ui.list.sort_budget = 1;
    keys(f, (int[]){'o', 0});
    HAS("sorting 3 flows by time, ascending...");
    HAS("sorting by time ");
    assert_true(ui_busy(&f->ui) && ui_waited_on(&f->ui));
    keys(f, (int[]){'o', 'v', 0});
    HAS("sorting 3 flows by client, descending...");
    assert_int_equal(f->ui.list.sort_col, FLOWCOL_ID);
    int frames = 0;
    while (ui_busy(&f->ui) && frames < 100) {
        ui_update(&f->ui);
        screen(f);
        frames++;
    }
    assert_true(frames > 3 && frames < 100);
    assert_int_equal(f->ui.list.sort_col, FLOWCOL_CLIENT);
    assert_true(f->ui.list.descending);
    HAS("sort client▼");
    LACKS("sorting by");
}

/* Deleting every flow in steps: the progress, then the count. */
static void test_clear_in_steps(void **state)
{
    struct fixture *f = *state;
    f->ui.list.scan_budget = 1;
    keys(f, (int[]){'z', 0});
    HAS(" delete every completed flow? y yes"); /* in lower case, as every question and message */
    keys(f, (int[]){'y', 0});
    assert_string_equal(f->ui.message, "deleting 2 flows...");
    assert_true(ui_busy(&f->ui) && ui_waited_on(&f->ui));
    HAS("deleting ");
    int frames = 1;
    while (ui_busy(&f->ui) && frames < 100) {
        screen(f);
        frames++;
    }
    assert_true(frames >= 2 && frames < 100);
    HAS("3 flows deleted");
    HAS("waiting for traffic");
}

/* An empty list says whether more may come: a live session waits for traffic, a capture read to
 * its end does not (it used to say "waiting for traffic..." for ever). */
static void test_empty_list_after_the_input(void **state)
{
    struct fixture *f = *state;
    struct ui_progress pr = {.active = true, .done = 10, .total = 100};
    f->ui.cfg.progress = &pr;
    keys(f, (int[]){'z', 'y', 0});
    for (int frames = 0; ui_busy(&f->ui) && frames < 100; frames++)
        screen(f);
    HAS("waiting for traffic");
    pr = (struct ui_progress){.ended = true, .done = 100, .total = 100};
    screen(f);
    HAS("no flows: the whole input was read");
    LACKS("waiting for traffic");
    f->ui.cfg.progress = NULL;
}

/* --filter: the list starts with the filter the outputs use (it used to show every flow), and f
 * offers it for editing. An empty one is no filter. */
static void test_filter_option(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *expr, *shown, *row, *absent;
    } CASES[] = {
        {"~c 502", "1 of 3 flows", "two.test", "/first"},
        {"~d one | ~m POST", "2 of 3 flows", "/first", "evil"},
        {"", "3 flows", "/first", "of 3 flows"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        ui_cleanup(&f->ui);
        struct ui_config cfg = {.title = "test",
                                .limits = &f->limits,
                                .body_max = 1 << 20,
                                .glyphs = &GLYPHS_UTF8,
                                .filter = CASES[i].expr};
        ui_init(&f->ui, &f->store, &cfg);
        ui_resize(&f->ui, 30, 120);
        for (int frames = 0; ui_busy(&f->ui) && frames < 100; frames++)
            screen(f);
        HAS(CASES[i].shown);
        HAS(CASES[i].row);
        LACKS(CASES[i].absent);
        if (*CASES[i].expr) {
            ui_key(&f->ui, 'f');
            char prompt[64];
            snprintf(prompt, sizeof prompt, "filter: %s", CASES[i].expr);
            HAS(prompt);
            ui_key(&f->ui, KEYMAP_ESC);
        }
    }
    /* One flow left: the total is a count of one too ("1 of 1 flow"). */
    assert_int_equal(store_remove(&f->store, 1), 0);
    assert_int_equal(store_remove(&f->store, 3), 0);
    ui_cleanup(&f->ui);
    struct ui_config one = {
        .title = "test", .limits = &f->limits, .body_max = 1 << 20, .glyphs = &GLYPHS_UTF8};
    one.filter = "~c 502";
    ui_init(&f->ui, &f->store, &one);
    ui_resize(&f->ui, 30, 120);
    for (int frames = 0; ui_busy(&f->ui) && frames < 100; frames++)
        screen(f);
    HAS("1 of 1 flow ");
    LACKS("1 of 1 flows");
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    setenv("TZ", "UTC", 1);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_list),
        T(test_sort_in_steps),
        T(test_clear_in_steps),
        T(test_empty_list_after_the_input),
        T(test_filter_option),
        T(test_detail_tabs),
        T(test_detail_search_in_steps),
        T(test_warnings_jump),
        T(test_hint_per_tab),
        T(test_hint_needs_a_flow),
        T(test_offsets_stay),
        T(test_help),
        T(test_help_search),
        T(test_question_escapes),
        T(test_question_narrow),
        T(test_message_narrow),
        T(test_filter_prompt),
        T(test_split_and_mouse),
        T(test_hostile_everywhere),
        T(test_every_size),
        T(test_too_small_ignores_keys),
        T(test_narrow_tabs),
        T(test_keys_reach_actions),
        T(test_detail_pins),
        T(test_extension_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
