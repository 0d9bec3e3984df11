/*
 * harimport owns the way back from HAR to exchanges: restoring hspy's own entries from their
 * raw bytes and records, running the engine over the bytes harsynth makes for entries of other
 * tools, and the window that hands exchanges to the store in id order and completes them in
 * file order. Bytes always go through the conversation engine; this file never parses HTTP
 * itself, never reads files and never writes anything but the exchanges it builds and the store
 * it was given.
 */
#include "hspy/harimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/conversation.h"
#include "hspy/framing.h"
#include "hspy/harsynth.h"
#include "hspy/jsonget.h"
#include "hspy/sha256.h"
#include "hspy/xmalloc.h"

struct harimport_slot {
    struct exchange *ex;
    uint64_t id;    /* recorded id, 0 when none */
    uint64_t key;   /* place in id order: the id, or the previous entry's for one without */
    uint64_t index; /* position in the file */
    size_t memory;
    bool done;  /* completed when released; else left in flight */
    bool added; /* in the store */
    bool late;  /* its id was taken already: it waits in the late queue */
};

/* ---- small JSON readers ------------------------------------------------------------------- */

/* A flag bit by its name through name_of (exchange_flag_name, message_flag_name); 0 if none. */
static uint32_t flag_bits(const json_t *names, const char *(*name_of)(uint32_t))
{
    uint32_t bits = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(names, i, v)
    {
        if (!json_is_string(v))
            continue;
        for (unsigned b = 0; b < 32; b++)
            if (strcmp(name_of((uint32_t)1 << b), json_string_value(v)) == 0)
                bits |= (uint32_t)1 << b;
    }
    return bits;
}

/* v within [0, max]. */
static uint64_t clamp(int64_t v, uint64_t max)
{
    return v < 0 ? 0 : (uint64_t)v > max ? max : (uint64_t)v;
}

/* A count of bytes or things (never negative: a negative one reads as 0), dflt when absent. */
static uint64_t count_of(const json_t *o, const char *key, uint64_t dflt)
{
    return clamp(jsonget_int(o, key, dflt > INT64_MAX ? INT64_MAX : (int64_t)dflt), UINT64_MAX);
}

static void endpoint_of(const json_t *o, struct endpoint *e)
{
    memset(e, 0, sizeof *e);
    const char *ip = jsonget_str(o, "ip");
    int64_t port = jsonget_int(o, "port", 0);
    if (ip && port >= 0 && port <= 65535)
        endpoint_set(e, ip, (uint16_t)port);
}

/* ---- the engine pass ---------------------------------------------------------------------- */

/* The bytes one side sent as the record lists them: kept bytes, plus gaps at side offsets. */
struct side_bytes {
    struct dynbuf raw;
    struct message_gap gaps[MESSAGE_GAPS_MAX];
    uint16_t ngaps;
    uint32_t unlisted; /* gaps the record lists past MESSAGE_GAPS_MAX, or says it left out */
    int64_t t_first, t_last;
    bool present;
    bool snaplen; /* the gaps were packets a snap length cut (MSG_SNAPLEN) */
};

struct replay {
    struct exchange *first;
};

static int on_replay(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                     enum side side, const uint8_t *payload, size_t len)
{
    struct replay *r = data;
    (void)c, (void)side, (void)payload, (void)len;
    /* Bytes past the first message make further exchanges: not part of this entry. */
    if (ev == CONV_BEGIN && !r->first)
        r->first = ex;
    else if (ev == CONV_END && ex != r->first)
        exchange_free(ex);
    return CONV_CONTINUE;
}

/* Feeds all of p; false when the engine stopped taking bytes (it then holds an edited file). */
static bool feed_all(struct conversation *c, enum side s, const uint8_t *p, size_t n, int64_t ts)
{
    while (n > 0) {
        size_t k = conversation_feed(c, s, p, n, ts);
        if (k == 0)
            return false;
        p += k, n -= k;
    }
    return true;
}

/* Feeds side offsets [from, to) of b: kept bytes as bytes, gaps as gaps. */
static bool feed_range(struct conversation *c, enum side s, const struct side_bytes *b,
                       uint64_t from, uint64_t to)
{
    uint64_t side = 0, raw = 0;
    bool ok = true;
    for (uint16_t i = 0; i <= b->ngaps && ok; i++) {
        uint64_t until = i < b->ngaps ? b->gaps[i].off : UINT64_MAX;
        uint64_t kept = until > side ? until - side : 0;
        if (kept > b->raw.len - raw)
            kept = b->raw.len - raw;
        uint64_t lo = side > from ? side : from, hi = side + kept < to ? side + kept : to;
        if (lo < hi)
            ok = feed_all(c, s, b->raw.data + raw + (lo - side), (size_t)(hi - lo), b->t_first);
        side += kept, raw += kept;
        if (i < b->ngaps && side >= from && side < to) {
            /* As the capture said it: a snap length's gaps frame a cut head's body. */
            if (b->snaplen)
                conversation_flag(c, s, EX_TRUNCATED, MSG_SNAPLEN);
            conversation_gap(c, s, b->gaps[i].len, b->t_first);
            side += b->gaps[i].len;
        } else if (i < b->ngaps) {
            side += b->gaps[i].len;
        }
    }
    return ok;
}

/* The side offset of raw offset off of b: the gaps before it count (a gap that cut a head lies
 * before its body, a cut interim response's before the final head). */
static uint64_t side_offset(const struct side_bytes *b, uint64_t off)
{
    for (uint16_t i = 0; i < b->ngaps && b->gaps[i].off <= off; i++)
        off += b->gaps[i].len;
    return off;
}

/*
 * A head that ends with a CR alone at the start of a line is complete only once the byte after
 * that CR is seen and is not a LF (see http.c's parse_fields). When the head is the last thing
 * a side sent for the exchange, that byte was the first of the next message on the connection,
 * which the entry does not hold: when the record says the head was complete and the engine still
 * waits at such a CR, one byte that is not a LF stands in for it. The byte starts a message of
 * its own (an exchange the replay drops), never this one's.
 */
static bool settle_head(struct conversation *c, const struct replay *r, enum side s,
                        const struct side_bytes *b, bool head)
{
    static const uint8_t decider = 'x';
    if (!head || !b->present || !r->first || (exchange_msg(r->first, s)->flags & MSG_HEAD))
        return true;
    if (b->raw.len < 2 || b->raw.data[b->raw.len - 1] != '\r' ||
        b->raw.data[b->raw.len - 2] != '\n')
        return true;
    return feed_all(c, s, &decider, 1, b->t_last);
}

/*
 * Runs the engine over both sides: the request head, then (for tunnels and interim responses,
 * whose bytes went back and forth) the response up to its split, then the rest of each.
 * head[s] says whether the record has side s's head complete.
 */
static struct exchange *replay(const struct conversation_config *cc, struct side_bytes sb[2],
                               const bool head[2], uint64_t req_split, uint64_t resp_split,
                               bool close, bool *complete)
{
    struct replay r = {NULL};
    struct conversation_events ev = {&r, on_replay};
    struct conversation *c = conversation_new(cc, &ev);
    bool ok = true;
    if (sb[SIDE_CLIENT].present)
        ok &= feed_range(c, SIDE_CLIENT, &sb[SIDE_CLIENT], 0, req_split);
    if (sb[SIDE_SERVER].present)
        ok &= feed_range(c, SIDE_SERVER, &sb[SIDE_SERVER], 0, resp_split);
    if (sb[SIDE_CLIENT].present)
        ok &= feed_range(c, SIDE_CLIENT, &sb[SIDE_CLIENT], req_split, UINT64_MAX);
    ok &= settle_head(c, &r, SIDE_CLIENT, &sb[SIDE_CLIENT], head[SIDE_CLIENT]);
    if (sb[SIDE_SERVER].present)
        ok &= feed_range(c, SIDE_SERVER, &sb[SIDE_SERVER], resp_split, UINT64_MAX);
    ok &= settle_head(c, &r, SIDE_SERVER, &sb[SIDE_SERVER], head[SIDE_SERVER]);
    if (close) {
        conversation_close(c, SIDE_CLIENT, sb[SIDE_CLIENT].t_last);
        conversation_close(c, SIDE_SERVER, sb[SIDE_SERVER].t_last);
    }
    conversation_free(c);
    *complete = ok;
    return r.first ? r.first : exchange_new(&cc->exchange);
}

/* ---- hspy's own entries ------------------------------------------------------------------- */

static bool is_hspy_record(const json_t *hs)
{
    if (!json_is_object(hs) || jsonget_int(hs, "version", 0) < 1)
        return false;
    const json_t *q = json_object_get(hs, "request"), *r = json_object_get(hs, "response");
    /* An exchange that saw no byte on either side (bytes skipped at the end of a capture) is
     * still a record of hspy's: it carries its flags and warnings. */
    return (json_is_object(q) && jsonget_str(q, "raw")) ||
           (json_is_object(r) && jsonget_str(r, "raw")) ||
           (!json_is_object(q) && !json_is_object(r));
}

/* Reads one side's record into sb; false when its raw is not base64. */
static bool side_record(const json_t *rec, struct side_bytes *sb)
{
    memset(sb, 0, sizeof *sb);
    if (!json_is_object(rec))
        return true;
    const char *raw = jsonget_str(rec, "raw");
    size_t n = jsonget_strlen(rec, "raw");
    dynbuf_init(&sb->raw, n);
    if (!raw || base64_decode(&sb->raw, raw, n) != 0)
        return false;
    sb->present = true;
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(rec, "gaps"), i, g)
    {
        if (sb->ngaps >= MESSAGE_GAPS_MAX) {
            sb->unlisted++;
            continue;
        }
        sb->gaps[sb->ngaps++] =
            (struct message_gap){count_of(g, "offset", 0), count_of(g, "size", 0)};
    }
    sb->unlisted +=
        (uint32_t)clamp(jsonget_int(rec, "gaps_unlisted", 0), UINT32_MAX - sb->unlisted);
    sb->t_first = jsonget_int(rec, "first_byte_ns", 0);
    sb->t_last = jsonget_int(rec, "last_byte_ns", 0);
    sb->snaplen = (flag_bits(json_object_get(rec, "flags"), message_flag_name) & MSG_SNAPLEN) != 0;
    return true;
}

/* The trailer section kept apart from raw ("trailer", base64), when the record has one. */
static void restore_trailer(struct exchange *ex, struct message *m, const json_t *rec)
{
    const char *t = jsonget_str(rec, "trailer");
    size_t n = jsonget_strlen(rec, "trailer");
    if (!t || n == 0)
        return;
    struct dynbuf b;
    dynbuf_init(&b, n);
    if (base64_decode(&b, t, n) == 0 && b.len && b.len <= UINT32_MAX) {
        m->trailer = arena_memdup(&ex->arena, b.data, b.len);
        m->trailer_len = (uint32_t)b.len;
    }
    dynbuf_cleanup(&b);
}

/*
 * The chunk extensions kept apart from raw ("chunk_extensions", "chunk_extensions_unlisted"):
 * entries the decoder could not have kept (past CHUNKED_EXT_KEPT_MAX, longer than a kept line,
 * a CR or LF in them, not base64) are counted with the unlisted ones.
 */
static void restore_chunk_ext(struct exchange *ex, struct message *m, const json_t *rec)
{
    const json_t *list = json_object_get(rec, "chunk_extensions");
    uint64_t unlisted = count_of(rec, "chunk_extensions_unlisted", 0);
    if (!json_is_array(list) && unlisted == 0)
        return;
    struct dynbuf kept, ext;
    dynbuf_init(&kept, CHUNKED_EXT_LIST_MAX + 1);
    dynbuf_init(&ext, CHUNKED_EXT_LINE_MAX);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *text = jsonget_str(v, "extensions");
        size_t n = jsonget_strlen(v, "extensions");
        dynbuf_reset(&ext);
        struct chunked_ext e = {
            .chunk = (uint32_t)clamp(jsonget_int(v, "chunk", 0), UINT32_MAX),
            .size = count_of(v, "size", 0),
            .cut = json_is_true(json_object_get(v, "cut")),
        };
        bool ok = i < CHUNKED_EXT_KEPT_MAX && text && base64_decode(&ext, text, n) == 0;
        e.ext = ext.data ? ext.data : (const uint8_t *)"";
        e.len = (uint32_t)ext.len;
        if (!ok || !chunked_ext_append(&kept, &e))
            unlisted++;
    }
    message_keep_chunk_ext(m, &ex->arena, kept.data, kept.len,
                           (uint32_t)(unlisted < UINT32_MAX ? unlisted : UINT32_MAX));
    dynbuf_cleanup(&ext);
    dynbuf_cleanup(&kept);
}

static enum body_kind body_kind_named(const char *name, enum body_kind fallback)
{
    for (int k = BODY_NONE; k <= BODY_UNKNOWN; k++)
        if (name && strcmp(body_kind_name((enum body_kind)k), name) == 0)
            return (enum body_kind)k;
    return fallback;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool sha256_of(const char *hex, uint8_t out[SHA256_DIGEST_LEN])
{
    if (!hex || strlen(hex) != 2 * SHA256_DIGEST_LEN)
        return false;
    for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Whether the engine's head was read from the very bytes the record holds. */
static bool head_matches(const struct message *m, const struct dynbuf *raw)
{
    if (!(m->flags & MSG_HEAD))
        return false;
    size_t end = (size_t)m->head_off + m->head.len;
    return end <= raw->len && end <= m->raw.len && memcmp(m->raw.data, raw->data, end) == 0;
}

static void restore_gaps(struct exchange *ex, struct message *m, const struct side_bytes *sb)
{
    m->ngaps = 0;
    m->gaps_unlisted =
        (uint16_t)(sb->unlisted < MESSAGE_COUNT_MAX ? sb->unlisted : MESSAGE_COUNT_MAX);
    if (!sb->ngaps)
        return;
    if (!m->gaps)
        m->gaps = arena_alloc(&ex->arena, MESSAGE_GAPS_MAX * sizeof *m->gaps);
    memcpy(m->gaps, sb->gaps, sb->ngaps * sizeof *m->gaps);
    m->ngaps = sb->ngaps;
}

static void restore_interim(struct exchange *ex, struct message *m, const json_t *list)
{
    size_t i;
    const json_t *v;
    m->ninterim = 0;
    json_array_foreach(list, i, v)
    {
        uint64_t off = clamp(jsonget_int(v, "offset", 0), m->raw.len);
        uint64_t len = clamp(jsonget_int(v, "size", 0), m->raw.len - off);
        if (!exchange_add_interim(
                ex, m,
                (struct message_interim){(uint32_t)off, (uint32_t)len,
                                         (uint16_t)clamp(jsonget_int(v, "status", 0), 999)}))
            break;
    }
}

/* The message as recorded: the recorded bytes, the engine's head when it read those bytes. */
static bool restore_message(struct exchange *ex, enum side s, const json_t *rec,
                            struct side_bytes *sb)
{
    struct message *m = exchange_msg(ex, s);
    if (!sb->present)
        return true;
    uint32_t flags = flag_bits(json_object_get(rec, "flags"), message_flag_name);
    bool head = head_matches(m, &sb->raw) && (flags & MSG_HEAD);
    bool same = head == ((flags & MSG_HEAD) != 0);
    if (m->raw.max < sb->raw.len)
        m->raw.max = sb->raw.len;
    dynbuf_reset(&m->raw);
    dynbuf_append(&m->raw, sb->raw.data, sb->raw.len);
    m->flags = head ? flags : flags & ~(uint32_t)MSG_HEAD;
    if (!head)
        m->head_off = (uint32_t)clamp(jsonget_int(rec, "head_offset", 0), m->raw.len);
    /* Never less than what was kept (the bytes kept were on the wire). */
    m->wire_bytes = count_of(rec, "wire_size", m->raw.len);
    if (m->wire_bytes < m->raw.len)
        m->wire_bytes = m->raw.len;
    m->body_kind =
        (uint8_t)body_kind_named(jsonget_str(rec, "body_framing"), (enum body_kind)m->body_kind);
    m->content_length = count_of(rec, "content_length", m->content_length);
    m->body_off = clamp(jsonget_int(rec, "body_offset", 0), m->raw.len);
    m->body_wire = count_of(rec, "body_wire_size", 0);
    m->body_size = count_of(rec, "body_size", 0);
    m->chunks = (uint32_t)clamp(jsonget_int(rec, "chunks", 0), UINT32_MAX);
    /* past raw when raw stopped keeping before the trailer section */
    m->trailer_off = clamp(jsonget_int(rec, "trailer_offset", 0), m->wire_bytes);
    restore_trailer(ex, m, rec);
    restore_chunk_ext(ex, m, rec);
    m->interim_dropped = (uint16_t)clamp(jsonget_int(rec, "interim_dropped", 0), MESSAGE_COUNT_MAX);
    restore_interim(ex, m, json_object_get(rec, "interim"));
    restore_gaps(ex, m, sb);
    m->gap_bytes = count_of(rec, "gap_bytes", 0);
    uint8_t sum[SHA256_DIGEST_LEN];
    if (sha256_of(jsonget_str(rec, "sha256"), sum))
        m->sha256 = arena_memdup(&ex->arena, sum, sizeof sum);
    else
        m->flags &= ~(uint32_t)MSG_HASHED;
    m->t_first = sb->t_first;
    m->t_last = sb->t_last;
    return same;
}

/*
 * Engine warnings that come from replaying one exchange alone, not from its bytes; lost says the
 * record's request was lost by the capture (MSG_LOST), which the replay, having no request to
 * pair the response with, reads as a response without one.
 */
static bool replay_artifact(uint16_t code, bool lost)
{
    return code == W_EOF_MID_MESSAGE || code == W_TUNNEL_EARLY_DATA || code == W_CAPTURE_GAP ||
           code == W_MIDSTREAM || code == W_EXTRA_BYTES || code == W_RETRANSMIT_DIFFERS ||
           code == W_SNAPLEN_TRUNCATED || (lost && code == W_RESPONSE_WITHOUT_REQUEST);
}

static bool listed(const json_t *list, uint16_t code)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *name = jsonget_str(v, "code");
        if (name && warning_by_name(name) == code)
            return true;
    }
    return false;
}

/* The recorded warnings in their order (the engine's detail text when it found the same one,
 * as that keeps bytes a record had to make lossy, unless the replay of one exchange alone cannot
 * tell what the capture told: a capture-gap's count of all the message's gaps, say), then what
 * only the engine found. */
static void restore_warnings(struct exchange *ex, const json_t *list, int64_t dropped, bool lost)
{
    uint16_t n = ex->nwarnings;
    struct warning engine[EXCHANGE_WARNINGS_MAX];
    if (n)
        memcpy(engine, ex->warnings, n * sizeof *engine);
    ex->nwarnings = 0;
    ex->warnings_dropped = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        enum warning_code code =
            warning_by_name(jsonget_str(v, "code") ? jsonget_str(v, "code") : "");
        const char *side_name = jsonget_str(v, "side");
        enum side side =
            side_name && strcmp(side_name, "response") == 0 ? SIDE_SERVER : SIDE_CLIENT;
        uint64_t off = count_of(v, "offset", 0);
        if (code == W_NONE) {
            ex->warnings_dropped++; /* a code this version does not know */
            continue;
        }
        const char *detail = jsonget_str(v, "detail");
        for (uint16_t k = 0; k < n && !(detail && replay_artifact(code, lost)); k++)
            if (engine[k].code == code && engine[k].side == side && engine[k].offset == off)
                detail = engine[k].detail;
        if (detail)
            exchange_warn(ex, code, side, off, "%s", detail);
        else
            exchange_warn(ex, code, side, off, NULL);
    }
    /* Only codes the record never mentions: where it does, the engine that saw the bytes as
     * they arrived decided the offsets (a split head can report a bare LF at another line). */
    for (uint16_t k = 0; k < n; k++)
        if (!replay_artifact(engine[k].code, lost) && !listed(list, engine[k].code)) {
            if (engine[k].detail)
                exchange_warn(ex, engine[k].code, engine[k].side, engine[k].offset, "%s",
                              engine[k].detail);
            else
                exchange_warn(ex, engine[k].code, engine[k].side, engine[k].offset, NULL);
        }
    ex->warnings_dropped += (uint32_t)(dropped > 0 ? dropped : 0);
}

static const char *arena_str(struct exchange *ex, const char *s)
{
    return s ? arena_strdup(&ex->arena, s) : NULL;
}

/* Everything of the exchange the record holds besides its messages. */
static void restore_exchange(struct exchange *ex, const json_t *hs, bool *done)
{
    ex->conn_id = count_of(hs, "connection", 0);
    ex->conn_seq = (uint32_t)clamp(jsonget_int(hs, "seq", 0), UINT32_MAX);
    endpoint_of(json_object_get(hs, "client"), &ex->client);
    endpoint_of(json_object_get(hs, "server"), &ex->server);
    uint32_t flags = flag_bits(json_object_get(hs, "flags"), exchange_flag_name);
    *done = (flags & EX_DONE) != 0;
    /* The store sets done; nothing holds the exchange any more. */
    ex->flags = flags & ~(uint32_t)(EX_DONE | EX_HELD | EX_EVICTED);
    const json_t *times = json_object_get(hs, "timings_ns");
    for (int i = 0; i < T__COUNT; i++)
        ex->t[i] = jsonget_int(times, exchange_time_name((enum exchange_time)i), 0);
    const json_t *tunnel = json_object_get(hs, "tunnel");
    ex->tunnel_bytes[SIDE_CLIENT] = count_of(tunnel, "client_bytes", 0);
    ex->tunnel_bytes[SIDE_SERVER] = count_of(tunnel, "server_bytes", 0);
    restore_warnings(ex, json_object_get(hs, "warnings"), jsonget_int(hs, "warnings_dropped", 0),
                     (ex->req.flags & MSG_LOST) != 0);
    ex->error = arena_str(ex, jsonget_str(hs, "error"));
    ex->note = arena_str(ex, jsonget_str(hs, "note"));
    ex->replay_of = count_of(hs, "replay_of", 0);
}

static struct exchange *restore(struct harimport *h, const json_t *hs, uint64_t *id, bool *done)
{
    const json_t *rec[2] = {json_object_get(hs, "request"), json_object_get(hs, "response")};
    struct side_bytes sb[2];
    bool readable = side_record(rec[0], &sb[0]);
    readable &= side_record(rec[1], &sb[1]);
    if (!readable) {
        dynbuf_cleanup(&sb[0].raw);
        dynbuf_cleanup(&sb[1].raw);
        return NULL;
    }
    struct conversation_config cc;
    memset(&cc, 0, sizeof cc);
    cc.limits = *h->cfg.limits;
    cc.exchange = *h->cfg.ex_limits;
    /* Capture rules: bytes that are no HTTP stay unparsed rather than being read as HTTP/0.9
     * (the record says what the session made of them). */
    cc.capture = true;
    /* The engine must see every kept byte even when this session keeps fewer. */
    for (int s = 0; s < 2; s++)
        if (sb[s].raw.len > cc.exchange.body_keep)
            cc.exchange.body_keep = sb[s].raw.len;
    uint32_t exflags = flag_bits(json_object_get(hs, "flags"), exchange_flag_name);
    bool interim = json_array_size(json_object_get(rec[1], "interim")) > 0;
    /* The record's offsets are in raw; the replay feeds side offsets, gaps included. */
    uint64_t req_split = UINT64_MAX, resp_split = 0;
    if (exflags & EX_TUNNEL) {
        req_split = side_offset(&sb[0], clamp(jsonget_int(rec[0], "body_offset", 0), UINT64_MAX));
        resp_split = side_offset(&sb[1], clamp(jsonget_int(rec[1], "body_offset", 0), UINT64_MAX));
    } else if (interim) {
        req_split = side_offset(&sb[0], clamp(jsonget_int(rec[0], "body_offset", 0), UINT64_MAX));
        resp_split = side_offset(&sb[1], clamp(jsonget_int(rec[1], "head_offset", 0), UINT64_MAX));
    }
    bool head[2];
    for (int s = 0; s < 2; s++)
        head[s] = (flag_bits(json_object_get(rec[s], "flags"), message_flag_name) & MSG_HEAD) != 0;
    bool fed;
    struct exchange *ex = replay(&cc, sb, head, req_split, resp_split, false, &fed);
    bool same = restore_message(ex, SIDE_CLIENT, rec[0], &sb[0]);
    same &= restore_message(ex, SIDE_SERVER, rec[1], &sb[1]);
    if (!same || !fed)
        h->counters.differs++;
    restore_exchange(ex, hs, done);
    int64_t rid = jsonget_int(hs, "id", 0);
    *id = rid > 0 ? (uint64_t)rid : 0;
    dynbuf_cleanup(&sb[0].raw);
    dynbuf_cleanup(&sb[1].raw);
    h->counters.hspy++;
    return ex;
}

/* ---- entries of other tools --------------------------------------------------------------- */

/* Feeds a synthesized message: its bytes, then a gap for the body the HAR lacks. */
static void feed_synth(struct conversation *c, enum side s, const struct harsynth_message *m)
{
    if (!m->present)
        return;
    feed_all(c, s, m->bytes.data, m->bytes.len, 0);
    if (m->missing)
        conversation_gap(c, s, m->missing, 0);
}

/* The engine reads the synthesized bytes like any connection's: request, response, close. */
static struct exchange *synthesize(struct harimport *h, const json_t *entry, char *why,
                                   size_t whylen)
{
    struct harsynth_message msg[2];
    struct dynbuf note;
    dynbuf_init(&note, 4096);
    struct exchange *ex = NULL;
    if (harsynth_messages(&h->synth, entry, msg, &note, why, whylen) == 0) {
        struct conversation_config cc;
        memset(&cc, 0, sizeof cc);
        cc.limits = *h->cfg.limits;
        cc.exchange = *h->cfg.ex_limits;
        struct replay rp = {NULL};
        struct conversation_events ev = {&rp, on_replay};
        struct conversation *c = conversation_new(&cc, &ev);
        feed_synth(c, SIDE_CLIENT, &msg[SIDE_CLIENT]);
        feed_synth(c, SIDE_SERVER, &msg[SIDE_SERVER]);
        conversation_close(c, SIDE_CLIENT, 0);
        conversation_close(c, SIDE_SERVER, 0);
        conversation_free(c);
        ex = rp.first ? rp.first : exchange_new(&cc.exchange);
        harsynth_apply(&h->synth, entry, ex, dynbuf_str(&note));
        h->counters.foreign++;
    }
    harsynth_messages_cleanup(msg);
    dynbuf_cleanup(&note);
    return ex;
}

struct exchange *harimport_build(struct harimport *h, const json_t *entry, uint64_t *id, bool *done,
                                 char *why, size_t whylen)
{
    *id = 0;
    *done = true;
    if (!json_is_object(entry)) {
        snprintf(why, whylen, "not an object");
        return NULL;
    }
    const json_t *hs = json_object_get(entry, "_hspy");
    if (is_hspy_record(hs)) {
        struct exchange *ex = restore(h, hs, id, done);
        if (ex)
            return ex;
        /* Unreadable raw bytes: the standard fields still show the exchange. */
        *done = true;
    }
    return synthesize(h, entry, why, whylen);
}

/* ---- the window: ids in order, completion in file order ---------------------------------- */

void harimport_init(struct harimport *h, const struct harimport_config *cfg)
{
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    harsynth_init(&h->synth, cfg->next_conn_id);
    h->window = xcalloc(HARIMPORT_WINDOW, sizeof *h->window);
    h->heap = xcalloc(HARIMPORT_WINDOW, sizeof *h->heap);
    h->late = xcalloc(HARIMPORT_WINDOW, sizeof *h->late);
}

void harimport_cleanup(struct harimport *h)
{
    /* Exchanges already added belong to the store (they stay in flight there). */
    for (size_t i = 0; i < h->count; i++) {
        struct harimport_slot *s = &h->window[(h->head + i) % HARIMPORT_WINDOW];
        if (!s->added)
            exchange_free(s->ex);
    }
    for (size_t i = 0; i < h->late_count; i++)
        exchange_free(h->late[(h->late_head + i) % HARIMPORT_WINDOW].ex);
    free(h->late);
    h->late = NULL;
    h->late_count = 0;
    free(h->window);
    free(h->heap);
    h->heap = NULL;
    h->nheap = 0;
    h->window = NULL;
    h->count = 0;
}

int harimport_log_member(struct harimport *h, const char *key, const json_t *value, char *err,
                         size_t errlen)
{
    if (strcmp(key, "version") == 0) {
        const char *v = json_string_value(value);
        if (!json_is_string(value) || (v[0] && strcmp(v, "1.2") != 0 && strcmp(v, "1.1") != 0)) {
            snprintf(err, errlen, "not a HAR 1.2 file: log.version is %s%.20s%s",
                     json_is_string(value) ? "\"" : "not a string", json_is_string(value) ? v : "",
                     json_is_string(value) ? "\"" : "");
            return -1;
        }
    } else if (strcmp(key, "creator") == 0 && json_is_object(value)) {
        snprintf(h->synth.creator, sizeof h->synth.creator, "%.48s%s%.40s",
                 jsonget_str(value, "name") ? jsonget_str(value, "name") : "?",
                 jsonget_str(value, "version") ? " " : "",
                 jsonget_str(value, "version") ? jsonget_str(value, "version") : "");
    }
    return 0;
}

/* Whether slot a goes into the store before slot b: in id order, then the file's order. */
static bool before(const struct harimport_slot *a, const struct harimport_slot *b)
{
    return a->key != b->key ? a->key < b->key : a->index < b->index;
}

static struct harimport_slot *heap_at(const struct harimport *h, size_t i)
{
    return &h->window[h->heap[i]];
}

static void heap_swap(struct harimport *h, size_t a, size_t b)
{
    uint16_t t = h->heap[a];
    h->heap[a] = h->heap[b];
    h->heap[b] = t;
}

/* The slots not in the store yet form a binary heap ordered by before(). */
static void heap_push(struct harimport *h, size_t pos)
{
    size_t i = h->nheap++;
    h->heap[i] = (uint16_t)pos;
    while (i > 0 && before(heap_at(h, i), heap_at(h, (i - 1) / 2))) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct harimport_slot *heap_pop(struct harimport *h)
{
    struct harimport_slot *top = heap_at(h, 0);
    h->heap[0] = h->heap[--h->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->nheap && before(heap_at(h, l), heap_at(h, m)))
            m = l;
        if (r < h->nheap && before(heap_at(h, r), heap_at(h, m)))
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

/*
 * Adds one slot's exchange under its recorded id. An id the store has passed already cannot be
 * kept: numbering it on would take the ids the following entries want, so it waits in the late
 * queue and enters the store after them.
 */
static void add(struct harimport *h, struct harimport_slot *s)
{
    struct store *st = h->cfg.store;
    if (!s->id) {
        store_add(st, s->ex);
        s->added = true;
    } else if (s->id >= store_end_id(st) && s->id - store_first_id(st) < HARIMPORT_ID_SPAN_MAX) {
        store_add_as(st, s->ex, s->id);
        s->added = true;
    } else {
        s->late = true;
        h->counters.renumbered++;
    }
}

/* The oldest late exchange enters the store with the next id. */
static void flush_late(struct harimport *h)
{
    struct harimport_slot *s = &h->late[h->late_head];
    store_add(h->cfg.store, s->ex);
    if (s->done)
        store_complete(h->cfg.store, s->ex);
    h->late_memory -= s->memory;
    s->ex = NULL;
    h->late_head = (h->late_head + 1) % HARIMPORT_WINDOW;
    h->late_count--;
}

static void defer(struct harimport *h, const struct harimport_slot *s)
{
    while (h->late_count >= HARIMPORT_WINDOW ||
           (h->late_count && h->late_memory > HARIMPORT_WINDOW_MEMORY))
        flush_late(h);
    h->late[(h->late_head + h->late_count++) % HARIMPORT_WINDOW] = *s;
    h->late_memory += s->memory;
}

/*
 * Releases the oldest slot: every waiting exchange whose id comes before it enters the store
 * first (so it keeps its id), then it enters (if it can) and completes.
 */
static void release(struct harimport *h)
{
    struct harimport_slot *head = &h->window[h->head];
    while (!head->added && !head->late)
        add(h, heap_pop(h));
    while (h->nheap && before(heap_at(h, 0), head))
        add(h, heap_pop(h));
    h->window_memory -= head->memory;
    if (head->late)
        defer(h, head);
    else if (head->done)
        store_complete(h->cfg.store, head->ex);
    head->ex = NULL;
    h->head = (h->head + 1) % HARIMPORT_WINDOW;
    h->count--;
}

void harimport_entry(struct harimport *h, const json_t *entry)
{
    char why[200];
    uint64_t id;
    bool done;
    h->counters.entries++;
    struct exchange *ex = harimport_build(h, entry, &id, &done, why, sizeof why);
    uint64_t index = h->index++;
    if (!ex) {
        if (h->counters.skipped++ == 0)
            snprintf(h->problem, sizeof h->problem, "entry %llu: %s", (unsigned long long)index + 1,
                     why);
        return;
    }
    while (h->count >= HARIMPORT_WINDOW || (h->count && h->window_memory > HARIMPORT_WINDOW_MEMORY))
        release(h);
    size_t pos = (h->head + h->count) % HARIMPORT_WINDOW;
    struct harimport_slot *s = &h->window[pos];
    if (id)
        h->last_id = id;
    *s = (struct harimport_slot){
        ex, id, id ? id : h->last_id, index, exchange_memory(ex), done, false, false};
    h->window_memory += s->memory;
    h->count++;
    heap_push(h, pos);
}

/*
 * Moves the window on as far as nothing later in the file could change: a waiting exchange
 * whose id is the next the store gives (or whose place no later id could take) enters now, and
 * heads already in the store complete. What enters keeps the id and the order a full window
 * would have given it: a later entry with a smaller id could not have kept its id either.
 */
void harimport_settle(struct harimport *h)
{
    const struct store *st = h->cfg.store;
    while (h->nheap) {
        const struct harimport_slot *top = heap_at(h, 0);
        if (top->id ? top->id != store_end_id(st) : top->key >= store_end_id(st))
            break;
        add(h, heap_pop(h));
    }
    while (h->count) {
        const struct harimport_slot *head = &h->window[h->head];
        if (!(head->added || head->late) || (h->nheap && before(heap_at(h, 0), head)))
            break;
        release(h);
    }
}

void harimport_finish(struct harimport *h)
{
    while (h->count)
        release(h);
    while (h->late_count)
        flush_late(h);
}
