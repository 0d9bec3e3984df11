/*
 * pcapng: a session written as a pcapng capture of synthesized TCP/IP packets, so Wireshark,
 * tshark and `hspy read` see the same HTTP exchanges.
 *
 * Each exchange becomes segments that carry exactly the bytes hspy kept for each side, with
 * sequence and acknowledgement numbers that follow both directions of its connection. The
 * first exchange of a connection is preceded by a three-way handshake; pcapng_finish (or the
 * connection table evicting a connection) closes it with FIN segments. Exchanges on one
 * connection share one TCP stream, so keep-alive and pipelining look as they did. Bytes that
 * were counted but not kept (truncation, capture gaps) advance the sequence numbers without
 * being sent, which every reader shows as missing bytes.
 *
 * Packets are raw IP (LINKTYPE_RAW) with nanosecond timestamps from the exchange's phase times.
 * Missing endpoints are synthesized (see pcapng_exchange). Pure: blocks are appended to the
 * caller's buffer; writing them is the caller's business (docs/sessions.md).
 */
#ifndef HSPY_PCAPNG_H
#define HSPY_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/endpoint.h"
#include "hspy/exchange.h"

/* Payload bytes per synthesized segment (an Ethernet-sized TCP segment). */
enum { PCAPNG_MSS = 1460 };
/* Payload bytes claimed by one packet cut to its headers (the most an IPv4 packet holds). */
enum { PCAPNG_CUT_MAX = 65495 };
/* Link type of the interface: raw IPv4/IPv6 packets. */
enum { PCAPNG_LINKTYPE = 101 };
/* Connections kept open at once; a connection that has to make room is closed (FIN). */
enum { PCAPNG_CONNS_DEFAULT = 16384 };

/* One synthesized TCP connection. */
struct pcapng_conn {
    uint64_t conn_id;      /* 0 = free slot */
    struct endpoint ep[2]; /* SIDE_CLIENT, SIDE_SERVER */
    uint32_t seq[2];       /* next sequence number each side sends */
    int64_t last_ts;       /* time of the latest packet */
};

struct pcapng_counters {
    uint64_t packets;     /* enhanced packet blocks produced */
    uint64_t connections; /* connections opened (handshakes) */
    uint64_t evicted;     /* connections closed early to make room */
    uint64_t missing;     /* bytes counted but not kept: sent as sequence holes */
};

struct pcapng {
    struct pcapng_conn *conns; /* direct-mapped by conn_id */
    size_t nconns;
    uint16_t ip_id;
    struct pcapng_counters counters;
};

/* Prepares p for up to max_conns open connections (0 = PCAPNG_CONNS_DEFAULT). */
void pcapng_init(struct pcapng *p, size_t max_conns);
void pcapng_cleanup(struct pcapng *p);

/*
 * Appends the section header (naming application, e.g. "hspy 0.1.0") and the one interface
 * description the packets refer to. Returns 0, or -1 when out could not hold them.
 */
int pcapng_header(struct dynbuf *out, const char *application);

/*
 * Appends the packets of ex: the handshake when its connection is new, then the request and
 * response bytes (the request head, interim responses or the switching response, then the rest,
 * when the exchange is a tunnel or had interim responses; else the request, then the response).
 * Endpoints the exchange lacks are synthesized: the server as 127.0.0.1 (IPv4) or ::1 at the
 * Host header's port (80 by default), the client as 127.0.0.2 or ::2 at port 49152 + conn_id
 * modulo 16384. Returns 0, or -1 when out could not hold the exchange's blocks: out then
 * keeps only the handshake (or the FINs of a connection its slot replaced) that the connection
 * needed, which the caller should still write; the connection state still advances, so a later
 * exchange on it shows the loss as missing bytes.
 */
int pcapng_exchange(struct pcapng *p, struct dynbuf *out, const struct exchange *ex);

/* Appends FIN segments closing every open connection (at least at ts). Returns 0 or -1. */
int pcapng_finish(struct pcapng *p, struct dynbuf *out, int64_t ts);

#endif
