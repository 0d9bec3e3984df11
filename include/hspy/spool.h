/*
 * spool: a request body held whole before it is sent on (hspy proxy --buffer-requests).
 *
 * Bytes are kept in memory up to mem_max; past that everything goes to a private temporary
 * file: created with mkstemp (mode 0600, an unpredictable name) in $TMPDIR or /tmp and unlinked
 * at once, so it is gone when the spool is cleaned up or the process dies. The spool refuses
 * to grow past max. Reading back goes in order from the start, in pieces.
 */
#ifndef HSPY_SPOOL_H
#define HSPY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Bytes read back from the file per spool_next call. */
enum { SPOOL_PIECE = 64 * 1024 };

struct spool {
    struct dynbuf mem; /* the bytes while they fit in memory */
    int fd;            /* -1 until the bytes spill to the file */
    uint64_t size;     /* bytes written */
    uint64_t max;      /* refuse to hold more */
    size_t mem_max;
    uint64_t read_off; /* next byte spool_next returns */
    uint8_t *piece;    /* SPOOL_PIECE bytes for reading the file back */
};

void spool_init(struct spool *s, size_t mem_max, uint64_t max);
/* Closes the file (already unlinked) and frees the memory. */
void spool_cleanup(struct spool *s);

/*
 * Appends n bytes. Returns 0, or -1 with the reason in err: the spool would exceed max (err
 * starts with "over the limit"), or the temporary file could not be created or written.
 */
int spool_write(struct spool *s, const uint8_t *p, size_t n, char *err, size_t errlen);

/*
 * The next piece to send: *p points to up to SPOOL_PIECE bytes valid until the next call.
 * Returns the piece's length, 0 at the end, or -1 with the reason in err (a read error).
 */
long spool_next(struct spool *s, const uint8_t **p, char *err, size_t errlen);
/* Starts reading back from the beginning again (a retry on another connection). */
void spool_rewind(struct spool *s);
/* True when the bytes went to the temporary file. */
bool spool_on_disk(const struct spool *s);

#endif
