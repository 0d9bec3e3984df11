/*
 * chunked: an incremental decoder for the chunked transfer coding (RFC 9112 section 7.1).
 *
 * It walks the framing bytes and hands out the payload as spans of the caller's input, so
 * payload is never copied. Offsets in warnings count from the first byte of the chunked body.
 * It is lenient like the head parser: bare LF line ends and missing CRLF after chunk data are
 * warnings; a chunk size that is not hexadecimal or overflows ends the body (it cannot be
 * framed any further) with CHUNKED_ERROR.
 */
#ifndef HSPY_CHUNKED_H
#define HSPY_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/http.h"

/*
 * Chunk extensions kept for display: what followed the size on the first CHUNKED_EXT_KEPT_MAX
 * size lines that had anything there (the ';' and the extensions, whitespace included, the line
 * end left out), each cut at CHUNKED_EXT_LINE_MAX bytes; the lines after those are counted.
 */
enum { CHUNKED_EXT_KEPT_MAX = 8, CHUNKED_EXT_LINE_MAX = 256 };
/* The most bytes a list of kept extensions takes: each line its bytes, the line end (2), the
 * chunk number and the size (at most 10 and 16 digits) and their spaces. */
enum { CHUNKED_EXT_LIST_MAX = CHUNKED_EXT_KEPT_MAX * (CHUNKED_EXT_LINE_MAX + 2 + 10 + 16 + 2) };

/* One size line's extensions as chunked_ext_next hands them out. */
struct chunked_ext {
    uint32_t chunk;     /* 1 for the first chunk; the last (empty) chunk's is the chunks + 1 */
    uint64_t size;      /* the chunk's size (0: the last chunk) */
    const uint8_t *ext; /* the bytes after the size, inside the kept list */
    uint32_t len;
    bool cut; /* the line had more than CHUNKED_EXT_LINE_MAX bytes there: the rest was not kept */
};

enum chunked_status {
    CHUNKED_MORE = 0,  /* body not finished: feed more */
    CHUNKED_DONE = 1,  /* last chunk and trailer section read */
    CHUNKED_ERROR = 2, /* cannot frame further; see the warnings */
};

struct chunked {
    uint8_t state;
    uint8_t status;        /* enum chunked_status */
    bool cr;               /* trailer: the previous byte was CR */
    bool trailer_cut;      /* trailer: longer than the head limit */
    bool ext_ctl_seen;     /* a control byte in this size line's extensions was reported */
    uint32_t digits;       /* hex digits of the current size line */
    uint32_t ext_item;     /* non-blank bytes of the current extension (since its ';') */
    uint32_t ext_len;      /* extension bytes of the size line; trailer: bytes of the line */
    uint64_t size;         /* size of the current chunk */
    uint64_t remaining;    /* payload bytes left in the current chunk */
    uint64_t pos;          /* bytes consumed since the start of the body */
    uint64_t payload;      /* payload bytes seen */
    uint32_t chunks;       /* chunks with data (the last, empty, chunk not counted) */
    uint64_t trailer_off;  /* offset of the trailer section (from body start), once reached */
    struct dynbuf trailer; /* trailer section bytes, up to limits->head_max */
    /* The chunk extensions kept (CHUNKED_EXT_KEPT_MAX lines, read with chunked_ext_next) and
     * the lines with extensions past them. */
    struct dynbuf exts;
    uint32_t ext_unlisted;
    uint16_t ext_lines;    /* lines kept in exts */
    uint16_t ext_line_len; /* bytes of the current line kept */
    bool ext_open;         /* the current size line has extensions (kept or counted) */
    bool ext_keep;         /* ... and they go to exts */
    bool ext_line_cut;     /* ... past CHUNKED_EXT_LINE_MAX */
    const struct http_limits *limits;
};

/* Prepares a decoder; limits must outlive it. */
void chunked_init(struct chunked *c, const struct http_limits *limits);
void chunked_cleanup(struct chunked *c);

/* The most warnings one byte of a chunked body can add (a trailer line's LF: the trailer too
 * large, a bare LF, a forbidden field). */
enum { CHUNKED_WARNINGS_PER_BYTE = 3 };

/*
 * Consumes bytes of p (n bytes) until one payload slice is found, the body ends, or the input
 * runs out. Returns bytes consumed. When payload bytes were found, *payload is set to their
 * span (relative to p) and has len > 0; otherwise its len is 0. Call again with the rest of the
 * input until it returns 0 consumed or c->status is not CHUNKED_MORE. Warnings go to w (offsets
 * relative to the body start) and may be NULL. A step also ends before a byte that could make
 * w drop a warning (fewer than CHUNKED_WARNINGS_PER_BYTE entries free), so that a caller that
 * takes w's warnings after each step keeps the same ones however the body was cut; one given
 * an empty w always consumes at least one byte.
 */
size_t chunked_step(struct chunked *c, const uint8_t *p, size_t n, struct http_span *payload,
                    struct http_warnings *w);

/*
 * The next size line's extensions in a list of kept extensions (list[0..n): a decoder's exts,
 * or a copy of it), from *pos (0 for the first; moved past it). e->ext points into list.
 * Returns false after the last one. Pure.
 */
bool chunked_ext_next(const uint8_t *list, size_t n, size_t *pos, struct chunked_ext *e);

/*
 * Appends e to a list of kept extensions, as the decoder keeps one size line's (for lists read
 * back from a file). Returns false, appending nothing, when e could not have been kept: more
 * than CHUNKED_EXT_LINE_MAX bytes, a CR or LF in them, or no room left in list.
 */
bool chunked_ext_append(struct dynbuf *list, const struct chunked_ext *e);

/*
 * Convenience for whole buffers (views, exports): de-chunks body (n bytes, starting at the
 * first chunk-size line) into out. Returns the status reached and sets *used to the bytes of
 * body that framing consumed.
 */
enum chunked_status chunked_decode_all(const uint8_t *body, size_t n, struct dynbuf *out,
                                       size_t *used, const struct http_limits *limits);

#endif
