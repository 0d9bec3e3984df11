/*
 * sinks owns the output side of a session: the stdout printer (access-log line, full record,
 * JSON lines) and the streamed HAR file, wired to the store as observers. The formats are pure
 * core modules (textlog, jsonout, har); this file decides what is written where and when, and
 * survives the environment failing under it (full disk, closed pipe, file size limit). It
 * never touches sockets or the terminal screen.
 *
 * The HAR file is kept a complete document after every entry: each write puts the entry and
 * the closing brackets at the end, and the next entry overwrites those brackets. A crash
 * therefore leaves a valid file with every completed entry. When the file cannot be seeked (a
 * pipe) entries are appended and the brackets written at close.
 */
#include "hspy/sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/fdio.h"
#include "hspy/filter.h"
#include "hspy/har.h"
#include "hspy/hspy.h"
#include "hspy/jsonout.h"
#include "hspy/textlog.h"
#include "hspy/xmalloc.h"

/* What failed writes did to one destination, for the one-line reports. */
struct health {
    const char *name;  /* "stdout" or the HAR path */
    int err;           /* errno of the failure being reported, 0 when writing works */
    uint64_t lost;     /* records this destination could not take */
    uint64_t lost_err; /* lost when err was first reported */
    int last_err;      /* errno of the latest failure, kept after writing recovers */
};

struct stream {
    int fd;
    struct dynbuf buf;
    uint64_t pending; /* records in buf */
    bool closed;      /* EPIPE: nobody reads any more */
    struct health health;
};

struct harfile {
    int fd; /* -1 without --har */
    char *path;
    bool seekable;
    bool begun;      /* the document's beginning is in the file */
    bool first;      /* no entry written yet */
    bool dirty_tail; /* a failed write may have left bytes past the closing brackets */
    uint64_t end;    /* offset where the next entry goes (where the closing brackets start) */
    struct dynbuf buf;
    json_t *pages;
    struct har_config cfg;
    struct health health;
};

struct sinks;

/* A stdout format: appends one exchange's record to out; returns -1 when it did not fit. */
struct printer {
    int (*render)(struct sinks *s, struct dynbuf *out, const struct exchange *ex);
};

struct sinks {
    struct hspy *h;
    const struct printer *printer; /* NULL: nothing on stdout */
    struct stream out;
    struct harfile har;
    struct filter *filter;
    struct jsonout_config json;
    struct textlog_config text;
    struct jsonout_clock clock; /* the printed record's time of day, kept between records */
    struct sinks_counters counters;
    bool quiet; /* the TUI owns the terminal: no stderr lines until close */
    char error[512];
};

/* ---- printers ---------------------------------------------------------------------------- */

static int render_line(struct sinks *s, struct dynbuf *out, const struct exchange *ex)
{
    textlog_line(out, ex, &s->clock);
    return out->len < out->max ? 0 : -1;
}

static int render_full(struct sinks *s, struct dynbuf *out, const struct exchange *ex)
{
    textlog_full(out, ex, &s->text);
    return out->len < out->max ? 0 : -1;
}

static int render_json(struct sinks *s, struct dynbuf *out, const struct exchange *ex)
{
    return jsonout_line(out, ex, &s->json);
}

static const struct printer PRINT_LINE = {render_line};
static const struct printer PRINT_FULL = {render_full};
static const struct printer PRINT_JSON = {render_json};
static const struct printer *const LOG_PRINTERS[] = {
    [LOG_LINE] = &PRINT_LINE,
    [LOG_FULL] = &PRINT_FULL,
    [LOG_NONE] = NULL,
};

/* ---- writing and its failures ------------------------------------------------------------ */

static void say(const struct sinks *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct sinks *s, const char *fmt, ...)
{
    if (s->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    hspy_vsay(fmt, ap);
    va_end(ap);
}

/* A write failed: count it, remember it, and say so once per kind of failure. */
static void failed(struct sinks *s, struct health *hl, int err, uint64_t records)
{
    s->counters.write_errors++;
    s->counters.lost += records;
    hl->lost += records;
    hl->last_err = err;
    snprintf(s->error, sizeof s->error, "%s: %s", hl->name, strerror(err));
    if (hl->err == err)
        return;
    hl->err = err;
    hl->lost_err = hl->lost - records;
    say(s, "%s: write failed: %s; output is lost until it recovers (still running)", hl->name,
        strerror(err));
}

static void succeeded(struct sinks *s, struct health *hl)
{
    if (!hl->err)
        return;
    say(s, "%s: writing again; %" PRIu64 " records were lost", hl->name, hl->lost - hl->lost_err);
    hl->err = 0;
}

/* ---- stdout ------------------------------------------------------------------------------ */

static void stream_flush(struct sinks *s)
{
    struct stream *o = &s->out;
    if (o->buf.len == 0)
        return;
    int err = o->closed ? EPIPE : fdio_write_all(o->fd, o->buf.data, o->buf.len, -1);
    if (err == 0) {
        succeeded(s, &o->health);
    } else if (err == EPIPE) {
        /* The reader went away (| head): like any pipeline member, stop printing quietly. */
        o->closed = true;
        s->counters.stdout_closed = true;
        s->counters.lost += o->pending;
    } else {
        failed(s, &o->health, err, o->pending);
    }
    o->pending = 0;
    dynbuf_reset(&o->buf);
}

static void print_exchange(struct sinks *s, const struct exchange *ex)
{
    struct stream *o = &s->out;
    if (o->closed) {
        s->counters.lost++;
        return;
    }
    if (o->buf.len >= SINKS_FLUSH_AT)
        stream_flush(s);
    size_t before = o->buf.len;
    if (s->printer->render(s, &o->buf, ex) != 0) {
        o->buf.len = before;
        o->buf.data[before] = '\0';
        s->counters.lost++;
        snprintf(s->error, sizeof s->error, "stdout: exchange %" PRIu64 " too large to print",
                 ex->id);
        say(s, "%s", s->error);
        return;
    }
    o->pending++;
    s->counters.printed++;
}

/* ---- HAR file ---------------------------------------------------------------------------- */

static const size_t END_LEN = sizeof HAR_STREAM_END - 1;

/* Puts the document's beginning in front of the buffered text when the file lacks it. */
static int har_prefix(struct harfile *f)
{
    if (f->begun)
        return 0;
    return har_stream_begin(&f->buf, f->pages);
}

/* Writes buf (ending with the closing brackets when seekable); returns 0 or errno. */
static int har_commit(struct harfile *f)
{
    if (!f->seekable)
        return fdio_write_all(f->fd, f->buf.data, f->buf.len, -1);
    uint64_t at = f->begun ? f->end : 0;
    int err = fdio_write_all(f->fd, f->buf.data, f->buf.len, (int64_t)at);
    if (err)
        return err;
    f->end = at + f->buf.len - END_LEN;
    /* After a failed write, bytes of it may lie past the new end: cut them off. */
    if (f->dirty_tail && ftruncate(f->fd, (off_t)(f->end + END_LEN)) == 0)
        f->dirty_tail = false;
    return 0;
}

/*
 * A failed write may have overwritten the closing brackets with part of an entry: cut the file
 * back to the last whole entry and close the document again, so it stays valid. Cutting frees
 * the space the failed write took, so on a full disk the few bytes usually fit.
 */
static void har_repair(struct harfile *f)
{
    if (!f->seekable || !f->begun)
        return;
    if (ftruncate(f->fd, (off_t)f->end) == 0 &&
        fdio_write_all(f->fd, (const uint8_t *)HAR_STREAM_END, END_LEN, (int64_t)f->end) == 0)
        f->dirty_tail = false;
}

static void har_write(struct sinks *s, const struct exchange *ex)
{
    struct harfile *f = &s->har;
    dynbuf_reset(&f->buf);
    bool ok = har_prefix(f) == 0 && har_stream_entry(&f->buf, ex, &f->cfg, f->first) == 0 &&
              (!f->seekable || dynbuf_adds(&f->buf, HAR_STREAM_END) == END_LEN);
    if (!ok) {
        s->counters.lost++;
        f->health.lost++;
        snprintf(s->error, sizeof s->error, "%s: exchange %" PRIu64 " too large for an entry",
                 f->path, ex->id);
        say(s, "%s", s->error);
        return;
    }
    int err = har_commit(f);
    if (err) {
        f->dirty_tail = f->seekable;
        har_repair(f);
        failed(s, &f->health, err, 1);
        return;
    }
    f->begun = true;
    f->first = false;
    s->counters.har_entries++;
    succeeded(s, &f->health);
}

/* Writes the beginning (and, when seekable, the end) of an empty document. Returns 0 or the
 * errno of a failed write, for the caller to report. */
static int har_begin(struct sinks *s)
{
    struct harfile *f = &s->har;
    dynbuf_reset(&f->buf);
    if (har_prefix(f) != 0)
        return 0;
    if (f->seekable)
        dynbuf_adds(&f->buf, HAR_STREAM_END);
    int err = har_commit(f);
    if (err) {
        f->dirty_tail = f->seekable;
        return err;
    }
    f->begun = true;
    return 0;
}

static void har_finish(struct sinks *s)
{
    struct harfile *f = &s->har;
    int err = f->begun ? 0 : har_begin(s);
    if (err)
        failed(s, &f->health, err, 0);
    if (f->begun && !f->seekable) {
        err = fdio_write_all(f->fd, (const uint8_t *)HAR_STREAM_END, END_LEN, -1);
        if (err)
            failed(s, &f->health, err, 0);
    }
    if (f->dirty_tail)
        har_repair(f);
    if (close(f->fd) != 0)
        failed(s, &f->health, errno, 0);
    f->fd = -1;
}

static int har_open(struct sinks *s, const char *path, const char *title)
{
    struct harfile *f = &s->har;
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (f->fd < 0)
        return hspy_fail(s->h, "%s: %s", path, strerror(errno)), -1;
    struct stat st;
    f->seekable = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
    f->path = xstrdup(path);
    f->health.name = f->path;
    f->first = true;
    f->pages = json_array();
    json_array_append_new(f->pages, har_page("hspy", title, hspy_now()));
    f->cfg.pageref = "hspy";
    /* A file that cannot take even the document's beginning is refused now, as --pcapng's. */
    int err = har_begin(s);
    if (err)
        return hspy_fail(s->h, "%s: %s", path, strerror(err)), -1;
    return 0;
}

/* ---- store observer ---------------------------------------------------------------------- */

static void emit(struct sinks *s, const struct exchange *ex)
{
    if (s->filter && !filter_match(s->filter, ex)) {
        s->counters.filtered++;
        return;
    }
    if (s->printer)
        print_exchange(s, ex);
    if (s->har.fd >= 0)
        har_write(s, ex);
}

static void on_complete(void *data, struct exchange *ex)
{
    emit(data, ex);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

/* Largest record one exchange can produce: escapes grow bytes up to 6 times (\u001b). */
static size_t record_max(const struct options *o)
{
    size_t raw = (size_t)o->head_max + o->body_keep;
    return 12 * (2 * raw + o->decode_max) + 8 * o->body_limit + ((size_t)1 << 20);
}

static void configure(struct sinks *s, const struct hspy *h)
{
    const struct options *o = &h->opt;
    /* One printer per run: the line or the JSON record keeps the clock. */
    jsonout_clock_init(&s->clock);
    s->json = (struct jsonout_config){&h->limits, o->decode_max, o->body_limit, &s->clock};
    s->text = (struct textlog_config){&h->limits, o->body_limit, o->decode_max};
    s->har.cfg = (struct har_config){&h->limits, o->decode_max, NULL};
    s->quiet = h->interactive;
    if (!h->interactive)
        s->printer = o->json ? &PRINT_JSON : LOG_PRINTERS[o->log_style];
    dynbuf_init(&s->out.buf, SINKS_FLUSH_AT + record_max(o));
    dynbuf_init(&s->har.buf, record_max(o));
    s->out.health.name = "stdout";
    s->har.fd = -1;
}

static void destroy(struct sinks *s)
{
    if (s->har.fd >= 0)
        close(s->har.fd);
    filter_free(s->filter);
    json_decref(s->har.pages);
    free(s->har.path);
    dynbuf_cleanup(&s->out.buf);
    dynbuf_cleanup(&s->har.buf);
    free(s);
}

struct sinks *sinks_open_fd(struct hspy *h, int out_fd)
{
    struct sinks *s = xcalloc(1, sizeof *s);
    s->h = h;
    s->out.fd = out_fd;
    configure(s, h);
    if (h->opt.filter) {
        char err[256];
        s->filter = filter_compile(h->opt.filter, err, sizeof err, NULL);
        if (!s->filter) {
            hspy_fail(h, "--filter: %s", err);
            destroy(s);
            return NULL;
        }
    }
    const char *title = h->title[0] ? h->title : command_name(h->opt.cmd);
    if (h->opt.har_path && har_open(s, h->opt.har_path, title) != 0) {
        destroy(s);
        return NULL;
    }
    store_observe(&h->store, &(struct store_observer){s, NULL, NULL, on_complete, NULL});
    return s;
}

struct sinks *sinks_open(struct hspy *h)
{
    return sinks_open_fd(h, STDOUT_FILENO);
}

void sinks_flush(struct sinks *s)
{
    if (s)
        stream_flush(s);
}

/* Exchanges the sources never completed still deserve a record (flagged as in flight). */
static void emit_in_flight(struct sinks *s)
{
    struct store *st = &s->h->store;
    for (uint64_t id = store_first_id(st); id < store_end_id(st); id++) {
        const struct exchange *ex = store_get(st, id);
        if (ex && !(ex->flags & EX_DONE) && ((ex->req.flags | ex->resp.flags) & MSG_STARTED))
            emit(s, ex);
    }
}

/* Says what each destination lost. A write error anywhere (not a closed pipe on stdout) makes
 * the session's exit status 1. */
static void report_losses(struct sinks *s)
{
    const struct health *all[] = {&s->out.health, &s->har.health};
    for (size_t i = 0; i < 2; i++)
        if (all[i]->lost && all[i]->err)
            hspy_say("%s: %" PRIu64 " records could not be written (%s)", all[i]->name,
                     all[i]->lost, strerror(all[i]->err));
        else if (all[i]->lost)
            hspy_say("%s: %" PRIu64 " records could not be written", all[i]->name, all[i]->lost);
        else if (all[i]->last_err) /* only the document's end or the close failed */
            hspy_say("%s: write failed: %s", all[i]->name, strerror(all[i]->last_err));
    if (s->counters.write_errors)
        s->h->write_failed = true;
}

void sinks_close(struct sinks *s)
{
    if (!s)
        return;
    store_unobserve(&s->h->store, s);
    if (s->printer || s->har.fd >= 0)
        emit_in_flight(s);
    stream_flush(s);
    if (s->har.fd >= 0)
        har_finish(s);
    report_losses(s);
    destroy(s);
}

const struct sinks_counters *sinks_counters(const struct sinks *s)
{
    return &s->counters;
}

const char *sinks_error(const struct sinks *s)
{
    return s->error;
}
