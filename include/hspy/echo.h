/*
 * echo: the JSON description of a request that `hspy listen` sends back to clients asking for
 * application/json, in the spirit of httpbin's /anything.
 *
 *   {"method", "target", "path", "args", "http_version", "headers": [[name, value], ...],
 *    "url", "origin", "client", "body" | "body_base64", "body_size", "body_truncated",
 *    "body_sha256", "form", "files", "json"}
 *
 * Header values and text that are not valid UTF-8 are carried as Latin-1 (each byte one code
 * point), so the JSON stays valid and no byte is lost.
 */
#ifndef HSPY_ECHO_H
#define HSPY_ECHO_H

#include <stdbool.h>
#include <stddef.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"

/*
 * Appends the JSON object for ex's request (head parsed; body as kept in the exchange) to out.
 * Returns 0, or -1 when out's maximum was too small (out then holds a cut document).
 */
int echo_json(const struct exchange *ex, const struct http_limits *limits, struct dynbuf *out);

/* True when the request's Accept header asks for JSON (application/json or a +json type). */
bool echo_wants_json(const struct exchange *ex);

#endif
