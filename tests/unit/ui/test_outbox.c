/*
 * outbox: the export (E) and HAR (w) keys driven through the ui without a terminal: each form
 * written to the file named at the prompt (scripts executable), the clipboard as an OSC 52
 * sequence on the terminal stream, all and marked flows saved as HAR, a failed write and a
 * cancelled question reported without writing anything.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hspy/base64.h"
#include "hspy/hspy.h"
#include "hspy/outbox.h"
#include "hspy/ui.h"
#include "screentest.h"
#include "synth.h"

static const char REQ[] = "POST /up HTTP/1.1\r\nHost: one.test\r\nContent-Length: 5\r\n\r\nhello";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char REQ2[] = "GET /two HTTP/1.1\r\nHost: two.test\r\n\r\n";

struct fixture {
    struct hspy h;
    struct synth synth;
    struct ui ui;
    struct outbox *outbox;
    FILE *term;
    struct canvas canvas;
    struct dynbuf screen;
    char dir[64], path[128];
};

static const char *screen(struct fixture *f)
{
    return screentest_text(&f->ui, &f->canvas, &f->screen);
}

#define HAS(text) screentest_check(&f->ui, &f->canvas, &f->screen, text, true, __LINE__)

static void keys(struct fixture *f, const char *k)
{
    screentest_type(&f->ui, k);
}

/* Answers the open prompt with the file name (in the test's folder) in place of its text. */
static const char *answer_path(struct fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    ui_key(&f->ui, KEYMAP_CTRL('u'));
    keys(f, f->path);
    keys(f, "\n");
    return f->path;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    *n = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct hspy *h = &f->h;
    hspy_init(h);
    h->opt.cmd = CMD_READ;
    h->limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    h->ex_limits = (struct exchange_limits){HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    unsetenv("TMUX");
    store_init(&h->store, 1000, (size_t)-1);
    synth_init(&f->synth, &h->store, 1 << 20);
    synth_exchange(&f->synth, REQ, strlen(REQ), RESP, strlen(RESP), 1000000000, 1000000);
    synth_exchange(&f->synth, REQ2, strlen(REQ2), RESP, strlen(RESP), 2000000000, 1000000);
    synth_close(&f->synth);
    struct ui_config cfg = {
        .title = "outbox", .limits = &h->limits, .body_max = 1 << 20, .glyphs = &GLYPHS_UTF8};
    ui_init(&f->ui, &h->store, &cfg);
    ui_resize(&f->ui, 30, 160);
    canvas_init(&f->canvas, 30, 160);
    dynbuf_init(&f->screen, 1 << 20);
    f->term = tmpfile();
    assert_non_null(f->term);
    f->outbox = outbox_new(&f->ui, h, f->term);
    snprintf(f->dir, sizeof f->dir, "/tmp/hspy-outbox-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    screen(f);
    keys(f, "g"); /* the POST */
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    outbox_free(f->outbox);
    ui_cleanup(&f->ui);
    canvas_cleanup(&f->canvas);
    dynbuf_cleanup(&f->screen);
    synth_cleanup(&f->synth);
    fclose(f->term);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    uv_loop_close(&f->h.loop);
    store_cleanup(&f->h.store);
    options_cleanup(&f->h.opt);
    free(f);
    return 0;
}

static void test_export_files(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *keys, *name, *contains;
        bool executable;
    } cases[] = {
        {"Ecf", "up.curl", "curl", true}, {"Enf", "up.nc", "nc", true},
        {"Erf", "up.req", REQ, false},    {"ERf", "up.resp", RESP, false},
        {"Ebf", "up.body", "ok", false},  {"Edf", "up.dec", "ok", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        keys(f, cases[i].keys);
        HAS("to file");
        const char *path = answer_path(f, cases[i].name);
        HAS("written to");
        size_t n;
        char *text = slurp(path, &n);
        assert_non_null(text);
        if (!strstr(text, cases[i].contains))
            fail_msg("%s lacks '%s':\n%s", cases[i].name, cases[i].contains, text);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((st.st_mode & S_IXUSR) != 0, cases[i].executable);
        free(text);
    }
    /* The raw request is the bytes exactly. */
    size_t n;
    char path[160];
    snprintf(path, sizeof path, "%s/up.req", f->dir);
    char *raw = slurp(path, &n);
    assert_int_equal(n, strlen(REQ));
    assert_memory_equal(raw, REQ, n);
    free(raw);
}

static void test_clipboard(void **state)
{
    struct fixture *f = *state;
    keys(f, "Ery");
    HAS("sent to the clipboard");
    fflush(f->term);
    rewind(f->term);
    char seq[1024] = "";
    size_t n = fread(seq, 1, sizeof seq - 1, f->term);
    seq[n] = '\0';
    struct dynbuf want;
    dynbuf_init(&want, 4096);
    dynbuf_adds(&want, "\033]52;c;");
    base64_encode(&want, (const uint8_t *)REQ, strlen(REQ));
    assert_non_null(strstr(seq, dynbuf_str(&want)));
    dynbuf_cleanup(&want);
}

static void test_har(void **state)
{
    struct fixture *f = *state;
    keys(f, "wa");
    HAS("save all flows to HAR file");
    answer_path(f, "all.har");
    HAS("2 flows saved to");
    size_t n;
    char *text = slurp(f->path, &n);
    assert_non_null(text);
    assert_int_equal(count(text, "\"timings\""), 2);
    free(text);
    keys(f, "wm");
    answer_path(f, "none.har");
    HAS("nothing saved: no marked flows");
    keys(f, "m");
    keys(f, "w");
    HAS("marked (1)");
    keys(f, "m");
    answer_path(f, "marked.har");
    HAS("1 flows saved to");
    text = slurp(f->path, &n);
    assert_int_equal(count(text, "\"timings\""), 1);
    assert_non_null(strstr(text, "one.test"));
    free(text);
}

static void test_failures(void **state)
{
    struct fixture *f = *state;
    keys(f, "Erf");
    answer_path(f, "missing/x.req");
    HAS("No such file or directory");
    /* Esc at a question writes nothing. */
    keys(f, "E");
    ui_key(&f->ui, KEYMAP_ESC);
    keys(f, "w");
    ui_key(&f->ui, KEYMAP_ESC);
    size_t n;
    snprintf(f->path, sizeof f->path, "%s/hspy.har", f->dir);
    assert_null(slurp(f->path, &n));
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_export_files),
        T(test_clipboard),
        T(test_har),
        T(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
