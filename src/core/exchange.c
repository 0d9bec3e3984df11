/*
 * exchange owns one request/response pair and all memory hanging off it. It never parses and
 * never does I/O; the conversation fills it, sinks read it.
 */
#include "hspy/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/xmalloc.h"

static const char *const TIME_NAMES[T__COUNT] = {
    [T_REQ_FIRST] = "request_first_byte",    [T_REQ_HEAD] = "request_head",
    [T_REQ_LAST] = "request_last_byte",      [T_UP_CONNECT] = "upstream_connect",
    [T_UP_CONNECTED] = "upstream_connected", [T_REQ_FORWARDED] = "request_forwarded",
    [T_RESP_FIRST] = "response_first_byte",  [T_RESP_HEAD] = "response_head",
    [T_RESP_LAST] = "response_last_byte",
};

const char *exchange_time_name(enum exchange_time t)
{
    return (unsigned)t < T__COUNT ? TIME_NAMES[t] : "?";
}

static const char *const FLAG_NAMES[] = {
    "done",          "incomplete", "truncated",  "gap",     "tunnel",  "held",
    "intercepted",   "edited",     "replay",     "killed",  "timeout", "client-abort",
    "upstream-fail", "rejected",   "no-request", "evicted",
};

const char *exchange_flag_name(uint32_t flag)
{
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof FLAG_NAMES[0]; i++)
        if (flag == (uint32_t)1 << i)
            return FLAG_NAMES[i];
    return "?";
}

struct exchange *exchange_new(const struct exchange_limits *limits)
{
    struct exchange *ex = xcalloc(1, sizeof *ex);
    size_t raw_max = (size_t)limits->head_max + limits->body_keep;
    message_init(&ex->req, raw_max);
    message_init(&ex->resp, raw_max);
    arena_init(&ex->arena);
    return ex;
}

void exchange_free(struct exchange *ex)
{
    if (!ex)
        return;
    message_cleanup(&ex->req);
    message_cleanup(&ex->resp);
    arena_cleanup(&ex->arena);
    if (ex->edit) {
        for (int s = 0; s < 2; s++) {
            dynbuf_cleanup(&ex->edit->before[s]);
            dynbuf_cleanup(&ex->edit->pending[s]);
        }
        free(ex->edit);
    }
    free(ex);
}

void exchange_warn(struct exchange *ex, enum warning_code code, enum side side, uint64_t offset,
                   const char *detail, ...)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++) {
        const struct warning *w = &ex->warnings[i];
        if (w->code == code && w->side == side && w->offset == offset)
            return;
    }
    if (ex->nwarnings >= EXCHANGE_WARNINGS_MAX) {
        ex->warnings_dropped++;
        return;
    }
    if (!ex->warnings)
        ex->warnings = arena_alloc(&ex->arena, EXCHANGE_WARNINGS_MAX * sizeof *ex->warnings);
    struct warning *w = &ex->warnings[ex->nwarnings++];
    w->code = (uint16_t)code;
    w->side = (uint8_t)side;
    w->offset = offset;
    w->detail = NULL;
    if (detail) {
        va_list ap;
        va_start(ap, detail);
        w->detail = arena_vprintf(&ex->arena, detail, ap);
        va_end(ap);
    }
}

bool exchange_has_warning(const struct exchange *ex, enum warning_code code)
{
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        if (ex->warnings[i].code == code)
            return true;
    return false;
}

void exchange_fail(struct exchange *ex, uint32_t flags, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex->error = arena_vprintf(&ex->arena, fmt, ap);
    va_end(ap);
    ex->flags |= flags;
}

size_t exchange_memory(const struct exchange *ex)
{
    size_t edit = 0;
    if (ex->edit)
        for (int s = 0; s < 2; s++)
            edit += ex->edit->before[s].cap + ex->edit->pending[s].cap;
    return sizeof *ex + ex->req.raw.cap + ex->resp.raw.cap + ex->arena.bytes + edit;
}

char *exchange_method(const struct exchange *ex, char *buf, size_t len)
{
    return message_span_str(&ex->req, ex->req.head.method, buf, len);
}

char *exchange_target(const struct exchange *ex, char *buf, size_t len)
{
    return message_span_str(&ex->req, ex->req.head.target, buf, len);
}

int exchange_status(const struct exchange *ex)
{
    return (ex->resp.flags & MSG_HEAD) ? ex->resp.head.status : 0;
}

int64_t exchange_start(const struct exchange *ex)
{
    if (ex->t[T_REQ_FIRST])
        return ex->t[T_REQ_FIRST];
    int64_t t0 = 0;
    for (int i = 0; i < T__COUNT; i++)
        if (ex->t[i] && (!t0 || ex->t[i] < t0))
            t0 = ex->t[i];
    return t0;
}

int64_t exchange_duration(const struct exchange *ex)
{
    int64_t start = ex->t[T_REQ_FIRST] ? ex->t[T_REQ_FIRST] : ex->t[T_RESP_FIRST];
    int64_t end = ex->t[T_RESP_LAST] ? ex->t[T_RESP_LAST] : ex->t[T_REQ_LAST];
    if (!start || !end || end < start)
        return -1;
    return end - start;
}

char *exchange_host(const struct exchange *ex, char *buf, size_t len)
{
    if (message_header_str(&ex->req, "host", buf, len))
        return buf;
    char target[512];
    exchange_target(ex, target, sizeof target);
    const char *p = strstr(target, "://");
    if (p) {
        p += 3;
        size_t n = strcspn(p, "/?#");
        snprintf(buf, len, "%.*s", (int)n, p);
        return buf;
    }
    if (ex->req.flags & MSG_HEAD && ex->req.head.flags & HEAD_AUTHORITY_FORM) {
        snprintf(buf, len, "%s", target);
        return buf;
    }
    return endpoint_format(&ex->server, buf, len);
}
