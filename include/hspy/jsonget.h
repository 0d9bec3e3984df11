/*
 * jsonget: typed reads of one member of a jansson object, with what to use when it is absent
 * or of another type. For documents from other tools (HAR), where any member may be missing.
 */
#ifndef HSPY_JSONGET_H
#define HSPY_JSONGET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The string member key of o, or NULL; valid as long as o. */
static inline const char *jsonget_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The byte length of the string member key (it may hold NUL bytes), or 0. */
static inline size_t jsonget_strlen(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_length(v) : 0;
}

/* The integer member key of o, or fallback. */
static inline int64_t jsonget_int(const json_t *o, const char *key, int64_t fallback)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

#endif
