/*
 * flowlist owns the flow list's rows: the ids shown, their order, the cursor and the marks. It
 * reads the store and deletes from it only on the user's request; it never draws.
 *
 * Invariant: ids[0..n) is ascending by (sort key, id) for sort_col, except that exchanges still
 * in flight are placed by the key they had when last placed (they are re-placed when their key
 * changes). Display position i maps to ids[i], or ids[n-1-i] when descending.
 */
#include "hspy/flowlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/idset.h"
#include "hspy/rowsort.h"
#include "hspy/search.h"
#include "hspy/xmalloc.h"

static const size_t NPOS = (size_t)-1;

static void sort_cancel(struct flowlist *fl);

/* Scratch ids kept between updates; a bigger scratch list is freed after use. */
enum { SCRATCH_KEEP = 4096 };

void flowlist_init(struct flowlist *fl, struct store *store)
{
    memset(fl, 0, sizeof *fl);
    fl->store = store;
    fl->sort_col = FLOWCOL_ID;
    fl->follow = true;
    fl->scan_budget = FLOWLIST_SCAN_BUDGET_DEFAULT;
    fl->scan_bytes = FLOWLIST_SCAN_BYTES_DEFAULT;
    fl->sort_budget = FLOWLIST_SORT_BUDGET_DEFAULT;
    fl->scanned = store_first_id(store);
    fl->removed_seen = store->counters.added - store->live;
}

void flowlist_cleanup(struct flowlist *fl)
{
    sort_cancel(fl);
    free(fl->ids_mem);
    free(fl->pending);
    free(fl->marks);
    free(fl->scratch);
    filter_free(fl->filter);
    memset(fl, 0, sizeof *fl);
}

/* --- ordering --- */

static bool by_id(const struct flowlist *fl)
{
    return fl->sort_col == FLOWCOL_ID;
}

static uint64_t sort_key(const struct flowlist *fl, const struct exchange *ex)
{
    return FLOWROW_COLUMNS[fl->sort_col].key(ex);
}

/* <0, 0, >0 as a sorts before, equal to (same id), after b. */
static int compare_ids(const struct flowlist *fl, uint64_t a, uint64_t b)
{
    if (a == b)
        return 0;
    if (!by_id(fl)) {
        const struct exchange *ea = store_get(fl->store, a), *eb = store_get(fl->store, b);
        if (ea && eb)
            return flowrow_compare(fl->sort_col, ea, eb);
    }
    return a < b ? -1 : 1;
}

/* For progress: gathering a row's key costs about as much as this many merge moves. */
enum { SORT_GATHER_MOVES = 8 };

/*
 * Sorts ids[0..n) by the current column and returns how many are left: sorting by another
 * column than the id looks every exchange up, and drops the ids of those gone from the store
 * (evicted since the last update); by id, they stay for compact.
 */
static size_t sort_ids(const struct flowlist *fl, uint64_t *ids, size_t n)
{
    if (by_id(fl)) {
        /* Scans produce ascending ids: idset_sort leaves them as they are unless a re-placed
         * exchange broke the order. */
        idset_sort(ids, n);
        return n;
    }
    struct rowsort r;
    rowsort_init(&r, fl->sort_col, n);
    rowsort_add(&r, fl->store, ids, n);
    rowsort_merge(&r, 0);
    const struct rowsort_item *sorted = rowsort_sorted(&r);
    size_t m = r.n;
    for (size_t i = 0; i < m; i++)
        ids[i] = sorted[i].id;
    rowsort_free(&r);
    return m;
}

/*
 * A re-sort in steps. It starts once no rebuild is under way (a rebuild scans the store into
 * rows by number, the cheap order to build, and is then re-sorted). The rows as they were when
 * it started (snap) have their keys gathered, then merged, while the rows keep their old order
 * and follow the traffic. Rows that may have left or moved meanwhile are known without looking
 * at every row again: in-flight exchanges (pending when it started) and rows added since (new
 * traffic, in-flight exchanges re-placed) are "unsettled" and placed afresh at the end; a
 * completed exchange's key and filter match do not change, so the others only need to be
 * still in the store (compact checks that, as usual) and still marked in a marked-only view.
 */
struct flowlist_sort {
    int col;
    bool descending;
    bool started;   /* the snapshot is taken */
    uint64_t *snap; /* the rows when it started; freed once gathered */
    size_t nsnap, gathered;
    struct rowsort run;
    uint64_t *unsettled; /* ids, in no order until the end */
    size_t nunsettled, unsettled_cap;
    uint64_t removed_seen; /* the list's removed_seen when it started */
};

static void push_unsettled(struct flowlist_sort *s, uint64_t id)
{
    if (s->nunsettled == s->unsettled_cap)
        s->unsettled =
            xgrow(s->unsettled, &s->unsettled_cap, s->nunsettled + 1, sizeof *s->unsettled);
    s->unsettled[s->nunsettled++] = id;
}

static void sort_cancel(struct flowlist *fl)
{
    struct flowlist_sort *s = fl->sorting;
    if (!s)
        return;
    free(s->snap);
    rowsort_free(&s->run);
    free(s->unsettled);
    free(s);
    fl->sorting = NULL;
}

/* In v[0..n) ascending: the first position holding x or more (n: none). */
static size_t lower_bound(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First position in ids[0..hi) whose row sorts after id. */
static size_t upper_bound(const struct flowlist *fl, size_t hi, uint64_t id)
{
    size_t lo = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare_ids(fl, fl->ids[mid], id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Makes room for need rows. The slots of rows gone from the front are reclaimed by sliding the
 * rows down, which moves them all: only when room is needed, and the allocation then has room
 * for at least a quarter more rows, so that each row moves a few times on average however long
 * the traffic goes on (rather than every row at every frame).
 */
static void reserve_ids(struct flowlist *fl, size_t need)
{
    if (fl->front + need <= fl->cap)
        return;
    if (fl->front) {
        memmove(fl->ids_mem, fl->ids, fl->n * sizeof *fl->ids);
        fl->front = 0;
    }
    if (need + need / 4 > fl->cap)
        fl->ids_mem = xgrow(fl->ids_mem, &fl->cap, need + need / 4, sizeof *fl->ids_mem);
    fl->ids = fl->ids_mem;
}

/* Takes the first k rows off the front without moving the others. */
static void drop_front(struct flowlist *fl, size_t k)
{
    fl->ids += k;
    fl->front += k;
    fl->n -= k;
}

/* Inserts add[0..k) (sorted here) at their places: at most k binary searches and one pass of
 * moves. */
static void insert_sorted(struct flowlist *fl, uint64_t *add, size_t k)
{
    if (!k)
        return;
    k = sort_ids(fl, add, k);
    reserve_ids(fl, fl->n + k);
    size_t i = fl->n;
    for (size_t j = k; j-- > 0;) {
        /* New traffic sorts after every row in the usual order: one comparison, no search. */
        size_t pos =
            i > 0 && compare_ids(fl, fl->ids[i - 1], add[j]) > 0 ? upper_bound(fl, i, add[j]) : i;
        memmove(&fl->ids[pos + j + 1], &fl->ids[pos], (i - pos) * sizeof *fl->ids);
        fl->ids[pos + j] = add[j];
        i = pos;
    }
    fl->n += k;
}

/* Removes the ids in rm[0..k) from the rows in one pass. */
static void remove_ids(struct flowlist *fl, const uint64_t *rm, size_t k)
{
    if (!k)
        return;
    /* A bitmap of at most a word per id, else a sorted array. */
    struct idset gone;
    idset_build(&gone, rm, k, (uint64_t)k * 64);
    size_t from = 0;
    if (by_id(fl)) {
        /* Rows are ascending ids: nothing before the smallest removed id moves. */
        from = lower_bound(fl->ids, fl->n, gone.lo);
    }
    size_t w = from;
    for (size_t i = from; i < fl->n; i++) {
        uint64_t id = fl->ids[i];
        if (idset_has(&gone, id))
            continue;
        fl->ids[w++] = id;
    }
    fl->n = w;
    idset_free(&gone);
}

/* --- membership --- */

static bool filtering(const struct flowlist *fl)
{
    return fl->filter || fl->marked_only;
}

static bool matches(const struct flowlist *fl, const struct exchange *ex)
{
    if (fl->marked_only && !flowlist_is_marked(fl, ex->id))
        return false;
    return !fl->filter || filter_match(fl->filter, ex);
}

static void push_scratch(struct flowlist *fl, size_t *k, uint64_t id)
{
    if (*k == fl->scratch_cap)
        fl->scratch = xgrow(fl->scratch, &fl->scratch_cap, *k + 1, sizeof *fl->scratch);
    fl->scratch[(*k)++] = id;
}

static void push_pending(struct flowlist *fl, uint64_t id, uint64_t key, bool shown)
{
    if (fl->npending == fl->pending_cap)
        fl->pending = xgrow(fl->pending, &fl->pending_cap, fl->npending + 1, sizeof *fl->pending);
    fl->pending[fl->npending++] = (struct flowlist_pending){id, key, shown};
}

/*
 * Appends ids the store gained since the last scan to add; in-flight ones become pending. At
 * most scan_budget exchanges, and with a filter reading bodies, about scan_bytes of them.
 */
static size_t scan_new(struct flowlist *fl, size_t k)
{
    uint64_t start =
        fl->scanned > store_first_id(fl->store) ? fl->scanned : store_first_id(fl->store);
    uint64_t end = store_end_id(fl->store);
    if (fl->scan_budget && end - start > fl->scan_budget)
        end = start + fl->scan_budget;
    size_t bytes_left = fl->scan_bytes && filter_reads_bodies(fl->filter) ? fl->scan_bytes : 0;
    uint64_t id = start;
    while (id < end) {
        flowrow_prefetch(fl->store, id + FLOWROW_PREFETCH_AHEAD, id + FLOWROW_PREFETCH_FAR);
        const struct exchange *ex = store_get(fl->store, id++);
        if (!ex)
            continue;
        bool shown = matches(fl, ex);
        if (!(ex->flags & EX_DONE))
            push_pending(fl, ex->id, by_id(fl) ? 0 : sort_key(fl, ex), shown);
        if (shown)
            push_scratch(fl, &k, ex->id);
        if (bytes_left) {
            size_t held = ex->req.raw.len + ex->resp.raw.len;
            if (held >= bytes_left)
                break;
            bytes_left -= held;
        }
    }
    fl->scanned = id;
    return k;
}

/*
 * Re-examines in-flight exchanges: one that started or stopped matching, or whose sort key
 * moved, is queued for removal (rm) and/or insertion (add). Completed ones leave the list.
 */
static void recheck_pending(struct flowlist *fl, uint64_t **rm, size_t *nrm, size_t *rm_cap,
                            size_t *nadd)
{
    size_t w = 0;
    for (size_t i = 0; i < fl->npending; i++) {
        struct flowlist_pending p = fl->pending[i];
        const struct exchange *ex = store_get(fl->store, p.id);
        if (!ex)
            continue;
        bool m = filtering(fl) ? matches(fl, ex) : true;
        uint64_t key = by_id(fl) ? 0 : sort_key(fl, ex);
        if (p.shown && (!m || key != p.key)) {
            if (*nrm == *rm_cap)
                *rm = xgrow(*rm, rm_cap, *nrm + 1, sizeof **rm);
            (*rm)[(*nrm)++] = p.id;
            p.shown = false;
        }
        if (m && !p.shown) {
            push_scratch(fl, nadd, p.id);
            p.shown = true;
            p.key = key;
        }
        if (!(ex->flags & EX_DONE))
            fl->pending[w++] = p;
    }
    fl->npending = w;
}

static void drop_gone_marks(struct flowlist *fl, bool full)
{
    size_t w = 0;
    for (size_t i = 0; i < fl->nmarks; i++) {
        uint64_t id = fl->marks[i];
        if (id < store_first_id(fl->store) || (full && !store_get(fl->store, id)))
            continue;
        fl->marks[w++] = id;
    }
    fl->nmarks = w;
}

/*
 * Drops rows whose exchange left the store. Ids below the store's first id are all gone; only
 * when the store has holes above it (deleted or evicted around pinned exchanges) is every row
 * looked up. Without holes and in id order (the usual case: the oldest evicted while traffic
 * flows), the gone rows are the first ones and are dropped without a pass over the others.
 */
static bool compact(struct flowlist *fl)
{
    uint64_t removed = fl->store->counters.added - fl->store->live;
    if (removed == fl->removed_seen)
        return false;
    fl->removed_seen = removed;
    uint64_t base = store_first_id(fl->store);
    bool holes = (store_end_id(fl->store) - base) != fl->store->live;
    if (!holes && by_id(fl)) {
        drop_front(fl, lower_bound(fl->ids, fl->n, base));
        drop_gone_marks(fl, false);
        return true;
    }
    size_t w = 0;
    for (size_t i = 0; i < fl->n; i++) {
        uint64_t id = fl->ids[i];
        if (id < base || (holes && !store_get(fl->store, id)))
            continue;
        fl->ids[w++] = id;
    }
    fl->n = w;
    drop_gone_marks(fl, holes);
    return true;
}

/* --- cursor --- */

static size_t position_of(const struct flowlist *fl, uint64_t id)
{
    if (!id || !fl->n)
        return NPOS;
    size_t idx = NPOS;
    if (by_id(fl)) {
        size_t lo = lower_bound(fl->ids, fl->n, id);
        if (lo < fl->n && fl->ids[lo] == id)
            idx = lo;
    } else {
        for (size_t i = 0; i < fl->n; i++) {
            if (fl->ids[i] == id) {
                idx = i;
                break;
            }
        }
    }
    if (idx == NPOS)
        return NPOS;
    return fl->descending ? fl->n - 1 - idx : idx;
}

size_t flowlist_find(const struct flowlist *fl, uint64_t id)
{
    return position_of(fl, id);
}

static void newest_recompute(struct flowlist *fl)
{
    fl->newest = 0;
    if (by_id(fl)) {
        if (fl->n)
            fl->newest = fl->ids[fl->n - 1];
        return;
    }
    for (size_t i = 0; i < fl->n; i++)
        if (fl->ids[i] > fl->newest)
            fl->newest = fl->ids[i];
}

/* After the rows changed: follow the newest, or keep the cursor on its exchange. */
static void place_cursor(struct flowlist *fl)
{
    if (!fl->n) {
        fl->cur = fl->top = 0;
        fl->cur_id = 0;
        return;
    }
    size_t pos = NPOS;
    if (fl->follow)
        pos = position_of(fl, fl->newest);
    else if (fl->cur < fl->n && flowlist_at(fl, fl->cur) == fl->cur_id)
        pos = fl->cur;
    else
        pos = position_of(fl, fl->cur_id);
    if (pos == NPOS) {
        pos = fl->cur < fl->n ? fl->cur : fl->n - 1;
        /* A rebuild may not have reached the selected flow yet: keep looking for it. */
        if (flowlist_busy(fl) && !fl->follow) {
            fl->cur = pos;
            return;
        }
    }
    fl->cur = pos;
    fl->cur_id = flowlist_at(fl, pos);
}

/* After a big update (the first scan of a full store) the scratch list holds as many ids as the
 * list: give that memory back rather than keep a second copy. */
static void release_scratch(struct flowlist *fl)
{
    if (fl->scratch_cap <= SCRATCH_KEEP)
        return;
    free(fl->scratch);
    fl->scratch = NULL;
    fl->scratch_cap = 0;
}

/* The pending entry of id, or NULL. */
static const struct flowlist_pending *pending_find(const struct flowlist *fl, uint64_t id)
{
    size_t lo = 0, hi = fl->npending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fl->pending[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fl->npending && fl->pending[lo].id == id ? &fl->pending[lo] : NULL;
}

/* A rebuild's scan of the store has not reached where the store ended when it began. */
static bool rebuilding(const struct flowlist *fl)
{
    return fl->scanned < fl->rebuild_end;
}

/* Asks for a re-sort in steps by col; the rows keep their order until it ends. */
static void sort_later(struct flowlist *fl, int col, bool descending)
{
    struct flowlist_sort *s = xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->col = col;
    s->descending = descending;
    fl->sorting = s;
}

/* The rows' order becomes col: in-flight exchanges are then placed by their keys in it. */
static void set_order(struct flowlist *fl, int col, bool descending)
{
    fl->sort_col = col;
    fl->descending = descending;
    for (size_t i = 0; i < fl->npending; i++) {
        const struct exchange *ex = store_get(fl->store, fl->pending[i].id);
        fl->pending[i].key = by_id(fl) || !ex ? 0 : sort_key(fl, ex);
    }
}

/* Sorts the rows by col at once. */
static void sort_now(struct flowlist *fl, int col, bool descending)
{
    set_order(fl, col, descending);
    fl->n = sort_ids(fl, fl->ids, fl->n);
    place_cursor(fl);
}

/* Takes the snapshot a re-sort in steps works on. */
static void sort_begin(struct flowlist *fl)
{
    struct flowlist_sort *s = fl->sorting;
    s->started = true;
    s->nsnap = fl->n;
    s->snap = xmalloc((fl->n ? fl->n : 1) * sizeof *s->snap);
    memcpy(s->snap, fl->ids, fl->n * sizeof *s->snap);
    rowsort_init(&s->run, s->col, fl->n);
    for (size_t i = 0; i < fl->npending; i++)
        push_unsettled(s, fl->pending[i].id);
    s->removed_seen = fl->removed_seen;
}

/*
 * The end of a re-sort: the rows become the sorted ones that are settled and still marked (in a
 * marked-only view), then the unsettled ones still shown are placed by their current keys.
 * Rows gone from the store meanwhile are dropped by compact, which looks again at every removal
 * since the re-sort started.
 */
static void sort_apply(struct flowlist *fl)
{
    struct flowlist_sort *s = fl->sorting;
    /* Every sorted row is tested against the unsettled ones, which may repeat. */
    struct idset unsettled;
    idset_build(&unsettled, s->unsettled, s->nunsettled, IDSET_SPAN_MAX);
    uint64_t *u = s->unsettled;
    size_t nu = idset_members(&unsettled, u);
    set_order(fl, s->col, s->descending);
    /* The unsettled rows still shown, sorted by their keys now. */
    size_t k = 0;
    for (size_t i = 0; i < nu; i++) {
        const struct exchange *ex = store_get(fl->store, u[i]);
        if (!ex)
            continue;
        const struct flowlist_pending *p = pending_find(fl, u[i]);
        if (p ? p->shown : matches(fl, ex))
            push_scratch(fl, &k, u[i]);
    }
    struct rowsort fresh;
    rowsort_init(&fresh, s->col, k);
    rowsort_add(&fresh, fl->store, fl->scratch, k);
    rowsort_merge(&fresh, 0);
    release_scratch(fl);
    /* Both in order: one merge, comparing the keys and strings already made. */
    const struct rowsort_item *a = rowsort_sorted(&s->run), *b = rowsort_sorted(&fresh);
    const char *sa = rowsort_strings(&s->run), *sb = rowsort_strings(&fresh);
    fl->n = 0;
    fl->front = 0;
    fl->ids = fl->ids_mem;
    reserve_ids(fl, s->run.n + fresh.n);
    size_t i = 0, j = 0;
    while (i < s->run.n || j < fresh.n) {
        bool gone = i < s->run.n && idset_has(&unsettled, a[i].id);
        if (i < s->run.n && (gone || (fl->marked_only && !flowlist_is_marked(fl, a[i].id)))) {
            i++;
            continue;
        }
        bool take_b = j < fresh.n && (i == s->run.n || rowsort_compare(sa, &a[i], sb, &b[j]) > 0);
        fl->ids[fl->n++] = take_b ? b[j++].id : a[i++].id;
    }
    rowsort_free(&fresh);
    idset_free(&unsettled);
    fl->removed_seen = s->removed_seen;
    sort_cancel(fl);
    compact(fl);
    newest_recompute(fl);
    place_cursor(fl);
}

/*
 * One update's share of a re-sort: its start once no rebuild runs (at once for at most
 * scan_budget rows), the keys of up to scan_budget rows, or (once all are gathered) up to
 * sort_budget merge moves, and the new order once they are done. Returns true when the rows
 * changed.
 */
static bool sort_step(struct flowlist *fl)
{
    struct flowlist_sort *s = fl->sorting;
    if (!s->started) {
        if (rebuilding(fl))
            return false;
        if (!fl->scan_budget || fl->n <= fl->scan_budget) {
            int col = s->col;
            bool descending = s->descending;
            sort_cancel(fl);
            sort_now(fl, col, descending);
            return true;
        }
        sort_begin(fl);
        return false;
    }
    if (s->snap) {
        size_t k = s->nsnap - s->gathered;
        if (fl->scan_budget && k > fl->scan_budget)
            k = fl->scan_budget;
        rowsort_add(&s->run, fl->store, s->snap + s->gathered, k);
        s->gathered += k;
        if (s->gathered == s->nsnap) {
            free(s->snap);
            s->snap = NULL;
        }
        return false;
    }
    if (!rowsort_merge(&s->run, fl->sort_budget))
        return false;
    sort_apply(fl);
    return true;
}

bool flowlist_update(struct flowlist *fl)
{
    if (fl->clear_from < fl->clear_end) {
        /* Freeing an exchange costs about four times looking at one. */
        size_t budget = fl->scan_budget ? (fl->scan_budget + 3) / 4 : 0;
        fl->cleared += store_clear_some(fl->store, &fl->clear_from, fl->clear_end, budget);
    }
    bool compacted = compact(fl);
    bool changed = compacted;
    size_t nadd = 0, nrm = 0, rm_cap = 0;
    uint64_t *rm = NULL;
    recheck_pending(fl, &rm, &nrm, &rm_cap, &nadd);
    nadd = scan_new(fl, nadd);
    if (nrm || nadd)
        changed = true;
    remove_ids(fl, rm, nrm);
    free(rm);
    for (size_t i = 0; i < nadd; i++) {
        if (fl->scratch[i] > fl->newest)
            fl->newest = fl->scratch[i];
        if (fl->sorting && fl->sorting->started) /* rows before the start are in its snapshot */
            push_unsettled(fl->sorting, fl->scratch[i]);
    }
    insert_sorted(fl, fl->scratch, nadd);
    release_scratch(fl);
    if (fl->sorting && sort_step(fl))
        changed = true;
    if (changed) {
        /* Rows that left (deleted, evicted) may have taken the newest with them. */
        if (nrm || (compacted && fl->newest && !store_get(fl->store, fl->newest)))
            newest_recompute(fl);
        place_cursor(fl);
    }
    return changed;
}

/* Starts over from the first exchange of the store (filter or view changed). */
static void rebuild(struct flowlist *fl)
{
    /* In the order asked for: with a budget, the rows are built by number (each batch then
     * goes at the end) and re-sorted in steps once the scan is done. */
    int col = flowlist_sort_col(fl);
    bool descending = flowlist_sort_descending(fl);
    sort_cancel(fl);
    fl->sort_col = col;
    fl->descending = descending;
    if (col != FLOWCOL_ID && fl->scan_budget) {
        fl->sort_col = FLOWCOL_ID;
        sort_later(fl, col, descending);
    }
    fl->n = 0;
    fl->front = 0;
    fl->ids = fl->ids_mem;
    fl->npending = 0;
    fl->newest = 0;
    fl->scanned = store_first_id(fl->store);
    fl->removed_seen = fl->store->counters.added - fl->store->live;
    fl->rebuild_from = fl->scanned;
    fl->rebuild_end = store_end_id(fl->store);
    flowlist_update(fl);
    place_cursor(fl);
}

bool flowlist_busy(const struct flowlist *fl)
{
    return fl->scanned < store_end_id(fl->store) || fl->sorting || fl->clear_from < fl->clear_end;
}

int flowlist_rebuild_percent(const struct flowlist *fl)
{
    if (fl->scanned >= fl->rebuild_end || fl->rebuild_end <= fl->rebuild_from)
        return -1;
    return (int)((fl->scanned - fl->rebuild_from) * 100 / (fl->rebuild_end - fl->rebuild_from));
}

void flowlist_set_filter(struct flowlist *fl, struct filter *f)
{
    filter_free(fl->filter);
    fl->filter = f;
    rebuild(fl);
}

void flowlist_set_sort(struct flowlist *fl, int col, bool descending)
{
    if (fl->sorting && col == fl->sorting->col) {
        fl->sorting->descending = descending;
        return;
    }
    sort_cancel(fl);
    if (col == fl->sort_col) {
        fl->descending = descending;
        place_cursor(fl);
    } else if (col != FLOWCOL_ID && fl->scan_budget &&
               (fl->n > fl->scan_budget || rebuilding(fl))) {
        sort_later(fl, col, descending);
    } else {
        sort_now(fl, col, descending);
    }
}

int flowlist_sort_col(const struct flowlist *fl)
{
    return fl->sorting ? fl->sorting->col : fl->sort_col;
}

bool flowlist_sort_descending(const struct flowlist *fl)
{
    return fl->sorting ? fl->sorting->descending : fl->descending;
}

int flowlist_sort_percent(const struct flowlist *fl)
{
    const struct flowlist_sort *s = fl->sorting;
    if (!s)
        return -1;
    /* Gathering a row's key costs about as much as a few merge moves. */
    uint64_t moves = rowsort_moves_total(s->nsnap);
    uint64_t total = (uint64_t)s->nsnap * SORT_GATHER_MOVES + moves;
    uint64_t done = (uint64_t)s->gathered * SORT_GATHER_MOVES + s->run.moves;
    return total ? (int)(done * 100 / total > 99 ? 99 : done * 100 / total) : 0;
}

void flowlist_set_marked_only(struct flowlist *fl, bool on)
{
    fl->marked_only = on;
    rebuild(fl);
}

uint64_t flowlist_selected(const struct flowlist *fl)
{
    return fl->cur < fl->n ? flowlist_at(fl, fl->cur) : 0;
}

void flowlist_goto(struct flowlist *fl, size_t pos)
{
    if (!fl->n)
        return;
    fl->cur = pos < fl->n ? pos : fl->n - 1;
    fl->cur_id = flowlist_at(fl, fl->cur);
    if (fl->follow && fl->cur_id != fl->newest)
        fl->follow = false;
}

void flowlist_move(struct flowlist *fl, long delta)
{
    if (!fl->n)
        return;
    long pos = (long)fl->cur + delta;
    if (pos < 0)
        pos = 0;
    flowlist_goto(fl, (size_t)pos);
}

void flowlist_scroll(struct flowlist *fl, size_t rows)
{
    if (!rows)
        return;
    if (fl->cur < fl->top)
        fl->top = fl->cur;
    else if (fl->cur >= fl->top + rows)
        fl->top = fl->cur - rows + 1;
    /* No empty space below the last row while rows above are hidden. */
    if (fl->n >= rows && fl->top > fl->n - rows)
        fl->top = fl->n - rows;
    if (fl->n < rows)
        fl->top = 0;
}

bool flowlist_is_marked(const struct flowlist *fl, uint64_t id)
{
    size_t i = lower_bound(fl->marks, fl->nmarks, id);
    return i < fl->nmarks && fl->marks[i] == id;
}

bool flowlist_toggle_mark(struct flowlist *fl, uint64_t id)
{
    size_t lo = lower_bound(fl->marks, fl->nmarks, id);
    if (lo < fl->nmarks && fl->marks[lo] == id) {
        memmove(&fl->marks[lo], &fl->marks[lo + 1], (fl->nmarks - lo - 1) * sizeof *fl->marks);
        fl->nmarks--;
        if (fl->marked_only) {
            /* The view shows marked flows only: this one leaves it at once (the cursor goes to
             * the next row), as all do when every mark is cleared. */
            remove_ids(fl, &id, 1);
            if (id == fl->newest)
                newest_recompute(fl);
            place_cursor(fl);
        }
        return false;
    }
    if (fl->nmarks == fl->marks_cap)
        fl->marks = xgrow(fl->marks, &fl->marks_cap, fl->nmarks + 1, sizeof *fl->marks);
    memmove(&fl->marks[lo + 1], &fl->marks[lo], (fl->nmarks - lo) * sizeof *fl->marks);
    fl->marks[lo] = id;
    fl->nmarks++;
    return true;
}

void flowlist_unmark_all(struct flowlist *fl)
{
    fl->nmarks = 0;
    if (fl->marked_only)
        rebuild(fl);
}

int flowlist_delete(struct flowlist *fl, uint64_t id)
{
    if (store_remove(fl->store, id) < 0)
        return -1;
    flowlist_update(fl);
    return 0;
}

size_t flowlist_clear(struct flowlist *fl)
{
    fl->clear_start = fl->clear_from = store_first_id(fl->store);
    fl->clear_end = store_end_id(fl->store);
    fl->cleared = 0;
    flowlist_update(fl);
    return fl->cleared;
}

int flowlist_clear_percent(const struct flowlist *fl)
{
    if (fl->clear_from >= fl->clear_end)
        return -1;
    uint64_t total = fl->clear_end - fl->clear_start;
    return total ? (int)((fl->clear_from - fl->clear_start) * 100 / total) : 0;
}

void flowlist_search_start(const struct flowlist *fl, struct flowlist_search *s, const char *needle,
                           size_t from, int dir)
{
    snprintf(s->needle, sizeof s->needle, "%s", needle);
    s->pos = s->from = from < fl->n ? from : 0;
    s->left = *needle ? fl->n : 0;
    s->wrapped = s->only = false;
    s->dir = dir > 0 ? 1 : -1;
    s->client = strpbrk(s->needle, "0123456789:") != NULL;
}

enum flowlist_found flowlist_search_step(const struct flowlist *fl, struct flowlist_search *s,
                                         size_t budget, size_t *at)
{
    if (s->left > fl->n)
        s->left = fl->n;
    if (!s->left)
        return FLOWLIST_MISSING;
    size_t n = fl->n, ms, me;
    struct search_query q = {0};
    char err[SEARCH_ERROR_MAX];
    if (!search_query_set(&q, s->needle, err, sizeof err))
        s->left = 0; /* an expression that does not compile matches nothing */
    struct dynbuf text;
    dynbuf_init(&text, 64 * 1024);
    enum flowlist_found r = FLOWLIST_MORE;
    for (size_t done = 0; s->left && (!budget || done < budget); done++, s->left--) {
        size_t next = s->dir > 0 ? (s->pos + 1) % n : (s->pos + n - 1) % n;
        if (s->dir > 0 ? next < s->pos : next > s->pos)
            s->wrapped = true;
        s->pos = next;
        size_t ahead = s->dir > 0 ? (s->pos + FLOWROW_PREFETCH_AHEAD) % n
                                  : (s->pos + n - FLOWROW_PREFETCH_AHEAD % n) % n;
        size_t far = s->dir > 0 ? (s->pos + FLOWROW_PREFETCH_FAR) % n
                                : (s->pos + n - FLOWROW_PREFETCH_FAR % n) % n;
        flowrow_prefetch(fl->store, flowlist_at(fl, ahead), flowlist_at(fl, far));
        const struct exchange *ex = store_get(fl->store, flowlist_at(fl, s->pos));
        if (!ex)
            continue;
        dynbuf_reset(&text);
        flowrow_text(ex, s->client, &text);
        if (search_query_find(&q, dynbuf_str(&text), text.len, 0, &ms, &me)) {
            *at = s->pos;
            s->left = 0;
            s->only = s->pos == s->from;
            r = FLOWLIST_FOUND;
            break;
        }
    }
    dynbuf_cleanup(&text);
    search_query_cleanup(&q);
    if (r == FLOWLIST_MORE && !s->left)
        r = FLOWLIST_MISSING;
    return r;
}

size_t flowlist_search(const struct flowlist *fl, const char *needle, size_t from, int dir)
{
    struct flowlist_search s;
    size_t at = NPOS;
    flowlist_search_start(fl, &s, needle, from, dir);
    return flowlist_search_step(fl, &s, 0, &at) == FLOWLIST_FOUND ? at : NPOS;
}
