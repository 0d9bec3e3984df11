/*
 * sniff: the `hspy sniff [-i IFACE] [BPF]` subcommand. It opens a live capture before any screen
 * appears (a missing privilege is a plain error), then reads packets whenever the capture's
 * descriptor is readable, through the same pipeline as `hspy read`. It owns the poll and signal
 * handles and the pcapsource; it never draws and never formats exchanges.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/pcapsource.h"
#include "hspy/plural.h"
#include "hspy/sinks.h"

enum { SNIFF_BATCH = 1024 };

struct sniffer {
    struct hspy *h;
    struct pcapsource src;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    bool stopped;
};

static void stop(struct sniffer *s)
{
    if (s->stopped)
        return;
    s->stopped = true;
    uv_poll_stop(&s->poll);
    uv_timer_stop(&s->timer);
    uv_signal_stop(&s->sigint);
    uv_signal_stop(&s->sigterm);
    pcapsource_close(&s->src);
    uv_stop(&s->h->loop);
}

static void drain(struct sniffer *s)
{
    if (!pcapsource_read(&s->src, SNIFF_BATCH, false))
        stop(s);
    else
        sinks_flush(s->h->sinks);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    drain(p->data);
}

/* Some platforms' capture descriptors do not wake up on every packet: poll now and then. */
static void on_timer(uv_timer_t *t)
{
    drain(t->data);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    (void)signum;
    stop(sig->data);
}

static int run(struct hspy *h)
{
    static struct sniffer s; /* lives as long as the loop's handles */
    memset(&s, 0, sizeof s);
    s.h = h;
    if (pcapsource_open_live(&s.src, h->opt.iface, h->err, sizeof h->err) < 0)
        return 1;
    char why[512];
    if (h->opt.bpf && pcapsource_filter(&s.src, h->opt.bpf, why, sizeof why) < 0) {
        /* Compiled against the interface's link type, so only once it is open. */
        pcapsource_close(&s.src);
        return hspy_usage(h, "%s", why);
    }
    if (hspy_start(h) < 0) {
        pcapsource_close(&s.src);
        return 1;
    }
    struct capture_config cfg;
    hspy_capture_config(h, &cfg);
    pcapsource_start(&s.src, &cfg, &h->load);
    uv_poll_init(&h->loop, &s.poll, pcapsource_fd(&s.src));
    s.poll.data = &s;
    uv_poll_start(&s.poll, UV_READABLE, on_readable);
    uv_timer_init(&h->loop, &s.timer);
    s.timer.data = &s;
    uv_timer_start(&s.timer, on_timer, 200, 200);
    uv_signal_init(&h->loop, &s.sigint);
    uv_signal_init(&h->loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    if (!h->interactive)
        uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    stop(&s);
    hspy_finish(h);
    for (unsigned i = 0; i < s.src.nnotes; i++)
        hspy_say("warning: %s", s.src.notes[i]);
    /* Like tcpdump's closing line: what a live run saw, once the screen is gone. */
    hspy_say("sniff %s: %llu %s, %llu HTTP %s, %llu %s", s.src.name,
             (unsigned long long)h->load.packets, plural(h->load.packets, "packet", "packets"),
             (unsigned long long)h->load.connections,
             plural(h->load.connections, "connection", "connections"),
             (unsigned long long)h->store.counters.completed,
             plural(h->store.counters.completed, "exchange", "exchanges"));
    return 0;
}

const struct mode mode_sniff = {CMD_SNIFF, 1, run};
