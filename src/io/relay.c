/*
 * relay owns one client connection of `hspy proxy`: it feeds the client's bytes and the
 * upstream's bytes to the connection's conversation, forwards exactly what the conversation
 * consumed, routes each request to an upstream connection from the pool, answers with hspy's
 * own error response when the upstream cannot be used, and decides when each side pauses,
 * times out and closes. It stores exchanges as the conversation hands them out and adds the
 * proxy's timings, notes and failures to them; it never draws and never prints.
 *
 * Request side: client bytes are fed while a head is awaited; the conversation pauses at the
 * parsed head (nothing of it has been forwarded), the relay routes it and builds the head as
 * forwarded (relay.h has the order), then body bytes are forwarded as the conversation
 * consumes them, and it pauses again at the end of the request. Response side: upstream bytes
 * are staged until the parser finds a complete head, so a response head is never half sent
 * and hspy can still answer 502 when the upstream fails before one arrives; then heads and
 * body bytes are fed and forwarded in the same order. Every entry point ends in pump(), which
 * runs the follow-ups in one place and never re-enters itself.
 */
#include "hspy/relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/decimal.h"
#include "hspy/edit.h"
#include "hspy/forward.h"
#include "hspy/hspy.h"
#include "hspy/plural.h"
#include "hspy/proxy.h"
#include "hspy/response.h"
#include "hspy/spool.h"
#include "hspy/termsafe.h"
#include "hspy/xmalloc.h"

/* The error of a request received but never forwarded. */
static const char RELAY_LEFTOVER[] =
    "not forwarded: the connection closed after the previous response";

/* Reasons to stop reading a connection (conn_hold bits). */
enum {
    HOLD_INPUT = 1 << 0, /* client: bytes wait in held (the request cannot take them yet) */
    HOLD_PEER = 1 << 1,  /* upstream: the client's queue is full or staged bytes wait */
};

enum rq_state {
    RQ_HEAD,       /* awaiting a request head: client bytes are fed, nothing is forwarded */
    RQ_ROUTE,      /* the head was parsed: pump routes it */
    RQ_HELD,       /* a hook holds the request */
    RQ_SPOOL,      /* --buffer-requests: the body goes into the spool */
    RQ_CONNECT,    /* waiting for the upstream connection */
    RQ_BODY,       /* head sent: body bytes are forwarded as they are consumed */
    RQ_SEND_SPOOL, /* head sent: the spooled body is being sent */
    RQ_SENT,       /* the whole request went upstream: waiting for the response to end */
    RQ_TUNNEL,     /* client bytes are tunnel bytes */
    RQ_OVER,       /* nothing more is read: hspy answered, the connection closes */
};

enum rs_state {
    RS_NONE,   /* no response due */
    RS_HEAD,   /* staging upstream bytes until a complete head */
    RS_HELD,   /* a final head was fed and a hook holds it: the response is fed into resp_buf
                  (up to its cap), nothing goes to the client */
    RS_BODY,   /* body bytes are fed and forwarded */
    RS_DROP,   /* the client got an edited response instead: the rest is fed, not forwarded */
    RS_DONE,   /* the response ended */
    RS_TUNNEL, /* upstream bytes are tunnel bytes */
};

struct relay {
    struct proxy *px;
    struct conn *cl;
    uint64_t conn_id;
    struct conversation *conv; /* created at the client's first byte (idle floods stay cheap) */
    struct upstream *up;
    struct exchange *ex; /* exchange of the current request (CONV_BEGIN .. CONV_END), or NULL */
    uint8_t rq, rs;      /* enum rq_state, enum rs_state */
    struct forward_route route;
    struct upstream_target target;
    const char *target_name; /* "host:port" of target (the proxy's or name_buf) */
    char name_buf[UPSTREAM_HOST_MAX + 16];
    struct dynbuf head;  /* the request head as it goes upstream */
    bool head_edited;    /* head differs from the received one (Host, X-Forwarded-For, ...) */
    bool req_done;       /* the conversation ended the current request */
    bool connect_method; /* CONNECT: hspy answers 200 itself and tunnels */
    bool http09;         /* HTTP/0.9 request: its response has no head */
    bool reused;         /* the upstream connection came from the pool */
    bool await_sent;     /* T_REQ_FORWARDED waits for the upstream queue to empty */
    uint8_t retries;
    uint64_t body_sent; /* request bytes after the head forwarded */
    bool spooling;
    struct spool spool;
    /* client input not fed yet */
    struct dynbuf held;
    size_t held_off;
    /* upstream input not fed yet */
    struct dynbuf stage;
    size_t stage_off;
    int64_t stage_t0; /* arrival of the first staged head byte */
    struct http_scan scan;
    struct http_head rhead;
    uint64_t resp_sent; /* bytes of the current response sent to the client */
    bool final_out;     /* a final response head (not a 1xx) went to the client */
    bool resp_done;
    bool resp_hold;  /* a hook asked to hold the response head being fed */
    bool extra;      /* the upstream sent bytes past its response */
    bool broken;     /* a message's framing broke: neither connection can carry another */
    bool req_broken; /* the current request's body framing broke */
    bool tunnel;
    bool own; /* feeding hspy's own response (hooks are not asked) */
    bool cl_eof, cl_eof_done, cl_shut;
    bool up_eof, up_eof_done;
    bool close_after; /* close the client once the current response is out */
    /* The current request carries this warning_risks_desync code (W_NONE: none): its exchange
     * is the last on both connections. */
    uint16_t desync;
    bool head_deadline; /* the --head-timeout deadline runs for a head in progress */
    bool want_close, closing, closed;
    uint8_t close_how;
    bool pumping, again;
    /* intercept (proxy_hooks): a held request's body is spooled, a held response is kept in
     * resp_buf; what the user sent instead replaces the recorded message once it has ended */
    struct dynbuf resp_buf;      /* RS_HELD: the response fed so far, not sent */
    bool req_replaced;           /* head holds the whole request that goes instead */
    struct dynbuf resp_sent_buf; /* the response that went instead of the upstream's */
    bool resp_replaced;
    bool no_reuse;               /* an edited message went up: the connection is not reused */
    bool hooked;                 /* a hook holds a message that was not released yet */
    struct exchange *ended_held; /* ended while its response was held: completed later */
    /* Upstream bytes are being taken (take_upstream): an exchange that ends meanwhile is
     * completed when they are, so that bytes found past its response are still recorded on
     * it before any sink sees it. */
    bool taking;
    struct exchange *ending;
    struct upstream_tag last; /* the last exchange completed: the upstream's tag */
};

static void pump(struct relay *r);
static void note_upstream(struct relay *r, struct exchange *ex);

static struct store *store_of(struct relay *r)
{
    return &r->px->h->store;
}

static const struct options *opt_of(struct relay *r)
{
    return &r->px->h->opt;
}

/* ---- writing ---- */

/* Writes to a conn, bypassing a cork for large pieces so they are not copied. */
static void put(struct conn *c, const uint8_t *p, size_t n)
{
    if (n >= CONN_CORK_MAX / 4 && conn_corked(c)) {
        conn_uncork(c);
        conn_write(c, p, n);
        conn_cork(c);
        return;
    }
    conn_write(c, p, n);
}

static void to_client(struct relay *r, const uint8_t *p, size_t n)
{
    if (!n || r->closed)
        return;
    put(r->cl, p, n);
    r->resp_sent += n;
}

static void to_upstream(struct relay *r, const uint8_t *p, size_t n)
{
    if (n && r->up && r->up->conn)
        put(r->up->conn, p, n);
}

static void feed_server(struct relay *r, const uint8_t *p, size_t n, size_t *took)
{
    *took = conversation_feed(r->conv, SIDE_SERVER, p, n, hspy_now());
}

/* hspy's own response bytes: sent to the client and recorded as the server side. */
static void send_own(struct relay *r, const char *p, size_t n)
{
    r->own = true;
    to_client(r, (const uint8_t *)p, n);
    size_t off = 0, k;
    while (off < n) {
        feed_server(r, (const uint8_t *)p + off, n - off, &k);
        if (k == 0)
            break;
        off += k;
    }
    r->own = false;
}

/* ---- failures ---- */

/* Appends up to 64 bytes of p, escaped, for a warning's detail. */
static void describe_bytes(struct dynbuf *out, const uint8_t *p, size_t n)
{
    dynbuf_addc(out, '\'');
    termsafe_append(out, p, n < 64 ? n : 64, 0);
    dynbuf_adds(out, n > 64 ? "'..." : "'");
}

/* Gives up on the upstream connection in use (reset when it was mid-exchange). */
static void drop_upstream(struct relay *r, int how)
{
    if (!r->up)
        return;
    upstream_close(r->up, how);
    r->up = NULL;
}

/* The request's exchange, if it is still being written. */
static struct exchange *current(struct relay *r)
{
    return r->ex;
}

/*
 * Answers the current request with hspy's own error response and closes the connection after
 * it. Only possible while nothing of an upstream response reached the client; otherwise the
 * client connection is cut (closed) instead.
 */
static void answer(struct relay *r, uint16_t status, uint32_t flags, const char *why)
{
    struct exchange *ex = current(r);
    if (ex) {
        exchange_fail(ex, flags, "answered %u: %s", status, why);
        if (flags & EX_UPSTREAM_FAIL)
            exchange_warn(ex, W_UPSTREAM_ERROR, SIDE_SERVER, ex->resp.wire_bytes, "%s", why);
        store_touch(store_of(r), ex);
    }
    drop_upstream(r, CONN_CLOSE_NOW);
    r->rq = RQ_OVER;
    r->want_close = true;
    r->close_how = CONN_CLOSE_FLUSH;
    if (r->final_out || r->resp_buf.len > 0 || r->closed) {
        r->close_how = CONN_CLOSE_RESET;
        return;
    }
    dynbuf_reset(&r->stage);
    r->stage_off = 0;
    char server[64];
    snprintf(server, sizeof server, "Server: %s", r->px->software);
    const char *headers[] = {server};
    const struct message *req = ex ? &ex->req : NULL;
    struct response_error spec = {
        .status = status,
        .why = why,
        .headers = headers,
        .nheaders = 1,
        .head_request = req && message_is_head_request(req),
    };
    struct dynbuf out;
    dynbuf_init(&out, 2048);
    response_error(&out, &spec);
    send_own(r, (const char *)out.data, out.len);
    dynbuf_cleanup(&out);
    r->rs = RS_DONE;
}

/*
 * Records on ex that its connection is cut: why, the flags, and a warning on the side at fault
 * (a kill: the side that was held; a client that went away: the request; else the upstream).
 */
static void mark_cut(struct relay *r, struct exchange *ex, uint32_t flags, const char *why)
{
    enum warning_code code = W_UPSTREAM_ERROR;
    enum side side = SIDE_SERVER;
    if (flags & EX_KILLED) {
        code = W_KILLED;
        side = r->rs == RS_HELD ? SIDE_SERVER : SIDE_CLIENT;
    } else if (flags & EX_CLIENT_ABORT) {
        code = W_CLIENT_ABORT;
        side = SIDE_CLIENT;
    }
    exchange_fail(ex, flags, "%s", why);
    exchange_warn(ex, code, side, exchange_msg(ex, side)->wire_bytes, "%s", why);
    store_touch(store_of(r), ex);
}

/*
 * Closes the client connection because the response cannot be completed. Both the current
 * exchange and one whose response is held after its messages ended lose their answer: both
 * are marked, so a held response that never reaches the client says so like a held request.
 */
static void cut(struct relay *r, uint32_t flags, int how, const char *why)
{
    struct exchange *ex = current(r);
    if (ex)
        mark_cut(r, ex, flags, why);
    if (r->ended_held && r->ended_held != ex)
        mark_cut(r, r->ended_held, flags, why);
    r->rq = RQ_OVER;
    r->want_close = true;
    if (!r->closing || how > r->close_how)
        r->close_how = (uint8_t)how;
}

/* ---- conversation events ---- */

/* The exchange ended: a response the client got edited becomes what was sent, then it goes to
 * the store's observers. */
static void complete(struct relay *r, struct exchange *ex)
{
    struct hspy *h = r->px->h;
    if (r->resp_replaced && (ex->resp.flags & MSG_STARTED)) {
        r->resp_replaced = false;
        edit_replace(ex, SIDE_SERVER, r->resp_sent_buf.data, r->resp_sent_buf.len, "received",
                     &h->limits, &h->ex_limits);
    }
    r->last = (struct upstream_tag){.id = ex->id, .conn = ex->conn_id, .seq = ex->conn_seq};
    store_complete(store_of(r), ex);
}

/* The first response byte arrived when staging began, not when the complete head was fed. */
static void fix_first_byte(struct relay *r, struct exchange *ex)
{
    if (r->stage_t0 && ex->t[T_RESP_FIRST] > r->stage_t0) {
        ex->t[T_RESP_FIRST] = r->stage_t0;
        ex->resp.t_first = r->stage_t0;
    }
    r->stage_t0 = 0;
}

/*
 * The request ended: a body may have shown what its head did not, that another reader may frame
 * it otherwise (a trailer section's field lines, a chunk-size line's bare LF). Such a request
 * is the last exchange on both connections, as one whose head showed it (route), and the note,
 * written when the upstream connection was ready, says so. A request hspy answered itself
 * (RQ_OVER) was never forwarded and its connection closes anyway.
 */
static void desync_in_body(struct relay *r, struct exchange *ex)
{
    if (r->desync != W_NONE || r->rq == RQ_OVER || r->tunnel)
        return;
    const struct warning *risk = exchange_desync_warning(ex);
    if (!risk)
        return;
    r->desync = risk->code;
    r->close_after = true;
    r->px->counters.ambiguous++;
    if (r->up && ex->t[T_UP_CONNECTED])
        note_upstream(r, ex);
}

static int on_event(void *data, struct conversation *conv, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)conv, (void)p, (void)n;
    struct relay *r = data;
    struct store *store = store_of(r);
    /* Once the client connection is closed, only the record follows (leftover requests). */
    if (r->closed && ev != CONV_BEGIN && ev != CONV_END) {
        if (ex)
            store_touch(store, ex);
        return CONV_CONTINUE;
    }
    switch (ev) {
    case CONV_BEGIN:
        store_add(store, ex);
        if (side == SIDE_CLIENT)
            r->ex = ex;
        return CONV_CONTINUE;
    case CONV_REQ_HEAD:
        if (r->head_deadline)
            conn_set_deadline(r->cl, 0);
        r->head_deadline = false;
        store_touch(store, ex);
        if (r->rq == RQ_HEAD)
            r->rq = RQ_ROUTE;
        return CONV_PAUSE;
    case CONV_REQ_DONE:
        r->req_done = true;
        r->req_broken = !(ex->req.flags & MSG_COMPLETE);
        r->broken |= r->req_broken;
        desync_in_body(r, ex);
        store_touch(store, ex);
        return CONV_PAUSE;
    case CONV_RESP_INTERIM:
        fix_first_byte(r, ex);
        store_touch(store, ex);
        return CONV_CONTINUE;
    case CONV_RESP_HEAD: {
        fix_first_byte(r, ex);
        const struct proxy_hooks *hk = r->px->hooks;
        if (!r->own && hk && hk->response_head && hk->response_head(hk->data, r, ex)) {
            r->resp_hold = true;
            r->hooked = true;
            ex->flags |= EX_HELD | EX_INTERCEPTED;
        }
        store_touch(store, ex);
        return r->resp_hold ? CONV_PAUSE : CONV_CONTINUE;
    }
    case CONV_RESP_DONE:
        r->resp_done = true;
        r->broken |= !(ex->resp.flags & MSG_COMPLETE);
        store_touch(store, ex);
        return CONV_PAUSE;
    case CONV_TUNNEL:
        r->tunnel = true;
        r->px->counters.tunnels++;
        store_touch(store, ex);
        return CONV_CONTINUE;
    case CONV_END:
        if (r->ex == ex)
            r->ex = NULL;
        if (ex->flags & EX_HELD) {
            r->ended_held = ex; /* completed once the hold ends (relay_release, cl_close) */
            return CONV_CONTINUE;
        }
        if (r->taking) {
            if (r->ending)
                complete(r, r->ending);
            r->ending = ex;
            return CONV_CONTINUE;
        }
        complete(r, ex);
        return CONV_CONTINUE;
    case CONV_UNBLOCK: r->again = true; return CONV_CONTINUE;
    default:
        if (ex)
            store_touch(store, ex);
        return CONV_CONTINUE;
    }
}

/* ---- the upstream connection ---- */

static void up_connect(void *data, struct upstream *u);
static void up_read(void *data, struct upstream *u, const uint8_t *p, size_t n);
static void up_eof(void *data, struct upstream *u);
static void up_drain(void *data, struct upstream *u);
static void up_sent(void *data, struct upstream *u);
static void up_timeout(void *data, struct upstream *u, enum conn_timeout which);
static void up_close(void *data, struct upstream *u, int status);

/* The request went upstream whole: record when the kernel took its last byte. */
static void request_forwarded(struct relay *r)
{
    r->rq = RQ_SENT;
    struct exchange *ex = current(r);
    if (ex && r->req_replaced && !(ex->edit && ex->edit->before_label[SIDE_CLIENT])) {
        /* The whole request was received and the edit went instead: that is what was sent. */
        struct hspy *h = r->px->h;
        edit_replace(ex, SIDE_CLIENT, r->head.data, r->head.len, "received", &h->limits,
                     &h->ex_limits);
        store_touch(store_of(r), ex);
    }
    if (!ex || !r->up || !r->up->conn)
        return;
    if (conn_queued(r->up->conn) == 0)
        ex->t[T_REQ_FORWARDED] = hspy_now();
    else
        r->await_sent = true;
}

/* Appends s to b[*at..cap) (cut when it does not fit). */
static void cat(char *b, size_t *at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - 1 - *at)
        n = cap - 1 - *at;
    memcpy(b + *at, s, n);
    *at += n;
}

/*
 * "upstream HOST:PORT (new connection, request 1 on it)": which connection served the exchange.
 * Built by hand: this runs for every request and printf would be a good part of its cost.
 */
static void note_upstream(struct relay *r, struct exchange *ex)
{
    char b[512], num[DECIMAL_U64_MAX + 1];
    size_t at = 0;
    cat(b, &at, sizeof b, "upstream ");
    cat(b, &at, sizeof b, r->target_name);
    cat(b, &at, sizeof b,
        r->retries  ? " (new connection after a reused one closed unanswered"
        : r->reused ? " (reused connection"
                    : " (new connection");
    cat(b, &at, sizeof b, ", request ");
    num[decimal_u64(num, r->up->uses)] = '\0';
    cat(b, &at, sizeof b, num);
    cat(b, &at, sizeof b, " on it)");
    if (r->head_edited)
        cat(b, &at, sizeof b, "; head sent with Host/target/forwarding edits");
    if (r->desync) {
        cat(b, &at, sizeof b, "; last exchange on both connections (");
        cat(b, &at, sizeof b, warning_name(r->desync));
        cat(b, &at, sizeof b, ": the upstream may frame this request differently)");
    }
    b[at] = '\0';
    ex->note = arena_memdup(&ex->arena, b, at + 1);
}

/* The upstream connection is ready: send the request (or, for CONNECT, open the tunnel). */
static void upstream_ready(struct relay *r)
{
    struct exchange *ex = current(r);
    int64_t now = hspy_now();
    if (ex) {
        ex->t[T_UP_CONNECTED] = now;
        ex->server = r->up->peer;
        note_upstream(r, ex);
        store_touch(store_of(r), ex);
    }
    if (r->connect_method) {
        static const char OK[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        if (ex)
            ex->t[T_REQ_FORWARDED] = now;
        send_own(r, OK, sizeof OK - 1);
        r->rq = RQ_TUNNEL;
        r->rs = RS_TUNNEL;
        return;
    }
    conn_set_idle(r->up->conn, opt_of(r)->upstream_timeout_ms);
    conn_cork(r->up->conn);
    to_upstream(r, r->head.data, r->head.len);
    /* An HTTP/0.9 response has no head: whatever comes until the close is its body. */
    r->rs = r->http09 ? RS_BODY : RS_HEAD;
    memset(&r->scan, 0, sizeof r->scan);
    if (r->req_replaced) {
        /* The edit is the whole request; the received body (spooled) stays here. */
        if (r->req_done)
            request_forwarded(r);
        else
            r->rq = RQ_BODY; /* a bodiless request: its end follows at once */
    } else if (r->spooling) {
        spool_rewind(&r->spool);
        r->rq = RQ_SEND_SPOOL;
    } else if (r->req_done) {
        request_forwarded(r);
    } else {
        r->rq = RQ_BODY;
    }
}

static void connect_upstream(struct relay *r, bool fresh)
{
    struct exchange *ex = current(r);
    if (ex)
        ex->t[T_UP_CONNECT] = hspy_now();
    struct upstream_events ev = {r,        up_connect, up_read,    up_eof,
                                 up_drain, up_sent,    up_timeout, up_close};
    bool reused;
    /* A tunnel gets a connection of its own, never one that served HTTP. */
    r->up = upstream_get(&r->px->pool, &r->target, &ev, r->conn_id, fresh || r->connect_method,
                         &reused);
    r->reused = reused;
    r->rq = RQ_CONNECT;
    if (reused)
        upstream_ready(r);
}

/* A reused connection closed before answering: the request may go again on a new one when
 * nothing of it is lost (no body streamed, or the body is in the spool). */
static bool can_retry(struct relay *r)
{
    if (!r->reused || r->retries > 0 || r->stage.len > r->stage_off || r->resp_sent)
        return false;
    return r->spooling || (r->req_done && r->body_sent == 0);
}

static void retry(struct relay *r)
{
    r->retries++;
    r->px->counters.retries++;
    connect_upstream(r, true);
}

/* Why a connection attempt failed, as the status to answer and a reason. */
static uint16_t connect_failure(struct relay *r, int status, char *why, size_t whylen)
{
    char name[300];
    upstream_target_format(&r->target, name, sizeof name);
    if (status == UV_ETIMEDOUT) {
        snprintf(why, whylen,
                 "connecting to upstream %s timed out after %" PRIu64 " ms "
                 "(--connect-timeout)",
                 name, opt_of(r)->connect_timeout_ms);
        return 504;
    }
    if (status == UV_EAI_NONAME || status == UV_EAI_AGAIN || status == UV_EAI_FAIL ||
        status == UV_EAI_NODATA) {
        snprintf(why, whylen, "cannot resolve upstream host %s: %s", r->target.host,
                 uv_strerror(status));
        return 502;
    }
    snprintf(why, whylen, "cannot connect to upstream %s: %s", name, uv_strerror(status));
    return 502;
}

/* The upstream ended (FIN when status is 0, else an error) while this relay used it. */
static void upstream_ended(struct relay *r, int status)
{
    char why[512];
    struct exchange *ex = current(r);
    const char *what = status ? "reset the connection" : "closed the connection";
    if (status && status != UV_ECONNRESET)
        what = uv_strerror(status);
    switch (r->rs) {
    case RS_HEAD: {
        size_t staged = r->stage.len - r->stage_off;
        if (staged) {
            struct dynbuf d;
            dynbuf_init(&d, 512);
            describe_bytes(&d, r->stage.data + r->stage_off, staged);
            snprintf(why, sizeof why, "upstream %s after %zu %s of a response head: %s", what,
                     staged, plural_bytes(staged), dynbuf_str(&d));
            dynbuf_cleanup(&d);
        } else if (can_retry(r)) {
            drop_upstream(r, CONN_CLOSE_NOW);
            retry(r);
            return;
        } else {
            snprintf(why, sizeof why, "upstream %s before responding", what);
        }
        r->px->counters.bad_gateway++;
        answer(r, 502, EX_UPSTREAM_FAIL, why);
        return;
    }
    case RS_HELD:
    case RS_DROP:
    case RS_BODY: {
        const struct framing *f = conversation_framing(r->conv, SIDE_SERVER);
        if (status == 0 && f->kind == BODY_CLOSE) {
            /* The body was framed by the close: it is complete; so is this connection. A held
             * response stays held: relay_release sends it. */
            conversation_close(r->conv, SIDE_SERVER, hspy_now());
            if (r->rs != RS_HELD)
                r->rs = RS_DONE;
            r->resp_done = true;
            r->close_after = true;
            drop_upstream(r, CONN_CLOSE_NOW);
            return;
        }
        uint64_t body = ex ? ex->resp.body_wire : 0;
        snprintf(why, sizeof why,
                 "upstream %s mid-response after %" PRIu64 " body %s; the "
                 "client connection was %s the same way",
                 what, body, plural_bytes(body), status ? "reset" : "closed");
        r->px->counters.cut++;
        drop_upstream(r, CONN_CLOSE_NOW);
        cut(r, EX_UPSTREAM_FAIL, status ? CONN_CLOSE_RESET : CONN_CLOSE_FLUSH, why);
        return;
    }
    case RS_TUNNEL:
        if (status) {
            snprintf(why, sizeof why, "upstream %s; the tunnel was reset", what);
            r->px->counters.cut++;
            drop_upstream(r, CONN_CLOSE_NOW);
            cut(r, EX_UPSTREAM_FAIL, CONN_CLOSE_RESET, why);
            return;
        }
        /* Half-close: the client gets our FIN once the upstream's last bytes are out. */
        conversation_close(r->conv, SIDE_SERVER, hspy_now());
        if (!r->closed)
            conn_shutdown(r->cl);
        r->cl_shut = true;
        if (r->cl_eof_done)
            r->want_close = true;
        return;
    default:
        /* Not mid-exchange: the connection is simply not reusable. */
        drop_upstream(r, CONN_CLOSE_NOW);
        return;
    }
}

static void up_connect(void *data, struct upstream *u)
{
    (void)u;
    struct relay *r = data;
    if (r->rq == RQ_CONNECT)
        upstream_ready(r);
    pump(r);
}

static void up_close(void *data, struct upstream *u, int status)
{
    struct relay *r = data;
    r->up = NULL;
    if (!upstream_connected(u)) {
        char why[512];
        uint16_t code = connect_failure(r, status, why, sizeof why);
        if (code == 504)
            r->px->counters.timeouts++;
        else
            r->px->counters.bad_gateway++;
        answer(r, code, EX_UPSTREAM_FAIL | (code == 504 ? EX_TIMEOUT : 0), why);
    } else {
        upstream_ended(r, status ? status : UV_ECONNRESET);
    }
    pump(r);
}

static void up_eof(void *data, struct upstream *u)
{
    (void)u;
    struct relay *r = data;
    r->up_eof = true;
    pump(r);
}

static void up_drain(void *data, struct upstream *u)
{
    (void)u;
    pump(data);
}

static void up_sent(void *data, struct upstream *u)
{
    (void)u;
    struct relay *r = data;
    if (r->await_sent && r->ex)
        r->ex->t[T_REQ_FORWARDED] = hspy_now();
    r->await_sent = false;
}

static void up_timeout(void *data, struct upstream *u, enum conn_timeout which)
{
    (void)u;
    struct relay *r = data;
    if (which != CONN_TIMEOUT_IDLE || r->rs == RS_TUNNEL || r->rs == RS_HELD)
        return;
    /* A client uploading slowly keeps the upstream waiting: that is the client's timeout. */
    if ((r->rq == RQ_BODY || r->rq == RQ_SEND_SPOOL) && r->up && !conn_full(r->up->conn))
        return;
    /* So is a client that does not read the response. */
    if (r->rs == RS_BODY && !r->closed && conn_full(r->cl))
        return;
    char why[256];
    snprintf(why, sizeof why,
             "upstream sent nothing for %" PRIu64 " ms while a response was due "
             "(--upstream-timeout)",
             opt_of(r)->upstream_timeout_ms);
    r->px->counters.timeouts++;
    if (r->rs == RS_HEAD && !r->final_out) {
        answer(r, 504, EX_UPSTREAM_FAIL | EX_TIMEOUT, why);
    } else {
        drop_upstream(r, CONN_CLOSE_NOW);
        cut(r, EX_UPSTREAM_FAIL | EX_TIMEOUT, CONN_CLOSE_FLUSH, why);
    }
    pump(r);
}

/* ---- the response side ---- */

/* After feeding a final head (or its body's end): the state the response is in now. */
static void settle_response(struct relay *r)
{
    if (r->tunnel) {
        r->rs = RS_TUNNEL;
        r->rq = RQ_TUNNEL;
        if (r->up && r->up->conn)
            conn_set_idle(r->up->conn, 0); /* a tunnel's idleness is the client's timeout */
    } else if (r->resp_hold) {
        r->rs = RS_HELD;
    } else if (r->resp_done) {
        r->rs = RS_DONE;
    } else {
        r->rs = RS_BODY;
    }
}

/* Upstream bytes that could not be a response head: answered 502. */
static void bad_head(struct relay *r, int rc, const uint8_t *p, size_t n)
{
    char why[512];
    struct dynbuf d;
    dynbuf_init(&d, 512);
    describe_bytes(&d, p, n);
    if (rc == HTTP_TOO_LARGE)
        snprintf(why, sizeof why, "upstream response head larger than %u bytes (--head-max)",
                 r->px->h->limits.head_max);
    else
        snprintf(why, sizeof why, "upstream did not answer with an HTTP/1.x response: %s",
                 dynbuf_str(&d));
    dynbuf_cleanup(&d);
    r->px->counters.bad_gateway++;
    answer(r, 502, EX_UPSTREAM_FAIL, why);
}

/*
 * Looks for a complete head at p. Returns its length after feeding and (unless held)
 * forwarding it; 0 when more bytes are needed; -1 when the bytes cannot be a response head
 * (answered).
 */
/*
 * The common case, without a second parse: nothing is staged, the bytes start a final (not
 * 1xx) response, and an empty line within head_max shows the head is all there. The
 * conversation then takes the head and as much body as belongs to the response.
 */
static long take_whole_head(struct relay *r, const uint8_t *p, size_t n)
{
    size_t took;
    feed_server(r, p, n, &took);
    settle_response(r);
    if (r->rs == RS_HELD) {
        dynbuf_append(&r->resp_buf, p, took);
        return (long)took;
    }
    r->final_out = true;
    to_client(r, p, took);
    return (long)took;
}

/* True when p[0..n) holds CR LF CR LF. */
static bool has_crlfcrlf(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n, *q = p;
    while (end - q >= 4 && (q = memchr(q, '\r', (size_t)(end - q - 3))) != NULL) {
        if (q[1] == '\n' && q[2] == '\r' && q[3] == '\n')
            return true;
        q++;
    }
    return false;
}

static bool whole_final_head(const struct relay *r, const uint8_t *p, size_t n)
{
    size_t limit = n < r->px->h->limits.head_max ? n : r->px->h->limits.head_max;
    return !r->scan.started && limit >= 16 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ' &&
           p[9] >= '2' && p[9] <= '9' && has_crlfcrlf(p, limit);
}

static long take_head(struct relay *r, const uint8_t *p, size_t n)
{
    if (whole_final_head(r, p, n))
        return take_whole_head(r, p, n);
    if (!r->stage_t0)
        r->stage_t0 = hspy_now();
    int rc = http_head_parse(p, n, HTTP_RESPONSE, &r->px->h->limits, &r->scan, &r->rhead, NULL);
    if (rc == HTTP_NEED_MORE)
        return 0;
    if (rc < 0) {
        bad_head(r, rc, p, n);
        return -1;
    }
    size_t len = (size_t)rc, took;
    bool interim = r->rhead.status >= 100 && r->rhead.status < 200 && r->rhead.status != 101;
    memset(&r->scan, 0, sizeof r->scan);
    feed_server(r, p, len, &took);
    if (!interim)
        settle_response(r);
    if (r->rs == RS_HELD) {
        dynbuf_append(&r->resp_buf, p, len); /* relay_release sends them */
        return (long)len;
    }
    r->final_out |= !interim;
    to_client(r, p, len);
    return (long)len;
}

/*
 * A held response is fed (recorded) into resp_buf up to its cap; a dropped one (the client got
 * an edit instead) is fed and discarded. Returns bytes used; 0 when held and full or done.
 */
static size_t take_unsent(struct relay *r, const uint8_t *p, size_t n)
{
    bool held = r->rs == RS_HELD;
    if (r->resp_done)
        return 0;
    size_t room = held ? r->resp_buf.max - r->resp_buf.len : n;
    size_t k = 0;
    if (room)
        feed_server(r, p, n < room ? n : room, &k);
    if (held)
        dynbuf_append(&r->resp_buf, p, k);
    else if (r->resp_done)
        r->rs = RS_DONE;
    return k;
}

/* What bytes past a response are: a body where none may be (RFC 9112 6.3), or extra bytes. */
static enum warning_code past_response(const struct exchange *ex)
{
    int status = exchange_status(ex);
    bool bodiless = (status >= 100 && status < 200) || status == 204 || status == 304 ||
                    message_is_head_request(&ex->req);
    return bodiless ? W_BODY_FORBIDDEN : W_EXTRA_BYTES;
}

static size_t take_upstream_steps(struct relay *r, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n && !r->closed && !r->want_close) {
        if (r->rs == RS_HEAD) {
            long k = take_head(r, p + off, n - off);
            if (k < 0)
                return n;
            if (k == 0)
                break;
            off += (size_t)k;
        } else if (r->rs == RS_BODY || r->rs == RS_TUNNEL) {
            if (conn_full(r->cl))
                break;
            size_t k;
            feed_server(r, p + off, n - off, &k);
            to_client(r, p + off, k);
            off += k;
            if (r->resp_done && !r->tunnel)
                r->rs = RS_DONE;
            if (k == 0)
                break;
        } else if (r->rs == RS_HELD || r->rs == RS_DROP) {
            size_t k = take_unsent(r, p + off, n - off);
            off += k;
            if (k == 0)
                break;
        } else if (r->rs == RS_DONE) {
            /* Bytes past the response: the upstream is out of step; never pass them on. */
            struct exchange *ex = current(r) ? current(r) : r->ending;
            if (ex && !r->extra)
                exchange_warn(ex, past_response(ex), SIDE_SERVER, ex->resp.wire_bytes,
                              "%zu %s after the response from the upstream %s dropped "
                              "and the upstream connection closed",
                              n - off, plural_bytes(n - off), plural(n - off, "was", "were"));
            r->extra = true;
            return n;
        } else {
            break;
        }
    }
    return off;
}

/* Feeds and forwards upstream bytes as far as the response's state allows; returns bytes used.
 * An exchange that ended on the way is completed before this returns. */
static size_t take_upstream(struct relay *r, const uint8_t *p, size_t n)
{
    bool outer = !r->taking;
    r->taking = true;
    size_t k = take_upstream_steps(r, p, n);
    if (outer) {
        r->taking = false;
        struct exchange *ex = r->ending;
        r->ending = NULL;
        if (ex)
            complete(r, ex);
    }
    return k;
}

static void stage_append(struct relay *r, const uint8_t *p, size_t n)
{
    if (r->stage_off == r->stage.len) {
        dynbuf_reset(&r->stage);
        r->stage_off = 0;
    }
    if (dynbuf_append(&r->stage, p, n) < n) {
        /* Cannot happen: reading stops while bytes are staged, and a head never grows past
         * head_max without being refused. Fail safe rather than lose bytes silently. */
        drop_upstream(r, CONN_CLOSE_RESET);
        cut(r, EX_UPSTREAM_FAIL, CONN_CLOSE_RESET, "upstream staging buffer overflow");
    }
}

/* Staged bytes go first; returns true when the stage is empty afterwards. */
static bool drain_stage(struct relay *r)
{
    while (r->stage_off < r->stage.len && !r->closed) {
        size_t before = r->stage_off;
        r->stage_off += take_upstream(r, r->stage.data + r->stage_off, r->stage.len - r->stage_off);
        if (r->stage_off == before)
            break;
    }
    if (r->stage_off == r->stage.len) {
        dynbuf_reset(&r->stage);
        r->stage_off = 0;
        if (r->stage.cap > 2 * CONN_READ_SIZE)
            dynbuf_cleanup(&r->stage);
        return true;
    }
    return false;
}

static void up_read(void *data, struct upstream *u, const uint8_t *p, size_t n)
{
    (void)u;
    struct relay *r = data;
    /* A head and the body after it go out in one write (pump uncorks). */
    if (!r->closed)
        conn_cork(r->cl);
    if (r->stage_off < r->stage.len) {
        stage_append(r, p, n);
        drain_stage(r);
    } else {
        size_t k = take_upstream(r, p, n);
        if (k < n && r->rs != RS_DONE && !r->want_close)
            stage_append(r, p + k, n - k);
    }
    pump(r);
}

/* ---- the request side ---- */

static bool can_feed_client(const struct relay *r)
{
    if (r->closed || r->want_close)
        return false;
    switch (r->rq) {
    case RQ_HEAD:
    case RQ_SPOOL: return true;
    case RQ_HELD: return r->spooling;
    case RQ_BODY:
    case RQ_TUNNEL: return r->up && r->up->conn && !conn_full(r->up->conn) && !r->cl_eof_done;
    default: return false;
    }
}

/*
 * The request's body framing broke: the upstream got what framing allowed and would wait for
 * the rest forever, so its request is aborted and the client told why.
 */
static void request_broke(struct relay *r)
{
    struct exchange *ex = current(r);
    char why[256];
    const char *code =
        ex && ex->nwarnings ? warning_name(ex->warnings[ex->nwarnings - 1].code) : "framing";
    snprintf(why, sizeof why,
             "request body framing broke (%s) after %" PRIu64
             " body bytes; the upstream request was aborted",
             code, ex ? ex->req.body_wire : 0);
    r->px->counters.rejected++;
    drop_upstream(r, CONN_CLOSE_RESET);
    answer(r, 400, EX_REJECTED, why);
}

static void spool_failed(struct relay *r, const char *err)
{
    char why[512];
    bool big = strncmp(err, "over the limit", 14) == 0;
    snprintf(why, sizeof why, "request body %s", err);
    r->px->counters.rejected++;
    answer(r, big ? 413 : 500, EX_REJECTED, why);
}

/* Feeds client bytes; the bytes the conversation consumed as body or tunnel go on. */
static size_t feed_client(struct relay *r, const uint8_t *p, size_t n)
{
    uint8_t rq = r->rq;
    size_t k = conversation_feed(r->conv, SIDE_CLIENT, p, n, hspy_now());
    if (k == 0)
        return 0;
    if (rq == RQ_BODY || rq == RQ_TUNNEL) {
        to_upstream(r, p, k);
        r->body_sent += k;
    } else if (rq == RQ_SPOOL || (rq == RQ_HELD && r->spooling)) {
        char err[300];
        if (spool_write(&r->spool, p, k, err, sizeof err) != 0)
            spool_failed(r, err);
    }
    if (r->req_broken && (rq == RQ_BODY || rq == RQ_SPOOL || rq == RQ_HELD))
        request_broke(r);
    else if (r->req_done && r->rq == RQ_BODY)
        request_forwarded(r);
    /* A head that did not arrive whole must be complete within --head-timeout of its start.
     * (Setting the deadline only now spares a timer update for every request that does.) */
    if (r->rq == RQ_HEAD && r->ex && !r->head_deadline && !r->closed) {
        conn_set_deadline(r->cl, opt_of(r)->head_timeout_ms);
        r->head_deadline = true;
    }
    return k;
}

static void hold_rest(struct relay *r, const uint8_t *p, size_t n)
{
    if (r->held_off == r->held.len) {
        dynbuf_reset(&r->held);
        r->held_off = 0;
    } else if (r->held_off > 0 && r->held.len + n > r->held.max) {
        dynbuf_consume(&r->held, r->held_off);
        r->held_off = 0;
    }
    if (dynbuf_append(&r->held, p, n) < n) {
        /* Cannot happen: reading stops once a read is held. Fail visibly, never lose bytes. */
        drop_upstream(r, CONN_CLOSE_RESET);
        cut(r, EX_CLIENT_ABORT, CONN_CLOSE_RESET, "client input buffer overflow");
    }
}

static void feed_held(struct relay *r)
{
    while (r->held_off < r->held.len && can_feed_client(r)) {
        size_t k = feed_client(r, r->held.data + r->held_off, r->held.len - r->held_off);
        r->held_off += k;
        if (k == 0)
            break;
    }
    if (r->held_off == r->held.len) {
        dynbuf_reset(&r->held);
        r->held_off = 0;
    }
}

/* Builds the request head as it goes upstream (the received head, edited as configured). */
static void build_head(struct relay *r, struct exchange *ex)
{
    const struct options *o = opt_of(r);
    const struct message *m = &ex->req;
    const uint8_t *base = message_head_base(m);
    char host[320], client[ENDPOINT_STRLEN];
    struct dynbuf fwd;
    dynbuf_init(&fwd, 512);
    struct forward_edits e = {0};
    if (!o->preserve_host) {
        if (r->route.kind == FORWARD_UPSTREAM)
            e.host = r->px->upstream_host;
        else
            e.host = forward_authority(host, sizeof host, r->target.host, r->target.port);
        e.host_add = r->route.kind == FORWARD_ABSOLUTE;
        e.origin_form = true;
    }
    if (o->xff || o->forwarded)
        endpoint_format_addr(&ex->client, client, sizeof client);
    if (o->xff)
        e.xff = client;
    if (o->forwarded) {
        size_t hl;
        const uint8_t *hv = http_head_field(base, &m->head, HF_HOST, &hl);
        forward_element(&fwd, client, hv, hl);
        e.forwarded = dynbuf_str(&fwd);
    }
    dynbuf_reset(&r->head);
    /* Empty lines in front of the request (RFC 9112 2.2) were sent: they go on too. */
    dynbuf_append(&r->head, m->raw.data, m->head_off);
    r->head_edited = forward_head(base, &m->head, &e, &r->head);
    if (!r->head_edited)
        dynbuf_append(&r->head, base, m->head.len);
    dynbuf_cleanup(&fwd);
}

/* True when the target is hspy's own listening address (the request would loop). */
static bool loops_back(struct relay *r)
{
    struct upstream_target t = r->target;
    if (!t.has_addr && upstream_target_literal(&t) != 0)
        return false;
    struct endpoint e;
    conn_endpoint_from(&e, (const struct sockaddr *)&t.addr);
    const struct endpoint *me = &r->px->listener.local;
    if (e.port != me->port)
        return false;
    return endpoint_equal(&e, me) || (endpoint_is_loopback(&e) && endpoint_is_loopback(me));
}

/* Decides where the request goes; false when it was answered instead. */
static bool route(struct relay *r, struct exchange *ex)
{
    const struct message *m = &ex->req;
    const struct framing *f = conversation_framing(r->conv, SIDE_CLIENT);
    char why[300];
    int status = 0;
    if (!(m->flags & MSG_HEAD)) {
        bool big = m->flags & MSG_HEAD_LIMIT;
        status = big ? 431 : 400;
        snprintf(why, sizeof why, "%s",
                 big ? "request head larger than the limit (--head-max)" : "not an HTTP request");
    } else if (f->cannot_frame) {
        status = 400;
        snprintf(why, sizeof why, "request length cannot be determined");
    } else {
        status = forward_route(message_head_base(m), &m->head, &r->route, why, sizeof why);
    }
    if (!status && r->route.kind != FORWARD_UPSTREAM && opt_of(r)->reverse_only) {
        status = 403;
        snprintf(why, sizeof why,
                 "forward proxying (absolute-form targets, CONNECT) is off "
                 "(--reverse-only)");
    }
    if (!status) {
        if (r->route.kind == FORWARD_UPSTREAM) {
            r->target = r->px->upstream;
            r->target_name = r->px->upstream_name;
        } else {
            memset(&r->target, 0, sizeof r->target);
            snprintf(r->target.host, sizeof r->target.host, "%s", r->route.host);
            r->target.port = r->route.port;
            r->target_name = upstream_target_format(&r->target, r->name_buf, sizeof r->name_buf);
            if (loops_back(r)) {
                status = 508;
                snprintf(why, sizeof why, "the target is this proxy itself");
            }
        }
    }
    if (status) {
        r->px->counters.rejected++;
        answer(r, (uint16_t)status, EX_REJECTED, why);
        return false;
    }
    /* A request whose head another reader may split or frame otherwise (request smuggling):
     * whatever the upstream made of its bytes ends with this exchange, on both connections. */
    const struct warning *risk = exchange_desync_warning(ex);
    r->desync = risk ? risk->code : W_NONE;
    if (risk) {
        r->close_after = true;
        r->px->counters.ambiguous++;
    }
    r->connect_method = r->route.kind == FORWARD_CONNECT;
    r->http09 = (m->flags & MSG_HTTP09) != 0;
    if (!r->connect_method)
        build_head(r, ex);
    return true;
}

/* The request may go on (routed, not held or released). */
static void proceed(struct relay *r)
{
    const struct framing *f = conversation_framing(r->conv, SIDE_CLIENT);
    struct exchange *ex = current(r);
    if (opt_of(r)->buffer_requests && !r->connect_method && !r->req_done && f->kind != BODY_NONE) {
        spool_init(&r->spool, (size_t)opt_of(r)->buffer_memory, opt_of(r)->buffer_max);
        r->spooling = true;
        r->rq = RQ_SPOOL;
        /* The client waits for 100 before sending the body that has to be read first. */
        if (f->expect_continue && ex && ex->req.head.minor >= 1) {
            static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
            send_own(r, CONTINUE, sizeof CONTINUE - 1);
        }
        return;
    }
    connect_upstream(r, false);
}

/* A held request's body is read into the spool meanwhile, so it can be shown and edited; the
 * client waiting for 100 Continue gets it. */
static void hold_body(struct relay *r, struct exchange *ex)
{
    const struct framing *f = conversation_framing(r->conv, SIDE_CLIENT);
    if (r->connect_method || f->kind == BODY_NONE || r->spooling)
        return;
    const struct options *o = opt_of(r);
    spool_init(&r->spool, (size_t)o->buffer_memory, o->buffer_max);
    r->spooling = true;
    if (f->expect_continue && ex->req.head.minor >= 1) {
        static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
        send_own(r, CONTINUE, sizeof CONTINUE - 1);
    }
}

static void step_route(struct relay *r)
{
    if (r->rq != RQ_ROUTE)
        return;
    struct exchange *ex = current(r);
    if (!ex) {
        r->rq = RQ_OVER;
        r->want_close = true;
        return;
    }
    r->px->counters.requests++;
    if (!route(r, ex))
        return;
    const struct proxy_hooks *hk = r->px->hooks;
    if (hk && hk->request_head && hk->request_head(hk->data, r, ex)) {
        r->rq = RQ_HELD;
        r->hooked = true;
        ex->flags |= EX_HELD | EX_INTERCEPTED;
        hold_body(r, ex);
        store_touch(store_of(r), ex);
        return;
    }
    proceed(r);
}

static void step_spool(struct relay *r)
{
    if (r->rq == RQ_SPOOL && r->req_done) {
        connect_upstream(r, false);
        return;
    }
    if (r->rq != RQ_SEND_SPOOL)
        return;
    while (r->up && r->up->conn && !conn_full(r->up->conn)) {
        const uint8_t *p;
        char err[300];
        long k = spool_next(&r->spool, &p, err, sizeof err);
        if (k < 0) {
            drop_upstream(r, CONN_CLOSE_RESET);
            r->px->counters.rejected++;
            answer(r, 500, EX_REJECTED, err);
            return;
        }
        if (k == 0) {
            r->body_sent = r->spool.size;
            request_forwarded(r);
            return;
        }
        to_upstream(r, p, (size_t)k);
    }
}

/* ---- ends of exchanges and of the connection ---- */

/* Puts the per-exchange state back for the next request on this connection. */
static void next_request(struct relay *r)
{
    if (r->spooling)
        spool_cleanup(&r->spool);
    r->spooling = false;
    r->rq = RQ_HEAD;
    r->rs = RS_NONE;
    r->req_done = r->resp_done = r->resp_hold = r->extra = r->req_broken = false;
    r->connect_method = r->reused = r->await_sent = false;
    r->retries = 0;
    r->body_sent = r->resp_sent = 0;
    r->final_out = false;
    r->stage_t0 = 0;
    r->req_replaced = r->resp_replaced = false;
    dynbuf_reset(&r->resp_buf);
    dynbuf_reset(&r->resp_sent_buf);
}

/*
 * Whether the upstream connection may serve another request once the current response is out:
 * it did not end or send more than its response, its framing keeps it open, and nothing sent
 * on it (an edit, a head the upstream may frame otherwise) leaves it out of step with hspy.
 * Whether the client connection goes on is another matter (close_after, cl_eof).
 */
static bool upstream_reusable(const struct relay *r)
{
    return r->up && !r->up_eof && !r->extra && !r->broken && !r->no_reuse && r->desync == W_NONE &&
           conversation_framing(r->conv, SIDE_SERVER)->keep_alive;
}

/* The response is out: the upstream goes back to the pool or closes; the next request may
 * start unless the connection ends here. */
static void step_retire(struct relay *r)
{
    if (r->rs != RS_DONE || r->rq == RQ_OVER || r->tunnel)
        return;
    if (!r->req_done) {
        /* The upstream answered before the request ended: nothing sensible can follow. The
         * record says it was this close, not the client, that cut the request short. */
        struct exchange *ex = current(r);
        if (ex && !ex->error) {
            const struct framing *f = conversation_framing(r->conv, SIDE_CLIENT);
            char of[DECIMAL_U64_MAX + 8] = "";
            if (f->kind == BODY_LENGTH)
                snprintf(of, sizeof of, " of %" PRIu64, f->length);
            exchange_fail(ex, 0,
                          "the upstream answered before the request was complete (after %" PRIu64
                          "%s body bytes): hspy closed both connections after the response",
                          ex->req.body_wire, of);
            store_touch(store_of(r), ex);
        }
        drop_upstream(r, CONN_CLOSE_NOW);
        r->rq = RQ_OVER;
        r->want_close = true;
        r->close_how = CONN_CLOSE_FLUSH;
        return;
    }
    if (r->rq != RQ_SENT)
        return; /* still sending the request (an early answer to a spooled body) */
    bool reuse = upstream_reusable(r);
    r->no_reuse = false;
    if (r->up) {
        if (reuse)
            upstream_put(r->up, &r->last);
        else
            upstream_close(r->up, CONN_CLOSE_FLUSH);
        r->up = NULL;
    }
    r->up_eof = r->up_eof_done = false;
    if (r->close_after || r->cl_eof || r->broken ||
        conversation_side_closed(r->conv, SIDE_CLIENT) ||
        conversation_side_closed(r->conv, SIDE_SERVER)) {
        r->rq = RQ_OVER;
        r->want_close = true;
        r->close_how = CONN_CLOSE_FLUSH;
        return;
    }
    next_request(r);
}

static void step_upstream_eof(struct relay *r)
{
    /* Staged bytes go first, unless they are a head that can never be completed now. */
    if (!r->up_eof || r->up_eof_done || (r->stage_off < r->stage.len && r->rs != RS_HEAD))
        return;
    r->up_eof_done = true;
    upstream_ended(r, 0);
}

/* The client sent its FIN and every byte before it was fed. */
static void step_client_eof(struct relay *r)
{
    if (!r->cl_eof || r->cl_eof_done || r->held_off < r->held.len)
        return;
    if (r->hooked) {
        /* A half-close cannot be told from a close, a hold may last minutes, and a message
         * released to a closed socket would look delivered: the client is taken as gone. */
        r->cl_eof_done = true;
        r->px->counters.client_aborts++;
        cut(r, EX_CLIENT_ABORT, CONN_CLOSE_NOW,
            r->rs == RS_HELD
                ? "the client went away while the response was held: it was not delivered"
                : "the client went away while the request was held: it was not sent upstream");
        return;
    }
    switch (r->rq) {
    case RQ_TUNNEL:
        r->cl_eof_done = true;
        conversation_close(r->conv, SIDE_CLIENT, hspy_now());
        if (r->up && r->up->conn)
            conn_shutdown(r->up->conn);
        if (r->cl_shut || !r->up)
            r->want_close = true;
        return;
    case RQ_HEAD:
        r->cl_eof_done = true;
        r->want_close = true;
        r->close_how = CONN_CLOSE_FLUSH;
        return;
    case RQ_SENT:
    case RQ_OVER:
        /* A half-close after a whole request: the response still goes out, then we close. */
        r->cl_eof_done = true;
        r->close_after = true;
        return;
    default:
        if (r->req_done) {
            r->cl_eof_done = true;
            r->close_after = true;
            return;
        }
        break;
    }
    r->cl_eof_done = true;
    struct exchange *ex = current(r);
    char why[256];
    const struct framing *f = conversation_framing(r->conv, SIDE_CLIENT);
    uint64_t got = ex ? ex->req.body_wire : 0;
    if (f->kind == BODY_LENGTH)
        snprintf(why, sizeof why,
                 "client closed the connection after %" PRIu64 " of %" PRIu64
                 " request body bytes; the upstream request was aborted",
                 got, f->length);
    else
        snprintf(why, sizeof why,
                 "client closed the connection mid-request after %" PRIu64
                 " body bytes; the upstream request was aborted",
                 got);
    r->px->counters.client_aborts++;
    drop_upstream(r, CONN_CLOSE_RESET);
    cut(r, EX_CLIENT_ABORT, CONN_CLOSE_FLUSH, why);
}

static void step_close(struct relay *r)
{
    if (!r->want_close || r->closing || r->closed)
        return;
    if (r->rq == RQ_TUNNEL || r->rs == RS_TUNNEL)
        drop_upstream(r, r->close_how == CONN_CLOSE_RESET ? CONN_CLOSE_RESET : CONN_CLOSE_FLUSH);
    else if (r->rs == RS_DONE && r->rq == RQ_SENT && upstream_reusable(r)) {
        upstream_put(r->up, &r->last);
        r->up = NULL;
    } else {
        drop_upstream(r,
                      r->rs == RS_NONE || r->rs == RS_DONE ? CONN_CLOSE_FLUSH : CONN_CLOSE_RESET);
    }
    r->closing = true;
    conn_uncork(r->cl);
    conn_close(r->cl, r->close_how);
}

/*
 * Reading stops only once bytes are waiting, never in advance: a request waiting for its
 * response keeps the client's socket readable, so one read at most is held, and no read is
 * stopped and restarted per request (each costs epoll system calls).
 */
static void update_holds(struct relay *r)
{
    if (!r->closed && !r->closing) {
        if (r->held_off < r->held.len)
            conn_hold(r->cl, HOLD_INPUT);
        else
            conn_unhold(r->cl, HOLD_INPUT);
    }
    if (r->up && r->up->conn) {
        /* An incomplete head needs more bytes; anything else staged waits for the client. */
        bool held_full = r->rs == RS_HELD && (r->resp_done || r->resp_buf.len >= r->resp_buf.max);
        bool wait = (r->stage_off < r->stage.len && r->rs != RS_HEAD) || held_full ||
                    (!r->closed && conn_full(r->cl));
        if (wait)
            conn_hold(r->up->conn, HOLD_PEER);
        else
            conn_unhold(r->up->conn, HOLD_PEER);
    }
}

static void pump(struct relay *r)
{
    if (r->pumping) {
        r->again = true;
        return;
    }
    r->pumping = true;
    if (!r->closed)
        conn_cork(r->cl);
    struct conn *up = r->up ? r->up->conn : NULL;
    if (up)
        conn_cork(up);
    int rounds = 0;
    do {
        r->again = false;
        step_route(r);
        step_spool(r);
        if (r->stage_off < r->stage.len && !(r->closed))
            drain_stage(r);
        step_upstream_eof(r);
        step_retire(r);
        feed_held(r);
        step_client_eof(r);
        step_close(r);
        if (r->rq == RQ_ROUTE || (r->rq == RQ_SPOOL && r->req_done) ||
            (r->rq == RQ_SEND_SPOOL && r->up && r->up->conn && !conn_full(r->up->conn)))
            r->again = true;
    } while (r->again && !r->closed && ++rounds < 1000);
    update_holds(r);
    if (!r->closed)
        conn_uncork(r->cl);
    if (up)
        conn_uncork(up);
    if (r->up && r->up->conn && r->up->conn != up)
        conn_uncork(r->up->conn);
    if (r->await_sent && r->up && r->up->conn && conn_queued(r->up->conn) == 0)
        up_sent(r, r->up);
    r->pumping = false;
}

/* ---- client connection callbacks ---- */

static void start_conversation(struct relay *r)
{
    struct hspy *h = r->px->h;
    struct conversation_config cfg = {
        .limits = h->limits,
        .exchange = h->ex_limits,
        .conn_id = r->conn_id,
        .client = *conn_peer(r->cl),
        .server = *conn_local(r->cl),
        .hash_bodies = h->opt.hash_bodies,
        .pool = &h->pool,
        .tap = h->tap,
    };
    struct conversation_events cev = {r, on_event};
    r->conv = conversation_new(&cfg, &cev);
}

static void cl_read(void *data, struct conn *c, const uint8_t *p, size_t n)
{
    (void)c;
    struct relay *r = data;
    if (!r->conv)
        start_conversation(r);
    if (r->up && r->up->conn)
        conn_cork(r->up->conn);
    if (r->held_off < r->held.len || !can_feed_client(r)) {
        hold_rest(r, p, n);
    } else {
        size_t k = feed_client(r, p, n);
        if (k < n)
            hold_rest(r, p + k, n - k);
    }
    pump(r);
}

static void cl_eof(void *data, struct conn *c)
{
    (void)c;
    struct relay *r = data;
    r->cl_eof = true;
    pump(r);
}

static void cl_drain(void *data, struct conn *c)
{
    (void)c;
    pump(data);
}

/* Whether the upstream (not the client) is the one everybody waits for. */
static bool upstream_busy(const struct relay *r)
{
    if (r->rq == RQ_CONNECT || r->rq == RQ_HELD || r->rs == RS_HELD)
        return true;
    if ((r->rq == RQ_SENT || r->rq == RQ_SEND_SPOOL) &&
        (r->rs == RS_HEAD || r->rs == RS_BODY || r->rs == RS_DROP))
        return !conn_full(r->cl);
    return r->rq == RQ_BODY && r->up && r->up->conn && conn_full(r->up->conn);
}

static void cl_timeout(void *data, struct conn *c, enum conn_timeout which)
{
    (void)c;
    struct relay *r = data;
    const struct options *o = opt_of(r);
    char why[256];
    if (which == CONN_TIMEOUT_DEADLINE) {
        if (r->rq != RQ_HEAD || !r->ex)
            return;
        snprintf(why, sizeof why,
                 "request head not complete after %" PRIu64 " ms "
                 "(--head-timeout)",
                 o->head_timeout_ms);
    } else {
        if (upstream_busy(r))
            return;
        if (r->rq == RQ_HEAD && (!r->conv || conversation_idle(r->conv)) &&
            r->held_off == r->held.len) {
            r->px->counters.idle_closed++;
            r->want_close = true;
            r->close_how = CONN_CLOSE_FLUSH;
            pump(r);
            return;
        }
        if (r->rq == RQ_TUNNEL) {
            snprintf(why, sizeof why, "tunnel idle for %" PRIu64 " ms (--idle-timeout)",
                     o->idle_timeout_ms);
            r->px->counters.timeouts++;
            cut(r, EX_TIMEOUT, CONN_CLOSE_FLUSH, why);
            pump(r);
            return;
        }
        snprintf(why, sizeof why, "client idle for %" PRIu64 " ms (--idle-timeout)",
                 o->idle_timeout_ms);
    }
    struct exchange *ex = current(r);
    if (ex)
        exchange_warn(ex, W_TIMEOUT, SIDE_CLIENT, ex->req.wire_bytes, "%s", why);
    r->px->counters.timeouts++;
    drop_upstream(r, CONN_CLOSE_RESET);
    if (!r->final_out && r->rs != RS_BODY)
        answer(r, 408, EX_TIMEOUT, why);
    else
        cut(r, EX_TIMEOUT, CONN_CLOSE_NOW, why);
    pump(r);
}

static void cl_close(void *data, struct conn *c, int status)
{
    (void)c;
    struct relay *r = data;
    r->closed = true;
    struct exchange *ex = current(r);
    if (status && status != UV_EOF && ex && !(ex->flags & EX_DONE)) {
        bool mid = r->rs == RS_BODY || r->rs == RS_HELD;
        exchange_warn(ex, W_CLIENT_ABORT, SIDE_CLIENT, ex->req.wire_bytes, "%s%s",
                      uv_strerror(status),
                      mid ? " mid-response; the upstream connection was closed" : "");
        ex->flags |= EX_CLIENT_ABORT;
        if (!ex->error)
            exchange_fail(ex, EX_CLIENT_ABORT, "client went away: %s", uv_strerror(status));
        r->px->counters.client_aborts++;
    }
    /* hspy stopping ends what is in flight; the record says so, as in listen. */
    if (r->px->stopping)
        for (int i = 0; i < 2; i++) {
            struct exchange *e = i == 0 ? ex : r->ended_held;
            if (e && (i == 0 || e != ex) && !(e->flags & EX_DONE) && !e->error)
                exchange_fail(e, 0, "hspy stopped while this exchange was in flight");
        }
    const struct proxy_hooks *hk = r->px->hooks;
    struct exchange *held = ex ? ex : r->ended_held;
    /* Whatever ended the connection (the client, an answer of hspy's, a failure), a hold of
     * it is over. */
    if (r->hooked && held && hk && hk->dropped)
        hk->dropped(hk->data, r, held);
    bool mid_exchange =
        !(r->rs == RS_NONE || r->rs == RS_DONE) || (r->rq != RQ_HEAD && !r->req_done);
    drop_upstream(r, mid_exchange ? CONN_CLOSE_RESET : CONN_CLOSE_FLUSH);
    /* --upstream-per-client: the connection kept for this client goes with it. */
    upstream_pool_forget(&r->px->pool, r->conn_id);
    /* Both directions end here: partial messages are flagged as cut by the end of stream, then
     * everything still in flight ends, so every exchange reaches the store. */
    int64_t ts = hspy_now();
    if (r->conv) {
        /* Requests that waited behind the last response were received: they are recorded. */
        if (r->held_off < r->held.len) {
            uint32_t before = conversation_count(r->conv);
            conversation_feed_leftover(r->conv, SIDE_CLIENT, r->held.data + r->held_off,
                                       r->held.len - r->held_off, ts, RELAY_LEFTOVER);
            r->px->counters.unforwarded += conversation_count(r->conv) - before;
        }
        conversation_close(r->conv, SIDE_CLIENT, ts);
        conversation_close(r->conv, SIDE_SERVER, ts);
        conversation_free(r->conv);
    }
    if (r->ended_held)
        complete(r, r->ended_held);
    if (r->spooling)
        spool_cleanup(&r->spool);
    dynbuf_cleanup(&r->held);
    dynbuf_cleanup(&r->stage);
    dynbuf_cleanup(&r->head);
    dynbuf_cleanup(&r->resp_buf);
    dynbuf_cleanup(&r->resp_sent_buf);
    free(r);
}

void relay_start(struct proxy *px, struct conn *c)
{
    struct hspy *h = px->h;
    struct relay *r = xcalloc(1, sizeof *r);
    r->px = px;
    r->cl = c;
    dynbuf_init(&r->held, 2 * CONN_READ_SIZE);
    dynbuf_init(&r->stage, h->limits.head_max + 2 * (size_t)CONN_READ_SIZE);
    dynbuf_init(&r->head, 2 * (size_t)h->limits.head_max + 4096 + EDIT_MAX);
    dynbuf_init(&r->resp_buf, (size_t)h->limits.head_max + h->ex_limits.body_keep);
    dynbuf_init(&r->resp_sent_buf, EDIT_MAX);
    r->conn_id = ++h->next_conn_id;
    struct conn_events ev = {r, cl_read, cl_eof, cl_drain, cl_timeout, cl_close};
    conn_start(c, &ev);
    conn_set_idle(c, h->opt.idle_timeout_ms);
    if (px->stopping)
        conn_close(c, CONN_CLOSE_NOW);
}

/* The held exchange: the current one, or one whose messages ended while its response was held. */
static struct exchange *held_exchange(struct relay *r)
{
    return current(r) ? current(r) : r->ended_held;
}

static void release_request(struct relay *r, const uint8_t *replacement, size_t len)
{
    if (replacement) {
        dynbuf_reset(&r->head);
        dynbuf_append(&r->head, replacement, len);
        r->req_replaced = true;
        r->no_reuse = true; /* the edit's framing, as typed, decides what the upstream reads */
    }
    if (r->spooling)
        r->rq = RQ_SPOOL; /* goes upstream once the received body is in */
    else
        proceed(r);
}

static void release_response(struct relay *r, const uint8_t *replacement, size_t len)
{
    r->resp_hold = false;
    r->final_out = true;
    if (replacement) {
        to_client(r, replacement, len);
        dynbuf_reset(&r->resp_sent_buf);
        dynbuf_append(&r->resp_sent_buf, replacement, len);
        r->resp_replaced = true;
        /* What the client reads after it depends on the edit's framing, as typed. */
        r->close_after = true;
        r->rs = r->resp_done ? RS_DONE : RS_DROP;
    } else {
        to_client(r, r->resp_buf.data, r->resp_buf.len);
        settle_response(r);
    }
    dynbuf_reset(&r->resp_buf);
}

void relay_release(struct relay *r, enum side side, const uint8_t *replacement, size_t len)
{
    struct exchange *ex = held_exchange(r);
    if (side == SIDE_CLIENT && r->rq == RQ_HELD)
        release_request(r, replacement, len);
    else if (side == SIDE_SERVER && r->rs == RS_HELD)
        release_response(r, replacement, len);
    else
        return;
    r->hooked = false;
    if (ex) {
        ex->flags &= ~(uint32_t)EX_HELD;
        store_touch(store_of(r), ex);
    }
    if (r->ended_held) {
        struct exchange *done = r->ended_held;
        r->ended_held = NULL;
        complete(r, done);
    }
    pump(r);
}

void relay_kill(struct relay *r)
{
    /* Marked through cut, like every end of a connection: the held side decides the words. */
    const char *why = r->rs == RS_HELD
                          ? "killed while the response was held: it was not delivered, the "
                            "client got a reset"
                          : "killed while the request was held: it was not sent upstream, the "
                            "client got a reset";
    drop_upstream(r, CONN_CLOSE_RESET);
    cut(r, EX_KILLED, CONN_CLOSE_RESET, why);
    pump(r);
}

void relay_stray(void *data, const struct upstream_tag *tag, size_t n)
{
    struct proxy *px = data;
    struct exchange *ex = tag->id ? store_get(&px->h->store, tag->id) : NULL;
    if (ex) {
        exchange_warn(ex, past_response(ex), SIDE_SERVER, ex->resp.wire_bytes,
                      "%zu %s came from the upstream after the response, while its connection "
                      "was idle; dropped and the upstream connection closed",
                      n, plural_bytes(n));
        store_touch(&px->h->store, ex);
    }
    if (px->h->interactive)
        return;
    /* The exchange's line is out already: the log says it instead. */
    if (tag->id)
        fprintf(stderr,
                "hspy: the upstream sent %zu %s after the response of #%" PRIu64 ".%" PRIu32
                " while its connection was idle; dropped, and that connection closed\n",
                n, plural_bytes(n), tag->conn, tag->seq);
    else
        fprintf(stderr,
                "hspy: an upstream connection sent %zu %s while idle; dropped, and the "
                "connection closed\n",
                n, plural_bytes(n));
}
