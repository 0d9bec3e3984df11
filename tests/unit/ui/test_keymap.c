/*
 * keymap and the built-in key table: lookup by context, key names, the help and the hint line
 * generated from the table, and the table's own consistency (every context has a way back, no
 * key is bound twice in one context, every row has help text).
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/action.h"
#include "hspy/keymap.h"

static unsigned fake_a(struct ui *ui, int arg)
{
    (void)ui;
    return (unsigned)arg;
}
static unsigned fake_b(struct ui *ui, int arg)
{
    (void)ui;
    return (unsigned)arg + 100;
}

static const struct keymap_binding FAKE[] = {
    {'j', KEYMAP_LIST, fake_a, 1, "move", "down", 0},
    {'k', KEYMAP_LIST, fake_a, 2, "move", "up", 0},
    {KEYMAP_DOWN, KEYMAP_LIST, fake_a, 1, NULL, "down", 0},
    {'j', KEYMAP_DETAIL, fake_b, 1, "scroll", "scroll down", 0},
    {'q', KEYMAP_LIST, fake_b, 0, "quit", "quit", KEYMAP_BACK},
    {'q', KEYMAP_DETAIL | KEYMAP_HELP, fake_b, 9, "back", "go back", KEYMAP_BACK},
    {'x', KEYMAP_ANY, fake_a, 7, NULL, "everywhere", 0},
};
static const struct keymap_table TABLE = {FAKE, sizeof FAKE / sizeof FAKE[0]};

static void test_lookup(void **state)
{
    (void)state;
    static const struct {
        int key;
        unsigned ctx;
        int row; /* index in FAKE, -1 none */
    } CASES[] = {
        {'j', KEYMAP_LIST, 0},         {'j', KEYMAP_DETAIL, 3}, {'j', KEYMAP_HELP, -1},
        {'k', KEYMAP_DETAIL, -1},      {'q', KEYMAP_HELP, 5},   {'x', KEYMAP_SPLIT, 6},
        {KEYMAP_DOWN, KEYMAP_LIST, 2}, {'z', KEYMAP_LIST, -1},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct keymap_binding *b = keymap_lookup(&TABLE, 1, CASES[i].key, CASES[i].ctx);
        if (CASES[i].row < 0)
            assert_null(b);
        else
            assert_ptr_equal(b, &FAKE[CASES[i].row]);
    }
    /* A second table is searched after the first. */
    static const struct keymap_binding EXTRA[] = {
        {'j', KEYMAP_LIST, fake_b, 5, NULL, "shadowed", 0},
        {'i', KEYMAP_LIST, fake_b, 5, "intercept", "intercept", 0},
    };
    struct keymap_table two[] = {TABLE, {EXTRA, 2}};
    assert_ptr_equal(keymap_lookup(two, 2, 'j', KEYMAP_LIST), &FAKE[0]);
    assert_ptr_equal(keymap_lookup(two, 2, 'i', KEYMAP_LIST), &EXTRA[1]);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        int key;
        const char *utf8, *ascii;
    } CASES[] = {
        {'j', "j", "j"},
        {' ', "Space", "Space"},
        {KEYMAP_CTRL('c'), "^C", "^C"},
        {KEYMAP_ENTER, "⏎", "Enter"},
        {KEYMAP_UP, "↑", "Up"},
        {KEYMAP_PGDN, "PgDn", "PgDn"},
        {KEYMAP_BTAB, "S-Tab", "S-Tab"},
        {0x4e2d, "中", "中"},
        {0x9b, "<155>", "<155>"}, /* a C1 control is never printed as itself */
    };
    char buf[32];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        assert_string_equal(keymap_name(CASES[i].key, &GLYPHS_UTF8, buf, sizeof buf),
                            CASES[i].utf8);
        assert_string_equal(keymap_name(CASES[i].key, &GLYPHS_ASCII, buf, sizeof buf),
                            CASES[i].ascii);
    }
}

static char *doc_text(struct doc *d)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    for (size_t i = 0; i < d->lines; i++) {
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        doc_render(d, i, &l);
        dynbuf_append(&out, l.text.data ? l.text.data : (uint8_t *)"", l.text.len);
        dynbuf_addc(&out, '\n');
    }
    canvas_line_cleanup(&l);
    return dynbuf_take(&out);
}

static void test_help_from_table(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d);
    keymap_help(&TABLE, 1, &GLYPHS_ASCII, CANVAS_UNLIMITED, &d);
    char *text = doc_text(&d);
    /* j and Down share one line (same action, argument and help). */
    assert_non_null(strstr(text, "Flow list\n  j Down"));
    assert_non_null(strstr(text, "down\n"));
    assert_non_null(strstr(text, "Detail view\n  j "));
    assert_non_null(strstr(text, "Everywhere\n  x "));
    /* Rows for every context appear only under Everywhere. */
    assert_null(strstr(strstr(text, "Flow list"), "everywhere\nFlow list"));
    free(text);
    doc_cleanup(&d);

    /* The real table: every row's help text is on the help screen. */
    doc_init(&d);
    struct keymap_table real = {ACTION_BINDINGS, ACTION_NBINDINGS};
    keymap_help(&real, 1, &GLYPHS_UTF8, CANVAS_UNLIMITED, &d);
    text = doc_text(&d);
    for (size_t i = 0; i < ACTION_NBINDINGS; i++) {
        assert_non_null(ACTION_BINDINGS[i].help);
        if (!strstr(text, ACTION_BINDINGS[i].help))
            fail_msg("help misses '%s'", ACTION_BINDINGS[i].help);
    }
    free(text);
    doc_cleanup(&d);
}

/* s with every run of spaces and line breaks made one space, in place. */
static char *squeeze(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++)
        if ((*p != ' ' && *p != '\n') || (o > s && o[-1] != ' '))
            *o++ = *p == '\n' ? ' ' : *p;
    *o = '\0';
    return s;
}

/* On a narrow screen the help wraps: no line is wider than the screen (down to the width of
 * the longest section heading), and every explanation is there whole, read across its lines. */
static void test_help_wraps(void **state)
{
    (void)state;
    struct keymap_table real = {ACTION_BINDINGS, ACTION_NBINDINGS};
    for (int w = 44; w <= 104; w += 20) {
        struct doc d;
        doc_init(&d);
        keymap_help(&real, 1, &GLYPHS_UTF8, w, &d);
        struct canvas_line l;
        canvas_line_init(&l, CANVAS_UNLIMITED);
        for (size_t i = 0; i < d.lines; i++) {
            canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
            doc_render(&d, i, &l);
            if (l.cells > w)
                fail_msg("width %d, line %zu: %d cells: %s", w, i, l.cells,
                         (const char *)l.text.data);
        }
        canvas_line_cleanup(&l);
        char *text = squeeze(doc_text(&d));
        for (size_t i = 0; i < ACTION_NBINDINGS; i++) {
            char help[256];
            snprintf(help, sizeof help, "%s", ACTION_BINDINGS[i].help);
            if (!strstr(text, squeeze(help)))
                fail_msg("width %d: help misses '%s'", w, help);
        }
        free(text);
        doc_cleanup(&d);
    }
}

static void test_hint(void **state)
{
    (void)state;
    struct canvas_line l;
    canvas_line_init(&l, 80);
    keymap_hint(&TABLE, 1, KEYMAP_LIST, 0, &GLYPHS_ASCII, &l);
    assert_string_equal((const char *)l.text.data, " j/k move  q quit  ");
    /* Narrow: items are dropped, never the way back. */
    for (int w = 9; w < 80; w++) {
        canvas_line_reset(&l, w, 0);
        keymap_hint(&TABLE, 1, KEYMAP_DETAIL, 0, &GLYPHS_ASCII, &l);
        assert_non_null(strstr((const char *)l.text.data, "q back"));
        assert_true(l.cells <= w);
    }
    canvas_line_cleanup(&l);
}

/* A row with a KEYMAP_IF_* flag is hinted only where the screen offers that; the key's own
 * contexts are the same everywhere. */
static void test_hint_conditions(void **state)
{
    (void)state;
    static const struct keymap_binding ROWS[] = {
        {'v', KEYMAP_DETAIL, fake_a, 0, "view", "body view", KEYMAP_IF_BODY},
        {KEYMAP_ENTER, KEYMAP_DETAIL, fake_a, 1, "jump", "go there", KEYMAP_IF_TARGETS},
        {'s', KEYMAP_DETAIL, fake_a, 2, "split", "split", 0},
        {'m', KEYMAP_DETAIL, fake_a, 3, "mark", "mark the flow", KEYMAP_IF_FLOW},
        {'q', KEYMAP_DETAIL, fake_b, 0, "back", "back", KEYMAP_BACK},
    };
    static const struct {
        unsigned offers;
        const char *hint;
    } CASES[] = {
        {0, " s split  q back  "},
        {KEYMAP_IF_BODY, " v view  s split  q back  "},
        {KEYMAP_IF_TARGETS, " Enter jump  s split  q back  "},
        {KEYMAP_IF_FLOW, " s split  m mark  q back  "},
        {KEYMAP_IF_BODY | KEYMAP_IF_FLOW, " v view  s split  m mark  q back  "},
        {KEYMAP_IF_ALL, " v view  Enter jump  s split  m mark  q back  "},
    };
    struct keymap_table t = {ROWS, sizeof ROWS / sizeof ROWS[0]};
    struct canvas_line l;
    canvas_line_init(&l, 80);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        canvas_line_reset(&l, 80, 0);
        keymap_hint(&t, 1, KEYMAP_DETAIL, CASES[i].offers, &GLYPHS_ASCII, &l);
        assert_string_equal((const char *)l.text.data, CASES[i].hint);
        /* The key acts whatever the screen offers. */
        assert_ptr_equal(keymap_lookup(&t, 1, 'v', KEYMAP_DETAIL), &ROWS[0]);
    }
    canvas_line_cleanup(&l);
}

static const unsigned CONTEXTS[] = {KEYMAP_LIST, KEYMAP_SPLIT, KEYMAP_DETAIL, KEYMAP_HELP,
                                    KEYMAP_DETAIL | KEYMAP_TARGETS};

/* The built-in table: a way back in every context, shown in every hint line at 40 columns, and
 * the help key. */
static void test_real_table(void **state)
{
    (void)state;
    struct keymap_table real = {ACTION_BINDINGS, ACTION_NBINDINGS};
    for (size_t c = 0; c < sizeof CONTEXTS / sizeof CONTEXTS[0]; c++) {
        bool back = false;
        for (size_t i = 0; i < ACTION_NBINDINGS; i++)
            if ((ACTION_BINDINGS[i].contexts & CONTEXTS[c]) &&
                (ACTION_BINDINGS[i].flags & KEYMAP_BACK))
                back = true;
        assert_true(back);
        struct canvas_line l;
        canvas_line_init(&l, 40);
        keymap_hint(&real, 1, CONTEXTS[c], KEYMAP_IF_ALL, &GLYPHS_UTF8, &l);
        const char *t = (const char *)l.text.data;
        assert_true(strstr(t, "q quit") || strstr(t, "q back"));
        /* and, but in the help itself, the way to every other key */
        if (CONTEXTS[c] != KEYMAP_HELP && !strstr(t, "? help"))
            fail_msg("context %u: '%s'", CONTEXTS[c], t);
        canvas_line_cleanup(&l);
    }
    /* No key is bound twice in one context (the second row could never run). */
    for (size_t i = 0; i < ACTION_NBINDINGS; i++)
        for (size_t j = i + 1; j < ACTION_NBINDINGS; j++)
            if (ACTION_BINDINGS[i].key == ACTION_BINDINGS[j].key &&
                (ACTION_BINDINGS[i].contexts & ACTION_BINDINGS[j].contexts))
                fail_msg("rows %zu and %zu bind the same key in one context", i, j);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),          cmocka_unit_test(test_names),
        cmocka_unit_test(test_help_from_table), cmocka_unit_test(test_hint),
        cmocka_unit_test(test_help_wraps),      cmocka_unit_test(test_real_table),
        cmocka_unit_test(test_hint_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
