/*
 * decimal: unsigned integers written as decimal digits without printf, for the formatters
 * that run once per exchange (log lines, JSON, response heads). Nothing here allocates. The
 * functions are inline: their callers format several numbers per exchange.
 */
#ifndef HSPY_DECIMAL_H
#define HSPY_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { DECIMAL_U64_MAX = 20 }; /* digits of the largest uint64_t */

/* "00" to "99", two digits per division. */
extern const char DECIMAL_PAIRS[201];

/* Writes the last n digits of v at p, zero-padded to exactly n (no NUL); returns p + n. */
static inline char *decimal_padded(char *p, uint64_t v, int n)
{
    char *q = p + n;
    for (; q - p >= 2; v /= 100) {
        q -= 2;
        memcpy(q, DECIMAL_PAIRS + 2 * (v % 100), 2);
    }
    if (q > p)
        *--q = (char)('0' + v % 10);
    return p + n;
}

/* Writes v in decimal at p (room for its digits: DECIMAL_U64_MAX bytes always suffice; no NUL);
 * returns the digit count. */
static inline size_t decimal_u64(char *p, uint64_t v)
{
    int n = 1;
    uint64_t t = v;
    for (; t >= 100; t /= 100)
        n += 2;
    n += t >= 10;
    decimal_padded(p, v, n);
    return (size_t)n;
}

#endif
