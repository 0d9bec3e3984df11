/*
 * ui owns the interface's state and the composition of a screen: status bar, flow list, detail
 * view, help, message line and hint or prompt line. It dispatches keys through the key tables
 * and mouse events by the geometry of the last frame. It renders into a canvas and never
 * touches the terminal; the terminal layer calls it.
 */
#include "hspy/ui.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "hspy/action.h"
#include "hspy/filter.h"
#include "hspy/plural.h"
#include "hspy/search.h"
#include "hspy/statusbar.h"

static const size_t NPOS = (size_t)-1;

/* Below this size the screen only says it is too small. */
enum { MIN_ROWS = 6, MIN_COLS = 20, WHEEL_LINES = 3 };

void ui_init(struct ui *ui, struct store *store, const struct ui_config *cfg)
{
    memset(ui, 0, sizeof *ui);
    ui->store = store;
    ui->cfg = *cfg;
    ui->g = cfg->glyphs ? cfg->glyphs : &GLYPHS_ASCII;
    if (!ui->cfg.title)
        ui->cfg.title = "";
    flowlist_init(&ui->list, store);
    ui->doc_step_budget = UI_DOC_STEP;
    detail_init(&ui->detail, store, cfg->limits, ui->g, cfg->body_max);
    ui->detail.bodies_dir = cfg->bodies_dir;
    doc_init(&ui->help);
    canvas_line_init(&ui->scratch, CANVAS_UNLIMITED);
    ui_add_keys(ui, ACTION_BINDINGS, ACTION_NBINDINGS);
    ui->generation = store->generation - 1;
    /* The list shows what the outputs write; f changes it. (A wrong expression was refused
     * with the other options; here it would only say so under the list.) */
    if (cfg->filter && *cfg->filter && ui_set_filter(ui, cfg->filter))
        ui->message[0] = '\0';
}

void ui_cleanup(struct ui *ui)
{
    flowlist_cleanup(&ui->list);
    detail_cleanup(&ui->detail);
    doc_cleanup(&ui->help);
    canvas_line_cleanup(&ui->scratch);
    prompt_history_cleanup(&ui->filter_history);
    prompt_history_cleanup(&ui->search_history);
    search_query_cleanup(&ui->shown);
}

/* The search whose matches are highlighted (the last one made, ui->search), or NULL when there
 * is none. Compiled again only when the search changed. */
static const struct search_query *shown_query(struct ui *ui)
{
    if (!ui->search[0])
        return NULL;
    if (strcmp(ui->shown.needle, ui->search) != 0) {
        char err[SEARCH_ERROR_MAX];
        search_query_set(&ui->shown, ui->search, err, sizeof err);
    }
    return &ui->shown;
}

void ui_add_keys(struct ui *ui, const struct keymap_binding *rows, size_t n)
{
    ui_add_keys_data(ui, rows, n, NULL);
}

void ui_add_keys_data(struct ui *ui, const struct keymap_binding *rows, size_t n, void *data)
{
    assert(ui->nkeys < UI_KEY_TABLES_MAX);
    ui->keys_data[ui->nkeys] = data;
    ui->keys[ui->nkeys++] = (struct keymap_table){rows, n};
    doc_reset(&ui->help); /* regenerated from the tables when next shown */
}

void *ui_key_data(const struct ui *ui)
{
    return ui->key_data;
}

void ui_resize(struct ui *ui, int rows, int cols)
{
    ui->rows = rows;
    ui->cols = cols;
}

/* The screen shows only that it is too small: no key but Q (quit) may act unseen. */
static bool too_small(const struct ui *ui)
{
    return ui->rows < MIN_ROWS || ui->cols < MIN_COLS;
}

static enum flowlist_found search_step(struct ui *ui);
static enum doc_found detail_search_step(struct ui *ui);
static void detail_bottom_step(struct ui *ui);

bool ui_task_start(struct ui *ui, ui_task_fn step, void *data)
{
    if (ui->task)
        return false;
    ui->task = step;
    ui->task_data = data;
    return true;
}

void ui_task_cancel(struct ui *ui, const void *data)
{
    if (ui->task && ui->task_data == data)
        ui->task = NULL;
}

/* Work of the ui's own that goes on over the next frames (searches, G, a key table's task). */
static bool stepping(const struct ui *ui)
{
    return ui->searching || ui->doc_searching || ui->doc_bottom || ui->task;
}

bool ui_update(struct ui *ui)
{
    bool stepped = stepping(ui);
    if (ui->task && !ui->task(ui, ui->task_data))
        ui->task = NULL;
    if (ui->searching)
        search_step(ui);
    if (ui->doc_searching)
        detail_search_step(ui);
    if (ui->doc_bottom)
        detail_bottom_step(ui);
    if (ui->store->generation == ui->generation && !flowlist_busy(&ui->list))
        return stepped; /* a step may have changed what shows */
    flowlist_update(&ui->list);
    ui->generation = ui->store->generation;
    if (ui->clearing && flowlist_clear_percent(&ui->list) < 0) {
        ui->clearing = false;
        ui_message(ui, STYLE_MESSAGE, "%zu %s deleted", ui->list.cleared,
                   plural(ui->list.cleared, "flow", "flows"));
    }
    return true;
}

bool ui_busy(const struct ui *ui)
{
    return flowlist_busy(&ui->list) || stepping(ui);
}

bool ui_waited_on(const struct ui *ui)
{
    return flowlist_rebuild_percent(&ui->list) >= 0 || ui->list.sorting || ui->clearing ||
           stepping(ui);
}

unsigned ui_context(const struct ui *ui)
{
    switch (ui->screen) {
    case UI_HELP: return KEYMAP_HELP;
    case UI_DETAIL:
        return KEYMAP_DETAIL |
               ((DETAIL_TABS[ui->detail.tab].flags & DETAIL_TAB_TARGETS) ? KEYMAP_TARGETS : 0);
    case UI_LIST: break;
    }
    return ui->split ? KEYMAP_SPLIT : KEYMAP_LIST;
}

uint64_t ui_selected(const struct ui *ui)
{
    return ui->screen == UI_DETAIL ? ui->detail.id : flowlist_selected(&ui->list);
}

struct exchange *ui_exchange(const struct ui *ui)
{
    uint64_t id = ui_selected(ui);
    return id ? store_get(ui->store, id) : NULL;
}

void ui_message(struct ui *ui, uint8_t style, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->message, sizeof ui->message, fmt, ap);
    va_end(ap);
    ui->message_style = style;
}

void ui_prompt(struct ui *ui, const char *label, const char *initial,
               struct prompt_history *history, ui_prompt_change_fn change, ui_prompt_fn submit,
               void *data)
{
    prompt_open(&ui->prompt, label, initial, history);
    ui->prompting = true;
    ui->prompt_change = change;
    ui->prompt_submit = submit;
    ui->prompt_data = data;
    if (change)
        change(ui, &ui->prompt, data);
}

void ui_confirm(struct ui *ui, const char *question, unsigned (*yes)(struct ui *ui, void *data),
                void *data)
{
    ui_confirm_name(ui, question, "", "", yes, data);
}

/* Where the first byte at or after i starts a UTF-8 character of s (a cut never splits one). */
static size_t char_start(const char *s, size_t i)
{
    while (s[i] && ((uint8_t)s[i] & 0xc0) == 0x80)
        i++;
    return i;
}

void ui_confirm_name(struct ui *ui, const char *before, const char *name, const char *after,
                     unsigned (*yes)(struct ui *ui, void *data), void *data)
{
    static const char CUT[] = "...";
    size_t cap = sizeof ui->question, nb = strlen(before), nn = strlen(name), na = strlen(after);
    assert(nb + na + sizeof CUT + 64 < cap); /* the question's own words are hspy's: short */
    if (nb + nn + na < cap) {
        snprintf(ui->question, cap, "%s%s%s", before, name, after);
        ui->name_len = nn;
    } else { /* a third of the room before the cut, the rest (the file's name) after it */
        size_t room = cap - 1 - nb - na - (sizeof CUT - 1), head = room / 3;
        while (head > 0 && ((uint8_t)name[head] & 0xc0) == 0x80)
            head--;
        size_t tail = char_start(name, nn - (room - room / 3));
        snprintf(ui->question, cap, "%.*s%.*s%s%s%s", (int)nb, before, (int)head, name, CUT,
                 name + tail, after);
        ui->name_len = head + (sizeof CUT - 1) + (nn - tail);
    }
    ui->name_off = nb;
    ui->confirming = true;
    ui->confirm_yes = yes;
    ui->confirm_data = data;
}

void ui_choose(struct ui *ui, const char *question, const struct ui_choice *choices, size_t n,
               ui_choose_fn fn, void *data)
{
    assert(n <= UI_CHOICES_MAX);
    snprintf(ui->question, sizeof ui->question, "%s", question);
    ui->name_off = ui->name_len = 0;
    memcpy(ui->choices, choices, n * sizeof *choices);
    ui->nchoices = n;
    ui->choose = fn;
    ui->choose_data = data;
    ui->choosing = true;
}

void ui_suspend(struct ui *ui)
{
    if (ui->term.suspend)
        ui->term.suspend(ui->term.data);
}

void ui_resume(struct ui *ui)
{
    if (ui->term.resume)
        ui->term.resume(ui->term.data);
}

void ui_stop(struct ui *ui)
{
    if (ui->term.stop)
        ui->term.stop(ui->term.data);
}

/* --- filter and search --- */

bool ui_set_filter(struct ui *ui, const char *expr)
{
    if (!*expr) {
        flowlist_set_filter(&ui->list, NULL);
        ui->filter[0] = '\0';
        ui_message(ui, STYLE_MESSAGE, "filter cleared: %zu %s", flowlist_count(&ui->list),
                   plural(flowlist_count(&ui->list), "flow", "flows"));
        return true;
    }
    char err[256];
    size_t pos = NPOS;
    struct filter *f = filter_compile(expr, err, sizeof err, &pos);
    if (!f) {
        if (ui->prompting)
            prompt_error(&ui->prompt, err, pos);
        else
            ui_message(ui, STYLE_ERROR, "filter: %s", err);
        return false;
    }
    flowlist_set_filter(&ui->list, f);
    snprintf(ui->filter, sizeof ui->filter, "%s", expr);
    prompt_history_add(&ui->filter_history, expr);
    if (flowlist_busy(&ui->list))
        ui_message(ui, STYLE_MESSAGE, "filtering %zu %s...", ui->store->live,
                   plural(ui->store->live, "flow", "flows"));
    else
        ui_message(ui, STYLE_MESSAGE, "filter: %zu of %zu %s %s", flowlist_count(&ui->list),
                   ui->store->live, plural(ui->store->live, "flow", "flows"),
                   plural(flowlist_count(&ui->list), "matches", "match"));
    return true;
}

/* Scrolls the detail view sideways so that the match on line is visible. */
static void reveal_match(struct ui *ui, size_t line)
{
    const struct search_query *q = shown_query(ui);
    size_t s, e;
    canvas_line_reset(&ui->scratch, CANVAS_UNLIMITED, 0);
    doc_render(&ui->detail.doc, line, &ui->scratch);
    const char *text = (const char *)ui->scratch.text.data;
    if (!q || !search_query_find(q, text, ui->scratch.text.len, 0, &s, &e))
        return;
    int x = celltext_width(text, s);
    int w = celltext_width(text + s, e - s);
    struct detail_pos *p = detail_pos(&ui->detail);
    if (x < p->hscroll || x + w > p->hscroll + ui->cols)
        p->hscroll = x > ui->cols / 3 ? x - ui->cols / 3 : 0;
}

/* Work that showed its progress under the view ("searching ...") is done: the message goes. */
static void progress_done(struct ui *ui, const char *progress)
{
    if (strncmp(ui->message, progress, strlen(progress)) == 0)
        ui->message[0] = '\0';
}

/*
 * What a found match needs said, as less and vim say it: that it is the only one (n and N
 * cannot move), or that the search went round the end to get there. what: "line", "flow".
 */
static void found_message(struct ui *ui, bool wrapped, bool only, int dir, const char *what)
{
    if (only)
        ui_message(ui, STYLE_MESSAGE, "the only matching %s: %s", what, ui->search);
    else if (wrapped)
        ui_message(ui, STYLE_MESSAGE, "search wrapped to the %s", dir > 0 ? "top" : "bottom");
}

/* Starts a search of the detail view from the cursor (or the top); its first step runs at once.
 */
static void search_detail(struct ui *ui, const char *text, int dir)
{
    struct detail *dt = &ui->detail;
    detail_sync(dt, ui->cols);
    struct detail_pos *p = detail_pos(dt);
    /* Without a cursor, from the top line on: from the first line is no wrapping. */
    size_t from = p->cursor != NPOS ? p->cursor : p->top ? p->top - 1 : SEARCH_NONE;
    doc_search_start(&dt->doc, &ui->doc_search, text, from, dir);
}

/* One step of a search of the detail view: UI_DOC_STEP body bytes. */
static enum doc_found detail_search_step(struct ui *ui)
{
    struct detail *dt = &ui->detail;
    detail_sync(dt, ui->cols); /* a rebuilt view ends the search (DOC_CHANGED) */
    size_t line;
    enum doc_found r = doc_search_step(&dt->doc, &ui->doc_search, ui->doc_step_budget, &line);
    ui->doc_searching = r == DOC_MORE;
    switch (r) {
    case DOC_FOUND:
        detail_show_line(dt, line);
        reveal_match(ui, line);
        progress_done(ui, "searching");
        found_message(ui, ui->doc_search.wrapped, ui->doc_search.only, ui->doc_search.dir, "line");
        break;
    case DOC_MISSING: ui_message(ui, STYLE_ERROR, "not found: %s", ui->doc_search.needle); break;
    case DOC_CHANGED: ui_message(ui, STYLE_ERROR, "search stopped: the view changed"); break;
    case DOC_MORE: ui_message(ui, STYLE_MESSAGE, "searching the body... (any key stops)"); break;
    }
    return r;
}

/* One step of a flow-list search; the first one runs at once, the rest frame by frame. */
static enum flowlist_found search_step(struct ui *ui)
{
    size_t at;
    enum flowlist_found r = flowlist_search_step(&ui->list, &ui->list_search, UI_SEARCH_STEP, &at);
    switch (r) {
    case FLOWLIST_FOUND:
        ui->searching = false;
        flowlist_goto(&ui->list, at);
        progress_done(ui, "searching");
        found_message(ui, ui->list_search.wrapped, ui->list_search.only, ui->list_search.dir,
                      "flow");
        break;
    case FLOWLIST_MISSING:
        ui->searching = false;
        ui_message(ui, STYLE_ERROR, "not found: %s", ui->list_search.needle);
        break;
    case FLOWLIST_MORE:
        ui->searching = true;
        ui_message(ui, STYLE_MESSAGE, "searching %zu %s... %d%%", ui->search_rows,
                   plural(ui->search_rows, "flow", "flows"),
                   ui->search_rows
                       ? (int)((ui->search_rows - ui->list_search.left) * 100 / ui->search_rows)
                       : 0);
        break;
    }
    return r;
}

/* One step towards the bottom of the detail view: UI_DOC_STEP more body bytes indexed. */
static void detail_bottom_step(struct ui *ui)
{
    struct detail *dt = &ui->detail;
    detail_sync(dt, ui->cols);
    if (dt->doc.generation != ui->doc_bottom_since) { /* another view now */
        ui->doc_bottom = false;
        return;
    }
    ui->doc_bottom = !doc_index(&dt->doc, ui->doc_step_budget);
    if (ui->doc_bottom) {
        ui_message(ui, STYLE_MESSAGE, "finding the end of the body... (any key stops)");
        return;
    }
    detail_edge(dt, true);
    progress_done(ui, "finding");
}

void ui_detail_edge(struct ui *ui, bool end)
{
    struct detail *dt = &ui->detail;
    if (!end) {
        detail_edge(dt, false);
        return;
    }
    detail_sync(dt, ui->cols);
    ui->doc_bottom = true;
    ui->doc_bottom_since = dt->doc.generation;
    detail_bottom_step(ui);
}

/* The help, wrapped at the screen's width: built again when the width changed, its top line
 * kept near the entry it showed. */
static void help_build(struct ui *ui)
{
    if (ui->help.lines && ui->help_width == ui->cols)
        return;
    size_t before = ui->help.lines;
    doc_reset(&ui->help);
    keymap_help(ui->keys, ui->nkeys, ui->g, ui->cols, &ui->help);
    /* The filter language (f, --filter, --intercept), from the filter's own table. */
    doc_blank(&ui->help);
    doc_addf(&ui->help, STYLE_BOLD,
             "Filter terms (f): combine them with ! & | and ( ); a bare word means ~u");
    const char *syntax, *help;
    for (size_t i = 0; filter_term_info(i, &syntax, &help); i++)
        keymap_help_entry(syntax, help, ui->cols, &ui->help);
    if (before && ui->help_width != ui->cols) {
        ui->help_top = ui->help_top * ui->help.lines / before;
        ui->help_hit = SEARCH_NONE;
    }
    ui->help_width = ui->cols;
}

/*
 * A search of the help, at once (its lines are few and stored), from the last match shown or
 * above the top line, saying what a search of the detail view says. The match becomes the top line.
 */
static bool search_help(struct ui *ui, const char *text, int dir)
{
    /* The last match while it is on screen, as the detail view's cursor. */
    bool hit = ui->help_hit != SEARCH_NONE && ui->help_hit >= ui->help_top &&
               ui->help_hit - ui->help_top < (size_t)(ui->text_rows > 0 ? ui->text_rows : 1);
    size_t from = hit ? ui->help_hit : ui->help_top ? ui->help_top - 1 : SEARCH_NONE;
    struct doc_search s;
    size_t line;
    help_build(ui);
    doc_search_start(&ui->help, &s, text, from, dir);
    if (doc_search_step(&ui->help, &s, 0, &line) != DOC_FOUND)
        return false;
    ui->help_top = ui->help_hit = line;
    found_message(ui, s.wrapped, s.only, s.dir, "line");
    return true;
}

bool ui_search(struct ui *ui, const char *text, int dir)
{
    if (text != ui->search)
        snprintf(ui->search, sizeof ui->search, "%s", text);
    prompt_history_add(&ui->search_history, text);
    char err[SEARCH_ERROR_MAX];
    if (!search_query_set(&ui->shown, ui->search, err, sizeof err)) {
        ui_message(ui, STYLE_ERROR, "search %s: not a regular expression (%s)", ui->search, err);
        return false;
    }
    bool found = false;
    switch (ui->screen) {
    case UI_LIST:
        flowlist_search_start(&ui->list, &ui->list_search, text, ui->list.cur, dir);
        ui->search_rows = flowlist_count(&ui->list);
        return search_step(ui) == FLOWLIST_FOUND;
    case UI_DETAIL: search_detail(ui, text, dir); return detail_search_step(ui) == DOC_FOUND;
    case UI_HELP: found = search_help(ui, text, dir); break;
    }
    if (!found)
        ui_message(ui, STYLE_ERROR, "not found: %s", text);
    return found;
}

/* --- keys and mouse --- */

static unsigned prompt_dispatch(struct ui *ui, int key)
{
    switch (prompt_key(&ui->prompt, key)) {
    case PROMPT_CHANGED:
        if (ui->prompt_change)
            ui->prompt_change(ui, &ui->prompt, ui->prompt_data);
        else
            prompt_error(&ui->prompt, NULL, NPOS);
        break;
    case PROMPT_SUBMIT: {
        char text[PROMPT_MAX];
        snprintf(text, sizeof text, "%s", ui->prompt.text);
        prompt_error(&ui->prompt, NULL, NPOS);
        unsigned r = ui->prompt_submit ? ui->prompt_submit(ui, text, ui->prompt_data) : 0;
        /* A submit that set an error keeps the prompt open to fix the text. */
        if (!ui->prompt.error[0])
            ui->prompting = false;
        return r | UI_REDRAW;
    }
    case PROMPT_CANCEL: ui->prompting = false; break;
    case PROMPT_EDITING: break;
    }
    return UI_REDRAW;
}

unsigned ui_key(struct ui *ui, int key)
{
    if (too_small(ui)) {
        if (key != 'Q')
            return UI_NONE;
        ui->confirming = ui->choosing = ui->prompting = false;
    }
    if (ui->confirming) {
        ui->confirming = false;
        if (key == 'y' || key == 'Y')
            return ui->confirm_yes(ui, ui->confirm_data) | UI_REDRAW;
        ui_message(ui, STYLE_MESSAGE, "cancelled");
        return UI_REDRAW;
    }
    if (ui->choosing) {
        ui->choosing = false;
        for (size_t i = 0; i < ui->nchoices; i++)
            if (ui->choices[i].key == key)
                return ui->choose(ui, key, ui->choose_data) | UI_REDRAW;
        ui_message(ui, STYLE_MESSAGE, "cancelled");
        return UI_REDRAW;
    }
    if (ui->prompting)
        return prompt_dispatch(ui, key);
    ui->message[0] = '\0';
    /* A key stops a search still going: the cursor stays the user's. */
    ui->searching = ui->doc_searching = ui->doc_bottom = false;
    const struct keymap_binding *b = keymap_lookup(ui->keys, ui->nkeys, key, ui_context(ui));
    if (!b) {
        char name[32];
        ui_message(ui, STYLE_MESSAGE, "%s does nothing here; ? lists the keys",
                   keymap_name(key, ui->g, name, sizeof name));
        return UI_REDRAW;
    }
    ui->key_data = NULL;
    for (size_t i = 0; i < ui->nkeys; i++)
        if (b >= ui->keys[i].rows && b < ui->keys[i].rows + ui->keys[i].n)
            ui->key_data = ui->keys_data[i];
    unsigned r = b->action(ui, b->arg) | UI_REDRAW;
    ui->key_data = NULL;
    return r;
}

static bool in_list(const struct ui *ui, int y)
{
    return ui->screen == UI_LIST && y > ui->list_y0 && y <= ui->list_y0 + ui->list_rows;
}

static bool in_text(const struct ui *ui, int y)
{
    return (ui->screen == UI_DETAIL || (ui->screen == UI_LIST && ui->split)) && y >= ui->text_y0 &&
           y < ui->text_y0 + ui->text_rows;
}

static unsigned click_heading(struct ui *ui, int x)
{
    for (int col = 0; col < FLOWCOL__COUNT; col++) {
        if (!ui->layout.w[col] || col == FLOWCOL_MARK)
            continue;
        if (x >= ui->layout.x[col] && x < ui->layout.x[col] + ui->layout.w[col]) {
            bool desc =
                col == flowlist_sort_col(&ui->list) ? !flowlist_sort_descending(&ui->list) : false;
            flowlist_set_sort(&ui->list, col, desc);
            return UI_REDRAW;
        }
    }
    return UI_NONE;
}

static unsigned click(struct ui *ui, int x, int y)
{
    if (ui->screen == UI_LIST && y == ui->list_y0)
        return click_heading(ui, x);
    if (in_list(ui, y)) {
        size_t pos = ui->list.top + (size_t)(y - ui->list_y0 - 1);
        if (pos >= flowlist_count(&ui->list))
            return UI_NONE;
        if (pos == ui->list.cur && !ui->split) {
            detail_open(&ui->detail, flowlist_selected(&ui->list));
            ui->screen = UI_DETAIL;
        } else {
            flowlist_goto(&ui->list, pos);
        }
        return UI_REDRAW;
    }
    if (ui->screen != UI_HELP && y == ui->tabs_y && ui->tabs_y > 0) {
        size_t tab = detail_tab_at(&ui->detail, x);
        if (tab != NPOS) {
            detail_set_tab(&ui->detail, tab);
            return UI_REDRAW;
        }
    }
    return UI_NONE;
}

unsigned ui_mouse(struct ui *ui, enum ui_button button, int x, int y)
{
    if (ui->prompting || ui->confirming || ui->choosing || too_small(ui))
        return UI_NONE;
    if (button == UI_CLICK)
        return click(ui, x, y);
    int delta = button == UI_WHEEL_UP ? -WHEEL_LINES : WHEEL_LINES;
    if (ui->screen == UI_HELP) {
        long top = (long)ui->help_top + delta;
        ui->help_top = top < 0 ? 0 : (size_t)top;
    } else if (in_text(ui, y)) {
        struct detail_pos *p = detail_pos(&ui->detail);
        long top = (long)p->top + delta;
        p->top = top < 0 ? 0 : (size_t)top;
        detail_move(&ui->detail, 0);
    } else if (ui->screen == UI_LIST) {
        flowlist_move(&ui->list, delta);
    }
    return UI_REDRAW;
}

/* --- rendering --- */

/* What an empty list says: why nothing shows, and whether more may come. */
static const char *empty_list_text(const struct ui *ui)
{
    if (ui->store->live)
        return ui->list.filter ? "  no flow matches (f changes the filter)"
                               : "  no flow is marked (M shows all flows)";
    const struct ui_progress *pr = ui->cfg.progress;
    return pr && pr->ended ? "  no flows: the whole input was read" : "  waiting for traffic...";
}

static void render_status(struct ui *ui, struct canvas_line *out)
{
    const struct ui_progress *pr = ui->cfg.progress;
    bool sorted = ui->list.sort_col != FLOWCOL_ID || ui->list.descending;
    struct statusbar s = {
        .title = ui->cfg.title,
        .counters = &ui->store->counters,
        .live = ui->store->live,
        .shown = flowlist_count(&ui->list),
        .filtered = ui->list.filter || ui->list.marked_only,
        .marked = ui->list.nmarks,
        .marked_only = ui->list.marked_only,
        .follow = ui->list.follow,
        .sort = sorted ? FLOWROW_COLUMNS[ui->list.sort_col].name : NULL,
        .descending = ui->list.descending,
        .filter = ui->filter,
        .loading = pr && pr->active,
        .done = pr ? pr->done : 0,
        .total = pr ? pr->total : 0,
        .rate = pr ? pr->rate : 0,
        .gaps = pr ? pr->gaps : 0,
        .stream = pr && pr->stream,
        .packets = pr ? pr->packets : 0,
        .entries = pr && pr->entries,
        .filtering = flowlist_rebuild_percent(&ui->list),
        .sorting = ui->list.sorting ? FLOWROW_COLUMNS[flowlist_sort_col(&ui->list)].name : NULL,
        .sorting_percent = flowlist_sort_percent(&ui->list),
        .deleting = flowlist_clear_percent(&ui->list),
        .server = ui->cfg.server && ui->cfg.server->active,
        .conns = ui->cfg.server ? ui->cfg.server->open : 0,
        .refused = ui->cfg.server ? ui->cfg.server->refused : 0,
        .failed = ui->cfg.server ? ui->cfg.server->failed : 0,
        .intercept = ui->cfg.server ? ui->cfg.server->intercept : NULL,
    };
    statusbar_render(&s, ui->g, out);
}

static int digits(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static void render_list(struct ui *ui, struct canvas *c, int y0, int n)
{
    uint64_t end = store_end_id(ui->store);
    if (ui->layout.width != ui->cols || digits(end) != digits(ui->layout_ids)) {
        flowrow_layout(&ui->layout, ui->cols, end);
        ui->layout_ids = end;
    }
    struct flowlist *fl = &ui->list;
    flowrow_heading(canvas_row(c, y0), &ui->layout, fl->sort_col, fl->descending, ui->g);
    ui->list_y0 = y0;
    ui->list_rows = n - 1;
    flowlist_scroll(fl, (size_t)(n - 1));
    for (int i = 0; i < n - 1; i++) {
        struct canvas_line *row = canvas_row(c, y0 + 1 + i);
        size_t pos = fl->top + (size_t)i;
        if (pos >= flowlist_count(fl)) {
            if (i == 0)
                canvas_puts(row, STYLE_DIM, empty_list_text(ui));
            continue;
        }
        uint64_t id = flowlist_at(fl, pos);
        flowrow_format(row, &ui->layout, store_get(ui->store, id), id, flowlist_is_marked(fl, id),
                       ui->g);
        if (pos == fl->cur)
            row->style = STYLE_CURSOR;
        doc_highlight(row, shown_query(ui));
    }
}

/* Fills the rest of a line that has room left with a rule: a space, then the line glyph. */
static void rule_to_end(struct canvas_line *l, const struct glyphs *g)
{
    if (l->clipped || l->cells >= l->width)
        return;
    canvas_puts(l, STYLE_DIM, " ");
    while (!l->clipped && l->cells < l->width)
        canvas_puts(l, STYLE_DIM, g->hline);
}

static void render_detail(struct ui *ui, struct canvas *c, int y0, int n)
{
    struct detail *dt = &ui->detail;
    if (ui->screen == UI_LIST) {
        uint64_t id = flowlist_selected(&ui->list);
        if (id != dt->id)
            detail_open(dt, id);
    }
    ui->tabs_y = y0 + 1;
    ui->text_y0 = y0 + 2;
    ui->text_rows = n - 2;
    /* Under the list (split layout) the title line is a rule that parts the two. */
    bool rule = ui->screen == UI_LIST;
    struct canvas_line *title = canvas_row(c, y0);
    title->ellipsis = ui->g->ellipsis;
    if (rule)
        canvas_puts(title, STYLE_DIM, ui->g->hline);
    if (!dt->id) {
        canvas_puts(title, STYLE_DIM, " (no flow selected)");
        ui->tabs_y = -1;
    } else {
        detail_sync(dt, ui->cols);
        detail_render_title(dt, title);
    }
    if (rule)
        rule_to_end(title, ui->g);
    if (!dt->id)
        return;
    detail_render_tabs(dt, canvas_row(c, y0 + 1));
    detail_render_text(dt, c, y0 + 2, n - 2, shown_query(ui));
}

static void render_help(struct ui *ui, struct canvas *c, int y0, int n)
{
    help_build(ui);
    struct canvas_line *title = canvas_row(c, y0);
    title->ellipsis = ui->g->ellipsis;
    canvas_puts(title, STYLE_BOLD, " hspy keys (this page is generated from the key table)");
    size_t rows = (size_t)(n - 1);
    if (ui->help_top + rows > ui->help.lines)
        ui->help_top = ui->help.lines > rows ? ui->help.lines - rows : 0;
    for (int i = 0; i < n - 1; i++) {
        struct canvas_line *row = canvas_row(c, y0 + 1 + i);
        row->ellipsis = ui->g->ellipsis; /* a heading wider than a very narrow screen */
        size_t line = ui->help_top + (size_t)i;
        if (line >= ui->help.lines)
            continue;
        doc_render(&ui->help, line, row);
        doc_highlight(row, shown_query(ui));
    }
    ui->text_rows = n - 1;
}

/* MESSAGE_LINES_MAX: the most lines a message wraps on, over the view's last rows. */
enum { MESSAGE_LINES_MAX = 3 };

/* The end of the longest run of words of m[from..n) whose rendering fits in width cells (at
 * least one word, which the line then cuts). */
static size_t message_line_end(const char *m, size_t from, size_t n, int width)
{
    size_t end = from;
    for (size_t i = from; i <= n; i++) {
        if (i < n && m[i] != ' ')
            continue;
        if (end > from && canvas_bytes_width((const uint8_t *)m + from, i - from) > width)
            break;
        end = i;
        if (canvas_bytes_width((const uint8_t *)m + from, i - from) > width)
            break;
    }
    return end;
}

/*
 * A message wider than the screen wraps at its spaces on up to MESSAGE_LINES_MAX lines, the last
 * on row last (the message line, or the one above a question), the others over the view's last
 * rows; what still does not fit gives way in the middle of the last line. Its rows are drawn
 * here; returns false when it fits one line.
 */
static bool render_long_message(struct ui *ui, struct canvas *c, int last)
{
    const char *m = ui->message;
    size_t n = strlen(m), starts[MESSAGE_LINES_MAX + 1];
    int width = c->cols - 1,
        most = ui->rows - 4 < MESSAGE_LINES_MAX ? ui->rows - 4 : MESSAGE_LINES_MAX;
    if (canvas_bytes_width((const uint8_t *)m, n) <= width || most < 2)
        return false;
    size_t lines = 0;
    for (size_t from = 0; from < n && lines < (size_t)most;) {
        starts[lines++] = from;
        from = message_line_end(m, from, n, width);
        while (from < n && m[from] == ' ')
            from++;
    }
    starts[lines] = n;
    int top = last + 1 - (int)lines;
    if (top < 1)
        return false;
    for (size_t k = 0; k < lines; k++) {
        struct canvas_line *out = canvas_row(c, top + (int)k);
        size_t end = starts[k + 1];
        while (k + 1 < lines && end > starts[k] && m[end - 1] == ' ')
            end--;
        out->ellipsis = ui->g->ellipsis;
        canvas_puts(out, STYLE_NORMAL, " ");
        canvas_put_bytes_within(out, ui->message_style, (const uint8_t *)m + starts[k],
                                end - starts[k], width, ui->g->ellipsis);
    }
    return true;
}

static void render_message(struct ui *ui, struct canvas_line *out)
{
    const struct glyphs *g = ui->g;
    if (ui->prompting) {
        if (ui->prompt.error[0]) {
            prompt_render_error(&ui->prompt, out);
            canvas_puts(out, STYLE_HINT, "   Esc cancel");
        } else {
            canvas_printf(out, STYLE_HINT, " %s apply   %s%s history   Esc cancel", g->enter,
                          g->upkey, g->downkey);
        }
        return;
    }
    if (ui->message[0]) { /* one too wide for the line: render_long_message */
        canvas_puts(out, STYLE_NORMAL, " ");
        canvas_put_bytes_within(out, ui->message_style, (const uint8_t *)ui->message,
                                strlen(ui->message), out->width - 1, g->ellipsis);
        return;
    }
    if (ui->cfg.error && ui->cfg.error[0]) {
        canvas_puts(out, STYLE_ERROR, " error: ");
        canvas_put_bytes(out, STYLE_ERROR, (const uint8_t *)ui->cfg.error, strlen(ui->cfg.error),
                         0);
        return;
    }
    for (int x = 0; x < out->width; x++)
        canvas_puts(out, STYLE_DIM, g->hline);
}

/* One answer to a question as drawn after it: gap cells (1 at the start of a line), the key
 * (NULL: none), its label. */
struct answer {
    int gap;
    char key[32];
    const char *label;
};

/* SUBJECT_MIN: cells a name keeps on a line shared with the answers; QUESTION_LINES_MAX: a
 * question and its answers on at most UI_CHOICES_MAX + 2 lines. */
enum { SUBJECT_MIN = 16, QUESTION_LINES_MAX = UI_CHOICES_MAX + 2 };

static size_t question_answers(const struct ui *ui, struct answer *a)
{
    size_t n = 0;
    if (ui->confirming) {
        a[n++] = (struct answer){1, "y", "yes"};
        a[n++] = (struct answer){3, "", "any other key: no"};
        return n;
    }
    for (size_t i = 0; i < ui->nchoices; i++) {
        a[n] = (struct answer){2, "", ui->choices[i].label};
        keymap_name(ui->choices[i].key, ui->g, a[n].key, sizeof a[n].key);
        n++;
    }
    a[n++] = (struct answer){3, "Esc", "cancel"};
    return n;
}

static int answer_cells(const struct answer *a, int gap)
{
    int key = celltext_width(a->key, strlen(a->key));
    return gap + key + (key ? 1 : 0) + celltext_width(a->label, strlen(a->label));
}

static void put_answer(struct canvas_line *out, const struct answer *a, int gap)
{
    canvas_pad(out, STYLE_HINT, gap);
    if (a->key[0]) {
        canvas_puts(out, STYLE_KEY, a->key);
        canvas_puts(out, STYLE_HINT, " ");
    }
    canvas_puts(out, STYLE_HINT, a->label);
}

/* The question asked, which may name a file the user typed: through termsafe, as a message;
 * its name, if any, in at most name_cells cells. */
static void put_question(const struct ui *ui, struct canvas_line *out, int name_cells)
{
    const uint8_t *q = (const uint8_t *)ui->question;
    size_t end = ui->name_off + ui->name_len;
    canvas_puts(out, STYLE_PROMPT, " ");
    canvas_put_bytes(out, STYLE_PROMPT, q, ui->name_off, 0);
    canvas_put_bytes_within(out, STYLE_PROMPT, q + ui->name_off, ui->name_len, name_cells,
                            ui->g->ellipsis);
    canvas_put_bytes(out, STYLE_PROMPT, q + end, strlen(ui->question) - end, 0);
}

/*
 * A question and its answers on the bottom line when they fit there (the name in the question
 * shortened down to SUBJECT_MIN cells if need be); else the question on a line of its own and
 * the answers wrapped on the lines under it, the last on the bottom line, over the message line
 * and, if need be, the view's last rows (never the status bar). On a screen too small even for
 * that, the first lines give way. Returns the first row it took.
 */
static int render_question(struct ui *ui, struct canvas *c)
{
    struct answer a[UI_CHOICES_MAX + 2];
    size_t n = question_answers(ui, a);
    const uint8_t *q = (const uint8_t *)ui->question;
    int w = c->cols, answers = 0;
    int name = canvas_bytes_width(q + ui->name_off, ui->name_len);
    int words = 1 + canvas_bytes_width(q, strlen(ui->question)) - name;
    for (size_t i = 0; i < n; i++)
        answers += answer_cells(&a[i], a[i].gap);
    int room = w - words - answers;
    if (room >= name || (room >= SUBJECT_MIN && ui->name_len)) {
        struct canvas_line *out = canvas_row(c, ui->rows - 1);
        put_question(ui, out, room);
        for (size_t i = 0; i < n; i++)
            put_answer(out, &a[i], a[i].gap);
        return ui->rows - 1;
    }
    /* Lines of answers: first[k] is the first answer on line k. */
    size_t first[QUESTION_LINES_MAX], lines = 0;
    for (size_t i = 0, used = (size_t)w; i < n; i++) {
        int cells = answer_cells(&a[i], a[i].gap);
        if ((int)used + cells > w) {
            first[lines++] = i;
            cells = answer_cells(&a[i], 1);
            used = 0;
        }
        used += (size_t)cells;
    }
    int top = ui->rows - 1 - (int)lines, skip = top < 1 ? 1 - top : 0;
    if (!skip)
        put_question(ui, canvas_row(c, top), w - words < SUBJECT_MIN ? SUBJECT_MIN : w - words);
    for (size_t k = 0; k < lines; k++) {
        if ((int)k + 1 < skip)
            continue;
        struct canvas_line *out = canvas_row(c, top + 1 + (int)k);
        size_t to = k + 1 < lines ? first[k + 1] : n;
        for (size_t i = first[k]; i < to; i++)
            put_answer(out, &a[i], i == first[k] ? 1 : a[i].gap);
    }
    return top < 1 ? 1 : top;
}

static void render_bottom(struct ui *ui, struct canvas_line *out)
{
    if (ui->prompting) {
        prompt_render(&ui->prompt, ui->g, out);
        return;
    }
    bool detail = ui->screen == UI_DETAIL || (ui->screen == UI_LIST && ui->split);
    unsigned offers = (detail ? detail_offers(&ui->detail) : 0) |
                      (ui->screen != UI_HELP && ui_selected(ui) ? KEYMAP_IF_FLOW : 0);
    keymap_hint(ui->keys, ui->nkeys, ui_context(ui), offers, ui->g, out);
}

static void render_too_small(struct ui *ui, struct canvas *c)
{
    for (int y = 0; y < c->rows; y++)
        canvas_row(c, y);
    /* The shortest line first: it must fit the narrowest screen that is too small. */
    if (c->rows)
        canvas_puts(canvas_row(c, 0), STYLE_ERROR, "too small; Q quits");
    if (c->rows > 1)
        canvas_printf(canvas_row(c, 1), STYLE_ERROR, "%dx%d, needs %dx%d", ui->cols, ui->rows,
                      MIN_COLS, MIN_ROWS);
}

void ui_render(struct ui *ui, struct canvas *c)
{
    if (c->rows != ui->rows || c->cols != ui->cols)
        canvas_resize(c, ui->rows, ui->cols);
    if (too_small(ui)) {
        render_too_small(ui, c);
        return;
    }
    render_status(ui, canvas_row(c, 0));
    int y0 = 1, body = ui->rows - 3;
    ui->tabs_y = -1;
    ui->text_rows = 0;
    switch (ui->screen) {
    case UI_LIST:
        if (ui->split && body >= 8) {
            int top = body * 2 / 5 < 3 ? 3 : body * 2 / 5;
            render_list(ui, c, y0, top);
            render_detail(ui, c, y0 + top, body - top);
        } else {
            render_list(ui, c, y0, body);
        }
        break;
    case UI_DETAIL: render_detail(ui, c, y0, body); break;
    case UI_HELP: render_help(ui, c, y0, body); break;
    }
    /* A question taller than the bottom line puts the message (if any) above itself. */
    int below = ui->rows - 1;
    if (ui->confirming || ui->choosing)
        below = render_question(ui, c);
    else
        render_bottom(ui, canvas_row(c, ui->rows - 1));
    if (below < ui->rows - 1 && !ui->message[0])
        return;
    if (ui->prompting || !ui->message[0] || !render_long_message(ui, c, below - 1))
        render_message(ui, canvas_row(c, below - 1));
}
