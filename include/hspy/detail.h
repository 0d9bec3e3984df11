/*
 * detail: the detail view of one exchange. A row of tabs (a const table: name, builder,
 * behaviour), the document of the active tab, and where the user is in it (scroll, cursor,
 * horizontal offset), remembered per tab.
 *
 * A tab's document is built when the tab is shown and rebuilt only when the exchange changed
 * (it is still in flight), the width changed or a view option changed. Builders read the
 * exchange; lazy parts read its bytes again on every frame through bytesources, so a document
 * never holds a pointer into an exchange. An exchange evicted while shown becomes a notice.
 *
 * Adding a tab (the cache analysis, say) is adding a row to DETAIL_TABS.
 */
#ifndef HSPY_DETAIL_H
#define HSPY_DETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/canvas.h"
#include "hspy/doc.h"
#include "hspy/exchange.h"
#include "hspy/glyphs.h"
#include "hspy/http.h"
#include "hspy/store.h"

/* What a tab builder gets. */
struct detail_ctx {
    const struct store *store;
    const struct exchange *ex;
    const struct glyphs *g;
    const struct http_limits *limits;
    int width;              /* cells of the text area */
    bool as_sent;           /* bodies as sent (true) or with their content coding undone */
    uint8_t body;           /* enum detail_body */
    size_t body_max;        /* cap on a decoded body */
    bool diff_split;        /* the Diff tab side by side (else unified) */
    const char *bodies_dir; /* --save-bodies DIR, or NULL */
};

enum detail_tab_flag {
    DETAIL_TAB_TARGETS = 1 << 0, /* the cursor moves between targets; Enter jumps to them */
    DETAIL_TAB_BODY = 1 << 1,    /* shows a body: the body view and the decoding apply */
};

struct detail_tab {
    const char *name;
    void (*build)(struct doc *d, const struct detail_ctx *c);
    unsigned flags; /* enum detail_tab_flag */
    /* A number shown after the name ("Warnings(2)"), or -1 for none. May be NULL. */
    int (*count)(const struct exchange *ex);
};

enum { DETAIL_TABS_MAX = 12 };
extern const struct detail_tab DETAIL_TABS[];
extern const size_t DETAIL_NTABS;

/* Where the user was in a tab. */
struct detail_pos {
    size_t top;    /* first line shown */
    size_t cursor; /* highlighted line, or (size_t)-1 */
    int hscroll;   /* cells scrolled to the right */
};

/* The signature of what a document was built from; a change means rebuild. */
struct detail_sig {
    uint64_t id;
    size_t req_len, resp_len;
    uint32_t flags, req_flags, resp_flags;
    uint16_t nwarnings;
    int width;
    bool as_sent;
    uint8_t body;
    bool present;
};

struct detail {
    struct store *store;
    const struct http_limits *limits;
    const struct glyphs *g;
    size_t body_max;
    uint64_t id;     /* exchange shown, 0 = none */
    uint64_t pinned; /* the exchange pinned in the store while shown, 0 = none */
    size_t tab;
    struct doc doc;
    struct detail_sig sig;
    bool built;
    struct detail_pos pos[DETAIL_TABS_MAX];
    bool as_sent;
    uint8_t body;
    bool diff_split;                /* the Diff tab side by side (else unified) */
    const char *bodies_dir;         /* --save-bodies DIR (the Request and Response tabs say
                                       where a body's file is), or NULL */
    size_t rows;                    /* text rows at the last render (paging) */
    int tab_x[DETAIL_TABS_MAX + 1]; /* cells where each tab label starts at the last render */
};

/* Prepares a view showing nothing over store (which must outlive it). */
void detail_init(struct detail *dt, struct store *store, const struct http_limits *limits,
                 const struct glyphs *g, size_t body_max);
/* Closes the view (unpinning its exchange). */
void detail_cleanup(struct detail *dt);

/*
 * Shows exchange id (positions and the body view reset when it is another exchange). The
 * exchange is pinned in the store while shown, so the caps never evict it from under the view
 * and its bytes stay where they are once it is complete.
 */
void detail_open(struct detail *dt, uint64_t id);
/* Stops showing an exchange (it is unpinned and may be evicted or deleted again). */
void detail_close(struct detail *dt);
/* Switches to tab i (< DETAIL_NTABS); its remembered position comes back. */
void detail_set_tab(struct detail *dt, size_t i);
/* Rebuilds the document if the exchange, width or options changed since it was built. */
void detail_sync(struct detail *dt, int width);
/* Lines of the current document (after detail_sync). */
size_t detail_lines(const struct detail *dt);
/* Current tab's position. */
struct detail_pos *detail_pos(struct detail *dt);

/* What the tab shown offers the keys: KEYMAP_IF_* flags (keymap.h), for the hint line. */
unsigned detail_offers(const struct detail *dt);

/* Scrolls by delta lines (clamped); on a target tab moves the cursor between targets. */
void detail_move(struct detail *dt, long delta);
/* Scrolls by pages of the last rendered height. */
void detail_page(struct detail *dt, long pages);
/* First (end false) or last line. */
void detail_edge(struct detail *dt, bool end);
/* Makes line the cursor line and scrolls it into view. */
void detail_show_line(struct detail *dt, size_t line);
/*
 * Jumps to the cursor's target in the Raw tab (hex true: the Hex tab). Returns false when the
 * current tab has no target under the cursor.
 */
bool detail_jump(struct detail *dt, bool hex);

/* The heading line: "#12  GET /x -> 502 Bad Gateway  3.0s  client ...". */
void detail_render_title(const struct detail *dt, struct canvas_line *out);
/* The tab row, the active one highlighted; remembers where each tab is for the mouse. */
void detail_render_tabs(struct detail *dt, struct canvas_line *out);
/* The tab under cell x of the last rendered tab row, or (size_t)-1. */
size_t detail_tab_at(const struct detail *dt, int x);
/* The document lines from top into canvas rows [y0, y0+rows), the matches of q (may be NULL)
 * highlighted. */
void detail_render_text(struct detail *dt, struct canvas *c, int y0, int rows,
                        const struct search_query *q);

#endif
