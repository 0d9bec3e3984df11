/*
 * textlog: the text records the log printer writes, as pure formatting: the access-log line
 * (--log line) and the full record with heads and bodies (--log full). Every byte that came
 * from the network goes through termsafe. The formats are stable and documented in
 * docs/log.md; scripts may split the line on spaces (fields never contain a space).
 */
#ifndef HSPY_TEXTLOG_H
#define HSPY_TEXTLOG_H

#include <stddef.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"
#include "hspy/jsonout.h"

struct textlog_config {
    const struct http_limits *limits; /* for removing chunked framing */
    size_t body_limit;                /* body bytes shown per message (--body-limit) */
    size_t decode_max;                /* cap on a decoded (decompressed) body */
};

/*
 * Appends the access-log line of ex, newline included:
 *   TIME CLIENT #CONN.SEQ METHOD TARGET STATUS SIZE DURATION [!WARNINGS] [+FLAGS]
 *   [tunnel=UP/DOWN] [error: TEXT]
 * Absent values are "-". Returns bytes appended (cut only at out's maximum). clock, when not
 * NULL, is the caller's memory of the last time spelled (see jsonout_clock), updated here.
 */
size_t textlog_line(struct dynbuf *out, const struct exchange *ex, struct jsonout_clock *clock);

/*
 * Appends the full record of ex: the access-log line, then the request and response heads
 * exactly as sent (each line prefixed "> " or "< ", CR and LF shown as ␍ ␊), their bodies
 * (text as is, other bytes escaped, at most body_limit bytes, decoded when a content coding
 * could be undone) with "* " lines describing sizes and cuts, the warnings, and a blank line.
 * Returns bytes appended (cut only at out's maximum).
 */
size_t textlog_full(struct dynbuf *out, const struct exchange *ex,
                    const struct textlog_config *cfg);

#endif
