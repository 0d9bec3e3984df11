/*
 * harsplit: a HAR document cut into pieces as its bytes arrive, so a file of any size is read
 * with memory for one piece at a time. The pieces are the members of the "log" object (version,
 * creator, pages, ...), each element of log.entries, and any other top-level member, each as
 * its complete JSON text for jansson to parse. Only the document's frame (the top-level object,
 * "log", the entries array) is checked here; the pieces' own syntax is the parser's.
 *
 * Errors name what is wrong and where: "not valid JSON at line 3, column 7: expected ':' after
 * a member name", "not a HAR 1.2 file: missing log.entries", "cut short inside entry 12".
 */
#ifndef HSPY_HARSPLIT_H
#define HSPY_HARSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Largest piece (one entry, the pages member) held for parsing; larger ones are an error. */
#define HARSPLIT_PIECE_MAX ((size_t)1 << 30)
/* Member names longer than this are kept cut (they are then no HAR member hspy reads). */
enum { HARSPLIT_KEY_MAX = 64 };

enum harsplit_event {
    HARSPLIT_MORE = 0, /* all bytes consumed; feed more */
    HARSPLIT_MEMBER,   /* a member of log (or of the top-level object): piece is set */
    HARSPLIT_ENTRY,    /* an element of log.entries: piece is set */
    HARSPLIT_DONE,     /* the document ended well (only whitespace may follow) */
    HARSPLIT_ERROR,    /* see harsplit.error; feeding more changes nothing */
};

struct harsplit_piece {
    char key[HARSPLIT_KEY_MAX + 1]; /* MEMBER: the member's name (decoded) */
    bool top;                       /* MEMBER: of the top-level object rather than of log */
    const uint8_t *text;            /* the value's JSON text, valid until the next call */
    size_t len;
    uint64_t index;        /* ENTRY: 0-based position in log.entries */
    uint64_t offset;       /* byte offset of the text in the document */
    uint32_t line, column; /* where the text starts (1-based) */
};

struct harsplit {
    uint8_t state;
    uint8_t level;   /* 1: in the top-level object, 2: in log */
    bool in_entries; /* inside the entries array */
    bool seen_log, seen_entries, done;
    bool key_escaped; /* the key being read holds escapes (decoded when complete) */
    uint8_t bom;      /* bytes of a UTF-8 byte order mark at the start */
    /* value capture */
    uint8_t kind;   /* what is captured: container, string, scalar */
    uint32_t depth; /* brackets open in the captured value */
    bool in_string, escape;
    struct dynbuf key; /* raw text of the key being read */
    struct dynbuf value;
    size_t piece_max;
    uint64_t entries; /* elements of log.entries emitted */
    /* position */
    uint64_t pos;        /* bytes consumed */
    uint32_t line;       /* line of the next byte (1-based) */
    uint64_t line_start; /* offset where that line starts */
    struct harsplit_piece piece;
    char error[256];
};

/* Prepares s; piece_max 0 means HARSPLIT_PIECE_MAX. */
void harsplit_init(struct harsplit *s, size_t piece_max);
void harsplit_cleanup(struct harsplit *s);

/*
 * Consumes bytes of p[0..n) until a piece completes, the document ends or an error occurs.
 * Returns bytes consumed (call again with the rest) and sets *ev; for MEMBER and ENTRY, *piece
 * points at s->piece (valid until the next call).
 */
size_t harsplit_feed(struct harsplit *s, const uint8_t *p, size_t n, enum harsplit_event *ev,
                     const struct harsplit_piece **piece);

/*
 * The input ended. Returns HARSPLIT_DONE when the document was complete and had log.entries,
 * else HARSPLIT_ERROR with the reason in s->error.
 */
enum harsplit_event harsplit_end(struct harsplit *s);

#endif
