/*
 * tcpstream: one direction of a captured TCP connection turned back into the byte stream the
 * sender wrote.
 *
 * Sequence numbers start at the handshake (SYN: initial sequence number + 1) or, when the
 * capture began mid-connection, at the first segment seen. Segments ahead of the next expected
 * byte wait in an out-of-order buffer and are delivered in order; bytes seen twice
 * (retransmissions, overlaps) are delivered once, the first copy winning, and a second copy that
 * differs from the first is reported. Bytes the capture never had become a gap of known length:
 * when the receiver acknowledged past them (so no retransmission will come) and the capture
 * went on without them for limits.reorder bytes or limits.reorder_ns of capture time, when the
 * buffer reaches its cap, or at the end. An acknowledgement alone is not enough: captures often
 * hold a receiver's ACK before the data it acknowledges (segmentation offload, capture on
 * several queues), and that data still arrives. Bytes cut by the snap length are a gap flagged
 * as such.
 * Sequence numbers wrap around; the stream counts in 64-bit offsets internally. FIN ends the
 * stream once every byte before it was delivered.
 *
 * Memory is bounded: each direction buffers at most limits.window bytes, and all streams
 * sharing a struct tcpstream_budget together at most budget.max; past either cap the oldest hole
 * is given up as a gap. Pure: no I/O.
 */
#ifndef HSPY_TCPSTREAM_H
#define HSPY_TCPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCPSTREAM_WINDOW_DEFAULT  ((uint32_t)1 << 20) /* out-of-order bytes per direction */
#define TCPSTREAM_HISTORY_DEFAULT 1024u               /* delivered bytes kept for comparison */
#define TCPSTREAM_BUDGET_DEFAULT  ((size_t)16 << 20)  /* out-of-order bytes over all streams */
/* How long a hole the receiver acknowledged may stay open before it is a gap: this many bytes
 * buffered past it, or this much capture time since the acknowledgement. Reordered captures
 * fill such a hole within a few segments and microseconds; a capture that dropped the bytes
 * runs on without them. */
#define TCPSTREAM_REORDER_DEFAULT    ((uint32_t)256 << 10)
#define TCPSTREAM_REORDER_NS_DEFAULT ((int64_t)500 * 1000000) /* 0.5 s */
/* A final gap (bytes acknowledged or before a FIN but never seen) larger than this is not
 * believed: such an acknowledgement belongs to something else (a reused port pair). */
#define TCPSTREAM_FINAL_GAP_MAX ((uint64_t)1 << 30)

struct tcpstream_limits {
    uint32_t window;  /* out-of-order bytes held for one direction */
    uint32_t history; /* last delivered bytes remembered to check retransmissions (0 = off) */
    /* An acknowledged hole becomes a gap once reorder bytes are buffered past it or reorder_ns
     * of capture time went by since it was acknowledged (0 and 0: at once). */
    uint32_t reorder;
    int64_t reorder_ns;
};

/* Shared by every stream of a capture: the total out-of-order bytes held, and its cap. */
struct tcpstream_budget {
    size_t held;
    size_t max;
    uint64_t forced; /* holes given up because a cap was reached */
};

/*
 * Where a stream's output goes. ctx is the caller's, passed back unchanged. ts is the capture
 * time of what is delivered: when its segment was captured, or when the hole in front of it was
 * filled if that is later. A hole given up is dated like the bytes after it; a final gap at the
 * end like the flush.
 */
struct tcpstream_events {
    /* n in-order bytes (a slice valid only during the call). */
    void (*data)(void *ctx, const uint8_t *p, size_t n, int64_t ts);
    /* n bytes the capture does not have; snaplen says they were cut by the snap length. */
    void (*gap)(void *ctx, uint64_t n, bool snaplen, int64_t ts);
    /* A second copy of already seen bytes differs from the first, at this stream offset. */
    void (*differs)(void *ctx, uint64_t offset);
    /* The sender's FIN was reached: no more bytes. */
    void (*fin)(void *ctx, int64_t ts);
};

struct tcpstream_counters {
    uint64_t bytes;        /* payload bytes delivered */
    uint64_t gaps;         /* gaps reported */
    uint64_t gap_bytes;    /* bytes in them */
    uint64_t retransmits;  /* segments (or parts) seen before */
    uint64_t differs;      /* of which differed */
    uint64_t out_of_order; /* segments buffered ahead of the next expected byte */
};

struct tcpstream_segment;

struct tcpstream {
    struct tcpstream_limits limits;
    uint32_t next_seq; /* sequence number of the next byte to deliver */
    uint64_t offset;   /* stream offset of next_seq (bytes delivered plus gaps) */
    uint64_t fin_off;  /* stream offset of the FIN (valid when fin_known) */
    uint64_t acked;    /* highest stream offset the receiver acknowledged */
    bool started;      /* next_seq is meaningful */
    bool syn;          /* started at a SYN (not mid-stream) */
    bool fin_known;    /* a FIN was seen (maybe ahead of missing bytes) */
    bool finished;     /* the FIN was reached */
    bool hole_acked;   /* the first hole is acknowledged (since hole_acked_ts) */
    int64_t hole_acked_ts;
    int64_t fin_ts;                /* when the FIN was captured (valid when fin_known) */
    struct tcpstream_segment *ooo; /* out-of-order segments by offset, not overlapping */
    uint32_t ooo_bytes;
    uint8_t *hist; /* ring of the last delivered bytes (allocated at first delivery) */
    uint32_t hist_len, hist_head;
    struct tcpstream_counters counters;
};

/* limits may be NULL for the defaults. */
void tcpstream_init(struct tcpstream *s, const struct tcpstream_limits *limits);
/* Frees the buffers; the budget is given back. */
void tcpstream_cleanup(struct tcpstream *s, struct tcpstream_budget *budget);

/*
 * The sender's SYN with sequence number isn: the stream starts at isn + 1. A SYN after the
 * stream started is ignored (the caller decides whether it means a new connection).
 */
void tcpstream_syn(struct tcpstream *s, uint32_t isn);

/*
 * One segment from the sender, captured at ts (ns, any monotonic capture clock): sequence number
 * seq, caplen payload bytes present at p out of wirelen carried (wirelen > caplen when cut by
 * the snap length), fin when it carries a FIN. Delivers whatever became in order through ev
 * (ctx passed back), and gives up an acknowledged hole whose reorder allowance ran out.
 */
void tcpstream_segment(struct tcpstream *s, struct tcpstream_budget *budget, uint32_t seq,
                       const uint8_t *p, uint32_t caplen, uint32_t wirelen, bool fin, int64_t ts,
                       const struct tcpstream_events *ev, void *ctx);

/*
 * The receiver acknowledged everything before ack, captured at ts: bytes the capture is missing
 * below it will never be retransmitted. A hole in front of buffered data there becomes a gap
 * once the reorder allowance (limits.reorder, limits.reorder_ns) runs out, not at once: the
 * acknowledged bytes may still appear later in the capture.
 */
void tcpstream_ack(struct tcpstream *s, struct tcpstream_budget *budget, uint32_t ack, int64_t ts,
                   const struct tcpstream_events *ev, void *ctx);

/*
 * End of the capture or of the connection, at ts: delivers everything buffered, holes as gaps,
 * and reports as a last gap the bytes the receiver acknowledged (or that came before the FIN)
 * but the capture never had.
 */
void tcpstream_flush(struct tcpstream *s, struct tcpstream_budget *budget, int64_t ts,
                     const struct tcpstream_events *ev, void *ctx);

#endif
