/*
 * bodyview owns the rendering of message bodies for reading: choosing a view, turning the
 * body into lines (text, JSON token lines, form fields, multipart parts, hex rows), cutting or
 * wrapping lines into display rows, the lazy line index and searching.
 *
 * Each mode is one line function in a const table: given where a line starts (struct pos: a
 * body offset plus a little state), it steps over that line and, when asked, renders it. The
 * index is a list of such positions, one every BODYVIEW_CHECKPOINT_BYTES of body, grown only
 * as far as someone asks; everything else (rows, search, offsets) walks from the nearest
 * checkpoint. Network bytes reach the output only through termsafe.
 *
 * It never copies or changes the body, never does I/O, never draws, and never scans past what
 * a request needs.
 */
#define _GNU_SOURCE /* memmem */
#include "hspy/bodyview.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hspy/termsafe.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

/* Rendered text of one line is bounded: termsafe escapes take at most 10 bytes per source
   character and tabs 8 columns per byte. */
#define LINE_TEXT_MAX ((size_t)BODYVIEW_LINE_MAX * 16 + 4096)

/* ---- positions, lines, the view ------------------------------------------------------- */

/* Where a line starts: enough to render it and everything after it. */
struct pos {
    uint64_t off;   /* body offset */
    uint32_t depth; /* json: nesting depth; multipart: part number */
    uint16_t state; /* multipart: section */
    uint16_t flags; /* enum pos_flag */
};

enum pos_flag {
    PF_SPLIT = 1 << 0,     /* this line continues a source line cut at BODYVIEW_LINE_MAX */
    PF_JSON_TEXT = 1 << 1, /* json: not valid from here on; shown as text */
    PF_JSON_STR = 1 << 2,  /* json: inside a string cut at BODYVIEW_LINE_MAX */
    PF_PART_BIN = 1 << 3,  /* multipart: the part's Content-Type is binary */
};

struct checkpoint {
    uint64_t line, row;
    struct pos pos;
};

/* A cursor walks lines: where the next line starts, and its line and row numbers. */
struct cursor {
    struct pos pos;
    uint64_t line, row;
};

/* A rendered line, before it is cut into rows. */
struct line {
    struct dynbuf text;
    struct bodyview_span *span; /* in order, not overlapping (match spans excepted) */
    uint32_t nspans, spans_cap;
    uint16_t flags; /* enum bodyview_row_flag: CONT, NOTICE */
    uint32_t cols;  /* display columns of text */
    uint32_t fixed; /* bytes of text that stay in place under a sideways scroll (a hex offset) */
};

struct bodyview;

struct mode_ops {
    enum bodyview_mode mode;
    /* Steps over the line at *p, rendering it into out when out is not NULL. Returns false
       when no line starts at *p (the end). Every call that returns true moves p->off forward
       or changes p's state, so walking always ends. */
    bool (*line)(struct bodyview *v, struct pos *p, struct line *out);
    bool arithmetic; /* rows are computed, never indexed (hex) */
};

struct ctype {
    char media[80];    /* lower case, no parameters */
    char charset[40];  /* as declared, "" when none */
    char boundary[72]; /* RFC 2046: at most 70 characters */
    size_t blen;
};

struct bodyview {
    const uint8_t *body;
    size_t len;
    struct ctype ct;
    enum bodyview_mode picked, mode;
    const struct mode_ops *ops;
    struct bodyview_layout lay;
    uint32_t bpr;    /* hex bytes per row */
    uint32_t offw;   /* hex offset digits */
    uint64_t origin; /* hex offsets shown: origin + body offset */
    /* text charset */
    bool utf8;    /* no conversion */
    bool cp1252;  /* windows-1252 by table; otherwise iconv through cd */
    uint8_t unit; /* bytes of a code unit: 2 for UTF-16, 4 for UTF-32, else 1 */
    bool be;      /* that unit is big-endian */
    uint8_t bom;  /* bytes of the byte order mark the body starts with (not shown as text) */
    iconv_t cd;
    char charset[40];
    /* multipart: "\n--boundary" */
    uint8_t needle[80];
    size_t nlen;
    /* index */
    struct checkpoint *ck;
    size_t nck, ckcap;
    struct checkpoint front; /* the first line not indexed yet */
    uint64_t since;          /* body bytes since the last checkpoint */
    bool complete;
    struct cursor cache; /* where the next row most likely is, for sequential row access */
    bool cache_ok;
    uint32_t row_byte; /* byte in the line's text where the last row shown starts */
    /* The line last shown, kept rendered (and split into rows) for the rows that follow. */
    struct line shown;
    bool shown_ok;
    uint64_t shown_line, shown_row, shown_rows, shown_off;
    uint32_t *starts; /* wrapping: where each of its rows starts, then its end */
    size_t starts_cap;
    /* scratch */
    struct line tmp;
    struct dynbuf conv;   /* charset conversion */
    struct bad_byte *bad; /* and the bytes it could not convert, in order */
    size_t nbad, badcap;
    struct dynbuf decoded; /* form percent-decoding */
    struct bodyview_stats st;
    const struct bodyview_query *hl;
    char desc[192];
};

/* A byte the charset does not define: shown as an escape where conv's text reaches at. */
struct bad_byte {
    uint32_t at;
    uint8_t byte;
};

struct bodyview_query {
    bool regex, icase;
    regex_t re;
    uint8_t *pat;
    size_t plen;
    /* Plain queries: the longest run of the pattern that rendering can neither create nor
       change (see anchor_char), searched in the body itself to skip lines (0: none). */
    size_t anchor, alen;
};

static void line_init(struct line *l)
{
    memset(l, 0, sizeof *l);
    dynbuf_init(&l->text, LINE_TEXT_MAX);
}

static void line_cleanup(struct line *l)
{
    dynbuf_cleanup(&l->text);
    free(l->span);
}

/* Room for one span more. A line's spans are bounded by its text (LINE_TEXT_MAX bytes). */
static struct bodyview_span *span_slot(struct bodyview_span **span, uint32_t n, uint32_t *cap)
{
    if (n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *span = xrealloc(*span, *cap * sizeof **span);
    }
    return &(*span)[n];
}

static void line_reset(struct line *l)
{
    dynbuf_reset(&l->text);
    l->nspans = 0;
    l->flags = 0;
    l->cols = 0;
    l->fixed = 0;
}

/* ---- display width -------------------------------------------------------------------- */

static const uint32_t WIDE[][2] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x16fe4},
    {0x17000, 0x18aff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff}, {0x1fa70, 0x1faff},
    {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

static const uint32_t ZERO[][2] = {
    {0x0300, 0x036f}, {0x0483, 0x0489},   {0x0591, 0x05bd}, {0x0610, 0x061a}, {0x064b, 0x065f},
    {0x0670, 0x0670}, {0x06d6, 0x06dc},   {0x0900, 0x0902}, {0x093c, 0x093c}, {0x0941, 0x0948},
    {0x094d, 0x094d}, {0x0e31, 0x0e31},   {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1ab0, 0x1aff},
    {0x1dc0, 0x1dff}, {0x20d0, 0x20ff},   {0x302a, 0x302f}, {0x3099, 0x309a}, {0xfe00, 0xfe0f},
    {0xfe20, 0xfe2f}, {0xe0100, 0xe01ef},
};

static bool in_ranges(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0])
            hi = mid;
        else if (cp > r[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static uint32_t cp_width(uint32_t cp)
{
    if (cp < 0x300)
        return 1;
    if (in_ranges(cp, ZERO, sizeof ZERO / sizeof ZERO[0]))
        return 0;
    if (in_ranges(cp, WIDE, sizeof WIDE / sizeof WIDE[0]))
        return 2;
    return 1;
}

/* Decodes one UTF-8 character (termsafe output is valid, but be robust: a stray byte counts
   as one column). Returns its length. */
static size_t u8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    size_t k = utf8_decode(s, n, cp);
    if (k == 0) {
        *cp = 0xfffd;
        return 1;
    }
    return k;
}

static uint32_t text_width(const uint8_t *s, size_t n)
{
    uint32_t w = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            w++;
            i++;
            continue;
        }
        uint32_t cp;
        i += u8_next(s + i, n - i, &cp);
        w += cp_width(cp);
    }
    return w;
}

/*
 * Walks from byte from while the characters fit in cols columns. Returns the byte where it
 * stopped; *used gets the columns taken.
 */
static size_t fit_cols(const uint8_t *s, size_t n, size_t from, uint32_t cols, uint32_t *used)
{
    uint32_t w = 0;
    size_t i = from;
    while (i < n) {
        uint32_t cp;
        size_t k = u8_next(s + i, n - i, &cp);
        uint32_t cw = s[i] < 0x80 ? 1 : cp_width(cp);
        if (w + cw > cols)
            break;
        w += cw;
        i += k;
    }
    /* Zero-width marks belong to the character before them. */
    while (i < n && s[i] >= 0x80) {
        uint32_t cp;
        size_t k = u8_next(s + i, n - i, &cp);
        if (cp_width(cp) != 0)
            break;
        i += k;
    }
    *used = w;
    return i;
}

/* Back from i to the start of a UTF-8 character (at most 3 bytes), never before lo. */
static size_t u8_boundary(const uint8_t *s, size_t lo, size_t i)
{
    size_t k = i;
    while (k > lo && i - k < 3 && (s[k] & 0xc0) == 0x80)
        k--;
    return k > lo && (s[k] & 0xc0) != 0x80 ? k : i;
}

/* ---- putting text into a line --------------------------------------------------------- */

static void span_add(struct line *l, size_t off, size_t len, enum bodyview_style style)
{
    if (style == BODYVIEW_STYLE_PLAIN || len == 0)
        return;
    if (l->nspans > 0) {
        struct bodyview_span *last = &l->span[l->nspans - 1];
        if (last->style == style && last->off + last->len == off) {
            last->len += (uint32_t)len;
            return;
        }
    }
    *span_slot(&l->span, l->nspans, &l->spans_cap) =
        (struct bodyview_span){(uint32_t)off, (uint32_t)len, (uint8_t)style};
    l->nspans++;
}

/* Text hspy writes itself (ASCII or known-safe UTF-8). */
static void put_lit(struct line *l, const char *s, enum bodyview_style style)
{
    if (!l)
        return;
    size_t before = l->text.len;
    dynbuf_adds(&l->text, s);
    if (l->text.len > before)
        l->cols += text_width(l->text.data + before, l->text.len - before);
    span_add(l, before, l->text.len - before, style);
}

/* Spans of put_safe: the text's style up to each escape, the escape style over it. */
struct safe_spans {
    struct line *l;
    enum bodyview_style style;
    size_t pos; /* text styled so far */
};

static void safe_mark(void *data, size_t off, size_t len, enum termsafe_mark_kind kind)
{
    (void)kind; /* bodies are rendered without symbols */
    struct safe_spans *ss = data;
    span_add(ss->l, ss->pos, off - ss->pos, ss->style);
    span_add(ss->l, off, len, BODYVIEW_STYLE_ESCAPE);
    ss->pos = off + len;
}

/* Bytes from the network, through termsafe; what termsafe escapes is styled as an escape. */
static void put_safe(struct line *l, const uint8_t *p, size_t n, enum bodyview_style style)
{
    if (!l)
        return;
    size_t before = l->text.len;
    struct safe_spans ss = {l, style, before};
    termsafe_append_marked(&l->text, p, n, 0, &(struct termsafe_marks){safe_mark, &ss});
    if (l->text.len > before)
        l->cols += text_width(l->text.data + before, l->text.len - before);
    span_add(l, ss.pos, l->text.len - ss.pos, style);
}

/* "\xNN" for a byte the body's charset does not define, styled as an escape. */
static void put_byte_escape(struct line *l, uint8_t c)
{
    char esc[8];
    snprintf(esc, sizeof esc, "\\x%02x", c);
    put_lit(l, esc, BODYVIEW_STYLE_ESCAPE);
}

/* windows-1252's 0x80-0x9f (0 = undefined); 0xa0-0xff are U+00A0-U+00FF. */
static const uint16_t CP1252[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

/* Notes that byte c could not be converted; it shows at the current end of v->conv. */
static void bad_byte(struct bodyview *v, uint8_t c)
{
    if (v->nbad == v->badcap) {
        v->badcap = v->badcap ? v->badcap * 2 : 64;
        v->bad = xrealloc(v->bad, v->badcap * sizeof *v->bad);
    }
    v->bad[v->nbad++] = (struct bad_byte){(uint32_t)v->conv.len, c};
}

static void cp1252_convert(struct bodyview *v, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = s[i] < 0x80 ? s[i] : s[i] < 0xa0 ? CP1252[s[i] - 0x80] : s[i];
        if (cp == 0) {
            bad_byte(v, s[i]);
        } else {
            uint8_t u[4];
            dynbuf_append(&v->conv, u, utf8_encode(cp, u));
        }
    }
}

/* Converts s[0..n) from the view's charset to UTF-8 in v->conv; bytes the charset does not
   define are listed in v->bad (put_text shows them as escapes). */
static void convert(struct bodyview *v, const uint8_t *s, size_t n)
{
    dynbuf_reset(&v->conv);
    v->nbad = 0;
    if (v->cp1252) {
        cp1252_convert(v, s, n);
        return;
    }
    iconv(v->cd, NULL, NULL, NULL, NULL);
    char *in = (char *)(uintptr_t)s;
    size_t left = n;
    while (left > 0) {
        char buf[4096], *o = buf;
        size_t room = sizeof buf;
        size_t r = iconv(v->cd, &in, &left, &o, &room);
        dynbuf_append(&v->conv, buf, (size_t)(o - buf));
        if (r == (size_t)-1 && errno != E2BIG) {
            /* A unit it cannot read (a lone surrogate, a cut one) is escaped whole, so that
               reading goes on at the next unit. */
            size_t k = v->unit < left ? v->unit : left;
            for (size_t i = 0; i < k; i++)
                bad_byte(v, (uint8_t)in[i]);
            in += k;
            left -= k;
        }
    }
}

/* Text without tabs: termsafe'd, a tab expanded to spaces up to the next tab stop. */
static void put_tabbed(struct line *l, const uint8_t *s, size_t n, enum bodyview_style style)
{
    while (n > 0) {
        const uint8_t *tab = memchr(s, '\t', n);
        size_t seg = tab ? (size_t)(tab - s) : n;
        put_safe(l, s, seg, style);
        if (!tab)
            break;
        uint32_t spaces = BODYVIEW_TAB - l->cols % BODYVIEW_TAB;
        size_t at = l->text.len;
        for (uint32_t i = 0; i < spaces; i++)
            dynbuf_addc(&l->text, ' ');
        l->cols += spaces;
        span_add(l, at, l->text.len - at, style);
        s += seg + 1;
        n -= seg + 1;
    }
}

/* Body text: charset-converted, tabs expanded, escaped. */
static void put_text(struct bodyview *v, struct line *l, const uint8_t *s, size_t n,
                     enum bodyview_style style)
{
    if (!l)
        return;
    if (v->utf8) {
        put_tabbed(l, s, n, style);
        return;
    }
    convert(v, s, n);
    s = v->conv.data ? v->conv.data : (const uint8_t *)"";
    n = v->conv.len;
    size_t i = 0;
    for (size_t b = 0; b < v->nbad; b++) {
        put_tabbed(l, s + i, v->bad[b].at - i, style);
        put_byte_escape(l, v->bad[b].byte);
        i = v->bad[b].at;
    }
    put_tabbed(l, s + i, n - i, style);
}

__attribute__((format(printf, 2, 3))) static void put_notice(struct line *l, const char *fmt, ...)
{
    if (!l)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    line_reset(l);
    put_lit(l, buf, BODYVIEW_STYLE_NOTICE);
    l->flags |= BODYVIEW_ROW_NOTICE;
}

/* ---- source lines --------------------------------------------------------------------- */

/* The code unit at s is the character c (below 0x80) in the view's wide charset. */
static bool unit_is(const struct bodyview *v, const uint8_t *s, uint8_t c)
{
    size_t u = v->unit, at = v->be ? u - 1 : 0;
    for (size_t i = 0; i < u; i++)
        if (s[i] != (i == at ? c : 0))
            return false;
    return true;
}

/* line_bounds for UTF-16 and UTF-32: line ends are whole, aligned units; a cut never splits a
   unit or a surrogate pair. off is at a unit boundary (counted from the body's start). */
static void wide_bounds(const struct bodyview *v, size_t off, size_t *cend, size_t *next,
                        bool *split)
{
    size_t u = v->unit, left = v->len - off;
    size_t lim = left < BODYVIEW_LINE_MAX ? left : BODYVIEW_LINE_MAX;
    const uint8_t *s = v->body + off;
    *split = false;
    for (size_t i = 0; i + u <= lim;) {
        const uint8_t *lf = memchr(s + i, '\n', lim - i);
        if (!lf)
            break;
        size_t k = (size_t)(lf - s) - (v->be ? u - 1 : 0); /* where its unit would start */
        if ((size_t)(lf - s) < (v->be ? u - 1 : 0) || k % u || k + u > lim ||
            !unit_is(v, s + k, '\n')) {
            i = (size_t)(lf - s) + 1;
            continue;
        }
        *next = off + k + u;
        *cend = k >= u && unit_is(v, s + k - u, '\r') ? off + k - u : off + k;
        return;
    }
    if (left <= BODYVIEW_LINE_MAX) {
        *cend = *next = v->len;
        return;
    }
    size_t cut = lim - lim % u;
    /* A high surrogate keeps its low one: the pair goes to the next line together. */
    if (u == 2 && cut >= 4 && (s[cut - 2 + (v->be ? 0 : 1)] & 0xfc) == 0xd8)
        cut -= 2;
    *cend = *next = off + cut;
    *split = true;
}

/*
 * The source line at off: its content is [off, *cend) without the line end (LF or CRLF), the
 * next line starts at *next. A line longer than BODYVIEW_LINE_MAX is cut (*split).
 */
static void line_bounds(const struct bodyview *v, size_t off, size_t *cend, size_t *next,
                        bool *split)
{
    if (v->unit > 1) {
        wide_bounds(v, off, cend, next, split);
        return;
    }
    size_t left = v->len - off;
    size_t lim = left < BODYVIEW_LINE_MAX ? left : BODYVIEW_LINE_MAX;
    const uint8_t *s = v->body + off;
    const uint8_t *nl = memchr(s, '\n', lim);
    *split = false;
    if (nl) {
        size_t n = (size_t)(nl - s);
        *next = off + n + 1;
        *cend = n > 0 && s[n - 1] == '\r' ? off + n - 1 : off + n;
        return;
    }
    if (left <= BODYVIEW_LINE_MAX) {
        *cend = *next = v->len;
        return;
    }
    *cend = *next = off + u8_boundary(s, 1, lim);
    *split = true;
}

/* One text line (also the tail of invalid JSON, preambles and text parts). */
static bool text_piece(struct bodyview *v, struct pos *p, struct line *out,
                       enum bodyview_style style)
{
    if (p->off >= v->len)
        return false;
    size_t cend, next;
    bool split;
    line_bounds(v, (size_t)p->off, &cend, &next, &split);
    if (out) {
        if (p->flags & PF_SPLIT)
            out->flags |= BODYVIEW_ROW_CONT;
        size_t from = p->off == 0 && v->bom <= cend ? v->bom : (size_t)p->off;
        put_text(v, out, v->body + from, cend - from, style);
    }
    p->off = next;
    p->flags = (uint16_t)(split ? p->flags | PF_SPLIT : p->flags & ~PF_SPLIT);
    return true;
}

static bool text_line(struct bodyview *v, struct pos *p, struct line *out)
{
    return text_piece(v, p, out, BODYVIEW_STYLE_PLAIN);
}

/* ---- hex ------------------------------------------------------------------------------ */

static void hex_marks(struct bodyview *v, size_t off, size_t count, bool *mark);

/* Columns of a hex row. */
static uint32_t hex_cols(uint32_t offw, uint32_t bpr)
{
    return offw + 5 + 4 * bpr;
}

/* Byte of a hex row's text where the cell of byte k starts. */
static uint32_t hex_cell(const struct bodyview *v, uint32_t k)
{
    return v->offw + 2 + 3 * k + (k >= v->bpr / 2 ? 1 : 0);
}

/* A byte's style in a hex row: CR and LF stand out, so that line ends can be told at a glance;
   others have the column's style. */
static enum bodyview_style hex_style(uint8_t c, enum bodyview_style column)
{
    return c == '\r' || c == '\n' ? BODYVIEW_STYLE_LINE_END : column;
}

/* "00000010  48 65 6c 6c 6f 0a 00 ff  ...  |Hello...|": count bytes from off (shown counted
   from the origin). */
static void hex_render(struct bodyview *v, size_t off, size_t count, struct line *l)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%0*llx  ", (int)v->offw, (unsigned long long)(v->origin + off));
    put_lit(l, buf, BODYVIEW_STYLE_PLAIN);
    span_add(l, 0, v->offw, BODYVIEW_STYLE_META);
    l->fixed = (uint32_t)l->text.len;
    bool mark[16] = {false};
    hex_marks(v, off, count, mark);
    for (uint32_t k = 0; k < v->bpr; k++) {
        if (k == v->bpr / 2)
            put_lit(l, " ", BODYVIEW_STYLE_PLAIN);
        if (k < count) {
            static const char digits[] = "0123456789abcdef";
            uint8_t c = v->body[off + k];
            char cell[3] = {digits[c >> 4], digits[c & 15], '\0'};
            put_lit(l, cell, mark[k] ? BODYVIEW_STYLE_MATCH : hex_style(c, BODYVIEW_STYLE_PLAIN));
            put_lit(l, " ", BODYVIEW_STYLE_PLAIN);
        } else {
            put_lit(l, "   ", BODYVIEW_STYLE_PLAIN);
        }
    }
    put_lit(l, "|", BODYVIEW_STYLE_META);
    for (uint32_t k = 0; k < count; k++) {
        uint8_t c = v->body[off + k];
        uint8_t shown = c >= 0x20 && c < 0x7f ? c : '.';
        put_safe(l, &shown, 1, mark[k] ? BODYVIEW_STYLE_MATCH : hex_style(c, BODYVIEW_STYLE_META));
    }
    put_lit(l, "|", BODYVIEW_STYLE_META);
}

static bool hex_line(struct bodyview *v, struct pos *p, struct line *out)
{
    if (p->off >= v->len)
        return false;
    size_t count = v->len - (size_t)p->off < v->bpr ? v->len - (size_t)p->off : v->bpr;
    if (out)
        hex_render(v, (size_t)p->off, count, out);
    p->off += count;
    return true;
}

/* ---- JSON ----------------------------------------------------------------------------- */

/* Walking one JSON line: the body, the line being built and where it started. */
struct jline {
    struct bodyview *v;
    struct pos *p;
    struct line *out;
    size_t i;     /* next byte */
    size_t start; /* the line's first byte */
    size_t limit; /* strings are cut here (start + BODYVIEW_LINE_MAX) */
};

static bool jws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const struct bodyview *v, size_t i)
{
    while (i < v->len && jws(v->body[i]))
        i++;
    return i;
}

static bool word_char(uint8_t c)
{
    return isalnum(c) || c == '-' || c == '+' || c == '.' || c == '_';
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool jnumber(const uint8_t *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && isdigit(s[i]))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && isdigit(s[i]))
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && isdigit(s[i]))
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static void jindent(struct jline *j, uint32_t depth)
{
    if (!j->out)
        return;
    uint32_t shown = depth < BODYVIEW_INDENT_MAX ? depth : BODYVIEW_INDENT_MAX;
    for (uint32_t k = 0; k < shown; k++)
        put_lit(j->out, "  ", BODYVIEW_STYLE_PLAIN);
    if (depth > BODYVIEW_INDENT_MAX) {
        char buf[24];
        snprintf(buf, sizeof buf, "(%u) ", depth);
        put_lit(j->out, buf, BODYVIEW_STYLE_META);
    }
}

static void jpunct(struct jline *j, const char *s)
{
    put_lit(j->out, s, BODYVIEW_STYLE_PUNCT);
}

/* A comma after a value stays on the value's line. */
static void jcomma(struct jline *j)
{
    size_t k = skip_ws(j->v, j->i);
    if (k < j->v->len && j->v->body[k] == ',') {
        jpunct(j, ",");
        j->i = k + 1;
    }
}

/* '{' or '[' at j->i; an empty container stays on one line. */
static void jopen(struct jline *j)
{
    const struct bodyview *v = j->v;
    uint8_t c = v->body[j->i];
    jpunct(j, c == '{' ? "{" : "[");
    j->p->depth++;
    j->i++;
    size_t k = skip_ws(v, j->i);
    if (k < v->len && v->body[k] == (c == '{' ? '}' : ']')) {
        jpunct(j, c == '{' ? "}" : "]");
        j->p->depth--;
        j->i = k + 1;
        jcomma(j);
    }
}

/*
 * A string at j->i (its opening quote, or its middle when cont). Cut at j->limit, never inside
 * an escape or a UTF-8 character, and never before one byte of progress.
 */
static void jstring(struct jline *j, enum bodyview_style style, bool cont)
{
    const struct bodyview *v = j->v;
    size_t s = j->i, k = cont ? s : s + 1, min = s + 1;
    bool cut = false;
    while (k < v->len) {
        uint8_t c = v->body[k];
        if (c == '"') {
            k++;
            break;
        }
        if (k >= j->limit && k > min) {
            k = u8_boundary(v->body, min, k);
            cut = true;
            break;
        }
        k += c == '\\' ? 2 : 1;
    }
    if (k > v->len)
        k = v->len;
    put_safe(j->out, v->body + s, k - s, style);
    j->i = k;
    j->p->flags = (uint16_t)(cut ? j->p->flags | PF_JSON_STR : j->p->flags & ~PF_JSON_STR);
}

static const char *jword(struct jline *j)
{
    const struct bodyview *v = j->v;
    size_t k = j->i;
    while (k < v->len && word_char(v->body[k]) && k - j->i < 1024)
        k++;
    const uint8_t *w = v->body + j->i;
    size_t n = k - j->i;
    enum bodyview_style style = BODYVIEW_STYLE_NUMBER;
    if ((n == 4 && memcmp(w, "true", 4) == 0) || (n == 5 && memcmp(w, "false", 5) == 0) ||
        (n == 4 && memcmp(w, "null", 4) == 0))
        style = BODYVIEW_STYLE_LITERAL;
    else if (!jnumber(w, n))
        return "not a number, string or literal";
    put_safe(j->out, w, n, style);
    j->i = k;
    return NULL;
}

/* A value after "key": on the same line. */
static const char *jvalue(struct jline *j)
{
    const struct bodyview *v = j->v;
    j->i = skip_ws(v, j->i);
    if (j->i >= v->len)
        return NULL;
    uint8_t c = v->body[j->i];
    if (c == '{' || c == '[') {
        jopen(j);
        return NULL;
    }
    if (c == '"') {
        jstring(j, BODYVIEW_STYLE_STRING, false);
        if (!(j->p->flags & PF_JSON_STR))
            jcomma(j);
        return NULL;
    }
    if (!word_char(c))
        return "a value is missing";
    const char *err = jword(j);
    if (!err)
        jcomma(j);
    return err;
}

/* After a whole string: a colon makes it a member name and its value follows. */
static const char *jafter_string(struct jline *j, size_t span_before)
{
    const struct bodyview *v = j->v;
    size_t k = skip_ws(v, j->i);
    if (k >= v->len || v->body[k] != ':') {
        jcomma(j);
        return NULL;
    }
    /* The string's spans (escapes inside it apart) become a member name's. */
    for (size_t i = span_before; j->out && i < j->out->nspans; i++)
        if (j->out->span[i].style == BODYVIEW_STYLE_STRING)
            j->out->span[i].style = BODYVIEW_STYLE_KEY;
    jpunct(j, ":");
    put_lit(j->out, " ", BODYVIEW_STYLE_PLAIN);
    j->i = k + 1;
    return jvalue(j);
}

static const char *jtoken(struct jline *j)
{
    const struct bodyview *v = j->v;
    uint8_t c = v->body[j->i];
    if (c == '{' || c == '[') {
        jindent(j, j->p->depth);
        jopen(j);
        return NULL;
    }
    if (c == '}' || c == ']') {
        if (j->p->depth == 0)
            return "a closing bracket without an opening one";
        j->p->depth--;
        jindent(j, j->p->depth);
        jpunct(j, c == '}' ? "}" : "]");
        j->i++;
        jcomma(j);
        return NULL;
    }
    if (c == '"') {
        jindent(j, j->p->depth);
        size_t spans = j->out ? j->out->nspans : 0;
        jstring(j, BODYVIEW_STYLE_STRING, false);
        if (j->p->flags & PF_JSON_STR)
            return NULL;
        return jafter_string(j, spans);
    }
    if (word_char(c)) {
        jindent(j, j->p->depth);
        const char *err = jword(j);
        if (!err)
            jcomma(j);
        return err;
    }
    return "an unexpected character";
}

/* Invalid JSON: a notice line, then the rest of the body as text from this line's start. */
static bool jfail(struct jline *j, const char *why)
{
    uint64_t at = j->i;
    j->p->flags = (uint16_t)((j->p->flags | PF_JSON_TEXT) & ~PF_JSON_STR);
    j->p->off = j->start;
    put_notice(j->out, "── not valid JSON at byte %llu (%s); the rest is shown as text ──",
               (unsigned long long)at, why);
    return true;
}

static bool json_line(struct bodyview *v, struct pos *p, struct line *out)
{
    if (p->flags & PF_JSON_TEXT)
        return text_line(v, p, out);
    bool cont = p->flags & PF_JSON_STR;
    /* The first line starts past a UTF-8 byte order mark (v->bom, named by the heading). */
    size_t from = p->off == 0 && v->unit == 1 ? v->bom : (size_t)p->off;
    struct jline j = {v, p, out, cont ? (size_t)p->off : skip_ws(v, from), 0, 0};
    if (j.i >= v->len) {
        p->off = v->len;
        return false;
    }
    j.start = j.i;
    j.limit = j.start + BODYVIEW_LINE_MAX;
    const char *err;
    if (cont) {
        if (out)
            out->flags |= BODYVIEW_ROW_CONT;
        jindent(&j, p->depth);
        jstring(&j, BODYVIEW_STYLE_STRING, true);
        err = p->flags & PF_JSON_STR ? NULL : jafter_string(&j, out ? out->nspans : 0);
    } else {
        err = jtoken(&j);
    }
    if (err)
        return jfail(&j, err);
    p->off = j.i;
    return true;
}

/* ---- form fields ---------------------------------------------------------------------- */

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (uint8_t)tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte; anything malformed
   is kept as sent. */
static void form_decode(struct dynbuf *out, const uint8_t *s, size_t n)
{
    dynbuf_reset(out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            dynbuf_addc(out, ' ');
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            dynbuf_addc(out, (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            dynbuf_addc(out, s[i]);
        }
    }
}

static void form_put(struct bodyview *v, struct line *l, const uint8_t *s, size_t n,
                     enum bodyview_style style)
{
    form_decode(&v->decoded, s, n);
    put_text(v, l, v->decoded.data ? v->decoded.data : (const uint8_t *)"", v->decoded.len, style);
}

static bool form_line(struct bodyview *v, struct pos *p, struct line *out)
{
    /* The first field starts past a UTF-8 byte order mark (v->bom, named by the heading). */
    size_t i = p->off == 0 && v->unit == 1 ? v->bom : (size_t)p->off;
    bool cont = p->flags & PF_SPLIT;
    while (!cont && i < v->len && v->body[i] == '&')
        i++; /* empty fields carry nothing */
    if (i >= v->len) {
        p->off = v->len;
        return false;
    }
    size_t lim = v->len - i < BODYVIEW_LINE_MAX ? v->len : i + BODYVIEW_LINE_MAX;
    const uint8_t *amp = memchr(v->body + i, '&', lim - i);
    size_t end = amp ? (size_t)(amp - v->body) : lim;
    bool split = !amp && lim < v->len;
    if (split && end - i > 3) /* never cut a %XX escape */
        end -= v->body[end - 1] == '%' ? 1 : v->body[end - 2] == '%' ? 2 : 0;
    if (out && cont) {
        out->flags |= BODYVIEW_ROW_CONT;
        form_put(v, out, v->body + i, end - i, BODYVIEW_STYLE_PLAIN);
    } else if (out) {
        const uint8_t *eq = memchr(v->body + i, '=', end - i);
        size_t name_end = eq ? (size_t)(eq - v->body) : end;
        form_put(v, out, v->body + i, name_end - i, BODYVIEW_STYLE_KEY);
        if (eq) {
            put_lit(out, ": ", BODYVIEW_STYLE_PUNCT);
            form_put(v, out, eq + 1, end - name_end - 1, BODYVIEW_STYLE_PLAIN);
        }
    }
    p->off = amp ? end + 1 : end;
    p->flags = (uint16_t)(split ? p->flags | PF_SPLIT : p->flags & ~PF_SPLIT);
    return true;
}

/* ---- multipart ------------------------------------------------------------------------ */

enum mp_state {
    MP_PREAMBLE = 0,
    MP_HEADERS,
    MP_TEXT,
    MP_HEX,
    MP_EPILOGUE,
    MP_DONE,
};

static bool binary_media(const char *media);
static bool looks_binary(const uint8_t *p, size_t n);

/*
 * Whether a delimiter line ("--boundary", or the closing "--boundary--") starts at off.
 * Returns 0 (no), 1 (delimiter) or 2 (closing); *end is where the next line starts.
 */
static int mp_delim(const struct bodyview *v, size_t off, size_t *end)
{
    size_t blen = v->ct.blen;
    if (v->len - off < 2 + blen || v->body[off] != '-' || v->body[off + 1] != '-' ||
        memcmp(v->body + off + 2, v->ct.boundary, blen) != 0)
        return 0;
    size_t k = off + 2 + blen;
    int kind = 1;
    if (v->len - k >= 2 && v->body[k] == '-' && v->body[k + 1] == '-') {
        kind = 2;
        k += 2;
    }
    while (k < v->len && (v->body[k] == ' ' || v->body[k] == '\t'))
        k++; /* transport padding */
    if (k < v->len && v->body[k] == '\r')
        k++;
    if (k < v->len && v->body[k] == '\n')
        k++;
    else if (k < v->len && kind == 1)
        return 0; /* "--boundaryX...": content that merely starts like the boundary */
    *end = k;
    return kind;
}

static bool mp_delim_line(struct bodyview *v, struct pos *p, struct line *out, int kind, size_t end)
{
    size_t shown = (size_t)p->off + 2 + v->ct.blen + (kind == 2 ? 2 : 0);
    put_safe(out, v->body + p->off, shown - (size_t)p->off, BODYVIEW_STYLE_META);
    if (kind == 2) {
        put_lit(out, "  (end)", BODYVIEW_STYLE_META);
        p->state = MP_EPILOGUE;
    } else {
        p->depth++;
        char buf[32];
        snprintf(buf, sizeof buf, "  (part %u)", p->depth);
        put_lit(out, buf, BODYVIEW_STYLE_META);
        p->state = MP_HEADERS;
    }
    p->flags &= (uint16_t) ~(PF_SPLIT | PF_PART_BIN);
    p->off = end;
    return true;
}

/* Where the current part's body ends, looking at most window bytes from off (or len). */
static size_t mp_part_end(const struct bodyview *v, size_t off, size_t window, size_t *delim)
{
    size_t avail = v->len - off < window ? v->len - off : window;
    const uint8_t *q = avail >= v->nlen ? memmem(v->body + off, avail, v->needle, v->nlen) : NULL;
    if (!q) {
        *delim = v->len;
        return off + avail;
    }
    size_t at = (size_t)(q - v->body);
    *delim = at + 1;
    return at > off && v->body[at - 1] == '\r' ? at - 1 : at;
}

static bool mp_header(struct bodyview *v, struct pos *p, struct line *out)
{
    size_t cend, next;
    bool split;
    line_bounds(v, (size_t)p->off, &cend, &next, &split);
    const uint8_t *s = v->body + p->off;
    size_t n = cend - (size_t)p->off;
    if (n == 0 && !(p->flags & PF_SPLIT)) {
        /* The blank line: the part's body follows, as text or hex. */
        size_t delim;
        size_t end = mp_part_end(v, next, 512 + v->nlen, &delim);
        bool bin = (p->flags & PF_PART_BIN) || looks_binary(v->body + next, end - next);
        p->state = bin ? MP_HEX : MP_TEXT;
        p->off = next;
        return true;
    }
    const uint8_t *colon = p->flags & PF_SPLIT ? NULL : memchr(s, ':', n);
    if (colon) {
        size_t name = (size_t)(colon - s);
        put_safe(out, s, name, BODYVIEW_STYLE_KEY);
        put_text(v, out, colon, n - name, BODYVIEW_STYLE_PLAIN);
        if (name == 12 && strncasecmp((const char *)s, "content-type", 12) == 0) {
            char media[80];
            size_t k = 0;
            const uint8_t *t = colon + 1;
            while (t < s + n && (*t == ' ' || *t == '\t'))
                t++;
            while (t < s + n && *t != ';' && *t != ' ' && k + 1 < sizeof media)
                media[k++] = (char)tolower(*t++);
            media[k] = '\0';
            if (binary_media(media))
                p->flags |= PF_PART_BIN;
        }
    } else {
        put_text(v, out, s, n, BODYVIEW_STYLE_PLAIN);
    }
    if (out && (p->flags & PF_SPLIT))
        out->flags |= BODYVIEW_ROW_CONT;
    p->off = next;
    p->flags = (uint16_t)(split ? p->flags | PF_SPLIT : p->flags & ~PF_SPLIT);
    return true;
}

static bool mp_hex(struct bodyview *v, struct pos *p, struct line *out)
{
    size_t delim;
    size_t end = mp_part_end(v, (size_t)p->off, v->bpr + v->nlen + 1, &delim);
    size_t count = end - (size_t)p->off < v->bpr ? end - (size_t)p->off : v->bpr;
    if (out)
        hex_render(v, (size_t)p->off, count, out);
    p->off += count;
    if (p->off == end && delim < v->len)
        p->off = delim; /* skip the CRLF that belongs to the delimiter */
    return true;
}

static bool mp_line(struct bodyview *v, struct pos *p, struct line *out)
{
    size_t end;
    int kind = 0;
    bool at_line_start = !(p->flags & PF_SPLIT);
    if (p->state != MP_EPILOGUE && p->state != MP_DONE && at_line_start && p->off < v->len)
        kind = mp_delim(v, (size_t)p->off, &end);
    if (kind)
        return mp_delim_line(v, p, out, kind, end);
    if (p->off >= v->len) {
        if (p->state == MP_EPILOGUE || p->state == MP_DONE)
            return false;
        put_notice(out, "── the multipart body ends without its closing delimiter ──");
        p->state = MP_DONE;
        return true;
    }
    {
        switch (p->state) {
        case MP_PREAMBLE:
        case MP_EPILOGUE: return text_piece(v, p, out, BODYVIEW_STYLE_META);
        case MP_TEXT: return text_piece(v, p, out, BODYVIEW_STYLE_PLAIN);
        case MP_HEX: return mp_hex(v, p, out);
        case MP_HEADERS: return mp_header(v, p, out);
        default: return false;
        }
    }
}

/* ---- modes ---------------------------------------------------------------------------- */

static const struct mode_ops MODES[BODYVIEW__COUNT] = {
    [BODYVIEW_TEXT] = {BODYVIEW_TEXT, text_line, false},
    [BODYVIEW_JSON] = {BODYVIEW_JSON, json_line, false},
    [BODYVIEW_FORM] = {BODYVIEW_FORM, form_line, false},
    [BODYVIEW_MULTIPART] = {BODYVIEW_MULTIPART, mp_line, false},
    [BODYVIEW_HEX] = {BODYVIEW_HEX, hex_line, true},
};

static const char *const MODE_NAMES[BODYVIEW__COUNT] = {"auto", "text",      "json",
                                                        "form", "multipart", "hex"};

const char *bodyview_mode_name(enum bodyview_mode m)
{
    return (unsigned)m < BODYVIEW__COUNT ? MODE_NAMES[m] : "?";
}

enum bodyview_mode bodyview_mode_by_name(const char *name)
{
    for (int m = 0; m < BODYVIEW__COUNT; m++)
        if (strcasecmp(name, MODE_NAMES[m]) == 0)
            return (enum bodyview_mode)m;
    return BODYVIEW__COUNT;
}

/* ---- choosing a view ------------------------------------------------------------------ */

static void lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        dst[k++] = (char)tolower((unsigned char)s[i]);
    dst[k] = '\0';
}

/* A parameter value: a token or a quoted-string (RFC 9110 section 5.6.4). */
static size_t param_value(const char *s, size_t n, size_t i, char *out, size_t cap, size_t *len)
{
    size_t k = 0;
    bool fits = true;
    if (i < n && s[i] == '"') {
        for (i++; i < n && s[i] != '"'; i++) {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            if (k + 1 < cap)
                out[k++] = s[i];
            else
                fits = false;
        }
        i++;
    } else {
        for (; i < n && s[i] != ';'; i++)
            if (k + 1 < cap)
                out[k++] = s[i];
            else
                fits = false;
        while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t'))
            k--;
    }
    out[k] = '\0';
    *len = fits ? k : 0;
    return i;
}

static void ctype_parse(const char *s, size_t n, struct ctype *ct)
{
    memset(ct, 0, sizeof *ct);
    if (!s)
        return;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t m = i;
    while (m < n && s[m] != ';' && s[m] != ' ' && s[m] != '\t')
        m++;
    lower_copy(ct->media, sizeof ct->media, s + i, m - i);
    for (i = m; i < n;) {
        while (i < n && (s[i] == ';' || s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t name = i;
        while (i < n && s[i] != '=' && s[i] != ';')
            i++;
        if (i >= n || s[i] != '=')
            continue;
        size_t name_len = i - name;
        while (name_len > 0 && (s[name + name_len - 1] == ' ' || s[name + name_len - 1] == '\t'))
            name_len--;
        i++;
        size_t len;
        if (name_len == 7 && strncasecmp(s + name, "charset", 7) == 0) {
            i = param_value(s, n, i, ct->charset, sizeof ct->charset, &len);
        } else if (name_len == 8 && strncasecmp(s + name, "boundary", 8) == 0) {
            i = param_value(s, n, i, ct->boundary, sizeof ct->boundary, &len);
            ct->blen = len <= 70 ? len : 0;
        } else {
            char skip[8];
            i = param_value(s, n, i, skip, sizeof skip, &len);
        }
    }
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const uint8_t UTF8_BOM[3] = {0xef, 0xbb, 0xbf};

/* Bytes of a UTF-8 byte order mark the body starts with: 3 or 0. */
static size_t utf8_bom_len(const uint8_t *body, size_t len)
{
    return len >= sizeof UTF8_BOM && memcmp(body, UTF8_BOM, sizeof UTF8_BOM) == 0 ? sizeof UTF8_BOM
                                                                                  : 0;
}

static bool json_media(const char *m)
{
    return has_suffix(m, "/json") || has_suffix(m, "+json") ||
           strcmp(m, "application/x-ndjson") == 0 || strcmp(m, "application/jsonl") == 0 ||
           strcmp(m, "application/json-seq") == 0 || strcmp(m, "application/x-json-stream") == 0;
}

static bool binary_media(const char *m)
{
    static const char *const exact[] = {
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/zstd",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-7z-compressed",
        "application/wasm",
        "application/protobuf",
        "application/x-protobuf",
        "application/msgpack",
        "application/x-msgpack",
        "application/cbor",
        "application/java-archive",
        "application/vnd.ms-fontobject",
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(m, exact[i]) == 0)
            return true;
    if (has_prefix(m, "application/grpc"))
        return true;
    if (has_prefix(m, "image/"))
        return !has_suffix(m, "+xml");
    return has_prefix(m, "audio/") || has_prefix(m, "video/") || has_prefix(m, "font/");
}

/* Valid UTF-8, allowing a character cut by the end of the sample. */
static bool valid_utf8(const uint8_t *p, size_t n)
{
    size_t k = utf8_valid_prefix(p, n);
    if (k == n)
        return true;
    size_t need = p[k] >= 0xf0 ? 4 : p[k] >= 0xe0 ? 3 : p[k] >= 0xc2 ? 2 : 0;
    if (need == 0 || n - k >= need)
        return false;
    for (size_t i = k + 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return false;
    return true;
}

static bool binary_magic(const uint8_t *p, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
    } sigs[] = {
        {"\x89PNG", 4},
        {"GIF8", 4},
        {"\xff\xd8\xff", 3},
        {"%PDF-", 5},
        {"PK\x03\x04", 4},
        {"\x1f\x8b", 2},
        {"\x28\xb5\x2f\xfd", 4},
        {"BZh", 3},
        {"\0asm", 4},
        {"OggS", 4},
        {"fLaC", 4},
        {"7z\xbc\xaf", 4},
        {"RIFF", 4},
        {"wOFF", 4},
        {"wOF2", 4},
        {"\x7f"
         "ELF",
         4},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (n >= sigs[i].len && memcmp(p, sigs[i].magic, sigs[i].len) == 0)
            return true;
    return n >= 12 && memcmp(p + 4, "ftyp", 4) == 0;
}

/* Binary content: magic numbers, NUL bytes, many control bytes, or many bytes that are
   neither UTF-8 nor likely single-byte text. */
static bool looks_binary(const uint8_t *p, size_t n)
{
    if (n > BODYVIEW_SNIFF_MAX)
        n = BODYVIEW_SNIFF_MAX;
    if (binary_magic(p, n))
        return true;
    size_t ctrl = 0, high = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0)
            return true;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) ||
            c == 0x7f)
            ctrl++;
        high += c >= 0x80;
    }
    if (ctrl * 20 > n)
        return true;
    return !valid_utf8(p, n) && high * 10 > n * 3;
}

static bool looks_form(const uint8_t *p, size_t n)
{
    bool eq = false;
    if (n > BODYVIEW_SNIFF_MAX)
        n = BODYVIEW_SNIFF_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        eq |= c == '=';
        if (!isalnum(c) && (c == 0 || !strchr("%+=&._~*-", c)))
            return false;
    }
    return eq && n > 0;
}

/* JSON lines: every non-empty line one value, at least two of them. */
static bool valid_json_lines(const uint8_t *p, size_t n)
{
    int values = 0;
    for (size_t a = 0; a < n;) {
        const uint8_t *nl = memchr(p + a, '\n', n - a);
        size_t b = nl ? (size_t)(nl - p) : n;
        size_t k = a;
        while (k < b && jws(p[k]))
            k++;
        if (k < b) {
            json_error_t err;
            json_t *doc = json_loadb((const char *)p + a, b - a, JSON_DECODE_ANY, &err);
            if (!doc)
                return false;
            json_decref(doc);
            values++;
        }
        a = b + 1;
    }
    return values > 1;
}

/* JSON validity: small bodies whole through jansson (one value, or one per line), large
   ones by walking their first BODYVIEW_SNIFF_MAX * 16 bytes with the JSON line stepper. */
static bool valid_json(const uint8_t *p, size_t n, bool containers_only, uint64_t *scanned)
{
    size_t i = 0;
    while (i < n && jws(p[i]))
        i++;
    if (i == n ||
        (p[i] != '{' && p[i] != '[' && (containers_only || (p[i] != '"' && !word_char(p[i])))))
        return false;
    if (n <= BODYVIEW_VALIDATE_MAX) {
        *scanned += n;
        json_error_t err;
        json_t *doc = json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        json_decref(doc);
        return doc != NULL || valid_json_lines(p, n);
    }
    struct bodyview probe;
    memset(&probe, 0, sizeof probe);
    probe.body = p;
    probe.len = n;
    struct pos pos = {0};
    while (pos.off < (uint64_t)BODYVIEW_SNIFF_MAX * 16 && json_line(&probe, &pos, NULL))
        if (pos.flags & PF_JSON_TEXT)
            return false;
    *scanned += pos.off;
    return true;
}

/* A wide charset: the iconv name, its unit and byte order, the byte order mark's length. */
struct wide {
    const char *name;
    uint8_t unit, bom;
    bool be;
};

/*
 * UTF-16 or UTF-32 from the byte order mark the body starts with, which wins over a declared
 * charset as in browsers (but only for a textual media type: unlabelled or binary data that
 * happens to start with FF FE stays binary); else from the declared charset ("utf-16" without
 * a mark is little-endian, as browsers read it; "utf-32" big-endian, Unicode's default). False
 * when the body is in neither.
 */
static bool wide_charset(const uint8_t *body, size_t len, const struct ctype *ct, struct wide *w)
{
    const char *cs = ct->charset;
    bool textual = ct->media[0] && !binary_media(ct->media);
    static const struct {
        const char *label, *name;
        uint8_t unit, bomlen;
        bool be;
        const char *bom;
    } WIDE_CHARSETS[] = {
        {NULL, "UTF-32LE", 4, 4, false, "\xff\xfe\0\0"},
        {NULL, "UTF-32BE", 4, 4, true, "\0\0\xfe\xff"},
        {NULL, "UTF-16LE", 2, 2, false, "\xff\xfe"},
        {NULL, "UTF-16BE", 2, 2, true, "\xfe\xff"},
        {"utf-16", "UTF-16LE", 2, 0, false, NULL},
        {"utf-16le", "UTF-16LE", 2, 0, false, NULL},
        {"utf-16be", "UTF-16BE", 2, 0, true, NULL},
        {"utf-32", "UTF-32BE", 4, 0, true, NULL},
        {"utf-32le", "UTF-32LE", 4, 0, false, NULL},
        {"utf-32be", "UTF-32BE", 4, 0, true, NULL},
    };
    for (size_t i = 0; i < sizeof WIDE_CHARSETS / sizeof WIDE_CHARSETS[0]; i++) {
        bool hit = WIDE_CHARSETS[i].bom
                       ? textual && len >= WIDE_CHARSETS[i].bomlen &&
                             memcmp(body, WIDE_CHARSETS[i].bom, WIDE_CHARSETS[i].bomlen) == 0
                       : strcasecmp(cs, WIDE_CHARSETS[i].label) == 0;
        if (hit) {
            *w = (struct wide){WIDE_CHARSETS[i].name, WIDE_CHARSETS[i].unit,
                               WIDE_CHARSETS[i].bomlen, WIDE_CHARSETS[i].be};
            return true;
        }
    }
    return false;
}

static enum bodyview_mode pick(const uint8_t *body, size_t len, const struct ctype *ct,
                               uint64_t *scanned)
{
    const char *m = ct->media;
    size_t sniff = len < BODYVIEW_SNIFF_MAX ? len : BODYVIEW_SNIFF_MAX;
    *scanned += sniff;
    if (len == 0)
        return BODYVIEW_TEXT;
    struct wide w;
    if (wide_charset(body, len, ct, &w) && !binary_media(m))
        return BODYVIEW_TEXT; /* its NUL bytes are not binary data */
    bool binary = looks_binary(body, sniff);
    if (has_prefix(m, "multipart/") && ct->blen > 0) {
        char needle[80];
        int k = snprintf(needle, sizeof needle, "--%s", ct->boundary);
        if (memmem(body, sniff, needle, (size_t)k))
            return BODYVIEW_MULTIPART;
    }
    bool json = json_media(m);
    /* A reader may ignore a UTF-8 byte order mark in front of JSON (RFC 8259 8.1). */
    size_t bom = utf8_bom_len(body, len);
    if (!binary &&
        (json || strcmp(m, "application/x-www-form-urlencoded") == 0 || m[0] == '\0' ||
         strcmp(m, "text/plain") == 0) &&
        valid_json(body + bom, len - bom, !json, scanned))
        return BODYVIEW_JSON; /* also "curl -d '{...}'", sent as a form */
    if (!binary && strcmp(m, "application/x-www-form-urlencoded") == 0)
        return BODYVIEW_FORM;
    if (binary_media(m)) /* mislabelled text is still easier read as text */
        return binary || !valid_utf8(body, sniff) ? BODYVIEW_HEX : BODYVIEW_TEXT;
    if (binary)
        return BODYVIEW_HEX;
    if (m[0] == '\0' && looks_form(body + bom, len - bom))
        return BODYVIEW_FORM;
    return BODYVIEW_TEXT;
}

enum bodyview_mode bodyview_pick(const uint8_t *body, size_t len, const char *ctype,
                                 size_t ctype_len)
{
    struct ctype ct;
    ctype_parse(ctype, ctype_len, &ct);
    uint64_t scanned = 0;
    return pick(body, len, &ct, &scanned);
}

/* ---- charset -------------------------------------------------------------------------- */

/* WHATWG's Encoding Standard reads these labels as windows-1252, as browsers do. */
static bool latin1_label(const char *cs)
{
    static const char *const labels[] = {
        "iso-8859-1",   "iso8859-1",  "latin1", "l1",     "us-ascii", "ascii",      "cp1252",
        "windows-1252", "iso_8859-1", "cp819",  "ibm819", "x-cp1252", "iso-ir-100",
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcasecmp(cs, labels[i]) == 0)
            return true;
    return false;
}

/* Chooses the text charset: UTF-16 or UTF-32 (a byte order mark, or declared), else UTF-8 after
   its byte order mark, else the declared one, else UTF-8 when the start is valid UTF-8, else
   windows-1252. Unknown charsets are shown as UTF-8. */
static void charset_choose(struct bodyview *v)
{
    const char *cs = v->ct.charset;
    v->unit = 1;
    struct wide w;
    if (wide_charset(v->body, v->len, &v->ct, &w)) {
        iconv_t cd = iconv_open("UTF-8", w.name);
        if (cd != (iconv_t)-1) {
            v->cd = cd;
            v->utf8 = false;
            v->unit = w.unit;
            v->be = w.be;
            v->bom = w.bom;
            lower_copy(v->charset, sizeof v->charset, w.name, strlen(w.name));
            return;
        }
    }
    /* UTF-8's mark, like the others, wins over a declared charset and is not shown (an
       unlabelled body that starts with it reads as UTF-8 anyway); a binary type keeps it. */
    if (utf8_bom_len(v->body, v->len) && !binary_media(v->ct.media)) {
        v->utf8 = true;
        v->bom = sizeof UTF8_BOM;
        snprintf(v->charset, sizeof v->charset, "utf-8");
        return;
    }
    size_t sniff = v->len < BODYVIEW_SNIFF_MAX ? v->len : BODYVIEW_SNIFF_MAX;
    const char *use = "UTF-8";
    if (cs[0] && latin1_label(cs))
        use = "WINDOWS-1252";
    else if (cs[0] && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "utf8") != 0 &&
             strncasecmp(cs, "utf-16", 6) != 0 && strncasecmp(cs, "utf-32", 6) != 0 &&
             strncasecmp(cs, "ucs", 3) != 0)
        use = cs;
    else if (!cs[0] && !valid_utf8(v->body, sniff))
        use = "WINDOWS-1252";
    v->utf8 = true;
    snprintf(v->charset, sizeof v->charset, "utf-8");
    if (strcmp(use, "UTF-8") == 0)
        return;
    if (strcmp(use, "WINDOWS-1252") == 0) {
        v->utf8 = false;
        v->cp1252 = true;
        snprintf(v->charset, sizeof v->charset, "windows-1252");
        return;
    }
    iconv_t cd = iconv_open("UTF-8", use);
    if (cd == (iconv_t)-1)
        return;
    v->cd = cd;
    v->utf8 = false;
    lower_copy(v->charset, sizeof v->charset, use, strlen(use));
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void index_reset(struct bodyview *v)
{
    v->nck = 0;
    memset(&v->front, 0, sizeof v->front);
    v->since = 0;
    v->complete = false;
    v->cache_ok = false;
    v->shown_ok = false;
    if (v->nck == v->ckcap)
        v->ck = xgrow(v->ck, &v->ckcap, v->nck + 1, sizeof *v->ck);
    v->ck[v->nck++] = v->front;
    v->st.checkpoints = v->nck;
}

static uint32_t hex_bpr(const struct bodyview *v)
{
    uint32_t w = v->lay.width;
    if (w == 0 || w >= hex_cols(v->offw, 16))
        return 16;
    return w >= hex_cols(v->offw, 8) ? 8 : 4;
}

/* Hex digits of the largest offset shown: 8 at least, 16 at most. */
static uint32_t offset_digits(uint64_t origin, size_t len)
{
    uint64_t top = origin + (len ? (uint64_t)len - 1 : 0);
    uint32_t w = 8;
    while (w < 16 && top >> (4 * w))
        w++;
    return w;
}

static void apply_mode(struct bodyview *v, enum bodyview_mode mode)
{
    if (mode == BODYVIEW_AUTO || mode >= BODYVIEW__COUNT)
        mode = v->picked;
    if (mode == BODYVIEW_MULTIPART && v->ct.blen == 0)
        mode = BODYVIEW_TEXT;
    v->mode = mode;
    v->ops = &MODES[mode];
    index_reset(v);
}

struct bodyview *bodyview_new(const uint8_t *body, size_t len, const char *ctype, size_t ctype_len,
                              enum bodyview_mode mode)
{
    struct bodyview *v = xcalloc(1, sizeof *v);
    v->body = body ? body : (const uint8_t *)"";
    v->len = body ? len : 0;
    v->cd = (iconv_t)-1;
    ctype_parse(ctype, ctype_len, &v->ct);
    v->nlen = (size_t)snprintf((char *)v->needle, sizeof v->needle, "\n--%s", v->ct.boundary);
    v->offw = offset_digits(0, v->len);
    v->bpr = hex_bpr(v);
    line_init(&v->tmp);
    line_init(&v->shown);
    dynbuf_init(&v->conv, LINE_TEXT_MAX);
    dynbuf_init(&v->decoded, LINE_TEXT_MAX);
    charset_choose(v);
    v->picked = pick(v->body, v->len, &v->ct, &v->st.scanned);
    apply_mode(v, mode);
    return v;
}

void bodyview_free(struct bodyview *v)
{
    if (!v)
        return;
    if (v->cd != (iconv_t)-1)
        iconv_close(v->cd);
    line_cleanup(&v->tmp);
    line_cleanup(&v->shown);
    free(v->starts);
    dynbuf_cleanup(&v->conv);
    free(v->bad);
    dynbuf_cleanup(&v->decoded);
    free(v->ck);
    free(v);
}

void bodyview_set_mode(struct bodyview *v, enum bodyview_mode mode)
{
    apply_mode(v, mode);
}

enum bodyview_mode bodyview_mode(const struct bodyview *v)
{
    return v->mode;
}

/* Whether a mode is worth offering for this body. */
static bool mode_applies(const struct bodyview *v, enum bodyview_mode m)
{
    size_t i = skip_ws(v, v->unit == 1 ? v->bom : 0);
    switch (m) {
    case BODYVIEW_TEXT:
    case BODYVIEW_HEX: return true;
    case BODYVIEW_JSON: return v->picked == m || (i < v->len && strchr("{[", v->body[i]));
    case BODYVIEW_FORM:
        return v->picked == m || strcmp(v->ct.media, "application/x-www-form-urlencoded") == 0;
    case BODYVIEW_MULTIPART: return v->ct.blen > 0;
    default: return false;
    }
}

enum bodyview_mode bodyview_next_mode(const struct bodyview *v)
{
    for (int k = 1; k < BODYVIEW__COUNT; k++) {
        enum bodyview_mode m = (enum bodyview_mode)((v->mode - 1 + k) % (BODYVIEW__COUNT - 1) + 1);
        if (mode_applies(v, m))
            return m;
    }
    return v->mode;
}

void bodyview_set_layout(struct bodyview *v, const struct bodyview_layout *layout)
{
    struct bodyview_layout old = v->lay;
    v->lay = *layout;
    uint32_t bpr = hex_bpr(v);
    bool rows_change = old.wrap != layout->wrap || (layout->wrap && old.width != layout->width);
    bool hex_change = bpr != v->bpr;
    v->bpr = bpr;
    v->shown_ok = false;
    if (rows_change || hex_change)
        index_reset(v);
}

void bodyview_set_origin(struct bodyview *v, uint64_t origin)
{
    v->origin = origin;
    v->offw = offset_digits(origin, v->len);
    uint32_t bpr = hex_bpr(v);
    v->shown_ok = false;
    if (bpr != v->bpr) {
        v->bpr = bpr;
        index_reset(v);
    }
}

const char *bodyview_describe(struct bodyview *v)
{
    struct dynbuf d;
    dynbuf_init(&d, sizeof v->desc - 1);
    dynbuf_adds(&d, bodyview_mode_name(v->mode));
    if (v->mode == BODYVIEW_TEXT || v->mode == BODYVIEW_FORM) {
        dynbuf_printf(&d, ", %s", v->charset);
        if (v->bom)
            dynbuf_adds(&d, " with BOM"); /* the mark the text and form views do not show */
        if (v->ct.charset[0] && strcasecmp(v->ct.charset, v->charset) != 0) {
            dynbuf_adds(&d, " (declared ");
            termsafe_append(&d, (const uint8_t *)v->ct.charset, strlen(v->ct.charset),
                            TERMSAFE_ASCII);
            dynbuf_adds(&d, ")");
        }
    }
    if (v->mode == BODYVIEW_JSON && v->bom && v->unit == 1)
        dynbuf_adds(&d, ", with BOM"); /* nor does the JSON view */
    if (v->mode == BODYVIEW_MULTIPART) {
        dynbuf_adds(&d, ", boundary ");
        termsafe_append(&d, (const uint8_t *)v->ct.boundary, v->ct.blen, TERMSAFE_ASCII);
    }
    snprintf(v->desc, sizeof v->desc, "%s", dynbuf_str(&d));
    dynbuf_cleanup(&d);
    return v->desc;
}

/* ---- the index ------------------------------------------------------------------------ */

/* Lines take several rows: wrapping is on, there is a width, and the mode's rows are not
   arithmetic (the hex view cuts instead). */
static bool wrapping(const struct bodyview *v)
{
    return v->lay.wrap && v->lay.width && !v->ops->arithmetic;
}

/*
 * Walks a rendered line in rows of width columns, in one pass. Returns how many rows it takes.
 * With starts, records where each row starts, then the line's end (count + 1 entries). With
 * stop_at, stops at the row holding that byte and returns its index instead.
 */
static uint64_t wrap_walk(const struct line *l, uint32_t width, uint32_t **starts, size_t *cap,
                          size_t stop_at)
{
    const uint8_t *s = l->text.data ? l->text.data : (const uint8_t *)"";
    size_t n = l->text.len, i = 0;
    uint64_t count = 0;
    do {
        uint32_t used;
        size_t j = fit_cols(s, n, i, width, &used);
        if (j == i && i < n) /* a character wider than the width: alone on its row */
            j = i + u8_next(s + i, n - i, &(uint32_t){0});
        if (starts) {
            *starts = xgrow(*starts, cap, (size_t)count + 2, sizeof **starts);
            (*starts)[count] = (uint32_t)i;
        }
        if (stop_at < j)
            return count;
        count++;
        i = j;
    } while (i < n);
    if (starts)
        (*starts)[count] = (uint32_t)n;
    return stop_at == SIZE_MAX ? count : count - 1;
}

static uint64_t line_rows(const struct bodyview *v, const struct line *l)
{
    if (!wrapping(v) || !l)
        return 1;
    return wrap_walk(l, v->lay.width, NULL, NULL, SIZE_MAX);
}

/* Steps over the line at *p, rendering it into l when l is not NULL. Returns its rows, 0 at
   the end. With wrapping l must be given (rows depend on the rendering). */
static uint64_t step(struct bodyview *v, struct pos *p, struct line *l)
{
    assert(l || !wrapping(v));
    uint64_t before = p->off;
    if (l)
        line_reset(l);
    if (!v->ops->line(v, p, l))
        return 0;
    v->st.scanned += p->off - before;
    v->st.lines_stepped++;
    v->st.lines_rendered += l != NULL;
    return line_rows(v, l);
}

static struct line *wrap_line(struct bodyview *v, struct line *l)
{
    return l ? l : (wrapping(v) ? &v->tmp : NULL);
}

/* Indexes one more line (rendering it into l when given). False at the end. */
static bool index_one(struct bodyview *v, struct line *l)
{
    if (v->complete)
        return false;
    struct pos p = v->front.pos;
    uint64_t rows = step(v, &p, wrap_line(v, l));
    if (rows == 0) {
        v->complete = true;
        return false;
    }
    v->since += p.off - v->front.pos.off;
    v->front.pos = p;
    v->front.line++;
    v->front.row += rows;
    if (v->since >= BODYVIEW_CHECKPOINT_BYTES) {
        if (v->nck == v->ckcap)
            v->ck = xgrow(v->ck, &v->ckcap, v->nck + 1, sizeof *v->ck);
        v->ck[v->nck++] = v->front;
        v->st.checkpoints = v->nck;
        v->since = 0;
    }
    return true;
}

/* Steps a cursor over one line, extending the index when the cursor is at its frontier.
   Returns the line's rows, 0 at the end. */
static uint64_t cursor_step(struct bodyview *v, struct cursor *c, struct line *l)
{
    if (!v->complete && c->line == v->front.line) {
        uint64_t row = v->front.row;
        if (!index_one(v, l))
            return 0;
        c->pos = v->front.pos;
        c->line = v->front.line;
        c->row = v->front.row;
        return c->row - row;
    }
    if (v->complete && c->line >= v->front.line)
        return 0;
    uint64_t rows = step(v, &c->pos, wrap_line(v, l));
    if (rows) {
        c->line++;
        c->row += rows;
    }
    return rows;
}

enum ck_key { BY_ROW, BY_LINE, BY_OFF };

static uint64_t ck_field(const struct checkpoint *c, enum ck_key key)
{
    return key == BY_ROW ? c->row : key == BY_LINE ? c->line : c->pos.off;
}

/* The last checkpoint whose key is <= x. */
static const struct checkpoint *ck_find(const struct bodyview *v, enum ck_key key, uint64_t x)
{
    size_t lo = 0, hi = v->nck;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (ck_field(&v->ck[mid], key) <= x)
            lo = mid;
        else
            hi = mid;
    }
    return &v->ck[lo];
}

static void cursor_at(struct cursor *c, const struct checkpoint *k)
{
    c->pos = k->pos;
    c->line = k->line;
    c->row = k->row;
}

/* A cursor at the start of line n; false when there is no such line. */
static bool seek_line(struct bodyview *v, uint64_t n, struct cursor *c)
{
    while (!v->complete && v->front.line <= n)
        index_one(v, NULL);
    if (n >= v->front.line)
        return false;
    cursor_at(c, ck_find(v, BY_LINE, n));
    if (v->cache_ok && v->cache.line <= n && v->cache.line > c->line)
        *c = v->cache;
    while (c->line < n)
        cursor_step(v, c, NULL);
    return true;
}

uint64_t bodyview_rows(const struct bodyview *v, bool *complete)
{
    if (v->ops->arithmetic) {
        if (complete)
            *complete = true;
        return (v->len + v->bpr - 1) / v->bpr;
    }
    if (complete)
        *complete = v->complete;
    return v->front.row;
}

bool bodyview_index(struct bodyview *v, size_t budget)
{
    if (v->ops->arithmetic)
        return true;
    uint64_t start = v->st.scanned;
    while (!v->complete && (budget == 0 || v->st.scanned - start < budget))
        index_one(v, NULL);
    return v->complete;
}

/* ---- rows ----------------------------------------------------------------------------- */

static void add_matches(struct bodyview *v, struct line *l);

/* Copies the part [a, b) of a line into a row, with its spans, after pad spaces. */
static void row_fill(struct bodyview_row *r, const struct line *l, size_t a, size_t b, uint32_t pad)
{
    dynbuf_reset(&r->text);
    for (uint32_t i = 0; i < pad; i++)
        dynbuf_addc(&r->text, ' ');
    if (b > a)
        dynbuf_append(&r->text, l->text.data + a, b - a);
    r->nspans = 0;
    for (uint32_t i = 0; i < l->nspans; i++) {
        size_t s = l->span[i].off, e = s + l->span[i].len;
        s = s < a ? a : s;
        e = e > b ? b : e;
        if (s < e) {
            *span_slot(&r->span, r->nspans, &r->spans_cap) = (struct bodyview_span){
                (uint32_t)(s - a + pad), (uint32_t)(e - s), l->span[i].style};
            r->nspans++;
        }
    }
    r->flags = l->flags;
    /* The offset stays only on a row that starts with it whole. */
    r->fixed = a == 0 && pad == 0 && l->fixed <= b ? l->fixed : 0;
}

/* Row k of a rendered line, cut or wrapped to the layout (wrapping: v->starts describe l). */
static void row_emit(struct bodyview *v, struct line *l, uint64_t k, struct bodyview_row *r)
{
    const uint8_t *s = l->text.data ? l->text.data : (const uint8_t *)"";
    size_t n = l->text.len;
    uint32_t width = v->lay.width, used;
    size_t a = 0, b = n;
    if (wrapping(v)) {
        a = v->starts[k];
        b = v->starts[k + 1];
        row_fill(r, l, a, b, 0);
        r->col = text_width(s, a);
        if (k > 0)
            r->flags |= BODYVIEW_ROW_CONT;
    } else if (width) {
        a = fit_cols(s, n, 0, v->lay.hscroll, &used);
        uint32_t pad = 0;
        if (used < v->lay.hscroll && a < n) {
            /* A wide character straddles the left edge: its right half shows as a space. */
            uint32_t cp;
            a += u8_next(s + a, n - a, &cp);
            pad = used + cp_width(cp) - v->lay.hscroll;
        }
        b = fit_cols(s, n, a, width - pad, &used);
        bool cut = b < n;
        if (cut)
            b = fit_cols(s, n, a, width - pad - 1, &used);
        row_fill(r, l, a, b, pad);
        r->col = v->lay.hscroll < l->cols ? v->lay.hscroll : text_width(s, a);
        if (cut) {
            dynbuf_adds(&r->text, "…");
            r->flags |= BODYVIEW_ROW_CUT;
        }
    } else {
        row_fill(r, l, 0, n, 0);
        r->col = 0;
    }
    v->row_byte = (uint32_t)a;
}

void bodyview_row_init(struct bodyview_row *r)
{
    memset(r, 0, sizeof *r);
    dynbuf_init(&r->text, LINE_TEXT_MAX + 8);
}

void bodyview_row_cleanup(struct bodyview_row *r)
{
    dynbuf_cleanup(&r->text);
    free(r->span);
}

static bool row_arith(struct bodyview *v, uint64_t n, struct bodyview_row *r)
{
    if (n >= bodyview_rows(v, NULL))
        return false;
    struct pos p = {.off = n * v->bpr};
    step(v, &p, &v->tmp);
    row_emit(v, &v->tmp, 0, r);
    r->line = n;
    r->offset = n * v->bpr;
    return true;
}

/* Row n from the line last shown. */
static void row_shown(struct bodyview *v, uint64_t n, struct bodyview_row *r)
{
    row_emit(v, &v->shown, n - v->shown_row, r);
    r->line = v->shown_line;
    r->offset = v->shown_off;
}

bool bodyview_row(struct bodyview *v, uint64_t n, struct bodyview_row *r)
{
    if (v->ops->arithmetic)
        return row_arith(v, n, r);
    if (v->shown_ok && n >= v->shown_row && n < v->shown_row + v->shown_rows) {
        row_shown(v, n, r);
        return true;
    }
    while (!v->complete && v->front.row <= n)
        index_one(v, NULL);
    if (n >= v->front.row)
        return false;
    struct cursor c;
    cursor_at(&c, ck_find(v, BY_ROW, n));
    if (v->cache_ok && v->cache.row <= n && v->cache.row > c.row)
        c = v->cache;
    bool wrap = wrapping(v);
    for (;;) {
        struct cursor start = c;
        uint64_t rows = cursor_step(v, &c, wrap || c.row == n ? &v->shown : NULL);
        assert(rows > 0);
        if (n < start.row + rows) {
            add_matches(v, &v->shown);
            if (wrap)
                wrap_walk(&v->shown, v->lay.width, &v->starts, &v->starts_cap, SIZE_MAX);
            v->shown_ok = true;
            v->shown_line = start.line;
            v->shown_row = start.row;
            v->shown_rows = rows;
            v->shown_off = start.pos.off;
            v->cache = c; /* the next line: where reading on goes */
            v->cache_ok = true;
            row_shown(v, n, r);
            return true;
        }
    }
}

uint64_t bodyview_row_of_offset(struct bodyview *v, uint64_t off)
{
    uint64_t rows = bodyview_rows(v, NULL);
    if (v->ops->arithmetic)
        return off / v->bpr < rows ? off / v->bpr : (rows ? rows - 1 : 0);
    while (!v->complete && v->front.pos.off <= off)
        index_one(v, NULL);
    struct cursor c;
    cursor_at(&c, ck_find(v, BY_OFF, off));
    for (;;) {
        struct cursor start = c;
        if (cursor_step(v, &c, NULL) == 0)
            return start.row ? start.row - 1 : 0;
        if (c.pos.off > off)
            return start.row;
    }
}

uint64_t bodyview_render(struct bodyview *v, struct dynbuf *out, uint64_t max_rows)
{
    struct bodyview_row r;
    bodyview_row_init(&r);
    uint64_t n = 0;
    while ((max_rows == 0 || n < max_rows) && bodyview_row(v, n, &r)) {
        dynbuf_append(out, r.text.data, r.text.len);
        dynbuf_addc(out, '\n');
        n++;
    }
    bodyview_row_cleanup(&r);
    return n;
}

void bodyview_stats(const struct bodyview *v, struct bodyview_stats *s)
{
    *s = v->st;
}

/* ---- search --------------------------------------------------------------------------- */

/*
 * Characters a text line renders as themselves and that no escape, tab expansion or charset
 * conversion can produce: printable ASCII except '\\', hex digits, x, u and braces. A run of
 * them in a rendered match was a run of the same bytes in the body line.
 */
static bool anchor_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '\\' && !isxdigit(c) && !strchr("xXuU{}", c);
}

struct bodyview_query *bodyview_query_new(const char *pattern, unsigned flags, char *err,
                                          size_t errlen)
{
    if (!pattern || !pattern[0]) {
        snprintf(err, errlen, "empty search");
        return NULL;
    }
    struct bodyview_query *q = xcalloc(1, sizeof *q);
    q->regex = flags & BODYVIEW_FIND_REGEX;
    q->icase = flags & BODYVIEW_FIND_ICASE;
    q->plen = strlen(pattern);
    q->pat = (uint8_t *)xstrdup(pattern);
    if (q->regex) {
        int rc = regcomp(&q->re, pattern, REG_EXTENDED | REG_NEWLINE | (q->icase ? REG_ICASE : 0));
        if (rc != 0) {
            regerror(rc, &q->re, err, errlen);
            free(q->pat);
            free(q);
            return NULL;
        }
        return q;
    }
    for (size_t i = 0, run = 0; i < q->plen; i++) {
        run = anchor_char(q->pat[i]) ? run + 1 : 0;
        if (run > q->alen) {
            q->alen = run;
            q->anchor = i + 1 - run;
        }
    }
    return q;
}

void bodyview_query_free(struct bodyview_query *q)
{
    if (!q)
        return;
    if (q->regex)
        regfree(&q->re);
    free(q->pat);
    free(q);
}

/* Finds p[0..k) in h[0..n), ASCII case folding when icase. */
static const uint8_t *find_in(const uint8_t *h, size_t n, const uint8_t *p, size_t k, bool icase)
{
    if (!icase)
        return memmem(h, n, p, k);
    if (k == 0 || k > n)
        return k == 0 ? h : NULL;
    uint8_t lo = (uint8_t)tolower(p[0]), up = (uint8_t)toupper(p[0]);
    for (size_t i = 0; i + k <= n; i++) {
        if (h[i] != lo && h[i] != up)
            continue;
        size_t j = 1;
        while (j < k && tolower(h[i + j]) == tolower(p[j]))
            j++;
        if (j == k)
            return h + i;
    }
    return NULL;
}

static const uint8_t *bytes_find(const struct bodyview_query *q, const uint8_t *h, size_t n)
{
    return find_in(h, n, q->pat, q->plen, q->icase);
}

/* The first match in text starting at or after from. */
static bool text_find(const struct bodyview_query *q, const uint8_t *t, size_t n, size_t from,
                      size_t *s, size_t *e)
{
    if (from > n)
        return false;
    if (!q->regex) {
        const uint8_t *hit = bytes_find(q, t + from, n - from);
        if (!hit)
            return false;
        *s = (size_t)(hit - t);
        *e = *s + q->plen;
        return true;
    }
    regmatch_t m[1];
    m[0].rm_so = (regoff_t)from;
    m[0].rm_eo = (regoff_t)n;
    if (regexec(&q->re, (const char *)t, 1, m, REG_STARTEND | (from ? REG_NOTBOL : 0)) != 0)
        return false;
    *s = (size_t)m[0].rm_so;
    *e = (size_t)m[0].rm_eo;
    return true;
}

static bool hl_bytes(const struct bodyview *v)
{
    return v->hl && !v->hl->regex && v->mode == BODYVIEW_HEX;
}

/* Hex view with a plain query: which of the count bytes at off are inside a match. */
static void hex_marks(struct bodyview *v, size_t off, size_t count, bool *mark)
{
    if (!hl_bytes(v))
        return;
    const struct bodyview_query *q = v->hl;
    size_t lo = off >= q->plen - 1 ? off - (q->plen - 1) : 0;
    size_t hi = off + count + q->plen - 1 < v->len ? off + count + q->plen - 1 : v->len;
    for (size_t i = lo; i < hi;) {
        const uint8_t *hit = bytes_find(q, v->body + i, hi - i);
        if (!hit)
            break;
        size_t at = (size_t)(hit - v->body);
        for (size_t k = at; k < at + q->plen; k++)
            if (k >= off && k < off + count)
                mark[k - off] = true;
        i = at + 1;
    }
}

/* BODYVIEW_STYLE_MATCH spans over every match in a rendered line (not for hex byte searches). */
static void add_matches(struct bodyview *v, struct line *l)
{
    if (!v->hl || hl_bytes(v) || !l->text.data)
        return;
    size_t from = 0, s, e;
    while (text_find(v->hl, l->text.data, l->text.len, from, &s, &e)) {
        if (e > s) {
            *span_slot(&l->span, l->nspans, &l->spans_cap) =
                (struct bodyview_span){(uint32_t)s, (uint32_t)(e - s), BODYVIEW_STYLE_MATCH};
            l->nspans++;
        }
        from = e > s ? e : s + 1;
    }
}

void bodyview_highlight(struct bodyview *v, const struct bodyview_query *q)
{
    v->hl = q;
    v->shown_ok = false;
}

/* Display row of byte s of line (whose first row is row). */
static uint64_t match_row(const struct bodyview *v, const struct line *l, uint64_t row, size_t s)
{
    if (!wrapping(v))
        return row;
    return row + wrap_walk(l, v->lay.width, NULL, NULL, s);
}

static void match_set(const struct bodyview *v, const struct line *l, const struct cursor *at,
                      size_t s, size_t e, struct bodyview_match *m)
{
    memset(m, 0, sizeof *m);
    m->match = true;
    m->line = at->line;
    m->row = match_row(v, l, at->row, s);
    m->start = (uint32_t)s;
    m->len = (uint32_t)(e - s);
    m->col = text_width(l->text.data, s);
    m->offset = at->pos.off;
}

static void position_set(const struct cursor *c, struct bodyview_match *m)
{
    memset(m, 0, sizeof *m);
    m->line = c->line;
    m->row = c->row;
    m->offset = c->pos.off;
}

void bodyview_position(struct bodyview *v, uint64_t n, struct bodyview_match *pos)
{
    memset(pos, 0, sizeof *pos);
    struct bodyview_row r;
    bodyview_row_init(&r);
    if (bodyview_row(v, n, &r)) {
        pos->row = n;
        pos->line = r.line;
        pos->start = v->row_byte;
        pos->col = r.col;
        pos->offset = v->ops->arithmetic ? n * v->bpr : r.offset;
    } else {
        bool complete;
        uint64_t rows = bodyview_rows(v, &complete);
        pos->row = rows;
        pos->line = v->ops->arithmetic ? rows : v->front.line;
        pos->offset = v->len;
    }
    bodyview_row_cleanup(&r);
}

/* What prefilter_skip found. */
enum skip { SKIP_NONE, SKIP_CANDIDATE, SKIP_BUDGET };

/*
 * Text view, plain query: jumps the cursor to the next line whose bytes hold the query's anchor
 * at all (lines without it cannot match). SKIP_NONE when no line further on can match; with a
 * budget, at most about that many bytes are looked through and passed: SKIP_BUDGET when none of
 * them holds the anchor (the cursor has moved on as far as it safely can).
 */
static enum skip prefilter_skip(struct bodyview *v, const struct bodyview_query *q,
                                struct cursor *c, size_t budget)
{
    if (q->regex || q->alen == 0 || v->mode != BODYVIEW_TEXT || !(v->utf8 || v->cp1252) ||
        c->pos.flags & PF_SPLIT)
        return SKIP_CANDIDATE;
    size_t rest = v->len - (size_t)c->pos.off;
    size_t window = budget && budget < rest ? budget : rest;
    const uint8_t *hit =
        find_in(v->body + c->pos.off, window, q->pat + q->anchor, q->alen, q->icase);
    if (!hit && window == rest)
        return SKIP_NONE;
    /* Without a hit in the window, an anchor may still start in its last alen - 1 bytes. */
    size_t at = hit                 ? (size_t)(hit - v->body)
                : window >= q->alen ? (size_t)c->pos.off + window - (q->alen - 1)
                                    : (size_t)c->pos.off;
    uint64_t from = c->pos.off;
    for (;;) {
        struct cursor save = *c;
        if (cursor_step(v, c, NULL) == 0 || c->pos.off > at) {
            *c = save;
            break;
        }
    }
    /* A window inside one long line moves nothing: that line is looked at as a candidate. */
    return hit || c->pos.off == from ? SKIP_CANDIDATE : SKIP_BUDGET;
}

static enum bodyview_find_result find_forward(struct bodyview *v, const struct bodyview_query *q,
                                              const struct bodyview_match *from, size_t budget,
                                              struct bodyview_match *m)
{
    struct cursor c;
    if (!seek_line(v, from->line, &c))
        return BODYVIEW_NOT_FOUND;
    size_t min = from->start + (from->match ? 1 : 0);
    uint64_t start = v->st.scanned;
    for (;;) {
        if (min == 0) {
            enum skip k = prefilter_skip(v, q, &c, budget);
            if (k == SKIP_NONE)
                return BODYVIEW_NOT_FOUND;
            if (k == SKIP_BUDGET) {
                position_set(&c, m);
                return BODYVIEW_MORE;
            }
        }
        struct cursor at = c;
        if (cursor_step(v, &c, &v->tmp) == 0)
            return BODYVIEW_NOT_FOUND;
        size_t s = 0, e = 0;
        if (text_find(q, v->tmp.text.data ? v->tmp.text.data : (const uint8_t *)"", v->tmp.text.len,
                      min, &s, &e)) {
            match_set(v, &v->tmp, &at, s, e, m);
            return BODYVIEW_FOUND;
        }
        min = 0;
        if (budget && v->st.scanned - start >= budget) {
            position_set(&c, m);
            return BODYVIEW_MORE;
        }
    }
}

/* The last match in one rendered line with start < before. */
static bool last_in_line(const struct bodyview_query *q, const struct line *l, size_t before,
                         size_t *s, size_t *e)
{
    size_t from = 0, ms, me;
    bool found = false;
    const uint8_t *t = l->text.data ? l->text.data : (const uint8_t *)"";
    while (text_find(q, t, l->text.len, from, &ms, &me) && ms < before) {
        *s = ms;
        *e = me;
        found = true;
        from = me > ms ? me : ms + 1;
    }
    return found;
}

/* Backward: one checkpoint interval at a time, the last match of each. */
static enum bodyview_find_result find_backward(struct bodyview *v, const struct bodyview_query *q,
                                               const struct bodyview_match *from, size_t budget,
                                               struct bodyview_match *m)
{
    uint64_t last = from->line;
    size_t before = from->start;
    if (last >= v->front.line && !v->complete) {
        bodyview_index(v, 0);
    }
    if (last >= v->front.line) {
        if (v->front.line == 0)
            return BODYVIEW_NOT_FOUND;
        last = v->front.line - 1;
        before = SIZE_MAX;
    }
    uint64_t start = v->st.scanned;
    for (;;) {
        const struct checkpoint *k = ck_find(v, BY_LINE, last);
        struct cursor c;
        cursor_at(&c, k);
        bool found = false;
        struct bodyview_match best;
        while (c.line <= last) {
            struct cursor at = c;
            if (cursor_step(v, &c, &v->tmp) == 0)
                break;
            size_t s = 0, e = 0;
            if (last_in_line(q, &v->tmp, at.line == last ? before : SIZE_MAX, &s, &e)) {
                match_set(v, &v->tmp, &at, s, e, &best);
                found = true;
            }
        }
        if (found) {
            *m = best;
            return BODYVIEW_FOUND;
        }
        if (k->line == 0)
            return BODYVIEW_NOT_FOUND;
        last = k->line - 1;
        before = SIZE_MAX;
        if (budget && v->st.scanned - start >= budget) {
            struct cursor next = {k->pos, k->line, k->row};
            position_set(&next, m);
            return BODYVIEW_MORE;
        }
    }
}

/* A hex view byte match at offset at (or a position there when !match). */
static void hex_hit(const struct bodyview *v, size_t at, bool match, struct bodyview_match *m)
{
    memset(m, 0, sizeof *m);
    m->match = match;
    m->offset = at;
    m->line = m->row = at / v->bpr;
    if (match) {
        m->start = m->col = hex_cell(v, (uint32_t)(at % v->bpr));
        m->len = 2;
    }
}

/* Forward byte search from lo: SIZE_MAX when none; *more when the budget stopped it at *lo. */
static size_t bytes_forward(struct bodyview *v, const struct bodyview_query *q, size_t *lo,
                            size_t budget, bool *more)
{
    size_t hi = budget && v->len - *lo > budget ? *lo + budget + q->plen : v->len;
    hi = hi > v->len ? v->len : hi;
    const uint8_t *hit = bytes_find(q, v->body + *lo, hi - *lo);
    v->st.scanned += hi - *lo;
    *more = !hit && hi < v->len;
    if (*more)
        *lo = hi - q->plen + 1;
    return hit ? (size_t)(hit - v->body) : SIZE_MAX;
}

/* The last match starting before at, in 64 KiB windows towards the start. */
static size_t bytes_backward(struct bodyview *v, const struct bodyview_query *q, size_t *at,
                             size_t budget, bool *more)
{
    size_t hi = *at + q->plen - 1 < v->len ? *at + q->plen - 1 : v->len, scanned = 0;
    size_t hit_at = SIZE_MAX;
    *more = false;
    while (hi >= q->plen && hit_at == SIZE_MAX) {
        size_t lo = hi > 65536 ? hi - 65536 : 0;
        for (size_t i = lo; i < hi;) {
            const uint8_t *hit = bytes_find(q, v->body + i, hi - i);
            if (!hit || (size_t)(hit - v->body) >= *at)
                break;
            hit_at = (size_t)(hit - v->body);
            i = hit_at + 1;
        }
        scanned += hi - lo;
        if (lo == 0 || hit_at != SIZE_MAX)
            break;
        hi = lo + q->plen - 1;
        if (budget && scanned >= budget) {
            *more = true;
            *at = lo;
            break;
        }
    }
    v->st.scanned += scanned;
    return hit_at;
}

/* Hex view, plain query: the body bytes, across rows. */
static enum bodyview_find_result find_bytes(struct bodyview *v, const struct bodyview_query *q,
                                            const struct bodyview_match *from, bool backward,
                                            size_t budget, struct bodyview_match *m)
{
    size_t at = from->offset < v->len ? (size_t)from->offset : v->len;
    bool more;
    size_t hit;
    if (backward) {
        hit = bytes_backward(v, q, &at, budget, &more);
    } else {
        at += from->match ? 1 : 0;
        if (at > v->len)
            return BODYVIEW_NOT_FOUND;
        hit = bytes_forward(v, q, &at, budget, &more);
    }
    if (more) {
        hex_hit(v, at, false, m);
        return BODYVIEW_MORE;
    }
    if (hit == SIZE_MAX)
        return BODYVIEW_NOT_FOUND;
    hex_hit(v, hit, true, m);
    return BODYVIEW_FOUND;
}

enum bodyview_find_result bodyview_find(struct bodyview *v, const struct bodyview_query *q,
                                        const struct bodyview_match *from, bool backward,
                                        size_t budget, struct bodyview_match *m)
{
    if (v->mode == BODYVIEW_HEX && !q->regex)
        return find_bytes(v, q, from, backward, budget, m);
    if (backward)
        return find_backward(v, q, from, budget, m);
    return find_forward(v, q, from, budget, m);
}
