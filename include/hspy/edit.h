/*
 * edit: changing an HTTP message by hand, as pure functions over bytes.
 *
 * The text a user edits is a message as it would cross the wire: the head exactly as sent,
 * then the payload (a chunked body is shown de-chunked, so that it can be edited as text).
 * After editing, the user either sends the text exactly as typed (a deliberately malformed
 * message is a legitimate test) or has it fixed up: head line ends made CRLF, and the framing
 * made to match the body (Content-Length recomputed, or the body re-chunked when the head says
 * chunked). Quick edits (status, one header, the body) produce new bytes from old ones the same
 * way. edit_check runs the result through the conversation engine, so the warnings a peer's
 * parser would meet are known before anything is sent.
 *
 * Nothing here does I/O; every function writes into the caller's buffers.
 */
#ifndef HSPY_EDIT_H
#define HSPY_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/http.h"

/* Largest message an edit handles (head and body together). */
#define EDIT_MAX ((size_t)64 << 20)

/*
 * Appends the editable text of m to out: its final head as sent (interim responses left out)
 * and its payload, de-chunked when the body is chunked (chunk framing and trailers are not
 * shown; edit_fix puts framing back). Returns false when the payload kept is not the whole
 * payload (truncated by --body-keep or a capture gap): an edit would then drop bytes.
 */
bool edit_text(const struct message *m, const struct http_limits *limits, struct dynbuf *out);

/*
 * Length of the head at the start of p through its empty line, accepting bare LF line ends as
 * an editor may leave them ("\n\n", "\r\n\n"); -1 when there is no empty line.
 */
long edit_head_len(const uint8_t *p, size_t n);

/* What edit_fix changed. */
struct edit_fix_report {
    bool crlf;           /* some head line ended in a bare LF and now ends in CRLF */
    bool end_added;      /* the head had no empty line: one was added (the body is empty) */
    bool length_set;     /* a Content-Length field now states the body size */
    bool length_removed; /* Content-Length fields were dropped (chunked body, or none needed) */
    bool rechunked;      /* the body was framed again as chunks */
    bool blank_removed;  /* empty lines before the start line were left out */
    uint64_t length;     /* the body size stated (length_set) or payload re-chunked */
};

/*
 * Appends the fixed-up message to out: head line ends CRLF; when a Transfer-Encoding field ends
 * in chunked, the body (taken as payload) is sent as one chunk and the last chunk, and any
 * Content-Length field is removed; otherwise every Content-Length field is replaced by one
 * stating the body's size, placed where the first one was (a new one goes at the end of the
 * head when the body is not empty). The start line, header order, spelling and values are
 * kept; empty lines before the start line are left out. A text without an empty line is taken
 * as a head without a body. rep may be NULL.
 * Returns 0, or -1 (out untouched) when p is empty.
 */
int edit_fix(const uint8_t *p, size_t n, struct dynbuf *out, struct edit_fix_report *rep);

/*
 * Quick edits: each appends to out the message p with one change and returns 0, or -1 with a
 * reason in err (out untouched). The head is found as edit_head_len finds it; bytes that are
 * not changed are copied as they are.
 */
/* The status code of a response's start line; reason NULL keeps the standard phrase for the
 * new code (response_reason). */
int edit_set_status(const uint8_t *p, size_t n, unsigned status, const char *reason,
                    struct dynbuf *out, char *err, size_t errlen);
/* Sets header name to value: the first field of that name (any case) is rewritten, later ones
 * removed; without one, the field is added at the end of the head. */
int edit_set_header(const uint8_t *p, size_t n, const char *name, const char *value,
                    struct dynbuf *out, char *err, size_t errlen);
/* Removes every field of that name; *removed (may be NULL) counts them. */
int edit_remove_header(const uint8_t *p, size_t n, const char *name, struct dynbuf *out,
                       size_t *removed, char *err, size_t errlen);
/* Replaces the body and fixes the framing to match (edit_fix). */
int edit_set_body(const uint8_t *p, size_t n, const uint8_t *body, size_t blen, struct dynbuf *out,
                  char *err, size_t errlen);

/* How a peer's parser reads an edited message (edit_check). */
struct edit_check {
    unsigned warnings; /* warnings the engine recorded for the message */
    uint8_t body_kind; /* enum body_kind of the first message in the bytes */
    uint64_t declared; /* BODY_LENGTH: the Content-Length stated */
    uint64_t body;     /* body bytes that followed the head in the text */
    uint64_t extra;    /* bytes after the first message (read as another message) */
    uint64_t missing;  /* body bytes the framing still expects at the end of the text */
    bool parsed;       /* a head was found */
    char summary[256]; /* one line for people: "ok", "Content-Length 10 but 4 body bytes" */
};

/*
 * Runs p (a request for SIDE_CLIENT, a response for SIDE_SERVER) through the conversation
 * engine the way a peer would read it, followed by the end of the stream. A response is read
 * after req (its request's bytes, may be NULL), so that HEAD and CONNECT frame it right.
 * Returns the exchange holding the warnings (the caller frees it with exchange_free; its
 * warnings belong to side) and fills c.
 */
struct exchange *edit_check(const uint8_t *p, size_t n, enum side side, const uint8_t *req,
                            size_t reqn, const struct http_limits *limits,
                            const struct exchange_limits *exl, struct edit_check *c);

/*
 * A new, completed exchange from a request's and a response's bytes (either may be empty), as
 * the conversation engine reads them (the first exchange; bytes past it are ignored). The
 * caller owns it. Used to duplicate an exchange.
 */
struct exchange *edit_exchange(const uint8_t *req, size_t reqn, const uint8_t *resp, size_t respn,
                               const struct http_limits *limits, const struct exchange_limits *exl);

/*
 * The user's changes to an exchange (ex->edit): what a side looked like before an edit
 * replaced it, and an edit staged while the message is held (not sent yet). Allocated on the
 * first change; owned by the exchange.
 */
struct exchange_edit *edit_of(struct exchange *ex);
/* Stages bytes as the unsent edit of side (replacing an earlier one). */
void edit_stage(struct exchange *ex, enum side side, const uint8_t *p, size_t n);
/* Drops the unsent edit of side; returns whether there was one. */
bool edit_revert(struct exchange *ex, enum side side);
/* The unsent edit of side, or NULL. */
const struct dynbuf *edit_pending(const struct exchange *ex, enum side side);
/*
 * Records that side was sent edited: before holds what it was replaced for ("received", "the
 * answer hspy would have given"), label says which. Sets EX_EDITED and MSG_EDITED and drops
 * the unsent edit of that side.
 */
void edit_record(struct exchange *ex, enum side side, const uint8_t *before, size_t n,
                 const char *label);
/*
 * Makes side of ex the message that was sent in place of the one received (a proxy forwarding
 * an edit): the received bytes are kept (edit_record, with label), then the message is rebuilt
 * from sent[0..n) as the conversation engine reads it (a response after ex's request), and the
 * warnings of that side are replaced by the new message's. Its timestamps stay. Only for a side
 * the engine is done with (its message ended).
 */
void edit_replace(struct exchange *ex, enum side side, const uint8_t *sent, size_t n,
                  const char *label, const struct http_limits *limits,
                  const struct exchange_limits *exl);

#endif
