/*
 * cachetab: the Cache tab. What a shared cache (CDN, proxy) and a private cache (browser) would
 * do with the response, as the cache analysis works it out (RFC 9111): storable or not and
 * why, the freshness lifetime and where it came from, the age on arrival, validators, Vary,
 * how a conditional request was answered, the Cache-Control directives of both sides, and the
 * mistakes found, each a target that Enter follows to its bytes in Raw.
 */
#ifndef HSPY_CACHETAB_H
#define HSPY_CACHETAB_H

#include "hspy/detail.h"
#include "hspy/doc.h"

/* The Cache tab's document for c->ex, appended to d. */
void cachetab_build(struct doc *d, const struct detail_ctx *c);

#endif
