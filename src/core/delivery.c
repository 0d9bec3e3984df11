/*
 * delivery owns the delivery plans and the decision of what to send when. It has no clock and
 * no socket: it returns actions; the sender in the I/O layer carries them out.
 */
#include "hspy/delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/options.h"

bool delivery_active(const struct delivery *d)
{
    return d->delay_head_ms || d->delay_body_ms || d->trickle_bytes || d->nsplit ||
           d->close_after_set || d->reset_after_set || d->content_length_set;
}

bool delivery_breaks_framing(const struct delivery *d)
{
    return d->close_after_set || d->reset_after_set || d->content_length_set;
}

int delivery_parse_trickle(const char *s, uint64_t *bytes, uint64_t *ms)
{
    char num[64];
    /* Both halves are required: a pace the user did not write would be a guess. */
    const char *slash = strchr(s, '/');
    if (!slash)
        return -1;
    size_t n = (size_t)(slash - s);
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n);
    num[n] = '\0';
    if (options_parse_size(num, bytes) != 0 || *bytes == 0)
        return -1;
    return options_parse_duration_ms(slash + 1, ms);
}

int delivery_parse_split(const char *s, struct delivery *d, char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(s) >= sizeof buf) {
        snprintf(err, errlen, "piece list too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", s);
    d->split_ms = 0;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (options_parse_duration_ms(slash + 1, &d->split_ms) != 0) {
            snprintf(err, errlen, "'%s' is not a duration", slash + 1);
            return -1;
        }
    }
    d->nsplit = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (options_parse_size(tok, &v) != 0 || v == 0) {
            snprintf(err, errlen, "'%s' is not a piece size (positive bytes)", tok);
            return -1;
        }
        if (d->nsplit >= DELIVERY_SPLIT_MAX) {
            snprintf(err, errlen, "more than %d pieces", DELIVERY_SPLIT_MAX);
            return -1;
        }
        d->split[d->nsplit++] = v;
    }
    if (d->nsplit == 0) {
        snprintf(err, errlen, "no piece sizes");
        return -1;
    }
    return 0;
}

void delivery_state_init(struct delivery_state *st, const struct delivery *d)
{
    memset(st, 0, sizeof *st);
    st->piece_left = d->nsplit ? d->split[0] : 0;
}

void delivery_supply(struct delivery_state *st, uint64_t n, bool is_head)
{
    if (is_head && !st->head_done)
        st->head_len += n;
    else
        st->head_done = true;
    st->supplied += n;
}

void delivery_end(struct delivery_state *st)
{
    st->head_done = true;
    st->ended = true;
}

void delivery_waited(struct delivery_state *st)
{
    st->waiting = false;
    st->wait_ms = 0;
}

static struct delivery_step step(enum delivery_action a, uint64_t len, uint64_t wait_ms)
{
    struct delivery_step s = {(uint8_t)a, len, wait_ms};
    return s;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* A pause owed: returned once, then owed no more when the caller reports it waited. */
static struct delivery_step owe(struct delivery_state *st, uint64_t ms)
{
    st->wait_ms = ms;
    st->waiting = true;
    return step(DELIVERY_WAIT, 0, ms);
}

/* Body-phase limits: close/reset after N body bytes. Returns true with *out set to act. */
static bool body_cut(const struct delivery *d, const struct delivery_state *st, uint64_t *room,
                     struct delivery_step *out)
{
    uint64_t body_sent = st->sent - st->head_len;
    *room = UINT64_MAX;
    if (d->reset_after_set) {
        if (body_sent >= d->reset_after) {
            *out = step(DELIVERY_RESET, 0, 0);
            return true;
        }
        *room = d->reset_after - body_sent;
    }
    if (d->close_after_set) {
        if (body_sent >= d->close_after) {
            *out = step(DELIVERY_CLOSE, 0, 0);
            return true;
        }
        *room = min64(*room, d->close_after - body_sent);
    }
    return false;
}

struct delivery_step delivery_next(const struct delivery *d, struct delivery_state *st)
{
    if (st->waiting)
        return step(DELIVERY_WAIT, 0, st->wait_ms);
    if (!st->started) {
        st->started = true;
        if (d->delay_head_ms)
            return owe(st, d->delay_head_ms);
    }
    bool in_head = !st->head_done || st->sent < st->head_len;
    uint64_t avail = st->supplied - st->sent;
    uint64_t room = UINT64_MAX;
    if (!in_head) {
        if (!st->body_started) {
            st->body_started = true;
            if (d->delay_body_ms && (avail || !st->ended))
                return owe(st, d->delay_body_ms);
        }
        struct delivery_step cut;
        if (body_cut(d, st, &room, &cut))
            return cut;
    } else if (st->head_done) {
        room = st->head_len - st->sent;
    }
    if (avail == 0)
        return step(st->ended && !in_head ? DELIVERY_DONE : DELIVERY_INPUT, 0, 0);
    if (st->wait_ms)
        return owe(st, st->wait_ms);
    uint64_t n = min64(avail, room);
    if (!in_head && d->trickle_bytes)
        n = min64(n, d->trickle_bytes);
    if (st->piece < d->nsplit)
        n = min64(n, st->piece_left);
    return step(DELIVERY_SEND, n, 0);
}

void delivery_sent(const struct delivery *d, struct delivery_state *st, uint64_t n)
{
    bool was_body = st->head_done && st->sent >= st->head_len;
    st->sent += n;
    uint64_t pause = 0;
    if (st->piece < d->nsplit) {
        st->piece_left -= min64(n, st->piece_left);
        if (st->piece_left == 0) {
            st->piece++;
            st->piece_left = st->piece < d->nsplit ? d->split[st->piece] : 0;
            pause = d->split_ms;
        }
    }
    if (was_body && d->trickle_bytes && d->trickle_ms > pause)
        pause = d->trickle_ms;
    /* The pause applies before the next send only; nothing waits after the last byte. */
    st->wait_ms = pause;
}
