/*
 * pcapngsink owns the --pcapng file: creating it, appending each completed exchange's packet
 * blocks with one write, cutting a half-written write back off so the file stays valid, and the
 * FINs at close. Packets are built by the pure pcapng module; this file only decides when and
 * where they are written. It never touches sockets or the screen.
 */
#include "hspy/pcapngsink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/fdio.h"
#include "hspy/filter.h"
#include "hspy/hspy.h"
#include "hspy/pcapng.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

/*
 * Cut packets (headers only, standing for bytes counted but not kept) one exchange may take:
 * about 32 GiB of them, 64 MiB of blocks. An exchange that needs more is left out and counted,
 * so that a record claiming an absurd size cannot make the sink build blocks without end.
 */
enum { PCAPNGSINK_CUTS_MAX = 1 << 19 };

struct pcapngsink {
    struct hspy *h;
    int fd;
    char *path;
    bool seekable;
    uint64_t end; /* size of the valid file: where the next blocks go */
    struct pcapng png;
    struct dynbuf buf;
    struct filter *filter;
    int err;            /* errno of the failure being reported, 0 when writing works */
    uint64_t lost;      /* exchanges that could not be written */
    uint64_t too_large; /* exchanges left out: more cut packets than PCAPNGSINK_CUTS_MAX */
    uint64_t written;
};

/* Appends the buffered blocks; a failed write is cut back off (a partial block would end the
 * capture for every reader). */
static int commit(struct pcapngsink *s)
{
    int err = fdio_write_all(s->fd, s->buf.data, s->buf.len, -1);
    if (err == 0) {
        s->end += s->buf.len;
    } else if (s->seekable && ftruncate(s->fd, (off_t)s->end) == 0) {
        lseek(s->fd, (off_t)s->end, SEEK_SET);
    }
    dynbuf_reset(&s->buf);
    return err;
}

static void failed(struct pcapngsink *s, int err)
{
    s->lost++;
    s->h->write_failed = true;
    if (s->err == err)
        return;
    s->err = err;
    if (!s->h->interactive)
        hspy_say("%s: write failed: %s; exchanges are lost until it recovers", s->path,
                 strerror(err));
}

/*
 * Room for one exchange's blocks: its kept bytes, about 100 bytes of headers and framing per
 * segment of at most PCAPNG_MSS (or per cut packet), a handshake and FINs. Sized per exchange:
 * one read from a HAR may hold more than this session's --body-keep.
 */
static size_t blocks_max(const struct exchange *ex)
{
    size_t kept = ex->req.raw.len + ex->resp.raw.len;
    uint64_t cuts = ex->req.wire_bytes / PCAPNG_CUT_MAX + ex->resp.wire_bytes / PCAPNG_CUT_MAX;
    if (cuts > PCAPNGSINK_CUTS_MAX)
        cuts = PCAPNGSINK_CUTS_MAX;
    return kept + (kept / PCAPNG_MSS + (size_t)cuts + 64) * 128;
}

static void write_exchange(struct pcapngsink *s, const struct exchange *ex)
{
    if (s->filter && !filter_match(s->filter, ex))
        return;
    dynbuf_reset(&s->buf);
    s->buf.max = blocks_max(ex);
    bool fits = pcapng_exchange(&s->png, &s->buf, ex) == 0;
    if (!fits)
        s->too_large++;  /* blocks_max leaves room for all but what PCAPNGSINK_CUTS_MAX cuts */
    int err = commit(s); /* without the exchange, what its connection needed */
    if (err) {
        failed(s, err);
        s->too_large -= !fits; /* counted once, as lost to the write */
        return;
    }
    s->err = 0;
    s->written += fits;
}

static void on_complete(void *data, struct exchange *ex)
{
    write_exchange(data, ex);
}

static void destroy(struct pcapngsink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    pcapng_cleanup(&s->png);
    dynbuf_cleanup(&s->buf);
    filter_free(s->filter);
    free(s->path);
    free(s);
}

struct pcapngsink *pcapngsink_open(struct hspy *h, const char *path)
{
    struct pcapngsink *s = xcalloc(1, sizeof *s);
    s->h = h;
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (s->fd < 0) {
        hspy_fail(h, "%s: %s", path, strerror(errno));
        free(s);
        return NULL;
    }
    struct stat st;
    s->seekable = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
    s->path = xstrdup(path);
    pcapng_init(&s->png, 0);
    dynbuf_init(&s->buf, 1 << 20); /* the header, then each exchange sets its own maximum */
    char why[256];
    if (h->opt.filter)
        s->filter = filter_compile(h->opt.filter, why, sizeof why, NULL); /* sinks checked it */
    pcapng_header(&s->buf, "hspy " HSPY_VERSION);
    int err = commit(s);
    if (err) {
        hspy_fail(h, "%s: %s", path, strerror(err));
        destroy(s);
        return NULL;
    }
    store_observe(&h->store, &(struct store_observer){s, NULL, NULL, on_complete, NULL});
    return s;
}

uint64_t pcapngsink_written(const struct pcapngsink *s)
{
    return s->written;
}

void pcapngsink_close(struct pcapngsink *s)
{
    if (!s)
        return;
    struct store *st = &s->h->store;
    store_unobserve(st, s);
    for (uint64_t id = store_first_id(st); id < store_end_id(st); id++) {
        const struct exchange *ex = store_get(st, id);
        if (ex && !(ex->flags & EX_DONE) && ((ex->req.flags | ex->resp.flags) & MSG_STARTED))
            write_exchange(s, ex);
    }
    dynbuf_reset(&s->buf);
    s->buf.max = (size_t)PCAPNG_CONNS_DEFAULT * 3 * 128;
    /* Each connection ends at its own last packet (a capture read today ended long ago). */
    pcapng_finish(&s->png, &s->buf, 0);
    int err = commit(s);
    if (err)
        failed(s, err);
    if (close(s->fd) != 0 && !err)
        failed(s, errno);
    s->fd = -1;
    if (s->too_large)
        hspy_say("%s: %" PRIu64 " %s left out: each counted more than %d GiB it did not "
                 "keep, which takes more than the %d cut packets allowed an exchange",
                 s->path, s->too_large, plural(s->too_large, "exchange", "exchanges"),
                 (int)(((uint64_t)PCAPNGSINK_CUTS_MAX * PCAPNG_CUT_MAX) >> 30),
                 PCAPNGSINK_CUTS_MAX);
    if (s->lost)
        hspy_say("%s: %" PRIu64 " %s could not be written%s%s", s->path, s->lost,
                 plural(s->lost, "exchange", "exchanges"), s->err ? ": " : "",
                 s->err ? strerror(s->err) : "");
    destroy(s);
}
