/*
 * warnlist: the Warnings tab. Every warning of the exchange with its code, the side and byte
 * offset it concerns, its specific detail and the catalogue's explanation (wrapped to the
 * width). Each warning's first line is a target, so Enter jumps to its offset in Raw or Hex.
 */
#ifndef HSPY_WARNLIST_H
#define HSPY_WARNLIST_H

#include "hspy/detail.h"
#include "hspy/doc.h"
#include "hspy/exchange.h"

/* The Warnings tab's document for c->ex (one target per warning), appended to d. */
void warnlist_build(struct doc *d, const struct detail_ctx *c);
/* Warnings to show in the tab label (kept plus dropped). */
int warnlist_count(const struct exchange *ex);

#endif
