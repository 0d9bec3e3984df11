/*
 * detail owns the detail view's state: the exchange shown, the tab table, the current tab's
 * document and the position in every tab. It builds documents through the tab builders and
 * renders into canvas lines; it never touches the terminal or changes an exchange.
 */
#include "hspy/detail.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "hspy/bodyview.h"
#include "hspy/cachetab.h"
#include "hspy/difftab.h"
#include "hspy/flowrow.h"
#include "hspy/hexdump.h"
#include "hspy/keymap.h"
#include "hspy/msgtext.h"
#include "hspy/side.h"
#include "hspy/termsafe.h"
#include "hspy/warnlist.h"
#include "hspy/waterfall.h"
#include "hspy/wiretext.h"

/* clang-format off */
const struct detail_tab DETAIL_TABS[] = {
    {"Request",  msgtext_build_request,  DETAIL_TAB_BODY,    NULL},
    {"Response", msgtext_build_response, DETAIL_TAB_BODY,    NULL},
    {"Raw",      wiretext_build,         0,                  NULL},
    {"Hex",      hexdump_build,          0,                  NULL},
    {"Timing",   waterfall_build,        0,                  NULL},
    {"Cache",    cachetab_build,         DETAIL_TAB_TARGETS, NULL},
    {"Warnings", warnlist_build,         DETAIL_TAB_TARGETS, warnlist_count},
    {"Diff",     difftab_build,          0,                  difftab_count},
};
/* clang-format on */
const size_t DETAIL_NTABS = sizeof DETAIL_TABS / sizeof DETAIL_TABS[0];

static const size_t NPOS = (size_t)-1;

static size_t find_tab(const char *name)
{
    for (size_t i = 0; i < DETAIL_NTABS; i++)
        if (strcmp(DETAIL_TABS[i].name, name) == 0)
            return i;
    return NPOS;
}

static void reset_positions(struct detail *dt)
{
    for (size_t i = 0; i < DETAIL_TABS_MAX; i++)
        dt->pos[i] = (struct detail_pos){0, NPOS, 0};
}

void detail_init(struct detail *dt, struct store *store, const struct http_limits *limits,
                 const struct glyphs *g, size_t body_max)
{
    _Static_assert(sizeof DETAIL_TABS / sizeof DETAIL_TABS[0] <= DETAIL_TABS_MAX,
                   "DETAIL_TABS_MAX too small");
    memset(dt, 0, sizeof *dt);
    dt->store = store;
    dt->limits = limits;
    dt->g = g;
    dt->body_max = body_max;
    dt->as_sent = false;
    dt->body = BODYVIEW_AUTO;
    doc_init(&dt->doc);
    reset_positions(dt);
}

static void unpin(struct detail *dt)
{
    struct exchange *ex = dt->pinned ? store_get(dt->store, dt->pinned) : NULL;
    dt->pinned = 0;
    if (ex)
        store_unpin(dt->store, ex);
}

void detail_close(struct detail *dt)
{
    unpin(dt);
    dt->id = 0;
    dt->built = false;
    doc_reset(&dt->doc);
}

void detail_cleanup(struct detail *dt)
{
    unpin(dt);
    doc_cleanup(&dt->doc);
}

void detail_open(struct detail *dt, uint64_t id)
{
    if (id != dt->id) {
        reset_positions(dt);
        /* A view chosen with v was chosen for that flow's body: another flow opens in its own
           automatic view. */
        dt->body = BODYVIEW_AUTO;
        unpin(dt);
        struct exchange *ex = id ? store_get(dt->store, id) : NULL;
        if (ex) {
            store_pin(dt->store, ex);
            dt->pinned = id;
        }
    }
    dt->id = id;
    dt->built = false;
}

void detail_set_tab(struct detail *dt, size_t i)
{
    if (i >= DETAIL_NTABS || i == dt->tab)
        return;
    dt->tab = i;
    dt->built = false;
}

struct detail_pos *detail_pos(struct detail *dt)
{
    return &dt->pos[dt->tab];
}

static struct detail_sig signature(const struct detail *dt, const struct exchange *ex, int width)
{
    struct detail_sig s;
    memset(&s, 0, sizeof s);
    s.id = dt->id;
    s.width = width;
    s.as_sent = dt->as_sent;
    s.body = dt->body;
    if (ex) {
        s.present = true;
        s.req_len = ex->req.raw.len;
        s.resp_len = ex->resp.raw.len;
        s.flags = ex->flags;
        s.req_flags = ex->req.flags;
        s.resp_flags = ex->resp.flags;
        s.nwarnings = ex->nwarnings;
    }
    return s;
}

static bool same_sig(const struct detail_sig *a, const struct detail_sig *b)
{
    return a->id == b->id && a->req_len == b->req_len && a->resp_len == b->resp_len &&
           a->flags == b->flags && a->req_flags == b->req_flags && a->resp_flags == b->resp_flags &&
           a->nwarnings == b->nwarnings && a->width == b->width && a->as_sent == b->as_sent &&
           a->body == b->body && a->present == b->present;
}

/* Keeps the position inside the document. */
static void clamp(struct detail *dt)
{
    struct detail_pos *p = detail_pos(dt);
    size_t rows = dt->rows ? dt->rows : 1;
    /* A growing document finds lines as far as the screen reaches (and a page beyond). */
    doc_extend(&dt->doc, p->top + 2 * rows);
    size_t lines = doc_lines(&dt->doc);
    size_t max_top = lines > rows ? lines - rows : 0;
    if (p->top > max_top)
        p->top = max_top;
    if (p->cursor != NPOS && p->cursor >= lines)
        p->cursor = lines ? lines - 1 : NPOS;
    if ((DETAIL_TABS[dt->tab].flags & DETAIL_TAB_TARGETS) && dt->doc.ntargets && p->cursor == NPOS)
        p->cursor = dt->doc.targets[0].line;
}

void detail_sync(struct detail *dt, int width)
{
    const struct exchange *ex = dt->id ? store_get(dt->store, dt->id) : NULL;
    struct detail_sig sig = signature(dt, ex, width);
    if (dt->built && same_sig(&sig, &dt->sig))
        return;
    doc_reset(&dt->doc);
    if (!ex) {
        doc_addf(&dt->doc, STYLE_DIM,
                 "(exchange #%llu is no longer in the store: deleted or evicted by the caps)",
                 (unsigned long long)dt->id);
    } else {
        struct detail_ctx ctx = {
            dt->store,   ex,       dt->g,        dt->limits,     width,
            dt->as_sent, dt->body, dt->body_max, dt->diff_split, dt->bodies_dir};
        DETAIL_TABS[dt->tab].build(&dt->doc, &ctx);
    }
    dt->sig = sig;
    dt->built = true;
    clamp(dt);
}

size_t detail_lines(const struct detail *dt)
{
    return doc_lines(&dt->doc);
}

/* Actions may come before the next frame rebuilt the document (several keys in one read). */
static void ensure_built(struct detail *dt)
{
    detail_sync(dt, dt->sig.width > 0 ? dt->sig.width : 80);
}

static bool on_targets(const struct detail *dt)
{
    return (DETAIL_TABS[dt->tab].flags & DETAIL_TAB_TARGETS) && dt->doc.ntargets;
}

unsigned detail_offers(const struct detail *dt)
{
    if (!dt->id || !dt->built)
        return 0;
    unsigned flags = DETAIL_TABS[dt->tab].flags;
    return (on_targets(dt) ? KEYMAP_IF_TARGETS : 0) |
           ((flags & DETAIL_TAB_BODY) && dt->sig.present ? KEYMAP_IF_BODY : 0);
}

static void keep_cursor_visible(struct detail *dt)
{
    struct detail_pos *p = detail_pos(dt);
    size_t rows = dt->rows ? dt->rows : 1;
    if (p->cursor == NPOS)
        return;
    if (p->cursor < p->top)
        p->top = p->cursor;
    else if (p->cursor >= p->top + rows)
        p->top = p->cursor - rows + 1;
    clamp(dt);
}

void detail_move(struct detail *dt, long delta)
{
    ensure_built(dt);
    struct detail_pos *p = detail_pos(dt);
    if (on_targets(dt)) {
        size_t k = doc_target_at(&dt->doc, p->cursor == NPOS ? 0 : p->cursor);
        long nk = (long)k + delta;
        if (nk < 0)
            nk = 0;
        if ((size_t)nk >= dt->doc.ntargets)
            nk = (long)dt->doc.ntargets - 1;
        p->cursor = dt->doc.targets[nk].line;
        keep_cursor_visible(dt);
        return;
    }
    long top = (long)p->top + delta;
    p->top = top < 0 ? 0 : (size_t)top;
    clamp(dt);
}

void detail_page(struct detail *dt, long pages)
{
    ensure_built(dt);
    struct detail_pos *p = detail_pos(dt);
    long rows = dt->rows > 1 ? (long)dt->rows - 1 : 1;
    long top = (long)p->top + pages * rows;
    p->top = top < 0 ? 0 : (size_t)top;
    clamp(dt);
    if (on_targets(dt)) {
        size_t k = doc_target_at(&dt->doc, p->top);
        if (k >= dt->doc.ntargets)
            k = dt->doc.ntargets - 1;
        p->cursor = dt->doc.targets[k].line;
        keep_cursor_visible(dt);
    }
}

void detail_edge(struct detail *dt, bool end)
{
    ensure_built(dt);
    struct detail_pos *p = detail_pos(dt);
    if (end)
        doc_index(&dt->doc, 0);
    p->top = end ? doc_lines(&dt->doc) : 0;
    clamp(dt);
    if (on_targets(dt)) {
        p->cursor = dt->doc.targets[end ? dt->doc.ntargets - 1 : 0].line;
        keep_cursor_visible(dt);
    }
}

void detail_show_line(struct detail *dt, size_t line)
{
    ensure_built(dt);
    struct detail_pos *p = detail_pos(dt);
    size_t rows = dt->rows ? dt->rows : 1;
    p->cursor = line;
    if (line < p->top || line >= p->top + rows)
        p->top = line > rows / 3 ? line - rows / 3 : 0;
    clamp(dt);
}

bool detail_jump(struct detail *dt, bool hex)
{
    ensure_built(dt);
    struct detail_pos *p = detail_pos(dt);
    if (!on_targets(dt) || p->cursor == NPOS)
        return false;
    size_t k = doc_target_at(&dt->doc, p->cursor);
    if (k >= dt->doc.ntargets || dt->doc.targets[k].line != p->cursor)
        return false;
    struct doc_target t = dt->doc.targets[k];
    size_t tab = find_tab(hex ? "Hex" : "Raw");
    if (tab == NPOS)
        return false;
    detail_set_tab(dt, tab);
    detail_sync(dt, dt->sig.width);
    size_t line = dt->doc.locate ? dt->doc.locate(&dt->doc, t.side, t.offset) : NPOS;
    if (line != NPOS)
        detail_show_line(dt, line);
    return true;
}

void detail_render_title(const struct detail *dt, struct canvas_line *out)
{
    const struct exchange *ex = dt->id ? store_get(dt->store, dt->id) : NULL;
    out->style = STYLE_BOLD;
    canvas_printf(out, STYLE_BOLD, " #%llu  ", (unsigned long long)dt->id);
    if (!ex) {
        canvas_puts(out, STYLE_DIM, "(gone)");
        return;
    }
    struct canvas_cell cell;
    canvas_cell_clear(&cell);
    char *buf = cell.text;
    uint8_t st = FLOWROW_COLUMNS[FLOWCOL_METHOD].text(ex, dt->g, &cell);
    canvas_put_cell(out, st, &cell);
    canvas_puts(out, STYLE_BOLD, " ");
    canvas_cell_clear(&cell);
    FLOWROW_COLUMNS[FLOWCOL_TARGET].text(ex, dt->g, &cell);
    int room = out->width - out->cells - 40;
    int w = celltext_width(buf, strlen(buf));
    canvas_put_fit_marked(out, STYLE_BOLD, buf, strlen(buf), w < room ? w : (room > 8 ? room : 8),
                          CELLTEXT_LEFT, dt->g->ellipsis, cell.mark, cell.nmarks);
    canvas_printf(out, STYLE_BOLD, "  %s ", dt->g->arrow);
    canvas_cell_clear(&cell);
    st = FLOWROW_COLUMNS[FLOWCOL_STATUS].text(ex, dt->g, &cell);
    canvas_puts(out, st, buf);
    if (ex->resp.flags & MSG_HEAD && ex->resp.head.reason.len) {
        canvas_puts(out, st, " ");
        canvas_put_bytes(out, st, message_at(&ex->resp, ex->resp.head.reason),
                         ex->resp.head.reason.len, 0);
    }
    FLOWROW_COLUMNS[FLOWCOL_DURATION].text(ex, dt->g, &cell);
    canvas_printf(out, STYLE_NORMAL, "   %s   client ", buf);
    FLOWROW_COLUMNS[FLOWCOL_CLIENT].text(ex, dt->g, &cell);
    canvas_puts(out, STYLE_NORMAL, buf);
    canvas_printf(out, STYLE_DIM, "   conn %llu #%u", (unsigned long long)ex->conn_id,
                  ex->conn_seq);
}

/*
 * The tab bar. On a line too narrow for every tab, tabs are dropped from the left until the
 * current one fits, an ellipsis standing for them, and the line is cut at the right with one:
 * the current tab is always in view. The body view's note after the tabs shows only whole.
 */
void detail_render_tabs(struct detail *dt, struct canvas_line *out)
{
    const struct exchange *ex = dt->id ? store_get(dt->store, dt->id) : NULL;
    char label[DETAIL_NTABS][64];
    int count[DETAIL_NTABS], cells[DETAIL_NTABS];
    for (size_t i = 0; i < DETAIL_NTABS; i++) {
        const struct detail_tab *t = &DETAIL_TABS[i];
        count[i] = t->count && ex ? t->count(ex) : -1;
        if (count[i] >= 0)
            snprintf(label[i], sizeof label[i], "%s(%d)", t->name, count[i]);
        else
            snprintf(label[i], sizeof label[i], "%s", t->name);
        cells[i] = (int)strlen(label[i]) + 3; /* "[name]" or " name ", then a space */
    }
    size_t first = 0;
    int upto = 1; /* the lead cell, then every tab up to the current one */
    for (size_t i = 0; i <= dt->tab && i < DETAIL_NTABS; i++)
        upto += cells[i];
    while (first < dt->tab && upto > out->width)
        upto -= cells[first++];
    out->ellipsis = dt->g->ellipsis;
    canvas_puts(out, STYLE_DIM, first ? dt->g->ellipsis : " ");
    for (size_t i = 0; i < first; i++)
        dt->tab_x[i] = INT_MAX; /* not on screen: no click reaches it */
    for (size_t i = first; i < DETAIL_NTABS; i++) {
        bool on = i == dt->tab;
        uint8_t style = on ? STYLE_TAB_ON : count[i] > 0 ? STYLE_WARN : STYLE_TAB;
        dt->tab_x[i] = out->cells;
        canvas_printf(out, style, on ? "[%s]" : " %s ", label[i]);
        canvas_puts(out, STYLE_NORMAL, " ");
    }
    dt->tab_x[DETAIL_NTABS] = out->cells;
    /* The body view's note, whole or not at all (the body's own line names the view too). */
    char note[64];
    int n = snprintf(note, sizeof note, "  body: %s, %s", bodyview_mode_name(dt->body),
                     dt->as_sent ? "as sent" : "decoded");
    if (n > 0 && out->cells + celltext_width(note, (size_t)n) <= out->width)
        canvas_puts(out, STYLE_DIM, note);
}

void detail_render_text(struct detail *dt, struct canvas *c, int y0, int rows,
                        const struct search_query *q)
{
    dt->rows = rows > 0 ? (size_t)rows : 1;
    clamp(dt);
    struct detail_pos *p = detail_pos(dt);
    for (int r = 0; r < rows; r++) {
        struct canvas_line *row = canvas_row(c, y0 + r);
        size_t line = p->top + (size_t)r;
        if (line >= doc_lines(&dt->doc))
            continue;
        row->skip = p->hscroll;
        row->ellipsis = dt->g->ellipsis;
        doc_render(&dt->doc, line, row);
        doc_highlight(row, q);
        if (line == p->cursor)
            row->style = STYLE_CURSOR;
    }
}

size_t detail_tab_at(const struct detail *dt, int x)
{
    for (size_t i = 0; i < DETAIL_NTABS; i++)
        if (x >= dt->tab_x[i] && x < dt->tab_x[i + 1])
            return i;
    return NPOS;
}
