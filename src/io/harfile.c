/*
 * harfile owns writing whole HAR documents atomically: the temporary file beside the target,
 * the streamed entries (built by the pure har module), fsync and the rename. It reads the
 * store and never changes it; it never touches sockets or the screen.
 */
#define _GNU_SOURCE /* sync_file_range */
#include "hspy/harfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hspy/filter.h"
#include "hspy/har.h"
#include "hspy/hspy.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

/* Text buffered before a write. */
enum { HARFILE_FLUSH_AT = 4 << 20 };

struct writer {
    int fd;
    struct dynbuf buf;
    int err;         /* first write error */
    uint64_t offset; /* bytes written so far */
};

struct harfile_job {
    struct hspy *h;
    struct writer w;
    struct dynbuf entry; /* one entry's text, before it joins w.buf */
    uint64_t *ids;       /* a copy of the caller's */
    size_t n, next;      /* ids, and the first not looked at yet */
    struct harfile_stats stats;
    char *path, *tmp; /* tmp: the temporary file beside path (unused when direct) */
    bool direct;      /* path is written in place (a pipe, a device) */
    bool ended;       /* harfile_end ran: the document is written whole */
    bool synced;      /* harfile_synced ran: the fsync was done elsewhere */
};

/*
 * Writes the buffered text. Where the system can, the disk writes of what was just written start
 * now, without waiting for them: by the end of a long document most of it is on disk, and the
 * fsync that puts the document in place (a worker thread's, for the interface's w) waits only
 * for the rest.
 */
static void flush(struct writer *w)
{
    const uint8_t *p = w->buf.data;
    size_t n = w->buf.len;
    uint64_t from = w->offset;
    while (n > 0 && !w->err) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            w->err = errno;
        else
            p += k, n -= (size_t)k, w->offset += (uint64_t)k;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    if (w->offset > from) /* a pipe or a device refuses: nothing to start then */
        sync_file_range(w->fd, (off_t)from, (off_t)(w->offset - from), SYNC_FILE_RANGE_WRITE);
#endif
    dynbuf_reset(&w->buf);
}

/* Largest entry one exchange can make (escapes grow bytes up to 6 times; base64 by 4/3). */
static size_t entry_max(const struct options *o)
{
    size_t raw = (size_t)o->head_max + o->body_keep;
    return 12 * (2 * raw + o->decode_max) + ((size_t)1 << 20);
}

static bool wanted(const struct exchange *ex)
{
    return (ex->flags & EX_DONE) || ((ex->req.flags | ex->resp.flags) & MSG_STARTED);
}

static int64_t earliest(const struct hspy *h, const uint64_t *ids, size_t n)
{
    int64_t t0 = 0;
    for (size_t i = 0; i < n; i++) {
        const struct exchange *ex = store_get(&h->store, ids[i]);
        for (int k = 0; ex && k < T__COUNT; k++)
            if (ex->t[k] && (!t0 || ex->t[k] < t0))
                t0 = ex->t[k];
    }
    return t0 ? t0 : h->started_ns ? h->started_ns : hspy_now();
}

/* Appends the entry of ids[j->next] (or counts it missing or dropped) and moves on. */
static void entry_step(struct harfile_job *j)
{
    const struct exchange *ex = store_get(&j->h->store, j->ids[j->next++]);
    if (!ex || !wanted(ex)) {
        j->stats.missing += ex == NULL;
        return;
    }
    struct har_config cfg = {&j->h->limits, j->h->opt.decode_max, "hspy"};
    dynbuf_reset(&j->entry);
    if (har_stream_entry(&j->entry, ex, &cfg, j->stats.written == 0) != 0) {
        j->stats.dropped++;
        return;
    }
    dynbuf_append(&j->w.buf, j->entry.data, j->entry.len);
    j->stats.written++;
    if (j->w.buf.len >= HARFILE_FLUSH_AT)
        flush(&j->w);
}

/* The temporary file takes the mode other output files get: 0666 less the umask. */
static void set_mode(int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

struct harfile_job *harfile_begin(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                                  char *err, size_t errlen)
{
    /* A pipe or a device (/dev/stdout) cannot be replaced: it is written to directly. */
    struct stat sb;
    bool direct = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
    char *tmp = xasprintf("%s.XXXXXX", path);
    int fd = direct ? open(path, O_WRONLY | O_CLOEXEC) : mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return NULL;
    }
    if (!direct)
        set_mode(fd);
    struct harfile_job *j = xcalloc(1, sizeof *j);
    j->h = h;
    j->direct = direct;
    j->path = xstrdup(path);
    j->tmp = tmp;
    j->n = n;
    j->ids = xmalloc((n ? n : 1) * sizeof *ids);
    if (n)
        memcpy(j->ids, ids, n * sizeof *ids);
    j->w.fd = fd;
    dynbuf_init(&j->w.buf, HARFILE_FLUSH_AT + entry_max(&h->opt));
    dynbuf_init(&j->entry, entry_max(&h->opt));
    json_t *pages = json_array();
    const char *title = h->title[0] ? h->title : command_name(h->opt.cmd);
    json_array_append_new(pages, har_page("hspy", title, earliest(h, ids, n)));
    har_stream_begin(&j->w.buf, pages);
    json_decref(pages);
    return j;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool harfile_step(struct harfile_job *j, uint64_t budget_ns)
{
    uint64_t now = monotonic_ns();
    uint64_t until = budget_ns > UINT64_MAX - now ? UINT64_MAX : now + budget_ns;
    while (j->next < j->n && !j->w.err) {
        entry_step(j);
        if (monotonic_ns() >= until)
            break;
    }
    return j->next < j->n && !j->w.err;
}

size_t harfile_progress(const struct harfile_job *j, size_t *total)
{
    *total = j->n;
    return j->next;
}

const char *harfile_path(const struct harfile_job *j)
{
    return j->path;
}

int harfile_end(struct harfile_job *j)
{
    if (!j->ended) {
        harfile_step(j, UINT64_MAX);
        dynbuf_adds(&j->w.buf, HAR_STREAM_END);
        flush(&j->w);
        j->ended = true;
    }
    return j->w.err || j->direct ? -1 : j->w.fd;
}

void harfile_synced(struct harfile_job *j, int err)
{
    j->synced = true;
    if (err && !j->w.err)
        j->w.err = err;
}

int harfile_finish(struct harfile_job *j, struct harfile_stats *stats, char *err, size_t errlen)
{
    harfile_end(j);
    if (!j->w.err && !j->direct && !j->synced && fsync(j->w.fd) != 0)
        j->w.err = errno;
    if (close(j->w.fd) != 0 && !j->w.err)
        j->w.err = errno;
    if (!j->w.err && !j->direct && rename(j->tmp, j->path) != 0)
        j->w.err = errno;
    if (j->w.err)
        snprintf(err, errlen, "%s: %s", j->path, strerror(j->w.err));
    if (j->w.err && !j->direct)
        unlink(j->tmp);
    int rc = j->w.err ? -1 : 0;
    if (stats)
        *stats = j->stats;
    dynbuf_cleanup(&j->w.buf);
    dynbuf_cleanup(&j->entry);
    free(j->ids);
    free(j->tmp);
    free(j->path);
    free(j);
    return rc;
}

int harfile_probe(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    int e = 0;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        e = EISDIR;
    } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (access(path, W_OK) != 0)
            e = errno;
    } else {
        char *tmp = xasprintf("%s.XXXXXX", path);
        int fd = mkstemp(tmp);
        if (fd < 0) {
            e = errno;
        } else {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
    }
    if (e)
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    return e ? -1 : 0;
}

int harfile_write(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                  struct harfile_stats *stats, char *err, size_t errlen)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    struct harfile_job *j = harfile_begin(h, ids, n, path, err, errlen);
    return j ? harfile_finish(j, stats, err, errlen) : -1;
}

int harfile_save(struct hspy *h)
{
    struct store *st = &h->store;
    char why[256];
    struct filter *f = h->opt.filter ? filter_compile(h->opt.filter, why, sizeof why, NULL) : NULL;
    size_t n = 0;
    uint64_t span = store_end_id(st) - store_first_id(st);
    uint64_t *ids = xmalloc((span ? span : 1) * sizeof *ids);
    for (uint64_t id = store_first_id(st); id < store_end_id(st); id++) {
        const struct exchange *ex = store_get(st, id);
        if (ex && filter_match(f, ex))
            ids[n++] = id;
    }
    filter_free(f);
    struct harfile_stats stats;
    int rc = harfile_write(h, ids, n, h->opt.save_path, &stats, h->err, sizeof h->err);
    free(ids);
    if (rc == 0 && st->counters.evicted)
        hspy_say("%s: %" PRIu64 " %s saved; %" PRIu64 " older %s been "
                 "evicted (--max-flows, --max-memory)",
                 h->opt.save_path, stats.written, plural(stats.written, "exchange", "exchanges"),
                 st->counters.evicted, plural(st->counters.evicted, "one had", "ones had"));
    if (rc == 0 && stats.dropped)
        hspy_say("%s: %" PRIu64 " %s too large for an entry", h->opt.save_path, stats.dropped,
                 plural(stats.dropped, "exchange was", "exchanges were"));
    return rc;
}
