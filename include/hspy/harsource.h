/*
 * harsource: a HAR file (or stdin) read into the store in batches, for `hspy read`. The file is
 * streamed (harsplit) so memory holds one entry at a time plus the store; each entry becomes an
 * exchange (harimport). Problems with the document's frame found before the first entry are
 * errors of harsource_open; later ones stop reading and are reported by harsource_error, with
 * every entry before them kept.
 */
#ifndef HSPY_HARSOURCE_H
#define HSPY_HARSOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hspy/harimport.h"
#include "hspy/harsplit.h"
#include "hspy/hspy.h"

/* Bytes read from the file per read call. */
enum { HARSOURCE_READ = 1 << 20 };
/* Entries imported per harsource_read call (the interface stays responsive between calls). */
enum { HARSOURCE_BATCH = 256 };
enum { HARSOURCE_NOTES_MAX = 4, HARSOURCE_NOTE_LEN = 320 };

struct harsource {
    FILE *file;
    const char *name; /* the path, or "stdin" */
    bool seekable;
    int fd;           /* stdin when it is a pipe or socket (read with read(2)), else -1 */
    int fd_flags;     /* its flags before harsource_start made it non-blocking */
    bool nonblocking; /* reads of fd never wait: harsource_read may say HARSOURCE_WAIT */
    bool peeked;      /* the byte input detection pushed back into stdin was taken */
    struct harsplit split;
    struct harimport imp;
    bool imp_live;
    uint8_t *buf; /* HARSOURCE_READ bytes */
    size_t len, pos;
    bool eof;
    json_t *pending; /* the first entry, parsed while opening, imported at the first read */
    bool done;       /* the document ended (or reading stopped at an error) */
    struct hspy_load *load;
    struct hspy_load own_load;
    char error[512]; /* why reading stopped early ("" when it did not) */
    char notes[HARSOURCE_NOTES_MAX][HARSOURCE_NOTE_LEN];
    unsigned nnotes;
};

/*
 * Whether the input starts like a HAR (JSON) document rather than a capture: the first bytes
 * of a file, or the first byte of a pipe (n == 1). Only a document that starts with '{' or
 * '[' (after whitespace and a byte order mark) is taken for JSON; pcapng's block type, which
 * starts with a newline, is recognised first.
 */
bool harsource_sniff(const uint8_t *p, size_t n);

/*
 * Opens path ("-" = stdin, whose first byte may have been pushed back; name as for infile_open)
 * and reads the document up
 * to its first entry, so a file that is no HAR fails here. This waits for a pipe's writer (each
 * read returns what has arrived; a piece may not exceed HARSPLIT_PIECE_MAX). Returns 0, or -1
 * with "<name>: <why>" in err.
 */
int harsource_open(struct harsource *s, const char *path, const char *name, char *err,
                   size_t errlen);

/*
 * Starts importing into the store (cfg's pointers must outlive s). load may be NULL. A pipe's
 * descriptor becomes non-blocking (restored by harsource_close) and load->stream is set.
 */
void harsource_start(struct harsource *s, const struct harimport_config *cfg,
                     struct hspy_load *load);

/* The descriptor to poll for readability after harsource_read said HARSOURCE_WAIT, or -1 when
 * reads wait themselves (a file). */
int harsource_fd(const struct harsource *s);

enum { HARSOURCE_WAIT = 2 };
/*
 * Imports up to HARSOURCE_BATCH entries. Returns 1 while more may follow, 0 at the end, and
 * HARSOURCE_WAIT when a pipe has nothing more yet (poll harsource_fd, then call again).
 */
int harsource_read(struct harsource *s);

/* Finishes the import (every exchange reaches the store) and closes the file. Idempotent. */
void harsource_close(struct harsource *s);

/* Why reading stopped early ("<name>: <why>"), or NULL when the whole document was read. */
const char *harsource_error(const struct harsource *s);

#endif
