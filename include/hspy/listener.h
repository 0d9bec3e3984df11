/*
 * listener: a listening TCP socket that accepts connections into a conn_group, up to a cap.
 *
 * listener_open resolves the host (names through uv_getaddrinfo), binds and listens, reporting
 * failures as "listen HOST:PORT: reason" in the caller's buffer. Each accepted connection is
 * handed to on_conn as a new conn (not reading yet). Past max_conns open connections a new one
 * is accepted, sent the owner's refusal and closed gracefully: our FIN after the refusal, then
 * what the client still sends is read and discarded until its FIN, CONN_LINGER_MS or
 * LISTENER_LINGER_BYTES, so that unread bytes do not turn the close into a reset that can
 * destroy the refusal before the client read it. At most LISTENER_LINGER_MAX refused
 * connections linger at once (they are not counted in max_conns); past that a refused one is
 * closed at once, as a storm deserves. Refusals and accept failures are counted and reported
 * through on_refuse, never fatal. With a report stream they are also
 * written there: the first at once, the rest of a burst in one line per kind when the report
 * interval ends (so a connection storm writes a line a second, never one per refusal), and a
 * summary at listener_close. Nothing here knows HTTP: the refusal is composed by the owner from
 * what the connection had sent by then (looked at, never read, never waited for).
 */
#ifndef HSPY_LISTENER_H
#define HSPY_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "hspy/conn.h"
#include "hspy/dynbuf.h"
#include "hspy/endpoint.h"

enum {
    LISTENER_BACKLOG_DEFAULT = 511,
    LISTENER_PEEK_MAX = 4096,          /* bytes of a refused connection shown to the refusal */
    LISTENER_REFUSAL_MAX = 2048,       /* the refusal's bytes */
    LISTENER_REPORT_MS_DEFAULT = 1000, /* at most one report line of each kind this often */
    LISTENER_LINGER_MAX = 16,          /* refused connections closing gracefully at once */
    LISTENER_LINGER_BYTES = 64 * 1024, /* what a refused one may still send, read and dropped */
};

struct listener_config {
    const char *host; /* name or address literal (IPv6 without brackets) */
    uint16_t port;    /* 0 = the system picks a free port */
    uint64_t max_conns;
    int backlog; /* listen(2) backlog; 0 = LISTENER_BACKLOG_DEFAULT */
    /*
     * Appends to out (at most LISTENER_REFUSAL_MAX) what a connection refused at the cap is
     * sent, given the first n bytes it had sent when it was accepted (sent, at most
     * LISTENER_PEEK_MAX; often none): they are looked at, not read, and not waited for. NULL:
     * nothing is sent.
     */
    void (*refusal)(struct dynbuf *out, const uint8_t *sent, size_t n);
    /* Where refusals and accept failures are reported as they happen and summed up at
     * listener_close (runs without the interface, which shows the counters instead); NULL:
     * counted only. Not owned. */
    FILE *report;
    uint64_t report_ms; /* the report interval; 0 = LISTENER_REPORT_MS_DEFAULT */
};

struct listener_counters {
    uint64_t accepted; /* connections handed to on_conn */
    uint64_t refused;  /* answered and closed because max_conns were open */
    uint64_t failed;   /* accept errors (out of file descriptors and the like) */
    size_t peak;       /* most connections open at once */
};

struct listener {
    uv_tcp_t tcp;
    struct conn_group *conns;
    /* Refused connections closing gracefully (at most LISTENER_LINGER_MAX); its own group,
     * so they count neither in conns nor against max_conns. */
    struct conn_group refusing;
    struct listener_config cfg;
    struct endpoint local; /* the bound address, with the port the system picked */
    struct listener_counters counters;
    /* cfg.report: running for one interval after each report line; what the lines so far
     * covered of the counters; the latest accept error, for its line. */
    uv_timer_t report_timer;
    uint64_t refused_reported, failed_reported;
    int last_error;
    bool open;
    void *data;
    /* A new connection (owned by the callee, which must conn_start it). */
    void (*on_conn)(void *data, struct conn *c);
    /* A connection was refused (err 0: the cap; else the libuv accept error). May be NULL. */
    void (*on_refuse)(void *data, int err);
};

/*
 * Binds and listens on cfg->host:cfg->port; accepted conns join group g. The callbacks and data
 * must be set before the loop runs. Returns 0, or -1 with "listen HOST:PORT: reason" in err.
 */
int listener_open(struct listener *l, uv_loop_t *loop, const struct listener_config *cfg,
                  struct conn_group *g, char *err, size_t errlen);
/*
 * Stops accepting (asynchronous; the loop finishes the close). Open conns are not touched;
 * refused ones still closing are closed now (the loop frees them). With
 * cfg.report, first writes what was not reported yet and, when any connection was refused or
 * failed, a summary with the final counts.
 */
void listener_close(struct listener *l);
/* True when the bound address is reachable from other hosts (not loopback). */
bool listener_public(const struct listener *l);

/*
 * Raises the soft limit on open file descriptors toward want (each connection holds one; a
 * proxied one two), up to the hard limit. Returns the limit now in force (UINT64_MAX when
 * unlimited), so the caller can warn when it is below want.
 */
uint64_t listener_fd_limit(uint64_t want);

#endif
