/*
 * pcapframe: capture streams built here (classic pcap in both byte orders and the modified
 * format, pcapng with sections of both orders and blocks of every kind libpcap skips) are fed
 * in pieces of every size and split at every offset; after each piece the framer must report
 * exactly the packets whose bytes, and every byte before them, have arrived. Hostile lengths
 * are refused at the record that announces them, and the project's captures frame to their end.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/pcapframe.h"

enum { STREAM_MAX = 4096, ENDS_MAX = 64 };

/* A stream and what a correct framer says about it. */
struct stream {
    uint8_t b[STREAM_MAX];
    size_t len;
    bool big;              /* written big-endian (else little) */
    size_t ends[ENDS_MAX]; /* offsets just past each packet */
    size_t npackets;
    size_t header_end;
};

static void put32(struct stream *s, uint32_t v)
{
    assert_true(s->len + 4 <= STREAM_MAX);
    for (int i = 0; i < 4; i++)
        s->b[s->len++] = (uint8_t)(s->big ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void put16(struct stream *s, uint16_t v)
{
    s->b[s->len++] = (uint8_t)(s->big ? v >> 8 : v);
    s->b[s->len++] = (uint8_t)(s->big ? v : v >> 8);
}

static void fill(struct stream *s, size_t n, uint8_t byte)
{
    assert_true(s->len + n <= STREAM_MAX);
    memset(s->b + s->len, byte, n);
    s->len += n;
}

/* Classic pcap with records of the given caplens (modified: 24-byte record headers). */
static void classic(struct stream *s, bool big, bool nsec, bool modified, const uint32_t *caplens,
                    size_t n)
{
    memset(s, 0, sizeof *s);
    s->big = big;
    put32(s, modified ? 0xa1b2cd34u : nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    put16(s, 2), put16(s, 4);
    put32(s, 0), put32(s, 0), put32(s, 65535), put32(s, 1);
    s->header_end = s->len;
    for (size_t i = 0; i < n; i++) {
        put32(s, 1700000000u + (uint32_t)i), put32(s, 0), put32(s, caplens[i]),
            put32(s, caplens[i] + 7);
        if (modified)
            put32(s, 1), put32(s, 0x00080000u);
        fill(s, caplens[i], (uint8_t)(0xa1 + i)); /* look like magics, to mislead a rescan */
        s->ends[s->npackets++] = s->len;
    }
}

/* One pcapng block of type with body bytes of content, padded to 4. */
static void block(struct stream *s, uint32_t type, size_t body)
{
    size_t padded = (body + 3) & ~(size_t)3;
    uint32_t total = (uint32_t)(12 + padded);
    put32(s, type), put32(s, total);
    fill(s, padded, 0x0a); /* bytes like a section header's type */
    put32(s, total);
    if (type == 6 || type == 3 || type == 2)
        s->ends[s->npackets++] = s->len;
    if (!s->header_end && (type == 1 || type == 6 || type == 3 || type == 2))
        s->header_end = s->len;
}

static void section(struct stream *s, bool big)
{
    s->big = big;
    put32(s, 0x0a0d0d0au), put32(s, 28), put32(s, 0x1a2b3c4du);
    put16(s, 1), put16(s, 0);
    put32(s, 0xffffffffu), put32(s, 0xffffffffu);
    put32(s, 28);
}

/* Two sections of opposite byte orders with blocks of every kind between the packets. */
static void pcapng(struct stream *s, bool big)
{
    memset(s, 0, sizeof *s);
    section(s, big);
    block(s, 0x00000004u, 17); /* name resolution, before any interface */
    block(s, 0x00000001u, 8);  /* interface description */
    block(s, 0x00000006u, 20 + 60);
    block(s, 0x00000005u, 24); /* interface statistics */
    block(s, 0x00000badu, 30); /* custom */
    block(s, 0x00000006u, 20 + 1);
    block(s, 0x00000003u, 4 + 40); /* simple packet */
    block(s, 0x00000002u, 20 + 3); /* obsolete packet */
    block(s, 0x00000004u, 0);
    section(s, !big);
    block(s, 0x00000001u, 8);
    block(s, 0x00000006u, 20 + 1500);
    block(s, 0x00000005u, 24);
}

/* What must be true of f once avail bytes of s arrived and were all offered. */
static void check_after(const struct stream *s, const struct pcapframe *f, size_t avail,
                        const char *what)
{
    size_t want_packets = 0, want_end = 0;
    for (size_t i = 0; i < s->npackets; i++)
        if (s->ends[i] <= avail)
            want_packets = i + 1, want_end = s->ends[i];
    if (f->packets != want_packets || f->packet_end != want_end)
        fail_msg("%s, %zu bytes in: %llu packets ending at %llu, want %zu at %zu", what, avail,
                 (unsigned long long)f->packets, (unsigned long long)f->packet_end, want_packets,
                 want_end);
    if (f->failed)
        fail_msg("%s, %zu bytes in: failed: %s", what, avail, f->error);
    bool opened = avail >= s->header_end;
    if (pcapframe_opened(f) != opened)
        fail_msg("%s, %zu bytes in: opened %d", what, avail, !opened);
    /* A reader that took every packet before the last whole one finds it ready; one that took
     * that one too does not. */
    if (want_packets)
        assert_true(pcapframe_ready(f, want_packets - 1));
    assert_false(pcapframe_ready(f, want_packets));
}

/* Feeds s in pieces cut at cuts (ascending, the last being s->len), as a pump would: every call
 * gets the bytes from f->scanned to what arrived. */
static void feed(const struct stream *s, const size_t *cuts, size_t ncuts, const char *what)
{
    struct pcapframe f;
    pcapframe_init(&f);
    for (size_t i = 0; i < ncuts; i++) {
        size_t avail = cuts[i];
        long k = pcapframe_scan(&f, s->b + f.scanned, avail - f.scanned);
        assert_true(k >= 0);
        assert_true(f.scanned <= avail);
        check_after(s, &f, avail, what);
    }
    assert_int_equal(f.scanned, s->len);
    assert_int_equal(f.packets, s->npackets);
}

/* Every piece size, and every split into two. */
static void feed_all_ways(const struct stream *s, const char *what)
{
    size_t *cuts = malloc((s->len + 1) * sizeof *cuts);
    for (size_t piece = 1; piece <= s->len; piece++) {
        size_t n = 0;
        for (size_t at = piece; at < s->len; at += piece)
            cuts[n++] = at;
        cuts[n++] = s->len;
        feed(s, cuts, n, what);
    }
    for (size_t at = 0; at <= s->len; at++) {
        size_t two[2] = {at, s->len};
        feed(s, two, 2, what);
    }
    free(cuts);
}

static void test_classic(void **state)
{
    (void)state;
    static const uint32_t caplens[] = {60, 0, 1, 1514, 54, 3};
    struct stream s;
    for (int big = 0; big <= 1; big++) {
        for (int kind = 0; kind < 3; kind++) {
            classic(&s, big, kind == 1, kind == 2, caplens, sizeof caplens / sizeof caplens[0]);
            char what[64];
            snprintf(what, sizeof what, "classic %s kind %d", big ? "big" : "little", kind);
            feed_all_ways(&s, what);
        }
    }
    /* Only the file header: opened, nothing ready. */
    classic(&s, false, false, false, NULL, 0);
    feed_all_ways(&s, "header only");
}

static void test_pcapng(void **state)
{
    (void)state;
    struct stream s;
    pcapng(&s, false);
    feed_all_ways(&s, "pcapng little then big");
    pcapng(&s, true);
    feed_all_ways(&s, "pcapng big then little");
    /* A section with no interface yet: libpcap's open waits for one. */
    memset(&s, 0, sizeof s);
    section(&s, false);
    block(&s, 0x00000004u, 40);
    struct pcapframe f;
    pcapframe_init(&f);
    assert_int_equal(pcapframe_scan(&f, s.b, s.len), (long)s.len);
    assert_false(pcapframe_opened(&f));
}

/* A stream that starts like a header, then a record with a hostile length. */
struct hostile_case {
    const char *name;
    const char *in; /* C escapes, as tu_unescape reads them */
    long scanned;   /* where the framer stops */
    bool failed;
};

/* clang-format off */
#define LE_HDR "\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00\\0\\0\\0\\0\\0\\0\\0\\0\\xff\\xff\\0\\0\\x01\\0\\0\\0"
#define BE_HDR "\\xa1\\xb2\\xc3\\xd4\\x00\\x02\\x00\\x04\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\xff\\xff\\0\\0\\0\\x01"
#define NG_LE "\\x0a\\x0d\\x0d\\x0a\\x1c\\0\\0\\0\\x4d\\x3c\\x2b\\x1a\\x01\\0\\0\\0\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x1c\\0\\0\\0"
#define NG_BE "\\x0a\\x0d\\x0d\\x0a\\0\\0\\0\\x1c\\x1a\\x2b\\x3c\\x4d\\0\\x01\\0\\0\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\0\\0\\0\\x1c"
static const struct hostile_case HOSTILE[] = {
    {"caplen all ones",        LE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff", 24, true},
    {"caplen just over",       LE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\xf1\\xff\\xff\\x00\\0\\0\\0\\0",         24, true},
    {"caplen at the limit",    LE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\xf0\\xff\\xff\\x00\\0\\0\\0\\0",         24, false},
    {"big-endian caplen",      BE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\x7f\\0\\0\\0\\0\\0\\0\\0",               24, true},
    {"big-endian small",       BE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x02\\0\\0\\0\\x02xy",           42, false},
    {"after a good record",    LE_HDR "\\0\\0\\0\\0\\0\\0\\0\\0\\x01\\0\\0\\0\\x01\\0\\0\\0z"
                               "\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x80\\0\\0\\0\\x80",                    41, true},
    {"block length 8",         NG_LE "\\x01\\0\\0\\0\\x08\\0\\0\\0",                              28, true},
    {"block length 0",         NG_LE "\\x01\\0\\0\\0\\0\\0\\0\\0",                                28, true},
    {"block length odd",       NG_LE "\\x01\\0\\0\\0\\x15\\0\\0\\0",                              28, true},
    {"block length huge",      NG_LE "\\x06\\0\\0\\0\\xfc\\xff\\xff\\xff",                        28, true},
    {"block just over",        NG_LE "\\x06\\0\\0\\0\\x04\\0\\0\\x01",                            28, true},
    {"block at the limit",     NG_LE "\\x06\\0\\0\\0\\0\\0\\0\\x01",                              28, false},
    {"big-endian block huge",  NG_BE "\\0\\0\\0\\x06\\x7f\\xff\\xff\\xfc",                        28, true},
    {"section without magic",  NG_LE "\\x0a\\x0d\\x0d\\x0a\\x1c\\0\\0\\0\\x11\\x22\\x33\\x44",        28, true},
    {"first section bad",      "\\x0a\\x0d\\x0d\\x0a\\x1c\\0\\0\\0\\x11\\x22\\x33\\x44",              0, true},
    {"new section huge",       NG_LE "\\x0a\\x0d\\x0d\\x0a\\x1a\\x2b\\x3c\\x4d\\x1a\\x2b\\x3c\\x4d", 28, true},
};
/* clang-format on */

static void test_hostile(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof HOSTILE / sizeof HOSTILE[0]; i++) {
        const struct hostile_case *c = &HOSTILE[i];
        size_t n;
        uint8_t *in = tu_unescape(c->in, &n);
        /* Byte by byte and whole: the same verdict at the same place. */
        for (int whole = 0; whole <= 1; whole++) {
            struct pcapframe f;
            pcapframe_init(&f);
            for (size_t avail = whole ? n : 1; avail <= n; avail++) {
                long k = pcapframe_scan(&f, in + f.scanned, avail - f.scanned);
                if (k < 0)
                    break;
            }
            if (f.failed != c->failed || (long)f.scanned != c->scanned)
                fail_msg("%s: failed %d at %llu, want %d at %ld", c->name, f.failed,
                         (unsigned long long)f.scanned, c->failed, c->scanned);
            if (f.failed) {
                assert_true(f.error[0]);
                assert_int_equal(pcapframe_scan(&f, in, n), -1); /* stays failed */
            }
        }
        free(in);
    }
}

static void test_not_a_capture(void **state)
{
    (void)state;
    struct pcapframe f;
    pcapframe_init(&f);
    assert_int_equal(pcapframe_scan(&f, (const uint8_t *)"GE", 2), 0);
    assert_int_equal(f.format, PCAPFRAME_UNKNOWN);
    assert_false(pcapframe_opened(&f));
    assert_int_equal(pcapframe_scan(&f, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), 0);
    assert_int_equal(f.format, PCAPFRAME_OTHER);
    assert_true(pcapframe_opened(&f));
    assert_false(pcapframe_ready(&f, 0));
}

/* The project's own captures (tcpdump-made and generated) frame to their last byte (a pcapng
 * file may end in statistics, after its last packet). */
static void test_captures(void **state)
{
    (void)state;
    static const char *const FILES[] = {"real-python.pcapng", "real-keepalive.pcap",
                                        "real-large-body.pcap", "real-sll2.pcap",
                                        "gen-fragments.pcap"};
    const char *src = getenv("HSPY_SOURCE_DIR");
    if (!src)
        skip();
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/captures", src);
        size_t n;
        uint8_t *b = tu_read_file(tu_path(dir, FILES[i]), &n);
        assert_non_null(b);
        struct pcapframe f;
        pcapframe_init(&f);
        /* In pieces of 1000 bytes, as a pipe might deliver them. */
        for (size_t avail = 0; avail < n;) {
            avail = avail + 1000 < n ? avail + 1000 : n;
            assert_true(pcapframe_scan(&f, b + f.scanned, avail - f.scanned) >= 0);
        }
        if (f.scanned != n || f.packets == 0 || f.packet_end == 0 || f.packet_end > n)
            fail_msg("%s: scanned %llu of %zu, %llu packets", FILES[i],
                     (unsigned long long)f.scanned, n, (unsigned long long)f.packets);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic),  cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_hostile),  cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
