/*
 * sinks: the printer and the HAR file as the modes drive them: exchanges added to and
 * completed in a real store, output into temporary files (or pipes, or /dev/full), then read
 * back. Covers every stdout style, buffering until sinks_flush, a HAR file that is valid after
 * every entry and after close (in-flight exchanges included), open and filter errors, and
 * failing writes: a full device, a file size limit that later lifts, a reader that went away.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hspy/base64.h"
#include "hspy/conversation.h"
#include "hspy/hspy.h"
#include "hspy/sinks.h"

struct fixture {
    struct hspy h;
    char dir[64];
    char out_path[128];
    char har_path[128];
    int out_fd;
};

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    hspy_init(&f->h);
    f->h.opt.cmd = CMD_READ;
    f->h.opt.no_tui = true;
    snprintf(f->dir, sizeof f->dir, "/tmp/hspy-test-sinks-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->out_path, sizeof f->out_path, "%s/out.txt", f->dir);
    snprintf(f->har_path, sizeof f->har_path, "%s/x.har", f->dir);
    f->out_fd = open(f->out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(f->out_fd >= 0);
    return f;
}

static struct sinks *start(struct fixture *f)
{
    hspy_configure(&f->h);
    f->h.interactive = false;
    snprintf(f->h.title, sizeof f->h.title, "read test.pcap");
    return sinks_open_fd(&f->h, f->out_fd);
}

static void fixture_free(struct fixture *f)
{
    hspy_cleanup(&f->h);
    close(f->out_fd);
    unlink(f->out_path);
    unlink(f->har_path);
    rmdir(f->dir);
    free(f);
}

static char *read_text(const char *path)
{
    size_t n;
    char *t = (char *)tu_read_file(path, &n);
    assert_non_null(t);
    return t;
}

/* Adds and completes an exchange, as a source would. */
static void complete(struct fixture *f, const char *req, const char *resp, uint64_t conn)
{
    struct exchange *ex = tu_exchange_text(req, resp, 1700000000000000000);
    ex->flags &= ~(uint32_t)EX_DONE;
    ex->conn_id = conn;
    ex->conn_seq = 1;
    endpoint_set(&ex->client, "127.0.0.1", 40000);
    endpoint_set(&ex->server, "127.0.0.1", 8000);
    store_add(&f->h.store, ex);
    store_complete(&f->h.store, ex);
}

static const int64_t T0 = 1700000000000000000;
static const char *REQ = "GET /index.html HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n";
static const char *RESP = "HTTP/1.1 200 OK\\r\\nContent-Length: 12\\r\\n\\r\\nhello world\\n";

static size_t count_lines(const char *t)
{
    size_t n = 0;
    for (; *t; t++)
        n += *t == '\n';
    return n;
}

static void assert_printable(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            fail_msg("control byte 0x%02x in output", *p);
}

static void test_line_log_buffered_until_flush(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct sinks *s = start(f);
    assert_non_null(s);
    complete(f, REQ, RESP, 1);
    complete(f,
             "POST /\\x1b[31mred\\x1b[0m HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 1\\r\\n"
             "Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
             NULL, 2);
    char *t = read_text(f->out_path);
    assert_string_equal(t, ""); /* buffered: nothing written per line */
    free(t);
    sinks_flush(s);
    t = read_text(f->out_path);
    assert_int_equal(count_lines(t), 2);
    assert_printable(t);
    assert_non_null(strstr(t, "2023-11-14T22:13:20.001Z 127.0.0.1:40000 #1.1 GET /index.html "
                              "200 12 5.000ms\n"));
    assert_non_null(strstr(t, "#2.1 POST /\\x1b[31mred\\x1b[0m - - - !invalid-target,cl-and-te\n"));
    free(t);
    assert_int_equal(sinks_counters(s)->printed, 2);
    sinks_close(s);
    fixture_free(f);
}

static void test_full_log(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    f->h.opt.log_style = LOG_FULL;
    f->h.opt.body_limit = 5;
    struct sinks *s = start(f);
    complete(f, REQ, RESP, 1);
    sinks_close(s);
    char *t = read_text(f->out_path);
    assert_printable(t);
    assert_non_null(strstr(t, "> GET /index.html HTTP/1.1\xe2\x90\x8d\xe2\x90\x8a\n"));
    assert_non_null(strstr(t, "< HTTP/1.1 200 OK\xe2\x90\x8d\xe2\x90\x8a\n"));
    assert_non_null(strstr(t, "* response body: 12 bytes; first 5 shown\nhello\n"));
    assert_non_null(strstr(t, "* 7 more bytes not shown (--body-limit 5)\n"));
    free(t);
    fixture_free(f);
}

static void test_log_none_and_json(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    f->h.opt.log_style = LOG_NONE;
    struct sinks *s = start(f);
    complete(f, REQ, RESP, 1);
    sinks_close(s);
    char *t = read_text(f->out_path);
    assert_string_equal(t, "");
    free(t);
    fixture_free(f);

    f = fixture_new();
    f->h.opt.json = true;
    s = start(f);
    for (int i = 0; i < 5; i++)
        complete(f, REQ, RESP, (uint64_t)i + 1);
    sinks_close(s);
    t = read_text(f->out_path);
    assert_int_equal(count_lines(t), 5);
    char *line = t;
    for (int i = 0; i < 5; i++) {
        char *nl = strchr(line, '\n');
        json_t *v = json_loadb(line, (size_t)(nl - line), 0, NULL);
        assert_non_null(v);
        assert_int_equal(json_integer_value(json_object_get(v, "connection")), i + 1);
        json_decref(v);
        line = nl + 1;
    }
    free(t);
    fixture_free(f);
}

static json_t *load_har(const char *path)
{
    json_error_t err;
    json_t *v = json_load_file(path, JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return v;
}

static size_t har_entries(const char *path)
{
    json_t *v = load_har(path);
    size_t n = json_array_size(json_object_get(json_object_get(v, "log"), "entries"));
    json_decref(v);
    return n;
}

static void test_har_valid_after_every_entry(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    f->h.opt.har_path = f->har_path;
    f->h.opt.log_style = LOG_NONE;
    struct sinks *s = start(f);
    assert_non_null(s);
    assert_int_equal(har_entries(f->har_path), 0);
    for (size_t i = 1; i <= 4; i++) {
        complete(f, REQ, RESP, i);
        /* No close yet: what a crash would leave behind. */
        assert_int_equal(har_entries(f->har_path), i);
    }
    /* An exchange still in flight at close is written too, without "done". */
    struct exchange *open = tu_exchange_text("POST /slow HTTP/1.1\\r\\nHost: h\\r\\n"
                                             "Content-Length: 100\\r\\n\\r\\npartial",
                                             NULL, 1);
    open->flags &= ~(uint32_t)EX_DONE;
    store_add(&f->h.store, open);
    sinks_close(s);
    json_t *v = load_har(f->har_path);
    json_t *entries = json_object_get(json_object_get(v, "log"), "entries");
    assert_int_equal(json_array_size(entries), 5);
    json_t *last = json_object_get(json_array_get(entries, 4), "_hspy");
    assert_int_equal(json_array_size(json_object_get(last, "flags")), 0);
    json_t *page = json_array_get(json_object_get(json_object_get(v, "log"), "pages"), 0);
    assert_string_equal(json_string_value(json_object_get(page, "title")), "read test.pcap");
    json_decref(v);
    fixture_free(f);
}

static void test_har_interactive_no_stdout(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    f->h.opt.har_path = f->har_path;
    hspy_configure(&f->h);
    f->h.interactive = true;
    struct sinks *s = sinks_open_fd(&f->h, f->out_fd);
    complete(f, REQ, RESP, 1);
    sinks_close(s);
    char *t = read_text(f->out_path);
    assert_string_equal(t, "");
    free(t);
    assert_int_equal(har_entries(f->har_path), 1);
    fixture_free(f);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    f->h.opt.har_path = "/nonexistent-dir/x.har";
    assert_null(start(f));
    assert_string_equal(f->h.err, "/nonexistent-dir/x.har: No such file or directory");
    fixture_free(f);

    f = fixture_new();
    f->h.opt.filter = "((( unbalanced";
    assert_null(start(f));
    assert_true(strncmp(f->h.err, "--filter: ", 10) == 0);
    fixture_free(f);

    f = fixture_new();
    f->h.opt.filter = "";
    struct sinks *s = start(f);
    assert_non_null(s);
    complete(f, REQ, RESP, 1);
    sinks_close(s);
    char *t = read_text(f->out_path);
    assert_int_equal(count_lines(t), 1);
    free(t);
    fixture_free(f);
}

/* Runs fn with stderr going to a file; returns what was written there. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/hspy-test-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    char *t = read_text(path);
    unlink(path);
    return t;
}

static void full_device_run(void *arg)
{
    struct fixture *f = arg;
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);
    f->h.opt.har_path = "/dev/full";
    hspy_configure(&f->h);
    struct sinks *s = sinks_open_fd(&f->h, full);
    assert_non_null(s);
    for (int i = 0; i < 50; i++) {
        complete(f, REQ, RESP, (uint64_t)i + 1);
        sinks_flush(s);
    }
    const struct sinks_counters *c = sinks_counters(s);
    assert_true(c->write_errors >= 50);
    assert_int_equal(c->har_entries, 0);
    assert_true(c->lost >= 100); /* every line and every entry */
    assert_non_null(strstr(sinks_error(s), "No space left on device"));
    sinks_close(s);
    close(full);
}

static void test_full_device(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    char *err = capture_stderr(full_device_run, f);
    /* One line per destination when the failure starts, one summary each at close. */
    assert_int_equal(count_lines(err), 4);
    assert_non_null(strstr(err, "hspy: stdout: write failed: No space left on device"));
    assert_non_null(strstr(err, "hspy: /dev/full: write failed: No space left on device"));
    assert_non_null(strstr(err, "hspy: /dev/full: 50 records could not be written"));
    free(err);
    fixture_free(f);
}

/* A file size limit stops HAR writes mid-file; once it lifts, the file is whole again. */
static void size_limit_run(void *arg)
{
    struct fixture *f = arg;
    f->h.opt.har_path = f->har_path;
    f->h.opt.log_style = LOG_NONE;
    struct sinks *s = start(f);
    assert_non_null(s);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 6000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int i = 0; i < 20; i++)
        complete(f, REQ, RESP, (uint64_t)i + 1);
    uint64_t written = sinks_counters(s)->har_entries;
    assert_true(written > 0 && written < 20);
    assert_true(sinks_counters(s)->lost > 0);
    /* Still a valid document holding exactly the entries reported written. */
    assert_int_equal(har_entries(f->har_path), written);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    complete(f, REQ, RESP, 99);
    assert_int_equal(sinks_counters(s)->har_entries, written + 1);
    sinks_close(s);
    assert_int_equal(har_entries(f->har_path), written + 1);
}

static void test_file_size_limit(void **state)
{
    (void)state;
    signal(SIGXFSZ, SIG_IGN);
    struct fixture *f = fixture_new();
    char *err = capture_stderr(size_limit_run, f);
    assert_non_null(strstr(err, "write failed: File too large"));
    assert_non_null(strstr(err, "writing again;"));
    free(err);
    fixture_free(f);
}

static void closed_pipe_run(void *arg)
{
    struct fixture *f = arg;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    hspy_configure(&f->h);
    struct sinks *s = sinks_open_fd(&f->h, p[1]);
    complete(f, REQ, RESP, 1);
    sinks_flush(s);
    complete(f, REQ, RESP, 2);
    sinks_flush(s);
    assert_true(sinks_counters(s)->stdout_closed);
    assert_int_equal(sinks_counters(s)->lost, 2);
    sinks_close(s);
    close(p[1]);
}

static void test_closed_pipe_is_quiet(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    struct fixture *f = fixture_new();
    char *err = capture_stderr(closed_pipe_run, f);
    /* Like any pipeline member whose reader left: no complaint, only the close summary. */
    assert_null(strstr(err, "write failed"));
    free(err);
    fixture_free(f);
}

/* The conversation engine as a source: exchanges begin in the store and complete there. */
static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)c, (void)side, (void)p, (void)n;
    struct store *st = data;
    if (ev == CONV_BEGIN)
        store_add(st, ex);
    else if (ev == CONV_END)
        store_complete(st, ex);
    return CONV_CONTINUE;
}

/* Pipelined keep-alive traffic through the real engine: JSON, HAR and raw bytes agree. */
static void test_through_conversation(void **state)
{
    (void)state;
    static const char REQS[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                               "POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                               "\r\n3\r\n\xff\x00\x1b\r\n0\r\n\r\n"
                               "HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char RESPS[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                "HTTP/1.1 100 Continue\r\n\r\n"
                                "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
                                "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
    struct fixture *f = fixture_new();
    f->h.opt.har_path = f->har_path;
    f->h.opt.json = true;
    struct sinks *s = start(f);
    struct conversation_config cfg = {
        .limits = f->h.limits, .exchange = f->h.ex_limits, .conn_id = 1};
    endpoint_set(&cfg.client, "127.0.0.1", 40000);
    endpoint_set(&cfg.server, "127.0.0.1", 8000);
    struct conversation *c =
        conversation_new(&cfg, &(struct conversation_events){&f->h.store, on_event});
    const uint8_t *req = (const uint8_t *)REQS, *resp = (const uint8_t *)RESPS;
    size_t rn = sizeof REQS - 1, sn = sizeof RESPS - 1;
    /* Pipelined: every request first, then the responses, both byte by byte. */
    for (size_t i = 0; i < rn; i++)
        assert_int_equal(conversation_feed(c, SIDE_CLIENT, req + i, 1, T0 + (int64_t)i), 1);
    for (size_t i = 0; i < sn; i++)
        conversation_feed(c, SIDE_SERVER, resp + i, 1, T0 + 1000 + (int64_t)i);
    conversation_free(c);
    sinks_close(s);
    char *t = read_text(f->out_path);
    assert_int_equal(count_lines(t), 3);
    json_t *har = load_har(f->har_path);
    json_t *entries = json_object_get(json_object_get(har, "log"), "entries");
    assert_int_equal(json_array_size(entries), 3);
    /* The three requests' raw bytes, concatenated, are the client's bytes exactly. */
    struct dynbuf all;
    dynbuf_init(&all, 1 << 16);
    for (size_t i = 0; i < 3; i++) {
        json_t *r =
            json_object_get(json_object_get(json_array_get(entries, i), "_hspy"), "request");
        const char *b64 = json_string_value(json_object_get(r, "raw"));
        assert_int_equal(base64_decode(&all, b64, strlen(b64)), 0);
    }
    assert_int_equal(all.len, rn);
    assert_memory_equal(all.data, req, rn);
    /* Same for the server's bytes, interim response included. */
    dynbuf_reset(&all);
    for (size_t i = 0; i < 3; i++) {
        json_t *r =
            json_object_get(json_object_get(json_array_get(entries, i), "_hspy"), "response");
        const char *b64 = json_string_value(json_object_get(r, "raw"));
        assert_int_equal(base64_decode(&all, b64, strlen(b64)), 0);
    }
    assert_int_equal(all.len, sn);
    assert_memory_equal(all.data, resp, sn);
    const char *post = json_string_value(json_object_get(
        json_object_get(json_object_get(json_array_get(entries, 1), "request"), "postData"),
        "encoding"));
    assert_string_equal(post, "base64");
    dynbuf_cleanup(&all);
    json_decref(har);
    free(t);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_log_buffered_until_flush),
        cmocka_unit_test(test_full_log),
        cmocka_unit_test(test_log_none_and_json),
        cmocka_unit_test(test_har_valid_after_every_entry),
        cmocka_unit_test(test_har_interactive_no_stdout),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_closed_pipe_is_quiet),
        cmocka_unit_test(test_through_conversation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
