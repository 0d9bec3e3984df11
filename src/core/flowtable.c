/*
 * flowtable owns the connection entries of a capture: a hash table of struct flow chained per
 * bucket, plus a list ordered by last activity that makes both eviction of the least recently
 * active entry and the idle timeout O(1) per packet. It routes segments to the per-direction
 * tcpstreams and translates their events into flowtable events. It never looks at payload
 * content (the consumer decides what is HTTP) and never does I/O.
 */
#include "hspy/flowtable.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

/* What a stream event needs to reach the table's events. */
struct stream_ctx {
    struct flowtable *t;
    struct flow *f;
    int dir;
    int64_t ts;
};

static void s_data(void *ctx, const uint8_t *p, size_t n, int64_t ts)
{
    struct stream_ctx *c = ctx;
    c->t->ev.on_data(c->t->ev.data, c->f, c->dir, p, n, ts);
}

static void s_gap(void *ctx, uint64_t n, bool snaplen, int64_t ts)
{
    struct stream_ctx *c = ctx;
    c->t->counters.gaps++;
    c->t->counters.gap_bytes += n;
    if (c->t->ev.on_gap)
        c->t->ev.on_gap(c->t->ev.data, c->f, c->dir, n, snaplen, ts);
}

static void s_differs(void *ctx, uint64_t off)
{
    struct stream_ctx *c = ctx;
    c->t->counters.differs++;
    if (c->t->ev.on_differs)
        c->t->ev.on_differs(c->t->ev.data, c->f, c->dir, off, c->ts);
}

static void s_fin(void *ctx, int64_t ts)
{
    struct stream_ctx *c = ctx;
    if (c->t->ev.on_close)
        c->t->ev.on_close(c->t->ev.data, c->f, c->dir, ts);
}

static const struct tcpstream_events STREAM_EVENTS = {s_data, s_gap, s_differs, s_fin};

void flowtable_init(struct flowtable *t, const struct flowtable_limits *limits,
                    const struct flowtable_events *ev)
{
    memset(t, 0, sizeof *t);
    if (limits) {
        t->limits = *limits;
    } else {
        t->limits.flows = FLOWTABLE_FLOWS_DEFAULT;
        t->limits.idle_ns = FLOWTABLE_IDLE_DEFAULT;
        t->limits.stream.window = TCPSTREAM_WINDOW_DEFAULT;
        t->limits.stream.history = TCPSTREAM_HISTORY_DEFAULT;
        t->limits.stream.reorder = TCPSTREAM_REORDER_DEFAULT;
        t->limits.stream.reorder_ns = TCPSTREAM_REORDER_NS_DEFAULT;
        t->limits.budget = TCPSTREAM_BUDGET_DEFAULT;
    }
    if (t->limits.flows == 0)
        t->limits.flows = 1;
    t->ev = *ev;
    t->budget.max = t->limits.budget;
    t->nbuckets = 64;
    while (t->nbuckets < t->limits.flows && t->nbuckets < (1u << 24))
        t->nbuckets *= 2;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
}

static uint32_t ep_hash(const struct endpoint *e)
{
    /* FNV-1a over the address and port; summed per endpoint so both directions agree. */
    uint32_t h = 2166136261u;
    size_t n = e->family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        h = (h ^ e->addr[i]) * 16777619u;
    h = (h ^ (e->port & 0xff)) * 16777619u;
    h = (h ^ (e->port >> 8)) * 16777619u;
    return h;
}

static uint32_t flow_hash(const struct endpoint *a, const struct endpoint *b)
{
    uint32_t h = ep_hash(a) + ep_hash(b);
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

static bool ep_same(const struct endpoint *a, const struct endpoint *b)
{
    return a->port == b->port && a->family == b->family &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* Finds the flow of a segment from src to dst; *dir receives the sender's index. */
static struct flow *lookup(const struct flowtable *t, uint32_t h, const struct endpoint *src,
                           const struct endpoint *dst, int *dir)
{
    for (struct flow *f = t->buckets[h & (t->nbuckets - 1)]; f; f = f->hnext) {
        if (f->hash != h)
            continue;
        if (ep_same(&f->ep[0], src) && ep_same(&f->ep[1], dst)) {
            *dir = 0;
            return f;
        }
        if (ep_same(&f->ep[1], src) && ep_same(&f->ep[0], dst)) {
            *dir = 1;
            return f;
        }
    }
    return NULL;
}

static void list_unlink(struct flowtable *t, struct flow *f)
{
    if (f->older)
        f->older->newer = f->newer;
    else
        t->oldest = f->newer;
    if (f->newer)
        f->newer->older = f->older;
    else
        t->newest = f->older;
    f->older = f->newer = NULL;
}

static void list_push(struct flowtable *t, struct flow *f)
{
    f->older = t->newest;
    f->newer = NULL;
    if (t->newest)
        t->newest->newer = f;
    else
        t->oldest = f;
    t->newest = f;
}

static void flush_streams(struct flowtable *t, struct flow *f, int64_t ts)
{
    if (f->ignore)
        return;
    for (int d = 0; d < 2; d++) {
        struct stream_ctx c = {t, f, d, ts};
        tcpstream_flush(&f->dir[d], &t->budget, ts, &STREAM_EVENTS, &c);
    }
}

/* Ends the connection once: streams flushed, consumer told, buffers freed. */
static void end(struct flowtable *t, struct flow *f, enum flow_end why, int64_t ts)
{
    if (f->ended)
        return;
    flush_streams(t, f, ts);
    f->ended = true;
    if (t->ev.on_end)
        t->ev.on_end(t->ev.data, f, why, ts);
    f->user = NULL;
    for (int d = 0; d < 2; d++) {
        tcpstream_cleanup(&f->dir[d], &t->budget);
        tcpstream_init(&f->dir[d], &t->limits.stream);
    }
}

static void destroy(struct flowtable *t, struct flow *f, enum flow_end why, int64_t ts)
{
    end(t, f, why, ts);
    struct flow **link = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*link != f)
        link = &(*link)->hnext;
    *link = f->hnext;
    list_unlink(t, f);
    t->count--;
    free(f);
}

static struct flow *create(struct flowtable *t, uint32_t h, const struct packet *p, int64_t ts)
{
    if (t->count >= t->limits.flows) {
        struct flow *victim = t->oldest;
        if (!victim->ended)
            t->counters.evicted++;
        destroy(t, victim, FLOW_END_EVICTED, ts);
    }
    struct flow *f = xcalloc(1, sizeof *f);
    f->ep[0] = p->src;
    f->ep[1] = p->dst;
    f->hash = h;
    f->first_ts = f->last_ts = ts;
    f->id = ++t->next_id;
    f->client = -1;
    tcpstream_init(&f->dir[0], &t->limits.stream);
    tcpstream_init(&f->dir[1], &t->limits.stream);
    struct flow **bucket = &t->buckets[h & (t->nbuckets - 1)];
    f->hnext = *bucket;
    *bucket = f;
    list_push(t, f);
    t->count++;
    t->counters.flows++;
    if (!(p->flags & TCP_SYN))
        t->counters.midstream++;
    return f;
}

/* Ends entries silent for longer than the idle timeout (the oldest are at the front). */
static void expire(struct flowtable *t, int64_t ts)
{
    if (!t->limits.idle_ns)
        return;
    while (t->oldest && ts - t->oldest->last_ts > t->limits.idle_ns) {
        if (!t->oldest->ended)
            t->counters.idle++;
        destroy(t, t->oldest, FLOW_END_IDLE, ts);
    }
}

/*
 * A SYN on a known port pair is a new connection when the old one ended, or when its initial
 * sequence number differs from the one already seen (or bytes already flowed without one).
 */
static bool syn_starts_new(const struct flow *f, int dir, const struct packet *p)
{
    if (f->ended)
        return true;
    if (f->syn[dir])
        return f->isn[dir] != p->seq;
    return f->dir[dir].started && f->dir[dir].offset > 0;
}

static void handle_syn(struct flow *f, int dir, const struct packet *p)
{
    if (f->syn[dir])
        return;
    f->syn[dir] = true;
    f->isn[dir] = p->seq;
    if (f->client < 0)
        f->client = (int8_t)((p->flags & TCP_ACK) ? 1 - dir : dir);
    tcpstream_syn(&f->dir[dir], p->seq);
}

static void handle_rst(struct flowtable *t, struct flow *f, int64_t ts)
{
    flush_streams(t, f, ts);
    if (t->ev.on_close && !f->ignore)
        t->ev.on_close(t->ev.data, f, -1, ts);
    end(t, f, FLOW_END_CLOSED, ts);
}

static void handle_segment(struct flowtable *t, struct flow *f, int dir, const struct packet *p,
                           int64_t ts)
{
    if (p->flags & TCP_ACK) {
        struct stream_ctx c = {t, f, 1 - dir, ts};
        tcpstream_ack(&f->dir[1 - dir], &t->budget, p->ack, ts, &STREAM_EVENTS, &c);
    }
    if (f->ended || f->ignore)
        return;
    uint32_t seq = p->seq + ((p->flags & TCP_SYN) ? 1 : 0);
    struct stream_ctx c = {t, f, dir, ts};
    tcpstream_segment(&f->dir[dir], &t->budget, seq, p->payload, p->payload_len, p->payload_wire,
                      p->flags & TCP_FIN, ts, &STREAM_EVENTS, &c);
    if (!f->ended && f->dir[0].finished && f->dir[1].finished)
        end(t, f, FLOW_END_CLOSED, ts);
}

struct flow *flowtable_packet(struct flowtable *t, const struct packet *p, int64_t ts)
{
    expire(t, ts);
    uint32_t h = flow_hash(&p->src, &p->dst);
    int dir = 0;
    struct flow *f = lookup(t, h, &p->src, &p->dst, &dir);
    if (f && (p->flags & TCP_SYN) && syn_starts_new(f, dir, p)) {
        if (!f->ended)
            t->counters.reused++;
        destroy(t, f, FLOW_END_REUSED, ts);
        f = NULL;
    }
    if (!f) {
        if ((p->flags & TCP_RST) && !p->payload_wire)
            return NULL;
        f = create(t, h, p, ts);
        dir = 0;
    }
    f->last_ts = ts;
    list_unlink(t, f);
    list_push(t, f);
    if (f->ended)
        return f;
    if (p->flags & TCP_SYN)
        handle_syn(f, dir, p);
    handle_segment(t, f, dir, p, ts);
    if ((p->flags & TCP_RST) && !f->ended)
        handle_rst(t, f, ts);
    return f;
}

void flowtable_ignore(struct flowtable *t, struct flow *f)
{
    if (f->ignore)
        return;
    f->ignore = true;
    for (int d = 0; d < 2; d++) {
        tcpstream_cleanup(&f->dir[d], &t->budget);
        bool started = f->dir[d].started;
        uint32_t next = f->dir[d].next_seq;
        tcpstream_init(&f->dir[d], &t->limits.stream);
        f->dir[d].started = started;
        f->dir[d].next_seq = next;
    }
}

void flowtable_flush(struct flowtable *t, int64_t ts)
{
    for (struct flow *f = t->oldest; f; f = f->newer)
        end(t, f, FLOW_END_FLUSH, ts);
}

void flowtable_cleanup(struct flowtable *t, int64_t ts)
{
    flowtable_flush(t, ts);
    while (t->oldest)
        destroy(t, t->oldest, FLOW_END_FLUSH, ts);
    free(t->buckets);
    t->buckets = NULL;
}
