/*
 * intercept: the filter decides what is held; a hold pins and flags its exchange and counts in
 * the store; accept sends the staged edit (recording what it replaced), a chosen answer or the
 * message as it was; kill and drop end holds; accept-all releases only the holds that existed;
 * the hold timeout releases or kills on the loop with a visible warning.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "hspy/edit.h"
#include "hspy/intercept.h"

struct fake {
    struct intercept *ic;
    int releases, kills;
    uint8_t answer;
    size_t rule;
    char bytes[256];
    size_t len;
    bool had_plan;
    uint64_t trickle;
    struct exchange *rehold; /* held again from inside a release (a pipelined request) */
};

static void fake_release(void *data, struct exchange *ex, const struct intercept_release *r);
static void fake_kill(void *data, struct exchange *ex);
static const struct intercept_hold_ops OPS = {fake_release, fake_kill};

static void fake_release(void *data, struct exchange *ex, const struct intercept_release *r)
{
    struct fake *f = data;
    assert_false(ex->flags & EX_HELD);
    assert_true(ex->pins > 0); /* still pinned while the mode acts */
    f->releases++;
    f->answer = r->answer;
    f->rule = r->rule;
    f->len = r->len < sizeof f->bytes ? r->len : sizeof f->bytes;
    if (r->bytes)
        memcpy(f->bytes, r->bytes, f->len);
    f->had_plan = r->plan != NULL;
    f->trickle = r->plan ? r->plan->trickle_bytes : 0;
    if (f->rehold) {
        struct exchange *again = f->rehold;
        f->rehold = NULL;
        intercept_hold(f->ic, again, SIDE_CLIENT, SIDE_SERVER, &OPS, f);
    }
}

static void fake_kill(void *data, struct exchange *ex)
{
    struct fake *f = data;
    exchange_fail(ex, EX_KILLED, "killed");
    f->kills++;
}

static int preview(void *data, const struct exchange *ex, struct dynbuf *out)
{
    (void)data, (void)ex;
    dynbuf_adds(out, "HTTP/1.1 200 OK\r\n\r\nPREVIEW");
    return 0;
}

struct fixture {
    uv_loop_t loop;
    struct store store;
    struct intercept ic;
    struct intercept_answers answers;
    struct fake fake;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    store_init(&f->store, 1000, (size_t)-1);
    intercept_init(&f->ic, &f->loop, &f->store, 0, false);
    f->answers.preview = preview;
    f->ic.answers = &f->answers;
    f->fake.ic = &f->ic;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    intercept_close(&f->ic);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    intercept_cleanup(&f->ic);
    store_cleanup(&f->store);
    uv_loop_close(&f->loop);
    free(f);
    return 0;
}

/* A request stored as a source would store it (pinned until completed). */
static struct exchange *request(struct fixture *f, const char *text)
{
    struct exchange *ex = tu_exchange_text(text, NULL, 0);
    store_add(&f->store, ex);
    return ex;
}

static void test_filter(void **state)
{
    struct fixture *f = *state;
    struct exchange *post = request(f, "POST /a HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    struct exchange *get = request(f, "GET /b HTTP/1.1\\r\\n\\r\\n");
    assert_false(intercept_wants(&f->ic, post)); /* no filter: nothing is held */
    char err[256];
    size_t pos = 0;
    assert_int_equal(intercept_set_filter(&f->ic, "~m POST", err, sizeof err, &pos), 0);
    assert_true(intercept_wants(&f->ic, post));
    assert_false(intercept_wants(&f->ic, get));
    assert_string_equal(f->ic.expr, "~m POST");
    assert_int_equal(intercept_set_filter(&f->ic, "~m (", err, sizeof err, &pos), -1);
    assert_true(intercept_wants(&f->ic, post)); /* a bad expression leaves the old one */
    assert_int_equal(intercept_set_filter(&f->ic, "", err, sizeof err, &pos), 0);
    assert_false(intercept_wants(&f->ic, post));
    store_complete(&f->store, post);
    store_complete(&f->store, get);
}

static void test_hold_and_accept(void **state)
{
    struct fixture *f = *state;
    struct exchange *ex = request(f, "POST /a HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    uint64_t id = ex->id;
    intercept_hold(&f->ic, ex, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    assert_true(ex->flags & EX_HELD);
    assert_true(ex->flags & EX_INTERCEPTED);
    assert_int_equal(f->store.counters.held, 1);
    assert_non_null(intercept_find(&f->ic, id));
    store_complete(&f->store, ex);
    assert_int_equal(store_remove(&f->store, id), -1); /* pinned while held */

    /* The staged edit goes out as bytes; what it replaced is the mode's default answer. */
    edit_stage(ex, SIDE_SERVER, (const uint8_t *)"HTTP/1.1 201 Created\r\n\r\n", 24);
    struct intercept_hold *h = intercept_find(&f->ic, id);
    h->has_plan = true;
    h->plan.trickle_bytes = 7;
    assert_int_equal(intercept_accept(&f->ic, id), 0);
    assert_int_equal(f->fake.releases, 1);
    assert_int_equal(f->fake.answer, INTERCEPT_BYTES);
    assert_memory_equal(f->fake.bytes, "HTTP/1.1 201 Created\r\n\r\n", 24);
    assert_true(f->fake.had_plan);
    assert_int_equal(f->fake.trickle, 7);
    assert_false(ex->flags & EX_HELD);
    assert_true(ex->flags & EX_EDITED);
    assert_string_equal(ex->edit->before_label[SIDE_SERVER], "default answer");
    assert_memory_equal(ex->edit->before[SIDE_SERVER].data, "HTTP/1.1 200 OK\r\n\r\nPREVIEW", 26);
    assert_null(edit_pending(ex, SIDE_SERVER));
    assert_int_equal(f->ic.last_crafted.len, 24);
    assert_int_equal(f->store.counters.held, 0);
    assert_int_equal(f->ic.counters.released, 1);
    assert_int_equal(f->ic.counters.edited, 1);
    assert_int_equal(intercept_accept(&f->ic, id), -1); /* no longer held */
    assert_int_equal(store_remove(&f->store, id), 0);   /* unpinned */
}

static void test_choice_and_received(void **state)
{
    struct fixture *f = *state;
    /* A proxy-like hold: the request itself is held and edited; the mode records what it
     * replaces once it has it all, so nothing is recorded here. */
    struct exchange *ex = request(f, "GET /old HTTP/1.1\\r\\n\\r\\n");
    intercept_hold(&f->ic, ex, SIDE_CLIENT, SIDE_CLIENT, &OPS, &f->fake);
    edit_stage(ex, SIDE_CLIENT, (const uint8_t *)"GET /new HTTP/1.1\r\n\r\n", 21);
    intercept_accept(&f->ic, ex->id);
    assert_int_equal(f->fake.answer, INTERCEPT_BYTES);
    assert_memory_equal(f->fake.bytes, "GET /new", 8);
    assert_null(ex->edit->before_label[SIDE_CLIENT]);
    assert_null(edit_pending(ex, SIDE_CLIENT));
    /* A chosen answer goes out when nothing is staged. */
    struct exchange *b = request(f, "POST /b HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    struct intercept_hold *h = intercept_hold(&f->ic, b, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    h->choice = INTERCEPT_RULE;
    h->rule = 3;
    intercept_accept(&f->ic, b->id);
    assert_int_equal(f->fake.answer, INTERCEPT_RULE);
    assert_int_equal(f->fake.rule, 3);
    assert_false(b->flags & EX_EDITED);
    /* Nothing chosen: as it was. */
    struct exchange *c = request(f, "POST /c HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    intercept_hold(&f->ic, c, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    intercept_accept(&f->ic, c->id);
    assert_int_equal(f->fake.answer, INTERCEPT_AS_IS);
    assert_false(f->fake.had_plan);
    store_complete(&f->store, ex);
    store_complete(&f->store, b);
    store_complete(&f->store, c);
}

static void test_kill_and_drop(void **state)
{
    struct fixture *f = *state;
    struct exchange *a = request(f, "POST /a HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    struct exchange *b = request(f, "POST /b HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    intercept_hold(&f->ic, a, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    struct intercept_hold *hb = intercept_hold(&f->ic, b, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    edit_stage(a, SIDE_SERVER, (const uint8_t *)"x", 1);
    assert_int_equal(intercept_kill(&f->ic, a->id), 0);
    assert_int_equal(f->fake.kills, 1);
    assert_true(a->flags & EX_KILLED);
    assert_null(edit_pending(a, SIDE_SERVER)); /* an unsent edit goes with the kill */
    intercept_drop(&f->ic, hb);
    assert_int_equal(f->fake.releases, 0);
    assert_int_equal(f->ic.counters.dropped, 1);
    assert_int_equal(f->ic.n, 0);
    assert_int_equal(f->store.counters.held, 0);
    assert_false(b->flags & EX_HELD);
    assert_int_equal(intercept_kill(&f->ic, b->id), -1);
    store_complete(&f->store, a);
    store_complete(&f->store, b);
}

static void test_accept_all(void **state)
{
    struct fixture *f = *state;
    struct exchange *a = request(f, "POST /a HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    struct exchange *b = request(f, "POST /b HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    struct exchange *later = request(f, "POST /c HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    intercept_hold(&f->ic, a, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    intercept_hold(&f->ic, b, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    f->fake.rehold = later; /* releasing a holds the next request of its connection */
    assert_int_equal(intercept_accept_all(&f->ic), 2);
    assert_int_equal(f->fake.releases, 2);
    assert_non_null(intercept_find(&f->ic, later->id)); /* held after A: still held */
    assert_int_equal(f->ic.n, 1);
    intercept_accept(&f->ic, later->id);
    store_complete(&f->store, a);
    store_complete(&f->store, b);
    store_complete(&f->store, later);
}

static void run_until(uv_loop_t *loop, const int *count, int want)
{
    for (int i = 0; i < 400 && *count < want; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_timeout(void **state)
{
    struct fixture *f = *state;
    f->ic.timeout_ms = 30;
    struct exchange *a = request(f, "POST /a HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    intercept_hold(&f->ic, a, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    run_until(&f->loop, &f->fake.releases, 1);
    assert_int_equal(f->fake.releases, 1);
    assert_int_equal(f->fake.answer, INTERCEPT_AS_IS);
    assert_true(exchange_has_warning(a, W_HOLD_TIMEOUT));
    assert_int_equal(f->ic.counters.timed_out, 1);
    f->ic.timeout_kills = true;
    struct exchange *b = request(f, "POST /b HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n");
    intercept_hold(&f->ic, b, SIDE_CLIENT, SIDE_SERVER, &OPS, &f->fake);
    run_until(&f->loop, &f->fake.kills, 1);
    assert_int_equal(f->fake.kills, 1);
    assert_true(b->flags & EX_KILLED);
    assert_true(exchange_has_warning(b, W_HOLD_TIMEOUT));
    store_complete(&f->store, a);
    store_complete(&f->store, b);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_filter),        T(test_hold_and_accept), T(test_choice_and_received),
        T(test_kill_and_drop), T(test_accept_all),      T(test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
