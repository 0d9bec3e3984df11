/*
 * screen: the terminal, through ncursesw. It is the only module that draws: it copies a
 * finished canvas to the terminal (curses then sends only what changed), reads keys and mouse
 * events and translates them into keymap codes, follows size changes, and hands the terminal
 * to a child and back. Colours come from a table indexed by style; NO_COLOR (any value) or a
 * terminal without colours gives the monochrome attributes of the same table.
 *
 * The terminal is always restored: screen_close on the normal path, and an atexit handler
 * registered by screen_open for exit() paths (xmalloc's out-of-memory exit among them).
 */
#ifndef HSPY_SCREEN_H
#define HSPY_SCREEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hspy/canvas.h"

/* Colour pairs cached for fg/bg combinations of the style table. */
enum { SCREEN_COLORS = 9 }; /* default, then the 8 ANSI colours */

struct screen {
    void *term; /* SCREEN * */
    FILE *out, *in;
    bool active; /* curses owns the terminal */
    bool color;
    bool utf8; /* the locale's charset is UTF-8 */
    int rows, cols;
    short pairs[SCREEN_COLORS][SCREEN_COLORS]; /* pair number, 0 = not allocated yet */
    short npairs;
    uint64_t *drawn; /* per row, a hash of the line drawn last (0: none); unchanged lines are
                        skipped, which curses' own comparison would only find after redoing
                        the multibyte conversion */
    int ndrawn;
};

/* Bytes of a line whose styles are worked out on the stack (longer lines use the heap). */
enum { SCREEN_LINE_STYLES = 4096 };

enum screen_event {
    SCREEN_NONE = 0, /* nothing pending */
    SCREEN_KEY,
    SCREEN_MOUSE,
    SCREEN_RESIZE,
    SCREEN_OTHER, /* something hspy does not use (an unknown key, a mouse release) */
};

struct screen_input {
    int key;    /* SCREEN_KEY: keymap code */
    int button; /* SCREEN_MOUSE: enum ui_button */
    int x, y;
};

/*
 * Takes over the terminal on out/in (the process's stdout/stdin, or a pseudo-terminal in
 * benchmarks). color false forces monochrome. Returns 0, or -1 with a reason in err.
 */
int screen_open(struct screen *s, FILE *out, FILE *in, bool color, char *err, size_t errlen);
/* Restores the terminal. Idempotent. */
void screen_close(struct screen *s);

/* Draws c (its size must be the screen's) and updates the terminal. */
void screen_draw(struct screen *s, const struct canvas *c);
/* Clears the terminal so that the next draw repaints everything (^L, after a child). */
void screen_repaint(struct screen *s);
/* Reads one pending input without waiting; SCREEN_NONE when there is none. */
enum screen_event screen_read(struct screen *s, struct screen_input *in);
/* Asks the terminal for its size and resizes curses; returns true when it changed. */
bool screen_resize(struct screen *s);

/* Leaves curses mode (the terminal as the shell had it) and comes back. */
void screen_suspend(struct screen *s);
void screen_resume(struct screen *s);

#endif
