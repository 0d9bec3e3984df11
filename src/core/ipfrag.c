/*
 * ipfrag owns the datagrams being rebuilt from IP fragments and the caps that bound them. It
 * never decodes headers (packet does) and never does I/O. A datagram's bytes live in one buffer
 * sized to the furthest fragment seen; an 8-byte-block bitmap says which bytes arrived, so
 * overlapping and duplicated fragments are neither double counted nor allowed to complete a
 * datagram early. The first copy of a byte wins.
 */
#include "hspy/ipfrag.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

enum { BLOCKS = (IPFRAG_DATAGRAM_MAX + 7) / 8 };

struct ipfrag_datagram {
    struct ipfrag_datagram *next;
    struct endpoint src, dst; /* ports unused */
    uint8_t proto;
    uint32_t id;
    int64_t first_ts;
    uint32_t total;  /* payload length, known once the last fragment came (else 0) */
    uint32_t cut_at; /* first byte lost to the snap length (UINT32_MAX when none) */
    uint8_t *buf;
    uint32_t cap;
    uint8_t seen[BLOCKS / 8 + 1];
};

void ipfrag_init(struct ipfrag *f, const struct ipfrag_limits *limits)
{
    memset(f, 0, sizeof *f);
    if (limits) {
        f->limits = *limits;
    } else {
        f->limits.datagrams = IPFRAG_DATAGRAMS_DEFAULT;
        f->limits.bytes = IPFRAG_BYTES_DEFAULT;
        f->limits.timeout_ns = IPFRAG_TIMEOUT_DEFAULT;
    }
}

static void datagram_free(struct ipfrag *f, struct ipfrag_datagram *d)
{
    f->bytes -= d->cap;
    f->count--;
    free(d->buf);
    free(d);
}

void ipfrag_cleanup(struct ipfrag *f)
{
    while (f->list) {
        struct ipfrag_datagram *d = f->list;
        f->list = d->next;
        datagram_free(f, d);
    }
    free(f->out);
    f->out = NULL;
}

/* Removes d from the list (prev is its predecessor or NULL) and frees it. */
static void unlink_free(struct ipfrag *f, struct ipfrag_datagram *prev, struct ipfrag_datagram *d)
{
    if (prev)
        prev->next = d->next;
    else
        f->list = d->next;
    datagram_free(f, d);
}

/* Drops the oldest datagram (the list is in arrival order). */
static void drop_oldest(struct ipfrag *f)
{
    if (f->list) {
        unlink_free(f, NULL, f->list);
        f->counters.dropped++;
    }
}

static void expire(struct ipfrag *f, int64_t ts)
{
    while (f->list && ts - f->list->first_ts > f->limits.timeout_ns) {
        unlink_free(f, NULL, f->list);
        f->counters.expired++;
    }
}

static bool same(const struct ipfrag_datagram *d, const struct packet *p)
{
    size_t alen = p->src.family == 4 ? 4 : 16;
    return d->id == p->frag_id && d->proto == p->proto && d->src.family == p->src.family &&
           memcmp(d->src.addr, p->src.addr, alen) == 0 &&
           memcmp(d->dst.addr, p->dst.addr, alen) == 0;
}

static struct ipfrag_datagram *find_or_add(struct ipfrag *f, const struct packet *p, int64_t ts)
{
    struct ipfrag_datagram *last = NULL;
    for (struct ipfrag_datagram *d = f->list; d; d = d->next) {
        if (same(d, p))
            return d;
        last = d;
    }
    if (f->count >= f->limits.datagrams) {
        drop_oldest(f);
        last = NULL;
        for (struct ipfrag_datagram *d = f->list; d; d = d->next)
            last = d;
    }
    struct ipfrag_datagram *d = xcalloc(1, sizeof *d);
    d->src = p->src;
    d->dst = p->dst;
    d->src.port = d->dst.port = 0;
    d->proto = p->proto;
    d->id = p->frag_id;
    d->first_ts = ts;
    d->cut_at = UINT32_MAX;
    if (last)
        last->next = d;
    else
        f->list = d;
    f->count++;
    return d;
}

/* Grows d's buffer to hold end bytes; false when the byte cap forbids it. */
static bool reserve(struct ipfrag *f, struct ipfrag_datagram *d, uint32_t end)
{
    if (end <= d->cap)
        return true;
    uint32_t cap = d->cap ? d->cap : 2048;
    while (cap < end)
        cap *= 2;
    if (cap > IPFRAG_DATAGRAM_MAX)
        cap = IPFRAG_DATAGRAM_MAX;
    while (f->bytes + (cap - d->cap) > f->limits.bytes && f->list && f->list != d)
        drop_oldest(f);
    if (f->bytes + (cap - d->cap) > f->limits.bytes)
        return false;
    d->buf = xrealloc(d->buf, cap);
    memset(d->buf + d->cap, 0, cap - d->cap);
    f->bytes += cap - d->cap;
    d->cap = cap;
    return true;
}

static bool block_seen(const struct ipfrag_datagram *d, uint32_t b)
{
    return d->seen[b / 8] & (1u << (b % 8));
}

/* Copies the fragment's bytes into blocks not yet seen (the first copy wins). */
static void store(struct ipfrag *f, struct ipfrag_datagram *d, const struct packet *p)
{
    uint32_t first = p->frag_off / 8, end = p->frag_off + p->frag_wire;
    uint32_t last = (end + 7) / 8;
    bool overlap = false;
    for (uint32_t b = first; b < last; b++) {
        if (block_seen(d, b)) {
            overlap = true;
            continue;
        }
        d->seen[b / 8] |= (uint8_t)(1u << (b % 8));
        uint32_t from = b * 8, to = from + 8 < end ? from + 8 : end;
        uint32_t have_end = p->frag_off + p->frag_len;
        if (from < have_end)
            memcpy(d->buf + from, p->frag + (from - p->frag_off),
                   (to < have_end ? to : have_end) - from);
    }
    if (overlap)
        f->counters.overlaps++;
    if (p->frag_len < p->frag_wire && p->frag_off + p->frag_len < d->cut_at)
        d->cut_at = p->frag_off + p->frag_len;
}

static bool complete(const struct ipfrag_datagram *d)
{
    if (!d->total)
        return false;
    for (uint32_t b = 0; b < (d->total + 7) / 8; b++)
        if (!block_seen(d, b))
            return false;
    return true;
}

int ipfrag_add(struct ipfrag *f, const struct packet *p, int64_t ts, const uint8_t **data,
               size_t *caplen, size_t *wirelen)
{
    f->counters.fragments++;
    expire(f, ts);
    uint64_t end = (uint64_t)p->frag_off + p->frag_wire;
    /* Only the last fragment may have a length that is not a multiple of 8. */
    if (end > IPFRAG_DATAGRAM_MAX || (p->frag_more && (p->frag_wire % 8) != 0)) {
        f->counters.dropped++;
        return 0;
    }
    struct ipfrag_datagram *d = find_or_add(f, p, ts);
    if (!reserve(f, d, (uint32_t)end)) {
        f->counters.dropped++;
        struct ipfrag_datagram *prev = NULL;
        for (struct ipfrag_datagram *x = f->list; x != d; x = x->next)
            prev = x;
        unlink_free(f, prev, d);
        return 0;
    }
    store(f, d, p);
    if (!p->frag_more)
        d->total = (uint32_t)end;
    if (!complete(d))
        return 0;
    if (!f->out)
        f->out = xmalloc(IPFRAG_DATAGRAM_MAX);
    memcpy(f->out, d->buf, d->total);
    *data = f->out;
    *wirelen = d->total;
    *caplen = d->cut_at < d->total ? d->cut_at : d->total;
    f->counters.reassembled++;
    struct ipfrag_datagram *prev = NULL;
    for (struct ipfrag_datagram *x = f->list; x != d; x = x->next)
        prev = x;
    unlink_free(f, prev, d);
    return 1;
}
