/*
 * packet: one captured frame decoded down to its TCP segment.
 *
 * The decoder is a pure function over the caller's bytes: link layer (Ethernet with 802.1Q/QinQ
 * tags, MPLS and PPPoE; Linux cooked SLL and SLL2; BSD NULL and LOOP; Linux NFLOG; raw IPv4/IPv6),
 * then IPv4 or IPv6 (extension headers skipped, IP-in-IP followed), then TCP. The result points
 * into the frame; nothing is copied. IP fragments are reported as such so a caller can reassemble
 * them (see ipfrag.h) and hand the datagram back to packet_decode_ip.
 *
 * Link types are the numbers of the pcap/pcapng LINKTYPE registry (plus the platform DLT aliases
 * libpcap reports for raw IP and loopback), so this header needs no pcap include.
 */
#ifndef HSPY_PACKET_H
#define HSPY_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/endpoint.h"

enum packet_link {
    PACKET_LINK_NULL = 0,         /* BSD loopback: 4-byte address family in host order */
    PACKET_LINK_ETHERNET = 1,     /* Ethernet II / 802.3 */
    PACKET_LINK_RAW_DLT12 = 12,   /* raw IP (DLT_RAW on most systems) */
    PACKET_LINK_RAW_DLT14 = 14,   /* raw IP (DLT_RAW on OpenBSD) */
    PACKET_LINK_RAW = 101,        /* raw IP (LINKTYPE_RAW) */
    PACKET_LINK_LOOP = 108,       /* OpenBSD loopback: 4-byte address family, network order */
    PACKET_LINK_LINUX_SLL = 113,  /* Linux cooked capture v1 */
    PACKET_LINK_IPV4 = 228,       /* raw IPv4 */
    PACKET_LINK_IPV6 = 229,       /* raw IPv6 */
    PACKET_LINK_NFLOG = 239,      /* Linux netfilter log */
    PACKET_LINK_LINUX_SLL2 = 276, /* Linux cooked capture v2 */
};

/* True when packet_decode understands frames of this link type. */
bool packet_link_supported(int linktype);

enum packet_result {
    PACKET_TCP = 0,       /* a TCP segment: the tcp fields and payload are set */
    PACKET_FRAGMENT = 1,  /* an IP fragment: the frag fields are set (see ipfrag.h) */
    PACKET_OTHER = 2,     /* valid, but not TCP (ARP, UDP, ICMP, ...): nothing to do */
    PACKET_MALFORMED = 3, /* headers inconsistent or cut before the TCP header */
};

enum packet_tcp_flag {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
};

/* Nesting a decoder follows (VLAN tags, MPLS labels, IP-in-IP) before it gives up. */
enum { PACKET_NESTING_MAX = 8 };

struct packet {
    struct endpoint src, dst; /* addresses and TCP ports (ports 0 for fragments) */
    /* TCP */
    uint32_t seq, ack;
    uint8_t flags;          /* enum packet_tcp_flag */
    const uint8_t *payload; /* into the frame (or the reassembled datagram) */
    uint32_t payload_len;   /* payload bytes present */
    uint32_t payload_wire;  /* payload bytes the segment carried; > payload_len when cut */
    /* IP fragments (PACKET_FRAGMENT) */
    uint8_t proto;       /* IP protocol of the fragmented datagram */
    uint32_t frag_id;    /* IPv4 identification or IPv6 fragment identification */
    uint32_t frag_off;   /* byte offset of this fragment in the datagram */
    bool frag_more;      /* more fragments follow */
    const uint8_t *frag; /* fragment bytes */
    uint32_t frag_len;   /* fragment bytes present */
    uint32_t frag_wire;  /* fragment bytes carried (> frag_len when cut) */
};

/*
 * Decodes one frame of the given link type. caplen bytes are present at data; wirelen is the
 * frame's length on the wire (>= caplen; a frame cut by the snap length has wirelen > caplen).
 * Fills p (pointers into data, valid as long as data) and returns an enum packet_result. A link
 * type packet_link_supported rejects gives PACKET_MALFORMED.
 */
enum packet_result packet_decode(struct packet *p, int linktype, const uint8_t *data, size_t caplen,
                                 size_t wirelen);

/*
 * Decodes from an IP header on (version from the first nibble): used for the link types that
 * carry bare IP and for datagrams reassembled from fragments. Same contract as packet_decode.
 */
enum packet_result packet_decode_ip(struct packet *p, const uint8_t *data, size_t caplen,
                                    size_t wirelen);

/*
 * Decodes a TCP header and payload for a datagram whose addresses are already in p (used after
 * fragment reassembly). Returns PACKET_TCP or PACKET_MALFORMED.
 */
enum packet_result packet_decode_tcp(struct packet *p, const uint8_t *data, size_t caplen,
                                     size_t wirelen);

#endif
