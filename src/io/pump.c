/*
 * pump owns a capture pipe's descriptor mode, the bytes read from it and not yet taken by
 * libpcap, and the FILE libpcap reads them through (see pump.h). It never blocks once the
 * capture is open, never touches the loop and never looks inside a packet.
 */
#define _GNU_SOURCE /* fopencookie */
#include "hspy/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/xmalloc.h"

/* The buffer's first size; it grows (up to PUMP_BUFFER_MAX) only for larger records. */
enum { PUMP_BUFFER_FIRST = 2 * PUMP_READ_CHUNK };

static size_t pending(const struct pump *p)
{
    return p->len - p->head;
}

uint64_t pump_consumed(const struct pump *p)
{
    return p->base + p->head;
}

/* Frames what arrived since the last scan; notes when the stream cannot be framed on. */
static void scan(struct pump *p)
{
    struct pcapframe *f = &p->frame;
    uint64_t end = p->base + p->len;
    if (f->failed || f->scanned < pump_consumed(p) || f->scanned >= end)
        return;
    if (pcapframe_scan(f, p->buf + (f->scanned - p->base), (size_t)(end - f->scanned)) < 0)
        snprintf(p->error, sizeof p->error, "%s at byte %llu", f->error,
                 (unsigned long long)f->scanned);
}

static void append(struct pump *p, const uint8_t *data, size_t n)
{
    if (p->cap - p->len < n) {
        size_t cap = p->cap ? p->cap : PUMP_BUFFER_FIRST;
        while (cap - p->len < n)
            cap *= 2;
        p->buf = xrealloc(p->buf, cap);
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    p->read_total += n;
}

/*
 * libpcap's reads (through stdio's buffer): served from the buffer, never waiting, and never
 * past the last whole block scanned, so that the bytes of a record not yet whole stay here to be
 * framed. At the end of the input, or for a stream that is no capture, everything goes.
 */
static ssize_t cookie_read(void *cookie, char *out, size_t size)
{
    struct pump *p = cookie;
    size_t avail = pending(p);
    if (!p->eof && p->frame.format != PCAPFRAME_OTHER) {
        uint64_t whole =
            p->frame.scanned > pump_consumed(p) ? p->frame.scanned - pump_consumed(p) : 0;
        avail = whole < avail ? (size_t)whole : avail;
    }
    size_t n = avail < size ? avail : size;
    memcpy(out, p->buf + p->head, n);
    p->head += n;
    return (ssize_t)n;
}

static int cookie_close(void *cookie)
{
    struct pump *p = cookie;
    p->file = NULL;
    return 0;
}

/* The byte stdio holds: the peek at the input's first byte, pushed back on an unbuffered
 * stream (see pump_open). With the descriptor non-blocking, getc returns it without a read. */
static void take_pushed_back(struct pump *p, FILE *in)
{
    int c = getc(in);
    if (c != EOF) {
        uint8_t byte = (uint8_t)c;
        append(p, &byte, 1);
    }
    p->eof = feof(in) != 0;
    clearerr(in);
}

int pump_open(struct pump *p, FILE *in, const char *name, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    pcapframe_init(&p->frame);
    p->open = true;
    p->fd = fileno(in);
    p->fd_flags = fcntl(p->fd, F_GETFL);
    if (p->fd_flags < 0 || fcntl(p->fd, F_SETFL, p->fd_flags | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        p->open = false;
        return -1;
    }
    take_pushed_back(p, in);
    scan(p);
    static const cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
    p->file = fopencookie(p, "rb", io);
    if (!p->file) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        pump_close(p);
        return -1;
    }
    /* A buffer of its own: unbuffered, glibc reads a cookie stream one byte per call. */
    p->file_buf = xmalloc(PUMP_FILE_BUFFER);
    setvbuf(p->file, p->file_buf, _IOFBF, PUMP_FILE_BUFFER);
    return 0;
}

/* Makes room for a read: drops what libpcap consumed, grows for a record not yet whole. */
static size_t room(struct pump *p)
{
    if (p->head && p->cap - p->len < PUMP_READ_CHUNK) {
        memmove(p->buf, p->buf + p->head, pending(p));
        p->base += p->head;
        p->len -= p->head;
        p->head = 0;
    }
    if (p->cap - p->len < PUMP_READ_CHUNK && p->cap < PUMP_BUFFER_MAX) {
        size_t cap = p->cap ? p->cap * 2 : PUMP_BUFFER_FIRST;
        p->cap = cap < PUMP_BUFFER_MAX ? cap : PUMP_BUFFER_MAX;
        p->buf = xrealloc(p->buf, p->cap);
    }
    size_t free_bytes = p->cap - p->len;
    return free_bytes < PUMP_READ_CHUNK ? free_bytes : PUMP_READ_CHUNK;
}

bool pump_ready(const struct pump *p, uint64_t taken)
{
    if (pcapframe_ready(&p->frame, taken))
        return true;
    return p->eof && !p->error[0];
}

bool pump_done(const struct pump *p, uint64_t taken)
{
    return p->error[0] && !pcapframe_ready(&p->frame, taken);
}

bool pump_wants_input(const struct pump *p, uint64_t taken)
{
    if (p->eof || p->error[0])
        return false;
    return !(pending(p) >= PUMP_HIGH_WATER && pump_ready(p, taken));
}

size_t pump_fill(struct pump *p, uint64_t taken)
{
    size_t total = 0;
    while (pump_wants_input(p, taken)) {
        size_t want = room(p);
        if (want == 0) {
            /* PUMP_BUFFER_MAX bytes and still no whole packet: blocks that never end in one. */
            snprintf(p->error, sizeof p->error, "%u MiB of blocks without a packet at byte %llu",
                     (unsigned)(PUMP_BUFFER_MAX >> 20), (unsigned long long)pump_consumed(p));
            break;
        }
        ssize_t k = read(p->fd, p->buf + p->len, want);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (k <= 0) {
            p->eof = true;
            p->err = k < 0 ? errno : 0;
            break;
        }
        p->len += (size_t)k;
        p->read_total += (uint64_t)k;
        total += (size_t)k;
        scan(p);
    }
    return total;
}

int pump_wait_opening(struct pump *p, const char *name, char *err, size_t errlen)
{
    while (!pcapframe_opened(&p->frame) && !p->eof && !p->error[0]) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
            snprintf(err, errlen, "%s: %s", name, strerror(errno));
            return -1;
        }
        pump_fill(p, 0);
    }
    if (p->err) {
        snprintf(err, errlen, "%s: %s", name, strerror(p->err));
        return -1;
    }
    return 0;
}

int pump_fd(const struct pump *p)
{
    return p->fd;
}

FILE *pump_file(struct pump *p)
{
    return p->file;
}

void pump_close(struct pump *p)
{
    if (!p->open)
        return;
    p->open = false;
    if (p->file)
        fclose(p->file); /* cookie_close forgets it */
    free(p->file_buf);   /* only once the FILE using it is closed */
    p->file_buf = NULL;
    fcntl(p->fd, F_SETFL, p->fd_flags);
    free(p->buf);
    p->buf = NULL;
    p->head = p->len = p->cap = 0;
}
