/*
 * hexdump: bytes as rows of "offset  hex bytes  ascii", sixteen bytes a row, rendered only
 * when a row is on screen. The ASCII column shows printable ASCII and '.' for anything else,
 * so no byte from the network reaches the terminal as itself unless it is plain ASCII.
 */
#ifndef HSPY_HEXDUMP_H
#define HSPY_HEXDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/bytesource.h"
#include "hspy/canvas.h"
#include "hspy/detail.h"
#include "hspy/doc.h"

enum { HEXDUMP_ROW = 16 };

/* Renders one row of p[0..n) (n <= HEXDUMP_ROW) that starts at offset off. */
void hexdump_row(struct canvas_line *out, const uint8_t *p, size_t n, uint64_t off);

/*
 * Appends rows for bytes [0, len) of src to d as a lazy source; the document takes over src
 * (the caller must not clean it up). Returns the first line.
 */
size_t hexdump_add(struct doc *d, const struct bytesource *src, size_t len);

/* The Hex tab's document for c->ex, appended to d (with a locate hook for wire offsets). */
void hexdump_build(struct doc *d, const struct detail_ctx *c);

#endif
