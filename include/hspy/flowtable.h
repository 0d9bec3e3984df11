/*
 * flowtable: the TCP connections of a capture, keyed by their 4-tuple.
 *
 * Each connection (struct flow) has two tcpstreams, one per sender, and a pointer for the
 * consumer's state. The table feeds every TCP segment to the right stream and reports the
 * reassembled bytes, gaps, differing retransmissions and closes through events. The client is
 * known from the handshake (the SYN's sender) when the capture has it; otherwise the consumer
 * decides from the content.
 *
 * A connection ends when both FINs were reached or on RST; its entry stays (so late ACKs do not
 * look like a new connection) until a SYN reuses the port pair, which starts a new connection,
 * or until the entry ages out. The table is bounded: at most limits.flows entries; a new one
 * evicts the least recently active (counted when it was still open), and an entry idle for
 * limits.idle_ns of capture time is ended. Pure: no I/O.
 */
#ifndef HSPY_FLOWTABLE_H
#define HSPY_FLOWTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/endpoint.h"
#include "hspy/packet.h"
#include "hspy/tcpstream.h"

#define FLOWTABLE_FLOWS_DEFAULT 16384u
#define FLOWTABLE_IDLE_DEFAULT  ((int64_t)600 * 1000000000) /* 10 minutes of capture time */

struct flowtable_limits {
    uint32_t flows;                 /* entries in the table */
    int64_t idle_ns;                /* capture time after which a silent entry ends (0 = never) */
    struct tcpstream_limits stream; /* per direction */
    size_t budget;                  /* out-of-order bytes over all streams */
};

/* Why a connection ended (on_end). */
enum flow_end {
    FLOW_END_CLOSED = 0, /* FIN both ways, or RST */
    FLOW_END_REUSED,     /* a new SYN reused the port pair */
    FLOW_END_EVICTED,    /* the table was full and this was the least recently active */
    FLOW_END_IDLE,       /* silent for limits.idle_ns */
    FLOW_END_FLUSH,      /* end of the capture */
};

struct flow {
    struct flow *hnext;         /* hash chain */
    struct flow *older, *newer; /* activity list */
    struct endpoint ep[2];      /* ep[0] sent the first packet seen */
    struct tcpstream dir[2];    /* dir[i]: bytes sent by ep[i] */
    uint32_t isn[2];            /* initial sequence numbers (valid when syn[i]) */
    uint32_t hash;
    int64_t first_ts, last_ts;
    uint64_t id;   /* 1-based, in order of creation */
    int8_t client; /* index of the client in ep when the handshake showed it, else -1 */
    bool syn[2];   /* ep[i]'s SYN was seen */
    bool ended;    /* on_end was called: later packets only keep the entry alive */
    bool ignore;   /* the consumer is not interested: no reassembly, only state */
    void *user;    /* the consumer's state; the table never touches it */
};

struct flowtable_events {
    void *data;
    /* n in-order bytes sent by f->ep[dir] (valid only during the call), captured at ts. */
    void (*on_data)(void *data, struct flow *f, int dir, const uint8_t *p, size_t n, int64_t ts);
    /* n bytes of dir's stream are missing from the capture (snaplen: cut by the snap length). */
    void (*on_gap)(void *data, struct flow *f, int dir, uint64_t n, bool snaplen, int64_t ts);
    /* A retransmission in dir differs from the bytes first seen at stream offset off. */
    void (*on_differs)(void *data, struct flow *f, int dir, uint64_t off, int64_t ts);
    /* dir's sender finished (FIN reached); dir is -1 for a reset of both directions. */
    void (*on_close)(void *data, struct flow *f, int dir, int64_t ts);
    /* The connection is over: release f->user. Called once per flow. */
    void (*on_end)(void *data, struct flow *f, enum flow_end why, int64_t ts);
};

struct flowtable_counters {
    uint64_t flows;     /* connections ever created */
    uint64_t midstream; /* of which began without a SYN in the capture */
    uint64_t reused;    /* ended because a SYN reused the port pair */
    uint64_t evicted;   /* open connections ended by the table cap */
    uint64_t idle;      /* open connections ended by the idle timeout */
    uint64_t gaps;      /* gaps reported */
    uint64_t gap_bytes; /* bytes in them */
    uint64_t differs;   /* differing retransmissions */
};

struct flowtable {
    struct flowtable_limits limits;
    struct flowtable_events ev;
    struct flow **buckets;
    uint32_t nbuckets; /* power of two */
    uint32_t count;
    struct flow *oldest, *newest;
    struct tcpstream_budget budget;
    uint64_t next_id;
    struct flowtable_counters counters;
};

/* limits may be NULL for the defaults; ev is copied. */
void flowtable_init(struct flowtable *t, const struct flowtable_limits *limits,
                    const struct flowtable_events *ev);
/* Ends every connection still open (FLOW_END_FLUSH, after flushing its streams) and frees. */
void flowtable_cleanup(struct flowtable *t, int64_t ts);

/* Feeds one decoded TCP segment captured at ts. Returns the flow it belongs to (or NULL when
 * it was dropped: a stray reset with no connection). */
struct flow *flowtable_packet(struct flowtable *t, const struct packet *p, int64_t ts);

/* The consumer is not interested in f: buffers are freed and its bytes no longer reassembled. */
void flowtable_ignore(struct flowtable *t, struct flow *f);

/* Ends every open connection as at the end of a capture (streams flushed, FLOW_END_FLUSH). */
void flowtable_flush(struct flowtable *t, int64_t ts);

#endif
