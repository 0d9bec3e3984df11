/*
 * flowrow owns the flow list's columns: what each shows, how wide it is, how it sorts, and the
 * rendering of one exchange into one row. It reads exchanges and never changes them; it never
 * draws on the terminal (rows go into canvas lines).
 */
#include "hspy/flowrow.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hspy/termsafe.h"

/* Cells between two columns. */
enum { GAP = 1 };

static uint8_t method_style(const char *m)
{
    static const struct {
        const char *name;
        uint8_t style;
    } MAP[] = {
        {"GET", STYLE_METHOD_GET}, {"HEAD", STYLE_METHOD_GET},  {"POST", STYLE_METHOD_POST},
        {"PUT", STYLE_METHOD_PUT}, {"PATCH", STYLE_METHOD_PUT}, {"DELETE", STYLE_METHOD_DELETE},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (strcmp(m, MAP[i].name) == 0)
            return MAP[i].style;
    return STYLE_METHOD_OTHER;
}

static uint8_t status_style(int status)
{
    static const uint8_t BY_CLASS[] = {STYLE_NORMAL,  STYLE_STATUS1, STYLE_STATUS2,
                                       STYLE_STATUS3, STYLE_STATUS4, STYLE_STATUS5};
    int cls = status / 100;
    return cls >= 1 && cls <= 5 ? BY_CLASS[cls] : STYLE_STATUS5;
}

/* Copies network bytes into the cell through termsafe, marking the escapes it writes. */
static void safe_copy(struct canvas_cell *cell, const uint8_t *p, size_t n)
{
    canvas_cell_clear(cell);
    canvas_cell_bytes(cell, p, n, 0);
}

static int64_t start_time(const struct exchange *ex)
{
    return ex->t[T_REQ_FIRST] ? ex->t[T_REQ_FIRST] : ex->t[T_RESP_FIRST];
}

char *flowrow_size(uint64_t bytes, char *buf, size_t len)
{
    static const char UNITS[] = "kMGTPE";
    if (bytes < 1024) {
        snprintf(buf, len, "%u", (unsigned)bytes);
        return buf;
    }
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (v < 10)
        snprintf(buf, len, "%.1f%c", v, UNITS[u]);
    else
        snprintf(buf, len, "%.0f%c", v, UNITS[u]);
    return buf;
}

char *flowrow_bytes(uint64_t bytes, char *buf, size_t len)
{
    char n[16];
    flowrow_size(bytes, n, sizeof n);
    size_t l = strlen(n);
    if (bytes >= 1024 && n[l - 1] == 'k')
        n[l - 1] = 'K'; /* the binary prefix is a capital K */
    snprintf(buf, len, "%s%s", n, bytes < 1024 ? "B" : "iB");
    return buf;
}

char *flowrow_duration(int64_t ns, char *buf, size_t len)
{
    if (ns < 0)
        snprintf(buf, len, "-");
    else if (ns < 1000000)
        snprintf(buf, len, "%.2fms", (double)ns / 1e6);
    else if (ns < 10000000)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else if (ns < 1000000000)
        snprintf(buf, len, "%dms", (int)(ns / 1000000));
    else if (ns < 10000000000)
        snprintf(buf, len, "%.1fs", (double)ns / 1e9);
    else if (ns < 100000000000)
        snprintf(buf, len, "%ds", (int)(ns / 1000000000));
    else if (ns < (int64_t)6000 * 1000000000)
        snprintf(buf, len, "%dm%02ds", (int)(ns / 60000000000), (int)(ns / 1000000000 % 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(ns / 3600000000000), (int)(ns / 60000000000 % 60));
    return buf;
}

/* The short name of a media type: "json", "html", "png", "form". */
static size_t short_type(const uint8_t *v, size_t n, const uint8_t **out)
{
    size_t end = 0;
    while (end < n && v[end] != ';' && v[end] != ' ' && v[end] != '\t')
        end++;
    const uint8_t *slash = memchr(v, '/', end);
    const uint8_t *sub = slash ? slash + 1 : v;
    size_t len = (size_t)(v + end - sub);
    const uint8_t *plus = memchr(sub, '+', len);
    if (plus) {
        len -= (size_t)(plus + 1 - sub);
        sub = plus + 1;
    }
    if (len > 2 && strncasecmp((const char *)sub, "x-", 2) == 0)
        sub += 2, len -= 2;
    static const struct {
        const char *sub, *name;
    } ALIASES[] = {
        {"javascript", "js"},
        {"ecmascript", "js"},
        {"plain", "text"},
        {"www-form-urlencoded", "form"},
        {"form-data", "multipart"},
        {"octet-stream", "bin"},
        {"svg", "svg"},
        {"icon", "ico"},
        {"vnd.microsoft.icon", "ico"},
    };
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++) {
        if (strlen(ALIASES[i].sub) == len &&
            strncasecmp((const char *)sub, ALIASES[i].sub, len) == 0) {
            *out = (const uint8_t *)ALIASES[i].name;
            return strlen(ALIASES[i].name);
        }
    }
    *out = sub;
    return len;
}

static const struct message *typed_message(const struct exchange *ex)
{
    return (ex->resp.flags & MSG_HEAD) ? &ex->resp : &ex->req;
}

/* A known field's first value through the head's field index (no scan of the headers). */
static const uint8_t *field(const struct message *m, enum http_field f, size_t *n)
{
    const uint8_t *base = message_head_base(m);
    if (!base) {
        *n = 0;
        return NULL;
    }
    return http_head_field(base, &m->head, f, n);
}

/* exchange_host with the common case (a Host header) answered from the field index. */
static char *host_of(const struct exchange *ex, char *buf, size_t len)
{
    size_t n;
    const uint8_t *v = field(&ex->req, HF_HOST, &n);
    if (!v)
        return exchange_host(ex, buf, len);
    if (n >= len)
        n = len - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* Column texts. Each writes a NUL-terminated safe string into buf and returns its style. */

static uint8_t text_mark(const struct exchange *ex, const struct glyphs *g,
                         struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)ex, (void)g;
    buf[0] = '\0'; /* drawn by flowrow_format, which knows the marks */
    return STYLE_MARKED;
}

static uint8_t text_id(const struct exchange *ex, const struct glyphs *g, struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    snprintf(buf, CANVAS_CELL_MAX, "%llu", (unsigned long long)ex->id);
    return STYLE_DIM;
}

static uint8_t text_time(const struct exchange *ex, const struct glyphs *g,
                         struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    int64_t t = start_time(ex);
    if (!t) {
        snprintf(buf, CANVAS_CELL_MAX, "-");
        return STYLE_DIM;
    }
    time_t sec = (time_t)(t / 1000000000);
    struct tm tm;
    localtime_r(&sec, &tm);
    snprintf(buf, CANVAS_CELL_MAX, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(t / 1000000 % 1000));
    return STYLE_DIM;
}

static uint8_t text_client(const struct exchange *ex, const struct glyphs *g,
                           struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    endpoint_format(&ex->client, buf, CANVAS_CELL_MAX);
    return STYLE_NORMAL;
}

static uint8_t text_method(const struct exchange *ex, const struct glyphs *g,
                           struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    const struct message *m = &ex->req;
    struct http_span method, target;
    if (message_peek_request_line(m, &method, &target)) { /* a head not parsed: dimmed */
        safe_copy(cell, m->raw.data + method.off, method.len);
        return STYLE_DIM;
    }
    if (!(m->flags & MSG_HEAD)) {
        /* A request a capture lost whole (MSG_LOST) existed: say so, where "-" is none. */
        snprintf(buf, CANVAS_CELL_MAX, "%s",
                 (m->flags & MSG_LOST)      ? "lost"
                 : (m->flags & MSG_STARTED) ? "..."
                                            : "-");
        return STYLE_DIM;
    }
    if (m->flags & MSG_HTTP09 || m->head.method.len == 0) {
        snprintf(buf, CANVAS_CELL_MAX, "?");
        return STYLE_METHOD_OTHER;
    }
    safe_copy(cell, message_at(m, m->head.method), m->head.method.len);
    return method_style(buf);
}

static uint8_t text_host(const struct exchange *ex, const struct glyphs *g,
                         struct canvas_cell *cell)
{
    (void)g;
    char raw[CANVAS_CELL_MAX];
    host_of(ex, raw, sizeof raw);
    safe_copy(cell, (const uint8_t *)raw, strlen(raw));
    return STYLE_NORMAL;
}

static uint8_t text_target(const struct exchange *ex, const struct glyphs *g,
                           struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    const struct message *m = &ex->req;
    struct http_span method, target;
    if (message_peek_request_line(m, &method, &target)) {
        safe_copy(cell, m->raw.data + target.off, target.len);
        return STYLE_DIM;
    }
    if (!(m->flags & MSG_HEAD)) {
        buf[0] = '\0';
        return STYLE_NORMAL;
    }
    safe_copy(cell, message_at(m, m->head.target), m->head.target.len);
    return STYLE_NORMAL;
}

/* Markers in order of importance; the first two that apply are shown. */
static uint8_t text_flags(const struct exchange *ex, const struct glyphs *g,
                          struct canvas_cell *cell)
{
    char *buf = cell->text;
    const struct {
        bool on;
        const char *glyph;
        uint8_t style;
    } MARKS[] = {
        {(ex->flags & EX_HELD) != 0, g->held, STYLE_HELD},
        {ex->nwarnings > 0, g->warn, STYLE_WARN},
        {(ex->flags & EX_EDITED) != 0, g->edited, STYLE_HELD},
        {(ex->flags & EX_REPLAY) != 0, g->replay, STYLE_HELD},
        {(ex->flags & EX_TRUNCATED) || ((ex->req.flags | ex->resp.flags) & MSG_TRUNCATED),
         g->truncated, STYLE_WARN},
        {(ex->flags & EX_GAP) != 0, g->gap, STYLE_WARN},
        {(ex->flags & EX_INCOMPLETE) != 0, g->partial, STYLE_DIM},
    };
    buf[0] = '\0';
    uint8_t style = STYLE_NORMAL;
    int shown = 0;
    for (size_t i = 0; i < sizeof MARKS / sizeof MARKS[0] && shown < 2; i++) {
        if (!MARKS[i].on)
            continue;
        if (!shown)
            style = MARKS[i].style;
        strcat(buf, MARKS[i].glyph);
        shown++;
    }
    return style;
}

static uint8_t text_status(const struct exchange *ex, const struct glyphs *g,
                           struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    int status = exchange_status(ex);
    /* A kill ends a hold before anything of the response reached the client: whatever status
     * came from upstream, the client got a reset. */
    if (status && !(ex->flags & EX_KILLED)) {
        snprintf(buf, CANVAS_CELL_MAX, "%d", status);
        return status_style(status);
    }
    static const struct {
        uint32_t flag;
        const char *text;
        uint8_t style;
    } NO_STATUS[] = {
        {EX_HELD, "held", STYLE_HELD},
        {EX_KILLED, "kill", STYLE_STATUS5},
        {EX_UPSTREAM_FAIL, "ERR", STYLE_STATUS5},
        {EX_TIMEOUT, "tout", STYLE_STATUS5},
        {EX_CLIENT_ABORT, "abrt", STYLE_STATUS5},
        {EX_TUNNEL, "tunl", STYLE_DIM},
        {EX_DONE, "-", STYLE_DIM},
    };
    for (size_t i = 0; i < sizeof NO_STATUS / sizeof NO_STATUS[0]; i++) {
        if (ex->flags & NO_STATUS[i].flag) {
            snprintf(buf, CANVAS_CELL_MAX, "%s", NO_STATUS[i].text);
            return NO_STATUS[i].style;
        }
    }
    snprintf(buf, CANVAS_CELL_MAX, "...");
    return STYLE_DIM;
}

static uint8_t text_type(const struct exchange *ex, const struct glyphs *g,
                         struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    size_t n;
    const uint8_t *v = field(typed_message(ex), HF_CONTENT_TYPE, &n);
    if (!v) {
        snprintf(buf, CANVAS_CELL_MAX, "-");
        return STYLE_DIM;
    }
    const uint8_t *name;
    size_t len = short_type(v, n, &name);
    safe_copy(cell, name, len);
    return STYLE_NORMAL;
}

static uint8_t text_size(const struct exchange *ex, const struct glyphs *g,
                         struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    if (!(ex->resp.flags & MSG_HEAD)) {
        snprintf(buf, CANVAS_CELL_MAX, "-");
        return STYLE_DIM;
    }
    flowrow_size(ex->resp.body_size, buf, CANVAS_CELL_MAX);
    return STYLE_NORMAL;
}

static uint8_t text_duration(const struct exchange *ex, const struct glyphs *g,
                             struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    if (!(ex->flags & EX_DONE)) {
        snprintf(buf, CANVAS_CELL_MAX, "...");
        return STYLE_DIM;
    }
    flowrow_duration(exchange_duration(ex), buf, CANVAS_CELL_MAX);
    return STYLE_NORMAL;
}

static uint8_t text_cache(const struct exchange *ex, const struct glyphs *g,
                          struct canvas_cell *cell)
{
    char *buf = cell->text;
    (void)g;
    if (!ex->cache_done || !ex->cache_label || !ex->cache_label[0]) {
        snprintf(buf, CANVAS_CELL_MAX, "-");
        return STYLE_DIM;
    }
    safe_copy(cell, (const uint8_t *)ex->cache_label, strlen(ex->cache_label));
    return STYLE_NORMAL;
}

/*
 * The cache label's words (cache.c writes them) in a shorter and in the tiniest form. A word
 * ending in a space takes the space with it; the others end where the label or a word does.
 */
static const struct {
    const char *word, *shorter, *tiny;
} CACHE_WORDS[] = {
    {"cacheable ", "cache ", ""},
    {"cacheable", "cache", "cache"},
    {"heuristic ", "heur ", "~"},
    {"private ", "priv ", "priv "},
    {"private", "priv", "priv"},
    {"revalidate", "reval", "reval"},
    {"revalidated", "revalidated", "304 ok"},
    {"no lifetime", "no ttl", "no ttl"},
    {"bad 304", "bad 304", "bad304"},
    {"no-store", "no-store", "never"},
    {"uncacheable", "uncacheable", "never"},
};
/* Where the browser's verdict starts when it differs from the shared cache's. */
static const char CACHE_BROWSER[] = ", browser ";

/* Whether word starts s[0..n) as a whole word. */
static bool word_at(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (k > n || memcmp(s, word, k) != 0)
        return false;
    return word[k - 1] == ' ' || k == n || s[k] == ' ' || s[k] == ',';
}

/* Appends s[0..n) to buf (len bytes, holding *o) with each word in form 1 (shorter) or 2
   (tiny). */
static void cache_words(const char *s, size_t n, int form, char *buf, size_t len, size_t *o)
{
    for (size_t i = 0; i < n;) {
        const char *put = NULL;
        size_t used = 1;
        for (size_t w = 0;
             !put && (i == 0 || s[i - 1] == ' ') && w < sizeof CACHE_WORDS / sizeof CACHE_WORDS[0];
             w++) {
            if (word_at(s + i, n - i, CACHE_WORDS[w].word)) {
                put = form == 1 ? CACHE_WORDS[w].shorter : CACHE_WORDS[w].tiny;
                used = strlen(CACHE_WORDS[w].word);
            }
        }
        *o += (size_t)snprintf(buf + *o, len - *o, "%.*s", put ? (int)strlen(put) : 1,
                               put ? put : s + i);
        if (*o >= len)
            *o = len - 1;
        i += used;
    }
}

char *flowrow_cache_fit(const char *label, int cells, const char *ellipsis, char *buf, size_t len)
{
    const char *browser = strstr(label, CACHE_BROWSER);
    size_t all = strlen(label), first = browser ? (size_t)(browser - label) : all;
    /* form 0: as it is; 1: shorter words; 2: the first verdict, shorter; 3: it, tiniest; 4: its
       first word ("priv…") */
    for (int form = 0; form < 5; form++) {
        size_t o = 0;
        buf[0] = '\0';
        if (form == 0)
            o = (size_t)snprintf(buf, len, "%s", label);
        else
            cache_words(label, form == 1 ? all : first, form < 3 ? 1 : 2, buf, len, &o);
        bool more = form >= 2 && browser;
        if (form == 4 && strchr(buf, ' ')) {
            o = (size_t)(strchr(buf, ' ') - buf);
            more = true;
        }
        if (more)
            snprintf(buf + o, len - o, "%s", ellipsis);
        if (form == 4 || celltext_width(buf, strlen(buf)) <= cells)
            break;
    }
    return buf;
}

/* The cache cell in its column: the label is hspy's own text, fitted by its words. */
static void fit_cache(struct canvas_cell *cell, int cells, const struct glyphs *g)
{
    char label[CANVAS_CELL_MAX], fitted[CANVAS_CELL_MAX];
    snprintf(label, sizeof label, "%s", cell->text);
    canvas_cell_clear(cell);
    canvas_cell_str(cell, flowrow_cache_fit(label, cells, g->ellipsis, fitted, sizeof fitted));
}

/* A time in a column too narrow for its milliseconds: to the second ("14:02:11"). */
static void fit_time(struct canvas_cell *cell, int cells, const struct glyphs *g)
{
    (void)g;
    char *dot = strchr(cell->text, '.');
    if (dot && cells >= (int)(dot - cell->text))
        *dot = '\0';
}

/* Sort keys and sort strings. */

uint64_t flowrow_prefix_key(const char *s, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++)
        k = (k << 8) | (i < n ? (uint8_t)s[i] : 0);
    return k;
}

static size_t fold_copy(char *buf, size_t len, const char *s, size_t n)
{
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
    return n;
}

static size_t span_str(const struct message *m, struct http_span s, char *buf, size_t len)
{
    if (!(m->flags & MSG_HEAD))
        return 0;
    size_t n = s.len < len ? s.len : len;
    memcpy(buf, message_at(m, s), n);
    return n;
}

static uint64_t key_id(const struct exchange *ex)
{
    return ex->id;
}

static uint64_t key_time(const struct exchange *ex)
{
    return (uint64_t)start_time(ex);
}

static size_t str_client(const struct exchange *ex, char *buf, size_t len)
{
    const struct endpoint *e = &ex->client;
    if (len < 19)
        return 0;
    buf[0] = (char)e->family;
    memcpy(buf + 1, e->addr, 16);
    buf[17] = (char)(e->port >> 8);
    buf[18] = (char)(e->port & 255);
    return 19;
}

static size_t str_method(const struct exchange *ex, char *buf, size_t len)
{
    return span_str(&ex->req, ex->req.head.method, buf, len);
}

static size_t str_host(const struct exchange *ex, char *buf, size_t len)
{
    char raw[CANVAS_CELL_MAX];
    host_of(ex, raw, sizeof raw);
    return fold_copy(buf, len, raw, strlen(raw));
}

static size_t str_target(const struct exchange *ex, char *buf, size_t len)
{
    return span_str(&ex->req, ex->req.head.target, buf, len);
}

static size_t str_type(const struct exchange *ex, char *buf, size_t len)
{
    size_t n;
    const uint8_t *v = field(typed_message(ex), HF_CONTENT_TYPE, &n);
    if (!v)
        return 0;
    const uint8_t *name;
    size_t k = short_type(v, n, &name);
    return fold_copy(buf, len, (const char *)name, k);
}

/* String columns key on the first bytes of their sort string. */
#define STRING_KEY(col)                                                                            \
    static uint64_t key_##col(const struct exchange *ex)                                           \
    {                                                                                              \
        char buf[32];                                                                              \
        return flowrow_prefix_key(buf, str_##col(ex, buf, sizeof buf));                            \
    }
STRING_KEY(client)
STRING_KEY(method)
STRING_KEY(target)
STRING_KEY(type)
#undef STRING_KEY

static uint64_t key_host(const struct exchange *ex)
{
    char buf[CANVAS_CELL_MAX];
    return flowrow_prefix_key(buf, str_host(ex, buf, sizeof buf));
}

static uint64_t key_flags(const struct exchange *ex)
{
    uint64_t k = 0;
    if (ex->flags & EX_HELD)
        k |= 1u << 4;
    if (ex->nwarnings)
        k |= 1u << 3;
    if (ex->flags & EX_TRUNCATED || (ex->req.flags | ex->resp.flags) & MSG_TRUNCATED)
        k |= 1u << 2;
    if (ex->flags & EX_GAP)
        k |= 1u << 1;
    if (ex->flags & EX_INCOMPLETE)
        k |= 1u;
    return k << 16 | ex->nwarnings;
}

static uint64_t key_status(const struct exchange *ex)
{
    return (ex->flags & EX_KILLED) ? 0 : (uint64_t)exchange_status(ex); /* as text_status shows */
}

static uint64_t key_size(const struct exchange *ex)
{
    return (ex->resp.flags & MSG_HEAD) ? ex->resp.body_size + 1 : 0;
}

static size_t str_cache(const struct exchange *ex, char *buf, size_t len)
{
    const char *l = ex->cache_done && ex->cache_label ? ex->cache_label : "";
    size_t n = strlen(l) < len ? strlen(l) : len;
    memcpy(buf, l, n);
    return n;
}

static uint64_t key_cache(const struct exchange *ex)
{
    char buf[8];
    return flowrow_prefix_key(buf, str_cache(ex, buf, sizeof buf));
}

static uint64_t key_duration(const struct exchange *ex)
{
    int64_t d = (ex->flags & EX_DONE) ? exchange_duration(ex) : -1;
    return (uint64_t)(d + 1);
}

/* clang-format off */
const struct flowrow_column FLOWROW_COLUMNS[FLOWCOL__COUNT] = {
    [FLOWCOL_MARK]     = {"",       "mark",     1,  1, 0, CELLTEXT_LEFT,  text_mark,     key_id,       NULL,       NULL},
    [FLOWCOL_ID]       = {"#",      "number",   3,  3, 0, CELLTEXT_RIGHT, text_id,       key_id,       NULL,       NULL},
    [FLOWCOL_TIME]     = {"time",   "time",     8, 12, 0, CELLTEXT_LEFT,  text_time,     key_time,     NULL,       fit_time},
    [FLOWCOL_CLIENT]   = {"client", "client",   9, 21, 0, CELLTEXT_LEFT,  text_client,   key_client,   str_client, NULL},
    [FLOWCOL_METHOD]   = {"meth",   "method",   4,  7, 0, CELLTEXT_LEFT,  text_method,   key_method,   str_method, NULL},
    [FLOWCOL_HOST]     = {"host",   "host",     6, 18, 1, CELLTEXT_LEFT,  text_host,     key_host,     str_host,   NULL},
    [FLOWCOL_TARGET]   = {"target", "target",   6, 24, 3, CELLTEXT_LEFT,  text_target,   key_target,   str_target, NULL},
    [FLOWCOL_FLAGS]    = {"",       "flags",    2,  2, 0, CELLTEXT_LEFT,  text_flags,    key_flags,    NULL,       NULL},
    [FLOWCOL_STATUS]   = {"st",     "status",   3,  4, 0, CELLTEXT_LEFT,  text_status,   key_status,   NULL,       NULL},
    [FLOWCOL_TYPE]     = {"type",   "type",     4,  6, 0, CELLTEXT_LEFT,  text_type,     key_type,     str_type,   NULL},
    [FLOWCOL_SIZE]     = {"size",   "size",     4,  6, 0, CELLTEXT_RIGHT, text_size,     key_size,     NULL,       NULL},
    [FLOWCOL_DURATION] = {"dur",    "duration", 4,  6, 0, CELLTEXT_RIGHT, text_duration, key_duration, NULL,       NULL},
    [FLOWCOL_CACHE]    = {"cache",  "cache",    6, 12, 0, CELLTEXT_LEFT,  text_cache,    key_cache,    str_cache,  fit_cache},
};
/* clang-format on */

/* How a row narrows: the least useful columns go first, wide ones shrink before small ones
 * disappear. A step shrinks a column down to `to` cells (0: drops it), or, with `also`, two
 * columns at once, each giving cells in proportion to what it has above its floor, so that the
 * host keeps a useful share beside the target (at 80 columns, 13 or more cells to the target's
 * 19 or more, where the host used to go down to 6 alone). The #, method, target, flags and
 * status columns are never dropped. */
enum { NO_COL = FLOWCOL__COUNT };
static const struct {
    uint8_t col, to;
    uint8_t also, also_to; /* NO_COL: one column */
    bool whole;            /* straight down to `to` (a time to the second), or not at all */
} NARROWING[] = {
    {FLOWCOL_CACHE, 6, NO_COL, 0, false},    {FLOWCOL_CACHE, 0, NO_COL, 0, false},
    {FLOWCOL_CLIENT, 0, NO_COL, 0, false},   {FLOWCOL_TYPE, 0, NO_COL, 0, false},
    {FLOWCOL_TIME, 8, NO_COL, 0, true},      {FLOWCOL_HOST, 12, FLOWCOL_TARGET, 18, false},
    {FLOWCOL_TIME, 0, NO_COL, 0, false},     {FLOWCOL_HOST, 6, FLOWCOL_TARGET, 6, false},
    {FLOWCOL_HOST, 0, NO_COL, 0, false},     {FLOWCOL_SIZE, 0, NO_COL, 0, false},
    {FLOWCOL_DURATION, 0, NO_COL, 0, false}, {FLOWCOL_METHOD, 4, NO_COL, 0, false},
    {FLOWCOL_STATUS, 3, NO_COL, 0, false},
};

static int total_width(const int *w)
{
    int total = 0, shown = 0;
    for (int c = 0; c < FLOWCOL__COUNT; c++) {
        if (w[c]) {
            total += w[c];
            shown++;
        }
    }
    return shown ? total + (shown - 1) * GAP : 0;
}

/* Hands spare cells to the growing columns in proportion to their share. */
static void grow(int *w, int spare)
{
    int shares = 0;
    for (int c = 0; c < FLOWCOL__COUNT; c++)
        if (w[c])
            shares += FLOWROW_COLUMNS[c].grow;
    if (!shares || spare <= 0)
        return;
    int given = 0, last = -1;
    for (int c = 0; c < FLOWCOL__COUNT; c++) {
        if (!w[c] || !FLOWROW_COLUMNS[c].grow)
            continue;
        int add = spare * FLOWROW_COLUMNS[c].grow / shares;
        w[c] += add;
        given += add;
        last = c;
    }
    w[last] += spare - given;
}

/* Takes up to `over` cells from columns a and b down to their floors, from each in proportion
 * to what it has above its floor. */
static void shrink_pair(int *w, int over, int a, int a_to, int b, int b_to)
{
    int ca = w[a] > a_to ? w[a] - a_to : 0, cb = w[b] > b_to ? w[b] - b_to : 0;
    if (over > ca + cb)
        over = ca + cb;
    if (!over)
        return;
    int ta = over * ca / (ca + cb), tb = over - ta;
    if (tb > cb) {
        ta += tb - cb;
        tb = cb;
    }
    w[a] -= ta;
    w[b] -= tb;
}

void flowrow_layout(struct flowrow_layout *l, int width, uint64_t max_id)
{
    memset(l, 0, sizeof *l);
    l->width = width;
    int *w = l->w;
    for (int c = 0; c < FLOWCOL__COUNT; c++)
        w[c] = FLOWROW_COLUMNS[c].ideal;
    char digits[24];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)max_id);
    if (nd > w[FLOWCOL_ID])
        w[FLOWCOL_ID] = nd;
    /* Too wide: drop or shrink columns in this order until the row fits. */
    for (size_t i = 0; i < sizeof NARROWING / sizeof NARROWING[0] && total_width(w) > width; i++) {
        int c = NARROWING[i].col;
        if (!NARROWING[i].to) {
            w[c] = 0;
            continue;
        }
        int over = total_width(w) - width;
        if (NARROWING[i].also == NO_COL) {
            int can = w[c] > NARROWING[i].to ? w[c] - NARROWING[i].to : 0;
            w[c] -= over < can && !NARROWING[i].whole ? over : can;
        } else {
            shrink_pair(w, over, c, NARROWING[i].to, NARROWING[i].also, NARROWING[i].also_to);
        }
    }
    while (total_width(w) > width && w[FLOWCOL_TARGET] > 1)
        w[FLOWCOL_TARGET]--;
    grow(w, width - total_width(w));
    int x = 0;
    for (int c = 0; c < FLOWCOL__COUNT; c++) {
        if (!w[c])
            continue;
        l->x[c] = x;
        x += w[c] + GAP;
    }
}

void flowrow_heading(struct canvas_line *out, const struct flowrow_layout *l, int sort_col,
                     bool descending, const struct glyphs *g)
{
    out->style = STYLE_COLHEAD;
    bool first = true;
    for (int c = 0; c < FLOWCOL__COUNT; c++) {
        if (!l->w[c])
            continue;
        if (!first)
            canvas_pad(out, STYLE_COLHEAD, GAP);
        first = false;
        char title[64];
        snprintf(title, sizeof title, "%s%s", FLOWROW_COLUMNS[c].title,
                 c == sort_col ? (descending ? g->down : g->up) : "");
        canvas_put_fit(out, STYLE_COLHEAD, title, strlen(title), l->w[c], FLOWROW_COLUMNS[c].align,
                       NULL);
    }
    canvas_pad(out, STYLE_COLHEAD, l->width - out->cells);
}

void flowrow_format(struct canvas_line *out, const struct flowrow_layout *l,
                    const struct exchange *ex, uint64_t id, bool marked, const struct glyphs *g)
{
    struct canvas_cell cell;
    char *buf = cell.text;
    bool first = true;
    for (int c = 0; c < FLOWCOL__COUNT; c++) {
        if (!l->w[c])
            continue;
        if (!first)
            canvas_pad(out, STYLE_NORMAL, GAP);
        first = false;
        uint8_t style;
        canvas_cell_clear(&cell);
        if (c == FLOWCOL_MARK) {
            snprintf(buf, CANVAS_CELL_MAX, "%s", marked ? g->mark : "");
            style = STYLE_MARKED;
        } else if (!ex) {
            if (c == FLOWCOL_ID)
                snprintf(buf, CANVAS_CELL_MAX, "%llu", (unsigned long long)id);
            else
                snprintf(buf, CANVAS_CELL_MAX, c == FLOWCOL_METHOD ? "(gone)" : "");
            style = STYLE_DIM;
        } else {
            style = FLOWROW_COLUMNS[c].text(ex, g, &cell);
            if (FLOWROW_COLUMNS[c].fit && celltext_width(buf, strlen(buf)) > l->w[c])
                FLOWROW_COLUMNS[c].fit(&cell, l->w[c], g);
        }
        canvas_put_fit_marked(out, style, buf, strlen(buf), l->w[c], FLOWROW_COLUMNS[c].align,
                              g->ellipsis, cell.mark, cell.nmarks);
    }
    canvas_pad(out, STYLE_NORMAL, l->width - out->cells);
}

void flowrow_text(const struct exchange *ex, bool client, struct dynbuf *out)
{
    char buf[CANVAS_CELL_MAX];
    const struct message *m = &ex->req;
    if (m->flags & MSG_HEAD) {
        dynbuf_append(out, message_at(m, m->head.method), m->head.method.len);
        dynbuf_addc(out, ' ');
        dynbuf_adds(out, host_of(ex, buf, sizeof buf));
        dynbuf_addc(out, ' ');
        dynbuf_append(out, message_at(m, m->head.target), m->head.target.len);
        dynbuf_addc(out, ' ');
    }
    int status = exchange_status(ex);
    if (status) {
        char digits[4] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
                          (char)('0' + status % 10), ' '};
        dynbuf_append(out, digits, sizeof digits);
    }
    size_t n;
    const uint8_t *v = field(typed_message(ex), HF_CONTENT_TYPE, &n);
    if (v) {
        dynbuf_append(out, v, n);
        dynbuf_addc(out, ' ');
    }
    if (client)
        dynbuf_adds(out, endpoint_format(&ex->client, buf, sizeof buf));
}

int flowrow_compare(int col, const struct exchange *a, const struct exchange *b)
{
    const struct flowrow_column *c = &FLOWROW_COLUMNS[col];
    uint64_t ka = c->key(a), kb = c->key(b);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (c->sortstr) {
        char sa[CANVAS_CELL_MAX], sb[CANVAS_CELL_MAX];
        size_t na = c->sortstr(a, sa, sizeof sa), nb = c->sortstr(b, sb, sizeof sb);
        int r = memcmp(sa, sb, na < nb ? na : nb);
        if (r || na != nb)
            return r ? (r < 0 ? -1 : 1) : (na < nb ? -1 : 1);
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

void flowrow_prefetch(const struct store *store, uint64_t near, uint64_t far)
{
    const struct exchange *f = far ? store_get(store, far) : NULL;
    if (f) {
        __builtin_prefetch(&f->flags);
        __builtin_prefetch(&f->req.raw);
        __builtin_prefetch(&f->req.head.headers);
        __builtin_prefetch(&f->resp.head.status);
    }
    const struct exchange *ex = near ? store_get(store, near) : NULL;
    if (ex && ex->req.raw.data) { /* no buffer: a response without a request, say */
        __builtin_prefetch(ex->req.raw.data);
        __builtin_prefetch(ex->req.raw.data + 64); /* the Host line of most requests */
        __builtin_prefetch(ex->req.head.headers);
    }
}
