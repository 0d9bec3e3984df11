/*
 * framing: how long a message's body is, per RFC 9112 section 6, decided from a parsed head
 * (and, for a response, from facts about its request). Lenient like the parser: conflicting
 * or invalid length information is a warning plus the framing a careful reader would pick;
 * only a request whose length cannot be known at all is marked cannot_frame (servers answer
 * 400 to it).
 */
#ifndef HSPY_FRAMING_H
#define HSPY_FRAMING_H

#include <stdbool.h>
#include <stdint.h>

#include "hspy/http.h"

enum body_kind {
    BODY_NONE = 0, /* no body */
    BODY_LENGTH,   /* Content-Length bytes */
    BODY_CHUNKED,  /* chunked transfer coding */
    BODY_CLOSE,    /* until the connection closes (responses) */
    BODY_TUNNEL,   /* the connection became a tunnel: the bytes are not HTTP */
    BODY_UNKNOWN,  /* a capture lost the head's end (or the chunked framing): the body runs
                      until the next message starts, its Content-Length is spent or the
                      connection closes */
};

/* "none", "length", "chunked", "close", "tunnel", "unknown". */
const char *body_kind_name(enum body_kind k);

struct framing {
    uint8_t kind;         /* enum body_kind */
    bool cannot_frame;    /* request length unknowable (answer 400) */
    bool keep_alive;      /* another message may follow on this connection */
    bool expect_continue; /* request: Expect: 100-continue */
    bool upgrade;         /* request: asks to switch protocols (Connection: upgrade + Upgrade) */
    bool interim;         /* response: 1xx other than 101; the final response follows */
    uint64_t length;      /* BODY_LENGTH: the length */
};

/* What the framing of a response needs to know about its request. */
struct framing_request {
    bool present; /* false when the response has no known request */
    bool head;    /* method HEAD */
    bool connect; /* method CONNECT */
    bool upgrade; /* asked to switch protocols */
    bool close;   /* the connection ends after its response: Connection: close, HTTP/1.0 without
                     keep-alive, or a length framing that forbids another message (RFC 9112
                     6.1, 6.3) */
    bool http09;  /* HTTP/0.9 request: the response has no head */
};

/* Framing of a request head parsed from buf. Warnings are appended to w (may be NULL). */
void framing_request(const uint8_t *buf, const struct http_head *req, struct framing *f,
                     struct http_warnings *w);
/* Facts about a request for the framing of its response. */
void framing_request_facts(const uint8_t *buf, const struct http_head *req,
                           struct framing_request *facts);
/* The same from the framing framing_request gave for this head (no second look at it). */
void framing_request_facts_from(const uint8_t *buf, const struct http_head *req,
                                const struct framing *framing, struct framing_request *facts);
/* Framing of a response head parsed from buf. */
void framing_response(const uint8_t *buf, const struct http_head *resp,
                      const struct framing_request *req, struct framing *f,
                      struct http_warnings *w);

/*
 * Parses a Content-Length field value (one header's value). Returns 0 and sets *out, or the
 * warning code that applies (W_CL_INVALID, W_CL_OVERFLOW, W_CL_LIST for a list of equal
 * values, in which case *out is set too, or W_CL_CONFLICT for unequal list members).
 */
enum warning_code framing_parse_length(const uint8_t *v, size_t n, uint64_t *out);

#endif
