/*
 * upstream: outbound connections of a proxy and the pool that keeps idle ones for reuse.
 *
 * upstream_get hands out a connection to host:port: an idle one from the pool when there is one
 * (already connected), else a new one (the name resolved first when it is not an address
 * literal; then connected, with a connect timeout). While an owner uses a connection the
 * connection's callbacks go to the owner's upstream_events; when the owner is done it either
 * puts the connection back (upstream_put: kept idle for the next request to the same host:port,
 * up to a cap, for a limited time) or closes it (upstream_close). After either call the owner
 * gets no more callbacks. An idle connection that receives bytes, is closed by the peer or sits
 * idle too long is closed by the pool.
 *
 * A pool is shared (any owner reuses any idle connection to the same host and port) or, with
 * cfg.per_owner, private: each connection belongs to the owner number that opened it, only that
 * owner reuses it, an owner keeps at most one idle (the one it put back last; an older one is
 * closed), the cap on idle connections does not apply, and the owner ends its idle one with
 * upstream_pool_forget when it goes.
 *
 * Nothing here knows HTTP: whether a connection may be reused is the owner's decision.
 */
#ifndef HSPY_UPSTREAM_H
#define HSPY_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/conn.h"
#include "hspy/endpoint.h"

/* Default cap on idle connections kept for reuse (all hosts together). */
enum { UPSTREAM_IDLE_MAX_DEFAULT = 32 };
/* Default time an idle connection is kept. */
enum { UPSTREAM_IDLE_MS_DEFAULT = 30000 };
/* Longest host name kept (DNS names are at most 253 bytes). */
enum { UPSTREAM_HOST_MAX = 256 };

/* Where to connect: a host (name or address literal, IPv6 without brackets) and a port. */
struct upstream_target {
    char host[UPSTREAM_HOST_MAX];
    uint16_t port;
    bool has_addr;                /* addr holds the resolved address: no lookup needed */
    struct sockaddr_storage addr; /* port included */
};

/* The owner's name for what a connection carried last (upstream_put), handed back with bytes
 * that come while it is idle; the pool only keeps it. */
struct upstream_tag {
    uint64_t id, conn;
    uint32_t seq;
};

struct upstream_config {
    size_t idle_max;     /* idle connections kept (0 = never reuse) */
    uint64_t idle_ms;    /* an idle connection is closed after this long (0 = never) */
    uint64_t connect_ms; /* connect timeout, name lookup excluded (0 = none) */
    bool per_owner;      /* idle connections are reused only by the owner that opened them */
    /* Bytes came on an idle connection (nobody asked for them): told the tag its last owner
     * gave upstream_put and how many bytes came in this read, before the pool closes it. May be
     * NULL. */
    void (*on_stray)(void *data, const struct upstream_tag *tag, size_t n);
    void *data;
};

struct upstream_counters {
    uint64_t connects;       /* connections attempted */
    uint64_t connect_failed; /* lookups or connects that failed or timed out */
    uint64_t reused;         /* requests served by an idle connection */
    uint64_t idle_closed;    /* idle connections closed (peer, timeout, stray bytes) */
    uint64_t stray;          /* of those, closed for bytes that came while idle */
    uint64_t evicted;        /* idle connections closed to respect idle_max */
};

struct upstream;

struct upstream_pool {
    uv_loop_t *loop;
    struct conn_group conns; /* every upstream connection, idle or busy */
    struct upstream_config cfg;
    struct upstream *idle_first, *idle_last; /* most recently used first */
    size_t nidle;
    size_t live; /* upstream objects not yet freed (lookups included) */
    struct upstream_counters counters;
};

/* What the owner of a busy connection hears. Every callback may be NULL except on_close. */
struct upstream_events {
    void *data;
    /* The new connection is ready (not called for a reused one: it is ready at once). */
    void (*on_connect)(void *data, struct upstream *u);
    void (*on_read)(void *data, struct upstream *u, const uint8_t *p, size_t n);
    void (*on_eof)(void *data, struct upstream *u);
    void (*on_drain)(void *data, struct upstream *u);
    void (*on_sent)(void *data, struct upstream *u);
    void (*on_timeout)(void *data, struct upstream *u, enum conn_timeout which);
    /*
     * The connection is gone: status 0 after an orderly close, else the libuv error (a failed
     * lookup or connect, UV_ETIMEDOUT for the connect timeout, UV_ECONNRESET, ...). Check
     * upstream_connected() to tell a connect failure from a later one. Last callback: u is
     * freed when it returns.
     */
    void (*on_close)(void *data, struct upstream *u, int status);
};

struct upstream {
    struct upstream_pool *pool;
    struct conn *conn; /* NULL while the name is being looked up */
    struct upstream_events ev;
    struct upstream_target target;
    struct endpoint peer;    /* the address connected to, once known */
    uint32_t uses;           /* owners served so far (1 for a fresh connection) */
    uint64_t owner;          /* the owner number it was opened for (cfg.per_owner) */
    struct upstream_tag tag; /* what the last owner gave upstream_put (for cfg.on_stray) */
    bool busy;               /* an owner holds it */
    bool connected;
    bool looking_up;
    bool deferring; /* a failure waits on defer to be reported from a later loop turn */
    int status;     /* error to report on close (set by the pool: timeouts, lookups) */
    struct upstream *prev, *next; /* idle list */
    uv_getaddrinfo_t lookup;
    uv_timer_t defer;
};

void upstream_pool_init(struct upstream_pool *p, uv_loop_t *loop,
                        const struct upstream_config *cfg);
/* Closes every idle connection (shutdown). Busy ones are their owners' to close; lookups in
 * progress finish on their own. */
void upstream_pool_close_idle(struct upstream_pool *p);
/* Frees what is left; every connection must be gone (run the loop after closing them). */
void upstream_pool_cleanup(struct upstream_pool *p);
/* owner will ask for no connection again: with cfg.per_owner its idle one is closed; a shared
 * pool's connections outlive the owner that opened them (nothing is done). */
void upstream_pool_forget(struct upstream_pool *p, uint64_t owner);

/*
 * A connection to t for an owner with callbacks ev; owner is the owner's number (nonzero; with
 * cfg.per_owner it decides which idle connections it may reuse). The owner sets the
 * connection's idle timeout (conn_set_idle) to what it needs; a reused one still has the pool's
 * until then. Returns an idle connection when one to the same host and port is kept (the
 * owner's own with cfg.per_owner) and fresh is false (*reused set; it is connected and nothing
 * more is called until it is used), else a new one whose on_connect or on_close follows. Never
 * NULL: failures are reported through on_close, from a later loop turn.
 */
struct upstream *upstream_get(struct upstream_pool *p, const struct upstream_target *t,
                              const struct upstream_events *ev, uint64_t owner, bool fresh,
                              bool *reused);
/* The owner is done and the connection may serve another request: kept idle when there is
 * room (always with cfg.per_owner, closing the owner's other idle one), else closed. No callback
 * follows. tag is the owner's name for what the connection last carried (cfg.on_stray is told it
 * should bytes come while it is idle). */
void upstream_put(struct upstream *u, const struct upstream_tag *tag);
/* The owner is done and the connection must not be reused: closed (enum conn_close). No
 * callback follows. */
void upstream_close(struct upstream *u, int how);

static inline bool upstream_connected(const struct upstream *u)
{
    return u->connected;
}

/*
 * Parses an address literal (IPv4, or IPv6 without brackets) with port into t->addr. Returns
 * 0, or -1 when host is not a literal.
 */
int upstream_target_literal(struct upstream_target *t);
/* "host:port" (IPv6 in brackets) into buf; returns buf. */
char *upstream_target_format(const struct upstream_target *t, char *buf, size_t len);

#endif
