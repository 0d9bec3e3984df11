/*
 * harfile owns writing whole HAR documents atomically: the temporary file beside the target,
 * the streamed entries (built by the pure har module), fsync and the rename. It reads the
 * store and never changes it; it never touches sockets or the screen.
 */
#include "hspy/harfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/filter.h"
#include "hspy/har.h"
#include "hspy/hspy.h"
#include "hspy/xmalloc.h"

/* Text buffered before a write. */
enum { HARFILE_FLUSH_AT = 4 << 20 };

struct writer {
    int fd;
    struct dynbuf buf;
    int err; /* first write error */
};

static void flush(struct writer *w)
{
    const uint8_t *p = w->buf.data;
    size_t n = w->buf.len;
    while (n > 0 && !w->err) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            w->err = errno;
        else
            p += k, n -= (size_t)k;
    }
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

static void entries(struct hspy *h, struct writer *w, const uint64_t *ids, size_t n,
                    struct harfile_stats *st)
{
    struct har_config cfg = {&h->limits, h->opt.decode_max, "hspy"};
    struct dynbuf entry;
    dynbuf_init(&entry, entry_max(&h->opt));
    bool first = true;
    for (size_t i = 0; i < n && !w->err; i++) {
        const struct exchange *ex = store_get(&h->store, ids[i]);
        if (!ex || !wanted(ex)) {
            st->missing += ex == NULL;
            continue;
        }
        dynbuf_reset(&entry);
        if (har_stream_entry(&entry, ex, &cfg, first) != 0) {
            st->dropped++;
            continue;
        }
        dynbuf_append(&w->buf, entry.data, entry.len);
        first = false;
        st->written++;
        if (w->buf.len >= HARFILE_FLUSH_AT)
            flush(w);
    }
    dynbuf_cleanup(&entry);
}

/* The temporary file takes the mode other output files get: 0666 less the umask. */
static void set_mode(int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

int harfile_write(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                  struct harfile_stats *stats, char *err, size_t errlen)
{
    struct harfile_stats own = {0};
    struct harfile_stats *st = stats ? stats : &own;
    memset(st, 0, sizeof *st);
    /* A pipe or a device (/dev/stdout) cannot be replaced: it is written to directly. */
    struct stat sb;
    bool direct = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
    char *tmp = xasprintf("%s.XXXXXX", path);
    struct writer w = {direct ? open(path, O_WRONLY | O_CLOEXEC) : mkstemp(tmp), {0}, 0};
    if (w.fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    if (!direct)
        set_mode(w.fd);
    dynbuf_init(&w.buf, HARFILE_FLUSH_AT + entry_max(&h->opt));
    json_t *pages = json_array();
    const char *title = h->title[0] ? h->title : command_name(h->opt.cmd);
    json_array_append_new(pages, har_page("hspy", title, earliest(h, ids, n)));
    har_stream_begin(&w.buf, pages);
    json_decref(pages);
    entries(h, &w, ids, n, st);
    dynbuf_adds(&w.buf, HAR_STREAM_END);
    flush(&w);
    if (!w.err && !direct && fsync(w.fd) != 0)
        w.err = errno;
    if (close(w.fd) != 0 && !w.err)
        w.err = errno;
    if (!w.err && !direct && rename(tmp, path) != 0)
        w.err = errno;
    if (w.err)
        snprintf(err, errlen, "%s: %s", path, strerror(w.err));
    if (w.err && !direct)
        unlink(tmp);
    dynbuf_cleanup(&w.buf);
    free(tmp);
    return w.err ? -1 : 0;
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
        fprintf(stderr,
                "hspy: %s: %" PRIu64 " exchanges saved; %" PRIu64 " older ones had been "
                "evicted (--max-flows, --max-memory)\n",
                h->opt.save_path, stats.written, st->counters.evicted);
    if (rc == 0 && stats.dropped)
        fprintf(stderr, "hspy: %s: %" PRIu64 " exchanges were too large for an entry\n",
                h->opt.save_path, stats.dropped);
    return rc;
}
