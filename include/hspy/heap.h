#ifndef HSPY_HEAP_H
#define HSPY_HEAP_H

/*
 * heap asks the kernel to back the process's heap with transparent huge pages while a history
 * of exchanges grows in it: one fault per 2 MiB instead of one per 4 KiB page. Where a page
 * fault is dear (virtual machines whose host backs guest memory lazily paid 10-15 us for each
 * new 4 KiB page), a growing history cost the traffic a third more processor time per request
 * than the same process without one.
 *
 * How: the C library's heap grows HEAP_GROWTH_STEP at a time (allocations below
 * HEAP_MMAP_THRESHOLD come from it, and it shrinks only when twice that is free at its end, as
 * glibc's adaptive defaults would settle on), and each new part of it is marked MADV_HUGEPAGE
 * soon after it appears. Only the kernel's "madvise" and "always" modes of transparent huge
 * pages act on the mark; elsewhere (another C library, another kernel) heap_advice_start
 * returns false and nothing changes.
 */
#include <stdbool.h>
#include <stdint.h>

#include "hspy/store.h"

/* How far the heap grows at a time, and the size of a transparent huge page on x86-64 and
 * arm64 with 4 KiB pages (a mark on less than one does nothing). */
#define HEAP_GROWTH_STEP    ((size_t)32 << 20)
#define HEAP_HUGE_PAGE      ((uintptr_t)2 << 20)
#define HEAP_MMAP_THRESHOLD ((size_t)32 << 20)

struct heap_advice {
    uintptr_t advised; /* the heap below this address was looked at */
    bool on;           /* heap_advice_start succeeded */
};

/* Sets the heap's growth and marks what it holds. Returns false where it cannot work. */
bool heap_advice_start(struct heap_advice *a);

/* Marks the heap grown since the last call. Without growth it costs a compare (no system
 * call); call it as often as allocations happen (each new exchange, each frame). */
void heap_advice_update(struct heap_advice *a);

/* What a process that keeps a history in store does: heap_advice_start, then an update on each
 * exchange the store is given (a store observer; a must outlive the store). Returns false, and
 * observes nothing, where the advice cannot work. */
bool heap_advice_follow(struct heap_advice *a, struct store *store);

#endif
