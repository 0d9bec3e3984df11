/*
 * synth: exchanges for the interface's tests and benchmarks, made the way the modes make them:
 * request and response bytes fed through a conversation, the exchange stored on CONV_BEGIN and
 * completed on CONV_END. Header-only so that the unit tests and tests/bench/tui_bench share it.
 */
#ifndef HSPY_TEST_SYNTH_H
#define HSPY_TEST_SYNTH_H

#include <stdio.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/store.h"

struct synth {
    struct store *store;
    struct conversation *conv;
    struct conversation_config cfg;
    uint64_t conns;
};

static inline int synth_event(void *data, struct conversation *c, struct exchange *ex,
                              enum conv_event ev, enum side side, const uint8_t *p, size_t n)
{
    (void)c, (void)side, (void)p, (void)n;
    struct synth *s = data;
    if (ev == CONV_BEGIN)
        store_add(s->store, ex);
    else if (ev == CONV_END)
        store_complete(s->store, ex);
    else if (ex)
        store_touch(s->store, ex);
    return CONV_CONTINUE;
}

static inline void synth_init(struct synth *s, struct store *store, size_t body_keep)
{
    memset(s, 0, sizeof *s);
    s->store = store;
    s->cfg.limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    s->cfg.exchange.head_max = HTTP_HEAD_MAX_DEFAULT;
    s->cfg.exchange.body_keep = body_keep;
}

/* Starts a new connection from 10.0.0.x:port to 127.0.0.1:8000 (ending the previous one). */
static inline void synth_connect(struct synth *s, unsigned client, uint16_t port)
{
    conversation_free(s->conv);
    s->cfg.conn_id = ++s->conns;
    char addr[32];
    snprintf(addr, sizeof addr, "10.0.%u.%u", (client >> 8) & 255, client & 255);
    endpoint_set(&s->cfg.client, addr, port);
    endpoint_set(&s->cfg.server, "127.0.0.1", 8000);
    static const struct conversation_events ev = {NULL, synth_event};
    struct conversation_events e = ev;
    e.data = s;
    s->conv = conversation_new(&s->cfg, &e);
}

/* One exchange on the current connection: the request at t, the response at t + dur. */
static inline void synth_exchange(struct synth *s, const char *req, size_t reqlen, const char *resp,
                                  size_t resplen, int64_t t, int64_t dur)
{
    if (!s->conv)
        synth_connect(s, 1, 40000);
    conversation_feed(s->conv, SIDE_CLIENT, (const uint8_t *)req, reqlen, t);
    if (resp)
        conversation_feed(s->conv, SIDE_SERVER, (const uint8_t *)resp, resplen, t + dur);
}

/* Ends the connection: its exchanges complete (an unanswered one as incomplete). */
static inline void synth_close(struct synth *s)
{
    conversation_free(s->conv);
    s->conv = NULL;
}

static inline void synth_cleanup(struct synth *s)
{
    synth_close(s);
}

#endif
