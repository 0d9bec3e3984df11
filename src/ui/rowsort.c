/*
 * rowsort: flow rows sorted by one column in steps (see rowsort.h).
 */
#include "hspy/rowsort.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

/* Sort strings are cut here; longer ones compare by this prefix, then by id. */
enum { SORTSTR_MAX = CANVAS_CELL_MAX };

void rowsort_init(struct rowsort *r, int col, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->col = col;
    r->column = &FLOWROW_COLUMNS[col];
    r->cap = cap ? cap : 1;
    r->items = xmalloc(r->cap * sizeof *r->items);
    r->other = xmalloc(r->cap * sizeof *r->other);
    dynbuf_init(&r->strings, (size_t)UINT32_MAX);
    r->src = r->items;
    r->dst = r->other;
    r->width = 1;
}

void rowsort_free(struct rowsort *r)
{
    free(r->items);
    free(r->other);
    dynbuf_cleanup(&r->strings);
    memset(r, 0, sizeof *r);
}

void rowsort_add(struct rowsort *r, const struct store *store, const uint64_t *ids, size_t n)
{
    size_t first = r->n;
    for (size_t i = 0; i < n && r->n < r->cap; i++) {
        flowrow_prefetch(store,
                         i + FLOWROW_PREFETCH_AHEAD < n ? ids[i + FLOWROW_PREFETCH_AHEAD] : 0,
                         i + FLOWROW_PREFETCH_FAR < n ? ids[i + FLOWROW_PREFETCH_FAR] : 0);
        const struct exchange *ex = store_get(store, ids[i]);
        if (!ex)
            continue;
        struct rowsort_item *it = &r->items[r->n++];
        it->key = r->column->key(ex);
        it->id = ex->id;
        it->off = (uint32_t)r->strings.len;
        it->len = 0;
        if (r->column->sortstr) {
            char buf[SORTSTR_MAX];
            it->len =
                (uint32_t)dynbuf_append(&r->strings, buf, r->column->sortstr(ex, buf, sizeof buf));
        }
    }
    memset(r->other + first, 0, (r->n - first) * sizeof *r->other);
}

const char *rowsort_strings(const struct rowsort *r)
{
    if (!r->column->sortstr)
        return NULL;
    return r->strings.data ? (const char *)r->strings.data : "";
}

int rowsort_compare(const char *sa, const struct rowsort_item *a, const char *sb,
                    const struct rowsort_item *b)
{
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (sa && sb) {
        size_t n = a->len < b->len ? a->len : b->len;
        int r = n ? memcmp(sa + a->off, sb + b->off, n) : 0;
        if (r || a->len != b->len)
            return r ? r : (a->len < b->len ? -1 : 1);
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

bool rowsort_merge(struct rowsort *r, uint64_t budget)
{
    const char *strings = rowsort_strings(r);
    uint64_t stop = budget ? r->moves + budget : UINT64_MAX;
    while (r->width < r->n) {
        if (!r->merging) {
            if (r->lo >= r->n) { /* the pass is over: its output is the next one's input */
                struct rowsort_item *t = r->src;
                r->src = r->dst;
                r->dst = t;
                r->width *= 2;
                r->lo = 0;
                continue;
            }
            r->mid = r->lo + r->width < r->n ? r->lo + r->width : r->n;
            r->hi = r->lo + 2 * r->width < r->n ? r->lo + 2 * r->width : r->n;
            r->i = r->k = r->lo;
            r->j = r->mid;
            r->merging = true;
        }
        if (r->moves >= stop)
            return false;
        size_t end = r->hi;
        if (stop - r->moves < end - r->k)
            end = r->k + (size_t)(stop - r->moves);
        r->moves += end - r->k;
        const struct rowsort_item *src = r->src;
        struct rowsort_item *dst = r->dst;
        size_t i = r->i, j = r->j, k = r->k, mid = r->mid, hi = r->hi;
        while (k < end) {
            /* The left run's item first when equal (never: ids differ), so the sort is stable. */
            if (j >= hi || (i < mid && rowsort_compare(strings, &src[j], strings, &src[i]) >= 0))
                dst[k++] = src[i++];
            else
                dst[k++] = src[j++];
        }
        r->i = i, r->j = j, r->k = k;
        if (k == hi) {
            r->merging = false;
            r->lo = hi;
        }
    }
    return true;
}

const struct rowsort_item *rowsort_sorted(const struct rowsort *r)
{
    return r->src;
}

uint64_t rowsort_moves_total(size_t n)
{
    uint64_t passes = 0;
    for (size_t w = 1; w < n; w *= 2)
        passes++;
    return (uint64_t)n * passes;
}
