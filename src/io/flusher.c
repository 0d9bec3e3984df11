/*
 * flusher owns a prepare and a timer handle that flush the session's sinks shortly after
 * exchanges change. It never formats or writes records itself: sinks_flush does.
 */
#include "hspy/flusher.h"

#include "hspy/hspy.h"
#include "hspy/sinks.h"

static void on_later(uv_timer_t *t)
{
    struct flusher *f = t->data;
    sinks_flush(f->h->sinks);
}

static void on_look(uv_prepare_t *p)
{
    struct flusher *f = p->data;
    uint64_t gen = f->h->store.generation;
    if (gen == f->seen || uv_is_active((uv_handle_t *)&f->later))
        return;
    f->seen = gen;
    uv_timer_start(&f->later, on_later, FLUSHER_MS, 0);
}

void flusher_open(struct flusher *f, struct hspy *h)
{
    f->h = h;
    f->seen = h->store.generation;
    uv_prepare_init(&h->loop, &f->look);
    f->look.data = f;
    uv_prepare_start(&f->look, on_look);
    uv_unref((uv_handle_t *)&f->look);
    uv_timer_init(&h->loop, &f->later);
    f->later.data = f;
    uv_unref((uv_handle_t *)&f->later);
    f->open = true;
}

void flusher_close(struct flusher *f)
{
    if (!f->open)
        return;
    f->open = false;
    uv_close((uv_handle_t *)&f->look, NULL);
    uv_close((uv_handle_t *)&f->later, NULL);
}
