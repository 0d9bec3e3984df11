/*
 * harimport: HAR entries turned back into exchanges in the store (`hspy read FILE.har`).
 *
 * An entry hspy wrote carries the raw bytes of both sides in "_hspy" (docs/har.md). They are fed
 * through the conversation engine, so heads, framing and warnings are the engine's own; what the
 * bytes alone cannot tell (sizes past a cap, capture gaps, flags, phase times, connection
 * numbers, endpoints, the warnings sources added) is restored from the record. Raw bytes are
 * restored exactly, and writing the exchanges as HAR again gives the same entries. Warnings
 * this engine finds that the record lacks (a newer hspy reading an older file) are added after
 * the recorded ones.
 *
 * Any other entry (browsers, mitmproxy, Charles) is rebuilt as HTTP/1.x bytes from its fields
 * (harsynth.h), which the engine then reads; the exchange's note says it was synthesized and
 * what was adjusted.
 *
 * Ids: exchanges keep the ids of the session that wrote the file (so `--export --id N` and the
 * screen agree with that session). The store hands out ids in increasing order, so entries wait
 * in a window of HARIMPORT_WINDOW until those with smaller ids have come; the file's order
 * (completion order) is kept for completion, so HAR written again lists the entries in the same
 * order. An entry whose id came too late (more than the window after it was due) is numbered
 * after all others and completes last. Entries without an id are numbered where they stand. Entries
 * whose exchange was still in flight when the file was written stay in flight (never completed).
 * Pure: no files.
 */
#ifndef HSPY_HARIMPORT_H
#define HSPY_HARIMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"
#include "hspy/harsynth.h"
#include "hspy/http.h"
#include "hspy/store.h"

/* Entries held back so that exchanges enter the store in the order of their ids. */
enum { HARIMPORT_WINDOW = 1024 };
#define HARIMPORT_WINDOW_MEMORY ((size_t)64 << 20)
/* A recorded id is kept only while the store's ids span at most this many (its ring grows). */
#define HARIMPORT_ID_SPAN_MAX ((uint64_t)1 << 22)

struct harimport_config {
    struct store *store;
    const struct http_limits *limits;
    const struct exchange_limits *ex_limits;
    uint64_t *next_conn_id; /* connection numbers for entries without one */
};

struct harimport_counters {
    uint64_t entries;    /* entries read */
    uint64_t hspy;       /* restored from hspy's raw bytes */
    uint64_t foreign;    /* synthesized from standard fields */
    uint64_t skipped;    /* not objects, or without a request */
    uint64_t renumbered; /* could not keep their recorded id */
    uint64_t differs;    /* recorded bytes the engine did not read as recorded (edited files) */
};

struct harimport_slot; /* an exchange waiting in the window */

struct harimport {
    struct harimport_config cfg;
    struct harimport_slot *window; /* HARIMPORT_WINDOW slots, in file order */
    size_t head, count;            /* ring of waiting slots */
    uint16_t *heap;                /* window positions of slots not in the store yet */
    size_t nheap;
    struct harimport_slot *late; /* ring of exchanges whose id was taken, in file order */
    size_t late_head, late_count, late_memory;
    uint64_t last_id; /* the latest recorded id (places entries without one) */
    size_t window_memory;
    uint64_t index;        /* entries seen (file order) */
    char problem[256];     /* the first skipped entry's reason */
    struct harsynth synth; /* entries of other tools (knows log.creator for their notes) */
    struct harimport_counters counters;
};

void harimport_init(struct harimport *h, const struct harimport_config *cfg);
/* Exchanges still in the window are freed (call harimport_finish first to keep them). */
void harimport_cleanup(struct harimport *h);

/*
 * A member of log: checks "version" ("1.1" or "1.2", or empty) and remembers "creator" for
 * notes; others are ignored. Returns 0, or -1 with "not a HAR 1.2 file: ..." in err.
 */
int harimport_log_member(struct harimport *h, const char *key, const json_t *value, char *err,
                         size_t errlen);

/*
 * One element of log.entries: builds its exchange and queues it for the store (it is added and
 * completed once the window moves past it). Entries that cannot be read are counted as skipped
 * (harimport.problem says why the first one was).
 */
void harimport_entry(struct harimport *h, const json_t *entry);

/*
 * The input is quiet (a pipe whose writer pauses): queued exchanges that no later entry could
 * reorder go to the store now, with the ids and completion order the window gives them anyway,
 * so that a session arriving slowly is shown as it arrives.
 */
void harimport_settle(struct harimport *h);

/* The input ended: every queued exchange goes to the store. */
void harimport_finish(struct harimport *h);

/*
 * The exchange of one entry without the store: returns it (caller frees) or NULL with the
 * reason in why. *id gets the recorded id (0 when none); *done whether it had completed.
 */
struct exchange *harimport_build(struct harimport *h, const json_t *entry, uint64_t *id, bool *done,
                                 char *why, size_t whylen);

#endif
