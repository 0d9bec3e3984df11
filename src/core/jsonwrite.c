/*
 * jsonwrite owns the writing of every JSON hspy emits (JSON lines, HAR, lint reports): value by
 * value into text or into a jansson tree, and whole jansson values into text. It writes into
 * the caller's dynbuf or the tree it returns only. Strings are scanned 8 (or 16) bytes at a time
 * for the characters that need escaping, so clean text is copied in runs.
 */
#include "hspy/jsonwrite.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hspy/decimal.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Text goes through the writer's stage, flushed to the dynbuf in blocks: a record is hundreds
 * of small pieces, and one dynbuf_append per piece cost more than the escaping.
 */
static void flush(struct jsonwrite *w)
{
    if (w->used && dynbuf_append(w->out, w->stage, w->used) != w->used)
        w->failed = true;
    w->used = 0;
}

/* Copies n <= 16 bytes with fixed-size moves the compiler inlines (most pieces are keys and
 * numbers of a few bytes, for which a call to memcpy costs more than the copy). */
static inline void copy_small(char *d, const uint8_t *p, size_t n)
{
    if (n >= 8) {
        memcpy(d, p, 8);
        memcpy(d + n - 8, p + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, p, 4);
        memcpy(d + n - 4, p + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = (char)p[i];
    }
}

static void put(struct jsonwrite *w, const void *p, size_t n)
{
    if (n <= 16 && n <= JSONWRITE_STAGE - w->used) {
        copy_small(w->stage + w->used, p, n);
        w->used += n;
        return;
    }
    if (n > JSONWRITE_STAGE - w->used) {
        flush(w);
        if (n > JSONWRITE_STAGE) {
            if (dynbuf_append(w->out, p, n) != n)
                w->failed = true;
            return;
        }
    }
    memcpy(w->stage + w->used, p, n);
    w->used += n;
}

static void put_char(struct jsonwrite *w, char c)
{
    if (w->used == JSONWRITE_STAGE)
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
    /* A tail under 8 bytes: its last 8 bytes (overlapping what was checked) in one test. */
    if (i < n && n >= 8 && i + 8 > n && !needs_escape8(p + n - 8))
        return n;
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
static size_t escape_one(struct jsonwrite *out, const uint8_t *p, size_t n)
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
static size_t put_long_string(struct jsonwrite *out, const uint8_t *p, size_t n)
{
    enum { BLOCK = 4096 };
    flush(out);
    size_t i = 0;
    while (i < n && !out->failed) {
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

static void put_string(struct jsonwrite *out, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    /* Short clean strings (keys, names, numbers' neighbours) in one piece, quotes included. */
    if (n <= 16 && out->used + 18 <= JSONWRITE_STAGE && plain_run(p, n) == n) {
        char *d = out->stage + out->used;
        d[0] = '"';
        copy_small(d + 1, p, n);
        d[n + 1] = '"';
        out->used += n + 2;
        return;
    }
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

static void put_integer(struct jsonwrite *out, int64_t v)
{
    char buf[1 + DECIMAL_U64_MAX];
    /* Negate in unsigned arithmetic so the most negative value works too. */
    uint64_t u = v < 0 ? 0ull - (uint64_t)v : (uint64_t)v;
    size_t sign = v < 0;
    buf[0] = '-';
    put(out, buf + 1 - sign, sign + decimal_u64(buf + 1, u));
}

/*
 * Reals that are a whole number of thousandths (HAR's times in ms) written without snprintf,
 * which costs about 2,000 instructions a number. v is then the double nearest k / 1000; with
 * at most `precision` <= 15 (DBL_DIG) significant digits, "%.*g" gives back exactly that
 * decimal, and neither the exponent form nor a digit of rounding can occur. Returns false for
 * other values (the general path writes them).
 */
static bool put_thousandths(struct jsonwrite *out, double v)
{
    static const double POW10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    if (out->precision > 15 || !(v >= 0) || signbit(v) || v * 1000.0 >= POW10[out->precision])
        return false;
    uint64_t k = (uint64_t)llround(v * 1000.0);
    if ((double)k / 1000.0 != v)
        return false;
    char buf[DECIMAL_U64_MAX + 8];
    size_t n = decimal_u64(buf, k / 1000);
    unsigned frac = (unsigned)(k % 1000);
    buf[n++] = '.';
    if (frac == 0) {
        buf[n++] = '0';
    } else {
        buf[n++] = (char)('0' + frac / 100);
        buf[n++] = (char)('0' + frac / 10 % 10);
        buf[n++] = (char)('0' + frac % 10);
        while (buf[n - 1] == '0')
            n--;
    }
    put(out, buf, n);
    return true;
}

static void put_real(struct jsonwrite *out, double v)
{
    if (put_thousandths(out, v))
        return;
    char buf[40];
    int n = isnan(v) || isinf(v) ? -1 : snprintf(buf, sizeof buf, "%.*g", out->precision, v);
    if (n < 0 || (size_t)n >= sizeof buf - 3) {
        out->failed = true;
        return;
    }
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
}

/* ---- targets ----------------------------------------------------------------------------- */

/*
 * What a target does with each kind of value. The writer keeps the nesting (depth, which
 * containers are objects, which have members) and calls these only while nothing failed;
 * begin is called before depth counts the new container.
 */
struct jsonwrite_target {
    void (*begin)(struct jsonwrite *w, bool object);
    void (*end)(struct jsonwrite *w, bool object);
    void (*key)(struct jsonwrite *w, const char *key, size_t n);
    void (*name)(struct jsonwrite *w, const char *name, size_t n); /* a key needing no escape */
    void (*string)(struct jsonwrite *w, const char *s, size_t n);
    void (*integer)(struct jsonwrite *w, int64_t v);
    void (*real)(struct jsonwrite *w, double v);
    void (*literal)(struct jsonwrite *w, json_type type); /* true, false or null */
    void (*json)(struct jsonwrite *w, const json_t *v);   /* counts itself done, as calls do */
};

static uint64_t depth_bit(int depth)
{
    return (uint64_t)1 << (depth - 1);
}

static void value_done(struct jsonwrite *w);

/* The ',' before a value or key that is not the first in its container. */
static void text_separate(struct jsonwrite *w)
{
    if (!w->after_key && w->depth > 0 && (w->nonempty & depth_bit(w->depth)))
        put_char(w, ',');
}

static void text_begin(struct jsonwrite *w, bool object)
{
    text_separate(w);
    put_char(w, object ? '{' : '[');
}

static void text_end(struct jsonwrite *w, bool object)
{
    put_char(w, object ? '}' : ']');
}

static void text_key(struct jsonwrite *w, const char *key, size_t n)
{
    text_separate(w);
    put_string(w, key, n);
    put_char(w, ':');
}

static void text_name(struct jsonwrite *w, const char *name, size_t n)
{
    text_separate(w);
    if (n + 3 > JSONWRITE_STAGE - w->used) {
        put_string(w, name, n);
        put_char(w, ':');
        return;
    }
    char *d = w->stage + w->used;
    d[0] = '"';
    if (n <= 16)
        copy_small(d + 1, (const uint8_t *)name, n);
    else
        memcpy(d + 1, name, n);
    d[n + 1] = '"';
    d[n + 2] = ':';
    w->used += n + 3;
}

static void text_string(struct jsonwrite *w, const char *s, size_t n)
{
    text_separate(w);
    put_string(w, s, n);
}

static void text_integer(struct jsonwrite *w, int64_t v)
{
    text_separate(w);
    put_integer(w, v);
}

static void text_real(struct jsonwrite *w, double v)
{
    text_separate(w);
    put_real(w, v);
}

static void text_literal(struct jsonwrite *w, json_type type)
{
    text_separate(w);
    if (type == JSON_TRUE)
        put(w, "true", 4);
    else if (type == JSON_FALSE)
        put(w, "false", 5);
    else
        put(w, "null", 4);
}

/* A jansson value as text: walked through the writer's own calls, so nesting limits hold. */
static void text_json(struct jsonwrite *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *item;
        jsonwrite_begin_object(w);
        json_object_keylen_foreach((json_t *)v, key, klen, item)
        {
            jsonwrite_key(w, key, klen);
            jsonwrite_json(w, item);
        }
        jsonwrite_end(w);
        return;
    }
    case JSON_ARRAY: {
        jsonwrite_begin_array(w);
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n && !w->failed; i++)
            jsonwrite_json(w, json_array_get(v, i));
        jsonwrite_end(w);
        return;
    }
    case JSON_STRING: jsonwrite_string(w, json_string_value(v), json_string_length(v)); return;
    case JSON_INTEGER: jsonwrite_int(w, json_integer_value(v)); return;
    case JSON_REAL: jsonwrite_real(w, json_real_value(v)); return;
    case JSON_TRUE: jsonwrite_bool(w, true); return;
    case JSON_FALSE: jsonwrite_bool(w, false); return;
    case JSON_NULL: jsonwrite_null(w); return;
    }
}

static const struct jsonwrite_target TEXT = {
    text_begin,   text_end,  text_key,     text_name, text_string,
    text_integer, text_real, text_literal, text_json,
};

/* Puts a new value (reference stolen) where the writer stands: root, array item or member. */
static void tree_attach(struct jsonwrite *w, json_t *v)
{
    if (!v) {
        w->failed = true; /* json_real of NaN or infinity */
        return;
    }
    if (w->depth == 0) {
        assert(!w->root);
        w->root = v;
        return;
    }
    json_t *parent = w->open[w->depth - 1];
    if (w->objects & depth_bit(w->depth))
        json_object_setn_new_nocheck(parent, w->key, w->keylen, v);
    else
        json_array_append_new(parent, v);
}

static void tree_begin(struct jsonwrite *w, bool object)
{
    json_t *v = xnonnull(object ? json_object() : json_array());
    tree_attach(w, v);
    w->open[w->depth] = v;
}

static void tree_end(struct jsonwrite *w, bool object)
{
    (void)w, (void)object;
}

static void tree_key(struct jsonwrite *w, const char *key, size_t n)
{
    w->key = key;
    w->keylen = n;
}

static void tree_string(struct jsonwrite *w, const char *s, size_t n)
{
    tree_attach(w, xnonnull(json_stringn_nocheck(s, n)));
}

static void tree_integer(struct jsonwrite *w, int64_t v)
{
    tree_attach(w, xnonnull(json_integer(v)));
}

static void tree_real(struct jsonwrite *w, double v)
{
    tree_attach(w, json_real(v));
}

static void tree_literal(struct jsonwrite *w, json_type type)
{
    tree_attach(w, type == JSON_TRUE    ? json_true()
                   : type == JSON_FALSE ? json_false()
                                        : json_null());
}

static void tree_json(struct jsonwrite *w, const json_t *v)
{
    tree_attach(w, json_incref((json_t *)v));
    value_done(w);
}

static const struct jsonwrite_target TREE = {
    tree_begin,   tree_end,  tree_key,     tree_key,  tree_string,
    tree_integer, tree_real, tree_literal, tree_json,
};

/* ---- the writer -------------------------------------------------------------------------- */

void jsonwrite_init_text(struct jsonwrite *w, struct dynbuf *out, int precision)
{
    w->target = &TEXT;
    w->depth = 0;
    w->after_key = w->failed = false;
    w->objects = w->nonempty = 0;
    w->out = out;
    w->before = out->len;
    w->precision = precision <= 0 || precision > 17 ? 17 : precision;
    w->used = 0;
    w->root = NULL;
}

void jsonwrite_init_tree(struct jsonwrite *w)
{
    w->target = &TREE;
    w->depth = 0;
    w->after_key = w->failed = false;
    w->objects = w->nonempty = 0;
    w->out = NULL;
    w->used = 0;
    w->root = NULL;
    w->key = NULL;
    w->keylen = 0;
}

int jsonwrite_finish(struct jsonwrite *w)
{
    assert(w->target == &TEXT && (w->failed || w->depth == 0));
    flush(w);
    if (!w->failed)
        return 0;
    w->out->len = w->before;
    if (w->out->data)
        w->out->data[w->before] = '\0';
    return -1;
}

json_t *jsonwrite_take(struct jsonwrite *w)
{
    assert(w->target == &TREE && (w->failed || w->depth == 0));
    json_t *v = w->root;
    w->root = NULL;
    if (w->failed) {
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *jsonwrite_take_all(struct jsonwrite *w)
{
    return xnonnull(jsonwrite_take(w));
}

static bool in_object(const struct jsonwrite *w)
{
    return w->depth > 0 && (w->objects & depth_bit(w->depth));
}

/* Before a value: true when it is to be written (nothing failed so far). */
static bool value_starts(const struct jsonwrite *w)
{
    if (w->failed)
        return false;
    assert(in_object(w) ? w->after_key : (w->depth > 0 || !w->root));
    return true;
}

/* After a value: the container it went into has a member now. */
static void value_done(struct jsonwrite *w)
{
    w->after_key = false;
    if (w->depth > 0)
        w->nonempty |= depth_bit(w->depth);
}

static void begin(struct jsonwrite *w, bool object)
{
    if (value_starts(w)) {
        if (w->depth == JSONWRITE_DEPTH_MAX)
            w->failed = true;
        else
            w->target->begin(w, object);
    }
    w->depth++;
    if (w->failed)
        return; /* only the depth is still counted, so that end() calls match */
    w->after_key = false;
    w->nonempty &= ~depth_bit(w->depth);
    if (object)
        w->objects |= depth_bit(w->depth);
    else
        w->objects &= ~depth_bit(w->depth);
}

void jsonwrite_begin_object(struct jsonwrite *w)
{
    begin(w, true);
}

void jsonwrite_begin_array(struct jsonwrite *w)
{
    begin(w, false);
}

void jsonwrite_end(struct jsonwrite *w)
{
    assert(w->depth > 0);
    if (!w->failed) {
        assert(!w->after_key);
        w->target->end(w, in_object(w));
    }
    w->depth--;
    if (!w->failed)
        value_done(w);
}

void jsonwrite_key(struct jsonwrite *w, const char *key, size_t n)
{
    if (w->failed)
        return;
    assert(in_object(w) && !w->after_key);
    w->target->key(w, key, n);
    w->after_key = true;
}

void jsonwrite_name(struct jsonwrite *w, const char *name)
{
    if (w->failed)
        return;
    assert(in_object(w) && !w->after_key);
    size_t n = strlen(name);
    assert(plain_run((const uint8_t *)name, n) == n);
    w->target->name(w, name, n);
    w->after_key = true;
}

void jsonwrite_string(struct jsonwrite *w, const char *s, size_t n)
{
    if (value_starts(w)) {
        w->target->string(w, n ? s : "", n);
        value_done(w);
    }
}

void jsonwrite_cstring(struct jsonwrite *w, const char *s)
{
    jsonwrite_string(w, s, strlen(s));
}

void jsonwrite_lossy(struct jsonwrite *w, const char *s, size_t n)
{
    if (utf8_valid((const uint8_t *)s, n)) {
        jsonwrite_string(w, s, n);
        return;
    }
    struct dynbuf b;
    dynbuf_init(&b, 3 * n + 1);
    utf8_sanitize(&b, (const uint8_t *)s, n);
    jsonwrite_string(w, dynbuf_str(&b), b.len);
    dynbuf_cleanup(&b);
}

void jsonwrite_int(struct jsonwrite *w, int64_t v)
{
    if (value_starts(w)) {
        w->target->integer(w, v);
        value_done(w);
    }
}

void jsonwrite_real(struct jsonwrite *w, double v)
{
    if (value_starts(w)) {
        w->target->real(w, v);
        value_done(w);
    }
}

static void literal(struct jsonwrite *w, json_type type)
{
    if (value_starts(w)) {
        w->target->literal(w, type);
        value_done(w);
    }
}

void jsonwrite_bool(struct jsonwrite *w, bool v)
{
    literal(w, v ? JSON_TRUE : JSON_FALSE);
}

void jsonwrite_null(struct jsonwrite *w)
{
    literal(w, JSON_NULL);
}

void jsonwrite_cstring_or_null(struct jsonwrite *w, const char *s)
{
    if (s)
        jsonwrite_cstring(w, s);
    else
        jsonwrite_null(w);
}

void jsonwrite_int_or_null(struct jsonwrite *w, bool known, int64_t v)
{
    if (known)
        jsonwrite_int(w, v);
    else
        jsonwrite_null(w);
}

void jsonwrite_json(struct jsonwrite *w, const json_t *value)
{
    if (value_starts(w))
        w->target->json(w, value);
}

int jsonwrite_value(struct dynbuf *out, const json_t *value, int precision)
{
    struct jsonwrite w;
    jsonwrite_init_text(&w, out, precision);
    jsonwrite_json(&w, value);
    return jsonwrite_finish(&w);
}
