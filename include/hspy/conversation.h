/*
 * conversation: one connection's HTTP/1.x traffic turned into exchanges.
 *
 * It takes client->server and server->client bytes in whatever pieces and order they arrive
 * (live sockets, reassembled captures) and emits exchanges. Requests are queued so pipelined
 * responses pair with their requests in order (response framing depends on the request method);
 * a response that starts before its request body is complete pairs with that request; 1xx
 * responses are kept as interim responses of the same exchange; CONNECT 2xx and 101 turn the
 * connection into a tunnel whose bytes are counted, not parsed. End of stream with a partial
 * message yields a partial exchange flagged EX_INCOMPLETE, never silence.
 *
 * Exchanges are handed out through events. CONV_BEGIN passes ownership of a new exchange to the
 * callee (which normally stores it); the conversation keeps writing into it until CONV_END and
 * never touches it afterwards. The conversation does no I/O.
 */
#ifndef HSPY_CONVERSATION_H
#define HSPY_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/bodytap.h"
#include "hspy/endpoint.h"
#include "hspy/exchange.h"
#include "hspy/framing.h"
#include "hspy/http.h"
#include "hspy/side.h"

enum conv_event {
    CONV_BEGIN,        /* new exchange (first byte of a request, or an orphan response) */
    CONV_REQ_HEAD,     /* request head parsed (framing known) */
    CONV_REQ_BODY,     /* request payload bytes (de-chunked): data, len */
    CONV_REQ_DONE,     /* request complete */
    CONV_RESP_INTERIM, /* a 1xx response head parsed */
    CONV_RESP_HEAD,    /* final response head parsed */
    CONV_RESP_BODY,    /* response payload bytes (de-chunked): data, len */
    CONV_RESP_DONE,    /* response complete */
    CONV_TUNNEL,       /* the connection became a tunnel (after this exchange's response) */
    CONV_TUNNEL_DATA,  /* tunnel bytes: side given by the event's side, data, len */
    CONV_UPDATE,       /* something else visible changed (bytes counted, warning added) */
    CONV_END,          /* the conversation is done with the exchange: ownership fully released */
    CONV_UNBLOCK,      /* ex is NULL: call conversation_feed for side again soon (with n = 0 if
                          there is nothing new), from outside the callback: it holds bytes it can
                          now process, or it returned short earlier and has room again */
};

enum conv_reaction {
    CONV_CONTINUE = 0,
    CONV_PAUSE = 1, /* stop consuming after this event; conversation_feed returns early */
};

struct conversation;

struct conversation_events {
    void *data;
    /*
     * Called for every event. data/len carry payload for *_BODY and TUNNEL_DATA (a slice of the
     * bytes being fed, valid only during the call), else NULL/0. The return value is an
     * enum conv_reaction; pausing is honoured for REQ_HEAD, RESP_HEAD, REQ_DONE and RESP_DONE.
     */
    int (*on_event)(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *payload, size_t len);
};

struct conversation_config {
    struct http_limits limits;
    struct exchange_limits exchange;
    uint64_t conn_id;
    struct endpoint client, server;
    bool hash_bodies; /* compute sha256 of each payload (listen mode) */
    bool capture;     /* bytes come from a capture: resynchronise after gaps and garbage
                         instead of stopping; never return short from conversation_feed */
    bool midstream;   /* capture without the connection's start: both sides first look for a
                         message boundary */
    bool one_side;    /* only one side's bytes will ever come (lint): an exchange ends with its
                         request instead of waiting for a response */
    struct exchange_pool *pool; /* where new exchanges come from; NULL: allocated afresh */
    const struct bodytap *tap;  /* every body as it streams (--save-bodies), or NULL */
};

/* Named limits of one conversation. */
enum {
    CONVERSATION_INFLIGHT_MAX = 256,   /* exchanges in flight (pipelining depth) */
    CONVERSATION_SMALL_HEADERS = 24,   /* fields parsed without an allocation; more cost a
                                          second parse of that head */
    CONVERSATION_PENDING_MAX = 65536,  /* client bytes held while a switch (CONNECT, Upgrade)
                                          is pending */
    CONVERSATION_LINE_MAX = 8192,      /* capture: bytes at a segment's start examined for a
                                          request line (see conversation_boundary) */
    CONVERSATION_REQUEST_MIN = 18,     /* capture: the shortest request ("GET / HTTP/1.0" and
                                          two CRLFs): fewer bytes cut cannot have held one */
    CONVERSATION_GAP_DETAIL_MAX = 384, /* capture: room for the detail of a message's one
                                          capture-gap warning, rewritten as its gaps add up */
};

struct conversation *conversation_new(const struct conversation_config *cfg,
                                      const struct conversation_events *events);
/*
 * Ends every exchange still in flight (as EX_INCOMPLETE unless complete) with CONV_END, then
 * frees the conversation. NULL is a no-op.
 */
void conversation_free(struct conversation *c);

/*
 * Feeds n bytes sent by side at time ts (ns since the epoch). Returns bytes consumed: n, or
 * fewer when an event asked to pause, or (live use only) when CONVERSATION_INFLIGHT_MAX
 * exchanges are in flight or CONVERSATION_PENDING_MAX bytes wait for a protocol switch. The
 * caller keeps the rest and feeds it later: after a pause whenever it wants (with n = 0 when it
 * has nothing new: the conversation may hold bytes of its own), after a full queue when
 * CONV_UNBLOCK is emitted for that side. Never feed from inside an event callback.
 * Never fails: malformed traffic becomes warnings and flags.
 */
size_t conversation_feed(struct conversation *c, enum side side, const uint8_t *p, size_t n,
                         int64_t ts);
/*
 * The connection is closing while n client bytes that were received have not been fed (they
 * waited behind a response after which the connection closes; side must be SIDE_CLIENT). They are
 * read as if fed, so that nothing received goes unrecorded: bytes that continue the message in
 * progress go to it, and every exchange they begin gets why (copied) as its error and as the detail
 * of a bytes-after-message warning, waits for no response and ends, incomplete, as soon as its
 * request does (a request cut short ends at conversation_close). Events are emitted as by
 * conversation_feed, pauses are not honoured, and nothing is fed once the connection is a
 * tunnel (its bytes count only as relayed). Call before conversation_close for the side; never
 * from an event callback.
 */
void conversation_feed_leftover(struct conversation *c, enum side side, const uint8_t *p, size_t n,
                                int64_t ts, const char *why);
/*
 * A capture lost n bytes of side here. A message gets one capture-gap warning, at its first gap,
 * whose detail later gaps of the message rewrite (the bytes missing in all, how many gaps or
 * packets, the first one's size). A snap length's gap (conversation_flag with MSG_SNAPLEN just
 * before) on the client side that leaves room for whole requests past the request in progress
 * may have held pipelined requests: a response that then finds no request waiting is paired with
 * a request recorded as lost (MSG_LOST, warning snaplen-truncated) instead of none.
 */
void conversation_gap(struct conversation *c, enum side side, uint64_t n, int64_t ts);
/*
 * Capture: the next bytes of side begin a TCP segment. After a snap length cut a head (or a
 * chunked body), the body's length is unknown (BODY_UNKNOWN) and runs until the next message
 * of the side starts at the start of a segment (or a gap): only there can its start have been
 * captured. Bytes there that cannot tell yet are held (at most CONVERSATION_LINE_MAX) until
 * they can, or until the segment ends (the next boundary, gap or close).
 */
void conversation_boundary(struct conversation *c, enum side side);
/* The side closed its direction (FIN, EOF) or the connection was reset (both sides). */
void conversation_close(struct conversation *c, enum side side, int64_t ts);
/* Flags the exchange currently receiving bytes on side (e.g. EX_TRUNCATED and MSG_SNAPLEN for
 * packets a capture cut short). MSG_SNAPLEN also says that the side's next conversation_gap is
 * the snap length's, even when no exchange receives the side's bytes. */
void conversation_flag(struct conversation *c, enum side side, uint32_t exchange_flags,
                       uint32_t message_flags);

/* True when the connection has become a tunnel. */
bool conversation_is_tunnel(const struct conversation *c);
/* True when the side's framing says no more messages can follow (Connection: close, errors). */
bool conversation_side_closed(const struct conversation *c, enum side side);
/* True when no exchange is in flight (safe point for an idle timeout to close). */
bool conversation_idle(const struct conversation *c);
/* The exchange currently receiving bytes on side, or NULL. */
struct exchange *conversation_current(const struct conversation *c, enum side side);
/* The exchange in flight (begun, not yet ended) with the lowest number (conn_seq) at least seq,
 * or NULL. Valid until its CONV_END. */
struct exchange *conversation_inflight(const struct conversation *c, uint32_t seq);
/*
 * Capture only: an exchange of its own that carries one warning (code, side, detail copied)
 * about bytes whose exchanges have all ended, such as a differing retransmission after the
 * connection's last message. It has no request when side is the server, no response when it is
 * the client; CONV_BEGIN and CONV_END are emitted before this returns. Never from an event
 * callback.
 */
void conversation_record(struct conversation *c, enum side side, enum warning_code code,
                         const char *detail);
/* Framing decided for the current message on side (valid after its HEAD event). */
const struct framing *conversation_framing(const struct conversation *c, enum side side);
/* Exchanges this conversation produced so far. */
uint32_t conversation_count(const struct conversation *c);

#endif
