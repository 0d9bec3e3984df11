/*
 * arena: a bump allocator for many small objects that die together (an exchange's header
 * arrays, warning details, error strings). Nothing is freed individually; arena_cleanup frees
 * everything at once.
 */
#ifndef HSPY_ARENA_H
#define HSPY_ARENA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct arena_block;

/* The size of an arena's first block; later blocks double up to a maximum. */
enum { ARENA_FIRST_BLOCK_SIZE = 512 };

struct arena {
    struct arena_block *head;
    size_t bytes; /* total allocated from the system, for memory accounting */
};

void arena_init(struct arena *a);
void arena_cleanup(struct arena *a);
/*
 * Empties the arena for reuse: frees every block but one small block (at most
 * ARENA_FIRST_BLOCK_SIZE bytes, the last of the chain), which stays, empty, for the next
 * allocations. Everything allocated before is invalid afterwards.
 */
void arena_clear(struct arena *a);
/* Returns n bytes aligned for any object; valid until arena_cleanup. */
void *arena_alloc(struct arena *a, size_t n);
/* n rounded up the way arena_alloc rounds each allocation (sizing an arena_reserve). */
size_t arena_rounded(size_t n);
/*
 * Makes sure the next allocations totalling n bytes (each counted with arena_rounded) fit in
 * the current block, adding one block of exactly that size when they do not: an arena filled
 * with known sizes after arena_reserve holds them in one right-sized allocation.
 */
void arena_reserve(struct arena *a, size_t n);
/* Whether p points into memory of this arena (O(blocks)). */
bool arena_owns(const struct arena *a, const void *p);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
