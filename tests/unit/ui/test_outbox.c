/*
 * outbox: the export (E) and HAR (w) keys driven through the ui without a terminal: each form
 * written to the file named at the prompt (scripts executable), the clipboard as an OSC 52
 * sequence on the terminal stream, all and marked flows saved as HAR, a failed write and a
 * cancelled question reported without writing anything. A large save goes on in steps (frames
 * keep coming, a second w shows its progress, quitting finishes it); exchanges evicted between
 * steps are counted, not written; a disk that fills up during a save is reported.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hspy/base64.h"
#include "hspy/harfile.h"
#include "hspy/hspy.h"
#include "hspy/outbox.h"
#include "hspy/ui.h"
#include "screentest.h"
#include "synth.h"

static const char REQ[] = "POST /up HTTP/1.1\r\nHost: one.test\r\nContent-Length: 5\r\n\r\nhello";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char REQ2[] = "GET /two HTTP/1.1\r\nHost: two.test\r\n\r\n";

/* Flows of the large save: well over what one step (OUTBOX_SAVE_STEP_MS) writes. */
enum { BIG_SAVE = 6000 };

struct fixture {
    struct hspy h;
    struct synth synth;
    struct ui ui;
    struct outbox *outbox;
    FILE *term;
    struct canvas canvas;
    struct dynbuf screen;
    char dir[64], path[512];
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

/*
 * Runs frames, and the loop (for the fsync on a worker thread), until the ui has no work left;
 * returns how many frames that took (at most a minute's worth).
 */
static int settle(struct fixture *f)
{
    int frames = 0;
    for (time_t end = time(NULL) + 60; ui_busy(&f->ui) && time(NULL) < end; frames++) {
        ui_update(&f->ui);
        uv_run(&f->h.loop, UV_RUN_NOWAIT);
    }
    assert_false(ui_busy(&f->ui));
    return frames;
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
    store_init(&h->store, BIG_SAVE, (size_t)-1);
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
    /* A file that exists is replaced only after y: the response over the request's file. */
    keys(f, "ERf");
    answer_path(f, "up.req");
    HAS("up.req exists: replace it?");
    keys(f, "n");
    HAS("cancelled");
    raw = slurp(path, &n);
    assert_memory_equal(raw, REQ, strlen(REQ));
    free(raw);
    keys(f, "ERf");
    answer_path(f, "up.req");
    keys(f, "y");
    HAS("written to");
    raw = slurp(path, &n);
    assert_int_equal(n, strlen(RESP));
    assert_memory_equal(raw, RESP, n);
    free(raw);

    /* A name too wide for the screen gives way in its middle: the start of the path, the file's
     * name, the question and its answers stay on screen, at every width down to 60. */
    char name[260];
    memset(name, 'n', 200);
    snprintf(name + 200, sizeof name - 200, "-end.req");
    keys(f, "ERf");
    answer_path(f, name);
    HAS("written to");
    keys(f, "ERf");
    answer_path(f, name);
    for (int w = 120; w >= 60; w -= 7) {
        ui_resize(&f->ui, 30, w);
        const char *s = screen(f);
        char start[8];
        snprintf(start, sizeof start, "\n %.4s", f->dir);
        const char *line = strstr(s, start);
        if (!line || !strstr(line, "…n") || !strstr(line, "n-end.req exists: replace it?") ||
            !strstr(line, "y yes   any other key: no"))
            fail_msg("width %d:\n%s", w, s);
    }
    ui_resize(&f->ui, 30, 120);
    keys(f, "n");
    HAS("cancelled");
}

/* --save-bodies: exporting a body the flow kept only part of names the file that has all of
 * it; without that file the export says it lacks bytes. */
static void test_export_points_to_saved_body(void **state)
{
    struct fixture *f = *state;
    struct synth cut;
    synth_init(&cut, &f->h.store, 4); /* keeps 4 body bytes of 10 */
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    synth_exchange(&cut, REQ2, strlen(REQ2), resp, strlen(resp), 3000000000, 1000000);
    synth_close(&cut);
    char saved[160];
    snprintf(saved, sizeof saved, "%s/3-response.bin", f->dir);
    f->h.opt.bodies_dir = f->dir;
    screen(f);    /* the list takes the new flow */
    keys(f, "G"); /* the cut flow */
    keys(f, "Ebf");
    answer_path(f, "cut.body");
    HAS("the flow lacks bytes (cut or missing): so does this");
    FILE *fp = fopen(saved, "w");
    assert_non_null(fp);
    fputs("0123456789", fp);
    fclose(fp);
    keys(f, "Ebf");
    answer_path(f, "cut2.body");
    char want[256];
    snprintf(want, sizeof want, "the flow kept part of the body: all of it is in %s", saved);
    HAS(want);
    f->h.opt.bodies_dir = NULL;
    synth_cleanup(&cut);
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
    /* Both entries went in the first step; the fsync runs on a worker thread, the loop goes on. */
    HAS("saving 2 flows to");
    HAS("writing to disk");
    settle(f);
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
    settle(f);
    HAS("1 flow saved to");
    text = slurp(f->path, &n);
    assert_int_equal(count(text, "\"timings\""), 1);
    assert_non_null(strstr(text, "one.test"));
    free(text);
}

/* Adds n more flows on one connection, one second apart after the first two. */
static void add_flows(struct fixture *f, size_t n, int64_t from)
{
    struct synth s;
    synth_init(&s, &f->h.store, 1 << 20);
    for (size_t i = 0; i < n; i++)
        synth_exchange(&s, REQ2, strlen(REQ2), RESP, strlen(RESP), (from + (int64_t)i) * 1000000000,
                       1000000);
    synth_cleanup(&s);
}

/* Entries in a HAR document, which must parse as JSON. */
static size_t har_entries(const char *path)
{
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    assert_non_null(doc);
    json_t *entries = json_object_get(json_object_get(doc, "log"), "entries");
    assert_true(json_is_array(entries));
    size_t n = json_array_size(entries);
    json_decref(doc);
    return n;
}

static void test_har_in_steps(void **state)
{
    struct fixture *f = *state;
    add_flows(f, BIG_SAVE - 2, 3);
    keys(f, "w");
    HAS("all (6000)");
    keys(f, "a");
    answer_path(f, "big.har");
    /* The first step ran at once and did not write everything: the rest comes frame by frame. */
    HAS("saving 6000 flows to");
    assert_true(ui_busy(&f->ui));
    assert_true(ui_waited_on(&f->ui));
    size_t n;
    assert_null(slurp(f->path, &n)); /* only the temporary file exists so far */
    keys(f, "w");                    /* one save at a time: no question, the progress again */
    assert_false(f->ui.choosing);
    HAS("saving 6000 flows to");
    assert_true(settle(f) > 1);
    HAS("6000 flows saved to");
    assert_int_equal(har_entries(f->path), BIG_SAVE);
}

static void test_quit_during_save(void **state)
{
    struct fixture *f = *state;
    add_flows(f, BIG_SAVE - 2, 3);
    keys(f, "wa");
    answer_path(f, "quit.har");
    HAS("saving 6000 flows to");
    /* The interface ends (as when the user quits): the save is finished, not lost. */
    outbox_free(f->outbox);
    f->outbox = NULL;
    assert_int_equal(har_entries(f->path), BIG_SAVE);
    assert_false(ui_busy(&f->ui)); /* the task is gone with its owner */
}

static void test_har_job_eviction(void **state)
{
    struct fixture *f = *state;
    add_flows(f, BIG_SAVE - 2, 3);
    struct store *st = &f->h.store;
    uint64_t *ids = calloc(BIG_SAVE, sizeof *ids);
    size_t k = 0;
    for (uint64_t id = store_first_id(st); id < store_end_id(st); id++)
        ids[k++] = id;
    assert_int_equal(k, BIG_SAVE);
    snprintf(f->path, sizeof f->path, "%s/job.har", f->dir);
    char err[256];
    struct harfile_job *j = harfile_begin(&f->h, ids, k, f->path, err, sizeof err);
    assert_non_null(j);
    /* No time to spare: one entry a step. */
    size_t total;
    assert_true(harfile_step(j, 0));
    assert_int_equal(harfile_progress(j, &total), 1);
    assert_int_equal(total, BIG_SAVE);
    assert_true(harfile_step(j, 0));
    assert_int_equal(harfile_progress(j, &total), 2);
    /* Ten new flows evict the ten oldest: two are written already, eight are gone. */
    add_flows(f, 10, 10000);
    struct harfile_stats stats;
    assert_int_equal(harfile_finish(j, &stats, err, sizeof err), 0);
    assert_int_equal(stats.written, BIG_SAVE - 8);
    assert_int_equal(stats.missing, 8);
    assert_int_equal(stats.dropped, 0);
    assert_int_equal(har_entries(f->path), BIG_SAVE - 8);
    /* A file that cannot be made is an error at the start. */
    snprintf(f->path, sizeof f->path, "%s/no/such/dir.har", f->dir);
    assert_null(harfile_begin(&f->h, ids, k, f->path, err, sizeof err));
    assert_non_null(strstr(err, "No such file or directory"));
    free(ids);
}

/* A disk that fills up during a large save: the error is shown and the steps stop. */
static void test_save_write_error(void **state)
{
    struct fixture *f = *state;
    if (access("/dev/full", W_OK) != 0) {
        print_message("skipped: no writable /dev/full on this machine\n");
        skip();
    }
    add_flows(f, BIG_SAVE - 2, 3);
    keys(f, "wa");
    ui_key(&f->ui, KEYMAP_CTRL('u'));
    keys(f, "/dev/full\n");
    settle(f);
    HAS("save: /dev/full: No space left on device");
    /* The next w asks again: the failed save is over. */
    keys(f, "w");
    HAS("all (6000)");
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
        T(test_export_files),     T(test_export_points_to_saved_body),
        T(test_clipboard),        T(test_har),
        T(test_har_in_steps),     T(test_quit_during_save),
        T(test_har_job_eviction), T(test_save_write_error),
        T(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
