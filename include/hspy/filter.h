/*
 * filter: the flow filter language shared by the TUI (f, i), --filter, --intercept and exports.
 * mitmproxy users recognise it: ~m METHOD, ~u URL-REGEX, ~c CODE, ~h HEADER-REGEX,
 * ~b BODY-REGEX, ~t CONTENT-TYPE-REGEX, ~d DOMAIN-REGEX, plus hspy's ~w [CODE] (warnings),
 * ~cache OUTCOME, flags, size and duration comparisons, combined with !, &, | and parentheses
 * (juxtaposition means &; a bare word means ~u). docs/filter.md has the full grammar.
 *
 * Compiling does all the work (parsing, regcomp, ordering cheap terms first); matching is pure,
 * allocation-free for every term except the body terms, and safe to call on exchanges that are
 * still growing.
 */
#ifndef HSPY_FILTER_H
#define HSPY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/exchange.h"

struct filter;

/* Named limits of a compiled expression; going past one is a compile error, never a crash. */
enum {
    FILTER_EXPR_MAX = 4096, /* bytes of an expression */
    FILTER_NODES_MAX = 512, /* terms and operators */
    FILTER_DEPTH_MAX = 64,  /* nesting of parentheses and ! */
};
/* Body terms look at most this many payload bytes after undoing the content coding. */
#define FILTER_BODY_MAX ((size_t)8 << 20)

/*
 * Compiles expr. Returns NULL on a syntax error, with a one-line message in err and the byte
 * offset of the problem in *errpos (errpos may be NULL); the message names no offset itself,
 * so a caller shows *errpos once beside it. An empty expression matches everything. The filter
 * does not keep a pointer to expr.
 */
struct filter *filter_compile(const char *expr, char *err, size_t errlen, size_t *errpos);
/* NULL is a no-op. */
void filter_free(struct filter *f);
/* True when ex matches. Pure: reads ex only; NULL f matches everything. */
bool filter_match(const struct filter *f, const struct exchange *ex);
/*
 * Evaluates f over exs[0..n), setting out[i] to 1 when exs[i] matches and 0 otherwise (NULL
 * entries never match, so a store's ring can be passed as it is). Returns the number of
 * matches. Same answers as filter_match; faster over many exchanges because it prefetches the
 * fields the filter reads a few exchanges ahead, so a large store costs memory bandwidth
 * rather than memory latency. Use it to filter a whole store.
 */
size_t filter_match_many(const struct filter *f, struct exchange *const *exs, size_t n,
                         uint8_t *out);
/* The expression the filter was compiled from (owned by the filter). */
const char *filter_text(const struct filter *f);
/* True when matching may read bodies (~b, ~bq, ~bs): its cost then grows with their size. */
bool filter_reads_bodies(const struct filter *f);

/*
 * The terms of the language, for help screens: the i-th term's syntax ("~c CODE") and a
 * one-line description. Returns false once i is past the last term.
 */
bool filter_term_info(size_t i, const char **syntax, const char **help);

#endif
