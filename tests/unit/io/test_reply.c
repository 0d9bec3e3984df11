/*
 * reply: a fixed reply reused by its connection (reply_retire, reply_fixed_reuse) sends exactly
 * what a new one would, whatever changed between requests: the Date text in place, a header
 * line edited in memory at the same address, the reason, the connection flags, HEAD, HTTP/0.9,
 * a body where none belongs, and heads too long to keep.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/reply.h"
#include "hspy/xmalloc.h"

struct harness {
    uv_loop_t loop;
    struct sender sender;
    struct dynbuf out, scratch;
    char date[64];
};

static void on_write(void *data, const uint8_t *p, size_t n)
{
    struct harness *h = data;
    dynbuf_append(&h->out, p, n);
}

static void on_finish(void *data, enum sender_finish how)
{
    (void)data;
    (void)how;
}

static bool never_full(void *data)
{
    (void)data;
    return false;
}

static void harness_init(struct harness *h)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    struct sender_events ev = {h, on_write, on_finish, NULL, NULL};
    sender_init(&h->sender, &h->loop, &ev);
    dynbuf_init(&h->out, 1 << 20);
    dynbuf_init(&h->scratch, 1 << 20);
    strcpy(h->date, "Thu, 26 Nov 2026 09:00:00 GMT");
}

static void harness_cleanup(struct harness *h)
{
    sender_close(&h->sender, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    dynbuf_cleanup(&h->out);
    dynbuf_cleanup(&h->scratch);
}

struct variant {
    bool close, keep_alive10, head_request, http09;
};

static struct reply_env env_of(struct harness *h, const struct variant *v)
{
    struct reply_env env = {
        .loop = &h->loop,
        .sender = &h->sender,
        .date = h->date,
        .scratch = &h->scratch,
        .software = "hspy/test",
        .head_request = v->head_request,
        .http11 = !v->keep_alive10,
        .http09 = v->http09,
        .close = v->close,
        .keep_alive10 = v->keep_alive10,
        .data = h,
        .full = never_full,
    };
    return env;
}

/* Runs r to its end and returns what it sent (caller frees). */
static char *run(struct harness *h, struct reply *r)
{
    dynbuf_reset(&h->out);
    sender_begin(&h->sender, NULL);
    r->ops->done(r);
    return xstrdup(dynbuf_str(&h->out));
}

static void test_reuse_sends_what_new_sends(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h);
    char line[64] = "X-Test: one";
    char *big = malloc(REPLY_HEAD_MEMO_MAX + 100);
    memset(big, 'b', REPLY_HEAD_MEMO_MAX + 99);
    memcpy(big, "X-Big: ", 7);
    big[REPLY_HEAD_MEMO_MAX + 99] = '\0';
    const char *headers[] = {line, "Content-Type: text/plain"};
    const char *big_headers[] = {big};
    static const struct variant VARIANTS[] = {
        {false, false, false, false}, {true, false, false, false}, {false, true, false, false},
        {false, false, true, false},  {false, false, false, true},
    };
    /* Each step changes one thing the head depends on, after requests that let the spare keep
     * the previous head; the spare follows along through every variant. */
    struct reply *spare = NULL;
    for (size_t v = 0; v < sizeof VARIANTS / sizeof VARIANTS[0]; v++) {
        strcpy(h.date, "Thu, 26 Nov 2026 09:00:00 GMT");
        strcpy(line, "X-Test: one");
        for (int step = 0; step < 10; step++) {
            struct reply_fixed_spec spec = {200, NULL, headers, 2, (const uint8_t *)"ok", 2, false};
            if (step == 2)
                strcpy(h.date, "Thu, 26 Nov 2026 09:00:01 GMT"); /* in place, same address */
            if (step >= 3)
                strcpy(line, "X-Test: two"); /* an edit at the same address */
            if (step == 4)
                spec.reason = "Fine";
            if (step == 5)
                spec.status = 204; /* a body where none belongs */
            if (step == 6)
                spec.nheaders = 1;
            if (step == 7)
                spec.headers = big_headers, spec.nheaders = 1; /* too long to keep */
            if (step == 8)
                spec.body_len = 1;
            if (step == 9)
                h.date[0] = '\0';
            for (int again = 0; again < 2; again++) {
                struct reply_env env = env_of(&h, &VARIANTS[v]);
                struct reply *fresh = reply_fixed_new(&env, &spec);
                char *want = run(&h, fresh);
                reply_free(fresh);
                struct reply *reused = reply_fixed_reuse(spare, &env, &spec);
                char *got = run(&h, reused);
                assert_string_equal(got, want);
                spare = reply_retire(reused);
                assert_non_null(spare);
                free(want);
                free(got);
            }
        }
    }
    /* An error reply owns its text: it is freed, not kept. */
    struct variant plain = {0};
    struct reply_env env = env_of(&h, &plain);
    assert_null(reply_retire(reply_error_new(&env, 400, "bad")));
    reply_free(spare);
    free(big);
    harness_cleanup(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_sends_what_new_sends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
