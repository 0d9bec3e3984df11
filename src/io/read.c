/*
 * read: the `hspy read FILE|-` subcommand. It opens the input before any screen appears (so a
 * bad file is a plain error), then reads it in batches from an idle handle of the session's
 * loop, so the interface stays responsive and output starts while a large file is still
 * loading. The input is a capture (pcapsource) or a HAR document (harsource), told apart by its
 * first bytes; each kind is a row of INPUTS. It owns the idle handle and the sources; exchanges
 * go to the store, where sinks and the interface find them. It never draws and never formats
 * exchanges.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/harsource.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/pcapsource.h"
#include "hspy/sinks.h"
#include "hspy/xmalloc.h"

/* Frames per loop turn: large enough to amortise the turn, small enough to keep keys snappy. */
enum { READ_BATCH = 4096 };

struct reader;

/* One kind of input: how it is opened, started, read in batches, closed and reported. */
struct input {
    int (*open)(struct reader *r, char *err, size_t errlen);
    void (*start)(struct reader *r);
    int (*read)(struct reader *r); /* 1 while more may follow */
    void (*close)(struct reader *r);
    int (*report)(struct reader *r); /* after the end: notes on stderr; the exit status */
};

struct reader {
    struct hspy *h;
    const struct input *in;
    struct pcapsource src;
    struct harsource har;
    struct harimport_config har_cfg;
    uv_idle_t idle;
    uv_signal_t sigint, sigterm;
    unsigned open_handles; /* the reader is freed when the last of its handles has closed */
    bool pipe;             /* input is a pipe or terminal: flush output as exchanges complete */
};

/* Capture settings derived from the session's options. */
static void capture_setup(struct hspy *h, struct capture_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    capture_config_defaults(cfg);
    cfg->store = &h->store;
    cfg->limits = &h->limits;
    cfg->ex_limits = &h->ex_limits;
    cfg->pool = &h->pool;
    cfg->next_conn_id = &h->next_conn_id;
    cfg->interactive = h->interactive;
    if (h->opt.capture_conns)
        cfg->flows.flows = (uint32_t)h->opt.capture_conns;
}

/* ---- captures ---- */

static int pcap_open(struct reader *r, char *err, size_t errlen)
{
    struct hspy *h = r->h;
    if (pcapsource_open_file(&r->src, h->opt.file, err, errlen) < 0)
        return -1;
    char why[512];
    if (h->opt.bpf && pcapsource_filter(&r->src, h->opt.bpf, why, sizeof why) < 0) {
        /* Only the open capture's link type can judge the expression: a bad value all the
         * same. */
        hspy_usage(h, "--bpf: %s", why);
        pcapsource_close(&r->src);
        return -1;
    }
    r->pipe = !r->src.seekable;
    return 0;
}

static void pcap_start(struct reader *r)
{
    struct capture_config cfg;
    capture_setup(r->h, &cfg);
    pcapsource_start(&r->src, &cfg, &r->h->load);
}

static int pcap_read(struct reader *r)
{
    return pcapsource_read(&r->src, READ_BATCH, r->pipe);
}

static void pcap_close(struct reader *r)
{
    pcapsource_close(&r->src);
}

static int pcap_report(struct reader *r)
{
    for (unsigned i = 0; i < r->src.nnotes; i++)
        fprintf(stderr, "hspy: warning: %s\n", r->src.notes[i]);
    if (!r->src.error[0])
        return 0;
    fprintf(stderr, "hspy: %s\n", r->src.error);
    return 1;
}

/* ---- HAR documents ---- */

static int har_open(struct reader *r, char *err, size_t errlen)
{
    if (r->h->opt.bpf) {
        hspy_usage(r->h, "--bpf filters captures; %s is a HAR file (use --filter)", r->h->opt.file);
        return -1;
    }
    if (harsource_open(&r->har, r->h->opt.file, err, errlen) < 0)
        return -1;
    r->pipe = !r->har.seekable;
    return 0;
}

static void har_start(struct reader *r)
{
    struct hspy *h = r->h;
    r->har_cfg = (struct harimport_config){&h->store, &h->limits, &h->ex_limits, &h->next_conn_id};
    harsource_start(&r->har, &r->har_cfg, &h->load);
}

static int har_read(struct reader *r)
{
    return harsource_read(&r->har);
}

static void har_close(struct reader *r)
{
    harsource_close(&r->har);
}

static int har_report(struct reader *r)
{
    for (unsigned i = 0; i < r->har.nnotes; i++)
        fprintf(stderr, "hspy: warning: %s\n", r->har.notes[i]);
    const char *err = harsource_error(&r->har);
    return err ? hspy_fail(r->h, "%s", err) : 0;
}

static const struct input INPUT_PCAP = {pcap_open, pcap_start, pcap_read, pcap_close, pcap_report};
static const struct input INPUT_HAR = {har_open, har_start, har_read, har_close, har_report};

/*
 * Which input FILE is, from its first bytes. A pipe can only be peeked at one byte (pushed
 * back for the reader); a file is read from its start again.
 */
static const struct input *input_of(const char *path)
{
    uint8_t head[64];
    size_t n = 0;
    if (strcmp(path, "-") == 0) {
        int c = getc(stdin);
        if (c == EOF)
            return &INPUT_PCAP;
        ungetc(c, stdin);
        head[n++] = (uint8_t)c;
    } else {
        FILE *f = fopen(path, "rb");
        if (!f)
            return &INPUT_PCAP; /* the capture reader reports why it cannot be opened */
        n = fread(head, 1, sizeof head, f);
        fclose(f);
    }
    return harsource_sniff(head, n) ? &INPUT_HAR : &INPUT_PCAP;
}

static void stop(struct reader *r)
{
    uv_idle_stop(&r->idle);
    uv_signal_stop(&r->sigint);
    uv_signal_stop(&r->sigterm);
    r->in->close(r);
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
    if (!r->in->read(r))
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

/*
 * A read from a pipe blocks while the writer is quiet (tcpdump -w - on an idle network), and
 * libuv installs its handlers with SA_RESTART, which resumes such a read after the signal.
 * Without it the read fails with EINTR, the reader stops, and the loop runs the watcher.
 */
static void interrupt_blocking_reads(int signum)
{
    struct sigaction sa;
    if (sigaction(signum, NULL, &sa) == 0 && (sa.sa_flags & SA_RESTART)) {
        sa.sa_flags &= ~SA_RESTART;
        sigaction(signum, &sa, NULL);
    }
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct reader *r = handle->data;
    if (--r->open_handles == 0)
        free(r);
}

/* Closes the reader's handles; the loop frees the reader once they are closed. */
static void reader_release(struct reader *r)
{
    r->open_handles = 3;
    uv_close((uv_handle_t *)&r->idle, on_handle_closed);
    uv_close((uv_handle_t *)&r->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&r->sigterm, on_handle_closed);
}

static int run(struct hspy *h)
{
    struct reader *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->in = input_of(h->opt.file);
    int opened = r->in->open(r, h->err, sizeof h->err);
    if (opened < 0 || hspy_start(h) < 0) {
        if (opened == 0)
            r->in->close(r);
        free(r);
        return 1;
    }
    r->in->start(r);
    uv_idle_init(&h->loop, &r->idle);
    uv_idle_start(&r->idle, on_idle);
    uv_signal_init(&h->loop, &r->sigint);
    uv_signal_init(&h->loop, &r->sigterm);
    r->idle.data = r->sigint.data = r->sigterm.data = r;
    /* With a screen, the interface owns Ctrl-C; without one it ends the read cleanly. */
    if (!h->interactive) {
        uv_signal_start(&r->sigint, on_signal, SIGINT);
        uv_signal_start(&r->sigterm, on_signal, SIGTERM);
        if (r->pipe) {
            interrupt_blocking_reads(SIGINT);
            interrupt_blocking_reads(SIGTERM);
        }
    }
    uv_run(&h->loop, UV_RUN_DEFAULT);
    stop(r);
    hspy_finish(h);
    int status = r->in->report(r);
    reader_release(r);
    return status;
}

const struct mode mode_read = {CMD_READ, 1, run};
