/*
 * utf8 owns strict UTF-8 validation, decoding and the lossy repair used where a format demands
 * text (HAR strings). It never allocates except through the caller's dynbuf.
 */
#include "hspy/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <string.h>

/* Bytes 8 at a time: true when none has its high bit set (all ASCII). */
static inline bool all_ascii8(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return (x & 0x8080808080808080ull) == 0;
}

size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

size_t utf8_cut(const uint8_t *p, size_t n, size_t limit)
{
    if (n <= limit)
        return n;
    size_t cut = limit;
    for (int back = 0; back < 3 && cut > 0 && (p[cut] & 0xc0) == 0x80; back++)
        cut--;
    return cut;
}

size_t utf8_valid_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
#ifdef __SSE2__
        /* ASCII runs, 32 bytes at a time: no byte has its top bit set. */
        while (i + 32 <= n) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
            if (_mm_movemask_epi8(_mm_or_si128(a, b)))
                break;
            i += 32;
        }
        if (i >= n)
            break;
#endif
        if (i + 8 <= n && all_ascii8(p + i)) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

size_t utf8_encode(uint32_t cp, uint8_t buf[4])
{
    if (cp < 0x80) {
        buf[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (uint8_t)(0xc0 | (cp >> 6));
        buf[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (uint8_t)(0xe0 | (cp >> 12));
        buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    buf[0] = (uint8_t)(0xf0 | (cp >> 18));
    buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    buf[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

size_t utf8_sanitize(struct dynbuf *out, const uint8_t *p, size_t n)
{
    static const uint8_t REPLACEMENT[3] = {0xef, 0xbf, 0xbd};
    size_t before = out->len;
    size_t i = 0;
    while (i < n) {
        size_t good = utf8_valid_prefix(p + i, n - i);
        /* A valid run may be cut by the maximum mid-character: keep only whole characters. */
        size_t room = out->max - out->len;
        if (good > room) {
            size_t cut = room;
            while (cut > 0 && (p[i + cut] & 0xc0) == 0x80)
                cut--;
            dynbuf_append(out, p + i, cut);
            break;
        }
        dynbuf_append(out, p + i, good);
        i += good;
        if (i == n)
            break;
        if (out->max - out->len < sizeof REPLACEMENT)
            break;
        dynbuf_append(out, REPLACEMENT, sizeof REPLACEMENT);
        i++;
    }
    return out->len - before;
}
