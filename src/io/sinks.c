/*
 * sinks: placeholder printer until the output sinks land: it registers nothing.
 */
#include "hspy/sinks.h"

#include <stdlib.h>

#include "hspy/hspy.h"
#include "hspy/xmalloc.h"

struct sinks {
    int unused;
};

struct sinks *sinks_open(struct hspy *h)
{
    (void)h;
    return xcalloc(1, sizeof(struct sinks));
}

void sinks_close(struct sinks *s)
{
    free(s);
}
