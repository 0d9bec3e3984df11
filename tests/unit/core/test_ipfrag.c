/*
 * ipfrag: datagrams rebuilt from fragments in any order, duplicates and overlaps (first copy
 * wins), the datagram and byte caps, the timeout, snap-length cuts, and impossible fragments.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/ipfrag.h"
#include "hspy/packet.h"
#include "pktbuild.h"

/* Room for fragments at any offset an IPv4 header can give (the oversize case too). */
static uint8_t DATA[65536 + 64];

static struct packet frag(uint32_t id, uint32_t off, uint32_t len, bool more)
{
    struct packet p;
    memset(&p, 0, sizeof p);
    p.src.family = p.dst.family = 4;
    inet_pton(AF_INET, "10.0.0.1", p.src.addr);
    inet_pton(AF_INET, "10.0.0.2", p.dst.addr);
    p.proto = 6;
    p.frag_id = id;
    p.frag_off = off;
    p.frag_more = more;
    p.frag = DATA + off;
    p.frag_len = p.frag_wire = len;
    return p;
}

/* Feeds fragments "off+len[m]" in the order given; returns 1 when the last one completed. */
static int feed(struct ipfrag *f, const char *order, size_t *caplen)
{
    const uint8_t *out = NULL;
    size_t wire = 0;
    int done = 0;
    char *copy = strdup(order), *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        unsigned off, len;
        char more = 0;
        sscanf(tok, "%u+%u%c", &off, &len, &more);
        struct packet p = frag(1, off, len, more == 'm');
        assert_int_equal(done, 0);
        done = ipfrag_add(f, &p, 0, &out, caplen, &wire);
    }
    free(copy);
    if (done) {
        assert_int_equal(wire, 40);
        assert_memory_equal(out, DATA, *caplen);
    }
    return done;
}

static void test_orders(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof DATA; i++)
        DATA[i] = (uint8_t)(i * 7 + 1);
    static const char *const ORDERS[] = {
        "0+16m 16+16m 32+8",       "32+8 16+16m 0+16m", "16+16m 32+8 0+16m",
        "0+16m 0+16m 16+16m 32+8", "0+24m 16+16m 32+8", "0+8m 8+8m 16+8m 24+8m 32+8",
    };
    for (size_t i = 0; i < sizeof ORDERS / sizeof ORDERS[0]; i++) {
        struct ipfrag f;
        ipfrag_init(&f, NULL);
        size_t caplen = 0;
        if (feed(&f, ORDERS[i], &caplen) != 1)
            fail_msg("order \"%s\" did not complete", ORDERS[i]);
        assert_int_equal(caplen, 40);
        assert_int_equal(f.count, 0);
        ipfrag_cleanup(&f);
    }
    struct ipfrag f;
    ipfrag_init(&f, NULL);
    size_t caplen;
    assert_int_equal(feed(&f, "0+16m 32+8", &caplen), 0); /* hole */
    assert_int_equal(f.count, 1);
    ipfrag_cleanup(&f);
}

static void test_caps_and_timeout(void **state)
{
    (void)state;
    struct ipfrag_limits lim = {2, 1 << 20, 1000};
    struct ipfrag f;
    ipfrag_init(&f, &lim);
    const uint8_t *out;
    size_t cap, wire;
    for (uint32_t id = 1; id <= 3; id++) {
        struct packet p = frag(id, 0, 16, true);
        assert_int_equal(ipfrag_add(&f, &p, 0, &out, &cap, &wire), 0);
    }
    assert_int_equal(f.count, 2);
    assert_int_equal(f.counters.dropped, 1);
    struct packet late = frag(9, 0, 16, true);
    assert_int_equal(ipfrag_add(&f, &late, 5000, &out, &cap, &wire), 0);
    assert_int_equal(f.counters.expired, 2);
    assert_int_equal(f.count, 1);
    /* A middle fragment whose length is not a multiple of 8 is impossible. */
    struct packet odd = frag(10, 0, 13, true);
    assert_int_equal(ipfrag_add(&f, &odd, 5000, &out, &cap, &wire), 0);
    assert_int_equal(f.counters.dropped, 2);
    /* A datagram beyond 64 KiB is impossible too. */
    struct packet big = frag(11, 65528, 16, false);
    big.frag = DATA;
    assert_int_equal(ipfrag_add(&f, &big, 5000, &out, &cap, &wire), 0);
    ipfrag_cleanup(&f);
}

static void test_snaplen(void **state)
{
    (void)state;
    struct ipfrag f;
    ipfrag_init(&f, NULL);
    const uint8_t *out;
    size_t cap, wire;
    struct packet a = frag(1, 0, 16, true);
    struct packet b = frag(1, 16, 24, false);
    b.frag_len = 10; /* cut by the snap length */
    assert_int_equal(ipfrag_add(&f, &a, 0, &out, &cap, &wire), 0);
    assert_int_equal(ipfrag_add(&f, &b, 0, &out, &cap, &wire), 1);
    assert_int_equal(wire, 40);
    assert_int_equal(cap, 26);
    ipfrag_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_caps_and_timeout),
        cmocka_unit_test(test_snaplen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
