/*
 * arena: a bump allocator for many small objects that die together (an exchange's header
 * arrays, warning details, error strings). Nothing is freed individually; arena_cleanup frees
 * everything at once.
 */
#ifndef HSPY_ARENA_H
#define HSPY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;
    size_t bytes; /* total allocated from the system, for memory accounting */
};

void arena_init(struct arena *a);
void arena_cleanup(struct arena *a);
/* Returns n bytes aligned for any object; valid until arena_cleanup. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
