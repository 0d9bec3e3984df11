/*
 * read: the `hspy read FILE|-` subcommand. It opens the input before any screen appears (so a
 * bad file is a plain error), then reads it in batches from an idle handle of the session's
 * loop, so the interface stays responsive and output starts while a large file is still
 * loading. The input is a capture (pcapsource) or a HAR document (harsource), told apart by its
 * first bytes, or a capture arriving through a pipe on stdin, read through a pump (pump.h) that
 * the loop fills whenever the pipe is readable, so that a writer quiet between packets never
 * stops the loop; a HAR document on a pipe is likewise read as the loop finds the pipe readable.
 * Each kind is a row of INPUTS. It owns the idle and poll handles and the
 * sources; exchanges go to the store, where sinks and the interface find them. It never draws
 * and never formats exchanges.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/harsource.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/pcapsource.h"
#include "hspy/pump.h"
#include "hspy/sinks.h"
#include "hspy/xmalloc.h"

/* Frames per loop turn: large enough to amortise the turn, small enough to keep keys snappy. */
enum { READ_BATCH = 4096 };

struct reader;

/* What an input's read says: the end, more now, or nothing until the input wakes the reader. */
enum { READ_END = 0, READ_MORE = 1, READ_WAIT = 2 };

/* One kind of input: how it is opened, started, read in batches, closed and reported. */
struct input {
    int (*open)(struct reader *r, char *err, size_t errlen);
    void (*start)(struct reader *r);
    int (*read)(struct reader *r); /* READ_MORE while more may follow, READ_END, READ_WAIT */
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
    struct pump pump;      /* a capture through a pipe: its bytes and framing */
    uv_poll_t poll;        /* the pipe, while the pump wants input */
    bool pumped;           /* the poll handle was initialised for a pipe (closed with the reader) */
    unsigned open_handles; /* the reader is freed when the last of its handles has closed */
    bool pipe;             /* input is a pipe or terminal: flush output as exchanges complete */
};

/* ---- captures ---- */

/* Applies --bpf to the open capture; on a bad expression closes it and returns -1. */
static int apply_bpf(struct reader *r)
{
    struct hspy *h = r->h;
    char why[512];
    if (h->opt.bpf && pcapsource_filter(&r->src, h->opt.bpf, why, sizeof why) < 0) {
        /* Only the open capture's link type can judge the expression: a bad value all the
         * same. */
        hspy_usage(h, "--bpf: %s", why);
        pcapsource_close(&r->src);
        return -1;
    }
    return 0;
}

static int pcap_open(struct reader *r, char *err, size_t errlen)
{
    if (pcapsource_open_file(&r->src, r->h->opt.file, r->h->input_name, err, errlen) < 0 ||
        apply_bpf(r) < 0)
        return -1;
    r->pipe = !r->src.seekable;
    return 0;
}

static void pcap_start(struct reader *r)
{
    struct capture_config cfg;
    hspy_capture_config(r->h, &cfg);
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
        hspy_say("warning: %s", r->src.notes[i]);
    if (!r->src.error[0])
        return 0;
    hspy_say("%s", r->src.error);
    return 1;
}

/* ---- captures through a pipe ---- */

static bool stream_ready(const void *pump, uint64_t taken)
{
    return pump_ready(pump, taken);
}

static void on_idle(uv_idle_t *idle);
static void on_stream_readable(uv_poll_t *poll, int status, int events);

/* Polls the pipe while the pump wants bytes, and not otherwise (a full pump, the end). */
static void sync_poll(struct reader *r)
{
    bool active = uv_is_active((uv_handle_t *)&r->poll);
    bool wanted = pump_wants_input(&r->pump, r->src.taken);
    if (wanted && !active)
        uv_poll_start(&r->poll, UV_READABLE, on_stream_readable);
    else if (!wanted && active)
        uv_poll_stop(&r->poll);
}

static void on_stream_readable(uv_poll_t *poll, int status, int events)
{
    struct reader *r = poll->data;
    (void)status, (void)events; /* an error shows as a failed read */
    pump_fill(&r->pump, r->src.taken);
    sync_poll(r);
    if (pump_ready(&r->pump, r->src.taken) || pump_done(&r->pump, r->src.taken))
        uv_idle_start(&r->idle, on_idle);
}

/* Waits (before any screen, as a file's open does) for what libpcap reads while opening. */
static int stream_open(struct reader *r, char *err, size_t errlen)
{
    struct pump *p = &r->pump;
    const char *name = r->h->input_name;
    if (pump_open(p, stdin, name, err, errlen) < 0)
        return -1;
    const struct pcapsource_gate gate = {stream_ready, p};
    if (pump_wait_opening(p, name, err, errlen) < 0 ||
        pcapsource_open_stream(&r->src, pump_file(p), name, &gate, err, errlen) < 0 ||
        apply_bpf(r) < 0) {
        pump_close(p);
        return -1;
    }
    r->pipe = true;
    return 0;
}

static void stream_start(struct reader *r)
{
    pcap_start(r);
    r->h->load.stream = true; /* after pcap_start, which resets the load */
    uv_poll_init(&r->h->loop, &r->poll, pump_fd(&r->pump));
    r->poll.data = r;
    r->pumped = true;
    sync_poll(r);
}

static int stream_read(struct reader *r)
{
    struct pump *p = &r->pump;
    int more = pump_ready(p, r->src.taken) ? pcapsource_read(&r->src, READ_BATCH, true) : 1;
    r->h->load.bytes_read = pump_consumed(p);
    if (!more || pump_done(p, r->src.taken))
        return READ_END;
    sync_poll(r);
    return pump_ready(p, r->src.taken) ? READ_MORE : READ_WAIT;
}

static void stream_close(struct reader *r)
{
    if (r->pumped)
        uv_poll_stop(&r->poll);
    pcapsource_close(&r->src); /* closes the pump's FILE */
    pump_close(&r->pump);
}

static int stream_report(struct reader *r)
{
    pcap_report(r);
    const struct pump *p = &r->pump;
    if (p->error[0])
        hspy_say("warning: %s: corrupt capture after packet %llu (%s); reading stopped there",
                 r->h->input_name, (unsigned long long)r->h->load.packets, p->error);
    if (p->err)
        hspy_say("warning: %s: %s", r->h->input_name, strerror(p->err));
    return 0;
}

/* ---- HAR documents ---- */

static int har_open(struct reader *r, char *err, size_t errlen)
{
    if (r->h->opt.bpf) {
        hspy_usage(r->h, "--bpf filters captures; %s is a HAR file (use --filter)",
                   r->h->input_name);
        return -1;
    }
    if (harsource_open(&r->har, r->h->opt.file, r->h->input_name, err, errlen) < 0)
        return -1;
    r->pipe = !r->har.seekable;
    return 0;
}

/* A HAR pipe has more: the idle handle reads it. */
static void on_har_readable(uv_poll_t *poll, int status, int events)
{
    struct reader *r = poll->data;
    (void)status, (void)events; /* an error shows as a failed read */
    uv_poll_stop(poll);
    uv_idle_start(&r->idle, on_idle);
}

static void har_start(struct reader *r)
{
    struct hspy *h = r->h;
    r->har_cfg = (struct harimport_config){&h->store, &h->limits, &h->ex_limits, &h->next_conn_id};
    harsource_start(&r->har, &r->har_cfg, &h->load);
    /* A pipe: the loop waits for its writer, so a quiet one never stops the interface. */
    if (harsource_fd(&r->har) >= 0) {
        uv_poll_init(&h->loop, &r->poll, harsource_fd(&r->har));
        r->poll.data = r;
        r->pumped = true;
    }
}

static int har_read(struct reader *r)
{
    int rc = harsource_read(&r->har);
    if (rc != HARSOURCE_WAIT)
        return rc ? READ_MORE : READ_END;
    uv_poll_start(&r->poll, UV_READABLE, on_har_readable);
    return READ_WAIT;
}

static void har_close(struct reader *r)
{
    if (r->pumped)
        uv_poll_stop(&r->poll);
    harsource_close(&r->har);
}

static int har_report(struct reader *r)
{
    for (unsigned i = 0; i < r->har.nnotes; i++)
        hspy_say("warning: %s", r->har.notes[i]);
    const char *err = harsource_error(&r->har);
    return err ? hspy_fail(r->h, "%s", err) : 0;
}

static const struct input INPUT_PCAP = {pcap_open, pcap_start, pcap_read, pcap_close, pcap_report};
static const struct input INPUT_HAR = {har_open, har_start, har_read, har_close, har_report};
static const struct input INPUT_STREAM = {stream_open, stream_start, stream_read, stream_close,
                                          stream_report};

/* An input without a byte (an empty file, a pipe closed at once): nothing to read as either. */
static int empty_open(struct reader *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: empty input: no capture or HAR document in it", r->h->input_name);
    return -1;
}
/* Its open always fails, so nothing else of it is ever called. */
static const struct input INPUT_EMPTY = {empty_open, NULL, NULL, NULL, NULL};

/* Standard input is a pipe or a socket: bytes that come when the writer sends them. */
static bool stdin_is_pipe(void)
{
    struct stat st;
    return fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/*
 * Which input FILE is, from its first bytes. A pipe can only be peeked at one byte (pushed
 * back for the reader); a file is read from its start again. A capture from a pipe goes
 * through the pump; stdin redirected from a file is read as a file.
 */
static const struct input *input_of(const char *path)
{
    uint8_t head[64];
    size_t n = 0;
    if (strcmp(path, "-") == 0) {
        /* A pipe is pumped (pump.h), which takes over the descriptor: stdio must not have read
         * ahead of the byte peeked at. The HAR reader's large freads go straight to read(). */
        if (stdin_is_pipe())
            setvbuf(stdin, NULL, _IONBF, 0);
        int c = getc(stdin);
        if (c == EOF)
            return ferror(stdin) ? &INPUT_PCAP : &INPUT_EMPTY;
        ungetc(c, stdin);
        head[n++] = (uint8_t)c;
    } else {
        FILE *f = fopen(path, "rb");
        if (!f)
            return &INPUT_PCAP; /* the capture reader reports why it cannot be opened */
        n = fread(head, 1, sizeof head, f);
        bool failed = ferror(f);
        fclose(f);
        if (n == 0)
            return failed ? &INPUT_PCAP : &INPUT_EMPTY;
    }
    if (harsource_sniff(head, n))
        return &INPUT_HAR;
    return strcmp(path, "-") == 0 && stdin_is_pipe() ? &INPUT_STREAM : &INPUT_PCAP;
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
    int rc = r->in->read(r);
    if (rc == READ_END)
        stop(r);
    else if (rc == READ_WAIT)
        uv_idle_stop(idle); /* the input starts it again when it has more */
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
    r->open_handles = r->pumped ? 4 : 3;
    uv_close((uv_handle_t *)&r->idle, on_handle_closed);
    uv_close((uv_handle_t *)&r->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&r->sigterm, on_handle_closed);
    if (r->pumped)
        uv_close((uv_handle_t *)&r->poll, on_handle_closed);
}

static int run(struct hspy *h)
{
    struct reader *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->in = input_of(h->opt.file);
    if (r->in == &INPUT_HAR && h->opt.bodies_dir) {
        /* Its bodies come whole in its entries, not as bytes passing: nothing would be written. */
        hspy_fail(h,
                  "--save-bodies: %s is a HAR file, whose bodies are in its entries already "
                  "(export one with --export body, or E in the interface)",
                  h->opt.file);
        free(r);
        return 1;
    }
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
