/*
 * httpdate: HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate out, and the three historical
 * forms in (IMF-fixdate, RFC 850, asctime).
 */
#ifndef HSPY_HTTPDATE_H
#define HSPY_HTTPDATE_H

#include <stddef.h>
#include <stdint.h>

enum { HTTPDATE_LEN = 30 }; /* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL */

/* Writes the IMF-fixdate for unix time t into buf (HTTPDATE_LEN bytes). Returns buf. */
char *httpdate_format(int64_t t, char *buf);
/* Parses an HTTP date; returns 0 and sets *t (unix seconds), or -1 when it is not one. */
int httpdate_parse(const char *s, size_t n, int64_t *t);

#endif
