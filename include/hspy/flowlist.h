/*
 * flowlist: the flow list's model. Which exchanges of the store are shown (filter, marked-only
 * view), in which order (any column, either direction), where the cursor is, what is marked.
 *
 * It keeps one 8-byte id per shown row (ids, in ascending sort order; a descending view reads
 * it backwards) and one 8-byte id per mark, nothing else per exchange: at a million exchanges
 * the list costs 8 MB. Re-sorting needs 56 bytes per row transiently (the rows as they were,
 * keys and merge buffer) plus the sort strings.
 *
 * The store only grows at the end and loses entries through eviction and deletion, so
 * flowlist_update is incremental: new ids are scanned once; exchanges still in flight are kept
 * on a pending list (bounded by the exchanges the sources have in flight) and re-examined until
 * they complete, because a filter or a sort key may change as their response arrives; removals
 * are noticed from the store's counters and compacted in one pass. The flow list never changes
 * the store except through flowlist_delete/flowlist_clear.
 */
#ifndef HSPY_FLOWLIST_H
#define HSPY_FLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/filter.h"
#include "hspy/flowrow.h"
#include "hspy/search.h"
#include "hspy/store.h"

struct flowlist_pending {
    uint64_t id;
    uint64_t key; /* sort key when last placed */
    bool shown;   /* currently in ids */
};

struct flowlist_sort; /* a re-sort in steps (flowlist.c) */

struct flowlist {
    struct store *store;
    uint64_t *ids; /* shown rows, ascending by (sort key, id): ids_mem + front */
    size_t n;
    /* The rows' allocation, cap slots. Rows that leave from the front (the oldest, evicted)
     * only move ids on: their front slots are reclaimed when room is needed. */
    uint64_t *ids_mem;
    size_t front, cap;
    uint64_t scanned;                 /* every id below this one has been considered */
    uint64_t removed_seen;            /* store removals already compacted away */
    struct flowlist_pending *pending; /* in-flight exchanges, ascending ids */
    size_t npending, pending_cap;
    struct filter *filter; /* owned; NULL shows everything */
    bool marked_only;
    uint64_t *marks; /* ascending */
    size_t nmarks, marks_cap;
    int sort_col; /* enum flowrow_col */
    bool descending;
    /* cursor, in display positions (0 = top row) */
    size_t cur;
    uint64_t cur_id;   /* id under the cursor, followed across updates */
    size_t top;        /* first row on screen */
    bool follow;       /* keep the newest exchange selected */
    uint64_t newest;   /* highest id shown */
    uint64_t *scratch; /* ids added or removed in one update */
    size_t scratch_cap;
    /*
     * Exchanges examined per update at most (0: no limit). A new filter over a million flows
     * is then applied over several frames instead of stalling the loop (and the traffic) for
     * the whole scan; the list fills in as the scan goes.
     */
    size_t scan_budget;
    /* With a filter that reads bodies, an update also stops once the exchanges it examined
     * hold this many bytes (0: no limit): 65,536 flows of a megabyte each are not one frame. */
    size_t scan_bytes;
    uint64_t rebuild_from, rebuild_end; /* the scan of a rebuild, for its progress */
    /*
     * A re-sort of more rows than scan_budget runs in steps: each update looks up at most
     * scan_budget of the rows' exchanges for their sort keys, then makes at most sort_budget
     * moves of the merge sort (0: no limit). Until it ends, the rows keep their order
     * (sort_col, descending) and follow the traffic as usual; then they take the new one at once.
     */
    size_t sort_budget;
    struct flowlist_sort *sorting; /* owned; NULL when no re-sort runs */
    /* A clear in steps over the store's ids [clear_start, clear_end): those from clear_from on
     * are still to be looked at (a quarter of scan_budget an update); cleared counts the
     * exchanges it deleted. */
    uint64_t clear_start, clear_from, clear_end;
    size_t cleared;
};

/* Exchanges a rebuild examines per update by default. */
#define FLOWLIST_SCAN_BUDGET_DEFAULT 65536
/* Bytes of exchanges a filter reading bodies examines per update by default. */
#define FLOWLIST_SCAN_BYTES_DEFAULT ((size_t)8 << 20)
/* Merge moves a re-sort makes per update by default: 3 to 6 ms at a million rows (a first pass
 * over fresh memory about twice that). */
#define FLOWLIST_SORT_BUDGET_DEFAULT 524288

/* Prepares an empty list over store (which must outlive it). Follow starts on. */
void flowlist_init(struct flowlist *fl, struct store *store);
/* Frees the rows, marks and the filter. */
void flowlist_cleanup(struct flowlist *fl);

/*
 * Pulls what changed in the store since the last call (at most scan_budget exchanges of it).
 * Returns true when rows changed.
 */
bool flowlist_update(struct flowlist *fl);
/* True while exchanges wait to be examined or a re-sort runs: call flowlist_update again soon. */
bool flowlist_busy(const struct flowlist *fl);
/* Progress of a rebuild (new filter, marked-only view) in percent, or -1 when none runs. */
int flowlist_rebuild_percent(const struct flowlist *fl);

/*
 * Shows only exchanges matching f (takes ownership; NULL shows all). Rebuilds the rows: the
 * first scan_budget exchanges now, the rest in later updates (flowlist_busy).
 */
void flowlist_set_filter(struct flowlist *fl, struct filter *f);
/*
 * Orders by column col (enum flowrow_col), the cursor staying on its flow. Reversing the order
 * is immediate, and so is a new column for at most scan_budget rows; more rows are re-sorted in
 * steps (flowlist_busy, flowlist_sort_percent). A rebuild (new filter, marked-only view) in
 * another order than by number builds the rows by number, where each batch goes at the end, and
 * then re-sorts them in steps.
 */
void flowlist_set_sort(struct flowlist *fl, int col, bool descending);
/* The order asked for last: the one a re-sort in steps is heading to, else the rows' own. */
int flowlist_sort_col(const struct flowlist *fl);
bool flowlist_sort_descending(const struct flowlist *fl);
/* Progress of a re-sort in steps in percent, or -1 when none runs. */
int flowlist_sort_percent(const struct flowlist *fl);
/* Shows only marked exchanges (or all again). */
void flowlist_set_marked_only(struct flowlist *fl, bool on);

/* Rows shown. */
static inline size_t flowlist_count(const struct flowlist *fl)
{
    return fl->n;
}
/* Id of the row at display position i (< count). */
static inline uint64_t flowlist_at(const struct flowlist *fl, size_t i)
{
    return fl->descending ? fl->ids[fl->n - 1 - i] : fl->ids[i];
}
/* Id under the cursor, 0 when the list is empty. */
uint64_t flowlist_selected(const struct flowlist *fl);
/* Display position of id, or (size_t)-1 when not shown. */
size_t flowlist_find(const struct flowlist *fl, uint64_t id);

/* Moves the cursor by delta rows (clamped). Moving away from the newest turns follow off. */
void flowlist_move(struct flowlist *fl, long delta);
/* Puts the cursor on display position pos (clamped). */
void flowlist_goto(struct flowlist *fl, size_t pos);
/* Adjusts top so that the cursor is inside a window of `rows` rows. */
void flowlist_scroll(struct flowlist *fl, size_t rows);

bool flowlist_is_marked(const struct flowlist *fl, uint64_t id);
/* Marks or unmarks id; returns the new state. */
bool flowlist_toggle_mark(struct flowlist *fl, uint64_t id);
void flowlist_unmark_all(struct flowlist *fl);

/*
 * Deletes id from the store (and the list). Returns 0, or -1 when the store refused (the
 * exchange is still in flight or held).
 */
int flowlist_delete(struct flowlist *fl, uint64_t id);
/*
 * Deletes every completed exchange the store holds now: up to a quarter of scan_budget of the
 * store's exchanges are looked at at once, the rest over the next updates (flowlist_busy,
 * flowlist_clear_percent). Returns how many went at once; fl->cleared counts them all.
 */
size_t flowlist_clear(struct flowlist *fl);
/* Progress of a clear in steps in percent, or -1 when none runs. */
int flowlist_clear_percent(const struct flowlist *fl);

/* A search through the rows, done in steps so that a million rows never stall the loop. */
struct flowlist_search {
    char needle[SEARCH_NEEDLE_MAX];
    size_t pos;  /* display position examined last */
    size_t left; /* rows still to examine */
    int dir;     /* 1 forward, -1 backward */
    bool client; /* the needle could match an address: format clients too */
    size_t from; /* the display position the search started from */
    /* Set with FLOWLIST_FOUND: the search went past the last row to the first (backwards, the
       first to the last); the row found is the one it started from (no other flow matches). */
    bool wrapped, only;
};

enum flowlist_found { FLOWLIST_MORE = 0, FLOWLIST_FOUND, FLOWLIST_MISSING };

/*
 * Starts a search for needle (search rules, "/re/" included, in the text flowrow_text gives) at the
 * row after (dir > 0) or before (dir < 0) display position from, wrapping around.
 */
void flowlist_search_start(const struct flowlist *fl, struct flowlist_search *s, const char *needle,
                           size_t from, int dir);
/*
 * Examines up to budget rows (0: all). FLOWLIST_FOUND sets *at to the display position;
 * FLOWLIST_MISSING means every row was examined; FLOWLIST_MORE asks for another step. Rows
 * that arrive or leave between steps are tolerated (positions are taken modulo the count).
 */
enum flowlist_found flowlist_search_step(const struct flowlist *fl, struct flowlist_search *s,
                                         size_t budget, size_t *at);
/* The whole search at once: the display position of the first match, or (size_t)-1. */
size_t flowlist_search(const struct flowlist *fl, const char *needle, size_t from, int dir);

#endif
