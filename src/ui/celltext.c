/*
 * celltext owns the measuring of UTF-8 text in terminal cells. It decodes UTF-8 with the utf8
 * module (so the result never depends on the C library's multibyte state) and asks wcwidth()
 * only for the width of a code point. It never writes to the terminal and never allocates.
 */
#include "hspy/celltext.h"

#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include "hspy/utf8.h"

size_t celltext_next(const char *s, size_t n, int *cells)
{
    uint32_t cp;
    size_t len = utf8_decode((const uint8_t *)s, n, &cp);
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

/*
 * Bytes of s[0..n) before the first one that is not ASCII: each of them is a character of one
 * cell (see celltext_next), so most text is measured without decoding.
 */
static size_t ascii_run(const char *s, size_t n)
{
    size_t i = 0;
    while (n - i >= 8) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        if (word & 0x8080808080808080u)
            break;
        i += 8;
    }
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    return i;
}

int celltext_width(const char *s, size_t n)
{
    size_t i = ascii_run(s, n);
    int total = (int)i;
    while (i < n) {
        int w;
        i += celltext_next(s + i, n - i, &w);
        total += w;
    }
    return total;
}

size_t celltext_fit(const char *s, size_t n, int max, int *used)
{
    size_t i = max > 0 ? ascii_run(s, n) : 0;
    if (i > (size_t)max)
        i = (size_t)max; /* the next byte is ASCII too: one cell more than max */
    int total = (int)i;
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
    size_t i = skip > 0 ? ascii_run(s, n) : 0;
    if (i > (size_t)skip)
        i = (size_t)skip;
    int total = (int)i;
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
