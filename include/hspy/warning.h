/*
 * warning: the catalogue of deviations hspy reports. Every deviation from RFC 9110/9111/9112
 * that the engine tolerates, and every place where evidence is missing (capture gaps, caps),
 * is one stable code. Codes are part of hspy's interface (JSON, HAR, filters, lint exit
 * status): names never change meaning; new ones are appended.
 */
#ifndef HSPY_WARNING_H
#define HSPY_WARNING_H

#include <stdbool.h>
#include <stdint.h>

#include "hspy/side.h"

/* X(ENUM, "name"): the enum is W_<ENUM>; the name is what users see and filter on. */
#define WARNING_CODES(X)                                                                           \
    /* framing */                                                                                  \
    X(CL_AND_TE, "cl-and-te")                                                                      \
    X(CL_DUPLICATE, "cl-duplicate")                                                                \
    X(CL_CONFLICT, "cl-conflict")                                                                  \
    X(CL_LIST, "cl-list")                                                                          \
    X(CL_INVALID, "cl-invalid")                                                                    \
    X(CL_OVERFLOW, "cl-overflow")                                                                  \
    X(TE_NOT_CHUNKED_LAST, "te-not-chunked-last")                                                  \
    X(TE_UNKNOWN, "te-unknown-coding")                                                             \
    X(TE_CHUNKED_TWICE, "te-chunked-twice")                                                        \
    X(TE_HTTP10, "te-in-http10")                                                                   \
    X(TE_OBFUSCATED, "te-obfuscated")                                                              \
    /* line structure */                                                                           \
    X(BARE_LF, "bare-lf")                                                                          \
    X(BARE_CR, "bare-cr")                                                                          \
    X(OBS_FOLD, "obs-fold")                                                                        \
    X(WS_BEFORE_COLON, "ws-before-colon")                                                          \
    X(WS_AFTER_START_LINE, "ws-after-start-line")                                                  \
    X(LEADING_EMPTY_LINES, "leading-empty-lines")                                                  \
    X(NO_COLON, "header-without-colon")                                                            \
    X(EMPTY_NAME, "empty-header-name")                                                             \
    /* characters */                                                                               \
    X(NAME_CHAR, "invalid-name-char")                                                              \
    X(VALUE_CHAR, "invalid-value-char")                                                            \
    X(METHOD_CHAR, "invalid-method")                                                               \
    X(TARGET_CHAR, "invalid-target")                                                               \
    X(VERSION_INVALID, "invalid-version")                                                          \
    X(STATUS_INVALID, "invalid-status")                                                            \
    X(REASON_CHAR, "invalid-reason")                                                               \
    X(START_LINE_WS, "start-line-whitespace")                                                      \
    X(NUL_BYTE, "nul-byte")                                                                        \
    /* semantics */                                                                                \
    X(NAME_TYPO, "header-name-typo")                                                               \
    X(HOST_MISSING, "host-missing")                                                                \
    X(HOST_DUPLICATE, "host-duplicate")                                                            \
    X(HOST_MISMATCH, "host-mismatch")                                                              \
    X(HTTP09, "http09")                                                                            \
    X(HEAD_TOO_LARGE, "head-too-large")                                                            \
    X(TOO_MANY_HEADERS, "too-many-headers")                                                        \
    /* chunked bodies */                                                                           \
    X(CHUNK_SIZE_INVALID, "chunk-size-invalid")                                                    \
    X(CHUNK_SIZE_OVERFLOW, "chunk-size-overflow")                                                  \
    X(CHUNK_SIZE_TOO_LONG, "chunk-size-too-long")                                                  \
    X(CHUNK_MISSING_CRLF, "chunk-missing-crlf")                                                    \
    X(CHUNK_EXT_TOO_LONG, "chunk-ext-too-long")                                                    \
    X(CHUNK_EXT_INVALID, "chunk-ext-invalid")                                                      \
    X(TRAILER_FORBIDDEN, "trailer-forbidden")                                                      \
    /* message sequence */                                                                         \
    X(BODY_FORBIDDEN, "body-on-bodiless-response")                                                 \
    X(EXTRA_BYTES, "bytes-after-message")                                                          \
    X(RESPONSE_WITHOUT_REQUEST, "response-without-request")                                        \
    X(EOF_MID_MESSAGE, "eof-mid-message")                                                          \
    X(TUNNEL_EARLY_DATA, "tunnel-early-data")                                                      \
    X(TOO_MANY_INTERIM, "too-many-interim")                                                        \
    X(UNEXPECTED_100, "unexpected-100-continue")                                                   \
    /* capture evidence */                                                                         \
    X(CAPTURE_GAP, "capture-gap")                                                                  \
    X(RETRANSMIT_DIFFERS, "retransmit-differs")                                                    \
    X(SNAPLEN_TRUNCATED, "snaplen-truncated")                                                      \
    X(MIDSTREAM, "midstream-start")                                                                \
    /* content coding */                                                                           \
    X(DECODE_ERROR, "decode-error")                                                                \
    X(DECODE_LIMIT, "decode-limit")                                                                \
    X(CE_UNKNOWN, "unknown-content-coding")                                                        \
    /* live peers (listen and proxy) */                                                            \
    X(UPSTREAM_ERROR, "upstream-error")                                                            \
    X(CLIENT_ABORT, "client-abort")                                                                \
    X(TIMEOUT, "timeout")                                                                          \
    /* caching (RFC 9111) */                                                                       \
    X(CACHE_DATE_INVALID, "cache-date-invalid")                                                    \
    X(CACHE_AGE_INVALID, "cache-age-invalid")                                                      \
    X(CACHE_DIRECTIVE_INVALID, "cache-directive-invalid")                                          \
    X(CACHE_DIRECTIVE_TYPO, "cache-directive-typo")                                                \
    X(CACHE_DIRECTIVE_DUPLICATE, "cache-directive-duplicate")                                      \
    X(CACHE_DIRECTIVES_CONFLICT, "cache-directives-conflict")                                      \
    X(CACHE_DIRECTIVE_MISPLACED, "cache-directive-misplaced")                                      \
    X(CACHE_FIELD_DUPLICATE, "cache-field-duplicate")                                              \
    X(CACHE_EXPIRES_MAXAGE_DISAGREE, "cache-expires-maxage-disagree")                              \
    X(CACHE_MUST_REVALIDATE_NO_LIFETIME, "cache-must-revalidate-without-lifetime")                 \
    X(CACHE_NO_CACHE_PRIVATE_DATA, "cache-no-cache-private-data")                                  \
    X(CACHE_SHARED_SET_COOKIE, "cache-shared-set-cookie")                                          \
    X(CACHE_PRAGMA_IN_RESPONSE, "cache-pragma-in-response")                                        \
    X(CACHE_VARY_STAR, "cache-vary-star")                                                          \
    X(CACHE_ETAG_INVALID, "cache-etag-invalid")                                                    \
    X(CACHE_304_UNCONDITIONAL, "cache-304-unconditional")                                          \
    X(CACHE_304_WITHOUT_VALIDATORS, "cache-304-without-validators")                                \
    X(CACHE_304_MISMATCH, "cache-304-validator-mismatch")                                          \
    /* intercept */                                                                                \
    X(HOLD_TIMEOUT, "hold-timeout")                                                                \
    X(KILLED, "killed")

enum warning_code {
    W_NONE = 0,
#define WARNING_ENUM(e, name) W_##e,
    WARNING_CODES(WARNING_ENUM)
#undef WARNING_ENUM
        W__COUNT
};

struct warning {
    uint16_t code;      /* enum warning_code */
    uint8_t side;       /* enum side: whose bytes the offset counts */
    uint64_t offset;    /* byte offset in that side's bytes of the exchange (see struct message) */
    const char *detail; /* specific text ("did you mean Content-Length?"), or NULL; owned by the
                           exchange's arena */
};

/* Stable short name ("cl-and-te"); "?" for an unknown code. */
const char *warning_name(enum warning_code code);
/* One-line explanation: what was seen, and how a strict and a lenient reader frame it. */
const char *warning_explain(enum warning_code code);
/* Code for a name, or W_NONE. */
enum warning_code warning_by_name(const char *name);
/*
 * True for the codes a request head (or its chunked body's size lines and trailer section,
 * whose field lines are judged as a head's) can carry when another HTTP reader may split its
 * bytes differently: where a field line or the head ends (bare CR or LF, obs-fold, whitespace
 * before a colon or after the start line, a line without a colon, odd characters in a name or
 * value, a NUL, a version that is not HTTP/1.x, fields past the parser's limits, a name one letter
 * off a known one), or how long the body is (every Content-Length and Transfer-Encoding
 * code, and every chunk size line or chunk end that is not as RFC 9112 writes it: leading
 * zeros, whitespace or odd bytes after the size, a chunk not ended by CRLF). hspy frames such a
 * request its own lenient way; an upstream that frames it another way is out of step with hspy
 * after it, so a proxy must not give that connection, or the client's, to anybody else (request
 * smuggling).
 */
bool warning_risks_desync(enum warning_code code);

#endif
