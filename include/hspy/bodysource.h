/*
 * bodysource: a message body as part of a document, through the body views (bodyview): JSON
 * pretty-printed, form fields, multipart parts, text in its charset, hex for binary data. The
 * view finds lines only as far as they are asked for, so the document grows as the user
 * scrolls and a body of any size opens at once; searching indexes it to the end.
 */
#ifndef HSPY_BODYSOURCE_H
#define HSPY_BODYSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/bytesource.h"
#include "hspy/doc.h"

struct bodysource;

/*
 * A view over the bytes of src (taken over: the caller must not clean it up) with the given
 * Content-Type value (may be NULL) in mode (enum bodyview_mode; BODYVIEW_AUTO picks). The bytes
 * must stay where they are while the source lives: src is a copy, or a window into a complete
 * exchange that is pinned.
 */
struct bodysource *bodysource_new(const struct bytesource *src, const uint8_t *ctype,
                                  size_t ctype_len, int mode);
/* One line about the view ("json", "text, windows-1252"); valid until the source changes. */
const char *bodysource_describe(struct bodysource *b);
/*
 * Appends the body's lines to d; d takes b over. A view that still has to find its lines is a
 * growing source (nothing may follow it); one that knows them all (hex) is a fixed one.
 */
size_t bodysource_add(struct doc *d, struct bodysource *b);
/* The row (from the source's first line) that shows byte offset off of the body. */
size_t bodysource_row_of(struct bodysource *b, uint64_t off);
/* Hex rows count their offsets from origin (where the bytes start in a side's wire bytes); call it
 * before bodysource_add. */
void bodysource_set_origin(struct bodysource *b, uint64_t origin);
/*
 * Fits a hex view's rows to width cells, call it before bodysource_add: 16, 8 or 4 bytes a row,
 * whichever fits (bodyview_set_layout). Other views keep an unlimited width: the canvas cuts
 * their lines and scrolls them sideways.
 */
void bodysource_fit(struct bodysource *b, int width);
/* Frees a source that was not added. NULL is a no-op. */
void bodysource_free(struct bodysource *b);

#endif
