/*
 * signals: SIGINT and SIGTERM on the loop. The first one calls on_stop so the owner can wind
 * down in order (stop accepting, end exchanges in flight, let the sinks finish); a second one
 * calls on_stop again with urgent set, for owners that must give up waiting. SIGPIPE is not
 * handled here: main ignores it for the whole process.
 */
#ifndef HSPY_SIGNALS_H
#define HSPY_SIGNALS_H

#include <stdbool.h>
#include <uv.h>

struct signals {
    uv_signal_t sigint, sigterm;
    unsigned count; /* signals received */
    bool open;
    void *data;
    void (*on_stop)(void *data, int signum, bool urgent);
};

/*
 * Holds SIGINT and SIGTERM back (blocked) until signals_init starts watching them, so that one
 * arriving while a server is still starting (its address already printed) waits for the
 * watchers instead of killing the process with the default action.
 */
void signals_defer(void);
/* Starts watching both signals (and lets deferred ones through to the watchers). The handles do
 * not keep the loop alive (they are unref'd). */
void signals_init(struct signals *s, uv_loop_t *loop, void (*on_stop)(void *, int, bool),
                  void *data);
/* Stops watching (asynchronous close; the loop finishes it). Idempotent. */
void signals_cleanup(struct signals *s);

#endif
