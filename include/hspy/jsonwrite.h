/*
 * jsonwrite: JSON written value by value (begin an object, a key, a string, end it...) into one
 * of two targets:
 *   - text: compact JSON that is printable ASCII appended to a dynbuf (every character outside
 *     0x20..0x7e is a \uXXXX escape, non-BMP characters as surrogate pairs). It is what
 *     json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) produces, DEL escaped too, at several times
 *     the speed: jansson's dumper feeds strings through its callback at tens of MB/s, and
 *     every exchange's bodies and raw bytes pass through here;
 *   - tree: a jansson value, for callers that go on editing what was written (the HAR writer
 *     puts hspy's building blocks into its own objects).
 * A record described once as a sequence of these calls therefore gives the same JSON either
 * way, and the text target never builds a tree: no allocation per value.
 *
 * Calls must nest properly (a key before each object member, end() closing what begin
 * opened); that is a caller bug and asserted. Keys of one object must differ (text would keep
 * both members, a tree only the last; nothing checks). Strings must be valid UTF-8 (hspy checks the
 * bytes it takes from traffic). Failures (the dynbuf's maximum, nesting past
 * JSONWRITE_DEPTH_MAX, NaN or infinity) are remembered and reported by jsonwrite_finish.
 */
#ifndef HSPY_JSONWRITE_H
#define HSPY_JSONWRITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Nesting deeper than this is refused (-1); hspy's records are a few levels deep. */
enum { JSONWRITE_DEPTH_MAX = 64 };
/* Bytes of text staged on the writer before they go to the dynbuf in one append. */
enum { JSONWRITE_STAGE = 4096 };

struct jsonwrite_target;

struct jsonwrite {
    const struct jsonwrite_target *target;
    int depth;         /* containers open */
    bool after_key;    /* a key was written, its value comes next */
    bool failed;       /* a value could not be written, or the dynbuf refused bytes */
    uint64_t objects;  /* bit d-1: the container at depth d is an object */
    uint64_t nonempty; /* bit d-1: the container at depth d has a member already */
    /* text target */
    struct dynbuf *out;
    size_t before; /* out->len at init, restored on failure */
    int precision; /* significant digits of reals */
    size_t used;   /* bytes in stage */
    char stage[JSONWRITE_STAGE];
    /* tree target */
    json_t *root;
    json_t *open[JSONWRITE_DEPTH_MAX]; /* the open containers, outermost first */
    const char *key;                   /* the pending object key (the caller's, until used) */
    size_t keylen;
};

/*
 * Starts writing one value as text at the end of out. Reals get precision significant digits
 * (1-17; 0 means 17, jansson's default) and always show a '.' or an exponent, as jansson
 * writes them. Nothing reaches out for certain before jsonwrite_finish.
 */
void jsonwrite_init_text(struct jsonwrite *w, struct dynbuf *out, int precision);

/* Starts building one value as a jansson tree (take it with jsonwrite_take). */
void jsonwrite_init_tree(struct jsonwrite *w);

/*
 * Ends a text value: returns 0 when all of it is in out, or -1 (out's maximum reached, a value
 * that cannot be written); out is then left as it was.
 */
int jsonwrite_finish(struct jsonwrite *w);

/* Ends a tree value: returns it (a new reference, the caller json_decref()s it) or NULL when
 * nothing was written or a value could not be. */
json_t *jsonwrite_take(struct jsonwrite *w);
/* As jsonwrite_take for a value that can fail only for want of memory: that stops the program,
 * as any allocation failure does (xnonnull). Never NULL. */
json_t *jsonwrite_take_all(struct jsonwrite *w);

void jsonwrite_begin_object(struct jsonwrite *w);
void jsonwrite_begin_array(struct jsonwrite *w);
/* Closes the innermost open object or array. */
void jsonwrite_end(struct jsonwrite *w);
/* The key of the next member of the open object; key[0..n) is read before the call returns
 * for text, and kept until the member's value is written for a tree. */
void jsonwrite_key(struct jsonwrite *w, const char *key, size_t n);
/* A key that needs no escaping: printable ASCII without '"' or '\\' (hspy's own member names;
 * asserted). Faster than jsonwrite_key, which checks every byte. */
void jsonwrite_name(struct jsonwrite *w, const char *name);
/* A string value (s[0..n) valid UTF-8). */
void jsonwrite_string(struct jsonwrite *w, const char *s, size_t n);
void jsonwrite_cstring(struct jsonwrite *w, const char *s);
/* s as a string value, or null when s is NULL. */
void jsonwrite_cstring_or_null(struct jsonwrite *w, const char *s);
/* A string value of s[0..n) with every byte sequence that is not UTF-8 written as U+FFFD
 * (texts hspy composed from traffic, such as warning details). */
void jsonwrite_lossy(struct jsonwrite *w, const char *s, size_t n);
void jsonwrite_int(struct jsonwrite *w, int64_t v);
/* v when known, else null (a time not reached, a length not given). */
void jsonwrite_int_or_null(struct jsonwrite *w, bool known, int64_t v);
void jsonwrite_real(struct jsonwrite *w, double v);
void jsonwrite_bool(struct jsonwrite *w, bool v);
void jsonwrite_null(struct jsonwrite *w);
/* Any jansson value, written as if by the calls above (a tree target keeps a reference). */
void jsonwrite_json(struct jsonwrite *w, const json_t *value);

/*
 * Appends value (any JSON type) to out as text, as jsonwrite_init_text/json/finish do.
 * Returns 0, or -1 when out's maximum was reached or the value cannot be written (NaN,
 * infinity, nesting past JSONWRITE_DEPTH_MAX); out is then left as it was.
 */
int jsonwrite_value(struct dynbuf *out, const json_t *value, int precision);

#endif
