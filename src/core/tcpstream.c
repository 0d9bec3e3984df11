/*
 * tcpstream owns one direction's reassembly state: the next expected sequence number, the
 * out-of-order segments waiting for a hole to fill, and a short history of delivered bytes for
 * checking retransmissions. It never interprets the bytes and never does I/O; it delivers them
 * through the caller's events.
 *
 * Positions are 64-bit stream offsets; a sequence number is turned into one relative to
 * next_seq with 32-bit serial arithmetic (RFC 1982), which is what makes wrap-around work.
 */
#include "hspy/tcpstream.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

struct tcpstream_segment {
    struct tcpstream_segment *next;
    uint64_t off;  /* stream offset of the first byte */
    uint32_t wire; /* bytes the segment covers */
    uint32_t len;  /* bytes present (< wire when cut by the snap length) */
    int64_t ts;    /* when it was captured */
    uint8_t data[];
};

void tcpstream_init(struct tcpstream *s, const struct tcpstream_limits *limits)
{
    memset(s, 0, sizeof *s);
    if (limits) {
        s->limits = *limits;
    } else {
        s->limits.window = TCPSTREAM_WINDOW_DEFAULT;
        s->limits.history = TCPSTREAM_HISTORY_DEFAULT;
        s->limits.reorder = TCPSTREAM_REORDER_DEFAULT;
        s->limits.reorder_ns = TCPSTREAM_REORDER_NS_DEFAULT;
    }
}

static void seg_free(struct tcpstream *s, struct tcpstream_budget *b, struct tcpstream_segment *g)
{
    s->ooo_bytes -= g->len;
    b->held -= g->len;
    free(g);
}

void tcpstream_cleanup(struct tcpstream *s, struct tcpstream_budget *budget)
{
    while (s->ooo) {
        struct tcpstream_segment *g = s->ooo;
        s->ooo = g->next;
        seg_free(s, budget, g);
    }
    free(s->hist);
    s->hist = NULL;
}

void tcpstream_syn(struct tcpstream *s, uint32_t isn)
{
    if (s->started)
        return;
    s->started = true;
    s->syn = true;
    s->next_seq = isn + 1;
}

/* Stream offset of a sequence number (serial arithmetic around next_seq). */
static int64_t seq_offset(const struct tcpstream *s, uint32_t seq)
{
    return (int64_t)s->offset + (int32_t)(seq - s->next_seq);
}

static void advance(struct tcpstream *s, uint64_t n)
{
    s->offset += n;
    s->next_seq += (uint32_t)n;
}

/* Appends delivered bytes to the history ring. */
static void remember(struct tcpstream *s, const uint8_t *p, size_t n)
{
    uint32_t cap = s->limits.history;
    if (!cap)
        return;
    if (!s->hist)
        s->hist = xmalloc(cap);
    if (n > cap) {
        p += n - cap;
        n = cap;
    }
    size_t first = cap - s->hist_head < n ? cap - s->hist_head : n;
    memcpy(s->hist + s->hist_head, p, first);
    memcpy(s->hist, p + first, n - first);
    s->hist_head = (uint32_t)((s->hist_head + n) % cap);
    s->hist_len = s->hist_len + n > cap ? cap : (uint32_t)(s->hist_len + n);
}

/*
 * Compares bytes seen again at stream offset off (all before s->offset) with the history; reports
 * the first difference. Bytes older than the history cannot be checked.
 */
static void recheck(struct tcpstream *s, uint64_t off, const uint8_t *p, size_t n,
                    const struct tcpstream_events *ev, void *ctx)
{
    uint64_t oldest = s->offset - s->hist_len;
    if (off < oldest) {
        if (off + n <= oldest)
            return;
        p += oldest - off;
        n -= (size_t)(oldest - off);
        off = oldest;
    }
    uint32_t cap = s->limits.history;
    for (size_t i = 0; i < n; i++) {
        uint64_t back = s->offset - (off + i);
        uint32_t idx = (uint32_t)((s->hist_head + cap - back) % cap);
        if (s->hist[idx] != p[i]) {
            s->counters.differs++;
            if (ev->differs)
                ev->differs(ctx, off + i);
            return;
        }
    }
}

static void deliver(struct tcpstream *s, const uint8_t *p, uint32_t len, uint32_t wire, int64_t ts,
                    const struct tcpstream_events *ev, void *ctx)
{
    if (len) {
        ev->data(ctx, p, len, ts);
        remember(s, p, len);
        s->counters.bytes += len;
        advance(s, len);
    }
    if (wire > len) {
        s->counters.gaps++;
        s->counters.gap_bytes += wire - len;
        s->hist_len = 0;
        ev->gap(ctx, wire - len, true, ts);
        advance(s, wire - len);
    }
}

/* Reports the FIN once reached, at ts (when the bytes before it came) or when it was captured. */
static void check_fin(struct tcpstream *s, int64_t ts, const struct tcpstream_events *ev, void *ctx)
{
    if (s->fin_known && !s->finished && s->offset >= s->fin_off) {
        s->finished = true;
        if (ev->fin)
            ev->fin(ctx, s->fin_ts > ts ? s->fin_ts : ts);
    }
}

/* Delivers buffered segments that the next expected byte has reached, each at its own capture
 * time or at ts (when the hole in front of it closed), whichever is later. */
static void drain(struct tcpstream *s, struct tcpstream_budget *b, int64_t ts,
                  const struct tcpstream_events *ev, void *ctx)
{
    while (s->ooo && s->ooo->off <= s->offset) {
        struct tcpstream_segment *g = s->ooo;
        s->ooo = g->next;
        uint64_t end = g->off + g->wire;
        if (end > s->offset) {
            uint32_t skipped = (uint32_t)(s->offset - g->off);
            uint32_t have = skipped < g->len ? skipped : g->len;
            recheck(s, g->off, g->data, have, ev, ctx);
            deliver(s, g->data + have, g->len - have, g->wire - skipped, g->ts > ts ? g->ts : ts,
                    ev, ctx);
        } else {
            recheck(s, g->off, g->data, g->len, ev, ctx);
        }
        seg_free(s, b, g);
    }
    check_fin(s, ts, ev, ctx);
}

/*
 * Gives up the hole in front of the first buffered segment: it becomes a gap, dated like the
 * segment after it (the capture went on from there without the hole's bytes).
 */
static void skip_hole(struct tcpstream *s, struct tcpstream_budget *b,
                      const struct tcpstream_events *ev, void *ctx)
{
    if (!s->ooo)
        return;
    int64_t ts = s->ooo->ts;
    uint64_t n = s->ooo->off - s->offset;
    if (n) {
        s->counters.gaps++;
        s->counters.gap_bytes += n;
        s->hist_len = 0;
        ev->gap(ctx, n, false, ts);
        advance(s, n);
    }
    drain(s, b, ts, ev, ctx);
}

static struct tcpstream_segment *seg_new(struct tcpstream *s, struct tcpstream_budget *b,
                                         uint64_t off, const uint8_t *p, uint32_t len,
                                         uint32_t wire, int64_t ts)
{
    struct tcpstream_segment *g = xmalloc(sizeof *g + len);
    g->next = NULL;
    g->ts = ts;
    g->off = off;
    g->wire = wire;
    g->len = len;
    memcpy(g->data, p, len);
    s->ooo_bytes += len;
    b->held += len;
    return g;
}

/* Bytes of the new segment present in [from, to): a sub-slice of p (off .. off+len). */
static uint32_t present(uint64_t off, uint32_t len, uint64_t from, uint64_t to)
{
    uint64_t have_end = off + len;
    if (from >= have_end)
        return 0;
    return (uint32_t)((to < have_end ? to : have_end) - from);
}

/*
 * Buffers [off, off + wire) (len bytes present) around the segments already held: the parts
 * they cover are compared with them and dropped, the rest is inserted in order.
 */
static void buffer(struct tcpstream *s, struct tcpstream_budget *b, uint64_t off, const uint8_t *p,
                   uint32_t len, uint32_t wire, int64_t ts, const struct tcpstream_events *ev,
                   void *ctx)
{
    uint64_t cur = off, end = off + wire;
    struct tcpstream_segment **link = &s->ooo;
    s->counters.out_of_order++;
    while (cur < end) {
        struct tcpstream_segment *g = *link;
        if (g && g->off + g->wire <= cur) {
            link = &g->next;
            continue;
        }
        uint64_t stop = g && g->off < end ? g->off : end;
        if (stop > cur) {
            uint32_t n = present(off, len, cur, stop);
            struct tcpstream_segment *ng =
                seg_new(s, b, cur, p + (cur - off), n, (uint32_t)(stop - cur), ts);
            ng->next = g;
            *link = ng;
            link = &ng->next;
            cur = stop;
            continue;
        }
        /* g overlaps [cur, ...): compare the bytes both copies have. */
        uint64_t ov_end = g->off + g->wire < end ? g->off + g->wire : end;
        uint32_t mine = present(off, len, cur, ov_end);
        uint32_t theirs = present(g->off, g->len, cur, ov_end);
        uint32_t n = mine < theirs ? mine : theirs;
        s->counters.retransmits++;
        if (n && memcmp(p + (cur - off), g->data + (cur - g->off), n) != 0) {
            s->counters.differs++;
            if (ev->differs)
                ev->differs(ctx, cur);
        }
        cur = ov_end;
        link = &g->next;
    }
}

static void enforce_caps(struct tcpstream *s, struct tcpstream_budget *b,
                         const struct tcpstream_events *ev, void *ctx)
{
    while (s->ooo && (s->ooo_bytes > s->limits.window || b->held > b->max)) {
        b->forced++;
        skip_hole(s, b, ev, ctx);
    }
}

/* Payload at stream offset off, known to start at or after s->offset. */
static void accept(struct tcpstream *s, struct tcpstream_budget *b, uint64_t off, const uint8_t *p,
                   uint32_t len, uint32_t wire, int64_t ts, const struct tcpstream_events *ev,
                   void *ctx)
{
    if (off == s->offset) {
        deliver(s, p, len, wire, ts, ev, ctx);
        drain(s, b, ts, ev, ctx);
        return;
    }
    buffer(s, b, off, p, len, wire, ts, ev, ctx);
    enforce_caps(s, b, ev, ctx);
}

/*
 * Gives up the holes the receiver acknowledged once the capture went on without them for the
 * reorder allowance: limits.reorder bytes buffered past the hole, or limits.reorder_ns of
 * capture time since an acknowledged hole was first seen. Until then the acknowledgement may
 * simply have been captured before the data it acknowledges.
 */
static void settle(struct tcpstream *s, struct tcpstream_budget *b, int64_t ts,
                   const struct tcpstream_events *ev, void *ctx)
{
    while (s->ooo && s->acked >= s->ooo->off) {
        if (!s->hole_acked) {
            s->hole_acked = true;
            s->hole_acked_ts = ts;
        }
        if (s->ooo_bytes < s->limits.reorder && ts - s->hole_acked_ts < s->limits.reorder_ns)
            return;
        skip_hole(s, b, ev, ctx);
    }
    s->hole_acked = false;
}

void tcpstream_segment(struct tcpstream *s, struct tcpstream_budget *budget, uint32_t seq,
                       const uint8_t *p, uint32_t caplen, uint32_t wirelen, bool fin, int64_t ts,
                       const struct tcpstream_events *ev, void *ctx)
{
    if (caplen > wirelen)
        wirelen = caplen;
    if (!s->started) {
        if (!wirelen && !fin)
            return;
        s->started = true;
        s->next_seq = seq;
    }
    if (s->finished)
        return;
    int64_t off = seq_offset(s, seq);
    if (fin && !s->fin_known && off + (int64_t)wirelen >= (int64_t)s->offset) {
        s->fin_known = true;
        s->fin_off = (uint64_t)(off + wirelen);
        s->fin_ts = ts;
    }
    if (wirelen) {
        if (off + (int64_t)wirelen <= (int64_t)s->offset) {
            /* Entirely old: a retransmission of delivered bytes (or of bytes from before a
             * mid-stream start, which cannot be checked). */
            s->counters.retransmits++;
            if (off >= 0)
                recheck(s, (uint64_t)off, p, caplen, ev, ctx);
        } else {
            if (off < (int64_t)s->offset) {
                uint32_t old = (uint32_t)((int64_t)s->offset - off);
                uint32_t have = old < caplen ? old : caplen;
                s->counters.retransmits++;
                if (off >= 0)
                    recheck(s, (uint64_t)off, p, have, ev, ctx);
                p += have;
                caplen -= have;
                wirelen -= old;
                off = (int64_t)s->offset;
            }
            accept(s, budget, (uint64_t)off, p, caplen, wirelen, ts, ev, ctx);
        }
    }
    settle(s, budget, ts, ev, ctx);
    check_fin(s, ts, ev, ctx);
}

void tcpstream_ack(struct tcpstream *s, struct tcpstream_budget *budget, uint32_t ack, int64_t ts,
                   const struct tcpstream_events *ev, void *ctx)
{
    if (!s->started)
        return;
    int64_t off = seq_offset(s, ack);
    if (off > (int64_t)s->acked)
        s->acked = (uint64_t)off;
    settle(s, budget, ts, ev, ctx);
}

/* Bytes the receiver acknowledged, or that lie before a FIN, but never appeared: a gap. */
static void final_gap(struct tcpstream *s, int64_t ts, const struct tcpstream_events *ev, void *ctx)
{
    /* The FIN takes a sequence number of its own: an acknowledgement of it is not a byte. */
    uint64_t end = s->fin_known ? s->fin_off : s->acked;
    if (s->finished || end <= s->offset || end - s->offset > TCPSTREAM_FINAL_GAP_MAX)
        return;
    uint64_t n = end - s->offset;
    s->counters.gaps++;
    s->counters.gap_bytes += n;
    s->hist_len = 0;
    ev->gap(ctx, n, false, ts);
    advance(s, n);
}

void tcpstream_flush(struct tcpstream *s, struct tcpstream_budget *budget, int64_t ts,
                     const struct tcpstream_events *ev, void *ctx)
{
    while (s->ooo)
        skip_hole(s, budget, ev, ctx);
    if (s->started)
        final_gap(s, ts, ev, ctx);
    check_fin(s, ts, ev, ctx);
}
