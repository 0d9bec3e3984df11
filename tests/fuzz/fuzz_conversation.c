/*
 * Fuzzes the conversation engine with a script of operations decoded from the input:
 *   byte 0: bit 0 capture mode, bit 1 mid-stream start, bit 2 hashing, bit 3 a body tap;
 *   then records: op byte (low 2 bits: 0 client bytes, 1 server bytes, 2 gap, 3 close; the
 *   rest is a length), followed by that many bytes for 0 and 1.
 * Invariants: feeding never claims more than it was given, every exchange handed out with
 * CONV_BEGIN is released with CONV_END exactly once, and nothing leaks (LeakSanitizer). With
 * the body tap (bodytap.h): pieces of one message come in order without overlapping, each at
 * the offset the message's body_size gives, none after its side ended, and the tap hears the
 * end of both sides of every exchange exactly once, before CONV_END.
 */
#include "fuzzcheck.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"

enum { MAX_EX = 4096 };

struct tracker {
    struct exchange *live[MAX_EX];
    uint64_t next_off[MAX_EX][2]; /* the tap: where the next piece of each side may start */
    bool tap_ended[MAX_EX][2];    /* the tap: each side's end heard */
    bool tapped;
    size_t n, begun, ended;
};

static size_t slot_of(const struct tracker *t, const struct exchange *ex)
{
    size_t i = 0;
    while (i < t->n && t->live[i] != ex)
        i++;
    CHECK(i < t->n);
    return i;
}

static void on_piece(void *data, const struct exchange *ex, enum side s, uint64_t off,
                     const uint8_t *p, size_t n)
{
    struct tracker *t = data;
    size_t i = slot_of(t, ex);
    const struct message *m = s == SIDE_CLIENT ? &ex->req : &ex->resp;
    CHECK(!t->tap_ended[i][s]);
    CHECK(off >= t->next_off[i][s]);
    CHECK(off + n == m->body_size);
    CHECK(p != NULL || n == 0);
    t->next_off[i][s] = off + n;
}

static void on_tap_end(void *data, const struct exchange *ex, enum side s)
{
    struct tracker *t = data;
    size_t i = slot_of(t, ex);
    CHECK(!t->tap_ended[i][s]);
    t->tap_ended[i][s] = true;
}

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t len)
{
    (void)c;
    (void)side;
    (void)p;
    (void)len;
    struct tracker *t = data;
    if (ev == CONV_BEGIN) {
        CHECK(t->n < MAX_EX);
        memset(t->next_off[t->n], 0, sizeof t->next_off[t->n]);
        memset(t->tap_ended[t->n], 0, sizeof t->tap_ended[t->n]);
        t->live[t->n++] = ex;
        t->begun++;
    } else if (ev == CONV_END) {
        size_t i = slot_of(t, ex);
        CHECK(!t->tapped || (t->tap_ended[i][SIDE_CLIENT] && t->tap_ended[i][SIDE_SERVER]));
        t->n--;
        t->live[i] = t->live[t->n];
        memcpy(t->next_off[i], t->next_off[t->n], sizeof t->next_off[i]);
        memcpy(t->tap_ended[i], t->tap_ended[t->n], sizeof t->tap_ended[i]);
        t->ended++;
        CHECK(ex->req.raw.len <= ex->req.raw.max && ex->resp.raw.len <= ex->resp.raw.max);
        exchange_free(ex);
    }
    return CONV_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static struct tracker t;
    memset(&t, 0, sizeof t);
    t.tapped = (data[0] & 8) != 0;
    struct bodytap tap = {&t, on_piece, on_tap_end};
    struct conversation_config cfg = {
        .limits = {2048, 32, 16, 128},
        .exchange = {2048, 256},
        .conn_id = 1,
        .capture = data[0] & 1,
        .midstream = (data[0] & 2) != 0,
        .hash_bodies = (data[0] & 4) != 0,
        .tap = t.tapped ? &tap : NULL,
    };
    struct conversation_events ev = {&t, on_event};
    struct conversation *c = conversation_new(&cfg, &ev);
    size_t i = 1;
    int64_t ts = 1;
    while (i < size && t.begun < MAX_EX / 2) {
        uint8_t op = data[i++];
        size_t len = op >> 2;
        ts++;
        switch (op & 3) {
        case 0:
        case 1: {
            if (len > size - i)
                len = size - i;
            enum side s = (op & 3) ? SIDE_SERVER : SIDE_CLIENT;
            size_t used = conversation_feed(c, s, data + i, len, ts);
            CHECK(used <= len);
            i += len;
            break;
        }
        case 2: conversation_gap(c, (op & 4) ? SIDE_SERVER : SIDE_CLIENT, len, ts); break;
        case 3: conversation_close(c, (op & 4) ? SIDE_SERVER : SIDE_CLIENT, ts); break;
        }
    }
    conversation_free(c);
    CHECK(t.n == 0 && t.begun == t.ended);
    return 0;
}
