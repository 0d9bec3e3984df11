/*
 * prompt owns the bottom-line editor: its text, cursor, history and error. It renders into
 * canvas lines (user text through termsafe, since a paste may hold anything) and never draws.
 */
#include "hspy/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/keymap.h"
#include "hspy/utf8.h"
#include "hspy/xmalloc.h"

void prompt_open(struct prompt *p, const char *label, const char *initial,
                 struct prompt_history *history)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->history = history;
    p->errpos = (size_t)-1;
    if (initial) {
        size_t n = strlen(initial);
        if (n >= PROMPT_MAX)
            n = PROMPT_MAX - 1;
        memcpy(p->text, initial, n);
        p->len = p->cursor = n;
    }
}

void prompt_error(struct prompt *p, const char *msg, size_t errpos)
{
    if (!msg) {
        p->error[0] = '\0';
        p->errpos = (size_t)-1;
        return;
    }
    size_t n = strlen(msg);
    if (n >= sizeof p->error)
        n = sizeof p->error - 1;
    memcpy(p->error, msg, n);
    p->error[n] = '\0';
    p->errpos = errpos;
}

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

static size_t prev_char(const struct prompt *p, size_t i)
{
    if (i == 0)
        return 0;
    i--;
    while (i > 0 && is_cont(p->text[i]))
        i--;
    return i;
}

static size_t next_char(const struct prompt *p, size_t i)
{
    if (i >= p->len)
        return p->len;
    i++;
    while (i < p->len && is_cont(p->text[i]))
        i++;
    return i;
}

static void delete_range(struct prompt *p, size_t from, size_t to)
{
    memmove(p->text + from, p->text + to, p->len - to);
    p->len -= to - from;
    p->text[p->len] = '\0';
    if (p->cursor > to)
        p->cursor -= to - from;
    else if (p->cursor > from)
        p->cursor = from;
}

static bool insert(struct prompt *p, int cp)
{
    uint8_t u[4];
    size_t n = utf8_encode((uint32_t)cp, u);
    if (p->len + n >= PROMPT_MAX)
        return false;
    memmove(p->text + p->cursor + n, p->text + p->cursor, p->len - p->cursor);
    memcpy(p->text + p->cursor, u, n);
    p->len += n;
    p->cursor += n;
    p->text[p->len] = '\0';
    return true;
}

static void set_text(struct prompt *p, const char *s)
{
    size_t n = strlen(s);
    if (n >= PROMPT_MAX)
        n = PROMPT_MAX - 1;
    memcpy(p->text, s, n);
    p->text[n] = '\0';
    p->len = p->cursor = n;
}

/* Up and Down walk the history; the text being typed is kept as item 0 in a spare slot. */
static bool walk_history(struct prompt *p, int dir)
{
    if (!p->history || !p->history->n)
        return false;
    size_t target = dir > 0 ? p->hpos + 1 : (p->hpos ? p->hpos - 1 : 0);
    if (target > p->history->n || target == p->hpos)
        return false;
    p->hpos = target;
    set_text(p, target ? p->history->items[target - 1] : "");
    return true;
}

static size_t word_start(const struct prompt *p)
{
    size_t i = p->cursor;
    while (i > 0 && p->text[i - 1] == ' ')
        i--;
    while (i > 0 && p->text[i - 1] != ' ')
        i--;
    return i;
}

enum prompt_result prompt_key(struct prompt *p, int key)
{
    size_t before = p->len;
    switch (key) {
    case KEYMAP_ENTER: return PROMPT_SUBMIT;
    case KEYMAP_ESC:
    case KEYMAP_CTRL('c'):
    case KEYMAP_CTRL('g'): return PROMPT_CANCEL;
    case KEYMAP_LEFT: p->cursor = prev_char(p, p->cursor); return PROMPT_EDITING;
    case KEYMAP_RIGHT: p->cursor = next_char(p, p->cursor); return PROMPT_EDITING;
    case KEYMAP_HOME:
    case KEYMAP_CTRL('a'): p->cursor = 0; return PROMPT_EDITING;
    case KEYMAP_END:
    case KEYMAP_CTRL('e'): p->cursor = p->len; return PROMPT_EDITING;
    case KEYMAP_UP: return walk_history(p, 1) ? PROMPT_CHANGED : PROMPT_EDITING;
    case KEYMAP_DOWN: return walk_history(p, -1) ? PROMPT_CHANGED : PROMPT_EDITING;
    case KEYMAP_BACKSPACE:
    case 0x7f:
    case KEYMAP_CTRL('h'): delete_range(p, prev_char(p, p->cursor), p->cursor); break;
    case KEYMAP_DELETE:
    case KEYMAP_CTRL('d'): delete_range(p, p->cursor, next_char(p, p->cursor)); break;
    case KEYMAP_CTRL('u'): delete_range(p, 0, p->cursor); break;
    case KEYMAP_CTRL('k'): delete_range(p, p->cursor, p->len); break;
    case KEYMAP_CTRL('w'): delete_range(p, word_start(p), p->cursor); break;
    default:
        /* Control characters are never inserted: a prompt holds printable text only. */
        if (key < 0x20 || key >= KEYMAP_SPECIAL || (key >= 0x7f && key < 0xa0) ||
            (key >= 0xd800 && key <= 0xdfff))
            return PROMPT_EDITING;
        if (!insert(p, key)) {
            char full[64];
            snprintf(full, sizeof full, "full: a prompt holds at most %d bytes", PROMPT_MAX - 1);
            prompt_error(p, full, (size_t)-1);
            return PROMPT_EDITING;
        }
        return PROMPT_CHANGED;
    }
    return p->len != before ? PROMPT_CHANGED : PROMPT_EDITING;
}

void prompt_history_add(struct prompt_history *h, const char *text)
{
    if (!*text)
        return;
    size_t found = h->n;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->items[i], text) == 0)
            found = i;
    char *item;
    if (found < h->n) {
        item = h->items[found];
        memmove(&h->items[1], &h->items[0], found * sizeof *h->items);
    } else {
        item = xstrdup(text);
        if (h->n == PROMPT_HISTORY)
            free(h->items[--h->n]);
        memmove(&h->items[1], &h->items[0], h->n * sizeof *h->items);
        h->n++;
    }
    h->items[0] = item;
}

void prompt_history_cleanup(struct prompt_history *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->items[i]);
    h->n = 0;
}

/* The first byte of text the prompt line shows on a line of width cells whose label takes
 * label cells: whole characters are dropped from the left while the cursor would not fit. */
static size_t shown_from(const struct prompt *p, int label, int width)
{
    size_t from = 0;
    while (from < p->cursor &&
           label + celltext_width(p->text + from, p->cursor - from) >= width - 1)
        from = next_char(p, from);
    return from;
}

/* Cells "label: " takes on a line of width cells: the whole label, or less where the text typed
 * would keep fewer than PROMPT_INPUT_MIN cells or half the line. */
static int label_cells(const struct prompt *p, int width)
{
    int full = celltext_width(p->label, strlen(p->label)) + 2;
    int input = width / 2 < PROMPT_INPUT_MIN ? width / 2 : PROMPT_INPUT_MIN;
    int most = width - input;
    if (full <= most)
        return full;
    return most > 3 ? most : 3; /* ": " after one cell of the label at least */
}

void prompt_render(const struct prompt *p, const struct glyphs *g, struct canvas_line *out)
{
    int label = label_cells(p, out->width) - 2;
    int put = canvas_put_within(out, STYLE_PROMPT, p->label, strlen(p->label), label, g->ellipsis);
    canvas_pad(out, STYLE_PROMPT, label - put); /* where prompt_render_error counts it */
    canvas_puts(out, STYLE_PROMPT, ": ");
    size_t from = shown_from(p, out->cells, out->width);
    canvas_put_bytes(out, STYLE_NORMAL, (const uint8_t *)p->text + from, p->cursor - from, 0);
    size_t end = next_char(p, p->cursor);
    if (p->cursor < p->len)
        canvas_put_bytes(out, STYLE_CURSOR, (const uint8_t *)p->text + p->cursor, end - p->cursor,
                         0);
    else
        canvas_put(out, STYLE_CURSOR, " ", 1);
    if (end < p->len)
        canvas_put_bytes(out, STYLE_NORMAL, (const uint8_t *)p->text + end, p->len - end, 0);
}

void prompt_render_error(const struct prompt *p, struct canvas_line *out)
{
    if (!p->error[0])
        return;
    int label = label_cells(p, out->width);
    int msg = celltext_width(p->error, strlen(p->error));
    size_t from = shown_from(p, label, out->width);
    size_t at = p->errpos < p->len ? p->errpos : p->len;
    if (p->errpos == (size_t)-1 || at < from) { /* no caret, or its character is scrolled off */
        canvas_pad(out, STYLE_NORMAL, label);
        canvas_puts(out, STYLE_ERROR, p->error);
        return;
    }
    int x = label + celltext_width(p->text + from, at - from);
    if (x + 2 + msg <= out->width || x < msg + 1) { /* "^ message" after the caret */
        canvas_pad(out, STYLE_NORMAL, x);
        canvas_puts(out, STYLE_ERROR, "^ ");
    } else { /* near the right edge: "message ^", ending at the caret */
        canvas_pad(out, STYLE_NORMAL, x - msg - 1);
        canvas_puts(out, STYLE_ERROR, p->error);
        canvas_puts(out, STYLE_ERROR, " ^");
        return;
    }
    canvas_puts(out, STYLE_ERROR, p->error);
}
