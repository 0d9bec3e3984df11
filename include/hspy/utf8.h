/*
 * utf8: strict UTF-8 (RFC 3629) for every module that must tell text from bytes: no overlong
 * forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no sequence cut short. The same
 * rules jansson applies, so a string that passes here is a valid JSON string.
 */
#ifndef HSPY_UTF8_H
#define HSPY_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/*
 * Decodes the sequence at p (n > 0 bytes available). Returns its length (1-4) and sets *cp, or 0
 * when p does not start a valid sequence (ill-formed, overlong, a surrogate, past U+10FFFF, or
 * cut by n).
 */
size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

/* Length of the longest valid UTF-8 prefix of p[0..n). */
size_t utf8_valid_prefix(const uint8_t *p, size_t n);

/* True when p[0..n) is entirely valid UTF-8 (the empty string is). */
static inline bool utf8_valid(const uint8_t *p, size_t n)
{
    return utf8_valid_prefix(p, n) == n;
}

/*
 * How much of p[0..n) to show under a limit of limit bytes: n when it fits, else limit moved
 * back (by at most 3 bytes) to the start of the character it would split, so that text cut
 * there stays text. Bytes that are not UTF-8 may be cut anywhere past those 3. p[limit] must be
 * readable when n > limit.
 */
size_t utf8_cut(const uint8_t *p, size_t n, size_t limit);

/* Encodes cp (a Unicode scalar value) into buf; returns the length (1-4). */
size_t utf8_encode(uint32_t cp, uint8_t buf[4]);

/*
 * Appends p[0..n) to out as valid UTF-8: valid sequences are copied, each byte that does not
 * start a valid sequence becomes U+FFFD. Returns bytes appended (less than the rendering's size
 * only when out reached its maximum, in which case out ends at a character boundary).
 */
size_t utf8_sanitize(struct dynbuf *out, const uint8_t *p, size_t n);

#endif
