/*
 * harsynth: HAR entries of other tools (browsers, mitmproxy, Charles: no "_hspy" record) made
 * back into HTTP/1.x bytes for the engine to read, and the facts HAR holds about the exchange
 * applied to what the engine made of them. docs/sessions.md has the rules:
 *
 *   - the request line from method and URL (origin form for http://, the absolute URL for
 *     other schemes); HTTP/1.0 and HTTP/1.1 as recorded, other versions as HTTP/1.1;
 *   - headers as listed, in order and case; HTTP/2 pseudo-headers left out, a Host header made
 *     from the URL when there is none; CR, LF and NUL in fields become spaces;
 *   - bodies from postData (text, or params as a form) and content.text (base64 undone); HAR
 *     holds them decoded, so Content-Encoding and Transfer-Encoding go and Content-Length is
 *     set to the body's size; a body the HAR lacks is a gap of content.size, never invented;
 *   - times from startedDateTime and timings, the server from serverIPAddress and the URL's
 *     port, the connection from "connection" when numeric, the error from response._error.
 *
 * Every adjustment is added to the exchange's note. Pure: no files, no parsing of HTTP.
 */
#ifndef HSPY_HARSYNTH_H
#define HSPY_HARSYNTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"

/* Largest message synthesized from an entry's fields. */
#define HARSYNTH_MESSAGE_MAX ((size_t)1 << 30)
/* Distinct connections whose positions are counted for entries with a numeric connection. */
enum { HARSYNTH_CONN_SLOTS = 1024 };

struct harsynth {
    char creator[96];       /* "Chromium 120.0" for notes; "" until log.creator is read */
    uint64_t *next_conn_id; /* connection numbers for entries without one */
    struct {
        uint64_t conn_id;
        uint32_t seq;
    } conns[HARSYNTH_CONN_SLOTS];
};

/* One side's bytes as synthesized. */
struct harsynth_message {
    struct dynbuf bytes;
    uint64_t missing; /* body bytes the HAR lacks: a gap after the bytes */
    bool present;     /* the side sent something (a response with status 0 did not) */
};

void harsynth_init(struct harsynth *h, uint64_t *next_conn_id);

/*
 * The request and response of entry as bytes (msg[SIDE_CLIENT], msg[SIDE_SERVER]; release with
 * harsynth_messages_cleanup in any case). note receives the note's text. Returns 0, or -1 with
 * the reason in why when the entry has no request URL.
 */
int harsynth_messages(struct harsynth *h, const json_t *entry, struct harsynth_message msg[2],
                      struct dynbuf *note, char *why, size_t whylen);
void harsynth_messages_cleanup(struct harsynth_message msg[2]);

/* Sets ex's times, connection, server, note (copied) and error from entry. */
void harsynth_apply(struct harsynth *h, const json_t *entry, struct exchange *ex, const char *note);

/* Parses an ISO 8601 date-time ("2024-05-01T12:00:00.123+02:00") to ns since the epoch.
 * Returns 0, or -1 when s is not one (or lies outside 1970..2262). */
int harsynth_parse_time(const char *s, int64_t *ns);

#endif
