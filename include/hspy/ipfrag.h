/*
 * ipfrag: IP fragment reassembly for captures (IPv4, and IPv6 fragment headers).
 *
 * Fragments are keyed by (addresses, protocol, identification). A datagram is handed back once
 * every byte up to its last fragment has been seen. Everything is bounded: at most
 * IPFRAG_DATAGRAMS_DEFAULT datagrams in progress, at most IPFRAG_BYTES_DEFAULT bytes held, and
 * a datagram still incomplete IPFRAG_TIMEOUT_DEFAULT after its first fragment (capture time) is
 * dropped. Each drop is counted. Pure: no I/O.
 */
#ifndef HSPY_IPFRAG_H
#define HSPY_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/packet.h"

#define IPFRAG_DATAGRAMS_DEFAULT 64u
#define IPFRAG_BYTES_DEFAULT     ((size_t)4 << 20)
#define IPFRAG_TIMEOUT_DEFAULT   ((int64_t)30 * 1000000000)
enum { IPFRAG_DATAGRAM_MAX = 65535 + 8 }; /* largest datagram payload rebuilt */

struct ipfrag_limits {
    uint32_t datagrams; /* datagrams in progress */
    size_t bytes;       /* buffer bytes held over all of them */
    int64_t timeout_ns; /* capture time a datagram may stay incomplete */
};

struct ipfrag_counters {
    uint64_t fragments;   /* fragments seen */
    uint64_t reassembled; /* datagrams completed */
    uint64_t expired;     /* datagrams dropped by the timeout */
    uint64_t dropped;     /* datagrams dropped by the caps, or impossible (too large) */
    uint64_t overlaps;    /* fragments overlapping bytes already held */
};

struct ipfrag_datagram;

struct ipfrag {
    struct ipfrag_limits limits;
    struct ipfrag_datagram *list; /* in progress, oldest first */
    uint32_t count;
    size_t bytes;
    uint8_t *out; /* the last completed datagram (owned; reused) */
    struct ipfrag_counters counters;
};

/* limits may be NULL for the defaults. */
void ipfrag_init(struct ipfrag *f, const struct ipfrag_limits *limits);
void ipfrag_cleanup(struct ipfrag *f);

/*
 * Adds the fragment p describes (packet_decode returned PACKET_FRAGMENT), captured at ts (ns).
 * Returns 1 when it completed a datagram: *data holds its transport bytes (valid until the
 * next ipfrag call), *caplen the bytes present and *wirelen its length on the wire (larger
 * when a fragment was cut by the snap length). Returns 0 otherwise.
 */
int ipfrag_add(struct ipfrag *f, const struct packet *p, int64_t ts, const uint8_t **data,
               size_t *caplen, size_t *wirelen);

#endif
