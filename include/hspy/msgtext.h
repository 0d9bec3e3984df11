/*
 * msgtext: the Request and Response tabs. The head is shown line by line exactly as it was
 * sent (case, order, duplicates and odd whitespace kept; control bytes escaped), interim (1xx)
 * responses before the final one, each warning beside the line it concerns, then a summary of
 * the body and the body itself in the best body view (switchable), rendered lazily.
 */
#ifndef HSPY_MSGTEXT_H
#define HSPY_MSGTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/detail.h"
#include "hspy/doc.h"

/* The Request and Response tabs' documents for c->ex, appended to d. */
void msgtext_build_request(struct doc *d, const struct detail_ctx *c);
void msgtext_build_response(struct doc *d, const struct detail_ctx *c);

/*
 * One head line (without its line ending) as shown: the start line in bold, a field name in
 * its own style, everything through termsafe.
 */
void msgtext_head_line(struct canvas_line *out, const uint8_t *line, size_t n, bool start_line);

#endif
