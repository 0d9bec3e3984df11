/*
 * har: HAR 1.2 (the HTTP Archive format browsers, mitmproxy and Charles read) built from
 * exchanges. Pure builders, no files: each entry is described once as jsonwrite calls, written
 * straight to text in the caller's buffer for streamed documents (no jansson tree per entry) or
 * built as a jansson value by the same calls. The sinks and the TUI's save stream a document
 * entry by entry.
 *
 * Standard fields are filled the way browsers fill them (absolute URL, decoded response text,
 * base64 for binary). Every entry also carries an "_hspy" object with what HAR has no place
 * for but hspy needs to show the exchange again exactly as it crossed the wire: the raw bytes
 * of both sides (base64), wire and kept sizes, framing facts, interim responses, gaps, flags,
 * warnings, tunnel byte counts and every phase time in ns. docs/har.md documents each field;
 * HAR import reads them back.
 */
#ifndef HSPY_HAR_H
#define HSPY_HAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"
#include "hspy/jsonout.h"

/* Version of the "_hspy" custom fields (log._hspy.version and entries[]._hspy.version). */
enum { HAR_HSPY_VERSION = 1 };

/* Significant digits of HAR's reals (times in ms), so they print without float noise. */
enum { HAR_REAL_PRECISION = 15 };
/* jansson dump flags giving the same text as the streamed entries (for json_dump_file). */
#define HAR_DUMP_FLAGS (JSONOUT_DUMP_FLAGS | JSON_REAL_PRECISION(HAR_REAL_PRECISION))

/* Closes a document begun by har_stream_begin. */
#define HAR_STREAM_END "\n]}}\n"

struct har_config {
    const struct http_limits *limits; /* for removing chunked framing */
    size_t decode_max;                /* cap on response.content.text (the decoded body) */
    const char *pageref;              /* entries' pageref, or NULL for none */
};

/* {"name": "hspy", "version": ...}. New reference. */
json_t *har_creator(void);

/* A page: {"startedDateTime", "id", "title", "pageTimings": {}}. New reference. */
json_t *har_page(const char *id, const char *title, int64_t started_ns);

/* One entries[] element for ex as a jansson value: the tree of the calls har_stream_entry writes
 * as text, so jsonwrite_value(out, entry, HAR_REAL_PRECISION) gives the same bytes. New
 * reference; reads ex only. */
json_t *har_entry(const struct exchange *ex, const struct har_config *cfg);

/*
 * A whole document {"log": {version, creator, pages, entries, _hspy}}. Steals the references
 * to pages (NULL: an empty list) and entries (NULL: an empty list). New reference.
 */
json_t *har_document(json_t *pages, json_t *entries);

/*
 * Streaming, for files written while exchanges complete: har_stream_begin appends the document
 * up to and including `"entries":[`, har_stream_entry appends one entry (with the separator it
 * needs; first says whether it is the first), and HAR_STREAM_END closes the document. Each
 * returns 0, or -1 when out's maximum could not hold the text (out left as it was). pages is
 * borrowed and may be NULL.
 */
int har_stream_begin(struct dynbuf *out, const json_t *pages);
int har_stream_entry(struct dynbuf *out, const struct exchange *ex, const struct har_config *cfg,
                     bool first);

/*
 * The absolute URL of ex's request ("http://" + Host + target; the target itself when it is in
 * absolute form). A head not parsed (it never finished) gives the URL of its target as far as it
 * arrived, with the server's address for the host; "about:blank" when no method and target
 * arrived. Bytes that may not appear in a URI are percent-encoded. Appends to out; returns out's
 * text.
 */
const char *har_url(struct dynbuf *out, const struct exchange *ex);

#endif
