/*
 * proxy owns the `hspy proxy` subcommand: it resolves the upstream named on the command line,
 * binds the listener, sets up the pool of upstream connections, runs the loop until a signal
 * (or the interface) stops it, then winds down so every exchange in flight reaches the store
 * and the sinks. Connections are relay.c's; upstream connections are upstream.c's.
 */
#include "hspy/proxy.h"

#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/endpoint.h"
#include "hspy/forward.h"
#include "hspy/flusher.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/plural.h"
#include "hspy/relay.h"
#include "hspy/response.h"
#include "hspy/sinks.h"
#include "hspy/xmalloc.h"

/* Resolves the upstream once, before serving: a typo is reported at once, not per request. */
static int setup_upstream(struct proxy *px)
{
    struct hspy *h = px->h;
    struct upstream_target *t = &px->upstream;
    char why[256];
    if (hostport_split(h->opt.upstream, t->host, sizeof t->host, &t->port, 80, why, sizeof why) !=
        0)
        return hspy_fail(h, "upstream %s: %s", h->opt.upstream, why);
    upstream_target_format(t, px->upstream_name, sizeof px->upstream_name);
    forward_authority(px->upstream_host, sizeof px->upstream_host, t->host, t->port);
    if (upstream_target_literal(t) == 0)
        return 0;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    uv_getaddrinfo_t req;
    /* Without a callback libuv resolves synchronously. */
    int r = uv_getaddrinfo(&h->loop, &req, NULL, t->host, NULL, &hints);
    if (r)
        return hspy_fail(h, "upstream %s: cannot resolve host: %s", px->upstream_name,
                         uv_strerror(r));
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = req.addrinfo; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || (ai->ai_family == AF_INET6 && !pick))
            pick = ai->ai_family == AF_INET && pick && pick->ai_family == AF_INET ? pick : ai;
    if (!pick) {
        uv_freeaddrinfo(req.addrinfo);
        return hspy_fail(h, "upstream %s: no IPv4 or IPv6 address", px->upstream_name);
    }
    memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
    if (t->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&t->addr)->sin_port = htons(t->port);
    else
        ((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(t->port);
    t->has_addr = true;
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static void on_conn(void *data, struct conn *c)
{
    relay_start(data, c);
}

static bool is_self(const struct proxy *px)
{
    if (!px->upstream.has_addr)
        return false;
    struct endpoint e;
    conn_endpoint_from(&e, (const struct sockaddr *)&px->upstream.addr);
    return endpoint_equal(&e, &px->listener.local);
}

/* A proxied connection holds two descriptors, plus the idle upstream connections kept. */
static void raise_fd_limit(const struct proxy *px)
{
    const struct options *o = &px->h->opt;
    uint64_t want = 2 * o->max_conns + o->upstream_keepalive + 64;
    uint64_t have = listener_fd_limit(want);
    if (have < want)
        fprintf(stderr,
                "hspy: warning: only %" PRIu64 " file descriptors allowed (ulimit -n): fewer "
                "than --max-conns %" PRIu64 " proxied %s can be served\n",
                have, o->max_conns, plural(o->max_conns, "connection", "connections"));
}

static int open_listener(struct proxy *px)
{
    struct hspy *h = px->h;
    struct listener_config cfg = {
        .host = h->opt.host,
        .port = h->opt.port,
        .max_conns = h->opt.max_conns,
        .refusal = response_refusal,
        /* Without the interface, refusals are reported on stderr; it shows the counters. */
        .report = h->interactive ? NULL : stderr,
    };
    px->listener.data = px;
    px->listener.on_conn = on_conn;
    raise_fd_limit(px);
    if (listener_open(&px->listener, &h->loop, &cfg, &px->clients, h->err, sizeof h->err) != 0)
        return -1;
    char addr[ENDPOINT_STRLEN];
    endpoint_format(&px->listener.local, addr, sizeof addr);
    if (is_self(px)) {
        listener_close(&px->listener);
        uv_run(&h->loop, UV_RUN_NOWAIT);
        return hspy_fail(h, "upstream %s: that is this proxy's own address", px->upstream_name);
    }
    snprintf(h->title, sizeof h->title, "proxy %s -> %s", addr, px->upstream_name);
    fprintf(stderr, "hspy: listening on %s\n", addr);
    hspy_say("upstream %s%s", px->upstream_name,
             h->opt.reverse_only ? "" : " (and any host named by absolute-form or CONNECT)");
    if (listener_public(&px->listener))
        fprintf(stderr,
                "hspy: warning: %s is reachable from the network; anyone who can connect may "
                "use this proxy%s\n",
                addr, h->opt.reverse_only ? "" : " to reach any host (see --reverse-only)");
    return 0;
}

static void stop(struct proxy *px)
{
    if (px->stopping)
        return;
    px->stopping = true;
    listener_close(&px->listener);
    signals_cleanup(&px->signals);
    if (px->intercept.loop)
        intercept_close(&px->intercept);
    /* Connections end now; the conversation ends their exchanges, so the sinks see them all. */
    conn_group_close_all(&px->clients, CONN_CLOSE_NOW);
    /* Busy upstream connections close with their clients' (which records why). */
    upstream_pool_close_idle(&px->pool);
}

static void on_stop(void *data, int signum, bool urgent)
{
    (void)signum;
    struct proxy *px = data;
    if (urgent)
        uv_stop(&px->h->loop);
    stop(px);
}

static void report(const struct proxy *px)
{
    if (px->h->interactive)
        return;
    const struct proxy_counters *k = &px->counters;
    const struct upstream_counters *u = &px->pool.counters;
    fprintf(stderr,
            "hspy: proxy: %" PRIu64 " %s, %" PRIu64 " not forwarded, %" PRIu64
            " %s; upstream: %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " failed, %" PRIu64
            " out of step; answered %" PRIu64 " x 502, %" PRIu64 " %s, %" PRIu64
            " rejected; %" PRIu64 " cut, %" PRIu64 " %s; %" PRIu64 " %s\n",
            k->requests, plural(k->requests, "request", "requests"), k->unforwarded, k->tunnels,
            plural(k->tunnels, "tunnel", "tunnels"), u->connects,
            plural(u->connects, "connection", "connections"), u->reused,
            plural(u->reused, "reuse", "reuses"), u->connect_failed, u->stray, k->bad_gateway,
            k->timeouts, plural(k->timeouts, "timeout", "timeouts"), k->rejected, k->cut,
            k->client_aborts, plural(k->client_aborts, "client abort", "client aborts"),
            k->ambiguous,
            plural(k->ambiguous, "ambiguous request ended its connections",
                   "ambiguous requests ended their connections"));
}

int proxy_open(struct proxy *px, struct hspy *h)
{
    memset(px, 0, sizeof *px);
    px->h = h;
    snprintf(px->software, sizeof px->software, "hspy/%s", HSPY_VERSION);
    conn_group_init(&px->clients, &h->loop);
    struct upstream_config ucfg = {
        .idle_max = (size_t)h->opt.upstream_keepalive,
        .idle_ms = h->opt.upstream_idle_ms,
        .connect_ms = h->opt.connect_timeout_ms,
        .per_owner = h->opt.upstream_per_client,
        .on_stray = relay_stray,
        .data = px,
    };
    upstream_pool_init(&px->pool, &h->loop, &ucfg);
    if (setup_upstream(px) != 0 || open_listener(px) != 0)
        return -1;
    return 0;
}

void proxy_stop(struct proxy *px)
{
    stop(px);
}

void proxy_cleanup(struct proxy *px)
{
    flusher_close(&px->flusher);
    uv_run(&px->h->loop, UV_RUN_NOWAIT);
    conn_group_cleanup(&px->clients);
    upstream_pool_cleanup(&px->pool);
}

static void start_flush(struct proxy *px)
{
    flusher_open(&px->flusher, px->h);
}

/* ---- intercept: the relay's hold points feed the session's holds ---- */

static void release_request(void *data, struct exchange *ex, const struct intercept_release *r)
{
    (void)ex;
    bool edit = r->answer == INTERCEPT_BYTES;
    relay_release(data, SIDE_CLIENT, edit ? r->bytes : NULL, edit ? r->len : 0);
}

static void release_response(void *data, struct exchange *ex, const struct intercept_release *r)
{
    (void)ex;
    bool edit = r->answer == INTERCEPT_BYTES;
    relay_release(data, SIDE_SERVER, edit ? r->bytes : NULL, edit ? r->len : 0);
}

static void kill_held(void *data, struct exchange *ex)
{
    (void)ex;
    relay_kill(data);
}

static const struct intercept_hold_ops REQUEST_OPS = {release_request, kill_held};
static const struct intercept_hold_ops RESPONSE_OPS = {release_response, kill_held};

static bool hold_request(void *data, struct relay *r, struct exchange *ex)
{
    struct proxy *px = data;
    if (!intercept_wants(&px->intercept, ex))
        return false;
    intercept_hold(&px->intercept, ex, SIDE_CLIENT, SIDE_CLIENT, &REQUEST_OPS, r);
    return true;
}

static bool hold_response(void *data, struct relay *r, struct exchange *ex)
{
    struct proxy *px = data;
    /* A protocol switch goes on at once: the connection is a tunnel from here. */
    if (ex->resp.head.status == 101 || !intercept_wants(&px->intercept, ex))
        return false;
    intercept_hold(&px->intercept, ex, SIDE_SERVER, SIDE_SERVER, &RESPONSE_OPS, r);
    return true;
}

static void hold_dropped(void *data, struct relay *r, struct exchange *ex)
{
    struct proxy *px = data;
    struct intercept_hold *h = intercept_find(&px->intercept, ex->id);
    if (!h || h->data != r)
        return;
    const char *what = h->side == SIDE_CLIENT ? "request" : "response";
    if (!ex->error)
        exchange_fail(ex, 0, "the connection ended while the %s was held", what);
    else if (!ex->note)
        ex->note = arena_printf(&ex->arena, "the connection ended while the %s was held", what);
    intercept_drop(&px->intercept, h);
}

static void setup_intercept(struct proxy *px)
{
    struct hspy *h = px->h;
    intercept_init(&px->intercept, &h->loop, &h->store, h->opt.hold_timeout_ms, h->opt.hold_kills);
    if (h->opt.intercept) {
        char err[256];
        intercept_set_filter(&px->intercept, h->opt.intercept, err, sizeof err, NULL);
    }
    px->intercept_hooks = (struct proxy_hooks){px, hold_request, hold_response, hold_dropped};
    px->hooks = &px->intercept_hooks;
    h->intercept = &px->intercept;
}

static int run(struct hspy *h)
{
    if (h->opt.intercept && !h->interactive && !h->opt.hold_timeout_ms)
        return hspy_usage(h, "--intercept: held messages are released in the interface; "
                             "without it, give --hold-timeout");
    struct proxy *px = xcalloc(1, sizeof *px);
    int status = 1;
    /* proxy_open prints the address: a script that stops hspy as soon as it has read the port
     * must get a clean stop (outputs finished), so the signals wait for their watchers. */
    signals_defer();
    if (proxy_open(px, h) != 0)
        goto out;
    if (hspy_start(h) != 0) {
        listener_close(&px->listener);
        uv_run(&h->loop, UV_RUN_NOWAIT);
        goto out;
    }
    start_flush(px);
    signals_init(&px->signals, &h->loop, on_stop, px);
    setup_intercept(px);
    h->listener = &px->listener; /* the interface's status line shows its counters */
    uv_run(&h->loop, UV_RUN_DEFAULT);
    /* Stopped by a signal or by the interface: close whatever is left and let it finish. */
    proxy_stop(px);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    report(px);
    status = 0;
out:
    h->listener = NULL;
    h->intercept = NULL;
    proxy_cleanup(px);
    if (px->intercept.loop)
        intercept_cleanup(&px->intercept);
    free(px);
    return status;
}

const struct mode mode_proxy = {CMD_PROXY, 1, run};
