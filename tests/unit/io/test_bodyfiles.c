/*
 * bodyfiles: --save-bodies as the modes drive it: real conversations fed HTTP bytes with the
 * writer's tap, then the folder read back. Covers the file names (media type, content codings),
 * bodies whole (renamed) and cut (".partial"), a capture's gap (a hole, ".partial"), more bodies
 * in flight than files open at once, --filter, the folder's rules, and a write failure that stops
 * the saving.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/bodyfiles.h"
#include "hspy/conversation.h"
#include "hspy/hspy.h"

struct fixture {
    struct hspy h;
    char base[64];
    char dir[96];
    struct bodyfiles *b;
    uint64_t next_id;
    bool stored; /* exchanges go to h.store (added, completed) rather than being freed */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    hspy_init(&f->h);
    f->h.opt.cmd = CMD_READ;
    f->h.interactive = false;
    snprintf(f->base, sizeof f->base, "/tmp/hspy-test-bodies-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->dir, sizeof f->dir, "%s/bodies", f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bodyfiles_close(f->b);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->base);
    assert_int_equal(system(cmd), 0);
    hspy_cleanup(&f->h);
    free(f);
    return 0;
}

/* Numbers each exchange as the store would and frees it at its end, or, when the test asks,
 * stores it (--filter judges exchanges as the store completes them). */
static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side s, const uint8_t *p, size_t n)
{
    (void)c, (void)s, (void)p, (void)n;
    struct fixture *f = data;
    if (ev == CONV_BEGIN && f->stored)
        store_add(&f->h.store, ex);
    else if (ev == CONV_BEGIN)
        ex->id = ++f->next_id;
    else if (ev == CONV_END && f->stored)
        store_complete(&f->h.store, ex);
    else if (ev == CONV_END)
        exchange_free(ex);
    return CONV_CONTINUE;
}

/* Opens the writer on the fixture's folder (it must succeed). */
static void open_writer(struct fixture *f)
{
    f->b = bodyfiles_open(&f->h, f->dir);
    assert_non_null(f->b);
}

static struct conversation *conv_new(struct fixture *f, bool capture)
{
    struct conversation_config cfg = {.limits = HTTP_LIMITS_DEFAULT,
                                      .exchange = {HTTP_HEAD_MAX_DEFAULT, 1 << 20},
                                      .conn_id = 1,
                                      .capture = capture,
                                      .tap = bodyfiles_tap(f->b)};
    struct conversation_events ev = {f, on_event};
    return conversation_new(&cfg, &ev);
}

static void feed(struct conversation *c, enum side s, const char *text)
{
    size_t n = strlen(text);
    assert_int_equal(conversation_feed(c, s, (const uint8_t *)text, n, 1), n);
}

/* The file DIR/name's bytes (NULL when it does not exist). */
static char *file_text(struct fixture *f, const char *name, size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    return (char *)tu_read_file(path, n);
}

static void assert_file(struct fixture *f, const char *name, const char *want, size_t wantlen)
{
    size_t n = 0;
    char *got = file_text(f, name, &n);
    if (!got)
        fail_msg("%s is missing", name);
    assert_int_equal(n, wantlen);
    assert_memory_equal(got, want, wantlen);
    free(got);
}

static void assert_absent(struct fixture *f, const char *name)
{
    size_t n;
    char *got = file_text(f, name, &n);
    if (got)
        fail_msg("%s exists", name);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *fields; /* the response's fields */
        const char *name;
    } CASES[] = {
        {"Content-Type: application/json\r\n", "7-response.json"},
        {"Content-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n",
         "7-response.html.gz"},
        {"Content-Type: text/plain\r\nContent-Encoding: gzip, br\r\n", "7-response.txt.gz.br"},
        {"Content-Encoding: identity\r\n", "7-response.bin"},
        {"Content-Type: application/x-thing\r\nContent-Encoding: x-custom,zstd\r\n",
         "7-response.bin.enc.zst"},
        {"Content-Type: image/png\r\nContent-Encoding: gzip, gzip, gzip, gzip, gzip\r\n",
         "7-response.png.gz.gz.gz.gz"},
        {"", "7-response.bin"},
    };
    char buf[BODYFILES_NAME_MAX];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char resp[256];
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\n%sContent-Length: 0\r\n\r\n",
                 CASES[i].fields);
        struct exchange *ex = tu_exchange_text(
            "POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 0\r\n\r\n",
            resp, 1);
        ex->id = 7;
        assert_string_equal(bodyfiles_name(ex, SIDE_SERVER, buf, sizeof buf), CASES[i].name);
        assert_string_equal(bodyfiles_name(ex, SIDE_CLIENT, buf, sizeof buf), "7-request.bin");
        /* A short buffer cuts the name and leaves the codings out, never overflows. */
        assert_true(strlen(bodyfiles_name(ex, SIDE_SERVER, buf, 12)) <= 11);
        exchange_free(ex);
    }
}

/* A body in pieces and a chunked one are saved whole (framing removed); a body the connection
 * cut stays ".partial" with what came. */
static void test_whole_and_partial(void **state)
{
    struct fixture *f = *state;
    open_writer(f);
    struct conversation *c = conv_new(f, false);
    feed(c, SIDE_CLIENT, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n");
    feed(c, SIDE_CLIENT, "Content-Length: 11\r\n\r\n{\"a\":");
    feed(c, SIDE_CLIENT, "[1,2]}");
    feed(c, SIDE_SERVER,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
         "Content-Type: text/plain\r\n\r\n3\r\nabc\r\n");
    feed(c, SIDE_SERVER, "4;x=1\r\ndefg\r\n0\r\nT: 1\r\n\r\n");
    feed(c, SIDE_CLIENT, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    feed(c, SIDE_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234");
    conversation_close(c, SIDE_SERVER, 2);
    conversation_free(c);
    assert_file(f, "1-request.json", "{\"a\":[1,2]}", 11);
    assert_file(f, "1-response.txt", "abcdefg", 7);
    assert_absent(f, "1-response.txt.partial");
    assert_absent(f, "2-request.bin"); /* no body: no file */
    assert_file(f, "2-response.bin.partial", "1234", 4);
    assert_absent(f, "2-response.bin");
    assert_false(f->h.write_failed);
}

/* A capture's gap: the bytes after it land at their offset, the hole reads as zeros, and the
 * body is not called whole. */
static void test_gap_is_a_hole(void **state)
{
    struct fixture *f = *state;
    open_writer(f);
    struct conversation *c = conv_new(f, true);
    feed(c, SIDE_CLIENT, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    feed(c, SIDE_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc");
    conversation_gap(c, SIDE_SERVER, 3, 2);
    feed(c, SIDE_SERVER, "ghi");
    conversation_free(c);
    assert_file(f, "1-response.bin.partial", "abc\0\0\0ghi", 9);
    assert_absent(f, "1-response.bin");
}

/* More bodies in flight than files open at once: each is closed and opened again as its pieces
 * come, and every one ends whole. */
static void test_more_bodies_than_open_files(void **state)
{
    struct fixture *f = *state;
    open_writer(f);
    enum { N = BODYFILES_OPEN_MAX + 9 };
    struct conversation *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = conv_new(f, false);
        feed(c[i], SIDE_CLIENT, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        char head[128];
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nA%03d", i);
        feed(c[i], SIDE_SERVER, head);
    }
    for (int i = N - 1; i >= 0; i--) {
        char rest[8];
        snprintf(rest, sizeof rest, "B%03d", i);
        feed(c[i], SIDE_SERVER, rest);
        conversation_free(c[i]);
    }
    for (int i = 0; i < N; i++) {
        char name[32], want[16];
        snprintf(name, sizeof name, "%d-response.bin", i + 1);
        snprintf(want, sizeof want, "A%03dB%03d", i, i);
        assert_file(f, name, want, 8);
    }
}

/* A response head with Content-Length n and the given fields, then n body bytes. */
static void feed_response(struct conversation *c, const char *fields, const uint8_t *body, size_t n)
{
    char head[256];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n\r\n", fields, n);
    feed(c, SIDE_SERVER, head);
    assert_int_equal(conversation_feed(c, SIDE_SERVER, body, n, 1), n);
}

/* --save-decoded: a gzip'd body gets a decoded copy beside it; a corrupt one a partial copy of
 * what decoded; one without coding, or with a coding hspy cannot undo, none. */
static void test_decoded_copy(void **state)
{
    struct fixture *f = *state;
    f->h.opt.save_decoded = true;
    f->h.opt.decode_max = 1 << 20;
    open_writer(f);
    static const char TEXT[] = "hello, decoded world; hello, decoded world; hello, decoded world\n";
    uint8_t gz[256];
    size_t n = tu_gzip(TEXT, gz, sizeof gz);
    struct conversation *c = conv_new(f, false);
    static const char GET[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    feed(c, SIDE_CLIENT, GET);
    feed_response(c, "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n", gz, n);
    uint8_t bad[256];
    memcpy(bad, gz, n);
    bad[n - 6] ^= 0xff; /* the CRC-32 no longer matches */
    feed(c, SIDE_CLIENT, GET);
    feed_response(c, "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n", bad, n);
    feed(c, SIDE_CLIENT, GET);
    feed_response(c, "Content-Type: text/plain\r\n", (const uint8_t *)"plain", 5);
    feed(c, SIDE_CLIENT, GET);
    feed_response(c, "Content-Encoding: x-custom\r\n", gz, n);
    conversation_free(c);
    assert_file(f, "1-response.txt.gz", (const char *)gz, n);
    assert_file(f, "1-response.txt", TEXT, strlen(TEXT));
    assert_file(f, "2-response.txt.gz", (const char *)bad, n);
    assert_absent(f, "2-response.txt");
    size_t got;
    char *partial = file_text(f, "2-response.txt.partial", &got);
    assert_non_null(partial); /* what decoded before the check failed */
    free(partial);
    assert_file(f, "3-response.txt", "plain", 5);
    assert_file(f, "4-response.bin.enc", (const char *)gz, n);
    assert_absent(f, "4-response.bin");
}

/* --filter: the files of an exchange it does not match (its decoded copy too) are removed when
 * the store completes it. */
static void test_filter_removes(void **state)
{
    struct fixture *f = *state;
    store_init(&f->h.store, 100, (size_t)-1);
    f->stored = true;
    f->h.opt.filter = "~m POST";
    f->h.opt.save_decoded = true;
    f->h.opt.decode_max = 1 << 20;
    open_writer(f);
    uint8_t gz[64];
    size_t n = tu_gzip("cd", gz, sizeof gz);
    struct conversation *c = conv_new(f, false);
    feed(c, SIDE_CLIENT, "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab");
    feed_response(c, "Content-Encoding: gzip\r\n", gz, n);
    feed(c, SIDE_CLIENT, "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nef");
    feed_response(c, "Content-Encoding: gzip\r\n", gz, n);
    conversation_free(c);
    assert_absent(f, "1-request.bin");
    assert_absent(f, "1-request.bin.partial");
    assert_absent(f, "1-response.bin.gz");
    assert_absent(f, "1-response.bin");
    assert_file(f, "2-request.bin", "ef", 2);
    assert_file(f, "2-response.bin.gz", (const char *)gz, n);
    assert_file(f, "2-response.bin", "cd", 2);
}

static void test_folder_rules(void **state)
{
    struct fixture *f = *state;
    /* Created when missing; refused when not empty, with why. */
    struct bodyfiles *b = bodyfiles_open(&f->h, f->dir);
    assert_non_null(b);
    bodyfiles_close(b);
    char path[160];
    snprintf(path, sizeof path, "%s/old", f->dir);
    FILE *old = fopen(path, "w");
    assert_non_null(old);
    fclose(old);
    assert_null(bodyfiles_open(&f->h, f->dir));
    assert_non_null(strstr(f->h.err, "not empty"));
    /* Not a folder. */
    assert_null(bodyfiles_open(&f->h, path));
    assert_non_null(strstr(f->h.err, path));
    snprintf(path, sizeof path, "%s/old/below", f->dir);
    assert_null(bodyfiles_open(&f->h, path));
    assert_non_null(strstr(f->h.err, "Not a directory"));
}

/* A write that fails (the file size limit) stops the saving: the body stays ".partial", later
 * bodies get no file, and the session's outputs are marked failed. */
static void run_failing_writes(struct fixture *f)
{
    open_writer(f);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {4, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct conversation *c = conv_new(f, false);
    feed(c, SIDE_CLIENT, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    feed(c, SIDE_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcdefgh");
    feed(c, SIDE_CLIENT, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy");
    conversation_free(c);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_true(f->h.write_failed);
    assert_file(f, "1-response.bin.partial", "abcd", 4);
    assert_absent(f, "1-response.bin");
    assert_absent(f, "2-request.bin.partial");
    assert_absent(f, "2-request.bin");
}

/* Without the interface the failure goes to stderr at once; the session's error stays empty. */
static void test_write_failure_stops(void **state)
{
    struct fixture *f = *state;
    run_failing_writes(f);
    assert_string_equal(f->h.err, "");
}

/* Under the interface it becomes the session's error, which its screen shows. */
static void test_write_failure_on_screen(void **state)
{
    struct fixture *f = *state;
    f->h.interactive = true;
    run_failing_writes(f);
    char want[256];
    snprintf(want, sizeof want, "--save-bodies: %s/1-response.bin.partial: %s", f->dir,
             strerror(EFBIG));
    assert_non_null(strstr(f->h.err, want));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_names),
        T(test_whole_and_partial),
        T(test_gap_is_a_hole),
        T(test_more_bodies_than_open_files),
        T(test_filter_removes),
        T(test_decoded_copy),
        T(test_folder_rules),
        T(test_write_failure_stops),
        T(test_write_failure_on_screen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
