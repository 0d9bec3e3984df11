/*
 * response: the bytes of responses hspy itself writes (echo, crafted, static files, errors)
 * and the edits the delivery controls make to raw ones. Pure: it formats into the caller's
 * buffer. What the user wrote wins: a user header for Content-Length, Transfer-Encoding or
 * Connection replaces the one hspy would add.
 */
#ifndef HSPY_RESPONSE_H
#define HSPY_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* How the body of a response hspy writes is delimited. */
enum response_framing {
    RESPONSE_LENGTH = 0,  /* Content-Length: length */
    RESPONSE_CHUNKED = 1, /* Transfer-Encoding: chunked (HTTP/1.1 clients only) */
    RESPONSE_CLOSE = 2,   /* until the connection closes */
    RESPONSE_NO_BODY = 3, /* 1xx, 204, 304 or a reply to HEAD: Content-Length stated if given */
};

struct response_spec {
    uint16_t status;
    const char *reason;         /* NULL: the standard phrase */
    const char *const *headers; /* "Name: value" lines, without CRLF */
    size_t nheaders;
    const char *date; /* value of the Date header, or NULL for none */
    uint8_t framing;  /* enum response_framing */
    uint64_t length;  /* RESPONSE_LENGTH (and RESPONSE_NO_BODY when has_length) */
    bool has_length;  /* RESPONSE_NO_BODY: state the length (HEAD, 304) */
    bool close;       /* add "Connection: close" */
    bool keep_alive;  /* add "Connection: keep-alive" (HTTP/1.0 clients that asked for it) */
};

/* The standard reason phrase of a status ("Not Found"); "Unknown" for unassigned codes. */
const char *response_reason(int status);

/* Appends "HTTP/1.1 STATUS REASON", the headers and the empty line to out. */
void response_head(struct dynbuf *out, const struct response_spec *spec);

/* An error response hspy gives itself (400, 408, 431, 502, 504...). */
struct response_error {
    uint16_t status;
    const char *why;            /* the reason, one line */
    const char *const *headers; /* more "Name: value" lines (Server, say), or NULL */
    size_t nheaders;
    const char *date;  /* value of the Date header, or NULL for none */
    bool head_request; /* the request was HEAD */
};

/*
 * Appends the whole error response to out: a text/plain body "STATUS REASON: why\n" with its
 * Content-Length, and Connection: close (the connection ends after it). To a HEAD request the
 * head states the length the body would have and the body is left out (RFC 9110 9.3.2): the
 * client reads no body, and bytes after the head would be taken for the next response.
 */
void response_error(struct dynbuf *out, const struct response_error *e);

/*
 * Appends the answer to a connection refused because --max-conns connections are open: a 503
 * error response (response_error), sent before anything of the connection is read. sent holds
 * the n bytes the client had sent by then (often none): when they begin with a whole HEAD
 * request line (http_request_line_is_head) the body is left out; else it is there, since the
 * method is not known.
 */
void response_refusal(struct dynbuf *out, const uint8_t *sent, size_t n);

/* True when line ("Name: value") names the field (case-insensitive). */
bool response_header_is(const char *line, const char *name);

/*
 * Length of the head at the start of a raw response (through its empty line), or -1 when the
 * bytes do not start with a complete response head. Interim (1xx) heads in front of the final
 * one are included.
 */
long response_head_len(const uint8_t *raw, size_t n);

/*
 * Copies the raw response to out with every Content-Length header removed and one
 * "Content-Length: value" inserted at the end of the (final) head. Returns 0, or -1 (out
 * untouched) when raw has no complete response head.
 */
int response_set_length(const uint8_t *raw, size_t n, uint64_t value, struct dynbuf *out);

#endif
