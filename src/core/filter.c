/*
 * filter owns the flow filter language: parsing an expression into a small tree of terms and
 * operators, compiling its regular expressions once, and evaluating the tree against
 * exchanges. It never changes an exchange, never keeps a pointer into one and does no I/O.
 *
 * Speed matters because the TUI filters a million exchanges at a keystroke: terms are ordered
 * cheapest first inside every & and |, regular expressions that are plain text (the common
 * case: ~u /api, ~m POST, ~d example\.com) are matched by a case-insensitive substring search
 * instead of regexec, real regular expressions are screened by a substring every match must
 * contain, and text is assembled in stack buffers. Only the body terms allocate (to de-chunk
 * or decode a payload).
 */
#include "hspy/filter.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cache.h"
#include "hspy/decode.h"
#include "hspy/termsafe.h"
#include "hspy/xmalloc.h"

/* ---- compiled form ----------------------------------------------------------------------- */

struct pattern {
    regex_t re;
    bool regex;        /* re is compiled; otherwise lit is the whole pattern */
    bool anchor_start; /* literal only: ^ */
    bool anchor_end;   /* literal only: $ */
    /*
     * The pattern is a literal whose unescaped dots match any one character (DOT_ANY in lit):
     * lit and the anchors match subjects of ASCII text without regexec ("example.com" is the
     * common case), and re, compiled too, matches the rest.
     */
    bool dotted;
    char *lit; /* lower-cased literal; for a regex, a substring every match contains (or NULL) */
    size_t litlen;
};

/* In a dotted literal: any one character. */
static const char DOT_ANY = '\x01';

/* A numeric condition: lo <= v <= hi, or its negation. */
struct range {
    int64_t lo, hi;
    bool negate;
};

enum { WARN_WORDS = (W__COUNT + 63) / 64 };

enum op { OP_AND, OP_OR, OP_NOT, OP_TERM };

enum { SIDE_REQ = 1, SIDE_RESP = 2, SIDE_BOTH = 3 };

/* What a term reads, so filter_match_many can prefetch just that. */
enum need {
    N_EX = 1 << 0,        /* ids, flags, endpoints */
    N_TIME = 1 << 1,      /* timestamps */
    N_REQ = 1 << 2,       /* request message fields (flags, spans, header array pointer) */
    N_RESP = 1 << 3,      /* response message fields */
    N_REQ_SIZE = 1 << 4,  /* request body counters */
    N_RESP_SIZE = 1 << 5, /* response body counters */
    N_REQ_TEXT = 1 << 6,  /* request head bytes and header array */
    N_RESP_TEXT = 1 << 7, /* response head bytes and header array */
    N_WARN = 1 << 8,      /* warnings and error */
};

struct node {
    uint8_t op;   /* enum op */
    uint8_t term; /* OP_TERM: index into TERMS */
    uint8_t cost; /* 0 flags and numbers ... 4 bodies; children are evaluated cheapest first */
    uint8_t sides;
    uint16_t nkids;
    uint32_t kids;        /* OP_AND/OP_OR/OP_NOT: first child in filter.kids */
    uint32_t pat;         /* regex terms: index into filter.pats */
    uint32_t mask, mask2; /* flag terms: exchange and message flags; ~cache: outcome bits */
    struct range range;
    uint64_t warn[WARN_WORDS]; /* ~w CODE: the codes asked for; all zero means any warning */
};

struct filter {
    char *text;
    struct node *nodes;
    size_t nnodes, cap_nodes;
    uint32_t *kids;
    size_t nkids, cap_kids;
    struct pattern *pats;
    size_t npats, cap_pats;
    int root;       /* -1: the empty expression, matching everything */
    unsigned needs; /* enum need bits of every term */
};

/* ---- text helpers ------------------------------------------------------------------------ */

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* needle is lower case; DOT_ANY in it matches any byte (see struct pattern). */
static bool ci_eq(const char *s, const char *needle, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)needle[i] && needle[i] != DOT_ANY)
            return false;
    return true;
}

/*
 * Case-insensitive substring search; needle is lower case and non-empty. Candidates for the
 * first character are found by folding bit 5 for a letter (false hits are re-checked) or by
 * exact comparison; long subjects without case use memchr, whose call costs more than it
 * saves on the short strings of heads.
 */
static bool ci_find(const char *hay, size_t n, const char *needle, size_t m)
{
    enum { MEMCHR_FROM = 128 };
    if (m > n)
        return false;
    unsigned char first = (unsigned char)needle[0];
    unsigned char fold = (first >= 'a' && first <= 'z') ? 0x20 : 0;
    const char *p = hay, *last = hay + (n - m);
    if (first == (unsigned char)DOT_ANY) {
        for (; p <= last; p++)
            if (ci_eq(p, needle, m))
                return true;
        return false;
    }
    if (!fold && n >= MEMCHR_FROM) {
        while (p <= last && (p = memchr(p, first, (size_t)(last - p) + 1)) != NULL) {
            if (ci_eq(p + 1, needle + 1, m - 1))
                return true;
            p++;
        }
        return false;
    }
    for (; p <= last; p++)
        if (((unsigned char)*p | fold) == first && ci_eq(p + 1, needle + 1, m - 1))
            return true;
    return false;
}

/*
 * Text assembled for matching: a stack buffer, spilling to the heap only for the rare line
 * longer than it (header values can reach the head limit).
 */
enum { TEXT_STACK = 1024 };
struct text {
    char *p;
    size_t n, cap;
    char *heap;
    char buf[TEXT_STACK];
};

static void text_init(struct text *t)
{
    t->p = t->buf;
    t->n = 0;
    t->cap = sizeof t->buf;
    t->heap = NULL;
}

static void text_add(struct text *t, const void *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *h = xmalloc(cap);
        memcpy(h, t->p, t->n);
        free(t->heap);
        t->p = t->heap = h;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void text_cleanup(struct text *t)
{
    free(t->heap);
}

/* ---- patterns ---------------------------------------------------------------------------- */

static bool literal_match(const struct pattern *p, const char *s, size_t n)
{
    size_t m = p->litlen;
    if (p->anchor_start && p->anchor_end)
        return n == m && ci_eq(s, p->lit, m);
    if (p->anchor_start)
        return n >= m && ci_eq(s, p->lit, m);
    if (p->anchor_end)
        return n >= m && ci_eq(s + n - m, p->lit, m);
    return m == 0 || ci_find(s, n, p->lit, m);
}

/*
 * True when a dot of a dotted literal matches exactly one byte of s[0..n): no NUL (a dot does not
 * match it) and no byte of a multibyte character.
 */
static bool dot_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] - 1u >= 0x7fu)
            return false;
    return true;
}

/* s[0..n) need not be NUL-terminated and may contain NUL bytes. */
static bool pattern_match(const struct pattern *p, const char *s, size_t n)
{
    if (!p->regex || (p->dotted && dot_safe(s, n)))
        return literal_match(p, s, n);
    if (p->litlen && !p->dotted && !ci_find(s, n, p->lit, p->litlen))
        return false;
#ifdef REG_STARTEND
    regmatch_t m[1] = {{0, (regoff_t)n}};
    return regexec(&p->re, s, 1, m, REG_STARTEND) == 0;
#else
    char *copy = xstrndup(s, n);
    bool hit = regexec(&p->re, copy, 0, NULL, 0) == 0;
    free(copy);
    return hit;
#endif
}

static bool is_meta(char c)
{
    return c && strchr(".[]()*+?{}|^$\\", c) != NULL;
}

/*
 * When pattern is plain text (escaped punctuation allowed, ^ and $ at the ends, unescaped dots
 * as DOT_ANY with dotted set), fills lit/anchors and returns true. Non-ASCII text is left to
 * regcomp, whose case folding follows the locale.
 */
static bool literal_of(const char *src, struct pattern *p)
{
    size_t n = strlen(src), i = 0, k = 0;
    char *lit = xmalloc(n + 1);
    p->anchor_start = n > 0 && src[0] == '^';
    i = p->anchor_start ? 1 : 0;
    for (; i < n; i++) {
        char c = src[i];
        if ((unsigned char)c >= 0x80 || (unsigned char)c < 0x20)
            break;
        if (c == '\\') {
            char e = src[i + 1];
            if (!e || is_alnum(e) || (unsigned char)e >= 0x80 || (unsigned char)e < 0x20)
                break;
            lit[k++] = (char)lower((unsigned char)e);
            i++;
        } else if (c == '$' && i == n - 1) {
            p->anchor_end = true;
        } else if (c == '.') {
            lit[k++] = DOT_ANY;
            p->dotted = true;
        } else if (is_meta(c)) {
            break;
        } else {
            lit[k++] = (char)lower((unsigned char)c);
        }
    }
    if (i < n) {
        free(lit);
        p->anchor_start = p->anchor_end = p->dotted = false;
        return false;
    }
    lit[k] = '\0';
    p->lit = lit;
    p->litlen = k;
    return true;
}

/* Skips a bracket expression starting at src[i] == '['; returns the index after its ']'. */
static size_t skip_bracket(const char *src, size_t i)
{
    size_t n = strlen(src);
    i++;
    if (i < n && src[i] == '^')
        i++;
    if (i < n && src[i] == ']')
        i++;
    while (i < n && src[i] != ']')
        i += (src[i] == '[' && i + 1 < n && strchr(":.=", src[i + 1])) ? 2 : 1;
    return i < n ? i + 1 : n;
}

/*
 * Finds the longest run of plain characters outside any group that every match must contain,
 * for screening subjects before regexec. Conservative: any top-level alternation disables it,
 * and a character followed by ?, * or {} is left out of the run.
 */
static void required_substring(const char *src, struct pattern *p)
{
    size_t n = strlen(src), depth = 0, best = 0, best_at = 0;
    char *run = xmalloc(n + 1), *keep = xmalloc(n + 1);
    size_t rl = 0;
    for (size_t i = 0; i < n; i++)
        if (src[i] == '\\')
            i++;
        else if (src[i] == '[')
            i = skip_bracket(src, i) - 1;
        else if (src[i] == '(')
            depth++;
        else if (src[i] == ')' && depth)
            depth--;
        else if (src[i] == '|' && depth == 0)
            goto done;
    depth = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? src[i] : '\0';
        bool plain = false, quant = c == '?' || c == '*' || c == '{';
        char add = 0;
        if (depth == 0 && c == '\\' && i + 1 < n && !is_alnum(src[i + 1]) &&
            (unsigned char)src[i + 1] < 0x80) {
            add = src[++i];
            plain = true;
        } else if (depth == 0 && c && !is_meta(c) && (unsigned char)c < 0x80) {
            add = c;
            plain = true;
        }
        if (plain) {
            run[rl++] = (char)lower((unsigned char)add);
            continue;
        }
        if (quant && rl > 0)
            rl--; /* the character before ?, * or {} may be absent */
        if (rl > best) {
            best = rl;
            memcpy(keep, run, rl);
            best_at = 1;
        }
        rl = 0;
        if (c == '[')
            i = skip_bracket(src, i) - 1;
        else if (c == '(')
            depth++;
        else if (c == ')' && depth)
            depth--;
        else if (c == '\\')
            i++;
        else if (c == '{')
            while (i < n && src[i] != '}')
                i++;
    }
done:
    free(run);
    if (best_at && best >= 2) {
        keep[best] = '\0';
        p->lit = keep;
        p->litlen = best;
    } else {
        free(keep);
    }
}

/*
 * glibc's regcomp builds its automaton eagerly: every stacked repetition ("a++", "a*{2}")
 * multiplies its memory by about four (22 of them take gigabytes), and nested counted
 * repetitions multiply their bounds. POSIX leaves stacked repetition undefined anyway, so it is
 * refused, as are bounds past FILTER_REPEAT_MAX and patterns whose estimated automaton exceeds
 * FILTER_REGEX_WEIGHT_MAX positions. Returns NULL, or why the pattern is refused.
 */
enum { FILTER_REPEAT_MAX = 255, FILTER_REGEX_WEIGHT_MAX = 100000, GUARD_DEPTH = 64 };

static const char *regex_guard(const char *src)
{
    uint64_t sum[GUARD_DEPTH + 1] = {0}; /* positions so far at each group depth */
    uint64_t last = 0;                   /* positions of the atom a repetition would apply to */
    int d = 0;
    bool repeated = false;
    size_t n = strlen(src);
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        uint64_t times = 0;
        if (c == '*' || c == '+' || c == '?') {
            times = 1;
        } else if (c == '{') {
            unsigned long lo = strtoul(src + i + 1, NULL, 10), hi = lo;
            const char *comma = memchr(src + i, ',', strcspn(src + i, "}"));
            if (comma && comma[1] != '}')
                hi = strtoul(comma + 1, NULL, 10);
            else if (comma)
                hi = lo + 1;
            if (lo > FILTER_REPEAT_MAX || hi > FILTER_REPEAT_MAX)
                return "a repetition bound above 255";
            times = hi ? hi : 1;
            i += strcspn(src + i, "}");
        }
        if (times) {
            if (repeated)
                return "a repetition applied twice in a row (like '++')";
            repeated = true;
            sum[d] += last * (times - 1);
        } else {
            repeated = false;
            if (c == '(' && d < GUARD_DEPTH) {
                sum[++d] = 0;
                last = 0;
                continue;
            }
            if (c == ')' && d > 0) {
                last = sum[d] ? sum[d] : 1;
                sum[--d] += last;
                continue;
            }
            if (c == '\\')
                i++;
            else if (c == '[')
                i = skip_bracket(src, i) - 1;
            last = 1;
            sum[d] += 1;
        }
        for (int k = 0; k <= d; k++)
            if (sum[k] > FILTER_REGEX_WEIGHT_MAX)
                return "nested repetitions too large";
    }
    return NULL;
}

static void pattern_cleanup(struct pattern *p)
{
    if (p->regex)
        regfree(&p->re);
    free(p->lit);
}

/* ---- exchange views ---------------------------------------------------------------------- */

static const char *span_text(const struct message *m, struct http_span s, size_t *n)
{
    *n = s.len;
    return (const char *)message_at(m, s);
}

static const char *field_text(const struct message *m, enum http_field f, size_t *n)
{
    const uint8_t *base = message_head_base(m);
    if (!base) {
        *n = 0;
        return NULL;
    }
    return (const char *)http_head_field(base, &m->head, f, n);
}

/* Host as the flow list shows it; buf holds it when it has to be formatted. */
static const char *host_text(const struct exchange *ex, char *buf, size_t cap, size_t *n)
{
    const struct message *m = &ex->req;
    const char *h = field_text(m, HF_HOST, n);
    if (h)
        return h;
    if (m->flags & MSG_HEAD) {
        size_t tn;
        const char *t = span_text(m, m->head.target, &tn);
        if (m->head.flags & HEAD_AUTHORITY_FORM) {
            *n = tn;
            return t;
        }
        if (m->head.flags & HEAD_ABSOLUTE_FORM) {
            const char *p = memchr(t, ':', tn);
            if (p && (size_t)(t + tn - p) >= 3 && p[1] == '/' && p[2] == '/') {
                const char *a = p + 3, *e = a;
                while (e < t + tn && *e != '/' && *e != '?' && *e != '#')
                    e++;
                *n = (size_t)(e - a);
                return a;
            }
        }
    }
    if (!ex->server.family) {
        *n = 0;
        return NULL;
    }
    endpoint_format(&ex->server, buf, cap);
    *n = strlen(buf);
    return buf;
}

/* ---- term evaluation --------------------------------------------------------------------- */

static const struct pattern *pat_of(const struct filter *f, const struct node *n)
{
    return &f->pats[n->pat];
}

static bool in_range(const struct range *r, int64_t v)
{
    return (v >= r->lo && v <= r->hi) != r->negate;
}

static bool m_all(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f, (void)n, (void)ex;
    return true;
}

static bool m_flag(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    return (ex->flags & n->mask) || ((ex->req.flags | ex->resp.flags) & n->mask2);
}

static bool m_method(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    if (!(ex->req.flags & MSG_HEAD))
        return false;
    size_t len;
    const char *s = span_text(&ex->req, ex->req.head.method, &len);
    return pattern_match(pat_of(f, n), s, len);
}

static bool m_url(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    const struct message *m = &ex->req;
    if (!(m->flags & MSG_HEAD))
        return false;
    size_t tn, hn;
    const char *target = span_text(m, m->head.target, &tn);
    if (pattern_match(pat_of(f, n), target, tn))
        return true;
    if (m->head.flags & (HEAD_ABSOLUTE_FORM | HEAD_AUTHORITY_FORM | HEAD_ASTERISK_FORM))
        return false;
    char hbuf[ENDPOINT_STRLEN];
    const char *host = host_text(ex, hbuf, sizeof hbuf, &hn);
    if (!host)
        return false;
    /*
     * Plain text not found in the target can only occur in the URL by starting in its
     * "http://host" part and running at most litlen-1 bytes into the target.
     */
    const struct pattern *p = pat_of(f, n);
    bool unanchored = !p->regex && !p->anchor_start && !p->anchor_end;
    if (unanchored && tn > p->litlen)
        tn = p->litlen > 0 ? p->litlen - 1 : 0;
    struct text t;
    text_init(&t);
    text_add(&t, "http://", 7);
    text_add(&t, host, hn);
    text_add(&t, target, tn);
    bool hit = pattern_match(pat_of(f, n), t.p, t.n);
    text_cleanup(&t);
    return hit;
}

static bool m_code(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    int status = exchange_status(ex);
    return status > 0 && in_range(&n->range, status);
}

/* Plain text without ':' or ' ' cannot straddle the ": " of a line: search name and value. */
static bool splits_on_colon(const struct pattern *p)
{
    return !p->regex && !p->anchor_start && !p->anchor_end && p->litlen > 0 &&
           !memchr(p->lit, ':', p->litlen) && !memchr(p->lit, ' ', p->litlen);
}

static bool headers_match(const struct pattern *p, const struct message *m)
{
    const uint8_t *base = message_head_base(m);
    if (!base)
        return false;
    bool split = splits_on_colon(p);
    for (uint32_t i = 0; i < m->head.nheaders; i++) {
        const struct http_header *h = &m->head.headers[i];
        if (split) {
            if (ci_find((const char *)base + h->name.off, h->name.len, p->lit, p->litlen) ||
                ci_find((const char *)base + h->value.off, h->value.len, p->lit, p->litlen))
                return true;
            continue;
        }
        struct text t;
        text_init(&t);
        if (!(h->flags & HDR_NO_COLON)) {
            text_add(&t, base + h->name.off, h->name.len);
            text_add(&t, ": ", 2);
        }
        text_add(&t, base + h->value.off, h->value.len);
        bool hit = pattern_match(p, t.p, t.n);
        text_cleanup(&t);
        if (hit)
            return true;
    }
    return false;
}

static bool m_header(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    return ((n->sides & SIDE_REQ) && headers_match(pat_of(f, n), &ex->req)) ||
           ((n->sides & SIDE_RESP) && headers_match(pat_of(f, n), &ex->resp));
}

static bool type_match(const struct pattern *p, const struct message *m)
{
    size_t len;
    const char *v = field_text(m, HF_CONTENT_TYPE, &len);
    return v && pattern_match(p, v, len);
}

static bool m_type(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    return ((n->sides & SIDE_REQ) && type_match(pat_of(f, n), &ex->req)) ||
           ((n->sides & SIDE_RESP) && type_match(pat_of(f, n), &ex->resp));
}

/* The payload as kept, decoded when it has a content coding (FILTER_BODY_MAX at most). */
static bool body_match(const struct pattern *p, const struct message *m)
{
    if (m->raw.len == 0)
        return false;
    if (!(m->flags & MSG_HEAD)) /* HTTP/0.9 or unparseable: every kept byte is payload */
        return pattern_match(p, (const char *)m->raw.data, m->raw.len);
    if (m->body_off >= m->raw.len || m->body_kind == BODY_TUNNEL)
        return false;
    size_t cel;
    const char *ce = field_text(m, HF_CONTENT_ENCODING, &cel);
    bool coded = ce && !(cel == 8 && ci_eq(ce, "identity", 8));
    if (!coded && m->body_kind != BODY_CHUNKED) {
        size_t n = m->raw.len - (size_t)m->body_off;
        if (m->body_kind == BODY_LENGTH && n > m->content_length)
            n = (size_t)m->content_length;
        return pattern_match(p, (const char *)m->raw.data + m->body_off, n);
    }
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct dynbuf out;
    dynbuf_init(&out, FILTER_BODY_MAX);
    if (coded) {
        struct decode_result res;
        decode_message(m, &limits, FILTER_BODY_MAX, &out, &res);
    } else {
        message_body(m, &out, &limits);
    }
    bool hit = pattern_match(p, out.data ? (const char *)out.data : "", out.len);
    dynbuf_cleanup(&out);
    return hit;
}

static bool m_body(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    return ((n->sides & SIDE_REQ) && body_match(pat_of(f, n), &ex->req)) ||
           ((n->sides & SIDE_RESP) && body_match(pat_of(f, n), &ex->resp));
}

static bool m_domain(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    char buf[ENDPOINT_STRLEN];
    size_t len;
    const char *h = host_text(ex, buf, sizeof buf, &len);
    return h && pattern_match(pat_of(f, n), h, len);
}

static bool m_address(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    const struct endpoint *e = (n->sides & SIDE_REQ) ? &ex->client : &ex->server;
    if (!e->family)
        return false;
    char buf[ENDPOINT_STRLEN];
    endpoint_format(e, buf, sizeof buf);
    return pattern_match(pat_of(f, n), buf, strlen(buf));
}

static bool m_no_response(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f, (void)n;
    return (ex->req.flags & MSG_STARTED) && !(ex->resp.flags & MSG_STARTED);
}

static bool m_response(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f, (void)n;
    return ex->resp.flags & MSG_STARTED;
}

static bool m_error(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f, (void)n;
    return ex->error || (ex->flags & (EX_UPSTREAM_FAIL | EX_KILLED | EX_TIMEOUT | EX_CLIENT_ABORT |
                                      EX_REJECTED));
}

static bool m_warn(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    bool any = false;
    for (int i = 0; i < WARN_WORDS; i++)
        any |= n->warn[i] != 0;
    if (!any)
        return ex->nwarnings > 0 || ex->warnings_dropped > 0;
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        unsigned c = ex->warnings[i].code;
        if (c < W__COUNT && (n->warn[c / 64] >> (c % 64) & 1))
            return true;
    }
    return false;
}

static int64_t clamp64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static bool m_size(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    uint64_t v = 0;
    if (n->sides & SIDE_REQ)
        v += ex->req.body_size;
    if (n->sides & SIDE_RESP)
        v += ex->resp.body_size;
    return in_range(&n->range, clamp64(v));
}

static bool m_duration(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    int64_t d = exchange_duration(ex);
    return d >= 0 && in_range(&n->range, d);
}

static bool m_conn(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    return in_range(&n->range, clamp64(ex->conn_id));
}

static bool m_id(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    return in_range(&n->range, clamp64(ex->id));
}

static bool m_cache(const struct filter *f, const struct node *n, const struct exchange *ex)
{
    (void)f;
    if (ex->cache_done)
        return (ex->cache_outcomes & n->mask) != 0; /* recorded when the exchange completed */
    struct cache_report r;
    cache_analyze(ex, &r);
    return (r.outcomes & n->mask) != 0;
}

/* ---- the term table ---------------------------------------------------------------------- */

enum arg_kind {
    ARG_NONE,
    ARG_REGEX,
    ARG_CODE,     /* status: 404, 5xx, comparisons, ranges */
    ARG_COUNT,    /* plain integer, comparisons, ranges */
    ARG_SIZE,     /* bytes with k/m/g */
    ARG_DURATION, /* ns/us/ms/s/m/h */
    ARG_WARN,     /* optional warning code or prefix* */
    ARG_CACHE,    /* cache outcome word */
};

/* The cost the table below gives the terms that read bodies: the highest. */
enum { COST_BODY = 4 };

struct term_def {
    const char *name;
    uint8_t arg;  /* enum arg_kind */
    uint8_t cost; /* 0 reads a field, 1 short text, 2 headers/URL text, 3 cache analysis,
                     COST_BODY body */
    uint8_t sides;
    uint16_t needs; /* enum need: what filter_match_many prefetches for it */
    uint32_t ex_flags, msg_flags;
    bool (*match)(const struct filter *f, const struct node *n, const struct exchange *ex);
    const char *syntax, *help;
};

/* Needs of terms reading head text on one or both sides. */
#define QTEXT (N_REQ | N_REQ_TEXT)
#define STEXT (N_RESP | N_RESP_TEXT)
#define BTEXT (QTEXT | STEXT)
#define ANY   0xffff

#define FLAG(name, exf, msgf, help)                                                                \
    {                                                                                              \
        name, ARG_NONE, 0, 0, N_EX | ((msgf) ? N_REQ | N_RESP : 0), exf, msgf, m_flag, "~" name,   \
            help                                                                                   \
    }

/* clang-format off */
static const struct term_def TERMS[] = {
    {"all",   ARG_NONE,     0, 0,         0,              0, 0, m_all,         "~all",
     "every exchange"},
    {"m",     ARG_REGEX,    1, 0,         QTEXT,          0, 0, m_method,      "~m REGEX",
     "request method"},
    {"u",     ARG_REGEX,    2, 0,         QTEXT | N_EX,   0, 0, m_url,         "~u REGEX",
     "request target or absolute URL (a bare word means ~u)"},
    {"c",     ARG_CODE,     0, 0,         N_RESP,         0, 0, m_code,        "~c CODE",
     "final response status: 404, 5xx, >=400, 200-299"},
    {"h",     ARG_REGEX,    2, SIDE_BOTH, BTEXT,          0, 0, m_header,      "~h REGEX",
     "a request or response header line \"Name: value\""},
    {"hq",    ARG_REGEX,    2, SIDE_REQ,  QTEXT,          0, 0, m_header,      "~hq REGEX",
     "a request header line"},
    {"hs",    ARG_REGEX,    2, SIDE_RESP, STEXT,          0, 0, m_header,      "~hs REGEX",
     "a response header line"},
    {"b",     ARG_REGEX,    4, SIDE_BOTH, BTEXT,          0, 0, m_body,        "~b REGEX",
     "request or response body (decoded when it has a content coding)"},
    {"bq",    ARG_REGEX,    4, SIDE_REQ,  QTEXT,          0, 0, m_body,        "~bq REGEX",
     "request body"},
    {"bs",    ARG_REGEX,    4, SIDE_RESP, STEXT,          0, 0, m_body,        "~bs REGEX",
     "response body"},
    {"t",     ARG_REGEX,    2, SIDE_BOTH, BTEXT,          0, 0, m_type,        "~t REGEX",
     "request or response Content-Type"},
    {"tq",    ARG_REGEX,    2, SIDE_REQ,  QTEXT,          0, 0, m_type,        "~tq REGEX",
     "request Content-Type"},
    {"ts",    ARG_REGEX,    2, SIDE_RESP, STEXT,          0, 0, m_type,        "~ts REGEX",
     "response Content-Type"},
    {"d",     ARG_REGEX,    2, 0,         QTEXT | N_EX,   0, 0, m_domain,      "~d REGEX",
     "host: Host header, else the target's authority, else the server address"},
    {"src",   ARG_REGEX,    2, SIDE_REQ,  N_EX,           0, 0, m_address,     "~src REGEX",
     "client address (ip:port)"},
    {"dst",   ARG_REGEX,    2, SIDE_RESP, N_EX,           0, 0, m_address,     "~dst REGEX",
     "server address (ip:port)"},
    {"q",     ARG_NONE,     0, 0,         N_REQ | N_RESP, 0, 0, m_no_response, "~q",
     "request without a response (yet)"},
    {"s",     ARG_NONE,     0, 0,         N_RESP,         0, 0, m_response,    "~s",
     "has a response"},
    {"e",     ARG_NONE,     0, 0,         N_EX | N_WARN,  0, 0, m_error,       "~e",
     "failed: upstream error, timeout, abort, killed or rejected"},
    {"w",     ARG_WARN,     0, 0,         N_WARN,         0, 0, m_warn,        "~w [CODE]",
     "has warnings; with a code (cl-and-te) or prefix (cache-*), that warning"},
    {"size",  ARG_SIZE,     0, SIDE_BOTH, N_REQ_SIZE | N_RESP_SIZE, 0, 0, m_size, "~size CMP",
     "request + response body bytes: >10k, <=1m, 1k-2m"},
    {"sizeq", ARG_SIZE,     0, SIDE_REQ,  N_REQ_SIZE,     0, 0, m_size,        "~sizeq CMP",
     "request body bytes"},
    {"sizes", ARG_SIZE,     0, SIDE_RESP, N_RESP_SIZE,    0, 0, m_size,        "~sizes CMP",
     "response body bytes"},
    {"dur",   ARG_DURATION, 0, 0,         N_TIME,         0, 0, m_duration,    "~dur CMP",
     "first request byte to last response byte: >1s, <=50ms"},
    {"conn",  ARG_COUNT,    0, 0,         N_EX,           0, 0, m_conn,        "~conn N",
     "connection number (comparisons too)"},
    {"id",    ARG_COUNT,    0, 0,         N_EX,           0, 0, m_id,          "~id N",
     "exchange number (comparisons too)"},
    {"cache", ARG_CACHE,    3, 0,         ANY,            0, 0, m_cache,       "~cache OUTCOME",
     "cache analysis: fresh, stale, no-store, private, shared, revalidate, ..."},
    FLAG("tunnel", EX_TUNNEL, 0, "the connection became a tunnel (CONNECT, Upgrade)"),
    FLAG("held", EX_HELD, 0, "held by an intercept right now"),
    FLAG("intercepted", EX_INTERCEPTED, 0, "was held by an intercept"),
    FLAG("edited", EX_EDITED, MSG_EDITED, "a message was edited before it was sent"),
    FLAG("replay", EX_REPLAY, 0, "created by a replay"),
    FLAG("killed", EX_KILLED, 0, "the connection was killed (by the user or a hold timeout)"),
    FLAG("timeout", EX_TIMEOUT, 0, "a peer timed out"),
    FLAG("aborted", EX_CLIENT_ABORT, 0, "the client went away early"),
    FLAG("rejected", EX_REJECTED, 0, "hspy answered an error because framing was impossible"),
    FLAG("incomplete", EX_INCOMPLETE, 0, "ended before both messages completed"),
    FLAG("truncated", EX_TRUNCATED, MSG_TRUNCATED | MSG_SNAPLEN | MSG_HEAD_LIMIT,
         "some bytes were counted but not kept"),
    FLAG("gap", EX_GAP, MSG_GAP, "the capture was missing bytes"),
    FLAG("orphan", EX_NO_REQUEST, 0, "a response without a request"),
    FLAG("done", EX_DONE, 0, "no more bytes will be added"),
    FLAG("http09", 0, MSG_HTTP09, "HTTP/0.9"),
    FLAG("unparsed", 0, MSG_UNPARSED, "bytes that could not be parsed as HTTP"),
};
/* clang-format on */

enum { NTERMS = sizeof TERMS / sizeof TERMS[0] };

bool filter_term_info(size_t i, const char **syntax, const char **help)
{
    if (i >= NTERMS)
        return false;
    *syntax = TERMS[i].syntax;
    *help = TERMS[i].help;
    return true;
}

/* ---- parser ------------------------------------------------------------------------------ */

struct parser {
    const char *s;
    size_t len, pos;
    struct filter *f;
    char msg[256];
    size_t errpos;
    bool failed;
    unsigned depth;
};

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = true;
    p->errpos = pos;
    /* The message quotes the expression, which may hold any byte: it is made one safe line. */
    char text[sizeof p->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    termsafe_str(p->msg, sizeof p->msg, (const uint8_t *)text, len, 0);
    return -1;
}

static char peek(const struct parser *p)
{
    return p->pos < p->len ? p->s[p->pos] : '\0';
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

static int new_node(struct parser *p, enum op op, size_t at)
{
    struct filter *f = p->f;
    if (f->nnodes >= FILTER_NODES_MAX)
        return fail(p, at, "expression too large (more than %d terms and operators)",
                    FILTER_NODES_MAX);
    f->nodes = xgrow(f->nodes, &f->cap_nodes, f->nnodes + 1, sizeof *f->nodes);
    struct node *n = &f->nodes[f->nnodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    return (int)f->nnodes++;
}

/* Makes an AND/OR/NOT node over kids, ordered cheapest first (evaluation is pure). */
static int group_node(struct parser *p, enum op op, const uint32_t *kids, size_t nk, size_t at)
{
    int id = new_node(p, op, at);
    if (id < 0)
        return -1;
    struct filter *f = p->f;
    f->kids = xgrow(f->kids, &f->cap_kids, f->nkids + nk, sizeof *f->kids);
    uint32_t *dst = f->kids + f->nkids;
    uint8_t cost = 0;
    for (size_t i = 0; i < nk; i++) {
        uint32_t k = kids[i];
        size_t j = i;
        while (j > 0 && f->nodes[dst[j - 1]].cost > f->nodes[k].cost) {
            dst[j] = dst[j - 1];
            j--;
        }
        dst[j] = k;
        if (f->nodes[k].cost > cost)
            cost = f->nodes[k].cost;
    }
    struct node *n = &f->nodes[id];
    n->kids = (uint32_t)f->nkids;
    n->nkids = (uint16_t)nk;
    n->cost = cost;
    f->nkids += nk;
    return id;
}

static bool term_start(char c)
{
    return c && c != '|' && c != '&' && c != ')';
}

/*
 * Reads a term's argument: a quoted string ("..." with \" and \\ escapes, or '...' taken
 * literally) or a run of characters ending at whitespace, or at |, & or ) outside parentheses.
 * Returns a malloc'ed string, or NULL (no argument here, or a syntax error already reported).
 */
static char *read_arg(struct parser *p, size_t *at)
{
    skip_ws(p);
    *at = p->pos;
    char c = peek(p);
    if (c == '"' || c == '\'') {
        char *out = xmalloc(p->len - p->pos + 1);
        size_t k = 0;
        p->pos++;
        while (p->pos < p->len && p->s[p->pos] != c) {
            if (c == '"' && p->s[p->pos] == '\\' && p->pos + 1 < p->len &&
                (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\'))
                p->pos++;
            out[k++] = p->s[p->pos++];
        }
        if (p->pos >= p->len) {
            free(out);
            fail(p, *at, "unterminated quote");
            return NULL;
        }
        p->pos++;
        out[k] = '\0';
        return out;
    }
    if (!term_start(c) || (c == '~' && is_alnum(p->s[p->pos + 1])))
        return NULL;
    int depth = 0;
    while (p->pos < p->len) {
        char ch = p->s[p->pos];
        if (is_space(ch) || ((ch == '|' || ch == '&') && depth == 0))
            break;
        if (ch == '(')
            depth++;
        else if (ch == ')' && depth-- == 0)
            break;
        p->pos++;
    }
    return xstrndup(p->s + *at, p->pos - *at);
}

static int add_pattern(struct parser *p, const char *src, size_t at)
{
    struct pattern pat;
    memset(&pat, 0, sizeof pat);
    bool literal = literal_of(src, &pat);
    if (!literal || pat.dotted) {
        const char *refused = regex_guard(src);
        if (refused) {
            free(pat.lit);
            return fail(p, at, "regular expression refused: %s", refused);
        }
        int rc = regcomp(&pat.re, src, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char why[96];
            regerror(rc, &pat.re, why, sizeof why);
            free(pat.lit);
            return fail(p, at, "bad regular expression: %s", why);
        }
        pat.regex = true;
        if (!literal)
            required_substring(src, &pat);
    }
    struct filter *f = p->f;
    f->pats = xgrow(f->pats, &f->cap_pats, f->npats + 1, sizeof *f->pats);
    f->pats[f->npats] = pat;
    return (int)f->npats++;
}

/* ---- numbers, sizes, durations ----------------------------------------------------------- */

struct unit {
    const char *name;
    int64_t mult;
};

static const char SIZE_HINT[] = "b, k, m, g, t";
static const char DURATION_HINT[] = "ns, us, ms, s, m, h";

static const struct unit SIZE_UNITS[] = {{"", 1},           {"b", 1},           {"k", 1 << 10},
                                         {"kb", 1 << 10},   {"kib", 1 << 10},   {"m", 1 << 20},
                                         {"mb", 1 << 20},   {"mib", 1 << 20},   {"g", 1ll << 30},
                                         {"gb", 1ll << 30}, {"gib", 1ll << 30}, {"t", 1ll << 40},
                                         {"tb", 1ll << 40}, {"tib", 1ll << 40}, {NULL, 0}};

static const struct unit DURATION_UNITS[] = {
    {"ns", 1},
    {"us", 1000},
    {"ms", 1000000},
    {"s", 1000000000},
    {"sec", 1000000000},
    {"m", 60ll * 1000000000},
    {"min", 60ll * 1000000000},
    {"h", 3600ll * 1000000000},
    {NULL, 0},
};

/* A decimal number with an optional fraction and a unit, scaled; -1 on error (reported). */
static int scaled(struct parser *p, const char *s, size_t n, size_t at, const struct unit *units,
                  const char *what, const char *hint, int64_t *out)
{
    size_t i = 0;
    int64_t whole = 0, frac = 0, scale = 1;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (whole > (INT64_MAX - 9) / 10)
            return fail(p, at, "number too large");
        whole = whole * 10 + (s[i++] - '0');
    }
    if (i == 0)
        return fail(p, at, "expected a number, found '%.*s'", (int)(n < 20 ? n : 20), s);
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (scale < 1000000000) {
                frac = frac * 10 + (s[i] - '0');
                scale *= 10;
            }
    }
    size_t ul = n - i;
    for (const struct unit *u = units; u->name; u++) {
        if (strlen(u->name) != ul || !ci_eq(s + i, u->name, ul))
            continue;
        if (whole > INT64_MAX / u->mult)
            return fail(p, at, "number too large");
        *out = whole * u->mult + (int64_t)((double)frac * (double)u->mult / (double)scale);
        return 0;
    }
    if (ul == 0)
        return fail(p, at + i, "a %s needs a unit (%s)", what, hint);
    return fail(p, at + i, "unknown %s unit '%.*s' (use %s)", what, (int)(ul < 10 ? ul : 10), s + i,
                hint);
}

/* Digits only, at most 18 of them. */
static bool whole_number(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* One value of a numeric term as the inclusive range it stands for ("5xx" is 500..599). */
static int value_range(struct parser *p, const struct term_def *d, const char *s, size_t n,
                       size_t at, int64_t *lo, int64_t *hi)
{
    switch (d->arg) {
    case ARG_CODE:
        if (n == 3 && s[0] >= '1' && s[0] <= '9' && (s[1] | 32) == 'x' && (s[2] | 32) == 'x') {
            *lo = (s[0] - '0') * 100;
            *hi = *lo + 99;
            return 0;
        }
        if (n != 3 || !whole_number(s, n, lo) || *lo < 100)
            return fail(p, at, "~%s expects a status code like 404, 5xx or >=400", d->name);
        *hi = *lo;
        return 0;
    case ARG_COUNT:
        if (!whole_number(s, n, lo))
            return fail(p, at, "~%s expects a whole number", d->name);
        *hi = *lo;
        return 0;
    case ARG_SIZE:
        if (scaled(p, s, n, at, SIZE_UNITS, "size", SIZE_HINT, lo) < 0)
            return -1;
        *hi = *lo;
        return 0;
    default:
        if (scaled(p, s, n, at, DURATION_UNITS, "duration", DURATION_HINT, lo) < 0)
            return -1;
        *hi = *lo;
        return 0;
    }
}

/* [op] VALUE or VALUE-VALUE, with op one of = == != > >= < <=. */
static int parse_comparison(struct parser *p, const struct term_def *d, struct node *out)
{
    skip_ws(p);
    size_t at = p->pos;
    static const char *const OPS[] = {">=", "<=", "!=", "==", ">", "<", "="};
    const char *op = "=";
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strncmp(p->s + p->pos, OPS[i], strlen(OPS[i])) == 0) {
            op = OPS[i];
            p->pos += strlen(OPS[i]);
            break;
        }
    skip_ws(p);
    size_t vs = p->pos;
    while (p->pos < p->len && !is_space(p->s[p->pos]) && !strchr(")|&", p->s[p->pos]))
        p->pos++;
    size_t vn = p->pos - vs;
    if (vn == 0)
        return fail(p, vs, "~%s needs a value, e.g. %s", d->name, d->syntax);
    const char *v = p->s + vs;
    const char *dash = vn > 1 ? memchr(v + 1, '-', vn - 1) : NULL;
    int64_t lo, hi, lo2, hi2;
    struct range *r = &out->range;
    if (dash && strcmp(op, "=") == 0 && vs == at) {
        size_t ln = (size_t)(dash - v);
        if (value_range(p, d, v, ln, vs, &lo, &hi) < 0 ||
            value_range(p, d, dash + 1, vn - ln - 1, vs + ln + 1, &lo2, &hi2) < 0)
            return -1;
        if (lo > hi2)
            return fail(p, vs, "empty range: %.*s", (int)vn, v);
        *r = (struct range){lo, hi2, false};
        return 0;
    }
    if (value_range(p, d, v, vn, vs, &lo, &hi) < 0)
        return -1;
    if (op[0] == '>')
        *r = (struct range){op[1] ? lo : (hi == INT64_MAX ? hi : hi + 1), INT64_MAX, false};
    else if (op[0] == '<')
        *r = (struct range){INT64_MIN, op[1] ? hi : lo - 1, false};
    else
        *r = (struct range){lo, hi, op[0] == '!'};
    return 0;
}

/* ---- term arguments ---------------------------------------------------------------------- */

static int parse_warn_arg(struct parser *p, struct node *n)
{
    skip_ws(p);
    char c = peek(p);
    if (!term_start(c) || c == '!' || c == '(' || c == '~')
        return 0; /* plain ~w: any warning */
    size_t at;
    char *w = read_arg(p, &at);
    if (!w)
        return p->failed ? -1 : 0;
    size_t wl = strlen(w);
    bool prefix = wl > 0 && w[wl - 1] == '*';
    int hits = 0;
    for (int code = 1; code < W__COUNT; code++) {
        const char *name = warning_name((enum warning_code)code);
        bool hit = prefix ? strncmp(name, w, wl - 1) == 0 : strcmp(name, w) == 0;
        if (hit) {
            n->warn[code / 64] |= 1ull << (code % 64);
            hits++;
        }
    }
    int rc = 0;
    if (!hits)
        rc = fail(p, at,
                  prefix ? "no warning code starts with '%.*s'" : "unknown warning code '%.*s'",
                  (int)(prefix ? wl - 1 : wl), w);
    free(w);
    return rc;
}

static int parse_cache_arg(struct parser *p, struct node *n)
{
    size_t at;
    char *w = read_arg(p, &at);
    if (!w)
        return p->failed ? -1 : fail(p, at, "~cache needs an outcome, e.g. ~cache stale");
    n->mask = cache_outcome_by_name(w, strlen(w));
    if (!n->mask) {
        char names[160] = "";
        size_t k = 0;
        for (int i = 0; i < CACHE_OUTCOME_COUNT && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                                  cache_outcome_name((enum cache_outcome)(1u << i)));
        fail(p, at, "unknown cache outcome '%s' (one of: %s)", w, names);
    }
    free(w);
    return n->mask ? 0 : -1;
}

static int parse_regex_arg(struct parser *p, const struct term_def *d, struct node *n)
{
    size_t at;
    char *src = read_arg(p, &at);
    if (!src)
        return p->failed ? -1 : fail(p, at, "~%s needs a regular expression", d->name);
    int pat = add_pattern(p, src, at);
    free(src);
    if (pat < 0)
        return -1;
    n->pat = (uint32_t)pat;
    return 0;
}

/* ---- terms and operators ----------------------------------------------------------------- */

static const struct term_def *term_by_name(const char *name, size_t n)
{
    for (size_t i = 0; i < NTERMS; i++)
        if (strlen(TERMS[i].name) == n && ci_eq(name, TERMS[i].name, n))
            return &TERMS[i];
    return NULL;
}

static int unknown_term(struct parser *p, size_t at, const char *name, size_t n)
{
    /* "~c5xx" is a forgotten space more often than an unknown term. */
    for (size_t k = n - 1; k > 0; k--) {
        const struct term_def *d = term_by_name(name, k);
        if (d && d->arg != ARG_NONE)
            return fail(p, at, "unknown term ~%.*s (did you mean ~%s %.*s?)", (int)n, name, d->name,
                        (int)(n - k), name + k);
    }
    return fail(p, at,
                "unknown term ~%.*s (see FILTER EXPRESSIONS in hspy(1), or ? in the interface)",
                (int)n, name);
}

static int parse_term(struct parser *p)
{
    size_t at = p->pos++;
    size_t ns = p->pos;
    while (p->pos < p->len && is_alnum(p->s[p->pos]))
        p->pos++;
    size_t nl = p->pos - ns;
    if (nl == 0)
        return fail(p, at, "'~' must be followed by a term name such as ~u or ~c");
    const struct term_def *d = term_by_name(p->s + ns, nl);
    if (!d)
        return unknown_term(p, at, p->s + ns, nl);
    int id = new_node(p, OP_TERM, at);
    if (id < 0)
        return -1;
    struct node *n = &p->f->nodes[id];
    n->term = (uint8_t)(d - TERMS);
    n->cost = d->cost;
    n->sides = d->sides;
    n->mask = d->ex_flags;
    n->mask2 = d->msg_flags;
    p->f->needs |= d->needs;
    int rc = 0;
    switch (d->arg) {
    case ARG_NONE: break;
    case ARG_REGEX: rc = parse_regex_arg(p, d, n); break;
    case ARG_WARN: rc = parse_warn_arg(p, n); break;
    case ARG_CACHE: rc = parse_cache_arg(p, n); break;
    default: rc = parse_comparison(p, d, n); break;
    }
    return rc < 0 ? -1 : id;
}

/* A bare word or quoted string: ~u with that text. */
static int parse_word(struct parser *p)
{
    size_t at = p->pos;
    int id = new_node(p, OP_TERM, at);
    if (id < 0)
        return -1;
    const struct term_def *d = term_by_name("u", 1);
    struct node *n = &p->f->nodes[id];
    n->term = (uint8_t)(d - TERMS);
    n->cost = d->cost;
    p->f->needs |= d->needs;
    return parse_regex_arg(p, d, n) < 0 ? -1 : id;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
    skip_ws(p);
    size_t at = p->pos;
    char c = peek(p);
    if (p->pos >= p->len)
        return fail(p, at, "expected a term at the end of the expression");
    if (c == ')' || c == '|' || c == '&')
        return fail(p, at, "expected a term before '%c'", c);
    if (c == '!' || c == '(') {
        if (++p->depth > FILTER_DEPTH_MAX)
            return fail(p, at, "nested too deeply (more than %d levels)", FILTER_DEPTH_MAX);
        p->pos++;
        int kid = c == '!' ? parse_unary(p) : parse_or(p);
        p->depth--;
        if (kid < 0)
            return -1;
        if (c == '!') {
            uint32_t k = (uint32_t)kid;
            return group_node(p, OP_NOT, &k, 1, at);
        }
        skip_ws(p);
        /* Named where it opens, as a stray ')' is: the offset says which '(' of several, and
         * the message names no offset of its own (callers print errpos beside it). */
        if (peek(p) != ')')
            return fail(p, at, "'(' without a matching ')'");
        p->pos++;
        return kid;
    }
    if (c == '~')
        return parse_term(p);
    return parse_word(p);
}

/* Parses one or more operands joined by sep ('&' also by juxtaposition) into one node. */
static int parse_list(struct parser *p, char sep, int (*operand)(struct parser *))
{
    size_t at = p->pos, n = 0, cap = 0;
    uint32_t *kids = NULL;
    int id = -1;
    for (;;) {
        int k = operand(p);
        if (k < 0)
            goto out;
        kids = xgrow(kids, &cap, n + 1, sizeof *kids);
        kids[n++] = (uint32_t)k;
        skip_ws(p);
        char c = peek(p);
        if (c == sep)
            p->pos++;
        else if (!(sep == '&' && term_start(c)))
            break;
    }
    id = n == 1 ? (int)kids[0] : group_node(p, sep == '&' ? OP_AND : OP_OR, kids, n, at);
out:
    free(kids);
    return id;
}

static int parse_and(struct parser *p)
{
    return parse_list(p, '&', parse_unary);
}

static int parse_or(struct parser *p)
{
    return parse_list(p, '|', parse_and);
}

/* ---- public interface -------------------------------------------------------------------- */

struct filter *filter_compile(const char *expr, char *err, size_t errlen, size_t *errpos)
{
    if (!expr)
        expr = "";
    struct filter *f = xcalloc(1, sizeof *f);
    f->text = xstrdup(expr);
    f->root = -1;
    struct parser p = {.s = expr, .len = strlen(expr), .f = f};
    if (p.len > FILTER_EXPR_MAX) {
        fail(&p, FILTER_EXPR_MAX, "expression longer than %d bytes", FILTER_EXPR_MAX);
    } else {
        skip_ws(&p);
        if (p.pos < p.len) {
            f->root = parse_or(&p);
            if (!p.failed && p.pos < p.len)
                fail(&p, p.pos, "unexpected ')' without a matching '('");
        }
    }
    if (!p.failed)
        return f;
    if (err && errlen)
        snprintf(err, errlen, "%s", p.msg);
    if (errpos)
        *errpos = p.errpos;
    filter_free(f);
    return NULL;
}

void filter_free(struct filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->npats; i++)
        pattern_cleanup(&f->pats[i]);
    free(f->pats);
    free(f->nodes);
    free(f->kids);
    free(f->text);
    free(f);
}

static bool eval(const struct filter *f, uint32_t id, const struct exchange *ex)
{
    const struct node *n = &f->nodes[id];
    if (n->op == OP_TERM)
        return TERMS[n->term].match(f, n, ex);
    const uint32_t *k = f->kids + n->kids; /* groups only: kids stays NULL without any */
    switch (n->op) {
    case OP_AND:
        for (uint16_t i = 0; i < n->nkids; i++)
            if (!eval(f, k[i], ex))
                return false;
        return true;
    case OP_OR:
        for (uint16_t i = 0; i < n->nkids; i++)
            if (eval(f, k[i], ex))
                return true;
        return false;
    default: return !eval(f, k[0], ex); /* OP_NOT */
    }
}

bool filter_match(const struct filter *f, const struct exchange *ex)
{
    if (!f || f->root < 0)
        return true;
    return eval(f, (uint32_t)f->root, ex);
}

/*
 * GCC treats a function that only prefetches as free of side effects and deletes calls to it
 * before inlining, so the helpers below must be inlined by force.
 */
#if defined(__GNUC__)
#define PREFETCH(p)     __builtin_prefetch((p), 0, 1)
#define PREFETCH_HELPER static inline __attribute__((always_inline)) void
#else
#define PREFETCH(p)     ((void)(p))
#define PREFETCH_HELPER static inline void
#endif

/* First wave: the exchange's own fields the filter reads. */
PREFETCH_HELPER prefetch_fields(const struct exchange *ex, unsigned needs)
{
    if (needs & N_EX)
        PREFETCH(&ex->flags);
    if (needs & N_TIME)
        PREFETCH(&ex->t[T__COUNT - 1]);
    if (needs & N_REQ) {
        PREFETCH(&ex->req.flags);
        PREFETCH(&ex->req.head.headers);
    }
    if (needs & N_RESP) {
        PREFETCH(&ex->resp.flags);
        PREFETCH(&ex->resp.head.headers);
    }
    if (needs & N_REQ_SIZE)
        PREFETCH(&ex->req.body_size);
    if (needs & N_RESP_SIZE)
        PREFETCH(&ex->resp.body_size);
    if (needs & N_WARN)
        PREFETCH(&ex->nwarnings);
}

/* Prefetches up to PREFETCH_SPAN bytes from p, one cache line at a time. */
enum { PREFETCH_SPAN = 256, CACHE_LINE = 64 };
PREFETCH_HELPER prefetch_span(const void *p, size_t n)
{
    const char *c = p;
    if (n > PREFETCH_SPAN)
        n = PREFETCH_SPAN;
    for (size_t off = 0; off < n; off += CACHE_LINE)
        PREFETCH(c + off);
}

PREFETCH_HELPER prefetch_head(const struct message *m)
{
    if (!m->raw.data)
        return;
    prefetch_span(m->raw.data + m->head_off, m->head.len);
    if (m->head.headers)
        prefetch_span(m->head.headers, m->head.nheaders * sizeof *m->head.headers);
}

/* Second wave: what those fields point at (head bytes, header arrays, warnings). */
PREFETCH_HELPER prefetch_pointees(const struct exchange *ex, unsigned needs)
{
    if (needs & N_REQ_TEXT)
        prefetch_head(&ex->req);
    if (needs & N_RESP_TEXT)
        prefetch_head(&ex->resp);
    if ((needs & N_WARN) && ex->warnings)
        PREFETCH(ex->warnings);
}

size_t filter_match_many(const struct filter *f, struct exchange *const *exs, size_t n,
                         uint8_t *out)
{
    /* Far enough ahead to cover a memory round trip at tens of ns per evaluation. */
    enum { AHEAD_FIELDS = 16, AHEAD_POINTEES = 8 };
    unsigned needs = f && f->root >= 0 ? f->needs : 0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (needs && i + AHEAD_FIELDS < n && exs[i + AHEAD_FIELDS])
            prefetch_fields(exs[i + AHEAD_FIELDS], needs);
        if (needs && i + AHEAD_POINTEES < n && exs[i + AHEAD_POINTEES])
            prefetch_pointees(exs[i + AHEAD_POINTEES], needs);
        out[i] = exs[i] && filter_match(f, exs[i]);
        hits += out[i];
    }
    return hits;
}

const char *filter_text(const struct filter *f)
{
    return f ? f->text : "";
}

bool filter_reads_bodies(const struct filter *f)
{
    /* A node's cost is its costliest child's. */
    return f && f->root >= 0 && f->nodes[f->root].cost >= COST_BODY;
}
