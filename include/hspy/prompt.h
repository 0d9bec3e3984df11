/*
 * prompt: the one-line editor at the bottom of the screen (filter, search). It edits UTF-8
 * text with the usual keys (arrows, Home/End, Backspace/Del, ^A ^E ^U ^K ^W), keeps a short
 * history per prompt, and shows an error under the text with a caret at the offending byte
 * (the filter's inline error). Pure: keys in, text out.
 */
#ifndef HSPY_PROMPT_H
#define HSPY_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "hspy/canvas.h"
#include "hspy/glyphs.h"

/*
 * PROMPT_MAX - 1 bytes of text: the longest filter expression (FILTER_EXPR_MAX) fits.
 * PROMPT_INPUT_MIN: cells the text typed keeps at least (half the line on a narrower one), the
 * label giving way in its middle where it would take more.
 */
enum { PROMPT_MAX = 4096, PROMPT_HISTORY = 16, PROMPT_INPUT_MIN = 20 };

enum prompt_result {
    PROMPT_EDITING = 0, /* nothing to do */
    PROMPT_CHANGED,     /* the text changed */
    PROMPT_SUBMIT,      /* Enter */
    PROMPT_CANCEL,      /* Esc or ^C or ^G */
};

struct prompt_history {
    char *items[PROMPT_HISTORY]; /* newest first, owned */
    size_t n;
};

struct prompt {
    const char *label; /* "filter", "search" (static strings) */
    char text[PROMPT_MAX];
    size_t len, cursor;             /* bytes; cursor is on a character boundary */
    char error[256];                /* "" when none */
    size_t errpos;                  /* byte of text the error points at, or (size_t)-1 */
    struct prompt_history *history; /* may be NULL */
    size_t hpos;                    /* 0 = the text being typed, k = history item k-1 */
};

/* Starts editing with initial text (may be NULL) and the given history (may be NULL). */
void prompt_open(struct prompt *p, const char *label, const char *initial,
                 struct prompt_history *history);
/* Handles one key (enum keymap_key or a code point). */
enum prompt_result prompt_key(struct prompt *p, int key);
/* Sets or clears (msg NULL) the error shown under the text. */
void prompt_error(struct prompt *p, const char *msg, size_t errpos);

/* Remembers text as the newest history item (duplicates move to the front). */
void prompt_history_add(struct prompt_history *h, const char *text);
void prompt_history_cleanup(struct prompt_history *h);

/*
 * The prompt line, cursor shown as a highlighted cell. A label that would leave the text less
 * than PROMPT_INPUT_MIN cells (or half the line) is cut in its middle with g's ellipsis.
 */
void prompt_render(const struct prompt *p, const struct glyphs *g, struct canvas_line *out);
/* The error line ("    ^ message" under the offending character), empty without an error. */
void prompt_render_error(const struct prompt *p, struct canvas_line *out);

#endif
