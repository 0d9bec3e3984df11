/*
 * bytesource: where a lazy view gets its bytes. Either one side of an exchange in the store,
 * looked up again on every access (the exchange may grow while in flight, which moves its
 * buffer, or be evicted, which ends it), or a buffer the view owns (a de-chunked or decoded
 * body). Views keep a bytesource instead of a pointer so they never read freed memory.
 */
#ifndef HSPY_BYTESOURCE_H
#define HSPY_BYTESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/store.h"

struct bytesource {
    const struct store *store; /* NULL: the bytes are in own */
    uint64_t id;
    int side;           /* enum side */
    uint64_t from, len; /* wire sources: the window of raw shown (len UINT64_MAX: to the end) */
    struct dynbuf own;
};

/* A source reading side `side` of exchange id from store. */
void bytesource_init_wire(struct bytesource *b, const struct store *store, uint64_t id, int side);
/* The same, limited to raw[from, from+len) (clipped to what raw holds). */
void bytesource_init_window(struct bytesource *b, const struct store *store, uint64_t id, int side,
                            uint64_t from, uint64_t len);
/* A source owning a copy of data (up to max bytes). */
void bytesource_init_copy(struct bytesource *b, const uint8_t *p, size_t n, size_t max);
/* A source taking over buf's memory (buf is left empty). */
void bytesource_init_take(struct bytesource *b, struct dynbuf *buf);
/* Frees an owned copy (nothing for wire sources). */
void bytesource_cleanup(struct bytesource *b);

/*
 * The bytes now: sets *len and returns a pointer valid until the store next changes (wire) or
 * the source is cleaned up (copy). An evicted exchange gives NULL with *len 0.
 */
const uint8_t *bytesource_get(const struct bytesource *b, size_t *len);

#endif
