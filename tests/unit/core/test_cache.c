/*
 * Cache analysis per RFC 9111: one table line per rule, named by its section, each checking
 * storability by shared and private caches, the flow-list label, lifetimes, outcomes and the
 * exact set of cache warnings. Then HTTP-date parsing (three formats, leniency, every prefix),
 * duration labels, the JSON object and cache_warn.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cache.h"
#include "hspy/exchange.h"

/* The response of every case arrives at this time; DATE says the same. */
static const int64_t T = INT64_C(1700000000);
#define NS INT64_C(1000000000)

#define DATE       "Date: Tue, 14 Nov 2023 22:13:20 GMT\\r\\n"
#define DATE_M1H   "Tue, 14 Nov 2023 21:13:20 GMT"
#define DATE_P1H   "Tue, 14 Nov 2023 23:13:20 GMT"
#define DATE_M10D  "Sat, 04 Nov 2023 22:13:20 GMT"
#define GET(extra) "GET /r HTTP/1.1\\r\\nHost: h\\r\\n" extra "\\r\\n"
#define REQ(method, extra)                                                                         \
    method " /r HTTP/1.1\\r\\nHost: h\\r\\n" extra "Content-Length: 0\\r\\n\\r\\n"
#define RESP(status, extra) "HTTP/1.1 " status "\\r\\n" DATE extra "Content-Length: 0\\r\\n\\r\\n"
#define R200(extra)         RESP("200 OK", extra)
#define R304(extra)         "HTTP/1.1 304 Not Modified\\r\\n" DATE extra "\\r\\n"
#define CC(v)               "Cache-Control: " v "\\r\\n"

enum { ANY = -99 }; /* do not check this field */

static const struct cache_case {
    const char *name; /* RFC 9111 section (or RFC 9110 where the rule lives there) and rule */
    const char *req;  /* NULL: no request seen */
    const char *resp;
    int delay;        /* seconds between the request and the response */
    int shared, priv; /* expected storability, or ANY */
    const char *label;
    int64_t life, shared_life; /* seconds, or ANY */
    const char *warnings;      /* exactly these cache warnings, space separated */
    const char *outcomes;      /* at least these outcomes */
} CASES[] = {
    /* section 3: storing responses */
    {"3 GET 200 with max-age: both caches may store", GET(""), R200(CC("max-age=3600")), 0, 1, 1,
     "cacheable 1h", 3600, 3600, "", "storable shared fresh"},
    {"3 HEAD is cacheable like GET", "HEAD /r HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
     R200(CC("max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "", "fresh"},
    {"3 POST without explicit freshness is not stored", REQ("POST", ""), R200(""), 0, 0, 0,
     "uncacheable", ANY, ANY, "", "uncacheable"},
    {"3 + RFC 9110 9.3.3 POST with max-age and Content-Location is stored", REQ("POST", ""),
     R200(CC("max-age=60") "Content-Location: /r\\r\\n"), 0, 1, 1, "cacheable 1m", 60, 60, "",
     "storable"},
    {"3 + RFC 9110 9.2.3 PUT responses are never stored", REQ("PUT", ""), R200(CC("max-age=60")), 0,
     0, 0, "uncacheable", ANY, ANY, "", "uncacheable"},
    {"3 302 without freshness is not cacheable by default", GET(""),
     RESP("302 Found", "Location: /x\\r\\n"), 0, 0, 0, "uncacheable", ANY, ANY, "", "uncacheable"},
    {"3 302 with max-age is stored", GET(""), RESP("302 Found", CC("max-age=60")), 0, 1, 1,
     "cacheable 1m", 60, 60, "", "storable"},
    {"3 + RFC 9110 15.1 404 is heuristically cacheable", GET(""),
     RESP("404 Not Found", "Last-Modified: " DATE_M10D "\\r\\n"), 0, 1, 1, "heuristic 1d", 86400,
     86400, "", "storable heuristic fresh validators"},
    {"3 + RFC 9110 15.1 410 without Last-Modified has no lifetime", GET(""), RESP("410 Gone", ""),
     0, 1, 1, "no lifetime", 0, 0, "", "storable revalidate"},
    {"3 + RFC 9110 15.1 206 is heuristically cacheable", GET("Range: bytes=0-0\\r\\n"),
     RESP("206 Partial Content", "Last-Modified: " DATE_M10D "\\r\\n"), 0, 1, 1, "heuristic 1d",
     ANY, ANY, "", "heuristic"},
    {"3 + 5.2.2.9 public makes a 500 storable", GET(""), RESP("500 Oops", CC("public")), 0, 1, 1,
     "no lifetime", 0, 0, "", "storable shared"},
    {"3 a response without a request seen is analysed as if for GET", NULL, R200(CC("max-age=60")),
     0, 1, 1, "cacheable 1m", 60, 60, "", "storable"},
    /* section 5.2: directives */
    {"5.2.2.5 no-store in the response", GET(""), R200(CC("no-store")), 0, 0, 0, "no-store", ANY,
     ANY, "", "no-store uncacheable"},
    {"5.2.1.5 no-store in the request", GET(CC("no-store")), R200(CC("max-age=60")), 0, 0, 0,
     "no-store", ANY, ANY, "", "no-store uncacheable"},
    {"5.2.2.3 must-understand lets an understood status ignore no-store", GET(""),
     R200(CC("must-understand, no-store, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "",
     "storable"},
    {"5.2.2.3 must-understand with an unknown status is not stored", GET(""),
     RESP("299 Odd", CC("must-understand, no-store, max-age=60")), 0, 0, 0, "uncacheable", ANY, ANY,
     "", "uncacheable"},
    {"5.2.2.7 private: only private caches", GET(""), R200(CC("private, max-age=300")), 0, 0, 1,
     "private 5m", 300, 300, "", "storable private fresh"},
    {"5.2.2.7 private with field names: shared caches store the rest", GET(""),
     R200(CC("private=\"Set-Cookie\", max-age=300")), 0, 1, 1, "cacheable 5m", 300, 300, "",
     "shared"},
    {"3.5 Authorization keeps it out of shared caches", GET("Authorization: Basic eDp5\\r\\n"),
     R200(CC("max-age=60")), 0, 0, 1, "private 1m", 60, 60, "", "private"},
    {"3.5 Authorization with public", GET("Authorization: Basic eDp5\\r\\n"),
     R200(CC("public, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "", "shared"},
    {"3.5 Authorization with s-maxage", GET("Authorization: Basic eDp5\\r\\n"),
     R200(CC("s-maxage=60")), 0, 1, 1, "cacheable 1m, browser no lifetime", 0, 60, "",
     "shared fresh revalidate"},
    {"3.5 Authorization with must-revalidate", GET("Authorization: Basic eDp5\\r\\n"),
     R200(CC("must-revalidate, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "", "shared"},
    {"5.2.2.10 s-maxage overrides max-age for shared caches only", GET(""),
     R200(CC("max-age=60, s-maxage=600")), 0, 1, 1, "cacheable 10m", 60, 600, "", "shared"},
    {"4.2 each cache judges freshness by its own lifetime: fresh for a CDN, stale for a browser",
     GET(""), R200(CC("s-maxage=600, max-age=60") "Age: 120\\r\\n"), 0, 1, 1,
     "cacheable 10m, browser stale", 60, 600, "", "storable shared fresh stale"},
    {"4.2 stale for a CDN, fresh for a browser", GET(""),
     R200(CC("s-maxage=60, max-age=600") "Age: 120\\r\\n"), 0, 1, 1, "stale, browser fresh 10m",
     600, 60, "", "storable shared fresh stale"},
    {"4.2 both stale: said once", GET(""), R200(CC("s-maxage=60, max-age=90") "Age: 120\\r\\n"), 0,
     1, 1, "stale", 90, 60, "", "stale"},
    {"4.2 a browser must revalidate what a CDN may serve", GET(""),
     R200(CC("s-maxage=600, max-age=0")), 0, 1, 1, "cacheable 10m, browser revalidate", 0, 600, "",
     "fresh revalidate"},
    {"5.2.2.4 no-cache: stored, revalidated before every reuse", GET(""), R200(CC("no-cache")), 0,
     1, 1, "revalidate", ANY, ANY, "", "storable revalidate"},
    {"5.2.2.1 max-age=0: stale at once", GET(""), R200(CC("max-age=0")), 0, 1, 1, "revalidate", 0,
     0, "", "revalidate"},
    {"1.2.2 delta-seconds too large become 2^31", GET(""), R200(CC("max-age=99999999999999")), 0, 1,
     1, "cacheable 24855d", 2147483648, 2147483648, "", "fresh"},
    {"4.2.1 + 5.2 invalid max-age is treated as stale", GET(""), R200(CC("max-age=soon")), 0, 1, 1,
     "revalidate", 0, 0, "cache-directive-invalid", "revalidate"},
    {"5.2 max-age without a value is invalid", GET(""), R200(CC("max-age")), 0, 1, 1, "revalidate",
     0, 0, "cache-directive-invalid", "revalidate"},
    {"5.2 quoted max-age is read, and reported", GET(""), R200(CC("max-age=\"60\"")), 0, 1, 1,
     "cacheable 1m", 60, 60, "cache-directive-invalid", "fresh"},
    {"5.2 a directive without arguments given one", GET(""), R200(CC("public=yes, max-age=60")), 0,
     1, 1, "cacheable 1m", 60, 60, "cache-directive-invalid", "fresh"},
    {"4.2.1 repeated max-age: the first counts", GET(""), R200(CC("max-age=60") CC("max-age=3600")),
     0, 1, 1, "cacheable 1m", 60, 60, "cache-directive-duplicate", "fresh"},
    {"5.2.3 unknown near-miss directive is ignored and reported", GET(""), R200(CC("maxage=60")), 0,
     1, 1, "no lifetime", 0, 0, "cache-directive-typo", "revalidate"},
    {"5.2.3 unknown extension directives are ignored quietly", GET(""),
     R200(CC("pre-check=0, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "", "fresh"},
    {"5.2.2 response directive in a request has no effect", GET(CC("public")),
     R200(CC("max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "cache-directive-misplaced", ""},
    {"5.2.1 request directive in a response has no effect", GET(""),
     R200(CC("min-fresh=5, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60,
     "cache-directive-misplaced", ""},
    {"4.2.1 conflicting public and private: the restrictive wins", GET(""),
     R200(CC("public, private, max-age=60")), 0, 0, 1, "private 1m", 60, 60,
     "cache-directives-conflict", "private"},
    {"4.2.1 no-store with a lifetime: no-store wins", GET(""), R200(CC("no-store, max-age=3600")),
     0, 0, 0, "no-store", ANY, ANY, "cache-directives-conflict", "no-store"},
    {"5.2.2.4 + RFC 8246 immutable with no-cache conflict", GET(""),
     R200(CC("no-cache, immutable")), 0, 1, 1, "revalidate", ANY, ANY, "cache-directives-conflict",
     "revalidate"},
    {"5.2.2.2 must-revalidate without a lifetime", GET(""),
     R200(CC("must-revalidate") "Last-Modified: " DATE_M10D "\\r\\n"), 0, 1, 1, "heuristic 1d",
     86400, 86400, "cache-must-revalidate-without-lifetime", "heuristic"},
    {"5.2.2.2 must-revalidate with max-age is fine", GET(""),
     R200(CC("must-revalidate, max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60, "", "fresh"},
    {"5.2.2.2 must-revalidate with no-cache is fine", GET(""),
     R200(CC("no-cache, must-revalidate")), 0, 1, 1, "revalidate", ANY, ANY, "", "revalidate"},
    {"5.2.2.4 no-cache on a response setting a cookie", GET(""),
     R200(CC("no-cache") "Set-Cookie: sid=1\\r\\n"), 0, 1, 1, "revalidate", ANY, ANY,
     "cache-no-cache-private-data", "revalidate"},
    {"5.2.2.4 no-cache on an authenticated answer", GET("Authorization: Basic eDp5\\r\\n"),
     R200(CC("no-cache")), 0, 0, 1, "private revalidate", ANY, ANY, "cache-no-cache-private-data",
     "private revalidate"},
    {"3 Set-Cookie does not inhibit shared caching", GET(""),
     R200(CC("max-age=60") "Set-Cookie: sid=1\\r\\n"), 0, 1, 1, "cacheable 1m", 60, 60,
     "cache-shared-set-cookie", "shared"},
    {"5.2.2.7 private=Set-Cookie keeps the cookie out of shared caches", GET(""),
     R200(CC("max-age=60, private=\"Set-Cookie\"") "Set-Cookie: sid=1\\r\\n"), 0, 1, 1,
     "cacheable 1m", 60, 60, "", "shared"},
    {"3 Set-Cookie on a heuristically cacheable response is not flagged", GET(""),
     R200("Set-Cookie: sid=1\\r\\n"), 0, 1, 1, "no lifetime", 0, 0, "", "storable"},
    {"5.4 Pragma: no-cache in a response means nothing", GET(""), R200("Pragma: no-cache\\r\\n"), 0,
     1, 1, "no lifetime", 0, 0, "cache-pragma-in-response", "storable"},
    {"5.4 Pragma with Cache-Control: no-cache is fine", GET(""),
     R200("Pragma: no-cache\\r\\n" CC("no-cache")), 0, 1, 1, "revalidate", ANY, ANY, "",
     "revalidate"},
    /* sections 4.2 and 5.3: freshness and age */
    {"4.2.1 + 5.3 Expires minus Date", GET(""), R200("Expires: " DATE_P1H "\\r\\n"), 0, 1, 1,
     "cacheable 1h", 3600, 3600, "", "fresh"},
    {"5.3 an invalid Expires means already expired", GET(""), R200("Expires: soon\\r\\n"), 0, 1, 1,
     "revalidate", 0, 0, "cache-date-invalid", "revalidate"},
    {"5.3 Expires: 0 is the usual way to say expired: not reported", GET(""),
     R200("Expires: 0\\r\\n"), 0, 1, 1, "revalidate", 0, 0, "", "revalidate"},
    {"5.3 Expires in the past", GET(""), R200("Expires: " DATE_M1H "\\r\\n"), 0, 1, 1, "revalidate",
     0, 0, "", "revalidate"},
    {"5.3 cookie-style Expires is read leniently and reported", GET(""),
     R200("Expires: Wed, 15-Nov-2023 22:13:20 GMT\\r\\n"), 0, 1, 1, "cacheable 1d", 86400, 86400,
     "cache-date-invalid", "fresh"},
    {"5.3 max-age wins over Expires, and they disagree", GET(""),
     R200(CC("max-age=60") "Expires: " DATE_P1H "\\r\\n"), 0, 1, 1, "cacheable 1m", 60, 60,
     "cache-expires-maxage-disagree", "fresh"},
    {"5.3 max-age and Expires agreeing", GET(""),
     R200(CC("max-age=3600") "Expires: " DATE_P1H "\\r\\n"), 0, 1, 1, "cacheable 1h", 3600, 3600,
     "", "fresh"},
    {"4.2.2 heuristic: 10% of the time since Last-Modified", GET(""),
     R200("Last-Modified: " DATE_M10D "\\r\\n"), 0, 1, 1, "heuristic 1d", 86400, 86400, "",
     "heuristic fresh validators"},
    {"4.2.2 no heuristic without Last-Modified", GET(""), R200(""), 0, 1, 1, "no lifetime", 0, 0,
     "", "revalidate"},
    {"4.2.3 Age counts into the current age", GET(""), R200(CC("max-age=60") "Age: 120\\r\\n"), 0,
     1, 1, "stale", 60, 60, "", "stale"},
    {"4.2.3 apparent age from an old Date", GET(""),
     "HTTP/1.1 200 OK\\r\\nDate: " DATE_M1H "\\r\\nCache-Control: max-age=1800\\r\\n"
     "Content-Length: 0\\r\\n\\r\\n",
     0, 1, 1, "stale", 1800, 1800, "", "stale"},
    {"4.2.3 response delay is added to Age", GET(""), R200(CC("max-age=60") "Age: 58\\r\\n"), 5, 1,
     1, "stale", 60, 60, "", "stale"},
    {"4.2.3 Age below the lifetime stays fresh", GET(""), R200(CC("max-age=60") "Age: 50\\r\\n"), 5,
     1, 1, "cacheable 1m", 60, 60, "", "fresh"},
    {"4.2.3 an invalid Age is ignored and reported", GET(""),
     R200(CC("max-age=60") "Age: -5\\r\\n"), 0, 1, 1, "cacheable 1m", 60, 60, "cache-age-invalid",
     "fresh"},
    {"4.2 an unparseable Date is reported", GET(""),
     "HTTP/1.1 200 OK\\r\\nDate: yesterday\\r\\nCache-Control: max-age=60\\r\\n"
     "Content-Length: 0\\r\\n\\r\\n",
     0, 1, 1, "cacheable 1m", 60, 60, "cache-date-invalid", "fresh"},
    {"4.2.1 two Date fields that disagree", GET(""),
     R200("Date: " DATE_M1H "\\r\\n" CC("max-age=60")), 0, 1, 1, "cacheable 1m", 60, 60,
     "cache-field-duplicate", ""},
    /* section 4.1: Vary */
    {"4.1 Vary: * never matches a later request", GET(""), R200(CC("max-age=60") "Vary: *\\r\\n"),
     0, 1, 1, "revalidate", 60, 60, "cache-vary-star", "vary revalidate"},
    {"4.1 Vary on a request field", GET(""), R200(CC("max-age=60") "Vary: Accept-Encoding\\r\\n"),
     0, 1, 1, "cacheable 1m", 60, 60, "", "vary fresh"},
    /* section 4.3 with RFC 9110 13.1 and 15.4.5: validation */
    {"4.3.1 a conditional request", GET("If-None-Match: \"a\"\\r\\n"),
     R200(CC("max-age=60") "ETag: \"b\"\\r\\n"), 0, 1, 1, "cacheable 1m", 60, 60, "",
     "conditional validators"},
    {"4.3.4 304 whose ETag matches If-None-Match", GET("If-None-Match: \"a\"\\r\\n"),
     R304("ETag: \"a\"\\r\\n"), 0, ANY, ANY, "revalidated", ANY, ANY, "",
     "not-modified conditional"},
    {"RFC 9110 8.8.3.2 304 matches by weak comparison", GET("If-None-Match: W/\"a\", \"b\"\\r\\n"),
     R304("ETag: \"a\"\\r\\n"), 0, ANY, ANY, "revalidated", ANY, ANY, "", "not-modified"},
    {"RFC 9110 13.1.2 304 to If-None-Match: *", GET("If-None-Match: *\\r\\n"),
     R304("ETag: \"z\"\\r\\n"), 0, ANY, ANY, "revalidated", ANY, ANY, "", "not-modified"},
    {"RFC 9110 13.1.2 304 whose ETag is not in If-None-Match", GET("If-None-Match: \"a\"\\r\\n"),
     R304("ETag: \"b\"\\r\\n"), 0, ANY, ANY, "bad 304", ANY, ANY, "cache-304-validator-mismatch",
     "not-modified bad-304"},
    {"RFC 9110 15.4.5 304 to an unconditional request", GET(""), R304("ETag: \"a\"\\r\\n"), 0, ANY,
     ANY, "bad 304", ANY, ANY, "cache-304-unconditional", "bad-304"},
    {"RFC 9110 15.4.5 304 to If-None-Match without an ETag", GET("If-None-Match: \"a\"\\r\\n"),
     R304(""), 0, ANY, ANY, "bad 304", ANY, ANY, "cache-304-without-validators", "bad-304"},
    {"RFC 9110 13.1.3 304 not modified since If-Modified-Since",
     GET("If-Modified-Since: " DATE_M1H "\\r\\n"), R304("Last-Modified: " DATE_M10D "\\r\\n"), 0,
     ANY, ANY, "revalidated", ANY, ANY, "", "not-modified"},
    {"RFC 9110 13.1.3 304 although modified after If-Modified-Since",
     GET("If-Modified-Since: " DATE_M10D "\\r\\n"), R304("Last-Modified: " DATE_M1H "\\r\\n"), 0,
     ANY, ANY, "bad 304", ANY, ANY, "cache-304-validator-mismatch", "bad-304"},
    {"4.3.4 304 to If-Modified-Since carrying no validator",
     GET("If-Modified-Since: " DATE_M1H "\\r\\n"), R304(""), 0, ANY, ANY, "revalidated", ANY, ANY,
     "cache-304-without-validators", "not-modified"},
    {"RFC 9110 13.1.3 If-Modified-Since with an invalid date must be ignored",
     GET("If-Modified-Since: whenever\\r\\n"), R304(""), 0, ANY, ANY, "bad 304", ANY, ANY,
     "cache-date-invalid cache-304-validator-mismatch", "bad-304"},
    {"RFC 9110 8.8.3 an unquoted ETag", GET(""), R200(CC("max-age=60") "ETag: abc\\r\\n"), 0, 1, 1,
     "cacheable 1m", 60, 60, "cache-etag-invalid", "validators"},
};

/* Builds the exchange of a case with the response arriving at T. */
static struct exchange *case_exchange(const struct cache_case *c)
{
    struct exchange *ex = tu_exchange_text(c->req, c->resp, 0);
    if (c->req) {
        ex->t[T_REQ_FIRST] = (T - c->delay) * NS;
        ex->t[T_REQ_HEAD] = (T - c->delay) * NS;
    }
    ex->t[T_RESP_FIRST] = T * NS;
    ex->t[T_RESP_HEAD] = T * NS + 1000;
    return ex;
}

/* The cache warning names found, sorted into a space-separated list. */
static void finding_names(const struct cache_report *r, char *out, size_t len)
{
    const char *names[CACHE_FINDINGS_MAX];
    size_t n = 0;
    for (uint8_t i = 0; i < r->nfindings; i++)
        names[n++] = warning_name((enum warning_code)r->findings[i].code);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", names[i]);
}

static void sorted(const char *in, char *out, size_t len)
{
    char buf[256], *words[16];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", in);
    for (char *w = strtok(buf, " "); w && n < 16; w = strtok(NULL, " "))
        words[n++] = w;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(words[j - 1], words[j]) > 0; j--) {
            char *t = words[j];
            words[j] = words[j - 1];
            words[j - 1] = t;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", words[i]);
}

static void check_case(const struct cache_case *c)
{
    struct exchange *ex = case_exchange(c);
    struct cache_report r;
    cache_analyze(ex, &r);
    if (!r.analysed)
        fail_msg("%s: not analysed", c->name);
    if ((c->shared != ANY && r.shared_storable != c->shared) ||
        (c->priv != ANY && r.private_storable != c->priv))
        fail_msg("%s: storable shared=%d private=%d (%s / %s), expected %d/%d", c->name,
                 r.shared_storable, r.private_storable, r.shared_why, r.private_why, c->shared,
                 c->priv);
    if (strcmp(r.label, c->label) != 0)
        fail_msg("%s: label \"%s\", expected \"%s\"", c->name, r.label, c->label);
    if ((c->life != ANY && r.lifetime != c->life) ||
        (c->shared_life != ANY && r.shared_lifetime != c->shared_life))
        fail_msg("%s: lifetime %lld/%lld, expected %lld/%lld", c->name, (long long)r.lifetime,
                 (long long)r.shared_lifetime, (long long)c->life, (long long)c->shared_life);
    char got[256], want[256];
    finding_names(&r, got, sizeof got);
    sorted(c->warnings, want, sizeof want);
    if (strcmp(got, want) != 0)
        fail_msg("%s: warnings [%s], expected [%s]", c->name, got, want);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", c->outcomes);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        enum cache_outcome o = cache_outcome_by_name(w, strlen(w));
        assert_true(o != 0);
        if (!(r.outcomes & o))
            fail_msg("%s: outcome %s missing (label %s)", c->name, w, r.label);
    }
    if (r.shared_storable)
        assert_true(r.private_storable || r.status == 304);
    assert_non_null(r.shared_why);
    assert_non_null(r.private_why);
    exchange_free(ex);
}

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        check_case(&CASES[i]);
}

/* Each storage decision names its reason with an RFC section. */
static void test_reasons(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct exchange *ex = case_exchange(&CASES[i]);
        struct cache_report r;
        cache_analyze(ex, &r);
        assert_non_null(strstr(r.shared_why, "RFC 911"));
        assert_non_null(strstr(r.private_why, "RFC 911"));
        exchange_free(ex);
    }
}

static void test_not_analysed(void **state)
{
    (void)state;
    static const char *const RESPONSES[] = {
        NULL,                                /* no response yet */
        "HTTP/1.1 100 Continue\\r\\n\\r\\n", /* interim only: not final (section 3) */
        "HTTP/1.1 200 OK\\r\\nContent-Le",   /* head not complete */
    };
    for (size_t i = 0; i < sizeof RESPONSES / sizeof RESPONSES[0]; i++) {
        struct exchange *ex = tu_exchange_text(GET(""), RESPONSES[i], 0);
        struct cache_report r;
        cache_analyze(ex, &r);
        assert_false(r.analysed);
        assert_string_equal(r.label, "");
        assert_int_equal(r.outcomes, 0);
        json_t *j = cache_json(&r);
        assert_true(json_is_null(j));
        json_decref(j);
        exchange_free(ex);
    }
}

/* ---- HTTP-date --------------------------------------------------------------------------- */

static const struct date_case {
    const char *text;
    int rc; /* 0 well-formed, 1 lenient, -1 invalid */
    int64_t t;
} DATES[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},  /* IMF-fixdate */
    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777}, /* RFC 850 */
    {"Sun Nov  6 08:49:37 1994", 0, 784111777},       /* asctime */
    {"Wed Nov 16 08:49:37 1994", 0, 784975777},       /* asctime, two-digit day */
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", 0, -1},
    {"Tue, 29 Feb 2000 00:00:00 GMT", 0, 951782400},
    {"Mon, 01 Jan 1900 00:00:00 GMT", 0, INT64_C(-2208988800)},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 0, INT64_C(253402300799)},
    {"sun, 06 nov 1994 08:49:37 gmt", 1, 784111777},    /* case */
    {"Sun, 6 Nov 1994 08:49:37 GMT", 1, 784111777},     /* one-digit day */
    {"Mon, 06 Nov 1994 08:49:37 GMT", 1, 784111777},    /* wrong weekday */
    {"Sun, 06 Nov 1994 08:49:37 UTC", 1, 784111777},    /* zone spelled UTC */
    {"Sunday, 06 Nov 1994 08:49:37 GMT", 1, 784111777}, /* full day name in IMF-fixdate */
    {"Sun, 06-Nov-1994 08:49:37 GMT", 1, 784111777},    /* cookie style */
    {"Sun, 06 Nov 94 08:49:37 GMT", 1, 784111777},      /* RFC 1123 with two-digit year */
    {"Fri, 29 Feb 2002 00:00:00 GMT", -1, 0},           /* no such day */
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1, 0},
    {"Sun, 06 Nov 1994 08:60:00 GMT", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 PST", -1, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 994 08:49:37 GMT", -1, 0},
    {"Xyz, 06 Nov 1994 08:49:37 GMT", -1, 0},
    {"Sun Nov 6 08:49:37 1994", -1, 0},
    {"Sun Nov  6 08:49:37 94", -1, 0},
    {"1994-11-06T08:49:37Z", -1, 0},
    {"0", -1, 0},
    {"-1", -1, 0},
    {"", -1, 0},
};

static void test_dates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof DATES / sizeof DATES[0]; i++) {
        const struct date_case *c = &DATES[i];
        int64_t t = 12345;
        int rc = cache_date_parse(c->text, strlen(c->text), CACHE_TIME_NONE, &t);
        if (rc != c->rc || (rc >= 0 && t != c->t))
            fail_msg("'%s': rc %d t %lld, expected rc %d t %lld", c->text, rc, (long long)t, c->rc,
                     (long long)c->t);
        /* no proper prefix of a date is a date, and none is read past its end */
        size_t n = strlen(c->text);
        for (size_t cut = 0; c->rc >= 0 && cut < n; cut++) {
            char *prefix = malloc(cut ? cut : 1);
            memcpy(prefix, c->text, cut);
            assert_int_equal(cache_date_parse(prefix, cut, CACHE_TIME_NONE, &t), -1);
            free(prefix);
        }
    }
}

/* RFC 9110 5.6.7: a two-digit year more than 50 years ahead is in the previous century. */
static int parse_ref(const char *text, int64_t ref, int64_t *t)
{
    return cache_date_parse(text, strlen(text), ref, t);
}

static void test_two_digit_years(void **state)
{
    (void)state;
    int64_t t;
    /* 2070 lies within 50 years of the reference (2023): kept */
    assert_int_equal(parse_ref("Wednesday, 01-Jan-70 00:00:00 GMT", T, &t), 0);
    assert_int_equal(t, INT64_C(3155760000));
    /* 2099 would be more than 50 years ahead: 1999 */
    assert_int_equal(parse_ref("Friday, 01-Jan-99 00:00:00 GMT", T, &t), 0);
    assert_int_equal(t, 915148800);
    /* without a reference, 70-99 are 19xx and 00-69 are 20xx */
    assert_int_equal(parse_ref("Thursday, 01-Jan-70 00:00:00 GMT", CACHE_TIME_NONE, &t), 0);
    assert_int_equal(t, 0);
}

static void test_date_format(void **state)
{
    (void)state;
    static const int64_t TIMES[] = {
        0, -1, 784111777, 951782400, INT64_C(253402300799), INT64_C(-2208988800), 1700000000};
    char buf[CACHE_DATE_STRLEN];
    assert_string_equal(cache_date_format(784111777, buf, sizeof buf),
                        "Sun, 06 Nov 1994 08:49:37 GMT");
    for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++) {
        int64_t back;
        cache_date_format(TIMES[i], buf, sizeof buf);
        assert_int_equal(strlen(buf), CACHE_DATE_STRLEN - 1);
        assert_int_equal(cache_date_parse(buf, strlen(buf), CACHE_TIME_NONE, &back), 0);
        assert_int_equal(back, TIMES[i]);
    }
    /* Every day of four centuries (leap rules included) back through the parser, and the
     * same text with its weekday wrong or in lower case: read, but as lenient (rc 1). */
    for (int64_t t = INT64_C(-2208988800); t < INT64_C(10413792000); t += 86400 + 61) {
        int64_t back;
        cache_date_format(t, buf, sizeof buf);
        assert_int_equal(cache_date_parse(buf, strlen(buf), CACHE_TIME_NONE, &back), 0);
        assert_int_equal(back, t);
        char wrong[CACHE_DATE_STRLEN];
        memcpy(wrong, buf, sizeof wrong);
        memcpy(wrong, memcmp(buf, "Mon", 3) == 0 ? "Tue" : "Mon", 3);
        assert_int_equal(cache_date_parse(wrong, strlen(wrong), CACHE_TIME_NONE, &back), 1);
        assert_int_equal(back, t);
    }
    static const char *const LENIENT[] = {
        "sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun,  06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT"};
    for (size_t i = 0; i < sizeof LENIENT / sizeof LENIENT[0]; i++) {
        int64_t back = 0;
        int rc = cache_date_parse(LENIENT[i], strlen(LENIENT[i]), CACHE_TIME_NONE, &back);
        assert_true(rc != 0);
        if (rc > 0)
            assert_int_equal(back, 784111777);
    }
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        int64_t s;
        const char *text;
    } D[] = {{0, "0s"},     {45, "45s"},           {60, "1m"},
             {90, "1.5m"},  {599, "9.9m"},         {600, "10m"},
             {3599, "59m"}, {3600, "1h"},          {5400, "1.5h"},
             {86400, "1d"}, {86400 * 365, "365d"}, {-1, "?"}};
    char buf[16];
    for (size_t i = 0; i < sizeof D / sizeof D[0]; i++)
        assert_string_equal(cache_duration_format(D[i].s, buf, sizeof buf), D[i].text);
    assert_string_equal(cache_duration_format(123456, buf, 3), "1."); /* cut, terminated */
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < CACHE_OUTCOME_COUNT; i++) {
        enum cache_outcome o = (enum cache_outcome)(1u << i);
        const char *name = cache_outcome_name(o);
        assert_non_null(name);
        assert_int_equal(cache_outcome_by_name(name, strlen(name)), o);
    }
    assert_null(cache_outcome_name((enum cache_outcome)3));
    assert_int_equal(cache_outcome_by_name("nope", 4), 0);
    assert_string_equal(cache_outcome_by_name("FRESH", 5) == CACHE_FRESH ? "ok" : "no", "ok");
    assert_string_equal(cache_source_name(CACHE_SRC_S_MAXAGE), "s-maxage");
    assert_string_equal(cache_directive_name(CC_STALE_WHILE_REVALIDATE), "stale-while-revalidate");
    /* every cache warning has a name and an explanation */
    for (int c = W_CACHE_DATE_INVALID; c <= W_CACHE_304_MISMATCH; c++) {
        assert_int_equal(strncmp(warning_name((enum warning_code)c), "cache-", 6), 0);
        assert_true(strlen(warning_explain((enum warning_code)c)) > 20);
        assert_int_equal(warning_by_name(warning_name((enum warning_code)c)), c);
    }
}

/* ---- JSON and warnings on the exchange ---------------------------------------------------- */

static void test_json(void **state)
{
    (void)state;
    struct exchange *ex = tu_exchange_text(
        GET("Cache-Control: no-cache\\r\\n"),
        R200(CC("public, max-age=3600") "ETag: W/\"x\\xff\"\\r\\nVary: Accept\\r\\n"
                                        "Last-Modified: " DATE_M10D "\\r\\n"),
        0);
    ex->t[T_RESP_HEAD] = T * NS;
    struct cache_report r;
    cache_analyze(ex, &r);
    json_t *j = cache_json(&r);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "label")), "cacheable 1h");
    assert_int_equal(json_integer_value(json_object_get(j, "lifetime")), 3600);
    assert_string_equal(json_string_value(json_object_get(j, "lifetime_source")), "max-age");
    assert_true(json_is_true(json_object_get(json_object_get(j, "shared"), "storable")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "shared"), "freshness")), "fresh");
    assert_string_equal(json_string_value(json_object_get(j, "date")),
                        "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_string_equal(json_string_value(json_object_get(j, "last_modified")), DATE_M10D);
    assert_null(json_object_get(j, "expires"));
    assert_true(json_is_true(json_object_get(j, "etag_weak")));
    /* a byte that is not UTF-8 becomes U+FFFD, as everywhere in hspy's JSON */
    assert_string_equal(json_string_value(json_object_get(j, "etag")), "W/\"x\xef\xbf\xbd\"");
    json_t *resp = json_object_get(j, "response_directives");
    assert_int_equal(json_integer_value(json_object_get(resp, "max-age")), 3600);
    assert_true(json_is_true(json_object_get(resp, "public")));
    assert_true(
        json_is_true(json_object_get(json_object_get(j, "request_directives"), "no-cache")));
    json_t *outcomes = json_object_get(j, "outcomes");
    assert_true(json_array_size(outcomes) >= 3);
    assert_null(json_object_get(j, "not_modified"));
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    json_decref(j);
    exchange_free(ex);

    ex = tu_exchange_text(GET("If-None-Match: \"a\"\\r\\n"), R304("ETag: \"b\"\\r\\n"), 0);
    cache_analyze(ex, &r);
    j = cache_json(&r);
    json_t *nm = json_object_get(j, "not_modified");
    assert_true(json_is_false(json_object_get(nm, "consistent")));
    assert_true(strlen(json_string_value(json_object_get(nm, "why"))) > 10);
    json_decref(j);
    exchange_free(ex);
}

/* Each kind of cache gets its own verdict, in the report and in the JSON (RFC 9111 4.2). */
static void test_verdicts_per_cache(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text(GET(""), R200(CC("s-maxage=600, max-age=60") "Age: 120\\r\\n"), 0);
    struct cache_report r;
    cache_analyze(ex, &r);
    assert_int_equal(r.shared_freshness, CACHE_FRESHNESS_FRESH);
    assert_int_equal(r.freshness, CACHE_FRESHNESS_STALE);
    json_t *j = cache_json(&r);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "shared"), "freshness")), "fresh");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "private"), "freshness")), "stale");
    json_decref(j);
    exchange_free(ex);
    /* A cache that may not store it has no verdict. */
    ex = tu_exchange_text(GET(""), R200(CC("private, max-age=60")), 0);
    cache_analyze(ex, &r);
    assert_int_equal(r.shared_freshness, CACHE_FRESHNESS_NONE);
    assert_int_equal(r.freshness, CACHE_FRESHNESS_FRESH);
    j = cache_json(&r);
    assert_true(json_is_null(json_object_get(json_object_get(j, "shared"), "freshness")));
    json_decref(j);
    exchange_free(ex);
    assert_string_equal(cache_freshness_name(CACHE_FRESHNESS_NO_LIFETIME), "no-lifetime");
    assert_null(cache_freshness_name(CACHE_FRESHNESS_NONE));
}

static void test_warn(void **state)
{
    (void)state;
    struct exchange *ex =
        tu_exchange_text(GET(""), R200(CC("max-age=60, max-age=70") "Age: x\\r\\n"), 0);
    uint16_t before = ex->nwarnings;
    cache_warn(ex);
    assert_int_equal(ex->nwarnings, before + 2);
    assert_true(exchange_has_warning(ex, W_CACHE_DIRECTIVE_DUPLICATE));
    assert_true(exchange_has_warning(ex, W_CACHE_AGE_INVALID));
    for (uint16_t i = before; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        assert_int_equal(w->side, SIDE_SERVER);
        assert_non_null(w->detail);
        /* the offset is the start of the offending field line in the response */
        const char *line = (const char *)ex->resp.raw.data + w->offset;
        assert_true(strncmp(line, "Cache-Control:", 14) == 0 || strncmp(line, "Age:", 4) == 0);
    }
    cache_warn(ex); /* again: nothing new */
    assert_int_equal(ex->nwarnings, before + 2);
    exchange_free(ex);

    ex = tu_exchange_text(GET(CC("s-maxage=5")), R200(CC("max-age=60")), 0);
    cache_warn(ex);
    assert_true(exchange_has_warning(ex, W_CACHE_DIRECTIVE_MISPLACED));
    assert_int_equal(ex->warnings[ex->nwarnings - 1].side, SIDE_CLIENT);
    exchange_free(ex);
}

/* Many findings in one response are capped and counted, never overflowed. */
static void test_findings_cap(void **state)
{
    (void)state;
    char resp[4096] = "HTTP/1.1 200 OK\\r\\n";
    for (int i = 0; i < 40; i++)
        snprintf(resp + strlen(resp), sizeof resp - strlen(resp),
                 "Cache-Control: maxage%d=1, max-age=x\\r\\n", i);
    strcat(resp, "\\r\\n");
    struct exchange *ex = tu_exchange_text(GET(""), resp, 0);
    struct cache_report r;
    cache_analyze(ex, &r);
    assert_int_equal(r.nfindings, CACHE_FINDINGS_MAX);
    assert_true(r.findings_dropped > 0);
    exchange_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_not_analysed),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_two_digit_years),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_verdicts_per_cache),
        cmocka_unit_test(test_warn),
        cmocka_unit_test(test_findings_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
