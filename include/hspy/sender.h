/*
 * sender: writes one response at a time following a delivery plan (see delivery.h).
 *
 * A producer hands the response over as head bytes, then body bytes, then the end; the sender
 * releases them through its write callback, now or later as the plan says (delays, trickle,
 * pieces), cuts the connection when the plan says so, and reports the end. Without an active
 * plan every byte goes straight through in the same call. With one, bytes wait in a buffer of
 * at most SENDER_PENDING_MAX (plus one producer write): producers check sender_full() and
 * continue on the room callback.
 *
 * Callbacks may be made from inside sender calls (finish right from sender_end, say); they
 * should only record what happened.
 */
#ifndef HSPY_SENDER_H
#define HSPY_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/delivery.h"
#include "hspy/dynbuf.h"

enum { SENDER_PENDING_MAX = 256 * 1024 };

enum sender_finish {
    SENDER_DONE = 0,  /* everything went out */
    SENDER_CLOSE = 1, /* the plan closes the connection here */
    SENDER_RESET = 2, /* the plan resets the connection here */
};

struct sender_events {
    void *data;
    void (*write)(void *data, const uint8_t *p, size_t n);
    void (*finish)(void *data, enum sender_finish how);
    void (*room)(void *data);  /* the producer may supply again (after sender_full) */
    void (*after)(void *data); /* the end of a timer callback: the sender acted on its own */
};

struct sender {
    uv_timer_t timer;
    struct sender_events ev;
    const struct delivery *plan; /* NULL or inactive: direct path */
    struct delivery_state st;
    struct dynbuf head;    /* head held back for a Content-Length rewrite */
    struct dynbuf pending; /* released from pending_off on */
    size_t pending_off;
    bool busy;     /* a response is in progress */
    bool ended;    /* the producer called sender_end */
    bool finished; /* finish was reported */
    bool waiting;  /* the plan's timer runs */
    bool pumping;
    bool was_full;
    bool head_ended; /* the head was complete and handed on */
};

/* Prepares the sender and its timer on loop. */
void sender_init(struct sender *s, uv_loop_t *loop, const struct sender_events *ev);
/* Closes the timer; close_cb (may be NULL) runs when it is closed. */
void sender_close(struct sender *s, uv_close_cb close_cb);

/* Starts a response with a plan (NULL = none; the plan must outlive the response). */
void sender_begin(struct sender *s, const struct delivery *plan);
void sender_head(struct sender *s, const uint8_t *p, size_t n);
void sender_body(struct sender *s, const uint8_t *p, size_t n);
void sender_end(struct sender *s);
/* Drops what is pending and stops the timer (the connection is going away). */
void sender_abort(struct sender *s);

/* True while the producer should stop supplying (it gets the room callback later). */
bool sender_full(const struct sender *s);
/* True while the plan is deliberately pausing (not a stalled peer). */
bool sender_waiting(const struct sender *s);
/* True between sender_begin and the finish callback. */
bool sender_busy(const struct sender *s);

#endif
