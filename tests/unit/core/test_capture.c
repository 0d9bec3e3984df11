/*
 * capture: HTTP recognised by content on any port, with the direction from the handshake or
 * from the content; look-alike protocols ignored; HTTP after a non-HTTP preamble; mid-stream
 * pickup with its warning; snap-length cuts flagged; evicted connections counted; a differing
 * retransmission of bytes whose exchange had ended reported on the next exchange or on a record
 * of its own.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/capture.h"
#include "hspy/dynbuf.h"
#include "pktbuild.h"

struct rig {
    struct store store;
    struct capture cap;
    struct http_limits limits;
    struct exchange_limits exl;
    uint64_t conn_id;
    struct dynbuf log;
    int64_t ts;
};

/* One exchange in the log; a retransmit-differs warning's count of later ones in brackets. */
static void on_complete(void *data, struct exchange *ex)
{
    struct rig *r = data;
    char m[32], t[64];
    const char *more = "";
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        if (ex->warnings[i].code == W_RETRANSMIT_DIFFERS && strstr(ex->warnings[i].detail, "; "))
            more = strstr(ex->warnings[i].detail, "; ") + 2;
    dynbuf_printf(&r->log, "%s %s %d%s%s%s%s%s%s%s;", exchange_method(ex, m, sizeof m),
                  exchange_target(ex, t, sizeof t), exchange_status(ex),
                  exchange_has_warning(ex, W_MIDSTREAM) ? " midstream" : "",
                  exchange_has_warning(ex, W_RETRANSMIT_DIFFERS) ? " differs" : "",
                  *more ? " [" : "", more, *more ? "]" : "",
                  (ex->flags & EX_TRUNCATED) ? " truncated" : "",
                  ex->client.port == 40000 ? "" : " (client port?)");
}

static void rig_init(struct rig *r, uint32_t flows)
{
    memset(r, 0, sizeof *r);
    store_init(&r->store, 0, 1 << 24);
    store_observe(&r->store, &(struct store_observer){r, NULL, NULL, on_complete, NULL});
    dynbuf_init(&r->log, 1 << 16);
    r->limits = (struct http_limits)HTTP_LIMITS_DEFAULT;
    r->exl = (struct exchange_limits){r->limits.head_max, 1 << 16};
    struct capture_config cfg;
    memset(&cfg, 0, sizeof cfg);
    capture_config_defaults(&cfg);
    cfg.linktype = PACKET_LINK_RAW;
    cfg.store = &r->store;
    cfg.limits = &r->limits;
    cfg.ex_limits = &r->exl;
    cfg.next_conn_id = &r->conn_id;
    cfg.flows.flows = flows;
    capture_init(&r->cap, &cfg);
}

/* A segment between client 10.0.0.1:cport and server 10.0.0.2:sport. */
static void seg(struct rig *r, uint16_t cport, uint16_t sport, bool from_server, uint32_t seq,
                uint8_t flags, const char *data, size_t cut)
{
    struct pb_tcp t = {
        "10.0.0.1", "10.0.0.2", cport, sport, seq, 0, flags, data, data ? strlen(data) : 0};
    if (from_server) {
        t.src = "10.0.0.2";
        t.dst = "10.0.0.1";
        t.sport = sport;
        t.dport = cport;
    }
    uint8_t frame[4096];
    size_t n = pb_ip_tcp(frame, &t);
    capture_packet(&r->cap, frame, cut && cut < n ? cut : n, n, r->ts += 1000);
}

static char *rig_finish(struct rig *r)
{
    capture_cleanup(&r->cap, r->ts);
    store_cleanup(&r->store);
    return dynbuf_take(&r->log);
}

enum { S = TCP_SYN, A = TCP_ACK, F = TCP_FIN };
static const char REQ[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* A full connection on an unusual port, handshake included. */
static void test_any_port(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 16);
    seg(&r, 40000, 4711, false, 10, S, NULL, 0);
    seg(&r, 40000, 4711, true, 90, S | A, NULL, 0);
    seg(&r, 40000, 4711, false, 11, A, REQ, 0);
    seg(&r, 40000, 4711, true, 91, A, RESP, 0);
    char *log = rig_finish(&r);
    assert_string_equal(log, "GET /x 200;");
    assert_int_equal(r.cap.counters.connections, 1);
    free(log);
}

/* Mid-stream, the response seen first: the direction comes from the content. */
static void test_midstream_direction(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 16);
    seg(&r, 40000, 8000, true, 500, A, "tail of an earlier body\r\n", 0);
    seg(&r, 40000, 8000, false, 100, A, REQ, 0);
    seg(&r, 40000, 8000, true, 525, A, RESP, 0);
    char *log = rig_finish(&r);
    assert_string_equal(log, "GET /x 200 midstream;");
    free(log);
}

/* SIP looks like HTTP at first sight but its request line says SIP/2.0: ignored. */
static void test_lookalike_ignored(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 16);
    seg(&r, 40000, 5060, false, 10, S, NULL, 0);
    seg(&r, 40000, 5060, false, 11, A, "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", 0);
    seg(&r, 40000, 5060, true, 91, A, "SIP/2.0 200 OK\r\n\r\n", 0);
    char *log = rig_finish(&r);
    assert_string_equal(log, "");
    assert_int_equal(r.cap.counters.connections, 0);
    free(log);
}

/* A SOCKS-like binary preamble, then HTTP on the same connection. */
static void test_preamble(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 16);
    seg(&r, 40000, 1080, false, 10, S, NULL, 0);
    seg(&r, 40000, 1080, true, 90, S | A, NULL, 0);
    seg(&r, 40000, 1080, false, 11, A, "\x05\x01", 0);
    seg(&r, 40000, 1080, true, 91, A, "\x05", 0);
    seg(&r, 40000, 1080, false, 13, A, REQ, 0);
    seg(&r, 40000, 1080, true, 92, A, RESP, 0);
    char *log = rig_finish(&r);
    assert_string_equal(log, "GET /x 200;");
    free(log);
}

/* A response cut by the snap length: the exchange says truncated. */
static void test_snaplen(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 16);
    seg(&r, 40000, 80, false, 10, S, NULL, 0);
    seg(&r, 40000, 80, true, 90, S | A, NULL, 0);
    seg(&r, 40000, 80, false, 11, A, REQ, 0);
    seg(&r, 40000, 80, true, 91, A, RESP, 20 + 20 + 38); /* the head survives, the body not */
    char *log = rig_finish(&r);
    assert_string_equal(log, "GET /x 200 truncated;");
    assert_int_equal(r.cap.counters.snaplen, 1);
    free(log);
}

/*
 * The segment that completed a response comes again with other bytes after its exchange ended
 * (and was handed to the store): the next exchange of the connection carries the warning, or,
 * when none follows, a record of its own at the connection's end. Further late copies that
 * differ while the first waits are counted in its detail; a copy with the same bytes is nothing.
 */
static void test_late_differs(void **state)
{
    (void)state;
    static const char OTHER[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\noK";
    static const char THIRD[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOk";
    static const struct {
        const char *after_first[4], *after_last[4]; /* copies of each exchange's response */
        const char *log;
        uint64_t differs;
    } cases[] = {
        {{OTHER}, {OTHER}, "GET /x 200;GET /x 200 differs;  0 differs;", 2},
        {{OTHER, THIRD, OTHER, RESP},
         {OTHER, THIRD},
         "GET /x 200;GET /x 200 differs [2 more retransmissions did so];"
         "  0 differs [1 more retransmission did so];",
         5},
    };
    uint32_t q = (uint32_t)strlen(REQ), p = (uint32_t)strlen(RESP);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rig r;
        rig_init(&r, 16);
        seg(&r, 40000, 80, false, 10, S, NULL, 0);
        seg(&r, 40000, 80, true, 90, S | A, NULL, 0);
        seg(&r, 40000, 80, false, 11, A, REQ, 0);
        seg(&r, 40000, 80, true, 91, A, RESP, 0);
        for (size_t k = 0; k < 4 && cases[i].after_first[k]; k++) /* #1 has ended */
            seg(&r, 40000, 80, true, 91, A, cases[i].after_first[k], 0);
        seg(&r, 40000, 80, false, 11 + q, A, REQ, 0);
        seg(&r, 40000, 80, true, 91 + p, A, RESP, 0);
        for (size_t k = 0; k < 4 && cases[i].after_last[k]; k++) /* the last has ended */
            seg(&r, 40000, 80, true, 91 + p, A, cases[i].after_last[k], 0);
        char *log = rig_finish(&r);
        assert_string_equal(log, cases[i].log);
        assert_int_equal(r.cap.flows.counters.differs, cases[i].differs);
        free(log);
    }
}

/* A full table evicts the least recently active connection and counts it. */
static void test_eviction(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, 2);
    seg(&r, 40000, 80, false, 10, S, NULL, 0);
    seg(&r, 40000, 80, false, 11, A, REQ, 0); /* in flight */
    seg(&r, 40000, 81, false, 10, S, NULL, 0);
    seg(&r, 40000, 82, false, 10, S, NULL, 0); /* evicts the first */
    assert_int_equal(r.cap.flows.counters.evicted, 1);
    char *log = rig_finish(&r);
    assert_string_equal(log, "GET /x 0;"); /* ended, incomplete, but shown */
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_port),          cmocka_unit_test(test_midstream_direction),
        cmocka_unit_test(test_lookalike_ignored), cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_snaplen),           cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_late_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
