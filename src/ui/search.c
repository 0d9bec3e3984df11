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

size_t search_regex_len(const char *needle)
{
    size_t n = strlen(needle);
    return n >= 3 && needle[0] == '/' && needle[n - 1] == '/' ? n - 2 : 0;
}

bool search_regex_compile(const char *needle, regex_t *re)
{
    size_t len = search_regex_len(needle);
    char pattern[SEARCH_NEEDLE_MAX];
    if (!len || len >= sizeof pattern)
        return false;
    memcpy(pattern, needle + 1, len);
    pattern[len] = '\0';
    int flags = REG_EXTENDED | REG_NOSUB | (has_upper(pattern, len) ? 0 : REG_ICASE);
    return regcomp(re, pattern, flags) == 0;
}

bool search_regex_match(const regex_t *re, const char *text, size_t n)
{
    /* REG_STARTEND: the text is not NUL-terminated and may hold NUL bytes. */
    regmatch_t m[1] = {{0, (regoff_t)n}};
    return regexec(re, n ? text : "", 0, m, REG_STARTEND) == 0;
}
