/*
 * search owns the matching rule for text searches. It is a pure function over buffers; views
 * decide what text to search and where to go.
 */
#include "hspy/search.h"

#include <stdbool.h>
#include <stdio.h>
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

void search_query_cleanup(struct search_query *q)
{
    if (q->regex)
        regfree(&q->re);
    q->regex = false;
    q->nlen = 0;
    q->needle[0] = '\0';
}

bool search_query_set(struct search_query *q, const char *needle, char *err, size_t errlen)
{
    search_query_cleanup(q);
    snprintf(q->needle, sizeof q->needle, "%s", needle);
    size_t len = search_regex_len(q->needle);
    if (!len) {
        q->nlen = strlen(q->needle);
        return true;
    }
    char pattern[SEARCH_NEEDLE_MAX];
    memcpy(pattern, q->needle + 1, len);
    pattern[len] = '\0';
    int rc = regcomp(&q->re, pattern, REG_EXTENDED | (has_upper(pattern, len) ? 0 : REG_ICASE));
    if (rc != 0) {
        regerror(rc, &q->re, err, errlen);
        return false;
    }
    q->regex = true;
    return true;
}

bool search_query_find(const struct search_query *q, const char *text, size_t n, size_t from,
                       size_t *start, size_t *end)
{
    if (from > n)
        return false;
    if (!q->regex) {
        size_t at = search_find(text + from, n - from, q->needle, q->nlen);
        if (at == SEARCH_NONE)
            return false;
        *start = from + at;
        *end = *start + q->nlen;
        return true;
    }
    /* REG_STARTEND: the text is not NUL-terminated and may hold NUL bytes; offsets stay
     * relative to text. A search that starts inside the text is not at a line's beginning. */
    regmatch_t m[1] = {{(regoff_t)from, (regoff_t)n}};
    if (regexec(&q->re, n ? text : "", 1, m, REG_STARTEND | (from ? REG_NOTBOL : 0)) != 0)
        return false;
    *start = (size_t)m[0].rm_so;
    *end = (size_t)m[0].rm_eo;
    return true;
}
