/*
 * celltext owns the measuring of UTF-8 text in terminal cells. It decodes UTF-8 itself (so the
 * result never depends on the C library's multibyte state) and asks wcwidth() only for the
 * width of a code point. It never writes to the terminal and never allocates.
 */
#include "hspy/celltext.h"

#include <stdint.h>
#include <wchar.h>

/* Length of a valid UTF-8 sequence at s, or 0 when the bytes are not one. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

size_t celltext_next(const char *s, size_t n, int *cells)
{
    uint32_t cp;
    size_t len = utf8_decode((const unsigned char *)s, n, &cp);
    if (len == 0) {
        *cells = 1;
        return 1;
    }
    if (cp < 0x80) {
        *cells = 1;
        return 1;
    }
    int w = wcwidth((wchar_t)cp);
    /* Unassigned or unprintable code points (termsafe escapes the dangerous ones) are given a
     * cell rather than none, which is what most terminals do with them. */
    *cells = w < 0 ? 1 : w > 2 ? 2 : w;
    return len;
}

int celltext_width(const char *s, size_t n)
{
    int total = 0;
    size_t i = 0;
    while (i < n) {
        int w;
        i += celltext_next(s + i, n - i, &w);
        total += w;
    }
    return total;
}

size_t celltext_fit(const char *s, size_t n, int max, int *used)
{
    int total = 0;
    size_t i = 0;
    while (i < n) {
        int w;
        size_t len = celltext_next(s + i, n - i, &w);
        if (total + w > max)
            break;
        total += w;
        i += len;
    }
    if (used)
        *used = total;
    return i;
}

size_t celltext_skip(const char *s, size_t n, int skip, int *lost)
{
    int total = 0;
    size_t i = 0;
    if (lost)
        *lost = 0;
    while (i < n && total < skip) {
        int w;
        i += celltext_next(s + i, n - i, &w);
        total += w;
    }
    /* Combining marks belong to the character that was skipped. */
    while (i < n) {
        int w;
        size_t len = celltext_next(s + i, n - i, &w);
        if (w != 0)
            break;
        i += len;
    }
    if (lost && total > skip)
        *lost = total - skip;
    return i;
}

size_t celltext_wrap(const char *s, size_t n, int width, size_t *next)
{
    int used;
    size_t fit = celltext_fit(s, n, width > 0 ? width : 1, &used);
    if (fit == 0 && n > 0) {
        int w;
        fit = celltext_next(s, n, &w);
    }
    size_t end = fit;
    if (fit < n) {
        size_t sp = fit;
        while (sp > 0 && s[sp] != ' ')
            sp--;
        if (sp > 0)
            end = sp;
    }
    size_t after = end;
    while (after < n && s[after] == ' ')
        after++;
    if (next)
        *next = after;
    return end;
}
