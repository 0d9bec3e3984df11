/*
 * tui_bench: the interface at a million exchanges. It fills a store with synthetic exchanges
 * (real request and response bytes through the conversation engine: mixed methods, hosts,
 * statuses, content types, sizes, some chunked, some with warnings), then measures what the
 * interface's performance goals are about:
 *   - moving, paging and jumping: key handling plus a full frame (ui_render), and the same
 *     frame drawn by curses into a pseudo-terminal whose other end is drained;
 *   - applying (and clearing) filters over all exchanges;
 *   - sorting by a column, searching the list, opening a detail view, a 100 MB body;
 *   - memory: the flow list's bytes per row, and the resident size the list adds.
 * Every figure is the median of several runs, in milliseconds of CPU time of this thread (what
 * the work costs, whatever else the machine runs); wall-clock medians follow in parentheses.
 * The heap is set up as hspy's is when it keeps a history (huge pages as it grows, marked on
 * each new exchange and before each frame, see heap.h): where new memory is dear, a frame that
 * writes a fresh buffer in 4 KiB pages (a sort's, a filter's) costs several times more.
 *
 * Usage: tui_bench [-n EXCHANGES] [-r RUNS]
 *        tui_bench --interactive [-n EXCHANGES]   the real interface on this terminal over a
 *                                                 synthetic store that keeps growing (a
 *                                                 development harness: q quits)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hspy/canvas.h"
#include "hspy/filter.h"
#include "hspy/hspy.h"
#include "hspy/keymap.h"
#include "hspy/screen.h"
#include "hspy/tui.h"
#include "hspy/ui.h"
#include "synth.h"

static double clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

static double cpu_ms(void)
{
    return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

/* A measurement: CPU and wall milliseconds. */
struct cost {
    double cpu, wall;
};

static struct cost cost_start(void)
{
    return (struct cost){cpu_ms(), now_ms()};
}

static struct cost cost_since(struct cost start)
{
    return (struct cost){cpu_ms() - start.cpu, now_ms() - start.wall};
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* --- synthetic traffic --- */

static const char *const METHODS[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "GET", "PATCH"};
static const char *const HOSTS[] = {"api.example.com", "localhost:9000", "cdn.example.net",
                                    "auth.internal", "shop.example.org"};
static const int STATUSES[] = {200, 200, 201, 304, 200, 404, 500, 302, 200, 400};
static const char *const TYPES[] = {"application/json", "text/html; charset=utf-8", "image/png",
                                    "text/plain", "application/javascript"};

static void add_one(struct synth *s, uint64_t i, int64_t t)
{
    char req[1024], resp[2048];
    const char *method = METHODS[i % 8];
    bool body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    /* One request in 97 carries a misspelt header, which the engine reports as a warning. */
    int rl = snprintf(req, sizeof req,
                      "%s /api/v1/items/%llu?page=%llu&sort=name HTTP/1.1\r\nHost: %s\r\n"
                      "User-Agent: curl/8.5.0\r\nAccept: */*\r\n%s%s\r\n%s",
                      method, (unsigned long long)i, (unsigned long long)(i % 50), HOSTS[i % 5],
                      i % 97 == 0 ? "Content-Lenght: 0\r\n" : "",
                      body ? "Content-Type: application/json\r\nContent-Length: 17\r\n" : "",
                      body ? "{\"name\":\"widget\"}" : "");
    int status = STATUSES[i % 10];
    const char *payload = "{\"id\":12345,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"ok\":true}\n";
    int rs;
    if (status == 304)
        rs = snprintf(resp, sizeof resp, "HTTP/1.1 304 Not Modified\r\nETag: \"%llu\"\r\n\r\n",
                      (unsigned long long)i);
    else if (i % 7 == 0)
        rs = snprintf(resp, sizeof resp,
                      "HTTP/1.1 %d X\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "%zx\r\n%s\r\n0\r\n\r\n",
                      status, TYPES[i % 5], strlen(payload), payload);
    else
        rs = snprintf(resp, sizeof resp,
                      "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      status, TYPES[i % 5], strlen(payload), payload);
    synth_exchange(s, req, (size_t)rl, resp, (size_t)rs, t, 1000000 + (int64_t)(i % 300) * 100000);
}

static void fill(struct synth *s, uint64_t n, int64_t t0)
{
    for (uint64_t i = 0; i < n; i++) {
        if (i % 10 == 0)
            synth_connect(s, (unsigned)(i / 10 % 60000), (uint16_t)(30000 + i % 30000));
        add_one(s, i, t0 + (int64_t)i * 1000000);
    }
    synth_close(s);
}

/* --- measuring --- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static struct cost median_cost(const struct cost *c, int n)
{
    double cpu[64], wall[64];
    for (int i = 0; i < n; i++)
        cpu[i] = c[i].cpu, wall[i] = c[i].wall;
    return (struct cost){median(cpu, n), median(wall, n)};
}

static void print_cost(const char *what, struct cost c, int decimals)
{
    printf("  %-36s %9.*f  (%.*f)\n", what, decimals, c.cpu, decimals, c.wall);
}

struct bench {
    struct store store;
    struct ui ui;
    struct canvas canvas;
    struct screen screen;
    bool pty;
    int master;
    pthread_t drain;
    int runs;
    struct synth *synth;     /* makes more exchanges (report_traffic) */
    uint64_t made;           /* exchanges it made so far */
    struct heap_advice heap; /* as hspy sets up its heap when it keeps a history */
};

/* A frame's update, as hspy's interface makes it: the heap grown since the last frame is marked
 * first (src/ui/tui.c). */
static bool bench_update(struct bench *b)
{
    heap_advice_update(&b->heap);
    return ui_update(&b->ui);
}

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

/* A curses screen on a pseudo-terminal of 50x200 whose output is read and dropped. */
static bool open_pty(struct bench *b)
{
    int slave;
    struct winsize ws = {.ws_row = 50, .ws_col = 200};
    if (openpty(&b->master, &slave, NULL, NULL, &ws) != 0)
        return false;
    FILE *out = fdopen(slave, "w");
    FILE *in = fdopen(dup(slave), "r");
    setenv("TERM", "xterm-256color", 1);
    char err[256];
    if (!out || !in || screen_open(&b->screen, out, in, true, err, sizeof err) != 0) {
        fprintf(stderr, "no pseudo-terminal screen: %s\n", err);
        return false;
    }
    pthread_create(&b->drain, NULL, drain, &b->master);
    return true;
}

/* Runs key (0: none) then a frame, `runs` times; returns the median. */
static struct cost frame_cost(struct bench *b, int key, bool curses)
{
    struct cost t[64];
    for (int r = 0; r < b->runs; r++) {
        struct cost start = cost_start();
        if (key)
            ui_key(&b->ui, key);
        bench_update(b);
        ui_render(&b->ui, &b->canvas);
        if (curses)
            screen_draw(&b->screen, &b->canvas);
        t[r] = cost_since(start);
    }
    return median_cost(t, b->runs);
}

static void report_moves(struct bench *b)
{
    static const struct {
        const char *what;
        int key;
    } MOVES[] = {
        {"move down (j)", 'j'},
        {"move up (k)", 'k'},
        {"page down (PgDn)", KEYMAP_PGDN},
        {"page up (PgUp)", KEYMAP_PGUP},
        {"jump to last (G)", 'G'},
        {"jump to first (g)", 'g'},
    };
    printf("\nframes with %zu flows at 200x50: key + ui_render; then + curses drawing into a "
           "pseudo-terminal (median of %d) ms cpu (wall)\n",
           flowlist_count(&b->ui.list), b->runs);
    char what[64];
    for (size_t i = 0; i < sizeof MOVES / sizeof MOVES[0]; i++) {
        print_cost(MOVES[i].what, frame_cost(b, MOVES[i].key, false), 3);
        if (b->pty) {
            snprintf(what, sizeof what, "%s, drawn", MOVES[i].what);
            print_cost(what, frame_cost(b, MOVES[i].key, true), 3);
        }
    }
}

static void report_filters(struct bench *b)
{
    static const char *const EXPRS[] = {"~m POST",    "~c 404", "~d example.com",
                                        "~u items/9", "~w",     "~t json & !~c 200",
                                        "~h curl",    ""};
    printf("\nfilters over %zu exchanges (median of %d) ms cpu (wall): the first frame "
           "(%d flows scanned), then the whole scan spread over frames\n",
           b->store.live, b->runs, FLOWLIST_SCAN_BUDGET_DEFAULT);
    for (size_t i = 0; i < sizeof EXPRS / sizeof EXPRS[0]; i++) {
        char err[256];
        struct filter *probe = filter_compile(EXPRS[i], err, sizeof err, NULL);
        if (!probe) {
            printf("  %-36s skipped: %s\n", EXPRS[i], err);
            continue;
        }
        filter_free(probe);
        struct cost first[64], all[64];
        for (int r = 0; r < b->runs; r++) {
            struct cost start = cost_start();
            ui_set_filter(&b->ui, EXPRS[i]);
            ui_render(&b->ui, &b->canvas);
            first[r] = cost_since(start);
            while (ui_busy(&b->ui))
                bench_update(b);
            all[r] = cost_since(start);
        }
        char what[96];
        snprintf(what, sizeof what, "%s: first frame", *EXPRS[i] ? EXPRS[i] : "(clear)");
        print_cost(what, median_cost(first, b->runs), 1);
        snprintf(what, sizeof what, "%s: all (%zu match)", *EXPRS[i] ? EXPRS[i] : "(clear)",
                 flowlist_count(&b->ui.list));
        print_cost(what, median_cost(all, b->runs), 1);
    }
    ui_set_filter(&b->ui, "");
    while (ui_busy(&b->ui))
        bench_update(b);
}

static struct cost once(void (*fn)(struct bench *), struct bench *b)
{
    struct cost start = cost_start();
    fn(b);
    return cost_since(start);
}

/*
 * Frames as the interface runs them (update and render) until it is idle again, after work
 * begun at start: prints the longest frame (the first includes what began the work) and the
 * whole.
 */
/* One frame as the interface draws it (update and render); *longest keeps the longest. */
static void timed_frame(struct bench *b, struct cost *longest)
{
    struct cost f = cost_start();
    bench_update(b);
    ui_render(&b->ui, &b->canvas);
    f = cost_since(f);
    if (f.cpu > longest->cpu)
        *longest = f;
}

static void report_frames(struct bench *b, const char *what, struct cost start)
{
    ui_render(&b->ui, &b->canvas);
    int frames = 1;
    struct cost longest = cost_since(start);
    for (; ui_busy(&b->ui); frames++)
        timed_frame(b, &longest);
    struct cost all = cost_since(start);
    char line[96];
    snprintf(line, sizeof line, "%s: longest frame", what);
    print_cost(line, longest, 1);
    snprintf(line, sizeof line, "%s: all (%d frames)", what, frames);
    print_cost(line, all, 1);
}

/* A re-sort, frame after frame until the rows are in the new order. */
static void report_sort(struct bench *b, const char *what, int col, bool desc)
{
    struct cost start = cost_start();
    flowlist_set_sort(&b->ui.list, col, desc);
    report_frames(b, what, start);
}

/* A filter applied (or cleared), frame after frame until the rows are complete and in order. */
static void report_filter_steps(struct bench *b, const char *what, const char *expr)
{
    struct cost start = cost_start();
    ui_set_filter(&b->ui, expr);
    report_frames(b, what, start);
}
static void search_missing(struct bench *b)
{
    ui_search(&b->ui, "no-such-text", 1);
}
static void search_missing_all(struct bench *b)
{
    ui_search(&b->ui, "no-such-text", 1);
    while (b->ui.searching)
        bench_update(b);
}
static void open_detail(struct bench *b)
{
    ui_key(&b->ui, KEYMAP_ENTER);
    ui_render(&b->ui, &b->canvas);
}
static void raw_tab(struct bench *b)
{
    ui_key(&b->ui, KEYMAP_TAB);
    ui_key(&b->ui, KEYMAP_TAB);
    ui_render(&b->ui, &b->canvas);
}

/* A 100 MB text body as the last exchange: opening it, jumping to its end, searching it. */
enum { BIG_BODY = 100 << 20 };

static void add_big(struct bench *b)
{
    struct synth big;
    synth_init(&big, &b->store, (size_t)BIG_BODY + 4096);
    synth_connect(&big, 9999, 9999);
    char *resp = malloc((size_t)BIG_BODY + 256);
    int h = snprintf(resp, 256,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %d\r\n\r\n",
                     BIG_BODY);
    char *p = resp + h;
    for (int i = 0; i < BIG_BODY / 64; i++, p += 64)
        snprintf(p, 65, "line %010d of a very large body, sixty-four bytes long....\n", i);
    memcpy(resp + h + BIG_BODY - 13, "needle-here!\n", 13);
    const char *req = "GET /big HTTP/1.1\r\nHost: big\r\n\r\n";
    synth_exchange(&big, req, strlen(req), resp, (size_t)h + BIG_BODY, hspy_now(), 1000);
    synth_close(&big);
    free(resp);
}

static void open_big(struct bench *b)
{
    ui_key(&b->ui, 'q');
    bench_update(b);
    ui_key(&b->ui, 'G');
    ui_key(&b->ui, KEYMAP_ENTER);
    detail_set_tab(&b->ui.detail, 1); /* Response */
    ui_render(&b->ui, &b->canvas);
}

/* G on the open body, frame after frame until its end shows. */
static void report_big_end(struct bench *b, const char *what)
{
    struct cost start = cost_start();
    ui_key(&b->ui, 'G');
    report_frames(b, what, start);
}

/* A search of the open body from its top, frame after frame until the match shows. */
static void report_big_search(struct bench *b, const char *what)
{
    ui_key(&b->ui, 'g');
    ui_render(&b->ui, &b->canvas);
    struct cost start = cost_start();
    ui_search(&b->ui, "needle-here", 1);
    report_frames(b, what, start);
}

/* Makes n more exchanges, ten a connection. */
static void make_flows(struct bench *b, int n)
{
    for (int i = 0; i < n; i++, b->made++) {
        if (b->made % 10 == 0)
            synth_connect(b->synth, (unsigned)(b->made / 10 % 60000),
                          (uint16_t)(30000 + b->made % 30000));
        add_one(b->synth, b->made, (int64_t)1700000000 * 1000000000 + (int64_t)b->made * 1000000);
    }
    synth_close(b->synth);
}

/*
 * New flows taken in while the list shows some order, `per` of them an update (a frame under
 * load takes hundreds): CPU per new flow, making the exchange included (compare the orders with
 * each other). Each new flow evicts the oldest, as in a full history.
 */
static void report_traffic(struct bench *b, const char *what, int per)
{
    enum { NEW = 2048 };
    struct cost start = cost_start();
    for (int i = 0; i < NEW; i += per) {
        make_flows(b, per);
        bench_update(b);
    }
    struct cost c = cost_since(start);
    char line[96];
    snprintf(line, sizeof line, "%s, %d a frame", what, per);
    printf("  %-46s %7.1f  (%.1f) us a flow\n", line, c.cpu * 1000 / NEW, c.wall * 1000 / NEW);
}

/* A re-sort while `per` new flows arrive before each frame: the longest frame (update and
 * render; making the flows is not counted), the one that puts the new order together included. */
static void report_sort_under_traffic(struct bench *b, const char *what, int col, bool desc,
                                      int per)
{
    struct cost longest = cost_start();
    flowlist_set_sort(&b->ui.list, col, desc); /* at once for a short list */
    longest = cost_since(longest);
    int frames = 0;
    do {
        make_flows(b, per);
        timed_frame(b, &longest);
        frames++;
    } while (b->ui.list.sorting);
    char line[96];
    snprintf(line, sizeof line, "%s (%d flows a frame): longest of %d frames", what, per, frames);
    print_cost(line, longest, 1);
}

static void report_others(struct bench *b)
{
    printf("\nother operations (once) ms cpu (wall)\n");
    report_traffic(b, "new flows by number", 1);
    report_traffic(b, "new flows by number", 256);
    report_sort(b, "sort by status", FLOWCOL_STATUS, false);
    report_sort(b, "sort by host (descending)", FLOWCOL_HOST, true);
    print_cost("frame while sorted by host", frame_cost(b, 'j', false), 3);
    report_traffic(b, "new flows sorted by host", 1);
    report_traffic(b, "new flows sorted by host", 256);
    report_filter_steps(b, "~c 404 while sorted by host", "~c 404");
    report_filter_steps(b, "clear it while sorted by host", "");
    report_sort(b, "back to the default order", FLOWCOL_ID, false);
    report_sort_under_traffic(b, "sort by host under traffic", FLOWCOL_HOST, false, 256);
    report_sort(b, "back to the default order", FLOWCOL_ID, false);
    print_cost("search the list, no match: first frame", once(search_missing, b), 1);
    print_cost("search the list, no match: all", once(search_missing_all, b), 1);
    print_cost("open a detail view (frame)", once(open_detail, b), 3);
    print_cost("switch to the Raw tab (frame)", once(raw_tab, b), 3);
    add_big(b);
    print_cost("open a 100 MB body (frame)", once(open_big, b), 3);
    report_big_end(b, "go to its end");
    report_big_search(b, "search it from the top");
    detail_set_tab(&b->ui.detail, 3); /* Hex */
    report_big_search(b, "the same in its Hex tab");
    ui_key(&b->ui, 'q'); /* back to the list */
    bench_update(b);
    struct cost start = cost_start();
    ui_key(&b->ui, 'z');
    ui_key(&b->ui, 'y');
    report_frames(b, "delete every flow (z)", start);
}

static int run_bench(uint64_t n, int runs)
{
    struct bench b;
    memset(&b, 0, sizeof b);
    b.runs = runs;
    setlocale(LC_CTYPE, "C.UTF-8");
    /* The heap as hspy's is when it keeps a history (huge pages, see heap.h), so that the
     * figures are what its interface pays for new memory. */
    store_init(&b.store, n + 1, (size_t)-1);
    bool huge = heap_advice_follow(&b.heap, &b.store);
    printf("heap: %s\n", huge ? "huge pages advised as it grows, as hspy's with a history"
                              : "as the C library sets it (huge pages not available here)");
    struct synth s;
    synth_init(&s, &b.store, 4096);
    long rss0 = rss_kb();
    double t = now_ms();
    fill(&s, n, (int64_t)1700000000 * 1000000000);
    b.synth = &s;
    b.made = n;
    printf("filled the store with %llu exchanges in %.0f ms (%ld MB resident)\n",
           (unsigned long long)b.store.live, now_ms() - t, (rss_kb() - rss0) / 1024);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct ui_config cfg = {
        .title = "bench", .limits = &limits, .body_max = 64 << 20, .glyphs = &GLYPHS_UTF8};
    long rss1 = rss_kb();
    ui_init(&b.ui, &b.store, &cfg);
    ui_resize(&b.ui, 50, 200);
    canvas_init(&b.canvas, 50, 200);
    struct cost first = cost_start();
    while (bench_update(&b) && ui_busy(&b.ui))
        ;
    first = cost_since(first);
    printf("first scan of the store by the flow list: %.1f ms cpu (%.1f wall)\n", first.cpu,
           first.wall);
    printf("flow list memory: %zu bytes per row (ids array %zu KB for %zu rows, capacity %zu); "
           "resident growth %ld KB\n",
           sizeof *b.ui.list.ids, b.ui.list.cap * sizeof *b.ui.list.ids / 1024,
           flowlist_count(&b.ui.list), b.ui.list.cap, rss_kb() - rss1);
    b.pty = open_pty(&b);
    report_moves(&b);
    report_filters(&b);
    report_others(&b);
    if (b.pty) {
        screen_close(&b.screen);
        close(b.master);
    }
    canvas_cleanup(&b.canvas);
    ui_cleanup(&b.ui);
    store_cleanup(&b.store);
    return 0;
}

/* --- the development harness --- */

struct live {
    struct hspy *h;
    struct synth synth;
    uint64_t i;
    uv_timer_t timer;
};

static void on_tick(uv_timer_t *timer)
{
    struct live *l = timer->data;
    if (!l->h->tui) {
        uv_close((uv_handle_t *)timer, NULL);
        return;
    }
    if (l->i % 10 == 0)
        synth_connect(&l->synth, (unsigned)(l->i % 300), (uint16_t)(40000 + l->i % 20000));
    add_one(&l->synth, l->i++, hspy_now());
}

static int run_interactive(uint64_t n)
{
    static struct hspy h;
    hspy_init(&h);
    h.opt.cmd = CMD_LISTEN;
    h.opt.max_flows = n + 100000;
    hspy_configure(&h);
    h.interactive = true;
    h.tui_open = tui_new;
    h.tui_close = tui_free;
    snprintf(h.title, sizeof h.title, "synthetic store (development harness)");
    struct live l = {.h = &h};
    synth_init(&l.synth, &h.store, h.ex_limits.body_keep);
    fill(&l.synth, n, hspy_now() - (int64_t)n * 1000000);
    l.i = n;
    if (hspy_start(&h) != 0) {
        fprintf(stderr, "tui_bench: %s\n", h.err);
        return 1;
    }
    uv_timer_init(&h.loop, &l.timer);
    l.timer.data = &l;
    uv_timer_start(&l.timer, on_tick, 500, 250);
    uv_unref((uv_handle_t *)&l.timer);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    synth_cleanup(&l.synth);
    hspy_finish(&h);
    hspy_cleanup(&h);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    int runs = 15;
    bool interactive = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--interactive") == 0)
            interactive = true;
        else {
            fprintf(stderr, "usage: tui_bench [--interactive] [-n EXCHANGES] [-r RUNS]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64)
        runs = 15;
    return interactive ? run_interactive(n) : run_bench(n, runs);
}
