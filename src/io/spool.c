/*
 * spool owns a buffered request body: its memory part, its unlinked temporary file and the
 * reading back in pieces. It never touches sockets; the proxy decides when to write and send.
 * Reads and writes are plain blocking calls on a local file the page cache normally absorbs.
 */
#include "hspy/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/xmalloc.h"

void spool_init(struct spool *s, size_t mem_max, uint64_t max)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->mem_max = mem_max;
    s->max = max;
    dynbuf_init(&s->mem, mem_max);
}

void spool_cleanup(struct spool *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    dynbuf_cleanup(&s->mem);
    free(s->piece);
    s->piece = NULL;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Moves the memory part to a new temporary file. */
static int spill(struct spool *s, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/hspy-body-XXXXXX", dir);
    int fd = mkstemp(path); /* mode 0600, a name nobody can guess */
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* Nobody else needs the name: without it the file vanishes with the descriptor. */
    unlink(path);
    int e = write_all(fd, s->mem.data, s->mem.len);
    if (e) {
        close(fd);
        snprintf(err, errlen, "cannot write the temporary file: %s", strerror(e));
        return -1;
    }
    s->fd = fd;
    dynbuf_cleanup(&s->mem);
    return 0;
}

int spool_write(struct spool *s, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    if (s->size + n > s->max) {
        snprintf(err, errlen, "over the limit of %llu bytes (--buffer-max)",
                 (unsigned long long)s->max);
        return -1;
    }
    if (s->fd < 0 && s->mem.len + n <= s->mem_max) {
        dynbuf_append(&s->mem, p, n);
        s->size += n;
        return 0;
    }
    if (s->fd < 0 && spill(s, err, errlen) != 0)
        return -1;
    int e = write_all(s->fd, p, n);
    if (e) {
        snprintf(err, errlen, "cannot write the temporary file: %s", strerror(e));
        return -1;
    }
    s->size += n;
    return 0;
}

long spool_next(struct spool *s, const uint8_t **p, char *err, size_t errlen)
{
    if (s->read_off >= s->size)
        return 0;
    uint64_t left = s->size - s->read_off;
    size_t want = left < SPOOL_PIECE ? (size_t)left : SPOOL_PIECE;
    if (s->fd < 0) {
        *p = s->mem.data + s->read_off;
        s->read_off += want;
        return (long)want;
    }
    if (!s->piece)
        s->piece = xmalloc(SPOOL_PIECE);
    ssize_t k;
    do
        k = pread(s->fd, s->piece, want, (off_t)s->read_off);
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
        snprintf(err, errlen, "cannot read the temporary file: %s",
                 k < 0 ? strerror(errno) : "it is shorter than written");
        return -1;
    }
    *p = s->piece;
    s->read_off += (uint64_t)k;
    return (long)k;
}

void spool_rewind(struct spool *s)
{
    s->read_off = 0;
}

bool spool_on_disk(const struct spool *s)
{
    return s->fd >= 0;
}
