/*
 * bodysource owns the bridge between a body view and a document: the body's bytes (borrowed by
 * the view), the view, and the rendering of its rows into canvas lines with hspy's styles. The
 * view's text is already terminal-safe; this module adds no escaping of its own and never
 * touches the terminal.
 */
#include "hspy/bodysource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bodyview.h"
#include "hspy/search.h"
#include "hspy/xmalloc.h"

enum { CTYPE_MAX = 256 };

struct bodysource {
    struct bytesource bytes;
    char ctype[CTYPE_MAX];
    struct bodyview *view;
    struct bodyview_row row;
    struct bodyview_query *query; /* the last search, kept for n and N */
    char needle[SEARCH_NEEDLE_MAX];
    /* A search in steps that stopped on its budget: where it goes on, for which call. */
    bool resuming;
    struct bodyview_match resume;
    size_t resume_from, resume_count;
    int resume_dir;
};

static const uint8_t STYLES[BODYVIEW_STYLE__COUNT] = {
    [BODYVIEW_STYLE_PLAIN] = STYLE_NORMAL,    [BODYVIEW_STYLE_KEY] = STYLE_HNAME,
    [BODYVIEW_STYLE_STRING] = STYLE_STRING,   [BODYVIEW_STYLE_NUMBER] = STYLE_NUMBER,
    [BODYVIEW_STYLE_LITERAL] = STYLE_LITERAL, [BODYVIEW_STYLE_PUNCT] = STYLE_DIM,
    [BODYVIEW_STYLE_META] = STYLE_BOUNDARY,   [BODYVIEW_STYLE_NOTICE] = STYLE_WARN,
    [BODYVIEW_STYLE_MATCH] = STYLE_MATCH,     [BODYVIEW_STYLE_LINE_END] = STYLE_LINE_END,
    [BODYVIEW_STYLE_ESCAPE] = STYLE_ESCAPE,
};

struct bodysource *bodysource_new(const struct bytesource *src, const uint8_t *ctype,
                                  size_t ctype_len, int mode)
{
    struct bodysource *b = xcalloc(1, sizeof *b);
    b->bytes = *src;
    if (ctype_len >= sizeof b->ctype)
        ctype_len = sizeof b->ctype - 1;
    if (ctype)
        memcpy(b->ctype, ctype, ctype_len);
    size_t len;
    const uint8_t *p = bytesource_get(&b->bytes, &len);
    b->view = bodyview_new(p ? p : (const uint8_t *)"", len, ctype ? b->ctype : NULL, ctype_len,
                           (enum bodyview_mode)mode);
    bodyview_row_init(&b->row);
    return b;
}

void bodysource_free(struct bodysource *b)
{
    if (!b)
        return;
    bodyview_free(b->view);
    bodyview_query_free(b->query);
    bodyview_row_cleanup(&b->row);
    bytesource_cleanup(&b->bytes);
    free(b);
}

const char *bodysource_describe(struct bodysource *b)
{
    return bodyview_describe(b->view);
}

/* Puts text[from, to) in style, the part before fixed in place under a sideways scroll. */
static void put_part(struct canvas_line *out, uint8_t style, const char *text, size_t from,
                     size_t to, size_t fixed)
{
    if (from < fixed) {
        size_t end = to < fixed ? to : fixed;
        canvas_put_fixed(out, style, text + from, end - from);
        from = end;
    }
    if (to > from)
        canvas_put(out, style, text + from, to - from);
}

static void render(void *data, size_t i, struct canvas_line *out)
{
    struct bodysource *b = data;
    if (!bodyview_row(b->view, i, &b->row))
        return;
    /* An empty row may have no buffer at all. */
    const char *text = b->row.text.data ? (const char *)b->row.text.data : "";
    size_t n = b->row.text.len, pos = 0;
    /* A hex row's offset stays in place while the bytes scroll, as in a hex viewer. */
    size_t fixed = b->row.fixed <= n ? b->row.fixed : 0;
    /* Spans are in order and do not overlap (no match spans: searching is the document's). */
    for (uint32_t k = 0; k < b->row.nspans; k++) {
        const struct bodyview_span *sp = &b->row.span[k];
        if (sp->off < pos || sp->off + sp->len > n)
            continue;
        put_part(out, STYLE_NORMAL, text, pos, sp->off, fixed);
        uint8_t style = sp->style < BODYVIEW_STYLE__COUNT ? STYLES[sp->style] : STYLE_NORMAL;
        put_part(out, style, text, sp->off, sp->off + sp->len, fixed);
        pos = sp->off + sp->len;
    }
    put_part(out, STYLE_NORMAL, text, pos, n, fixed);
}

static size_t count(void *data, bool *complete)
{
    struct bodysource *b = data;
    return (size_t)bodyview_rows(b->view, complete);
}

static void extend(void *data, size_t want)
{
    struct bodysource *b = data;
    if (want > 0)
        bodyview_row(b->view, want - 1, &b->row);
}

static bool index_some(void *data, size_t budget)
{
    struct bodysource *b = data;
    return bodyview_index(b->view, budget);
}

static bool has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return true;
    return false;
}

/* The view's query for a search: "/re/" is a regular expression (search_regex_len), anything
 * else plain text. NULL when the expression does not compile. */
static struct bodyview_query *query_new(const char *needle)
{
    char err[128], pattern[SEARCH_NEEDLE_MAX];
    unsigned flags = has_upper(needle) ? 0 : BODYVIEW_FIND_ICASE;
    size_t len = search_regex_len(needle);
    if (!len)
        return bodyview_query_new(needle, flags, err, sizeof err);
    snprintf(pattern, sizeof pattern, "%.*s", (int)len, needle + 1);
    return bodyview_query_new(pattern, flags | BODYVIEW_FIND_REGEX, err, sizeof err);
}

/* Whether row n itself holds a match of the query. */
static bool row_matches(struct bodysource *b, size_t n)
{
    struct bodyview_match at, m;
    bodyview_position(b->view, n, &at);
    return bodyview_find(b->view, b->query, &at, false, 0, &m) == BODYVIEW_FOUND && m.row == n;
}

/* The view's own search: it scans the body once (a hex view searches the bytes themselves)
 * instead of rendering every line, in steps of about budget bytes when asked. Smart case like
 * every hspy search. */
static size_t find(void *data, const char *needle, size_t from, size_t count, int dir,
                   size_t budget, bool *more)
{
    struct bodysource *b = data;
    *more = false;
    bool resuming = b->resuming && b->resume_from == from && b->resume_count == count &&
                    b->resume_dir == dir && b->query && strcmp(needle, b->needle) == 0;
    b->resuming = false;
    if (!b->query || strcmp(needle, b->needle) != 0) {
        bodyview_query_free(b->query);
        b->query = query_new(needle);
        snprintf(b->needle, sizeof b->needle, "%s", needle);
        if (!b->query)
            return (size_t)-1;
    }
    size_t rows = (size_t)bodyview_rows(b->view, NULL);
    if (!count || from >= rows)
        return (size_t)-1;
    struct bodyview_match at, m;
    bool backward = dir < 0;
    /* Forward from the start of row `from`; backward from the start of the row after it, so
     * that row `from` itself is looked at too. */
    if (resuming) {
        at = b->resume;
    } else if (backward && from + 1 >= rows) {
        bodyview_position(b->view, from, &at);
        if (row_matches(b, from))
            return from;
        if (count == 1)
            return (size_t)-1;
    } else {
        bodyview_position(b->view, backward ? from + 1 : from, &at);
    }
    enum bodyview_find_result r = bodyview_find(b->view, b->query, &at, backward, budget, &m);
    if (r == BODYVIEW_NOT_FOUND)
        return (size_t)-1;
    bool inside = backward ? m.row + count > from : m.row < from + count;
    if (r == BODYVIEW_MORE && inside) {
        b->resuming = true;
        b->resume = m;
        b->resume_from = from, b->resume_count = count, b->resume_dir = dir;
        *more = true;
    }
    return inside && r == BODYVIEW_FOUND ? (size_t)m.row : (size_t)-1;
}

static void release(void *data)
{
    bodysource_free(data);
}

size_t bodysource_add(struct doc *d, struct bodysource *b)
{
    bool complete;
    uint64_t rows = bodyview_rows(b->view, &complete);
    struct doc_source s = {.render = render, .free = release, .data = b, .find = find};
    /* A view that knows all its rows (hex rows are arithmetic) is a fixed source. */
    if (complete)
        s.lines = (size_t)rows;
    else
        s.count = count, s.extend = extend, s.index = index_some;
    return doc_add_source(d, &s);
}

size_t bodysource_row_of(struct bodysource *b, uint64_t off)
{
    return (size_t)bodyview_row_of_offset(b->view, off);
}

void bodysource_set_origin(struct bodysource *b, uint64_t origin)
{
    bodyview_set_origin(b->view, origin);
}

void bodysource_fit(struct bodysource *b, int width)
{
    if (bodyview_mode(b->view) != BODYVIEW_HEX || width <= 0)
        return;
    struct bodyview_layout lay = {(uint32_t)width, 0, false};
    bodyview_set_layout(b->view, &lay);
}
