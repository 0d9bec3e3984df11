/*
 * cachetab owns the Cache tab's lines. It runs the cache analysis (pure, no allocation) on the
 * exchange when the tab is built and lays the report out; values that came from the network
 * (ETag, Vary, field lists) go through termsafe. It never changes the exchange.
 */
#include "hspy/cachetab.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hspy/cache.h"
#include "hspy/side.h"

enum { LABEL = 28 };

/* A "label  value" line; value is hspy's own text. */
static void field(struct doc *d, const char *label, uint8_t style, const char *value)
{
    doc_addf(d, style, "  %-*s %s", LABEL, label, value);
}

/* A "label  value" line whose value came from the network. */
static void field_bytes(struct doc *d, const char *label, const char *value)
{
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_printf(&l, STYLE_NORMAL, "  %-*s ", LABEL, label);
    canvas_put_bytes(&l, STYLE_NORMAL, (const uint8_t *)value, strlen(value), 0);
    doc_add(d, &l);
    canvas_line_cleanup(&l);
}

/* What a fresh, stale, ... verdict means on the lifetime line of the cache it is for. */
static const char *verdict_words(uint8_t f)
{
    static const char *const WORDS[] = {
        [CACHE_FRESHNESS_NONE] = "",
        [CACHE_FRESHNESS_FRESH] = ": fresh on arrival",
        [CACHE_FRESHNESS_STALE] = ": already stale on arrival",
        [CACHE_FRESHNESS_REVALIDATE] = ": revalidate before every reuse",
        [CACHE_FRESHNESS_NO_LIFETIME] = ": caches differ; most treat it as stale",
    };
    return f < sizeof WORDS / sizeof WORDS[0] ? WORDS[f] : "";
}

static void lifetime(struct doc *d, const char *label, int64_t seconds, uint8_t source,
                     uint8_t verdict)
{
    char buf[32], line[160];
    if (source == CACHE_SRC_NONE)
        snprintf(line, sizeof line, "none (no explicit lifetime, nothing to guess from)%s",
                 verdict_words(verdict));
    else
        snprintf(line, sizeof line, "%s (%s)%s", cache_duration_format(seconds, buf, sizeof buf),
                 cache_source_name((enum cache_source)source), verdict_words(verdict));
    field(d, label, verdict == CACHE_FRESHNESS_STALE ? STYLE_WARN : STYLE_NORMAL, line);
}

static void verdicts(struct doc *d, const struct cache_report *r)
{
    char line[256];
    snprintf(line, sizeof line, "%s: %s", r->shared_storable ? "may store" : "must not store",
             r->shared_why ? r->shared_why : "");
    field(d, "shared cache (CDN, proxy)", r->shared_storable ? STYLE_STATUS2 : STYLE_STATUS4, line);
    if (r->shared_storable)
        lifetime(d, "  freshness lifetime", r->shared_lifetime, r->shared_source,
                 r->shared_freshness);
    snprintf(line, sizeof line, "%s: %s", r->private_storable ? "may store" : "must not store",
             r->private_why ? r->private_why : "");
    field(d, "private cache (browser)", r->private_storable ? STYLE_STATUS2 : STYLE_STATUS4, line);
    if (r->private_storable)
        lifetime(d, "  freshness lifetime", r->lifetime, r->source, r->freshness);
}

static void ages_and_dates(struct doc *d, const struct cache_report *r)
{
    char buf[32], line[128];
    /* One word when every cache that may store it agrees, else who is which. */
    bool fresh = r->outcomes & CACHE_FRESH, stale = r->outcomes & CACHE_STALE;
    bool shared_fresh = r->shared_freshness == CACHE_FRESHNESS_FRESH;
    snprintf(line, sizeof line, "%s%s", cache_duration_format(r->age, buf, sizeof buf),
             fresh && stale
                 ? (shared_fresh ? ", fresh for a shared cache, already stale for a browser"
                                 : ", already stale for a shared cache, fresh for a browser")
             : fresh ? ", fresh"
             : stale ? ", already stale"
                     : "");
    field(d, "age on arrival", STYLE_NORMAL, line);
    if (r->age_field >= 0) {
        snprintf(line, sizeof line, "%lld s", (long long)r->age_field);
        field(d, "Age field", STYLE_NORMAL, line);
    }
    static const struct {
        const char *label;
        size_t off;
    } DATES[] = {
        {"Date", offsetof(struct cache_report, date)},
        {"Expires", offsetof(struct cache_report, expires)},
        {"Last-Modified", offsetof(struct cache_report, last_modified)},
    };
    for (size_t i = 0; i < sizeof DATES / sizeof DATES[0]; i++) {
        int64_t t;
        memcpy(&t, (const char *)r + DATES[i].off, sizeof t);
        if (t != CACHE_TIME_NONE)
            field(d, DATES[i].label, STYLE_NORMAL, cache_date_format(t, buf, sizeof buf));
    }
}

static void validators(struct doc *d, const struct cache_report *r)
{
    if (r->etag[0]) {
        char label[32];
        snprintf(label, sizeof label, "ETag%s", r->etag_weak ? " (weak)" : "");
        field_bytes(d, label, r->etag);
    }
    if (r->vary[0])
        field_bytes(d, r->vary_star ? "Vary (varies on everything)" : "Vary", r->vary);
    if (r->conditional) {
        char line[128] = "";
        static const struct {
            uint8_t bit;
            const char *name;
        } CONDS[] = {{CACHE_IF_NONE_MATCH, "If-None-Match"},
                     {CACHE_IF_MODIFIED_SINCE, "If-Modified-Since"},
                     {CACHE_IF_MATCH, "If-Match"},
                     {CACHE_IF_UNMODIFIED_SINCE, "If-Unmodified-Since"},
                     {CACHE_IF_RANGE, "If-Range"}};
        for (size_t i = 0; i < sizeof CONDS / sizeof CONDS[0]; i++)
            if (r->conditional & CONDS[i].bit)
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s",
                         line[0] ? ", " : "", CONDS[i].name);
        field(d, "conditional request", STYLE_NORMAL, line);
    }
    if (r->not_modified_ok >= 0)
        field(d, "304 answer", r->not_modified_ok ? STYLE_STATUS2 : STYLE_WARN,
              r->not_modified_why ? r->not_modified_why : "");
    if (r->authorization)
        field(d, "request", STYLE_NORMAL, "carries Authorization");
    if (r->pragma_no_cache)
        field(d, "request", STYLE_NORMAL, "Pragma: no-cache");
    if (r->set_cookie)
        field(d, "response", STYLE_NORMAL, "sets a cookie (Set-Cookie)");
}

static void directives(struct doc *d, const char *label, const struct cache_control *cc)
{
    char line[512] = "";
    for (int k = 0; k < CC__COUNT; k++) {
        if (!(cc->present & (1u << k)))
            continue;
        size_t o = strlen(line);
        snprintf(line + o, sizeof line - o, "%s%s", o ? ", " : "",
                 cache_directive_name((enum cache_directive)k));
        o = strlen(line);
        if (cc->invalid & (1u << k))
            snprintf(line + o, sizeof line - o, "=(invalid)");
        else if (cc->value[k] >= 0)
            snprintf(line + o, sizeof line - o, "=%lld", (long long)cc->value[k]);
    }
    if (cc->unknown)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%u unknown",
                 line[0] ? ", " : "", cc->unknown);
    if (line[0])
        field(d, label, STYLE_NORMAL, line);
    if (cc->fields[0])
        field_bytes(d, "  applies to the fields", cc->fields);
}

static void outcomes(struct doc *d, const struct cache_report *r)
{
    char line[256] = "";
    for (int b = 0; b < CACHE_OUTCOME_COUNT; b++) {
        const char *name = cache_outcome_name((enum cache_outcome)(1u << b));
        if (name && (r->outcomes & (1u << b)))
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", line[0] ? " " : "",
                     name);
    }
    field(d, "outcomes (~cache WORD)", STYLE_DIM, line);
}

static void findings(struct doc *d, const struct detail_ctx *c, const struct cache_report *r)
{
    if (!r->nfindings)
        return;
    doc_blank(d);
    doc_addf(d, STYLE_BOLD, "Findings (Enter: the bytes in Raw)");
    for (uint8_t i = 0; i < r->nfindings; i++) {
        const struct cache_finding *f = &r->findings[i];
        struct canvas_line l;
        canvas_line_init(&l, CANVAS_UNLIMITED);
        canvas_printf(&l, STYLE_WARN, "  %s %-30s", c->g->warn,
                      warning_name((enum warning_code)f->code));
        canvas_printf(&l, STYLE_DIM, " %s byte %-8llu ",
                      f->side == SIDE_CLIENT ? "request " : "response",
                      (unsigned long long)f->offset);
        canvas_put_bytes(&l, STYLE_NORMAL, (const uint8_t *)f->detail, strlen(f->detail), 0);
        doc_target(d, doc_add(d, &l), f->side, f->offset);
        canvas_line_cleanup(&l);
    }
    if (r->findings_dropped)
        doc_addf(d, STYLE_WARN, "  %u more findings not kept", r->findings_dropped);
}

void cachetab_build(struct doc *d, const struct detail_ctx *c)
{
    struct cache_report r;
    cache_analyze(c->ex, &r);
    if (!r.analysed) {
        doc_addf(d, STYLE_DIM, "(no final response head to analyse%s)",
                 (c->ex->flags & EX_DONE) ? "" : " yet");
        return;
    }
    doc_addf(d, STYLE_BOLD, "Caching (RFC 9111), as of when the response arrived: %s",
             r.label[0] ? r.label : "-");
    doc_blank(d);
    verdicts(d, &r);
    ages_and_dates(d, &r);
    validators(d, &r);
    if (r.request)
        directives(d, "Cache-Control (request)", &r.req_cc);
    directives(d, "Cache-Control (response)", &r.resp_cc);
    outcomes(d, &r);
    findings(d, c, &r);
}
