/*
 * rowsort: flow rows (exchange ids) sorted by one column of the flow list, at once or in steps.
 * Each row's key and sort string are computed once (gathered), then a bottom-up merge sort
 * orders them: O(n log n) always, stable, and able to stop after a budget of moves and go on
 * later (it keeps the pass's run width, the pair of runs being merged and the positions in
 * them). 24 bytes per row, twice (the merge's other buffer), plus the sort strings. Reads the
 * store; changes nothing.
 */
#ifndef HSPY_ROWSORT_H
#define HSPY_ROWSORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/flowrow.h"
#include "hspy/store.h"

struct rowsort_item {
    uint64_t key;
    uint64_t id;
    uint32_t off, len; /* sort string in the strings buffer (string columns) */
};

struct rowsort {
    int col; /* enum flowrow_col */
    const struct flowrow_column *column;
    struct rowsort_item *items, *other; /* cap each; the merge goes from src to dst */
    size_t n, cap;
    struct dynbuf strings;
    struct rowsort_item *src, *dst;
    size_t width;       /* runs of this many items are merged in pairs */
    size_t lo, mid, hi; /* the pair being merged: [lo, mid) and [mid, hi) */
    size_t i, j, k;     /* next item of each run, next slot of dst */
    bool merging;       /* a pair is under way */
    uint64_t moves;     /* made so far (progress) */
};

/* Prepares a sort by column col of at most cap rows. */
void rowsort_init(struct rowsort *r, int col, size_t cap);
void rowsort_free(struct rowsort *r);
/*
 * Gathers the keys of the exchanges ids[0..n) (at most cap rows in all), skipping those gone
 * from the store. The merge buffer's share of these rows is written too, so that a first merge
 * pass in steps does not also pay for faulting its fresh pages in.
 */
void rowsort_add(struct rowsort *r, const struct store *store, const uint64_t *ids, size_t n);
/*
 * Merges on for at most budget moves (0: to the end), once every key is gathered. Returns true
 * when the rows are in order: rowsort_sorted gives them.
 */
bool rowsort_merge(struct rowsort *r, uint64_t budget);
/* The rows in ascending order, after rowsort_merge returned true. */
const struct rowsort_item *rowsort_sorted(const struct rowsort *r);
/* The sort strings the items point into ("" when none yet), or NULL for a column without them. */
const char *rowsort_strings(const struct rowsort *r);
/* <0, >0 as item a (strings at sa) sorts before, after item b (strings at sb), of two sorts by
 * the same column. */
int rowsort_compare(const char *sa, const struct rowsort_item *a, const char *sb,
                    const struct rowsort_item *b);
/* Merge moves a sort of n rows makes in all: n per pass, ceil(log2 n) passes. */
uint64_t rowsort_moves_total(size_t n);

#endif
