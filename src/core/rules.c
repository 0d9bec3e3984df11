/*
 * rules owns the rules-file grammar (a table of directives), the compiled rules and the matching
 * of a request against them. It reads no files itself: rules_load goes through the caller's
 * loader, so the parser stays pure and testable.
 */
#include "hspy/rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hspy/options.h"
#include "hspy/response.h"
#include "hspy/xmalloc.h"

/* ---- glob ---- */

enum glob_tok { G_LIT = 0, G_ONE, G_STAR, G_GLOBSTAR };

struct gtok {
    uint8_t kind, c;
};

static size_t glob_compile(const char *p, struct gtok *t)
{
    size_t m = 0;
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            while (*p == '*')
                p++;
            t[m++] = (struct gtok){G_GLOBSTAR, 0};
        } else if (*p == '*') {
            t[m++] = (struct gtok){G_STAR, 0};
            p++;
        } else if (*p == '?') {
            t[m++] = (struct gtok){G_ONE, 0};
            p++;
        } else {
            if (*p == '\\' && p[1])
                p++;
            t[m++] = (struct gtok){G_LIT, (uint8_t)*p++};
        }
    }
    return m;
}

static void glob_closure(const struct gtok *t, size_t m, uint8_t *st)
{
    for (size_t j = 0; j < m; j++)
        if (st[j] && (t[j].kind == G_STAR || t[j].kind == G_GLOBSTAR))
            st[j + 1] = 1;
}

/*
 * A set-of-states simulation: O(len(s) * len(pattern)) whatever the stars, never exponential.
 * For paths '*' and '?' stop at '/'; for header values they match anything.
 */
static bool glob(const char *pattern, const uint8_t *s, size_t n, bool path)
{
    size_t plen = strlen(pattern);
    struct gtok small[128];
    uint8_t sa[129], sb[129];
    bool heap = plen > 128;
    struct gtok *t = heap ? xmalloc(plen * sizeof *t) : small;
    uint8_t *a = heap ? xmalloc(plen + 1) : sa;
    uint8_t *b = heap ? xmalloc(plen + 1) : sb;
    uint8_t *cur = a, *next = b;
    size_t m = glob_compile(pattern, t);
    memset(cur, 0, m + 1);
    cur[0] = 1;
    glob_closure(t, m, cur);
    bool alive = true;
    for (size_t i = 0; i < n && alive; i++) {
        uint8_t ch = s[i];
        memset(next, 0, m + 1);
        alive = false;
        for (size_t j = 0; j < m; j++) {
            if (!cur[j])
                continue;
            switch (t[j].kind) {
            case G_LIT: next[j + 1] |= t[j].c == ch; break;
            case G_ONE: next[j + 1] |= !path || ch != '/'; break;
            case G_STAR: next[j] |= !path || ch != '/'; break;
            default: next[j] = 1; break;
            }
        }
        glob_closure(t, m, next);
        for (size_t j = 0; j <= m; j++)
            alive |= next[j] != 0;
        uint8_t *tmp = cur;
        cur = next;
        next = tmp;
    }
    bool ok = alive && cur[m];
    if (heap) {
        free(t);
        free(a);
        free(b);
    }
    return ok;
}

bool rules_glob(const char *pattern, const uint8_t *s, size_t n)
{
    return glob(pattern, s, n, true);
}

bool rules_glob_value(const char *pattern, const uint8_t *s, size_t n)
{
    return glob(pattern, s, n, false);
}

/* ---- escapes ---- */

static int hexdig(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int rules_unescape(const char *text, uint8_t **out, size_t *len)
{
    size_t n = strlen(text);
    uint8_t *o = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\\') {
            o[j++] = (uint8_t)text[i];
            continue;
        }
        char c = text[++i];
        int a, b;
        switch (c) {
        case 'n': o[j++] = '\n'; break;
        case 'r': o[j++] = '\r'; break;
        case 't': o[j++] = '\t'; break;
        case '0': o[j++] = '\0'; break;
        case '\\': o[j++] = '\\'; break;
        case '@': o[j++] = '@'; break;
        case 'x':
            a = hexdig(text[i + 1]);
            b = a >= 0 ? hexdig(text[i + 2]) : -1;
            if (b < 0) {
                free(o);
                return -1;
            }
            o[j++] = (uint8_t)(a * 16 + b);
            i += 2;
            break;
        default: free(o); return -1;
        }
    }
    o[j] = '\0';
    *out = o;
    *len = j;
    return 0;
}

/* ---- parsing ---- */

struct parse {
    struct rules *r;
    struct rule *cur;
    unsigned line;
    const char *dir; /* folder of the rules file, "" for the current one */
    size_t dirlen;
    bool has_fixed; /* the current rule used status/header/body */
};

typedef int (*directive_fn)(struct parse *ps, const char *arg, char *why, size_t whylen);

struct directive {
    const char *name;
    bool needs_arg;
    directive_fn fn;
};

static int say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Resolves a path against the rules file's folder (absolute paths stay as they are). */
static char *resolve_path(const struct parse *ps, const char *path)
{
    if (path[0] == '/' || ps->dirlen == 0)
        return xstrdup(path);
    return xasprintf("%.*s/%s", (int)ps->dirlen, ps->dir, path);
}

static bool is_tchar(int c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

static int set_action(struct parse *ps, enum rule_action a, const char *what, char *why,
                      size_t whylen)
{
    struct rule *r = ps->cur;
    bool taken = r->action != RULE_FIXED || (ps->has_fixed && a != RULE_FIXED);
    if (taken && r->action != a)
        return say(why, whylen, "'%s' conflicts with the answer this rule already has", what);
    r->action = (uint8_t)a;
    return 0;
}

static int d_match(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (ps->r->n >= RULES_MAX)
        return say(why, whylen, "more than %d rules", RULES_MAX);
    char methods[256], pattern[RULES_LINE_MAX];
    if (sscanf(arg, "%255s %8191[^\n]", methods, pattern) != 2)
        return say(why, whylen, "expected 'match METHODS PATTERN' (e.g. 'match GET /api/*')");
    ps->r->v = xrealloc(ps->r->v, (ps->r->n + 1) * sizeof *ps->r->v);
    struct rule *r = &ps->r->v[ps->r->n++];
    memset(r, 0, sizeof *r);
    ps->cur = r;
    ps->has_fixed = false;
    r->line = ps->line;
    r->status = 200;
    r->expect = -1;
    if (strcmp(methods, "*") != 0) {
        char *save = NULL;
        for (char *m = strtok_r(methods, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            for (const char *c = m; *c; c++)
                if (!is_tchar((unsigned char)*c))
                    return say(why, whylen, "'%s' is not a method name", m);
            r->methods = xrealloc(r->methods, (r->nmethods + 1) * sizeof *r->methods);
            r->methods[r->nmethods++] = xstrdup(m);
        }
    }
    if (pattern[0] == '~') {
        const char *re = pattern + 1;
        while (*re == ' ')
            re++;
        r->pattern = xstrdup(re);
        int rc = regcomp(&r->re, r->pattern, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[200];
            regerror(rc, &r->re, msg, sizeof msg);
            free(r->pattern);
            r->pattern = NULL;
            return say(why, whylen, "invalid regular expression '%s': %s", re, msg);
        }
        r->is_regex = true;
    } else {
        if (pattern[0] != '/' && strcmp(pattern, "*") != 0 && strcmp(pattern, "**") != 0)
            return say(why, whylen, "path pattern '%s' must start with '/' (or '~' for a regex)",
                       pattern);
        r->pattern = xstrdup(pattern);
    }
    return 0;
}

static int d_name(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    free(ps->cur->name);
    ps->cur->name = xstrdup(arg);
    return 0;
}

static int d_if_header(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    struct rule *r = ps->cur;
    struct rule_header h = {0};
    if (arg[0] == '!') {
        h.absent = true;
        arg++;
    }
    const char *colon = strchr(arg, ':');
    size_t nlen = colon ? (size_t)(colon - arg) : strlen(arg);
    while (nlen && arg[nlen - 1] == ' ')
        nlen--;
    if (nlen == 0)
        return say(why, whylen, "expected 'if-header NAME[: VALUE-GLOB]' or 'if-header !NAME'");
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)arg[i]))
            return say(why, whylen, "'%.*s' is not a header name", (int)nlen, arg);
    if (colon && h.absent)
        return say(why, whylen, "'if-header !NAME' takes no value");
    if (r->nwhen >= RULES_HEADERS_MAX)
        return say(why, whylen, "more than %d header conditions", RULES_HEADERS_MAX);
    h.name = xstrndup(arg, nlen);
    if (colon) {
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        h.glob = xstrdup(v);
    }
    r->when = xrealloc(r->when, (r->nwhen + 1) * sizeof *r->when);
    r->when[r->nwhen++] = h;
    return 0;
}

static int d_status(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (set_action(ps, RULE_FIXED, "status", why, whylen))
        return -1;
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || v < 100 || v > 999 || (*end && *end != ' '))
        return say(why, whylen, "status '%s' is not a number from 100 to 999", arg);
    ps->cur->status = (uint16_t)v;
    while (*end == ' ')
        end++;
    free(ps->cur->reason);
    ps->cur->reason = *end ? xstrdup(end) : NULL;
    ps->has_fixed = true;
    return 0;
}

static int d_header(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (set_action(ps, RULE_FIXED, "header", why, whylen))
        return -1;
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg)
        return say(why, whylen, "expected 'header NAME: VALUE'");
    for (const char *c = arg; c < colon; c++)
        if (!is_tchar((unsigned char)*c))
            return say(why, whylen, "'%.*s' is not a header name", (int)(colon - arg), arg);
    struct rule *r = ps->cur;
    if (r->nheaders >= RULES_HEADERS_MAX)
        return say(why, whylen, "more than %d headers", RULES_HEADERS_MAX);
    r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof *r->headers);
    r->headers[r->nheaders++] = xstrdup(arg);
    ps->has_fixed = true;
    return 0;
}

static int d_body(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (set_action(ps, RULE_FIXED, "body", why, whylen))
        return -1;
    struct rule *r = ps->cur;
    ps->has_fixed = true;
    if (arg[0] == '@') {
        if (r->body || r->body_file)
            return say(why, whylen, "a body from a file cannot be combined with other body lines");
        if (!arg[1])
            return say(why, whylen, "expected a file name after '@'");
        r->body_file = resolve_path(ps, arg + 1);
        r->answer_line = ps->line;
        return 0;
    }
    if (r->body_file)
        return say(why, whylen, "a body from a file cannot be combined with other body lines");
    uint8_t *text;
    size_t len;
    if (rules_unescape(arg, &text, &len) != 0)
        return say(why, whylen, "bad escape in body (use \\n \\r \\t \\\\ \\xNN \\@)");
    /* Several body lines make one body, joined by newlines. */
    size_t old = r->body ? r->body_len + 1 : 0;
    r->body = xrealloc(r->body, old + len + 1);
    if (old)
        r->body[old - 1] = '\n';
    memcpy(r->body + old, text, len);
    r->body_len = old + len;
    free(text);
    return 0;
}

static int d_body_file(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    char buf[RULES_LINE_MAX + 2];
    snprintf(buf, sizeof buf, "@%s", arg);
    return d_body(ps, buf, why, whylen);
}

static int d_raw(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (set_action(ps, RULE_RAW, "raw", why, whylen))
        return -1;
    free(ps->cur->raw_file);
    ps->cur->raw_file = resolve_path(ps, arg[0] == '@' ? arg + 1 : arg);
    ps->cur->answer_line = ps->line;
    return 0;
}

static int d_echo(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    (void)arg;
    return set_action(ps, RULE_ECHO, "echo", why, whylen);
}

static int d_serve(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (set_action(ps, RULE_SERVE, "serve", why, whylen))
        return -1;
    free(ps->cur->dir);
    ps->cur->dir = resolve_path(ps, arg);
    ps->cur->answer_line = ps->line;
    return 0;
}

static int exec_common(struct parse *ps, const char *arg, bool shell, char *why, size_t whylen)
{
    if (set_action(ps, RULE_EXEC, shell ? "exec-shell" : "exec", why, whylen))
        return -1;
    free(ps->cur->cmd);
    ps->cur->cmd = xstrdup(arg);
    ps->cur->shell = shell;
    ps->cur->answer_line = ps->line;
    return 0;
}

static int d_exec(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    return exec_common(ps, arg, false, why, whylen);
}

static int d_exec_shell(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    return exec_common(ps, arg, true, why, whylen);
}

static int yes_no(const char *arg, bool *out)
{
    if (!strcmp(arg, "yes") || !strcmp(arg, "on") || !strcmp(arg, "true"))
        *out = true;
    else if (!strcmp(arg, "no") || !strcmp(arg, "off") || !strcmp(arg, "false"))
        *out = false;
    else
        return -1;
    return 0;
}

static int d_fix_length(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    if (yes_no(arg, &ps->cur->fix_length) != 0)
        return say(why, whylen, "expected yes or no");
    return 0;
}

static int d_expect(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || (v != 0 && (v < 100 || v > 999)))
        return say(why, whylen, "expected 100, a final status (e.g. 417) or 0 for no answer");
    ps->cur->expect = (int)v;
    return 0;
}

static int duration(const char *arg, uint64_t *out, char *why, size_t whylen)
{
    if (options_parse_duration_ms(arg, out) != 0)
        return say(why, whylen, "'%s' is not a duration (examples: 250ms, 2s)", arg);
    return 0;
}

static int size(const char *arg, uint64_t *out, char *why, size_t whylen)
{
    if (options_parse_size(arg, out) != 0)
        return say(why, whylen, "'%s' is not a byte count (examples: 0, 100, 4k)", arg);
    return 0;
}

static int d_delay_head(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    return duration(arg, &ps->cur->delivery.delay_head_ms, why, whylen);
}

static int d_delay_body(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    return duration(arg, &ps->cur->delivery.delay_body_ms, why, whylen);
}

static int d_trickle(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    struct delivery *d = &ps->cur->delivery;
    if (delivery_parse_trickle(arg, &d->trickle_bytes, &d->trickle_ms) != 0)
        return say(why, whylen, "expected 'trickle BYTES/TIME' (e.g. 'trickle 16/100ms')");
    return 0;
}

static int d_split(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    char e[200];
    if (delivery_parse_split(arg, &ps->cur->delivery, e, sizeof e) != 0)
        return say(why, whylen, "split: %s (expected e.g. 'split 10,20,5/50ms')", e);
    return 0;
}

static int d_close_after(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    ps->cur->delivery.close_after_set = true;
    return size(arg, &ps->cur->delivery.close_after, why, whylen);
}

static int d_reset_after(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    ps->cur->delivery.reset_after_set = true;
    return size(arg, &ps->cur->delivery.reset_after, why, whylen);
}

static int d_content_length(struct parse *ps, const char *arg, char *why, size_t whylen)
{
    ps->cur->delivery.content_length_set = true;
    return size(arg, &ps->cur->delivery.content_length, why, whylen);
}

static const struct directive DIRECTIVES[] = {
    {"match", true, d_match},
    {"name", true, d_name},
    {"if-header", true, d_if_header},
    {"status", true, d_status},
    {"header", true, d_header},
    {"body", true, d_body},
    {"body-file", true, d_body_file},
    {"raw", true, d_raw},
    {"echo", false, d_echo},
    {"serve", true, d_serve},
    {"exec", true, d_exec},
    {"exec-shell", true, d_exec_shell},
    {"fix-length", true, d_fix_length},
    {"expect", true, d_expect},
    {"delay-head", true, d_delay_head},
    {"delay-body", true, d_delay_body},
    {"trickle", true, d_trickle},
    {"split", true, d_split},
    {"close-after", true, d_close_after},
    {"reset-after", true, d_reset_after},
    {"content-length", true, d_content_length},
};

static const struct directive *find_directive(const char *word)
{
    for (size_t i = 0; i < sizeof DIRECTIVES / sizeof DIRECTIVES[0]; i++)
        if (strcmp(DIRECTIVES[i].name, word) == 0)
            return &DIRECTIVES[i];
    return NULL;
}

/* Checks what a finished rule needs; returns 0 or -1 with why. */
static int finish_rule(struct parse *ps, char *why, size_t whylen)
{
    struct rule *r = ps->cur;
    /* A rule that says nothing about the answer only changes delivery: it answers the echo. */
    if (r->action == RULE_FIXED && !ps->has_fixed)
        r->action = RULE_ECHO;
    if (!r->name)
        r->name = xasprintf("line %u", r->line);
    if (r->action == RULE_RAW && r->nheaders)
        return say(why, whylen, "rule at line %u: 'raw' cannot be combined with 'header'", r->line);
    return 0;
}

static int parse_line(struct parse *ps, char *line, char *why, size_t whylen)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0 || line[0] == '#')
        return 0;
    char *arg = line + strcspn(line, " \t");
    if (*arg)
        *arg++ = '\0';
    while (*arg == ' ' || *arg == '\t')
        arg++;
    const struct directive *d = find_directive(line);
    if (!d)
        return say(why, whylen, "unknown directive '%s'", line);
    if (d->needs_arg && !*arg)
        return say(why, whylen, "'%s' needs a value", d->name);
    if (!d->needs_arg && *arg)
        return say(why, whylen, "'%s' takes no value", d->name);
    if (d->fn != d_match && !ps->cur)
        return say(why, whylen, "'%s' before the first 'match' line", d->name);
    if (d->fn == d_match && ps->cur && finish_rule(ps, why, whylen) != 0)
        return -1;
    return d->fn(ps, arg, why, whylen);
}

int rules_parse(struct rules *r, const char *text, size_t n, const char *file, char *err,
                size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->file = xstrdup(file);
    struct parse ps = {.r = r, .dir = file};
    const char *slash = strrchr(file, '/');
    ps.dirlen = slash ? (size_t)(slash - file) : 0;
    if (slash == file)
        ps.dirlen = 1;
    char line[RULES_LINE_MAX], why[RULES_LINE_MAX / 2];
    size_t i = 0;
    while (i < n) {
        ps.line++;
        const char *eol = memchr(text + i, '\n', n - i);
        size_t len = eol ? (size_t)(eol - (text + i)) : n - i;
        int rc = 0;
        if (len >= sizeof line)
            rc = say(why, sizeof why, "line longer than %d bytes", RULES_LINE_MAX - 1);
        else if (memchr(text + i, '\0', len))
            rc = say(why, sizeof why, "NUL byte in line");
        else {
            memcpy(line, text + i, len);
            line[len] = '\0';
            rc = parse_line(&ps, line, why, sizeof why);
        }
        if (rc != 0) {
            snprintf(err, errlen, "%s:%u: %s", file, ps.line, why);
            rules_cleanup(r);
            r->file = NULL;
            return -1;
        }
        i += len + 1;
    }
    if (ps.cur && finish_rule(&ps, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", file, why);
        rules_cleanup(r);
        return -1;
    }
    if (r->n == 0) {
        snprintf(err, errlen, "%s: no rules (a rule starts with 'match METHODS PATTERN')", file);
        rules_cleanup(r);
        return -1;
    }
    return 0;
}

static void rule_free(struct rule *r)
{
    free(r->name);
    for (size_t i = 0; i < r->nmethods; i++)
        free(r->methods[i]);
    free(r->methods);
    if (r->is_regex)
        regfree(&r->re);
    free(r->pattern);
    for (size_t i = 0; i < r->nwhen; i++) {
        free(r->when[i].name);
        free(r->when[i].glob);
    }
    free(r->when);
    free(r->reason);
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->body);
    free(r->body_file);
    free(r->raw_file);
    free(r->raw);
    free(r->dir);
    free(r->cmd);
}

void rules_cleanup(struct rules *r)
{
    for (size_t i = 0; i < r->n; i++)
        rule_free(&r->v[i]);
    free(r->v);
    free(r->file);
    memset(r, 0, sizeof *r);
}

int rules_load(struct rules *r,
               int (*load)(void *data, const char *path, uint8_t **buf, size_t *len, char *why,
                           size_t whylen),
               void *data, char *err, size_t errlen)
{
    char why[512];
    for (size_t i = 0; i < r->n; i++) {
        struct rule *ru = &r->v[i];
        const char *path = ru->body_file ? ru->body_file : ru->raw_file;
        if (!path)
            continue;
        unsigned line = ru->answer_line ? ru->answer_line : ru->line;
        uint8_t *buf;
        size_t len;
        if (load(data, path, &buf, &len, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%u: cannot read '%s': %s", r->file, line, path, why);
            return -1;
        }
        if (ru->body_file) {
            free(ru->body);
            ru->body = buf;
            ru->body_len = len;
        } else {
            free(ru->raw);
            ru->raw = buf;
            ru->raw_len = len;
        }
        if (ru->raw && !ru->fix_length && len == 0) {
            snprintf(err, errlen, "%s:%u: '%s' is empty", r->file, line, path);
            return -1;
        }
    }
    return 0;
}

/* ---- matching ---- */

static bool header_matches(const struct message *req, const struct rule_header *w)
{
    const uint8_t *base = message_head_base(req);
    bool present = false;
    for (uint32_t i = 0; i < req->head.nheaders; i++) {
        const struct http_header *hd = &req->head.headers[i];
        if (!http_span_ieq(base, hd->name, w->name))
            continue;
        present = true;
        if (!w->glob || rules_glob_value(w->glob, base + hd->value.off, hd->value.len))
            return !w->absent;
    }
    return w->absent ? !present : false;
}

static bool path_matches(const struct rule *r, const uint8_t *path, size_t n)
{
    if (!r->is_regex)
        return rules_glob(r->pattern, path, n);
    char small[1024];
    char *s = n < sizeof small ? small : xmalloc(n + 1);
    memcpy(s, path, n);
    s[n] = '\0';
    bool ok = regexec(&r->re, s, 0, NULL, 0) == 0;
    if (s != small)
        free(s);
    return ok;
}

static bool method_matches(const struct rule *r, const uint8_t *m, size_t n)
{
    if (!r->methods)
        return true;
    for (size_t i = 0; i < r->nmethods; i++)
        if (strlen(r->methods[i]) == n && memcmp(r->methods[i], m, n) == 0)
            return true;
    return false;
}

const struct rule *rules_match(const struct rules *r, const struct message *req)
{
    if (!(req->flags & MSG_HEAD))
        return NULL;
    const uint8_t *method = message_at(req, req->head.method);
    const uint8_t *target = message_at(req, req->head.target);
    size_t tlen = req->head.target.len;
    /* The path as sent: up to '?' or '#', after the authority of an absolute-form target. */
    const uint8_t *path = target;
    if (req->head.flags & HEAD_ABSOLUTE_FORM) {
        const uint8_t *s = memchr(target, '/', tlen);
        if (s && s + 1 < target + tlen && s[1] == '/') {
            const uint8_t *p = memchr(s + 2, '/', (size_t)(target + tlen - s - 2));
            path = p ? p : target + tlen;
        }
    }
    size_t plen = (size_t)(target + tlen - path);
    for (size_t i = 0; i < plen; i++) {
        if (path[i] == '?' || path[i] == '#') {
            plen = i;
            break;
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct rule *ru = &r->v[i];
        if (!method_matches(ru, method, req->head.method.len) || !path_matches(ru, path, plen))
            continue;
        bool ok = true;
        for (size_t k = 0; k < ru->nwhen && ok; k++)
            ok = header_matches(req, &ru->when[k]);
        if (ok)
            return ru;
    }
    return NULL;
}

/* ---- writing rules back as text ---- */

/* Escapes one byte of a body the way rules_unescape reads it back. */
static void escape_byte(struct dynbuf *o, uint8_t c, bool edge)
{
    switch (c) {
    case '\\': dynbuf_adds(o, "\\\\"); return;
    case '\r': dynbuf_adds(o, "\\r"); return;
    case '\t': dynbuf_adds(o, "\\t"); return;
    case '\n': dynbuf_adds(o, "\\n"); return;
    default: break;
    }
    /* Line parsing trims blanks at both ends of a line: keep those as escapes. */
    if (c < 0x20 || c == 0x7f || (edge && c == ' '))
        dynbuf_printf(o, "\\x%02x", c);
    else
        dynbuf_addc(o, c);
}

/*
 * The body as directive lines: a newline between two non-empty pieces becomes the line break
 * that joins body lines; other newlines are written as \n escapes.
 */
static void format_body(struct dynbuf *o, const uint8_t *p, size_t n)
{
    bool open = false; /* a body line is being written */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && open && i + 1 < n) {
            dynbuf_addc(o, '\n');
            open = false;
            continue;
        }
        if (!open) {
            dynbuf_adds(o, "  body ");
            open = true;
            if (p[i] == '@') {
                dynbuf_adds(o, "\\@");
                continue;
            }
        }
        bool edge = i + 1 == n || p[i + 1] == '\n' || o->data[o->len - 1] == ' ';
        escape_byte(o, p[i], edge);
    }
    if (open)
        dynbuf_addc(o, '\n');
}

static void format_match(struct dynbuf *o, const struct rule *r)
{
    dynbuf_adds(o, "match ");
    if (!r->methods)
        dynbuf_addc(o, '*');
    for (size_t i = 0; i < r->nmethods; i++)
        dynbuf_printf(o, "%s%s", i ? "," : "", r->methods[i]);
    dynbuf_printf(o, " %s%s\n", r->is_regex ? "~" : "", r->pattern);
    char dflt[32];
    snprintf(dflt, sizeof dflt, "line %u", r->line);
    if (r->name && strcmp(r->name, dflt) != 0)
        dynbuf_printf(o, "  name %s\n", r->name);
    for (size_t i = 0; i < r->nwhen; i++) {
        const struct rule_header *w = &r->when[i];
        dynbuf_printf(o, "  if-header %s%s%s%s\n", w->absent ? "!" : "", w->name,
                      w->glob ? ": " : "", w->glob ? w->glob : "");
    }
}

static void format_answer(struct dynbuf *o, const struct rule *r)
{
    switch (r->action) {
    case RULE_FIXED:
        dynbuf_printf(o, "  status %u%s%s\n", r->status, r->reason ? " " : "",
                      r->reason ? r->reason : "");
        for (size_t i = 0; i < r->nheaders; i++)
            dynbuf_printf(o, "  header %s\n", r->headers[i]);
        if (r->body)
            format_body(o, r->body, r->body_len);
        else if (r->body_file)
            dynbuf_printf(o, "  body-file %s\n", r->body_file);
        break;
    case RULE_RAW:
        dynbuf_printf(o, "  raw %s\n", r->raw_file ? r->raw_file : "");
        if (r->fix_length)
            dynbuf_adds(o, "  fix-length yes\n");
        break;
    case RULE_ECHO: dynbuf_adds(o, "  echo\n"); break;
    case RULE_SERVE: dynbuf_printf(o, "  serve %s\n", r->dir); break;
    case RULE_EXEC: dynbuf_printf(o, "  %s %s\n", r->shell ? "exec-shell" : "exec", r->cmd); break;
    default: break;
    }
    if (r->expect >= 0)
        dynbuf_printf(o, "  expect %d\n", r->expect);
}

static void format_delivery(struct dynbuf *o, const struct delivery *d)
{
    if (d->delay_head_ms)
        dynbuf_printf(o, "  delay-head %llums\n", (unsigned long long)d->delay_head_ms);
    if (d->delay_body_ms)
        dynbuf_printf(o, "  delay-body %llums\n", (unsigned long long)d->delay_body_ms);
    if (d->trickle_bytes)
        dynbuf_printf(o, "  trickle %llu/%llums\n", (unsigned long long)d->trickle_bytes,
                      (unsigned long long)d->trickle_ms);
    if (d->nsplit) {
        dynbuf_adds(o, "  split ");
        for (size_t i = 0; i < d->nsplit; i++)
            dynbuf_printf(o, "%s%llu", i ? "," : "", (unsigned long long)d->split[i]);
        dynbuf_printf(o, "/%llums\n", (unsigned long long)d->split_ms);
    }
    if (d->close_after_set)
        dynbuf_printf(o, "  close-after %llu\n", (unsigned long long)d->close_after);
    if (d->reset_after_set)
        dynbuf_printf(o, "  reset-after %llu\n", (unsigned long long)d->reset_after);
    if (d->content_length_set)
        dynbuf_printf(o, "  content-length %llu\n", (unsigned long long)d->content_length);
}

int rules_format(struct dynbuf *out, const struct rule *r, char *err, size_t errlen)
{
    struct dynbuf o;
    dynbuf_init(&o, out->max);
    format_match(&o, r);
    format_answer(&o, r);
    format_delivery(&o, &r->delivery);
    size_t start = 0;
    for (size_t i = 0; i <= o.len; i++) {
        if (i < o.len && o.data[i] != '\n')
            continue;
        if (i - start >= RULES_LINE_MAX) {
            snprintf(err, errlen, "a line of the rule would be longer than %d bytes",
                     RULES_LINE_MAX - 1);
            dynbuf_cleanup(&o);
            return -1;
        }
        start = i + 1;
    }
    dynbuf_append(out, o.data, o.len);
    dynbuf_cleanup(&o);
    return 0;
}

/* The response's fields as "Name: value" strings in r (nothing else of r is touched). */
static int response_fields(struct rule *r, const uint8_t *raw, const struct http_head *h, char *err,
                           size_t errlen)
{
    if (h->nheaders > RULES_HEADERS_MAX)
        return say(err, errlen, "more than %d header fields", RULES_HEADERS_MAX);
    r->headers = xcalloc(h->nheaders ? h->nheaders : 1, sizeof *r->headers);
    for (uint32_t i = 0; i < h->nheaders; i++) {
        const struct http_header *f = &h->headers[i];
        if (f->flags & (HDR_FOLDED | HDR_NO_COLON | HDR_BAD_NAME) || !f->name.len)
            return say(err, errlen, "field at offset %u cannot be written as a rule header",
                       f->line);
        for (uint32_t k = 0; k < f->value.len; k++)
            if (raw[f->value.off + k] < 0x20 && raw[f->value.off + k] != '\t')
                return say(err, errlen, "field at offset %u holds a control character", f->line);
        r->headers[r->nheaders++] =
            xasprintf("%.*s: %.*s", (int)f->name.len, (const char *)raw + f->name.off,
                      (int)f->value.len, (const char *)raw + f->value.off);
    }
    return 0;
}

/* The path as an exact glob: '*', '?' and '\' escaped. */
static char *exact_glob(const uint8_t *path, size_t n, char *err, size_t errlen)
{
    if (!n || path[0] != '/') {
        say(err, errlen, "the request path does not start with '/'");
        return NULL;
    }
    struct dynbuf g;
    dynbuf_init(&g, RULES_LINE_MAX);
    for (size_t i = 0; i < n; i++) {
        if (path[i] <= 0x20 || path[i] == 0x7f) {
            say(err, errlen, "the request path holds a blank or control character");
            dynbuf_cleanup(&g);
            return NULL;
        }
        if (path[i] == '*' || path[i] == '?' || path[i] == '\\')
            dynbuf_addc(&g, '\\');
        dynbuf_addc(&g, path[i]);
    }
    return dynbuf_take(&g);
}

int rules_format_response(struct dynbuf *out, const char *name, const char *method,
                          const uint8_t *path, size_t pathlen, const uint8_t *raw, size_t n,
                          char *err, size_t errlen)
{
    struct http_header fields[RULES_HEADERS_MAX + 1];
    struct http_head h = {.headers = fields, .cap = RULES_HEADERS_MAX + 1};
    long head = response_head_len(raw, n);
    int len = head > 0 ? http_head_parse(raw, (size_t)head, HTTP_RESPONSE, NULL, NULL, &h, NULL)
                       : HTTP_INVALID;
    if (len <= 0 || len != head || h.status < 100 || (h.flags & HEAD_BARE_LF))
        return say(err, errlen, "not a single response head with CRLF line ends");
    struct rule r;
    memset(&r, 0, sizeof r);
    r.expect = -1;
    r.action = RULE_FIXED;
    r.status = h.status;
    r.name = xstrdup(name);
    char *m = xstrdup(method);
    r.methods = &m;
    r.nmethods = 1;
    int rc = -1;
    r.pattern = exact_glob(path, pathlen, err, errlen);
    if (r.pattern && response_fields(&r, raw, &h, err, errlen) == 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "%.*s", (int)h.reason.len,
                 (const char *)raw + h.reason.off);
        if (strcmp(reason, response_reason(h.status)) != 0 && reason[0])
            r.reason = xstrdup(reason);
        r.body = (uint8_t *)(raw + head);
        r.body_len = n - (size_t)head;
        if (!r.body_len)
            r.body = NULL;
        rc = rules_format(out, &r, err, errlen);
    }
    r.methods = NULL;
    r.nmethods = 0;
    r.body = NULL;
    free(m);
    rule_free(&r);
    return rc;
}
