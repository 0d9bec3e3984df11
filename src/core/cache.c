/*
 * cache owns the RFC 9111 analysis of one exchange: which caches may store the response and
 * why, its freshness lifetime and age, its validators, the request's conditions and whether a
 * 304 answered them honestly, plus the HTTP-date parser and formatter this needs. It reads
 * exchanges and writes caller-owned reports; it never allocates during analysis, never keeps
 * pointers into an exchange and never looks at a clock (ages are computed as of the response's
 * arrival, from the exchange's own timestamps).
 */
#include "hspy/cache.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hspy/civil.h"
#include "hspy/decimal.h"
#include "hspy/jsonwrite.h"
#include "hspy/utf8.h"

/* ---- small text helpers ------------------------------------------------------------------ */

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* lit is lower case and m bytes long. */
static bool ieqn(const uint8_t *p, size_t n, const char *lit, size_t m)
{
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)lit[i])
            return false;
    return true;
}

static bool ieq(const uint8_t *p, size_t n, const char *lit)
{
    return ieqn(p, n, lit, strlen(lit));
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Copies n bytes into a bounded C string, replacing nothing: callers escape on display. */
static void copy_value(char *dst, size_t cap, const uint8_t *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/*
 * Parses delta-seconds (RFC 9111 1.2.2). Returns false unless all n bytes are digits; values
 * too large to represent become CACHE_DELTA_MAX, as the RFC requires.
 */
static bool parse_delta(const uint8_t *p, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        if (v < CACHE_DELTA_MAX)
            v = v * 10 + (p[i] - '0');
    }
    *out = v < CACHE_DELTA_MAX ? v : CACHE_DELTA_MAX;
    return true;
}

/* ---- HTTP-date (RFC 9110 5.6.7) ---------------------------------------------------------- */

static const char MONTHS[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const DAYS[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                    "thursday", "friday", "saturday"};
static const char DAY_ABBR[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char MONTH_ABBR[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int days_in_month(int64_t y, int m)
{
    static const int DIM[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : DIM[m - 1];
}

/* A cursor over a date being parsed; lenient records forgiven deviations. */
struct dcur {
    const uint8_t *p, *end;
    bool lenient;
};

static bool dc_char(struct dcur *c, uint8_t ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* Reads between min and max digits. */
static bool dc_num(struct dcur *c, int min, int max, int *out)
{
    int n = 0, v = 0;
    while (c->p < c->end && n < max && is_digit(*c->p)) {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    *out = v;
    return n >= min;
}

/* Reads letters; returns their count (at most cap are stored, lower-cased). */
static size_t dc_word(struct dcur *c, char *buf, size_t cap, bool *mixed_case)
{
    size_t n = 0;
    bool upper_first = c->p < c->end && *c->p >= 'A' && *c->p <= 'Z';
    *mixed_case = !upper_first;
    while (c->p < c->end && ((*c->p | 32) >= 'a' && (*c->p | 32) <= 'z')) {
        if (n > 0 && *c->p >= 'A' && *c->p <= 'Z')
            *mixed_case = true;
        if (n + 1 < cap)
            buf[n] = (char)lower(*c->p);
        n++;
        c->p++;
    }
    buf[n < cap ? n : cap - 1] = '\0';
    return n;
}

static int month_of(struct dcur *c)
{
    char w[8];
    bool odd;
    size_t n = dc_word(c, w, sizeof w, &odd);
    if (n != 3)
        return -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(w, MONTHS[i], 3) == 0) {
            c->lenient |= odd;
            return i + 1;
        }
    return -1;
}

/* "08:49:37" */
static bool dc_time(struct dcur *c, int *h, int *mi, int *s)
{
    return dc_num(c, 2, 2, h) && dc_char(c, ':') && dc_num(c, 2, 2, mi) && dc_char(c, ':') &&
           dc_num(c, 2, 2, s) && *h < 24 && *mi < 60 && *s <= 60;
}

/* " GMT" at the end; "UTC" is forgiven. */
static bool dc_gmt(struct dcur *c)
{
    if (!dc_char(c, ' '))
        return false;
    size_t left = (size_t)(c->end - c->p);
    if (left == 3 && memcmp(c->p, "GMT", 3) == 0) {
        c->p += 3;
        return true;
    }
    if (left == 3 && (ieq(c->p, 3, "gmt") || ieq(c->p, 3, "utc"))) {
        c->lenient = true;
        c->p += 3;
        return true;
    }
    return false;
}

static int resolve_two_digit_year(int yy, int64_t ref)
{
    if (ref == CACHE_TIME_NONE)
        return yy < 70 ? 2000 + yy : 1900 + yy;
    int64_t ry = civil_date_of(civil_day_of_time(ref)).year;
    int64_t y = ry - ry % 100 + yy;
    if (y > ry + 50)
        y -= 100;
    return (int)y;
}

/* Day-name "," SP then either "DD Mon YYYY" (IMF-fixdate) or "DD-Mon-YY" (RFC 850). */
static bool parse_comma_form(struct dcur *c, size_t name_len, int64_t ref, int *y, int *mo, int *d,
                             int *h, int *mi, int *s)
{
    const uint8_t *ds = c->p + 1;
    if (!dc_char(c, ' ') || !dc_num(c, 1, 2, d))
        return false;
    c->lenient |= c->p - ds == 1;
    if (c->p < c->end && *c->p == '-') {
        c->lenient |= name_len == 3; /* RFC 850 spells the day out */
        c->p++;
        if ((*mo = month_of(c)) < 0 || !dc_char(c, '-'))
            return false;
        const uint8_t *ys = c->p;
        if (!dc_num(c, 2, 4, y) || c->p - ys == 3)
            return false;
        if (c->p - ys == 2)
            *y = resolve_two_digit_year(*y, ref);
        else
            c->lenient = true; /* a cookie-style date, not an HTTP-date */
    } else {
        c->lenient |= name_len != 3;
        if (!dc_char(c, ' ') || (*mo = month_of(c)) < 0 || !dc_char(c, ' '))
            return false;
        const uint8_t *ys = c->p;
        if (!dc_num(c, 2, 4, y) || c->p - ys == 3)
            return false;
        if (c->p - ys == 2) {
            c->lenient = true;
            *y = resolve_two_digit_year(*y, ref);
        }
    }
    return dc_char(c, ' ') && dc_time(c, h, mi, s) && dc_gmt(c);
}

/* "Sun Nov  6 08:49:37 1994" */
static bool parse_asctime(struct dcur *c, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    if (!dc_char(c, ' ') || (*mo = month_of(c)) < 0 || !dc_char(c, ' '))
        return false;
    if (dc_char(c, ' ')) {
        if (!dc_num(c, 1, 1, d))
            return false;
    } else if (!dc_num(c, 2, 2, d)) {
        return false;
    }
    return dc_char(c, ' ') && dc_time(c, h, mi, s) && dc_char(c, ' ') && dc_num(c, 4, 4, y) &&
           c->p == c->end;
}

/* Two decimal digits at p, or -1. */
static int two_digits(const char *p)
{
    return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + p[1] - '0'
                                                                    : -1;
}

/*
 * The common case in one pass: an IMF-fixdate exactly as RFC 9110 writes it ("Sun, 06 Nov
 * 1994 08:49:37 GMT", case as shown, weekday right). Anything else goes the general way.
 */
static bool parse_fixdate(const char *s, size_t n, int64_t *out)
{
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
        return false;
    int d = two_digits(s + 5), y1 = two_digits(s + 12), y2 = two_digits(s + 14);
    int h = two_digits(s + 17), mi = two_digits(s + 20), sec = two_digits(s + 23);
    if (d < 1 || y1 < 0 || y2 < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return false;
    int mo = 0;
    for (int i = 0; i < 12 && !mo; i++)
        if (s[8] == MONTH_ABBR[i][0] && s[9] == MONTH_ABBR[i][1] && s[10] == MONTH_ABBR[i][2])
            mo = i + 1;
    int y = y1 * 100 + y2;
    if (!mo || d > days_in_month(y, mo))
        return false;
    int64_t days = civil_days((struct civil_date){y, mo, d});
    if (memcmp(s, DAY_ABBR[civil_weekday(days)], 3) != 0)
        return false;
    *out = days * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

int cache_date_parse(const char *str, size_t n, int64_t ref, int64_t *out)
{
    if (parse_fixdate(str, n, out))
        return 0;
    struct dcur c = {(const uint8_t *)str, (const uint8_t *)str + n, false};
    char w[12];
    bool odd;
    size_t wl = dc_word(&c, w, sizeof w, &odd);
    int wday = -1;
    for (int i = 0; i < 7 && wl >= 3; i++)
        if ((wl == 3 && memcmp(w, DAYS[i], 3) == 0) || (wl > 3 && strcmp(w, DAYS[i]) == 0))
            wday = i;
    if (wday < 0)
        return -1;
    c.lenient |= odd;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    bool ok;
    if (dc_char(&c, ','))
        ok = parse_comma_form(&c, wl, ref, &y, &mo, &d, &h, &mi, &s);
    else
        ok = wl == 3 && parse_asctime(&c, &y, &mo, &d, &h, &mi, &s);
    if (!ok || c.p != c.end || d < 1 || d > days_in_month(y, mo))
        return -1;
    int64_t days = civil_days((struct civil_date){y, mo, d});
    int64_t actual_wday = civil_weekday(days);
    if (actual_wday != wday)
        c.lenient = true;
    *out = days * 86400 + h * 3600 + mi * 60 + s;
    return c.lenient ? 1 : 0;
}

char *cache_date_format(int64_t t, char *buf, size_t len)
{
    int64_t days = civil_day_of_time(t);
    int64_t secs = t - days * 86400;
    struct civil_date d = civil_date_of(days);
    snprintf(buf, len, "%s, %02d %s %04" PRId64 " %02d:%02d:%02d GMT",
             DAY_ABBR[civil_weekday(days)], d.day, MONTH_ABBR[d.month - 1], d.year,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    return buf;
}

/* Appends to a bounded C string (labels are built per exchange: no printf on this path). */
static void put(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf), k = strlen(s);
    if (k > len - 1 - n)
        k = len - 1 - n;
    memcpy(buf + n, s, k);
    buf[n + k] = '\0';
}

static void put_int(char *buf, size_t len, int64_t v)
{
    char digits[DECIMAL_U64_MAX + 1];
    digits[decimal_u64(digits, v > 0 ? (uint64_t)v : 0)] = '\0';
    put(buf, len, digits);
}

char *cache_duration_format(int64_t s, char *buf, size_t len)
{
    static const struct {
        int64_t size;
        char unit[2];
    } UNITS[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    buf[0] = '\0';
    if (s < 0) {
        put(buf, len, "?");
        return buf;
    }
    size_t i = 0;
    while (i + 1 < sizeof UNITS / sizeof UNITS[0] && s < UNITS[i].size)
        i++;
    int64_t u = UNITS[i].size, whole = s / u, tenths = s % u * 10 / u;
    put_int(buf, len, whole);
    if (tenths != 0 && whole < 10) {
        put(buf, len, ".");
        put_int(buf, len, tenths);
    }
    put(buf, len, UNITS[i].unit);
    return buf;
}

/* ---- names ------------------------------------------------------------------------------- */

static const char *const OUTCOME_NAMES[CACHE_OUTCOME_COUNT] = {
    "storable",  "shared",     "private",    "no-store",    "uncacheable",  "fresh",   "stale",
    "heuristic", "revalidate", "validators", "conditional", "not-modified", "bad-304", "vary",
};

const char *cache_outcome_name(enum cache_outcome o)
{
    for (int i = 0; i < CACHE_OUTCOME_COUNT; i++)
        if ((unsigned)o == 1u << i)
            return OUTCOME_NAMES[i];
    return NULL;
}

enum cache_outcome cache_outcome_by_name(const char *name, size_t len)
{
    for (int i = 0; i < CACHE_OUTCOME_COUNT; i++)
        if (ieq((const uint8_t *)name, len, OUTCOME_NAMES[i]))
            return (enum cache_outcome)(1u << i);
    return 0;
}

const char *cache_freshness_name(enum cache_freshness f)
{
    static const char *const NAMES[] = {NULL, "fresh", "stale", "revalidate", "no-lifetime"};
    return (unsigned)f < sizeof NAMES / sizeof NAMES[0] ? NAMES[f] : NULL;
}

const char *cache_source_name(enum cache_source s)
{
    static const char *const NAMES[] = {"none",    "s-maxage",  "max-age",
                                        "expires", "heuristic", "invalid"};
    return (unsigned)s < sizeof NAMES / sizeof NAMES[0] ? NAMES[s] : "?";
}

/* ---- Cache-Control directives ------------------------------------------------------------ */

enum { CC_REQ = 1, CC_RESP = 2 };
enum dir_arg {
    ARG_NONE,      /* takes no argument */
    ARG_DELTA,     /* requires delta-seconds */
    ARG_DELTA_OPT, /* optional delta-seconds (max-stale) */
    ARG_FIELDS,    /* optional quoted field-name list (no-cache, private) */
};

static const struct directive_def {
    const char *name;
    uint8_t arg;   /* enum dir_arg */
    uint8_t sides; /* CC_REQ | CC_RESP: where RFC 9111 gives it a meaning */
    uint8_t len;   /* strlen(name) */
} DIRECTIVES[CC__COUNT] = {
    [CC_MAX_AGE] = {"max-age", ARG_DELTA, CC_REQ | CC_RESP, 7},
    [CC_S_MAXAGE] = {"s-maxage", ARG_DELTA, CC_RESP, 8},
    [CC_NO_CACHE] = {"no-cache", ARG_FIELDS, CC_REQ | CC_RESP, 8},
    [CC_NO_STORE] = {"no-store", ARG_NONE, CC_REQ | CC_RESP, 8},
    [CC_NO_TRANSFORM] = {"no-transform", ARG_NONE, CC_REQ | CC_RESP, 12},
    [CC_PUBLIC] = {"public", ARG_NONE, CC_RESP, 6},
    [CC_PRIVATE] = {"private", ARG_FIELDS, CC_RESP, 7},
    [CC_MUST_REVALIDATE] = {"must-revalidate", ARG_NONE, CC_RESP, 15},
    [CC_PROXY_REVALIDATE] = {"proxy-revalidate", ARG_NONE, CC_RESP, 16},
    [CC_MUST_UNDERSTAND] = {"must-understand", ARG_NONE, CC_RESP, 15},
    [CC_IMMUTABLE] = {"immutable", ARG_NONE, CC_RESP, 9},
    [CC_MAX_STALE] = {"max-stale", ARG_DELTA_OPT, CC_REQ, 9},
    [CC_MIN_FRESH] = {"min-fresh", ARG_DELTA, CC_REQ, 9},
    [CC_ONLY_IF_CACHED] = {"only-if-cached", ARG_NONE, CC_REQ, 14},
    [CC_STALE_WHILE_REVALIDATE] = {"stale-while-revalidate", ARG_DELTA, CC_RESP, 22},
    [CC_STALE_IF_ERROR] = {"stale-if-error", ARG_DELTA, CC_REQ | CC_RESP, 14},
};

const char *cache_directive_name(enum cache_directive d)
{
    return (unsigned)d < CC__COUNT ? DIRECTIVES[d].name : "?";
}

#define HAS(cc, d) (((cc)->present >> (d)) & 1u)

/* Levenshtein distance, capped: only short names are compared. */
static int edit_distance(const uint8_t *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n > 31 || m > 31)
        return 99;
    int row[32];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int cost = lower(a[i - 1]) == (uint8_t)b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* The known directive an unknown name is a near miss of, or -1. */
static int directive_typo_of(const uint8_t *name, size_t n)
{
    if (n < 4)
        return -1;
    for (int d = 0; d < CC__COUNT; d++) {
        int limit = n <= 6 ? 1 : 2;
        if (edit_distance(name, n, DIRECTIVES[d].name) <= limit)
            return d;
    }
    return -1;
}

/* ---- analysis context -------------------------------------------------------------------- */

/* Fields the analysis reads, found in one pass over a head. */
enum cache_field {
    CF_CACHE_CONTROL,
    CF_PRAGMA,
    CF_EXPIRES,
    CF_DATE,
    CF_AGE,
    CF_LAST_MODIFIED,
    CF_ETAG,
    CF_VARY,
    CF_SET_COOKIE,
    CF_AUTHORIZATION,
    CF_IF_NONE_MATCH,
    CF_IF_MODIFIED_SINCE,
    CF_IF_MATCH,
    CF_IF_UNMODIFIED_SINCE,
    CF_IF_RANGE,
    CF_CONTENT_LOCATION,
    CF__COUNT
};

#define FIELD(s)                                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct {
    const char *name; /* lower case */
    uint8_t len;
} FIELDS[CF__COUNT] = {
    FIELD("cache-control"), FIELD("pragma"),
    FIELD("expires"),       FIELD("date"),
    FIELD("age"),           FIELD("last-modified"),
    FIELD("etag"),          FIELD("vary"),
    FIELD("set-cookie"),    FIELD("authorization"),
    FIELD("if-none-match"), FIELD("if-modified-since"),
    FIELD("if-match"),      FIELD("if-unmodified-since"),
    FIELD("if-range"),      FIELD("content-location"),
};
#undef FIELD

/* Single-valued fields whose repetition with another value is a finding. */
static const uint32_t SINGLE_FIELDS =
    1u << CF_EXPIRES | 1u << CF_DATE | 1u << CF_AGE | 1u << CF_LAST_MODIFIED | 1u << CF_ETAG;

struct head_view {
    const struct message *m;
    const uint8_t *base; /* NULL when the message has no head */
    enum side side;
    int32_t first[CF__COUNT]; /* index of the first header of each field, or -1 */
    uint32_t differs;         /* bit per single-valued field repeated with another value */
};

struct ctx {
    const struct exchange *ex;
    struct cache_report *r;
    struct head_view req, resp;
    bool method_get_head; /* GET or HEAD (or no request seen: assume a plain GET) */
    bool method_post;     /* POST or PATCH: cacheable only with explicit freshness */
    int64_t request_ns, response_ns;
    int64_t ims, ius; /* If-Modified-Since / If-Unmodified-Since, or CACHE_TIME_NONE */
    bool ims_invalid;
    bool explicit_expiry;       /* max-age, s-maxage or Expires present */
    bool blocked_by_no_store;   /* storage refused because of no-store */
    bool shared_needs_explicit; /* shared storage relies on max-age/s-maxage/Expires/public */
};

static void finding(struct cache_report *r, enum warning_code code, enum side side, uint64_t offset,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct cache_report *r, enum warning_code code, enum side side, uint64_t offset,
                    const char *fmt, ...)
{
    for (uint8_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].code == code && r->findings[i].side == side &&
            r->findings[i].offset == offset)
            return;
    if (r->nfindings >= CACHE_FINDINGS_MAX) {
        if (r->findings_dropped < UINT8_MAX)
            r->findings_dropped++;
        return;
    }
    struct cache_finding *f = &r->findings[r->nfindings++];
    f->code = (uint16_t)code;
    f->side = (uint8_t)side;
    f->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
}

static const struct http_header *hv_header(const struct head_view *hv, uint32_t i)
{
    return &hv->m->head.headers[i];
}

static uint64_t hv_offset(const struct head_view *hv, const struct http_header *h)
{
    return (uint64_t)hv->m->head_off + h->line;
}

/* First value of a field, or NULL. */
static const uint8_t *hv_value(const struct head_view *hv, enum cache_field f, size_t *n)
{
    if (!hv->base || hv->first[f] < 0) {
        *n = 0;
        return NULL;
    }
    const struct http_header *h = hv_header(hv, (uint32_t)hv->first[f]);
    *n = h->value.len;
    return hv->base + h->value.off;
}

static uint64_t hv_field_offset(const struct head_view *hv, enum cache_field f)
{
    return hv->first[f] < 0 ? hv->m->head_off
                            : hv_offset(hv, hv_header(hv, (uint32_t)hv->first[f]));
}

static int field_of(const uint8_t *name, size_t n)
{
    /* Fields by name length, stored as index + 1 (0 ends a row): most names cost one lookup. */
#define F(f) (CF_##f + 1)
    static const uint8_t BY_LEN[20][4] = {
        [3] = {F(AGE)},
        [4] = {F(DATE), F(ETAG), F(VARY)},
        [6] = {F(PRAGMA)},
        [7] = {F(EXPIRES)},
        [8] = {F(IF_MATCH), F(IF_RANGE)},
        [10] = {F(SET_COOKIE)},
        [13] = {F(CACHE_CONTROL), F(LAST_MODIFIED), F(AUTHORIZATION), F(IF_NONE_MATCH)},
        [16] = {F(CONTENT_LOCATION)},
        [17] = {F(IF_MODIFIED_SINCE)},
        [19] = {F(IF_UNMODIFIED_SINCE)},
    };
#undef F
    if (n >= 20 || !BY_LEN[n][0])
        return -1;
    uint8_t c = lower(name[0]);
    for (int k = 0; k < 4 && BY_LEN[n][k]; k++) {
        int f = BY_LEN[n][k] - 1;
        if ((uint8_t)FIELDS[f].name[0] == c && ieqn(name, n, FIELDS[f].name, n))
            return f;
    }
    return -1;
}

static bool same_value(const struct head_view *hv, const struct http_header *a,
                       const struct http_header *b)
{
    return a->value.len == b->value.len &&
           memcmp(hv->base + a->value.off, hv->base + b->value.off, a->value.len) == 0;
}

static void hv_init(struct head_view *hv, const struct message *m, enum side side)
{
    hv->m = m;
    hv->side = side;
    hv->base = message_head_base(m);
    hv->differs = 0;
    memset(hv->first, 0xff, sizeof hv->first); /* every entry -1 */
    if (!hv->base)
        return;
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        int f = field_of(hv->base + h->name.off, h->name.len);
        if (f < 0)
            continue;
        if (hv->first[f] < 0)
            hv->first[f] = (int32_t)i;
        else if ((SINGLE_FIELDS >> f & 1) &&
                 !same_value(hv, hv_header(hv, (uint32_t)hv->first[f]), h))
            hv->differs |= 1u << f;
    }
}

/* ---- Cache-Control parsing --------------------------------------------------------------- */

struct directive_text {
    const uint8_t *name, *arg;
    size_t name_len, arg_len;
    bool has_arg, quoted, malformed;
};

/* Reads one directive at *pp (up to the next top-level comma); false at the end of the list. */
static bool next_directive(const uint8_t **pp, const uint8_t *end, struct directive_text *d)
{
    const uint8_t *p = *pp;
    while (p < end && (is_ows(*p) || *p == ','))
        p++;
    if (p >= end)
        return false;
    d->arg = NULL;
    d->arg_len = 0;
    d->has_arg = d->quoted = d->malformed = false;
    d->name = p;
    while (p < end && is_tchar(*p) && *p != '=')
        p++;
    d->name_len = (size_t)(p - d->name);
    while (p < end && is_ows(*p))
        p++;
    if (p < end && *p == '=') {
        d->has_arg = true;
        p++;
        while (p < end && is_ows(*p))
            p++;
        if (p < end && *p == '"') {
            d->quoted = true;
            d->arg = ++p;
            while (p < end && *p != '"')
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            d->arg_len = (size_t)(p - d->arg);
            if (p < end)
                p++;
            else
                d->malformed = true;
        } else {
            d->arg = p;
            while (p < end && is_tchar(*p))
                p++;
            d->arg_len = (size_t)(p - d->arg);
        }
    }
    while (p < end && is_ows(*p))
        p++;
    if (p < end && *p != ',') {
        d->malformed = true;
        while (p < end && *p != ',')
            p++;
    }
    if (d->name_len == 0)
        d->malformed = true;
    *pp = p;
    return true;
}

static void directive_argument(struct cache_control *cc, enum cache_directive id,
                               const struct directive_text *d, struct cache_report *r,
                               enum side side, uint64_t off)
{
    const char *name = DIRECTIVES[id].name;
    switch (DIRECTIVES[id].arg) {
    case ARG_NONE:
        if (d->has_arg)
            finding(r, W_CACHE_DIRECTIVE_INVALID, side, off, "%s takes no argument", name);
        return;
    case ARG_FIELDS:
        if (!d->has_arg)
            return;
        if (id == CC_NO_CACHE)
            cc->no_cache_fields = true;
        else
            cc->private_fields = true;
        copy_value(cc->fields, sizeof cc->fields, d->arg, d->arg_len);
        return;
    case ARG_DELTA_OPT:
        if (!d->has_arg)
            return;
        break;
    case ARG_DELTA: break;
    }
    if (!d->has_arg || !parse_delta(d->arg, d->arg_len, &cc->value[id])) {
        cc->invalid |= 1u << id;
        cc->value[id] = -1;
        finding(r, W_CACHE_DIRECTIVE_INVALID, side, off, "%s needs a number of seconds, got '%.*s'",
                name, (int)(d->arg_len < 40 ? d->arg_len : 40), d->arg ? (const char *)d->arg : "");
    } else if (d->quoted) {
        finding(r, W_CACHE_DIRECTIVE_INVALID, side, off,
                "%s=\"%.*s\" is quoted: some caches ignore the quoted form", name,
                (int)(d->arg_len < 40 ? d->arg_len : 40), (const char *)d->arg);
    }
}

static void directive_known(struct cache_control *cc, enum cache_directive id,
                            const struct directive_text *d, struct cache_report *r,
                            const struct head_view *hv, uint64_t off)
{
    const char *name = DIRECTIVES[id].name;
    if (HAS(cc, id)) {
        finding(r, W_CACHE_DIRECTIVE_DUPLICATE, hv->side, off,
                "%s given more than once: caches use the first or treat it as stale", name);
        return;
    }
    cc->present |= 1u << id;
    cc->value[id] = -1;
    uint8_t here = hv->side == SIDE_CLIENT ? CC_REQ : CC_RESP;
    if (!(DIRECTIVES[id].sides & here))
        finding(r, W_CACHE_DIRECTIVE_MISPLACED, hv->side, off,
                "%s is a %s directive; in a %s it has no effect", name,
                here == CC_REQ ? "response" : "request", here == CC_REQ ? "request" : "response");
    directive_argument(cc, id, d, r, hv->side, off);
}

static void cc_init(struct cache_control *cc)
{
    /* Field by field: this runs twice per exchange a filter looks at, and a memset of this
     * size compiles to a slow string instruction. */
    cc->present = cc->invalid = 0;
    cc->no_cache_fields = cc->private_fields = false;
    cc->unknown = 0;
    cc->fields[0] = '\0';
    /* value[] is left alone: it is read only for directives in present */
}

static void parse_cache_control(const struct head_view *hv, struct cache_control *cc,
                                struct cache_report *r)
{
    if (!hv->base || hv->first[CF_CACHE_CONTROL] < 0)
        return;
    for (uint32_t i = (uint32_t)hv->first[CF_CACHE_CONTROL]; i < hv->m->head.nheaders; i++) {
        const struct http_header *h = hv_header(hv, i);
        if (!ieqn(hv->base + h->name.off, h->name.len, "cache-control", 13))
            continue;
        uint64_t off = hv_offset(hv, h);
        const uint8_t *p = hv->base + h->value.off, *end = p + h->value.len;
        struct directive_text d;
        while (next_directive(&p, end, &d)) {
            int id = -1;
            for (int k = 0; k < CC__COUNT && id < 0; k++)
                if (ieqn(d.name, d.name_len, DIRECTIVES[k].name, DIRECTIVES[k].len))
                    id = k;
            if (d.malformed)
                finding(r, W_CACHE_DIRECTIVE_INVALID, hv->side, off,
                        "malformed directive near '%.*s'", (int)(d.name_len < 40 ? d.name_len : 40),
                        (const char *)d.name);
            if (id >= 0) {
                directive_known(cc, (enum cache_directive)id, &d, r, hv, off);
                continue;
            }
            cc->unknown++;
            int near = directive_typo_of(d.name, d.name_len);
            if (near >= 0)
                finding(r, W_CACHE_DIRECTIVE_TYPO, hv->side, off,
                        "unknown directive '%.*s': did you mean %s?",
                        (int)(d.name_len < 40 ? d.name_len : 40), (const char *)d.name,
                        DIRECTIVES[near].name);
        }
    }
}

/* True when a comma-separated field holds token (any case) in any of its lines. */
static bool hv_has_token(const struct head_view *hv, enum cache_field f, const char *token)
{
    if (!hv->base || hv->first[f] < 0)
        return false;
    size_t tl = strlen(token);
    for (uint32_t i = (uint32_t)hv->first[f]; i < hv->m->head.nheaders; i++) {
        const struct http_header *h = hv_header(hv, i);
        if (!ieqn(hv->base + h->name.off, h->name.len, FIELDS[f].name, FIELDS[f].len))
            continue;
        const uint8_t *p = hv->base + h->value.off, *end = p + h->value.len;
        while (p < end) {
            while (p < end && (is_ows(*p) || *p == ','))
                p++;
            const uint8_t *t = p;
            while (p < end && *p != ',' && !is_ows(*p) && *p != '=')
                p++;
            if (ieqn(t, (size_t)(p - t), token, tl))
                return true;
            while (p < end && *p != ',')
                p++;
        }
    }
    return false;
}

/* ---- dates, Age, validators -------------------------------------------------------------- */

/* Parses a date field; reports unparseable or non-standard dates. */
static int64_t read_date(struct ctx *c, const struct head_view *hv, enum cache_field f)
{
    size_t n;
    const uint8_t *v = hv_value(hv, f, &n);
    if (!v)
        return CACHE_TIME_NONE;
    int64_t t;
    int64_t ref = c->response_ns ? c->response_ns / 1000000000 : CACHE_TIME_NONE;
    int rc = cache_date_parse((const char *)v, n, ref, &t);
    uint64_t off = hv_field_offset(hv, f);
    if (rc < 0) {
        /* "Expires: 0" and "-1" are a common idiom for "already expired": no finding. */
        bool idiom = f == CF_EXPIRES && (ieq(v, n, "0") || ieq(v, n, "-1"));
        if (!idiom)
            finding(c->r, W_CACHE_DATE_INVALID, hv->side, off, "%s '%.*s' is not an HTTP-date",
                    FIELDS[f].name, (int)(n < 40 ? n : 40), (const char *)v);
        return CACHE_TIME_NONE;
    }
    if (rc > 0)
        finding(c->r, W_CACHE_DATE_INVALID, hv->side, off,
                "%s '%.*s' is not in IMF-fixdate form; strict readers reject it", FIELDS[f].name,
                (int)(n < 40 ? n : 40), (const char *)v);
    return t;
}

static void read_age(struct ctx *c)
{
    size_t n;
    const uint8_t *v = hv_value(&c->resp, CF_AGE, &n);
    c->r->age_field = -1;
    if (!v)
        return;
    if (!parse_delta(v, n, &c->r->age_field)) {
        c->r->age_field = -1;
        finding(c->r, W_CACHE_AGE_INVALID, SIDE_SERVER, hv_field_offset(&c->resp, CF_AGE),
                "Age '%.*s' is not a number of seconds", (int)(n < 40 ? n : 40), (const char *)v);
    }
}

/* Splits an entity-tag: sets *weak and the opaque part (quotes included). False if invalid. */
static bool parse_etag(const uint8_t *v, size_t n, bool *weak, const uint8_t **opaque, size_t *olen)
{
    *weak = n >= 2 && v[0] == 'W' && v[1] == '/';
    if (*weak) {
        v += 2;
        n -= 2;
    }
    *opaque = v;
    *olen = n;
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return false;
    return memchr(v + 1, '"', n - 2) == NULL;
}

static void read_validators(struct ctx *c)
{
    struct cache_report *r = c->r;
    size_t n;
    const uint8_t *v = hv_value(&c->resp, CF_ETAG, &n);
    if (v) {
        copy_value(r->etag, sizeof r->etag, v, n);
        const uint8_t *o;
        size_t ol;
        if (!parse_etag(v, n, &r->etag_weak, &o, &ol))
            finding(r, W_CACHE_ETAG_INVALID, SIDE_SERVER, hv_field_offset(&c->resp, CF_ETAG),
                    "ETag '%.*s' is not a quoted string", (int)(n < 40 ? n : 40), (const char *)v);
    }
    r->last_modified = read_date(c, &c->resp, CF_LAST_MODIFIED);
    if (r->etag[0] || r->last_modified != CACHE_TIME_NONE)
        r->outcomes |= CACHE_VALIDATORS;
}

static void read_request(struct ctx *c)
{
    struct cache_report *r = c->r;
    static const struct {
        enum cache_field f;
        uint8_t bit;
    } CONDS[] = {{CF_IF_NONE_MATCH, CACHE_IF_NONE_MATCH},
                 {CF_IF_MODIFIED_SINCE, CACHE_IF_MODIFIED_SINCE},
                 {CF_IF_MATCH, CACHE_IF_MATCH},
                 {CF_IF_UNMODIFIED_SINCE, CACHE_IF_UNMODIFIED_SINCE},
                 {CF_IF_RANGE, CACHE_IF_RANGE}};
    c->method_get_head = true;
    c->ims = c->ius = CACHE_TIME_NONE;
    if (!c->req.base)
        return;
    r->request = true;
    const struct message *m = c->req.m;
    struct http_span method = m->head.method;
    c->method_get_head =
        http_span_eq(c->req.base, method, "GET") || http_span_eq(c->req.base, method, "HEAD");
    c->method_post =
        http_span_eq(c->req.base, method, "POST") || http_span_eq(c->req.base, method, "PATCH");
    for (size_t i = 0; i < sizeof CONDS / sizeof CONDS[0]; i++)
        if (c->req.first[CONDS[i].f] >= 0)
            r->conditional |= CONDS[i].bit;
    if (r->conditional & (CACHE_IF_NONE_MATCH | CACHE_IF_MODIFIED_SINCE))
        r->outcomes |= CACHE_CONDITIONAL;
    r->authorization = c->req.first[CF_AUTHORIZATION] >= 0;
    r->pragma_no_cache = hv_has_token(&c->req, CF_PRAGMA, "no-cache");
    if (r->conditional & CACHE_IF_MODIFIED_SINCE) {
        c->ims = read_date(c, &c->req, CF_IF_MODIFIED_SINCE);
        c->ims_invalid = c->ims == CACHE_TIME_NONE;
    }
    if (r->conditional & CACHE_IF_UNMODIFIED_SINCE)
        c->ius = read_date(c, &c->req, CF_IF_UNMODIFIED_SINCE);
}

/* ---- storage (RFC 9111 section 3) -------------------------------------------------------- */

/* Status codes RFC 9110 defines as heuristically cacheable (section 15.1). */
static bool heuristically_cacheable(unsigned status)
{
    switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501: return true;
    default: return false;
    }
}

/* Status codes whose caching rules hspy knows, for must-understand (RFC 9111 5.2.2.3). */
static bool status_understood(unsigned s)
{
    return (s >= 200 && s <= 206) || (s >= 300 && s <= 308 && s != 306) || (s >= 400 && s <= 417) ||
           s == 421 || s == 422 || s == 426 || s == 428 || s == 429 || s == 431 || s == 451 ||
           (s >= 500 && s <= 505) || s == 511;
}

/*
 * Whether a cache (shared or private) may store the response; *why gets the deciding reason.
 * The checks follow the order of the list in RFC 9111 section 3.
 */
static bool storable(struct ctx *c, bool shared, const char **why)
{
    const struct cache_report *r = c->r;
    const struct cache_control *cc = &r->resp_cc;
    bool expires = c->resp.first[CF_EXPIRES] >= 0;
    bool explicit_fresh = HAS(cc, CC_MAX_AGE) || expires || (shared && HAS(cc, CC_S_MAXAGE));
    if (!c->method_get_head &&
        !(c->method_post && explicit_fresh && c->resp.first[CF_CONTENT_LOCATION] >= 0)) {
        *why = c->method_post ? "POST and PATCH responses are stored only with explicit "
                                "freshness and Content-Location (RFC 9110 9.3.3)"
                              : "the request method is not cacheable (RFC 9110 9.2.3)";
        return false;
    }
    bool understood = status_understood(r->status);
    if (HAS(cc, CC_MUST_UNDERSTAND) && !understood) {
        *why = "must-understand with a status code caches do not know (RFC 9111 5.2.2.3)";
        return false;
    }
    if (HAS(cc, CC_NO_STORE) && !(HAS(cc, CC_MUST_UNDERSTAND) && understood)) {
        c->blocked_by_no_store = true;
        *why = "no-store in the response (RFC 9111 5.2.2.5)";
        return false;
    }
    if (HAS(&r->req_cc, CC_NO_STORE)) {
        c->blocked_by_no_store = true;
        *why = "no-store in the request (RFC 9111 5.2.1.5)";
        return false;
    }
    if (shared && HAS(cc, CC_PRIVATE) && !cc->private_fields) {
        *why = "private: only a private cache may store it (RFC 9111 5.2.2.7)";
        return false;
    }
    if (shared && r->authorization && !HAS(cc, CC_PUBLIC) && !HAS(cc, CC_S_MAXAGE) &&
        !HAS(cc, CC_MUST_REVALIDATE)) {
        *why = "the request carried Authorization and the response has no public, s-maxage or "
               "must-revalidate (RFC 9111 3.5)";
        return false;
    }
    if (HAS(cc, CC_PUBLIC))
        *why = "public (RFC 9111 5.2.2.9)";
    else if (shared && HAS(cc, CC_PRIVATE))
        *why = "private with field names: stored without those fields (RFC 9111 5.2.2.7)";
    else if (!shared && HAS(cc, CC_PRIVATE))
        *why = "private permits a private cache (RFC 9111 5.2.2.7)";
    else if (shared && HAS(cc, CC_S_MAXAGE))
        *why = "s-maxage (RFC 9111 5.2.2.10)";
    else if (HAS(cc, CC_MAX_AGE))
        *why = "max-age (RFC 9111 5.2.2.1)";
    else if (expires)
        *why = "Expires (RFC 9111 5.3)";
    else if (heuristically_cacheable(r->status))
        *why = "the status code is heuristically cacheable (RFC 9110 15.1)";
    else {
        *why = "the status code is not cacheable by default and nothing makes it cacheable "
               "(RFC 9111 3)";
        return false;
    }
    return true;
}

/* ---- freshness (RFC 9111 section 4.2) ---------------------------------------------------- */

static int64_t base_time(const struct ctx *c)
{
    if (c->r->date != CACHE_TIME_NONE)
        return c->r->date;
    return c->r->response_time;
}

/* Freshness lifetime as a shared or private cache computes it (RFC 9111 4.2.1, 4.2.2). */
static int64_t lifetime(const struct ctx *c, bool shared, uint8_t *source)
{
    const struct cache_report *r = c->r;
    const struct cache_control *cc = &r->resp_cc;
    static const enum cache_directive ORDER[] = {CC_S_MAXAGE, CC_MAX_AGE};
    for (size_t i = shared ? 0 : 1; i < 2; i++) {
        enum cache_directive d = ORDER[i];
        if (!HAS(cc, d))
            continue;
        if (cc->invalid >> d & 1) {
            *source = CACHE_SRC_INVALID;
            return 0;
        }
        *source = d == CC_S_MAXAGE ? CACHE_SRC_S_MAXAGE : CACHE_SRC_MAX_AGE;
        return cc->value[d];
    }
    if (c->resp.first[CF_EXPIRES] >= 0) {
        if (r->expires == CACHE_TIME_NONE) {
            *source = CACHE_SRC_INVALID; /* an invalid Expires means "already expired" */
            return 0;
        }
        *source = CACHE_SRC_EXPIRES;
        int64_t base = base_time(c);
        if (base == CACHE_TIME_NONE)
            return -1;
        return r->expires > base ? r->expires - base : 0;
    }
    int64_t base = base_time(c);
    if (r->last_modified != CACHE_TIME_NONE && base != CACHE_TIME_NONE && base > r->last_modified &&
        (heuristically_cacheable(r->status) || HAS(cc, CC_PUBLIC))) {
        *source = CACHE_SRC_HEURISTIC;
        return (base - r->last_modified) * CACHE_HEURISTIC_PERCENT / 100;
    }
    *source = CACHE_SRC_NONE;
    return 0;
}

/* Current age on arrival (RFC 9111 4.2.3 with now = response_time). */
static int64_t current_age(const struct ctx *c)
{
    const struct cache_report *r = c->r;
    int64_t apparent = 0, delay = 0;
    if (r->date != CACHE_TIME_NONE && r->response_time != CACHE_TIME_NONE &&
        r->response_time > r->date)
        apparent = r->response_time - r->date;
    if (c->request_ns && c->response_ns > c->request_ns)
        delay = (c->response_ns - c->request_ns) / 1000000000;
    int64_t corrected = (r->age_field > 0 ? r->age_field : 0) + delay;
    return apparent > corrected ? apparent : corrected;
}

/* ---- 304 (RFC 9110 13.1, 15.4.5) --------------------------------------------------------- */

/* Weak comparison of an entity-tag against an If-None-Match list (RFC 9110 8.8.3.2). */
static bool none_match_hits(const struct head_view *req, const uint8_t *etag, size_t en)
{
    bool weak;
    const uint8_t *want;
    size_t wl;
    parse_etag(etag, en, &weak, &want, &wl);
    for (uint32_t i = (uint32_t)req->first[CF_IF_NONE_MATCH]; i < req->m->head.nheaders; i++) {
        const struct http_header *h = hv_header(req, i);
        if (!ieq(req->base + h->name.off, h->name.len, "if-none-match"))
            continue;
        const uint8_t *p = req->base + h->value.off, *end = p + h->value.len;
        while (p < end) {
            while (p < end && (is_ows(*p) || *p == ','))
                p++;
            if (p < end && *p == '*')
                return true;
            if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
                p += 2;
            const uint8_t *o = p;
            if (p < end && *p == '"') {
                p++;
                while (p < end && *p != '"')
                    p++;
                if (p < end)
                    p++;
            }
            while (p < end && *p != ',' && !is_ows(*p))
                p++;
            if ((size_t)(p - o) == wl && memcmp(o, want, wl) == 0)
                return true;
        }
    }
    return false;
}

static void check_304(struct ctx *c)
{
    struct cache_report *r = c->r;
    r->outcomes |= CACHE_NOT_MODIFIED;
    if (!r->request) {
        r->not_modified_why = "the request was not seen";
        return;
    }
    uint64_t off = c->resp.m->head_off;
    size_t en;
    const uint8_t *etag = hv_value(&c->resp, CF_ETAG, &en);
    r->not_modified_ok = 0;
    if (!(r->conditional & (CACHE_IF_NONE_MATCH | CACHE_IF_MODIFIED_SINCE))) {
        r->not_modified_why = "the request had no If-None-Match or If-Modified-Since";
        finding(r, W_CACHE_304_UNCONDITIONAL, SIDE_SERVER, off,
                "304 to a request without If-None-Match or If-Modified-Since");
    } else if (r->conditional & CACHE_IF_NONE_MATCH) {
        /* If-None-Match takes precedence over If-Modified-Since (RFC 9110 13.2.2). */
        if (!etag) {
            r->not_modified_why = "the request sent If-None-Match but the 304 has no ETag "
                                  "(RFC 9110 15.4.5)";
            finding(r, W_CACHE_304_WITHOUT_VALIDATORS, SIDE_SERVER, off,
                    "the request sent If-None-Match but the 304 carries no ETag");
        } else if (!none_match_hits(&c->req, etag, en)) {
            r->not_modified_why = "the 304's ETag is not among the request's If-None-Match";
            finding(r, W_CACHE_304_MISMATCH, SIDE_SERVER, hv_field_offset(&c->resp, CF_ETAG),
                    "ETag %.*s matches no entity-tag of If-None-Match", (int)(en < 60 ? en : 60),
                    (const char *)etag);
        } else {
            r->not_modified_ok = 1;
            r->not_modified_why = "the ETag matches If-None-Match (weak comparison)";
        }
    } else if (!c->method_get_head || c->ims_invalid) {
        r->not_modified_why = "If-Modified-Since must be ignored here (invalid date, or not GET "
                              "or HEAD; RFC 9110 13.1.3)";
        finding(r, W_CACHE_304_MISMATCH, SIDE_SERVER, off,
                "If-Modified-Since should have been ignored, so 304 was not a valid answer");
    } else if (r->last_modified != CACHE_TIME_NONE && r->last_modified > c->ims) {
        char lm[CACHE_DATE_STRLEN], ims[CACHE_DATE_STRLEN];
        r->not_modified_why = "Last-Modified is later than If-Modified-Since";
        finding(r, W_CACHE_304_MISMATCH, SIDE_SERVER, hv_field_offset(&c->resp, CF_LAST_MODIFIED),
                "Last-Modified %s is later than If-Modified-Since %s",
                cache_date_format(r->last_modified, lm, sizeof lm),
                cache_date_format(c->ims, ims, sizeof ims));
    } else {
        r->not_modified_ok = 1;
        r->not_modified_why = "not modified since If-Modified-Since";
        if (!etag && r->last_modified == CACHE_TIME_NONE)
            finding(r, W_CACHE_304_WITHOUT_VALIDATORS, SIDE_SERVER, off,
                    "304 carries neither ETag nor Last-Modified: a cache cannot tell which "
                    "stored response it freshens");
    }
}

/* ---- consistency findings ---------------------------------------------------------------- */

static void check_expires_vs_max_age(struct ctx *c)
{
    struct cache_report *r = c->r;
    const struct cache_control *cc = &r->resp_cc;
    if (!HAS(cc, CC_MAX_AGE) || (cc->invalid >> CC_MAX_AGE & 1) || c->resp.first[CF_EXPIRES] < 0)
        return;
    int64_t max_age = cc->value[CC_MAX_AGE], base = base_time(c);
    int64_t by_expires = r->expires == CACHE_TIME_NONE ? 0 : -1;
    if (r->expires != CACHE_TIME_NONE) {
        if (base == CACHE_TIME_NONE)
            return;
        by_expires = r->expires > base ? r->expires - base : 0;
    }
    /* Same clock, so only a few seconds of slack; a cache that re-stamps Date shortens Expires
     * by the Age it adds. */
    int64_t slack = max_age / 100 > 10 ? max_age / 100 : 10;
    int64_t aged = max_age - (r->age_field > 0 ? r->age_field : 0);
    int64_t d1 = by_expires - max_age, d2 = by_expires - aged;
    if ((d1 < 0 ? -d1 : d1) <= slack || (d2 < 0 ? -d2 : d2) <= slack)
        return;
    char a[16], b[16];
    finding(r, W_CACHE_EXPIRES_MAXAGE_DISAGREE, SIDE_SERVER, hv_field_offset(&c->resp, CF_EXPIRES),
            "Expires gives %s, max-age gives %s", cache_duration_format(by_expires, a, sizeof a),
            cache_duration_format(max_age, b, sizeof b));
}

static void check_conflicts(struct ctx *c)
{
    static const struct {
        enum cache_directive a, b;
        bool positive_b; /* b conflicts only with a non-zero value */
    } PAIRS[] = {
        {CC_PUBLIC, CC_PRIVATE, false},     {CC_NO_STORE, CC_PUBLIC, false},
        {CC_NO_STORE, CC_MAX_AGE, true},    {CC_NO_STORE, CC_S_MAXAGE, true},
        {CC_NO_STORE, CC_IMMUTABLE, false}, {CC_NO_CACHE, CC_IMMUTABLE, false},
        {CC_PRIVATE, CC_S_MAXAGE, false},
    };
    const struct cache_control *cc = &c->r->resp_cc;
    if (!cc->present) /* no Cache-Control at all: nothing to contradict */
        return;
    uint64_t off = hv_field_offset(&c->resp, CF_CACHE_CONTROL);
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        if (!HAS(cc, PAIRS[i].a) || !HAS(cc, PAIRS[i].b))
            continue;
        if (PAIRS[i].positive_b && cc->value[PAIRS[i].b] <= 0)
            continue;
        /* must-understand with no-store as the fallback is the pattern RFC 9111 5.2.2.3
         * recommends, lifetime included */
        if (PAIRS[i].a == CC_NO_STORE && HAS(cc, CC_MUST_UNDERSTAND))
            continue;
        finding(c->r, W_CACHE_DIRECTIVES_CONFLICT, SIDE_SERVER, off,
                "%s contradicts %s: caches honour the more restrictive",
                DIRECTIVES[PAIRS[i].a].name, DIRECTIVES[PAIRS[i].b].name);
    }
}

static bool fields_name(const struct cache_control *cc, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = cc->fields; *p; p++)
        if (ieq((const uint8_t *)p, n, field) && (p == cc->fields || !is_tchar((uint8_t)p[-1])) &&
            !is_tchar((uint8_t)p[n]))
            return true;
    return false;
}

static void check_private_data(struct ctx *c)
{
    struct cache_report *r = c->r;
    const struct cache_control *cc = &r->resp_cc;
    bool any = r->shared_storable || r->private_storable;
    uint64_t cc_off = hv_field_offset(&c->resp, CF_CACHE_CONTROL);
    if (any && HAS(cc, CC_NO_CACHE) && !cc->no_cache_fields && (r->set_cookie || r->authorization))
        finding(r, W_CACHE_NO_CACHE_PRIVATE_DATA, SIDE_SERVER, cc_off,
                "no-cache on a response %s: caches may still store it; no-store keeps it out",
                r->set_cookie ? "that sets a cookie" : "to an authenticated request");
    bool cookie_excluded =
        (cc->private_fields || cc->no_cache_fields) && fields_name(cc, "set-cookie");
    if (r->shared_storable && r->set_cookie && !HAS(cc, CC_NO_CACHE) && !cookie_excluded &&
        c->shared_needs_explicit)
        finding(r, W_CACHE_SHARED_SET_COOKIE, SIDE_SERVER, hv_field_offset(&c->resp, CF_SET_COOKIE),
                "a shared cache may store this response with its Set-Cookie and reuse it for "
                "other users");
}

static void check_directive_use(struct ctx *c)
{
    struct cache_report *r = c->r;
    const struct cache_control *cc = &r->resp_cc;
    bool any = r->shared_storable || r->private_storable;
    bool revalidate = HAS(cc, CC_MUST_REVALIDATE) || HAS(cc, CC_PROXY_REVALIDATE);
    /* With no-cache or a lifetime the directive does its job; without, it waits for a
     * heuristic lifetime to run out. */
    if (any && revalidate && !HAS(cc, CC_NO_CACHE) && !c->explicit_expiry)
        finding(r, W_CACHE_MUST_REVALIDATE_NO_LIFETIME, SIDE_SERVER,
                hv_field_offset(&c->resp, CF_CACHE_CONTROL),
                "%s without a lifetime waits for a heuristic one to expire; max-age=0 or "
                "no-cache revalidates every time",
                HAS(cc, CC_MUST_REVALIDATE) ? "must-revalidate" : "proxy-revalidate");
    if (any && !HAS(cc, CC_NO_CACHE) && hv_has_token(&c->resp, CF_PRAGMA, "no-cache"))
        finding(r, W_CACHE_PRAGMA_IN_RESPONSE, SIDE_SERVER, hv_field_offset(&c->resp, CF_PRAGMA),
                "Pragma: no-cache in a response does not stop caching; use Cache-Control: "
                "no-cache or no-store");
    if (any && r->vary_star)
        finding(r, W_CACHE_VARY_STAR, SIDE_SERVER, hv_field_offset(&c->resp, CF_VARY),
                "Vary: * makes the stored response unusable without revalidation");
}

static void check_duplicate_fields(struct ctx *c)
{
    if (!c->resp.differs)
        return;
    for (int f = 0; f < CF__COUNT; f++)
        if (c->resp.differs >> f & 1)
            finding(c->r, W_CACHE_FIELD_DUPLICATE, SIDE_SERVER, hv_field_offset(&c->resp, f),
                    "%s repeated with different values", FIELDS[f].name);
}

/* ---- label and outcomes ------------------------------------------------------------------ */

/* The freshness verdict of a cache whose lifetime is life from source src (RFC 9111 4.2). */
static enum cache_freshness freshness(const struct cache_report *r, int64_t life, uint8_t src)
{
    bool no_cache = HAS(&r->resp_cc, CC_NO_CACHE) && !r->resp_cc.no_cache_fields;
    if (no_cache || r->vary_star || src == CACHE_SRC_INVALID ||
        (src != CACHE_SRC_NONE && life == 0))
        return CACHE_FRESHNESS_REVALIDATE;
    if (src == CACHE_SRC_NONE)
        return CACHE_FRESHNESS_NO_LIFETIME;
    if (life >= 0 && r->age >= life)
        return CACHE_FRESHNESS_STALE;
    return CACHE_FRESHNESS_FRESH;
}

static uint32_t freshness_outcomes(enum cache_freshness f, uint8_t src)
{
    static const uint32_t BITS[] = {
        [CACHE_FRESHNESS_NONE] = 0,
        [CACHE_FRESHNESS_FRESH] = CACHE_FRESH,
        [CACHE_FRESHNESS_STALE] = CACHE_STALE,
        [CACHE_FRESHNESS_REVALIDATE] = CACHE_REVALIDATE,
        [CACHE_FRESHNESS_NO_LIFETIME] = CACHE_REVALIDATE,
    };
    return BITS[f] |
           (f != CACHE_FRESHNESS_NONE && src == CACHE_SRC_HEURISTIC ? CACHE_HEURISTIC : 0);
}

/*
 * Appends a verdict's words to the label: "revalidate", "no lifetime", "stale", or for a fresh
 * response kind ("cacheable ", "heuristic " or "") and the lifetime. An unknown lifetime leaves
 * the kind alone, without its trailing space.
 */
static void put_verdict(char *l, size_t len, enum cache_freshness f, int64_t life, uint8_t src,
                        const char *kind)
{
    static const char *const WORDS[] = {
        [CACHE_FRESHNESS_REVALIDATE] = "revalidate",
        [CACHE_FRESHNESS_NO_LIFETIME] = "no lifetime",
        [CACHE_FRESHNESS_STALE] = "stale",
    };
    if (f != CACHE_FRESHNESS_FRESH) {
        put(l, len, WORDS[f]);
        return;
    }
    put(l, len, src == CACHE_SRC_HEURISTIC ? "heuristic " : kind);
    if (life >= 0) {
        char d[16];
        put(l, len, cache_duration_format(life, d, sizeof d));
    }
    size_t n = strlen(l);
    if (n && l[n - 1] == ' ')
        l[n - 1] = '\0';
}

/*
 * The label speaks for a shared cache when one may store the response, else for a private
 * one; when a browser's verdict differs from the shared cache's (its own lifetime, without
 * s-maxage), it is added: "cacheable 10m, browser stale".
 */
static void label_storable(struct ctx *c)
{
    struct cache_report *r = c->r;
    bool shared = r->shared_storable;
    if (r->shared_storable)
        r->shared_freshness = (uint8_t)freshness(r, r->shared_lifetime, r->shared_source);
    if (r->private_storable)
        r->freshness = (uint8_t)freshness(r, r->lifetime, r->source);
    r->outcomes |= CACHE_STORABLE | (shared ? CACHE_SHARED : CACHE_PRIVATE);
    r->outcomes |= freshness_outcomes((enum cache_freshness)r->shared_freshness, r->shared_source);
    r->outcomes |= freshness_outcomes((enum cache_freshness)r->freshness, r->source);
    char *l = r->label;
    size_t len = sizeof r->label;
    if (!shared) {
        put(l, len, "private ");
        put_verdict(l, len, (enum cache_freshness)r->freshness, r->lifetime, r->source, "");
        return;
    }
    put_verdict(l, len, (enum cache_freshness)r->shared_freshness, r->shared_lifetime,
                r->shared_source, "cacheable ");
    if (r->private_storable && r->freshness != r->shared_freshness) {
        put(l, len, ", browser ");
        put_verdict(l, len, (enum cache_freshness)r->freshness, r->lifetime, r->source, "fresh ");
    }
}

static void label(struct ctx *c)
{
    struct cache_report *r = c->r;
    if (r->vary[0])
        r->outcomes |= CACHE_VARY;
    if (r->status == 304) {
        if (r->not_modified_ok == 0)
            r->outcomes |= CACHE_BAD_304;
        put(r->label, sizeof r->label,
            r->not_modified_ok == 1 ? "revalidated"
                                    : (r->not_modified_ok == 0 ? "bad 304" : "304"));
        return;
    }
    if (!r->shared_storable && !r->private_storable) {
        r->outcomes |= CACHE_UNCACHEABLE | (c->blocked_by_no_store ? CACHE_NO_STORE : 0);
        put(r->label, sizeof r->label, c->blocked_by_no_store ? "no-store" : "uncacheable");
        return;
    }
    label_storable(c);
}

/* ---- entry points ------------------------------------------------------------------------ */

static void read_times(struct ctx *c)
{
    const struct exchange *ex = c->ex;
    c->request_ns = ex->t[T_REQ_FIRST] ? ex->t[T_REQ_FIRST] : ex->t[T_REQ_HEAD];
    c->response_ns = ex->t[T_RESP_HEAD] ? ex->t[T_RESP_HEAD] : ex->t[T_RESP_FIRST];
    c->r->response_time = c->response_ns ? c->response_ns / 1000000000 : CACHE_TIME_NONE;
}

static void read_response(struct ctx *c)
{
    struct cache_report *r = c->r;
    size_t n;
    r->date = read_date(c, &c->resp, CF_DATE);
    r->expires = read_date(c, &c->resp, CF_EXPIRES);
    read_age(c);
    read_validators(c);
    r->set_cookie = c->resp.first[CF_SET_COOKIE] >= 0;
    const uint8_t *v = hv_value(&c->resp, CF_VARY, &n);
    if (v) {
        copy_value(r->vary, sizeof r->vary, v, n);
        r->vary_star = hv_has_token(&c->resp, CF_VARY, "*");
    }
    const struct cache_control *cc = &r->resp_cc;
    c->explicit_expiry =
        HAS(cc, CC_MAX_AGE) || HAS(cc, CC_S_MAXAGE) || c->resp.first[CF_EXPIRES] >= 0;
    c->shared_needs_explicit = c->explicit_expiry || HAS(cc, CC_PUBLIC);
}

/*
 * Sets every field of the report to "nothing known". Field by field rather than memset: text
 * and findings are most of the report and are written only as far as used, and the filter
 * runs this per exchange. A field added to struct cache_report must be added here.
 */
static void report_reset(struct cache_report *r)
{
    r->analysed = r->request = false;
    r->status = 0;
    r->outcomes = 0;
    r->shared_storable = r->private_storable = false;
    r->shared_why = r->private_why = r->not_modified_why = NULL;
    r->lifetime = r->shared_lifetime = r->age_field = -1;
    r->source = r->shared_source = CACHE_SRC_NONE;
    r->freshness = r->shared_freshness = CACHE_FRESHNESS_NONE;
    r->age = 0;
    r->date = r->expires = r->last_modified = r->response_time = CACHE_TIME_NONE;
    r->pragma_no_cache = r->authorization = r->set_cookie = r->vary_star = false;
    r->etag_weak = false;
    r->conditional = 0;
    r->not_modified_ok = -1;
    r->nfindings = r->findings_dropped = 0;
    cc_init(&r->req_cc);
    cc_init(&r->resp_cc);
    r->label[0] = r->vary[0] = r->etag[0] = '\0';
}

void cache_analyze(const struct exchange *ex, struct cache_report *r)
{
    report_reset(r);
    if (!(ex->resp.flags & MSG_HEAD) || ex->resp.head.status < 200)
        return;
    struct ctx c; /* every field is set below, without a memset (see cc_init) */
    c.ex = ex;
    c.r = r;
    c.method_get_head = c.method_post = c.ims_invalid = false;
    c.explicit_expiry = c.blocked_by_no_store = c.shared_needs_explicit = false;
    r->analysed = true;
    r->status = ex->resp.head.status;
    hv_init(&c.req, &ex->req, SIDE_CLIENT);
    hv_init(&c.resp, &ex->resp, SIDE_SERVER);
    read_times(&c);
    parse_cache_control(&c.req, &r->req_cc, r);
    parse_cache_control(&c.resp, &r->resp_cc, r);
    read_request(&c);
    read_response(&c);
    check_duplicate_fields(&c);
    if (r->status == 304) {
        r->shared_why = r->private_why =
            "a 304 is not stored itself: it freshens the stored response (RFC 9111 4.3.4)";
        check_304(&c);
    } else {
        r->shared_storable = storable(&c, true, &r->shared_why);
        r->private_storable = storable(&c, false, &r->private_why);
    }
    r->lifetime = lifetime(&c, false, &r->source);
    r->shared_lifetime = lifetime(&c, true, &r->shared_source);
    r->age = current_age(&c);
    check_expires_vs_max_age(&c);
    check_conflicts(&c);
    check_private_data(&c);
    check_directive_use(&c);
    label(&c);
}

static void warn_findings(struct exchange *ex, const struct cache_report *r)
{
    for (uint8_t i = 0; i < r->nfindings; i++) {
        const struct cache_finding *f = &r->findings[i];
        exchange_warn(ex, (enum warning_code)f->code, (enum side)f->side, f->offset, "%s",
                      f->detail);
    }
}

void cache_warn(struct exchange *ex)
{
    struct cache_report r;
    cache_analyze(ex, &r);
    warn_findings(ex, &r);
}

void cache_record(struct exchange *ex)
{
    struct cache_report r;
    cache_analyze(ex, &r);
    warn_findings(ex, &r);
    ex->cache_outcomes = r.analysed ? r.outcomes : 0;
    ex->cache_label = r.analysed && r.label[0] ? arena_strdup(&ex->arena, r.label) : NULL;
    ex->cache_done = true;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void write_directives(struct jsonwrite *w, const struct cache_control *cc)
{
    jsonwrite_begin_object(w);
    for (int d = 0; d < CC__COUNT; d++) {
        if (!HAS(cc, d))
            continue;
        jsonwrite_name(w, DIRECTIVES[d].name);
        size_t n;
        if (cc->invalid >> d & 1)
            jsonwrite_null(w);
        else if (cc->value[d] >= 0)
            jsonwrite_int(w, cc->value[d]);
        else if (!((d == CC_NO_CACHE && cc->no_cache_fields) ||
                   (d == CC_PRIVATE && cc->private_fields)))
            jsonwrite_bool(w, true);
        else if (utf8_valid((const uint8_t *)cc->fields, n = strlen(cc->fields)))
            jsonwrite_string(w, cc->fields, n);
        else
            jsonwrite_null(w);
    }
    jsonwrite_end(w);
}

static void write_time(struct jsonwrite *w, const char *k, int64_t t)
{
    char buf[CACHE_DATE_STRLEN];
    if (t == CACHE_TIME_NONE)
        return;
    jsonwrite_name(w, k);
    jsonwrite_cstring(w, cache_date_format(t, buf, sizeof buf));
}

static void write_storage(struct jsonwrite *w, const char *k, bool storable, const char *why,
                          enum cache_freshness f)
{
    jsonwrite_name(w, k);
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "storable");
    jsonwrite_bool(w, storable);
    jsonwrite_name(w, "why");
    jsonwrite_cstring(w, why ? why : "");
    jsonwrite_name(w, "freshness");
    jsonwrite_cstring_or_null(w, cache_freshness_name(f));
    jsonwrite_end(w);
}

static void write_lifetime(struct jsonwrite *w, const char *k, int64_t lifetime,
                           const char *source_key, enum cache_source source)
{
    jsonwrite_name(w, k);
    if (lifetime >= 0)
        jsonwrite_int(w, lifetime);
    else
        jsonwrite_null(w);
    jsonwrite_name(w, source_key);
    jsonwrite_cstring(w, cache_source_name(source));
}

/* The names of the set bits of bits, as an array. */
static void write_names(struct jsonwrite *w, const char *k, unsigned bits, const char *const *names,
                        int count)
{
    jsonwrite_name(w, k);
    jsonwrite_begin_array(w);
    for (int i = 0; i < count; i++)
        if (bits >> i & 1)
            jsonwrite_cstring(w, names[i]);
    jsonwrite_end(w);
}

static void write_not_modified(struct jsonwrite *w, const struct cache_report *r)
{
    jsonwrite_name(w, "not_modified");
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "consistent");
    if (r->not_modified_ok < 0)
        jsonwrite_null(w);
    else
        jsonwrite_bool(w, r->not_modified_ok == 1);
    jsonwrite_name(w, "why");
    jsonwrite_cstring(w, r->not_modified_why ? r->not_modified_why : "");
    jsonwrite_end(w);
}

void cache_write(struct jsonwrite *w, const struct cache_report *r)
{
    static const char *const CONDS[] = {"if-none-match", "if-modified-since", "if-match",
                                        "if-unmodified-since", "if-range"};
    if (!r->analysed) {
        jsonwrite_null(w);
        return;
    }
    jsonwrite_begin_object(w);
    jsonwrite_name(w, "label");
    jsonwrite_cstring(w, r->label);
    write_names(w, "outcomes", r->outcomes, OUTCOME_NAMES, CACHE_OUTCOME_COUNT);
    write_storage(w, "shared", r->shared_storable, r->shared_why,
                  (enum cache_freshness)r->shared_freshness);
    write_storage(w, "private", r->private_storable, r->private_why,
                  (enum cache_freshness)r->freshness);
    write_lifetime(w, "lifetime", r->lifetime, "lifetime_source", r->source);
    write_lifetime(w, "shared_lifetime", r->shared_lifetime, "shared_lifetime_source",
                   r->shared_source);
    jsonwrite_name(w, "age");
    jsonwrite_int(w, r->age);
    if (r->age_field >= 0) {
        jsonwrite_name(w, "age_field");
        jsonwrite_int(w, r->age_field);
    }
    write_time(w, "date", r->date);
    write_time(w, "expires", r->expires);
    write_time(w, "last_modified", r->last_modified);
    if (r->etag[0]) {
        jsonwrite_name(w, "etag");
        jsonwrite_lossy(w, r->etag, strlen(r->etag));
        jsonwrite_name(w, "etag_weak");
        jsonwrite_bool(w, r->etag_weak);
    }
    if (r->vary[0]) {
        jsonwrite_name(w, "vary");
        jsonwrite_lossy(w, r->vary, strlen(r->vary));
    }
    jsonwrite_name(w, "request_directives");
    write_directives(w, &r->req_cc);
    jsonwrite_name(w, "response_directives");
    write_directives(w, &r->resp_cc);
    write_names(w, "conditional", r->conditional, CONDS, 5);
    if (r->status == 304)
        write_not_modified(w, r);
    jsonwrite_end(w);
}

json_t *cache_json(const struct cache_report *r)
{
    struct jsonwrite w;
    jsonwrite_init_tree(&w);
    cache_write(&w, r);
    return jsonwrite_take(&w);
}
