/*
 * newmem_bench: what this machine charges for memory a process has never used, in CPU time
 * per KiB. A history of flows is new memory until it is full, so this price is part of what
 * the interface costs while its history fills (tests/bench/tui_overhead.sh prints it beside
 * the memory the interface kept per request).
 *
 * Maps MIB mebibytes as hspy's heap is when it keeps a history (whole 2 MiB pages advised as
 * huge pages, see src/io/heap.c), writes one byte in every 4 KiB and measures the process's
 * CPU time (user + system, which is where the kernel's clearing and any hypervisor's work to
 * back the pages is charged). Then unmaps it and does the same again at once: the kernel
 * usually hands back the pages just freed, which shows the price of reused memory. On bare
 * metal the two are close; in a virtual machine whose host takes back free memory (free page
 * reporting, ballooning) the first can be ten times the second.
 *
 * Usage: newmem_bench [MIB]   (256)
 * Prints one line: "new memory: A us per KiB at first use, B us per KiB used again at once
 * (MIB MiB, huge pages advised: yes|no)".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

enum { TOUCH_STEP = 4096, HUGE_PAGE = 2 << 20, DEFAULT_MIB = 256, MAX_MIB = 1 << 16 };

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/* Maps bytes (a multiple of HUGE_PAGE) aligned to HUGE_PAGE, advises huge pages (*advised says
 * whether the kernel took the advice), writes a byte in every page and unmaps it. Returns the
 * CPU seconds the writes took, or -1 when the mapping failed. */
static double touch_once(size_t bytes, int *advised)
{
    size_t span = bytes + HUGE_PAGE;
    uint8_t *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    uint8_t *p = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    *advised = madvise(p, bytes, MADV_HUGEPAGE) == 0;
    double start = cpu_seconds();
    for (size_t off = 0; off < bytes; off += TOUCH_STEP)
        ((volatile uint8_t *)p)[off] = 1;
    double spent = cpu_seconds() - start;
    munmap(map, span);
    return spent;
}

int main(int argc, char **argv)
{
    long mib = DEFAULT_MIB;
    if (argc > 2 || (argc == 2 && ((mib = strtol(argv[1], NULL, 10)) < 2 || mib > MAX_MIB))) {
        fprintf(stderr, "usage: newmem_bench [MIB]   (2 to %d, default %d)\n", MAX_MIB,
                DEFAULT_MIB);
        return 1;
    }
    size_t bytes = (size_t)mib << 20 & ~(size_t)(HUGE_PAGE - 1);
    int advised = 0;
    double first = touch_once(bytes, &advised), again = touch_once(bytes, &advised);
    if (first < 0 || again < 0) {
        fprintf(stderr, "newmem_bench: cannot map %ld MiB\n", mib);
        return 1;
    }
    double kib = (double)(bytes >> 10);
    printf("new memory: %.2f us per KiB at first use, %.2f us per KiB used again at once (%ld MiB, "
           "huge pages advised: %s)\n",
           first * 1e6 / kib, again * 1e6 / kib, mib, advised ? "yes" : "no");
    return 0;
}
