/*
 * decode: content codings undone for display and export: gzip (x-gzip), deflate (zlib-wrapped
 * or raw, told apart by the first two bytes as browsers do), br, zstd and stacked codings
 * ("Content-Encoding: gzip, br" is undone right to left: br first, then gzip). Decoding is lazy
 * (callers ask when a view or an export needs it), bounded and precise about failure:
 *
 * - Output stops at a cap: a decompression bomb costs at most the cap in memory and time. Every
 *   intermediate layer of a stacked body is capped the same way, and the layers are streamed
 *   into each other through fixed buffers, so no layer is ever held whole.
 * - A corrupt stream is reported with the coding that failed and the offset in that layer's
 *   encoded input where the decoder detected the failure. What decoded before it is kept.
 * - Nothing is allocated from sizes a stream declares, except inside the libraries, which are
 *   bounded: zstd windows larger than DECODE_ZSTD_WINDOW_LOG_MAX are refused and brotli's
 *   window is at most 16 MiB by its format.
 *
 * Pure: no I/O. The functions keep no state between calls and may be called from anywhere.
 */
#ifndef HSPY_DECODE_H
#define HSPY_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/http.h"
#include "hspy/message.h"

/* Named limits. */
#define DECODE_LAYERS_MAX          8     /* codings undone in one body ("identity" not counted) */
#define DECODE_CHUNK               65536 /* bytes a layer decodes at a time (one buffer each) */
#define DECODE_ZSTD_WINDOW_LOG_MAX 23    /* 8 MiB: the most RFC 9659 lets HTTP zstd senders use */
#define DECODE_MAX_DEFAULT         ((size_t)64 << 20) /* the --decode-max default */

enum decode_status {
    DECODE_OK = 0,   /* out holds the decoded body */
    DECODE_IDENTITY, /* no content coding: out holds the body as is */
    DECODE_UNKNOWN,  /* a coding hspy cannot undo: out holds that coding's input (the body with
                        the codings to its right undone; the body as is when it is rightmost) */
    DECODE_ERROR,    /* corrupt or truncated input: out holds what decoded before the failure */
    DECODE_LIMIT,    /* output reached the cap: out holds the first max bytes */
};

struct decode_result {
    enum decode_status status;
    /*
     * DECODE_ERROR: offset in the encoded input of the failing layer (the body itself for the
     * rightmost coding) of the byte at which the decoder detected the failure. Header and
     * trailer faults (gzip magic, method, flags, header CRC, CRC-32, length) are exact; inside
     * compressed data a decoder reads a little ahead, so the faulty bits lie at or shortly
     * before it (within the current block for zstd). A stream that simply ends early reports
     * the end of its input and sets truncated.
     * DECODE_OK with trailing > 0: offset of the first ignored byte.
     */
    uint64_t error_offset;
    char coding[32];   /* the coding that failed, was unknown or had trailing bytes ("" otherwise);
                          bytes as sent: render through termsafe */
    char message[128]; /* human-readable reason ("" when OK without remarks) */
    bool truncated;    /* DECODE_ERROR: the input ended inside a stream; no corrupt byte seen */
    uint8_t layers;    /* codings that were run ("identity" not counted) */
    uint64_t consumed; /* bytes of the body read before decoding finished or stopped: all of it
                          normally, far less when a bomb hit the cap early */
    uint64_t trailing; /* bytes after the end of a complete stream that were ignored (garbage or
                          padding after the last gzip member, zstd frame, zlib or brotli stream)
                          in the layer named by coding (the first where it happened); the
                          status stays DECODE_OK */
};

/* "ok", "identity", "unknown", "error", "limit". */
const char *decode_status_label(enum decode_status st);

/* True when token (one coding name, any case, no surrounding spaces) is one hspy can undo;
   "identity" counts as supported. */
bool decode_coding_supported(const uint8_t *token, size_t len);

/*
 * Undoes the codings listed in the Content-Encoding value ce (ce_len bytes, comma-separated,
 * several header lines joined with ","; NULL or empty means identity) over body[0..n),
 * appending at most max bytes to out (out's own maximum also applies: reaching it is
 * DECODE_LIMIT). "identity" and empty list elements are skipped; "x-gzip" is gzip. Returns
 * res->status; res is always fully set. body is only read during the call.
 */
enum decode_status decode_body(const uint8_t *ce, size_t ce_len, const uint8_t *body, size_t n,
                               size_t max, struct dynbuf *out, struct decode_result *res);

/*
 * The message's payload (de-chunked from raw) with its codings undone: every Content-Encoding
 * header in order, and the Transfer-Encoding codings other than chunked (applied after the
 * content codings, so undone first). When the kept body is incomplete (truncated, gap, cut
 * chunked framing) and decoding ends early, the result is DECODE_ERROR with truncated set and
 * a message saying the body was incomplete, so callers can tell that from corruption.
 */
enum decode_status decode_message(const struct message *m, const struct http_limits *limits,
                                  size_t max, struct dynbuf *out, struct decode_result *res);

#endif
