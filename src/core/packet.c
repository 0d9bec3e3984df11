/*
 * packet owns the decoding of captured frames from the link layer down to a TCP segment. It is
 * pure and copies nothing: results point into the caller's frame. It never reassembles (see
 * ipfrag and tcpstream), never allocates and never looks at the TCP payload.
 *
 * Every layer works on a (bytes present, bytes on the wire) pair so that a frame cut by the snap
 * length still yields the headers it has and an honest count of the payload it lost.
 */
#include "hspy/packet.h"

#include <string.h>

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88a8,
    ETH_QINQ_OLD = 0x9100,
    ETH_MPLS = 0x8847,
    ETH_MPLS_MC = 0x8848,
    ETH_PPPOE = 0x8864,
    IPPROTO_V4 = 4,
    IPPROTO_T = 6,
    IPPROTO_V6 = 41,
    IPPROTO_G = 47,
};

/* A slice of the frame: cap bytes present, wire bytes on the wire (wire >= cap). */
struct slice {
    const uint8_t *p;
    size_t cap, wire;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Drops n header bytes from the front; false when they are not all present. */
static bool skip(struct slice *s, size_t n)
{
    if (s->cap < n)
        return false;
    s->p += n;
    s->cap -= n;
    s->wire -= n;
    return true;
}

static enum packet_result ip_layer(struct packet *p, struct slice s, int depth);

bool packet_link_supported(int linktype)
{
    switch (linktype) {
    case PACKET_LINK_NULL:
    case PACKET_LINK_ETHERNET:
    case PACKET_LINK_RAW_DLT12:
    case PACKET_LINK_RAW_DLT14:
    case PACKET_LINK_RAW:
    case PACKET_LINK_LOOP:
    case PACKET_LINK_LINUX_SLL:
    case PACKET_LINK_IPV4:
    case PACKET_LINK_IPV6:
    case PACKET_LINK_NFLOG:
    case PACKET_LINK_LINUX_SLL2: return true;
    default: return false;
    }
}

/* An MPLS label stack ends at the entry with the bottom-of-stack bit; IP follows. */
static enum packet_result mpls(struct packet *p, struct slice s, int depth)
{
    for (int i = 0; i < PACKET_NESTING_MAX; i++) {
        if (s.cap < 4)
            return PACKET_MALFORMED;
        bool bottom = s.p[2] & 1;
        skip(&s, 4);
        if (bottom)
            return ip_layer(p, s, depth + 1);
    }
    return PACKET_MALFORMED;
}

/* PPPoE session: 6-byte PPPoE header, then the PPP protocol field. */
static enum packet_result pppoe(struct packet *p, struct slice s, int depth)
{
    if (!skip(&s, 6) || s.cap < 1)
        return PACKET_MALFORMED;
    /* With protocol-field compression (RFC 1661) an odd first byte is the whole field. */
    uint16_t proto;
    if (s.p[0] & 1) {
        proto = s.p[0];
        skip(&s, 1);
    } else if (s.cap >= 2) {
        proto = be16(s.p);
        skip(&s, 2);
    } else {
        return PACKET_MALFORMED;
    }
    if (proto == 0x0021 || proto == 0x0057)
        return ip_layer(p, s, depth + 1);
    return PACKET_OTHER;
}

/* Dispatches on an EtherType (also used by SLL, SLL2 and GRE). */
static enum packet_result ethertype(struct packet *p, uint16_t type, struct slice s, int depth)
{
    if (depth > PACKET_NESTING_MAX)
        return PACKET_MALFORMED;
    switch (type) {
    case ETH_IPV4:
    case ETH_IPV6: return ip_layer(p, s, depth + 1);
    case ETH_VLAN:
    case ETH_QINQ:
    case ETH_QINQ_OLD:
        if (s.cap < 4)
            return PACKET_MALFORMED;
        type = be16(s.p + 2);
        skip(&s, 4);
        return ethertype(p, type, s, depth + 1);
    case ETH_MPLS:
    case ETH_MPLS_MC: return mpls(p, s, depth);
    case ETH_PPPOE: return pppoe(p, s, depth);
    default: return PACKET_OTHER;
    }
}

static enum packet_result ethernet(struct packet *p, struct slice s)
{
    if (s.cap < 14)
        return PACKET_MALFORMED;
    uint16_t type = be16(s.p + 12);
    skip(&s, 14);
    if (type < 0x0600) /* 802.3 length field: LLC, never IP here */
        return PACKET_OTHER;
    return ethertype(p, type, s, 0);
}

/* BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs per system. */
static enum packet_result loopback(struct packet *p, struct slice s, bool network_order)
{
    if (s.cap < 4)
        return PACKET_MALFORMED;
    uint32_t fam = network_order ? be32(s.p) : le32(s.p);
    if (!network_order && fam > 0xffff)
        fam = be32(s.p); /* written on a big-endian machine */
    skip(&s, 4);
    if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
        return ip_layer(p, s, 0);
    return PACKET_OTHER;
}

/*
 * NFLOG: a 4-byte header, then TLVs (16-bit length and type in host order, padded to 4 bytes);
 * type 9 holds the packet from its IP header on.
 */
static enum packet_result nflog(struct packet *p, struct slice s)
{
    if (!skip(&s, 4))
        return PACKET_MALFORMED;
    while (s.cap >= 4) {
        size_t len = (size_t)s.p[0] | (size_t)s.p[1] << 8;
        uint16_t type = (uint16_t)(s.p[2] | s.p[3] << 8);
        if (len < 4)
            return PACKET_MALFORMED;
        if (type == 9) {
            struct slice in = {s.p + 4, len - 4, len - 4};
            if (in.cap > s.cap - 4) {
                in.cap = s.cap - 4; /* cut by the snap length */
                in.wire = s.wire - 4 < in.wire ? s.wire - 4 : in.wire;
            }
            return ip_layer(p, in, 0);
        }
        size_t padded = (len + 3) & ~(size_t)3;
        if (!skip(&s, padded < s.cap ? padded : s.cap))
            return PACKET_MALFORMED;
    }
    return PACKET_OTHER;
}

enum packet_result packet_decode(struct packet *p, int linktype, const uint8_t *data, size_t caplen,
                                 size_t wirelen)
{
    memset(p, 0, sizeof *p);
    struct slice s = {data, caplen, wirelen < caplen ? caplen : wirelen};
    switch (linktype) {
    case PACKET_LINK_ETHERNET: return ethernet(p, s);
    case PACKET_LINK_NULL: return loopback(p, s, false);
    case PACKET_LINK_LOOP: return loopback(p, s, true);
    case PACKET_LINK_RAW_DLT12:
    case PACKET_LINK_RAW_DLT14:
    case PACKET_LINK_RAW:
    case PACKET_LINK_IPV4:
    case PACKET_LINK_IPV6: return ip_layer(p, s, 0);
    case PACKET_LINK_LINUX_SLL:
        if (s.cap < 16)
            return PACKET_MALFORMED;
        {
            uint16_t type = be16(s.p + 14);
            skip(&s, 16);
            return ethertype(p, type, s, 0);
        }
    case PACKET_LINK_LINUX_SLL2:
        if (s.cap < 20)
            return PACKET_MALFORMED;
        {
            uint16_t type = be16(s.p);
            skip(&s, 20);
            return ethertype(p, type, s, 0);
        }
    case PACKET_LINK_NFLOG: return nflog(p, s);
    default: return PACKET_MALFORMED;
    }
}

/* GRE (RFC 2784/2890): flags, protocol, then optional checksum, key and sequence words. */
static enum packet_result gre(struct packet *p, struct slice s, int depth)
{
    if (s.cap < 4)
        return PACKET_MALFORMED;
    uint16_t fl = be16(s.p), type = be16(s.p + 2);
    if (fl & 0x0007) /* version 1 is PPTP's enhanced GRE: not followed */
        return PACKET_OTHER;
    size_t hl = 4 + ((fl & 0x8000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) + ((fl & 0x1000) ? 4 : 0);
    if (!skip(&s, hl))
        return PACKET_MALFORMED;
    return ethertype(p, type, s, depth + 1);
}

/* The transport part of an IP datagram: TCP, a tunnel, or something else. */
static enum packet_result transport(struct packet *p, uint8_t proto, struct slice s, int depth)
{
    switch (proto) {
    case IPPROTO_T: return packet_decode_tcp(p, s.p, s.cap, s.wire);
    case IPPROTO_V4:
    case IPPROTO_V6: return ip_layer(p, s, depth + 1);
    case IPPROTO_G: return gre(p, s, depth);
    default: return PACKET_OTHER;
    }
}

/*
 * Bounds an IP datagram by its declared length: Ethernet padding goes, a frame cut by the snap
 * length keeps what it has. A declared length of 0 (TCP segmentation offload) or one beyond the
 * frame is replaced by what the frame carries.
 */
static void bound(struct slice *s, size_t declared)
{
    if (declared == 0 || declared > s->wire)
        return;
    s->wire = declared;
    if (s->cap > declared)
        s->cap = declared;
}

static void set_fragment(struct packet *p, uint8_t proto, uint32_t id, uint32_t off, bool more,
                         struct slice s)
{
    p->proto = proto;
    p->frag_id = id;
    p->frag_off = off;
    p->frag_more = more;
    p->frag = s.p;
    p->frag_len = (uint32_t)s.cap;
    p->frag_wire = (uint32_t)s.wire;
}

static enum packet_result ipv4(struct packet *p, struct slice s, int depth)
{
    if (s.cap < 20)
        return PACKET_MALFORMED;
    size_t hl = (size_t)(s.p[0] & 0x0f) * 4;
    if (hl < 20 || s.cap < hl)
        return PACKET_MALFORMED;
    size_t total = be16(s.p + 2);
    if (total && total < hl)
        return PACKET_MALFORMED;
    uint16_t fragword = be16(s.p + 6);
    uint8_t proto = s.p[9];
    p->src.family = p->dst.family = 4;
    memcpy(p->src.addr, s.p + 12, 4);
    memcpy(p->dst.addr, s.p + 16, 4);
    uint32_t id = be16(s.p + 4);
    bound(&s, total);
    skip(&s, hl);
    uint32_t off = (uint32_t)(fragword & 0x1fff) * 8;
    bool more = fragword & 0x2000;
    if (off || more) {
        set_fragment(p, proto, id, off, more, s);
        return PACKET_FRAGMENT;
    }
    return transport(p, proto, s, depth);
}

static bool ipv6_ext_header(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

static enum packet_result ipv6(struct packet *p, struct slice s, int depth)
{
    if (s.cap < 40)
        return PACKET_MALFORMED;
    size_t plen = be16(s.p + 4);
    uint8_t nh = s.p[6];
    p->src.family = p->dst.family = 6;
    memcpy(p->src.addr, s.p + 8, 16);
    memcpy(p->dst.addr, s.p + 24, 16);
    skip(&s, 40);
    bound(&s, plen);
    for (int i = 0; i < PACKET_NESTING_MAX; i++) {
        if (ipv6_ext_header(nh)) {
            if (s.cap < 8)
                return PACKET_MALFORMED;
            uint8_t next = s.p[0];
            if (!skip(&s, ((size_t)s.p[1] + 1) * 8))
                return PACKET_MALFORMED;
            nh = next;
        } else if (nh == 51) { /* authentication header: length in 4-byte units, minus 2 */
            if (s.cap < 8)
                return PACKET_MALFORMED;
            uint8_t next = s.p[0];
            if (!skip(&s, ((size_t)s.p[1] + 2) * 4))
                return PACKET_MALFORMED;
            nh = next;
        } else if (nh == 44) { /* fragment header */
            if (s.cap < 8)
                return PACKET_MALFORMED;
            uint8_t next = s.p[0];
            uint16_t offword = be16(s.p + 2);
            uint32_t id = be32(s.p + 4);
            skip(&s, 8);
            uint32_t off = (uint32_t)(offword >> 3) * 8;
            bool more = offword & 1;
            if (off || more) { /* an atomic fragment (offset 0, no more) is a whole datagram */
                set_fragment(p, next, id, off, more, s);
                return PACKET_FRAGMENT;
            }
            nh = next;
        } else {
            return transport(p, nh, s, depth);
        }
    }
    return PACKET_MALFORMED;
}

static enum packet_result ip_layer(struct packet *p, struct slice s, int depth)
{
    if (depth > PACKET_NESTING_MAX || s.cap < 1)
        return PACKET_MALFORMED;
    switch (s.p[0] >> 4) {
    case 4: return ipv4(p, s, depth);
    case 6: return ipv6(p, s, depth);
    default: return PACKET_MALFORMED;
    }
}

enum packet_result packet_decode_ip(struct packet *p, const uint8_t *data, size_t caplen,
                                    size_t wirelen)
{
    memset(p, 0, sizeof *p);
    struct slice s = {data, caplen, wirelen < caplen ? caplen : wirelen};
    return ip_layer(p, s, 0);
}

enum packet_result packet_decode_tcp(struct packet *p, const uint8_t *data, size_t caplen,
                                     size_t wirelen)
{
    if (wirelen < caplen)
        wirelen = caplen;
    if (caplen < 20)
        return PACKET_MALFORMED;
    size_t hl = (size_t)(data[12] >> 4) * 4;
    if (hl < 20 || caplen < hl)
        return PACKET_MALFORMED;
    p->src.port = be16(data);
    p->dst.port = be16(data + 2);
    p->seq = be32(data + 4);
    p->ack = be32(data + 8);
    p->flags = data[13] & 0x1f;
    p->payload = data + hl;
    p->payload_len = (uint32_t)(caplen - hl);
    p->payload_wire = (uint32_t)(wirelen - hl);
    return PACKET_TCP;
}
