/*
 * idset: a set of exchange ids. The ids of the flows a view holds are dense in the store's
 * numbering, so the set is a bitmap of the window [lo, hi] they span when that window is small
 * enough (a million ids in about 128 KB, membership in one load, their ascending order in one
 * pass), and a sorted array of them otherwise (membership by binary search). Pure.
 */
#ifndef HSPY_IDSET_H
#define HSPY_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The widest window a set of many ids is held as a bitmap for (2 MB). */
#define IDSET_SPAN_MAX ((uint64_t)1 << 24)

struct idset {
    uint64_t lo, hi;  /* the smallest and the largest member; lo > hi when empty */
    uint64_t *bits;   /* the bitmap of [lo, hi], or NULL */
    uint64_t *sorted; /* without a bitmap: the members ascending, each once */
    size_t nsorted;
};

/*
 * Builds the set of v[0..n) (any order; an id may repeat): a bitmap when they span at most
 * max_span ids, a sorted array otherwise. Returns whether it is a bitmap. idset_free releases
 * it either way.
 */
bool idset_build(struct idset *s, const uint64_t *v, size_t n, uint64_t max_span);
/* Membership in a set without a bitmap (see idset_has). */
bool idset_has_sorted(const struct idset *s, uint64_t id);
static inline bool idset_has(const struct idset *s, uint64_t id)
{
    if (id < s->lo || id > s->hi)
        return false;
    if (!s->bits)
        return idset_has_sorted(s, id);
    return s->bits[(id - s->lo) / 64] >> ((id - s->lo) % 64) & 1;
}
/* Writes the members ascending, each once, to out (room for as many ids as the set was built
 * from) and returns how many there are. */
size_t idset_members(const struct idset *s, uint64_t *out);
void idset_free(struct idset *s);

/*
 * Sorts distinct ids v[0..n) ascending: nothing to do when they are already, one pass each way
 * through a bitmap when they span at most 8 times their count (a million in a few ms where
 * qsort takes about 100), through the set's sorted array otherwise.
 */
void idset_sort(uint64_t *v, size_t n);

#endif
