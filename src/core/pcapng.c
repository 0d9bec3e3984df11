/*
 * pcapng owns the synthesis of TCP/IP packets from exchanges and their framing as pcapng
 * blocks (section header, interface description, enhanced packets): addresses, sequence and
 * acknowledgement numbers, handshakes, FINs, checksums and timestamps. It appends bytes to the
 * caller's buffer and never writes files; the connection table is its only state.
 */
#include "hspy/pcapng.h"

#include <string.h>

#include "hspy/side.h"
#include "hspy/xmalloc.h"

enum {
    BLOCK_SHB = 0x0A0D0D0A,
    BLOCK_IDB = 1,
    BLOCK_EPB = 6,
    BYTE_ORDER_MAGIC = 0x1A2B3C4D,
    OPT_END = 0,
    OPT_SHB_USERAPPL = 4,
    OPT_IF_NAME = 2,
    OPT_IF_TSRESOL = 9,
    TCP_WINDOW = 65535,
    IP_TTL = 64,
    PACKET_MAX = 40 + 20 + PCAPNG_MSS, /* IPv6 header, TCP header, payload */
};

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10 };

/* ---- block framing (host byte order, as the byte-order magic tells readers) ------------- */

static void put32(struct dynbuf *out, uint32_t v)
{
    dynbuf_append(out, &v, 4);
}

static void put16(struct dynbuf *out, uint16_t v)
{
    dynbuf_append(out, &v, 2);
}

static void pad32(struct dynbuf *out, size_t n)
{
    static const uint8_t zero[4];
    dynbuf_append(out, zero, (4 - n % 4) % 4);
}

/* An option: code, length, value padded to 32 bits. */
static void option(struct dynbuf *out, uint16_t code, const void *v, uint16_t n)
{
    put16(out, code);
    put16(out, n);
    dynbuf_append(out, v, n);
    pad32(out, n);
}

/* Writes the block's total length at both ends once its body is complete. */
static void close_block(struct dynbuf *out, size_t start)
{
    uint32_t total = (uint32_t)(out->len - start + 4);
    put32(out, total);
    if (out->len == start + total)
        memcpy(out->data + start + 4, &total, 4);
}

/* Rolls out back to before when it overflowed; returns 0 or -1. */
static int settle(struct dynbuf *out, size_t before, size_t want)
{
    if (out->len - before == want && out->len < out->max)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}

int pcapng_header(struct dynbuf *out, const char *application)
{
    size_t before = out->len;
    size_t start = out->len;
    put32(out, BLOCK_SHB);
    put32(out, 0); /* total length, filled in by close_block */
    put32(out, BYTE_ORDER_MAGIC);
    put16(out, 1); /* version 1.0 */
    put16(out, 0);
    put32(out, 0xFFFFFFFF); /* section length unknown: the file grows as exchanges complete */
    put32(out, 0xFFFFFFFF);
    size_t n = strlen(application);
    option(out, OPT_SHB_USERAPPL, application, (uint16_t)(n > 256 ? 256 : n));
    option(out, OPT_END, NULL, 0);
    close_block(out, start);
    size_t shb = out->len - before;

    start = out->len;
    put32(out, BLOCK_IDB);
    put32(out, 0);
    put16(out, PCAPNG_LINKTYPE);
    put16(out, 0);
    put32(out, 0); /* no snap length: every byte hspy kept is written */
    option(out, OPT_IF_NAME, "hspy", 4);
    uint8_t resol = 9; /* timestamps in nanoseconds */
    option(out, OPT_IF_TSRESOL, &resol, 1);
    option(out, OPT_END, NULL, 0);
    close_block(out, start);
    return settle(out, before, shb + (out->len - start));
}

/* ---- packets ------------------------------------------------------------------------------ */

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The IP header for a TCP segment of tcp_len bytes; returns its length. */
static size_t ip_header(struct pcapng *p, uint8_t *h, const struct endpoint *src,
                        const struct endpoint *dst, size_t tcp_len)
{
    if (src->family == 6) {
        memset(h, 0, 40);
        h[0] = 0x60;
        be16(h + 4, (uint16_t)tcp_len);
        h[6] = 6; /* TCP */
        h[7] = IP_TTL;
        memcpy(h + 8, src->addr, 16);
        memcpy(h + 24, dst->addr, 16);
        return 40;
    }
    memset(h, 0, 20);
    h[0] = 0x45;
    be16(h + 2, (uint16_t)(20 + tcp_len));
    be16(h + 4, p->ip_id++);
    be16(h + 6, 0x4000); /* don't fragment */
    h[8] = IP_TTL;
    h[9] = 6;
    memcpy(h + 12, src->addr, 4);
    memcpy(h + 16, dst->addr, 4);
    be16(h + 10, fold(sum_bytes(0, h, 20)));
    return 20;
}

static uint16_t tcp_checksum(const struct endpoint *src, const struct endpoint *dst,
                             const uint8_t *tcp, size_t n)
{
    size_t alen = src->family == 6 ? 16 : 4;
    uint32_t sum = sum_bytes(0, src->addr, alen);
    sum = sum_bytes(sum, dst->addr, alen);
    sum += 6 + (uint32_t)n;
    return fold(sum_bytes(sum, tcp, n));
}

/*
 * Appends one enhanced packet block: side s of c sends flags and a payload of wire bytes at ts,
 * of which the first n are at payload (n < wire: a packet cut short, as a snap length cuts).
 */
static void packet(struct pcapng *p, struct dynbuf *out, struct pcapng_conn *c, enum side s,
                   uint8_t flags, const uint8_t *payload, size_t n, size_t wire, int64_t ts)
{
    uint8_t pkt[PACKET_MAX];
    const struct endpoint *src = &c->ep[s], *dst = &c->ep[SIDE_OTHER(s)];
    size_t ip = ip_header(p, pkt, src, dst, 20 + wire);
    uint8_t *t = pkt + ip;
    memset(t, 0, 20);
    be16(t, src->port);
    be16(t + 2, dst->port);
    be32(t + 4, c->seq[s]);
    be32(t + 8, (flags & F_ACK) ? c->seq[SIDE_OTHER(s)] : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    be16(t + 14, TCP_WINDOW);
    if (n)
        memcpy(t + 20, payload, n);
    /* A cut packet's checksum cannot be computed: 0, as checksum offloading leaves it. */
    if (n == wire)
        be16(t + 16, tcp_checksum(src, dst, t, 20 + n));
    size_t len = ip + 20 + n;

    size_t start = out->len;
    uint64_t when = ts > 0 ? (uint64_t)ts : 0;
    put32(out, BLOCK_EPB);
    put32(out, 0);
    put32(out, 0); /* interface 0 */
    put32(out, (uint32_t)(when >> 32));
    put32(out, (uint32_t)when);
    put32(out, (uint32_t)len);
    put32(out, (uint32_t)(ip + 20 + wire));
    dynbuf_append(out, pkt, len);
    pad32(out, len);
    close_block(out, start);

    c->seq[s] += (uint32_t)wire + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
    if (ts > c->last_ts)
        c->last_ts = ts;
    p->counters.packets++;
}

static void segment(struct pcapng *p, struct dynbuf *out, struct pcapng_conn *c, enum side s,
                    uint8_t flags, const uint8_t *payload, size_t n, int64_t ts)
{
    packet(p, out, c, s, flags, payload, n, n, ts);
}

/* ---- connections -------------------------------------------------------------------------- */

/* A deterministic initial sequence number, so the same session gives the same file. */
static uint32_t isn(uint64_t conn_id, enum side s)
{
    uint64_t x = conn_id * 0x9E3779B97F4A7C15ull + (s == SIDE_SERVER ? 0x632BE59BD9B4E019ull : 1);
    x ^= x >> 31;
    return (uint32_t)(x * 0xBF58476D1CE4E5B9ull >> 32);
}

/* Opens c; a connection a capture picked up mid-stream gets no handshake, so it reads as one. */
static void handshake(struct pcapng *p, struct dynbuf *out, struct pcapng_conn *c, int64_t ts,
                      bool syn)
{
    c->seq[SIDE_CLIENT] = isn(c->conn_id, SIDE_CLIENT);
    c->seq[SIDE_SERVER] = isn(c->conn_id, SIDE_SERVER);
    p->counters.connections++;
    if (!syn)
        return;
    segment(p, out, c, SIDE_CLIENT, F_SYN, NULL, 0, ts);
    segment(p, out, c, SIDE_SERVER, F_SYN | F_ACK, NULL, 0, ts);
    segment(p, out, c, SIDE_CLIENT, F_ACK, NULL, 0, ts);
}

static void fin(struct pcapng *p, struct dynbuf *out, struct pcapng_conn *c, int64_t ts)
{
    if (ts < c->last_ts)
        ts = c->last_ts;
    segment(p, out, c, SIDE_CLIENT, F_FIN | F_ACK, NULL, 0, ts);
    segment(p, out, c, SIDE_SERVER, F_FIN | F_ACK, NULL, 0, ts);
    segment(p, out, c, SIDE_CLIENT, F_ACK, NULL, 0, ts);
    c->conn_id = 0;
}

/* The Host header's port (80 when it names none) and, when it is an IP literal, the address. */
static uint16_t host_port(const struct exchange *ex, struct endpoint *literal)
{
    char text[300], host[256];
    uint16_t port = 80;
    char err[128];
    if (message_header_str(&ex->req, "host", text, sizeof text) &&
        hostport_split(text, host, sizeof host, &port, 80, err, sizeof err) == 0) {
        endpoint_set(literal, host, port);
        return port;
    }
    return 80;
}

static void synthesize(const struct exchange *ex, struct endpoint ep[2])
{
    ep[SIDE_CLIENT] = ex->client;
    ep[SIDE_SERVER] = ex->server;
    if (!ep[SIDE_SERVER].family) {
        struct endpoint literal = {0};
        uint16_t port = host_port(ex, &literal);
        bool v6 = literal.family ? literal.family == 6 : ep[SIDE_CLIENT].family == 6;
        if (literal.family && (!ep[SIDE_CLIENT].family || ep[SIDE_CLIENT].family == literal.family))
            ep[SIDE_SERVER] = literal;
        else
            endpoint_set(&ep[SIDE_SERVER], v6 ? "::1" : "127.0.0.1", port);
    }
    if (!ep[SIDE_CLIENT].family)
        endpoint_set(&ep[SIDE_CLIENT], ep[SIDE_SERVER].family == 6 ? "::2" : "127.0.0.2",
                     (uint16_t)(49152 + ex->conn_id % 16384));
}

void pcapng_init(struct pcapng *p, size_t max_conns)
{
    memset(p, 0, sizeof *p);
    p->nconns = max_conns ? max_conns : PCAPNG_CONNS_DEFAULT;
    p->conns = xcalloc(p->nconns, sizeof *p->conns);
}

void pcapng_cleanup(struct pcapng *p)
{
    free(p->conns);
    memset(p, 0, sizeof *p);
}

/* ---- exchanges ---------------------------------------------------------------------------- */

struct sender {
    struct pcapng *p;
    struct dynbuf *out;
    struct pcapng_conn *c;
    int64_t floor; /* packets of one exchange never go back in time */
};

/*
 * When the segment [off, end) of m was seen: the message's first byte at its first time, its
 * last segment at its last time, others in between by offset (packets of one exchange never go
 * back in time).
 */
static int64_t time_at(struct sender *x, const struct message *m, uint64_t off, uint64_t end)
{
    int64_t ts = m->t_first;
    if (off > 0 && end >= m->wire_bytes && m->t_last)
        ts = m->t_last;
    else if (m->t_first && m->t_last > m->t_first && m->wire_bytes)
        ts += (int64_t)((double)(m->t_last - m->t_first) * (double)off / (double)m->wire_bytes);
    if (ts < x->floor)
        ts = x->floor;
    x->floor = ts;
    return ts;
}

/*
 * Kept bytes: segments of at most PCAPNG_MSS, PSH on the last. The head and the body go in
 * separate segments when they were seen at different times (servers mostly write them apart),
 * so both times survive a reading of the file.
 */
static void send_bytes(struct sender *x, enum side s, const struct message *m, const uint8_t *b,
                       size_t n, uint64_t off)
{
    bool split = m->t_last > m->t_first && m->body_off > off && m->body_off < off + n;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < PCAPNG_MSS ? n - i : PCAPNG_MSS;
        if (split && off + i < m->body_off && off + i + k > m->body_off)
            k = (size_t)(m->body_off - off - i);
        uint8_t flags = F_ACK | (i + k == n ? F_PSH : 0);
        segment(x->p, x->out, x->c, s, flags, b + i, k, time_at(x, m, off + i, off + i + k));
        i += k;
    }
}

/* Bytes a capture missed: the sequence numbers move on without a segment. */
static void send_hole(struct sender *x, enum side s, uint64_t n)
{
    x->c->seq[s] += (uint32_t)n;
    x->p->counters.missing += n;
}

/*
 * Bytes counted but not kept (a cap, a snap length): packets cut to their headers, as large as
 * IP allows, so that a reader sees few cuts (a snap length cut each packet once). The work is
 * bounded by the output's room, not by n: once out is full the exchange fails anyway
 * (pcapng_exchange returns -1), however many bytes a record claims were counted.
 */
static void send_cut(struct sender *x, enum side s, const struct message *m, uint64_t n,
                     uint64_t off)
{
    for (uint64_t i = 0; i < n && x->out->len < x->out->max;) {
        size_t k = n - i < PCAPNG_CUT_MAX ? (size_t)(n - i) : PCAPNG_CUT_MAX;
        packet(x->p, x->out, x->c, s, F_ACK, NULL, 0, k, time_at(x, m, off + i, off + i + k));
        i += k;
    }
    x->p->counters.missing += n;
}

enum piece { KEPT, GAP, CUT };

/*
 * Side offsets [from, to) of piece [at, at + n): kept bytes at b, a gap or a cut. The gaps of a
 * message whose packets a snap length cut are where those packets were: they are cut again.
 */
static void send_piece(struct sender *x, enum side s, const struct message *m, enum piece kind,
                       const uint8_t *b, uint64_t at, uint64_t n, uint64_t from, uint64_t to)
{
    uint64_t lo = at > from ? at : from, hi = at + n < to ? at + n : to;
    if (lo >= hi)
        return;
    if (kind == KEPT)
        send_bytes(x, s, m, b + (lo - at), (size_t)(hi - lo), lo);
    else if (kind == GAP && !(m->flags & MSG_SNAPLEN))
        send_hole(x, s, hi - lo);
    else
        send_cut(x, s, m, hi - lo, lo);
}

/*
 * A snap length cut a packet where a kept piece meets a gap: the piece's last bytes and the gap
 * go out as one cut packet again, which is how every reader saw the original. Returns false
 * when this piece is not such a case (it is then sent as bytes and a gap).
 */
static bool cut_packet(struct sender *x, enum side s, const struct message *m, uint64_t raw,
                       uint64_t side, uint64_t kept, struct message_gap gap, uint64_t from,
                       uint64_t to)
{
    if (!(m->flags & MSG_SNAPLEN) || kept == 0 || gap.off != side + kept || side < from ||
        gap.off + gap.len > to || gap.len > PCAPNG_CUT_MAX)
        return false;
    size_t last = kept % PCAPNG_MSS ? (size_t)(kept % PCAPNG_MSS) : PCAPNG_MSS;
    send_bytes(x, s, m, m->raw.data + raw, (size_t)(kept - last), side);
    packet(x->p, x->out, x->c, s, F_ACK | F_PSH, m->raw.data + raw + kept - last, last,
           last + (size_t)gap.len, time_at(x, m, gap.off - last, gap.off + gap.len));
    x->p->counters.missing += gap.len;
    return true;
}

/*
 * Sends side offsets [from, to) of m. Offsets count every byte the side sent; raw lacks the
 * bytes of capture gaps (listed at their offsets: holes in the stream) and, when truncated,
 * everything past its cap (packets cut short, as a snap length cuts them).
 * Returns the side offset where m's bytes end.
 */
static uint64_t send_range(struct sender *x, enum side s, const struct message *m, uint64_t from,
                           uint64_t to)
{
    uint64_t side = 0, raw = 0;
    uint16_t ngaps = m->gaps ? (m->ngaps < MESSAGE_GAPS_MAX ? m->ngaps : MESSAGE_GAPS_MAX) : 0;
    for (uint16_t i = 0; i <= ngaps; i++) {
        uint64_t until = i < ngaps && m->gaps[i].off > side ? m->gaps[i].off : side;
        if (i == ngaps)
            until = UINT64_MAX;
        uint64_t kept = m->raw.len - raw < until - side ? m->raw.len - raw : until - side;
        if (i < ngaps && cut_packet(x, s, m, raw, side, kept, m->gaps[i], from, to)) {
            side = m->gaps[i].off + m->gaps[i].len, raw += kept;
            continue;
        }
        if (kept)
            send_piece(x, s, m, KEPT, m->raw.data + raw, side, kept, from, to);
        side += kept, raw += kept;
        if (i < ngaps) {
            uint64_t end = m->gaps[i].off + m->gaps[i].len;
            if (end > side) {
                send_piece(x, s, m, GAP, NULL, side, end - side, from, to);
                side = end;
            }
        }
    }
    if (m->wire_bytes > side) {
        send_piece(x, s, m, CUT, NULL, side, m->wire_bytes - side, from, to);
        side = m->wire_bytes;
    }
    return side;
}

/* The side offset (every byte the side sent) of raw offset off of m: gaps before it count. */
static uint64_t side_offset(const struct message *m, uint64_t off)
{
    uint16_t ngaps = m->gaps ? (m->ngaps < MESSAGE_GAPS_MAX ? m->ngaps : MESSAGE_GAPS_MAX) : 0;
    for (uint16_t i = 0; i < ngaps && m->gaps[i].off <= off; i++)
        off += m->gaps[i].len;
    return off;
}

/*
 * Where each side's first part ends, in side offsets (a head the snap length cut has its gap
 * before its body). A tunnel's or an Expect: 100-continue's bytes went back and forth: the
 * request head, then the interim or switching response, then the rest; reading them in another
 * order would change what the exchange is. Otherwise request, then response.
 */
static void split_points(const struct exchange *ex, uint64_t *req, uint64_t *resp)
{
    *req = UINT64_MAX;
    *resp = 0;
    if (ex->flags & EX_TUNNEL) {
        *req = side_offset(&ex->req, ex->req.body_off);
        *resp = side_offset(&ex->resp, ex->resp.body_off);
    } else if (ex->resp.ninterim && (ex->req.flags & MSG_HEAD)) {
        *req = side_offset(&ex->req, ex->req.body_off);
        *resp = side_offset(&ex->resp, ex->resp.head_off);
    }
}

static struct pcapng_conn *connection(struct pcapng *p, struct dynbuf *out,
                                      const struct exchange *ex, struct pcapng_conn *scratch,
                                      int64_t ts)
{
    struct pcapng_conn *c = ex->conn_id ? &p->conns[ex->conn_id % p->nconns] : scratch;
    if (c->conn_id == ex->conn_id && ex->conn_id)
        return c;
    if (c->conn_id) {
        fin(p, out, c, ts);
        p->counters.evicted++;
    }
    memset(c, 0, sizeof *c);
    c->conn_id = ex->conn_id;
    synthesize(ex, c->ep);
    handshake(p, out, c, ts, !exchange_has_warning(ex, W_MIDSTREAM));
    return c;
}

static int64_t first_time(const struct exchange *ex)
{
    int64_t t0 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] && (!t0 || ex->t[i] < t0))
            t0 = ex->t[i];
    if (ex->req.t_first && (!t0 || ex->req.t_first < t0))
        t0 = ex->req.t_first;
    if (ex->resp.t_first && (!t0 || ex->resp.t_first < t0))
        t0 = ex->resp.t_first;
    return t0;
}

int pcapng_exchange(struct pcapng *p, struct dynbuf *out, const struct exchange *ex)
{
    size_t start = out->len;
    struct pcapng_conn scratch = {0};
    int64_t t0 = first_time(ex);
    struct pcapng_conn *c = connection(p, out, ex, &scratch, t0);
    /* What the connection needed (a handshake, FINs of the one it replaced) stays when the
     * exchange's own packets do not fit; a block cut by the maximum does not. */
    size_t before = out->len < out->max ? out->len : start;
    struct sender x = {p, out, c, t0 ? t0 : c->last_ts};
    uint64_t req_split, resp_split;
    split_points(ex, &req_split, &resp_split);
    send_range(&x, SIDE_CLIENT, &ex->req, 0, req_split);
    send_range(&x, SIDE_SERVER, &ex->resp, 0, resp_split);
    send_range(&x, SIDE_CLIENT, &ex->req, req_split, UINT64_MAX);
    send_range(&x, SIDE_SERVER, &ex->resp, resp_split, UINT64_MAX);
    if (!ex->conn_id)
        fin(p, out, c, x.floor);
    if (out->len < out->max)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}

int pcapng_finish(struct pcapng *p, struct dynbuf *out, int64_t ts)
{
    size_t before = out->len;
    for (size_t i = 0; i < p->nconns; i++)
        if (p->conns[i].conn_id)
            fin(p, out, &p->conns[i], ts);
    if (out->len < out->max)
        return 0;
    out->len = before;
    if (out->data)
        out->data[before] = '\0';
    return -1;
}
