/*
 * proxy: `hspy proxy`, the inspecting HTTP/1.x proxy.
 *
 * struct proxy is the server: the listener and its client connections, the pool of upstream
 * connections, the default (reverse) upstream, what may change in a request head on its way
 * (Host, X-Forwarded-For, Forwarded), the limits and timeouts, and the hooks where intercept,
 * edit and replay plug in. Each client connection is a struct relay (relay.c): it feeds both
 * directions to the conversation engine, forwards what the engine consumed, and records every
 * byte the client sent and received.
 */
#ifndef HSPY_PROXY_H
#define HSPY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/conn.h"
#include "hspy/exchange.h"
#include "hspy/flusher.h"
#include "hspy/intercept.h"
#include "hspy/listener.h"
#include "hspy/signals.h"
#include "hspy/upstream.h"

struct hspy;
struct relay;

/*
 * Where a message can be held before it is passed on (intercept). Each hook is called with the
 * parsed head in ex and returns true to hold the message: nothing of it goes on until
 * relay_release (see relay.h), and its body keeps being read (and recorded) meanwhile.
 * request_head is called once the request is routed, before any upstream contact;
 * response_head once a final response head arrived, before any of it reaches the client. Other
 * connections keep flowing meanwhile. A hook that keeps ex beyond the call pins it
 * (store_pin); an exchange whose messages end while held reaches the store's observers only
 * once the hold ends, so they see what was sent.
 */
struct proxy_hooks {
    void *data;
    bool (*request_head)(void *data, struct relay *r, struct exchange *ex);
    bool (*response_head)(void *data, struct relay *r, struct exchange *ex);
    /* The connection of a held message went away (client gone, upstream failed, killed): the
     * hold is over and r is about to be freed. May be NULL. */
    void (*dropped)(void *data, struct relay *r, struct exchange *ex);
};

/* Longest time a printed record waits in the sinks' buffer before it is written. */

struct proxy_counters {
    uint64_t requests;    /* request heads routed */
    uint64_t unforwarded; /* requests received after the connection's last response, recorded
                             but never forwarded */
    uint64_t tunnels;     /* CONNECT and Upgrade tunnels opened */
    uint64_t bad_gateway; /* answered 502 */
    uint64_t timeouts;    /* answered 504 or 408, or cut, because a timeout ran out
                             (--connect-timeout, --upstream-timeout, --head-timeout,
                             --idle-timeout mid-request or in a tunnel) */
    uint64_t rejected;    /* answered 4xx/5xx because the request could not be forwarded */
    uint64_t cut;         /* responses (and tunnels) cut because the upstream failed midway */
    uint64_t client_aborts;
    uint64_t retries;     /* requests resent after a reused connection closed unanswered */
    uint64_t idle_closed; /* client connections closed idle between requests */
    uint64_t ambiguous;   /* requests another reader may frame differently (warning_risks_desync):
                             both connections ended after them */
};

struct proxy {
    struct hspy *h;
    struct listener listener;
    struct conn_group clients;
    struct upstream_pool pool;
    struct signals signals;
    struct flusher flusher;          /* printed records out within FLUSHER_MS */
    struct upstream_target upstream; /* where origin-form requests go */
    char upstream_name[300];         /* "host:port" for messages */
    char upstream_host[300];         /* Host value for them (unless --preserve-host) */
    const struct proxy_hooks *hooks; /* NULL: nothing is held */
    struct proxy_counters counters;
    bool stopping;
    char software[32]; /* "hspy/VERSION" for hspy's own answers */
    /* the mode's intercept (--intercept, key i): its holds and the hooks that feed it */
    struct intercept intercept;
    struct proxy_hooks intercept_hooks;
};

/*
 * Sets up px for the session h (whose options say where to listen and the upstream): resolves
 * the upstream, binds the listener, prepares the pool. Returns 0, or -1 with h->err set (call
 * proxy_cleanup either way). The mode runs the loop; tests and embedders may set hooks first.
 */
int proxy_open(struct proxy *px, struct hspy *h);
/* Stops accepting and closes every connection at once; exchanges in flight end (recorded as
 * cut). Idempotent. Run the loop afterwards to let the closes finish. */
void proxy_stop(struct proxy *px);
/* Releases what is left once the loop has finished the closes. */
void proxy_cleanup(struct proxy *px);

#endif
