/*
 * store owns every exchange of a session and the policy that bounds them. It is a ring of
 * pointers indexed by id; evicted or removed slots become NULL. It never draws and never
 * writes files: observers do.
 */
#include "hspy/store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

void store_init(struct store *s, size_t max_flows, size_t max_memory)
{
    memset(s, 0, sizeof *s);
    s->base = 1;
    s->next = 1;
    s->max_flows = max_flows;
    s->max_memory = max_memory;
}

void store_cleanup(struct store *s)
{
    for (size_t i = 0; i < s->ring_cap; i++)
        exchange_free(s->ring[i]);
    free(s->ring);
    free(s->behind);
    memset(s, 0, sizeof *s);
}

void store_observe(struct store *s, const struct store_observer *o)
{
    assert(s->nobservers < STORE_OBSERVERS_MAX);
    s->observers[s->nobservers++] = *o;
}

void store_unobserve(struct store *s, const void *data)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->nobservers; i++)
        if (s->observers[i].data != data)
            s->observers[kept++] = s->observers[i];
    s->nobservers = kept;
}

static struct exchange **slot_of(const struct store *s, uint64_t id)
{
    return &s->ring[id % s->ring_cap];
}

/* Ensures the ring can hold ids base .. next (inclusive of the one about to be added). */
static void grow_ring(struct store *s)
{
    size_t span = (size_t)(s->next - s->base) + 1;
    if (span <= s->ring_cap)
        return;
    size_t cap = s->ring_cap ? s->ring_cap * 2 : 1024;
    while (cap < span)
        cap *= 2;
    struct exchange **ring = xcalloc(cap, sizeof *ring);
    for (uint64_t id = s->base; id < s->next; id++)
        ring[id % cap] = *slot_of(s, id);
    free(s->ring);
    s->ring = ring;
    s->ring_cap = cap;
}

/* Moves base past evicted slots at the front so the ring does not grow without need. */
static void advance_base(struct store *s)
{
    while (s->base < s->next && *slot_of(s, s->base) == NULL)
        s->base++;
}

static void drop(struct store *s, uint64_t id, bool evicted)
{
    struct exchange **slot = slot_of(s, id);
    struct exchange *ex = *slot;
    if (!ex)
        return;
    for (size_t i = 0; i < s->nobservers; i++)
        if (s->observers[i].on_evict)
            s->observers[i].on_evict(s->observers[i].data, ex);
    if (ex->flags & EX_DONE) {
        size_t held = exchange_memory(ex);
        s->memory -= held <= s->memory ? held : s->memory;
    }
    if (ex->warned_counted)
        s->counters.with_warnings--;
    if (evicted)
        s->counters.evicted++;
    *slot = NULL;
    s->live--;
    exchange_pool_put(s->pool, ex);
    s->generation++;
}

static bool over_caps(const struct store *s)
{
    return s->live > s->max_flows || s->memory > s->max_memory;
}

/*
 * Kept exchanges are evicted oldest first, long after they were last touched: their memory is
 * far from the cache. Evicting one reads its struct, and the next exchange reuses the struct
 * and the block it leaves. So after an eviction the next two candidates are fetched ahead, in
 * the background: the struct of the one after next, the arena block of the next one (whose
 * struct was fetched the time before).
 */
static void prefetch_victims(const struct store *s)
{
    const struct exchange *after_next = store_get(s, s->evict_from + 1);
    const struct exchange *next = store_get(s, s->evict_from);
    if (after_next)
        exchange_prefetch(after_next);
    if (next)
        exchange_prefetch_arena(next);
}

/*
 * Evicts the oldest unpinned exchanges while a cap is exceeded. evict_from remembers where the
 * previous walk stopped so that pinned exchanges at the front (a long tunnel, a slow client)
 * are not walked over again and again: every exchange behind it was evicted, or pinned when
 * the walk passed. Those unpinned since are listed in behind and go first; the walk never
 * moves back, so slots are visited once each however many exchanges stay pinned.
 */
static void enforce_caps(struct store *s)
{
    if (s->evict_from < s->base)
        s->evict_from = s->base;
    uint64_t evicted = s->counters.evicted;
    size_t k = 0;
    while (k < s->nbehind && over_caps(s)) {
        struct exchange *ex = store_get(s, s->behind[k++]);
        if (ex && ex->pins == 0)
            drop(s, ex->id, true);
    }
    if (k > 0) {
        memmove(s->behind, s->behind + k, (s->nbehind - k) * sizeof *s->behind);
        s->nbehind -= k;
    }
    while (over_caps(s) && s->evict_from < s->next) {
        struct exchange *ex = *slot_of(s, s->evict_from);
        if (ex && ex->pins == 0)
            drop(s, s->evict_from, true);
        s->evict_from++;
    }
    advance_base(s);
    if (s->counters.evicted != evicted)
        prefetch_victims(s);
}

/* Lists id as unpinned behind the walk; entries gone or pinned again are pruned as it grows. */
static void note_behind(struct store *s, uint64_t id)
{
    if (s->nbehind == s->behind_cap) {
        size_t w = 0;
        for (size_t i = 0; i < s->nbehind; i++) {
            const struct exchange *ex = store_get(s, s->behind[i]);
            if (ex && ex->pins == 0)
                s->behind[w++] = s->behind[i];
        }
        s->nbehind = w;
        if (s->nbehind == s->behind_cap)
            s->behind = xgrow(s->behind, &s->behind_cap, s->nbehind + 1, sizeof *s->behind);
    }
    s->behind[s->nbehind++] = id;
}

uint64_t store_add(struct store *s, struct exchange *ex)
{
    grow_ring(s);
    ex->id = s->next++;
    ex->pins++;
    *slot_of(s, ex->id) = ex;
    s->live++;
    s->counters.added++;
    s->generation++;
    for (size_t i = 0; i < s->nobservers; i++)
        if (s->observers[i].on_add)
            s->observers[i].on_add(s->observers[i].data, ex);
    return ex->id;
}

uint64_t store_add_as(struct store *s, struct exchange *ex, uint64_t id)
{
    assert(id >= s->next);
    /* With nothing kept the ring restarts at id; otherwise the skipped slots stay empty. */
    if (s->live == 0)
        s->base = s->evict_from = id;
    s->next = id;
    return store_add(s, ex);
}

void store_touch(struct store *s, struct exchange *ex)
{
    s->generation++;
    for (size_t i = 0; i < s->nobservers; i++)
        if (s->observers[i].on_update)
            s->observers[i].on_update(s->observers[i].data, ex);
}

void store_complete(struct store *s, struct exchange *ex)
{
    assert(ex->pins > 0);
    if (s->analyze)
        s->analyze(ex);
    ex->flags |= EX_DONE;
    s->counters.completed++;
    if (ex->nwarnings) {
        s->counters.with_warnings++;
        ex->warned_counted = true;
    }
    s->counters.bytes += ex->req.wire_bytes + ex->resp.wire_bytes;
    s->memory += exchange_memory(ex);
    s->generation++;
    for (size_t i = 0; i < s->nobservers; i++)
        if (s->observers[i].on_complete)
            s->observers[i].on_complete(s->observers[i].data, ex);
    store_unpin(s, ex);
}

/*
 * A finished exchange stays: its memory is moved into one right-sized block (see
 * exchange_compact), so what a long history costs is what the exchanges hold, not the slack
 * their buffers grew with, and the buffers it leaves are freed while still warm in the cache
 * for the next exchange to reuse.
 */
static void keep(struct store *s, struct exchange *ex)
{
    size_t before = exchange_memory(ex);
    exchange_compact(ex, s->pool);
    size_t after = exchange_memory(ex);
    s->memory = s->memory - (before <= s->memory ? before : s->memory) + after;
}

void store_pin(struct store *s, struct exchange *ex)
{
    (void)s;
    ex->pins++;
}

void store_unpin(struct store *s, struct exchange *ex)
{
    assert(ex->pins > 0);
    if (--ex->pins == 0) {
        if (ex->id < s->evict_from)
            note_behind(s, ex->id);
        uint64_t id = ex->id;
        enforce_caps(s);
        /* The caps may have freed ex: only the id is safe to look at again. */
        struct exchange *kept = store_get(s, id);
        if (kept && (kept->flags & EX_DONE))
            keep(s, kept);
    }
}

struct exchange *store_get(const struct store *s, uint64_t id)
{
    if (id < s->base || id >= s->next)
        return NULL;
    return *slot_of(s, id);
}

int store_remove(struct store *s, uint64_t id)
{
    struct exchange *ex = store_get(s, id);
    if (!ex || ex->pins)
        return -1;
    drop(s, id, false);
    advance_base(s);
    return 0;
}

size_t store_clear_some(struct store *s, uint64_t *from, uint64_t end, size_t budget)
{
    size_t n = 0;
    uint64_t id = *from > s->base ? *from : s->base;
    if (end > s->next)
        end = s->next;
    if (budget && end > id && end - id > budget)
        end = id + budget;
    for (; id < end; id++) {
        struct exchange *ex = *slot_of(s, id);
        if (ex && ex->pins == 0) {
            drop(s, id, false);
            n++;
        }
    }
    if (id > *from)
        *from = id;
    advance_base(s);
    return n;
}

size_t store_clear(struct store *s)
{
    uint64_t from = s->base;
    return store_clear_some(s, &from, s->next, 0);
}
