/*
 * idset: sets of exchange ids as bitmaps of the window they span (see idset.h).
 */
#include "hspy/idset.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

/* A span of ids at most this many times the count is sorted through a bitmap of the span. */
enum { IDSET_SORT_SPREAD = 8 };

bool idset_build(struct idset *s, const uint64_t *v, size_t n, uint64_t max_span)
{
    s->lo = UINT64_MAX, s->hi = 0;
    s->bits = NULL;
    for (size_t i = 0; i < n; i++) {
        s->lo = v[i] < s->lo ? v[i] : s->lo;
        s->hi = v[i] > s->hi ? v[i] : s->hi;
    }
    if (!n || s->hi - s->lo >= max_span)
        return false;
    size_t words = (size_t)((s->hi - s->lo) / 64 + 1);
    s->bits = xmalloc(words * sizeof *s->bits);
    memset(s->bits, 0, words * sizeof *s->bits);
    for (size_t i = 0; i < n; i++)
        s->bits[(v[i] - s->lo) / 64] |= (uint64_t)1 << ((v[i] - s->lo) % 64);
    return true;
}

void idset_free(struct idset *s)
{
    free(s->bits);
    s->bits = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void idset_sort(uint64_t *v, size_t n)
{
    size_t i = 1;
    while (i < n && v[i - 1] < v[i])
        i++;
    if (i >= n)
        return;
    struct idset set;
    if (!idset_build(&set, v, n, (uint64_t)n * IDSET_SORT_SPREAD)) {
        qsort(v, n, sizeof *v, cmp_u64);
        return;
    }
    size_t k = 0, words = (size_t)((set.hi - set.lo) / 64 + 1);
    for (size_t w = 0; w < words; w++)
        for (uint64_t b = set.bits[w]; b; b &= b - 1)
            v[k++] = set.lo + (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(b);
    idset_free(&set);
}
