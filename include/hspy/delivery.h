/*
 * delivery: how a response goes out, for testing how clients cope with slow and broken
 * servers. A plan (struct delivery) says: wait before the head, wait between head and body,
 * trickle the body N bytes per interval, cut the response into pieces of given sizes, close or
 * reset the connection after N body bytes, state a wrong Content-Length. The plan comes from
 * the command line or a rule.
 *
 * This module is the pure decision: a state machine that, given how many bytes the producer
 * has supplied, says what to do next (send so many bytes, wait so long, wait for input, close,
 * reset, done). The I/O layer (sender) runs the timers and writes.
 */
#ifndef HSPY_DELIVERY_H
#define HSPY_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { DELIVERY_SPLIT_MAX = 64 }; /* piece sizes a plan can list */

struct delivery {
    uint64_t delay_head_ms; /* before the first byte of the response */
    uint64_t delay_body_ms; /* between the end of the head and the body */
    uint64_t trickle_bytes; /* body bytes per write ... */
    uint64_t trickle_ms;    /* ... with this pause between writes (0 with 0 bytes: off) */
    uint64_t split[DELIVERY_SPLIT_MAX]; /* sizes of the first pieces of the whole response */
    size_t nsplit;                      /* the rest after the listed pieces goes as one piece */
    uint64_t split_ms;                  /* pause between pieces */
    bool close_after_set;               /* close (FIN) after close_after body bytes */
    uint64_t close_after;
    bool reset_after_set; /* reset (RST) after reset_after body bytes */
    uint64_t reset_after;
    bool content_length_set; /* state this Content-Length whatever the body is */
    uint64_t content_length;
};

/* True when the plan changes anything (the sender can take its direct path otherwise). */
bool delivery_active(const struct delivery *d);
/* True when the plan breaks the connection's framing, so it must close after the response. */
bool delivery_breaks_framing(const struct delivery *d);

/* Parses "N/TIME" ("16/100ms", "1k/1s"); both are required. Returns 0 or -1. */
int delivery_parse_trickle(const char *s, uint64_t *bytes, uint64_t *ms);
/* Parses "A,B,C[/TIME]" into the plan's split fields. Returns 0 or -1 with a reason in err. */
int delivery_parse_split(const char *s, struct delivery *d, char *err, size_t errlen);

enum delivery_action {
    DELIVERY_SEND = 0,  /* write len bytes from the front of what is pending */
    DELIVERY_WAIT = 1,  /* start a timer of wait_ms, then call delivery_waited */
    DELIVERY_INPUT = 2, /* nothing to do until the producer supplies more */
    DELIVERY_CLOSE = 3, /* close the connection now (FIN); drop the rest */
    DELIVERY_RESET = 4, /* reset the connection now; drop the rest */
    DELIVERY_DONE = 5,  /* the whole response went out */
};

struct delivery_step {
    uint8_t action; /* enum delivery_action */
    uint64_t len;   /* DELIVERY_SEND */
    uint64_t wait_ms;
};

struct delivery_state {
    uint64_t supplied; /* bytes the producer handed over so far */
    uint64_t sent;     /* bytes released */
    uint64_t head_len; /* bytes of the head, final once head_done */
    bool head_done;
    bool ended; /* the producer supplied everything */
    bool started, body_started;
    uint64_t wait_ms; /* a pause owed before the next send */
    bool waiting;     /* a DELIVERY_WAIT was returned and not yet waited */
    size_t piece;     /* index of the current split piece */
    uint64_t piece_left;
};

void delivery_state_init(struct delivery_state *st, const struct delivery *d);
/* The producer supplied n more bytes of the head (is_head) or of the body. */
void delivery_supply(struct delivery_state *st, uint64_t n, bool is_head);
/* The producer supplied the whole response. */
void delivery_end(struct delivery_state *st);
/* The next thing to do. After DELIVERY_SEND the caller reports with delivery_sent. */
struct delivery_step delivery_next(const struct delivery *d, struct delivery_state *st);
void delivery_sent(const struct delivery *d, struct delivery_state *st, uint64_t n);
/* The timer of a DELIVERY_WAIT fired. */
void delivery_waited(struct delivery_state *st);

#endif
