/*
 * civil owns date arithmetic: day counts to calendar dates and back. Days are counted in
 * 400-year eras (146097 days each) of years that start on March 1st, so that a leap day is the
 * last day of its year and month lengths follow a fixed five-month pattern. Pure functions.
 */
#include "hspy/civil.h"

enum {
    DAYS_PER_ERA = 146097,    /* 400 years */
    DAYS_0000_03_01 = 719468, /* from 0000-03-01 to 1970-01-01 */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int64_t civil_days(struct civil_date d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                                  /* [0, 399] */
    int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                          /* [0, 146096] */
    return era * DAYS_PER_ERA + doe - DAYS_0000_03_01;
}

struct civil_date civil_date_of(int64_t days)
{
    days += DAYS_0000_03_01;
    int64_t era = floor_div(days, DAYS_PER_ERA);
    int64_t doe = days - era * DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153; /* March = 0 */
    struct civil_date d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = yoe + era * 400 + (d.month <= 2);
    return d;
}

int civil_weekday(int64_t days)
{
    return (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

int64_t civil_day_of_time(int64_t t)
{
    return floor_div(t, 86400);
}
