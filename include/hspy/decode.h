/*
 * decode: content codings undone for display and export: gzip, deflate (zlib-wrapped or raw),
 * br, zstd and stacked codings ("Content-Encoding: gzip, br" is undone right to left). Decoding
 * is lazy (callers ask when a view or an export needs it), bounded (output stops at a cap, so a
 * decompression bomb costs at most the cap) and precise about failure (the offset in the
 * encoded input where a corrupt stream fails).
 */
#ifndef HSPY_DECODE_H
#define HSPY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/http.h"
#include "hspy/message.h"

enum decode_status {
    DECODE_OK = 0,   /* out holds the decoded body */
    DECODE_IDENTITY, /* no content coding: out holds the body as is */
    DECODE_UNKNOWN,  /* a coding hspy cannot undo: out holds the body as is */
    DECODE_ERROR,    /* corrupt input: out holds what decoded before the failure */
    DECODE_LIMIT,    /* output reached the cap: out holds the first max bytes */
};

struct decode_result {
    enum decode_status status;
    uint64_t error_offset; /* DECODE_ERROR: offset in the encoded input of that coding's layer */
    char coding[32];       /* the coding that failed or was unknown ("" otherwise) */
    char message[128];     /* human-readable reason ("" when OK) */
};

/*
 * Undoes the codings listed in the Content-Encoding value ce (ce_len bytes; NULL or empty means
 * identity) over body[0..n), appending at most max bytes to out. Returns res->status.
 */
enum decode_status decode_body(const uint8_t *ce, size_t ce_len, const uint8_t *body, size_t n,
                               size_t max, struct dynbuf *out, struct decode_result *res);

/* The message's payload (de-chunked from raw) with its Content-Encoding undone. */
enum decode_status decode_message(const struct message *m, const struct http_limits *limits,
                                  size_t max, struct dynbuf *out, struct decode_result *res);

#endif
