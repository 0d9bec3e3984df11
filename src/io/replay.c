/*
 * replay owns the connections of replayed requests: name lookup, connect, writing the request
 * once, reading the response into the conversation engine, and closing. It stores each replay's
 * exchange itself and never draws; the interface only starts replays.
 */
#include "hspy/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/hspy.h"
#include "hspy/xmalloc.h"

struct replay {
    struct replayer *rp;
    struct replay *prev, *next;
    struct conn *conn;
    struct conversation *conv;
    uint8_t *req;
    size_t n;
    uint64_t of;
    char host[256];
    uint16_t port;
    uv_getaddrinfo_t gai;
    bool resolving;
    bool answered; /* the response is complete */
    bool timed_out;
    char failure[512]; /* why the replay failed, "" when it did not */
};

void replayer_init(struct replayer *rp, uv_loop_t *loop, struct store *store,
                   const struct http_limits *limits, const struct exchange_limits *exl,
                   uint64_t *conn_ids, uint64_t timeout_ms)
{
    memset(rp, 0, sizeof *rp);
    rp->loop = loop;
    rp->store = store;
    rp->limits = *limits;
    rp->ex_limits = *exl;
    rp->conn_ids = conn_ids;
    rp->timeout_ms = timeout_ms;
    conn_group_init(&rp->conns, loop);
}

bool replayer_busy(const struct replayer *rp)
{
    return rp->first != NULL;
}

/* ---- the conversation of one replay ---- */

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)c, (void)side, (void)p, (void)n;
    struct replay *r = data;
    struct store *store = r->rp->store;
    switch (ev) {
    case CONV_BEGIN:
        ex->flags |= EX_REPLAY;
        ex->replay_of = r->of;
        if (r->of)
            ex->note = arena_printf(&ex->arena, "replay of #%" PRIu64 " to %s:%u", r->of, r->host,
                                    r->port);
        store_add(store, ex);
        return CONV_CONTINUE;
    case CONV_RESP_HEAD:
        r->rp->counters.answered++;
        store_touch(store, ex);
        return CONV_CONTINUE;
    case CONV_RESP_DONE:
        r->answered = true;
        store_touch(store, ex);
        return CONV_CONTINUE;
    case CONV_END:
        if (r->failure[0] && !(ex->resp.flags & MSG_COMPLETE))
            exchange_fail(ex, EX_UPSTREAM_FAIL | (r->timed_out ? EX_TIMEOUT : 0u),
                          "replay to %s:%u: %s", r->host, r->port, r->failure);
        store_complete(store, ex);
        return CONV_CONTINUE;
    case CONV_UNBLOCK: return CONV_CONTINUE;
    default:
        if (ex)
            store_touch(store, ex);
        return CONV_CONTINUE;
    }
}

static void feed(struct replay *r, enum side side, const uint8_t *p, size_t n)
{
    size_t off = 0;
    int64_t ts = hspy_now();
    while (off < n) {
        size_t k = conversation_feed(r->conv, side, p + off, n - off, ts);
        if (k == 0)
            break; /* a response past the request (or a pipelined flood): not ours to keep */
        off += k;
    }
}

/* The conversation starts with the request, as it was written (or would have been). */
static void start_conversation(struct replay *r)
{
    struct replayer *rp = r->rp;
    struct conversation_config cfg = {
        .limits = rp->limits,
        .exchange = rp->ex_limits,
        .conn_id = ++*rp->conn_ids,
        .hash_bodies = true,
    };
    if (r->conn) {
        cfg.client = *conn_local(r->conn);
        cfg.server = *conn_peer(r->conn);
    } else {
        endpoint_set(&cfg.server, r->host, r->port);
    }
    struct conversation_events ev = {r, on_event};
    r->conv = conversation_new(&cfg, &ev);
    feed(r, SIDE_CLIENT, r->req, r->n);
}

static void finish(struct replay *r)
{
    struct replayer *rp = r->rp;
    if (!r->conv)
        start_conversation(r); /* a replay that never connected still shows what it tried */
    if (r->failure[0])
        rp->counters.failed++;
    int64_t ts = hspy_now();
    conversation_close(r->conv, SIDE_CLIENT, ts);
    conversation_close(r->conv, SIDE_SERVER, ts);
    conversation_free(r->conv);
    if (r->prev)
        r->prev->next = r->next;
    else
        rp->first = r->next;
    if (r->next)
        r->next->prev = r->prev;
    rp->n--;
    free(r->req);
    free(r);
}

/* ---- the connection ---- */

static void on_read(void *data, struct conn *c, const uint8_t *p, size_t n)
{
    struct replay *r = data;
    feed(r, SIDE_SERVER, p, n);
    if (r->answered)
        conn_close(c, CONN_CLOSE_FLUSH);
}

static void on_eof(void *data, struct conn *c)
{
    struct replay *r = data;
    if (r->conv)
        conversation_close(r->conv, SIDE_SERVER, hspy_now());
    if (!r->answered && !r->failure[0])
        snprintf(r->failure, sizeof r->failure, "the target closed the connection");
    conn_close(c, CONN_CLOSE_FLUSH);
}

static void on_drain(void *data, struct conn *c)
{
    (void)data, (void)c;
}

static void on_timeout(void *data, struct conn *c, enum conn_timeout which)
{
    (void)which;
    struct replay *r = data;
    r->timed_out = true;
    snprintf(r->failure, sizeof r->failure, "no progress for %" PRIu64 " ms (--idle-timeout)",
             r->rp->timeout_ms);
    conn_close(c, CONN_CLOSE_NOW);
}

static void on_close(void *data, struct conn *c, int status)
{
    (void)c;
    struct replay *r = data;
    if (status && status != UV_EOF && !r->failure[0])
        snprintf(r->failure, sizeof r->failure, "%s", uv_strerror(status));
    if (!r->answered && !r->failure[0] && r->rp->closing)
        snprintf(r->failure, sizeof r->failure, "hspy stopped before the response came");
    r->conn = NULL;
    finish(r);
}

static void on_connected(void *data, struct conn *c, int status)
{
    struct replay *r = data;
    if (status < 0) {
        snprintf(r->failure, sizeof r->failure, "connect: %s", uv_strerror(status));
        return; /* on_close follows */
    }
    start_conversation(r);
    conn_write(c, r->req, r->n);
    conn_set_idle(c, r->rp->timeout_ms);
}

static void connect_to(struct replay *r, const struct sockaddr *addr)
{
    static const struct conn_events EVENTS = {NULL,     on_read,    on_eof,
                                              on_drain, on_timeout, on_close};
    int rc = conn_connect(&r->rp->conns, addr, on_connected, r, &r->conn);
    if (rc < 0) {
        snprintf(r->failure, sizeof r->failure, "connect: %s", uv_strerror(rc));
        finish(r);
        return;
    }
    struct conn_events ev = EVENTS;
    ev.data = r;
    conn_start(r->conn, &ev);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct replay *r = req->data;
    r->resolving = false;
    if (status < 0 || !res || r->rp->closing) {
        snprintf(r->failure, sizeof r->failure, "%.255s: %.200s", r->host,
                 status < 0 ? uv_strerror(status) : "hspy stopped first");
        if (res)
            uv_freeaddrinfo(res);
        finish(r);
        return;
    }
    connect_to(r, res->ai_addr);
    uv_freeaddrinfo(res);
}

int replayer_send(struct replayer *rp, const char *host, uint16_t port, const uint8_t *req,
                  size_t n, uint64_t of, char *err, size_t errlen)
{
    if (rp->closing)
        return snprintf(err, errlen, "hspy is stopping"), -1;
    if (rp->n >= REPLAY_INFLIGHT_MAX)
        return snprintf(err, errlen, "%d replays are in flight already", REPLAY_INFLIGHT_MAX), -1;
    struct replay *r = xcalloc(1, sizeof *r);
    r->rp = rp;
    r->req = xmalloc(n ? n : 1);
    memcpy(r->req, req, n);
    r->n = n;
    r->of = of;
    snprintf(r->host, sizeof r->host, "%s", host);
    r->port = port;
    r->next = rp->first;
    if (rp->first)
        rp->first->prev = r;
    rp->first = r;
    rp->n++;
    rp->counters.started++;
    struct sockaddr_storage ss;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0) {
        connect_to(r, (const struct sockaddr *)&ss);
        return 0;
    }
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    r->gai.data = r;
    r->resolving = true;
    int rc = uv_getaddrinfo(rp->loop, &r->gai, on_resolved, host, service, &hints);
    if (rc < 0) {
        r->resolving = false;
        snprintf(r->failure, sizeof r->failure, "%.255s: %.200s", host, uv_strerror(rc));
        finish(r);
    }
    return 0;
}

void replayer_close(struct replayer *rp)
{
    rp->closing = true;
    for (struct replay *r = rp->first; r; r = r->next) {
        if (r->resolving)
            uv_cancel((uv_req_t *)&r->gai);
        else if (r->conn)
            conn_close(r->conn, CONN_CLOSE_NOW);
    }
}

void replayer_cleanup(struct replayer *rp)
{
    conn_group_cleanup(&rp->conns);
}
