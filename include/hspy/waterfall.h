/*
 * waterfall: the Timing tab. Each phase of an exchange (request upload, upstream connect,
 * forwarding, waiting for the first byte, response head, response body) as a bar placed on a
 * common time axis, then every recorded timestamp. Phases that were not reached are left out;
 * a phase too short for a cell still gets a thin mark so it is never invisible.
 */
#ifndef HSPY_WATERFALL_H
#define HSPY_WATERFALL_H

#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/detail.h"
#include "hspy/doc.h"
#include "hspy/glyphs.h"

/* The Timing tab's document for c->ex (bars as wide as c->width allows), appended to d. */
void waterfall_build(struct doc *d, const struct detail_ctx *c);

/*
 * A bar for [start, start+len) of an axis [0, total) drawn `width` cells wide: spaces up to
 * the start, then full cells (at least a thin mark).
 */
void waterfall_bar(struct canvas_line *out, int64_t start, int64_t len, int64_t total, int width,
                   const struct glyphs *g);

#endif
