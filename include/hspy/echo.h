/*
 * echo: the JSON description of a request that `hspy listen` sends back to clients asking for
 * application/json, in the spirit of httpbin's /anything.
 *
 *   {"method", "target", "path", "args", "http_version", "headers": [[name, value], ...],
 *    "url", "origin", "client", "body" | "body_base64", "body_size", "body_truncated",
 *    "body_sha256", "form", "files", "json", "trailers": [[name, value], ...],
 *    "chunk_extensions": [{"chunk", "size", "extensions", "cut"}, ...],
 *    "chunk_extensions_unlisted"}
 *
 * Header values and text that are not valid UTF-8 are carried as Latin-1 (each byte one code
 * point), so the JSON stays valid and no byte is lost. "trailers" holds the fields of a chunked
 * body's trailer section (message.trailer), empty when there were none; "chunk_extensions" the
 * extensions of its first size lines that had any (message.chunk_ext), and
 * "chunk_extensions_unlisted" how many more had some.
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

/* What the text echo puts between the payload and the trailer section it shows after it. */
#define ECHO_TRAILER_MARK "\r\n-- trailer section --\r\n"
/* ... and between the payload and the chunk extensions it shows before the trailer section. */
#define ECHO_CHUNK_EXT_MARK "\r\n-- chunk extensions --\r\n"

/* The most bytes echo_text_trailer appends for m. */
size_t echo_text_trailer_max(const struct message *m);

/*
 * The text echo's account of what a chunked body carried besides its payload, appended to out:
 * nothing when m has no chunk extensions and no trailer fields. Chunk extensions come first,
 * after ECHO_CHUNK_EXT_MARK, a line each (message_chunk_ext_text: escaped for eyes, as they are
 * hspy's account of the size lines, not their bytes); then the trailer section, after
 * ECHO_TRAILER_MARK (without its leading line end when extensions came before), its field lines
 * as received (their bytes untouched, as the echoed head's); ending in a line end.
 */
void echo_text_trailer(const struct message *m, struct dynbuf *out);

/* The forms the echo answers in. */
enum echo_form {
    ECHO_FORM_TEXT, /* text/plain: the request head as received, then its body */
    ECHO_FORM_JSON, /* application/json: echo_json's document */
};

/*
 * The form an Accept field value (accept[0..len), no NUL needed) asks for, by RFC 9110 12.5.1:
 * each form takes the weight (q, default 1) of the most specific media range that matches it
 * (for text: text/plain, then the text/ wildcard, then the full wildcard; for JSON:
 * application/json, then any +json type, then the application/ wildcard, then the full
 * wildcard; among equally specific ranges the highest weight), and no matching range or q=0
 * makes it unacceptable. The heavier form wins; on a tie JSON
 * when its weight comes from a range naming JSON, text otherwise; when neither is acceptable,
 * text (the echo answers rather than 406). Elements with a malformed weight are ignored. Pure.
 */
enum echo_form echo_negotiate(const char *accept, size_t len);

/*
 * True when the request's Accept fields (all of them, as one list) choose JSON by
 * echo_negotiate; false without an Accept field.
 */
bool echo_wants_json(const struct exchange *ex);

#endif
