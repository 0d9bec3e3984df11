/*
 * filter: the flow filter language shared by the TUI (f, i), --filter, --intercept and exports.
 * mitmproxy users recognise it: ~m METHOD, ~u URL-REGEX, ~c CODE, ~h HEADER-REGEX,
 * ~b BODY-REGEX, ~t CONTENT-TYPE-REGEX, ~d DOMAIN-REGEX, plus hspy's ~w [CODE] (warnings),
 * size and duration comparisons, combined with !, &, | and parentheses. See filter.c and the
 * README for the full grammar.
 */
#ifndef HSPY_FILTER_H
#define HSPY_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "hspy/exchange.h"

struct filter;

/*
 * Compiles expr. Returns NULL on a syntax error, with a one-line message in err and the byte
 * offset of the problem in *errpos (errpos may be NULL). An empty expression matches
 * everything. The filter does not keep a pointer to expr.
 */
struct filter *filter_compile(const char *expr, char *err, size_t errlen, size_t *errpos);
/* NULL is a no-op. */
void filter_free(struct filter *f);
/* True when ex matches. Pure: reads ex only; NULL f matches everything. */
bool filter_match(const struct filter *f, const struct exchange *ex);
/* The expression the filter was compiled from. */
const char *filter_text(const struct filter *f);

#endif
