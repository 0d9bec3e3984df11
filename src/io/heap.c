/*
 * heap: transparent huge pages for the C library's heap (see heap.h). The heap is the range
 * glibc's main arena extends with brk; its current end is sbrk(0), which reads a variable of
 * the C library and makes no system call.
 */
#include "hspy/heap.h"

#include <unistd.h>

#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE)
#define HEAP_ADVICE 1
#else
#define HEAP_ADVICE 0
#endif

#if HEAP_ADVICE
static uintptr_t heap_end(void)
{
    return (uintptr_t)sbrk(0);
}
#endif

bool heap_advice_start(struct heap_advice *a)
{
    a->advised = 0;
    a->on = false;
#if HEAP_ADVICE
    /* Fixing any of these turns off glibc's adaptive thresholds: they are set to the most the
     * adaptive ones reach (the trim threshold twice the mmap threshold), so middle-sized
     * buffers still come from the heap and the heap does not shrink back to its step after
     * every free near its end. */
    if (!mallopt(M_TOP_PAD, (int)HEAP_GROWTH_STEP) ||
        !mallopt(M_MMAP_THRESHOLD, (int)HEAP_MMAP_THRESHOLD) ||
        !mallopt(M_TRIM_THRESHOLD, (int)(2 * HEAP_MMAP_THRESHOLD)))
        return false;
    uintptr_t end = heap_end();
    if (end == (uintptr_t)-1)
        return false;
    /* What the heap already holds stays as it is: its pages are mostly touched. */
    a->advised = end;
    a->on = true;
#endif
    return a->on;
}

void heap_advice_update(struct heap_advice *a)
{
#if HEAP_ADVICE
    if (!a->on)
        return;
    uintptr_t end = heap_end();
    if (end <= a->advised) {
        /* Shrunk: what grows back there is new memory, unmarked. */
        a->advised = end;
        return;
    }
    /* Whole huge pages only: the first one from the last end on, up to the new end. */
    uintptr_t from = (a->advised + HEAP_HUGE_PAGE - 1) & ~(HEAP_HUGE_PAGE - 1);
    uintptr_t to = end & ~(HEAP_HUGE_PAGE - 1);
    if (to <= from)
        return; /* looked at again once the heap reaches a whole page past from */
    /* A failure (a kernel without transparent huge pages) leaves the heap as it was. */
    (void)madvise((void *)from, (size_t)(to - from), MADV_HUGEPAGE);
    a->advised = to;
#else
    (void)a;
#endif
}

static void on_add(void *data, struct exchange *ex)
{
    (void)ex;
    heap_advice_update(data);
}

bool heap_advice_follow(struct heap_advice *a, struct store *store)
{
    if (!heap_advice_start(a))
        return false;
    store_observe(store, &(struct store_observer){a, on_add, NULL, NULL, NULL});
    return true;
}
