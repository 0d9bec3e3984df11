/*
 * exchange: one request and its response, as they crossed one connection.
 *
 * Either side may be missing or partial. An exchange owns all of its memory (the two raw
 * buffers and an arena for headers, warnings and strings); exchange_free releases everything
 * with one call. Sources (the conversation engine, HAR import) build exchanges; the store
 * holds them; sinks and the UI only read them.
 */
#ifndef HSPY_EXCHANGE_H
#define HSPY_EXCHANGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/arena.h"
#include "hspy/endpoint.h"
#include "hspy/message.h"
#include "hspy/side.h"
#include "hspy/warning.h"

enum exchange_flag {
    EX_DONE = 1 << 0,           /* no more bytes will be added (complete or ended) */
    EX_INCOMPLETE = 1 << 1,     /* ended before both messages completed */
    EX_TRUNCATED = 1 << 2,      /* some bytes were counted but not kept (caps, snap length) */
    EX_GAP = 1 << 3,            /* a capture was missing bytes */
    EX_TUNNEL = 1 << 4,         /* CONNECT or Upgrade: the connection became a tunnel */
    EX_HELD = 1 << 5,           /* currently held by an intercept */
    EX_INTERCEPTED = 1 << 6,    /* was held at some point */
    EX_EDITED = 1 << 7,         /* the user changed a message before it was sent */
    EX_REPLAY = 1 << 8,         /* created by a replay; see replay_of */
    EX_KILLED = 1 << 9,         /* the user killed the connection */
    EX_TIMEOUT = 1 << 10,       /* a peer timed out */
    EX_CLIENT_ABORT = 1 << 11,  /* the client went away early */
    EX_UPSTREAM_FAIL = 1 << 12, /* the upstream failed (see error) */
    EX_REJECTED = 1 << 13,      /* hspy answered an error because framing was impossible */
    EX_NO_REQUEST = 1 << 14,    /* response without a request */
    EX_EVICTED = 1 << 15,       /* (store bookkeeping; never set on a live exchange) */
};

/* Phases; each is ns since the epoch, 0 when not reached. */
enum exchange_time {
    T_REQ_FIRST = 0, /* first request byte */
    T_REQ_HEAD,      /* request head complete */
    T_REQ_LAST,      /* last request byte */
    T_UP_CONNECT,    /* proxy: upstream connect started */
    T_UP_CONNECTED,  /* proxy: upstream connected */
    T_REQ_FORWARDED, /* proxy: request fully written upstream */
    T_RESP_FIRST,    /* first response byte (interim responses included) */
    T_RESP_HEAD,     /* final response head complete */
    T_RESP_LAST,     /* last response byte */
    T__COUNT
};

const char *exchange_time_name(enum exchange_time t);
/* Stable lowercase name of one enum exchange_flag bit ("truncated", "client-abort"); "?" for a
 * value that is not a single known bit. Names are part of the JSON and HAR output. */
const char *exchange_flag_name(uint32_t flag);

/* Sizes an exchange's buffers. */
struct exchange_limits {
    uint32_t head_max; /* bytes of head kept (matches http_limits.head_max) */
    size_t body_keep;  /* body bytes kept per message; the rest is counted */
};
#define EXCHANGE_BODY_KEEP_DEFAULT ((size_t)1 << 20)
enum { EXCHANGE_WARNINGS_MAX = 64 };
/* exchange_compact copies a raw buffer up to this size (NUL included) into the arena block;
 * larger ones are trimmed to their length where they are. */
enum { EXCHANGE_COMPACT_INLINE_MAX = 1024 };

/* The user's changes to an exchange (intercept, craft, replay; see edit.h). Index: enum side. */
struct exchange_edit {
    struct dynbuf before[2];     /* the side's bytes before the edit that was sent replaced them */
    const char *before_label[2]; /* static text ("received"), or NULL when the side was not sent
                                    edited */
    struct dynbuf pending[2];    /* an edit made while held, not sent yet */
    bool has_pending[2];
};

struct exchange {
    uint64_t id;       /* 1-based, assigned by the store; 0 until stored */
    uint64_t conn_id;  /* connection number (1-based per session) */
    uint32_t conn_seq; /* 1-based position on its connection */
    uint32_t flags;    /* enum exchange_flag */
    struct endpoint client, server;
    int64_t t[T__COUNT];
    struct message req, resp;
    uint64_t tunnel_bytes[2]; /* EX_TUNNEL: bytes relayed per side after the switch */
    struct warning *warnings; /* in the arena, up to EXCHANGE_WARNINGS_MAX */
    uint32_t warnings_dropped;
    uint16_t nwarnings;
    bool cache_done;         /* cache_record ran: cache_outcomes and cache_label hold its result */
    bool warned_counted;     /* (store bookkeeping: counted in store counters.with_warnings) */
    uint32_t cache_outcomes; /* enum cache_outcome bits */
    uint32_t pins;           /* >0 while a source may still change it; the store never evicts it */
    const char *cache_label; /* flow-list label ("cacheable 1h"), arena string, or NULL */
    const char *error;       /* why it failed (arena string), or NULL */
    const char *note;        /* source's remark (e.g. "rule: webhook-ok"), or NULL */
    uint64_t replay_of;      /* EX_REPLAY: id of the original */
    struct exchange_edit *edit; /* the user's changes, or NULL (owned; freed with the exchange) */
    /* Holds only what these fields point to: req/resp head.headers, gaps, interim and sha256,
     * warnings and their details, error, note, cache_label (exchange_compact moves exactly
     * those). */
    struct arena arena;
};

struct exchange *exchange_new(const struct exchange_limits *limits);
/* Frees everything the exchange owns. NULL is a no-op. */
void exchange_free(struct exchange *ex);

/*
 * Freed exchanges kept for reuse, with their small arena block and small raw buffers, so that
 * a busy server does not call malloc and free several times per request. Holds only exchanges
 * nothing points to any more; a source takes from it (exchange_pool_get) and the store gives
 * back (exchange_pool_put). It also keeps the parts a compaction leaves behind (the arena's
 * small first block and small raw buffers, see exchange_compact): while the store keeps every
 * exchange it is given, no exchange comes back, and a new one gets those parts instead of
 * fresh allocations. Zero-initialise; exchange_pool_cleanup frees what it holds.
 */
enum {
    EXCHANGE_POOL_MAX = 64,       /* exchanges kept, and sets of parts kept; more are freed */
    EXCHANGE_POOL_RAW_MAX = 4096, /* raw buffers up to this capacity are kept with them */
};
/* What one exchange's buffers were, without the exchange. */
struct exchange_parts {
    struct arena arena;   /* one small empty block, or none */
    struct dynbuf raw[2]; /* index: enum side; only data and cap count */
};
struct exchange_pool {
    struct exchange *free[EXCHANGE_POOL_MAX];
    size_t n;
    struct exchange_parts parts[EXCHANGE_POOL_MAX];
    size_t nparts;
};
/* As exchange_new, reusing a pooled exchange, or pooled parts, when there are some. pool may be
 * NULL. */
struct exchange *exchange_pool_get(struct exchange_pool *pool,
                                   const struct exchange_limits *limits);
/* As exchange_free, keeping ex in the pool when there is room. pool may be NULL. */
void exchange_pool_put(struct exchange_pool *pool, struct exchange *ex);
void exchange_pool_cleanup(struct exchange_pool *pool);

static inline struct message *exchange_msg(struct exchange *ex, enum side s)
{
    return s == SIDE_CLIENT ? &ex->req : &ex->resp;
}

/* exchange_msg for readers. */
static inline const struct message *exchange_msg_const(const struct exchange *ex, enum side s)
{
    return s == SIDE_CLIENT ? &ex->req : &ex->resp;
}

/*
 * Records a warning. detail (printf format, may be NULL) is copied into the arena. Past
 * EXCHANGE_WARNINGS_MAX warnings are counted in warnings_dropped. Repeating the same code at
 * the same side and offset is ignored.
 */
void exchange_warn(struct exchange *ex, enum warning_code code, enum side side, uint64_t offset,
                   const char *detail, ...) __attribute__((format(printf, 5, 6)));
bool exchange_has_warning(const struct exchange *ex, enum warning_code code);
/* The first warning on the request side for which warning_risks_desync holds, or NULL. */
const struct warning *exchange_desync_warning(const struct exchange *ex);
/* Appends an interim (1xx) response to m, one of ex's messages. Returns false, keeping nothing,
 * when MESSAGE_INTERIM_MAX are kept already. */
bool exchange_add_interim(struct exchange *ex, struct message *m, struct message_interim in);
/* Sets ex->error (copied into the arena) and the given flags. */
void exchange_fail(struct exchange *ex, uint32_t flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Moves a finished exchange's memory into as few allocations as possible: the arena's
 * objects, and the raw buffers up to EXCHANGE_COMPACT_INLINE_MAX, go into one block of their
 * size (plus whatever the arena held that nothing pointed to any more); larger raw buffers are
 * trimmed to their length. Pointers into the arena and raw.data change (spans stay valid); the
 * struct itself stays where it is. Only for an exchange no source will change again: its raw
 * buffers cannot grow afterwards. The store calls it on each exchange it keeps. Compacting
 * twice is harmless. What is left behind (the old arena's small first block, raw buffers up to
 * EXCHANGE_POOL_RAW_MAX) goes to spares when it has room, for the next exchange, else is freed;
 * spares may be NULL.
 */
void exchange_compact(struct exchange *ex, struct exchange_pool *spares);

/* Bytes of memory the exchange holds (for the store's memory cap). */
size_t exchange_memory(const struct exchange *ex);

/*
 * Ask the processor to bring memory of the exchange into the cache without waiting for it;
 * they change nothing. exchange_prefetch: the whole struct. exchange_prefetch_arena: the first
 * lines of the arena's newest block, whose address is read from the struct (a wait unless the
 * struct was fetched before: ask for the struct first, the arena later).
 */
void exchange_prefetch(const struct exchange *ex);
void exchange_prefetch_arena(const struct exchange *ex);

/* Convenience views used by every sink. Strings are copied into buf; "" when absent. */
char *exchange_method(const struct exchange *ex, char *buf, size_t len);
char *exchange_target(const struct exchange *ex, char *buf, size_t len);
/* Status of the final response, 0 when none. */
int exchange_status(const struct exchange *ex);
/* When the exchange began: its first request byte, else the earliest phase reached (ns since
 * the epoch, 0 when none). */
int64_t exchange_start(const struct exchange *ex);
/* Duration in ns from the first request byte (without a request: the first response byte) to
 * the last response byte; -1 when the response has not ended (or never began) or the times are
 * out of order. */
int64_t exchange_duration(const struct exchange *ex);
/* Host: the Host header, else the authority of an absolute target, else the server endpoint. */
char *exchange_host(const struct exchange *ex, char *buf, size_t len);

#endif
