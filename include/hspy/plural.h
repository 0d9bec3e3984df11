/*
 * plural: the word for a count in a message, so that one of a thing reads "1 byte", never
 * "1 bytes". English only, as every message of hspy is; the caller names both forms, since
 * some nouns do not just take an s ("1 entry", "2 entries").
 */
#ifndef HSPY_PLURAL_H
#define HSPY_PLURAL_H

#include <stdint.h>

/* one when n is 1, many otherwise (0 takes the plural: "0 bytes"). */
static inline const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* The byte count's noun, the one most messages need. */
static inline const char *plural_bytes(uint64_t n)
{
    return plural(n, "byte", "bytes");
}

#endif
