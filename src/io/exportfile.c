/*
 * exportfile owns the files of a command-line export: picking the exchange out of the store as
 * it completes, writing the rendered export (and a curl command's body file), the refusal to
 * put raw bytes on a terminal, and the notes on stderr. Rendering is the pure export module's.
 * It never touches sockets or the screen.
 */
#include "hspy/exportfile.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/export.h"
#include "hspy/fdio.h"
#include "hspy/hspy.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

struct exportfile {
    struct hspy *h;
    enum export_format format;
    uint64_t id;
    const char *output; /* NULL: stdout */
    bool done;          /* the export was attempted */
    int rc;
    char err[1024];
};

static int write_file(const char *path, const struct dynbuf *b, bool executable, char *err,
                      size_t errlen)
{
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0777 : 0666)
                  : STDOUT_FILENO;
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int e = fdio_write_all(fd, b->data, b->len, -1);
    if (path && close(fd) != 0 && !e)
        e = errno;
    /* Standard output's reader went away (| head): it wanted no more, as in every mode. */
    if (!path && e == EPIPE)
        e = 0;
    if (e)
        snprintf(err, errlen, "%s: %s", path ? path : "stdout", strerror(e));
    return e ? -1 : 0;
}

int exportfile_write(const char *path, const struct dynbuf *b, bool executable, char *err,
                     size_t errlen)
{
    assert(path);
    return write_file(path, b, executable, err, errlen);
}

size_t exportfile_room(const struct exchange *ex, size_t decode_max)
{
    return 8 * (ex->req.raw.len + ex->resp.raw.len) + decode_max + ((size_t)1 << 20);
}

int exportfile_write_body(const struct exchange *ex, const struct export_config *cfg, char *err,
                          size_t errlen)
{
    assert(cfg->body_path);
    struct dynbuf body;
    dynbuf_init(&body, exportfile_room(ex, cfg->decode_max));
    struct export_result res;
    int rc = export_render(&body, ex, EXPORT_REQUEST_BODY, cfg, &res);
    if (rc == 0)
        rc = write_file(cfg->body_path, &body, false, err, errlen);
    else
        snprintf(err, errlen, "%s: %s", cfg->body_path, res.note);
    dynbuf_cleanup(&body);
    return rc;
}

/* The curl command reads a body that is not plain text from this file. */
static char *body_path(const struct exportfile *x)
{
    if (x->output)
        return xasprintf("%s.body", x->output);
    return xasprintf("hspy-%" PRIu64 "-request.body", x->id);
}

static void run_export(struct exportfile *x, const struct exchange *ex)
{
    x->done = true;
    struct hspy *h = x->h;
    char *bpath = body_path(x);
    struct export_config cfg = {&h->limits, h->opt.decode_max, bpath, x->output != NULL};
    struct dynbuf out;
    dynbuf_init(&out, exportfile_room(ex, h->opt.decode_max));
    struct export_result res;
    const char *name = export_format_name(x->format);
    if (export_render(&out, ex, x->format, &cfg, &res) != 0) {
        snprintf(x->err, sizeof x->err, "--export %s: exchange %" PRIu64 ": %s", name, x->id,
                 res.note);
        x->rc = -1;
    } else {
        bool script = !export_format_binary(x->format);
        x->rc = write_file(x->output, &out, script, x->err, sizeof x->err);
        if (x->rc == 0 && res.body_file) {
            x->rc = exportfile_write_body(ex, &cfg, x->err, sizeof x->err);
            if (x->rc == 0)
                hspy_say("the request body is in %s (the command reads it)", bpath);
        }
        /* The notes of a script are in its comments; for bytes they go to stderr. */
        if (x->rc == 0 && res.note[0] && !script)
            hspy_say("note: exchange %" PRIu64 ": %s", x->id, res.note);
        if (x->rc == 0 && res.partial)
            hspy_say("warning: exchange %" PRIu64 " lacks bytes (cut by --body-keep or "
                     "missing from the capture): the %s export lacks them too",
                     x->id, name);
    }
    dynbuf_cleanup(&out);
    free(bpath);
}

static void on_complete(void *data, struct exchange *ex)
{
    struct exportfile *x = data;
    if (ex->id == x->id && !x->done)
        run_export(x, ex);
}

struct exportfile *exportfile_open(struct hspy *h)
{
    const struct options *o = &h->opt;
    const char *output = o->output_path && strcmp(o->output_path, "-") != 0 ? o->output_path : NULL;
    if (!output && export_format_binary((enum export_format)o->export_kind) &&
        isatty(STDOUT_FILENO)) {
        hspy_fail(h,
                  "--export %s: refusing to write raw bytes to a terminal (use --output FILE "
                  "or a pipe)",
                  o->export_format);
        return NULL;
    }
    struct exportfile *x = xcalloc(1, sizeof *x);
    x->h = h;
    x->format = (enum export_format)o->export_kind;
    x->id = o->export_id;
    x->output = output;
    store_observe(&h->store, &(struct store_observer){x, NULL, NULL, on_complete, NULL});
    return x;
}

int exportfile_close(struct exportfile *x)
{
    if (!x)
        return 0;
    struct hspy *h = x->h;
    store_unobserve(&h->store, x);
    if (!x->done) {
        const struct exchange *ex = store_get(&h->store, x->id);
        if (ex)
            run_export(x, ex);
        else
            snprintf(x->err, sizeof x->err,
                     "--export: no exchange %" PRIu64 " in %s (%" PRIu64 " %s)", x->id,
                     h->input_name ? h->input_name : "the session", h->store.counters.added,
                     plural(h->store.counters.added, "exchange", "exchanges"));
        x->rc = ex ? x->rc : -1;
    }
    int rc = x->rc;
    if (rc != 0)
        hspy_fail(h, "%s", x->err);
    free(x);
    return rc;
}
