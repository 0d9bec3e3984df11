/*
 * endpoint owns the textual forms of addresses and ports: formatting for display and splitting
 * the HOST:PORT arguments users type. Name resolution is not done here (that is I/O).
 */
#include "hspy/endpoint.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/decimal.h"

/* "a.b.c.d" into p (at least 16 bytes); returns the length. Every log line formats one. */
static size_t ipv4_text(const uint8_t a[4], char *p)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            p[n++] = (char)('0' + v / 100);
        if (v >= 10)
            p[n++] = (char)('0' + v / 10 % 10);
        p[n++] = (char)('0' + v % 10);
        if (i < 3)
            p[n++] = '.';
    }
    p[n] = '\0';
    return n;
}

char *endpoint_format_addr(const struct endpoint *e, char *buf, size_t len)
{
    if (e->family == 4 && len >= 16) {
        ipv4_text(e->addr, buf);
    } else if (e->family == 4) {
        inet_ntop(AF_INET, e->addr, buf, (socklen_t)len);
    } else if (e->family == 6) {
        inet_ntop(AF_INET6, e->addr, buf, (socklen_t)len);
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

char *endpoint_format(const struct endpoint *e, char *buf, size_t len)
{
    if (e->family == 4 && len >= 22) {
        size_t n = ipv4_text(e->addr, buf);
        buf[n++] = ':';
        buf[n + decimal_u64(buf + n, e->port)] = '\0';
        return buf;
    }
    /* Formatted whole here, then cut to what buf holds (less than ENDPOINT_STRLEN only when a
     * caller gives less than the contract asks). */
    char text[ENDPOINT_STRLEN], a[INET6_ADDRSTRLEN];
    if (e->family == 4)
        snprintf(text, sizeof text, "%s:%u", endpoint_format_addr(e, a, sizeof a), e->port);
    else if (e->family == 6)
        snprintf(text, sizeof text, "[%s]:%u", endpoint_format_addr(e, a, sizeof a), e->port);
    else
        snprintf(text, sizeof text, "-");
    if (len) {
        size_t n = strnlen(text, len - 1);
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return buf;
}

int endpoint_set(struct endpoint *e, const char *addr, uint16_t port)
{
    memset(e, 0, sizeof *e);
    if (inet_pton(AF_INET, addr, e->addr) == 1)
        e->family = 4;
    else if (inet_pton(AF_INET6, addr, e->addr) == 1)
        e->family = 6;
    else
        return -1;
    e->port = port;
    return 0;
}

int endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
    size_t n = a->family == 4 ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

int endpoint_is_loopback(const struct endpoint *e)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (e->family == 4)
        return e->addr[0] == 127;
    if (e->family == 6)
        return memcmp(e->addr, v6_loopback, 16) == 0;
    return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
    if (n == 0 || n > 5) {
        snprintf(err, errlen, "invalid port '%.*s'", (int)n, s);
        return -1;
    }
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            snprintf(err, errlen, "invalid port '%.*s'", (int)n, s);
            return -1;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535) {
        snprintf(err, errlen, "port %u out of range (0-65535)", v);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

static int set_host(char *host, size_t hostlen, const char *s, size_t n, char *err, size_t errlen)
{
    if (n >= hostlen) {
        snprintf(err, errlen, "host name too long");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':' && c != '%') {
            snprintf(err, errlen, "invalid character in host '%.*s'", (int)n, s);
            return -1;
        }
    }
    memcpy(host, s, n);
    host[n] = '\0';
    return 0;
}

int hostport_split(const char *text, char *host, size_t hostlen, uint16_t *port,
                   uint16_t default_port, char *err, size_t errlen)
{
    const char *s = text;
    host[0] = '\0';
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    else if (strstr(s, "://")) {
        snprintf(err, errlen, "only http:// is supported in '%s'", text);
        return -1;
    }
    size_t n = strcspn(s, "/");
    if (s[n] == '/' && s[n + 1] != '\0') {
        snprintf(err, errlen, "unexpected path in '%s'", text);
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "empty address");
        return -1;
    }
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            snprintf(err, errlen, "missing ']' in '%s'", text);
            return -1;
        }
        if (set_host(host, hostlen, s + 1, (size_t)(close - s - 1), err, errlen) != 0)
            return -1;
        const char *rest = close + 1;
        size_t restn = n - (size_t)(rest - s);
        if (restn == 0)
            goto no_port;
        if (rest[0] != ':') {
            snprintf(err, errlen, "expected ':' after ']' in '%s'", text);
            return -1;
        }
        return parse_port(rest + 1, restn - 1, port, err, errlen);
    }
    const char *colon = memchr(s, ':', n);
    if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
        snprintf(err, errlen, "IPv6 addresses need brackets: '[%.*s]:PORT'", (int)n, s);
        return -1;
    }
    if (colon) {
        if (set_host(host, hostlen, s, (size_t)(colon - s), err, errlen) != 0)
            return -1;
        return parse_port(colon + 1, n - (size_t)(colon + 1 - s), port, err, errlen);
    }
    /* A bare word: a port when it is all digits, else a host. */
    int digits = 1;
    for (size_t i = 0; i < n; i++)
        digits &= isdigit((unsigned char)s[i]) != 0;
    if (digits)
        return parse_port(s, n, port, err, errlen);
    if (set_host(host, hostlen, s, n, err, errlen) != 0)
        return -1;
no_port:
    if (!default_port) {
        snprintf(err, errlen, "missing port in '%s'", text);
        return -1;
    }
    *port = default_port;
    return 0;
}

int hostport_peer(const char *text, char *host, size_t hostlen, uint16_t *port, char *err,
                  size_t errlen)
{
    if (hostport_split(text, host, hostlen, port, 80, err, errlen) != 0)
        return -1;
    if (!host[0]) {
        snprintf(err, errlen, "missing host in '%s'", text);
        return -1;
    }
    if (*port == 0) {
        snprintf(err, errlen, "port 0 in '%s' (a port to connect to is 1 to 65535)", text);
        return -1;
    }
    return 0;
}
