/*
 * chunked owns the chunked transfer coding state machine (RFC 9112 section 7.1). It reads
 * framing bytes, reports payload as spans of the input, keeps the trailer section (bounded by
 * the head limit) and checks it, and keeps the first chunk extensions (bounded, for display).
 * It never copies payload.
 *
 * The kept extensions are lines "CHUNK SIZE BYTES\n" (decimal chunk number, hexadecimal size),
 * with a CR before the LF when the line was cut: a size line's bytes after its size hold neither
 * CR nor LF (a CR ends the line, or the body with CHUNKED_ERROR).
 */
#include "hspy/chunked.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
    ST_SIZE,    /* hex digits of the chunk size */
    ST_SIZE_WS, /* whitespace after the digits */
    ST_EXT,     /* chunk extensions up to the line end */
    ST_SIZE_LF, /* CR seen, LF expected */
    ST_DATA,    /* chunk payload */
    ST_DATA_CR, /* CR expected after the payload */
    ST_DATA_LF, /* LF expected after that CR */
    ST_TRAILER, /* trailer section, line by line */
    ST_END,     /* done or failed */
};

void chunked_init(struct chunked *c, const struct http_limits *limits)
{
    memset(c, 0, sizeof *c);
    c->limits = limits;
    dynbuf_init(&c->trailer, limits->head_max);
    /* and the terminator a formatted write asks room for */
    dynbuf_init(&c->exts, CHUNKED_EXT_LIST_MAX + 1);
}

void chunked_cleanup(struct chunked *c)
{
    dynbuf_cleanup(&c->trailer);
    dynbuf_cleanup(&c->exts);
}

/* A kept line's start: its chunk number and size (the list's format, see the top). */
static void ext_line_start(struct dynbuf *list, uint32_t chunk, uint64_t size)
{
    dynbuf_printf(list, "%" PRIu32 " %" PRIx64 " ", chunk, size);
}

bool chunked_ext_append(struct dynbuf *list, const struct chunked_ext *e)
{
    if (e->len > CHUNKED_EXT_LINE_MAX || memchr(e->ext, '\r', e->len) ||
        memchr(e->ext, '\n', e->len) || list->max - list->len < (size_t)e->len + 2 + 10 + 16 + 3)
        return false;
    ext_line_start(list, e->chunk, e->size);
    dynbuf_append(list, e->ext, e->len);
    dynbuf_adds(list, e->cut ? "\r\n" : "\n");
    return true;
}

/* A byte of the current size line after its size (neither CR nor LF): kept, or counted. */
static void ext_byte(struct chunked *c, uint8_t b)
{
    if (!c->ext_open) {
        c->ext_open = true;
        c->ext_keep = c->ext_lines < CHUNKED_EXT_KEPT_MAX;
        c->ext_line_len = 0;
        c->ext_line_cut = false;
        if (!c->ext_keep) {
            if (c->ext_unlisted < UINT32_MAX)
                c->ext_unlisted++;
            return;
        }
        c->ext_lines++;
        ext_line_start(&c->exts, c->chunks + 1, c->size);
    }
    if (!c->ext_keep)
        return;
    if (c->ext_line_len < CHUNKED_EXT_LINE_MAX) {
        dynbuf_addc(&c->exts, b);
        c->ext_line_len++;
    } else {
        c->ext_line_cut = true;
    }
}

/* The current size line ended (or the body did, in it): its kept extensions end. */
static void ext_line_end(struct chunked *c)
{
    if (c->ext_open && c->ext_keep)
        dynbuf_adds(&c->exts, c->ext_line_cut ? "\r\n" : "\n");
    c->ext_open = false;
}

bool chunked_ext_next(const uint8_t *list, size_t n, size_t *pos, struct chunked_ext *e)
{
    size_t i = *pos;
    if (!list || i >= n)
        return false;
    const uint8_t *lf = memchr(list + i, '\n', n - i);
    size_t end = lf ? (size_t)(lf - list) : n;
    *pos = lf ? end + 1 : n;
    uint64_t chunk = 0, size = 0;
    while (i < end && list[i] >= '0' && list[i] <= '9')
        chunk = chunk * 10 + (uint64_t)(list[i++] - '0');
    i += i < end; /* the space */
    while (i < end && list[i] != ' ') {
        int h = list[i] <= '9' ? list[i] - '0' : list[i] - 'a' + 10;
        size = size * 16 + (uint64_t)h;
        i++;
    }
    i += i < end;
    e->cut = end > i && list[end - 1] == '\r';
    e->chunk = chunk > UINT32_MAX ? UINT32_MAX : (uint32_t)chunk;
    e->size = size;
    e->ext = list + i;
    e->len = (uint32_t)(end - i - e->cut);
    return true;
}

static void warn_at(struct http_warnings *w, enum warning_code code, uint64_t off)
{
    http_warnings_add(w, code, off > UINT32_MAX ? UINT32_MAX : (uint32_t)off,
                      (struct http_span){0, 0}, 0);
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Trailer fields that must not be sent in a trailer (RFC 9110 6.5.1): framing, routing,
 * request modifiers, authentication, response control and content handling fields. */
static bool forbidden_trailer(const uint8_t *name, size_t n)
{
    static const char *const names[] = {
        "content-length",
        "transfer-encoding",
        "host",
        "content-encoding",
        "content-type",
        "content-range",
        "trailer",
        "te",
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
        "set-cookie",
        "cookie",
        "cache-control",
        "expect",
        "max-forwards",
        "range",
        "age",
        "expires",
        "date",
        "location",
        "retry-after",
        "vary",
        "connection",
        "upgrade",
        "keep-alive",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t m = strlen(names[i]);
        if (m != n)
            continue;
        size_t j = 0;
        while (j < n && (uint8_t)(name[j] | 0x20) == (uint8_t)names[i][j])
            j++;
        if (j == n)
            return true;
    }
    return false;
}

/* The trailer line [p, eol) (kept whole) names a field that must not be sent in a trailer. */
static void check_trailer_line(struct chunked *c, const uint8_t *p, const uint8_t *eol,
                               struct http_warnings *w)
{
    const uint8_t *colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon || p[0] == ' ' || p[0] == '\t')
        return;
    const uint8_t *ne = colon;
    while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
    if (forbidden_trailer(p, (size_t)(ne - p)))
        warn_at(w, W_TRAILER_FORBIDDEN, c->trailer_off + (uint64_t)(p - c->trailer.data));
}

static void finish(struct chunked *c, enum chunked_status st)
{
    ext_line_end(c);
    c->state = ST_END;
    c->status = (uint8_t)st;
}

/* The next chunk-size line starts. */
static void next_size_line(struct chunked *c)
{
    c->state = ST_SIZE;
    c->size = 0;
    c->digits = 0;
    c->ext_len = 0;
    c->ext_ctl_seen = false;
}

/* The size line ended: start the chunk's data, or the trailer after the last chunk. */
static void size_line_done(struct chunked *c)
{
    ext_line_end(c);
    if (c->size == 0) {
        c->state = ST_TRAILER;
        c->ext_len = 0;
        c->cr = false;
        c->trailer_off = c->pos + 1;
    } else {
        c->state = ST_DATA;
        c->remaining = c->size;
        c->chunks++;
    }
}

/* Handles one byte of a chunk-size line; failing framing ends the body with CHUNKED_ERROR. */
static void size_byte(struct chunked *c, uint8_t b, struct http_warnings *w)
{
    int h = hexval(b);
    if (c->state == ST_SIZE && h >= 0) {
        if (c->size >> 60) {
            warn_at(w, W_CHUNK_SIZE_OVERFLOW, c->pos);
            finish(c, CHUNKED_ERROR);
            return;
        }
        c->size = c->size * 16 + (uint64_t)h;
        if (++c->digits == c->limits->chunk_digits_max + 1)
            warn_at(w, W_CHUNK_SIZE_TOO_LONG, c->pos);
        return;
    }
    if (c->state == ST_SIZE && c->digits == 0) {
        warn_at(w, W_CHUNK_SIZE_INVALID, c->pos);
        finish(c, CHUNKED_ERROR);
        return;
    }
    if ((b == '\r' || b == '\n') && c->state == ST_SIZE_WS)
        warn_at(w, W_CHUNK_EXT_INVALID, c->pos); /* whitespace is allowed only before ';' */
    if ((b == '\r' || b == '\n') && c->state == ST_EXT && c->ext_item == 0)
        warn_at(w, W_CHUNK_EXT_INVALID, c->pos); /* ';' without an extension after it */
    if (b == '\r') {
        c->state = ST_SIZE_LF;
        return;
    }
    if (b == '\n') {
        warn_at(w, W_BARE_LF, c->pos);
        size_line_done(c);
        return;
    }
    if (c->state == ST_SIZE) {
        if (b == ';') {
            c->state = ST_EXT;
            c->ext_item = 0;
        } else if (b == ' ' || b == '\t') {
            c->state = ST_SIZE_WS;
        } else {
            warn_at(w, W_CHUNK_SIZE_INVALID, c->pos);
            finish(c, CHUNKED_ERROR);
        }
        return;
    }
    if (c->state == ST_SIZE_WS) {
        if (b == ';') {
            c->state = ST_EXT;
            c->ext_item = 0;
        } else if (b != ' ' && b != '\t') {
            warn_at(w, W_CHUNK_EXT_INVALID, c->pos);
            c->state = ST_EXT;
            c->ext_item = 1;
        }
        return;
    }
    /* ST_EXT: extensions are counted, not stored. */
    if (b == ';') {
        if (c->ext_item == 0)
            warn_at(w, W_CHUNK_EXT_INVALID, c->pos);
        c->ext_item = 0;
    } else if (b != ' ' && b != '\t') {
        c->ext_item++;
    }
    if (++c->ext_len == c->limits->chunk_ext_max + 1)
        warn_at(w, W_CHUNK_EXT_TOO_LONG, c->pos);
    /* Control bytes: the first of the line is reported (a run of them would fill the
     * exchange's warnings with one finding). */
    if (b < 0x20 && b != '\t' && !c->ext_ctl_seen) {
        warn_at(w, W_CHUNK_EXT_INVALID, c->pos);
        c->ext_ctl_seen = true;
    }
}

/* Trailer bytes are kept (up to the head limit) until an empty line ends the section. */
static void trailer_byte(struct chunked *c, uint8_t b, struct http_warnings *w)
{
    if (dynbuf_addc(&c->trailer, b) == 0 && !c->trailer_cut) {
        c->trailer_cut = true;
        warn_at(w, W_HEAD_TOO_LARGE, c->pos);
    }
    if (b != '\n') {
        c->ext_len++; /* bytes on the current trailer line */
        c->cr = b == '\r';
        return;
    }
    bool empty = c->ext_len == 0 || (c->ext_len == 1 && c->cr);
    if (!c->cr)
        warn_at(w, W_BARE_LF, c->pos);
    /* Each field line is judged as its LF comes (at most one warning a byte, see
     * CHUNKED_WARNINGS_PER_BYTE), when all of it was kept: then the line and its LF end the
     * trailer bytes. */
    if (!empty && !c->trailer_cut) {
        assert(c->trailer.len > c->ext_len);
        const uint8_t *lf = c->trailer.data + c->trailer.len - 1;
        check_trailer_line(c, lf - c->ext_len, lf, w);
    }
    c->ext_len = 0;
    c->cr = false;
    if (empty)
        finish(c, CHUNKED_DONE);
}

size_t chunked_step(struct chunked *c, const uint8_t *p, size_t n, struct http_span *payload,
                    struct http_warnings *w)
{
    size_t i = 0;
    payload->off = 0;
    payload->len = 0;
    while (i < n && c->state != ST_END) {
        /* A step ends before w could drop a warning, so that where the input was cut never
         * decides which warnings are kept: the caller takes them and calls again. */
        if (w && w->n > HTTP_WARN_MAX - CHUNKED_WARNINGS_PER_BYTE)
            return i;
        uint8_t b = p[i];
        switch (c->state) {
        case ST_SIZE:
        case ST_SIZE_WS:
        case ST_EXT: {
            /* after the size: whitespace, ';' and extensions, up to the line end */
            bool ext =
                b != '\r' && b != '\n' && (c->state != ST_SIZE || (c->digits > 0 && hexval(b) < 0));
            size_byte(c, b, w);
            if (c->status == CHUNKED_ERROR)
                return i; /* the offending byte is not part of the body */
            if (ext)
                ext_byte(c, b);
            break;
        }
        case ST_SIZE_LF:
            if (b == '\n') {
                size_line_done(c);
            } else {
                /* CR not followed by LF in a size line. */
                warn_at(w, W_BARE_CR, c->pos);
                finish(c, CHUNKED_ERROR);
                continue;
            }
            break;
        case ST_DATA: {
            uint64_t take = c->remaining < (uint64_t)(n - i) ? c->remaining : (uint64_t)(n - i);
            payload->off = (uint32_t)i;
            payload->len = (uint32_t)take;
            c->remaining -= take;
            c->payload += take;
            c->pos += take;
            if (c->remaining == 0)
                c->state = ST_DATA_CR;
            return i + (size_t)take;
        }
        case ST_DATA_CR:
            if (b == '\r') {
                c->state = ST_DATA_LF;
            } else if (b == '\n') {
                warn_at(w, W_BARE_LF, c->pos);
                next_size_line(c);
            } else {
                /* Data longer than announced: read the next size line from here. */
                warn_at(w, W_CHUNK_MISSING_CRLF, c->pos);
                next_size_line(c);
                continue;
            }
            break;
        case ST_DATA_LF:
            if (b != '\n') {
                warn_at(w, W_CHUNK_MISSING_CRLF, c->pos);
                next_size_line(c);
                continue;
            }
            next_size_line(c);
            break;
        case ST_TRAILER: trailer_byte(c, b, w); break;
        }
        i++;
        c->pos++;
    }
    return i;
}

enum chunked_status chunked_decode_all(const uint8_t *body, size_t n, struct dynbuf *out,
                                       size_t *used, const struct http_limits *limits)
{
    struct chunked c;
    chunked_init(&c, limits);
    size_t off = 0;
    while (off < n && c.status == CHUNKED_MORE) {
        struct http_span s;
        size_t k = chunked_step(&c, body + off, n - off, &s, NULL);
        if (s.len)
            dynbuf_append(out, body + off + s.off, s.len);
        if (k == 0)
            break;
        off += k;
    }
    enum chunked_status st = (enum chunked_status)c.status;
    chunked_cleanup(&c);
    *used = off;
    return st;
}
