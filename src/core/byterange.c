/*
 * byterange owns the reading of Range values. It never decides about If-Range or caching;
 * the static server does.
 */
#include "hspy/byterange.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool digits(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *s = *p;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    *out = v;
    return true;
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

enum byterange_result byterange_parse(const uint8_t *v, size_t n, uint64_t size, uint64_t *start,
                                      uint64_t *len)
{
    const uint8_t *p = v, *end = v + n;
    p = skip_ws(p, end);
    if ((size_t)(end - p) < 6 || strncasecmp((const char *)p, "bytes=", 6) != 0)
        return BYTERANGE_NONE;
    p = skip_ws(p + 6, end);
    if (memchr(p, ',', (size_t)(end - p)))
        return BYTERANGE_NONE;
    uint64_t first = 0, last = 0;
    bool have_first = digits(&p, end, &first);
    if (p >= end || *p != '-')
        return BYTERANGE_NONE;
    p++;
    bool have_last = digits(&p, end, &last);
    if (skip_ws(p, end) != end || (!have_first && !have_last))
        return BYTERANGE_NONE;
    if (!have_first) {
        /* suffix range: the last N bytes */
        if (last == 0 || size == 0)
            return BYTERANGE_UNSATISFIABLE;
        *len = last < size ? last : size;
        *start = size - *len;
        return BYTERANGE_OK;
    }
    if (have_last && last < first)
        return BYTERANGE_NONE;
    if (first >= size)
        return BYTERANGE_UNSATISFIABLE;
    if (!have_last || last >= size)
        last = size - 1;
    *start = first;
    *len = last - first + 1;
    return BYTERANGE_OK;
}
