/*
 * pcapng: exchanges written as synthesized packets and read back through hspy's own capture
 * pipeline must give the same bytes on both sides (keep-alive connections on one stream, IPv6,
 * interim responses, tunnels, truncated and gapped messages). The blocks are checked as a pcapng
 * reader sees them: lengths, byte-order magic, link type, nanosecond resolution; every packet's
 * IP and TCP checksums; sequence numbers that continue across segments and exchanges.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/capture.h"
#include "hspy/pcapng.h"

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* Calls fn for every enhanced packet block; checks every block's framing on the way. */
static size_t
walk(const uint8_t *b, size_t n,
     void (*fn)(void *arg, const uint8_t *pkt, uint32_t cap, uint32_t len, int64_t ts), void *arg)
{
    size_t off = 0, packets = 0;
    while (off < n) {
        assert_true(off + 12 <= n);
        uint32_t type = rd32(b + off), total = rd32(b + off + 4);
        assert_int_equal(total % 4, 0);
        assert_true(total >= 12 && off + total <= n);
        assert_int_equal(rd32(b + off + total - 4), total);
        if (type == 0x0A0D0D0A) {
            assert_int_equal(rd32(b + off + 8), 0x1A2B3C4D);
        } else if (type == 1) {
            assert_int_equal(b[off + 8] | b[off + 9] << 8, PCAPNG_LINKTYPE);
        } else {
            assert_int_equal(type, 6);
            uint32_t cap = rd32(b + off + 20), len = rd32(b + off + 24);
            int64_t ts = (int64_t)((uint64_t)rd32(b + off + 12) << 32 | rd32(b + off + 16));
            assert_true(cap <= len && 28 + cap <= total);
            if (fn)
                fn(arg, b + off + 28, cap, len, ts);
            packets++;
        }
        off += total;
    }
    return packets;
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t folded(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)s;
}

/* Every whole packet has valid checksums; returns the TCP header for sequence checks. */
static void check_packet(void *arg, const uint8_t *p, uint32_t cap, uint32_t len, int64_t ts)
{
    (void)arg, (void)ts;
    size_t ip = (p[0] >> 4) == 6 ? 40 : 20;
    size_t alen = ip == 40 ? 16 : 4;
    if (ip == 20)
        assert_int_equal(folded(sum(0, p, 20)), 0xFFFF);
    if (cap < len)
        return;
    uint32_t s = sum(0, p + (ip == 40 ? 8 : 12), 2 * alen);
    s += 6 + (uint32_t)(cap - ip);
    assert_int_equal(folded(sum(s, p + ip, cap - ip)), 0xFFFF);
}

struct seqcheck {
    uint32_t next[2];
    bool seen[2];
    uint16_t client_port;
};

/* Data segments of each direction start where the previous one ended. */
static void check_seq(void *arg, const uint8_t *p, uint32_t cap, uint32_t len, int64_t ts)
{
    struct seqcheck *c = arg;
    (void)ts;
    size_t ip = (p[0] >> 4) == 6 ? 40 : 20;
    const uint8_t *t = p + ip;
    int dir = be16(t) == c->client_port ? 0 : 1;
    uint32_t seq = be32(t + 4), payload = len - (uint32_t)ip - 20;
    (void)cap;
    if (c->seen[dir])
        assert_int_equal(seq, c->next[dir]);
    c->seen[dir] = true;
    c->next[dir] = seq + payload + ((t[13] & 0x03) ? 1 : 0);
}

/* Reads blocks back through the capture pipeline into st. */
static void feed(void *arg, const uint8_t *p, uint32_t cap, uint32_t len, int64_t ts)
{
    capture_packet(arg, p, cap, len, ts);
}

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct exchange_limits EXL = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};

static void read_back(const struct dynbuf *b, struct store *st)
{
    uint64_t conn = 0;
    struct capture_config cfg;
    memset(&cfg, 0, sizeof cfg);
    capture_config_defaults(&cfg);
    cfg.linktype = PCAPNG_LINKTYPE;
    cfg.store = st;
    cfg.limits = &LIMITS;
    cfg.ex_limits = &EXL;
    cfg.next_conn_id = &conn;
    struct capture cap;
    capture_init(&cap, &cfg);
    walk(b->data, b->len, feed, &cap);
    capture_cleanup(&cap, 0);
}

static struct exchange *make(const char *req, const char *resp, uint64_t conn, int family)
{
    struct exchange *ex = tu_exchange_text(req, resp, 1700000000000000000);
    ex->conn_id = conn;
    if (family == 4) {
        endpoint_set(&ex->client, "10.0.0.1", (uint16_t)(40000 + conn));
        endpoint_set(&ex->server, "10.0.0.2", 80);
    } else if (family == 6) {
        endpoint_set(&ex->client, "2001:db8::1", (uint16_t)(40000 + conn));
        endpoint_set(&ex->server, "2001:db8::2", 8080);
    }
    return ex;
}

static void assert_same_bytes(const struct message *a, const struct message *b)
{
    assert_int_equal(a->raw.len, b->raw.len);
    assert_memory_equal(a->raw.data, b->raw.data, a->raw.len);
}

/* Writes the exchanges, reads them back, compares both sides of each (in order). */
static void round_trip(struct exchange **ex, size_t n, size_t expect_conns)
{
    struct pcapng png;
    pcapng_init(&png, 0);
    struct dynbuf out;
    dynbuf_init(&out, 64 << 20);
    assert_int_equal(pcapng_header(&out, "hspy test"), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pcapng_exchange(&png, &out, ex[i]), 0);
    assert_int_equal(pcapng_finish(&png, &out, 0), 0);
    assert_int_equal(png.counters.connections, expect_conns);
    walk(out.data, out.len, check_packet, NULL);

    struct store st;
    store_init(&st, 1000, (size_t)1 << 30);
    read_back(&out, &st);
    assert_int_equal(st.counters.added, n);
    for (size_t i = 0; i < n; i++) {
        const struct exchange *got = store_get(&st, store_first_id(&st) + i);
        assert_non_null(got);
        assert_same_bytes(&ex[i]->req, &got->req);
        assert_same_bytes(&ex[i]->resp, &got->resp);
        assert_int_equal(got->t[T_REQ_FIRST], ex[i]->t[T_REQ_FIRST]);
        assert_int_equal(got->t[T_RESP_FIRST], ex[i]->t[T_RESP_FIRST]);
        if (ex[i]->client.family)
            assert_true(endpoint_equal(&got->client, &ex[i]->client));
    }
    assert_int_equal(st.counters.added, st.counters.completed);
    store_cleanup(&st);
    dynbuf_cleanup(&out);
    pcapng_cleanup(&png);
}

static bool contains(const uint8_t *p, size_t n, const char *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return true;
    return false;
}

static void test_header(void **state)
{
    (void)state;
    struct dynbuf out;
    dynbuf_init(&out, 4096);
    assert_int_equal(pcapng_header(&out, "hspy 1.2.3"), 0);
    assert_int_equal(walk(out.data, out.len, NULL, NULL), 0);
    /* The interface's if_tsresol option says nanoseconds. */
    assert_true(contains(out.data, out.len, "\x09\x00\x01\x00\x09", 5));
    assert_true(contains(out.data, out.len, "hspy 1.2.3", 10));
    dynbuf_cleanup(&out);
    struct dynbuf small;
    dynbuf_init(&small, 16);
    assert_int_equal(pcapng_header(&small, "hspy"), -1);
    assert_int_equal(small.len, 0);
    dynbuf_cleanup(&small);
}

static void test_simple_and_post(void **state)
{
    (void)state;
    struct exchange *ex[] = {
        make("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1, 4),
        make("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
             "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n", 2,
             4),
    };
    round_trip(ex, 2, 2);
    exchange_free(ex[0]);
    exchange_free(ex[1]);
}

static void test_keepalive_one_stream(void **state)
{
    (void)state;
    struct exchange *ex[3];
    for (int i = 0; i < 3; i++)
        ex[i] = make("GET /k HTTP/1.1\r\nHost: a\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 7, 6);
    /* One connection, one handshake; the stream's numbers run on across the exchanges. */
    round_trip(ex, 3, 1);
    struct pcapng png;
    pcapng_init(&png, 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    for (int i = 0; i < 3; i++)
        pcapng_exchange(&png, &out, ex[i]);
    pcapng_finish(&png, &out, 0);
    struct seqcheck sc = {.client_port = ex[0]->client.port};
    /* Handshake, then per exchange the request and the response head and body (seen apart),
     * then the FINs. */
    assert_int_equal(walk(out.data, out.len, check_seq, &sc), 3 + 3 * 3 + 3);
    dynbuf_cleanup(&out);
    pcapng_cleanup(&png);
    for (int i = 0; i < 3; i++)
        exchange_free(ex[i]);
}

static void test_large_body_segments(void **state)
{
    (void)state;
    enum { N = 10000 };
    char *resp = malloc(N + 100);
    int k = snprintf(resp, 100, "HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n", N);
    memset(resp + k, 'x', N);
    resp[k + N] = '\0';
    struct exchange *ex = make("GET /big HTTP/1.1\r\nHost: a\r\n\r\n", resp, 3, 4);
    round_trip(&ex, 1, 1);
    exchange_free(ex);
    free(resp);
}

static void test_interim_and_synthetic_endpoints(void **state)
{
    (void)state;
    /* No endpoints: synthesized from the Host header. Expect: 100-continue goes back and forth. */
    struct exchange *ex =
        make("PUT /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nExpect: 100-continue\r\n"
             "Content-Length: 4\r\n\r\nbody",
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 5, 0);
    round_trip(&ex, 1, 1);
    exchange_free(ex);
}

static void test_truncated_is_cut(void **state)
{
    (void)state;
    struct exchange *ex = make("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nabc", 9, 4);
    /* 4997 body bytes counted but not kept: they go out as packets cut to their headers. */
    ex->resp.wire_bytes += 4997;
    ex->resp.flags |= MSG_TRUNCATED;
    struct pcapng png;
    pcapng_init(&png, 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(pcapng_exchange(&png, &out, ex), 0);
    assert_int_equal(png.counters.missing, 4997);
    struct store st;
    store_init(&st, 1000, (size_t)1 << 30);
    read_back(&out, &st);
    const struct exchange *got = store_get(&st, store_first_id(&st));
    assert_non_null(got);
    assert_int_equal(got->resp.wire_bytes, ex->resp.wire_bytes);
    assert_true(got->flags & (EX_TRUNCATED | EX_GAP));
    assert_int_equal(got->resp.body_size, 5000);
    store_cleanup(&st);
    dynbuf_cleanup(&out);
    pcapng_cleanup(&png);
    exchange_free(ex);
}

/* An exchange claiming near 2^63 bytes counted but not kept (a damaged HAR record, say): the
 * export stops once its output is full and fails, in bounded time (SIGALRM ends a loop that
 * would try to stand for every byte). */
static void test_absurd_size_fails_fast(void **state)
{
    (void)state;
    struct exchange *ex = make("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nabc", 9, 4);
    ex->resp.wire_bytes = (uint64_t)1 << 63;
    ex->resp.flags |= MSG_TRUNCATED;
    struct pcapng png;
    pcapng_init(&png, 0);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    alarm(20);
    assert_int_equal(pcapng_exchange(&png, &out, ex), -1);
    alarm(0);
    /* Only the new connection's handshake stays: three packets, no payload. */
    assert_int_equal(walk(out.data, out.len, check_packet, NULL), 3);
    assert_true(out.len < 512);
    dynbuf_cleanup(&out);
    pcapng_cleanup(&png);
    exchange_free(ex);
}

static void test_eviction_and_overflow(void **state)
{
    (void)state;
    struct exchange *a = make("GET /a HTTP/1.1\r\nHost: a\r\n\r\n", NULL, 1, 4);
    struct exchange *b = make("GET /b HTTP/1.1\r\nHost: a\r\n\r\n", NULL, 2, 4);
    struct pcapng png;
    pcapng_init(&png, 1);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    pcapng_exchange(&png, &out, a);
    pcapng_exchange(&png, &out, b); /* a's connection makes room: closed with FINs */
    assert_int_equal(png.counters.evicted, 1);
    assert_int_equal(png.counters.connections, 2);
    size_t before = out.len;
    struct dynbuf tiny;
    dynbuf_init(&tiny, 100);
    assert_int_equal(pcapng_exchange(&png, &tiny, a), -1);
    assert_int_equal(tiny.len, 0);
    assert_int_equal(out.len, before);
    dynbuf_cleanup(&tiny);
    dynbuf_cleanup(&out);
    pcapng_cleanup(&png);
    exchange_free(a);
    exchange_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_simple_and_post),
        cmocka_unit_test(test_keepalive_one_stream),
        cmocka_unit_test(test_large_body_segments),
        cmocka_unit_test(test_interim_and_synthetic_endpoints),
        cmocka_unit_test(test_truncated_is_cut),
        cmocka_unit_test(test_absurd_size_fails_fast),
        cmocka_unit_test(test_eviction_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
