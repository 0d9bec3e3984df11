/*
 * pktbuild: builds link/IP/TCP frames for the capture unit tests (header-only; included by
 * test_packet.c, test_ipfrag.c, test_flowtable.c and test_capture.c).
 */
#ifndef HSPY_TEST_PKTBUILD_H
#define HSPY_TEST_PKTBUILD_H

#include <stdint.h>
#include <string.h>

struct pb_tcp {
    const char *src, *dst; /* "10.0.0.1" or "::1" style literals */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const void *payload;
    size_t len;
};

static inline void pb_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void pb_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes a 20-byte TCP header and the payload at out; returns bytes written. */
static inline size_t pb_tcp_segment(uint8_t *out, const struct pb_tcp *t)
{
    memset(out, 0, 20);
    pb_put16(out, t->sport);
    pb_put16(out + 2, t->dport);
    pb_put32(out + 4, t->seq);
    pb_put32(out + 8, t->ack);
    out[12] = 5 << 4;
    out[13] = t->flags;
    pb_put16(out + 14, 65535);
    if (t->len)
        memcpy(out + 20, t->payload, t->len);
    return 20 + t->len;
}

/* IPv4 header (no options) with protocol proto in front of len transport bytes. */
static inline size_t pb_ipv4(uint8_t *out, const char *src, const char *dst, uint8_t proto,
                             size_t len, uint16_t id, uint16_t fragword)
{
    memset(out, 0, 20);
    out[0] = 0x45;
    pb_put16(out + 2, (uint16_t)(20 + len));
    pb_put16(out + 4, id);
    pb_put16(out + 6, fragword);
    out[8] = 64;
    out[9] = proto;
    inet_pton(AF_INET, src, out + 12);
    inet_pton(AF_INET, dst, out + 16);
    return 20;
}

static inline size_t pb_ipv6(uint8_t *out, const char *src, const char *dst, uint8_t nh, size_t len)
{
    memset(out, 0, 40);
    out[0] = 0x60;
    pb_put16(out + 4, (uint16_t)len);
    out[6] = nh;
    out[7] = 64;
    inet_pton(AF_INET6, src, out + 8);
    inet_pton(AF_INET6, dst, out + 24);
    return 40;
}

/* A whole IP+TCP datagram (family from the address literal); returns its length. */
static inline size_t pb_ip_tcp(uint8_t *out, const struct pb_tcp *t)
{
    uint8_t seg[70000];
    size_t n = pb_tcp_segment(seg, t);
    size_t h = strchr(t->src, ':') ? pb_ipv6(out, t->src, t->dst, 6, n)
                                   : pb_ipv4(out, t->src, t->dst, 6, n, 1, 0x4000);
    memcpy(out + h, seg, n);
    return h + n;
}

/* Ethernet II frame around an IP+TCP datagram. */
static inline size_t pb_eth_tcp(uint8_t *out, const struct pb_tcp *t)
{
    memset(out, 0, 12);
    out[5] = 1;
    out[11] = 2;
    pb_put16(out + 12, strchr(t->src, ':') ? 0x86dd : 0x0800);
    return 14 + pb_ip_tcp(out + 14, t);
}

#endif
