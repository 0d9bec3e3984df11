/*
 * diff owns line splitting, the edit script between two texts (Myers' greedy O(ND) algorithm
 * with its trace kept for the way back) and the grouping of the script into hunks. It points
 * into the caller's texts and never copies them; it never formats for a terminal.
 */
#include "hspy/diff.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static size_t split(const uint8_t *p, size_t n, struct diff_line **out)
{
    size_t lines = 0, cap = 0;
    struct diff_line *v = NULL;
    size_t at = 0;
    while (at < n) {
        const uint8_t *lf = memchr(p + at, '\n', n - at);
        size_t end = lf ? (size_t)(lf - p) + 1 : n;
        if (lines + 1 == DIFF_LINES_MAX)
            end = n; /* the rest is one line: bounded work on absurd inputs */
        if (lines == cap)
            v = xgrow(v, &cap, lines + 1, sizeof *v);
        v[lines++] = (struct diff_line){p + at, end - at, hash(p + at, end - at)};
        at = end;
    }
    *out = v;
    return lines;
}

static bool same(const struct diff *d, size_t i, size_t j)
{
    const struct diff_line *x = &d->a[i], *y = &d->b[j];
    return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

struct script {
    struct diff_entry *v;
    size_t n, cap;
};

static void emit(struct script *s, uint8_t op, size_t a, size_t b)
{
    if (s->n == s->cap)
        s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    s->v[s->n++] = (struct diff_entry){op, (uint32_t)a, (uint32_t)b};
}

/* The trace of furthest-reaching x per diagonal, row d holding k = -d..d at d*d + d + k. */
struct trace {
    int32_t *v;
    size_t cap;
};

static int32_t *row(struct trace *t, long d)
{
    size_t need = (size_t)(d + 1) * (size_t)(d + 1);
    if (need > t->cap) {
        size_t cap = t->cap;
        t->v = xgrow(t->v, &cap, need, sizeof *t->v);
        t->cap = cap;
    }
    return t->v + (size_t)d * (size_t)d + (size_t)d;
}

/*
 * Forward pass over old lines [ao, ao+n) and new lines [bo, bo+m): returns the cost D of a
 * minimal script, or -1 past DIFF_COST_MAX. Row d of t holds V after step d.
 */
static long forward(const struct diff *d, size_t ao, long n, size_t bo, long m, struct trace *t)
{
    long max = n + m < DIFF_COST_MAX ? n + m : DIFF_COST_MAX;
    for (long dd = 0; dd <= max; dd++) {
        int32_t *v = row(t, dd);
        int32_t *prev = dd ? t->v + (size_t)(dd - 1) * (size_t)(dd - 1) + (size_t)(dd - 1) : NULL;
        for (long k = -dd; k <= dd; k += 2) {
            long x;
            if (dd == 0)
                x = 0;
            else if (k == -dd || (k != dd && prev[k - 1] < prev[k + 1]))
                x = prev[k + 1]; /* down: a new line */
            else
                x = prev[k - 1] + 1; /* right: an old line goes */
            long y = x - k;
            while (x < n && y < m && same(d, ao + (size_t)x, bo + (size_t)y)) {
                x++;
                y++;
            }
            v[k] = (int32_t)x;
            if (x >= n && y >= m)
                return dd;
        }
    }
    return -1;
}

/* Walks the trace back from (n, m), appending the script in reverse. */
static void backward(struct script *s, size_t ao, long n, size_t bo, long m, long cost,
                     struct trace *t)
{
    long x = n, y = m;
    for (long dd = cost; dd > 0; dd--) {
        const int32_t *prev = t->v + (size_t)(dd - 1) * (size_t)(dd - 1) + (size_t)(dd - 1);
        long k = x - y;
        bool down = k == -dd || (k != dd && prev[k - 1] < prev[k + 1]);
        long pk = down ? k + 1 : k - 1;
        long px = prev[pk], py = px - pk;
        long sx = down ? px : px + 1; /* where the snake of step dd began */
        while (x > sx) {
            x--;
            y--;
            emit(s, DIFF_SAME, ao + (size_t)x, bo + (size_t)y);
        }
        if (down)
            emit(s, DIFF_ADD, ao + (size_t)px, bo + (size_t)py);
        else
            emit(s, DIFF_DEL, ao + (size_t)px, bo + (size_t)py);
        x = px;
        y = py;
    }
    while (x > 0 && y > 0) {
        x--;
        y--;
        emit(s, DIFF_SAME, ao + (size_t)x, bo + (size_t)y);
    }
}

static void reverse(struct script *s, size_t from)
{
    for (size_t i = from, j = s->n; i + 1 < j; i++, j--) {
        struct diff_entry tmp = s->v[i];
        s->v[i] = s->v[j - 1];
        s->v[j - 1] = tmp;
    }
}

static void middle(struct diff *d, struct script *s, size_t ao, size_t n, size_t bo, size_t m)
{
    struct trace t = {NULL, 0};
    long cost = forward(d, ao, (long)n, bo, (long)m, &t);
    if (cost < 0) {
        d->approximate = true;
        for (size_t i = 0; i < n; i++)
            emit(s, DIFF_DEL, ao + i, bo);
        for (size_t j = 0; j < m; j++)
            emit(s, DIFF_ADD, ao + n, bo + j);
    } else {
        size_t from = s->n;
        backward(s, ao, (long)n, bo, (long)m, cost, &t);
        reverse(s, from);
    }
    free(t.v);
}

void diff_compute(struct diff *d, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    memset(d, 0, sizeof *d);
    d->na = split(a, an, &d->a);
    d->nb = split(b, bn, &d->b);
    size_t pre = 0, suf = 0;
    while (pre < d->na && pre < d->nb && same(d, pre, pre))
        pre++;
    while (suf < d->na - pre && suf < d->nb - pre && same(d, d->na - 1 - suf, d->nb - 1 - suf))
        suf++;
    struct script s = {NULL, 0, 0};
    for (size_t i = 0; i < pre; i++)
        emit(&s, DIFF_SAME, i, i);
    middle(d, &s, pre, d->na - pre - suf, pre, d->nb - pre - suf);
    for (size_t i = 0; i < suf; i++)
        emit(&s, DIFF_SAME, d->na - suf + i, d->nb - suf + i);
    d->v = s.v;
    d->n = s.n;
    for (size_t i = 0; i < d->n; i++)
        d->changes += d->v[i].op != DIFF_SAME;
}

void diff_cleanup(struct diff *d)
{
    free(d->a);
    free(d->b);
    free(d->v);
    memset(d, 0, sizeof *d);
}

bool diff_next_hunk(const struct diff *d, size_t *pos, unsigned context, struct diff_hunk *h)
{
    size_t i = *pos;
    while (i < d->n && d->v[i].op == DIFF_SAME)
        i++;
    if (i >= d->n)
        return false;
    size_t from = i - (i - *pos < context ? i - *pos : context);
    size_t end = i; /* one past the last change taken */
    for (;;) {
        while (end < d->n && d->v[end].op != DIFF_SAME)
            end++;
        size_t j = end;
        while (j < d->n && d->v[j].op == DIFF_SAME)
            j++;
        if (j < d->n && j - end <= 2 * (size_t)context) {
            end = j;
            continue;
        }
        break;
    }
    size_t to = end + context < d->n ? end + context : d->n;
    h->from = from;
    h->to = to;
    h->a0 = d->v[from].a;
    h->b0 = d->v[from].b;
    h->na = h->nb = 0;
    for (size_t k = from; k < to; k++) {
        h->na += d->v[k].op != DIFF_ADD;
        h->nb += d->v[k].op != DIFF_DEL;
    }
    *pos = to;
    return true;
}

static void put_line(struct dynbuf *out, char mark, const struct diff_line *l)
{
    dynbuf_addc(out, (uint8_t)mark);
    dynbuf_append(out, l->p, l->len);
    if (!l->len || l->p[l->len - 1] != '\n')
        dynbuf_adds(out, "\n\\ No newline at end of file\n");
}

void diff_unified(const struct diff *d, const char *la, const char *lb, unsigned context,
                  struct dynbuf *out)
{
    if (!d->changes)
        return;
    dynbuf_printf(out, "--- %s\n+++ %s\n", la, lb);
    size_t pos = 0;
    struct diff_hunk h;
    while (diff_next_hunk(d, &pos, context, &h)) {
        dynbuf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", h.na ? h.a0 + 1 : h.a0, h.na,
                      h.nb ? h.b0 + 1 : h.b0, h.nb);
        for (size_t k = h.from; k < h.to; k++) {
            const struct diff_entry *e = &d->v[k];
            if (e->op == DIFF_ADD)
                put_line(out, '+', &d->b[e->b]);
            else
                put_line(out, e->op == DIFF_DEL ? '-' : ' ', &d->a[e->a]);
        }
    }
}
