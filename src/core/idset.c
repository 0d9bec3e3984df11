/*
 * idset: sets of exchange ids, as bitmaps of the window they span or sorted arrays (see
 * idset.h).
 */
#include "hspy/idset.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

/* A span of ids at most this many times the count is sorted through a bitmap of the span. */
enum { IDSET_SORT_SPREAD = 8 };

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t bitmap_words(const struct idset *s)
{
    return (size_t)((s->hi - s->lo) / 64 + 1);
}

bool idset_build(struct idset *s, const uint64_t *v, size_t n, uint64_t max_span)
{
    memset(s, 0, sizeof *s);
    s->lo = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        s->lo = v[i] < s->lo ? v[i] : s->lo;
        s->hi = v[i] > s->hi ? v[i] : s->hi;
    }
    if (!n)
        return false;
    if (s->hi - s->lo >= max_span) {
        s->sorted = xmalloc(n * sizeof *s->sorted);
        memcpy(s->sorted, v, n * sizeof *v);
        qsort(s->sorted, n, sizeof *s->sorted, cmp_u64);
        for (size_t i = 0; i < n; i++)
            if (!s->nsorted || s->sorted[s->nsorted - 1] != s->sorted[i])
                s->sorted[s->nsorted++] = s->sorted[i];
        return false;
    }
    size_t words = bitmap_words(s);
    s->bits = xmalloc(words * sizeof *s->bits);
    memset(s->bits, 0, words * sizeof *s->bits);
    for (size_t i = 0; i < n; i++)
        s->bits[(v[i] - s->lo) / 64] |= (uint64_t)1 << ((v[i] - s->lo) % 64);
    return true;
}

bool idset_has_sorted(const struct idset *s, uint64_t id)
{
    return s->nsorted && bsearch(&id, s->sorted, s->nsorted, sizeof id, cmp_u64) != NULL;
}

size_t idset_members(const struct idset *s, uint64_t *out)
{
    if (!s->bits) {
        if (s->nsorted)
            memmove(out, s->sorted, s->nsorted * sizeof *out);
        return s->nsorted;
    }
    size_t k = 0, words = bitmap_words(s);
    for (size_t w = 0; w < words; w++)
        for (uint64_t b = s->bits[w]; b; b &= b - 1)
            out[k++] = s->lo + (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(b);
    return k;
}

void idset_free(struct idset *s)
{
    free(s->bits);
    free(s->sorted);
    s->bits = s->sorted = NULL;
    s->nsorted = 0;
}

void idset_sort(uint64_t *v, size_t n)
{
    size_t i = 1;
    while (i < n && v[i - 1] < v[i])
        i++;
    if (i >= n)
        return;
    /* Dense: through the bitmap; sparse: the set's sorted copy. */
    struct idset set;
    idset_build(&set, v, n, (uint64_t)n * IDSET_SORT_SPREAD);
    idset_members(&set, v);
    idset_free(&set);
}
