/*
 * conn owns one TCP socket, accepted or connected outward: its libuv handles, its output queue,
 * its read pausing, its timeouts, its half-close and its orderly or abortive close. It never
 * interprets the bytes and never touches the store; its owner does both through the callbacks.
 */
#include "hspy/conn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hspy/dynbuf.h"
#include "hspy/xmalloc.h"

enum close_state {
    OPEN = 0,
    FLUSHING,  /* conn_close(FLUSH): waiting for the queue, then FIN */
    LINGERING, /* FIN sent: reading and discarding until the peer's FIN or CONN_LINGER_MS */
    CLOSED,    /* handles closing */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    uv_connect_t connect;
    void (*on_connected)(void *data, struct conn *c, int status);
    void (*on_sent)(void *data, struct conn *c);
    void *connect_data;
    bool connecting;
    struct conn_group *g;
    struct conn *prev, *next;
    struct conn_events ev;
    struct endpoint peer, local;
    size_t queued; /* bytes in uv_write requests not yet completed */
    bool full;
    bool corked;
    bool reading;
    bool eof;
    bool shut;       /* conn_shutdown: our FIN is queued or sent */
    bool shut_done;  /* the half-close's FIN went out */
    bool close_shut; /* conn_close(FLUSH) came after conn_shutdown: close once the FIN is out */
    uint8_t state;   /* enum close_state */
    uint8_t handles;
    unsigned hold;
    int status;
    struct dynbuf cork;
    uint64_t idle_ms;
    uint64_t last_active; /* loop time (ms) of the last read or write progress */
    uint64_t deadline;    /* loop time (ms), 0 = none */
    uint64_t timer_due;   /* loop time the timer is armed for, 0 = not armed */
    uint64_t bytes_in, bytes_out;
    uint64_t linger_from; /* bytes_in when the linger began */
    uint64_t dropped;     /* queued output discarded because the connection ended first */
};

struct wreq {
    uv_write_t req;
    struct conn *c;
    size_t len;
    uint8_t data[];
};

void conn_group_init(struct conn_group *g, uv_loop_t *loop)
{
    memset(g, 0, sizeof *g);
    g->loop = loop;
    g->queue_max = CONN_QUEUE_MAX_DEFAULT;
}

void conn_group_cleanup(struct conn_group *g)
{
    assert(g->n == 0);
    free(g->rbuf);
    g->rbuf = NULL;
}

void conn_group_close_all(struct conn_group *g, int how)
{
    for (struct conn *c = g->first; c; c = c->next)
        conn_close(c, how);
}

void conn_endpoint_from(struct endpoint *e, const struct sockaddr *sa)
{
    memset(e, 0, sizeof *e);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        e->family = 4;
        e->port = ntohs(in->sin_port);
        memcpy(e->addr, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        e->family = 6;
        e->port = ntohs(in6->sin6_port);
        memcpy(e->addr, &in6->sin6_addr, 16);
    }
}

static uint64_t now_ms(const struct conn *c)
{
    return uv_now(c->g->loop);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles > 0)
        return;
    if (c->g && (c->prev || c->next || c->g->first == c)) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->g->first = c->next;
        if (c->next)
            c->next->prev = c->prev;
        c->g->n--;
    }
    if (c->ev.on_close)
        c->ev.on_close(c->ev.data, c, c->status);
    dynbuf_cleanup(&c->cork);
    free(c);
}

static void close_handles(struct conn *c, bool reset)
{
    if (c->state == CLOSED)
        return;
    c->state = CLOSED;
    c->corked = false;
    dynbuf_reset(&c->cork);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (reset && uv_tcp_close_reset(&c->tcp, on_handle_closed) == 0)
        return;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void fail(struct conn *c, int status)
{
    if (!c->status)
        c->status = status;
    close_handles(c, false);
}

/* Arms the one timer for the earliest of idle expiry, deadline and linger end. */
static void arm(struct conn *c);

static void on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    uint64_t now = now_ms(c);
    c->timer_due = 0;
    if (c->state == LINGERING || c->state == FLUSHING) {
        /* A peer that neither reads nor closes must not keep a closing conn forever. */
        if (c->state == LINGERING || (c->idle_ms && now >= c->last_active + c->idle_ms)) {
            close_handles(c, false);
            return;
        }
    } else if (c->idle_ms && now >= c->last_active + c->idle_ms) {
        c->last_active = now;
        if (c->ev.on_timeout)
            c->ev.on_timeout(c->ev.data, c, CONN_TIMEOUT_IDLE);
    } else if (c->deadline && now >= c->deadline) {
        c->deadline = 0;
        if (c->ev.on_timeout)
            c->ev.on_timeout(c->ev.data, c, CONN_TIMEOUT_DEADLINE);
    }
    arm(c);
}

static void arm(struct conn *c)
{
    if (c->state == CLOSED)
        return;
    uint64_t due = 0;
    if (c->state == LINGERING)
        due = c->deadline;
    else {
        if (c->idle_ms)
            due = c->last_active + c->idle_ms;
        if (c->deadline && c->state == OPEN && (!due || c->deadline < due))
            due = c->deadline;
    }
    if (!due) {
        if (c->timer_due)
            uv_timer_stop(&c->timer);
        c->timer_due = 0;
        return;
    }
    /* An armed timer that fires earlier re-checks and re-arms itself: no need to move it. */
    if (c->timer_due && c->timer_due <= due)
        return;
    uint64_t now = now_ms(c);
    c->timer_due = due;
    uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct conn *c = h->data;
    if (!c->g->rbuf)
        c->g->rbuf = xmalloc(CONN_READ_SIZE);
    buf->base = (char *)c->g->rbuf;
    buf->len = CONN_READ_SIZE;
}

static void update_reading(struct conn *c);

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread > 0) {
        c->bytes_in += (uint64_t)nread;
        c->last_active = now_ms(c);
        if (c->state == OPEN && c->ev.on_read)
            c->ev.on_read(c->ev.data, c, (const uint8_t *)buf->base, (size_t)nread);
        else if (c->state == LINGERING && c->g->linger_max &&
                 c->bytes_in - c->linger_from > c->g->linger_max)
            close_handles(c, false);
        return;
    }
    if (nread == 0)
        return;
    if (nread != UV_EOF) {
        fail(c, (int)nread);
        return;
    }
    c->eof = true;
    update_reading(c);
    if (c->state == LINGERING)
        close_handles(c, false);
    else if (c->state == OPEN && c->ev.on_eof)
        c->ev.on_eof(c->ev.data, c);
}

static void update_reading(struct conn *c)
{
    bool want = c->state == LINGERING || (c->state == OPEN && !c->eof && c->hold == 0);
    if (c->connecting)
        want = false;
    if (c->eof || c->state == CLOSED)
        want = false;
    if (want == c->reading)
        return;
    if (want) {
        int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        if (r) {
            fail(c, r);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    c->reading = want;
}

static void set_endpoints(struct conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        conn_endpoint_from(&c->peer, (struct sockaddr *)&ss);
    len = sizeof ss;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        conn_endpoint_from(&c->local, (struct sockaddr *)&ss);
}

static void join(struct conn_group *g, struct conn *c)
{
    c->next = g->first;
    if (g->first)
        g->first->prev = c;
    g->first = c;
    g->n++;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    c->connecting = false;
    if (c->state == CLOSED)
        return;
    if (status == 0) {
        set_endpoints(c);
        c->last_active = now_ms(c);
        update_reading(c);
    }
    if (c->on_connected)
        c->on_connected(c->connect_data, c, status);
    if (status < 0)
        fail(c, status);
}

int conn_connect(struct conn_group *g, const struct sockaddr *addr,
                 void (*on_connected)(void *data, struct conn *c, int status), void *data,
                 struct conn **out)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->g = g;
    dynbuf_init(&c->cork, CONN_CORK_MAX);
    uv_tcp_init(g->loop, &c->tcp);
    uv_timer_init(g->loop, &c->timer);
    c->tcp.data = c->timer.data = c->connect.data = c;
    c->handles = 2;
    c->on_connected = on_connected;
    c->connect_data = data;
    c->connecting = true;
    int r = uv_tcp_connect(&c->connect, &c->tcp, addr, on_connect);
    if (r) {
        c->state = CLOSED;
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        return r;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    join(g, c);
    c->last_active = now_ms(c);
    *out = c;
    return 0;
}

int conn_accept(uv_stream_t *server, struct conn_group *g, struct conn **out)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->g = g;
    dynbuf_init(&c->cork, CONN_CORK_MAX);
    uv_tcp_init(g->loop, &c->tcp);
    c->tcp.data = c;
    c->handles = 1;
    int r = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (r) {
        c->state = CLOSED;
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        return r;
    }
    uv_timer_init(g->loop, &c->timer);
    c->timer.data = c;
    c->handles = 2;
    uv_tcp_nodelay(&c->tcp, 1);
    set_endpoints(c);
    join(g, c);
    c->last_active = now_ms(c);
    *out = c;
    return 0;
}

size_t conn_peek(struct conn *c, uint8_t *buf, size_t cap)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
        return 0;
    ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 ? (size_t)n : 0;
}

void conn_start(struct conn *c, const struct conn_events *ev)
{
    c->ev = *ev;
    update_reading(c);
}

static void check_drain(struct conn *c)
{
    if (c->full && c->queued + c->cork.len <= c->g->queue_max / 2) {
        c->full = false;
        if (c->state == OPEN && c->ev.on_drain)
            c->ev.on_drain(c->ev.data, c);
    }
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = w->c;
    c->queued -= w->len;
    if (status < 0)
        c->dropped += w->len;
    free(w);
    if (status < 0) {
        if (status != UV_ECANCELED)
            fail(c, status);
        return;
    }
    c->last_active = now_ms(c);
    check_drain(c);
    if (c->queued == 0 && c->cork.len == 0 && c->state == OPEN && c->on_sent)
        c->on_sent(c->ev.data, c);
}

static int send_now(struct conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (c->queued == 0) {
        uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
        int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (r == (int)n)
            return 0;
        if (r >= 0) {
            p += r;
            n -= (size_t)r;
        } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            fail(c, r);
            return -1;
        }
    }
    struct wreq *w = xmalloc(sizeof *w + n);
    w->c = c;
    w->len = n;
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (r) {
        free(w);
        fail(c, r);
        return -1;
    }
    c->queued += n;
    if (c->queued > c->g->queue_max)
        c->full = true;
    return 0;
}

/* Whether output may still be accepted: open, or flushing before the FIN went out. */
static bool writable(const struct conn *c)
{
    return c->state == OPEN && !c->shut;
}

int conn_write(struct conn *c, const void *p, size_t n)
{
    if (!writable(c))
        return -1;
    c->bytes_out += n;
    if (!c->corked)
        return send_now(c, p, n);
    if (c->cork.len + n > CONN_CORK_MAX) {
        if (send_now(c, c->cork.data, c->cork.len) != 0)
            return -1;
        dynbuf_reset(&c->cork);
        if (n > CONN_CORK_MAX / 2)
            return send_now(c, p, n);
    }
    dynbuf_append(&c->cork, p, n);
    if (c->queued + c->cork.len > c->g->queue_max)
        c->full = true;
    return 0;
}

void conn_cork(struct conn *c)
{
    c->corked = true;
}

void conn_uncork(struct conn *c)
{
    if (!c->corked)
        return;
    c->corked = false;
    if (c->cork.len && c->state == OPEN)
        send_now(c, c->cork.data, c->cork.len);
    dynbuf_reset(&c->cork);
    /* Keep a small cork buffer for the next turn; give back an unusually large one. */
    if (c->cork.cap > 4 * 1024)
        dynbuf_cleanup(&c->cork);
}

void conn_on_sent(struct conn *c, void (*on_sent)(void *data, struct conn *c))
{
    c->on_sent = on_sent;
}

bool conn_corked(const struct conn *c)
{
    return c->corked;
}

size_t conn_queued(const struct conn *c)
{
    return c->queued + c->cork.len;
}

bool conn_full(const struct conn *c)
{
    return c->full;
}

void conn_hold(struct conn *c, unsigned reason)
{
    if ((c->hold & reason) == reason)
        return;
    c->hold |= reason;
    update_reading(c);
}

void conn_unhold(struct conn *c, unsigned reason)
{
    if (!(c->hold & reason))
        return;
    c->hold &= ~reason;
    update_reading(c);
}

void conn_set_idle(struct conn *c, uint64_t ms)
{
    c->idle_ms = ms;
    c->last_active = now_ms(c);
    arm(c);
}

void conn_set_deadline(struct conn *c, uint64_t ms)
{
    c->deadline = ms ? now_ms(c) + ms : 0;
    arm(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (c->state == CLOSED)
        return;
    if (status < 0 || c->eof) {
        if (status < 0 && status != UV_ECANCELED && !c->status)
            c->status = status;
        close_handles(c, false);
        return;
    }
    /* Read until the peer's FIN so unread request bytes do not turn our close into a reset
     * that could destroy the response before the client read it. */
    c->state = LINGERING;
    c->linger_from = c->bytes_in;
    c->deadline = now_ms(c) + CONN_LINGER_MS;
    c->timer_due = 0;
    uv_timer_stop(&c->timer);
    update_reading(c);
    arm(c);
}

static void start_flush(struct conn *c)
{
    if (c->corked) {
        c->corked = false;
        if (c->cork.len)
            send_now(c, c->cork.data, c->cork.len);
        dynbuf_reset(&c->cork);
    }
    if (c->state == CLOSED)
        return;
    c->state = FLUSHING;
    update_reading(c);
    c->shutdown.data = c;
    /* uv_shutdown waits for queued writes before sending the FIN. */
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        close_handles(c, false);
}

void conn_close(struct conn *c, int how)
{
    if (c->state == CLOSED)
        return;
    if (how == CONN_CLOSE_FLUSH) {
        if (c->state == OPEN && c->shut) {
            /* The FIN is ours already; the peer's is not waited for (both sides chose). */
            if (c->shut_done)
                close_handles(c, false);
            else
                c->close_shut = true;
        } else if (c->state == OPEN) {
            start_flush(c);
        }
        return;
    }
    /* A reset after uv_shutdown is refused by libuv; close_handles falls back to a close. */
    close_handles(c, how == CONN_CLOSE_RESET);
}

static void on_half_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (c->state == CLOSED)
        return;
    c->shut_done = true;
    if (status < 0 && status != UV_ECANCELED) {
        fail(c, status);
        return;
    }
    if (c->close_shut)
        close_handles(c, false);
}

void conn_shutdown(struct conn *c)
{
    if (c->state != OPEN || c->shut)
        return;
    if (c->corked) {
        c->corked = false;
        if (c->cork.len)
            send_now(c, c->cork.data, c->cork.len);
        dynbuf_reset(&c->cork);
    }
    if (c->state != OPEN)
        return;
    c->shut = true;
    c->shutdown.data = c;
    int r = uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_half_shutdown);
    if (r)
        fail(c, r);
}

bool conn_is_shut(const struct conn *c)
{
    return c->shut;
}

bool conn_closing(const struct conn *c)
{
    return c->state != OPEN;
}

const struct endpoint *conn_peer(const struct conn *c)
{
    return &c->peer;
}

const struct endpoint *conn_local(const struct conn *c)
{
    return &c->local;
}

uint64_t conn_bytes_in(const struct conn *c)
{
    return c->bytes_in;
}

uint64_t conn_bytes_out(const struct conn *c)
{
    return c->bytes_out;
}

uint64_t conn_bytes_dropped(const struct conn *c)
{
    return c->dropped;
}
