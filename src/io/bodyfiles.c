/*
 * bodyfiles owns the --save-bodies folder: naming a body's file, writing each piece at its
 * offset through a small set of open files, and the rename that says a body is whole. It knows
 * nothing of sockets or captures: the conversations hand it the pieces (bodytap.h).
 */
#include "hspy/bodyfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/decode.h"
#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/fdio.h"
#include "hspy/filter.h"
#include "hspy/hspy.h"
#include "hspy/mime.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

#define PARTIAL ".partial"

/* One open body file. fd < 0: the slot is free. */
struct open_body {
    uint64_t id;
    enum side side;
    int fd;
    uint64_t used; /* bodyfiles.tick at its last write: the smallest is closed first */
};

struct bodyfiles {
    struct hspy *h;
    char *dir;
    int dirfd;
    struct bodytap tap;
    struct open_body open[BODYFILES_OPEN_MAX];
    uint64_t tick;
    struct filter *filter;    /* --filter: the bodies of exchanges it does not match are removed */
    uint64_t saved;           /* bodies renamed whole */
    uint64_t partial;         /* bodies left ".partial" */
    uint64_t dropped;         /* bodies removed: their exchange did not match --filter */
    bool decode;              /* --save-decoded */
    size_t decode_max;        /* --decode-max: the most a decoded copy holds */
    uint64_t decoded;         /* decoded copies written whole */
    uint64_t decoded_partial; /* ... and cut (the cap, corrupt bytes) */
    uint64_t bytes;           /* bytes written */
    int err;                  /* errno of the failure that stopped the saving, 0 while it works */
    bool told;                /* the failure is the session's error (h->err), said at exit */
    char failed[BODYFILES_FAILED_MAX]; /* what it said of the failure */
};

/* ---- names ---- */

/* The extension for one content coding, or NULL for one that changes nothing. */
static const char *coding_extension(const char *c, size_t len)
{
    static const struct {
        const char *coding, *ext;
    } CODINGS[] = {
        {"gzip", "gz"},  {"x-gzip", "gz"},  {"deflate", "zz"},   {"br", "br"},
        {"zstd", "zst"}, {"compress", "Z"}, {"x-compress", "Z"},
    };
    if (len == 0 || (len == 8 && strncasecmp(c, "identity", 8) == 0))
        return NULL;
    for (size_t i = 0; i < sizeof CODINGS / sizeof CODINGS[0]; i++)
        if (strlen(CODINGS[i].coding) == len && strncasecmp(c, CODINGS[i].coding, len) == 0)
            return CODINGS[i].ext;
    return "enc";
}

/* "<id>-request.<ext>": the name before the codings' extensions (the decoded copy's name);
 * returns its length. */
static size_t base_name(const struct exchange *ex, enum side s, char *buf, size_t len)
{
    const struct message *m = exchange_msg_const(ex, s);
    char value[256];
    const char *ext = NULL;
    if (message_header_str(m, "Content-Type", value, sizeof value))
        ext = mime_extension(value);
    int n = snprintf(buf, len, "%" PRIu64 "-%s.%s", ex->id,
                     s == SIDE_CLIENT ? "request" : "response", ext ? ext : "bin");
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

char *bodyfiles_name(const struct exchange *ex, enum side s, char *buf, size_t len)
{
    const struct message *m = exchange_msg_const(ex, s);
    char value[256];
    size_t at = base_name(ex, s, buf, len);
    if (!message_header_str(m, "Content-Encoding", value, sizeof value))
        return buf;
    unsigned named = 0;
    for (const char *c = value; *c && named < BODYFILES_CODINGS_MAX;) {
        c += strspn(c, " \t,");
        size_t clen = strcspn(c, " \t,");
        const char *cext = coding_extension(c, clen);
        if (cext && at + 1 + strlen(cext) < len) {
            at += (size_t)snprintf(buf + at, len - at, ".%s", cext);
            named++;
        }
        c += clen;
    }
    return buf;
}

/* The body's file name, and the name it has until the body is known whole. */
static void names_of(const struct exchange *ex, enum side s, char name[BODYFILES_NAME_MAX],
                     char partial[BODYFILES_NAME_MAX])
{
    bodyfiles_name(ex, s, name, BODYFILES_NAME_MAX - (sizeof PARTIAL - 1));
    size_t n = strlen(name);
    memcpy(partial, name, n);
    memcpy(partial + n, PARTIAL, sizeof PARTIAL);
}

bool bodyfiles_find(const char *dir, const struct exchange *ex, enum side s, char *path, size_t len,
                    bool *whole)
{
    char name[BODYFILES_NAME_MAX], partial[BODYFILES_NAME_MAX], try[PATH_MAX];
    names_of(ex, s, name, partial);
    for (int i = 0; i < 2; i++) {
        int n = snprintf(try, sizeof try, "%s/%s", dir, i == 0 ? name : partial);
        if (n < 0 || (size_t)n >= sizeof try || (size_t)n >= len)
            return false;
        if (access(try, F_OK) == 0) {
            memcpy(path, try, (size_t)n + 1);
            *whole = i == 0;
            return true;
        }
    }
    return false;
}

/* ---- failures ---- */

/* Stops the saving after a failure on the file name (errno err), and says so once: on stderr,
 * or under the interface as the session's error (its screen shows it, stderr gets it at exit). */
static void fail(struct bodyfiles *b, const char *name, int err)
{
    if (b->err)
        return;
    b->err = err;
    snprintf(b->failed, sizeof b->failed, "--save-bodies: %s/%s: %s; no more bodies are saved",
             b->dir, name, strerror(err));
    b->h->write_failed = true;
    if (!b->h->interactive) {
        hspy_say("%s", b->failed);
    } else if (!b->h->err[0]) {
        snprintf(b->h->err, sizeof b->h->err, "%s", b->failed);
        b->told = true;
    }
}

/* ---- open files ---- */

static void close_slot(struct open_body *o)
{
    close(o->fd);
    o->fd = -1;
}

static struct open_body *find(struct bodyfiles *b, uint64_t id, enum side s)
{
    for (size_t i = 0; i < BODYFILES_OPEN_MAX; i++)
        if (b->open[i].fd >= 0 && b->open[i].id == id && b->open[i].side == s)
            return &b->open[i];
    return NULL;
}

/* The body's open file, opened (created the first time) in a free slot or in the least recently
 * written one's; NULL after a failure. */
static struct open_body *file_of(struct bodyfiles *b, const struct exchange *ex, enum side s)
{
    struct open_body *o = find(b, ex->id, s);
    if (o)
        return o;
    struct open_body *slot = &b->open[0];
    for (size_t i = 0; i < BODYFILES_OPEN_MAX && slot->fd >= 0; i++)
        if (b->open[i].fd < 0 || b->open[i].used < slot->used)
            slot = &b->open[i];
    if (slot->fd >= 0)
        close_slot(slot);
    char name[BODYFILES_NAME_MAX], partial[BODYFILES_NAME_MAX];
    names_of(ex, s, name, partial);
    int fd = openat(b->dirfd, partial, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fail(b, partial, errno);
        return NULL;
    }
    *slot = (struct open_body){.id = ex->id, .side = s, .fd = fd};
    return slot;
}

/* ---- the tap ---- */

static void on_piece(void *data, const struct exchange *ex, enum side s, uint64_t off,
                     const uint8_t *p, size_t n)
{
    struct bodyfiles *b = data;
    if (b->err || ex->id == 0 || n == 0)
        return;
    struct open_body *o = file_of(b, ex, s);
    if (!o)
        return;
    o->used = ++b->tick;
    int err = fdio_write_all(o->fd, p, n, (int64_t)off);
    if (err) {
        char name[BODYFILES_NAME_MAX], partial[BODYFILES_NAME_MAX];
        names_of(ex, s, name, partial);
        fail(b, partial, err);
        return;
    }
    b->bytes += n;
}

/* Writes all of p[0..n) to the new file DIR/name; 0, or an errno. */
static int write_new(struct bodyfiles *b, const char *name, const uint8_t *p, size_t n)
{
    int fd = openat(b->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int err = fdio_write_all(fd, p, n, -1);
    if (close(fd) != 0 && !err)
        err = errno;
    return err;
}

/*
 * --save-decoded: the whole body just saved as name, its content codings undone (decode.h, up
 * to --decode-max), written beside it under the name without the codings' extensions; as
 * NAME.partial when decoding stopped at the cap or at corrupt bytes (what decoded before). A
 * body without codings, or with one hspy cannot undo, gets no copy. Runs on the loop, once per
 * body, when its exchange ends.
 */
static void decode_copy(struct bodyfiles *b, const struct exchange *ex, enum side s,
                        const char *name)
{
    const struct message *m = exchange_msg_const(ex, s);
    char base[BODYFILES_NAME_MAX];
    size_t celen, len = base_name(ex, s, base, sizeof base - (sizeof PARTIAL - 1));
    const uint8_t *ce = message_header(m, "Content-Encoding", &celen);
    if (!ce || strcmp(base, name) == 0)
        return; /* nothing to undo */
    int fd = openat(b->dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fail(b, name, errno);
        return;
    }
    struct dynbuf out;
    dynbuf_init(&out, b->decode_max);
    struct decode_result res;
    enum decode_status got = decode_body(ce, celen, map, size, b->decode_max, &out, &res);
    munmap(map, size);
    if (got == DECODE_OK || got == DECODE_LIMIT || got == DECODE_ERROR) {
        if (got != DECODE_OK)
            memcpy(base + len, PARTIAL, sizeof PARTIAL);
        int err = write_new(b, base, out.data ? out.data : (const uint8_t *)"", out.len);
        if (err)
            fail(b, base, err);
        else if (got == DECODE_OK)
            b->decoded++;
        else
            b->decoded_partial++;
    }
    dynbuf_cleanup(&out);
}

/* Whether ex's message on side s may have a file: a stored exchange's HTTP body with bytes. */
static bool has_file(const struct exchange *ex, enum side s)
{
    const struct message *m = exchange_msg_const(ex, s);
    return ex->id != 0 && m->body_size != 0 && m->body_kind != BODY_TUNNEL;
}

static void on_end(void *data, const struct exchange *ex, enum side s)
{
    struct bodyfiles *b = data;
    const struct message *m = exchange_msg_const(ex, s);
    if (!has_file(ex, s))
        return;
    char name[BODYFILES_NAME_MAX], partial[BODYFILES_NAME_MAX];
    names_of(ex, s, name, partial);
    /* Its file is open (the usual case), or was closed for another, or was never made: no
     * piece of it came (a body the capture lost whole). */
    struct open_body *o = find(b, ex->id, s);
    if (o)
        close_slot(o);
    else if (faccessat(b->dirfd, partial, F_OK, 0) != 0)
        return;
    bool whole = (m->flags & MSG_COMPLETE) && !(m->flags & MSG_GAP) && !b->err;
    if (whole && renameat(b->dirfd, partial, b->dirfd, name) == 0) {
        b->saved++;
        if (b->decode)
            decode_copy(b, ex, s, name);
    } else {
        b->partial++;
    }
}

/*
 * --filter: the exchange is complete (store_complete, after the cache analysis, as the other
 * outputs judge it); when the filter does not match it, its files go. Its sides ended before
 * (the tap's end comes with CONV_END, before the source completes the exchange).
 */
static void on_complete(void *data, struct exchange *ex)
{
    struct bodyfiles *b = data;
    if (filter_match(b->filter, ex))
        return;
    for (int s = SIDE_CLIENT; s <= SIDE_SERVER; s++) {
        if (!has_file(ex, (enum side)s))
            continue;
        char name[BODYFILES_NAME_MAX], partial[BODYFILES_NAME_MAX], base[BODYFILES_NAME_MAX];
        names_of(ex, (enum side)s, name, partial);
        /* --save-decoded's copy, when the body had codings (its name is then shorter). */
        size_t len = base_name(ex, (enum side)s, base, sizeof base - (sizeof PARTIAL - 1));
        if (b->decode && strcmp(base, name) != 0) {
            if (unlinkat(b->dirfd, base, 0) == 0)
                b->decoded -= b->decoded > 0;
            memcpy(base + len, PARTIAL, sizeof PARTIAL);
            if (unlinkat(b->dirfd, base, 0) == 0)
                b->decoded_partial -= b->decoded_partial > 0;
        }
        for (int i = 0; i < 2; i++)
            if (unlinkat(b->dirfd, i == 0 ? name : partial, 0) == 0) {
                uint64_t *counted = i == 0 ? &b->saved : &b->partial;
                *counted -= *counted > 0;
                b->dropped++;
            }
    }
}

/* ---- the folder ---- */

/* 0 when dir holds nothing but "." and "..", else an errno (ENOTEMPTY when it holds more). */
static int check_empty(int dirfd)
{
    int fd = dup(dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return err;
    }
    int err = 0;
    struct dirent *e;
    while (!err && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            err = ENOTEMPTY;
    closedir(d);
    return err;
}

struct bodyfiles *bodyfiles_open(struct hspy *h, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        hspy_fail(h, "--save-bodies %s: %s", dir, strerror(errno));
        return NULL;
    }
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        hspy_fail(h, "--save-bodies %s: %s", dir, strerror(errno));
        return NULL;
    }
    int err = check_empty(dirfd);
    if (err == 0 && faccessat(dirfd, ".", W_OK, 0) != 0)
        err = errno;
    if (err) {
        close(dirfd);
        if (err == ENOTEMPTY)
            hspy_fail(h,
                      "--save-bodies %s: the folder is not empty (file names start again at 1 "
                      "each session: give a new or empty folder)",
                      dir);
        else
            hspy_fail(h, "--save-bodies %s: %s", dir, strerror(err));
        return NULL;
    }
    struct bodyfiles *b = xcalloc(1, sizeof *b);
    b->h = h;
    b->dir = xstrdup(dir);
    b->dirfd = dirfd;
    for (size_t i = 0; i < BODYFILES_OPEN_MAX; i++)
        b->open[i].fd = -1;
    b->tap = (struct bodytap){.data = b, .piece = on_piece, .end = on_end};
    b->decode = h->opt.save_decoded;
    b->decode_max = h->opt.decode_max;
    if (h->opt.filter && *h->opt.filter) {
        char why[256];
        b->filter = filter_compile(h->opt.filter, why, sizeof why, NULL); /* checked with the
                                                                            other options */
        if (b->filter)
            store_observe(&h->store, &(struct store_observer){b, NULL, NULL, on_complete, NULL});
    }
    return b;
}

const struct bodytap *bodyfiles_tap(const struct bodyfiles *b)
{
    return &b->tap;
}

void bodyfiles_close(struct bodyfiles *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < BODYFILES_OPEN_MAX; i++)
        if (b->open[i].fd >= 0) {
            close_slot(&b->open[i]);
            b->partial++;
        }
    char dropped[96] = "", decoded[96] = "";
    if (b->filter)
        snprintf(dropped, sizeof dropped, "; %" PRIu64 " removed: not matching --filter",
                 b->dropped);
    if (b->decode)
        snprintf(decoded, sizeof decoded, "; %" PRIu64 " decoded %s, %" PRIu64 " partial",
                 b->decoded, plural(b->decoded, "copy", "copies"), b->decoded_partial);
    hspy_say("--save-bodies: %" PRIu64 " whole %s in %s, %" PRIu64 " partial (%" PRIu64
             " %s written)%s%s",
             b->saved, plural(b->saved, "body", "bodies"), b->dir, b->partial, b->bytes,
             plural_bytes(b->bytes), dropped, decoded);
    if (b->err && b->h->interactive && !b->told)
        hspy_say("%s", b->failed);
    if (b->filter)
        store_unobserve(&b->h->store, b);
    close(b->dirfd);
    filter_free(b->filter);
    free(b->dir);
    free(b);
}
