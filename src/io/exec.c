/*
 * exec owns the child processes of CGI-style answers: spawning without a shell, feeding the
 * request body to stdin, collecting stdout and stderr, the timeout and the kill. It turns the
 * output into a response through cgi.c's reading of it; it never interprets request data
 * beyond what cgi_env exports.
 */
#include "hspy/exec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/cgi.h"
#include "hspy/plural.h"
#include "hspy/response.h"
#include "hspy/xmalloc.h"

int exec_cfg_init(struct exec_cfg *cfg, const char *cmd, bool shell, uint64_t timeout_ms,
                  const char *software, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_ms = timeout_ms;
    cfg->software = software;
    if (shell) {
        cfg->argv = xcalloc(4, sizeof *cfg->argv);
        cfg->argv[0] = xstrdup("/bin/sh");
        cfg->argv[1] = xstrdup("-c");
        cfg->argv[2] = xstrdup(cmd);
        return 0;
    }
    char why[200];
    cfg->argv = cgi_split(cmd, why, sizeof why);
    if (!cfg->argv) {
        snprintf(err, errlen, "exec '%s': %s", cmd, why);
        return -1;
    }
    return 0;
}

void exec_cfg_cleanup(struct exec_cfg *cfg)
{
    cgi_free_strv(cfg->argv);
    cfg->argv = NULL;
}

struct execd {
    struct reply base;
    const struct exec_cfg *cfg;
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_timer_t timer;
    uv_shutdown_t shut;
    unsigned open; /* handles not closed yet */
    int spawn_err;
    bool spawned, exited, out_eof, err_eof;
    bool in_closed, in_broken, holding;
    bool freed, timed_out, finished;
    bool streaming, chunked, ended, out_paused;
    int64_t exit_status;
    int term_signal;
    size_t in_queued;
    struct dynbuf outbuf; /* stdout not yet handed on */
    struct dynbuf errbuf;
    uint64_t err_total;
    struct cgi_reply cgi;
    struct reply *inner; /* the buffered answer (or the error) once the command's fate is known */
    uint8_t rbuf[16 * 1024];
};

struct inwrite {
    uv_write_t req;
    struct execd *e;
    size_t len;
    uint8_t data[];
};

static void on_closed(uv_handle_t *h)
{
    struct execd *e = h->data;
    if (--e->open > 0)
        return;
    dynbuf_cleanup(&e->outbuf);
    dynbuf_cleanup(&e->errbuf);
    cgi_reply_cleanup(&e->cgi);
    free(e);
}

static void close_one(struct execd *e, uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_closed);
}

static void kill_group(struct execd *e)
{
    if (e->spawned && !e->exited) {
        /* The command runs in its own session: kill what it started too. */
        kill(-e->proc.pid, SIGKILL);
        uv_process_kill(&e->proc, SIGKILL);
    }
}

static void wake(struct execd *e)
{
    if (!e->freed && e->base.env.wake)
        e->base.env.wake(e->base.env.data);
}

static void set_hold(struct execd *e, bool on)
{
    if (e->holding == on || e->freed)
        return;
    e->holding = on;
    e->base.env.hold(e->base.env.data, on);
}

/* ---- the outcome ---- */

static void note_stderr(struct execd *e)
{
    struct exchange *ex = e->base.env.ex;
    if (!ex || !e->errbuf.len)
        return;
    uint64_t more = e->err_total - e->errbuf.len;
    char extra[64] = "";
    if (more)
        snprintf(extra, sizeof extra, " (%llu more %s)", (unsigned long long)more,
                 plural_bytes(more));
    /* Keep what is noted already (the rule that chose this command). */
    ex->note = arena_printf(&ex->arena, "%s%sexec stderr: %s%s", ex->note ? ex->note : "",
                            ex->note ? "; " : "", dynbuf_str(&e->errbuf), extra);
}

/* Why the command failed, or NULL when it succeeded. */
static const char *failure(struct execd *e, char *buf, size_t len)
{
    if (e->spawn_err)
        snprintf(buf, len, "cannot run '%s': %s", e->cfg->argv[0], uv_strerror(e->spawn_err));
    else if (e->timed_out)
        snprintf(buf, len, "command timed out after %llu ms",
                 (unsigned long long)e->cfg->timeout_ms);
    else if (e->term_signal)
        snprintf(buf, len, "command killed by signal %d", e->term_signal);
    else if (e->exit_status)
        snprintf(buf, len, "command exited with status %lld", (long long)e->exit_status);
    else
        return NULL;
    return buf;
}

static void start_inner(struct execd *e, struct reply *inner)
{
    e->inner = inner;
    e->base.close_after |= inner->close_after;
    inner->ops->done(inner);
    e->base.close_after |= inner->close_after;
}

static void answer_failure(struct execd *e, const char *why)
{
    if (e->base.env.ex)
        exchange_fail(e->base.env.ex, EX_UPSTREAM_FAIL, "exec: %s", why);
    start_inner(e, reply_error_new(&e->base.env, e->timed_out ? 504 : 502, why));
}

static const char *const TEXT[] = {"Content-Type: text/plain; charset=utf-8"};

/* The command finished with all its output in outbuf: answer with a known length. */
static void answer_buffered(struct execd *e)
{
    size_t head = 0;
    enum cgi_kind k = cgi_classify(e->outbuf.data ? e->outbuf.data : (const uint8_t *)"",
                                   e->outbuf.len, true, &head);
    const uint8_t *out = e->outbuf.data ? e->outbuf.data : (const uint8_t *)"";
    if (k == CGI_NPH) {
        start_inner(e, reply_raw_new(&e->base.env, out, e->outbuf.len));
        return;
    }
    if (k == CGI_INVALID) {
        answer_failure(e, "command output has no end of its header section");
        return;
    }
    struct reply_fixed_spec spec = {200, NULL, TEXT, 1, out, e->outbuf.len, false};
    if (k == CGI_HEADERS) {
        cgi_reply_parse(out, head, &e->cgi);
        spec.status = e->cgi.status;
        spec.reason = e->cgi.reason[0] ? e->cgi.reason : NULL;
        spec.headers = (const char *const *)e->cgi.headers;
        spec.nheaders = e->cgi.nheaders;
        spec.body = out + head;
        spec.body_len = e->outbuf.len - head;
    }
    start_inner(e, reply_fixed_new(&e->base.env, &spec));
}

static void finish(struct execd *e)
{
    if (e->finished || e->freed || !e->exited || !e->out_eof || !e->err_eof)
        return;
    e->finished = true;
    uv_timer_stop(&e->timer);
    note_stderr(e);
    char why[300];
    const char *fail = failure(e, why, sizeof why);
    if (!e->streaming) {
        if (fail)
            answer_failure(e, fail);
        else
            answer_buffered(e);
        return;
    }
    if (fail) {
        /* Too late for an error status: cut the response so the client sees it failed. */
        if (e->base.env.ex)
            exchange_fail(e->base.env.ex, EX_UPSTREAM_FAIL, "exec: %s (response cut short)", fail);
        e->base.close_after = true;
    } else if (e->chunked) {
        sender_body(e->base.env.sender, (const uint8_t *)"0\r\n\r\n", 5);
    }
    e->ended = true;
    sender_end(e->base.env.sender);
}

/* ---- streaming long output ---- */

static void stream_bytes(struct execd *e, const uint8_t *p, size_t n)
{
    if (!n)
        return;
    if (e->chunked) {
        char size[24];
        int k = snprintf(size, sizeof size, "%zx\r\n", n);
        sender_body(e->base.env.sender, (const uint8_t *)size, (size_t)k);
        sender_body(e->base.env.sender, p, n);
        sender_body(e->base.env.sender, (const uint8_t *)"\r\n", 2);
    } else {
        sender_body(e->base.env.sender, p, n);
    }
}

/* The output outgrew the buffer before the command ended: send the head and stream. */
static void start_streaming(struct execd *e)
{
    struct reply *r = &e->base;
    size_t head = 0;
    enum cgi_kind k = cgi_classify(e->outbuf.data, e->outbuf.len, false, &head);
    if (k == CGI_MORE)
        return;
    if (k == CGI_INVALID) {
        kill_group(e);
        e->finished = true;
        answer_failure(e, "command output has no end of its header section");
        return;
    }
    e->streaming = true;
    if (k == CGI_NPH) {
        /* The command writes HTTP itself; its framing is unknown to us: close afterwards. */
        r->close_after = true;
        sender_body(r->env.sender, e->outbuf.data, e->outbuf.len);
        dynbuf_reset(&e->outbuf);
        return;
    }
    struct response_spec spec = {
        .status = 200, .headers = TEXT, .nheaders = 1, .date = r->env.date};
    if (k == CGI_HEADERS) {
        cgi_reply_parse(e->outbuf.data, head, &e->cgi);
        spec.status = e->cgi.status;
        spec.reason = e->cgi.reason[0] ? e->cgi.reason : NULL;
        spec.headers = (const char *const *)e->cgi.headers;
        spec.nheaders = e->cgi.nheaders;
    }
    bool framed = e->cgi.has_length || e->cgi.chunked;
    e->chunked = !framed && r->env.http11;
    spec.framing = e->chunked ? RESPONSE_CHUNKED : RESPONSE_CLOSE;
    if (!framed && !e->chunked)
        r->close_after = true;
    spec.close = r->env.close || r->close_after;
    struct dynbuf *h = r->env.scratch;
    dynbuf_reset(h);
    response_head(h, &spec);
    sender_head(r->env.sender, h->data, h->len);
    stream_bytes(e, e->outbuf.data + head, e->outbuf.len - head);
    dynbuf_reset(&e->outbuf);
}

/* ---- libuv callbacks ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct execd *e = h->data;
    buf->base = (char *)e->rbuf;
    buf->len = sizeof e->rbuf;
}

static void on_stdout(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct execd *e = s->data;
    if (n < 0) {
        e->out_eof = true;
        uv_read_stop(s);
        finish(e);
        wake(e);
        return;
    }
    if (e->finished || e->freed) {
        return; /* an answer went out already: drain and drop */
    }
    if (!e->streaming) {
        dynbuf_append(&e->outbuf, buf->base, (size_t)n);
        if (e->outbuf.len > EXEC_BUFFER)
            start_streaming(e);
    } else {
        stream_bytes(e, (const uint8_t *)buf->base, (size_t)n);
    }
    if (e->streaming && e->base.env.full(e->base.env.data)) {
        uv_read_stop(s);
        e->out_paused = true;
    }
    wake(e);
}

static void on_stderr(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct execd *e = s->data;
    if (n < 0) {
        e->err_eof = true;
        uv_read_stop(s);
        finish(e);
        wake(e);
        return;
    }
    e->err_total += (uint64_t)n;
    size_t room = EXEC_STDERR_MAX - e->errbuf.len;
    dynbuf_append(&e->errbuf, buf->base, (size_t)n < room ? (size_t)n : room);
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
    struct execd *e = p->data;
    e->exited = true;
    e->exit_status = status;
    e->term_signal = sig;
    finish(e);
    wake(e);
}

static void on_timeout(uv_timer_t *t)
{
    struct execd *e = t->data;
    e->timed_out = true;
    kill_group(e);
}

static void on_written(uv_write_t *req, int status)
{
    struct inwrite *w = (struct inwrite *)req;
    struct execd *e = w->e;
    e->in_queued -= w->len;
    free(w);
    if (status < 0)
        e->in_broken = true; /* the command stopped reading: the rest of the body is dropped */
    if (e->holding && (e->in_broken || e->in_queued < EXEC_STDIN_MAX / 2)) {
        set_hold(e, false);
        wake(e);
    }
}

static void on_stdin_shut(uv_shutdown_t *req, int status)
{
    (void)status;
    struct execd *e = req->data;
    close_one(e, (uv_handle_t *)&e->in);
}

static void close_stdin(struct execd *e)
{
    if (e->in_closed || !e->spawned)
        return;
    e->in_closed = true;
    e->shut.data = e;
    if (uv_shutdown(&e->shut, (uv_stream_t *)&e->in, on_stdin_shut) != 0)
        close_one(e, (uv_handle_t *)&e->in);
}

/* ---- reply operations ---- */

static void exec_body(struct reply *r, const uint8_t *p, size_t n)
{
    struct execd *e = (struct execd *)r;
    if (!e->spawned || e->in_closed || e->in_broken || n == 0)
        return;
    struct inwrite *w = xmalloc(sizeof *w + n);
    w->e = e;
    w->len = n;
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&e->in, &b, 1, on_written) != 0) {
        free(w);
        e->in_broken = true;
        return;
    }
    e->in_queued += n;
    if (e->in_queued > EXEC_STDIN_MAX)
        set_hold(e, true);
}

static void exec_done(struct reply *r)
{
    struct execd *e = (struct execd *)r;
    close_stdin(e);
    if (!e->spawned) {
        char why[300];
        answer_failure(e, failure(e, why, sizeof why));
    }
}

static void exec_room(struct reply *r)
{
    struct execd *e = (struct execd *)r;
    if (e->inner) {
        e->inner->ops->room(e->inner);
        r->close_after |= e->inner->close_after;
    } else if (e->out_paused && !e->out_eof) {
        e->out_paused = false;
        uv_read_start((uv_stream_t *)&e->out, on_alloc, on_stdout);
    }
}

static void exec_free(struct reply *r)
{
    struct execd *e = (struct execd *)r;
    e->freed = true;
    kill_group(e);
    reply_free(e->inner);
    e->inner = NULL;
    if (!e->spawned) {
        e->open++; /* the process handle needs closing even after a failed spawn */
    }
    close_one(e, (uv_handle_t *)&e->proc);
    close_one(e, (uv_handle_t *)&e->in);
    close_one(e, (uv_handle_t *)&e->out);
    close_one(e, (uv_handle_t *)&e->err);
    close_one(e, (uv_handle_t *)&e->timer);
}

static const struct reply_ops EXEC_OPS = {"exec", exec_done, exec_body, exec_room, exec_free};

static void spawn(struct execd *e)
{
    uv_loop_t *loop = e->base.env.loop;
    uv_pipe_init(loop, &e->in, 0);
    uv_pipe_init(loop, &e->out, 0);
    uv_pipe_init(loop, &e->err, 0);
    uv_timer_init(loop, &e->timer);
    e->in.data = e->out.data = e->err.data = e->timer.data = e->proc.data = e;
    e->open = 4;
    struct cgi_server srv = {e->cfg->software, getenv("PATH")};
    char **env = e->base.env.ex ? cgi_env(e->base.env.ex, &e->base.env.framing, &srv) : NULL;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&e->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&e->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&e->err;
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.file = e->cfg->argv[0];
    o.args = e->cfg->argv;
    o.env = env;
    o.exit_cb = on_child_exit;
    o.flags = UV_PROCESS_DETACHED; /* own session and process group, killed as a whole */
    o.stdio_count = 3;
    o.stdio = stdio;
    int r = uv_spawn(loop, &e->proc, &o);
    cgi_free_strv(env);
    if (r) {
        e->spawn_err = r;
        e->exited = e->out_eof = e->err_eof = true;
        return;
    }
    e->spawned = true;
    e->open++;
    uv_unref((uv_handle_t *)&e->proc);
    uv_read_start((uv_stream_t *)&e->out, on_alloc, on_stdout);
    uv_read_start((uv_stream_t *)&e->err, on_alloc, on_stderr);
    if (e->cfg->timeout_ms)
        uv_timer_start(&e->timer, on_timeout, e->cfg->timeout_ms, 0);
}

struct reply *reply_exec_new(const struct reply_env *env, const struct exec_cfg *cfg)
{
    struct execd *e = xcalloc(1, sizeof *e);
    e->base.ops = &EXEC_OPS;
    e->base.env = *env;
    e->cfg = cfg;
    dynbuf_init(&e->outbuf, EXEC_BUFFER + sizeof e->rbuf);
    dynbuf_init(&e->errbuf, EXEC_STDERR_MAX);
    spawn(e);
    return &e->base;
}
