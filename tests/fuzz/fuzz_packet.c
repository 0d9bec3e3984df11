/*
 * Fuzzes the capture path: frames of a link type chosen by the first byte, each prefixed with
 * a 2-byte length, go through packet decoding, fragment reassembly, TCP reassembly, HTTP
 * recognition and the conversations into a store that frees exchanges as they complete.
 * Small caps make eviction, window overflow, budget and reorder allowance paths reachable.
 * Invariants: no crash, no leak, no sanitizer report; counters add up.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hspy/capture.h"
#include "hspy/packet.h"
#include "hspy/store.h"

static const int LINKS[] = {
    PACKET_LINK_ETHERNET,  PACKET_LINK_RAW,        PACKET_LINK_NULL,  PACKET_LINK_LOOP,
    PACKET_LINK_LINUX_SLL, PACKET_LINK_LINUX_SLL2, PACKET_LINK_NFLOG, PACKET_LINK_IPV6,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct store store;
    store_init(&store, 0, (size_t)1 << 24);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct exchange_limits exl = {limits.head_max, 4096};
    uint64_t conn_id = 0;
    struct capture_config cfg;
    memset(&cfg, 0, sizeof cfg);
    capture_config_defaults(&cfg);
    cfg.linktype = LINKS[data[0] % (sizeof LINKS / sizeof LINKS[0])];
    cfg.store = &store;
    cfg.limits = &limits;
    cfg.ex_limits = &exl;
    cfg.next_conn_id = &conn_id;
    cfg.flows.flows = 4;
    cfg.flows.stream.window = 2048;
    cfg.flows.stream.reorder = 1024;
    cfg.flows.stream.reorder_ns = 5000; /* five frames */
    cfg.flows.budget = 4096;
    cfg.frags.datagrams = 2;
    cfg.frags.bytes = 8192;
    struct capture cap;
    capture_init(&cap, &cfg);
    size_t pos = 1;
    int64_t ts = 1000;
    while (pos + 2 <= size) {
        size_t len = (size_t)(data[pos] & 0x7f) << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        /* The top bit of the length marks a frame cut by the snap length. */
        size_t wire = len + (data[pos - 2] & 0x80 ? 100 : 0);
        capture_packet(&cap, data + pos, len, wire, ts);
        ts += 1000;
        pos += len;
    }
    capture_cleanup(&cap, ts);
    assert(cap.counters.tcp + cap.counters.other + cap.counters.malformed <= cap.counters.packets);
    assert(store.counters.added == store.counters.completed);
    store_cleanup(&store);
    return 0;
}
