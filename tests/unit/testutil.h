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
/* text gzip'd (zlib, level 9) into out, which must hold it (at most cap bytes); its length. */
size_t tu_gzip(const char *text, uint8_t *out, size_t cap);

/*
 * Builds a completed exchange the way the conversation engine would, from the raw bytes of each
 * side (either may be NULL): heads parsed with http_head_parse, bodies framed with framing.h
 * (chunked bodies walked with chunked.h), interim responses recorded, parser warnings attached
 * at their side offsets, flags MSG_STARTED/HEAD/COMPLETE set (the response to an HTTP/0.9
 * request is a body to the close, MSG_HTTP09, no head), and phase times t0 + 1 ms, 2 ms,
 * ... (request first/head/last, response first/head/last; t0 = 0 leaves them unset). Bytes past
 * the exchange's cap are counted and flagged truncated. Free with exchange_free.
 */
struct exchange;
struct exchange_limits;
struct http_limits;
struct exchange *tu_exchange(const uint8_t *req, size_t reqlen, const uint8_t *resp, size_t resplen,
                             const struct exchange_limits *exl, const struct http_limits *hl,
                             int64_t t0);
/* Same from C-escaped text (tu_unescape). */
struct exchange *tu_exchange_text(const char *req, const char *resp, int64_t t0);

/*
 * The text jansson's own dumper writes for v, compact and ASCII-only, with extra_flags added
 * (JSON_ENCODE_ANY, JSON_REAL_PRECISION...), and DEL escaped as hspy escapes it (jansson leaves
 * it raw): what hspy's JSON writer must produce byte for byte. Returns a malloc'ed string.
 */
struct json_t;
char *tu_jansson_text(const struct json_t *v, size_t extra_flags);

#endif
