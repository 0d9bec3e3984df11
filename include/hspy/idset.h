/*
 * idset: a set of exchange ids as a bitmap of the window [lo, hi] they span. The ids of the
 * flows a view holds are dense in the store's numbering, so the bitmap is small: a million ids
 * in about 128 KB, membership in one load, and their ascending order in one pass. Pure.
 */
#ifndef HSPY_IDSET_H
#define HSPY_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets tested for membership are bitmaps when the ids span at most this many (2 MB). */
#define IDSET_SPAN_MAX ((uint64_t)1 << 24)

struct idset {
    uint64_t lo, hi;
    uint64_t *bits; /* NULL when not built */
};

/* Builds the set of v[0..n) (n > 0) when they span at most max_span ids; false otherwise (then
 * nothing is held). */
bool idset_build(struct idset *s, const uint64_t *v, size_t n, uint64_t max_span);
static inline bool idset_has(const struct idset *s, uint64_t id)
{
    return id >= s->lo && id <= s->hi && (s->bits[(id - s->lo) / 64] >> ((id - s->lo) % 64) & 1);
}
void idset_free(struct idset *s);

/*
 * Sorts distinct ids v[0..n) ascending: nothing to do when they are already, one pass each way
 * through a bitmap when they span at most 8 times their count (a million in a few ms where
 * qsort takes about 100), qsort otherwise.
 */
void idset_sort(uint64_t *v, size_t n);

#endif
