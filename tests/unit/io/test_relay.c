/*
 * relay: the hold points a proxy offers to intercept and edit, exercised with real sockets. A
 * proxy runs on the test's loop in front of an upstream thread; a client thread sends one
 * request. Hooks hold the request head (released with an edited head, or killed) and the
 * response head (released as received); the upstream and the client see exactly what the
 * release decided, and the exchange is flagged intercepted and edited (or killed).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hspy/hspy.h"
#include "hspy/proxy.h"
#include "hspy/relay.h"

enum mode { RELEASE_EDITED, KILL };

struct fixture {
    struct hspy h;
    struct proxy px;
    enum mode mode;
    int up_listen;
    char up_addr[64];
    pthread_t up_thread, cl_thread;
    char up_got[4096];
    size_t up_len;
    char cl_got[4096];
    size_t cl_len;
    uv_async_t done;
    uv_timer_t release;
    struct relay *held;
    enum side held_side;
    uint32_t ex_flags, req_flags;
    int requests_held, responses_held;
};

static const char REQUEST[] = "GET /original HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
static const char EDITED[] =
    "GET /edited HTTP/1.1\r\nHost: x\r\nX-Edit: 1\r\nConnection: close\r\n\r\n";
static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\nok";

/* Reads into buf until the pattern shows up, the peer closes or 5 s pass. */
static size_t read_until(int fd, char *buf, size_t cap, const char *pattern)
{
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (len + 1 < cap && poll(&p, 1, 5000) == 1) {
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
        buf[len] = '\0';
        if (pattern && strstr(buf, pattern))
            break;
    }
    buf[len] = '\0';
    return len;
}

static void *upstream_main(void *arg)
{
    struct fixture *f = arg;
    struct pollfd p = {.fd = f->up_listen, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        return NULL;
    int c = accept(f->up_listen, NULL, NULL);
    if (c < 0)
        return NULL;
    f->up_len = read_until(c, f->up_got, sizeof f->up_got, "\r\n\r\n");
    send(c, RESPONSE, sizeof RESPONSE - 1, MSG_NOSIGNAL);
    close(c);
    return NULL;
}

static void *client_main(void *arg)
{
    struct fixture *f = arg;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->px.listener.local.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c, (struct sockaddr *)&sa, sizeof sa) == 0) {
        send(c, REQUEST, sizeof REQUEST - 1, MSG_NOSIGNAL);
        f->cl_len = read_until(c, f->cl_got, sizeof f->cl_got, NULL);
    }
    close(c);
    uv_async_send(&f->done);
    return NULL;
}

static void on_release(uv_timer_t *t)
{
    struct fixture *f = t->data;
    if (f->mode == KILL)
        relay_kill(f->held);
    else if (f->held_side == SIDE_CLIENT)
        relay_release(f->held, SIDE_CLIENT, (const uint8_t *)EDITED, sizeof EDITED - 1);
    else
        relay_release(f->held, SIDE_SERVER, NULL, 0);
}

static bool hold_request(void *data, struct relay *r, struct exchange *ex)
{
    (void)ex;
    struct fixture *f = data;
    f->requests_held++;
    f->held = r;
    f->held_side = SIDE_CLIENT;
    uv_timer_start(&f->release, on_release, 100, 0);
    return true;
}

static bool hold_response(void *data, struct relay *r, struct exchange *ex)
{
    (void)ex;
    struct fixture *f = data;
    f->responses_held++;
    f->held = r;
    f->held_side = SIDE_SERVER;
    uv_timer_start(&f->release, on_release, 50, 0);
    return true;
}

static void on_complete(void *data, struct exchange *ex)
{
    struct fixture *f = data;
    f->ex_flags = ex->flags;
    f->req_flags = ex->req.flags;
}

static void on_done(uv_async_t *a)
{
    struct fixture *f = a->data;
    proxy_stop(&f->px);
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->release, NULL);
}

static void run(struct fixture *f)
{
    f->up_listen = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->up_listen, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->up_listen, 8), 0);
    socklen_t len = sizeof sa;
    getsockname(f->up_listen, (struct sockaddr *)&sa, &len);
    snprintf(f->up_addr, sizeof f->up_addr, "127.0.0.1:%u", ntohs(sa.sin_port));

    hspy_init(&f->h);
    f->h.opt.cmd = CMD_PROXY;
    f->h.opt.no_tui = true;
    f->h.opt.upstream = f->up_addr;
    f->h.opt.port = 0;
    hspy_configure(&f->h);
    f->h.interactive = false;
    store_observe(&f->h.store, &(struct store_observer){f, NULL, NULL, on_complete, NULL});
    assert_int_equal(proxy_open(&f->px, &f->h), 0);
    static const struct proxy_hooks HOOKS_TEMPLATE = {NULL, hold_request, hold_response};
    struct proxy_hooks *hooks = malloc(sizeof *hooks);
    *hooks = HOOKS_TEMPLATE;
    hooks->data = f;
    f->px.hooks = hooks;
    uv_async_init(&f->h.loop, &f->done, on_done);
    f->done.data = f;
    uv_timer_init(&f->h.loop, &f->release);
    f->release.data = f;

    pthread_create(&f->up_thread, NULL, upstream_main, f);
    pthread_create(&f->cl_thread, NULL, client_main, f);
    uv_run(&f->h.loop, UV_RUN_DEFAULT);
    pthread_join(f->cl_thread, NULL);
    if (f->mode == KILL) {
        /* The upstream was never contacted: wake its accept with an empty connection. */
        int w = socket(AF_INET, SOCK_STREAM, 0);
        connect(w, (struct sockaddr *)&sa, sizeof sa);
        close(w);
    }
    pthread_join(f->up_thread, NULL);
    close(f->up_listen);
    proxy_cleanup(&f->px);
    hspy_cleanup(&f->h);
    free(hooks);
}

static void test_release_edited(void **state)
{
    (void)state;
    struct fixture *f = calloc(1, sizeof *f);
    f->mode = RELEASE_EDITED;
    run(f);
    assert_int_equal(f->requests_held, 1);
    assert_int_equal(f->responses_held, 1);
    /* The upstream got the edited head, exactly. */
    assert_int_equal(f->up_len, sizeof EDITED - 1);
    assert_memory_equal(f->up_got, EDITED, sizeof EDITED - 1);
    /* The client got the upstream's response, exactly, once both holds were released. */
    assert_int_equal(f->cl_len, sizeof RESPONSE - 1);
    assert_memory_equal(f->cl_got, RESPONSE, sizeof RESPONSE - 1);
    assert_true(f->ex_flags & EX_INTERCEPTED);
    assert_true(f->ex_flags & EX_EDITED);
    assert_false(f->ex_flags & EX_HELD);
    assert_true(f->req_flags & MSG_EDITED);
    free(f);
}

static void test_kill(void **state)
{
    (void)state;
    struct fixture *f = calloc(1, sizeof *f);
    f->mode = KILL;
    run(f);
    assert_int_equal(f->requests_held, 1);
    assert_int_equal(f->responses_held, 0);
    assert_int_equal(f->up_len, 0); /* the upstream was never contacted */
    assert_int_equal(f->cl_len, 0); /* the client got nothing but the end */
    assert_true(f->ex_flags & EX_KILLED);
    free(f);
}

int main(void)
{
    alarm(30); /* a hang is a failure, not a stuck test run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_edited),
        cmocka_unit_test(test_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
