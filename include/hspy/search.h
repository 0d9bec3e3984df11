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
/* Room for why a query does not compile (search_query_set). */
enum { SEARCH_ERROR_MAX = 256 };

/* Offset of the first match of needle[0..nlen) in hay[0..n), or SEARCH_NONE. */
size_t search_find(const char *hay, size_t n, const char *needle, size_t nlen);

/*
 * A query between slashes, "/re/", is a POSIX extended regular expression, matched line by
 * line. Returns the length of the expression between the slashes (it starts at needle + 1), or 0
 * when the query is plain text.
 */
size_t search_regex_len(const char *needle);

/*
 * A query ready to match: plain text or "/re/", smart case both. Zero-initialise (an empty query
 * that matches nothing), set with search_query_set, free with search_query_cleanup.
 */
struct search_query {
    char needle[SEARCH_NEEDLE_MAX]; /* as typed */
    size_t nlen;                    /* plain text: strlen(needle); 0 matches nothing */
    bool regex;                     /* re holds the compiled "/re/" */
    regex_t re;
};
/*
 * Makes q the query for needle (what q held is freed first). Returns false, with the compiler's
 * reason in err ("Unmatched ( or \\("), when needle is a "/re/" that does not compile: q then
 * matches nothing.
 */
bool search_query_set(struct search_query *q, const char *needle, char *err, size_t errlen);
void search_query_cleanup(struct search_query *q);
/*
 * The first match in text[0..n) that starts at or after from (text need not be NUL-terminated):
 * sets [*start, *end) and returns true. A regular expression may match empty (*end == *start).
 */
bool search_query_find(const struct search_query *q, const char *text, size_t n, size_t from,
                       size_t *start, size_t *end);

#endif
