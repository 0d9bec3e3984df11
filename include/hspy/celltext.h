/*
 * celltext: UTF-8 text measured in terminal cells. The screen is a grid of cells; a character
 * takes zero (combining marks), one or two (East Asian wide, most emoji) of them. Everything
 * that fits text into a column or a line goes through here, so wide characters never spill
 * into the next column and a cut never splits a character.
 *
 * Input is text that is already safe to show (termsafe output or hspy's own strings). Bytes
 * that are not valid UTF-8 count one cell each, so a bug elsewhere cannot make widths negative.
 * Widths come from wcwidth(), which follows LC_CTYPE: the interface sets a UTF-8 locale first.
 */
#ifndef HSPY_CELLTEXT_H
#define HSPY_CELLTEXT_H

#include <stddef.h>

enum celltext_align { CELLTEXT_LEFT = 0, CELLTEXT_RIGHT = 1 };

/*
 * Decodes the character at s[0..n) (n > 0). Returns its length in bytes (at least 1) and sets
 * *cells to its width (0, 1 or 2).
 */
size_t celltext_next(const char *s, size_t n, int *cells);

/* Cells taken by s[0..n). */
int celltext_width(const char *s, size_t n);

/*
 * The longest prefix of s[0..n) that fits in max cells, in bytes, never splitting a character.
 * *used (may be NULL) receives the cells that prefix takes (max - 1 when a wide character did
 * not fit in the last cell).
 */
size_t celltext_fit(const char *s, size_t n, int max, int *used);

/*
 * The suffix of s[0..n) that starts after skipping `skip` cells, in bytes from s. A wide
 * character cut by the skip is dropped whole; *lost (may be NULL) gets the cells of it that
 * stayed visible (0 or 1), which callers fill with spaces to keep columns aligned.
 */
size_t celltext_skip(const char *s, size_t n, int skip, int *lost);

/*
 * Word wrapping: the length in bytes of the first line of s[0..n) when lines hold at most
 * width cells, broken after a space where possible. *next (may be NULL) receives where the
 * following line starts (spaces at the break skipped). Returns at least one character.
 */
size_t celltext_wrap(const char *s, size_t n, int width, size_t *next);

#endif
