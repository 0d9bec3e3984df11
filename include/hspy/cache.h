/*
 * cache: what a browser (private cache) and a CDN or proxy (shared cache) would do with an
 * exchange's response, worked out per RFC 9111 from the request and response heads alone.
 *
 * cache_analyze is pure and allocation-free: it reads the exchange and fills a caller's
 * struct cache_report (fixed size, no pointers into the exchange, so the report outlives it).
 * Ages are computed as of the moment the response arrived (RFC 9111 section 4.2.3 with
 * now = response_time), so the same capture always gives the same answer. Mistakes found on the
 * way become findings; cache_warn copies them onto the exchange as warnings.
 */
#ifndef HSPY_CACHE_H
#define HSPY_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"
#include "hspy/jsonwrite.h"
#include "hspy/warning.h"

enum {
    CACHE_FINDINGS_MAX = 16, /* findings kept per report; more are counted in findings_dropped */
    CACHE_DETAIL_MAX = 128,  /* bytes of one finding's detail text, NUL included */
    CACHE_LABEL_MAX = 48,    /* bytes of the flow-list label, NUL included */
    CACHE_VALUE_MAX = 96,    /* bytes kept of an ETag, Vary or field-list value, NUL included */
    CACHE_DATE_STRLEN = 30,  /* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL */
};
/* Heuristic freshness is this percentage of the time since Last-Modified (RFC 9111 4.2.2). */
#define CACHE_HEURISTIC_PERCENT 10
/* delta-seconds values too large to represent are taken as this (RFC 9111 1.2.2). */
#define CACHE_DELTA_MAX INT64_C(2147483648)
/* Sentinel for "no time": absent or unparseable. */
#define CACHE_TIME_NONE INT64_MIN

/* Outcome bits: what the flow list shows and what `~cache WORD` selects. */
enum cache_outcome {
    CACHE_STORABLE = 1 << 0,      /* "storable": some cache may store it */
    CACHE_SHARED = 1 << 1,        /* "shared": a shared cache may store it */
    CACHE_PRIVATE = 1 << 2,       /* "private": only a private cache may store it */
    CACHE_NO_STORE = 1 << 3,      /* "no-store": no-store (either side) keeps it out of caches */
    CACHE_UNCACHEABLE = 1 << 4,   /* "uncacheable": no cache may store it, whatever the reason */
    CACHE_FRESH = 1 << 5,         /* "fresh": storable and fresh when it arrived */
    CACHE_STALE = 1 << 6,         /* "stale": had a lifetime, but was older than it on arrival */
    CACHE_HEURISTIC = 1 << 7,     /* "heuristic": lifetime guessed from Last-Modified */
    CACHE_REVALIDATE = 1 << 8,    /* "revalidate": must be validated before every reuse */
    CACHE_VALIDATORS = 1 << 9,    /* "validators": carries an ETag or Last-Modified */
    CACHE_CONDITIONAL = 1 << 10,  /* "conditional": request had If-None-Match/If-Modified-Since */
    CACHE_NOT_MODIFIED = 1 << 11, /* "not-modified": the response is a 304 */
    CACHE_BAD_304 = 1 << 12,      /* "bad-304": a 304 inconsistent with the request */
    CACHE_VARY = 1 << 13,         /* "vary": the response varies on request fields */
    CACHE_OUTCOME_COUNT = 14,
};

/* Where a freshness lifetime came from. */
enum cache_source {
    CACHE_SRC_NONE = 0,  /* none: no explicit lifetime and no basis for a heuristic */
    CACHE_SRC_S_MAXAGE,  /* s-maxage (shared caches only) */
    CACHE_SRC_MAX_AGE,   /* max-age */
    CACHE_SRC_EXPIRES,   /* Expires minus Date */
    CACHE_SRC_HEURISTIC, /* CACHE_HEURISTIC_PERCENT of Date minus Last-Modified */
    CACHE_SRC_INVALID,   /* invalid freshness information, taken as already stale */
};

/*
 * What one kind of cache (shared or private) makes of a response it may store, on arrival
 * (RFC 9111 4.2). Each kind has its own lifetime (s-maxage is for shared caches only), so the two
 * verdicts can differ: `s-maxage=600, max-age=60` with `Age: 120` is fresh for a CDN and stale
 * for a browser.
 */
enum cache_freshness {
    CACHE_FRESHNESS_NONE = 0,    /* that cache may not store it (or a 304, or not analysed) */
    CACHE_FRESHNESS_FRESH,       /* "fresh": younger than its lifetime */
    CACHE_FRESHNESS_STALE,       /* "stale": had a lifetime, but was older than it on arrival */
    CACHE_FRESHNESS_REVALIDATE,  /* "revalidate": no-cache, a zero or invalid lifetime, Vary: * */
    CACHE_FRESHNESS_NO_LIFETIME, /* "no-lifetime": no explicit lifetime, nothing to guess from */
};

/* Cache-Control directives hspy knows (RFC 9111 section 5.2, RFC 5861, RFC 8246). */
enum cache_directive {
    CC_MAX_AGE = 0,
    CC_S_MAXAGE,
    CC_NO_CACHE,
    CC_NO_STORE,
    CC_NO_TRANSFORM,
    CC_PUBLIC,
    CC_PRIVATE,
    CC_MUST_REVALIDATE,
    CC_PROXY_REVALIDATE,
    CC_MUST_UNDERSTAND,
    CC_IMMUTABLE,
    CC_MAX_STALE,
    CC_MIN_FRESH,
    CC_ONLY_IF_CACHED,
    CC_STALE_WHILE_REVALIDATE,
    CC_STALE_IF_ERROR,
    CC__COUNT
};

/* The Cache-Control directives of one message (all its Cache-Control lines together). */
struct cache_control {
    uint32_t present;             /* bit (1 << enum cache_directive) per directive seen */
    uint32_t invalid;             /* bit per directive whose argument was unusable */
    int64_t value[CC__COUNT];     /* for directives in present only: the delta-seconds
                                     argument of the first occurrence, -1 when it had none */
    bool no_cache_fields;         /* no-cache="field-list": only those fields need revalidation */
    bool private_fields;          /* private="field-list": shared caches may store the rest */
    uint16_t unknown;             /* directives hspy does not know (extensions are allowed) */
    char fields[CACHE_VALUE_MAX]; /* the field list of no-cache or private, as sent */
};

/* Which conditional request fields were present (RFC 9110 section 13.1). */
enum cache_conditional {
    CACHE_IF_NONE_MATCH = 1 << 0,
    CACHE_IF_MODIFIED_SINCE = 1 << 1,
    CACHE_IF_MATCH = 1 << 2,
    CACHE_IF_UNMODIFIED_SINCE = 1 << 3,
    CACHE_IF_RANGE = 1 << 4,
};

/* A mistake found during analysis; cache_warn turns it into an exchange warning. */
struct cache_finding {
    uint16_t code;   /* enum warning_code (a W_CACHE_* code) */
    uint8_t side;    /* enum side whose bytes hold the problem */
    uint64_t offset; /* side offset of the field line */
    char detail[CACHE_DETAIL_MAX];
};

/* Text and findings last: analysis writes them only as far as used (see report_reset). */
struct cache_report {
    bool analysed;     /* a final response head was there to analyse; nothing else is set if not */
    bool request;      /* the request head was there too */
    uint16_t status;   /* of the final response */
    uint32_t outcomes; /* enum cache_outcome bits */
    bool shared_storable, private_storable;
    const char *shared_why;        /* static text: the deciding reason, with its RFC section */
    const char *private_why;       /* static text, likewise */
    int64_t lifetime;              /* seconds, as a private cache computes it (s-maxage ignored) */
    int64_t shared_lifetime;       /* seconds, as a shared cache computes it */
    uint8_t source, shared_source; /* enum cache_source of each */
    uint8_t freshness;             /* enum cache_freshness for a private cache */
    uint8_t shared_freshness;      /* enum cache_freshness for a shared cache */
    int64_t age;                   /* current age on arrival, seconds (RFC 9111 4.2.3) */
    int64_t age_field;             /* Age value, -1 when absent or invalid */
    int64_t date, expires, last_modified; /* seconds since the epoch, or CACHE_TIME_NONE */
    int64_t response_time; /* seconds since the epoch when the response arrived, or NONE */
    bool pragma_no_cache;  /* request: Pragma: no-cache (acts as no-cache without CC) */
    bool authorization;    /* request carried Authorization */
    bool set_cookie;       /* response carries Set-Cookie */
    bool vary_star;
    bool etag_weak;
    uint8_t conditional;    /* enum cache_conditional bits of the request */
    int8_t not_modified_ok; /* 304 only: 1 consistent with the request, 0 not; -1 otherwise */
    uint8_t nfindings;
    uint8_t findings_dropped;
    const char *not_modified_why; /* static text explaining not_modified_ok, or NULL */
    struct cache_control req_cc, resp_cc;
    char label[CACHE_LABEL_MAX]; /* "cacheable 1h", "private 5m", "cacheable 10m, browser
                                    stale", "no-store", ... */
    char vary[CACHE_VALUE_MAX];  /* Vary as sent ("" when absent) */
    char etag[CACHE_VALUE_MAX];  /* ETag as sent ("" when absent) */
    struct cache_finding findings[CACHE_FINDINGS_MAX];
};

/*
 * Analyses ex's response (and its request, when present) into *r, overwriting it entirely.
 * Reads ex only, allocates nothing; r holds no pointers into ex. Without a final response
 * head, r->analysed is false and the label is empty.
 */
void cache_analyze(const struct exchange *ex, struct cache_report *r);

/*
 * Analyses ex and records every finding as a warning on ex (exchange_warn, so calling it again
 * adds nothing new). Call when a response head is complete; later calls are harmless.
 */
void cache_warn(struct exchange *ex);

/*
 * What the store does with every exchange as it completes: analyses it once, records the
 * findings as warnings (as cache_warn) and keeps the outcome bits and the flow-list label on
 * the exchange (cache_done), so that filters and views need not analyse it again.
 */
void cache_record(struct exchange *ex);

/*
 * Writes the `cache` object of --json and HAR comments for r to w (schema in docs/cache.md):
 * an object, or null when r was not analysed.
 */
void cache_write(struct jsonwrite *w, const struct cache_report *r);

/* The same as a jansson value: a new reference the caller owns. */
json_t *cache_json(const struct cache_report *r);

/* Stable name of one outcome bit ("fresh"), or NULL for a value that is not one bit. */
const char *cache_outcome_name(enum cache_outcome o);
/* Outcome bit for a name, or 0 when unknown. */
enum cache_outcome cache_outcome_by_name(const char *name, size_t len);
/* Name of a freshness verdict ("stale"), or NULL for CACHE_FRESHNESS_NONE. */
const char *cache_freshness_name(enum cache_freshness f);
/* Name of a lifetime source ("max-age"). */
const char *cache_source_name(enum cache_source s);
/* Name of a directive ("s-maxage"). */
const char *cache_directive_name(enum cache_directive d);

/*
 * Parses an HTTP-date in any of the three formats of RFC 9110 section 5.6.7 (IMF-fixdate,
 * RFC 850, asctime), independent of the locale. ref (seconds since the epoch, or
 * CACHE_TIME_NONE) resolves two-digit years: a year more than 50 years after ref is taken a
 * century earlier. Returns 0 for a well-formed date, 1 for a date read leniently (wrong weekday,
 * odd case, 4-digit year in RFC 850 form, "UTC" zone), -1 when unparseable. *out is set unless -1.
 */
int cache_date_parse(const char *s, size_t n, int64_t ref, int64_t *out);
/* Writes t as an IMF-fixdate into buf (at least CACHE_DATE_STRLEN bytes). Returns buf. */
char *cache_date_format(int64_t t, char *buf, size_t len);
/* Writes a lifetime compactly ("45s", "5m", "1.5h", "2d"). Returns buf. */
char *cache_duration_format(int64_t seconds, char *buf, size_t len);

#endif
