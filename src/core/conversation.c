/*
 * conversation owns the pairing of one connection's two byte streams into exchanges: it runs a
 * small state machine per side (idle, head, body, tunnel, resync), keeps the exchanges in flight
 * in order, decides framing through framing.c and de-chunks through chunked.c. It writes only
 * into the exchanges it created and hands them out through events; it never does I/O.
 *
 * Offsets: every warning offset counts bytes of that side of the exchange as they were on the
 * wire (message.wire_bytes before the byte), so gaps in a capture do not shift them.
 */
#include "hspy/conversation.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/chunked.h"
#include "hspy/framing.h"
#include "hspy/plural.h"
#include "hspy/sha256.h"
#include "hspy/xmalloc.h"

enum side_state {
    PS_IDLE,        /* between messages */
    PS_HEAD,        /* reading a head */
    PS_BODY,        /* reading a body as framed */
    PS_WAIT_SWITCH, /* client: a CONNECT/Upgrade request waits for its response */
    PS_TUNNEL,      /* the connection is a tunnel */
    PS_RESYNC,      /* capture: looking for the next message start */
    PS_DEAD,        /* live: framing was impossible; bytes are kept on the last exchange */
};

/*
 * Capture: the snap length cut, from a client packet, room for whole requests past the request in
 * progress: requests pipelined there are lost with the bytes, and only the responses to them can
 * tell they were sent.
 */
struct lost {
    uint32_t after; /* conn_seq of the request the cut packet carried; 0: nothing lost */
    uint64_t bytes; /* bytes the snap length cut from that packet */
    int64_t t;      /* when that packet was captured */
};

/* One exchange in flight and what the conversation knows about it. */
struct inflight {
    struct exchange *ex;
    bool req_done;  /* the client side no longer writes into it */
    bool resp_done; /* the server side no longer writes into it */
    bool has_facts; /* the request head was parsed: facts are valid */
    struct framing_request facts;
    struct lost lost; /* requests that may have been lost after this one's */
};

/*
 * The capture-gap warning of a side's message: its first gap makes it, later gaps of the same
 * message rewrite its detail (one warning per message however many packets a cut body spans).
 */
struct gapnote {
    struct exchange *ex; /* the exchange it was made for, and its conn_seq (pools recycle) */
    uint32_t seq;
    char *detail;       /* CONVERSATION_GAP_DETAIL_MAX bytes in ex's arena; NULL when dropped */
    const char *reason; /* what the first gap did to the message ("" when nothing to say) */
    /* what later gaps did, each "; at offset N: reason", in ex's arena; NULL when none said */
    const char *later;
    uint64_t first; /* bytes of the first gap */
    uint64_t total; /* bytes of every gap */
    uint32_t count; /* gaps */
    bool snap;      /* every one a snap length's */
};

/* One direction of the connection. */
struct half {
    uint8_t state;               /* enum side_state */
    struct exchange *ex;         /* exchange receiving this side's bytes, or NULL */
    struct http_scan scan;       /* head parsing progress */
    struct http_head head;       /* head in progress */
    struct http_header *scratch; /* headers of the head in progress: small, or a heap array */
    struct http_header small[CONVERSATION_SMALL_HEADERS]; /* enough for most heads */
    struct http_warnings warn; /* the head's warnings, gathered across the pieces it came in */
    struct framing framing;    /* framing of the current message */
    struct chunked chunked;
    bool chunked_live;  /* chunked is initialised */
    uint64_t remaining; /* BODY_LENGTH bytes left */
    bool closed;        /* EOF seen on this side */
    bool no_more;       /* framing said the connection closes after this message */
    bool last_bodiless; /* server: the last response could not have a body */
    bool blocked;       /* feed returned short for a full queue; UNBLOCK owed */
    bool hashing;       /* the payload's SHA-256 is wanted */
    bool hash_deferred; /* hashing, and every payload byte so far is kept in raw: not hashed yet */
    struct sha256 hash;
    uint64_t skipped;  /* capture: bytes skipped while resynchronising */
    bool stray;        /* capture, server: the skipped bytes came right after a response that
                          cannot have a body (no gap among them): that body, sent anyway */
    uint8_t crlf[256]; /* client: empty lines before the next request (RFC 9112 2.2) */
    size_t ncrlf;
    struct dynbuf hold;    /* resync: a partial start line; client: bytes during a switch */
    struct dynbuf replay;  /* bytes to process before any new input */
    bool resynced;         /* server: a gap lost bytes; re-pair by time at the next response */
    bool unreadable;       /* capture: the head cannot be a message; its first line goes on */
    bool orphan_undecided; /* server: too few bytes yet to tell whether an orphan is a response */
    uint32_t orphan_from;  /* server: where in raw the orphan's own bytes start */
    bool mid_line;         /* resync: the bytes before the next input ended inside a line */
    bool boundary; /* capture, BODY_UNKNOWN: a segment starts here (conversation_boundary, or a
                      gap); hold gathers its first bytes until they tell whether they begin the
                      next message */
    /* BODY_UNKNOWN with a Content-Length read before the cut: the message ends within
     * [cut_min, cut_max] of its wire bytes (the head's end lies somewhere in the gap); 0 when
     * no length is known. */
    uint64_t cut_min, cut_max;
    bool snap_next; /* the next gap is a snap length's (conversation_flag) */
    bool snap_gap;  /* the gap being handled is a snap length's */
    struct gapnote gapnote;
};

struct conversation {
    struct conversation_config cfg;
    struct conversation_events ev;
    struct half side[2];
    struct inflight fl[CONVERSATION_INFLIGHT_MAX];
    size_t nfl;
    uint32_t count; /* exchanges begun */
    bool tunnel;
    bool paused;          /* an event asked to pause */
    int64_t now;          /* timestamp of the bytes being fed */
    const char *leftover; /* conversation_feed_leftover: why its bytes are not acted on */
    uint32_t req_seq;     /* conn_seq of the latest request begun */
    struct lost lost;     /* capture: after the request last paired with a response */
    int64_t resp_end;     /* when the last response ended */
};

/* --- events --- */

/* Tells the body tap what an event means for a body: a piece (at its payload offset: the
 * message's body_size counts it already), or the exchange's end, which ends both sides. */
static void tap_event(const struct bodytap *t, struct exchange *ex, enum conv_event ev,
                      const uint8_t *p, size_t n)
{
    switch (ev) {
    case CONV_REQ_BODY: t->piece(t->data, ex, SIDE_CLIENT, ex->req.body_size - n, p, n); break;
    case CONV_RESP_BODY: t->piece(t->data, ex, SIDE_SERVER, ex->resp.body_size - n, p, n); break;
    case CONV_END:
        t->end(t->data, ex, SIDE_CLIENT);
        t->end(t->data, ex, SIDE_SERVER);
        break;
    default: break;
    }
}

static void emit(struct conversation *c, struct exchange *ex, enum conv_event ev, enum side s,
                 const uint8_t *p, size_t n)
{
    if (c->cfg.tap && ex)
        tap_event(c->cfg.tap, ex, ev, p, n);
    int r = c->ev.on_event ? c->ev.on_event(c->ev.data, c, ex, ev, s, p, n) : CONV_CONTINUE;
    if (r == CONV_PAUSE && (ev == CONV_REQ_HEAD || ev == CONV_RESP_HEAD || ev == CONV_REQ_DONE ||
                            ev == CONV_RESP_DONE))
        c->paused = true;
}

static struct inflight *find(struct conversation *c, struct exchange *ex)
{
    for (size_t i = 0; i < c->nfl; i++)
        if (c->fl[i].ex == ex)
            return &c->fl[i];
    return NULL;
}

static void finish_flags(struct exchange *ex)
{
    uint32_t both = ex->req.flags | ex->resp.flags;
    if (both & MSG_TRUNCATED)
        ex->flags |= EX_TRUNCATED;
    if (both & MSG_GAP)
        ex->flags |= EX_GAP;
    /* A request the capture lost is known only from its answer: nothing of it is missing that
     * could have come. */
    bool req_ok = (ex->req.flags & (MSG_COMPLETE | MSG_LOST)) || (ex->flags & EX_NO_REQUEST);
    bool resp_ok = (ex->resp.flags & MSG_COMPLETE) != 0;
    if (!req_ok || !resp_ok)
        ex->flags |= EX_INCOMPLETE;
}

static void stop_chunked(struct half *sd);
static void release_scratch(struct half *sd);

/*
 * The side's exchange is going away while the side was still writing into it (end of a
 * tunnel, a capture giving up): what the side receives next has no message to belong to.
 */
static void detach(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    sd->ex = NULL;
    if (sd->state == PS_HEAD || sd->state == PS_BODY || sd->state == PS_TUNNEL ||
        sd->state == PS_DEAD) {
        stop_chunked(sd);
        release_scratch(sd);
        sd->hashing = false;
        sd->state = c->cfg.capture ? PS_RESYNC : PS_DEAD;
    }
}

/* Releases an exchange: removes it from the in-flight list and emits CONV_END. */
static void end_exchange(struct conversation *c, struct exchange *ex)
{
    size_t i = 0;
    while (i < c->nfl && c->fl[i].ex != ex)
        i++;
    assert(i < c->nfl);
    memmove(&c->fl[i], &c->fl[i + 1], (c->nfl - i - 1) * sizeof c->fl[0]);
    c->nfl--;
    for (int s = 0; s < 2; s++)
        if (c->side[s].ex == ex)
            detach(c, (enum side)s);
    finish_flags(ex);
    emit(c, ex, CONV_END, SIDE_CLIENT, NULL, 0);
    for (int s = 0; s < 2; s++) {
        if (c->side[s].blocked && c->nfl < CONVERSATION_INFLIGHT_MAX) {
            c->side[s].blocked = false;
            emit(c, NULL, CONV_UNBLOCK, (enum side)s, NULL, 0);
        }
    }
}

static void maybe_end(struct conversation *c, struct inflight *f)
{
    if (f && f->req_done && f->resp_done && !c->tunnel)
        end_exchange(c, f->ex);
}

/* --- warnings --- */

/*
 * Capture: tells ex about the bytes skipped on s while resynchronising, before the next
 * response or at the end of the stream, and forgets them. Bytes the server sent right after a
 * response that cannot have a body are that body (body-on-bodiless-response, as in live use),
 * not a loss; any others were lost by the capture or were not a message (capture-gap, and at
 * the end of a stream the gap flag).
 */
static void report_skipped(struct exchange *ex, struct half *sd, enum side s, bool at_end)
{
    unsigned long long n = (unsigned long long)sd->skipped;
    if (sd->stray)
        exchange_warn(ex, W_BODY_FORBIDDEN, s, 0,
                      at_end ? "%llu %s after a response that cannot have a body, at the end "
                               "of the stream"
                             : "%llu %s after a response that cannot have a body, skipped "
                               "before this response",
                      n, plural_bytes(n));
    else if (at_end)
        exchange_warn(ex, W_CAPTURE_GAP, s, 0,
                      "%llu %s skipped at the end of the stream: no message start in them", n,
                      plural_bytes(n));
    else
        exchange_warn(ex, W_CAPTURE_GAP, s, 0, "%llu %s skipped before this response", n,
                      plural_bytes(n));
    if (at_end && !sd->stray)
        ex->flags |= EX_GAP;
    sd->skipped = 0;
    sd->stray = false;
}

/* The parser reports a head's first NUL byte: the detail says how many there were in its bytes
 * buf[0..len) and where the first few are (side offsets, base + offset in buf). */
static void warn_nuls(struct exchange *ex, enum side s, uint64_t base, uint64_t off,
                      const uint8_t *buf, size_t len)
{
    uint32_t at[HTTP_NUL_SHOWN_MAX];
    uint32_t n = http_nul_count(buf, len, at);
    if (n == 0) {
        exchange_warn(ex, W_NUL_BYTE, s, off, NULL);
        return;
    }
    char list[HTTP_NUL_SHOWN_MAX * 22 + 8];
    size_t used = 0;
    uint32_t shown = n < HTTP_NUL_SHOWN_MAX ? n : HTTP_NUL_SHOWN_MAX;
    for (uint32_t i = 0; i < shown; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)(base + at[i]));
    if (n > shown)
        snprintf(list + used, sizeof list - used, ", ...");
    exchange_warn(ex, W_NUL_BYTE, s, off, "%u NUL byte%s: at %s", (unsigned)n, plural(n, "", "s"),
                  list);
}

/* Attaches the parser's warnings w about buf[0..len) (NULL for a body: no text to quote), whose
 * offsets count from the side offset base. */
static void attach(struct exchange *ex, enum side s, uint64_t base, const uint8_t *buf, size_t len,
                   const struct http_warnings *w)
{
    for (uint16_t i = 0; i < w->n; i++) {
        const struct http_warn *hw = &w->w[i];
        uint64_t off = base + hw->off;
        int alen = (int)(hw->arg.len > 80 ? 80 : hw->arg.len);
        const char *arg = buf ? (const char *)buf + hw->arg.off : "";
        if (hw->code == W_NUL_BYTE && buf)
            warn_nuls(ex, s, base, off, buf, len);
        else if (hw->code == W_NAME_TYPO)
            exchange_warn(ex, W_NAME_TYPO, s, off, "'%.*s': did you mean %s?", alen, arg,
                          http_field_name((enum http_field)hw->field));
        else if (buf && hw->arg.len)
            exchange_warn(ex, (enum warning_code)hw->code, s, off, "'%.*s'", alen, arg);
        else
            exchange_warn(ex, (enum warning_code)hw->code, s, off, NULL);
    }
    ex->warnings_dropped += w->dropped;
}

/* --- raw bytes --- */

static void append_raw(struct message *m, const uint8_t *p, size_t n)
{
    if (dynbuf_append(&m->raw, p, n) < n)
        m->flags |= MSG_TRUNCATED;
    m->wire_bytes += n;
}

static void touch_times(struct exchange *ex, enum side s, int64_t ts)
{
    struct message *m = exchange_msg(ex, s);
    if (!m->t_first)
        m->t_first = ts;
    m->t_last = ts;
    if (s == SIDE_CLIENT) {
        if (!ex->t[T_REQ_FIRST])
            ex->t[T_REQ_FIRST] = ts;
    } else if (!ex->t[T_RESP_FIRST]) {
        ex->t[T_RESP_FIRST] = ts;
    }
}

/* --- beginning exchanges --- */

static struct exchange *begin(struct conversation *c, bool has_request)
{
    struct exchange *ex = exchange_pool_get(c->cfg.pool, &c->cfg.exchange);
    ex->conn_id = c->cfg.conn_id;
    ex->conn_seq = ++c->count;
    ex->client = c->cfg.client;
    ex->server = c->cfg.server;
    if (!has_request)
        ex->flags |= EX_NO_REQUEST;
    struct inflight *f = &c->fl[c->nfl++];
    memset(f, 0, sizeof *f);
    f->ex = ex;
    f->req_done = !has_request;
    /* A request read from leftover bytes is never answered: no response is waited for. */
    f->resp_done = has_request && (c->cfg.one_side || c->leftover);
    emit(c, ex, CONV_BEGIN, has_request ? SIDE_CLIENT : SIDE_SERVER, NULL, 0);
    return ex;
}

/* Makes room for one more exchange; false when the caller must wait (live use). */
static bool room_for_one(struct conversation *c, enum side s)
{
    if (c->nfl < CONVERSATION_INFLIGHT_MAX)
        return true;
    if (!c->cfg.capture) {
        c->side[s].blocked = true;
        return false;
    }
    /* A capture cannot wait: give up on the oldest exchange. */
    struct inflight *f = &c->fl[0];
    f->req_done = f->resp_done = true;
    for (int i = 0; i < 2; i++)
        if (c->side[i].ex == f->ex) {
            c->side[i].ex = NULL;
            c->side[i].state = PS_RESYNC;
        }
    end_exchange(c, f->ex);
    return true;
}

static void start_head(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    sd->state = PS_HEAD;
    memset(&sd->scan, 0, sizeof sd->scan);
    sd->unreadable = false;
    sd->warn.n = sd->warn.dropped = 0;
    /* Most heads fit the small array; one with more fields is parsed again (see feed_head). */
    release_scratch(sd);
    sd->scratch = sd->small;
    sd->head.headers = sd->scratch;
    sd->head.cap = c->cfg.limits.headers_max < CONVERSATION_SMALL_HEADERS
                       ? c->cfg.limits.headers_max
                       : CONVERSATION_SMALL_HEADERS;
}

/* --- message completion --- */

/*
 * Hashes the payload piece p, n (already appended to raw and counted in body_size). While
 * the whole payload stays in raw the hash is deferred: most bodies are small and nobody may
 * ask for their hash (message_sha256 computes it from raw). The first piece that raw cannot
 * keep starts the streaming hash with the payload kept before it.
 */
static void hash_payload(struct half *sd, struct message *m, const uint8_t *p, size_t n)
{
    if (!sd->hashing)
        return;
    if (sd->hash_deferred) {
        size_t kept;
        bool whole;
        const uint8_t *view = message_body_view(m, &kept, &whole);
        if (view && whole && kept >= m->body_size)
            return;
        sd->hash_deferred = false;
        sha256_init(&sd->hash);
        if (view)
            sha256_update(&sd->hash, view, (size_t)(m->body_size - n));
    }
    sha256_update(&sd->hash, p, n);
}

static void body_payload(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    struct exchange *ex = sd->ex;
    struct message *m = exchange_msg(ex, s);
    m->body_size += n;
    hash_payload(sd, m, p, n);
    emit(c, ex, s == SIDE_CLIENT ? CONV_REQ_BODY : CONV_RESP_BODY, s, p, n);
}

static void stop_chunked(struct half *sd)
{
    if (sd->chunked_live) {
        chunked_cleanup(&sd->chunked);
        sd->chunked_live = false;
    }
}

static void enter_tunnel(struct conversation *c, struct exchange *ex);
static void release_held(struct conversation *c);

/* Keeps the chunk extensions the decoder kept on the message (message.chunk_ext): raw may
 * have stopped keeping long before they came. */
static void keep_chunk_ext(struct exchange *ex, struct message *m, const struct chunked *ck)
{
    message_keep_chunk_ext(m, &ex->arena, ck->exts.data, ck->exts.len, ck->ext_unlisted);
}

/* The current message on side s ended; complete says whether framing was satisfied. */
static void message_done(struct conversation *c, enum side s, bool complete)
{
    struct half *sd = &c->side[s];
    struct exchange *ex = sd->ex;
    struct message *m = exchange_msg(ex, s);
    if (sd->chunked_live)
        keep_chunk_ext(ex, m, &sd->chunked);
    stop_chunked(sd);
    if (complete)
        m->flags |= MSG_COMPLETE;
    if (sd->hashing && complete && !(m->flags & MSG_GAP)) {
        if (!sd->hash_deferred) {
            uint8_t *sum = arena_alloc(&ex->arena, SHA256_DIGEST_LEN);
            sha256_final(&sd->hash, sum);
            m->sha256 = sum;
        }
        m->flags |= MSG_HASHED;
    }
    sd->hashing = sd->hash_deferred = false;
    struct inflight *f = find(c, ex);
    sd->ex = NULL;
    if (s == SIDE_CLIENT) {
        ex->t[T_REQ_LAST] = m->t_last;
        bool switching = f && f->has_facts && (f->facts.connect || f->facts.upgrade) &&
                         !f->resp_done && complete;
        sd->state = switching ? PS_WAIT_SWITCH : PS_IDLE;
        if (f)
            f->req_done = true;
        emit(c, ex, CONV_REQ_DONE, s, NULL, 0);
    } else {
        ex->t[T_RESP_LAST] = m->t_last;
        c->resp_end = m->t_last;
        sd->state = PS_IDLE;
        if (f)
            f->resp_done = true;
        emit(c, ex, CONV_RESP_DONE, s, NULL, 0);
        if (m->body_kind == BODY_TUNNEL) {
            enter_tunnel(c, ex);
            return;
        }
    }
    if (!complete && c->cfg.capture)
        sd->state = PS_RESYNC;
    else if (!complete)
        sd->state = PS_DEAD;
    if (sd->state == PS_DEAD) {
        /* Live: later bytes are kept on this exchange while the peer is told 400 or 502. */
        sd->ex = ex;
        if (f && s == SIDE_CLIENT)
            f->req_done = false;
        else if (f)
            f->resp_done = false;
        return;
    }
    if (s == SIDE_SERVER)
        release_held(c);
    maybe_end(c, f);
}

/* --- heads --- */

static void keep_headers(struct exchange *ex, struct half *sd)
{
    struct http_head *h = &sd->head;
    struct http_header *kept =
        arena_memdup(&ex->arena, h->headers, h->nheaders * sizeof *h->headers);
    h->headers = kept;
    h->cap = h->nheaders;
}

static void release_scratch(struct half *sd)
{
    if (sd->scratch != sd->small)
        free(sd->scratch);
    sd->scratch = NULL;
}

static void begin_body(struct conversation *c, enum side s, uint64_t body_start)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    m->body_kind = sd->framing.kind;
    m->content_length = sd->framing.length;
    m->body_off = body_start;
    /* Keep exactly body_keep bytes of body: the cap so far allowed for a whole head. */
    if (m->raw.len <= body_start && body_start + c->cfg.exchange.body_keep < m->raw.max)
        m->raw.max = (size_t)body_start + c->cfg.exchange.body_keep;
    /* Only payload is hashed: a message without a body has nothing to hash. */
    sd->hashing =
        c->cfg.hash_bodies && sd->framing.kind != BODY_NONE && sd->framing.kind != BODY_TUNNEL;
    /* A chunked payload is not contiguous in raw: it is hashed as it streams. */
    sd->hash_deferred = sd->hashing && sd->framing.kind != BODY_CHUNKED;
    if (sd->hashing && !sd->hash_deferred)
        sha256_init(&sd->hash);
    switch (sd->framing.kind) {
    case BODY_NONE: message_done(c, s, true); return;
    case BODY_LENGTH:
        sd->remaining = sd->framing.length;
        /* The size is known: one allocation instead of doubling steps. Bounded by the cap. */
        dynbuf_reserve(&m->raw, sd->remaining < m->raw.max - m->raw.len ? (size_t)sd->remaining
                                                                        : m->raw.max - m->raw.len);
        break;
    case BODY_CHUNKED:
        chunked_init(&sd->chunked, &c->cfg.limits);
        sd->chunked_live = true;
        break;
    case BODY_TUNNEL: message_done(c, s, true); return;
    default: break;
    }
    sd->state = PS_BODY;
}

static void request_head_done(struct conversation *c, struct http_warnings *w)
{
    struct half *sd = &c->side[SIDE_CLIENT];
    struct exchange *ex = sd->ex;
    struct message *m = &ex->req;
    const uint8_t *base = m->raw.data + m->head_off;
    framing_request(base, &sd->head, &sd->framing, w);
    keep_headers(ex, sd);
    m->head = sd->head;
    m->flags |= MSG_HEAD;
    if (sd->head.flags & HEAD_HTTP09)
        m->flags |= MSG_HTTP09;
    ex->t[T_REQ_HEAD] = c->now;
    attach(ex, SIDE_CLIENT, m->head_off, base, sd->head.len, w);
    struct inflight *f = find(c, ex);
    framing_request_facts_from(base, &m->head, &sd->framing, &f->facts);
    f->has_facts = true;
    sd->no_more = !sd->framing.keep_alive;
    release_scratch(sd);
    emit(c, ex, CONV_REQ_HEAD, SIDE_CLIENT, NULL, 0);
    if (sd->framing.cannot_frame) {
        message_done(c, SIDE_CLIENT, false);
        return;
    }
    begin_body(c, SIDE_CLIENT, m->head_off + m->head.len);
}

static void record_interim(struct exchange *ex, const struct http_head *h)
{
    struct message *m = &ex->resp;
    if (exchange_add_interim(ex, m, (struct message_interim){m->head_off, h->len, h->status}))
        return;
    if (m->interim_dropped == 0)
        exchange_warn(ex, W_TOO_MANY_INTERIM, SIDE_SERVER, m->head_off, NULL);
    if (m->interim_dropped < MESSAGE_COUNT_MAX)
        m->interim_dropped++;
}

/*
 * What the framing of the response to f's request (ex's) goes by: the parsed head's facts; for a
 * head not parsed (over the limit, unfinished) whose whole request line names HEAD, that alone,
 * since the answer to it (a server's, or hspy's own 431 or 408) has no body; else NULL.
 */
static const struct framing_request *request_facts(const struct inflight *f,
                                                   const struct exchange *ex)
{
    static const struct framing_request unparsed_head = {.present = true, .head = true};
    if (!f)
        return NULL;
    if (f->has_facts)
        return &f->facts;
    return message_is_head_request(&ex->req) ? &unparsed_head : NULL;
}

static void response_head_done(struct conversation *c, struct http_warnings *w)
{
    struct half *sd = &c->side[SIDE_SERVER];
    struct exchange *ex = sd->ex;
    struct message *m = &ex->resp;
    struct inflight *f = find(c, ex);
    const uint8_t *base = m->raw.data + m->head_off;
    framing_response(base, &sd->head, request_facts(f, ex), &sd->framing, w);
    attach(ex, SIDE_SERVER, m->head_off, base, sd->head.len, w);
    if (sd->framing.interim) {
        record_interim(ex, &sd->head);
        uint32_t next = m->head_off + sd->head.len;
        emit(c, ex, CONV_RESP_INTERIM, SIDE_SERVER, NULL, 0);
        m->head_off = next;
        start_head(c, SIDE_SERVER);
        return;
    }
    keep_headers(ex, sd);
    m->head = sd->head;
    m->flags |= MSG_HEAD;
    ex->t[T_RESP_HEAD] = c->now;
    sd->no_more = !sd->framing.keep_alive;
    sd->last_bodiless = sd->framing.kind == BODY_NONE;
    release_scratch(sd);
    emit(c, ex, CONV_RESP_HEAD, SIDE_SERVER, NULL, 0);
    begin_body(c, SIDE_SERVER, m->head_off + m->head.len);
}

/* Removes every warning with this code from w. */
static void forget(struct http_warnings *w, enum warning_code code)
{
    uint16_t kept = 0;
    for (uint16_t i = 0; i < w->n; i++)
        if (w->w[i].code != code)
            w->w[kept++] = w->w[i];
    w->n = kept;
}

/* The head could not be parsed (not HTTP, or over the limit). */
static void head_failed(struct conversation *c, enum side s, int rc)
{
    struct half *sd = &c->side[s];
    struct exchange *ex = sd->ex;
    struct message *m = exchange_msg(ex, s);
    release_scratch(sd);
    /* The parser notes the limit where it stopped; the warning below also names the limit:
     * one warning for one head, not two. */
    if (rc == HTTP_TOO_LARGE)
        forget(&sd->warn, W_HEAD_TOO_LARGE);
    /* What the parser saw before giving up is still worth showing. */
    attach(ex, s, m->head_off, m->raw.data + m->head_off, m->raw.len - m->head_off, &sd->warn);
    if (rc == HTTP_TOO_LARGE) {
        m->flags |= MSG_HEAD_LIMIT;
        exchange_warn(ex, W_HEAD_TOO_LARGE, s, m->head_off, "limit %u bytes",
                      c->cfg.limits.head_max);
    } else {
        m->flags |= MSG_UNPARSED;
    }
    if (s == SIDE_SERVER && rc == HTTP_INVALID && !c->cfg.capture) {
        /* A server that does not speak HTTP/1.x (or answers HTTP/0.9 style): what it sends
         * until it closes is the response. */
        m->flags |= MSG_HTTP09;
        m->body_kind = BODY_CLOSE;
        m->body_off = m->head_off;
        exchange_warn(ex, W_HTTP09, s, m->head_off, "response has no status line");
        sd->state = PS_BODY;
        sd->framing.kind = BODY_CLOSE;
        /* The bytes read as a would-be status line are the start of that body. */
        size_t got = m->raw.len - m->head_off;
        m->body_wire += got;
        if (got)
            body_payload(c, s, m->raw.data + m->head_off, got);
        return;
    }
    if (s == SIDE_CLIENT) {
        struct inflight *f = find(c, ex);
        c->side[s].framing.cannot_frame = true;
        if (f)
            f->has_facts = false;
        emit(c, ex, CONV_REQ_HEAD, SIDE_CLIENT, NULL, 0);
    }
    message_done(c, s, false);
}

/*
 * Capture: a head that cannot start a message keeps exactly its first line (at most head_max
 * bytes) however the input was cut, and the search for the next message starts after that line
 * (a message found inside it would depend on where the pieces ended). The line's end is looked
 * for in raw from offset from; [before, raw.len) are the take bytes just appended out of n.
 * Returns the bytes of the input used.
 */
static size_t unreadable_line(struct conversation *c, enum side s, size_t from, size_t before,
                              size_t take, size_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    const uint8_t *lf = memchr(m->raw.data + from, '\n', m->raw.len - from);
    if (!lf && take == n && m->raw.len - m->head_off < c->cfg.limits.head_max) {
        sd->unreadable = true; /* the line goes on in the next input */
        m->wire_bytes += take;
        return n;
    }
    sd->unreadable = false;
    size_t end = lf ? (size_t)(lf - m->raw.data) + 1 : m->raw.len;
    /* The parser judges a first line as soon as it is complete, so its end is new, unless the
     * line ended inside the empty-line bytes kept in front of the head (CRs alone). */
    if (end < before)
        end = before;
    m->raw.len = end;
    m->raw.data[end] = '\0';
    m->wire_bytes += end - before;
    head_failed(c, s, HTTP_INVALID);
    sd->mid_line = lf == NULL;
    return end - before;
}

static void not_a_response(struct conversation *c, struct exchange *ex);

/*
 * An orphan whose first bytes could not yet say whether it is a response: decides with the
 * take bytes just appended at before. A response is then parsed from its start; anything else
 * becomes the body of an unparsed message, the bytes so far included, as if it had been
 * decided at once. Returns the bytes of the input used.
 */
static size_t undecided_orphan(struct conversation *c, size_t before, size_t take)
{
    struct half *sd = &c->side[SIDE_SERVER];
    struct message *m = &sd->ex->resp;
    int looks =
        http_looks_like(m->raw.data + sd->orphan_from, m->raw.len - sd->orphan_from, HTTP_RESPONSE);
    if (looks == -1) {
        m->wire_bytes += take;
        return take;
    }
    sd->orphan_undecided = false;
    m->raw.len = before; /* fed again, as head or as body */
    m->raw.data[before] = '\0';
    if (looks == 1) {
        exchange_warn(sd->ex, W_RESPONSE_WITHOUT_REQUEST, SIDE_SERVER, 0, NULL);
        return 0;
    }
    not_a_response(c, sd->ex);
    sd->state = PS_BODY;
    size_t got = before - sd->orphan_from;
    m->body_wire += got;
    if (got)
        body_payload(c, SIDE_SERVER, m->raw.data + sd->orphan_from, got);
    return 0;
}

/* Feeds head bytes; returns bytes consumed. */
static size_t feed_head(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    size_t have = m->raw.len - m->head_off;
    /* The head may grow to head_max, and never past what raw may hold (a message's cap is
     * lowered once its body begins): a head the parser ends is then always all in raw. */
    size_t room = c->cfg.limits.head_max > have ? c->cfg.limits.head_max - have : 0;
    if (room > m->raw.max - m->raw.len)
        room = m->raw.max - m->raw.len;
    size_t take = n < room ? n : room;
    size_t before = m->raw.len;
    if (sd->unreadable || sd->orphan_undecided) {
        dynbuf_append(&m->raw, p, take);
        if (sd->unreadable)
            return unreadable_line(c, s, before, before, take, n);
        return undecided_orphan(c, before, take);
    }
    /* A head that begins in this input is parsed where it lies and only its own bytes are
     * kept: otherwise each pipelined request would copy, and keep room for, the whole rest of
     * the input (up to --head-max each). The parser's offsets are relative to its buffer, so
     * they hold in the copy too. */
    bool in_place = have == 0;
    if (!in_place)
        dynbuf_append(&m->raw, p, take);
    enum http_kind kind = s == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE;
    struct http_warnings *w = &sd->warn;
    int rc = http_head_parse(in_place ? p : m->raw.data + m->head_off,
                             in_place ? take : m->raw.len - m->head_off, kind, &c->cfg.limits,
                             &sd->scan, &sd->head, w);
    if (in_place)
        dynbuf_append(&m->raw, p, rc > 0 ? (size_t)rc : take);
    if (rc > 0 && sd->head.total_headers > sd->head.cap &&
        sd->head.cap < c->cfg.limits.headers_max) {
        /* More fields than the small array holds: parse the complete head again into one that
         * takes the configured number. */
        sd->scratch = xmalloc(c->cfg.limits.headers_max * sizeof *sd->scratch);
        sd->head.headers = sd->scratch;
        sd->head.cap = c->cfg.limits.headers_max;
        w->n = w->dropped = 0;
        struct http_scan fresh = {0};
        rc = http_head_parse(m->raw.data + m->head_off, (size_t)rc, kind, &c->cfg.limits, &fresh,
                             &sd->head, w);
    }
    if (rc > 0) {
        /* The parser only ends a head inside bytes it is seeing for the first time. */
        assert(m->head_off + (size_t)rc >= before);
        size_t used = m->head_off + (size_t)rc - before;
        m->raw.len = m->head_off + (size_t)rc; /* bytes past the head are fed again as body */
        m->raw.data[m->raw.len] = '\0';
        m->wire_bytes += used;
        if (s == SIDE_CLIENT)
            request_head_done(c, w);
        else
            response_head_done(c, w);
        return used;
    }
    if (rc == HTTP_INVALID && c->cfg.capture)
        return unreadable_line(c, s, m->head_off + sd->scan.pos, before, take, n);
    m->wire_bytes += take;
    if (rc == HTTP_NEED_MORE && take == n)
        return n;
    if (rc == HTTP_NEED_MORE) /* no room below head_max: the parser will say too large */
        rc = HTTP_TOO_LARGE;
    head_failed(c, s, rc);
    return take;
}

/* --- bodies --- */

static size_t feed_unknown(struct conversation *c, enum side s, const uint8_t *p, size_t n);
static size_t feed_chunk(struct conversation *c, enum side s, const uint8_t *p, size_t n);

/*
 * Keeps the trailer section the decoder reached on the message (raw may have stopped keeping
 * long before) and judges its field lines as a head's are (http_trailer_check), so that the
 * warnings do not depend on how its bytes were cut. ended: the section ended with its empty
 * line (left out of what is kept); otherwise the stream ended inside it, and what arrived is
 * kept as it came. Only complete lines are judged: all of them, or those within the head limit
 * when the section was longer, or those before the end of the stream. Offsets count from the
 * trailer's side offset, so they point at its bytes in raw when raw kept them.
 */
static void take_trailer(struct exchange *ex, enum side s, const struct chunked *ck, bool ended)
{
    struct message *m = exchange_msg(ex, s);
    m->trailer_off = m->body_off + ck->trailer_off;
    size_t n = ck->trailer.len;
    if (ended && !ck->trailer_cut && n && ck->trailer.data[n - 1] == '\n')
        n -= n >= 2 && ck->trailer.data[n - 2] == '\r' ? 2 : 1;
    if (n == 0)
        return;
    m->trailer = arena_memdup(&ex->arena, ck->trailer.data, n);
    m->trailer_len = (uint32_t)n;
    if (ck->trailer_cut || !ended)
        while (n && m->trailer[n - 1] != '\n')
            n--;
    if (n == 0)
        return;
    struct http_warnings w = {.n = 0};
    http_trailer_check(m->trailer, n, &w);
    attach(ex, s, m->trailer_off, m->trailer, n, &w);
}

static size_t feed_body(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    if (sd->framing.kind == BODY_UNKNOWN)
        return feed_unknown(c, s, p, n);
    if (sd->framing.kind == BODY_LENGTH) {
        size_t take = sd->remaining < n ? (size_t)sd->remaining : n;
        append_raw(m, p, take);
        m->body_wire += take;
        sd->remaining -= take;
        body_payload(c, s, p, take);
        if (sd->remaining == 0)
            message_done(c, s, true);
        return take;
    }
    if (sd->framing.kind == BODY_CHUNKED) {
        struct http_span pay;
        struct http_warnings w = {.n = 0};
        uint64_t body_pos = sd->chunked.pos;
        size_t k = chunked_step(&sd->chunked, p, n, &pay, &w);
        append_raw(m, p, k);
        m->body_wire += k;
        m->chunks = sd->chunked.chunks;
        if (w.n || w.dropped)
            attach(sd->ex, s, m->body_off, NULL, 0, &w);
        (void)body_pos;
        if (pay.len)
            body_payload(c, s, p + pay.off, pay.len);
        if (sd->chunked.status == CHUNKED_DONE) {
            take_trailer(sd->ex, s, &sd->chunked, true);
            message_done(c, s, true);
        } else if (sd->chunked.status == CHUNKED_ERROR) {
            message_done(c, s, false);
        }
        return k;
    }
    /* BODY_CLOSE: everything until the peer closes. */
    append_raw(m, p, n);
    m->body_wire += n;
    body_payload(c, s, p, n);
    return n;
}

/* --- tunnels, resync, dead sides --- */

static void feed_tunnel(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct exchange *ex = c->side[s].ex;
    struct message *m = exchange_msg(ex, s);
    append_raw(m, p, n);
    m->body_wire += n;
    m->body_size += n;
    ex->tunnel_bytes[s] += n;
    ex->t[s == SIDE_CLIENT ? T_REQ_LAST : T_RESP_LAST] = c->now;
    emit(c, ex, CONV_TUNNEL_DATA, s, p, n);
}

static void enter_tunnel(struct conversation *c, struct exchange *ex)
{
    c->tunnel = true;
    ex->flags |= EX_TUNNEL;
    ex->req.body_kind = BODY_TUNNEL;
    ex->resp.body_kind = BODY_TUNNEL;
    /* In raw, as every body_off: a capture's gap before (a cut head) is no byte of it. */
    ex->req.body_off = ex->req.raw.len;
    ex->resp.body_off = ex->resp.raw.len;
    for (int s = 0; s < 2; s++) {
        c->side[s].ex = ex;
        c->side[s].state = PS_TUNNEL;
    }
    emit(c, ex, CONV_TUNNEL, SIDE_SERVER, NULL, 0);
    struct half *cl = &c->side[SIDE_CLIENT];
    if (cl->hold.len) {
        /* The client did not wait for the switch to be confirmed. */
        exchange_warn(ex, W_TUNNEL_EARLY_DATA, SIDE_CLIENT, ex->req.wire_bytes, "%zu %s",
                      cl->hold.len, plural_bytes(cl->hold.len));
        struct dynbuf held = cl->hold;
        dynbuf_init(&cl->hold, CONVERSATION_PENDING_MAX);
        feed_tunnel(c, SIDE_CLIENT, held.data, held.len);
        dynbuf_cleanup(&held);
    }
}

/* The switch a CONNECT or Upgrade asked for did not happen: the held client bytes are HTTP. */
static void release_held(struct conversation *c)
{
    struct half *sd = &c->side[SIDE_CLIENT];
    if (sd->state != PS_WAIT_SWITCH)
        return;
    sd->state = PS_IDLE;
    if (sd->hold.len) {
        dynbuf_append(&sd->replay, sd->hold.data, sd->hold.len);
        dynbuf_reset(&sd->hold);
        emit(c, NULL, CONV_UNBLOCK, SIDE_CLIENT, NULL, 0);
    }
}

/* Capture only: skips bytes until something that looks like a message start. */
static size_t feed_resync(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    enum http_kind kind = s == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE;
    if (sd->mid_line) {
        /* Only the start of a line can start a message. */
        const uint8_t *lf = memchr(p, '\n', n);
        size_t k = lf ? (size_t)(lf - p) + 1 : n;
        sd->skipped += k;
        sd->mid_line = lf == NULL;
        return k;
    }
    if (sd->hold.len) {
        /* A possible start line was cut by the previous input: decide with more bytes. */
        size_t held = sd->hold.len;
        size_t take = n < 64 ? n : 64;
        dynbuf_append(&sd->hold, p, take);
        int r = http_looks_like(sd->hold.data, sd->hold.len, kind);
        if (r == -1 && sd->hold.len < 64)
            return take;
        if (r == 1) {
            /* The driver replays what decided it (so the start is seen whole), then goes on
             * with the rest of p. */
            dynbuf_append(&sd->replay, sd->hold.data, sd->hold.len);
            dynbuf_reset(&sd->hold);
            sd->state = PS_IDLE;
            return take;
        }
        dynbuf_reset(&sd->hold);
        sd->skipped += held;
        /* The held bytes began a line that is not a start line: p goes on with that line. */
        sd->mid_line = true;
        return 0;
    }
    size_t keep;
    size_t at = http_resync(p, n, kind, &keep);
    if (at < n) {
        sd->skipped += at;
        sd->state = PS_IDLE;
        return at;
    }
    sd->skipped += n - keep;
    dynbuf_append(&sd->hold, p + n - keep, keep);
    /* Without a possible start kept, the input ended inside a line unless it ended a line. */
    sd->mid_line = keep == 0 && n > 0 && p[n - 1] != '\n';
    return n;
}

static void feed_dead(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    if (sd->ex) {
        struct message *m = exchange_msg(sd->ex, s);
        append_raw(m, p, n);
        emit(c, sd->ex, CONV_UPDATE, s, NULL, 0);
    }
}

static void feed_wait_switch(struct conversation *c, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[SIDE_CLIENT];
    dynbuf_append(&sd->hold, p, n);
}

/* --- idle: the start of the next message --- */

static struct inflight *next_response_slot(struct conversation *c)
{
    for (size_t i = 0; i < c->nfl; i++)
        if (!c->fl[i].resp_done)
            return &c->fl[i];
    return NULL;
}

/*
 * After a capture gap swallowed server bytes, responses may have been lost with it. A request
 * whose successor was sent before this response started cannot be the one answered here when
 * the connection is not pipelining, so those requests are closed without a response.
 */
static void repair_pairing(struct conversation *c)
{
    struct half *sd = &c->side[SIDE_SERVER];
    if (!sd->resynced)
        return;
    sd->resynced = false;
    for (;;) {
        struct inflight *f = next_response_slot(c);
        if (!f || f + 1 >= c->fl + c->nfl)
            return;
        struct exchange *next = f[1].ex;
        if (!next->t[T_REQ_FIRST] || next->t[T_REQ_FIRST] >= c->now)
            return;
        exchange_warn(f->ex, W_CAPTURE_GAP, SIDE_SERVER, 0, "response lost in a capture gap");
        f->resp_done = true;
        maybe_end(c, f);
    }
}

/* Empty lines before a message are kept for its raw bytes; returns how many p starts with. */
static size_t take_empty_lines(struct half *sd, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) {
        if (sd->ncrlf < sizeof sd->crlf)
            sd->crlf[sd->ncrlf++] = p[i];
        i++;
    }
    return i;
}

/* A message starts after one that said the connection closes: none may follow. */
static void check_after_close(struct half *sd, struct exchange *ex, enum side s)
{
    if (sd->no_more) {
        exchange_warn(ex, W_EXTRA_BYTES, s, 0, "after a message that closed the connection");
        sd->no_more = false;
    }
}

static size_t idle_client(struct conversation *c, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[SIDE_CLIENT];
    /* Empty lines before a request are allowed and ignored (RFC 9112 section 2.2); they are
     * kept in front of the request's raw bytes. */
    size_t i = take_empty_lines(sd, p, n);
    if (i == n)
        return n;
    if (!room_for_one(c, SIDE_CLIENT))
        return i;
    struct exchange *ex = begin(c, true);
    sd->ex = ex;
    c->req_seq = ex->conn_seq;
    touch_times(ex, SIDE_CLIENT, c->now);
    ex->req.flags |= MSG_STARTED;
    if (sd->skipped) {
        exchange_warn(ex, W_CAPTURE_GAP, SIDE_CLIENT, 0, "%llu %s skipped before this request",
                      (unsigned long long)sd->skipped, plural_bytes(sd->skipped));
        sd->skipped = 0;
    }
    if (c->leftover) {
        /* Before check_after_close: one warning at this offset, the one that says why. */
        exchange_warn(ex, W_EXTRA_BYTES, SIDE_CLIENT, 0, "%s", c->leftover);
        exchange_fail(ex, EX_INCOMPLETE, "%s", c->leftover);
    }
    check_after_close(sd, ex, SIDE_CLIENT);
    start_head(c, SIDE_CLIENT);
    if (sd->ncrlf) {
        append_raw(&ex->req, sd->crlf, sd->ncrlf);
        sd->ncrlf = 0;
    }
    return i;
}

/* An orphan's bytes are not a response: keep them as an unparsed message until the server
 * closes. */
static void not_a_response(struct conversation *c, struct exchange *ex)
{
    struct half *sd = &c->side[SIDE_SERVER];
    exchange_warn(ex, sd->last_bodiless ? W_BODY_FORBIDDEN : W_EXTRA_BYTES, SIDE_SERVER, 0, NULL);
    ex->resp.flags |= MSG_UNPARSED;
    sd->framing = (struct framing){.kind = BODY_CLOSE};
    ex->resp.body_kind = BODY_CLOSE;
}

/*
 * Server bytes with no request waiting: an orphan exchange shows them. Whether they are a
 * response is decided by their first bytes alone (http_looks_like), so that the decision does
 * not depend on how many of them came in this input; until they are known, the orphan waits
 * (see undecided_orphan). Called once the exchange's other warnings are attached, so that the
 * order of warnings is the same whenever the decision falls.
 */
static void classify_orphan(struct conversation *c, struct exchange *ex, const uint8_t *p, size_t n)
{
    int looks = http_looks_like(p, n, HTTP_RESPONSE);
    if (looks == 1)
        exchange_warn(ex, W_RESPONSE_WITHOUT_REQUEST, SIDE_SERVER, 0, NULL);
    else if (looks == 0)
        not_a_response(c, ex);
    else
        c->side[SIDE_SERVER].orphan_undecided = true;
}

static void settle_held(struct conversation *c, enum side s);
static void end_unknown(struct conversation *c, enum side s);

/*
 * Capture: a response finds no request waiting after the snap length cut, from a client packet,
 * room for whole requests (c->lost): it answers the next request in order, one pipelined in the
 * bytes cut, which an exchange of its own records as lost (MSG_LOST, snaplen-truncated). The
 * server read the request that packet carried before it answered a later one, so a body of
 * unknown length still running on the client side ends here. Returns the exchange's slot.
 */
static struct inflight *begin_lost(struct conversation *c)
{
    struct half *cl = &c->side[SIDE_CLIENT];
    if (cl->ex && cl->state == PS_BODY && cl->framing.kind == BODY_UNKNOWN)
        end_unknown(c, SIDE_CLIENT);
    struct lost lost = c->lost;
    struct exchange *ex = begin(c, true);
    struct inflight *f = find(c, ex);
    f->req_done = true;
    f->lost = lost; /* more may have been pipelined after it */
    ex->req.flags |= MSG_LOST | MSG_SNAPLEN;
    ex->flags |= EX_TRUNCATED | EX_GAP;
    ex->t[T_REQ_FIRST] = ex->t[T_REQ_LAST] = lost.t;
    exchange_warn(ex, W_SNAPLEN_TRUNCATED, SIDE_CLIENT, 0,
                  "the request is missing: it was pipelined in the %llu %s the snap length cut "
                  "from the client's packet of request #%llu.%u; this response, the next in "
                  "order, answers it",
                  (unsigned long long)lost.bytes, plural_bytes(lost.bytes),
                  (unsigned long long)c->cfg.conn_id, lost.after);
    return f;
}

/*
 * Capture: a response paired in order with f's request while requests may have been lost to the
 * snap length before it (c->lost). A client that sent that request only once the previous
 * response had ended was waiting for it, not pipelining: what the server answered next is this
 * request. One that sent it earlier was pipelining, and the response may answer a request lost
 * in the bytes cut: the exchange says so.
 */
static void doubt_pairing(struct conversation *c, struct inflight *f)
{
    if (!c->lost.after || f->ex->t[T_REQ_FIRST] >= c->resp_end)
        return;
    exchange_warn(f->ex, W_SNAPLEN_TRUNCATED, SIDE_SERVER, 0,
                  "requests pipelined after request #%llu.%u may have been in the %llu %s the "
                  "snap length cut from its packet: this response, paired in order with this "
                  "request, may answer one of them instead",
                  (unsigned long long)c->cfg.conn_id, c->lost.after,
                  (unsigned long long)c->lost.bytes, plural_bytes(c->lost.bytes));
}

static size_t idle_server(struct conversation *c, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[SIDE_SERVER];
    size_t blank = take_empty_lines(sd, p, n);
    if (blank)
        return blank;
    repair_pairing(c);
    sd->orphan_undecided = false;
    struct inflight *f = next_response_slot(c);
    if (!f && c->lost.after) {
        /* The client's bytes held at a segment's start may begin the request answered here. */
        settle_held(c, SIDE_CLIENT);
        f = next_response_slot(c);
    }
    struct exchange *ex;
    if (f) {
        ex = f->ex;
        doubt_pairing(c, f);
    } else {
        if (!room_for_one(c, SIDE_SERVER))
            return 0;
        /* A capture only takes a response without a request once its first bytes say so; the
         * search holds an undecided prefix until they do, however the input was cut. */
        if (c->cfg.capture && http_looks_like(p, n, HTTP_RESPONSE) != 1) {
            /* Right after a response that cannot have a body, these are its body: live use
             * warns body-on-bodiless-response on them, and so does a capture. */
            sd->stray = sd->skipped == 0 && sd->last_bodiless;
            sd->state = PS_RESYNC;
            return 0;
        }
        f = c->lost.after ? begin_lost(c) : find(c, begin(c, false));
        ex = f->ex;
    }
    c->lost = f->lost;
    sd->ex = ex;
    touch_times(ex, SIDE_SERVER, c->now);
    ex->resp.flags |= MSG_STARTED;
    ex->resp.head_off = (uint32_t)ex->resp.raw.len;
    check_after_close(sd, ex, SIDE_SERVER);
    if (sd->ncrlf) {
        append_raw(&ex->resp, sd->crlf, sd->ncrlf);
        sd->ncrlf = 0;
    }
    sd->orphan_from = (uint32_t)ex->resp.raw.len;
    if (sd->skipped)
        report_skipped(ex, sd, SIDE_SERVER, false);
    if (ex->flags & EX_NO_REQUEST)
        classify_orphan(c, ex, p, n);
    if (ex->resp.flags & MSG_UNPARSED) {
        sd->state = PS_BODY;
        return 0;
    }
    if (f->has_facts && f->facts.http09) {
        /* An HTTP/0.9 response has no head: the bytes until close are the body. */
        ex->resp.flags |= MSG_HTTP09;
        sd->framing = (struct framing){.kind = BODY_CLOSE};
        ex->resp.body_kind = BODY_CLOSE;
        ex->resp.body_off = ex->resp.wire_bytes;
        sd->state = PS_BODY;
        return 0;
    }
    start_head(c, SIDE_SERVER);
    return 0;
}

/* --- the driver --- */

/* Processes p until it is consumed, an event paused, a queue is full or replay bytes appeared. */
static size_t feed_chunk(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    size_t done = 0;
    while (done < n && !c->paused && !sd->replay.len) {
        const uint8_t *q = p + done;
        size_t left = n - done, k = 0;
        /* A body of unknown length times its bytes itself: this input may begin the next
         * message instead. */
        if (sd->ex && !(sd->state == PS_BODY && sd->framing.kind == BODY_UNKNOWN))
            touch_times(sd->ex, s, c->now);
        switch (sd->state) {
        case PS_IDLE:
            k = s == SIDE_CLIENT ? idle_client(c, q, left) : idle_server(c, q, left);
            if (k == 0 && sd->blocked)
                return done;
            break;
        case PS_HEAD: k = feed_head(c, s, q, left); break;
        case PS_BODY: k = feed_body(c, s, q, left); break;
        case PS_TUNNEL:
            feed_tunnel(c, s, q, left);
            k = left;
            break;
        case PS_DEAD:
            feed_dead(c, s, q, left);
            k = left;
            break;
        case PS_RESYNC: k = feed_resync(c, s, q, left); break;
        case PS_WAIT_SWITCH:
            if (sd->hold.len + left > CONVERSATION_PENDING_MAX && !c->cfg.capture) {
                sd->blocked = true;
                return done;
            }
            if (sd->hold.len + left > CONVERSATION_PENDING_MAX) {
                release_held(c); /* a capture cannot wait: read them as HTTP */
                continue;
            }
            feed_wait_switch(c, q, left);
            k = left;
            break;
        }
        done += k;
    }
    return done;
}

static size_t feed(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    size_t done = 0;
    for (;;) {
        while (sd->replay.len && !c->paused && sd->state != PS_WAIT_SWITCH) {
            struct dynbuf r = sd->replay;
            dynbuf_init(&sd->replay, CONVERSATION_PENDING_MAX);
            size_t k = feed_chunk(c, s, r.data, r.len);
            /* Whatever was not consumed goes back in front of anything replayed meanwhile. */
            struct dynbuf rest;
            dynbuf_init(&rest, CONVERSATION_PENDING_MAX);
            dynbuf_append(&rest, r.data + k, r.len - k);
            dynbuf_append(&rest, sd->replay.data, sd->replay.len);
            dynbuf_cleanup(&sd->replay);
            dynbuf_cleanup(&r);
            sd->replay = rest;
            if (k == 0)
                break;
        }
        if (sd->replay.len || c->paused || sd->blocked)
            return done;
        if (done == n)
            return done;
        done += feed_chunk(c, s, p + done, n - done);
        if (!sd->replay.len)
            return done;
    }
}

size_t conversation_feed(struct conversation *c, enum side side, const uint8_t *p, size_t n,
                         int64_t ts)
{
    c->now = ts;
    c->paused = false;
    c->side[side].blocked = false;
    size_t done = feed(c, side, p, n);
    c->paused = false;
    return done;
}

void conversation_feed_leftover(struct conversation *c, enum side side, const uint8_t *p, size_t n,
                                int64_t ts, const char *why)
{
    assert(side == SIDE_CLIENT);
    struct half *sd = &c->side[side];
    c->now = ts;
    c->leftover = why;
    size_t done = 0;
    while (!c->tunnel && !sd->closed && (done < n || sd->replay.len)) {
        c->paused = false;
        sd->blocked = false;
        size_t replay = sd->replay.len;
        size_t k = feed(c, side, p + done, n - done);
        done += k;
        /* Only a full in-flight table (never in live use, which answers in order) or a pending
         * switch holding CONVERSATION_PENDING_MAX bytes stops it. */
        if (k == 0 && sd->replay.len == replay)
            break;
    }
    c->paused = false;
    c->leftover = NULL;
}

/* Counts n bytes missing at the side's current offset, without a warning: in gap_bytes always,
 * in the list while it has room (MESSAGE_GAPS_MAX), else in gaps_unlisted. */
static void count_gap(struct exchange *ex, struct message *m, uint64_t n)
{
    if (!m->gaps)
        m->gaps = arena_alloc(&ex->arena, MESSAGE_GAPS_MAX * sizeof *m->gaps);
    if (m->ngaps < MESSAGE_GAPS_MAX)
        m->gaps[m->ngaps++] = (struct message_gap){m->wire_bytes, n};
    else if (m->gaps_unlisted < MESSAGE_COUNT_MAX)
        m->gaps_unlisted++;
    m->gap_bytes += n;
    m->flags |= MSG_GAP;
    ex->flags |= EX_GAP;
    m->wire_bytes += n;
}

/*
 * Writes the note's detail: one gap as it always read; several with their total and count (and
 * how many of them the message's list had no room for), then what the first gap did and what
 * any later one did.
 */
static void render_gapnote(const struct gapnote *g, const struct message *m)
{
    if (!g->detail)
        return;
    const char *sep = g->reason[0] ? ": " : "";
    const char *later = g->later ? g->later : "";
    char unlisted[64] = "";
    if (m->gaps_unlisted)
        snprintf(unlisted, sizeof unlisted, " (%s%u not listed: %d at most)",
                 m->gaps_unlisted == MESSAGE_COUNT_MAX ? "at least " : "",
                 (unsigned)m->gaps_unlisted, MESSAGE_GAPS_MAX);
    if (g->count == 1)
        snprintf(g->detail, CONVERSATION_GAP_DETAIL_MAX, "%llu %s missing%s%s",
                 (unsigned long long)g->first, plural_bytes(g->first), sep, g->reason);
    else
        snprintf(g->detail, CONVERSATION_GAP_DETAIL_MAX,
                 "%llu %s missing in %u %s%s, the first %llu here%s%s%s",
                 (unsigned long long)g->total, plural_bytes(g->total), g->count,
                 g->snap ? "packets cut by the snap length" : "gaps", unlisted,
                 (unsigned long long)g->first, sep, g->reason, later);
}

static void note_gap(struct conversation *c, enum side s, uint64_t n, const char *reason, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Counts a gap of n bytes at side s's current offset in its message, with the message's one
 * capture-gap warning: its first gap makes it at that offset, with reason (printf format: what
 * the gap did to the message) in its detail; later gaps rewrite the detail in place (the arena
 * buffer stays the message's while it is in progress) to count them all, adding what a later gap
 * did, with its offset, when it says ("the head was cut" after a cut interim response). A
 * warning the exchange had no room for (EXCHANGE_WARNINGS_MAX) is dropped once, not per gap.
 */
static void note_gap(struct conversation *c, enum side s, uint64_t n, const char *reason, ...)
{
    struct half *sd = &c->side[s];
    struct exchange *ex = sd->ex;
    struct message *m = exchange_msg(ex, s);
    struct gapnote *g = &sd->gapnote;
    char said[CONVERSATION_GAP_DETAIL_MAX];
    va_list ap;
    va_start(ap, reason);
    vsnprintf(said, sizeof said, reason, ap);
    va_end(ap);
    if (g->ex != ex || g->seq != ex->conn_seq || g->count == 0) {
        *g = (struct gapnote){.ex = ex,
                              .seq = ex->conn_seq,
                              .reason = arena_strdup(&ex->arena, said),
                              .first = n,
                              .snap = true};
        uint16_t before = ex->nwarnings;
        exchange_warn(ex, W_CAPTURE_GAP, s, m->wire_bytes, NULL);
        if (ex->nwarnings > before) {
            g->detail = arena_alloc(&ex->arena, CONVERSATION_GAP_DETAIL_MAX);
            ex->warnings[ex->nwarnings - 1].detail = g->detail;
        }
    } else if (said[0] && g->detail &&
               (!g->later || strlen(g->later) < CONVERSATION_GAP_DETAIL_MAX)) {
        /* Bounded: the detail shows no more than its room, however many heads were cut. */
        g->later = arena_printf(&ex->arena, "%s; at offset %llu: %s", g->later ? g->later : "",
                                (unsigned long long)m->wire_bytes, said);
    }
    g->count++;
    g->total += n;
    g->snap = g->snap && sd->snap_gap;
    count_gap(ex, m, n);
    render_gapnote(g, m);
}

static void add_gap(struct conversation *c, enum side s, uint64_t n)
{
    note_gap(c, s, n, "%s", "");
}

/*
 * Capture: whether the bytes held at a segment's start begin side s's next message: 1 yes, 0 no,
 * -1 cannot tell yet (final: they are all the segment has). A response starts "HTTP/1."; a
 * request with a method and a target whose line, when captured whole, ends in an HTTP/1.x
 * version (a body line that merely starts with capitals does not).
 */
static int held_start(const struct half *sd, enum side s, bool final)
{
    const uint8_t *p = sd->hold.data;
    size_t n = sd->hold.len;
    int r = http_looks_like(p, n, s == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE);
    if (r != 1)
        return r == -1 && !final ? -1 : 0;
    if (s == SIDE_SERVER)
        return 1;
    const uint8_t *lf = memchr(p, '\n', n);
    if (!lf) /* the line goes on past the bytes captured, or will come */
        return final || n >= CONVERSATION_LINE_MAX ? 1 : -1;
    size_t len = (size_t)(lf - p);
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
        len--;
    return len >= 8 && memcmp(p + len - 8, "HTTP/1.", 7) == 0;
}

/* A BODY_UNKNOWN body ends here (the next message starts, its length is spent, the close). */
static void end_unknown(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    /* The message's length is its head's plus Content-Length: the body is that long, wherever
     * in the gap the head ended. */
    if (sd->cut_max)
        m->body_wire = m->body_size = m->content_length;
    sd->cut_min = sd->cut_max = 0;
    sd->boundary = false;
    message_done(c, s, true);
}

/* Body bytes of a BODY_UNKNOWN body; returns those used (fewer once its length is spent). */
static size_t unknown_body(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    touch_times(sd->ex, s, c->now);
    size_t take = n;
    if (sd->cut_max && sd->cut_max - m->wire_bytes < take)
        take = (size_t)(sd->cut_max - m->wire_bytes);
    append_raw(m, p, take);
    m->body_wire += take;
    body_payload(c, s, p, take);
    if (sd->cut_max && m->wire_bytes == sd->cut_max)
        end_unknown(c, s);
    return take;
}

/*
 * The bytes held at a segment's start are decided: the next message's start (the body ends;
 * they are read again, at once when now, else through replay) or body.
 */
static void take_held(struct conversation *c, enum side s, bool start, bool now)
{
    struct half *sd = &c->side[s];
    struct dynbuf held = sd->hold;
    dynbuf_init(&sd->hold, CONVERSATION_PENDING_MAX);
    sd->boundary = false;
    size_t used = 0;
    if (start) {
        end_unknown(c, s);
        if (s == SIDE_SERVER)
            sd->resynced = true; /* responses may have been lost in the gaps: re-pair */
    } else {
        used = unknown_body(c, s, held.data, held.len);
    }
    if (used < held.len && now)
        feed_chunk(c, s, held.data + used, held.len - used);
    else if (used < held.len)
        dynbuf_append(&sd->replay, held.data + used, held.len - used);
    dynbuf_cleanup(&held);
}

/* Capture: bytes held at a segment's start are decided with what there is (the segment ended). */
static void settle_held(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    if (sd->state == PS_BODY && sd->framing.kind == BODY_UNKNOWN && sd->hold.len)
        take_held(c, s, held_start(sd, s, true) == 1, true);
}

/*
 * Capture, BODY_UNKNOWN: the bytes are body until the next message of the side starts at the
 * start of a segment (with a Content-Length: not before it can have been spent) or the length
 * is spent. Returns the bytes used.
 */
static size_t feed_unknown(struct conversation *c, enum side s, const uint8_t *p, size_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    if (sd->boundary && m->wire_bytes < sd->cut_min)
        sd->boundary = false; /* the body cannot have ended yet */
    if (!sd->boundary)
        return unknown_body(c, s, p, n);
    size_t room = CONVERSATION_LINE_MAX - sd->hold.len;
    size_t take = n < room ? n : room;
    dynbuf_append(&sd->hold, p, take);
    int r = held_start(sd, s, false);
    if (r != -1)
        take_held(c, s, r == 1, false);
    return take;
}

/*
 * A request line [start, len) of p that the cut ended inside its version ("POST /up H"): its
 * length without the version's part, so that the target is read whole; else len.
 */
static size_t drop_cut_version(const uint8_t *p, size_t start, size_t len)
{
    static const char version[] = "HTTP/1.";
    const uint8_t *sp = memchr(p + start, ' ', len - start);
    if (!sp)
        return len;
    size_t target = (size_t)(sp - p) + 1; /* the target starts after the method's space */
    size_t last = len;
    while (last > target && p[last - 1] != ' ')
        last--;
    if (last <= target)
        return len; /* no space after the target: the cut went through the target */
    size_t tail = len - last;
    bool prefix = tail < sizeof version - 1 ? memcmp(p + last, version, tail) == 0
                                            : memcmp(p + last, version, sizeof version - 1) == 0;
    return prefix ? last - 1 : len;
}

/* The head the cut left, at least a start line, parsed into sd->head; false when none. */
static bool parse_cut_head(struct conversation *c, struct half *sd, enum side s,
                           const uint8_t *base, size_t have, struct http_warnings *w)
{
    static const char end[] = "\r\n\r\n";
    size_t start = 0;
    while (start < have && (base[start] == '\r' || base[start] == '\n'))
        start++;
    const uint8_t *lf = memchr(base + start, '\n', have - start);
    /* Whole lines only: the line the cut went through may have lost part of its value. With
     * the start line itself cut, the part captured is read as the whole line. */
    size_t len = have;
    while (lf && base[len - 1] != '\n')
        len--;
    if (!lf && s == SIDE_CLIENT)
        len = drop_cut_version(base, start, len);
    size_t endlen = lf ? 2 : 4;
    uint8_t *buf = xmalloc(len + endlen + 1);
    memcpy(buf, base, len);
    memcpy(buf + len, end, endlen);
    struct http_limits lim = c->cfg.limits;
    lim.head_max += (uint32_t)endlen;
    release_scratch(sd);
    sd->scratch = xmalloc(c->cfg.limits.headers_max * sizeof *sd->scratch);
    memset(&sd->head, 0, sizeof sd->head);
    sd->head.headers = sd->scratch;
    sd->head.cap = c->cfg.limits.headers_max;
    w->n = w->dropped = 0;
    enum http_kind kind = s == SIDE_CLIENT ? HTTP_REQUEST : HTTP_RESPONSE;
    int rc = http_head_parse(buf, len + endlen, kind, &lim, NULL, &sd->head, lf ? w : NULL);
    free(buf);
    if (rc <= 0)
        return false;
    if (!lf && kind == HTTP_REQUEST) {
        /* The version was cut off, not absent: no HTTP/0.9, no version. */
        sd->head.flags &= (uint16_t)~HEAD_HTTP09;
        sd->head.version.len = 0;
        sd->head.major = sd->head.minor = 0;
    }
    sd->head.len = (uint32_t)have;
    sd->head.flags |= HEAD_TRUNCATED;
    return true;
}

/*
 * Capture: the head the cut left on the server side (parsed into sd->head, base its bytes) is an
 * interim response's (100 Continue, 103): it is kept as the message's interim, and the final head
 * is looked for after the gap as after any gap (a snap length leaves it at the next segment's
 * start). Returns false, having changed nothing, for any other head.
 */
static bool cut_interim(struct conversation *c, const uint8_t *base, uint64_t n)
{
    struct half *sd = &c->side[SIDE_SERVER];
    struct exchange *ex = sd->ex;
    struct framing fr;
    framing_response(base, &sd->head, request_facts(find(c, ex), ex), &fr, NULL);
    if (!fr.interim)
        return false;
    note_gap(c, SIDE_SERVER, n, "the interim %u response's head was cut after %u %s",
             sd->head.status, sd->head.len, plural_bytes(sd->head.len));
    record_interim(ex, &sd->head);
    release_scratch(sd);
    emit(c, ex, CONV_RESP_INTERIM, SIDE_SERVER, NULL, 0);
    ex->resp.head_off = (uint32_t)ex->resp.raw.len;
    sd->ex = NULL; /* the final head pairs with this exchange still: its response is not done */
    sd->state = PS_RESYNC;
    sd->mid_line = false;
    dynbuf_reset(&sd->hold);
    return true;
}

/*
 * Capture: a gap of n bytes cut the head in progress on side s. When its start line was
 * captured (a request line at least to its target), the head is read from it and the field
 * lines before the cut, and kept with MSG_HEAD_CUT; the bytes after the gap are a body of
 * unknown length (BODY_UNKNOWN), framed only by a Content-Length read before the cut, by the
 * next message's start or by the close. Returns false, having changed nothing, when no start
 * line can be read.
 */
static bool cut_head(struct conversation *c, enum side s, uint64_t n)
{
    struct half *sd = &c->side[s];
    struct exchange *ex = sd->ex;
    struct message *m = exchange_msg(ex, s);
    if (sd->unreadable || sd->orphan_undecided || (m->flags & MSG_UNPARSED) ||
        m->raw.len <= m->head_off)
        return false;
    const uint8_t *base = m->raw.data + m->head_off;
    struct http_warnings w = {.n = 0};
    if (!parse_cut_head(c, sd, s, base, m->raw.len - m->head_off, &w)) {
        release_scratch(sd);
        return false;
    }
    if (s == SIDE_SERVER && cut_interim(c, base, n))
        return true;
    keep_headers(ex, sd);
    m->head = sd->head;
    m->flags |= MSG_HEAD | MSG_HEAD_CUT;
    release_scratch(sd);
    forget(&w, W_HOST_MISSING); /* it may have been among the lines lost */
    attach(ex, s, m->head_off, base, m->raw.len - m->head_off, &w);
    struct inflight *f = find(c, ex);
    struct framing fr;
    if (s == SIDE_CLIENT) {
        framing_request(base, &m->head, &fr, NULL);
        if (f) {
            framing_request_facts_from(base, &m->head, &fr, &f->facts);
            f->has_facts = true;
        }
        ex->t[T_REQ_HEAD] = c->now;
    } else {
        framing_response(base, &m->head, request_facts(f, ex), &fr, NULL);
        ex->t[T_RESP_HEAD] = c->now;
        sd->last_bodiless = fr.kind == BODY_NONE;
    }
    /* Only what was read closes the connection: no length read is no sign of a close-delimited
     * body here. */
    sd->no_more = !fr.keep_alive && fr.kind != BODY_CLOSE;
    bool bodiless =
        s == SIDE_SERVER && (fr.kind == BODY_NONE || fr.interim || fr.kind == BODY_TUNNEL);
    /* Only a snap length is sure to leave each later segment's start: after a loss the engine
     * resynchronises as after any gap. */
    bool snap = (m->flags & MSG_SNAPLEN) != 0;
    uint64_t cut_at = m->wire_bytes;
    note_gap(c, s, n, "the head was cut after %u %s (%u %s read)%s", m->head.len,
             plural_bytes(m->head.len), m->head.nheaders,
             plural(m->head.nheaders, "field line", "field lines"),
             bodiless || !snap        ? ""
             : fr.kind == BODY_LENGTH ? "; the body is framed by its Content-Length"
                                      : "; the body's length is unknown: it ends where the "
                                        "next message starts");
    m->body_off = m->raw.len; /* what is kept after the gap is body */
    emit(c, ex, s == SIDE_CLIENT ? CONV_REQ_HEAD : CONV_RESP_HEAD, s, NULL, 0);
    if (!snap && !bodiless) {
        m->body_kind = BODY_UNKNOWN;
        message_done(c, s, false);
        return true;
    }
    if (bodiless) {
        /* No body, whatever the lost lines said (a HEAD request, 204, 304), or a switch. */
        m->body_kind = fr.interim ? BODY_NONE : fr.kind;
        message_done(c, s, true);
        return true;
    }
    sd->framing = fr;
    sd->framing.kind = BODY_UNKNOWN;
    m->body_kind = BODY_UNKNOWN;
    sd->cut_min = sd->cut_max = 0;
    if (fr.kind == BODY_LENGTH) {
        /* The head ends somewhere in the gap: at least its empty line's LF is in it. */
        m->content_length = fr.length;
        sd->cut_min = cut_at + 1 + fr.length;
        sd->cut_max = cut_at + n + fr.length;
    }
    sd->hashing = sd->hash_deferred = false;
    sd->state = PS_BODY;
    sd->boundary = true; /* what follows the gap starts a segment */
    if (sd->cut_max && m->wire_bytes >= sd->cut_max)
        end_unknown(c, s);
    return true;
}

/* A gap inside a body whose length is still known (or unknown): count it and carry on. */
static bool gap_in_body(struct conversation *c, enum side s, uint64_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    bool unknown = sd->framing.kind == BODY_UNKNOWN;
    bool fits = sd->framing.kind == BODY_CLOSE ||
                (sd->framing.kind == BODY_LENGTH && sd->remaining >= n) ||
                (unknown && (!sd->cut_max || sd->cut_max - m->wire_bytes >= n));
    if (!fits)
        return false;
    add_gap(c, s, n);
    m->body_wire += n;
    m->body_size += n;
    sd->hashing = false;
    if (sd->framing.kind == BODY_LENGTH) {
        sd->remaining -= n;
        if (sd->remaining == 0)
            message_done(c, s, true);
    } else if (unknown && sd->cut_max && m->wire_bytes == sd->cut_max) {
        end_unknown(c, s);
    } else if (unknown) {
        sd->boundary = true; /* what follows the gap starts a segment */
    }
    return true;
}

/* Bytes the body in progress has left when its length is known (else UINT64_MAX). */
static uint64_t body_left(const struct half *sd, const struct message *m)
{
    if (sd->framing.kind == BODY_LENGTH)
        return sd->remaining;
    if (sd->framing.kind == BODY_UNKNOWN && sd->cut_max)
        return sd->cut_max - m->wire_bytes;
    return UINT64_MAX;
}

/* A gap longer than what the body had left: it ends the body and swallows what follows. */
static void gap_past_body(struct conversation *c, enum side s, uint64_t n, uint64_t rest)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    add_gap(c, s, rest);
    m->body_wire += rest;
    m->body_size += rest;
    sd->hashing = false;
    if (sd->framing.kind == BODY_UNKNOWN)
        end_unknown(c, s);
    else
        message_done(c, s, true);
    sd->skipped += n - rest;
    sd->stray = false;
    sd->state = PS_RESYNC;
}

/*
 * Capture: a gap in a chunked body loses the chunk framing; the rest of the body runs as a body
 * of unknown length (the next message's start, or the close, ends it).
 */
static void gap_in_chunked(struct conversation *c, enum side s, uint64_t n)
{
    struct half *sd = &c->side[s];
    struct message *m = exchange_msg(sd->ex, s);
    stop_chunked(sd);
    sd->framing.kind = BODY_UNKNOWN;
    sd->cut_min = sd->cut_max = 0;
    note_gap(c, s, n, "the chunked framing is lost; the body ends where the next message starts");
    m->body_wire += n;
    m->body_size += n;
    sd->hashing = false;
    sd->boundary = true;
}

/*
 * Capture: the snap length cut n bytes from a client packet. When they hold room for a whole
 * request beyond what the message in progress still needs, requests pipelined after it may have
 * been among them: the latest request begun says so (its response will tell, see begin_lost),
 * or, when its response has begun, the conversation does at once.
 */
static void client_cut(struct conversation *c, uint64_t n)
{
    struct half *sd = &c->side[SIDE_CLIENT];
    uint64_t need = 0;
    if (sd->state == PS_HEAD)
        need = 1; /* at least the LF that ends the head */
    else if (sd->state == PS_BODY && sd->framing.kind == BODY_LENGTH)
        need = sd->remaining;
    else if (sd->state == PS_BODY && sd->framing.kind == BODY_CHUNKED)
        need = 5; /* at least the last chunk, "0" CRLF CRLF */
    else if (sd->state == PS_BODY && sd->framing.kind == BODY_UNKNOWN &&
             sd->cut_min > sd->ex->req.wire_bytes)
        need = sd->cut_min - sd->ex->req.wire_bytes;
    else if (sd->state != PS_BODY && sd->state != PS_IDLE && sd->state != PS_RESYNC)
        return; /* a tunnel, a pending switch: no requests follow */
    if (n < need || n - need < CONVERSATION_REQUEST_MIN || c->req_seq == 0)
        return;
    struct lost lost = {c->req_seq, n, c->now};
    for (size_t i = 0; i < c->nfl; i++) {
        struct inflight *f = &c->fl[i];
        if (f->ex->conn_seq == c->req_seq && !(f->ex->resp.flags & MSG_STARTED) && !f->resp_done) {
            f->lost = lost;
            return;
        }
    }
    c->lost = lost;
}

void conversation_gap(struct conversation *c, enum side s, uint64_t n, int64_t ts)
{
    struct half *sd = &c->side[s];
    c->now = ts;
    sd->snap_gap = sd->snap_next;
    sd->snap_next = false;
    if (n == 0)
        return;
    settle_held(c, s);
    if (sd->snap_gap && s == SIDE_CLIENT && c->cfg.capture)
        client_cut(c, n);
    switch (sd->state) {
    case PS_BODY: {
        if (gap_in_body(c, s, n))
            return;
        uint64_t rest = body_left(sd, exchange_msg(sd->ex, s));
        if (rest < n) {
            gap_past_body(c, s, n, rest);
            break;
        }
        if (c->cfg.capture && sd->framing.kind == BODY_CHUNKED &&
            (exchange_msg(sd->ex, s)->flags & MSG_SNAPLEN)) {
            gap_in_chunked(c, s, n);
            return;
        }
        /* framing is lost */
        __attribute__((fallthrough));
    }
    case PS_HEAD: {
        if (sd->state == PS_HEAD && c->cfg.capture && cut_head(c, s, n))
            return;
        add_gap(c, s, n);
        if (sd->state == PS_HEAD)
            release_scratch(sd);
        /* A capture resynchronises after the gap (message_done sees to it). A live side
         * stays dead on this exchange, as after any framing it cannot follow: resuming
         * there would read what comes next as another message of the same exchange. */
        message_done(c, s, false);
        break;
    }
    case PS_TUNNEL: {
        add_gap(c, s, n);
        sd->ex->tunnel_bytes[s] += n;
        break;
    }
    case PS_DEAD: break;
    default:
        sd->skipped += n;
        sd->stray = false;
        sd->state = PS_RESYNC;
        sd->mid_line = false; /* where a gap ends is unknown: look from there */
        dynbuf_reset(&sd->hold);
        break;
    }
    if (s == SIDE_SERVER)
        sd->resynced = true;
}

/* The side's current message meets the end of its stream. */
static void close_message(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    if (!sd->ex)
        return;
    struct message *m = exchange_msg(sd->ex, s);
    if (sd->state == PS_BODY && sd->framing.kind == BODY_CLOSE) {
        message_done(c, s, true);
        return;
    }
    if (sd->state == PS_BODY && sd->framing.kind == BODY_UNKNOWN && m->wire_bytes >= sd->cut_min) {
        end_unknown(c, s);
        return;
    }
    if (sd->state == PS_BODY && sd->framing.kind == BODY_CHUNKED && sd->chunked.trailer_off)
        take_trailer(sd->ex, s, &sd->chunked, false);
    if (sd->state == PS_HEAD || sd->state == PS_BODY) {
        exchange_warn(sd->ex, W_EOF_MID_MESSAGE, s, m->wire_bytes, NULL);
        if (sd->state == PS_HEAD) {
            release_scratch(sd);
            if (!(m->flags & MSG_HEAD))
                m->flags |= MSG_UNPARSED;
        }
        message_done(c, s, false);
    }
}

static void end_all(struct conversation *c, bool request_side, bool response_side)
{
    size_t i = 0;
    while (i < c->nfl) {
        struct inflight *f = &c->fl[i];
        if (request_side)
            f->req_done = true;
        if (response_side)
            f->resp_done = true;
        if (f->req_done && f->resp_done) {
            end_exchange(c, f->ex);
            continue;
        }
        i++;
    }
}

/*
 * Capture: begins an exchange of its own for something no exchange in flight can carry (a
 * request without its response when s is the client, a response without a request when s is the
 * server); end_record ends it.
 */
static struct exchange *begin_record(struct conversation *c, enum side s)
{
    (void)room_for_one(c, s); /* true in a capture: it gives up the oldest exchange */
    struct exchange *ex = begin(c, s == SIDE_CLIENT);
    ex->t[s == SIDE_CLIENT ? T_REQ_FIRST : T_RESP_FIRST] = c->now;
    return ex;
}

static void end_record(struct conversation *c, struct exchange *ex)
{
    struct inflight *f = find(c, ex);
    f->req_done = f->resp_done = true;
    end_exchange(c, ex);
}

/*
 * Capture: bytes skipped while looking for a message start that never came before the end of
 * the stream are reported, so that nothing read vanishes silently: on the exchange still waiting
 * for its response, or on an exchange of their own. Only once the connection has shown HTTP; a
 * stream that never did is not HTTP and is not shown at all.
 */
static void report_skipped_tail(struct conversation *c, enum side s)
{
    struct half *sd = &c->side[s];
    uint64_t n = sd->skipped + sd->hold.len;
    if (!c->cfg.capture || sd->state != PS_RESYNC || n == 0 || c->count == 0)
        return;
    dynbuf_reset(&sd->hold);
    struct inflight *waiting = NULL;
    for (size_t i = 0; s == SIDE_SERVER && !waiting && i < c->nfl; i++)
        if (!c->fl[i].resp_done && c->fl[i].ex != sd->ex)
            waiting = &c->fl[i];
    struct exchange *ex = waiting ? waiting->ex : begin_record(c, s);
    sd->skipped = n;
    report_skipped(ex, sd, s, true);
    if (!waiting)
        end_record(c, ex);
}

void conversation_record(struct conversation *c, enum side side, enum warning_code code,
                         const char *detail)
{
    assert(c->cfg.capture);
    struct exchange *ex = begin_record(c, side);
    exchange_warn(ex, code, side, 0, "%s", detail);
    end_record(c, ex);
}

void conversation_close(struct conversation *c, enum side s, int64_t ts)
{
    struct half *sd = &c->side[s];
    c->now = ts;
    if (sd->closed)
        return;
    sd->closed = true;
    if (c->tunnel) {
        if (c->side[SIDE_OTHER(s)].closed) {
            c->tunnel = false;
            end_all(c, true, true);
        }
        return;
    }
    settle_held(c, s);
    report_skipped_tail(c, s);
    close_message(c, s);
    if (s == SIDE_SERVER)
        end_all(c, false, true); /* no response can come any more */
    else
        for (size_t i = 0; i < c->nfl; i++)
            if (c->fl[i].ex != c->side[SIDE_CLIENT].ex)
                c->fl[i].req_done = true;
}

void conversation_boundary(struct conversation *c, enum side side)
{
    struct half *sd = &c->side[side];
    settle_held(c, side);
    if (sd->state == PS_BODY && sd->framing.kind == BODY_UNKNOWN)
        sd->boundary = true;
}

void conversation_flag(struct conversation *c, enum side side, uint32_t exchange_flags,
                       uint32_t message_flags)
{
    struct exchange *ex = c->side[side].ex;
    if (message_flags & MSG_SNAPLEN)
        c->side[side].snap_next = true;
    if (!ex)
        return;
    ex->flags |= exchange_flags;
    exchange_msg(ex, side)->flags |= message_flags;
}

bool conversation_is_tunnel(const struct conversation *c)
{
    return c->tunnel;
}

bool conversation_side_closed(const struct conversation *c, enum side side)
{
    const struct half *sd = &c->side[side];
    return sd->closed || sd->state == PS_DEAD || (sd->no_more && sd->state == PS_IDLE);
}

bool conversation_idle(const struct conversation *c)
{
    return c->nfl == 0 && c->side[SIDE_CLIENT].state == PS_IDLE && c->side[SIDE_CLIENT].ncrlf == 0;
}

struct exchange *conversation_current(const struct conversation *c, enum side side)
{
    return c->side[side].ex;
}

struct exchange *conversation_inflight(const struct conversation *c, uint32_t seq)
{
    /* fl is in the order the exchanges began, which is the order of their numbers. */
    for (size_t i = 0; i < c->nfl; i++)
        if (c->fl[i].ex->conn_seq >= seq)
            return c->fl[i].ex;
    return NULL;
}

const struct framing *conversation_framing(const struct conversation *c, enum side side)
{
    return &c->side[side].framing;
}

uint32_t conversation_count(const struct conversation *c)
{
    return c->count;
}

/* --- construction --- */

struct conversation *conversation_new(const struct conversation_config *cfg,
                                      const struct conversation_events *events)
{
    struct conversation *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    if (c->cfg.limits.head_max == 0) {
        struct http_limits d = HTTP_LIMITS_DEFAULT;
        c->cfg.limits = d;
    }
    if (c->cfg.exchange.head_max == 0)
        c->cfg.exchange.head_max = c->cfg.limits.head_max;
    c->ev = *events;
    for (int s = 0; s < 2; s++) {
        dynbuf_init(&c->side[s].hold, CONVERSATION_PENDING_MAX);
        dynbuf_init(&c->side[s].replay, CONVERSATION_PENDING_MAX);
        c->side[s].state = cfg->midstream ? PS_RESYNC : PS_IDLE;
    }
    return c;
}

void conversation_free(struct conversation *c)
{
    if (!c)
        return;
    c->tunnel = false;
    for (int s = 0; s < 2; s++)
        settle_held(c, (enum side)s);
    for (int s = 0; s < 2; s++) {
        struct half *sd = &c->side[s];
        if (sd->ex && (sd->state == PS_HEAD || sd->state == PS_BODY)) {
            struct message *m = exchange_msg(sd->ex, (enum side)s);
            if (!(m->flags & MSG_HEAD) && sd->state == PS_HEAD)
                m->flags |= MSG_UNPARSED;
        }
        stop_chunked(sd);
    }
    struct half *cl = &c->side[SIDE_CLIENT];
    if (cl->hold.len && cl->state == PS_WAIT_SWITCH && c->nfl) {
        /* Bytes sent after a CONNECT or Upgrade that was never answered: keep them visible. */
        struct exchange *ex = c->fl[c->nfl - 1].ex;
        exchange_warn(ex, W_TUNNEL_EARLY_DATA, SIDE_CLIENT, ex->req.wire_bytes,
                      "%zu %s after the request, never answered", cl->hold.len,
                      plural_bytes(cl->hold.len));
        append_raw(&ex->req, cl->hold.data, cl->hold.len);
        dynbuf_reset(&cl->hold);
    }
    end_all(c, true, true);
    for (int s = 0; s < 2; s++) {
        release_scratch(&c->side[s]);
        dynbuf_cleanup(&c->side[s].hold);
        dynbuf_cleanup(&c->side[s].replay);
    }
    free(c);
}
