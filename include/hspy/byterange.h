/*
 * byterange: the Range request header (RFC 9110 section 14) for a representation of known
 * size. Only a single byte range is honoured; several ranges are answered with the whole
 * representation, which the RFC allows.
 */
#ifndef HSPY_BYTERANGE_H
#define HSPY_BYTERANGE_H

#include <stddef.h>
#include <stdint.h>

enum byterange_result {
    BYTERANGE_NONE = 0,          /* ignore the header: send everything (200) */
    BYTERANGE_OK = 1,            /* send [start, start+len) (206) */
    BYTERANGE_UNSATISFIABLE = 2, /* 416 with Content-Range: bytes * /size */
};

/* Interprets a Range value against size. Sets *start and *len for BYTERANGE_OK. */
enum byterange_result byterange_parse(const uint8_t *v, size_t n, uint64_t size, uint64_t *start,
                                      uint64_t *len);

#endif
