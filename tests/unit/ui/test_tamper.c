/*
 * tamper: the keys that act on flows, driven through the ui without a terminal, over holds of a
 * fake mode: the intercept prompt and its validation, accept, kill, quick edits staged and
 * reverted, prepared answers, duplicate, a rule saved and written, the default switched, the
 * Diff tab, and an editor session (a script as EDITOR) followed by the fix-up choice.
 */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/edit.h"
#include "hspy/hspy.h"
#include "hspy/intercept.h"
#include "hspy/tamper.h"
#include "hspy/ui.h"
#include "screentest.h"
#include "synth.h"

struct fake {
    int releases, kills, rules_added, writes, defaults;
    uint8_t answer;
    size_t rule;
    char last_rule[1024];
    bool default_on;
};

struct fixture {
    struct hspy h;
    struct synth synth;
    struct intercept ic;
    struct intercept_answers answers;
    struct fake fake;
    struct ui ui;
    struct tamper *tamper;
    struct canvas canvas;
    struct dynbuf screen;
    char dir[64];
};

static void on_release(void *data, struct exchange *ex, const struct intercept_release *r)
{
    (void)ex;
    struct fake *f = data;
    f->releases++;
    f->answer = r->answer;
    f->rule = r->rule;
}

static void on_kill(void *data, struct exchange *ex)
{
    struct fake *f = data;
    exchange_fail(ex, EX_KILLED, "killed");
    f->kills++;
}

static const struct intercept_hold_ops OPS = {on_release, on_kill};

static int preview(void *data, const struct exchange *ex, struct dynbuf *out)
{
    (void)data, (void)ex;
    dynbuf_adds(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\necho");
    return 0;
}

static size_t nrules(void *data)
{
    (void)data;
    return 2;
}

static const char *rule(void *data, size_t i, char *buf, size_t len)
{
    (void)data;
    snprintf(buf, len, "rule-%zu: GET /x -> 200", i + 1);
    return buf;
}

static long find_rule(void *data, const char *name)
{
    (void)data;
    if (!strcmp(name, "1") || !strcmp(name, "rule-1"))
        return 0;
    if (!strcmp(name, "2") || !strcmp(name, "rule-2"))
        return 1;
    return -1;
}

static int add_rule(void *data, const char *text, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct fake *f = data;
    f->rules_added++;
    snprintf(f->last_rule, sizeof f->last_rule, "%s", text);
    return 0;
}

static long write_rules(void *data, const char *path, char *err, size_t errlen)
{
    (void)path, (void)err, (void)errlen;
    struct fake *f = data;
    f->writes++;
    return 3;
}

static const char *rules_file(void *data)
{
    (void)data;
    return "mock.rules";
}

static void set_default(void *data, const uint8_t *raw, size_t n)
{
    (void)n;
    struct fake *f = data;
    f->defaults++;
    f->default_on = raw != NULL;
}

static const char *screen(struct fixture *f)
{
    return screentest_text(&f->ui, &f->canvas, &f->screen);
}

#define HAS(text) screentest_check(&f->ui, &f->canvas, &f->screen, text, true, __LINE__)

static void keys(struct fixture *f, const char *k)
{
    screentest_type(&f->ui, k);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct hspy *h = &f->h;
    hspy_init(h);
    h->opt.cmd = CMD_LISTEN;
    h->limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    h->ex_limits = (struct exchange_limits){HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    store_init(&h->store, 1000, (size_t)-1);
    synth_init(&f->synth, &h->store, 1 << 20);
    const char *req = "GET /first HTTP/1.1\r\nHost: one.test\r\n\r\n";
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    synth_exchange(&f->synth, req, strlen(req), resp, strlen(resp), 1000000000, 1000000);
    synth_close(&f->synth);
    intercept_init(&f->ic, &h->loop, &h->store, 0, false);
    f->answers = (struct intercept_answers){
        &f->fake, preview, nrules, rule, find_rule, add_rule, write_rules, rules_file, set_default};
    f->ic.answers = &f->answers;
    h->intercept = &f->ic;
    struct ui_config cfg = {
        .title = "tamper", .limits = &h->limits, .body_max = 1 << 20, .glyphs = &GLYPHS_UTF8};
    ui_init(&f->ui, &h->store, &cfg);
    ui_resize(&f->ui, 30, 140);
    canvas_init(&f->canvas, 30, 140);
    dynbuf_init(&f->screen, 1 << 20);
    f->tamper = tamper_new(&f->ui, h);
    snprintf(f->dir, sizeof f->dir, "/tmp/hspy-tamper-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    screen(f);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tamper_free(f->tamper);
    ui_cleanup(&f->ui);
    intercept_close(&f->ic);
    uv_run(&f->h.loop, UV_RUN_DEFAULT);
    intercept_cleanup(&f->ic);
    canvas_cleanup(&f->canvas);
    dynbuf_cleanup(&f->screen);
    synth_cleanup(&f->synth);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    uv_loop_close(&f->h.loop);
    store_cleanup(&f->h.store);
    options_cleanup(&f->h.opt);
    free(f);
    return 0;
}

/* A POST held the way listen holds one (its answer is what an edit replaces); selected. */
static struct exchange *held_post(struct fixture *f, const char *path)
{
    char req[256];
    snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi", path);
    synth_exchange(&f->synth, req, strlen(req), NULL, 0, 2000000000, 0);
    struct exchange *ex = store_get(&f->h.store, store_end_id(&f->h.store) - 1);
    intercept_hold(&f->ic, ex, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    screen(f); /* the list learns about the new flow */
    keys(f, "G");
    return ex;
}

/* The hint line names the keys that act on the selected flow (edit, replay, accept) only while
 * one is selected: with a filter that matches nothing it names the intercept filter alone. */
static void test_hint_needs_a_flow(void **state)
{
    struct fixture *f = *state;
    static const char *const ON_FLOW[] = {"e edit", "r replay", "a accept"};
    static const struct {
        const char *filter; /* typed at the f prompt, then Enter */
        bool flow;
    } CASES[] = {{"\x15", true}, {"\x15~d nowhere.test", false}, {"\x15", true}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        keys(f, "f");
        keys(f, CASES[i].filter);
        keys(f, "\n");
        HAS("i intercept");
        for (size_t k = 0; k < sizeof ON_FLOW / sizeof ON_FLOW[0]; k++)
            screentest_check(&f->ui, &f->canvas, &f->screen, ON_FLOW[k], CASES[i].flow, __LINE__);
    }
}

static void test_intercept_prompt(void **state)
{
    struct fixture *f = *state;
    keys(f, "i~m (");
    HAS("bad regular expression");
    ui_key(&f->ui, KEYMAP_ENTER);
    assert_string_equal(f->ic.expr, ""); /* refused, the prompt stays */
    for (int i = 0; i < 5; i++)
        ui_key(&f->ui, KEYMAP_BACKSPACE);
    keys(f, "~m POST\n");
    assert_string_equal(f->ic.expr, "~m POST");
    HAS("intercepting ~m POST");
    keys(f, "i");
    for (int i = 0; i < 7; i++)
        ui_key(&f->ui, KEYMAP_BACKSPACE);
    ui_key(&f->ui, KEYMAP_ENTER);
    HAS("intercept off");
}

static void test_accept_kill(void **state)
{
    struct fixture *f = *state;
    struct exchange *a = held_post(f, "/a");
    HAS("held 1");
    keys(f, "a");
    assert_int_equal(f->fake.releases, 1);
    assert_int_equal(f->fake.answer, INTERCEPT_AS_IS);
    HAS("released");
    keys(f, "a");
    HAS("is not held");
    struct exchange *b = held_post(f, "/b");
    keys(f, "x");
    assert_int_equal(f->fake.kills, 1);
    assert_true(b->flags & EX_KILLED);
    HAS("killed: its connection was reset");
    held_post(f, "/c");
    held_post(f, "/d");
    keys(f, "A");
    HAS("2 held flows released");
    assert_int_equal(f->fake.releases, 3);
    (void)a;
}

static void test_quick_edit_and_revert(void **state)
{
    struct fixture *f = *state;
    struct exchange *ex = held_post(f, "/q");
    keys(f, "c");
    HAS("change the response of");
    keys(f, "s418\n");
    HAS("response changed");
    const struct dynbuf *p = edit_pending(ex, SIDE_SERVER);
    assert_non_null(p);
    assert_memory_equal(p->data, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 4\r\n\r\necho", 52);
    keys(f, "chX-Test: 1\n");
    p = edit_pending(ex, SIDE_SERVER);
    assert_non_null(strstr((const char *)p->data, "X-Test: 1\r\n\r\necho"));
    keys(f, "cbnew body\\n\n");
    p = edit_pending(ex, SIDE_SERVER);
    assert_non_null(strstr((const char *)p->data, "Content-Length: 9\r\n"));
    keys(f, "cddelay-head 1s; trickle 2/10ms\n");
    HAS("will be delivered");
    /* The Diff tab shows the staged edit and how a peer reads it. */
    ui_key(&f->ui, KEYMAP_ENTER);
    ui_key(&f->ui, KEYMAP_BTAB);
    HAS("[Diff(1)]");
    HAS("edit staged, not sent yet");
    HAS("Content-Length 9 matches the body");
    HAS("+ HTTP/1.1 418 I'm a teapot␍␊");
    /* Side by side: nothing was received yet, so the staged lines face empty cells. */
    keys(f, "u");
    HAS("Diff tab: side by side");
    HAS(" | + HTTP/1.1 418 I'm a teapot␍␊");
    keys(f, "u");
    HAS("Diff tab: unified");
    HAS("  + HTTP/1.1 418 I'm a teapot␍␊");
    keys(f, "a");
    assert_int_equal(f->fake.answer, INTERCEPT_BYTES);
    assert_true(ex->flags & EX_EDITED);
    keys(f, "q");
    held_post(f, "/r");
    keys(f, "chA: b\n");
    keys(f, "V");
    HAS("unsent edits reverted");
    keys(f, "V");
    HAS("has no unsent edit");
    keys(f, "a");
    assert_int_equal(f->fake.answer, INTERCEPT_AS_IS);
}

static void test_answers(void **state)
{
    struct fixture *f = *state;
    held_post(f, "/p");
    keys(f, "pnosuch");
    HAS("not echo, default, last or a rule");
    for (int i = 0; i < 6; i++)
        ui_key(&f->ui, KEYMAP_BACKSPACE);
    keys(f, "2");
    HAS("rule-2: GET /x -> 200"); /* the rule found, shown while typing */
    ui_key(&f->ui, KEYMAP_ENTER);
    assert_int_equal(f->fake.answer, INTERCEPT_RULE);
    assert_int_equal(f->fake.rule, 1);
    held_post(f, "/e");
    keys(f, "pecho\n");
    assert_int_equal(f->fake.answer, INTERCEPT_ECHO);
    held_post(f, "/l");
    keys(f, "plast\n");
    HAS("no response was crafted yet");
    ui_key(&f->ui, KEYMAP_ESC);
    keys(f, "T");
    HAS("no response was crafted yet");
    dynbuf_adds(&f->ic.last_crafted, "HTTP/1.1 200 OK\r\n\r\n");
    keys(f, "T");
    assert_true(f->fake.default_on);
    HAS("default answer: the last crafted response");
    keys(f, "T");
    assert_false(f->fake.default_on);
    keys(f, "plast\n");
    assert_int_equal(f->fake.answer, INTERCEPT_BYTES);
}

static void test_rules_and_duplicate(void **state)
{
    struct fixture *f = *state;
    keys(f, "g");
    keys(f, "S");
    HAS("save the response as the rule named");
    for (int i = 0; i < 20; i++)
        ui_key(&f->ui, KEYMAP_BACKSPACE);
    keys(f, "first-ok\n");
    assert_int_equal(f->fake.rules_added, 1);
    assert_non_null(strstr(f->fake.last_rule, "match GET /first\n  name first-ok\n  status 200\n"));
    HAS("rule 'first-ok' answers GET /first");
    keys(f, "W");
    HAS("write the rules back to mock.rules?");
    keys(f, "y");
    assert_int_equal(f->fake.writes, 1);
    HAS("3 rules written to mock.rules");
    size_t before = f->h.store.live;
    keys(f, "D");
    assert_int_equal(f->h.store.live, before + 1);
    HAS("duplicated as");
    struct exchange *copy = store_get(&f->h.store, store_end_id(&f->h.store) - 1);
    assert_int_equal(exchange_status(copy), 200);
    assert_non_null(strstr(copy->note, "duplicate of #1"));
    keys(f, "r");
    HAS("replay to (host:port)");
    HAS("one.test"); /* the request's Host is offered */
    for (int i = 0; i < 20; i++)
        ui_key(&f->ui, KEYMAP_BACKSPACE);
    keys(f, "127.0.0.1:0\n"); /* names no server: refused, the prompt stays */
    HAS("port 0 in '127.0.0.1:0'");
    assert_int_equal(f->h.store.live, before + 1);
    ui_key(&f->ui, KEYMAP_ESC);
}

/* e: the editor runs on the loop; its text comes back and waits for "fix or as typed". */
static void test_editor(void **state)
{
    struct fixture *f = *state;
    char script[128];
    snprintf(script, sizeof script, "%s/ed.sh", f->dir);
    FILE *s = fopen(script, "w");
    assert_non_null(s);
    fprintf(s,
            "#!/bin/sh\ncp \"$1\" %s/seen\nprintf 'HTTP/1.1 202 Accepted\\nContent-Length: 1\\n\\n"
            "edited' > \"$1\"\n",
            f->dir);
    fclose(s);
    chmod(script, 0700);
    setenv("VISUAL", script, 1);
    setenv("TMPDIR", f->dir, 1);
    struct exchange *ex = held_post(f, "/ed");
    assert_true(f->ui.list.follow);
    keys(f, "e");
    /* A flow arrives while the editor runs: follow moves the cursor to it... */
    const char *req = "GET /later HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *resp = "HTTP/1.1 204 No Content\r\n\r\n";
    synth_exchange(&f->synth, req, strlen(req), resp, strlen(resp), 3000000000, 1000000);
    screen(f);
    assert_int_not_equal(ui_selected(&f->ui), ex->id);
    for (int i = 0; i < 500 && !f->ui.choosing; i++)
        uv_run(&f->h.loop, UV_RUN_ONCE);
    assert_true(f->ui.choosing);
    /* ...and the edit's end puts it back on the flow edited, follow off. */
    assert_int_equal(ui_selected(&f->ui), ex->id);
    assert_false(f->ui.list.follow);
    HAS("f fix Content-Length/chunking");
    keys(f, "f");
    const struct dynbuf *p = edit_pending(ex, SIDE_SERVER);
    assert_non_null(p);
    assert_int_equal(p->len, strlen("HTTP/1.1 202 Accepted\r\nContent-Length: 6\r\n\r\nedited"));
    assert_memory_equal(p->data, "HTTP/1.1 202 Accepted\r\nContent-Length: 6\r\n\r\nedited",
                        p->len);
    /* The editor started from the default answer, and its file is gone. */
    char seen[128];
    snprintf(seen, sizeof seen, "%s/seen", f->dir);
    size_t n;
    uint8_t *text = tu_read_file(seen, &n);
    assert_non_null(text);
    assert_memory_equal(text, "HTTP/1.1 200 OK", 15);
    free(text);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s/hspy-*.http >/dev/null 2>&1", f->dir);
    assert_int_not_equal(system(cmd), 0);
    /* As typed keeps the lie. */
    keys(f, "e");
    for (int i = 0; i < 500 && !f->ui.choosing; i++)
        uv_run(&f->h.loop, UV_RUN_ONCE);
    keys(f, "t");
    HAS("Content-Length 1; 5 bytes after it are read as another message");
    p = edit_pending(ex, SIDE_SERVER);
    assert_memory_equal(p->data, "HTTP/1.1 202 Accepted\nContent-Length: 1\n\nedited", p->len);
    unsetenv("VISUAL");
    unsetenv("TMPDIR");
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    setenv("TZ", "UTC", 1);
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_intercept_prompt),  T(test_accept_kill),         T(test_quick_edit_and_revert),
        T(test_answers),           T(test_rules_and_duplicate), T(test_editor),
        T(test_hint_needs_a_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
