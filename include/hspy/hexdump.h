/*
 * hexdump: the Hex tab. Both directions' wire bytes as hex rows (the body views' hex mode),
 * each under a heading that says how many bytes were kept and how many a capture lost. Row
 * offsets are counted on the wire, as Raw's and the warnings' are: a capture gap is a line of
 * its own, and the rows after it go on at the offset after the missing bytes. The ASCII column
 * shows printable ASCII and '.' for everything else. A wire offset (a warning's) locates the row
 * that holds it, or the gap line when the byte is missing.
 */
#ifndef HSPY_HEXDUMP_H
#define HSPY_HEXDUMP_H

#include "hspy/detail.h"
#include "hspy/doc.h"

/* The Hex tab's document for c->ex, appended to d (with a locate hook for wire offsets). */
void hexdump_build(struct doc *d, const struct detail_ctx *c);

#endif
