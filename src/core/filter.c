/*
 * filter: placeholder until the filter language lands. The empty filter matches everything;
 * any other expression is refused with an explanation (never silently accepted).
 */
#include "hspy/filter.h"

#include <stdio.h>
#include <stdlib.h>

#include "hspy/xmalloc.h"

struct filter {
    int unused;
};

struct filter *filter_compile(const char *expr, char *err, size_t errlen, size_t *errpos)
{
    if (expr && *expr) {
        snprintf(err, errlen, "filter expressions are not built yet");
        if (errpos)
            *errpos = 0;
        return NULL;
    }
    return xcalloc(1, sizeof(struct filter));
}

void filter_free(struct filter *f)
{
    free(f);
}

bool filter_match(const struct filter *f, const struct exchange *ex)
{
    (void)f;
    (void)ex;
    return true;
}

const char *filter_text(const struct filter *f)
{
    (void)f;
    return "";
}
