/*
 * search: finding a query in rendered text, the same way in every view (flow list, detail
 * tabs, help). Matching is "smart case": a query without capital letters ignores ASCII case,
 * one with capitals matches case exactly. The text searched is what the screen shows (after
 * termsafe), so a user finds what they see.
 */
#ifndef HSPY_SEARCH_H
#define HSPY_SEARCH_H

#include <stddef.h>

#define SEARCH_NONE ((size_t)-1)
/* Room for a search's text (its NUL included): every text the prompt can hold. */
enum { SEARCH_NEEDLE_MAX = 4096 };

/* Offset of the first match of needle[0..nlen) in hay[0..n), or SEARCH_NONE. */
size_t search_find(const char *hay, size_t n, const char *needle, size_t nlen);

#endif
