/*
 * upstream owns a proxy's outbound connections: name lookup, connecting with a timeout, the
 * hand-over of callbacks between the pool and the connection's current owner, and the bounded
 * list of idle connections kept for reuse. It never reads or writes HTTP; owners use the conn
 * directly for their bytes.
 */
#include "hspy/upstream.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hspy/xmalloc.h"

void upstream_pool_init(struct upstream_pool *p, uv_loop_t *loop, const struct upstream_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->cfg = *cfg;
    conn_group_init(&p->conns, loop);
}

void upstream_pool_cleanup(struct upstream_pool *p)
{
    conn_group_cleanup(&p->conns);
}

int upstream_target_literal(struct upstream_target *t)
{
    memset(&t->addr, 0, sizeof t->addr);
    if (uv_ip4_addr(t->host, t->port, (struct sockaddr_in *)&t->addr) == 0 ||
        uv_ip6_addr(t->host, t->port, (struct sockaddr_in6 *)&t->addr) == 0) {
        t->has_addr = true;
        return 0;
    }
    return -1;
}

char *upstream_target_format(const struct upstream_target *t, char *buf, size_t len)
{
    if (strchr(t->host, ':'))
        snprintf(buf, len, "[%s]:%u", t->host, t->port);
    else
        snprintf(buf, len, "%s:%u", t->host, t->port);
    return buf;
}

/* ---- the idle list ---- */

static void unlink_idle(struct upstream *u)
{
    struct upstream_pool *p = u->pool;
    if (u->prev)
        u->prev->next = u->next;
    else
        p->idle_first = u->next;
    if (u->next)
        u->next->prev = u->prev;
    else
        p->idle_last = u->prev;
    u->prev = u->next = NULL;
    p->nidle--;
}

static bool is_idle(const struct upstream *u)
{
    return u->prev || u->next || u->pool->idle_first == u;
}

static void push_idle(struct upstream *u)
{
    struct upstream_pool *p = u->pool;
    u->prev = NULL;
    u->next = p->idle_first;
    if (p->idle_first)
        p->idle_first->prev = u;
    else
        p->idle_last = u;
    p->idle_first = u;
    p->nidle++;
}

/* ---- lifecycle ---- */

static void destroy(struct upstream *u)
{
    u->pool->live--;
    free(u);
}

/* The end of an upstream: tells a busy owner, then frees. */
static void finish(struct upstream *u, int status)
{
    if (u->busy && u->ev.on_close) {
        u->busy = false;
        u->ev.on_close(u->ev.data, u, u->status ? u->status : status);
    }
    destroy(u);
}

static void on_defer_closed(uv_handle_t *h)
{
    struct upstream *u = h->data;
    finish(u, u->status);
}

static void on_defer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_defer_closed);
}

/* Reports a failure that happened inside upstream_get (or a callback) from a later turn. */
static void fail_later(struct upstream *u, int status)
{
    u->status = status;
    u->deferring = true;
    u->pool->counters.connect_failed++;
    uv_timer_init(u->pool->loop, &u->defer);
    u->defer.data = u;
    uv_timer_start(&u->defer, on_defer, 0, 0);
}

/* ---- connection callbacks: to the owner while busy, handled here while idle ---- */

static void close_idle(struct upstream *u)
{
    u->pool->counters.idle_closed++;
    conn_close(u->conn, CONN_CLOSE_NOW);
}

static void on_connect(void *data, struct conn *c, int status)
{
    (void)c;
    struct upstream *u = data;
    if (status < 0) {
        u->status = status;
        u->pool->counters.connect_failed++;
        return; /* on_close follows */
    }
    u->connected = true;
    conn_set_deadline(u->conn, 0);
    u->peer = *conn_peer(u->conn);
    if (u->busy && u->ev.on_connect)
        u->ev.on_connect(u->ev.data, u);
}

static void on_read(void *data, struct conn *c, const uint8_t *p, size_t n)
{
    (void)c;
    struct upstream *u = data;
    if (u->busy) {
        if (u->ev.on_read)
            u->ev.on_read(u->ev.data, u, p, n);
        return;
    }
    /* Bytes nobody asked for: the connection is out of step. */
    u->pool->counters.stray++;
    if (u->pool->cfg.on_stray)
        u->pool->cfg.on_stray(u->pool->cfg.data, &u->tag, n);
    close_idle(u);
}

static void on_eof(void *data, struct conn *c)
{
    (void)c;
    struct upstream *u = data;
    if (u->busy) {
        if (u->ev.on_eof)
            u->ev.on_eof(u->ev.data, u);
        return;
    }
    close_idle(u);
}

static void on_drain(void *data, struct conn *c)
{
    (void)c;
    struct upstream *u = data;
    if (u->busy && u->ev.on_drain)
        u->ev.on_drain(u->ev.data, u);
}

static void on_sent(void *data, struct conn *c)
{
    (void)c;
    struct upstream *u = data;
    if (u->busy && u->ev.on_sent)
        u->ev.on_sent(u->ev.data, u);
}

static void on_timeout(void *data, struct conn *c, enum conn_timeout which)
{
    struct upstream *u = data;
    if (!u->connected && which == CONN_TIMEOUT_DEADLINE) {
        u->status = UV_ETIMEDOUT;
        u->pool->counters.connect_failed++;
        conn_close(c, CONN_CLOSE_NOW);
        return;
    }
    if (u->busy) {
        if (u->ev.on_timeout)
            u->ev.on_timeout(u->ev.data, u, which);
        return;
    }
    close_idle(u);
}

static void on_close(void *data, struct conn *c, int status)
{
    (void)c;
    struct upstream *u = data;
    if (is_idle(u))
        unlink_idle(u);
    u->conn = NULL;
    finish(u, status);
}

static const struct conn_events CONN_EVENTS = {
    .on_read = on_read,
    .on_eof = on_eof,
    .on_drain = on_drain,
    .on_timeout = on_timeout,
    .on_close = on_close,
};

static void start_connect(struct upstream *u, const struct sockaddr *addr)
{
    struct conn_events ev = CONN_EVENTS;
    ev.data = u;
    int r = conn_connect(&u->pool->conns, addr, on_connect, u, &u->conn);
    if (r) {
        u->conn = NULL;
        fail_later(u, r);
        return;
    }
    conn_start(u->conn, &ev);
    conn_on_sent(u->conn, on_sent);
    conn_endpoint_from(&u->peer, addr);
    if (u->pool->cfg.connect_ms)
        conn_set_deadline(u->conn, u->pool->cfg.connect_ms);
}

/* Picks the first IPv4 address, else the first IPv6 one. */
static const struct addrinfo *pick(const struct addrinfo *ai)
{
    const struct addrinfo *v6 = NULL;
    for (; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            return ai;
        if (ai->ai_family == AF_INET6 && !v6)
            v6 = ai;
    }
    return v6;
}

static void on_lookup(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct upstream *u = req->data;
    u->looking_up = false;
    const struct addrinfo *ai = status == 0 ? pick(res) : NULL;
    if (!u->busy) {
        destroy(u); /* the owner gave up meanwhile */
    } else if (!ai) {
        u->pool->counters.connect_failed++;
        finish(u, status < 0 ? status : UV_EAI_NONAME);
    } else {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(u->target.port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(u->target.port);
        start_connect(u, (const struct sockaddr *)&ss);
    }
    uv_freeaddrinfo(res);
}

/* The most recently used idle connection to t that owner may reuse. With cfg.per_owner the
 * list holds at most one connection per owner (upstream_put keeps it so), and the owner number
 * is compared first. */
static struct upstream *find_idle(struct upstream_pool *p, const struct upstream_target *t,
                                  uint64_t owner)
{
    for (struct upstream *u = p->idle_first; u; u = u->next)
        if ((!p->cfg.per_owner || u->owner == owner) && u->target.port == t->port &&
            strcasecmp(u->target.host, t->host) == 0 && !conn_closing(u->conn))
            return u;
    return NULL;
}

struct upstream *upstream_get(struct upstream_pool *p, const struct upstream_target *t,
                              const struct upstream_events *ev, uint64_t owner, bool fresh,
                              bool *reused)
{
    struct upstream *u = p->nidle && !fresh ? find_idle(p, t, owner) : NULL;
    if (u) {
        unlink_idle(u);
        u->busy = true;
        u->ev = *ev;
        u->uses++;
        /* The pool's idle timeout stays until the owner sets its own (moving the timer for
         * nothing would cost a timer update per request). */
        p->counters.reused++;
        *reused = true;
        return u;
    }
    *reused = false;
    u = xcalloc(1, sizeof *u);
    u->pool = p;
    u->busy = true;
    u->ev = *ev;
    u->target = *t;
    u->uses = 1;
    u->owner = owner;
    p->live++;
    p->counters.connects++;
    struct upstream_target lit = *t;
    if (t->has_addr || upstream_target_literal(&lit) == 0) {
        start_connect(u, (const struct sockaddr *)(t->has_addr ? &t->addr : &lit.addr));
        return u;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    u->lookup.data = u;
    u->looking_up = true;
    int r = uv_getaddrinfo(p->loop, &u->lookup, on_lookup, t->host, NULL, &hints);
    if (r) {
        u->looking_up = false;
        fail_later(u, r);
    }
    return u;
}

void upstream_close(struct upstream *u, int how)
{
    u->busy = false;
    memset(&u->ev, 0, sizeof u->ev);
    if (u->conn)
        conn_close(u->conn, how);
    /* A lookup or a deferred failure frees the upstream when it completes. */
}

/* Closes the idle connections of owner; returns how many. */
static size_t close_owned(struct upstream_pool *p, uint64_t owner)
{
    size_t n = 0;
    struct upstream *next;
    for (struct upstream *u = p->idle_first; u; u = next) {
        next = u->next;
        if (u->owner == owner) {
            unlink_idle(u);
            conn_close(u->conn, CONN_CLOSE_NOW);
            n++;
        }
    }
    return n;
}

void upstream_put(struct upstream *u, const struct upstream_tag *tag)
{
    struct upstream_pool *p = u->pool;
    if (!u->connected || !u->conn || conn_closing(u->conn) || conn_is_shut(u->conn) ||
        p->cfg.idle_max == 0) {
        upstream_close(u, CONN_CLOSE_FLUSH);
        return;
    }
    u->busy = false;
    u->tag = *tag;
    memset(&u->ev, 0, sizeof u->ev);
    conn_unhold(u->conn, ~0u);
    conn_set_deadline(u->conn, 0);
    conn_set_idle(u->conn, p->cfg.idle_ms);
    /* An owner keeps one idle connection, the one it used last: an owner talking to many hosts
     * (absolute-form requests) cannot pile up idle connections. */
    if (p->cfg.per_owner)
        p->counters.evicted += close_owned(p, u->owner);
    push_idle(u);
    while (!p->cfg.per_owner && p->nidle > p->cfg.idle_max) {
        struct upstream *old = p->idle_last;
        unlink_idle(old);
        p->counters.evicted++;
        conn_close(old->conn, CONN_CLOSE_NOW);
    }
}

void upstream_pool_forget(struct upstream_pool *p, uint64_t owner)
{
    if (p->cfg.per_owner)
        close_owned(p, owner);
}

void upstream_pool_close_idle(struct upstream_pool *p)
{
    while (p->idle_first) {
        struct upstream *u = p->idle_first;
        unlink_idle(u);
        conn_close(u->conn, CONN_CLOSE_NOW);
    }
}
