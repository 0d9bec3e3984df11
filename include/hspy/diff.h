/*
 * diff: the differences between two texts, line by line, for showing what an edit changed
 * (what was received against what was sent).
 *
 * Lines end after each LF and include it, so a changed line end (CRLF made LF by an editor) is a
 * change. The edit script is minimal (Myers' O(ND) algorithm after removing the common start and
 * end) as long as it needs at most DIFF_COST_MAX inserted plus deleted lines; past that the
 * middle part is shown as removed and added whole (still a correct script, flagged
 * approximate), so the time and memory spent stay bounded whatever the input. Pure: no I/O.
 */
#ifndef HSPY_DIFF_H
#define HSPY_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

/* Named limits: lines per text (the rest is one last line) and the cost of a minimal script. */
enum { DIFF_LINES_MAX = 1 << 20, DIFF_COST_MAX = 1500 };

enum diff_op { DIFF_SAME = 0, DIFF_DEL = 1, DIFF_ADD = 2 };

/* One line of a text: a span of the caller's bytes, its line end included. */
struct diff_line {
    const uint8_t *p;
    size_t len;
    uint64_t hash;
};

/* One step of the script; a and b are the line positions in the old and new text before it
 * (the line concerned is a[a] for SAME and DEL, b[b] for SAME and ADD). */
struct diff_entry {
    uint8_t op; /* enum diff_op */
    uint32_t a, b;
};

struct diff {
    struct diff_line *a, *b; /* the lines of the two texts (spans of the caller's bytes) */
    size_t na, nb;
    struct diff_entry *v; /* the script, in order */
    size_t n;
    size_t changes;   /* entries that are not DIFF_SAME */
    bool approximate; /* past DIFF_COST_MAX: the middle is removed and added whole */
};

/*
 * Computes the script from old text a to new text b. The diff points into both texts, which
 * must stay unchanged until diff_cleanup.
 */
void diff_compute(struct diff *d, const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
void diff_cleanup(struct diff *d);

/* A hunk: script entries [from, to), covering old lines [a0, a0+na) and new lines [b0, b0+nb). */
struct diff_hunk {
    size_t from, to;
    size_t a0, na, b0, nb;
};

/*
 * The next hunk at or after script entry *pos with up to context unchanged lines around its
 * changes (hunks closer than that are merged). Returns false when no change is left; otherwise
 * fills h and moves *pos past it.
 */
bool diff_next_hunk(const struct diff *d, size_t *pos, unsigned context, struct diff_hunk *h);

/*
 * Appends the unified diff ("--- la", "+++ lb", "@@ -a,n +b,m @@", lines prefixed ' ', '-',
 * '+'; the bytes of lines as they are) to out. Nothing when the texts are equal.
 */
void diff_unified(const struct diff *d, const char *la, const char *lb, unsigned context,
                  struct dynbuf *out);

#endif
