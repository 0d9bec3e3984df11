/*
 * capture: the pipeline from captured frames to exchanges in the store, shared by `hspy read`
 * and `hspy sniff` (and by the fuzz harness): packet decoding, IP fragment reassembly, the
 * connection table with its per-direction TCP reassembly, and one conversation per HTTP
 * connection.
 *
 * HTTP is recognised by content, on any port: a connection whose capture starts at the
 * handshake is HTTP when its first bytes start a request (client; the request line must end in
 * an HTTP/1.x version, or be an HTTP/0.9 GET) or a response (server). A connection picked up
 * mid-stream, after a gap at its start, or starting with something else (a SOCKS handshake) is
 * HTTP once such a start line appears at the beginning of a line within CAPTURE_SNIFF_DEFAULT
 * bytes, and the side that sent it tells the direction. Everything else is counted and ignored
 * without reassembly.
 *
 * The caller owns the I/O (pcap); this module is pure and its memory is bounded by the limits
 * of the connection table, the reassembly and fragment caps, and the store's caps.
 */
#ifndef HSPY_CAPTURE_H
#define HSPY_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"
#include "hspy/flowtable.h"
#include "hspy/http.h"
#include "hspy/ipfrag.h"
#include "hspy/store.h"

/* Bytes examined for HTTP on a connection picked up mid-stream (or after a preamble). */
#define CAPTURE_SNIFF_DEFAULT (64u * 1024)
/* Longest request line recognised while sniffing. */
#define CAPTURE_LINE_MAX 8192u

struct capture_config {
    int linktype;                     /* enum packet_link (pcap LINKTYPE/DLT number) */
    struct store *store;              /* exchanges go here */
    const struct http_limits *limits; /* for the conversations */
    const struct exchange_limits *ex_limits;
    struct exchange_pool *pool; /* where exchanges come from (NULL: allocated afresh) */
    uint64_t *next_conn_id;     /* connection numbers (shared with the session), incremented here */
    bool interactive;           /* touch the store on body bytes too (the UI shows progress) */
    struct flowtable_limits flows;
    struct ipfrag_limits frags;
    uint32_t sniff_max;        /* CAPTURE_SNIFF_DEFAULT */
    const struct bodytap *tap; /* every body as it streams (--save-bodies), or NULL */
};

/* Fills cfg's limits with their defaults (linktype, store and the pointers are left alone). */
void capture_config_defaults(struct capture_config *cfg);

struct capture_counters {
    uint64_t packets;                  /* frames given */
    uint64_t tcp;                      /* TCP segments (after fragment reassembly) */
    uint64_t other;                    /* frames that were not TCP */
    uint64_t malformed;                /* frames whose headers did not decode */
    uint64_t snaplen;                  /* TCP segments cut by the snap length */
    uint64_t snaplen_bytes;            /* TCP payload bytes those segments lost */
    uint64_t snaplen_min, snaplen_max; /* the fewest and most frame bytes such a frame kept */
    uint64_t connections;              /* HTTP connections (one conversation each) */
    uint64_t ignored;                  /* TCP connections not recognised as HTTP */
};

struct capture {
    struct capture_config cfg;
    struct ipfrag frags;
    struct flowtable flows;
    struct capture_counters counters;
};

void capture_init(struct capture *c, const struct capture_config *cfg);
/* Ends every connection still open (their exchanges complete, flagged as the engine decides). */
void capture_finish(struct capture *c, int64_t ts);
/* capture_finish, then frees everything. */
void capture_cleanup(struct capture *c, int64_t ts);

/*
 * One captured frame: caplen bytes at data out of wirelen on the wire, captured at ts (ns since
 * the epoch). Exchanges appear in the store as their bytes arrive. Never fails: what does not
 * decode is counted.
 */
void capture_packet(struct capture *c, const uint8_t *data, size_t caplen, size_t wirelen,
                    int64_t ts);

#endif
