/*
 * arena owns block-allocated memory for objects that share one lifetime. Blocks grow
 * geometrically from ARENA_FIRST_BLOCK_SIZE; an allocation larger than a block gets its own block.
 */
#include "hspy/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

enum { ARENA_MAX_BLOCK = 64 * 1024 };

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    alignas(max_align_t) unsigned char mem[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->bytes = 0;
}

void arena_cleanup(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes = 0;
}

void arena_clear(struct arena *a)
{
    struct arena_block *b = a->head, *keep = NULL;
    while (b) {
        struct arena_block *next = b->next;
        if (!next && b->size <= ARENA_FIRST_BLOCK_SIZE)
            keep = b;
        else
            free(b);
        b = next;
    }
    a->head = keep;
    a->bytes = 0;
    if (keep) {
        keep->used = 0;
        a->bytes = sizeof *keep + keep->size;
    }
}

size_t arena_rounded(size_t n)
{
    const size_t align = alignof(max_align_t);
    return (n + align - 1) & ~(align - 1);
}

void arena_reserve(struct arena *a, size_t n)
{
    n = arena_rounded(n);
    struct arena_block *b = a->head;
    if (n == 0 || (b && b->size - b->used >= n))
        return;
    /* Exactly the size asked for: the caller knows what will follow (a compacted exchange). */
    struct arena_block *nb = xmalloc(sizeof *nb + n);
    nb->size = n;
    nb->used = 0;
    nb->next = b;
    a->head = nb;
    a->bytes += sizeof *nb + n;
}

bool arena_owns(const struct arena *a, const void *p)
{
    const unsigned char *q = p;
    for (const struct arena_block *b = a->head; b; b = b->next)
        if (q >= b->mem && q < b->mem + b->size)
            return true;
    return false;
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = arena_rounded(n);
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = b ? b->size * 2 : ARENA_FIRST_BLOCK_SIZE;
        if (size > ARENA_MAX_BLOCK)
            size = ARENA_MAX_BLOCK;
        if (size < n)
            size = n;
        struct arena_block *nb = xmalloc(sizeof *nb + size);
        nb->size = size;
        nb->used = 0;
        a->bytes += sizeof *nb + size;
        if (b && b->size - b->used >= size - n) {
            /* The current block still has more room than the new one would keep: put the new
             * block behind it so small allocations continue to fill the current one. */
            nb->next = b->next;
            b->next = nb;
            nb->used = n;
            return nb->mem;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->mem + b->used;
    b->used += n;
    return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
