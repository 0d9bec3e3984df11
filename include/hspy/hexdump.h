/*
 * hexdump: the Hex tab. Both directions' wire bytes as hex rows (the body views' hex mode),
 * each under a heading that says how many bytes were kept and how many a capture lost. The
 * ASCII column shows printable ASCII and '.' for everything else. Offsets of warnings (counted
 * on the wire) locate the row that holds them.
 */
#ifndef HSPY_HEXDUMP_H
#define HSPY_HEXDUMP_H

#include "hspy/detail.h"
#include "hspy/doc.h"

/* The Hex tab's document for c->ex, appended to d (with a locate hook for wire offsets). */
void hexdump_build(struct doc *d, const struct detail_ctx *c);

#endif
