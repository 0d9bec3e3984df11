/*
 * ui: the interface's state and behaviour, without a terminal. It holds the flow list, the
 * detail view, the help screen, the prompt and the messages; it takes keys and mouse events and
 * renders a whole screen into a canvas. The terminal layer (tui.c, screen.c) feeds it events
 * and copies its canvas to the screen; tests and benchmarks drive it directly.
 *
 * Extension points for features that act on flows (intercept, edit, replay):
 *   - key tables: ui_add_keys() appends a table of bindings searched after the built-in one;
 *     its actions get the ui and use the functions below;
 *   - ui_selected() / ui_exchange() name the flow the user is on; ui_message() reports;
 *   - ui_prompt() asks for a line of text with a callback; ui_confirm() asks yes or no;
 *   - ui_suspend()/ui_resume() hand the terminal to a child (an editor) and take it back;
 *   - KEYMAP_* contexts say where a binding applies; ui_context() says where the user is.
 */
#ifndef HSPY_UI_H
#define HSPY_UI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/detail.h"
#include "hspy/doc.h"
#include "hspy/filter.h"
#include "hspy/flowlist.h"
#include "hspy/flowrow.h"
#include "hspy/glyphs.h"
#include "hspy/http.h"
#include "hspy/keymap.h"
#include "hspy/prompt.h"
#include "hspy/store.h"

/* What an action or event asks of the terminal layer. */
enum ui_reaction {
    UI_NONE = 0,
    UI_REDRAW = 1 << 0,  /* draw a new frame */
    UI_QUIT = 1 << 1,    /* end the session */
    UI_REPAINT = 1 << 2, /* clear the terminal and draw everything again (^L) */
};

enum ui_screen { UI_LIST = 0, UI_DETAIL, UI_HELP };

/* Read-mode progress, owned by whoever loads (read mode); all zero when not loading. */
struct ui_progress {
    uint64_t done, total; /* bytes of input consumed and its size (0: unknown) */
    double rate;          /* bytes per second so far (0: unknown) */
    uint64_t gaps;        /* stretches of bytes missing from a capture */
    bool active;          /* still loading */
    bool ended;           /* a capture was read to its end (or stopped at an error): no more
                           * traffic will come */
    bool stream;          /* the input is a stream (a pipe): no size; shown also once it ended */
    uint64_t packets;     /* packets read so far (HAR entries when entries) */
    bool entries;
};

/* A server's connections (listen, proxy), owned by the terminal layer; NULL elsewhere. */
struct ui_server {
    bool active;           /* a listener runs: the counts apply */
    size_t open;           /* connections open now */
    uint64_t refused;      /* refused at the connection cap */
    uint64_t failed;       /* accept failures */
    const char *intercept; /* the intercept filter's text; NULL or "" when nothing is held */
};

/* One answer of a one-key question (ui_choose). */
struct ui_choice {
    int key;
    const char *label;
};
enum { UI_CHOICES_MAX = 12 };
typedef unsigned (*ui_choose_fn)(struct ui *ui, int key, void *data);

/* Hooks into the terminal layer for handing the terminal to a child process. */
struct ui_term {
    void *data;
    void (*suspend)(void *data); /* leave curses mode: the terminal is as it was before */
    void (*resume)(void *data);  /* take the terminal back and redraw everything */
    void (*stop)(void *data);    /* job control (^Z): stop the process until it is continued */
};

struct ui_config {
    const char *title;                  /* "listen 127.0.0.1:8000", "read dump.pcap" */
    const struct http_limits *limits;   /* for de-chunking in views */
    size_t body_max;                    /* cap on a decoded body */
    const struct glyphs *glyphs;        /* GLYPHS_UTF8 or GLYPHS_ASCII */
    const struct ui_progress *progress; /* may be NULL */
    const struct ui_server *server;     /* may be NULL */
    const char *error;      /* the session's error buffer, shown when not empty (may be NULL) */
    const char *filter;     /* --filter: the list's filter from the start (NULL or "": none) */
    const char *bodies_dir; /* --save-bodies DIR, or NULL */
};

/* UI_QUESTION_MAX: a question that names what a prompt took (a file) holds it whole. */
enum {
    UI_KEY_TABLES_MAX = 8,
    UI_MESSAGE_MAX = 512,
    UI_FILTER_MAX = PROMPT_MAX,
    UI_QUESTION_MAX = PROMPT_MAX + 256
};
/* The filter prompt takes the longest expression the filter language accepts. */
_Static_assert((int)PROMPT_MAX > (int)FILTER_EXPR_MAX - 1, "the prompt holds any filter");
/* A search takes the prompt's whole text: nothing of it is cut. */
_Static_assert((int)PROMPT_MAX <= (int)SEARCH_NEEDLE_MAX,
               "a search's room holds what the prompt holds");
/* Rows a flow-list search examines per frame. */
enum { UI_SEARCH_STEP = 32768 };
/* Body bytes a search of the detail view, or the search for a large body's end, examines per
 * frame (about 8 ms). */
#define UI_DOC_STEP ((size_t)8 << 20)

/* Called with the submitted text; returns enum ui_reaction bits. */
typedef unsigned (*ui_prompt_fn)(struct ui *ui, const char *text, void *data);
/* Called on every change (live validation); may set an error with prompt_error. */
typedef void (*ui_prompt_change_fn)(struct ui *ui, struct prompt *p, void *data);

/*
 * One step of work that goes on over several frames (a HAR file being written): does a bounded
 * part of it and returns true while more remains. It may show its progress with ui_message.
 */
typedef bool (*ui_task_fn)(struct ui *ui, void *data);

struct ui {
    struct store *store;
    struct ui_config cfg;
    const struct glyphs *g;
    int rows, cols;
    enum ui_screen screen;
    bool split;
    struct flowlist list;
    struct flowrow_layout layout;
    uint64_t layout_ids; /* digits of the # column were sized for ids below this */
    struct detail detail;
    struct doc help;
    size_t help_top;
    int help_width;  /* the width the help was wrapped at */
    size_t help_hit; /* the help line the last search found (SEARCH_NONE: none since it opened) */
    struct keymap_table keys[UI_KEY_TABLES_MAX];
    void *keys_data[UI_KEY_TABLES_MAX]; /* each table's owner state (ui_add_keys_data) */
    size_t nkeys;
    /* prompt */
    bool prompting;
    struct prompt prompt;
    ui_prompt_fn prompt_submit;
    ui_prompt_change_fn prompt_change;
    void *prompt_data;
    struct prompt_history filter_history, search_history;
    /* yes/no question */
    bool confirming;
    char question[UI_QUESTION_MAX];
    size_t name_off, name_len; /* the name in question (ui_confirm_name); 0, 0: none */
    unsigned (*confirm_yes)(struct ui *ui, void *data);
    void *confirm_data;
    /* one-key question with several answers */
    bool choosing;
    struct ui_choice choices[UI_CHOICES_MAX];
    size_t nchoices;
    ui_choose_fn choose;
    void *choose_data;
    void *key_data; /* data of the key table whose action runs now */
    /* work a key table's owner goes on with over the next frames (ui_task_start), or NULL */
    ui_task_fn task;
    void *task_data;
    /* search and filter */
    char search[PROMPT_MAX];
    struct search_query shown; /* search compiled for highlighting (ui_shown_query) */
    bool searching;            /* a flow-list search goes on over the next frames */
    struct flowlist_search list_search;
    size_t search_rows; /* rows the search started with (progress) */
    bool doc_searching; /* a search of the detail view goes on over the next frames */
    struct doc_search doc_search;
    bool clearing;             /* every completed flow is being deleted, over the next frames */
    bool doc_bottom;           /* the detail view goes to its bottom once its lines are known */
    uint64_t doc_bottom_since; /* the document's generation when that was asked */
    size_t doc_step_budget;    /* UI_DOC_STEP */
    char filter[UI_FILTER_MAX];
    /* transient message under the view */
    char message[UI_MESSAGE_MAX];
    uint8_t message_style;
    /* geometry of the last frame, for the mouse */
    int list_y0, list_rows, tabs_y, text_y0, text_rows;
    uint64_t generation; /* store generation the list was updated to */
    struct ui_term term;
    struct canvas_line scratch;
};

/* Prepares the interface over store (which must outlive it); cfg is copied (its strings are
   not: they must outlive the ui). */
void ui_init(struct ui *ui, struct store *store, const struct ui_config *cfg);
/* Frees everything the ui holds (unpinning the flow a detail view showed). */
void ui_cleanup(struct ui *ui);

/* Appends a key table searched after the built-in bindings (up to UI_KEY_TABLES_MAX). */
void ui_add_keys(struct ui *ui, const struct keymap_binding *rows, size_t n);
/* The same with the owner's state, which the table's actions get from ui_key_data. */
void ui_add_keys_data(struct ui *ui, const struct keymap_binding *rows, size_t n, void *data);
/* While an action runs: the data its key table was added with (NULL for none). */
void *ui_key_data(const struct ui *ui);

/* The terminal size changed. */
void ui_resize(struct ui *ui, int rows, int cols);
/*
 * Pulls store changes; returns true when the screen would change. Cheap when nothing did. Work
 * is bounded per call (a filter over a million flows is applied over several calls).
 */
bool ui_update(struct ui *ui);
/* True while the ui has work left for later ui_update calls (ask for another frame soon). */
bool ui_busy(const struct ui *ui);
/*
 * True while the user waits on that work: a filter or sort being applied, a search running.
 * New traffic not yet placed in the list makes the ui busy but not waited on.
 */
bool ui_waited_on(const struct ui *ui);
/* Handles a key (enum keymap_key or a code point); returns enum ui_reaction bits. */
unsigned ui_key(struct ui *ui, int key);
/*
 * Has ui_update call step(ui, data) until it returns false: the ui is busy and waited on
 * meanwhile, so frames (and steps) come every frame interval whatever the traffic. One task at
 * a time: returns false when one is running. The owner finishes or abandons a task still
 * running when it is freed (ui_cleanup never calls it).
 */
bool ui_task_start(struct ui *ui, ui_task_fn step, void *data);
/* Forgets the running task when it was started with data (its owner ends it itself). */
void ui_task_cancel(struct ui *ui, const void *data);

enum ui_button { UI_CLICK = 1, UI_WHEEL_UP, UI_WHEEL_DOWN };
/* Handles a mouse event at cell (x, y); returns enum ui_reaction bits. */
unsigned ui_mouse(struct ui *ui, enum ui_button button, int x, int y);

/* Renders the whole screen into c (resized to the ui's size). */
void ui_render(struct ui *ui, struct canvas *c);

/* The context keys are looked up in now (enum keymap_context). */
unsigned ui_context(const struct ui *ui);
/* Id of the flow the user is on (list cursor or detail), 0 when none. */
uint64_t ui_selected(const struct ui *ui);
/* That flow, or NULL. */
struct exchange *ui_exchange(const struct ui *ui);
/* Shows a one-line message under the view until the next key. */
void ui_message(struct ui *ui, uint8_t style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens the prompt; submit is called on Enter (the prompt closes unless it set an error). */
void ui_prompt(struct ui *ui, const char *label, const char *initial,
               struct prompt_history *history, ui_prompt_change_fn change, ui_prompt_fn submit,
               void *data);
/*
 * Asks a yes/no question; yes is called on 'y'. The question (copied, cut at the size of
 * ui->question) may hold bytes from outside: it is drawn through termsafe, as are choose's. A
 * question and its answers too wide for one line take the line above too (the question there,
 * the answers below, wrapped), and cut at its end only what still does not fit.
 */
void ui_confirm(struct ui *ui, const char *question, unsigned (*yes)(struct ui *ui, void *data),
                void *data);
/*
 * ui_confirm for a question that names something from outside, such as a file: before, name
 * and after (copied) make the question. On a screen too narrow for it, the name gives way in its
 * middle to an ellipsis (canvas_put_bytes_within) before anything else is cut, so that the
 * question and its answers stay readable. A name too long for ui->question is shortened the
 * same way there.
 */
void ui_confirm_name(struct ui *ui, const char *before, const char *name, const char *after,
                     unsigned (*yes)(struct ui *ui, void *data), void *data);
/*
 * Asks a question answered by one key among choices (at most UI_CHOICES_MAX, copied; labels
 * must outlive the question); fn gets the key. Any other key (Esc) cancels. Laid out as
 * ui_confirm's.
 */
void ui_choose(struct ui *ui, const char *question, const struct ui_choice *choices, size_t n,
               ui_choose_fn fn, void *data);
/* Hands the terminal to a child and back (no-ops without a terminal layer). */
void ui_suspend(struct ui *ui);
void ui_resume(struct ui *ui);
/* Stops hspy as ^Z does in a shell, giving the terminal back until it is continued. */
void ui_stop(struct ui *ui);

/* Applies a filter expression ("" clears); returns false with the error shown when invalid. */
bool ui_set_filter(struct ui *ui, const char *expr);
/*
 * Searches the current view for text from the current position (dir 1 or -1). True when found
 * at once; a search through many flows or a large body goes on over the next frames (ui_busy).
 */
bool ui_search(struct ui *ui, const char *text, int dir);
/* Puts the detail view at its top or bottom; the bottom of a large body is found over the
 * next frames. */
void ui_detail_edge(struct ui *ui, bool end);

#endif
