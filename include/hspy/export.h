/*
 * export: one exchange in the forms other tools take (`hspy read --export`, the TUI's E menu):
 *
 *   curl                  a curl command that sends the request again (docs/sessions.md)
 *   nc                    a shell script that sends the request's exact bytes with printf | nc
 *   raw-request           the request bytes as on the wire
 *   raw-response          the response bytes as on the wire (interim responses included)
 *   body                  the response payload: transfer framing removed, content coding kept
 *   body-decoded          the response payload with its Content-Encoding undone
 *   request-body          the request payload, as body
 *   request-body-decoded  the request payload, as body-decoded
 *
 * plus the OSC 52 sequence that puts text on a terminal's clipboard. Pure: everything is
 * appended to the caller's buffer; files, clipboards and terminals are the caller's.
 *
 * The scripts are safe to show on a terminal: every byte that is not plain printable text is
 * written as an escape (printf octal escapes, $'...' quoting), never raw.
 */
#ifndef HSPY_EXPORT_H
#define HSPY_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"

enum export_format {
    EXPORT_CURL = 0,
    EXPORT_NC,
    EXPORT_RAW_REQUEST,
    EXPORT_RAW_RESPONSE,
    EXPORT_BODY,
    EXPORT_BODY_DECODED,
    EXPORT_REQUEST_BODY,
    EXPORT_REQUEST_BODY_DECODED,
    EXPORT__COUNT
};

/* A curl command keeps a request body inline when it is plain text of at most this size. */
enum { EXPORT_INLINE_BODY_MAX = 4096 };
/* Largest payload put on the clipboard through OSC 52 (terminals cap the sequence). */
enum { EXPORT_OSC52_MAX = 100000 };

/* "curl", "raw-request", ...; NULL past the end. */
const char *export_format_name(enum export_format f);
/* The format with this name, or -1. */
int export_format_by_name(const char *name);
/* True for formats whose output is bytes from the network (not for a terminal). */
bool export_format_binary(enum export_format f);

struct export_config {
    const struct http_limits *limits; /* de-chunking bodies */
    size_t decode_max;                /* cap on a decoded body */
    const char *body_path; /* curl: the file named by --data-binary @FILE when the request body
                              cannot stay inline (NULL: "body.bin") */
    bool body_beside;      /* curl: the command is a file in the directory of body_path: it
                              starts with a #! line for bash and names the body by its last
                              component in the directory of the running script ($0), so it works
                              from any directory ("." when pasted) */
};

struct export_result {
    bool partial;   /* the exchange lacks bytes (truncated, gaps): the output lacks them too */
    bool body_file; /* curl: the command reads the request body from cfg->body_path; write the
                       request-body export there */
    char note[512]; /* how the output differs from the original, "" when it does not */
};

/*
 * Appends ex in format f to out. Returns 0, or -1 with the reason in res->note when ex has
 * nothing to export in that form (no request for curl, no response for raw-response) or out's
 * maximum was reached (out is then left as it was).
 */
int export_render(struct dynbuf *out, const struct exchange *ex, enum export_format f,
                  const struct export_config *cfg, struct export_result *res);

/*
 * Appends the OSC 52 sequence that sets the clipboard to p[0..n) (ESC ] 52 ; c ; base64 BEL),
 * wrapped for tmux's passthrough (ESC P tmux; ... ESC \) when tmux is set. Returns 0, or -1
 * when n is over EXPORT_OSC52_MAX or out cannot hold it (out left as it was).
 */
int export_osc52(struct dynbuf *out, const uint8_t *p, size_t n, bool tmux);

#endif
