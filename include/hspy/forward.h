/*
 * forward: where a proxied request goes and what the proxy changes in its head on the way.
 *
 * A request in origin-form (or asterisk-form) goes to the configured upstream; an absolute-form
 * http:// request goes to the host it names (forward proxy); CONNECT goes to its authority. The
 * head is forwarded byte for byte except for the edits the user can see and switch: the Host
 * value rewritten to the authority the request is sent to (and an absolute-form target sent in
 * origin-form, as origin servers expect from a proxy), and an element appended to
 * X-Forwarded-For or Forwarded (RFC 7239). Edits change only the bytes they name: header case,
 * order, duplicates and whitespace elsewhere stay as received. Pure: no sockets, no I/O.
 */
#ifndef HSPY_FORWARD_H
#define HSPY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/http.h"

enum forward_kind {
    FORWARD_UPSTREAM = 0, /* origin-form or asterisk-form: the configured upstream */
    FORWARD_ABSOLUTE = 1, /* absolute-form http://authority/...: that authority */
    FORWARD_CONNECT = 2,  /* CONNECT authority: a tunnel to it */
};

enum { FORWARD_HOST_MAX = 256 };

struct forward_route {
    uint8_t kind;                /* enum forward_kind */
    char host[FORWARD_HOST_MAX]; /* FORWARD_ABSOLUTE and FORWARD_CONNECT: host, no brackets */
    uint16_t port;
};

/*
 * Decides where the request whose head is h (spans relative to base) goes. Returns 0 with out
 * filled, or the status a proxy should answer (400 for a target it cannot use, 501 for an
 * https:// absolute-form target, which needs CONNECT) with the reason in why.
 */
int forward_route(const uint8_t *base, const struct http_head *h, struct forward_route *out,
                  char *why, size_t whylen);

/* The edits to make; every member off (NULL/false) forwards the head unchanged. */
struct forward_edits {
    const char *host;      /* Host value to send, replacing a different one; NULL = keep */
    bool host_add;         /* with host: add a Host field when the request has none */
    bool origin_form;      /* an absolute-form target is sent as its path and query */
    const char *xff;       /* address appended to X-Forwarded-For (added when absent) */
    const char *forwarded; /* element appended to Forwarded (added when absent) */
};

/*
 * Appends the head as it goes upstream to out and returns true, or returns false (out
 * untouched) when no edit changes anything: the head then goes exactly as received. HTTP/0.9
 * requests have no header section and are never edited. New fields go at the end of the head,
 * with the line ending its empty line uses.
 */
bool forward_head(const uint8_t *base, const struct http_head *h, const struct forward_edits *e,
                  struct dynbuf *out);

/*
 * Appends a Forwarded element for a client address ("1.2.3.4" or "::1"): for=..., host="..."
 * when the request had a Host value that can be quoted, and proto=http.
 */
void forward_element(struct dynbuf *out, const char *addr, const uint8_t *host, size_t hostlen);

/* "host" or "host:port" (IPv6 in brackets; port 80 left out) into buf; returns buf. */
char *forward_authority(char *buf, size_t len, const char *host, uint16_t port);

#endif
