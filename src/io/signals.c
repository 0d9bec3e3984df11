/*
 * signals owns the SIGINT/SIGTERM watchers of a server run. It decides nothing about what
 * stopping means; the owner's callback does.
 */
#include "hspy/signals.h"

#include <signal.h>

static void mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(how, &set, NULL);
}

void signals_defer(void)
{
    mask(SIG_BLOCK);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct signals *s = h->data;
    s->count++;
    s->on_stop(s->data, signum, s->count > 1);
}

void signals_init(struct signals *s, uv_loop_t *loop, void (*on_stop)(void *, int, bool),
                  void *data)
{
    s->count = 0;
    s->data = data;
    s->on_stop = on_stop;
    uv_signal_init(loop, &s->sigint);
    uv_signal_init(loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    /* Waiting for a signal alone must not keep a finished server's loop running. */
    uv_unref((uv_handle_t *)&s->sigint);
    uv_unref((uv_handle_t *)&s->sigterm);
    s->open = true;
    mask(SIG_UNBLOCK);
}

void signals_cleanup(struct signals *s)
{
    if (!s->open)
        return;
    s->open = false;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
}
