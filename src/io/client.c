/*
 * client owns one connection of `hspy listen`: it feeds what the client sends to the
 * conversation, answers each request with a reply written through its sender, feeds every
 * byte it sends back to the conversation as the server side, and decides when the connection
 * pauses, times out and closes. It stores exchanges as the conversation hands them out; it
 * never draws and never prints.
 *
 * Requests are answered strictly in order: the conversation is paused at the end of a request
 * while its reply is still going out, so pipelined requests wait (unread, in the socket or in
 * `held`) and memory stays bounded. Every entry point (socket, timers, child processes) ends
 * in pump(), which runs the follow-ups in one place and never re-enters itself.
 */
#include "hspy/client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/hspy.h"
#include "hspy/intercept.h"
#include "hspy/listen.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

/* Bytes one pump may write before yielding to the loop (fairness between connections). */
enum { PUMP_BUDGET = 1024 * 1024 };

/* The error of a request received but never answered. */
static const char CLIENT_LEFTOVER[] =
    "not answered: the connection closed after the previous response";

/* Reasons to stop reading from the client (conn_hold bits). */
enum {
    HOLD_INPUT = 1 << 0,  /* bytes wait in held: the conversation paused or is full */
    HOLD_OUTPUT = 1 << 1, /* our output to this client is over its cap */
    HOLD_REPLY = 1 << 2,  /* the reply cannot take request bytes yet (a command's stdin) */
};

struct client {
    struct listen *srv;
    struct conn *conn;
    struct conversation *conv;
    struct sender sender;
    uv_idle_t kick;      /* continues a reply that had more to give at the end of a pump */
    unsigned handles;    /* libuv handles still open (sender timer, kick) */
    struct reply *reply; /* the reply in progress, or NULL */
    struct reply *spare; /* a finished reply kept for reuse (reply_retire), or NULL */
    struct exchange *ex; /* the exchange whose request is arriving, or NULL */
    struct dynbuf held;  /* client bytes the conversation has not taken yet */
    size_t held_off;
    struct dynbuf outq;    /* bytes released this turn: written and fed as the server side */
    struct dynbuf scratch; /* replies compose their heads here */
    bool paused;           /* the conversation paused at the end of a request */
    bool unblock;          /* the conversation asked to be fed again */
    bool reply_done_told;  /* the reply was told the request is complete */
    bool reply_finished;   /* the sender released the whole reply (or cut it) */
    uint8_t finish_how;    /* enum sender_finish */
    bool close_when_done;  /* no further request on this connection */
    bool want_close;
    uint8_t close_how; /* enum conn_close */
    bool eof, eof_fed;
    bool closed;
    bool pumping, again;
    uint64_t conn_id;
    int64_t turn_ns; /* when the bytes being fed arrived (also dates the responses to them) */
    /* intercept: the request held for the user's answer (no reply exists meanwhile) */
    struct intercept_hold *hold;
    struct exchange *held_ex;    /* the held exchange (pinned while held) */
    struct framing held_framing; /* its request's framing */
    bool held_done;              /* its request ended while held */
    struct delivery plan;        /* delivery controls chosen while it was held */
};

static int64_t now(void)
{
    return hspy_now();
}

/* ---- output: what the reply releases, in order ---- */

static void out_write(void *data, const uint8_t *p, size_t n)
{
    struct client *c = data;
    dynbuf_append(&c->outq, p, n);
}

/* Sends the turn's output and records it as the server side of the exchanges. */
static void flush(struct client *c)
{
    if (!c->outq.len)
        return;
    if (c->closed || conn_write(c->conn, c->outq.data, c->outq.len) != 0) {
        /* The connection failed or is closing: these bytes never left, so they are not
         * recorded as sent either. */
        dynbuf_reset(&c->outq);
        return;
    }
    size_t off = 0;
    int64_t ts = now();
    while (c->conv && off < c->outq.len) {
        size_t k =
            conversation_feed(c->conv, SIDE_SERVER, c->outq.data + off, c->outq.len - off, ts);
        if (k == 0)
            break; /* cannot happen while requests are answered in order; never loop */
        off += k;
    }
    dynbuf_reset(&c->outq);
    /* A large turn (a big echo) should not keep its buffer for the connection's lifetime. */
    if (c->outq.cap > 2 * CONN_READ_SIZE)
        dynbuf_cleanup(&c->outq);
}

static bool output_full(void *data)
{
    struct client *c = data;
    return c->closed || conn_closing(c->conn) || sender_full(&c->sender) ||
           c->outq.len + conn_queued(c->conn) > c->srv->conns.queue_max;
}

static void pump(struct client *c);

static void reply_hold(void *data, bool on)
{
    struct client *c = data;
    if (c->closed)
        return;
    if (on)
        conn_hold(c->conn, HOLD_REPLY);
    else
        conn_unhold(c->conn, HOLD_REPLY);
}

static void reply_wake(void *data)
{
    pump(data);
}

static void on_sender_finish(void *data, enum sender_finish how)
{
    struct client *c = data;
    c->reply_finished = true;
    c->finish_how = (uint8_t)how;
    c->again = true;
}

static void on_sender_room(void *data)
{
    struct client *c = data;
    c->again = true;
}

static void on_sender_after(void *data)
{
    pump(data);
}

/* ---- replies ---- */

static void write_interim(struct client *c, const char *text)
{
    out_write(c, (const uint8_t *)text, strlen(text));
}

static struct reply_env make_env(struct client *c, struct exchange *ex, const struct framing *f)
{
    const struct message *req = &ex->req;
    bool http11 = (req->flags & MSG_HEAD) && req->head.major == 1 && req->head.minor >= 1;
    struct reply_env env = {
        .loop = c->srv->conns.loop,
        .sender = &c->sender,
        .ex = ex,
        .limits = &c->srv->h->limits,
        .framing = *f,
        .date = listen_date(c->srv, c->turn_ns),
        .scratch = &c->scratch,
        .software = c->srv->software,
        .head_request = message_is_head_request(req),
        .http11 = http11,
        .http09 = (req->flags & MSG_HTTP09) != 0,
        .close = c->close_when_done || !f->keep_alive || c->srv->stopping,
        .keep_alive10 = (req->flags & MSG_HEAD) && !http11 && f->keep_alive,
        .data = c,
        .full = output_full,
        .hold = reply_hold,
        .wake = reply_wake,
    };
    return env;
}

static struct reply *make_reply(struct client *c, const struct answer *a,
                                const struct reply_env *env)
{
    switch (a->action) {
    case RULE_FIXED: {
        struct reply_fixed_spec spec = {a->status, a->reason,   a->headers, a->nheaders,
                                        a->body,   a->body_len, false};
        struct reply *r = reply_fixed_reuse(c->spare, env, &spec);
        c->spare = NULL;
        return r;
    }
    case RULE_RAW:
        if (a->raw_copy) {
            uint8_t *copy = xmalloc(a->raw_len ? a->raw_len : 1);
            memcpy(copy, a->raw, a->raw_len);
            return reply_raw_take(env, copy, a->raw_len);
        }
        return reply_raw_new(env, a->raw, a->raw_len);
    case RULE_SERVE: return reply_serve_new(env, a->serve);
    case RULE_EXEC: return reply_exec_new(env, a->exec);
    default: return reply_echo_new(env);
    }
}

static void install(struct client *c, struct reply *r)
{
    c->reply = r;
    c->reply_done_told = false;
    c->reply_finished = false;
}

/* Answers at once with an error and ends the connection after it. */
static void reject(struct client *c, struct exchange *ex, uint16_t status, const char *why)
{
    c->close_when_done = true;
    struct framing none = {.kind = BODY_NONE};
    struct reply_env env = make_env(c, ex, &none);
    env.close = true;
    env.http09 = false;
    sender_begin(&c->sender, NULL);
    install(c, reply_error_new(&env, status, why));
    c->reply_done_told = true;
    c->reply->ops->done(c->reply);
}

static void hold_request(struct client *c, struct exchange *ex, const struct framing *f);

/* Installs the reply of answer a (plan NULL: the answer's own) for ex. */
static void answer_with(struct client *c, struct exchange *ex, const struct framing *f,
                        const struct answer *a, const struct delivery *plan)
{
    if (a->name)
        ex->note = arena_printf(&ex->arena, "rule: %s", a->name);
    if (!plan)
        plan = a->plan;
    if (plan && delivery_breaks_framing(plan))
        c->close_when_done = true;
    if (!f->keep_alive)
        c->close_when_done = true;
    struct reply_env env = make_env(c, ex, f);
    sender_begin(&c->sender, plan);
    install(c, make_reply(c, a, &env));
}

static void start_reply(struct client *c, struct exchange *ex)
{
    const struct framing *f = conversation_framing(c->conv, SIDE_CLIENT);
    if (f->cannot_frame || !(ex->req.flags & MSG_HEAD)) {
        bool big = ex->req.flags & MSG_HEAD_LIMIT;
        const char *why = big ? "request head larger than the limit (--head-max)"
                          : (ex->req.flags & MSG_HEAD) ? "request length cannot be determined"
                                                       : "not an HTTP request";
        exchange_fail(ex, EX_REJECTED, "answered %d: %s", big ? 431 : 400, why);
        c->srv->counters.rejected++;
        reject(c, ex, big ? 431 : 400, why);
        return;
    }
    const struct answer *a = listen_answer(c->srv, &ex->req);
    int expect = a->expect >= 0 ? a->expect : c->srv->expect;
    bool body_follows = f->kind == BODY_CHUNKED || (f->kind == BODY_LENGTH && f->length > 0);
    if (f->expect_continue && body_follows && ex->req.head.minor >= 1) {
        if (expect == 100) {
            write_interim(c, "HTTP/1.1 100 Continue\r\n\r\n");
        } else if (expect >= 200) {
            reject(c, ex, (uint16_t)expect, "expectation not met (--expect)");
            return;
        }
    }
    struct intercept *ic = c->srv->h->intercept;
    if (ic && intercept_wants(ic, ex)) {
        hold_request(c, ex, f);
        return;
    }
    answer_with(c, ex, f, a, NULL);
}

/* ---- intercept: a request waiting for the user's answer ---- */

/* Gives a reply made after the request's body arrived the payload received so far. */
static void catch_up(struct client *c, struct exchange *ex)
{
    if (!c->reply->ops->body)
        return;
    struct dynbuf body;
    dynbuf_init(&body, (size_t)1 << 30);
    if (!message_body(&ex->req, &body, &c->srv->h->limits))
        c->close_when_done = true; /* part of the body was not kept: the answer is short */
    if (body.len)
        c->reply->ops->body(c->reply, body.data, body.len);
    dynbuf_cleanup(&body);
}

static const struct answer *chosen_answer(struct client *c, struct exchange *ex,
                                          const struct intercept_release *r, struct answer *scratch)
{
    memset(scratch, 0, sizeof *scratch);
    scratch->expect = -1;
    switch (r->answer) {
    case INTERCEPT_ECHO: scratch->action = RULE_ECHO; return scratch;
    case INTERCEPT_RULE: {
        const struct answer *a = listen_rule_answer(c->srv, r->rule);
        if (a)
            return a;
        break;
    }
    case INTERCEPT_BYTES:
        scratch->action = RULE_RAW;
        scratch->raw = r->bytes;
        scratch->raw_len = r->len;
        scratch->raw_copy = true;
        scratch->plan = c->srv->fallback.plan;
        scratch->name = NULL;
        return scratch;
    default: break;
    }
    return listen_answer(c->srv, &ex->req);
}

static void on_hold_release(void *data, struct exchange *ex, const struct intercept_release *r)
{
    struct client *c = data;
    c->hold = NULL;
    c->held_ex = NULL;
    if (c->closed)
        return;
    c->turn_ns = now(); /* the answer is made (and dated) now */
    struct answer scratch;
    const struct answer *a = chosen_answer(c, ex, r, &scratch);
    const struct delivery *plan = NULL;
    if (r->plan) {
        c->plan = *r->plan;
        plan = &c->plan;
    }
    answer_with(c, ex, &c->held_framing, a, plan);
    if (r->answer == INTERCEPT_BYTES)
        ex->note = arena_strdup(&ex->arena, "crafted in the interface");
    catch_up(c, ex);
    if (c->held_done) {
        c->reply_done_told = true;
        c->reply->ops->done(c->reply);
    }
    store_touch(&c->srv->h->store, ex);
    pump(c);
}

static void on_hold_kill(void *data, struct exchange *ex)
{
    struct client *c = data;
    c->hold = NULL;
    c->held_ex = NULL;
    exchange_fail(ex, EX_KILLED,
                  "killed while the request was held: no answer was sent, the "
                  "client got a reset");
    exchange_warn(ex, W_KILLED, SIDE_CLIENT, ex->req.wire_bytes, "%s", ex->error);
    if (c->closed)
        return;
    c->want_close = true;
    c->close_how = CONN_CLOSE_RESET;
    pump(c);
}

static const struct intercept_hold_ops HOLD_OPS = {on_hold_release, on_hold_kill};

/* The request stays unanswered until the user decides; its body is still read (and shown). */
static void hold_request(struct client *c, struct exchange *ex, const struct framing *f)
{
    c->held_ex = ex;
    c->held_framing = *f;
    c->held_done = false;
    c->hold = intercept_hold(c->srv->h->intercept, ex, SIDE_CLIENT, SIDE_SERVER, &HOLD_OPS, c);
}

/* The request ended: tell the reply; pause the conversation until the reply is out. */
static int request_done(struct client *c, struct exchange *ex)
{
    if (!(ex->req.flags & MSG_COMPLETE))
        c->close_when_done = true; /* framing broke mid-body: nothing reliable can follow */
    if (c->hold && c->held_ex == ex) {
        c->held_done = true;
        goto pause;
    }
    if (c->reply && !c->reply_done_told) {
        c->reply_done_told = true;
        c->reply->ops->done(c->reply);
    }
    if (c->reply && !c->reply_finished)
        goto pause;
    if (c->close_when_done || (c->reply && c->reply->close_after))
        goto pause;
    if (c->outq.len > c->srv->conns.queue_max / 2 || conn_full(c->conn))
        goto pause;
    if (c->reply) {
        reply_free(c->spare);
        c->spare = reply_retire(c->reply);
        c->reply = NULL;
    }
    return CONV_CONTINUE;
pause:
    c->paused = true;
    return CONV_PAUSE;
}

/* ---- conversation events ---- */

static int on_event(void *data, struct conversation *conv, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)conv;
    struct client *c = data;
    struct store *store = &c->srv->h->store;
    /* Once the connection is closed, nothing is answered: only the record follows (leftover
     * requests). */
    if (c->closed && ev != CONV_BEGIN && ev != CONV_END) {
        if (ex)
            store_touch(store, ex);
        return CONV_CONTINUE;
    }
    switch (ev) {
    case CONV_BEGIN:
        store_add(store, ex);
        if (side == SIDE_CLIENT && !c->closed) {
            c->ex = ex;
            conn_set_deadline(c->conn, c->srv->h->opt.head_timeout_ms);
        }
        return CONV_CONTINUE;
    case CONV_REQ_HEAD:
        conn_set_deadline(c->conn, 0);
        store_touch(store, ex);
        start_reply(c, ex);
        return CONV_CONTINUE;
    case CONV_REQ_BODY:
        if (c->reply && c->reply->ops->body && !c->reply_finished)
            c->reply->ops->body(c->reply, p, n);
        store_touch(store, ex);
        return CONV_CONTINUE;
    case CONV_REQ_DONE: store_touch(store, ex); return request_done(c, ex);
    case CONV_END:
        reply_forget(c->reply, ex);
        if (c->ex == ex)
            c->ex = NULL;
        store_complete(store, ex);
        return CONV_CONTINUE;
    case CONV_UNBLOCK:
        if (side == SIDE_CLIENT) {
            c->unblock = true;
            c->again = true;
        }
        return CONV_CONTINUE;
    default:
        if (ex)
            store_touch(store, ex);
        return CONV_CONTINUE;
    }
}

/* ---- feeding the client's bytes ---- */

static void hold_rest(struct client *c, const uint8_t *p, size_t n)
{
    if (c->held_off == c->held.len) {
        dynbuf_reset(&c->held);
        c->held_off = 0;
    }
    dynbuf_append(&c->held, p, n);
}

/*
 * The conversation is made when the first byte arrives: a connection that never sends
 * anything (an idle flood) then costs a few hundred bytes instead of a conversation's
 * in-flight table.
 */
static void start_conversation(struct client *c)
{
    struct hspy *h = c->srv->h;
    struct conversation_config cfg = {
        .limits = h->limits,
        .exchange = h->ex_limits,
        .conn_id = c->conn_id,
        .client = *conn_peer(c->conn),
        .server = *conn_local(c->conn),
        .hash_bodies = true,
        .pool = &h->pool,
        .tap = h->tap,
    };
    struct conversation_events cev = {c, on_event};
    c->conv = conversation_new(&cfg, &cev);
}

static size_t feed_client(struct client *c, const uint8_t *p, size_t n)
{
    if (!c->conv)
        start_conversation(c);
    c->paused = false;
    c->unblock = false;
    c->turn_ns = now();
    return conversation_feed(c->conv, SIDE_CLIENT, p, n, c->turn_ns);
}

/* Feeds held bytes while the conversation takes them. */
static void feed_held(struct client *c)
{
    while (!c->closed && !c->paused && !c->want_close &&
           (c->held_off < c->held.len || c->unblock)) {
        size_t before = c->held_off;
        c->held_off += feed_client(c, c->held.data + c->held_off, c->held.len - c->held_off);
        if (c->held_off == c->held.len) {
            dynbuf_reset(&c->held);
            c->held_off = 0;
        }
        flush(c);
        if (c->held_off == before && !c->unblock && c->held.len)
            break;
        if (c->reply_finished)
            break; /* let pump retire it before the next request starts */
    }
}

/* ---- the follow-ups of every entry point ---- */

/* Frees a reply that finished and decides what its end means for the connection. */
static void retire(struct client *c)
{
    if (!c->reply_finished)
        return;
    bool cut = c->finish_how != SENDER_DONE;
    bool close = cut || c->close_when_done || (c->reply && c->reply->close_after);
    if (c->reply && !c->reply_done_told && !cut && !close) {
        /* The reply went out before the request ended (a command that ignored its input):
         * keep it until the request is complete so the body still has somewhere to go. */
        return;
    }
    reply_free(c->reply);
    c->reply = NULL;
    c->reply_finished = false;
    if (!c->closed)
        conn_unhold(c->conn, HOLD_REPLY);
    if (close) {
        c->want_close = true;
        c->close_how = c->finish_how == SENDER_RESET ? CONN_CLOSE_RESET : CONN_CLOSE_FLUSH;
        return;
    }
    c->paused = false;
}

static void handle_eof(struct client *c)
{
    if (!c->eof || c->eof_fed || c->paused || c->held_off < c->held.len)
        return;
    c->eof_fed = true;
    if (c->conv)
        conversation_close(c->conv, SIDE_CLIENT, now());
    flush(c);
    if (!c->reply && !c->hold)
        c->want_close = true;
    else
        c->close_when_done = true;
}

/*
 * Reading stops while bytes wait, and while the conversation is paused, except under a hold
 * with nothing waiting: a hold may last minutes, and only a readable socket tells that the
 * client went away meanwhile (on_eof). Bytes it pipelines then wait in held, and reading stops.
 */
static void update_holds(struct client *c)
{
    if (c->closed)
        return;
    if (c->held_off < c->held.len || (c->paused && !c->hold))
        conn_hold(c->conn, HOLD_INPUT);
    else
        conn_unhold(c->conn, HOLD_INPUT);
    if (conn_full(c->conn))
        conn_hold(c->conn, HOLD_OUTPUT);
    else
        conn_unhold(c->conn, HOLD_OUTPUT);
}

/* Lets the reply produce while there is room; returns whether it produced anything. */
static bool give_room(struct client *c)
{
    if (!c->reply || c->reply_finished || output_full(c))
        return false;
    size_t before = c->outq.len;
    c->reply->ops->room(c->reply);
    return c->outq.len > before;
}

static void on_kick(uv_idle_t *h)
{
    struct client *c = h->data;
    uv_idle_stop(h);
    pump(c);
}

static void pump(struct client *c)
{
    if (c->pumping) {
        c->again = true;
        return;
    }
    c->pumping = true;
    uint64_t out_before = conn_bytes_out(c->conn);
    bool more = false;
    do {
        c->again = false;
        flush(c);
        more = give_room(c);
        flush(c);
        retire(c);
        feed_held(c);
        handle_eof(c);
        if (c->want_close && !c->closed && !c->outq.len) {
            c->closed = true;
            sender_abort(&c->sender);
            conn_close(c->conn, c->close_how);
        }
        /* A client that takes everything at once would keep us here: after PUMP_BUDGET bytes
         * the rest waits for the next loop turn, so other connections get their share. */
        if (more && !c->closed && conn_bytes_out(c->conn) - out_before < PUMP_BUDGET)
            c->again = true;
    } while (c->again && !c->closed);
    if (more && !c->closed && !output_full(c))
        uv_idle_start(&c->kick, on_kick);
    update_holds(c);
    c->pumping = false;
}

/* ---- connection callbacks ---- */

static void on_read(void *data, struct conn *conn, const uint8_t *p, size_t n)
{
    (void)conn;
    struct client *c = data;
    if (c->paused || c->held_off < c->held.len || c->want_close) {
        hold_rest(c, p, n);
    } else {
        size_t k = feed_client(c, p, n);
        if (k < n)
            hold_rest(c, p + k, n - k);
    }
    pump(c);
}

/*
 * The client closed its side while its request is held. A half-close cannot be told from a
 * close, and an answer written to a closed socket would look delivered, so the client is taken
 * as gone: the exchange says so and the connection closes, which ends the hold (on_close).
 */
static void gone_while_held(struct client *c)
{
    struct exchange *ex = c->held_ex;
    exchange_fail(ex, EX_CLIENT_ABORT,
                  "the client went away while the request was held: no answer was sent");
    exchange_warn(ex, W_CLIENT_ABORT, SIDE_CLIENT, ex->req.wire_bytes, "%s", ex->error);
    store_touch(&c->srv->h->store, ex);
    c->want_close = true;
    c->close_how = CONN_CLOSE_NOW;
}

static void on_eof(void *data, struct conn *conn)
{
    (void)conn;
    struct client *c = data;
    c->eof = true;
    if (c->hold)
        gone_while_held(c);
    pump(c);
}

static void on_drain(void *data, struct conn *conn)
{
    (void)conn;
    pump(data);
}

/* Flags the exchange in flight on either side with a timeout. */
static void flag_timeout(struct client *c, const char *what)
{
    struct exchange *seen[2] = {c->conv ? conversation_current(c->conv, SIDE_CLIENT) : NULL,
                                c->reply ? c->reply->env.ex : NULL};
    for (int i = 0; i < 2; i++) {
        struct exchange *ex = seen[i];
        if (!ex || (i == 1 && ex == seen[0]))
            continue;
        exchange_warn(ex, W_TIMEOUT, i == 0 ? SIDE_CLIENT : SIDE_SERVER,
                      exchange_msg(ex, i == 0 ? SIDE_CLIENT : SIDE_SERVER)->wire_bytes, "%s", what);
        exchange_fail(ex, EX_TIMEOUT, "%s", what);
        store_touch(&c->srv->h->store, ex);
    }
}

static void on_timeout(void *data, struct conn *conn, enum conn_timeout which)
{
    (void)conn;
    struct client *c = data;
    const struct options *o = &c->srv->h->opt;
    char what[128];
    c->turn_ns = now();
    if (which == CONN_TIMEOUT_DEADLINE) {
        if (c->reply || !c->ex)
            return;
        snprintf(what, sizeof what,
                 "request head not complete after %" PRIu64 " ms (--head-timeout)",
                 o->head_timeout_ms);
    } else {
        /* A deliberate pause, a command at work or a held request is our doing, not the
         * client's (a hold has its own timeout). */
        if (c->hold || (c->reply && (sender_waiting(&c->sender) || !conn_full(c->conn))))
            return;
        if (!c->reply && (!c->conv || conversation_idle(c->conv)) && c->held_off == c->held.len) {
            c->srv->counters.idle_closed++;
            c->want_close = true;
            c->close_how = CONN_CLOSE_FLUSH;
            pump(c);
            return;
        }
        snprintf(what, sizeof what, "client idle for %" PRIu64 " ms (--idle-timeout)",
                 o->idle_timeout_ms);
    }
    c->srv->counters.timed_out++;
    flag_timeout(c, what);
    if (!c->reply && c->ex) {
        reject(c, c->ex, 408, what);
    } else {
        c->want_close = true;
        c->close_how = CONN_CLOSE_NOW;
    }
    pump(c);
}

static void free_client(uv_handle_t *h)
{
    struct client *c = h->data;
    if (--c->handles == 0)
        free(c);
}

static void on_close(void *data, struct conn *conn, int status)
{
    struct client *c = data;
    c->closed = true;
    sender_abort(&c->sender);
    if (c->hold) {
        if (!c->held_ex->error)
            exchange_fail(c->held_ex, 0, "the connection ended while the request was held");
        intercept_drop(c->srv->h->intercept, c->hold);
        c->hold = NULL;
        c->held_ex = NULL;
    }
    if (c->srv->stopping) {
        struct exchange *ex[2] = {c->ex, c->reply ? c->reply->env.ex : NULL};
        for (int i = 0; i < 2; i++)
            if (ex[i] && (i == 0 || ex[i] != ex[0]) && !ex[i]->error)
                exchange_fail(ex[i], 0, "hspy stopped while this exchange was in flight");
    }
    if (status && status != UV_EOF) {
        struct exchange *ex = c->reply && c->reply->env.ex ? c->reply->env.ex : c->ex;
        if (ex) {
            uint64_t lost = conn_bytes_dropped(conn);
            if (lost)
                exchange_warn(ex, W_CLIENT_ABORT, SIDE_CLIENT, ex->req.wire_bytes,
                              "%s; the last %llu %s recorded as sent never left hspy",
                              uv_strerror(status), (unsigned long long)lost, plural_bytes(lost));
            else
                exchange_warn(ex, W_CLIENT_ABORT, SIDE_CLIENT, ex->req.wire_bytes, "%s",
                              uv_strerror(status));
            ex->flags |= EX_CLIENT_ABORT;
        }
    }
    reply_free(c->reply);
    c->reply = NULL;
    dynbuf_reset(&c->outq);
    /* Both directions end here: partial messages are flagged as cut by the end of stream, then
     * everything still in flight ends, so every exchange reaches the store. */
    int64_t ts = now();
    /* Requests that waited behind the last response were received: they are recorded. */
    if (c->conv && c->held_off < c->held.len)
        conversation_feed_leftover(c->conv, SIDE_CLIENT, c->held.data + c->held_off,
                                   c->held.len - c->held_off, ts, CLIENT_LEFTOVER);
    if (c->conv && !c->eof_fed)
        conversation_close(c->conv, SIDE_CLIENT, ts);
    if (c->conv)
        conversation_close(c->conv, SIDE_SERVER, ts);
    conversation_free(c->conv);
    c->conv = NULL;
    dynbuf_cleanup(&c->held);
    dynbuf_cleanup(&c->outq);
    dynbuf_cleanup(&c->scratch);
    reply_free(c->spare);
    c->spare = NULL;
    /* Both handles point back at the client for the close callbacks (not used otherwise). */
    c->sender.timer.data = c;
    sender_close(&c->sender, free_client);
    uv_close((uv_handle_t *)&c->kick, free_client);
}

void client_start(struct listen *l, struct conn *conn)
{
    struct hspy *h = l->h;
    struct client *c = xcalloc(1, sizeof *c);
    c->srv = l;
    c->conn = conn;
    c->conn_id = ++h->next_conn_id;
    dynbuf_init(&c->held, CONN_READ_SIZE + CONVERSATION_PENDING_MAX);
    dynbuf_init(&c->outq, (size_t)1 << 30);
    dynbuf_init(&c->scratch, (size_t)1 << 24);
    struct sender_events sev = {c, out_write, on_sender_finish, on_sender_room, on_sender_after};
    sender_init(&c->sender, l->conns.loop, &sev);
    uv_idle_init(l->conns.loop, &c->kick);
    c->kick.data = c;
    c->handles = 2;
    struct conn_events ev = {c, on_read, on_eof, on_drain, on_timeout, on_close};
    conn_start(conn, &ev);
    conn_set_idle(conn, h->opt.idle_timeout_ms);
    if (l->stopping)
        conn_close(conn, CONN_CLOSE_NOW);
}
