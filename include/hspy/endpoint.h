/*
 * endpoint: an IP address and port as plain data (no sockaddr, so the core stays free of
 * socket headers). The I/O layer converts to and from sockaddr.
 */
#ifndef HSPY_ENDPOINT_H
#define HSPY_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

enum { ENDPOINT_STRLEN = 64 }; /* enough for "[ffff:...:ffff]:65535" */

struct endpoint {
    uint8_t family; /* 0 = unknown, 4 = IPv4, 6 = IPv6 */
    uint16_t port;
    uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
};

/* Writes "1.2.3.4:80", "[::1]:80" or "-" into buf (at least ENDPOINT_STRLEN bytes). Returns buf. */
char *endpoint_format(const struct endpoint *e, char *buf, size_t len);
/* Address only, without port ("::1", "1.2.3.4"). Returns buf. */
char *endpoint_format_addr(const struct endpoint *e, char *buf, size_t len);
/* Sets e from an address literal and port. Returns 0, or -1 when addr is not an IP literal. */
int endpoint_set(struct endpoint *e, const char *addr, uint16_t port);
/* True when both have the same family, address and port. */
int endpoint_equal(const struct endpoint *a, const struct endpoint *b);
/* True for loopback addresses (127/8, ::1). */
int endpoint_is_loopback(const struct endpoint *e);

/*
 * Splits "[HOST:]PORT", "HOST:PORT", "[V6]:PORT" or "http://HOST[:PORT][/]" into host and port.
 * host gets "" when absent. default_port applies when the text has no port (0 = port required).
 * Returns 0, or -1 with the reason in err.
 */
int hostport_split(const char *text, char *host, size_t hostlen, uint16_t *port,
                   uint16_t default_port, char *err, size_t errlen);
/*
 * The address of a server hspy connects to (proxy's UPSTREAM, --replay-to, a replay target),
 * split as hostport_split does with port 80 by default. A host is required, and port 0 is
 * refused: it names no server (only a listener takes it, to have the system pick a port).
 * Returns 0, or -1 with the reason in err.
 */
int hostport_peer(const char *text, char *host, size_t hostlen, uint16_t *port, char *err,
                  size_t errlen);

#endif
