/*
 * Fuzzes the conversation engine with a script of operations decoded from the input:
 *   byte 0: bit 0 capture mode, bit 1 mid-stream start;
 *   then records: op byte (low 2 bits: 0 client bytes, 1 server bytes, 2 gap, 3 close; the
 *   rest is a length), followed by that many bytes for 0 and 1.
 * Invariants: feeding never claims more than it was given, every exchange handed out with
 * CONV_BEGIN is released with CONV_END exactly once, and nothing leaks (LeakSanitizer).
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"

enum { MAX_EX = 4096 };

struct tracker {
    struct exchange *live[MAX_EX];
    size_t n, begun, ended;
};

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
        t->live[t->n++] = ex;
        t->begun++;
    } else if (ev == CONV_END) {
        size_t i = 0;
        while (i < t->n && t->live[i] != ex)
            i++;
        CHECK(i < t->n);
        t->live[i] = t->live[--t->n];
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
    struct tracker t = {0};
    struct conversation_config cfg = {
        .limits = {2048, 32, 16, 128},
        .exchange = {2048, 256},
        .conn_id = 1,
        .capture = data[0] & 1,
        .midstream = (data[0] & 2) != 0,
        .hash_bodies = (data[0] & 4) != 0,
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
