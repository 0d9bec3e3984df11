/*
 * difftab: the Diff tab. For each side of an exchange that the user changed, what it was (as
 * received, or the answer hspy would have given) against what was sent, as a unified diff with
 * line ends drawn (a CRLF made LF is a visible change); for an edit staged while held and not
 * sent yet, the same against the staged bytes, with the engine's reading of them (framing
 * summary and warnings) so that problems show before anything is sent.
 */
#ifndef HSPY_DIFFTAB_H
#define HSPY_DIFFTAB_H

#include "hspy/detail.h"
#include "hspy/doc.h"
#include "hspy/exchange.h"

/* The Diff tab's document for c->ex, appended to d. */
void difftab_build(struct doc *d, const struct detail_ctx *c);
/* Sides with an edit (sent or staged), or -1 when none (no number in the tab label). */
int difftab_count(const struct exchange *ex);

#endif
