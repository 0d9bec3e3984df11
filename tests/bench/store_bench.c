/*
 * store_bench: what keeping a history of exchanges costs, apart from the network and the
 * screen. The same exchanges (made by the conversation engine from an exchange pool, as the
 * modes make them) go into a store that drops each one once complete (a run without the
 * interface, --max-flows 0) and into one that keeps up to 100,000 (the interface's default),
 * alternately; the second half of a keeping run is past the cap, so eviction is part of it.
 * Prints per exchange the CPU time of this thread, the page faults taken and, for the kept
 * history, its resident bytes and the store's own account (exchange_memory). The part of a
 * keeping run past the cap (the history full, evicting) is also printed on its own.
 *
 * Usage: store_bench [-n EXCHANGES] [-r RUNS]   (200000 exchanges, 3 runs)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hspy/store.h"
#include "synth.h"

/* A request and answer like the listen benchmark's (wrk against hspy's echo). */
static const char SMALL_REQ[] = "GET /bench HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
static const char SMALL_RESP[] = "HTTP/1.1 200 OK\r\n"
                                 "Date: Thu, 26 Nov 2026 02:58:30 GMT\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: 45\r\n\r\n"
                                 "GET /bench HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/* A browser's request and a page of an application server. */
static const char PAGE_REQ[] =
    "GET /app/orders?page=2&sort=date HTTP/1.1\r\nHost: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://shop.example.com/app/orders?page=1\r\n"
    "Cookie: session=4f1c2a9be07d4c53a1b2c3d4e5f60718; theme=dark\r\n"
    "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\n\r\n";

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

struct result {
    double ns;        /* CPU per exchange */
    double ns_full;   /* the same once the history is full (evicting), or 0 when never full */
    double faults;    /* minor page faults per exchange */
    double rss;       /* resident bytes per kept exchange (at the cap) */
    double accounted; /* exchange_memory per kept exchange */
};

static char *page_response(void)
{
    static char resp[4096];
    char body[1800];
    memset(body, 'x', sizeof body);
    for (size_t i = 63; i < sizeof body; i += 64)
        body[i] = '\n';
    snprintf(resp, sizeof resp,
             "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 02:58:30 GMT\r\n"
             "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
             "Connection: keep-alive\r\nCache-Control: private, max-age=0\r\n"
             "ETag: \"5f1c-62a4b\"\r\nVary: Accept-Encoding\r\n\r\n%.*s",
             sizeof body, (int)sizeof body, body);
    return resp;
}

/* Feeds n exchanges of one kind on keep-alive connections of 1000 exchanges each. */
static struct result run(size_t max_flows, size_t n, const char *req, const char *resp)
{
    struct store store;
    store_init(&store, max_flows, STORE_MAX_MEMORY_DEFAULT);
    /* As hspy does: exchanges come from the pool and go back to it when dropped. */
    struct exchange_pool pool = {0};
    store.pool = &pool;
    struct synth s;
    synth_init(&s, &store, EXCHANGE_BODY_KEEP_DEFAULT);
    s.cfg.pool = &pool;
    size_t reqlen = strlen(req), resplen = strlen(resp);
    struct result r = {0};
    long rss0 = rss_kb(), f0 = minflt();
    double t0 = cpu_ns(), t_full = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 1000 == 0)
            synth_connect(&s, (unsigned)(i / 1000), (uint16_t)(40000 + i / 1000 % 20000));
        synth_exchange(&s, req, reqlen, resp, resplen, 1700000000000000000 + (int64_t)i, 1000);
        if (i + 1 == (max_flows < n ? max_flows : n) && max_flows) {
            r.rss = (double)(rss_kb() - rss0) * 1024 / (double)store.live;
            r.accounted = (double)store.memory / (double)store.live;
            t_full = cpu_ns();
        }
    }
    double t_end = cpu_ns();
    r.ns = (t_end - t0) / (double)n;
    if (max_flows && max_flows < n)
        r.ns_full = (t_end - t_full) / (double)(n - max_flows);
    r.faults = (double)(minflt() - f0) / (double)n;
    synth_cleanup(&s);
    store_cleanup(&store);
    exchange_pool_cleanup(&pool);
    return r;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

enum { RUNS_MAX = 32 };

static void compare(const char *what, size_t n, int runs, const char *req, const char *resp)
{
    double drop[RUNS_MAX], keep[RUNS_MAX], full[RUNS_MAX];
    struct result k = {0}, d = {0};
    for (int i = 0; i < runs; i++) {
        d = run(0, n, req, resp);
        k = run(STORE_MAX_FLOWS_DEFAULT, n, req, resp);
        drop[i] = d.ns;
        keep[i] = k.ns;
        full[i] = k.ns_full;
        /* Give the kept history's memory back so every run starts from the same heap. */
        malloc_trim(0);
    }
    double dm = median(drop, runs), km = median(keep, runs), fm = median(full, runs);
    printf("%-6s dropped at once: %7.0f ns CPU, %.3f page faults per exchange\n", what, dm,
           d.faults);
    printf("%-6s kept (cap %u):  %7.0f ns CPU, %.3f page faults per exchange: %+.0f ns\n", what,
           STORE_MAX_FLOWS_DEFAULT, km, k.faults, km - dm);
    if (fm > 0)
        printf("%-6s kept, history full (evicting): %7.0f ns CPU per exchange: %+.0f ns\n", what,
               fm, fm - dm);
    printf("%-6s memory per kept exchange: %.0f bytes resident, %.0f bytes accounted\n", what,
           k.rss, k.accounted);
}

int main(int argc, char **argv)
{
    size_t n = 200000;
    int runs = 3, opt;
    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 'r')
            runs = atoi(optarg);
        else {
            fprintf(stderr, "usage: store_bench [-n EXCHANGES] [-r RUNS]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > RUNS_MAX)
        runs = 3;
    /* As main() sets it for the program. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    compare("small", n, runs, SMALL_REQ, SMALL_RESP);
    compare("page", n, runs, PAGE_REQ, page_response());
    return 0;
}
