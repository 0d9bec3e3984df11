/*
 * civil: calendar arithmetic of the proleptic Gregorian calendar in UTC, without the C
 * library's time functions (gmtime_r takes glibc's time-zone lock; timegm reads the time-zone
 * state). Exact for any year that fits.
 */
#ifndef HSPY_CIVIL_H
#define HSPY_CIVIL_H

#include <stdint.h>

/* A calendar date: year, month 1-12, day 1-31. */
struct civil_date {
    int64_t year;
    int month, day;
};

/* Days since 1970-01-01 of date d (negative before it). d must be a valid date. */
int64_t civil_days(struct civil_date d);
/* The date that is days after 1970-01-01 (before it when negative). */
struct civil_date civil_date_of(int64_t days);
/* Day of the week of a day count: 0 = Sunday ... 6 = Saturday. */
int civil_weekday(int64_t days);
/* Days since 1970-01-01 of unix time t, rounded down (also for negative t). */
int64_t civil_day_of_time(int64_t t);

#endif
