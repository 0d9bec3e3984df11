/*
 * httpdate owns the conversion between unix seconds and HTTP date strings. It uses no locale
 * and no time zone: dates are always GMT.
 */
#include "hspy/httpdate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hspy/civil.h"

static const char *const DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *httpdate_format(int64_t t, char *buf)
{
    int64_t days = civil_day_of_time(t);
    int64_t secs = t - days * 86400;
    struct civil_date d = civil_date_of(days);
    snprintf(buf, HTTPDATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[civil_weekday(days)],
             d.day, MONTHS[d.month - 1], (int)(d.year % 10000), (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return buf;
}

static int month_of(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, MONTHS[i], 3) == 0)
            return i + 1;
    return 0;
}

int httpdate_parse(const char *s, size_t n, int64_t *t)
{
    char buf[64], mon[4], wd[16];
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int d, y, hh, mm, ss, used = 0;
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (sscanf(buf, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss,
               &used) == 7 &&
        used == (int)n) {
    } else if (sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm,
                      &ss, &used) == 7 &&
               used == (int)n) {
        /* RFC 850: two-digit year; RFC 9110 says interpret as at most 50 years ahead. */
        y += y < 70 ? 2000 : 1900;
    } else if (sscanf(buf, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &hh, &mm, &ss, &y,
                      &used) == 7 &&
               used == (int)n) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
    } else {
        return -1;
    }
    int m = month_of(mon);
    if (!m || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1900)
        return -1;
    *t = civil_days((struct civil_date){y, m, d}) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}
