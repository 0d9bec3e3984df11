/*
 * flusher: gets the printed records of a live session (listen, proxy) to stdout promptly.
 * Before the loop waits, it looks whether exchanges changed since its last look; if so, the
 * sinks are flushed FLUSHER_MS later. Writing once per loop turn instead would cost a system
 * call per request at one connection; this keeps live output within FLUSHER_MS of the
 * exchange and batches it under load. Its handles never keep the loop alive.
 */
#ifndef HSPY_FLUSHER_H
#define HSPY_FLUSHER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

enum { FLUSHER_MS = 50 };

struct hspy;

struct flusher {
    struct hspy *h;
    uv_prepare_t look; /* notices new records before the loop waits */
    uv_timer_t later;  /* writes them FLUSHER_MS afterwards */
    uint64_t seen;     /* the store generation at the last look that found news */
    bool open;
};

/* Starts watching h's store on h's loop. f must stay in place until the loop has closed its
 * handles (after flusher_close, the next loop run). */
void flusher_open(struct flusher *f, struct hspy *h);
/* Stops (asynchronous close). Idempotent; a flusher never opened is fine too. */
void flusher_close(struct flusher *f);

#endif
