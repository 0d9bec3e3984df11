/*
 * editor owns the temporary file and the child process of one editing session. It writes and
 * reads only its own file, never draws and never touches the terminal's modes: the interface
 * hands the terminal over and takes it back around a session.
 */
#include "hspy/editor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/edit.h"
#include "hspy/fdio.h"
#include "hspy/xmalloc.h"

struct editor {
    uv_process_t proc;
    char path[4096];
    char *cmd;
    editor_done_fn done;
    void *data;
    bool cancelled;
};

const char *editor_command(void)
{
    const char *e = getenv("VISUAL");
    if (!e || !*e)
        e = getenv("EDITOR");
    return e && *e ? e : "vi";
}

int editor_load(const char *path, size_t max, struct dynbuf *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%s: %s", path,
                 !S_ISREG(st.st_mode) ? "not a regular file" : "too large");
        close(fd);
        return -1;
    }
    uint8_t buf[65536];
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (k == 0)
            break;
        if (out->len + (size_t)k > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            close(fd);
            return -1;
        }
        dynbuf_append(out, buf, (size_t)k);
    }
    close(fd);
    return 0;
}

/* A private file for the text: mkstemps creates it with mode 0600 under a random name. */
static int write_temp(struct editor *e, const uint8_t *text, size_t n, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(e->path, sizeof e->path, "%s/hspy-XXXXXX.http", dir);
    int fd = mkstemps(e->path, 5);
    if (fd < 0) {
        snprintf(err, errlen, "temporary file in %s: %s", dir, strerror(errno));
        return -1;
    }
    int werr = fdio_write_all(fd, text, n, -1);
    if (werr) {
        snprintf(err, errlen, "%s: %s", e->path, strerror(werr));
        close(fd);
        unlink(e->path);
        return -1;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: %s", e->path, strerror(errno));
        unlink(e->path);
        return -1;
    }
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct editor *e = h->data;
    free(e->cmd);
    free(e);
}

static void on_editor_exit(uv_process_t *p, int64_t status, int signo)
{
    struct editor *e = p->data;
    struct dynbuf text;
    dynbuf_init(&text, EDIT_MAX);
    char err[512] = "";
    int rc = e->cancelled ? -1 : editor_load(e->path, EDIT_MAX, &text, err, sizeof err);
    unlink(e->path);
    if (!e->cancelled)
        e->done(e->data, signo ? 128 + signo : (int)status,
                rc == 0 ? text.data ? text.data : (const uint8_t *)"" : NULL, text.len, err);
    dynbuf_cleanup(&text);
    uv_close((uv_handle_t *)p, on_closed);
}

struct editor *editor_start(uv_loop_t *loop, int term_fd, const uint8_t *text, size_t n,
                            editor_done_fn done, void *data, char *err, size_t errlen)
{
    struct editor *e = xcalloc(1, sizeof *e);
    if (write_temp(e, text, n, err, errlen) != 0) {
        free(e);
        return NULL;
    }
    e->done = done;
    e->data = data;
    /* Through the shell, so that an editor given with arguments works; the file name is a
     * positional parameter, never part of the command text. */
    e->cmd = xasprintf("%s \"$1\"", editor_command());
    char *args[] = {"sh", "-c", e->cmd, "hspy-editor", e->path, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_INHERIT_FD, .data.fd = term_fd},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t opt = {
        .exit_cb = on_editor_exit,
        .file = "/bin/sh",
        .args = args,
        .stdio_count = 3,
        .stdio = stdio,
    };
    e->proc.data = e;
    int rc = uv_spawn(loop, &e->proc, &opt);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the editor '%s': %s", editor_command(),
                 uv_strerror(rc));
        unlink(e->path);
        /* A failed spawn still initialised the handle: it must be closed. */
        uv_close((uv_handle_t *)&e->proc, on_closed);
        return NULL;
    }
    return e;
}

void editor_cancel(struct editor *e)
{
    if (!e || e->cancelled)
        return;
    e->cancelled = true;
    uv_process_kill(&e->proc, SIGTERM);
}
