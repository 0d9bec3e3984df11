/* The reference parser's view of messages, for test_differential (see differential_peer.c). */
#ifndef HSPY_DIFFERENTIAL_PEER_H
#define HSPY_DIFFERENTIAL_PEER_H

#include <stddef.h>

enum { PEER_MAX_MESSAGES = 16, PEER_MAX_HEADERS = 40 };

struct peer_header {
    char name[128], value[512];
    size_t name_len, value_len;
};

struct peer_message {
    int method; /* http-parser's method number, -1 for responses */
    int status;
    char url[512];
    size_t url_len;
    struct peer_header headers[PEER_MAX_HEADERS];
    size_t nheaders;
    char body[65536];
    size_t body_len;
    int keep_alive, chunked, upgrade, complete;
};

struct peer_result {
    struct peer_message m[PEER_MAX_MESSAGES];
    size_t n;
};

/* Parses data (feeding pieces of `piece` bytes, 0 = whole); at_eof signals the end of input.
 * Returns 0, or -1 when http-parser reports an error. */
int peer_parse(const char *data, size_t len, int response, size_t piece, int at_eof,
               struct peer_result *out);
const char *peer_method_name(int method);

#endif
