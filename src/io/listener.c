/*
 * listener owns a listening socket: name resolution, bind, listen, the accept loop with its
 * connection cap with the graceful close of what it refused, and the rate-limited report of
 * those refusals. It never reads from an accepted connection; it hands each one over. A
 * refused one's bytes are only looked at for its answer, then read and dropped, never looked
 * into, by its conn's lingering close.
 */
#include "hspy/listener.h"

#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/plural.h"

static void describe(char *buf, size_t len, const char *host, uint16_t port)
{
    if (strchr(host, ':'))
        snprintf(buf, len, "[%s]:%u", host, port);
    else
        snprintf(buf, len, "%s:%u", host, port);
}

/* Resolves host to one address, preferring IPv4 (what "localhost" users mostly expect). */
static int resolve(uv_loop_t *loop, const char *host, uint16_t port, struct sockaddr_storage *out,
                   char *why, size_t whylen)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    uv_getaddrinfo_t req;
    /* Without a callback libuv resolves synchronously: the server cannot start before it. */
    int r = uv_getaddrinfo(loop, &req, NULL, host, NULL, &hints);
    if (r) {
        snprintf(why, whylen, "cannot resolve host: %s", uv_strerror(r));
        return -1;
    }
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = req.addrinfo; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
        if (ai->ai_family == AF_INET6 && !pick)
            pick = ai;
    }
    if (!pick) {
        uv_freeaddrinfo(req.addrinfo);
        snprintf(why, whylen, "no IPv4 or IPv6 address for this host");
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, pick->ai_addr, pick->ai_addrlen);
    if (out->ss_family == AF_INET)
        ((struct sockaddr_in *)out)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

/* ---- the report (cfg.report) ---- */

/*
 * Writes a line for each kind (refusals, accept failures) counted since the lines before, with
 * the totals so far. Returns whether it wrote anything.
 */
static bool report_new(struct listener *l)
{
    const struct listener_counters *k = &l->counters;
    FILE *f = l->cfg.report;
    uint64_t refused = k->refused - l->refused_reported, failed = k->failed - l->failed_reported;
    if (refused == 1)
        fprintf(f, "hspy: refused a connection: ");
    else if (refused)
        fprintf(f, "hspy: refused %" PRIu64 " %s: ", refused,
                plural(refused, "connection", "connections"));
    if (refused)
        fprintf(f,
                "%zu open, the limit (--max-conns) is %" PRIu64 " (%" PRIu64 " refused so far)\n",
                l->conns->n, l->cfg.max_conns, k->refused);
    if (failed == 1)
        fprintf(f, "hspy: accept failed: %s (%" PRIu64 " so far)\n", uv_strerror(l->last_error),
                k->failed);
    else if (failed)
        fprintf(f, "hspy: accept failed %" PRIu64 " %s, the last: %s (%" PRIu64 " so far)\n",
                failed, plural(failed, "time", "times"), uv_strerror(l->last_error), k->failed);
    l->refused_reported = k->refused;
    l->failed_reported = k->failed;
    if (refused || failed)
        fflush(f);
    return refused || failed;
}

static void report_interval_end(uv_timer_t *t)
{
    struct listener *l = t->data;
    /* What came during the interval is written now, and starts another; a quiet interval
     * lets the next refusal be written at once. */
    if (report_new(l))
        uv_timer_start(t, report_interval_end, l->cfg.report_ms, 0);
}

/* A refusal or an accept failure (err) was counted. */
static void noted(struct listener *l, int err)
{
    if (err)
        l->last_error = err;
    if (l->on_refuse)
        l->on_refuse(l->data, err);
    if (!l->cfg.report || uv_is_active((uv_handle_t *)&l->report_timer))
        return; /* the interval's end writes it */
    report_new(l);
    uv_timer_start(&l->report_timer, report_interval_end, l->cfg.report_ms, 0);
}

/* What was not written yet, then the session's totals when anything was refused or failed. */
static void report_end(struct listener *l)
{
    const struct listener_counters *k = &l->counters;
    FILE *f = l->cfg.report;
    report_new(l);
    if (!k->refused && !k->failed)
        return;
    fprintf(f,
            "hspy: %" PRIu64 " connection%s refused in all (--max-conns %" PRIu64 "); %" PRIu64
            " accepted, at most %zu open at once",
            k->refused, plural(k->refused, "", "s"), l->cfg.max_conns, k->accepted, k->peak);
    if (k->failed)
        fprintf(f, "; %" PRIu64 " accept failure%s", k->failed, plural(k->failed, "", "s"));
    fputc('\n', f);
    fflush(f);
}

/* ---- accepting ---- */

/* A refused connection is gone; the last one after listener_close takes the group's buffer. */
static void refused_closed(void *data, struct conn *c, int status)
{
    (void)c;
    (void)status;
    struct listener *l = data;
    if (!l->open && l->refusing.n == 0)
        conn_group_cleanup(&l->refusing);
}

/*
 * Accepts a connection past the cap, sends it the owner's refusal (going by what it had sent,
 * looked at and not waited for) and closes it: gracefully while fewer than LISTENER_LINGER_MAX
 * linger (the refusal, our FIN, then its bytes drained; see listener.h), at once past that.
 */
static void refuse(struct listener *l, uv_stream_t *server)
{
    struct conn *c;
    bool linger = l->refusing.n < LISTENER_LINGER_MAX;
    if (conn_accept(server, &l->refusing, &c) == 0) {
        struct conn_events ev = {.data = l, .on_close = refused_closed};
        if (l->cfg.refusal) {
            uint8_t sent[LISTENER_PEEK_MAX];
            struct dynbuf out;
            dynbuf_init(&out, LISTENER_REFUSAL_MAX);
            l->cfg.refusal(&out, sent, conn_peek(c, sent, sizeof sent));
            conn_start(c, &ev);
            conn_write(c, out.data, out.len);
            dynbuf_cleanup(&out);
        } else {
            conn_start(c, &ev);
        }
        /* A client that takes nothing must not hold the refusal's flush either. */
        conn_set_idle(c, CONN_LINGER_MS);
        conn_close(c, linger ? CONN_CLOSE_FLUSH : CONN_CLOSE_NOW);
    }
    l->counters.refused++;
    noted(l, 0);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    if (status < 0) {
        l->counters.failed++;
        noted(l, status);
        return;
    }
    if (l->conns->n >= l->cfg.max_conns) {
        refuse(l, server);
        return;
    }
    struct conn *c;
    int r = conn_accept(server, l->conns, &c);
    if (r) {
        l->counters.failed++;
        noted(l, r);
        return;
    }
    l->counters.accepted++;
    if (l->conns->n > l->counters.peak)
        l->counters.peak = l->conns->n;
    l->on_conn(l->data, c);
}

static int give_up(struct listener *l, uv_loop_t *loop, char *err, size_t errlen, const char *where,
                   int r)
{
    snprintf(err, errlen, "listen %s: %s", where, uv_strerror(r));
    uv_close((uv_handle_t *)&l->tcp, NULL);
    /* Let the close finish now: the handle's memory belongs to a caller about to return. */
    uv_run(loop, UV_RUN_NOWAIT);
    return -1;
}

int listener_open(struct listener *l, uv_loop_t *loop, const struct listener_config *cfg,
                  struct conn_group *g, char *err, size_t errlen)
{
    l->cfg = *cfg;
    if (!l->cfg.backlog)
        l->cfg.backlog = LISTENER_BACKLOG_DEFAULT;
    if (!l->cfg.report_ms)
        l->cfg.report_ms = LISTENER_REPORT_MS_DEFAULT;
    l->conns = g;
    conn_group_init(&l->refusing, loop);
    l->refusing.linger_max = LISTENER_LINGER_BYTES;
    memset(&l->counters, 0, sizeof l->counters);
    l->refused_reported = l->failed_reported = 0;
    char where[300], why[200];
    describe(where, sizeof where, cfg->host, cfg->port);
    struct sockaddr_storage ss;
    if (resolve(loop, cfg->host, cfg->port, &ss, why, sizeof why) != 0) {
        snprintf(err, errlen, "listen %s: %s", where, why);
        return -1;
    }
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    int r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, l->cfg.backlog, on_connection);
    if (r)
        return give_up(l, loop, err, errlen, where, r);
    int len = sizeof ss;
    r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
    if (r)
        return give_up(l, loop, err, errlen, where, r);
    conn_endpoint_from(&l->local, (struct sockaddr *)&ss);
    uv_timer_init(loop, &l->report_timer);
    l->report_timer.data = l;
    l->open = true;
    return 0;
}

void listener_close(struct listener *l)
{
    if (!l->open)
        return;
    l->open = false;
    uv_close((uv_handle_t *)&l->tcp, NULL);
    uv_close((uv_handle_t *)&l->report_timer, NULL);
    conn_group_close_all(&l->refusing, CONN_CLOSE_NOW);
    if (l->refusing.n == 0)
        conn_group_cleanup(&l->refusing);
    if (l->cfg.report)
        report_end(l);
}

bool listener_public(const struct listener *l)
{
    return !endpoint_is_loopback(&l->local);
}

uint64_t listener_fd_limit(uint64_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return 0;
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
