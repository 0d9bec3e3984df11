/*
 * url: the pieces of a request target (path, query) and their percent-decoding, for the
 * servers' echo, rules and static files. Pure; nothing is allocated except into the caller's
 * buffers.
 */
#ifndef HSPY_URL_H
#define HSPY_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* A request target split in place: spans of the target bytes. */
struct url_parts {
    const uint8_t *path; /* "/a/b" ("" for "*" and authority-form) */
    size_t path_len;
    const uint8_t *query; /* after '?', without it; NULL when there is no '?' */
    size_t query_len;
};

/*
 * Splits a request target (origin-form "/p?q", absolute-form "http://h/p?q", "*" or
 * authority-form) into path and query; a fragment is dropped. The spans point into target.
 */
void url_split(const uint8_t *target, size_t n, struct url_parts *out);

enum url_decode_flag {
    URL_PLUS = 1 << 0, /* '+' means space (application/x-www-form-urlencoded) */
};

/* Appends the percent-decoded form of p to out. Malformed escapes are kept as they are.
 * Returns the number of malformed escapes. */
size_t url_decode(const uint8_t *p, size_t n, unsigned flags, struct dynbuf *out);

/*
 * Calls cb for each "name=value" pair of a query or urlencoded form (separators '&' and ';'),
 * decoded with '+' as space; a pair without '=' has an empty value and has_value false.
 * Stops early when cb returns non-zero (and returns that value); returns 0 otherwise. The
 * strings passed to cb are NUL-terminated and valid only during the call.
 */
int url_query_each(const uint8_t *q, size_t n,
                   int (*cb)(void *data, const char *name, size_t nlen, const char *value,
                             size_t vlen, bool has_value),
                   void *data);

enum url_path_result {
    URL_PATH_OK = 0,
    URL_PATH_TRAVERSAL = 1, /* a ".." segment (after decoding) */
    URL_PATH_INVALID = 2,   /* NUL byte, or not starting with '/' */
};

/*
 * Decodes a target's path and normalises it to a relative path under a root: empty and "."
 * segments dropped, segments joined with '/', no leading '/' ("" is the root itself). Any ".."
 * segment is refused rather than resolved, so no encoding trick can climb out. *dir_slash is
 * set when the path ended in '/'. Returns an enum url_path_result; out is filled only for OK.
 */
enum url_path_result url_path_clean(const uint8_t *path, size_t n, struct dynbuf *out,
                                    bool *dir_slash);

/* Appends p percent-encoded for use in a URL path (unreserved characters and '/' kept). */
void url_encode_path(const uint8_t *p, size_t n, struct dynbuf *out);

/*
 * Appends p encoded as a name or value of an application/x-www-form-urlencoded body (the
 * WHATWG URL standard's byte serializer): ASCII letters, digits and "*-._" kept, space as '+',
 * every other byte as %XX. url_query_each with URL_PLUS semantics gives p back.
 */
void url_encode_form(const uint8_t *p, size_t n, struct dynbuf *out);

#endif
