/*
 * heap: once started, the heap that small allocations grow is marked for transparent huge
 * pages (the kernel shows the mark as "hg" among a mapping's VmFlags in /proc/self/smaps), in
 * whole huge pages, as it grows.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/heap.h"

/* Bytes of the mappings inside [lo, hi) that carry the huge page mark. */
static size_t marked_bytes(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    uintptr_t from = 0, to = 0;
    size_t marked = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            from = a;
            to = b;
        } else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " hg") && from >= lo &&
                   to <= hi) {
            marked += to - from;
        }
    }
    fclose(f);
    return marked;
}

static void test_heap_marked_as_it_grows(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    fprintf(stderr,
            "skipped: the address sanitizer's allocator does not use the C library's heap\n");
    skip();
    return;
#endif
    if (access("/sys/kernel/mm/transparent_hugepage", F_OK) != 0) {
        fprintf(stderr, "skipped: this kernel has no transparent huge pages\n");
        skip();
    }
    struct heap_advice a;
    assert_true(heap_advice_start(&a));
    uintptr_t lo = (uintptr_t)sbrk(0);
    assert_int_equal(marked_bytes(lo, UINTPTR_MAX), 0);
    /* 24 MiB in the pieces a history keeps, the mark updated as each arrives. */
    enum { PIECE = 1024, PIECES = 24 * 1024 };
    char **kept = calloc(PIECES, sizeof *kept);
    assert_non_null(kept);
    for (size_t i = 0; i < PIECES; i++) {
        kept[i] = malloc(PIECE);
        assert_non_null(kept[i]);
        memset(kept[i], (int)i, PIECE);
        heap_advice_update(&a);
    }
    uintptr_t hi = (uintptr_t)sbrk(0);
    assert_true(hi - lo >= (uintptr_t)PIECES * PIECE);
    /* Every whole huge page of the growth is marked: all of it but the part of a page before
     * the first whole one and the part after the last. */
    size_t marked = marked_bytes(lo, hi);
    assert_true(marked % HEAP_HUGE_PAGE == 0);
    assert_true(marked + 2 * HEAP_HUGE_PAGE >= hi - lo);
    for (size_t i = 0; i < PIECES; i++)
        free(kept[i]);
    free(kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_marked_as_it_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
