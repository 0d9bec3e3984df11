/*
 * waterfall owns the Timing tab: which phases exist, how they map onto bars, and the table of
 * timestamps. It reads an exchange's times and builds stored lines; it never draws.
 */
#include "hspy/waterfall.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hspy/flowrow.h"

struct phase {
    const char *name;
    uint8_t from, from2, to; /* enum exchange_time; the start is the later of from and from2 */
    const char *note;
};

static const struct phase PHASES[] = {
    {"request", T_REQ_FIRST, T_REQ_FIRST, T_REQ_LAST, "client sending the request"},
    {"upstream connect", T_UP_CONNECT, T_UP_CONNECT, T_UP_CONNECTED, "opening the upstream"},
    {"forwarding", T_UP_CONNECTED, T_REQ_HEAD, T_REQ_FORWARDED, "request written upstream"},
    {"waiting", T_REQ_LAST, T_REQ_FORWARDED, T_RESP_FIRST, "until the first response byte"},
    {"response head", T_RESP_FIRST, T_RESP_FIRST, T_RESP_HEAD, "interim responses and head"},
    {"response body", T_RESP_HEAD, T_RESP_HEAD, T_RESP_LAST, "body to the last byte"},
};

enum { NAME_CELLS = 17, BAR_MIN = 10, BAR_MAX = 60 };

void waterfall_bar(struct canvas_line *out, int64_t start, int64_t len, int64_t total, int width,
                   const struct glyphs *g)
{
    if (total <= 0)
        total = 1;
    int x = (int)((double)start / (double)total * width);
    int w = (int)((double)len / (double)total * width + 0.5);
    if (x >= width)
        x = width - 1;
    if (x + w > width)
        w = width - x;
    canvas_pad(out, STYLE_NORMAL, x);
    if (w <= 0) {
        canvas_puts(out, STYLE_PROGRESS, g->thin);
        canvas_pad(out, STYLE_NORMAL, width - x - 1);
        return;
    }
    for (int i = 0; i < w; i++)
        canvas_puts(out, STYLE_PROGRESS, g->full);
    canvas_pad(out, STYLE_NORMAL, width - x - w);
}

static int64_t earliest(const struct exchange *ex)
{
    int64_t t0 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] && (!t0 || ex->t[i] < t0))
            t0 = ex->t[i];
    return t0;
}

static int64_t latest(const struct exchange *ex)
{
    int64_t t1 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] > t1)
            t1 = ex->t[i];
    return t1;
}

static void phase_line(struct doc *d, const struct detail_ctx *c, const struct phase *p, int64_t t0,
                       int64_t total, int bar)
{
    const int64_t *t = c->ex->t;
    int64_t a = t[p->from] > t[p->from2] ? t[p->from] : t[p->from2];
    int64_t b = t[p->to];
    if (!a || !b || b < a)
        return;
    char start[16], dur[16];
    struct canvas_line l;
    canvas_line_init(&l, CANVAS_UNLIMITED);
    canvas_put_fit(&l, STYLE_NORMAL, p->name, strlen(p->name), NAME_CELLS, CELLTEXT_LEFT, NULL);
    flowrow_duration(a - t0, start, sizeof start);
    canvas_printf(&l, STYLE_DIM, " +%-7s ", start);
    waterfall_bar(&l, a - t0, b - a, total, bar, c->g);
    canvas_printf(&l, STYLE_NORMAL, " %7s  ", flowrow_duration(b - a, dur, sizeof dur));
    canvas_puts(&l, STYLE_DIM, p->note);
    doc_add(d, &l);
    canvas_line_cleanup(&l);
}

static void timestamps(struct doc *d, const struct detail_ctx *c, int64_t t0)
{
    doc_blank(d);
    doc_addf(d, STYLE_BOLD, "timestamps");
    for (int i = 0; i < T__COUNT; i++) {
        int64_t t = c->ex->t[i];
        if (!t)
            continue;
        time_t sec = (time_t)(t / 1000000000);
        struct tm tm;
        localtime_r(&sec, &tm);
        char rel[16];
        doc_addf(d, STYLE_NORMAL, "  %-22s %04d-%02d-%02d %02d:%02d:%02d.%06d  +%s",
                 exchange_time_name((enum exchange_time)i), tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t / 1000 % 1000000),
                 flowrow_duration(t - t0, rel, sizeof rel));
    }
}

void waterfall_build(struct doc *d, const struct detail_ctx *c)
{
    const struct exchange *ex = c->ex;
    int64_t t0 = earliest(ex), total = latest(ex) - t0;
    if (!t0) {
        doc_addf(d, STYLE_DIM, "(no timestamps recorded)");
        return;
    }
    char dur[16];
    doc_addf(d, STYLE_BOLD, "connection %llu, exchange %u on it; %s from first to last byte%s",
             (unsigned long long)ex->conn_id, ex->conn_seq,
             flowrow_duration(total, dur, sizeof dur), (ex->flags & EX_DONE) ? "" : " so far");
    doc_blank(d);
    int bar = c->width - NAME_CELLS - 10 - 10 - 32;
    bar = bar < BAR_MIN ? BAR_MIN : bar > BAR_MAX ? BAR_MAX : bar;
    for (size_t i = 0; i < sizeof PHASES / sizeof PHASES[0]; i++)
        phase_line(d, c, &PHASES[i], t0, total, bar);
    timestamps(d, c, t0);
}
