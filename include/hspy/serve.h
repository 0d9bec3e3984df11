/*
 * serve: static files for `hspy listen --serve DIR` and rules' "serve DIR", in the manner of
 * python3 -m http.server: index.html, directory listings, Content-Type by extension, HEAD,
 * single byte ranges, If-None-Match / If-Modified-Since answered with 304.
 *
 * Nothing outside DIR is ever opened: the path is percent-decoded and any ".." segment is
 * refused (403) before the file system is asked; the file's real path (symlinks resolved) must
 * still lie under DIR's real path (403 otherwise); missing files are 404. Files are read in
 * REPLY_STEP pieces as the client takes them, so memory stays flat for any file size.
 */
#ifndef HSPY_SERVE_H
#define HSPY_SERVE_H

#include <stddef.h>

#include "hspy/reply.h"

struct serve {
    char *root; /* real path of DIR, without a trailing slash ("/" for the root) */
    size_t rootlen;
};

/* Resolves dir; returns 0, or -1 with "serve DIR: reason" in err. */
int serve_open(struct serve *s, const char *dir, char *err, size_t errlen);
void serve_close(struct serve *s);

/* A reply that answers the request from the directory (once the request is complete). */
struct reply *reply_serve_new(const struct reply_env *env, const struct serve *s);

#endif
