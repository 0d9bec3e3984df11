/*
 * wiretext: the Raw tab. Both directions' bytes exactly as they crossed the wire, CR and LF
 * drawn as the glyph set shows wire bytes (symbols, or escapes in ASCII), with the structure made
 * visible by marker lines between the bytes: interim responses, start and end of the head, the
 * body's framing, every chunk-size line, the last chunk, the trailer section, the end of the
 * message, capture gaps and the point where bytes stopped being kept. Each byte line starts with
 * its offset, which is the offset the Warnings tab reports.
 *
 * The line index (16 bytes a line) is built when the tab is opened; line text is rendered
 * only when on screen.
 */
#ifndef HSPY_WIRETEXT_H
#define HSPY_WIRETEXT_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/detail.h"
#include "hspy/doc.h"

/* Longest byte line before it continues on the next line. */
enum { WIRETEXT_LINE_MAX = 256 };

/* The Raw tab's document for c->ex, appended to d (with a locate hook for wire offsets). */
void wiretext_build(struct doc *d, const struct detail_ctx *c);

/*
 * Offsets. Warnings and gaps count a side's bytes as they were on the wire; raw keeps only the
 * bytes that were seen, so after a capture gap the two differ by the missing bytes. These
 * convert between them using a message's gap list (gaps may be NULL when ngaps is 0).
 */
uint64_t wiretext_raw_offset(const struct message_gap *gaps, uint16_t ngaps, uint64_t wire);
uint64_t wiretext_wire_offset(const struct message_gap *gaps, uint16_t ngaps, uint64_t raw);

/* Appends the words that mark a capture gap of `missing` bytes at wire offset `wire` to out (Raw
 * and Hex say it the same way), in place when the line is scrolled sideways (a line stored in
 * a doc needs doc_fixed for that). */
void wiretext_gap_line(struct canvas_line *out, const struct glyphs *g, uint64_t missing,
                       uint64_t wire);

/* Bytes of a message that crossed the wire (or the capture) but were not kept (the body cap,
 * the snap length): how many after the kept ones, 0 when every byte was kept. */
uint64_t wiretext_cut_bytes(const struct message *m);

/* Appends the words that mark those `cut` bytes to out (Raw and Hex say it the same way), in
 * place when the line is scrolled sideways (a line stored in a doc needs doc_fixed for that). */
void wiretext_cut_line(struct canvas_line *out, const struct glyphs *g, uint64_t cut);

#endif
