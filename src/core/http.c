/*
 * http owns the HTTP/1.x head grammar (RFC 9112 sections 2-5) and its leniencies: it turns a
 * caller's bytes into spans and warnings. It never allocates, never copies message bytes and
 * never reads past the length it is given. Message length rules live in framing.c.
 *
 * The start line is parsed as soon as it is complete (so that bytes of another protocol are
 * refused at once). The field lines are parsed in one pass once the end of the head is in the
 * buffer; until then a call only carries on the search for that end from where the previous
 * call left it. So feeding a head whole, byte by byte or in any pieces gives the same result at
 * about the same cost.
 */
#include "hspy/http.h"

#include <assert.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Parser states kept in struct http_scan.state. */
enum {
    SCAN_START_LINE = HTTP_SCAN_START_LINE, /* before the start line (leading empty lines) */
    SCAN_FIELDS = HTTP_SCAN_FIELDS,         /* field lines */
    SCAN_DONE = HTTP_SCAN_DONE,             /* empty line seen */
};

/* tchar per RFC 9110 5.6.2. */
static const uint8_t TCHAR[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Case-insensitive equality of two byte ranges. */
static bool ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

static inline struct http_span span(const uint8_t *base, const uint8_t *from, const uint8_t *to)
{
    return (struct http_span){(uint32_t)(from - base), (uint32_t)(to - from)};
}

void http_warnings_add(struct http_warnings *w, enum warning_code code, uint32_t off,
                       struct http_span arg, uint16_t field)
{
    if (!w)
        return;
    if (w->n >= HTTP_WARN_MAX) {
        w->dropped++;
        return;
    }
    w->w[w->n++] = (struct http_warn){(uint16_t)code, field, off, arg};
}

static inline void warn(struct http_warnings *w, enum warning_code code, const uint8_t *base,
                        const uint8_t *at)
{
    http_warnings_add(w, code, (uint32_t)(at - base), (struct http_span){0, 0}, 0);
}

/* Warns once per head for codes that would otherwise repeat on every line. */
static void warn_once(struct http_warnings *w, enum warning_code code, const uint8_t *base,
                      const uint8_t *at)
{
    if (!w)
        return;
    for (uint16_t i = 0; i < w->n; i++)
        if (w->w[i].code == code)
            return;
    warn(w, code, base, at);
}

#ifdef __SSE2__
/* 0xff in each byte of v that is a control character (< 0x20) or DEL. */
static inline __m128i ctl_hits(__m128i v)
{
    const __m128i ctl_max = _mm_set1_epi8(0x1f);
    __m128i is_ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, ctl_max), ctl_max);
    __m128i is_del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return _mm_or_si128(is_ctl, is_del);
}

/*
 * The first byte in [p, end) that hits_of marks (0xff), or end. base is the start of the
 * caller's buffer: the last partial block is loaded ending exactly at end (overlapping bytes
 * already seen) instead of being scanned byte by byte. Never reads outside [base, end).
 */
static inline const uint8_t *scan_block(const uint8_t *base, const uint8_t *p, const uint8_t *end,
                                        __m128i (*hits_of)(__m128i))
{
    /* Two blocks per step, one test for both: values are often longer than 32 bytes. */
    while (end - p >= 32) {
        __m128i a = hits_of(_mm_loadu_si128((const __m128i *)(const void *)p));
        __m128i b = hits_of(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        if (_mm_movemask_epi8(_mm_or_si128(a, b))) {
            unsigned mask = (unsigned)_mm_movemask_epi8(a) | (unsigned)_mm_movemask_epi8(b) << 16;
            return p + __builtin_ctz(mask);
        }
        p += 32;
    }
    if (end - p >= 16) {
        unsigned mask =
            (unsigned)_mm_movemask_epi8(hits_of(_mm_loadu_si128((const __m128i *)(const void *)p)));
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
    if (p == end)
        return end;
    if (end - base >= 16) {
        const uint8_t *q = end - 16;
        unsigned mask =
            (unsigned)_mm_movemask_epi8(hits_of(_mm_loadu_si128((const __m128i *)(const void *)q)));
        mask >>= (unsigned)(p - q);
        return mask ? p + __builtin_ctz(mask) : end;
    }
    return NULL; /* the whole buffer is under 16 bytes: the caller goes byte by byte */
}
#endif

#ifdef __SSE2__
/*
 * 0xff in each byte of v that is none of what ctl_hits marks and below 0x80, in two operations
 * instead of four: adding 1 maps the control characters onto 0x01 to 0x20 and DEL and every
 * byte >= 0x80 onto negative values, so the bytes left above 0x20 (signed) are the others.
 */
static inline __m128i plain_ascii(__m128i v)
{
    return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)), _mm_set1_epi8(0x20));
}

static inline unsigned plain_ascii_mask(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(plain_ascii(v));
}

/*
 * The first byte in [p, end) that is a control character, DEL or >= 0x80, or end; NULL when
 * the whole buffer [base, end) is under 16 bytes. Like scan_block, with plain_ascii_mask.
 */
static inline const uint8_t *find_ctl_or_high(const uint8_t *base, const uint8_t *p,
                                              const uint8_t *end)
{
    for (; end - p >= 32; p += 32) {
        __m128i a = plain_ascii(_mm_loadu_si128((const __m128i *)(const void *)p));
        __m128i b = plain_ascii(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        if (_mm_movemask_epi8(_mm_and_si128(a, b)) != 0xffff) {
            unsigned m = (unsigned)_mm_movemask_epi8(a) | (unsigned)_mm_movemask_epi8(b) << 16;
            return p + __builtin_ctz(~m);
        }
    }
    if (end - p >= 16) {
        unsigned a = plain_ascii_mask(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (a != 0xffff)
            return p + __builtin_ctz(~a);
        p += 16;
    }
    if (p == end)
        return end;
    if (end - base >= 16) {
        const uint8_t *q = end - 16;
        unsigned dirty = ~plain_ascii_mask(_mm_loadu_si128((const __m128i *)(const void *)q));
        dirty = (dirty & 0xffff) >> (unsigned)(p - q);
        return dirty ? p + __builtin_ctz(dirty) : end;
    }
    return NULL;
}
#endif

/* The first control character (< 0x20) or DEL in [p, end), or end; bytes >= 0x80 pass. */
static inline __attribute__((always_inline)) const uint8_t *
find_ctl_in(const uint8_t *base, const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
    /* Field values are nearly always ASCII: the cheaper scan runs until a byte >= 0x80, then
     * the exact one takes over. */
    const uint8_t *hit = find_ctl_or_high(base, p, end);
    if (hit && hit < end && *hit >= 0x80)
        hit = scan_block(base, hit + 1, end, ctl_hits);
    if (hit)
        return hit;
#endif
    (void)base;
    while (p < end && *p >= 0x20 && *p != 0x7f)
        p++;
    return p;
}

static inline const uint8_t *find_ctl(const uint8_t *p, const uint8_t *end)
{
    return find_ctl_in(p, p, end);
}

/* First LF in [p, end) or NULL; inline for the few bytes a resumed parse looks at. */
static inline const uint8_t *find_lf_in(const uint8_t *base, const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), lf));
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
    if (p < end && end - base >= 16) {
        const uint8_t *q = end - 16;
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)q), lf));
        mask >>= (unsigned)(p - q);
        return mask ? p + __builtin_ctz(mask) : NULL;
    }
#endif
    (void)base;
    while (p < end && *p != '\n')
        p++;
    return p < end ? p : NULL;
}

#ifdef __SSE2__
/* Bit i set when byte i of v is a letter, a digit or '-'. */
static inline unsigned name_mask(__m128i v)
{
    /* A range check is one add and one signed compare: the add moves the range's first value
     * onto -128, so that the range is what lies below -128 + its size. Letters are checked
     * after folding to lower case. */
    __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(low, _mm_set1_epi8((char)(0x80 - 'a'))),
                                   _mm_set1_epi8((char)(0x80 + 26)));
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))),
                                   _mm_set1_epi8((char)(0x80 + 10)));
    __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), dash));
}
#endif

/*
 * Returns the end of a run of letters, digits and '-' starting at p (the characters of
 * virtually every real field name), checking 16 bytes at a time; callers fall back to the
 * full tchar table for anything else.
 */
static inline const uint8_t *skip_name_chars(const uint8_t *base, const uint8_t *p,
                                             const uint8_t *end)
{
#ifdef __SSE2__
    (void)base;
    while (end - p >= 16) {
        unsigned ok = name_mask(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (ok != 0xffff)
            return p + __builtin_ctz(~ok);
        p += 16;
    }
    if (p < end && end - base >= 16) {
        const uint8_t *q = end - 16;
        unsigned ok = name_mask(_mm_loadu_si128((const __m128i *)(const void *)q));
        ok = ~ok & 0xffff;
        ok >>= (unsigned)(p - q);
        return ok ? p + __builtin_ctz(ok) : end;
    }
#endif
    (void)base;
    while (p < end) {
        uint8_t c = *p, l = (uint8_t)(c | 0x20);
        if (!((l >= 'a' && l <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            break;
        p++;
    }
    return p;
}

#ifdef __SSE2__
/*
 * 0xff in each byte of v that is <= 0x20, DEL or >= 0x80: adding 1 maps DEL and the bytes
 * >= 0x80 onto negative values and the others onto 0x01 to 0x21, so one signed compare does.
 */
static inline __m128i target_stop_hits(__m128i v)
{
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)), _mm_set1_epi8(0x22));
}
#endif

/* Returns the first byte in [p, end) that is <= 0x20 (space or control), DEL or >= 0x80.
 * base is the start of the caller's buffer (see find_ctl_in). */
static inline const uint8_t *find_target_stop(const uint8_t *base, const uint8_t *p,
                                              const uint8_t *end)
{
#ifdef __SSE2__
    const uint8_t *hit = scan_block(base, p, end, target_stop_hits);
    if (hit)
        return hit;
#endif
    (void)base;
    while (p<end && * p> 0x20 && *p < 0x7f)
        p++;
    return p;
}

/* --- known fields --- */

static const char *const FIELD_NAMES[HF__COUNT] = {
    [HF_OTHER] = "",
    [HF_CONTENT_LENGTH] = "Content-Length",
    [HF_TRANSFER_ENCODING] = "Transfer-Encoding",
    [HF_HOST] = "Host",
    [HF_CONNECTION] = "Connection",
    [HF_EXPECT] = "Expect",
    [HF_UPGRADE] = "Upgrade",
    [HF_CONTENT_TYPE] = "Content-Type",
    [HF_CONTENT_ENCODING] = "Content-Encoding",
    [HF_TRAILER] = "Trailer",
    [HF_TE] = "TE",
    [HF_KEEP_ALIVE] = "Keep-Alive",
    [HF_PROXY_CONNECTION] = "Proxy-Connection",
};

const char *http_field_name(enum http_field f)
{
    return (unsigned)f < HF__COUNT ? FIELD_NAMES[f] : "";
}

/*
 * Case-insensitive compare of n bytes against a lower-case literal made of letters, digits and
 * '-' (folding with | 0x20 leaves those unchanged), eight bytes at a time.
 */
static inline bool lower_eq(const uint8_t *p, const char *lit, size_t n)
{
    if (n >= 8) {
        const uint64_t fold = 0x2020202020202020ull;
        uint64_t a, b;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&a, p + i, 8);
            memcpy(&b, lit + i, 8);
            if ((a | fold) != b)
                return false;
        }
        /* The last 8 bytes, overlapping what the loop compared. */
        memcpy(&a, p + n - 8, 8);
        memcpy(&b, lit + n - 8, 8);
        return (a | fold) == b;
    }
    if (n >= 4) {
        const uint32_t fold = 0x20202020u;
        uint32_t a, b, c, d;
        memcpy(&a, p, 4);
        memcpy(&b, lit, 4);
        memcpy(&c, p + n - 4, 4);
        memcpy(&d, lit + n - 4, 4);
        return (a | fold) == b && (c | fold) == d;
    }
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)(p[i] | 0x20) != (uint8_t)lit[i])
            return false;
    return true;
}

/*
 * Known-field id of a name of len bytes, len > 0; the first letter rules out most other names
 * before any comparison.
 */
static inline __attribute__((always_inline)) enum http_field field_id(const uint8_t *name,
                                                                      size_t len)
{
    uint8_t c = (uint8_t)(name[0] | 0x20);
    switch (len) {
    case 2: return lower_eq(name, "te", 2) ? HF_TE : HF_OTHER;
    case 4: return c == 'h' && lower_eq(name, "host", 4) ? HF_HOST : HF_OTHER;
    case 6: return c == 'e' && lower_eq(name, "expect", 6) ? HF_EXPECT : HF_OTHER;
    case 7:
        if (c == 'u')
            return lower_eq(name, "upgrade", 7) ? HF_UPGRADE : HF_OTHER;
        return c == 't' && lower_eq(name, "trailer", 7) ? HF_TRAILER : HF_OTHER;
    case 10:
        if (c == 'c')
            return lower_eq(name, "connection", 10) ? HF_CONNECTION : HF_OTHER;
        return c == 'k' && lower_eq(name, "keep-alive", 10) ? HF_KEEP_ALIVE : HF_OTHER;
    case 12: return c == 'c' && lower_eq(name, "content-type", 12) ? HF_CONTENT_TYPE : HF_OTHER;
    case 14: return c == 'c' && lower_eq(name, "content-length", 14) ? HF_CONTENT_LENGTH : HF_OTHER;
    case 16:
        if (c == 'c')
            return lower_eq(name, "content-encoding", 16) ? HF_CONTENT_ENCODING : HF_OTHER;
        return c == 'p' && lower_eq(name, "proxy-connection", 16) ? HF_PROXY_CONNECTION : HF_OTHER;
    case 17:
        return c == 't' && lower_eq(name, "transfer-encoding", 17) ? HF_TRANSFER_ENCODING
                                                                   : HF_OTHER;
    default: return HF_OTHER;
    }
}

enum http_field http_field_id(const uint8_t *name, size_t len)
{
    return len ? field_id(name, len) : HF_OTHER;
}

/*
 * Optimal string alignment distance between a (n bytes, any case) and a lower-case literal b,
 * computed only within a band of 2 around the diagonal; returns 3 for anything farther.
 */
static int near_distance(const uint8_t *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n + 2 < m || m + 2 < n)
        return 3;
    enum { W = 24 };
    int prev2[W + 1], prev[W + 1], cur[W + 1];
    if (m > W)
        return 3;
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int best = 99;
        for (size_t j = 0; j <= m; j++) {
            if (j + 2 < i || i + 2 < j) {
                cur[j] = 99;
                continue;
            }
            if (j == 0) {
                cur[j] = (int)i;
            } else {
                int cost = lower(a[i - 1]) != (uint8_t)b[j - 1];
                int v = prev[j - 1] + cost;
                if (prev[j] + 1 < v)
                    v = prev[j] + 1;
                if (cur[j - 1] + 1 < v)
                    v = cur[j - 1] + 1;
                if (i > 1 && j > 1 && lower(a[i - 1]) == (uint8_t)b[j - 2] &&
                    lower(a[i - 2]) == (uint8_t)b[j - 1] && prev2[j - 2] + 1 < v)
                    v = prev2[j - 2] + 1;
                cur[j] = v;
            }
            if (cur[j] < best)
                best = cur[j];
        }
        if (best > 2)
            return 3;
        memcpy(prev2, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[m] > 2 ? 3 : prev[m];
}

/* Two bytes read as one 16-bit word in the machine's byte order. */
static inline uint16_t pair(const char *two)
{
    uint16_t w;
    memcpy(&w, two, 2);
    return w;
}

/* Returns the framing field an unknown name is probably a typo of, or HF_OTHER. */
static inline enum http_field typo_of(const uint8_t *name, size_t len)
{
    /* Cheap filter first: near the length of a framing field name and sharing its first or
     * its last two letters (each pair folded and compared as one 16-bit word); only then the
     * edit distance. */
    uint16_t first, last;
    memcpy(&first, name, 2);
    memcpy(&last, name + len - 2, 2);
    first |= 0x2020;
    last |= 0x2020;
    if (len <= 16 && (first == pair("co") || last == pair("th")) &&
        near_distance(name, len, "content-length") <= 2)
        return HF_CONTENT_LENGTH;
    /* Accept-Encoding is common and 8 edits away: skip it without the edit distance. */
    if (len >= 15 && (first == pair("tr") || (last == pair("ng") && (name[0] | 0x20) != 'a')) &&
        near_distance(name, len, "transfer-encoding") <= 2)
        return HF_TRANSFER_ENCODING;
    return HF_OTHER;
}

/* --- start lines --- */

static bool is_http_version_prefix(const uint8_t *p, const uint8_t *end)
{
    return end - p >= 5 && lower_eq(p, "http/", 5);
}

/* "NAME/digit..." such as RTSP/1.0 or ICE/1.0: another protocol's version, not a target. */
static bool looks_like_protocol(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (q < end && *q >= 'A' && *q <= 'Z')
        q++;
    return q > p && q + 1 < end && *q == '/' && q[1] >= '0' && q[1] <= '9';
}

/* Parses "HTTP/x.y" in [p, end); sets major/minor; warns unless exactly HTTP/1.0 or 1.1. */
static void parse_version(const uint8_t *base, const uint8_t *p, const uint8_t *end,
                          struct http_head *h, struct http_warnings *w)
{
    h->version = span(base, p, end);
    size_t n = (size_t)(end - p);
    if (n == 8 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '1' || p[7] == '0')) {
        h->major = 1;
        h->minor = (uint8_t)(p[7] - '0');
        return;
    }
    warn(w, W_VERSION_INVALID, base, p);
    if (n >= 8 && is_http_version_prefix(p, end) && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
        p[7] >= '0' && p[7] <= '9') {
        h->major = (uint8_t)(p[5] - '0');
        h->minor = (uint8_t)(p[7] - '0');
    } else if (n >= 6 && is_http_version_prefix(p, end) && p[5] >= '0' && p[5] <= '9') {
        h->major = (uint8_t)(p[5] - '0');
        h->minor = 0;
    } else {
        h->major = 1; /* unreadable: assume HTTP/1.1 so framing rules still apply */
        h->minor = 1;
    }
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end, bool *odd)
{
    const uint8_t *start = p;
    while (p < end && (*p == ' ' || *p == '\t')) {
        if (*p == '\t')
            *odd = true;
        p++;
    }
    if (p - start > 1)
        *odd = true;
    return p;
}

unsigned http_target_form(const uint8_t *t, size_t n)
{
    if (n > 0 && t[0] == '/')
        return 0; /* origin form, the usual case */
    if (n == 1 && t[0] == '*')
        return HEAD_ASTERISK_FORM;
    const uint8_t *colon = n > 0 ? memchr(t, ':', n) : NULL;
    if (colon && (size_t)(colon - t) + 3 <= n && colon[1] == '/' && colon[2] == '/')
        return HEAD_ABSOLUTE_FORM;
    return colon ? HEAD_AUTHORITY_FORM : 0;
}

static inline void classify_target(const uint8_t *base, struct http_head *h)
{
    h->flags |= (uint16_t)http_target_form(base + h->target.off, h->target.len);
}

/* Request line in [p, eol) (eol excludes CR LF). */
static void parse_request_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                               struct http_head *h, struct http_warnings *w)
{
    const uint8_t *m = p;
    while (p < eol && TCHAR[*p])
        p++;
    if (p < eol && *p != ' ' && *p != '\t') {
        warn(w, W_METHOD_CHAR, base, p);
        while (p < eol && *p != ' ' && *p != '\t')
            p++;
    }
    h->method = span(base, m, p);
    bool odd = false;
    if (p < eol && *p == '\t')
        odd = true;
    p = skip_ws(p, eol, &odd);
    /* The version is the last space-separated word when it starts with "HTTP/"; anything
     * between method and version is the target (spaces inside it are warned about). */
    const uint8_t *last = eol;
    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
        odd = true;
    }
    const uint8_t *vstart = last;
    while (vstart > p && vstart[-1] != ' ' && vstart[-1] != '\t')
        vstart--;
    bool has_version =
        (vstart > p && looks_like_protocol(vstart, last)) || is_http_version_prefix(vstart, last);
    const uint8_t *tend = has_version ? vstart : last;
    while (has_version && tend > p && (tend[-1] == ' ' || tend[-1] == '\t')) {
        if (tend[-1] == '\t' || (tend - 1 > p && (tend[-2] == ' ' || tend[-2] == '\t')))
            odd = true;
        tend--;
    }
    const uint8_t *stop = find_target_stop(base, p, tend);
    if (stop < tend || tend == p) /* odd characters, or no target at all */
        warn(w, W_TARGET_CHAR, base, stop);
    h->target = span(base, p, tend);
    if (odd)
        warn(w, W_START_LINE_WS, base, p);
    if (has_version) {
        parse_version(base, vstart, last, h, w);
    } else {
        h->flags |= HEAD_HTTP09;
        h->major = 0;
        h->minor = 9;
        h->version = span(base, last, last);
        warn(w, W_HTTP09, base, m);
    }
    if (h->method.len == 0)
        warn(w, W_METHOD_CHAR, base, m);
    classify_target(base, h);
}

/* Status line in [p, eol). */
static void parse_status_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                              struct http_head *h, struct http_warnings *w)
{
    const uint8_t *v = p;
    while (p < eol && *p != ' ' && *p != '\t')
        p++;
    parse_version(base, v, p, h, w);
    bool odd = false;
    if (p < eol && *p == '\t')
        odd = true;
    p = skip_ws(p, eol, &odd);
    const uint8_t *s = p;
    unsigned status = 0;
    while (p < eol && *p >= '0' && *p <= '9' && p - s < 3)
        status = status * 10 + (unsigned)(*p++ - '0');
    if (p - s != 3 || (p < eol && *p != ' ' && *p != '\t')) {
        warn(w, W_STATUS_INVALID, base, s);
        while (p < eol && *p != ' ' && *p != '\t')
            p++;
    }
    h->status = (uint16_t)status;
    if (p < eol) {
        if (*p == '\t')
            odd = true;
        p++;
    }
    const uint8_t *r = p;
    const uint8_t *bad = find_ctl(r, eol);
    while (bad < eol && *bad == '\t')
        bad = find_ctl(bad + 1, eol);
    if (bad < eol)
        warn(w, W_REASON_CHAR, base, bad);
    h->reason = span(base, r, eol);
    if (odd)
        warn(w, W_START_LINE_WS, base, v);
}

/* --- field lines --- */

/* Checks a field value [v, vend) for control characters. Returns true when it had any. */
static bool check_value(const uint8_t *base, const uint8_t *v, const uint8_t *vend,
                        struct http_warnings *w)
{
    bool bad = false;
    const uint8_t *p = find_ctl(v, vend);
    while (p < vend) {
        if (*p == '\t') {
            /* HTAB is allowed inside values. */
        } else if (*p == '\r') {
            warn_once(w, W_BARE_CR, base, p);
            bad = true;
        } else if (*p == 0) {
            warn_once(w, W_NUL_BYTE, base, p);
            bad = true;
        } else {
            warn(w, W_VALUE_CHAR, base, p);
            bad = true;
        }
        p = find_ctl(p + 1, vend);
    }
    return bad;
}

static inline void add_header(const uint8_t *base, struct http_head *h, struct http_header *hd,
                              struct http_warnings *w)
{
    h->total_headers++;
    uint32_t limit = h->cap;
    if (h->nheaders >= limit) {
        if (h->total_headers == limit + 1)
            warn(w, W_TOO_MANY_HEADERS, base, base + hd->line);
        return;
    }
    if (hd->field != HF_OTHER) {
        if (h->field_index[hd->field] < 0)
            h->field_index[hd->field] = (int32_t)h->nheaders;
        if (h->field_count[hd->field] < 255)
            h->field_count[hd->field]++;
    }
    h->headers[h->nheaders++] = *hd;
}

/* Field line in [p, eol). */
static void parse_field_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                             struct http_head *h, struct http_warnings *w)
{
    const uint8_t *cr = memchr(p, '\r', (size_t)(eol - p));
    if (cr)
        warn_once(w, W_BARE_CR, base, cr);
    struct http_header hd = {.line = (uint32_t)(p - base)};
    const uint8_t *n = p;
    while (p < eol && TCHAR[*p])
        p++;
    const uint8_t *nend = p;
    if (p == eol || *p != ':') {
        const uint8_t *q = p;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        if (q < eol && *q == ':') {
            hd.flags |= HDR_WS_BEFORE_COLON;
            warn(w, W_WS_BEFORE_COLON, base, p);
            p = q;
        } else {
            const uint8_t *colon = memchr(p, ':', (size_t)(eol - p));
            if (colon) {
                hd.flags |= HDR_BAD_NAME;
                warn(w, W_NAME_CHAR, base, p);
                nend = colon;
                while (nend > n && (nend[-1] == ' ' || nend[-1] == '\t'))
                    nend--;
                p = colon;
            } else {
                hd.flags |= HDR_NO_COLON;
                warn(w, W_NO_COLON, base, n);
                check_value(base, n, eol, w);
                hd.name = span(base, n, n);
                hd.value = span(base, n, eol);
                add_header(base, h, &hd, w);
                return;
            }
        }
    }
    if (nend == n)
        warn(w, W_EMPTY_NAME, base, n);
    hd.name = span(base, n, nend);
    p++; /* the colon */
    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    const uint8_t *vend = eol;
    while (vend > p && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
    if (check_value(base, p, vend, w))
        hd.flags |= HDR_BAD_VALUE;
    hd.value = span(base, p, vend);
    if (!(hd.flags & HDR_BAD_NAME)) {
        hd.field = (uint16_t)http_field_id(base + hd.name.off, hd.name.len);
        if (hd.field == HF_OTHER && hd.name.len >= 12) {
            enum http_field t = typo_of(base + hd.name.off, hd.name.len);
            if (t != HF_OTHER)
                http_warnings_add(w, W_NAME_TYPO, hd.line, hd.name, (uint16_t)t);
        }
    }
    add_header(base, h, &hd, w);
}

/* An obs-fold line [p, eol) continues the previous field's value. */
static void fold_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                      struct http_head *h, struct http_warnings *w)
{
    warn(w, W_OBS_FOLD, base, p);
    const uint8_t *v = p;
    while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
    check_value(base, v, eol, w);
    if (h->total_headers == 0 || h->nheaders < h->total_headers || h->nheaders == 0)
        return; /* the field it continues was not kept */
    struct http_header *prev = &h->headers[h->nheaders - 1];
    const uint8_t *vend = eol;
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
    if (vend > v) {
        if (prev->value.len == 0)
            prev->value.off = (uint32_t)(v - base);
        prev->value.len = (uint32_t)(vend - base) - prev->value.off;
    }
    prev->flags |= HDR_FOLDED;
}

/* Checks done once the whole head is known. */
static void finish_head(const uint8_t *base, struct http_head *h, struct http_warnings *w)
{
    if (h->kind != HTTP_REQUEST || (h->flags & HEAD_HTTP09))
        return;
    unsigned hosts = h->field_count[HF_HOST];
    const struct http_header *host = hosts ? &h->headers[h->field_index[HF_HOST]] : NULL;
    for (uint32_t i = host ? (uint32_t)h->field_index[HF_HOST] + 1 : h->nheaders;
         hosts > 1 && i < h->nheaders; i++) {
        if (h->headers[i].field == HF_HOST) {
            warn(w, W_HOST_DUPLICATE, base, base + h->headers[i].line);
            break;
        }
    }
    if (hosts == 0 && h->major == 1 && h->minor >= 1)
        warn(w, W_HOST_MISSING, base, base + h->start);
    if (host && (h->flags & HEAD_ABSOLUTE_FORM)) {
        const uint8_t *t = base + h->target.off;
        const uint8_t *a = memchr(t, ':', h->target.len) + 3;
        const uint8_t *tend = t + h->target.len;
        const uint8_t *aend = a;
        while (aend < tend && *aend != '/' && *aend != '?' && *aend != '#')
            aend++;
        const uint8_t *at = a;
        for (const uint8_t *q = a; q < aend; q++)
            if (*q == '@')
                at = q + 1;
        size_t alen = (size_t)(aend - at);
        if (alen != host->value.len || !ieq(at, base + host->value.off, alen))
            warn(w, W_HOST_MISMATCH, base, base + host->line);
    }
}

/* --- the incremental driver --- */

static void head_reset(struct http_head *h, enum http_kind kind, const struct http_limits *lim)
{
    /* Member by member: a memset of the whole head becomes a string instruction that takes
     * longer to start than these stores take. */
    const struct http_span none = {0, 0};
    h->kind = (uint8_t)kind;
    h->major = h->minor = 0;
    h->status = 0;
    h->flags = 0;
    h->method = h->target = h->version = h->reason = none;
    h->start = h->len = 0;
    if (lim && lim->headers_max < h->cap)
        h->cap = lim->headers_max;
    h->nheaders = h->total_headers = 0;
    memset(h->field_index, 0xff, sizeof h->field_index); /* all -1 */
    memset(h->field_count, 0, sizeof h->field_count);
}

/*
 * Parses the complete field line [p, eol) (eol excludes CR LF). The fast path covers what real
 * traffic sends (letters, digits and '-' in the name, no control characters in the value); any
 * other line goes to parse_field_line, which produces the same entry for valid input plus the
 * warnings.
 */
static inline void field_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                              struct http_head *h, struct http_warnings *w)
{
    const uint8_t *n = p;
    p = skip_name_chars(base, p, eol);
    if (p == eol || *p != ':' || p == n) {
        parse_field_line(base, n, eol, h, w);
        return;
    }
    const uint8_t *nend = p++;
    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    if (find_ctl_in(base, p, eol) != eol) {
        parse_field_line(base, n, eol, h, w);
        return;
    }
    const uint8_t *vend = eol;
    while (vend > p && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
    struct http_header hd = {
        .line = (uint32_t)(n - base), .name = span(base, n, nend), .value = span(base, p, vend)};
    hd.field = (uint16_t)http_field_id(n, hd.name.len);
    if (hd.field == HF_OTHER && hd.name.len >= 12) {
        enum http_field t = typo_of(n, hd.name.len);
        if (t != HF_OTHER)
            http_warnings_add(w, W_NAME_TYPO, hd.line, hd.name, (uint16_t)t);
    }
    add_header(base, h, &hd, w);
}

/* CR LF read as one 16-bit word in the machine's byte order. */
#define CRLF16                                                                                     \
    ((uint16_t)(((const union {                                                                    \
                    uint8_t b[2];                                                                  \
                    uint16_t w;                                                                    \
                }){{'\r', '\n'}})                                                                  \
                    .w))

/*
 * The header array of a head while the fast lane fills it, kept out of the head in locals. One
 * count does: the head keeps min(total, cap) headers.
 */
struct fill {
    struct http_header *headers;
    uint32_t cap, total;
};

/*
 * Records an ordinary field line: name [n, nend), value [v, vend), both already checked. The
 * known-field lookup and the typo check are the only look at the name after its scan.
 */
static inline void add_plain_field(const uint8_t *base, struct http_head *h, struct fill *f,
                                   struct http_warnings *w, const uint8_t *n, const uint8_t *nend,
                                   const uint8_t *v, const uint8_t *vend)
{
    uint32_t line = (uint32_t)(n - base), nlen = (uint32_t)(nend - n);
    enum http_field id = field_id(n, nlen);
    if (id == HF_OTHER && nlen >= 12) {
        enum http_field t = typo_of(n, nlen);
        if (t != HF_OTHER)
            http_warnings_add(w, W_NAME_TYPO, line, (struct http_span){line, nlen}, (uint16_t)t);
    }
    /* What add_header does. */
    uint32_t i = f->total++;
    if (i >= f->cap) {
        if (i == f->cap)
            warn(w, W_TOO_MANY_HEADERS, base, n);
        return;
    }
    if (id != HF_OTHER) {
        if (h->field_index[id] < 0)
            h->field_index[id] = (int32_t)i;
        if (h->field_count[id] < 255)
            h->field_count[id]++;
    }
    f->headers[i] = (struct http_header){
        .name = {line, nlen}, .value = span(base, v, vend), .line = line, .field = (uint16_t)id};
}

/*
 * The fast lane through the field lines of a head: parses consecutive ordinary lines from p (a
 * name of letters, digits and '-', a colon, optional spaces, a value without control
 * characters, CR LF) and returns where it stopped: the start of the first line that is not
 * ordinary (the empty line, an obs-fold, a HTAB, anything that needs a warning, a line not
 * complete before end), which the caller looks at carefully. A function of its own, aligned to a
 * cache line: inlined, its speed moved by up to a tenth with unrelated edits elsewhere in the
 * parser (where the hot loops happened to fall).
 */
static __attribute__((noinline, aligned(64))) const uint8_t *
fields_fast(const uint8_t *base, const uint8_t *p, const uint8_t *end, struct http_head *h,
            struct http_warnings *w)
{
    assert(h->nheaders == (h->total_headers < h->cap ? h->total_headers : h->cap));
    struct fill f = {h->headers, h->cap, h->total_headers};
    const uint8_t *n;
    for (;;) {
        n = p;
        const uint8_t *nend, *q;
        /* Bits of the 32 bytes at the line's start: name characters, and the bytes that end
         * a plain value (a control character, DEL or >= 0x80). 0 when fewer are left. */
        uint32_t names = 0, dirty = 0;
#ifdef __SSE2__
        if (end - p >= 32) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            names = name_mask(a) | name_mask(b) << 16;
            dirty = ~(plain_ascii_mask(a) | plain_ascii_mask(b) << 16);
        }
#endif
        if (names != 0 && names != UINT32_MAX) {
            /* Most names, and many values, end within those 32 bytes: the value's end comes
             * from the same look as the name's, not from a second look that must wait for
             * the name's end (lines are parsed one after the other, so that wait was on the
             * path of every line). */
            unsigned i = (unsigned)__builtin_ctz(~names);
            if (i == 0 || p[i] != ':')
                break;
            nend = p + i;
            dirty >>= i; /* bit 0 is the colon: not dirty */
            if (!dirty)
                q = find_ctl_in(base, p + 32, end);
            else if (*(q = nend + __builtin_ctz(dirty)) >= 0x80)
                q = find_ctl_in(base, q, end); /* the exact test from there on */
            p = nend + 1;
        } else {
            p = skip_name_chars(base, p, end);
            if (p == end || *p != ':' || p == n)
                break;
            nend = p++;
            q = find_ctl_in(base, p, end);
        }
        uint16_t crlf;
        if (end - q < 2 || (memcpy(&crlf, q, 2), crlf != CRLF16))
            break;
        /* [p, q) holds no control character, HTAB included, and *q is a CR: the whitespace
         * around the value is spaces, and the skip stops at q at the latest. */
        while (*p == ' ')
            p++;
        const uint8_t *vend = q;
        if (p < q)
            while (vend[-1] == ' ')
                vend--;
        add_plain_field(base, h, &f, w, n, nend, p, vend);
        p = q + 2;
    }
    h->nheaders = f.total < f.cap ? f.total : f.cap;
    h->total_headers = f.total;
    return n;
}

/* Whether an incomplete first line can still become a start line of this kind. */
static bool start_line_possible(const uint8_t *p, const uint8_t *end, enum http_kind kind)
{
    if (kind == HTTP_REQUEST)
        return p == end || TCHAR[*p];
    static const char prefix[] = "http/";
    for (size_t i = 0; i < 5 && p + i < end; i++)
        if ((uint8_t)(p[i] | 0x20) != (uint8_t)prefix[i])
            return false;
    return true;
}

/* Request line fast path: "METHOD SP target SP HTTP/1.x" with nothing unusual. */
static bool request_line_fast(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                              struct http_head *h)
{
    const uint8_t *m = p;
    if (eol - p >= 4 && memcmp(p, "GET ", 4) == 0) {
        p += 3; /* the usual method, in one comparison */
    } else {
        while (p < eol && *p >= 'A' && *p <= 'Z')
            p++;
        if (p == m || p == eol || *p != ' ')
            return false;
    }
    const uint8_t *t = ++p;
    p = find_target_stop(base, p, eol);
    if (p == t || p == eol || *p != ' ' || eol - p != 9 || memcmp(p + 1, "HTTP/1.", 7) != 0 ||
        (p[8] != '1' && p[8] != '0'))
        return false;
    h->method = span(base, m, t - 1);
    h->target = span(base, t, p);
    h->version = span(base, p + 1, eol);
    h->major = 1;
    h->minor = (uint8_t)(p[8] - '0');
    classify_target(base, h);
    return true;
}

/* Status line fast path: "HTTP/1.x NNN reason" with a clean reason. */
static bool status_line_fast(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                             struct http_head *h)
{
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && p[7] != '0') ||
        p[8] != ' ' || p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
        p[11] > '9')
        return false;
    const uint8_t *r = p + 12;
    if (r < eol && (*r != ' ' || find_ctl_in(base, r, eol) != eol))
        return false;
    h->version = span(base, p, p + 8);
    h->major = 1;
    h->minor = (uint8_t)(p[7] - '0');
    h->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
    h->reason = r < eol ? span(base, r + 1, eol) : span(base, eol, eol);
    return true;
}

/* Whether the complete first line [p, eol) can be a start line of this kind at all. */
static bool start_line_valid(const uint8_t *p, const uint8_t *eol, enum http_kind kind)
{
    if (!start_line_possible(p, eol, kind))
        return false;
    /* A request line needs at least a method and a target. */
    return kind != HTTP_REQUEST || memchr(p, ' ', (size_t)(eol - p)) ||
           memchr(p, '\t', (size_t)(eol - p));
}

/* Parses the complete start line [p, eol); false when it cannot be a start line. */
static bool start_line(const uint8_t *base, const uint8_t *p, const uint8_t *eol,
                       struct http_head *h, struct http_warnings *w)
{
    h->start = (uint32_t)(p - base);
    bool fast = h->kind == HTTP_REQUEST ? request_line_fast(base, p, eol, h)
                                        : status_line_fast(base, p, eol, h);
    if (fast)
        return true;
    if (!start_line_valid(p, eol, (enum http_kind)h->kind))
        return false;
    if (h->kind == HTTP_REQUEST)
        parse_request_line(base, p, eol, h, w);
    else
        parse_status_line(base, p, eol, h, w);
    const uint8_t *bad = memchr(p, 0, (size_t)(eol - p));
    if (bad)
        warn_once(w, W_NUL_BYTE, base, bad);
    return true;
}

/*
 * Records that the search for a LF (start line state) or for the end of the head (field lines
 * state) resumes at off, and whether the caller's inline check may skip new bytes from there
 * (see http_head_parse).
 */
static inline void resume_at(struct http_scan *scan, uint32_t off, bool may_wait)
{
    uint32_t wait = may_wait ? off + 1 : 0;
    scan->lf_from = off;
    scan->wait_lf = scan->state == SCAN_START_LINE ? wait : 0;
    scan->wait_end = scan->state == SCAN_FIELDS ? wait : 0;
}

/*
 * Start line state: new bytes without a LF change nothing once the bytes that decide whether
 * the line can be a start line (the first five, "HTTP/" for a response) are in [p, judge_end)
 * and were found possible.
 */
static inline bool start_waits_for_lf(const uint8_t *p, const uint8_t *judge_end)
{
    return judge_end - p >= 5;
}

/*
 * The head is too large: head_max bytes hold no end of head. What was parsed stays for the
 * caller to show; pos is the line where parsing stopped.
 */
static int too_large(const uint8_t *base, const struct http_limits *limits, struct http_scan *scan,
                     struct http_head *head, struct http_warnings *w)
{
    head->flags |= HEAD_TRUNCATED;
    head->len = limits->head_max;
    warn_once(w, W_HEAD_TOO_LARGE, base, base + scan->pos);
    scan->state = SCAN_DONE;
    /* a call after the end goes to the parser, which repeats the result */
    scan->wait_lf = scan->wait_end = 0;
    return HTTP_TOO_LARGE;
}

/*
 * Start line state, with [base + scan->pos, input_end) holding no LF (len bytes were given):
 * records how far the search for one got and decides what the first bytes of a start line
 * already settle.
 */
static int start_incomplete(const uint8_t *base, const uint8_t *input_end, size_t len,
                            enum http_kind kind, const struct http_limits *limits,
                            struct http_scan *scan, struct http_head *head, struct http_warnings *w)
{
    const uint8_t *p = base + scan->pos;
    /* A CR at the very end may be the first half of a line end: judge the line without it. */
    const uint8_t *judge_end = input_end > p && input_end[-1] == '\r' ? input_end - 1 : input_end;
    if (!start_line_possible(p, judge_end, kind))
        return HTTP_INVALID;
    resume_at(scan, (uint32_t)(input_end - base), start_waits_for_lf(p, judge_end));
    if (len >= limits->head_max)
        return too_large(base, limits, scan, head, w);
    return HTTP_NEED_MORE;
}

/*
 * Parses the complete line [p, lf] in the start line state: an empty line before the start
 * line, or the start line. Returns HTTP_INVALID when it cannot be a start line, the head length
 * for an HTTP/0.9 request line (a head of one line), 0 to go on.
 */
static int start_state_line(const uint8_t *base, const uint8_t *p, const uint8_t *lf,
                            enum http_kind kind, struct http_scan *scan, struct http_head *head,
                            struct http_warnings *w)
{
    const uint8_t *eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    if (eol == lf) {
        /* A line that cannot be a start line gets no warnings: fed in pieces, its first
         * bytes would have ruled it out before its end was seen. */
        if (eol > p && !start_line_valid(p, eol, kind))
            return HTTP_INVALID;
        head->flags |= HEAD_BARE_LF;
        warn_once(w, W_BARE_LF, base, lf);
    }
    if (eol != p && !start_line(base, p, eol, head, w))
        return HTTP_INVALID; /* pos stays at the line that cannot be a start line */
    scan->pos = (uint32_t)(lf + 1 - base);
    resume_at(scan, scan->pos, false);
    if (eol == p) {
        warn_once(w, W_LEADING_EMPTY_LINES, base, p);
        return 0;
    }
    if (!(head->flags & HEAD_HTTP09)) {
        /* The search for the end of the head starts at this LF: the first field line may
         * already be the empty line. */
        resume_at(scan, scan->pos - 1, false);
        scan->state = SCAN_FIELDS;
        return 0;
    }
    scan->state = SCAN_DONE;
    head->len = scan->pos;
    finish_head(base, head, w);
    return (int)head->len;
}

/* A field line at p (complete: its LF is lf) that the fast lane did not take. */
static void odd_line(const uint8_t *base, const uint8_t *p, const uint8_t *lf, struct http_head *h,
                     struct http_warnings *w)
{
    const uint8_t *eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    if (eol == lf) {
        h->flags |= HEAD_BARE_LF;
        warn_once(w, W_BARE_LF, base, lf);
    }
    if (*p != ' ' && *p != '\t')
        field_line(base, p, eol, h, w);
    else if (h->total_headers == 0)
        warn(w, W_WS_AFTER_START_LINE, base, p);
    else
        fold_line(base, p, eol, h, w);
}

/*
 * Parses the field lines from p up to the end of the head: an empty line (CR LF or a bare LF),
 * or a CR alone at the start of a line (readers that take CR as a line end see an empty line
 * there). Returns the head length, or 0 with *stop at the first line not complete before end.
 */
static int parse_fields(const uint8_t *base, const uint8_t *p, const uint8_t *end,
                        struct http_head *h, struct http_warnings *w, const uint8_t **stop)
{
    for (;;) {
        p = fields_fast(base, p, end, h, w);
        if (p < end && (*p == '\r' || *p == '\n')) {
            if (*p == '\n') {
                h->flags |= HEAD_BARE_LF;
                warn_once(w, W_BARE_LF, base, p);
                return (int)(p + 1 - base);
            }
            if (end - p >= 2 && p[1] == '\n')
                return (int)(p + 2 - base);
            if (end - p >= 2) {
                warn_once(w, W_BARE_CR, base, p);
                return (int)(p + 1 - base);
            }
        }
        const uint8_t *lf = p < end && *p != '\r' ? find_lf_in(base, p, end) : NULL;
        if (!lf) {
            *stop = p;
            return 0;
        }
        odd_line(base, p, lf, h, w);
        p = lf + 1;
    }
}

/*
 * Looks for the end of the head in [from, end), from being a LF whose next line was not looked
 * at yet or a byte inside a line: a LF followed by a LF or a CR (the empty line or a CR alone;
 * see parse_fields). Returns NULL when it is there, or where the next search starts.
 */
static const uint8_t *head_end_scan(const uint8_t *base, const uint8_t *from, const uint8_t *end)
{
    for (;;) {
        const uint8_t *lf = find_lf_in(base, from, end);
        if (!lf)
            return end;
        if (end - lf < 2 || (lf[1] == '\r' && end - lf < 3))
            return lf; /* the byte(s) deciding are still to come */
        if (lf[1] == '\n' || lf[1] == '\r')
            return NULL;
        from = lf + 1;
    }
}

/* Bytes after a fresh start line below which the end of the head is looked for before parsing
 * (few bytes are likely a piece of a head still coming). */
enum { FIELDS_SEARCH_FIRST = 16 };

/* The head and warnings as the start line left them: what HTTP_NEED_MORE shows. */
struct start_line_state {
    uint16_t flags, warn_n, warn_dropped;
};

/*
 * The head turned out incomplete after field lines were parsed up to stop: puts them aside in
 * scan (see struct http_scan) and shows the head as the start line left it. The entries stay
 * in h->headers and w->w, past the counts. Out of line, as is fields_take_back: inlined, they
 * made the usual whole-buffer parse 10-45% slower (its hot code laid out worse).
 */
static __attribute__((noinline)) void fields_put_aside(struct http_scan *scan, const uint8_t *base,
                                                       const uint8_t *stop, struct http_head *h,
                                                       struct http_warnings *w,
                                                       const struct start_line_state *u)
{
    scan->kept_at = (uint32_t)(stop - base);
    scan->kept_headers = h->nheaders;
    scan->kept_total = h->total_headers;
    scan->kept_flags = h->flags;
    scan->kept_warn_n = w ? w->n : 0;
    scan->kept_warn_dropped = w ? w->dropped : 0;
    h->flags = u->flags;
    h->nheaders = h->total_headers = 0;
    memset(h->field_index, 0xff, sizeof h->field_index); /* all -1 */
    memset(h->field_count, 0, sizeof h->field_count);
    if (w) {
        w->n = u->warn_n;
        w->dropped = u->warn_dropped;
    }
}

/* Brings back the field lines put aside (the head shows the start line's state); returns where
 * parsing goes on. */
static __attribute__((noinline)) const uint8_t *fields_take_back(struct http_scan *scan,
                                                                 const uint8_t *base,
                                                                 struct http_head *h,
                                                                 struct http_warnings *w)
{
    h->flags = scan->kept_flags;
    h->nheaders = scan->kept_headers;
    h->total_headers = scan->kept_total;
    for (uint32_t i = 0; i < h->nheaders; i++) {
        uint16_t f = h->headers[i].field;
        if (f == HF_OTHER)
            continue;
        if (h->field_index[f] < 0)
            h->field_index[f] = (int32_t)i;
        if (h->field_count[f] < 255)
            h->field_count[f]++;
    }
    if (w) {
        w->n = scan->kept_warn_n;
        w->dropped = scan->kept_warn_dropped;
    }
    const uint8_t *at = base + scan->kept_at;
    scan->kept_at = 0;
    return at;
}

/*
 * Field lines state: the start line is parsed; the field lines are shown only once the end of
 * the head is in [base, input_end), found by a search that goes on where the previous call left
 * it (scan->lf_from, or scan->wait_end when set). fresh: the start line was parsed by this call,
 * so nothing after it was looked at; when many bytes follow (a whole head usually comes in one
 * piece) they are parsed at once without that search, and if the head turns out incomplete the
 * lines parsed are put aside for the call that completes it (fields_put_aside).
 */
static int fields_state(const uint8_t *base, const uint8_t *input_end, size_t len,
                        const struct http_limits *limits, struct http_scan *scan,
                        struct http_head *head, struct http_warnings *w, bool fresh)
{
    bool over = len >= limits->head_max;
    bool search = !fresh || input_end - (base + scan->pos) < FIELDS_SEARCH_FIRST;
    if (search) {
        uint32_t from = scan->wait_end ? scan->wait_end - 1 : scan->lf_from;
        const uint8_t *next = head_end_scan(base, base + from, input_end);
        if (next && !over) {
            resume_at(scan, (uint32_t)(next - base), true);
            return HTTP_NEED_MORE;
        }
    }
    struct start_line_state shown = {head->flags, w ? w->n : 0, w ? w->dropped : 0};
    const uint8_t *from = scan->kept_at ? fields_take_back(scan, base, head, w) : base + scan->pos;
    const uint8_t *stop = input_end;
    int rc = parse_fields(base, from, input_end, head, w, &stop);
    if (rc > 0) {
        scan->pos = (uint32_t)rc;
        scan->state = SCAN_DONE;
        scan->wait_end = 0;
        head->len = (uint32_t)rc;
        finish_head(base, head, w);
        return rc;
    }
    if (over) {
        scan->pos = (uint32_t)(stop - base);
        return too_large(base, limits, scan, head, w);
    }
    assert(!search);
    fields_put_aside(scan, base, stop, head, w, &shown);
    /* Every line before stop is known not to end the head; so is the line at stop when its
     * first byte is there and not a CR. */
    const uint8_t *next = stop < input_end && *stop != '\r' ? input_end : stop - 1;
    resume_at(scan, (uint32_t)(next - base), true);
    return HTTP_NEED_MORE;
}

int http_head_parse_full(const uint8_t *buf, size_t len, enum http_kind kind,
                         const struct http_limits *limits, struct http_scan *scan,
                         struct http_head *head, struct http_warnings *w)
{
    static const struct http_limits defaults = HTTP_LIMITS_DEFAULT;
    struct http_scan local = {0};
    if (!limits)
        limits = &defaults;
    if (!scan)
        scan = &local;
    if (!scan->started) {
        head_reset(head, kind, limits);
        scan->started = 1;
    }
    size_t limit = len < limits->head_max ? len : limits->head_max;
    const uint8_t *base = buf, *input_end = buf + limit;
    bool fresh = false;
    while (scan->state == SCAN_START_LINE) {
        const uint8_t *from = base + (scan->wait_lf ? scan->wait_lf - 1 : scan->lf_from);
        const uint8_t *lf = from < input_end ? find_lf_in(base, from, input_end) : NULL;
        if (!lf)
            return start_incomplete(base, input_end, len, kind, limits, scan, head, w);
        int rc = start_state_line(base, base + scan->pos, lf, kind, scan, head, w);
        if (rc)
            return rc;
        fresh = true;
    }
    if (scan->state == SCAN_DONE)
        return (int)head->len;
    return fields_state(base, input_end, len, limits, scan, head, w, fresh);
}

int http_looks_like(const uint8_t *buf, size_t len, enum http_kind kind)
{
    if (kind == HTTP_RESPONSE) {
        static const char prefix[] = "HTTP/1.";
        for (size_t i = 0; i < 7; i++) {
            if (i >= len)
                return -1;
            if (buf[i] != (uint8_t)prefix[i])
                return 0;
        }
        return 1;
    }
    /* A method is 1 to 20 upper-case letters, '-' or '_', then one space and a target that
     * starts with '/', '*' or a letter (absolute or authority form). */
    size_t i = 0;
    while (i < len && i <= 20 &&
           ((buf[i] >= 'A' && buf[i] <= 'Z') || buf[i] == '-' || buf[i] == '_'))
        i++;
    if (i == len)
        return i <= 20 ? -1 : 0;
    if (i == 0 || i > 20 || buf[i] != ' ')
        return 0;
    if (i + 1 == len)
        return -1;
    uint8_t t = buf[i + 1];
    return (t == '/' || t == '*' || (t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') ||
            (t >= '0' && t <= '9') || t == '[')
               ? 1
               : 0;
}

size_t http_resync(const uint8_t *buf, size_t len, enum http_kind kind, size_t *keep)
{
    *keep = 0;
    size_t pos = 0;
    while (pos < len) {
        int r = http_looks_like(buf + pos, len - pos, kind);
        if (r == 1)
            return pos;
        if (r == -1) {
            *keep = len - pos;
            return len;
        }
        const uint8_t *lf = memchr(buf + pos, '\n', len - pos);
        if (!lf)
            return len;
        pos = (size_t)(lf - buf) + 1;
    }
    return len;
}

bool http_peek_request_line(const uint8_t *buf, size_t len, struct http_span *method,
                            struct http_span *target, bool *whole)
{
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    size_t start = i;
    while (i < len && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
        i++;
    if (i == start || i >= len || buf[i] != ' ')
        return false;
    *method = (struct http_span){(uint32_t)start, (uint32_t)(i - start)};
    size_t t = ++i;
    while (i < len && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
        i++;
    *target = (struct http_span){(uint32_t)t, (uint32_t)(i - t)};
    *whole = memchr(buf + i, '\n', len - i) != NULL;
    return true;
}

bool http_peek_field(const uint8_t *buf, size_t len, const char *name, struct http_span *value)
{
    size_t i = 0, nlen = strlen(name);
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    const uint8_t *lf = memchr(buf + i, '\n', len - i);
    for (size_t p = lf ? (size_t)(lf - buf) + 1 : len; p < len;) {
        lf = memchr(buf + p, '\n', len - p);
        if (!lf)
            return false;
        size_t next = (size_t)(lf - buf) + 1, stop = next - 1;
        if (stop > p && buf[stop - 1] == '\r')
            stop--;
        if (stop == p)
            return false; /* the empty line: the head ends here */
        if (stop - p > nlen && buf[p + nlen] == ':' && ieq(buf + p, (const uint8_t *)name, nlen)) {
            if (next < len && (buf[next] == ' ' || buf[next] == '\t'))
                return false;
            size_t v = p + nlen + 1;
            while (v < stop && (buf[v] == ' ' || buf[v] == '\t'))
                v++;
            while (stop > v && (buf[stop - 1] == ' ' || buf[stop - 1] == '\t'))
                stop--;
            *value = (struct http_span){(uint32_t)v, (uint32_t)(stop - v)};
            return true;
        }
        p = next;
    }
    return false;
}

bool http_request_line_is_head(const uint8_t *buf, size_t len)
{
    struct http_span method, target;
    bool whole;
    return http_peek_request_line(buf, len, &method, &target, &whole) && whole &&
           http_span_eq(buf, method, "HEAD");
}

void http_trailer_check(const uint8_t *buf, size_t len, struct http_warnings *w)
{
    /* The head's own line parsers, over a head that keeps one field: the last one, which an
     * obs-fold line continues. Their warnings go to a list of their own first, so that those
     * about a head alone are left out. */
    struct http_header last;
    struct http_head h = {.kind = HTTP_REQUEST, .headers = &last, .cap = 1};
    struct http_warnings all = {.n = 0};
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *eol = lf ? lf : end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (*p == ' ' || *p == '\t') {
            fold_line(buf, p, eol, &h, &all);
        } else {
            h.nheaders = h.total_headers = 0;
            parse_field_line(buf, p, eol, &h, &all);
        }
        p = lf ? lf + 1 : end;
    }
    for (uint16_t i = 0; i < all.n; i++)
        if (all.w[i].code != W_NAME_TYPO && all.w[i].code != W_TOO_MANY_HEADERS)
            http_warnings_add(w, (enum warning_code)all.w[i].code, all.w[i].off, all.w[i].arg,
                              all.w[i].field);
    if (w)
        w->dropped = (uint16_t)(w->dropped + all.dropped);
}

uint32_t http_nul_count(const uint8_t *buf, size_t len, uint32_t at[HTTP_NUL_SHOWN_MAX])
{
    uint32_t n = 0;
    size_t i = 0;
    /* The first few are found one by one for their offsets; the rest only counted. */
    while (n < HTTP_NUL_SHOWN_MAX && i < len) {
        const uint8_t *z = memchr(buf + i, 0, len - i);
        if (!z)
            return n;
        at[n++] = (uint32_t)(z - buf);
        i = (size_t)(z - buf) + 1;
    }
    size_t rest = 0;
    for (; i < len; i++)
        rest += buf[i] == 0;
    return n + (uint32_t)rest;
}

bool http_span_ieq(const uint8_t *buf, struct http_span s, const char *text)
{
    size_t n = strlen(text);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(buf[s.off + i]) != lower((uint8_t)text[i]))
            return false;
    return true;
}

const uint8_t *http_head_field(const uint8_t *buf, const struct http_head *h, enum http_field f,
                               size_t *len)
{
    int32_t i = (unsigned)f < HF__COUNT ? h->field_index[f] : -1;
    if (i < 0) {
        *len = 0;
        return NULL;
    }
    *len = h->headers[i].value.len;
    return buf + h->headers[i].value.off;
}

const uint8_t *http_head_find(const uint8_t *buf, const struct http_head *h, const char *name,
                              size_t *len)
{
    for (uint32_t i = 0; i < h->nheaders; i++) {
        if (http_span_ieq(buf, h->headers[i].name, name)) {
            *len = h->headers[i].value.len;
            return buf + h->headers[i].value.off;
        }
    }
    *len = 0;
    return NULL;
}

bool http_head_has_token(const uint8_t *buf, const struct http_head *h, enum http_field f,
                         const char *token)
{
    if ((unsigned)f >= HF__COUNT || h->field_index[f] < 0)
        return false;
    size_t tn = strlen(token);
    for (uint32_t i = (uint32_t)h->field_index[f]; i < h->nheaders; i++) {
        if (h->headers[i].field != f)
            continue;
        const uint8_t *v = buf + h->headers[i].value.off;
        const uint8_t *end = v + h->headers[i].value.len;
        while (v < end) {
            while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
                v++;
            const uint8_t *t = v;
            while (v < end && *v != ',' && *v != ';')
                v++;
            const uint8_t *te = v;
            while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
                te--;
            if ((size_t)(te - t) == tn && lower_eq(t, token, tn))
                return true;
            while (v < end && *v != ',')
                v++;
        }
    }
    return false;
}
