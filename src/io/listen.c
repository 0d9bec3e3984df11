/*
 * listen owns the `hspy listen` subcommand: it turns the options into the answer table (the
 * command line's answer, rules in front of it, delivery plans), reads the files they name,
 * binds the listener, and runs the loop until a signal (or the interface) stops it, then winds
 * down so every exchange in flight reaches the store and the sinks. Connections are client.c's.
 */
#include "hspy/listen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "hspy/client.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/response.h"
#include "hspy/xmalloc.h"

static const char REFUSAL[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: text/plain; charset=utf-8\r\n"
                              "Content-Length: 41\r\n"
                              "Connection: close\r\n"
                              "\r\n"
                              "503 too many connections (--max-conns)\r\n\r\n";

const char *listen_date(struct listen *l, int64_t now_ns)
{
    int64_t sec = now_ns / 1000000000;
    if (sec != l->date_sec) {
        l->date_sec = sec;
        httpdate_format(sec, l->date);
    }
    return l->date;
}

const struct answer *listen_answer(const struct listen *l, const struct message *req)
{
    if (l->rules.n) {
        const struct rule *r = rules_match(&l->rules, req);
        if (r)
            return &l->rule_answers[r - l->rules.v];
    }
    return &l->fallback;
}

/* ---- files ---- */

/* Reads a whole file (up to LISTEN_FILE_MAX). Returns 0, or -1 with the reason in why. */
static int read_file(void *data, const char *path, uint8_t **buf, size_t *len, char *why,
                     size_t whylen)
{
    (void)data;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        fclose(f);
        return -1;
    }
    if ((uint64_t)st.st_size > LISTEN_FILE_MAX) {
        snprintf(why, whylen, "larger than %zu MiB", LISTEN_FILE_MAX >> 20);
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *p = xmalloc(n + 1);
    size_t got = fread(p, 1, n, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != n) {
        snprintf(why, whylen, "read error");
        free(p);
        return -1;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    return 0;
}

/* A raw response as it will be sent: as written, or with its Content-Length corrected. */
static int prepare_raw(uint8_t **raw, size_t *len, bool fix, const char *what, char *err,
                       size_t errlen)
{
    if (*len == 0) {
        snprintf(err, errlen, "%s: the file is empty", what);
        return -1;
    }
    if (!fix)
        return 0;
    long head = response_head_len(*raw, *len);
    if (head < 0) {
        snprintf(err, errlen, "%s: no complete HTTP response head to fix (--fix-length)", what);
        return -1;
    }
    struct dynbuf out;
    dynbuf_init(&out, *len + 64);
    response_set_length(*raw, *len, *len - (size_t)head, &out);
    free(*raw);
    *len = out.len;
    *raw = (uint8_t *)dynbuf_take(&out);
    return 0;
}

/* ---- the command line's answer ---- */

static void plan_from_options(struct delivery *d, const struct options *o)
{
    memset(d, 0, sizeof *d);
    d->delay_head_ms = o->delay_head_ms;
    d->delay_body_ms = o->delay_body_ms;
    if (o->trickle)
        delivery_parse_trickle(o->trickle, &d->trickle_bytes, &d->trickle_ms);
    if (o->split) {
        char why[100];
        delivery_parse_split(o->split, d, why, sizeof why);
    }
    d->close_after_set = o->close_after != UINT64_MAX;
    d->close_after = o->close_after;
    d->reset_after_set = o->reset_after != UINT64_MAX;
    d->reset_after = o->reset_after;
    d->content_length_set = o->content_length != UINT64_MAX;
    d->content_length = o->content_length;
}

static int setup_fallback(struct listen *l, char *err, size_t errlen)
{
    const struct options *o = &l->h->opt;
    struct answer *a = &l->fallback;
    memset(a, 0, sizeof *a);
    a->action = RULE_ECHO;
    a->expect = -1;
    plan_from_options(&l->plan, o);
    a->plan = delivery_active(&l->plan) ? &l->plan : NULL;
    char why[256];
    if (o->status || o->headers.n || o->body) {
        a->action = RULE_FIXED;
        a->status = o->status ? (uint16_t)o->status : 200;
        a->headers = o->headers.v;
        a->nheaders = o->headers.n;
        if (o->body && o->body[0] == '@') {
            if (read_file(NULL, o->body + 1, &l->body, &l->body_len, why, sizeof why) != 0) {
                snprintf(err, errlen, "--body %s: %s", o->body + 1, why);
                return -1;
            }
        } else if (o->body && rules_unescape(o->body, &l->body, &l->body_len) != 0) {
            snprintf(err, errlen, "--body: bad escape (use \\n \\r \\t \\\\ \\xNN \\@)");
            return -1;
        }
        a->body = l->body;
        a->body_len = l->body_len;
    } else if (o->raw) {
        a->action = RULE_RAW;
        if (read_file(NULL, o->raw, &l->raw, &l->raw_len, why, sizeof why) != 0) {
            snprintf(err, errlen, "--raw %s: %s", o->raw, why);
            return -1;
        }
        char what[300];
        snprintf(what, sizeof what, "--raw %s", o->raw);
        if (prepare_raw(&l->raw, &l->raw_len, o->fix_length, what, err, errlen) != 0)
            return -1;
        a->raw = l->raw;
        a->raw_len = l->raw_len;
    } else if (o->serve) {
        a->action = RULE_SERVE;
        if (serve_open(&l->serve, o->serve, err, errlen) != 0)
            return -1;
        l->have_serve = true;
        a->serve = &l->serve;
    } else if (o->exec) {
        a->action = RULE_EXEC;
        if (exec_cfg_init(&l->exec, o->exec, o->exec_shell, o->exec_timeout_ms, l->software, err,
                          errlen) != 0)
            return -1;
        l->have_exec = true;
        a->exec = &l->exec;
    }
    return 0;
}

/* ---- rules ---- */

static int setup_rule(struct listen *l, size_t i, char *err, size_t errlen)
{
    struct rule *r = &l->rules.v[i];
    struct answer *a = &l->rule_answers[i];
    const struct options *o = &l->h->opt;
    a->action = r->action;
    a->status = r->status;
    a->reason = r->reason;
    a->headers = (const char *const *)r->headers;
    a->nheaders = r->nheaders;
    a->body = r->body;
    a->body_len = r->body_len;
    a->expect = r->expect;
    a->name = r->name;
    /* A rule with its own delivery controls uses them; otherwise the command line's. */
    a->plan = delivery_active(&r->delivery) ? &r->delivery : l->fallback.plan;
    char where[512], inner[1024];
    snprintf(where, sizeof where, "%s:%u", l->rules.file, r->line);
    if (r->action == RULE_RAW) {
        if (prepare_raw(&r->raw, &r->raw_len, r->fix_length, where, err, errlen) != 0)
            return -1;
        a->raw = r->raw;
        a->raw_len = r->raw_len;
    } else if (r->action == RULE_SERVE) {
        if (serve_open(&l->rule_serve[i], r->dir, inner, sizeof inner) != 0) {
            snprintf(err, errlen, "%.300s: %.600s", where, inner);
            return -1;
        }
        a->serve = &l->rule_serve[i];
    } else if (r->action == RULE_EXEC) {
        if (exec_cfg_init(&l->rule_exec[i], r->cmd, r->shell, o->exec_timeout_ms, l->software,
                          inner, sizeof inner) != 0) {
            snprintf(err, errlen, "%.300s: %.600s", where, inner);
            return -1;
        }
        a->exec = &l->rule_exec[i];
    }
    return 0;
}

static int setup_rules(struct listen *l, char *err, size_t errlen)
{
    const char *path = l->h->opt.rules;
    if (!path)
        return 0;
    uint8_t *text;
    size_t len;
    char why[256];
    if (read_file(NULL, path, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "--rules %s: %s", path, why);
        return -1;
    }
    int rc = rules_parse(&l->rules, (const char *)text, len, path, err, errlen);
    free(text);
    if (rc != 0 || rules_load(&l->rules, read_file, NULL, err, errlen) != 0)
        return -1;
    size_t n = l->rules.n;
    l->rule_answers = xcalloc(n, sizeof *l->rule_answers);
    l->rule_serve = xcalloc(n, sizeof *l->rule_serve);
    l->rule_exec = xcalloc(n, sizeof *l->rule_exec);
    for (size_t i = 0; i < n; i++)
        if (setup_rule(l, i, err, errlen) != 0)
            return -1;
    return 0;
}

static void cleanup_answers(struct listen *l)
{
    for (size_t i = 0; l->rule_serve && i < l->rules.n; i++) {
        serve_close(&l->rule_serve[i]);
        exec_cfg_cleanup(&l->rule_exec[i]);
    }
    free(l->rule_answers);
    free(l->rule_serve);
    free(l->rule_exec);
    rules_cleanup(&l->rules);
    if (l->have_serve)
        serve_close(&l->serve);
    if (l->have_exec)
        exec_cfg_cleanup(&l->exec);
    free(l->body);
    free(l->raw);
}

/* ---- running ---- */

static void on_conn(void *data, struct conn *c)
{
    client_start(data, c);
}

static void on_refuse(void *data, int err)
{
    struct listen *l = data;
    if (l->h->interactive)
        return; /* counted; the interface shows the counters */
    uint64_t now = uv_now(&l->h->loop);
    if (l->refusals_reported && now - l->refusal_report_ms < 1000)
        return;
    l->refusal_report_ms = now;
    l->refusals_reported++;
    const struct listener_counters *k = &l->listener.counters;
    if (err)
        fprintf(stderr, "hspy: accept failed: %s (%llu so far)\n", uv_strerror(err),
                (unsigned long long)k->failed);
    else
        fprintf(stderr,
                "hspy: refused a connection: %zu open, the limit (--max-conns) is %llu "
                "(%llu refused so far)\n",
                l->conns.n, (unsigned long long)l->h->opt.max_conns,
                (unsigned long long)k->refused);
}

static void stop(struct listen *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    listener_close(&l->listener);
    signals_cleanup(&l->signals);
    /* Connections end now; the conversation ends their exchanges, so the sinks see them all. */
    conn_group_close_all(&l->conns, CONN_CLOSE_NOW);
}

static void on_stop(void *data, int signum, bool urgent)
{
    (void)signum;
    struct listen *l = data;
    if (urgent)
        uv_stop(&l->h->loop);
    stop(l);
}

/*
 * Each connection is a file descriptor: raise the soft limit toward what --max-conns needs
 * (up to the hard limit), and say so when the cap cannot be reached.
 */
static void raise_fd_limit(const struct listen *l)
{
    uint64_t want = l->h->opt.max_conns + 64, have = listener_fd_limit(want);
    if (have < want)
        fprintf(stderr,
                "hspy: warning: only %llu file descriptors allowed (ulimit -n): fewer than "
                "--max-conns %llu connections can be served; more are refused and counted\n",
                (unsigned long long)have, (unsigned long long)l->h->opt.max_conns);
}

static int open_listener(struct listen *l)
{
    struct hspy *h = l->h;
    struct listener_config cfg = {
        .host = h->opt.host,
        .port = h->opt.port,
        .max_conns = h->opt.max_conns,
        .refusal = REFUSAL,
        .refusal_len = sizeof REFUSAL - 1,
    };
    l->listener.data = l;
    l->listener.on_conn = on_conn;
    l->listener.on_refuse = on_refuse;
    if (listener_open(&l->listener, &h->loop, &cfg, &l->conns, h->err, sizeof h->err) != 0)
        return -1;
    char addr[ENDPOINT_STRLEN];
    endpoint_format(&l->listener.local, addr, sizeof addr);
    snprintf(h->title, sizeof h->title, "listen %s", addr);
    fprintf(stderr, "hspy: listening on %s\n", addr);
    raise_fd_limit(l);
    if (listener_public(&l->listener))
        fprintf(stderr,
                "hspy: warning: %s is reachable from the network; anyone who can connect sees "
                "the echo of their requests%s\n",
                addr, h->opt.serve || h->opt.exec ? " and your --serve/--exec answers" : "");
    return 0;
}

static int run(struct hspy *h)
{
    struct listen *l = xcalloc(1, sizeof *l);
    l->h = h;
    l->expect = (uint16_t)h->opt.expect;
    snprintf(l->software, sizeof l->software, "hspy/%s", HSPY_VERSION);
    conn_group_init(&l->conns, &h->loop);
    int status = 1;
    if (setup_fallback(l, h->err, sizeof h->err) != 0 || setup_rules(l, h->err, sizeof h->err) != 0)
        goto out;
    /* Watched before the address is printed: a script that stops hspy as soon as it has read
     * the port gets a clean stop (outputs finished), never the default death. */
    signals_init(&l->signals, &h->loop, on_stop, l);
    if (open_listener(l) != 0 || hspy_start(h) != 0) {
        listener_close(&l->listener);
        signals_cleanup(&l->signals);
        uv_run(&h->loop, UV_RUN_NOWAIT);
        goto out;
    }
    h->listener = &l->listener;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    /* Stopped by a signal or by the interface: close whatever is left and let it finish. */
    stop(l);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    status = 0;
out:
    h->listener = NULL;
    conn_group_cleanup(&l->conns);
    cleanup_answers(l);
    free(l);
    return status;
}

const struct mode mode_listen = {CMD_LISTEN, 1, run};
