/*
 * form: HTML form bodies. application/x-www-form-urlencoded goes through url_query_each, after
 * the byte order mark form_urlencoded_skip names; this module reads multipart/form-data (RFC
 * 7578): the boundary from a Content-Type value and the parts of a body, handed out as slices
 * of the caller's buffer.
 */
#ifndef HSPY_FORM_H
#define HSPY_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FORM_BOUNDARY_MAX = 70 + 1 }; /* RFC 2046: at most 70 characters */
enum { FORM_PARAM_MAX = 256 };       /* bytes kept of a part's name, filename, type */

struct form_part {
    char name[FORM_PARAM_MAX];         /* Content-Disposition name, "" when absent */
    char filename[FORM_PARAM_MAX];     /* "" when absent (has_filename false) */
    char content_type[FORM_PARAM_MAX]; /* "" when absent */
    bool has_filename;
    const uint8_t *data; /* the part's content, a slice of the body */
    size_t len;
};

/*
 * The bytes an application/x-www-form-urlencoded body p[0..n) starts with that are no part of
 * its first field: a UTF-8 byte order mark (3), which an editor or a client's encoder may put in
 * front, as in front of JSON, and which readers of the form skip; else 0. Pure.
 */
size_t form_urlencoded_skip(const uint8_t *p, size_t n);

/*
 * Copies the boundary parameter of a multipart Content-Type value into out (NUL-terminated).
 * Returns 0, or -1 when the value is not multipart or has no usable boundary.
 */
int form_boundary(const uint8_t *ctype, size_t n, char *out, size_t outlen);

enum form_result {
    FORM_OK = 0,        /* every part up to the closing delimiter */
    FORM_MALFORMED = 1, /* no opening delimiter, or a part without its end */
};

/*
 * Calls cb for each part of a multipart body, in order. A part is only reported when its end
 * delimiter was found, so a truncated body yields its complete parts and FORM_MALFORMED.
 * Stops when cb returns non-zero. The part struct is valid only during the call.
 */
enum form_result form_multipart_each(const uint8_t *body, size_t n, const char *boundary,
                                     int (*cb)(void *data, const struct form_part *part),
                                     void *data);

#endif
