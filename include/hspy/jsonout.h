/*
 * jsonout: an exchange as one JSON object, the record behind --json (JSON lines). The schema is
 * versioned ("hspy_json": JSONOUT_VERSION) and documented field by field in docs/json.md; fields
 * are only ever added within a version. Pure: writes an exchange through a jsonwrite (as text
 * or as a jansson value) and never anywhere but the caller's buffer.
 *
 * Text or bytes: a JSON string must be valid Unicode, HTTP carries bytes. Everything that is
 * valid UTF-8 is written as a string; the text (jsonwrite) is printable ASCII, so a terminal
 * shown the JSON never meets a raw control character.
 * Bodies that are not valid UTF-8 are base64 with "body_encoding": "base64"; a header name or
 * value that is not valid UTF-8 is written as the object {"base64": "..."} in place of the
 * string.
 *
 * The building blocks (warnings, flags, endpoints, bytes) are exported because the HAR writer
 * records the same facts in its custom fields.
 */
#ifndef HSPY_JSONOUT_H
#define HSPY_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"
#include "hspy/jsonwrite.h"

enum { JSONOUT_VERSION = 1 };
/* Header fields listed per interim (1xx) response; headers_total counts the rest. */
enum { JSONOUT_INTERIM_HEADERS_MAX = 64 };

/* jansson dump flags giving the same text as jsonwrite (for json_dump_file and friends). */
#define JSONOUT_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)

struct jsonout_clock;

struct jsonout_config {
    const struct http_limits *limits; /* for removing chunked framing from bodies */
    size_t decode_max; /* cap on a decoded body ("decoded" object); 0 = never decode */
    size_t body_limit; /* body bytes written per message (--body-limit); SIZE_MAX = all kept */
    struct jsonout_clock *clock; /* NULL, or the writer's memory of the last time it spelled
                                    (see jsonout_clock): records in the same second reuse it */
};

/*
 * Writes the JSON object for ex (schema in docs/json.md) to w, as its next value. Reads ex only;
 * nothing keeps a pointer into it.
 */
void jsonout_write(struct jsonwrite *w, const struct exchange *ex,
                   const struct jsonout_config *cfg);

/*
 * The same object as a jansson value. Returns a new reference: the caller json_decref()s it.
 */
json_t *jsonout_exchange(const struct exchange *ex, const struct jsonout_config *cfg);

/*
 * Appends ex as one JSON line (the object written as text, then "\n") to out. Returns 0, or -1
 * when out's maximum could not hold the whole line (out is then left as it was).
 */
int jsonout_line(struct dynbuf *out, const struct exchange *ex, const struct jsonout_config *cfg);

/*
 * Appends any JSON value as compact, printable-ASCII JSON (jsonwrite); a JSON_REAL_PRECISION(n)
 * in extra_flags sets the digits of reals. Returns 0, or -1 when it did not fit (out is then
 * left as it was).
 */
int jsonout_dump(struct dynbuf *out, const json_t *value, size_t extra_flags);

/* Building blocks shared with the HAR writer. Each returns a new reference. */

/* A string when p[0..n) is valid UTF-8, else {"base64": "..."}. */
json_t *jsonout_text_or_base64(const uint8_t *p, size_t n);
/* A string holding p[0..n) as text when valid UTF-8 (*base64 = false) or as base64 (true). */
json_t *jsonout_bytes(const uint8_t *p, size_t n, bool *base64);
/* Base64 of p[0..n) as a string. */
json_t *jsonout_base64(const uint8_t *p, size_t n);
/* {"ip": "...", "port": N}, or null when the endpoint is unknown. */
json_t *jsonout_endpoint(const struct endpoint *e);
/* Names of the set bits of flags, through name_of (exchange_flag_name, message_flag_name). */
json_t *jsonout_flags(uint32_t flags, const char *(*name_of)(uint32_t));
/* The exchange's warnings: [{"code", "side", "offset", "detail", "explanation"}]. */
json_t *jsonout_warnings(const struct exchange *ex);
/* A head's headers as [[name, value], ...] in the order sent (head must be present). */
json_t *jsonout_headers(const uint8_t *base, const struct http_head *head);
/* "request" for the client side, "response" for the server side. */
const char *jsonout_side_name(enum side side);
/* The message's payload SHA-256 as 64 hex digits, or null when it was not hashed. */
json_t *jsonout_sha256(const struct message *m);
/* An integer, or null when v is 0 (a phase not reached, an id not set). */
json_t *jsonout_int_or_null(int64_t v);

/*
 * The same building blocks written to w as its next value (text or tree, as w was started), for
 * writers that describe their records as jsonwrite calls. They read their arguments only.
 */
void jsonout_write_base64(struct jsonwrite *w, const uint8_t *p, size_t n);
/* A chunked body's kept chunk extensions (kept apart from raw, like the trailer): an array of
 * {"chunk", "size", "extensions", "cut"} objects, the extensions as text where they are UTF-8
 * (else base64), or always base64. */
void jsonout_write_chunk_ext(struct jsonwrite *w, const struct message *m, bool base64);
/* Returns true when p[0..n) went as base64 (not valid UTF-8). */
bool jsonout_write_bytes(struct jsonwrite *w, const uint8_t *p, size_t n);
void jsonout_write_endpoint(struct jsonwrite *w, const struct endpoint *e);
void jsonout_write_flags(struct jsonwrite *w, uint32_t flags, const char *(*name_of)(uint32_t));
void jsonout_write_warnings(struct jsonwrite *w, const struct exchange *ex);
void jsonout_write_sha256(struct jsonwrite *w, const struct message *m);
/* {"client_bytes", "server_bytes"} relayed after a CONNECT or Upgrade switch, or null. */
void jsonout_write_tunnel(struct jsonwrite *w, const struct exchange *ex);

/*
 * ISO 8601 UTC time of ns since the epoch with digits fractional digits (3 = ms, 6 = us,
 * 9 = ns): "2024-05-01T12:00:00.123Z". buf needs 40 bytes. Returns buf.
 */
char *jsonout_iso8601(char *buf, size_t len, int64_t ns, int digits);
/* As jsonout_iso8601 for whole seconds since the epoch (not before it), up to the year 9999:
 * nanoseconds in 64 bits end in 2262, a cookie's expiry date need not. */
char *jsonout_iso8601_s(char *buf, size_t len, int64_t secs, int digits);

/*
 * The calendar part of the last time spelled, kept by a caller that writes many times
 * (a printer, per exchange): times within the same second reuse it. Initialise with
 * jsonout_clock_init; it holds no pointers.
 */
struct jsonout_clock {
    int64_t sec;   /* the second text spells; -1 before the first time */
    char text[19]; /* "YYYY-MM-DDTHH:MM:SS", no NUL */
};
void jsonout_clock_init(struct jsonout_clock *c);

/* jsonout_iso8601 through the clock c (updated when the second changes). */
char *jsonout_iso8601_at(struct jsonout_clock *c, char *buf, size_t len, int64_t ns, int digits);

#endif
