/*
 * replay: sending a recorded (or edited) request again, as a new exchange.
 *
 * Each replay opens its own connection to a target (a host name, resolved on the loop, or an
 * address), writes the request bytes exactly as given, reads the response through the
 * conversation engine and closes. The exchange is stored like any other, flagged EX_REPLAY
 * with replay_of naming the original; a failure (no such host, refused, timeout) is recorded
 * on it. At most REPLAY_INFLIGHT_MAX replays run at once; more are refused with a reason.
 */
#ifndef HSPY_REPLAY_H
#define HSPY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/conn.h"
#include "hspy/exchange.h"
#include "hspy/http.h"
#include "hspy/store.h"

enum { REPLAY_INFLIGHT_MAX = 64 };

struct replay;

struct replayer_counters {
    uint64_t started;
    uint64_t answered; /* a response head arrived */
    uint64_t failed;   /* lookup, connect, timeout or a cut response */
};

struct replayer {
    uv_loop_t *loop;
    struct store *store;
    struct http_limits limits;
    struct exchange_limits ex_limits;
    uint64_t *conn_ids; /* the session's connection numbering */
    uint64_t timeout_ms;
    struct conn_group conns;
    struct replay *first; /* in flight */
    size_t n;
    bool closing;
    struct replayer_counters counters;
};

/* Prepares rp on loop; replays idle for timeout_ms (0: never) fail with a timeout. */
void replayer_init(struct replayer *rp, uv_loop_t *loop, struct store *store,
                   const struct http_limits *limits, const struct exchange_limits *exl,
                   uint64_t *conn_ids, uint64_t timeout_ms);
/* Ends every replay in flight at once (recorded as cut); the loop finishes the closes. */
void replayer_close(struct replayer *rp);
/* Frees what is left once the loop finished the closes. */
void replayer_cleanup(struct replayer *rp);
/* True while replays are in flight or closing. */
bool replayer_busy(const struct replayer *rp);

/*
 * Sends req[0..n) (copied) to host:port as the replay of exchange `of` (0: none); the exchange
 * appears in the store once the connection is made or has failed. Returns 0, or -1 with the
 * reason in err (too many in flight, shutting down).
 */
int replayer_send(struct replayer *rp, const char *host, uint16_t port, const uint8_t *req,
                  size_t n, uint64_t of, char *err, size_t errlen);

#endif
