/*
 * http: the HTTP/1.x head parser and the message-length rules of RFC 9112 section 6.
 *
 * The parser is a pure function over a caller's buffer, in the manner of picohttpparser: it
 * returns how many bytes the head took, "need more" or an error, and its results are spans
 * (offset, length) into that buffer, so nothing is copied and the spans stay valid when the
 * caller moves the bytes (spans are relative). It is lenient: every deviation from RFC 9110 and
 * RFC 9112 is reported as a warning with its offset and parsing goes on; only input that cannot
 * be a start line at all is an error.
 *
 * Feeding a head whole, byte by byte or split anywhere gives identical results: the parser
 * shows the field lines only once the end of the head has been found (struct http_scan
 * remembers how far the search got, and the lines parsed ahead when many bytes came at once,
 * so repeated calls cost O(new bytes) and no line is parsed twice).
 */
#ifndef HSPY_HTTP_H
#define HSPY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hspy/warning.h"

enum http_kind { HTTP_REQUEST = 0, HTTP_RESPONSE = 1 };

enum http_result {
    HTTP_NEED_MORE = -1, /* no complete head yet */
    HTTP_INVALID = -2,   /* the bytes cannot be an HTTP start line (cannot frame) */
    HTTP_TOO_LARGE = -3, /* no end of head within limits.head_max bytes */
};

/* Named limits. Defaults are HTTP_LIMITS_DEFAULT; all are configurable from the CLI. */
struct http_limits {
    uint32_t head_max;         /* bytes of a head, start line to empty line (default 64 KiB) */
    uint32_t headers_max;      /* header fields kept per head (default 256); more are counted */
    uint32_t chunk_digits_max; /* hex digits of a chunk size, leading zeros included (16) */
    uint32_t chunk_ext_max;    /* bytes of chunk extensions on one chunk line (4 KiB) */
};
#define HTTP_HEAD_MAX_DEFAULT     65536u
#define HTTP_HEADERS_MAX_DEFAULT  256u
#define HTTP_CHUNK_DIGITS_DEFAULT 16u
#define HTTP_CHUNK_EXT_DEFAULT    4096u
#define HTTP_LIMITS_DEFAULT                                                                        \
    {                                                                                              \
        HTTP_HEAD_MAX_DEFAULT, HTTP_HEADERS_MAX_DEFAULT, HTTP_CHUNK_DIGITS_DEFAULT,                \
            HTTP_CHUNK_EXT_DEFAULT                                                                 \
    }

struct http_span {
    uint32_t off; /* relative to the buffer the parser was given */
    uint32_t len;
};

/* Fields the engine itself interprets; everything else is HF_OTHER. */
enum http_field {
    HF_OTHER = 0,
    HF_CONTENT_LENGTH,
    HF_TRANSFER_ENCODING,
    HF_HOST,
    HF_CONNECTION,
    HF_EXPECT,
    HF_UPGRADE,
    HF_CONTENT_TYPE,
    HF_CONTENT_ENCODING,
    HF_TRAILER,
    HF_TE,
    HF_KEEP_ALIVE,
    HF_PROXY_CONNECTION,
    HF__COUNT
};

enum http_header_flag {
    HDR_FOLDED = 1 << 0,          /* value continues on obs-fold lines (value span covers them) */
    HDR_WS_BEFORE_COLON = 1 << 1, /* name span excludes the whitespace */
    HDR_BAD_NAME = 1 << 2,        /* name has characters outside tchar */
    HDR_BAD_VALUE = 1 << 3,       /* value has control characters */
    HDR_NO_COLON = 1 << 4,        /* line had no colon: name is empty, value is the line */
};

struct http_header {
    struct http_span name;  /* as sent */
    struct http_span value; /* without leading and trailing whitespace */
    uint32_t line;          /* offset of the field line */
    uint16_t flags;         /* enum http_header_flag */
    uint16_t field;         /* enum http_field */
};

enum http_head_flag {
    HEAD_HTTP09 = 1 << 0,         /* request line without a version */
    HEAD_ABSOLUTE_FORM = 1 << 1,  /* target is "scheme://authority..." */
    HEAD_AUTHORITY_FORM = 1 << 2, /* target is "host:port" (CONNECT) */
    HEAD_ASTERISK_FORM = 1 << 3,
    HEAD_TRUNCATED = 1 << 4, /* head_max reached: fields after the limit are not parsed */
    HEAD_BARE_LF = 1 << 5,   /* at least one line ended in bare LF */
};

struct http_head {
    uint8_t kind;                    /* enum http_kind */
    uint8_t major, minor;            /* 1.1, 1.0; 0.9 for HTTP/0.9 requests; 0.0 when unreadable */
    uint16_t status;                 /* responses: 0-999 (0 when unreadable) */
    uint16_t flags;                  /* enum http_head_flag */
    struct http_span method, target; /* requests */
    struct http_span version;        /* "HTTP/1.1" as sent (empty for HTTP/0.9) */
    struct http_span reason;         /* responses */
    uint32_t start;                  /* offset of the start line (after leading empty lines) */
    uint32_t len;                    /* bytes of the head including the empty line, from offset 0 */
    struct http_header *headers;     /* caller's array of cap entries */
    uint32_t cap;
    uint32_t nheaders;              /* stored (<= cap) */
    uint32_t total_headers;         /* seen, including those past cap */
    int32_t field_index[HF__COUNT]; /* index of the first header of each known field, or -1 */
    uint8_t field_count[HF__COUNT]; /* headers of each known field kept (saturates at 255) */
};

/* A warning as the parser reports it, before it is attached to an exchange. */
struct http_warn {
    uint16_t code;        /* enum warning_code */
    uint16_t field;       /* enum http_field the warning is about (typo target), or 0 */
    uint32_t off;         /* offset in the parsed buffer */
    struct http_span arg; /* the offending text (a field name, a value), may be empty */
};

enum { HTTP_WARN_MAX = 32 };

struct http_warnings {
    struct http_warn w[HTTP_WARN_MAX];
    uint16_t n;
    uint16_t dropped; /* warnings past HTTP_WARN_MAX */
};

/*
 * Progress through a head across calls; zero-initialise before the first call. In the start line
 * state, pos is the first line not parsed yet and the search for its LF resumes at lf_from. In
 * the field lines state, pos is the first field line and the search for the end of the head (a
 * LF followed by a CR or a LF) resumes at lf_from. wait_lf or wait_end (at most one is set)
 * supersedes lf_from.
 */
struct http_scan {
    uint32_t pos;
    uint32_t lf_from;
    /* 1 + the offset from which new bytes matter only through their LFs, in the field lines
     * state (a LF and the byte after it); 0 when the next call must look closer. Kept apart from
     * wait_lf so that the inline check of a field lines piece tests no state. */
    uint32_t wait_end;
    /* The same in the start line state (any LF); 0 in the other states. */
    uint32_t wait_lf;
    uint8_t state;   /* enum http_scan_state */
    uint8_t started; /* the head was reset by the first call */
    /* Field lines parsed ahead of the end of the head and put aside (the head shows none until
     * it is complete): the lines before kept_at, as they left the head's count, flags and
     * warnings. Their entries stay in head->headers and w->w past the counts shown, so the call
     * that finds the end of the head parses on from kept_at instead of from pos. 0: none. */
    uint32_t kept_at;
    uint32_t kept_headers, kept_total;
    uint16_t kept_flags, kept_warn_n, kept_warn_dropped;
};

enum http_scan_state { HTTP_SCAN_START_LINE = 0, HTTP_SCAN_FIELDS, HTTP_SCAN_DONE };

void http_warnings_add(struct http_warnings *w, enum warning_code code, uint32_t off,
                       struct http_span arg, uint16_t field);

/*
 * Parses the head at the start of buf (len bytes). head->headers and head->cap must be set by
 * the caller. Returns the head length (> 0, equal to head->len) once the whole head is in buf,
 * HTTP_NEED_MORE until then, HTTP_TOO_LARGE when limits->head_max bytes hold no end of head,
 * HTTP_INVALID when the first line cannot be a start line of this kind. scan may be NULL (the
 * buffer is then parsed from its start); with a scan, the caller calls again with the same
 * head, w and scan and a longer buffer whose earlier bytes are unchanged (the buffer may have
 * moved), and only new bytes are looked at. Warnings are appended to w (may be NULL). limits
 * may be NULL (defaults).
 *
 * The start line is judged and parsed as soon as its line is complete (HTTP_INVALID at once for
 * another protocol). The field lines are shown only once the end of the head is in buf: on
 * HTTP_NEED_MORE the head holds the start line (once complete) and no field lines, and w holds
 * only the start line's warnings, however the bytes were split. (Lines parsed ahead, when many
 * bytes came at once, are kept aside in scan and not parsed again.) On HTTP_TOO_LARGE the complete
 * lines within head_max are parsed and HEAD_TRUNCATED is set, so what was seen can still be
 * shown. The header count limit (headers_max) is applied when the field lines are parsed.
 */
int http_head_parse_full(const uint8_t *buf, size_t len, enum http_kind kind,
                         const struct http_limits *limits, struct http_scan *scan,
                         struct http_head *head, struct http_warnings *w);

/* True when p[0..n) holds a LF. */
static inline bool http_has_lf(const uint8_t *p, size_t n)
{
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n');
    while (n >= 16) {
        if (_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), lf)))
            return true;
        p += 16;
        n -= 16;
    }
#endif
    return n && memchr(p, '\n', n) != NULL;
}

/*
 * True when buf[from..len) holds a LF (from < len). A piece of at most 16 bytes in a buffer of at
 * least 16 is looked at with one load of the 16 bytes that end at len.
 */
static inline bool http_has_lf_from(const uint8_t *buf, size_t from, size_t len)
{
#ifdef __SSE2__
    if (len - from <= 16 && len >= 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(buf + len - 16)), _mm_set1_epi8('\n')));
        return (m >> (16 - (len - from))) != 0;
    }
#endif
    return http_has_lf(buf + from, len - from);
}

/*
 * The usual entry point (see http_head_parse_full). Inline so that a caller feeding small
 * pieces pays only a look at the new bytes while they cannot end the start line or the head:
 * a piece of at most 16 bytes (from the offset the scan waits at) is looked at with one load
 * for a LF (start line), or with two overlapping loads for a LF and the byte after it (field
 * lines), without a branch per LF.
 */
static inline int http_head_parse(const uint8_t *buf, size_t len, enum http_kind kind,
                                  const struct http_limits *limits, struct http_scan *scan,
                                  struct http_head *head, struct http_warnings *w)
{
    if (scan) {
        size_t head_max = limits ? limits->head_max : HTTP_HEAD_MAX_DEFAULT;
#ifdef __SSE2__
        /* Field lines state (tested first, and without a test of the state: wait_end is 0 in
         * the others). The LFs among the 16 bytes at len - 17 are looked at, each with the byte
         * after it, when they include the first one not looked at yet (wait_end - 1): len - 17
         * < wait_end, which also needs len >= 17 and never holds when wait_end is 0 (not
         * waiting). No LF followed by a byte in 0x08-0x0f (CR and LF, and controls rare after a
         * LF) decides nothing, and the search waits from the last byte, whose next byte has not
         * come. Bytes already looked at may be looked at again (a call with no new bytes looks
         * only at those): at worst that sends a call to the parser, which decides exactly. */
        if (len < head_max) {
            if ((uint32_t)len - 17 < scan->wait_end) {
                const uint8_t *p = buf + len - 17;
                __m128i lfs = _mm_loadu_si128((const __m128i *)(const void *)p);
                __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
                unsigned lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(lfs, _mm_set1_epi8('\n')));
                unsigned ctl = (unsigned)_mm_movemask_epi8(
                    _mm_cmpeq_epi8(_mm_or_si128(next, _mm_set1_epi8(0x07)), _mm_set1_epi8(0x0f)));
                if (__builtin_expect(!(lf & ctl), 1)) {
                    scan->wait_end = (uint32_t)len;
                    return HTTP_NEED_MORE;
                }
                return http_head_parse_full(buf, len, kind, limits, scan, head, w);
            }
            /* Start line state: the 16 bytes ending at len, when they hold every byte from the
             * first one not looked at (wait_lf - 1) on, decide nothing unless they hold a LF. */
            if ((uint32_t)len - 16 < scan->wait_lf) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + len - 16));
                if (!_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')))) {
                    scan->wait_lf = (uint32_t)len + 1;
                    return HTTP_NEED_MORE;
                }
                return http_head_parse_full(buf, len, kind, limits, scan, head, w);
            }
        }
#endif
        /* from is UINT32_MAX when neither wait is set (not waiting): then the test below fails,
         * since no len below head_max exceeds it. */
        size_t from = (uint32_t)((scan->wait_lf | scan->wait_end) - 1);
        if (from < len && len < head_max && !http_has_lf_from(buf, from, len)) {
            if (scan->state == HTTP_SCAN_FIELDS)
                scan->wait_end = (uint32_t)len + 1;
            else
                scan->wait_lf = (uint32_t)len + 1;
            return HTTP_NEED_MORE;
        }
    }
    return http_head_parse_full(buf, len, kind, limits, scan, head, w);
}

/*
 * Cheap content sniffing for captures: returns 1 when buf starts like an HTTP message of this
 * kind (a method and a space, or "HTTP/"), 0 when it cannot, -1 when more bytes are needed.
 */
int http_looks_like(const uint8_t *buf, size_t len, enum http_kind kind);

/*
 * Finds the next position in buf where a message of this kind plausibly starts (a start line
 * at the beginning of a line), for resynchronising after a gap. Returns its offset, or len
 * when there is none (keeping at most the last line's bytes undecided: see *keep).
 */
size_t http_resync(const uint8_t *buf, size_t len, enum http_kind kind, size_t *keep);

/*
 * The request line at the start of buf (len bytes a client sent) read without parsing, for a
 * head not parsed (still arriving, over the head limit, or not read at all): after any empty
 * lines, the method is the text before the first space and the target the text after it, up to
 * the next space or the line's end (cut where buf ends). Returns false when no space follows a
 * method yet; else sets the spans (relative to buf) and *whole, true when the line's LF is in
 * buf. Never reads past buf + len.
 */
bool http_peek_request_line(const uint8_t *buf, size_t len, struct http_span *method,
                            struct http_span *target, bool *whole);

/*
 * The value of a field of a head not parsed (still arriving, over the head limit), read from
 * buf (len bytes, the head's start) without parsing: the first field line named name (lower
 * case; the name at the line's start, the colon right after it) among the whole lines (their
 * LF in buf) after the start line and before an empty line. The value is trimmed of the
 * whitespace around it; a line an obs-fold line continues gives nothing (its value is not
 * known whole). Returns false when there is none; else sets *value (relative to buf). Never
 * reads past buf + len.
 */
bool http_peek_field(const uint8_t *buf, size_t len, const char *name, struct http_span *value);

/*
 * The form of the request target t[0..n) (RFC 9112 3.2) as an enum http_head_flag bit:
 * HEAD_ABSOLUTE_FORM ("scheme://..."), HEAD_AUTHORITY_FORM ("host:port"), HEAD_ASTERISK_FORM
 * ("*"), or 0 (the origin form, or none of them). What the parser sets in a head's flags, and
 * what a target read by http_peek_request_line is taken for.
 */
unsigned http_target_form(const uint8_t *t, size_t n);

/*
 * True when buf (len bytes a client sent, not parsed) begins with a whole request line, its LF
 * included, whose method is HEAD (case-sensitive, as methods are: RFC 9110 9.1). What hspy's
 * answer to a head it did not parse goes by: a line still arriving tells nothing for sure, and
 * gives false.
 */
bool http_request_line_is_head(const uint8_t *buf, size_t len);

/*
 * Judges the field lines of a chunked body's trailer section, buf[0..len) (complete lines, the
 * empty line that ends the section left out), as the head's field lines are judged, and
 * appends the warnings to w with offsets in buf: a CR not before the LF (bare-cr), a line
 * starting with whitespace (obs-fold, the first line's too: there is nothing it may continue),
 * whitespace before a colon, a line without a colon, an empty or invalid name, control bytes in
 * a value, a NUL byte (nul-byte, once, as in a head: http_nul_count lists them). What a
 * trailer's fields mean is not judged here (a name near a framing field frames nothing in a
 * trailer; the trailer's size is the chunked decoder's limit), nor its line ends (bare-lf: the
 * decoder judges each as it comes). Pure.
 */
void http_trailer_check(const uint8_t *buf, size_t len, struct http_warnings *w);

/* How many NUL byte offsets http_nul_count hands back (what a nul-byte warning lists). */
enum { HTTP_NUL_SHOWN_MAX = 8 };

/*
 * The NUL bytes of buf[0..len) (a head's bytes, so len is bounded by the head limit): returns
 * how many there are and puts the offsets of the first HTTP_NUL_SHOWN_MAX of them (fewer when
 * there are fewer) in at[], in order. One look at each byte, nothing kept per NUL past those
 * offsets: a head of NUL bytes costs what scanning it costs. Pure.
 */
uint32_t http_nul_count(const uint8_t *buf, size_t len, uint32_t at[HTTP_NUL_SHOWN_MAX]);

/* The span of buf equals text exactly. Inline: with a literal, the length test comes first. */
static inline bool http_span_eq(const uint8_t *buf, struct http_span s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && (n == 0 || memcmp(buf + s.off, text, n) == 0);
}
/* Case-insensitive comparison of a span of buf with text. */
bool http_span_ieq(const uint8_t *buf, struct http_span s, const char *text);

/*
 * Whether word a equals the lower-case literal word b in any case. Folding with | 0x20 maps a
 * control byte onto '-' or a digit (CR onto '-'): those are the literal's bytes without 0x40
 * (letters have it), where a must match exactly.
 */
static inline bool http_token_word_eq(uint64_t a, uint64_t b)
{
    const uint64_t fold = 0x2020202020202020ull, letter = 0x4040404040404040ull;
    return (a | fold) == b && ((a ^ b) & ((~b & letter) >> 1)) == 0;
}

/*
 * p[0..n) equals lower (lower_len bytes of lower-case letters, digits and '-') in any case.
 * Inline: with a literal, the words of lower and their masks are constants.
 */
static inline bool http_token_ieq(const uint8_t *p, size_t n, const char *lower, size_t lower_len)
{
    if (n != lower_len)
        return false;
    /* Short words are padded with the same bytes on both sides. */
    uint64_t a = 0x2020202020202020ull, b = a;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&a, p + i, 8);
            memcpy(&b, lower + i, 8);
            if (!http_token_word_eq(a, b))
                return false;
        }
        /* The last 8 bytes, overlapping what the loop compared. */
        memcpy(&a, p + n - 8, 8);
        memcpy(&b, lower + n - 8, 8);
        return http_token_word_eq(a, b);
    }
    memcpy(&a, p, n);
    memcpy(&b, lower, n);
    return http_token_word_eq(a, b);
}
/* Known-field id for a name. */
enum http_field http_field_id(const uint8_t *name, size_t len);
/* The canonical spelling of a known field ("Content-Length"). */
const char *http_field_name(enum http_field f);

/* Value of the first header of a known field, or NULL (len set to 0). */
const uint8_t *http_head_field(const uint8_t *buf, const struct http_head *h, enum http_field f,
                               size_t *len);
/* Value of the first header whose name equals name (case-insensitive), or NULL. */
const uint8_t *http_head_find(const uint8_t *buf, const struct http_head *h, const char *name,
                              size_t *len);
/* True when a comma-separated header list (all headers of that field) has token (any case). */
bool http_head_has_token(const uint8_t *buf, const struct http_head *h, enum http_field f,
                         const char *token);

#endif
