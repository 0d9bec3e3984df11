/*
 * delivery: plan parsing and the state machine's decisions, written as traces: S<n> send n
 * bytes, W<ms> wait, I wait for input, D done, C close, R reset.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "hspy/delivery.h"
#include "hspy/dynbuf.h"

/* Runs the machine until it needs input or ends, appending the trace. */
static bool run(const struct delivery *d, struct delivery_state *st, struct dynbuf *trace)
{
    for (int guard = 0; guard < 10000; guard++) {
        struct delivery_step s = delivery_next(d, st);
        switch (s.action) {
        case DELIVERY_SEND:
            dynbuf_printf(trace, "S%llu ", (unsigned long long)s.len);
            delivery_sent(d, st, s.len);
            break;
        case DELIVERY_WAIT:
            dynbuf_printf(trace, "W%llu ", (unsigned long long)s.wait_ms);
            delivery_waited(st);
            break;
        case DELIVERY_INPUT: dynbuf_adds(trace, "I "); return true;
        case DELIVERY_DONE: dynbuf_adds(trace, "D"); return false;
        case DELIVERY_CLOSE: dynbuf_adds(trace, "C"); return false;
        case DELIVERY_RESET: dynbuf_adds(trace, "R"); return false;
        }
    }
    fail_msg("delivery loops");
    return false;
}

/* Supplies head then body bytes (all at once) and ends; returns the trace. */
static void check(const struct delivery *d, uint64_t head, uint64_t body, const char *want)
{
    struct delivery_state st;
    delivery_state_init(&st, d);
    struct dynbuf t;
    dynbuf_init(&t, 4096);
    delivery_supply(&st, head, true);
    if (body)
        delivery_supply(&st, body, false);
    delivery_end(&st);
    run(d, &st, &t);
    assert_string_equal(dynbuf_str(&t), want);
    dynbuf_cleanup(&t);
}

static void test_plans(void **state)
{
    (void)state;
    struct delivery d;
    memset(&d, 0, sizeof d);
    check(&d, 20, 30, "S20 S30 D");
    check(&d, 10, 0, "S10 D");

    memset(&d, 0, sizeof d);
    d.delay_head_ms = 100;
    check(&d, 20, 30, "W100 S20 S30 D");

    memset(&d, 0, sizeof d);
    d.delay_body_ms = 50;
    check(&d, 20, 30, "S20 W50 S30 D");
    check(&d, 10, 0, "S10 D");

    memset(&d, 0, sizeof d);
    d.trickle_bytes = 10;
    d.trickle_ms = 5;
    check(&d, 20, 30, "S20 S10 W5 S10 W5 S10 D");

    memset(&d, 0, sizeof d);
    char err[100];
    assert_int_equal(delivery_parse_split("5,10/7ms", &d, err, sizeof err), 0);
    check(&d, 20, 30, "S5 W7 S10 W7 S5 S30 D");

    memset(&d, 0, sizeof d);
    d.close_after_set = true;
    d.close_after = 12;
    check(&d, 20, 30, "S20 S12 C");
    d.close_after = 100;
    check(&d, 20, 30, "S20 S30 D");

    memset(&d, 0, sizeof d);
    d.reset_after_set = true;
    d.reset_after = 0;
    check(&d, 20, 30, "S20 R");

    memset(&d, 0, sizeof d);
    d.trickle_bytes = 4;
    d.trickle_ms = 1;
    d.close_after_set = true;
    d.close_after = 6;
    check(&d, 3, 30, "S3 S4 W1 S2 C");
}

/* Bytes supplied over time: the machine waits for input without losing owed pauses. */
static void test_incremental(void **state)
{
    (void)state;
    struct delivery d;
    memset(&d, 0, sizeof d);
    d.trickle_bytes = 8;
    d.trickle_ms = 3;
    struct delivery_state st;
    delivery_state_init(&st, &d);
    struct dynbuf t;
    dynbuf_init(&t, 4096);
    delivery_supply(&st, 10, true);
    assert_true(run(&d, &st, &t));
    delivery_supply(&st, 5, false);
    assert_true(run(&d, &st, &t));
    delivery_supply(&st, 12, false);
    assert_true(run(&d, &st, &t));
    delivery_end(&st);
    assert_false(run(&d, &st, &t));
    assert_string_equal(dynbuf_str(&t), "S10 I S5 I W3 S8 W3 S4 I D");
    dynbuf_cleanup(&t);
}

static void test_parse(void **state)
{
    (void)state;
    uint64_t b, ms;
    assert_int_equal(delivery_parse_trickle("16/100ms", &b, &ms), 0);
    assert_int_equal(b, 16);
    assert_int_equal(ms, 100);
    assert_int_equal(delivery_parse_trickle("1k/1s", &b, &ms), 0);
    assert_int_equal(b, 1024);
    assert_int_equal(ms, 1000);
    /* The documented form is BYTES/TIME: no pace is assumed when TIME is missing. */
    assert_int_equal(delivery_parse_trickle("16", &b, &ms), -1);
    assert_int_equal(delivery_parse_trickle("1k", &b, &ms), -1);
    assert_int_equal(delivery_parse_trickle("16/", &b, &ms), -1);
    assert_int_equal(delivery_parse_trickle("0/1s", &b, &ms), -1);
    assert_int_equal(delivery_parse_trickle("/1s", &b, &ms), -1);
    assert_int_equal(delivery_parse_trickle("5/soon", &b, &ms), -1);
    struct delivery d;
    char err[100];
    memset(&d, 0, sizeof d);
    assert_int_equal(delivery_parse_split("1,2,3", &d, err, sizeof err), 0);
    assert_int_equal(d.nsplit, 3);
    assert_int_equal(d.split[2], 3);
    assert_int_equal(delivery_parse_split("1,0", &d, err, sizeof err), -1);
    assert_int_equal(delivery_parse_split("", &d, err, sizeof err), -1);
    assert_int_equal(delivery_parse_split("1,x", &d, err, sizeof err), -1);
    assert_int_equal(delivery_parse_split("1/never", &d, err, sizeof err), -1);
    memset(&d, 0, sizeof d);
    assert_false(delivery_active(&d));
    d.close_after_set = true;
    assert_true(delivery_active(&d));
    assert_true(delivery_breaks_framing(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
