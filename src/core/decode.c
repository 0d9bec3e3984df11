/*
 * decode owns the removal of content codings. A body's codings become a chain of layers, the
 * rightmost first; each layer decodes into its own DECODE_CHUNK buffer and pushes every filled
 * buffer straight into the next layer, the last one into the caller's output. So a stacked
 * body never exists whole at any intermediate stage, every layer's output is capped, and a
 * failure knows exactly which layer and which input offset it happened at.
 *
 * gzip headers and trailers are parsed here rather than by zlib so their faults have exact
 * offsets and clear messages, and so several members and trailing garbage can be told apart;
 * the compressed data itself always goes through zlib, brotli and libzstd streaming decoders.
 * It never does I/O and keeps no state between calls.
 */
#define ZLIB_CONST
#include "hspy/decode.h"

#include <assert.h>
#include <brotli/decode.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "hspy/plural.h"
#include "hspy/xmalloc.h"

struct chain;
struct layer;

/* One content coding: how a layer starts, takes input, ends and frees its decoder. */
struct codec {
    const char *name;
    int (*feed)(struct layer *l, const uint8_t *p, size_t n); /* 0 = go on, -1 = stop */
    int (*end)(struct layer *l); /* input finished: 0 = complete (or empty), -1 = stop */
    void (*cleanup)(struct layer *l);
};

struct layer {
    const struct codec *codec;
    struct chain *chain;
    int index;
    uint64_t pos;       /* offset in this layer's input of the next byte to consume */
    uint64_t out_total; /* bytes this layer produced */
    uint8_t *buf;       /* DECODE_CHUNK bytes of output */
    int state;          /* the codec's own state machine */
    bool complete;      /* at least one whole stream (member, frame) was decoded */
    uint8_t look[4];    /* bytes held back to recognise what follows (magic numbers) */
    uint8_t nlook;
    uint64_t mark; /* offset of look[0] */
    /* gzip */
    uint8_t flags;   /* FLG of the current member */
    uint32_t need;   /* gzip: bytes left in the current field; zstd: input libzstd wants */
    uint32_t field;  /* little-endian value being assembled */
    uint32_t field2; /* gzip trailer: ISIZE */
    uint32_t hcrc;   /* CRC-32 of the header bytes so far */
    uint32_t crc;    /* CRC-32 of the member's output */
    uint32_t isize;  /* member output length mod 2^32 */
    uint64_t fstart; /* offset of the field being assembled */
    /* decoders */
    z_stream z;
    bool z_ready;
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
};

struct chain {
    struct layer layer[DECODE_LAYERS_MAX];
    int n;
    size_t max;   /* cap on every layer's output */
    size_t limit; /* bytes the caller's out may still take (min of max and out's room) */
    struct dynbuf *out;
    uint64_t produced;
    struct decode_result *res;
    bool stop;
    int trail_layer; /* first layer that ignored trailing bytes, -1 when none */
    uint64_t trail_off;
};

/* ---- results ---------------------------------------------------------------------------- */

static const char *const STATUS_NAMES[] = {"ok", "identity", "unknown", "error", "limit"};

const char *decode_status_label(enum decode_status st)
{
    if ((unsigned)st >= sizeof STATUS_NAMES / sizeof STATUS_NAMES[0])
        return "?";
    return STATUS_NAMES[st];
}

static void set_coding(struct decode_result *res, const char *p, size_t n)
{
    if (n >= sizeof res->coding)
        n = sizeof res->coding - 1;
    memcpy(res->coding, p, n);
    res->coding[n] = '\0';
}

__attribute__((format(printf, 3, 4))) static int fail(struct layer *l, uint64_t off,
                                                      const char *fmt, ...)
{
    struct chain *c = l->chain;
    struct decode_result *res = c->res;
    if (c->stop)
        return -1;
    c->stop = true;
    res->status = DECODE_ERROR;
    res->error_offset = off;
    set_coding(res, l->codec->name, strlen(l->codec->name));
    int k = snprintf(res->message, sizeof res->message, "%s: ", l->codec->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message + k, sizeof res->message - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* The input ended inside a stream; where says which part of it ("the header"). */
static int fail_truncated(struct layer *l, const char *where)
{
    l->chain->res->truncated = true;
    return fail(l, l->pos, "stream ends early, inside %s (after %llu %s)", where,
                (unsigned long long)l->pos, plural_bytes(l->pos));
}

static int hit_limit(struct chain *c, const char *what)
{
    if (c->stop)
        return -1;
    c->stop = true;
    c->res->status = DECODE_LIMIT;
    snprintf(c->res->message, sizeof c->res->message, "%s reached the cap of %zu bytes", what,
             c->max);
    return -1;
}

/* n bytes after the end of a complete stream, starting at offset off, are ignored. The result
   reports the first layer this happens in. */
static void trail(struct layer *l, uint64_t off, size_t n)
{
    struct chain *c = l->chain;
    if (n == 0)
        return;
    if (c->trail_layer < 0) {
        c->trail_layer = l->index;
        c->trail_off = off;
    }
    if (c->trail_layer == l->index)
        c->res->trailing += n;
    l->pos = off + n;
}

/* ---- the chain -------------------------------------------------------------------------- */

static int layer_feed(struct layer *l, const uint8_t *p, size_t n)
{
    if (l->chain->stop)
        return -1;
    if (n == 0)
        return 0;
    return l->codec->feed(l, p, n);
}

/* The final layer's output goes to the caller's buffer, up to the cap. */
static int sink(struct chain *c, const uint8_t *p, size_t n)
{
    size_t room = c->limit - (size_t)c->produced;
    size_t take = n < room ? n : room;
    size_t stored = dynbuf_append(c->out, p, take);
    c->produced += stored;
    if (stored < n)
        return hit_limit(c, "decoded output");
    return 0;
}

/* Hands a layer's output to the next layer (or the caller). */
static int emit(struct layer *l, const uint8_t *p, size_t n)
{
    struct chain *c = l->chain;
    if (c->stop)
        return -1;
    if (l->index + 1 == c->n)
        return sink(c, p, n);
    /* An intermediate layer is capped too: it bounds the work a stacked bomb can cause. */
    size_t room = c->max - (size_t)l->out_total;
    size_t take = n < room ? n : room;
    l->out_total += take;
    if (layer_feed(&c->layer[l->index + 1], p, take) < 0)
        return -1;
    if (take < n)
        return hit_limit(c, "an intermediate coding's output");
    return 0;
}

static void *zalloc_x(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return xcalloc(items, size);
}

static void zfree_x(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* ---- inflate (gzip data and deflate) ----------------------------------------------------- */

static void inflate_start(struct layer *l, int window_bits)
{
    if (l->z_ready) {
        inflateReset(&l->z);
        return;
    }
    memset(&l->z, 0, sizeof l->z);
    l->z.zalloc = zalloc_x;
    l->z.zfree = zfree_x;
    if (inflateInit2(&l->z, window_bits) != Z_OK)
        abort(); /* only fails on bad arguments or memory, and zalloc_x never fails */
    l->z_ready = true;
}

/*
 * Inflates p[0..n) until the input is used up or the stream ends. Sets *used. Returns 0 when
 * more input is wanted, 1 at the end of the stream, -1 to stop.
 */
static int inflate_run(struct layer *l, const uint8_t *p, size_t n, size_t *used, bool gzip)
{
    z_stream *z = &l->z;
    size_t done = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        size_t piece = n - done > (1u << 30) ? (1u << 30) : n - done;
        z->next_in = p + done;
        z->avail_in = (uInt)piece;
        z->next_out = l->buf;
        z->avail_out = DECODE_CHUNK;
        rc = inflate(z, Z_NO_FLUSH);
        size_t consumed = piece - z->avail_in;
        size_t produced = DECODE_CHUNK - z->avail_out;
        done += consumed;
        l->pos += consumed;
        if (gzip && produced) {
            l->crc = (uint32_t)crc32(l->crc, l->buf, (uInt)produced);
            l->isize += (uint32_t)produced;
        }
        if (produced && emit(l, l->buf, produced) < 0)
            break;
        if (rc == Z_NEED_DICT)
            return fail(l, l->pos ? l->pos - 1 : 0, "needs a preset dictionary");
        if (rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
            return fail(l, l->pos ? l->pos - 1 : 0, "%s", z->msg ? z->msg : "corrupt data");
        if (rc == Z_BUF_ERROR || (done == n && z->avail_out != 0))
            break;
    }
    *used = done;
    if (l->chain->stop)
        return -1;
    return rc == Z_STREAM_END ? 1 : 0;
}

/* ---- gzip (RFC 1952) -------------------------------------------------------------------- */

enum {
    GZ_FTEXT = 1,
    GZ_FHCRC = 2,
    GZ_FEXTRA = 4,
    GZ_FNAME = 8,
    GZ_FCOMMENT = 16,
    GZ_FRESERVED = 0xe0,
};

enum gz_state {
    GZ_MAGIC0,
    GZ_MAGIC1,
    GZ_METHOD,
    GZ_FLAGS,
    GZ_MTIME, /* 4 bytes, then XFL and OS: 6 bytes skipped */
    GZ_XLEN,
    GZ_EXTRA,
    GZ_NAME,
    GZ_COMMENT,
    GZ_HCRC,
    GZ_DATA,
    GZ_TRAILER,
    GZ_NEXT,  /* a member ended: another one or trailing bytes */
    GZ_NEXT1, /* saw 0x1f after a member */
    GZ_TRAIL, /* everything left is ignored */
};

/* What a stream that is not gzip looks like, for the error message. */
static const char *sniff_hint(const uint8_t *p, size_t n)
{
    if (n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0)
        return " (looks like a zlib stream: deflate?)";
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
        return " (looks like zstd)";
    if (n >= 1 && (p[0] == '{' || p[0] == '[' || p[0] == '<'))
        return " (looks like uncompressed text)";
    return "";
}

/* After the fixed header: the optional fields the flags announce, then the data. */
static void gz_next_field(struct layer *l)
{
    if (l->flags & GZ_FEXTRA) {
        l->flags &= (uint8_t)~GZ_FEXTRA;
        l->state = GZ_XLEN;
        l->need = 2;
        l->field = 0;
    } else if (l->flags & GZ_FNAME) {
        l->flags &= (uint8_t)~GZ_FNAME;
        l->state = GZ_NAME;
    } else if (l->flags & GZ_FCOMMENT) {
        l->flags &= (uint8_t)~GZ_FCOMMENT;
        l->state = GZ_COMMENT;
    } else if (l->flags & GZ_FHCRC) {
        l->flags &= (uint8_t)~GZ_FHCRC;
        l->state = GZ_HCRC;
        l->need = 2;
        l->field = 0;
        l->fstart = l->pos;
    } else {
        inflate_start(l, -MAX_WBITS);
        l->crc = (uint32_t)crc32(0, NULL, 0);
        l->isize = 0;
        l->state = GZ_DATA;
    }
}

/* Collects one byte of a little-endian field; true when it is complete. */
static bool gz_field_byte(struct layer *l, uint8_t c, uint32_t width)
{
    if (l->need == width)
        l->fstart = l->pos;
    l->field |= (uint32_t)c << (8 * (width - l->need));
    return --l->need == 0;
}

/* One trailer byte: CRC-32 then ISIZE, both little-endian (RFC 1952 section 2.3.1). */
static int gz_trailer(struct layer *l, uint8_t c)
{
    uint32_t idx = 8 - l->need;
    if (idx == 0)
        l->fstart = l->pos;
    if (idx < 4)
        l->field |= (uint32_t)c << (8 * idx);
    else
        l->field2 |= (uint32_t)c << (8 * (idx - 4));
    l->need--;
    l->pos++;
    if (l->need == 4 && l->field != l->crc)
        return fail(l, l->fstart, "CRC-32 mismatch (stored %08x, data has %08x)", l->field, l->crc);
    if (l->need == 0) {
        if (l->field2 != l->isize)
            return fail(l, l->fstart + 4, "length mismatch (stored %u, data has %u)", l->field2,
                        l->isize);
        l->complete = true;
        l->state = GZ_NEXT;
    }
    return 0;
}

/* One byte of a member's header. */
static int gz_header_byte(struct layer *l, uint8_t c)
{
    uint64_t at = l->pos;
    if (l->state < GZ_HCRC)
        l->hcrc = (uint32_t)crc32(l->hcrc, &c, 1);
    switch (l->state) {
    case GZ_MAGIC0: l->state = GZ_MAGIC1; break;
    case GZ_MAGIC1:
        if (c != 0x8b)
            return fail(l, at, "not a gzip stream: no 1f 8b magic");
        l->state = GZ_METHOD;
        break;
    case GZ_METHOD:
        if (c != 8)
            return fail(l, at, "unknown compression method %u (only 8, deflate, exists)", c);
        l->state = GZ_FLAGS;
        break;
    case GZ_FLAGS:
        if (c & GZ_FRESERVED)
            return fail(l, at, "reserved header flags set (%02x)", c);
        l->flags = c;
        l->state = GZ_MTIME;
        l->need = 6;
        break;
    case GZ_MTIME:
        if (--l->need == 0)
            gz_next_field(l);
        break;
    case GZ_XLEN:
        if (gz_field_byte(l, c, 2)) {
            l->need = l->field;
            l->state = GZ_EXTRA;
            if (l->need == 0)
                gz_next_field(l);
        }
        break;
    case GZ_HCRC:
        if (gz_field_byte(l, c, 2)) {
            if (l->field != (l->hcrc & 0xffff))
                return fail(l, l->fstart, "header CRC mismatch (stored %04x, header has %04x)",
                            l->field, l->hcrc & 0xffff);
            gz_next_field(l);
        }
        break;
    default: assert(!"gzip state without a byte handler"); return -1;
    }
    l->pos++;
    return 0;
}

/* After a member: another member starts (1f 8b) or the rest is trailing bytes. */
static int gz_between(struct layer *l, uint8_t c)
{
    if (l->state == GZ_NEXT) {
        if (c != 0x1f) {
            trail(l, l->pos, 1);
            l->state = GZ_TRAIL;
            return 0;
        }
        l->mark = l->pos++;
        l->state = GZ_NEXT1;
        return 0;
    }
    if (c != 0x8b) {
        trail(l, l->mark, 2);
        l->state = GZ_TRAIL;
        return 0;
    }
    l->hcrc = (uint32_t)crc32(0, (const Bytef *)"\x1f\x8b", 2);
    l->state = GZ_METHOD;
    l->pos++;
    return 0;
}

/* Variable-length header fields, skipped in bulk. Returns bytes consumed. */
static size_t gz_skip(struct layer *l, const uint8_t *p, size_t n)
{
    size_t take;
    if (l->state == GZ_EXTRA) {
        take = n < l->need ? n : l->need;
        l->need -= (uint32_t)take;
    } else {
        const uint8_t *nul = memchr(p, 0, n);
        take = nul ? (size_t)(nul - p) + 1 : n;
    }
    l->hcrc = (uint32_t)crc32(l->hcrc, p, (uInt)take);
    l->pos += take;
    bool done = l->state == GZ_EXTRA ? l->need == 0 : p[take - 1] == 0;
    if (done)
        gz_next_field(l);
    return take;
}

static int gz_feed(struct layer *l, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t used;
        switch (l->state) {
        case GZ_DATA: {
            int rc = inflate_run(l, p + i, n - i, &used, true);
            i += used;
            if (rc < 0)
                return -1;
            if (rc == 1) {
                l->state = GZ_TRAILER;
                l->need = 8;
                l->field = l->field2 = 0;
            }
            break;
        }
        case GZ_EXTRA:
        case GZ_NAME:
        case GZ_COMMENT: i += gz_skip(l, p + i, n - i); break;
        case GZ_TRAIL: trail(l, l->pos, n - i); return 0;
        case GZ_MAGIC0:
            if (p[i] != 0x1f)
                return fail(l, l->pos, "not a gzip stream: no 1f 8b magic%s",
                            sniff_hint(p + i, n - i));
            /* fall through */
        default:
            if ((l->state == GZ_TRAILER ? gz_trailer(l, p[i])
                 : l->state >= GZ_NEXT  ? gz_between(l, p[i])
                                        : gz_header_byte(l, p[i])) < 0)
                return -1;
            i++;
        }
    }
    return 0;
}

static int gz_end(struct layer *l)
{
    switch (l->state) {
    case GZ_MAGIC0:
        if (l->pos == 0)
            return 0; /* an empty body: nothing was encoded */
        break;
    case GZ_NEXT:
    case GZ_TRAIL: return 0;
    case GZ_NEXT1: trail(l, l->mark, 1); return 0;
    case GZ_DATA: return fail_truncated(l, "the compressed data");
    case GZ_TRAILER: return fail_truncated(l, "the trailer");
    default: break;
    }
    return fail_truncated(l, "the header");
}

static void z_cleanup(struct layer *l)
{
    if (l->z_ready)
        inflateEnd(&l->z);
}

/* ---- deflate (RFC 9110: zlib format; raw deflate accepted as browsers do) ---------------- */

enum { DF_SNIFF, DF_DATA, DF_TRAIL };

/* The zlib header check (RFC 1950): method 8, window <= 32 KiB, FCHECK. */
static bool zlib_header(const uint8_t *p)
{
    return (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

static int df_data(struct layer *l, const uint8_t *p, size_t n)
{
    if (l->state == DF_TRAIL) {
        trail(l, l->pos, n);
        return 0;
    }
    size_t used;
    int rc = inflate_run(l, p, n, &used, false);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        l->complete = true;
        l->state = DF_TRAIL;
        trail(l, l->pos, n - used);
    }
    return 0;
}

static int df_start(struct layer *l)
{
    inflate_start(l, l->nlook == 2 && zlib_header(l->look) ? MAX_WBITS : -MAX_WBITS);
    l->state = DF_DATA;
    return df_data(l, l->look, l->nlook);
}

static int df_feed(struct layer *l, const uint8_t *p, size_t n)
{
    if (l->state == DF_SNIFF) {
        size_t take = n < 2u - l->nlook ? n : 2u - l->nlook;
        memcpy(l->look + l->nlook, p, take);
        l->nlook = (uint8_t)(l->nlook + take);
        p += take;
        n -= take;
        if (l->nlook < 2)
            return 0;
        if (df_start(l) < 0)
            return -1;
    }
    return n ? df_data(l, p, n) : 0;
}

static int df_end(struct layer *l)
{
    if (l->state == DF_SNIFF) {
        if (l->nlook == 0)
            return 0;
        if (df_start(l) < 0)
            return -1;
    }
    if (l->state == DF_TRAIL)
        return 0;
    return fail_truncated(l, "the compressed data");
}

/* ---- br (RFC 7932) ---------------------------------------------------------------------- */

enum { BR_DATA, BR_TRAIL };

static void *br_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return xmalloc(size);
}

static void br_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* "_ERROR_FORMAT_PADDING_1" -> "format padding 1". */
static void br_error_text(BrotliDecoderErrorCode code, char *buf, size_t len)
{
    const char *s = BrotliDecoderErrorString(code);
    if (strncmp(s, "_ERROR_", 7) == 0)
        s += 7;
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        buf[i] = s[i] == '_' ? ' ' : (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
}

static int br_feed(struct layer *l, const uint8_t *p, size_t n)
{
    if (l->state == BR_TRAIL) {
        trail(l, l->pos, n);
        return 0;
    }
    if (!l->br)
        l->br = BrotliDecoderCreateInstance(br_alloc, br_free, NULL);
    size_t avail_in = n;
    const uint8_t *next_in = p;
    uint64_t base = l->pos;
    for (;;) {
        size_t avail_out = DECODE_CHUNK;
        uint8_t *next_out = l->buf;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(l->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        l->pos = base + (n - avail_in);
        size_t produced = DECODE_CHUNK - avail_out;
        if (produced && emit(l, l->buf, produced) < 0)
            return -1;
        if (r == BROTLI_DECODER_RESULT_ERROR) {
            char why[64];
            br_error_text(BrotliDecoderGetErrorCode(l->br), why, sizeof why);
            return fail(l, l->pos ? l->pos - 1 : 0, "%s", why);
        }
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            l->complete = true;
            l->state = BR_TRAIL;
            trail(l, l->pos, avail_in);
            return 0;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
            return 0;
    }
}

static int br_end(struct layer *l)
{
    if (l->state == BR_TRAIL || l->pos == 0)
        return 0;
    return fail_truncated(l, "the compressed data");
}

static void br_cleanup(struct layer *l)
{
    if (l->br)
        BrotliDecoderDestroyInstance(l->br);
}

/* ---- zstd (RFC 8878), any number of frames ---------------------------------------------- */

enum { ZS_BOUNDARY, ZS_FRAME, ZS_TRAIL };

/* A zstd frame or a skippable frame starts here. */
static bool zstd_magic(const uint8_t *p)
{
    uint32_t m = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return m == ZSTD_MAGICNUMBER || (m & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

static int zs_fail(struct layer *l, size_t code, uint64_t at)
{
    if (ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge)
        return fail(l, at, "frame window larger than the %u MiB limit",
                    1u << (DECODE_ZSTD_WINDOW_LOG_MAX - 20));
    return fail(l, at, "%s", ZSTD_getErrorName(code));
}

/*
 * Like inflate_run: 0 = wants input, 1 = a frame ended, -1 = stop. Input is given in the
 * amounts libzstd asks for (its return value): a call then ends exactly where a block ends,
 * and since a failed call reports no progress, the last byte given is where it failed.
 */
static int zs_run(struct layer *l, const uint8_t *p, size_t n, size_t *used)
{
    size_t done = 0;
    for (;;) {
        size_t want = n - done;
        if (l->need && l->need < want)
            want = l->need;
        ZSTD_inBuffer in = {p + done, want, 0};
        ZSTD_outBuffer out = {l->buf, DECODE_CHUNK, 0};
        size_t rc = ZSTD_decompressStream(l->zs, &out, &in);
        done += in.pos;
        l->pos += in.pos;
        if (out.pos && emit(l, l->buf, out.pos) < 0)
            return -1;
        if (ZSTD_isError(rc))
            return zs_fail(l, rc, in.pos ? l->pos - 1 : l->pos + want - 1);
        l->need = rc > UINT32_MAX ? UINT32_MAX : (uint32_t)rc;
        if (rc == 0) {
            *used = done;
            return 1;
        }
        if (done == n && out.pos < out.size)
            break;
    }
    *used = done;
    return 0;
}

static int zs_boundary(struct layer *l, const uint8_t *p, size_t n, size_t *used)
{
    size_t take = n < 4u - l->nlook ? n : 4u - l->nlook;
    if (l->nlook == 0)
        l->mark = l->pos;
    memcpy(l->look + l->nlook, p, take);
    l->nlook = (uint8_t)(l->nlook + take);
    l->pos += take;
    *used = take;
    if (l->nlook < 4)
        return 0;
    if (!zstd_magic(l->look)) {
        if (!l->complete)
            return fail(l, l->mark, "not a zstd frame: no magic number%s", sniff_hint(l->look, 4));
        l->state = ZS_TRAIL;
        trail(l, l->mark, 4);
        return 0;
    }
    if (!l->zs) {
        l->zs = xnonnull(ZSTD_createDStream());
        ZSTD_DCtx_setParameter(l->zs, ZSTD_d_windowLogMax, DECODE_ZSTD_WINDOW_LOG_MAX);
    }
    l->state = ZS_FRAME;
    l->nlook = 0;
    l->need = 0;
    l->pos = l->mark;
    size_t ignored;
    int rc = zs_run(l, l->look, 4, &ignored);
    if (rc == 1) /* a frame cannot end within its magic number */
        return fail(l, l->mark, "corrupt frame");
    return rc;
}

static int zs_feed(struct layer *l, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t used = 0;
        int rc = 0;
        if (l->state == ZS_TRAIL) {
            trail(l, l->pos, n);
            return 0;
        }
        if (l->state == ZS_BOUNDARY) {
            rc = zs_boundary(l, p, n, &used);
        } else {
            rc = zs_run(l, p, n, &used);
            if (rc == 1) {
                l->complete = true;
                l->state = ZS_BOUNDARY;
                l->nlook = 0;
            }
        }
        if (rc < 0)
            return -1;
        p += used;
        n -= used;
    }
    return 0;
}

static int zs_end(struct layer *l)
{
    if (l->state == ZS_TRAIL || (l->state == ZS_BOUNDARY && l->nlook == 0))
        return 0;
    if (l->state == ZS_BOUNDARY && l->complete) {
        trail(l, l->mark, l->nlook);
        return 0;
    }
    return fail_truncated(l, l->state == ZS_FRAME ? "a frame" : "the magic number");
}

static void zs_cleanup(struct layer *l)
{
    ZSTD_freeDStream(l->zs);
}

/* ---- coding names ----------------------------------------------------------------------- */

static const struct codec CODEC_GZIP = {"gzip", gz_feed, gz_end, z_cleanup};
static const struct codec CODEC_DEFLATE = {"deflate", df_feed, df_end, z_cleanup};
static const struct codec CODEC_BR = {"br", br_feed, br_end, br_cleanup};
static const struct codec CODEC_ZSTD = {"zstd", zs_feed, zs_end, zs_cleanup};

static const struct {
    const char *name;
    const struct codec *codec; /* NULL: identity */
} CODINGS[] = {
    {"gzip", &CODEC_GZIP}, {"x-gzip", &CODEC_GZIP}, {"deflate", &CODEC_DEFLATE},
    {"br", &CODEC_BR},     {"zstd", &CODEC_ZSTD},   {"identity", NULL},
};

/* Finds a coding by name; returns its index in CODINGS or -1. */
static int coding_find(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof CODINGS / sizeof CODINGS[0]; i++)
        if (strlen(CODINGS[i].name) == n && strncasecmp(CODINGS[i].name, (const char *)p, n) == 0)
            return (int)i;
    return -1;
}

bool decode_coding_supported(const uint8_t *token, size_t len)
{
    return coding_find(token, len) >= 0;
}

static bool ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/*
 * Walks the list from the right, collecting codecs until an unknown coding. Returns the number
 * collected (in undo order), or -1 when more than DECODE_LAYERS_MAX would be needed. *unknown
 * is set to the unknown token (len 0 when none).
 */
static int parse_codings(const uint8_t *ce, size_t len, const struct codec **codecs,
                         struct http_span *unknown)
{
    int n = 0;
    unknown->off = unknown->len = 0;
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && ce[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && ows(ce[a]))
            a++;
        while (b > a && ows(ce[b - 1]))
            b--;
        end = start > 0 ? start - 1 : 0;
        if (a == b)
            continue;
        int k = coding_find(ce + a, b - a);
        if (k < 0) {
            unknown->off = (uint32_t)a;
            unknown->len = (uint32_t)(b - a);
            return n;
        }
        if (!CODINGS[k].codec)
            continue;
        if (n == DECODE_LAYERS_MAX)
            return -1;
        codecs[n++] = CODINGS[k].codec;
    }
    return n;
}

/* ---- entry points ----------------------------------------------------------------------- */

static void run_chain(struct chain *c, const uint8_t *body, size_t n)
{
    if (layer_feed(&c->layer[0], body, n) < 0)
        return;
    for (int i = 0; i < c->n && !c->stop; i++)
        if (c->layer[i].codec->end(&c->layer[i]) < 0)
            return;
}

static void chain_cleanup(struct chain *c)
{
    for (int i = 0; i < c->n; i++) {
        c->layer[i].codec->cleanup(&c->layer[i]);
        free(c->layer[i].buf);
    }
}

static void report_trailing(struct chain *c)
{
    struct decode_result *res = c->res;
    if (c->trail_layer < 0 || res->status != DECODE_OK)
        return;
    const char *name = c->layer[c->trail_layer].codec->name;
    set_coding(res, name, strlen(name));
    res->error_offset = c->trail_off;
    snprintf(res->message, sizeof res->message, "%s: %llu %s after the end of the stream ignored",
             name, (unsigned long long)res->trailing, plural_bytes(res->trailing));
}

static enum decode_status decode_layers(const struct codec **codecs, int n, const uint8_t *body,
                                        size_t len, size_t max, struct dynbuf *out,
                                        struct decode_result *res)
{
    struct chain *c = xcalloc(1, sizeof *c);
    c->n = n;
    c->max = max;
    size_t room = out->max - out->len;
    c->limit = max < room ? max : room;
    c->out = out;
    c->res = res;
    c->trail_layer = -1;
    for (int i = 0; i < n; i++) {
        c->layer[i].codec = codecs[i];
        c->layer[i].chain = c;
        c->layer[i].index = i;
        c->layer[i].buf = xmalloc(DECODE_CHUNK);
    }
    res->status = DECODE_OK;
    res->layers = (uint8_t)n;
    run_chain(c, body, len);
    res->consumed = c->layer[0].pos;
    report_trailing(c);
    chain_cleanup(c);
    free(c);
    return res->status;
}

static enum decode_status pass_through(const uint8_t *body, size_t n, size_t max,
                                       struct dynbuf *out, struct decode_result *res,
                                       enum decode_status st)
{
    size_t take = n < max ? n : max;
    size_t stored = dynbuf_append(out, body, take);
    res->status = st;
    res->consumed = stored;
    if (stored < n) {
        res->status = DECODE_LIMIT;
        snprintf(res->message, sizeof res->message, "body reached the cap of %zu bytes", max);
    }
    return res->status;
}

enum decode_status decode_body(const uint8_t *ce, size_t ce_len, const uint8_t *body, size_t n,
                               size_t max, struct dynbuf *out, struct decode_result *res)
{
    memset(res, 0, sizeof *res);
    const struct codec *codecs[DECODE_LAYERS_MAX];
    struct http_span unknown = {0, 0};
    int k = ce ? parse_codings(ce, ce_len, codecs, &unknown) : 0;
    if (k < 0) {
        res->status = DECODE_ERROR;
        snprintf(res->message, sizeof res->message, "more than %d content codings",
                 DECODE_LAYERS_MAX);
        return pass_through(body, n, max, out, res, DECODE_ERROR);
    }
    if (k == 0 && unknown.len == 0)
        return pass_through(body, n, max, out, res, DECODE_IDENTITY);
    if (k > 0 && decode_layers(codecs, k, body, n, max, out, res) != DECODE_OK)
        return res->status;
    if (k == 0)
        pass_through(body, n, max, out, res, DECODE_UNKNOWN);
    if (unknown.len == 0 || res->status == DECODE_LIMIT)
        return res->status;
    res->status = DECODE_UNKNOWN;
    res->trailing = 0;
    set_coding(res, (const char *)ce + unknown.off, unknown.len);
    snprintf(res->message, sizeof res->message, "unknown content coding \"%s\"", res->coding);
    return res->status;
}

/* Joins the values of every header named name into list, comma-separated. */
static void join_headers(const struct message *m, const char *name, struct dynbuf *list,
                         bool skip_chunked)
{
    const uint8_t *base = message_head_base(m);
    if (!base)
        return;
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        if (!http_span_ieq(base, h->name, name))
            continue;
        const uint8_t *v = base + h->value.off;
        size_t len = h->value.len;
        if (skip_chunked) {
            /* chunked is the framing, already removed by message_body; drop it from the end. */
            size_t end = len;
            while (end > 0 && (ows(v[end - 1]) || v[end - 1] == ','))
                end--;
            if (end >= 7 && strncasecmp((const char *)v + end - 7, "chunked", 7) == 0 &&
                (end == 7 || v[end - 8] == ',' || ows(v[end - 8])))
                len = end - 7;
        }
        if (list->len)
            dynbuf_addc(list, ',');
        dynbuf_append(list, v, len);
    }
}

enum decode_status decode_message(const struct message *m, const struct http_limits *limits,
                                  size_t max, struct dynbuf *out, struct decode_result *res)
{
    struct dynbuf body, list;
    dynbuf_init(&body, m->raw.len + 1);
    dynbuf_init(&list, 4096);
    bool whole = message_body(m, &body, limits);
    join_headers(m, "content-encoding", &list, false);
    join_headers(m, "transfer-encoding", &list, true);
    enum decode_status st = decode_body(list.data, list.len, body.data, body.len, max, out, res);
    if (st == DECODE_ERROR && res->truncated && !whole)
        snprintf(res->message, sizeof res->message,
                 "%s: the kept body is incomplete, so the stream ends early", res->coding);
    dynbuf_cleanup(&body);
    dynbuf_cleanup(&list);
    return st;
}
