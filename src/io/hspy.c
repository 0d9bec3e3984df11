/*
 * hspy owns the session object's lifecycle: defaults, configuration derived from the options,
 * and the start/finish of sinks and TUI around a mode's run.
 */
#include "hspy/hspy.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hspy/bodyfiles.h"
#include "hspy/cache.h"
#include "hspy/capture.h"
#include "hspy/exportfile.h"
#include "hspy/harfile.h"
#include "hspy/infile.h"
#include "hspy/pcapngsink.h"
#include "hspy/sinks.h"
#include "hspy/termsafe.h"

int64_t hspy_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hspy_init(struct hspy *h)
{
    memset(h, 0, sizeof *h);
    h->tty_fd = -1;
    options_init(&h->opt);
    uv_loop_init(&h->loop);
}

void hspy_configure(struct hspy *h)
{
    const struct options *o = &h->opt;
    h->limits.head_max = (uint32_t)o->head_max;
    h->limits.headers_max = (uint32_t)o->headers_max;
    h->limits.chunk_digits_max = (uint32_t)o->chunk_digits_max;
    h->limits.chunk_ext_max = (uint32_t)o->chunk_ext_max;
    h->ex_limits.head_max = (uint32_t)o->head_max;
    h->ex_limits.body_keep = o->body_keep;
    h->input_name = o->file && strcmp(o->file, "-") == 0 ? "stdin" : o->file;
    if (o->cmd == CMD_READ && o->file && infile_stream_to_stdin(o->file))
        h->opt.file = "-";
    h->interactive = o->cmd != CMD_LINT && !o->no_tui && isatty(STDOUT_FILENO);
    /* The input on stdin (a pipe from tcpdump, say): keys come from the controlling terminal,
     * and without one (cron, a service) hspy prints lines. */
    if (h->interactive && o->file && strcmp(o->file, "-") == 0 && !isatty(STDIN_FILENO)) {
        h->tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        h->interactive = h->tty_fd >= 0;
    } else {
        h->interactive = h->interactive && isatty(STDIN_FILENO);
    }
    /* Without a screen nothing reads old exchanges back: free them once the sinks saw them
     * (unless --save writes them at exit). */
    size_t flows = h->interactive || o->save_path ? (size_t)o->max_flows : 0;
    store_init(&h->store, flows, o->max_memory);
    h->store.analyze = cache_record; /* cache findings become warnings on every exchange */
    h->store.pool = &h->pool;
    if (flows) /* a history keeps each exchange: mark the heap it grows (see heap.h) */
        heap_advice_follow(&h->heap, &h->store);
}

int hspy_start(struct hspy *h)
{
    /* --save writes at the end: a path it can never write is refused now, not after the
     * session (first, so that no other output file is created for a session that never ran). */
    if (h->opt.save_path && harfile_probe(h->opt.save_path, h->err, sizeof h->err) != 0)
        return -1;
    h->sinks = sinks_open(h);
    if (!h->sinks)
        return -1;
    if (h->opt.pcapng_path && !(h->pcapng = pcapngsink_open(h, h->opt.pcapng_path)))
        return -1;
    if (h->opt.export_format && !(h->export = exportfile_open(h)))
        return -1;
    if (h->opt.bodies_dir) {
        if (!(h->bodies = bodyfiles_open(h, h->opt.bodies_dir)))
            return -1;
        h->tap = bodyfiles_tap(h->bodies);
    }
    if (h->interactive) {
        if (!h->tui_open) {
            hspy_fail(h, "terminal interface: not available in this build");
            return -1;
        }
        h->tui = h->tui_open(h);
        if (!h->tui)
            return -1;
    }
    h->started = true;
    h->started_ns = hspy_now();
    if (!h->title[0])
        snprintf(h->title, sizeof h->title, "%s", command_name(h->opt.cmd));
    return 0;
}

void hspy_capture_config(struct hspy *h, struct capture_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    capture_config_defaults(cfg);
    cfg->store = &h->store;
    cfg->limits = &h->limits;
    cfg->ex_limits = &h->ex_limits;
    cfg->pool = &h->pool;
    cfg->next_conn_id = &h->next_conn_id;
    cfg->interactive = h->interactive;
    cfg->tap = h->tap;
    if (h->opt.capture_conns)
        cfg->flows.flows = (uint32_t)h->opt.capture_conns;
}

void hspy_finish(struct hspy *h)
{
    if (h->tui && h->tui_close)
        h->tui_close(h->tui);
    h->tui = NULL;
    bool started = h->started;
    h->started = false;
    sinks_close(h->sinks);
    h->sinks = NULL;
    pcapngsink_close(h->pcapng);
    h->pcapng = NULL;
    exportfile_close(h->export);
    h->export = NULL;
    bodyfiles_close(h->bodies);
    h->bodies = NULL;
    h->tap = NULL;
    /* --save once per session, and only when it ran (not after a failed start). */
    if (started && h->opt.save_path)
        harfile_save(h);
}

static void close_walk(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

void hspy_cleanup(struct hspy *h)
{
    hspy_finish(h);
    uv_walk(&h->loop, close_walk, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    store_cleanup(&h->store);
    exchange_pool_cleanup(&h->pool);
    if (h->tty_fd >= 0)
        close(h->tty_fd);
    h->tty_fd = -1;
    options_cleanup(&h->opt);
}

void hspy_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hspy_vsay(fmt, ap);
    va_end(ap);
}

void hspy_vsay(const char *fmt, va_list ap)
{
    char msg[HSPY_SAY_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* A byte shown escaped takes at most 4 ("\x1b"); a character, at most 9 for its 4. */
    char safe[4 * HSPY_SAY_MAX];
    termsafe_str(safe, sizeof safe, (const uint8_t *)msg, strlen(msg), 0);
    fprintf(stderr, "hspy: %s\n", safe);
}

int hspy_fail(struct hspy *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, sizeof h->err, fmt, ap);
    va_end(ap);
    return 1;
}

int hspy_usage(struct hspy *h, const char *fmt, ...)
{
    char msg[sizeof h->err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    options_usage(h->err, sizeof h->err, h->opt.cmd, "%s", msg);
    h->usage = true;
    return 2;
}
