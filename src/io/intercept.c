/*
 * intercept owns the intercept filter, the list of holds, the hold timeout and the bookkeeping
 * a hold means for its exchange (pin, EX_HELD, the store's held counter, what an edit replaced).
 * It never touches a socket: the mode that registered a hold lets the message go on or kills
 * its connection through the hold's operations. It never draws; the interface calls it.
 */
#include "hspy/intercept.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/edit.h"
#include "hspy/xmalloc.h"

void intercept_init(struct intercept *ic, uv_loop_t *loop, struct store *store, uint64_t timeout_ms,
                    bool timeout_kills)
{
    memset(ic, 0, sizeof *ic);
    ic->loop = loop;
    ic->store = store;
    ic->timeout_ms = timeout_ms;
    ic->timeout_kills = timeout_kills;
    dynbuf_init(&ic->last_crafted, EDIT_MAX);
    uv_timer_init(loop, &ic->timer);
    ic->timer.data = ic;
    ic->timer_open = true;
}

void intercept_close(struct intercept *ic)
{
    if (!ic->timer_open)
        return;
    ic->timer_open = false;
    uv_close((uv_handle_t *)&ic->timer, NULL);
}

void intercept_cleanup(struct intercept *ic)
{
    filter_free(ic->filter);
    ic->filter = NULL;
    dynbuf_cleanup(&ic->last_crafted);
    while (ic->first) {
        /* Holds of connections that never reported their end: free without touching them. */
        struct intercept_hold *h = ic->first;
        ic->first = h->next;
        free(h);
    }
    ic->last = NULL;
    ic->n = 0;
}

int intercept_set_filter(struct intercept *ic, const char *expr, char *err, size_t errlen,
                         size_t *errpos)
{
    struct filter *f = NULL;
    if (*expr) {
        f = filter_compile(expr, err, errlen, errpos);
        if (!f)
            return -1;
    }
    filter_free(ic->filter);
    ic->filter = f;
    snprintf(ic->expr, sizeof ic->expr, "%s", expr);
    return 0;
}

bool intercept_wants(struct intercept *ic, const struct exchange *ex)
{
    if (!ic->filter || !filter_match(ic->filter, ex))
        return false;
    if (ic->n >= INTERCEPT_HOLDS_MAX) {
        ic->counters.overflow++;
        return false;
    }
    return true;
}

/* ---- the hold timeout ---- */

static void arm(struct intercept *ic);

static void on_timer(uv_timer_t *t)
{
    struct intercept *ic = t->data;
    uint64_t now = uv_now(ic->loop);
    /* Ids first: releasing may start new holds (the next request on a connection). */
    size_t n = 0;
    for (struct intercept_hold *h = ic->first; h && h->since_ms + ic->timeout_ms <= now;
         h = h->next)
        n++;
    uint64_t *ids = xmalloc((n ? n : 1) * sizeof *ids);
    n = 0;
    for (struct intercept_hold *h = ic->first; h && h->since_ms + ic->timeout_ms <= now;
         h = h->next)
        ids[n++] = h->id;
    for (size_t i = 0; i < n; i++) {
        struct exchange *ex = store_get(ic->store, ids[i]);
        if (!ex || !intercept_find(ic, ids[i]))
            continue;
        struct intercept_hold *h = intercept_find(ic, ids[i]);
        exchange_warn(ex, W_HOLD_TIMEOUT, (enum side)h->side, 0, "held for %" PRIu64 " ms: %s",
                      ic->timeout_ms, ic->timeout_kills ? "killed" : "released as it was");
        ic->counters.timed_out++;
        if (ic->timeout_kills)
            intercept_kill(ic, ids[i]);
        else
            intercept_accept(ic, ids[i]);
    }
    free(ids);
    arm(ic);
}

/* Runs the timer for the oldest hold (holds are listed oldest first). */
static void arm(struct intercept *ic)
{
    if (!ic->timer_open || !ic->timeout_ms)
        return;
    if (!ic->first) {
        uv_timer_stop(&ic->timer);
        return;
    }
    uint64_t now = uv_now(ic->loop), due = ic->first->since_ms + ic->timeout_ms;
    uv_timer_start(&ic->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- holds ---- */

struct intercept_hold *intercept_hold(struct intercept *ic, struct exchange *ex, enum side side,
                                      enum side edits, const struct intercept_hold_ops *ops,
                                      void *data)
{
    struct intercept_hold *h = xcalloc(1, sizeof *h);
    h->id = ex->id;
    h->side = (uint8_t)side;
    h->edits = (uint8_t)edits;
    h->since_ms = uv_now(ic->loop);
    h->ops = ops;
    h->data = data;
    h->prev = ic->last;
    if (ic->last)
        ic->last->next = h;
    else
        ic->first = h;
    ic->last = h;
    ic->n++;
    ic->counters.held++;
    ic->store->counters.held++;
    ex->flags |= EX_HELD | EX_INTERCEPTED;
    store_pin(ic->store, ex);
    store_touch(ic->store, ex);
    if (ic->n == 1)
        arm(ic);
    return h;
}

/* Takes h off the list and ends what holding meant for its exchange (not the pin: callers
 * unpin once they are done with the exchange). */
static struct exchange *unlink_hold(struct intercept *ic, struct intercept_hold *h)
{
    bool was_first = h == ic->first;
    if (h->prev)
        h->prev->next = h->next;
    else
        ic->first = h->next;
    if (h->next)
        h->next->prev = h->prev;
    else
        ic->last = h->prev;
    ic->n--;
    if (ic->store->counters.held)
        ic->store->counters.held--;
    struct exchange *ex = store_get(ic->store, h->id);
    if (ex) {
        ex->flags &= ~(uint32_t)EX_HELD;
        store_touch(ic->store, ex);
    }
    if (was_first)
        arm(ic);
    return ex;
}

void intercept_drop(struct intercept *ic, struct intercept_hold *h)
{
    struct exchange *ex = unlink_hold(ic, h);
    ic->counters.dropped++;
    free(h);
    if (ex)
        store_unpin(ic->store, ex);
}

struct intercept_hold *intercept_find(const struct intercept *ic, uint64_t id)
{
    for (struct intercept_hold *h = ic->first; h; h = h->next)
        if (h->id == id)
            return h;
    return NULL;
}

/*
 * An answer the mode composes (listen) replaces what it would have given: kept for the diff
 * here. A message that arrived (proxy) is replaced by the mode once it has all of it
 * (edit_replace), since only the mode knows when that is.
 */
static void record_before(struct intercept *ic, struct exchange *ex, enum side edits,
                          const struct intercept_release *r)
{
    if (!ic->answers)
        return;
    if (!(exchange_msg(ex, edits)->flags & MSG_HEAD) && ic->answers->preview) {
        struct dynbuf before;
        dynbuf_init(&before, EDIT_MAX);
        ic->answers->preview(ic->answers->data, ex, &before);
        edit_record(ex, edits, before.data, before.len, "default answer");
        dynbuf_cleanup(&before);
    }
    dynbuf_reset(&ic->last_crafted);
    dynbuf_append(&ic->last_crafted, r->bytes, r->len);
}

int intercept_release(struct intercept *ic, uint64_t id, const struct intercept_release *r)
{
    struct intercept_hold *h = intercept_find(ic, id);
    if (!h)
        return -1;
    struct exchange *ex = unlink_hold(ic, h);
    ic->counters.released++;
    if (r->answer != INTERCEPT_AS_IS)
        ic->counters.edited++;
    if (ex && r->answer == INTERCEPT_BYTES)
        record_before(ic, ex, (enum side)h->edits, r);
    if (ex)
        edit_revert(ex, (enum side)h->edits); /* staged: it goes out now (or not at all) */
    const struct intercept_hold_ops *ops = h->ops;
    void *data = h->data;
    free(h);
    if (ex) {
        ops->release(data, ex, r);
        store_unpin(ic->store, ex);
    }
    return 0;
}

int intercept_accept(struct intercept *ic, uint64_t id)
{
    struct intercept_hold *h = intercept_find(ic, id);
    if (!h)
        return -1;
    struct exchange *ex = store_get(ic->store, id);
    struct intercept_release r = {.answer = h->choice, .rule = h->rule};
    const struct dynbuf *staged = ex ? edit_pending(ex, (enum side)h->edits) : NULL;
    /* Copies: the staged edit is dropped while the release is recorded. */
    struct dynbuf bytes;
    dynbuf_init(&bytes, EDIT_MAX);
    struct delivery plan = h->plan;
    if (h->has_plan)
        r.plan = &plan;
    if (staged) {
        dynbuf_append(&bytes, staged->data, staged->len);
        r.answer = INTERCEPT_BYTES;
        r.bytes = bytes.data ? bytes.data : (const uint8_t *)"";
        r.len = bytes.len;
    }
    int rc = intercept_release(ic, id, &r);
    dynbuf_cleanup(&bytes);
    return rc;
}

size_t intercept_accept_all(struct intercept *ic)
{
    size_t n = ic->n, done = 0;
    uint64_t *ids = xmalloc((n ? n : 1) * sizeof *ids);
    n = 0;
    for (struct intercept_hold *h = ic->first; h; h = h->next)
        ids[n++] = h->id;
    for (size_t i = 0; i < n; i++)
        done += intercept_accept(ic, ids[i]) == 0;
    free(ids);
    return done;
}

int intercept_kill(struct intercept *ic, uint64_t id)
{
    struct intercept_hold *h = intercept_find(ic, id);
    if (!h)
        return -1;
    struct exchange *ex = unlink_hold(ic, h);
    ic->counters.killed++;
    const struct intercept_hold_ops *ops = h->ops;
    void *data = h->data;
    free(h);
    if (ex) {
        edit_revert(ex, SIDE_CLIENT);
        edit_revert(ex, SIDE_SERVER);
        ops->kill(data, ex);
        store_unpin(ic->store, ex);
    }
    return 0;
}
