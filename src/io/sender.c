/*
 * sender owns the timing of one response's bytes: it runs the delivery state machine's
 * decisions with a libuv timer. It never decides what the response says and never touches the
 * conversation or the socket directly; its owner's callbacks do.
 */
#include "hspy/sender.h"

#include <string.h>

#include "hspy/response.h"

void sender_init(struct sender *s, uv_loop_t *loop, const struct sender_events *ev)
{
    memset(s, 0, sizeof *s);
    s->ev = *ev;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    dynbuf_init(&s->head, (size_t)1 << 30);
    dynbuf_init(&s->pending, (size_t)1 << 30);
}

void sender_close(struct sender *s, uv_close_cb close_cb)
{
    dynbuf_cleanup(&s->head);
    dynbuf_cleanup(&s->pending);
    uv_close((uv_handle_t *)&s->timer, close_cb);
}

static bool planned(const struct sender *s)
{
    return s->plan != NULL;
}

void sender_begin(struct sender *s, const struct delivery *plan)
{
    s->plan = plan && delivery_active(plan) ? plan : NULL;
    s->busy = true;
    s->ended = s->finished = s->waiting = s->was_full = s->head_ended = false;
    dynbuf_reset(&s->head);
    dynbuf_reset(&s->pending);
    s->pending_off = 0;
    if (s->plan)
        delivery_state_init(&s->st, s->plan);
}

static void finish(struct sender *s, enum sender_finish how)
{
    if (s->finished)
        return;
    s->finished = true;
    s->busy = false;
    if (s->waiting) {
        uv_timer_stop(&s->timer);
        s->waiting = false;
    }
    s->ev.finish(s->ev.data, how);
}

static void pump(struct sender *s);

static void on_timer(uv_timer_t *t)
{
    struct sender *s = t->data;
    s->waiting = false;
    delivery_waited(&s->st);
    pump(s);
    if (s->ev.after)
        s->ev.after(s->ev.data);
}

/* Releases pending bytes while the plan allows; reports room and the end. */
static void pump(struct sender *s)
{
    if (s->pumping || s->finished || s->waiting)
        return;
    s->pumping = true;
    for (;;) {
        struct delivery_step st = delivery_next(s->plan, &s->st);
        if (st.action == DELIVERY_SEND) {
            const uint8_t *p = s->pending.data + s->pending_off;
            s->pending_off += (size_t)st.len;
            delivery_sent(s->plan, &s->st, st.len);
            s->ev.write(s->ev.data, p, (size_t)st.len);
            continue;
        }
        if (st.action == DELIVERY_WAIT) {
            s->waiting = true;
            uv_timer_start(&s->timer, on_timer, st.wait_ms, 0);
        } else if (st.action == DELIVERY_CLOSE || st.action == DELIVERY_RESET) {
            finish(s, st.action == DELIVERY_CLOSE ? SENDER_CLOSE : SENDER_RESET);
        } else if (st.action == DELIVERY_DONE) {
            finish(s, SENDER_DONE);
        }
        break;
    }
    /* Compact once the released part dominates, so trickling stays linear. */
    if (s->pending_off > 4096 && s->pending_off * 2 > s->pending.len) {
        dynbuf_consume(&s->pending, s->pending_off);
        s->pending_off = 0;
    }
    s->pumping = false;
    if (s->was_full && !sender_full(s) && !s->finished) {
        s->was_full = false;
        if (s->ev.room)
            s->ev.room(s->ev.data);
    }
}

static void supply(struct sender *s, const uint8_t *p, size_t n, bool is_head)
{
    if (s->pending_off == s->pending.len) {
        dynbuf_reset(&s->pending);
        s->pending_off = 0;
    }
    dynbuf_append(&s->pending, p, n);
    delivery_supply(&s->st, n, is_head);
    if (sender_full(s))
        s->was_full = true;
}

/* Hands the held head on, with the plan's Content-Length when it states one. */
static void end_head(struct sender *s)
{
    if (s->head_ended)
        return;
    s->head_ended = true;
    if (!s->head.len)
        return;
    struct dynbuf fixed;
    dynbuf_init(&fixed, s->head.len + 64);
    if (response_set_length(s->head.data, s->head.len, s->plan->content_length, &fixed) == 0)
        supply(s, fixed.data, fixed.len, true);
    else
        supply(s, s->head.data, s->head.len, true);
    dynbuf_cleanup(&fixed);
    dynbuf_reset(&s->head);
}

void sender_head(struct sender *s, const uint8_t *p, size_t n)
{
    if (!s->busy || s->finished)
        return;
    if (!planned(s)) {
        s->ev.write(s->ev.data, p, n);
        return;
    }
    if (s->plan->content_length_set)
        dynbuf_append(&s->head, p, n);
    else
        supply(s, p, n, true);
    pump(s);
}

void sender_body(struct sender *s, const uint8_t *p, size_t n)
{
    if (!s->busy || s->finished || n == 0)
        return;
    if (!planned(s)) {
        s->ev.write(s->ev.data, p, n);
        return;
    }
    if (s->plan->content_length_set)
        end_head(s);
    supply(s, p, n, false);
    pump(s);
}

void sender_end(struct sender *s)
{
    if (!s->busy || s->finished)
        return;
    s->ended = true;
    if (!planned(s)) {
        finish(s, SENDER_DONE);
        return;
    }
    if (s->plan->content_length_set)
        end_head(s);
    delivery_end(&s->st);
    pump(s);
}

void sender_abort(struct sender *s)
{
    if (s->waiting)
        uv_timer_stop(&s->timer);
    s->waiting = false;
    s->busy = false;
    s->finished = true;
    dynbuf_reset(&s->pending);
    s->pending_off = 0;
}

bool sender_full(const struct sender *s)
{
    return s->pending.len - s->pending_off >= SENDER_PENDING_MAX;
}

bool sender_waiting(const struct sender *s)
{
    return s->waiting;
}

bool sender_busy(const struct sender *s)
{
    return s->busy;
}
