/* prompt: editing keys, UTF-8 text, history, and the inline error's caret. */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "hspy/celltext.h"
#include "hspy/keymap.h"
#include "hspy/prompt.h"

#define END 0

/* Keys typed into an empty prompt, the text and cursor that result. */
static void test_editing(void **state)
{
    (void)state;
    static const struct {
        int keys[16];
        const char *text;
        size_t cursor;
    } CASES[] = {
        {{'a', 'b', 'c', END}, "abc", 3},
        {{'a', 'b', KEYMAP_LEFT, 'x', END}, "axb", 2},
        {{'a', 'b', KEYMAP_HOME, 'x', END}, "xab", 1},
        {{'a', 'b', KEYMAP_BACKSPACE, END}, "a", 1},
        {{'a', 'b', KEYMAP_HOME, KEYMAP_DELETE, END}, "b", 0},
        {{'a', ' ', 'b', 'c', KEYMAP_CTRL('w'), END}, "a ", 2},
        {{'a', 'b', KEYMAP_LEFT, KEYMAP_CTRL('k'), END}, "a", 1},
        {{'a', 'b', KEYMAP_LEFT, KEYMAP_CTRL('u'), END}, "b", 0},
        {{0x4e2d, 'x', KEYMAP_LEFT, KEYMAP_LEFT, KEYMAP_DELETE, END}, "x", 0},
        {{0x4e2d, KEYMAP_BACKSPACE, END}, "", 0},
        {{'a', 0x1b, 0x07, 0x9b, 'b', END}, "ab", 2}, /* controls are never inserted */
        {{'a', KEYMAP_END, KEYMAP_RIGHT, 'b', END}, "ab", 2},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct prompt p;
        prompt_open(&p, "t", NULL, NULL);
        for (const int *k = CASES[i].keys; *k; k++)
            prompt_key(&p, *k);
        if (strcmp(p.text, CASES[i].text) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, p.text, CASES[i].text);
        assert_int_equal(p.cursor, CASES[i].cursor);
    }
}

static void test_results(void **state)
{
    (void)state;
    struct prompt p;
    prompt_open(&p, "filter", "~c 5", NULL);
    assert_int_equal(prompt_key(&p, 'x'), PROMPT_CHANGED);
    assert_int_equal(prompt_key(&p, KEYMAP_LEFT), PROMPT_EDITING);
    assert_int_equal(prompt_key(&p, KEYMAP_ENTER), PROMPT_SUBMIT);
    assert_int_equal(prompt_key(&p, KEYMAP_ESC), PROMPT_CANCEL);
    assert_int_equal(prompt_key(&p, KEYMAP_CTRL('c')), PROMPT_CANCEL);
}

static void test_history(void **state)
{
    (void)state;
    struct prompt_history h = {0};
    prompt_history_add(&h, "one");
    prompt_history_add(&h, "two");
    prompt_history_add(&h, "one"); /* moves to the front */
    assert_int_equal(h.n, 2);
    assert_string_equal(h.items[0], "one");
    for (int i = 0; i < 40; i++) {
        char s[16];
        snprintf(s, sizeof s, "q%d", i);
        prompt_history_add(&h, s);
    }
    assert_int_equal(h.n, PROMPT_HISTORY);
    struct prompt p;
    prompt_open(&p, "search", NULL, &h);
    prompt_key(&p, KEYMAP_UP);
    assert_string_equal(p.text, "q39");
    prompt_key(&p, KEYMAP_UP);
    assert_string_equal(p.text, "q38");
    prompt_key(&p, KEYMAP_DOWN);
    prompt_key(&p, KEYMAP_DOWN);
    assert_string_equal(p.text, "");
    prompt_history_cleanup(&h);
}

static void test_render(void **state)
{
    (void)state;
    struct prompt p;
    prompt_open(&p, "filter", "~c 5xx | (", NULL);
    prompt_error(&p, "unbalanced parenthesis", 9);
    struct canvas_line l;
    canvas_line_init(&l, 40);
    prompt_render(&p, &GLYPHS_UTF8, &l);
    assert_string_equal((const char *)l.text.data, "filter: ~c 5xx | ( ");
    canvas_line_reset(&l, 40, 0);
    prompt_render_error(&p, &l);
    /* The caret sits under the parenthesis: "filter: " is 8 cells, then 9 bytes of text. */
    assert_string_equal((const char *)l.text.data, "                 ^ unbalanced parenthesi");
    /* A long text keeps the cursor on screen. */
    struct prompt q;
    prompt_open(&q, "search", "0123456789012345678901234567890123456789XYZ", NULL);
    canvas_line_reset(&l, 20, 0);
    prompt_render(&q, &GLYPHS_UTF8, &l);
    assert_non_null(strstr((const char *)l.text.data, "XYZ"));
    assert_true(l.cells <= 20);
    canvas_line_cleanup(&l);
}

/* A long label gives way in its middle (the glyph set's ellipsis) where it would leave the text
 * typed less than half a narrow line (PROMPT_INPUT_MIN cells on a wide one); a short one, or a
 * long one on a wide line, shows whole. The error's caret counts the label as shown. */
static void test_render_long_label(void **state)
{
    (void)state;
    static const char *const EXPORT = "write the curl command of #12 to file";
    static const char *const DELIVERY =
        "delivery (delay-head 2s; trickle 16/100ms; split 1,1/50ms; close-after N; reset-after N)";
    static const struct {
        const char *label;
        int width;
        const char *line; /* the line's start */
    } CASES[] = {
        {"filter", 20, "filter: ~x ("},
        {"filter", 40, "filter: ~x ("},
        {EXPORT, 80, "write the curl command of #12 to file: ~x ("},
        {EXPORT, 60, "write the curl command of #12 to file: ~x ("},
        {EXPORT, 40, "write… #12 to file: ~x ("},
        {EXPORT, 30, "writ… to file: ~x ("},
        {EXPORT, 20, "wr… file: ~x ("},
        {DELIVERY, 120,
         "delivery (delay-head 2s; trickle 16/100ms; split 1,1/50ms; close-after N; "
         "reset-after N): ~x ("},
    };
    struct canvas_line l, e;
    canvas_line_init(&l, 120);
    canvas_line_init(&e, 120);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int w = CASES[i].width;
        struct prompt p;
        prompt_open(&p, CASES[i].label, "~x (", NULL);
        prompt_error(&p, "bad", 3);
        canvas_line_reset(&l, w, 0);
        canvas_line_reset(&e, w, 0);
        prompt_render(&p, &GLYPHS_UTF8, &l);
        prompt_render_error(&p, &e);
        const char *t = (const char *)l.text.data;
        if (strncmp(t, CASES[i].line, strlen(CASES[i].line)) != 0)
            fail_msg("width %d: got '%s' want '%s'", w, t, CASES[i].line);
        /* The text keeps half the line, or PROMPT_INPUT_MIN cells. */
        const char *typed = strstr(t, ": ~x (") + 2;
        int input = w - celltext_width(t, (size_t)(typed - t));
        assert_true(input >= (w / 2 < PROMPT_INPUT_MIN ? w / 2 : PROMPT_INPUT_MIN));
        /* The caret under the "(" of the text. */
        const char *caret = strstr((const char *)e.text.data, "^ bad");
        assert_non_null(caret);
        assert_int_equal(
            celltext_width((const char *)e.text.data, (size_t)(caret - (const char *)e.text.data)),
            celltext_width(t, (size_t)(typed - t)) + 3);
    }
    canvas_line_cleanup(&l);
    canvas_line_cleanup(&e);
}

/* The error stays on screen wherever its caret falls: after the caret when it fits, before it
 * near the right edge, at the start when the caret's character is scrolled off. */
static void test_render_error_edges(void **state)
{
    (void)state;
    char text[128] = "~u ";
    memset(text + 3, 'a', 100);
    strcpy(text + 103, " & (~m");
    struct prompt p;
    prompt_open(&p, "filter", text, NULL);
    prompt_error(&p, "~m needs a value", strlen(text) - 2);
    struct canvas_line l, e;
    canvas_line_init(&l, 60);
    canvas_line_init(&e, 60);
    prompt_render(&p, &GLYPHS_UTF8, &l);
    prompt_render_error(&p, &e);
    const char *shown = (const char *)l.text.data, *err = (const char *)e.text.data;
    const char *caret = strstr(err, "~m needs a value ^");
    assert_non_null(caret);
    assert_true(e.cells <= 60);
    /* The caret is under the ~ of ~m as the prompt line shows it. */
    size_t col = (size_t)(caret - err) + strlen("~m needs a value ");
    assert_non_null(strstr(shown, "(~m"));
    assert_int_equal(col, (size_t)(strstr(shown, "(~m") - shown) + 1);
    /* The caret's character is scrolled off to the left: the message starts after the label. */
    prompt_error(&p, "bad start", 0);
    canvas_line_reset(&e, 60, 0);
    prompt_render_error(&p, &e);
    assert_string_equal((const char *)e.text.data, "        bad start");
    canvas_line_cleanup(&l);
    canvas_line_cleanup(&e);
}

/* A full prompt says so instead of dropping keys silently. */
static void test_full(void **state)
{
    (void)state;
    struct prompt p;
    prompt_open(&p, "filter", NULL, NULL);
    for (int i = 0; i < PROMPT_MAX - 1; i++)
        assert_int_equal(prompt_key(&p, 'a'), PROMPT_CHANGED);
    assert_int_equal(p.len, PROMPT_MAX - 1);
    assert_int_equal(prompt_key(&p, 'b'), PROMPT_EDITING);
    assert_non_null(strstr(p.error, "at most 4095 bytes"));
    assert_int_equal(p.len, PROMPT_MAX - 1);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_editing),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_long_label),
        cmocka_unit_test(test_render_error_edges),
        cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
