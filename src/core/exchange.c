/*
 * exchange owns one request/response pair and all memory hanging off it. It never parses and
 * never does I/O; the conversation fills it, sinks read it.
 */
#include "hspy/exchange.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/sha256.h"
#include "hspy/xmalloc.h"

/*
 * With AddressSanitizer, an exchange waiting in the pool is poisoned: a pointer someone kept to
 * an exchange the store dropped fails as loudly as it would if the exchange had been freed.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HSPY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HSPY_ASAN 1
#endif
#endif
#ifdef HSPY_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n)   ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum { WARNINGS_FIRST = 4 };

static const char *const TIME_NAMES[T__COUNT] = {
    [T_REQ_FIRST] = "request_first_byte",    [T_REQ_HEAD] = "request_head",
    [T_REQ_LAST] = "request_last_byte",      [T_UP_CONNECT] = "upstream_connect",
    [T_UP_CONNECTED] = "upstream_connected", [T_REQ_FORWARDED] = "request_forwarded",
    [T_RESP_FIRST] = "response_first_byte",  [T_RESP_HEAD] = "response_head",
    [T_RESP_LAST] = "response_last_byte",
};

const char *exchange_time_name(enum exchange_time t)
{
    return (unsigned)t < T__COUNT ? TIME_NAMES[t] : "?";
}

static const char *const FLAG_NAMES[] = {
    "done",          "incomplete", "truncated",  "gap",     "tunnel",  "held",
    "intercepted",   "edited",     "replay",     "killed",  "timeout", "client-abort",
    "upstream-fail", "rejected",   "no-request", "evicted",
};

const char *exchange_flag_name(uint32_t flag)
{
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof FLAG_NAMES[0]; i++)
        if (flag == (uint32_t)1 << i)
            return FLAG_NAMES[i];
    return "?";
}

struct exchange *exchange_new(const struct exchange_limits *limits)
{
    struct exchange *ex = xcalloc(1, sizeof *ex);
    size_t raw_max = (size_t)limits->head_max + limits->body_keep;
    message_init(&ex->req, raw_max);
    message_init(&ex->resp, raw_max);
    arena_init(&ex->arena);
    return ex;
}

void exchange_free(struct exchange *ex)
{
    if (!ex)
        return;
    /* After exchange_compact small raw buffers live in the arena. */
    if (arena_owns(&ex->arena, ex->req.raw.data))
        ex->req.raw.data = NULL;
    if (arena_owns(&ex->arena, ex->resp.raw.data))
        ex->resp.raw.data = NULL;
    message_cleanup(&ex->req);
    message_cleanup(&ex->resp);
    arena_cleanup(&ex->arena);
    if (ex->edit) {
        for (int s = 0; s < 2; s++) {
            dynbuf_cleanup(&ex->edit->before[s]);
            dynbuf_cleanup(&ex->edit->pending[s]);
        }
        free(ex->edit);
    }
    free(ex);
}

/* Empties m's raw buffer for reuse, or frees it when it is large or lives in the arena. */
static void raw_clear(struct exchange *ex, struct message *m)
{
    if (arena_owns(&ex->arena, m->raw.data)) { /* compacted: goes with the arena */
        m->raw.data = NULL;
        m->raw.cap = 0;
    } else if (m->raw.cap > EXCHANGE_POOL_RAW_MAX)
        dynbuf_cleanup(&m->raw);
    m->raw.len = 0;
}

/* A kept raw buffer back into a freshly initialised message. */
static void raw_restore(struct message *m, const struct dynbuf *kept)
{
    if (!kept->data)
        return;
    m->raw.data = kept->data;
    m->raw.cap = kept->cap;
    m->raw.data[0] = '\0';
}

/* The pool's last exchange, taken out (and usable again under AddressSanitizer). */
static struct exchange *pool_pop(struct exchange_pool *pool)
{
    struct exchange *ex = pool->free[--pool->n];
    POOL_UNPOISON(ex, sizeof *ex);
    if (ex->req.raw.data)
        POOL_UNPOISON(ex->req.raw.data, ex->req.raw.cap);
    if (ex->resp.raw.data)
        POOL_UNPOISON(ex->resp.raw.data, ex->resp.raw.cap);
    return ex;
}

/* The pool's last set of parts, taken out into the arena and raw buffers given. */
static void parts_pop(struct exchange_pool *pool, struct arena *arena, struct dynbuf *req,
                      struct dynbuf *resp)
{
    struct exchange_parts *p = &pool->parts[--pool->nparts];
    *arena = p->arena;
    *req = p->raw[SIDE_CLIENT];
    *resp = p->raw[SIDE_SERVER];
    for (int s = 0; s < 2; s++)
        if (p->raw[s].data)
            POOL_UNPOISON(p->raw[s].data, p->raw[s].cap);
}

struct exchange *exchange_pool_get(struct exchange_pool *pool, const struct exchange_limits *limits)
{
    if (!pool || (pool->n == 0 && pool->nparts == 0))
        return exchange_new(limits);
    struct exchange *ex;
    struct dynbuf req = {0}, resp = {0};
    struct arena arena;
    arena_init(&arena);
    if (pool->n) {
        ex = pool_pop(pool);
        req = ex->req.raw;
        resp = ex->resp.raw;
        arena = ex->arena;
    } else
        ex = xmalloc(sizeof *ex);
    /* An exchange that comes back compacted has no raw buffers left (and at most the block it
     * was compacted into): a set of parts has them, and a first block of the usual size. */
    if (!req.data && !resp.data && pool->nparts) {
        arena_cleanup(&arena);
        parts_pop(pool, &arena, &req, &resp);
    }
    /* One memset for everything: the messages are then as message_init leaves them. */
    memset(ex, 0, sizeof *ex);
    size_t raw_max = (size_t)limits->head_max + limits->body_keep;
    dynbuf_init(&ex->req.raw, raw_max);
    dynbuf_init(&ex->resp.raw, raw_max);
    raw_restore(&ex->req, &req);
    raw_restore(&ex->resp, &resp);
    ex->arena = arena;
    return ex;
}

void exchange_pool_put(struct exchange_pool *pool, struct exchange *ex)
{
    if (!ex)
        return;
    if (!pool || pool->n == EXCHANGE_POOL_MAX || ex->edit) {
        exchange_free(ex);
        return;
    }
    raw_clear(ex, &ex->req);
    raw_clear(ex, &ex->resp);
    arena_clear(&ex->arena);
    if (ex->req.raw.data)
        POOL_POISON(ex->req.raw.data, ex->req.raw.cap);
    if (ex->resp.raw.data)
        POOL_POISON(ex->resp.raw.data, ex->resp.raw.cap);
    POOL_POISON(ex, sizeof *ex);
    pool->free[pool->n++] = ex;
}

void exchange_pool_cleanup(struct exchange_pool *pool)
{
    while (pool->n > 0)
        exchange_free(pool_pop(pool));
    while (pool->nparts > 0) {
        struct arena arena;
        struct dynbuf req, resp;
        parts_pop(pool, &arena, &req, &resp);
        arena_cleanup(&arena);
        free(req.data);
        free(resp.data);
    }
}

/* Room in the warnings array for n warnings: it grows by doubling from WARNINGS_FIRST, so the
 * count alone tells (exchange_compact keeps that much). */
static size_t warnings_cap(size_t n)
{
    size_t cap = WARNINGS_FIRST;
    while (cap < n)
        cap *= 2;
    return n ? cap : 0;
}

static void grow_warnings(struct exchange *ex)
{
    size_t n = ex->nwarnings;
    if (n < warnings_cap(n))
        return;
    struct warning *w = arena_alloc(&ex->arena, warnings_cap(n + 1) * sizeof *w);
    if (n)
        memcpy(w, ex->warnings, n * sizeof *w);
    ex->warnings = w;
}

void exchange_warn(struct exchange *ex, enum warning_code code, enum side side, uint64_t offset,
                   const char *detail, ...)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        if (w->code == code && w->side == side && w->offset == offset)
            return;
    }
    if (ex->nwarnings >= EXCHANGE_WARNINGS_MAX) {
        ex->warnings_dropped++;
        return;
    }
    grow_warnings(ex);
    struct warning *w = &ex->warnings[ex->nwarnings++];
    w->code = (uint16_t)code;
    w->side = (uint8_t)side;
    w->offset = offset;
    w->detail = NULL;
    if (detail) {
        va_list ap;
        va_start(ap, detail);
        w->detail = arena_vprintf(&ex->arena, detail, ap);
        va_end(ap);
    }
}

bool exchange_add_interim(struct exchange *ex, struct message *m, struct message_interim in)
{
    if (m->ninterim >= MESSAGE_INTERIM_MAX)
        return false;
    if (!m->interim)
        m->interim = arena_alloc(&ex->arena, MESSAGE_INTERIM_MAX * sizeof *m->interim);
    m->interim[m->ninterim++] = in;
    return true;
}

bool exchange_has_warning(const struct exchange *ex, enum warning_code code)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        if (ex->warnings[i].code == code)
            return true;
    return false;
}

const struct warning *exchange_desync_warning(const struct exchange *ex)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        if (ex->warnings[i].side == SIDE_CLIENT && warning_risks_desync(ex->warnings[i].code))
            return &ex->warnings[i];
    return NULL;
}

void exchange_fail(struct exchange *ex, uint32_t flags, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex->error = arena_vprintf(&ex->arena, fmt, ap);
    va_end(ap);
    ex->flags |= flags;
}

size_t exchange_memory(const struct exchange *ex)
{
    size_t n = sizeof *ex + ex->arena.bytes;
    if (ex->edit)
        for (int s = 0; s < 2; s++)
            n += ex->edit->before[s].cap + ex->edit->pending[s].cap;
    if (!arena_owns(&ex->arena, ex->req.raw.data))
        n += ex->req.raw.cap;
    if (!arena_owns(&ex->arena, ex->resp.raw.data))
        n += ex->resp.raw.cap;
    return n;
}

/* Cache line size, and the lines of an arena block worth asking for (a small exchange's). */
enum { PREFETCH_LINE = 64, PREFETCH_ARENA_LINES = 8 };

void exchange_prefetch(const struct exchange *ex)
{
    for (size_t off = 0; off < sizeof *ex; off += PREFETCH_LINE)
        __builtin_prefetch((const char *)ex + off, 1);
}

void exchange_prefetch_arena(const struct exchange *ex)
{
    const char *b = (const char *)ex->arena.head;
    for (size_t i = 0; b && i < PREFETCH_ARENA_LINES; i++)
        __builtin_prefetch(b + i * PREFETCH_LINE, 1);
}

/*
 * Compaction rebuilds the arena object by object into one block. Each pointer is moved only
 * when it points into the old arena, so a pointer to anything else (a constant string) stays
 * valid as it is. The block is sized in advance from what the old arena handed out plus the
 * small raw buffers: everything moved came from there, and what nothing points to any more (a
 * warnings array that grew, a replaced note) is all the block can have to spare.
 */
struct compaction {
    struct arena *old;
    struct arena *into;
    uint8_t *block;               /* the new block, taken from into in one piece */
    size_t cap;                   /* its size */
    size_t size;                  /* bytes of it moved into so far */
    struct exchange_parts *spare; /* where buffers left behind go, or NULL: freed */
};

/* n bytes from p at the next place in the block, rounded as the arena rounds. The block is
 * sized for everything (a test build stops when it is not); should it ever fall short, the rest
 * goes to the arena as usual. */
static void *copy_in(struct compaction *c, const void *p, size_t n)
{
    size_t r = arena_rounded(n ? n : 1);
    if (r > c->cap - c->size) {
        assert(!"compaction block sized too small");
        return arena_memdup(c->into, p, n);
    }
    void *q = c->block + c->size;
    c->size += r;
    if (n)
        memcpy(q, p, n);
    return q;
}

static const void *move(struct compaction *c, const void *p, size_t n)
{
    if (!p || !arena_owns(c->old, p))
        return p;
    return copy_in(c, p, n);
}

static const char *move_str(struct compaction *c, const char *s)
{
    return s ? move(c, s, strlen(s) + 1) : NULL;
}

/* A raw buffer left behind: kept in the spare parts when small enough, else freed. */
static void leave_raw(struct compaction *c, struct dynbuf *raw, enum side side)
{
    if (c->spare && raw->cap <= EXCHANGE_POOL_RAW_MAX) {
        c->spare->raw[side] = (struct dynbuf){.data = raw->data, .cap = raw->cap};
        POOL_POISON(raw->data, raw->cap);
    } else
        free(raw->data);
}

static void move_raw(struct compaction *c, struct dynbuf *raw, enum side side)
{
    if (!raw->data)
        return;
    bool owned = arena_owns(c->old, raw->data);
    if (!owned && raw->len + 1 > EXCHANGE_COMPACT_INLINE_MAX) {
        /* Large: trimmed in place rather than copied (the growth by doubling left slack). */
        if (raw->cap > raw->len + 1) {
            raw->data = xrealloc(raw->data, raw->len + 1);
            raw->cap = raw->len + 1;
        }
        return;
    }
    uint8_t *copy = copy_in(c, raw->data, raw->len + 1);
    if (!owned)
        leave_raw(c, raw, side);
    raw->data = copy;
    raw->cap = raw->len + 1;
}

static void move_message(struct compaction *c, struct message *m, enum side side)
{
    move_raw(c, &m->raw, side);
    /* Casts: the moved copies are this exchange's own memory, as the originals were. */
    m->head.headers =
        (struct http_header *)move(c, m->head.headers, m->head.cap * sizeof *m->head.headers);
    if (m->gaps)
        m->gaps = (struct message_gap *)move(c, m->gaps, MESSAGE_GAPS_MAX * sizeof *m->gaps);
    if (m->interim)
        m->interim =
            (struct message_interim *)move(c, m->interim, MESSAGE_INTERIM_MAX * sizeof *m->interim);
    m->sha256 = move(c, m->sha256, SHA256_DIGEST_LEN);
    m->trailer = move(c, m->trailer, m->trailer_len);
    m->chunk_ext = move(c, m->chunk_ext, message_chunk_ext_size(m));
}

static void move_all(struct compaction *c, struct exchange *ex)
{
    move_message(c, &ex->req, SIDE_CLIENT);
    move_message(c, &ex->resp, SIDE_SERVER);
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        ex->warnings[i].detail = move_str(c, ex->warnings[i].detail);
    ex->warnings =
        (struct warning *)move(c, ex->warnings, warnings_cap(ex->nwarnings) * sizeof *ex->warnings);
    ex->error = move_str(c, ex->error);
    ex->note = move_str(c, ex->note);
    ex->cache_label = move_str(c, ex->cache_label);
}

/* What a raw buffer adds to the compacted block: a small one not yet in the arena moves in. */
static size_t raw_share(const struct dynbuf *raw, const struct arena *old)
{
    if (!raw->data || arena_owns(old, raw->data) || raw->len + 1 > EXCHANGE_COMPACT_INLINE_MAX)
        return 0;
    return arena_rounded(raw->len + 1);
}

void exchange_compact(struct exchange *ex, struct exchange_pool *spares)
{
    struct arena old = ex->arena;
    size_t size = arena_used(&old) + raw_share(&ex->req.raw, &old) + raw_share(&ex->resp.raw, &old);
    arena_init(&ex->arena);
    arena_reserve(&ex->arena, size);
    /* The block is exactly size: one allocation takes all of it, and the moves fill it. */
    uint8_t *block = size ? arena_alloc(&ex->arena, size) : NULL;
    struct exchange_parts *spare = NULL;
    if (spares && spares->nparts < EXCHANGE_POOL_MAX) {
        spare = &spares->parts[spares->nparts];
        *spare = (struct exchange_parts){0};
    }
    struct compaction filling = {
        .old = &old, .into = &ex->arena, .block = block, .cap = size, .spare = spare};
    move_all(&filling, ex);
    if (spare) {
        arena_clear(&old); /* keeps the small first block, empty */
        spare->arena = old;
        if (old.head || spare->raw[SIDE_CLIENT].data || spare->raw[SIDE_SERVER].data)
            spares->nparts++;
    } else
        arena_cleanup(&old);
}

char *exchange_method(const struct exchange *ex, char *buf, size_t len)
{
    return message_span_str(&ex->req, ex->req.head.method, buf, len);
}

char *exchange_target(const struct exchange *ex, char *buf, size_t len)
{
    return message_span_str(&ex->req, ex->req.head.target, buf, len);
}

int exchange_status(const struct exchange *ex)
{
    return (ex->resp.flags & MSG_HEAD) ? ex->resp.head.status : 0;
}

int64_t exchange_start(const struct exchange *ex)
{
    if (ex->t[T_REQ_FIRST])
        return ex->t[T_REQ_FIRST];
    int64_t t0 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] && (!t0 || ex->t[i] < t0))
            t0 = ex->t[i];
    return t0;
}

int64_t exchange_duration(const struct exchange *ex)
{
    /* Only a response that ended says how long the exchange took: a request alone (killed,
     * unanswered, cut short) has no duration, not the time its own bytes took. */
    int64_t start = ex->t[T_REQ_FIRST] ? ex->t[T_REQ_FIRST] : ex->t[T_RESP_FIRST];
    int64_t end = ex->t[T_RESP_LAST];
    if (!start || !end || end < start)
        return -1;
    return end - start;
}

char *exchange_host(const struct exchange *ex, char *buf, size_t len)
{
    if (message_header_str(&ex->req, "host", buf, len))
        return buf;
    char target[512];
    exchange_target(ex, target, sizeof target);
    const char *p = strstr(target, "://");
    if (p) {
        p += 3;
        size_t n = strcspn(p, "/?#");
        snprintf(buf, len, "%.*s", (int)n, p);
        return buf;
    }
    if (ex->req.flags & MSG_HEAD && ex->req.head.flags & HEAD_AUTHORITY_FORM) {
        snprintf(buf, len, "%s", target);
        return buf;
    }
    return endpoint_format(&ex->server, buf, len);
}
