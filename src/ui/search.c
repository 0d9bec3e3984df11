/*
 * search owns the matching rule for text searches. It is a pure function over buffers; views
 * decide what text to search and where to go.
 */
#include "hspy/search.h"

#include <stdbool.h>
#include <string.h>

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

size_t search_find(const char *hay, size_t n, const char *needle, size_t nlen)
{
    if (nlen == 0 || nlen > n)
        return SEARCH_NONE;
    if (has_upper(needle, nlen)) {
        for (size_t i = 0; i + nlen <= n; i++) {
            const char *p = memchr(hay + i, needle[0], n - nlen + 1 - i);
            if (!p)
                return SEARCH_NONE;
            i = (size_t)(p - hay);
            if (memcmp(p, needle, nlen) == 0)
                return i;
        }
        return SEARCH_NONE;
    }
    char first = needle[0];
    char other = first >= 'a' && first <= 'z' ? (char)(first - 32) : first;
    for (size_t i = 0; i + nlen <= n; i++) {
        if (hay[i] != first && hay[i] != other)
            continue;
        size_t k = 1;
        while (k < nlen && fold(hay[i + k]) == needle[k])
            k++;
        if (k == nlen)
            return i;
    }
    return SEARCH_NONE;
}
