/*
 * conn: one TCP connection on the loop, with a bounded output queue and read control.
 *
 * A conn reads into a buffer shared by its group and hands the bytes to its owner's on_read
 * (valid only during the call). Writes are sent at once when the socket takes them and queued
 * otherwise; the queue is bounded by the group's queue_max: past it conn_full() is true and the
 * owner stops producing (and stops reading from whoever feeds it) until on_drain. Reading stops
 * while any "hold" reason is set, so several parts of an owner can each ask for a pause without
 * knowing about the others. A cork gathers the writes of one loop turn into a single write.
 *
 * One timer per conn serves two timeouts: idle (no read or write progress for idle_ms) and a
 * deadline (an absolute point, e.g. "the request head must be complete by then"). The timer is
 * re-armed lazily, so activity costs no timer operations.
 *
 * A conn is either accepted from a listener or connected outward (conn_connect, for a proxy's
 * upstream); both work alike once connected. A conn can be half-closed (conn_shutdown: our FIN,
 * while the peer's bytes keep coming), which tunnels need.
 *
 * Closing is always asynchronous: on_close is the last callback, after which the conn is freed.
 * Nothing here knows HTTP; listen and proxy build on it.
 */
#ifndef HSPY_CONN_H
#define HSPY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/endpoint.h"

/* Bytes read per read call; the buffer is shared by every conn of a group. */
enum { CONN_READ_SIZE = 64 * 1024 };
/* Default cap on a conn's queued output before conn_full() reports true. */
#define CONN_QUEUE_MAX_DEFAULT ((size_t)256 * 1024)
/* How long a graceful close waits for the peer's FIN after ours (lingering close). */
enum { CONN_LINGER_MS = 2000 };
/* A cork buffer past this size is flushed early, so a cork never holds more than this. */
enum { CONN_CORK_MAX = 64 * 1024 };

struct conn;

/* Every conn of a server: counted, closed together at shutdown, sharing one read buffer. */
struct conn_group {
    uv_loop_t *loop;
    struct conn *first; /* intrusive list of open (not yet freed) conns */
    size_t n;
    size_t queue_max; /* output queue cap per conn (CONN_QUEUE_MAX_DEFAULT) */
    /* Bytes a lingering close reads and discards before it gives up and closes (0: no limit
     * but CONN_LINGER_MS), so a peer that keeps sending cannot make the wait cost more. */
    uint64_t linger_max;
    uint8_t *rbuf;  /* CONN_READ_SIZE bytes, allocated on first read */
    bool rbuf_busy; /* a read callback is using rbuf */
};

void conn_group_init(struct conn_group *g, uv_loop_t *loop);
/* Frees the shared buffer; every conn must be gone (n == 0). */
void conn_group_cleanup(struct conn_group *g);
/* Starts closing every conn of the group the given way (enum conn_close). */
void conn_group_close_all(struct conn_group *g, int how);

enum conn_timeout {
    CONN_TIMEOUT_IDLE = 0,     /* no read or write progress for the idle time */
    CONN_TIMEOUT_DEADLINE = 1, /* the deadline set with conn_set_deadline passed */
};

enum conn_close {
    CONN_CLOSE_FLUSH = 0, /* send what is queued, FIN, wait briefly for the peer's FIN, close */
    CONN_CLOSE_NOW = 1,   /* close at once; queued output is dropped */
    CONN_CLOSE_RESET = 2, /* abort with a TCP reset; queued output is dropped */
};

struct conn_events {
    void *data;
    /* Bytes arrived; p is valid only during the call. */
    void (*on_read)(void *data, struct conn *c, const uint8_t *p, size_t n);
    /* The peer closed its sending direction (FIN). Writing is still possible. */
    void (*on_eof)(void *data, struct conn *c);
    /* The queue fell back under half of queue_max after conn_full() had been true. */
    void (*on_drain)(void *data, struct conn *c);
    /* A timeout fired; nothing is closed automatically. */
    void (*on_timeout)(void *data, struct conn *c, enum conn_timeout which);
    /*
     * The conn is closed: status is 0 after a close the owner asked for, else the libuv error
     * that ended it (UV_ECONNRESET, UV_EPIPE, ...). Last callback; c is freed when it returns.
     */
    void (*on_close)(void *data, struct conn *c, int status);
};

/*
 * Accepts a pending connection from server into a new conn of group g (not reading yet: call
 * conn_start). Returns 0 with *out set, or a negative libuv error (nothing allocated).
 */
int conn_accept(uv_stream_t *server, struct conn_group *g, struct conn **out);
/*
 * Starts connecting to addr, for a server's own clients (a proxy's upstream). The conn exists
 * at once: its callbacks can be set with conn_start and writes are queued until the connection
 * is made; reading starts then. on_connected reports the outcome: status 0, or a negative libuv
 * error after which the conn closes by itself (on_close follows with the same status).
 * Returns 0, or a negative libuv error (nothing allocated).
 */
int conn_connect(struct conn_group *g, const struct sockaddr *addr,
                 void (*on_connected)(void *data, struct conn *c, int status), void *data,
                 struct conn **out);
/*
 * Copies into buf up to cap bytes the peer has sent that nobody has read yet, leaving them
 * unread and without waiting for any (a look, for an answer that must not read). Returns how
 * many (0 when none had come or on error).
 */
size_t conn_peek(struct conn *c, uint8_t *buf, size_t cap);
/* Sets the callbacks and starts reading (once connected, for conn_connect). */
void conn_start(struct conn *c, const struct conn_events *ev);

/*
 * Sends n bytes (copied when they cannot go at once). Returns 0, or -1 when the conn is closing
 * or failed (the bytes are dropped; on_close will follow). Never refuses for size: callers
 * check conn_full() and stop producing.
 */
int conn_write(struct conn *c, const void *p, size_t n);
/* Starts gathering writes; conn_uncork sends them as one. Corks do not nest. */
void conn_cork(struct conn *c);
void conn_uncork(struct conn *c);
/* True between conn_cork and conn_uncork. */
bool conn_corked(const struct conn *c);
/*
 * Asks for on_sent(data of the callbacks, c) whenever the output queue becomes empty after it
 * held bytes (NULL stops it). A write that went out at once does not call it: check
 * conn_queued() after conn_write.
 */
void conn_on_sent(struct conn *c, void (*on_sent)(void *data, struct conn *c));
/* Output bytes accepted but not yet taken by the kernel (cork included). */
size_t conn_queued(const struct conn *c);
/* True when the queue is over the group's queue_max (stop producing until on_drain). */
bool conn_full(const struct conn *c);

/* Adds or removes a reason (a bit of the owner's choosing) to stop reading. */
void conn_hold(struct conn *c, unsigned reason);
void conn_unhold(struct conn *c, unsigned reason);

/* Idle timeout in ms (0 = none); counts from now. */
void conn_set_idle(struct conn *c, uint64_t ms);
/* Deadline ms from now (0 clears it). */
void conn_set_deadline(struct conn *c, uint64_t ms);

/*
 * Half-close: sends a FIN once the queued output is out; reading and on_read go on until the
 * peer closes too. Later writes are refused (-1). A later conn_close(FLUSH) closes once the FIN
 * is out. Idempotent.
 */
void conn_shutdown(struct conn *c);
/* True after conn_shutdown. */
bool conn_is_shut(const struct conn *c);

/* Starts closing (enum conn_close). Further calls only escalate (FLUSH -> NOW -> RESET). */
void conn_close(struct conn *c, int how);
bool conn_closing(const struct conn *c);

const struct endpoint *conn_peer(const struct conn *c);
const struct endpoint *conn_local(const struct conn *c);
uint64_t conn_bytes_in(const struct conn *c);
uint64_t conn_bytes_out(const struct conn *c);
/* Output accepted by conn_write that was discarded because the connection ended first. */
uint64_t conn_bytes_dropped(const struct conn *c);

/* Converts a socket address to an endpoint (family 0 when neither IPv4 nor IPv6). */
void conn_endpoint_from(struct endpoint *e, const struct sockaddr *sa);

#endif
