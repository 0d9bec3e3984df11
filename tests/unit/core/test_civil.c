/* civil: day counts to dates and back, weekdays, floor division of times before 1970. */
#include "testutil.h"

#include <stdbool.h>
#include <time.h>

#include "hspy/civil.h"

static void test_known_dates(void **state)
{
    (void)state;
    static const struct {
        int64_t year;
        int month, day;
        int64_t days;
        int weekday;
    } cases[] = {
        {1970, 1, 1, 0, 4},         {1969, 12, 31, -1, 3},   {2000, 2, 29, 11016, 2},
        {2000, 3, 1, 11017, 3},     {2100, 2, 28, 47540, 0}, {2100, 3, 1, 47541, 1},
        {1600, 1, 1, -135140, 6},   {1, 1, 1, -719162, 1},   {2026, 11, 26, 20783, 4},
        {9999, 12, 31, 2932896, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct civil_date d = {cases[i].year, cases[i].month, cases[i].day};
        assert_int_equal(civil_days(d), cases[i].days);
        struct civil_date back = civil_date_of(cases[i].days);
        assert_int_equal(back.year, cases[i].year);
        assert_int_equal(back.month, cases[i].month);
        assert_int_equal(back.day, cases[i].day);
        assert_int_equal(civil_weekday(cases[i].days), cases[i].weekday);
    }
}

/* Every day from year 1 to 3000 round-trips and follows its predecessor. */
static void test_round_trip(void **state)
{
    (void)state;
    struct civil_date prev = civil_date_of(-719163);
    for (int64_t days = -719162; days < 376200; days++) {
        struct civil_date d = civil_date_of(days);
        assert_int_equal(civil_days(d), days);
        bool next_day = d.year == prev.year && d.month == prev.month && d.day == prev.day + 1;
        bool next_month = d.year == prev.year && d.month == prev.month + 1 && d.day == 1;
        bool next_year = d.year == prev.year + 1 && d.month == 1 && d.day == 1 && prev.month == 12;
        assert_true(next_day || next_month || next_year);
        prev = d;
    }
}

/* Agrees with the C library over its range, once a day at a moving time of day. */
static void test_agrees_with_gmtime(void **state)
{
    (void)state;
    for (int64_t t = -2208988800; t < 7258118400; t += 86400 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        int64_t days = civil_day_of_time(t);
        struct civil_date d = civil_date_of(days);
        assert_int_equal(d.year, tm.tm_year + 1900);
        assert_int_equal(d.month, tm.tm_mon + 1);
        assert_int_equal(d.day, tm.tm_mday);
        assert_int_equal(civil_weekday(days), tm.tm_wday);
        assert_int_equal(t - days * 86400, tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_dates),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_agrees_with_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
