/*
 * capture owns the path from a captured frame to the store: it decodes (packet), rebuilds
 * fragments (ipfrag), reassembles connections (flowtable), decides which connections carry
 * HTTP and in which direction, and runs one conversation per HTTP connection whose exchanges it
 * adds to, touches in and completes in the store. It never reads files or sockets and never
 * prints: the caller brings frames and reads the store.
 */
#include "hspy/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/packet.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

enum flow_state {
    SNIFFING = 0, /* not yet known to be HTTP */
    HTTP,         /* a conversation runs */
};

/* What capture keeps per connection (struct flow's user pointer). */
struct capture_flow {
    struct capture *cap;
    struct conversation *conv;
    uint8_t state;     /* enum flow_state */
    int8_t client;     /* index in flow->ep of the client, once known */
    bool unaligned[2]; /* the stream's first bytes are not its beginning (gap, mid-stream) */
    bool midstream;    /* the conversation started without the connection's beginning */
    bool preamble;     /* the connection began with bytes that are not HTTP */
    uint32_t sniffed;  /* bytes examined while SNIFFING */
    /* Per side: the exchange (conn_seq) that last received bytes, and the one before it. */
    uint32_t seq[2], prev_seq[2];
    /* A differing retransmission of bytes whose exchange had ended, waiting for the next
     * exchange to begin on the connection (or for its end: a record of its own). The first is
     * described and the others while it waits are counted in its detail; the flow table counts
     * them all. */
    bool late;
    uint8_t late_side;  /* enum side */
    uint32_t late_more; /* further late differing retransmissions while the first waited */
    uint64_t late_off;  /* stream offset of the first differing byte */
};

void capture_config_defaults(struct capture_config *cfg)
{
    cfg->flows.flows = FLOWTABLE_FLOWS_DEFAULT;
    cfg->flows.idle_ns = FLOWTABLE_IDLE_DEFAULT;
    cfg->flows.stream.window = TCPSTREAM_WINDOW_DEFAULT;
    cfg->flows.stream.history = TCPSTREAM_HISTORY_DEFAULT;
    cfg->flows.stream.reorder = TCPSTREAM_REORDER_DEFAULT;
    cfg->flows.stream.reorder_ns = TCPSTREAM_REORDER_NS_DEFAULT;
    cfg->flows.budget = TCPSTREAM_BUDGET_DEFAULT;
    cfg->frags.datagrams = IPFRAG_DATAGRAMS_DEFAULT;
    cfg->frags.bytes = IPFRAG_BYTES_DEFAULT;
    cfg->frags.timeout_ns = IPFRAG_TIMEOUT_DEFAULT;
    cfg->sniff_max = CAPTURE_SNIFF_DEFAULT;
}

/* ---- conversation events into the store ---- */

/* The side whose bytes an event reports, or -1 (CONV_BEGIN: the side that began it). */
static int event_side(enum conv_event ev, enum side side)
{
    switch (ev) {
    case CONV_BEGIN:
    case CONV_TUNNEL_DATA: return (int)side;
    case CONV_REQ_HEAD:
    case CONV_REQ_BODY:
    case CONV_REQ_DONE: return SIDE_CLIENT;
    case CONV_RESP_INTERIM:
    case CONV_RESP_HEAD:
    case CONV_RESP_BODY:
    case CONV_RESP_DONE: return SIDE_SERVER;
    default: return -1;
    }
}

static void track_seq(struct capture_flow *cf, int side, uint32_t seq)
{
    if (side < 0 || cf->seq[side] == seq)
        return;
    cf->prev_seq[side] = cf->seq[side];
    cf->seq[side] = seq;
}

#define DIFFERS "a retransmission carried other bytes than the first copy (stream offset %llu)"
enum { CAPTURE_LATE_DETAIL_MAX = 256 };

/* The waiting late retransmit-differs' detail, the ones after the first counted; clears it. */
static const char *take_late(struct capture_flow *cf, char *out, size_t len)
{
    char more[64] = "";
    if (cf->late_more)
        snprintf(more, sizeof more, "; %u more %s so", cf->late_more,
                 plural(cf->late_more, "retransmission did", "retransmissions did"));
    snprintf(out, len,
             "a retransmission of bytes of an exchange that had already ended carried other "
             "bytes than the first copy (stream offset %llu)%s",
             (unsigned long long)cf->late_off, more);
    cf->late = false;
    cf->late_more = 0;
    return out;
}

/* Puts a waiting late retransmit-differs on ex (the next exchange of the connection). */
static void give_late(struct capture_flow *cf, struct exchange *ex)
{
    if (!cf->late)
        return;
    char detail[CAPTURE_LATE_DETAIL_MAX];
    exchange_warn(ex, W_RETRANSMIT_DIFFERS, (enum side)cf->late_side, 0, "%s",
                  take_late(cf, detail, sizeof detail));
}

static int on_conv_event(void *data, struct conversation *conv, struct exchange *ex,
                         enum conv_event ev, enum side side, const uint8_t *payload, size_t len)
{
    struct capture_flow *cf = data;
    struct capture *c = cf->cap;
    (void)payload, (void)len;
    if (ex)
        track_seq(cf, event_side(ev, side), ex->conn_seq);
    switch (ev) {
    case CONV_BEGIN:
        if (cf->midstream && conversation_count(conv) <= 1)
            exchange_warn(ex, W_MIDSTREAM, SIDE_CLIENT, 0,
                          "the capture starts inside this connection: earlier bytes are unknown");
        give_late(cf, ex);
        store_add(c->cfg.store, ex);
        break;
    case CONV_UNBLOCK: break; /* never emitted for captures: they are never paused */
    case CONV_END: store_complete(c->cfg.store, ex); break;
    case CONV_REQ_BODY:
    case CONV_RESP_BODY:
    case CONV_TUNNEL_DATA:
        /* Bytes flowing change nothing a printer shows; only a screen wants to see them. */
        if (c->cfg.interactive)
            store_touch(c->cfg.store, ex);
        break;
    default: store_touch(c->cfg.store, ex); break;
    }
    return CONV_CONTINUE;
}

/* ---- deciding what a connection is ---- */

static enum side side_of(const struct capture_flow *cf, int dir)
{
    return dir == cf->client ? SIDE_CLIENT : SIDE_SERVER;
}

static struct capture_flow *flow_state(struct capture *c, struct flow *f)
{
    if (!f->user) {
        struct capture_flow *cf = xcalloc(1, sizeof *cf);
        cf->cap = c;
        cf->client = -1;
        f->user = cf;
    }
    return f->user;
}

static void start_http(struct capture *c, struct flow *f, struct capture_flow *cf, int client)
{
    cf->client = (int8_t)client;
    cf->state = HTTP;
    struct conversation_config cc;
    memset(&cc, 0, sizeof cc);
    cc.limits = *c->cfg.limits;
    cc.exchange = *c->cfg.ex_limits;
    cc.pool = c->cfg.pool;
    cc.conn_id = ++*c->cfg.next_conn_id;
    cc.client = f->ep[client];
    cc.server = f->ep[1 - client];
    cc.capture = true;
    cc.tap = c->cfg.tap;
    cc.midstream = cf->unaligned[0] || cf->unaligned[1] || cf->preamble;
    cf->midstream = !f->dir[client].syn;
    struct conversation_events ev = {cf, on_conv_event};
    cf->conv = conversation_new(&cc, &ev);
    c->counters.connections++;
}

static void ignore(struct capture *c, struct flow *f)
{
    c->counters.ignored++;
    flowtable_ignore(&c->flows, f);
}

/*
 * Whether a request line starting at p is HTTP/1.x (or an HTTP/0.9 "GET /path"): other
 * protocols with HTTP-like request lines (SIP, RTSP) end theirs with another version. Returns 1,
 * 0, or -1 when the line is not complete within n bytes.
 */
static int request_line_ok(const uint8_t *p, size_t n)
{
    size_t lim = n < CAPTURE_LINE_MAX ? n : CAPTURE_LINE_MAX;
    const uint8_t *lf = memchr(p, '\n', lim);
    if (!lf)
        return n < CAPTURE_LINE_MAX ? -1 : 0;
    size_t len = (size_t)(lf - p);
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len >= 8 && memcmp(p + len - 8, "HTTP/1.", 7) == 0)
        return 1;
    /* HTTP/0.9: "GET" and a target, nothing else. */
    return len >= 5 && memcmp(p, "GET /", 5) == 0 && !memchr(p + 4, ' ', len - 4);
}

/* Whether bytes at p start a message of kind: 1 yes, 0 no, -1 cannot tell yet. */
static int starts_message(const uint8_t *p, size_t n, enum http_kind kind)
{
    int r = http_looks_like(p, n, kind);
    if (r != 1 || kind == HTTP_RESPONSE)
        return r;
    return request_line_ok(p, n);
}

/* Offset in p where an HTTP message of kind starts at a line start, or n. */
static size_t find_start(const uint8_t *p, size_t n, enum http_kind kind)
{
    size_t pos = 0;
    while (pos < n) {
        size_t keep;
        size_t at = pos + http_resync(p + pos, n - pos, kind, &keep);
        if (at >= n || starts_message(p + at, n - at, kind) != 0)
            return at;
        const uint8_t *lf = memchr(p + at, '\n', n - at);
        if (!lf)
            return n;
        pos = (size_t)(lf - p) + 1;
    }
    return n;
}

/*
 * Decides from content; returns the offset in p from which the conversation gets bytes, or n
 * when nothing was decided (yet).
 */
static size_t decide(struct capture *c, struct flow *f, struct capture_flow *cf, int dir,
                     const uint8_t *p, size_t n)
{
    cf->unaligned[dir] = cf->unaligned[dir] || !f->dir[dir].syn;
    if (f->client >= 0 && !cf->unaligned[dir] && !cf->sniffed) {
        enum http_kind kind = dir == f->client ? HTTP_REQUEST : HTTP_RESPONSE;
        if (starts_message(p, n, kind) != 0) {
            start_http(c, f, cf, f->client);
            return 0;
        }
        /* Not HTTP from the first byte: maybe after a preamble (SOCKS, PROXY protocol). */
        cf->preamble = true;
    }
    size_t req = find_start(p, n, HTTP_REQUEST);
    size_t resp = find_start(p, n, HTTP_RESPONSE);
    /* With a known client, only the start line matching each side's role counts. */
    if (f->client >= 0) {
        if (dir == f->client)
            resp = n;
        else
            req = n;
    }
    if (req < n && req <= resp) {
        start_http(c, f, cf, dir);
        return req;
    }
    if (resp < n) {
        start_http(c, f, cf, 1 - dir);
        return resp;
    }
    cf->unaligned[dir] = true;
    cf->sniffed += (uint32_t)(n < UINT32_MAX ? n : UINT32_MAX);
    if (cf->sniffed > c->cfg.sniff_max)
        ignore(c, f);
    return n;
}

/* ---- flowtable events ---- */

static void flow_data(void *data, struct flow *f, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    struct capture *c = data;
    struct capture_flow *cf = flow_state(c, f);
    if (cf->state == SNIFFING) {
        size_t from = decide(c, f, cf, dir, p, n);
        if (cf->state != HTTP)
            return;
        p += from;
        n -= from;
    }
    size_t done = 0;
    conversation_boundary(cf->conv, side_of(cf, dir));
    while (done < n)
        done += conversation_feed(cf->conv, side_of(cf, dir), p + done, n - done, ts);
}

/*
 * The snap length cut a packet of side's current message: said once per message, when it is
 * first flagged MSG_SNAPLEN (the size the packets were cut at is in the reader's note: a file
 * exported from the exchanges cuts them elsewhere, and the warning must read the same from it);
 * each gap it made is counted (capture-gap) by the conversation. The flag, not a warning of the
 * code, decides: the conversation's own snaplen-truncated warnings (a request lost, a doubtful
 * pairing) say something else.
 */
static void snaplen_cut(struct capture_flow *cf, enum side side)
{
    struct exchange *ex = conversation_current(cf->conv, side);
    if (ex && !(exchange_msg(ex, side)->flags & MSG_SNAPLEN))
        exchange_warn(ex, W_SNAPLEN_TRUNCATED, side, exchange_msg(ex, side)->wire_bytes,
                      "packets of this side were cut by the capture's snap length: the bytes "
                      "past it are missing");
    conversation_flag(cf->conv, side, EX_TRUNCATED, MSG_SNAPLEN);
}

static void flow_gap(void *data, struct flow *f, int dir, uint64_t n, bool snaplen, int64_t ts)
{
    struct capture *c = data;
    struct capture_flow *cf = flow_state(c, f);
    if (cf->state != HTTP) {
        cf->unaligned[dir] = true;
        return;
    }
    enum side side = side_of(cf, dir);
    if (snaplen)
        snaplen_cut(cf, side);
    conversation_gap(cf->conv, side, n, ts);
}

/*
 * A retransmission differs from the bytes first seen at stream offset off. The warning goes to
 * the exchange that held those bytes while it is in flight. An exchange that ended was handed
 * to the store and may already be printed or freed, so it is never changed afterwards: the
 * warning goes to the next exchange of the connection (in flight, or the next to begin), or,
 * when none comes before the connection ends, to a record of its own; the detail names the
 * stream offset.
 */
static void flow_differs(void *data, struct flow *f, int dir, uint64_t off, int64_t ts)
{
    struct capture *c = data;
    struct capture_flow *cf = flow_state(c, f);
    (void)ts;
    if (cf->state != HTTP)
        return;
    enum side side = side_of(cf, dir);
    struct exchange *ex = conversation_current(cf->conv, side);
    /* The differing byte lies behind the current position by (stream offset - off). */
    uint64_t back = f->dir[dir].offset - off;
    uint32_t holder = cf->seq[side];
    if (ex) {
        uint64_t pos = exchange_msg(ex, side)->wire_bytes;
        if (back <= pos) {
            exchange_warn(ex, W_RETRANSMIT_DIFFERS, side, pos - back, DIFFERS,
                          (unsigned long long)off);
            store_touch(c->cfg.store, ex);
            return;
        }
        /* The bytes belong to a message before the current one. */
        holder = ex->conn_seq == holder ? cf->prev_seq[side] : holder;
    }
    if (cf->late) {
        cf->late_more += cf->late_more < UINT32_MAX;
        return;
    }
    cf->late = true;
    cf->late_side = (uint8_t)side;
    cf->late_off = off;
    ex = conversation_inflight(cf->conv, holder);
    if (!ex)
        return; /* waits for the next exchange, or the connection's end */
    if (ex->conn_seq == holder) {
        /* Still in flight, its message on this side complete and the last one read there. */
        uint64_t pos = exchange_msg(ex, side)->wire_bytes;
        cf->late = false;
        exchange_warn(ex, W_RETRANSMIT_DIFFERS, side, back <= pos ? pos - back : 0, DIFFERS,
                      (unsigned long long)off);
    } else {
        give_late(cf, ex);
    }
    store_touch(c->cfg.store, ex);
}

static void flow_close(void *data, struct flow *f, int dir, int64_t ts)
{
    struct capture_flow *cf = f->user;
    (void)data;
    if (!cf || cf->state != HTTP)
        return;
    if (dir < 0) {
        conversation_close(cf->conv, SIDE_CLIENT, ts);
        conversation_close(cf->conv, SIDE_SERVER, ts);
    } else {
        conversation_close(cf->conv, side_of(cf, dir), ts);
    }
}

static void flow_end(void *data, struct flow *f, enum flow_end why, int64_t ts)
{
    struct capture_flow *cf = f->user;
    (void)data, (void)why, (void)ts;
    if (!cf)
        return;
    if (cf->late && cf->conv) {
        char detail[CAPTURE_LATE_DETAIL_MAX];
        conversation_record(cf->conv, (enum side)cf->late_side, W_RETRANSMIT_DIFFERS,
                            take_late(cf, detail, sizeof detail));
    }
    conversation_free(cf->conv);
    free(cf);
    f->user = NULL;
}

void capture_init(struct capture *c, const struct capture_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    ipfrag_init(&c->frags, &c->cfg.frags);
    struct flowtable_events ev = {c, flow_data, flow_gap, flow_differs, flow_close, flow_end};
    flowtable_init(&c->flows, &c->cfg.flows, &ev);
}

void capture_finish(struct capture *c, int64_t ts)
{
    flowtable_flush(&c->flows, ts);
}

void capture_cleanup(struct capture *c, int64_t ts)
{
    flowtable_cleanup(&c->flows, ts);
    ipfrag_cleanup(&c->frags);
}

static void tcp_segment(struct capture *c, const struct packet *p, size_t caplen, int64_t ts)
{
    c->counters.tcp++;
    if (p->payload_len < p->payload_wire) {
        struct capture_counters *k = &c->counters;
        k->snaplen++;
        k->snaplen_bytes += p->payload_wire - p->payload_len;
        if (k->snaplen == 1 || caplen < k->snaplen_min)
            k->snaplen_min = caplen;
        if (caplen > k->snaplen_max)
            k->snaplen_max = caplen;
    }
    flowtable_packet(&c->flows, p, ts);
}

void capture_packet(struct capture *c, const uint8_t *data, size_t caplen, size_t wirelen,
                    int64_t ts)
{
    struct packet p;
    c->counters.packets++;
    enum packet_result r = packet_decode(&p, c->cfg.linktype, data, caplen, wirelen);
    if (r == PACKET_FRAGMENT) {
        const uint8_t *dg;
        size_t dcap, dwire;
        if (p.proto != 6) {
            c->counters.other++;
            return;
        }
        if (!ipfrag_add(&c->frags, &p, ts, &dg, &dcap, &dwire))
            return;
        r = packet_decode_tcp(&p, dg, dcap, dwire);
    }
    switch (r) {
    case PACKET_TCP: tcp_segment(c, &p, caplen, ts); break;
    case PACKET_OTHER: c->counters.other++; break;
    default: c->counters.malformed++; break;
    }
}
