/*
 * harsource owns reading a HAR file: the file handle, the read buffer, the splitter and the
 * import, batch by batch, with progress and notes. jansson parses each piece the splitter
 * hands out; harimport turns entries into exchanges. A pipe on stdin is read with read(2),
 * without blocking once started: its owner polls harsource_fd when a read says to wait. It
 * never draws, never prints (errors and notes are kept for the caller) and never touches the
 * loop.
 */
#include "hspy/harsource.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/infile.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

static void note(struct harsource *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct harsource *s, const char *fmt, ...)
{
    if (s->nnotes >= HARSOURCE_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->notes[s->nnotes++], HARSOURCE_NOTE_LEN, fmt, ap);
    va_end(ap);
}

bool harsource_sniff(const uint8_t *p, size_t n)
{
    if (n >= 4 && memcmp(p, "\n\r\r\n", 4) == 0)
        return false; /* pcapng section header block */
    if (n == 1 && p[0] == '\n')
        return false; /* a pipe: one byte cannot tell, and captures are what pipes carry */
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    else if (n == 1 && p[0] == 0xEF)
        return true;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i == n ? n == 1 && p[0] != '\n' : p[i] == '{' || p[i] == '[';
}

/* What a fill found: bytes, the end (or an error: s->error), or nothing yet from a pipe. */
enum fill { FILL_BYTES, FILL_END, FILL_WAIT };

/*
 * A pipe is read with read(2), which returns what has arrived (fread would wait for a whole
 * HARSOURCE_READ): blocking while opening, before any screen; non-blocking once started, when
 * FILL_WAIT hands the wait to the loop. The byte input detection pushed back comes first.
 */
static enum fill read_pipe(struct harsource *s)
{
    if (!s->peeked) {
        s->peeked = true;
        int c = getc(s->file);
        if (c != EOF) {
            s->buf[0] = (uint8_t)c;
            s->len = 1;
            return FILL_BYTES;
        }
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, HARSOURCE_READ);
        if (n > 0) {
            s->len = (size_t)n;
            return FILL_BYTES;
        }
        if (n < 0 && !s->nonblocking && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Opening waits, even on a descriptor inherited non-blocking. */
            struct pollfd pfd = {s->fd, POLLIN, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (n < 0 && errno == EINTR && !s->nonblocking)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return FILL_WAIT;
        if (n < 0)
            snprintf(s->error, sizeof s->error, "%s: %s", s->name, strerror(errno));
        return FILL_END;
    }
}

/* Reads more of the input into the buffer. */
static enum fill fill(struct harsource *s)
{
    if (s->eof)
        return FILL_END;
    s->pos = 0;
    s->len = 0;
    enum fill f;
    if (s->fd >= 0) {
        f = read_pipe(s);
    } else {
        s->len = fread(s->buf, 1, HARSOURCE_READ, s->file);
        f = s->len ? FILL_BYTES : FILL_END;
        if (!s->len && ferror(s->file))
            snprintf(s->error, sizeof s->error, "%s: %s", s->name, strerror(errno));
    }
    if (f == FILL_END)
        s->eof = true;
    if (f == FILL_BYTES && s->load)
        s->load->bytes_read += s->len;
    return f;
}

/* Parses a piece's JSON text; NULL with s->error set when it is not valid JSON. */
static json_t *parse(struct harsource *s, const struct harsplit_piece *p)
{
    json_error_t e;
    json_t *v = json_loadb((const char *)p->text, p->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (v)
        return v;
    /* jansson counts from the piece's start; the user wants the file's line and column. */
    uint32_t line = p->line + (uint32_t)(e.line > 0 ? e.line - 1 : 0);
    uint32_t col = e.line <= 1 ? p->column + (uint32_t)(e.column > 0 ? e.column - 1 : 0)
                               : (uint32_t)(e.column > 0 ? e.column : 1);
    snprintf(s->error, sizeof s->error, "%s: not valid JSON at line %u, column %u: %s", s->name,
             line, col, e.text);
    return NULL;
}

enum step { STEP_WAIT, STEP_ENTRY, STEP_END, STEP_FAIL };

/*
 * Advances to the next entry (returned in *entry, new reference), handling log members on the
 * way. STEP_END at the document's end, STEP_FAIL with s->error set, STEP_WAIT when a pipe has
 * nothing more yet.
 */
static enum step next(struct harsource *s, json_t **entry)
{
    for (;;) {
        enum fill f = s->pos == s->len ? fill(s) : FILL_BYTES;
        if (f == FILL_WAIT)
            return STEP_WAIT;
        if (f == FILL_END) {
            if (s->error[0])
                return STEP_FAIL;
            if (harsplit_end(&s->split) == HARSPLIT_DONE)
                return STEP_END;
            snprintf(s->error, sizeof s->error, "%s: %s", s->name, s->split.error);
            return STEP_FAIL;
        }
        enum harsplit_event ev;
        const struct harsplit_piece *piece;
        s->pos += harsplit_feed(&s->split, s->buf + s->pos, s->len - s->pos, &ev, &piece);
        if (ev == HARSPLIT_ERROR) {
            snprintf(s->error, sizeof s->error, "%s: %s", s->name, s->split.error);
            return STEP_FAIL;
        }
        /* A pipe's document ends at its closing brace: a writer that stays after it (a shell
         * still holding the pipe, `cat x.har; sleep 60`) is not waited for. What follows is
         * not read; in a file it is, to check that only whitespace follows. */
        if (ev == HARSPLIT_DONE && s->fd >= 0)
            return STEP_END;
        if (ev != HARSPLIT_MEMBER && ev != HARSPLIT_ENTRY)
            continue;
        json_t *v = parse(s, piece);
        if (!v)
            return STEP_FAIL;
        if (ev == HARSPLIT_ENTRY) {
            *entry = v;
            return STEP_ENTRY;
        }
        char why[256] = "";
        int rc = piece->top ? 0 : harimport_log_member(&s->imp, piece->key, v, why, sizeof why);
        json_decref(v);
        if (rc != 0) {
            snprintf(s->error, sizeof s->error, "%s: %s", s->name, why);
            return STEP_FAIL;
        }
    }
}

int harsource_open(struct harsource *s, const char *path, const char *name, char *err,
                   size_t errlen)
{
    memset(s, 0, sizeof *s);
    struct infile in;
    if (infile_open(&in, path, name, err, errlen) < 0)
        return -1;
    s->file = in.file;
    s->name = in.name;
    s->seekable = in.seekable;
    s->fd = -1;
    struct stat st;
    if (s->file == stdin && fstat(STDIN_FILENO, &st) == 0 &&
        (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        s->fd = STDIN_FILENO;
    s->own_load.file_size = in.size;
    s->buf = xmalloc(HARSOURCE_READ);
    harsplit_init(&s->split, 0);
    /* Log members before the first entry (log.version) are checked with a scratch import. */
    struct harimport_config none = {0};
    harimport_init(&s->imp, &none);
    s->imp_live = true;
    enum step st0 = next(s, &s->pending);
    if (st0 == STEP_FAIL) {
        snprintf(err, errlen, "%s", s->error);
        harsource_close(s);
        return -1;
    }
    s->done = st0 == STEP_END;
    return 0;
}

void harsource_start(struct harsource *s, const struct harimport_config *cfg,
                     struct hspy_load *load)
{
    /* Keep what the scratch import learnt (the creator, for notes) in the real one. */
    char creator[sizeof s->imp.synth.creator];
    memcpy(creator, s->imp.synth.creator, sizeof creator);
    harimport_cleanup(&s->imp);
    harimport_init(&s->imp, cfg);
    memcpy(s->imp.synth.creator, creator, sizeof creator);
    s->load = load ? load : &s->own_load;
    uint64_t size = s->own_load.file_size, read = s->split.pos;
    memset(s->load, 0, sizeof *s->load);
    s->load->file_size = size;
    s->load->bytes_read = read;
    s->load->active = true;
    s->load->stream = s->fd >= 0;
    s->load->entries = true;
    /* From now on the loop waits for the pipe (harsource_fd), not a read. */
    if (s->fd >= 0) {
        s->fd_flags = fcntl(s->fd, F_GETFL);
        if (s->fd_flags >= 0 && fcntl(s->fd, F_SETFL, s->fd_flags | O_NONBLOCK) == 0)
            s->nonblocking = true;
    }
}

int harsource_fd(const struct harsource *s)
{
    return s->nonblocking ? s->fd : -1;
}

static void import(struct harsource *s, json_t *entry)
{
    harimport_entry(&s->imp, entry);
    json_decref(entry);
    s->load->packets = s->imp.counters.entries;
}

int harsource_read(struct harsource *s)
{
    if (s->pending) {
        import(s, s->pending);
        s->pending = NULL;
    }
    bool wait = false;
    for (unsigned i = 0; i < HARSOURCE_BATCH && !s->done && !wait; i++) {
        json_t *entry = NULL;
        enum step st = next(s, &entry);
        if (st == STEP_ENTRY)
            import(s, entry);
        else if (st == STEP_WAIT)
            wait = true;
        else
            s->done = true;
    }
    /* The writer pauses: show what no later entry can reorder. */
    if (wait)
        harimport_settle(&s->imp);
    if (s->load)
        s->load->bytes_read = s->split.pos;
    return s->done ? 0 : wait ? HARSOURCE_WAIT : 1;
}

static void final_notes(struct harsource *s)
{
    const struct harimport_counters *c = &s->imp.counters;
    if (c->skipped)
        note(s, "%s: %llu %s could not be read (%s)", s->name, (unsigned long long)c->skipped,
             plural(c->skipped, "entry", "entries"), s->imp.problem);
    if (c->renumbered)
        note(s, "%s: %llu %s could not keep the id %s had in the file", s->name,
             (unsigned long long)c->renumbered, plural(c->renumbered, "exchange", "exchanges"),
             plural(c->renumbered, "it", "they"));
    if (c->differs)
        note(s,
             "%s: %llu %s bytes do not read as %s record says (edited?); %s raw "
             "bytes are shown as recorded",
             s->name, (unsigned long long)c->differs, plural(c->differs, "entry's", "entries'"),
             plural(c->differs, "its", "their"), plural(c->differs, "its", "their"));
}

void harsource_close(struct harsource *s)
{
    if (s->pending) {
        json_decref(s->pending);
        s->pending = NULL;
    }
    if (s->imp_live) {
        if (s->imp.cfg.store) {
            harimport_finish(&s->imp);
            final_notes(s);
        }
        harimport_cleanup(&s->imp);
        s->imp_live = false;
        harsplit_cleanup(&s->split);
    }
    if (s->load && s->load->active) {
        s->load->done = true;
        s->load->active = false;
    }
    if (s->nonblocking) {
        fcntl(s->fd, F_SETFL, s->fd_flags);
        s->nonblocking = false;
    }
    if (s->file && s->file != stdin)
        fclose(s->file);
    s->file = NULL;
    free(s->buf);
    s->buf = NULL;
}

const char *harsource_error(const struct harsource *s)
{
    return s->error[0] ? s->error : NULL;
}
