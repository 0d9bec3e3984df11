/*
 * message: one side of an exchange as it crossed the wire.
 *
 * raw holds the bytes this side sent for the exchange, in order and unchanged: on the server
 * side that is any interim (1xx) responses, then the final head, then the body exactly as
 * framed (chunk-size lines, trailers and all). raw is capped (the exchange's body_keep plus
 * the head); wire_bytes counts everything, so wire_bytes > raw.len means MSG_TRUNCATED. Parsed
 * fields are spans relative to raw.data + head_off, so they survive the buffer growing.
 */
#ifndef HSPY_MESSAGE_H
#define HSPY_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/arena.h"
#include "hspy/chunked.h"
#include "hspy/dynbuf.h"
#include "hspy/framing.h"
#include "hspy/http.h"
#include "hspy/sha256.h"

enum message_flag {
    MSG_STARTED = 1 << 0,    /* at least one byte seen */
    MSG_HEAD = 1 << 1,       /* the (final) head was parsed */
    MSG_COMPLETE = 1 << 2,   /* framing says the message ended */
    MSG_TRUNCATED = 1 << 3,  /* raw reached its cap: later bytes were counted, not kept */
    MSG_GAP = 1 << 4,        /* bytes missing from a capture inside this message */
    MSG_HTTP09 = 1 << 5,     /* HTTP/0.9: no head */
    MSG_UNPARSED = 1 << 6,   /* could not be parsed as HTTP; raw holds what was seen */
    MSG_HEAD_LIMIT = 1 << 7, /* head exceeded the head limit */
    MSG_SNAPLEN = 1 << 8,    /* packets of a capture were cut by the snap length */
    MSG_EDITED = 1 << 9,     /* the user changed the bytes before they were sent */
    MSG_HASHED = 1 << 10,    /* the payload's hash is known: see message_sha256 */
    /* A capture lost the head's end (a snap length cut its packet, or a gap): head holds the
     * start line and the field lines before the cut, head.len the head bytes captured (the cut
     * line included); the body (body_kind BODY_UNKNOWN) starts after the bytes missing. */
    MSG_HEAD_CUT = 1 << 11,
    /* A capture has none of the message: a request pipelined in a packet the snap length cut,
     * known only from the response that answers it (no byte, no head). */
    MSG_LOST = 1 << 12,
};

enum { MESSAGE_INTERIM_MAX = 8, MESSAGE_GAPS_MAX = 16, MESSAGE_COUNT_MAX = UINT16_MAX };

/* An interim (1xx) response kept in front of the final head in raw. */
struct message_interim {
    uint32_t off, len; /* in raw */
    uint16_t status;
};

/* A stretch of bytes a capture did not have, at a side offset. */
struct message_gap {
    uint64_t off, len;
};

/* Members are grouped by size, so that a kept exchange (two of these) carries no padding. */
struct message {
    struct dynbuf raw;
    struct http_head head;   /* spans relative to raw.data + head_off; headers in the arena */
    uint64_t wire_bytes;     /* every byte of this side of the exchange, kept or not */
    uint64_t content_length; /* declared length, for BODY_LENGTH */
    /* offset in raw where the body (or a tunnel's bytes) starts: head_off + head.len, or
     * where the bytes after a gap that cut the head start (MSG_HEAD_CUT) */
    uint64_t body_off;
    uint64_t body_wire; /* body bytes on the wire, framing and trailers included */
    uint64_t body_size; /* payload bytes after removing the chunked framing */
    /* offset in raw of the trailer section, 0 when none; past raw.len when raw stopped keeping
     * before it (the trailer's fields are in trailer then) */
    uint64_t trailer_off;
    uint64_t gap_bytes;      /* total bytes missing */
    int64_t t_first, t_last; /* ns since the epoch of the first and last byte, 0 = none */
    /* MESSAGE_INTERIM_MAX entries in the exchange's arena, allocated at the first interim
     * response (exchange_add_interim), or NULL */
    struct message_interim *interim;
    /* MESSAGE_GAPS_MAX entries in the arena, allocated at first gap; ngaps of them used, the
     * first gaps in order (gaps_unlisted counts those after) */
    struct message_gap *gaps;
    /* MSG_HASHED: the payload's hash, 32 bytes in the exchange's arena; NULL while the payload
     * is whole in raw, which message_sha256 then hashes on demand. Use message_sha256. */
    const uint8_t *sha256;
    /* The field lines of a chunked body's trailer section as received (the empty line that
     * ends it left out; at most the head limit's bytes of it), in the exchange's arena; NULL
     * when the section had none. Kept apart from raw, which may have stopped keeping before the
     * end of a long body. */
    const uint8_t *trailer;
    /* A chunked body's chunk extensions as the decoder kept them (chunked.h: the first
     * CHUNKED_EXT_KEPT_MAX size lines with any), in the exchange's arena, kept apart from raw
     * like the trailer; NULL when no size line had any. MESSAGE_CHUNK_EXT_HEAD bytes (the
     * list's length, then the lines with extensions not kept, two uint32_t) come before the
     * list: read it with message_chunk_ext_next and message_chunk_ext_unlisted. */
    const uint8_t *chunk_ext;
    uint32_t flags;       /* enum message_flag */
    uint32_t head_off;    /* offset of the final head in raw */
    uint32_t chunks;      /* chunks seen (chunked bodies) */
    uint32_t trailer_len; /* bytes at trailer */
    /* The two counts below stop at UINT16_MAX (MESSAGE_COUNT_MAX): a kept exchange (two
     * messages) carries no padding with them. */
    uint16_t interim_dropped; /* interim responses past MESSAGE_INTERIM_MAX, not kept */
    /* gaps past MESSAGE_GAPS_MAX: their bytes are in gap_bytes and wire_bytes, not in gaps */
    uint16_t gaps_unlisted;
    uint8_t ngaps;
    uint8_t ninterim;
    uint8_t body_kind; /* enum body_kind */
};

/* Stable lowercase name of one enum message_flag bit ("head-limit"); "?" otherwise. */
const char *message_flag_name(uint32_t flag);

/* Zeroes m and gives its raw buffer the maximum raw_max; nothing more (exchange_pool_get does
 * the same for a recycled exchange with one memset). */
void message_init(struct message *m, size_t raw_max);
void message_cleanup(struct message *m);

/* Pointer to a span of the final head (valid until raw changes). */
static inline const uint8_t *message_at(const struct message *m, struct http_span s)
{
    return m->raw.data + m->head_off + s.off;
}

/* The head's bytes (buffer the head's spans are relative to); NULL when no head. */
static inline const uint8_t *message_head_base(const struct message *m)
{
    return (m->flags & MSG_HEAD) ? m->raw.data + m->head_off : NULL;
}

/* Whether the message has anything to record: a byte seen, or its loss (MSG_LOST). */
static inline bool message_recorded(const struct message *m)
{
    return (m->flags & (MSG_STARTED | MSG_LOST)) || m->wire_bytes != 0;
}

/* Value of a header by name (case-insensitive), first occurrence; NULL when absent. */
const uint8_t *message_header(const struct message *m, const char *name, size_t *len);
/* Same, copied into buf as a C string (cut to buflen-1); returns buf, or NULL when absent. */
char *message_header_str(const struct message *m, const char *name, char *buf, size_t buflen);

/*
 * The method and target of a request whose head was not parsed (still arriving, or over the
 * head limit), read from the kept bytes for display (http_peek_request_line: the target is cut
 * where the kept bytes end). Spans are relative to m->raw.data. Returns false when the head was
 * parsed or no space follows a method yet.
 */
bool message_peek_request_line(const struct message *m, struct http_span *method,
                               struct http_span *target);

/*
 * The value of field name (lower case) of a request whose head was not parsed, read from the
 * kept bytes (http_peek_field: a whole line, the first of that name): a pointer into raw (valid
 * until raw changes) with *len bytes, or NULL when the head was parsed (message_header reads
 * it then) or no whole line of that name arrived.
 */
const uint8_t *message_peek_header(const struct message *m, const char *name, size_t *len);

/*
 * The next field of m's trailer section (m->trailer), from *pos (0 for the first; moved past
 * the field): name and value spans relative to m->trailer, the value without the whitespace
 * around it and running over obs-fold lines as the head parser's does, a line without a colon
 * a nameless value. Returns false after the last field (at once when there is none).
 */
bool message_trailer_next(const struct message *m, size_t *pos, struct http_span *name,
                          struct http_span *value);

enum { MESSAGE_CHUNK_EXT_HEAD = 8 };

/* Bytes of m->chunk_ext, its MESSAGE_CHUNK_EXT_HEAD included; 0 when NULL. */
size_t message_chunk_ext_size(const struct message *m);

/*
 * The next size line's chunk extensions kept of m's chunked body, from *pos (0 for the first;
 * moved past it): chunked_ext_next over m->chunk_ext's list. Returns false after the last one
 * (at once when there is none).
 */
bool message_chunk_ext_next(const struct message *m, size_t *pos, struct chunked_ext *e);

/* How many size lines with extensions came after those kept (0 when none). */
uint32_t message_chunk_ext_unlisted(const struct message *m);

/* Sets m->chunk_ext, in arena a, to a list of kept extensions (chunked.h: len bytes at list)
 * and the count of lines past it; leaves it NULL when both are empty. */
void message_keep_chunk_ext(struct message *m, struct arena *a, const uint8_t *list, size_t len,
                            uint32_t unlisted);

/* The most bytes message_chunk_ext_text appends for a prefix and a line end of at most 4 bytes
 * each: every kept byte escaped (4 bytes at most), and the words around. */
enum { MESSAGE_CHUNK_EXT_TEXT_MAX = CHUNKED_EXT_KEPT_MAX * (4 * CHUNKED_EXT_LINE_MAX + 80) + 80 };

/*
 * m's chunk extensions as text for eyes, appended to out: one line per size line kept,
 * "chunk 2 (5 bytes): ;name=value" ("last chunk: ..." for the empty one; " [cut]" after a line
 * cut at CHUNKED_EXT_LINE_MAX), the bytes through termsafe (a terminal shows them and never
 * obeys them), then "N more size lines with extensions, not kept" when some were not; each line
 * after prefix and ended by eol. Nothing when m has none. Returns the lines written.
 */
unsigned message_chunk_ext_text(const struct message *m, const char *prefix, const char *eol,
                                struct dynbuf *out);

/*
 * True when the request m is a HEAD request: by its parsed method, or, when its head was not
 * parsed (over the head limit, unfinished, not HTTP), by a whole request line at the start of
 * the kept bytes (http_request_line_is_head). The one test hspy's own answers and the framing
 * of the response go by.
 */
bool message_is_head_request(const struct message *m);

/* Method, target, reason as C strings copied into buf ("" when absent). */
char *message_span_str(const struct message *m, struct http_span s, char *buf, size_t buflen);

/*
 * True when m has a body to show: a parsed head whose framing gives one (not none, not a
 * tunnel, whose bytes are no message body), or an HTTP/0.9 response, which has no head and
 * whose every byte up to the close is body. message_body and message_body_view give its bytes.
 */
bool message_has_body(const struct message *m);

/* The records' (JSON, HAR) name of m's body framing: body_kind_name's, or NULL when m has
 * neither a parsed head nor a body. */
const char *message_framing_name(const struct message *m);
/* Whether m->content_length is a length m's head declared: the body is framed by it, or a head
 * cut short by a capture still showed its Content-Length. */
bool message_declares_length(const struct message *m);

/*
 * The payload as kept: the body bytes in raw with chunked framing removed, appended to out.
 * Returns true when out holds the whole payload (nothing truncated or missing).
 */
bool message_body(const struct message *m, struct dynbuf *out, const struct http_limits *limits);

/*
 * The kept payload in place when it needs no de-chunking: returns a pointer into raw (valid
 * until raw changes) with *len bytes and *whole as message_body would say, or NULL for a
 * chunked body (use message_body then). A message without a body gives an empty view.
 */
const uint8_t *message_body_view(const struct message *m, size_t *len, bool *whole);

/*
 * The SHA-256 of the whole payload into out: true when it is known (MSG_HASHED), computed
 * from raw when the conversation deferred it (a body kept whole needs no streaming hash).
 */
bool message_sha256(const struct message *m, uint8_t out[SHA256_DIGEST_LEN]);

#endif
