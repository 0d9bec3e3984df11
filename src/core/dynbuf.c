/*
 * dynbuf owns bounded growable byte buffers. It never grows a buffer past the maximum given at
 * init; it allocates through xmalloc.
 */
#include "hspy/dynbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

void dynbuf_init(struct dynbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void dynbuf_cleanup(struct dynbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void dynbuf_reset(struct dynbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for need data bytes plus the terminating NUL. */
static void reserve(struct dynbuf *b, size_t need)
{
    if (need + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

size_t dynbuf_append_slow(struct dynbuf *b, const void *p, size_t n)
{
    size_t room = b->max - b->len;
    if (n > room)
        n = room;
    reserve(b, b->len + n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

size_t dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0)
        return 0;
    if ((size_t)n < sizeof small)
        return dynbuf_append(b, small, (size_t)n);
    char *big = xvasprintf(fmt, ap);
    size_t stored = dynbuf_append(b, big, (size_t)n);
    free(big);
    return stored;
}

size_t dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = dynbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return n;
}

uint8_t *dynbuf_reserve(struct dynbuf *b, size_t n)
{
    if (n > b->max - b->len)
        return NULL;
    reserve(b, b->len + n);
    return b->data + b->len;
}

void dynbuf_commit(struct dynbuf *b, size_t k)
{
    b->len += k;
    b->data[b->len] = '\0';
}

void dynbuf_consume(struct dynbuf *b, size_t n)
{
    if (n >= b->len) {
        dynbuf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

const char *dynbuf_str(const struct dynbuf *b)
{
    return b->data ? (const char *)b->data : "";
}

char *dynbuf_take(struct dynbuf *b)
{
    char *p = b->data ? (char *)b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
