/*
 * conn and listener on a real loop over loopback: accept and connect, echo, the connection cap
 * with its refusal (composed from the bytes already sent, not read for it, closed with a FIN
 * after they were drained) and the report of
 * refusals, backpressure (full queue, drain), read holds, idle and deadline timeouts, a
 * flushing close that delivers everything, a reset, a refused connect.
 */
#include "testutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hspy/conn.h"
#include "hspy/listener.h"
#include "hspy/xmalloc.h"

struct side {
    struct conn *c;
    uint64_t got;
    uint8_t first[64];
    size_t nfirst;
    int eof, drained, closed, close_status, idle, deadline, connected, connect_status;
    bool echo;
};

struct ctx {
    uv_loop_t loop;
    struct conn_group g;  /* accepted connections */
    struct conn_group cg; /* outgoing ones (counted apart from the server's cap) */
    struct listener l;
    struct side srv, cli;
    int accepted, refused;
};

static void on_read(void *data, struct conn *c, const uint8_t *p, size_t n)
{
    struct side *s = data;
    if (s->nfirst < sizeof s->first) {
        size_t k = n < sizeof s->first - s->nfirst ? n : sizeof s->first - s->nfirst;
        memcpy(s->first + s->nfirst, p, k);
        s->nfirst += k;
    }
    s->got += n;
    if (s->echo)
        conn_write(c, p, n);
}

static void on_eof(void *data, struct conn *c)
{
    (void)c;
    ((struct side *)data)->eof++;
}

static void on_drain(void *data, struct conn *c)
{
    (void)c;
    ((struct side *)data)->drained++;
}

static void on_timeout(void *data, struct conn *c, enum conn_timeout which)
{
    (void)c;
    struct side *s = data;
    if (which == CONN_TIMEOUT_IDLE)
        s->idle++;
    else
        s->deadline++;
}

static void on_close(void *data, struct conn *c, int status)
{
    (void)c;
    struct side *s = data;
    s->closed++;
    s->close_status = status;
    s->c = NULL;
}

static void on_conn(void *data, struct conn *c)
{
    struct ctx *x = data;
    x->accepted++;
    x->srv.c = c;
    struct conn_events ev = {&x->srv, on_read, on_eof, on_drain, on_timeout, on_close};
    conn_start(c, &ev);
}

static void on_refuse(void *data, int err)
{
    (void)err;
    ((struct ctx *)data)->refused++;
}

/* The refusal: "NO", the bytes the connection had sent, a LF. */
static void refusal(struct dynbuf *out, const uint8_t *sent, size_t n)
{
    dynbuf_append(out, "NO", 2);
    dynbuf_append(out, sent, n);
    dynbuf_append(out, "\n", 1);
}

static void on_connected(void *data, struct conn *c, int status)
{
    (void)c;
    struct side *s = data;
    s->connected++;
    s->connect_status = status;
}

static void setup_with(struct ctx *x, const struct listener_config *cfg)
{
    memset(x, 0, sizeof *x);
    uv_loop_init(&x->loop);
    conn_group_init(&x->g, &x->loop);
    conn_group_init(&x->cg, &x->loop);
    x->l.data = x;
    x->l.on_conn = on_conn;
    x->l.on_refuse = on_refuse;
    char err[256];
    assert_int_equal(listener_open(&x->l, &x->loop, cfg, &x->g, err, sizeof err), 0);
    assert_int_not_equal(x->l.local.port, 0);
}

static void setup(struct ctx *x, uint64_t max_conns)
{
    struct listener_config cfg = {"127.0.0.1", 0, max_conns, 0, refusal, NULL, 0};
    setup_with(x, &cfg);
}

static void connect_client(struct ctx *x, struct side *s, uint16_t port)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    assert_int_equal(conn_connect(&x->cg, (struct sockaddr *)&a, on_connected, s, &s->c), 0);
    struct conn_events ev = {s, on_read, on_eof, on_drain, on_timeout, on_close};
    conn_start(s->c, &ev);
}

/* Runs the loop until cond holds (bounded: at most about two seconds). */
#define RUN_UNTIL(x, cond)                                                                         \
    do {                                                                                           \
        for (int i_ = 0; i_ < 20000 && !(cond); i_++) {                                            \
            uv_run(&(x)->loop, UV_RUN_NOWAIT);                                                     \
            if (!(cond))                                                                           \
                uv_sleep(0);                                                                       \
        }                                                                                          \
        assert_true(cond);                                                                         \
    } while (0)

static void teardown(struct ctx *x)
{
    listener_close(&x->l);
    conn_group_close_all(&x->g, CONN_CLOSE_NOW);
    conn_group_close_all(&x->cg, CONN_CLOSE_NOW);
    RUN_UNTIL(x, x->g.n == 0 && x->cg.n == 0);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    conn_group_cleanup(&x->g);
    conn_group_cleanup(&x->cg);
    assert_int_equal(uv_loop_close(&x->loop), 0);
}

static void test_echo(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    x.srv.echo = true;
    connect_client(&x, &x.cli, x.l.local.port);
    conn_write(x.cli.c, "hello", 5); /* queued while connecting */
    RUN_UNTIL(&x, x.cli.got == 5);
    assert_int_equal(x.cli.connected, 1);
    assert_int_equal(x.cli.connect_status, 0);
    assert_memory_equal(x.cli.first, "hello", 5);
    assert_int_equal(conn_peer(x.cli.c)->port, x.l.local.port);
    assert_int_equal(conn_local(x.srv.c)->port, x.l.local.port);
    assert_int_equal(conn_bytes_in(x.srv.c), 5);
    conn_close(x.cli.c, CONN_CLOSE_FLUSH);
    RUN_UNTIL(&x, x.srv.eof == 1);
    conn_close(x.srv.c, CONN_CLOSE_FLUSH);
    RUN_UNTIL(&x, x.srv.closed && x.cli.closed);
    assert_int_equal(x.srv.close_status, 0);
    teardown(&x);
}

static void test_cap(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 1);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.accepted == 1);
    struct side extra;
    memset(&extra, 0, sizeof extra);
    connect_client(&x, &extra, x.l.local.port);
    RUN_UNTIL(&x, extra.eof == 1);
    assert_int_equal(x.refused, 1);
    assert_int_equal(x.l.counters.refused, 1);
    assert_int_equal(extra.got, 3);
    assert_memory_equal(extra.first, "NO\n", 3);
    assert_int_equal(x.accepted, 1);
    teardown(&x);
}

/*
 * A connection over the cap that sent bytes before it was accepted (a blocking socket: connected
 * and written before the loop runs): the refusal sees them, and they are not read for it. They
 * are drained before the close, so the client sees the refusal end with a FIN, not a reset.
 */
static void test_cap_sees_what_was_sent(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 1);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.accepted == 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", x.l.local.port, &a);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const char line[] = "HEAD / HTTP/1.1\r\n";
    assert_int_equal(send(fd, line, sizeof line - 1, 0), (ssize_t)sizeof line - 1);
    RUN_UNTIL(&x, x.refused == 1);
    char got[64];
    size_t n = 0;
    ssize_t r = -1;
    int err = EAGAIN;
    /* The loop runs between reads: the refusal's FIN and drain are its work. */
    for (int i = 0; i < 20000 && r != 0 && err == EAGAIN && n < sizeof got; i++) {
        uv_run(&x.loop, UV_RUN_NOWAIT);
        r = recv(fd, got + n, sizeof got - n, MSG_DONTWAIT);
        if (r > 0)
            n += (size_t)r;
        err = r < 0 ? errno : EAGAIN;
        if (r < 0 && err == EAGAIN)
            uv_sleep(0);
    }
    close(fd);
    assert_int_equal(r, 0); /* a FIN (a reset would leave errno ECONNRESET) */
    assert_int_equal(n, 2 + sizeof line - 1 + 1);
    assert_memory_equal(got, "NOHEAD / HTTP/1.1\r\n\n", n);
    assert_int_equal(x.accepted, 1);
    RUN_UNTIL(&x, x.l.refusing.n == 0); /* our close ended the linger */
    teardown(&x);
}

static void on_waited(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop for ms of loop time, whatever else is due. */
static void run_for(struct ctx *x, uint64_t ms)
{
    bool done = false;
    uv_timer_t t;
    uv_timer_init(&x->loop, &t);
    t.data = &done;
    uv_timer_start(&t, on_waited, ms, 0);
    while (!done)
        uv_run(&x->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&x->loop, UV_RUN_NOWAIT);
}

/* What the report stream holds now. */
static const char *report_text(FILE *f, char *buf, size_t len)
{
    long end = ftell(f);
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fseek(f, end, SEEK_SET);
    return buf;
}

/*
 * The report of refusals: the first of a burst at once, the rest in one line when the interval
 * ends, nothing while quiet (and the next refusal at once again), the exact totals at close.
 */
static void test_cap_report(void **state)
{
    (void)state;
    enum { INTERVAL_MS = 400, BURST = 5 };
    FILE *f = tmpfile();
    assert_non_null(f);
    struct listener_config cfg = {"127.0.0.1", 0, 1, 0, refusal, f, INTERVAL_MS};
    struct ctx x;
    setup_with(&x, &cfg);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.accepted == 1);
    struct side extra[BURST + 1];
    memset(extra, 0, sizeof extra);
    for (int i = 0; i < BURST; i++)
        connect_client(&x, &extra[i], x.l.local.port);
    RUN_UNTIL(&x, x.l.counters.refused == BURST);
    char buf[1024];
    static const char first[] =
        "hspy: refused a connection: 1 open, the limit (--max-conns) is 1 (1 refused so far)\n";
    assert_string_equal(report_text(f, buf, sizeof buf), first);
    run_for(&x, INTERVAL_MS + INTERVAL_MS / 2);
    static const char burst[] =
        "hspy: refused 4 connections: 1 open, the limit (--max-conns) is 1 (5 refused so far)\n";
    char want[512];
    snprintf(want, sizeof want, "%s%s", first, burst);
    assert_string_equal(report_text(f, buf, sizeof buf), want);
    run_for(&x, 2 * INTERVAL_MS); /* quiet: nothing more, and the interval is over */
    assert_string_equal(report_text(f, buf, sizeof buf), want);
    connect_client(&x, &extra[BURST], x.l.local.port);
    RUN_UNTIL(&x, x.l.counters.refused == BURST + 1);
    static const char again[] =
        "hspy: refused a connection: 1 open, the limit (--max-conns) is 1 (6 refused so far)\n";
    snprintf(want, sizeof want, "%s%s%s", first, burst, again);
    assert_string_equal(report_text(f, buf, sizeof buf), want);
    teardown(&x);
    static const char summary[] =
        "hspy: 6 connections refused in all (--max-conns 1); 1 accepted, at most 1 open at once\n";
    snprintf(want, sizeof want, "%s%s%s%s", first, burst, again, summary);
    assert_string_equal(report_text(f, buf, sizeof buf), want);
    fclose(f);
}

/* A reader that holds: the writer's queue goes over the cap; releasing it drains. */
static void test_backpressure(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.srv.c && x.cli.connected);
    conn_hold(x.cli.c, 1);
    static uint8_t block[64 * 1024];
    size_t sent = 0;
    for (int round = 0; round < 2000 && !conn_full(x.srv.c); round++) {
        conn_write(x.srv.c, block, sizeof block);
        sent += sizeof block;
        uv_run(&x.loop, UV_RUN_NOWAIT);
    }
    assert_true(conn_full(x.srv.c));
    assert_true(conn_queued(x.srv.c) > x.g.queue_max);
    uint64_t before = x.cli.got;
    for (int i = 0; i < 50; i++)
        uv_run(&x.loop, UV_RUN_NOWAIT);
    assert_int_equal(x.cli.got, before); /* held: nothing read */
    conn_unhold(x.cli.c, 1);
    RUN_UNTIL(&x, x.cli.got == sent);
    assert_int_equal(x.srv.drained, 1);
    assert_false(conn_full(x.srv.c));
    teardown(&x);
}

static void test_timeouts(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.srv.c && x.cli.connected);
    conn_set_deadline(x.srv.c, 30);
    conn_set_idle(x.srv.c, 120);
    RUN_UNTIL(&x, x.srv.deadline == 1);
    assert_int_equal(x.srv.idle, 0);
    RUN_UNTIL(&x, x.srv.idle == 1);
    /* Activity postpones the idle timeout. */
    conn_set_idle(x.srv.c, 200);
    for (int i = 0; i < 6; i++) {
        conn_write(x.cli.c, "x", 1);
        uv_sleep(50);
        uv_run(&x.loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(x.srv.idle, 1);
    teardown(&x);
}

/* A flushing close delivers what was queued, then the peer sees the end. */
static void test_close_flush(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.srv.c && x.cli.connected);
    static uint8_t big[3 << 20];
    memset(big, 'z', sizeof big);
    conn_write(x.srv.c, big, sizeof big);
    conn_close(x.srv.c, CONN_CLOSE_FLUSH);
    assert_int_equal(conn_write(x.srv.c, "late", 4), -1);
    RUN_UNTIL(&x, x.cli.eof == 1);
    assert_int_equal(x.cli.got, sizeof big);
    conn_close(x.cli.c, CONN_CLOSE_FLUSH);
    RUN_UNTIL(&x, x.srv.closed == 1 && x.cli.closed == 1);
    teardown(&x);
}

static void test_reset(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    connect_client(&x, &x.cli, x.l.local.port);
    RUN_UNTIL(&x, x.srv.c && x.cli.connected);
    conn_close(x.srv.c, CONN_CLOSE_RESET);
    RUN_UNTIL(&x, x.cli.closed == 1);
    assert_int_equal(x.cli.close_status, UV_ECONNRESET);
    teardown(&x);
}

static void test_refused(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    uint16_t port = x.l.local.port;
    listener_close(&x.l);
    uv_run(&x.loop, UV_RUN_NOWAIT);
    connect_client(&x, &x.cli, port);
    RUN_UNTIL(&x, x.cli.closed == 1);
    assert_int_equal(x.cli.connected, 1);
    assert_int_equal(x.cli.connect_status, UV_ECONNREFUSED);
    assert_int_equal(x.cli.close_status, UV_ECONNREFUSED);
    teardown(&x);
}

static void test_bind_errors(void **state)
{
    (void)state;
    struct ctx x;
    setup(&x, 10);
    struct listener other = {0};
    struct listener_config cfg = {"127.0.0.1", x.l.local.port, 10, 0, NULL, NULL, 0};
    char err[256];
    assert_int_equal(listener_open(&other, &x.loop, &cfg, &x.g, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "listen 127.0.0.1:%u: address already in use", x.l.local.port);
    assert_string_equal(err, want);
    struct listener_config bad = {"no-such-host.invalid", 0, 10, 0, NULL, NULL, 0};
    assert_int_equal(listener_open(&other, &x.loop, &bad, &x.g, err, sizeof err), -1);
    assert_non_null(strstr(err, "listen no-such-host.invalid:0: cannot resolve host"));
    assert_false(listener_public(&x.l));
    teardown(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cap_sees_what_was_sent),
        cmocka_unit_test(test_cap_report),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_close_flush),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bind_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
