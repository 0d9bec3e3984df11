/*
 * warning owns the catalogue of warning codes: their stable names and explanations. It keeps
 * no state; every function is a lookup.
 */
#include "hspy/warning.h"

#include <string.h>

static const char *const NAMES[W__COUNT] = {[W_NONE] = "none",
#define WARNING_NAME(e, name) [W_##e] = name,
                                            WARNING_CODES(WARNING_NAME)
#undef WARNING_NAME
};

/* Explanations say what was seen and, where readers disagree, how each would frame it. */
static const char *const EXPLAIN[W__COUNT] = {
    [W_NONE] = "no warning",
    [W_CL_AND_TE] = "Content-Length and Transfer-Encoding both present: RFC 9112 says "
                    "Transfer-Encoding wins and a server should reject the request; a reader "
                    "that trusts Content-Length frames a different body (request smuggling)",
    [W_CL_DUPLICATE] = "Content-Length repeated with the same value: lenient readers accept it, "
                       "strict ones reject the message",
    [W_CL_CONFLICT] = "Content-Length values disagree: the body length cannot be known; readers "
                      "that pick the first or the last value frame different messages",
    [W_CL_LIST] = "Content-Length given as a comma-separated list: allowed only when all members "
                  "are equal; many readers reject it",
    [W_CL_INVALID] = "Content-Length is not a plain decimal number: strict readers reject the "
                     "message, lenient ones may read a prefix of the digits",
    [W_CL_OVERFLOW] = "Content-Length does not fit in 64 bits: the body cannot be framed",
    [W_TE_NOT_CHUNKED_LAST] = "Transfer-Encoding does not end in chunked: a request cannot be "
                              "framed (servers answer 400); a response runs until close",
    [W_TE_UNKNOWN] = "Transfer-Encoding names a coding hspy does not know: readers that skip "
                     "unknown codings and readers that reject them disagree",
    [W_TE_CHUNKED_TWICE] = "chunked applied more than once: RFC 9112 forbids it; some readers "
                           "de-chunk once, others twice",
    [W_TE_HTTP10] = "Transfer-Encoding in an HTTP/1.0 message: an HTTP/1.0 reader ignores it "
                    "and frames by Content-Length or close; an HTTP/1.1 reader de-chunks",
    [W_TE_OBFUSCATED] = "Transfer-Encoding written in an unusual way (odd case, whitespace or "
                        "separators): readers that match it exactly and readers that normalise "
                        "it frame different bodies",
    [W_BARE_LF] = "line ends in LF without CR: most readers accept it, strict ones reject",
    [W_BARE_CR] = "CR not followed by LF: strict readers reject; some treat it as a line end, "
                  "others as part of the value",
    [W_OBS_FOLD] = "obsolete line folding (a line starting with space or tab continues the "
                   "previous field): readers that unfold and readers that reject disagree",
    [W_WS_BEFORE_COLON] = "whitespace between a field name and the colon: RFC 9112 requires "
                          "rejection; lenient readers strip it and see a different field name",
    [W_WS_AFTER_START_LINE] = "whitespace at the start of the first field line: a reader may "
                              "fold it into the start line or treat it as a field",
    [W_LEADING_EMPTY_LINES] = "empty lines before the start line: allowed before a request, "
                              "and ignored here",
    [W_NO_COLON] = "field line without a colon: strict readers reject the message; here the "
                   "line is kept as a nameless field and ignored for framing",
    [W_EMPTY_NAME] = "field line with an empty name (starts with a colon)",
    [W_NAME_CHAR] = "field name contains a character outside the token set",
    [W_VALUE_CHAR] = "field value contains a control character: strict readers reject it; some "
                     "cut the value there",
    [W_METHOD_CHAR] = "method is not a valid token (or not upper case)",
    [W_TARGET_CHAR] = "request target contains characters that are not allowed (spaces, "
                      "controls or non-ASCII bytes)",
    [W_VERSION_INVALID] = "HTTP version is not HTTP/1.0 or HTTP/1.1 written exactly",
    [W_STATUS_INVALID] = "status code is not three digits",
    [W_REASON_CHAR] = "reason phrase contains control characters",
    [W_START_LINE_WS] = "start line separated by something other than single spaces",
    [W_NUL_BYTE] = "NUL byte in the head or a trailer section: C-string based readers cut the "
                   "field there",
    [W_NAME_TYPO] = "field name is one or two edits away from a framing field: a strict reader "
                    "ignores it, so the framing it was probably meant to set does not apply",
    [W_HOST_MISSING] = "HTTP/1.1 request without Host: servers must answer 400",
    [W_HOST_DUPLICATE] = "Host given more than once: servers must answer 400; proxies and "
                         "origins may pick different ones",
    [W_HOST_MISMATCH] = "Host disagrees with the authority of an absolute-form target: the "
                        "target wins per RFC 9112, but some readers use Host",
    [W_HTTP09] = "HTTP/0.9 simple request or response: no version, no headers; the response "
                 "runs until close",
    [W_HEAD_TOO_LARGE] = "head larger than the configured limit: the rest of it was not parsed "
                         "(servers answer 431)",
    [W_TOO_MANY_HEADERS] = "more header fields than the configured limit: the extra fields were "
                           "counted but not kept",
    [W_CHUNK_SIZE_INVALID] = "chunk size is not a hexadecimal number: the chunked body cannot be "
                             "framed past this point",
    [W_CHUNK_SIZE_OVERFLOW] = "chunk size does not fit in 64 bits: readers that wrap around "
                              "frame a tiny chunk (request smuggling)",
    [W_CHUNK_SIZE_TOO_LONG] = "chunk size has more digits than the configured limit (leading "
                              "zeros included)",
    [W_CHUNK_MISSING_CRLF] = "chunk data not followed by CRLF: readers that skip to the next "
                             "line and readers that require CRLF disagree",
    [W_CHUNK_EXT_TOO_LONG] = "chunk extension longer than the configured limit",
    [W_CHUNK_EXT_INVALID] = "chunk extension is malformed",
    [W_TRAILER_FORBIDDEN] = "trailer field that must not appear in a trailer (framing, routing "
                            "or authentication field)",
    [W_BODY_FORBIDDEN] = "bytes after a response that cannot have a body (HEAD, 1xx, 204, 304): "
                         "a reader that honours the header's length would read them as body",
    [W_EXTRA_BYTES] = "bytes after a complete message where none may follow (connection "
                      "closing, or no request waiting)",
    [W_RESPONSE_WITHOUT_REQUEST] = "response with no request to pair it with",
    [W_EOF_MID_MESSAGE] = "connection ended in the middle of a message",
    [W_TUNNEL_EARLY_DATA] = "client sent bytes before the tunnel was confirmed",
    [W_TOO_MANY_INTERIM] = "more interim (1xx) responses than hspy keeps; the rest were counted",
    [W_UNEXPECTED_100] = "100 Continue sent although the request did not ask for it",
    [W_CAPTURE_GAP] = "bytes missing from the capture, or skipped because no message could be "
                      "framed in them: parsing resumed at the next message start, if any",
    [W_RETRANSMIT_DIFFERS] = "a retransmitted TCP segment carries different bytes than the "
                             "original: receivers may have seen either",
    [W_SNAPLEN_TRUNCATED] = "packets were cut by the capture's snap length: bytes are missing",
    [W_MIDSTREAM] = "capture started in the middle of the connection: picked up at the first "
                    "message boundary",
    [W_DECODE_ERROR] = "content coding failed to decode: the body is corrupt at the given offset",
    [W_DECODE_LIMIT] = "decoded body larger than the configured limit (possible decompression "
                       "bomb): decoding stopped there",
    [W_CE_UNKNOWN] = "Content-Encoding names a coding hspy cannot decode",
    [W_UPSTREAM_ERROR] = "the upstream server failed (refused, reset, timed out or sent an "
                         "unframeable response)",
    [W_CLIENT_ABORT] = "the client went away before the exchange completed",
    [W_TIMEOUT] = "a peer was idle longer than the configured timeout",
    [W_CACHE_DATE_INVALID] = "a date field (Date, Expires, Last-Modified, If-Modified-Since) is "
                             "not an HTTP-date: caches treat an invalid Expires as already "
                             "expired and cannot use an invalid Date or Last-Modified",
    [W_CACHE_AGE_INVALID] = "Age is not a non-negative integer: caches ignore it, so the age "
                            "they compute may be too small",
    [W_CACHE_DIRECTIVE_INVALID] = "a Cache-Control directive has a missing, quoted or "
                                  "non-numeric argument: caches are encouraged to treat invalid "
                                  "freshness information as stale, some read a prefix",
    [W_CACHE_DIRECTIVE_TYPO] = "a Cache-Control directive is a near miss of a known one: caches "
                               "ignore unknown directives, so the intended one does not apply",
    [W_CACHE_DIRECTIVE_DUPLICATE] = "a Cache-Control directive is repeated: caches use the first "
                                    "value or consider the response stale",
    [W_CACHE_DIRECTIVES_CONFLICT] = "Cache-Control directives contradict each other: caches "
                                    "honour the most restrictive one",
    [W_CACHE_DIRECTIVE_MISPLACED] = "a Cache-Control directive defined for the other direction "
                                    "(a response directive in a request, or the reverse): it "
                                    "has no effect there",
    [W_CACHE_FIELD_DUPLICATE] = "a caching field (Date, Expires, Age, ETag, Last-Modified) is "
                                "repeated with different values: caches pick different ones",
    [W_CACHE_EXPIRES_MAXAGE_DISAGREE] = "Expires and max-age give different lifetimes: HTTP/1.1 "
                                        "caches use max-age, HTTP/1.0 caches use Expires",
    [W_CACHE_MUST_REVALIDATE_NO_LIFETIME] = "must-revalidate without an explicit lifetime: "
                                            "caches fall back to a heuristic lifetime, so it "
                                            "does not force revalidation on every use "
                                            "(no-cache or max-age=0 does)",
    [W_CACHE_NO_CACHE_PRIVATE_DATA] = "no-cache on a response carrying private data (a cookie, "
                                      "or an answer to an authenticated request): no-cache lets "
                                      "caches store it and only requires revalidation; "
                                      "no-store keeps it out of caches",
    [W_CACHE_SHARED_SET_COOKIE] = "a shared cache may store and reuse this response with its "
                                  "Set-Cookie: other users may receive the cookie",
    [W_CACHE_PRAGMA_IN_RESPONSE] = "Pragma: no-cache in a response has no defined meaning: "
                                   "caches may still store and reuse it (use Cache-Control)",
    [W_CACHE_VARY_STAR] = "Vary: * means no request ever matches the stored response: it can "
                          "only be reused after revalidation",
    [W_CACHE_ETAG_INVALID] = "ETag is not a quoted entity-tag: strict caches ignore it and "
                             "cannot revalidate with it",
    [W_CACHE_304_UNCONDITIONAL] = "304 Not Modified to a request without If-None-Match or "
                                  "If-Modified-Since: the client has no stored response it "
                                  "could refer to",
    [W_CACHE_304_WITHOUT_VALIDATORS] = "304 Not Modified without the validator the request "
                                       "used: a cache cannot tell which stored response to "
                                       "freshen",
    [W_CACHE_304_MISMATCH] = "304 Not Modified although the response's validator does not "
                             "satisfy the request's condition: the client keeps a stale copy",
    [W_HOLD_TIMEOUT] = "the message was held by the intercept longer than --hold-timeout: it "
                       "went on as it was (or its connection was killed, as configured)",
    [W_KILLED] = "the connection was killed while a message was held (x in the interface, or "
                 "--hold-timeout-action kill): the peers got a reset and the held message was "
                 "not delivered",
};

const char *warning_name(enum warning_code code)
{
    if ((unsigned)code >= W__COUNT)
        return "?";
    return NAMES[code];
}

const char *warning_explain(enum warning_code code)
{
    if ((unsigned)code >= W__COUNT || !EXPLAIN[code])
        return "?";
    return EXPLAIN[code];
}

enum warning_code warning_by_name(const char *name)
{
    for (int c = 1; c < W__COUNT; c++)
        if (strcmp(NAMES[c], name) == 0)
            return (enum warning_code)c;
    return W_NONE;
}

bool warning_risks_desync(enum warning_code code)
{
    switch (code) {
    case W_CL_AND_TE:
    case W_CL_DUPLICATE:
    case W_CL_CONFLICT:
    case W_CL_LIST:
    case W_CL_INVALID:
    case W_CL_OVERFLOW:
    case W_TE_NOT_CHUNKED_LAST:
    case W_TE_UNKNOWN:
    case W_TE_CHUNKED_TWICE:
    case W_TE_HTTP10:
    case W_TE_OBFUSCATED:
    case W_BARE_LF:
    case W_BARE_CR:
    case W_OBS_FOLD:
    case W_WS_BEFORE_COLON:
    case W_WS_AFTER_START_LINE:
    case W_NO_COLON:
    case W_EMPTY_NAME:
    case W_NAME_CHAR:
    case W_VALUE_CHAR:
    case W_VERSION_INVALID:
    case W_NUL_BYTE:
    case W_NAME_TYPO:
    case W_HEAD_TOO_LARGE:
    case W_TOO_MANY_HEADERS:
    case W_CHUNK_SIZE_INVALID:
    case W_CHUNK_SIZE_OVERFLOW:
    case W_CHUNK_SIZE_TOO_LONG:
    case W_CHUNK_MISSING_CRLF:
    case W_CHUNK_EXT_TOO_LONG:
    case W_CHUNK_EXT_INVALID: return true;
    default: return false;
    }
}
