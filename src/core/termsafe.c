/*
 * termsafe owns the rendering of untrusted bytes for a terminal. It decides, byte by byte and
 * character by character, what may pass and how everything else is shown; it never writes to
 * a terminal itself and never allocates except through the caller's dynbuf.
 *
 * Speed matters: the TUI renders every visible line through here on every redraw and the log
 * printer every byte it prints. Runs of printable ASCII, the overwhelmingly common case, are
 * found 8 bytes at a time and copied with one call.
 */
#include "hspy/termsafe.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "hspy/utf8.h"

/* dynbuf mode collects escapes here and appends them in blocks (one call per escape is slow). */
enum { STAGE = 512 };

/* Marks that end where a fixed buffer's ellipsis may still go wait until the end (see
   hold_or_tell): escapes take at least 2 bytes, so at most 2 end in those 3 bytes. */
enum { HELD_MAX = 4 };

struct held_mark {
    size_t off, len;
    enum termsafe_mark_kind kind;
};

/* Where rendered text goes: a caller's dynbuf, or a fixed buffer that may cut with "…". */
struct dest {
    const struct termsafe_marks *marks; /* may be NULL */
    struct held_mark held[HELD_MAX];    /* fixed mode: marks not yet known to be kept */
    size_t nheld;
    struct dynbuf *db; /* dynbuf mode when set */
    uint8_t *buf;      /* fixed mode */
    size_t len, cap;   /* fixed mode: cap excludes the NUL */
    size_t mark;       /* fixed mode: last boundary where an ellipsis still fits */
    bool full;
    size_t staged; /* dynbuf mode: bytes in stage not yet appended */
    uint8_t stage[STAGE];
};

static const char ELLIPSIS[] = "\xe2\x80\xa6";
enum { ELLIPSIS_LEN = 3 };

static size_t dest_room(const struct dest *d)
{
    return d->db ? d->db->max - d->db->len - d->staged : d->cap - d->len;
}

static void unstage(struct dest *d)
{
    if (d->staged)
        dynbuf_append(d->db, d->stage, d->staged);
    d->staged = 0;
}

/* Remembers the furthest character boundary at or below cap - ELLIPSIS_LEN. */
static void note_boundary(struct dest *d, size_t from, size_t to)
{
    if (d->db || d->cap < ELLIPSIS_LEN)
        return;
    size_t limit = d->cap - ELLIPSIS_LEN;
    size_t b = to < limit ? to : limit;
    if (b >= from && b > d->mark)
        d->mark = b;
}

/* Appends one unit of output that must not be split (an escape, a character). */
static void put(struct dest *d, const void *s, size_t n)
{
    if (d->full)
        return;
    if (n > dest_room(d)) {
        d->full = true;
        return;
    }
    if (d->db) {
        if (d->staged + n > STAGE)
            unstage(d);
        memcpy(d->stage + d->staged, s, n);
        d->staged += n;
        return;
    }
    memcpy(d->buf + d->len, s, n);
    d->len += n;
    note_boundary(d, d->len, d->len);
}

/* Appends printable ASCII, every byte of which is a boundary, as much as fits. */
static void put_run(struct dest *d, const uint8_t *s, size_t n)
{
    if (d->full)
        return;
    size_t room = dest_room(d);
    size_t take = n < room ? n : room;
    if (d->db && take <= STAGE / 4) {
        /* Short runs between escapes are staged like escapes. */
        if (d->staged + take > STAGE)
            unstage(d);
        memcpy(d->stage + d->staged, s, take);
        d->staged += take;
    } else if (d->db) {
        unstage(d);
        dynbuf_append(d->db, s, take);
    } else {
        size_t from = d->len;
        memcpy(d->buf + d->len, s, take);
        d->len += take;
        note_boundary(d, from, d->len);
    }
    if (take < n)
        d->full = true;
}

/*
 * A mark at [off, off + len) of the output, in a unit of output that ends at unit_end. In
 * fixed mode a unit that ends within the last ELLIPSIS_LEN bytes may yet lie under the
 * ellipsis: its mark waits for termsafe_str_marked's verdict. Every earlier one is kept (its
 * unit ends at a boundary at or below where the ellipsis would go).
 */
static void hold_or_tell(struct dest *d, size_t off, size_t len, size_t unit_end,
                         enum termsafe_mark_kind kind)
{
    if (!d->db && d->cap >= ELLIPSIS_LEN && unit_end > d->cap - ELLIPSIS_LEN) {
        assert(d->nheld < HELD_MAX);
        d->held[d->nheld++] = (struct held_mark){off, len, kind};
        return;
    }
    d->marks->mark(d->marks->data, off, len, kind);
}

/* put() for a unit of n bytes whose first marked bytes are an escape or a symbol: told to the
 * marks when the unit was written whole. */
static void put_mark(struct dest *d, const void *s, size_t n, size_t marked,
                     enum termsafe_mark_kind kind)
{
    size_t off = d->db ? d->db->len + d->staged : d->len;
    put(d, s, n);
    if (d->marks && !d->full)
        hold_or_tell(d, off, marked, off + n, kind);
}

static void put_escape(struct dest *d, const char *s, size_t n)
{
    put_mark(d, s, n, n, TERMSAFE_MARK_ESCAPE);
}

static void put_symbol(struct dest *d, const char *s, size_t n)
{
    put_mark(d, s, n, n, TERMSAFE_MARK_SYMBOL);
}

static const char HEX[] = "0123456789abcdef";

static void put_byte_escape(struct dest *d, uint8_t c)
{
    char e[4] = {'\\', 'x', HEX[c >> 4], HEX[c & 15]};
    put_escape(d, e, sizeof e);
}

/* "\u{200b}": at least four hex digits, lowercase, like the byte escapes. */
static void put_cp_escape(struct dest *d, uint32_t cp)
{
    char e[12] = "\\u{";
    size_t n = 3;
    int digits = cp > 0xfffff ? 6 : cp > 0xffff ? 5 : 4;
    for (int i = digits - 1; i >= 0; i--)
        e[n++] = HEX[(cp >> (4 * i)) & 15];
    e[n++] = '}';
    put_escape(d, e, n);
}

/* 8 bytes at a time: true when any byte is below 0x20 or at least 0x7f. */
static inline bool has_unsafe8(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    /* Classic SWAR byte tests: "some byte < 0x20" and "some byte > 0x7e"; exact as booleans. */
    uint64_t below = (x - 0x20 * ones) & ~x;
    uint64_t above = (x + ones) | x;
    return ((below | above) & highs) != 0;
}

/* Length of the printable-ASCII run at the start of p. */
static size_t ascii_run(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n && !has_unsafe8(p + i))
        i += 8;
    while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
        i++;
    return i;
}

/*
 * Code points that are valid but must not reach a terminal as such: C1 controls (a terminal may
 * act on them), line and paragraph separators, and invisible format characters, among them the
 * bidirectional controls that can make displayed text lie about its order (CVE-2021-42574).
 */
static bool cp_hidden(uint32_t cp)
{
    static const uint32_t RANGES[][2] = {
        {0x0080, 0x009f},   {0x00ad, 0x00ad}, {0x061c, 0x061c}, {0x180e, 0x180e},
        {0x200b, 0x200f},   {0x2028, 0x202e}, {0x2060, 0x2064}, {0x2066, 0x206f},
        {0xfeff, 0xfeff},   {0xfff9, 0xfffb}, {0xfffe, 0xffff}, {0x1d173, 0x1d17a},
        {0xe0000, 0xe007f},
    };
    if (cp < 0x80 || (cp > 0xad && cp < 0x61c))
        return false;
    for (size_t i = 0; i < sizeof RANGES / sizeof RANGES[0]; i++)
        if (cp >= RANGES[i][0] && cp <= RANGES[i][1])
            return true;
    return false;
}

/* Renders the control byte at p[i] (below 0x20, or DEL); returns bytes consumed. */
static size_t render_control(struct dest *d, const uint8_t *p, size_t n, size_t i, unsigned flags)
{
    bool sym = flags & TERMSAFE_SYMBOLS;
    switch (p[i]) {
    case '\n':
        if ((flags & TERMSAFE_NEWLINES) && sym) {
            /* The symbol and its line break are one unit: never one without the other. */
            put_mark(d, "\xe2\x90\x8a\n", 4, 3, TERMSAFE_MARK_SYMBOL);
        } else if (flags & TERMSAFE_NEWLINES) {
            put(d, "\n", 1);
        } else if (sym) {
            put_symbol(d, "\xe2\x90\x8a", 3);
        } else {
            put_escape(d, "\\n", 2);
        }
        return 1;
    case '\r':
        /* With real line breaks a CR of a CRLF is noise, unless symbols are asked for. */
        if ((flags & TERMSAFE_NEWLINES) && !sym && i + 1 < n && p[i + 1] == '\n')
            return 1;
        if (sym)
            put_symbol(d, "\xe2\x90\x8d", 3);
        else
            put_escape(d, "\\r", 2);
        return 1;
    case '\t':
        if (flags & TERMSAFE_TABS)
            put(d, "\t", 1);
        else if (sym)
            put_symbol(d, "\xe2\x90\x89", 3);
        else
            put_escape(d, "\\t", 2);
        return 1;
    default: put_byte_escape(d, p[i]); return 1;
    }
}

/* Renders the non-ASCII character (or invalid byte) at p[i]; returns bytes consumed. */
static size_t render_utf8(struct dest *d, const uint8_t *p, size_t n, size_t i, unsigned flags)
{
    uint32_t cp;
    size_t k = (flags & TERMSAFE_ASCII) ? 0 : utf8_decode(p + i, n - i, &cp);
    if (k == 0) {
        put_byte_escape(d, p[i]);
        return 1;
    }
    if (cp_hidden(cp))
        put_cp_escape(d, cp);
    else
        put(d, p + i, k);
    return k;
}

static void render(struct dest *d, const uint8_t *p, size_t n, unsigned flags)
{
    size_t i = 0;
    while (i < n && !d->full) {
        size_t run = ascii_run(p + i, n - i);
        if (run) {
            put_run(d, p + i, run);
            i += run;
        } else if (p[i] < 0x80) {
            i += render_control(d, p, n, i, flags);
        } else {
            i += render_utf8(d, p, n, i, flags);
        }
    }
}

size_t termsafe_append_marked(struct dynbuf *out, const uint8_t *p, size_t n, unsigned flags,
                              const struct termsafe_marks *marks)
{
    /* Most fields are plain printable ASCII: copied as they are, without staging. */
    if (ascii_run(p, n) == n)
        return dynbuf_append(out, p, n);
    struct dest d = {.db = out, .marks = marks};
    size_t before = out->len;
    render(&d, p, n, flags);
    unstage(&d);
    return out->len - before;
}

size_t termsafe_append(struct dynbuf *out, const uint8_t *p, size_t n, unsigned flags)
{
    return termsafe_append_marked(out, p, n, flags, NULL);
}

char *termsafe_str_marked(char *buf, size_t buflen, const uint8_t *p, size_t n, unsigned flags,
                          const struct termsafe_marks *marks)
{
    if (buflen == 0)
        return buf;
    struct dest d = {.buf = (uint8_t *)buf, .cap = buflen - 1, .marks = marks};
    render(&d, p, n, flags);
    bool cut = d.full && d.cap >= ELLIPSIS_LEN;
    if (cut) {
        memcpy(buf + d.mark, ELLIPSIS, ELLIPSIS_LEN);
        d.len = d.mark + ELLIPSIS_LEN;
    }
    buf[d.len] = '\0';
    /* Held marks end past where the ellipsis starts: kept only when nothing was cut. */
    for (size_t i = 0; i < d.nheld && !cut; i++)
        marks->mark(marks->data, d.held[i].off, d.held[i].len, d.held[i].kind);
    return buf;
}

char *termsafe_str(char *buf, size_t buflen, const uint8_t *p, size_t n, unsigned flags)
{
    return termsafe_str_marked(buf, buflen, p, n, flags, NULL);
}

int termsafe_is_clean(const uint8_t *p, size_t n, unsigned flags)
{
    size_t i = 0;
    while (i < n) {
        i += ascii_run(p + i, n - i);
        if (i == n)
            break;
        uint8_t c = p[i];
        if (c == '\t' && (flags & TERMSAFE_TABS)) {
            i++;
        } else if (c == '\n' && (flags & TERMSAFE_NEWLINES) && !(flags & TERMSAFE_SYMBOLS)) {
            i++;
        } else if (c < 0x80 || (flags & TERMSAFE_ASCII)) {
            return 0;
        } else {
            uint32_t cp;
            size_t k = utf8_decode(p + i, n - i, &cp);
            if (k == 0 || cp_hidden(cp))
                return 0;
            i += k;
        }
    }
    return 1;
}
