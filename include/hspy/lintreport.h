/*
 * lintreport: what `hspy lint` says about one message: its start line, its headers exactly as
 * sent, the framing decision, body sizes (raw, payload, decoded) and every warning with its code,
 * offset and explanation; as text for people or as a JSON object for tools. Pure: it formats an
 * exchange the conversation engine produced and writes only into the caller's buffers.
 */
#ifndef HSPY_LINTREPORT_H
#define HSPY_LINTREPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"

struct lintreport_config {
    const struct http_limits *limits; /* for removing chunked framing */
    size_t decode_max;                /* cap on the decoded body size computed */
};

/*
 * Which message of ex is reported: the request (SIDE_CLIENT) or the response (SIDE_SERVER).
 * index is its 1-based position in the input and offset its first byte in the input.
 * cannot_frame: the engine found the body length unknowable (struct framing's cannot_frame: a
 * server answers 400 and closes); every byte after the head is then on this message, unread.
 */
struct lintreport_message {
    const struct exchange *ex;
    enum side side;
    unsigned index;
    uint64_t offset;
    bool cannot_frame;
};

/* Bytes of the input after the head of a message that cannot be framed, shown in the text. */
enum { LINTREPORT_UNFRAMED_SHOWN = 64 };

/* Bytes after the head that no reader can place, when m->cannot_frame; else 0. */
uint64_t lintreport_unframed(const struct lintreport_message *m);

/* Warnings of the message that lint reports (those that describe the message itself). */
unsigned lintreport_warnings(const struct lintreport_message *m);

/* Appends the human-readable report. */
void lintreport_text(struct dynbuf *out, const struct lintreport_message *m,
                     const struct lintreport_config *cfg);

/* The report as a JSON object (new reference; the schema is in the man page, LINT REPORTS). */
json_t *lintreport_json(const struct lintreport_message *m, const struct lintreport_config *cfg);

#endif
