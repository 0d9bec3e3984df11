/*
 * bodytap: where a conversation sends every message body as it streams, for a writer of whole
 * bodies (--save-bodies, bodyfiles.h). It sees the payload: the chunked framing removed, any
 * content coding kept, pieces in order, each at its offset in the payload (bytes a capture lost
 * count in the offsets, so the next piece lands after the hole). The conversation calls it; it
 * does no I/O of its own.
 */
#ifndef HSPY_BODYTAP_H
#define HSPY_BODYTAP_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/side.h"

struct exchange;

struct bodytap {
    void *data;
    /* n payload bytes of ex's message on side s, at payload offset off. ex is stored (its id is
     * set) unless a source keeps it out of the store (then ex->id is 0). */
    void (*piece)(void *data, const struct exchange *ex, enum side s, uint64_t off,
                  const uint8_t *p, size_t n);
    /* The exchange ex is over, and with it its message on side s, complete or not (the message's
     * flags say which). Comes once per side of every exchange the conversation hands out, at
     * its end (CONV_END), whether that side had pieces or not. */
    void (*end)(void *data, const struct exchange *ex, enum side s);
};

#endif
