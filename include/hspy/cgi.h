/*
 * cgi: the pure half of `hspy listen --exec`: splitting the command into words without a
 * shell, the CGI/1.1 meta-variables (RFC 3875 section 4.1) for a request, and turning the
 * command's output head into an HTTP response head.
 *
 * Request data only ever reaches the command through its environment and stdin, never its
 * argument list. Header names that could be confused with others (anything but letters,
 * digits and '-') are left out, and so is Proxy (the "httpoxy" HTTP_PROXY trap).
 *
 * The command's stdout is read in one of three ways, decided by its first line:
 *   "HTTP/1.x ..."  the command wrote a whole response: it is sent as written;
 *   "Name: value"   CGI header lines, an empty line, then the body (Status: sets the status,
 *                   Location: without Status: means 302);
 *   anything else   the whole output is a text/plain body with status 200.
 */
#ifndef HSPY_CGI_H
#define HSPY_CGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"
#include "hspy/framing.h"

enum { CGI_ARGS_MAX = 256, CGI_HEAD_MAX = 64 * 1024 };

/*
 * Splits cmd into words: blanks separate, '...' and "..." quote, backslash escapes (outside
 * single quotes). Nothing is expanded. Returns a NULL-terminated malloc'ed array (free with
 * cgi_free_strv), or NULL with a reason in err.
 */
char **cgi_split(const char *cmd, char *err, size_t errlen);
void cgi_free_strv(char **v);

struct cgi_server {
    const char *software; /* "hspy/0.1.0" */
    const char *path;     /* PATH for the command (the server's own), or NULL */
};

/*
 * The environment for running a CGI command for ex's request (head parsed; framing is the
 * request's, as decided when its head was read): a NULL-terminated malloc'ed array of
 * "NAME=value" strings (free with cgi_free_strv). CONTENT_LENGTH is set only for requests
 * whose length is declared; a chunked body simply ends at the end of stdin.
 */
char **cgi_env(const struct exchange *ex, const struct framing *framing,
               const struct cgi_server *srv);

enum cgi_kind {
    CGI_MORE = 0,    /* need more output to decide */
    CGI_HEADERS = 1, /* CGI header lines of head_len bytes (empty line included) */
    CGI_NPH = 2,     /* a complete HTTP response follows: send as written */
    CGI_BODY = 3,    /* no header section: everything is body */
    CGI_INVALID = 4, /* the header section is longer than CGI_HEAD_MAX */
};

/* Classifies the start of the command's output. eof: no more output will come. */
enum cgi_kind cgi_classify(const uint8_t *p, size_t n, bool eof, size_t *head_len);

struct cgi_reply {
    uint16_t status;
    char reason[128]; /* "" = the standard phrase */
    char **headers;   /* "Name: value", in order, without Status */
    size_t nheaders;
    bool has_length, has_type, chunked;
};

/* Reads CGI header lines (head_len bytes from cgi_classify) into r. Free with cgi_reply_cleanup. */
void cgi_reply_parse(const uint8_t *p, size_t head_len, struct cgi_reply *r);
void cgi_reply_cleanup(struct cgi_reply *r);

#endif
