/*
 * keymap: key bindings as data. A binding is one row {key, contexts, action, argument, hint,
 * help}; the interface looks a key up in its tables for the current context, the help screen
 * is generated from the same rows, and so is the one-line hint at the bottom of every screen.
 * A key and its help can therefore never disagree.
 *
 * Keys are plain integers: Unicode code points for characters, 1..26 for Ctrl+letter, and the
 * KEYMAP_* values above Unicode for special keys. The terminal layer translates curses codes
 * into these, so nothing here depends on curses.
 */
#ifndef HSPY_KEYMAP_H
#define HSPY_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "hspy/canvas.h"
#include "hspy/doc.h"
#include "hspy/glyphs.h"

#define KEYMAP_CTRL(c) ((c)&0x1f)

enum keymap_key {
    KEYMAP_SPECIAL = 0x110000, /* above every code point */
    KEYMAP_UP,
    KEYMAP_DOWN,
    KEYMAP_LEFT,
    KEYMAP_RIGHT,
    KEYMAP_HOME,
    KEYMAP_END,
    KEYMAP_PGUP,
    KEYMAP_PGDN,
    KEYMAP_ENTER,
    KEYMAP_TAB,
    KEYMAP_BTAB, /* Shift+Tab */
    KEYMAP_ESC,
    KEYMAP_BACKSPACE,
    KEYMAP_DELETE,
    KEYMAP_F1,
};

/*
 * Where a binding applies. The interface is in one of the first four at a time; KEYMAP_TARGETS
 * is added to KEYMAP_DETAIL on a tab whose lines lead somewhere (Warnings, Cache).
 */
enum keymap_context {
    KEYMAP_LIST = 1 << 0,    /* the flow list on the whole screen */
    KEYMAP_SPLIT = 1 << 1,   /* the flow list with the detail below it */
    KEYMAP_DETAIL = 1 << 2,  /* the detail view on the whole screen */
    KEYMAP_HELP = 1 << 3,    /* the help screen */
    KEYMAP_TARGETS = 1 << 4, /* the detail view on a tab of targets (Warnings, Cache) */
    KEYMAP_ANY = KEYMAP_LIST | KEYMAP_SPLIT | KEYMAP_DETAIL | KEYMAP_HELP,
};

enum keymap_flag {
    KEYMAP_BACK = 1 << 0, /* the way back (or out): always shown in the hint line */
    KEYMAP_KEEP = 1 << 1, /* shown in the hint line at any width, in its place (the help) */
    /*
     * When the hint line names the key: only where the screen offers what the flag names (the
     * key still acts wherever its contexts say; it would only have nothing to act on).
     */
    KEYMAP_IF_TARGETS = 1 << 2, /* lines that lead somewhere: a warning, a cache finding */
    KEYMAP_IF_BODY = 1 << 3,    /* a tab that shows the messages' bodies (Request, Response) */
    KEYMAP_IF_FLOW = 1 << 4,    /* a flow is selected (the list is not empty): rows acting on it */
};
/* Every KEYMAP_IF_* flag: what a screen may offer (keymap_hint's offers). */
#define KEYMAP_IF_ALL (KEYMAP_IF_TARGETS | KEYMAP_IF_BODY | KEYMAP_IF_FLOW)

struct ui;

struct keymap_binding {
    int key;
    unsigned contexts; /* enum keymap_context bits */
    /* Returns enum ui_reaction bits. */
    unsigned (*action)(struct ui *ui, int arg);
    int arg;
    const char *hint; /* short label for the hint line, or NULL */
    const char *help; /* one line for the help screen */
    unsigned flags;   /* enum keymap_flag */
};

/* A table and its length; the interface searches several in order. */
struct keymap_table {
    const struct keymap_binding *rows;
    size_t n;
};

/* The first binding of key in context ctx across tables[0..ntables), or NULL. */
const struct keymap_binding *keymap_lookup(const struct keymap_table *tables, size_t ntables,
                                           int key, unsigned ctx);

/* A key's name as shown ("j", "Enter", "Tab", "^C", "PgDn", "Space"). Returns buf. */
const char *keymap_name(int key, const struct glyphs *g, char *buf, size_t len);

/* A context's name ("Flow list"). */
const char *keymap_context_name(unsigned ctx);

/*
 * One entry of a help screen: keys (or a filter term's syntax) in the key style, then help,
 * wrapped at width cells under itself (beside the keys when there is room, else under them).
 */
void keymap_help_entry(const char *keys, const char *help, int width, struct doc *out);

/*
 * The help screen: one section per context, one entry per action (keys with the same action,
 * argument and help text share an entry), generated from the tables. Explanations wrap at width
 * cells (CANVAS_UNLIMITED: never), under themselves.
 */
void keymap_help(const struct keymap_table *tables, size_t ntables, const struct glyphs *g,
                 int width, struct doc *out);

/*
 * The hint line for context ctx fitted into out's width: "key label" items in table order
 * (keys sharing a label joined by '/'), the KEYMAP_BACK item always last and always kept, the
 * KEYMAP_KEEP items kept in their places while the others give way. offers holds the
 * KEYMAP_IF_* flags of what the screen offers now: a row with a KEYMAP_IF_* flag not among
 * them is left out, so that the line names only keys that act there.
 */
void keymap_hint(const struct keymap_table *tables, size_t ntables, unsigned ctx, unsigned offers,
                 const struct glyphs *g, struct canvas_line *out);

#endif
