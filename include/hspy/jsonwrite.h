/*
 * jsonwrite: serialises jansson values into a dynbuf, as compact JSON that is printable ASCII
 * (every character outside 0x20..0x7e is a \uXXXX escape, non-BMP characters as surrogate
 * pairs). It produces what json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) produces, DEL escaped
 * too, at several times the speed: jansson's dumper feeds strings through its callback at
 * tens of MB/s, and every exchange's bodies and raw bytes pass through here. Values are built
 * with jansson; only the writing is done here.
 */
#ifndef HSPY_JSONWRITE_H
#define HSPY_JSONWRITE_H

#include <jansson.h>
#include <stddef.h>

#include "hspy/dynbuf.h"

/* Nesting deeper than this is refused (-1); hspy's records are a few levels deep. */
enum { JSONWRITE_DEPTH_MAX = 64 };

/*
 * Appends value (any JSON type) to out. Reals use precision significant digits (1-17; 0 means
 * 17, jansson's default) and always show a '.' or an exponent, as jansson writes them. Strings
 * must be valid UTF-8 (jansson guarantees it for strings it checked; hspy checks the others).
 * Returns 0, or -1 when out's maximum was reached or the value cannot be written (NaN,
 * infinity, nesting past JSONWRITE_DEPTH_MAX); out is then left as it was.
 */
int jsonwrite_value(struct dynbuf *out, const json_t *value, int precision);

/* Appends a JSON string literal for s[0..n) (valid UTF-8), quotes included. */
void jsonwrite_string(struct dynbuf *out, const char *s, size_t n);

#endif
