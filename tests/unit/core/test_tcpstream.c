/*
 * tcpstream: in-order and out-of-order delivery, retransmissions and overlaps (same and
 * differing bytes), gaps from the window cap, from acknowledgements once the reorder allowance
 * ran out (bytes past the hole or capture time) and at the end, acknowledgements captured before
 * the data they acknowledge, snap-length cuts, FIN, sequence wrap-around and mid-stream starts.
 * Each case is one line: segments as "seq:bytes" (F suffix = FIN, A prefix = acknowledgement from
 * the receiver), and the expected output where "[gap N]", "[cut N]", "[differs@O]" and "[fin]" mark
 * events.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/dynbuf.h"
#include "hspy/tcpstream.h"

struct out {
    struct dynbuf b;
    bool times; /* each event is preceded by "@<ts>" */
};

static void stamp(struct out *o, int64_t ts)
{
    if (o->times)
        dynbuf_printf(&o->b, "@%lld", (long long)ts);
}

static void on_data(void *ctx, const uint8_t *p, size_t n, int64_t ts)
{
    stamp(ctx, ts);
    dynbuf_append(&((struct out *)ctx)->b, p, n);
}
static void on_gap(void *ctx, uint64_t n, bool snaplen, int64_t ts)
{
    stamp(ctx, ts);
    dynbuf_printf(&((struct out *)ctx)->b, "[%s %llu]", snaplen ? "cut" : "gap",
                  (unsigned long long)n);
}
static void on_differs(void *ctx, uint64_t off)
{
    dynbuf_printf(&((struct out *)ctx)->b, "[differs@%llu]", (unsigned long long)off);
}
static void on_fin(void *ctx, int64_t ts)
{
    stamp(ctx, ts);
    dynbuf_adds(&((struct out *)ctx)->b, "[fin]");
}
static const struct tcpstream_events EV = {on_data, on_gap, on_differs, on_fin};

/*
 * Runs a script. Items are separated by spaces:
 *   S<isn>          SYN with this initial sequence number
 *   <seq>:<bytes>   a segment (bytes may not contain spaces); "<seq>:<bytes>~<wire>" cut by the
 *                   snap length to the bytes shown out of <wire>; a trailing "!" adds FIN
 *   A<ack>          acknowledgement from the receiver
 *   T<ns>           the capture time of what follows (0 at the start)
 *   E               end of capture (flush)
 * Sequence numbers are decimal, taken modulo 2^32. The reorder allowance is RUN_REORDER bytes
 * or RUN_REORDER_NS.
 */
#define RUN_REORDER    16u
#define RUN_REORDER_NS 1000
static char *run_timed(const char *script, uint32_t window, size_t budget_max, bool times)
{
    struct tcpstream s;
    struct tcpstream_limits lim = {window, 64, RUN_REORDER, RUN_REORDER_NS};
    int64_t ts = 0;
    struct tcpstream_budget budget = {0, budget_max, 0};
    tcpstream_init(&s, &lim);
    struct out o;
    dynbuf_init(&o.b, 1 << 20);
    o.times = times;
    char *copy = strdup(script), *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (tok[0] == 'S') {
            tcpstream_syn(&s, (uint32_t)strtoull(tok + 1, NULL, 10));
        } else if (tok[0] == 'A') {
            tcpstream_ack(&s, &budget, (uint32_t)strtoull(tok + 1, NULL, 10), ts, &EV, &o);
        } else if (tok[0] == 'T') {
            ts = strtoll(tok + 1, NULL, 10);
        } else if (tok[0] == 'E') {
            tcpstream_flush(&s, &budget, ts, &EV, &o);
        } else {
            char *colon = strchr(tok, ':');
            uint32_t seq = (uint32_t)strtoull(tok, NULL, 10);
            char *bytes = colon + 1;
            size_t n = strlen(bytes);
            bool fin = n && bytes[n - 1] == '!';
            if (fin)
                bytes[--n] = 0;
            uint32_t wire = (uint32_t)n;
            char *slash = strchr(bytes, '~');
            if (slash) {
                *slash = 0;
                n = strlen(bytes);
                wire = (uint32_t)strtoul(slash + 1, NULL, 10);
            }
            tcpstream_segment(&s, &budget, seq, (const uint8_t *)bytes, (uint32_t)n, wire, fin, ts,
                              &EV, &o);
        }
    }
    free(copy);
    tcpstream_cleanup(&s, &budget);
    assert_int_equal(budget.held, 0);
    return dynbuf_take(&o.b);
}

static char *run(const char *script, uint32_t window, size_t budget_max)
{
    return run_timed(script, window, budget_max, false);
}

struct tcase {
    const char *name, *script, *want;
    uint32_t window;
};

static const struct tcase CASES[] = {
    {"in order", "S100 101:abc 104:def", "abcdef", 0},
    {"out of order", "S100 104:def 101:abc", "abcdef", 0},
    {"three reversed", "S0 7:ghi 4:def 1:abc", "abcdefghi", 0},
    {"duplicate same", "S0 1:abc 1:abc 4:d", "abcd", 0},
    {"retransmit differs", "S0 1:abc 1:abX 4:d", "abc[differs@2]d", 0},
    {"overlap front", "S0 1:abcd 3:cdef", "abcdef", 0},
    {"overlap differs", "S0 1:abcd 3:cXef", "abcd[differs@3]ef", 0},
    {"buffered overlap", "S0 5:efgh 3:cdEF 1:ab", "[differs@4]abcdefgh", 0},
    {"buffered duplicate", "S0 5:efgh 5:efgh 1:abcd", "abcdefgh", 0},
    {"buffered covers two", "S0 3:c 5:e 2:bcdef 1:a", "abcdef", 0},
    {"gap at end", "S0 1:ab 6:fg E", "ab[gap 3]fg", 0},
    {"ack alone is no gap", "S0 1:ab 6:fg A8", "ab", 0},
    {"ack before the data", "S0 1:ab 6:fg A8 3:cde", "abcdefg", 0},
    {"ack before the data, later", "S0 1:ab 6:fg A8 T999 3:cde", "abcdefg", 0},
    {"acked hole, time ran out", "S0 1:ab 6:fg A8 T1000 8:h", "ab[gap 3]fgh", 0},
    {"acked hole, time on next ack", "S0 1:ab 6:fg A8 T1000 A8", "ab[gap 3]fg", 0},
    {"acked hole, bytes past it", "S0 1:ab 6:fg A8 8:0123456789abcd", "ab[gap 3]fg0123456789abcd",
     0},
    {"acked hole, bytes short", "S0 1:ab 6:fg A8 8:0123456789abc 3:cde", "abcdefg0123456789abc", 0},
    {"time counts from the ack", "S0 1:ab T5000 6:fg T5999 A8 T6998 3:cde", "abcdefg", 0},
    {"acked hole at the end", "S0 1:ab 6:fg A8 E", "ab[gap 3]fg", 0},
    {"two acked holes", "S0 1:a 3:c 5:e A6 T1000 A6", "a[gap 1]c[gap 1]e", 0},
    {"ack short of data", "S0 1:a 3:c A2 E", "a[gap 1]c", 0},
    {"acked never seen", "S0 1:ab A9 E", "ab[gap 6]", 0},
    {"fin acked", "S0 1:ab 9:! A10 E", "ab[gap 6][fin]", 0},
    {"fin after missing", "S0 1:ab 9:! E", "ab[gap 6][fin]", 0},
    {"ack before hole no gap", "S0 1:ab A3 3:cd", "abcd", 0},
    {"gap by window", "S0 1:a 10:0123456789 20:abcdefghij", "a[gap 8]0123456789abcdefghij", 16},
    {"fin in order", "S0 1:abc! 4:zzz", "abc[fin]", 0},
    {"fin out of order", "S0 4:def! 1:abc", "abcdef[fin]", 0},
    {"fin alone", "S0 1:abc 4:!", "abc[fin]", 0},
    {"snaplen cut", "S0 1:ab~5 6:fg", "ab[cut 3]fg", 0},
    {"snaplen cut buffered", "S0 6:fg 1:ab~5", "ab[cut 3]fg", 0},
    {"wrap around", "S4294967293 4294967294:ab 0:cd 2:ef", "abcdef", 0},
    {"wrap out of order", "S4294967293 0:cd 4294967294:ab", "abcd", 0},
    {"midstream", "5000:abc 5003:def", "abcdef", 0},
    {"midstream older ignored", "5000:abc 4990:zzz 5003:d", "abcd", 0},
    {"syn with data", "S9 10:hi", "hi", 0},
    {"old segment partly new", "S0 1:abc 2:bcde", "abcde", 0},
    {"empty ack ignored", "S0 1: 1:a", "a", 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct tcase *c = &CASES[i];
        char *got = run(c->script, c->window ? c->window : 1 << 20, 1 << 20);
        if (strcmp(got, c->want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
        free(got);
    }
}

/* A message split at every offset into two segments, sent in either order, comes out whole. */
static void test_every_split(void **state)
{
    (void)state;
    const char *msg = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t n = strlen(msg);
    for (size_t cut = 1; cut < n; cut++) {
        for (int order = 0; order < 2; order++) {
            char script[512];
            char a[128], b[128];
            snprintf(a, sizeof a, "%u:%.*s", 1u, (int)cut, msg);
            snprintf(b, sizeof b, "%zu:%s", 1 + cut, msg + cut);
            /* the message has spaces: encode them as '_' both ways */
            for (char *p = a + 2; *p; p++)
                *p = *p == ' ' ? '_' : *p;
            for (char *p = strchr(b, ':') + 1; *p; p++)
                *p = *p == ' ' ? '_' : *p;
            snprintf(script, sizeof script, "S0 %s %s", order ? b : a, order ? a : b);
            char *got = run(script, 1 << 20, 1 << 20);
            for (char *p = got; *p; p++)
                *p = *p == '_' ? ' ' : *p;
            assert_string_equal(got, msg);
            free(got);
        }
    }
}

/* Byte by byte in reverse order: every byte buffered, then delivered at once. */
static void test_byte_by_byte_reverse(void **state)
{
    (void)state;
    char script[4096] = "S0";
    const char *msg = "HTTP/1.1_200_OK";
    for (size_t i = strlen(msg); i-- > 0;) {
        char item[48];
        snprintf(item, sizeof item, " %zu:%c", i + 1, msg[i]);
        strcat(script, item);
    }
    char *got = run(script, 1 << 20, 1 << 20);
    assert_string_equal(got, msg);
    free(got);
}

/*
 * Bytes are dated when they became deliverable: buffered bytes at their own capture time or
 * when the hole in front of them was filled, whichever is later; a hole given up at the time of
 * the bytes after it, not when the allowance ran out; a FIN when it was captured or reached.
 */
static void test_times(void **state)
{
    (void)state;
    static const struct {
        const char *script, *want;
    } cases[] = {
        {"S0 T10 1:ab T20 6:fg T30 3:cde", "@10ab@30cde@30fg"},
        {"S0 T10 1:ab T20 6:fg T30 A8 T2000 8:h", "@10ab@20[gap 3]@20fg@2000h"},
        {"S0 T10 1:ab T20 6:fg! T30 A9 T40 3:cde", "@10ab@40cde@40fg@40[fin]"},
        {"S0 T10 1:ab T20 6:fg! T30 A9 T40 E", "@10ab@20[gap 3]@20fg@20[fin]"},
        {"S0 T10 1:ab T20 A9 T40 E", "@10ab@40[gap 6]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = run_timed(cases[i].script, 1 << 20, 1 << 20, true);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].script, got, cases[i].want);
        free(got);
    }
}

/* The shared budget caps buffering over streams: past it the hole is given up. */
static void test_budget(void **state)
{
    (void)state;
    char *got = run("S0 5:efgh 9:ijkl 1:abcd", 1 << 20, 6);
    assert_string_equal(got, "[gap 4]efghijkl");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_byte_by_byte_reverse),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
