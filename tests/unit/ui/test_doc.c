/*
 * doc: stored lines with their styles, fixed and growing lazy sources, targets, search across
 * every line (a growing source is indexed to its end first) and highlighting.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/doc.h"

/* A fixed source of n numbered lines. */
static void numbered(void *data, size_t i, struct canvas_line *out)
{
    canvas_printf(out, STYLE_NORMAL, "%s %zu", (const char *)data, i);
}

/* A growing source of 1000 lines that knows only what it was asked for. */
struct growing {
    size_t known, total, extends;
};

static void grow_render(void *data, size_t i, struct canvas_line *out)
{
    (void)data;
    canvas_printf(out, STYLE_NORMAL, i == 999 ? "the last line" : "body %zu", i);
}

static size_t grow_count(void *data, bool *complete)
{
    struct growing *g = data;
    if (complete)
        *complete = g->known == g->total;
    return g->known;
}

static void grow_extend(void *data, size_t want)
{
    struct growing *g = data;
    g->extends++;
    g->known = want < g->total ? want : g->total;
}

/* Finds budget more lines (0: all). */
static bool grow_index(void *data, size_t budget)
{
    struct growing *g = data;
    g->known = budget && g->total - g->known > budget ? g->known + budget : g->total;
    return g->known == g->total;
}

static char *line_text(struct doc *d, size_t i)
{
    static char buf[256];
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    doc_render(d, i, &l);
    snprintf(buf, sizeof buf, "%s", l.text.data ? (const char *)l.text.data : "");
    canvas_line_cleanup(&l);
    return buf;
}

static void test_mixed(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d);
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    l.style = STYLE_CURSOR;
    canvas_puts(&l, STYLE_HNAME, "Host");
    canvas_puts(&l, STYLE_NORMAL, ": a");
    assert_int_equal(doc_add(&d, &l), 0);
    canvas_line_cleanup(&l);
    assert_int_equal(doc_addf(&d, STYLE_BOLD, "second %d", 2), 1);
    assert_int_equal(
        doc_add_source(&d, &(struct doc_source){.lines = 5, .render = numbered, .data = "lazy"}),
        2);
    assert_int_equal(doc_blank(&d), 7);
    doc_target(&d, 1, 0, 10);
    doc_target(&d, 4, 1, 20);
    struct growing g = {0, 1000, 0};
    assert_int_equal(doc_add_source(&d, &(struct doc_source){.render = grow_render,
                                                             .count = grow_count,
                                                             .extend = grow_extend,
                                                             .index = grow_index,
                                                             .data = &g}),
                     8);
    assert_int_equal(doc_lines(&d), 8);
    doc_extend(&d, 20);
    assert_int_equal(doc_lines(&d), 20);
    assert_string_equal(line_text(&d, 0), "Host: a");
    assert_string_equal(line_text(&d, 1), "second 2");
    assert_string_equal(line_text(&d, 6), "lazy 4");
    assert_string_equal(line_text(&d, 7), "");
    assert_string_equal(line_text(&d, 8), "body 0");
    assert_string_equal(line_text(&d, 19), "body 11");
    assert_string_equal(line_text(&d, 20), ""); /* not known yet */
    /* Indexing in steps, then to the end. */
    assert_false(doc_index(&d, 100));
    assert_int_equal(doc_lines(&d), 8 + 112);
    assert_true(doc_index(&d, 0));
    assert_int_equal(doc_lines(&d), 8 + 1000);
    assert_string_equal(line_text(&d, 1007), "the last line");
    /* Styles survive storage: the name keeps its style, the base style its own. */
    struct canvas_line r;
    canvas_line_init(&r, CANVAS_UNLIMITED);
    doc_render(&d, 0, &r);
    assert_int_equal(canvas_style_at(&r, 1), STYLE_HNAME);
    assert_int_equal(canvas_style_at(&r, 5), STYLE_CURSOR);
    canvas_line_cleanup(&r);
    /* Targets. */
    assert_int_equal(doc_target_at(&d, 0), 0);
    assert_int_equal(doc_target_at(&d, 2), 1);
    assert_int_equal(doc_target_at(&d, 5), 2);
    /* Search reaches the end of the growing source and wraps. */
    assert_int_equal(doc_search(&d, "last line", 0, 1), 1007);
    assert_int_equal(doc_lines(&d), 1008);
    assert_int_equal(doc_search(&d, "second", 1007, 1), 1);
    assert_int_equal(doc_search(&d, "lazy 4", 0, -1), 6);
    assert_int_equal(doc_search(&d, "nowhere", 0, 1), (size_t)-1);
    doc_cleanup(&d);
}

/* A source that answers searches itself: lines "item N", matches found by arithmetic. With a
 * budget, each call covers at most that many of its lines and asks for more. */
struct finder {
    int calls;
    size_t resume; /* next line a search in steps looks at */
    bool resuming;
};

/* A fixed stored line (a heading) ignores the sideways skip; the others, stored or rendered by a
 * source, scroll; the skip is the caller's again after the fixed line. */
static void test_fixed(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d);
    size_t head = doc_addf(&d, STYLE_BOLD, "[client -> server]");
    doc_fixed(&d, head);
    doc_addf(&d, STYLE_NORMAL, "plain line");
    doc_add_source(&d, &(struct doc_source){.lines = 1, .render = numbered, .data = "row"});
    static const struct {
        int skip;
        const char *line[3];
    } CASES[] = {
        {0, {"[client -> server]", "plain line", "row 0"}},
        {3, {"[client -> server]", "in line", " 0"}},
        {40, {"[client -> server]", "", ""}},
    };
    struct canvas_line l;
    canvas_line_init(&l, 30);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        for (size_t k = 0; k < 3; k++) {
            canvas_line_reset(&l, 30, CASES[i].skip);
            doc_render(&d, k, &l);
            const char *t = l.text.data ? (const char *)l.text.data : "";
            size_t n = strlen(t);
            while (n && t[n - 1] == ' ')
                n--;
            if (n != strlen(CASES[i].line[k]) || strncmp(t, CASES[i].line[k], n) != 0)
                fail_msg("skip %d line %zu: got '%s' want '%s'", CASES[i].skip, k, t,
                         CASES[i].line[k]);
            if (k == 0) /* the skip is left for what the caller puts after the line */
                assert_int_equal(l.skip, CASES[i].skip);
        }
    }
    canvas_line_cleanup(&l);
    doc_cleanup(&d);
}

static void item_render(void *data, size_t i, struct canvas_line *out)
{
    (void)data;
    canvas_printf(out, STYLE_NORMAL, "item %zu", i);
}

static size_t item_find(void *data, const char *needle, size_t from, size_t count, int dir,
                        size_t budget, bool *more)
{
    struct finder *f = data;
    f->calls++;
    *more = false;
    char *end;
    size_t want = (size_t)strtoul(needle + 5, &end, 10); /* only "item N" matches */
    if (strncmp(needle, "item ", 5) != 0 || *end)
        return (size_t)-1;
    /* The lines this call covers: from where the last one stopped, at most budget of them. */
    size_t lo = dir > 0 ? from : from - count + 1, hi = dir > 0 ? from + count : from + 1;
    if (f->resuming && dir > 0)
        lo = f->resume;
    else if (f->resuming)
        hi = f->resume;
    f->resuming = false;
    if (budget && hi - lo > budget) {
        size_t cut = dir > 0 ? lo + budget : hi - budget;
        if (dir > 0 ? want >= lo && want < cut : want >= cut && want < hi)
            return want;
        f->resume = cut;
        f->resuming = true;
        *more = true;
        return (size_t)-1;
    }
    return want >= lo && want < hi ? want : (size_t)-1;
}

/* A needle as long as the prompt allows is searched whole, not a prefix of it. */
static void test_search_long_needle(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d);
    char line[700], needle[SEARCH_NEEDLE_MAX];
    memset(line, 'a', 600);
    line[600] = '\0';
    doc_addf(&d, STYLE_NORMAL, "head");
    doc_addf(&d, STYLE_NORMAL, "%s", line);
    memset(needle, 'a', 600);
    strcpy(needle + 600, "b");
    assert_int_equal(doc_search(&d, needle, 0, 1), (size_t)-1);
    needle[600] = '\0';
    assert_int_equal(doc_search(&d, needle, 0, 1), 1);
    /* The longest text a prompt holds. */
    memset(needle, 'a', sizeof needle - 1);
    needle[sizeof needle - 1] = '\0';
    assert_int_equal(doc_search(&d, needle, 0, 1), (size_t)-1);
    doc_cleanup(&d);
}

static void test_search_delegated(void **state)
{
    (void)state;
    struct doc d;
    doc_init(&d);
    struct finder f = {0};
    doc_addf(&d, STYLE_NORMAL, "head");
    doc_add_source(&d, &(struct doc_source){
                           .lines = 100000, .render = item_render, .find = item_find, .data = &f});
    doc_addf(&d, STYLE_NORMAL, "item 5 (a stored line)");
    assert_int_equal(doc_search(&d, "item 77777", 0, 1), 77778);
    assert_int_equal(f.calls, 1);
    /* From the stored line at the end forward: wraps to "head", then the source. */
    assert_int_equal(doc_search(&d, "item 5", 100001, 1), 6);
    /* Backward from the middle of the source: the stored line after it is found last. */
    assert_int_equal(doc_search(&d, "item 5 (a", 50000, -1), 100001);
    assert_int_equal(doc_search(&d, "item 999999", 0, 1), (size_t)-1);

    /* In steps of 1,000 of the source's lines: the same answers, over many steps. */
    static const struct {
        const char *needle;
        size_t from;
        int dir;
        size_t expect;
        int steps_min;
        bool wrapped, only; /* what the search says it did */
    } STEPS[] = {
        {"item 77777", 0, 1, 77778, 70, false, false},
        {"item 5", 100001, 1, 6, 0, true, false},
        {"item 5 (a", 50000, -1, 100001, 0, true, false},
        {"item 999999", 0, 1, (size_t)-1, 99, false, false},
        {"item 20", 90000, -1, 21, 80, false, false},
        {"item 77777", 77778, 1, 77778, 90, true, true}, /* round to itself */
        {"item 77777", 77778, -1, 77778, 90, true, true},
        {"item 5", SEARCH_NONE, 1, 6, 0, false, false}, /* from the top edge */
        {"item 99999", SEARCH_NONE, -1, 100000, 0, false, false},
    };
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++) {
        struct doc_search s;
        doc_search_start(&d, &s, STEPS[i].needle, STEPS[i].from, STEPS[i].dir);
        size_t at = (size_t)-1;
        enum doc_found r;
        int steps = 0;
        while ((r = doc_search_step(&d, &s, 1000, &at)) == DOC_MORE)
            steps++;
        assert_int_equal(r, STEPS[i].expect == (size_t)-1 ? DOC_MISSING : DOC_FOUND);
        if (r == DOC_FOUND) {
            assert_int_equal(at, STEPS[i].expect);
            if (s.wrapped != STEPS[i].wrapped || s.only != STEPS[i].only)
                fail_msg("%s from %zu: wrapped %d only %d", STEPS[i].needle, STEPS[i].from,
                         s.wrapped, s.only);
        }
        if (steps < STEPS[i].steps_min)
            fail_msg("%s: %d steps", STEPS[i].needle, steps);
    }
    /* A document rebuilt between steps ends the search. */
    struct doc_search s;
    size_t at;
    doc_search_start(&d, &s, "item 99999", 0, 1);
    assert_int_equal(doc_search_step(&d, &s, 1000, &at), DOC_MORE);
    doc_reset(&d);
    doc_addf(&d, STYLE_NORMAL, "item 99999");
    assert_int_equal(doc_search_step(&d, &s, 1000, &at), DOC_CHANGED);
    doc_cleanup(&d);
}

/* Highlights the matches of query in "abc ABC abc"; returns the line (clean it up). */
static void highlight(struct canvas_line *l, const char *query)
{
    struct search_query q = {0};
    char err[SEARCH_ERROR_MAX];
    assert_true(search_query_set(&q, query, err, sizeof err));
    canvas_line_reset(l, 80, 0);
    canvas_puts(l, STYLE_NORMAL, "abc ABC abc");
    doc_highlight(l, &q);
    search_query_cleanup(&q);
}

static void test_highlight(void **state)
{
    (void)state;
    struct canvas_line l;
    canvas_line_init(&l, 80);
    highlight(&l, "abc");
    assert_int_equal(canvas_style_at(&l, 0), STYLE_MATCH);
    assert_int_equal(canvas_style_at(&l, 4), STYLE_MATCH); /* smart case: lower matches any */
    assert_int_equal(canvas_style_at(&l, 3), STYLE_NORMAL);
    highlight(&l, "ABC");
    assert_int_equal(canvas_style_at(&l, 0), STYLE_NORMAL);
    assert_int_equal(canvas_style_at(&l, 4), STYLE_MATCH);
    /* A regular expression's matches, each where it is; an empty match styles nothing. */
    highlight(&l, "/b. a/");
    assert_int_equal(canvas_style_at(&l, 0), STYLE_NORMAL);
    for (int x = 1; x <= 4; x++)
        assert_int_equal(canvas_style_at(&l, x), STYLE_MATCH);
    assert_int_equal(canvas_style_at(&l, 5), STYLE_MATCH); /* "BC a" matches too, ignoring case */
    assert_int_equal(canvas_style_at(&l, 9), STYLE_NORMAL);
    highlight(&l, "/x*/");
    for (int x = 0; x < 11; x++)
        assert_int_equal(canvas_style_at(&l, x), STYLE_NORMAL);
    highlight(&l, "/^abc/");
    assert_int_equal(canvas_style_at(&l, 0), STYLE_MATCH);
    assert_int_equal(canvas_style_at(&l, 8), STYLE_NORMAL); /* not at the line's start */
    doc_highlight(&l, NULL);                                /* no search: nothing changes */
    canvas_line_cleanup(&l);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed), cmocka_unit_test(test_search_delegated),
        cmocka_unit_test(test_search_long_needle), cmocka_unit_test(test_highlight),
        cmocka_unit_test(test_fixed)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
