/*
 * testutil: helpers shared by the cmocka unit tests (cmocka includes, file reading, escaped
 * byte strings, the shared corpus location).
 */
#ifndef HSPY_TESTUTIL_H
#define HSPY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Reads a whole file; returns a malloc'ed buffer (NUL-terminated) or NULL. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Decodes C-style escapes (\r \n \t \\ \xNN \0) in s into a malloc'ed buffer. */
uint8_t *tu_unescape(const char *s, size_t *len);
/* The shared corpus folder from $HSPY_CORPUS, or NULL when absent (tests then skip). */
const char *tu_corpus(void);
/* Joins a folder and a name into a static buffer (valid until the next call). */
const char *tu_path(const char *dir, const char *name);

struct exchange;
/*
 * Builds an exchange the way the conversation engine fills one: request and response given as
 * escaped text (tu_unescape; either may be NULL) become raw bytes, parsed heads, framing, body
 * sizes, completion flags and the parser's warnings. Free it with exchange_free.
 */
struct exchange *tu_exchange(const char *req, const char *resp);

#endif
