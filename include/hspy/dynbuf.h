/*
 * dynbuf: a growable byte buffer created with its maximum size. Appending past the maximum
 * stores what fits and reports the shortfall, so every buffer in hspy is bounded by
 * construction. The data is always followed by a NUL byte (not counted in len) so text
 * helpers may treat it as a C string.
 */
#ifndef HSPY_DYNBUF_H
#define HSPY_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hspy/decimal.h"

struct dynbuf {
    uint8_t *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* len never exceeds max */
};

void dynbuf_init(struct dynbuf *b, size_t max);
void dynbuf_cleanup(struct dynbuf *b);
/* Empties the buffer, keeping its memory. */
void dynbuf_reset(struct dynbuf *b);
/* Appends up to n bytes; returns how many were stored (less than n only at the maximum). */
size_t dynbuf_append_slow(struct dynbuf *b, const void *p, size_t n);
static inline size_t dynbuf_append(struct dynbuf *b, const void *p, size_t n)
{
    /* The common case inline: room already there (the terminating NUL included). */
    if (b->len + n < b->cap && n <= b->max - b->len) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return n;
    }
    return dynbuf_append_slow(b, p, n);
}
/* One byte, and a NUL-terminated string (inline too: formatters call these per field). */
static inline size_t dynbuf_addc(struct dynbuf *b, uint8_t c)
{
    return dynbuf_append(b, &c, 1);
}
static inline size_t dynbuf_adds(struct dynbuf *b, const char *s)
{
    return dynbuf_append(b, s, strlen(s));
}
/* v in decimal (no printf: formatters call this per field). */
static inline size_t dynbuf_add_u64(struct dynbuf *b, uint64_t v)
{
    char d[DECIMAL_U64_MAX];
    return dynbuf_append(b, d, decimal_u64(d, v));
}
/* printf-style append; returns bytes stored (output past the maximum is cut). */
size_t dynbuf_printf(struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/*
 * Space for writing up to n bytes at the end of the data without copying: returns a pointer
 * to at least n writable bytes, or NULL when len + n would pass the maximum. Bytes written
 * there count once dynbuf_commit(b, k) is called with k <= n; nothing else may touch b between
 * the two calls.
 */
uint8_t *dynbuf_reserve(struct dynbuf *b, size_t n);
void dynbuf_commit(struct dynbuf *b, size_t k);
/* Removes the first n bytes (n <= len). */
void dynbuf_consume(struct dynbuf *b, size_t n);
/* Returns the data as a NUL-terminated string ("" when empty); valid until the next change. */
const char *dynbuf_str(const struct dynbuf *b);
/* Hands the data to the caller (free() it) and resets the buffer; never NULL. */
char *dynbuf_take(struct dynbuf *b);

#endif
