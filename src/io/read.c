/*
 * read: the `hspy read FILE|-` subcommand. It opens the capture before any screen appears (so a
 * bad file is a plain error), then reads it in batches from an idle handle of the session's
 * loop, so the interface stays responsive and output starts while a large file is still
 * loading. It owns the idle handle and the pcapsource; exchanges go to the store, where sinks
 * and the interface find them. It never draws and never formats exchanges.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/pcapsource.h"
#include "hspy/sinks.h"

/* Frames per loop turn: large enough to amortise the turn, small enough to keep keys snappy. */
enum { READ_BATCH = 4096 };

struct reader {
    struct hspy *h;
    struct pcapsource src;
    uv_idle_t idle;
    uv_signal_t sigint, sigterm;
    bool pipe; /* input is a pipe or terminal: flush output as exchanges complete */
};

/* Capture settings derived from the session's options. */
static void capture_setup(struct hspy *h, struct capture_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    capture_config_defaults(cfg);
    cfg->store = &h->store;
    cfg->limits = &h->limits;
    cfg->ex_limits = &h->ex_limits;
    cfg->next_conn_id = &h->next_conn_id;
    cfg->interactive = h->interactive;
    if (h->opt.capture_conns)
        cfg->flows.flows = (uint32_t)h->opt.capture_conns;
}

static void print_notes(const struct pcapsource *s)
{
    for (unsigned i = 0; i < s->nnotes; i++)
        fprintf(stderr, "hspy: warning: %s\n", s->notes[i]);
}

static void stop(struct reader *r)
{
    uv_idle_stop(&r->idle);
    uv_signal_stop(&r->sigint);
    uv_signal_stop(&r->sigterm);
    pcapsource_close(&r->src);
    if (!r->h->interactive)
        uv_stop(&r->h->loop);
}

/* Lets what the sinks printed so far reach the reader (once per loop turn). */
static void flush_output(struct reader *r)
{
    sinks_flush(r->h->sinks);
}

static void on_idle(uv_idle_t *idle)
{
    struct reader *r = idle->data;
    if (!pcapsource_read(&r->src, READ_BATCH, r->pipe))
        stop(r);
    flush_output(r);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct reader *r = sig->data;
    (void)signum;
    /* Interrupted: what was read so far still completes and reaches the sinks. */
    stop(r);
    uv_stop(&r->h->loop);
}

static int open_input(struct hspy *h, struct reader *r)
{
    if (pcapsource_open_file(&r->src, h->opt.file, h->err, sizeof h->err) < 0)
        return -1;
    if (h->opt.bpf && pcapsource_filter(&r->src, h->opt.bpf, h->err, sizeof h->err) < 0) {
        pcapsource_close(&r->src);
        return -1;
    }
    r->pipe = !r->src.seekable;
    return 0;
}

static int run(struct hspy *h)
{
    static struct reader r; /* lives as long as the loop's handles */
    memset(&r, 0, sizeof r);
    r.h = h;
    if (open_input(h, &r) < 0)
        return 1;
    if (hspy_start(h) < 0) {
        pcapsource_close(&r.src);
        return 1;
    }
    struct capture_config cfg;
    capture_setup(h, &cfg);
    pcapsource_start(&r.src, &cfg, &h->load);
    uv_idle_init(&h->loop, &r.idle);
    r.idle.data = &r;
    uv_idle_start(&r.idle, on_idle);
    uv_signal_init(&h->loop, &r.sigint);
    uv_signal_init(&h->loop, &r.sigterm);
    r.sigint.data = r.sigterm.data = &r;
    /* With a screen, the interface owns Ctrl-C; without one it ends the read cleanly. */
    if (!h->interactive) {
        uv_signal_start(&r.sigint, on_signal, SIGINT);
        uv_signal_start(&r.sigterm, on_signal, SIGTERM);
    }
    uv_run(&h->loop, UV_RUN_DEFAULT);
    stop(&r);
    hspy_finish(h);
    print_notes(&r.src);
    return 0;
}

const struct mode mode_read = {CMD_READ, 1, run};
