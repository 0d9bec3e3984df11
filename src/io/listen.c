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
#include <unistd.h>

#include "hspy/client.h"
#include "hspy/echo.h"
#include "hspy/edit.h"
#include "hspy/fdio.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/plural.h"
#include "hspy/response.h"
#include "hspy/xmalloc.h"

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
    for (const struct listen_added *a = l->added; a; a = a->next)
        if (rules_match(&a->rules, req))
            return &a->answer;
    if (l->rules.n) {
        const struct rule *r = rules_match(&l->rules, req);
        if (r)
            return &l->rule_answers[r - l->rules.v];
    }
    return l->use_crafted ? &l->crafted : &l->fallback;
}

const struct answer *listen_rule_answer(const struct listen *l, size_t i)
{
    for (const struct listen_added *a = l->added; a; a = a->next, i--)
        if (i == 0)
            return &a->answer;
    return i < l->rules.n ? &l->rule_answers[i] : NULL;
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

/* The answer a rule gives, as the senders take it (files and commands are set up apart). */
static void fill_answer(struct listen *l, struct answer *a, const struct rule *r)
{
    memset(a, 0, sizeof *a);
    a->action = r->action;
    a->status = r->status;
    a->reason = r->reason;
    a->headers = (const char *const *)r->headers;
    a->nheaders = r->nheaders;
    a->body = r->body;
    a->body_len = r->body_len;
    a->raw = r->raw;
    a->raw_len = r->raw_len;
    a->expect = r->expect;
    a->name = r->name;
    /* A rule with its own delivery controls uses them; otherwise the command line's. */
    a->plan = delivery_active(&r->delivery) ? &r->delivery : l->fallback.plan;
}

static int setup_rule(struct listen *l, size_t i, char *err, size_t errlen)
{
    struct rule *r = &l->rules.v[i];
    struct answer *a = &l->rule_answers[i];
    const struct options *o = &l->h->opt;
    fill_answer(l, a, r);
    char where[512], inner[1024];
    snprintf(where, sizeof where, "%s:%u", l->rules.file,
             r->answer_line ? r->answer_line : r->line);
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

/* ---- answers made in the interface (struct intercept_answers) ---- */

static const char *const TEXT_TYPE[] = {"Content-Type: text/plain; charset=utf-8"};
static const char *const JSON_TYPE[] = {"Content-Type: application/json"};

/* The echo's body for ex as it stands (text: head and payload kept; JSON on request). */
static const char *const *echo_preview(const struct listen *l, const struct exchange *ex,
                                       struct dynbuf *body)
{
    if ((ex->req.flags & MSG_HEAD) && echo_wants_json(ex)) {
        echo_json(ex, &l->h->limits, body);
        return JSON_TYPE;
    }
    const struct message *m = &ex->req;
    size_t head = m->flags & MSG_HEAD ? m->head.len : m->raw.len - m->head_off;
    dynbuf_append(body, m->raw.data + m->head_off, head);
    message_body(m, body, &l->h->limits);
    return TEXT_TYPE;
}

/* The bytes answer a gives ex now; -1 (and a plain 200) when they are not fixed in advance. */
static int preview_answer(const struct listen *l, const struct answer *a, const struct exchange *ex,
                          struct dynbuf *out)
{
    if (a->action == RULE_RAW) {
        dynbuf_append(out, a->raw, a->raw_len);
        return 0;
    }
    struct dynbuf body;
    dynbuf_init(&body, EDIT_MAX);
    struct response_spec spec = {.status = 200, .headers = TEXT_TYPE, .nheaders = 1};
    int rc = 0;
    if (a->action == RULE_FIXED) {
        spec.status = a->status;
        spec.reason = a->reason;
        spec.headers = a->headers;
        spec.nheaders = a->nheaders;
        dynbuf_append(&body, a->body, a->body_len);
    } else if (a->action == RULE_ECHO) {
        spec.headers = echo_preview(l, ex, &body);
    } else {
        rc = -1; /* static files and commands answer only when asked */
    }
    spec.framing = RESPONSE_LENGTH;
    spec.length = body.len;
    response_head(out, &spec);
    dynbuf_append(out, body.data, body.len);
    dynbuf_cleanup(&body);
    return rc;
}

static int answers_preview(void *data, const struct exchange *ex, struct dynbuf *out)
{
    struct listen *l = data;
    return preview_answer(l, listen_answer(l, &ex->req), ex, out);
}

static size_t answers_nrules(void *data)
{
    const struct listen *l = data;
    return l->nadded + l->rules.n;
}

static const struct rule *rule_at(const struct listen *l, size_t i)
{
    for (const struct listen_added *a = l->added; a; a = a->next, i--)
        if (i == 0)
            return &a->rules.v[0];
    return i < l->rules.n ? &l->rules.v[i] : NULL;
}

static const char *const ACTION_NAMES[] = {"fixed", "raw", "echo", "serve", "exec"};

static const char *answers_rule(void *data, size_t i, char *buf, size_t len)
{
    const struct listen *l = data;
    const struct rule *r = rule_at(l, i);
    if (!r) {
        snprintf(buf, len, "?");
        return buf;
    }
    char methods[128] = "*";
    for (size_t k = 0; k < r->nmethods; k++) {
        size_t at = k ? strlen(methods) : 0;
        snprintf(methods + at, sizeof methods - at, "%s%s", k ? "," : "", r->methods[k]);
    }
    char what[32];
    if (r->action == RULE_FIXED)
        snprintf(what, sizeof what, "%u", r->status);
    else
        snprintf(what, sizeof what, "%s", ACTION_NAMES[r->action < 5 ? r->action : 0]);
    snprintf(buf, len, "%s: %s %s%s -> %s%s", r->name, methods, r->is_regex ? "~" : "", r->pattern,
             what, i < l->nadded ? " (added here)" : "");
    return buf;
}

static long answers_find_rule(void *data, const char *name)
{
    const struct listen *l = data;
    size_t n = l->nadded + l->rules.n;
    char *end;
    long k = strtol(name, &end, 10);
    if (end != name && !*end)
        return k >= 1 && (size_t)k <= n ? k - 1 : -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rule_at(l, i)->name, name) == 0)
            return (long)i;
    return -1;
}

static int answers_add_rule(void *data, const char *text, char *err, size_t errlen)
{
    struct listen *l = data;
    if (l->nadded >= RULES_MAX)
        return snprintf(err, errlen, "already %d rules added", RULES_MAX), -1;
    struct listen_added *a = xcalloc(1, sizeof *a);
    const char *file = l->rules.file ? l->rules.file : "(added rule)";
    if (rules_parse(&a->rules, text, strlen(text), file, err, errlen) != 0 ||
        rules_load(&a->rules, read_file, NULL, err, errlen) != 0) {
        rules_cleanup(&a->rules);
        free(a);
        return -1;
    }
    const struct rule *r = &a->rules.v[0];
    if (a->rules.n != 1 || r->action == RULE_SERVE || r->action == RULE_EXEC) {
        snprintf(err, errlen, "one rule answering with a fixed, raw or echo response is expected");
        rules_cleanup(&a->rules);
        free(a);
        return -1;
    }
    fill_answer(l, &a->answer, r);
    a->text = xstrdup(text);
    a->next = l->added;
    l->added = a;
    l->nadded++;
    return 0;
}

/* The text of the rules to write: rules added here and not written yet (newest first), then
 * the --rules file as it is now. */
static int rules_text(struct listen *l, struct dynbuf *out, char *err, size_t errlen)
{
    bool header = false;
    for (const struct listen_added *a = l->added; a; a = a->next) {
        if (a->written)
            continue;
        if (!header)
            dynbuf_adds(out, "# rules saved from the hspy interface\n");
        header = true;
        dynbuf_printf(out, "%s\n", a->text);
    }
    if (!l->rules.file)
        return 0;
    uint8_t *text;
    size_t len;
    char why[256];
    if (read_file(NULL, l->rules.file, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", l->rules.file, why);
        return -1;
    }
    dynbuf_append(out, text, len);
    free(text);
    return 0;
}

/* Writes text to path through a temporary file in the same folder and a rename, so the file
 * is never seen half written. */
static int write_atomic(const char *path, const struct dynbuf *text, char *err, size_t errlen)
{
    char *tmp = xasprintf("%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644);
    int failed = fdio_write_all(fd, text->data, text->len, -1) != 0 || fsync(fd) != 0;
    failed |= close(fd) != 0;
    if (failed || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

static long answers_write_rules(void *data, const char *path, char *err, size_t errlen)
{
    struct listen *l = data;
    if (!path && !l->rules.file)
        return snprintf(err, errlen, "no --rules file: name the file to write"), -1;
    const char *to = path ? path : l->rules.file;
    struct dynbuf text;
    dynbuf_init(&text, (size_t)1 << 30);
    struct rules check;
    long n = -1;
    /* What is written must read back: check before replacing anything. */
    if (rules_text(l, &text, err, errlen) == 0 &&
        rules_parse(&check, (const char *)text.data, text.len, to, err, errlen) == 0) {
        n = (long)check.n;
        rules_cleanup(&check);
        if (write_atomic(to, &text, err, errlen) != 0)
            n = -1;
    }
    dynbuf_cleanup(&text);
    if (n >= 0 && l->rules.file && strcmp(to, l->rules.file) == 0)
        for (struct listen_added *a = l->added; a; a = a->next)
            a->written = true;
    return n;
}

static const char *answers_rules_file(void *data)
{
    const struct listen *l = data;
    return l->rules.file;
}

static void answers_set_default(void *data, const uint8_t *raw, size_t n)
{
    struct listen *l = data;
    l->use_crafted = raw != NULL;
    if (!raw)
        return;
    /* Replies copy crafted bytes (raw_copy), so the old buffer can go now. */
    free(l->crafted_raw);
    l->crafted_raw = xmalloc(n ? n : 1);
    memcpy(l->crafted_raw, raw, n);
    memset(&l->crafted, 0, sizeof l->crafted);
    l->crafted.action = RULE_RAW;
    l->crafted.raw = l->crafted_raw;
    l->crafted.raw_len = n;
    l->crafted.raw_copy = true;
    l->crafted.expect = -1;
    l->crafted.plan = l->fallback.plan;
    l->crafted.name = "crafted default";
}

static void setup_intercept(struct listen *l)
{
    struct hspy *h = l->h;
    l->answers = (struct intercept_answers){
        l,
        answers_preview,
        answers_nrules,
        answers_rule,
        answers_find_rule,
        answers_add_rule,
        answers_write_rules,
        answers_rules_file,
        answers_set_default,
    };
    intercept_init(&l->intercept, &h->loop, &h->store, h->opt.hold_timeout_ms, h->opt.hold_kills);
    l->intercept.answers = &l->answers;
    if (h->opt.intercept) {
        char err[256];
        intercept_set_filter(&l->intercept, h->opt.intercept, err, sizeof err, NULL);
    }
    h->intercept = &l->intercept;
}

static void cleanup_added(struct listen *l)
{
    while (l->added) {
        struct listen_added *a = l->added;
        l->added = a->next;
        rules_cleanup(&a->rules);
        free(a->text);
        free(a);
    }
    free(l->crafted_raw);
}

/* ---- running ---- */

static void on_conn(void *data, struct conn *c)
{
    client_start(data, c);
}

static void stop(struct listen *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    listener_close(&l->listener);
    signals_cleanup(&l->signals);
    flusher_close(&l->flusher);
    if (l->intercept.loop)
        intercept_close(&l->intercept);
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
                "--max-conns %llu %s can be served; more are refused and counted\n",
                (unsigned long long)have, (unsigned long long)l->h->opt.max_conns,
                plural(l->h->opt.max_conns, "connection", "connections"));
}

static int open_listener(struct listen *l)
{
    struct hspy *h = l->h;
    struct listener_config cfg = {
        .host = h->opt.host,
        .port = h->opt.port,
        .max_conns = h->opt.max_conns,
        .refusal = response_refusal,
        /* Without the interface, refusals are reported on stderr; it shows the counters. */
        .report = h->interactive ? NULL : stderr,
    };
    l->listener.data = l;
    l->listener.on_conn = on_conn;
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
    if (h->opt.intercept && !h->interactive && !h->opt.hold_timeout_ms) {
        status = hspy_usage(h, "--intercept: held requests are released in the interface; "
                               "without it, give --hold-timeout");
        goto out; /* nothing was opened yet: out only frees */
    }
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
    setup_intercept(l);
    flusher_open(&l->flusher, h);
    h->listener = &l->listener;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    /* Stopped by a signal or by the interface: close whatever is left and let it finish. */
    stop(l);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    status = 0;
out:
    h->listener = NULL;
    h->intercept = NULL;
    conn_group_cleanup(&l->conns);
    if (l->intercept.loop)
        intercept_cleanup(&l->intercept);
    cleanup_added(l);
    cleanup_answers(l);
    free(l);
    return status;
}

const struct mode mode_listen = {CMD_LISTEN, 1, run};
