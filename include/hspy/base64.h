/*
 * base64: the standard alphabet of RFC 4648 section 4, with padding, for the places a text
 * format must carry bytes (JSON bodies, HAR raw messages and binary bodies).
 */
#ifndef HSPY_BASE64_H
#define HSPY_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Characters base64_encode produces for n bytes (without a NUL). */
static inline size_t base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/*
 * Appends the encoding of p[0..n) to out. Returns 0, or -1 when out's maximum cannot hold it
 * (out is then left unchanged).
 */
int base64_encode(struct dynbuf *out, const uint8_t *p, size_t n);

/*
 * Appends the bytes that text (n characters, padding optional, no whitespace) encodes to out.
 * Returns 0, or -1 when text is not base64 or out's maximum cannot hold the result (out is then
 * left unchanged).
 */
int base64_decode(struct dynbuf *out, const char *text, size_t n);

#endif
