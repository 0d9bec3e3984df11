/*
 * keymap owns the reading of key tables: lookup, key names, the generated help and hint line.
 * It holds no bindings itself (the interface's table is in action.c) and never draws.
 */
#include "hspy/keymap.h"

#include <stdio.h>
#include <string.h>

#include "hspy/utf8.h"

const struct keymap_binding *keymap_lookup(const struct keymap_table *tables, size_t ntables,
                                           int key, unsigned ctx)
{
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < tables[t].n; i++)
            if (tables[t].rows[i].key == key && (tables[t].rows[i].contexts & ctx))
                return &tables[t].rows[i];
    return NULL;
}

const char *keymap_name(int key, const struct glyphs *g, char *buf, size_t len)
{
    const char *name = NULL;
    switch (key) {
    case KEYMAP_UP: name = g->upkey; break;
    case KEYMAP_DOWN: name = g->downkey; break;
    case KEYMAP_LEFT: name = g->left; break;
    case KEYMAP_RIGHT: name = g->right; break;
    case KEYMAP_HOME: name = "Home"; break;
    case KEYMAP_END: name = "End"; break;
    case KEYMAP_PGUP: name = "PgUp"; break;
    case KEYMAP_PGDN: name = "PgDn"; break;
    case KEYMAP_ENTER: name = g->enter; break;
    case KEYMAP_TAB: name = "Tab"; break;
    case KEYMAP_BTAB: name = "S-Tab"; break;
    case KEYMAP_ESC: name = "Esc"; break;
    case KEYMAP_BACKSPACE: name = "Bksp"; break;
    case KEYMAP_DELETE: name = "Del"; break;
    case KEYMAP_F1: name = "F1"; break;
    case ' ': name = "Space"; break;
    default: break;
    }
    if (name) {
        snprintf(buf, len, "%s", name);
    } else if (key >= 1 && key <= 26) {
        snprintf(buf, len, "^%c", 'A' + key - 1);
    } else if (key > 0x20 && key < 0x110000 && key != 0x7f && !(key >= 0x80 && key < 0xa0)) {
        uint8_t u[4];
        size_t n = utf8_encode((uint32_t)key, u);
        snprintf(buf, len, "%.*s", (int)n, (const char *)u);
    } else {
        snprintf(buf, len, "<%d>", key);
    }
    return buf;
}

const char *keymap_context_name(unsigned ctx)
{
    switch (ctx) {
    case KEYMAP_LIST: return "Flow list";
    case KEYMAP_SPLIT: return "Flow list with detail below (split layout)";
    case KEYMAP_DETAIL: return "Detail view";
    case KEYMAP_HELP: return "Help";
    case KEYMAP_TARGETS: return "Detail view, on the Warnings and Cache tabs";
    case KEYMAP_ANY: return "Everywhere";
    default: return "?";
    }
}

/* Rows of one help section: those of exactly `ctx` (Everywhere) or including it (others). */
static bool in_section(const struct keymap_binding *b, unsigned ctx)
{
    if (ctx == KEYMAP_ANY)
        return b->contexts == KEYMAP_ANY;
    return (b->contexts & ctx) && b->contexts != KEYMAP_ANY;
}

static bool same_line(const struct keymap_binding *a, const struct keymap_binding *b)
{
    return a->action == b->action && a->arg == b->arg && strcmp(a->help, b->help) == 0;
}

/* True when an earlier row of the section already produced this row's help line. */
static bool shown_before(const struct keymap_table *tables, size_t ntables, size_t t, size_t i,
                         unsigned ctx)
{
    for (size_t u = 0; u <= t; u++) {
        size_t end = u == t ? i : tables[u].n;
        for (size_t j = 0; j < end; j++)
            if (in_section(&tables[u].rows[j], ctx) &&
                same_line(&tables[u].rows[j], &tables[t].rows[i]))
                return true;
    }
    return false;
}

/* HELP_KEYS: cells for the keys of a line; HELP_TEXT_MIN: the narrowest explanation column. */
enum { HELP_KEYS = 18, HELP_TEXT_MIN = 20 };

static void help_line(const struct keymap_table *tables, size_t ntables, size_t t, size_t i,
                      unsigned ctx, const struct glyphs *g, int width, struct doc *out)
{
    const struct keymap_binding *b = &tables[t].rows[i];
    char keys[128] = "", name[32];
    for (size_t u = t; u < ntables; u++) {
        for (size_t j = u == t ? i : 0; j < tables[u].n; j++) {
            const struct keymap_binding *o = &tables[u].rows[j];
            if (!in_section(o, ctx) || !same_line(o, b))
                continue;
            if (keys[0])
                strncat(keys, " ", sizeof keys - strlen(keys) - 1);
            strncat(keys, keymap_name(o->key, g, name, sizeof name),
                    sizeof keys - strlen(keys) - 1);
        }
    }
    keymap_help_entry(keys, b->help, width, out);
}

void keymap_help_entry(const char *keys, const char *help, int width, struct doc *out)
{
    int kw = celltext_width(keys, strlen(keys));
    if (kw < HELP_KEYS)
        kw = HELP_KEYS;
    /* The explanation wraps under itself; a screen too narrow for HELP_TEXT_MIN cells of it
     * after the keys gets it on the lines under them. */
    bool beside = width - (2 + kw + 1) >= HELP_TEXT_MIN;
    int indent = beside ? 2 + kw + 1 : 4;
    int room = width - indent < HELP_TEXT_MIN / 3 ? HELP_TEXT_MIN / 3 : width - indent;
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_puts(&l, STYLE_NORMAL, "  ");
    if (beside) {
        canvas_put_fit(&l, STYLE_KEY, keys, strlen(keys), kw, CELLTEXT_LEFT, NULL);
        canvas_puts(&l, STYLE_NORMAL, " ");
    } else {
        canvas_puts(&l, STYLE_KEY, keys);
        doc_add(out, &l);
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        canvas_pad(&l, STYLE_NORMAL, indent);
    }
    const char *text = help;
    size_t n = strlen(text);
    while (n) {
        size_t next, len = celltext_wrap(text, n, room, &next);
        canvas_put(&l, STYLE_NORMAL, text, len);
        doc_add(out, &l);
        text += next;
        n -= next;
        canvas_line_reset(&l, CANVAS_UNLIMITED, 0);
        canvas_pad(&l, STYLE_NORMAL, indent);
    }
    canvas_line_cleanup(&l);
}

void keymap_help(const struct keymap_table *tables, size_t ntables, const struct glyphs *g,
                 int width, struct doc *out)
{
    static const unsigned SECTIONS[] = {KEYMAP_LIST,    KEYMAP_SPLIT, KEYMAP_DETAIL,
                                        KEYMAP_TARGETS, KEYMAP_HELP,  KEYMAP_ANY};
    for (size_t s = 0; s < sizeof SECTIONS / sizeof SECTIONS[0]; s++) {
        unsigned ctx = SECTIONS[s];
        if (s)
            doc_blank(out);
        doc_addf(out, STYLE_BOLD, "%s", keymap_context_name(ctx));
        for (size_t t = 0; t < ntables; t++)
            for (size_t i = 0; i < tables[t].n; i++)
                if (in_section(&tables[t].rows[i], ctx) &&
                    !shown_before(tables, ntables, t, i, ctx))
                    help_line(tables, ntables, t, i, ctx, g, width, out);
    }
}

/* --- hint line --- */

enum { HINT_ITEMS_MAX = 32 };

struct hint_item {
    char keys[48];
    const char *label;
    bool back, keep;
};

static size_t collect_hints(const struct keymap_table *tables, size_t ntables, unsigned ctx,
                            unsigned offers, const struct glyphs *g, struct hint_item *items)
{
    size_t n = 0;
    char name[32];
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < tables[t].n; i++) {
            const struct keymap_binding *b = &tables[t].rows[i];
            if (!b->hint || !(b->contexts & ctx) || (b->flags & KEYMAP_IF_ALL & ~offers))
                continue;
            size_t k = 0;
            while (k < n && strcmp(items[k].label, b->hint) != 0)
                k++;
            if (k == n) {
                if (n == HINT_ITEMS_MAX)
                    continue;
                items[n] = (struct hint_item){"", b->hint, false, false};
                n++;
            }
            struct hint_item *it = &items[k];
            if (it->keys[0])
                strncat(it->keys, "/", sizeof it->keys - strlen(it->keys) - 1);
            strncat(it->keys, keymap_name(b->key, g, name, sizeof name),
                    sizeof it->keys - strlen(it->keys) - 1);
            it->back |= (b->flags & KEYMAP_BACK) != 0;
            it->keep |= (b->flags & KEYMAP_KEEP) != 0;
        }
    }
    return n;
}

static int item_cells(const struct hint_item *it)
{
    return celltext_width(it->keys, strlen(it->keys)) + 1 +
           celltext_width(it->label, strlen(it->label)) + 2;
}

static void put_item(struct canvas_line *out, const struct hint_item *it)
{
    canvas_puts(out, STYLE_KEY, it->keys);
    canvas_puts(out, STYLE_HINT, " ");
    canvas_puts(out, STYLE_HINT, it->label);
    canvas_puts(out, STYLE_HINT, "  ");
}

void keymap_hint(const struct keymap_table *tables, size_t ntables, unsigned ctx, unsigned offers,
                 const struct glyphs *g, struct canvas_line *out)
{
    struct hint_item items[HINT_ITEMS_MAX];
    size_t n = collect_hints(tables, ntables, ctx, offers, g, items);
    const struct hint_item *back = NULL;
    for (size_t i = 0; i < n; i++)
        if (items[i].back && !back)
            back = &items[i];
    out->style = STYLE_HINT;
    canvas_puts(out, STYLE_HINT, " ");
    int room = out->width - out->cells - (back ? item_cells(back) : 0);
    for (size_t i = 0; i < n; i++)
        if (items[i].keep && &items[i] != back)
            room -= item_cells(&items[i]);
    for (size_t i = 0; i < n; i++) {
        if (&items[i] == back)
            continue;
        int w = item_cells(&items[i]);
        if (items[i].keep) {
            put_item(out, &items[i]);
            continue;
        }
        if (w > room)
            continue;
        put_item(out, &items[i]);
        room -= w;
    }
    if (back)
        put_item(out, back);
}
