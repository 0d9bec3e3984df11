/*
 * harsplit owns the frame of a HAR document: the top-level object, its "log" member and the
 * log.entries array, walked byte by byte as the input arrives, with line and column tracking
 * for errors. Every member value and entry is captured whole (strings, escapes and nesting
 * followed) and handed out as JSON text; it never parses those values itself (jansson does)
 * and never reads files.
 */
#include "hspy/harsplit.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum state {
    S_DOC,           /* before the document's '{' */
    S_KEY_OR_CLOSE,  /* just inside an object: a member name or '}' */
    S_KEY,           /* after ',': a member name */
    S_KEY_TEXT,      /* inside a member name */
    S_COLON,         /* after a member name */
    S_VALUE,         /* before a member's value */
    S_CAPTURE,       /* inside a value being captured */
    S_AFTER_VALUE,   /* after a value: ',' or '}' */
    S_ELEM_OR_CLOSE, /* just inside log.entries: an element or ']' */
    S_ELEM,          /* after ',' in log.entries: an element */
    S_AFTER_ELEM,    /* after an element: ',' or ']' */
    S_TRAILER,       /* after the document: whitespace only */
    S_ERROR,
};

enum kind { K_CONTAINER, K_STRING, K_SCALAR };

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void harsplit_init(struct harsplit *s, size_t piece_max)
{
    memset(s, 0, sizeof *s);
    s->piece_max = piece_max ? piece_max : HARSPLIT_PIECE_MAX;
    s->line = 1;
    dynbuf_init(&s->key, 4 * HARSPLIT_KEY_MAX);
    dynbuf_init(&s->value, s->piece_max);
}

void harsplit_cleanup(struct harsplit *s)
{
    dynbuf_cleanup(&s->key);
    dynbuf_cleanup(&s->value);
}

static uint32_t column(const struct harsplit *s)
{
    return (uint32_t)(s->pos - s->line_start + 1);
}

static enum harsplit_event fail(struct harsplit *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum harsplit_event fail(struct harsplit *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    s->state = S_ERROR;
    return HARSPLIT_ERROR;
}

/* A byte that does not belong where it stands. */
static enum harsplit_event unexpected(struct harsplit *s, uint8_t c, const char *wanted)
{
    char shown[16];
    if (c >= 0x21 && c < 0x7f)
        snprintf(shown, sizeof shown, "'%c'", c);
    else
        snprintf(shown, sizeof shown, "byte 0x%02x", c);
    if (s->state == S_DOC)
        return fail(s,
                    "not a HAR 1.2 file: a HAR file is a JSON object (found %s at line %u, "
                    "column %u)",
                    shown, s->line, column(s));
    return fail(s, "not valid JSON at line %u, column %u: expected %s, found %s", s->line,
                column(s), wanted, shown);
}

/* The member name just read, decoded (escapes are rare in HAR but legal). */
static void finish_key(struct harsplit *s)
{
    char *k = s->piece.key;
    k[0] = '\0';
    if (!s->key_escaped) {
        size_t n = s->key.len < HARSPLIT_KEY_MAX ? s->key.len : HARSPLIT_KEY_MAX;
        memcpy(k, s->key.data ? (const char *)s->key.data : "", n);
        k[n] = '\0';
    } else {
        struct dynbuf q;
        dynbuf_init(&q, s->key.len + 3);
        dynbuf_addc(&q, '"');
        dynbuf_append(&q, s->key.data, s->key.len);
        dynbuf_addc(&q, '"');
        json_t *v = json_loadb((const char *)q.data, q.len, JSON_DECODE_ANY, NULL);
        if (json_is_string(v))
            snprintf(k, HARSPLIT_KEY_MAX + 1, "%s", json_string_value(v));
        json_decref(v);
        dynbuf_cleanup(&q);
    }
    dynbuf_reset(&s->key);
    s->key_escaped = false;
}

/* Starts capturing the value whose first byte is c. */
static enum harsplit_event begin_value(struct harsplit *s, uint8_t c)
{
    dynbuf_reset(&s->value);
    s->piece.offset = s->pos;
    s->piece.line = s->line;
    s->piece.column = column(s);
    s->depth = 0;
    s->in_string = s->escape = false;
    if (c == '{' || c == '[')
        s->kind = K_CONTAINER;
    else if (c == '"')
        s->kind = K_STRING;
    else if ((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n')
        s->kind = K_SCALAR;
    else
        return unexpected(s, c, "a value");
    s->state = S_CAPTURE;
    return HARSPLIT_MORE;
}

/* The captured value is complete: hand it out. */
static enum harsplit_event emit_value(struct harsplit *s)
{
    s->piece.text = s->value.data ? s->value.data : (const uint8_t *)"";
    s->piece.len = s->value.len;
    if (s->in_entries) {
        s->piece.index = s->entries++;
        s->state = S_AFTER_ELEM;
        return HARSPLIT_ENTRY;
    }
    s->piece.top = s->level == 1;
    s->state = S_AFTER_VALUE;
    return HARSPLIT_MEMBER;
}

/*
 * Captures bytes of the value in p[0..n); returns how many belong to it. *complete is set when
 * the value ended (a scalar ends before the delimiter that follows it, which is not taken).
 */
static size_t capture(struct harsplit *s, const uint8_t *p, size_t n, bool *complete)
{
    size_t i = 0;
    *complete = false;
    while (i < n) {
        uint8_t c = p[i];
        if (s->in_string) {
            /* Inside strings only a quote or a backslash matters: skip ahead to one. */
            size_t j = i;
            while (j < n && p[j] != '"' && p[j] != '\\' && !s->escape)
                j++;
            if (j > i) {
                i = j;
                continue;
            }
            if (s->escape)
                s->escape = false;
            else if (c == '\\')
                s->escape = true;
            else
                s->in_string = false;
            i++;
            if (!s->in_string && s->kind == K_STRING) {
                *complete = true;
                return i;
            }
            continue;
        }
        if (s->kind == K_SCALAR) {
            if (is_ws(c) || c == ',' || c == '}' || c == ']') {
                *complete = true;
                return i;
            }
            i++;
            continue;
        }
        if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            if (--s->depth == 0) {
                *complete = true;
                return i + 1;
            }
        } else if (c == '\n') {
            s->line++;
            s->line_start = s->pos + i + 1;
        }
        i++;
    }
    return n;
}

static enum harsplit_event capture_step(struct harsplit *s, const uint8_t *p, size_t n,
                                        size_t *used)
{
    bool complete;
    size_t k = capture(s, p, n, &complete);
    if (dynbuf_append(&s->value, p, k) < k)
        return fail(s, "%s at line %u is larger than %zu bytes",
                    s->in_entries ? "an entry" : "a member", s->piece.line, s->piece_max);
    *used = k;
    return complete ? emit_value(s) : HARSPLIT_MORE;
}

/* What a member's value must be, by where it stands: log is an object, entries an array. */
static enum harsplit_event member_value(struct harsplit *s, uint8_t c)
{
    const char *key = s->piece.key;
    if (s->level == 1 && strcmp(key, "log") == 0) {
        if (s->seen_log)
            return fail(s, "not a HAR 1.2 file: \"log\" appears twice (line %u)", s->line);
        if (c != '{')
            return fail(s, "not a HAR 1.2 file: log is not an object (line %u, column %u)", s->line,
                        column(s));
        s->seen_log = true;
        s->level = 2;
        s->state = S_KEY_OR_CLOSE;
        return HARSPLIT_MORE;
    }
    if (s->level == 2 && strcmp(key, "entries") == 0) {
        if (s->seen_entries)
            return fail(s, "not a HAR 1.2 file: log.entries appears twice (line %u)", s->line);
        if (c != '[')
            return fail(s, "not a HAR 1.2 file: log.entries is not an array (line %u, column %u)",
                        s->line, column(s));
        s->seen_entries = true;
        s->in_entries = true;
        s->state = S_ELEM_OR_CLOSE;
        return HARSPLIT_MORE;
    }
    return begin_value(s, c);
}

/* A '}' closing the object at the current level. */
static enum harsplit_event close_object(struct harsplit *s)
{
    if (s->level == 2) {
        s->level = 1;
        s->state = S_AFTER_VALUE;
        return HARSPLIT_MORE;
    }
    s->state = S_TRAILER;
    s->done = true;
    if (!s->seen_log)
        return fail(s, "not a HAR 1.2 file: missing log");
    if (!s->seen_entries)
        return fail(s, "not a HAR 1.2 file: missing log.entries");
    return HARSPLIT_DONE;
}

/* One structural byte (outside captured values). */
static enum harsplit_event structural(struct harsplit *s, uint8_t c)
{
    switch (s->state) {
    case S_DOC:
        if (c != '{')
            return unexpected(s, c, "'{'");
        s->level = 1;
        s->state = S_KEY_OR_CLOSE;
        return HARSPLIT_MORE;
    case S_KEY_OR_CLOSE:
        if (c == '}')
            return close_object(s);
        __attribute__((fallthrough));
    case S_KEY:
        if (c != '"')
            return unexpected(s, c, "a member name");
        dynbuf_reset(&s->key);
        s->state = S_KEY_TEXT;
        return HARSPLIT_MORE;
    case S_COLON:
        if (c != ':')
            return unexpected(s, c, "':' after a member name");
        s->state = S_VALUE;
        return HARSPLIT_MORE;
    case S_VALUE: return member_value(s, c);
    case S_AFTER_VALUE:
        if (c == ',') {
            s->state = S_KEY;
            return HARSPLIT_MORE;
        }
        if (c == '}')
            return close_object(s);
        return unexpected(s, c, "',' or '}'");
    case S_ELEM_OR_CLOSE:
    case S_AFTER_ELEM:
        if (c == ']') {
            s->in_entries = false;
            s->state = S_AFTER_VALUE;
            return HARSPLIT_MORE;
        }
        if (s->state == S_AFTER_ELEM) {
            if (c != ',')
                return unexpected(s, c, "',' or ']' after an entry");
            s->state = S_ELEM;
            return HARSPLIT_MORE;
        }
        return begin_value(s, c);
    case S_ELEM: return begin_value(s, c);
    case S_TRAILER: return unexpected(s, c, "the end of the file after the document");
    default: return HARSPLIT_ERROR;
    }
}

/* Bytes of a member name; returns bytes used. */
static size_t key_text(struct harsplit *s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i++];
        if (s->escape) {
            s->escape = false;
        } else if (c == '\\') {
            s->escape = true;
            s->key_escaped = true;
        } else if (c == '"') {
            finish_key(s);
            s->state = S_COLON;
            return i;
        }
        dynbuf_addc(&s->key, c);
    }
    return n;
}

size_t harsplit_feed(struct harsplit *s, const uint8_t *p, size_t n, enum harsplit_event *ev,
                     const struct harsplit_piece **piece)
{
    size_t i = 0;
    *ev = HARSPLIT_MORE;
    *piece = NULL;
    while (i < n && s->state != S_ERROR) {
        size_t used = 1;
        enum harsplit_event e = HARSPLIT_MORE;
        if (s->state == S_CAPTURE) {
            e = capture_step(s, p + i, n - i, &used);
        } else if (s->state == S_KEY_TEXT) {
            used = key_text(s, p + i, n - i);
        } else if (is_ws(p[i])) {
            if (p[i] == '\n') {
                s->line++;
                s->line_start = s->pos + 1;
            }
        } else if (s->state == S_DOC && s->bom == s->pos && s->bom < 3 &&
                   p[i] == (uint8_t) "\xEF\xBB\xBF"[s->bom]) {
            s->bom++; /* a UTF-8 byte order mark, as some tools write */
        } else {
            e = structural(s, p[i]);
            /* A value's first byte is the capture's: it is taken again in S_CAPTURE. */
            if (e == HARSPLIT_ERROR || s->state == S_CAPTURE)
                used = 0;
        }
        i += used;
        s->pos += used;
        if (e != HARSPLIT_MORE) {
            *ev = e;
            if (e == HARSPLIT_MEMBER || e == HARSPLIT_ENTRY)
                *piece = &s->piece;
            return i;
        }
    }
    if (s->state == S_ERROR)
        *ev = HARSPLIT_ERROR;
    return i;
}

enum harsplit_event harsplit_end(struct harsplit *s)
{
    if (s->state == S_ERROR)
        return HARSPLIT_ERROR;
    if (s->done)
        return HARSPLIT_DONE;
    if (s->state == S_DOC)
        return fail(s, "not a HAR 1.2 file: the file is empty");
    if (s->in_entries)
        return fail(s, "cut short inside log.entries after %llu entr%s (line %u)",
                    (unsigned long long)s->entries, s->entries == 1 ? "y" : "ies", s->line);
    return fail(s, "cut short at line %u, column %u", s->line, column(s));
}
