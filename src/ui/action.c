/*
 * action owns the built-in key table and the actions behind it. Actions change the ui's state
 * through the flow list, detail and prompt modules and return reaction bits; they never draw
 * and never touch the terminal (ui_suspend is the terminal layer's business).
 */
#include "hspy/action.h"

#include <stdio.h>

#include "hspy/bodyview.h"
#include "hspy/plural.h"
#include "hspy/ui.h"

/* --- moving --- */

static unsigned act_move(struct ui *ui, int arg)
{
    switch (ui->screen) {
    case UI_LIST: flowlist_move(&ui->list, arg); break;
    case UI_DETAIL: detail_move(&ui->detail, arg); break;
    case UI_HELP: {
        long top = (long)ui->help_top + arg;
        ui->help_top = top < 0 ? 0 : (size_t)top;
        break;
    }
    }
    return UI_REDRAW;
}

static unsigned act_page(struct ui *ui, int arg)
{
    long rows = ui->screen == UI_LIST ? ui->list_rows : ui->text_rows;
    if (rows > 1)
        rows--;
    if (rows < 1)
        rows = 1;
    if (ui->screen == UI_DETAIL) {
        detail_page(&ui->detail, arg);
        return UI_REDRAW;
    }
    return act_move(ui, (int)(arg * rows));
}

static unsigned act_edge(struct ui *ui, int arg)
{
    switch (ui->screen) {
    case UI_LIST:
        if (flowlist_count(&ui->list))
            flowlist_goto(&ui->list, arg ? flowlist_count(&ui->list) - 1 : 0);
        break;
    case UI_DETAIL: ui_detail_edge(ui, arg != 0); break;
    case UI_HELP: ui->help_top = arg ? ui->help.lines : 0; break;
    }
    return UI_REDRAW;
}

/* --- screens --- */

static unsigned act_open(struct ui *ui, int arg)
{
    (void)arg;
    uint64_t id = flowlist_selected(&ui->list);
    if (!id) {
        ui_message(ui, STYLE_MESSAGE, "no flow to open");
        return UI_REDRAW;
    }
    detail_open(&ui->detail, id);
    ui->screen = UI_DETAIL;
    return UI_REDRAW;
}

static unsigned act_back(struct ui *ui, int arg)
{
    (void)arg;
    if (ui->screen == UI_DETAIL && !ui->split)
        detail_close(&ui->detail);
    ui->screen = UI_LIST;
    return UI_REDRAW;
}

static unsigned act_split(struct ui *ui, int arg)
{
    (void)arg;
    ui->split = !ui->split;
    if (!ui->split)
        detail_close(&ui->detail);
    ui->screen = UI_LIST;
    ui_message(ui, STYLE_MESSAGE, "split layout %s", ui->split ? "on" : "off");
    return UI_REDRAW;
}

static unsigned act_help(struct ui *ui, int arg)
{
    (void)arg;
    ui->screen = UI_HELP;
    ui->help_top = 0;
    ui->help_hit = SEARCH_NONE;
    return UI_REDRAW;
}

static unsigned act_quit(struct ui *ui, int arg)
{
    (void)ui, (void)arg;
    return UI_QUIT;
}

static unsigned act_stop(struct ui *ui, int arg)
{
    (void)arg;
    ui_stop(ui);
    return UI_REPAINT | UI_REDRAW;
}

static unsigned act_repaint(struct ui *ui, int arg)
{
    (void)ui, (void)arg;
    return UI_REPAINT | UI_REDRAW;
}

static unsigned act_escape(struct ui *ui, int arg)
{
    (void)arg;
    ui->search[0] = '\0';
    return UI_REDRAW;
}

/* --- the flow list --- */

static unsigned act_follow(struct ui *ui, int arg)
{
    (void)arg;
    ui->list.follow = !ui->list.follow;
    if (ui->list.follow) {
        size_t pos = flowlist_find(&ui->list, ui->list.newest);
        if (pos != (size_t)-1)
            flowlist_goto(&ui->list, pos);
    }
    ui_message(ui, STYLE_MESSAGE, "follow %s", ui->list.follow ? "on" : "off");
    return UI_REDRAW;
}

static unsigned act_sort(struct ui *ui, int arg)
{
    int col = flowlist_sort_col(&ui->list);
    bool desc = flowlist_sort_descending(&ui->list);
    if (arg) {
        desc = !desc;
    } else {
        do
            col = (col + 1) % FLOWCOL__COUNT;
        while (col == FLOWCOL_MARK);
        desc = false;
    }
    flowlist_set_sort(&ui->list, col, desc);
    if (ui->list.sorting)
        ui_message(ui, STYLE_MESSAGE, "sorting %zu %s by %s, %s...", flowlist_count(&ui->list),
                   plural(flowlist_count(&ui->list), "flow", "flows"), FLOWROW_COLUMNS[col].name,
                   desc ? "descending" : "ascending");
    else
        ui_message(ui, STYLE_MESSAGE, "sorted by %s, %s", FLOWROW_COLUMNS[col].name,
                   desc ? "descending" : "ascending");
    return UI_REDRAW;
}

static unsigned act_mark(struct ui *ui, int arg)
{
    (void)arg;
    uint64_t id = flowlist_selected(&ui->list);
    if (id)
        flowlist_toggle_mark(&ui->list, id);
    return UI_REDRAW;
}

static unsigned act_marked_only(struct ui *ui, int arg)
{
    (void)arg;
    flowlist_set_marked_only(&ui->list, !ui->list.marked_only);
    ui_message(ui, STYLE_MESSAGE,
               ui->list.marked_only ? "showing marked flows only" : "showing all flows");
    return UI_REDRAW;
}

static unsigned act_unmark_all(struct ui *ui, int arg)
{
    (void)arg;
    flowlist_unmark_all(&ui->list);
    ui_message(ui, STYLE_MESSAGE, "all marks cleared");
    return UI_REDRAW;
}

static unsigned act_delete(struct ui *ui, int arg)
{
    (void)arg;
    uint64_t id = flowlist_selected(&ui->list);
    if (!id)
        return UI_NONE;
    if (ui->detail.id == id)
        detail_close(&ui->detail); /* the split view's pin must not keep it */
    if (flowlist_delete(&ui->list, id) < 0)
        ui_message(ui, STYLE_ERROR, "flow #%llu is still in flight or held: not deleted",
                   (unsigned long long)id);
    else
        ui_message(ui, STYLE_MESSAGE, "flow #%llu deleted", (unsigned long long)id);
    return UI_REDRAW;
}

static unsigned clear_yes(struct ui *ui, void *data)
{
    (void)data;
    detail_close(&ui->detail);
    size_t n = flowlist_clear(&ui->list);
    ui->clearing = flowlist_clear_percent(&ui->list) >= 0;
    if (ui->clearing)
        ui_message(ui, STYLE_MESSAGE, "deleting %zu %s...", ui->store->live,
                   plural(ui->store->live, "flow", "flows"));
    else
        ui_message(ui, STYLE_MESSAGE, "%zu %s deleted", n, plural(n, "flow", "flows"));
    return UI_REDRAW;
}

static unsigned act_clear(struct ui *ui, int arg)
{
    (void)arg;
    ui_confirm(ui, "delete every completed flow?", clear_yes, NULL);
    return UI_REDRAW;
}

/* --- filter and search --- */

static void filter_change(struct ui *ui, struct prompt *p, void *data)
{
    (void)ui, (void)data;
    char err[256];
    size_t pos = (size_t)-1;
    struct filter *f = filter_compile(p->text, err, sizeof err, &pos);
    prompt_error(p, f ? NULL : err, pos);
    filter_free(f);
}

static unsigned filter_submit(struct ui *ui, const char *text, void *data)
{
    (void)data;
    ui_set_filter(ui, text);
    return UI_REDRAW;
}

static unsigned act_filter(struct ui *ui, int arg)
{
    (void)arg;
    ui_prompt(ui, "filter", ui->filter, &ui->filter_history, filter_change, filter_submit, NULL);
    return UI_REDRAW;
}

static unsigned search_submit(struct ui *ui, const char *text, void *data)
{
    (void)data;
    if (*text)
        ui_search(ui, text, 1);
    else
        ui->search[0] = '\0';
    return UI_REDRAW;
}

/* A "/re/" that does not compile says why while it is typed. */
static void search_change(struct ui *ui, struct prompt *p, void *data)
{
    (void)ui, (void)data;
    char err[SEARCH_ERROR_MAX];
    struct search_query q = {0};
    bool ok = search_query_set(&q, p->text, err, sizeof err);
    search_query_cleanup(&q);
    prompt_error(p, ok ? NULL : err, (size_t)-1);
}

static unsigned act_search(struct ui *ui, int arg)
{
    (void)arg;
    ui_prompt(ui, "search", NULL, &ui->search_history, search_change, search_submit, NULL);
    return UI_REDRAW;
}

static unsigned act_search_next(struct ui *ui, int arg)
{
    if (!ui->search[0]) {
        ui_message(ui, STYLE_MESSAGE, "nothing to repeat: search with / first");
        return UI_REDRAW;
    }
    char text[PROMPT_MAX];
    snprintf(text, sizeof text, "%s", ui->search);
    ui_search(ui, text, arg);
    return UI_REDRAW;
}

/* --- the detail view --- */

static unsigned act_tab(struct ui *ui, int arg)
{
    size_t n = DETAIL_NTABS;
    detail_set_tab(&ui->detail, (ui->detail.tab + n + (size_t)(arg % (int)n)) % n);
    return UI_REDRAW;
}

static unsigned act_hscroll(struct ui *ui, int arg)
{
    struct detail_pos *p = detail_pos(&ui->detail);
    int x = arg ? p->hscroll + arg * 8 : 0;
    p->hscroll = x < 0 ? 0 : x;
    return UI_REDRAW;
}

static unsigned act_jump(struct ui *ui, int arg)
{
    if (!detail_jump(&ui->detail, arg != 0))
        ui_message(ui, STYLE_MESSAGE,
                   "nothing to jump to: Enter jumps from a warning (Warnings tab) or a finding "
                   "(Cache tab)");
    return UI_REDRAW;
}

static unsigned act_body_view(struct ui *ui, int arg)
{
    (void)arg;
    ui->detail.body = (uint8_t)((ui->detail.body + 1) % BODYVIEW__COUNT);
    ui_message(ui, STYLE_MESSAGE, "body view: %s", bodyview_mode_name(ui->detail.body));
    return UI_REDRAW;
}

static unsigned act_decoded(struct ui *ui, int arg)
{
    (void)arg;
    ui->detail.as_sent = !ui->detail.as_sent;
    ui_message(ui, STYLE_MESSAGE, "bodies shown %s",
               ui->detail.as_sent ? "as sent" : "with their content coding undone");
    return UI_REDRAW;
}

static unsigned act_flow(struct ui *ui, int arg)
{
    flowlist_move(&ui->list, arg);
    uint64_t id = flowlist_selected(&ui->list);
    if (id)
        detail_open(&ui->detail, id);
    return UI_REDRAW;
}

enum {
    L = KEYMAP_LIST,
    S = KEYMAP_SPLIT,
    D = KEYMAP_DETAIL,
    H = KEYMAP_HELP,
    W = KEYMAP_TARGETS,
    ANY = KEYMAP_ANY,
};

/* clang-format off */
const struct keymap_binding ACTION_BINDINGS[] = {
    /* moving: the list, the detail text or the help, whichever is on screen */
    {'j',               L|S,   act_move,        1,  "move",    "next flow", 0},
    {'k',               L|S,   act_move,        -1, "move",    "previous flow", 0},
    {KEYMAP_DOWN,       L|S,   act_move,        1,  NULL,      "next flow", 0},
    {KEYMAP_UP,         L|S,   act_move,        -1, NULL,      "previous flow", 0},
    {'j',               D|H,   act_move,        1,  "scroll",  "scroll down (Warnings: next warning)", 0},
    {'k',               D|H,   act_move,        -1, "scroll",  "scroll up (Warnings: previous warning)", 0},
    {KEYMAP_DOWN,       D|H,   act_move,        1,  NULL,      "scroll down (Warnings: next warning)", 0},
    {KEYMAP_UP,         D|H,   act_move,        -1, NULL,      "scroll up (Warnings: previous warning)", 0},
    {KEYMAP_PGDN,       ANY,   act_page,        1,  NULL,      "page down", 0},
    {' ',               ANY,   act_page,        1,  NULL,      "page down", 0},
    {KEYMAP_CTRL('f'),  ANY,   act_page,        1,  NULL,      "page down", 0},
    {KEYMAP_PGUP,       ANY,   act_page,        -1, NULL,      "page up", 0},
    {KEYMAP_CTRL('b'),  ANY,   act_page,        -1, NULL,      "page up", 0},
    {'g',               ANY,   act_edge,        0,  NULL,      "go to the top", 0},
    {KEYMAP_HOME,       ANY,   act_edge,        0,  NULL,      "go to the top", 0},
    {'G',               ANY,   act_edge,        1,  NULL,      "go to the bottom", 0},
    {KEYMAP_END,        ANY,   act_edge,        1,  NULL,      "go to the bottom", 0},
    /* the flow list */
    {KEYMAP_ENTER,      L|S,   act_open,        0,  "open",    "open the flow in the detail view", KEYMAP_IF_FLOW},
    {KEYMAP_TAB,        S,     act_tab,         1,  "tab",     "next detail tab", KEYMAP_IF_FLOW},
    {KEYMAP_BTAB,       S,     act_tab,         -1, NULL,      "previous detail tab", 0},
    {'s',               L|S|D, act_split,       0,  "split",   "split layout on/off: the detail below the list", 0},
    {'F',               L|S,   act_follow,      0,  "follow",  "follow mode on/off: keep the newest flow selected", 0},
    {'o',               L|S,   act_sort,        0,  "sort",    "sort by the next column", 0},
    {'v',               L|S,   act_sort,        1,  NULL,      "reverse the sort order", 0},
    {'m',               L|S,   act_mark,        0,  "mark",    "mark or unmark the flow", KEYMAP_IF_FLOW},
    {'M',               L|S,   act_marked_only, 0,  NULL,      "show only marked flows, or all again", 0},
    {'U',               L|S,   act_unmark_all,  0,  NULL,      "clear every mark", 0},
    {'d',               L|S,   act_delete,      0,  NULL,      "delete the flow", 0},
    {'z',               L|S,   act_clear,       0,  NULL,      "delete every completed flow (asks first)", 0},
    {'f',               L|S,   act_filter,      0,  "filter",  "filter the flows (an empty filter shows all)", 0},
    {KEYMAP_ESC,        L|S,   act_escape,      0,  NULL,      "forget the search", 0},
    {'q',               L|S,   act_quit,        0,  "quit",    "quit hspy", KEYMAP_BACK},
    /* the detail view */
    {KEYMAP_TAB,        D,     act_tab,         1,  "tab",     "next tab", 0},
    {KEYMAP_BTAB,       D,     act_tab,         -1, NULL,      "previous tab", 0},
    {KEYMAP_RIGHT,      D,     act_tab,         1,  NULL,      "next tab", 0},
    {KEYMAP_LEFT,       D,     act_tab,         -1, NULL,      "previous tab", 0},
    {'l',               D,     act_tab,         1,  NULL,      "next tab", 0},
    {'h',               D,     act_tab,         -1, NULL,      "previous tab", 0},
    {KEYMAP_ENTER,      W,     act_jump,        0,  "jump",    "go to the offset of the warning or finding in Raw", KEYMAP_IF_TARGETS},
    {'x',               W,     act_jump,        1,  "hex",     "go to the offset of the warning or finding in Hex", KEYMAP_IF_TARGETS},
    {'>',               D,     act_hscroll,     1,  NULL,      "scroll right", 0},
    {'<',               D,     act_hscroll,     -1, NULL,      "scroll left", 0},
    {'0',               D,     act_hscroll,     0,  NULL,      "scroll back to the first column", 0},
    {'v',               D,     act_body_view,   0,  "view",    "body view: auto, text, json, form, multipart, hex", KEYMAP_IF_BODY},
    {'d',               D,     act_decoded,     0,  "decoded", "bodies decoded or as sent", KEYMAP_IF_BODY},
    {'J',               D,     act_flow,        1,  NULL,      "next flow", 0},
    {'K',               D,     act_flow,        -1, NULL,      "previous flow", 0},
    {'q',               D,     act_back,        0,  "back",    "back to the flow list", KEYMAP_BACK},
    {KEYMAP_ESC,        D,     act_back,        0,  NULL,      "back to the flow list", 0},
    {KEYMAP_BACKSPACE,  D,     act_back,        0,  NULL,      "back to the flow list", 0},
    /* help */
    {'q',               H,     act_back,        0,  "back",    "close the help", KEYMAP_BACK},
    {KEYMAP_ESC,        H,     act_back,        0,  NULL,      "close the help", 0},
    {'?',               H,     act_back,        0,  NULL,      "close the help", 0},
    /* everywhere */
    {'/',               ANY,   act_search,      0,  "search",  "search the current view", 0},
    {'n',               ANY,   act_search_next, 1,  NULL,      "next match", 0},
    {'N',               ANY,   act_search_next, -1, NULL,      "previous match", 0},
    {'?',               L|S|D, act_help,        0,  "help",    "all keys (this screen)", KEYMAP_KEEP},
    {KEYMAP_F1,         L|S|D, act_help,        0,  NULL,      "all keys (this screen)", 0},
    {KEYMAP_CTRL('l'),  ANY,   act_repaint,     0,  NULL,      "redraw the screen", 0},
    {KEYMAP_CTRL('z'),  ANY,   act_stop,        0,  NULL,      "suspend hspy (the shell's fg resumes it)", 0},
    {'Q',               ANY,   act_quit,        0,  NULL,      "quit hspy", 0},
    {KEYMAP_CTRL('c'),  ANY,   act_quit,        0,  NULL,      "quit hspy", 0},
};
/* clang-format on */
const size_t ACTION_NBINDINGS = sizeof ACTION_BINDINGS / sizeof ACTION_BINDINGS[0];
