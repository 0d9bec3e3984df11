/*
 * search: finding a query in rendered text, the same way in every view (flow list, detail
 * tabs, help). Matching is "smart case": a query without capital letters ignores ASCII case,
 * one with capitals matches case exactly. The text searched is what the screen shows (after
 * termsafe), so a user finds what they see. A query between slashes is a regular expression.
 */
#ifndef HSPY_SEARCH_H
#define HSPY_SEARCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define SEARCH_NONE ((size_t)-1)
/* Room for a search's text (its NUL included): every text the prompt can hold. */
enum { SEARCH_NEEDLE_MAX = 4096 };

/* Offset of the first match of needle[0..nlen) in hay[0..n), or SEARCH_NONE. */
size_t search_find(const char *hay, size_t n, const char *needle, size_t nlen);

/*
 * A query between slashes, "/re/", is a POSIX extended regular expression, matched line by
 * line. Returns the length of the expression between the slashes (it starts at needle + 1), or 0
 * when the query is plain text.
 */
size_t search_regex_len(const char *needle);
/*
 * Compiles a "/re/" query into re, with the same smart case as plain text. Returns false for a
 * plain query or an expression that does not compile; on true the caller frees re (regfree).
 */
bool search_regex_compile(const char *needle, regex_t *re);
/* True when text[0..n) holds a match of re. */
bool search_regex_match(const regex_t *re, const char *text, size_t n);

#endif
