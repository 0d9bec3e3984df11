/*
 * packet: every supported link type and encapsulation down to the TCP payload, padding and
 * snap-length cuts, fragments, non-TCP traffic, and frames cut at every offset (never a read
 * past the bytes given: each frame is copied into an exactly sized heap buffer for ASan).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/packet.h"
#include "pktbuild.h"

static const char PAYLOAD[] = "GET / HTTP/1.1\r\n\r\n";

static struct pb_tcp seg4(void)
{
    return (struct pb_tcp){"10.0.0.1", "10.0.0.2",        40000, 80, 1000, 2000, 0x18,
                           PAYLOAD,    sizeof PAYLOAD - 1};
}

static struct pb_tcp seg6(void)
{
    return (struct pb_tcp){"fe80::1", "2001:db8::2",     40000, 8080, 1000, 2000, 0x18,
                           PAYLOAD,   sizeof PAYLOAD - 1};
}

enum frame_kind {
    F_ETH4,
    F_ETH6,
    F_VLAN,
    F_QINQ,
    F_MPLS,
    F_PPPOE,
    F_SLL,
    F_SLL2,
    F_NULL_LE,
    F_NULL_V6_BSD,
    F_LOOP,
    F_RAW4,
    F_RAW6,
    F_IPV6_EXT,
    F_IPV6_ATOMIC_FRAG,
    F_IPIP,
    F_GRE,
    F_NFLOG,
    F_ETH_PADDED,
};

/* Builds a frame of this kind around seg4()/seg6(); returns its length and the link type. */
static size_t build(enum frame_kind k, uint8_t *out, int *link)
{
    struct pb_tcp t4 = seg4(), t6 = seg6();
    uint8_t ip[2048];
    size_t n;
    *link = PACKET_LINK_ETHERNET;
    memset(out, 0, 12);
    switch (k) {
    case F_ETH4: return pb_eth_tcp(out, &t4);
    case F_ETH6: return pb_eth_tcp(out, &t6);
    case F_VLAN:
    case F_QINQ:
        n = pb_ip_tcp(ip, &t4);
        if (k == F_VLAN) {
            pb_put16(out + 12, 0x8100);
            pb_put16(out + 14, 5);
            pb_put16(out + 16, 0x0800);
            memcpy(out + 18, ip, n);
            return 18 + n;
        }
        pb_put16(out + 12, 0x88a8);
        pb_put16(out + 14, 7);
        pb_put16(out + 16, 0x8100);
        pb_put16(out + 18, 0);
        pb_put16(out + 20, 0x0800);
        memcpy(out + 22, ip, n);
        return 22 + n;
    case F_MPLS:
        n = pb_ip_tcp(ip, &t4);
        pb_put16(out + 12, 0x8847);
        pb_put32(out + 14, 0x00010000); /* label 16, not bottom */
        pb_put32(out + 18, 0x00020140); /* bottom of stack */
        memcpy(out + 22, ip, n);
        return 22 + n;
    case F_PPPOE:
        n = pb_ip_tcp(ip, &t4);
        pb_put16(out + 12, 0x8864);
        out[14] = 0x11;
        pb_put16(out + 18, (uint16_t)(n + 2));
        pb_put16(out + 20, 0x0021);
        memcpy(out + 22, ip, n);
        return 22 + n;
    case F_SLL:
        *link = PACKET_LINK_LINUX_SLL;
        n = pb_ip_tcp(ip, &t4);
        memset(out, 0, 16);
        pb_put16(out + 14, 0x0800);
        memcpy(out + 16, ip, n);
        return 16 + n;
    case F_SLL2:
        *link = PACKET_LINK_LINUX_SLL2;
        n = pb_ip_tcp(ip, &t6);
        memset(out, 0, 20);
        pb_put16(out, 0x86dd);
        memcpy(out + 20, ip, n);
        return 20 + n;
    case F_NULL_LE:
        *link = PACKET_LINK_NULL;
        n = pb_ip_tcp(ip, &t4);
        memcpy(out, "\x02\0\0\0", 4);
        memcpy(out + 4, ip, n);
        return 4 + n;
    case F_NULL_V6_BSD:
        *link = PACKET_LINK_NULL;
        n = pb_ip_tcp(ip, &t6);
        memcpy(out, "\x1e\0\0\0", 4);
        memcpy(out + 4, ip, n);
        return 4 + n;
    case F_LOOP:
        *link = PACKET_LINK_LOOP;
        n = pb_ip_tcp(ip, &t4);
        memcpy(out, "\0\0\0\x02", 4);
        memcpy(out + 4, ip, n);
        return 4 + n;
    case F_RAW4: *link = PACKET_LINK_RAW; return pb_ip_tcp(out, &t4);
    case F_RAW6: *link = PACKET_LINK_IPV6; return pb_ip_tcp(out, &t6);
    case F_IPV6_EXT:
    case F_IPV6_ATOMIC_FRAG: {
        *link = PACKET_LINK_RAW_DLT12;
        uint8_t tcp[512];
        size_t tl = pb_tcp_segment(tcp, &t6);
        size_t h = pb_ipv6(out, t6.src, t6.dst, k == F_IPV6_EXT ? 0 : 44, tl + 16);
        uint8_t *e = out + h;
        memset(e, 0, 16);
        if (k == F_IPV6_EXT) {
            e[0] = 60; /* hop-by-hop, then destination options */
            e[8] = 6;
        } else {
            e[0] = 60; /* atomic fragment header, then destination options */
            e[8] = 6;
            pb_put32(e + 4, 0x1234);
        }
        memcpy(e + 16, tcp, tl);
        return h + 16 + tl;
    }
    case F_IPIP: {
        *link = PACKET_LINK_RAW;
        n = pb_ip_tcp(ip, &t4);
        size_t h = pb_ipv4(out, "192.0.2.1", "192.0.2.2", 4, n, 9, 0);
        memcpy(out + h, ip, n);
        return h + n;
    }
    case F_GRE: {
        *link = PACKET_LINK_RAW;
        n = pb_ip_tcp(ip, &t6);
        size_t h = pb_ipv4(out, "192.0.2.1", "192.0.2.2", 47, n + 8, 9, 0);
        memset(out + h, 0, 8);
        out[h] = 0x20; /* key present */
        pb_put16(out + h + 2, 0x86dd);
        memcpy(out + h + 8, ip, n);
        return h + 8 + n;
    }
    case F_NFLOG: {
        *link = PACKET_LINK_NFLOG;
        n = pb_ip_tcp(ip, &t4);
        memset(out, 0, 16);
        out[0] = 2;
        out[4] = 8; /* a prefix TLV of 8 bytes, type 1 */
        out[6] = 1;
        size_t tl = n + 4;
        out[12] = (uint8_t)tl;
        out[13] = (uint8_t)(tl >> 8);
        out[14] = 9;
        memcpy(out + 16, ip, n);
        return 16 + n;
    }
    case F_ETH_PADDED: {
        size_t len = pb_eth_tcp(out, &t4);
        memset(out + len, 0xee, 6); /* Ethernet trailer padding */
        return len + 6;
    }
    }
    return 0;
}

struct pcase {
    enum frame_kind kind;
    const char *name;
    uint8_t family;
};

static const struct pcase CASES[] = {
    {F_ETH4, "ethernet ipv4", 4},
    {F_ETH6, "ethernet ipv6", 6},
    {F_VLAN, "802.1Q", 4},
    {F_QINQ, "QinQ", 4},
    {F_MPLS, "MPLS", 4},
    {F_PPPOE, "PPPoE", 4},
    {F_SLL, "SLL", 4},
    {F_SLL2, "SLL2", 6},
    {F_NULL_LE, "NULL", 4},
    {F_NULL_V6_BSD, "NULL ipv6", 6},
    {F_LOOP, "LOOP", 4},
    {F_RAW4, "raw ipv4", 4},
    {F_RAW6, "raw ipv6", 6},
    {F_IPV6_EXT, "ipv6 ext headers", 6},
    {F_IPV6_ATOMIC_FRAG, "ipv6 atomic fragment", 6},
    {F_IPIP, "ip in ip", 4},
    {F_GRE, "GRE", 6},
    {F_NFLOG, "NFLOG", 4},
    {F_ETH_PADDED, "ethernet padding", 4},
};

static enum packet_result decode_exact(struct packet *p, int link, const uint8_t *frame,
                                       size_t caplen, size_t wirelen)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    memcpy(copy, frame, caplen);
    enum packet_result r = packet_decode(p, link, copy, caplen, wirelen);
    /* payload pointers into copy are not used after this */
    free(copy);
    return r;
}

static void test_link_types(void **state)
{
    (void)state;
    uint8_t frame[4096];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int link;
        size_t n = build(CASES[i].kind, frame, &link);
        struct packet p;
        assert_true(packet_link_supported(link));
        enum packet_result r = packet_decode(&p, link, frame, n, n);
        if (r != PACKET_TCP)
            fail_msg("%s: result %d", CASES[i].name, r);
        assert_int_equal(p.src.family, CASES[i].family);
        assert_int_equal(p.src.port, 40000);
        assert_int_equal(p.seq, 1000);
        assert_int_equal(p.ack, 2000);
        assert_int_equal(p.flags, 0x18);
        assert_int_equal(p.payload_len, sizeof PAYLOAD - 1);
        assert_int_equal(p.payload_wire, sizeof PAYLOAD - 1);
        assert_memory_equal(p.payload, PAYLOAD, sizeof PAYLOAD - 1);
        /* Every shorter cut is a snap-length cut: decodes or is malformed, never reads past. */
        for (size_t cut = 0; cut < n; cut++) {
            r = decode_exact(&p, link, frame, cut, n);
            assert_true(r == PACKET_TCP || r == PACKET_MALFORMED || r == PACKET_OTHER);
            if (r == PACKET_TCP && CASES[i].kind != F_ETH_PADDED)
                assert_true(p.payload_len < p.payload_wire);
        }
    }
}

static void test_snaplen_cut(void **state)
{
    (void)state;
    uint8_t frame[256];
    struct pb_tcp t = seg4();
    size_t n = pb_eth_tcp(frame, &t);
    struct packet p;
    assert_int_equal(packet_decode(&p, PACKET_LINK_ETHERNET, frame, n - 5, n), PACKET_TCP);
    assert_int_equal(p.payload_len, sizeof PAYLOAD - 1 - 5);
    assert_int_equal(p.payload_wire, sizeof PAYLOAD - 1);
}

static void test_fragment_and_other(void **state)
{
    (void)state;
    uint8_t frame[256];
    struct packet p;
    size_t h = pb_ipv4(frame, "10.0.0.1", "10.0.0.2", 6, 24, 77, 0x2000); /* MF, offset 0 */
    memset(frame + h, 0xab, 24);
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, h + 24, h + 24), PACKET_FRAGMENT);
    assert_int_equal(p.frag_id, 77);
    assert_int_equal(p.frag_off, 0);
    assert_true(p.frag_more);
    assert_int_equal(p.frag_len, 24);
    assert_int_equal(p.proto, 6);
    h = pb_ipv4(frame, "10.0.0.1", "10.0.0.2", 17, 8, 1, 0); /* UDP */
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, h + 8, h + 8), PACKET_OTHER);
    memset(frame, 0, 60);
    pb_put16(frame + 12, 0x0806); /* ARP */
    assert_int_equal(packet_decode(&p, PACKET_LINK_ETHERNET, frame, 60, 60), PACKET_OTHER);
    frame[14] = 0x75; /* IP version 7 */
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame + 14, 40, 40), PACKET_MALFORMED);
    assert_false(packet_link_supported(127));
    assert_int_equal(packet_decode(&p, 127, frame, 60, 60), PACKET_MALFORMED);
}

/* Bad header lengths are malformed, not trusted. */
static void test_bad_lengths(void **state)
{
    (void)state;
    uint8_t frame[256];
    struct pb_tcp t = seg4();
    size_t n = pb_ip_tcp(frame, &t);
    struct packet p;
    frame[0] = 0x44; /* IHL 16 bytes */
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, n, n), PACKET_MALFORMED);
    frame[0] = 0x45;
    frame[20 + 12] = 0x40; /* TCP data offset 16 bytes */
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, n, n), PACKET_MALFORMED);
    frame[20 + 12] = 0xf0; /* 60 bytes: more than the segment */
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, 40, 40), PACKET_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_snaplen_cut),
        cmocka_unit_test(test_fragment_and_other),
        cmocka_unit_test(test_bad_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
