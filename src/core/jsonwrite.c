/*
 * jsonwrite owns the serialisation of jansson values for every JSON hspy emits (JSON lines,
 * HAR). It writes into the caller's dynbuf only. Strings are scanned 8 bytes at a time for the
 * characters that need escaping, so clean text is copied in runs.
 */
#include "hspy/jsonwrite.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hspy/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Output goes through a stack stage flushed to the dynbuf in blocks: a record is hundreds of
 * small pieces, and one dynbuf_append per piece cost more than the escaping.
 */
enum { STAGE = 4096 };

struct writer {
    struct dynbuf *out;
    size_t used;
    bool full; /* the dynbuf refused bytes */
    char stage[STAGE];
};

static void flush(struct writer *w)
{
    if (w->used && dynbuf_append(w->out, w->stage, w->used) != w->used)
        w->full = true;
    w->used = 0;
}

static void put(struct writer *w, const void *p, size_t n)
{
    if (n > STAGE - w->used) {
        flush(w);
        if (n > STAGE) {
            if (dynbuf_append(w->out, p, n) != n)
                w->full = true;
            return;
        }
    }
    memcpy(w->stage + w->used, p, n);
    w->used += n;
}

static void put_char(struct writer *w, char c)
{
    if (w->used == STAGE)
        flush(w);
    w->stage[w->used++] = c;
}

static const char HEX[] = "0123456789ABCDEF"; /* jansson writes \u001B */

/* 8 bytes at a time: true when any byte is < 0x20, > 0x7e, '"' or '\\'. */
static inline bool needs_escape8(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t below = (x - 0x20 * ones) & ~x;
    uint64_t above = (x + ones) | x;
    uint64_t q = x ^ (0x22 * ones), b = x ^ (0x5c * ones);
    uint64_t quote = (q - ones) & ~q, bslash = (b - ones) & ~b;
    return ((below | above | quote | bslash) & highs) != 0;
}

static inline bool plain(uint8_t c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static size_t plain_run(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n && !needs_escape8(p + i))
        i += 8;
    while (i < n && plain(p[i]))
        i++;
    return i;
}

static void put_u(char *e, uint32_t u)
{
    e[0] = '\\', e[1] = 'u';
    e[2] = HEX[(u >> 12) & 15], e[3] = HEX[(u >> 8) & 15];
    e[4] = HEX[(u >> 4) & 15], e[5] = HEX[u & 15];
}

/* Escapes the character at p (not plain); returns bytes of p consumed. */
static size_t escape_one(struct writer *out, const uint8_t *p, size_t n)
{
    char e[12];
    switch (p[0]) {
    case '"': put(out, "\\\"", 2); return 1;
    case '\\': put(out, "\\\\", 2); return 1;
    case '\b': put(out, "\\b", 2); return 1;
    case '\f': put(out, "\\f", 2); return 1;
    case '\n': put(out, "\\n", 2); return 1;
    case '\r': put(out, "\\r", 2); return 1;
    case '\t': put(out, "\\t", 2); return 1;
    default: break;
    }
    uint32_t cp;
    size_t k = p[0] < 0x80 ? (cp = p[0], 1) : utf8_decode(p, n, &cp);
    if (k == 0) {
        /* Not reachable for checked strings; never emit invalid JSON for one that slips by. */
        cp = 0xfffd;
        k = 1;
    }
    if (cp < 0x10000) {
        put_u(e, cp);
        put(out, e, 6);
    } else {
        cp -= 0x10000;
        put_u(e, 0xd800 | (cp >> 10));
        put_u(e + 6, 0xdc00 | (cp & 0x3ff));
        put(out, e, 12);
    }
    return k;
}

#ifdef __SSE2__
/* Bit i set when byte i of v must be escaped: < 0x20, '"', '\\', DEL or non-ASCII. */
static inline unsigned escape_mask(__m128i v)
{
    const __m128i ctl_max = _mm_set1_epi8(0x1f);
    __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, ctl_max), ctl_max);
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i bslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x7f)), v); /* >= 0x7f */
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(ctl, quote), _mm_or_si128(bslash, high)));
}
#endif

/* The escape of a plain-ASCII special character, or NULL for others. */
static inline const char *short_escape(uint8_t c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return NULL;
    }
}

/*
 * Large strings are escaped straight into the output buffer: 16 bytes are checked and copied
 * at once, and the copy only advances past the clean ones. Room for the worst case (every byte
 * a 6-byte \uXXXX) is reserved per block, so no byte is written twice.
 */
static size_t put_long_string(struct writer *out, const uint8_t *p, size_t n)
{
    enum { BLOCK = 4096 };
    flush(out);
    size_t i = 0;
    while (i < n && !out->full) {
        size_t chunk = n - i < BLOCK ? n - i : BLOCK;
        uint8_t *dst = dynbuf_reserve(out->out, chunk * 6 + 16);
        if (!dst)
            return i; /* the caller finishes slowly; the maximum will refuse it anyway */
        uint8_t *d = dst;
        size_t end = i + chunk;
#ifdef __SSE2__
        while (i + 16 <= end) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            _mm_storeu_si128((__m128i *)(void *)d, v);
            unsigned mask = escape_mask(v);
            if (!mask) {
                i += 16;
                d += 16;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctz(mask);
            i += k;
            d += k;
            const char *e = short_escape(p[i]);
            if (!e)
                break; /* \u escapes and UTF-8 go the careful way below */
            d[0] = (uint8_t)e[0];
            d[1] = (uint8_t)e[1];
            d += 2;
            i++;
        }
#endif
        dynbuf_commit(out->out, (size_t)(d - dst));
        /* The rest of the block (a tail under 16 bytes, or a character needing \u) byte-wise. */
        while (i < end) {
            if (plain(p[i])) {
                put_char(out, (char)p[i]);
                i++;
                continue;
            }
#ifdef __SSE2__
            if (i + 16 <= end && short_escape(p[i]) == NULL) {
                i += escape_one(out, p + i, n - i);
                break; /* back to the fast loop for the next block part */
            }
#endif
            i += escape_one(out, p + i, n - i);
        }
        flush(out);
    }
    return i;
}

static void put_string(struct writer *out, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    put_char(out, '"');
    size_t i = n >= 64 ? put_long_string(out, p, n) : 0;
    while (i < n) {
        size_t run = plain_run(p + i, n - i);
        put(out, p + i, run);
        i += run;
        if (i < n)
            i += escape_one(out, p + i, n - i);
    }
    put_char(out, '"');
}

static void put_integer(struct writer *out, json_int_t v)
{
    char buf[24];
    size_t i = sizeof buf;
    /* Negate in unsigned arithmetic so the most negative value works too. */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--i] = '-';
    put(out, buf + i, sizeof buf - i);
}

static int put_real(struct writer *out, double v, int precision)
{
    if (isnan(v) || isinf(v))
        return -1;
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (n < 0 || (size_t)n >= sizeof buf - 3)
        return -1;
    /* Like jansson: the exponent without '+' or leading zeros ("1e300", "1e-5"). */
    char *e = strchr(buf, 'e');
    if (e) {
        char *d = e + 1, *from = d;
        if (*from == '+')
            from++;
        else if (*from == '-')
            d++, from++;
        while (*from == '0' && from[1])
            from++;
        memmove(d, from, strlen(from) + 1);
        n = (int)strlen(buf);
    }
    /* A real always reads back as a real. */
    if (!strpbrk(buf, ".eE")) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    put(out, buf, (size_t)n);
    return 0;
}

static int put_value(struct writer *out, const json_t *v, int precision, int depth);

static int put_object(struct writer *out, const json_t *v, int precision, int depth)
{
    put_char(out, '{');
    const char *key;
    size_t klen;
    json_t *item;
    bool first = true;
    json_object_keylen_foreach((json_t *)v, key, klen, item)
    {
        if (!first)
            put_char(out, ',');
        first = false;
        put_string(out, key, klen);
        put_char(out, ':');
        if (put_value(out, item, precision, depth + 1) != 0)
            return -1;
    }
    put_char(out, '}');
    return 0;
}

static int put_array(struct writer *out, const json_t *v, int precision, int depth)
{
    put_char(out, '[');
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put_char(out, ',');
        if (put_value(out, json_array_get(v, i), precision, depth + 1) != 0)
            return -1;
    }
    put_char(out, ']');
    return 0;
}

static int put_value(struct writer *out, const json_t *v, int precision, int depth)
{
    if (depth > JSONWRITE_DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return put_object(out, v, precision, depth);
    case JSON_ARRAY: return put_array(out, v, precision, depth);
    case JSON_STRING: put_string(out, json_string_value(v), json_string_length(v)); return 0;
    case JSON_INTEGER: put_integer(out, json_integer_value(v)); return 0;
    case JSON_REAL: return put_real(out, json_real_value(v), precision);
    case JSON_TRUE: put(out, "true", 4); return 0;
    case JSON_FALSE: put(out, "false", 5); return 0;
    case JSON_NULL: put(out, "null", 4); return 0;
    }
    return -1;
}

void jsonwrite_string(struct dynbuf *out, const char *s, size_t n)
{
    struct writer w = {.out = out};
    put_string(&w, s, n);
    flush(&w);
}

int jsonwrite_value(struct dynbuf *out, const json_t *value, int precision)
{
    size_t before = out->len;
    if (precision <= 0 || precision > 17)
        precision = 17;
    struct writer w = {.out = out};
    int rc = put_value(&w, value, precision, 0);
    flush(&w);
    if (rc != 0 || w.full) {
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        return -1;
    }
    return 0;
}
