/*
 * store: every exchange of a session, in the order they began.
 *
 * Sources add exchanges as soon as they begin (so the UI can show requests in flight), touch
 * them as they change and complete them when no more bytes will come. The store bumps a
 * generation counter on every change; the UI redraws when it moved. Observers (the log, JSON
 * and HAR sinks) are called on add, update and completion.
 *
 * The store is append-only with caps on the number of exchanges and on their memory. Past a
 * cap it evicts the oldest completed exchange (never a pinned one) and counts it; an evicted
 * exchange's id no longer resolves. With a cap of zero exchanges, completed exchanges are freed
 * right after the observers saw them: that is how non-interactive runs keep memory flat.
 */
#ifndef HSPY_STORE_H
#define HSPY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"

struct store_observer {
    void *data;
    void (*on_add)(void *data, struct exchange *ex);      /* may be NULL */
    void (*on_update)(void *data, struct exchange *ex);   /* may be NULL */
    void (*on_complete)(void *data, struct exchange *ex); /* may be NULL */
    void (*on_evict)(void *data, struct exchange *ex);    /* before it is freed; may be NULL */
};

enum { STORE_OBSERVERS_MAX = 8 };
#define STORE_MAX_FLOWS_DEFAULT  100000u
#define STORE_MAX_MEMORY_DEFAULT ((size_t)1 << 30)

struct store_counters {
    uint64_t added;         /* exchanges ever added */
    uint64_t completed;     /* exchanges ever completed */
    uint64_t with_warnings; /* kept completed exchanges that carried a warning when completed */
    uint64_t evicted;       /* exchanges dropped by the caps */
    uint64_t bytes;         /* wire bytes of completed exchanges (both sides) */
    uint64_t held;          /* exchanges currently held */
};

struct store {
    struct exchange **ring; /* slot (id - base) % cap for ids base .. next-1; NULL = evicted */
    size_t ring_cap;
    uint64_t base;       /* lowest id still in the ring */
    uint64_t next;       /* id the next exchange gets */
    size_t live;         /* non-NULL entries */
    uint64_t evict_from; /* eviction walk resumes here (see store.c) */
    uint64_t *behind;    /* ids unpinned behind evict_from, oldest candidates first */
    size_t nbehind, behind_cap;
    size_t max_flows;    /* cap on completed exchanges kept */
    size_t max_memory;   /* cap on exchange_memory() summed over kept exchanges */
    size_t memory;       /* current sum for completed exchanges */
    uint64_t generation; /* changes whenever anything visible changed */
    struct store_counters counters;
    struct store_observer observers[STORE_OBSERVERS_MAX];
    size_t nobservers;
    /* Called on each exchange as it completes, before any observer sees it (analyses that add
     * warnings, such as cache_record); NULL for none. */
    void (*analyze)(struct exchange *ex);
    /* Where dropped exchanges go for reuse; NULL: they are freed. */
    struct exchange_pool *pool;
};

void store_init(struct store *s, size_t max_flows, size_t max_memory);
/* Frees every exchange still held (pinned ones too: call at shutdown only). */
void store_cleanup(struct store *s);
/* Registers an observer (up to STORE_OBSERVERS_MAX; asserts otherwise). */
void store_observe(struct store *s, const struct store_observer *o);
/* Removes every observer registered with this data pointer (a sink that closes before the
 * store is cleaned up). Unknown data is a no-op. */
void store_unobserve(struct store *s, const void *data);

/*
 * Takes ownership of ex, gives it the next id and pins it (the source still writes to it).
 * Returns the id.
 */
uint64_t store_add(struct store *s, struct exchange *ex);
/*
 * store_add with a chosen id (HAR import gives exchanges back the ids of the session that
 * wrote them): id must be at least store_end_id; the ids skipped never resolve. Returns id.
 */
uint64_t store_add_as(struct store *s, struct exchange *ex, uint64_t id);
/* The exchange changed (bytes, head, flags): observers' on_update, generation bump. */
void store_touch(struct store *s, struct exchange *ex);
/*
 * The source is done with ex: sets EX_DONE, unpins, calls on_complete and applies the caps
 * (which may free ex right away: do not use ex after this call).
 */
void store_complete(struct store *s, struct exchange *ex);
/* Extra pins for holders other than the source (intercept, replay); unpin may evict. */
void store_pin(struct store *s, struct exchange *ex);
void store_unpin(struct store *s, struct exchange *ex);

/* The exchange with this id, or NULL when evicted or unknown. */
struct exchange *store_get(const struct store *s, uint64_t id);
/* Ids currently resolvable lie in [store_first_id, store_end_id). */
static inline uint64_t store_first_id(const struct store *s)
{
    return s->base;
}
static inline uint64_t store_end_id(const struct store *s)
{
    return s->next;
}
/* Removes an exchange on the user's request (delete key). Pinned exchanges are refused (-1). */
int store_remove(struct store *s, uint64_t id);
/* Removes every completed exchange (clear key); returns how many went. */
size_t store_clear(struct store *s);
/*
 * The same in steps: removes the completed exchanges with ids in [*from, end), looking at most
 * budget ids (0: no limit) and moving *from past them. Returns how many went.
 */
size_t store_clear_some(struct store *s, uint64_t *from, uint64_t end, size_t budget);

#endif
