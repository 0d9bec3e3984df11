/*
 * flowtable: client direction from the handshake, both directions reassembled, FIN and RST,
 * port reuse after close and with a new initial sequence number, least-recently-active eviction
 * (counted), the idle timeout, and ignored connections.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/dynbuf.h"
#include "hspy/flowtable.h"
#include "pktbuild.h"

struct log {
    struct dynbuf b;
    int ended[8];
};

static void on_data(void *d, struct flow *f, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    struct log *l = d;
    dynbuf_printf(&l->b, "%llu.%d:", (unsigned long long)f->id, dir);
    dynbuf_append(&l->b, p, n);
    dynbuf_adds(&l->b, " ");
}
static void on_gap(void *d, struct flow *f, int dir, uint64_t n, bool snap, int64_t ts)
{
    dynbuf_printf(&((struct log *)d)->b, "%llu.%d:gap%llu ", (unsigned long long)f->id, dir,
                  (unsigned long long)n);
}
static void on_close(void *d, struct flow *f, int dir, int64_t ts)
{
    dynbuf_printf(&((struct log *)d)->b, "%llu.%d:close ", (unsigned long long)f->id, dir);
}
static void on_end(void *d, struct flow *f, enum flow_end why, int64_t ts)
{
    struct log *l = d;
    l->ended[why]++;
    dynbuf_printf(&l->b, "%llu:end%d ", (unsigned long long)f->id, (int)why);
}

static struct flowtable *table;
static struct log logbuf;

static void setup_table(uint32_t flows, int64_t idle)
{
    static struct flowtable t;
    struct flowtable_limits lim = {
        flows,
        idle,
        {1 << 20, 256, TCPSTREAM_REORDER_DEFAULT, TCPSTREAM_REORDER_NS_DEFAULT},
        1 << 20};
    memset(&logbuf, 0, sizeof logbuf);
    dynbuf_init(&logbuf.b, 1 << 16);
    struct flowtable_events ev = {&logbuf, on_data, on_gap, NULL, on_close, on_end};
    flowtable_init(&t, &lim, &ev);
    table = &t;
}

/* Sends a segment from client port cport (to server port 80) or back (reverse). */
static struct flow *send_seg(uint16_t cport, bool reverse, uint32_t seq, uint32_t ack,
                             uint8_t flags, const char *data, int64_t ts)
{
    struct pb_tcp t = {
        "10.0.0.1", "10.0.0.2", cport, 80, seq, ack, flags, data, data ? strlen(data) : 0};
    if (reverse) {
        t.src = "10.0.0.2";
        t.dst = "10.0.0.1";
        t.sport = 80;
        t.dport = cport;
    }
    uint8_t frame[2048];
    size_t n = pb_ip_tcp(frame, &t);
    struct packet p;
    assert_int_equal(packet_decode(&p, PACKET_LINK_RAW, frame, n, n), PACKET_TCP);
    return flowtable_packet(table, &p, ts);
}

static char *finish(void)
{
    flowtable_cleanup(table, 0);
    return dynbuf_take(&logbuf.b);
}

enum { S = TCP_SYN, A = TCP_ACK, F = TCP_FIN, R = TCP_RST, P = TCP_PSH };

static void test_handshake_and_close(void **state)
{
    (void)state;
    setup_table(16, 0);
    /* The first packet seen is the SYN-ACK: the client is still known. */
    struct flow *f = send_seg(1000, true, 500, 101, S | A, NULL, 1);
    assert_int_equal(f->client, 1);
    send_seg(1000, false, 100, 501, S, NULL, 2); /* the SYN, late */
    send_seg(1000, false, 101, 501, A | P, "req", 3);
    send_seg(1000, true, 501, 104, A | P, "resp", 4);
    send_seg(1000, false, 104, 505, F | A, NULL, 5);
    send_seg(1000, true, 505, 105, F | A, NULL, 6);
    send_seg(1000, false, 105, 506, A, NULL, 7); /* last ACK: no new connection */
    assert_int_equal(table->counters.flows, 1);
    char *log = finish();
    assert_string_equal(log, "1.1:req 1.0:resp 1.1:close 1.0:close 1:end0 ");
    free(log);
}

static void test_port_reuse(void **state)
{
    (void)state;
    setup_table(16, 0);
    send_seg(2000, false, 10, 0, S, NULL, 1);
    send_seg(2000, false, 11, 0, A, "a", 2);
    send_seg(2000, false, 12, 0, R, NULL, 3);
    send_seg(2000, false, 900, 0, S, NULL, 4); /* same ports after the reset: new connection */
    send_seg(2000, false, 901, 0, A, "b", 5);
    send_seg(2000, false, 5000, 0, S, NULL, 6); /* new ISN while open: new connection too */
    send_seg(2000, false, 5001, 0, A, "c", 7);
    send_seg(2000, false, 5000, 0, S, NULL, 8); /* retransmitted SYN: same connection */
    assert_int_equal(table->counters.flows, 3);
    assert_int_equal(table->counters.reused, 1);
    char *log = finish();
    assert_string_equal(log, "1.0:a 1.-1:close 1:end0 2.0:b 2:end1 3.0:c 3:end4 ");
    free(log);
}

static void test_eviction_lru(void **state)
{
    (void)state;
    setup_table(2, 0);
    send_seg(1, false, 0, 0, S, NULL, 1);
    send_seg(2, false, 0, 0, S, NULL, 2);
    send_seg(1, false, 1, 0, A, "x", 3);  /* 1 is now the most recently active */
    send_seg(3, false, 0, 0, S, NULL, 4); /* evicts 2 */
    assert_int_equal(table->counters.evicted, 1);
    assert_int_equal(logbuf.ended[FLOW_END_EVICTED], 1);
    char *log = finish();
    assert_string_equal(log, "1.0:x 2:end2 1:end4 3:end4 ");
    free(log);
}

static void test_idle_and_gap(void **state)
{
    (void)state;
    setup_table(16, 100);
    send_seg(7, false, 0, 0, S, NULL, 1);
    send_seg(7, false, 1, 0, A, "ab", 2);
    send_seg(7, false, 6, 0, A, "fg", 3);   /* 3 bytes missing */
    send_seg(8, false, 0, 0, S, NULL, 500); /* flow 7 idle for longer than 100 */
    assert_int_equal(table->counters.idle, 1);
    char *log = finish();
    assert_string_equal(log, "1.0:ab 1.0:gap3 1.0:fg 1:end3 2:end4 ");
    free(log);
}

static void test_ignore(void **state)
{
    (void)state;
    setup_table(16, 0);
    struct flow *f = send_seg(9, false, 0, 0, S, NULL, 1);
    send_seg(9, false, 5, 0, A, "later", 2); /* buffered out of order */
    flowtable_ignore(table, f);
    assert_int_equal(table->budget.held, 0);
    send_seg(9, false, 1, 0, A, "abcd", 3);
    char *log = finish();
    assert_string_equal(log, "1:end4 ");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_close),
        cmocka_unit_test(test_port_reuse),
        cmocka_unit_test(test_eviction_lru),
        cmocka_unit_test(test_idle_and_gap),
        cmocka_unit_test(test_ignore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
