/*
 * bytesource owns the answer to "which bytes does this view show right now". It copies only
 * when asked to own a buffer; it never changes an exchange.
 */
#include "hspy/bytesource.h"

#include <string.h>

void bytesource_init_window(struct bytesource *b, const struct store *store, uint64_t id, int side,
                            uint64_t from, uint64_t len)
{
    memset(b, 0, sizeof *b);
    b->store = store;
    b->id = id;
    b->side = side;
    b->from = from;
    b->len = len;
    dynbuf_init(&b->own, 0);
}

void bytesource_init_wire(struct bytesource *b, const struct store *store, uint64_t id, int side)
{
    bytesource_init_window(b, store, id, side, 0, UINT64_MAX);
}

void bytesource_init_copy(struct bytesource *b, const uint8_t *p, size_t n, size_t max)
{
    memset(b, 0, sizeof *b);
    dynbuf_init(&b->own, max);
    dynbuf_append(&b->own, p, n);
}

void bytesource_init_take(struct bytesource *b, struct dynbuf *buf)
{
    memset(b, 0, sizeof *b);
    b->own = *buf;
    dynbuf_init(buf, buf->max);
}

void bytesource_cleanup(struct bytesource *b)
{
    dynbuf_cleanup(&b->own);
}

const uint8_t *bytesource_get(const struct bytesource *b, size_t *len)
{
    if (!b->store) {
        *len = b->own.len;
        return b->own.data;
    }
    const struct exchange *ex = store_get(b->store, b->id);
    if (!ex) {
        *len = 0;
        return NULL;
    }
    const struct message *m = exchange_msg_const(ex, (enum side)b->side);
    if (b->from >= m->raw.len) {
        *len = 0;
        return m->raw.data;
    }
    uint64_t avail = m->raw.len - b->from;
    *len = (size_t)(avail < b->len ? avail : b->len);
    return m->raw.data + b->from;
}
